"""The company report: every team of a batch as one company, one period, as a list of sections.

:func:`build_company_report` builds the batch's team reports (the same objects the
team reports show) and rolls them up by the company rules of
:mod:`reportkit.reports.company` (:func:`build_company_rollup`: each deal once,
pooled attainment), then adds what only the company view shows: the attainment
distribution across every account manager, forecast accuracy of earlier quarters,
pipeline coverage, win rate / deal size / sales cycle against last year, account
health (concentration, retention, accounts at risk) and commission expense by team
and component. Every rule is a domain function; this module only picks the members,
spans and rows.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from ..config.params import BatchParams
from ..core.errors import ParamsError
from ..core.money import cents_to_money, to_cents
from ..core.periods import data_covers, one_year_earlier
from ..data.model import Dataset
from ..domain.accounts import RETENTION_RULE, revenue_retention, top_account_shares
from ..domain.commission import commission_expense, expense_share_of_revenue
from ..domain.crediting import group_credits
from ..domain.deal_metrics import closed_deal_metrics
from ..domain.forecast_inputs import COMPANY, pipeline_coverage
from .company import build_company_rollup
from .context import ReportContext, report_context
from .objects import CompanyReport, TeamReport
from .planning import COMPANY_ID, reported_teams
from .sections import as_of_notes, fraction_or_none, money_or_none, next_year_forecast, report_branding
from .statements import statement_totals
from .team import _distribution, _quarterly, build_team_report

__all__ = ["AT_RISK_REASONS", "COMPANY_PIPELINE_RULE", "COMPANY_COMMISSION_RULE", "build_company_report"]

COMPANY_PIPELINE_RULE = (
    "Pipeline coverage = open pipeline that can still close this fiscal year (expected after the report date "
    "and by year end, or undated) divided by the quota still to close (annual quota minus credited revenue so "
    "far, the attainment basis). Weighted pipeline counts each opportunity at its probability. The coverage the "
    "win rate implies is 1 / the year-to-date win rate: the pipeline needed if opportunities convert as closed "
    "deals have."
)
"""The company report's note stating the pipeline coverage rule (:func:`reportkit.domain.forecast_inputs.pipeline_coverage`)."""

COMPANY_COMMISSION_RULE = (
    "Commission expense is the sum of every account manager's commission statement total (each the sum of its "
    "rounded lines), by team and component; its share of revenue divides it by the company's revenue of the "
    "period (each deal once)."
)
"""The company report's note stating how commission expense adds up (:func:`reportkit.domain.commission.commission_expense`)."""

#: An at-risk account's rule (``status_rule`` of :func:`reportkit.domain.accounts.account_status`) in words.
AT_RISK_REASONS = {
    "drop": "Revenue fell sharply vs the same period last year",
    "silent": "No order for a long time",
    "escalation": "Open service escalation",
}

_TEAM_KEYS = (
    "members",
    "revenue",
    "credited_revenue",
    "quota",
    "attainment",
    "ytd_revenue",
    "ytd_credited_revenue",
    "ytd_quota",
    "ytd_attainment",
    "commission_expense",
    "forecast",
    "credited_forecast",
    "annual_quota",
    "forecast_attainment",
    "on_watch",
)


