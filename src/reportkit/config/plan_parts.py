"""The parts of a commission plan: rate schedules (tiers, pay curves, rate components),
caps, bonuses, SPIFs, draws, clawbacks, per-deal limits, the quota spec and the pay mix
(crediting, split modes, measures and multipliers: :mod:`reportkit.config.plan_counts`).

Each is a strict, frozen pydantic model; :class:`reportkit.config.plans.Plan`
assembles them, and :mod:`reportkit.config.plans` re-exports every name here (import
them from there). Units as in :mod:`reportkit.config.plans`: money is currency units
with at most two decimals (``Decimal``), rates and attainment bounds fractions with at
most six decimals (1.0 == 100 % of quota).
"""

from __future__ import annotations

import datetime
import fractions
import itertools
from decimal import Decimal
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ..core.types import PPM, Fraction, Money, Rate, StablePickle
from ..core.yaml_input import KeyedValueError


# ---------------------------------------------------------------------------
# value helpers: the value types (Money, Rate, Fraction, Id) and PPM live in
# reportkit.core.types, shared with params and mappings.
# ---------------------------------------------------------------------------
def ppm(d: Decimal) -> int:
    """Exact ``Decimal`` fraction -> integer parts per million (``0.08 -> 80000``)."""
    return int(d * PPM)


