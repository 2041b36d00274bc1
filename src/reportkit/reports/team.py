"""The team report: one sales manager's team, one period, as a list of sections.

:func:`build_team_report` reads as its sections: the members, the group figures
(:func:`reportkit.reports.sections.group_figures`), the leaderboard, the quarterly
table, the forecast roll-up, the performance watch and the commission expense,
then the notes and the summary. The team roll-up rule is stated once, in
:data:`TEAM_ATTAINMENT_RULE`; the total rule in :data:`ROLLUP_TOTAL_RULE`.
"""

from __future__ import annotations

import datetime
import math
from typing import Any

import numpy as np
import pandas as pd

from ..config.params import BatchParams
from ..core.errors import ParamsError, did_you_mean
from ..core.money import cents_to_money, money_sum
from ..core.periods import Period
from ..data.model import Dataset
from ..domain.commission import StatementTotals
from ..domain.crediting import credited_in, crediting_overlaps, revenue_cents_by, revenue_micros_by, team_revenue
from ..domain.forecast import pooled_forecast
from ..domain.performance import current_status
from ..domain.quota import attainment, pooled_attainment
from .context import ReportContext, report_context
from .objects import TeamReport
from .planning import active_account_managers, team_slugs
from .sections import (
    CHOSEN_TOTAL_KEYS,
    GroupFigures,
    as_of_notes,
    chosen_forecast,
    data_quality_notes,
    forecast_beyond_members_notes,
    forecast_categories_section,
    fraction_or_none,
    group_figures,
    group_forecast,
    members_chosen_forecasts,
    money_or_none,
    next_year_forecast,
    no_deals_note,
    performance_history,
    report_branding,
    to_date_figures,
    to_date_note,
)
from .statements import statement_totals

__all__ = ["ATTAINMENT_BANDS", "TEAM_ATTAINMENT_RULE", "ROLLUP_TOTAL_RULE", "build_team_report"]

# ---------------------------------------------------------------------------

#: Attainment bands of the team distribution: (label, low inclusive, high exclusive), then "n/a".
ATTAINMENT_BANDS: tuple[tuple[str, float, float], ...] = (
    ("below 50 %", -math.inf, 0.5),
    ("50-80 %", 0.5, 0.8),
    ("80-100 %", 0.8, 1.0),
    ("100-120 %", 1.0, 1.2),
    ("120 % and above", 1.2, math.inf),
)


TEAM_ATTAINMENT_RULE = (
    "Team attainment = the credited revenue of the members who have a quota, divided by the sum of their "
    "quotas; each member's revenue counts as in their own report, and members without a quota count in "
    "neither. So the team's attainment lies between its members' lowest and highest."
)
"""The team report's note stating its roll-up rule (one rule for the period, YTD, quarters and forecast)."""

ROLLUP_TOTAL_RULE = (
    "Totals are exact: a team or company total adds its members' exact amounts and rounds once, so adding "
    "the rounded member rows of a column can give a cent or so more or less than its total row."
)
"""The note of a team report (and the company workbook) whose source has sub-cent amounts."""


def _basis_note(overlap: bool, partial: bool) -> str:
    """The team note saying which figures are on the attainment basis and why it differs from revenue."""
    why = []
    if overlap:
        why.append("a deal credited to two members counts for both, as it does in their quotas")
    if partial:
        why.append("members without a quota count in neither side")
    return (
        "Every figure set against quota (attainment, pace, the quarterly chart's revenue bars, the forecast "
        "total row and forecast attainment) uses credited revenue (attainment basis): the members' own "
        f"credits{' (' + '; '.join(why) + ')' if why else ''}. Revenue (each deal once) and the annual forecast "
        "(each deal once) are the team's sales figures and are never divided by quota."
    )


def _distribution(att: pd.Series) -> pd.DataFrame:
    a = att.astype("float64").to_numpy()
    rows = [(label, int(((a >= lo) & (a < hi)).sum())) for label, lo, hi in ATTAINMENT_BANDS]
    rows.append(("n/a", int(np.isnan(a).sum())))
    return pd.DataFrame(
        {"band": pd.Series([r[0] for r in rows], dtype="str"), "count": pd.Series([r[1] for r in rows], dtype="int64")}
    )


