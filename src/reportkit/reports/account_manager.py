"""The account manager's report: one account manager, one period, as a list of sections.

:func:`build_account_manager_report` reads as its sections: the quarterly table
(with last year's same span), the period and YTD figures, commission, forecast,
performance, accounts and deals, then the notes and the summary.
"""

from __future__ import annotations

import datetime
import math
from typing import Any

import pandas as pd

from ..config.params import BatchParams
from ..core.money import cents_to_money, money_sum
from ..core.periods import data_covers, data_reaches
from ..core.words import in_number
from ..data.model import Dataset
from ..domain.commission import CommissionStatement
from ..domain.crediting import credited_in, revenue_cents
from ..domain.forecast import FORECAST_COLUMNS
from ..domain.performance import current_status
from ..domain.quota import attainment
from .context import ReportContext, report_context
from .objects import AccountManagerReport
from .planning import account_manager_row
from .sections import (
    as_of_notes,
    data_quality_notes,
    elapsed_days,
    forecast_categories_section,
    fraction_or_none,
    members_chosen_forecasts,
    money_or_none,
    next_year_forecast,
    no_deals_note,
    performance_history,
    report_branding,
    to_date_figures,
    to_date_note,
)
from .statements import commission_statement, payout_notes, payout_summary

__all__ = ["build_account_manager_report"]


