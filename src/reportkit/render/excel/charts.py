"""Native Excel charts over the sheets' cells (no figure is computed here).

A chart sits below its table, after a page break, so it prints on a page of its own,
as wide as the table's first printed page (at least its default size): a sheet printed one page wide
keeps its table's text size however wide the chart is.
"""

from __future__ import annotations

import numbers
from typing import Any

import pandas as pd

from ..labels import empty_chart_note, money_tick, revenue_vs_quota_note
from .book import _Book
from .formats import PERCENT_FORMAT, money_format
from .frames import _Placed

_CHART_PX = 480  # xlsxwriter's default chart width (x_scale 1)


def _insert_below(book: _Book, placed: _Placed, chart: Any, y_scale: float) -> None:
    """Insert ``chart`` at the placed table's chart anchor, after a page break, as wide as the table's first page.

    On a sheet printed several pages wide (:class:`~reportkit.render.excel.book.PrintLayout`)
    the chart sits right of the repeated identifying columns, within the first page's own
    columns (its first span): no page break cuts it and no later page repeats a piece of it.
    """
    assert placed.chart_anchor is not None
    sheet, ws, row = placed.chart_anchor
    layout = book.layouts[sheet]
    first, last = layout.spans[0]
    table_px = sum(7 * w + 5 for w in layout.widths[first : last + 1])  # Excel's pixels for widths in characters
    x_scale = max(1.3, min(2.5, table_px / _CHART_PX))
    if layout.breaks:  # never past the first page's columns
        x_scale = min(x_scale, table_px / _CHART_PX)
    ws.set_h_pagebreaks([row])
    ws.insert_chart(row, first, chart, {"x_scale": x_scale, "y_scale": y_scale})


def _floor(values: Any) -> dict[str, Any]:
    """The value axis's lower bound: 0 unless a value is negative (then the spreadsheet's own, below 0).

    A bar's length is its value only on an axis that starts at 0: an automatic axis over
    quarters of 133k-147k against a 160k quota starts at 120k (Excel and LibreOffice
    alike), and a quarter at 91 % looks half as tall as one at 92 %. A negative value
    (a quarter of returns) keeps the automatic axis, which reaches below 0 to show it.
    """
    negative = any(isinstance(v, numbers.Number) and not pd.isna(v) and v < 0 for v in values)  # type: ignore[operator]
    return {} if negative else {"min": 0}


def _attainments(frame: pd.DataFrame) -> list[Any]:
    """A table's attainment column as a list (one None per row where it has none)."""
    return frame["attainment"].tolist() if "attainment" in frame.columns else [None] * len(frame)


def _money_axis(currency: str, shown: list[Any]) -> dict[str, Any]:
    """A money axis with gridlines, from 0 (:func:`_floor`)."""
    return {"num_format": money_format(currency), "major_gridlines": {"visible": True}, **_floor(shown)}


def _nothing_to_scale(currency: str, note: str) -> dict[str, Any]:
    """The value axis of a chart whose values are all zero or missing, as the notebook's chart draws it.

    One tick, the zero line, reading ``$0`` as the HTML's does (:func:`reportkit.render.labels.money_tick`;
    the axis runs to 1, whose tick the number format leaves blank), and ``note`` (why it is empty,
    :func:`reportkit.render.labels.empty_chart_note`) as the axis's title, in the middle of the plot.
    A spreadsheet left to itself draws $0.00 to $1.00 in ten gridlines over no bar.
    """
    zero = money_tick(0, currency).replace('"', "")
    return {
        "min": 0,
        "max": 1,
        "major_unit": 1,
        "num_format": f';;"{zero}"',  # positive; negative; zero: only the zero tick has a label
        "major_gridlines": {"visible": False},
    }


def _why_empty(note: str) -> dict[str, Any]:
    """The category axis's title: ``note``, in the middle of the plot as the notebook's chart writes it."""
    return {"name": note, "name_font": {"bold": False, "color": "#4A5568"}, "name_layout": {"x": 0.32, "y": 0.42}}


