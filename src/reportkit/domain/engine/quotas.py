"""The engine's quotas and attainment: quota per AM and pay period under each plan.

Steps 2 and 3 of :func:`reportkit.domain.engine.compute`. :func:`quota_table` gives a
plan's quota per AM and pay period: the base quota split into pay periods by the one
splitting rule of :mod:`reportkit.domain.quota` (called, never copied), then
proration by active days and the plan's ramp. :func:`quotas_per_plan` combines the
plans by who is on which, and :func:`attainment` sets credited revenue against quota
for the period and the year to date.
"""

from __future__ import annotations

import calendar as _c
import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ...config.plans import PPM, Plan, PlanAssignments, ppm
from ...core.currency import cents_text
from ...core.errors import DataError, DataProblem, PlanError
from ...core.money import micros_to_cents, rdiv
from ...core.periods import Period
from ...core.words import counted, in_number
from ...data.model import Dataset
from .._credit_core import lookup
from ..quota import fiscal_months, split_pieces, split_year, whole_year_rows
from .inputs import PayPeriods, PlanChoice, check_plans, pay_periods, plans_per_period


def _tenure_month(h: datetime.date, d: datetime.date) -> int:
    return (d.year - h.year) * 12 + d.month - h.month - (1 if d.day < h.day else 0) + 1


def _add_months_same_day(h: datetime.date, n: int) -> datetime.date:
    m0 = h.year * 12 + h.month - 1 + n
    y, m = divmod(m0, 12)
    return datetime.date(y, m + 1, min(h.day, _c.monthrange(y, m + 1)[1]))