def build_team_report(
    ds: Dataset,
    team: str,
    period: str,
    params: BatchParams,
    as_of: datetime.date,
) -> TeamReport:
    """Build one sales manager's team report for one period.

    Members are the team's account managers active in the period
    (:func:`reportkit.reports.planning.active_account_managers`).

    Team revenue counts each deal once (:func:`reportkit.domain.crediting.team_revenue`):
    without overlapping crediting it equals the sum of the members' revenue; with
    a territory overlay inside the team it is less, and a note says so.

    Team attainment follows one roll-up rule, :func:`reportkit.domain.quota.pooled_attainment`
    (stated in the notes as :data:`TEAM_ATTAINMENT_RULE`): the members who have a
    quota count, their credited revenue (``credited_revenue``) over their quotas
    (``quota``), numerator and denominator counted the same way, so it lies within
    the members' range. The same rule gives the YTD figures, each quarter of
    ``quarterly`` and the team total's forecast attainment (members' chosen
    forecasts over their annual quotas). Every figure set against quota uses
    this attainment basis (``credited_revenue``, ``ytd_credited_revenue``,
    ``quarterly.credited_revenue``, ``credited_forecast`` = the forecast
    roll-up's total row); ``revenue``, ``ytd_revenue`` and ``forecast`` count
    each deal once and are never divided by quota. When a pair differs
    (overlapping credits, or members without a quota)
    ``attainment_basis_differs`` is True and a note says so.

    Totals follow one rule: the exact total rounded once (the members'
    ``credit_micros`` summed; a forecast total adds the members' forecast parts
    to their exact YTD credits), so with no overlap ``credited_revenue`` equals
    ``revenue`` to the cent. Adding rounded member rows can differ by a cent;
    the notes say so when the source has sub-cent amounts
    (:data:`ROLLUP_TOTAL_RULE`).

    Returns
    -------
    TeamReport
        Frames per the column contract of :mod:`reportkit.reports.objects`. ``summary``
        keys: ``period_label``, ``days_elapsed``, ``days_in_period``,
        ``members``, ``revenue`` (each deal once), ``credited_revenue``,
        ``quota``, ``attainment``, ``quota_to_date``, ``pace`` (attainment
        revenue against the quota prorated to date),
        ``ytd_revenue``, ``ytd_credited_revenue``, ``ytd_quota``, ``ytd_attainment``,
        ``commission_expense`` (its ``total`` column summed),
        ``commission_expense_commission``, ``commission_expense_bonus`` (its
        ``commission`` / ``bonus`` columns summed), ``forecast`` (the team's chosen,
        reconciled sales forecast, each deal once: :func:`_team_forecast`),
        ``forecast_method``, ``forecast_low``, ``forecast_high`` (its 80 % interval),
        ``forecast_rule`` (the sentence), ``forecast_run_rate`` and
        ``forecast_blended`` (same basis, for comparison), ``credited_forecast``
        (the forecast roll-up's total row: attainment basis), ``annual_quota``,
        ``forecast_attainment``, ``on_watch``, ``deals_count``,
        ``crediting_overlaps``, ``attainment_basis_differs``. Contains only this
        team's members.

    Raises
    ------
    PeriodError
        ``period`` is not a period label.
    ParamsError
        ``team`` (a team name or its slug) is not in the data, or has no active
        member in the period.
    """
    ctx = report_context(ds, params, period, as_of)
    name, slug, members_df = _team_members(ds, ctx.period, str(team))
    members = members_df["account_manager_id"].astype("str").tolist()
    am_names = dict(zip(members, members_df["name"].astype("str")))
    credited = ctx.credited.loc[ctx.credited["account_manager_id"].isin(members).to_numpy()]
    overlap = crediting_overlaps(credited, members)

    figures = group_figures(ctx, credited, members)
    quotas = {a: ctx.quota(a, ctx.period) for a in members}
    stmts = {a: statement_totals(ds, params, ctx, a) for a in members}  # the members' statements' totals
    perf = performance_history(ctx, params, members)
    standing = {a: current_status(perf.loc[(perf["account_manager_id"] == a).to_numpy()], params.performance) for a in members}
    fc = members_chosen_forecasts(ds, ctx, members)
    leaderboard = _leaderboard(figures.in_period, fc, members, am_names, quotas, stmts, standing)
    quarterly = _quarterly(ctx, credited, members)
    annual_q = ctx.annual_quotas(members)
    basis_fc = _credited_forecast(fc, members, figures.ytd_micros, annual_q)
    partial = basis_fc["quota_cents"] is not None and any(not q for q in annual_q.values())
    team_fc = _team_forecast(ds, ctx, credited, members, figures, overlap=overlap, name=name)
    forecast = _forecast_table(fc, members, am_names, annual_q, basis_fc, team_fc, overlap=overlap, partial=partial)
    watch = [a for a in members if standing[a][0] in ("performance watch", "termination review")]
    to_date = to_date_figures(ctx.period, ctx.cutoff, figures.period.revenue_cents or 0, figures.period.quota_cents)
    basis_differs = _basis_differs(figures, quarterly, basis_fc, team_fc)
    next_year, next_notes = next_year_forecast(ds, ctx, params, level="team", entity=name, members=members)
    notes = [
        *ctx.quota_notes,
        *_notes(
            ctx,
            figures,
            overlap,
            partial or any(not quotas[a] for a in members),
            basis_differs,
            [am_names[a] for a in members if quotas[a] is None],
            to_date,
        ),
        *forecast_beyond_members_notes(ds, ctx, level="team", entity=name, members=members),
        *next_notes,
        *data_quality_notes(ds, ["deals", "quotas", "account_managers"]),
    ]
    categories, categories_rule = forecast_categories_section(ds, ctx, members)
    ctx.engine[("team_report", name)] = report = TeamReport(
        id=slug,
        name=name,
        sales_manager=str(members_df["sales_manager"].iloc[0]),
        period=ctx.period.label,
        period_start=ctx.period.start,
        period_end=ctx.period.end,
        as_of=as_of,
        currency=ds.currency,
        summary={
            **_summary(figures, to_date, stmts, team_fc, forecast, len(watch), overlap=overlap, basis_differs=basis_differs),
            **next_year,
        },
        leaderboard=leaderboard,
        attainment_distribution=_distribution(leaderboard["attainment"]),
        quarterly=quarterly,
        forecast=forecast,
        performance_watch=_performance_watch(watch, am_names, standing),
        commission_expense=_commission_expense(members, am_names, stmts),
        notes=tuple(notes),
        timezone=params.timezone,
        miss_below=params.performance.miss_below,
        paper=params.pdf.paper,
        orientation=params.pdf.orientation,
        table_rows=params.table_rows,
        branding=report_branding(params),
        forecast_categories=categories,
        forecast_categories_rule=categories_rule,
    )
    return report  # kept in the batch's context: the company report rolls up these very objects