def build_company_report(
    ds: Dataset,
    company: str,
    period: str,
    params: BatchParams,
    as_of: datetime.date,
) -> CompanyReport:
    """Build the company report of a batch: its teams as one company, for one period.

    The teams are those the batch reports on
    (:func:`reportkit.reports.planning.reported_teams`); each is built as its
    team report (:func:`reportkit.reports.team.build_team_report`) and the company
    figures are their roll-up (:func:`reportkit.reports.company.build_company_rollup`):
    company revenue counts each deal once, company quota is the sum of the
    account managers' quotas, attainment is pooled, commission expense is the sum
    of the account managers' statement totals to the cent.

    Parameters
    ----------
    ds : Dataset
    company : str
        :data:`reportkit.reports.planning.COMPANY_ID` (``"company"``): one company report per batch.
    period : str
        Fiscal period label.
    params : BatchParams
        ``name`` names the company.
    as_of : date

    Returns
    -------
    CompanyReport
        Frames per the column contract of :mod:`reportkit.reports.objects`.
        ``summary`` keys: those of :func:`build_company_rollup` (``revenue``,
        ``quota``, ``attainment``, ``forecast`` ...) plus ``period_label``,
        ``teams``, ``win_rate``, ``last_year_win_rate``, ``average_deal``,
        ``last_year_average_deal``, ``sales_cycle_days``,
        ``last_year_sales_cycle_days``, ``pipeline``, ``weighted_pipeline``,
        ``quota_to_close``, ``pipeline_coverage``, ``weighted_pipeline_coverage``,
        ``implied_coverage``, ``top_1_share``, ``top_5_share``, ``top_10_share``,
        ``grr``, ``nrr``, ``at_risk_accounts``, ``attainment_basis_differs`` (as the team report's), ``commission_expense_commission`` /
        ``_bonus`` / ``_other`` (its components), ``commission_share_of_revenue``; once the
        fiscal year is over, next year's forecast (``next_year`` ...:
        :func:`reportkit.reports.sections.next_year_forecast`).
        Money ``Decimal``, fractions float (None when undefined), days float.

    Raises
    ------
    ParamsError
        ``company`` is not ``"company"``, or the batch reports on no team.
    """
    if str(company) != COMPANY_ID:
        raise ParamsError(f"company report id {company!r} is not {COMPANY_ID!r}", hint=f"use {COMPANY_ID!r}: one per batch")
    ctx = report_context(ds, params, period, as_of)
    p = ctx.period
    teams = reported_teams(ds, params, p)
    if not teams:
        raise ParamsError(f"no team has an account manager active in {p.label}: there is no company to report on")
    # the batch's own team report objects when it built them in this context, else built here the same way
    team_reports = [ctx.engine.get(("team_report", t)) or build_team_report(ds, t, p.label, params, as_of) for t in teams]
    rollup = build_company_rollup(ds, team_reports, p.label, params, as_of)
    members = sorted({str(a) for t in team_reports for a in t.leaderboard["account_manager_id"]})
    credited = group_credits(ctx.credited, members)  # the columns the quarters read, not a copy of all 14
    ams = _account_managers(team_reports)
    sales, sales_notes = _sales_metrics(ds, ctx, members)
    pipe = pipeline_coverage(
        ds.pipeline,
        members,
        ctx.cutoff,
        p.year.end,
        None if rollup["annual_quota"] is None else to_cents(rollup["annual_quota"]),
        to_cents(rollup["ytd_credited_revenue"] or Decimal(0)),
        None if pd.isna(sales.iloc[2]["win_rate"]) else float(sales.iloc[2]["win_rate"]),  # the year to date's
    )
    top = top_account_shares(ctx.credited, members, p.year.start, ctx.cutoff)
    retention, retention_note = _retention(ctx, members)
    at_risk, at_risk_reasons = _at_risk(ds, ctx, team_reports)
    expense, company_expense = _commission_expense(ds, params, ctx, team_reports)
    next_year, next_notes = next_year_forecast(ds, ctx, params, level="company", entity=COMPANY, members=members)
    notes = [
        *rollup["notes"],
        *ctx.quota_notes,
        COMPANY_PIPELINE_RULE,
        RETENTION_RULE,
        COMPANY_COMMISSION_RULE,
        *([retention_note] if retention_note else []),
        *sales_notes,
        *next_notes,
        *(["The fiscal year is over by the report date: no quota is left to close in it."] if ctx.cutoff >= p.year.end else []),
        *as_of_notes(p, as_of),
    ]
    quarterly = _quarterly(ctx, credited, members)
    summary = {
        "period_label": team_reports[0].summary["period_label"],
        "teams": len(team_reports),
        **{k: v for k, v in rollup.items() if k not in ("team", "notes")},
        "attainment_basis_differs": _basis_differs(rollup, quarterly),
        **_sales_summary(sales),
        **_pipeline_summary(pipe),
        **{f"top_{int(r.top)}_share": fraction_or_none(float(r.share)) for r in top.itertuples(index=False)},
        "grr": retention["grr"] if retention else None,
        "nrr": retention["nrr"] if retention else None,
        "at_risk_accounts": len(at_risk),
        **{f"commission_expense_{k}": v for k, v in company_expense.items() if k != "total"},
        "commission_share_of_revenue": expense_share_of_revenue(rollup["commission_expense"], rollup["revenue"]),
        **next_year,
    }
    return CompanyReport(
        id=COMPANY_ID,
        name=str(params.name),
        period=p.label,
        period_start=p.start,
        period_end=p.end,
        as_of=as_of,
        currency=ds.currency,
        summary=summary,
        teams=_teams(team_reports),
        quarterly=quarterly,
        account_managers=ams,
        attainment_distribution=_distribution(ams["attainment"]),
        performance_watch=_with_team(team_reports, "performance_watch"),
        forecast=_forecast(team_reports, rollup),
        forecast_accuracy=ctx.forecast_accuracy(ds, as_of).drop(columns=["entity"]),
        pipeline=_pipeline_frame(pipe),
        sales_metrics=sales,
        top_accounts=top,
        at_risk=at_risk,
        at_risk_reasons=at_risk_reasons,
        commission_expense=expense,
        notes=tuple(dict.fromkeys(notes)),
        timezone=params.timezone,
        miss_below=params.performance.miss_below,
        paper=params.pdf.paper,
        orientation=params.pdf.orientation,
        branding=report_branding(params),  # the same look as the team and account-manager reports
    )


