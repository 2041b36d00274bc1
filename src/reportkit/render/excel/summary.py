"""The Summary sheet: the report's identity and summary figures as Item / Value, live where they audit."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from xlsxwriter.utility import xl_rowcol_to_cell

from ..cell_kinds import NA, is_missing, is_percent_key
from ..labels import summary_label, value_words
from ..notebook import format_cell, missing_summary_words
from .book import _Book
from .cells import _clean_text, _write_value
from .formats import _ATTAINMENT_KEYS, _MAX_WIDTH, TEXT_INSET_WIDTH, _band_formats
from .formulas import _dec, _ratio_cached, _ratio_keys, _ratio_matches, _sum_matches
from .frames import _Placed, wrapped_height

_SWITCHES = frozenset({"attainment_basis_differs"})
"""Summary keys that switch what a page shows, not figures: a reader saw them as "Credited revenue
differs from revenue: no" (when they differ, the report's notes say so in words)."""


def _summary_rows(report: Any) -> list[tuple[str, str, Any]]:
    """(key, label, value) rows of the Summary sheet: identity first, then ``summary``."""
    if report.kind == "company":
        ident = [("company", "Company", report.name)]
    elif report.kind == "team":
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
    rows = ident + [
        (str(k), summary_label(report.kind, str(k)), value_words(v, str(k)))
        for k, v in (report.summary or {}).items()
        if not (k == "period_label" and v == report.period)  # the period once
        and k not in _SWITCHES
    ]
    rows += [("note", "Note", n) for n in report.notes]
    return rows


def summary_widths(report: Any) -> list[float]:
    """Widths (characters) of the Summary sheet's two columns: the longest label; the widest value, at most 60.

    A longer value (a sentence: a rule, a note) wraps in its cell.
    """
    rows = _summary_rows(report)
    summary = report.summary or {}
    width = max(
        [12]
        + [
            len(missing_summary_words(summary, key) if is_missing(value) else format_cell(value, key, report.currency))
            for key, _, value in rows
        ]
    )
    label_width = max(len(r[1]) for r in rows) + 2 if rows else 12
    return [label_width, min(width + 2, _MAX_WIDTH)]


def _write_summary(book: _Book, sheet: str, ws: Any, report: Any, links: dict[str, tuple[list[str], Any]]) -> None:
    """The Summary sheet: Item / Value, with attainment and linked totals live.

    ``links`` maps a summary key to (ranges or cells to SUM, expected figure): the
    cell becomes ``=SUM(...)`` of that other sheet when the figures agree.
    """
    fmt, tz = book.fmt, book.tz
    h = book.header_row
    rows = _summary_rows(report)
    row_of = {key: i for i, (key, _, _) in enumerate(rows, start=h + 1)}
    summary = report.summary or {}
    _, value_width = summary_widths(report)
    ws.write_string(h, 0, "Item", fmt.header)
    ws.write_string(h, 1, "Value", fmt.header)
    for i, (key, label, value) in enumerate(rows, start=h + 1):
        ws.write_string(i, 0, label, fmt.text)
        if isinstance(value, str) and len(value) > value_width - 2:  # a sentence (a rule, a note) wraps in its cell
            text = _clean_text(value)
            ws.set_row(i, wrapped_height([text], [value_width], TEXT_INSET_WIDTH))
            ws.write_string(i, 1, text, fmt.wrap)
            continue
        kind = "percent" if is_percent_key(key) else ("money" if isinstance(value, Decimal) else "")
        ratio = _ratio_keys(key, row_of)
        if (
            ratio
            and ratio[0] in row_of
            and ratio[1] in row_of
            and _ratio_matches(summary.get(ratio[0]), summary.get(ratio[1]), value)
        ):
            num, den = xl_rowcol_to_cell(row_of[ratio[0]], 1), xl_rowcol_to_cell(row_of[ratio[1]], 1)
            cached = _ratio_cached(value)
            ws.write_formula(i, 1, f'=IF({den}=0,"{NA}",{num}/{den})', fmt.na if cached == NA else fmt.percent, cached)
            _band_formats(ws, i, i, 1, fmt)
        elif key in links and isinstance(value, Decimal) and links[key][1] is not None and _dec(links[key][1]) == value:
            ws.write_formula(i, 1, "=SUM(" + ",".join(links[key][0]) + ")", fmt.money, float(value))
        elif is_missing(value) and kind != "percent":  # what the HTML summary says, never a blank cell (a fraction is n/a below)
            ws.write_string(i, 1, missing_summary_words(summary, key), fmt.na)
        else:
            _write_value(ws, i, 1, value, kind, fmt, tz)
            if key in _ATTAINMENT_KEYS:
                _band_formats(ws, i, i, 1, fmt)
    ws.freeze_panes(h + 1, 0)


def _summary_links(report: Any, placed: dict[str, _Placed]) -> dict[str, tuple[list[str], Any]]:
    """Summary figures that are ``SUM`` of another sheet: {summary key: (ranges or cells, the figure)}.

    Only where the lines sum to the figure to the cent: an account manager's
    commission total (the statement's total row) and revenue (the deals' amounts);
    a team's commission expense (its total row), revenue, quota and commission
    (the leaderboard's columns).
    """
    s = report.summary or {}
    links: dict[str, tuple[list[str], Any]] = {}
    if report.kind == "company":
        ce = placed["commission_expense"].total_ref("total")
        if ce:
            links["commission_expense"] = ([ce], s.get("commission_expense"))
        return links
    if report.kind == "team":
        ce = placed["commission_expense"].total_ref("total")
        if ce:
            links["commission_expense"] = ([ce], s.get("commission_expense"))
        lb = report.leaderboard
        for key in ("revenue", "quota", "commission"):
            if key in placed["leaderboard"].columns and key in s and _sum_matches(lb[key].tolist(), s.get(key)):
                links[key] = (placed["leaderboard"].ranges(key), s.get(key))
    else:
        ct = placed["commission"].total_ref("amount")
        if ct:
            links["commission_total"] = ([ct], s.get("commission_total"))
        deals = report.deals
        if deals is not None and "amount" in deals.columns and _sum_matches(deals["amount"].tolist(), s.get("revenue")):
            links["revenue"] = (placed["deals"].ranges("amount"), s.get("revenue"))
    return links