def _team_members(ds: Dataset, period: Period, team: str) -> tuple[str, str, pd.DataFrame]:
    """The team's name, its id and its members active in ``period`` (rows of ``account_managers``, by id).

    ``team`` is a team name or its id (:func:`reportkit.reports.planning.team_slugs`).
    """
    all_teams = sorted(set(ds.account_managers["team"].astype("str")))
    slugs = team_slugs(all_teams)
    name = team
    if name not in all_teams:
        by_slug = {v: k for k, v in slugs.items()}
        if name not in by_slug:
            raise ParamsError(f"team {name!r} is not in the account managers table" + did_you_mean(name, all_teams))
        name = by_slug[name]
    active = active_account_managers(ds, period)
    members_df = active.loc[(active["team"] == name).to_numpy()].sort_values("account_manager_id", kind="stable")
    if members_df.empty:
        raise ParamsError(f"team {name!r} has no account manager active in {period.label}")
    return name, slugs[name], members_df


def _leaderboard(
    in_period: pd.DataFrame,
    fc: pd.DataFrame,
    members: list[str],
    am_names: dict[str, str],
    quotas: dict[str, int | None],
    stmts: dict[str, StatementTotals],
    standing: dict[str, tuple[str, int]],
) -> pd.DataFrame:
    """The members ranked by attainment (n/a last), then revenue, then id."""
    rev = revenue_cents_by(in_period, "account_manager_id").reindex(members, fill_value=0).astype("int64")
    att = pd.Series([attainment(int(rev[a]), quotas[a]) for a in members], index=members, dtype="float64")
    leaderboard = pd.DataFrame(
        {
            "account_manager_id": pd.Series(members, dtype="str"),
            "name": pd.Series([am_names[a] for a in members], dtype="str"),
            "revenue": pd.Series([cents_to_money(int(rev[a])) for a in members], dtype="object"),
            "quota": pd.Series([money_or_none(quotas[a]) for a in members], dtype="object"),
            "attainment": att.to_numpy(),
            "commission": pd.Series([stmts[a].total for a in members], dtype="object"),
            "forecast": pd.Series([money_or_none(fc.loc[a, "chosen_cents"]) for a in members], dtype="object"),
            "performance_status": pd.Series([standing[a][0] for a in members], dtype="str"),
        }
    )
    order = (
        pd.DataFrame({"att": att.fillna(-math.inf).to_numpy(), "rev": rev.to_numpy(), "id": members})
        .sort_values(["att", "rev", "id"], ascending=[False, False, True], kind="stable")
        .index
    )
    leaderboard = leaderboard.loc[order].reset_index(drop=True)
    leaderboard.insert(0, "rank", pd.Series(range(1, len(members) + 1), dtype="int64"))
    return leaderboard


