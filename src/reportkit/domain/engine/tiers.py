"""The engine's rate schedules: tiers (flat, retroactive, marginal, overage), pay curves, gates and accumulation.

Step 4 of :func:`reportkit.domain.engine.compute`. A plan's ``rates`` (and each of its
``rate_components``, on their own lines) turn credit into commission lines:
:func:`tier_commission` applies a tier table to credit lines (exact integer cents;
rates and attainment bounds in parts per million), :func:`curve_commission` a pay
curve, a gate pays nothing below an attainment, a window (``applies_from`` /
``applies_below``) limits the credit a schedule pays on, and :func:`commission_lines`
accumulates the basis per deal, per pay period or year to date (with a true-up line
for earlier deals of the year re-rated at the year's tier).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from ...config.plans import PPM, Plan, RateSchedule, ppm
from ...core.errors import PlanError
from ...core.money import rdiv
from ...core.money import rdiv_inplace as _rdiv_inplace
from .credits import CreditLines, PayoutSplit, share_payout
from .curves import curve_commission
from .inputs import PayPeriods, PlanChoice, year_to_date
from .ledger import _KIND, Ledger, _segment_cumsum, _sum_into
from .quotas import Attainment

_BIG = np.int64(2**62)


def _ceil_div(num, den):
    return -((-num) // den)


def _bounds(rs: RateSchedule, q: np.ndarray, boundary: str = "upper") -> np.ndarray:
    """Lower bounds in cents, shape (n, K); column 0 is -inf. ``q``: quota (cents) per line.

    ``boundary`` (``rates.boundary``): ``upper`` gives the smallest basis *in* tier k
    (a basis on ``from`` is in tier k); ``lower`` the smallest basis *above* ``from``
    (a basis on ``from`` stays in tier k - 1): one cent more on amounts,
    ``floor(from x quota) + 1`` on attainment.
    """
    K = len(rs.tiers)
    n = len(q)
    b = np.empty((n, K), dtype=np.int64)
    b[:, 0] = -_BIG
    for k in range(1, K):
        if rs.basis == "amount":
            b[:, k] = Plan.cents(rs.tiers[k].lo) + (boundary == "lower")
        elif boundary == "lower":
            # smallest credit c with c / q > lo  ->  floor(lo_ppm x q / 1e6) + 1
            b[:, k] = np.where(q > 0, ppm(rs.tiers[k].lo) * q // PPM + 1, _BIG)
        else:
            # smallest credit c with c / q >= lo  ->  ceil(lo_ppm x q / 1e6); undefined when q == 0
            b[:, k] = np.where(q > 0, _ceil_div(ppm(rs.tiers[k].lo) * q, PPM), _BIG)
    return b


def _window(rs: RateSchedule, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``applies_from`` / ``applies_below`` in cents per quota of ``q``, as a tier bound (``-inf`` / ``inf`` when absent).

    On attainment the bound is ``ceil(x x quota)``; with no quota (undefined
    attainment) both are ``inf``: a window from a threshold pays nothing, one below
    a threshold pays everything.
    """

    def at(x, absent):
        if x is None:
            return np.full(len(q), absent, dtype=np.int64)
        if rs.basis == "amount":
            return np.full(len(q), Plan.cents(x), dtype=np.int64)
        return np.where(q > 0, _ceil_div(ppm(x) * q, PPM), _BIG)

    return at(rs.applies_from, -_BIG), at(rs.applies_below, _BIG)


