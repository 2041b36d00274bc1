"""What a plan counts, and for whom: crediting (deal-type factors), split modes, measures and multipliers.

The plan parts that decide the credit and the measures a plan pays on, split from
:mod:`reportkit.config.plan_parts` by concern (that module keeps the rate schedules
and what is paid on top of them). :mod:`reportkit.config.plans` re-exports every name
here; import them from there. Units: factors, weights and thresholds are exact
fractions with at most six decimals (1.0 == 100 %).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ..core.errors import did_you_mean
from ..core.types import Fraction
from ..core.words import counted
from ..data.model import MEASURE_COLUMNS
from .plan_parts import _Strict, ppm

# ---------------------------------------------------------------------------
# dealtype group (issue #13 item 15): crediting factors by deal type
# ---------------------------------------------------------------------------
#: The ``factors`` key of the factor of every deal type the plan does not list (and of a
#: deal with no type).
DEAL_TYPE_DEFAULT = "default"


def deal_type_key(value: object) -> str | None:
    """The one normal form of a deal type: stripped, lower case, spaces and hyphens as ``_``.

    ``"Renewal "``, ``"renewal"`` and ``"RENEWAL"`` are ``"renewal"``; ``"New Logo"`` and
    ``"new-logo"`` are ``"new_logo"``. Blank or missing is ``None`` (a deal with no type).
    Plan keys (:class:`DealTypeFactors`) and the deals' ``deal_type`` are compared in
    this form; a source's own words for a type (``New Business``) are mapped to the
    plan's in the source mapping (``recode: {deal_type: {...}}``).

    Examples
    --------
    >>> deal_type_key(" New Logo"), deal_type_key("RENEWAL"), deal_type_key("  ")
    ('new_logo', 'renewal', None)
    """
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = "_".join(str(value).replace("-", " ").split()).lower()
    return text or None


class DealTypeFactors(_Strict):
    """Crediting factors by deal type: how much of a deal's credit counts (dealtype group, issue #13 item 15).

    A factor multiplies a deal's credit by its ``deal_type`` (the deals' optional
    column): ``{new_logo: "1.2", renewal: "0.5", default: "1.0"}`` counts a new logo
    at 120 % and a renewal at 50 %. The crediting core applies it to each credit line
    (:func:`reportkit.domain.crediting.deal_type_factor_ppm`), so the reports' credited
    revenue and attainment and the engine's are the same number.

    Attributes
    ----------
    applies_to : {"quota_credit", "both"}
        Required, so a plan says what it means. ``quota_credit``: the factor scales
        the credit that counts toward quota (attainment, the tier reached, gates,
        bonuses: what the reports show as credited revenue); commission is paid on
        the deal's full credit, the commissionable amount (Siebel Incentive
        Compensation's *Quota Credit Revenue* vs *Commission Credit Revenue*; Sales
        Cookie's "Renewal deals do not retire quota, but are still eligible for
        commissions"). Only rate schedules whose tier is the period's (or year's)
        total take it: ``flat`` / ``retroactive`` per pay period or year to date, and
        amount tiers per deal (a marginal, overage or curve schedule cuts each deal
        on its running credit, which would then have two sizes: refused with the fix).
        ``both``: the factor scales the credit itself, so commission is paid on the
        factored credit too (a credit multiplier, like a split share).
    factors : mapping of deal type -> fraction
        Exact fractions with at most six decimals, ``0 <= factor <= 10`` (``"1.2"`` ==
        120 %); keys in the normal form of :func:`deal_type_key` (``Renewal`` is
        ``renewal``). The key ``default`` is the factor of every other type and of a
        deal with no type; without it, such a deal stops the run with a ``PlanError``
        naming the deal, its type and the plan's types.
    """

    applies_to: Literal["quota_credit", "both"]
    factors: dict[str, Fraction]

    @field_validator("factors", mode="after")
    @classmethod
    def _normal_keys(cls, v: dict[str, Decimal]) -> dict[str, Decimal]:
        if not v:
            raise ValueError('give at least one deal type and its factor, e.g. {renewal: "0.5", default: "1.0"}')
        out: dict[str, Decimal] = {}
        written: dict[str, str] = {}
        for key, factor in v.items():
            k = deal_type_key(key)
            if k is None:
                raise ValueError("a deal type key is blank; name the type, e.g. renewal")
            if k in out:
                raise ValueError(f"deal types {written[k]!r} and {key!r} are both {k!r} once normalised; keep one")
            written[k] = key
            if factor < 0 or factor > 10:
                raise ValueError(f'factor {factor} of {key!r} is outside 0..10 (a fraction: "0.5" == 50 %)')
            out[k] = factor
        return out

    @property
    def ppm(self) -> dict[str, int]:
        """Each type's factor in exact parts per million (``default`` included when given)."""
        return {k: ppm(f) for k, f in self.factors.items()}

    @property
    def default(self) -> Decimal | None:
        """The factor of a type the plan does not list (``None``: such a deal is refused)."""
        return self.factors.get(DEAL_TYPE_DEFAULT)

    def lookup(self, types: list[object]) -> list[int | None]:
        """Factor in ppm of each deal type as the data writes it (normalised by :func:`deal_type_key`);
        ``default`` for a type not listed and for no type; ``None`` where there is neither."""
        table, dflt = self.ppm, self.ppm.get(DEAL_TYPE_DEFAULT)
        return [table.get(k, dflt) if (k := deal_type_key(t)) != DEAL_TYPE_DEFAULT else dflt for t in types]

    def unknown_message(self, where: str, deal_type: object, deal_id: str, n_deals: int) -> tuple[str, str]:
        """(message, hint) of a ``PlanError`` for deals whose type the factors do not know (no ``default``)."""
        known = sorted(k for k in self.factors if k != DEAL_TYPE_DEFAULT)
        key = deal_type_key(deal_type)
        what = "no deal type" if key is None else f"deal type {deal_type!r}"
        more = f" (and {counted(n_deals - 1, 'more deal')})" if n_deals > 1 else ""
        return (
            f"{where} key 'crediting.deal_type_factors.factors': deal {deal_id!r}{more} has {what}, which is not one "
            f"of the plan's deal types (allowed: {', '.join(known)}){did_you_mean(key or '', known) if key else ''}",
            "add the type to crediting.deal_type_factors.factors, or a 'default' factor for every type not listed; "
            "or map the source's word to one of the plan's types in the source mapping (deals: recode: {deal_type: {...}})",
        )