def _basis_differs(rollup: dict[str, Any], quarterly: pd.DataFrame) -> bool:
    """Some company figure set against quota (attainment basis) differs from its sales figure (each deal once)."""
    pairs = [(rollup[a], rollup[b]) for a, b in (("revenue", "credited_revenue"), ("ytd_revenue", "ytd_credited_revenue"))]
    pairs += [(rollup["forecast"], rollup["credited_forecast"])]
    pairs += list(zip(quarterly["revenue"], quarterly["credited_revenue"]))
    return any(basis is not None and basis != sales for sales, basis in pairs)


def _with_team(team_reports: list[TeamReport], attr: str) -> pd.DataFrame:
    """A frame of every team report (``attr``), with a leading ``team`` column."""
    frames = [getattr(t, attr).assign(team=t.name) for t in team_reports]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    out["team"] = out["team"].astype("str")
    return out[["team", *[c for c in out.columns if c != "team"]]]


def _teams(team_reports: list[TeamReport]) -> pd.DataFrame:
    """One row per team: the team report's own summary figures."""
    rows = {"team": [t.name for t in team_reports], "sales_manager": [t.sales_manager for t in team_reports]}
    for k in _TEAM_KEYS:
        rows[k] = [t.summary.get(k) for t in team_reports]
    frame = pd.DataFrame({k: pd.Series(v, dtype="object") for k, v in rows.items()})
    for k in ("team", "sales_manager"):
        frame[k] = frame[k].astype("str")
    for k in ("members", "on_watch"):
        frame[k] = frame[k].astype("int64")
    for k in ("attainment", "ytd_attainment", "forecast_attainment"):
        frame[k] = pd.to_numeric(frame[k], errors="coerce").astype("float64")
    return frame


def _account_managers(team_reports: list[TeamReport]) -> pd.DataFrame:
    """Every account manager's row of their team's leaderboard, ranked by attainment (n/a last), then revenue, then id."""
    lb = _with_team(team_reports, "leaderboard").drop(columns=["rank", "forecast"])
    order = lb.assign(_a=lb["attainment"].fillna(-float("inf")), _r=[float(x) for x in lb["revenue"]])
    order = order.sort_values(["_a", "_r", "account_manager_id"], ascending=[False, False, True], kind="stable")
    return lb.loc[order.index].reset_index(drop=True)


def _forecast(team_reports: list[TeamReport], rollup: dict[str, Any]) -> pd.DataFrame:
    """Annual forecast vs annual quota with its range: each team, then the company total."""
    keys = (
        "ytd_revenue",
        "forecast",
        "forecast_low",
        "forecast_high",
        "credited_forecast",
        "annual_quota",
        "forecast_attainment",
    )
    rows = [(t.name, *(t.summary.get(k) for k in keys)) for t in team_reports]
    rows.append(("Company total", *(rollup.get(k) for k in keys)))
    cols = ("team", "ytd_revenue", "forecast", "low", "high", "credited_forecast", "annual_quota", "forecast_attainment")
    frame = pd.DataFrame({c: pd.Series([r[i] for r in rows], dtype="object") for i, c in enumerate(cols)})
    frame["team"] = frame["team"].astype("str")
    frame["forecast_attainment"] = pd.to_numeric(frame["forecast_attainment"], errors="coerce").astype("float64")
    return frame


def _spans(ctx: ReportContext) -> list[tuple[str, datetime.date, datetime.date]]:
    """This period, the same period last year, the year to date and the same span last year (cut at the cutoff)."""
    p, cutoff = ctx.period, ctx.cutoff
    ly_start, ly_end = p.last_year_span(cutoff)
    ly_year_end = one_year_earlier(cutoff)
    over = cutoff >= p.year.end
    return [
        (p.label, p.start, cutoff),
        (p.same_period_last_year().label, ly_start, ly_end),
        (p.year.label if over else f"{p.year.label} to {cutoff.isoformat()}", p.year.start, cutoff),
        (
            p.year.same_period_last_year().label
            if over
            else f"{p.year.same_period_last_year().label} to {ly_year_end.isoformat()}",
            one_year_earlier(p.year.start),
            ly_year_end,
        ),
    ]


