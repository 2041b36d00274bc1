"""Annual forecast: YTD + run rate, range from the last full quarter's pace."""

from __future__ import annotations

import datetime
import math
from decimal import Decimal

import pytest
from conftest import build_dataset

from reportkit.core.periods import FiscalCalendar
from reportkit.domain.crediting import credited_deals
from reportkit.domain.forecast import FORECAST_COLUMNS, annual_forecast, last_full_quarter

CAL = FiscalCalendar(first_month=1)  # FY2023 == calendar 2023, 365 days


def forecast(deals, as_of, quota=None):
    ds = build_dataset(deals=[(f"D{i}", "A1", "C1", d, a) for i, (d, a) in enumerate(deals)], first_month=1)
    f = annual_forecast(credited_deals(ds), ["A1"], 2023, as_of, CAL, {"A1": quota})
    assert list(f.columns[: len(FORECAST_COLUMNS)]) == list(FORECAST_COLUMNS)
    return f.iloc[0]


def test_run_rate_carries_the_ytd_daily_pace_over_the_remaining_days():
    # 90 days elapsed (Jan..Mar), 90,000.00 YTD -> 1,000.00/day x 275 remaining days
    r = forecast([("2023-02-01", 90_000_00)], datetime.date(2023, 3, 31), quota=400_000_00)
    assert r["ytd_revenue"] == Decimal("90000.00")
    assert r["remaining_forecast"] == Decimal("275000.00")
    assert r["forecast"] == Decimal("365000.00")
    assert r["forecast_attainment"] == pytest.approx(365_000 / 400_000)
    # the last full quarter is Q1, the same pace: the range collapses
    assert r["low"] == r["high"] == r["forecast"]


def test_range_uses_the_last_full_quarter_pace():
    # as of 2023-05-15: 135 days elapsed, 230 remaining. YTD 120,000.00 (Q1 90,000 + April 30,000).
    r = forecast([("2023-02-01", 90_000_00), ("2023-04-10", 30_000_00)], datetime.date(2023, 5, 15))
    ytd_pace = Decimal(120_000_00) * 230 / 135  # 204,444.444... -> 204,444.44
    q1_pace = Decimal(90_000_00) * 230 / 90  # 230,000.00
    assert r["forecast"] == Decimal("120000.00") + (ytd_pace / 100).quantize(Decimal("0.01"))
    assert r["low"] == r["forecast"]
    assert r["high"] == Decimal("120000.00") + q1_pace / 100
    assert r["low"] <= r["forecast"] <= r["high"]


def test_after_the_year_end_the_forecast_is_the_actual():
    r = forecast([("2023-02-01", 90_000_00), ("2023-12-31", 10_00)], datetime.date(2024, 2, 1))
    assert r["forecast"] == r["ytd_revenue"] == r["low"] == r["high"] == Decimal("90010.00")
    assert r["remaining_forecast"] == Decimal("0.00")


def test_deals_after_as_of_are_ignored():
    r = forecast([("2023-01-10", 31_000_00), ("2023-02-10", 999_000_00)], datetime.date(2023, 1, 31))
    assert r["ytd_revenue"] == Decimal("31000.00")


def test_forecast_attainment_is_nan_without_an_annual_quota():
    r = forecast([("2023-01-10", 31_000_00)], datetime.date(2023, 1, 31), quota=None)
    assert r["annual_quota"] is None
    assert math.isnan(r["forecast_attainment"])


def test_early_in_the_year_the_last_full_quarter_is_last_years_q4():
    assert last_full_quarter(CAL, datetime.date(2023, 2, 1)).label == "FY2022-Q4"
    assert last_full_quarter(CAL, datetime.date(2023, 3, 31)).label == "FY2023-Q1"
    r = forecast([("2022-11-01", 46_000_00), ("2023-01-15", 31_000_00)], datetime.date(2023, 1, 31))
    # YTD pace 31,000 / 31 days = 1,000/day; Q4 2022 pace 46,000 / 92 days = 500/day; 334 days remain
    assert r["low"] == Decimal("31000.00") + Decimal("500.00") * 334
    assert r["high"] == r["forecast"] == Decimal("31000.00") + Decimal("1000.00") * 334
