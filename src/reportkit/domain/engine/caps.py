"""The engine's caps: commission above a plan's cap is carried forward or forfeited.

A step of :func:`reportkit.domain.engine.compute` after the tiers. Only commission
(and true-ups) count against the cap; SPIFs and bonuses are outside it.

Also here (incentive group, issue #13 items 4 and 5): the target incentive (TI) per
account manager and pay period (:func:`period_target_incentive`), the base of caps
and bonuses written as multiples of TI, and the per-deal minimum and maximum
commission (:func:`deal_limit_lines`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...config.plans import PPM, Plan, ppm
from ...core.money import rdiv
from .._credit_core import CREDIT_SOURCES, lookup
from .credits import CreditLines
from .inputs import PayPeriods, PlanChoice
from .ledger import _KIND, Ledger, PeriodLine, _sum_into


@dataclass(frozen=True)
class Capped:
    """Commission after the cap per AM and pay period (int64 cents, shape (A, P)).

    ``pay``: commission paid this period (carried-in excess included);
    ``cap``: the cap line's amount (minus the excess, 0 when under the cap);
    ``entries[j]``: period ``j``'s ``cap_carry_in`` and ``cap`` lines.
    """

    pay: np.ndarray
    cap: np.ndarray
    entries: list[list[PeriodLine]]


_CANCELLED = CREDIT_SOURCES.index("cancellation in period")


def periods_per_year(plan: Plan) -> int:
    """Pay periods in a fiscal year of ``plan`` (4 quarters or 12 months)."""
    return 4 if plan.period == "quarter" else 12


def uses_target_incentive(plan: Plan) -> bool:
    """Whether a plan has an amount written as a multiple of its target incentive (``of_ti``, ``max_of_ti``)."""
    return (
        (plan.cap is not None and plan.cap.of_ti is not None)
        or any(b.of_ti is not None for b in plan.bonuses)
        or (plan.deal_limits is not None and plan.deal_limits.max_of_ti is not None)
        # fixes group (issue #13): a pay curve paying fractions of the target incentive
        or any(rs.curve_of_ti for rs in plan.schedules)
    )


def period_target_incentive(
    choice: PlanChoice, span: PayPeriods, quotas_out: pd.DataFrame, ams: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Target incentive (TI) per AM and pay period, prorated like quota.

    ``TI_period = (ote - base_salary) x prorate_num / (periods_per_year x prorate_den)``
    in cents, rounded half away from zero (:func:`reportkit.core.money.rdiv`), of
    the plan in force; the share is the quota table's: active days / days (hire,
    exit, leaves; ``proration: none`` counts every day), or under ``proration:
    months`` the whole months counted / months in the period. A ramp or seasonal
    weights shape quota, not TI.

    Parameters
    ----------
    quotas_out : DataFrame
        :func:`reportkit.domain.engine.quotas.quotas_per_plan`'s table
        (``account_manager_id, period, prorate_num, prorate_den``).
    ams : object array (A,)
        Account manager id of each AM code.

    Returns
    -------
    ti, ti_ytd : int64 arrays (A, P)
        TI cents of each pay period (0 where an AM has no plan or the plan no TI),
        and their running sum over the fiscal year.
    """
    A, P = choice.pidx.shape
    ti = np.zeros((A, P), dtype=np.int64)
    if not len(quotas_out):
        return ti, ti.copy()
    a = lookup(quotas_out["account_manager_id"], ams)
    j = lookup(quotas_out["period"], span.labels)
    ok = (a >= 0) & (j >= 0)
    a, j = a[ok], j[ok]
    g = choice.pidx[a, j]
    ti_year = choice.attr(lambda p: Plan.cents(p.target_incentive), 0)[:-1]
    n = choice.attr(periods_per_year, 1)[:-1]
    num = quotas_out["prorate_num"].to_numpy(np.int64)[ok]
    den = quotas_out["prorate_den"].to_numpy(np.int64)[ok]
    ti[a, j] = rdiv(ti_year[g] * num, n[g] * den)
    ti_ytd = np.zeros_like(ti)
    for j in range(P):
        ti_ytd[:, j] = ti[:, j] + (0 if span.year_start[j] else ti_ytd[:, j - 1])
    return ti, ti_ytd


