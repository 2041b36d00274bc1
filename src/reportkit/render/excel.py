"""Excel workbooks (xlsxwriter) from report objects.

One workbook per report, the same figures the notebook shows, plus one company
workbook per batch:

* account manager: Summary, Quarterly results, Commission statement, Accounts,
  Forecast, Deals
* team: Summary, Leaderboard, Attainment distribution, Performance watch,
  Forecast roll-up, Commission expense, Quarterly results
* company (:func:`write_company_workbook`): a ``Company`` roll-up sheet, then one
  sheet per team

Rules (``docs/excel.md`` has the full layout):

* ``Decimal`` money is written as a *number* with a currency format; fractions
  (attainment, rates) as numbers with a percent format; dates as Excel dates
  ``yyyy-mm-dd`` (never a bare serial number).
* **Live formulas where a reader audits**: attainment is
  ``=IF(quota=0,"n/a",revenue/quota)``, statement and expense totals are ``SUM``
  of their lines, roll-ups sum (or reference) their parts. Every formula carries
  its cached value (reportkit's figure) so viewers that do not recalculate show
  the same number. A formula is only written where recalculating it gives
  reportkit's figure (to the cent; checked here with exact ``Decimal``); where
  the domain's figure is not the plain sum/ratio (e.g. a team total with
  overlapping territory credits) the figure is written as a value.
* ``NaN`` / ``None`` / ``inf`` is never written as a number: missing fractions
  show the text ``n/a``, other missing cells stay blank.
* Text from the data is always text (``write_string``; ``strings_to_formulas``,
  ``strings_to_numbers`` and ``strings_to_urls`` off): ``=1+1``, ``+SUM(A1)``,
  ``@x`` and URLs stay plain strings.
* Sheet names come from :func:`safe_sheet_name` (valid, unique, deterministic).
* A frame with more rows than a sheet holds is split across ``Deals``,
  ``Deals (2)``... (or refused, ``overflow="error"``); it is never cut.
* Large workbooks (more than :data:`CONSTANT_MEMORY_ROWS` rows in one frame) are
  written in xlsxwriter's constant-memory mode: every sheet is written strictly
  row by row (this module always does), and Excel tables, which that mode does
  not support, become plain autofilter ranges.
* Attainment cells are coloured by the performance policy (params
  ``performance.miss_below``, carried by the report): red below the miss
  threshold, amber up to quota, green from quota met (:func:`attainment_bands`).
  Timezone-aware timestamps are shown in the params ``timezone``.
* Workbook properties are fixed (created = ``as_of``) so the same report gives a
  byte-identical workbook; the file is written to a temporary name and moved into
  place with :func:`os.replace`.
"""

from __future__ import annotations

import datetime
import math
import numbers
import os
import re
import zoneinfo
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Collection, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import xlsxwriter
import xlsxwriter.exceptions
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from ..core.currency import currency_info
from ..core.errors import OutputError
from ..config.params import DEFAULT_TIMEZONE, PerformancePolicy
from ..reports.builders import ATTAINMENT_BANDS
from .notebook import NA, _is_missing, _is_percent_key, column_label, format_cell

__all__ = [
    "write_workbook",
    "write_company_workbook",
    "safe_sheet_name",
    "money_format",
    "attainment_bands",
    "AM_SHEETS",
    "TEAM_SHEETS",
    "EXCEL_MAX_ROWS",
    "EXCEL_MAX_URLS",
    "EXCEL_MAX_URL_LENGTH",
    "EXCEL_MAX_STRING",
    "CONSTANT_MEMORY_ROWS",
]

AM_SHEETS: tuple[tuple[str, str], ...] = (
    ("Quarterly results", "quarterly"),
    ("Commission statement", "commission"),
    ("Accounts", "accounts"),
    ("Forecast", "forecast"),
    ("Deals", "deals"),
)
"""Account-manager sheets after ``Summary``: (sheet name, report attribute)."""

TEAM_SHEETS: tuple[tuple[str, str], ...] = (
    ("Leaderboard", "leaderboard"),
    ("Attainment distribution", "attainment_distribution"),
    ("Performance watch", "performance_watch"),
    ("Forecast roll-up", "forecast"),
    ("Commission expense", "commission_expense"),
    ("Quarterly results", "quarterly"),
)
"""Team sheets after ``Summary``: (sheet name, report attribute)."""

EXCEL_MAX_ROWS = 1_048_576
"""Rows in one worksheet (header included)."""
EXCEL_MAX_URLS = 65_530
"""Hyperlinks in one worksheet."""
EXCEL_MAX_URL_LENGTH = 2_079
"""Characters in one hyperlink."""
EXCEL_MAX_STRING = 32_767
"""Characters in one cell."""
CONSTANT_MEMORY_ROWS = 50_000
"""A workbook with a frame longer than this is written in constant-memory mode."""

_MAX_DATA_ROWS = EXCEL_MAX_ROWS - 1  # below the header row; tests lower it to exercise splitting
_CHUNK = 20_000  # rows converted at a time (bounds the memory of a 1M-row sheet)
_TRUNCATED = " [truncated by reportkit: Excel holds at most 32,767 characters]"

_MIN_WIDTH, _MAX_WIDTH = 8, 60
_INVALID_SHEET_CHARS = re.compile(r"[\[\]:*?/\\\x00-\x1f\x7f]")
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_FIRST_EXCEL_DATE = pd.Timestamp("1900-03-01")  # before it Excel's serials are off by one (1900 leap bug)
_LAST_EXCEL_DATE = pd.Timestamp("9999-12-31 23:59:59")
_ATTAINMENT_KEYS = ("attainment", "ytd_attainment", "forecast_attainment")
_MISS, _SHORT, _MET = "#F8D7DA", "#FFF3CD", "#D4EDDA"  # red, amber, green fills
QUOTA_MET = 1.0
"""Attainment at which quota is met (the green band starts here, or at the miss threshold if higher)."""
DEFAULT_MISS_BELOW = PerformancePolicy.model_fields["miss_below"].default
"""The params default of ``performance.miss_below`` (0.9)."""


def attainment_bands(miss_below: float = DEFAULT_MISS_BELOW) -> tuple[tuple[float | None, float | None, str], ...]:
    """Conditional-format bands of attainment cells: ``(low inclusive, high exclusive, fill)``.

    The bands follow the performance policy, so a workbook colours as a miss
    exactly the quarters the report calls a miss:

    * red: attainment ``< miss_below`` (a miss, see :mod:`reportkit.domain.performance`);
    * amber: ``miss_below <= attainment < 1.0`` (no miss, quota not met; absent
      when ``miss_below >= 1.0``);
    * green: ``attainment >= max(1.0, miss_below)`` (quota met and no miss).

    Parameters
    ----------
    miss_below : float, default 0.9
        Params ``performance.miss_below``: attainment fraction (1.0 == 100 %)
        below which a quarter is a miss; finite and >= 0.

    Returns
    -------
    tuple of (float or None, float or None, str)
        Disjoint bands in order; ``None`` is an open end.

    Raises
    ------
    ValueError
        ``miss_below`` is not a finite number >= 0.

    >>> attainment_bands(0.8)
    ((None, 0.8, '#F8D7DA'), (0.8, 1.0, '#FFF3CD'), (1.0, None, '#D4EDDA'))
    >>> attainment_bands(1.1)
    ((None, 1.1, '#F8D7DA'), (1.1, None, '#D4EDDA'))
    """
    if isinstance(miss_below, bool) or not isinstance(miss_below, numbers.Real) or not math.isfinite(miss_below) or miss_below < 0:
        raise ValueError(
            f"miss_below must be a finite attainment fraction >= 0 (params performance.miss_below), got {miss_below!r}"
        )
    m = float(miss_below)
    bands: list[tuple[float | None, float | None, str]] = [(None, m, _MISS)]
    if m < QUOTA_MET:
        bands.append((m, QUOTA_MET, _SHORT))
    bands.append((max(m, QUOTA_MET), None, _MET))
    return tuple(bands)


# ---------------------------------------------------------------------------
# small public helpers
# ---------------------------------------------------------------------------


