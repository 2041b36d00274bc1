"""A trace behind every payout (issue #15 part 4): each statement line followed to what made it.

The engine writes one ledger line per deal it pays on (per tier slice under marginal
tiers, per rate component, per split share) and one line per per-period step (true-up,
measure, multiplier, cap, SPIF, bonus, clawback, adjustment, balance, draw). The trace
of a statement line is the set of rows that made its amount: for a line of a deal, the
deal (id, account, close date, amount), how it was credited (credit source, the
account manager's split share, the credited amount), the tier and rate applied, what
limited it (the period's cap, a gate, the plan's per-deal minimum or maximum) and the
plan (name, file, version); for a per-period line, the rule with the figures it used
(the measure and its value, the cap, the draw ...), in words.

The rule: **a line's amount is the sum of its trace rows' amounts** (each already
rounded to the cent: the engine rounds each line once, half away from zero, and a row
carries the cents the engine booked, never a figure re-derived here). Today every line
has exactly one row; a renderer must still group rows by ``line`` (the workbook's Trace
sheet sums them with a live formula), so a step may later give a line several rows.

Computed on request, per account manager (:meth:`CommissionResult.trace
<reportkit.domain.engine.results.CommissionResult.trace>`): :func:`compute` does no
extra work for it.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from .._credit_core import CREDIT_SOURCES, take_str
from .ledger import _KINDS, _money

TRACE_COLUMNS = [
    "account_manager_id",
    "period",
    "line",
    "kind",
    "deal_id",
    "account_id",
    "close_date",
    "deal_amount",
    "credit_source",
    "share",
    "credited",
    "tier",
    "rate",
    "rule",
    "limited_by",
    "plan",
    "plan_file",
    "plan_version",
    "amount",
]
"""Columns of a trace frame (:func:`trace_frame`), one row per contribution to a statement line.

