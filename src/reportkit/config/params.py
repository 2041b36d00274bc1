"""Batch parameters: the YAML file that drives ``reportkit batch``.

A params file names the source mapping, the period, the ``as_of`` date and the
policies (commission, quota rule, performance watch). It is validated strictly
before any kernel starts: unknown keys are refused with a did-you-mean, IDs and
labels stay strings, and every error names the file, the key and the bad value.

Example (``params/demo.yaml``)::

    name: Demo Co
    source: sources/demo.yaml      # relative to this file
    period: FY2025-Q4
    as_of: 2025-12-31
    commission:
      rate: "0.05"
      quota_bonus: {attainment_at_least: 1.0, amount: "2000.00", award: cash}
    performance:
      miss_below: 0.9
      watch_after: 2
      termination_review_after: 3
    timezone: Europe/Berlin        # IANA name; default UTC
    branding:                      # optional: the reader-facing look (HTML, PDF, workbooks)
      company: Demo Co
      logo: branding/demo-logo.svg # PNG or SVG, relative to this file
      accent: "#2B6CB0"            # hex colour #RRGGBB
    report_kinds:                  # optional: your own report kinds (docs/templates.md)
      pipeline_review:
        template: templates/pipeline_review.ipynb   # relative to this file, inside its folder
        per: account_manager       # account_manager | team | account | company
        title: Pipeline review
        formats: [html, pdf]       # xlsx only where the template writes one
        parameters: {min_amount: {type: decimal, default: "0"}}
    reports: [account_manager, team, company, pipeline_review]
"""

from __future__ import annotations

import datetime
import re
import typing
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from ..core.cache import DEFAULT_MAX_AGE_DAYS, DEFAULT_MAX_MB, default_cache_dir, env_cache_dir
from ..core.errors import ParamsError, did_you_mean
from ..core.types import CarryNegative, FloatFraction, Fraction, Id, Money, Rate, StablePickle, check_timezone, label_problem
from ..core.yaml_input import (
    KeyedValueError,
    format_validation_errors,
    model_of,
    non_text_keys,
    read_yaml_mapping,
    yaml_file_line,
)

__all__ = [
    "BatchParams",
    "Branding",
    "CommissionPolicy",
    "QuotaBonus",
    "QuotaRule",
    "PlanRef",
    "PerformancePolicy",
    "PdfOptions",
    "DEFAULT_TIMEZONE",
    "REPORT_KIND_NAMES",
    "RESERVED_KIND_NAMES",
    "KIND_PER",
    "KIND_NAME",
    "PARAMETER_TYPES",
    "STANDARD_PARAMETERS",
    "TemplateParameter",
    "ReportKindSpec",
    "check_timezone",
    "load_params",
    "parse_overrides",
    "format_validation_error",
]


DEFAULT_TABLE_ROWS = 200
"""Params ``table_rows``' default: the rows a long table shows in a report's notebook, HTML and PDF
(a 70,000-line statement would make a 23 MB page; the workbook keeps every row)."""


