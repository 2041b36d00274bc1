"""Roll-ups that add up: team attainment lies within its members' range, and the
company counts each deal once.

Checked on the demo and on the three public data sets (``realdata``: skipped when
``../shared/data`` is absent), from report objects built in-process (no kernels).
The company's revenue is recomputed from the canonical ``deals`` table: each won
deal closed in the period that credits at least one member, counted once.
"""

from __future__ import annotations

import datetime
import math
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from batch_contexts import batch_contexts
from datasets import DATA, SKIP_REASON

from reportkit.core.money import cents_to_money, micros_to_cents
from reportkit.core.periods import Period
from reportkit.data.model import deal_micros
from reportkit.domain.crediting import credited_deals
from reportkit.domain.loading import load_inputs
from reportkit.domain.quota import attainment, pooled_attainment
from reportkit.render import charts
from reportkit.reports.builders import (
    ROLLUP_TOTAL_RULE,
    TEAM_ATTAINMENT_RULE,
    build_company_rollup,
    build_team_report,
    plan_reports,
)

ROOT = Path(__file__).resolve().parents[1]
_REAL = [pytest.mark.realdata, pytest.mark.skipif(not DATA.is_dir(), reason=SKIP_REASON)]

DATASETS = [
    pytest.param("demo", id="demo"),
    pytest.param("maven_crm", id="maven_crm", marks=_REAL),
    pytest.param("adventureworks", id="adventureworks", marks=_REAL),
    pytest.param("superstore", id="superstore", marks=_REAL),
]


@pytest.fixture(scope="module")
def batches():
    cache: dict[str, tuple] = {}

    def get(name: str):
        if name not in cache:
            params, ds = load_inputs(ROOT / "params" / f"{name}.yaml")
            with batch_contexts(params):  # one context for every report, as the batch has (the forecast computed once)
                teams = [
                    build_team_report(ds, s.id, params.period, params, params.as_of)
                    for s in plan_reports(ds, params)
                    if s.kind == "team"
                ]
                cache[name] = (params, ds, teams, build_company_rollup(ds, teams, params.period, params, params.as_of))
        return cache[name]

    return get


def _credit_micros(params, ds, members: list[str], span: str) -> int:
    """Exact credited amount (micros) of ``members`` in the batch's period (or its year to date)."""
    period = Period.parse(params.period, ds.calendar)
    start = period.start if span == "period" else period.year.start
    c = credited_deals(ds)
    c = c.loc[c["account_manager_id"].isin(members).to_numpy()]
    c = c.loc[
        (
            (c["close_date"] >= np.datetime64(start, "ns"))
            & (c["close_date"] <= np.datetime64(min(params.as_of, period.end), "ns"))
        ).to_numpy()
    ]
    return int(c["credit_micros"].sum())


def _ratio(num, den) -> float:
    return attainment(None if num is None else int(num * 100), None if den is None else int(den * 100))


def _same(a, b) -> bool:
    return ((a is None or math.isnan(a)) and (b is None or math.isnan(b))) or a == pytest.approx(b, rel=1e-12)


def _members_range(team) -> tuple[float, float] | None:
    att = [float(a) for a in team.leaderboard["attainment"] if not math.isnan(a)]
    return (min(att), max(att)) if att else None


@pytest.mark.parametrize("name", DATASETS)
def test_team_attainment_lies_within_its_members_attainment(batches, name):
    _, _, teams, _ = batches(name)
    assert teams
    for team in teams:
        span = _members_range(team)
        att = team.summary["attainment"]
        if span is None:  # no member has a quota: the team has none either
            assert att is None and team.summary["quota"] is None, team.name
            continue
        lo, hi = span
        assert lo - 1e-12 <= att <= hi + 1e-12, (team.name, lo, att, hi)
        assert TEAM_ATTAINMENT_RULE in team.notes  # the reader is told the rule


@pytest.mark.parametrize("name", DATASETS)
def test_company_revenue_counts_each_won_deal_of_the_teams_once(batches, name):
    params, ds, teams, rollup = batches(name)
    period = Period.parse(params.period, ds.calendar)
    cutoff = np.datetime64(min(params.as_of, period.end), "ns")
    members = {str(a) for t in teams for a in t.leaderboard["account_manager_id"]}
    credited = credited_deals(ds)
    credited_ids = set(credited.loc[credited["account_manager_id"].isin(members).to_numpy(), "deal_id"])
    d = ds.deals
    won = d["stage"].str.lower().eq("won") & d["deal_id"].isin(credited_ids)
    for start, key in ((period.start, "revenue"), (period.year.start, "ytd_revenue")):
        in_range = won & (d["close_date"] >= np.datetime64(start, "ns")) & (d["close_date"] <= cutoff)
        # the exact source amounts summed, rounded once (Superstore has sub-cent amounts)
        expected = cents_to_money(micros_to_cents(int(deal_micros(d.loc[in_range.to_numpy()]).sum())))
        assert rollup[key] == expected, key
        assert rollup[key] <= sum((t.summary[key] for t in teams), Decimal(0))  # never more than the team rows


