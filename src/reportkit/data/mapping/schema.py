"""The source mapping YAML: its pydantic model and :func:`load_mapping`, which reads and checks it.

What each key means, with an example per real-export case, is in ``docs/mapping.md``;
the order the steps are applied in is in :mod:`reportkit.data.mapping`. This module
only says what a valid mapping *is*: unknown keys, bad values and cross-field
problems (a column that is not canonical, a required column left unmapped, a date
format that would guess) are refused here, all at once, as a
:class:`~reportkit.core.errors.MappingError`, before any source file is read.
"""

from __future__ import annotations

import datetime
import os
import re
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ...core.errors import MappingError, did_you_mean
from ...core.types import CurrencyCode, StablePickle, TimeZone, as_text
from ...core.yaml_input import format_validation_errors, read_yaml_mapping
from .. import model
from ..sources import FORMATS, format_of

__all__ = ["Source", "Lookup", "Unpivot", "Number", "Amount", "TableMapping", "Calendar", "SourceMapping", "load_mapping"]


class _Strict(StablePickle, BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------------------
# The YAML model
# ---------------------------------------------------------------------------
class Source(_Strict):
    """Where rows come from: one file, one SQL query, or rows written inline.

    Attributes
    ----------
    file : str, optional
        Path relative to the mapping's ``data_dir``.
    format : {"csv", "xlsx", "xls", "parquet", "sql"}, optional
        From the extension when omitted.
    encoding : str
        CSV text encoding (``utf-8`` default; ``utf-8-sig``, ``utf-16``, ``cp1252`` ...).
    sep : str
        CSV field separator.
    sheet : str, optional
        Workbook sheet (first sheet when omitted).
    url, query : str, optional
        SQLAlchemy URL and SELECT statement. A relative ``sqlite:///`` path is
        relative to ``data_dir``.
    inline : list of {column: text}, optional
        Rows written in the YAML (facts not in the data, e.g. team membership).
    skip_rows : int, default 0
        Lines above the header (CSV / workbooks), e.g. a report title.
    skip_footer : int, default 0
        The last ``skip_footer`` non-blank rows are a footer (a grand total, a
        "generated on" line) and are dropped; each dropped row is listed in
        :attr:`Dataset.warnings`. Without it a footer row is data (and then
        usually fails validation, naming its row).
    """

    file: str | None = None
    format: Literal["csv", "xlsx", "xls", "parquet", "sql"] | None = None
    encoding: str = "utf-8"
    sep: str = ","
    sheet: str | None = None
    url: str | None = None
    query: str | None = None
    inline: list[dict[str, str]] | None = None
    skip_rows: int = Field(0, ge=0, description="lines above the header (titles, export dates)")
    skip_footer: int = Field(0, ge=0, description="last N non-blank rows are a footer (e.g. a grand total)")

    @field_validator("inline", mode="before")
    @classmethod
    def _inline_text(cls, v: Any) -> Any:
        if isinstance(v, list):
            for row in v:
                if isinstance(row, dict):
                    for key, val in row.items():
                        as_text(val, f"inline value of {key!r}")
        return v

    @model_validator(mode="after")
    def _one_kind(self) -> Source:
        kinds = [k for k, v in (("file", self.file), ("url", self.url), ("inline", self.inline)) if v is not None]
        if len(kinds) != 1:
            raise ValueError(f"a source needs exactly one of file:, url: (+ query:) or inline: (got {kinds or 'none'})")
        if self.url is not None and not self.query:
            raise ValueError("an sql source (url:) needs query:")
        return self


class Lookup(_Strict):
    """Left join with another source to translate a key or bring columns over.

    Attributes
    ----------
    source : Source
    key : str or {table column: lookup column}
        Join key(s); the lookup key must be unique in the lookup source. (Not
        ``on:``: YAML reads a bare ``on`` as the boolean true.)
    columns : list or {lookup column: new name}
        Columns to bring over.
    na_values, normalise :
        As for tables, applied to the lookup source first.
    required : bool, default True
        A non-missing key without a match is a data problem. ``False`` leaves
        the brought columns missing instead.
    """

    source: Source
    key: str | dict[str, str]
    columns: list[str] | dict[str, str]
    na_values: list[str] = []
    normalise: dict[str, dict[str, str]] = {}
    required: bool = True

    @property
    def keys(self) -> dict[str, str]:
        return {self.key: self.key} if isinstance(self.key, str) else dict(self.key)

    @property
    def brought(self) -> dict[str, str]:
        return {c: c for c in self.columns} if isinstance(self.columns, list) else dict(self.columns)


class Unpivot(_Strict):
    """Wide to long: one output row per (source row, listed column) with a value.

    ``key`` receives the column name (or group 1 of ``key_pattern``, e.g.
    ``M(\\d+)`` turns ``M07`` into ``07``); ``value`` receives the cell. Cells
    that are missing (blank or an ``na_values`` placeholder) produce no row.
    """

    columns: list[str] = Field(..., min_length=1)
    key: str
    value: str
    key_pattern: str | None = None

    @field_validator("key_pattern")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                if re.compile(v).groups != 1:
                    raise ValueError(f"key_pattern {v!r} must have exactly one (group)")
            except re.error as exc:
                raise ValueError(f"key_pattern {v!r} is not a regular expression: {exc}") from None
        return v


class Number(_Strict):
    """Add column ``name``: 1, 2, 3 ... within each group of ``by`` (source order)."""

    name: str
    by: list[str] = Field(..., min_length=1)

    @field_validator("by", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v


class Amount(_Strict):
    """How to read an amount's text.

    Attributes
    ----------
    scale : Decimal, default 1
        Multiplier to currency units (``1000`` for values in thousands).
    thousands : {",", ".", " ", "'", "’", "\u00a0", "\u202f", "\u2009"}, optional
        Thousands separator. When declared, digit groups must be of three
        (``1,234,567.89``; ``1,23`` is refused). Any space declared (``" "``,
        the no-break space U+00A0, the narrow no-break space U+202F, the thin
        space U+2009) accepts all four: spreadsheets and locales write any of them.
    decimal : {".", ","}, default ``"."``
        Decimal separator (``","`` for ``1.234,56``).
    symbol : str or list of str, optional
        Currency sign(s) or code(s) allowed before or after the number
        (``"$"``, ``["€", "EUR"]``): ``$1,234.50``, ``-$5``, ``1.234,56 €``, ``EUR 12.50``.
    negative : {"parentheses", "trailing_minus"} or a list of them, optional
        Negative notations besides a leading ``-`` (always read):
        ``parentheses`` reads ``(200.00)`` and ``$(200.00)`` as -200.00,
        ``trailing_minus`` reads ``200.00-`` (SAP, mainframe reports) as -200.00.
        Undeclared, such a value is refused naming its row.
    accounting_negatives : bool, default False
        The older spelling of ``negative: parentheses`` (either one declares it).
    zero : {"dash"}, optional
        ``dash``: a lone ``-`` (or ``–``), with or without a declared symbol
        (``$-``, ``$ -``, ``- €``), is the amount 0 (spreadsheets' accounting
        format). Undeclared, it is refused (or declare it in ``na_values`` if it
        means *no value*).

    Amounts are never read through a float and never guessed: a text that
    does not fit the declared form is a data problem naming its row.
    """

    scale: Decimal = Decimal(1)
    thousands: Literal[",", ".", " ", "'", "’", "\u00a0", "\u202f", "\u2009"] | None = None
    decimal: Literal[".", ","] = "."
    symbol: str | list[str] | None = None
    negative: Literal["parentheses", "trailing_minus"] | list[Literal["parentheses", "trailing_minus"]] | None = None
    accounting_negatives: bool = False
    zero: Literal["dash"] | None = None

    @property
    def symbols(self) -> list[str]:
        if self.symbol is None:
            return []
        return [self.symbol] if isinstance(self.symbol, str) else list(self.symbol)

    @property
    def negatives(self) -> frozenset[str]:
        """The declared negative notations besides a leading minus (``parentheses``, ``trailing_minus``)."""
        given = [] if self.negative is None else [self.negative] if isinstance(self.negative, str) else self.negative
        return frozenset([*given, *(["parentheses"] if self.accounting_negatives else [])])

    @model_validator(mode="after")
    def _separators(self) -> Amount:
        if self.thousands is not None and self.thousands == self.decimal:
            raise ValueError(f"thousands and decimal separators are both {self.decimal!r}; they must differ")
        for sym in self.symbols:
            if not sym.strip() or any(ch.isdigit() or ch in "-+()" for ch in sym) or sym in (self.thousands, self.decimal):
                raise ValueError(f"symbol {sym!r} must be a currency sign or code such as '$', '€' or 'USD'")
        return self

    @field_validator("scale", mode="before")
    @classmethod
    def _scale(cls, v: Any) -> Any:
        if isinstance(v, float):
            raise ValueError(f"scale {v!r} is a float; write it as an integer or quoted text")
        return v


DEFAULT_DATE_FORMAT = "%Y-%m-%d"
DAY_FIRST_FORMATS = ("%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y")
"""The numeric forms ``day_first: true`` reads (after the column's own formats)."""
MONTH_FIRST_FORMATS = ("%m/%d/%Y", "%m.%d.%Y", "%m-%d-%Y")
"""The numeric forms ``day_first: false`` reads: month first only when declared so."""


class TableMapping(_Strict):
    """How one canonical table is built from its source(s). See the module docstring."""

    source: Source | list[Source]
    na_values: list[str] = []
    normalise: dict[str, dict[str, str]] = {}
    filter: dict[str, list[str]] = {}
    drop_rows_where: dict[str, list[str]] = {}
    unpivot: Unpivot | None = None
    number: Number | None = None
    lookups: list[Lookup] = []
    columns: dict[str, str] = {}
    constants: dict[str, str] = {}
    recode: dict[str, dict[str, str]] = {}
    date_format: dict[str, str | list[str]] = Field(
        {}, description="{date column: strptime format or an ordered list of them}; ISO dates are always read"
    )
    day_first: bool | None = Field(
        None,
        description="true: also read numeric dates day first (31/01/2024, 31.01.2024, 31-01-2024); "
        "false: month first (01/31/2024). Never assumed (docs/mapping.md, 'Dates')",
    )
    amounts: dict[str, Amount] = {}
    period_months: int | None = Field(None, ge=1, le=12)
    deduplicate: bool | Literal["identical", "first", "last"] = False
    # -- forecast categories (issue #13 item 11, group "categories"): pipeline only --
    forecast_categories: dict[str, Literal["pipeline", "best_case", "most_likely", "commit", "closed", "omitted"]] = Field(
        {},
        description="pipeline stage -> Salesforce forecast category (docs/mapping.md, 'Forecast categories')",
    )

    @field_validator("forecast_categories", mode="before")
    @classmethod
    def _stage_text(cls, v: Any) -> Any:
        if isinstance(v, dict):
            for stage in v:
                as_text(stage, f"stage {stage!r} of forecast_categories")
        return v

    @field_validator("na_values", mode="before")
    @classmethod
    def _na_text(cls, v: Any) -> Any:
        if isinstance(v, list):
            for item in v:
                if item is None or isinstance(item, bool):
                    raise ValueError(
                        "YAML reads unquoted NULL / null / ~ / yes / no as a non-text value; "
                        'quote each placeholder, e.g. na_values: ["NULL", "-"]'
                    )
                as_text(item, "placeholder")
        return v

    @field_validator("constants", mode="before")
    @classmethod
    def _const_text(cls, v: Any) -> Any:
        if isinstance(v, dict):
            for key, val in v.items():
                as_text(val, f"constant {key!r}")
        return v

    @field_validator("recode", "normalise", mode="before")
    @classmethod
    def _recode_text(cls, v: Any) -> Any:
        if isinstance(v, dict):
            for key, inner in v.items():
                if isinstance(inner, dict):
                    for a, b in inner.items():
                        as_text(b, f"value for {a!r} in {key!r}")
        return v

    @field_validator("filter", "drop_rows_where", mode="before")
    @classmethod
    def _filter_list(cls, v: Any) -> Any:
        if isinstance(v, dict):
            out = {}
            for k, x in v.items():
                items = [x] if isinstance(x, str) or x is None or isinstance(x, (bool, int, float)) else x
                if isinstance(items, list):
                    for item in items:
                        if item is None or isinstance(item, bool):
                            raise ValueError(
                                f"value {item!r} of {k!r}: quote it in YAML (unquoted NULL, ~, yes, "
                                'no are not text); write "" for a blank cell'
                            )
                        as_text(item, f"value of {k!r}")
                out[k] = items
            return out
        return v

    def date_formats(self, column: str) -> tuple[list[str], bool]:
        """(the formats a date column is read in, in order; whether the mapping declared any).

        The column's ``date_format`` (one or a list), then the numeric forms of
        ``day_first`` (:data:`DAY_FIRST_FORMATS` / :data:`MONTH_FIRST_FORMATS`);
        ``%Y-%m-%d`` when neither is declared. ISO dates are read besides these
        (``values._parse_dates``).
        """
        given = self.date_format.get(column)
        formats = [] if given is None else [given] if isinstance(given, str) else list(given)
        if self.day_first is not None:
            extra = DAY_FIRST_FORMATS if self.day_first else MONTH_FIRST_FORMATS
            formats += [f for f in extra if f not in formats]
        declared = bool(formats)
        return (formats or [DEFAULT_DATE_FORMAT]), declared

    @property
    def dedup_policy(self) -> str | None:
        """``None`` (duplicates are errors), ``identical``, ``first`` or ``last``."""
        if self.deduplicate is False:
            return None
        return "identical" if self.deduplicate is True else self.deduplicate

    @property
    def sources(self) -> list[Source]:
        return list(self.source) if isinstance(self.source, list) else [self.source]

    #: The fields whose step writes cells after ``na_values`` made every blank one missing, so that a
    #: column they write may hold blank text again (:meth:`written_columns`); every other field reads
    #: cells, drops rows or says how to parse them (:data:`KEEPING_FIELDS`). tests/test_mapping.py
    #: fails on a field in neither, so a new step is placed here before the loader trusts its blanks.
    WRITING_FIELDS: ClassVar[tuple[str, ...]] = ("normalise", "unpivot", "number", "lookups", "columns", "recode")
    KEEPING_FIELDS: ClassVar[tuple[str, ...]] = (
        *("source", "na_values", "filter", "drop_rows_where", "constants", "date_format", "day_first"),
        *("amounts", "period_months", "deduplicate", "forecast_categories", "conversion"),
    )

    def produced_columns(self) -> set[str]:
        """The source columns an ``unpivot``, ``number`` or lookup adds to the rows read."""
        produced: set[str] = set()
        if self.unpivot:
            produced |= {self.unpivot.key, self.unpivot.value}
        if self.number:
            produced.add(self.number.name)
        for lk in self.lookups:
            produced |= set(lk.brought.values())
        return produced

    def written_columns(self) -> tuple[set[str], set[str]]:
        """(source columns, canonical columns) whose cells a step of :data:`WRITING_FIELDS` writes.

        Source columns: ``normalise``'s and :meth:`produced_columns`; canonical columns: those
        ``columns`` fills from a template (``"{a}-{b}"``) and ``recode``'s.
        """
        templates = {name for name, text in self.columns.items() if "{" in text}
        return set(self.normalise) | self.produced_columns(), templates | set(self.recode)


class FxRatesMapping(TableMapping):
    """The dated FX rate table (fx group, issue #13 item 10): a table mapping plus ``conversion``.

    Columns ``currency`` (ISO 4217), ``rate_date``, ``rate`` (units of the mapping's
    ``currency``, the reporting currency, per unit of ``currency``; an exact decimal
    with at most 8 decimals). With it, deals in other currencies are converted at
    load (:mod:`reportkit.data.fx`), once, for every report and the engine.

    Attributes
    ----------
    conversion : {"close_date", "month_average", "quarter_average"}
        Required: the rate a deal takes. ``close_date``: the latest rate dated on or
        before its close date; ``month_average`` / ``quarter_average``: the mean of
        the rates dated in its close date's calendar month / fiscal quarter, rounded
        half away from zero to 8 decimals.
    """

    conversion: Literal["close_date", "month_average", "quarter_average"]


class Calendar(_Strict):
    first_month: int = Field(1, ge=1, le=12, description="calendar month the fiscal year starts in")


class SourceMapping(_Strict):
    """A whole source mapping file (see the module docstring)."""

    name: str = ""
    calendar: Calendar = Calendar()
    currency: CurrencyCode = Field("USD", description="ISO 4217 code")
    crediting: Literal["owner", "territory"] = "owner"
    timezone: TimeZone | None = Field(
        None,
        description="the business time zone (IANA name): a timestamp with a UTC offset is dated in it "
        "(docs/mapping.md, 'Time zones')",
    )
    data_dir: str = "."
    account_managers: TableMapping
    quotas: TableMapping | None = None
    deals: TableMapping
    accounts: TableMapping | None = None
    pipeline: TableMapping | None = None
    territories: TableMapping | None = None
    service_issues: TableMapping | None = None
    fx_rates: FxRatesMapping | None = None  # deals in several currencies (data/fx.py)
    measures: TableMapping | None = None  # measures group (issue #13 items 13, 14)
    splits: TableMapping | None = None  # splits group (issue #13 item 7): deal_id, account_manager_id, share, kind
    base_dir: Path | None = Field(None, exclude=True)

    def table(self, name: str) -> TableMapping | None:
        return getattr(self, name)

    @property
    def data_path(self) -> Path:
        """``data_dir`` resolved against the mapping file's folder.

        ``${NAME}`` and ``${NAME:-default}`` are replaced by the environment variable
        ``NAME`` (or the default when it is unset or empty), so a mapping can say
        ``${REPORTKIT_DATA_DIR:-../../../shared/data}/maven-crm-sales-opportunities``
        and a clone that does not sit next to the data still finds it.

        Raises
        ------
        MappingError
            ``${NAME}`` without a default names a variable that is not set.
        """
        p = Path(_expand_env(self.data_dir, self.base_dir))
        if not p.is_absolute() and self.base_dir is not None:
            p = self.base_dir / p
        return p.resolve()

    def missing_data_dir(self, mapping_file: str) -> MappingError:
        """The error for a :attr:`data_path` that is not a folder: what ``data_dir`` says,
        and which ``${NAME:-default}`` fell back to its default because ``NAME`` is unset
        (the usual cause on a clone that does not sit next to the data), or what a set one holds.
        """
        why, fix = "", ""
        for m in _ENV_REF.finditer(self.data_dir):
            value = os.environ.get(m["name"])
            if value:
                why += f"; {m['name']} is set to {value!r}"
                fix += f"check {m['name']}, or "
            elif m["default"] is not None:
                why += f"; {m['name']} is not set, so its default {m['default']!r} was used"
                fix += f"set {m['name']} to the folder that holds the data, or "
        return MappingError(
            f"data folder {str(self.data_path)!r} does not exist (data_dir: {self.data_dir!r} in {mapping_file}{why})",
            hint=f"{fix}correct data_dir: in the mapping (a relative data_dir is read from the mapping file's folder)",
        )


_ENV_REF = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")


def _expand_env(text: str, base_dir: Path | None) -> str:
    """Replace ``${NAME}`` / ``${NAME:-default}`` in ``text`` from the environment."""

    def sub(m: re.Match[str]) -> str:
        value = os.environ.get(m["name"], "")
        if value:
            return value
        if m["default"] is not None:
            return m["default"]
        where = f" in {base_dir}" if base_dir is not None else ""
        raise MappingError(
            f"data_dir{where} uses ${{{m['name']}}}, which is not set",
            hint=f"set {m['name']} to the data folder, or write ${{{m['name']}:-default}} in the mapping",
        )

    return _ENV_REF.sub(sub, text)


# ---------------------------------------------------------------------------
# Loading and checking the YAML
# ---------------------------------------------------------------------------
def _semantic_problems(m: SourceMapping, file: str) -> list[str]:
    out: list[str] = []
    derived = {
        "quotas": {"currency", "period_end"},
        "deals": {"currency", "account_id"},
        "pipeline": {"account_id"},
        "splits": {"kind"},  # default: revenue
    }
    for table in model.TABLES:
        tm = m.table(table)
        if tm is None:
            if table in ("account_managers", "deals"):
                out.append(f"{file}: table {table!r} is required")
            continue
        cols = model.table_columns(table)  # the canonical columns, then the optional ones (deals.deal_type)
        allowed = list(cols)
        out += _forecast_category_problems(table, tm, file)
        for key in ("columns", "constants", "recode", "date_format", "amounts"):
            for name in getattr(tm, key):
                if table == "pipeline" and name == "currency":  # fx group: open amounts are never converted
                    out.append(
                        f"{file}: pipeline.{key}: 'currency': pipeline amounts are read in the reporting currency "
                        f"({m.currency}); an open opportunity has no close date to take a rate from, so reportkit "
                        f"does not convert them: keep only {m.currency} rows (filter: {{<currency column>: "
                        f"[{m.currency}]}}) and remove 'currency' from pipeline.{key}"
                    )
                    continue
                if name not in cols and not (key == "columns" and table == "pipeline" and name == model.FORECAST_CATEGORY):
                    out.append(
                        f"{file}: {table}.{key}: {name!r} is not a column of {table}"
                        f"{did_you_mean(name, allowed)} (allowed: {', '.join(allowed)})"
                    )
        for name in tm.amounts:
            if name in cols and cols[name][0] != "cents":
                out.append(
                    f"{file}: {table}.amounts: {name!r} is not an amount column "
                    f"(amount columns: {', '.join(c for c, (k, _) in cols.items() if k == 'cents')})"
                )
        for name in tm.date_format:
            if name in cols and cols[name][0] != "date":
                out.append(f"{file}: {table}.date_format: {name!r} is not a date column")
        for name in set(tm.columns) & set(tm.constants):
            out.append(f"{file}: {table}: {name!r} is in both columns and constants; keep one")
        for name, (_kind, nullable) in model.COLUMNS[table].items():  # optional columns are never required
            covered = name in tm.columns or name in tm.constants
            if name == "period_end" and tm.period_months is not None:
                covered = True
            if not covered and not nullable and name not in derived.get(table, set()) - {"period_end"}:
                out.append(
                    f"{file}: {table}: column {name!r} is required; map it under columns: "
                    f"(a source column) or constants: (a literal)"
                )
        if tm.period_months is not None and table != "quotas":
            out.append(f"{file}: {table}.period_months is only for quotas")
        if table == "deals" and "stage" in tm.recode:
            bad = {v for v in tm.recode["stage"].values() if v not in (*model.DEAL_STAGES, "open")}
            for v in sorted(bad):
                out.append(
                    f"{file}: deals.recode.stage: {v!r} is not allowed{did_you_mean(v, ['won', 'lost', 'open'])}"
                    " (allowed: won, lost, open)"
                )
        if table == "deals" and tm.constants.get("stage") not in (None, *model.DEAL_STAGES):
            out.append(f"{file}: deals.constants.stage: {tm.constants['stage']!r} is not allowed (allowed: won, lost)")
        for name, given in tm.date_format.items():
            out += _date_format_problems(file, table, name, [given] if isinstance(given, str) else list(given))
        if tm.day_first is not None and not any(k == "date" for k, _ in cols.values()):
            out.append(f"{file}: {table}.day_first: {table} has no date column")
        for src in tm.sources:
            if src.file is not None and src.format is None:
                try:
                    format_of(src.file)
                except MappingError as exc:
                    out.append(f"{file}: {table}.source: {exc.message}; add format: ({', '.join(FORMATS)})")
        if tm.dedup_policy in ("first", "last") and table in ("quotas", "territories"):
            pass  # keyed by (account_manager_id, period_start) / (account_manager_id, territory)
    if m.crediting == "territory" and m.territories is None:
        out.append(f"{file}: crediting: territory needs a territories: table")
    return out


def _date_format_problems(file: str, table: str, name: str, listed: list[str]) -> list[str]:
    """One date column's formats: a non-empty list of usable strptime formats (or ``ISO8601``), none twice, never ``mixed``."""
    where = f"{file}: {table}.date_format.{name}"
    out: list[str] = []
    if not listed:
        out.append(f"{where}: an empty list; write one format or an ordered list of them")
    if len(set(listed)) < len(listed):
        out.append(f"{where}: a format is listed twice ({', '.join(listed)})")
    for fmt in listed:
        if fmt == "mixed":
            out.append(
                f"{where}: 'mixed' would guess each date's format (is 03/04/2025 March or April?); declare "
                "the formats the column holds, in order, such as ['%d.%m.%Y', '%d/%m/%Y'] (ISO dates are always read)"
            )
        elif "%" not in fmt and fmt != "ISO8601":
            out.append(f"{where}: {fmt!r} is not a strptime format such as %Y-%m-%d")
        elif fmt != "ISO8601":
            try:
                sample = datetime.datetime(2001, 2, 3, tzinfo=datetime.UTC).strftime(fmt)
                datetime.datetime.strptime(sample, fmt)
            except ValueError as exc:
                out.append(f"{where}: {fmt!r} is not a usable strptime format ({exc})")
    return out


def _forecast_category_problems(table: str, tm: TableMapping, file: str) -> list[str]:
    """``forecast_categories`` maps the pipeline table's stages; no other table has it."""
    if table == "pipeline" or not tm.forecast_categories:
        return []
    return [f"{file}: {table}.forecast_categories: only the pipeline table has forecast categories (its stages)"]


def load_mapping(path: str | Path) -> SourceMapping:
    """Read and check a source mapping YAML file.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    SourceMapping
        With ``base_dir`` set to the file's folder (``data_dir`` is relative to it).

    Raises
    ------
    MappingError
        Missing file, invalid YAML, unknown keys (with a did-you-mean and the
        allowed keys), bad values (with the allowed set), unknown canonical column
        names, required canonical columns left unmapped. All problems at once.
    """
    path = Path(path)
    raw = read_yaml_mapping(
        path,
        MappingError,
        what="source mapping",
        missing_hint="check source: in the params file (relative to the params file)",
    )
    raw["base_dir"] = path.resolve().parent
    try:
        m = SourceMapping.model_validate(raw)
    except ValidationError as exc:
        lines = format_validation_errors(exc, str(path), SourceMapping, yaml_file=path)
        raise MappingError("\n".join(lines), hint="fix the source mapping YAML") from None
    problems = _semantic_problems(m, str(path))
    if problems:
        raise MappingError("\n".join(problems), hint="fix the source mapping YAML")
    return m