def _quarterly(ctx: ReportContext, credited: pd.DataFrame, members: list[str]) -> pd.DataFrame:
    """This year's quarters up to the period: revenue each deal once, and the pooled attainment."""
    cutoff = ctx.cutoff
    q_att = ctx.attainment(members, list(ctx.year_quarters))
    q_rows = []
    for q in ctx.year_quarters:
        r = team_revenue(credited, members, q.start, min(q.end, cutoff))
        in_q = q_att.loc[(q_att["period"] == q.label).to_numpy()]
        q_micros = revenue_micros_by(credited_in(credited, q.start, min(q.end, cutoff)), "account_manager_id")
        qp = pooled_attainment(
            None,
            [None if pd.isna(x) else int(x) for x in in_q["quota_cents"]],
            revenue_micros=[int(q_micros.get(a, 0)) for a in in_q["account_manager_id"]],
        )
        q_rows.append((q.label, cents_to_money(r), money_or_none(qp.revenue_cents), money_or_none(qp.quota_cents), qp.attainment))
    return pd.DataFrame(
        {
            "period": pd.Series([r[0] for r in q_rows], dtype="str"),
            "revenue": pd.Series([r[1] for r in q_rows], dtype="object"),
            "credited_revenue": pd.Series([r[2] for r in q_rows], dtype="object"),
            "quota": pd.Series([r[3] for r in q_rows], dtype="object"),
            "attainment": pd.Series([r[4] for r in q_rows], dtype="float64"),
        }
    )


def _credited_forecast(
    fc: pd.DataFrame, members: list[str], ytd_micros: pd.Series, annual_q: dict[str, int | None]
) -> dict[str, Any]:
    """The forecast roll-up's total row: the attainment basis that forecast attainment divides.

    The members' forecasts (members with an annual quota) totalled by the one total
    rule (exact, rounded once); all members when none has an annual quota.
    """
    totals = {"keys": CHOSEN_TOTAL_KEYS, "basis": "chosen_cents"}
    basis_fc = pooled_forecast(fc, members, ytd_micros, [annual_q[a] for a in members], **totals)
    if basis_fc["quota_cents"] is None:  # no member has an annual quota: nothing is set against one
        basis_fc = pooled_forecast(fc, members, ytd_micros, None, **totals)
    return basis_fc


def _team_forecast(
    ds: Dataset,
    ctx: ReportContext,
    credited: pd.DataFrame,
    members: list[str],
    figures: GroupFigures,
    *,
    overlap: bool,
    name: str,
) -> dict[str, Any]:
    """The team's annual forecast, each deal once: the chosen, reconciled one, and blended and run rate beside it.

    :func:`reportkit.reports.sections.chosen_forecast` of the team (the row of
    :func:`reportkit.domain.backtest.forecast_hierarchy`; the sum of its members' when no
    deal credits two of them); ``blended_cents`` / ``run_rate_cents`` from
    :func:`reportkit.reports.sections.group_forecast`. Keys :data:`CHOSEN_TOTAL_KEYS`
    (cents), ``method``, ``words`` (the blended forecast and range while the year has
    not begun, no words).
    """
    g = group_forecast(ds, ctx, credited, members, figures.ytd_micros, overlap=overlap, level="team", entity=name)
    c = chosen_forecast(ds, ctx, level="team", entity=name, ytd_cents=figures.ytd_revenue_cents)
    if not c:
        c = {"chosen_cents": g["blended_cents"], "chosen_low_cents": g["low_cents"], "chosen_high_cents": g["high_cents"]}
        c.update(method="blended", words="")
    return {**g, **c}


