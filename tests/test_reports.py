"""Report objects: per-AM and per-team figures, totals, privacy, planning."""

from __future__ import annotations

import datetime
import math
import pickle
from decimal import Decimal

import pandas as pd
import pytest
from conftest import build_batch_params, build_dataset
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reportkit.core.errors import ParamsError, PeriodError
from reportkit.reports.builders import (
    AccountManagerReport,
    TeamReport,
    build_account_manager_report,
    build_team_report,
    plan_reports,
    shared_contexts,
    team_slug,
)

AS_OF = datetime.date(2025, 6, 30)
SUMMARY_KEYS = {
    "revenue",
    "quota",
    "attainment",
    "ytd_revenue",
    "ytd_quota",
    "ytd_attainment",
    "commission_total",
    "forecast",
    "annual_quota",
    "forecast_attainment",
    "performance_status",
    "deals_count",
}


def won_cents(ds, am, start, end):
    d = ds.deals
    m = (
        (d["account_manager_id"] == am)
        & (d["stage"] == "won")
        & (d["close_date"] >= pd.Timestamp(start))
        & (d["close_date"] <= pd.Timestamp(end))
    )
    return int(d.loc[m, "amount_cents"].sum())


def all_text(report) -> str:
    """Every string, number and cell of a report object, as one text (for privacy checks)."""
    parts = [repr(report.summary), " ".join(report.notes)]
    for v in vars(report).values():
        if isinstance(v, pd.DataFrame):
            parts.append(v.to_csv(index=False))
    return "\n".join(parts)


def test_account_manager_report_figures_follow_the_deals(tiny_dataset, batch_params):
    r = build_account_manager_report(tiny_dataset, "A1", "FY2025-Q4", batch_params, AS_OF)
    assert isinstance(r, AccountManagerReport)
    assert set(r.summary) >= SUMMARY_KEYS
    assert r.quarterly["period"].tolist() == ["FY2025-Q1", "FY2025-Q2", "FY2025-Q3", "FY2025-Q4"]
    q4 = won_cents(tiny_dataset, "A1", "2025-04-01", "2025-06-30")
    assert r.summary["revenue"] == Decimal(q4) / 100
    assert r.quarterly["revenue"].iloc[-1] == r.summary["revenue"]
    assert r.quarterly["revenue_last_year"].iloc[-1] == Decimal(won_cents(tiny_dataset, "A1", "2024-04-01", "2024-06-30")) / 100
    assert r.summary["attainment"] == pytest.approx(q4 / 100_000_00)
    assert r.summary["ytd_revenue"] == Decimal(won_cents(tiny_dataset, "A1", "2024-07-01", "2025-06-30")) / 100
    assert r.summary["commission_total"] == sum(r.commission["amount"], Decimal("0.00"))
    assert r.summary["deals_count"] == len(r.deals)
    assert sum(r.deals["amount"], Decimal("0.00")) == r.summary["revenue"]
    assert r.summary["annual_quota"] == Decimal("400000.00")
    assert r.performance["period"].iloc[-1] == "FY2025-Q4"
    pickle.loads(pickle.dumps(r))


def test_account_manager_without_deals_gets_a_report_that_says_so(tiny_dataset, batch_params):
    r = build_account_manager_report(tiny_dataset, "A2", "FY2025-Q4", batch_params, AS_OF)
    assert "No deals closed in FY2025-Q4." in r.notes
    assert r.deals.empty and r.accounts.empty
    assert r.summary["revenue"] == Decimal("0.00")
    assert r.summary["commission_total"] == Decimal("0.00")
    assert r.summary["attainment"] == 0.0
    assert r.summary["deals_count"] == 0


def test_account_manager_report_contains_no_other_account_managers_deals(tiny_dataset, batch_params):
    r = build_account_manager_report(tiny_dataset, "A1", "FY2025-Q4", batch_params, AS_OF)
    text = all_text(r)
    others = tiny_dataset.deals.loc[tiny_dataset.deals["account_manager_id"] != "A1", ["deal_id", "account_id"]]
    for deal_id in others["deal_id"]:
        assert deal_id not in text
    for account in set(others["account_id"]) - set(
        tiny_dataset.deals.loc[tiny_dataset.deals["account_manager_id"] == "A1", "account_id"]
    ):
        assert account not in text
    for name in ("Bob", "Carol", "Dan"):
        assert name not in text


