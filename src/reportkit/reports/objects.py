"""Report objects: what one account manager's or one team's report shows, as plain figures.

A report object holds *plain, already-computed* figures for one account manager
or one team and one period: DataFrames, ``Decimal`` money and strings. Renderers
(the notebook templates, :mod:`reportkit.render.charts`, :mod:`reportkit.render.excel`) only
read it, so the notebook, the HTML and the workbook show the same cents.

Privacy: a report object contains only its own account manager's (or team's)
deals, accounts and pay; it never carries the full dataset.

Column contracts (money columns hold ``Decimal`` quantized to 0.01 in the
report currency; attainment is a float fraction, NaN when undefined):

AccountManagerReport
    quarterly   : period, period_start, period_end, revenue, quota, attainment,
                  revenue_last_year (None when the data set starts after the
                  first day of last year's span), growth_vs_last_year (fraction, NaN if no base),
                  days_elapsed, days_in_period (a quarter not over by as_of is
                  compared like for like: see build_account_manager_report)
    commission  : line, description, basis, rate, amount, rule, award
    accounts    : account_id, account_name, segment, handover_date, revenue_period,
                  revenue_ytd, revenue_same_period_last_year, last_order_date,
                  days_since_last_order, trend, status, status_reason
    forecast    : method, basis, ytd_revenue, remaining_forecast, forecast, annual_quota,
                  forecast_attainment, low, high   (row 1: the chosen,
                  reconciled forecast, the headline: method ``reconciled``, or
                  ``seasonal_naive`` where the level falls back, basis
                  ``chosen: ...``; row 2: ``blended``; row 3: ``run_rate``, range n/a)
    performance : period, attainment, missed, consecutive_misses, status, note
    deals       : deal_id, account_id, account_name, close_date, amount, stage, product
    forecast_categories : key, forecast, kind, includes, opportunities, amount
                  (None unless the data declares forecast categories:
                  reportkit.domain.forecast_categories.forecast_category_table;
                  forecast_categories_rule says the roll-up rule in words)
TeamReport
    leaderboard : rank, account_manager_id, name, revenue, quota, attainment,
                  commission, forecast, performance_status
    attainment_distribution : band, count
    quarterly   : period, revenue (each deal once), credited_revenue (the
                  members' own credits, attainment basis), quota, attainment
                  (team roll-up rule: reportkit.domain.quota.pooled_attainment)
    forecast    : account_manager_id, name, method, basis, ytd_revenue, forecast,
                  annual_quota, forecast_attainment, low, high, blended, run_rate
                  (each member's chosen, reconciled forecast and its 80 % range,
                  blended and run rate for comparison; last row ``TOTAL``, method
                  ``sum``: the team total on the attainment basis, the members'
                  forecasts as an exact total rounded once, its forecast
                  attainment = its forecast / its annual quota by the team roll-up
                  rule, its range the team's own when it is the team's forecast)
    performance_watch : account_manager_id, name, consecutive_misses, status
    commission_expense : account_manager_id, name, commission, bonus, total
    forecast_categories : as for AccountManagerReport, the team's (each
                  opportunity and each won deal once)
CompanyReport (one per batch: every reported team; reportkit.reports.company)
    teams       : team, sales_manager, members, revenue, credited_revenue, quota,
                  attainment, ytd_revenue, ytd_credited_revenue, ytd_quota,
                  ytd_attainment, commission_expense, forecast, credited_forecast,
                  annual_quota, forecast_attainment, on_watch (each team report's
                  summary; the company total is in ``summary``)
    quarterly   : as TeamReport.quarterly, over every member
    account_managers : team, account_manager_id, name, revenue, quota, attainment,
                  commission, performance_status (the team leaderboards, ranked)
    attainment_distribution : band, count (over account_managers)
    performance_watch : team, account_manager_id, name, consecutive_misses, status
    forecast    : team, ytd_revenue, forecast, low, high, credited_forecast,
                  annual_quota, forecast_attainment (each team, then ``Company total``)
    forecast_accuracy : quarter, forecast_remaining, actual_remaining, error
                  (reportkit.domain.backtest.forecast_accuracy; empty without history)
    pipeline    : measure, amount, quota_to_close, coverage (unweighted and weighted)
    sales_metrics : span, start, end, won, lost, win_rate, average_won_deal,
                  sales_cycle_days (this period, the same period last year, YTD, YTD last year)
    top_accounts : top, accounts, revenue, share
    at_risk     : team, account_manager_id, account_manager, account_id, account_name,
                  revenue_ytd, reason (the rule in words), status_reason
    at_risk_reasons : reason, accounts, revenue_ytd (at_risk rolled up by reason)
    commission_expense : team, members, commission, bonus, other, total
AccountReport (a declared kind ``per: account``; reportkit.reports.account)
    summary     : the account's row of its account manager's ``accounts`` table
                  (revenue_period, revenue_ytd, status, status_reason, open_pipeline ...)
    deals       : the rows of that account manager's ``deals`` table for the account
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from ..config.params import DEFAULT_TABLE_ROWS, Branding

__all__ = ["AccountManagerReport", "TeamReport", "CompanyReport", "AccountReport"]


@dataclass(frozen=True)
class AccountManagerReport:
    """Everything one account manager's report shows for one period."""

    id: str
    name: str
    team: str
    sales_manager: str
    region: str | None
    period: str
    period_start: datetime.date
    period_end: datetime.date
    as_of: datetime.date
    currency: str
    summary: dict[str, Any]
    quarterly: pd.DataFrame
    commission: pd.DataFrame
    accounts: pd.DataFrame
    forecast: pd.DataFrame
    performance: pd.DataFrame
    deals: pd.DataFrame
    notes: tuple[str, ...] = ()
    timezone: str = "UTC"  # params ``timezone``: the workbook shows tz-aware timestamps in it
    miss_below: float = 0.9  # params ``performance.miss_below``: the workbook's attainment miss band
    paper: str = "A4"  # params ``pdf.paper`` (A4 or Letter): the sheet the PDF and the workbooks print on
    orientation: str = "landscape"  # params ``pdf.orientation``: landscape or portrait, PDF and workbooks
    table_rows: int = DEFAULT_TABLE_ROWS  # params ``table_rows``: rows a long table shows in the notebook, HTML, PDF
    print_charts: bool = True  # False when its batch makes no PDF of it: its charts skip the SVG print copy
    branding: Branding | None = None  # params ``branding`` (company, logo, accent): read by the HTML, PDF and workbook
    # forecast categories (issue #13 item 11): None unless the data declares them
    forecast_categories: pd.DataFrame | None = None
    forecast_categories_rule: str = ""
    # the trace behind each commission line (issue #15 part 4): the engine's, its ``line`` that of ``commission``
    commission_trace: pd.DataFrame | None = None
    kind: Literal["account_manager"] = "account_manager"


