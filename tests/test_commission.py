"""Commission statements: per-deal lines rounded half away from zero, total = sum of lines."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import build_dataset
from reportkit.commission import STATEMENT_COLUMNS, commission_statement
from reportkit.crediting import credited_deals
from reportkit.params import CommissionPolicy, QuotaBonus
from reportkit.periods import FiscalCalendar, Period

Q4 = Period.parse("FY2025-Q4", FiscalCalendar(first_month=7))  # 2025-04-01 .. 2025-06-30


def statement(amounts, rate="0.05", quota=None, bonus=None, dates=None):
    dates = dates or ["2025-05-01"] * len(amounts)
    deals = [(f"D{i:02d}", "A1", "C1", d, a) for i, (a, d) in enumerate(zip(amounts, dates))]
    ds = build_dataset(deals=deals)
    policy = CommissionPolicy(rate=Decimal(rate), quota_bonus=bonus)
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
    s = statement([amount_cents], rate=rate)
    assert list(s.lines.columns) == list(STATEMENT_COLUMNS)
    assert s.lines["amount"].tolist() == [expected]
    assert s.lines["rule"].tolist() == ["flat_rate"]
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
        deals=[("D1", "A1", "C1", "2025-05-01", 100_00), ("D2", "A2", "C1", "2025-05-01", 100_00), ("D3", "A1", "C1", "2025-03-31", 100_00)],
    )
    s = commission_statement(credited_deals(ds), "A1", Q4, CommissionPolicy(rate=Decimal("0.1")), None)
    assert s.lines["description"].str.contains("D1").tolist() == [True]
    assert s.revenue == Decimal("100.00")


def test_quota_bonus_line_when_attainment_reaches_the_threshold():
    bonus = QuotaBonus(attainment_at_least=1.0, amount=Decimal("2000.00"), award="deferred")
    s = statement([60_000_00, 40_000_00], quota=100_000_00, bonus=bonus)
    last = s.lines.iloc[-1]
    assert (last["rule"], last["amount"], last["award"]) == ("quota_bonus", Decimal("2000.00"), "deferred")
    assert s.commission == Decimal("5000.00")
    assert s.bonus == Decimal("2000.00")
    assert s.total == Decimal("7000.00") == sum(s.lines["amount"])
    assert s.cash_total == Decimal("5000.00")  # the deferred bonus is not cash now
    assert s.attainment == pytest.approx(1.0)


@pytest.mark.parametrize("quota", [None, 0, 100_000_01])
def test_no_quota_bonus_below_threshold_or_when_attainment_is_undefined(quota):
    bonus = QuotaBonus(attainment_at_least=1.0, amount=Decimal("2000.00"))
    s = statement([100_000_00], quota=quota, bonus=bonus)
    assert "quota_bonus" not in s.lines["rule"].tolist()
    assert s.bonus == Decimal("0.00")
    assert math.isnan(s.attainment) == (not quota)


def test_no_deals_gives_an_empty_statement_with_zero_total():
    s = statement([])
    assert s.lines.empty and list(s.lines.columns) == list(STATEMENT_COLUMNS)
    assert s.total == Decimal("0.00")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    amounts=st.lists(st.integers(-10**8, 10**9), max_size=8),
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
