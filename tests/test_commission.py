"""Commission statements: per-deal lines rounded half away from zero, total = sum of lines."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from conftest import build_dataset
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from reportkit.config.params import CommissionPolicy, QuotaBonus
from reportkit.core.periods import FiscalCalendar, Period
from reportkit.domain import engine
from reportkit.domain.commission import LINE_COLUMNS, commission_statement, flat_plan
from reportkit.domain.crediting import credited_deals

Q4 = Period.parse("FY2025-Q4", FiscalCalendar(first_month=7))  # 2025-04-01 .. 2025-06-30


def statement(amounts, rate="0.05", quota=None, bonus=None, dates=None, **policy_keys):
    dates = dates or ["2025-05-01"] * len(amounts)
    deals = [(f"D{i:02d}", "A1", "C1", d, a) for i, (a, d) in enumerate(zip(amounts, dates))]
    ds = build_dataset(deals=deals)
    policy = CommissionPolicy(rate=Decimal(rate), quota_bonus=bonus, **policy_keys)
    return commission_statement(credited_deals(ds), "A1", Q4, policy, quota)


@pytest.mark.parametrize(
    "amount_cents, rate, expected",
    [
        (1_234_50, "0.05", Decimal("61.73")),  # 61.725 -> half away from zero
        (-1_234_50, "0.05", Decimal("-61.73")),  # a return mirrors the sale
        (10, "0.05", Decimal("0.01")),  # 0.005 -> 0.01
        (-10, "0.05", Decimal("-0.01")),
        (9, "0.05", Decimal("0.00")),  # 0.0045 -> 0.00
        (100_000_00, "0.075", Decimal("7500.00")),
        (333_33, "0.03", Decimal("10.00")),  # 9.9999 -> 10.00
    ],
)
def test_each_deal_line_is_rounded_half_away_from_zero(amount_cents, rate, expected):
    s = statement([amount_cents], rate=rate, carry_negative=False)  # a lone return's line, not carried
    assert list(s.lines.columns) == list(LINE_COLUMNS)
    assert s.lines["amount"].tolist() == [expected]
    assert s.lines["rule"].tolist() == [f"commission at {(Decimal(rate) * 100).normalize():f} %"]  # in words
    assert s.total == expected


def test_total_is_the_sum_of_rounded_lines_not_the_rounded_sum():
    # three deals of 0.10 at 5 %: each line 0.005 -> 0.01, total 0.03 (a rounded sum would be 0.02)
    s = statement([10, 10, 10])
    assert s.lines["amount"].tolist() == [Decimal("0.01")] * 3
    assert s.total == Decimal("0.03")
    assert s.total == sum(s.lines["amount"])


def test_deals_outside_the_period_or_of_other_ams_are_not_on_the_statement():
    ds = build_dataset(
        ams=[("A1", "Alice", "East", None, None), ("A2", "Bob", "East", None, None)],
        deals=[
            ("D1", "A1", "C1", "2025-05-01", 100_00),
            ("D2", "A2", "C1", "2025-05-01", 100_00),
            ("D3", "A1", "C1", "2025-03-31", 100_00),
        ],
    )
    s = commission_statement(credited_deals(ds), "A1", Q4, CommissionPolicy(rate=Decimal("0.1")), None)
    assert s.lines["description"].str.contains("D1").tolist() == [True]
    assert s.revenue == Decimal("100.00")


def test_quota_bonus_line_when_attainment_reaches_the_threshold():
    bonus = QuotaBonus(attainment_at_least=1.0, amount=Decimal("2000.00"), award="deferred")
    s = statement([60_000_00, 40_000_00], quota=100_000_00, bonus=bonus)
    last = s.lines.iloc[-1]
    assert (last["rule"], last["amount"], last["award"]) == ("bonus", Decimal("2000.00"), "deferred")
    assert s.commission == Decimal("5000.00")
    assert s.bonus == Decimal("2000.00")
    assert s.total == Decimal("7000.00") == sum(s.lines["amount"])
    assert s.cash_total == Decimal("5000.00")  # the deferred bonus is not cash now
    assert s.attainment == pytest.approx(1.0)


@pytest.mark.parametrize("quota", [None, 0, 100_000_01])
def test_no_quota_bonus_below_threshold_or_when_attainment_is_undefined(quota):
    bonus = QuotaBonus(attainment_at_least=1.0, amount=Decimal("2000.00"))
    s = statement([100_000_00], quota=quota, bonus=bonus)
    assert "bonus" not in s.lines["rule"].tolist()
    assert s.bonus == Decimal("0.00")
    assert math.isnan(s.attainment) == (not quota)


def test_no_deals_gives_an_empty_statement_with_zero_total():
    s = statement([])
    assert s.lines.empty and list(s.lines.columns) == list(LINE_COLUMNS)
    assert s.total == Decimal("0.00")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    amounts=st.lists(st.integers(-(10**8), 10**9), max_size=8),
    extra=st.integers(1, 10**9),
    rate=st.sampled_from(["0", "0.01", "0.05", "0.125", "0.3333"]),
    quota=st.one_of(st.none(), st.integers(0, 10**9)),
)
def test_commission_never_falls_when_credited_revenue_rises(amounts, extra, rate, quota):
    bonus = QuotaBonus(attainment_at_least=1.0, amount=Decimal("500.00"))
    before = statement(amounts, rate=rate, quota=quota, bonus=bonus)
    after = statement(amounts + [extra], rate=rate, quota=quota, bonus=bonus)
    assert after.total >= before.total
    assert after.total == sum(after.lines["amount"], Decimal("0.00"))


def test_a_negative_flat_period_pays_zero_and_carries_its_net_forward_as_plans_do():
    # carry_negative left out: the plans' default, the net -4.00 carried as balance_out
    s = statement([-100_00, 20_00])
    assert s.lines["rule"].tolist() == ["commission at 5 %", "commission at 5 %", "negative balance carried forward"]
    assert s.lines["amount"].tolist() == [Decimal("-5.00"), Decimal("1.00"), Decimal("4.00")]
    assert s.total == Decimal("0.00") == s.cash_total


def test_a_negative_flat_period_stays_negative_with_carry_negative_false():
    s = statement([-100_00, 20_00], carry_negative=False)
    assert s.lines["rule"].tolist() == ["commission at 5 %", "commission at 5 %"]
    assert s.total == Decimal("-4.00") == s.cash_total


def test_flat_policy_carry_negative_is_the_plans_key_with_its_default_and_validation():
    from reportkit.config.plans import Plan

    assert repr(CommissionPolicy.model_fields["carry_negative"]) == repr(Plan.model_fields["carry_negative"])
    assert CommissionPolicy().carry_negative is True
    assert CommissionPolicy(carry_negative="false").carry_negative is False  # YAML's words, as a plan reads them
    with pytest.raises(ValidationError, match="valid boolean"):
        CommissionPolicy(carry_negative="sometimes")


def test_flat_policy_compiles_to_an_engine_plan_per_report_period():
    policy = CommissionPolicy(
        rate=Decimal("0.05"), quota_bonus=QuotaBonus(attainment_at_least=0.9, amount=Decimal("10"), award="merchandise")
    )
    cal = FiscalCalendar(first_month=7)
    q = flat_plan(policy, Period.parse("FY2025-Q2", cal), "USD")
    assert (q.period, q.rates.method, [t.rate for t in q.rates.tiers]) == ("quarter", "flat", [Decimal("0.05")])
    assert [(b.per, b.attainment_at_least, b.amount, b.award) for b in q.bonuses] == [
        ("period", Decimal("0.9"), Decimal("10.00"), "non_cash")
    ]
    assert flat_plan(policy, Period.parse("FY2025-M03", cal), "USD").period == "month"
    assert flat_plan(policy, Period.parse("FY2025", cal), "USD").bonuses[0].per == "year"
    assert q.carry_negative
    kept = CommissionPolicy(rate=Decimal("0.05"), carry_negative=False)
    assert not flat_plan(kept, Period.parse("FY2025-Q2", cal), "USD").carry_negative
    with pytest.raises(ValidationError, match="more than six decimals"):  # refused when the policy is read
        CommissionPolicy(rate=Decimal("0.0512345"))


def test_flat_statement_amounts_are_the_engine_line_amounts():
    ds = build_dataset(deals=[("D1", "A1", "C1", "2025-05-01", 1_234_50), ("D2", "A1", "C1", "2025-05-02", 10)])
    s = commission_statement(credited_deals(ds), "A1", Q4, CommissionPolicy(rate=Decimal("0.05")), None)
    cents = [engine.rdiv(c * 50_000, 10**6) for c in (1_234_50, 10)]  # the engine's exact integer rounding
    assert [int(a * 100) for a in s.lines["amount"]] == cents == [6173, 1]


# Recorded from the flat ``commission:`` code path before it was folded into the engine
# (params/demo.yaml, as_of 2025-12-31); the engine path must give the same figures.
DEMO_FY2025_BEFORE = {  # period: {AM: (statement total cents, bonus cents, lines)}, flat path before the fold
    "FY2025-Q1": {
        "0731": (917502, 200000, 13),
        "AM-001": (696121, 0, 5),
        "AM-002": (776992, 0, 14),
        "AM-003": (1170765, 200000, 5),
        "AM-004": (310844, 0, 2),
        "AM-005": (542109, 0, 6),
        "AM-006": (717139, 0, 9),
        "AM-007": (770581, 0, 6),
        "AM-008": (385088, 0, 5),
        "AM-009": (694097, 0, 11),
        "AM-010": (813624, 0, 7),
        "AM-012": (0, 0, 0),
    },
    "FY2025-Q2": {
        "0731": (633966, 0, 13),
        "AM-001": (735413, 0, 8),
        "AM-002": (753294, 0, 7),
        "AM-003": (768483, 0, 10),
        "AM-004": (377132, 0, 7),
        "AM-005": (629437, 0, 8),
        "AM-006": (315192, 0, 9),
        "AM-007": (1532140, 200000, 11),
        "AM-008": (677137, 0, 8),
        "AM-009": (529764, 0, 8),
        "AM-010": (590234, 0, 7),
        "AM-012": (0, 0, 0),
    },
    "FY2025-Q3": {
        "0731": (604476, 0, 4),
        "AM-001": (718100, 0, 8),
        "AM-002": (695575, 0, 9),
        "AM-003": (1056900, 200000, 10),
        "AM-004": (568249, 0, 9),
        "AM-005": (652440, 0, 4),
        "AM-006": (470254, 0, 4),
        "AM-007": (1487752, 200000, 10),
        "AM-008": (0, 0, 0),
        "AM-009": (920463, 200000, 5),
        "AM-010": (1069653, 200000, 9),
        "AM-012": (0, 0, 0),
    },
    "FY2025-Q4": {
        "0731": (900397, 200000, 8),
        "AM-001": (667099, 0, 8),
        "AM-002": (652041, 0, 6),
        "AM-003": (771172, 0, 7),
        "AM-004": (501184, 0, 8),
        "AM-005": (1155535, 200000, 9),
        "AM-006": (409200, 0, 6),
        "AM-007": (715844, 0, 3),
        "AM-008": (0, 0, 0),
        "AM-009": (966500, 200000, 7),
        "AM-010": (690171, 0, 7),
        "AM-012": (0, 0, 0),
    },
    "FY2025": {
        "0731": (2656341, 0, 36),
        "AM-001": (2816733, 0, 29),
        "AM-002": (2877902, 0, 36),
        "AM-003": (3367320, 0, 30),
        "AM-004": (1757409, 0, 26),
        "AM-005": (2779521, 0, 26),
        "AM-006": (1911785, 0, 28),
        "AM-007": (4306317, 200000, 29),
        "AM-008": (1062225, 0, 13),
        "AM-009": (2710824, 0, 29),
        "AM-010": (2963682, 0, 29),
        "AM-012": (0, 0, 0),
    },
    "FY2025-M12": {
        "0731": (769210, 200000, 5),
        "AM-001": (196810, 0, 4),
        "AM-002": (156012, 0, 2),
        "AM-003": (28807, 0, 1),
        "AM-004": (99452, 0, 1),
        "AM-005": (147679, 0, 2),
        "AM-006": (59861, 0, 1),
        "AM-007": (102718, 0, 1),
        "AM-008": (0, 0, 0),
        "AM-009": (59470, 0, 1),
        "AM-010": (173083, 0, 3),
        "AM-012": (0, 0, 0),
    },
}


@pytest.fixture(scope="module")
def demo_inputs():
    from pathlib import Path

    from reportkit.domain.loading import load_inputs

    return load_inputs(Path(__file__).resolve().parents[1] / "params" / "demo.yaml")


@pytest.mark.parametrize("period", list(DEMO_FY2025_BEFORE))
def test_demo_commission_figures_unchanged_by_the_engine_path(demo_inputs, period):
    import datetime

    from reportkit.reports.builders import commission_for

    params, ds = demo_inputs
    got = {}
    for am in DEMO_FY2025_BEFORE[period]:
        s = commission_for(ds, params, am, period, datetime.date(2025, 12, 31))
        assert s.total == sum(s.lines["amount"], Decimal("0.00"))
        got[am] = (int(s.total * 100), int(s.bonus * 100), len(s.lines))
    assert got == DEMO_FY2025_BEFORE[period]