def build_account_manager_report(
    ds: Dataset,
    account_manager_id: str,
    period: str,
    params: BatchParams,
    as_of: datetime.date,
) -> AccountManagerReport:
    """Build one account manager's report for one period.

    Parameters
    ----------
    ds : Dataset
    account_manager_id : str
    period : str
        Period label (``FY2025-Q4``; a month or year label also works).
    params : BatchParams
        Commission, quota rule and performance policies.
    as_of : date
        Report date. Figures count deals closed up to ``min(as_of, period end)``;
        account status days are counted to ``as_of``.

    Notes
    -----
    A period not over by ``as_of`` (e.g. as of 2025-10-15 in FY2025-Q4) is
    reported *to date* and compared like for like:

    * ``attainment`` stays revenue / the **full** period quota (the standard
      definition); ``quota_to_date`` is that quota prorated by days,
      ``quota * days_elapsed / days_in_period`` rounded to the cent half away
      from zero, and ``pace`` = revenue / ``quota_to_date`` (1.0 == on pace);
    * ``revenue_last_year`` of a quarter not over covers the same span of last
      year's quarter: its first day to the same calendar date one year before
      the cutoff (29 February -> 28 February); ``growth_vs_last_year`` compares
      the two spans;
    * ``revenue_last_year`` is None (shown n/a, not 0.00) when the data set
      does not cover last year's span: its first deal (any stage, any account
      manager) closed after the span's first day
      (:func:`reportkit.core.periods.data_covers`, the rule account status uses too),
      or when that span begins after the data's last deal
      (:func:`reportkit.core.periods.data_reaches`, the performance verdict's rule); a note
      says which; unknown revenue is different from a genuine zero;
    * the summary's ``period_label`` and a note say ``FY2025-Q4 to date (15 of 92 days)``.

    The forecast is the chosen, reconciled one
    (:func:`reportkit.reports.sections.chosen_forecast`: the account manager's row of
    :func:`reportkit.domain.backtest.forecast_hierarchy`, once per batch), with its
    sentence as ``forecast_rule``; the blended forecast of
    :func:`reportkit.domain.forecast.annual_forecasts` (the same figures as
    :func:`reportkit.analysis.api.forecast_table`) and the run rate follow it as rows
    2 and 3 of ``forecast`` for comparison.

    Returns
    -------
    AccountManagerReport
        Frames per the column contract of :mod:`reportkit.reports.objects`; ``summary``
        keys: ``period_label``, ``days_elapsed``, ``days_in_period``,
        ``revenue``, ``quota``, ``attainment``, ``quota_to_date``, ``pace``,
        ``ytd_revenue``, ``ytd_quota``, ``ytd_attainment``, ``commission_total``
        (all awards), ``commission``, ``bonus``, ``commission_cash`` (payable
        now), ``commission_deferred``, ``forecast`` (chosen, reconciled),
        ``forecast_method``, ``forecast_basis``, ``forecast_low``,
        ``forecast_high`` (its 80 % interval; None without a model),
        ``forecast_run_rate``, ``annual_quota``, ``forecast_attainment``,
        ``forecast_rule`` (the sentence; absent before the fiscal year begins), ``performance_status``, ``consecutive_misses``,
        ``deals_count``, ``accounts_count``. Money is ``Decimal`` (None when there
        is no quota), attainment a float fraction or None when undefined.
        Contains only this account manager's data.

    Raises
    ------
    PeriodError
        ``period`` is not a period label.
    ParamsError
        ``account_manager_id`` is not in the data.
    """
    am_id = str(account_manager_id)
    row = account_manager_row(ds, am_id)
    ctx = report_context(ds, params, period, as_of)
    mine = ctx.credits_of(am_id)

    quarterly = _quarterly(ctx, mine, am_id)
    figures = _period_figures(ctx, mine, am_id)
    stmt = commission_statement(ds, params, ctx, am_id)
    blended = ctx.forecasts(ds).loc[am_id]
    chosen = members_chosen_forecasts(ds, ctx, [am_id]).loc[am_id]
    forecast = _forecast_rows(
        pd.Series(
            {
                **chosen.to_dict(),
                "method": chosen["method"],
                "blended_basis": blended["basis"],
                "low_cents": blended["low_cents"],
                "high_cents": blended["high_cents"],
                "annual_quota_cents": blended["annual_quota_cents"],
            }
        )
    )
    performance, standing, performance_notes = _performance(ctx, params, mine, am_id)
    # service issues: only counts per account of this AM reach the report (account_status keeps its
    # own accounts); an issue counts as open at as_of when opened by then and not yet resolved
    accounts = ctx.account_status(ds, am_id)
    deals = _deals(ds, figures["in_period"])
    to_date = to_date_figures(ctx.period, ctx.cutoff, figures["revenue_cents"], figures["quota_cents"])
    next_year, next_notes = next_year_forecast(ds, ctx, params, level="account_manager", entity=am_id, members=[am_id])
    notes = [
        *ctx.quota_notes,
        *performance_notes,
        *_notes(ds, ctx, row, figures, quarterly, deals, accounts, to_date),
        *next_notes,
        *data_quality_notes(ds, ["deals", "accounts", "pipeline", "quotas", "service_issues"]),
    ]
    notes += payout_notes(stmt)  # fx2 group: paid in another currency than the reporting currency
    categories, categories_rule = forecast_categories_section(ds, ctx, [am_id])
    return AccountManagerReport(
        id=am_id,
        name=str(row["name"]),
        team=str(row["team"]),
        sales_manager=str(row["sales_manager"]),
        region=None if pd.isna(row.get("region")) else str(row.get("region")),
        period=ctx.period.label,
        period_start=ctx.period.start,
        period_end=ctx.period.end,
        as_of=as_of,
        currency=ds.currency,
        summary={**_summary(figures, to_date, stmt, forecast, standing, accounts), **_rule(chosen["words"]), **next_year},
        quarterly=quarterly,
        commission=stmt.lines.copy(),  # the statement is shared with the team report: not its frame
        commission_trace=stmt.trace,  # made by the engine, per account manager
        accounts=accounts,
        forecast=forecast.reset_index(drop=True),
        performance=performance,
        deals=deals,
        notes=tuple(notes),
        timezone=params.timezone,
        miss_below=params.performance.miss_below,
        paper=params.pdf.paper,
        orientation=params.pdf.orientation,
        table_rows=params.table_rows,
        branding=report_branding(params),
        forecast_categories=categories,
        forecast_categories_rule=categories_rule,
    )