def _sales_metrics(ds: Dataset, ctx: ReportContext, members: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Win rate, average won deal and sales cycle per span of :func:`_spans`, and what they cannot say.

    A span the data does not cover from its first day (:func:`reportkit.core.periods.data_covers`)
    is n/a; without a created date the sales cycle is n/a
    (:data:`reportkit.domain.deal_metrics.NO_CREATED_DATE`).
    """
    rows, uncovered, cycle_note = [], [], None
    for label, start, end in _spans(ctx):
        m = closed_deal_metrics(ds.deals, start, end, members) if data_covers(ctx.first_deal, start) else None
        if m is None:
            uncovered.append(label)
        else:
            cycle_note = cycle_note or m["cycle_note"]
        rows.append(
            {
                "span": label,
                "start": start,
                "end": end,
                "won": None if m is None else m["won"],
                "lost": None if m is None else m["lost"],
                "win_rate": None if m is None else m["win_rate"],
                "average_won_deal": None if m is None else money_or_none(m["average_won_deal_cents"]),
                "sales_cycle_days": None if m is None else m["cycle_days"],
            }
        )
    frame = pd.DataFrame(rows)
    frame["span"] = frame["span"].astype("str")
    for c in ("win_rate", "sales_cycle_days"):
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype("float64")
    for c in ("won", "lost", "average_won_deal"):
        frame[c] = frame[c].astype("object")
    notes = [f"Sales cycle: n/a, {cycle_note}."] if cycle_note else []
    if uncovered:
        notes.append(f"Win rate, deal size and sales cycle are n/a for {', '.join(uncovered)}: the data does not cover it.")
    return frame, notes


def _sales_summary(sales: pd.DataFrame) -> dict[str, Any]:
    """The summary keys of the sales metrics: this period (row 0) and the same period last year (row 1)."""

    def val(i: int, c: str) -> Any:
        v = sales.iloc[i][c]
        if v is None or (isinstance(v, float) and pd.isna(v)):
            return None
        return float(v) if isinstance(v, float) else v  # a plain float, not NumPy's

    out = {}
    for key, col in (("win_rate", "win_rate"), ("average_deal", "average_won_deal"), ("sales_cycle_days", "sales_cycle_days")):
        out[key], out[f"last_year_{key}"] = val(0, col), val(1, col)
    return out


def _pipeline_summary(pipe: dict[str, Any]) -> dict[str, Any]:
    return {
        "pipeline": cents_to_money(pipe["unweighted_cents"]),
        "weighted_pipeline": cents_to_money(pipe["weighted_cents"]),
        "quota_to_close": money_or_none(pipe["quota_to_close_cents"]),
        "pipeline_coverage": pipe["coverage"],
        "weighted_pipeline_coverage": pipe["weighted_coverage"],
        "implied_coverage": pipe["implied_coverage"],
    }


def _pipeline_frame(pipe: dict[str, Any]) -> pd.DataFrame:
    """Pipeline coverage as rows: unweighted and weighted open pipeline against the quota still to close."""
    to_close = money_or_none(pipe["quota_to_close_cents"])
    return pd.DataFrame(
        {
            "measure": pd.Series(["Open pipeline (unweighted)", "Open pipeline (weighted)"], dtype="str"),
            "opportunities": pd.Series([pipe["opportunities"]] * 2, dtype="int64"),
            "amount": pd.Series(
                [cents_to_money(pipe["unweighted_cents"]), cents_to_money(pipe["weighted_cents"])], dtype="object"
            ),
            "quota_to_close": pd.Series([to_close, to_close], dtype="object"),
            "coverage": pd.Series([pipe["coverage"], pipe["weighted_coverage"]], dtype="float64"),
        }
    )


def _retention(ctx: ReportContext, members: list[str]) -> tuple[dict[str, Any] | None, str | None]:
    """GRR / NRR of the members' accounts, year to date against the same days last year; None when uncovered."""
    p = ctx.period
    base = (one_year_earlier(p.year.start), one_year_earlier(ctx.cutoff))
    if not data_covers(ctx.first_deal, base[0]):
        return None, f"Revenue retention: n/a, the data begins after {base[0].isoformat()} (the span last year)."
    return revenue_retention(ctx.credited, members, (p.year.start, ctx.cutoff), base), None


def _at_risk(ds: Dataset, ctx: ReportContext, team_reports: list[TeamReport]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every account at risk in an account manager's book (:func:`reportkit.domain.accounts.account_status`), with why,
    and those accounts rolled up by reason (:func:`_at_risk_reasons`).

    Sorted and summed in the whole cents the context keeps (:meth:`ReportContext.accounts_at_risk`), then shown
    as ``Decimal``: the same order and amounts as sorting and adding the ``Decimal`` amounts, without a Python
    object per row for either (21,402 rows at 200,000 deals).
    """
    frames = []
    for t in team_reports:
        for am, name in zip(t.leaderboard["account_manager_id"].astype("str"), t.leaderboard["name"].astype("str")):
            risk = ctx.accounts_at_risk(ds, am, cents=True)  # kept from the account manager's report (reports/context.py)
            if len(risk):
                frames.append(risk.assign(team=t.name, account_manager_id=am, account_manager=name))
    cols = (
        "team",
        "account_manager_id",
        "account_manager",
        "account_id",
        "account_name",
        "revenue_ytd",
        "reason",
        "status_reason",
    )
    if not frames:
        empty = pd.DataFrame({c: pd.Series([], dtype="object" if c == "revenue_ytd" else "str") for c in cols})
        return empty, _at_risk_reasons(empty, [])
    out = pd.concat(frames, ignore_index=True)  # the text stays Arrow strings: no Python string per account
    rules, rule = pd.factorize(out["status_rule"], use_na_sentinel=False)  # a few rules: each in words once
    out["reason"] = pd.Series(np.asarray([AT_RISK_REASONS.get(r, r) for r in rule], dtype=object)[rules], dtype="str")
    for c in ("team", "account_manager_id", "account_manager", "account_id", "account_name", "status_reason"):
        out[c] = out[c].astype("str")
    # revenue descending (int cents / 100 is the float of the Decimal, so the same order and ties), account, manager;
    # the sort keys alone are sorted: a sorted copy of every column beside the frame was the company build's peak
    keys = pd.DataFrame(
        {"_r": out["revenue_ytd"].to_numpy(np.int64) / 100, "a": out["account_id"], "m": out["account_manager_id"]}
    )
    order = keys.sort_values(["_r", "a", "m"], ascending=[False, True, True], kind="stable").index
    del keys
    out = out.loc[order, list(cols)].reset_index(drop=True)
    cents = out["revenue_ytd"].to_numpy(np.int64)
    reasons = _at_risk_reasons(out, cents)
    out["revenue_ytd"] = pd.Series([cents_to_money(c) for c in cents.tolist()], dtype="object")
    return out, reasons


def _at_risk_reasons(at_risk: pd.DataFrame, cents: np.ndarray | list[int]) -> pd.DataFrame:
    """The accounts at risk rolled up by reason: how many, and their revenue so far this year (exact to the cent).

    ``cents``: each row's ``revenue_ytd`` in whole cents.
    """
    codes, present = pd.factorize(at_risk["reason"])
    words = [w for w in AT_RISK_REASONS.values() if w in set(present)]
    words += sorted(set(present) - set(words))
    cents = np.asarray(cents, dtype=np.int64)
    rows = []
    for w in words:
        hit = codes == list(present).index(w)
        rows.append((w, int(hit.sum()), cents_to_money(int(cents[hit].sum()))))
    return pd.DataFrame(
        {
            "reason": pd.Series([r[0] for r in rows], dtype="str"),
            "accounts": pd.Series([r[1] for r in rows], dtype="int64"),
            "revenue_ytd": pd.Series([r[2] for r in rows], dtype="object"),
        }
    )


def _commission_expense(
    ds: Dataset, params: BatchParams, ctx: ReportContext, team_reports: list[TeamReport]
) -> tuple[pd.DataFrame, dict[str, Decimal]]:
    """Commission expense by team and component, and the company's, from the account managers' statements.

    The statements are the ones the account managers' and teams' reports show
    (:func:`reportkit.reports.statements.commission_statement`, once per batch; their totals:
    :func:`reportkit.reports.statements.statement_totals`).
    """
    rows, every = [], []
    for t in team_reports:
        stmts = [statement_totals(ds, params, ctx, a) for a in t.commission_expense["account_manager_id"].astype("str")]
        every += stmts
        e = commission_expense(stmts)
        rows.append((t.name, len(stmts), e["commission"], e["bonus"], e["other"], e["total"]))
    frame = pd.DataFrame(
        {
            "team": pd.Series([r[0] for r in rows], dtype="str"),
            "members": pd.Series([r[1] for r in rows], dtype="int64"),
            **{
                c: pd.Series([r[i] for r in rows], dtype="object")
                for i, c in enumerate(("commission", "bonus", "other", "total"), 2)
            },
        }
    )
    return frame, commission_expense(every)
