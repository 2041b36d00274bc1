"""Incentive-compensation engine: quotas per plan, rate schedules, ledger, statements.

It pays on the credit lines of the crediting core (:mod:`reportkit.domain.crediting`,
whose public names :func:`credit_deals`, :func:`credit_codes`,
:func:`check_crediting` and :data:`CREDIT_SOURCES` are re-exported here) and
splits quotas by :mod:`reportkit.domain.quota`.

Every commission figure of the reports comes from here: plan files, or the params
file's flat ``commission:`` policy compiled into a plan
(:func:`reportkit.domain.commission.flat_plan`). Every statement line is traceable to a
rule of a :class:`~reportkit.config.plans.Plan`.

Design (why it is fast and exact)
---------------------------------
All arithmetic runs vectorised on ``int64`` **cents**; rates and attainment
bounds are exact integers in parts per million (``0.08`` -> ``80000``). A line's
amount is ``credit_cents x rate_ppm / 1e6`` rounded **half away from zero** to
the cent in integer arithmetic (:func:`reportkit.core.money.rdiv`), which equals
``money.round_money(Decimal(credit) * rate)`` exactly. Per-(AM, period) totals
are sums of rounded lines (architecture.md, "A statement total is the sum of its
rounded lines"). Per-(AM, period) *credited revenue* (attainment, bonuses, the
summary's ``credit_cents``) is the exact sum of the credits' micros rounded once
(:func:`reportkit.core.money.micros_to_cents`), the figure the reports show. ``Decimal`` values are only materialised when a statement is
requested (:meth:`CommissionResult.statement`).

Order of a pay period's ledger (each step one or more statement lines)
--------------------------------------------------------------------------
1. ``commission``: credited deals through the rate schedule (one line per deal,
   or per tier slice of a deal under marginal tiers); ``deal_limit``: a deal's
   commission lifted to the plan's per-deal minimum or cut to its maximum;
   ``true_up`` for YTD plans; ``measure``: a weighted measure's share of the target
   incentive; ``multiplier``: the period's commission multiplied by another measure.
2. ``cap_carry_in`` / ``cap``: carried excess paid, excess above the cap removed.
3. ``spif``: SPIF lines (outside the cap).
4. ``bonus``: attainment bonuses (cash payable now; non-cash or deferred recorded
   with a payout date, ``payable=False``).
5. ``clawback`` / ``prior_period_adjustment``: deals paid in an earlier period and
   cancelled in this one (per ``plan.clawback.method``; a ``negative_deal`` plan books
   them as negative credits in step 1 instead).
6. ``adjustment``: manual adjustments.
7. ``balance_in``: a negative balance carried from the previous period.
8. ``draw`` / ``draw_recovery``: draw top-up or recovery of a recoverable draw.
9. ``balance_out``: a negative net carried forward (this period pays 0), unless
   the plan has ``carry_negative: false``.

The payout of a period is the sum of its ``payable`` lines.

Where each step lives (:func:`compute` calls them in this order)
-------------------------------------------------------------------
* inputs (plans agree, pay periods, plan per AM and period, exact cents of side
  tables): :mod:`~reportkit.domain.engine.inputs`
* 1. credit deals, in ledger order, and the split mode (a ``split_payout`` plan's
  whole-deal basis): :mod:`~reportkit.domain.engine.credits`
  (cancellations in the deal's own period: :mod:`~reportkit.domain.engine.clawbacks`)
* 2-3. quotas per plan, attainment: :mod:`~reportkit.domain.engine.quotas`
* 4. tiers and gates (``commission``, ``true_up``) and the undefined-attainment
  policy: :mod:`~reportkit.domain.engine.tiers`; per-deal limits (``deal_limit``):
  :mod:`~reportkit.domain.engine.caps`; SPIFs: :mod:`~reportkit.domain.engine.bonuses`;
  weighted measures and conditional multipliers (``measure``, ``multiplier``, before
  the cap): :mod:`~reportkit.domain.engine.measures`
* 5. clawbacks: :mod:`~reportkit.domain.engine.clawbacks`; adjustments:
  :mod:`~reportkit.domain.engine.adjustments`
* 6. per pay period: caps and the target incentive they and bonuses may be
  multiples of (:mod:`~reportkit.domain.engine.caps`), bonuses
  (:mod:`~reportkit.domain.engine.bonuses`), balances and draws down to the payout
  (:mod:`~reportkit.domain.engine.draws`)
* the ledger's lines and order: :mod:`~reportkit.domain.engine.ledger`; statements,
  summary, CSV: :mod:`~reportkit.domain.engine.results`; the trace behind each line
  (deals, credit share, tier, rate, cap or gate, plan version; issue #15 part 4):
  :mod:`~reportkit.domain.engine.trace`

This module is the façade: every name callers import from ``reportkit.domain.engine``
(:func:`compute`, :func:`statements`, :class:`CommissionResult`,
:data:`STATEMENT_COLUMNS`, :func:`quota_table`, :func:`tier_commission`,
:func:`team_totals`, ...) is here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from ...config.plans import Plan, PlanAssignments, deal_type_plan
from ...core.money import rdiv
from ...core.periods import Period
from ...data.model import Dataset
from .._credit_core import CREDIT_SOURCES, Ids, check_crediting, credit_codes, credit_deals, splits_of_deals
from .adjustments import adjustment_lines
from .bonuses import bonus_awards, spif_lines
from .caps import apply_caps, deal_limit_lines, period_target_incentive, uses_target_incentive
from .clawbacks import cancel_credits, clawback_lines, restatement_lines
from .credits import credit_lines, credited_micros, in_ledger_order, payout_split, split_mode, team_totals
from .draws import settle_draws
from .inputs import check_plans, pay_periods, plans_per_period
from .ledger import Ledger
from .measures import measure_step, uses_measures
from .quotas import attainment, quota_table, quotas_per_plan, quotas_shown
from .results import (
    FX_STATEMENT_COLUMNS,
    STATEMENT_COLUMNS,
    STEP_WORDS,
    CommissionResult,
    Statements,
    percent_words,
    rule_words,
    split_words,
    summary_frame,
    with_payout_currency,
    write_statement_csv,
)
from .tiers import check_undefined_attainment, commission_lines, tier_commission
from .trace import TRACE_COLUMNS, plan_version

__all__ = [
    "rdiv",
    "credit_deals",
    "check_crediting",
    "credit_codes",
    "CREDIT_SOURCES",
    "team_totals",
    "quota_table",
    "quotas_shown",
    "tier_commission",
    "compute",
    "CommissionResult",
    "Statements",
    "statements",
    "write_statement_csv",
    "STATEMENT_COLUMNS",
    "FX_STATEMENT_COLUMNS",
    "rule_words",
    "percent_words",
    "STEP_WORDS",
    "split_words",
    "TRACE_COLUMNS",
    "plan_version",
]


def compute(
    ds: Dataset,
    plans: Plan | Mapping[str, Plan],
    period: str,
    *,
    assignments: PlanAssignments | None = None,
    splits: pd.DataFrame | None = None,
    cancellations: pd.DataFrame | None = None,
    adjustments: pd.DataFrame | None = None,
    leaves: pd.DataFrame | None = None,
    since: str | None = None,
    source_mapping: str | Path | None = None,
) -> CommissionResult:
    """Run the engine for every AM over the pay periods from ``since`` to ``period``.

    Parameters
    ----------
    ds : Dataset
        Canonical tables (deals, quotas, account_managers; accounts for handoff,
        territories for territory crediting).
    plans : Plan or mapping name -> Plan
        One plan for everybody, or several selected per AM and pay period by
        ``assignments`` (the plan in effect on the period's last day).
    period : str
        Last pay period (``FY2025-Q3``) or a fiscal year (``FY2025``: through its last period).
    assignments : PlanAssignments, optional
        Required when ``plans`` is a mapping with more than one plan.
    splits : DataFrame, optional
        ``deal_id, account_manager_id, share, kind`` (see :func:`credit_deals`);
        default the data set's own ``ds.splits`` (rows of deals in ``ds.deals``). The
        plans' ``splits.mode`` says how a shared deal is paid (credit first, or the
        whole deal's payout shared: :func:`~reportkit.domain.engine.credits.payout_split`).
    cancellations : DataFrame, optional
        ``deal_id, cancel_date, amount_cents`` (magnitude cancelled in integer
        cents, read exactly: never through a float or truncated; NA = whole deal).
        In the deal's own period it is a negative credit; in a later period a
        clawback per ``plan.clawback``.
    adjustments : DataFrame, optional
        ``account_manager_id, period, amount_cents, reason`` manual adjustments
        (integer cents); each must name an account manager of ``ds`` and a pay
        period of this run.
    leaves : DataFrame, optional
        ``account_manager_id, start, end`` leaves of absence (quota proration).
    since : str, optional
        First pay period of the ledger; default the first period of ``period``'s
        fiscal year. Draws run from here; a plan with YTD tiers, a
        yearly cap or a yearly bonus reaches back to the first period of
        ``since``'s fiscal year by itself (:func:`~reportkit.domain.engine.inputs.year_to_date`).
    source_mapping : str or Path, optional
        The mapping file ``ds`` came from, named when a plan's crediting
        disagrees with the data set's (:func:`check_crediting`).

    A plan with ``measures`` or ``multipliers`` reads measures other than revenue from
    ``ds.measures`` (:mod:`~reportkit.domain.engine.measures`).

    Returns
    -------
    CommissionResult

    Raises
    ------
    PlanError
        Plans disagree on pay period or on ``splits.mode``; a plan's crediting disagrees with the data
        set's (:func:`check_crediting`); currency mismatch; missing assignments;
        a plan with ``undefined_attainment: refuse`` meets a zero quota; plans give different
        ``crediting.deal_type_factors``, or a won deal's type is not in them and there is no
        ``default`` (:func:`reportkit.domain.crediting.deal_type_factor_ppm`).
    PeriodError
        Bad period label.
    DataError
        Bad splits, negative quotas, amounts beyond the exact-integer range;
        cancellation or adjustment amounts that are not whole cents; adjustments
        naming an unknown account manager or a pay period outside the run (each
        problem with file or frame, row, column, value and the fix); a measure value a
        plan needs missing for an account manager and period (naming both and the measure).
    """
    # inputs: the plans agree; the pay periods; who is on which plan
    plan_list, names, kind, method, handoff = check_plans(plans, ds, assignments, source_mapping)
    span = pay_periods(ds.calendar, kind, period, since, plan_list)
    ams_df = ds.account_managers.reset_index(drop=True)
    ams = ams_df["account_manager_id"].astype(str).to_numpy(dtype=object)
    ids = Ids(ams)
    am_code = {a: i for i, a in enumerate(ams.tolist())}
    choice = plans_per_period(plan_list, names, assignments, am_code, span)
    A, P = len(ams), span.n
    deals = ds.deals.reset_index(drop=True)
    # the pay periods asked for (``period``; the earlier ones feed balances and year-to-date figures)
    asked_from = Period.parse(period, ds.calendar).start
    asked = np.array([p.end >= asked_from for p in span.periods], dtype=bool)

    # 1. credit deals (cancellations in the deal's own period are negative credits), in ledger order;
    # the data set's own splits table unless the caller passes one
    deal_types = deal_type_plan(plan_list)  # crediting factors by deal type, one rule per run (dealtype group)
    mode = split_mode(choice)
    if splits is None:
        splits = splits_of_deals(ds.splits, deals)
    cr, excluded = credit_lines(ds, deals, ids, splits=splits, method=method, handoff=handoff, deal_types=deal_types)
    cr, claw = cancel_credits(cr, cancellations, deals, span, choice)
    lines = in_ledger_order(cr, deals, span, choice, len(ids.strings()), positions=mode == "split_payout")
    # 2. quotas per plan; 3. attainment (credited revenue against quota, period and YTD)
    Q, quotas_out = quotas_per_plan(ams_df, ds.quotas, choice, span, leaves)
    att = attainment(Q, credited_micros(lines, A, P), span.year_start)
    # target incentive per AM and pay period, prorated like quota: pay curves (of_ti), caps, bonuses
    ti = ti_ytd = None
    if any(uses_target_incentive(p) or p.measures for p in plan_list):
        ti, ti_ytd = period_target_incentive(choice, span, quotas_out, ams)
    tis = None if ti is None else (ti, ti_ytd)
    # splits.mode split_payout: the rate schedules measure each split deal whole (quota credit stays the share)
    payout = payout_split(lines, len(deals), excluded, splits) if mode == "split_payout" else None
    if payout is not None:
        payout = replace(payout, att=attainment(Q, credited_micros(payout.lines, A, P), span.year_start))

    # 4. tiers: each plan's rate schedule over its credit lines, then its SPIFs
    ledger = Ledger()
    comm_ap = np.zeros((A, P), dtype=np.int64)
    rate_ap = np.zeros((A, P), dtype=np.int64)  # the rate schedules' part of comm_ap (what restate re-runs)
    spif_ap = np.zeros((A, P), dtype=np.int64)
    paid = []  # (line rows, amounts) of commission lines, for clawbacks at the rate paid
    for g in range(len(plan_list)):
        check_undefined_attainment(g, lines, choice, att, span, ams, asked)
        comm_g, paid_g = commission_lines(g, lines, choice, att, span, ledger, tis, payout)
        # per-deal minimum / maximum commission: lines after the deal's, paid as commission
        lim_g, paid_lim = deal_limit_lines(g, lines, paid_g, choice, ledger, A, P)
        rate_ap += comm_g
        comm_ap += comm_g + lim_g
        paid += paid_g + paid_lim
        spif_ap += spif_lines(g, lines, choice, deals, A, P, ledger)
    # 5. clawbacks of deals cancelled in a later period; manual adjustments
    claw_ap = clawback_lines(claw, lines, paid, len(ids.strings()), choice, span, ledger)
    # clawback.method restate: the origin period re-run without the cancelled credit
    rerun = partial(_rate_schedule, deals=deals, span=span, choice=choice, n_codes=len(ids.strings()), Q=Q, ti=tis)
    claw_ap += restatement_lines(claw, lines.cr, rate_ap, rerun, choice, span, ledger, deals)
    adj_ap = adjustment_lines(adjustments, am_code, span.labels, ledger)

    # 6. per pay period: caps, bonuses (either may be a multiple of the target incentive,
    # prorated like quota), then draws and balances down to the payout
    # measures group (issue #13 items 13, 14): weighted measures, then conditional multipliers of
    # the period's commission; both are commission, so the cap applies after them
    if any(uses_measures(p) for p in plan_list):
        meas = measure_step(choice, att, span, ti, comm_ap, ds, lines, quotas_out, ams, ledger)
        comm_ap = comm_ap + meas.measure + meas.multiplier
    capped = apply_caps(comm_ap, choice, span, ti, ti_ytd)
    bonus = bonus_awards(choice, att, span, ti, ti_ytd)
    settled = settle_draws(capped.pay + spif_ap + bonus.cash + claw_ap + adj_ap, choice, span)
    ledger.add_period_lines([e for j in range(P) for e in capped.entries[j] + bonus.entries[j] + settled.entries[j]])

    summary = summary_frame(
        ams,
        span.labels,
        names,
        choice.pidx,
        {
            "commission_cents": comm_ap,
            "cap_cents": capped.cap,
            "spif_cents": spif_ap,
            "bonus_cash_cents": bonus.cash,
            "deferred_cents": bonus.deferred,
            "clawback_cents": claw_ap,
            "adjustment_cents": adj_ap,
            "draw_cents": settled.draw,
            "draw_recovery_cents": settled.recovery,
            "payout_cents": settled.payout,
            "draw_balance_cents": settled.balance,
        },
        att,
    )
    summary = with_payout_currency(summary, ds, choice, span, settled.payout, asked)  # fx2: each payout converted once
    return CommissionResult(
        ams,
        span.periods,
        ledger.finish(),
        ledger.rules,
        summary,
        lines.cr,
        ids.strings(),
        deals,
        quotas_out,
        excluded,
        choice,
        rule_schedule=ledger.rule_schedule,
    )


def _rate_schedule(cr, deals, span, choice, n_codes: int, Q, ti=None) -> np.ndarray:
    """Rate-schedule commission (A, P) of the run's plans on credit lines ``cr`` (steps 1-4 again, no lines kept).

    The ``rerun`` of :func:`~reportkit.domain.engine.clawbacks.restatement_lines`: the same
    ledger order, attainment and tier step as :func:`compute`, on a scratch ledger.
    """
    A, P = choice.pidx.shape
    lines = in_ledger_order(cr, deals, span, choice, n_codes)
    att = attainment(Q, credited_micros(lines, A, P), span.year_start)
    scratch, total = Ledger(), np.zeros((A, P), dtype=np.int64)
    for g in range(len(choice.plans)):
        total += commission_lines(g, lines, choice, att, span, scratch, ti)[0]
    return total


def statements(
    ds: Dataset,
    plans: Plan | Mapping[str, Plan],
    period: str,
    **kwargs,
) -> Statements:
    """Per-AM commission statements for ``period`` (the library face of ``reportkit statement``).

    Runs :func:`compute` (keyword arguments as there) and returns a lazy mapping
    ``account_manager_id -> DataFrame`` with :data:`STATEMENT_COLUMNS`: every line
    with deal, credit, tier, rate, rule and amount (``Decimal`` 0.01, rounded half
    away from zero per line). When ``period`` is a pay period the statement holds
    that period's lines; for a fiscal year, all its periods. The statement's
    payout is the sum of its ``payable`` lines. The underlying
    :class:`CommissionResult` is ``.result``.
    """
    res = compute(ds, plans, period, **kwargs)
    p = Period.parse(period, ds.calendar)
    return Statements(res, p.label if p.kind == res.periods[-1].kind else None)