@dataclass(frozen=True)
class TeamReport:
    """Everything one sales manager's team report shows for one period."""

    id: str
    name: str
    sales_manager: str
    period: str
    period_start: datetime.date
    period_end: datetime.date
    as_of: datetime.date
    currency: str
    summary: dict[str, Any]
    leaderboard: pd.DataFrame
    attainment_distribution: pd.DataFrame
    quarterly: pd.DataFrame
    forecast: pd.DataFrame
    performance_watch: pd.DataFrame
    commission_expense: pd.DataFrame
    notes: tuple[str, ...] = ()
    timezone: str = "UTC"  # params ``timezone``: the workbook shows tz-aware timestamps in it
    miss_below: float = 0.9  # params ``performance.miss_below``: the workbook's attainment miss band
    paper: str = "A4"  # params ``pdf.paper`` (A4 or Letter): the sheet the PDF and the workbooks print on
    orientation: str = "landscape"  # params ``pdf.orientation``: landscape or portrait, PDF and workbooks
    table_rows: int = DEFAULT_TABLE_ROWS  # params ``table_rows``: rows a long table shows in the notebook, HTML, PDF
    print_charts: bool = True  # False when its batch makes no PDF of it: its charts skip the SVG print copy
    branding: Branding | None = None  # params ``branding`` (company, logo, accent): read by the HTML, PDF and workbook
    # forecast categories (issue #13 item 11): None unless the data declares them
    forecast_categories: pd.DataFrame | None = None
    forecast_categories_rule: str = ""
    kind: Literal["team"] = "team"


@dataclass(frozen=True)
class CompanyReport:
    """Everything the company report shows for one period: the batch's teams as one company."""

    id: str
    name: str
    period: str
    period_start: datetime.date
    period_end: datetime.date
    as_of: datetime.date
    currency: str
    summary: dict[str, Any]
    teams: pd.DataFrame
    quarterly: pd.DataFrame
    account_managers: pd.DataFrame
    attainment_distribution: pd.DataFrame
    performance_watch: pd.DataFrame
    forecast: pd.DataFrame
    forecast_accuracy: pd.DataFrame
    pipeline: pd.DataFrame
    sales_metrics: pd.DataFrame
    top_accounts: pd.DataFrame
    at_risk: pd.DataFrame
    at_risk_reasons: pd.DataFrame
    commission_expense: pd.DataFrame
    notes: tuple[str, ...] = ()
    timezone: str = "UTC"  # params ``timezone``: the workbook shows tz-aware timestamps in it
    miss_below: float = 0.9  # params ``performance.miss_below``: the workbook's attainment miss band
    paper: str = "A4"  # params ``pdf.paper`` (A4 or Letter): the sheet the PDF and the workbooks print on
    orientation: str = "landscape"  # params ``pdf.orientation``: landscape or portrait, PDF and workbooks
    branding: Branding | None = None  # params ``branding`` (company, logo, accent): read by the HTML, PDF and workbook
    print_charts: bool = True  # False when its batch makes no PDF of it: its charts skip the SVG print copy
    kind: Literal["company"] = "company"


@dataclass(frozen=True)
class AccountReport:
    """One client account as its account manager's report shows it (a declared kind ``per: account``).

    Nothing is computed for it: ``summary`` is the account's row of the account manager
    report's ``accounts`` table and ``deals`` that report's deals of the account, so an
    account report shows exactly the figures its account manager's report shows.
    """

    id: str
    name: str
    account_manager_id: str
    account_manager: str
    team: str
    period: str
    period_start: datetime.date
    period_end: datetime.date
    as_of: datetime.date
    currency: str
    summary: dict[str, Any]
    deals: pd.DataFrame
    notes: tuple[str, ...] = ()
    timezone: str = "UTC"
    miss_below: float = 0.9
    table_rows: int = DEFAULT_TABLE_ROWS
    print_charts: bool = True  # False when its batch makes no PDF of it: its charts skip the SVG print copy
    branding: Branding | None = None
    kind: Literal["account"] = "account"