def _quarterly_chart(
    book: _Book,
    placed: _Placed,
    title: str,
    frame: pd.DataFrame,
    column: str = "revenue",
    name: str = "Revenue",
    revenue: str = "revenue",
) -> None:
    """Revenue columns (``column`` of the quarterly sheet, named ``name``; ``revenue`` in the words of an empty chart)
    against a quota line, on an axis from 0."""
    n = len(frame)
    if n < 1 or not {"period", column} <= set(placed.columns) or placed.chart_anchor is None:
        return
    sheet = placed.chart_anchor[0]
    r0 = placed.parts[0][1]
    cats = [sheet, r0, placed.columns["period"], r0 + n - 1, placed.columns["period"]]
    chart = book.wb.add_chart({"type": "column"})
    chart.add_series(
        {
            "name": name,
            "categories": cats,
            "values": [sheet, r0, placed.columns[column], r0 + n - 1, placed.columns[column]],
            "fill": {"color": "#4472C4"},
        }
    )
    if "quota" in placed.columns:
        line = book.wb.add_chart({"type": "line"})
        line.add_series(
            {
                "name": "Quota",
                "categories": cats,
                "values": [sheet, r0, placed.columns["quota"], r0 + n - 1, placed.columns["quota"]],
                "line": {"color": "#C00000", "width": 2.25},
                "marker": {"type": "diamond"},
            }
        )
        chart.combine(line)
    chart.set_title({"name": title})
    shown = [*frame[column], *(frame["quota"] if "quota" in frame and "quota" in placed.columns else [])]
    note = empty_chart_note(shown, revenue_vs_quota_note(revenue))
    chart.set_y_axis(_nothing_to_scale(book.currency, note) if note else _money_axis(book.currency, shown))
    if note:
        chart.set_x_axis(_why_empty(note))
    chart.set_legend({"position": "bottom"})
    _insert_below(book, placed, chart, 1.2)


def _attainment_chart(book: _Book, placed: _Placed, label_col: str, title: str, attainments: list[Any]) -> None:
    """Attainment bars, one per row of the placed table (``attainments``: their values, to place the axis)."""
    n = len(attainments)
    if n < 1 or label_col not in placed.columns or "attainment" not in placed.columns or placed.chart_anchor is None:
        return
    sheet, _, _ = placed.chart_anchor
    r0 = placed.parts[0][1]
    chart = book.wb.add_chart({"type": "bar"})
    chart.add_series(
        {
            "name": "Attainment",
            "categories": [sheet, r0, placed.columns[label_col], r0 + n - 1, placed.columns[label_col]],
            "values": [sheet, r0, placed.columns["attainment"], r0 + n - 1, placed.columns["attainment"]],
            "fill": {"color": "#4472C4"},
            "data_labels": {"value": True, "num_format": PERCENT_FORMAT},
        }
    )
    chart.set_title({"name": title})
    chart.set_x_axis({"num_format": "0%", **_floor(attainments)})
    chart.set_y_axis({"reverse": True})
    chart.set_legend({"none": True})
    _insert_below(book, placed, chart, max(1.0, min(4.0, n / 12)))


def _report_charts(book: _Book, report: Any, placed: dict[str, _Placed]) -> None:
    """A report's charts: a team's (and the company's) attainment by account manager and quarterly credited revenue;
    an AM's quarterly revenue."""
    if report.kind in ("team", "company"):
        board = "leaderboard" if report.kind == "team" else "account_managers"
        _attainment_chart(book, placed[board], "name", "Attainment by account manager", _attainments(getattr(report, board)))
        # set against quota: the attainment basis (the quarterly attainment's numerator)
        _quarterly_chart(
            book,
            placed["quarterly"],
            "Quarterly credited revenue (attainment basis) against quota",
            report.quarterly,
            "credited_revenue",
            "Credited revenue (attainment basis)",
            "credited revenue",
        )
    else:
        _quarterly_chart(book, placed["quarterly"], "Quarterly revenue against quota", report.quarterly)