def quota_table(
    account_managers: pd.DataFrame,
    quotas: pd.DataFrame | None,
    plan: Plan,
    periods: Sequence[Period],
    *,
    leaves: pd.DataFrame | None = None,
    on_plan: np.ndarray | None = None,
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
      (1 after the ramp). With ``proration: none`` every day counts as active. A
      ramp written as amounts (``quota.ramp_amounts``) has the exact factor
      ``amount_k / (base / months per pay period)`` (a whole tenure month on a
      monthly plan gets exactly ``amount_k``; docs/commission.md, "Plan shapes: credit").
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
    on_plan : bool array (A,), optional
        The account managers the plan is for (default: all); only their quota rows
        are checked against the plan's ``quota`` keys.

    Returns
    -------
    DataFrame
        ``account_manager_id, period, period_start, period_end, days, active_days,
        prorate_num, prorate_den, base_quota_cents, quota_cents`` (int64), one row per AM
        and period. ``prorate_num / prorate_den`` is the share of the period the AM
        counts for: active days / days, or under ``proration: months`` whole months
        counted / months in the period (unweighted); the target incentive is prorated
        by it (:func:`reportkit.domain.engine.caps.period_target_incentive`).

    Raises
    ------
    DataError
        A negative quota.
    PlanError
        ``quota.split: seasonal`` with quota rows of the plan's account managers that
        are not whole fiscal years (the weights would do nothing), or a
        ``quota.ramp_amounts`` amount above a full month of the quota it ramps.
    """
    ams = account_managers["account_manager_id"].astype(str).to_numpy(dtype=object)
    P = len(periods)
    if plan.quota.split == "seasonal" and plan.quota.source == "table" and P:
        check_seasonal_rows(quotas, ams, plan, periods, on_plan)
    base = _base_quotas(ams, quotas, plan, periods)
    days = np.array([p.days for p in periods], dtype=np.int64)
    pst = np.array([np.datetime64(p.start, "D") for p in periods])
    pen = np.array([np.datetime64(p.end, "D") for p in periods])
    active = _active_days(account_managers, ams, plan, days, pst, pen, leaves)
    # the share of each pay period the AM counts for (quota above, target incentive in caps.py)
    prorate_num, prorate_den = active, np.broadcast_to(days[None, :], active.shape)
    if plan.quota.proration == "months" and len(ams):
        quota, counted, per = _month_quotas(base, account_managers, ams, plan, periods, leaves)
        prorate_num, prorate_den = counted, np.full(counted.shape, per, dtype=np.int64)
    else:
        quota = rdiv(base * active, days[None, :]) if len(ams) else base.copy()
    if plan.quota.proration != "months" and (plan.quota.ramp or plan.quota.ramp_amounts) and len(ams):
        _ramp(quota, base, account_managers, ams, plan, periods, days, pst, pen, leaves)
    return pd.DataFrame(
        {
            "account_manager_id": np.repeat(ams, P),
            "period": np.tile([p.label for p in periods], len(ams)),
            "period_start": np.tile(pst.astype("datetime64[ns]"), len(ams)),
            "period_end": np.tile(pen.astype("datetime64[ns]"), len(ams)),
            "days": np.tile(days, len(ams)),
            "active_days": active.reshape(-1),
            "prorate_num": np.asarray(prorate_num, dtype=np.int64).reshape(-1),
            "prorate_den": np.asarray(prorate_den, dtype=np.int64).reshape(-1),
            "base_quota_cents": base.reshape(-1),
            "quota_cents": np.asarray(quota, dtype=np.int64).reshape(-1),
        }
    )


def check_seasonal_rows(
    quotas: pd.DataFrame | None, ams: np.ndarray, plan: Plan, periods: Sequence[Period], on_plan: np.ndarray | None = None
) -> None:
    """Refuse ``quota.split: seasonal`` on quota rows that are not whole fiscal years.

    Seasonal weights split a whole-fiscal-year quota (:func:`reportkit.domain.quota.split_year`);
    a quarterly or monthly row is already per period, so the weights would do nothing
    and the plan would say one thing while paying another. Only rows of ``ams`` (those
    in ``on_plan``) overlapping ``periods`` count.

    Raises
    ------
    PlanError
        Naming the plan file, key ``quota.split``, the first such quotas row (row
        number as in a CSV with a header, AM, dates) and the fix.
    """
    if quotas is None or not len(quotas):
        return
    qa = lookup(quotas["account_manager_id"], ams)
    mine = qa >= 0
    if on_plan is not None:
        mine &= np.asarray(on_plan, dtype=bool)[np.maximum(qa, 0)]
    st = pd.to_datetime(quotas["period_start"]).to_numpy("datetime64[D]")
    en = pd.to_datetime(quotas["period_end"]).to_numpy("datetime64[D]")
    mine &= (en >= np.datetime64(periods[0].start, "D")) & (st <= np.datetime64(periods[-1].end, "D"))
    bad = np.flatnonzero(mine & ~whole_year_rows(quotas, periods[0].calendar))
    if not len(bad):
        return
    i = int(bad[0])
    raise PlanError(
        f"{plan.source_file or plan.name}: key 'quota.split': 'seasonal' splits a whole-year quota by "
        f"quota.seasonal_weights, but {counted(len(bad), 'quota row')} of this plan's account managers {in_number(len(bad), 'is', 'are')} not whole fiscal "
        f"years, so the weights would do nothing (first: quotas row {i + 2}, account manager "
        f"{quotas['account_manager_id'].iloc[i]!r}, {st[i]} to {en[i]})",
        hint="remove split and seasonal_weights from the plan's quota (the quotas table is already per period), "
        "or give the quotas table one row per account manager and fiscal year",
    )


def _base_quotas(ams: np.ndarray, quotas: pd.DataFrame | None, plan: Plan, periods: Sequence[Period]) -> np.ndarray:
    """Base quota (cents) per AM and pay period, shape (A, P), before proration and ramp.

    ``source: plan``: the plan's annual quota split by :func:`reportkit.domain.quota.split_year`;
    else the quotas table split by :func:`reportkit.domain.quota.split_pieces`.

    Raises
    ------
    DataError
        A negative quota (naming the quotas row).
    """
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
        qa = lookup(quotas["account_manager_id"], ams)
        keep = np.flatnonzero(qa >= 0)
        qc = quotas["quota_cents"].to_numpy(np.int64)[keep]
        if (qc < 0).any():
            raise DataError(
                "negative quota",
                [
                    DataProblem("quotas", int(i) + 2, "quota_cents", cents_text(int(qc[i]), plan.currency), "quotas must be >= 0")
                    for i in np.flatnonzero(qc < 0)
                ],
            )
        # the one splitting rule (reportkit.domain.quota): rows inside a pay period add up, longer
        # rows are split evenly by fiscal period (or by the plan's seasonal weights for a year)
        row, o, c = split_pieces(quotas, cal, plan.period, year_weights=weights)
        j = o - periods[0].ordinal
        ok = (qa[row] >= 0) & (j >= 0) & (j < P)
        np.add.at(base, (qa[row[ok]], j[ok]), c[ok])
    return base


def _active_days(
    account_managers: pd.DataFrame,
    ams: np.ndarray,
    plan: Plan,
    days: np.ndarray,
    pst: np.ndarray,
    pen: np.ndarray,
    leaves: pd.DataFrame | None,
) -> np.ndarray:
    """Active days per AM and pay period, shape (A, P) int64.

    ``proration: active_days`` or ``months``: the days on or after ``hire_date``, on
    or before ``end_date``, not on a leave; ``proration: none``: every day of the period.
    """
    A, P = len(ams), len(days)
    if plan.quota.proration == "none":
        return np.broadcast_to(days, (A, P)).copy()
    hire = pd.to_datetime(account_managers["hire_date"]).to_numpy("datetime64[D]")
    endd = pd.to_datetime(account_managers["end_date"]).to_numpy("datetime64[D]")
    lo = np.where(np.isnat(hire)[:, None], pst[None, :], np.maximum(hire[:, None], pst[None, :]))
    hi = np.where(np.isnat(endd)[:, None], pen[None, :], np.minimum(endd[:, None], pen[None, :]))
    active = np.clip((hi - lo).astype(np.int64) + 1, 0, None)
    if leaves is not None and len(leaves):
        idx = {a: i for i, a in enumerate(ams)}
        for a, ls, le in zip(
            leaves["account_manager_id"],
            pd.to_datetime(leaves["start"]).to_numpy("datetime64[D]"),
            pd.to_datetime(leaves["end"]).to_numpy("datetime64[D]"),
        ):
            r = idx.get(a)
            if r is None:
                continue
            # overlap of the leave with the active window
            l2 = np.maximum(lo[r], ls)
            h2 = np.minimum(hi[r], le)
            active[r] -= np.clip((h2 - l2).astype(np.int64) + 1, 0, None)
    return active


def _leave_days(leaves: pd.DataFrame | None, idx: dict) -> dict[int, set]:
    """The days of leave of each AM row (inclusive ranges expanded to dates)."""
    leave_days: dict[int, set] = {}
    if leaves is not None and len(leaves):
        for a, ls, le in zip(
            leaves["account_manager_id"], pd.to_datetime(leaves["start"]).dt.date, pd.to_datetime(leaves["end"]).dt.date
        ):
            if a in idx:
                s = leave_days.setdefault(idx[a], set())
                d = ls
                while d <= le:
                    s.add(d)
                    d += datetime.timedelta(days=1)
    return leave_days


def _ramp(
    quota: np.ndarray,
    base: np.ndarray,
    account_managers: pd.DataFrame,
    ams: np.ndarray,
    plan: Plan,
    periods: Sequence[Period],
    days: np.ndarray,
    pst: np.ndarray,
    pen: np.ndarray,
    leaves: pd.DataFrame | None,
) -> None:
    """Overwrite ``quota`` (in place) for the (AM, period) cells inside an AM's ramp.

    ``quota = N / (D x 1e6)`` rounded half away from zero, where ``N`` sums over
    the active days ``base x`` the ramp factor (ppm) of the day's tenure month (1e6
    after the ramp). A ramp given as amounts (``ramp_amounts``) weighs a day of
    tenure month ``k`` exactly ``amount_k x months per pay period x 1e6`` (the
    factor ``amount_k / (base / months)`` without dividing), so a whole tenure
    month on a monthly plan is exactly its amount.
    """
    spec = plan.quota
    A = len(ams)
    ramp_ppm = [ppm(r) for r in spec.ramp]
    amounts = [Plan.cents(a) * PPM for a in spec.ramp_amounts]
    nr = len(ramp_ppm) or len(amounts)
    leave_days = _leave_days(leaves, {a: i for i, a in enumerate(ams)})
    hire = pd.to_datetime(account_managers["hire_date"]).to_numpy("datetime64[D]")
    endd = pd.to_datetime(account_managers["end_date"]).to_numpy("datetime64[D]")
    ramp_end = np.array([np.datetime64("NaT")] * A, dtype="datetime64[D]")
    hd = account_managers["hire_date"]
    for r in np.flatnonzero(~np.isnat(hire)):
        h = pd.Timestamp(hd.iloc[r]).date()
        ramp_end[r] = np.datetime64(_add_months_same_day(h, nr), "D")
    for j, p in enumerate(periods):
        touched = np.flatnonzero(~np.isnat(ramp_end) & (ramp_end > pst[j]) & (hire <= pen[j]))
        months = 3 if p.kind == "quarter" else 1
        for r in touched:
            b = int(base[r, j])
            day = [x * months for x in amounts] if amounts else [b * f for f in ramp_ppm]
            h = pd.Timestamp(hd.iloc[r]).date()
            e = None if np.isnat(endd[r]) else pd.Timestamp(endd[r]).date()
            w = 0
            d = p.start
            while d <= p.end:
                act = spec.proration == "none" or (d >= h and (e is None or d <= e) and d not in leave_days.get(r, ()))
                if act:
                    t = _tenure_month(h, d)
                    if 1 <= t <= nr and amounts and day[t - 1] > b * PPM:
                        _ramp_above_full(plan, t, ams[r], p, rdiv(b, months))
                    w += day[t - 1] if 1 <= t <= nr else b * PPM
                d += datetime.timedelta(days=1)
            quota[r, j] = rdiv(w, int(days[j]) * PPM)


def _ramp_above_full(plan: Plan, k: int, am: str, period: Period, full_cents: int) -> None:
    """Refuse a ramp amount (tenure month ``k``) above the full quota of a month it ramps (``full_cents``).

    A ramp lowers a new hire's quota; an amount above the full quota would raise it,
    which is a typo (an annual or quarterly figure) more often than a plan.

    Raises
    ------
    PlanError
        Naming the plan file, key ``quota.ramp_amounts.<k-1>``, the amount, the
        account manager, the period and the full monthly quota.
    """
    amount = plan.quota.ramp_amounts[k - 1]
    raise PlanError(
        f"{plan.source_file or plan.name}: key 'quota.ramp_amounts.{k - 1}': {amount} (tenure month {k}) is above the "
        f"full quota of a month, {cents_text(full_cents, plan.currency)}, for account manager {str(am)!r} in "
        f"{period.label}: a ramp lowers a new hire's quota",
        hint=f"give tenure month {k} a quota of at most {cents_text(full_cents, plan.currency)} (a month's amount, not "
        "a quarter's or a year's), or remove it",
    )


def _month_quotas(
    base: np.ndarray,
    account_managers: pd.DataFrame,
    ams: np.ndarray,
    plan: Plan,
    periods: Sequence[Period],
    leaves: pd.DataFrame | None,
) -> np.ndarray:
    """Quota per AM and pay period under ``proration: months``, shape (A, P) int64 cents,
    with the whole months counted per AM and pay period (A, P) and the months per period.

    A fiscal month counts when the AM is active on every one of its days (hired on
    or before its first day, not ended before its last, no leave in it). Quota =
    ``base x Wa / Wt`` rounded half away from zero once, where ``Wt`` sums the
    weights of the pay period's months and ``Wa`` those of its counted months;
    a month weighs 1, or its seasonal weight (ppm) when the plan gives 12 weights
    on a quarterly plan. A ramp (``ramp`` / ``ramp_amounts``) then goes by whole
    months: ramp month 1 is the first whole month after the hire (the hire month
    when the hire is on its first day); a counted month in ramp month ``k`` adds
    ``base x w x factor_k`` (an amount: exactly ``amount_k``) instead of ``base x w``.
    """
    spec = plan.quota
    months = [fiscal_months(p) for p in periods]
    per = len(months[0])
    flat = [m for ms in months for m in ms]
    mdays = np.array([m.days for m in flat], dtype=np.int64)
    mst = np.array([np.datetime64(m.start, "D") for m in flat])
    men = np.array([np.datetime64(m.end, "D") for m in flat])
    whole = _active_days(account_managers, ams, plan, mdays, mst, men, leaves) == mdays[None, :]
    sw = spec.seasonal_weights
    if plan.period == "quarter" and spec.split == "seasonal" and sw is not None and len(sw) == 12:
        w = np.array([ppm(sw[m.number - 1]) for m in flat], dtype=object)
    else:
        w = np.ones(len(flat), dtype=object)
    A, P = base.shape
    # Python ints (object arrays): base x summed ppm weights can pass int64
    wt = w.reshape(P, per).sum(axis=1)
    wa = (whole.astype(object) * w[None, :]).reshape(A, P, per).sum(axis=2)
    num = base.astype(object) * wa
    quota = np.array([[rdiv(int(num[r, j]), int(wt[j])) if wt[j] else 0 for j in range(P)] for r in range(A)], dtype=np.int64)
    if spec.ramp or spec.ramp_amounts:
        _ramp_months(quota, base, whole, w, wt, account_managers, plan, months)
    counted = whole.reshape(A, P, per).sum(axis=2).astype(np.int64)
    return quota.reshape(A, P), counted, per


def _ramp_months(quota, base, whole, w, wt, account_managers, plan: Plan, months: list[list[Period]]) -> None:
    """Overwrite ``quota`` (in place) for the pay periods inside a ramp by whole months (:func:`_month_quotas`)."""
    spec = plan.quota
    ramp_ppm = [ppm(r) for r in spec.ramp]
    amounts = [Plan.cents(a) * PPM for a in spec.ramp_amounts]
    nr = len(ramp_ppm) or len(amounts)
    per = len(months[0])
    cal = months[0][0].calendar
    for r, h in enumerate(pd.to_datetime(account_managers["hire_date"])):
        if pd.isna(h):
            continue
        hm = cal.period_of(h.date(), "month")
        first = hm.ordinal if hm.start == h.date() else hm.ordinal + 1
        for j, ms in enumerate(months):
            ks = [m.ordinal - first + 1 for m in ms]
            if not wt[j] or not any(1 <= k <= nr for k in ks):
                continue
            b, n = int(base[r, j]), 0
            for i, k in enumerate(ks):
                if not whole[r, j * per + i]:
                    continue
                wi = int(w[j * per + i])
                if 1 <= k <= nr:
                    if amounts and amounts[k - 1] * int(wt[j]) > b * wi * PPM:
                        _ramp_above_full(plan, k, account_managers["account_manager_id"].iloc[r], ms[i], rdiv(b * wi, int(wt[j])))
                    n += amounts[k - 1] * int(wt[j]) if amounts else b * wi * ramp_ppm[k - 1]
                else:
                    n += b * wi * PPM
            quota[r, j] = rdiv(n, int(wt[j]) * PPM)


def quotas_per_plan(
    account_managers: pd.DataFrame, quotas: pd.DataFrame | None, choice: PlanChoice, span: PayPeriods, leaves: pd.DataFrame | None
) -> tuple[np.ndarray, pd.DataFrame]:
    """Quota per AM and pay period under the plan each AM is on (:func:`quota_table` per plan).

    Returns
    -------
    Q, table
        ``Q`` (A, P) int64 cents (0 where an AM has no plan); ``table`` the rows of
        :func:`quota_table` of the plan in force, with a ``plan`` column.
    """
    A, P = len(account_managers), span.n
    Q = np.zeros((A, P), dtype=np.int64)
    qframes = []
    for g, pl in enumerate(choice.plans):
        if not (choice.pidx == g).any():
            continue
        qt = quota_table(account_managers, quotas, pl, span.periods, leaves=leaves, on_plan=(choice.pidx == g).any(axis=1))
        qv = qt["quota_cents"].to_numpy(np.int64).reshape(A, P)
        Q = np.where(choice.pidx == g, qv, Q)
        qt["plan"] = choice.names[g]
        qframes.append(qt.loc[(choice.pidx == g).reshape(-1)])
    return Q, (pd.concat(qframes, ignore_index=True) if qframes else pd.DataFrame())


@dataclass(frozen=True)
class Attainment:
    """Credited revenue and quota per AM and pay period, and year to date (each (A, P) int64 cents).

    ``credit`` is the exact sum of the credits' micros rounded once
    (:func:`reportkit.core.money.micros_to_cents`), the figure the reports show;
    ``ytd_credit`` likewise over the fiscal year so far. Attainment is
    ``credit / quota`` as a fraction (1.0 == 100 %), NaN where the quota is 0
    (:meth:`fraction`); rules compare it exactly, ``credit x 1e6 >= at_least_ppm x quota``.
    """

    credit: np.ndarray
    quota: np.ndarray
    ytd_credit: np.ndarray
    ytd_quota: np.ndarray

    @staticmethod
    def fraction(c: np.ndarray, q: np.ndarray) -> np.ndarray:
        """``c / q`` as float, NaN where ``q`` is 0 (attainment undefined)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(q > 0, c / np.where(q > 0, q, 1), np.nan)