@pytest.mark.parametrize("name", DATASETS)
def test_company_attainment_lies_within_every_account_managers_attainment(batches, name):
    _, _, teams, rollup = batches(name)
    att = [float(a) for t in teams for a in t.leaderboard["attainment"] if not math.isnan(a)]
    if not att:
        assert rollup["attainment"] is None
        return
    assert min(att) - 1e-12 <= rollup["attainment"] <= max(att) + 1e-12


@pytest.mark.parametrize("name", DATASETS)
def test_team_attainment_numerator_and_denominator_count_the_same_members(batches, name):
    params, ds, teams, _ = batches(name)
    for team in teams:
        lb = team.leaderboard
        counted = lb.loc[lb["attainment"].notna().to_numpy()]
        s = team.summary
        if counted.empty:
            continue
        # the counted members' exact credits, summed and rounded once (not their rounded revenues added)
        exact = _credit_micros(params, ds, list(counted["account_manager_id"]), "period")
        assert s["credited_revenue"] == cents_to_money(micros_to_cents(exact)), team.name
        assert s["quota"] == sum(counted["quota"], Decimal(0)), team.name
        # the revenue shown never counts a deal twice; the attainment basis is shown next to it when it differs
        if s["credited_revenue"] != s["revenue"] or s["ytd_credited_revenue"] != s["ytd_revenue"]:
            assert s["attainment_basis_differs"], team.name


def test_pooled_attainment_leaves_members_without_a_quota_out_of_both_sides():
    # a new hire with revenue but no quota must not lift the team above every measured member
    pooled = pooled_attainment([120_00, 60_00, 500_00], [100_00, 100_00, None])
    assert pooled.revenue_cents == 180_00 and pooled.quota_cents == 200_00
    assert 0.6 <= pooled.attainment <= 1.2
    zero = pooled_attainment([10_00, 20_00], [0, None])
    assert zero.quota_cents is None and math.isnan(zero.attainment)


@pytest.mark.parametrize("name", DATASETS)
def test_every_figure_set_against_quota_uses_the_attainment_basis(batches, name):
    _, _, teams, rollup = batches(name)
    for team in teams:
        s, q = team.summary, team.quarterly
        # the chart's bars next to the quota bars are the quarterly table's attainment numerator
        fig = charts.team_quarterly_chart(team)
        bars, _quota_bars = fig.axes[0].containers
        assert bars.get_label() == "Credited revenue" and "(attainment basis)" in fig.axes[0].get_title(loc="left")
        heights = [b.get_height() for b in bars]
        for h, c, qt, att in zip(heights, q["credited_revenue"], q["quota"], q["attainment"]):
            assert (c is None and math.isnan(h)) or h == float(c), team.name
            assert _same(att, _ratio(c, qt)), team.name
        assert _same(s["attainment"], _ratio(s["credited_revenue"], s["quota"])), team.name
        assert _same(s["ytd_attainment"], _ratio(s["ytd_credited_revenue"], s["ytd_quota"])), team.name
        assert _same(s["pace"], _ratio(s["credited_revenue"], s["quota_to_date"])), team.name
        assert _same(s["forecast_attainment"], _ratio(s["credited_forecast"], s["annual_quota"])), team.name
        # the forecast roll-up's total row: its forecast attainment is its own forecast over its own annual quota
        total = team.forecast.iloc[-1]
        assert total["account_manager_id"] == "TOTAL"
        assert _same(total["forecast_attainment"], _ratio(total["forecast"], total["annual_quota"])), team.name
        assert (total["forecast"], total["annual_quota"]) == (s["credited_forecast"], s["annual_quota"]), team.name
    assert _same(rollup["forecast_attainment"], _ratio(rollup["credited_forecast"], rollup["annual_quota"]))
    assert _same(rollup["attainment"], _ratio(rollup["credited_revenue"], rollup["quota"]))


@pytest.mark.parametrize("name", DATASETS)
def test_without_overlapping_credits_credited_revenue_equals_revenue_to_the_cent(batches, name):
    _, _, teams, _ = batches(name)
    for team in teams:
        s = team.summary
        pairs = [
            (s["credited_revenue"], s["revenue"]),
            (s["ytd_credited_revenue"], s["ytd_revenue"]),
            (s["credited_forecast"], s["forecast"]),
            *zip(team.quarterly["credited_revenue"], team.quarterly["revenue"]),
        ]
        # the flag that shows the second column is true exactly when some pair really differs
        assert s["attainment_basis_differs"] == any(c is not None and c != r for c, r in pairs), team.name
        everyone_counted = team.leaderboard["attainment"].notna().all() and team.forecast["forecast_attainment"].notna().all()
        if not s["crediting_overlaps"] and everyone_counted:
            assert s["credited_revenue"] == s["revenue"] and s["credited_forecast"] == s["forecast"], team.name


