"""Incentive-compensation plans as validated YAML, and effective-dated assignment.

A plan file (``params/plans/*.yaml``) is loaded into a frozen, typed
:class:`Plan`. Validation is strict: unknown keys are refused with a
did-you-mean and the list of allowed keys, money must be written as quoted
strings (``"1000.00"``; a YAML float such as ``0.1`` is not exact), and every
message names the file, the key path, the bad value and the allowed set::

    params/plans/x.yaml: key 'rates.method': Input should be 'flat', 'retroactive',
    'marginal', 'overage' or 'curve' (got 'retro'); did you mean 'retroactive'?

The format is documented with a worked example in ``docs/commission.md``.
The engine that applies a plan is :mod:`reportkit.domain.engine`.

Units
-----
* Money (``base_salary``, ``ote``, amount tier bounds, caps, bonuses, draws,
  SPIF amounts, a pay curve's ``pay``) is currency units with at most two decimals,
  held as ``Decimal``.
  :meth:`Plan.cents` converts to integer cents.
* Rates and attainment bounds are fractions (``"0.08"`` == 8 %, ``1.0`` == 100 %
  of quota) with at most six decimals, so the engine can hold them as exact
  integers in parts per million (ppm).
"""

from __future__ import annotations

import datetime
import itertools
import typing
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from ..core.errors import PlanError, did_you_mean
from ..core.types import PPM, Fraction, Id, Money, Rate
from ..core.yaml_input import format_validation_errors, read_yaml_mapping

__all__ = [
    "PPM",
    "Tier",
    "CurvePoint",
    "RateSchedule",
    "RateComponent",
    "Cap",
    "Bonus",
    "Spif",
    "Draw",
    "Clawback",
    "Crediting",
    "QuotaSpec",
    "PayMix",
    "Plan",
    "PlanAssignment",
    "PlanAssignments",
    "load_plan",
    "load_plans",
    "load_assignments",
    "load_plan_source",
    "format_plan_error",
]


# ---------------------------------------------------------------------------
# value helpers: the value types (Money, Rate, Fraction, Id) and PPM live in
# reportkit.core.types, shared with params and mappings.
# ---------------------------------------------------------------------------
def ppm(d: Decimal) -> int:
    """Exact ``Decimal`` fraction -> integer parts per million (``0.08 -> 80000``)."""
    return int(d * PPM)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, populate_by_name=True)


# ---------------------------------------------------------------------------
# plan parts
# ---------------------------------------------------------------------------
class Tier(_Strict):
    """One tier of a rate schedule: from ``from`` (inclusive) up to the next tier's ``from``.

    Tier bounds are half-open ``[from, next_from)``: a total exactly on a bound
    belongs to the **upper** tier (reaching the boundary earns the higher rate),
    unless the schedule says ``boundary: lower`` (``(from, next_from]``).
    ``from`` is a currency amount when the schedule's ``basis`` is ``amount`` and
    an attainment fraction (1.0 == 100 % of quota) when it is ``attainment``.
    """

    lo: Fraction = Field(..., alias="from", ge=0, description="lower bound, inclusive")
    rate: Rate = Field(..., ge=0, le=1, description="commission rate, fraction of credited revenue")
    label: str | None = Field(None, description="e.g. 'base', 'accelerator', 'decelerator'")


class CurvePoint(_Strict):
    """One point of a pay curve (tiers group, issue #13 item 12): at ``at`` the accumulated payout is ``pay``.

    ``at`` is in the schedule's ``basis`` (an amount, or an attainment fraction,
    1.0 == 100 % of quota); ``pay`` is money (currency units, two decimals).
    """

    at: Fraction = Field(..., ge=0, description="measure: amount or attainment fraction")
    pay: Money = Field(..., ge=0, description="accumulated payout at this point")


