"""The steps the account-manager, team and company reports share, each computed one way.

* how far into the period the figures are (:func:`to_date_figures`: days elapsed,
  the quota prorated to date, pace; :func:`as_of_notes`);
* a group's period and YTD figures (:func:`group_figures`: revenue each deal once,
  attainment by the team roll-up rule) and its sales forecast (:func:`group_forecast`);
* the chosen, reconciled annual forecast of an account manager, a team or the company
  (:func:`chosen_forecast`, :func:`members_chosen_forecasts`: one home for how a report
  reads :func:`reportkit.domain.backtest.forecast_hierarchy`);
* the performance history of some account managers (:func:`performance_history`);
* a group's forecast categories in the period, when the data declares them
  (:func:`forecast_categories_section`);
* how a report shows money and fractions that may be undefined (:func:`money_or_none`,
  :func:`fraction_or_none`).

The rules themselves live in :mod:`reportkit.domain`; these steps only apply
them to one report's members and context.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd

from ..config.params import BatchParams, Branding
from ..core.money import MICROS_PER_CENT, cents_to_money, rdiv
from ..core.periods import Period, data_reaches
from ..data.model import Dataset, load_change_notes
from ..domain.backtest import method_words
from ..domain.crediting import credited_in, revenue_micros_by, team_revenue
from ..domain.forecast import (
    FORECAST_TOTAL_KEYS,
    annual_quota_by_entity,
    forecast_methods,
    level_revenue,
    open_pipeline,
    pooled_forecast,
)
from ..domain.forecast_categories import forecast_category_table, has_forecast_categories, rollup_rule
from ..domain.forecast_inputs import team_of
from ..domain.performance import performance_input, performance_table
from ..domain.quota import PooledAttainment, attainment, pooled_attainment
from .context import ReportContext, engine_quotas

__all__ = [
    "report_branding",
    "next_year_forecast",
    "data_quality_notes",
    "money_or_none",
    "fraction_or_none",
    "elapsed_days",
    "prorate",
    "to_date_figures",
    "to_date_note",
    "as_of_notes",
    "no_deals_note",
    "GroupFigures",
    "group_figures",
    "group_forecast",
    "CHOSEN_TOTAL_KEYS",
    "chosen_forecast",
    "closed_year_words",
    "forecast_beyond_members_notes",
    "members_chosen_forecasts",
    "performance_history",
    "forecast_categories_section",
]


def money_or_none(cents: int | None) -> Decimal | None:
    """Cents as report money (``Decimal``, 0.01), or None when there is no amount (no quota, n/a).

    Examples
    --------
    >>> money_or_none(123456), money_or_none(None)
    (Decimal('1234.56'), None)
    """
    return None if cents is None or pd.isna(cents) else cents_to_money(int(cents))


def fraction_or_none(x: float | None) -> float | None:
    """An attainment-like fraction for a summary: a float, or None when undefined (NaN).

    Examples
    --------
    >>> fraction_or_none(0.5), fraction_or_none(float("nan"))
    (0.5, None)
    """
    return None if x is None or math.isnan(x) else float(x)


def elapsed_days(period: Period, cutoff: datetime.date) -> int:
    """Days of ``period`` from its first day up to and including ``cutoff`` (0 before it starts)."""
    return max(0, min((cutoff - period.start).days + 1, period.days))


def prorate(quota_cents: int | None, elapsed: int, days: int) -> int | None:
    """``quota * elapsed / days`` in whole cents, exact, rounded half away from zero (:func:`reportkit.core.money.rdiv`).

    Examples
    --------
    >>> prorate(100, 1, 8), prorate(None, 1, 8)
    (13, None)
    """
    if quota_cents is None or days <= 0:
        return None
    return rdiv(int(quota_cents) * elapsed, days)


def _period_label(period: Period, elapsed: int) -> str:
    """``FY2025-Q4`` or, while the period is not over, ``FY2025-Q4 to date (15 of 92 days)``."""
    if elapsed >= period.days:
        return period.label
    return f"{period.label} to date ({elapsed} of {period.days} days)"


def to_date_figures(period: Period, cutoff: datetime.date, revenue_cents: int, quota_cents: int | None) -> dict[str, Any]:
    """Summary keys saying how far into the period the figures are and whether it is on pace.

    Returns
    -------
    dict
        ``period_label`` (``FY2025-Q4 to date (15 of 92 days)`` while the period is
        not over), ``days_elapsed``, ``days_in_period``, ``quota_to_date`` (the
        quota prorated by days, :func:`prorate`; Decimal or None) and ``pace``
        (revenue / quota to date, a fraction; None when undefined).
    """
    elapsed = elapsed_days(period, cutoff)
    qtd = prorate(quota_cents, elapsed, period.days)
    return {
        "period_label": _period_label(period, elapsed),
        "days_elapsed": elapsed,
        "days_in_period": period.days,
        "quota_to_date": money_or_none(qtd),
        "pace": fraction_or_none(attainment(revenue_cents, qtd)),
    }


def to_date_note(period: Period, to_date: dict[str, Any], growth: str = "") -> list[str]:
    """The note of a period not over yet: attainment is against the full quota, pace against the prorated one.

    ``growth`` (the account manager's report) adds how growth vs last year is compared.
    """
    if to_date["days_elapsed"] >= period.days:
        return []
    return [
        f"{to_date['period_label']}: attainment is against the full {period.kind} quota; pace is revenue "
        f"against the quota prorated to date{growth}."
    ]


def no_deals_note(period: Period, cutoff: datetime.date, last_deal: datetime.date | None) -> str:
    """The note of a report whose period holds no deal up to ``cutoff``: the one wording for every report kind.

    When the period begins after the data's last deal (``ReportContext.last_deal``,
    :func:`reportkit.core.periods.data_reaches`), its zeros are the end of the export,
    not of the sales: the note says so and what to check.
    """
    said = f"No deals closed in {period.label}" + (f" up to {cutoff.isoformat()}" if cutoff < period.end else "")
    if last_deal is not None and not data_reaches(last_deal, period.start):
        return (
            f"{said}: the data's last deal closed on {last_deal.isoformat()}, before {period.label} began, so its "
            "figures are zero because the data ends there, not because nothing was sold; check that the export is current."
        )
    return f"{said}."


def as_of_notes(period: Period, as_of: datetime.date) -> list[str]:
    """The note of a report dated before its period ends."""
    if as_of < period.end:
        return [f"Figures as of {as_of.isoformat()}; {period.label} ends {period.end.isoformat()}."]
    return []


@dataclass(frozen=True)
class GroupFigures:
    """A group's (team's, company's) period and YTD figures: revenue each deal once and the pooled attainment.

    Attributes
    ----------
    in_period : DataFrame
        The members' credited deals of the period up to the cutoff.
    revenue_cents, ytd_revenue_cents : int
        Revenue of the period / year to date, each deal once
        (:func:`reportkit.domain.crediting.team_revenue`).
    period, ytd : PooledAttainment
        The team roll-up rule (:func:`reportkit.domain.quota.pooled_attainment`) over
        the members' exact credits (micros) and quotas.
    period_micros, ytd_micros : Series
        Exact credited revenue (micros) per member id.
    """

    in_period: pd.DataFrame
    revenue_cents: int
    ytd_revenue_cents: int
    period: PooledAttainment
    ytd: PooledAttainment
    period_micros: pd.Series
    ytd_micros: pd.Series

    @property
    def sub_cent(self) -> bool:
        """The members' YTD credits have sub-cent amounts: rounded rows may not add up to a total."""
        return bool((self.ytd_micros % MICROS_PER_CENT != 0).any())


