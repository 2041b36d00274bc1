"""The one rounding rule: cents, half away from zero; splits that sum to the whole."""

from decimal import Decimal, InvalidOperation

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reportkit.core.errors import DataError
from reportkit.core.money import (
    allocate,
    cents_to_money,
    check_exact_range,
    exact_total_cents,
    micros_to_cents,
    money_sum,
    round_money,
    to_cents,
    to_micros,
)


@pytest.mark.parametrize(
    "value, cents",
    [
        ("22.368", 2237),  # Superstore sub-cent sale, rounded per line at load
        ("0.005", 1),
        ("-0.005", -1),  # half away from zero, not banker's rounding
        ("2.345", 235),
        ("2.344", 234),
        ("1234", 123400),
        ("-200.00", -20000),
    ],
)
def test_to_cents_rounds_half_away_from_zero(value, cents):
    assert to_cents(value) == cents


def test_round_money_and_cents_round_trip():
    assert round_money(Decimal("-2.345")) == Decimal("-2.35")
    assert cents_to_money(123456) == Decimal("1234.56")
    assert str(cents_to_money(-5)) == "-0.05"


def test_statement_total_is_the_sum_of_rounded_lines():
    lines = [round_money(Decimal("0.333")), round_money(Decimal("0.333")), round_money(Decimal("0.333"))]
    assert money_sum(lines) == Decimal("0.99")


@pytest.mark.parametrize(
    "total, weights, parts",
    [
        (1001, ["0.6", "0.4"], [601, 400]),
        (100, [1, 1, 1], [34, 33, 33]),
        (-100, [1, 1, 1], [-34, -33, -33]),
        (0, [1, 2], [0, 0]),
    ],
)
def test_allocate_worked_examples(total, weights, parts):
    assert allocate(total, weights) == parts


@given(
    total=st.integers(min_value=-(10**12), max_value=10**12),
    weights=st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=8).filter(any),
)
def test_split_credits_always_sum_to_the_deal(total, weights):
    parts = allocate(total, weights)
    assert sum(parts) == total
    # each part is within one cent of its exact share
    wsum = sum(weights)
    for p, w in zip(parts, weights):
        assert abs(Decimal(p) - Decimal(total) * w / wsum) < 1


def test_non_finite_amount_is_refused():
    with pytest.raises(InvalidOperation, match="not a finite amount"):
        to_cents("NaN")


@pytest.mark.parametrize(
    "micros, cents",
    [
        (65_705_558_000, 6_570_556),  # Superstore 2012-Q4 East: 65,705.558 -> 65,705.56
        (21_064_165_000, 2_106_417),  # an exact half cent: away from zero
        (-21_064_165_000, -2_106_417),
        (4_999, 0),
        (-5_000, -1),
    ],
)
def test_micros_to_cents_rounds_an_exact_total_half_away_from_zero(micros, cents):
    assert micros_to_cents(micros) == cents
    assert micros_to_cents(np.array([micros], dtype=np.int64)).tolist() == [cents]


def test_exact_total_is_rounded_once_not_line_by_line():
    lines = [to_micros("10.004")] * 3  # each line alone is 10.00
    assert exact_total_cents(lines) == 3001 != 3 * to_cents("10.004")
    assert exact_total_cents(np.array(lines, dtype=np.int64)) == 3001


@given(st.lists(st.decimals(min_value=-(10**6), max_value=10**6, places=6), max_size=30))
def test_exact_total_equals_the_decimal_sum_rounded_once(values):
    want = to_cents(sum(values, Decimal(0)))
    assert exact_total_cents([to_micros(v) for v in values]) == want


def test_totals_beyond_the_exact_range_are_refused_with_the_fix():
    with pytest.raises(DataError, match="exact sums hold less than 4,611,686,018,427 currency units") as exc:
        check_exact_range(np.array([2**61, 2**61], dtype=np.int64), "deals.amount_cents")
    assert "scale:" in exc.value.hint