class RateSchedule(_Strict):
    """How commission is earned on credited revenue; each axis is explicit.

    Attributes
    ----------
    method : {"flat", "retroactive", "marginal", "overage", "curve"}
        ``flat``: one tier, one rate. ``retroactive``: the whole accumulated amount
        earns the rate of the tier reached. ``marginal``: each slice earns its own
        tier's rate (sources: Oracle Incentive Compensation "rate not split" vs
        "rate is split"; Salesforce Spiff ``mamount``). ``overage`` (an accelerator
        semantic, at least two tiers): credit below the second tier's ``from`` earns
        the first tier's rate; all credit from there on (the overage) earns the rate
        of the tier the accumulated total reaches (Sales Cookie, "non-cumulative
        tiers, but only pay commissions for revenue above 100 % of quota").
        ``curve``: a pay curve instead of tiers (``curve``, no ``tiers``).
    basis : {"amount", "attainment"}
        Tier bounds in currency (``amount``) or as attainment fractions of quota.
    accumulation : {"per_deal", "per_period", "ytd"}
        What is measured against the tiers: each deal alone, the running total of
        the pay period, or the running fiscal-year-to-date total with a true-up
        (earned to date minus earned in earlier periods of the year).
    tiers : list of Tier
        First tier starts at 0; bounds strictly increase. Not with ``method: curve``.
    curve : list of CurvePoint
        ``method: curve`` only (tiers group): the accumulated payout is linear
        between the points (Oracle Incentive Compensation's interpolated rate table);
        the first point is at 0, ``at`` strictly increases, beyond the last point the
        payout stays at its ``pay``. Each deal earns the rise of the curve, rounded
        to the cent, over its credit: ``round(F(after)) - round(F(before))``.
    gate : fraction, optional
        Threshold: below this attainment nothing is earned in the period.
    boundary : {"upper", "lower"}
        Which tier a total exactly on a tier's ``from`` is in (tiers group): ``upper``
        (default, ``[from, next_from)``) or ``lower`` (``(from, next_from]``, the
        default of Salesforce Spiff's ``range_lookup``). It decides the tier reached
        (``flat``, ``retroactive``, ``overage``); ``marginal`` slices are the same
        either way (the credit below a bound earns the lower rate, above it the
        upper). On attainment, ``lower`` puts the bound at the smallest credit whose
        attainment exceeds ``from``: ``floor(from x quota) + 1`` cent.
    applies_from, applies_below : fraction or money, optional
        The window of credit the schedule pays on (tiers group), in the schedule's
        ``basis``: only the part of each line's accumulated credit in
        ``[applies_from, applies_below)`` earns this schedule's rates (bounds in cents
        as a tier's ``from``); lines with no credit in the window have no line. The
        tier reached is still that of the whole total. Used by :class:`RateComponent`
        to pay e.g. a retroactive schedule up to quota and a marginal accelerator
        above it. Undefined attainment (no quota) puts both bounds at infinity.
    """

    method: Literal["flat", "retroactive", "marginal", "overage", "curve"] = "flat"
    basis: Literal["amount", "attainment"] = "attainment"
    accumulation: Literal["per_deal", "per_period", "ytd"] = "per_period"
    tiers: tuple[Tier, ...] = ()
    gate: Fraction | None = Field(None, ge=0, description="attainment fraction below which nothing is earned")
    # plan shapes, tiers group (issue #13 items 1 and 3): boundary tie-break; method "overage" above
    boundary: Literal["upper", "lower"] = Field("upper", description="tier of a total exactly on a bound")
    # plan shapes, tiers group (issue #13 item 2): the window of credit a schedule pays on
    applies_from: Fraction | None = Field(None, ge=0, description="pays on credit from here (schedule basis)")
    applies_below: Fraction | None = Field(None, gt=0, description="pays on credit below here (schedule basis)")
    # plan shapes, tiers group (issue #13 item 12): a pay curve, linear between points
    curve: tuple[CurvePoint, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> RateSchedule:
        if self.accumulation == "per_deal" and self.basis == "attainment":
            raise ValueError("accumulation 'per_deal' needs basis 'amount' (a single deal has no attainment)")
        if self.method == "curve" or self.curve:
            self._check_curve()
            self._check_window()
            return self
        if not self.tiers:
            raise ValueError(f"method '{self.method}' needs 'tiers' (a list of {{from, rate}}, the first from 0)")
        if self.tiers[0].lo != 0:
            raise ValueError(f"the first tier must start at 0 (got from: {self.tiers[0].lo})")
        los = [t.lo for t in self.tiers]
        for a, b in itertools.pairwise(los):
            if not b > a:
                raise ValueError(f"tier bounds must strictly increase (got {a} then {b})")
        if self.method == "flat" and len(self.tiers) != 1:
            raise ValueError(f"method 'flat' takes exactly one tier (got {len(self.tiers)}); use retroactive or marginal")
        if self.method == "overage" and len(self.tiers) < 2:
            raise ValueError(
                "method 'overage' needs at least two tiers (a base tier and the accelerator tiers whose rate "
                f"the overage earns; got {len(self.tiers)}); add a tier or use method 'flat'"
            )
        if self.basis == "amount":
            for t in self.tiers:
                if t.lo != t.lo.quantize(Decimal("0.01")):
                    raise ValueError(f"amount tier bound {t.lo} has more than two decimals")
        self._check_window()
        return self

    def _check_curve(self) -> None:
        if self.method != "curve":
            raise ValueError(
                f"'curve' is only read with method 'curve' (got method '{self.method}'); remove it or set method: curve"
            )
        if self.tiers:
            raise ValueError("method 'curve' pays by its 'curve' points; remove 'tiers'")
        if len(self.curve) < 2:
            raise ValueError(f"method 'curve' needs at least two 'curve' points {{at, pay}} (got {len(self.curve)})")
        if self.curve[0].at != 0:
            raise ValueError(f"the first curve point must be at 0 (got at: {self.curve[0].at})")
        for a, b in itertools.pairwise(self.curve):
            if not b.at > a.at:
                raise ValueError(f"curve points 'at' must strictly increase (got {a.at} then {b.at})")
        if self.basis == "amount":
            for pt in self.curve:
                if pt.at != pt.at.quantize(Decimal("0.01")):
                    raise ValueError(f"curve point at {pt.at} is an amount (basis 'amount') and has more than two decimals")

    def _check_window(self) -> None:
        lo, hi = self.applies_from, self.applies_below
        if lo is not None and hi is not None and not hi > lo:
            raise ValueError(f"applies_below ({hi}) must be above applies_from ({lo}); the window would be empty")
        if self.basis == "amount":
            for key, v in (("applies_from", lo), ("applies_below", hi)):
                if v is not None and v != v.quantize(Decimal("0.01")):
                    raise ValueError(f"{key} {v} is an amount (basis 'amount') and has more than two decimals")

    @property
    def windowed(self) -> bool:
        """True when ``applies_from`` or ``applies_below`` limits the credit the schedule pays on."""
        return self.applies_from is not None or self.applies_below is not None


class RateComponent(RateSchedule):
    """One more rate schedule of a plan, paid on the same credit as ``rates``, on its own statement lines.

    Every key of :class:`RateSchedule` plus ``name`` (tiers group, issue #13 item 2).
    Each component's lines name it (``<plan>, component <name>: ...``); their amounts
    add to the plan's commission before the cap. With ``applies_from`` /
    ``applies_below`` a plan can pay a retroactive schedule (a decelerator that lifts
    once a threshold is passed) on credit up to quota and a marginal accelerator on
    credit above it.

    Attributes
    ----------
    name : str
        The component's name on the statement (unique in the plan).
    """

    name: str = Field(..., min_length=1)


class Cap(_Strict):
    """A ceiling on commission paid (SPIFs and bonuses are outside the cap).

    ``per: period`` caps each pay period; ``per: year`` caps the fiscal year's
    cumulative commission. With ``carry_excess`` the capped-off excess is carried
    to later periods (paid when there is room under the cap); without it the
    excess is forfeited.
    """

    per: Literal["period", "year"] = "period"
    amount: Money = Field(..., ge=0)
    carry_excess: bool = False


class Bonus(_Strict):
    """A fixed award for reaching an attainment.

    ``per: period`` tests the pay period's attainment; ``per: year`` tests the
    year-to-date attainment in the last pay period of the fiscal year.
    ``award: non_cash`` (a trip, merchandise) is recorded at ``amount`` as
    deferred compensation, never paid in cash. ``payout_after_days`` > 0 defers a
    cash award: it is recorded with its payout date (period end + days) and is
    not payable in the period. ``award: deferred`` is cash paid after the period
    (never payable in it; payout date = period end + ``payout_after_days``): the
    ``deferred`` award of the params file's flat ``commission:`` policy.
    """

    name: str
    attainment_at_least: Fraction = Field(..., ge=0)
    per: Literal["period", "year"] = "period"
    amount: Money = Field(..., ge=0)
    award: Literal["cash", "non_cash", "deferred"] = "cash"
    payout_after_days: int = Field(0, ge=0)


class Spif(_Strict):
    """Sales performance incentive fund: extra pay on deals closed in a date window.

    Applies to credited revenue (the AM's own credit) on deals whose ``close_date``
    is in ``[start, end]`` (inclusive) and whose product is in ``products`` (all
    products when omitted). Pays ``rate`` x credit, or ``amount_per_deal`` per
    credited deal. SPIFs are outside the cap.
    """

    name: str
    start: datetime.date
    end: datetime.date
    products: tuple[str, ...] | None = None
    rate: Rate | None = Field(None, ge=0, le=1)
    amount_per_deal: Money | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _check(self) -> Spif:
        if (self.rate is None) == (self.amount_per_deal is None):
            raise ValueError("give exactly one of 'rate' or 'amount_per_deal'")
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class Draw(_Strict):
    """A draw against commission, paid in pay periods starting in ``[start, end]``.

    In a draw period the AM receives at least ``amount``: if the period's net
    earnings are below it, a top-up line pays the difference. A ``recoverable``
    draw's top-ups form a balance that is recovered from later earnings above the
    period's draw (at most ``recovery_limit`` of that excess per period; SHRM's
    sample draw agreement uses 0.5). A non-recoverable draw is never recovered.
    """

    amount: Money = Field(..., ge=0, description="guaranteed amount per pay period")
    recoverable: bool = True
    start: datetime.date | None = None
    end: datetime.date | None = None
    recovery_limit: Fraction = Field(Decimal("1"), gt=0, le=1)


class Clawback(_Strict):
    """What happens when a deal paid in an earlier period is cancelled.

    ``rate_paid`` (default): claw back the commission paid on that deal in
    proportion to the cancelled amount (``paid x cancelled / deal amount``), i.e.
    at the effective rate at which it was paid. ``plan_rate``: claw back
    ``rate`` x the AM's cancelled credit. ``none``: no clawback. Cancellations
    more than ``window_days`` after the close date are not clawed back.
    """

    method: Literal["rate_paid", "plan_rate", "none"] = "rate_paid"
    rate: Rate | None = Field(None, ge=0, le=1)
    window_days: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _check(self) -> Clawback:
        if self.method == "plan_rate" and self.rate is None:
            raise ValueError("method 'plan_rate' needs 'rate'")
        return self


class Crediting(_Strict):
    """Who is credited for a deal before any rate applies.

    Crediting is the data set's rule (the source mapping's ``crediting``, see
    :func:`reportkit.domain.crediting.check_crediting`), so a plan pays on the revenue
    the reports show. ``method`` left out (``None``) follows the data set;
    ``owner`` or ``territory`` states it and must equal the data set's
    (``owner``: the deal owner or the deal's revenue splits; ``territory``:
    every AM assigned to the deal's territory, an overlay, with the owner
    credited when the territory is blank or covered by nobody). ``handoff``:
    a deal on an account closed before the account's ``handover_date`` (from
    business development) is not credited; ``false`` is refused when the data
    has handover dates.
    """

    method: Literal["owner", "territory"] | None = None
    handoff: bool = True


class QuotaSpec(_Strict):
    """Where quotas come from and how they are shaped.

    Attributes
    ----------
    source : {"table", "plan"}
        The dataset's quotas table, or ``annual`` for every AM on the plan.
    annual : money, optional
        Annual quota when ``source: plan``.
    split : {"even", "seasonal"}
        How an annual quota is divided into pay periods (largest remainder, so
        the parts sum to the annual figure).
    seasonal_weights : list of fractions
        One weight per pay period of the year, summing to exactly 1.
    proration : {"active_days", "none"}
        Scale the quota by active days (hires, leavers, leaves of absence).
    ramp : list of fractions
        Fraction of full quota by tenure month (month 1 starts on the hire date);
        after the list ends the factor is 1.
    """

    source: Literal["table", "plan"] = "table"
    annual: Money | None = Field(None, ge=0)
    split: Literal["even", "seasonal"] = "even"
    seasonal_weights: tuple[Fraction, ...] | None = None
    proration: Literal["active_days", "none"] = "active_days"
    ramp: tuple[Fraction, ...] = ()

    @field_validator("annual", mode="before")
    @classmethod
    def _annual(cls, v: Any) -> Any:
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v < 0:
            raise ValueError(f"quota {v!r} is negative; quotas must be >= 0")
        return v

    @field_validator("seasonal_weights", "ramp", mode="before")
    @classmethod
    def _fracs(cls, v: Any) -> Any:
        if v is None:
            return v
        if not isinstance(v, (list, tuple)):
            raise ValueError(f"{v!r} must be a list of fractions")
        return tuple(v)

    @model_validator(mode="after")
    def _check(self) -> QuotaSpec:
        if self.source == "plan" and self.annual is None:
            raise ValueError("source 'plan' needs 'annual' (the annual quota amount)")
        if self.split == "seasonal":
            if not self.seasonal_weights:
                raise ValueError("split 'seasonal' needs 'seasonal_weights'")
            total = sum(self.seasonal_weights)
            if total != 1:
                raise ValueError(f"seasonal_weights must sum to 1 (got {total})")
        if any(w < 0 for w in self.seasonal_weights or ()):
            raise ValueError("seasonal_weights must be >= 0")
        if any(r < 0 or r > 1 for r in self.ramp):
            raise ValueError(f"ramp factors must be in 0..1 (got {[str(r) for r in self.ramp]})")
        return self


class PayMix(_Strict):
    """Share of OTE paid as base salary and as variable pay; they sum to 1."""

    base: Fraction = Field(..., ge=0, le=1)
    variable: Fraction = Field(..., ge=0, le=1)

    @model_validator(mode="after")
    def _sum(self) -> PayMix:
        if self.base + self.variable != 1:
            raise ValueError(f"base ({self.base}) + variable ({self.variable}) must equal 1")
        return self


class Plan(_Strict):
    """A complete incentive-compensation plan (one YAML file).

    Attributes
    ----------
    name : str
    currency : str
        ISO 4217; must match the dataset's currency.
    period : {"quarter", "month"}
        Pay period.
    base_salary, ote : money
        Annual base salary and on-target earnings; ``base_salary`` must equal
        ``ote x pay_mix.base`` to the cent.
    pay_mix : PayMix
    crediting, quota, rates, cap, bonuses, spifs, draw, clawback
        See each class.
    rate_components : list of RateComponent
        More rate schedules paid on the same credit as ``rates``, each on its own
        statement lines (tiers group); empty by default.
    carry_negative : bool
        ``true`` (default): a negative net of a pay period (returns, clawbacks)
        is carried to the next period (``balance_out`` / ``balance_in``) so a
        period never pays below zero. ``false``: the negative net stays on the
        period's statement (money owed back), as the flat ``commission:`` policy
        of a params file has always shown it.
    """

    name: str
    description: str | None = None
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    period: Literal["quarter", "month"] = "quarter"
    base_salary: Money = Field(Decimal("0"), ge=0)
    ote: Money = Field(Decimal("0"), ge=0)
    pay_mix: PayMix | None = None
    crediting: Crediting = Crediting()
    quota: QuotaSpec = QuotaSpec()
    rates: RateSchedule
    # plan shapes, tiers group (issue #13 item 2): more rate schedules, each its own statement lines
    rate_components: tuple[RateComponent, ...] = ()
    cap: Cap | None = None
    bonuses: tuple[Bonus, ...] = ()
    spifs: tuple[Spif, ...] = ()
    draw: Draw | None = None
    clawback: Clawback = Clawback()
    carry_negative: bool = True
    _source_file: str | None = PrivateAttr(default=None)

    @property
    def source_file(self) -> str | None:
        """The YAML file the plan was read from (:func:`load_plan`), for messages; None when built in code."""
        return self._source_file

    @model_validator(mode="after")
    def _mix(self) -> Plan:
        if self.ote and self.base_salary > self.ote:
            raise ValueError(f"base_salary ({self.base_salary}) exceeds ote ({self.ote})")
        if self.pay_mix is not None:
            expected = (self.ote * self.pay_mix.base).quantize(Decimal("0.01"))
            if expected != self.base_salary:
                raise ValueError(
                    f"base_salary {self.base_salary} does not match ote {self.ote} x pay_mix.base "
                    f"{self.pay_mix.base} = {expected}"
                )
        names = [c.name for c in self.rate_components]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"rate_components names must be unique (repeated: {', '.join(dup)}); rename one")
        n = 4 if self.period == "quarter" else 12
        if self.quota.seasonal_weights is not None and len(self.quota.seasonal_weights) != n:
            raise ValueError(
                f"quota.seasonal_weights has {len(self.quota.seasonal_weights)} weights; "
                f"a {self.period} plan needs {n} (one per pay period of the year)"
            )
        return self

    @property
    def target_incentive(self) -> Decimal:
        """Annual variable pay at 100 % attainment: ``ote - base_salary``."""
        return self.ote - self.base_salary

    @staticmethod
    def cents(d: Decimal) -> int:
        """Exact money ``Decimal`` (validated to two places) -> integer cents."""
        return int(d * 100)