def money_format(currency: str) -> str:
    """Excel number format for amounts in ``currency``: its symbol and decimals.

    Symbol and decimals (ISO 4217 minor units) come from
    :func:`reportkit.core.currency.currency_info`; a code without a symbol follows
    the number.

    >>> money_format("USD")
    '"$"#,##0.00;-"$"#,##0.00'
    >>> money_format("CHF")
    '#,##0.00 "CHF";-#,##0.00 "CHF"'
    >>> money_format("JPY")
    '"¥"#,##0;-"¥"#,##0'
    """
    info = currency_info(currency)
    number = "#,##0" + ("." + "0" * info.minor_units if info.minor_units else "")
    if info.symbol:
        return f'"{info.symbol}"{number};-"{info.symbol}"{number}'
    code = (currency or "").replace('"', "")
    return f'{number} "{code}";-{number} "{code}"'


def safe_sheet_name(name: Any, taken: Collection[str] = ()) -> str:
    """A valid, unique Excel sheet name for ``name``; deterministic.

    Excel's rules: at most 31 characters (UTF-16 units), none of ``[ ] : * ? / \\``,
    not starting or ending with ``'``, not ``History`` (reserved), unique ignoring
    case. Invalid characters (and control characters) become ``_``; an empty
    name becomes ``Sheet``; a clash gets `` (2)``, `` (3)``... with the base
    shortened so the whole stays within 31 characters. The caller adds the
    result to ``taken``.

    >>> safe_sheet_name("Q1/Q2: [West]*")
    'Q1_Q2_ _West__'
    >>> safe_sheet_name("deals", taken={"Deals"})
    'deals (2)'
    >>> safe_sheet_name("history")
    'history (2)'
    """
    text = _INVALID_SHEET_CHARS.sub("_", str(name if name is not None else "")).strip()
    text = text.strip("'").strip() or "Sheet"
    text = _utf16_cut(text, 31).rstrip("'").rstrip() or "Sheet"
    used = {t.lower() for t in taken} | {"history"}
    if text.lower() not in used:
        return text
    n = 2
    while True:
        suffix = f" ({n})"
        base = _utf16_cut(text, 31 - len(suffix)).rstrip("'").rstrip() or "Sheet"
        cand = base + suffix
        if cand.lower() not in used:
            return cand
        n += 1


def _utf16_cut(text: str, limit: int) -> str:
    out, units = [], 0
    for ch in text:
        u = 2 if ord(ch) > 0xFFFF else 1
        if units + u > limit:
            break
        out.append(ch)
        units += u
    return "".join(out)


def _quote_sheet(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def _ref(sheet: str | None, row: int, col: int) -> str:
    cell = xl_rowcol_to_cell(row, col)
    return f"{_quote_sheet(sheet)}!{cell}" if sheet else cell


def _range(sheet: str | None, r0: int, r1: int, col: int) -> str:
    a = xl_rowcol_to_cell(r0, col, row_abs=True, col_abs=True)
    b = xl_rowcol_to_cell(r1, col, row_abs=True, col_abs=True)
    return f"{_quote_sheet(sheet)}!{a}:{b}" if sheet else f"{a}:{b}"


def _dec(v: Any) -> Decimal | None:
    """A money value as Decimal (None when missing)."""
    if _is_missing(v):
        return None
    if isinstance(v, Decimal):
        return v if v.is_finite() else None
    if isinstance(v, numbers.Real) and not isinstance(v, bool):
        f = float(v)
        return None if not math.isfinite(f) else Decimal(repr(f))
    return None


def _dec_sum(values: Any) -> Decimal:
    """Sum of money values (cells already rounded to the cent); missing ones count as 0."""
    return sum((_dec(v) or Decimal(0) for v in values), Decimal("0.00"))


def _frac(v: Any) -> float | None:
    if _is_missing(v) or isinstance(v, bool) or not isinstance(v, (numbers.Real, Decimal)):
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def _ratio_matches(num: Any, den: Any, reported: Any) -> bool:
    """True when ``=IF(den=0,"n/a",num/den)`` recalculates to ``reported``."""
    d, n, r = _dec(den), _dec(num), _frac(reported)
    if d is None or d == 0:
        return r is None
    if r is None:
        return False
    got = float(n or 0) / float(d)
    return abs(got - r) <= 1e-12 * max(1.0, abs(r))


def _ratio_cached(reported: Any) -> float | str:
    r = _frac(reported)
    return NA if r is None else r


# ---------------------------------------------------------------------------
# formats
# ---------------------------------------------------------------------------


class _Formats:
    def __init__(self, wb: xlsxwriter.Workbook, currency: str, miss_below: float = DEFAULT_MISS_BELOW) -> None:
        self.header = wb.add_format({"bold": True, "bg_color": "#E2E8F0", "border": 1, "text_wrap": True, "valign": "top"})
        self.money = wb.add_format({"num_format": money_format(currency)})
        self.percent = wb.add_format({"num_format": "0.0%"})
        self.date = wb.add_format({"num_format": "yyyy-mm-dd"})
        self.datetime = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        self.integer = wb.add_format({"num_format": "#,##0"})
        self.number = wb.add_format({"num_format": "#,##0.00"})
        self.na = wb.add_format({"align": "right", "font_color": "#718096"})
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.total_label = wb.add_format({"bold": True, "top": 1})
        self.total_money = wb.add_format({"bold": True, "top": 1, "num_format": money_format(currency)})
        self.total_percent = wb.add_format({"bold": True, "top": 1, "num_format": "0.0%"})
        self.total_integer = wb.add_format({"bold": True, "top": 1, "num_format": "#,##0"})
        self.total_na = wb.add_format({"bold": True, "top": 1, "align": "right", "font_color": "#718096"})
        self.total_blank = wb.add_format({"top": 1})
        self.bands = [(lo, hi, wb.add_format({"bg_color": color})) for lo, hi, color in attainment_bands(miss_below)]

    def for_kind(self, kind: str, total: bool = False) -> Any:
        if total:
            return {"money": self.total_money, "percent": self.total_percent, "integer": self.total_integer}.get(kind, self.total_blank)
        return {
            "money": self.money,
            "percent": self.percent,
            "integer": self.integer,
            "number": self.number,
            "date": self.date,
        }.get(kind)


def _kind_of(series: pd.Series, name: str) -> str:
    if _is_percent_key(name):
        return "percent"
    if pd.api.types.is_bool_dtype(series.dtype):
        return "bool"
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return "date"
    if pd.api.types.is_integer_dtype(series.dtype):
        return "integer"
    if pd.api.types.is_float_dtype(series.dtype):
        return "number"
    for v in series:
        if _is_missing(v):
            continue
        if isinstance(v, (bool, np.bool_)):
            return "bool"
        if isinstance(v, Decimal):
            return "money"
        if isinstance(v, (datetime.date, pd.Timestamp, np.datetime64)):
            return "date"
        if isinstance(v, numbers.Integral):
            return "integer"
        if isinstance(v, numbers.Real):
            return "number"
        return "text"
    return "text"


# ---------------------------------------------------------------------------
# cell conversion (vectorised per chunk) and writing
# ---------------------------------------------------------------------------


def _clean_text(v: Any) -> str:
    s = str(v)
    if len(s) > EXCEL_MAX_STRING:
        s = s[: EXCEL_MAX_STRING - len(_TRUNCATED)] + _TRUNCATED
    return s


def _to_local_naive(ts: pd.Timestamp, tz: datetime.tzinfo) -> pd.Timestamp:
    if ts.tzinfo is not None:
        ts = ts.tz_convert(tz).tz_localize(None)
    return ts


def _date_cell(v: Any, tz: datetime.tzinfo, fmt: _Formats) -> Any:
    """One date-like value -> (serial, format), text, or None."""
    if _is_missing(v):
        return None
    try:
        ts = _to_local_naive(pd.Timestamp(v), tz)
    except (TypeError, ValueError, OverflowError):
        return _clean_text(v)
    if ts < _FIRST_EXCEL_DATE or ts > _LAST_EXCEL_DATE:
        return ts.date().isoformat() if ts == ts.normalize() else ts.isoformat()
    serial = (ts - _EXCEL_EPOCH) / pd.Timedelta(days=1)
    return (float(serial), fmt.date if serial == int(serial) else fmt.datetime)


def _convert(values: list, kind: str, tz: datetime.tzinfo, fmt: _Formats) -> list:
    """Cell values of one column chunk.

    Result items: ``float`` (a number in the column's format), ``str`` (text; in a
    numeric column the ``n/a`` marker), ``None`` (blank) or ``(float, format)``.
    """
    if kind == "money" or kind == "number" or kind == "integer":
        out = []
        for v in values:
            if v is None:
                out.append(None)
            elif type(v) is Decimal or type(v) is float or type(v) is int:
                f = float(v)
                out.append(f if math.isfinite(f) else (None if f != f else NA))
            elif _is_missing(v):
                out.append(None)
            elif isinstance(v, (numbers.Real, Decimal)) and not isinstance(v, (bool, np.bool_)):
                f = float(v)
                out.append(f if math.isfinite(f) else (None if f != f else NA))
            else:
                out.append(_generic(v, tz, fmt))
        return out
    if kind == "percent":
        out = []
        for v in values:
            if isinstance(v, (float, int, Decimal, numbers.Real)) and not isinstance(v, (bool, np.bool_)):
                f = float(v)
                out.append(f if math.isfinite(f) else NA)
            elif _is_missing(v):
                out.append(NA)
            else:
                out.append(_generic(v, tz, fmt))
        return out
    if kind == "date":
        s = pd.Series(values, dtype="object")
        try:
            dt = pd.to_datetime(s)
            if getattr(dt.dt, "tz", None) is not None:
                dt = dt.dt.tz_convert(tz).dt.tz_localize(None)
        except (TypeError, ValueError, OverflowError, pd.errors.OutOfBoundsDatetime):
            return [_date_cell(v, tz, fmt) for v in values]
        ok = dt.notna() & (dt >= _FIRST_EXCEL_DATE)
        serial = ((dt - _EXCEL_EPOCH) / pd.Timedelta(days=1)).to_numpy(dtype="float64", na_value=np.nan)
        whole = dt == dt.dt.normalize()
        out = []
        for i, (o, f, w) in enumerate(zip(ok.to_numpy(), serial.tolist(), whole.to_numpy())):
            if o:
                out.append(f if w else (f, fmt.datetime))
            else:
                out.append(_date_cell(values[i], tz, fmt))
        return out
    if kind == "bool":
        return [None if _is_missing(v) else ("yes" if bool(v) else "no") for v in values]
    # text
    out = []
    for v in values:
        if type(v) is str:
            out.append(v if len(v) <= EXCEL_MAX_STRING else _clean_text(v))
        elif _is_missing(v):
            out.append(None)
        else:
            out.append(_generic(v, tz, fmt))
    return out


def _generic(v: Any, tz: datetime.tzinfo, fmt: _Formats) -> Any:
    """A value of an unexpected type in its column: written by its own type."""
    if _is_missing(v):
        return None
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, Decimal):
        f = float(v)
        return (f, fmt.money) if math.isfinite(f) else NA
    if isinstance(v, numbers.Integral):
        return (float(v), fmt.integer)
    if isinstance(v, numbers.Real):
        f = float(v)
        return (f, fmt.number) if math.isfinite(f) else NA
    if isinstance(v, (datetime.date, pd.Timestamp, np.datetime64)):
        return _date_cell(v, tz, fmt)
    return _clean_text(v)


