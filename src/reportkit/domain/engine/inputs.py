"""The engine's inputs: which plans, which pay periods, who is on which plan, exact cents.

The first steps of :func:`reportkit.domain.engine.compute`, before any money moves:
the plans must agree on pay period, currency and crediting (:func:`check_plans`),
the run covers consecutive pay periods (:func:`pay_periods`), each AM is on the plan
in force on a pay period's last day (:func:`plans_per_period`), and money typed into
side tables (cancellations, adjustments) is read as exact whole cents
(:func:`_whole_cents`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from ...config.plans import Plan, PlanAssignments
from ...core.errors import DataError, DataProblem, PlanError
from ...core.periods import FiscalCalendar, Period
from ...core.words import counted, in_number
from ...data.model import SOURCE_FILE, SOURCE_ROW, Dataset
from .._credit_core import check_crediting

_LIMIT = 9 * 10**12  # cents; keeps cents x ppm inside int64


@dataclass(frozen=True)
class PayPeriods:
    """The run's consecutive pay periods (``kind`` ``month`` or ``quarter``).

    ``o0`` / ``o1`` are the first and last period ordinals
    (:meth:`FiscalCalendar.ordinals`); a credit's period index is its ordinal minus
    ``o0``. ``year_start`` / ``year_end`` (bool, per period) mark where year-to-date
    sums restart and where a fiscal year closes (year bonuses).
    """

    calendar: FiscalCalendar
    kind: str
    periods: list[Period]
    o0: int
    o1: int

    @property
    def n(self) -> int:
        return len(self.periods)

    @property
    def labels(self) -> list[str]:
        return [p.label for p in self.periods]

    @property
    def fiscal_year(self) -> np.ndarray:
        return np.array([p.fiscal_year for p in self.periods])

    @property
    def year_start(self) -> np.ndarray:
        pyear = self.fiscal_year
        return np.r_[True, pyear[1:] != pyear[:-1]]

    @property
    def year_end(self) -> np.ndarray:
        pyear = self.fiscal_year
        last = 4 if self.kind == "quarter" else 12
        return np.r_[pyear[1:] != pyear[:-1], True] & np.array([p.number == last for p in self.periods])


@dataclass(frozen=True)
class PlanChoice:
    """The plans of a run and who is on which: ``pidx[am, period]`` indexes ``plans`` (-1: no plan).

    ``one_plan``: a single plan without assignments, so every credit line is on plan 0.
    """

    plans: list[Plan]
    names: list[str]
    pidx: np.ndarray
    one_plan: bool

    def column(self, j: int) -> np.ndarray:
        """Plan index of each AM in pay period ``j``, ``len(plans)`` for nobody's plan."""
        return np.where(self.pidx[:, j] >= 0, self.pidx[:, j], len(self.plans))

    def attr(self, fn, default) -> np.ndarray:
        """``fn(plan)`` per plan as int64, then ``default`` (indexed by :meth:`column`)."""
        return np.array([fn(p) for p in self.plans] + [default], dtype=np.int64)