def group_figures(ctx: ReportContext, credited: pd.DataFrame, members: list[str]) -> GroupFigures:
    """The period and YTD figures of a group of account managers, by the one roll-up rule.

    Parameters
    ----------
    ctx : ReportContext
    credited : DataFrame
        The members' credited deals (``ctx.credited`` restricted to ``members``).
    members : list of str
        Account manager ids.

    Returns
    -------
    GroupFigures
    """
    p, cutoff = ctx.period, ctx.cutoff
    in_period = credited_in(credited, p.start, cutoff)
    period_micros = revenue_micros_by(in_period, "account_manager_id")
    ytd_micros = revenue_micros_by(credited_in(credited, p.year.start, cutoff), "account_manager_id")
    return GroupFigures(
        in_period=in_period,
        revenue_cents=team_revenue(credited, members, p.start, cutoff),
        ytd_revenue_cents=team_revenue(credited, members, p.year.start, cutoff),
        period=pooled_attainment(
            None, [ctx.quota(a, p) for a in members], revenue_micros=[int(period_micros.get(a, 0)) for a in members]
        ),
        ytd=pooled_attainment(
            None, [ctx.ytd_quota(a) for a in members], revenue_micros=[int(ytd_micros.get(a, 0)) for a in members]
        ),
        period_micros=period_micros,
        ytd_micros=ytd_micros,
    )