class _Strict(StablePickle, BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class QuotaBonus(_Strict):
    """A one-off bonus for reaching an attainment (fraction, 1.0 == 100 %) in the period."""

    attainment_at_least: FloatFraction = Field(1.0, ge=0, description="attainment fraction that earns the bonus")
    amount: Money = Field(Decimal("0"), ge=0, description="bonus amount in the report currency")
    award: Literal["cash", "deferred", "merchandise"] = "cash"


class CommissionPolicy(_Strict):
    """Flat-rate commission on credited revenue plus a bonus for beating quota.

    The full plan engine (tiers, accelerators, caps, draws, clawbacks) is
    configured by ``plan:`` instead; see ``params/plans/``.
    """

    rate: Rate = Field(Decimal("0.05"), ge=0, le=1, description="commission rate as a fraction of revenue")
    quota_bonus: QuotaBonus | None = None
    carry_negative: CarryNegative  # as a plan's: a negative period carried forward (default), or kept (false)


class PlanRef(_Strict):
    """Where the commission plan comes from (``plan:`` in the params file).

    Either a path to one plan YAML (``plan: plans/overlay_territory.yaml``), or a
    plans folder with an effective-dated assignments file::

        plan: {path: plans, assignments: plans/assignments.yaml}

    Paths are relative to the params file. With a folder, only the plans the
    assignments name are used (they must share one pay period, as
    :func:`reportkit.domain.engine.compute` requires; a plan's ``crediting.method``, if
    given, must equal the source mapping's ``crediting``, checked before any
    report runs by :func:`reportkit.domain.crediting.check_crediting`). When ``plan:`` is
    given, the reports' commission comes from the plan engine
    (:mod:`reportkit.domain.engine`) and ``commission:`` is not used.
    """

    path: Path = Field(..., description="plan YAML file, or a folder of plans (then assignments is required)")
    assignments: Path | None = Field(None, description="effective-dated assignments YAML (with a plans folder)")

    @model_validator(mode="before")
    @classmethod
    def _from_str(cls, v: Any) -> Any:
        if isinstance(v, (str, Path)):
            return {"path": v}
        return v


class QuotaRule(_Strict):
    """Quota to use when the source has no quota table (Maven, Superstore).

    ``kind: fixed`` gives every account manager ``amount`` per ``per`` period.
    ``kind: prior_year_growth`` sets each quarter's quota to the same quarter of the
    previous fiscal year times ``1 + growth``, falling back to ``amount`` when there
    is no history.
    """

    kind: Literal["fixed", "prior_year_growth"] = "fixed"
    amount: Money = Field(..., ge=0, description="quota amount per period, report currency")
    per: Literal["quarter", "year"] = "quarter"
    growth: Fraction = Decimal("0")


class PerformancePolicy(_Strict):
    """Performance-watch policy.

    A quarter with attainment below ``miss_below`` is a *miss*. ``watch_after``
    consecutive misses put the account manager on performance watch;
    ``termination_review_after`` consecutive misses trigger a termination review.
    A quarter at or above ``miss_below`` lifts the watch (the count restarts).
    Quarters with undefined attainment (no quota) neither miss nor lift.
    """

    miss_below: FloatFraction = Field(
        0.9, ge=0, allow_inf_nan=False, description="attainment fraction below which a quarter is a miss"
    )
    watch_after: int = Field(2, ge=1)
    termination_review_after: int = Field(3, ge=1)

    @model_validator(mode="after")
    def _order(self) -> PerformancePolicy:
        if self.termination_review_after < self.watch_after:
            raise ValueError(
                f"termination_review_after ({self.termination_review_after}) must be >= watch_after ({self.watch_after})"
            )
        return self


class PdfOptions(_Strict):
    """PDF output of every report (``pdf:`` in the params file; ``docs/pdf.md``).

    Off by default, so a batch that does not ask for PDFs costs what it did; the
    demo params turn it on. ``paper`` is the sheet size, ``orientation`` its
    direction (landscape by default: the reports' widest tables have 15 columns).
    ``renderer`` chooses what prints them (``auto``: headless Chromium where it and
    Playwright are installed, else WeasyPrint; the rule is
    :func:`reportkit.render.pdf.choose_renderer`), ``chromium`` the browser's path.
    A PDF that cannot be rendered fails alone: the report keeps its other files and
    the manifest and index say why.
    """

    enabled: bool = Field(False, description="write a PDF of every report beside its HTML and workbook")
    paper: Literal["A4", "Letter"] = Field("A4", description="page size: A4 (210 x 297 mm) or Letter (8.5 x 11 in)")
    orientation: Literal["landscape", "portrait"] = Field("landscape", description="page direction")
    renderer: Literal["auto", "chromium", "weasyprint"] = Field(
        "auto", description="what prints the PDFs: auto = Chromium where it is installed (with Playwright), else WeasyPrint"
    )
    chromium: str | None = Field(
        None,
        description="Chromium's executable; default $REPORTKIT_CHROMIUM, else chromium / chromium-browser / google-chrome on PATH",
    )


_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


class DeliveryOptions(_Strict):
    """Who ``reportkit deliver`` may send to (``delivery:`` in the params file; ``docs/delivery.md``).

    Attributes
    ----------
    allowed_domains : tuple of str, optional
        E-mail domains a recipient's address must have, exactly (``example.com``
        allows ``ann@example.com``, not ``ann@mail.example.com``); lower case is
        compared. ``--allow-domain`` on the command line adds to it. None: any domain.

    Examples
    --------
    >>> DeliveryOptions(allowed_domains=["Example.com"]).allowed_domains
    ('example.com',)
    """

    allowed_domains: tuple[str, ...] | None = Field(
        None, description="e-mail domains recipients' addresses must have (exact match); default: any"
    )

    @field_validator("allowed_domains", mode="before")
    @classmethod
    def _domains(cls, v: Any) -> Any:
        if v is None:
            return v
        if isinstance(v, str):
            v = [v]
        out = []
        for d in v:
            text = str(d).strip().lower().lstrip("@") if isinstance(d, str) else d
            if not isinstance(text, str) or not _DOMAIN.fullmatch(text):
                raise ValueError(f"{d!r} is not an e-mail domain; write it as example.com (no @, no scheme)")
            out.append(text)
        return tuple(out)


DEFAULT_TIMEZONE = "UTC"
"""The report timezone when params give none."""


_HEX_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class Branding(_Strict):
    """The reader-facing look of a batch: company name, logo and accent colour (params ``branding``).

    One object the renderers read: the HTML header (name, logo, accent colour of
    headings and rules), the workbooks (header fill and title colour, the
    *Company* property and the Summary sheet's first row) and the PDF's running
    header. Without ``branding`` a report looks as before (no logo, the default
    colours) and the company is the params ``name``.

    Attributes
    ----------
    company : str, optional
        The name shown in headers and the workbooks' *Company* property
        (default: the params ``name``).
    logo : Path, optional
        A PNG or SVG file, relative to the params file; checked when the params
        are read: the file exists and is a PNG (its signature) or an SVG (an
        ``<svg`` element). A relative path is stored resolved.
    accent : str, default "#2B6CB0"
        Accent colour as hex ``#RRGGBB``.

    Examples
    --------
    >>> Branding(company="Acme", accent="#0A7E8C").accent
    '#0A7E8C'
    """

    company: str | None = Field(None, description="company name shown in report headers (default: params name)")
    logo: Path | None = Field(None, description="PNG or SVG logo file, relative to the params file")
    accent: str = Field("#2B6CB0", description="accent colour, hex #RRGGBB")

    @field_validator("accent", mode="before")
    @classmethod
    def _hex(cls, v: Any) -> Any:
        if not isinstance(v, str) or not _HEX_COLOUR.fullmatch(v.strip()):
            raise ValueError(
                f'{v!r} is not a hex colour; write it as "#RRGGBB" (quoted: YAML reads # as a comment), e.g. "#2B6CB0"'
            )
        return v.strip().upper()

    @field_validator("logo")
    @classmethod
    def _logo(cls, v: Path | None) -> Path | None:
        if v is None:
            return v
        if not v.is_file():
            raise ValueError(f"logo file {str(v)!r} does not exist; give a PNG or SVG file relative to the params file")
        head = v.read_bytes()[:4096]
        if head.startswith(_PNG_MAGIC) or b"<svg" in head.lower():
            return v
        raise ValueError(f"logo file {str(v)!r} is neither a PNG nor an SVG image; convert it to PNG or SVG")


REPORT_KIND_NAMES: tuple[str, ...] = ("account_manager", "team", "company")
"""Names of the report kinds params ``reports`` accepts: the keys of
:data:`reportkit.reports.builders.REPORT_KINDS`, the registry (which this module sits
below and cannot import; a test keeps the two equal)."""


class CloseOptions(_Strict):
    """Period close (``close:`` in the params file; docs/close.md).

    ``registry``: the folder of close records (``<period>--<name>.json``) that
    ``reportkit close`` copies each record into, that ``batch`` / ``statement`` refuse a
    closed period by, and that restatements read the paid figures from. Relative to
    the params file. Left out: no shared registry, a batch folder's ``close.json`` is its
    only record (:func:`reportkit.reports.closes.registry_folder`).
    """

    registry: Path | None = Field(None, description="folder of close records (default: none; each batch folder's close.json)")


RESERVED_KIND_NAMES: frozenset[str] = frozenset({*REPORT_KIND_NAMES, "account_managers", "teams"})
"""Names a declared report kind may not take: the built-in kinds and their output folders
(a custom kind's output folder is its name; a test keeps this equal to the registry's folders)."""

KIND_PER: tuple[str, ...] = ("account_manager", "team", "account", "company")
"""What one report of a declared kind is about (params ``report_kinds.<name>.per``)."""

PARAMETER_TYPES: tuple[str, ...] = ("str", "int", "float", "decimal", "bool", "date")
"""Types a declared template parameter may have (``report_kinds.<name>.parameters.<p>.type``)."""

STANDARD_PARAMETERS: dict[str, tuple[str, ...]] = {
    "account_manager": ("params_file", "account_manager_id", "period", "as_of", "report_data"),
    "team": ("params_file", "team", "period", "as_of", "report_data"),
    "account": ("params_file", "account_id", "period", "as_of", "report_data"),
    "company": ("params_file", "company", "period", "as_of", "report_data"),
}
"""The parameters the batch gives every template, per ``per`` (all text); a kind that lists
``xlsx`` in its formats also gets ``workbook_file``. Declared parameters come on top."""

KIND_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
"""What a declared report kind's name (and so its output folder) looks like."""
_PARAMETER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _typed_value(kind: str, value: Any) -> Any:
    """``value`` read as a declared parameter type (the one rule the params and the parameters-cell check share)."""
    if kind == "str":
        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not text; quote it")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{value!r} is not true or false")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{value!r} is not a whole number")
        return value
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{value!r} is not a number")
        return float(value)
    if kind == "decimal":
        try:
            if isinstance(value, (bool, float)) or not isinstance(value, (str, int)):
                raise ArithmeticError
            d = Decimal(str(value).strip())
            if not d.is_finite():
                raise ArithmeticError
        except ArithmeticError:
            raise ValueError(f'{value!r} is not an exact decimal; write it as quoted text, e.g. "0.05"') from None
        return d
    if kind == "date":
        if isinstance(value, datetime.date):
            return value
        try:
            return datetime.date.fromisoformat(str(value))
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO date such as 2025-12-31") from None
    raise ValueError(f"unknown parameter type {kind!r}")  # pragma: no cover - the Literal refuses it first