def test_team_report_contains_only_its_members(tiny_dataset, batch_params):
    t = build_team_report(tiny_dataset, "West", "FY2025-Q4", batch_params, AS_OF)
    text = all_text(t)
    assert "Alice" not in text and "Bob" not in text and "A1" not in text
    # Dan left before FY2025-Q4: not a member
    assert t.leaderboard["account_manager_id"].tolist() == ["A3"]


@pytest.mark.parametrize("team", ["East", "West"])
def test_team_totals_equal_the_sum_of_members_without_overlap(tiny_dataset, batch_params, team):
    t = build_team_report(tiny_dataset, team, "FY2025-Q4", batch_params, AS_OF)
    assert isinstance(t, TeamReport)
    lb = t.leaderboard
    assert t.summary["revenue"] == sum(lb["revenue"], Decimal("0.00"))
    assert t.summary["quota"] == sum(lb["quota"], Decimal("0.00"))
    assert t.summary["commission_expense"] == sum(t.commission_expense["total"], Decimal("0.00"))
    members, total = t.forecast.iloc[:-1], t.forecast.iloc[-1]
    assert total["name"] == "Team total"
    for col in ("ytd_revenue", "forecast", "annual_quota", "low", "high"):
        assert total[col] == sum(members[col], Decimal("0.00")), col
    with shared_contexts():  # each member's report once, as the batch builds them (not once per quarter)
        members_quarterly = {
            a: build_account_manager_report(tiny_dataset, a, "FY2025-Q4", batch_params, AS_OF).quarterly.set_index("period")
            for a in lb["account_manager_id"]
        }
    for q in t.quarterly.itertuples():
        member_sum = sum((m.loc[q.period, "revenue"] for m in members_quarterly.values()), Decimal("0.00"))
        assert q.revenue == member_sum
    assert not t.summary["crediting_overlaps"]


def test_team_attainment_is_total_over_total_not_a_mean_of_ratios(tiny_dataset, batch_params):
    t = build_team_report(tiny_dataset, "East", "FY2025-Q4", batch_params, AS_OF)
    lb = t.leaderboard
    assert t.summary["attainment"] == pytest.approx(float(t.summary["revenue"] / t.summary["quota"]))
    assert t.summary["attainment"] != pytest.approx(lb["attainment"].mean())


def test_leaderboard_ranks_by_attainment_and_distribution_counts_every_member(make_dataset, make_quotas, batch_params):
    ams = [("A1", "Alice", "East", None, None), ("A2", "Bob", "East", None, None), ("A3", "Cy", "East", None, None)]
    ds = make_dataset(
        ams=ams,
        deals=[
            ("D1", "A1", "C1", "2025-05-01", 50_00),
            ("D2", "A2", "C2", "2025-05-01", 150_00),
            ("D3", "A3", "C3", "2025-05-01", 10_00),
        ],
        quotas=make_quotas("A1", 2025, 100_00) + make_quotas("A2", 2025, 100_00),
    )
    t = build_team_report(ds, "East", "FY2025-Q4", batch_params, AS_OF)
    assert t.leaderboard["account_manager_id"].tolist() == ["A2", "A1", "A3"]  # no quota (n/a) ranks last
    assert t.leaderboard["rank"].tolist() == [1, 2, 3]
    dist = t.attainment_distribution.set_index("band")["count"]
    assert dist["n/a"] == 1 and dist["50-80 %"] == 1 and dist["120 % and above"] == 1
    assert dist.sum() == 3
    assert any("No quota for FY2025-Q4: Cy" in n for n in t.notes)


