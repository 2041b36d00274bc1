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
import fractions
import itertools
import typing
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ..core.errors import PlanError, did_you_mean
from ..core.money import rdiv
from ..core.types import PPM, CarryNegative, CurrencyCode, Id, Money
from ..core.yaml_input import KeyedValueError, format_validation_errors, read_yaml_mapping

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
    "DealLimits",
    "Measure",
    "Multiplier",
    "Crediting",
    "DealTypeFactors",
    "DEAL_TYPE_DEFAULT",
    "deal_type_key",
    "deal_type_plan",
    "QuotaSpec",
    "SplitSpec",
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


from .plan_counts import (
    DEAL_TYPE_DEFAULT,
    Crediting,
    DealTypeFactors,
    Measure,
    Multiplier,
    SplitSpec,
    deal_type_key,
)
from .plan_parts import (
    Bonus,
    Cap,
    Clawback,
    CurvePoint,
    DealLimits,
    Draw,
    PayMix,
    QuotaSpec,
    RateComponent,
    RateSchedule,
    Spif,
    Tier,
    _end_not_before_start,
    _Strict,
    ppm,
)


def _keyed(key: str, value: object):
    """A :class:`KeyedValueError` maker for ``key`` and ``value``: ``raise _keyed(k, v)(message)``."""
    return lambda message: KeyedValueError(message, key, value)