def _cap_amounts(choice: PlanChoice, ti: np.ndarray | None, ti_ytd: np.ndarray | None) -> np.ndarray:
    """The cap in cents per AM and pay period (-1: no cap), shape (A, P).

    ``amount``: that amount; ``of_ti``: ``of_ti x`` the period's TI (``per: period``)
    or ``x`` the TI of the year so far (``per: year``), rounded half away from zero.
    """
    A, P = choice.pidx.shape
    cap_amt = choice.attr(lambda p: Plan.cents(p.cap.amount) if p.cap and p.cap.amount is not None else -1, -1)
    out = np.empty((A, P), dtype=np.int64)
    for j in range(P):
        out[:, j] = cap_amt[choice.column(j)]
    of_ti = [gi for gi, p in enumerate(choice.plans) if p.cap is not None and p.cap.of_ti is not None]
    if of_ti and ti is not None and ti_ytd is not None:
        for gi in of_ti:
            cap = choice.plans[gi].cap
            base = ti if cap.per == "period" else ti_ytd
            m = choice.pidx == gi
            out[m] = rdiv(base[m] * ppm(cap.of_ti), PPM)
    return out


def _cap_text(pl: Plan) -> str:
    """A plan's cap in words (the amount, or the multiple of TI)."""
    cap = pl.cap
    if cap.of_ti is None:
        return f"cap {cap.amount} per {cap.per}"
    base = "the period's target incentive" if cap.per == "period" else "the target incentive of the year so far"
    return f"cap {cap.of_ti} x {base}"


def apply_caps(
    commission: np.ndarray,
    choice: PlanChoice,
    span: PayPeriods,
    ti: np.ndarray | None = None,
    ti_ytd: np.ndarray | None = None,
) -> Capped:
    """Cap each AM's commission per pay period, in period order.

    Parameters
    ----------
    commission : int64 array (A, P)
        Commission earned per AM and period (cents: the sum of the rounded lines).
    ti, ti_ytd : int64 arrays (A, P), optional
        Target incentive per AM and period and of the year so far
        (:func:`period_target_incentive`), for caps given as ``of_ti``.

    Rules
    -----
    ``cap.per: period``: at most ``amount`` per pay period; ``per: year``: at most
    ``amount`` paid over the fiscal year so far. With ``carry_excess`` the excess
    is carried into the next period (and capped again there), else forfeited.
    ``of_ti`` instead of ``amount``: the cap is that multiple of the period's TI,
    or of the year-to-date TI for ``per: year``.
    """
    A, P = commission.shape
    caps_ap = _cap_amounts(choice, ti, ti_ytd)
    cap_year = choice.attr(lambda p: 1 if p.cap and p.cap.per == "year" else 0, 0)
    cap_carry = choice.attr(lambda p: 1 if p.cap and p.cap.carry_excess else 0, 0)
    carry = np.zeros(A, dtype=np.int64)
    cap_paid_y = np.zeros(A, dtype=np.int64)
    pays = np.zeros((A, P), dtype=np.int64)
    caps = np.zeros((A, P), dtype=np.int64)
    entries: list[list[PeriodLine]] = [[] for _ in range(P)]
    year_start = span.year_start
    for j in range(P):
        g = choice.column(j)
        if year_start[j]:
            cap_paid_y[:] = 0
        earned = commission[:, j]
        cap = caps_ap[:, j]
        has_cap = cap >= 0
        cin = np.where(cap_carry[g] == 1, carry, 0)
        avail = earned + cin
        room = np.where(cap_year[g] == 1, np.maximum(cap - cap_paid_y, 0), cap)
        pay = np.where(has_cap & (avail > room), room, avail)
        excess = avail - pay
        carry = np.where(cap_carry[g] == 1, excess, 0)
        cap_paid_y += np.maximum(pay, 0)
        pays[:, j] = pay
        caps[:, j] = -excess
        for gi in range(len(choice.plans)):
            pl = choice.plans[gi]
            if pl.cap is None:
                continue
            mg = g == gi
            r1 = np.flatnonzero(mg & (cin != 0))
            if len(r1):
                entries[j].append(
                    PeriodLine(r1, j, "cap_carry_in", cin[r1], f"{pl.name}: cap excess carried in from earlier periods")
                )
            r2 = np.flatnonzero(mg & (excess != 0))
            if len(r2):
                what = "carried to later periods" if pl.cap.carry_excess else "forfeited"
                entries[j].append(PeriodLine(r2, j, "cap", -excess[r2], f"{pl.name}: {_cap_text(pl)}: excess {what}"))
    return Capped(pays, caps, entries)