def _quarterly(ctx: ReportContext, mine: pd.DataFrame, am_id: str) -> pd.DataFrame:
    """This year's quarters up to the period, each with last year's same span (like for like)."""
    quarters = list(ctx.year_quarters)
    att = ctx.attainment([am_id], quarters)
    # like for like: a quarter not over by the cutoff is compared with the same days of last year's quarter
    rev_ly: list[int | None] = []
    for q in quarters:
        lyq = q.same_period_last_year()
        _, ly_end = q.last_year_span(ctx.cutoff)
        if not data_covers(ctx.first_deal, lyq.start) or not data_reaches(ctx.last_deal, lyq.start) or ly_end < lyq.start:
            rev_ly.append(None)  # the data does not reach back (or forward) to it: n/a, not a genuine zero
        else:
            rev_ly.append(revenue_cents(credited_in(mine, lyq.start, ly_end)))
    growth = [(r - b) / abs(b) if b is not None and b > 0 else math.nan for r, b in zip(att["revenue_cents"].to_numpy(), rev_ly)]
    return pd.DataFrame(
        {
            "period": att["period"].astype("str"),
            "period_start": att["period_start"],
            "period_end": att["period_end"],
            "revenue": pd.Series([money_or_none(v) for v in att["revenue_cents"]], dtype="object"),
            "quota": pd.Series([money_or_none(v) for v in att["quota_cents"]], dtype="object"),
            "attainment": att["attainment"].astype("float64"),
            "revenue_last_year": pd.Series([money_or_none(v) for v in rev_ly], dtype="object"),
            "growth_vs_last_year": pd.Series(growth, dtype="float64"),
            "days_elapsed": pd.Series([elapsed_days(q, ctx.cutoff) for q in quarters], dtype="int64"),
            "days_in_period": pd.Series([q.days for q in quarters], dtype="int64"),
        }
    )


def _last_year_na_notes(ctx: ReportContext) -> list[str]:
    """Why ``revenue_last_year`` is n/a: last year's quarters before the data's first deal, or after its last.

    The same two rules as :func:`_quarterly` (:func:`reportkit.core.periods.data_covers`,
    :func:`reportkit.core.periods.data_reaches`); one sentence each.
    """
    last_years = [q.same_period_last_year() for q in ctx.year_quarters]
    after = [ly.label for ly in last_years if ctx.last_deal is not None and not data_reaches(ctx.last_deal, ly.start)]
    notes = []
    if not after or any(not data_covers(ctx.first_deal, ly.start) for ly in last_years):
        since = f" (its first deal closed on {ctx.first_deal.isoformat()})" if ctx.first_deal else ""
        notes.append(f"Revenue last year is n/a where the data set does not reach back to the start of that quarter{since}.")
    if after:
        notes.append(
            f"Revenue last year is n/a for {', '.join(after)}: the data's last deal closed on "
            f"{ctx.last_deal.isoformat()}, before {in_number(len(after), 'that quarter', 'those quarters')} began "
            "(the end of the export, not a genuine zero)."
        )
    return notes


def _period_figures(ctx: ReportContext, mine: pd.DataFrame, am_id: str) -> dict[str, Any]:
    """The period's deals, revenue and quota, and the year to date's (cents; quota None when unset)."""
    p, cutoff = ctx.period, ctx.cutoff
    in_period = credited_in(mine, p.start, cutoff)
    return {
        "in_period": in_period,
        "revenue_cents": revenue_cents(in_period),
        "quota_cents": ctx.quota(am_id, p),
        "ytd_cents": revenue_cents(credited_in(mine, p.year.start, cutoff)),
        "ytd_quota": ctx.ytd_quota(am_id),
    }


def _rule(words: str) -> dict[str, str]:
    """The summary's ``forecast_rule`` (the chosen forecast's sentence), none when there is none."""
    return {"forecast_rule": words} if words else {}


