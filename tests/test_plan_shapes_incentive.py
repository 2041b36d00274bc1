"""Plan shapes of the incentive group (issue #13 items 4, 5 and 16), each pinned to the cent.

Every worked example is the one in docs/commission.md, "Plan shapes: target
incentive, per-deal limits, undefined attainment", where its public source is cited
and the arithmetic is done by hand. The plans are written as YAML files and loaded
with ``load_plan`` (the public path), then run through ``engine.compute``.

Sources:
  [SALKIN] mikesalkin.com/examples.txt: 1 % up to 300,000 then 0.5 % per deal, minimum
           commission 1,000 (50,000 -> 1,000 "2.000 %"; 400,000 -> 3,500; 800,000 -> 5,500)
  [BE]     help.brokerageengine.com ... setup-percentage-fee-with-min-max-values: 10 %,
           never less than 50 nor more than 500
  [SFINS]  help.salesforce.com InsCommissionService:calculate: a negative amount is a
           chargeback; otherwise the commission is compared to the min and max amounts
  [GROWTH] growthprocess.com ... on-the-wisdom-or-not-of-sales-commission-caps: a maximum
           per deal "on the order of the rep's annual variable target income"
  [LAWINS] lawinsider.com/clause/target-incentive-payment: payment "ranging from none to
           200 % of the targeted amount", "pro-rated to reflect a partial year"
  [DRAFTS] alldrafts.com ... target-bonus: a bonus as a percentage of the target bonus,
           "prorated based upon the number of days" employed
  [QP]     intercom.help/quotapath ... automatic-commission-rates: "Base Commission Rate =
           Variable Pay / Quota", accelerated rate = base rate x multiplier
  [STUDY]  study.com commission lesson (mirrored at investguiding.com): OTE 100,000, 50 %
           variable, quota 500,000 -> commission rate 50,000 / 500,000 = 10 %
  [WAW]    worldatwork.org ... stop-setting-unachievable-sales-quotas: a threshold, "a
           minimum level of performance, that reps must reach before earning any incentives"
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest
from engine_helpers import dataset, lines, money_sum, run, summary

from reportkit.config.plans import load_plan
from reportkit.core.errors import PlanError

D = Decimal
Q1 = ("2025-01-01", "2025-03-31")

# fixture data named after the case ---------------------------------------------------
SALKIN_PER_DEAL_MINIMUM = """\
name: per-deal minimum
rates:
  method: marginal
  basis: amount
  accumulation: per_deal
  tiers:
    - {from: 0, rate: "0.01"}
    - {from: "300000.00", rate: "0.005"}
deal_limits: {min: "1000.00"}
"""
SALKIN_DEALS = [
    ("s1", "a", "2025-01-10", "50000.00", "P"),
    ("s2", "a", "2025-01-11", "100000.00", "P"),
    ("s3", "a", "2025-01-12", "200000.00", "P"),
    ("s4", "a", "2025-01-13", "400000.00", "P"),
    ("s5", "a", "2025-01-14", "800000.00", "P"),
]
FEE_10_PCT_MIN_50_MAX_500 = """\
name: per-deal min and max
rates: {method: flat, basis: amount, tiers: [{from: 0, rate: "0.10"}]}
deal_limits: {min: "50.00", max: "500.00"}
"""
TI_80K = 'ote: "160000.00"\nbase_salary: "80000.00"\n'  # TI = 80,000.00 a year, 20,000.00 a quarter
DEAL_MAX_ONE_YEAR_OF_TI = (
    "name: deal max of TI\n" + TI_80K + 'rates: {method: flat, basis: amount, tiers: [{from: 0, rate: "0.10"}]}\n'
    'deal_limits: {max_of_ti: "1.0"}\n'
)
CAP_TWICE_TI = (
    "name: cap 2x TI\n" + TI_80K + 'rates: {method: flat, basis: amount, tiers: [{from: 0, rate: "0.10"}]}\n'
    'cap: {per: period, of_ti: "2.0"}\n'
)
KICKER_TENTH_OF_TI = (
    "name: kicker 10 % of TI\n" + TI_80K + 'rates: {method: flat, basis: amount, tiers: [{from: 0, rate: "0.05"}]}\n'
    'bonuses: [{name: kicker, attainment_at_least: "1.0", per: period, of_ti: "0.10"}]\n'
)
BCR_PLAN_OTE_100K_QUOTA_500K = """\
name: BCR
ote: "100000.00"
pay_mix: {base: "0.5", variable: "0.5"}
base_salary: "50000.00"
quota: {source: plan, annual: "500000.00"}
rates:
  method: marginal
  basis: attainment
  tiers:
    - {from: 0, bcr_multiple: "1.0", label: base}
    - {from: "1.0", bcr_multiple: "1.5", label: accelerator}