# ---------------------------------------------------------------------------
# assignments
# ---------------------------------------------------------------------------
class PlanAssignment(_Strict):
    """One AM on one plan from ``start`` to ``end`` (inclusive; open-ended when ``end`` is None)."""

    account_manager_id: Id
    plan: str
    start: datetime.date
    end: datetime.date | None = None

    @model_validator(mode="after")
    def _order(self) -> PlanAssignment:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class PlanAssignments(_Strict):
    """Effective-dated plan assignments; an AM's assignments never overlap."""

    assignments: tuple[PlanAssignment, ...] = ()

    @model_validator(mode="after")
    def _no_overlap(self) -> PlanAssignments:
        by_am: dict[str, list[PlanAssignment]] = {}
        for a in self.assignments:
            by_am.setdefault(a.account_manager_id, []).append(a)
        for am, rows in by_am.items():
            rows.sort(key=lambda a: a.start)
            for x, y in itertools.pairwise(rows):
                if x.end is None or x.end >= y.start:
                    raise ValueError(
                        f"account manager {am!r}: plan {x.plan!r} from {x.start} to {x.end or 'open'} "
                        f"overlaps plan {y.plan!r} from {y.start}"
                    )
        return self

    def plan_for(self, account_manager_id: str, on: datetime.date) -> str | None:
        """Name of the plan in effect for ``account_manager_id`` on date ``on`` (None if none)."""
        for a in self.assignments:
            if a.account_manager_id == account_manager_id and a.start <= on and (a.end is None or on <= a.end):
                return a.plan
        return None

    def plan_for_period(self, account_manager_id: str, start: datetime.date, end: datetime.date) -> str | None:
        """Plan for a pay period: the one in effect on its last day, else the latest one overlapping it.

        A plan change inside a period therefore takes effect for the whole period
        in which the new plan is in force at period end (documented in
        ``docs/commission.md``).
        """
        name = self.plan_for(account_manager_id, end)
        if name is not None:
            return name
        best = None
        for a in self.assignments:
            overlaps = a.account_manager_id == account_manager_id and a.start <= end and (a.end is None or a.end >= start)
            if overlaps and (best is None or a.start > best.start):
                best = a
        return None if best is None else best.plan


