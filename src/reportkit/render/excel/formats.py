"""The one format set of reportkit's workbooks: number formats, cell formats, attainment colours.

Money in the dataset currency's symbol and decimals (:func:`money_format`),
fractions as percent, dates ``yyyy-mm-dd``; the header, total-row and ``n/a``
styles; the attainment colour bands of the performance policy
(:func:`attainment_bands`) and their conditional formats; which kind of column
(money, percent, date, integer, number, bool, text) a frame column is.
"""

from __future__ import annotations

import datetime
import math
import numbers
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from ...config.params import PerformancePolicy
from ...core.currency import currency_info
from ..cell_kinds import is_missing, is_percent_key

_MIN_WIDTH, _MAX_WIDTH = 8, 60


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
    if (
        isinstance(miss_below, bool)
        or not isinstance(miss_below, numbers.Real)
        or not math.isfinite(miss_below)
        or miss_below < 0
    ):
        raise ValueError(
            f"miss_below must be a finite attainment fraction >= 0 (params performance.miss_below), got {miss_below!r}"
        )
    m = float(miss_below)
    bands: list[tuple[float | None, float | None, str]] = [(None, m, _MISS)]
    if m < QUOTA_MET:
        bands.append((m, QUOTA_MET, _SHORT))
    bands.append((max(m, QUOTA_MET), None, _MET))
    return tuple(bands)


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
        self.wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        self.print_title = wb.add_format({"bold": True, "font_size": 12, "text_wrap": True, "valign": "top"})
        self.total_label = wb.add_format({"bold": True, "top": 1})
        self.total_money = wb.add_format({"bold": True, "top": 1, "num_format": money_format(currency)})
        self.total_percent = wb.add_format({"bold": True, "top": 1, "num_format": "0.0%"})
        self.total_integer = wb.add_format({"bold": True, "top": 1, "num_format": "#,##0"})
        self.total_na = wb.add_format({"bold": True, "top": 1, "align": "right", "font_color": "#718096"})
        self.total_blank = wb.add_format({"top": 1})
        self.bands = [(lo, hi, wb.add_format({"bg_color": color})) for lo, hi, color in attainment_bands(miss_below)]

    def for_kind(self, kind: str, total: bool = False) -> Any:
        if total:
            return {"money": self.total_money, "percent": self.total_percent, "integer": self.total_integer}.get(
                kind, self.total_blank
            )
        return {
            "money": self.money,
            "percent": self.percent,
            "integer": self.integer,
            "number": self.number,
            "date": self.date,
        }.get(kind)


def _kind_of(series: pd.Series, name: str) -> str:
    if is_percent_key(name):
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
        if is_missing(v):
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


def _band_formats(ws: Any, r0: int, r1: int, col: int, fmt: _Formats) -> None:
    """Attainment bands by formula (a text ``n/a`` never matches a band)."""
    cell = xl_rowcol_to_cell(r0, col, col_abs=True)
    for lo, hi, band_fmt in fmt.bands:
        cond = [f"ISNUMBER({cell})"]
        if lo is not None:
            cond.append(f"{cell}>={_xl_number(lo)}")
        if hi is not None:
            cond.append(f"{cell}<{_xl_number(hi)}")
        ws.conditional_format(
            r0, col, r1, col, {"type": "formula", "criteria": "=AND(" + ",".join(cond) + ")", "format": band_fmt}
        )


def _xl_number(x: float) -> str:
    """A float as an Excel formula literal that reads back as the same double (``0.85``, ``1E-05``)."""
    return repr(float(x)).upper()