# measures group (issue #13 items 13 and 14): weighted measures, conditional multipliers
# ---------------------------------------------------------------------------
MEASURE_SOURCES = ("revenue", "table", "column", "new_logos")
"""Where a measure's value comes from: ``revenue`` (credited revenue against quota), ``table`` (the
measures table), ``column`` (a deals column summed over the credit lines: measures2 group) or
``new_logos`` (the count of new-logo deals over the credit lines: measures2 group)."""


class Measure(_Strict):
    """One weighted measure of a plan: a share of the target incentive paid on its attainment.

    A pay period's line for the measure is ``weight x attainment x TI_period``, rounded
    half away from zero to the cent, where ``attainment`` is capped at ``cap`` (no cap
    when left out) and ``TI_period`` is the period's target incentive, prorated like
    quota (:func:`reportkit.domain.engine.caps.period_target_incentive`). Weights of a
    plan's measures sum to exactly 1 (:class:`reportkit.config.plans.Plan`). Worked
    example and sources: ``docs/commission.md``, "Plan shapes: measures".

    Attributes
    ----------
    name : str
        The measure's name on the statement; with ``source: table`` also its name in
        the measures table's ``measure`` column (``new_logos``, ``margin``).
    weight : fraction
        Share of the target incentive at 100 % attainment (``"0.7"`` == 70 %), > 0.
    source : {"revenue", "table", "column", "new_logos"}
        ``revenue`` (the default for a measure named ``revenue``): the pay period's
        credited revenue against its quota, the same credit and quota as the rate
        schedule (the crediting core and the plan's quota; attainment undefined on a
        zero quota pays nothing). ``table``: the account manager's value for the pay
        period in the data set's ``measures`` table against ``target``. ``column``
        (measures2 group): the deals column ``column`` (money, e.g. ``margin_cents``)
        summed over the account manager's credit lines of the pay period, each line
        taking its share of the deal (the crediting core's split share and deal-type
        factor: the line's exact credit over the deal's exact amount), against
        ``target`` (money). ``new_logos`` (measures2 group): the count of the
        account manager's credited new-logo deals in the pay period
        (:func:`reportkit.domain.accounts.new_logo_deals`), each line counting its
        share of the deal the same way, against ``target`` (a count).
    target : fraction, optional
        ``source: table``, ``column`` and ``new_logos`` (required there): the value
        that is 100 % attainment (``"3"`` new logos, ``"40000"`` of margin in the
        currency), > 0, at most six decimals.
    column : str, optional
        ``source: column`` only (required there): the deals column, one of
        :data:`reportkit.data.model.MEASURE_COLUMNS` (``margin_cents``: exact
        whole cents, mapped like ``amount_cents``).
    lookback_months : int or "ever", optional
        ``source: new_logos`` only: a won deal is a new logo when its account won no
        earlier deal in this many months before its close date (``12``), or ever
        in the data (``"ever"``, the default).
    cap : fraction, optional
        Highest attainment paid (``"1.5"`` == 150 %); left out: no cap.
    default : fraction, optional
        ``source: table`` only: the value used when the table has none for an account
        manager and pay period; left out, a missing value is a ``DataError``.
    """

    name: str = Field(..., min_length=1)
    weight: Fraction = Field(..., gt=0, le=1)
    source: Literal["revenue", "table", "column", "new_logos"] | None = None
    target: Fraction | None = Field(None, gt=0)
    cap: Fraction | None = Field(None, gt=0)
    default: Fraction | None = None
    # -- measures2 group (issue #13 item 13): measures from the deals
    column: str | None = None
    lookback_months: int | Literal["ever"] | None = None

    @model_validator(mode="after")
    def _check(self) -> Measure:
        src = self.source_kind
        if src == "revenue" and self.target is not None:
            raise ValueError(
                f"measure {self.name!r} is revenue (credited revenue against the plan's quota): it takes no 'target'; "
                "remove 'target' (set the quota in the quotas table or quota.annual), or set source: table"
            )
        if src == "revenue" and self.default is not None:
            raise ValueError(f"measure {self.name!r} is revenue: 'default' is only read with source: table; remove it")
        if src != "revenue" and self.target is None:
            raise ValueError(
                f"measure {self.name!r} (source: {src}) needs 'target': the value that is 100 % attainment, e.g. target: \"3\""
            )
        self._check_deal_keys(src)
        return self

    def _check_deal_keys(self, src: str) -> None:
        # measures2 group (issue #13 item 13): the keys of a measure taken from the deals
        if src in ("column", "new_logos") and self.default is not None:
            raise ValueError(
                f"measure {self.name!r} (source: {src}) is computed from the deals, so it always has a value "
                "(0 with no credited deal): 'default' is only read with source: table; remove it"
            )
        if src != "column" and self.column is not None:
            raise ValueError(f"measure {self.name!r}: 'column' is only read with source: column; remove it or set source: column")
        if src != "new_logos" and self.lookback_months is not None:
            raise ValueError(
                f"measure {self.name!r}: 'lookback_months' is only read with source: new_logos; remove it or set source: new_logos"
            )
        if src == "column":
            allowed = list(MEASURE_COLUMNS)
            if self.column is None:
                raise ValueError(
                    f"measure {self.name!r} (source: column) needs 'column': the deals column to sum "
                    f"(allowed: {', '.join(allowed)}), e.g. column: margin_cents"
                )
            if self.column not in allowed:
                raise ValueError(
                    f"measure {self.name!r}: column {self.column!r} is not a measure column of the deals table "
                    f"(allowed: {', '.join(allowed)}){did_you_mean(self.column, allowed) or '.'} Map the source's column to "
                    "one of them in the source mapping (deals: columns: {margin_cents: <source column>})"
                )
        if src == "new_logos" and isinstance(self.lookback_months, int) and self.lookback_months < 1:
            raise ValueError(
                f"measure {self.name!r}: lookback_months {self.lookback_months} must be a whole number of months >= 1 "
                '(12: no won deal of the account in the 12 months before), or "ever"'
            )

    @property
    def lookback(self) -> int | None:
        """``source: new_logos``: the look-back in months, ``None`` for ever (the default)."""
        return self.lookback_months if isinstance(self.lookback_months, int) else None

    @property
    def source_kind(self) -> str:
        """``source`` as declared, else ``revenue`` for a measure named ``revenue`` and ``table`` otherwise."""
        if self.source is not None:
            return self.source
        return "revenue" if self.name == "revenue" else "table"


