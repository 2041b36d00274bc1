"""Cell values: a frame column's values -> what xlsxwriter writes (number, text, date serial, blank).

``NaN`` / ``None`` / ``inf`` never become numbers (missing fractions show ``n/a``);
text is always text, cut with a marker at Excel's 32,767 characters; dates are
Excel serials in the report's timezone, or ISO text outside Excel's calendar.
Columns are converted a chunk at a time (:func:`_convert`).
"""

from __future__ import annotations

import datetime
import math
import numbers
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from ..cell_kinds import NA, is_missing
from .formats import _Formats

EXCEL_MAX_STRING = 32_767
"""Characters in one cell."""


_TRUNCATED = " [truncated by reportkit: Excel holds at most 32,767 characters]"


_NUMBERS = frozenset({Decimal, float, int})
"""Types a numeric column's value is converted with ``float`` (not bool, a subclass of int: it is no number here)."""
_NUMBERS_OR_NONE = _NUMBERS | {type(None)}

_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_FIRST_EXCEL_DATE = pd.Timestamp("1900-03-01")  # before it Excel's serials are off by one (1900 leap bug)
_LAST_EXCEL_DATE = pd.Timestamp("9999-12-31 23:59:59")

PLAIN_DATES = frozenset({datetime.date, type(None)})
"""Types of a date column read as calendar days (``datetime.date`` exactly, not a datetime; None missing):
the usual column of a report, converted without pandas (:func:`_convert`)."""
_EPOCH_ORDINAL = _EXCEL_EPOCH.date().toordinal()
_FIRST_PLAIN_DAY = _FIRST_EXCEL_DATE.date()
"""From this day on a day's serial is its ordinal's distance from the epoch; a day before goes :func:`_date_cell`'s way."""


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
    if is_missing(v):
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
    kinds = set(map(type, values))
    if kind == "money" or kind == "number" or kind == "integer":
        if kinds <= _NUMBERS:  # the usual column: every value converted at once, then checked
            out = list(map(float, values))
            if all(map(math.isfinite, out)):
                return out
        elif kinds <= _NUMBERS_OR_NONE:
            out = [None if v is None else float(v) for v in values]
            if all(v is None or math.isfinite(v) for v in out):
                return out
        out = []
        for v in values:
            if v is None:
                out.append(None)
            elif type(v) is Decimal or type(v) is float or type(v) is int:
                f = float(v)
                out.append(f if math.isfinite(f) else (None if f != f else NA))
            elif is_missing(v):
                out.append(None)
            elif isinstance(v, (numbers.Real, Decimal)) and not isinstance(v, (bool, np.bool_)):
                f = float(v)
                out.append(f if math.isfinite(f) else (None if f != f else NA))
            else:
                out.append(_generic(v, tz, fmt))
        return out
    if kind == "percent":
        if kinds <= _NUMBERS:
            out = list(map(float, values))
            if all(map(math.isfinite, out)):
                return out
        out = []
        for v in values:
            if isinstance(v, (float, int, Decimal, numbers.Real)) and not isinstance(v, (bool, np.bool_)):
                f = float(v)
                out.append(f if math.isfinite(f) else NA)
            elif is_missing(v):
                out.append(NA)
            else:
                out.append(_generic(v, tz, fmt))
        return out
    if kind == "date":
        if kinds <= PLAIN_DATES:  # calendar days: what pandas' path below gives them, day by day
            first = _FIRST_PLAIN_DAY
            return [
                None if v is None else float(v.toordinal() - _EPOCH_ORDINAL) if v >= first else _date_cell(v, tz, fmt)
                for v in values
            ]
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
        return [None if is_missing(v) else ("yes" if bool(v) else "no") for v in values]
    # text
    if kinds == {str} and max(map(len, values)) <= EXCEL_MAX_STRING:
        return list(values)
    out = []
    for v in values:
        if type(v) is str:
            out.append(v if len(v) <= EXCEL_MAX_STRING else _clean_text(v))
        elif is_missing(v):
            out.append(None)
        else:
            out.append(_generic(v, tz, fmt))
    return out


def _generic(v: Any, tz: datetime.tzinfo, fmt: _Formats) -> Any:
    """A value of an unexpected type in its column: written by its own type."""
    if is_missing(v):
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


def _string_format(v: str, col_fmt: Any, fmt: _Formats) -> Any:
    """The format of text ``v`` in a column whose format is ``col_fmt``: the one rule for a text cell's look.

    A long-text column's text wraps in its cell (``fmt.wrap``); the ``n/a`` marker in a
    numeric column is set as ``fmt.na``; any other text is ``fmt.text``.
    """
    if col_fmt is fmt.wrap:
        return col_fmt
    return fmt.na if (v == NA and col_fmt is not None) else fmt.text


def _put(ws: Any, row: int, col: int, v: Any, col_fmt: Any, fmt: _Formats) -> None:
    """Write one converted value (:func:`_convert`'s item) in a column whose format is ``col_fmt``."""
    t = type(v)
    if t is float:
        ws.write_number(row, col, v, col_fmt)
    elif t is str:
        ws.write_string(row, col, v, _string_format(v, col_fmt, fmt))
    elif t is tuple:
        ws.write_number(row, col, v[0], v[1])


def _write_value(ws: Any, row: int, col: int, value: Any, kind: str, fmt: _Formats, tz: datetime.tzinfo) -> None:
    """Write one cell of a mixed column (the Summary sheet)."""
    if kind in ("money", "percent"):
        v = _convert([value], kind, tz, fmt)[0]
    else:
        v = _generic(value, tz, fmt)
    _put(ws, row, col, v, fmt.for_kind(kind) or (fmt.money if isinstance(value, Decimal) else None), fmt)
