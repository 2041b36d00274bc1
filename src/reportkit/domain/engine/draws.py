"""The engine's draws and balances: the last steps of a pay period, down to its payout.

A step of :func:`reportkit.domain.engine.compute` after caps, SPIFs, bonuses,
clawbacks and adjustments. A negative balance carried from the previous period comes
in (``balance_in``); a draw tops earnings up to the draw amount (``draw``) and, when
recoverable, is recovered from later earnings above it (``draw_recovery``, at most
``recovery_limit`` of them); a negative net is carried forward (``balance_out``) and
the period pays 0, unless the plan has ``carry_negative: false``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np

from ...config.plan_parts import Draw
from ...config.plans import PPM, Plan, ppm
from ...core.money import rdiv
from .inputs import PayPeriods, PlanChoice
from .ledger import PeriodLine


@dataclass(frozen=True)
class Settled:
    """Draws and payout per AM and pay period (int64 cents, shape (A, P)).

    ``draw``: top-ups paid; ``recovery``: draw recovered (negative); ``payout``: the
    period's payout (the sum of its payable lines); ``balance``: outstanding
    recoverable draw after the period; ``entries[j]``: period ``j``'s
    ``balance_in``, ``draw``, ``draw_recovery`` and ``balance_out`` lines.
    """

    draw: np.ndarray
    recovery: np.ndarray
    payout: np.ndarray
    balance: np.ndarray
    entries: list[list[PeriodLine]]


def _recovery_limit_words(draw: Draw, period_start: datetime.date) -> str:
    """The words of a recovery limit below 1 for a period: of the earnings above the draw while it runs, of all of them after it ended.

    The recovery room is ``limit x max(earnings - draw paid this period, 0)``; once the draw
    has ended (or before it starts) nothing is paid this period, so the room is that share
    of the period's whole earnings, and the words say so rather than "above the draw".
    """
    if draw.recovery_limit == 1:
        return ""
    share = f"{(draw.recovery_limit * 100).normalize():f} %"
    running = (draw.start is None or draw.start <= period_start) and (draw.end is None or period_start <= draw.end)
    if running:
        return f" (at most {share} of the period's earnings above the draw)"
    if draw.end is not None and draw.end < period_start:
        return f" (at most {share} of the period's earnings; the draw ended {draw.end.isoformat()})"
    return f" (at most {share} of the period's earnings; no draw paid this period)"


def settle_draws(earnings: np.ndarray, choice: PlanChoice, span: PayPeriods) -> Settled:
    """Apply draws and carry negative balances, period by period.

    Parameters
    ----------
    earnings : int64 array (A, P)
        Payable earnings per AM and period before draws (cents): capped commission,
        SPIFs, cash bonuses, clawbacks and adjustments.
    """
    A, P = earnings.shape
    G = len(choice.plans)
    draw_amt = choice.attr(lambda p: Plan.cents(p.draw.amount) if p.draw else 0, 0)
    draw_rec = choice.attr(lambda p: 1 if p.draw and p.draw.recoverable else 0, 0)
    draw_lim = choice.attr(lambda p: ppm(p.draw.recovery_limit) if p.draw else PPM, PPM)
    carry_neg = choice.attr(lambda p: 1 if p.carry_negative else 0, 1)
    balance = np.zeros(A, dtype=np.int64)
    neg_in = np.zeros(A, dtype=np.int64)
    out = {k: np.zeros((A, P), dtype=np.int64) for k in ("draw", "recovery", "payout", "balance")}
    entries: list[list[PeriodLine]] = [[] for _ in range(P)]
    for j in range(P):
        g = choice.column(j)
        E = earnings[:, j] + neg_in
        r0 = np.flatnonzero(neg_in != 0)
        if len(r0):
            entries[j].append(PeriodLine(r0, j, "balance_in", neg_in[r0], "negative balance carried from the previous period"))
        in_draw = np.zeros(A, dtype=bool)
        for gi, pl in enumerate(choice.plans):
            if pl.draw is None:
                continue
            period = span.periods[j]
            ok = (pl.draw.start is None or pl.draw.start <= period.start) and (pl.draw.end is None or period.start <= pl.draw.end)
            if ok:
                in_draw |= g == gi
        dp = np.where(in_draw, draw_amt[g], 0)
        topup = np.where(in_draw & (dp > E), dp - E, 0)
        rec_room = np.where(draw_rec[g] == 1, rdiv(np.maximum(E - dp, 0) * draw_lim[g], PPM), 0)
        recovery = np.minimum(balance, rec_room)
        balance = balance + np.where(draw_rec[g] == 1, topup, 0) - recovery
        for gi in range(G):
            pl = choice.plans[gi]
            if pl.draw is None:
                continue
            mg = g == gi
            r1 = np.flatnonzero(mg & (topup != 0))
            kindtxt = "recoverable" if pl.draw.recoverable else "non-recoverable"
            if len(r1):
                entries[j].append(
                    PeriodLine(r1, j, "draw", topup[r1], f"{pl.name}: {kindtxt} draw of {pl.draw.amount}: top-up to the draw")
                )
            r2 = np.flatnonzero(mg & (recovery != 0))
            if len(r2):
                lim = _recovery_limit_words(pl.draw, span.periods[j].start)
                entries[j].append(
                    PeriodLine(r2, j, "draw_recovery", -recovery[r2], f"{pl.name}: recovery of the outstanding draw balance{lim}")
                )
        net = E + topup - recovery
        neg = np.where(carry_neg[g] == 1, np.minimum(net, 0), 0)  # carried to the next period
        r3 = np.flatnonzero(neg < 0)
        if len(r3):
            entries[j].append(PeriodLine(r3, j, "balance_out", -neg[r3], "negative balance carried forward to the next period"))
        neg_in = neg
        out["draw"][:, j] = topup
        out["recovery"][:, j] = -recovery
        out["payout"][:, j] = net - neg
        out["balance"][:, j] = balance
    return Settled(out["draw"], out["recovery"], out["payout"], out["balance"], entries)
