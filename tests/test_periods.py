"""Fiscal calendar: labels, boundaries and naming rule (FY named by the year it ends in)."""

import datetime as dt

import pandas as pd
import pytest

from reportkit.core.errors import PeriodError
from reportkit.core.periods import FiscalCalendar, Period

JULY = FiscalCalendar(first_month=7)
JAN = FiscalCalendar(first_month=1)


@pytest.mark.parametrize(
    "cal, day, kind, label",
    [
        (JULY, dt.date(2019, 7, 1), "quarter", "FY2020-Q1"),
        (JULY, dt.date(2019, 6, 30), "quarter", "FY2019-Q4"),
        (JULY, dt.date(2020, 1, 1), "quarter", "FY2020-Q3"),
        (JULY, dt.date(2020, 6, 30), "year", "FY2020"),
        (JULY, dt.date(2019, 7, 31), "month", "FY2020-M01"),
        (JULY, dt.date(2020, 6, 1), "month", "FY2020-M12"),
        (JAN, dt.date(2017, 3, 1), "quarter", "FY2017-Q1"),
        (JAN, dt.date(2017, 12, 31), "quarter", "FY2017-Q4"),
        (FiscalCalendar(2), dt.date(2024, 1, 31), "quarter", "FY2024-Q4"),
        (FiscalCalendar(2), dt.date(2024, 2, 1), "quarter", "FY2025-Q1"),
    ],
)
def test_fiscal_year_is_named_by_the_calendar_year_it_ends_in(cal, day, kind, label):
    assert cal.period_of(day, kind).label == label


@pytest.mark.parametrize(
    "label, start, end",
    [
        ("FY2020-Q1", dt.date(2019, 7, 1), dt.date(2019, 9, 30)),
        ("FY2020-Q3", dt.date(2020, 1, 1), dt.date(2020, 3, 31)),
        ("FY2020", dt.date(2019, 7, 1), dt.date(2020, 6, 30)),
        ("FY2020-M08", dt.date(2020, 2, 1), dt.date(2020, 2, 29)),
    ],
)
def test_period_bounds_are_inclusive_first_and_last_day(label, start, end):
    p = Period.parse(label, JULY)
    assert (p.start, p.end) == (start, end)
    assert p.days == (end - start).days + 1


def test_vectorised_labels_match_scalar_labels_and_keep_missing_dates_missing():
    dates = pd.Series(pd.to_datetime(["2019-07-01", "2020-06-30", None, "2020-02-29"]))
    labels = JULY.labels(dates, "quarter")
    assert labels.iloc[[0, 1, 3]].tolist() == ["FY2020-Q1", "FY2020-Q4", "FY2020-Q3"]
    assert pd.isna(labels.iloc[2])
    for d, lab in zip(dates.dropna(), labels.dropna()):
        assert JULY.period_of(d.date(), "quarter").label == lab


def test_shift_crosses_fiscal_year_boundaries():
    q1 = Period.parse("FY2020-Q1", JULY)
    assert q1.previous().label == "FY2019-Q4"
    assert q1.shift(4).label == "FY2021-Q1"
    assert q1.same_period_last_year().label == "FY2019-Q1"
    assert [q.label for q in Period.parse("FY2020-Q3", JULY).quarters_to_date()] == [
        "FY2020-Q1",
        "FY2020-Q2",
        "FY2020-Q3",
    ]


@pytest.mark.parametrize("bad", ["2020-Q1", "FY20-Q1", "FY2020-Q5", "FY2020-M13", "Q1 2020", ""])
def test_bad_period_label_raises_period_error_with_the_accepted_forms(bad):
    with pytest.raises(PeriodError) as info:
        Period.parse(bad, JULY)
    assert "FY2020-Q1" in str(info.value) or "number must be" in str(info.value)


def test_first_month_outside_1_to_12_is_refused():
    with pytest.raises(PeriodError, match="1 \\(January\\)"):
        FiscalCalendar(first_month=13)