def _put(ws: Any, row: int, col: int, v: Any, col_fmt: Any, fmt: _Formats) -> None:
    t = type(v)
    if t is float:
        ws.write_number(row, col, v, col_fmt)
    elif t is str:
        ws.write_string(row, col, v, fmt.na if (v == NA and col_fmt is not None) else None)
    elif t is tuple:
        ws.write_number(row, col, v[0], v[1])


def _write_value(ws: Any, row: int, col: int, value: Any, kind: str, fmt: _Formats, tz: datetime.tzinfo) -> None:
    """Write one cell of a mixed column (the Summary sheet)."""
    if kind in ("money", "percent"):
        v = _convert([value], kind, tz, fmt)[0]
    else:
        v = _generic(value, tz, fmt)
    _put(ws, row, col, v, fmt.for_kind(kind) or (fmt.money if isinstance(value, Decimal) else None), fmt)


# ---------------------------------------------------------------------------
# the book: workbook + formats + naming
# ---------------------------------------------------------------------------


class _Book:
    def __init__(self, path: Path, currency: str, tz: str | datetime.tzinfo, constant_memory: bool, overflow: str,
                 miss_below: float = DEFAULT_MISS_BELOW) -> None:
        if overflow not in ("split", "error"):
            raise ValueError(f"overflow must be 'split' or 'error', got {overflow!r}")
        self.tz = _tzinfo(tz)
        attainment_bands(miss_below)  # validate before a file is created
        self.currency = currency
        self.constant_memory = constant_memory
        self.overflow = overflow
        self.wb = xlsxwriter.Workbook(
            str(path),
            {
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
                "nan_inf_to_errors": False,
                "default_date_format": "yyyy-mm-dd",
                "constant_memory": constant_memory,
            },
        )
        self.fmt = _Formats(self.wb, currency, miss_below)
        self.names: list[str] = []
        self.tables = 0

    def add_sheet(self, name: str) -> tuple[str, Any]:
        safe = safe_sheet_name(name, self.names)
        self.names.append(safe)
        ws = self.wb.add_worksheet(safe)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(0)
        ws.set_footer("&L&A&RPage &P of &N")
        return safe, ws

    def table_name(self, sheet: str) -> str:
        self.tables += 1
        return f"T{self.tables}_" + (re.sub(r"[^A-Za-z0-9_]", "_", sheet)[:200] or "Sheet")


def _tzinfo(tz: str | datetime.tzinfo) -> datetime.tzinfo:
    if isinstance(tz, datetime.tzinfo):
        return tz
    if str(tz).upper() == "UTC":
        return datetime.timezone.utc
    try:
        return zoneinfo.ZoneInfo(str(tz))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown timezone {tz!r}: use an IANA name such as 'Europe/Berlin' or 'UTC'") from exc


# ---------------------------------------------------------------------------
# frame sheets
# ---------------------------------------------------------------------------


@dataclass
class _Placed:
    """Where a frame landed: its parts (sheet, first data row, last data row) and columns."""

    parts: list[tuple[str, int, int]]
    columns: dict[str, int]
    total_row: tuple[str, int] | None = None
    totals: dict[str, Decimal | None] = field(default_factory=dict)
    chart_anchor: tuple[str, Any, int] | None = None  # (sheet, worksheet, column) of the first part

    def ranges(self, column: str, here: str | None = None) -> list[str]:
        """Ranges of ``column`` over every part (unqualified on the sheet ``here``)."""
        col = self.columns[column]
        return [_range(None if s == here else s, r0, r1, col) for s, r0, r1 in self.parts if r1 >= r0]

    def total_ref(self, column: str) -> str | None:
        if self.total_row is None or column not in self.columns:
            return None
        return _ref(self.total_row[0], self.total_row[1], self.columns[column])


@dataclass
class _Spec:
    """What a frame sheet computes live.

    ratios : {target column: (numerator column, denominator column)} per row.
    row_sums : {target column: [columns]} per row (commission + bonus = total).
    totals : {column: reportkit's total} for a total row of ``SUM`` formulas (a
        formula only when the lines sum to the figure, else the figure itself).
    total_ratios : ratios to write in the total row.
    total_label : text of the total row's first text column.
    """

    ratios: dict[str, tuple[str, str]] = field(default_factory=dict)
    row_sums: dict[str, list[str]] = field(default_factory=dict)
    totals: dict[str, Any] | None = None
    total_ratios: dict[str, tuple[str, str]] = field(default_factory=dict)
    total_label: str = "Total"
    total_label_column: str | None = None
    total_cells: dict[str, str] = field(default_factory=dict)
    total_values: dict[str, Any] = field(default_factory=dict)
    bands: tuple[str, ...] = ()