def tier_commission(
    before: np.ndarray,
    after: np.ndarray,
    total: np.ndarray,
    bounds: np.ndarray,
    rates_ppm: np.ndarray,
    method: str,
    rows: np.ndarray | None = None,
    reach_bounds: np.ndarray | None = None,
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
    method : {"flat", "retroactive", "marginal", "overage"}
        ``flat``/``retroactive``: whole credit at the rate of the tier of ``total``.
        ``marginal``: the credit is cut at the bounds crossed between ``before`` and
        ``after``; each slice earns its tier's rate (one output line per slice).
        ``overage``: the credit is cut at the second tier's bound; the slice below
        earns tier 1's rate, the slice above the rate of the tier of ``total``.
    rows : int64 array (n,), optional
        Row of ``bounds`` for each line (``bounds`` then holds one bound set per
        AM x pay period instead of one per line).
    reach_bounds : int64 array like ``bounds``, optional
        Bounds for the tier ``total`` reaches when they differ from the cut bounds
        (``rates.boundary: lower``, see ``tiers._bounds``); default ``bounds``.

    Returns
    -------
    line, tier, credit, rate_ppm, amount : int64 arrays
        ``line`` indexes the input (non-decreasing; slices of a line in tier
        order); ``amount = rdiv(credit x rate_ppm, 1e6)``.
    """
    n = len(before)
    if rows is not None and bounds.shape[0] == 1:
        rows = None
    reach = bounds if reach_bounds is None else reach_bounds
    if method == "overage":
        return _overage_slices(before, after, _tier_of(total, reach, rows).astype(np.int64), bounds, rates_ppm, rows)
    if method != "marginal":
        k = _tier_of(total, reach, rows).astype(np.int64)
        credit = after - before
        rate = rates_ppm[k]
        return np.arange(n), k, credit, rate, rdiv(credit * rate, PPM)
    line, k, credit, rate, amount = _marginal_slices(
        before, after, _tier_of(before, bounds, rows), _tier_of(after, bounds, rows), bounds, rates_ppm, rows
    )
    return line, k.astype(np.int64), credit, rate.astype(np.int64), amount


def _overage_slices(before, after, reached, bounds, rates_ppm, rows=None):
    """``method: overage``: cut each line at tier 2's bound; below it tier 1, above it the tier ``reached``.

    ``reached`` (n,) is the 0-based tier of each line's accumulated total. A line
    that ends exactly on the bound stays one slice below it (as under marginal).
    """
    b2 = np.ascontiguousarray(bounds[:, :2])
    line, band, credit, _, _ = _marginal_slices(
        before, after, _tier_of(before, b2, rows), _tier_of(after, b2, rows), b2, rates_ppm[:2], rows
    )
    k = np.where(band == 0, 0, reached[line]).astype(np.int64)
    rate = rates_ppm[k].astype(np.int64)
    return line, k, credit, rate, rdiv(credit * rate, PPM)


def _bound_columns(bounds: np.ndarray, rows: np.ndarray | None) -> list[np.ndarray]:
    """Per-line lower bounds of tiers 2..K (column 0, -inf, is implied), each shape (n,)."""
    return [
        np.ascontiguousarray(bounds[:, k]) if rows is None else np.ascontiguousarray(bounds[:, k])[rows]
        for k in range(1, bounds.shape[1])
    ]


def _tier_of(
    x: np.ndarray, bounds: np.ndarray, rows: np.ndarray | None = None, cols: list[np.ndarray] | None = None
) -> np.ndarray:
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


def _curve_rules(title: str, rs: RateSchedule, unit: str, window: str) -> list[str]:
    """Rule text of each segment of a pay curve (the last: beyond its last point)."""
    pts = rs.curve
    head = f"{title}: pay curve on {rs.basis}, {rs.accumulation}{window}; "

    def pays(pt):  # money, or a fraction of the period's (prorated) target incentive
        return pt.pay if pt.of_ti is None else f"{pt.of_ti} x the target incentive"

    out = [
        f"{head}segment {k + 1} from {a.at}{unit} (pays {pays(a)}) to {b.at}{unit} (pays {pays(b)}), linear: "
        f"the deal earns the rise of the curve over its credit"
        for k, (a, b) in enumerate(itertools.pairwise(pts))
    ]
    out.append(f"{head}beyond the last point {pts[-1].at}{unit} the payout stays {pays(pts[-1])}: nothing more earned")
    return out


def _tier_rules(title: str, rs: RateSchedule) -> list[str]:
    """The rule text of each tier of ``rs`` (``title``: the plan's name, and its component's)."""
    out = []
    lower = rs.boundary == "lower"
    unit = "" if rs.basis == "amount" else " of quota"
    window = ""
    if rs.windowed:
        window = "".join(
            [
                f" from {rs.applies_from}{unit}" if rs.applies_from is not None else "",
                f" below {rs.applies_below}{unit}" if rs.applies_below is not None else "",
            ]
        )
        window = f"; on credit{window}"
    if rs.method == "curve":
        return _curve_rules(title, rs, unit, window)
    for k, t in enumerate(rs.tiers):
        hi = rs.tiers[k + 1].lo if k + 1 < len(rs.tiers) else None
        if lower:  # a total on a bound is in the tier below: (from, next_from]
            rng = f"{'[' if k == 0 else '('}{t.lo}, {f'{hi}]' if hi is not None else 'inf)'}{unit}"
        else:
            rng = f"[{t.lo}, {hi if hi is not None else 'inf'}){unit}"
        lab = f" {t.label}" if t.label else ""
        rate = t.rate if t.bcr_multiple is None else f"{t.bcr_multiple} x BCR = {t.exact_rate} exactly (about {t.rate})"
        rule = f"{title}: {rs.method} {rs.basis} tiers, {rs.accumulation}{window}; tier {k + 1}{lab} {rng} at {rate}"
        if rs.method == "overage":
            rule += (
                f": credit below {rs.tiers[1].lo}{unit} at tier 1's rate"
                if k == 0
                else f": credit from {rs.tiers[1].lo}{unit} on, paid at the rate of the tier the total reached"
            )
        out.append(rule)
    return out


def uses_attainment(plan: Plan) -> bool:
    """Whether a plan's rate schedules (its ``rates`` or any of its ``rate_components``)
    depend on attainment (attainment tiers or a gate)."""
    return any(rs.basis == "attainment" or rs.gate is not None for rs in plan.schedules)


def check_undefined_attainment(
    g: int,
    lines: CreditLines,
    choice: PlanChoice,
    att: Attainment,
    span: PayPeriods,
    ams: np.ndarray,
    asked: np.ndarray | None = None,
) -> None:
    """Refuse the run when plan ``g`` says ``undefined_attainment: refuse`` and a quota is 0.

    Only pay periods in which an account manager on the plan has credit lines
    count (nothing to pay, nothing to refuse; ``ams``: the id of each AM code), and only when the plan's schedule
    uses attainment (:func:`uses_attainment`; per-period quota, or year-to-date
    quota for ``accumulation: ytd``).

    Which periods: for a plan whose pay periods stand alone (not year to date:
    :func:`~reportkit.domain.engine.inputs.year_to_date` is false) only the periods
    asked for (``asked``, bool per pay period; default all), so a zero quota in an
    earlier quarter of the ledger does not stop a later quarter's statement (those
    earlier lines pay nothing, :class:`_Schedule`). For a year-to-date or cumulative
    plan every period of the ledger up to the one asked for counts: its figures
    build on them.

    Raises
    ------
    PlanError
        Naming the plan file, the key ``undefined_attainment``, each account
        manager and pay period with a zero quota, and the fix.
    """
    pl = choice.plans[g]
    if pl.undefined_attainment_policy != "refuse" or not uses_attainment(pl) or not lines.n:
        return
    q = att.ytd_quota if pl.rates.accumulation == "ytd" else att.quota
    on = lines.flat if choice.one_plan else lines.flat[lines.plan == g]
    A, P = q.shape
    has = np.zeros(A * P, dtype=bool)
    has[on] = True
    if asked is not None and not year_to_date(pl):  # periods that stand alone: only those asked for
        has &= np.tile(np.asarray(asked, dtype=bool), A)
    bad = np.flatnonzero(has & (q.reshape(-1) == 0))
    if not len(bad):
        return
    where = ", ".join(f"account manager {ams[i]!r} in {span.labels[j]}" for i, j in zip((bad // P).tolist(), (bad % P).tolist()))
    raise PlanError(
        f"{pl.source_file or pl.name}: key 'undefined_attainment': 'refuse': the quota is 0 (attainment undefined) for {where}",
        hint="give these account managers a quota for the period, or set undefined_attainment to "
        "'pay_nothing' or 'base_tier' (allowed: pay_nothing, base_tier, refuse)",
    )


# ---------------------------------------------------------------------------
# commission lines: a plan's schedule over its credit lines
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _Schedule:
    """One rate schedule of a plan ready for the lines: tier rates (ppm), the rule codes of its tiers and gate.

    ``rs`` is the plan's ``rates`` or one of its ``rate_components``; ``title`` names
    the plan (and the component) in the rule texts.
    """

    plan: Plan
    rs: RateSchedule
    title: str
    rates: np.ndarray
    tcodes: np.ndarray
    gate_code: int
    undefined_code: int = -1  # rule of a line not paid because attainment is undefined (quota 0); -1: paid
    # fixes group (issue #13): tier rates that are not whole ppm (a BCR), as numerators over one denominator
    exact: tuple[np.ndarray, int] | None = None

    @classmethod
    def of(cls, pl: Plan, ledger: Ledger, rs: RateSchedule | None = None, name: str | None = None) -> _Schedule:
        rs = pl.rates if rs is None else rs
        title = pl.name if name is None else f"{pl.name}, component {name}"
        rates = np.array([ppm(t.rate) for t in rs.tiers], dtype=np.int32)  # ppm <= 1e6; empty for a curve
        tcodes = np.array(ledger.rule_codes(_tier_rules(title, rs), schedule=name or ""), dtype=np.int32)
        gate_code = ledger.rule(f"{title}: below gate {rs.gate} attainment: nothing earned") if rs.gate is not None else -1
        undefined = -1
        # the policy as declared, else per schedule: a gated schedule never pays through its gate
        policy = pl.undefined_attainment or ("pay_nothing" if rs.gate is not None else "base_tier")
        if (rs.basis == "attainment" or rs.gate is not None) and policy == "pay_nothing":
            undefined = ledger.rule(f"{title}: quota 0, attainment undefined: nothing earned (undefined_attainment: pay_nothing)")
        elif (rs.basis == "attainment" or rs.gate is not None) and policy == "refuse":
            # refuse concerns the periods asked for (check_undefined_attainment); an earlier period of
            # the ledger with quota 0 earns nothing rather than paying through the missing quota
            undefined = ledger.rule(
                f"{title}: quota 0, attainment undefined in a period before the one asked for: nothing earned "
                "(undefined_attainment: refuse applies to the periods asked for)"
            )
        return cls(pl, rs, title, rates, tcodes, gate_code, undefined, _exact_rates(rs))

    @classmethod
    def all_of(cls, pl: Plan, ledger: Ledger) -> list[_Schedule]:
        """The plan's ``rates`` then each of its ``rate_components``, in the plan's order."""
        own = [cls.of(pl, ledger)] if pl.rates is not None else []  # measures2: none on a measures-only plan
        return own + [cls.of(pl, ledger, c, c.name) for c in pl.rate_components]

    def lines(self, idx_rows, before, after, total, qline, attline_c, attline_q, qtab=None, qidx=None, sliced=None, ti=None):
        """Tier the lines ``idx_rows`` (basis ``before`` -> ``after``, tier reached ``total``), then the gate.

        The bounds are per line (``qline``: quota cents), per AM x pay period
        (``qtab`` looked up by ``qidx``) or one set (amount basis); ``sliced``: the
        marginal slices already cut (per-period marginal). Below the gate (attainment
        ``attline_c / attline_q`` under ``rates.gate``, quota > 0) a line earns 0 at rate
        0 under the gate's rule. A windowed schedule (``applies_from`` /
        ``applies_below``) pays only the part of each line's basis inside the window;
        lines with none are left out.

        Returns
        -------
        rows, tier (0-based), credit, rate_ppm, amount, rule code : arrays, one per slice
        """
        rs = self.rs
        bi = None
        if sliced is not None:  # per-period marginal: tiers of both ends already known
            rows, k, cc, rate, amt = sliced
        else:
            if rs.basis != "attainment":
                q = np.zeros(1, np.int64)
            elif qtab is not None:  # one bound set per AM x pay period, looked up per line
                q, bi = qtab, qidx
            else:
                q = qline
            if rs.windowed:
                idx_rows, before, after, total, attline_c, attline_q, bi = _in_window(
                    rs, q, bi, idx_rows, before, after, total, attline_c, attline_q
                )
            if rs.method == "curve":
                rows, k, cc, rate, amt = curve_commission(rs, before, after, q if bi is None else q[bi], ti)
            else:
                b = _bounds(rs, q)
                reach = _bounds(rs, q, "lower") if rs.boundary == "lower" and rs.method != "marginal" else None
                rows, k, cc, rate, amt = tier_commission(
                    before, after, total, b, self.rates, rs.method, rows=bi, reach_bounds=reach
                )
        if self.exact is not None:  # a rate that is not whole ppm (a BCR): credit x num / den, rounded once
            amt = exact_amounts(cc, self.exact[0][k], self.exact[1])
        rc = self.tcodes[k]
        if rs.gate is not None:
            q = attline_q[rows]
            below = (q > 0) & (attline_c[rows] * PPM < ppm(rs.gate) * q)
            rate = np.where(below, 0, rate)
            amt = np.where(below, 0, amt)
            rc = np.where(below, self.gate_code, rc)
        if self.undefined_code >= 0:  # undefined_attainment: pay_nothing (incentive group, issue #13 item 16)
            undefined = attline_q[rows] == 0
            rate = np.where(undefined, 0, rate)
            amt = np.where(undefined, 0, amt)
            rc = np.where(undefined, self.undefined_code, rc)
        same = len(rows) == len(idx_rows)  # one slice per line: rows is the identity
        return (idx_rows if same else idx_rows[rows]), k, cc, rate, amt, rc


def _exact_rates(rs: RateSchedule) -> tuple[np.ndarray, int] | None:
    """The tier rates of ``rs`` as integer numerators over one denominator, when ppm cannot hold them.

    A rate written in the plan has at most six decimals: ppm is exact and the
    common path stays as it is (None). A rate derived as a multiple of the base
    commission rate (:attr:`reportkit.config.plans.Tier.exact_rate`, e.g. 1/12) is
    not: its tiers get ``(nums, den)`` with ``rate_k == nums[k] / den`` exactly.
    """
    fr = [t.exact_rate for t in rs.tiers]
    den = math.lcm(*(f.denominator for f in fr)) if fr else 1
    if PPM % den == 0:
        return None
    return np.array([f.numerator * (den // f.denominator) for f in fr], dtype=object), den


def exact_amounts(credit: np.ndarray, num: np.ndarray, den: int) -> np.ndarray:
    """``credit x num / den`` per line, rounded half away from zero once (int64 cents).

    Parameters
    ----------
    credit : int64 array (n,)
        Each line's credit in cents (negative for returns).
    num : array (n,)
        The numerator of each line's exact rate over ``den``.
    den : int
        The common denominator (> 0).

    In int64 when the products cannot overflow, else in Python integers.

    Examples
    --------
    >>> exact_amounts(np.array([15_000_000, -7]), np.array([1, 1], dtype=object), 12).tolist()
    [1250000, -1]
    """
    n = len(credit)
    if not n:
        return np.zeros(0, dtype=np.int64)
    big = int(np.abs(credit).max()) * int(max(abs(int(x)) for x in num)) >= 2**62 or den >= 2**61
    if not big:
        return rdiv(credit.astype(np.int64) * num.astype(np.int64), den)
    return np.array([rdiv(int(c) * int(x), den) for c, x in zip(credit.tolist(), num.tolist())], dtype=np.int64)


def _in_window(rs, q, bi, idx_rows, before, after, total, attline_c, attline_q):
    """Clip each line's basis ``before -> after`` to the schedule's window; keep the lines with credit in it.

    ``q``: quota cents per line, per ``bi`` row, or one (amount basis). Returns the
    kept ``idx_rows, before, after, total, attline_c, attline_q, bi``.
    """
    lo, hi = _window(rs, q)
    if len(lo) == 1:
        lo, hi = lo[0], hi[0]
    elif bi is not None:
        lo, hi = lo[bi], hi[bi]
    b = np.minimum(np.maximum(before, lo), hi)
    a = np.minimum(np.maximum(after, lo), hi)
    keep = np.flatnonzero(a != b)

    def sub(x):
        return None if x is None else x[keep]

    return idx_rows[keep], b[keep], a[keep], sub(total), sub(attline_c), sub(attline_q), sub(bi)


def commission_lines(
    g: int,
    lines: CreditLines,
    choice: PlanChoice,
    att: Attainment,
    span: PayPeriods,
    ledger: Ledger,
    ti: tuple[np.ndarray, np.ndarray] | None = None,
    payout: PayoutSplit | None = None,
) -> tuple[np.ndarray, list]:
    """Commission lines of plan ``g`` on the credit lines of the AMs and periods it covers.

    Parameters
    ----------
    lines : CreditLines
        Credit lines in ledger order (``credit`` in integer cents).
    att : Attainment
        Quota and credited revenue per AM and pay period (cents): the tier bounds on
        an attainment basis and the gate.
    ti : (ti, ti_ytd), optional
        Target incentive cents per AM and pay period, and year to date
        (:func:`reportkit.domain.engine.caps.period_target_incentive`): a pay curve of
        ``of_ti`` points pays fractions of it.
    payout : PayoutSplit, optional
        A ``splits.mode: split_payout`` run's whole-deal basis
        (:func:`~reportkit.domain.engine.credits.payout_split`): the schedules pay on
        ``payout.lines`` with ``payout.att`` (each deal shared by a split measured
        whole, at its primary's running total), and each line of a split deal is
        shared among its participants (:func:`~reportkit.domain.engine.credits.share_payout`).

    Returns
    -------
    commission, paid
        ``commission`` (A, P) int64 cents: the sum of the plan's rounded lines (and
        YTD true-ups) per AM and period; ``paid``: ``(credit line rows, amounts)`` of
        each batch of lines, for clawbacks at the rate paid. The lines (kind
        ``commission``, one per deal or per tier slice, and ``true_up``) are added to
        ``ledger``.
    """
    pl = choice.plans[g]
    A, P = att.quota.shape
    comm_ap = np.zeros((A, P), dtype=np.int64)
    paid: list = []
    shared = payout is not None and pl.splits.mode == "split_payout"
    if shared:  # splits group (issue #13 item 7): the schedules measure each split deal whole
        lines, att = payout.lines, payout.att
    whole = choice.one_plan  # the plan covers every line: no selection copies
    sel = np.arange(lines.n) if whole else np.flatnonzero(lines.plan == g)
    if not len(sel):
        return comm_ap, paid
    batches = []
    for sch in _Schedule.all_of(pl, ledger):  # rates, then each rate component: its own lines
        if sch.rs.curve_of_ti and ti is None:
            raise PlanError(f"{pl.source_file or pl.name}: a pay curve of 'of_ti' points needs the target incentive")
        if sch.rs.accumulation == "per_deal":
            batches += _per_deal(sch, lines, sel, whole, att)
        elif sch.rs.accumulation == "per_period":
            batches += _per_period(sch, lines, sel, whole, att, ti[0] if sch.rs.curve_of_ti else None)
        else:
            ti_ytd = ti[1] if sch.rs.curve_of_ti else None
            batches += _year_to_date(sch, g, lines, sel, whole, att, span, choice, ledger, comm_ap, ti_ytd)
    cr, c_flat = lines.cr, lines.flat
    for r_, k, cc, rate, amt, rc, kd, ident in batches:  # ident: r_ is every credit line once, in order
        if shared:  # each line of a split deal becomes its participants' shares of it
            r_, k, cc, rate, amt, rc = share_payout(payout, r_, k, cc, rate, amt, rc)
            ident = False
        comm_ap += _sum_into(A * P, c_flat if ident else c_flat[r_], amt).reshape(A, P)
        paid.append((r_, amt))
        ledger.add(
            am=cr.am if ident else np.take(lines.am_narrow, r_),
            p=lines.p if ident else np.take(lines.p_narrow, r_),
            kind=kd,
            drow=cr.drow if ident else np.take(cr.drow, r_),
            cdate=cr.cdate if ident else np.take(cr.cdate, r_),
            credit=cc,
            has_credit=True,
            tier=k + 1,
            rate=rate,
            rule=rc,
            amount=amt,
        )
    return comm_ap, paid


def _ident(sch: _Schedule, whole: bool, r_: np.ndarray, lines: CreditLines) -> bool:
    """``r_`` is every credit line once, in order: the plan covers every line and none was cut or left out.

    Lines are cut into slices (marginal) or left out (a windowed schedule), so equal
    lengths prove the identity only without a window.
    """
    return whole and len(r_) == lines.n and not sch.rs.windowed


def _per_deal(sch: _Schedule, lines: CreditLines, sel: np.ndarray, whole: bool, att: Attainment) -> list:
    """``accumulation: per_deal``: each deal's credit alone through the tiers (a return at its own tier, negated)."""
    credit = lines.cr.credit
    cr_s = credit if whole else credit[sel]
    am_s, p_s = (lines.cr.am, lines.p) if whole else (lines.cr.am[sel], lines.p[sel])
    mag = np.abs(cr_s)
    sgn = np.where(cr_s < 0, -1, 1)
    z = np.zeros_like(mag)
    r_, k, cc, rate, amt, rc = sch.lines(sel, z, mag, mag, None, att.credit[am_s, p_s], att.quota[am_s, p_s])
    s2 = sgn[np.searchsorted(sel, r_)]
    cc, amt = cc * s2, amt * s2
    return [(r_, k, cc, rate, amt, rc, _KIND["commission"], _ident(sch, whole, r_, lines))]


