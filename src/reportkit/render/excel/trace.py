"""The *Trace* sheet: one row per trace row of a commission statement (issue #15 part 4).

The rows are the engine's (:meth:`reportkit.domain.commission.CommissionStatement.trace`,
columns :data:`reportkit.domain.engine.TRACE_COLUMNS`); this module only lays them out.
Each row names its statement line (``Line``); the last row of each line carries ``Line
amount``, a live ``=SUM`` of the line's trace amounts, written as a formula only where
it recalculates exactly to the statement line's amount (:func:`~.formulas._sum_matches`;
else the line's amount as a value). The sheet prints like every other sheet
(:func:`~reportkit.render.excel.book.print_setup`). Written in the account manager's
report workbook (:func:`add_trace_sheet`) and the ``reportkit statement`` workbook
(:func:`write_trace_rows`).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pandas as pd
from xlsxwriter.utility import xl_rowcol_to_cell

from ...domain.engine import STEP_WORDS
from ..cell_kinds import is_missing
from ..labels import column_label
from .formats import money_format
from .formulas import _sum_matches
from .frames import wrapped_height

#: (trace column, header, kind, width) of the Trace sheet, in order; ``line_amount`` is the live sum.
#: Long text wraps in narrow columns: the sheet prints one page wide at a readable size (tests/test_excel_print.py).
TRACE_SHEET_COLUMNS: tuple[tuple[str, str, str, float], ...] = (
    ("line", "Line", "integer", 6),
    ("period", "Period", "text", 11),
    ("kind", "Step", "step", 14),
    ("deal_id", column_label("deal_id"), "text", 12),
    ("account_id", column_label("account_id"), "text", 10),
    ("close_date", "Close date", "date", 11),
    ("deal_amount", "Deal amount", "money", 14),
    ("credit_source", column_label("credit_source"), "wrap", 10),
    ("share", "Share", "percent", 8),
    ("credited", "Credited", "money", 14),
    ("tier", "Tier", "integer", 5),
    ("rate", "Rate", "percent", 8),
    ("rule", "Rule", "wrap", 26),
    ("limited_by", "Limited by", "wrap", 18),
    ("plan", "Plan", "wrap", 12),
    ("plan_file", "Plan file", "wrap", 12),
    ("plan_version", "Plan version", "text", 19),
    ("amount", "Amount", "money", 13),
    ("line_amount", "Line amount", "money", 13),
)
TRACE_SHEET_NAME = "Trace"


TRACE_IDENTIFYING = 4
"""Leading Trace columns that say which row it is (line, period, step, deal): repeated on every printed page."""


def trace_sheet_widths() -> list[float]:
    """The Trace sheet's column widths in characters (:data:`TRACE_SHEET_COLUMNS`), for its page setup."""
    return [w for *_, w in TRACE_SHEET_COLUMNS]


def write_trace_rows(
    wb: Any, ws: Any, trace: pd.DataFrame, header_row: int, currency: str, line_amounts: Mapping[int, Decimal] | None = None
) -> None:
    """Write the header row at ``header_row`` and one row per trace row below it.

    Column widths and page setup are the caller's (:func:`~reportkit.render.excel.book.print_setup`
    with :func:`trace_sheet_widths` and :data:`TRACE_IDENTIFYING`).

    Parameters
    ----------
    wb, ws : xlsxwriter Workbook and Worksheet
    trace : DataFrame
        :data:`reportkit.domain.engine.TRACE_COLUMNS`, rows of a line together, in line order.
    header_row : int
        0-based row of the column headers (below the title row of :func:`print_setup`).
    currency : str
        ISO code of the money columns' format.
    line_amounts : mapping line -> Decimal, optional
        The statement's amount of each line; default the sum of the line's trace rows.
        ``Line amount`` is ``=SUM`` of the line's ``Amount`` cells where that equals it
        to the cent, else this figure as a value.
    """
    top = {"valign": "top"}  # a row whose text wraps reads from its first line, the figures beside it on that line
    plain = wb.add_format(top)
    fmt = {
        "money": wb.add_format({"num_format": money_format(currency), **top}),
        "percent": wb.add_format({"num_format": "0.00##%", **top}),
        "date": wb.add_format({"num_format": "yyyy-mm-dd", **top}),
        "wrap": wb.add_format({"text_wrap": True, **top}),
        "integer": plain,
        "text": plain,
        "step": plain,
    }
    head = wb.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    heads = [h for _, h, _, _ in TRACE_SHEET_COLUMNS]
    ws.set_row(header_row, wrapped_height(heads, trace_sheet_widths()))  # a label wraps in its cell
    ws.write_row(header_row, 0, heads, head)
    col = {c: j for j, (c, *_) in enumerate(TRACE_SHEET_COLUMNS)}
    amounts = trace["amount"].tolist() if "amount" in trace.columns else []
    lines = trace["line"].tolist() if "line" in trace.columns else []
    # each column converted once (a 70,000-line statement has 1.3 M cells): (writer, values, format)
    cols = [_column(ws, trace[c].tolist() if c in trace.columns else [], kind, fmt) for c, _, kind, _ in TRACE_SHEET_COLUMNS[:-1]]
    cells = _row_cells(ws, cols)  # the same cells as a row at once (reportkit's sheets), else None
    formats = [f for *_, f in cols]
    first = header_row + 1
    start = 0
    wrapped = [j for j, (*_, kind, _) in enumerate(TRACE_SHEET_COLUMNS[:-1]) if kind == "wrap"]
    wrap_widths = [TRACE_SHEET_COLUMNS[j][3] for j in wrapped]
    heights: dict[tuple, float] = {}  # rows repeat their rule, plan and limit: lay each set out once
    at_once = cells is not None and ws.put_rows(first, cells, formats, formats, formats, "")
    for i in range(len(lines)):
        r = first + i
        texts = tuple(cols[j][1][i] for j in wrapped)
        height = heights.get(texts)
        if height is None:
            height = heights[texts] = wrapped_height(list(texts), wrap_widths)
        if height > 15:  # wrapped text: the row made tall enough to show it
            ws.set_row(r, height)
        if not at_once and (cells is None or not ws.put_row(r, [c[i] for c in cells], formats, formats, formats, "")):
            for j, (put, values, f) in enumerate(cols):
                v = values[i]
                if v is not None:
                    put(r, j, v, f)
        if i + 1 < len(lines) and lines[i + 1] == lines[i]:
            continue
        part = amounts[start : i + 1]
        figure = (line_amounts or {}).get(int(lines[i]), sum(part, Decimal("0.00")))
        if _sum_matches(part, figure):
            a = xl_rowcol_to_cell(first + start, col["amount"])
            b = xl_rowcol_to_cell(r, col["amount"])
            ws.write_formula(r, col["line_amount"], f"=SUM({a}:{b})", fmt["money"], float(figure))
        else:
            ws.write_number(r, col["line_amount"], float(figure), fmt["money"])
        start = i + 1
    ws.freeze_panes(header_row + 1, 0)


