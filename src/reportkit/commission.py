"""Commission statements: one account manager, one period.

The current policy (:class:`~reportkit.params.CommissionPolicy`) is a flat rate
on credited won revenue plus an optional quota bonus:

* one **flat-rate line per credited deal** closed in the period:
  ``amount = round_money(basis * rate)`` with ``basis`` the credited amount
  (``Decimal``, report currency) -- each line rounded to the cent half away from
  zero (:func:`reportkit.money.round_money`), so a return (negative credit) gives
  a negative line that mirrors the sale exactly;
* one **quota bonus line** when the period's attainment is defined and
  ``>= policy.quota_bonus.attainment_at_least``; its ``award`` says how it is
  paid (``cash``, ``deferred`` or ``merchandise``, the latter valued at ``amount``);
* the statement **total is the sum of the rounded lines** (never a rounded sum
  of unrounded lines), per ``docs/architecture.md``.

Statement lines have a fixed shape that a full plan engine (tiers, accelerators,
caps, draws, clawbacks) will also fill: ``line`` (1-based int), ``description``,
``basis`` (Decimal money or None), ``rate`` (Decimal fraction or None),
``amount`` (Decimal money), ``rule`` (machine name of the rule that made the
line, e.g. ``flat_rate``, ``quota_bonus``; later ``tier:2``, ``cap``, ``draw``,
``clawback``) and ``award`` (``cash``, ``deferred``, ``merchandise``), then
``deal_id`` (str or None) and ``tier`` (1-based int or None).

Two policies fill that shape:

* ``params.commission`` (no ``plan:`` in the params file): the flat rate above,
  :func:`commission_statement`;
* ``params.plan``: the incentive-compensation engine (:mod:`reportkit.engine`),
  :func:`plan_result` once per batch and :func:`plan_statement` per account
  manager. Each engine line keeps its deal, credit (``basis``), tier, rate and
  amount; ``rule`` is ``tier:N`` for commission lines and the ledger step
  otherwise (``true_up``, ``cap``, ``spif``, ``bonus``, ``clawback``, ``draw`` ...),
  and ``description`` names the plan rule that made the line.

The flat policy is kept as its own code path (not re-expressed as an engine
plan) because it applies to any report period (month, quarter or year, the
bonus on that period's attainment), uses the report's own crediting (territory
overlay with owner fallback) and quota rules, and has ``deferred`` /
``merchandise`` awards the engine does not model; see ``docs/commission.md``.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

import dataclasses

import numpy as np

from . import engine
from .crediting import credited_in
from .money import cents_to_money, money_sum, round_money
from .params import CommissionPolicy
from .periods import Period
from .quota import attainment

__all__ = ["STATEMENT_COLUMNS", "CommissionStatement", "commission_statement", "plan_result", "plan_statement"]

#: Columns of :attr:`CommissionStatement.lines`, in order.
STATEMENT_COLUMNS = ("line", "description", "basis", "rate", "amount", "rule", "award", "deal_id", "tier")


@dataclass(frozen=True)
class CommissionStatement:
    """A commission statement.

    Attributes
    ----------
    account_manager_id : str
    period : str
        Period label.
    lines : DataFrame
        Columns :data:`STATEMENT_COLUMNS`; money as ``Decimal`` quantized to 0.01.
    total : Decimal
        Sum of the rounded ``amount`` of every line (all awards).
    commission : Decimal
        Sum of the flat-rate (revenue-based) lines.
    bonus : Decimal
        Sum of the quota-bonus lines (0.00 when not earned).
    cash_total : Decimal
        Sum of the lines whose award is ``cash`` (payable now).
    revenue : Decimal
        Credited revenue in the period (the commission basis).
    attainment : float
        Period attainment fraction used for the bonus, NaN when undefined.
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


def _pct(x: float | Decimal) -> str:
    return f"{float(x) * 100:.1f} %"


