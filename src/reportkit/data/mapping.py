"""Source mappings: declarative YAML that turns raw source files into a validated Dataset.

A mapping names the files of one data source and says, per canonical table
(see :mod:`reportkit.data.model`), which source column becomes which canonical column
and how its text is read. Nothing is guessed: placeholders, date formats, amount
scales and stage names are all declared. Example (abridged)::

    calendar: {first_month: 7}        # fiscal year starts in July
    currency: USD                     # the single currency of every amount
    crediting: territory              # owner | territory
    data_dir: ../../../shared/data/adventureworks-pl300-reseller-sales  # relative to this file

    quotas:
      source: {file: ResellerSalesTargets.csv, encoding: utf-16}
      na_values: ["-"]                          # '-' means "no target"
      unpivot: {columns: [M01, M02, ...], key: month, value: target, key_pattern: "M(\\d+)"}
      lookups:
        - source: {file: SalespersonPerformance.csv}
          key: EmployeeID                       # same name on both sides (or {left: right})
          columns: [EmployeeKey]                # bring these columns over
      columns:                                  # canonical <- source column or "{template}"
        account_manager_id: EmployeeKey
        period_start: "{Year}-{month}-01"
        quota_cents: target
      date_format: {period_start: "%Y-%m-%d"}
      amounts: {quota_cents: {scale: 1000}}     # targets are in thousands
      period_months: 1                          # period_end = start + 1 month - 1 day

Steps applied to each table, in this order:

1. read every ``source`` (several files are concatenated; each has its own
   format / encoding / sep / sheet; ``inline:`` rows written in the YAML work too);
   blank rows are skipped; ``skip_rows`` / ``skip_footer`` drop declared title and footer rows;
2. ``drop_rows_where``: drop rows whose cell is one of the listed texts (footers, subtotals);
   ``na_values``: these exact cell texts mean *missing* (an empty cell always does);
3. ``normalise``: exact value replacements per source column (``GTXPro -> GTX Pro``);
4. ``filter``: keep rows whose column is in the listed values;
5. ``unpivot``: wide columns to long rows (missing values dropped);
6. ``number``: a 1-based line number within groups (to build unique ids);
7. ``lookups``: left joins with other sources to translate keys / bring columns;
8. ``columns`` / ``constants``: build the canonical columns (``"{a}-{b}"`` templates allowed);
9. ``recode``: translate values of canonical columns (stage names, probabilities per stage);
   in ``deals`` a stage recoded to ``open`` drops the row (open opportunities belong to
   the ``pipeline`` table, which declares its own source and filter);
10. parse: dates with ``date_format`` (default ``%Y-%m-%d``), amounts as text -> Decimal
    (never float) x ``scale`` -> cents, half away from zero (:func:`reportkit.core.money.to_cents`).
    Columns are parsed vectorised with the same result per cell: plain amounts
    (``-1234.56``) by exact integer arithmetic on their digits, other forms and dates
    once per distinct text; no amount passes through a float;
11. ``deduplicate``: ``identical`` (= true) drops exact repeats, ``first`` / ``last`` keep one
    row per id; otherwise a repeated id is a problem on every row that carries it.

Amount forms (``amounts:``: thousands, decimal, symbol, accounting_negatives, scale),
date formats, footers, duplicates, currencies and warnings are documented with an
example per real-export case in ``docs/mapping.md``. ``Dataset.warnings`` lists what
loading dropped or kept that a reader should know (footers, deduplicated rows,
placeholder text kept as text, deals outside every quota period).

Derived columns: ``currency`` (quotas, deals) defaults to the mapping's currency;
a blank ``account_id`` in deals / pipeline becomes ``"(unassigned)"``; quotas'
``period_end`` comes from ``period_months`` when not mapped. A mapping without
``quotas`` yields an empty quotas table (a params quota rule fills it later).

Every problem of every table is collected and raised at once as a
:class:`~reportkit.core.errors.DataError` whose problems name the source file, the
source row (header = 1, first data row = 2) and the source column.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import string
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from . import model
from ..core._yaml import format_validation_errors, read_yaml_mapping
from ..core.errors import DataError, DataProblem, MappingError, did_you_mean
from ..core.money import MICROS_PER_CENT, MICROS_PER_UNIT, to_cents, to_micros
from ..core.periods import FiscalCalendar
from ..core.types import as_text
from .sources import FORMATS, format_of, read_source

__all__ = [
    "Source",
    "Lookup",
    "Unpivot",
    "Number",
    "Amount",
    "TableMapping",
    "SourceMapping",
    "load_mapping",
    "load_dataset",
]

_ROW = model.SOURCE_ROW
_FILE = model.SOURCE_FILE
_UNPIVOT_COL = "_source_unpivot_column"
DEFAULT_DATE_FORMAT = "%Y-%m-%d"


class _Strict(BaseModel):
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
    def _one_kind(self) -> "Source":
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
    thousands : {",", ".", " ", "'", "’"}, optional
        Thousands separator. When declared, digit groups must be of three
        (``1,234,567.89``; ``1,23`` is refused). ``" "`` also accepts the
        no-break spaces spreadsheets write.
    decimal : {".", ","}, default ``"."``
        Decimal separator (``","`` for ``1.234,56``).
    symbol : str or list of str, optional
        Currency sign(s) or code(s) allowed before or after the number
        (``"$"``, ``["€", "EUR"]``): ``$1,234.50``, ``-$5``, ``1.234,56 €``.
    accounting_negatives : bool, default False
        ``(200.00)`` means -200.00 (accounting notation). Without it a value in
        parentheses is refused.

    Amounts are never read through a float and never guessed: a text that
    does not fit the declared form is a data problem naming its row.
    """

    scale: Decimal = Decimal(1)
    thousands: Literal[",", ".", " ", "'", "’"] | None = None
    decimal: Literal[".", ","] = "."
    symbol: str | list[str] | None = None
    accounting_negatives: bool = False

    @property
    def symbols(self) -> list[str]:
        if self.symbol is None:
            return []
        return [self.symbol] if isinstance(self.symbol, str) else list(self.symbol)

    @model_validator(mode="after")
    def _separators(self) -> "Amount":
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
    date_format: dict[str, str] = {}
    amounts: dict[str, Amount] = {}
    period_months: int | None = Field(None, ge=1, le=12)
    deduplicate: bool | Literal["identical", "first", "last"] = False

    @field_validator("na_values", mode="before")
    @classmethod
    def _na_text(cls, v: Any) -> Any:
        if isinstance(v, list):
            for item in v:
                if item is None or isinstance(item, bool):
                    raise ValueError(
                        "YAML reads unquoted NULL / null / ~ / yes / no as a non-text value; "
                        "quote each placeholder, e.g. na_values: [\"NULL\", \"-\"]"
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
                            raise ValueError(f"value {item!r} of {k!r}: quote it in YAML (unquoted NULL, ~, yes, "
                                             "no are not text); write \"\" for a blank cell")
                        as_text(item, f"value of {k!r}")
                out[k] = items
            return out
        return v

    @property
    def dedup_policy(self) -> str | None:
        """``None`` (duplicates are errors), ``identical``, ``first`` or ``last``."""
        if self.deduplicate is False:
            return None
        return "identical" if self.deduplicate is True else self.deduplicate

    @property
    def sources(self) -> list[Source]:
        return list(self.source) if isinstance(self.source, list) else [self.source]


class Calendar(_Strict):
    first_month: int = Field(1, ge=1, le=12, description="calendar month the fiscal year starts in")


class SourceMapping(_Strict):
    """A whole source mapping file (see the module docstring)."""

    name: str = ""
    calendar: Calendar = Calendar()
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$", description="ISO 4217 code")
    crediting: Literal["owner", "territory"] = "owner"
    data_dir: str = "."
    account_managers: TableMapping
    quotas: TableMapping | None = None
    deals: TableMapping
    accounts: TableMapping | None = None
    pipeline: TableMapping | None = None
    territories: TableMapping | None = None
    service_issues: TableMapping | None = None
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
    }
    for table in model.TABLES:
        tm = m.table(table)
        if tm is None:
            if table in ("account_managers", "deals"):
                out.append(f"{file}: table {table!r} is required")
            continue
        cols = model.COLUMNS[table]
        allowed = list(cols)
        for key in ("columns", "constants", "recode", "date_format", "amounts"):
            for name in getattr(tm, key):
                if name not in cols:
                    out.append(f"{file}: {table}.{key}: {name!r} is not a column of {table}"
                               f"{did_you_mean(name, allowed)} (allowed: {', '.join(allowed)})")
        for name in tm.amounts:
            if name in cols and cols[name][0] != "cents":
                out.append(f"{file}: {table}.amounts: {name!r} is not an amount column "
                           f"(amount columns: {', '.join(c for c, (k, _) in cols.items() if k == 'cents')})")
        for name in tm.date_format:
            if name in cols and cols[name][0] != "date":
                out.append(f"{file}: {table}.date_format: {name!r} is not a date column")
        for name in set(tm.columns) & set(tm.constants):
            out.append(f"{file}: {table}: {name!r} is in both columns and constants; keep one")
        for name, (kind, nullable) in cols.items():
            covered = name in tm.columns or name in tm.constants
            if name == "period_end" and tm.period_months is not None:
                covered = True
            if not covered and not nullable and name not in derived.get(table, set()) - {"period_end"}:
                out.append(f"{file}: {table}: column {name!r} is required; map it under columns: "
                           f"(a source column) or constants: (a literal)")
        if tm.period_months is not None and table != "quotas":
            out.append(f"{file}: {table}.period_months is only for quotas")
        if table == "deals" and "stage" in tm.recode:
            bad = {v for v in tm.recode["stage"].values() if v not in (*model.DEAL_STAGES, "open")}
            for v in sorted(bad):
                out.append(f"{file}: deals.recode.stage: {v!r} is not allowed{did_you_mean(v, ['won', 'lost', 'open'])}"
                           " (allowed: won, lost, open)")
        if table == "deals" and tm.constants.get("stage") not in (None, *model.DEAL_STAGES):
            out.append(f"{file}: deals.constants.stage: {tm.constants['stage']!r} is not allowed (allowed: won, lost)")
        for name, fmt in tm.date_format.items():
            if fmt == "mixed":
                out.append(f"{file}: {table}.date_format.{name}: 'mixed' would guess each date's format "
                           "(is 03/04/2025 March or April?); declare one format such as '%d/%m/%Y' or 'ISO8601'")
            elif "%" not in fmt and fmt != "ISO8601":
                out.append(f"{file}: {table}.date_format.{name}: {fmt!r} is not a strptime format such as %Y-%m-%d")
            elif fmt != "ISO8601":
                try:
                    sample = datetime.datetime(2001, 2, 3, tzinfo=datetime.timezone.utc).strftime(fmt)
                    datetime.datetime.strptime(sample, fmt)
                except ValueError as exc:
                    out.append(f"{file}: {table}.date_format.{name}: {fmt!r} is not a usable strptime format ({exc})")
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
        path, MappingError, what="source mapping",
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