class _Strict(StablePickle, BaseModel):
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

    ``bcr_multiple`` instead of ``rate``: the rate is that multiple of the plan's
    base commission rate (BCR = target incentive / annual quota, QuotaPath's
    "Base Commission Rate = Variable Pay / Quota"; ``"1.5"`` == an accelerator at
    1.5 x BCR). The plan computes ``rate`` when it is loaded, rounded half away
    from zero to six decimals (:meth:`Plan._bcr_rates`); it needs ``ote``,
    ``base_salary`` and ``quota: {source: plan, annual: ...}``.
    """

    lo: Fraction = Field(..., alias="from", ge=0, description="lower bound, inclusive")
    rate: Rate | None = Field(None, ge=0, le=1, description="commission rate, fraction of credited revenue")
    label: str | None = Field(None, description="e.g. 'base', 'accelerator', 'decelerator'")
    # -- incentive group (issue #13 item 4): the rate as a multiple of the base commission rate
    bcr_multiple: Fraction | None = Field(
        None, ge=0, description="rate = bcr_multiple x BCR, BCR = target incentive / annual quota (see Plan)"
    )
    # -- fixes group (issue #13): a bcr_multiple tier's exact rate, set by Plan._bcr_rates
    _exact: fractions.Fraction | None = PrivateAttr(default=None)

    @property
    def exact_rate(self) -> fractions.Fraction:
        """The tier's rate as an exact fraction (1 == 100 % of credited revenue).

        ``rate`` itself for a tier written with ``rate`` (at most six decimals, so
        ``ppm / 1e6``); for a ``bcr_multiple`` tier ``TI x bcr_multiple / annual
        quota`` unrounded (``50,000.00 / 600,000.00 = 1/12``), while ``rate`` holds it
        rounded half away from zero to six decimals for display. The engine pays
        ``credit x exact_rate`` rounded once per line (``engine/tiers.py``), so a BCR
        plan pays the target incentive to the cent at quota.

        Examples
        --------
        >>> Tier.model_validate({"from": 0, "rate": "0.08"}).exact_rate
        Fraction(2, 25)
        """
        if self._exact is not None:
            return self._exact
        return fractions.Fraction(ppm(self.rate or Decimal(0)), PPM)

    @model_validator(mode="after")
    def _one_rate(self) -> Tier:
        if self.rate is None and self.bcr_multiple is None:
            raise ValueError("give 'rate' (a fraction) or 'bcr_multiple' (a multiple of the base commission rate)")
        return self


class CurvePoint(_Strict):
    """One point of a pay curve (tiers group, issue #13 item 12): at ``at`` the accumulated payout is ``pay``.

    ``at`` is in the schedule's ``basis`` (an amount, or an attainment fraction,
    1.0 == 100 % of quota); ``pay`` is money (currency units, two decimals). Instead
    of ``pay``, ``of_ti`` gives the payout as a fraction of the target incentive (TI,
    ``ote - base_salary``) of the pay period, prorated like quota (fixes group, issue
    #13; ``of_ti: "1.0"`` at ``at: "1.0"`` == 100 % of TI at 100 % attainment, the way
    Oracle and Xactly express pay curves). All points of a curve use the same one.
    """

    at: Fraction = Field(..., ge=0, description="measure: amount or attainment fraction")
    pay: Money | None = Field(None, ge=0, description="accumulated payout at this point")
    # -- fixes group (issue #13): the payout as a fraction of the (prorated) target incentive
    of_ti: Fraction | None = Field(
        None, ge=0, description="accumulated payout at this point as a fraction of the period's target incentive"
    )

    @model_validator(mode="after")
    def _one_pay(self) -> CurvePoint:
        if (self.pay is None) == (self.of_ti is None):
            raise KeyedValueError(
                "give exactly one of 'pay' (money) or 'of_ti' (a fraction of the target incentive, 1.0 == 100 % of TI)",
                "of_ti" if self.of_ti is not None else "pay",
                None if self.pay is None else str(self.pay),
            )
        return self


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
            raise KeyedValueError("the first tier must start at 0", ("tiers", 0, "from"), str(self.tiers[0].lo))
        los = [t.lo for t in self.tiers]
        for i, (a, b) in enumerate(itertools.pairwise(los), start=1):  # the tier out of order, at its own line
            if not b > a:
                raise KeyedValueError(
                    f"tier bounds must strictly increase: this tier starts at {b}, the one before it at {a}; "
                    "list the tiers from the lowest 'from' up",
                    ("tiers", i, "from"),
                    str(b),
                )
        if self.method == "flat" and len(self.tiers) != 1:
            raise ValueError(f"method 'flat' takes exactly one tier (got {len(self.tiers)}); use retroactive or marginal")
        if self.method == "overage" and len(self.tiers) < 2:
            raise ValueError(
                "method 'overage' needs at least two tiers (a base tier and the accelerator tiers whose rate "
                f"the overage earns; got {len(self.tiers)}); add a tier or use method 'flat'"
            )
        if self.basis == "amount":
            for i, t in enumerate(self.tiers):
                if t.lo != t.lo.quantize(Decimal("0.01")):
                    raise KeyedValueError(f"amount tier bound {t.lo} has more than two decimals", ("tiers", i, "from"), str(t.lo))
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
            raise KeyedValueError("the first curve point must be at 0", ("curve", 0, "at"), str(self.curve[0].at))
        for i, (a, b) in enumerate(itertools.pairwise(self.curve), start=1):
            if not b.at > a.at:
                raise KeyedValueError(
                    f"curve points 'at' must strictly increase: this point is at {b.at}, the one before it at {a.at}",
                    ("curve", i, "at"),
                    str(b.at),
                )
        of_ti = [pt.of_ti is not None for pt in self.curve]
        if any(of_ti) and not all(of_ti):
            i = of_ti.index(not of_ti[0])
            raise KeyedValueError(
                "every curve point gives its payout the same way: all 'pay' (money) or all 'of_ti' (fractions of "
                "the target incentive); rewrite this point like the first",
                ("curve", i),
                None,
            )
        if all(of_ti) and self.accumulation != "per_period" and self.accumulation != "ytd":
            raise KeyedValueError(
                "a curve of 'of_ti' points pays a fraction of a pay period's target incentive: it needs accumulation "
                "'per_period' or 'ytd' (the TI of the year so far)",
                "accumulation",
                self.accumulation,
            )
        if all(of_ti) and self.windowed:
            raise KeyedValueError(
                "a curve of 'of_ti' points cannot take applies_from / applies_below; remove the window",
                "applies_from" if self.applies_from is not None else "applies_below",
                str(self.applies_from if self.applies_from is not None else self.applies_below),
            )
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
    def curve_of_ti(self) -> bool:
        """True for a pay curve whose points give the payout as fractions of the target incentive (``of_ti``)."""
        return bool(self.curve) and self.curve[0].of_ti is not None

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

    Attributes
    ----------
    per : {"period", "year"}
    amount : money, optional
        The cap in currency.
    of_ti : fraction, optional
        The cap as a multiple of the target incentive (TI, ``ote - base_salary``;
        ``"2.0"`` == 200 % of TI): per period, of the period's TI; per year, of the
        target incentive of the year so far. TI is prorated by active days like
        quota (see ``docs/commission.md``, "Plan shapes: incentive"). Give exactly
        one of ``amount`` and ``of_ti``.
    carry_excess : bool
    """

    per: Literal["period", "year"] = "period"
    amount: Money | None = Field(None, ge=0)
    # -- incentive group (issue #13 item 4): cap as a multiple of TI
    of_ti: Fraction | None = Field(None, ge=0, description="cap as a multiple of the target incentive (TI)")
    carry_excess: bool = False

    @model_validator(mode="after")
    def _one_amount(self) -> Cap:
        if (self.amount is None) == (self.of_ti is None):
            raise ValueError("give exactly one of 'amount' (currency) or 'of_ti' (a multiple of the target incentive)")
        return self


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
    amount: Money | None = Field(None, ge=0)
    # -- incentive group (issue #13 item 4): a bonus (kicker) as a fraction of TI
    of_ti: Fraction | None = Field(None, ge=0, description="bonus as a fraction of the target incentive (TI)")
    award: Literal["cash", "non_cash", "deferred"] = "cash"
    payout_after_days: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _one_amount(self) -> Bonus:
        if (self.amount is None) == (self.of_ti is None):
            raise ValueError("give exactly one of 'amount' (currency) or 'of_ti' (a fraction of the target incentive)")
        return self


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
        _end_not_before_start(self.start, self.end, "a SPIF's window runs from start to end, both days included")
        return self