class TemplateParameter(_Strict):
    """One extra parameter a declared report kind's template takes (``parameters: {name: {type, default}}``).

    Attributes
    ----------
    type : {"str", "int", "float", "decimal", "bool", "date"}
        ``decimal`` is exact money or a rate, given as quoted text (``"0.05"``) and
        passed to the template as that text; ``date`` an ISO date, passed as text.
        The template's parameters cell annotates it ``str`` (or ``Decimal`` /
        ``date`` when those names are imported there); the others by their own name.
    default : any
        The value the batch passes; read as ``type`` when the params are loaded.
    help : str
        What the parameter means (the starter template writes it as the cell's comment).
    """

    type: Literal[PARAMETER_TYPES]  # type: ignore[valid-type]
    default: Any = Field(..., description="value passed to the template, of the declared type")
    help: str = ""

    @model_validator(mode="after")
    def _default_of_type(self) -> TemplateParameter:
        try:
            _typed_value(self.type, self.default)
        except ValueError as exc:
            raise KeyedValueError(f"default of a {self.type} parameter: {exc}", "default", self.default) from None
        return self

    def value(self) -> Any:
        """The value papermill injects: text for ``decimal`` and ``date`` (exact, never a float), else the typed value."""
        v = _typed_value(self.type, self.default)
        return str(v) if self.type == "decimal" else v.isoformat() if self.type == "date" else v