def _forecast_table(
    fc: pd.DataFrame,
    members: list[str],
    am_names: dict[str, str],
    annual_q: dict[str, int | None],
    basis_fc: dict[str, Any],
    team_fc: dict[str, Any],
    *,
    overlap: bool,
    partial: bool,
) -> pd.DataFrame:
    """The forecast roll-up (chosen forecasts): one row per member, then the ``TOTAL`` row on the attainment basis.

    The total's range is the team's own 80 % interval when the total is the team's
    forecast (``team_fc``); otherwise n/a: the members' lows do not add up to the
    low of their sum.
    """
    if basis_fc["chosen_cents"] == team_fc["chosen_cents"]:
        basis_fc = {
            **basis_fc,
            "chosen_low_cents": team_fc["chosen_low_cents"],
            "chosen_high_cents": team_fc["chosen_high_cents"],
        }
    else:
        basis_fc = {**basis_fc, "chosen_low_cents": None, "chosen_high_cents": None}
    tot_name = "Team total" if not (overlap or partial) else "Team total (attainment basis)"
    tot_basis = (
        "sum of the members' forecasts (exact total, rounded once)"
        + (", members with an annual quota" if partial else "")
        + ("; a deal credited to two members counts for both" if overlap else "")
    )
    f_rows = [
        (a, am_names[a], str(fc.loc[a, "basis"]), *(fc.loc[a, k] for k in CHOSEN_TOTAL_KEYS), annual_q[a]) for a in members
    ] + [("TOTAL", tot_name, tot_basis, *(basis_fc[k] for k in CHOSEN_TOTAL_KEYS), basis_fc["quota_cents"])]
    money_col = lambda i: pd.Series([money_or_none(r[i]) for r in f_rows], dtype="object")  # noqa: E731
    return pd.DataFrame(
        {
            "account_manager_id": pd.Series([r[0] for r in f_rows], dtype="str"),
            "name": pd.Series([r[1] for r in f_rows], dtype="str"),
            "method": pd.Series([str(fc.loc[a, "method"]) for a in members] + ["sum"], dtype="str"),
            "basis": pd.Series([r[2] for r in f_rows], dtype="str"),
            "ytd_revenue": money_col(3),
            "forecast": money_col(4),
            "annual_quota": pd.Series([money_or_none(r[9]) for r in f_rows], dtype="object"),
            "forecast_attainment": pd.Series(
                [attainment(int(r[4]), r[9]) for r in f_rows[:-1]] + [basis_fc["attainment"]], dtype="float64"
            ),
            "low": money_col(5),
            "high": money_col(6),
            "blended": money_col(7),
            "run_rate": money_col(8),
        }
    )


def _performance_watch(watch: list[str], am_names: dict[str, str], standing: dict[str, tuple[str, int]]) -> pd.DataFrame:
    """The members on performance watch or termination review, with their run of misses."""
    return pd.DataFrame(
        {
            "account_manager_id": pd.Series(watch, dtype="str"),
            "name": pd.Series([am_names[a] for a in watch], dtype="str"),
            "consecutive_misses": pd.Series([standing[a][1] for a in watch], dtype="int64"),
            "status": pd.Series([standing[a][0] for a in watch], dtype="str"),
        }
    )


def _commission_expense(members: list[str], am_names: dict[str, str], stmts: dict[str, StatementTotals]) -> pd.DataFrame:
    """Each member's commission statement totals (the same statements their own reports show)."""
    return pd.DataFrame(
        {
            "account_manager_id": pd.Series(members, dtype="str"),
            "name": pd.Series([am_names[a] for a in members], dtype="str"),
            "commission": pd.Series([stmts[a].commission for a in members], dtype="object"),
            "bonus": pd.Series([stmts[a].bonus for a in members], dtype="object"),
            "total": pd.Series([stmts[a].total for a in members], dtype="object"),
        }
    )


