"""Incentive-compensation engine: quotas per plan, rate schedules, ledger, statements.

It pays on the credit lines of the crediting core (:mod:`reportkit.domain.crediting`,
whose public names :func:`credit_deals`, :func:`credit_codes`,
:func:`check_crediting` and :data:`CREDIT_SOURCES` are re-exported here) and
splits quotas by :mod:`reportkit.domain.quota`.

Every commission figure of the reports comes from here: plan files, or the params
file's flat ``commission:`` policy compiled into a plan
(:func:`reportkit.domain.commission.flat_plan`). Every statement line is traceable to a
rule of a :class:`~reportkit.config.plans.Plan`.

Design (why it is fast and exact)
---------------------------------
All arithmetic runs vectorised on ``int64`` **cents**; rates and attainment
bounds are exact integers in parts per million (``0.08`` -> ``80000``). A line's
amount is ``credit_cents x rate_ppm / 1e6`` rounded **half away from zero** to
the cent in integer arithmetic (:func:`reportkit.core.money.rdiv`), which equals
``money.round_money(Decimal(credit) * rate)`` exactly. Per-(AM, period) totals
are sums of rounded lines (architecture.md, "A statement total is the sum of its
rounded lines"). Per-(AM, period) *credited revenue* (attainment, bonuses, the
summary's ``credit_cents``) is the exact sum of the credits' micros rounded once
(:func:`reportkit.core.money.micros_to_cents`), the figure the reports show. ``Decimal`` values are only materialised when a statement is
requested (:meth:`CommissionResult.statement`).

Order of a pay period's ledger (each step one or more statement lines)
--------------------------------------------------------------------------
1. ``commission``: credited deals through the rate schedule (one line per deal,
   or per tier slice of a deal under marginal tiers); ``true_up`` for YTD plans.
2. ``cap_carry_in`` / ``cap``: carried excess paid, excess above the cap removed.
3. ``spif``: SPIF lines (outside the cap).
4. ``bonus``: attainment bonuses (cash payable now; non-cash or deferred recorded
   with a payout date, ``payable=False``).
5. ``clawback``: deals paid in an earlier period and cancelled in this one.
6. ``adjustment``: manual adjustments.
7. ``balance_in``: a negative balance carried from the previous period.
8. ``draw`` / ``draw_recovery``: draw top-up or recovery of a recoverable draw.
9. ``balance_out``: a negative net carried forward (this period pays 0), unless
   the plan has ``carry_negative: false``.

The payout of a period is the sum of its ``payable`` lines.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..core.errors import DataError, DataProblem, OutputError, PlanError, did_you_mean
from ..data.model import SOURCE_FILE, SOURCE_ROW, Dataset
from ..core.money import MICROS_PER_CENT, check_exact_range, micros_to_cents, rdiv
from ..core.money import rdiv_inplace as _rdiv_inplace
from ..core.periods import _DAY_NS, FiscalCalendar, Period
from ..config.plans import PPM, Plan, PlanAssignments, ppm
from ._credit_core import (  # the crediting core (domain order: crediting -> quota -> engine)
    _NAT,
    _SOURCES,
    CREDIT_SOURCES,
    _arrow_str,
    _concat_excluded,
    _credit_codes,
    _Credits,
    _excluded_frame,
    _Ids,
    _lookup,
    _np,
    _take_str,
    check_crediting,
    credit_codes,
    credit_deals,
)
from .quota import split_pieces, split_year

__all__ = [
    "rdiv",
    "credit_deals",
    "check_crediting",
    "credit_codes",
    "CREDIT_SOURCES",
    "team_totals",
    "quota_table",
    "tier_commission",
    "compute",
    "CommissionResult",
    "Statements",
    "statements",
    "write_statement_csv",
    "STATEMENT_COLUMNS",
]

STATEMENT_COLUMNS = [
    "account_manager_id", "period", "line", "kind", "deal_id", "close_date", "product",
    "credit", "tier", "rate", "rule", "amount", "award", "payout_date", "payable",
]
"""Columns of a statement frame (money as ``Decimal`` quantized to 0.01, rate as ``Decimal`` fraction)."""

_KINDS = [
    "commission", "true_up", "cap_carry_in", "cap", "spif", "bonus", "clawback",
    "adjustment", "balance_in", "draw", "draw_recovery", "balance_out",
]
_KIND = {k: i for i, k in enumerate(_KINDS)}
_BIG = np.int64(2**62)
_LIMIT = 9 * 10**12  # cents; keeps cents x ppm inside int64


def _ceil_div(num, den):
    return -((-num) // den)


def _ordinals(dates, cal: FiscalCalendar, kind: str) -> np.ndarray:
    """Pay-period ordinal of each date: :meth:`reportkit.core.periods.FiscalCalendar.ordinals` (the one home)."""
    return cal.ordinals(dates, kind)


def team_totals(credits: pd.DataFrame, account_managers: pd.DataFrame) -> pd.DataFrame:
    """Team revenue without double counting overlays.

    A team's revenue is the sum of its members' ``revenue`` credits plus, for
    each deal credited to the team only through ``overlay`` credit (territory
    crediting, overlay splits), the deal amount **once** however many members it
    credits.

    Returns
    -------
    DataFrame
        ``team, revenue_cents, overlay_only_cents, total_cents`` (int64), each the
        exact sum (``credit_micros``, ``deal_amount_micros``) rounded to the cent once.
    """
    c = credits.merge(account_managers[["account_manager_id", "team"]], on="account_manager_id", how="inner")
    if "credit_micros" not in c.columns:  # a credits frame built by hand: its cents are exact
        c["credit_micros"] = c["credit_cents"].astype(np.int64) * MICROS_PER_CENT
    if "deal_amount_micros" not in c.columns:
        c["deal_amount_micros"] = c["deal_amount_cents"].astype(np.int64) * MICROS_PER_CENT
    rev = c.loc[c["kind"] == "revenue"].groupby("team")["credit_micros"].sum()
    has_rev = c.loc[c["kind"] == "revenue", ["team", "deal_id"]].drop_duplicates()
    ov = c.loc[c["kind"] == "overlay", ["team", "deal_id", "deal_amount_micros"]].drop_duplicates(["team", "deal_id"])
    ov = ov.merge(has_rev.assign(_r=True), on=["team", "deal_id"], how="left")
    ov = ov.loc[ov["_r"].isna()].groupby("team")["deal_amount_micros"].sum()
    teams = sorted(set(account_managers["team"]))
    out = pd.DataFrame({"team": teams})
    rev_m = out["team"].map(rev).fillna(0).astype(np.int64).to_numpy()
    ov_m = out["team"].map(ov).fillna(0).astype(np.int64).to_numpy()
    out["revenue_cents"] = micros_to_cents(rev_m)
    out["overlay_only_cents"] = micros_to_cents(ov_m)
    out["total_cents"] = micros_to_cents(rev_m + ov_m)
    return out


# ---------------------------------------------------------------------------
# quotas
# ---------------------------------------------------------------------------
def _tenure_month(h: datetime.date, d: datetime.date) -> int:
    return (d.year - h.year) * 12 + d.month - h.month - (1 if d.day < h.day else 0) + 1


def _add_months_same_day(h: datetime.date, n: int) -> datetime.date:
    m0 = h.year * 12 + h.month - 1 + n
    y, m = divmod(m0, 12)
    import calendar as _c
    return datetime.date(y, m + 1, min(h.day, _c.monthrange(y, m + 1)[1]))


def quota_table(
    account_managers: pd.DataFrame,
    quotas: pd.DataFrame | None,
    plan: Plan,
    periods: Sequence[Period],
    *,
    leaves: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Quota per AM and pay period after split, proration and ramp.

    Rules
    -----
    * Base quota: the quotas table split into pay periods by the one rule of
      :func:`reportkit.domain.quota.split_quotas` (the rule the reports show): rows
      inside a pay period add up; a longer row is split evenly by fiscal period
      (a quarterly row on a monthly plan gives a third to each month), or in
      proportion to days when it is not aligned to fiscal periods. With
      ``plan.quota.split: seasonal`` a whole-fiscal-year row (and
      ``plan.quota.annual`` with ``source: plan``) is split by the plan's
      weights instead (:func:`reportkit.domain.quota.split_year`). Splits use largest
      remainder so the parts sum to the row.
    * Proration and ramp: ``quota = base x W / D`` rounded half away from zero to
      the cent, where ``D`` is the period's days and ``W`` sums, over the period's
      days on which the AM is active (on or after ``hire_date``, on or before
      ``end_date``, not on a leave), the ramp factor of that day's tenure month
      (1 after the ramp). With ``proration: none`` every day counts as active.
      Linear in days (Xactly/QuotaPath-style daily proration; worked example: a
      hire on day 45 of a 90-day quarter is active 46 days -> 46/90 of quota).

    Parameters
    ----------
    account_managers : DataFrame
        ``account_manager_id, hire_date, end_date``.
    quotas : DataFrame or None
        Canonical quotas (``quota_cents`` >= 0).
    plan : Plan
    periods : list of Period
        Consecutive pay periods (``plan.period`` kind).
    leaves : DataFrame, optional
        ``account_manager_id, start, end`` (inclusive) leaves of absence.

    Returns
    -------
    DataFrame
        ``account_manager_id, period, period_start, period_end, days, active_days,
        base_quota_cents, quota_cents`` (int64), one row per AM and period.

    Raises
    ------
    DataError
        A negative quota.
    """
    ams = account_managers["account_manager_id"].astype(str).to_numpy(dtype=object)
    idx = {a: i for i, a in enumerate(ams)}
    A, P = len(ams), len(periods)
    base = np.zeros((A, P), dtype=np.int64)
    spec = plan.quota
    cal = periods[0].calendar if P else None
    weights = list(spec.seasonal_weights) if spec.split == "seasonal" else None
    if P and spec.source == "plan":
        parts = [c for _, c in split_year(Plan.cents(spec.annual), cal, periods[0].fiscal_year, plan.period, weights)]
        for j, p in enumerate(periods):
            base[:, j] = parts[p.number - 1]
    elif P and quotas is not None and len(quotas):
        qa = _lookup(quotas["account_manager_id"], ams)
        keep = np.flatnonzero(qa >= 0)
        qc = quotas["quota_cents"].to_numpy(np.int64)[keep]
        if (qc < 0).any():
            raise DataError("negative quota", [
                DataProblem("quotas", int(i) + 2, "quota_cents", int(qc[i]), "quotas must be >= 0")
                for i in np.flatnonzero(qc < 0)])
        # the one splitting rule (reportkit.domain.quota): rows inside a pay period add up, longer
        # rows are split evenly by fiscal period (or by the plan's seasonal weights for a year)
        row, o, c = split_pieces(quotas, cal, plan.period, year_weights=weights)
        j = o - periods[0].ordinal
        ok = (qa[row] >= 0) & (j >= 0) & (j < P)
        np.add.at(base, (qa[row[ok]], j[ok]), c[ok])

    hire = pd.to_datetime(account_managers["hire_date"]).to_numpy("datetime64[D]")
    endd = pd.to_datetime(account_managers["end_date"]).to_numpy("datetime64[D]")
    days = np.array([p.days for p in periods], dtype=np.int64)
    pst = np.array([np.datetime64(p.start, "D") for p in periods])
    pen = np.array([np.datetime64(p.end, "D") for p in periods])
    if spec.proration == "active_days":
        lo = np.where(np.isnat(hire)[:, None], pst[None, :], np.maximum(hire[:, None], pst[None, :]))
        hi = np.where(np.isnat(endd)[:, None], pen[None, :], np.minimum(endd[:, None], pen[None, :]))
        active = np.clip((hi - lo).astype(np.int64) + 1, 0, None)
        if leaves is not None and len(leaves):
            for a, ls, le in zip(leaves["account_manager_id"], pd.to_datetime(leaves["start"]).to_numpy("datetime64[D]"),
                                 pd.to_datetime(leaves["end"]).to_numpy("datetime64[D]")):
                r = idx.get(a)
                if r is None:
                    continue
                # overlap of the leave with the active window
                l2 = np.maximum(lo[r], ls)
                h2 = np.minimum(hi[r], le)
                active[r] -= np.clip((h2 - l2).astype(np.int64) + 1, 0, None)
    else:
        active = np.broadcast_to(days, (A, P)).copy()
    quota = rdiv(base * active, days[None, :]) if A else base.copy()

    if spec.ramp and A:
        ramp_ppm = [ppm(r) for r in spec.ramp]
        nr = len(ramp_ppm)
        leave_days: dict[int, set] = {}
        if leaves is not None and len(leaves):
            for a, ls, le in zip(leaves["account_manager_id"], pd.to_datetime(leaves["start"]).dt.date,
                                 pd.to_datetime(leaves["end"]).dt.date):
                if a in idx:
                    s = leave_days.setdefault(idx[a], set())
                    d = ls
                    while d <= le:
                        s.add(d)
                        d += datetime.timedelta(days=1)
        ramp_end = np.array([np.datetime64("NaT")] * A, dtype="datetime64[D]")
        hd = account_managers["hire_date"]
        for r in np.flatnonzero(~np.isnat(hire)):
            h = pd.Timestamp(hd.iloc[r]).date()
            ramp_end[r] = np.datetime64(_add_months_same_day(h, nr), "D")
        for j, p in enumerate(periods):
            touched = np.flatnonzero(~np.isnat(ramp_end) & (ramp_end > pst[j]) & (hire <= pen[j]))
            for r in touched:
                h = pd.Timestamp(hd.iloc[r]).date()
                e = None if np.isnat(endd[r]) else pd.Timestamp(endd[r]).date()
                w = 0
                d = p.start
                while d <= p.end:
                    act = spec.proration == "none" or (d >= h and (e is None or d <= e) and d not in leave_days.get(r, ()))
                    if act:
                        t = _tenure_month(h, d)
                        w += ramp_ppm[t - 1] if 1 <= t <= nr else PPM
                    d += datetime.timedelta(days=1)
                quota[r, j] = rdiv(int(base[r, j]) * w, int(days[j]) * PPM)

    out = pd.DataFrame({
        "account_manager_id": np.repeat(ams, P),
        "period": np.tile([p.label for p in periods], A),
        "period_start": np.tile(pst.astype("datetime64[ns]"), A),
        "period_end": np.tile(pen.astype("datetime64[ns]"), A),
        "days": np.tile(days, A),
        "active_days": active.reshape(-1),
        "base_quota_cents": base.reshape(-1),
        "quota_cents": np.asarray(quota, dtype=np.int64).reshape(-1),
    })
    return out