def attainment(Q: np.ndarray, credit_micros: np.ndarray, year_start: np.ndarray) -> Attainment:
    """Period and year-to-date credited revenue against quota.

    Parameters
    ----------
    Q : int64 array (A, P)
        Quota in cents (:func:`quotas_per_plan`).
    credit_micros : int64 array (A, P)
        Exact credited revenue in micros
        (:func:`reportkit.domain.engine.credits.credited_micros`).
    year_start : bool array (P,)
        Where the year to date restarts.
    """
    P = Q.shape[1]
    ycum = np.zeros_like(credit_micros)
    yq = np.zeros_like(Q)
    for j in range(P):
        ycum[:, j] = credit_micros[:, j] + (0 if year_start[j] else ycum[:, j - 1])
        yq[:, j] = Q[:, j] + (0 if year_start[j] else yq[:, j - 1])
    return Attainment(micros_to_cents(credit_micros), Q, micros_to_cents(ycum), yq)


def quotas_shown(
    ds: Dataset,
    plans: Plan | Mapping[str, Plan],
    assignments: PlanAssignments | None,
    quotas: pd.DataFrame | None,
    fiscal_years: Sequence[int],
    source_mapping: str | Path | None = None,
) -> pd.DataFrame:
    """The quota table a report shows when a plan pays: the plan's own quota wherever a plan is in force.

    One number everywhere (fixes group, issue #13): for every account manager and
    pay period of ``fiscal_years`` on a plan, the quota is the one the engine
    measures attainment against (:func:`quotas_per_plan`: ``source: plan``'s annual
    quota or the quotas table, split, prorated by active days, ramped). Elsewhere
    (no plan in force, or an account manager no plan names) the rows of ``quotas``
    stay, cut into pay periods by the one splitting rule
    (:func:`reportkit.domain.quota.split_pieces`).

    Parameters
    ----------
    ds : Dataset
        Account managers (hire and end dates) and calendar.
    plans, assignments
        As :func:`reportkit.domain.engine.compute` takes them.
    quotas : DataFrame or None
        The quota table the engine is given (the data set's, or a params quota rule's).
    fiscal_years : sequence of int
        The fiscal years the report covers.

    Returns
    -------
    DataFrame
        Canonical quota rows (``account_manager_id, period_start, period_end,
        quota_cents, currency``), one per account manager and pay period (cents, int64).

    Raises
    ------
    PlanError
        As :func:`reportkit.domain.engine.compute` for the plans (pay periods,
        crediting, currency, assignments, contradictory quota keys).
    """
    plan_list, names, kind, _, _ = check_plans(plans, ds, assignments, source_mapping)
    years = sorted(int(y) for y in fiscal_years)
    cal = ds.calendar
    span = pay_periods(cal, kind, f"FY{years[-1]}", f"FY{years[0]}")
    ams_df = ds.account_managers.reset_index(drop=True)
    ams = ams_df["account_manager_id"].astype(str).to_numpy(dtype=object)
    choice = plans_per_period(plan_list, names, assignments, {a: i for i, a in enumerate(ams.tolist())}, span)
    _, table = quotas_per_plan(ams_df, quotas, choice, span, None)
    cols = ["account_manager_id", "period_start", "period_end", "quota_cents"]
    pieces = []  # the source table cut into pay periods: (AM, start, end, cents)
    if quotas is not None and len(quotas):
        row, o, c = split_pieces(quotas, cal, kind)
        qa = quotas["account_manager_id"].astype(str).to_numpy(dtype=object)
        for r, oo, cc in zip(row.tolist(), o.tolist(), c.tolist()):
            p = cal.period_of_ordinal(int(oo), kind)
            pieces.append((qa[r], pd.Timestamp(p.start), pd.Timestamp(p.end), int(cc)))
    has_table = {(a, st) for a, st, _, _ in pieces}
    shown = table[cols] if len(table) else pd.DataFrame(columns=cols)
    if len(shown):
        # a plan's own quota (source: plan) always; a quotas-table plan's only where the table gives one
        # (no row stays "no quota", never a quota of 0)
        own = table["plan"].map({n: pl.quota.source == "plan" for n, pl in zip(names, plan_list)}).to_numpy(bool)
        in_table = [(str(a), pd.Timestamp(st)) in has_table for a, st in zip(shown["account_manager_id"], shown["period_start"])]
        shown = shown.loc[own | np.asarray(in_table, dtype=bool)]
    covered = set(zip(shown["account_manager_id"].astype(str), pd.to_datetime(shown["period_start"])))
    rest = [piece for piece in pieces if (piece[0], piece[1]) not in covered]
    out = pd.concat([shown, pd.DataFrame(rest, columns=cols)], ignore_index=True)
    out["account_manager_id"] = out["account_manager_id"].astype("str")
    out["period_start"] = pd.to_datetime(out["period_start"])
    out["period_end"] = pd.to_datetime(out["period_end"])
    out["quota_cents"] = out["quota_cents"].astype("int64")
    out["currency"] = ds.currency
    # sum pieces of one account manager and pay period (several table rows inside it)
    out = out.groupby(["account_manager_id", "period_start", "period_end", "currency"], as_index=False, sort=True)[
        "quota_cents"
    ].sum()
    return out[[*cols, "currency"]]
