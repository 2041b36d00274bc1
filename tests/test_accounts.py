"""Account status per client account: figures, days since last order, status rules."""

from __future__ import annotations

import datetime
import math
from decimal import Decimal

import pandas as pd
import pytest
from conftest import build_batch_params, build_dataset

from reportkit.core.periods import FiscalCalendar, Period
from reportkit.domain.accounts import ACCOUNT_COLUMNS, AccountStatusRules, account_status
from reportkit.domain.crediting import credited_deals
from reportkit.render.notebook import table
from reportkit.reports.builders import build_account_manager_report

CAL = FiscalCalendar(first_month=7)
Q4 = Period.parse("FY2025-Q4", CAL)  # 2025-04-01 .. 2025-06-30; last year 2024-04-01 .. 2024-06-30
AS_OF = datetime.date(2025, 6, 30)


# another account's order in FY2025-Q4: the data reaches the period (else no account has a status: data_ends)
REACHED = [("C0", "2025-06-01", 1_00)]


def status_of(deals, accounts=None, rules=None, as_of=AS_OF):
    rows = [(f"D{i}", "A1", acc, d, amt) for i, (acc, d, amt) in enumerate(deals)]
    ds = build_dataset(deals=rows, accounts=accounts)
    out = account_status(credited_deals(ds), "A1", Q4, as_of, ds.accounts, rules)
    assert list(out.columns) == list(ACCOUNT_COLUMNS)
    return out.set_index("account_id")


@pytest.mark.parametrize(
    "case, deals, expected",
    [
        ("lapsed", [("C1", "2023-01-10", 100_00), ("C1", "2024-05-01", 100_00), *REACHED], "lapsed"),
        ("new", [("C1", "2025-03-01", 100_00), *REACHED], "new"),
        ("at risk: silent", [("C1", "2024-01-01", 100_00), ("C1", "2024-12-01", 100_00), *REACHED], "at risk"),
        ("at risk: halved", [("C1", "2023-01-01", 1_00), ("C1", "2024-05-01", 100_00), ("C1", "2025-05-01", 40_00)], "at risk"),
        ("declining", [("C1", "2023-01-01", 1_00), ("C1", "2024-05-01", 100_00), ("C1", "2025-05-01", 80_00)], "declining"),
        ("growing", [("C1", "2023-01-01", 1_00), ("C1", "2024-05-01", 100_00), ("C1", "2025-05-01", 130_00)], "growing"),
        (
            "growing from nothing",
            [("C1", "2023-01-01", 1_00), ("C1", "2024-03-01", 100_00), ("C1", "2025-05-01", 130_00)],
            "growing",
        ),
        ("stable", [("C1", "2023-01-01", 1_00), ("C1", "2024-05-01", 100_00), ("C1", "2025-05-01", 105_00)], "stable"),
    ],
)
def test_status_rules(case, deals, expected):
    row = status_of(deals).loc["C1"]
    assert row["status"] == expected, row["status_reason"]
    assert row["status_reason"]


def test_figures_and_days_since_last_order_are_relative_to_as_of():
    out = status_of(
        [
            ("C1", "2023-01-01", 1_00),
            ("C1", "2024-05-01", 100_00),
            ("C1", "2024-08-01", 7_00),
            ("C1", "2025-05-01", 80_00),
            ("C1", "2025-06-10", -5_00),
        ],
        accounts=[("C1", "Contoso", "A1", None)],
    )
    row = out.loc["C1"]
    assert row["account_name"] == "Contoso"
    assert row["revenue_period"] == Decimal("75.00")
    assert row["revenue_ytd"] == Decimal("82.00")
    assert row["revenue_same_period_last_year"] == Decimal("100.00")
    # a return is not an order: the last order is 2025-05-01, 60 days before as_of
    assert row["last_order_date"] == datetime.date(2025, 5, 1)
    assert row["days_since_last_order"] == 60
    assert row["trend"] == pytest.approx(-0.25)


def test_owned_account_without_orders_is_listed_as_lapsed():
    out = status_of([("C1", "2025-05-01", 10_00)], accounts=[("C1", "Contoso", "A1", None), ("C2", "Idle", "A1", None)])
    assert out.loc["C2", "status"] == "lapsed"
    assert out.loc["C2", "revenue_period"] == Decimal("0.00")


def test_revenue_before_handover_does_not_count_for_the_account_manager():
    out = status_of(
        [("C1", "2025-04-10", 500_00), ("C1", "2025-05-10", 70_00)],
        accounts=[("C1", "Contoso", "A1", "2025-05-01")],
    )
    assert out.loc["C1", "revenue_period"] == Decimal("70.00")
    assert out.loc["C1", "handover_date"] == datetime.date(2025, 5, 1)


def test_thresholds_are_configurable():
    # first and last order 60 days before as_of; another account's deal makes the data cover last year
    deals = [("C0", "2023-01-01", 1_00), ("C1", "2025-05-01", 100_00)]
    assert status_of(deals).loc["C1", "status"] == "new"
    assert status_of(deals, rules=AccountStatusRules(new_within_days=30)).loc["C1", "status"] == "growing"


