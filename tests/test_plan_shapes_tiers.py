"""Plan shapes, tiers group (issue #13): tier boundary tie-break and accelerator semantics.

Each test pins a worked example of ``docs/commission.md`` ("Plan shapes: tiers") to the
cent through the public path: the plan YAML read from a file, ``engine.compute``, and the
statement an account manager reads (deal, credit, tier, rate, amount, rule).

Sources (numbers re-derived by hand in the doc):
  [SPIFF-RL] help.salesforce.com ... spiff_function_ref_range_lookup  (tiebreak_below: without it,
             a value on a bound uses the lower tier)
  [SPIFF-M]  trailhead.salesforce.com ... salesforce-spiff-marginal-payout-rules  (tiers 0-60 %: 10 %,
             60-100 %: 15 %, from 100 %: 18.75 %; yearly quota 447,920)
  [SCOOK]    support2.salescookie.com ... difference-between-cumulative-and-non-cumulative-tiers
             (6 % / 8 % from 100 % / 10 % from 150 %; cumulative, non-cumulative, and non-cumulative
             paid only on revenue above 100 % of quota)
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest
from engine_helpers import dataset, lines, money_sum, plan, run, summary

from reportkit.config.plans import load_plan
from reportkit.core.errors import PlanError

D = Decimal
Q1 = ("2025-01-01", "2025-03-31")

SPIFF_TIERS = """rates:
  method: retroactive
  basis: attainment
  accumulation: per_period
  boundary: {boundary}
  tiers:
    - {{from: 0, rate: "0.10"}}
    - {{from: "0.6", rate: "0.15"}}
    - {{from: "1.0", rate: "0.1875", label: accelerator}}
"""

SALES_COOKIE = """rates:
  method: {method}
  basis: attainment
  accumulation: per_period
  tiers:
    - {{from: 0, rate: "0.06", label: base}}
    - {{from: "1.0", rate: "0.08", label: accelerator}}
    - {{from: "1.5", rate: "0.10", label: accelerator}}
