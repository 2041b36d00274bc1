"""Excel workbooks (xlsxwriter) from report objects.

One workbook per report, the same figures the notebook shows:

* account manager: Summary, Quarterly results, Commission statement, Accounts,
  Forecast, Deals
* team: Summary, Leaderboard, Attainment distribution, Performance watch,
  Forecast roll-up, Commission expense, Quarterly results

Rules:

* ``Decimal`` money is written as a *number* with a currency format (the cell
  holds ``1234.56``, not the text ``"$1,234.56"``); fractions (attainment,
  rates) as numbers with a percent format; dates as Excel dates ``yyyy-mm-dd``.
* ``NaN`` / ``None`` is never written as a number: missing fractions show the
  text ``n/a``, other missing cells stay blank.
* Text from the data is written with ``write_string``: a client called ``=1+1``
  stays text and never becomes a formula (the workbook is also opened with
  ``strings_to_formulas=False``).
* Each sheet has a bold frozen header row, an autofilter and fitted column widths.
* Workbook properties are fixed (created = ``as_of``, author ``reportkit``) so the
  same report gives the same workbook content; the file is written to a temporary
  name and moved into place with :func:`os.replace`.
"""

from __future__ import annotations

import datetime
import math
import numbers
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter
import xlsxwriter.exceptions

from .errors import OutputError
from .render import NA, column_label, format_cell, _is_missing, _is_percent_key

__all__ = ["write_workbook", "AM_SHEETS", "TEAM_SHEETS", "money_format"]

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

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
_MIN_WIDTH, _MAX_WIDTH = 8, 60


def money_format(currency: str) -> str:
    """Excel number format for amounts in ``currency``, two decimals.

    >>> money_format("USD")
    '"$"#,##0.00;-"$"#,##0.00'
    >>> money_format("CHF")
    '#,##0.00 "CHF";-#,##0.00 "CHF"'
    """
    sym = _SYMBOLS.get((currency or "").upper())
    if sym:
        return f'"{sym}"#,##0.00;-"{sym}"#,##0.00'
    code = (currency or "").replace('"', "")
    return f'#,##0.00 "{code}";-#,##0.00 "{code}"'


class _Formats:
    def __init__(self, wb: xlsxwriter.Workbook, currency: str) -> None:
        self.header = wb.add_format({"bold": True, "bg_color": "#E2E8F0", "border": 1, "text_wrap": True, "valign": "top"})
        self.money = wb.add_format({"num_format": money_format(currency)})
        self.percent = wb.add_format({"num_format": "0.0%"})
        self.date = wb.add_format({"num_format": "yyyy-mm-dd"})
        self.integer = wb.add_format({"num_format": "#,##0"})
        self.number = wb.add_format({"num_format": "#,##0.00"})
        self.text = wb.add_format({})
        self.na = wb.add_format({"align": "right", "font_color": "#718096"})
        self.title = wb.add_format({"bold": True, "font_size": 14})


def _kind_of(series: pd.Series, name: str) -> str:
    if _is_percent_key(name):
        return "percent"
    for v in series:
        if _is_missing(v):
            continue
        if isinstance(v, bool):
            return "text"
        if isinstance(v, Decimal):
            return "money"
        if isinstance(v, (datetime.date, pd.Timestamp)):
            return "date"
        if isinstance(v, numbers.Integral):
            return "integer"
        if isinstance(v, numbers.Real):
            return "number"
        return "text"
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return "date"
    return "text"


