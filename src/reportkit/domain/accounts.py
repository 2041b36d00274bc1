"""Account status: one row per client account of one account manager.

An account belongs to an account manager's list when it has credited revenue
for them up to ``as_of`` (see :mod:`reportkit.domain.crediting`), or when the optional
``accounts`` table names them as ``owner_id``.

Business-development handoff: revenue an account booked before its
``handover_date`` does not count for the account manager. The rule lives in
:func:`reportkit.domain.crediting.credited_deals` (such deals credit nobody), so every
figure here -- and the quota, commission and forecast figures -- already
excludes it. The handoff date is shown in ``handover_date``.

Figures per account (money ``Decimal``, cut at ``as_of``):

* ``revenue_period`` / ``revenue_ytd`` / ``revenue_same_period_last_year``
  (the span of :meth:`reportkit.core.periods.Period.last_year_span`, as in the
  report's quarterly table: while the period is not over by ``as_of``, last
  year's period up to the same date one year before ``as_of``);
  ``trend`` -- change of revenue in the period vs the same period last year,
  as a fraction (0.25 == +25 %), NaN when last year's revenue is zero or
  negative (no base). When the data does not cover the same period last year
  (it begins after that period's first day:
  :func:`reportkit.core.periods.data_covers`, the rule of the report's quarterly
  table) ``revenue_same_period_last_year`` is None (n/a: unknown, not zero)
  and ``trend`` NaN.
* ``last_order_date`` / ``days_since_last_order`` -- an *order* is a credited
  deal with a positive amount; returns do not refresh it.
* ``open_pipeline`` / ``open_opportunities`` -- open opportunities of this
  account manager on the account (``Dataset.pipeline``; unweighted amount and
  count; None / 0 without a pipeline table).
* ``won_count`` / ``lost_count`` / ``win_rate`` -- deals closed in the last
  ``AccountStatusRules.win_rate_window_days`` days up to ``as_of``: won = deals
  credited to the account manager with a positive amount, lost = ``lost`` deals
  the account manager owns (``deals.account_manager_id``; lost deals credit
  nobody, so territory overlays do not see them). ``win_rate`` = won / (won +
  lost), NaN when both are 0 or when the ``deals`` table is not given.
* ``share_of_am_revenue`` -- the account's share of the account manager's YTD
  revenue (concentration; NaN when that total is zero or negative).
* ``open_issues`` / ``open_escalations`` -- from the optional service-issues
  table (``account_id``, ``opened``, ``resolved``, ``severity``): issues opened
  on or before ``as_of`` and not resolved by then (``resolved`` empty or after
  ``as_of``); an escalation is an open issue whose ``severity`` (compared as
  lower-case text) is in ``AccountStatusRules.escalation_severities``.

Status rules (first match wins; thresholds in :class:`AccountStatusRules`; the
rule that fired is written to ``status_rule`` and explained in
``status_reason``):

0. ``data_ends`` -- **n/a**: the period begins after the data's last deal
   (:func:`reportkit.core.periods.data_reaches`, the rule of the performance
   verdicts): the months after the data's end are the end of the export, not months
   without orders, so no rule may rest on them. ``status_reason`` says ``data ends on
   2017-12-31, before FY2018-Q1 began``; ``revenue_period`` is None (n/a, not 0.00),
   ``days_since_last_order`` NA and ``trend`` NaN.
1. ``lapsed`` -- **lapsed**: no order in the last ``lapsed_after_days`` days (or never).
2. ``escalation`` -- **at risk**: an open service escalation.
3. ``new`` -- **new**: first order within the last ``new_within_days`` days.
4. ``silent`` -- **at risk**: no order for more than ``at_risk_after_days`` days.
   ``no_history`` -- **active**: the data does not cover the same period last
   year, so rules 5-7 (comparisons with last year) cannot apply; the reason
   names the data's first day.
5. ``drop`` -- **at risk**: revenue in the period fell by at least
   ``at_risk_drop`` vs the same period last year.
6. ``declining`` -- **declining**: trend <= ``-declining_below``.
7. ``growing`` -- **growing**: trend >= ``growing_above``; ``growing_from_zero``:
   revenue in the period with none in the same period last year.
8. ``stable`` -- **stable**: otherwise.

A lapsed account stays lapsed even with an open escalation (the relationship is
already gone; the issue still shows in ``open_escalations``).
"""

from __future__ import annotations

import datetime
from typing import NamedTuple

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from ..core.money import cents_to_money, micros_to_cents
from ..core.periods import Period, data_covers, data_end, data_reaches, data_start
from ..core.words import counted, in_number
from ..data.model import UNASSIGNED_ACCOUNT
from .crediting import credited_in, group_deal_micros

__all__ = [
    "ACCOUNT_COLUMNS",
    "AccountStatusRules",
    "STATUSES",
    "STATUS_RULES",
    "SERVICE_ISSUE_COLUMNS",
    "LOST_DEAL_COLUMNS",
    "account_status",
    "lost_deals",
    "new_logo_deals",
    "TOP_ACCOUNTS",
    "RETENTION_RULE",
    "top_account_shares",
    "revenue_retention",
]