class ReportKindSpec(_Strict):
    """A report kind a coordinator declares in params (``report_kinds: {name: ...}``; ``docs/templates.md``).

    Attributes
    ----------
    template : Path
        The notebook, relative to the params file; it must lie inside the params file's
        folder (the project), symbolic links resolved. Stored resolved.
    per : {"account_manager", "team", "account", "company"}
        One report per reported account manager, per reported team, per client account
        of a reported account manager, or one for the company.
    title : str
        The report in words: the index, the HTML title and the PDF header show it.
    formats : list of {"html", "pdf", "xlsx"}
        Files besides the executed notebook. ``html`` is always written; ``pdf`` when
        listed (by the params ``pdf.renderer``, as with ``pdf.enabled``); ``xlsx`` when listed,
        written by the template itself (``save_workbook(report, workbook_file)``), and a
        report whose template wrote none fails.
    parameters : dict of TemplateParameter
        Extra parameters, checked against the template's parameters cell before any
        kernel starts.
    """

    template: Path = Field(..., description="template notebook, relative to the params file, inside its folder")
    per: Literal[KIND_PER] = Field(..., description="one report per account_manager, team, account or company")  # type: ignore[valid-type]
    title: str = Field(..., min_length=1, description="the report in words (index, HTML title, PDF header)")
    formats: tuple[Literal["html", "pdf", "xlsx"], ...] = Field(("html",), description="files besides the notebook")
    parameters: dict[str, TemplateParameter] = Field(default_factory=dict, description="extra template parameters")

    @model_validator(mode="after")
    def _parameter_names(self) -> ReportKindSpec:
        taken = (*STANDARD_PARAMETERS[self.per], "workbook_file")
        for name in self.parameters:
            if not _PARAMETER_NAME.fullmatch(name):
                raise KeyedValueError(
                    f"parameter {name!r} is not a Python name; use letters, digits and _", ("parameters", name), name
                )
            if name in taken:
                raise KeyedValueError(
                    f"parameter {name!r} is one the batch gives every {self.per} template already ({', '.join(taken)}); rename it",
                    ("parameters", name),
                    name,
                )
        return self