"""


def plan_file(tmp_path, rates: str, name: str = "plan.yaml"):
    p = tmp_path / name
    period = "" if rates.startswith("period:") else "period: quarter\n"  # a key given twice is refused
    p.write_text("name: shapes\ncurrency: USD\n" + period + rates, encoding="utf-8")
    return load_plan(p)


def statement_rows(res, am="a", per="FY2025-Q1"):
    """(deal, credit, tier, rate, amount) of the commission lines, as the statement shows them."""
    s = lines(res, am, per, "commission")
    return list(zip(s["deal_id"], s["credit"], s["tier"], s["rate"], s["amount"]))


def spiff_book(d2="147920.00"):
    """Two deals that together reach exactly the quota 447,920.00 of [SPIFF-M] (100 % attainment)."""
    return dataset(
        [("d1", "a", "2025-01-15", "300000.00", "P"), ("d2", "a", "2025-02-15", d2, "P")],
        [("a", *Q1, "447920.00")],
    )


# ---------------------------------------------------------------------------
# item 1: tier boundary tie-break
# ---------------------------------------------------------------------------
def test_total_exactly_on_a_bound_pays_the_upper_tier_by_default(tmp_path):
    res = run(plan_file(tmp_path, SPIFF_TIERS.format(boundary="upper")), spiff_book(), "FY2025-Q1")
    assert statement_rows(res) == [
        ("d1", D("300000.00"), 3, D("0.1875"), D("56250.00")),
        ("d2", D("147920.00"), 3, D("0.1875"), D("27735.00")),
    ]
    assert summary(res, "a", "FY2025-Q1", "commission_cents") == D("83985.00")


def test_boundary_lower_keeps_a_total_exactly_on_a_bound_in_the_lower_tier(tmp_path):
    res = run(plan_file(tmp_path, SPIFF_TIERS.format(boundary="lower")), spiff_book(), "FY2025-Q1")
    assert statement_rows(res) == [
        ("d1", D("300000.00"), 2, D("0.15"), D("45000.00")),
        ("d2", D("147920.00"), 2, D("0.15"), D("22188.00")),
    ]
    assert summary(res, "a", "FY2025-Q1", "commission_cents") == D("67188.00")
    rule = lines(res, "a", "FY2025-Q1", "commission")["rule"].iloc[0]
    assert "tier 2 (0.6, 1.0] of quota at 0.15" in rule


def test_boundary_lower_pays_the_upper_tier_one_cent_above_the_bound(tmp_path):
    res = run(plan_file(tmp_path, SPIFF_TIERS.format(boundary="lower")), spiff_book("147920.01"), "FY2025-Q1")
    # 147,920.01 x 18.75 % = 27,735.001875 -> 27,735.00 (half away from zero, per line)
    assert statement_rows(res)[1] == ("d2", D("147920.01"), 3, D("0.1875"), D("27735.00"))
    assert summary(res, "a", "FY2025-Q1", "commission_cents") == D("83985.00")


def test_boundary_lower_on_attainment_puts_the_bound_above_floor_of_from_times_quota(tmp_path):
    # 60 % of 447,920.00 is 268,752.00 exactly: on the bound -> 10 %; one cent more -> 15 %
    p = plan_file(tmp_path, SPIFF_TIERS.format(boundary="lower"))
    on = run(p, dataset([("d1", "a", "2025-01-15", "268752.00", "P")], [("a", *Q1, "447920.00")]), "FY2025-Q1")
    above = run(p, dataset([("d1", "a", "2025-01-15", "268752.01", "P")], [("a", *Q1, "447920.00")]), "FY2025-Q1")
    assert statement_rows(on) == [("d1", D("268752.00"), 1, D("0.10"), D("26875.20"))]
    assert statement_rows(above) == [("d1", D("268752.01"), 2, D("0.15"), D("40312.80"))]


def test_boundary_lower_on_amount_tiers_keeps_a_deal_on_the_bound_in_the_lower_tier(tmp_path):
    rates = (
        'rates: {method: retroactive, basis: amount, accumulation: per_deal, boundary: lower, tiers: [{from: 0, rate: "0.05"}, '
        '{from: "10000.00", rate: "0.10"}]}\n'
    )
    res = run(
        plan_file(tmp_path, rates),
        dataset([("d1", "a", "2025-01-15", "10000.00", "P"), ("d2", "a", "2025-01-16", "10000.01", "P")]),
        "FY2025-Q1",
    )
    assert statement_rows(res) == [
        ("d1", D("10000.00"), 1, D("0.05"), D("500.00")),
        ("d2", D("10000.01"), 2, D("0.10"), D("1000.00")),
    ]


def test_boundary_does_not_change_marginal_slices(tmp_path):
    book = spiff_book()
    upper = run(plan_file(tmp_path, SPIFF_TIERS.format(boundary="upper").replace("retroactive", "marginal")), book, "FY2025-Q1")
    lower = run(plan_file(tmp_path, SPIFF_TIERS.format(boundary="lower").replace("retroactive", "marginal")), book, "FY2025-Q1")
    assert [r[1:] for r in statement_rows(upper)] == [r[1:] for r in statement_rows(lower)]


def test_boundary_typo_names_key_value_allowed_set_and_did_you_mean(tmp_path):
    with pytest.raises(PlanError) as info:
        plan_file(tmp_path, SPIFF_TIERS.format(boundary="lowr"))
    msg = str(info.value)
    assert "plan.yaml" in msg and "rates.boundary" in msg and "'lowr'" in msg
    assert "'upper'" in msg and "did you mean 'lower'" in msg


# ---------------------------------------------------------------------------
# item 3: accelerator semantics (marginal per band, retroactive on everything, overage at the band reached)
# ---------------------------------------------------------------------------
def sales_cookie_book():
    """Quota 100,000.00; d1 90,000.00 then d2 70,000.05: 160 % attainment, in the top band of [SCOOK]."""
    return dataset(
        [("d1", "a", "2025-01-10", "90000.00", "P"), ("d2", "a", "2025-02-10", "70000.05", "P")],
        [("a", *Q1, "100000.00")],
    )


def test_overage_pays_quota_at_base_and_all_overage_at_the_rate_of_the_band_reached(tmp_path):
    res = run(plan_file(tmp_path, SALES_COOKIE.format(method="overage")), sales_cookie_book(), "FY2025-Q1")
    assert statement_rows(res) == [
        ("d1", D("90000.00"), 1, D("0.06"), D("5400.00")),
        ("d2", D("10000.00"), 1, D("0.06"), D("600.00")),
        # 60,000.05 x 10 % = 6,000.005 -> 6,000.01 (half away from zero)
        ("d2", D("60000.05"), 3, D("0.10"), D("6000.01")),
    ]
    assert summary(res, "a", "FY2025-Q1", "commission_cents") == D("12000.01")
    rule = lines(res, "a", "FY2025-Q1", "commission")["rule"].iloc[2]
    assert "paid at the rate of the tier the total reached" in rule


def test_marginal_pays_each_band_at_its_own_rate_on_the_same_book(tmp_path):
    res = run(plan_file(tmp_path, SALES_COOKIE.format(method="marginal")), sales_cookie_book(), "FY2025-Q1")
    assert statement_rows(res) == [
        ("d1", D("90000.00"), 1, D("0.06"), D("5400.00")),
        ("d2", D("10000.00"), 1, D("0.06"), D("600.00")),
        ("d2", D("50000.00"), 2, D("0.08"), D("4000.00")),
        ("d2", D("10000.05"), 3, D("0.10"), D("1000.01")),
    ]
    assert money_sum(lines(res, "a", "FY2025-Q1", "commission")) == D("11000.01")


def test_retroactive_pays_everything_at_the_rate_of_the_band_reached_on_the_same_book(tmp_path):
    res = run(plan_file(tmp_path, SALES_COOKIE.format(method="retroactive")), sales_cookie_book(), "FY2025-Q1")
    assert statement_rows(res) == [
        ("d1", D("90000.00"), 3, D("0.10"), D("9000.00")),
        ("d2", D("70000.05"), 3, D("0.10"), D("7000.01")),
    ]
    assert summary(res, "a", "FY2025-Q1", "commission_cents") == D("16000.01")


def test_overage_below_quota_pays_every_deal_at_the_base_rate(tmp_path):
    book = dataset([("d1", "a", "2025-01-10", "90000.00", "P")], [("a", *Q1, "100000.00")])
    res = run(plan_file(tmp_path, SALES_COOKIE.format(method="overage")), book, "FY2025-Q1")
    assert statement_rows(res) == [("d1", D("90000.00"), 1, D("0.06"), D("5400.00"))]


def test_overage_with_one_tier_is_refused_with_the_fix(tmp_path):
    rates = 'rates: {method: overage, basis: amount, tiers: [{from: 0, rate: "0.05"}]}\n'
    with pytest.raises(PlanError) as info:
        plan_file(tmp_path, rates)
    msg = str(info.value)
    assert "plan.yaml" in msg and "rates" in msg and "'overage' needs at least two tiers" in msg and "use method 'flat'" in msg


# ---------------------------------------------------------------------------
# item 2: several rate components in one plan, each its own statement lines
# ---------------------------------------------------------------------------
QUOTAPATH = """period: month
rates:                      # decelerator that lifts retroactively at 50 %, on credit up to quota
  method: retroactive
  basis: attainment
  applies_below: "1.0"
  tiers:
    - {from: 0, rate: "0.05", label: decelerator}
    - {from: "0.5", rate: "0.10", label: base}