def _basis_differs(figures: GroupFigures, quarterly: pd.DataFrame, basis_fc: dict[str, Any], team_fc: dict[str, Any]) -> bool:
    """Some figure set against quota (attainment basis) differs from its sales figure (each deal once)."""
    quarters = any(c is not None and c != r for r, c in zip(quarterly["revenue"], quarterly["credited_revenue"]))
    return quarters or any(
        basis is not None and basis != sales
        for basis, sales in (
            (figures.period.revenue_cents, figures.revenue_cents),
            (figures.ytd.revenue_cents, figures.ytd_revenue_cents),
            (basis_fc["chosen_cents"], team_fc["chosen_cents"]),
        )
    )


def _notes(
    ctx: ReportContext,
    figures: GroupFigures,
    overlap: bool,
    partial: bool,
    basis_differs: bool,
    no_quota: list[str],
    to_date: dict[str, Any],
) -> list[str]:
    """The team's roll-up rules, and what the reader must know to read the figures right."""
    p = ctx.period
    notes = [TEAM_ATTAINMENT_RULE]
    if basis_differs:
        notes.append(_basis_note(overlap, partial))
    if figures.sub_cent:
        notes.append(ROLLUP_TOTAL_RULE)
    if overlap:
        notes.append(
            "Territory crediting overlaps within this team: a deal can credit several members, so team revenue "
            "counts each deal once and is less than the sum of the members' revenue."
        )
    if no_quota:
        notes.append(f"No quota for {p.label}: {', '.join(no_quota)} (attainment n/a).")
    if figures.in_period.empty:
        notes.append(no_deals_note(p, ctx.cutoff, ctx.last_deal))
    return notes + as_of_notes(p, ctx.as_of) + to_date_note(p, to_date)


def _summary(
    figures: GroupFigures,
    to_date: dict[str, Any],
    stmts: dict[str, StatementTotals],
    team_fc: dict[str, Any],
    forecast: pd.DataFrame,
    on_watch: int,
    *,
    overlap: bool,
    basis_differs: bool,
) -> dict[str, Any]:
    """The summary keys of the report (see :func:`build_team_report`); ``stmts`` has one statement per member."""
    tot = forecast.iloc[-1]
    return {
        "period_label": to_date["period_label"],
        "days_elapsed": to_date["days_elapsed"],
        "days_in_period": to_date["days_in_period"],
        "members": len(stmts),
        "revenue": cents_to_money(figures.revenue_cents),
        "credited_revenue": money_or_none(figures.period.revenue_cents),
        "quota": money_or_none(figures.period.quota_cents),
        "attainment": fraction_or_none(figures.period.attainment),
        "quota_to_date": to_date["quota_to_date"],
        "pace": to_date["pace"],
        "ytd_revenue": cents_to_money(figures.ytd_revenue_cents),
        "ytd_credited_revenue": money_or_none(figures.ytd.revenue_cents),
        "ytd_quota": money_or_none(figures.ytd.quota_cents),
        "ytd_attainment": fraction_or_none(figures.ytd.attainment),
        "commission_expense": money_sum(s.total for s in stmts.values()),
        "commission_expense_commission": money_sum(s.commission for s in stmts.values()),
        "commission_expense_bonus": money_sum(s.bonus for s in stmts.values()),
        "forecast": cents_to_money(team_fc["chosen_cents"]),
        "forecast_method": team_fc["method"],
        "forecast_low": money_or_none(team_fc["chosen_low_cents"]),
        "forecast_high": money_or_none(team_fc["chosen_high_cents"]),
        "forecast_run_rate": cents_to_money(team_fc["run_rate_cents"]),
        "forecast_blended": cents_to_money(team_fc["blended_cents"]),
        **({"forecast_rule": team_fc["words"]} if team_fc["words"] else {}),
        "credited_forecast": tot["forecast"],
        "annual_quota": tot["annual_quota"],
        "forecast_attainment": fraction_or_none(float(tot["forecast_attainment"])),
        "on_watch": on_watch,
        "deals_count": int(figures.in_period["deal_id"].nunique()),
        "crediting_overlaps": overlap,
        "attainment_basis_differs": basis_differs,
    }
