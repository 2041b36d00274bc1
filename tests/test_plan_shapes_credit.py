"""Plan shapes of the credit group (issue #13): equal splits that do not divide, ramps as amounts.

Each test pins a worked example of ``docs/commission.md`` ("Plan shapes: credit") to the
cent through the public path: a plan YAML file loaded with ``load_plan`` and
``engine.compute``.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest
from engine_helpers import dataset, lines, run, summary

from reportkit.config.plans import load_plan
from reportkit.core.errors import DataError, PlanError

FLAT_10 = 'name: t\nperiod: {period}\nrates:\n  method: flat\n  basis: amount\n  tiers: [{{from: 0, rate: "0.10"}}]\n'


def plan_file(tmp_path, extra="", period="quarter", name="plan.yaml"):
    p = tmp_path / name
    p.write_text(FLAT_10.format(period=period) + extra, encoding="utf-8")
    return load_plan(p)


def splits(rows):
    return pd.DataFrame(rows, columns=["deal_id", "account_manager_id", "share", "kind"])


# ---------------------------------------------------------------------------
# item 17: an equal split among three is thirds, allocated by largest remainder
# ---------------------------------------------------------------------------
THREE = [("ana", None, None), ("ben", None, None), ("cy", None, None)]


def test_equal_split_among_three_credits_thirds_to_the_cent_by_largest_remainder(tmp_path):
    ds = dataset([("d1", "ana", "2025-02-03", "10000.00", "P"), ("d2", "ana", "2025-02-04", "100.00", "P")], ams=THREE)
    sp = splits([(d, am, "equal", "revenue") for d in ("d1", "d2") for am in ("ana", "ben", "cy")])
    res = run(plan_file(tmp_path), ds, "FY2025-Q1", splits=sp)
    got = {
        am: lines(res, am, "FY2025-Q1", "commission")[["deal_id", "credit", "amount"]].values.tolist()
        for am in ("ana", "ben", "cy")
    }
    assert got == {
        "ana": [["d1", Decimal("3333.34"), Decimal("333.33")], ["d2", Decimal("33.34"), Decimal("3.33")]],
        "ben": [["d1", Decimal("3333.33"), Decimal("333.33")], ["d2", Decimal("33.33"), Decimal("3.33")]],
        "cy": [["d1", Decimal("3333.33"), Decimal("333.33")], ["d2", Decimal("33.33"), Decimal("3.33")]],
    }
    credits = res.credits.groupby("deal_id")["credit_cents"].sum()
    assert credits.to_dict() == {"d1": 1_000_000, "d2": 10_000}


def test_equal_split_gives_the_extra_cent_to_the_earlier_split_row_whatever_the_ids(tmp_path):
    ds = dataset([("d1", "cy", "2025-02-03", "100.00", "P")], ams=THREE)
    sp = splits([("d1", am, "Equal", "revenue") for am in ("cy", "ana", "ben")])
    res = run(plan_file(tmp_path), ds, "FY2025-Q1", splits=sp)
    c = res.credits.set_index("account_manager_id")["credit_cents"].to_dict()
    assert c == {"cy": 3334, "ana": 3333, "ben": 3333}


def test_equal_split_of_a_return_mirrors_the_sale(tmp_path):
    ds = dataset([("r1", "ana", "2025-02-03", "-100.00", "P")], ams=THREE)
    sp = splits([("r1", am, "equal", "revenue") for am in ("ana", "ben", "cy")])
    res = run(plan_file(tmp_path), ds, "FY2025-Q1", splits=sp)
    assert sorted(res.credits["credit_cents"].tolist()) == [-3334, -3333, -3333]


def test_thirds_written_as_rounded_fractions_are_refused_and_the_message_names_equal(tmp_path):
    ds = dataset([("d1", "ana", "2025-02-03", "100.00", "P")], ams=THREE)
    sp = splits([("d1", am, "0.333333", "revenue") for am in ("ana", "ben", "cy")])
    with pytest.raises(DataError) as info:
        run(plan_file(tmp_path), ds, "FY2025-Q1", splits=sp)
    msg = str(info.value)
    assert "d1: 0.999999" in msg and "'equal'" in msg


def test_equal_beside_a_numeric_share_of_the_same_deal_is_refused_naming_the_row(tmp_path):
    ds = dataset([("d1", "ana", "2025-02-03", "100.00", "P")], ams=THREE)
    sp = splits([("d1", "ana", "equal", "revenue"), ("d1", "ben", "equal", "revenue"), ("d1", "cy", "0.5", "revenue")])
    with pytest.raises(DataError) as info:
        run(plan_file(tmp_path), ds, "FY2025-Q1", splits=sp)
    msg = str(info.value)
    assert "row 4" in msg and "'0.5'" in msg and "'equal' on all of its revenue rows" in msg


def test_equal_on_an_overlay_split_is_refused_naming_the_row(tmp_path):
    ds = dataset([("d1", "ana", "2025-02-03", "100.00", "P")], ams=THREE)
    sp = splits([("d1", "ben", "equal", "overlay")])
    with pytest.raises(DataError) as info:
        run(plan_file(tmp_path), ds, "FY2025-Q1", splits=sp)
    msg = str(info.value)
    assert "row 2" in msg and "'equal'" in msg and "overlay share is a fraction" in msg


# ---------------------------------------------------------------------------
# item 9: a ramp written as amounts is used exactly
# ---------------------------------------------------------------------------
RAMP_AMOUNTS = 'quota:\n  ramp_amounts: ["10000.00", "20000.00", "30000.00"]\n'
RAMP_FRACTIONS = 'quota:\n  ramp: ["0.222222", "0.444444", "0.666667"]\n'


def joe(hire):
    # full quota 45,000.00 a month: one yearly row of 540,000.00 split evenly
    return dataset(
        [("d1", "joe", "2025-01-10", "100.00", "P")],
        [("joe", "2025-01-01", "2025-12-31", "540000.00")],
        ams=[("joe", hire, None)],
    )


def quotas(res, periods):
    return [summary(res, "joe", p, "quota_cents") for p in periods]


MONTHS = [f"FY2025-M{m:02d}" for m in range(1, 6)]


def test_ramp_amounts_are_the_monthly_quotas_of_a_hire_on_the_first_of_the_month(tmp_path):
    res = run(plan_file(tmp_path, RAMP_AMOUNTS, period="month"), joe("2025-01-01"), "FY2025-M05")
    assert quotas(res, MONTHS) == [Decimal(x) for x in ("10000.00", "20000.00", "30000.00", "45000.00", "45000.00")]


def test_the_same_ramp_as_six_decimal_fractions_loses_cents(tmp_path):
    res = run(plan_file(tmp_path, RAMP_FRACTIONS, period="month"), joe("2025-01-01"), "FY2025-M03")
    assert quotas(res, MONTHS[:3]) == [Decimal("9999.99"), Decimal("19999.98"), Decimal("30000.02")]


def test_ramp_amounts_of_a_mid_month_hire_are_weighted_by_days_of_each_tenure_month(tmp_path):
    res = run(plan_file(tmp_path, RAMP_AMOUNTS, period="month"), joe("2025-01-15"), "FY2025-M05")
    # Jan: 17 days of month 1; Feb: 14 + 14; Mar: 14 of month 2 + 17 of month 3; Apr: 14 of month 3 + 16 full
    assert quotas(res, MONTHS) == [Decimal(x) for x in ("5483.87", "15000.00", "25483.87", "38000.00", "45000.00")]


def test_ramp_amounts_on_a_quarterly_plan_weigh_each_day_at_three_times_the_monthly_amount(tmp_path):
    res = run(plan_file(tmp_path, RAMP_AMOUNTS, period="quarter"), joe("2025-01-01"), "FY2025-Q2")
    # (31 x 10,000 + 28 x 20,000 + 31 x 30,000) x 3 / 90 = 60,000.00; then the full 135,000.00
    assert quotas(res, ["FY2025-Q1", "FY2025-Q2"]) == [Decimal("60000.00"), Decimal("135000.00")]


# ---------------------------------------------------------------------------
# item 8: proration by whole months, seasonal weights per quarter or per month
# ---------------------------------------------------------------------------
SEASONAL_Q = 'quota:\n  split: seasonal\n  seasonal_weights: ["0.2", "0.2", "0.2", "0.4"]\n  proration: {proration}\n'
QUARTERS = [f"FY2025-Q{q}" for q in range(1, 5)]


def starter(hire, annual="100000.00"):
    return dataset(
        [("d1", "joe", "2025-03-10", "100.00", "P")],
        [("joe", "2025-01-01", "2025-12-31", annual)],
        ams=[("joe", hire, None)],
    )


def test_whole_month_proration_of_a_march_starter_on_quarterly_seasonal_weights(tmp_path):
    res = run(plan_file(tmp_path, SEASONAL_Q.format(proration="months")), starter("2025-03-01"), "FY2025-Q4")
    # Q1: 100,000 x 0.2 x 1 month / 3 = 6,666.666... -> 6,666.67; year 86,666.67
    assert quotas(res, QUARTERS) == [Decimal(x) for x in ("6666.67", "20000.00", "20000.00", "40000.00")]


def test_the_same_starter_prorated_by_days_gets_31_of_90_days(tmp_path):
    res = run(plan_file(tmp_path, SEASONAL_Q.format(proration="active_days")), starter("2025-03-01"), "FY2025-Q1")
    assert quotas(res, ["FY2025-Q1"]) == [Decimal("6888.89")]  # 20,000 x 31 / 90 = 6,888.888...


def test_a_month_the_rep_joins_after_its_first_day_does_not_count_under_whole_months(tmp_path):
    res = run(plan_file(tmp_path, SEASONAL_Q.format(proration="months")), starter("2025-03-02"), "FY2025-Q2")
    assert quotas(res, QUARTERS[:2]) == [Decimal("0.00"), Decimal("20000.00")]


def test_quarterly_weights_on_a_monthly_plan_split_each_quarter_evenly_into_months(tmp_path):
    res = run(plan_file(tmp_path, SEASONAL_Q.format(proration="months"), period="month"), starter("2025-01-01"), "FY2025-M12")
    # Q4 = 40,000.00 -> 13,333.34 + 13,333.33 + 13,333.33 (largest remainder, ties to the earlier month)
    got = quotas(res, ["FY2025-M01", "FY2025-M10", "FY2025-M11", "FY2025-M12"])
    assert got == [Decimal("6666.67"), Decimal("13333.34"), Decimal("13333.33"), Decimal("13333.33")]


MONTHLY_WEIGHTS = (
    "quota:\n  split: seasonal\n  proration: months\n"
    '  seasonal_weights: ["0.06", "0.06", "0.08", "0.08", "0.08", "0.08", "0.08", "0.08", "0.08", "0.08", "0.08", "0.16"]\n'
)


def test_monthly_weights_on_a_quarterly_plan_weigh_the_counted_months_by_their_own_weight(tmp_path):
    res = run(plan_file(tmp_path, MONTHLY_WEIGHTS), starter("2025-03-01", "120000.00"), "FY2025-Q4")
    # Q1 = 120,000 x 0.20 = 24,000; March counts 0.08 of Q1's 0.20 -> 9,600.00; Q4 = 0.32 -> 38,400.00
    assert quotas(res, QUARTERS) == [Decimal(x) for x in ("9600.00", "28800.00", "28800.00", "38400.00")]


def test_ramp_amounts_under_whole_months_start_with_the_first_whole_month(tmp_path):
    extra = 'quota:\n  proration: months\n  ramp_amounts: ["10000.00", "20000.00", "30000.00"]\n'
    hired_first = run(plan_file(tmp_path, extra), joe("2025-01-01"), "FY2025-Q2")
    hired_mid = run(plan_file(tmp_path, extra), joe("2025-01-15"), "FY2025-Q2")
    # 1 Jan: 10,000 + 20,000 + 30,000; 15 Jan: Jan not whole, Feb is ramp month 1: 10,000 + 20,000; Q2 30,000 + 2 x 45,000
    assert quotas(hired_first, QUARTERS[:2]) == [Decimal("60000.00"), Decimal("135000.00")]
    assert quotas(hired_mid, QUARTERS[:2]) == [Decimal("30000.00"), Decimal("120000.00")]


# ---------------------------------------------------------------------------
# bad credit-group keys: PlanError naming the file, the key path, the value and the fix
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        pytest.param(
            'quota:\n  ramp: ["0.5"]\n  ramp_amounts: ["10000.00"]\n',
            ["key 'quota.ramp_amounts'", "not both"],
            id="ramp_and_ramp_amounts",
        ),
        pytest.param("quota:\n  ramp_amounts: [10000.5]\n", ["quota.ramp_amounts.0", "quoted string"], id="ramp_amount_float"),
        pytest.param(
            'quota:\n  split: seasonal\n  seasonal_weights: ["0.2", "0.2", "0.2", "0.2", "0.2"]\n',
            ["5 weights", "give 4 (one per quarter) or 12 (one per month)"],
            id="five_seasonal_weights",
        ),
        pytest.param(
            "quota:\n  proration: month\n", ["quota.proration", "'active_days'", "did you mean 'months'"], id="proration_typo"
        ),
    ],
)
def test_bad_credit_plan_keys_are_refused_naming_file_key_value_and_fix(tmp_path, extra, fragments):
    with pytest.raises(PlanError) as info:
        plan_file(tmp_path, extra)
    msg = str(info.value)
    assert "plan.yaml" in msg
    for f in fragments:
        assert f in msg