def group_forecast(
    ds: Dataset,
    ctx: ReportContext,
    credited: pd.DataFrame,
    members: list[str],
    ytd_micros: pd.Series,
    *,
    overlap: bool,
    level: str,
    entity: str,
) -> dict[str, Any]:
    """A group's annual sales forecast (blended), each deal once.

    Without overlapping credits it is the members' forecasts totalled
    (:func:`reportkit.domain.forecast.pooled_forecast`: exact YTD credits plus forecast
    parts, rounded once); with them (a deal credits two members) the group's deals,
    each once, are forecast as one series at ``level`` (``"team"`` or ``"company"``,
    named ``entity``) with the members' open pipeline.

    Returns
    -------
    dict
        :data:`reportkit.domain.forecast.FORECAST_TOTAL_KEYS` -> cents (int, or None
        when the group has no member).
    """
    if not overlap:
        return pooled_forecast(ctx.forecasts(ds).loc[members], members, ytd_micros, None)
    p, cutoff = ctx.period, ctx.forecast_cutoff
    ams = ds.account_managers
    am = ams.loc[ams["account_manager_id"].isin(members).to_numpy()]
    history_start = None if ctx.first_deal is None else min(ctx.first_deal, cutoff)
    pipeline = ds.pipeline
    if pipeline is not None:
        pipeline = pipeline.loc[pipeline["account_manager_id"].astype("str").isin(members).to_numpy()]
    row = forecast_methods(
        level_revenue(credited, level, am),
        [entity],
        p.fiscal_year,
        cutoff,
        ds.calendar,
        history_start=history_start,
        pipeline=open_pipeline(pipeline, level, cutoff, p.year.end, am),
    ).iloc[0]
    return {k: int(row[k]) for k in FORECAST_TOTAL_KEYS}


#: The cents columns of :func:`members_chosen_forecasts` a roll-up totals
#: (:func:`reportkit.domain.forecast.pooled_forecast`): YTD, the chosen forecast and its
#: 80 % range, and the blended and run-rate forecasts shown beside it for comparison.
CHOSEN_TOTAL_KEYS = ("ytd_cents", "chosen_cents", "chosen_low_cents", "chosen_high_cents", "blended_cents", "run_rate_cents")


def chosen_forecast(ds: Dataset, ctx: ReportContext, *, level: str, entity: str, ytd_cents: int) -> dict[str, Any]:
    """One entity's chosen, reconciled annual forecast as a report shows it (cents and words).

    The row of :func:`reportkit.domain.backtest.forecast_hierarchy` for ``level``
    (``"account_manager"``, ``"team"`` or ``"company"``) and ``entity``, computed once per
    batch (:meth:`ReportContext.forecast_hierarchy`). The report's figure is the
    report's own YTD revenue (``ytd_cents``: an account manager's credits, a group's
    revenue each deal once) plus the hierarchy's reconciled remaining year, so with the
    same crediting it is the hierarchy's forecast to the cent; the range moves with it.

    Returns
    -------
    dict
        ``chosen_cents``, ``chosen_low_cents``, ``chosen_high_cents`` (int; the range None
        without a model), ``method`` (``reconciled``, or ``seasonal_naive`` where the level
        falls back), ``chosen_method`` (the level's choice, e.g. ``ets``), ``basis`` (the
        method in a few words, for a table) and ``words`` (the sentence a report prints:
        the method chosen, its backtest WAPE, the reconciliation, the range's stated level
        and its backtest coverage, or why there is too little history to choose by; once
        the year is over by the cutoff, :func:`closed_year_words`: its forecast is its
        revenue, no method, no range). ``{}`` while the fiscal year has not begun by the cutoff.
    """
    h = ctx.forecast_hierarchy(ds)
    if h is None:
        return {}
    r = h.loc[(level, str(entity))]
    year = ctx.period.year
    hist_ytd = int(r["ytd_revenue"] * 100)

    def part(col: str) -> int | None:
        return None if r[col] is None or pd.isna(r[col]) else ytd_cents + int(r[col] * 100) - hist_ytd

    fell_back = str(r["method"]) != "reconciled"
    basis = f"chosen: {method_words(str(r['chosen_method']))}" + (", not reconciled (fallback)" if fell_back else ", reconciled")
    return {
        "chosen_cents": part("forecast"),
        "chosen_low_cents": part("low"),
        "chosen_high_cents": part("high"),
        "method": str(r["method"]),
        "chosen_method": str(r["chosen_method"]),
        "basis": basis,
        "words": closed_year_words(year.label) if ctx.forecast_cutoff >= year.end else str(r["words"]),
    }