def _end_not_before_start(start: datetime.date | None, end: datetime.date | None, what: str) -> None:
    """The one rule of a plan's date ranges (a SPIF, a draw, an assignment): ``end`` on or after ``start``.

    Raises
    ------
    KeyedValueError
        On key ``end`` (its YAML line), with both dates and the fix; nothing when either is None.
    """
    if start is not None and end is not None and end < start:
        raise KeyedValueError(
            f"end {end} is before start {start}: {what}; swap the two dates if they are reversed, "
            "or correct the one that is wrong",
            "end",
            end,
        )


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

    @model_validator(mode="after")
    def _order(self) -> Draw:
        _end_not_before_start(self.start, self.end, "a draw is paid in the pay periods starting from start to end")
        return self


class Clawback(_Strict):
    """What happens when a deal paid in an earlier period is cancelled (the clawback method).

    The plan in force in the cancellation's pay period decides. Methods, in the ICM
    vendors' terms (worked examples in ``docs/commission.md``, "Plan shapes: clawbacks
    and statements"):

    * ``rate_paid`` (default): **charge back in the current period at the original
      rate**: a ``clawback`` line in the cancellation's period taking back the
      commission paid on that deal in proportion to the cancelled amount
      (``paid x cancelled / deal amount``), i.e. at the effective rate it was paid at
      (Xactly's commission clawback rule).
    * ``plan_rate``: a ``clawback`` line of ``rate`` x the AM's cancelled credit.
    * ``restate``: **restate the origin period**: its rate-schedule commission is
      recomputed without the cancelled credit (its attainment and tiers too) and the
      difference is a ``prior_period_adjustment`` line in the cancellation's period
      that names the period it restates. Refused with ``rates.accumulation: ytd``
      (a YTD plan re-rates the year each period through its true-up: use
      ``negative_deal`` there).
    * ``negative_deal``: **a negative deal in the current period**: the cancelled
      credit is a negative credit on the cancellation day, through the current
      period's rate schedule, attainment, caps and bonuses (like a return).
    * ``none``: a zero ``clawback`` line (nothing taken back).

    Cancellations more than ``window_days`` (days, >= 0) after the close date are not
    clawed back by any method (a zero ``clawback`` line says so).
    """

    # clawback group (issue #13): restate and negative_deal added to the methods
    method: Literal["rate_paid", "plan_rate", "restate", "negative_deal", "none"] = "rate_paid"
    rate: Rate | None = Field(None, ge=0, le=1)
    window_days: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _check(self) -> Clawback:
        if self.method == "plan_rate" and self.rate is None:
            raise ValueError("method 'plan_rate' needs 'rate'")
        if self.rate is not None and self.method != "plan_rate":
            raise ValueError(
                f"'rate' ({self.rate}) is only used by method 'plan_rate' (got method {self.method!r}); "
                f"remove 'rate' or set method: plan_rate"
            )
        return self


