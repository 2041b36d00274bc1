"""The company roll-up: the teams of a batch as one group (the company row of the index and workbook)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from ..config.params import BatchParams
from ..core.errors import ParamsError
from ..core.money import cents_to_money, money_sum
from ..data.model import Dataset
from ..domain.crediting import crediting_overlaps, group_credits
from ..domain.forecast import COMPANY, pooled_forecast
from .context import ReportContext, report_context
from .objects import TeamReport
from .sections import (
    chosen_forecast,
    forecast_beyond_members_notes,
    fraction_or_none,
    group_figures,
    group_forecast,
    money_or_none,
)
from .team import ROLLUP_TOTAL_RULE

__all__ = ["COMPANY_REVENUE_RULE", "COMPANY_ATTAINMENT_RULE", "build_company_rollup"]


COMPANY_REVENUE_RULE = (
    "Company revenue counts every won deal credited to at least one member of the reported teams once, "
    "however many people or teams it credits; it is not the sum of the team rows."
)
"""The company roll-up's note stating how company revenue is counted."""
COMPANY_ATTAINMENT_RULE = (
    "Company attainment = the credited revenue of every account manager who has a quota, divided by the sum "
    "of their quotas (the team rule over all teams), so it lies between the lowest and the highest "
    "account manager's attainment."
)
"""The company roll-up's note stating its attainment rule (:func:`reportkit.domain.quota.pooled_attainment`)."""


def build_company_rollup(
    ds: Dataset,
    team_reports: list[TeamReport] | tuple[TeamReport, ...],
    period: str,
    params: BatchParams,
    as_of: datetime.date,
) -> dict[str, Any]:
    """The company row of a batch's roll-up: the teams' members as one group.

    Rules
    -----
    * ``revenue`` / ``ytd_revenue``: every won deal credited to at least one
      member of ``team_reports`` (after the business-development handover rule
      of :mod:`reportkit.domain.crediting`), **counted once**
      (:func:`reportkit.domain.crediting.team_revenue` over all members), not the sum of
      the teams' revenue: teams can share deals (AdventureWorks' ``Executive``
      and ``Sales leadership`` teams carry every deal of the company).
    * ``attainment`` / ``ytd_attainment``: the team roll-up rule
      (:func:`reportkit.domain.quota.pooled_attainment`) over all members:
      ``credited_revenue`` / ``quota``, so it lies within the range of every
      account manager's attainment.
    * ``forecast``: when the reported teams are every team of the data set, the
      company's chosen, reconciled forecast and its range
      (:func:`reportkit.reports.sections.chosen_forecast`, the figure the team
      reports' forecasts add up to); otherwise, and before the fiscal year begins,
      the members' blended forecasts totalled (exact YTD credits
      plus forecast parts, rounded once: equal to a lone team's forecast) when
      no deal credits two members; otherwise the company's deals (each once)
      forecast as one series. ``credited_forecast`` is the attainment basis:
      the members' forecasts (members with an annual quota) totalled the same
      way; ``forecast_attainment`` = ``credited_forecast`` / ``annual_quota``
      (same rule).
    * ``members``, ``on_watch``, ``commission_expense``: sums over the teams
      (every account manager is in exactly one team, so nobody counts twice).

    Inside :func:`reportkit.reports.context.shared_contexts` (a batch) the roll-up is computed
    once for the same team report objects: the company report and ``company.xlsx``
    (:mod:`reportkit.run.company`) read the one result, whichever asks first.

    Parameters
    ----------
    ds : Dataset
    team_reports : sequence of TeamReport
        The batch's team reports, all for ``period`` and ``as_of``.
    period : str
        Fiscal period label.
    params : BatchParams
    as_of : date

    Returns
    -------
    dict
        Keys ``team`` (``"Company total"``), ``members``, ``revenue``,
        ``credited_revenue``, ``quota``, ``attainment``, ``ytd_revenue``,
        ``ytd_credited_revenue``, ``ytd_quota``, ``ytd_attainment``,
        ``commission_expense``, ``forecast`` (with its range ``forecast_low`` /
        ``forecast_high``), ``credited_forecast``, ``annual_quota``,
        ``forecast_attainment``, ``on_watch``, ``notes`` (tuple of str; with
        :data:`ROLLUP_TOTAL_RULE` when the source has sub-cent amounts). Money is
        ``Decimal`` (0.01), attainment a float fraction or None.

    Raises
    ------
    ParamsError
        A team report is for another period or date than asked.
    """
    ctx = report_context(ds, params, period, as_of)
    p = ctx.period
    wrong = [t.name for t in team_reports if t.period != p.label or t.as_of != as_of]
    if wrong:
        raise ParamsError(f"team reports {wrong} are not for {p.label} as of {as_of.isoformat()}")
    # once per batch: the company report and company.xlsx roll up the same team report objects (kept in the
    # context, which holds those objects anyway); a roll-up of other objects is computed afresh
    kept = ctx.engine.get("company_rollup")  # (the team report objects, in any order; the roll-up)
    if kept is not None and len(kept[0]) == len(team_reports) and {id(t) for t in kept[0]} == {id(t) for t in team_reports}:
        return dict(kept[1])
    rollup = _company_rollup(ds, ctx, team_reports)
    ctx.engine["company_rollup"] = (tuple(team_reports), rollup)
    return dict(rollup)