_NUMBERS = frozenset({Decimal, float, int})


def _missing(v: Any) -> bool:
    return v is None or (not isinstance(v, str) and is_missing(v))


def _column(ws: Any, values: list, kind: str, fmt: dict) -> tuple:
    """``(write method, cell values with None for blank, format)`` of one Trace column."""
    if kind in ("money", "percent"):
        if set(map(type, values)) <= _NUMBERS:  # the usual column: every value converted at once
            numbers = list(map(float, values))
            if all(map(math.isfinite, numbers)):
                return ws.write_number, numbers, fmt[kind]
        return ws.write_number, [None if _missing(v) else float(v) for v in values], fmt[kind]
    if kind == "integer":
        return ws.write_number, [None if _missing(v) else int(v) for v in values], fmt[kind]
    if kind == "date":
        day = [None if _missing(v) else (v.date() if isinstance(v, pd.Timestamp) else v) for v in values]
        midnight = datetime.time()
        return ws.write_datetime, [None if d is None else datetime.datetime.combine(d, midnight) for d in day], fmt["date"]
    if kind == "step":  # the ledger step in a reader's words (the engine's STEP_WORDS)
        return (
            ws.write_string,
            [None if _missing(v) else STEP_WORDS.get(str(v), str(v).replace("_", " ")) for v in values],
            fmt[kind],
        )
    text = [None if _missing(v) or not str(v) else str(v) for v in values]
    return ws.write_string, text, fmt[kind]


def _row_cells(ws: Any, cols: list[tuple]) -> list[list] | None:
    """Each column's values as :meth:`~reportkit.render.excel.book._Sheet.put_row` stores them: what its
    ``write_number`` / ``write_datetime`` / ``write_string`` would store, the numbers as floats and each date as
    ``(Excel serial, date format)``. None for another worksheet, or a column with a number those methods refuse."""
    if not hasattr(ws, "put_row"):
        return None
    out = []
    for put, values, f in cols:
        if put == ws.write_number:
            numbers = [None if v is None else float(v) for v in values]
            if not all(v is None or math.isfinite(v) for v in numbers):
                return None
            out.append(numbers)
        elif put == ws.write_datetime:
            out.append([None if v is None else (ws._convert_date_time(v), f) for v in values])
        else:
            out.append(values)
    return out


def line_amounts(lines: pd.DataFrame | None) -> dict[int, Decimal]:
    """``line -> amount`` of a statement's lines (``CommissionStatement.lines``): what ``Line amount`` must show."""
    if lines is None or "line" not in lines.columns:
        return {}
    return {int(n): a for n, a in zip(lines["line"].tolist(), lines["amount"].tolist())}


def add_trace_sheet(book: Any, trace: pd.DataFrame | None, line_amounts: Mapping[int, Decimal] | None = None) -> str | None:
    """Add the Trace sheet to a report workbook (:class:`~reportkit.render.excel.book._Book`); its name.

    None (no sheet) when ``trace`` is None; an empty trace gives the header row only.
    """
    if trace is None:
        return None
    name, ws = book.add_sheet(TRACE_SHEET_NAME, trace_sheet_widths(), TRACE_IDENTIFYING)
    write_trace_rows(book.wb, ws, trace, book.header_row, book.currency, line_amounts)
    return name