class BatchParams(_Strict):
    """Everything one batch run needs besides the data itself."""

    name: str = Field("reportkit batch", description="title shown on the index page")
    source: Path = Field(..., description="source mapping YAML, relative to the params file")
    period: str = Field(..., description="report period label, e.g. FY2020-Q1")
    as_of: datetime.date = Field(..., description="date the report is as of (never today())")
    reports: tuple[str, ...] = Field(
        REPORT_KIND_NAMES, description="report kinds to run: built-in ones and those declared in report_kinds"
    )
    report_kinds: dict[str, ReportKindSpec] = Field(
        default_factory=dict, description="your own report kinds: name -> template, per, title, formats, parameters"
    )
    commission: CommissionPolicy = CommissionPolicy()
    plan: PlanRef | None = Field(
        None, description="commission plan for the plan engine (replaces the flat-rate commission policy)"
    )
    quota_rule: QuotaRule | None = None
    performance: PerformancePolicy = PerformancePolicy()
    account_managers: tuple[Id, ...] | None = Field(None, description="restrict the batch to these account manager ids")
    timeout_s: float = Field(600, gt=0, description="per-report execution timeout in seconds")
    timezone: str = Field(
        DEFAULT_TIMEZONE,
        description="report timezone (IANA name, e.g. Europe/Berlin): the workbooks show timezone-aware timestamps in it "
        "(the zone source timestamps are dated in is the source mapping's timezone: docs/mapping.md, 'Time zones')",
    )
    pdf: PdfOptions = PdfOptions()
    table_rows: int = Field(
        DEFAULT_TABLE_ROWS,
        ge=1,
        description="rows a report's notebook, HTML and PDF show of a long table (the first ones, with "
        "'first N of M rows; all rows in the workbook'); the workbook keeps every row",
    )
    branding: Branding | None = Field(None, description="company name, logo and accent colour of the reports")
    close: CloseOptions = CloseOptions()
    delivery: DeliveryOptions = DeliveryOptions()
    cache_dir: Path | None = Field(
        None,
        description="folder of the cache of forecast model fits, relative to the params file; null turns the cache off; "
        "not set: REPORTKIT_CACHE_DIR, else the platform's user cache folder (docs/forecasting.md, 'The cache of model fits')",
    )
    cache_max_age_days: int | None = Field(
        DEFAULT_MAX_AGE_DAYS,
        gt=0,
        description="a cached model fit not used for this many days is removed when a batch ends; null: no age limit",
    )
    cache_max_mb: int | None = Field(
        DEFAULT_MAX_MB,
        gt=0,
        description="megabytes the cache folder's records may take on disk; when a batch ends the least recently used "
        "beyond it are removed; null: no size limit",
    )
    base_dir: Path | None = Field(None, exclude=True, description="folder of the params file (set by the loader)")
    _file: str | None = PrivateAttr(None)  # the params file, set by load_params (for key_origin)
    _overridden: tuple[tuple[str, ...], ...] = PrivateAttr(())  # key paths given by -p (sorted: a stable pickle)

    def key_origin(self, *loc: str | int) -> str:
        """Where key path ``loc`` was written, for a message: ``p.yaml, line 7: key 'account_managers.1'``.

        ``command line (-p account_managers=...)`` when an override gave it; the file alone
        when its line cannot be told; ``params`` for params built in code.
        """
        where = ".".join(str(p) for p in loc)
        for n in range(len(loc), 0, -1):
            if tuple(str(p) for p in loc[:n]) in self._overridden:
                return f"command line (-p {'.'.join(str(p) for p in loc[:n])}=...): key {where!r}"
        if self._file is None:
            return f"params: key {where!r}"
        line = next((ln for n in range(len(loc), 0, -1) if (ln := yaml_file_line(self._file, tuple(loc[:n]))) is not None), None)
        return f"{self._file}{'' if line is None else f', line {line}'}: key {where!r}"

    @model_validator(mode="before")
    @classmethod
    def _logo_beside_params(cls, data: Any) -> Any:
        """A relative ``branding.logo`` is read relative to the params file (``base_dir``)."""
        if isinstance(data, dict) and isinstance(data.get("branding"), dict) and data.get("base_dir") is not None:
            logo = data["branding"].get("logo")
            if isinstance(logo, (str, Path)) and str(logo).strip() and not Path(logo).is_absolute():
                data = {**data, "branding": {**data["branding"], "logo": Path(data["base_dir"]) / str(logo).strip()}}
        return data

    @model_validator(mode="before")
    @classmethod
    def _templates_beside_params(cls, data: Any) -> Any:
        """A relative ``report_kinds.<name>.template`` is read relative to the params file (``base_dir``)."""
        if not (isinstance(data, dict) and isinstance(data.get("report_kinds"), dict) and data.get("base_dir")):
            return data
        kinds = {}
        for name, spec in data["report_kinds"].items():
            t = spec.get("template") if isinstance(spec, dict) else None
            if isinstance(t, (str, Path)) and str(t).strip():
                spec = {**spec, "template": Path(data["base_dir"]) / str(t).strip()}  # an absolute one stays as it is
            kinds[name] = spec
        return {**data, "report_kinds": kinds}

    @model_validator(mode="after")
    def _known_kinds(self) -> BatchParams:
        """Every ``reports`` name is a kind; a declared kind has a free name and a template inside the project."""
        for name, spec in self.report_kinds.items():
            if name in RESERVED_KIND_NAMES:
                raise KeyedValueError(
                    f"{name!r} is a built-in report kind (or its output folder); give your kind another name, e.g. {name}_custom",
                    ("report_kinds", name),
                    name,
                )
            if not KIND_NAME.fullmatch(name):
                raise KeyedValueError(
                    f"report kind name {name!r} must be lower-case letters, digits and _ starting with a letter "
                    "(it names the output folder), e.g. pipeline_review",
                    ("report_kinds", name),
                    name,
                )
            self._check_template(name, spec.template)
        known = [*REPORT_KIND_NAMES, *self.report_kinds]
        for i, name in enumerate(self.reports):
            if name not in known:
                raise KeyedValueError(
                    f"unknown report kind {name!r}{did_you_mean(name, known)}; use one of {', '.join(known)} "
                    "(declare your own under report_kinds)",
                    ("reports", i),
                    name,
                )
        if len(set(self.reports)) != len(self.reports):
            twice = next(n for n in self.reports if self.reports.count(n) > 1)
            raise KeyedValueError(f"report kind {twice!r} is listed twice; list it once", "reports", list(self.reports))
        return self

    def _check_template(self, name: str, template: Path) -> None:
        """Refuse a template outside the project, then one that is not a notebook, then a missing one.

        The project is the params file's folder (``..``, absolute paths elsewhere and symbolic
        links out are refused). Containment comes first, so ``../../etc/passwd`` is refused
        for where it is, not for its name.
        """
        where = ("report_kinds", name, "template")
        if self.base_dir is not None:
            project = Path(self.base_dir).resolve()
            real = template.resolve()
            if not real.is_relative_to(project):
                raise KeyedValueError(
                    f"template {str(template)!r} resolves to {str(real)!r}, outside the project folder {str(project)!r} "
                    "(the params file's folder; '..', absolute paths elsewhere and symbolic links out are refused)",
                    where,
                    str(template),
                )
        if template.suffix != ".ipynb":
            raise KeyedValueError(f"template {str(template)!r} is not a notebook (.ipynb)", where, str(template))
        if self.base_dir is None:
            return
        if not real.is_file():
            raise KeyedValueError(
                f"template {str(template)!r} does not exist; write one with 'reportkit new-template {name} --per ...'",
                where,
                str(template),
            )

    @property
    def company(self) -> str:
        """The company name readers see: ``branding.company``, else the params ``name``."""
        return (self.branding.company if self.branding and self.branding.company else None) or self.name

    @field_validator("period", mode="before")
    @classmethod
    def _period_str(cls, v: Any) -> Any:
        if not isinstance(v, str):
            raise ValueError(f"{v!r} must be a period label string such as FY2020-Q1")
        problem = label_problem(v)
        if problem is not None:
            raise ValueError(problem)
        return v

    @field_validator("timezone", mode="before")
    @classmethod
    def _timezone(cls, v: Any) -> Any:
        return check_timezone(v)

    @field_validator("account_managers", mode="before")
    @classmethod
    def _one_id_as_list(cls, v: Any) -> Any:
        if v is None:
            return v
        if isinstance(v, (str, int)):
            v = [v]
        return v

    def cache_folder(self) -> Path | None:
        """The folder of the cache of model fits: params ``cache_dir`` when set (None: no cache), else
        ``REPORTKIT_CACHE_DIR`` when set, else the platform's user cache folder of reportkit.

        The rule's one home (:mod:`reportkit.core.cache`); ``reportkit batch --no-cache`` turns it off too.
        """
        if "cache_dir" in self.model_fields_set:
            return None if self.cache_dir is None else self.resolve(Path(self.cache_dir).expanduser())
        return env_cache_dir() or default_cache_dir()

    def resolve(self, path: Path | str) -> Path:
        """Resolve ``path`` relative to the params file's folder."""
        p = Path(path)
        if p.is_absolute() or self.base_dir is None:
            return p
        return (self.base_dir / p).resolve()