# ---------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------
def format_plan_error(exc: ValidationError, file: str, model: type[BaseModel]) -> str:
    """One line per problem naming file, line, key path, bad value and the allowed set.

    Nested lists of models (``rates.tiers.1.rte``) and aliases (``from:``) are
    followed to list the allowed keys there; the file is read again to name each
    key's line and how YAML typed an unquoted value
    (:func:`reportkit.core.yaml_input.format_validation_errors`, as params and mappings).
    """
    return "\n".join(format_validation_errors(exc, file, model, yaml_file=file))


def _read_yaml(path: Path) -> dict:
    return read_yaml_mapping(path, PlanError, what="plan file")


def load_plan(path: str | Path) -> Plan:
    """Read and validate one plan YAML file.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Plan

    Raises
    ------
    PlanError
        Missing file, bad YAML, unknown keys, bad values; the message has one
        line per problem naming the file, key, value and allowed set.
    """
    path = Path(path)
    raw = _read_yaml(path)
    try:
        plan = Plan.model_validate(raw)
    except ValidationError as exc:
        raise PlanError(format_plan_error(exc, str(path), Plan)) from None
    plan._source_file = str(path)
    return plan


def load_plans(folder: str | Path) -> dict[str, Plan]:
    """Load every ``*.yaml`` plan in ``folder`` keyed by file stem (``standard``).

    Files named ``assignments*.yaml`` are skipped (see :func:`load_assignments`).
    """
    folder = Path(folder)
    out = {}
    for p in sorted(folder.glob("*.yaml")):
        if p.stem.startswith("assignments"):
            continue
        out[p.stem] = load_plan(p)
    return out