# ---------------------------------------------------------------------------
# Building tables
# ---------------------------------------------------------------------------
@dataclass
class _Context:
    mapping: SourceMapping
    mapping_file: str
    cache: dict[tuple, pd.DataFrame] = field(default_factory=dict)
    problems: list[DataProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def read(self, src: Source, table: str) -> pd.DataFrame:
        """Raw text frame of ``src`` with ``_source_row`` and ``_source_file``."""
        base = self.mapping.data_path
        if src.inline is not None:
            keys: list[str] = []
            for row in src.inline:
                keys.extend(k for k in row if k not in keys)
            df = pd.DataFrame({k: pd.array([r.get(k, "") for r in src.inline], dtype="str") for k in keys})
            df[_ROW] = pd.array(range(2, len(df) + 2), dtype="int64")
            df[_FILE] = f"{self.mapping_file} ({table} inline rows)"
            return df
        if src.url is not None:
            url = src.url
            m = re.match(r"^(sqlite[^:]*:///)(?!/)(.+)$", url)
            if m and m.group(2) != ":memory:":
                url = m.group(1) + str(base / m.group(2))
            key = ("sql", url, src.query)
            label = f"{src.url} (query)"
        else:
            path = base / src.file
            fmt = src.format or format_of(path)
            key = (str(path), fmt, src.encoding, src.sep, src.sheet, src.skip_rows)
            label = str(path) + (f"[{src.sheet}]" if src.sheet else "")
        if key not in self.cache:
            if key[0] == "sql":
                df = read_source(url=key[1], query=src.query, format="sql")
            else:
                df = read_source(path, format=fmt, encoding=src.encoding, sep=src.sep, sheet=src.sheet,
                                 skip_rows=src.skip_rows)
            df[_FILE] = label
            self.cache[key] = df
        df = self.cache[key].copy()
        if src.skip_footer:
            if src.skip_footer > len(df):
                raise MappingError(f"{label}: skip_footer: {src.skip_footer} but the source has only "
                                   f"{len(df)} non-blank data rows", hint="lower skip_footer:")
            footer = df.iloc[len(df) - src.skip_footer:]
            for _, r in footer.iterrows():
                cells = " | ".join(str(r[c]) for c in df.columns if not str(c).startswith("_source"))
                self.note(f"{label}: footer row {int(r[_ROW])} skipped (skip_footer): {cells}")
            df = df.iloc[:len(df) - src.skip_footer].reset_index(drop=True)
        return df


def _missing(s: pd.Series) -> pd.Series:
    return s.isna() | (s.astype("str").str.strip() == "")


def _apply_na(df: pd.DataFrame, na_values: list[str], columns: list[str]) -> pd.DataFrame:
    na = set(na_values)
    for c in columns:
        s = df[c]
        stripped = s.astype("str").str.strip()
        mask = s.isna() | (stripped == "")  # as _missing, stripping once
        if na:
            mask |= s.isin(na) | stripped.isin(na)
        if mask.any():
            df[c] = s.where(~mask, None)
    return df


def _apply_normalise(df: pd.DataFrame, normalise: dict[str, dict[str, str]]) -> pd.DataFrame:
    for col, repl in normalise.items():
        df[col] = df[col].replace(repl)
    return df


def _require_columns(df: pd.DataFrame, needed: list[str], label: str, where: str) -> None:
    have = [c for c in df.columns if not str(c).startswith("_source")]
    missing = [c for c in dict.fromkeys(needed) if c not in df.columns]
    if missing:
        lines = [f"{label}: no column {c!r}{did_you_mean(c, have)} (needed by {where})" for c in missing]
        raise MappingError("\n".join(lines), hint=f"columns in this source: {', '.join(have)}")


def _template_fields(text: str) -> list[str] | None:
    """Field names of ``"{a}-{b}"``, or None when ``text`` is a plain column name."""
    if "{" not in text:
        return None
    return [f for _, f, _, _ in string.Formatter().parse(text) if f]


def _render(df: pd.DataFrame, text: str) -> pd.Series:
    out = pd.Series([""] * len(df), index=df.index, dtype="str")
    missing = pd.Series(False, index=df.index)
    for literal, fname, _, _ in string.Formatter().parse(text):
        out = out + literal
        if fname:
            col = df[fname]
            missing |= col.isna()
            out = out + col.fillna("").astype("str")
    return out.where(~missing, None)


def _source_columns_needed(tm: TableMapping) -> tuple[list[str], set[str]]:
    """(source columns referenced, columns produced by transforms)."""
    produced: set[str] = set()
    needed: list[str] = []
    needed += list(tm.normalise) + list(tm.filter) + list(tm.drop_rows_where)
    if tm.unpivot:
        needed += tm.unpivot.columns
        produced |= {tm.unpivot.key, tm.unpivot.value}
    if tm.number:
        needed += tm.number.by
        produced.add(tm.number.name)
    for lk in tm.lookups:
        needed += list(lk.keys)
        produced |= set(lk.brought.values())
    for text in tm.columns.values():
        fields = _template_fields(text)
        needed += fields if fields is not None else [text]
    return needed, produced


# Texts that exports use for "no value". They are *never* treated as missing unless
# the mapping declares them in na_values; they only improve messages and warnings.
_PLACEHOLDERS = frozenset({"NULL", "null", "Null", "NA", "N/A", "n/a", "na", "#N/A", "-", "--", "None", "none",
                           "nan", "NaN", "(null)", "(blank)", "?"})
# 1 trillion currency units per cell: anything larger is a typo (and 10x that would no
# longer fit the exact amount, int64 micros: money.py)
_MAX_UNITS = Decimal(10) ** 12
_MAX_MICROS = 2**63 - 1  # one cell's exact amount after scale, in micros
_MIN_DATE, _MAX_DATE = datetime.datetime(1900, 1, 1), datetime.datetime(2199, 12, 31)
_DIGITS = "[0-9]"


def _placeholder_hint(value: Any) -> str:
    t = str(value).strip() if value is not None else ""
    if t in _PLACEHOLDERS:
        return f"; if {t!r} means 'no value' here, declare na_values: [{json.dumps(t)}] in the mapping"
    return ""


def _amount_pattern(spec: Amount) -> re.Pattern:
    d = re.escape(spec.decimal)
    if spec.thousands is None:
        whole = f"{_DIGITS}+"
    else:
        t = "[ \u00a0\u202f]" if spec.thousands == " " else re.escape(spec.thousands)
        whole = f"(?:{_DIGITS}{{1,3}}(?:{t}{_DIGITS}{{3}})+|{_DIGITS}+)"
    return re.compile(f"^(?:{whole}(?:{d}{_DIGITS}*)?|{d}{_DIGITS}+)$")


def _amount_form(spec: Amount) -> str:
    parts = [f"decimal {spec.decimal!r}"]
    if spec.thousands is not None:
        parts.append(f"thousands {spec.thousands!r}")
    if spec.symbols:
        parts.append("symbol " + " or ".join(repr(x) for x in spec.symbols))
    if spec.accounting_negatives:
        parts.append("(negatives) in parentheses")
    return ", ".join(parts)


def _amount_hint(text: str, spec: Amount) -> str:
    hints = []
    if "(" in text and not spec.accounting_negatives:
        hints.append("declare accounting_negatives: true if (...) means a negative amount")
    signs = sorted({ch for ch in text if not (ch.isdigit() or ch in ".,-+() '\u00a0\u202f\u2019")})
    if signs and not any(s in text for s in spec.symbols):
        sym = "".join(signs)
        hints.append(f"declare symbol: {json.dumps(sym, ensure_ascii=False)} if {sym!r} is a currency sign")
    core = text.strip("()+-$€£¥ ")
    if re.fullmatch(r"[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?", core) and (spec.thousands, spec.decimal) != (",", "."):
        hints.append("declare thousands: ',' for amounts like 1,234.50")
    elif re.fullmatch(r"[0-9]{1,3}(\.[0-9]{3})+(,[0-9]*)?|[0-9]+,[0-9]{1,2}", core) and spec.decimal != ",":
        hints.append("declare decimal: ',' (and thousands: '.') for amounts like 1.234,56")
    return ("; " + "; ".join(hints)) if hints else ""


def _read_amount(text: str, spec: Amount, pattern: re.Pattern) -> Decimal | str:
    """Decimal of an amount text, or the reason it is not one."""
    t = text.strip()
    neg = False
    if spec.accounting_negatives and len(t) >= 2 and t[0] == "(" and t[-1] == ")":
        neg, t = True, t[1:-1].strip()
    signed = False
    if t[:1] in ("-", "+"):
        neg, signed, t = (neg != (t[0] == "-")), True, t[1:].strip()
    for sym in sorted(spec.symbols, key=len, reverse=True):
        if t.startswith(sym):
            t = t[len(sym):].strip()
            break
        if t.endswith(sym):
            t = t[: -len(sym)].strip()
            break
    if not signed and t[:1] in ("-", "+"):
        neg, t = (neg != (t[0] == "-")), t[1:].strip()
    if not pattern.match(t):
        return (f"not an amount in the declared form ({_amount_form(spec)}; digits, an optional sign)"
                + _amount_hint(text, spec))
    if spec.thousands is not None:
        for ch in ([spec.thousands, "\u00a0", "\u202f"] if spec.thousands == " " else [spec.thousands]):
            t = t.replace(ch, "")
    if spec.decimal != ".":
        t = t.replace(spec.decimal, ".")
    d = Decimal(t)
    if abs(d) > _MAX_UNITS:
        return f"amount {text.strip()!r} is larger than {_MAX_UNITS:,} (a typo or wrong separators?)"
    if abs(d * spec.scale) * MICROS_PER_UNIT > _MAX_MICROS:
        return (f"amount {text.strip()!r} x scale {spec.scale} is beyond the "
                f"{_MAX_MICROS // MICROS_PER_UNIT:,} currency units reportkit holds exactly (check scale:)")
    return -d if neg else d


def _arrow_text(raw: pd.Series) -> Any:
    """``raw`` as a pyarrow string array (nulls where missing), or None if it holds non-text."""
    import pyarrow as pa

    try:
        if isinstance(raw.dtype, pd.StringDtype):
            return pa.array(raw.array)
        return pa.array(raw.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError):
        return None


def _scale_shift(scale: Decimal) -> int | None:
    """``j`` when ``scale == 10**j`` for ``0 <= j <= 3`` (handled vectorised), else None."""
    for j in range(4):
        if scale == Decimal(10) ** j:
            return j
    return None


def _plain_amounts(raw: pd.Series, spec: Amount) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Vectorised cents and micros of the cells written in the plain form, exactly (never via a float).

    The plain form is an optional sign, digits and an optional decimal part
    (``-1234.56``, ``.5``, ``7.``; the declared decimal separator), with optional
    spaces or tabs around it: a form that :func:`_read_amount` accepts under every
    declaration. Integer part, decimal part and sign are cut from the text with
    one regular expression; the digits up to one place beyond the micro are read
    as one integer (truncated there); its last digit rounds the micro, and its
    digit one place beyond the cent rounds the cent, each half away from zero
    (the digits further right cannot change either). Cells in any other form (thousands
    separators, symbols, parentheses, more digits than int64 can hold, bad text)
    are left to the per-value parser.

    Returns
    -------
    (cents, micros, done) : (numpy.ndarray of int64 x 2, numpy.ndarray of bool), or None
        ``done`` marks the cells converted here; None when ``scale`` is not
        1, 10, 100 or 1000 or the column is not text.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    shift = _scale_shift(spec.scale)
    arr = _arrow_text(raw) if shift is not None else None
    if arr is None or not len(arr):
        return None
    places = shift + 7  # micros, shifted by the scale, plus the rounding digit
    whole_max = min(13, 18 - places)  # the integer read below stays within int64
    d = re.escape(spec.decimal)
    parts = pc.extract_regex(arr, rf"^[ \t]*(?P<sign>[+-]?)(?P<whole>[0-9]{{0,{whole_max}}})"
                                  rf"(?:{d}(?P<frac>[0-9]*))?[ \t]*$")
    whole = pc.fill_null(pc.struct_field(parts, "whole"), "")
    frac = pc.fill_null(pc.struct_field(parts, "frac"), "")
    done = pc.and_(pc.is_valid(parts),
                   pc.greater(pc.add(pc.utf8_length(whole), pc.utf8_length(frac)), 0))
    done = pc.fill_null(done, False)
    digits = pc.binary_join_element_wise(
        whole, pc.utf8_rpad(pc.utf8_slice_codeunits(frac, 0, places), places, "0"), pa.scalar("", whole.type))
    digits = pc.if_else(done, digits, pa.scalar("0", digits.type))
    scaled = pc.cast(digits, pa.int64()).to_numpy(zero_copy_only=False)  # amount x 10**7, truncated
    micros = scaled // 10 + (scaled % 10 >= 5)
    scaled = scaled // MICROS_PER_CENT  # amount x 10**3, truncated: cents and their rounding digit
    cents = scaled // 10 + (scaled % 10 >= 5)
    neg = pc.fill_null(pc.equal(pc.struct_field(parts, "sign"), "-"), False).to_numpy(zero_copy_only=False)
    done_np = done.to_numpy(zero_copy_only=False).astype(bool)
    return np.where(neg, -cents, cents).astype("int64"), np.where(neg, -micros, micros).astype("int64"), done_np


def _parse_amounts(raw: pd.Series, spec: Amount) -> tuple[pd.Series, dict[Any, str]]:
    """(cents int64 with 0 where bad, {index: reason} of unparseable non-missing cells): :func:`_parse_exact`."""
    cents, _, bad = _parse_exact(raw, spec)
    return cents, bad


def _parse_exact(raw: pd.Series, spec: Amount) -> tuple[pd.Series, pd.Series, dict[Any, str]]:
    """(cents int64, micros int64, both 0 where bad; {index: reason} of unparseable non-missing cells).

    Plain amounts are converted vectorised (:func:`_plain_amounts`); every other
    distinct text once by :func:`_read_amount` (text -> Decimal x scale -> cents
    and micros, each half away from zero from the full text). Both are exact: no
    amount passes through a float.
    """
    present = raw.notna().to_numpy()
    values = np.zeros(len(raw), dtype="int64")
    exact = np.zeros(len(raw), dtype="int64")
    fast = _plain_amounts(raw, spec)
    todo = present.copy()
    if fast is not None:
        values, exact, done = fast
        values[~done] = 0
        exact[~done] = 0
        todo &= ~done
    bad: dict[Any, str] = {}
    if todo.any():
        pattern = _amount_pattern(spec)
        positions = np.flatnonzero(todo)
        codes, uniques = pd.factorize(raw.iloc[positions], sort=False)
        results: list[tuple[int, int] | str] = []
        for v in uniques:
            got = _read_amount(str(v), spec, pattern)
            if isinstance(got, Decimal):
                got = (to_cents(got * spec.scale), to_micros(got * spec.scale))
            results.append(got)
        ok = np.array([not isinstance(r, str) for r in results], dtype=bool)
        if ok.any():
            cents_u = np.array([r[0] if not isinstance(r, str) else 0 for r in results], dtype="int64")
            micros_u = np.array([r[1] if not isinstance(r, str) else 0 for r in results], dtype="int64")
            values[positions] = cents_u[codes]
            exact[positions] = micros_u[codes]
        for pos, code in zip(positions[~ok[codes]], codes[~ok[codes]]):
            bad[raw.index[pos]] = results[code]
    return (pd.Series(values, index=raw.index, dtype="int64"), pd.Series(exact, index=raw.index, dtype="int64"),
            bad)


_FLOAT = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")


def _parse_float(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(float64 values, NaN where missing or bad; bool mask of bad non-missing cells), per distinct text."""
    present = raw.notna().to_numpy()
    vals = np.full(len(raw), np.nan, dtype="float64")
    bad = np.zeros(len(raw), dtype=bool)
    positions = np.flatnonzero(present)
    if len(positions):
        codes, uniques = pd.factorize(raw.iloc[positions], sort=False)
        got = []
        for v in uniques:
            t = str(v).strip()
            got.append(float(Decimal(t)) if _FLOAT.match(t) else None)
        ok = np.array([g is not None for g in got], dtype=bool)
        num = np.array([np.nan if g is None else g for g in got], dtype="float64")
        vals[positions] = num[codes]
        bad[positions] = ~ok[codes]
    return pd.Series(vals, index=raw.index, dtype="float64"), pd.Series(bad, index=raw.index, dtype=bool)


def _date_hint(text: str, fmt: str, declared: bool) -> str:
    if re.fullmatch(r"[0-9]{1,2}[/.-][0-9]{1,2}[/.-][0-9]{2,4}", text):
        a, b = (int(x) for x in re.split(r"[/.-]", text)[:2])
        sep = re.search(r"[/.-]", text).group(0)
        yr = "%Y" if len(re.split(r"[/.-]", text)[2]) == 4 else "%y"
        day_first, month_first = f"%d{sep}%m{sep}{yr}", f"%m{sep}%d{sep}{yr}"
        if a <= 12 and b <= 12 and not declared:
            return (f"; {text!r} is ambiguous (day first or month first?): declare date_format: "
                    f"'{day_first}' or '{month_first}' for this column")
        if not declared or fmt not in (day_first, month_first):
            return f"; declare date_format: '{day_first}' or '{month_first}' for this column"
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9:.]+", text) and "%H" not in fmt:
        return "; the value has a time of day: declare date_format: '%Y-%m-%d %H:%M:%S' (or 'ISO8601')"
    return "" if declared else "; declare the column's format under date_format: in the mapping"


# strptime directives read vectorised (fixed width digits) by _dates_vectorised
_FIXED_DIRECTIVES = {"%Y": "[0-9]{4}", "%m": "[0-9]{2}", "%d": "[0-9]{2}", "%H": "[0-9]{2}", "%M": "[0-9]{2}",
                     "%S": "[0-9]{2}"}


def _fixed_width_pattern(fmt: str) -> str | None:
    """A regex of the texts of ``fmt`` in fixed width (``%Y-%m-%d`` -> ``[0-9]{4}-...``), else None.

    Only formats made of ``%Y %m %d %H %M %S`` and literal characters other than
    ``%`` and whitespace qualify; ``ISO8601`` is read as ``%Y-%m-%d`` here.
    """
    if fmt == "ISO8601":
        fmt = "%Y-%m-%d"
    out = []
    for token in re.findall(r"%.|[^%]", fmt):
        if token in _FIXED_DIRECTIVES:
            out.append(_FIXED_DIRECTIVES[token])
        elif token.startswith("%") or token.isspace():
            return None
        else:
            out.append(re.escape(token))
    return "^" + "".join(out) + "$"


def _dates_vectorised(texts: pd.Index, fmt: str) -> np.ndarray:
    """datetime64[ns] of the texts in fixed width form (see :func:`_fixed_width_pattern`), NaT elsewhere.

    A text of fixed width digits parses the same with pandas as with ``strptime``
    (both refuse a 13th month or 30 February); NaT cells are left to ``strptime``,
    which gives the reason.
    """
    out = np.full(len(texts), np.datetime64("NaT"), dtype="datetime64[ns]")
    pattern = _fixed_width_pattern(fmt)
    if pattern is None or not len(texts):
        return out
    s = pd.Series(texts.astype("str"), dtype="str")
    shaped = s.str.fullmatch(pattern).fillna(False).to_numpy(dtype=bool)
    if shaped.any():
        parsed = pd.to_datetime(s[shaped], format="%Y-%m-%d" if fmt == "ISO8601" else fmt, errors="coerce")
        parsed = parsed.dt.normalize()
        inside = (parsed.notna() & (parsed >= _MIN_DATE) & (parsed <= _MAX_DATE)).to_numpy(dtype=bool)
        where = np.flatnonzero(shaped)[inside]  # outside the range: strptime and the range check say why
        out[where] = parsed[inside].to_numpy(dtype="datetime64[ns]")
    return out


def _parse_dates(raw: pd.Series, fmt: str, declared: bool) -> tuple[pd.Series, dict[Any, str]]:
    """(datetime64[ns] at midnight, NaT where missing or bad; {index: reason} of bad cells).

    Each text must match ``fmt`` exactly (``strptime``; ``ISO8601`` reads ISO dates
    and times). A time zone offset is dropped (the local date is kept). Dates
    outside 1900-01-01 .. 2199-12-31 are refused as typos.

    Each distinct text is parsed once: fixed width texts of simple formats
    vectorised (:func:`_dates_vectorised`), the others with ``strptime`` /
    ``fromisoformat``, which also give the reason a text is refused.
    """
    present = raw.notna().to_numpy()
    values = np.full(len(raw), np.datetime64("NaT"), dtype="datetime64[ns]")
    bad: dict[Any, str] = {}
    positions = np.flatnonzero(present)
    if not len(positions):
        return pd.Series(values, index=raw.index), bad
    codes, uniques = pd.factorize(raw.iloc[positions], sort=False)
    parsed = _dates_vectorised(uniques, fmt)
    lo, hi = np.datetime64(_MIN_DATE, "ns"), np.datetime64(_MAX_DATE, "ns")
    reasons: dict[int, str] = {}
    for i in np.flatnonzero(np.isnat(parsed) | (parsed < lo) | (parsed > hi)):
        text = str(uniques[i]).strip()
        try:
            d = (datetime.datetime.fromisoformat(text) if fmt == "ISO8601"
                 else datetime.datetime.strptime(text, fmt))
        except (ValueError, OverflowError, TypeError):
            reasons[i] = f"not a date in format {fmt}" + _date_hint(text, fmt, declared)
            continue
        d = d.replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
        if not _MIN_DATE <= d <= _MAX_DATE:
            reasons[i] = f"date {d.date().isoformat()} is outside 1900-01-01 .. 2199-12-31 (a typo?)"
            parsed[i] = np.datetime64("NaT")
        else:
            parsed[i] = np.datetime64(d, "ns")
    values[positions] = parsed[codes]
    if reasons:
        is_bad = np.zeros(len(uniques), dtype=bool)
        is_bad[list(reasons)] = True
        for pos, code in zip(positions[is_bad[codes]], codes[is_bad[codes]]):
            bad[raw.index[pos]] = reasons[int(code)]
    return pd.Series(values, index=raw.index), bad


_UNIQUE_KEYS = {"account_managers": ["account_manager_id"], "deals": ["deal_id"], "accounts": ["account_id"],
                "pipeline": ["opportunity_id"], "territories": ["account_manager_id", "territory"],
                "service_issues": ["issue_id"],
                "quotas": ["account_manager_id", "period_start"]}


def _where_rows(frame: pd.DataFrame, index: Any) -> str:
    parts: dict[str, list[str]] = {}
    for idx in index:
        parts.setdefault(str(frame.at[idx, _FILE]), []).append(str(int(frame.at[idx, _ROW])))
    return "; ".join(f"{f} row{'s' if len(r) > 1 else ''} {', '.join(r)}" for f, r in parts.items())


def _deduplicate(ctx: _Context, table: str, tm: TableMapping, out: pd.DataFrame,
                 src_cols: dict[str, str]) -> pd.DataFrame:
    """Apply the declared ``deduplicate`` policy; report repeated ids (every row) otherwise."""
    spec = list(model.COLUMNS[table])
    keys = _UNIQUE_KEYS[table]
    policy = tm.dedup_policy
    if policy is not None:
        if policy == "identical":
            gone = out.duplicated(spec, keep="first")
        else:
            gone = out.duplicated(keys, keep="first" if policy == "first" else "last") & out[keys].notna().all(axis=1)
        if gone.any():
            ctx.note(f"{table}: {int(gone.sum())} repeated row(s) dropped (deduplicate: {policy}): "
                     f"{_where_rows(out, out.index[gone][:20])}{' ...' if gone.sum() > 20 else ''}")
            out = out[~gone].reset_index(drop=True)
    if table in ("quotas", "territories"):
        return out  # checked by the schema (territories) / allowed (quotas of several plans)
    key = keys[0]
    dup = _repeated(out[key])
    if dup.any():
        groups = out[dup].groupby(key, sort=False).groups
        fix = ("remove the repeated rows, or declare deduplicate: first | last (keep one row per id) "
               "or deduplicate: identical (drop exact repeats only) for this table")
        for value, idxs in groups.items():
            for idx in idxs:
                others = [i for i in idxs if i != idx]
                ctx.problems.append(_problem(out, idx, src_cols.get(key, key), out.at[idx, key],
                                             f"duplicate {key} {value!r}: also at {_where_rows(out, others)}; "
                                             f"{fix}"))
    return out


def _recode(s: pd.Series, table_map: dict[str, str]) -> tuple[pd.Series, np.ndarray]:
    """(``s`` translated by ``table_map``, missing where unknown or missing; bool mask of known cells).

    Exact text comparison, vectorised (a hash lookup of each distinct text).
    """
    codes, uniques = pd.factorize(s, sort=False)
    got = [table_map.get(u) if isinstance(u, str) else None for u in uniques]
    known_u = np.array([g is not None for g in got] + [False], dtype=bool)  # code -1 (missing): not known
    values = pd.array(got + [None], dtype="str")
    recoded = pd.Series(values.take(codes if len(codes) else np.array([], dtype=np.intp)), index=s.index)
    return recoded, known_u[codes]


def _repeated(s: pd.Series) -> np.ndarray:
    """Bool mask of the non-missing cells whose value occurs more than once (``duplicated(keep=False)``)."""
    codes, _ = pd.factorize(s, sort=False)
    present = codes >= 0
    if not present.any():
        return present
    counts = np.bincount(codes[present])
    return present & (counts[np.where(present, codes, 0)] > 1)


def _currency_problems(ctx: _Context, table: str, out: pd.DataFrame, src_cols: dict[str, str]) -> None:
    want = ctx.mapping.currency
    cur = out["currency"]
    bad = cur.notna() & (cur.astype("str") != want)
    if not bad.any():
        return
    counts = cur[cur.notna()].astype("str").value_counts()
    others = sorted(set(cur[bad].astype("str")))
    summary = ", ".join(f"{c}: {int(counts[c])} row(s)" for c in [want, *others] if c in counts)
    column = src_cols.get("currency", "currency")
    for idx in out.index[bad]:
        ctx.problems.append(_problem(
            out, idx, column, out.at[idx, "currency"],
            f"amount in {out.at[idx, 'currency']} but the dataset currency is {want} and reportkit has no "
            f"exchange rates ({table} holds {summary}); filter these rows out (filter: / drop_rows_where:) "
            f"or convert the amounts to {want} before loading"))


def _problem(df: pd.DataFrame, idx: Any, column: str | None, value: Any, reason: str) -> DataProblem:
    return DataProblem(str(df.at[idx, _FILE]), int(df.at[idx, _ROW]), column, value, reason)


def _prepare(ctx: _Context, table: str, tm: TableMapping) -> pd.DataFrame:
    """Steps 1-7: read, placeholders, normalise, filter, unpivot, number, lookups."""
    needed, produced = _source_columns_needed(tm)
    frames = []
    for src in tm.sources:
        df = ctx.read(src, table)
        label = str(df[_FILE].iloc[0]) if len(df) else (src.file or "source")
        _require_columns(df, [c for c in needed if c not in produced], label, f"{table} in the mapping")
        frames.append(df)
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    data_cols = [c for c in df.columns if not str(c).startswith("_source")]
    df = df.astype({c: "str" for c in data_cols})
    if tm.drop_rows_where:
        drop = pd.Series(False, index=df.index)
        for col, values in tm.drop_rows_where.items():
            drop |= df[col].astype("str").str.strip().isin([v.strip() for v in values])
        for idx in df.index[drop]:
            ctx.note(f"{df.at[idx, _FILE]}: row {int(df.at[idx, _ROW])} dropped ({table}.drop_rows_where)")
        df = df[~drop].reset_index(drop=True)
    df = _apply_na(df, tm.na_values, data_cols)
    df = _apply_normalise(df, tm.normalise)
    for col, values in tm.filter.items():
        df = df[df[col].isin(values)]
    df = df.reset_index(drop=True)
    if tm.unpivot:
        up = tm.unpivot
        ids = [c for c in df.columns if c not in up.columns]
        long = df.melt(id_vars=ids, value_vars=up.columns, var_name=_UNPIVOT_COL, value_name=up.value)
        long["_order"] = long[_UNPIVOT_COL].map({c: i for i, c in enumerate(up.columns)})
        long = long[long[up.value].notna()].sort_values([_ROW, _FILE, "_order"], kind="stable")
        key = long[_UNPIVOT_COL].astype("str")
        if up.key_pattern:
            key = key.str.extract(up.key_pattern, expand=False)
        long[up.key] = key.astype("str")
        df = long.drop(columns="_order").reset_index(drop=True)
    if tm.number:
        df[tm.number.name] = (df.groupby(tm.number.by, sort=False, dropna=False).cumcount() + 1).astype("str")
    for lk in tm.lookups:
        df = _apply_lookup(ctx, table, df, lk)
    return df


def _apply_lookup(ctx: _Context, table: str, df: pd.DataFrame, lk: Lookup) -> pd.DataFrame:
    right = ctx.read(lk.source, f"{table} lookup")
    label = str(right[_FILE].iloc[0]) if len(right) else "lookup"
    keys = lk.keys
    brought = lk.brought
    _require_columns(right, list(keys.values()) + list(brought) + list(lk.normalise), label, f"a lookup of {table}")
    rcols = [c for c in right.columns if not str(c).startswith("_source")]
    right = _apply_na(right.astype({c: "str" for c in rcols}), lk.na_values, rcols)
    right = _apply_normalise(right, lk.normalise)
    dup = right.duplicated(list(keys.values()), keep=False) & right[list(keys.values())].notna().all(axis=1)
    if dup.any():
        first = right[dup].iloc[0]
        raise MappingError(
            f"{label}: lookup key {', '.join(keys.values())} is not unique "
            f"(e.g. {', '.join(str(first[c]) for c in keys.values())} at rows "
            f"{', '.join(str(r) for r in right.loc[dup, _ROW].head(4))})",
            hint="a lookup must translate each key to one value; deduplicate the lookup source or choose another key",
        )
    clash = [new for new in brought.values() if new in df.columns]
    if clash:
        raise MappingError(f"lookup of {table} from {label}: column(s) {', '.join(clash)} already exist",
                           hint="rename them with columns: {lookup column: new name}")
    sub = right[list(keys.values()) + list(brought)].rename(columns={**{v: f"_lk_{k}" for k, v in keys.items()}, **brought})
    left_keys = list(keys)
    merged = df.merge(sub, how="left", left_on=left_keys, right_on=[f"_lk_{k}" for k in left_keys],
                      indicator="_lk_found", sort=False)
    if len(merged) != len(df):  # cannot happen with a unique right key; guard anyway
        raise MappingError(f"lookup of {table} from {label} changed the row count")
    if lk.required:
        has_key = merged[left_keys].notna().all(axis=1)
        miss = has_key & (merged["_lk_found"] == "left_only")
        known = right[list(keys.values())[0]].dropna().astype(str).unique().tolist()
        for idx in merged.index[miss]:
            k0 = left_keys[0]
            val = merged.at[idx, k0]
            ctx.problems.append(_problem(
                merged, idx, k0, val,
                f"no match in lookup {label} column {keys[k0]!r}{did_you_mean(str(val), known)}",
            ))
        if miss.any():
            merged = merged[~miss]
    drop = [f"_lk_{k}" for k in left_keys] + ["_lk_found"]
    return merged.drop(columns=drop).reset_index(drop=True)


def load_table(ctx: _Context, table: str, tm: TableMapping) -> tuple[pd.DataFrame, dict[str, str]]:
    """Build one canonical table (with provenance columns) from its mapping.

    Parse problems are appended to ``ctx.problems`` (the bad cell is left missing
    or 0 so that validation can go on and report everything at once).

    Returns
    -------
    (frame, source_columns)
        ``frame`` has the canonical columns of ``table`` plus ``_source_file``,
        ``_source_row`` and, for unpivoted values, ``_source_column:<canonical>``.
        ``source_columns`` maps canonical -> source column name (or template).
    """
    df = _prepare(ctx, table, tm)
    spec = model.COLUMNS[table]
    out = pd.DataFrame(index=df.index)
    src_cols: dict[str, str] = {}
    for name in spec:
        if name in tm.columns:
            text = tm.columns[name]
            fields = _template_fields(text)
            out[name] = _render(df, text) if fields is not None else df[text]
            src_cols[name] = text
            if tm.unpivot and ((fields is None and text == tm.unpivot.value)
                               or (fields and tm.unpivot.value in fields)):
                out[f"{model.SOURCE_COLUMN_PREFIX}{name}"] = df[_UNPIVOT_COL]
        elif name in tm.constants:
            out[name] = pd.Series(tm.constants[name], index=df.index, dtype="str")
        elif name == "currency":
            out[name] = pd.Series(ctx.mapping.currency, index=df.index, dtype="str")
        else:
            out[name] = pd.Series(None, index=df.index, dtype="str")
    out[_FILE] = df[_FILE]
    out[_ROW] = df[_ROW]

    # recode (before parsing; a deals stage recoded to 'open' leaves the table)
    for name, table_map in tm.recode.items():
        s = out[name]
        recoded, known = _recode(s, table_map)
        unknown = s.notna().to_numpy() & ~known
        for idx in out.index[unknown]:
            ctx.problems.append(_problem(out, idx, src_cols.get(name, name), s.at[idx],
                                         f"not a known value for {name} (allowed: {', '.join(table_map)})"
                                         f"{did_you_mean(str(s.at[idx]), table_map)}"))
        out[name] = recoded  # unknown and missing values become missing
        if unknown.any():
            out = out[~unknown]
    if table == "deals":
        out = out[out["stage"].isna() | (out["stage"] != "open")]
    if table in ("deals", "pipeline"):
        blank = _missing(out["account_id"])
        out.loc[blank, "account_id"] = model.UNASSIGNED_ACCOUNT
    out = out.reset_index(drop=True)

    # parse by kind (the source text is kept for messages about the parsed value)
    for name, (kind, _) in spec.items():
        if kind != "str" and name in out.columns:
            out[f"{model.SOURCE_VALUE_PREFIX}{name}"] = out[name].copy()
    for name, (kind, nullable) in spec.items():
        column_label = src_cols.get(name, name)
        per_row = f"{model.SOURCE_COLUMN_PREFIX}{name}"

        def where(idx: Any) -> str:
            return str(out.at[idx, per_row]) if per_row in out.columns else column_label

        if kind == "str":
            # missing stays missing: pandas < 3 turns NaN / None into the text 'nan' / 'None'
            s = out[name].astype("str").where(out[name].notna())
            stripped = s.str.strip()
            blank = (s.isna() | (stripped == "")).to_numpy(dtype=bool)  # _missing, stripping once
            out[name] = s.where(~blank, None) if blank.any() else s
            looks = stripped[~blank & stripped.isin(list(_PLACEHOLDERS)).to_numpy(dtype=bool)]
            if len(looks) and name in tm.columns:
                rows = ", ".join(str(r) for r in out.loc[looks.index, _ROW].head(5))
                more = " ..." if len(looks) > 5 else ""
                shown = ", ".join(sorted({repr(v) for v in looks}))
                ctx.note(f"{table}.{name} (source column {column_label!r}): {len(looks)} cell(s) hold {shown} "
                         f"(rows {rows}{more}); kept as text because the mapping does not declare them "
                         f"missing (add them to na_values: if they mean 'no value')")
        elif kind == "date":
            if name == "period_end" and name not in tm.columns and tm.period_months is not None:
                continue
            fmt = tm.date_format.get(name, DEFAULT_DATE_FORMAT)
            parsed, reasons = _parse_dates(out[name], fmt, name in tm.date_format)
            for idx, reason in reasons.items():
                ctx.problems.append(_problem(out, idx, where(idx), out.at[idx, name],
                                             reason + _placeholder_hint(out.at[idx, name])))
            out[name] = parsed
        elif kind == "cents":
            if name not in tm.columns and name not in tm.constants:
                continue
            spec_amount = tm.amounts.get(name, Amount())
            cents, micros, reasons = _parse_exact(out[name], spec_amount)
            for idx, reason in reasons.items():
                ctx.problems.append(_problem(out, idx, where(idx), out.at[idx, name],
                                             reason + _placeholder_hint(out.at[idx, name])))
            absent = out[name].isna()
            for idx in out.index[absent]:
                ctx.problems.append(_problem(out, idx, where(idx), None, f"{name} is required (blank or missing)"))
            out[name] = cents
            if table == "deals" and name == "amount_cents":  # the exact amount, for revenue sums
                out[model.AMOUNT_MICROS] = micros
        elif kind == "float":
            vals, bad = _parse_float(out[name])
            for idx in out.index[bad]:
                ctx.problems.append(_problem(out, idx, where(idx), out.at[idx, name],
                                             "not a number (digits with an optional sign and decimal point, "
                                             "e.g. 0.25)" + _placeholder_hint(out.at[idx, name])))
            out[name] = vals
    if table == "quotas" and "period_end" not in tm.columns and tm.period_months is not None:
        out["period_end"] = (out["period_start"] + pd.DateOffset(months=tm.period_months)
                             - pd.Timedelta(days=1)).astype("datetime64[ns]")
    out = _deduplicate(ctx, table, tm, out, src_cols)
    if table in ("quotas", "deals"):
        _currency_problems(ctx, table, out, src_cols)
    ordered = list(spec) + [c for c in out.columns if c not in spec]
    return out[ordered].reset_index(drop=True), src_cols


def load_dataset(mapping_path: str | Path, *, uncredited: Callable[[model.Dataset], np.ndarray] | None = None) -> model.Dataset:
    """Load and validate every table a source mapping declares.

    Parameters
    ----------
    mapping_path : str or Path
        The source mapping YAML (``params/sources/*.yaml``).
    uncredited : callable, optional
        The crediting rule's answer to "which won deals would credit nobody for
        want of an owner" (positions in ``deals``): the loaders above the data
        layer pass :func:`reportkit.domain.crediting.ownerless_uncredited`
        (:func:`reportkit.domain.loading.load_source`, ``rk.load_dataset``), so
        such deals are refused here with their file and row. The rule stays in
        the domain; this layer only names the rows.

    Returns
    -------
    Dataset
        Validated canonical tables (money in int64 cents, ids as ``str``, dates
        ``datetime64[ns]``), fresh RangeIndex, no provenance columns. ``quotas``
        is an empty canonical frame when the mapping has none; omitted optional
        tables are ``None``. ``sources`` maps table -> file(s) it came from.

    Raises
    ------
    MappingError
        The mapping is invalid, or a file / sheet / column it names does not exist.
    DataError
        Bad cells (unparseable dates or amounts, unknown stage values, unmatched
        lookups, duplicate ids, negative quotas, unknown account managers, mixed
        currencies ...): *all* of them, each with file, row, column and value.
    """
    mapping_path = Path(mapping_path)
    m = load_mapping(mapping_path)
    ctx = _Context(m, str(mapping_path))
    tables: dict[str, pd.DataFrame | None] = {}
    src_cols: dict[str, dict[str, str]] = {}
    sources: dict[str, str] = {}
    for table in model.TABLES:
        tm = m.table(table)
        if tm is None:
            tables[table] = model.empty_table(table) if table == "quotas" else None
            continue
        frame, cols = load_table(ctx, table, tm)
        tables[table] = frame
        src_cols[table] = cols
        sources[table] = ", ".join(frame[model.SOURCE_FILE].astype(str).unique()) if len(frame) else ""
    ds = model.Dataset(
        **tables,
        currency=m.currency,
        calendar=FiscalCalendar(first_month=m.calendar.first_month),
        crediting=m.crediting,
        sources=sources,
    )
    ctx.problems.extend(_unknown_manager_summary(ds, src_cols))
    parse_problems = list(ctx.problems)
    try:
        return_ds = model.validate_dataset(ds, source_columns=src_cols)
    except DataError as exc:
        seen = {(p.file, p.row, p.column) for p in parse_problems}
        merged = parse_problems + [p for p in exc.problems if (p.file, p.row, p.column) not in seen]
        raise _data_error(merged, mapping_path) from None
    if parse_problems:
        raise _data_error(parse_problems, mapping_path)
    uncredited = [] if uncredited is None else _uncredited_deal_problems(ds, return_ds, src_cols, uncredited)
    if uncredited:
        raise _data_error(uncredited, mapping_path)
    notes = list(ctx.notes) + _outside_quota_periods(return_ds)
    return replace(return_ds, warnings=tuple(notes))


def _uncredited_deal_problems(raw: model.Dataset, ds: model.Dataset, src_cols: dict[str, dict[str, str]],
                              rule: Callable[[model.Dataset], np.ndarray]) -> list[DataProblem]:
    """One problem per won deal that would credit nobody for want of an owner.

    The rule is the engine's (``rule``, :func:`reportkit.domain.crediting.ownerless_uncredited`: no
    owner and, with ``crediting: territory``, a blank territory or one no account
    manager covers; deals closed before their account's handover date are
    business development and not listed). Run on the validated ``ds``; ``raw`` is
    the same tables in the same order with provenance, for file and row.
    """
    if ds.crediting != "territory":
        return []  # owner crediting refuses every blank owner in model.validate_dataset
    rows = rule(ds)
    if not len(rows):
        return []
    cols = src_cols.get("deals", {})
    owner_col, terr_col = cols.get("account_manager_id", "account_manager_id"), cols.get("territory", "territory")
    terr_file = raw.sources.get("territories") or "territories"
    out = []
    for i in rows:
        deal = ds.deals.iloc[i]
        territory = None if pd.isna(deal["territory"]) else str(deal["territory"])
        head = (f"won deal {deal['deal_id']!r} ({Decimal(int(deal['amount_cents'])).scaleb(-2):,} {ds.currency}) has no owner "
                f"(column {owner_col!r} is blank) and ")
        if territory is None:
            why = (f"no territory (column {terr_col!r} is blank), so it credits nobody and would be left out "
                   "of every report and total; give the deal an owner or a territory that a territories row "
                   f"({terr_file}) covers")
        else:
            why = (f"no account manager covers its territory {territory!r} in {terr_file}, so it credits nobody "
                   "and would be left out of every report and total; give the deal an owner or add a "
                   f"territories row covering territory {territory!r}")
        out.append(_problem(raw.deals, raw.deals.index[i], terr_col, territory, head + why))
    return out


def _unknown_manager_summary(ds: model.Dataset, src_cols: dict[str, dict[str, str]]) -> list[DataProblem]:
    """One problem per row naming an account manager missing from the roster.

    Each reason also names every unknown id of that table, so the first lines of
    the error already tell the whole story (supersedes the model's per-row problem).
    """
    out = []
    known = set(ds.account_managers["account_manager_id"].dropna().astype(str))
    roster = ds.sources.get("account_managers") or "account_managers"
    for table, col in (("deals", "account_manager_id"), ("quotas", "account_manager_id"),
                       ("pipeline", "account_manager_id"), ("accounts", "owner_id")):
        frame = ds.table(table)
        if frame is None or not len(frame) or col not in frame.columns:
            continue
        ids = frame[col]
        bad = ids.notna() & ~ids.astype(str).isin(known)
        if not bad.any():
            continue
        unknown = sorted(set(ids[bad].astype(str)))
        shown = ", ".join(repr(u) for u in unknown[:10]) + (" ..." if len(unknown) > 10 else "")
        column = src_cols.get(table, {}).get(col, col)
        for idx in frame.index[bad]:
            value = str(frame.at[idx, col])
            out.append(_problem(
                frame, idx, column, value,
                f"account manager {value!r} is not in the roster ({roster}){did_you_mean(value, known)}; "
                f"{int(bad.sum())} {table} row(s) name unknown ids: {shown}; add them to the roster or "
                f"correct the ids (ids are text: '00731' is not '731')"))
    return out


def _outside_quota_periods(ds: model.Dataset) -> list[str]:
    """Warn about deals dated outside every quota period (they load; attainment is n/a there)."""
    q, d = ds.quotas, ds.deals
    if q is None or not len(q) or not len(d):
        return []
    spans = q[["period_start", "period_end"]].drop_duplicates().sort_values("period_start")
    dates = d["close_date"]
    inside = pd.Series(False, index=d.index)
    for start, end in spans.itertuples(index=False):
        inside |= (dates >= start) & (dates <= end)
    n = int((~inside).sum())
    if not n:
        return []
    lo, hi = spans["period_start"].min(), spans["period_end"].max()
    ids = ", ".join(d.loc[~inside, "deal_id"].astype(str).head(5)) + (" ..." if n > 5 else "")
    return [f"deals: {n} of {len(d)} deal(s) close outside every quota period "
            f"(quotas cover {lo:%Y-%m-%d} .. {hi:%Y-%m-%d} with gaps where no period is defined): {ids}; "
            f"they are loaded and count in their own periods, where attainment is n/a (no quota)"]


def _data_error(problems: list[DataProblem], mapping_path: Path) -> DataError:
    problems = sorted(problems, key=lambda p: (p.file, p.row if p.row is not None else 0, p.column or ""))
    files = ", ".join(dict.fromkeys(p.file for p in problems))
    return DataError(
        f"{len(problems)} data problem(s) loading {mapping_path} (in {files})",
        problems,
        hint="fix the listed cells in the source files, or declare placeholders / formats in the mapping",
    )