rate_components:
  - name: accelerator       # 20 % on the credit above quota, deal by deal
    method: flat
    basis: attainment
    applies_from: "1.0"
    tiers: [{from: 0, rate: "0.20", label: accelerator}]
"""


def quotapath_book():
    """[QPATH] monthly quota 33,000.00; January 41,500.53 credited (125.8 %), February 15,000.00 (45.5 %)."""
    months = [("2025-01-01", "2025-01-31"), ("2025-02-01", "2025-02-28")]
    return dataset(
        [
            ("d1", "a", "2025-01-05", "10000.00", "P"),
            ("d2", "a", "2025-01-12", "12000.00", "P"),
            ("d3", "a", "2025-01-20", "15000.00", "P"),
            ("d4", "a", "2025-01-28", "4500.53", "P"),
            ("d5", "a", "2025-02-10", "15000.00", "P"),
        ],
        [("a", s, e, "33000.00") for s, e in months],
    )


def component_plan(tmp_path, text=QUOTAPATH):
    p = tmp_path / "plan.yaml"
    p.write_text("name: AE\ncurrency: USD\n" + text, encoding="utf-8")
    return load_plan(p)


def test_components_pay_retroactive_base_up_to_quota_and_a_marginal_accelerator_above_it(tmp_path):
    res = run(component_plan(tmp_path), quotapath_book(), "FY2025-M02")
    s = lines(res, "a", "FY2025-M01", "commission")
    got = list(zip(s["deal_id"], s["credit"], s["tier"], s["rate"], s["amount"]))
    # a deal's lines follow the plan: its rates, then each rate component, each in tier order
    # (statement order: period, step, date, deal, schedule, tier); the rule names the component
    assert got == [
        ("d1", D("10000.00"), 2, D("0.10"), D("1000.00")),
        ("d2", D("12000.00"), 2, D("0.10"), D("1200.00")),
        ("d3", D("11000.00"), 2, D("0.10"), D("1100.00")),  # up to quota: base, retroactive
        ("d3", D("4000.00"), 1, D("0.20"), D("800.00")),  # above quota: accelerator component
        # 4,500.53 x 20 % = 900.106 -> 900.11
        ("d4", D("4500.53"), 1, D("0.20"), D("900.11")),
    ]
    assert summary(res, "a", "FY2025-M01", "commission_cents") == D("5000.11")
    acc = s.loc[s["rate"] == D("0.20"), "rule"]
    assert acc.str.contains("AE, component accelerator: flat attainment tiers, per_period; on credit from 1.0 of quota").all()
    base = s.loc[s["rate"] == D("0.10"), "rule"]
    assert base.str.contains("on credit below 1.0 of quota; tier 2 base").all()


def test_components_decelerator_pays_half_rate_below_the_threshold(tmp_path):
    res = run(component_plan(tmp_path), quotapath_book(), "FY2025-M02")
    assert statement_rows(res, per="FY2025-M02") == [("d5", D("15000.00"), 1, D("0.05"), D("750.00"))]
    assert summary(res, "a", "FY2025-M02", "commission_cents") == D("750.00")


def test_plan_without_components_keeps_its_single_schedule(tmp_path):
    one = QUOTAPATH.split("rate_components:")[0].replace('  applies_below: "1.0"\n', "")
    res = run(component_plan(tmp_path, one), quotapath_book(), "FY2025-M01")
    # retroactive on everything at 10 %: 41,500.53 x 10 % per line
    assert summary(res, "a", "FY2025-M01", "commission_cents") == D("4150.05")


def test_component_names_must_be_unique(tmp_path):
    text = QUOTAPATH + '  - {name: accelerator, method: flat, basis: amount, tiers: [{from: 0, rate: "0.01"}]}\n'
    with pytest.raises(PlanError) as info:
        component_plan(tmp_path, text)
    msg = str(info.value)
    assert "plan.yaml" in msg and "rate_components names must be unique (repeated: accelerator)" in msg


def test_empty_window_is_refused_with_key_and_values(tmp_path):
    text = QUOTAPATH.replace('applies_from: "1.0"', 'applies_from: "1.0"\n    applies_below: "0.8"')
    with pytest.raises(PlanError) as info:
        component_plan(tmp_path, text)
    msg = str(info.value)
    assert "rate_components.0" in msg and "applies_below (0.8) must be above applies_from (1.0)" in msg


def test_component_key_typo_has_did_you_mean(tmp_path):
    with pytest.raises(PlanError) as info:
        component_plan(tmp_path, QUOTAPATH.replace("applies_from", "apply_from"))
    msg = str(info.value)
    assert "rate_components.0.apply_from" in msg and "did you mean 'applies_from'" in msg


def test_components_on_ytd_true_up_earlier_deals_and_a_clawback_takes_back_every_components_lines(tmp_path):
    rates = """rates:
  method: retroactive
  basis: attainment
  accumulation: ytd
  applies_below: "1.0"
  tiers: [{from: 0, rate: "0.05"}, {from: "0.5", rate: "0.10"}]