def test_overlapping_territory_crediting_counts_each_deal_once_and_says_so(make_dataset, make_quotas, batch_params):
    ds = make_dataset(
        ams=[("A1", "Alice", "East", None, None), ("A2", "Bob", "East", None, None)],
        deals=[("D1", None, "C1", "2025-05-01", 100_00, "won", "North"), ("D2", None, "C2", "2025-05-02", 40_00, "won", "South")],
        quotas=make_quotas("A1", 2025, 100_00) + make_quotas("A2", 2025, 100_00),
        territories=[("A1", "North"), ("A2", "North"), ("A2", "South")],
        crediting="territory",
    )
    t = build_team_report(ds, "East", "FY2025-Q4", batch_params, AS_OF)
    assert t.summary["crediting_overlaps"] is True
    assert t.summary["revenue"] == Decimal("140.00")
    assert sum(t.leaderboard["revenue"], Decimal("0.00")) == Decimal("240.00")
    assert t.quarterly["revenue"].iloc[-1] == Decimal("140.00")
    assert any("counts each deal once" in n for n in t.notes)
    # the forecast total row is set against the annual quota: it is on the attainment basis (each member's
    # own credits, D1 for both), while the summary's annual forecast is the team's sales figure (each deal once)
    total = t.forecast.iloc[-1]
    assert total["ytd_revenue"] == t.summary["ytd_credited_revenue"] == Decimal("240.00")
    assert total["forecast"] == t.summary["credited_forecast"] > t.summary["forecast"]
    assert total["name"] == "Team total (attainment basis)"


def test_performance_watch_lists_members_on_watch(tiny_dataset, batch_params):
    t = build_team_report(tiny_dataset, "East", "FY2025-Q4", batch_params, AS_OF)
    watch = t.performance_watch.set_index("account_manager_id")
    assert "A2" in watch.index and "A1" not in watch.index  # Bob missed every quarter; Alice made Q4
    assert watch.loc["A2", "status"] == "termination review"
    assert t.summary["on_watch"] == len(watch)


def test_plan_reports_lists_active_account_managers_and_their_teams(tiny_dataset, batch_params):
    specs = plan_reports(tiny_dataset, batch_params)
    am_ids = [s.id for s in specs if s.kind == "account_manager"]
    assert am_ids == ["A1", "A2", "A3"]  # Dan left 2024-12-31
    assert [(s.id, s.name) for s in specs if s.kind == "team"] == [("east", "East"), ("west", "West")]
    earlier = plan_reports(tiny_dataset, batch_params.model_copy(update={"period": "FY2025-Q2"}))
    assert "A4" in [s.id for s in earlier]


def test_plan_reports_respects_the_account_manager_restriction(tiny_dataset, batch_params):
    specs = plan_reports(tiny_dataset, batch_params.model_copy(update={"account_managers": ("A3",)}))
    assert [(s.kind, s.id) for s in specs] == [("account_manager", "A3"), ("team", "west"), ("company", "company")]
    with pytest.raises(ParamsError, match="A9"):
        plan_reports(tiny_dataset, batch_params.model_copy(update={"account_managers": ("A9",)}))


def test_bad_ids_and_periods_are_input_errors(tiny_dataset, batch_params):
    with pytest.raises(ParamsError, match="A9"):
        build_account_manager_report(tiny_dataset, "A9", "FY2025-Q4", batch_params, AS_OF)
    with pytest.raises(ParamsError, match="did you mean 'East'"):
        build_team_report(tiny_dataset, "Eats", "FY2025-Q4", batch_params, AS_OF)
    with pytest.raises(PeriodError):
        build_account_manager_report(tiny_dataset, "A1", "2025Q4", batch_params, AS_OF)


def test_team_can_be_addressed_by_its_slug(tiny_dataset, batch_params):
    assert build_team_report(tiny_dataset, "west", "FY2025-Q4", batch_params, AS_OF).name == "West"


@pytest.mark.parametrize("name, slug", [("West Coast (A&B)", "west-coast-a-b"), ("  Nord  ", "nord"), ("EMEA/2", "emea-2")])
def test_team_slug_is_file_name_safe_and_stable(name, slug):
    assert team_slug(name) == slug
    assert team_slug("東京").startswith("team-") and team_slug("東京") == team_slug("東京")


