"""Open defects of issue #13 in shapes already shipped (the fixes group), each pinned by a test.

Every worked example is the one in docs/commission.md, "Plan shapes: fixes", where its
public source is cited and the arithmetic is done by hand. Plans are YAML files loaded
with ``load_plan`` (the public path) and run through ``engine.compute``.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from engine_helpers import dataset, lines, run, summary
from test_plan_shapes_incentive import BCR_PLAN_OTE_100K_QUOTA_500K

from reportkit.config.plans import load_plan
from reportkit.core.errors import PlanError

D = Decimal
Q1 = ("2025-01-01", "2025-03-31")
Q2 = ("2025-04-01", "2025-06-30")


def plan_file(tmp_path, text, name="plan.yaml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return load_plan(p)


def refusal(tmp_path, text) -> str:
    with pytest.raises(PlanError) as info:
        plan_file(tmp_path, text)
    return str(info.value)


# fixture plans named after the case -------------------------------------------------
SEASONAL_ON_A_QUARTERLY_TABLE = """\
name: seasonal on quarterly rows
quota: {source: table, split: seasonal, seasonal_weights: ["0.20", "0.25", "0.25", "0.30"]}
rates: {method: flat, basis: attainment, tiers: [{from: 0, rate: "0.05"}]}
"""
RAMP_AMOUNT_ABOVE_A_MONTH_OF_QUOTA = """\
name: ramp above full quota
period: month
quota: {source: table, ramp_amounts: ["10000.00", "60000.00"]}
rates: {method: flat, basis: attainment, tiers: [{from: 0, rate: "0.05"}]}
"""
REFUSE_PER_PERIOD = """\
name: refuse per period
undefined_attainment: refuse
rates: {method: retroactive, basis: attainment, tiers: [{from: 0, rate: "0.05"}, {from: "1.0", rate: "0.10"}]}
"""
REFUSE_YTD = """\
name: refuse ytd
undefined_attainment: refuse
rates: {method: retroactive, basis: attainment, accumulation: ytd, tiers: [{from: 0, rate: "0.05"}, {from: "1.0", rate: "0.10"}]}
"""
GATED_MARGINAL = """\
name: gated
rates:
  method: marginal
  basis: attainment
  gate: "0.5"
  tiers: [{from: 0, rate: "0.05", label: base}, {from: "1.0", rate: "0.10", label: accelerator}]
"""
# a rate component whose name reads like a gate rule: words must not come from parsing the text
COMPONENT_NAMED_LIKE_A_GATE = """\
name: named like a gate
rates: {method: flat, basis: amount, tiers: [{from: 0, rate: "0.05"}]}
rate_components:
  - {name: "x: below gate 2", method: flat, basis: amount, tiers: [{from: 0, rate: "0.01", label: kicker}]}
