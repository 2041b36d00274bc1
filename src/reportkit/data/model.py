"""Canonical tables and the :class:`Dataset` that holds them.

Column names, dtypes and units are documented in ``docs/architecture.md`` and the
README ("Data model"). The pandera schemas here are the single definition of what
a valid canonical table is; :mod:`reportkit.data.mapping` produces frames that pass them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..core.currency import cents_text
from ..core.errors import DataError, DataProblem
from ..core.money import MICROS_PER_CENT, check_exact_range, micros_to_cents
from ..core.periods import FiscalCalendar
from ..core.words import counted
from .sources import blank_cells

__all__ = [
    "Dataset",
    "TABLES",
    "REQUIRED_TABLES",
    "OPTIONAL_TABLES",
    "COLUMNS",
    "UNASSIGNED_ACCOUNT",
    "DEAL_STAGES",
    "SOURCE_FILE",
    "SOURCE_ROW",
    "schema",
    "table_problems",
    "validate_dataset",
    "strip_provenance",
    "empty_table",
    "AMOUNT_MICROS",
    "deal_micros",
    "DEAL_TYPE",
    "OPTIONAL_COLUMNS",
    "MEASURE_COLUMNS",
    "table_columns",
    "FORECAST_CATEGORY",
    "FORECAST_CATEGORIES",
    "OPEN_FORECAST_CATEGORIES",
    "LOAD_CHANGE_KINDS",
    "load_change_counts",
    "load_change_notes",
]

UNASSIGNED_ACCOUNT = "(unassigned)"

# table -> ordered {column: (kind, nullable)}; kind is one of str, date, cents, float,
# micros (an exact decimal in millionths, int64: a measure's value)
COLUMNS: dict[str, dict[str, tuple[str, bool]]] = {
    "account_managers": {
        "account_manager_id": ("str", False),
        "name": ("str", False),
        "team": ("str", False),
        "sales_manager": ("str", False),
        "region": ("str", True),
        "hire_date": ("date", True),
        "end_date": ("date", True),
    },
    "quotas": {
        "account_manager_id": ("str", False),
        "period_start": ("date", False),
        "period_end": ("date", False),
        "quota_cents": ("cents", False),
        "currency": ("str", False),
    },
    "deals": {
        "deal_id": ("str", False),
        "account_manager_id": ("str", True),
        "account_id": ("str", False),
        "close_date": ("date", False),
        "amount_cents": ("cents", False),
        "currency": ("str", False),
        "stage": ("str", False),
        "territory": ("str", True),
        "product": ("str", True),
    },
    "accounts": {
        "account_id": ("str", False),
        "name": ("str", False),
        "segment": ("str", True),
        "owner_id": ("str", True),
        "handover_date": ("date", True),
    },
    "pipeline": {
        "opportunity_id": ("str", False),
        "account_manager_id": ("str", False),
        "account_id": ("str", False),
        "stage": ("str", False),
        "probability": ("float", False),
        "expected_close_date": ("date", True),
        "amount_cents": ("cents", False),
    },
    "territories": {
        "account_manager_id": ("str", False),
        "territory": ("str", False),
    },
    "service_issues": {
        "issue_id": ("str", False),
        "account_id": ("str", False),
        "opened": ("date", False),
        "resolved": ("date", True),
        "severity": ("str", False),
    },
    # fx group (issue #13 item 10): the dated FX rate table; units of the reporting
    # currency per unit of ``currency``, kept as exact text (data/fx.py reads it)
    "fx_rates": {
        "currency": ("str", False),
        "rate_date": ("date", False),
        "rate": ("str", False),
    },
    # measures group (issue #13 items 13, 14): a measure other than revenue per AM and pay period
    "measures": {
        "account_manager_id": ("str", False),
        "period_start": ("date", False),
        "period_end": ("date", False),
        "measure": ("str", False),
        "value_micros": ("micros", False),
    },
    # splits group (issue #13 item 7): who shares a deal, and how much (rules: data/splits.py)
    "splits": {
        "deal_id": ("str", False),
        "account_manager_id": ("str", False),
        "share": ("str", False),  # text read exactly: a fraction 0..1 (at most 6 decimals) or "equal"
        "kind": ("str", False),  # revenue | overlay (the mapping's default: revenue)
    },
}
#: Optional exact column of ``deals`` (and of the frames derived from it): the source
#: amount in millionths of the currency unit, int64, filled by the mapping at load.
#: ``amount_cents`` is the same amount rounded to the cent per line. See
#: :mod:`reportkit.core.money` ("Exact source amounts") and :func:`deal_micros`.
AMOUNT_MICROS = "amount_micros"

#: Optional column of ``deals`` (dealtype group, issue #13 item 15): the deal's type
#: (``renewal``, ``new_logo``, ...), text, nullable; mapped like any other column
#: (``columns: {deal_type: Type}``, ``recode`` for the source's own words) and read by
#: the crediting core when a plan gives crediting factors by deal type
#: (:class:`reportkit.config.plans.DealTypeFactors`). Absent, a data set has no types.
DEAL_TYPE = "deal_type"

#: Optional money columns of ``deals`` a plan's weighted measure may sum (measures2 group,
#: issue #13 item 13: ``measures: [{source: column, column: margin_cents}]``):
#: ``margin_cents``, the deal's gross margin (revenue minus cost of goods sold) in exact
#: whole cents, int64, negative allowed; mapped and parsed like ``amount_cents``
#: (``columns: {margin_cents: Margin}``, ``amounts:`` for its form), required on every
#: row once mapped (a lost deal's margin may be 0). Read by
#: :mod:`reportkit.domain.engine.measures` over the credit lines.
MARGIN = "margin_cents"
MEASURE_COLUMNS = (MARGIN,)

#: Columns a table may have beyond :data:`COLUMNS`: validated when present, never
#: required (table -> {column: (kind, nullable)}, as in :data:`COLUMNS`).
OPTIONAL_COLUMNS: dict[str, dict[str, tuple[str, bool]]] = {
    "deals": {DEAL_TYPE: ("str", True), MARGIN: ("cents", False)},
    "account_managers": {"email": ("str", True)},  # reportkit deliver's address of each account manager (docs/delivery.md)
}


def table_columns(table: str) -> dict[str, tuple[str, bool]]:
    """:data:`COLUMNS` of ``table`` then its :data:`OPTIONAL_COLUMNS`: every column a mapping may fill."""
    return {**COLUMNS[table], **OPTIONAL_COLUMNS.get(table, {})}


# -- forecast categories (issue #13 item 11, group "categories") --
#: Optional column of ``pipeline``: each open opportunity's forecast category (text,
#: one of :data:`OPEN_FORECAST_CATEGORIES`), filled by the source mapping from its
#: ``pipeline.forecast_categories`` stage table or a mapped ``forecast_category``
#: column (a rep's override). Absent: no categories are declared and no report shows them.
FORECAST_CATEGORY = "forecast_category"
#: Salesforce's forecast categories, from the earliest stage to won
#: (help.salesforce.com, "Forecast Categories"; ``docs/forecasting.md``).
FORECAST_CATEGORIES = ("pipeline", "best_case", "most_likely", "commit", "closed", "omitted")
#: The categories an *open* opportunity may be in: Closed is the won deals (``deals``).
OPEN_FORECAST_CATEGORIES = ("pipeline", "best_case", "most_likely", "commit", "omitted")

REQUIRED_TABLES = ("account_managers", "quotas", "deals")
OPTIONAL_TABLES = ("accounts", "pipeline", "territories", "service_issues", "fx_rates", "measures", "splits")
TABLES = REQUIRED_TABLES + OPTIONAL_TABLES


@dataclass(frozen=True)
class Dataset:
    """All canonical tables of one source, validated.

    Attributes
    ----------
    account_managers, quotas, deals : pandas.DataFrame
        Required tables; columns per :data:`COLUMNS`.
    accounts, pipeline, territories, service_issues : pandas.DataFrame or None
        Optional tables. A report without them still renders. ``service_issues``
        (one row per support issue: ``opened``, ``resolved`` empty while open,
        ``severity``) feeds the account status: an open escalation makes an
        account *at risk* (see :mod:`reportkit.domain.accounts`).
    fx_rates : pandas.DataFrame or None
        The dated FX rate table the deals were converted with (``currency,
        rate_date, rate``; :mod:`reportkit.data.fx`), kept for provenance.
    measures : pandas.DataFrame or None
        Optional (measures group, issue #13 items 13 and 14): one value per account
        manager, pay period and measure (``new_logos``, ``csat``, ``margin``...), exact
        in millionths (``value_micros``, int64: 0.92 -> 920000), read by plans with
        ``measures`` or ``multipliers`` (:mod:`reportkit.domain.engine.measures`).
    currency : str
        ISO 4217 code of every amount: the reporting currency. Deals in other
        currencies are converted to it at load when the mapping declares an
        ``fx_rates`` table (each deal keeps its ``original_currency``,
        ``original_amount_micros`` and ``fx_rate``); without one, mixed currencies
        are refused at load.
    calendar : FiscalCalendar
    crediting : {"owner", "territory"}
        ``owner``: a deal credits its ``account_manager_id``. ``territory``: a deal
        credits every AM assigned to its ``territory`` (an overlay: the same deal
        can credit several people, so team totals count each deal once).
    sources : dict
        table name -> where it was read from (for messages and provenance).
    splits : pandas.DataFrame or None
        Optional deal splits (``deal_id, account_manager_id, share, kind``; see
        :func:`reportkit.data.splits.check_splits`): a deal's revenue splits replace its owner's credit
        for every report and the plan engine alike (``docs/commission.md``,
        "Plan shapes: splits"). Kept after ``warnings`` so positional
        construction is unchanged.
    warnings : tuple of str
        What loading did that a reader of the report should know but that is
        not an error: footer rows skipped, rows dropped by ``drop_rows_where`` or
        ``deduplicate``, placeholder-looking text (``NULL``) kept as text because
        the mapping does not declare it missing, and how many deals close outside
        every quota period. Empty for a clean load. See ``docs/mapping.md``.
    load_changes : tuple of (str, str, int)
        The same changes counted, ``(table, kind, count)`` with ``kind`` one of
        :data:`LOAD_CHANGE_KINDS` (footer rows skipped, rows dropped, repeated
        rows merged, placeholder cells kept as text, amounts rounded to the
        cent): what ``manifest.json``, ``index.html`` and the reports' notes
        count (:func:`load_change_counts`, :func:`load_change_notes`). Empty for a
        clean load or a dataset built in code.
    """

    account_managers: pd.DataFrame
    quotas: pd.DataFrame
    deals: pd.DataFrame
    accounts: pd.DataFrame | None = None
    pipeline: pd.DataFrame | None = None
    territories: pd.DataFrame | None = None
    service_issues: pd.DataFrame | None = None
    fx_rates: pd.DataFrame | None = None
    measures: pd.DataFrame | None = None  # measures group (issue #13 items 13, 14)
    currency: str = "USD"
    calendar: FiscalCalendar = field(default_factory=FiscalCalendar)
    crediting: Literal["owner", "territory"] = "owner"
    sources: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    splits: pd.DataFrame | None = None  # splits group (issue #13 item 7)
    load_changes: tuple[tuple[str, str, int], ...] = ()  # (table, kind, count): what loading changed, counted

    def table(self, name: str) -> pd.DataFrame | None:
        return getattr(self, name)


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------
#
# Frames produced by :mod:`reportkit.data.mapping` carry two provenance columns until
# validation: the source file and the source row number (header = row 1, first
# data row = 2). :func:`validate_dataset` turns every failing cell into a
# :class:`~reportkit.core.errors.DataProblem` naming that file, row and the *source*
# column, then drops the provenance columns.

SOURCE_FILE = "_source_file"
SOURCE_ROW = "_source_row"
SOURCE_COLUMN_PREFIX = "_source_column:"  # optional per-row source column (unpivoted values)
SOURCE_VALUE_PREFIX = "_source_value:"  # optional source text of a parsed column (for messages)
PROVENANCE_PREFIX = "_source_"

_BLANK_TEXT = "blank text"  # the error of the rule that a text cell is not blank (_value_rules)
_DTYPES = {"str": "str", "date": "datetime64[ns]", "cents": "int64", "float": "float64", "micros": "int64"}
DEAL_STAGES = ("won", "lost")


def _pa():
    import pandera.pandas as pa  # imported lazily: pandera is slow to import

    return pa


_UNIQUE_ID = {
    "account_managers": "account_manager_id",
    "deals": "deal_id",
    "accounts": "account_id",
    "pipeline": "opportunity_id",
    "service_issues": "issue_id",
}
"""The column whose every value must be unique, per table."""

_UNIQUE_ROWS = {
    "territories": ["account_manager_id", "territory"],
    "measures": ["account_manager_id", "period_start", "period_end", "measure"],
}
"""The columns that together must be unique, per table (two rows of one currency and day of
``fx_rates`` are checked by data/fx.py: the same rate twice is kept)."""


_SWAP = "swap the two dates if they are reversed, or correct the one that is wrong"
_DATE_ORDER: dict[str, tuple[str, str, str]] = {
    "account_managers": ("hire_date", "end_date", "a leaver's end_date is on or after the hire_date: correct either date"),
    "quotas": ("period_start", "period_end", f"a quota row covers period_start to period_end, both days included: {_SWAP}"),
    "measures": ("period_start", "period_end", f"a measures row is one pay period, period_start to period_end: {_SWAP}"),
    "service_issues": ("opened", "resolved", "an issue is resolved on or after the day it was opened: correct either date"),
}
"""The date pairs of a row that must be in order, per table: (earlier, later, the fix). The
later date may equal the earlier one (a one-day period); a missing date breaks no order."""


def _date_order_problems(table: str, frame: pd.DataFrame, source_columns: Mapping[str, str] | None) -> list[DataProblem]:
    """Rows of ``frame`` whose :data:`_DATE_ORDER` pair is reversed, each naming its file, row, both
    source columns and dates, and the fix: the rule's one home, which :func:`table_problems` runs
    on every table, pandera asked or not (a date column of another dtype is a dtype problem)."""
    first, last, fix = _DATE_ORDER.get(table, ("", "", ""))
    if not fix or any(c not in frame.columns or str(frame[c].dtype) != "datetime64[ns]" for c in (first, last)):
        return []
    out: list[DataProblem] = []
    for idx in frame.index[(frame[last] < frame[first]).to_numpy(dtype=bool)]:  # NaT compares False
        file, row, src_last = _locate(frame, idx, last, table, source_columns)
        raw = f"{SOURCE_VALUE_PREFIX}{last}"
        value = frame.at[idx, raw] if raw in frame.columns else f"{frame.at[idx, last]:%Y-%m-%d}"
        when = f"{last} {frame.at[idx, last]:%Y-%m-%d} is before {first} {frame.at[idx, first]:%Y-%m-%d}"
        where = f"column {_locate(frame, idx, first, table, source_columns)[2]!r} of the same row"
        out.append(DataProblem(file, row, src_last, value, f"{when} ({where}); {fix}"))
    return out


def _value_rules(table: str, column: str, kind: str) -> list[tuple[str | None, tuple, Callable[[pd.Series], pd.Series], str]]:
    """The value rules of one column: (pandera built-in check or None, its arguments, the rule vectorised, error).

    The one home of these rules: :func:`schema` makes pandera checks of them, and
    :func:`_passes_schema` evaluates the vectorised form (a missing value passes both,
    as pandera's ``ignore_na``).
    """
    rules: list[tuple[str | None, tuple, Callable[[pd.Series], pd.Series], str]] = []
    if table == "quotas" and column == "quota_cents":
        rules.append(("ge", (0,), lambda s: s >= 0, "quota must be >= 0"))
    if table == "deals" and column == "stage":
        rules.append(("isin", (list(DEAL_STAGES),), lambda s: s.isin(DEAL_STAGES), "stage must be won or lost"))
    if table == "pipeline" and column == "probability":
        rules.append(("in_range", (0, 1), lambda s: (s >= 0) & (s <= 1), "probability must be within 0..1"))
    if kind == "str":
        rules.append((None, (), lambda s: s.isna() | pd.Series(~blank_cells(s), index=s.index), _BLANK_TEXT))
    return rules


def _schema_columns(table: str, frame_columns: Any = None) -> dict[str, tuple[str, bool, bool, bool]]:
    """column -> (kind, nullable, unique, required) of ``table``; optional columns are checked when present."""
    cols = {c: (kind, nullable, _UNIQUE_ID.get(table) == c, True) for c, (kind, nullable) in COLUMNS[table].items()}
    for c, (kind, nullable) in OPTIONAL_COLUMNS.get(table, {}).items():
        if frame_columns is None or c in frame_columns:
            cols[c] = (kind, nullable, False, False)
    return cols


def schema(table: str) -> Any:
    """The pandera ``DataFrameSchema`` of canonical table ``table``.

    Built from :data:`COLUMNS`: dtype per kind (``str``, ``datetime64[ns]``, ``int64`` cents, ``float64``),
    nullability, unique ids, ``quota_cents >= 0``, ``deals.stage`` in ``{won, lost}`` and
    ``pipeline.probability`` in ``[0, 1]``. Provenance columns (``_source_*``) are allowed and ignored.

    Raises
    ------
    KeyError
        If ``table`` is not one of :data:`TABLES`.
    """
    pa = _pa()
    cols = {}
    for col, (kind, nullable, unique, required) in _schema_columns(table).items():
        checks = [
            pa.Check(fn, element_wise=False, error=error) if name is None else getattr(pa.Check, name)(*args, error=error)
            for name, args, fn, error in _value_rules(table, col, kind)
        ]
        cols[col] = pa.Column(
            None,  # dtypes are checked by _dtype_problems (pandas 3 str / datetime units)
            checks=checks,
            nullable=nullable,
            unique=unique,
            required=required,
        )
    return pa.DataFrameSchema(cols, unique=_UNIQUE_ROWS.get(table), strict=False)


def _passes_schema(table: str, frame: pd.DataFrame, id_checked: bool = False, text_checked: bool = False) -> bool:
    """True when ``frame`` certainly passes :func:`schema` (no pandera needed); False when it might not.

    The same rules (:func:`_schema_columns`, :func:`_value_rules`, :data:`_UNIQUE_ROWS`)
    evaluated vectorised and at least as strictly as pandera: a missing value in a
    required column, any repeated value of a unique column or key (missing ones
    included), a value breaking a rule, or anything that raises makes it False, and
    :func:`table_problems` then asks pandera, which names every failing cell. A valid
    table, the usual case, so skips pandera's import (about 0.5 s) and its checks (and the id's hash, the blank-text
    rule: ``id_checked``, ``text_checked``, which the caller's table meets by construction).
    """
    try:
        for col, (kind, nullable, unique, _) in _schema_columns(table, frame.columns).items():
            if col not in frame.columns:  # a required one: table_problems has reported it
                return False
            s = frame[col]
            missing = s.isna().to_numpy(dtype=bool)
            if not nullable and missing.any():
                return False
            if unique and not id_checked and s.duplicated().any():
                return False
            for _, _, fn, error in _value_rules(table, col, kind):
                if not (text_checked and error == _BLANK_TEXT) and not (fn(s).to_numpy(dtype=bool) | missing).all():
                    return False
        keys = _UNIQUE_ROWS.get(table)
        return not (keys and frame.duplicated(keys).any())
    except Exception:  # pandera reports what a rule could not evaluate
        return False


def _reason(check: str, column: str, table: str) -> str:
    return {
        "not_nullable": f"{column} is required in {table} (blank or missing)",
        "field_uniqueness": f"duplicate {column}: ids must be unique in {table}",
        "multiple_fields_uniqueness": f"duplicate row in {table}",
        "column_in_dataframe": f"column {column} is missing from {table}",
    }.get(check, check)


def _dtype_problems(table: str, frame: pd.DataFrame, file: str) -> list[DataProblem]:
    out = []
    for col, (kind, _) in table_columns(table).items():
        if col not in frame.columns:
            continue
        dt = frame[col].dtype
        ok = {
            "str": pd.api.types.is_string_dtype(dt) or dt == object,  # noqa: E721 (numpy dtype equality)
            "date": str(dt) == "datetime64[ns]",
            "cents": str(dt) == "int64",
            "float": str(dt) == "float64",
            "micros": str(dt) == "int64",
        }[kind]
        if not ok:
            out.append(DataProblem(file, None, col, str(dt), f"{table}.{col} must have dtype {_DTYPES[kind]}"))
    return out


def _locate(
    frame: pd.DataFrame, index: Any, column: str | None, table: str, source_columns: Mapping[str, str] | None
) -> tuple[str, int | None, str | None]:
    """(file, row, source column) of canonical cell ``frame.loc[index, column]``."""
    file = table
    row = None
    if index is not None and not (isinstance(index, float) and np.isnan(index)) and index in frame.index:
        if SOURCE_FILE in frame.columns:
            file = str(frame.at[index, SOURCE_FILE])
        if SOURCE_ROW in frame.columns:
            r = frame.at[index, SOURCE_ROW]
            row = None if pd.isna(r) else int(r)
        per_row = f"{SOURCE_COLUMN_PREFIX}{column}"
        if column is not None and per_row in frame.columns and pd.notna(frame.at[index, per_row]):
            return file, row, str(frame.at[index, per_row])
    elif SOURCE_FILE in frame.columns and len(frame):
        file = str(frame[SOURCE_FILE].iloc[0])
    src = (source_columns or {}).get(column, column) if column is not None else None
    return file, row, src


def table_problems(
    table: str,
    frame: pd.DataFrame,
    *,
    source_columns: Mapping[str, str] | None = None,
    currency: str | None = None,
    id_checked: bool = False,
    text_checked: bool = False,
) -> list[DataProblem]:
    """Every problem of one canonical table (lazy: nothing is raised).

    Parameters
    ----------
    table : str
        One of :data:`TABLES`.
    frame : pandas.DataFrame
        The table, optionally with provenance columns ``_source_file`` and
        ``_source_row`` (and ``_source_column:<canonical>`` for per-row source
        column names, e.g. the month column an unpivoted quota came from).
    source_columns : mapping, optional
        canonical column -> source column name, used in the problems.
    currency : str, optional
        The data set's ISO 4217 code: a bad money value read without its source text
        is shown in that currency (``-5,000.00 USD``, :func:`reportkit.core.currency.cents_text`),
        never as the internal cents.
    id_checked, text_checked : bool
        The caller has checked the unique id for repeats, made every blank text cell missing (``validate_dataset``'s
        ``ids_checked``, ``texts_checked``).

    Returns
    -------
    list of DataProblem
        Sorted by file and row; empty when the table is valid.
    """
    problems: list[DataProblem] = []
    missing = [c for c in COLUMNS[table] if c not in frame.columns]
    default_file = str(frame[SOURCE_FILE].iloc[0]) if SOURCE_FILE in frame.columns and len(frame) else table
    for c in missing:
        problems.append(DataProblem(default_file, None, c, None, f"{table} has no column {c!r}"))
    if missing:
        return problems
    problems.extend(_dtype_problems(table, frame, default_file))
    problems.extend(_date_order_problems(table, frame, source_columns))
    if _passes_schema(table, frame, id_checked, text_checked):
        return problems
    pa = _pa()
    try:
        schema(table).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
        for rec in fc.to_dict("records"):
            column = rec.get("column")
            check = str(rec.get("check"))
            if check.startswith("dtype("):
                continue
            idx = rec.get("index")
            if check == "multiple_fields_uniqueness":
                column = None
            file, row, src = _locate(frame, idx, column, table, source_columns)
            value = rec.get("failure_case")
            if column is not None and idx is not None and idx in frame.index:
                raw = f"{SOURCE_VALUE_PREFIX}{column}"
                value = frame.at[idx, raw] if raw in frame.columns else frame.at[idx, column]
                if raw not in frame.columns and COLUMNS[table].get(column, ("",))[0] == "cents" and _is_int(value):
                    value = cents_text(int(value), currency)
            if (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
                value = None
            problems.append(DataProblem(file, row, src, value, _reason(check, str(column), table)))
    return problems


def strip_provenance(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without ``_source_*`` columns, canonical column order and a fresh RangeIndex."""
    keep = [c for c in frame.columns if not str(c).startswith(PROVENANCE_PREFIX)]
    return frame[keep].reset_index(drop=True)


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def validate_dataset(
    ds: Dataset,
    *,
    source_columns: Mapping[str, Mapping[str, str]] | None = None,
    ids_checked: Collection[str] = (),
    texts_checked: Collection[str] = (),
    refs_checked: Collection[tuple[str, str]] = (),
) -> Dataset:
    """Validate every table of ``ds`` and return it without provenance columns.

    Checks each table against :func:`schema` and its rows' date order
    (:data:`_DATE_ORDER`: a quota or measures row's ``period_end`` not before its
    ``period_start``, an issue not resolved before it was opened, a leaver's
    ``end_date`` not before the ``hire_date``; quota rows never overlapping) plus cross-table rules: quotas,
    deals, pipeline, territories and account owners must reference existing
    account managers; service issues must, when ``accounts`` is given, name an
    account in it; quotas and deals must all be in ``ds.currency``; with
    ``crediting == "owner"`` every deal needs an account manager; a deal's
    ``amount_micros`` (when given) must be int64 (it yields to ``amount_cents``
    where the two disagree: :func:`deal_micros`).

    Parameters
    ----------
    ds : Dataset
        Tables possibly carrying ``_source_file`` / ``_source_row`` columns.
    source_columns : mapping, optional
        table -> {canonical column -> source column name}, for the messages.
    ids_checked : collection of str
        Tables whose id (``deal_id`` ...) the caller checked for repeats, reporting each (the mapping).
    texts_checked : collection of str
        Tables whose text columns hold no blank text, each blank cell made missing (the mapping's ``load_table``).
    refs_checked : collection of (table, column)
        References whose bad rows the caller reported (the mapping: the roster, the currency; ``data/references.py``).

    Returns
    -------
    Dataset
        Same tables, provenance columns dropped, fresh RangeIndex.

    Raises
    ------
    DataError
        Listing *every* problem found (file, source row, source column, value, reason).
    """
    source_columns = source_columns or {}
    problems: list[DataProblem] = []
    for table in TABLES:
        frame = ds.table(table)
        if frame is None:
            if table in REQUIRED_TABLES:
                problems.append(DataProblem(table, None, None, None, f"required table {table} is missing"))
            continue
        cols, checks = source_columns.get(table), {"id_checked": table in ids_checked, "text_checked": table in texts_checked}
        problems.extend(table_problems(table, frame, source_columns=cols, currency=ds.currency, **checks))
    if "account_manager_id" in ds.account_managers.columns:  # across tables (data/references.py, which imports this module)
        from .references import reference_problems

        problems.extend(reference_problems(ds, source_columns, refs_checked))
    if ds.quotas is not None:  # across rows: a day's quota counted once (data/quotas.py, which imports this module)
        from .quotas import quota_overlap_problems

        problems.extend(quota_overlap_problems(ds.quotas, source_columns.get("quotas")))
    if problems:
        n_files = sorted({p.file for p in problems})
        raise DataError(
            f"{counted(len(problems), 'data problem')} in {', '.join(n_files)}",
            problems,
            hint="fix the listed cells (or the source mapping) and run again",
        )
    cleaned = {t: (None if ds.table(t) is None else strip_provenance(ds.table(t))) for t in TABLES}
    return replace(ds, **cleaned)


def deal_micros(deals: pd.DataFrame) -> np.ndarray:
    """Exact amounts of ``deals`` in micros (int64), the input of every revenue aggregate.

    The rule (README, "Money"): ``amount_cents`` is the deal's amount; the exact
    ``amount_micros`` beside it (filled by the mapping at load, from the same source
    text) refines it below the cent and is used only where it agrees, i.e. where
    ``micros_to_cents(amount_micros) == amount_cents``. Elsewhere the cents win:
    ``amount_cents * 10_000``. So editing ``amount_cents`` (an analyst's what-if,
    ``ds.deals.loc[..., "amount_cents"] = 0``) is enough: revenue, attainment and
    commission all follow it. Rows without ``amount_micros`` (frames built by hand,
    rows added by a what-if) also use ``amount_cents * 10_000``, which is exact for
    amounts with at most 2 decimals.

    Parameters
    ----------
    deals : pandas.DataFrame
        ``amount_cents`` (int64, cents) and optionally ``amount_micros`` (int64 or
        nullable, millionths of the currency unit).

    Returns
    -------
    numpy.ndarray
        int64 micros, one per row of ``deals``. Example: cents ``1000`` with micros
        ``10_004_000`` (10.004) gives ``10_004_000``; cents edited to ``0`` with the
        same micros gives ``0``.

    Raises
    ------
    DataError
        When the amounts' total magnitude is beyond the exact int64 range
        (:func:`reportkit.core.money.check_exact_range`).
    """
    cents = deals["amount_cents"].to_numpy(np.int64)
    from_cents = cents * MICROS_PER_CENT
    if AMOUNT_MICROS not in deals.columns:
        out = from_cents
    else:
        m = deals[AMOUNT_MICROS]
        if str(m.dtype) == "int64":
            out = m.to_numpy(np.int64)
        else:
            missing = m.isna().to_numpy()
            out = np.where(
                missing, from_cents, m.fillna(0).to_numpy(np.float64).astype(np.int64) if missing.any() else m.to_numpy(np.int64)
            )
        stale = micros_to_cents(out) != cents  # amount_cents edited without its micros: the cents win
        if stale.any():
            out = np.where(stale, from_cents, out)
    check_exact_range(out, "deals.amount_cents")
    return out


def empty_table(table: str) -> pd.DataFrame:
    """An empty frame with the canonical columns and dtypes of ``table``."""
    return pd.DataFrame({c: pd.Series(dtype=_DTYPES[k]) for c, (k, _) in COLUMNS[table].items()})


#: What loading may change, in the words a report's reader sees (``Dataset.load_changes`` kinds).
LOAD_CHANGE_KINDS: dict[str, str] = {
    "skipped": "footer row {of the export skipped}",
    "dropped": "row {left out by the mapping's rules}",
    "merged": "repeated row {merged into one}",
    "placeholder": "cell {holding a placeholder such as NULL kept as text}",
    "rounded": "amount {with fractions of a cent shown rounded to the cent (totals add the exact amounts)}",
}
"""Each kind as its counted noun, then ``{the rest}``: :func:`load_change_notes` counts the noun (``core.words``)."""


def load_change_counts(ds: Dataset) -> dict[str, dict[str, int]]:
    """What loading dropped, merged or changed, counted per table and kind.

    Parameters
    ----------
    ds : Dataset

    Returns
    -------
    dict
        ``{table: {kind: count}}`` from ``ds.load_changes`` (kinds:
        :data:`LOAD_CHANGE_KINDS`); empty for a clean load.

    Examples
    --------
    >>> ds = Dataset(account_managers=None, quotas=None, deals=None, load_changes=(("deals", "merged", 2),))
    >>> load_change_counts(ds)
    {'deals': {'merged': 2}}
    """
    out: dict[str, dict[str, int]] = {}
    for table, kind, n in ds.load_changes:
        if n:
            out.setdefault(table, {})
            out[table][kind] = out[table].get(kind, 0) + int(n)
    return out


def _load_change_words(n: int, kind_words: str) -> str:
    """``n`` changes of one kind: ``repeated row {merged into one}`` -> ``2 repeated rows merged into one``."""
    noun, _, rest = kind_words.partition(" {")
    return f"{counted(n, noun)} {rest.rstrip('}')}".rstrip()


def load_change_notes(ds: Dataset, tables: list[str] | None = None) -> list[str]:
    """The load's changes as notes for a report, one per table (only ``tables``, when given).

    Examples
    --------
    >>> ds = Dataset(account_managers=None, quotas=None, deals=None, load_changes=(("deals", "merged", 2),))
    >>> load_change_notes(ds)
    ['Data quality (deals): 2 repeated rows merged into one.']
    """
    notes = []
    for table, kinds in load_change_counts(ds).items():
        if tables is not None and table not in tables:
            continue
        what = "; ".join(_load_change_words(n, LOAD_CHANGE_KINDS.get(k, k)) for k, n in kinds.items())
        notes.append(f"Data quality ({table.replace('_', ' ')}): {what}.")
    return notes
