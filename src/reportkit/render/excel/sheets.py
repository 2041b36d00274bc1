"""The list sheets of each report kind: which sheets, and what each computes live.

An account manager's workbook: quarterly results (attainment live), commission
statement (total = ``SUM`` of its lines), accounts, forecast, deals. A team's:
leaderboard, attainment distribution (counts as ``COUNTIFS`` over the
leaderboard), performance watch, forecast roll-up (with its team total row),
commission expense (row sums and totals), quarterly results. The company's
(:data:`COMPANY_SHEETS`): teams with a company total row (``SUM`` where the
teams add up to the company figure, else the figure: teams can share deals),
quarterly results, account managers, attainment distribution (``COUNTIFS``),
performance watch, forecast, forecast accuracy, pipeline coverage, win rate and
deal size, top accounts, accounts at risk (and by reason), commission expense (row sums, totals). Either kind adds
*Forecast categories* last when the report has them (:data:`OPTIONAL_SHEETS`:
each cumulative roll-up is a live sum of its categories' cells, the rule in
words below the table).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from xlsxwriter.utility import xl_rowcol_to_cell

from ...domain.forecast_categories import CUMULATIVE_ROLLUPS
from ...reports.builders import ATTAINMENT_BANDS
from ..cell_kinds import NA, is_missing
from .book import _Book
from .formulas import _dec, _dec_sum, _frac
from .frames import _Placed, _Spec, write_frame_sheet, write_note

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

COMPANY_SHEETS: tuple[tuple[str, str], ...] = (
    ("Teams", "teams"),
    ("Quarterly results", "quarterly"),
    ("Account managers", "account_managers"),
    ("Attainment distribution", "attainment_distribution"),
    ("Performance watch", "performance_watch"),
    ("Forecast", "forecast"),
    ("Forecast accuracy", "forecast_accuracy"),
    ("Pipeline coverage", "pipeline"),
    ("Win rate and deal size", "sales_metrics"),
    ("Top accounts", "top_accounts"),
    ("Accounts at risk", "at_risk"),
    ("At risk by reason", "at_risk_reasons"),
    ("Commission expense", "commission_expense"),
)
"""Company sheets after ``Summary``: (sheet name, report attribute)."""

KIND_SHEETS: dict[str, tuple[tuple[str, str], ...]] = {
    "account_manager": AM_SHEETS,
    "team": TEAM_SHEETS,
    "company": COMPANY_SHEETS,
}
"""The list sheets of each report kind."""

OPTIONAL_SHEETS: tuple[tuple[str, str], ...] = (("Forecast categories", "forecast_categories"),)
"""Sheets after the kind's own, written only when the report has the attribute (not None)."""


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


def _company_spec(attr: str, report: Any) -> _Spec:
    """What a company sheet computes live: attainment ratios, the team rows' company total, expense sums."""
    s = report.summary or {}
    if attr == "teams":
        ratios = {
            "attainment": ("credited_revenue", "quota"),
            "ytd_attainment": ("ytd_credited_revenue", "ytd_quota"),
            "forecast_attainment": ("credited_forecast", "annual_quota"),
        }
        keys = ("revenue", "credited_revenue", "quota", "ytd_revenue", "ytd_credited_revenue", "ytd_quota")
        totals = {k: s.get(k) for k in (*keys, "commission_expense", "forecast", "credited_forecast", "annual_quota")}
        values = {k: s.get(k) for k in ratios}
        return _Spec(
            ratios=ratios,
            totals=totals,
            total_ratios=ratios,
            total_values=values,
            total_label="Company total",
            bands=tuple(ratios),
        )
    if attr == "quarterly":
        return _Spec(ratios={"attainment": ("credited_revenue", "quota")}, bands=("attainment",))
    if attr == "account_managers":
        return _Spec(ratios={"attainment": ("revenue", "quota")}, bands=("attainment",))
    if attr == "forecast":
        return _Spec(ratios={"forecast_attainment": ("credited_forecast", "annual_quota")}, bands=("forecast_attainment",))
    if attr == "commission_expense":
        totals = {k: s.get(f"commission_expense_{k}") for k in ("commission", "bonus", "other")}
        totals["total"] = s.get("commission_expense")
        return _Spec(row_sums={"total": ["commission", "bonus", "other"]}, totals=totals, total_label="Company total")
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
        spec.total_ratios = (
            {"forecast_attainment": ("forecast", "annual_quota")} if "forecast_attainment" in members.columns else {}
        )
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
        if not is_missing(count) and int(count) == expected and rngs:
            ws.write_formula(r0 + i, jc, formula, book.fmt.integer, int(count))
    return placed


def _write_report_sheets(book: _Book, report: Any, sheets: tuple[tuple[str, str], ...]) -> dict[str, _Placed]:
    """Every list sheet of ``report`` after Summary, in order: {report attribute: where it went}."""
    team, company = report.kind == "team", report.kind == "company"
    placed: dict[str, _Placed] = {}
    for sheet_name, attr in sheets:
        frame = getattr(report, attr)
        if team and attr == "forecast":
            placed[attr] = _write_forecast_rollup(book, frame, table=True)
        elif team and attr == "attainment_distribution":
            placed[attr] = _write_distribution(book, frame, placed.get("leaderboard"), report.leaderboard)
        elif company and attr == "attainment_distribution":
            placed[attr] = _write_distribution(book, frame, placed.get("account_managers"), report.account_managers)
        else:
            spec = _company_spec(attr, report) if company else _team_spec(attr, report) if team else _am_spec(attr, report)
            placed[attr] = write_frame_sheet(book, sheet_name, frame, spec, table=attr not in ("accounts", "deals"))
    if getattr(report, "forecast_categories", None) is not None:
        placed["forecast_categories"] = _write_forecast_categories(book, report)
    return placed


def _write_forecast_categories(book: _Book, report: Any) -> _Placed:
    """The forecast categories: single categories, then each cumulative roll-up as ``=`` the sum of its categories' cells.

    A roll-up's formula is written only where its categories' amounts add up to it
    to the cent (always, by the rule: :mod:`reportkit.domain.forecast_categories`);
    the roll-up rule in words goes two rows below the table.
    """
    frame = report.forecast_categories
    shown = frame[["forecast", "includes", "opportunities", "amount"]]
    sheet_name = OPTIONAL_SHEETS[0][0]
    placed = write_frame_sheet(book, sheet_name, shown, table=True)
    sheet, r0, r1 = placed.parts[0]
    ws = book.wb.get_worksheet_by_name(sheet)
    ja = placed.columns["amount"]
    row_of = {str(k): r0 + i for i, k in enumerate(frame["key"])}
    amount = {str(k): _dec(v) for k, v in zip(frame["key"], frame["amount"])}
    for key, _name, adds in CUMULATIVE_ROLLUPS:
        if key not in row_of or any(c not in row_of for c in adds):
            continue
        if sum(amount[c] or 0 for c in adds) == amount[key]:
            f = "=" + "+".join(xl_rowcol_to_cell(row_of[c], ja) for c in adds)
            ws.write_formula(row_of[key], ja, f, book.fmt.money, float(amount[key] or 0))
    write_note(book, ws, r1 + 2, str(getattr(report, "forecast_categories_rule", "")))
    return placed
