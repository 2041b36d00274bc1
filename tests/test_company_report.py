"""The company report (issue #14 part 1): its domain metrics to the cent, its roll-up against the team reports.

Crafted cases state their figures by hand; the demo (and AdventureWorks, whose teams
share every deal) check that the company report reconciles with the reports it rolls up.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from batch_contexts import batch_contexts, params_fit_cache
from conftest import build_dataset
from datasets import needs_data

import reportkit as rk
from reportkit.core.money import cents_to_money, micros_to_cents
from reportkit.core.periods import Period
from reportkit.domain.accounts import revenue_retention, top_account_shares
from reportkit.domain.backtest import forecast_accuracy, hierarchy_evidence
from reportkit.domain.commission import CommissionStatement, commission_expense, expense_share_of_revenue
from reportkit.domain.crediting import credited_deals, credited_in, revenue_cents
from reportkit.domain.deal_metrics import NO_CREATED_DATE, closed_deal_metrics
from reportkit.domain.forecast_inputs import pipeline_coverage
from reportkit.domain.loading import load_inputs
from reportkit.reports.builders import (
    COMPANY_ID,
    build_company_rollup,
    build_report,
    plan_reports,
    report_context,
)

ROOT = Path(__file__).resolve().parents[1]
D = datetime.date

# -- closed deals: win rate, average won deal, sales cycle --------------------------


def _two_won_one_lost():
    """A1 wins 1.00 and 2.01 and loses one deal in January 2025; A2 wins 5.00 (another owner)."""
    return build_dataset(
        ams=[("A1", "Alice", "East", None, None), ("A2", "Bob", "West", None, None)],
        deals=[
            ("D1", "A1", "C1", "2025-01-10", 100),
            ("D2", "A1", "C2", "2025-01-20", 201),
            ("D3", "A1", "C1", "2025-01-25", 999, "lost"),
            ("D4", "A2", "C3", "2025-01-26", 500),
        ],
        first_month=1,
    )


def test_win_rate_is_won_over_closed_and_the_average_won_deal_rounds_half_away_from_zero():
    ds = _two_won_one_lost()
    m = closed_deal_metrics(ds.deals, D(2025, 1, 1), D(2025, 3, 31), ["A1"])
    assert (m["won"], m["lost"], m["closed"]) == (2, 1, 3)
    assert m["win_rate"] == pytest.approx(2 / 3)
    assert m["average_won_deal_cents"] == 151  # (1.00 + 2.01) / 2 = 1.505 -> 1.51, not 1.50
    assert closed_deal_metrics(ds.deals, D(2025, 2, 1), D(2025, 3, 31))["win_rate"] is None  # nothing closed: n/a


def test_the_analysts_win_rates_follow_the_same_rounding_rule():
    ds = _two_won_one_lost()
    row = rk.win_rates(ds, "account_manager_id").set_index("account_manager_id").loc["A1"]
    assert row["average_won_deal"] == Decimal("1.51") and row["won_revenue"] == Decimal("3.01")


def test_sales_cycle_is_close_minus_created_date_and_is_na_without_created_dates():
    ds = _two_won_one_lost()
    assert closed_deal_metrics(ds.deals, D(2025, 1, 1), D(2025, 3, 31))["cycle_note"] == NO_CREATED_DATE
    deals = ds.deals.assign(created_date=pd.to_datetime(["2025-01-01", "2024-12-21", "2025-01-01", pd.NaT]))
    m = closed_deal_metrics(deals, D(2025, 1, 1), D(2025, 3, 31), ["A1"])
    # won: D1 9 days, D2 30 days (the lost D3 does not count): median 19.5
    assert (m["cycle_days"], m["cycle_deals"], m["cycle_note"]) == (19.5, 2, None)


# -- a group's book: concentration and retention --------------------------------------


def test_top_account_shares_count_a_deal_two_members_carry_once():
    ds = build_dataset(
        ams=[("A1", "Alice", "East", None, None), ("A2", "Bob", "East", None, None)],
        deals=[
            ("D1", "A1", "X", "2025-01-10", 600_00, "won", "T"),  # both cover T: credited to both, counted once
            ("D2", "A2", "X", "2025-01-11", 300_00, "won", "U"),
            ("D3", "A2", "Y", "2025-01-12", 100_00, "won", "U"),
        ],
        territories=[("A1", "T"), ("A2", "T"), ("A2", "U")],
        crediting="territory",
        first_month=1,
    )
    top = top_account_shares(credited_deals(ds), ["A1", "A2"], D(2025, 1, 1), D(2025, 12, 31), (1, 5)).set_index("top")
    assert top.loc[1, "revenue"] == Decimal("900.00") and top.loc[1, "share"] == pytest.approx(0.9)
    assert top.loc[5, "accounts"] == 2 and top.loc[5, "share"] == pytest.approx(1.0)


def test_gross_and_net_revenue_retention_by_hand():
    """A expands 100 -> 150, B contracts 100 -> 50, C churns 50 -> 0, D is new (0 -> 80)."""
    rows = [("A", 100, 150), ("B", 100, 50), ("C", 50, 0), ("D", 0, 80)]
    deals = []
    for i, (acc, base, now) in enumerate(rows):
        if base:
            deals.append((f"B{i}", "A1", acc, "2024-03-01", base * 100))
        if now:
            deals.append((f"N{i}", "A1", acc, "2025-03-01", now * 100))
    ds = build_dataset(deals=deals, first_month=1)
    r = revenue_retention(credited_deals(ds), ["A1"], (D(2025, 1, 1), D(2025, 6, 30)), (D(2024, 1, 1), D(2024, 6, 30)))
    assert r["cohort_accounts"] == 3 and r["churned_accounts"] == 1
    assert r["base_revenue"] == Decimal("250.00") and r["retained_revenue"] == Decimal("150.00")
    assert r["cohort_revenue"] == Decimal("200.00")  # D (new) counts in neither
    assert r["grr"] == pytest.approx(150 / 250) and r["nrr"] == pytest.approx(200 / 250)


# -- pipeline coverage -----------------------------------------------------------------


def _pipeline():
    return pd.DataFrame(
        {
            "opportunity_id": ["o1", "o2", "o3", "o4"],
            "account_manager_id": ["A", "A", "A", "B"],
            "probability": [0.5, 0.25, 1.0, 1.0],
            "amount_cents": [10_001, 40_000, 99_999, 77_777],
            # o2 undated (workable this year), o3 overdue (slipped), o4 another manager's
            "expected_close_date": pd.to_datetime(["2025-11-15", None, "2025-09-01", "2025-11-01"]),
        }
    )


def test_weighted_pipeline_is_exact_and_rounded_once_and_overdue_opportunities_do_not_count():
    c = pipeline_coverage(_pipeline(), ["A"], D(2025, 9, 30), D(2025, 12, 31), 100_000, 75_000, 0.25)
    assert c["opportunities"] == 2 and c["unweighted_cents"] == 50_001
    assert c["weighted_cents"] == 15_001  # 5,000.5 + 10,000 = 15,000.5 cents -> 15,001
    assert c["quota_to_close_cents"] == 25_000
    assert c["coverage"] == pytest.approx(50_001 / 25_000) and c["weighted_coverage"] == pytest.approx(15_001 / 25_000)
    assert c["implied_coverage"] == pytest.approx(4.0)  # 1 / 25 % win rate


def test_no_quota_is_left_to_close_once_the_year_is_over_or_when_it_is_met():
    over = pipeline_coverage(_pipeline(), ["A"], D(2025, 12, 31), D(2025, 12, 31), 100_000, 75_000, 0.25)
    assert over["quota_to_close_cents"] is None and over["coverage"] is None and over["unweighted_cents"] == 0
    met = pipeline_coverage(_pipeline(), ["A"], D(2025, 9, 30), D(2025, 12, 31), 100_000, 120_000, None)
    assert met["quota_to_close_cents"] == 0 and met["coverage"] is None and met["implied_coverage"] is None


# -- commission expense ------------------------------------------------------------------


def _statement(am: str, total: str, commission: str, bonus: str) -> CommissionStatement:
    return CommissionStatement(
        am, "FY2025-Q4", pd.DataFrame(), Decimal(total), Decimal(commission), Decimal(bonus), Decimal(total), Decimal("0"), 1.0
    )


def test_commission_expense_adds_statement_totals_and_names_what_is_neither_commission_nor_bonus():
    e = commission_expense([_statement("A", "12.50", "10.00", "2.00"), _statement("B", "-3.01", "0.00", "0.00")])
    assert e == {"commission": Decimal("10.00"), "bonus": Decimal("2.00"), "other": Decimal("-2.51"), "total": Decimal("9.49")}
    assert expense_share_of_revenue(Decimal("50.00"), Decimal("1000.00")) == pytest.approx(0.05)
    assert expense_share_of_revenue(Decimal("50.00"), Decimal("0.00")) is None


# -- forecast accuracy ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo():
    return load_inputs(ROOT / "params" / "demo.yaml")


@pytest.fixture(scope="module")
def accuracy_mid_2025(demo):
    """``forecast_accuracy`` of the demo as of 2025-06-30, computed (its backtest fitted) once for the tests that read it."""
    _, ds = demo
    return forecast_accuracy(ds, D(2025, 6, 30))


def test_forecast_accuracy_replays_only_years_closed_by_the_report_date_and_compares_with_what_closed(demo, accuracy_mid_2025):
    _, ds = demo
    acc = accuracy_mid_2025
    assert len(acc) and all(q.startswith(("FY2023-", "FY2024-")) for q in acc["quarter"])  # FY2025 is not over
    assert acc["quarter"].is_unique  # one row per cutoff (it once listed each quarter twice: the method and 'selected')
    credited = credited_deals(ds)
    for q, actual in zip(acc["quarter"], acc["actual_remaining"]):
        period = Period.parse(q, ds.calendar)
        after = credited_in(credited, period.end + datetime.timedelta(days=1), period.year.end).drop_duplicates("deal_id")
        assert actual == cents_to_money(revenue_cents(after))


# -- the company report against the reports it rolls up ----------------------------------------


def _reports(params, ds):
    with batch_contexts(params):
        specs = plan_reports(ds, params)
        company = build_report(ds, params, kind="company", report_id=COMPANY_ID, period=params.period, as_of=params.as_of)
        ams = [
            build_report(ds, params, kind="account_manager", report_id=s.id, period=params.period, as_of=params.as_of)
            for s in specs
            if s.kind == "account_manager"
        ]
        teams = [
            build_report(ds, params, kind="team", report_id=s.id, period=params.period, as_of=params.as_of)
            for s in specs
            if s.kind == "team"
        ]
    return company, ams, teams


def _assert_reconciles(params, ds):
    company, ams, teams = _reports(params, ds)
    s = company.summary
    period = company.period_start, min(company.as_of, company.period_end)
    members = [a.id for a in ams]
    credited = credited_deals(ds)
    once = credited_in(credited, *period, members).drop_duplicates("deal_id")
    # company revenue: each won deal credited to a reported member, once (here every deal is whole: no split)
    assert s["revenue"] == cents_to_money(micros_to_cents(int(np.sum(once["amount_micros"].to_numpy(np.int64)))))
    # company quota: the account managers' quotas added; commission expense: their statements' totals, to the cent
    assert s["quota"] == sum((a.summary["quota"] for a in ams if a.summary["quota"] is not None), Decimal("0.00"))
    assert s["commission_expense"] == sum((a.summary["commission_total"] for a in ams), Decimal("0.00"))
    assert company.commission_expense["total"].sum() == s["commission_expense"]
    # every team row is that team's own report
    by_team = company.teams.set_index("team")
    for t in teams:
        for key in ("revenue", "quota", "attainment", "commission_expense", "forecast"):
            assert by_team.loc[t.name, key] == t.summary[key] or (pd.isna(by_team.loc[t.name, key]) and t.summary[key] is None)
    assert int(company.attainment_distribution["count"].sum()) == len(ams) == s["members"]
    return company, teams


def test_demo_company_report_reconciles_with_the_team_and_account_manager_reports(demo):
    params, ds = demo
    company, teams = _assert_reconciles(params, ds)
    # owner crediting, teams apart: the team rows add up to the company
    assert company.summary["revenue"] == sum((t.summary["revenue"] for t in teams), Decimal("0.00"))


def test_company_forecast_is_the_teams_chosen_forecasts_added_up_with_a_range_around_it(demo):
    # the teams show the chosen, reconciled forecast (issue #17), so the company's is their sum; at year
    # end there is no model range and the range is the actuals, never "$0.00 to $0.00" (seen in the demo)
    params, ds = demo
    company, _ams, teams = _reports(params, ds)
    s = company.summary
    assert s["forecast"] == sum((t.summary["forecast"] for t in teams), Decimal("0.00"))
    assert s["forecast_low"] <= s["forecast"] <= s["forecast_high"] and s["forecast_low"] > 0
    mid = load_inputs(ROOT / "params" / "demo_midyear.yaml")
    company, _ams, teams = _reports(*mid)
    s = company.summary
    assert s["forecast"] == sum((t.summary["forecast"] for t in teams), Decimal("0.00"))
    assert s["forecast_low"] <= s["forecast"] <= s["forecast_high"]
    # mid-year the company's forecast holds Hugo Horvath's rest of the year (he left in June; the hierarchy keeps
    # every account manager with deals this year), as Team South's does: both reports say so
    south = next(t for t in teams if t.name == "Team South")
    for report in (company, south):
        assert any("Hugo Horvath (AM-008, who left on 2025-06-30)" in n for n in report.notes), report.name


AW = ROOT / "params" / "adventureworks.yaml"


@pytest.mark.realdata
@needs_data("adventureworks-pl300-reseller-sales")
def test_adventureworks_company_counts_a_deal_its_teams_share_once():
    params, ds = load_inputs(AW)
    company, teams = _assert_reconciles(params, ds)
    assert company.summary["revenue"] < sum((t.summary["revenue"] for t in teams), Decimal("0.00"))


def test_forecast_accuracy_is_the_forecast_a_report_would_have_shown_at_each_cutoff_chosen_then_and_reconciled(
    demo, accuracy_mid_2025
):
    params, ds = demo
    as_of = D(2025, 6, 30)
    acc = accuracy_mid_2025  # forecast_accuracy(ds, as_of), fitted afresh
    detail = hierarchy_evidence(ds, as_of, fit_cache=params_fit_cache(params))  # the same figures (tests/test_fit_cache.py)
    shown = detail.loc[(detail["level"] == "company") & (detail["method"] == "reconciled")]
    assert list(acc["quarter"]) == list(shown["quarter"])[-6:]
    assert list(acc["forecast_remaining"]) == [cents_to_money(int(c)) for c in shown["forecast_remaining_cents"]][-6:]
    # the choice changes once a year with a prior year is known: FY2023 had none (run-rate), FY2024 did
    assert set(shown["chosen_method"]) > {"run_rate"}


def test_the_company_report_shows_the_batchs_forecast_accuracy_once_per_quarter(demo):
    params, ds = demo
    with batch_contexts(params):
        company = build_report(ds, params, kind="company", report_id=COMPANY_ID, period=params.period, as_of=params.as_of)
    acc = forecast_accuracy(ds, params.as_of)
    assert company.forecast_accuracy["quarter"].is_unique
    assert list(company.forecast_accuracy["quarter"]) == list(acc["quarter"])
    assert list(company.forecast_accuracy["forecast_remaining"]) == list(acc["forecast_remaining"])


def test_company_accounts_at_risk_are_those_of_the_account_managers_reports_built_before_or_after_it(demo):
    # a batch keeps only each account manager's accounts at risk for the company report, not their whole
    # account status (docs/batch.md, "Memory of the batch process"): the company report lists the same
    # accounts, the same revenue and reasons, whether it is built first (the status computed for it) or last
    params, ds = demo
    first, ams, _teams = _reports(params, ds)
    with batch_contexts(params):
        again = [
            build_report(ds, params, kind="account_manager", report_id=a.id, period=params.period, as_of=params.as_of)
            for a in ams
        ]
        last = build_report(ds, params, kind="company", report_id=COMPANY_ID, period=params.period, as_of=params.as_of)
    pd.testing.assert_frame_equal(first.at_risk, last.at_risk)
    shown = pd.concat(
        [
            a.accounts.loc[(a.accounts["status"] == "at risk").to_numpy(), ["account_id", "revenue_ytd", "status_reason"]]
            for a in again
        ],
        ignore_index=True,
    )
    assert len(shown) > 0
    assert sorted(map(tuple, last.at_risk[["account_id", "revenue_ytd", "status_reason"]].values.tolist())) == sorted(
        map(tuple, shown.values.tolist())
    )


def test_account_status_asked_again_in_a_batch_is_the_same_table_and_a_callers_edit_does_not_stick(demo):
    # the batch context keeps only the last account manager's table (docs/batch.md, memory): asking for it
    # again, after another manager's, or after editing the returned frame, gives the table computed afresh
    params, ds = demo
    first_am, second_am = [s.id for s in plan_reports(ds, params) if s.kind == "account_manager"][:2]
    fresh = rk.account_status(ds, first_am, params.period, params.as_of, params)
    with batch_contexts(params):
        ctx = report_context(ds, params, params.period, params.as_of)
        edited = ctx.account_status(ds, first_am)
        edited["status"] = "edited"
        pd.testing.assert_frame_equal(ctx.account_status(ds, first_am), fresh)
        ctx.account_status(ds, second_am)
        pd.testing.assert_frame_equal(ctx.account_status(ds, first_am), fresh)


# -- what a batch computes once for the company report and company.xlsx ------------------------------------


def test_company_xlsx_shows_the_company_reports_roll_up_computed_once_and_other_team_objects_get_their_own(
    demo, tmp_path, monkeypatch
):
    # the company report and the batch's company.xlsx roll up the same team report objects: the roll-up
    # is computed once (docs/batch.md, "Session 9, the tail") and the workbook's Company total row shows
    # the company report's figures; team objects built apart (another context) get a roll-up of their own
    import openpyxl

    import reportkit.reports.company as company_rollup
    from reportkit.run.company import write_company_workbook
    from reportkit.run.preflight import check_period
    from reportkit.run.results import ReportResult

    params, ds = demo
    calls = []
    real = company_rollup._company_rollup
    monkeypatch.setattr(company_rollup, "_company_rollup", lambda *a: calls.append(1) or real(*a))
    specs = [s for s in plan_reports(ds, params) if s.kind == "team"]
    results = [ReportResult(kind="team", id=str(s.id), name=str(s.name), team=str(s.team), status="ok") for s in specs]
    with batch_contexts(params):
        teams = {
            r.id: build_report(ds, params, kind="team", report_id=r.id, period=params.period, as_of=params.as_of) for r in results
        }
        company = build_report(ds, params, kind="company", report_id=COMPANY_ID, period=params.period, as_of=params.as_of)
        written, error = write_company_workbook(
            tmp_path, ds, params, check_period(params.period, ds.calendar), results, teams, None
        )
    assert (written, error, len(calls)) == ("company.xlsx", None, 1)
    ws = openpyxl.load_workbook(tmp_path / "company.xlsx", data_only=True)["Company"]
    header = next(r for r in ws.iter_rows(values_only=True) if r[0] == "Team")
    total = dict(zip(header, next(r for r in ws.iter_rows(values_only=True) if r[0] == "Company total")))
    assert total["Revenue (each deal once)"] == pytest.approx(float(company.summary["revenue"]), abs=0.001)
    assert total["Forecast (each deal once)"] == pytest.approx(float(company.summary["forecast"]), abs=0.001)
    assert total["Attainment"] == pytest.approx(company.summary["attainment"])
    apart = [build_report(ds, params, kind="team", report_id=r.id, period=params.period, as_of=params.as_of) for r in results]
    with batch_contexts(params):
        ctx_teams = [
            build_report(ds, params, kind="team", report_id=r.id, period=params.period, as_of=params.as_of) for r in results
        ]
        again = build_company_rollup(ds, ctx_teams, params.period, params, params.as_of)
        other = build_company_rollup(ds, apart, params.period, params, params.as_of)
    assert len(calls) == 3 and again == other and again["revenue"] == company.summary["revenue"]


def test_quota_lookup_is_the_quota_split_for_every_manager_and_period_and_none_where_no_quota_is_set(demo):
    params, ds = demo
    ctx = report_context(ds, params, params.period, params.as_of)
    ids = [*sorted(set(ds.account_managers["account_manager_id"].astype("str"))), "nobody"]
    for period in [ctx.period, *ctx.history, ctx.period.year]:
        split = ctx.split(period.kind)
        for a in ids:
            hit = split.loc[((split["account_manager_id"] == a) & (split["period"] == period.label)).to_numpy(), "quota_cents"]
            assert ctx.quota(a, period) == (int(hit.sum()) if len(hit) else None), (a, period.label)
    assert ctx.quota("nobody", ctx.period) is None


def test_company_accounts_at_risk_run_from_most_revenue_down_and_each_reasons_row_adds_its_accounts(demo):
    params, ds = demo
    company, _ams, _teams = _reports(params, ds)
    risk, reasons = company.at_risk, company.at_risk_reasons
    assert len(risk) and all(isinstance(v, Decimal) and v == v.quantize(Decimal("0.01")) for v in risk["revenue_ytd"])
    assert list(risk["revenue_ytd"]) == sorted(risk["revenue_ytd"], reverse=True)
    for r in reasons.itertuples(index=False):
        rows = risk.loc[(risk["reason"] == r.reason).to_numpy(), "revenue_ytd"]
        assert (r.accounts, r.revenue_ytd) == (len(rows), sum(rows, Decimal("0.00")))
    assert reasons["accounts"].sum() == len(risk)