def write_frame_sheet(book: _Book, name: str, frame: pd.DataFrame | None, spec: _Spec | None = None, *, table: bool = True) -> _Placed:
    """Write ``frame`` as a list sheet (split over several sheets when too long).

    Row by row, so it works in constant-memory mode: header, data rows, then the
    optional total row. Returns where everything went, for formulas elsewhere.
    """
    spec = spec or _Spec()
    fmt, tz = book.fmt, book.tz
    frame = frame if frame is not None else pd.DataFrame()
    frame = frame.reset_index(drop=True)
    cols = [str(c) for c in frame.columns]
    colidx = {c: j for j, c in enumerate(cols)}
    kinds = [_kind_of(frame[c], c) for c in frame.columns]
    col_fmts = [fmt.for_kind(k) for k in kinds]
    labels = [column_label(c) for c in cols]
    n = len(frame)
    per_sheet = _MAX_DATA_ROWS - (1 if spec.totals is not None else 0)
    n_parts = max(1, math.ceil(n / per_sheet)) if n else 1
    if n_parts > 1 and book.overflow == "error":
        raise OutputError(
            f"sheet {name!r} would need {n:,} rows but an Excel sheet holds {_MAX_DATA_ROWS:,} below its header",
            hint="write with overflow='split' to continue on sheets named like '" + f"{name} (2)'",
        )
    widths = _widths(frame, cols, kinds, labels, book.currency)
    live = spec.ratios or spec.row_sums
    placed = _Placed(parts=[], columns=colidx)
    ratio_ok = {t: [_ratio_matches(frame.at[i, a], frame.at[i, b], frame.at[i, t]) for i in range(n)] for t, (a, b) in spec.ratios.items()} if live else {}
    sum_ok = {
        t: [_sum_matches([frame.at[i, c] for c in parts], frame.at[i, t]) for i in range(n)] for t, parts in spec.row_sums.items()
    } if live else {}

    for part in range(n_parts):
        lo, hi = part * per_sheet, min(n, (part + 1) * per_sheet)
        sheet, ws = book.add_sheet(name)
        if part == 0:
            placed.chart_anchor = (sheet, ws, len(cols) + 1)
        for j, label in enumerate(labels):
            ws.write_string(0, j, label, fmt.header)
        stream = book.constant_memory and not live and _can_stream(ws) and hi > lo
        if stream:
            ws._write_single_row(1)  # flush the header row; data rows go straight to the sheet file
        for start in range(lo, hi, _CHUNK):
            stop = min(hi, start + _CHUNK)
            chunk = [_convert(frame[c].iloc[start:stop].tolist(), k, tz, fmt) for c, k in zip(frame.columns, kinds)]
            if stream:
                _stream_rows(ws, chunk, start - lo + 1, col_fmts, fmt)
                continue
            for i in range(stop - start):
                r = start - lo + i + 1
                for j in range(len(cols)):
                    v = chunk[j][i]
                    if v is not None:
                        _put(ws, r, j, v, col_fmts[j], fmt)
                if live:
                    k = start + i
                    for t, (a, b) in spec.ratios.items():
                        if ratio_ok[t][k]:
                            ja, jb, jt = colidx[a], colidx[b], colidx[t]
                            f = f'=IF({xl_rowcol_to_cell(r, jb)}=0,"{NA}",{xl_rowcol_to_cell(r, ja)}/{xl_rowcol_to_cell(r, jb)})'
                            cached = _ratio_cached(frame.at[k, t])
                            ws.write_formula(r, jt, f, fmt.na if cached == NA else fmt.percent, cached)
                    for t, parts in spec.row_sums.items():
                        if sum_ok[t][k]:
                            f = "=" + "+".join(xl_rowcol_to_cell(r, colidx[c]) for c in parts)
                            ws.write_formula(r, colidx[t], f, fmt.money, float(_dec(frame.at[k, t]) or 0))
        last = hi - lo
        if stream:
            ws.previous_row = last
            ws._check_dimensions(last, max(len(cols) - 1, 0))
        placed.parts.append((sheet, 1, last))
        ws.freeze_panes(1, 0)
        for j, w in enumerate(widths):
            ws.set_column(j, j, w)
        if cols:
            if table and not book.constant_memory and last >= 1:
                ws.add_table(
                    0, 0, last, len(cols) - 1,
                    {
                        "name": book.table_name(sheet),
                        "style": "Table Style Light 9",
                        "columns": [{"header": lab, "header_format": fmt.header} for lab in labels],
                    },
                )
            else:
                ws.autofilter(0, 0, max(last, 1), len(cols) - 1)
            for c in spec.bands:
                if c in colidx and last >= 1:
                    _band_formats(ws, 1, last, colidx[c], fmt)
        if part == n_parts - 1 and spec.totals is not None:
            _total_row(book, ws, sheet, last + 1, frame, cols, kinds, placed, spec)
    return placed


def _can_stream(ws: Any) -> bool:
    """Whether the constant-memory fast path can be used with this xlsxwriter."""
    return all(hasattr(ws, a) for a in ("fh", "previous_row", "table", "_write_single_row", "_check_dimensions")) and hasattr(
        _XMLwriter, "_escape_control_characters"
    )


from xlsxwriter.xmlwriter import XMLwriter as _XMLwriter  # noqa: E402

_XML_ESCAPES = re.compile(r"[&<>]")
_EDGE_SPACE = re.compile(r"^\s|\s$")


def _xml_text(s: str) -> str:
    s = _XMLwriter._escape_control_characters(s)
    if _XML_ESCAPES.search(s):
        s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return s


def _stream_rows(ws: Any, chunk: list[list], first_row: int, col_fmts: list[Any], fmt: _Formats) -> None:
    """Constant-memory fast path: write whole rows of cell XML to the sheet's row file.

    Produces the same ``<row>/<c>`` XML xlsxwriter's own constant-memory writer
    produces for numbers and inline strings (same escaping), without its per-cell
    bookkeeping. Used only for plain data rows (no formulas) in constant-memory mode.
    """
    letters = [xl_col_to_name(j) for j in range(len(chunk))]
    xf = [f' s="{f._get_xf_index()}"' if f is not None else "" for f in col_fmts]
    na_xf = f' s="{fmt.na._get_xf_index()}"'
    parts: list[str] = []
    app = parts.append
    for i, values in enumerate(zip(*chunk)):
        r = first_row + i + 1  # 1-based row number in the XML
        app(f'<row r="{r}">')
        for j, v in enumerate(values):
            t = type(v)
            if t is float:
                app(f'<c r="{letters[j]}{r}"{xf[j]}><v>{v:.16G}</v></c>')
            elif t is str:
                text = _xml_text(v)
                sp = ' xml:space="preserve"' if _EDGE_SPACE.search(v) else ""
                s_attr = na_xf if (v == NA and col_fmts[j] is not None) else ""
                app(f'<c r="{letters[j]}{r}"{s_attr} t="inlineStr"><is><t{sp}>{text}</t></is></c>')
            elif t is tuple:
                app(f'<c r="{letters[j]}{r}" s="{v[1]._get_xf_index()}"><v>{v[0]:.16G}</v></c>')
        app("</row>")
    ws.fh.write("".join(parts))


def _sum_matches(values: Sequence[Any], target: Any) -> bool:
    t = _dec(target)
    if t is None:
        return False
    return _dec_sum(values) == t