"""
GATED_ATTAINMENT_PLAN = """\
name: gated
rates:
  method: retroactive
  basis: attainment
  gate: "0.5"
  tiers: [{from: 0, rate: "0.05"}, {from: "1.0", rate: "0.10"}]
"""
HIRED_10_FEB = [("a", "2025-02-10", None)]  # active 10 Feb..31 Mar = 50 of Q1's 90 days
ZERO_QUOTA_Q1 = [("a", *Q1, "0.00")]
ONE_DEAL_10K = [("d1", "a", "2025-02-01", "10000.00", "P")]


def plan_file(tmp_path, text, name="plan.yaml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return load_plan(p)


def cents_of(res, kind, am="a", period="FY2025-Q1"):
    return money_sum(lines(res, am, period, kind))


# item 5: per-deal minimum and maximum ------------------------------------------------
def test_per_deal_minimum_lifts_a_small_deal_to_the_minimum_and_leaves_the_others(tmp_path):
    res = run(plan_file(tmp_path, SALKIN_PER_DEAL_MINIMUM), dataset(SALKIN_DEALS), "FY2025-Q1")
    st = lines(res, "a", "FY2025-Q1")
    per_deal = st.groupby("deal_id")["amount"].sum()
    assert per_deal.to_dict() == {
        "s1": D("1000.00"),
        "s2": D("1000.00"),
        "s3": D("2000.00"),
        "s4": D("3500.00"),
        "s5": D("5500.00"),
    }
    top_up = st.loc[st["kind"] == "deal_limit"]
    assert top_up["deal_id"].tolist() == ["s1"] and top_up["amount"].tolist() == [D("500.00")]
    assert "per-deal minimum commission 1000.00" in str(top_up["rule"].iloc[0])
    assert summary(res, "a", "FY2025-Q1", "commission_cents") == D("13000.00") == money_sum(st)


def test_clawback_after_a_minimum_takes_back_the_amount_paid_not_the_rate_earned(tmp_path):
    cancel_s1_next_quarter = pd.DataFrame({"deal_id": ["s1"], "cancel_date": ["2025-04-10"], "amount_cents": [2_500_000]})
    res = run(
        plan_file(tmp_path, SALKIN_PER_DEAL_MINIMUM), dataset(SALKIN_DEALS), "FY2025-Q2", cancellations=cancel_s1_next_quarter
    )
    claw = lines(res, "a", "FY2025-Q2", "clawback")
    # half of s1 cancelled: 1,000.00 paid x 25,000 / 50,000 = 500.00 (2 % paid), not 250.00 (1 % earned)
    assert claw["amount"].tolist() == [D("-500.00")]
    assert "commission paid 1000.00" in str(claw["rule"].iloc[0])


def test_per_deal_minimum_applies_to_the_deal_net_of_a_cancellation_in_its_own_period(tmp_path):
    half_of_s1_in_q1 = pd.DataFrame({"deal_id": ["s1"], "cancel_date": ["2025-03-20"], "amount_cents": [2_500_000]})
    res = run(plan_file(tmp_path, SALKIN_PER_DEAL_MINIMUM), dataset(SALKIN_DEALS), "FY2025-Q1", cancellations=half_of_s1_in_q1)
    s1 = lines(res, "a", "FY2025-Q1").query("deal_id == 's1'")
    # 500.00 earned - 250.00 cancelled = 250.00 net, topped up by 750.00 to the minimum
    assert s1["amount"].tolist() == [D("500.00"), D("-250.00"), D("750.00")]
    assert s1["kind"].tolist() == ["commission", "commission", "deal_limit"]


def test_per_deal_minimum_and_maximum_bound_each_deal_and_never_lift_a_return(tmp_path):
    deals = [
        ("f1", "a", "2025-01-05", "300.00", "P"),  # 30.00 -> 50.00
        ("f2", "a", "2025-01-06", "2000.00", "P"),  # 200.00
        ("f3", "a", "2025-01-07", "8000.00", "P"),  # 800.00 -> 500.00
        ("f4", "a", "2025-01-08", "-1000.00", "P"),  # a return: -100.00, a chargeback, never lifted
    ]
    res = run(plan_file(tmp_path, FEE_10_PCT_MIN_50_MAX_500), dataset(deals), "FY2025-Q1")
    st = lines(res, "a", "FY2025-Q1")
    assert st.groupby("deal_id")["amount"].sum().to_dict() == {
        "f1": D("50.00"),
        "f2": D("200.00"),
        "f3": D("500.00"),
        "f4": D("-100.00"),
    }
    assert summary(res, "a", "FY2025-Q1", "commission_cents") == D("650.00") == money_sum(st)


def test_per_deal_maximum_as_a_fraction_of_the_target_incentive(tmp_path):
    big_deal = [("b1", "a", "2025-02-01", "1000000.00", "P")]  # 10 % = 100,000.00 > one year's TI
    res = run(plan_file(tmp_path, DEAL_MAX_ONE_YEAR_OF_TI), dataset(big_deal), "FY2025-Q1")
    limit = lines(res, "a", "FY2025-Q1", "deal_limit")
    assert limit["amount"].tolist() == [D("-20000.00")]
    assert "1.0 x the annual target incentive (80000.00)" in str(limit["rule"].iloc[0])
    assert summary(res, "a", "FY2025-Q1", "commission_cents") == D("80000.00")


# item 4: target incentive (TI) in the maths ------------------------------------------
def test_cap_as_a_multiple_of_target_incentive_is_prorated_with_quota_for_a_mid_quarter_hire(tmp_path):
    deals = [("c1", "a", "2025-03-01", "250000.00", "P")]  # 10 % = 25,000.00
    ds = dataset(deals, [("a", *Q1, "90000.00")], ams=HIRED_10_FEB)
    res = run(plan_file(tmp_path, CAP_TWICE_TI), ds, "FY2025-Q1")
    # quota 90,000.00 x 50/90 = 50,000.00; TI 80,000.00 x 50 / (4 x 90) = 11,111.11; cap 2 x TI = 22,222.22
    assert summary(res, "a", "FY2025-Q1", "quota_cents") == D("50000.00")
    assert cents_of(res, "cap") == D("-2777.78")
    assert "cap 2.0 x the period's target incentive" in str(lines(res, "a", "FY2025-Q1", "cap")["rule"].iloc[0])
    assert summary(res, "a", "FY2025-Q1", "payout_cents") == D("22222.22")


def test_year_cap_as_a_multiple_of_target_incentive_grows_with_the_year_so_far(tmp_path):
    text = CAP_TWICE_TI.replace("per: period", "per: year")
    deals = [("y1", "a", "2025-02-01", "500000.00", "P"), ("y2", "a", "2025-05-01", "300000.00", "P")]
    res = run(plan_file(tmp_path, text), dataset(deals), "FY2025-Q2")
    # Q1: 50,000.00 earned, room 2 x 20,000.00 = 40,000.00; Q2: 30,000.00 earned, room 80,000.00 - 40,000.00
    assert summary(res, "a", "FY2025-Q1", "payout_cents") == D("40000.00")
    assert summary(res, "a", "FY2025-Q2", "payout_cents") == D("30000.00")


def test_bonus_as_a_fraction_of_target_incentive_is_prorated_by_active_days(tmp_path):
    deals = [("k1", "a", "2025-03-01", "60000.00", "P")]  # 60,000 on a prorated quota of 50,000 = 120 %
    ds = dataset(deals, [("a", *Q1, "90000.00")], ams=HIRED_10_FEB)
    res = run(plan_file(tmp_path, KICKER_TENTH_OF_TI), ds, "FY2025-Q1")
    bonus = lines(res, "a", "FY2025-Q1", "bonus")
    # 10 % x TI 11,111.11 = 1,111.111 -> 1,111.11
    assert bonus["amount"].tolist() == [D("1111.11")]
    assert "0.10 x the period's target incentive" in str(bonus["rule"].iloc[0])
    assert summary(res, "a", "FY2025-Q1", "payout_cents") == D("3000.00") + D("1111.11")


def test_target_incentive_is_prorated_by_whole_months_when_quota_is(tmp_path):
    # proration: months: hired 10 Feb, only March is a whole month (1 of Q1's 3), for quota and TI alike
    deals = [("k1", "a", "2025-03-01", "60000.00", "P")]
    ds = dataset(deals, [("a", *Q1, "90000.00")], ams=HIRED_10_FEB)
    res = run(plan_file(tmp_path, KICKER_TENTH_OF_TI + "quota: {proration: months}\n"), ds, "FY2025-Q1")
    assert summary(res, "a", "FY2025-Q1", "quota_cents") == D("30000.00")  # 90,000.00 x 1/3
    # TI 80,000.00 / 4 x 1/3 = 6,666.666... -> 6,666.67; kicker 10 % of it = 666.67 (by days it was 1,111.11)
    assert lines(res, "a", "FY2025-Q1", "bonus")["amount"].tolist() == [D("666.67")]


def test_tier_rates_written_as_multiples_of_bcr_pay_the_target_incentive_at_quota(tmp_path):
    p = plan_file(tmp_path, BCR_PLAN_OTE_100K_QUOTA_500K)
    assert [t.rate for t in p.rates.tiers] == [D("0.1"), D("0.15")]  # BCR 50,000 / 500,000; 1.5 x BCR
    deals = [("r1", "a", "2025-02-01", "150000.00", "P")]  # Q1 quota 500,000 / 4 = 125,000: 120 %
    res = run(p, dataset(deals, ams=[("a", None, None)]), "FY2025-Q1")
    com = lines(res, "a", "FY2025-Q1", "commission")
    # 125,000 x 10 % = 12,500.00 (a quarter of TI at 100 %) + 25,000 x 15 % = 3,750.00
    assert com["amount"].tolist() == [D("12500.00"), D("3750.00")]
    assert summary(res, "a", "FY2025-Q1", "commission_cents") == D("16250.00")


# item 16: undefined attainment ---------------------------------------------------------
def test_gated_plan_pays_nothing_through_the_gate_when_the_quota_is_zero(tmp_path):
    res = run(plan_file(tmp_path, GATED_ATTAINMENT_PLAN), dataset(ONE_DEAL_10K, ZERO_QUOTA_Q1), "FY2025-Q1")
    com = lines(res, "a", "FY2025-Q1", "commission")
    assert com["amount"].tolist() == [D("0.00")]
    assert "quota 0, attainment undefined: nothing earned" in str(com["rule"].iloc[0])


def test_undefined_attainment_base_tier_pays_the_first_tier_through_the_gate(tmp_path):
    p = plan_file(tmp_path, GATED_ATTAINMENT_PLAN + "undefined_attainment: base_tier\n")
    res = run(p, dataset(ONE_DEAL_10K, ZERO_QUOTA_Q1), "FY2025-Q1")
    assert summary(res, "a", "FY2025-Q1", "commission_cents") == D("500.00")  # 5 % x 10,000.00


def test_undefined_attainment_pay_nothing_applies_to_attainment_tiers_without_a_gate(tmp_path):
    text = GATED_ATTAINMENT_PLAN.replace('  gate: "0.5"\n', "") + "undefined_attainment: pay_nothing\n"
    ds = dataset(ONE_DEAL_10K + [("d2", "b", "2025-02-01", "10000.00", "P")], ZERO_QUOTA_Q1 + [("b", *Q1, "20000.00")])
    res = run(plan_file(tmp_path, text), ds, "FY2025-Q1")
    assert summary(res, "a", "FY2025-Q1", "commission_cents") == D("0.00")
    assert summary(res, "b", "FY2025-Q1", "commission_cents") == D("500.00")  # 50 % attainment: 5 %


def test_undefined_attainment_refuse_names_the_plan_file_key_account_manager_and_period(tmp_path):
    p = plan_file(tmp_path, GATED_ATTAINMENT_PLAN + "undefined_attainment: refuse\n", name="gated.yaml")
    with pytest.raises(PlanError) as info:
        run(p, dataset(ONE_DEAL_10K, ZERO_QUOTA_Q1), "FY2025-Q1")
    msg = str(info.value)
    assert "gated.yaml" in msg and "'undefined_attainment'" in msg
    assert "account manager 'a' in FY2025-Q1" in msg and "pay_nothing, base_tier, refuse" in msg


def test_ungated_plan_keeps_paying_the_first_tier_on_zero_quota_when_the_key_is_absent(tmp_path):
    text = GATED_ATTAINMENT_PLAN.replace('  gate: "0.5"\n', "")
    res = run(plan_file(tmp_path, text), dataset(ONE_DEAL_10K, ZERO_QUOTA_Q1), "FY2025-Q1")
    assert summary(res, "a", "FY2025-Q1", "commission_cents") == D("500.00")


# bad plans -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ('cap: {of_ti: "2.0"}\n', ["cap.of_ti is a multiple of the target incentive", "set 'ote' and 'base_salary'"]),
        ('cap: {amount: "10.00", of_ti: "2.0"}\n', ["'cap'", "give exactly one of 'amount'"]),
        ('bonuses: [{name: b, attainment_at_least: "1"}]\n', ["'bonuses.0'", "give exactly one of 'amount'"]),
        ("deal_limits: {}\n", ["'deal_limits'", "give at least one of 'min', 'max' or 'max_of_ti'"]),
        ('deal_limits: {min: "10.00", max: "5.00"}\n', ["'deal_limits'", "min 10.00 is above max 5.00"]),
        ("undefined_attainment: pay_nothng\n", ["'undefined_attainment'", "did you mean 'pay_nothing'"]),
        (
            'rates: {method: flat, basis: amount, tiers: [{from: 0, bcr_multiple: "1"}]}\n',
            ["rates.tiers.0.bcr_multiple (1) needs the plan's annual quota", "source: plan"],
        ),
        (
            'quota: {source: plan, annual: "1000.00"}\nrates: {method: flat, basis: amount, tiers: [{from: 0, bcr_multiple: "1"}]}\n',
            ["rates.tiers.0.bcr_multiple (1) needs a target incentive", "set 'ote' and 'base_salary'"],
        ),
        ("rates: {method: flat, basis: amount, tiers: [{from: 0}]}\n", ["'rates.tiers.0'", "give 'rate'"]),
    ],
    ids=[
        "of_ti_without_ti",
        "cap_amount_and_of_ti",
        "bonus_without_amount",
        "empty_limits",
        "min_above_max",
        "typo",
        "bcr_no_annual",
        "bcr_no_ti",
        "tier_no_rate",
    ],
)
def test_bad_incentive_keys_are_refused_with_file_key_and_fix(tmp_path, extra, expected):
    base = "name: t\n" + ("" if "rates:" in extra else 'rates: {method: flat, basis: amount, tiers: [{from: 0, rate: "0.10"}]}\n')
    with pytest.raises(PlanError) as info:
        plan_file(tmp_path, base + extra, name="bad_incentive.yaml")
    msg = str(info.value)
    assert "bad_incentive.yaml" in msg
    for part in expected:
        assert part in msg, (part, msg)


def test_deal_limits_with_year_to_date_accumulation_is_refused(tmp_path):
    text = (
        SALKIN_PER_DEAL_MINIMUM.replace("per_deal", "ytd")
        .replace("basis: amount", "basis: attainment")
        .replace('"300000.00"', '"1.0"')
    )
    with pytest.raises(PlanError) as info:
        plan_file(tmp_path, text)
    assert "deal_limits cannot be combined with rates.accumulation 'ytd'" in str(info.value)
