"""The words a reader sees for reportkit's names: one table for the HTML, the PDF and the workbooks.

Report objects use internal names (column names such as ``status_rule``, rule
codes such as ``growing_from_zero``, forecast method ids such as ``run_rate``).
None of them reaches a reader: every renderer turns them into words here.

* :data:`COLUMN_LABELS` and :func:`column_label` -- a column's or summary key's
  header (``share_of_am_revenue`` -> ``Share of AM revenue (YTD)``); a name not
  in the table gets its words from the name (``revenue_last_year`` ->
  ``Revenue last year``).
* :data:`SUMMARY_LAYOUT` and :func:`summary_label` -- the summary rows a report
  shows and their labels (the notebook's summary table and the workbook's
  Summary sheet say the same words).
* :data:`VALUE_WORDS` and :func:`value_words` -- a code *in a cell* in words, by
  its column (``status_rule``: ``growing_from_zero`` -> ``new revenue (none last
  year)``; ``method``: ``run_rate`` -> ``run rate``). Text from the data is
  never changed: only the columns listed hold codes.
* :func:`plain_frame` -- a frame with its code columns in words (what the
  workbooks write).
* :func:`money_tick` -- a chart axis's compact amount (``$250k``), in the notebook's charts
  and the workbook's empty chart alike.
* :func:`empty_chart_note` -- what a chart whose values are all zero or missing says
  instead of a scale (``no revenue and no quota in these periods``): the notebook's
  chart (:mod:`reportkit.render.charts`) and the workbook's
  (:mod:`reportkit.render.excel.charts`) show one zero tick and these words.

Display only: nothing here computes money.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ..core.currency import currency_info

__all__ = [
    "COLUMN_LABELS",
    "SUMMARY_LAYOUT",
    "VALUE_WORDS",
    "column_label",
    "summary_label",
    "value_words",
    "plain_frame",
    "empty_chart_note",
    "revenue_vs_quota_note",
    "money_tick",
]

COLUMN_LABELS: dict[str, str] = {
    "account_manager_id": "Account manager ID",
    "account_id": "Account ID",
    "deal_id": "Deal ID",
    "credit_source": "Credited as",
    "ytd_revenue": "YTD revenue",
    "revenue_ytd": "Revenue YTD",
    "growth_vs_last_year": "Growth vs last year",
    "days_since_last_order": "Days since last order",
    "share_of_am_revenue": "Share of AM revenue (YTD)",
    "status_rule": "Status rule",
    "win_rate": "Win rate",
    "run_rate": "Run-rate forecast",
    "quota_to_date": "Quota to date (prorated)",
    "pace": "Pace (revenue / quota to date)",
    "credited_revenue": "Credited revenue (attainment basis)",
    "credited_forecast": "Credited forecast (attainment basis)",
    # summary keys the workbooks' Summary sheet lists
    "period_label": "Period shown",
    "commission_total": "Total earned (all awards)",
    "commission": "Commission",
    "commission_cash": "Payable now (cash)",
    "commission_deferred": "Deferred",
    "bonus": "Quota bonus",
    "forecast_method": "Forecast method",
    "forecast_basis": "Forecast basis",
    "forecast_low": "Forecast low",
    "forecast_high": "Forecast high",
    "forecast_run_rate": "Run-rate forecast",
    "forecast_blended": "Blended forecast (for comparison)",
    "forecast_rule": "How the forecast was chosen",
    "consecutive_misses": "Consecutive missed quarters",
    "deals_count": "Deals",
    "accounts_count": "Accounts",
    "on_watch": "On performance watch",
    "commission_expense_commission": "Commission expense: commission",
    "commission_expense_bonus": "Commission expense: quota bonus",
    "crediting_overlaps": "Deals credited to more than one member",
    "attainment_basis_differs": "Credited revenue differs from revenue",
    "next_year": "Next fiscal year",
    "next_year_forecast": "Next year's forecast",
    "next_year_forecast_low": "Next year's forecast low",
    "next_year_forecast_high": "Next year's forecast high",
    "next_year_quota": "Next year's quota",
    "next_year_forecast_attainment": "Next year's forecast attainment",
    "next_year_rule": "How next year's forecast was chosen",
    # the company report's figures (restored: a merge had left them in a docstring of render/notebook.py)
    "last_year_win_rate": "Win rate last year",
    "average_deal": "Average won deal",
    "last_year_average_deal": "Average won deal last year",
    "sales_cycle_days": "Sales cycle (median days, created to close)",
    "last_year_sales_cycle_days": "Sales cycle last year (median days)",
    "quota_to_close": "Quota still to close",
    "pipeline_coverage": "Pipeline coverage (times quota to close)",
    "weighted_pipeline_coverage": "Weighted pipeline coverage (times quota to close)",
    "implied_coverage": "Coverage the win rate implies (1 / win rate)",
    "coverage": "Coverage (times quota to close)",
    "top_1_share": "Top account's share of YTD revenue",
    "top_5_share": "Top 5 accounts' share of YTD revenue",
    "top_10_share": "Top 10 accounts' share of YTD revenue",
    "grr": "Gross revenue retention (GRR)",
    "nrr": "Net revenue retention (NRR)",
    "at_risk_accounts": "Accounts at risk",
    "commission_share_of_revenue": "Commission expense / revenue",
    "forecast_remaining": "Forecast of the rest of the year",
    "actual_remaining": "Actual rest of the year",
    "error": "Error (forecast vs actual)",
    "average_won_deal": "Average won deal",
}
"""Headers of columns and summary keys whose words are not just the name's words."""