def _total_row(book: _Book, ws: Any, sheet: str, r: int, frame: pd.DataFrame, cols: list[str], kinds: list[str], placed: _Placed, spec: _Spec) -> None:
    fmt = book.fmt
    placed.total_row = (sheet, r)
    label_col = next((j for j, k in enumerate(kinds) if k == "text" and cols[j] not in (spec.totals or {})), 0)
    if spec.total_label_column in placed.columns:
        label_col = placed.columns[spec.total_label_column]
    for j in range(len(cols)):
        ws.write_blank(r, j, None, fmt.total_blank)
    ws.write_string(r, label_col, spec.total_label, fmt.total_label)
    for c, text in spec.total_cells.items():
        if c in placed.columns and placed.columns[c] != label_col:
            ws.write_string(r, placed.columns[c], _clean_text(text), fmt.total_label)
    for c, expected in (spec.totals or {}).items():
        if c not in placed.columns:
            continue
        j = placed.columns[c]
        exp = _dec(expected)
        lines = _dec_sum(frame[c].tolist())
        money = kinds[j] in ("money", "text")
        f_total = fmt.total_money if money else fmt.total_integer
        if exp is not None and lines == exp:
            ws.write_formula(r, j, "=SUM(" + ",".join(placed.ranges(c, here=sheet)) + ")", f_total, float(exp))
        elif exp is not None:
            ws.write_number(r, j, float(exp), f_total)
        spec.total_values[c] = exp
        placed.totals[c] = exp
    for c, (a, b) in spec.total_ratios.items():
        if c not in placed.columns:
            continue
        j, ja, jb = placed.columns[c], placed.columns[a], placed.columns[b]
        reported = spec.total_values.get(c)
        if _ratio_matches(spec.total_values.get(a), spec.total_values.get(b), reported):
            cached = _ratio_cached(reported)
            ws.write_formula(
                r, j, f'=IF({xl_rowcol_to_cell(r, jb)}=0,"{NA}",{xl_rowcol_to_cell(r, ja)}/{xl_rowcol_to_cell(r, jb)})',
                fmt.total_na if cached == NA else fmt.total_percent, cached,
            )
        else:
            v = _frac(reported)
            if v is None:
                ws.write_string(r, j, NA, fmt.total_na)
            else:
                ws.write_number(r, j, v, fmt.total_percent)
    if spec.bands:
        for c in spec.bands:
            if c in placed.columns:
                _band_formats(ws, r, r, placed.columns[c], fmt)


def _band_formats(ws: Any, r0: int, r1: int, col: int, fmt: _Formats) -> None:
    """Attainment bands by formula (a text ``n/a`` never matches a band)."""
    cell = xl_rowcol_to_cell(r0, col, col_abs=True)
    for lo, hi, band_fmt in fmt.bands:
        cond = [f"ISNUMBER({cell})"]
        if lo is not None:
            cond.append(f"{cell}>={_xl_number(lo)}")
        if hi is not None:
            cond.append(f"{cell}<{_xl_number(hi)}")
        ws.conditional_format(r0, col, r1, col, {"type": "formula", "criteria": "=AND(" + ",".join(cond) + ")", "format": band_fmt})


def _xl_number(x: float) -> str:
    """A float as an Excel formula literal that reads back as the same double (``0.85``, ``1E-05``)."""
    return repr(float(x)).upper()


def _widths(frame: pd.DataFrame, cols: list[str], kinds: list[str], labels: list[str], currency: str) -> list[float]:
    """Column widths fitting the formatted values (vectorised; exact for text)."""
    out = []
    for c, k, label in zip(frame.columns, kinds, labels):
        s = frame[c]
        w = len(label)
        if len(s):
            if k == "text":
                lens = s.map(lambda v: 0 if _is_missing(v) else len(str(v)), na_action=None) if s.dtype == object else s.astype("str").str.len()
                w = max(w, int(pd.Series(lens).fillna(0).max()))
            elif k == "money":
                widest = _max_abs(_dec(v) for v in s)
                if widest is not None:
                    w = max(w, len(format_cell(-widest, c, currency)))
            elif k == "percent":
                widest = _max_abs(_frac(v) for v in s)
                w = max(w, len(format_cell(-widest, c, currency)) if widest is not None else 3)
            elif k == "date":
                w = max(w, 16 if _has_time(s) else 10)
            elif k in ("integer", "number"):
                widest = _max_abs(_frac(v) for v in s)
                w = max(w, len(format_cell(-int(widest) if k == "integer" else -widest, c, currency)) if widest is not None else 3)
            elif k == "bool":
                w = max(w, 3)
        out.append(min(max(w + 2, _MIN_WIDTH), _MAX_WIDTH))
    return out


def _max_abs(values: Iterable[Any]) -> Any:
    """Largest absolute value of ``values`` (None skipped; None when there is none), streamed.

    Streaming matters on a million-row money column: a list of ``abs()`` copies
    would hold a second Decimal per row (about 110 MB) while the sheet is written.
    """
    hi = lo = None
    for v in values:
        if v is None:
            continue
        if hi is None:
            hi = lo = v
        elif v > hi:
            hi = v
        elif v < lo:
            lo = v
    return None if hi is None else max(abs(hi), abs(lo))


def _has_time(s: pd.Series) -> bool:
    try:
        dt = pd.to_datetime(s.head(1000))
        return bool((dt.dropna() != dt.dropna().dt.normalize()).any())
    except (TypeError, ValueError, OverflowError, pd.errors.OutOfBoundsDatetime, AttributeError):
        return False


# ---------------------------------------------------------------------------
# Summary sheet
# ---------------------------------------------------------------------------


def _summary_rows(report: Any) -> list[tuple[str, str, Any]]:
    """(key, label, value) rows of the Summary sheet: identity first, then ``summary``."""
    if report.kind == "team":
        ident = [
            ("team", "Team", report.name),
            ("sales_manager", "Sales manager", report.sales_manager),
        ]
    else:
        ident = [
            ("account_manager_id", "Account manager ID", report.id),
            ("name", "Name", report.name),
            ("team", "Team", report.team),
            ("sales_manager", "Sales manager", report.sales_manager),
            ("region", "Region", report.region),
        ]
    ident += [
        ("period", "Period", report.period),
        ("period_start", "Period start", report.period_start),
        ("period_end", "Period end", report.period_end),
        ("as_of", "As of", report.as_of),
        ("currency", "Currency", report.currency),
    ]
    rows = ident + [(str(k), column_label(str(k)), v) for k, v in (report.summary or {}).items()]
    rows += [("note", "Note", n) for n in report.notes]
    return rows


_SUMMARY_RATIOS = {
    "attainment": ("revenue", "quota"),
    "ytd_attainment": ("ytd_revenue", "ytd_quota"),
    "forecast_attainment": ("forecast", "annual_quota"),
}


#: A team's (or the company's) figure set against quota: its attainment basis.
_BASIS_KEYS = {"revenue": "credited_revenue", "ytd_revenue": "ytd_credited_revenue", "forecast": "credited_forecast"}


def _ratio_keys(key: str, available: Collection[str]) -> tuple[str, str] | None:
    """Numerator and denominator keys of a summary ratio.

    A team's (or the company's) attainment divides its *attainment basis*,
    ``credited_revenue`` / ``ytd_credited_revenue`` / ``credited_forecast``,
    when the report has one (the team roll-up rule,
    :func:`reportkit.domain.quota.pooled_attainment`); otherwise ``revenue`` /
    ``ytd_revenue`` / ``forecast``.
    """
    ratio = _SUMMARY_RATIOS.get(key)
    if ratio is None:
        return None
    basis = _BASIS_KEYS[ratio[0]]
    return (basis, ratio[1]) if basis in available else ratio


def _write_summary(book: _Book, sheet: str, ws: Any, report: Any, links: dict[str, tuple[list[str], Any]]) -> None:
    """The Summary sheet: Item / Value, with attainment and linked totals live.

    ``links`` maps a summary key to (ranges or cells to SUM, expected figure): the
    cell becomes ``=SUM(...)`` of that other sheet when the figures agree.
    """
    fmt, tz = book.fmt, book.tz
    ws.write_string(0, 0, "Item", fmt.header)
    ws.write_string(0, 1, "Value", fmt.header)
    rows = _summary_rows(report)
    row_of = {key: i for i, (key, _, _) in enumerate(rows, start=1)}
    summary = report.summary or {}
    width = 12
    for i, (key, label, value) in enumerate(rows, start=1):
        ws.write_string(i, 0, label)
        kind = "percent" if _is_percent_key(key) else ("money" if isinstance(value, Decimal) else "")
        ratio = _ratio_keys(key, row_of)
        if ratio and ratio[0] in row_of and ratio[1] in row_of and _ratio_matches(summary.get(ratio[0]), summary.get(ratio[1]), value):
            num, den = xl_rowcol_to_cell(row_of[ratio[0]], 1), xl_rowcol_to_cell(row_of[ratio[1]], 1)
            cached = _ratio_cached(value)
            ws.write_formula(i, 1, f'=IF({den}=0,"{NA}",{num}/{den})', fmt.na if cached == NA else fmt.percent, cached)
            _band_formats(ws, i, i, 1, fmt)
        elif key in links and isinstance(value, Decimal) and links[key][1] is not None and _dec(links[key][1]) == value:
            ws.write_formula(i, 1, "=SUM(" + ",".join(links[key][0]) + ")", fmt.money, float(value))
        else:
            _write_value(ws, i, 1, value, kind, fmt, tz)
            if key in _ATTAINMENT_KEYS:
                _band_formats(ws, i, i, 1, fmt)
        width = max(width, len(format_cell(value, key, report.currency)))
    ws.set_column(0, 0, max(len(r[1]) for r in rows) + 2 if rows else 12)
    ws.set_column(1, 1, min(width + 2, _MAX_WIDTH))
    ws.freeze_panes(1, 0)


