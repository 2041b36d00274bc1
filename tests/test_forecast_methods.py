"""Forecast methods on small hand-computed cases (calendar-year fiscal year, FY2023 = 2023)."""

from __future__ import annotations

import datetime
import math
from decimal import Decimal

import pandas as pd
import pytest
from conftest import build_dataset, quarterly_quotas

from reportkit.core.periods import FiscalCalendar
from reportkit.domain.crediting import credited_deals
from reportkit.domain.forecast import (
    COMPANY,
    METHODS,
    ForecastCategories,
    annual_forecasts,
    forecast_methods,
    level_revenue,
    open_pipeline,
)

CAL = FiscalCalendar(first_month=1)
AS_OF = datetime.date(2023, 6, 30)  # 181 days elapsed, 184 remaining
YEAR_END = datetime.date(2023, 12, 31)


def revenue(rows):
    """rows: (entity, close_date, cents)"""
    return pd.DataFrame(
        {
            "entity": pd.Series([r[0] for r in rows], dtype="str"),
            "deal_id": pd.Series([f"D{i}" for i in range(len(rows))], dtype="str"),
            "close_date": pd.to_datetime(pd.Series([r[1] for r in rows])).astype("datetime64[ns]"),
            "cents": pd.Series([r[2] for r in rows], dtype="int64"),
        }
    )


# last year: Q1 100, Q2 200, Q3 300, Q4 400 (LY_YTD at 30 June = 300, LY_rest = 700, LY_total = 1000)
# this year: Q1 200, Q2 250 -> YTD 450, growth 1.5
HISTORY = [
    ("E", "2022-01-01", 100_00),
    ("E", "2022-05-01", 200_00),
    ("E", "2022-08-01", 300_00),
    ("E", "2022-11-01", 400_00),
    ("E", "2023-02-01", 200_00),
    ("E", "2023-05-01", 250_00),
]


def pipeline_frame(rows):
    """rows: (opportunity_id, probability, amount_cents, expected_close_date | None)"""
    return pd.DataFrame(
        {
            "opportunity_id": pd.Series([r[0] for r in rows], dtype="str"),
            "account_manager_id": pd.Series(["E"] * len(rows), dtype="str"),
            "account_id": pd.Series(["C1"] * len(rows), dtype="str"),
            "stage": pd.Series(["x"] * len(rows), dtype="str"),
            "probability": pd.Series([r[1] for r in rows], dtype="float64"),
            "expected_close_date": pd.to_datetime(pd.Series([r[3] for r in rows], dtype="object")).astype("datetime64[ns]"),
            "amount_cents": pd.Series([r[2] for r in rows], dtype="int64"),
        }
    )


PIPE = [
    ("O1", 0.8, 100_00, "2023-09-01"),  # commit: 80.00
    ("O2", 0.5, 200_00, None),  # best case, undated: 100.00
    ("O3", 0.1, 300_00, "2023-12-31"),  # pipeline: 30.00
    ("O4", 0.9, 1000_00, "2024-02-01"),  # next year: out
    ("O5", 0.9, 500_00, "2023-05-01"),  # overdue: out
]


def methods(rows=HISTORY, as_of=AS_OF, pipe=None, **kw):
    p = open_pipeline(pipeline_frame(pipe), "account_manager", as_of, YEAR_END) if pipe else None
    f = forecast_methods(revenue(rows), ["E"], 2023, as_of, CAL, pipeline=p, **kw)
    return f.iloc[0]


def test_inputs_ytd_and_same_dates_last_year():
    r = methods()
    assert (r["ytd_cents"], r["ly_ytd_cents"], r["ly_rest_cents"], r["ly_total_cents"]) == (450_00, 300_00, 700_00, 1000_00)
    assert r["full_prior_year"] and (r["elapsed_days"], r["remaining_days"]) == (181, 184)


def test_run_rate():
    # 45,000 cents x 184 / 181 = 45,745.86 -> 45,746
    assert methods()["run_rate_cents"] == 450_00 + 45746


def test_seasonal_is_last_years_rest_times_ytd_growth():
    assert methods()["seasonal_cents"] == 450_00 + 700_00 * 3 // 2


def test_seasonal_naive_is_last_years_rest():
    assert methods()["seasonal_naive_cents"] == 450_00 + 700_00


def test_blended_is_damped_seasonal_with_a_full_prior_year():
    # growth 1.5 damped by w = LY_YTD / LY_total = 0.3 -> 1.15; 700 x 1.15 = 805
    r = methods()
    assert r["blended_cents"] == 450_00 + 805_00
    assert r["blended_basis"].startswith("damped seasonal")


def test_weighted_pipeline_and_categories_are_cumulative():
    r = methods(pipe=PIPE)
    assert r["commit_cents"] == 450_00 + 80_00
    assert r["best_case_cents"] == 450_00 + 80_00 + 100_00
    assert r["pipeline_cents"] == r["weighted_pipeline_cents"] == 450_00 + 210_00
    assert (r["open_count"], r["open_amount_cents"]) == (3, 600_00)
    # thresholds are configurable: everything >= 0.1 is commit
    r2 = methods(pipe=PIPE, categories=ForecastCategories(commit_at_least=0.1, best_case_at_least=0.1))
    assert r2["commit_cents"] == r2["pipeline_cents"] == 450_00 + 210_00