# ---------------------------------------------------------------------------
# rate schedules
# ---------------------------------------------------------------------------
def _bounds(plan: Plan, q: np.ndarray) -> np.ndarray:
    """Lower bounds in cents, shape (n, K); column 0 is -inf. ``q``: quota (cents) per line."""
    rs = plan.rates
    K = len(rs.tiers)
    n = len(q)
    b = np.empty((n, K), dtype=np.int64)
    b[:, 0] = -_BIG
    for k in range(1, K):
        if rs.basis == "amount":
            b[:, k] = Plan.cents(rs.tiers[k].lo)
        else:
            # smallest credit c with c / q >= lo  ->  ceil(lo_ppm x q / 1e6); undefined when q == 0
            b[:, k] = np.where(q > 0, _ceil_div(ppm(rs.tiers[k].lo) * q, PPM), _BIG)
    return b


def tier_commission(
    before: np.ndarray,
    after: np.ndarray,
    total: np.ndarray,
    bounds: np.ndarray,
    rates_ppm: np.ndarray,
    method: str,
    rows: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Apply a tier table to credit lines (vectorised, exact cents).

    Parameters
    ----------
    before, after : int64 arrays (n,)
        Accumulated basis (cents) before and after each line; the line's credit is
        ``after - before`` (negative for returns).
    total : int64 array (n,)
        Accumulated basis at the end of the accumulation window (retroactive:
        the tier reached).
    bounds : int64 array (n, K) or (1, K)
        Tier lower bounds in cents; column 0 is -inf. Half-open ``[lo, hi)``: a
        basis exactly on a bound is in the upper tier.
    rates_ppm : int64 array (K,)
    method : {"flat", "retroactive", "marginal"}
        ``flat``/``retroactive``: whole credit at the rate of the tier of ``total``.
        ``marginal``: the credit is cut at the bounds crossed between ``before`` and
        ``after``; each slice earns its tier's rate (one output line per slice).
    rows : int64 array (n,), optional
        Row of ``bounds`` for each line (``bounds`` then holds one bound set per
        AM x pay period instead of one per line).

    Returns
    -------
    line, tier, credit, rate_ppm, amount : int64 arrays
        ``line`` indexes the input (non-decreasing; slices of a line in tier
        order); ``amount = rdiv(credit x rate_ppm, 1e6)``.
    """
    n = len(before)
    if rows is not None and bounds.shape[0] == 1:
        rows = None
    if method != "marginal":
        k = _tier_of(total, bounds, rows).astype(np.int64)
        credit = after - before
        rate = rates_ppm[k]
        return np.arange(n), k, credit, rate, rdiv(credit * rate, PPM)
    line, k, credit, rate, amount = _marginal_slices(before, after, _tier_of(before, bounds, rows),
                                                     _tier_of(after, bounds, rows), bounds, rates_ppm, rows)
    return line, k.astype(np.int64), credit, rate.astype(np.int64), amount


def _bound_columns(bounds: np.ndarray, rows: np.ndarray | None) -> list[np.ndarray]:
    """Per-line lower bounds of tiers 2..K (column 0, -inf, is implied), each shape (n,)."""
    return [np.ascontiguousarray(bounds[:, k]) if rows is None else np.ascontiguousarray(bounds[:, k])[rows]
            for k in range(1, bounds.shape[1])]


def _tier_of(x: np.ndarray, bounds: np.ndarray, rows: np.ndarray | None = None,
             cols: list[np.ndarray] | None = None) -> np.ndarray:
    """0-based tier of each basis value ``x``: the number of bounds 2..K that are ``<= x``.

    ``bounds`` (1, K) is one table for every line; (m, K) one per line, or per
    ``rows[i]`` when given; ``cols`` are precomputed per-line bound columns.
    Returns int8 for fewer than 127 tiers (int64 otherwise).
    """
    K = bounds.shape[1]
    if bounds.shape[0] == 1:
        return np.searchsorted(bounds[0], x, side="right") - 1
    if cols is None:
        cols = _bound_columns(bounds, rows)
    t = np.zeros(len(x), dtype=np.int8 if K < 127 else np.int64)
    for col in cols:
        t += x >= col
    return t


def _marginal_slices(before, after, t_before, t_after, bounds, rates_ppm, rows=None):
    """Marginal tiers given each line's tier at ``before`` and ``after`` (see :func:`tier_commission`).

    A line whose two ends are in the same tier is one slice in that tier (the
    common case; a zero-credit line keeps the tier of its position). Only the
    other lines -- a bound lies in ``(min, max]`` of the line -- are cut at the
    bounds they cross; a line ending exactly on a bound stays one slice in the
    lower tier.
    """
    n = len(before)
    credit = after - before
    cand = np.flatnonzero(t_before != t_after)
    k = t_after.copy()
    if not len(cand):
        rate = rates_ppm[k]
        return np.arange(n), k, credit, rate, _rdiv_inplace(credit * rate, PPM)
    if bounds.shape[0] == 1:
        b = bounds
    else:
        b = bounds[cand] if rows is None else bounds[rows[cand]]
    upper = np.concatenate([b[:, 1:], np.full((b.shape[0], 1), _BIG)], axis=1)
    lo = np.minimum(np.maximum(before[cand][:, None], b), upper)
    hi = np.minimum(np.maximum(after[cand][:, None], b), upper)
    sl = hi - lo
    mr, mk = np.nonzero(sl != 0)  # row-major: slices of a line in tier order
    cnt_c = np.bincount(mr, minlength=len(cand))
    extra = cnt_c - 1
    if not extra.any():  # every candidate ends exactly on a bound: one slice each, lower tier
        k[cand[mr]] = mk
        line = np.arange(n)
    else:
        first = cand + np.cumsum(extra) - extra  # output position of each candidate's first slice
        within = np.arange(len(mr)) - (np.cumsum(cnt_c) - cnt_c)[mr]
        pos = first[mr] + within
        is_extra = np.zeros(n + int(extra.sum()), dtype=bool)
        is_extra[pos[within > 0]] = True
        line = np.arange(len(is_extra)) - np.cumsum(is_extra)  # input line of each output slice
        k = np.take(k, line)
        credit = np.take(credit, line)
        k[pos] = mk
        credit[pos] = sl[mr, mk]
    rate = rates_ppm[k]
    return line, k, credit, rate, _rdiv_inplace(credit * rate, PPM)


def _tier_rules(plan: Plan) -> list[str]:
    rs = plan.rates
    out = []
    for k, t in enumerate(rs.tiers):
        hi = rs.tiers[k + 1].lo if k + 1 < len(rs.tiers) else None
        unit = "" if rs.basis == "amount" else " of quota"
        rng = f"[{t.lo}, {hi if hi is not None else 'inf'}){unit}"
        lab = f" {t.label}" if t.label else ""
        out.append(f"{plan.name}: {rs.method} {rs.basis} tiers, {rs.accumulation}; tier {k + 1}{lab} {rng} at {t.rate}")
    return out


# ---------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------
def _money(c: int) -> Decimal:
    return Decimal(int(c)).scaleb(-2)


def _rate(p: int) -> Decimal | None:
    return None if p < 0 else (Decimal(int(p)) / PPM)


_AWARDS = ["", "cash", "non_cash", "deferred"]
_LINE_FIELDS = ("am", "p", "kind", "drow", "cdate", "credit", "has_credit", "tier", "rate", "rule", "amount",
                "award", "payout", "payable")


class CommissionResult:
    """Vectorised engine output; statements are materialised per AM on request.

    The engine keeps every line as integer numpy arrays (AM, period and deal as
    codes). The frames below are built from them on first access (and cached):
    only then are deal, AM and product ids looked up as strings.

    Attributes
    ----------
    account_managers : numpy object array
        AM ids; the AM code of a line indexes it.
    periods : list of Period
        The pay periods of the ledger.
    lines : DataFrame
        Every statement line in integer form: ``am (int code), p (period index),
        kind (code into _KINDS), deal_id, close_date, product, credit_cents,
        has_credit, tier (1-based, 0 none), rate_ppm (-1 none), rule (categorical),
        amount_cents, award, payout_date, payable``.
    n_lines : int
        Number of lines (without building ``lines``).
    summary : DataFrame
        One row per AM and period: ``account_manager_id, period, credit_cents,
        quota_cents, attainment (float, NaN if quota 0), ytd_credit_cents,
        ytd_quota_cents, ytd_attainment, commission_cents, payout_cents,
        deferred_cents, draw_balance_cents, plan``.
    credits, quotas, excluded : DataFrame
        Crediting and quota tables the lines were computed from.
    """

    def __init__(self, account_managers, periods, line_arrays, rule_cats, summary, credits, am_ids, deals,
                 quotas, excluded) -> None:
        self.account_managers = account_managers
        self.periods = periods
        self.summary = summary
        self.quotas = quotas
        self.excluded = excluded
        self._L = line_arrays
        self._rules = np.asarray(rule_cats, dtype=object)
        self._credits = credits  # _Credits, in ledger order
        self._am_ids = am_ids
        self._deals = deals
        self._lines_df: pd.DataFrame | None = None
        self._credits_df: pd.DataFrame | None = None
        self._order: np.ndarray | None = None
        self._starts: np.ndarray | None = None
        self._code = {a: i for i, a in enumerate(account_managers.tolist())}

    @property
    def n_lines(self) -> int:
        L = self._L
        return L.n if isinstance(L, _Lines) else len(L["am"])

    def _frame(self, rows: np.ndarray | None = None) -> pd.DataFrame:
        L = self._L
        if rows is None:
            def pick(a):
                return a.astype(np.int64, copy=False) if a.dtype != bool else a
        else:
            def pick(a):
                return a[rows].astype(np.int64, copy=False) if a.dtype != bool else a[rows]
        drow = pick(L["drow"])
        d = self._deals
        return pd.DataFrame({
            "am": pick(L["am"]), "p": pick(L["p"]), "kind": pick(L["kind"]),
            "deal_id": _take_str(d["deal_id"], drow),
            "close_date": pd.to_datetime(pick(L["cdate"]).view("datetime64[ns]")),
            "product": _take_str(d["product"], drow),
            "credit_cents": pick(L["credit"]), "has_credit": pick(L["has_credit"]),
            "tier": pick(L["tier"]), "rate_ppm": pick(L["rate"]),
            "rule": pd.Categorical.from_codes(pick(L["rule"]), categories=pd.Index(self._rules, dtype=object))
            if len(self._rules) else pd.Categorical([]),
            "amount_cents": pick(L["amount"]),
            "award": np.asarray(_AWARDS, dtype=object)[pick(L["award"])],
            "payout_date": pd.to_datetime(pick(L["payout"]).view("datetime64[ns]")),
            "payable": pick(L["payable"]),
        })

    @property
    def lines(self) -> pd.DataFrame:
        if self._lines_df is None:
            self._lines_df = self._frame()
        return self._lines_df

    @property
    def credits(self) -> pd.DataFrame:
        if self._credits_df is None:
            self._credits_df = self._credits.frame(self._deals, self._am_ids)
        return self._credits_df

    def _index(self) -> None:
        if self._order is None:
            am = self._L["am"]
            self._order = np.argsort(am, kind="stable")
            self._starts = np.searchsorted(am[self._order], np.arange(len(self.account_managers) + 1))

    def statement(self, account_manager_id: str, period: str | None = None) -> pd.DataFrame:
        """One AM's statement lines with ``Decimal`` money (columns :data:`STATEMENT_COLUMNS`).

        Lines are ordered by period, ledger step, close date and deal. ``period``
        (a pay-period label) restricts to that period.

        Raises
        ------
        KeyError
            Unknown account manager id.
        """
        code = self._code.get(account_manager_id)
        if code is None:
            raise KeyError(f"no statement for account manager {account_manager_id!r}")
        self._index()
        rows = self._order[self._starts[code]:self._starts[code + 1]]
        if period is not None:
            pi = [p.label for p in self.periods].index(period)
            rows = rows[self._L["p"][rows] == pi]
        x = self._frame(rows)
        x = x.sort_values(["p", "kind", "close_date", "deal_id", "tier"], kind="stable")
        labels = [p.label for p in self.periods]
        out = pd.DataFrame({
            "account_manager_id": account_manager_id,
            "period": [labels[i] for i in x["p"].tolist()],
            "line": np.arange(1, len(x) + 1),
            "kind": [_KINDS[i] for i in x["kind"].tolist()],
            "deal_id": pd.Series([None if pd.isna(v) else v for v in x["deal_id"].tolist()], dtype=object),
            "close_date": [None if pd.isna(d) else d.date() for d in x["close_date"]],
            "product": pd.Series([None if pd.isna(v) else v for v in x["product"].tolist()], dtype=object),
            "credit": [_money(c) if h else None for c, h in
                       zip(x["credit_cents"].tolist(), x["has_credit"].tolist())],
            "tier": pd.Series([None if t == 0 else t for t in x["tier"].tolist()], dtype=object),
            "rate": [_rate(r) for r in x["rate_ppm"].tolist()],
            "rule": x["rule"].astype(str).tolist(),
            "amount": [_money(c) for c in x["amount_cents"].tolist()],
            "award": x["award"].astype(str).tolist(),
            "payout_date": [None if pd.isna(d) else d.date() for d in x["payout_date"]],
            "payable": x["payable"].to_numpy(bool),
        }, columns=STATEMENT_COLUMNS)
        return out.reset_index(drop=True)

    def stand_in_credits(self, account_manager_id: str) -> dict[str, str]:
        """Deals crediting the AM as their owner in place of a blank or uncovered territory.

        Returns
        -------
        dict
            ``deal_id -> source`` (``"owner (territory not covered)"`` or
            ``"owner (no territory)"``); empty under owner crediting.
        """
        code = self._code.get(str(account_manager_id))
        cr = self._credits
        if code is None or not len(cr.source):
            return {}
        rows = np.flatnonzero((cr.am == code) & (cr.source >= _SOURCES.index("owner (territory not covered)")))
        if not len(rows):
            return {}
        return dict(zip(_take_str(self._deals["deal_id"], cr.drow[rows]).tolist(),
                        np.asarray(_SOURCES, dtype=object)[cr.source[rows]].tolist()))

    def payout(self, account_manager_id: str, period: str) -> Decimal:
        """Cash payable to the AM for ``period``: the sum of its payable rounded lines."""
        s = self.statement(account_manager_id, period)
        return sum(s.loc[s["payable"], "amount"], Decimal("0.00"))


class Statements(Mapping):
    """Lazy mapping ``account_manager_id -> statement DataFrame`` over a :class:`CommissionResult`."""

    def __init__(self, result: CommissionResult, period: str | None = None) -> None:
        self.result = result
        self.period = period

    def __getitem__(self, key: str) -> pd.DataFrame:
        return self.result.statement(key, self.period)

    def __iter__(self) -> Iterator[str]:
        return iter(self.result.account_managers.tolist())

    def __len__(self) -> int:
        return len(self.result.account_managers)


# ---------------------------------------------------------------------------
# the engine
# ---------------------------------------------------------------------------
class _LineBuf:
    """Statement lines collected as numpy column chunks (concatenated lazily, per column, on first use).

    Scalar columns of a chunk (``kind`` of a whole batch, defaults) stay scalars
    until a column is concatenated, so collecting 2 M lines copies nothing; array
    columns keep their integer dtype (tier as int8, rule and rate as int32), a
    concatenated column has the narrowest integer type of its chunks, and the
    frames built from it (:meth:`CommissionResult.statement`, ``lines``) widen
    the rows they show to int64.
    """

    DEFAULTS = dict(drow=-1, cdate=_NAT, credit=0, has_credit=False, tier=0, rate=-1, award=0, payout=_NAT, payable=True)

    def __init__(self) -> None:
        self.chunks: list[tuple[int, dict]] = []

    def add(self, **cols) -> None:
        n = len(cols["am"])
        if not n:
            return
        out = {}
        for f in _LINE_FIELDS:
            v = cols.get(f, self.DEFAULTS.get(f))
            # arrays keep their (possibly narrow) integer dtype; columns become int64 when concatenated
            out[f] = v if np.ndim(v) == 0 else np.asarray(v)
        self.chunks.append((n, out))

    def finish(self) -> "_Lines":
        return _Lines(self.chunks)


class _Lines(Mapping):
    """Line columns by name; each column is concatenated from the chunks when first read."""

    def __init__(self, chunks: list[tuple[int, dict]]) -> None:
        self._chunks = chunks
        self._cols: dict[str, np.ndarray] = {}
        self.n = sum(n for n, _ in chunks)

    def __getitem__(self, f: str) -> np.ndarray:
        if f not in self._cols:
            if f not in _LINE_FIELDS:
                raise KeyError(f)
            if f in ("has_credit", "payable"):
                dt = np.dtype(bool)
            else:  # the narrowest integer type holding every chunk (frames widen to int64)
                vals = [c[f] for _, c in self._chunks]
                dt = np.result_type(np.int8, *(v.dtype if np.ndim(v) else np.min_scalar_type(v) for v in vals))
            parts = [np.full(n, c[f], dtype=dt) if np.ndim(c[f]) == 0 else c[f] for n, c in self._chunks]
            self._cols[f] = np.concatenate(parts, dtype=dt) if parts else np.zeros(0, dtype=dt)
            if len(self._cols) == len(_LINE_FIELDS):
                self._chunks = []
        return self._cols[f]

    def __iter__(self) -> Iterator[str]:
        return iter(_LINE_FIELDS)

    def __len__(self) -> int:
        return len(_LINE_FIELDS)


# ---------------------------------------------------------------------------
# ledger order: (AM, close date, deal id string, crediting order) on integers
# ---------------------------------------------------------------------------
_U64_ONES = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
_TIE_GROUP_PAIRWISE = 32  # runs of equal (AM, date) up to this size are ranked pairwise


def _utf8_keys(values, rows: np.ndarray) -> list[np.ndarray]:
    """Integer sort keys of the strings ``values[rows]`` (no Python strings).

    Returns ``[w0, w1, ..., length]``: the UTF-8 bytes as big-endian ``uint64``
    words, zero padded, then the byte length (``int64``). Comparing these tuples
    lexicographically orders the strings exactly as ``str`` comparison does
    (UTF-8 byte order is code point order; a proper prefix is smaller because it
    is padded with zero bytes and is shorter). Nulls sort last.

    Parameters
    ----------
    values : str column or Arrow string array, shape (n,)
    rows : int64 array, shape (m,), indices into ``values``

    Returns
    -------
    list of numpy arrays, each shape (m,)
    """
    arr = _arrow_str(values)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.large_string())
    _, obuf, dbuf = arr.buffers()
    off = np.frombuffer(obuf, dtype=np.int64, count=len(arr) + 1, offset=8 * arr.offset)
    data = np.frombuffer(dbuf, dtype=np.uint8) if dbuf is not None else np.zeros(0, np.uint8)
    st = off[rows]
    ln = off[rows + 1] - st
    nw = max(1, int(-(-int(ln.max(initial=0)) // 8)))
    # only the bytes actually used, plus 8 zero bytes so every 8-byte window is in bounds
    hi = int((st + 8 * nw).max(initial=0))
    padded = np.zeros(hi + 8, dtype=np.uint8)
    used = min(len(data), hi)
    padded[:used] = data[:used]
    win = np.lib.stride_tricks.as_strided(padded, shape=(hi + 1, 8), strides=(1, 1))
    keys = []
    for w in range(nw):
        v = win[st + 8 * w].view(">u8").ravel().astype(np.uint64)
        r = np.minimum(ln - 8 * w, 8)  # bytes of this word that belong to the string (<= 0: none)
        shift = ((8 - np.maximum(r, 1)) * 8).astype(np.uint64)  # clear the bytes after the string
        v >>= shift
        v <<= shift
        if (r <= 0).any():
            v[r <= 0] = 0
        keys.append(v)
    keys.append(ln.astype(np.int64))
    if arr.null_count:
        null = _np(pc.is_null(arr))[rows]
        for k in keys[:-1]:
            k[null] = _U64_ONES
        keys[-1][null] = np.iinfo(np.int64).max
    return keys


def _tuple_less(keys: list[np.ndarray], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``keys[a] < keys[b]`` as tuples (lexicographic; the last key must be unique)."""
    res = keys[-1][a] < keys[-1][b]
    for k in reversed(keys[:-1]):
        ka, kb = k[a], k[b]
        res = (ka < kb) | ((ka == kb) & res)
    return res


def _rank_in_groups(keys: list[np.ndarray], gstart: np.ndarray, gsize: np.ndarray, gid: np.ndarray) -> np.ndarray:
    """Rank of each row inside its group by the tuple ``keys`` (all keys unique within a group).

    Groups are contiguous runs (``gstart``, ``gsize``; ``gid`` is each row's group). Small groups are ranked by
    comparing each pair of rows once (vectorised over all groups; the typical run of
    equal (AM, day) holds 2-3 lines); groups larger than ``_TIE_GROUP_PAIRWISE`` by
    one ``lexsort``.
    """
    m = len(keys[0])
    rank = np.zeros(m, dtype=np.int64)
    size_of = np.take(gsize, gid)
    rem = size_of - (np.arange(m) - np.take(gstart, gid)) - 1  # rows after this one in its group
    big = gsize > _TIE_GROUP_PAIRWISE
    if big.any():
        brows = np.flatnonzero(size_of > _TIE_GROUP_PAIRWISE)
        o = np.lexsort(tuple(k[brows] for k in reversed(keys)) + (gid[brows],))
        bs = gsize[big]
        rank[brows[o]] = np.arange(len(brows)) - np.repeat(np.cumsum(bs) - bs, bs)
        rem[brows] = 0
    act = np.flatnonzero(rem >= 1)
    d = 1
    while len(act):
        j = act + d
        less = _tuple_less(keys, j, act)  # the later row sorts before this one
        rank[act] += less
        rank[j] += ~less
        d += 1
        act = act[rem[act] >= d]
    return rank


def _ledger_order(am: np.ndarray, cdate: np.ndarray, drow: np.ndarray, deal_ids) -> np.ndarray:
    """Permutation putting credit lines in ledger order.

    Order: AM code, close date, deal id (string order, see :func:`_utf8_keys`),
    then the crediting order (input position). One value sort of
    ``(AM x day, position)`` packed in an int64 (midnight dates; else a
    ``lexsort`` on (AM, close date)); only the runs that tie on (AM, date) are
    then ordered by deal id, on integer keys of the id bytes.

    Parameters
    ----------
    am, cdate, drow : int64 arrays, shape (n,)
        AM code, close date (ns) and deal row of each line.
    deal_ids : str column
        The deals' ``deal_id`` (indexed by ``drow``).

    Returns
    -------
    int64 array, shape (n,)
    """
    n = len(am)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    rel = cdate - cdate.min()
    day = rel // _DAY_NS
    span = int(day.max()) + 1
    bits = max(1, int(n - 1).bit_length())
    if (rel == day * _DAY_NS).all() and (int(am.max()) + 1) * span < 2 ** (62 - bits):
        # sort (AM x day, input position) packed in one int64: a plain value sort (SIMD),
        # stable by construction, that also yields the sorted keys
        packed = np.sort(((am * span + day) << bits) | np.arange(n, dtype=np.int64))
        order = packed & ((1 << bits) - 1)
        ks = packed >> bits
        eq = ks[1:] == ks[:-1]
    else:
        order = np.lexsort((cdate, am))
        a_s, c_s = am[order], cdate[order]
        eq = (a_s[1:] == a_s[:-1]) & (c_s[1:] == c_s[:-1])
    if not eq.any():
        return order
    tie = np.zeros(n, dtype=bool)
    tie[1:] = eq
    tie[:-1] |= eq
    tpos = np.flatnonzero(tie)
    sub = order[tpos]
    first = np.ones(len(tpos), dtype=bool)
    first[1:] = ~eq[tpos[1:] - 1]
    gstart = np.flatnonzero(first)
    gsize = np.diff(np.r_[gstart, len(tpos)])
    gid = np.cumsum(first) - 1
    keys = _utf8_keys(deal_ids, drow[sub])
    if int(keys[-1].max()) < 2**22 and n < 2**40:  # byte length and input position in one key
        keys[-1] = (keys[-1] << 40) | sub
    else:
        keys.append(sub)
    rank = _rank_in_groups(keys, gstart, gsize, gid)
    out = np.empty(len(tpos), dtype=np.int64)
    out[np.take(gstart, gid) + rank] = sub
    order[tpos] = out
    return order


def _sum_into(size: int, flat: np.ndarray, vals: np.ndarray) -> np.ndarray:
    """Exact int64 ``bincount``: sums of ``vals`` per key ``flat`` in ``0..size-1`` (sorted segments + reduceat)."""
    out = np.zeros(size, dtype=np.int64)
    if not len(flat):
        return out
    if len(flat) > 1 and (flat[1:] < flat[:-1]).any():
        o = np.argsort(flat, kind="stable")
        flat, vals = flat[o], vals[o]
    start = np.flatnonzero(np.r_[True, flat[1:] != flat[:-1]])
    out[flat[start]] = np.add.reduceat(np.asarray(vals, np.int64), start)
    return out


def _segment_cumsum(key: np.ndarray, vals: np.ndarray) -> np.ndarray:
    """Running sum of ``vals`` within runs of equal ``key`` (``key`` grouped contiguously)."""
    if not len(vals):
        return np.zeros(0, np.int64)
    cs = np.cumsum(vals)
    first = np.r_[True, key[1:] != key[:-1]]
    seg = np.flatnonzero(first)
    segid = np.cumsum(first) - 1
    return cs - (cs[seg] - vals[seg])[segid]


def _where(frame: pd.DataFrame, i: int, name: str) -> tuple[str, int]:
    """(file, row) of row ``i`` of an input frame: its ``_source_file`` / ``_source_row``
    columns when it was read from a file, else the frame's name and ``i + 2`` (as in a
    CSV with a header row)."""
    file = str(frame[SOURCE_FILE].iloc[i]) if SOURCE_FILE in frame.columns else name
    row = int(frame[SOURCE_ROW].iloc[i]) if SOURCE_ROW in frame.columns else i + 2
    return file, row


def _whole_cents(frame: pd.DataFrame, column: str, name: str,
                 blank_means: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Exact integer cents of ``frame[column]`` (int64) and a mask of blank cells.

    A cell is an integer (``1250`` = 12.50), a whole-number ``Decimal`` or text
    (``"1250"``), or a float that holds a whole number exactly (a nullable integer
    column read into float64). Nothing is truncated or rounded: a fraction of a
    cent, a non-number or (unless ``blank_means`` says what a blank means) a blank
    is a :class:`DataError` naming the file, row, column, value and the fix.
    """
    vals = frame[column].tolist()
    out = np.zeros(len(vals), dtype=np.int64)
    blank = np.zeros(len(vals), dtype=bool)
    problems = []
    fix = (f"write {column} as whole cents (1250 = 12.50)"
           + (f"; leave it empty when {blank_means}" if blank_means else ""))
    for i, v in enumerate(vals):
        if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, (float, np.floating)) and np.isnan(v)) \
                or (isinstance(v, str) and not v.strip()):
            if blank_means is None:
                problems.append(DataProblem(*_where(frame, i, name), column, None, f"{column} is required; {fix}"))
            blank[i] = True
            continue
        d = None
        if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)):
            d = Decimal(int(v))
        elif isinstance(v, (float, np.floating)):
            d = Decimal(float(v)) if np.isfinite(v) and abs(v) < 2**53 else None
        elif isinstance(v, (Decimal, str)):
            try:
                d = Decimal(str(v).strip())
            except ArithmeticError:
                d = None
        if d is None or not d.is_finite() or d != d.to_integral_value() or abs(d) > _LIMIT:
            why = ("a fraction of a cent" if d is not None and d.is_finite() and d != d.to_integral_value()
                   else "not a whole number of cents within the engine's range")
            problems.append(DataProblem(*_where(frame, i, name), column, v, f"{why}: {fix}"))
            continue
        out[i] = int(d)
    if problems:
        raise DataError(f"{name}: {len(problems)} amount(s) are not exact cents", problems,
                        hint=f"{column} is integer cents, never a float to be rounded")
    return out, blank


def _check_adjustment_targets(adj: pd.DataFrame, am_code: Mapping[str, int], labels: list[str]) -> None:
    """Refuse adjustments naming an account manager or a pay period this run does not compute."""
    problems = []
    span = f"{labels[0]} .. {labels[-1]}" if len(labels) > 1 else labels[0]
    for i, (a, per) in enumerate(zip(adj["account_manager_id"].tolist(), adj["period"].tolist())):
        if a is None or str(a) not in am_code:
            problems.append(DataProblem(
                *_where(adj, i, "adjustments"), "account_manager_id", a,
                f"account manager {a!r} is not in account_managers{did_you_mean(str(a), am_code)}; "
                "correct the id (ids are text: '00731' is not '731') or add the person to the roster"))
        if per is None or str(per) not in labels:
            problems.append(DataProblem(
                *_where(adj, i, "adjustments"), "period", per,
                f"pay period {per!r} is not computed by this run (pay periods {span})"
                f"{did_you_mean(str(per), labels)}; correct the label, or run with since=/period= covering it"))
    if problems:
        raise DataError(f"adjustments: {len(problems)} row(s) name an unknown account manager or pay period",
                        problems, hint="an adjustment that matches nobody is never skipped silently")


def compute(
    ds: Dataset,
    plans: Plan | Mapping[str, Plan],
    period: str,
    *,
    assignments: PlanAssignments | None = None,
    splits: pd.DataFrame | None = None,
    cancellations: pd.DataFrame | None = None,
    adjustments: pd.DataFrame | None = None,
    leaves: pd.DataFrame | None = None,
    since: str | None = None,
    source_mapping: str | Path | None = None,
) -> CommissionResult:
    """Run the engine for every AM over the pay periods from ``since`` to ``period``.

    Parameters
    ----------
    ds : Dataset
        Canonical tables (deals, quotas, account_managers; accounts for handoff,
        territories for territory crediting).
    plans : Plan or mapping name -> Plan
        One plan for everybody, or several selected per AM and pay period by
        ``assignments`` (the plan in effect on the period's last day).
    period : str
        Last pay period (``FY2025-Q3``) or a fiscal year (``FY2025``: through its last period).
    assignments : PlanAssignments, optional
        Required when ``plans`` is a mapping with more than one plan.
    splits : DataFrame, optional
        ``deal_id, account_manager_id, share, kind`` (see :func:`credit_deals`).
    cancellations : DataFrame, optional
        ``deal_id, cancel_date, amount_cents`` (magnitude cancelled in integer
        cents, read exactly: never through a float or truncated; NA = whole deal).
        In the deal's own period it is a negative credit; in a later period a
        clawback per ``plan.clawback``.
    adjustments : DataFrame, optional
        ``account_manager_id, period, amount_cents, reason`` manual adjustments
        (integer cents); each must name an account manager of ``ds`` and a pay
        period of this run.
    leaves : DataFrame, optional
        ``account_manager_id, start, end`` leaves of absence (quota proration).
    since : str, optional
        First pay period of the ledger; default the first period of ``period``'s
        fiscal year. YTD accumulation, year caps and draws run from here.
    source_mapping : str or Path, optional
        The mapping file ``ds`` came from, named when a plan's crediting
        disagrees with the data set's (:func:`check_crediting`).

    Returns
    -------
    CommissionResult

    Raises
    ------
    PlanError
        Plans disagree on pay period; a plan's crediting disagrees with the data
        set's (:func:`check_crediting`); currency mismatch; missing assignments.
    PeriodError
        Bad period label.
    DataError
        Bad splits, negative quotas, amounts beyond the exact-integer range;
        cancellation or adjustment amounts that are not whole cents; adjustments
        naming an unknown account manager or a pay period outside the run (each
        problem with file or frame, row, column, value and the fix).
    """
    if isinstance(plans, Plan):
        plan_list, names = [plans], [plans.name]
    else:
        names = list(plans)
        plan_list = [plans[n] for n in names]
        if not plan_list:
            raise PlanError("no plans given")
    kinds = {p.period for p in plan_list}
    if len(kinds) > 1:
        raise PlanError(f"plans mix pay periods {sorted(kinds)}; one run needs one pay period kind")
    kind = kinds.pop()
    method, handoff = check_crediting(plan_list, ds, source_mapping=source_mapping)
    for p in plan_list:
        if p.currency != ds.currency:
            raise PlanError(f"plan {p.name!r} is in {p.currency} but the data is in {ds.currency}")
    if len(plan_list) > 1 and assignments is None:
        raise PlanError("several plans need assignments (which AM is on which plan when)")
    cal = ds.calendar
    target = Period.parse(period, cal)
    last = cal.period_of(target.end, kind)
    first = Period.parse(since, cal) if since else Period(cal, "year", last.fiscal_year)
    first = cal.period_of(first.start, kind)
    o0, o1 = first.ordinal, last.ordinal
    periods = [cal.period_of_ordinal(o, kind) for o in range(o0, o1 + 1)]
    P = len(periods)
    pyear = np.array([p.fiscal_year for p in periods])
    year_start = np.r_[True, pyear[1:] != pyear[:-1]]
    year_end = np.r_[pyear[1:] != pyear[:-1], True] & np.array([p.number == (4 if kind == "quarter" else 12) for p in periods])
    labels = [p.label for p in periods]

    ams_df = ds.account_managers.reset_index(drop=True)
    ams = ams_df["account_manager_id"].astype(str).to_numpy(dtype=object)
    A = len(ams)
    ids = _Ids(ams)
    am_code = {a: i for i, a in enumerate(ams.tolist())}

    # plan per (am, period)
    if len(plan_list) == 1 and assignments is None:
        pidx = np.zeros((A, P), dtype=np.int64)
    else:
        pidx = np.full((A, P), -1, dtype=np.int64)
        pos = {n: i for i, n in enumerate(names)}
        for a in assignments.assignments:
            if a.plan not in pos:
                raise PlanError(f"assignment of {a.account_manager_id!r} names unknown plan {a.plan!r}",
                                hint=f"allowed: {', '.join(names)}")
        # only AMs named in an assignment have a plan (plan_for_period is None for the others)
        for am in sorted({a.account_manager_id for a in assignments.assignments}):
            i = am_code.get(am)
            if i is None:
                continue
            for j, p in enumerate(periods):
                n = assignments.plan_for_period(am, p.start, p.end)
                if n is not None:
                    pidx[i, j] = pos[n]

    # ---- crediting (integer codes from here on)
    deals = ds.deals.reset_index(drop=True)
    amount_all = deals["amount_cents"].to_numpy(np.int64)
    cr, excl = _credit_codes(deals, ids, splits=splits, accounts=ds.accounts, territories=ds.territories,
                             method=method, handoff=handoff)
    unknown = cr.am >= A
    if unknown.any():
        u = np.flatnonzero(unknown)
        excl.append(_excluded_frame(deals, cr.drow[u], ids.strings()[cr.am[u]], cr.credit[u], cr.cdate[u],
                                    "credited account manager is not in account_managers"))
        cr = cr.take(np.flatnonzero(~unknown))
    excluded = _concat_excluded(excl)
    if len(cr.credit) and (np.abs(cr.credit) > _LIMIT).any():
        raise DataError(f"credit amounts beyond {_LIMIT} cents are outside the engine's exact range")
    check_exact_range(cr.exact, "credited deals")

    # cancellations
    claw = None
    if cancellations is not None and len(cancellations):
        cx = cancellations.reset_index(drop=True)
        cx_date = pd.to_datetime(cx["cancel_date"]).to_numpy("datetime64[ns]").view(np.int64)
        if "amount_cents" in cx:
            cx_amt, cx_whole = _whole_cents(cx, "amount_cents", "cancellations", blank_means="the whole deal is cancelled")
        else:
            cx_amt, cx_whole = np.zeros(len(cx), np.int64), np.ones(len(cx), dtype=bool)
        cx_drow = _lookup(cx["deal_id"], deals["deal_id"]) if len(deals) else np.full(len(cx), -1)
        # credits x cancellations on the deal (inner merge, credits order)
        cand = np.flatnonzero(np.isin(cr.drow, cx_drow[cx_drow >= 0]))
        if len(cand):
            mm = pd.DataFrame({"drow": cr.drow[cand], "ci": cand}).merge(
                pd.DataFrame({"drow": cx_drow, "xi": np.arange(len(cx))}), on="drow", how="inner")
            ci, xi = mm["ci"].to_numpy(np.int64), mm["xi"].to_numpy(np.int64)
        else:
            ci = xi = np.zeros(0, np.int64)
        dam = amount_all[cr.drow[ci]]
        whole_x = cx_whole[xi]
        cancel_cents = np.where(whole_x, np.abs(dam), cx_amt[xi]).astype(np.int64)
        cdate_x = cx_date[xi]
        cp = _ordinals(cdate_x.view("datetime64[ns]"), cal, kind)
        dp = _ordinals(cr.cdate[ci].view("datetime64[ns]"), cal, kind)
        den = np.abs(dam)
        cancel_credit = -np.sign(dam) * rdiv(cancel_cents * np.abs(cr.credit[ci]), np.where(den == 0, 1, den))
        # a whole-deal cancellation takes back the exact credit; a partial one its whole cents
        cancel_exact = np.where(whole_x, -cr.exact[ci], cancel_credit * MICROS_PER_CENT)
        same = cp == dp
        if same.any():
            s_ = ci[same]
            neg = _Credits(cr.drow[s_], cr.am[s_], cdate_x[same], cancel_credit[same], cr.share[s_], cr.kind[s_],
                           np.full(int(same.sum()), 4, np.int8), cancel_exact[same])
            cr = _Credits.concat([cr, neg])
        later = cp > dp
        claw = dict(drow=cr.drow[ci[later]], am=cr.am[ci[later]], cdate=cr.cdate[ci[later]], cp=cp[later],
                    cancel_cents=cancel_cents[later], cancel_credit=cancel_credit[later], dam=dam[later],
                    cancel_date=cdate_x[later])

    c_ord = cal.ordinals(cr.cdate, kind)
    inside = (c_ord >= o0) & (c_ord <= o1)
    if not inside.all():
        cr = cr.take(np.flatnonzero(inside))
        c_ord = c_ord[inside]
    # ledger order: AM, period, close date, deal id (string order), then crediting order
    n_c = len(cr.credit)
    order = _ledger_order(cr.am, cr.cdate, cr.drow, deals["deal_id"])
    cr = cr.take(order)
    c_p = c_ord[order] - o0
    c_am, cdate, credit = cr.am, cr.cdate, cr.credit
    one_plan = len(plan_list) == 1 and assignments is None  # every line on plan 0
    c_flat = c_am * P + c_p  # sorted
    c_plan = None if one_plan else pidx.reshape(-1)[c_flat]
    # runs of equal (AM, period): the segments of the per-period sums
    seg = np.flatnonzero(np.r_[True, c_flat[1:] != c_flat[:-1]]) if n_c else np.zeros(0, np.int64)
    seg_len = np.diff(np.r_[seg, n_c])

    # ---- quotas (per plan, combined by pidx)
    Q = np.zeros((A, P), dtype=np.int64)
    qframes = []
    for g, pl in enumerate(plan_list):
        if not (pidx == g).any():
            continue
        qt = quota_table(ams_df, ds.quotas, pl, periods, leaves=leaves)
        qv = qt["quota_cents"].to_numpy(np.int64).reshape(A, P)
        Q = np.where(pidx == g, qv, Q)
        qt["plan"] = names[g]
        qframes.append(qt.loc[(pidx == g).reshape(-1)])
    quotas_out = pd.concat(qframes, ignore_index=True) if qframes else pd.DataFrame()
    # credited revenue per (AM, period) and year to date: exact sums of micros rounded once
    # (money.micros_to_cents), the same figures the reports show; lines stay in cents
    cred_ap = np.zeros(A * P, dtype=np.int64)
    if n_c:
        cred_ap[c_flat[seg]] = np.add.reduceat(cr.exact, seg)
    cred_ap = cred_ap.reshape(A, P)
    ycum = np.zeros_like(cred_ap)
    yq = np.zeros_like(Q)
    for j in range(P):
        ycum[:, j] = cred_ap[:, j] + (0 if year_start[j] else ycum[:, j - 1])
        yq[:, j] = Q[:, j] + (0 if year_start[j] else yq[:, j - 1])
    cred_ap, ycum = micros_to_cents(cred_ap), micros_to_cents(ycum)

    def att(c, q):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(q > 0, c / np.where(q > 0, q, 1), np.nan)

    # ---- commission lines per plan
    buf = _LineBuf()
    comm_ap = np.zeros((A, P), dtype=np.int64)
    spif_ap = np.zeros((A, P), dtype=np.int64)
    rule_cats: list[str] = []
    rule_pos: dict[str, int] = {}

    def rule_codes(strings: list[str]) -> list[int]:
        out = []
        for s in strings:
            if s not in rule_pos:
                rule_pos[s] = len(rule_cats)
                rule_cats.append(s)
            out.append(rule_pos[s])
        return out

    paid_batches = []  # (line rows, amounts) of commission lines, for clawbacks at the rate paid
    # AM and period codes in narrow types for the per-line columns (widened when a frame is built)
    am_narrow = c_am.astype(np.int32) if len(ids.strings()) < 2**31 else c_am
    p_narrow = c_p.astype(np.int16) if P < 2**15 else c_p
    for g, pl in enumerate(plan_list):
        whole = one_plan  # the plan covers every line: no selection copies
        sel = np.arange(n_c) if whole else np.flatnonzero(c_plan == g)
        if not len(sel):
            continue
        rs = pl.rates
        rates = np.array([ppm(t.rate) for t in rs.tiers], dtype=np.int32)  # ppm <= 1e6
        tcodes = np.array(rule_codes(_tier_rules(pl)), dtype=np.int32)
        gate_code = rule_codes([f"{pl.name}: below gate {rs.gate} attainment: nothing earned"])[0] if rs.gate is not None else -1
        cr_s = credit if whole else credit[sel]
        am_s, p_s = (c_am, c_p) if whole else (c_am[sel], c_p[sel])

        def run(idx_rows, before, after, total, qline, attline_c, attline_q, qtab=None, qidx=None, sliced=None):
            bi = None
            if sliced is not None:  # per-period marginal: tiers of both ends already known
                rows, k, cc, rate, amt = sliced
            else:
                if rs.basis != "attainment":
                    b = _bounds(pl, np.zeros(1, np.int64))
                elif qtab is not None:  # one bound set per AM x pay period, looked up per line
                    b, bi = _bounds(pl, qtab), qidx
                else:
                    b = _bounds(pl, qline)
                rows, k, cc, rate, amt = tier_commission(before, after, total, b, rates, rs.method, rows=bi)
            rc = tcodes[k]
            if rs.gate is not None:
                q = attline_q[rows]
                below = (q > 0) & (attline_c[rows] * PPM < ppm(rs.gate) * q)
                rate = np.where(below, 0, rate)
                amt = np.where(below, 0, amt)
                rc = np.where(below, gate_code, rc)
            same = len(rows) == len(idx_rows)  # one slice per line: rows is the identity
            return (idx_rows if same else idx_rows[rows]), k, cc, rate, amt, rc

        if rs.accumulation == "per_deal":
            mag = np.abs(cr_s)
            sgn = np.where(cr_s < 0, -1, 1)
            z = np.zeros_like(mag)
            r_, k, cc, rate, amt, rc = run(sel, z, mag, mag, None, cred_ap[am_s, p_s], Q[am_s, p_s])
            s2 = sgn[np.searchsorted(sel, r_)]
            cc, amt = cc * s2, amt * s2
            batches = [(r_, k, cc, rate, amt, rc, _KIND["commission"], whole and len(r_) == n_c)]
        elif rs.accumulation == "per_period":
            if whole:
                f_s, st, sl_ = c_flat, seg, seg_len
            else:
                f_s = c_flat[sel]
                st = np.flatnonzero(np.r_[True, f_s[1:] != f_s[:-1]])
                sl_ = np.diff(np.r_[st, len(f_s)])
            # running credit within each (AM, period) segment (int64 wrap-around cancels out)
            seg_of = np.repeat(np.arange(len(st), dtype=np.int32), sl_)  # segment of each line
            cum = np.cumsum(cr_s)
            cum -= np.take(cum[st] - cr_s[st], seg_of)
            before = cum - cr_s
            qs = Q.reshape(-1)[f_s] if rs.gate is not None else None
            sliced = None
            if rs.method == "marginal":
                # bounds per segment, repeated per line; the tier before a line is the tier
                # after the previous line of its segment (0 credit at the segment start)
                bseg = _bounds(pl, Q.reshape(-1)[f_s[st]]) if rs.basis == "attainment" else _bounds(pl, np.zeros(1, np.int64))
                if bseg.shape[0] == 1:
                    t_a = _tier_of(cum, bseg)
                    t0 = np.full(len(st), _tier_of(np.zeros(1, np.int64), bseg)[0], dtype=t_a.dtype)
                    bl, brow = bseg, None
                else:
                    t_a = np.zeros(len(cum), dtype=np.int8 if bseg.shape[1] < 127 else np.int64)
                    bound = np.empty(len(cum), dtype=np.int64)
                    for c_ in _bound_columns(bseg, None):
                        t_a += cum >= np.take(c_, seg_of, out=bound)
                    del bound
                    t0 = _tier_of(np.zeros(len(st), np.int64), bseg)
                    bl, brow = bseg, seg_of
                t_b = np.empty_like(t_a)
                t_b[1:] = t_a[:-1]
                t_b[st] = t0
                sliced = _marginal_slices(before, cum, t_b, t_a, bl, rates, brow)
                total = None
            else:
                total = cred_ap.reshape(-1)[f_s]
            tot_line = total if total is not None else (cred_ap.reshape(-1)[f_s] if rs.gate is not None else None)
            r_, k, cc, rate, amt, rc = run(sel, before, cum, total, qs, tot_line, qs, qtab=Q.reshape(-1), qidx=f_s,
                                           sliced=sliced)
            batches = [(r_, k, cc, rate, amt, rc, _KIND["commission"], whole and len(r_) == n_c)]
        else:  # ytd with true-up
            yr = pyear[p_s]
            cum = _segment_cumsum(am_s * 10000 + yr, cr_s)
            before = cum - cr_s
            batches = []
            prev_e = np.zeros(A, dtype=np.int64)
            for j in range(P):
                if year_start[j]:
                    prev_e[:] = 0
                m = (p_s <= j) & (yr == pyear[j])
                if not m.any():
                    continue
                ii = np.flatnonzero(m)
                aa = am_s[ii]
                r_, k, cc, rate, amt, rc = run(sel[ii], before[ii], cum[ii], ycum[aa, j], yq[aa, j], ycum[aa, j], yq[aa, j])
                cur = c_p[r_] == j
                batches.append((r_[cur], k[cur], cc[cur], rate[cur], amt[cur], rc[cur], _KIND["commission"], False))
                e_now = _sum_into(A, c_am[r_], amt)
                prior = _sum_into(A, c_am[r_[~cur]], amt[~cur])
                tu = prior - prev_e
                prev_e = e_now
                act = np.flatnonzero((tu != 0) & (pidx[:, j] == g))
                if len(act):
                    code = rule_codes([f"{pl.name}: YTD true-up: earlier deals of the year re-rated at the "
                                       f"year-to-date tier, minus commission already earned on them"])[0]
                    buf.add(am=act, p=j, kind=_KIND["true_up"], amount=tu[act], rule=code)
                    comm_ap[act, j] += tu[act]
        for r_, k, cc, rate, amt, rc, kd, ident in batches:  # ident: r_ is every credit line once, in order
            comm_ap += _sum_into(A * P, c_flat if ident else c_flat[r_], amt).reshape(A, P)
            paid_batches.append((r_, amt))
            buf.add(am=c_am if ident else np.take(am_narrow, r_), p=c_p if ident else np.take(p_narrow, r_), kind=kd,
                    drow=cr.drow if ident else np.take(cr.drow, r_), cdate=cdate if ident else np.take(cdate, r_), credit=cc,
                    has_credit=True, tier=k + 1, rate=rate, rule=rc, amount=amt)

        # SPIFs (outside the cap)
        for sp in pl.spifs:
            m = (True if one_plan else c_plan == g) & (cdate >= np.datetime64(sp.start, "ns").astype(np.int64)) & \
                (cdate <= np.datetime64(sp.end, "ns").astype(np.int64))
            if sp.products is not None:
                ok = _lookup(deals["product"], list(sp.products)) >= 0 if len(deals) else np.zeros(0, bool)
                m &= ok[cr.drow]
            ii = np.flatnonzero(m)
            if not len(ii):
                continue
            if sp.rate is not None:
                amt = rdiv(credit[ii] * ppm(sp.rate), PPM)
                rate = ppm(sp.rate)
                txt = f"{pl.name}: SPIF {sp.name!r}: {sp.rate} of credit on {', '.join(sp.products or ['all products'])} closed {sp.start}..{sp.end}"
            else:
                amt = np.sign(credit[ii]) * Plan.cents(sp.amount_per_deal)
                rate = -1
                txt = f"{pl.name}: SPIF {sp.name!r}: {sp.amount_per_deal} per deal on {', '.join(sp.products or ['all products'])} closed {sp.start}..{sp.end}"
            spif_ap += _sum_into(A * P, c_flat[ii], amt).reshape(A, P)
            buf.add(am=c_am[ii], p=c_p[ii], kind=_KIND["spif"], drow=cr.drow[ii], cdate=cdate[ii], credit=credit[ii],
                    has_credit=True, tier=0, rate=rate, rule=rule_codes([txt])[0], amount=amt, award=1)

    # ---- per period ledger
    summary_cols = {k: np.zeros((A, P), dtype=np.int64) for k in
                    ["cap", "spif", "bonus_cash", "deferred", "clawback", "adjustment", "draw", "recovery", "payout", "balance"]}

    # clawbacks per (am, period)
    claw_ap = np.zeros((A, P), dtype=np.int64)
    if claw is not None and len(claw["drow"]):
        # commission paid per (deal, AM) in this ledger
        ckey = cr.drow * (len(ids.strings()) + 1) + c_am
        wkey = claw["drow"] * (len(ids.strings()) + 1) + claw["am"]
        inset = np.flatnonzero(np.isin(ckey, wkey))
        row_paid = np.zeros(n_c, dtype=np.int64)
        for r_, amt in paid_batches:
            row_paid += _sum_into(n_c, r_, amt)
        paid_by = pd.Series(row_paid[inset]).groupby(ckey[inset]).sum()
        paid_w = paid_by.reindex(wkey).to_numpy(dtype=float)
        for t in range(len(wkey)):
            j = int(claw["cp"][t]) - o0
            i = int(claw["am"][t])
            if not 0 <= j < P or i >= A:
                continue
            gg = pidx[i, j]
            pl = plan_list[gg] if gg >= 0 else plan_list[0]
            cb = pl.clawback
            days = int((claw["cancel_date"][t] - claw["cdate"][t]) // _DAY_NS)
            cc = int(claw["cancel_credit"][t])
            dam_t, canc_t = int(claw["dam"][t]), int(claw["cancel_cents"][t])
            if cb.method == "none":
                amt, txt, rate = 0, f"{pl.name}: clawback method none: cancellation not clawed back", -1
            elif cb.window_days is not None and days > cb.window_days:
                amt, txt, rate = 0, f"{pl.name}: cancelled {days} days after close, outside the {cb.window_days}-day clawback window", -1
            elif cb.method == "plan_rate":
                rate = ppm(cb.rate)
                amt, txt = rdiv(cc * rate, PPM), f"{pl.name}: clawback at plan rate {cb.rate} of the cancelled credit"
            elif np.isnan(paid_w[t]):
                rate = ppm(pl.rates.tiers[0].rate)
                amt = rdiv(cc * rate, PPM)
                txt = f"{pl.name}: clawback: deal paid before the ledger start; tier 1 rate {pl.rates.tiers[0].rate}"
            else:
                paid = int(paid_w[t])
                den = abs(dam_t) or 1
                amt = -rdiv(paid * canc_t, den) if dam_t >= 0 else rdiv(paid * canc_t, den)
                rate = -1
                txt = (f"{pl.name}: clawback at the rate paid: commission paid {_money(paid)} x cancelled "
                       f"{_money(canc_t)} / deal {_money(dam_t)}")
            claw_ap[i, j] += amt
            buf.add(am=[i], p=j, kind=_KIND["clawback"], drow=int(claw["drow"][t]), cdate=int(claw["cdate"][t]),
                    credit=cc, has_credit=True, rate=rate, rule=rule_codes([txt])[0], amount=amt)

    adj_ap = np.zeros((A, P), dtype=np.int64)
    if adjustments is not None and len(adjustments):
        adj = adjustments.reset_index(drop=True)
        adj_cents, _ = _whole_cents(adj, "amount_cents", "adjustments")
        _check_adjustment_targets(adj, am_code, labels)
        for a, per, amt, why in zip(adj["account_manager_id"], adj["period"], adj_cents, adj["reason"]):
            i, j = am_code[str(a)], labels.index(str(per))
            adj_ap[i, j] += int(amt)
            buf.add(am=[i], p=j, kind=_KIND["adjustment"], rule=rule_codes([f"manual adjustment: {why}"])[0],
                    amount=int(amt))

    G = len(plan_list)

    def attr(fn, default):
        return np.array([fn(p) for p in plan_list] + [default], dtype=np.int64)

    cap_amt = attr(lambda p: Plan.cents(p.cap.amount) if p.cap else -1, -1)
    cap_year = attr(lambda p: 1 if p.cap and p.cap.per == "year" else 0, 0)
    cap_carry = attr(lambda p: 1 if p.cap and p.cap.carry_excess else 0, 0)
    draw_amt = attr(lambda p: Plan.cents(p.draw.amount) if p.draw else 0, 0)
    draw_rec = attr(lambda p: 1 if p.draw and p.draw.recoverable else 0, 0)
    draw_lim = attr(lambda p: ppm(p.draw.recovery_limit) if p.draw else PPM, PPM)
    carry_neg = attr(lambda p: 1 if p.carry_negative else 0, 1)
    carry = np.zeros(A, dtype=np.int64)
    cap_paid_y = np.zeros(A, dtype=np.int64)
    balance = np.zeros(A, dtype=np.int64)
    neg_in = np.zeros(A, dtype=np.int64)
    misc = []  # (am array, j, kind, amounts, rule code, award, payout_date, payable)
    for j in range(P):
        g = np.where(pidx[:, j] >= 0, pidx[:, j], G)
        if year_start[j]:
            cap_paid_y[:] = 0
        earned = comm_ap[:, j]
        # cap
        cap = cap_amt[g]
        has_cap = cap >= 0
        cin = np.where(cap_carry[g] == 1, carry, 0)
        avail = earned + cin
        room = np.where(cap_year[g] == 1, np.maximum(cap - cap_paid_y, 0), cap)
        pay = np.where(has_cap & (avail > room), room, avail)
        excess = avail - pay
        carry = np.where(cap_carry[g] == 1, excess, 0)
        cap_paid_y += np.maximum(pay, 0)
        summary_cols["cap"][:, j] = -excess
        for gi in range(G):
            pl = plan_list[gi]
            if pl.cap is None:
                continue
            mg = g == gi
            r1 = np.flatnonzero(mg & (cin != 0))
            if len(r1):
                misc.append((r1, j, "cap_carry_in", cin[r1], f"{pl.name}: cap excess carried in from earlier periods", "", None, True))
            r2 = np.flatnonzero(mg & (excess != 0))
            if len(r2):
                what = "carried to later periods" if pl.cap.carry_excess else "forfeited"
                misc.append((r2, j, "cap", -excess[r2], f"{pl.name}: cap {pl.cap.amount} per {pl.cap.per}: excess {what}", "", None, True))
        # bonuses
        bonus_cash = np.zeros(A, dtype=np.int64)
        for gi, pl in enumerate(plan_list):
            mg = g == gi
            for b in pl.bonuses:
                if b.per == "period":
                    c, q = cred_ap[:, j], Q[:, j]
                else:
                    if not year_end[j]:
                        continue
                    c, q = ycum[:, j], yq[:, j]
                hit = np.flatnonzero(mg & (q > 0) & (c * PPM >= ppm(b.attainment_at_least) * q))
                if not len(hit):
                    continue
                pdate = periods[j].end + datetime.timedelta(days=b.payout_after_days)
                payable = b.award == "cash" and b.payout_after_days == 0
                amt = np.full(len(hit), Plan.cents(b.amount))
                scope = "period" if b.per == "period" else "year-to-date"
                txt = (f"{pl.name}: bonus {b.name!r}: {scope} attainment >= {b.attainment_at_least} "
                       f"({b.award}{'' if payable else (' to ' if b.award == 'deferred' else ', deferred to ') + pdate.isoformat()})")
                misc.append((hit, j, "bonus", amt, txt, b.award, pdate, payable))
                if payable:
                    bonus_cash[hit] += amt
                else:
                    summary_cols["deferred"][hit, j] += amt
        E = pay + spif_ap[:, j] + bonus_cash + claw_ap[:, j] + adj_ap[:, j] + neg_in
        r0 = np.flatnonzero(neg_in != 0)
        if len(r0):
            misc.append((r0, j, "balance_in", neg_in[r0], "negative balance carried from the previous period", "", None, True))
        # draws
        in_draw = np.zeros(A, dtype=bool)
        for gi, pl in enumerate(plan_list):
            if pl.draw is None:
                continue
            ok = (pl.draw.start is None or pl.draw.start <= periods[j].start) and (pl.draw.end is None or periods[j].start <= pl.draw.end)
            if ok:
                in_draw |= g == gi
        dp = np.where(in_draw, draw_amt[g], 0)
        topup = np.where(in_draw & (E < dp), dp - E, 0)
        rec_room = np.where(draw_rec[g] == 1, rdiv(np.maximum(E - dp, 0) * draw_lim[g], PPM), 0)
        recovery = np.minimum(balance, rec_room)
        balance = balance + np.where(draw_rec[g] == 1, topup, 0) - recovery
        for gi, pl in enumerate(plan_list):
            if pl.draw is None:
                continue
            mg = g == gi
            r1 = np.flatnonzero(mg & (topup != 0))
            kindtxt = "recoverable" if pl.draw.recoverable else "non-recoverable"
            if len(r1):
                misc.append((r1, j, "draw", topup[r1], f"{pl.name}: {kindtxt} draw of {pl.draw.amount}: top-up to the draw", "", None, True))
            r2 = np.flatnonzero(mg & (recovery != 0))
            if len(r2):
                lim = "" if pl.draw.recovery_limit == 1 else f" (at most {pl.draw.recovery_limit} of earnings above the draw)"
                misc.append((r2, j, "draw_recovery", -recovery[r2], f"{pl.name}: recovery of the outstanding draw balance{lim}", "", None, True))
        net = E + topup - recovery
        neg = np.where(carry_neg[g] == 1, np.minimum(net, 0), 0)  # carried to the next period
        r3 = np.flatnonzero(neg < 0)
        if len(r3):
            misc.append((r3, j, "balance_out", -neg[r3], "negative balance carried forward to the next period", "", None, True))
        neg_in = neg
        summary_cols["spif"][:, j] = spif_ap[:, j]
        summary_cols["bonus_cash"][:, j] = bonus_cash
        summary_cols["clawback"][:, j] = claw_ap[:, j]
        summary_cols["adjustment"][:, j] = adj_ap[:, j]
        summary_cols["draw"][:, j] = topup
        summary_cols["recovery"][:, j] = -recovery
        summary_cols["payout"][:, j] = net - neg
        summary_cols["balance"][:, j] = balance

    award_code = {a: i for i, a in enumerate(_AWARDS)}
    for r, j, kd, amt, txt, award, pdate, payable in misc:
        buf.add(am=r, p=j, kind=_KIND[kd], amount=np.asarray(amt, np.int64), rule=rule_codes([txt])[0],
                award=award_code[award], payout=_NAT if pdate is None else np.datetime64(pdate, "ns").astype(np.int64),
                payable=payable)

    L = buf.finish()

    summary = pd.DataFrame({
        "account_manager_id": np.repeat(ams, P),
        "period": np.tile(labels, A),
        "plan": [names[g] if g >= 0 else None for g in pidx.reshape(-1)],
        "credit_cents": cred_ap.reshape(-1),
        "quota_cents": Q.reshape(-1),
        "attainment": att(cred_ap, Q).reshape(-1),
        "ytd_credit_cents": ycum.reshape(-1),
        "ytd_quota_cents": yq.reshape(-1),
        "ytd_attainment": att(ycum, yq).reshape(-1),
        "commission_cents": comm_ap.reshape(-1),
        "cap_cents": summary_cols["cap"].reshape(-1),
        "spif_cents": summary_cols["spif"].reshape(-1),
        "bonus_cash_cents": summary_cols["bonus_cash"].reshape(-1),
        "deferred_cents": summary_cols["deferred"].reshape(-1),
        "clawback_cents": summary_cols["clawback"].reshape(-1),
        "adjustment_cents": summary_cols["adjustment"].reshape(-1),
        "draw_cents": summary_cols["draw"].reshape(-1),
        "draw_recovery_cents": summary_cols["recovery"].reshape(-1),
        "payout_cents": summary_cols["payout"].reshape(-1),
        "draw_balance_cents": summary_cols["balance"].reshape(-1),
    })
    return CommissionResult(ams, periods, L, rule_cats, summary, cr, ids.strings(), deals, quotas_out, excluded)


def statements(
    ds: Dataset,
    plans: Plan | Mapping[str, Plan],
    period: str,
    **kwargs,
) -> Statements:
    """Per-AM commission statements for ``period`` (the library face of ``reportkit statement``).

    Runs :func:`compute` (keyword arguments as there) and returns a lazy mapping
    ``account_manager_id -> DataFrame`` with :data:`STATEMENT_COLUMNS`: every line
    with deal, credit, tier, rate, rule and amount (``Decimal`` 0.01, rounded half
    away from zero per line). When ``period`` is a pay period the statement holds
    that period's lines; for a fiscal year, all its periods. The statement's
    payout is the sum of its ``payable`` lines. The underlying
    :class:`CommissionResult` is ``.result``.
    """
    res = compute(ds, plans, period, **kwargs)
    p = Period.parse(period, ds.calendar)
    return Statements(res, p.label if p.kind == res.periods[-1].kind else None)


def write_statement_csv(statement: pd.DataFrame, path: str | Path) -> Path:
    """Write a statement frame as UTF-8 CSV: money as plain decimals (``1234.50``), dates ISO.

    Raises
    ------
    OutputError
        The file cannot be written.
    """
    path = Path(path)
    out = statement.copy()
    for c in ("credit", "rate", "amount"):
        if c in out:
            out[c] = [("" if v is None else str(v)) for v in out[c]]
    for c in ("close_date", "payout_date"):
        if c in out:
            out[c] = [("" if v is None or pd.isna(v) else v.isoformat()) for v in out[c]]
    try:
        out.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    except OSError as exc:
        raise OutputError(f"cannot write statement {str(path)!r}: {exc.strerror}") from None
    return path