@pytest.mark.parametrize("name, slug", [("Équipe Süd/Ost", "equipe-sud-ost"), ("Zürich", "zurich"), ("São Paulo", "sao-paulo")])
def test_an_accented_team_name_keeps_its_letters_in_the_team_id_as_account_manager_file_names_do(name, slug):
    from reportkit.run.outputs import slugify

    assert team_slug(name) == slug == slugify(name)


def test_mid_quarter_report_counts_deals_up_to_as_of_only(tiny_dataset, batch_params):
    r = build_account_manager_report(tiny_dataset, "A1", "FY2025-Q4", batch_params, datetime.date(2025, 5, 1))
    assert r.summary["revenue"] == Decimal(won_cents(tiny_dataset, "A1", "2025-04-01", "2025-05-01")) / 100
    assert any("Figures as of 2025-05-01" in n for n in r.notes)
    # the unfinished quarter is neither a miss nor a lift
    assert r.performance["status"].iloc[-1] == "n/a"


AMS = [("A1", "Alice", "East", None, None), ("A2", "Bob", "East", None, None), ("A3", "Cy", "East", None, None)]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.tuples(st.sampled_from(["A1", "A2", "A3"]), st.integers(-(10**6), 10**8), st.integers(1, 365)), max_size=15)
)
@example(rows=[("A1", 1716, 1), ("A1", 475712, 336)])  # a trend model's year-ahead fit exploded past int64 cents
def test_team_revenue_equals_sum_of_members_for_any_deals(rows):
    start = datetime.date(2024, 7, 1)
    deals = [
        (f"D{i}", am, "C1", (start + datetime.timedelta(days=d - 1)).isoformat(), amt) for i, (am, amt, d) in enumerate(rows)
    ]
    ds = build_dataset(ams=AMS, deals=deals)
    params = build_batch_params()
    t = build_team_report(ds, "East", "FY2025-Q4", params, AS_OF)
    assert t.summary["revenue"] == sum(t.leaderboard["revenue"], Decimal("0.00"))
    assert (
        t.summary["ytd_revenue"]
        == t.forecast.iloc[-1]["ytd_revenue"]
        == sum(t.forecast.iloc[:-1]["ytd_revenue"], Decimal("0.00"))
    )
    assert t.forecast.iloc[-1]["forecast"] == sum(t.forecast.iloc[:-1]["forecast"], Decimal("0.00"))


def test_open_escalation_makes_an_account_at_risk_in_the_account_manager_report(tiny_dataset, batch_params):
    from dataclasses import replace

    si = pd.DataFrame(
        {
            "issue_id": pd.Series(["I1", "I2", "I3", "I4", "I5"], dtype="str"),
            "account_id": pd.Series(["C1", "C2", "C3", "C2", "C7"], dtype="str"),
            "opened": pd.to_datetime(pd.Series(["2025-06-01", "2025-07-02", "2025-05-01", "2025-03-01", "2025-06-01"])),
            "resolved": pd.to_datetime(pd.Series([None, None, "2025-07-15", "2025-03-20", None], dtype="object")),
            "severity": pd.Series(["escalation", "critical", "High", "escalation", "escalation"], dtype="str"),
        }
    )
    before = build_account_manager_report(tiny_dataset, "A1", "FY2025-Q4", batch_params, AS_OF).accounts.set_index("account_id")
    ds = replace(tiny_dataset, service_issues=si)
    r = build_account_manager_report(ds, "A1", "FY2025-Q4", batch_params, AS_OF)
    acc = r.accounts.set_index("account_id")
    assert set(acc.index) == {"C1", "C2", "C3"}  # C7 (Carol's) escalation stays out of Alice's report
    # C1: open escalation; C3: resolved after as_of, so still open at as_of
    for a in ("C1", "C3"):
        assert (acc.at[a, "status"], acc.at[a, "status_rule"], acc.at[a, "open_escalations"]) == ("at risk", "escalation", 1)
        assert acc.at[a, "status_reason"] == "1 open service escalation"
    # C2: one issue opened after as_of (ignored), one resolved before it: status unchanged
    assert acc.at["C2", "open_issues"] == 0 and acc.at["C2", "status_rule"] == before.at["C2", "status_rule"] != "escalation"
    assert before.loc[["C1", "C3"], "status_rule"].ne("escalation").all()
    # revenue figures do not move
    assert r.accounts["revenue_period"].tolist() == before.loc[r.accounts["account_id"], "revenue_period"].tolist()
    carol = build_account_manager_report(ds, "A3", "FY2025-Q4", batch_params, AS_OF).accounts.set_index("account_id")
    assert carol.at["C7", "status_rule"] == "escalation"