STATUSES = ("new", "growing", "stable", "declining", "at risk", "lapsed", "active", "n/a")

#: Rule names written to ``status_rule`` (see the module docstring), in evaluation order.
STATUS_RULES = (
    "data_ends",
    "lapsed",
    "escalation",
    "new",
    "silent",
    "no_history",
    "drop",
    "declining",
    "growing",
    "growing_from_zero",
    "stable",
)

#: Columns of the optional service-issues table.
SERVICE_ISSUE_COLUMNS = ("account_id", "opened", "resolved", "severity")

ACCOUNT_COLUMNS = (
    "account_id",
    "account_name",
    "segment",
    "handover_date",
    "revenue_period",
    "revenue_ytd",
    "revenue_same_period_last_year",
    "last_order_date",
    "days_since_last_order",
    "trend",
    "status",
    "status_reason",
    "status_rule",
    "open_pipeline",
    "open_opportunities",
    "won_count",
    "lost_count",
    "win_rate",
    "share_of_am_revenue",
    "open_issues",
    "open_escalations",
)


class AccountStatusRules(BaseModel):
    """Thresholds of the account status rules (defaults are a common B2B starting point).

    Attributes
    ----------
    new_within_days : int
        First order at most this many days before ``as_of`` -> ``new`` (default 180).
    lapsed_after_days : int
        No order for more than this many days -> ``lapsed`` (default 365).
    at_risk_after_days : int
        No order for more than this many days -> ``at risk`` (default 120).
    at_risk_drop : float
        Period revenue down by at least this fraction vs last year -> ``at risk`` (default 0.5).
    declining_below : float
        Trend at or below ``-declining_below`` -> ``declining`` (default 0.10).
    growing_above : float
        Trend at or above this -> ``growing`` (default 0.10).
    escalation_severities : tuple of str
        Service-issue severities (lower case) that count as an escalation; an
        open one makes the account ``at risk`` (default critical, high, escalation).
    win_rate_window_days : int
        Won / lost counts and the win rate cover deals closed in this many days
        up to ``as_of`` (default 365).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    new_within_days: int = Field(180, ge=0)
    lapsed_after_days: int = Field(365, ge=1)
    at_risk_after_days: int = Field(120, ge=1)
    at_risk_drop: float = Field(0.5, gt=0, le=1)
    declining_below: float = Field(0.10, ge=0)
    growing_above: float = Field(0.10, ge=0)
    escalation_severities: tuple[str, ...] = ("critical", "high", "escalation")
    win_rate_window_days: int = Field(365, ge=1)


def _open_issues(
    service_issues: pd.DataFrame | None, ids: pd.Index, as_of: datetime.date, rules: AccountStatusRules
) -> tuple[pd.Series, pd.Series]:
    zero = pd.Series(0, index=ids, dtype="int64")
    if service_issues is None or len(service_issues) == 0:
        return zero, zero.copy()
    missing = [c for c in SERVICE_ISSUE_COLUMNS if c not in service_issues.columns]
    if missing:
        raise ValueError(f"service_issues lacks {in_number(len(missing), 'column')} {missing}; expected {SERVICE_ISSUE_COLUMNS}")
    si = service_issues
    ts = np.datetime64(as_of, "ns")
    opened = pd.to_datetime(si["opened"])
    resolved = pd.to_datetime(si["resolved"])
    is_open = (opened <= ts) & (resolved.isna() | (resolved > ts))
    sev = si["severity"].astype("string").str.strip().str.lower()
    esc = is_open & sev.isin([x.lower() for x in rules.escalation_severities]).fillna(False)
    acc = si["account_id"].astype("str")
    n_open = is_open.groupby(acc).sum().reindex(ids, fill_value=0).astype("int64")
    n_esc = esc.groupby(acc).sum().reindex(ids, fill_value=0).astype("int64")
    return n_open, n_esc


def account_status(
    credited: pd.DataFrame,
    account_manager_id: str,
    period: Period,
    as_of: datetime.date,
    accounts: pd.DataFrame | None = None,
    rules: AccountStatusRules | None = None,
    *,
    deals: pd.DataFrame | None = None,
    pipeline: pd.DataFrame | None = None,
    service_issues: pd.DataFrame | None = None,
    history_start: datetime.date | None = None,
    history_end: datetime.date | None = None,
) -> pd.DataFrame:
    """Status of each client account of one account manager.

    Parameters
    ----------
    credited : DataFrame
        Output of :func:`reportkit.domain.crediting.credited_deals`.
    account_manager_id : str
    period : Period
        Report period; ``revenue_period`` covers it, ``revenue_ytd`` covers its
        fiscal year up to its end, both cut at ``as_of``.
    as_of : date
        Reference date for ``days_since_last_order`` and the status rules.
    accounts : DataFrame, optional
        Canonical ``accounts`` table (names, segments, handover dates, owners).
    rules : AccountStatusRules, optional
    deals : DataFrame, optional
        Canonical ``deals`` table, for the lost-deal counts and the win rate
        (without it ``lost_count`` is 0 and ``win_rate`` NaN).
    pipeline : DataFrame, optional
        Canonical ``pipeline`` table (open opportunities).
    service_issues : DataFrame, optional
        ``account_id``, ``opened``, ``resolved`` (empty = open), ``severity``.
    history_start : date, optional
        First day the data covers (:func:`reportkit.core.periods.data_start` of every
        deal's close date; the reports pass the one their quarterly table uses).
        Default: the earliest close date in ``deals``, else in ``credited``.
        Comparisons with the same period last year apply only when it is on or
        before that period's first day.
    history_end : date, optional
        Last day the data covers (:func:`reportkit.core.periods.data_end`; the reports
        pass the one their performance verdicts use). Default: the latest close date in
        ``deals``, else in ``credited``. A period that begins after it gets no status
        (rule ``data_ends``: ``n/a``).

    Returns
    -------
    DataFrame
        Columns :data:`ACCOUNT_COLUMNS`; money columns are ``Decimal`` (report
        currency; ``open_pipeline`` None without a pipeline table,
        ``revenue_same_period_last_year`` None when the data does not cover it),
        ``last_order_date`` / ``handover_date`` are ``datetime.date`` or None,
        ``days_since_last_order`` is ``Int64`` (NA when never ordered),
        ``trend`` / ``win_rate`` / ``share_of_am_revenue`` float fractions,
        counts ``int64``. Sorted by revenue in the period (desc), then id.
    """
    rules = rules or AccountStatusRules()
    am = str(account_manager_id)
    c = credited_in(credited, None, as_of, am)
    ids = _account_ids(c, am, accounts)
    ly = period.same_period_last_year()
    if history_start is None:
        history_start = data_start((deals if deals is not None else credited)["close_date"])
    covered = data_covers(history_start, ly.start)  # else: no comparison with last year (rules 5-7)
    if history_end is None:
        history_end = data_end((deals if deals is not None else credited)["close_date"])
    reached = history_end is None or data_reaches(history_end, period.start)  # else: rule 0, n/a
    by_account = _AccountSums(c, ids)
    rev = _revenue(by_account, period, min(period.end, as_of), covered and reached)
    orders = _Orders.of(c, by_account, as_of, reached)
    pipe_amt, pipe_n = _open_pipeline(pipeline, am, ids)
    won, lost, win_rate = _win_loss(orders.frame, deals, am, ids, as_of, rules)
    am_ytd = float(rev.ytd.sum())
    share = (rev.ytd.astype("float64") / am_ytd) if am_ytd > 0 else pd.Series(np.nan, index=ids)
    n_open, n_esc = _open_issues(service_issues, ids, as_of, rules)
    status, rule, reasons = _classify(rev, orders, n_esc, covered, reached, rules, period, (history_start, history_end))
    names, segment, handover = _account_labels(accounts, ids)

    money = lambda s: pd.Series([cents_to_money(v) for v in s.to_numpy()], dtype="object")  # noqa: E731
    out = pd.DataFrame(
        {
            "account_id": pd.Series(ids, dtype="str"),
            "account_name": names.to_numpy(),
            "segment": segment.to_numpy(),
            "handover_date": handover.to_numpy(),
            "revenue_period": money(rev.period) if reached else pd.Series([None] * len(ids), dtype="object"),
            "revenue_ytd": money(rev.ytd),
            "revenue_same_period_last_year": money(rev.last_year) if covered else pd.Series([None] * len(ids), dtype="object"),
            # a date per account, None where it never ordered (NumPy's days of NaT are None)
            "last_order_date": pd.Series(orders.last.to_numpy().astype("datetime64[D]").astype(object), dtype="object"),
            "days_since_last_order": orders.days.to_numpy(),
            "trend": rev.trend.to_numpy(),
            "status": pd.Series(status, dtype="str"),
            "status_reason": pd.Series(reasons, dtype="str"),
            "status_rule": pd.Series(rule, dtype="str"),
            "open_pipeline": money(pipe_amt) if pipe_amt is not None else pd.Series([None] * len(ids), dtype="object"),
            "open_opportunities": pipe_n.to_numpy(),
            "won_count": won.to_numpy(),
            "lost_count": lost.to_numpy(),
            "win_rate": win_rate.to_numpy(dtype="float64"),
            "share_of_am_revenue": share.to_numpy(dtype="float64"),
            "open_issues": n_open.to_numpy(),
            "open_escalations": n_esc.to_numpy(),
        }
    )
    out["account_name"] = out["account_name"].astype("str")
    out["days_since_last_order"] = out["days_since_last_order"].astype("Int64")
    out["_rp"] = rev.period.to_numpy()
    out = out.sort_values(["_rp", "account_id"], ascending=[False, True], kind="stable").drop(columns="_rp")
    return out.reset_index(drop=True)


def _account_ids(c: pd.DataFrame, am: str, accounts: pd.DataFrame | None) -> pd.Index:
    """The account manager's accounts: credited revenue for them, or ``owner_id`` in the accounts table."""
    ids = pd.Index(c["account_id"].unique(), dtype="str")
    if accounts is not None and len(accounts) and "owner_id" in accounts:
        owned = accounts.loc[(accounts["owner_id"] == am).fillna(False).to_numpy(), "account_id"]
        ids = ids.union(pd.Index(owned.astype("str")))
    return pd.Index(ids.sort_values(), dtype="str")


class _Revenue(NamedTuple):
    period: pd.Series  # cents in the period, cut at as_of
    ytd: pd.Series  # cents in the fiscal year to the period's end, cut at as_of
    last_year: pd.Series  # cents in the same span last year (Period.last_year_span)
    trend: pd.Series  # (period - last_year) / |last_year|, NaN without a base or without coverage


def _revenue(sums: _AccountSums, period: Period, end: datetime.date, covered: bool) -> _Revenue:
    """Revenue per account in the period, the year to date and the same span last year, and the trend."""
    ly = period.same_period_last_year()
    _, ly_end = period.last_year_span(end)  # like for like while the period is not over by as_of
    rp, ytd, rly = sums.cents(period.start, end), sums.cents(period.year.start, end), sums.cents(ly.start, ly_end)
    base = rly.astype("float64")
    trend = ((rp - rly) / base.abs()).where((base > 0) & covered).astype("float64")
    return _Revenue(rp, ytd, rly, trend)


class _AccountSums:
    """Each account's credited revenue in a window of close dates: ``revenue_cents_by(credited_in(c, start, end),
    "account_id")`` reindexed to ``ids`` (0 where none), from the credits' positions among ``ids`` looked up once
    for every window (a report asks three) instead of a filter and a grouping of the credits per window.

    The same rule as :func:`reportkit.domain.crediting.revenue_cents_by`: each account's ``credit_micros``
    summed exactly (int64), then rounded to cents once (:func:`reportkit.core.money.micros_to_cents`);
    a credit without an account is in no account's sum, as a group key it is dropped.
    """

    def __init__(self, c: pd.DataFrame, ids: pd.Index) -> None:
        self.ids = ids
        self.at = ids.get_indexer(c["account_id"])
        self.at[c["account_id"].isna().to_numpy()] = -1
        self.dates = c["close_date"].to_numpy()
        self.micros = c["credit_micros"].to_numpy(np.int64)

    def cents(self, start: datetime.date, end: datetime.date) -> pd.Series:
        """Cents per account of ``ids`` closed in ``start..end`` (inclusive), int64."""
        keep = (self.at >= 0) & (self.dates >= np.datetime64(start, "ns")) & (self.dates <= np.datetime64(end, "ns"))
        micros = np.zeros(len(self.ids), dtype=np.int64)
        np.add.at(micros, self.at[keep], self.micros[keep])
        return pd.Series(micros_to_cents(micros), index=self.ids, dtype="int64")

    def last_and_first(self, rows: np.ndarray) -> tuple[pd.Series, pd.Series]:
        """The latest and the earliest close date per account of ``ids`` among the credits ``rows`` (a bool
        mask) keeps: NaT where it keeps none, a NaT date in neither (what a grouping's max and min give)."""
        keep = rows & (self.at >= 0) & ~np.isnat(self.dates)
        days, at = self.dates[keep].view("int64"), self.at[keep]
        nat = np.iinfo(np.int64).min  # NaT's int64
        last = np.full(len(self.ids), nat, dtype=np.int64)
        np.maximum.at(last, at, days)
        first = np.full(len(self.ids), np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first, at, days)
        first[last == nat] = nat
        unit = self.dates.dtype
        return pd.Series(last.view(unit), index=self.ids), pd.Series(first.view(unit), index=self.ids)


class _Orders(NamedTuple):
    frame: pd.DataFrame  # the orders: credited deals with a positive amount (returns do not count)
    last: pd.Series  # last order date per account (NaT: never)
    days: pd.Series  # days since the last order (Int64, NA: never)
    days_first: pd.Series  # days since the first order (Int64, NA: never)

    @classmethod
    def of(cls, c: pd.DataFrame, by_account: _AccountSums, as_of: datetime.date, reached: bool = True) -> _Orders:
        """``c``'s orders per account of ``by_account`` (its ``ids``, the positions of ``c``'s credits among them).

        ``reached`` False (the period begins after the data's end): the days since the last order are unknown (NA)."""
        ids, is_order = by_account.ids, (c["amount_cents"] > 0).to_numpy()
        orders = c.loc[is_order]
        last, first = by_account.last_and_first(is_order)
        as_of_ts = pd.Timestamp(as_of)
        days = (as_of_ts - last).dt.days.astype("Int64")
        return cls(
            orders,
            last,
            days if reached else pd.Series(pd.NA, index=ids, dtype="Int64"),
            (as_of_ts - first).dt.days.astype("Int64"),
        )


def _open_pipeline(pipeline: pd.DataFrame | None, am: str, ids: pd.Index) -> tuple[pd.Series | None, pd.Series]:
    """Unweighted open pipeline (cents; None without a pipeline table) and open opportunities per account."""
    if pipeline is None:
        return None, pd.Series(0, index=ids, dtype="int64")
    mine = pipeline.loc[(pipeline["account_manager_id"].astype("str") == am).to_numpy()]
    by_account = mine.groupby(mine["account_id"].astype("str"))
    return (
        by_account["amount_cents"].sum().reindex(ids, fill_value=0).astype("int64"),
        by_account.size().reindex(ids, fill_value=0).astype("int64"),
    )


LOST_DEAL_COLUMNS = ("account_manager_id", "account_id", "close_date", "stage")
"""The columns of :func:`lost_deals`: what the lost-deal counts of :func:`account_status` read."""


def lost_deals(deals: pd.DataFrame) -> pd.DataFrame:
    """The lost deals of ``deals`` (stage ``lost``, in any case, spaces around it ignored), columns :data:`LOST_DEAL_COLUMNS`.

    What :func:`account_status` counts as lost, before its account manager and window.
    ``account_status(..., deals=lost_deals(deals))`` gives the same table as with every
    deal (a batch reads the deals once for all its account managers: ``ReportContext``),
    when ``history_start`` is given (its default reads every deal's close date).
    """
    st = deals["stage"].astype("string").str.strip().str.lower()
    return deals.loc[(st == "lost").fillna(False).to_numpy(dtype=bool), list(LOST_DEAL_COLUMNS)]


def _win_loss(
    orders: pd.DataFrame, deals: pd.DataFrame | None, am: str, ids: pd.Index, as_of: datetime.date, rules: AccountStatusRules
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Won and lost deals per account in the win-rate window, and the win rate (NaN without ``deals``)."""
    as_of_ts = pd.Timestamp(as_of)
    win_start = as_of_ts - pd.Timedelta(days=rules.win_rate_window_days - 1)
    w = orders.loc[(orders["close_date"] >= win_start).to_numpy()]
    won = w.drop_duplicates("deal_id").groupby("account_id").size().reindex(ids, fill_value=0).astype("int64")
    lost = pd.Series(0, index=ids, dtype="int64")
    if deals is not None and len(deals):
        ld = lost_deals(deals)
        lm = (ld["account_manager_id"].astype("str") == am) & (ld["close_date"] >= win_start) & (ld["close_date"] <= as_of_ts)
        ld = ld.loc[lm.to_numpy()]
        lost = ld.groupby(ld["account_id"].astype("str")).size().reindex(ids, fill_value=0).astype("int64")
    tried = (won + lost).astype("float64")
    win_rate = (won / tried.where(tried > 0)).astype("float64") if deals is not None else pd.Series(np.nan, index=ids)
    return won, lost, win_rate


def _classify(
    rev: _Revenue,
    orders: _Orders,
    n_esc: pd.Series,
    covered: bool,
    reached: bool,
    rules: AccountStatusRules,
    period: Period,
    history: tuple[datetime.date | None, datetime.date | None],
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The status rules in order (first match wins): status, rule name and reason per account.

    ``history``: the data's first and last day (:func:`reportkit.core.periods.data_start`, ``data_end``)."""
    n = len(rev.period)
    never = orders.last.isna().to_numpy()
    d = orders.days.fillna(10**9).to_numpy(dtype="int64")
    df = orders.days_first.fillna(10**9).to_numpy(dtype="int64")
    t = rev.trend.to_numpy()
    has_t = ~np.isnan(t)
    conds = [
        np.full(n, not reached),
        never | (d > rules.lapsed_after_days),
        n_esc.to_numpy() > 0,
        df <= rules.new_within_days,
        d > rules.at_risk_after_days,
        np.full(n, not covered),
        has_t & (t <= -rules.at_risk_drop),
        has_t & (t <= -rules.declining_below),
        has_t & (t >= rules.growing_above),
        ~has_t & (rev.period.to_numpy() > 0),
    ]
    statuses = ["n/a", "lapsed", "at risk", "new", "at risk", "active", "at risk", "declining", "growing", "growing"]
    status = np.select(conds, statuses, default="stable")
    rule = np.select(conds, list(STATUS_RULES[:-1]), default="stable")
    # the first rule that fired per account (None: stable), the rule np.select applied; then its words,
    # with what every account shares put in words once (about 1,000 accounts per account manager)
    held = np.vstack(conds) if n else np.zeros((len(conds), 0), dtype=bool)
    fired = [int(k) if hit else None for k, hit in zip(held.argmax(axis=0).tolist(), held.any(axis=0).tolist())]
    shared = _reason_fields(rules, period, history)
    reasons = [
        _reason(*row, shared)
        for row in zip(fired, never.tolist(), d.tolist(), df.tolist(), t.astype("float64").tolist(), n_esc.to_numpy().tolist())
    ]
    return status, rule, reasons


#: ``status_reason`` of each rule of :func:`_classify`, in its order (``str.format`` fields: see :func:`_reason`).
_REASONS = (
    "data ends on {end}, before {period} began",
    "no order for {d} (lapsed after {r.lapsed_after_days})",
    "{escalations}",
    "first order {df} ago (new within {r.new_within_days})",
    "no order for {d} (at risk after {r.at_risk_after_days})",
    "last order {d} ago; no comparison with {ly}: {since}",
    "revenue {pct} vs {ly} (at risk at -{drop:.0f} % or worse)",
    "revenue {pct} vs {ly} (declining at -{declining:.0f} % or worse)",
    "revenue {pct} vs {ly} (growing at +{growing:.0f} % or more)",
    "revenue in {period}, none in {ly}",
)


def _reason_fields(
    rules: AccountStatusRules, period: Period, history: tuple[datetime.date | None, datetime.date | None]
) -> dict[str, object]:
    """The fields of :data:`_REASONS` that are the same for every account of a report.

    ``history``: the data's first and last day, as :func:`_classify` takes it."""
    history_start, history_end = history
    return {
        "end": history_end.isoformat() if history_end else "",
        "r": rules,
        "ly": period.same_period_last_year().label,
        "period": period.label,
        "since": f"the data begins on {history_start.isoformat()}" if history_start else "the data has no deals",
        "drop": rules.at_risk_drop * 100,
        "declining": rules.declining_below * 100,
        "growing": rules.growing_above * 100,
    }


def _reason(fired: int | None, never: bool, d: int, df: int, t: float, n_esc: int, shared: dict[str, object]) -> str:
    """``status_reason``: the rule that fired (index into :data:`_REASONS`; None: stable), in words.

    ``shared``: :func:`_reason_fields` of the report (the rules, the periods, where the data begins).
    """
    if fired == 0:  # the data ends before the period: whether it ordered since is unknown
        return _REASONS[0].format(**shared)
    if never:
        return "no order on record"
    pct = f"{t * 100:+.0f} %"
    if fired is not None:
        escalations = counted(int(n_esc), "open service escalation") if fired == 2 else ""
        return _REASONS[fired].format(d=counted(d, "day"), df=counted(df, "day"), escalations=escalations, pct=pct, **shared)
    if not np.isnan(t):
        return "revenue {pct} vs {ly} (within ±{declining:.0f}/{growing:.0f} %)".format(pct=pct, **shared)
    return "no revenue in {period} nor {ly}".format(**shared)


def _account_labels(accounts: pd.DataFrame | None, ids: pd.Index) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Name (the id when unnamed), segment and handover date per account, from the accounts table."""
    names = pd.Series(ids, index=ids, dtype="str")
    segment = pd.Series(None, index=ids, dtype="object")
    handover = pd.Series(None, index=ids, dtype="object")
    if accounts is not None and len(accounts):
        a = accounts.drop_duplicates("account_id").set_index("account_id")
        names = a["name"].reindex(ids).astype("str").where(a["name"].reindex(ids).notna(), names)
        if "segment" in a:
            segment = a["segment"].reindex(ids).astype("object")
            segment = segment.where(segment.notna(), None)
        if "handover_date" in a:
            hd = a["handover_date"].reindex(ids)
            handover = pd.Series([None if pd.isna(x) else pd.Timestamp(x).date() for x in hd], index=ids, dtype="object")
    return names, segment, handover


def new_logo_deals(deals: pd.DataFrame, lookback_months: int | None = None) -> np.ndarray:
    """Which deals are new logos: an account's first win, or its first win after ``lookback_months`` without one.

    The one "new logo" rule (measures2 group, issue #13 item 13; ``docs/commission.md``,
    "Plan shapes: measures from the deals"). A **win** is a ``won`` deal with a positive
    ``amount_cents`` (a return or a zero deal is not a win) on a known account (not
    ``(unassigned)``). A win is a **new logo** when its account has no earlier win in
    the data set, or, with ``lookback_months``, none that closed on or after the day
    ``lookback_months`` calendar months before its close date (a win-back after a year
    without a win counts again). "Earlier" is the order ``close_date`` then ``deal_id``
    (text order), so of two wins of a new account on one day the smaller id is the
    logo. Unlike account status's ``new`` (an account manager's first order with an
    account within ``new_within_days``), the rule is about the account, whoever sold
    it: a logo is new to the company. Who is credited for it is the crediting core's
    rule (the engine counts each credit line's share of the deal). The data set's
    history is the look-back's limit: an account whose earlier wins predate the data
    looks new.

    Parameters
    ----------
    deals : DataFrame
        ``deal_id``, ``account_id``, ``close_date``, ``amount_cents``, ``stage``
        (the canonical deals table: every deal, not only the run's periods, so that
        earlier wins are seen).
    lookback_months : int, optional
        Months (>= 1) without a win that make an account's next win a new logo again;
        ``None``: ever (only the account's first win in the data is a new logo).

    Returns
    -------
    numpy.ndarray
        bool, one per row of ``deals``.

    Examples
    --------
    >>> d = pd.DataFrame({"deal_id": ["1", "2", "3", "4"], "account_id": ["x", "x", "y", "x"],
    ...     "close_date": pd.to_datetime(["2024-01-10", "2024-02-01", "2024-02-01", "2025-03-01"]),
    ...     "amount_cents": [100, 100, 100, 100], "stage": ["won"] * 4})
    >>> new_logo_deals(d).tolist(), new_logo_deals(d, lookback_months=12).tolist()
    ([True, False, True, False], [True, False, True, True])
    """
    out = np.zeros(len(deals), dtype=bool)
    won = (
        deals["stage"].eq("won").to_numpy(dtype=bool, na_value=False)
        & (deals["amount_cents"].to_numpy(np.int64) > 0)
        & deals["account_id"].ne(UNASSIGNED_ACCOUNT).to_numpy(dtype=bool, na_value=False)
    )
    rows = np.flatnonzero(won)
    if not len(rows):
        return out
    account = pd.factorize(deals["account_id"].iloc[rows])[0]
    day = deals["close_date"].to_numpy("datetime64[ns]")[rows].astype("datetime64[D]")
    o = np.lexsort((day, account))  # by account, then close date (one day's wins: a group)
    a, d = account[o], day[o]
    first_of_account = np.r_[True, a[1:] != a[:-1]]
    start = np.flatnonzero(first_of_account | np.r_[True, d[1:] != d[:-1]])  # each (account, day) group
    new = first_of_account[start]
    if lookback_months is not None:  # or the previous win closed before the look-back's first day
        new |= ~new & (d[np.maximum(start - 1, 0)] < _months_before(d[start], int(lookback_months)))
    size = np.diff(np.r_[start, len(o)])
    logo = rows[o[start[new & (size == 1)]]].tolist()
    ids = deals["deal_id"]
    for g in np.flatnonzero(new & (size > 1)):  # one day's wins of a new account: the smallest deal id
        logo.append(min(rows[o[start[g] : start[g] + size[g]]].tolist(), key=lambda r: str(ids.iat[r])))
    out[logo] = True
    return out


def _months_before(days: np.ndarray, months: int) -> np.ndarray:
    """``days`` (datetime64[D]) minus ``months`` calendar months, the day of month clipped to the month's last."""
    month = days.astype("datetime64[M]")
    into = (days - month.astype("datetime64[D]")).astype(np.int64)
    back = month - months
    length = ((back + 1).astype("datetime64[D]") - back.astype("datetime64[D]")).astype(np.int64)
    return back.astype("datetime64[D]") + np.minimum(into, length - 1)


# -- a group's book of accounts: concentration and retention -------------------------

#: The top-N account counts of :func:`top_account_shares`.
TOP_ACCOUNTS: tuple[int, ...] = (1, 5, 10)

RETENTION_RULE = (
    "Revenue retention compares each account's revenue this year to date with the same span last year, "
    "over the accounts that had revenue last year (the standard SaaS definitions, e.g. KeyBanc Capital "
    "Markets' and SaaS Capital's retention surveys, applied to booked revenue instead of recurring revenue). "
    "Gross revenue retention (GRR) = the sum over those accounts of this year's revenue, capped at last "
    "year's, divided by last year's revenue: churn and contraction lower it, expansion does not count, so it "
    "is at most 100 %. Net revenue retention (NRR) = their revenue this year (expansion included, none below "
    "zero) divided by last year's. New accounts count in neither."
)
"""The retention rule in words, as the company report states it."""


def _by_account(deals: pd.DataFrame) -> pd.Series:
    """Exact micros per account of :func:`reportkit.domain.crediting.group_deal_micros` rows (int64, by account_id)."""
    if deals.empty:
        return pd.Series([], dtype="int64")
    return deals.groupby("account_id", sort=True)["micros"].sum().astype("int64")


def top_account_shares(
    credited: pd.DataFrame,
    members: list[str],
    start: datetime.date,
    end: datetime.date,
    tops: tuple[int, ...] = TOP_ACCOUNTS,
) -> pd.DataFrame:
    """Revenue concentration: the share of a group's revenue its top 1 / 5 / 10 accounts bring.

    Each deal credited to a member counts once
    (:func:`reportkit.domain.crediting.group_deal_micros`, the company revenue rule),
    summed per account exactly; accounts are ranked by that revenue (highest
    first, then account id).

    Parameters
    ----------
    credited : DataFrame
        :func:`reportkit.domain.crediting.credited_deals` rows.
    members : list of str
        Account manager ids of the group.
    start, end : date
        Close dates counted, inclusive (the company report: the fiscal year to date).
    tops : tuple of int
        How many top accounts each row counts.

    Returns
    -------
    DataFrame
        ``top`` (int, as asked), ``accounts`` (int: how many accounts that is, fewer
        when the group has fewer), ``revenue`` (Decimal: their exact revenue rounded
        once), ``share`` (float fraction of the group's revenue; NaN when that is
        zero or negative).

    Examples
    --------
    >>> c = pd.DataFrame({"deal_id": ["1", "2", "3"], "account_manager_id": ["A", "A", "B"],
    ...     "account_id": ["x", "y", "x"], "close_date": pd.to_datetime(["2025-01-02"] * 3),
    ...     "credit_micros": [30_000_000, 10_000_000, 60_000_000], "amount_micros": [30_000_000, 10_000_000, 60_000_000]})
    >>> top_account_shares(c, ["A", "B"], datetime.date(2025, 1, 1), datetime.date(2025, 12, 31), (1, 5))["share"].tolist()
    [0.9, 1.0]
    """
    acc = _by_account(group_deal_micros(credited, members, start, end))
    order = pd.DataFrame({"a": acc.index, "m": acc.to_numpy()}).sort_values(["m", "a"], ascending=[False, True], kind="stable")
    total = int(acc.sum())
    rows = []
    for n in tops:
        top = int(order["m"].head(n).sum())
        rows.append((n, min(n, len(order)), cents_to_money(int(micros_to_cents(top))), top / total if total > 0 else np.nan))
    return pd.DataFrame(
        {
            "top": pd.Series([r[0] for r in rows], dtype="int64"),
            "accounts": pd.Series([r[1] for r in rows], dtype="int64"),
            "revenue": pd.Series([r[2] for r in rows], dtype="object"),
            "share": pd.Series([r[3] for r in rows], dtype="float64"),
        }
    )


def revenue_retention(
    credited: pd.DataFrame,
    members: list[str],
    current: tuple[datetime.date, datetime.date],
    base: tuple[datetime.date, datetime.date],
) -> dict[str, object]:
    """Gross and net revenue retention of a group's accounts, ``current`` span against ``base`` span.

    The rule is :data:`RETENTION_RULE`: over the accounts with revenue above zero
    in ``base`` (the cohort), ``GRR = sum(min(max(current, 0), base)) / sum(base)``
    and ``NRR = sum(max(current, 0)) / sum(base)``. Revenue per account counts
    each deal credited to a member once (:func:`reportkit.domain.crediting.group_deal_micros`),
    exactly (micros); the money figures are rounded once.

    Parameters
    ----------
    credited : DataFrame
        :func:`reportkit.domain.crediting.credited_deals` rows.
    members : list of str
    current, base : (date, date)
        Inclusive close-date spans: this year to date and the same span one year earlier.

    Returns
    -------
    dict
        ``cohort_accounts`` (int), ``churned_accounts`` (int: cohort accounts with
        no revenue above zero now), ``base_revenue``, ``retained_revenue`` (capped
        at each account's base), ``cohort_revenue`` (the cohort's revenue now) as
        Decimal, ``grr`` and ``nrr`` (float fractions; None without a cohort).

    Examples
    --------
    >>> c = pd.DataFrame({"deal_id": ["1", "2", "3", "4"], "account_manager_id": ["A"] * 4,
    ...     "account_id": ["x", "y", "x", "y"],
    ...     "close_date": pd.to_datetime(["2024-02-01", "2024-03-01", "2025-02-01", "2025-03-01"]),
    ...     "credit_micros": [100_000_000, 100_000_000, 150_000_000, 50_000_000],
    ...     "amount_micros": [100_000_000, 100_000_000, 150_000_000, 50_000_000]})
    >>> r = revenue_retention(c, ["A"], (datetime.date(2025, 1, 1), datetime.date(2025, 6, 30)),
    ...                       (datetime.date(2024, 1, 1), datetime.date(2024, 6, 30)))
    >>> r["grr"], r["nrr"]
    (0.75, 1.0)
    """
    b = _by_account(group_deal_micros(credited, members, *base))
    b = b.loc[(b > 0).to_numpy()]
    now = _by_account(group_deal_micros(credited, members, *current)).reindex(b.index, fill_value=0).clip(lower=0)
    base_m, kept_m, now_m = int(b.sum()), int(np.minimum(now, b).sum()), int(now.sum())

    def money(m: int) -> object:
        return cents_to_money(int(micros_to_cents(m)))

    return {
        "cohort_accounts": len(b),
        "churned_accounts": int((now <= 0).sum()),
        "base_revenue": money(base_m),
        "retained_revenue": money(kept_m),
        "cohort_revenue": money(now_m),
        "grr": kept_m / base_m if base_m else None,
        "nrr": now_m / base_m if base_m else None,
    }