def _forecast_rows(f: pd.Series) -> pd.DataFrame:
    """The AM report's forecast table: the chosen forecast first, then the other methods for comparison.

    ``f`` is one row of :func:`reportkit.sections.members_chosen_forecasts` (cents).
    Row 1 is the chosen, reconciled forecast (the headline, with its 80 % range;
    its ``basis`` starts with *chosen:*); row 2 the blended method (its own range is
    the one :func:`reportkit.domain.forecast.annual_forecasts` gives); row 3 the
    run-rate method (no range of its own: n/a).
    """
    q = None if pd.isna(f["annual_quota_cents"]) else int(f["annual_quota_cents"])
    ytd = int(f["ytd_cents"])
    rows = []
    for method, basis, cents, low, high in (
        (
            str(f["method"]),
            str(f["basis"]),
            int(f["chosen_cents"]),
            money_or_none(f["chosen_low_cents"]),
            money_or_none(f["chosen_high_cents"]),
        ),
        (
            "blended",
            str(f["blended_basis"]),
            int(f["blended_cents"]),
            money_or_none(f["low_cents"]),
            money_or_none(f["high_cents"]),
        ),
        ("run_rate", "run rate (YTD daily pace)", int(f["run_rate_cents"]), None, None),
    ):
        rows.append(
            (
                method,
                basis,
                cents_to_money(ytd),
                cents_to_money(cents - ytd),
                cents_to_money(cents),
                money_or_none(q),
                attainment(cents, q),
                low,
                high,
            )
        )
    # the report's forecast rows: method and basis, then the forecast table's figures
    cols = ["method", "basis", *FORECAST_COLUMNS[FORECAST_COLUMNS.index("ytd_revenue") :]]
    out = pd.DataFrame({c: pd.Series([r[i] for r in rows], dtype="object") for i, c in enumerate(cols)})
    out["method"] = out["method"].astype("str")
    out["basis"] = out["basis"].astype("str")
    out["forecast_attainment"] = out["forecast_attainment"].astype("float64")
    return out


def _performance(
    ctx: ReportContext, params: BatchParams, mine: pd.DataFrame, am_id: str
) -> tuple[pd.DataFrame, tuple[str, int], list[str]]:
    """The last eight quarters' verdicts, the current standing (status, consecutive misses) and the n/a notes."""
    perf_all = performance_history(ctx, params, [am_id])
    standing = current_status(perf_all, params.performance)
    keep = {q.label for q in ctx.history[-8:]}
    performance = perf_all.loc[perf_all["period"].isin(keep).to_numpy()].drop(columns="account_manager_id").reset_index(drop=True)
    notes = [
        f"Performance has no verdict (n/a) for {', '.join(qs)}: {why}, after the start of each; "
        "they count neither as a miss nor as a lift."
        for why, qs in performance.loc[performance["note"].notna().to_numpy()].groupby("note", sort=False)["period"]
    ]
    return performance, standing, notes


def _date(v: Any) -> datetime.date | None:
    return None if v is None or pd.isna(v) else pd.Timestamp(v).date()


def _deals(ds: Dataset, in_period: pd.DataFrame) -> pd.DataFrame:
    """The period's credited deals as the report lists them (the account's name, the credited amount)."""
    names = {}
    if ds.accounts is not None and len(ds.accounts):
        names = dict(zip(ds.accounts["account_id"].astype("str"), ds.accounts["name"].astype("str")))
    deals = pd.DataFrame(
        {
            "deal_id": in_period["deal_id"].astype("str").to_numpy(),
            "account_id": in_period["account_id"].astype("str").to_numpy(),
            "account_name": pd.Series([names.get(a, a) for a in in_period["account_id"]], dtype="str").to_numpy(),
            "close_date": pd.Series([_date(d) for d in in_period["close_date"]], dtype="object").to_numpy(),
            "amount": pd.Series([cents_to_money(c) for c in in_period["credit_cents"]], dtype="object").to_numpy(),
            "stage": in_period["stage"].astype("str").to_numpy(),
            "product": in_period["product"].astype("object").where(in_period["product"].notna(), None).to_numpy(),
        }
    )
    for col in ("deal_id", "account_id", "account_name", "stage"):
        deals[col] = deals[col].astype("str")
    return deals