def _per_period(
    sch: _Schedule, lines: CreditLines, sel: np.ndarray, whole: bool, att: Attainment, ti: np.ndarray | None = None
) -> list:
    """``accumulation: per_period``: the basis accumulates over each AM's pay period, in ledger order.

    Flat / retroactive: every line at the tier of the period's total. Marginal: each
    line cut at the bounds its running credit crosses.
    """
    rs = sch.rs
    credit, c_flat = lines.cr.credit, lines.flat
    cred_ap, Q = att.credit, att.quota
    cr_s = credit if whole else credit[sel]
    if whole:
        f_s, st, sl_ = c_flat, lines.seg, lines.seg_len
    else:
        f_s = c_flat[sel]
        st = np.flatnonzero(np.r_[True, f_s[1:] != f_s[:-1]])
        sl_ = np.diff(np.r_[st, len(f_s)])
    # running credit within each (AM, period) segment (int64 wrap-around cancels out)
    seg_of = np.repeat(np.arange(len(st), dtype=np.int32), sl_)  # segment of each line
    cum = np.cumsum(cr_s)
    cum -= np.take(cum[st] - cr_s[st], seg_of)
    before = cum - cr_s
    qs = Q.reshape(-1)[f_s] if rs.gate is not None or sch.undefined_code >= 0 else None
    sliced = None
    if rs.method == "marginal" and not rs.windowed:
        sliced = _period_marginal_slices(sch, Q.reshape(-1)[f_s[st]], cum, before, st, seg_of)
        total = None
    else:
        total = cred_ap.reshape(-1)[f_s]
    tot_line = total if total is not None else (cred_ap.reshape(-1)[f_s] if rs.gate is not None else None)
    ti_l = None if ti is None else ti.reshape(-1)[f_s]  # a curve of of_ti points: the period's TI per line
    r_, k, cc, rate, amt, rc = sch.lines(
        sel, before, cum, total, qs, tot_line, qs, qtab=Q.reshape(-1), qidx=f_s, sliced=sliced, ti=ti_l
    )
    return [(r_, k, cc, rate, amt, rc, _KIND["commission"], _ident(sch, whole, r_, lines))]


