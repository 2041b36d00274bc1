"""Performance watch: consecutive misses, lifting, undefined quarters."""

from __future__ import annotations

import math

import pytest

from reportkit.config.params import PerformancePolicy
from reportkit.domain.performance import (
    PERFORMANCE_COLUMNS,
    current_status,
    performance_input,
    performance_table,
    performance_watch,
)

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


def _quarters_from_october(atts):
    import datetime

    import pandas as pd

    starts = [datetime.date(2024, 10, 1), datetime.date(2025, 1, 1), datetime.date(2025, 4, 1), datetime.date(2025, 7, 1)]
    ends = [datetime.date(2024, 12, 31), datetime.date(2025, 3, 31), datetime.date(2025, 6, 30), datetime.date(2025, 9, 30)]
    return pd.DataFrame(
        {
            "account_manager_id": "A1",
            "period": ["FY2025-Q1", "FY2025-Q2", "FY2025-Q3", "FY2025-Q4"],
            "period_start": pd.to_datetime(starts),
            "period_end": pd.to_datetime(ends),
            "attainment": atts,
        }
    )


def test_quarter_begun_before_the_data_has_no_verdict_and_is_skipped_in_the_run():
    import datetime

    # the data begins on 2024-12-01: FY2025-Q1 (Oct-Dec) holds one month of sales, a "miss" it is not
    att = _quarters_from_october([0.3, 0.5, 0.5, 0.5])
    t = performance_table(performance_input(att, datetime.date(2025, 9, 30), datetime.date(2024, 12, 1)), POLICY)
    assert t["status"].tolist() == ["n/a", "missed", "performance watch", "termination review"]
    assert t["consecutive_misses"].tolist() == [0, 1, 2, 3]
    assert t["note"].tolist() == ["data begins on 2024-12-01", None, None, None]
    assert t["missed"].isna().tolist() == [True, False, False, False]


def test_quarter_begun_before_the_data_neither_breaks_nor_extends_a_run_around_it():
    # a run carried over a quarter with no verdict, as over an undefined one
    f = performance_watch(
        ["FY2025-Q1", "FY2025-Q2", "FY2025-Q3"], [0.5, 1.5, 0.5], POLICY, notes=[None, "data begins on 2025-01-15", None]
    )
    assert f["status"].tolist() == ["missed", "n/a", "performance watch"]
    assert f["consecutive_misses"].tolist() == [1, 1, 2]


def test_data_beginning_on_the_first_day_of_a_quarter_covers_it():
    import datetime

    att = _quarters_from_october([0.3, 0.5, 1.0, 0.5])
    t = performance_table(performance_input(att, datetime.date(2025, 9, 30), datetime.date(2024, 10, 1)), POLICY)
    assert t["status"].tolist() == ["missed", "performance watch", "on track", "missed"]
    assert t["note"].isna().all()


def test_quarter_begun_after_the_data_ends_has_no_verdict_instead_of_a_miss_on_no_data():
    import datetime

    # the export ends on 2025-02-10: FY2025-Q2 (Jan-Mar) holds part of its sales and is judged as it stands;
    # FY2025-Q3 and Q4 hold nothing at all, and 0 % there is the end of the data, not of the sales
    att = _quarters_from_october([0.5, 0.5, 0.0, 0.0])
    t = performance_table(
        performance_input(att, datetime.date(2025, 9, 30), datetime.date(2024, 10, 1), datetime.date(2025, 2, 10)), POLICY
    )
    assert t["status"].tolist() == ["missed", "performance watch", "n/a", "n/a"]
    assert t["consecutive_misses"].tolist() == [1, 2, 2, 2]
    assert t["note"].tolist() == [None, None, "data ends on 2025-02-10", "data ends on 2025-02-10"]


@pytest.mark.realdata
def test_a_maven_quarter_after_its_last_deal_puts_nobody_on_watch(tmp_path):
    import datetime
    from pathlib import Path

    from datasets import have

    import reportkit as rk

    params_file = Path(__file__).resolve().parents[1] / "params" / "maven_crm.yaml"
    if not have("maven-crm-sales-opportunities"):
        pytest.skip("needs the Maven CRM data set (realdata; set REPORTKIT_DATA_DIR)")
    params, ds = rk.load(params_file)
    # Maven's last deal closed on 2017-12-31; FY2018-Q1 and Q2 are past the data, their 0 % no miss
    t = rk.performance_watch(ds, "FY2018-Q2", params, as_of=datetime.date(2018, 6, 30), history=True)
    last = t[t["period"].isin(["FY2018-Q1", "FY2018-Q2"])]
    assert set(last["status"]) == {"n/a"} and set(last["note"]) == {"data ends on 2017-12-31"}
