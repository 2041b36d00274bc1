"""Plan YAML: strict, typed, with messages naming key, value and the allowed set."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from reportkit.config.plans import load_assignments, load_plan, load_plans
from reportkit.core.errors import PlanError

PLANS = Path(__file__).resolve().parents[1] / "params" / "plans"
MIN = 'name: t\nrates:\n  method: flat\n  basis: amount\n  tiers: [{from: 0, rate: "0.05"}]\n'


def write(tmp_path, text, name="plan.yaml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_shipped_plans_load_with_their_documented_values():
    plans = load_plans(PLANS)
    assert {"standard", "retroactive_ytd", "overlay_territory"} <= set(plans)
    std = plans["standard"]
    assert std.rates.method == "marginal" and std.rates.basis == "attainment"
    assert [t.rate for t in std.rates.tiers] == [Decimal("0.04"), Decimal("0.08"), Decimal("0.12"), Decimal("0.15")]
    assert std.cap.amount == Decimal("60000.00") and std.cap.carry_excess
    assert std.target_incentive == Decimal("80000.00")
    assert std.quota.source == "table" and std.quota.split == "even"  # quarterly quota rows: no seasonal weights


def test_unknown_top_level_key_has_did_you_mean(tmp_path):
    with pytest.raises(PlanError) as info:
        load_plan(write(tmp_path, MIN + "capp: {amount: '1.00'}\n"))
    msg = str(info.value)
    assert "plan.yaml" in msg and "'capp'" in msg and "did you mean 'cap'" in msg and "allowed:" in msg


def test_unknown_key_inside_a_tier_lists_allowed_tier_keys(tmp_path):
    text = 'name: t\nrates:\n  method: flat\n  basis: amount\n  tiers: [{from: 0, rte: "0.05"}]\n'
    with pytest.raises(PlanError) as info:
        load_plan(write(tmp_path, text))
    msg = str(info.value)
    assert "rates.tiers.0.rte" in msg and "did you mean 'rate'" in msg and "from, rate, label" in msg


def test_bad_choice_names_value_and_allowed_set(tmp_path):
    with pytest.raises(PlanError) as info:
        load_plan(write(tmp_path, MIN.replace("method: flat", "method: retro")))
    msg = str(info.value)
    assert "rates.method" in msg and "'retro'" in msg and "'retroactive'" in msg and "'marginal'" in msg


def test_negative_quota_is_a_validation_error(tmp_path):
    with pytest.raises(PlanError) as info:
        load_plan(write(tmp_path, MIN + "quota: {source: plan, annual: '-100.00'}\n"))
    assert "quota.annual" in str(info.value) and "-100.00" in str(info.value)


def test_money_as_float_is_refused(tmp_path):
    with pytest.raises(PlanError) as info:
        load_plan(write(tmp_path, MIN + "cap: {amount: 100.5}\n"))
    assert "cap.amount" in str(info.value) and "quoted string" in str(info.value)


def test_tiers_must_start_at_zero_and_increase(tmp_path):
    text = (
        "name: t\nrates:\n  method: marginal\n  basis: amount\n"
        '  tiers: [{from: 0, rate: "0.05"}, {from: "10.00", rate: "0.1"}, {from: "5.00", rate: "0.2"}]\n'
    )
    with pytest.raises(PlanError) as info:
        load_plan(write(tmp_path, text))
    assert "strictly increase" in str(info.value)


@pytest.mark.parametrize(
    "schedule,where",
    [
        (
            '  method: marginal\n  basis: amount\n  tiers:\n    - {from: 0, rate: "0.05"}\n'
            '    - {from: "10.00", rate: "0.1"}\n    - {from: "5.00", rate: "0.2"}\n',
            "line 8: key 'rates.tiers.2.from': tier bounds must strictly increase",
        ),
        (
            '  method: marginal\n  basis: amount\n  tiers:\n    - {from: "1.00", rate: "0.05"}\n',
            "line 6: key 'rates.tiers.0.from': the first tier must start at 0 (got '1.00')",
        ),
        (
            '  method: curve\n  basis: amount\n  curve:\n    - {at: 0, pay: "0"}\n    - {at: 0, pay: "1.00"}\n',
            "line 7: key 'rates.curve.1.at': curve points 'at' must strictly increase",
        ),
    ],
)
def test_a_tier_or_curve_point_out_of_order_is_named_at_its_own_line(tmp_path, schedule, where):
    with pytest.raises(PlanError) as info:
        load_plan(write(tmp_path, "name: t\nrates:\n" + schedule))
    assert where in str(info.value)


def test_pay_mix_must_match_base_and_ote(tmp_path):
    text = MIN + 'base_salary: "70000.00"\note: "160000.00"\npay_mix: {base: "0.5", variable: "0.5"}\n'
    with pytest.raises(PlanError) as info:
        load_plan(write(tmp_path, text))
    assert "80000.00" in str(info.value) and "70000.00" in str(info.value)


def test_seasonal_weights_must_sum_to_one(tmp_path):
    text = MIN + 'quota: {split: seasonal, seasonal_weights: ["0.2", "0.2", "0.2", "0.2"]}\n'
    with pytest.raises(PlanError) as info:
        load_plan(write(tmp_path, text))
    assert "sum to 1" in str(info.value) and "0.8" in str(info.value)


@pytest.mark.parametrize(
    "quota, words",
    [
        ('{source: table, annual: "600000.00"}', ["'annual' (600000.00) is read only with source 'plan'", "set source: plan"]),
        ('{split: even, seasonal_weights: ["0.25", "0.25", "0.25", "0.25"]}', ["only with split 'seasonal'", "set split"]),
    ],
    ids=["annual-with-table-source", "weights-with-even-split"],
)
def test_a_quota_key_the_plan_would_ignore_is_refused_naming_the_fix(tmp_path, quota, words):
    with pytest.raises(PlanError) as info:
        load_plan(write(tmp_path, MIN + f"quota: {quota}\n"))
    assert all(w in str(info.value) for w in words), str(info.value)


def test_missing_file_is_a_plan_error(tmp_path):
    with pytest.raises(PlanError, match="does not exist"):
        load_plan(tmp_path / "nope.yaml")


def test_assignments_are_effective_dated():
    plans = load_plans(PLANS)
    a = load_assignments(PLANS / "assignments.yaml", plans)
    assert a.plan_for("00731", dt.date(2025, 6, 30)) == "standard"
    assert a.plan_for("00731", dt.date(2025, 7, 1)) == "retroactive_ytd"
    assert a.plan_for("00812", dt.date(2025, 2, 14)) is None
    # a plan starting inside a period applies to the period in which it is in force at period end
    assert a.plan_for_period("00812", dt.date(2025, 1, 1), dt.date(2025, 3, 31)) == "standard"


def test_overlapping_assignments_are_refused(tmp_path):
    text = (
        "assignments:\n  - {account_manager_id: '1', plan: a, start: 2025-01-01, end: 2025-06-30}\n"
        "  - {account_manager_id: '1', plan: b, start: 2025-06-01}\n"
    )
    with pytest.raises(PlanError, match="overlaps"):
        load_assignments(write(tmp_path, text, "assignments.yaml"))


def test_unquoted_numeric_id_and_unknown_plan_are_refused(tmp_path):
    with pytest.raises(PlanError, match="must be quoted"):
        load_assignments(write(tmp_path, "assignments:\n  - {account_manager_id: 731, plan: a, start: 2025-01-01}\n"))
    with pytest.raises(PlanError, match="did you mean 'standard'"):
        load_assignments(
            write(tmp_path, "assignments:\n  - {account_manager_id: '7', plan: standrd, start: 2025-01-01}\n"),
            plans=["standard", "retroactive_ytd"],
        )


@pytest.mark.parametrize("key", ["currency", "payout_currency"])
def test_a_currency_code_in_lower_case_is_refused_naming_the_key_and_the_code_in_capitals(tmp_path, key):
    with pytest.raises(PlanError) as info:
        load_plan(write(tmp_path, MIN + f"{key}: gbp\npayout_conversion: period_end\n"))
    msg = info.value.message
    assert f"key '{key}': {key} must be a 3-letter ISO 4217 code in capitals, e.g. GBP (got 'gbp')" in msg
    assert "pattern" not in msg


def test_a_refused_ote_is_reported_alone_without_the_target_incentive_it_leaves_missing(tmp_path):
    measures = 'base_salary: "100000.00"\nmeasures: [{name: revenue, weight: "0.8"}, {name: csat, weight: "0.2", target: "1"}]\n'
    with pytest.raises(PlanError) as info:
        load_plan(write(tmp_path, MIN + "ote: 230000.5\n" + measures))
    msg = info.value.message
    assert "key 'ote': 230000.5 is a float" in msg
    assert "target incentive" not in msg and len(msg.splitlines()) == 1
    with pytest.raises(PlanError, match="measures pay weight x attainment x the target incentive, but the plan has none"):
        load_plan(write(tmp_path, MIN + measures))  # no ote at all: the target incentive is the root error


@pytest.mark.parametrize(
    "extra, where, value",
    [
        ("cap: {amount: '-5'}\n", "line 6: key 'cap.amount'", "-5"),
        ("", "line 5: key 'rates.tiers.0.rate'", "-0.05"),
    ],
    ids=["negative_cap", "negative_tier_rate"],
)
def test_a_value_below_its_range_names_file_line_key_value_what_is_allowed_and_the_fix(tmp_path, extra, where, value):
    text = (MIN if extra else MIN.replace('rate: "0.05"', 'rate: "-0.05"')) + extra
    with pytest.raises(PlanError) as info:
        load_plan(write(tmp_path, text))
    msg = str(info.value)
    assert f"plan.yaml, {where}: {value} is below 0: allowed is 0 or more; write a value of at least 0" in msg
    assert "Input should be" not in msg


def test_a_rate_above_one_says_rates_are_fractions(tmp_path):
    with pytest.raises(PlanError) as info:
        load_plan(write(tmp_path, MIN.replace('rate: "0.05"', 'rate: "5"')))
    assert (
        "key 'rates.tiers.0.rate': 5 is above 1: allowed is at most 1; write a value of at most 1 (a fraction: 1 == 100 %"
        in str(info.value)
    )
