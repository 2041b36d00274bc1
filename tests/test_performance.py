"""Performance watch: consecutive misses, lifting, undefined quarters."""

from __future__ import annotations

import math

import pytest

from reportkit.config.params import PerformancePolicy
from reportkit.domain.performance import PERFORMANCE_COLUMNS, current_status, performance_table, performance_watch

POLICY = PerformancePolicy(miss_below=0.9, watch_after=2, termination_review_after=3)
NAN = math.nan


def walk(atts, policy=POLICY):
    periods = [f"FY2025-Q{i % 4 + 1}" for i in range(len(atts))]
    return performance_watch(periods, atts, policy)


@pytest.mark.parametrize(
    "atts, statuses, runs",
    [
        ([1.0, 0.95], ["on track", "on track"], [0, 0]),
        ([0.5, 0.8, 0.89], ["missed", "performance watch", "termination review"], [1, 2, 3]),
        ([0.5, 0.5, 0.9, 0.5], ["missed", "performance watch", "on track", "missed"], [1, 2, 0, 1]),
        ([0.5, NAN, 0.5], ["missed", "n/a", "performance watch"], [1, 1, 2]),
        ([0.5, 0.5, NAN, 1.2], ["missed", "performance watch", "n/a", "on track"], [1, 2, 2, 0]),
        ([None, NAN], ["n/a", "n/a"], [0, 0]),
    ],
)
def test_consecutive_misses_and_status(atts, statuses, runs):
    f = walk(atts)
    assert list(f.columns) == list(PERFORMANCE_COLUMNS)
    assert f["status"].tolist() == statuses
    assert f["consecutive_misses"].tolist() == runs


def test_exactly_at_the_threshold_is_not_a_miss():
    f = walk([0.9])
    assert f["missed"].tolist() == [False]


def test_undefined_attainment_has_no_missed_value():
    assert walk([NAN])["missed"].isna().all()


def test_undefined_last_quarter_does_not_lift_a_watch():
    f = walk([0.5, 0.5, NAN])
    assert current_status(f, POLICY) == ("performance watch", 2)
    assert current_status(walk([]), POLICY) == ("n/a", 0)


def test_policy_thresholds_drive_the_states():
    policy = PerformancePolicy(miss_below=1.0, watch_after=1, termination_review_after=2)
    assert walk([0.95, 0.99], policy)["status"].tolist() == ["performance watch", "termination review"]


def test_performance_table_walks_each_account_manager_separately():
    import pandas as pd

    att = pd.DataFrame(
        {
            "account_manager_id": ["A1", "A1", "A2", "A2"],
            "period": ["FY2025-Q1", "FY2025-Q2", "FY2025-Q1", "FY2025-Q2"],
            "attainment": [0.5, 0.5, 1.0, 0.5],
        }
    )
    t = performance_table(att, POLICY)
    assert t.loc[t["account_manager_id"] == "A1", "status"].tolist() == ["missed", "performance watch"]
    assert t.loc[t["account_manager_id"] == "A2", "status"].tolist() == ["on track", "missed"]


def test_periods_and_attainments_must_align():
    with pytest.raises(ValueError):
        performance_watch(["FY2025-Q1"], [0.5, 0.6], POLICY)
