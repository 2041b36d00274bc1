"""The engine's cancellations and clawbacks.

A cancellation (``deal_id, cancel_date, amount_cents``) in the deal's own pay period is
a negative credit (:func:`cancel_credits`, before the tiers); in a later pay period it
claws back commission per ``plan.clawback`` (:func:`clawback_lines`, after the tiers):
at the rate paid, at a plan rate, or not at all, and never outside the clawback window.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from ...config.plans import PPM, ppm
from ...core.money import MICROS_PER_CENT, rdiv
from ...core.periods import DAY_NS
from .._credit_core import Credits, lookup
from .credits import CreditLines
from .inputs import PayPeriods, PlanChoice, _whole_cents
from .ledger import _KIND, Ledger, _money, _sum_into


@dataclass(frozen=True)
class Clawbacks:
    """Credit lines cancelled in a later pay period than their deal's (one entry per line).

    ``drow, am, cdate``: the credit line's deal row, AM code and close date (ns);
    ``cp``: the cancellation's period ordinal; ``cancel_cents``: magnitude cancelled
    of the deal; ``cancel_credit``: the credit taken back (cents, signed);
    ``dam``: the deal's amount (cents); ``cancel_date`` (ns).
    """

    drow: np.ndarray
    am: np.ndarray
    cdate: np.ndarray
    cp: np.ndarray
    cancel_cents: np.ndarray
    cancel_credit: np.ndarray
    dam: np.ndarray
    cancel_date: np.ndarray


def cancel_credits(
    cr: Credits, cancellations: pd.DataFrame | None, deals: pd.DataFrame, span: PayPeriods
) -> tuple[Credits, Clawbacks | None]:
    """Apply cancellations to the credit lines of their deals.

    Each credit line of a cancelled deal loses ``cancel / |deal amount|`` of its credit
    (rounded half away from zero to the cent; a whole-deal cancellation takes back the
    exact credit). In the deal's own pay period that is a negative credit line
    (source ``cancellation in period``) appended to ``cr``; later, a clawback.

    Returns
    -------
    credits, clawbacks
        ``cr`` with the in-period negative credits; the later-period cancellations
        (None when there are no cancellations).

    Raises
    ------
    DataError
        A cancellation amount that is not whole cents (file, row, column, value, fix).
    """
    if cancellations is None or not len(cancellations):
        return cr, None
    cal, kind = span.calendar, span.kind
    amount_all = deals["amount_cents"].to_numpy(np.int64)
    cx = cancellations.reset_index(drop=True)
    cx_date = pd.to_datetime(cx["cancel_date"]).to_numpy("datetime64[ns]").view(np.int64)
    if "amount_cents" in cx:
        cx_amt, cx_whole = _whole_cents(cx, "amount_cents", "cancellations", blank_means="the whole deal is cancelled")
    else:
        cx_amt, cx_whole = np.zeros(len(cx), np.int64), np.ones(len(cx), dtype=bool)
    cx_drow = lookup(cx["deal_id"], deals["deal_id"]) if len(deals) else np.full(len(cx), -1)
    # credits x cancellations on the deal (inner merge, credits order)
    cand = np.flatnonzero(np.isin(cr.drow, cx_drow[cx_drow >= 0]))
    if len(cand):
        mm = pd.DataFrame({"drow": cr.drow[cand], "ci": cand}).merge(
            pd.DataFrame({"drow": cx_drow, "xi": np.arange(len(cx))}), on="drow", how="inner"
        )
        ci, xi = mm["ci"].to_numpy(np.int64), mm["xi"].to_numpy(np.int64)
    else:
        ci = xi = np.zeros(0, np.int64)
    dam = amount_all[cr.drow[ci]]
    whole_x = cx_whole[xi]
    cancel_cents = np.where(whole_x, np.abs(dam), cx_amt[xi]).astype(np.int64)
    cdate_x = cx_date[xi]
    cp = cal.ordinals(cdate_x.view("datetime64[ns]"), kind)
    dp = cal.ordinals(cr.cdate[ci].view("datetime64[ns]"), kind)
    den = np.abs(dam)
    cancel_credit = -np.sign(dam) * rdiv(cancel_cents * np.abs(cr.credit[ci]), np.where(den == 0, 1, den))
    # a whole-deal cancellation takes back the exact credit; a partial one its whole cents
    cancel_exact = np.where(whole_x, -cr.exact[ci], cancel_credit * MICROS_PER_CENT)
    same = cp == dp
    if same.any():
        s_ = ci[same]
        neg = Credits(
            cr.drow[s_],
            cr.am[s_],
            cdate_x[same],
            cancel_credit[same],
            cr.share[s_],
            cr.kind[s_],
            np.full(int(same.sum()), 4, np.int8),
            cancel_exact[same],
        )
        cr = Credits.concat([cr, neg])
    later = cp > dp
    return cr, Clawbacks(
        cr.drow[ci[later]],
        cr.am[ci[later]],
        cr.cdate[ci[later]],
        cp[later],
        cancel_cents[later],
        cancel_credit[later],
        dam[later],
        cdate_x[later],
    )


def clawback_lines(
    claw: Clawbacks | None, lines: CreditLines, paid: list, n_codes: int, choice: PlanChoice, span: PayPeriods, ledger: Ledger
) -> np.ndarray:
    """Clawback lines for credit lines cancelled in a later pay period of the run.

    Per the plan in force in the cancellation's period (``plan.clawback``):
    ``method: none`` claws back nothing; outside ``window_days`` after close nothing;
    ``plan_rate`` takes ``rate`` of the cancelled credit; otherwise the commission paid
    on the deal in this ledger times ``cancelled / deal amount`` (rounded half away from
    zero), or the tier-1 rate when the deal was paid before the ledger's start.

    Parameters
    ----------
    paid : list of (credit line rows, amounts)
        The commission lines' batches (:func:`reportkit.domain.engine.tiers.commission_lines`).
    n_codes : int
        The number of AM id codes (keys of (deal, AM)).

    Returns
    -------
    int64 array (A, P)
        Clawback cents per AM and pay period (negative takes back).
    """
    A, P = choice.pidx.shape
    claw_ap = np.zeros((A, P), dtype=np.int64)
    if claw is None or not len(claw.drow):
        return claw_ap
    cr, n_c = lines.cr, lines.n
    # commission paid per (deal, AM) in this ledger
    ckey = cr.drow * (n_codes + 1) + cr.am
    wkey = claw.drow * (n_codes + 1) + claw.am
    inset = np.flatnonzero(np.isin(ckey, wkey))
    row_paid = np.zeros(n_c, dtype=np.int64)
    for r_, amt in paid:
        row_paid += _sum_into(n_c, r_, amt)
    paid_by = pd.Series(row_paid[inset]).groupby(ckey[inset]).sum()
    paid_w = paid_by.reindex(wkey).to_numpy(dtype=float)
    for t in range(len(wkey)):
        j = int(claw.cp[t]) - span.o0
        i = int(claw.am[t])
        if not 0 <= j < P or i >= A:
            continue
        gg = choice.pidx[i, j]
        pl = choice.plans[gg] if gg >= 0 else choice.plans[0]
        cb = pl.clawback
        days = int((claw.cancel_date[t] - claw.cdate[t]) // DAY_NS)
        cc = int(claw.cancel_credit[t])
        dam_t, canc_t = int(claw.dam[t]), int(claw.cancel_cents[t])
        if cb.method == "none":
            amt, txt, rate = 0, f"{pl.name}: clawback method none: cancellation not clawed back", -1
        elif cb.window_days is not None and days > cb.window_days:
            amt, txt, rate = (
                0,
                f"{pl.name}: cancelled {days} days after close, outside the {cb.window_days}-day clawback window",
                -1,
            )
        elif cb.method == "plan_rate":
            rate = ppm(cb.rate)
            amt, txt = rdiv(cc * rate, PPM), f"{pl.name}: clawback at plan rate {cb.rate} of the cancelled credit"
        elif np.isnan(paid_w[t]):
            r1 = pl.rates.tiers[0].rate if pl.rates.tiers else Decimal(0)  # a pay curve (method curve) has no tiers
            rate = ppm(r1)
            amt = rdiv(cc * rate, PPM)
            txt = f"{pl.name}: clawback: deal paid before the ledger start; tier 1 rate {r1}"
        else:
            paid_t = int(paid_w[t])
            den = abs(dam_t) or 1
            amt = -rdiv(paid_t * canc_t, den) if dam_t >= 0 else rdiv(paid_t * canc_t, den)
            rate = -1
            txt = (
                f"{pl.name}: clawback at the rate paid: commission paid {_money(paid_t)} x cancelled "
                f"{_money(canc_t)} / deal {_money(dam_t)}"
            )
        claw_ap[i, j] += amt
        ledger.add(
            am=[i],
            p=j,
            kind=_KIND["clawback"],
            drow=int(claw.drow[t]),
            cdate=int(claw.cdate[t]),
            credit=cc,
            has_credit=True,
            rate=rate,
            rule=ledger.rule(txt),
            amount=amt,
        )
    return claw_ap
