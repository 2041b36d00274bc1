"""Incentive-compensation engine: crediting, quotas, rate schedules, ledger, statements.

This is the full engine that will replace the flat-rate :mod:`reportkit.commission`.
Every statement line is traceable to a rule of a :class:`~reportkit.plans.Plan`.

Design (why it is fast and exact)
---------------------------------
All arithmetic runs vectorised on ``int64`` **cents**; rates and attainment
bounds are exact integers in parts per million (``0.08`` -> ``80000``). A line's
amount is ``credit_cents x rate_ppm / 1e6`` rounded **half away from zero** to
the cent in integer arithmetic (:func:`rdiv`), which equals
``money.round_money(Decimal(credit) * rate)`` exactly. Per-(AM, period) totals
are sums of rounded lines (architecture.md, "A statement total is the sum of its
rounded lines"). ``Decimal`` values are only materialised when a statement is
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
9. ``balance_out``: a negative net carried forward (this period pays 0).

The payout of a period is the sum of its ``payable`` lines.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np
import pandas as pd

from .errors import DataError, DataProblem, OutputError, PlanError
from .model import Dataset
from .money import allocate
from .periods import FiscalCalendar, Period
from .plans import PPM, Plan, PlanAssignments, ppm

__all__ = [
    "rdiv",
    "credit_deals",
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


# ---------------------------------------------------------------------------
# exact integer rounding
# ---------------------------------------------------------------------------
def rdiv(num, den):
    """``num / den`` rounded to an integer half away from zero, exactly (integers only).

    Parameters
    ----------
    num : int or numpy int64 array
    den : int or int64 array, > 0

    Examples
    --------
    >>> rdiv(5, 2), rdiv(-5, 2), rdiv(7, 3)
    (3, -3, 2)
    """
    if isinstance(num, (int, np.integer)) and isinstance(den, (int, np.integer)):
        num, den = int(num), int(den)
        q = (2 * abs(num) + den) // (2 * den)
        return q if num >= 0 else -q
    num = np.asarray(num, dtype=np.int64)
    a = np.abs(num)
    q = (2 * a + den) // (2 * den)
    return np.where(num < 0, -q, q)


def _ceil_div(num, den):
    return -((-num) // den)


# ---------------------------------------------------------------------------
# periods
# ---------------------------------------------------------------------------
def _ordinals(dates: pd.Series | np.ndarray, cal: FiscalCalendar, kind: str) -> np.ndarray:
    """Absolute pay-period ordinal of each date (month ordinal, or quarter ordinal), fiscal-aligned."""
    m = np.asarray(dates, dtype="datetime64[ns]").astype("datetime64[M]").astype(np.int64) + 1970 * 12
    f = m - (cal.first_month - 1)
    return f if kind == "month" else f // 3


def _period_of_ordinal(o: int, cal: FiscalCalendar, kind: str) -> Period:
    f = o if kind == "month" else o * 3
    fy = f // 12 + (1 if cal.first_month > 1 else 0)
    fm = f % 12 + 1
    return Period(cal, kind, fy, fm if kind == "month" else (fm - 1) // 3 + 1)


def _ordinal_of_period(p: Period, kind: str) -> int:
    d = np.array([np.datetime64(p.start, "ns")])
    return int(_ordinals(d, p.calendar, kind)[0])


# ---------------------------------------------------------------------------
# crediting
# ---------------------------------------------------------------------------
def _isin(values, allowed) -> np.ndarray:
    """Fast exact membership for id columns (hash lookup on object arrays)."""
    idx = pd.Index(np.asarray(allowed, dtype=object))
    return idx.get_indexer(np.asarray(values, dtype=object)) >= 0


def _shares_ppm(values: pd.Series, file: str = "splits") -> np.ndarray:
    """Split shares (str, Decimal or float as written) -> exact integer ppm; each distinct value parsed once."""
    codes, uniques = pd.factorize(pd.Series(values, dtype=object).map(str))
    table = np.empty(len(uniques), dtype=np.int64)
    bad = []
    for u, v in enumerate(uniques):
        try:
            d = Decimal(v)
            p = d * PPM
            if not d.is_finite() or p != p.to_integral_value() or d < 0 or d > 1:
                raise ValueError
            table[u] = int(p)
        except Exception:
            bad.append(u)
    if bad or (codes < 0).any():
        problems = [DataProblem(file, int(i) + 2, "share", values.iloc[i], "share must be a fraction 0..1 with at most 6 decimals")
                    for i in np.flatnonzero(np.isin(codes, bad) | (codes < 0))]
        raise DataError("split shares are invalid", problems)
    return table[codes]


def credit_deals(
    deals: pd.DataFrame,
    *,
    splits: pd.DataFrame | None = None,
    accounts: pd.DataFrame | None = None,
    territories: pd.DataFrame | None = None,
    method: str = "owner",
    handoff: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Credit won deals to account managers, before any rate applies.

    Rules
    -----
    * ``owner``: the deal's ``account_manager_id`` gets 100 % as ``revenue`` credit.
    * Splits (``deal_id, account_manager_id, share, kind``): the revenue splits of a
      deal replace the owner credit and must total exactly 1; their cents are
      allocated by largest remainder (:func:`reportkit.money.allocate`) so the
      parts sum to the deal. ``overlay`` splits are extra credit (need not total 1),
      each rounded half away from zero.
    * ``territory``: every AM assigned to the deal's territory gets the full deal
      as ``overlay`` credit (the same sale credits several people).
    * Handoff: with ``handoff`` and an ``accounts`` table, a deal closed before its
      account's ``handover_date`` is not credited (revenue from business
      development before the handover does not count).
    * Negative amounts (returns, cancellations booked as deals) give negative credit.

    Parameters
    ----------
    deals : DataFrame
        Canonical deals (model.COLUMNS["deals"]); only ``stage == "won"`` rows count.
    splits, accounts, territories : DataFrame, optional
    method : {"owner", "territory"}
    handoff : bool

    Returns
    -------
    credits : DataFrame
        ``deal_id, account_manager_id, account_id, close_date, product, deal_amount_cents,
        credit_cents (int64), share_ppm (int64), kind ("revenue"|"overlay"), source``.
    excluded : DataFrame
        Deals not credited with a ``reason`` column (handoff, no owner, no territory AM).

    Raises
    ------
    DataError
        Revenue splits of a deal not totalling 1; split shares not fractions;
        split rows for unknown deals.
    """
    d = deals.loc[deals["stage"] == "won", ["deal_id", "account_manager_id", "account_id", "close_date",
                                             "amount_cents", "territory", "product"]]
    excluded = []
    if handoff and accounts is not None and "handover_date" in accounts:
        ho = d["account_id"].map(accounts.set_index("account_id")["handover_date"])
        before = (ho.notna() & (d["close_date"] < ho)).to_numpy()
        if before.any():
            x = d.loc[before, ["deal_id", "account_manager_id", "close_date", "amount_cents"]].copy()
            x["reason"] = "closed before the account's handover date (business development)"
            excluded.append(x)
            d = d.loc[~before]

    parts = []
    if method == "territory":
        if territories is None:
            raise DataError("territory crediting needs a territories table (account_manager_id, territory)")
        m = d.drop(columns="account_manager_id").merge(territories[["territory", "account_manager_id"]],
                                                       on="territory", how="left")
        none = m["account_manager_id"].isna().to_numpy()
        if none.any():
            x = m.loc[none, ["deal_id", "account_manager_id", "close_date", "amount_cents"]].copy()
            x["reason"] = "no account manager covers the deal's territory"
            excluded.append(x)
            m = m.loc[~none]
        c = pd.DataFrame({
            "deal_id": m["deal_id"].to_numpy(), "account_manager_id": m["account_manager_id"].to_numpy(),
            "account_id": m["account_id"].to_numpy(), "close_date": m["close_date"].to_numpy(),
            "product": m["product"].to_numpy(), "deal_amount_cents": m["amount_cents"].to_numpy(np.int64),
            "credit_cents": m["amount_cents"].to_numpy(np.int64), "share_ppm": np.full(len(m), PPM, np.int64),
            "kind": "overlay", "source": "territory",
        })
        parts.append(c)
        d_owner = d.iloc[0:0]
    else:
        d_owner = d

    split_rev_deals = np.array([], dtype=object)
    if splits is not None and len(splits):
        s = splits[["deal_id", "account_manager_id", "share", "kind"]].reset_index(drop=True)
        bad_kind = pd.Series(~_isin(s["kind"], ["revenue", "overlay"]))
        if bad_kind.any():
            raise DataError("split kind must be 'revenue' or 'overlay'", [
                DataProblem("splits", int(i) + 2, "kind", s.at[i, "kind"], "allowed: revenue, overlay")
                for i in np.flatnonzero(bad_kind.to_numpy())])
        s["share_ppm"] = _shares_ppm(s["share"])
        unknown = pd.Series(~_isin(s["deal_id"], deals["deal_id"]))
        if unknown.any():
            raise DataError("split rows name deals that do not exist", [
                DataProblem("splits", int(i) + 2, "deal_id", s.at[i, "deal_id"], "no such deal")
                for i in np.flatnonzero(unknown.to_numpy())])
        rev = s.loc[s["kind"] == "revenue"]
        tot = rev.groupby("deal_id", sort=False)["share_ppm"].sum()
        badt = tot[tot != PPM]
        if len(badt):
            raise DataError("revenue splits must total 100% per deal (overlay splits need not)", [
                DataProblem("splits", None, "share", f"{k}: {Decimal(int(v)) / PPM}", "revenue shares of this deal must sum to 1")
                for k, v in badt.items()])
        split_rev_deals = tot.index.to_numpy()
        sd = s.merge(d_owner.drop(columns="account_manager_id"), on="deal_id", how="inner")
        if len(sd):
            amt = sd["amount_cents"].to_numpy(np.int64)
            w = sd["share_ppm"].to_numpy(np.int64)
            isrev = (sd["kind"] == "revenue").to_numpy()
            credit = np.zeros(len(sd), np.int64)
            # overlay: each share rounded half away from zero
            credit[~isrev] = rdiv(amt[~isrev] * w[~isrev], PPM)
            # revenue: largest remainder so parts sum to the deal (money.allocate, vectorised)
            if isrev.any():
                r = sd.loc[isrev, ["deal_id"]].copy()
                mag = np.abs(amt[isrev])
                exact = mag * w[isrev]
                fl = exact // PPM
                rem = exact % PPM
                r["fl"], r["rem"], r["pos"] = fl, rem, np.arange(len(r))
                r["left"] = mag - r.groupby("deal_id", sort=False)["fl"].transform("sum").to_numpy()
                r = r.sort_values(["deal_id", "rem", "pos"], ascending=[True, False, True], kind="stable")
                r["rank"] = r.groupby("deal_id", sort=False).cumcount()
                r = r.sort_values("pos")
                parts_mag = r["fl"].to_numpy() + (r["rank"].to_numpy() < r["left"].to_numpy())
                credit[isrev] = np.where(amt[isrev] < 0, -parts_mag, parts_mag)
            parts.append(pd.DataFrame({
                "deal_id": sd["deal_id"].to_numpy(), "account_manager_id": sd["account_manager_id"].to_numpy(),
                "account_id": sd["account_id"].to_numpy(), "close_date": sd["close_date"].to_numpy(),
                "product": sd["product"].to_numpy(), "deal_amount_cents": amt, "credit_cents": credit,
                "share_ppm": w, "kind": np.where(isrev, "revenue", "overlay"),
                "source": np.where(isrev, "split", "overlay split"),
            }))

    if len(d_owner):
        own = d_owner.loc[~_isin(d_owner["deal_id"], split_rev_deals)]
        none = own["account_manager_id"].isna().to_numpy()
        if none.any():
            x = own.loc[none, ["deal_id", "account_manager_id", "close_date", "amount_cents"]].copy()
            x["reason"] = "deal has no owner"
            excluded.append(x)
            own = own.loc[~none]
        parts.append(pd.DataFrame({
            "deal_id": own["deal_id"].to_numpy(), "account_manager_id": own["account_manager_id"].to_numpy(),
            "account_id": own["account_id"].to_numpy(), "close_date": own["close_date"].to_numpy(),
            "product": own["product"].to_numpy(), "deal_amount_cents": own["amount_cents"].to_numpy(np.int64),
            "credit_cents": own["amount_cents"].to_numpy(np.int64), "share_ppm": np.full(len(own), PPM, np.int64),
            "kind": "revenue", "source": "owner",
        }))
    cols = ["deal_id", "account_manager_id", "account_id", "close_date", "product", "deal_amount_cents",
            "credit_cents", "share_ppm", "kind", "source"]
    credits = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)
    credits["close_date"] = pd.to_datetime(credits["close_date"])
    exc = pd.concat(excluded, ignore_index=True) if excluded else pd.DataFrame(
        columns=["deal_id", "account_manager_id", "close_date", "amount_cents", "reason"])
    return credits[cols], exc