class DealLimits(_Strict):
    """Per-deal minimum and maximum commission (issue #13 item 5, incentive group).

    Applied to each account manager's commission on each deal in a pay period
    (the sum of the deal's rate-schedule lines, tier slices included): a deal
    that earned commission (> 0) below ``min`` is topped up to ``min``; a deal
    above the maximum is cut down to it. Each adjustment is its own statement
    line naming the deal. A deal that earned nothing (a gate, a 0 % tier, a
    return) is never lifted. A clawback of the deal later claws back at the
    amount actually paid, the limit included (``clawback.method: rate_paid``).

    Attributes
    ----------
    min : money, optional
        Smallest commission on a deal that earns commission.
    max : money, optional
        Largest commission on one deal.
    max_of_ti : fraction, optional
        Largest commission on one deal as a fraction of the annual target
        incentive (TI; ``"1.0"`` == one year's TI). With ``max`` too, the
        smaller applies.
    """

    min: Money | None = Field(None, ge=0)
    max: Money | None = Field(None, ge=0)
    max_of_ti: Fraction | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _check(self) -> DealLimits:
        if self.min is None and self.max is None and self.max_of_ti is None:
            raise ValueError("give at least one of 'min', 'max' or 'max_of_ti'")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


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
        4 weights (one per fiscal quarter) or 12 (one per fiscal month), summing
        to exactly 1, on a quarterly or a monthly plan alike (credit group, issue
        #13 item 8): quarterly weights on a monthly plan split each quarter evenly
        into its months; monthly weights on a quarterly plan make a quarter the
        sum of its months (:func:`reportkit.domain.quota.split_year`).
    proration : {"active_days", "months", "none"}
        Scale the quota by active days (hires, leavers, leaves of absence), or by
        whole months (``months``, issue #13 item 8): a fiscal month counts when the
        AM is active on every day of it, and a pay period's quota is its base x the
        weight of its counted months / the weight of all its months (each month
        weighs 1, or its seasonal weight when 12 are given).
    ramp : list of fractions
        Fraction of full quota by tenure month (month 1 starts on the hire date);
        after the list ends the factor is 1.
    ramp_amounts : list of money
        The ramp written as amounts instead (credit group, issue #13 item 9): the
        quota of a whole tenure month 1, 2, ... in currency, used exactly (no
        fraction of full quota, so no cent lost: 10,000.00 of a 45,000.00 monthly
        quota is not 0.222222). A day of tenure month ``k`` weighs ``amount_k x
        months per pay period`` against the full quota's ``base``; after the list
        ends the full quota applies. Give ``ramp`` or ``ramp_amounts``, not both.
    """

    source: Literal["table", "plan"] = "table"
    annual: Money | None = Field(None, ge=0)
    split: Literal["even", "seasonal"] = "even"
    seasonal_weights: tuple[Fraction, ...] | None = None
    proration: Literal["active_days", "months", "none"] = "active_days"
    ramp: tuple[Fraction, ...] = ()
    # --- credit group (issue #13 items 8, 9): ramps as amounts ---
    ramp_amounts: tuple[Money, ...] = ()

    @field_validator("annual", mode="before")
    @classmethod
    def _annual(cls, v: Any) -> Any:
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v < 0:
            raise ValueError(f"quota {v!r} is negative; quotas must be >= 0")
        return v

    @field_validator("seasonal_weights", "ramp", "ramp_amounts", mode="before")
    @classmethod
    def _fracs(cls, v: Any, info: ValidationInfo) -> Any:
        if v is None:
            return v
        if not isinstance(v, (list, tuple)):
            what = "amounts" if info.field_name == "ramp_amounts" else "fractions"
            raise ValueError(f"{v!r} must be a list of {what}")
        return tuple(v)

    @model_validator(mode="after")
    def _check(self) -> QuotaSpec:
        if self.source == "plan" and self.annual is None:
            raise KeyedValueError("source 'plan' needs 'annual' (the annual quota amount)", "source", "plan")
        if self.source == "table" and self.annual is not None:
            raise KeyedValueError(
                f"'annual' ({self.annual}) is read only with source 'plan'; with source 'table' the quotas come from "
                "the data set's quotas table: remove 'annual', or set source: plan to use it",
                "annual",
                str(self.annual),
            )
        if self.split == "even" and self.seasonal_weights:
            raise KeyedValueError(
                "seasonal_weights are used only with split 'seasonal' (split is 'even'): set split: seasonal, "
                "or remove seasonal_weights",
                "seasonal_weights",
                [str(w) for w in self.seasonal_weights],
            )
        if self.split == "seasonal":
            if not self.seasonal_weights:
                raise KeyedValueError("split 'seasonal' needs 'seasonal_weights'", "split", "seasonal")
            total = sum(self.seasonal_weights)
            if total != 1:
                raise KeyedValueError(
                    f"seasonal_weights must sum to 1 (got {total})", "seasonal_weights", [str(w) for w in self.seasonal_weights]
                )
        for i, w in enumerate(self.seasonal_weights or ()):
            if w < 0:
                raise KeyedValueError("seasonal_weights must be >= 0", ("seasonal_weights", i), str(w))
        for i, r in enumerate(self.ramp):
            if r < 0 or r > 1:
                raise KeyedValueError(
                    "ramp factors must be in 0..1: a ramp factor is a fraction of the full quota (0.25 == 25 %)",
                    ("ramp", i),
                    str(r),
                )
        if self.ramp and self.ramp_amounts:
            raise KeyedValueError(
                "give 'ramp' (fractions of full quota) or 'ramp_amounts' (quota amounts per tenure month), not both",
                "ramp_amounts",
                [str(a) for a in self.ramp_amounts],
            )
        for i, a in enumerate(self.ramp_amounts):
            if a < 0:
                raise KeyedValueError(
                    "ramp_amounts must be >= 0: each is the quota of a whole tenure month in currency",
                    ("ramp_amounts", i),
                    str(a),
                )
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