# -- comparisons with last year need data that covers last year ------------------------------
# FY2024-Q4 (last year's quarter) is 2024-04-01 .. 2024-06-30. C1 first ordered on 2024-10-01
# (not "new" at as_of) and has revenue in FY2025-Q4, none in FY2024-Q4.
C1_SINCE_OCTOBER = [("C1", "2024-10-01", 50_00), ("C1", "2025-05-01", 130_00)]


def test_growing_from_zero_needs_data_from_the_first_day_of_last_years_period():
    covered = status_of([("C0", "2024-04-01", 1_00)] + C1_SINCE_OCTOBER).loc["C1"]  # data begins on that day
    assert (covered["status"], covered["revenue_same_period_last_year"]) == ("growing", Decimal("0.00"))
    assert covered["status_reason"] == "revenue in FY2025-Q4, none in FY2024-Q4"


@pytest.mark.parametrize("history", [[("C0", "2024-04-02", 1_00)], []], ids=["begins-a-day-late", "begins-with-C1"])
def test_no_status_compares_with_last_year_when_the_data_begins_after_it_started(history):
    row = status_of(history + C1_SINCE_OCTOBER).loc["C1"]
    first = (history or C1_SINCE_OCTOBER)[0][1]
    assert (row["status"], row["status_rule"]) == ("active", "no_history")
    assert row["status_reason"] == f"last order 60 days ago; no comparison with FY2024-Q4: the data begins on {first}"
    assert row["revenue_same_period_last_year"] is None and math.isnan(row["trend"])


def test_the_report_shows_last_year_as_na_in_the_accounts_and_the_quarterly_table_alike():
    ds = build_dataset(deals=[(f"D{i}", "A1", a, d, c) for i, (a, d, c) in enumerate(C1_SINCE_OCTOBER)])
    r = build_account_manager_report(ds, "A1", "FY2025-Q4", build_batch_params(), AS_OF)
    accounts = table(r.accounts, ["account_id", "revenue_same_period_last_year", "trend", "status", "status_reason"]).rows
    assert list(accounts) == [
        ("C1", "n/a", "n/a", "active", "last order 60 days ago; no comparison with FY2024-Q4: the data begins on 2024-10-01")
    ]
    quarterly = table(r.quarterly, ["period", "revenue_last_year", "growth_vs_last_year"]).rows
    assert [row[1:] for row in quarterly] == [("n/a", "n/a")] * 4


# -- reasons count their days in words -----------------------------------------------------------
def test_a_reason_says_1_day_not_1_days():
    # a new account whose first and last order was the day before as_of; and one with no history
    new = status_of([("C0", "2023-01-01", 1_00), ("C1", "2025-06-29", 100_00)]).loc["C1"]
    assert new["status_reason"] == "first order 1 day ago (new within 180)"
    rules = AccountStatusRules(new_within_days=0)
    active = status_of([("C1", "2025-06-29", 100_00)], rules=rules).loc["C1"]
    assert active["status_reason"] == "last order 1 day ago; no comparison with FY2024-Q4: the data begins on 2025-06-29"
    assert status_of([("C1", "2025-06-28", 100_00)], rules=rules).loc["C1", "status_reason"].startswith("last order 2 days ago;")


# -- a period after the data's last deal: its months are the end of the export ---------------------
def test_a_period_that_begins_after_the_datas_last_deal_gives_no_account_a_status_but_says_the_data_ends():
    # the export ends on 2025-03-15, FY2025-Q4 begins on 2025-04-01: 107 days "without an order" (at risk
    # after 120, lapsed after 365) would be the end of the export, not of the account's orders
    deals = [("C1", "2023-01-01", 1_00), ("C1", "2024-05-01", 100_00), ("C1", "2025-03-15", 70_00)]
    row = status_of(deals).loc["C1"]
    assert (row["status"], row["status_rule"]) == ("n/a", "data_ends")
    assert row["status_reason"] == "data ends on 2025-03-15, before FY2025-Q4 began"
    assert row["revenue_period"] is None and pd.isna(row["days_since_last_order"]) and math.isnan(row["trend"])
    assert row["last_order_date"] == datetime.date(2025, 3, 15) and row["revenue_ytd"] == Decimal("70.00")
    ds = build_dataset(deals=[(f"D{i}", "A1", a, d, c) for i, (a, d, c) in enumerate(deals)])
    r = build_account_manager_report(ds, "A1", "FY2025-Q4", build_batch_params(), AS_OF)
    shown = table(r.accounts, ["account_id", "revenue_period", "days_since_last_order", "status", "status_reason"]).rows
    assert list(shown) == [("C1", "n/a", "n/a", "n/a", "data ends on 2025-03-15, before FY2025-Q4 began")]


def test_a_period_the_data_ends_inside_is_judged_on_what_the_data_holds():
    # the data_reaches rule: the export ends on 2025-04-02, inside FY2025-Q4; the account last ordered 2024-12-01
    deals = [("C0", "2023-01-01", 1_00), ("C1", "2024-01-01", 100_00), ("C1", "2024-12-01", 100_00), ("C0", "2025-04-02", 1_00)]
    row = status_of(deals).loc["C1"]
    assert (row["status"], row["status_rule"], row["days_since_last_order"]) == ("at risk", "silent", 211)