def commission_statement(
    credited: pd.DataFrame,
    account_manager_id: str,
    period: Period,
    policy: CommissionPolicy,
    quota_cents: int | None,
    *,
    until: datetime.date | None = None,
) -> CommissionStatement:
    """Commission statement for one account manager and one period.

    Parameters
    ----------
    credited : DataFrame
        Output of :func:`reportkit.crediting.credited_deals` (may hold every
        account manager; only ``account_manager_id``'s rows are used).
    account_manager_id : str
    period : Period
        The statement period (month, quarter or year).
    policy : CommissionPolicy
        Flat ``rate`` (fraction) and optional ``quota_bonus``.
    quota_cents : int or None
        The account manager's quota for ``period`` (:func:`reportkit.quota.quota_for`);
        ``None`` or 0 means attainment is undefined and no bonus is paid.
    until : date, optional
        Ignore credits that closed after this date (the report's ``as_of``).

    Returns
    -------
    CommissionStatement
        Lines ordered by close date then deal id, bonus last.

    Examples
    --------
    A 1,234.50 deal at 5 % gives a 61.73 line (61.725 rounded half away from zero).
    """
    end = period.end if until is None else min(period.end, until)
    mine = credited_in(credited, period.start, end, str(account_manager_id))
    mine = mine.sort_values(["close_date", "deal_id"], kind="stable")
    rate = Decimal(policy.rate)
    basis = [cents_to_money(c) for c in mine["credit_cents"].to_numpy()]
    amounts = [round_money(b * rate) for b in basis]
    dates = pd.to_datetime(mine["close_date"]).dt.strftime("%Y-%m-%d").to_numpy()
    desc = [
        f"Deal {d} ({a}) closed {dt}"
        for d, a, dt in zip(mine["deal_id"].to_numpy(), mine["account_id"].to_numpy(), dates)
    ]
    n = len(basis)
    lines = {
        "line": list(range(1, n + 1)),
        "description": desc,
        "basis": list(basis),
        "rate": [rate] * n,
        "amount": list(amounts),
        "rule": ["flat_rate"] * n,
        "award": ["cash"] * n,
        "deal_id": [str(d) for d in mine["deal_id"].to_numpy()],
        "tier": [None] * n,
    }
    revenue_cents = int(mine["credit_cents"].sum()) if n else 0
    att = attainment(revenue_cents, quota_cents)
    bonus = Decimal("0.00")
    qb = policy.quota_bonus
    if qb is not None and not math.isnan(att) and att >= qb.attainment_at_least and qb.amount > 0:
        bonus = round_money(qb.amount)
        lines["line"].append(n + 1)
        lines["description"].append(
            f"Quota bonus: attainment {_pct(att)} >= {_pct(qb.attainment_at_least)} in {period.label}"
        )
        lines["basis"].append(cents_to_money(revenue_cents))
        lines["rate"].append(None)
        lines["amount"].append(bonus)
        lines["rule"].append("quota_bonus")
        lines["award"].append(qb.award)
        lines["deal_id"].append(None)
        lines["tier"].append(None)
    frame = pd.DataFrame({k: pd.Series(v, dtype="object") for k, v in lines.items()})
    frame["line"] = frame["line"].astype("int64")
    frame["description"] = frame["description"].astype("str")
    frame["rule"] = frame["rule"].astype("str")
    frame["award"] = frame["award"].astype("str")
    cash = money_sum(a for a, w in zip(lines["amount"], lines["award"]) if w == "cash")
    return CommissionStatement(
        account_manager_id=str(account_manager_id),
        period=period.label,
        lines=frame.loc[:, list(STATEMENT_COLUMNS)],
        total=money_sum(lines["amount"]),
        commission=money_sum(amounts),
        bonus=bonus,
        cash_total=cash,
        revenue=cents_to_money(revenue_cents),
        attainment=att,
    )


# ---------------------------------------------------------------------------
# plan engine path (params.plan)
# ---------------------------------------------------------------------------
_COMMISSION_KINDS = frozenset({"commission", "true_up", "cap_carry_in", "cap"})


