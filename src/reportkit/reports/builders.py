"""Report data objects and the registry of report kinds.

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
                  forecast_attainment, low, high   (row 1: ``blended``, the
                  headline; row 2: ``run_rate``, range n/a)
    performance : period, attainment, missed, consecutive_misses, status, note
    deals       : deal_id, account_id, account_name, close_date, amount, stage, product
TeamReport
    leaderboard : rank, account_manager_id, name, revenue, quota, attainment,
                  commission, forecast, performance_status
    attainment_distribution : band, count
    quarterly   : period, revenue (each deal once), credited_revenue (the
                  members' own credits, attainment basis), quota, attainment
                  (team roll-up rule: reportkit.domain.quota.pooled_attainment)
    forecast    : account_manager_id, name, method, basis, ytd_revenue, forecast,
                  annual_quota, forecast_attainment, low, high, run_rate
                  (blended method; last row ``TOTAL``: the team total on the
                  attainment basis, the members' forecasts as an exact total
                  rounded once, its forecast attainment = its forecast / its
                  annual quota by the team roll-up rule)
    performance_watch : account_manager_id, name, consecutive_misses, status
    commission_expense : account_manager_id, name, commission, bonus, total
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import math
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..domain.accounts import AccountStatusRules, account_status
from ..domain.commission import CommissionStatement, flat_result, flat_statement, plan_result, plan_statement
from ..domain.crediting import (
    check_crediting, credited_deals, credited_in, crediting_overlaps, revenue_cents, revenue_cents_by,
    revenue_micros_by, team_revenue,
)
from ..core.errors import ParamsError, did_you_mean
from ..domain.forecast import COMPANY, annual_forecasts, forecast_methods, level_revenue, open_pipeline
from ..domain.forecast import FORECAST_TOTAL_KEYS as _FORECAST_KEYS
from ..domain.forecast import pooled_forecast as _forecast_rollup
from ..data.model import Dataset
from ..core.money import MICROS_PER_CENT, cents_to_money, money_sum, rdiv
from ..config.params import BatchParams
from ..config.plans import load_plan_source
from ..domain.performance import current_status, performance_input, performance_table
from ..core.periods import Period, data_covers, data_start
from ..domain.quota import attainment, attainment_table, pooled_attainment, quotas_from_rule, split_quotas

__all__ = [
    "AccountManagerReport",
    "TeamReport",
    "ReportKind",
    "REPORT_KINDS",
    "ReportSpec",
    "ATTAINMENT_BANDS",
    "TEAM_ATTAINMENT_RULE",
    "ROLLUP_TOTAL_RULE",
    "COMPANY_REVENUE_RULE",
    "COMPANY_ATTAINMENT_RULE",
    "build_company_rollup",
    "team_slug",
    "active_account_managers",
    "effective_quotas",
    "plan_reports",
    "build_account_manager_report",
    "build_team_report",
    "commission_for",
    "shared_contexts",
]


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
    kind: Literal["team"] = "team"


@dataclass(frozen=True)
class ReportKind:
    """One registered kind of report: its template, builder and how its outputs are named.

    Attributes
    ----------
    name : str
        The kind, as in params ``reports`` and ``manifest.json`` (``"team"``).
    template : str
        File name under ``templates/``.
    title : str
        Document title of its workbook (``"Team report"``).
    folder : str
        Output subfolder of a batch (``"teams"``).
    id_parameter : str
        The template parameter naming the report (``"team"``).
    label : str
        One report of this kind in words, for the index and the CLI (``"team"``).
    id_from_name : bool
        The id is derived from the name (a team's slug): the name alone names the report.
    builder : str
        Name of this module's function ``(ds, report_id, period, params, as_of) -> report``.
    """

    name: str
    template: str
    title: str
    folder: str
    id_parameter: str
    label: str
    id_from_name: bool
    builder: str

    def build(self, ds: Dataset, report_id: str, period: str, params: BatchParams, as_of: datetime.date) -> Any:
        """Build one report object of this kind (see :attr:`builder`)."""
        return globals()[self.builder](ds, report_id, period, params, as_of)


REPORT_KINDS: dict[str, ReportKind] = {
    k.name: k
    for k in (
        ReportKind("account_manager", "account_manager.ipynb", "Account manager report", "account_managers",
                   "account_manager_id", "account manager", False, "build_account_manager_report"),
        ReportKind("team", "team.ipynb", "Team report", "teams", "team", "team", True, "build_team_report"),
    )
}
"""The registry of report kinds, in planning order: batch, CLI, params, index and templates read it.

Its names are :data:`reportkit.config.params.REPORT_KIND_NAMES` (params sits below this
module and cannot import it; a test keeps the two equal)."""


# ---------------------------------------------------------------------------
# Planning: which reports a batch makes
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportSpec:
    """One report to build.

    Attributes
    ----------
    kind : {"account_manager", "team"}
    id : str
        Stable id: the account manager id, or :func:`team_slug` of the team.
    name : str
        Account manager name, or team name.
    team : str
        The team (for an account manager: their team).
    """

    kind: Literal["account_manager", "team"]
    id: str
    name: str
    team: str


def team_slug(team: str) -> str:
    """Stable, file-name-safe id of a team: ``"West Coast (A&B)" -> "west-coast-a-b"``.

    Lower-case ASCII letters and digits joined by single hyphens. A name with no
    such characters (e.g. only non-Latin letters) gets ``team-`` plus the first 8
    hex digits of its SHA-1, which is stable across runs.
    """
    slug = re.sub(r"[^a-z0-9]+", "-", str(team).lower()).strip("-")
    if not slug:
        slug = "team-" + hashlib.sha1(str(team).encode("utf-8")).hexdigest()[:8]
    return slug


def _unique_slugs(teams: list[str]) -> dict[str, str]:
    """:func:`team_slug` per team; teams whose slugs collide get a hash suffix (stable)."""
    slugs = {t: team_slug(t) for t in teams}
    counts: dict[str, int] = {}
    for v in slugs.values():
        counts[v] = counts.get(v, 0) + 1
    return {
        t: (v if counts[v] == 1 else f"{v}-{hashlib.sha1(t.encode('utf-8')).hexdigest()[:6]}") for t, v in slugs.items()
    }


def active_account_managers(ds: Dataset, period: Period) -> pd.DataFrame:
    """Account managers active at some point of ``period``.

    Active means ``hire_date`` is empty or on/before the period's last day, and
    ``end_date`` is empty or on/after its first day (a leaver is active while the
    date <= ``end_date``). Returns the matching ``account_managers`` rows.
    """
    am = ds.account_managers
    start, end = np.datetime64(period.start, "ns"), np.datetime64(period.end, "ns")
    hired = am["hire_date"].isna() | (am["hire_date"] <= end)
    staying = am["end_date"].isna() | (am["end_date"] >= start)
    return am.loc[(hired & staying).to_numpy()].reset_index(drop=True)


def plan_reports(ds: Dataset, params: BatchParams) -> list[ReportSpec]:
    """The reports a batch builds for ``params.period``.

    * one ``account_manager`` report per account manager active in the period
      (see :func:`active_account_managers`), restricted to
      ``params.account_managers`` when given;
    * one ``team`` report per team with at least one such account manager.

    Only the kinds in ``params.reports`` are planned. Order: account managers by
    team, name, id; then teams by name.

    Raises
    ------
    PeriodError
        ``params.period`` is not a period label.
    ParamsError
        ``params.account_managers`` names an id that is not in the data.
    """
    period = Period.parse(params.period, ds.calendar)
    active = active_account_managers(ds, period)
    if params.account_managers is not None:
        known = set(ds.account_managers["account_manager_id"].astype("str"))
        unknown = [a for a in params.account_managers if a not in known]
        if unknown:
            raise ParamsError(
                f"account_managers: {', '.join(repr(u) for u in unknown)} not in the account managers table"
                + did_you_mean(unknown[0], sorted(known))
            )
        active = active.loc[active["account_manager_id"].isin(list(params.account_managers)).to_numpy()]
    active = active.sort_values(["team", "name", "account_manager_id"], kind="stable")
    specs: list[ReportSpec] = []
    if "account_manager" in params.reports:
        specs += [
            ReportSpec("account_manager", str(r.account_manager_id), str(r.name), str(r.team))
            for r in active.itertuples(index=False)
        ]
    if "team" in params.reports:
        teams = sorted(set(active["team"].astype("str")))
        slugs = _unique_slugs(sorted(set(ds.account_managers["team"].astype("str"))))
        specs += [ReportSpec("team", slugs[t], t, t) for t in teams]
    return specs


# ---------------------------------------------------------------------------
# Shared computation (one per dataset / params / period / as_of)
# ---------------------------------------------------------------------------


def effective_quotas(ds: Dataset, params: BatchParams, fiscal_years: list[int]) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The quota table a report uses, and notes about where it came from.

    The source's ``quotas`` table wins when it has rows; ``params.quota_rule``
    is used when the source has no quota rows (Maven, Superstore). Returns the
    table and the notes to show.
    """
    rule = params.quota_rule
    has_table = ds.quotas is not None and len(ds.quotas) > 0
    if rule is not None and not has_table:
        what = f"{rule.amount} per {rule.per}" if rule.kind == "fixed" else (
            f"same quarter last year x (1 + {rule.growth}), else {rule.amount} per {rule.per}"
        )
        quotas = quotas_from_rule(ds, rule, fiscal_years)
        notes = [f"Quotas set by the params quota rule ({rule.kind}: {what})."]
        # A rule only sets quotas where the data can be measured against them: quarters
        # that end before the first deal of the source get no quota (attainment n/a),
        # otherwise an empty history would count as a run of missed quarters.
        if len(ds.deals) and len(quotas):
            first_deal = pd.Timestamp(ds.deals["close_date"].min())
            first_quarter = ds.calendar.period_of(first_deal.date(), "quarter")
            keep = quotas["period_end"] >= pd.Timestamp(first_quarter.start)
            if not keep.all():
                quotas = quotas.loc[keep].reset_index(drop=True)
                notes.append(f"No quota before {first_quarter.label}, where the source's deals begin.")
        return quotas, tuple(notes)
    if rule is not None:
        return ds.quotas, ("The source has a quota table; the params quota rule is not used.",)
    return ds.quotas, ()


@dataclass(frozen=True)
class _Context:
    period: Period
    as_of: datetime.date
    cutoff: datetime.date
    credited: pd.DataFrame
    quotas: pd.DataFrame
    quota_notes: tuple[str, ...]
    history: tuple[Period, ...]
    year_quarters: tuple[Period, ...]
    splits: dict[str, pd.DataFrame] = field(default_factory=dict)
    first_deal: datetime.date | None = None  # first close date of the whole data set (any stage)
    forecast_cache: dict[str, pd.DataFrame] = field(default_factory=dict)

    def forecasts(self, ds: Dataset) -> pd.DataFrame:
        """Blended annual forecast of every account manager, indexed by id (computed once per batch).

        Exactly :func:`reportkit.analysis.api.forecast_table` (``level="account_manager"``):
        :func:`reportkit.domain.forecast.annual_forecasts` on the report's credited deals
        and effective quotas, as of ``cutoff``.
        """
        if "account_manager" not in self.forecast_cache:
            f = annual_forecasts(
                ds, self.period.fiscal_year, self.cutoff, level="account_manager", method="blended",
                credited=self.credited, quotas=self.quotas,
            )
            self.forecast_cache["account_manager"] = f.set_index(f["entity"].astype("str"), drop=False)
        return self.forecast_cache["account_manager"]
    engine: dict[str, Any] = field(default_factory=dict)  # params.plan: the engine result (computed once per batch)

    def split(self, kind: str) -> pd.DataFrame:
        """Quotas split by fiscal period of ``kind`` (computed once per batch)."""
        if kind not in self.splits:
            self.splits[kind] = split_quotas(self.quotas, self.period.calendar, kind)  # type: ignore[arg-type]
        return self.splits[kind]

    def quota(self, account_manager_id: str, period: Period) -> int | None:
        """Same as :func:`reportkit.domain.quota.quota_for`, from the precomputed split."""
        s = self.split(period.kind)
        hit = s.loc[((s["account_manager_id"] == account_manager_id) & (s["period"] == period.label)).to_numpy(), "quota_cents"]
        return int(hit.sum()) if len(hit) else None


# Contexts shared inside ``shared_contexts()`` blocks (None outside every block: nothing is kept).
_shared: list[tuple[Dataset, str, datetime.date, str, _Context]] | None = None
_shared_depth = 0
_shared_lock = threading.Lock()


@contextlib.contextmanager
def shared_contexts() -> Iterator[None]:
    """Let the reports built inside this block share what they compute from one dataset.

    A batch builds dozens of reports of one dataset, period and ``as_of``: inside
    the block the credited deals, effective quotas, quota splits, forecasts and
    plan-engine results are computed once per (dataset, period, ``as_of``,
    params) and reused, instead of once per report. The block's owner promises
    that the datasets it builds from do not change meanwhile: ``run_batch`` and
    ``reportkit statement`` load their own dataset and never change it.

    Outside every block nothing is kept: each call of a builder or of the
    :mod:`reportkit.analysis.api` functions computes from the dataset as it is now, so an
    analyst who edits ``ds.deals`` in place sees the edit in the next call. (A
    cache keyed on the dataset's identity returned the old figures; one keyed on
    its content would hash every deal on every call.) Blocks may nest and may be
    used from several threads; the shared contexts are dropped when the
    outermost block ends.
    """
    global _shared, _shared_depth
    with _shared_lock:
        _shared_depth += 1
        if _shared is None:
            _shared = []
    try:
        yield
    finally:
        with _shared_lock:
            _shared_depth -= 1
            if _shared_depth == 0:
                _shared = None


def _context(ds: Dataset, params: BatchParams, period_label: str, as_of: datetime.date) -> _Context:
    """Compute what every report of one dataset, period and ``as_of`` shares: credits, quotas, quarters.

    Reused only inside a :func:`shared_contexts` block (a batch crediting 2M deals
    does it once, not once per report); otherwise computed afresh on every call.
    """
    key = params.model_dump_json(exclude={"base_dir"})
    shared = _shared
    for d, p, a, k, ctx in shared or ():
        if d is ds and p == period_label and a == as_of and k == key:
            return ctx
    period = Period.parse(period_label, ds.calendar)
    cutoff = min(as_of, period.end)
    years = list(range(period.fiscal_year - 2, period.fiscal_year + 1))
    quotas, notes = effective_quotas(ds, params, years)
    this_q = ds.calendar.period_of(period.end, "quarter")
    first = ds.calendar.period_of(period.year.same_period_last_year().start, "quarter")
    if len(quotas):
        earliest = ds.calendar.period_of(pd.Timestamp(quotas["period_start"].min()).date(), "quarter")
        if (earliest.fiscal_year, earliest.number) < (first.fiscal_year, first.number):
            first = earliest
    history = [first]
    while history[-1] != this_q and len(history) < 200:
        history.append(history[-1].shift(1))
    ctx = _Context(
        period=period,
        as_of=as_of,
        cutoff=cutoff,
        credited=credited_deals(ds),
        quotas=quotas,
        quota_notes=notes,
        history=tuple(history),
        year_quarters=tuple(period.quarters_to_date()),
        first_deal=data_start(ds.deals["close_date"]),
    )
    if shared is not None:
        shared.append((ds, period_label, as_of, key, ctx))
    return ctx


def _money(cents: int | None) -> Decimal | None:
    return None if cents is None or pd.isna(cents) else cents_to_money(int(cents))


def _scalar_att(x: float) -> float | None:
    return None if x is None or math.isnan(x) else float(x)


def _sum_opt(values: list[int | None]) -> int | None:
    vals = [int(v) for v in values if v is not None and not pd.isna(v)]
    return sum(vals) if vals else None


def _ytd_periods(period: Period) -> list[Period]:
    """Periods that together cover the fiscal year from its start to the end of ``period``."""
    if period.kind == "year":
        return [period]
    q = period.calendar.period_of(period.end, "quarter")
    before = [Period(period.calendar, "quarter", period.fiscal_year, n) for n in range(1, q.number)]
    if period.kind == "quarter":
        return before + [period]
    first_month = (q.number - 1) * 3 + 1
    return before + [Period(period.calendar, "month", period.fiscal_year, m) for m in range(first_month, period.number + 1)]


def _am_row(ds: Dataset, account_manager_id: str) -> pd.Series:
    am = ds.account_managers
    hit = am.loc[(am["account_manager_id"] == str(account_manager_id)).to_numpy()]
    if hit.empty:
        known = am["account_manager_id"].astype("str").tolist()
        raise ParamsError(
            f"account manager {str(account_manager_id)!r} is not in the account managers table" + did_you_mean(str(account_manager_id), known)
        )
    return hit.iloc[0]


def _opt_str(v: Any) -> str | None:
    return None if v is None or pd.isna(v) else str(v)


def _date(v: Any) -> datetime.date | None:
    return None if v is None or pd.isna(v) else pd.Timestamp(v).date()


def _commission(ds: Dataset, params: BatchParams, ctx: "_Context", account_manager_id: str) -> CommissionStatement:
    """The commission statement a report shows, from the engine (computed once per batch).

    ``params.plan``: the plan files; otherwise the flat ``commission:`` policy
    compiled into an engine plan, on the report's credited deals and quotas. Each
    account manager's statement is made once per batch: their own report and their
    team's report show the same (immutable) statement.
    """
    key = ("statement", account_manager_id)
    if key not in ctx.engine:
        ctx.engine[key] = _make_statement(ds, params, ctx, account_manager_id)
    return ctx.engine[key]


def _make_statement(ds: Dataset, params: BatchParams, ctx: "_Context", account_manager_id: str) -> CommissionStatement:
    if params.plan is None:
        if "flat" not in ctx.engine:
            s = ctx.split(ctx.period.kind)
            quotas = s.loc[(s["period"] == ctx.period.label).to_numpy(), ["account_manager_id", "quota_cents"]]
            ctx.engine["flat"] = flat_result(ctx.credited, ds.account_managers, params.commission, ctx.period, quotas,
                                             until=ctx.cutoff, currency=ds.currency)
        return flat_statement(ctx.engine["flat"], account_manager_id, ctx.period, params.commission, ctx.credited)
    if "result" not in ctx.engine:
        plans, who = load_checked_plans(ds, params)
        ctx.engine["result"] = plan_result(ds, plans, who, ctx.period, ctx.cutoff, ctx.quotas,
                                           source_mapping=params.resolve(params.source))
    return plan_statement(ctx.engine["result"], account_manager_id, ctx.period)


def load_checked_plans(ds: Dataset, params: BatchParams) -> tuple[Any, Any]:
    """The plans and assignments ``params.plan`` names, checked against the data set.

    The batch calls this before any kernel starts, so a plan whose crediting
    disagrees with the data set's (:func:`reportkit.domain.crediting.check_crediting`) is
    refused once, as bad input (exit 2), instead of failing every report.

    Returns
    -------
    (plans, assignments)
        As :func:`reportkit.config.plans.load_plan_source` returns them; ``(None, None)``
        when the params name no plan (the flat ``commission:`` policy).

    Raises
    ------
    PlanError
        A plan file or assignment file is invalid, or a plan's crediting setting
        disagrees with the source mapping's (the message names both files and keys).
    """
    if params.plan is None:
        return None, None
    ref = params.plan
    plans, who = load_plan_source(params.resolve(ref.path),
                                  None if ref.assignments is None else params.resolve(ref.assignments))
    check_crediting(list(plans.values()) if isinstance(plans, dict) else [plans], ds,
                    source_mapping=params.resolve(params.source))
    return plans, who


def commission_for(ds: Dataset, params: BatchParams, account_manager_id: str, period: str,
                   as_of: datetime.date) -> CommissionStatement:
    """One account manager's commission statement exactly as their report shows it (``reportkit statement``)."""
    am_id = str(account_manager_id)
    _am_row(ds, am_id)
    ctx = _context(ds, params, period, as_of)
    return _commission(ds, params, ctx, am_id)


def _elapsed_days(period: Period, cutoff: datetime.date) -> int:
    """Days of ``period`` from its first day up to and including ``cutoff`` (0 before it starts)."""
    return max(0, min((cutoff - period.start).days + 1, period.days))


def _prorate(quota_cents: int | None, elapsed: int, days: int) -> int | None:
    """``quota * elapsed / days`` in whole cents, exact, rounded half away from zero (:func:`reportkit.core.money.rdiv`)."""
    if quota_cents is None or days <= 0:
        return None
    return rdiv(int(quota_cents) * elapsed, days)


def _period_label(period: Period, elapsed: int) -> str:
    """``FY2025-Q4`` or, while the period is not over, ``FY2025-Q4 to date (15 of 92 days)``."""
    if elapsed >= period.days:
        return period.label
    return f"{period.label} to date ({elapsed} of {period.days} days)"


def _to_date_figures(period: Period, cutoff: datetime.date, revenue_cents: int, quota_cents: int | None) -> dict[str, Any]:
    """Summary keys saying how far into the period the figures are and whether it is on pace."""
    elapsed = _elapsed_days(period, cutoff)
    qtd = _prorate(quota_cents, elapsed, period.days)
    return {
        "period_label": _period_label(period, elapsed),
        "days_elapsed": elapsed,
        "days_in_period": period.days,
        "quota_to_date": _money(qtd),
        "pace": _scalar_att(attainment(revenue_cents, qtd)),
    }


def _forecast_rows(f: pd.Series) -> pd.DataFrame:
    """The AM report's forecast table from one row of :func:`reportkit.domain.forecast.annual_forecasts`.

    Row 1 is the blended method (the headline, with its range); row 2 the
    run-rate method for comparison (its own range is not defined: n/a).
    """
    q = None if pd.isna(f["annual_quota_cents"]) else int(f["annual_quota_cents"])
    ytd = int(f["ytd_cents"])
    rows = []
    for method, basis, cents, low, high in (
        ("blended", str(f["basis"]), int(f["blended_cents"]), _money(f["low_cents"]), _money(f["high_cents"])),
        ("run_rate", "run rate (YTD daily pace)", int(f["run_rate_cents"]), None, None),
    ):
        rows.append((method, basis, cents_to_money(ytd), cents_to_money(cents - ytd), cents_to_money(cents),
                     _money(q), attainment(cents, q), low, high))
    cols = ["method", "basis", "ytd_revenue", "remaining_forecast", "forecast", "annual_quota", "forecast_attainment", "low", "high"]
    out = pd.DataFrame({c: pd.Series([r[i] for r in rows], dtype="object") for i, c in enumerate(cols)})
    out["method"] = out["method"].astype("str")
    out["basis"] = out["basis"].astype("str")
    out["forecast_attainment"] = out["forecast_attainment"].astype("float64")
    return out


def _annual_quota(ctx: "_Context", ids: list[str], period: Period) -> dict[str, int | None]:
    qs = ctx.split("year")
    qs = qs.loc[(qs["period"] == period.year.label).to_numpy()].set_index("account_manager_id")["quota_cents"]
    return {a: (int(qs[a]) if a in qs.index else None) for a in ids}


#: The money columns of a forecast roll-up row (cents), in the order of the team's forecast frame.
# ---------------------------------------------------------------------------
# Account manager report
# ---------------------------------------------------------------------------


def build_account_manager_report(
    ds: Dataset,
    account_manager_id: str,
    period: str,
    params: BatchParams,
    as_of: datetime.date,
) -> AccountManagerReport:
    """Build one account manager's report for one period.

    Parameters
    ----------
    ds : Dataset
    account_manager_id : str
    period : str
        Period label (``FY2025-Q4``; a month or year label also works).
    params : BatchParams
        Commission, quota rule and performance policies.
    as_of : date
        Report date. Figures count deals closed up to ``min(as_of, period end)``;
        account status days are counted to ``as_of``.

    Notes
    -----
    A period not over by ``as_of`` (e.g. as of 2025-10-15 in FY2025-Q4) is
    reported *to date* and compared like for like:

    * ``attainment`` stays revenue / the **full** period quota (the standard
      definition); ``quota_to_date`` is that quota prorated by days,
      ``quota * days_elapsed / days_in_period`` rounded to the cent half away
      from zero, and ``pace`` = revenue / ``quota_to_date`` (1.0 == on pace);
    * ``revenue_last_year`` of a quarter not over covers the same span of last
      year's quarter: its first day to the same calendar date one year before
      the cutoff (29 February -> 28 February); ``growth_vs_last_year`` compares
      the two spans;
    * ``revenue_last_year`` is None (shown n/a, not 0.00) when the data set
      does not cover last year's span: its first deal (any stage, any account
      manager) closed after the span's first day
      (:func:`reportkit.core.periods.data_covers`, the rule account status uses too);
      unknown revenue is different from a genuine zero;
    * the summary's ``period_label`` and a note say ``FY2025-Q4 to date (15 of 92 days)``.

    The forecast is :func:`reportkit.domain.forecast.annual_forecasts` with the
    ``blended`` method (the same figures as :func:`reportkit.analysis.api.forecast_table`);
    the run-rate forecast is kept as a second row of ``forecast``.

    Returns
    -------
    AccountManagerReport
        Frames per the column contract at the top of this module; ``summary``
        keys: ``period_label``, ``days_elapsed``, ``days_in_period``,
        ``revenue``, ``quota``, ``attainment``, ``quota_to_date``, ``pace``,
        ``ytd_revenue``, ``ytd_quota``, ``ytd_attainment``, ``commission_total``
        (all awards), ``commission``, ``bonus``, ``commission_cash`` (payable
        now), ``commission_deferred``, ``forecast`` (blended),
        ``forecast_method``, ``forecast_basis``, ``forecast_low``,
        ``forecast_high``, ``forecast_run_rate``, ``annual_quota``,
        ``forecast_attainment``, ``performance_status``, ``consecutive_misses``,
        ``deals_count``, ``accounts_count``. Money is ``Decimal`` (None when there
        is no quota), attainment a float fraction or None when undefined.
        Contains only this account manager's data.

    Raises
    ------
    PeriodError
        ``period`` is not a period label.
    ParamsError
        ``account_manager_id`` is not in the data.
    """
    am_id = str(account_manager_id)
    row = _am_row(ds, am_id)
    ctx = _context(ds, params, period, as_of)
    p, cutoff = ctx.period, ctx.cutoff
    credited = ctx.credited
    mine_all = credited.loc[(credited["account_manager_id"] == am_id).to_numpy()]
    notes: list[str] = list(ctx.quota_notes)

    # quarterly table: this year's quarters up to the period, with last year's same quarter
    quarters = list(ctx.year_quarters)
    ly_quarters = [q.same_period_last_year() for q in quarters]
    att = attainment_table(mine_all, ctx.quotas, [am_id], quarters, until=cutoff, quarter_quotas=ctx.split("quarter"))
    # like for like: a quarter not over by the cutoff is compared with the same days of last year's quarter
    q_elapsed = [_elapsed_days(q, cutoff) for q in quarters]
    rev_ly: list[int | None] = []
    for q, lyq in zip(quarters, ly_quarters):
        _, ly_end = q.last_year_span(cutoff)
        if not data_covers(ctx.first_deal, lyq.start) or ly_end < lyq.start:
            rev_ly.append(None)  # the data does not reach back to it: n/a, not a genuine zero
        else:
            rev_ly.append(revenue_cents(credited_in(mine_all, lyq.start, ly_end)))
    growth = [
        (r - b) / abs(b) if b is not None and b > 0 else math.nan for r, b in zip(att["revenue_cents"].to_numpy(), rev_ly)
    ]
    quarterly = pd.DataFrame(
        {
            "period": att["period"].astype("str"),
            "period_start": att["period_start"],
            "period_end": att["period_end"],
            "revenue": pd.Series([_money(v) for v in att["revenue_cents"]], dtype="object"),
            "quota": pd.Series([_money(v) for v in att["quota_cents"]], dtype="object"),
            "attainment": att["attainment"].astype("float64"),
            "revenue_last_year": pd.Series([_money(v) for v in rev_ly], dtype="object"),
            "growth_vs_last_year": pd.Series(growth, dtype="float64"),
            "days_elapsed": pd.Series(q_elapsed, dtype="int64"),
            "days_in_period": pd.Series([q.days for q in quarters], dtype="int64"),
        }
    )

    # the period itself
    in_period = credited_in(mine_all, p.start, cutoff)
    period_cents = revenue_cents(in_period)
    quota_cents = ctx.quota(am_id, p)
    att_p = attainment(period_cents, quota_cents)
    ytd_cents = revenue_cents(credited_in(mine_all, p.year.start, cutoff))
    ytd_quota = _sum_opt([ctx.quota(am_id, x) for x in _ytd_periods(p)])

    stmt = _commission(ds, params, ctx, am_id)

    forecast = _forecast_rows(ctx.forecasts(ds).loc[am_id])
    f0, f_rr = forecast.iloc[0], forecast.iloc[1]

    hist = attainment_table(mine_all, ctx.quotas, [am_id], list(ctx.history), until=cutoff, quarter_quotas=ctx.split("quarter"))
    perf_all = performance_table(performance_input(hist, as_of, ctx.first_deal), params.performance)
    status, run = current_status(perf_all, params.performance)
    keep = {q.label for q in ctx.history[-8:]}
    performance = perf_all.loc[perf_all["period"].isin(keep).to_numpy()].drop(columns="account_manager_id").reset_index(drop=True)
    for why, qs in performance.loc[performance["note"].notna().to_numpy()].groupby("note", sort=False)["period"]:
        notes.append(f"Performance has no verdict (n/a) for {', '.join(qs)}: {why}, after the start of each; "
                     "they count neither as a miss nor as a lift.")

    # service issues: only counts per account of this AM reach the report (account_status keeps its
    # own accounts); an issue counts as open at as_of when opened by then and not yet resolved
    accounts = account_status(credited, am_id, p, as_of, ds.accounts, AccountStatusRules(), deals=ds.deals,
                              pipeline=ds.pipeline, service_issues=ds.service_issues, history_start=ctx.first_deal)

    names = {}
    if ds.accounts is not None and len(ds.accounts):
        names = dict(zip(ds.accounts["account_id"].astype("str"), ds.accounts["name"].astype("str")))
    deals = pd.DataFrame(
        {
            "deal_id": in_period["deal_id"].astype("str").to_numpy(),
            "account_id": in_period["account_id"].astype("str").to_numpy(),
            "account_name": pd.Series([names.get(a, a) for a in in_period["account_id"]], dtype="str").to_numpy(),
            "close_date": pd.Series([_date(d) for d in in_period["close_date"]], dtype="object").to_numpy(),
            "amount": pd.Series([cents_to_money(c) for c in in_period["credit_cents"]], dtype="object").to_numpy(),
            "stage": in_period["stage"].astype("str").to_numpy(),
            "product": in_period["product"].astype("object").where(in_period["product"].notna(), None).to_numpy(),
        }
    )
    for col in ("deal_id", "account_id", "account_name", "stage"):
        deals[col] = deals[col].astype("str")

    # notes
    if deals.empty:
        notes.append(f"No deals closed in {p.label}" + (f" up to {cutoff.isoformat()}." if cutoff < p.end else "."))
    if quota_cents is None:
        notes.append(f"No quota for {p.label}: attainment is n/a.")
    elif quota_cents == 0:
        notes.append(f"Quota for {p.label} is zero: attainment is n/a.")
    if as_of < p.end:
        notes.append(f"Figures as of {as_of.isoformat()}; {p.label} ends {p.end.isoformat()}.")
    to_date = _to_date_figures(p, cutoff, period_cents, quota_cents)
    if to_date["days_elapsed"] < p.days:
        ly_p = p.same_period_last_year()
        notes.append(
            f"{to_date['period_label']}: attainment is against the full {p.kind} quota; pace is revenue against the "
            f"quota prorated to date; growth vs last year compares with the same days of {ly_p.label} "
            f"({ly_p.start.isoformat()} to {p.last_year_span(cutoff)[1].isoformat()})."
        )
    if any(v is None for v in rev_ly):
        since = f" (its first deal closed on {ctx.first_deal.isoformat()})" if ctx.first_deal else ""
        notes.append(f"Revenue last year is n/a where the data set does not reach back to the start of that quarter{since}.")
    hire, end = _date(row.get("hire_date")), _date(row.get("end_date"))
    if hire is not None and hire > p.end:
        notes.append(f"Hired {hire.isoformat()}, after {p.label}.")
    if end is not None and end < p.end:
        notes.append(f"Left on {end.isoformat()}.")
    if ds.crediting == "territory":
        notes.append("Territory crediting: each deal in your territories credits you in full (an overlay; colleagues may be credited for the same deal); a deal whose territory is blank or covered by nobody credits its owner.")
    if accounts["handover_date"].notna().any():
        notes.append("Revenue an account booked before its handover date is not credited (business-development handoff).")

    deferred = money_sum(a for a, w in zip(stmt.lines["amount"], stmt.lines["award"]) if str(w) == "deferred")
    summary: dict[str, Any] = {
        "period_label": to_date["period_label"],
        "days_elapsed": to_date["days_elapsed"],
        "days_in_period": to_date["days_in_period"],
        "revenue": cents_to_money(period_cents),
        "quota": _money(quota_cents),
        "attainment": _scalar_att(att_p),
        "quota_to_date": to_date["quota_to_date"],
        "pace": to_date["pace"],
        "ytd_revenue": cents_to_money(ytd_cents),
        "ytd_quota": _money(ytd_quota),
        "ytd_attainment": _scalar_att(attainment(ytd_cents, ytd_quota)),
        "commission_total": stmt.total,
        "commission": stmt.commission,
        "bonus": stmt.bonus,
        "commission_cash": stmt.cash_total,
        "commission_deferred": deferred,
        "forecast": f0["forecast"],
        "forecast_method": str(f0["method"]),
        "forecast_basis": str(f0["basis"]),
        "forecast_low": f0["low"],
        "forecast_high": f0["high"],
        "forecast_run_rate": f_rr["forecast"],
        "annual_quota": f0["annual_quota"],
        "forecast_attainment": _scalar_att(float(f0["forecast_attainment"])),
        "performance_status": status,
        "consecutive_misses": run,
        "deals_count": int(in_period["deal_id"].nunique()),
        "accounts_count": int(len(accounts)),
    }
    return AccountManagerReport(
        id=am_id,
        name=str(row["name"]),
        team=str(row["team"]),
        sales_manager=str(row["sales_manager"]),
        region=_opt_str(row.get("region")),
        period=p.label,
        period_start=p.start,
        period_end=p.end,
        as_of=as_of,
        currency=ds.currency,
        summary=summary,
        quarterly=quarterly,
        commission=stmt.lines.copy(),  # the statement is shared with the team report: not its frame
        accounts=accounts,
        forecast=forecast.reset_index(drop=True),
        performance=performance,
        deals=deals,
        notes=tuple(notes),
        timezone=params.timezone,
        miss_below=params.performance.miss_below,
    )


# ---------------------------------------------------------------------------
# Team report
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
    return pd.DataFrame({"band": pd.Series([r[0] for r in rows], dtype="str"), "count": pd.Series([r[1] for r in rows], dtype="int64")})


def build_team_report(
    ds: Dataset,
    team: str,
    period: str,
    params: BatchParams,
    as_of: datetime.date,
) -> TeamReport:
    """Build one sales manager's team report for one period.

    Members are the team's account managers active in the period
    (:func:`active_account_managers`).

    Team revenue counts each deal once (:func:`reportkit.domain.crediting.team_revenue`):
    without overlapping crediting it equals the sum of the members' revenue; with
    a territory overlay inside the team it is less, and a note says so.

    Team attainment follows one roll-up rule, :func:`reportkit.domain.quota.pooled_attainment`
    (stated in the notes as :data:`TEAM_ATTAINMENT_RULE`): the members who have a
    quota count, their credited revenue (``credited_revenue``) over their quotas
    (``quota``), numerator and denominator counted the same way, so it lies within
    the members' range. The same rule gives the YTD figures, each quarter of
    ``quarterly`` and the team total's forecast attainment (members' blended
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
        Frames per the column contract at the top of this module. ``summary``
        keys: ``period_label``, ``days_elapsed``, ``days_in_period``,
        ``members``, ``revenue`` (each deal once), ``credited_revenue``,
        ``quota``, ``attainment``, ``quota_to_date``, ``pace`` (attainment
        revenue against the quota prorated to date),
        ``ytd_revenue``, ``ytd_credited_revenue``, ``ytd_quota``, ``ytd_attainment``,
        ``commission_expense`` (its ``total`` column summed),
        ``commission_expense_commission``, ``commission_expense_bonus`` (its
        ``commission`` / ``bonus`` columns summed), ``forecast`` (blended, the team's
        sales forecast, each deal once), ``forecast_method``, ``forecast_low``,
        ``forecast_high``, ``forecast_run_rate`` (same basis), ``credited_forecast``
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
    ctx = _context(ds, params, period, as_of)
    p, cutoff = ctx.period, ctx.cutoff
    all_teams = sorted(set(ds.account_managers["team"].astype("str")))
    slugs = _unique_slugs(all_teams)
    name = str(team)
    if name not in all_teams:
        by_slug = {v: k for k, v in slugs.items()}
        if name not in by_slug:
            raise ParamsError(f"team {name!r} is not in the account managers table" + did_you_mean(name, all_teams))
        name = by_slug[name]
    active = active_account_managers(ds, p)
    members_df = active.loc[(active["team"] == name).to_numpy()].sort_values("account_manager_id", kind="stable")
    if members_df.empty:
        raise ParamsError(f"team {name!r} has no account manager active in {p.label}")
    members = members_df["account_manager_id"].astype("str").tolist()
    am_names = dict(zip(members, members_df["name"].astype("str")))
    credited = ctx.credited.loc[ctx.credited["account_manager_id"].isin(members).to_numpy()]
    overlap = crediting_overlaps(credited, members)
    notes: list[str] = list(ctx.quota_notes)

    # per member, the period
    in_period = credited_in(credited, p.start, cutoff)
    rev = revenue_cents_by(in_period, "account_manager_id").reindex(members, fill_value=0).astype("int64")
    quotas = {a: ctx.quota(a, p) for a in members}
    att = pd.Series([attainment(int(rev[a]), quotas[a]) for a in members], index=members, dtype="float64")
    stmts: dict[str, CommissionStatement] = {
        a: _commission(ds, params, ctx, a) for a in members
    }
    annual_q = _annual_quota(ctx, members, p)
    fc = ctx.forecasts(ds).loc[members]
    hist = attainment_table(credited, ctx.quotas, members, list(ctx.history), until=cutoff, quarter_quotas=ctx.split("quarter"))
    perf = performance_table(performance_input(hist, as_of, ctx.first_deal), params.performance)
    standing = {a: current_status(perf.loc[(perf["account_manager_id"] == a).to_numpy()], params.performance) for a in members}

    fc_by = fc
    leaderboard = pd.DataFrame(
        {
            "account_manager_id": pd.Series(members, dtype="str"),
            "name": pd.Series([am_names[a] for a in members], dtype="str"),
            "revenue": pd.Series([cents_to_money(int(rev[a])) for a in members], dtype="object"),
            "quota": pd.Series([_money(quotas[a]) for a in members], dtype="object"),
            "attainment": att.to_numpy(),
            "commission": pd.Series([stmts[a].total for a in members], dtype="object"),
            "forecast": pd.Series([fc_by.loc[a, "forecast"] for a in members], dtype="object"),
            "performance_status": pd.Series([standing[a][0] for a in members], dtype="str"),
        }
    )
    order = pd.DataFrame(
        {"att": att.fillna(-math.inf).to_numpy(), "rev": rev.to_numpy(), "id": members}
    ).sort_values(["att", "rev", "id"], ascending=[False, False, True], kind="stable").index
    leaderboard = leaderboard.loc[order].reset_index(drop=True)
    leaderboard.insert(0, "rank", pd.Series(range(1, len(members) + 1), dtype="int64"))

    # team quarterly: revenue each deal once, quota total over total
    q_att = attainment_table(credited, ctx.quotas, members, list(ctx.year_quarters), until=cutoff, quarter_quotas=ctx.split("quarter"))
    q_rows = []
    basis_differs = False
    for q in ctx.year_quarters:
        r = team_revenue(credited, members, q.start, min(q.end, cutoff))
        in_q = q_att.loc[(q_att["period"] == q.label).to_numpy()]
        q_micros = revenue_micros_by(credited_in(credited, q.start, min(q.end, cutoff)), "account_manager_id")
        qp = pooled_attainment(
            None, [None if pd.isna(x) else int(x) for x in in_q["quota_cents"]],
            revenue_micros=[int(q_micros.get(a, 0)) for a in in_q["account_manager_id"]],
        )
        basis_differs |= qp.revenue_cents is not None and qp.revenue_cents != r
        q_rows.append((q.label, cents_to_money(r), _money(qp.revenue_cents), _money(qp.quota_cents), qp.attainment))
    quarterly = pd.DataFrame(
        {
            "period": pd.Series([r[0] for r in q_rows], dtype="str"),
            "revenue": pd.Series([r[1] for r in q_rows], dtype="object"),
            "credited_revenue": pd.Series([r[2] for r in q_rows], dtype="object"),
            "quota": pd.Series([r[3] for r in q_rows], dtype="object"),
            "attainment": pd.Series([r[4] for r in q_rows], dtype="float64"),
        }
    )

    # forecast roll-up (blended): members, then the team total row. The total row is what
    # forecast attainment divides (the attainment basis: the members' forecasts, members
    # with an annual quota); the team's own sales forecast (each deal once) is the summary's
    # forecast. Totals follow the one total rule: exact total, rounded once.
    ytd_micros = revenue_micros_by(credited_in(credited, p.year.start, cutoff), "account_manager_id")
    basis_fc = _forecast_rollup(fc, members, ytd_micros, [annual_q[a] for a in members])
    if basis_fc["quota_cents"] is None:  # no member has an annual quota: nothing is set against one
        basis_fc = _forecast_rollup(fc, members, ytd_micros, None)
    team_annual_q = basis_fc["quota_cents"]
    if overlap:
        history_start = None if ctx.first_deal is None else min(ctx.first_deal, cutoff)
        tm = forecast_methods(
            level_revenue(credited, "team", members_df), [name], p.fiscal_year, cutoff, ds.calendar,
            history_start=history_start, pipeline=open_pipeline(ds.pipeline, "team", cutoff, p.year.end, members_df),
        ).iloc[0]
        team_fc = {k: int(tm[k]) for k in _FORECAST_KEYS}
    else:
        team_fc = _forecast_rollup(fc, members, ytd_micros, None)
    partial = team_annual_q is not None and any(not q for q in annual_q.values())
    tot_name = "Team total" if not (overlap or partial) else "Team total (attainment basis)"
    tot_basis = "sum of the members' forecasts (exact total, rounded once)" + (
        ", members with an annual quota" if partial else "") + (
        "; a deal credited to two members counts for both" if overlap else "")
    f_rows = [
        (a, am_names[a], str(fc.loc[a, "basis"]), *(int(fc.loc[a, k]) for k in _FORECAST_KEYS), annual_q[a]) for a in members
    ] + [("TOTAL", tot_name, tot_basis, *(basis_fc[k] for k in _FORECAST_KEYS), team_annual_q)]
    money_col = lambda i: pd.Series([cents_to_money(r[i]) for r in f_rows], dtype="object")  # noqa: E731
    forecast = pd.DataFrame(
        {
            "account_manager_id": pd.Series([r[0] for r in f_rows], dtype="str"),
            "name": pd.Series([r[1] for r in f_rows], dtype="str"),
            "method": pd.Series(["blended"] * len(f_rows), dtype="str"),
            "basis": pd.Series([r[2] for r in f_rows], dtype="str"),
            "ytd_revenue": money_col(3),
            "forecast": money_col(4),
            "annual_quota": pd.Series([_money(r[8]) for r in f_rows], dtype="object"),
            "forecast_attainment": pd.Series(
                [attainment(r[4], r[8]) for r in f_rows[:-1]] + [basis_fc["attainment"]], dtype="float64"
            ),
            "low": money_col(6),
            "high": money_col(7),
            "run_rate": money_col(5),
        }
    )

    watch = [a for a in members if standing[a][0] in ("performance watch", "termination review")]
    performance_watch = pd.DataFrame(
        {
            "account_manager_id": pd.Series(watch, dtype="str"),
            "name": pd.Series([am_names[a] for a in watch], dtype="str"),
            "consecutive_misses": pd.Series([standing[a][1] for a in watch], dtype="int64"),
            "status": pd.Series([standing[a][0] for a in watch], dtype="str"),
        }
    )

    commission_expense = pd.DataFrame(
        {
            "account_manager_id": pd.Series(members, dtype="str"),
            "name": pd.Series([am_names[a] for a in members], dtype="str"),
            "commission": pd.Series([stmts[a].commission for a in members], dtype="object"),
            "bonus": pd.Series([stmts[a].bonus for a in members], dtype="object"),
            "total": pd.Series([stmts[a].total for a in members], dtype="object"),
        }
    )

    team_rev = team_revenue(credited, members, p.start, cutoff)
    rev_micros = revenue_micros_by(in_period, "account_manager_id")
    pooled = pooled_attainment(None, [quotas[a] for a in members], revenue_micros=[int(rev_micros.get(a, 0)) for a in members])
    ytd_rev = team_revenue(credited, members, p.year.start, cutoff)
    ytd_pooled = pooled_attainment(
        None, [_sum_opt([ctx.quota(a, x) for x in _ytd_periods(p)]) for a in members],
        revenue_micros=[int(ytd_micros.get(a, 0)) for a in members],
    )
    basis_differs |= any(
        x is not None and x != r
        for x, r in ((pooled.revenue_cents, team_rev), (ytd_pooled.revenue_cents, ytd_rev),
                     (basis_fc["blended_cents"], team_fc["blended_cents"]))
    )
    notes.append(TEAM_ATTAINMENT_RULE)
    if basis_differs:
        notes.append(_basis_note(overlap, partial or any(not quotas[a] for a in members)))
    if bool((ytd_micros % MICROS_PER_CENT != 0).any()):
        notes.append(ROLLUP_TOTAL_RULE)
    if overlap:
        notes.append(
            "Territory crediting overlaps within this team: a deal can credit several members, so team revenue "
            "counts each deal once and is less than the sum of the members' revenue."
        )
    no_quota = [am_names[a] for a in members if quotas[a] is None]
    if no_quota:
        notes.append(f"No quota for {p.label}: {', '.join(no_quota)} (attainment n/a).")
    if in_period.empty:
        notes.append(f"No deals closed in {p.label}.")
    if as_of < p.end:
        notes.append(f"Figures as of {as_of.isoformat()}; {p.label} ends {p.end.isoformat()}.")

    tot = forecast.iloc[-1]
    to_date = _to_date_figures(p, cutoff, pooled.revenue_cents or 0, pooled.quota_cents)
    if to_date["days_elapsed"] < p.days:
        notes.append(
            f"{to_date['period_label']}: attainment is against the full {p.kind} quota; pace is revenue against the "
            "quota prorated to date."
        )
    summary: dict[str, Any] = {
        "period_label": to_date["period_label"],
        "days_elapsed": to_date["days_elapsed"],
        "days_in_period": to_date["days_in_period"],
        "members": len(members),
        "revenue": cents_to_money(team_rev),
        "credited_revenue": _money(pooled.revenue_cents),
        "quota": _money(pooled.quota_cents),
        "attainment": _scalar_att(pooled.attainment),
        "quota_to_date": to_date["quota_to_date"],
        "pace": to_date["pace"],
        "ytd_revenue": cents_to_money(ytd_rev),
        "ytd_credited_revenue": _money(ytd_pooled.revenue_cents),
        "ytd_quota": _money(ytd_pooled.quota_cents),
        "ytd_attainment": _scalar_att(ytd_pooled.attainment),
        "commission_expense": money_sum(s.total for s in stmts.values()),
        "commission_expense_commission": money_sum(s.commission for s in stmts.values()),
        "commission_expense_bonus": money_sum(s.bonus for s in stmts.values()),
        "forecast": cents_to_money(team_fc["blended_cents"]),
        "forecast_method": "blended",
        "forecast_low": cents_to_money(team_fc["low_cents"]),
        "forecast_high": cents_to_money(team_fc["high_cents"]),
        "forecast_run_rate": cents_to_money(team_fc["run_rate_cents"]),
        "credited_forecast": tot["forecast"],
        "annual_quota": tot["annual_quota"],
        "forecast_attainment": _scalar_att(float(tot["forecast_attainment"])),
        "on_watch": len(watch),
        "deals_count": int(in_period["deal_id"].nunique()),
        "crediting_overlaps": overlap,
        "attainment_basis_differs": bool(basis_differs),
    }
    sales_manager = str(members_df["sales_manager"].iloc[0])
    return TeamReport(
        id=slugs[name],
        name=name,
        sales_manager=sales_manager,
        period=p.label,
        period_start=p.start,
        period_end=p.end,
        as_of=as_of,
        currency=ds.currency,
        summary=summary,
        leaderboard=leaderboard,
        attainment_distribution=_distribution(leaderboard["attainment"]),
        quarterly=quarterly,
        forecast=forecast,
        performance_watch=performance_watch,
        commission_expense=commission_expense,
        notes=tuple(notes),
        timezone=params.timezone,
        miss_below=params.performance.miss_below,
    )


# ---------------------------------------------------------------------------
# Company roll-up
# ---------------------------------------------------------------------------

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
    * ``forecast``: the members' blended forecasts totalled (exact YTD credits
      plus forecast parts, rounded once: equal to a lone team's forecast) when
      no deal credits two members; otherwise the company's deals (each once)
      forecast as one series. ``credited_forecast`` is the attainment basis:
      the members' forecasts (members with an annual quota) totalled the same
      way; ``forecast_attainment`` = ``credited_forecast`` / ``annual_quota``
      (same rule).
    * ``members``, ``on_watch``, ``commission_expense``: sums over the teams
      (every account manager is in exactly one team, so nobody counts twice).

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
        ``commission_expense``, ``forecast``, ``credited_forecast``, ``annual_quota``,
        ``forecast_attainment``, ``on_watch``, ``notes`` (tuple of str; with
        :data:`ROLLUP_TOTAL_RULE` when the source has sub-cent amounts). Money is
        ``Decimal`` (0.01), attainment a float fraction or None.

    Raises
    ------
    ParamsError
        A team report is for another period or date than asked.
    """
    ctx = _context(ds, params, period, as_of)
    p, cutoff = ctx.period, ctx.cutoff
    wrong = [t.name for t in team_reports if t.period != p.label or t.as_of != as_of]
    if wrong:
        raise ParamsError(f"team reports {wrong} are not for {p.label} as of {as_of.isoformat()}")
    members = sorted({str(a) for t in team_reports for a in t.leaderboard["account_manager_id"]})
    credited = ctx.credited.loc[ctx.credited["account_manager_id"].isin(members).to_numpy()]
    in_period = revenue_micros_by(credited_in(credited, p.start, cutoff), "account_manager_id")
    in_ytd = revenue_micros_by(credited_in(credited, p.year.start, cutoff), "account_manager_id")
    pooled = pooled_attainment(
        None, [ctx.quota(a, p) for a in members], revenue_micros=[int(in_period.get(a, 0)) for a in members]
    )
    ytd_pooled = pooled_attainment(
        None, [_sum_opt([ctx.quota(a, x) for x in _ytd_periods(p)]) for a in members],
        revenue_micros=[int(in_ytd.get(a, 0)) for a in members],
    )
    fc = ctx.forecasts(ds).loc[members]
    annual_q = _annual_quota(ctx, members, p)
    basis_fc = _forecast_rollup(fc, members, in_ytd, [annual_q[a] for a in members])
    if members and crediting_overlaps(credited, members):
        am = ds.account_managers.loc[ds.account_managers["account_manager_id"].isin(members).to_numpy()]
        history_start = None if ctx.first_deal is None else min(ctx.first_deal, cutoff)
        pipeline = ds.pipeline
        if pipeline is not None:
            pipeline = pipeline.loc[pipeline["account_manager_id"].astype("str").isin(members).to_numpy()]
        forecast_cents = int(forecast_methods(
            level_revenue(credited, "company", am), [COMPANY], p.fiscal_year, cutoff, ds.calendar,
            history_start=history_start, pipeline=open_pipeline(pipeline, "company", cutoff, p.year.end, am),
        ).iloc[0]["blended_cents"])
    else:
        forecast_cents = _forecast_rollup(fc, members, in_ytd, None)["blended_cents"] or 0
    return {
        "team": "Company total",
        "members": sum(int(t.summary.get("members", 0)) for t in team_reports),
        "revenue": cents_to_money(team_revenue(credited, members, p.start, cutoff)),
        "credited_revenue": _money(pooled.revenue_cents),
        "quota": _money(pooled.quota_cents),
        "attainment": _scalar_att(pooled.attainment),
        "ytd_revenue": cents_to_money(team_revenue(credited, members, p.year.start, cutoff)),
        "ytd_credited_revenue": _money(ytd_pooled.revenue_cents),
        "ytd_quota": _money(ytd_pooled.quota_cents),
        "ytd_attainment": _scalar_att(ytd_pooled.attainment),
        "commission_expense": money_sum(t.summary["commission_expense"] for t in team_reports),
        "forecast": cents_to_money(forecast_cents),
        "credited_forecast": _money(basis_fc["blended_cents"]),
        "annual_quota": _money(basis_fc["quota_cents"]),
        "forecast_attainment": _scalar_att(basis_fc["attainment"]),
        "on_watch": sum(int(t.summary.get("on_watch", 0)) for t in team_reports),
        "notes": (COMPANY_REVENUE_RULE, COMPANY_ATTAINMENT_RULE)
        + ((ROLLUP_TOTAL_RULE,) if bool((in_ytd % MICROS_PER_CENT != 0).any()) else ()),
    }

def build_report(ds: Any, params: BatchParams, *, kind: str, report_id: str, period: str, as_of: datetime.date) -> Any:
    """Build one report object with its kind's builder in the registry (:data:`REPORT_KINDS`)."""
    if kind not in REPORT_KINDS:
        raise ParamsError(f"unknown report kind {kind!r}", hint=f"use one of {sorted(REPORT_KINDS)}")
    return REPORT_KINDS[kind].build(ds, report_id, period, params, as_of)
