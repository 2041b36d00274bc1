"""The engine's SPIFs and attainment bonuses.

Steps of :func:`reportkit.domain.engine.compute` after the tiers: :func:`spif_lines`
pays a plan's SPIFs on the credit lines they cover (one line per deal, outside the
cap), :func:`bonus_awards` the attainment bonuses of each pay period (period or
year-to-date attainment at least the bonus's threshold; cash payable now, non-cash or
deferred recorded with a payout date, ``payable=False``).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...config.plans import PPM, Plan, ppm
from ...core.money import rdiv
from .._credit_core import lookup
from .credits import CreditLines
from .inputs import PayPeriods, PlanChoice
from .ledger import _KIND, Ledger, PeriodLine, _sum_into
from .quotas import Attainment


def spif_lines(g: int, lines: CreditLines, choice: PlanChoice, deals: pd.DataFrame, A: int, P: int, ledger: Ledger) -> np.ndarray:
    """SPIF lines of plan ``g``: each SPIF on the plan's credit lines closed in its window (and products).

    A SPIF pays ``rate`` of the line's credit (rounded half away from zero to the
    cent) or ``amount_per_deal`` (with the credit's sign). The lines (kind ``spif``,
    award cash) are added to ``ledger``.

    Returns
    -------
    int64 array (A, P)
        SPIF cents per AM and pay period.
    """
    pl = choice.plans[g]
    cr = lines.cr
    c_am, c_p, c_flat, cdate, credit = cr.am, lines.p, lines.flat, cr.cdate, cr.credit
    spif_ap = np.zeros((A, P), dtype=np.int64)
    for sp in pl.spifs:
        m = (
            (True if choice.one_plan else lines.plan == g)
            & (cdate >= np.datetime64(sp.start, "ns").astype(np.int64))
            & (cdate <= np.datetime64(sp.end, "ns").astype(np.int64))
        )
        if sp.products is not None:
            ok = lookup(deals["product"], list(sp.products)) >= 0 if len(deals) else np.zeros(0, bool)
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
        ledger.add(
            am=c_am[ii],
            p=c_p[ii],
            kind=_KIND["spif"],
            drow=cr.drow[ii],
            cdate=cdate[ii],
            credit=credit[ii],
            has_credit=True,
            tier=0,
            rate=rate,
            rule=ledger.rule(txt),
            amount=amt,
            award=1,
        )
    return spif_ap


@dataclass(frozen=True)
class Bonuses:
    """Attainment bonuses per AM and pay period (int64 cents, shape (A, P)).

    ``cash``: payable in the period; ``deferred``: non-cash or paid later (not in
    the payout); ``entries[j]``: period ``j``'s bonus lines
    (:meth:`reportkit.domain.engine.ledger.Ledger.add_period_lines`).
    """

    cash: np.ndarray
    deferred: np.ndarray
    entries: list[list[PeriodLine]]


def bonus_awards(
    choice: PlanChoice, att: Attainment, span: PayPeriods, ti: np.ndarray | None = None, ti_ytd: np.ndarray | None = None
) -> Bonuses:
    """The bonuses each AM earns in each pay period under the plan in force.

    A ``per: period`` bonus looks at the period's attainment, a ``per: year`` bonus
    at the year-to-date attainment in the fiscal year's last period; it is earned
    when the quota is positive and ``credit / quota >= attainment_at_least``
    (compared exactly in integers): never on undefined attainment (quota 0).

    Parameters
    ----------
    ti, ti_ytd : int64 arrays (A, P), optional
        Target incentive per AM and pay period, and of the fiscal year so far, in
        cents (:func:`reportkit.domain.engine.caps.period_target_incentive`). A
        bonus given as ``of_ti`` pays ``of_ti x`` the period's TI (``per: period``)
        or the year's TI (``per: year``: the sum of the year's period TIs), rounded
        half away from zero to the cent.
    """
    A, P = att.quota.shape
    cash = np.zeros((A, P), dtype=np.int64)
    deferred = np.zeros((A, P), dtype=np.int64)
    entries: list[list[PeriodLine]] = [[] for _ in range(P)]
    year_end = span.year_end
    for j in range(P):
        g = choice.column(j)
        bonus_cash = cash[:, j]
        for gi, pl in enumerate(choice.plans):
            mg = g == gi
            for b in pl.bonuses:
                if b.per == "period":
                    c, q = att.credit[:, j], att.quota[:, j]
                else:
                    if not year_end[j]:
                        continue
                    c, q = att.ytd_credit[:, j], att.ytd_quota[:, j]
                hit = np.flatnonzero(mg & (q > 0) & (c * PPM >= ppm(b.attainment_at_least) * q))
                if not len(hit):
                    continue
                pdate = span.periods[j].end + datetime.timedelta(days=b.payout_after_days)
                payable = b.award == "cash" and b.payout_after_days == 0
                scope = "period" if b.per == "period" else "year-to-date"
                if b.of_ti is None:
                    amt, of = np.full(len(hit), Plan.cents(b.amount)), ""
                else:  # a fraction of TI (incentive group, issue #13 item 4)
                    base = (ti if b.per == "period" else ti_ytd)[hit, j]
                    amt = rdiv(base * ppm(b.of_ti), PPM)
                    of = f" of {b.of_ti} x the {'period' if b.per == 'period' else 'year'}'s target incentive"
                txt = (
                    f"{pl.name}: bonus {b.name!r}{of}: {scope} attainment >= {b.attainment_at_least} "
                    f"({b.award}{'' if payable else (' to ' if b.award == 'deferred' else ', deferred to ') + pdate.isoformat()})"
                )
                entries[j].append(PeriodLine(hit, j, "bonus", amt, txt, b.award, pdate, payable))
                if payable:
                    bonus_cash[hit] += amt
                else:
                    deferred[hit, j] += amt
    return Bonuses(cash, deferred, entries)