_METHOD_WORDS = {
    "run_rate": "run rate",
    "seasonal": "seasonal",
    "seasonal_naive": "seasonal naive",
    "weighted_pipeline": "weighted pipeline",
    "commit": "commit",
    "best_case": "best case",
    "pipeline": "pipeline",
    "blended": "blended",
    # the chosen forecast (reportkit.domain.backtest.forecast_hierarchy): its row in a forecast table
    "reconciled": "chosen (reconciled)",
    "ets": "ETS",
    "theta": "Theta",
    "arima": "seasonal ARIMA",
    "sum": "sum of the members",
}

VALUE_WORDS: dict[str, dict[str, str]] = {
    # reportkit.domain.accounts.STATUS_RULES: which rule set an account's status
    "status_rule": {
        "data_ends": "the data ends before the period",
        "lapsed": "no order for too long",
        "escalation": "open service escalation",
        "new": "new account",
        "silent": "no recent order",
        "no_history": "no history to compare",
        "drop": "sharp revenue drop",
        "declining": "revenue declining",
        "growing": "revenue growing",
        "growing_from_zero": "new revenue (none last year)",
        "stable": "revenue stable",
    },
    # reportkit.domain.forecast.METHODS
    "method": _METHOD_WORDS,
    "forecast_method": _METHOD_WORDS,
    "next_year_method": _METHOD_WORDS,
}
"""Codes in cells, by column: the words shown instead (a value not listed is shown as it is)."""

_NEXT_YEAR_ROWS = (  # once the reported fiscal year is over (reports.sections.next_year_forecast)
    ("next_year", "Next fiscal year", "always"),
    ("next_year_forecast", "Next year's forecast", "always"),
    ("next_year_forecast_range", "Next year's forecast range", "always"),
    ("next_year_quota", "Next year's quota", "always"),
    ("next_year_forecast_attainment", "Next year's forecast attainment", "always"),
    ("next_year_rule", "How next year's forecast was chosen", "always"),
)