rate_components:
  - {name: acc, method: flat, basis: attainment, accumulation: ytd, applies_from: "1.0", tiers: [{from: 0, rate: "0.20"}]}
"""
    q2 = ("2025-04-01", "2025-06-30")
    ds = dataset(
        [("d1", "a", "2025-01-10", "40000.00", "P"), ("d2", "a", "2025-04-10", "180000.00", "P")],
        [("a", *Q1, "100000.00"), ("a", *q2, "100000.00")],
    )
    canc = pd.DataFrame({"deal_id": ["d2"], "cancel_date": pd.to_datetime(["2025-07-15"]), "amount_cents": [18_000_000]})
    res = run(plan_file(tmp_path, rates), ds, "FY2025-Q3", cancellations=canc)
    # Q1: 40 % of 100,000.00 -> 5 %; Q2: YTD 220,000.00 of 200,000.00 -> base 10 % below 200,000.00
    # (d1 re-rated: 4,000.00 - 2,000.00 paid = true-up 2,000.00), accelerator 20 % on the 20,000.00 above
    assert statement_rows(res) == [("d1", D("40000.00"), 1, D("0.05"), D("2000.00"))]
    assert statement_rows(res, per="FY2025-Q2") == [
        ("d2", D("160000.00"), 2, D("0.10"), D("16000.00")),  # the plan's rates first
        ("d2", D("20000.00"), 1, D("0.20"), D("4000.00")),  # then its accelerator component
    ]
    assert money_sum(lines(res, "a", "FY2025-Q2", "true_up")) == D("2000.00")
    # the whole deal cancelled in Q3: both components' lines on d2 (16,000.00 + 4,000.00) come back
    assert money_sum(lines(res, "a", "FY2025-Q3", "clawback")) == D("-20000.00")


# ---------------------------------------------------------------------------
# item 12: pay curves, linear between points (Oracle's interpolated rate table)
# ---------------------------------------------------------------------------
ORACLE_CURVE = """period: {period}
rates:
  method: curve
  basis: amount
  accumulation: {accumulation}
  curve:                    # [ORCL-I] tiers 0-1,000: 10; 1,000-3,000: 40; 3,000-8,000: 100; 8,000-20,000: 2,000
    - {{at: 0, pay: "0"}}
    - {{at: "1000.00", pay: "10.00"}}
    - {{at: "3000.00", pay: "50.00"}}
    - {{at: "8000.00", pay: "150.00"}}
    - {{at: "20000.00", pay: "2150.00"}}