def closed_year_words(year_label: str) -> str:
    """What a report says under its forecast once the fiscal year is over by its cutoff.

    The year's forecast is then its revenue (nothing is left to forecast, so the
    hierarchy's method, backtest and range do not apply to it; the summary's
    *Forecast range* says *none: the year is over*), and next year's forecast follows
    with its own sentence (:func:`next_year_forecast`).

    >>> closed_year_words("FY2025")  # doctest: +NORMALIZE_WHITESPACE
    "FY2025 is over by the report date: its forecast is its revenue, so no method was chosen
    for it and it has no range. Next year's forecast and how it was chosen follow."
    """
    return (
        f"{year_label} is over by the report date: its forecast is its revenue, so no method was chosen for it and it "
        "has no range. Next year's forecast and how it was chosen follow."
    )


def forecast_beyond_members_notes(ds: Dataset, ctx: ReportContext, *, level: str, entity: str, members: list[str]) -> list[str]:
    """The note of a team or the company whose annual forecast holds account managers who are not its members.

    The forecast hierarchy (:func:`reportkit.domain.backtest.forecast_hierarchy`) forecasts
    every account manager of the data, and its roll-up rule makes a team the sum of all its
    account managers and the company the sum of everyone (docs/forecasting.md,
    "Reconciliation"). So an account manager who is not a member in the report's period
    (:func:`reportkit.reports.planning.active_account_managers`: left before it, or not yet
    started) stays in the hierarchy when they have deals this year, and the group's forecast
    (each deal once: :func:`chosen_forecast`, the report's own YTD plus the hierarchy's
    remaining year) includes their forecast of the rest of the year: their accounts' business
    stays with the group. The members' roll-up and the credited forecast (attainment basis)
    count the members only.

    Once the reported year is over, the same holds for next year's forecast
    (:meth:`ReportContext.next_year_hierarchy`, shown by :func:`next_year_forecast`): a
    leaver with history stays in it, and the note names the amount of next year it adds.

    Returns
    -------
    list of str
        One note naming them and the amount their rest of the year (or, once the year is over,
        their next year) adds, or none when it adds nothing (for one without history).
    """
    over = ctx.forecast_cutoff >= ctx.period.year.end
    h = ctx.next_year_hierarchy(ds) if over else ctx.forecast_hierarchy(ds)
    if h is None:
        return []
    am = ds.account_managers
    ids = am["account_manager_id"].astype("str")
    left = dict(zip(ids, am["end_date"]))
    names = dict(zip(ids, am["name"].astype("str")))
    scope = ids if level == "company" else ids.loc[(am["team"].astype("str") == str(entity)).to_numpy()]
    inside = set(members)
    rest = {}
    for a in scope:
        if a not in inside and ("account_manager", a) in h.index:
            r = h.loc[("account_manager", a)]
            if r["forecast"] is not None and r["forecast"] != r["ytd_revenue"]:
                rest[a] = r["forecast"] - r["ytd_revenue"]
    if not rest:
        return []

    def whom(a: str) -> str:
        when = "" if pd.isna(left[a]) else f", who left on {pd.Timestamp(left[a]).date().isoformat()}"
        return f"{names[a]} ({a}{when})"

    who = ", ".join(whom(a) for a in rest)
    total = sum(rest.values(), Decimal("0.00"))
    group = "company" if level == "company" else "team"
    what = (
        f"Next year's forecast (FY{ctx.period.fiscal_year + 1}) includes {total:,.2f} {ds.currency} forecast"
        if over
        else f"The annual forecast (each deal once) includes {total:,.2f} {ds.currency} forecast for the rest of "
        f"{ctx.period.year.label}"
    )
    return [
        f"{what} from the deals of {who}: not a member in {ctx.period.label}, but the {group}'s "
        f"forecast is the sum of all its account managers' (the forecast's roll-up rule), as their accounts' business "
        f"stays with the {group}. The members' forecasts and the credited forecast (attainment basis) leave it out."
    ]