# ---------------------------------------------------------------------------
# sheet specs per report kind
# ---------------------------------------------------------------------------


def _am_spec(attr: str, report: Any) -> _Spec:
    if attr == "quarterly":
        return _Spec(ratios={"attainment": ("revenue", "quota")}, bands=("attainment",))
    if attr == "forecast":
        return _Spec(ratios={"forecast_attainment": ("forecast", "annual_quota")}, bands=("forecast_attainment",))
    if attr == "commission":
        frame = report.commission
        if frame is None or "amount" not in frame.columns:
            return _Spec()
        total = (report.summary or {}).get("commission_total")
        if total is None:
            total = _dec_sum(frame["amount"])
        return _Spec(totals={"amount": total}, total_label="Total")
    return _Spec()


def _team_spec(attr: str, report: Any) -> _Spec:
    s = report.summary or {}
    if attr == "quarterly" and "credited_revenue" in report.quarterly.columns:
        return _Spec(ratios={"attainment": ("credited_revenue", "quota")}, bands=("attainment",))
    if attr in ("leaderboard", "quarterly"):
        return _Spec(ratios={"attainment": ("revenue", "quota")}, bands=("attainment",))
    if attr == "commission_expense":
        frame = report.commission_expense
        totals = {c: _dec_sum(frame[c]) for c in ("commission", "bonus") if c in frame.columns}
        if "total" in frame.columns:
            totals["total"] = s.get("commission_expense", _dec_sum(frame["total"]))
        rs = {"total": ["commission", "bonus"]} if {"commission", "bonus", "total"} <= set(frame.columns) else {}
        return _Spec(row_sums=rs, totals=totals)
    return _Spec()


def _split_forecast_total(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series | None]:
    """Team forecast roll-up: member rows, and the team-total row (the last one) if any."""
    if frame is None or frame.empty or "account_manager_id" not in frame.columns:
        return frame, None
    last = frame.iloc[-1]
    if str(last.get("account_manager_id")) in ("TOTAL", "(team)") or str(last.get("name", "")) == "Team total":
        return frame.iloc[:-1].reset_index(drop=True), last
    return frame, None


def _write_forecast_rollup(book: _Book, frame: pd.DataFrame, table: bool) -> _Placed:
    members, total = _split_forecast_total(frame)
    spec = _Spec(ratios={"forecast_attainment": ("forecast", "annual_quota")}, bands=("forecast_attainment",))
    if total is not None:
        money_cols = [c for c in ("ytd_revenue", "forecast", "annual_quota", "low", "high") if c in members.columns]
        spec.totals = {c: total[c] for c in money_cols}
        spec.total_ratios = {"forecast_attainment": ("forecast", "annual_quota")} if "forecast_attainment" in members.columns else {}
        spec.total_values = {"forecast_attainment": total.get("forecast_attainment")}
        spec.total_label = str(total.get("name", "Team total"))
        spec.total_label_column = "name"
        spec.total_cells = {"account_manager_id": str(total.get("account_manager_id"))}  # the report's marker, e.g. TOTAL
    return write_frame_sheet(book, "Forecast roll-up", members, spec, table=table)


def _write_distribution(book: _Book, frame: pd.DataFrame, leaderboard: _Placed | None, lb_frame: pd.DataFrame | None) -> _Placed:
    """Attainment bands: counts are COUNTIFS over the leaderboard when they agree."""
    placed = write_frame_sheet(book, "Attainment distribution", frame, table=True)
    if leaderboard is None or lb_frame is None or "attainment" not in leaderboard.columns or "count" not in placed.columns:
        return placed
    bounds = {label: (lo, hi) for label, lo, hi in ATTAINMENT_BANDS}
    att = [_frac(v) for v in lb_frame["attainment"].tolist()]
    rngs = leaderboard.ranges("attainment")
    sheet, r0, _ = placed.parts[0]
    ws = book.wb.get_worksheet_by_name(sheet)
    jc = placed.columns["count"]
    for i, (band, count) in enumerate(zip(frame["band"].tolist(), frame["count"].tolist())):
        if band == NA:
            expected = sum(1 for a in att if a is None)
            formula = "=" + "+".join(f'COUNTIF({g},"{NA}")' for g in rngs)
        elif band in bounds:
            lo, hi = bounds[band]
            expected = sum(1 for a in att if a is not None and lo <= a < hi)
            crit = []
            for g in rngs:
                c = [g, '">=-1E+300"'] if not math.isfinite(lo) else [g, f'">={lo!r}"']
                if math.isfinite(hi):
                    c += [g, f'"<{hi!r}"']
                crit.append("COUNTIFS(" + ",".join(c) + ")")
            formula = "=" + "+".join(crit)
        else:
            continue
        if not _is_missing(count) and int(count) == expected and rngs:
            ws.write_formula(r0 + i, jc, formula, book.fmt.integer, int(count))
    return placed


# ---------------------------------------------------------------------------
# charts
# ---------------------------------------------------------------------------


def _quarterly_chart(book: _Book, placed: _Placed, title: str, n: int, column: str = "revenue", name: str = "Revenue") -> None:
    """Revenue columns (``column`` of the quarterly sheet, named ``name``) against a quota line."""
    if n < 1 or not {"period", column} <= set(placed.columns) or placed.chart_anchor is None:
        return
    sheet, ws, anchor_col = placed.chart_anchor
    cats = [sheet, 1, placed.columns["period"], n, placed.columns["period"]]
    chart = book.wb.add_chart({"type": "column"})
    chart.add_series({"name": name, "categories": cats, "values": [sheet, 1, placed.columns[column], n, placed.columns[column]], "fill": {"color": "#4472C4"}})
    if "quota" in placed.columns:
        line = book.wb.add_chart({"type": "line"})
        line.add_series({"name": "Quota", "categories": cats, "values": [sheet, 1, placed.columns["quota"], n, placed.columns["quota"]],
                         "line": {"color": "#C00000", "width": 2.25}, "marker": {"type": "diamond"}})
        chart.combine(line)
    chart.set_title({"name": title})
    chart.set_y_axis({"num_format": money_format(book.currency), "major_gridlines": {"visible": True}})
    chart.set_legend({"position": "bottom"})
    ws.insert_chart(1, anchor_col, chart, {"x_scale": 1.3, "y_scale": 1.2})


def _attainment_chart(book: _Book, placed: _Placed, label_col: str, title: str, n: int) -> None:
    if n < 1 or label_col not in placed.columns or "attainment" not in placed.columns or placed.chart_anchor is None:
        return
    sheet, ws, anchor_col = placed.chart_anchor
    chart = book.wb.add_chart({"type": "bar"})
    chart.add_series({
        "name": "Attainment",
        "categories": [sheet, 1, placed.columns[label_col], n, placed.columns[label_col]],
        "values": [sheet, 1, placed.columns["attainment"], n, placed.columns["attainment"]],
        "fill": {"color": "#4472C4"},
        "data_labels": {"value": True, "num_format": "0.0%"},
    })
    chart.set_title({"name": title})
    chart.set_x_axis({"num_format": "0%", "min": 0})
    chart.set_y_axis({"reverse": True})
    chart.set_legend({"none": True})
    ws.insert_chart(1, anchor_col, chart, {"x_scale": 1.3, "y_scale": max(1.0, min(4.0, n / 12))})