class Multiplier(_Strict):
    """A conditional multiplier (kicker or modifier) of a pay period's commission by another measure.

    When the account manager's ``measure`` for the pay period is at least ``at_least``
    the period's commission (rate-schedule lines, per-deal limits and weighted measures,
    before the cap) is multiplied by ``factor``: a ``multiplier`` line of
    ``round(commission x factor) - commission``. Several entries on the same measure
    form a table: the one with the highest ``at_least`` reached applies. Entries on
    different measures compound, in plan order. A commission of zero or less is never
    multiplied. Source: Oracle (Siebel) Incentive Compensation, "Creating a
    Multiplier" (``docs/commission.md``, "Plan shapes: measures").

    Attributes
    ----------
    measure : str
        ``revenue`` (the period's revenue attainment, credited revenue / quota; no
        multiplier applies when the quota is 0) or a measure of the data set's
        measures table (``csat``), compared as its value (0.92 == 92 %).
    at_least : fraction
        Threshold, inclusive (``"0.9"``).
    factor : fraction
        Multiplier of the commission (``"1.1"`` == x 1.10; ``"0.8"`` lowers it), >= 0.
    default : fraction, optional
        The measure's value when the table has none for an account manager and pay
        period; left out, a missing value is a ``DataError``.
    """

    measure: str = Field(..., min_length=1)
    at_least: Fraction = Field(..., ge=0)
    factor: Fraction = Field(..., ge=0)
    default: Fraction | None = None


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
    has handover dates. ``deal_type_factors`` (dealtype group, issue #13 item 15):
    how much of a deal's credit counts by its deal type, see :class:`DealTypeFactors`;
    every plan of a run must give the same (crediting is one rule per run).
    """

    method: Literal["owner", "territory"] | None = None
    handoff: bool = True
    # -- dealtype group (issue #13 item 15): crediting factors by deal type
    deal_type_factors: DealTypeFactors | None = None


class SplitSpec(_Strict):
    """How a deal shared by a ``splits`` table is paid (splits group, issue #13 item 7).

    ``mode``:

    * ``credit_first`` (default, the behaviour before this key): each participant is
      credited their share of the deal and their own rate schedule pays on that
      credit ("split credit").
    * ``split_payout``: the commission is computed **on the whole deal**, on the rate
      schedule of the deal's **primary** participant (its first revenue row in the
      splits table) as if the primary had closed it alone: their running total and
      the tier their total reaches count the whole deal. That payout, line by line,
      is then shared among the deal's revenue participants by their split shares,
      to the cent by largest remainder (ties to the earlier split row), so the shares
      add up exactly to the whole deal's payout ("split commission").

    Either way each participant's **quota credit** (attainment, bonuses, the
    reports' credited revenue) is their credited share, and a clawback takes back
    from each participant the cancelled fraction of what they were paid. Overlay
    split rows are extra credit, paid on their own schedule in both modes. Every plan
    of a run must use the same mode. ``split_payout`` cannot be combined with
    ``rates.accumulation: ytd``, ``deal_limits`` or ``clawback.method: restate``
    (each re-rates or limits one participant's lines on their own).
    Worked examples: ``docs/commission.md``, "Plan shapes: splits".
    """

    mode: Literal["credit_first", "split_payout"] = "credit_first"
