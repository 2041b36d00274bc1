"""The commission statement a report shows: from the plan engine, once per batch.

:func:`commission_statement` is the one path from params to a statement (the
params' plan files, else the flat ``commission:`` policy); the account manager's
report, their team's report and ``reportkit statement`` (:func:`commission_for`)
all read it, so they show the same cents. :func:`load_checked_plans` loads the
plans and refuses one whose crediting disagrees with the data set.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

import numpy as np
import pandas as pd

from ..config.params import BatchParams
from ..config.plans import deal_type_plan
from ..data.fx import DealConversions, conversion_words, has_fx
from ..data.model import Dataset
from ..domain.commission import (
    CommissionStatement,
    StatementTotals,
    flat_result,
    flat_statement,
    plan_result,
    plan_statement,
)
from ..domain.crediting import check_crediting, deal_type_factor_ppm
from ..domain.restatement import Restatement, with_restatements
from .closes import prior_period_restatements
from .context import ReportContext, params_plans, report_context
from .planning import account_manager_row

__all__ = [
    "commission_statement",
    "statement_totals",
    "load_checked_plans",
    "commission_for",
    "restatements_for",
    "payout_summary",
    "payout_notes",
    "commission_summary",
    "summary_keys",
]


def commission_statement(ds: Dataset, params: BatchParams, ctx: ReportContext, account_manager_id: str) -> CommissionStatement:
    """The commission statement a report shows, from the engine (once per account manager in a batch).

    ``params.plan``: the plan files; otherwise the flat ``commission:`` policy
    compiled into an engine plan, on the report's credited deals and quotas. Inside a
    batch's shared context the whole statement is kept for the last account manager
    asked (their report, then a ``per: account`` kind's reports of them), and its
    totals for every one (:func:`statement_totals`, what their team's and the company's
    reports read): the same (immutable) statement's figures, without keeping 200
    statements' ``Decimal`` lines to the end of the batch (``docs/batch.md``, "Memory of
    the batch process").

    Parameters
    ----------
    ds : Dataset
    params : BatchParams
    ctx : ReportContext
        The batch's shared context (:func:`reportkit.reports.context.report_context`);
        statements and engine results are kept in it.
    account_manager_id : str

    Returns
    -------
    CommissionStatement
        Decimal lines; its total is the sum of its rounded lines. With a registry of
        closes (params ``close.registry``, set by the batch and ``reportkit statement``),
        one ``prior_period_adjustment`` line per earlier closed period whose payout
        changed on the current data (:func:`reportkit.reports.closes.prior_period_restatements`,
        docs/close.md). When the deals were
        converted from other currencies at load, the description of each line of a deal
        in another currency ends with its conversion in words.

    Raises
    ------
    PlanError
        A plan file named by the params is invalid (:func:`load_checked_plans`).
    """
    last = ctx.engine.get(("statement", "last"))
    if last is not None and last[0] == account_manager_id:
        return last[1]
    stmt = ctx.take_ahead("statement", account_manager_id)
    if stmt is None:
        stmt = _statement(ds, params, ctx, account_manager_id)
    ctx.engine[("statement", "last")] = (account_manager_id, stmt)
    return stmt


def _statement(ds: Dataset, params: BatchParams, ctx: ReportContext, account_manager_id: str) -> CommissionStatement:
    """:func:`commission_statement`'s statement, made; its totals are kept (:func:`statement_totals`)."""
    stmt = _own_statement(ds, params, ctx, account_manager_id)
    restated = []
    if params.close.registry is not None:  # close group (issue #15): restate the closed earlier periods
        restated = prior_period_restatements(
            ds,
            params,
            ctx,
            account_manager_id,
            lambda c: _own_statement(ds, params, c, account_manager_id),
            lambda label, as_of: report_context(ds, params, label, datetime.date.fromisoformat(as_of)),
        )
    ctx.engine[("restatements", account_manager_id)] = restated
    stmt = with_restatements(stmt, restated)
    ctx.engine[("statement totals", account_manager_id)] = stmt.totals()
    return stmt


def statement_totals(ds: Dataset, params: BatchParams, ctx: ReportContext, account_manager_id: str) -> StatementTotals:
    """The totals of :func:`commission_statement` (kept for every account manager in a batch's shared context).

    What a team's and the company's report read of their members' statements: ``total``,
    ``commission`` and ``bonus``, the same figures as the statement's; the statement is
    made when it was not yet, and kept until the account manager's own report asks for it
    (:meth:`ReportContext.keep_ahead`: the company report is built before the last account
    managers' reports).
    """
    key = ("statement totals", account_manager_id)
    if key not in ctx.engine:
        ctx.keep_ahead("statement", account_manager_id, _statement(ds, params, ctx, account_manager_id))
    return ctx.engine[key]


def _own_statement(ds: Dataset, params: BatchParams, ctx: ReportContext, account_manager_id: str) -> CommissionStatement:
    """The period's own statement from the engine (no restatement of closed periods); :func:`commission_statement` keeps it."""
    return _with_conversion(_make_statement(ds, params, ctx, account_manager_id), ds, ctx)


def _with_conversion(stmt: CommissionStatement, ds: Dataset, ctx: ReportContext) -> CommissionStatement:
    """The statement whose lines say how a deal in another currency was converted (fx group).

    The ``description`` of each line of a deal converted at load ends with its
    conversion in words: ``...; converted: 10,000.00 EUR x 1.2866 = 12,866.00 USD (rate
    of 2013-05-21)`` (:func:`reportkit.data.fx.conversion_words`), so every place that
    shows the statement (the report's notebook and workbook, ``reportkit statement``)
    shows original amount, rate and converted amount. Lines without a deal, or of a deal
    already in the reporting currency, are unchanged; so is the statement of a data set
    without an ``fx_rates`` table.
    """
    if not has_fx(ds.deals):
        return stmt
    if "fx" not in ctx.engine:
        ctx.engine["fx"] = DealConversions(ds.deals)
    conv = ctx.engine["fx"](stmt.lines["deal_id"].tolist())
    words = [
        "" if cur is None else conversion_words(cur, orig, rate, conv_amt, ds.currency, basis)
        for cur, orig, rate, conv_amt, basis in conv[
            ["original_currency", "original_amount", "fx_rate", "converted_amount", "fx_rate_basis"]
        ].itertuples(index=False)
    ]
    lines = stmt.lines.copy()
    lines["description"] = pd.Series(
        [d + (f"; converted: {w}" if w else "") for d, w in zip(lines["description"].tolist(), words)],
        index=lines.index,
        dtype="str",
    )
    return dataclasses.replace(stmt, lines=lines)


def _make_statement(ds: Dataset, params: BatchParams, ctx: ReportContext, account_manager_id: str) -> CommissionStatement:
    if params.plan is None:
        if "flat" not in ctx.engine:
            s = ctx.split(ctx.period.kind)
            quotas = s.loc[(s["period"] == ctx.period.label).to_numpy(), ["account_manager_id", "quota_cents"]]
            ctx.engine["flat"] = flat_result(
                ctx.credited, ds.account_managers, params.commission, ctx.period, quotas, until=ctx.cutoff, currency=ds.currency
            )
        return flat_statement(
            ctx.engine["flat"], account_manager_id, ctx.period, params.commission, ctx.credits_of(account_manager_id)
        )
    if "result" not in ctx.engine:
        plans, who = load_checked_plans(ds, params)
        ctx.engine["result"] = plan_result(
            ds, plans, who, ctx.period, ctx.cutoff, ctx.plan_input_quotas, source_mapping=params.resolve(params.source)
        )
    return plan_statement(ctx.engine["result"], account_manager_id, ctx.period)


def load_checked_plans(ds: Dataset, params: BatchParams) -> tuple[Any, Any]:
    """The plans and assignments ``params.plan`` names, checked against the data set.

    The batch calls this before any kernel starts, so a plan whose crediting
    disagrees with the data set's (:func:`reportkit.domain.crediting.check_crediting`) is
    refused once, as bad input (exit 2), instead of failing every report.

    Returns
    -------
    (plans, assignments)
        As :func:`reportkit.config.plans.load_plan_source` returns them; ``(None, None)``
        when the params name no plan (the flat ``commission:`` policy).

    Raises
    ------
    PlanError
        A plan file or assignment file is invalid, or a plan's crediting setting
        disagrees with the source mapping's (the message names both files and keys),
        or a won deal has a deal type the plan's ``crediting.deal_type_factors`` does not
        know and there is no ``default`` (:func:`reportkit.domain.crediting.deal_type_factor_ppm`).
    """
    if params.plan is None:
        return None, None
    plans, who = params_plans(params)
    check_crediting(
        list(plans.values()) if isinstance(plans, dict) else [plans], ds, source_mapping=params.resolve(params.source)
    )
    dt_plan = deal_type_plan(plans)  # dealtype group: a won deal of a type the plan does not know is refused up front
    if dt_plan is not None:
        deal_type_factor_ppm(ds.deals, np.flatnonzero((ds.deals["stage"] == "won").to_numpy()), dt_plan)
    return plans, who


def commission_for(
    ds: Dataset, params: BatchParams, account_manager_id: str, period: str, as_of: datetime.date
) -> CommissionStatement:
    """One account manager's commission statement exactly as their report shows it (``reportkit statement``)."""
    am_id = str(account_manager_id)
    account_manager_row(ds, am_id)  # an unknown id is a ParamsError naming it
    ctx = report_context(ds, params, period, as_of)
    return commission_statement(ds, params, ctx, am_id)


def restatements_for(
    ds: Dataset, params: BatchParams, account_manager_id: str, period: str, as_of: datetime.date
) -> list[Restatement]:
    """The restatements of closed periods on an account manager's statement (:func:`commission_for`'s), for the close record."""
    am_id = str(account_manager_id)
    commission_for(ds, params, am_id, period, as_of)
    return report_context(ds, params, period, as_of).engine[("restatements", am_id)]


def payout_summary(stmt: CommissionStatement) -> dict[str, str]:
    """The summary keys a report adds when the account manager is paid in another currency (fx2 group).

    ``payout_currency`` (ISO code) and ``commission_cash_in_payout_currency``, the cash
    payable converted (:attr:`CommissionStatement.payout_converted`) as text with its
    currency (``'2,951.11 EUR'``), so no reader takes it for an amount in the report's
    currency; every other money figure of the report stays in the reporting currency.
    Empty when paid in the reporting currency (the report is unchanged).
    """
    if stmt.payout_currency is None:
        return {}
    return {
        "payout_currency": stmt.payout_currency,
        "commission_cash_in_payout_currency": f"{stmt.payout_converted:,.2f} {stmt.payout_currency}",
    }


def payout_notes(stmt: CommissionStatement) -> list[str]:
    """One note per pay period saying how the payout was converted (fx2 group); empty otherwise.

    ``'Paid in EUR: FY2013-Q2 payout 3,231.46 USD / 1.095 USD per EUR = 2,951.11 EUR (rate of
    2013-06-28); the statement's lines are in USD.'``
    """
    if stmt.payout_currency is None or stmt.payout_fx is None:
        return []
    return [
        f"Paid in {stmt.payout_currency}: {period} payout {words}; the statement's lines are in {cur}."
        for period, words, cur in stmt.payout_fx[["period", "words", "currency"]].itertuples(index=False)
        if words
    ]


SUMMARY_KEYS = ("rule", "tier", "award")
"""The columns a statement's lines are summarised by: the rule (component and rate in words), the tier, the award."""


def summary_keys(lines: pd.DataFrame) -> list[tuple]:
    """The summary row of each statement line: its :data:`SUMMARY_KEYS` values (missing as None), in line order.

    The key :func:`commission_summary` sums a line under; the report's commission section
    uses it to put each line's trace under its summary row.
    """
    return [tuple(None if pd.isna(k) else k for k in key) for key in lines[list(SUMMARY_KEYS)].itertuples(index=False, name=None)]


def commission_summary(lines: pd.DataFrame, line_keys: list[tuple] | None = None) -> pd.DataFrame:
    """A statement's lines summed by rule, tier and award: what a report shows of a long statement.

    Parameters
    ----------
    lines : DataFrame
        A statement's lines (:data:`reportkit.domain.commission.LINE_COLUMNS`; ``basis`` and
        ``amount`` ``Decimal`` rounded to the cent), e.g. ``report.commission``.
    line_keys : list of tuple, optional
        ``summary_keys(lines)`` when the caller has it already (the report's commission
        section reads it too); default: computed here.

    Returns
    -------
    DataFrame
        One row per rule, tier and award (:data:`SUMMARY_KEYS`), in the order they first
        appear in the statement: ``rule``, ``tier`` (None where the plan has no tiers),
        ``award``, ``lines`` (how many statement lines), ``basis`` and ``amount`` (the exact
        ``Decimal`` sums of those lines' rounded figures). The amounts therefore add up to
        the statement's total, the sum of its rounded lines, to the cent.

    Examples
    --------
    >>> from decimal import Decimal
    >>> lines = pd.DataFrame({"rule": ["at 5 %", "at 5 %", "bonus"], "tier": [None] * 3,
    ...     "award": ["cash"] * 3, "basis": [Decimal("10.00"), Decimal("20.00"), None],
    ...     "amount": [Decimal("0.50"), Decimal("1.00"), Decimal("100.00")]})
    >>> commission_summary(lines)[["rule", "lines", "amount"]].to_dict("list")
    {'rule': ['at 5 %', 'bonus'], 'lines': [2, 1], 'amount': [Decimal('1.50'), Decimal('100.00')]}
    """
    keys = list(SUMMARY_KEYS)
    groups: dict[tuple, list] = {}  # (rule, tier, award) -> [lines, basis, amount], in order of first appearance
    line_keys = summary_keys(lines) if line_keys is None else line_keys
    for key, basis, amount in zip(line_keys, lines["basis"].tolist(), lines["amount"].tolist()):
        group = groups.setdefault(key, [0, None, None])
        group[0] += 1
        if not pd.isna(basis):
            group[1] = basis if group[1] is None else group[1] + basis
        if not pd.isna(amount):
            group[2] = amount if group[2] is None else group[2] + amount
    rows = [(*key, n, basis, amount) for key, (n, basis, amount) in groups.items()]
    return pd.DataFrame(rows, columns=[*keys, "lines", "basis", "amount"], dtype=object).astype({"lines": "int64"})