def members_chosen_forecasts(ds: Dataset, ctx: ReportContext, members: list[str]) -> pd.DataFrame:
    """The members' forecast figures in cents, indexed by id, for a roll-up: :data:`CHOSEN_TOTAL_KEYS` and ``basis``.

    ``ytd_cents``, ``blended_cents`` and ``run_rate_cents`` are :meth:`ReportContext.forecasts`'
    (the blended forecast, kept for comparison); ``chosen_cents`` / ``chosen_low_cents`` /
    ``chosen_high_cents``, ``method``, ``basis`` and ``words`` are each member's
    :func:`chosen_forecast` (while the year has not begun: the blended forecast and range,
    method ``blended``, its own basis and no words).
    """
    fc = ctx.forecasts(ds).loc[members]
    rows = []
    for a in members:
        f = fc.loc[a]
        c = chosen_forecast(ds, ctx, level="account_manager", entity=a, ytd_cents=int(f["ytd_cents"]))
        if not c:
            c = {
                "chosen_cents": int(f["blended_cents"]),
                "chosen_low_cents": f["low_cents"],
                "chosen_high_cents": f["high_cents"],
            }
            c.update(basis=str(f["basis"]), method="blended", words="")
        rows.append(
            {
                "ytd_cents": int(f["ytd_cents"]),
                **{k: c[k] for k in CHOSEN_TOTAL_KEYS[1:4]},
                "blended_cents": int(f["blended_cents"]),
                "run_rate_cents": int(f["run_rate_cents"]),
                "method": c["method"],
                "basis": c["basis"],
                "words": c["words"],
            }
        )
    return pd.DataFrame(rows, index=pd.Index(members, dtype="str"))


def performance_history(ctx: ReportContext, params: BatchParams, ids: list[str]) -> pd.DataFrame:
    """Performance-watch verdicts of ``ids`` per quarter of ``ctx.history``.

    :func:`reportkit.domain.performance.performance_table` on their attainment per
    quarter; quarters not over by ``as_of`` or not covered by the data get no
    verdict (:func:`reportkit.domain.performance.performance_input`).
    """
    hist = ctx.attainment(ids, list(ctx.history))
    return performance_table(performance_input(hist, ctx.as_of, ctx.first_deal, ctx.last_deal), params.performance)


def forecast_categories_section(ds: Dataset, ctx: ReportContext, members: list[str]) -> tuple[pd.DataFrame | None, str]:
    """A group's forecast categories in the report's period and the roll-up rule in words; ``(None, "")`` when undeclared.

    :func:`reportkit.domain.forecast_categories.forecast_category_table` over
    ``members`` (one account manager, or a team: each opportunity and each won
    deal once), shown only when the data set's pipeline has forecast categories
    (the source mapping's ``pipeline.forecast_categories`` or a mapped
    ``forecast_category`` column).
    """
    if not has_forecast_categories(ds.pipeline):
        return None, ""
    p = ctx.period
    table = forecast_category_table(ctx.credited, ds.pipeline, members, p.start, p.end, ctx.as_of)
    return table, rollup_rule(p.label)


def report_branding(params: BatchParams) -> Branding:
    """The branding a report carries (params ``branding``), its company the one readers see (:attr:`BatchParams.company`).

    Without ``branding`` in the params: the default look (no logo, default colours)
    with the params ``name`` as the company.
    """
    b = params.branding or Branding()
    return b.model_copy(update={"company": params.company})


