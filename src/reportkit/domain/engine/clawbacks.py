"""The engine's cancellations and clawbacks.

A cancellation (``deal_id, cancel_date, amount_cents``) in the deal's own pay period is
a negative credit (:func:`cancel_credits`, before the tiers); in a later pay period it
claws back commission per ``plan.clawback.method`` (the plan in force in the
cancellation's period), never outside the clawback window:

* ``rate_paid`` / ``plan_rate`` / ``none``: a ``clawback`` line in the cancellation's
  period (:func:`clawback_lines`, after the tiers): at the rate paid, at a plan rate,
  or a zero line;
* ``negative_deal``: a negative credit dated on the cancellation day, in the
  cancellation's period (:func:`cancel_credits`): it runs through that period's
  rate schedule, attainment, caps and bonuses like a return;
* ``restate``: the origin period is recomputed without the cancelled credit and the
  difference is a ``prior_period_adjustment`` line in the cancellation's period
  naming the period it restates (:func:`restatement_lines`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from ...config.plans import PPM, deal_type_plan, ppm
from ...core.money import MICROS_PER_CENT, mul_ppm, rdiv
from ...core.periods import DAY_NS
from .._credit_core import Credits, deal_type_factor_ppm, lookup
from .credits import CreditLines
from .inputs import PayPeriods, PlanChoice, _whole_cents
from .ledger import _KIND, Ledger, _money, _sum_into

#: ``clawback.method`` values handled outside :func:`clawback_lines` (clawback group, issue #13).
NEGATIVE_DEAL, RESTATE = "negative_deal", "restate"


@dataclass(frozen=True)
class Clawbacks:
    """Credit lines cancelled in a later pay period than their deal's (one entry per line).

    ``drow, am, cdate``: the credit line's deal row, AM code and close date (ns);
    ``cp``: the cancellation's period ordinal; ``cancel_cents``: magnitude cancelled
    of the deal; ``cancel_credit``: the credit taken back (cents, signed);
    ``dam``: the deal's amount (cents); ``cancel_date`` (ns); ``origin``: the
    cancelled credit as negative credit lines dated on the deal's close date (what a
    ``restate`` plan takes out of the origin period, :func:`restatement_lines`).
    """

    drow: np.ndarray
    am: np.ndarray
    cdate: np.ndarray
    cp: np.ndarray
    cancel_cents: np.ndarray
    cancel_credit: np.ndarray
    dam: np.ndarray
    cancel_date: np.ndarray
    origin: Credits | None = None


def _quota_credit_micros(cents: np.ndarray, deals: pd.DataFrame, rows: np.ndarray, choice: PlanChoice | None) -> np.ndarray:
    """Credit toward quota (micros) of commission credits ``cents`` of the deals at ``rows`` (dealtype group).

    ``cents x 10,000``; times the deal's factor when the run's deal-type factors apply
    to ``quota_credit`` only (:func:`reportkit.domain.crediting.deal_type_factor_ppm`).
    """
    m = np.asarray(cents, dtype=np.int64) * MICROS_PER_CENT
    plan = None if choice is None else deal_type_plan(choice.plans)
    if plan is None or plan.crediting.deal_type_factors.applies_to == "both":
        return m
    return mul_ppm(m, deal_type_factor_ppm(deals, rows, plan))


def cancel_credits(
    cr: Credits,
    cancellations: pd.DataFrame | None,
    deals: pd.DataFrame,
    span: PayPeriods,
    choice: PlanChoice | None = None,
) -> tuple[Credits, Clawbacks | None]:
    """Apply cancellations to the credit lines of their deals.

    Each credit line of a cancelled deal loses ``cancel / |deal amount|`` of its credit
    (rounded half away from zero to the cent; a whole-deal cancellation takes back the
    exact credit). In the deal's own pay period that is a negative credit line
    (source ``cancellation in period``) appended to ``cr``; later, a clawback; or,
    when the plan in force for the AM in the cancellation's period (``choice``) has
    ``clawback.method: negative_deal`` and the cancellation is inside its
    ``window_days``, a negative credit line dated on the cancellation day (a
    negative deal in the current period).

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
    # a whole-deal cancellation takes back the exact credit; a partial one its whole cents (of credit
    # toward quota: times the deal's factor when a plan's deal-type factors apply to quota credit only)
    cancel_exact = np.where(whole_x, -cr.exact[ci], _quota_credit_micros(cancel_credit, deals, cr.drow[ci], choice))
    # the cancelled credit as negative credit lines dated on the cancellation day
    neg_all = Credits(
        cr.drow[ci], cr.am[ci], cdate_x, cancel_credit, cr.share[ci], cr.kind[ci], np.full(len(ci), 4, np.int8), cancel_exact
    )
    same = cp == dp
    later = cp > dp
    as_deal = later & _negative_deal(choice, span, cr.am[ci], cp, (cdate_x - cr.cdate[ci]) // DAY_NS)
    parts = [cr] + [neg_all.take(m) for m in (same, as_deal) if m.any()]
    if len(parts) > 1:
        cr = Credits.concat(parts)
    later &= ~as_deal
    origin = neg_all.take(later)
    origin = dataclasses.replace(origin, cdate=cr.cdate[ci[later]])
    return cr, Clawbacks(
        cr.drow[ci[later]],
        cr.am[ci[later]],
        cr.cdate[ci[later]],
        cp[later],
        cancel_cents[later],
        cancel_credit[later],
        dam[later],
        cdate_x[later],
        origin,
    )


def _plan_in(choice: PlanChoice, span: PayPeriods, am: np.ndarray, cp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(plan index, in the run) of each (AM code, period ordinal): the plan in force, plan 0 for nobody's."""
    A, P = choice.pidx.shape
    j = cp - span.o0
    ok = (j >= 0) & (j < P) & (am < A)
    g = np.zeros(len(am), np.int64)
    g[ok] = np.maximum(choice.pidx[am[ok], j[ok]], 0)
    return g, ok


def _by_method(choice: PlanChoice | None, span: PayPeriods, am, cp, days, method: str) -> np.ndarray:
    """Which cancellations the plan in force in their period handles by ``method``, inside its window."""
    if choice is None or not len(am) or not any(p.clawback.method == method for p in choice.plans):
        return np.zeros(len(am), dtype=bool)
    g, ok = _plan_in(choice, span, np.asarray(am, np.int64), np.asarray(cp, np.int64))
    is_m = np.array([p.clawback.method == method for p in choice.plans])
    window = np.array(
        [np.iinfo(np.int64).max if p.clawback.window_days is None else p.clawback.window_days for p in choice.plans]
    )
    return ok & is_m[g] & (np.asarray(days) <= window[g])


def _origin_in_run(claw: Clawbacks, span: PayPeriods) -> np.ndarray:
    """Whether each cancelled credit's origin pay period is in the run (else it cannot be restated)."""
    return span.calendar.ordinals(claw.cdate.view("datetime64[ns]"), span.kind) >= span.o0


def _negative_deal(choice, span, am, cp, days) -> np.ndarray:
    return _by_method(choice, span, am, cp, days, NEGATIVE_DEAL)


def clawback_lines(
    claw: Clawbacks | None, lines: CreditLines, paid: list, n_codes: int, choice: PlanChoice, span: PayPeriods, ledger: Ledger
) -> np.ndarray:
    """Clawback lines for credit lines cancelled in a later pay period of the run.

    Per the plan in force in the cancellation's period (``plan.clawback``):
    ``method: none`` claws back nothing; outside ``window_days`` after close nothing;
    ``restate`` is left to :func:`restatement_lines` when the origin period is in the
    run (otherwise it is charged back like ``rate_paid``: nothing is dropped);
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
    in_run = _origin_in_run(claw, span)
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
        elif cb.method == RESTATE and in_run[t]:
            continue  # restated in its origin period: restatement_lines
        elif cb.method == "plan_rate":
            rate = ppm(cb.rate)
            amt, txt = rdiv(cc * rate, PPM), f"{pl.name}: clawback at plan rate {cb.rate} of the cancelled credit"
        elif np.isnan(paid_w[t]):
            # a pay curve (method curve) has no tiers; a measures-only plan no rates (measures2 group)
            r1 = pl.rates.tiers[0].rate if pl.rates is not None and pl.rates.tiers else Decimal(0)
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


def restatement_lines(
    claw: Clawbacks | None,
    cr: Credits,
    comm_ap: np.ndarray,
    rerun,
    choice: PlanChoice,
    span: PayPeriods,
    ledger: Ledger,
    deals: pd.DataFrame,
) -> np.ndarray:
    """Prior-period adjustment lines of plans whose ``clawback.method`` is ``restate``.

    For each pay period ``c`` with such cancellations (in order), the rate schedule is
    run again (``rerun``) with the cancelled credit of every restate cancellation up to
    ``c`` taken out of its **origin** period (a negative credit on the deal's close
    date). Each earlier period ``k`` whose commission changes gets one
    ``prior_period_adjustment`` line in period ``c``: restated commission of ``k``
    minus what was paid for it (or restated before), saying which period it restates
    and which deals were cancelled. Only the rate-schedule commission is restated
    (SPIFs, caps, bonuses and draws of the origin period stand), and a cancellation
    outside ``window_days`` is not restated (:func:`clawback_lines` records it), nor
    one whose origin period is before the run's first period (:func:`clawback_lines`
    charges it back at the tier-1 rate, as ``rate_paid`` does for a deal paid before the
    ledger's start).

    Parameters
    ----------
    claw : Clawbacks or None
        Later-period cancellations (:func:`cancel_credits`).
    cr : Credits
        The run's credit lines (in-period cancellations and negative deals included).
    comm_ap : int64 array (A, P)
        Rate-schedule commission per AM and pay period as paid (cents).
    rerun : callable
        ``rerun(credits) -> int64 array (A, P)``: the rate-schedule commission of the
        same run on other credit lines (the engine's own tier step, :func:`reportkit.domain.engine.compute`).

    Returns
    -------
    int64 array (A, P)
        Adjustment cents per AM and pay period (negative takes back).
    """
    A, P = comm_ap.shape
    out = np.zeros((A, P), dtype=np.int64)
    if claw is None or claw.origin is None or not len(claw.drow):
        return out
    days = (claw.cancel_date - claw.cdate) // DAY_NS
    mine = _by_method(choice, span, claw.am, claw.cp, days, RESTATE) & _origin_in_run(claw, span)
    if not mine.any():
        return out
    labels = span.labels
    deal_ids = deals["deal_id"].astype(str).to_numpy(dtype=object)
    prev = comm_ap
    for c in sorted(set((claw.cp[mine] - span.o0).tolist())):
        upto = mine & (claw.cp - span.o0 <= c)
        now = rerun(Credits.concat([cr, claw.origin.take(upto)]))
        delta = now - prev
        delta[:, c:] = 0
        here = mine & (claw.cp - span.o0 == c)
        origin_p = span.calendar.ordinals(claw.cdate.view("datetime64[ns]"), span.kind) - span.o0
        for i, k in zip(*np.nonzero(delta)):
            which = here & (claw.am == i) & (origin_p == k)
            cancelled = sorted({deal_ids[d] for d in claw.drow[which].tolist()})
            plan = choice.plans[max(int(choice.pidx[i, c]), 0)]
            txt = (
                f"{plan.name}: prior-period adjustment: restates {labels[k]}: its commission recomputed without "
                f"the cancelled credit of {', '.join(cancelled) or 'deals cancelled earlier'} is "
                f"{_money(int(now[i, k]))} where {_money(int(prev[i, k]))} was paid"
            )
            ledger.add(
                am=[int(i)], p=int(c), kind=_KIND["prior_period_adjustment"], rule=ledger.rule(txt), amount=int(delta[i, k])
            )
            out[i, c] += int(delta[i, k])
        prev = np.where(np.arange(P) < c, now, prev)
    return out