def load_assignments(path: str | Path, plans: typing.Iterable[str] | None = None) -> PlanAssignments:
    """Read effective-dated plan assignments (``assignments: [{account_manager_id, plan, start, end}]``).

    Raises
    ------
    PlanError
        Bad keys/values, overlapping assignments of one AM, or (when ``plans`` is
        given) a plan name that is not among ``plans``.
    """
    path = Path(path)
    raw = _read_yaml(path)
    try:
        result = PlanAssignments.model_validate(raw)
    except ValidationError as exc:
        raise PlanError(format_plan_error(exc, str(path), PlanAssignments)) from None
    if plans is not None:
        known = sorted(plans)
        for i, a in enumerate(result.assignments):
            if a.plan not in known:
                raise PlanError(
                    f"{path}: key 'assignments.{i}.plan': unknown plan {a.plan!r}{did_you_mean(a.plan, known)} "
                    f"(allowed: {', '.join(known)})"
                )
    return result


def load_plan_source(
    path: str | Path, assignments: str | Path | None = None
) -> tuple[Plan | dict[str, Plan], PlanAssignments | None]:
    """Plans and assignments for :func:`reportkit.domain.engine.compute` from a params ``plan:`` entry.

    Parameters
    ----------
    path : str or Path
        One plan YAML file, or a folder of plan files.
    assignments : str or Path, optional
        Effective-dated assignments YAML; required with a folder. Only the plans
        it names are returned (a folder may hold plans of other pay periods).

    Returns
    -------
    (Plan, None) for one file; ({name: Plan}, PlanAssignments) for a folder.

    Raises
    ------
    PlanError
        Missing file or folder, a folder without assignments, bad plan or
        assignment files.
    """
    path = Path(path)
    if path.is_dir():
        if assignments is None:
            raise PlanError(
                f"plan: {str(path)!r} is a folder of plans; it needs 'assignments' (which AM is on which plan when)",
                hint="write plan: {path: plans, assignments: plans/assignments.yaml}",
            )
        plans = load_plans(path)
        who = load_assignments(assignments, plans)
        used = {a.plan for a in who.assignments}
        return {n: p for n, p in plans.items() if n in used}, who
    if not path.exists():
        raise PlanError(f"plan file {str(path)!r} does not exist", hint="check the path (relative to the params file)")
    plan = load_plan(path)
    if assignments is not None:
        who = load_assignments(assignments, [path.stem])
        return {path.stem: plan}, who
    return plan, None
