"""The engine's caps: commission above a plan's cap is carried forward or forfeited.

A step of :func:`reportkit.domain.engine.compute` after the tiers. Only commission
(and true-ups) count against the cap; SPIFs and bonuses are outside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...config.plans import Plan
from .inputs import PayPeriods, PlanChoice
from .ledger import PeriodLine


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


def apply_caps(commission: np.ndarray, choice: PlanChoice, span: PayPeriods) -> Capped:
    """Cap each AM's commission per pay period, in period order.

    Parameters
    ----------
    commission : int64 array (A, P)
        Commission earned per AM and period (cents: the sum of the rounded lines).

    Rules
    -----
    ``cap.per: period``: at most ``amount`` per pay period; ``per: year``: at most
    ``amount`` paid over the fiscal year so far. With ``carry_excess`` the excess
    is carried into the next period (and capped again there), else forfeited.
    """
    A, P = commission.shape
    cap_amt = choice.attr(lambda p: Plan.cents(p.cap.amount) if p.cap else -1, -1)
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
        cap = cap_amt[g]
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
                entries[j].append(
                    PeriodLine(r2, j, "cap", -excess[r2], f"{pl.name}: cap {pl.cap.amount} per {pl.cap.per}: excess {what}")
                )
    return Capped(pays, caps, entries)