def _company_rollup(ds: Dataset, ctx: ReportContext, team_reports: Sequence[TeamReport]) -> dict[str, Any]:
    """:func:`build_company_rollup` computed."""
    members = sorted({str(a) for t in team_reports for a in t.leaderboard["account_manager_id"]})
    credited = group_credits(ctx.credited, members)  # the columns the figures read, not a copy of all 14
    figures = group_figures(ctx, credited, members)
    annual_q = ctx.annual_quotas(members)
    basis_fc = pooled_forecast(ctx.forecasts(ds).loc[members], members, figures.ytd_micros, [annual_q[a] for a in members])
    sales_fc = group_forecast(
        ds,
        ctx,
        credited,
        members,
        figures.ytd_micros,
        overlap=bool(members) and crediting_overlaps(credited, members),
        level="company",
        entity=COMPANY,
    )
    every_team = {str(t) for t in ds.account_managers["team"].dropna()} <= {str(t.name) for t in team_reports}
    chosen = chosen_forecast(ds, ctx, level="company", entity=COMPANY, ytd_cents=figures.ytd_revenue_cents) if every_team else {}
    if chosen:  # the chosen, reconciled forecast: the teams' add up to it (issue #17), as the team reports show theirs
        no_range = chosen["chosen_low_cents"] is None or chosen["chosen_high_cents"] is None
        sales_fc = {  # without a model range (a year over: the actuals; too little history) the blended one
            **sales_fc,
            "blended_cents": chosen["chosen_cents"],
            "low_cents": sales_fc["low_cents"] if no_range else chosen["chosen_low_cents"],
            "high_cents": sales_fc["high_cents"] if no_range else chosen["chosen_high_cents"],
        }
    return {
        "team": "Company total",
        "members": sum(int(t.summary.get("members", 0)) for t in team_reports),
        "revenue": cents_to_money(figures.revenue_cents),
        "credited_revenue": money_or_none(figures.period.revenue_cents),
        "quota": money_or_none(figures.period.quota_cents),
        "attainment": fraction_or_none(figures.period.attainment),
        "ytd_revenue": cents_to_money(figures.ytd_revenue_cents),
        "ytd_credited_revenue": money_or_none(figures.ytd.revenue_cents),
        "ytd_quota": money_or_none(figures.ytd.quota_cents),
        "ytd_attainment": fraction_or_none(figures.ytd.attainment),
        "commission_expense": money_sum(t.summary["commission_expense"] for t in team_reports),
        "forecast": cents_to_money(sales_fc["blended_cents"] or 0),
        "forecast_low": cents_to_money(sales_fc["low_cents"] or 0),
        "forecast_high": cents_to_money(sales_fc["high_cents"] or 0),
        "credited_forecast": money_or_none(basis_fc["blended_cents"]),
        "annual_quota": money_or_none(basis_fc["quota_cents"]),
        "forecast_attainment": fraction_or_none(basis_fc["attainment"]),
        "on_watch": sum(int(t.summary.get("on_watch", 0)) for t in team_reports),
        "notes": (COMPANY_REVENUE_RULE, COMPANY_ATTAINMENT_RULE)
        + ((ROLLUP_TOTAL_RULE,) if figures.sub_cent else ())
        + (tuple(forecast_beyond_members_notes(ds, ctx, level="company", entity=COMPANY, members=members)) if chosen else ()),
    }