def plan_result(
    ds: "engine.Dataset",
    plans,
    assignments,
    period: Period,
    cutoff: datetime.date,
    quotas: pd.DataFrame | None = None,
) -> engine.CommissionResult:
    """Run the engine for a report: every AM, pay periods from the fiscal-year start to ``period``.

    Deals closed after ``cutoff`` (the report's ``min(as_of, period end)``) are
    left out, so a statement as of a date never pays later deals. ``quotas``
    (the report's effective quota table, e.g. from a params quota rule) replaces
    the dataset's quotas when given.
    """
    deals = ds.deals
    keep = (deals["close_date"] <= np.datetime64(cutoff, "ns")).to_numpy()
    changes: dict = {}
    if not keep.all():
        changes["deals"] = deals.loc[keep].reset_index(drop=True)
    if quotas is not None and quotas is not ds.quotas:
        changes["quotas"] = quotas
    run_ds = dataclasses.replace(ds, **changes) if changes else ds
    return engine.compute(run_ds, plans, period.label, assignments=assignments)


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


def plan_statement(result: engine.CommissionResult, account_manager_id: str, period: Period) -> CommissionStatement:
    """One AM's statement for a report period from an engine result (see :func:`plan_result`).

    Lines are the engine's statement lines of the pay periods making up
    ``period`` (ordered by pay period, ledger step, close date, deal, tier);
    amounts are the engine's rounded cents, so ``total`` is the sum of the
    rounded lines. ``commission`` is rate-schedule commission after the cap
    (``commission``, ``true_up``, ``cap_carry_in``, ``cap`` lines), ``bonus`` the
    bonus lines (cash, deferred and non-cash), ``cash_total`` the payable lines
    (the period's payout), ``revenue`` the credit and ``attainment`` credit /
    quota of those pay periods (NaN when the quota is zero).
    """
    am = str(account_manager_id)
    idx = _pay_periods(result, period)
    labels = [result.periods[i].label for i in idx]
    if am in result._code:
        st = result.statement(am)
        st = st.loc[st["period"].isin(labels).to_numpy()].reset_index(drop=True)
    else:
        st = pd.DataFrame(columns=engine.STATEMENT_COLUMNS)
    several = len(labels) > 1
    desc, rules, awards, tiers = [], [], [], []
    rule_text = st["rule"].tolist()
    for per, kind, deal, day, tier, text, award, payable in zip(
        st["period"].tolist(), st["kind"].tolist(), st["deal_id"].tolist(), st["close_date"].tolist(),
        st["tier"].tolist(), rule_text, st["award"].tolist(), st["payable"].tolist()
    ):
        head = f"{per}: " if several else ""
        if deal is not None:
            head += f"Deal {deal}" + (f" closed {day.isoformat()}" if day is not None else "") + ": "
        desc.append(head + str(text))
        rules.append(f"tier:{int(tier)}" if kind == "commission" and tier is not None else kind)
        awards.append(_award(str(award), bool(payable)))
        tiers.append(None if tier is None else int(tier))
    n = len(st)
    frame = pd.DataFrame(
        {
            "line": pd.Series(np.arange(1, n + 1), dtype="int64"),
            "description": pd.Series(desc, dtype="str"),
            "basis": pd.Series(st["credit"].tolist(), dtype="object"),
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
    summ = result.summary
    rows = summ.loc[((summ["account_manager_id"] == am) & summ["period"].isin(labels)).to_numpy()]
    credit = int(rows["credit_cents"].sum())
    quota = int(rows["quota_cents"].sum())
    return CommissionStatement(
        account_manager_id=am,
        period=period.label,
        lines=frame.loc[:, list(STATEMENT_COLUMNS)],
        total=money_sum(amounts),
        commission=money_sum(a for a, k in zip(amounts, kinds) if k in _COMMISSION_KINDS),
        bonus=money_sum(a for a, k in zip(amounts, kinds) if k == "bonus"),
        cash_total=money_sum(a for a, p in zip(amounts, payable) if p),
        revenue=cents_to_money(credit),
        attainment=attainment(credit, quota if len(rows) else None),
    )