@pytest.mark.parametrize("name", DATASETS)
def test_forecast_total_rows_are_the_exact_total_rounded_once_for_team_and_company(batches, name):
    params, ds, teams, rollup = batches(name)
    period = Period.parse(params.period, ds.calendar)
    exact_parts = 0  # the company's members: exact YTD credits plus their forecast parts (whole cents)
    for team in teams:
        members = team.forecast.iloc[:-1]
        ytd = {a: _credit_micros(params, ds, [a], "ytd") for a in members["account_manager_id"]}
        counted = (
            members.loc[members["forecast_attainment"].notna().to_numpy()]
            if team.summary["annual_quota"] is not None
            else members
        )
        expected = micros_to_cents(
            sum(ytd[r.account_manager_id] + int((r.forecast - r.ytd_revenue) * 100) * 10_000 for r in counted.itertuples())
        )
        total = team.forecast.iloc[-1]
        assert total["forecast"] == cents_to_money(expected), team.name
        assert total["ytd_revenue"] == cents_to_money(micros_to_cents(sum(ytd[a] for a in counted["account_manager_id"])))
        exact_parts += sum(
            ytd[r.account_manager_id] + int((r.forecast - r.ytd_revenue) * 100) * 10_000 for r in members.itertuples()
        )
        if not team.summary["crediting_overlaps"]:
            assert team.summary["forecast"] == cents_to_money(
                micros_to_cents(
                    sum(
                        ytd[r.account_manager_id] + int((r.forecast - r.ytd_revenue) * 100) * 10_000 for r in members.itertuples()
                    )
                )
            )
    if len(teams) == 1 and not teams[0].summary["crediting_overlaps"]:
        # one team, no overlap: the company's forecast is its team's, the same exact total rounded once
        assert rollup["forecast"] == teams[0].summary["forecast"] == cents_to_money(micros_to_cents(exact_parts))
    if period.end <= params.as_of and not any(t.summary["crediting_overlaps"] for t in teams):
        assert rollup["forecast"] == rollup["ytd_revenue"]  # a closed year's forecast is its actuals, to the cent


def test_sub_cent_credits_pool_to_the_team_revenue_and_the_notes_say_totals_are_exact(make_dataset, make_quotas, batch_params):
    # two members each credited 1.004 (1.00 on their own rows): the team's exact 2.008 is 2.01, for revenue and attainment alike
    ds = make_dataset(
        # another team's deal on the report date: the data reaches the year's end, so the year is over
        # and its forecast is its revenue (data_cutoff: months after the data's end would be forecast)
        ams=[("A1", "Alice", "East", None, None), ("A2", "Bob", "East", None, None), ("A3", "Cara", "West", None, None)],
        deals=[
            ("D1", "A1", "C1", "2025-05-01", 100),
            ("D2", "A2", "C2", "2025-05-02", 100),
            ("D3", "A3", "C3", "2025-06-30", 100),
        ],
        quotas=make_quotas("A1", 2025, 100) + make_quotas("A2", 2025, 100) + make_quotas("A3", 2025, 100),
    )
    ds.deals["amount_micros"] = pd.Series([1_004_000, 1_004_000, 100_000_000], dtype="int64")
    t = build_team_report(ds, "East", "FY2025-Q4", batch_params, datetime.date(2025, 6, 30))
    s = t.summary
    assert list(t.leaderboard["revenue"]) == [Decimal("1.00"), Decimal("1.00")]
    assert s["revenue"] == s["credited_revenue"] == s["ytd_credited_revenue"] == Decimal("2.01")
    assert s["attainment_basis_differs"] is False
    total = t.forecast.iloc[-1]
    assert total["ytd_revenue"] == total["forecast"] == s["forecast"] == Decimal("2.01")
    assert ROLLUP_TOTAL_RULE in t.notes  # a reader adding the member rows (2.00) is told why the total says 2.01
    rollup = build_company_rollup(ds, [t], "FY2025-Q4", batch_params, datetime.date(2025, 6, 30))
    assert rollup["forecast"] == rollup["credited_forecast"] == rollup["ytd_revenue"] == Decimal("2.01")
    assert ROLLUP_TOTAL_RULE in rollup["notes"]


@pytest.mark.parametrize("name", DATASETS)
def test_the_analysts_team_forecast_attainment_is_the_team_reports(batches, name):
    """``rk.forecast_table(level="team")`` follows the same roll-up rule as the team report:
    members' forecasts over their annual quotas, never the each-deal-once team forecast over
    the members' summed quotas (AdventureWorks' overlapping teams used to disagree)."""
    import reportkit as rk

    params, ds, teams, _ = batches(name)
    table = rk.forecast_table(ds, params.period, level="team", params=params, as_of=params.as_of).set_index("entity")
    for team in teams:
        shown = team.summary["forecast_attainment"]
        got = table.loc[team.name, "forecast_attainment"]
        if shown is None:
            assert math.isnan(got), team.name
        else:
            assert got == pytest.approx(shown, abs=1e-12), team.name
            assert table.loc[team.name, "credited_forecast"] == team.summary["credited_forecast"], team.name