def _period_marginal_slices(
    sch: _Schedule, q_seg: np.ndarray, cum: np.ndarray, before: np.ndarray, st: np.ndarray, seg_of: np.ndarray
):
    """Marginal slices of per-period lines: bounds per (AM, period) segment (quota ``q_seg``), repeated per line.

    The tier before a line is the tier after the previous line of its segment (0
    credit at the segment start), so each line's two ends are tiered once.
    """
    rs = sch.rs
    bseg = _bounds(rs, q_seg) if rs.basis == "attainment" else _bounds(rs, np.zeros(1, np.int64))
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
    return _marginal_slices(before, cum, t_b, t_a, bl, sch.rates, brow)


def _year_to_date(
    sch: _Schedule,
    g: int,
    lines: CreditLines,
    sel: np.ndarray,
    whole: bool,
    att: Attainment,
    span: PayPeriods,
    choice: PlanChoice,
    ledger: Ledger,
    comm_ap: np.ndarray,
    ti_ytd: np.ndarray | None = None,
) -> list:
    """``accumulation: ytd``: each period re-tiers the year's lines so far at the year-to-date tier.

    The current period's lines are paid at that tier; the difference for earlier
    periods' lines, minus what they already earned, is a ``true_up`` line (added to
    ``ledger`` and to ``comm_ap`` here).
    """
    A, P = comm_ap.shape
    c_am, c_p, credit = lines.cr.am, lines.p, lines.cr.credit
    cr_s = credit if whole else credit[sel]
    am_s, p_s = (c_am, c_p) if whole else (c_am[sel], c_p[sel])
    pyear, year_start = span.fiscal_year, span.year_start
    ycum, yq = att.ytd_credit, att.ytd_quota
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
        r_, k, cc, rate, amt, rc = sch.lines(
            sel[ii],
            before[ii],
            cum[ii],
            ycum[aa, j],
            yq[aa, j],
            ycum[aa, j],
            yq[aa, j],
            ti=None if ti_ytd is None else ti_ytd[aa, j],
        )
        cur = c_p[r_] == j
        batches.append((r_[cur], k[cur], cc[cur], rate[cur], amt[cur], rc[cur], _KIND["commission"], False))
        e_now = _sum_into(A, c_am[r_], amt)
        prior = _sum_into(A, c_am[r_[~cur]], amt[~cur])
        tu = prior - prev_e
        prev_e = e_now
        act = np.flatnonzero((tu != 0) & (choice.pidx[:, j] == g))
        if len(act):
            code = ledger.rule(
                f"{sch.title}: YTD true-up: earlier deals of the year re-rated at the "
                f"year-to-date tier, minus commission already earned on them"
            )
            ledger.add(am=act, p=j, kind=_KIND["true_up"], amount=tu[act], rule=code)
            comm_ap[act, j] += tu[act]
    return batches