def _notes(
    ds: Dataset,
    ctx: ReportContext,
    row: pd.Series,
    figures: dict[str, Any],
    quarterly: pd.DataFrame,
    deals: pd.DataFrame,
    accounts: pd.DataFrame,
    to_date: dict[str, Any],
) -> list[str]:
    """What the reader must know to read the figures right: gaps, dates, crediting rules that applied."""
    p, cutoff, as_of = ctx.period, ctx.cutoff, ctx.as_of
    notes: list[str] = []
    if deals.empty:
        notes.append(no_deals_note(p, cutoff, ctx.last_deal))
    if figures["quota_cents"] is None:
        notes.append(f"No quota for {p.label}: attainment is n/a.")
    elif figures["quota_cents"] == 0:
        notes.append(f"Quota for {p.label} is zero: attainment is n/a.")
    notes += as_of_notes(p, as_of)
    if to_date["days_elapsed"] < p.days:
        ly_p = p.same_period_last_year()
        notes += to_date_note(
            p,
            to_date,
            f"; growth vs last year compares with the same days of {ly_p.label} "
            f"({ly_p.start.isoformat()} to {p.last_year_span(cutoff)[1].isoformat()})",
        )
    if quarterly["revenue_last_year"].isna().any():
        notes += _last_year_na_notes(ctx)
    hire, end = _date(row.get("hire_date")), _date(row.get("end_date"))
    if hire is not None and hire > p.end:
        notes.append(f"Hired {hire.isoformat()}, after {p.label}.")
    if end is not None and end < p.end:
        notes.append(f"Left on {end.isoformat()}.")
    if ds.crediting == "territory":
        notes.append(
            "Territory crediting: each deal in your territories credits you in full (an overlay; colleagues may be credited for the same deal); a deal whose territory is blank or covered by nobody credits its owner."
        )
    if accounts["handover_date"].notna().any():
        notes.append("Revenue an account booked before its handover date is not credited (business-development handoff).")
    return notes


def _summary(
    figures: dict[str, Any],
    to_date: dict[str, Any],
    stmt: CommissionStatement,
    forecast: pd.DataFrame,
    standing: tuple[str, int],
    accounts: pd.DataFrame,
) -> dict[str, Any]:
    """The summary keys of the report (see :func:`build_account_manager_report`)."""
    f0, f_rr = forecast.iloc[0], forecast.iloc[-1]
    deferred = money_sum(a for a, w in zip(stmt.lines["amount"], stmt.lines["award"]) if str(w) == "deferred")
    return {
        "period_label": to_date["period_label"],
        "days_elapsed": to_date["days_elapsed"],
        "days_in_period": to_date["days_in_period"],
        "revenue": cents_to_money(figures["revenue_cents"]),
        "quota": money_or_none(figures["quota_cents"]),
        "attainment": fraction_or_none(attainment(figures["revenue_cents"], figures["quota_cents"])),
        "quota_to_date": to_date["quota_to_date"],
        "pace": to_date["pace"],
        "ytd_revenue": cents_to_money(figures["ytd_cents"]),
        "ytd_quota": money_or_none(figures["ytd_quota"]),
        "ytd_attainment": fraction_or_none(attainment(figures["ytd_cents"], figures["ytd_quota"])),
        "commission_total": stmt.total,
        "commission": stmt.commission,
        "bonus": stmt.bonus,
        "commission_cash": stmt.cash_total,
        "commission_deferred": deferred,
        **payout_summary(stmt),  # fx2 group: the payout currency and the cash paid in it (none otherwise)
        "forecast": f0["forecast"],
        "forecast_method": str(f0["method"]),
        "forecast_basis": str(f0["basis"]),
        "forecast_low": f0["low"],
        "forecast_high": f0["high"],
        "forecast_run_rate": f_rr["forecast"],
        "annual_quota": f0["annual_quota"],
        "forecast_attainment": fraction_or_none(float(f0["forecast_attainment"])),
        "performance_status": standing[0],
        "consecutive_misses": standing[1],
        "deals_count": int(figures["in_period"]["deal_id"].nunique()),
        "accounts_count": len(accounts),
    }