"""


# item 4: contradictory quota keys ---------------------------------------------------
def test_seasonal_split_on_a_quarterly_quotas_table_is_refused_naming_key_row_and_fix(tmp_path):
    ds = dataset([("d1", "a", "2025-02-01", "1000.00", "P")], [("a", *Q1, "90000.00")])
    with pytest.raises(PlanError) as info:
        run(plan_file(tmp_path, SEASONAL_ON_A_QUARTERLY_TABLE), ds, "FY2025-Q1")
    msg = str(info.value)
    assert "plan.yaml: key 'quota.split': 'seasonal'" in msg
    assert "quotas row 2, account manager 'a', 2025-01-01 to 2025-03-31" in msg
    assert "remove split and seasonal_weights" in msg


def test_seasonal_split_on_a_whole_year_quotas_row_splits_it_by_the_weights(tmp_path):
    ds = dataset([("d1", "a", "2025-02-01", "1000.00", "P")], [("a", "2025-01-01", "2025-12-31", "100000.00")])
    res = run(plan_file(tmp_path, SEASONAL_ON_A_QUARTERLY_TABLE), ds, "FY2025-Q2")
    assert summary(res, "a", "FY2025-Q1", "quota_cents") == D("20000.00")
    assert summary(res, "a", "FY2025-Q2", "quota_cents") == D("25000.00")


def test_shipped_standard_plan_does_not_declare_seasonal_weights_its_quarterly_table_ignores():
    std = load_plan("params/plans/standard.yaml")
    assert std.quota.source == "table" and std.quota.split == "even" and std.quota.seasonal_weights is None


def test_ramp_amount_above_a_full_month_of_quota_is_refused_naming_the_key_and_the_full_quota(tmp_path):
    # monthly quota 45,000.00; tenure month 2 says 60,000.00: a quarter's figure, not a month's
    quotas = [("a", f"2025-{m:02d}-01", f"2025-{m:02d}-{d}", "45000.00") for m, d in ((1, 31), (2, 28), (3, 31))]
    ds = dataset([("d1", "a", "2025-02-10", "1000.00", "P")], quotas, ams=[("a", "2025-01-01", None)])
    with pytest.raises(PlanError) as info:
        run(plan_file(tmp_path, RAMP_AMOUNT_ABOVE_A_MONTH_OF_QUOTA), ds, "FY2025-M03")
    msg = str(info.value)
    assert "plan.yaml: key 'quota.ramp_amounts.1': 60000.00 (tenure month 2)" in msg
    assert "above the full quota of a month, 45,000.00" in msg and "account manager 'a' in FY2025-M02" in msg


def test_ramp_amount_above_the_plans_own_monthly_quota_is_refused_when_the_plan_loads(tmp_path):
    text = 'name: r\nquota: {source: plan, annual: "120000.00", ramp_amounts: ["5000.00", "12000.00"]}\n'
    text += 'rates: {method: flat, basis: attainment, tiers: [{from: 0, rate: "0.05"}]}\n'
    msg = refusal(tmp_path, text)
    assert "plan.yaml, line 2: key 'quota.ramp_amounts.1'" in msg and "(got '12000.00')" in msg
    assert "10,000.00" in msg  # 120,000.00 / 12


# item 5: cross-field errors name their key path and line ---------------------------------
@pytest.mark.parametrize(
    ("text", "where"),
    [
        pytest.param(
            'name: x\note: "100000.00"\nbase_salary: "150000.00"\nrates: {method: flat, tiers: [{from: 0, rate: "0.1"}]}\n',
            "plan.yaml, line 3: key 'base_salary'",
            id="base_salary_above_ote",
        ),
        pytest.param(
            'name: x\nrates: {method: flat, tiers: [{from: 0, rate: "0.1"}]}\ncap: {of_ti: "2.0"}\n',
            "plan.yaml, line 3: key 'cap.of_ti'",
            id="of_ti_without_ote",
        ),
        pytest.param(
            'name: x\note: "100000.00"\nbase_salary: "50000.00"\nquota: {source: plan, annual: "500000.00"}\n'
            'rates:\n  method: flat\n  tiers:\n    - {from: 0, rate: "0.1", bcr_multiple: "1.0"}\n',
            "plan.yaml, line 8: key 'rates.tiers.0.rate'",
            id="rate_with_bcr_multiple",
        ),
        pytest.param(
            'name: x\nquota:\n  ramp_amounts: ["1000.00", "-5.00"]\nrates: {method: flat, tiers: [{from: 0, rate: "0.1"}]}\n',
            "plan.yaml, line 3: key 'quota.ramp_amounts.1'",
            id="negative_ramp_amount",
        ),
    ],
)
def test_cross_field_plan_errors_name_the_key_path_and_its_yaml_line(tmp_path, text, where):
    msg = refusal(tmp_path, text)
    assert where in msg
    assert "(top level)" not in msg and "key 'quota':" not in msg


# item 6: undefined_attainment: refuse on per-period and year-to-date plans ------------------
ZERO_Q1_THEN_Q2 = [("a", *Q1, "0.00"), ("a", *Q2, "20000.00")]
DEALS_Q1_Q2 = [("d1", "a", "2025-02-01", "10000.00", "P"), ("d2", "a", "2025-05-01", "10000.00", "P")]


def test_refuse_on_a_per_period_plan_concerns_only_the_period_asked_for(tmp_path):
    res = run(plan_file(tmp_path, REFUSE_PER_PERIOD), dataset(DEALS_Q1_Q2, ZERO_Q1_THEN_Q2), "FY2025-Q2")
    # Q2 stands alone: 10,000.00 on a 20,000.00 quota, 50 % -> 5 % = 500.00
    assert summary(res, "a", "FY2025-Q2", "commission_cents") == D("500.00")
    # the earlier quarter with no quota earns nothing (it is not paid through the missing quota)
    q1 = lines(res, "a", "FY2025-Q1", "commission")
    assert q1["amount"].tolist() == [D("0.00")]
    assert "before the one asked for" in q1["rule"].iloc[0]


def test_refuse_on_a_per_period_plan_still_stops_the_period_asked_for(tmp_path):
    with pytest.raises(PlanError, match=r"key 'undefined_attainment': 'refuse'.*account manager 'a' in FY2025-Q1"):
        run(plan_file(tmp_path, REFUSE_PER_PERIOD), dataset(DEALS_Q1_Q2, ZERO_Q1_THEN_Q2), "FY2025-Q1")


def test_refuse_on_a_year_to_date_plan_counts_a_zero_quota_in_an_earlier_period(tmp_path):
    with pytest.raises(PlanError, match=r"'refuse'.*account manager 'a' in FY2025-Q1"):
        run(plan_file(tmp_path, REFUSE_YTD), dataset(DEALS_Q1_Q2, ZERO_Q1_THEN_Q2), "FY2025-Q2")


# item 7: a line's words come from its kind, never from parsing its rule text -------------
def test_a_line_below_the_gate_reads_as_its_rule_and_a_paid_line_as_its_tier(tmp_path):
    deals = [("g1", "a", "2025-01-10", "4000.00", "P"), ("g2", "b", "2025-01-10", "6000.00", "P")]
    ds = dataset(deals, [("a", *Q1, "10000.00"), ("b", *Q1, "10000.00")])
    res = run(plan_file(tmp_path, GATED_MARGINAL), ds, "FY2025-Q1")
    below = lines(res, "a", "FY2025-Q1", "commission")
    assert below["description"].tolist() == ["gated: below gate 0.5 attainment: nothing earned"]
    paid = lines(res, "b", "FY2025-Q1", "commission")
    assert paid["description"].iloc[0].startswith('gated: commission, tier 1 "base" (from 0 % up to 100 % of quota')


def test_a_rate_component_named_like_a_gate_rule_is_still_described_as_its_tier(tmp_path):
    res = run(plan_file(tmp_path, COMPONENT_NAMED_LIKE_A_GATE), dataset([("k1", "a", "2025-01-10", "1000.00", "P")]), "FY2025-Q1")
    words = lines(res, "a", "FY2025-Q1", "commission")["description"].tolist()
    assert words[1].startswith('named like a gate: commission, component x: below gate 2, tier 1 "kicker"')
    assert words[1].endswith("at 1 %")


# item 1: a BCR that does not terminate is kept exact ------------------------------------
# the incentive group's BCR plan (OTE 100,000.00, half variable) on a quota of 600,000.00: BCR 1/12
BCR_TI_50K_QUOTA_600K = BCR_PLAN_OTE_100K_QUOTA_500K.replace('"500000.00"', '"600000.00"')


def test_bcr_that_does_not_terminate_pays_the_target_incentive_to_the_cent_at_quota(tmp_path):
    p = plan_file(tmp_path, BCR_TI_50K_QUOTA_600K)
    # BCR = 50,000 / 600,000 = 1/12 exactly; shown rounded to six decimals
    assert [t.rate for t in p.rates.tiers] == [D("0.083333"), D("0.125")]
    deals = [("r1", "a", "2025-02-01", "150000.00", "P")]  # exactly 100 % of the Q1 quota of 150,000.00
    res = run(p, dataset(deals, ams=[("a", None, None)]), "FY2025-Q1")
    # 150,000.00 x 1/12 = 12,500.00: a quarter of the TI (12,499.95 at the rounded rate)
    assert summary(res, "a", "FY2025-Q1", "commission_cents") == D("12500.00")
    line = lines(res, "a", "FY2025-Q1", "commission")
    assert line["rate"].tolist() == [D("0.083333")]
    assert "1.0 x the base commission rate = 1/12" in line["description"].iloc[0]


def test_bcr_lines_are_each_rounded_once_half_away_from_zero_and_sum_to_the_total(tmp_path):
    p = plan_file(tmp_path, BCR_TI_50K_QUOTA_600K)
    deals = [
        ("r1", "a", "2025-01-10", "100000.01", "P"),  # x 1/12 = 8,333.334166... -> 8,333.33
        ("r2", "a", "2025-02-10", "60000.00", "P"),  # 49,999.99 below quota x 1/12 = 4,166.665833 -> 4,166.67
        # and 10,000.01 above it x 1.5/12 = 1/8: 1,250.00125 -> 1,250.00
        ("r3", "a", "2025-03-10", "-6.00", "P"),  # a return above quota x 1/8 = -0.75
    ]
    res = run(p, dataset(deals, ams=[("a", None, None)]), "FY2025-Q1")
    com = lines(res, "a", "FY2025-Q1", "commission")
    assert com["amount"].tolist() == [D("8333.33"), D("4166.67"), D("1250.00"), D("-0.75")]
    assert summary(res, "a", "FY2025-Q1", "commission_cents") == D("13749.25") == sum(com["amount"])


def test_bcr_multiple_above_one_hundred_percent_is_refused_naming_the_tier(tmp_path):
    text = BCR_TI_50K_QUOTA_600K.replace('bcr_multiple: "1.5"', 'bcr_multiple: "13"')
    msg = refusal(tmp_path, text)
    assert "key 'rates.tiers.1.bcr_multiple'" in msg and "above 1 (100 % of credited revenue)" in msg


# item 3: the quota a report shows is the quota the plan pays on ----------------------------
def test_report_shows_the_plans_own_quota_not_the_quotas_table_when_the_plan_says_source_plan(tmp_path):
    from pathlib import Path

    from reportkit.analysis.api import load
    from reportkit.domain.commission import plan_result
    from reportkit.reports.builders import build_account_manager_report
    from reportkit.reports.context import report_context

    root = Path(__file__).resolve().parents[1]
    plan = tmp_path / "plan_quota_720k.yaml"  # 180,000.00 a quarter; the demo's table says 170,000.00 for AM-003
    plan.write_text(
        'name: plan quota\nquota: {source: plan, annual: "720000.00", proration: none}\n'
        'rates: {method: flat, basis: attainment, tiers: [{from: 0, rate: "0.05"}]}\n',
        encoding="utf-8",
    )
    demo = root / "params" / "demo.yaml"
    params_file = demo.parent / f".test-plan-quota-{tmp_path.name}.yaml"
    params_file.write_text(demo.read_text(encoding="utf-8") + f"plan: {plan.as_posix()}\n", encoding="utf-8")
    try:
        params, ds = load(params_file)
        report = build_account_manager_report(ds, "AM-003", params.period, params, params.as_of)
        ctx = report_context(ds, params, params.period, params.as_of)
        engine_quota = plan_result(ds, *(load_plan(plan), None), ctx.period, ctx.cutoff, ctx.plan_input_quotas).summary
        want = engine_quota.loc[
            (engine_quota["account_manager_id"] == "AM-003") & (engine_quota["period"] == params.period), "quota_cents"
        ].iloc[0]
        assert want == 18_000_000
        assert report.summary["quota"] == D("180000.00")  # the engine's quota, not the table's 170,000.00
        assert report.summary["annual_quota"] == D("720000.00") and report.summary["ytd_quota"] == D("720000.00")
        assert report.summary["attainment"] == pytest.approx(float(report.summary["revenue"] / D("180000.00")))
        # the performance history (performance watch) measures the quarter on the same quota
        q4 = report.performance.loc[report.performance["period"] == params.period, "attainment"].iloc[0]
        assert q4 == pytest.approx(report.summary["attainment"])
    finally:
        params_file.unlink()


# item 2: a pay curve as a percent of the target incentive ----------------------------------
# mrexcel.com thread 857705: annual commission opportunity 21,000; at 100 % of quota 100 % of it,
# then 2 % of it for every 1 % above quota up to 150 %, then 1 % per 1 % up to 200 %
CURVE_OF_TI_YTD = """\
name: curve of TI
ote: "21000.00"
quota: {source: plan, annual: "1000000.00", proration: none}
rates:
  method: curve
  basis: attainment
  accumulation: ytd
  curve:
    - {at: 0, of_ti: "0"}
    - {at: "1.0", of_ti: "1.0"}
    - {at: "1.5", of_ti: "2.0"}
    - {at: "2.0", of_ti: "2.5"}
