"""Commission statements: one account manager, one report period, from the plan engine.

Every commission figure comes from :mod:`reportkit.domain.engine`. A params file
selects the plan:

* ``params.plan``: plan YAML files (:func:`plan_result` once per batch,
  :func:`plan_statement` per account manager);
* otherwise the flat ``commission:`` policy
  (:class:`~reportkit.config.params.CommissionPolicy`: a rate on credited won revenue
  plus an optional quota bonus), compiled into an engine plan by
  :func:`flat_plan` and run by :func:`flat_result` on the report's credited
  deals (:func:`reportkit.domain.crediting.credited_deals`: territory overlay with
  owner fallback, handover rule), with the report's quota for the report
  period. :func:`flat_statement` / :func:`commission_statement` give the
  statement.

The flat policy as a plan (``docs/commission.md``):

* one **flat-rate line per credited deal** closed in the report period up to
  ``until``: ``amount = round_money(basis * rate)`` with ``basis`` the credited
  amount -- each line rounded to the cent half away from zero in the engine's
  integer arithmetic (the rate must therefore have at most 6 decimals); a return
  (negative credit) gives a negative line that mirrors the sale exactly;
* one **quota bonus line** when the report period's attainment is defined and
  ``>= policy.quota_bonus.attainment_at_least`` (an engine bonus: ``per: period``
  on a month or quarter report, ``per: year`` on a year report); its ``award``
  is ``cash``, ``deferred`` or ``merchandise`` (valued at ``amount``);
* the statement **total is the sum of the rounded lines** (never a rounded sum
  of unrounded lines), per ``docs/architecture.md``.

Statement lines have one shape for both: ``line`` (1-based int),
``description``, ``basis`` (Decimal money or None), ``rate`` (Decimal fraction
or None), ``amount`` (Decimal money), ``rule`` (the rule that made the line in
words, from :func:`reportkit.domain.engine.rule_words`: ``commission, tier 2 at 8 %``
for a rate-schedule line, ``commission at 5 %`` for the flat policy's, the ledger
step otherwise -- ``year-to-date true-up``, ``cap``, ``SPIF``, ``bonus``,
``clawback``, ``prior-period adjustment``, ``draw`` ...), ``award`` (``cash``,
``deferred``, ``merchandise``), then ``deal_id`` (str or None) and ``tier``
(1-based int: the rate tier that paid a commission line, the flat policy's too; None on
the other lines).
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

import numpy as np
import pandas as pd

from ..config.params import CommissionPolicy
from ..config.plans import Plan
from ..core.money import cents_to_money, money_sum, round_money
from ..core.periods import Period
from ..data.model import Dataset
from . import engine
from .crediting import credited_in
from .quota import attainment

__all__ = [
    "LINE_COLUMNS",
    "CommissionStatement",
    "StatementTotals",
    "commission_statement",
    "flat_plan",
    "flat_result",
    "flat_statement",
    "plan_result",
    "plan_statement",
    "commission_expense",
    "expense_share_of_revenue",
]

#: Columns of :attr:`CommissionStatement.lines` (the reader's statement), in order. Built from
#: the engine's ledger, whose columns are :data:`reportkit.domain.engine.STATEMENT_COLUMNS`
#: (that name has one home: the engine's statement frame).
LINE_COLUMNS = ("line", "description", "basis", "rate", "amount", "rule", "award", "deal_id", "tier")


@dataclass(frozen=True)
class CommissionStatement:
    """A commission statement.

    Attributes
    ----------
    account_manager_id : str
    period : str
        Period label.
    lines : DataFrame
        Columns :data:`LINE_COLUMNS`; money as ``Decimal`` quantized to 0.01.
    total : Decimal
        Sum of the rounded ``amount`` of every line (all awards).
    commission : Decimal
        Rate-schedule commission after the cap (the flat-rate lines of the flat policy).
    bonus : Decimal
        Sum of the bonus lines (0.00 when not earned).
    cash_total : Decimal
        Sum of the lines whose award is ``cash`` (payable now).
    revenue : Decimal
        Credited revenue in the period (the commission basis).
    attainment : float
        Period attainment fraction used for the bonus, NaN when undefined.
    payout_currency : str or None
        The currency the account manager is paid in when the plan's ``payout_currency``
        differs from the reporting currency (fx2 group); None otherwise (paid in the
        reporting currency, every field above).
    payout_converted : Decimal or None
        ``cash_total`` in ``payout_currency``: each pay period's payout converted once at
        its rate and rounded half away from zero, summed over the report's pay periods.
    payout_fx : DataFrame or None
        One row per pay period (:data:`reportkit.domain.engine.PAYOUT_FX_COLUMNS`): payout,
        rate, converted payout and the conversion in words.
    """

    account_manager_id: str
    period: str
    lines: pd.DataFrame
    total: Decimal
    commission: Decimal
    bonus: Decimal
    cash_total: Decimal
    revenue: Decimal
    attainment: float
    payout_currency: str | None = None
    payout_converted: Decimal | None = None
    payout_fx: pd.DataFrame | None = None
    trace_of: Callable[[], pd.DataFrame] | None = dataclasses.field(default=None, repr=False, compare=False)

    def totals(self) -> StatementTotals:
        """The statement's figures without its lines (:class:`StatementTotals`): what a group's report reads."""
        return StatementTotals(self.account_manager_id, self.period, self.total, self.commission, self.bonus)

    @property
    def trace(self) -> pd.DataFrame:
        """The trace behind each line (:data:`reportkit.domain.engine.trace.TRACE_COLUMNS`), made by the engine on request.

        Its ``line`` numbers are this statement's; the rows of a line sum to the line's
        ``amount`` to the cent. An empty frame when the statement was not made by the engine.
        """
        if self.trace_of is None:
            return pd.DataFrame(columns=engine.TRACE_COLUMNS)
        return self.trace_of()


@dataclass(frozen=True)
class StatementTotals:
    """A commission statement's totals without its lines: what a team's and the company's report read of it.

    A batch keeps these for every account manager, and a whole statement (its ``Decimal``
    lines, about 0.2 MB at 800,000 deals) only for the last one asked
    (:func:`reportkit.reports.statements.statement_totals`; ``docs/batch.md``, "Memory of
    the batch process"). The same figures as the statement's fields of the same names.

    Attributes
    ----------
    account_manager_id : str
    period : str
        Period label.
    total : Decimal
        :attr:`CommissionStatement.total`: the sum of the statement's rounded lines.
    commission : Decimal
        :attr:`CommissionStatement.commission`.
    bonus : Decimal
        :attr:`CommissionStatement.bonus`.
    """

    account_manager_id: str
    period: str
    total: Decimal
    commission: Decimal
    bonus: Decimal


def _pct(x: float | Decimal) -> str:
    return f"{float(x) * 100:.1f} %"


# ---------------------------------------------------------------------------
# the flat ``commission:`` policy as an engine plan
# ---------------------------------------------------------------------------
FLAT_PLAN_NAME = "Flat commission"
_FLAT_AWARDS = {"cash": "cash", "deferred": "deferred", "merchandise": "non_cash"}


def flat_plan(policy: CommissionPolicy, period: Period, currency: str) -> Plan:
    """Compile the flat ``commission:`` policy into an engine plan for one report period.

    The plan pays ``policy.rate`` on every credited deal (one ``flat`` tier from
    0, amount basis) and, with a ``quota_bonus`` of a positive amount, a bonus
    on the report period's attainment. Pay periods are months for a month
    report and quarters otherwise; on a year report the bonus is ``per: year``
    (year-to-date attainment in the last quarter). Quotas come from the run's
    quotas table as they are (``proration: none``: the report's effective quota
    already is the number to compare with). A negative period (returns above
    sales) follows the policy's ``carry_negative``, as a plan's: carried to the next
    period by default, kept on the statement with ``carry_negative: false``.

    Parameters
    ----------
    policy : CommissionPolicy
        ``rate`` (fraction, at most 6 decimals) and optional ``quota_bonus``.
    period : Period
        The report period (month, quarter or year).
    currency : str
        The dataset's currency (the plan must match it).

    Returns
    -------
    Plan

    Notes
    -----
    The bonus threshold (a float fraction in params) is compared exactly:
    ``credit x 1e6 >= ceil(threshold x 1e6) x quota`` in integers.
    """
    rate = Decimal(policy.rate)  # at most 6 decimals: checked by the Rate type (reportkit.core.types)
    raw: dict = {
        "name": FLAT_PLAN_NAME,
        "currency": currency,
        "period": "month" if period.kind == "month" else "quarter",
        "quota": {"source": "table", "split": "even", "proration": "none"},
        "carry_negative": policy.carry_negative,
        "rates": {"method": "flat", "basis": "amount", "accumulation": "per_period", "tiers": [{"from": 0, "rate": str(rate)}]},
    }
    qb = policy.quota_bonus
    if qb is not None and qb.amount > 0:
        at_least = Decimal(repr(float(qb.attainment_at_least))).quantize(Decimal("0.000001"), rounding=ROUND_CEILING)
        raw["bonuses"] = [
            {
                "name": "quota bonus",
                "attainment_at_least": str(at_least),
                "per": "year" if period.kind == "year" else "period",
                "amount": str(round_money(qb.amount)),
                "award": _FLAT_AWARDS[qb.award],
            }
        ]
    return Plan.model_validate(raw)


def _first_pay_period(period: Period) -> Period:
    return Period(period.calendar, "quarter", period.fiscal_year, 1) if period.kind == "year" else period


def flat_result(
    credited: pd.DataFrame,
    account_managers: pd.DataFrame,
    policy: CommissionPolicy,
    period: Period,
    quotas: pd.DataFrame,
    *,
    until: datetime.date | None = None,
    currency: str = "USD",
) -> engine.CommissionResult:
    """Run the flat policy (:func:`flat_plan`) through the engine for every AM of a report period.

    The engine's crediting is the identity here: each row of ``credited`` (the
    report's crediting, one row per deal and credited AM) becomes an owner
    deal of ``credit_cents``, so the flat policy pays on exactly the revenue the
    report shows.

    Parameters
    ----------
    credited : DataFrame
        :func:`reportkit.domain.crediting.credited_deals` output (any AMs).
    account_managers : DataFrame
        ``account_manager_id`` (``hire_date`` / ``end_date`` are not used: no proration).
    policy : CommissionPolicy
    period : Period
        The report period (month, quarter or year).
    quotas : DataFrame
        ``account_manager_id, quota_cents``: each AM's quota for ``period`` (rows
        of one AM are summed; an AM without a row has no quota: no bonus,
        attainment NaN).
    until : date, optional
        Credits closed after this date are left out (the report's ``as_of``).
    currency : str

    Returns
    -------
    engine.CommissionResult
        Pay periods of ``period`` only (nothing carries between periods on a flat plan).
    """
    plan = flat_plan(policy, period, currency)
    end = period.end if until is None else min(period.end, until)
    mine = credited_in(credited, period.start, end)
    deals = pd.DataFrame(
        {
            "deal_id": mine["deal_id"].astype("str").to_numpy(),
            "account_manager_id": mine["account_manager_id"].astype("str").to_numpy(),
            "account_id": mine["account_id"].to_numpy(),
            "close_date": pd.to_datetime(mine["close_date"]).to_numpy(),
            "amount_cents": mine["credit_cents"].to_numpy(dtype=np.int64),
            "amount_micros": mine["credit_micros"].to_numpy(dtype=np.int64),
            "currency": currency,
            "stage": "won",
            "territory": None,
            "product": mine["product"].to_numpy() if "product" in mine else None,
        }
    )
    ams = pd.DataFrame({"account_manager_id": account_managers["account_manager_id"].astype("str").to_numpy()})
    ams["hire_date"] = pd.NaT
    ams["end_date"] = pd.NaT
    q = quotas.groupby(quotas["account_manager_id"].astype("str"))["quota_cents"].sum()
    qt = pd.DataFrame(
        {
            "account_manager_id": q.index.to_numpy(dtype=object),
            "period_start": pd.Timestamp(period.start),
            "period_end": pd.Timestamp(period.end),
            "quota_cents": q.to_numpy(dtype=np.int64),
            "currency": currency,
        }
    )
    ds = Dataset(ams, qt, deals, currency=currency, calendar=period.calendar, crediting="owner")
    return engine.compute(ds, plan, period.label, since=_first_pay_period(period).label)


def flat_statement(
    result: engine.CommissionResult, account_manager_id: str, period: Period, policy: CommissionPolicy, credited: pd.DataFrame
) -> CommissionStatement:
    """One AM's flat-policy statement from :func:`flat_result` (lines as :func:`commission_statement`).

    Lines are ordered by close date then deal id, the quota bonus last;
    descriptions name the deal, its account and close date, and the bonus line
    the attainment reached (its ``basis`` is the period's credited revenue).
    """
    am = str(account_manager_id)
    mine = credited.loc[(credited["account_manager_id"] == am).to_numpy()]
    # lists, not iterated Series: a Python object per Arrow value is made in one call, not one call each
    accounts = dict(zip(mine["deal_id"].astype("str").tolist(), mine["account_id"].astype("str").tolist()))
    qb = policy.quota_bonus
    sources = {}
    if "credit_source" in mine:
        stand_in = mine.loc[(mine["credit_source"].str.startswith("owner (") | (mine["credit_source"] == "split")).to_numpy()]
        sources = dict(zip(stand_in["deal_id"].astype("str").tolist(), stand_in["credit_source"].astype("str").tolist()))
    return plan_statement(result, am, period, flat=(accounts, None if qb is None else qb.attainment_at_least), sources=sources)


def commission_statement(
    credited: pd.DataFrame,
    account_manager_id: str,
    period: Period,
    policy: CommissionPolicy,
    quota_cents: int | None,
    *,
    until: datetime.date | None = None,
    currency: str = "USD",
) -> CommissionStatement:
    """Flat-policy commission statement for one account manager and one period (through the engine).

    Parameters
    ----------
    credited : DataFrame
        Output of :func:`reportkit.domain.crediting.credited_deals` (may hold every
        account manager; only ``account_manager_id``'s rows are used).
    account_manager_id : str
    period : Period
        The statement period (month, quarter or year).
    policy : CommissionPolicy
        Flat ``rate`` (fraction, at most 6 decimals) and optional ``quota_bonus``.
    quota_cents : int or None
        The account manager's quota for ``period`` (:func:`reportkit.domain.quota.quota_for`);
        ``None`` or 0 means attainment is undefined and no bonus is paid.
    until : date, optional
        Ignore credits that closed after this date (the report's ``as_of``).
    currency : str
        Currency of the amounts (labels the engine run only).

    Returns
    -------
    CommissionStatement
        Lines ordered by close date then deal id, bonus last.

    Examples
    --------
    A 1,234.50 deal at 5 % gives a 61.73 line (61.725 rounded half away from zero).
    """
    am = str(account_manager_id)
    mine = credited.loc[(credited["account_manager_id"].astype("str") == am).to_numpy()]
    quotas = pd.DataFrame(
        {
            "account_manager_id": [am] if quota_cents is not None else [],
            "quota_cents": pd.array([int(quota_cents)] if quota_cents is not None else [], dtype="int64"),
        }
    )
    res = flat_result(mine, pd.DataFrame({"account_manager_id": [am]}), policy, period, quotas, until=until, currency=currency)
    return flat_statement(res, am, period, policy, mine)


# ---------------------------------------------------------------------------
# plan engine path (params.plan)
# ---------------------------------------------------------------------------
_COMMISSION_KINDS = frozenset({"commission", "deal_limit", "true_up", "measure", "multiplier", "cap_carry_in", "cap"})


def plan_result(
    ds: engine.Dataset,
    plans,
    assignments,
    period: Period,
    cutoff: datetime.date,
    quotas: pd.DataFrame | None = None,
    source_mapping=None,
) -> engine.CommissionResult:
    """Run the engine for a report: every AM, pay periods from the fiscal-year start to ``period``.

    Deals closed after ``cutoff`` (the report's ``min(as_of, period end)``) are
    left out, so a statement as of a date never pays later deals. ``quotas``
    (the report's effective quota table, e.g. from a params quota rule) replaces
    the dataset's quotas when given. The engine credits deals by the data set's
    rule, as the report does (:func:`reportkit.domain.crediting.check_crediting`: a plan
    whose crediting disagrees is refused with a ``PlanError`` naming the plan
    file and ``source_mapping``, the mapping file).
    """
    deals = ds.deals
    keep = (deals["close_date"] <= np.datetime64(cutoff, "ns")).to_numpy()
    changes: dict = {}
    if not keep.all():
        changes["deals"] = deals.loc[keep].reset_index(drop=True)
    if quotas is not None and quotas is not ds.quotas:
        changes["quotas"] = quotas
    run_ds = dataclasses.replace(ds, **changes) if changes else ds
    return engine.compute(run_ds, plans, period.label, assignments=assignments, source_mapping=source_mapping)


def _pay_periods(result: engine.CommissionResult, period: Period) -> list[int]:
    """Pay periods of the ledger that make up the report period.

    Those inside the report period; when the report period is shorter than a pay
    period (a month report on a quarterly plan), the pay period containing its end.
    """
    inside = [i for i, p in enumerate(result.periods) if p.start >= period.start and p.end <= period.end]
    if inside:
        return inside
    return [i for i, p in enumerate(result.periods) if p.start <= period.end <= p.end]


def _award(award: str, payable: bool) -> str:
    if payable:
        return "cash"
    return "merchandise" if award == "non_cash" else "deferred"


def _stand_in(source: str | None) -> str:
    """Description suffix of a line whose deal credits the AM as its owner in place of a territory,
    or as one of its revenue splits (the flat policy credits first: :func:`engine.split_words`)."""
    if source == "split":
        return f"; {engine.split_words('credit_first')}"
    return "" if source is None else f"; credited to you as the deal's {source}"


def plan_statement(
    result: engine.CommissionResult,
    account_manager_id: str,
    period: Period,
    *,
    flat: tuple[dict[str, str], float | None] | None = None,
    sources: dict[str, str] | None = None,
) -> CommissionStatement:
    """One AM's statement for a report period from an engine result (see :func:`plan_result`).

    Lines are the engine's statement lines of the pay periods making up
    ``period`` (ordered by pay period, ledger step, close date, deal, tier);
    amounts are the engine's rounded cents, so ``total`` is the sum of the
    rounded lines. ``commission`` is rate-schedule commission after the cap
    (``commission``, ``deal_limit``, ``true_up``, ``cap_carry_in``, ``cap`` lines), ``bonus`` the
    bonus lines (cash, deferred and non-cash), ``cash_total`` the payable lines
    (the period's payout), ``revenue`` the credit and ``attainment`` credit /
    quota of those pay periods (NaN when the quota is zero).

    ``flat`` (``(account of each deal id, bonus threshold)``, given by
    :func:`flat_statement`) words the lines of the compiled flat policy as the
    flat policy always has: flat-rate lines (rule ``commission at 5 %``) described
    ``Deal D (account) closed date`` without a tier in their words (their ``tier`` is
    the compiled plan's one tier, 1, as the trace says: a statement's Tier column is
    never empty on its commission lines), a bonus line naming the attainment reached,
    with the period's revenue as its basis.

    A line whose deal credits the account manager as the deal's owner because
    the deal's territory is blank or covered by nobody (territory crediting)
    says so at the end of its description (``credited to you as the deal's
    owner (territory not covered)``). ``sources`` (deal id -> credit source)
    gives those deals; by default they are read from the engine's credits.
    """
    am = str(account_manager_id)
    if sources is None:
        sources = result.stand_in_credits(am)
    idx = _pay_periods(result, period)
    labels = [result.periods[i].label for i in idx]
    trace_of = None
    if am in result._code:
        st, ledger_rows = result.statement_rows(am)
        keep = st["period"].isin(labels).to_numpy()
        st = st.loc[keep].reset_index(drop=True)
        numbered = st.assign(line=np.arange(1, len(st) + 1))  # the line numbers of this statement (below)
        trace_of = functools.partial(result.statement_trace, numbered, ledger_rows[keep])
    else:
        st = pd.DataFrame(columns=engine.STATEMENT_COLUMNS)
    summ = result.summary
    rows = summ.loc[((summ["account_manager_id"] == am) & summ["period"].isin(labels)).to_numpy()]
    credit = int(rows["credit_cents"].sum())
    quota = int(rows["quota_cents"].sum())
    att = attainment(credit, quota if len(rows) else None)
    several = len(labels) > 1
    desc, rules, awards, tiers = [], [], [], []
    basis = st["credit"].tolist()
    for i, (per, kind, deal, day, tier, rate, words, award, payable) in enumerate(
        zip(
            st["period"].tolist(),
            st["kind"].tolist(),
            st["deal_id"].tolist(),
            st["close_date"].tolist(),
            st["tier"].tolist(),
            st["rate"].tolist(),
            st["description"].tolist(),
            st["award"].tolist(),
            st["payable"].tolist(),
        )
    ):
        awards.append(_award(str(award), bool(payable)))
        if flat is not None and kind == "commission":
            desc.append(f"Deal {deal} ({flat[0].get(deal)}) closed {day.isoformat()}{_stand_in(sources.get(deal))}")
            rules.append(engine.rule_words(kind, None, rate))
            tiers.append(None if tier is None else int(tier))  # the compiled plan's one tier, as the trace says
            continue
        if flat is not None and kind == "bonus":
            desc.append(f"Quota bonus: attainment {_pct(att)} >= {_pct(flat[1])} in {period.label}")
            rules.append(engine.rule_words(kind))
            tiers.append(None)
            basis[i] = cents_to_money(credit)
            continue
        head = f"{per}: " if several else ""
        if deal is not None:
            head += f"Deal {deal}" + (f" closed {day.isoformat()}" if day is not None else "") + ": "
        desc.append(head + str(words) + (_stand_in(sources.get(deal)) if kind == "commission" else ""))
        rules.append(engine.rule_words(kind, tier if kind == "commission" else None, rate))
        tiers.append(None if tier is None else int(tier))
    n = len(st)
    frame = pd.DataFrame(
        {
            "line": pd.Series(np.arange(1, n + 1), dtype="int64"),
            "description": pd.Series(desc, dtype="str"),
            "basis": pd.Series(basis, dtype="object"),
            "rate": pd.Series(st["rate"].tolist(), dtype="object"),
            "amount": pd.Series(st["amount"].tolist(), dtype="object"),
            "rule": pd.Series(rules, dtype="str"),
            "award": pd.Series(awards, dtype="str"),
            "deal_id": pd.Series(st["deal_id"].tolist(), dtype="object"),
            "tier": pd.Series(tiers, dtype="object"),
        }
    )
    amounts = frame["amount"].tolist()
    kinds = st["kind"].tolist()
    payable = st["payable"].tolist()
    fx = result.payout_conversion(am, labels) if am in result._code else None
    paid_in = None if fx is None or not len(fx) else str(fx["payout_currency"].iloc[-1])
    if paid_in is not None and paid_in == str(fx["currency"].iloc[-1]):
        paid_in = None  # this account manager is paid in the reporting currency
    return CommissionStatement(
        account_manager_id=am,
        period=period.label,
        lines=frame.loc[:, list(LINE_COLUMNS)],
        total=money_sum(amounts),
        commission=money_sum(a for a, k in zip(amounts, kinds) if k in _COMMISSION_KINDS),
        bonus=money_sum(a for a, k in zip(amounts, kinds) if k == "bonus"),
        cash_total=money_sum(a for a, p in zip(amounts, payable) if p),
        revenue=cents_to_money(credit),
        attainment=att,
        payout_currency=paid_in,
        payout_converted=None if paid_in is None else money_sum(v for v in fx["payout_converted"] if v is not None),
        payout_fx=None if paid_in is None else fx,
        trace_of=trace_of,
    )


def commission_expense(statements: Iterable[CommissionStatement | StatementTotals]) -> dict[str, Decimal]:
    """What some commission statements cost, by component: the one way a team's or the company's expense adds up.

    Parameters
    ----------
    statements : iterable of CommissionStatement or StatementTotals
        One per account manager (every account manager in one team, so nobody counts twice);
        only their totals are read.

    Returns
    -------
    dict
        ``commission`` (rate-schedule commission), ``bonus`` (bonus lines),
        ``other`` (every other line: SPIFs, draws, clawbacks, adjustments... =
        ``total - commission - bonus``) and ``total`` (the sum of the statements'
        totals, each the sum of its rounded lines): ``Decimal`` to the cent.

    Examples
    --------
    >>> s = CommissionStatement("A", "FY2025-Q4", pd.DataFrame(), Decimal("12.50"), Decimal("10.00"),
    ...                         Decimal("2.00"), Decimal("12.50"), Decimal("200.00"), 1.0)
    >>> commission_expense([s, s])["other"]
    Decimal('1.00')
    """
    stmts = list(statements)
    total = money_sum(s.total for s in stmts)
    commission = money_sum(s.commission for s in stmts)
    bonus = money_sum(s.bonus for s in stmts)
    return {"commission": commission, "bonus": bonus, "other": total - commission - bonus, "total": total}


def expense_share_of_revenue(expense: Decimal, revenue: Decimal) -> float | None:
    """Commission expense as a fraction of revenue (0.05 == 5 %); None when revenue is zero or negative.

    >>> expense_share_of_revenue(Decimal("50.00"), Decimal("1000.00"))
    0.05
    """
    return float(Decimal(expense) / Decimal(revenue)) if revenue is not None and Decimal(revenue) > 0 else None