class Plan(_Strict):
    """A complete incentive-compensation plan (one YAML file).

    Attributes
    ----------
    name : str
    currency : str
        ISO 4217: the currency the plan computes in (its amounts, quota, attainment,
        commission); must be the data set's reporting currency.
    payout_currency : str, optional
        ISO 4217: the currency the account manager is paid in, when not ``currency``
        (fx2 group, issue #13 item 10). Each pay period's payout (the sum of its rounded
        payable lines in ``currency``) is converted once, at the rate of the data set's
        ``fx_rates`` table (units of ``currency`` per unit of ``payout_currency``), divided
        and rounded half away from zero to the cent (:func:`reportkit.data.fx.to_payout_cents`).
        Left out: paid in ``currency``, as before.
    payout_conversion : {"period_end", "period_average"}, optional
        Required with a ``payout_currency`` other than ``currency``: the rate in force on
        the pay period's last day, or the mean of the rates dated in the pay period
        (:func:`reportkit.data.fx.payout_rates`). Refused without one.
    period : {"quarter", "month"}
        Pay period.
    base_salary, ote : money
        Annual base salary and on-target earnings; ``base_salary`` must equal
        ``ote x pay_mix.base`` to the cent.
    pay_mix : PayMix
    crediting, quota, rates, cap, bonuses, spifs, draw, clawback
        See each class. ``rates`` may be left out on a plan paid by its ``measures``
        only (measures2 group, issue #13 item 13): no rate schedule runs and no deal
        gets a commission line; a plan with neither is refused.
    rate_components : list of RateComponent
        More rate schedules paid on the same credit as ``rates``, each on its own
        statement lines (tiers group); empty by default.
    carry_negative : bool
        ``true`` (default): a negative net of a pay period (returns, clawbacks)
        is carried to the next period (``balance_out`` / ``balance_in``) so a
        period never pays below zero. ``false``: the negative net stays on the
        period's statement (money owed back). The flat ``commission:`` policy
        of a params file has the same key and default (:data:`reportkit.core.types.CarryNegative`).
    deal_limits : DealLimits, optional
        Per-deal minimum and maximum commission.
    undefined_attainment : {"pay_nothing", "base_tier", "refuse"}, optional
        What a pay period with a zero quota (attainment undefined) earns under
        an attainment-based rate schedule or gate: ``pay_nothing`` (every
        commission line 0 at rate 0), ``base_tier`` (the first tier's rate, and
        through the gate), ``refuse`` (the run stops with a ``PlanError`` naming
        the account managers and periods). Left out: ``base_tier`` for a plan
        without a gate (the behaviour before the key existed) and
        ``pay_nothing`` for a gated plan (a gate is never passed on undefined
        attainment unless the plan says ``base_tier``). Attainment bonuses are
        never earned on undefined attainment.
    """

    name: str
    description: str | None = None
    currency: CurrencyCode = "USD"
    # -- fx2 group (issue #13 item 10): paid in another currency, converted once per pay period
    payout_currency: CurrencyCode | None = None
    payout_conversion: Literal["period_end", "period_average"] | None = None
    period: Literal["quarter", "month"] = "quarter"
    base_salary: Money = Field(Decimal("0"), ge=0)
    ote: Money = Field(Decimal("0"), ge=0)
    pay_mix: PayMix | None = None
    crediting: Crediting = Crediting()
    quota: QuotaSpec = QuotaSpec()
    rates: RateSchedule | None = None  # measures2 group: optional on a measures-only plan
    # plan shapes, tiers group (issue #13 item 2): more rate schedules, each its own statement lines
    rate_components: tuple[RateComponent, ...] = ()
    cap: Cap | None = None
    bonuses: tuple[Bonus, ...] = ()
    spifs: tuple[Spif, ...] = ()
    draw: Draw | None = None
    clawback: Clawback = Clawback()
    carry_negative: CarryNegative
    # -- incentive group (issue #13 items 5 and 16): per-deal limits, undefined attainment
    deal_limits: DealLimits | None = None
    undefined_attainment: Literal["pay_nothing", "base_tier", "refuse"] | None = None
    # -- measures group (issue #13 items 13 and 14): weighted measures, conditional multipliers
    measures: tuple[Measure, ...] = ()
    multipliers: tuple[Multiplier, ...] = ()
    # -- splits group (issue #13 item 7): split credit first, or split the whole deal's payout
    splits: SplitSpec = SplitSpec()
    _source_file: str | None = PrivateAttr(default=None)

    @property
    def source_file(self) -> str | None:
        """The YAML file the plan was read from (:func:`load_plan`), for messages; None when built in code."""
        return self._source_file

    @property
    def schedules(self) -> tuple:
        """The plan's rate schedules in order: ``rates`` (when given) then each of its ``rate_components``."""
        return tuple(rs for _, rs in self.keyed_schedules)

    @property
    def keyed_schedules(self) -> tuple:
        """``(key path, schedule)`` of each rate schedule (:attr:`schedules`), for messages."""
        own = (("rates", self.rates),) if self.rates is not None else ()
        return own + tuple((f"rate_components.{i}", c) for i, c in enumerate(self.rate_components))

    @model_validator(mode="after")
    def _pays_by_something(self) -> Plan:
        # measures2 group (issue #13 item 13): 'rates' may be left out on a plan paid by its measures only
        if self.rates is not None:
            return self
        if not self.measures:
            raise _keyed("rates", None)(
                "the plan has neither 'rates' (a rate schedule on each credited deal) nor 'measures' (weighted "
                "measures of the target incentive), so it pays nothing; add rates, e.g. rates: {method: flat, "
                'basis: amount, tiers: [{from: 0, rate: "0.05"}]}, or measures with ote and base_salary'
            )
        if self.rate_components:
            raise _keyed("rate_components", None)(
                "rate_components are more rate schedules beside 'rates', but the plan has no 'rates'; "
                "give the first component as 'rates', or remove rate_components"
            )
        if self.deal_limits is not None:
            raise _keyed("deal_limits", None)(
                "deal_limits bound each deal's commission line, but a plan without 'rates' writes none; "
                "add rates or remove deal_limits"
            )
        return self

    @model_validator(mode="after")
    def _mix(self) -> Plan:
        if self.ote and self.base_salary > self.ote:
            raise KeyedValueError(
                f"base_salary ({self.base_salary}) exceeds ote ({self.ote}): on-target earnings include the base; "
                "lower base_salary or raise ote",
                "base_salary",
                str(self.base_salary),
            )
        if self.pay_mix is not None:
            expected = (self.ote * self.pay_mix.base).quantize(Decimal("0.01"))
            if expected != self.base_salary:
                raise KeyedValueError(
                    f"base_salary {self.base_salary} does not match ote {self.ote} x pay_mix.base "
                    f"{self.pay_mix.base} = {expected}; set base_salary to {expected} or change pay_mix",
                    "base_salary",
                    str(self.base_salary),
                )
        names = [c.name for c in self.rate_components]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            last = max(i for i, n in enumerate(names) if n in dup)
            raise KeyedValueError(
                f"rate_components names must be unique (repeated: {', '.join(dup)}); rename one",
                ("rate_components", last, "name"),
                names[last],
            )
        # clawback group (issue #13): a YTD plan restates through its true-up already
        if self.clawback.method == "restate" and self.rates is not None and self.rates.accumulation == "ytd":
            raise _keyed("clawback.method", "restate")(
                "clawback.method 'restate' cannot be used with rates.accumulation 'ytd' (allowed there: "
                "'rate_paid', 'plan_rate', 'negative_deal', 'none'): a ytd plan re-rates the whole year every "
                "period through its true-up; use clawback.method: negative_deal for the same effect"
            )
        if self.quota.seasonal_weights is not None and len(self.quota.seasonal_weights) not in (4, 12):
            raise _keyed("quota.seasonal_weights", [str(w) for w in self.quota.seasonal_weights])(
                f"quota.seasonal_weights has {len(self.quota.seasonal_weights)} weights; give 4 (one per "
                "quarter) or 12 (one per month), on a quarterly or a monthly plan alike"
            )
        return self

    @property
    def converts_payout(self) -> bool:
        """Whether the plan pays in another currency than it computes in (``payout_currency``)."""
        return self.payout_currency is not None and self.payout_currency != self.currency

    @model_validator(mode="after")
    def _payout_currency(self) -> Plan:
        # fx2 group (issue #13 item 10): a second currency needs its rate declared, and only then
        if self.converts_payout and self.payout_conversion is None:
            raise _keyed("payout_currency", self.payout_currency)(
                f"payout_currency {self.payout_currency} differs from currency {self.currency}, so the payout "
                "is converted and the plan must say at which rate (allowed: period_end | period_average); "
                "add payout_conversion: period_end (the rate in force on the pay period's last day) or "
                "period_average (the mean of the rates dated in the pay period)"
            )
        if self.payout_conversion is not None and not self.converts_payout:
            raise _keyed("payout_conversion", self.payout_conversion)(
                f"payout_conversion is only used when payout_currency differs from currency ({self.currency}); "
                f"remove payout_conversion, or set payout_currency to the currency the account managers are paid in"
            )
        return self

    @model_validator(mode="after")
    def _ramp_within_quota(self) -> Plan:
        # fixes group (issue #13): a ramp amount lowers a month's quota, never raises it; the plan's
        # own quota is known here (a quotas table's is checked by the engine, engine/quotas.py)
        q = self.quota
        if q.source != "plan" or not q.ramp_amounts or q.annual is None:
            return self
        annual = Plan.cents(q.annual)
        if q.split == "seasonal" and q.seasonal_weights:
            w = q.seasonal_weights
            share = max(w) if len(w) == 12 else max(w) / 3
        else:
            share = Decimal(1) / 12
        full = int((annual * share).to_integral_value(rounding="ROUND_CEILING"))  # the largest month, to the cent
        for i, a in enumerate(q.ramp_amounts):
            if Plan.cents(a) > full:
                raise KeyedValueError(
                    f"quota.ramp_amounts.{i}: {a} is above the full quota of a month ({Decimal(full).scaleb(-2):,.2f} of the annual "
                    f"{q.annual}): a ramp lowers a new hire's quota; give at most a month's quota, or remove it",
                    ("quota", "ramp_amounts", i),
                    str(a),
                )
        return self

    @model_validator(mode="after")
    def _incentive(self) -> Plan:
        # incentive group (issue #13 items 4 and 5): amounts given as multiples of TI need a TI
        uses_ti = [
            (k, v)
            for k, v in (
                ("cap.of_ti", self.cap.of_ti if self.cap is not None else None),
                *((f"bonuses.{i}.of_ti", b.of_ti) for i, b in enumerate(self.bonuses)),
                ("deal_limits.max_of_ti", self.deal_limits.max_of_ti if self.deal_limits is not None else None),
            )
            if v is not None
        ]
        if uses_ti and self.target_incentive <= 0:
            raise _keyed(uses_ti[0][0], str(uses_ti[0][1]))(
                f"{', '.join(k for k, _ in uses_ti)} is a multiple of the target incentive, but the plan has none "
                f"(TI = ote - base_salary = {self.ote} - {self.base_salary}); set 'ote' and 'base_salary'"
            )
        if self.deal_limits is not None and self.rates is not None and self.rates.accumulation == "ytd":
            raise _keyed("deal_limits", None)(
                "deal_limits cannot be combined with rates.accumulation 'ytd' (a YTD true-up re-rates earlier deals); "
                "use accumulation 'per_period' or 'per_deal', or leave deal_limits out"
            )
        return self

    @field_validator("measures")
    @classmethod
    def _measures(cls, v: tuple[Measure, ...], info: ValidationInfo) -> tuple[Measure, ...]:
        # measures group (issue #13 item 13): names unique, weights sum to exactly 1, a TI to weigh
        if not v:
            return v
        names = [m.name for m in v]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"measure names must be unique (repeated: {', '.join(dup)}); rename one")
        total = sum(m.weight for m in v)
        if total != 1:
            shown = " + ".join(f"{m.weight} ({m.name})" for m in v)
            raise ValueError(
                f"weights must sum to exactly 1 (got {shown} = {total}); change a weight by {1 - total} so they sum to 1"
            )
        if "ote" not in info.data or "base_salary" not in info.data:
            return v  # a refused ote or base_salary is the error to report, not the target incentive it leaves
        ote, base = info.data["ote"], info.data["base_salary"]
        if ote - base <= 0:
            raise ValueError(
                "measures pay weight x attainment x the target incentive, but the plan has none "
                f"(TI = ote - base_salary = {ote} - {base}); set 'ote' and 'base_salary'"
            )
        return v

    @field_validator("multipliers")
    @classmethod
    def _multipliers(cls, v: tuple[Multiplier, ...]) -> tuple[Multiplier, ...]:
        # measures group (issue #13 item 14): one factor per threshold of a measure
        seen: dict[tuple[str, Decimal], int] = {}
        for i, m in enumerate(v):
            key = (m.measure, m.at_least)
            if key in seen:
                raise ValueError(
                    f"entry {i} repeats entry {seen[key]}: measure {m.measure!r} at_least {m.at_least}; "
                    "give each threshold of a measure once (the highest threshold reached applies)"
                )
            seen[key] = i
            if m.measure == "revenue" and m.default is not None:
                raise ValueError(
                    f"entry {i}: measure 'revenue' is the period's revenue attainment and takes no 'default'; remove it"
                )
        return v

    @model_validator(mode="after")
    def _deal_type_factors(self) -> Plan:
        # dealtype group (issue #13 item 15): a factor on quota credit only needs schedules whose
        # tier is the period's (or year's) total; a running credit would have two sizes
        dt = self.crediting.deal_type_factors
        if dt is None or dt.applies_to != "quota_credit":
            return self
        for key, rs in self.keyed_schedules:
            why = None
            if rs.method in ("marginal", "overage", "curve"):
                why = f"{key}.method is {rs.method!r}, which cuts each deal on its running credit"
            elif rs.windowed:
                why = f"{key} has applies_from / applies_below, which cut each deal on its running credit"
            elif rs.accumulation == "per_deal" and rs.basis == "attainment":
                why = f"{key} tiers each deal alone on attainment (accumulation per_deal, basis attainment)"
            if why:
                raise ValueError(
                    f"crediting.deal_type_factors.applies_to 'quota_credit' (allowed: quota_credit, both): {why}, "
                    "and a deal's credit toward quota and its commissionable amount would cut differently; "
                    "use applies_to: both (the factor scales the commission too), or a flat or retroactive "
                    "schedule per pay period or year to date"
                )
        return self

    @model_validator(mode="after")
    def _split_mode(self) -> Plan:
        # splits group (issue #13 item 7): shapes that re-rate or limit one participant's lines alone
        if self.splits.mode != "split_payout":
            return self
        clash = [
            k
            for k, used in (
                ("rates.accumulation: ytd", any(rs.accumulation == "ytd" for rs in self.schedules)),
                ("deal_limits", self.deal_limits is not None),
                ("clawback.method: restate", self.clawback.method == "restate"),
            )
            if used
        ]
        if clash:
            raise ValueError(
                f"splits.mode 'split_payout' cannot be combined with {', '.join(clash)} (allowed modes: "
                "credit_first, split_payout): each re-rates or limits one participant's lines on their own, not the "
                "whole deal's payout; use splits.mode: credit_first, or accumulation per_period / per_deal, no "
                "deal_limits and clawback.method rate_paid"
            )
        return self

    @model_validator(mode="after")
    def _bcr_rates(self) -> Plan:
        # incentive group (issue #13 item 4): rates as multiples of BCR = TI / annual quota; kept exact
        # (Tier.exact_rate, fixes group), shown in ``rate`` rounded half away from zero to six decimals
        multiples = [
            (i, t) for i, t in enumerate(self.rates.tiers if self.rates is not None else ()) if t.bcr_multiple is not None
        ]
        if not multiples:
            return self
        i0, t0 = multiples[0]
        key = f"rates.tiers.{i0}.bcr_multiple"
        if any(t.rate is not None for _, t in multiples):
            i1 = next(i for i, t in multiples if t.rate is not None)
            raise KeyedValueError(
                f"rates.tiers.{i1}: give 'rate' or 'bcr_multiple', not both: 'rate' is a fixed fraction, "
                "'bcr_multiple' a multiple of the base commission rate; remove one",
                ("rates", "tiers", i1, "rate"),
                str(multiples[[i for i, _ in multiples].index(i1)][1].rate),
            )
        if self.quota.source != "plan" or not self.quota.annual:
            raise _keyed(key, str(t0.bcr_multiple))(
                f"{key} ({t0.bcr_multiple}) needs the plan's annual quota: BCR = target incentive / annual quota; "
                "set quota: {source: plan, annual: \"...\"} or write the tier's 'rate'"
            )
        ti = Plan.cents(self.target_incentive)
        if ti <= 0:
            raise _keyed(key, str(t0.bcr_multiple))(
                f"{key} ({t0.bcr_multiple}) needs a target incentive (TI = ote - base_salary = "
                f"{self.ote} - {self.base_salary}); set 'ote' and 'base_salary'"
            )
        annual = Plan.cents(self.quota.annual)
        tiers = list(self.rates.tiers)
        for i, t in multiples:
            # fixes group (issue #13): the rate is kept exact (TI x multiple / annual quota); ``rate``
            # shows it rounded half away from zero to six decimals
            exact = fractions.Fraction(ti * ppm(t.bcr_multiple), annual * PPM)
            if exact > 1:
                raise KeyedValueError(
                    f"rates.tiers.{i}.bcr_multiple: {t.bcr_multiple} x BCR ({self.target_incentive} / "
                    f"{self.quota.annual}) = {float(exact):.6f}, above 1 (100 % of credited revenue); lower the multiple",
                    ("rates", "tiers", i, "bcr_multiple"),
                    str(t.bcr_multiple),
                )
            tiers[i] = t.model_copy(update={"rate": Decimal(rdiv(ti * ppm(t.bcr_multiple), annual)) / PPM})
            tiers[i]._exact = exact
        # the model is frozen: the derived rates are set once, here, while it is validated
        object.__setattr__(self, "rates", self.rates.model_copy(update={"tiers": tuple(tiers)}))
        return self

    @property
    def undefined_attainment_policy(self) -> str:
        """``undefined_attainment`` as declared, else ``pay_nothing`` for a gated plan and ``base_tier`` otherwise.

        With ``rate_components`` the default is per schedule: a gated schedule pays
        nothing on undefined attainment, an ungated one its base tier
        (the engine's tier step, ``domain/engine/tiers.py``); this property is the
        plan's ``rates``' default.
        """
        if self.undefined_attainment is not None:
            return self.undefined_attainment
        return "pay_nothing" if self.rates is not None and self.rates.gate is not None else "base_tier"

    @property
    def target_incentive(self) -> Decimal:
        """Annual variable pay at 100 % attainment: ``ote - base_salary``."""
        return self.ote - self.base_salary

    @staticmethod
    def cents(d: Decimal) -> int:
        """Exact money ``Decimal`` (validated to two places) -> integer cents."""
        return int(d * 100)


