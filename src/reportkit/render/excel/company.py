"""The company workbook of a batch: a ``Company`` roll-up sheet, then one leaderboard sheet per team."""

from __future__ import annotations

import dataclasses
import datetime
import numbers
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from xlsxwriter.utility import xl_rowcol_to_cell

from ...config.params import DEFAULT_TIMEZONE
from ..cell_kinds import NA, is_percent_key
from ..notebook import format_cell
from ..titles import PrintTitle
from .book import _atomic, _Book, _props, page_of
from .cells import _write_value
from .charts import _attainment_chart, _attainments
from .formats import _ATTAINMENT_KEYS, _MAX_WIDTH, _MIN_WIDTH, DEFAULT_MISS_BELOW, _band_formats
from .formulas import _SUMMARY_RATIOS, _dec, _frac, _range, _ratio_cached, _ratio_keys, _ratio_matches, _sum_matches
from .frames import _Placed, _Spec, identifying_columns, wrapped_height, write_frame_sheet, write_note

COMPANY_REPORT = "Company roll-up"
"""The company workbook in words (its title row and printed footer)."""

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
        Document title (e.g. ``"Demo Co — FY2025-Q4"``). Every sheet's title row says
        ``"<company> · Company roll-up · <period> · as of <as_of>"``
        (:class:`reportkit.render.titles.PrintTitle`).
    as_of : date
        Report date; the workbook's *created* property.
    rollup : mapping
        The company's own figures, :func:`reportkit.reports.builders.build_company_rollup`
        (same keys as the team summaries, plus ``notes``). The ``Company total``
        row shows exactly these.
    company : str, default ""
        Document property *Company*, and the first part of every sheet's title row.

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

    Timezone, attainment colour bands and the paper every sheet prints on come
    from the team reports (params ``timezone``, ``performance.miss_below``,
    ``pdf.paper`` and ``pdf.orientation``, carried by every report).

    Raises
    ------
    ValueError
        The reports mix currencies, periods, timezones, miss thresholds or paper.
    OutputError
        The file could not be written.
    """
    reports = sorted(team_reports, key=lambda r: (str(r.name), str(r.id)))
    currencies = {r.currency for r in reports}
    periods = {r.period for r in reports}
    zones = {str(getattr(r, "timezone", DEFAULT_TIMEZONE)) for r in reports}
    misses = {float(getattr(r, "miss_below", DEFAULT_MISS_BELOW)) for r in reports}
    pages = {page_of(r) for r in reports}
    if len(currencies) > 1 or len(periods) > 1 or len(zones) > 1 or len(misses) > 1 or len(pages) > 1:
        raise ValueError(
            f"team reports mix currencies {sorted(currencies)}, periods {sorted(periods)}, timezones {sorted(zones)}, "
            f"miss thresholds {sorted(misses)} or paper {sorted(pages)}: one company workbook holds one of each"
            " (build them from one params file)"
        )
    paper, orientation = next(iter(pages), page_of(None))
    currency = next(iter(currencies), "USD")
    tz = next(iter(zones), DEFAULT_TIMEZONE)
    mb = next(iter(misses), DEFAULT_MISS_BELOW)
    branding = next((r.branding for r in reports if getattr(r, "branding", None) is not None), None)  # the params'

    def build(tmp: Path) -> None:
        period = next(iter(periods), "")
        book = _Book(
            tmp,
            currency,
            tz,
            False,
            "split",
            mb,
            title=PrintTitle(company, COMPANY_REPORT, period, as_of),
            branding=branding,
            paper=paper,
            orientation=orientation,
        )
        _props(book, title, "Company roll-up", as_of, company, f"as of {as_of.isoformat()}; one sheet per team and a roll-up")
        keys = [k for k, _ in _ROLLUP_COLUMNS]
        rollup_sheet, rws = book.add_sheet("Company", _rollup_widths(reports, rollup, currency), identifying_columns(keys))
        team_totals: list[tuple[Any, _Placed]] = []
        company_title = book.title
        for rep in reports:
            # the tab may be cut to Excel's 31 characters ("... (2)"): the title row names the team on every page
            book.title = dataclasses.replace(company_title, report=f"{COMPANY_REPORT}: {rep.name}")
            lb = rep.leaderboard
            s = rep.summary or {}
            totals = {}
            for key, sk in (
                ("revenue", "revenue"),
                ("quota", "quota"),
                ("commission", "commission_expense"),
                ("forecast", "forecast"),
            ):
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
            _attainment_chart(book, placed, "name", f"{rep.name}: attainment by account manager", _attainments(lb))
            team_totals.append((rep, placed))
        book.title = company_title
        _write_rollup(book, rollup_sheet, rws, title, team_totals, rollup)
        book.wb.close()

    return _atomic(path, build)


def _rollup_widths(reports: Sequence[Any], rollup: Mapping[str, Any], currency: str) -> list[float]:
    """Widths (characters) of the Company sheet's columns: the widest formatted figure (team rows and
    the company total) or header word."""
    widths = [max(len(word) for word in label.split()) for _, label in _ROLLUP_COLUMNS]  # a header wraps by words
    rows = [{**(rep.summary or {}), "team": rep.name, "sales_manager": rep.sales_manager} for rep in reports]
    for s in [*rows, {k: v for k, v in rollup.items() if k not in ("team", "sales_manager")}]:
        for j, (k, _) in enumerate(_ROLLUP_COLUMNS):
            widths[j] = max(widths[j], len(format_cell(s.get(k), k, currency)))
    return [min(max(w + 2, _MIN_WIDTH), _MAX_WIDTH) for w in widths]


def _write_rollup(
    book: _Book, sheet: str, ws: Any, title: str, teams: list[tuple[Any, _Placed]], rollup: Mapping[str, Any]
) -> None:
    fmt = book.fmt
    keys = [k for k, _ in _ROLLUP_COLUMNS]
    col = {k: j for j, k in enumerate(keys)}
    kinds = {
        k: (
            "percent"
            if is_percent_key(k)
            else "integer"
            if k in ("members", "on_watch")
            else "text"
            if k in ("team", "sales_manager")
            else "money"
        )
        for k in keys
    }
    h = book.header_row
    for j, (_, label) in enumerate(_ROLLUP_COLUMNS):
        ws.write_string(h, j, label, fmt.header)
    links = {"revenue": "revenue", "quota": "quota", "commission_expense": "commission", "forecast": "forecast"}
    widths = book.layouts[sheet].widths
    n = len(teams)
    for i, (rep, placed) in enumerate(teams, start=h + 1):
        s = dict(rep.summary or {})
        s.update(team=rep.name, sales_manager=rep.sales_manager)
        for k in keys:
            v, j = s.get(k), col[k]
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
    r = h + n + 1
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
                ws.write_formula(r, col[k], f"=SUM({_range(None, h + 1, h + n, col[k])})", fmt.total_integer, int(v))
            elif isinstance(v, numbers.Integral):
                ws.write_number(r, col[k], int(v), fmt.total_integer)
            continue
        d = _dec(v)
        if d is None:
            continue
        if n and _sum_matches(vals, d):
            ws.write_formula(r, col[k], f"=SUM({_range(None, h + 1, h + n, col[k])})", fmt.total_money, float(d))
        else:
            ws.write_number(r, col[k], float(d), fmt.total_money)
            not_summed.append(dict(_ROLLUP_COLUMNS)[k])
    for k in _SUMMARY_RATIOS:
        a, b = _ratio_keys(k, {x for x in rollup if rollup[x] is not None})  # type: ignore[misc]
        v = rollup.get(k)
        if _ratio_matches(rollup.get(a), rollup.get(b), v):
            cached = _ratio_cached(v)
            ws.write_formula(
                r,
                col[k],
                f'=IF({xl_rowcol_to_cell(r, col[b])}=0,"{NA}",{xl_rowcol_to_cell(r, col[a])}/{xl_rowcol_to_cell(r, col[b])})',
                fmt.total_na if cached == NA else fmt.total_percent,
                cached,
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
    for k in _ATTAINMENT_KEYS:
        _band_formats(ws, h + 1, r, col[k], fmt)
    ws.set_row(h, wrapped_height([label for _, label in _ROLLUP_COLUMNS], list(widths)))
    for i, text in enumerate(notes):  # under the table, wrapped within its first printed page
        write_note(book, ws, r + 2 + i, text)
    ws.freeze_panes(h + 1, 0)
    if n:
        ws.add_table(
            h,
            0,
            h + n,
            len(keys) - 1,
            {
                "name": book.table_name(sheet),
                "style": "Table Style Light 9",
                "columns": [{"header": label, "header_format": fmt.header} for _, label in _ROLLUP_COLUMNS],
            },
        )
        below = r + 2 + len(notes) + 1  # under the total row and the notes
        placed = _Placed(parts=[(sheet, h + 1, h + n)], columns=col, chart_anchor=(sheet, ws, below))
        _attainment_chart(book, placed, "team", "Attainment by team", [(rep.summary or {}).get("attainment") for rep, _ in teams])
    else:
        ws.autofilter(h, 0, h + 1, len(keys) - 1)
