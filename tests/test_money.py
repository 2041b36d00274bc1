"""The one rounding rule: cents, half away from zero; splits that sum to the whole."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reportkit.money import allocate, cents_to_money, money_sum, round_money, to_cents


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
    total=st.integers(min_value=-10**12, max_value=10**12),
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
    with pytest.raises(Exception):
        to_cents("NaN")