def deal_type_plan(plans) -> Plan | None:
    """The plan whose ``crediting.deal_type_factors`` a run credits by (None: no plan gives factors).

    Dealtype group (issue #13 item 15). Crediting is one rule per run (the reports show
    one credited revenue): every plan of the run must give the same factors, or none.

    Parameters
    ----------
    plans : sequence of Plan, or mapping name -> Plan

    Raises
    ------
    PlanError
        Two plans give different factors (naming both plan files, and the fix).
    """
    plans = list(plans.values()) if isinstance(plans, dict) else [plans] if isinstance(plans, Plan) else list(plans)
    given = [p for p in plans if p.crediting.deal_type_factors is not None]
    for p in plans:
        if given and p.crediting.deal_type_factors != given[0].crediting.deal_type_factors:
            a, b = (x.source_file or x.name for x in (given[0], p))
            raise PlanError(
                f"plans {a!r} and {b!r} give different crediting.deal_type_factors: a run credits deals by one "
                "rule, so the reports show one credited revenue",
                hint="give every plan of the run the same crediting.deal_type_factors (or none)",
            )
    return given[0] if given else None


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
        _end_not_before_start(self.start, self.end, "an assignment runs from start to end, both days included")
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
_M = typing.TypeVar("_M", bound=BaseModel)


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


def _load_model(path: Path, model: type[_M]) -> _M:
    """Read ``path`` and validate it as ``model``; every problem is a PlanError naming the file."""
    raw = _read_yaml(path)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise PlanError(format_plan_error(exc, str(path), model)) from None


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
    plan = _load_model(path, Plan)
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
    result = _load_model(path, PlanAssignments)
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