def next_year_forecast(
    ds: Dataset, ctx: ReportContext, params: BatchParams, *, level: str, entity: str, members: list[str]
) -> tuple[dict[str, Any], list[str]]:
    """Next fiscal year's chosen forecast against next year's quota, once the reported year is over; else nothing.

    At the end of a fiscal year its annual forecast is its actual revenue and tells
    nothing new, so a report whose cutoff is on or after the year's last day also
    shows the next year's: the row of ``level`` (``"account_manager"``, ``"team"`` or
    ``"company"``) and ``entity`` of :meth:`ReportContext.next_year_hierarchy` (the
    same method per level as this year's, chosen by the same backtest, reconciled,
    with its calibrated 80 % range: :func:`reportkit.domain.backtest.forecast_hierarchy`),
    against next year's annual quota from the source's quota table or the params quota
    rule (:func:`reportkit.reports.context.engine_quotas`; a group's is its members'
    sum). A group's attainment pools its members with a quota (the team roll-up rule):
    their next-year forecasts over their quotas. A company report that covers only some
    teams (a batch limited to some account managers reports on their teams) shows the sum
    of its members' forecasts, without a range, and a note says so.

    Returns
    -------
    (dict, list of str)
        Summary keys ``next_year`` (label), ``next_year_forecast``,
        ``next_year_forecast_low``, ``next_year_forecast_high`` (Decimal; the range
        None without a model), ``next_year_quota`` (Decimal, None when unknown),
        ``next_year_forecast_attainment`` (fraction or None) and ``next_year_rule``
        (the sentence: which year, the method and range); and the notes (that next
        year's quota is unknown when it is). ``({}, [])`` while the reported year is not over.
    """
    p = ctx.period
    h = ctx.next_year_hierarchy(ds) if ctx.forecast_cutoff >= p.year.end else None
    if h is None:
        return {}, []
    nxt = p.fiscal_year + 1
    label = f"FY{nxt}"
    if "next_year_quota" not in ctx.forecast_cache:
        quotas, _ = engine_quotas(ds, params, [nxt])
        ctx.forecast_cache["next_year_quota"] = annual_quota_by_entity(  # type: ignore[assignment]
            quotas, ds.account_managers, "account_manager", nxt, ds.calendar
        )
    quota_of = ctx.forecast_cache["next_year_quota"]
    row = h.loc[(level, str(entity))]
    forecast, low, high, words, notes = row["forecast"], row["low"], row["high"], str(row["words"]), []
    team = team_of(ds.account_managers)  # the hierarchy's company: every team of the data
    teams, reported = set(team), {team.get(str(m)) for m in members}
    if level == "company" and reported != teams:  # a batch limited to some teams: their account managers' sum
        forecast = sum((h.loc[("account_manager", str(m)), "forecast"] for m in members), Decimal(0))
        low = high = None
        notes.append(
            f"This report covers {len(reported & teams)} of the {len(teams)} teams the company's {label} forecast is made "
            f"for: its {label} forecast is the sum of their account managers' forecasts, without a range (a sum of "
            "members' ranges is not the range of the sum)."
        )
    with_quota = [str(m) for m in members if quota_of.get(str(m)) is not None]
    quota_cents = sum(int(quota_of[m]) for m in with_quota) if with_quota else None
    basis_cents = sum(int(h.loc[("account_manager", m), "forecast"] * 100) for m in with_quota)
    quota = cents_to_money(quota_cents) if quota_cents is not None else None
    summary = {
        "next_year": label,
        "next_year_forecast": forecast,
        "next_year_forecast_low": low,
        "next_year_forecast_high": high,
        "next_year_quota": quota,
        "next_year_forecast_attainment": fraction_or_none(attainment(basis_cents, quota_cents)),
        "next_year_rule": words,
    }
    if quota is None:
        notes.append(f"No quota for {label} in the data yet: next year's forecast attainment is n/a.")
    return summary, notes


def data_quality_notes(ds: Dataset, tables: list[str]) -> list[str]:
    """What loading dropped, merged or changed in the tables a report reads, as notes (none for a clean load).

    :func:`reportkit.data.model.load_change_notes` over ``tables`` (an account
    manager's report reads deals, accounts, pipeline, quotas and service issues;
    a team's deals, quotas and account managers).
    """
    return load_change_notes(ds, tables)