"""


def oracle_book():
    """[ORCL-I] T1-T6 of 2015 (here 2025: FY2025 is the calendar year)."""
    return dataset(
        [
            ("T1", "a", "2025-01-01", "200.00", "P"),
            ("T2", "a", "2025-01-02", "300.00", "P"),
            ("T3", "a", "2025-01-15", "1500.00", "P"),
            ("T4", "a", "2025-02-01", "1200.00", "P"),
            ("T5", "a", "2025-02-15", "2000.00", "P"),
            ("T6", "a", "2025-03-01", "4500.00", "P"),
        ]
    )


def test_curve_per_transaction_pays_oracles_interpolated_earnings(tmp_path):
    p = plan_file(tmp_path, ORACLE_CURVE.format(period="quarter", accumulation="per_deal"))
    res = run(p, oracle_book(), "FY2025-Q1")
    s = lines(res, "a", "FY2025-Q1", "commission")
    assert list(zip(s["deal_id"], s["credit"], s["tier"], s["amount"])) == [
        ("T1", D("200.00"), 1, D("2.00")),  # 200 / 1,000 x 10
        ("T2", D("300.00"), 1, D("3.00")),
        ("T3", D("1500.00"), 2, D("20.00")),  # 10 + 500 / 2,000 x 40
        ("T4", D("1200.00"), 2, D("14.00")),
        ("T5", D("2000.00"), 2, D("30.00")),
        ("T6", D("4500.00"), 3, D("80.00")),  # 10 + 40 + 1,500 / 5,000 x 100
    ]
    assert s["rate"].isna().all()  # a curve has no rate: the line's rule says how it was paid
    assert "pay curve on amount, per_deal; segment 3 from 3000.00 (pays 50.00) to 8000.00" in s["rule"].iloc[5]
    assert summary(res, "a", "FY2025-Q1", "commission_cents") == D("149.00")


def test_curve_accumulated_per_month_pays_each_deal_the_rise_of_the_curve(tmp_path):
    p = plan_file(tmp_path, ORACLE_CURVE.format(period="month", accumulation="per_period"))
    res = run(p, oracle_book(), "FY2025-M03")
    got = {per: statement_rows(res, per=per) for per in ("FY2025-M01", "FY2025-M02", "FY2025-M03")}
    assert [(r[0], r[4]) for r in got["FY2025-M01"]] == [("T1", D("2.00")), ("T2", D("3.00")), ("T3", D("25.00"))]
    assert [(r[0], r[4]) for r in got["FY2025-M02"]] == [("T4", D("14.00")), ("T5", D("40.00"))]  # F(3,200) = 54
    assert [(r[0], r[4]) for r in got["FY2025-M03"]] == [("T6", D("80.00"))]


def test_curve_on_attainment_rounds_the_accumulated_payout_once_per_point(tmp_path):
    rates = """rates:
  method: curve
  basis: attainment
  curve: [{at: 0, pay: "0"}, {at: "0.5", pay: "5000.00"}, {at: "1.0", pay: "20000.00"}, {at: "1.5", pay: "40000.00"}]