#: Summary rows a template shows, in order: (key, label, when). ``when`` is
#: ``"always"``, ``"not_title"`` (only when it says more than the title's period,
#: e.g. ``FY2025-Q3 (to date: 46 of 92 days)``), ``"to_date"`` (only while the period is not over), ``"nonzero"``
#: (only when the value is not 0.00) or ``"not_cash"`` (only when it differs from
#: ``commission_cash``, i.e. some of it is not paid now) or ``"basis"`` (only when
#: the team's ``attainment_basis_differs``: its credited revenue behind attainment is
#: not its revenue, see :func:`reportkit.domain.quota.pooled_attainment`). Keys the report does not
#: have are skipped; values are never computed here.
SUMMARY_LAYOUT: dict[str, tuple[tuple[str, str, str], ...]] = {
    "account_manager": (
        ("period_label", "Period", "not_title"),
        ("revenue", "Revenue", "always"),
        ("quota", "Quota", "always"),
        ("attainment", "Attainment", "always"),
        ("quota_to_date", "Quota to date (prorated)", "to_date"),
        ("pace", "Pace (revenue / quota to date)", "to_date"),
        ("ytd_revenue", "YTD revenue", "always"),
        ("ytd_quota", "YTD quota", "always"),
        ("ytd_attainment", "YTD attainment", "always"),
        ("commission", "Commission on revenue", "always"),
        ("bonus", "Quota bonus", "nonzero"),
        ("commission_cash", "Payable now (cash)", "always"),
        # only a plan paid in another currency has these keys (docs/commission.md, "Plan shapes: payout currency")
        ("commission_cash_in_payout_currency", "Payable now in the payout currency", "always"),
        ("commission_deferred", "Deferred", "nonzero"),
        ("commission_total", "Total earned (all awards)", "not_cash"),
        ("forecast", "Annual forecast", "always"),
        ("forecast_range", "Forecast range", "always"),
        ("forecast_run_rate", "Run-rate forecast", "always"),
        ("annual_quota", "Annual quota", "always"),
        ("forecast_attainment", "Forecast attainment", "always"),
        ("forecast_rule", "How the forecast was chosen", "always"),
        *_NEXT_YEAR_ROWS,
        ("performance_status", "Performance status", "always"),
        ("consecutive_misses", "Consecutive missed quarters", "always"),
        ("deals_count", "Deals", "always"),
        ("accounts_count", "Accounts", "always"),
    ),
    "team": (
        ("period_label", "Period", "not_title"),
        ("members", "Members", "always"),
        ("revenue", "Revenue (each deal once)", "always"),
        ("credited_revenue", "Credited revenue (attainment basis)", "basis"),
        ("quota", "Quota", "always"),
        ("attainment", "Attainment", "always"),
        ("quota_to_date", "Quota to date (prorated)", "to_date"),
        ("pace", "Pace (credited revenue / quota to date)", "to_date"),
        ("ytd_revenue", "YTD revenue (each deal once)", "always"),
        ("ytd_credited_revenue", "YTD credited revenue (attainment basis)", "basis"),
        ("ytd_quota", "YTD quota", "always"),
        ("ytd_attainment", "YTD attainment", "always"),
        ("commission_expense", "Commission expense", "always"),
        ("forecast", "Annual forecast (each deal once)", "always"),
        ("forecast_range", "Forecast range", "always"),
        ("forecast_run_rate", "Run-rate forecast", "always"),
        ("forecast_blended", "Blended forecast (for comparison)", "always"),
        ("credited_forecast", "Credited forecast (attainment basis)", "basis"),
        ("annual_quota", "Annual quota", "always"),
        ("forecast_attainment", "Forecast attainment", "always"),
        ("forecast_rule", "How the forecast was chosen", "always"),
        *_NEXT_YEAR_ROWS,
        ("on_watch", "On performance watch", "always"),
        ("deals_count", "Deals", "always"),
    ),
}

#: Rows of the team summary that say nothing at company level (the company report has its own).
_TEAM_ONLY_ROWS = frozenset({"period_label", "members", "quota_to_date", "pace", "forecast_run_rate", "deals_count"})
SUMMARY_LAYOUT["company"] = (
    ("period_label", "Period", "not_title"),
    ("teams", "Teams", "always"),
    ("members", "Account managers", "always"),
    *(r for r in SUMMARY_LAYOUT["team"] if r[0] not in _TEAM_ONLY_ROWS),
    ("commission_share_of_revenue", "Commission expense / revenue", "always"),
)
"""The company report's summary: the team report's rows over the whole company (its figures from the roll-up)."""