def check_plans(
    plans: Plan | Mapping[str, Plan],
    ds: Dataset,
    assignments: PlanAssignments | None,
    source_mapping: str | Path | None,
) -> tuple[list[Plan], list[str], str, str, bool]:
    """The run's plans, checked against each other and the data set.

    Returns
    -------
    plans, names, kind, method, handoff
        The plans and their names in order, the pay period kind they share, and the
        crediting method and handoff rule (:func:`check_crediting`).

    Raises
    ------
    PlanError
        No plans; plans mixing pay period kinds; a plan whose crediting disagrees
        with the data set's (:func:`check_crediting`); a plan in another currency
        than the data; several plans without assignments.
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
    method, handoff = check_crediting(plan_list, ds, source_mapping=source_mapping)
    for p in plan_list:
        _check_payout_currency(p, ds.currency)
    if len(plan_list) > 1 and assignments is None:
        raise PlanError("several plans need assignments (which AM is on which plan when)")
    return plan_list, names, kind, method, handoff


def _check_payout_currency(plan: Plan, reporting: str) -> None:
    """A plan computes in its ``currency``, which must be the data set's reporting currency (fx group).

    Deals in other currencies are converted to the reporting currency once, at load
    (:mod:`reportkit.data.fx`), so quota, attainment and commission are all in it; a plan
    paying in another currency says so with ``payout_currency`` (fx2 group: each pay
    period's payout converted once, :func:`reportkit.domain.engine.results.with_payout_currency`).

    Raises
    ------
    PlanError
        Naming the plan file, the key ``currency``, both currencies and the fix.
    """
    if plan.currency == reporting:
        return
    where = f"{plan.source_file}: " if plan.source_file else ""
    raise PlanError(
        f"{where}key 'currency': plan {plan.name!r} pays in {plan.currency} but the data set's reporting "
        f"currency is {reporting} (allowed: {reporting})",
        hint=f"set currency: {reporting} (a plan computes in the reporting currency; deals in other currencies "
        "are converted to it at load by the source mapping's fx_rates table), and to pay in "
        f"{plan.currency} add payout_currency: {plan.currency} with payout_conversion: period_end | period_average",
    )


def year_to_date(plan: Plan) -> bool:
    """Whether a plan's figures of a pay period depend on the earlier periods of its fiscal year.

    True for YTD tiers (``rates.accumulation: ytd``), a yearly cap (``cap.per: year``)
    and a yearly bonus (``bonuses[].per: year``): a ledger of such a plan must start at
    the fiscal year's first pay period (:func:`pay_periods`).
    """
    return (
        (plan.rates is not None and plan.rates.accumulation == "ytd")
        or (plan.cap is not None and plan.cap.per == "year")
        or any(b.per == "year" for b in plan.bonuses)
    )


def pay_periods(cal: FiscalCalendar, kind: str, period: str, since: str | None, plans: Sequence[Plan] = ()) -> PayPeriods:
    """Pay periods from ``since`` (default: the start of ``period``'s fiscal year) through ``period``.

    When one of ``plans`` is year-to-date (:func:`year_to_date`), the ledger reaches back
    by itself to the first pay period of ``since``'s fiscal year, so a quarter of a YTD
    plan is computed on the whole year so far whatever start the caller gives
    (issue #13, item 18); the earlier periods' lines are in the result too.

    Raises
    ------
    PeriodError
        A bad period label.
    """
    target = Period.parse(period, cal)
    last = cal.period_of(target.end, kind)
    first = Period.parse(since, cal) if since else Period(cal, "year", last.fiscal_year)
    first = cal.period_of(first.start, kind)
    if since and any(year_to_date(p) for p in plans):
        first = cal.period_of(Period(cal, "year", first.fiscal_year).start, kind)
    o0, o1 = first.ordinal, last.ordinal
    return PayPeriods(cal, kind, [cal.period_of_ordinal(o, kind) for o in range(o0, o1 + 1)], o0, o1)


def plans_per_period(
    plan_list: list[Plan],
    names: list[str],
    assignments: PlanAssignments | None,
    am_code: Mapping[str, int],
    span: PayPeriods,
) -> PlanChoice:
    """Plan of each AM in each pay period: the plan in force on the period's last day.

    One plan without assignments: everybody is on it. Otherwise only AMs named in an
    assignment have a plan (``PlanAssignments.plan_for_period``); the others get -1.

    Raises
    ------
    PlanError
        An assignment naming a plan that is not given.
    """
    A, P = len(am_code), span.n
    if len(plan_list) == 1 and assignments is None:
        return PlanChoice(plan_list, names, np.zeros((A, P), dtype=np.int64), True)
    pidx = np.full((A, P), -1, dtype=np.int64)
    pos = {n: i for i, n in enumerate(names)}
    for a in assignments.assignments:
        if a.plan not in pos:
            raise PlanError(
                f"assignment of {a.account_manager_id!r} names unknown plan {a.plan!r}", hint=f"allowed: {', '.join(names)}"
            )
    # only AMs named in an assignment have a plan (plan_for_period is None for the others)
    for am in sorted({a.account_manager_id for a in assignments.assignments}):
        i = am_code.get(am)
        if i is None:
            continue
        for j, p in enumerate(span.periods):
            n = assignments.plan_for_period(am, p.start, p.end)
            if n is not None:
                pidx[i, j] = pos[n]
    return PlanChoice(plan_list, names, pidx, False)


# ---------------------------------------------------------------------------
# exact cents from side tables (cancellations, adjustments)
# ---------------------------------------------------------------------------
def _where(frame: pd.DataFrame, i: int, name: str) -> tuple[str, int]:
    """(file, row) of row ``i`` of an input frame: its ``_source_file`` / ``_source_row``
    columns when it was read from a file, else the frame's name and ``i + 2`` (as in a
    CSV with a header row)."""
    file = str(frame[SOURCE_FILE].iloc[i]) if SOURCE_FILE in frame.columns else name
    row = int(frame[SOURCE_ROW].iloc[i]) if SOURCE_ROW in frame.columns else i + 2
    return file, row


def _whole_cents(frame: pd.DataFrame, column: str, name: str, blank_means: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Exact integer cents of ``frame[column]`` (int64) and a mask of blank cells.

    A cell is an integer (``1250`` = 12.50), a whole-number ``Decimal`` or text
    (``"1250"``), or a float that holds a whole number exactly (a nullable integer
    column read into float64). Nothing is truncated or rounded: a fraction of a
    cent, a non-number or (unless ``blank_means`` says what a blank means) a blank
    is a :class:`DataError` naming the file, row, column, value and the fix.
    """
    vals = frame[column].tolist()
    out = np.zeros(len(vals), dtype=np.int64)
    blank = np.zeros(len(vals), dtype=bool)
    problems = []
    fix = f"write {column} as whole cents (1250 = 12.50)" + (f"; leave it empty when {blank_means}" if blank_means else "")
    for i, v in enumerate(vals):
        if (
            v is None
            or v is pd.NA
            or v is pd.NaT
            or (isinstance(v, (float, np.floating)) and np.isnan(v))
            or (isinstance(v, str) and not v.strip())
        ):
            if blank_means is None:
                problems.append(DataProblem(*_where(frame, i, name), column, None, f"{column} is required; {fix}"))
            blank[i] = True
            continue
        d = None
        if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)):
            d = Decimal(int(v))
        elif isinstance(v, (float, np.floating)):
            d = Decimal(float(v)) if np.isfinite(v) and abs(v) < 2**53 else None
        elif isinstance(v, (Decimal, str)):
            try:
                d = Decimal(str(v).strip())
            except ArithmeticError:
                d = None
        if d is None or not d.is_finite() or d != d.to_integral_value() or abs(d) > _LIMIT:
            why = (
                "a fraction of a cent"
                if d is not None and d.is_finite() and d != d.to_integral_value()
                else "not a whole number of cents within the engine's range"
            )
            problems.append(DataProblem(*_where(frame, i, name), column, v, f"{why}: {fix}"))
            continue
        out[i] = int(d)
    if problems:
        raise DataError(
            f"{name}: {counted(len(problems), 'amount')} {in_number(len(problems), 'is', 'are')} not exact cents",
            problems,
            hint=f"{column} is integer cents, never a float to be rounded",
        )
    return out, blank