def _is_sequence(annotation: Any) -> bool:
    if typing.get_origin(annotation) in (tuple, list):
        return True
    return any(_is_sequence(a) for a in typing.get_args(annotation))


def format_validation_error(
    exc: ValidationError, file: str, model: type[BaseModel], *, yaml_root: Any = None, overridden: frozenset[tuple] = frozenset()
) -> str:
    """One line per problem: ``file: key 'a.b': message (got value); did you mean ...``.

    ``yaml_root`` (the composed YAML document) lets a message show how YAML read
    an unquoted value (``NO`` -> ``False``, ``0731`` -> ``473``). Keys in
    ``overridden`` came from the command line and are reported as ``-p key=...``.
    The formatting itself is :func:`reportkit.core.yaml_input.format_validation_errors`.
    """

    def origin(loc: tuple[str, ...]) -> str | None:
        for n in range(len(loc), 0, -1):
            if tuple(loc[:n]) in overridden:
                return f"command line (-p {'.'.join(loc[:n])}=...)"
        return None

    return "\n".join(format_validation_errors(exc, file, model, origin=origin, yaml_root=yaml_root))


def parse_overrides(items: typing.Iterable[str], model: type[BaseModel] | None = None) -> dict[str, Any]:
    """Turn command-line ``-p key=value`` items into a nested dict of **strings**.

    Values are never YAML-typed: ``00731`` stays ``"00731"``, ``NO`` stays ``"NO"``,
    ``2020-01-01`` stays text (the params model converts it where a date is
    expected). A dotted key sets a nested value (``commission.rate=0.07``). For a
    list-valued key (``account_managers``, ``reports``) the value is split on
    commas: ``account_managers=00731,00812`` -> ``["00731", "00812"]``.

    >>> parse_overrides(["period=FY2020-Q1", "account_managers=00731,00812"])
    {'period': 'FY2020-Q1', 'account_managers': ['00731', '00812']}

    Parameters
    ----------
    items : iterable of str
        ``key=value`` texts as given on the command line.
    model : pydantic model class, default :class:`BatchParams`
        Used to check the keys (did-you-mean) and to know which keys are lists.

    Raises
    ------
    ParamsError
        An item without ``=``, an empty or unknown key (with a did-you-mean), a
        key given twice, a value under a key that is not a section, or an empty
        list value.
    """
    model = model or BatchParams
    out: dict[str, Any] = {}
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, str) or "=" not in item:
            raise ParamsError(
                f"command line: -p {item!r} is not key=value",
                hint="write e.g. -p period=FY2020-Q1 (no spaces around =, or quote the whole item)",
            )
        key, value = item.split("=", 1)
        key = key.strip()
        parts = key.split(".")
        if not key or any(not p for p in parts):
            raise ParamsError(f"command line: -p {item!r} has an empty key", hint="write e.g. -p period=FY2020-Q1")
        if key in seen:
            raise ParamsError(f"command line: -p {key}= is given twice", hint="give each key once")
        seen.add(key)
        parent: type[BaseModel] | None = model
        target = out
        for i, part in enumerate(parts):
            fields = {k: f for k, f in parent.model_fields.items() if k != "base_dir"}
            if part not in fields:
                where = ".".join(parts[: i + 1])
                raise ParamsError(
                    f"command line: -p {where}=...: key {where!r} is not allowed{did_you_mean(part, fields)}",
                    hint=f"allowed here: {', '.join(fields)}",
                )
            ann = fields[part].annotation
            if i < len(parts) - 1:
                parent = model_of(ann)
                if parent is None:
                    raise ParamsError(
                        f"command line: -p {key}=...: {'.'.join(parts[: i + 1])!r} is a value, not a section with keys"
                    )
                nxt = target.setdefault(part, {})
                if not isinstance(nxt, dict):
                    raise ParamsError(f"command line: -p {key}=... conflicts with -p {'.'.join(parts[: i + 1])}=")
                target = nxt
                continue
            if part in target:
                raise ParamsError(f"command line: -p {key}=... conflicts with another -p {key}.*= item")
            if model_of(ann) is not None:
                raise ParamsError(
                    f"command line: -p {key}=...: {key!r} is a section; set its keys one by one, "
                    f"e.g. -p {key}.{next(iter(model_of(ann).model_fields))}=..."
                )
            if _is_sequence(ann):
                values = [v.strip() for v in value.split(",")]
                if not value.strip() or any(v == "" for v in values):
                    raise ParamsError(
                        f"command line: -p {item!r}: empty item in a comma-separated list", hint=f"e.g. -p {key}=a,b"
                    )
                target[part] = values
            else:
                target[part] = value
    return out