"""


@pytest.mark.parametrize(
    ("q4_deal", "year_payout"),
    [
        pytest.param("300000.00", D("23100.00"), id="105_percent_pays_21000_plus_2100"),
        pytest.param("400000.00", D("27300.00"), id="115_percent_pays_21000_plus_6300"),
    ],
)
def test_pay_curve_of_the_target_incentive_pays_the_sources_overachievement(tmp_path, q4_deal, year_payout):
    deals = [
        ("y1", "a", "2025-02-01", "250000.00", "P"),
        ("y2", "a", "2025-05-01", "250000.00", "P"),
        ("y3", "a", "2025-08-01", "250000.00", "P"),
        ("y4", "a", "2025-11-01", q4_deal, "P"),
    ]
    res = run(plan_file(tmp_path, CURVE_OF_TI_YTD), dataset(deals), "FY2025-Q4")
    year = [summary(res, "a", f"FY2025-Q{q}", "commission_cents") for q in (1, 2, 3, 4)]
    # Q1..Q3 at 100 % of the YTD quota: 100 % of the YTD TI, 5,250.00 a quarter
    assert year[:3] == [D("5250.00")] * 3
    assert sum(year) == year_payout
    words = lines(res, "a", "FY2025-Q4", "commission")["description"].iloc[0]
    assert "segment 2 of the pay curve, from 100 % to 150 % of quota (pays 100 % of the target incentive to 200 %" in words


CURVE_OF_TI_PER_PERIOD = """\
name: curve of TI per quarter
ote: "160000.00"
base_salary: "80000.00"
rates:
  method: curve
  basis: attainment
  curve: [{at: 0, of_ti: "0"}, {at: "1.0", of_ti: "1.0"}, {at: "1.5", of_ti: "2.0"}]