# ---------------------------------------------------------------------------
# public writers
# ---------------------------------------------------------------------------


def _props(book: _Book, title: str, subject: str, as_of: datetime.date, company: str, comments: str) -> None:
    book.wb.set_properties(
        {
            "title": title,
            "subject": subject,
            "author": "reportkit",
            "manager": "",
            "company": company or "",
            "category": "Sales report",
            "keywords": "reportkit, sales, quota, commission",
            "comments": comments,
            "created": datetime.datetime.combine(as_of, datetime.time()),
        }
    )


def _needs_constant_memory(frames: Iterable[pd.DataFrame | None]) -> bool:
    return any(f is not None and len(f) > CONSTANT_MEMORY_ROWS for f in frames)


def _atomic(path: Path, build: Callable[[Path], None]) -> Path:
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.xlsx")
    try:
        build(tmp)
        os.replace(tmp, path)
    except (OSError, xlsxwriter.exceptions.FileCreateError) as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(
            f"cannot write workbook {str(path)!r}: {exc}", hint="check the folder exists and is writable"
        ) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_workbook(
    report: Any,
    path: str | Path,
    *,
    company: str = "",
    timezone: str | datetime.tzinfo | None = None,
    miss_below: float | None = None,
    overflow: str = "split",
    constant_memory: bool | None = None,
) -> Path:
    """Write the Excel workbook of one report, atomically.

    Parameters
    ----------
    report : AccountManagerReport or TeamReport
        The report object (the same one the notebook renders).
    path : str or Path
        Destination ``.xlsx``; its folder must exist. The workbook is written to
        a temporary file next to it and moved into place with :func:`os.replace`,
        so readers never see half a file.
    company : str, default ""
        Document property *Company* (e.g. the params ``name``).
    timezone : str or tzinfo, optional
        The report's timezone (an IANA name such as ``"Europe/Berlin"``): timezone-aware
        timestamps are converted to it before the timezone is dropped (Excel has
        none), so a deal closed at 23:30 local time stays on its day. Naive
        timestamps are taken as local. Default: the report's ``timezone`` (params
        ``timezone``, itself UTC by default).
    miss_below : float, optional
        Attainment fraction below which a quarter is a miss: the red band of the
        attainment colours (see :func:`attainment_bands`). Default: the report's
        ``miss_below`` (params ``performance.miss_below``, 0.9 by default).
    overflow : {"split", "error"}, default "split"
        A frame longer than a sheet (1,048,575 rows below the header) continues on
        ``Deals (2)``, ``Deals (3)``...; ``"error"`` raises :class:`OutputError`.
    constant_memory : bool, optional
        Force xlsxwriter's constant-memory mode on or off; by default on when a
        frame has more than :data:`CONSTANT_MEMORY_ROWS` rows.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OutputError
        The file could not be written (folder missing, not writable, disk full),
        or a frame is too long for one sheet with ``overflow="error"``.
    ValueError
        An unknown timezone, a ``miss_below`` that is not a finite number >= 0,
        or an ``overflow`` other than "split" / "error".
    """
    team = report.kind == "team"
    tz = getattr(report, "timezone", DEFAULT_TIMEZONE) if timezone is None else timezone
    mb = getattr(report, "miss_below", DEFAULT_MISS_BELOW) if miss_below is None else miss_below
    sheets = TEAM_SHEETS if team else AM_SHEETS
    frames = [getattr(report, attr, None) for _, attr in sheets]
    cm = _needs_constant_memory(frames) if constant_memory is None else bool(constant_memory)

    def build(tmp: Path) -> None:
        book = _Book(tmp, report.currency, tz, cm, overflow, mb)
        _props(
            book,
            f"{report.name} — {report.period}",
            "Team report" if team else "Account manager report",
            report.as_of,
            company,
            f"{report.period} ({report.period_start.isoformat()} to {report.period_end.isoformat()}), as of {report.as_of.isoformat()}; "
            "formulas recalculate to reportkit's figures",
        )
        summary_sheet, summary_ws = book.add_sheet("Summary")
        placed: dict[str, _Placed] = {}
        for sheet_name, attr in sheets:
            frame = getattr(report, attr)
            if team and attr == "forecast":
                placed[attr] = _write_forecast_rollup(book, frame, table=True)
            elif team and attr == "attainment_distribution":
                placed[attr] = _write_distribution(book, frame, placed.get("leaderboard"), report.leaderboard)
            else:
                spec = _team_spec(attr, report) if team else _am_spec(attr, report)
                placed[attr] = write_frame_sheet(book, sheet_name, frame, spec, table=attr not in ("accounts", "deals"))
        links: dict[str, tuple[list[str], Any]] = {}
        s = report.summary or {}
        if team:
            _attainment_chart(book, placed["leaderboard"], "name", "Attainment by account manager", len(report.leaderboard))
            # set against quota: the attainment basis (the quarterly attainment's numerator)
            _quarterly_chart(book, placed["quarterly"], "Quarterly credited revenue (attainment basis) against quota",
                             len(report.quarterly), "credited_revenue", "Credited revenue (attainment basis)")
            ce = placed["commission_expense"].total_ref("total")
            if ce:
                links["commission_expense"] = ([ce], s.get("commission_expense"))
            lb = report.leaderboard
            for key in ("revenue", "quota", "commission"):
                if key in placed["leaderboard"].columns and key in s and _sum_matches(lb[key].tolist(), s.get(key)):
                    links[key] = (placed["leaderboard"].ranges(key), s.get(key))
        else:
            _quarterly_chart(book, placed["quarterly"], "Quarterly revenue against quota", len(report.quarterly))
            ct = placed["commission"].total_ref("amount")
            if ct:
                links["commission_total"] = ([ct], s.get("commission_total"))
            deals = report.deals
            if deals is not None and "amount" in deals.columns and _sum_matches(deals["amount"].tolist(), s.get("revenue")):
                links["revenue"] = (placed["deals"].ranges("amount"), s.get("revenue"))
        _write_summary(book, summary_sheet, summary_ws, report, links)
        book.wb.close()

    return _atomic(path, build)


_ROLLUP_COLUMNS = (
    ("team", "Team"),
    ("sales_manager", "Sales manager"),
    ("members", "Members"),
    ("revenue", "Revenue (each deal once)"),
    ("credited_revenue", "Credited revenue (attainment basis)"),
    ("quota", "Quota"),
    ("attainment", "Attainment"),
    ("ytd_revenue", "YTD revenue (each deal once)"),
    ("ytd_credited_revenue", "YTD credited revenue (attainment basis)"),
    ("ytd_quota", "YTD quota"),
    ("ytd_attainment", "YTD attainment"),
    ("commission_expense", "Commission expense"),
    ("forecast", "Forecast (each deal once)"),
    ("credited_forecast", "Credited forecast (attainment basis)"),
    ("annual_quota", "Annual quota"),
    ("forecast_attainment", "Forecast attainment"),
    ("on_watch", "On watch"),
)