def team_totals(credits: pd.DataFrame, account_managers: pd.DataFrame) -> pd.DataFrame:
    """Team revenue without double counting overlays.

    A team's revenue is the sum of its members' ``revenue`` credits plus, for
    each deal credited to the team only through ``overlay`` credit (territory
    crediting, overlay splits), the deal amount **once** however many members it
    credits.

    Returns
    -------
    DataFrame
        ``team, revenue_cents, overlay_only_cents, total_cents`` (int64).
    """
    c = credits.merge(account_managers[["account_manager_id", "team"]], on="account_manager_id", how="inner")
    rev = c.loc[c["kind"] == "revenue"].groupby("team")["credit_cents"].sum()
    has_rev = c.loc[c["kind"] == "revenue", ["team", "deal_id"]].drop_duplicates()
    ov = c.loc[c["kind"] == "overlay", ["team", "deal_id", "deal_amount_cents"]].drop_duplicates(["team", "deal_id"])
    ov = ov.merge(has_rev.assign(_r=True), on=["team", "deal_id"], how="left")
    ov = ov.loc[ov["_r"].isna()].groupby("team")["deal_amount_cents"].sum()
    teams = sorted(set(account_managers["team"]))
    out = pd.DataFrame({"team": teams})
    out["revenue_cents"] = out["team"].map(rev).fillna(0).astype(np.int64)
    out["overlay_only_cents"] = out["team"].map(ov).fillna(0).astype(np.int64)
    out["total_cents"] = out["revenue_cents"] + out["overlay_only_cents"]
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
    * Base quota: the quotas table rows (a row covering a whole fiscal year is
      split into pay periods by ``plan.quota.split``; other rows count in the pay
      period containing their ``period_start``), or ``plan.quota.annual`` split
      the same way. Splits use largest remainder so parts sum to the annual quota.
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
    ams = account_managers["account_manager_id"].astype(str).to_numpy()
    idx = {a: i for i, a in enumerate(ams)}
    A, P = len(ams), len(periods)
    base = np.zeros((A, P), dtype=np.int64)
    per_year = 4 if plan.period == "quarter" else 12
    spec = plan.quota
    weights = list(spec.seasonal_weights) if spec.split == "seasonal" else [1] * per_year
    pnum = {(p.fiscal_year, p.number): j for j, p in enumerate(periods)}

    def split_year(total: int) -> list[int]:
        return allocate(int(total), weights)

    if spec.source == "plan":
        parts = split_year(Plan.cents(spec.annual))
        for j, p in enumerate(periods):
            base[:, j] = parts[p.number - 1]
    elif quotas is not None and len(quotas):
        q = quotas.loc[_isin(quotas["account_manager_id"], list(idx))]
        qc = q["quota_cents"].to_numpy(np.int64)
        if (qc < 0).any():
            raise DataError("negative quota", [
                DataProblem("quotas", int(i) + 2, "quota_cents", int(qc[i]), "quotas must be >= 0")
                for i in np.flatnonzero(qc < 0)])
        cal = periods[0].calendar
        starts = pd.to_datetime(q["period_start"]).dt.date.tolist()
        ends = pd.to_datetime(q["period_end"]).dt.date.tolist()
        rows = [idx[a] for a in q["account_manager_id"].tolist()]
        for r, s, e, c in zip(rows, starts, ends, qc.tolist()):
            fy = cal.fiscal_year(s)
            yp = Period(cal, "year", fy)
            if s == yp.start and e == yp.end:
                for n, part in enumerate(split_year(c), start=1):
                    j = pnum.get((fy, n))
                    if j is not None:
                        base[r, j] += part
            else:
                pp = cal.period_of(s, plan.period)
                j = pnum.get((pp.fiscal_year, pp.number))
                if j is not None:
                    base[r, j] += c

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

    Returns
    -------
    line, tier, credit, rate_ppm, amount : int64 arrays
        ``line`` indexes the input; ``amount = rdiv(credit x rate_ppm, 1e6)``.
    """
    n = len(before)
    if method != "marginal":
        k = (total[:, None] >= bounds).sum(axis=1) - 1
        credit = after - before
        rate = rates_ppm[k]
        return np.arange(n), k, credit, rate, rdiv(credit * rate, PPM)
    upper = np.concatenate([bounds[:, 1:], np.full((bounds.shape[0], 1), _BIG)], axis=1)
    lo = np.minimum(np.maximum(before[:, None], bounds), upper)
    hi = np.minimum(np.maximum(after[:, None], bounds), upper)
    sl = hi - lo
    nz = sl != 0
    empty = ~nz.any(axis=1)
    if empty.any():  # zero-credit lines keep one line in the tier of their position
        kz = (after[empty][:, None] >= (bounds if bounds.shape[0] == n else np.broadcast_to(bounds, (n, bounds.shape[1])))[empty]).sum(1) - 1
        nz[np.flatnonzero(empty), kz] = True
    rows, ks = np.nonzero(nz)
    credit = sl[rows, ks]
    rate = rates_ppm[ks]
    return rows, ks, credit, rate, rdiv(credit * rate, PPM)


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


@dataclass
class CommissionResult:
    """Vectorised engine output; statements are materialised per AM on request.

    Attributes
    ----------
    lines : DataFrame
        Every statement line in integer form: ``am (int code), p (period index),
        kind (code into _KINDS), deal_id, close_date, product, credit_cents, tier
        (1-based, 0 none), rate_ppm (-1 none), rule (categorical), amount_cents,
        award, payout_date, payable``.
    summary : DataFrame
        One row per AM and period: ``account_manager_id, period, credit_cents,
        quota_cents, attainment (float, NaN if quota 0), ytd_credit_cents,
        ytd_quota_cents, ytd_attainment, commission_cents, payout_cents,
        deferred_cents, draw_balance_cents, plan``.
    credits, quotas, excluded : DataFrame
        Crediting and quota tables the lines were computed from.
    """

    account_managers: np.ndarray
    periods: list[Period]
    lines: pd.DataFrame
    summary: pd.DataFrame
    credits: pd.DataFrame
    quotas: pd.DataFrame
    excluded: pd.DataFrame
    _order: np.ndarray | None = field(default=None, repr=False)
    _starts: np.ndarray | None = field(default=None, repr=False)

    def _index(self) -> None:
        if self._order is None:
            am = self.lines["am"].to_numpy()
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
        code = int(np.flatnonzero(self.account_managers == account_manager_id)[0]) if (
            self.account_managers == account_manager_id).any() else None
        if code is None:
            raise KeyError(f"no statement for account manager {account_manager_id!r}")
        self._index()
        rows = self._order[self._starts[code]:self._starts[code + 1]]
        x = self.lines.iloc[rows]
        if period is not None:
            pi = [p.label for p in self.periods].index(period)
            x = x.loc[x["p"].to_numpy() == pi]
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
def _part(**cols) -> pd.DataFrame:
    n = len(cols["am"])
    defaults = dict(deal_id=None, close_date=pd.NaT, product=None, credit_cents=0, has_credit=False, tier=0,
                    rate_ppm=-1, award="", payout_date=pd.NaT, payable=True)
    for k, v in defaults.items():
        cols.setdefault(k, v)
    df = pd.DataFrame({k: (np.full(n, v, dtype=object) if v is None or isinstance(v, str) else
                           (v if isinstance(v, (np.ndarray, list, pd.Series)) else np.full(n, v)))
                       for k, v in cols.items()})
    return df


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
        ``deal_id, cancel_date, amount_cents`` (magnitude cancelled; NA = whole deal).
        In the deal's own period it is a negative credit; in a later period a
        clawback per ``plan.clawback``.
    adjustments : DataFrame, optional
        ``account_manager_id, period, amount_cents, reason`` manual adjustments.
    leaves : DataFrame, optional
        ``account_manager_id, start, end`` leaves of absence (quota proration).
    since : str, optional
        First pay period of the ledger; default the first period of ``period``'s
        fiscal year. YTD accumulation, year caps and draws run from here.

    Returns
    -------
    CommissionResult

    Raises
    ------
    PlanError
        Plans disagree on pay period or crediting; currency mismatch; missing assignments.
    PeriodError
        Bad period label.
    DataError
        Bad splits, negative quotas, amounts beyond the exact-integer range.
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
    cred_methods = {(p.crediting.method, p.crediting.handoff) for p in plan_list}
    if len(cred_methods) > 1:
        raise PlanError(f"plans disagree on crediting {sorted(cred_methods)}; crediting happens once per run")
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
    o0, o1 = _ordinal_of_period(first, kind), _ordinal_of_period(last, kind)
    periods = [_period_of_ordinal(o, cal, kind) for o in range(o0, o1 + 1)]
    P = len(periods)
    pyear = np.array([p.fiscal_year for p in periods])
    year_start = np.r_[True, pyear[1:] != pyear[:-1]]
    year_end = np.r_[pyear[1:] != pyear[:-1], True] & np.array([p.number == (4 if kind == "quarter" else 12) for p in periods])
    labels = [p.label for p in periods]
    pst = np.array([np.datetime64(p.start, "ns") for p in periods])
    pen = np.array([np.datetime64(p.end, "ns") for p in periods])

    ams_df = ds.account_managers.reset_index(drop=True)
    ams = ams_df["account_manager_id"].astype(str).to_numpy(dtype=object)
    A = len(ams)
    am_code = {a: i for i, a in enumerate(ams)}

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
        for i, am in enumerate(ams):
            for j, p in enumerate(periods):
                n = assignments.plan_for_period(am, p.start, p.end)
                if n is not None:
                    pidx[i, j] = pos[n]

    # ---- crediting
    pl0 = plan_list[0]
    credits, excluded = credit_deals(ds.deals, splits=splits, accounts=ds.accounts, territories=ds.territories,
                                     method=pl0.crediting.method, handoff=pl0.crediting.handoff)
    unknown = pd.Series(~_isin(credits["account_manager_id"], list(am_code)), index=credits.index)
    if unknown.any():
        x = credits.loc[unknown, ["deal_id", "account_manager_id", "close_date"]].copy()
        x["amount_cents"] = credits.loc[unknown, "credit_cents"]
        x["reason"] = "credited account manager is not in account_managers"
        excluded = pd.concat([excluded, x], ignore_index=True)
        credits = credits.loc[~unknown]
    if len(credits) and (credits["credit_cents"].abs() > _LIMIT).any():
        raise DataError(f"credit amounts beyond {_LIMIT} cents are outside the engine's exact range")

    # cancellations
    claw_rows = None
    if cancellations is not None and len(cancellations):
        cx = cancellations.copy()
        cx["cancel_date"] = pd.to_datetime(cx["cancel_date"])
        if "amount_cents" not in cx:
            cx["amount_cents"] = pd.NA
        m = credits.merge(cx[["deal_id", "cancel_date", "amount_cents"]].rename(columns={"amount_cents": "cancel_cents"}),
                          on="deal_id", how="inner")
        m["cancel_cents"] = m["cancel_cents"].fillna(m["deal_amount_cents"].abs()).astype(np.int64)
        m["cp"] = _ordinals(m["cancel_date"], cal, kind)
        m["dp"] = _ordinals(m["close_date"], cal, kind)
        # the AM's share of the cancelled amount, same sign as the deal
        sign = np.sign(m["deal_amount_cents"].to_numpy())
        den = np.abs(m["deal_amount_cents"].to_numpy(np.int64))
        m["cancel_credit"] = -sign * rdiv(m["cancel_cents"].to_numpy(np.int64) * np.abs(m["credit_cents"].to_numpy(np.int64)),
                                          np.where(den == 0, 1, den))
        same = (m["cp"] == m["dp"]).to_numpy()
        neg = m.loc[same].copy()
        if len(neg):
            neg = pd.DataFrame({
                "deal_id": neg["deal_id"], "account_manager_id": neg["account_manager_id"],
                "account_id": neg["account_id"], "close_date": neg["cancel_date"], "product": neg["product"],
                "deal_amount_cents": neg["deal_amount_cents"], "credit_cents": neg["cancel_credit"],
                "share_ppm": neg["share_ppm"], "kind": neg["kind"], "source": "cancellation in period",
            })
            credits = pd.concat([credits, neg], ignore_index=True)
        claw_rows = m.loc[(m["cp"] > m["dp"]).to_numpy()]

    c_ord = _ordinals(credits["close_date"], cal, kind) if len(credits) else np.array([], np.int64)
    inside = (c_ord >= o0) & (c_ord <= o1)
    credits = credits.loc[inside].reset_index(drop=True)
    c_p = (c_ord[inside] - o0).astype(np.int64)
    c_am = credits["account_manager_id"].map(am_code).to_numpy(np.int64)
    cdate = credits["close_date"].to_numpy("datetime64[ns]")
    # order: am, period, close date, deal id (deal id tie-break via factorized codes of sorted ids)
    did_codes = pd.factorize(credits["deal_id"], sort=True)[0] if len(credits) else np.array([], np.int64)
    order = np.lexsort((did_codes, cdate, c_p, c_am))
    credits = credits.iloc[order].reset_index(drop=True)
    c_p, c_am, cdate = c_p[order], c_am[order], cdate[order]
    credit = credits["credit_cents"].to_numpy(np.int64)
    c_plan = pidx[c_am, c_p] if len(credits) else np.array([], np.int64)

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
    cred_ap = np.zeros((A, P), dtype=np.int64)
    np.add.at(cred_ap, (c_am, c_p), credit)
    ycum = np.zeros_like(cred_ap)
    yq = np.zeros_like(Q)
    for j in range(P):
        ycum[:, j] = cred_ap[:, j] + (0 if year_start[j] else ycum[:, j - 1])
        yq[:, j] = Q[:, j] + (0 if year_start[j] else yq[:, j - 1])

    def att(c, q):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(q > 0, c / np.where(q > 0, q, 1), np.nan)

    # ---- commission lines per plan
    parts: list[pd.DataFrame] = []
    comm_ap = np.zeros((A, P), dtype=np.int64)
    row_paid = np.zeros(len(credits), dtype=np.int64)
    rule_cats: list[str] = []

    def rule_codes(strings: list[str]) -> list[int]:
        out = []
        for s in strings:
            if s not in rule_cats:
                rule_cats.append(s)
            out.append(rule_cats.index(s))
        return out

    for g, pl in enumerate(plan_list):
        sel = np.flatnonzero(c_plan == g)
        if not len(sel):
            continue
        rs = pl.rates
        rates = np.array([ppm(t.rate) for t in rs.tiers], dtype=np.int64)
        tcodes = np.array(rule_codes(_tier_rules(pl)), dtype=np.int64)
        gate_code = rule_codes([f"{pl.name}: below gate {rs.gate} attainment: nothing earned"])[0] if rs.gate is not None else -1
        cr = credit[sel]
        am_s, p_s = c_am[sel], c_p[sel]

        def run(idx_rows, before, after, total, qline, attline_c, attline_q):
            b = _bounds(pl, qline) if rs.basis == "attainment" else _bounds(pl, np.zeros(1, np.int64))
            rows, k, cc, rate, amt = tier_commission(before, after, total, b, rates, rs.method)
            rc = tcodes[k]
            if rs.gate is not None:
                q = attline_q[rows]
                below = (q > 0) & (attline_c[rows] * PPM < ppm(rs.gate) * q)
                rate = np.where(below, 0, rate)
                amt = np.where(below, 0, amt)
                rc = np.where(below, gate_code, rc)
            return idx_rows[rows], k, cc, rate, amt, rc

        if rs.accumulation == "per_deal":
            mag = np.abs(cr)
            sgn = np.where(cr < 0, -1, 1)
            z = np.zeros_like(mag)
            r_, k, cc, rate, amt, rc = run(sel, z, mag, mag, None, cred_ap[am_s, p_s], Q[am_s, p_s])
            s2 = sgn[np.searchsorted(sel, r_)]
            cc, amt = cc * s2, amt * s2
            batches = [(r_, k, cc, rate, amt, rc, _KIND["commission"])]
        elif rs.accumulation == "per_period":
            key = am_s * P + p_s
            cum = pd.Series(cr).groupby(key).cumsum().to_numpy(np.int64)
            before = cum - cr
            total = cred_ap[am_s, p_s]
            batches = [(*run(sel, before, cum, total, Q[am_s, p_s], cred_ap[am_s, p_s], Q[am_s, p_s]), _KIND["commission"])]
        else:  # ytd with true-up
            yr = pyear[p_s]
            key = am_s * 10000 + yr
            cum = pd.Series(cr).groupby(key).cumsum().to_numpy(np.int64)
            before = cum - cr
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
                cur = p_s[np.searchsorted(sel, r_)] == j
                batches.append((r_[cur], k[cur], cc[cur], rate[cur], amt[cur], rc[cur], _KIND["commission"]))
                e_now = np.zeros(A, dtype=np.int64)
                np.add.at(e_now, c_am[r_], amt)
                prior = np.zeros(A, dtype=np.int64)
                np.add.at(prior, c_am[r_[~cur]], amt[~cur])
                tu = prior - prev_e
                prev_e = e_now
                act = np.flatnonzero((tu != 0) & (pidx[:, j] == g))
                if len(act):
                    parts.append(_part(
                        am=act, p=np.full(len(act), j), kind=np.full(len(act), _KIND["true_up"]),
                        amount_cents=tu[act],
                        rule=np.array(rule_codes([f"{pl.name}: YTD true-up: earlier deals of the year re-rated at the "
                                                  f"year-to-date tier, minus commission already earned on them"]) * len(act)),
                    ))
                    np.add.at(comm_ap, (act, np.full(len(act), j)), tu[act])
        for r_, k, cc, rate, amt, rc, kd in batches:
            np.add.at(comm_ap, (c_am[r_], c_p[r_]), amt)
            np.add.at(row_paid, r_, amt)
            parts.append(pd.DataFrame({
                "am": c_am[r_], "p": c_p[r_], "kind": np.full(len(r_), kd, dtype=np.int64), "src": r_,
                "credit_cents": cc, "has_credit": True, "tier": k + 1, "rate_ppm": rate, "rule": rc,
                "amount_cents": amt, "award": "", "payout_date": pd.NaT, "payable": True,
            }))

        # SPIFs (outside the cap)
        for sp in pl.spifs:
            m = (c_plan == g) & (cdate >= np.datetime64(sp.start, "ns")) & (cdate <= np.datetime64(sp.end, "ns"))
            if sp.products is not None:
                m &= _isin(credits["product"], list(sp.products))
            ii = np.flatnonzero(m)
            if not len(ii):
                continue
            if sp.rate is not None:
                amt = rdiv(credit[ii] * ppm(sp.rate), PPM)
                rate = np.full(len(ii), ppm(sp.rate))
                txt = f"{pl.name}: SPIF {sp.name!r}: {sp.rate} of credit on {', '.join(sp.products or ['all products'])} closed {sp.start}..{sp.end}"
            else:
                amt = np.sign(credit[ii]) * Plan.cents(sp.amount_per_deal)
                rate = np.full(len(ii), -1)
                txt = f"{pl.name}: SPIF {sp.name!r}: {sp.amount_per_deal} per deal on {', '.join(sp.products or ['all products'])} closed {sp.start}..{sp.end}"
            parts.append(pd.DataFrame({
                "am": c_am[ii], "p": c_p[ii], "kind": _KIND["spif"], "src": ii, "credit_cents": credit[ii],
                "has_credit": True, "tier": 0, "rate_ppm": rate, "rule": rule_codes([txt])[0], "amount_cents": amt,
                "award": "cash", "payout_date": pd.NaT, "payable": True,
            }))

    # ---- per period ledger
    summary_cols = {k: np.zeros((A, P), dtype=np.int64) for k in
                    ["cap", "spif", "bonus_cash", "deferred", "clawback", "adjustment", "draw", "recovery", "payout", "balance"]}
    spif_ap = np.zeros((A, P), dtype=np.int64)
    for part in parts:
        if len(part) and (part["kind"] == _KIND["spif"]).all():
            np.add.at(spif_ap, (part["am"].to_numpy(np.int64), part["p"].to_numpy(np.int64)), part["amount_cents"].to_numpy(np.int64))

    # clawbacks per (am, period)
    claw_ap = np.zeros((A, P), dtype=np.int64)
    if claw_rows is not None and len(claw_rows):
        paid = pd.DataFrame({"deal_id": credits["deal_id"], "account_manager_id": credits["account_manager_id"],
                             "paid": row_paid, "credit": credit})
        paid = paid.groupby(["deal_id", "account_manager_id"], as_index=False).sum()
        cw = claw_rows.merge(paid, on=["deal_id", "account_manager_id"], how="left")
        for _, r in cw.iterrows():
            j = int(r["cp"]) - o0
            if not 0 <= j < P or r["account_manager_id"] not in am_code:
                continue
            i = am_code[r["account_manager_id"]]
            g = pidx[i, j]
            pl = plan_list[g] if g >= 0 else plan_list[0]
            cb = pl.clawback
            days = (r["cancel_date"] - r["close_date"]).days
            cc = int(r["cancel_credit"])
            if cb.method == "none":
                amt, txt, rate = 0, f"{pl.name}: clawback method none: cancellation not clawed back", -1
            elif cb.window_days is not None and days > cb.window_days:
                amt, txt, rate = 0, f"{pl.name}: cancelled {days} days after close, outside the {cb.window_days}-day clawback window", -1
            elif cb.method == "plan_rate":
                rate = ppm(cb.rate)
                amt, txt = rdiv(cc * rate, PPM), f"{pl.name}: clawback at plan rate {cb.rate} of the cancelled credit"
            elif pd.isna(r["paid"]):
                rate = ppm(pl.rates.tiers[0].rate)
                amt = rdiv(cc * rate, PPM)
                txt = f"{pl.name}: clawback: deal paid before the ledger start; tier 1 rate {pl.rates.tiers[0].rate}"
            else:
                den = abs(int(r["deal_amount_cents"])) or 1
                amt = -rdiv(int(r["paid"]) * int(r["cancel_cents"]), den) if int(r["deal_amount_cents"]) >= 0 else rdiv(int(r["paid"]) * int(r["cancel_cents"]), den)
                rate = -1
                txt = (f"{pl.name}: clawback at the rate paid: commission paid {_money(int(r['paid']))} x cancelled "
                       f"{_money(int(r['cancel_cents']))} / deal {_money(int(r['deal_amount_cents']))}")
            claw_ap[i, j] += amt
            parts.append(_part(am=np.array([i]), p=np.array([j]), kind=np.array([_KIND["clawback"]]),
                               deal_id=np.array([r["deal_id"]], dtype=object), close_date=np.array([r["close_date"]]),
                               product=np.array([r["product"]], dtype=object), credit_cents=np.array([cc]),
                               has_credit=np.array([True]), rate_ppm=np.array([rate]),
                               rule=np.array(rule_codes([txt])), amount_cents=np.array([amt])))

    adj_ap = np.zeros((A, P), dtype=np.int64)
    if adjustments is not None and len(adjustments):
        for a, per, amt, why in zip(adjustments["account_manager_id"], adjustments["period"],
                                    adjustments["amount_cents"], adjustments["reason"]):
            if a not in am_code or per not in labels:
                continue
            i, j = am_code[a], labels.index(per)
            adj_ap[i, j] += int(amt)
            parts.append(_part(am=np.array([i]), p=np.array([j]), kind=np.array([_KIND["adjustment"]]),
                               rule=np.array(rule_codes([f"manual adjustment: {why}"])), amount_cents=np.array([int(amt)])))

    G = len(plan_list)

    def attr(fn, default):
        return np.array([fn(p) for p in plan_list] + [default], dtype=np.int64)

    cap_amt = attr(lambda p: Plan.cents(p.cap.amount) if p.cap else -1, -1)
    cap_year = attr(lambda p: 1 if p.cap and p.cap.per == "year" else 0, 0)
    cap_carry = attr(lambda p: 1 if p.cap and p.cap.carry_excess else 0, 0)
    draw_amt = attr(lambda p: Plan.cents(p.draw.amount) if p.draw else 0, 0)
    draw_rec = attr(lambda p: 1 if p.draw and p.draw.recoverable else 0, 0)
    draw_lim = attr(lambda p: ppm(p.draw.recovery_limit) if p.draw else PPM, PPM)
    carry = np.zeros(A, dtype=np.int64)
    cap_paid_y = np.zeros(A, dtype=np.int64)
    balance = np.zeros(A, dtype=np.int64)
    neg_in = np.zeros(A, dtype=np.int64)
    cap_rules = {}
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
                       f"({b.award}{'' if payable else ', deferred to ' + pdate.isoformat()})")
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
        neg = np.minimum(net, 0)
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

    for r, j, kd, amt, txt, award, pdate, payable in misc:
        parts.append(_part(am=r, p=np.full(len(r), j), kind=np.full(len(r), _KIND[kd]), amount_cents=np.asarray(amt, np.int64),
                           rule=np.full(len(r), rule_codes([txt])[0]), award=award,
                           payout_date=pd.NaT if pdate is None else pd.Timestamp(pdate), payable=payable))

    lines = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else _part(
        am=np.array([], np.int64), p=np.array([], np.int64), kind=np.array([], np.int64),
        amount_cents=np.array([], np.int64), rule=np.array([], np.int64))
    for col, v in (("deal_id", None), ("product", None), ("close_date", pd.NaT)):
        if col not in lines:
            lines[col] = np.full(len(lines), v, dtype=object)
    src = lines["src"].to_numpy(dtype=float, na_value=np.nan) if "src" in lines else np.full(len(lines), np.nan)
    has = ~pd.isna(src)
    si = np.where(has, np.nan_to_num(src, nan=0), 0).astype(np.int64)
    if has.any():
        for col in ("deal_id", "product"):
            vals = credits[col].to_numpy(dtype=object)[si]
            base = lines[col].to_numpy(dtype=object) if col in lines else np.full(len(lines), None, dtype=object)
            lines[col] = np.where(has, vals, base)
        lines["close_date"] = np.where(has, cdate[si], pd.to_datetime(lines["close_date"]).to_numpy("datetime64[ns]"))
    lines["rule"] = pd.Categorical.from_codes(lines["rule"].to_numpy(np.int64), categories=pd.Index(rule_cats, dtype=object)) \
        if rule_cats else lines["rule"].astype(str)
    lines["close_date"] = pd.to_datetime(lines["close_date"])
    lines["payout_date"] = pd.to_datetime(lines["payout_date"])
    lines = lines.drop(columns=["src"], errors="ignore")
    for c_ in ("am", "p", "kind", "credit_cents", "tier", "rate_ppm", "amount_cents"):
        lines[c_] = lines[c_].astype(np.int64)
    lines["has_credit"] = lines["has_credit"].astype(bool)
    lines["payable"] = lines["payable"].astype(bool)

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
    return CommissionResult(ams, periods, lines, summary, credits, quotas_out, excluded)


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
