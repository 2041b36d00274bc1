"""The engine's pay curves: accumulated payout linear between points, rounded once (step 4, with the tiers).

A schedule with ``method: curve`` (tiers group, issue #13 item 12) pays each line the
rise of its curve over the line's credit, ``round(F(after)) - round(F(before))``:
:func:`curve_commission`. The points give money (``pay``) or fractions of the pay
period's target incentive (``of_ti``, fixes group). Used by
:mod:`reportkit.domain.engine.tiers`.
"""

from __future__ import annotations

import numpy as np

from ...config.plans import PPM, Plan, RateSchedule, ppm


def _half_away(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` rounded half away from zero, on Python-int (object) arrays; ``den`` > 0."""
    mag = (2 * abs(num) + den) // (2 * den)
    return np.where(num < 0, -mag, mag)


def _curve_cents(rs: RateSchedule, c: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Accumulated payout of a pay curve at basis ``c`` (cents), rounded to the cent, and its segment.

    Amount basis: ``x = c``; attainment: ``x = c / q`` (``q`` quota cents per line; no
    quota: the curve at 0). ``F = y_k + (y_k+1 - y_k) x (x - x_k) / (x_k+1 - x_k)``
    rounded half away from zero (``F >= 0``: half up). Below the first point the
    curve is its first ``pay``; beyond the last, its last. Exact: ``x`` is held as
    ``xn / xd`` in integers; the rise ``y_k+1 - y_k`` times a fraction in ``[0, 1)`` is
    estimated in float64 and only lines whose estimate lies within the float error
    of a half cent are recomputed in Python integers (the products outgrow int64).
    """
    pts = rs.curve
    ys = [Plan.cents(p.pay) for p in pts]
    n = len(c)
    if rs.basis == "amount":
        xs = [Plan.cents(p.at) for p in pts]
        xn, xd = c.astype(np.int64), np.ones(n, dtype=np.int64)
    else:
        xs = [ppm(p.at) for p in pts]
        qq = np.broadcast_to(q, c.shape).astype(np.int64)
        big = n and (int(np.abs(c).max()) * PPM >= 2**62 or max(xs) * int(qq.max()) >= 2**62)
        if big:  # beyond int64 (quotas or credits near the engine's range): all in Python integers
            qq = qq.astype(object)
            c = c.astype(object)
        has_q = qq > 0
        xn, xd = np.where(has_q, c * PPM, 0), np.where(has_q, qq, 1)
    seg = np.zeros(n, dtype=np.int64)
    for k in range(1, len(xs)):
        seg += xn >= xs[k] * xd
    out = np.full(n, ys[-1], dtype=np.int64)
    for k in range(len(xs) - 1):
        m = np.flatnonzero((seg == k) & (xn >= 0))
        if not len(m):
            continue
        dy = ys[k + 1] - ys[k]
        r, den = xn[m] - xs[k] * xd[m], (xs[k + 1] - xs[k]) * xd[m]  # 0 <= r < den
        t = dy * (r.astype(np.float64) / den.astype(np.float64)) + 0.5
        fl = np.floor(t)
        tol = 1e-6 + 1e-14 * abs(dy)  # float error of t is below 1e-15 x |dy|
        amb = np.flatnonzero((t - fl < tol) | (t - fl > 1 - tol))
        out[m] = ys[k] + fl.astype(np.int64)
        if len(amb):
            r_o, den_o = r[amb].astype(object), den[amb].astype(object)
            out[m[amb]] = _half_away(ys[k] * den_o + dy * r_o, den_o).astype(np.int64)
    out[xn < 0] = ys[0]
    return out, seg


def _curve_ti_cents(rs: RateSchedule, c: np.ndarray, q: np.ndarray, ti: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_curve_cents` of a curve of ``of_ti`` points: the payout is ``TI x y(x)``, ``ti`` cents per line.

    ``y`` is linear between the points' ``of_ti`` (ppm); ``F = TI x y / 1e6`` rounded
    half away from zero once, in Python integers (exact whatever the sizes).
    """
    pts = rs.curve
    ys = [ppm(p.of_ti) for p in pts]
    n = len(c)
    c = np.asarray(c).astype(object)
    tt = np.broadcast_to(ti, (n,)).astype(object)
    if rs.basis == "amount":
        xs = [Plan.cents(p.at) for p in pts]
        xn, xd = c, np.ones(n, dtype=object)
    else:
        xs = [ppm(p.at) for p in pts]
        qq = np.broadcast_to(q, (n,)).astype(object)
        has_q = qq > 0
        xn, xd = np.where(has_q, c * PPM, 0), np.where(has_q, qq, 1)
    seg = np.zeros(n, dtype=np.int64)
    for k in range(1, len(xs)):
        seg += (xn >= xs[k] * xd).astype(np.int64)
    out = _half_away(tt * ys[-1], np.full(n, PPM, dtype=object))
    for k in range(len(xs) - 1):
        m = np.flatnonzero((seg == k) & (xn >= 0))
        if len(m):
            r, den = xn[m] - xs[k] * xd[m], (xs[k + 1] - xs[k]) * xd[m]
            out[m] = _half_away(tt[m] * (ys[k] * den + (ys[k + 1] - ys[k]) * r), den * PPM)
    neg = np.flatnonzero(xn < 0)
    out[neg] = _half_away(tt[neg] * ys[0], np.full(len(neg), PPM, dtype=object))
    return out.astype(np.int64), seg


def curve_commission(
    rs: RateSchedule, before: np.ndarray, after: np.ndarray, q: np.ndarray, ti: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``method: curve``: each line earns the rise of the pay curve from ``before`` to ``after``.

    Parameters
    ----------
    rs : RateSchedule
        A schedule with ``curve`` points (``at`` in the basis, ``pay`` money).
    before, after : int64 arrays (n,)
        Accumulated basis (cents) before and after each line.
    q : int64 array (n,) or (1,)
        Quota cents per line (attainment basis; ignored on amounts).
    ti : int64 array (n,), optional
        The target incentive (cents) of each line's pay period, prorated like quota
        (year to date for ``accumulation: ytd``): needed by a curve of ``of_ti``
        points, whose payout is ``TI x`` the curve (fixes group, issue #13).

    Returns
    -------
    line, segment, credit, rate_ppm, amount : int64 arrays
        One output per line; ``segment`` is the 0-based curve segment of ``after``
        (the number of points beyond the first that are at or below it); ``rate_ppm``
        is -1 (a curve has no rate); ``amount = round(F(after)) - round(F(before))``
        cents, so a pay period's lines sum to the curve at its total, rounded once.

    Source: Oracle Incentive Compensation, "Examples of Calculating Earnings Using
    Interpolated Rates" (docs/commission.md, "Plan shapes: tiers").
    """
    if rs.curve_of_ti:
        fa, seg = _curve_ti_cents(rs, after, q, ti)
        fb, _ = _curve_ti_cents(rs, before, q, ti)
    else:
        fa, seg = _curve_cents(rs, after, q)
        fb, _ = _curve_cents(rs, before, q)
    n = len(after)
    return np.arange(n), seg, after - before, np.full(n, -1, dtype=np.int64), fa - fb
