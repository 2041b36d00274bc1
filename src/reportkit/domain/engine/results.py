"""The engine's results: the payout ledger as statements, summaries and CSV.

:class:`CommissionResult` holds every line of a run as integer columns
(:mod:`reportkit.domain.engine.ledger`) and materialises, on request, one AM's
statement with ``Decimal`` money (:data:`STATEMENT_COLUMNS`); :class:`Statements`
is the lazy per-AM mapping :func:`reportkit.domain.engine.statements` returns;
:func:`summary_frame` is the one row per AM and pay period of the run;
:func:`write_statement_csv` writes a statement.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from ...config.plans import DEAL_TYPE_DEFAULT, deal_type_key
from ...core.errors import DataError, OutputError
from ...core.words import counted
from ...data.fx import DealConversions, has_fx, payout_rates, payout_words, to_payout_cents
from ...data.model import DEAL_TYPE
from .._credit_core import CREDIT_SOURCES, take_str
from .ledger import _AWARDS, _KINDS, _Lines, _money, _rate
from .quotas import Attainment
from .trace import trace_frame

# ---------------------------------------------------------------------------
# a statement line in words (clawback group, issue #13): the one home of the words a
# reader sees in the `rule` and `description` of a line; renderers only show them
# ---------------------------------------------------------------------------
STEP_WORDS = {
    "commission": "commission",
    "deal_limit": "per-deal minimum or maximum",
    "true_up": "year-to-date true-up",
    "measure": "weighted measure",
    "multiplier": "multiplier",
    "cap_carry_in": "capped commission paid later",
    "cap": "cap",
    "spif": "SPIF",
    "bonus": "bonus",
    "clawback": "clawback",
    "prior_period_adjustment": "prior-period adjustment",
    "adjustment": "manual adjustment",
    "balance_in": "negative balance brought forward",
    "draw": "draw",
    "draw_recovery": "draw recovery",
    "balance_out": "negative balance carried forward",
}
"""Each ledger step (:data:`reportkit.domain.engine.ledger._KINDS`) in the words of a statement."""

_METHOD_WORDS = {
    "flat": "one rate on all of the credit",
    "retroactive": "retroactive: all of the credit at the rate of the tier reached",
    "overage": "overage: the credit below tier 2 at the first rate, all of it above at the rate of the tier reached",
    "marginal": "marginal: the part of the credit inside this tier",
}
_ACCUMULATION_WORDS = {
    "per_deal": "the deal alone",
    "per_period": "the pay period's running total",
    "ytd": "the year-to-date running total",
}


@functools.lru_cache(maxsize=4096)
def percent_words(rate: Decimal | float | str) -> str:
    """A rate fraction as a reader writes it: ``0.05 -> '5 %'``, ``0.125 -> '12.5 %'``.

    Examples
    --------
    >>> percent_words(Decimal("0.05")), percent_words("0.125"), percent_words(Decimal("1"))
    ('5 %', '12.5 %', '100 %')
    """
    pct = (Decimal(str(rate)) * 100).normalize()
    return f"{pct:f} %"


def rule_words(kind: str, tier: int | None = None, rate: Decimal | None = None) -> str:
    """The ``rule`` of a statement line in words: the ledger step, with tier and rate for commission.

    Parameters
    ----------
    kind : str
        Ledger step (``commission``, ``clawback``, ...; :data:`STEP_WORDS`).
    tier : int, optional
        1-based tier of a rate-schedule line (None for a line without tiers).
    rate : Decimal, optional
        The line's rate as a fraction.

    Examples
    --------
    >>> rule_words("commission", 2, Decimal("0.08")), rule_words("commission", None, Decimal("0.05"))
    ('commission, tier 2 at 8 %', 'commission at 5 %')
    >>> rule_words("prior_period_adjustment")
    'prior-period adjustment'
    """
    words = STEP_WORDS.get(kind, kind.replace("_", " "))
    if tier is not None:
        words += f", tier {int(tier)}"
    if rate is not None and kind in ("commission", "spif"):
        words += f" at {percent_words(rate)}"
    return words


def _money_words(cents: int) -> str:
    """Integer cents as a reader writes money: ``2500000 -> '25,000.00'``, ``-5 -> '-0.05'``."""
    c = int(cents)
    return f"{'-' if c < 0 else ''}{abs(c) // 100:,}.{abs(c) % 100:02d}"


def _number_words(d: Decimal) -> str:
    """An exact decimal without trailing zeros: ``Decimal('3.000000') -> '3'``."""
    return f"{d.normalize():f}"


def measure_words(
    plan_name: str,
    name: str,
    weight: Decimal,
    value: str,
    target: str,
    attainment: Decimal | None,
    cap: Decimal | None,
    ti_cents: int,
    amount_cents: int,
) -> str:
    """A weighted measure's statement line in words (measures group, issue #13 item 13).

    ``value`` / ``target`` are already written for the reader (money for revenue, the
    number for a table measure); ``attainment`` is the exact fraction (None:
    undefined, quota 0), shown as a percent rounded half away from zero to two
    decimals, with the cap when it bit.

    Examples
    --------
    >>> measure_words("Scorecard", "new_logos", Decimal("0.3"), "4", "3", Decimal(4) / 3, Decimal("1.5"), 2500000, 1000000)
    'Scorecard: measure new_logos (weight 30 %): 4 of target 3 = attainment 133.33 % x 30 % x target incentive 25,000.00 = 10,000.00'
    >>> measure_words("S", "revenue", Decimal("0.7"), "0.00", "0.00", None, None, 2500000, 0)
    'S: measure revenue (weight 70 %): 0.00 of target 0.00: quota 0, attainment undefined: nothing earned'
    """
    head = f"{plan_name}: measure {name} (weight {percent_words(weight)}): {value} of target {target}"
    if attainment is None:
        return f"{head}: quota 0, attainment undefined: nothing earned"
    shown = percent_words((attainment * 100).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP") / 100)
    paid = attainment
    if cap is not None and attainment > cap:
        shown += f", capped at {percent_words(cap)}"
        paid = cap
    if paid < 0:
        shown += ", below 0: paid as 0 %"
    return (
        f"{head} = attainment {shown} x {percent_words(weight)} x target incentive {_money_words(ti_cents)} = "
        f"{_money_words(amount_cents)}"
    )


def multiplier_words(
    plan_name: str, measure: str, value: Decimal | None, at_least: Decimal, factor: Decimal, base_cents: int, amount_cents: int
) -> str:
    """A conditional multiplier's statement line in words (measures group, issue #13 item 14).

    The measure's value and threshold as percentages (they are fractions, 1.0 == 100 %),
    the commission it multiplies and the factor:

    Examples
    --------
    >>> multiplier_words("Std", "csat", Decimal("0.92"), Decimal("0.9"), Decimal("1.1"), 500000, 50000)
    'Std: multiplier: csat 92 % ≥ 90 %: commission 5,000.00 × 1.10 = 5,500.00 (+500.00)'
    """
    f = factor.quantize(Decimal("0.01")) if factor == factor.quantize(Decimal("0.01")) else factor.normalize()
    what = "revenue attainment" if measure == "revenue" else measure
    return (
        f"{plan_name}: multiplier: {what} {percent_words(value)} ≥ {percent_words(at_least)}: commission "
        f"{_money_words(base_cents)} × {f:f} = {_money_words(base_cents + amount_cents)} "
        f"({'+' if amount_cents >= 0 else '-'}{_money_words(abs(amount_cents))})"
    )


def tier_words(plan, tier: int, rs=None) -> str:
    """A tier of a plan's rate schedule in words: bounds, label, how it applies and its rate.

    ``tier 2 "accelerator" (from 100 % of quota; marginal: the part of the credit inside this
    tier, measured on the pay period's running total) at 12 %``. Amount bounds are
    written as money (``from 10,000.00 up to 50,000.00``), attainment bounds as
    percentages of quota; with ``boundary: lower`` a total exactly on a bound stays
    below it (``above ... up to and including ...``). A pay curve's "tier" is its
    segment (``segment 1 of the pay curve, from 0 to 50 % of quota (pays 0.00 to
    1,000.00), linear``). ``rs`` is the schedule that paid the line (the plan's
    ``rates`` by default, or one of its ``rate_components``). A tier the schedule does
    not have is just ``tier N``.
    """
    rs = plan.rates if rs is None else rs
    unit = "" if rs.basis == "amount" else " of quota"

    def bound(v: Decimal) -> str:
        return f"{v:,.2f}" if rs.basis == "amount" else percent_words(v)

    measured = _ACCUMULATION_WORDS.get(rs.accumulation, rs.accumulation)
    if rs.method == "curve":
        pts = rs.curve

        def pays(pt) -> str:  # money, or a fraction of the period's target incentive (fixes group)
            return f"{pt.pay:,.2f}" if pt.of_ti is None else f"{percent_words(pt.of_ti)} of the target incentive"

        if not 1 <= tier <= len(pts):
            return f"segment {tier} of the pay curve"
        if tier == len(pts):
            return f"beyond the pay curve's last point ({bound(pts[-1].at)}{unit}, pays {pays(pts[-1])}): nothing more"
        a, b = pts[tier - 1], pts[tier]
        return (
            f"segment {tier} of the pay curve, from {bound(a.at)} to {bound(b.at)}{unit} (pays {pays(a)} to "
            f"{pays(b)}), linear, measured on {measured}"
        )
    if not 1 <= tier <= len(rs.tiers):
        return f"tier {tier}"
    t = rs.tiers[tier - 1]
    hi = rs.tiers[tier].lo if tier < len(rs.tiers) else None
    if rs.boundary == "lower" and tier > 1:
        span_ = f"above {bound(t.lo)}" + (f" up to and including {bound(hi)}" if hi is not None else "")
    elif rs.boundary == "lower":
        span_ = f"from {bound(t.lo)}" + (f" up to and including {bound(hi)}" if hi is not None else "")
    else:
        span_ = f"from {bound(t.lo)}" + (f" up to {bound(hi)}" if hi is not None else "")
    span_ += unit
    label = f' "{t.label}"' if t.label else ""
    how = _METHOD_WORDS.get(rs.method, rs.method)
    rate = percent_words(t.rate)
    if t.bcr_multiple is not None:  # an exact rate derived from the base commission rate (fixes group)
        rate = f"{t.bcr_multiple} x the base commission rate = {t.exact_rate} (about {rate})"
    return f"tier {tier}{label} ({span_}; {how}, measured on {measured}) at {rate}"


def _paying_schedule(plan, schedule: str):
    """(schedule, words) of the schedule that wrote a rate-schedule line: the plan's ``rates``
    (``schedule == ""``) or its ``rate_components`` entry of that name."""
    for c in plan.rate_components:
        if schedule and c.name == schedule:
            return c, f"commission, component {schedule}"
    return plan.rates, "commission"


def line_words(kind: str, tier: int, rule_text: str, plan=None, schedule: str | None = None) -> str:
    """A statement line in words (the ``description`` of the engine's statement).

    A rate-schedule line -- one whose rule the tier step registered as a tier of a
    schedule (``schedule``: ``""`` for the plan's ``rates``, else the rate component's
    name; :attr:`reportkit.domain.engine.ledger.Ledger.rule_schedule`) -- names its
    plan, the component that paid it and its tier in words (:func:`tier_words`:
    bounds, label, how the tier applies, rate; a pay curve's segment). Every other
    line (true-up, cap, SPIF, bonus, clawback, prior-period adjustment, draw,
    balance, a line below the gate or with attainment undefined: ``schedule`` None)
    is its rule text, which the step already writes in words with the figures it
    used. The words never depend on parsing the rule text.

    Examples
    --------
    >>> line_words("commission", 1, "plan X: below gate 0.5 attainment: nothing earned")
    'plan X: below gate 0.5 attainment: nothing earned'
    """
    if kind == "commission" and tier and plan is not None and schedule is not None:
        rs, what = _paying_schedule(plan, schedule)
        return f"{plan.name}: {what}, {tier_words(plan, int(tier), rs)}"
    return rule_text


def deal_type_words(plan, deal_type: str | None) -> str:
    """The crediting factor of a deal's type in words, for its commission lines (dealtype group, issue #13 item 15).

    ``""`` when the plan gives no ``crediting.deal_type_factors``. With factors on
    ``both`` the line's credit is already the factored one; on ``quota_credit`` the
    line pays on the full credit and only the credit toward quota is factored.

    Examples
    --------
    >>> from reportkit.config.plans import Plan
    >>> p = Plan.model_validate({"name": "p", "crediting": {"deal_type_factors": {"applies_to": "both",
    ...     "factors": {"renewal": "0.5", "default": "1"}}}, "rates": {"tiers": [{"from": 0, "rate": "0.1"}]}})
    >>> deal_type_words(p, "Renewal"), deal_type_words(p, None)
    ('renewal credited at 50 %', 'no deal type: credited at 100 % (default)')
    """
    dt = None if plan is None else plan.crediting.deal_type_factors
    if dt is None:
        return ""
    key = deal_type_key(deal_type)
    known = key is not None and key in dt.factors and key != DEAL_TYPE_DEFAULT
    factor = dt.factors[key] if known else dt.default
    if factor is None:
        return ""
    who = key if known else ("no deal type" if key is None else key) + ":"
    words = f"{who} credited at {percent_words(factor)}"
    if not known:
        words += " (default)"
    if dt.applies_to == "quota_credit":
        words += " toward quota; commission on the full credit"
    return words


def _with_type(description: str, plan, deal_type) -> str:
    """``description`` followed by :func:`deal_type_words` (``deal_type`` False: as it is)."""
    words = "" if deal_type is False else deal_type_words(plan, deal_type)
    return f"{description}; {words}" if words else description


def split_words(mode: str, share_ppm: int | None = None) -> str:
    """How a commission line of a deal shared by a split was made, in words (splits group, issue #13 item 7).

    ``mode`` is the plan's ``splits.mode``; ``share_ppm`` the account manager's split
    share in parts per million (an equal split's 1 / n rounded; None: not shown). Appended to the
    description of every commission line of a split deal, so a reader sees which mode
    made it.

    Examples
    --------
    >>> split_words("credit_first", 600_000)
    'split credit first: your 60 % share of the deal is your credit, paid on your own rate schedule'
    >>> split_words("split_payout", 400_000)
    "split payout: your 40 % share of the commission on the whole deal (the credit shown), measured at the running total of the deal's primary (its first split row) and shared to the cent by largest remainder"
    """
    pct = "" if share_ppm is None else percent_words(Decimal(int(share_ppm)) / 1_000_000) + " "
    if mode == "split_payout":
        return (
            f"split payout: your {pct}share of the commission on the whole deal (the credit shown), measured at the "
            "running total of the deal's primary (its first split row) and shared to the cent by largest remainder"
        )
    return f"split credit first: your {pct}share of the deal is your credit, paid on your own rate schedule"


STATEMENT_COLUMNS = [
    "account_manager_id",
    "period",
    "line",
    "kind",
    "deal_id",
    "close_date",
    "product",
    "credit",
    "tier",
    "rate",
    "rule",
    "amount",
    "award",
    "payout_date",
    "payable",
    "description",
]
"""Columns of a statement frame (money as ``Decimal`` quantized to 0.01, rate as ``Decimal`` fraction).

``rule`` is the engine's rule text; ``description`` the line in words (:func:`line_words`)."""

# fx group (issue #13 item 10): a statement of deals converted from other currencies
FX_STATEMENT_COLUMNS = ["original_currency", "original_amount", "fx_rate", "converted_amount", "fx_rate_basis"]
"""Columns after :data:`STATEMENT_COLUMNS` when the deals were converted at load
(:func:`reportkit.data.fx.has_fx`): the deal's source currency and exact amount, the rate
used (``Decimal``, reporting-currency units per unit), the converted amount (``Decimal``
0.01, ``original x rate`` rounded half away from zero: the deal's amount the credit comes
from) and which rate in words (:func:`reportkit.data.fx.deal_fx`). ``None`` on lines without a deal."""


class CommissionResult:
    """Vectorised engine output; statements are materialised per AM on request.

    The engine keeps every line as integer numpy arrays (AM, period and deal as
    codes). The frames below are built from them on first access (and cached):
    only then are deal, AM and product ids looked up as strings.

    Attributes
    ----------
    account_managers : numpy object array
        AM ids; the AM code of a line indexes it.
    periods : list of Period
        The pay periods of the ledger.
    lines : DataFrame
        Every statement line in integer form: ``am (int code), p (period index),
        kind (code into _KINDS), deal_id, close_date, product, credit_cents,
        has_credit, tier (1-based, 0 none), rate_ppm (-1 none), rule (categorical),
        amount_cents, award, payout_date, payable``.
    n_lines : int
        Number of lines (without building ``lines``).
    summary : DataFrame
        One row per AM and period: ``account_manager_id, period, credit_cents,
        quota_cents, attainment (float, NaN if quota 0), ytd_credit_cents,
        ytd_quota_cents, ytd_attainment, commission_cents, payout_cents,
        deferred_cents, draw_balance_cents, plan``.
    credits, quotas, excluded : DataFrame
        Crediting and quota tables the lines were computed from.
    """

    def __init__(
        self,
        account_managers,
        periods,
        line_arrays,
        rule_cats,
        summary,
        credits,
        am_ids,
        deals,
        quotas,
        excluded,
        choice=None,
        rule_schedule=None,
    ) -> None:
        self._choice = choice  # PlanChoice: the plan of each AM and period, for the words of a line
        # rule code -> the rate schedule whose tier it is ("" the plan's rates); other rules are absent
        self._rule_schedule: dict[int, str] = dict(rule_schedule or {})
        self.account_managers = account_managers
        self.periods = periods
        self.summary = summary
        self.quotas = quotas
        self.excluded = excluded
        self._L = line_arrays
        self._rules = np.asarray(rule_cats, dtype=object)
        self._credits = credits  # Credits, in ledger order
        self._am_ids = am_ids
        self._deals = deals
        self._lines_df: pd.DataFrame | None = None
        self._credits_df: pd.DataFrame | None = None
        self._order: np.ndarray | None = None
        self._starts: np.ndarray | None = None
        self._split_rows: np.ndarray | None = None
        self._code = {a: i for i, a in enumerate(account_managers.tolist())}
        self._fx: DealConversions | None = None  # deals converted from other currencies, looked up by id

    @property
    def n_lines(self) -> int:
        L = self._L
        return L.n if isinstance(L, _Lines) else len(L["am"])

    def _frame(self, rows: np.ndarray | None = None) -> pd.DataFrame:
        L = self._L
        if rows is None:

            def pick(a):
                return a.astype(np.int64, copy=False) if a.dtype != bool else a
        else:

            def pick(a):
                return a[rows].astype(np.int64, copy=False) if a.dtype != bool else a[rows]

        drow = pick(L["drow"])
        d = self._deals
        return pd.DataFrame(
            {
                "am": pick(L["am"]),
                "p": pick(L["p"]),
                "kind": pick(L["kind"]),
                "deal_id": take_str(d["deal_id"], drow),
                "close_date": pd.to_datetime(pick(L["cdate"]).view("datetime64[ns]")),
                "product": take_str(d["product"], drow),
                "credit_cents": pick(L["credit"]),
                "has_credit": pick(L["has_credit"]),
                "tier": pick(L["tier"]),
                "rate_ppm": pick(L["rate"]),
                "rule": pd.Categorical.from_codes(pick(L["rule"]), categories=pd.Index(self._rules, dtype=object))
                if len(self._rules)
                else pd.Categorical([]),
                "amount_cents": pick(L["amount"]),
                "award": np.asarray(_AWARDS, dtype=object)[pick(L["award"])],
                "payout_date": pd.to_datetime(pick(L["payout"]).view("datetime64[ns]")),
                "payable": pick(L["payable"]),
            }
        )

    @property
    def lines(self) -> pd.DataFrame:
        if self._lines_df is None:
            self._lines_df = self._frame()
        return self._lines_df

    @property
    def credits(self) -> pd.DataFrame:
        if self._credits_df is None:
            self._credits_df = self._credits.frame(self._deals, self._am_ids)
        return self._credits_df

    def _index(self) -> None:
        if self._order is None:
            am = self._L["am"]
            self._order = np.argsort(am, kind="stable")
            self._starts = np.searchsorted(am[self._order], np.arange(len(self.account_managers) + 1))

    def statement(self, account_manager_id: str, period: str | None = None) -> pd.DataFrame:
        """One AM's statement lines with ``Decimal`` money (columns :data:`STATEMENT_COLUMNS`).

        Lines are ordered by period, ledger step, close date and deal, then a deal's
        lines by the plan's schedules (``rates``, then each of ``rate_components``) and
        their tiers. ``period``
        (a pay-period label) restricts to that period.

        Raises
        ------
        KeyError
            Unknown account manager id.
        """
        return self.statement_rows(account_manager_id, period)[0]

    def trace(self, account_manager_id: str, period: str | None = None) -> pd.DataFrame:
        """The trace behind each line of the AM's statement (:func:`~reportkit.domain.engine.trace.trace_frame`).

        Columns :data:`~reportkit.domain.engine.trace.TRACE_COLUMNS`: per line of
        :meth:`statement` (same ``line`` numbers) the deal, account, close date, deal
        amount, credit source and share, credited amount, tier, rate, what limited it
        (cap, gate, per-deal limit), the plan, its file and version, and the amount; the
        rows of a line sum to its amount to the cent. Computed on request, for this AM only.

        Raises
        ------
        KeyError
            Unknown account manager id.
        """
        return self.statement_trace(*self.statement_rows(account_manager_id, period))

    def statement_trace(self, statement: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
        """The trace of ``statement`` (some lines of :meth:`statement_rows`, ``rows`` their ledger rows), by its line numbers."""
        return trace_frame(self, statement, rows, FX_STATEMENT_COLUMNS)

    def statement_rows(self, account_manager_id: str, period: str | None = None) -> tuple[pd.DataFrame, np.ndarray]:
        """:meth:`statement` and the ledger row of each of its lines, in line order (for :meth:`trace`)."""
        code = self._code.get(account_manager_id)
        if code is None:
            raise KeyError(f"no statement for account manager {account_manager_id!r}")
        self._index()
        rows = self._order[self._starts[code] : self._starts[code + 1]]
        if period is not None:
            pi = [p.label for p in self.periods].index(period)
            rows = rows[self._L["p"][rows] == pi]
        x = self._frame(rows)
        # a deal's lines in the order of the plan's schedules and their tiers: the rule codes
        # are registered in that order (rates' tiers, then each rate component's); lines
        # without a deal (a period's measures, multipliers, bonuses ...) keep the order the
        # step wrote them in, the plan's (a rule text first used by another AM has an earlier code)
        x["schedule_order"] = np.where(x["deal_id"].isna(), 0, x["rule"].cat.codes)
        x = x.sort_values(["p", "kind", "close_date", "deal_id", "schedule_order", "tier"], kind="stable")
        labels = [p.label for p in self.periods]
        plans = [self._plan_of(code, j) for j in x["p"].tolist()]
        types = self._deal_types(rows[x.index.to_numpy()], x["kind"].to_numpy(), plans)
        described = [
            _with_type(line_words(_KINDS[k], t, str(r), pl, self._rule_schedule.get(c)), pl, ty)
            for k, t, r, pl, ty, c in zip(
                x["kind"].tolist(),
                x["tier"].tolist(),
                x["rule"].tolist(),
                plans,
                types,
                x["schedule_order"].tolist(),
            )
        ]
        self._split_lines(code, rows[x.index.to_numpy()], x["kind"].to_numpy(), plans, described)
        out = pd.DataFrame(
            {
                "account_manager_id": account_manager_id,
                "period": [labels[i] for i in x["p"].tolist()],
                "line": np.arange(1, len(x) + 1),
                "kind": [_KINDS[i] for i in x["kind"].tolist()],
                "deal_id": pd.Series([None if pd.isna(v) else v for v in x["deal_id"].tolist()], dtype=object),
                "close_date": [None if pd.isna(d) else d.date() for d in x["close_date"]],
                "product": pd.Series([None if pd.isna(v) else v for v in x["product"].tolist()], dtype=object),
                "credit": [_money(c) if h else None for c, h in zip(x["credit_cents"].tolist(), x["has_credit"].tolist())],
                "tier": pd.Series([None if t == 0 else t for t in x["tier"].tolist()], dtype=object),
                "rate": [_rate(r) for r in x["rate_ppm"].tolist()],
                "rule": x["rule"].astype(str).tolist(),
                "amount": [_money(c) for c in x["amount_cents"].tolist()],
                "award": x["award"].astype(str).tolist(),
                "payout_date": [None if pd.isna(d) else d.date() for d in x["payout_date"]],
                "payable": x["payable"].to_numpy(bool),
                "description": described,
            },
            columns=STATEMENT_COLUMNS,
        )
        if has_fx(self._deals):
            if self._fx is None:
                self._fx = DealConversions(self._deals)
            conv = self._fx(out["deal_id"].tolist())
            for c in FX_STATEMENT_COLUMNS:
                out[c] = conv[c].to_numpy()
        return out.reset_index(drop=True), rows[x.index.to_numpy()]

    def _deal_types(self, rows: np.ndarray, kinds: np.ndarray, plans: list) -> list:
        """Per line: ``False`` (no words), or the deal's type (``None``: none) for a commission line of a deal
        whose plan has crediting factors by deal type (dealtype group: :func:`deal_type_words`)."""
        with_f = [pl is not None and pl.crediting.deal_type_factors is not None for pl in plans]
        if not any(with_f):
            return [False] * len(rows)
        drow = self._L["drow"][rows].astype(np.int64)
        col = self._deals[DEAL_TYPE] if DEAL_TYPE in self._deals.columns else None
        got = take_str(col, drow) if col is not None else np.full(len(rows), None, dtype=object)
        ok = (kinds == _KINDS.index("commission")) & (drow >= 0) & np.asarray(with_f)
        return [g if o else False for g, o in zip(got.tolist(), ok.tolist())]

    def _split_lines(self, code: int, rows: np.ndarray, kinds: np.ndarray, plans: list, described: list[str]) -> None:
        """Append :func:`split_words` to the descriptions of the AM's commission lines of split deals (in place)."""
        cr = self._credits
        if self._split_rows is None:  # the revenue split credit lines, found once per result
            self._split_rows = np.flatnonzero(cr.source == CREDIT_SOURCES.index("split"))
        mine = self._split_rows[cr.am[self._split_rows] == code]
        if not len(mine):
            return
        shares = dict(zip(cr.drow[mine].tolist(), cr.share[mine].tolist()))
        drows = self._L["drow"][rows].tolist()
        for i, (kind, d) in enumerate(zip(kinds.tolist(), drows)):
            if _KINDS[kind] == "commission" and d in shares:
                mode = plans[i].splits.mode if plans[i] is not None else "credit_first"
                described[i] = f"{described[i]}; {split_words(mode, shares[d])}"

    def _plan_of(self, code: int, j: int):
        """The plan of AM ``code`` in pay period ``j`` (None when unknown)."""
        ch = self._choice
        if ch is None:
            return None
        g = int(ch.pidx[code, j]) if code < ch.pidx.shape[0] else -1
        return ch.plans[g] if g >= 0 else None

    def stand_in_credits(self, account_manager_id: str) -> dict[str, str]:
        """Deals crediting the AM as their owner in place of a blank or uncovered territory.

        Returns
        -------
        dict
            ``deal_id -> source`` (``"owner (territory not covered)"`` or
            ``"owner (no territory)"``); empty under owner crediting.
        """
        code = self._code.get(str(account_manager_id))
        cr = self._credits
        if code is None or not len(cr.source):
            return {}
        rows = np.flatnonzero((cr.am == code) & (cr.source >= CREDIT_SOURCES.index("owner (territory not covered)")))
        if not len(rows):
            return {}
        return dict(
            zip(
                take_str(self._deals["deal_id"], cr.drow[rows]).tolist(),
                np.asarray(CREDIT_SOURCES, dtype=object)[cr.source[rows]].tolist(),
            )
        )

    def payout_conversion(self, account_manager_id: str, periods: list[str] | None = None) -> pd.DataFrame | None:
        """The AM's payouts converted to their plan's payout currency, one row per pay period (fx2 group).

        Returns
        -------
        DataFrame or None
            Columns :data:`PAYOUT_FX_COLUMNS`: ``period``, ``payout`` (``Decimal`` 0.01 in
            ``currency``, the reporting currency: the sum of the period's rounded payable
            lines), ``currency``, ``fx_rate`` (``Decimal``: units of ``currency`` per unit
            of ``payout_currency``; ``None`` where no rate was needed and none found),
            ``payout_currency``, ``payout_converted`` (``Decimal`` 0.01: ``payout / fx_rate``
            rounded half away from zero, once per period), ``fx_rate_basis`` and ``words``
            (:func:`reportkit.data.fx.payout_words`). ``None`` when no plan of the run has a
            ``payout_currency`` other than its ``currency``.
        """
        s = self.summary
        if "payout_currency" not in s.columns:
            return None
        rows = s.loc[(s["account_manager_id"] == str(account_manager_id)).to_numpy() & s["plan"].notna().to_numpy()]
        if periods is not None:
            rows = rows.loc[rows["period"].isin(periods).to_numpy()]
        out = []
        for r in rows.itertuples(index=False):
            ok = isinstance(r.payout_fx_rate, str)  # no rate: None (an earlier period the run reached back to)
            cents, conv = int(r.payout_cents), (int(r.payout_converted_cents) if ok else None)
            rate_int = int(Decimal(r.payout_fx_rate).scaleb(8)) if ok else 0
            out.append(
                (
                    r.period,
                    _money(cents),
                    r.currency,
                    Decimal(r.payout_fx_rate) if ok else None,
                    r.payout_currency,
                    _money(conv) if ok else None,
                    r.payout_fx_basis,
                    payout_words(cents, r.currency, rate_int, conv, r.payout_currency, r.payout_fx_basis) if ok else "",
                )
            )
        return pd.DataFrame(out, columns=PAYOUT_FX_COLUMNS, dtype=object)

    def payout(self, account_manager_id: str, period: str) -> Decimal:
        """Cash payable to the AM for ``period``: the sum of its payable rounded lines."""
        s = self.statement(account_manager_id, period)
        return sum(s.loc[s["payable"], "amount"], Decimal("0.00"))


class Statements(Mapping):
    """Lazy mapping ``account_manager_id -> statement DataFrame`` over a :class:`CommissionResult`."""

    def __init__(self, result: CommissionResult, period: str | None = None) -> None:
        self.result = result
        self.period = period

    def __getitem__(self, key: str) -> pd.DataFrame:
        return self.result.statement(key, self.period)

    def __iter__(self) -> Iterator[str]:
        return iter(self.result.account_managers.tolist())

    def __len__(self) -> int:
        return len(self.result.account_managers)


def summary_frame(
    ams: np.ndarray,
    labels: list[str],
    plan_names: list[str],
    pidx: np.ndarray,
    columns: dict[str, np.ndarray],
    attainment: Attainment,
) -> pd.DataFrame:
    """One row per AM and pay period (:attr:`CommissionResult.summary`).

    ``columns``: the (A, P) int64 cents arrays by summary column name, in column
    order, after ``credit_cents`` / ``quota_cents`` / ``ytd_*`` (from
    ``attainment``);
    attainment columns are fractions, NaN where the quota is 0.
    """
    A, P = len(ams), len(labels)
    frame = {
        "account_manager_id": np.repeat(ams, P),
        "period": np.tile(labels, A),
        "plan": [plan_names[g] if g >= 0 else None for g in pidx.reshape(-1)],
        "credit_cents": attainment.credit.reshape(-1),
        "quota_cents": attainment.quota.reshape(-1),
        "attainment": attainment.fraction(attainment.credit, attainment.quota).reshape(-1),
        "ytd_credit_cents": attainment.ytd_credit.reshape(-1),
        "ytd_quota_cents": attainment.ytd_quota.reshape(-1),
        "ytd_attainment": attainment.fraction(attainment.ytd_credit, attainment.ytd_quota).reshape(-1),
    }
    frame.update({name: values.reshape(-1) for name, values in columns.items()})
    return pd.DataFrame(frame)


PAYOUT_FX_COLUMNS = ["period", "payout", "currency", "fx_rate", "payout_currency", "payout_converted", "fx_rate_basis", "words"]
"""Columns of :meth:`CommissionResult.payout_conversion` (fx2 group, issue #13 item 10)."""


def with_payout_currency(summary: pd.DataFrame, ds, choice, span, payout: np.ndarray, asked: np.ndarray) -> pd.DataFrame:
    """The summary with each pay period's payout in the plan's payout currency (fx2 group, issue #13 item 10).

    Unchanged when no plan has a ``payout_currency`` other than its ``currency``. Otherwise
    the columns ``currency`` (the reporting currency every ``*_cents`` column is in),
    ``payout_currency``, ``payout_fx_rate`` (exact text, units of ``currency`` per unit of
    ``payout_currency``; ``"1"`` when they are the same), ``payout_fx_basis`` (which rate,
    in words) and ``payout_converted_cents`` (nullable int: ``payout_cents / rate`` rounded
    half away from zero, **once per pay period**: the period's payout is the sum of its
    rounded lines in ``currency``, and its payout-currency amount is that sum converted;
    :func:`reportkit.data.fx.to_payout_cents`) are added, after ``payout_cents``' row order.

    Raises
    ------
    DataError
        A pay period asked for whose plan pays in another currency has no rate in the data
        set's ``fx_rates`` (naming the account manager, the period, the currency, the rate
        needed and the fix).
    """
    plans = choice.plans
    if not any(p.converts_payout for p in plans):
        return summary
    A, P = payout.shape
    cur = np.full((A, P), None, dtype=object)
    rate = np.zeros((A, P), dtype=np.int64)
    basis = np.full((A, P), None, dtype=object)
    for g, plan in enumerate(plans):
        mine = choice.pidx == g
        pc = plan.payout_currency or plan.currency
        r, w = payout_rates(ds.fx_rates, ds.currency, pc, span.periods, plan.payout_conversion or "", ds.calendar)
        cur[mine] = pc
        rate[mine] = np.broadcast_to(np.array(r, dtype=np.int64), (A, P))[mine]
        basis[mine] = np.broadcast_to(np.array(w, dtype=object), (A, P))[mine]
    missing = (choice.pidx >= 0) & (rate == 0) & np.asarray(asked, dtype=bool)[None, :]
    if missing.any():
        raise _no_payout_rate(missing, ds, choice, span, cur, summary["account_manager_id"].to_numpy()[::P])
    flat_rate, flat_pay = rate.reshape(-1), payout.reshape(-1)
    found = flat_rate > 0
    paid = np.zeros(A * P, dtype=np.int64)
    paid[found] = to_payout_cents(flat_pay[found], flat_rate[found])
    conv = pd.arrays.IntegerArray(paid, ~found)
    out = summary.copy()
    out["currency"] = ds.currency
    out["payout_currency"] = pd.Series(cur.reshape(-1), index=out.index, dtype=object)
    text = [None if r == 0 else format(Decimal(int(r)).scaleb(-8).normalize(), "f") for r in flat_rate]
    out["payout_fx_rate"] = pd.Series(text, index=out.index, dtype=object)
    out["payout_fx_basis"] = pd.Series(basis.reshape(-1), index=out.index, dtype=object)
    out["payout_converted_cents"] = conv
    return out


def _no_payout_rate(missing: np.ndarray, ds, choice, span, cur: np.ndarray, ams: np.ndarray) -> DataError:
    """The error of pay periods whose payout currency has no rate: each missing rate once (currency, the
    date or period it must cover, the plan), with the account managers it affects counted and the first named."""
    needs: dict[tuple[str, str, str], list[str]] = {}  # (currency, rate needed, plan) -> account managers
    for a, j in zip(*np.nonzero(missing)):
        plan = choice.plans[int(choice.pidx[a, j])]
        p, c = span.periods[int(j)], str(cur[a, j])
        need = (
            f"{p.label} needs a {c} rate dated on or before {p.end.isoformat()}"
            if plan.payout_conversion == "period_end"
            else f"{p.label} needs {c} rates dated in it ({p.start.isoformat()} .. {p.end.isoformat()})"
        )
        where = f" ({plan.source_file})" if plan.source_file else ""
        paid_by = f"plan {plan.name!r}{where} pays in {c} (payout_conversion: {plan.payout_conversion})"
        needs.setdefault((c, need, paid_by), []).append(str(ams[a]))
    lines = []
    for (_, need, paid_by), who in needs.items():
        named = ", ".join(repr(x) for x in who[:3]) + (f" and {len(who) - 3} more" if len(who) > 3 else "")
        lines.append(f"{need}: {paid_by}; affects {counted(len(who), 'account manager')}: {named}")
    currencies = sorted({c for c, _, _ in needs})
    table = "the data set's fx_rates table" if ds.fx_rates is not None else "an fx_rates table (the data set has none)"
    shown = lines[:20] + ([f"... and {len(lines) - 20} more"] if len(lines) > 20 else [])
    return DataError(
        f"no exchange rate for the payout of {counted(int(missing.sum()), 'pay period')}:\n  " + "\n  ".join(shown),
        hint=f"add the {', '.join(currencies)} rates to {table} in the source mapping (units of "
        f"{ds.currency} per unit of the payout currency), or pay in {ds.currency} (leave payout_currency out)",
    )


def write_statement_csv(statement: pd.DataFrame, path: str | Path) -> Path:
    """Write a statement frame as UTF-8 CSV: money as plain decimals (``1234.50``), dates ISO.

    Raises
    ------
    OutputError
        The file cannot be written.
    """
    path = Path(path)
    out = statement.copy()
    for c in ("credit", "rate", "amount", "original_amount", "fx_rate", "converted_amount"):
        if c in out:
            out[c] = [("" if v is None else str(v)) for v in out[c]]
    for c in ("close_date", "payout_date"):
        if c in out:
            out[c] = [("" if v is None or pd.isna(v) else v.isoformat()) for v in out[c]]
    try:
        out.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    except OSError as exc:
        raise OutputError(f"cannot write statement {str(path)!r}: {exc.strerror}") from None
    return path