def write_company_workbook(
    team_reports: Sequence[Any],
    path: str | Path,
    *,
    title: str,
    as_of: datetime.date,
    rollup: Mapping[str, Any],
    company: str = "",
) -> Path:
    """Write the company workbook of a batch: a roll-up sheet and one sheet per team.

    Parameters
    ----------
    team_reports : list of TeamReport
        The batch's team reports (any order; sheets are ordered by team name).
        They must share one currency and period.
    path : str or Path
        Destination ``.xlsx`` (written atomically).
    title : str
        Document title, also the roll-up sheet's heading (e.g. ``"Demo Co — FY2025-Q4"``).
    as_of : date
        Report date; the workbook's *created* property.
    rollup : mapping
        The company's own figures, :func:`reportkit.reports.builders.build_company_rollup`
        (same keys as the team summaries, plus ``notes``). The ``Company total``
        row shows exactly these.
    company : str, default ""
        Document property *Company*.

    Layout
    ------
    ``Company``: one row per team (revenue (each deal once), credited revenue
    (attainment basis), quota, attainment, YTD, commission expense, forecast
    (each deal once), credited forecast (attainment basis), annual quota,
    forecast attainment, on watch), then the ``Company total`` row from
    ``rollup``: a cell is ``SUM`` of the team rows where that sum is the company
    figure, otherwise the company figure itself (teams that share deals would
    double count), and attainment is live where it equals credited revenue /
    quota. Below the table: ``rollup``'s notes, and which columns are not the sum
    of the teams and why. Each team's figures reference its own sheet's total
    row where they agree. Each team sheet is that team's leaderboard with a
    ``Team total`` row.

    Timezone and attainment colour bands come from the team reports (params
    ``timezone`` and ``performance.miss_below``, carried by every report).

    Raises
    ------
    ValueError
        The reports mix currencies, periods, timezones or miss thresholds.
    OutputError
        The file could not be written.
    """
    reports = sorted(team_reports, key=lambda r: (str(r.name), str(r.id)))
    currencies = {r.currency for r in reports}
    periods = {r.period for r in reports}
    zones = {str(getattr(r, "timezone", DEFAULT_TIMEZONE)) for r in reports}
    misses = {float(getattr(r, "miss_below", DEFAULT_MISS_BELOW)) for r in reports}
    if len(currencies) > 1 or len(periods) > 1 or len(zones) > 1 or len(misses) > 1:
        raise ValueError(
            f"team reports mix currencies {sorted(currencies)}, periods {sorted(periods)}, timezones {sorted(zones)} "
            f"or miss thresholds {sorted(misses)}: one company workbook holds one of each (build them from one params file)"
        )
    currency = next(iter(currencies), "USD")
    tz = next(iter(zones), DEFAULT_TIMEZONE)
    mb = next(iter(misses), DEFAULT_MISS_BELOW)

    def build(tmp: Path) -> None:
        book = _Book(tmp, currency, tz, False, "split", mb)
        _props(book, title, "Company roll-up", as_of, company, f"as of {as_of.isoformat()}; one sheet per team and a roll-up")
        rollup_sheet, rws = book.add_sheet("Company")
        team_totals: list[tuple[Any, _Placed]] = []
        for rep in reports:
            lb = rep.leaderboard
            s = rep.summary or {}
            totals = {}
            for key, sk in (("revenue", "revenue"), ("quota", "quota"), ("commission", "commission_expense"), ("forecast", "forecast")):
                if key in lb.columns:
                    totals[key] = s.get(sk)
            spec = _Spec(
                ratios={"attainment": ("revenue", "quota")},
                totals=totals,
                total_ratios={"attainment": ("revenue", "quota")} if "attainment" in lb.columns else {},
                total_values={"attainment": s.get("attainment")},
                total_label="Team total",
                bands=("attainment",),
            )
            placed = write_frame_sheet(book, str(rep.name), lb, spec, table=True)
            _attainment_chart(book, placed, "name", f"{rep.name}: attainment by account manager", len(lb))
            team_totals.append((rep, placed))
        _write_rollup(book, rollup_sheet, rws, title, team_totals, rollup)
        book.wb.close()

    return _atomic(path, build)


def _write_rollup(
    book: _Book, sheet: str, ws: Any, title: str, teams: list[tuple[Any, _Placed]], rollup: Mapping[str, Any]
) -> None:
    fmt = book.fmt
    keys = [k for k, _ in _ROLLUP_COLUMNS]
    col = {k: j for j, k in enumerate(keys)}
    kinds = {k: ("percent" if _is_percent_key(k) else "integer" if k in ("members", "on_watch") else "text" if k in ("team", "sales_manager") else "money") for k in keys}
    for j, (_, label) in enumerate(_ROLLUP_COLUMNS):
        ws.write_string(0, j, label, fmt.header)
    links = {"revenue": "revenue", "quota": "quota", "commission_expense": "commission", "forecast": "forecast"}
    widths = [len(label) for _, label in _ROLLUP_COLUMNS]
    n = len(teams)
    for i, (rep, placed) in enumerate(teams, start=1):
        s = dict(rep.summary or {})
        s.update(team=rep.name, sales_manager=rep.sales_manager)
        for k in keys:
            v, j = s.get(k), col[k]
            widths[j] = max(widths[j], len(format_cell(v, k, book.currency)))
            ratio = _ratio_keys(k, {x for x in s if s[x] is not None})
            if ratio and _ratio_matches(s.get(ratio[0]), s.get(ratio[1]), v):
                a, b = xl_rowcol_to_cell(i, col[ratio[0]]), xl_rowcol_to_cell(i, col[ratio[1]])
                cached = _ratio_cached(v)
                ws.write_formula(i, j, f'=IF({b}=0,"{NA}",{a}/{b})', fmt.na if cached == NA else fmt.percent, cached)
                continue
            ref = placed.total_ref(links[k]) if k in links else None
            if ref and _dec(v) is not None and _dec(v) == placed.totals.get(links[k]):
                ws.write_formula(i, j, f"={ref}", fmt.money, float(_dec(v)))
                continue
            _write_value(ws, i, j, v, kinds[k] if kinds[k] != "text" else "", fmt, book.tz)
    # company total
    r = n + 1
    for j in range(len(keys)):
        ws.write_blank(r, j, None, fmt.total_blank)
    ws.write_string(r, 0, "Company total", fmt.total_label)
    not_summed: list[str] = []
    for k in keys:
        if kinds[k] not in ("money", "integer"):
            continue
        v = rollup.get(k)
        vals = [(rep.summary or {}).get(k) for rep, _ in teams]
        if kinds[k] == "integer":
            if isinstance(v, numbers.Integral) and n and v == sum(int(x) for x in vals if isinstance(x, numbers.Integral)):
                ws.write_formula(r, col[k], f"=SUM({_range(None, 1, n, col[k])})", fmt.total_integer, int(v))
            elif isinstance(v, numbers.Integral):
                ws.write_number(r, col[k], int(v), fmt.total_integer)
            continue
        d = _dec(v)
        if d is None:
            continue
        if n and _sum_matches(vals, d):
            ws.write_formula(r, col[k], f"=SUM({_range(None, 1, n, col[k])})", fmt.total_money, float(d))
        else:
            ws.write_number(r, col[k], float(d), fmt.total_money)
            not_summed.append(dict(_ROLLUP_COLUMNS)[k])
    for k in _SUMMARY_RATIOS:
        a, b = _ratio_keys(k, {x for x in rollup if rollup[x] is not None})  # type: ignore[misc]
        v = rollup.get(k)
        if _ratio_matches(rollup.get(a), rollup.get(b), v):
            cached = _ratio_cached(v)
            ws.write_formula(
                r, col[k], f'=IF({xl_rowcol_to_cell(r, col[b])}=0,"{NA}",{xl_rowcol_to_cell(r, col[a])}/{xl_rowcol_to_cell(r, col[b])})',
                fmt.total_na if cached == NA else fmt.total_percent, cached,
            )
        elif _frac(v) is None:
            ws.write_string(r, col[k], NA, fmt.total_na)
        else:
            ws.write_number(r, col[k], _frac(v), fmt.total_percent)
    notes = [str(x) for x in rollup.get("notes", ())]
    if not_summed:
        notes.append(
            f"Company total of {', '.join(not_summed)}: the company's own figure, not the sum of the team rows "
            "(teams share deals or members' credits overlap, so a sum would count them twice)."
        )
    for i, text in enumerate(notes):
        ws.write_string(r + 2 + i, 0, _clean_text(text))
    for k in _ATTAINMENT_KEYS:
        _band_formats(ws, 1, r, col[k], fmt)
    for j, w in enumerate(widths):
        ws.set_column(j, j, min(max(w + 2, _MIN_WIDTH), _MAX_WIDTH))
    ws.freeze_panes(1, 0)
    if n:
        ws.add_table(0, 0, n, len(keys) - 1, {
            "name": book.table_name(sheet), "style": "Table Style Light 9",
            "columns": [{"header": label, "header_format": fmt.header} for _, label in _ROLLUP_COLUMNS],
        })
        placed = _Placed(parts=[(sheet, 1, n)], columns=col, chart_anchor=(sheet, ws, len(keys) + 1))
        _attainment_chart(book, placed, "team", "Attainment by team", n)
    else:
        ws.autofilter(0, 0, 1, len(keys) - 1)