def deal_limit_lines(
    g: int, lines: CreditLines, paid: list, choice: PlanChoice, ledger: Ledger, A: int, P: int
) -> tuple[np.ndarray, list]:
    """Per-deal minimum and maximum commission of plan ``g`` (``plan.deal_limits``).

    A deal's commission is the sum of its rate-schedule lines for one AM in one
    pay period (tier slices and in-period cancellations included). Above the
    maximum (``max``, or ``max_of_ti`` x the annual target incentive, the smaller
    when both are given) a line takes the excess off; a deal that earned commission
    (> 0) below ``min`` gets a line topping it up to ``min``. Each is a
    ``deal_limit`` line on the deal (no credit, no rate), listed after the period's
    commission lines; it counts as commission, so caps apply after it, and a later
    clawback at the rate paid claws back the amount actually paid.

    Parameters
    ----------
    paid : list of (credit line rows, amounts)
        Plan ``g``'s commission lines (:func:`reportkit.domain.engine.tiers.commission_lines`).

    Returns
    -------
    adjust, paid_extra
        ``adjust`` (A, P) int64 cents added to commission; ``paid_extra`` the
        limit lines as ``(credit line rows, amounts)`` for the clawbacks.
    """
    pl = choice.plans[g]
    out = np.zeros((A, P), dtype=np.int64)
    lim = pl.deal_limits
    if lim is None or not paid:
        return out, []
    if len(paid) == 1:
        rows, amt = paid[0][0], np.asarray(paid[0][1], np.int64)
    else:
        rows = np.concatenate([r for r, _ in paid])
        amt = np.concatenate([np.asarray(a, np.int64) for _, a in paid])
    if not len(rows):
        return out, []
    cr = lines.cr
    key = lines.flat[rows] * (int(cr.drow.max(initial=0)) + 1) + cr.drow[rows]
    # in ledger order (AM, close date, deal id) a deal's lines for one AM are adjacent, unless
    # a cancellation in the period (dated on its cancel date) sits elsewhere: sort only then
    adjacent = len(paid) == 1 and not (cr.source == _CANCELLED).any() and bool((rows[1:] >= rows[:-1]).all())
    if adjacent:
        ks, rs_, am_s = key, rows, amt
    else:
        o = np.argsort(key, kind="stable")
        ks, rs_, am_s = key[o], rows[o], amt[o]
    first = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]])
    last = np.r_[first[1:], len(ks)] - 1
    total = np.add.reduceat(am_s, first)
    row = rs_[last]  # a credit line of the deal (its last): the clawback's key (deal, AM)
    hi = [Plan.cents(lim.max)] if lim.max is not None else []
    if lim.max_of_ti is not None:
        hi.append(rdiv(Plan.cents(pl.target_incentive) * ppm(lim.max_of_ti), PPM))
    adj = np.zeros(len(first), dtype=np.int64)
    texts = np.zeros(len(first), dtype=np.int64)
    if lim.min is not None:
        lo = Plan.cents(lim.min)
        up = (total > 0) & (total < lo)
        adj[up] = lo - total[up]
        texts[up] = ledger.rule(f"{pl.name}: per-deal minimum commission {lim.min}: the deal's commission topped up to it")
    if hi:
        mx = min(hi)
        down = total > mx
        adj[down] = mx - total[down]
        what = " and ".join(
            ([f"{lim.max}"] if lim.max is not None else [])
            + ([f"{lim.max_of_ti} x the annual target incentive ({pl.target_incentive})"] if lim.max_of_ti is not None else [])
        )
        texts[down] = ledger.rule(f"{pl.name}: per-deal maximum commission {what}: the excess on the deal taken off")
    act = np.flatnonzero(adj != 0)
    if not len(act):
        return out, []
    r = row[act]
    out += _sum_into(A * P, lines.flat[r], adj[act]).reshape(A, P)
    ledger.add(
        am=cr.am[r],
        p=lines.p[r],
        kind=_KIND["deal_limit"],
        drow=cr.drow[r],
        cdate=cr.cdate[r],
        rule=texts[act],
        amount=adj[act],
    )
    return out, [(r, adj[act])]
