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
``clawback``) and ``award`` (``cash``, ``deferred``, ``merchandise``).
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

from .crediting import credited_in
from .money import cents_to_money, money_sum, round_money
from .params import CommissionPolicy
from .periods import Period
from .quota import attainment

__all__ = ["STATEMENT_COLUMNS", "CommissionStatement", "commission_statement"]

#: Columns of :attr:`CommissionStatement.lines`, in order.
STATEMENT_COLUMNS = ("line", "description", "basis", "rate", "amount", "rule", "award")


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
