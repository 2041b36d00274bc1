"""Report data objects and the registry of report kinds.

A report object holds *plain, already-computed* figures for one account manager
or one team and one period: DataFrames, ``Decimal`` money and strings. Renderers
(the notebook templates, :mod:`reportkit.charts`, :mod:`reportkit.excel`) only
read it, so the notebook, the HTML and the workbook show the same cents.

Privacy: a report object contains only its own account manager's (or team's)
deals, accounts and pay; it never carries the full dataset.

Column contracts (money columns hold ``Decimal`` quantized to 0.01 in the
report currency; attainment is a float fraction, NaN when undefined):

AccountManagerReport
    quarterly   : period, period_start, period_end, revenue, quota, attainment,
                  revenue_last_year, growth_vs_last_year (fraction, NaN if no base)
    commission  : line, description, basis, rate, amount, rule, award
    accounts    : account_id, account_name, segment, handover_date, revenue_period,
                  revenue_ytd, revenue_same_period_last_year, last_order_date,
                  days_since_last_order, trend, status, status_reason
    forecast    : method, ytd_revenue, remaining_forecast, forecast, annual_quota,
                  forecast_attainment, low, high
    performance : period, attainment, missed, consecutive_misses, status
    deals       : deal_id, account_id, account_name, close_date, amount, stage, product
TeamReport
    leaderboard : rank, account_manager_id, name, revenue, quota, attainment,
                  commission, forecast, performance_status
    attainment_distribution : band, count
    quarterly   : period, revenue, quota, attainment
    forecast    : account_manager_id, name, ytd_revenue, forecast, annual_quota,
                  forecast_attainment, low, high   (last row: team total)
    performance_watch : account_manager_id, name, consecutive_misses, status
    commission_expense : account_manager_id, name, commission, bonus, total
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import pandas as pd

__all__ = ["AccountManagerReport", "TeamReport", "ReportKind", "REPORT_KINDS"]


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
    kind: Literal["team"] = "team"


@dataclass(frozen=True)
class ReportKind:
    """One registered kind of report: its template and how its outputs are named."""

    name: str
    template: str  # file name under templates/
    title: str


REPORT_KINDS: dict[str, ReportKind] = {
    "account_manager": ReportKind("account_manager", "account_manager.ipynb", "Account manager report"),
    "team": ReportKind("team", "team.ipynb", "Team report"),
}