def test_quarter_begun_before_the_first_deal_is_not_a_miss_and_does_not_lengthen_the_run(make_dataset, make_quotas, batch_params):
    # fiscal year from July; the data begins on 2024-09-01, inside FY2025-Q1 (Jul-Sep): one month of it
    ds = make_dataset(
        deals=[
            ("D1", "A1", "C1", "2024-09-01", 10_00),
            ("D2", "A1", "C1", "2024-11-01", 10_00),
            ("D3", "A1", "C1", "2025-02-01", 10_00),
            ("D4", "A1", "C1", "2025-05-01", 10_00),
        ],
        quotas=make_quotas("A1", 2025, 100_00),
    )
    r = build_account_manager_report(ds, "A1", "FY2025-Q4", batch_params, AS_OF)
    perf = r.performance.set_index("period")
    assert (perf.loc["FY2025-Q1", "status"], perf.loc["FY2025-Q1", "note"]) == ("n/a", "data begins on 2024-09-01")
    assert perf.loc[["FY2025-Q2", "FY2025-Q3", "FY2025-Q4"], "status"].tolist() == [
        "missed",
        "performance watch",
        "termination review",
    ]
    assert r.summary["consecutive_misses"] == 3  # Q2..Q4, not four misses
    assert any("FY2025-Q1: data begins on 2024-09-01" in n for n in r.notes)


def test_revenue_last_year_of_a_quarter_after_the_datas_last_deal_is_na_with_the_reason(tiny_dataset, batch_params):
    # the tiny data's last deal closed on 2025-06-10; FY2027-Q1's last year, FY2026-Q1 (Jul-Sep 2025), holds nothing of it
    am = build_account_manager_report(tiny_dataset, "A1", "FY2027-Q1", batch_params, datetime.date(2026, 9, 30))
    row = am.quarterly.set_index("period").loc["FY2027-Q1"]
    assert row["revenue_last_year"] is None and math.isnan(row["growth_vs_last_year"])
    assert (
        "Revenue last year is n/a for FY2026-Q1: the data's last deal closed on 2025-06-10, before that quarter began "
        "(the end of the export, not a genuine zero)." in am.notes
    )
    assert not any("does not reach back" in n for n in am.notes)  # the data begins long before FY2026-Q1
    reached = build_account_manager_report(tiny_dataset, "A1", "FY2025-Q4", batch_params, AS_OF)
    assert reached.quarterly["revenue_last_year"].notna().any()  # a last year the data reaches keeps its figure


def test_a_period_after_the_data_ends_says_its_zeros_are_the_end_of_the_data_in_every_report(tiny_dataset, batch_params):
    # the tiny data's last deal closed on 2025-06-10; FY2026-Q1 (July to September 2025) holds nothing of it
    as_of = datetime.date(2025, 9, 30)
    said = "No deals closed in FY2026-Q1: the data's last deal closed on 2025-06-10, before FY2026-Q1 began"
    am = build_account_manager_report(tiny_dataset, "A1", "FY2026-Q1", batch_params, as_of)
    team = build_team_report(tiny_dataset, str(am.team), "FY2026-Q1", batch_params, as_of)
    assert any(n.startswith(said) and "check that the export is current" in n for n in am.notes)
    assert any(n.startswith(said) for n in team.notes)
    # a period the data reaches keeps the plain sentence, the same in both kinds of report
    assert (
        "No deals closed in FY2025-Q4."
        in build_account_manager_report(tiny_dataset, "A2", "FY2025-Q4", batch_params, AS_OF).notes
    )