def _write_value(ws: Any, row: int, col: int, value: Any, kind: str, fmt: _Formats) -> None:
    """Write one cell by kind; never a NaN, never a formula from text."""
    if _is_missing(value):
        if kind == "percent":
            ws.write_string(row, col, NA, fmt.na)
        else:
            ws.write_blank(row, col, None)
        return
    if isinstance(value, bool):
        ws.write_string(row, col, "yes" if value else "no")
        return
    if isinstance(value, (Decimal, numbers.Real)) and not isinstance(value, bool):
        f = float(value)
        if math.isinf(f) or math.isnan(f):
            ws.write_string(row, col, NA, fmt.na)
            return
        cell_fmt = {"money": fmt.money, "percent": fmt.percent, "integer": fmt.integer}.get(kind)
        if cell_fmt is None:
            cell_fmt = fmt.money if isinstance(value, Decimal) else (
                fmt.integer if isinstance(value, numbers.Integral) else fmt.number
            )
        ws.write_number(row, col, f, cell_fmt)
        return
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime.datetime):
        ws.write_datetime(row, col, value.replace(tzinfo=None), fmt.date)
        return
    if isinstance(value, datetime.date):
        ws.write_datetime(row, col, datetime.datetime.combine(value, datetime.time()), fmt.date)
        return
    ws.write_string(row, col, str(value))


def _write_frame(ws: Any, frame: pd.DataFrame, fmt: _Formats, currency: str) -> None:
    frame = frame if frame is not None else pd.DataFrame()
    cols = [str(c) for c in frame.columns]
    kinds = [_kind_of(frame[c], c) for c in frame.columns]
    widths = []
    for j, c in enumerate(cols):
        label = column_label(c)
        ws.write_string(0, j, label, fmt.header)
        widths.append(len(label))
    for i, values in enumerate(frame.itertuples(index=False, name=None), start=1):
        for j, (v, kind) in enumerate(zip(values, kinds)):
            _write_value(ws, i, j, v, kind, fmt)
            widths[j] = max(widths[j], len(format_cell(v, cols[j], currency)))
    for j, w in enumerate(widths):
        ws.set_column(j, j, min(max(w + 2, _MIN_WIDTH), _MAX_WIDTH))
    ws.freeze_panes(1, 0)
    if cols:
        ws.autofilter(0, 0, max(len(frame), 1), len(cols) - 1)


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


def _write_summary(ws: Any, report: Any, fmt: _Formats) -> None:
    ws.write_string(0, 0, "Item", fmt.header)
    ws.write_string(0, 1, "Value", fmt.header)
    width = 12
    rows = _summary_rows(report)
    for i, (key, label, value) in enumerate(rows, start=1):
        ws.write_string(i, 0, label)
        kind = "percent" if _is_percent_key(key) else ("money" if isinstance(value, Decimal) else "")
        _write_value(ws, i, 1, value, kind, fmt)
        width = max(width, len(format_cell(value, key, report.currency)))
    ws.set_column(0, 0, max(len(r[1]) for r in rows) + 2 if rows else 12)
    ws.set_column(1, 1, min(width + 2, _MAX_WIDTH))
    ws.freeze_panes(1, 0)


def write_workbook(report: Any, path: str | Path) -> Path:
    """Write the Excel workbook of one report, atomically.

    Parameters
    ----------
    report : AccountManagerReport or TeamReport
        The report object (the same one the notebook renders).
    path : str or Path
        Destination ``.xlsx``; its folder must exist. The workbook is written to
        a temporary file next to it and moved into place with :func:`os.replace`,
        so readers never see half a file.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OutputError
        The file could not be written (folder missing, not writable, disk full).
    """
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.xlsx")
    sheets = TEAM_SHEETS if report.kind == "team" else AM_SHEETS
    created = datetime.datetime.combine(report.as_of, datetime.time())
    try:
        wb = xlsxwriter.Workbook(
            str(tmp),
            {
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
                "nan_inf_to_errors": False,
                "default_date_format": "yyyy-mm-dd",
            },
        )
        wb.set_properties(
            {
                "title": f"{report.name} — {report.period}",
                "subject": "Team report" if report.kind == "team" else "Account manager report",
                "author": "reportkit",
                "company": "",
                "comments": f"as of {report.as_of.isoformat()}",
                "created": created,
            }
        )
        fmt = _Formats(wb, report.currency)
        _write_summary(wb.add_worksheet("Summary"), report, fmt)
        for sheet_name, attr in sheets:
            _write_frame(wb.add_worksheet(sheet_name), getattr(report, attr), fmt, report.currency)
        wb.close()
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