def _deep_merge(base: dict[str, Any], over: dict[str, Any], path: tuple = ()) -> tuple[dict[str, Any], set[tuple]]:
    merged = dict(base)
    paths: set[tuple] = set()
    for k, v in over.items():
        here = (*path, str(k))
        if isinstance(v, dict) and isinstance(merged.get(k), dict):
            merged[k], sub = _deep_merge(merged[k], v, here)
            paths |= sub
        else:
            merged[k] = v
            paths.add(here)
    return merged, paths


def load_params(path: str | Path, overrides: dict[str, Any] | None = None) -> BatchParams:
    """Read and validate a params YAML file.

    Parameters
    ----------
    path : str or Path
        The params file. An empty file means all defaults (and then fails on the
        required ``source``, ``period`` and ``as_of`` with a message saying so).
    overrides : dict, optional
        Keys to replace, e.g. from :func:`parse_overrides` (command-line ``-p``);
        nested dicts are merged key by key (``{"commission": {"rate": "0.07"}}``
        keeps the file's ``commission.quota_bonus``). Values are kept as given
        (strings stay strings); errors in them are reported as ``command line``.

    Returns
    -------
    BatchParams

    Raises
    ------
    ParamsError
        The file is missing, is not YAML, is not a mapping, or fails validation;
        the message names the file, each bad key and its value.
    """
    path = Path(path)
    raw, root = read_yaml_mapping(path, ParamsError, what="params file", empty_ok=True, node=True)
    bad_keys = non_text_keys(root)
    if bad_keys:
        raise ParamsError("\n".join(f"{path}: {b}" for b in bad_keys))
    overridden: set[tuple] = set()
    raw = dict(raw)
    if overrides:
        raw, overridden = _deep_merge(raw, overrides)
    raw["base_dir"] = path.resolve().parent
    try:
        params = BatchParams.model_validate(raw)
    except ValidationError as exc:
        raise ParamsError(
            format_validation_error(exc, str(path), BatchParams, yaml_root=root, overridden=frozenset(overridden))
        ) from None
    params._file, params._overridden = str(path), tuple(sorted(tuple(str(p) for p in k) for k in overridden))
    return params