def summary_label(kind: str, key: str) -> str:
    """The label of a summary key in a report of ``kind``: its :data:`SUMMARY_LAYOUT` label, else :func:`column_label`.

    >>> summary_label("team", "revenue"), summary_label("account_manager", "deals_count")
    ('Revenue (each deal once)', 'Deals')
    """
    for k, label, _ in SUMMARY_LAYOUT.get(kind, ()):
        if k == key:
            return label
    return column_label(key)


_UPPER = {"ytd": "YTD", "id": "ID", "am": "AM"}


def column_label(column: str) -> str:
    """Human header for a column name or summary key.

    >>> column_label("revenue_last_year"), column_label("share_of_am_revenue")
    ('Revenue last year', 'Share of AM revenue (YTD)')
    """
    if column in COLUMN_LABELS:
        return COLUMN_LABELS[column]
    words = [_UPPER.get(w.lower(), w) for w in str(column).split("_") if w]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def value_words(value: Any, column: str) -> Any:
    """A code in a cell of ``column`` in words; any other value unchanged.

    >>> value_words("growing_from_zero", "status_rule"), value_words("run_rate", "method")
    ('new revenue (none last year)', 'run rate')
    >>> value_words("growing_from_zero", "account_name")  # text from the data stays as it is
    'growing_from_zero'
    """
    words = VALUE_WORDS.get(str(column))
    if words is None or not isinstance(value, str):
        return value
    return words.get(value, value)


def plain_frame(frame: pd.DataFrame | None, words: Mapping[str, Mapping[str, str]] = VALUE_WORDS) -> pd.DataFrame | None:
    """``frame`` with the codes of its :data:`VALUE_WORDS` columns in words (a copy; other columns untouched)."""
    if frame is None:
        return None
    cols = [c for c in frame.columns if str(c) in words]
    if not cols:
        return frame
    out = frame.copy()
    for c in cols:
        out[c] = out[c].map(lambda v, c=c: value_words(v, str(c)))
    return out


def empty_chart_note(values: Sequence[Any], note: str) -> str | None:
    """``note`` when a chart has values and every one is zero or missing (None, NaN); else None.

    Such a chart has nothing to scale: left to itself, matplotlib draws an axis of
    -0.05 .. 0.05 whose every tick reads ``$0``, a spreadsheet one of $0.00 .. $1.00.
    A reader expects one zero line and words saying why the chart is empty. A chart
    with no values at all says "no data" instead.

    >>> empty_chart_note([0, None, float("nan")], "no revenue and no quota in these periods")
    'no revenue and no quota in these periods'
    >>> empty_chart_note([0, 1], "no revenue"), empty_chart_note([], "no revenue")
    (None, None)
    """
    present = [v for v in values if not (pd.isna(v) or v != v)]  # v != v: a Decimal NaN
    return note if values and all(v == 0 for v in present) else None


def revenue_vs_quota_note(revenue: str = "revenue") -> str:
    """What an all-zero chart of ``revenue`` against quota per quarter says (:func:`empty_chart_note`).

    >>> revenue_vs_quota_note("Credited revenue")
    'no credited revenue and no quota in these periods'
    """
    return f"no {revenue.lower()} and no quota in these periods"


def money_tick(x: float, currency: str = "USD") -> str:
    """Compact currency tick label: ``250000 -> '$250k'``, ``1.25e6 -> '$1.25M'``, ``0 -> '$0'``.

    Currencies with a symbol (:func:`reportkit.core.currency.currency_info`) get it, others a prefix (``CHF 250k``); the sign
    goes before the symbol (``-$50k``). Display only: the value is the axis
    position, nothing is computed from it.
    """
    sign = "-" if x < 0 else ""
    a = abs(x)
    if a >= 1e9:
        body = f"{a / 1e9:.2f}".rstrip("0").rstrip(".") + "B"
    elif a >= 1e6:
        body = f"{a / 1e6:.2f}".rstrip("0").rstrip(".") + "M"
    elif a >= 1e3:
        body = f"{a / 1e3:.1f}".rstrip("0").rstrip(".") + "k"
    else:
        body = f"{a:.0f}"
    if body in ("0", "0k", "0M", "0B"):
        sign, body = "", "0"
    symbol = currency_info(currency).symbol
    return f"{sign}{symbol}{body}" if symbol else f"{sign}{currency} {body}"