"""


def test_pay_curve_of_the_target_incentive_uses_the_ti_prorated_with_quota_for_a_mid_quarter_hire(tmp_path):
    # hired 10 Feb: active 50 of Q1's 90 days; quota 90,000.00 x 50/90 = 50,000.00; TI 80,000 x 50/360 = 11,111.11
    ds = dataset(
        [("h1", "a", "2025-02-20", "50000.00", "P"), ("h2", "a", "2025-03-20", "25000.00", "P")],
        [("a", *Q1, "90000.00")],
        ams=[("a", "2025-02-10", None)],
    )
    res = run(plan_file(tmp_path, CURVE_OF_TI_PER_PERIOD), ds, "FY2025-Q1")
    com = lines(res, "a", "FY2025-Q1", "commission")
    # 100 % -> 1.0 x 11,111.11; 150 % -> 2.0 x 11,111.11 = 22,222.22, the second deal the rise
    assert com["amount"].tolist() == [D("11111.11"), D("11111.11")]
    assert summary(res, "a", "FY2025-Q1", "commission_cents") == D("22222.22")


def test_a_curve_mixing_money_and_fractions_of_ti_is_refused_naming_the_point(tmp_path):
    text = CURVE_OF_TI_PER_PERIOD.replace('{at: "1.5", of_ti: "2.0"}', '{at: "1.5", pay: "2000.00"}')
    msg = refusal(tmp_path, text)
    assert "key 'rates.curve.2'" in msg and "all 'pay' (money) or all 'of_ti'" in msg


def test_quotas_shown_are_prorated_as_the_plan_pays_and_no_quota_stays_no_quota(tmp_path):
    from reportkit.domain.engine import quotas_shown

    p = plan_file(tmp_path, 'name: table plan\nrates: {method: flat, basis: attainment, tiers: [{from: 0, rate: "0.05"}]}\n')
    ds = dataset(
        [("d1", "a", "2025-02-20", "1000.00", "P"), ("d2", "b", "2025-02-20", "1000.00", "P")],
        [("a", *Q1, "90000.00")],
        ams=[("a", "2025-02-10", None), ("b", None, None)],
    )
    shown = quotas_shown(ds, p, None, ds.quotas, [2025])
    # a: 90,000.00 x 50 / 90 days = 50,000.00, the quota the engine pays on; b has no quota row: none shown
    assert shown[["account_manager_id", "quota_cents"]].values.tolist() == [["a", 5_000_000]]
    assert summary(run(p, ds, "FY2025-Q1"), "a", "FY2025-Q1", "quota_cents") == D("50000.00")