``line`` is the statement line the row makes (1-based, as the statement numbers it);
``deal_amount``, ``credited`` and ``amount`` are ``Decimal`` money to the cent
(``credited``: the credit the line pays on, after the split share; ``amount``: the cents
the engine booked for the line); ``share`` (``Decimal`` fraction, 1 == 100 %) is the
account manager's share of a split or overlay deal, None on lines without a deal;
``rate`` a ``Decimal`` fraction (None without one); ``rule`` the line in the engine's words
(its statement ``description``: the plan, tier and how it applies; a per-period line's
figures: the measure and its value, the cap, the draw);
``limited_by`` names the cap, gate or per-deal limit that limited the line (``""`` when
none); ``plan_version`` is :func:`plan_version` of the plan in effect. When the deals
were converted from other currencies at load, the statement's
:data:`~reportkit.domain.engine.results.FX_STATEMENT_COLUMNS` follow."""

_COMMISSION_FAMILY = frozenset(_KINDS.index(k) for k in ("commission", "deal_limit", "true_up", "measure", "multiplier"))


def plan_version(plan) -> str:
    """The version of a plan: ``sha256:`` and the first 12 hex digits of its canonical content's SHA-256.

    The canonical content is the validated plan as JSON with sorted keys
    (``plan.model_dump(mode="json")``), so comments, key order and spacing in the YAML
    file do not change the version, while any rule that changes does. A plan built in
    code (the params file's flat ``commission:`` policy) has a version the same way.

    Examples
    --------
    >>> from reportkit.config.plans import Plan
    >>> p = Plan.model_validate({"name": "p", "rates": {"tiers": [{"from": 0, "rate": "0.05"}]}})
    >>> v = plan_version(p)
    >>> v.startswith("sha256:"), len(v), v == plan_version(Plan.model_validate(p.model_dump()))
    (True, 19, True)
    """
    text = json.dumps(plan.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _limits(kinds: list[int], drows: list[int], periods: list[int], rules: list[str], numbers: list[int]) -> list[str]:
    """Per line, what limited it: the period's cap line, the deal's per-deal limit line (``""``: nothing)."""
    cap_line: dict[int, int] = {}
    limit_line: dict[tuple[int, int], int] = {}
    cap, deal_limit = _KINDS.index("cap"), _KINDS.index("deal_limit")
    for i, (k, d, p) in enumerate(zip(kinds, drows, periods)):
        if k == cap:
            cap_line.setdefault(p, i)
        elif k == deal_limit and d >= 0:
            limit_line.setdefault((p, d), i)
    out = []
    for k, d, p in zip(kinds, drows, periods):
        why = []
        if k == _KINDS.index("commission") and (p, d) in limit_line:
            why.append(f"per-deal minimum or maximum (line {numbers[limit_line[(p, d)]]})")
        if k in _COMMISSION_FAMILY and p in cap_line:
            why.append(f"cap (line {numbers[cap_line[p]]}): {rules[cap_line[p]]}")
        out.append("; ".join(why))
    return out


def trace_frame(result, statement: pd.DataFrame, rows: np.ndarray, fx_columns: tuple | list = ()) -> pd.DataFrame:
    """The trace of one account manager's statement (columns :data:`TRACE_COLUMNS`).

    Parameters
    ----------
    result : CommissionResult
        The run the statement comes from.
    statement : DataFrame
        The account manager's statement (:data:`~reportkit.domain.engine.STATEMENT_COLUMNS`),
        in its line order; its ``line`` numbers are used as they are.
    rows : int64 array, shape (len(statement),)
        The ledger row of each statement line, in the statement's order.
    fx_columns : sequence of str
        The statement's columns of deals converted from other currencies, copied to the
        trace when the statement has them (:data:`~reportkit.domain.engine.results.FX_STATEMENT_COLUMNS`).

    Returns
    -------
    DataFrame
        One row per line (today), in line order; each line's ``amount`` is the line's
        amount to the cent, so the rows of a line sum to it exactly.
    """
    L = result._L
    n = len(rows)
    drow = L["drow"][rows].astype(np.int64)
    kinds = L["kind"][rows].astype(np.int64).tolist()
    periods = L["p"][rows].astype(np.int64).tolist()
    code = int(L["am"][rows[0]]) if n else -1
    deals = result._deals
    accounts = take_str(deals["account_id"], drow) if "account_id" in deals.columns else np.full(n, None, object)
    has_deal = drow >= 0
    amount_cents = np.zeros(n, dtype=np.int64)
    if has_deal.any():
        amount_cents[has_deal] = deals["amount_cents"].to_numpy(np.int64)[drow[has_deal]]
    source, share = _credit_of(result, code, drow)
    plans = [result._plan_of(code, p) for p in periods]
    versions: dict[int, tuple[str, str, str]] = {}
    for pl in plans:
        if pl is not None and id(pl) not in versions:
            versions[id(pl)] = (pl.name, Path(pl.source_file).name if pl.source_file else "", plan_version(pl))
    about = [versions.get(id(pl), ("", "", "")) if pl is not None else ("", "", "") for pl in plans]
    # the line in words (the engine statement's description: line_words, never the rule's internal text)
    rules = statement["description"].astype(str).tolist()
    limited = _limits(kinds, drow.tolist(), periods, rules, statement["line"].astype(np.int64).tolist())
    for i, (k, r) in enumerate(zip(kinds, rules)):  # a line below a gate or on undefined attainment
        if k == _KINDS.index("commission") and int(L["rule"][rows[i]]) not in result._rule_schedule:
            limited[i] = "; ".join(x for x in (r, limited[i]) if x)
    out = pd.DataFrame(
        {
            "account_manager_id": statement["account_manager_id"].tolist(),
            "period": statement["period"].tolist(),
            "line": statement["line"].astype(np.int64).to_numpy(),
            "kind": statement["kind"].tolist(),
            "deal_id": pd.Series(statement["deal_id"].tolist(), dtype=object),
            "account_id": pd.Series(accounts.tolist(), dtype=object),
            "close_date": statement["close_date"].tolist(),
            "deal_amount": [_money(c) if h else None for c, h in zip(amount_cents.tolist(), has_deal.tolist())],
            "credit_source": pd.Series(source, dtype=object),
            "share": pd.Series(share, dtype=object),
            "credited": statement["credit"].tolist(),
            "tier": pd.Series(statement["tier"].tolist(), dtype=object),
            "rate": statement["rate"].tolist(),
            "rule": rules,
            "limited_by": limited,
            "plan": [a[0] for a in about],
            "plan_file": [a[1] for a in about],
            "plan_version": [a[2] for a in about],
            "amount": statement["amount"].tolist(),
        },
        columns=TRACE_COLUMNS,
    )
    for c in fx_columns:  # deals converted from another currency (fx group): as on the statement
        if c in statement.columns:
            out[c] = statement[c].tolist()
    return out


def _credit_of(result, code: int, drow: np.ndarray) -> tuple[list, list]:
    """Per line: the credit source (``owner``, ``split``, ``territory`` ...) and the AM's share of the deal.

    From the engine's credit lines of AM ``code`` (the first credit line of the deal: a
    deal credited to the AM twice, e.g. a sale and its cancellation in period, has the
    same source and share on both). ``(None, None)`` on lines without a deal.
    """
    n = len(drow)
    src: list = [None] * n
    share: list = [None] * n
    cr = result._credits
    if code < 0 or not len(cr.drow):
        return src, share
    mine = np.flatnonzero(cr.am == code)
    first: dict[int, int] = {}
    for j, d in zip(mine.tolist(), cr.drow[mine].tolist()):
        first.setdefault(d, j)
    for i, d in enumerate(drow.tolist()):
        j = first.get(d)
        if d >= 0 and j is not None:
            src[i] = CREDIT_SOURCES[int(cr.source[j])]
            share[i] = Decimal(int(cr.share[j])) / 1_000_000
    return src, share