"""
    book = dataset(
        [("d1", "a", "2025-01-10", "123456.78", "P"), ("d2", "a", "2025-02-10", "209876.55", "P")],
        [("a", *Q1, "300000.00")],
    )
    res = run(plan_file(tmp_path, rates), book, "FY2025-Q1")
    # F(123,456.78) = 5,000 x 123,456.78 / 150,000 = 4,115.226 -> 4,115.23
    # F(333,333.33) = 20,000 + 20,000 x 33,333.33 / 150,000 = 24,444.444 -> 24,444.44; d2 = 24,444.44 - 4,115.23
    assert [(r[0], r[2], r[4]) for r in statement_rows(res)] == [("d1", 1, D("4115.23")), ("d2", 3, D("20329.21"))]
    assert summary(res, "a", "FY2025-Q1", "commission_cents") == D("24444.44")


def test_curve_beyond_its_last_point_pays_nothing_more(tmp_path):
    p = plan_file(tmp_path, ORACLE_CURVE.format(period="quarter", accumulation="per_deal"))
    res = run(p, dataset([("d1", "a", "2025-01-10", "25000.00", "P")]), "FY2025-Q1")
    assert statement_rows(res) == [("d1", D("25000.00"), 5, None, D("2150.00"))]


@pytest.mark.parametrize(
    ("rates", "message"),
    [
        (
            'rates: {method: curve, basis: amount, curve: [{at: "10.00", pay: "1.00"}, {at: "20.00", pay: "2.00"}]}',
            "the first curve point must be at 0",
        ),
        ('rates: {method: curve, basis: amount, curve: [{at: 0, pay: "0"}]}', "needs at least two 'curve' points"),
        ('rates: {method: curve, basis: amount, curve: [{at: 0, pay: "0"}, {at: 0, pay: "1.00"}]}', "must strictly increase"),
        (
            'rates: {method: marginal, basis: amount, curve: [{at: 0, pay: "0"}, {at: "1.00", pay: "1.00"}]}',
            "only read with method 'curve'",
        ),
        ("rates: {method: marginal, basis: amount}", "method 'marginal' needs 'tiers'"),
        (
            'rates: {method: curve, basis: attainment, accumulation: per_deal, curve: [{at: 0, pay: "0"}, {at: 1, pay: "1.00"}]}',
            "accumulation 'per_deal' needs basis 'amount'",
        ),
    ],
)
def test_bad_curves_are_refused_with_the_fix(tmp_path, rates, message):
    with pytest.raises(PlanError) as info:
        plan_file(tmp_path, rates + "\n")
    assert "plan.yaml" in str(info.value) and "rates" in str(info.value) and message in str(info.value)


def test_curve_rounds_an_exact_half_cent_away_from_zero(tmp_path):
    # on Oracle's curve 1,000.00 pays 10.00: 0.50 is at 0.005 -> 0.01, 0.49 at 0.0049 -> 0.00
    p = plan_file(tmp_path, ORACLE_CURVE.format(period="quarter", accumulation="per_deal"))
    res = run(p, dataset([("d1", "a", "2025-01-10", "0.50", "P"), ("d2", "a", "2025-01-11", "0.49", "P")]), "FY2025-Q1")
    assert [(r[0], r[4]) for r in statement_rows(res)] == [("d1", D("0.01")), ("d2", D("0.00"))]


def test_statement_words_name_the_component_curve_segment_and_lower_boundary_that_paid_a_line():
    ds = dataset([("d1", "a", "2025-01-10", "30000.00", "P"), ("d2", "a", "2025-02-10", "30000.00", "P")])
    base = {"method": "marginal", "basis": "amount", "applies_below": "40000.00"}
    base["tiers"] = [{"from": 0, "rate": "0.04"}, {"from": "20000.00", "rate": "0.08", "label": "accelerator"}]
    kicker = {"name": "kicker", "method": "flat", "basis": "amount", "applies_from": "40000.00"}
    kicker["tiers"] = [{"from": 0, "rate": "0.15"}]
    words = run(plan(rates=base, rate_components=[kicker]), ds, "FY2025-Q1").statement("a", "FY2025-Q1")
    got = dict(zip(zip(words["deal_id"], words["tier"], words["rate"].astype(str)), words["description"]))
    assert got[("d2", 1, "0.15")].startswith("t: commission, component kicker, tier 1 (from 0.00;")
    assert got[("d2", 2, "0.08")].startswith('t: commission, tier 2 "accelerator" (from 20,000.00;')
    d2 = words.loc[words["deal_id"] == "d2", "description"].tolist()
    assert [("component kicker" in w) for w in d2] == [False, True]  # rates first, then the component

    curve = {"method": "curve", "basis": "amount"}
    curve["curve"] = [{"at": 0, "pay": "0"}, {"at": "50000.00", "pay": "2000.00"}, {"at": "100000.00", "pay": "6000.00"}]
    s = run(plan(rates=curve), ds, "FY2025-Q1").statement("a", "FY2025-Q1")
    assert s["description"].tolist() == [
        "t: commission, segment 1 of the pay curve, from 0.00 to 50,000.00 (pays 0.00 to 2,000.00), linear, "
        "measured on the pay period's running total",
        "t: commission, segment 2 of the pay curve, from 50,000.00 to 100,000.00 (pays 2,000.00 to 6,000.00), linear, "
        "measured on the pay period's running total",
    ]

    lower = {"method": "overage", "basis": "amount", "boundary": "lower"}
    lower["tiers"] = [{"from": 0, "rate": "0.04"}, {"from": "20000.00", "rate": "0.08"}, {"from": "60000.00", "rate": "0.10"}]
    s = run(plan(rates=lower), ds, "FY2025-Q1").statement("a", "FY2025-Q1")
    assert "tier 2 (above 20,000.00 up to and including 60,000.00; overage:" in s["description"].iloc[-1]