@pytest.mark.parametrize(
    "pipe, weighted_cents",
    [
        ([("O1", 0.29, 50, None)], 15),  # 0.29 x 50 = 14.5 exactly -> 15 (float: 14.499999999999998 -> 14)
        ([("O1", 0.29, 1450, None)], 421),  # 420.5 -> 421 (float: 420.49999999999994 -> 420)
        ([("O1", 0.1, 5, None), ("O2", 0.1, 5, None), ("O3", 0.1, 5, None)], 2),  # 1.5 in one band -> 2, rounded once
    ],
)
def test_weighted_pipeline_rounds_the_exact_amount_half_away_from_zero(pipe, weighted_cents):
    r = methods(pipe=pipe)
    assert r["weighted_pipeline_cents"] == 450_00 + weighted_cents


def test_range_spans_the_methods_plus_pipeline_upside():
    r = methods(pipe=PIPE)
    assert r["low_cents"] == 450_00 + 45746  # run rate is the lowest
    assert r["high_cents"] == 450_00 + 1050_00 + 210_00  # seasonal + weighted pipeline
    assert r["low_cents"] <= r["blended_cents"] <= r["high_cents"]


def test_without_a_full_prior_year_seasonal_is_undefined_and_blended_is_run_rate():
    r = methods(HISTORY[1:])  # data start 2022-05-01 > 2022-01-01
    assert not r["full_prior_year"]
    assert pd.isna(r["seasonal_cents"]) and pd.isna(r["seasonal_naive_cents"])
    assert r["blended_cents"] == r["run_rate_cents"]


def test_run_rate_counts_days_from_the_data_start():
    # data starts 2023-03-01: 122 days to 30 June, 184 remaining; 100.00 x 184 / 122 = 150.819... -> 150.82
    r = methods([("E", "2023-03-01", 40_00), ("E", "2023-06-01", 60_00)])
    assert r["elapsed_days"] == 122
    assert r["run_rate_cents"] == 100_00 + 150_82


def test_future_rows_are_ignored():
    future = HISTORY + [("E", "2023-07-01", 10**9)]
    assert methods(future).equals(methods())


def test_after_the_year_end_every_method_is_the_actual():
    r = methods(HISTORY + [("E", "2023-12-01", 50_00)], as_of=datetime.date(2024, 1, 15), pipe=PIPE)
    for m in METHODS:
        assert r[f"{m}_cents"] == 500_00, m
    assert r["low_cents"] == r["high_cents"] == 500_00


def test_categories_reject_inverted_thresholds():
    with pytest.raises(ValueError):
        ForecastCategories(commit_at_least=0.2, best_case_at_least=0.5)


def overlay_dataset():
    ams = [("A1", "Ann", "East", None, None), ("A2", "Ben", "East", None, None), ("A3", "Cy", "West", None, None)]
    deals = [
        ("D1", "A1", "C1", "2023-02-01", 100_00, "won", "T1"),  # credits A1 and A2 (overlay)
        ("D2", "A3", "C2", "2023-01-01", 40_00, "won", "T2"),  # first deal: the data starts 1 Jan
    ]
    quotas = quarterly_quotas("A1", 2023, 100_00, 1) + quarterly_quotas("A2", 2023, 50_00, 1)
    return build_dataset(
        ams=ams,
        deals=deals,
        quotas=quotas,
        territories=[("A1", "T1"), ("A2", "T1"), ("A3", "T2")],
        crediting="territory",
        first_month=1,
    )


def test_level_revenue_counts_a_deal_once_per_team_and_company():
    ds = overlay_dataset()
    c = credited_deals(ds)
    by = lambda lv: level_revenue(c, lv, ds.account_managers).groupby("entity")["cents"].sum().to_dict()  # noqa: E731
    assert by("account_manager") == {"A1": 100_00, "A2": 100_00, "A3": 40_00}
    assert by("team") == {"East": 100_00, "West": 40_00}
    assert by("company") == {COMPANY: 140_00}


def test_annual_forecasts_per_level_against_the_annual_quota():
    ds = overlay_dataset()
    as_of = datetime.date(2023, 3, 31)  # 90 days elapsed, 275 remaining; no prior year -> run rate
    am = annual_forecasts(ds, 2023, as_of, level="account_manager").set_index("entity")
    assert am.loc["A1", "forecast"] == Decimal("100.00") + Decimal("305.56")  # 100 x 275 / 90 = 305.555...
    assert am.loc["A1", "annual_quota"] == Decimal("400.00")
    assert am.loc["A1", "forecast_attainment"] == pytest.approx(405.56 / 400)
    assert am.loc["A3", "annual_quota"] is None and math.isnan(am.loc["A3", "forecast_attainment"])
    team = annual_forecasts(ds, 2023, as_of, level="team").set_index("entity")
    assert team.loc["East", "ytd_revenue"] == Decimal("100.00")
    assert team.loc["East", "annual_quota"] == Decimal("600.00")
    co = annual_forecasts(ds, 2023, as_of, level="company", method="run_rate").iloc[0]
    assert co["ytd_revenue"] == Decimal("140.00") and co["method"] == "run_rate"
    assert co["low"] <= co["forecast"] <= co["high"]
