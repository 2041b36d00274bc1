"""The one format set of reportkit's workbooks: number formats, cell formats, attainment colours.

Money in the dataset currency's symbol and decimals (:func:`money_format`),
fractions as percent, dates ``yyyy-mm-dd``; the header, total-row and ``n/a``
styles (the header fill and title colour follow params ``branding``); the
attainment colour bands of the performance policy (:func:`attainment_bands`, whose
home is :mod:`reportkit.render.style`, shared with the HTML) and their conditional formats; which kind of column
(money, percent, date, integer, number, bool, text) a frame column is.
"""

from __future__ import annotations

import datetime
import numbers
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from ...core.currency import currency_info
from ..cell_kinds import is_missing, is_percent_key
from ..style import DEFAULT_MISS_BELOW, QUOTA_MET, Branding, attainment_bands, header_fill  # noqa: F401 (re-exported: their old home)

_MIN_WIDTH, _MAX_WIDTH = 8, 60

_TOP = {"valign": "top"}
"""Vertical alignment of every data cell (text, numbers, dates, ``n/a``): a row whose text
wraps reads from its first line, the figures beside it on that line, printed or on screen."""


TEXT_INSET = {"align": "left", "indent": 1}
"""A text cell's left inset (one indent level): a left-aligned text never touches the right-aligned
figure or ``n/a`` of the column before it (``n/a`` then ``at risk`` printed as ``n/aat risk``)."""
TEXT_INSET_WIDTH = 2.0
"""Column-width units (the width of ``0``) :data:`TEXT_INSET` takes from a wrapped text's line
(LibreOffice and Excel indent one level by about 1.2 to 1.5; counted high, so a row is never short)."""


_ATTAINMENT_KEYS = ("attainment", "ytd_attainment", "forecast_attainment")

#: Excel number format of a fraction shown as percent with one decimal, grouped as
#: :func:`reportkit.render.notebook.format_percent` groups it in HTML and the notebook
#: (``36.34`` -> ``3,634.0%`` in both); the one home of that format in every workbook.
PERCENT_FORMAT = "#,##0.0%"
#: A change of a fraction in percentage points (``+2.5 pts``), grouped as :data:`PERCENT_FORMAT`.
POINTS_FORMAT = '+#,##0.0" pts";-#,##0.0" pts";0.0" pts"'


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
    def __init__(
        self, wb: xlsxwriter.Workbook, currency: str, miss_below: float = DEFAULT_MISS_BELOW, branding: Branding | None = None
    ) -> None:
        self.header = wb.add_format(
            {"bold": True, "bg_color": header_fill(branding), "border": 1, "text_wrap": True, "valign": "top"}
        )
        # every cell of a list row sits at the top of its row: where a long text wraps over
        # several lines, the figures beside it line up with its first line (one rule: _TOP)
        self.money = wb.add_format({"num_format": money_format(currency), **_TOP})
        self.percent = wb.add_format({"num_format": PERCENT_FORMAT, **_TOP})
        self.date = wb.add_format({"num_format": "yyyy-mm-dd", **_TOP})
        self.datetime = wb.add_format({"num_format": "yyyy-mm-dd hh:mm", **_TOP})
        self.integer = wb.add_format({"num_format": "#,##0", **_TOP})
        self.number = wb.add_format({"num_format": "#,##0.00", **_TOP})
        self.na = wb.add_format({"align": "right", "font_color": "#718096", **_TOP})
        self.text = wb.add_format({**TEXT_INSET, **_TOP})
        title = {"bold": True, "font_size": 14}
        if branding is not None and "accent" in branding.model_fields_set:
            title["font_color"] = branding.accent
        self.title = wb.add_format(title)
        self.wrap = wb.add_format({"text_wrap": True, **TEXT_INSET, **_TOP})
        print_title = {"bold": True, "font_size": 12, "text_wrap": True, "valign": "top"}
        if branding is not None and "accent" in branding.model_fields_set:
            print_title["font_color"] = branding.accent
        self.print_title = wb.add_format(print_title)
        self.total_label = wb.add_format({"bold": True, "top": 1})
        self.total_money = wb.add_format({"bold": True, "top": 1, "num_format": money_format(currency)})
        self.total_percent = wb.add_format({"bold": True, "top": 1, "num_format": PERCENT_FORMAT})
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
