"""Roll-ups that add up: team attainment lies within its members' range, and the
company counts each deal once.

Checked on the demo and on the three public data sets (``realdata``: skipped when
``../shared/data`` is absent), from report objects built in-process (no kernels).
The company's revenue is recomputed from the canonical ``deals`` table: each won
deal closed in the period that credits at least one member, counted once.
"""

from __future__ import annotations

import math
import os
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from reportkit.domain.crediting import credited_deals
from reportkit.config.loading import load_inputs
from reportkit.data.model import deal_micros
from reportkit.core.money import cents_to_money, micros_to_cents
from reportkit.core.periods import Period
from reportkit.domain.quota import pooled_attainment
from reportkit.reports.builders import TEAM_ATTAINMENT_RULE, build_company_rollup, build_team_report, plan_reports

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("REPORTKIT_DATA_DIR") or ROOT.parent / "shared" / "data")
_REAL = [pytest.mark.realdata, pytest.mark.skipif(not DATA.is_dir(), reason=f"real data sets not found at {DATA}")]

DATASETS = [
    pytest.param("demo", id="demo"),
    pytest.param("maven_crm", id="maven_crm", marks=_REAL),
    pytest.param("adventureworks", id="adventureworks", marks=_REAL),
    pytest.param("superstore", id="superstore", marks=_REAL + [pytest.mark.filterwarnings("ignore:The xlrd engine is deprecated")]),
]


@pytest.fixture(scope="module")
def batches():
    cache: dict[str, tuple] = {}

    def get(name: str):
        if name not in cache:
            params, ds = load_inputs(ROOT / "params" / f"{name}.yaml")
            teams = [
                build_team_report(ds, s.id, params.period, params, params.as_of)
                for s in plan_reports(ds, params) if s.kind == "team"
            ]
            cache[name] = (params, ds, teams, build_company_rollup(ds, teams, params.period, params, params.as_of))
        return cache[name]

    return get


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
    credited_ids = set(credited_deals(ds).query("account_manager_id in @members")["deal_id"])
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
    _, _, teams, _ = batches(name)
    for team in teams:
        lb = team.leaderboard
        counted = lb.loc[lb["attainment"].notna().to_numpy()]
        s = team.summary
        if counted.empty:
            continue
        assert s["credited_revenue"] == sum(counted["revenue"], Decimal(0)), team.name
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
