"""Figures tie to the source to the cent: sub-cent amounts are kept exact (micros) through
aggregation and rounded once where a total is shown; commission lines stay rounded per line;
cancellations and adjustments are exact or refused with a clear error."""

from __future__ import annotations

import dataclasses
import datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from conftest import build_batch_params
from engine_helpers import dataset, plan, run, summary
from test_mapping import MINIMAL

from reportkit.core.errors import DataError
from reportkit.data import model
from reportkit.data.mapping import load_dataset
from reportkit.domain import engine
from reportkit.reports.builders import build_account_manager_report, build_team_report

# the minimal mapping of test_mapping, fiscal July, reading the case's file
MAPPING = MINIMAL.replace("first_month: 1", "first_month: 7").replace("deals.csv", "sub_cent_sales.csv")

# A1: three lines of 10.004 -> 10.00 each on their own, 30.012 together (30.01 shown, not 30.00).
# A2: one line of 0.004 -> 0.00 on its own. Team: 30.016 -> 30.02 (not 30.01 + 0.00).
# One 7-decimal line (A2, FY2025-Q3) is rounded half away from zero at the micro.
SUB_CENT_SALES = """\
ref,rep,client,closed,value
S1,A1,C1,2025-04-02,10.004
S2,A1,C1,2025-05-03,10.004
S3,A1,C2,2025-06-04,10.004
S4,A2,C3,2025-06-05,0.004
S5,A2,C3,2025-01-06,1.0000005
"""
AS_OF = datetime.date(2025, 6, 30)


@pytest.fixture
def sub_cent_sales(tmp_path: Path) -> model.Dataset:
    (tmp_path / "ams.csv").write_text("id,name,team,mgr\nA1,Ann,North,Nora\nA2,Ben,North,Nora\n", encoding="utf-8")
    (tmp_path / "sub_cent_sales.csv").write_text(SUB_CENT_SALES, encoding="utf-8")
    (tmp_path / "mapping.yaml").write_text(MAPPING, encoding="utf-8")
    return load_dataset(tmp_path / "mapping.yaml")


def test_loading_keeps_each_amount_exact_beside_its_per_line_cents(sub_cent_sales):
    d = sub_cent_sales.deals.set_index("deal_id")
    assert d["amount_cents"].to_dict() == {"S1": 1000, "S2": 1000, "S3": 1000, "S4": 0, "S5": 100}
    assert d[model.AMOUNT_MICROS].to_dict() == {
        "S1": 10_004_000,
        "S2": 10_004_000,
        "S3": 10_004_000,
        "S4": 4_000,
        "S5": 1_000_001,
    }


def test_report_revenue_is_the_exact_sum_rounded_once_and_deal_lines_are_rounded_each(sub_cent_sales):
    r = build_account_manager_report(sub_cent_sales, "A1", "FY2025-Q4", build_batch_params(), AS_OF)
    assert r.summary["revenue"] == Decimal("30.01")  # 30.012, not 3 x 10.00
    assert r.quarterly["revenue"].iloc[-1] == Decimal("30.01")
    assert r.summary["ytd_revenue"] == Decimal("30.01")
    assert r.deals["amount"].tolist() == [Decimal("10.00")] * 3  # a deal shown on its own: its cents


def test_team_revenue_ties_to_the_exact_team_total_not_the_sum_of_rounded_members(sub_cent_sales):
    t = build_team_report(sub_cent_sales, "North", "FY2025-Q4", build_batch_params(), AS_OF)
    assert t.summary["revenue"] == Decimal("30.02")  # 30.012 + 0.004 = 30.016
    assert t.leaderboard.set_index("account_manager_id")["revenue"].to_dict() == {"A1": Decimal("30.01"), "A2": Decimal("0.00")}


def test_team_forecast_total_starts_from_the_same_exact_ytd_as_the_team_summary(sub_cent_sales):
    t = build_team_report(sub_cent_sales, "North", "FY2025-Q4", build_batch_params(), AS_OF)
    total = t.forecast.loc[t.forecast["account_manager_id"] == "TOTAL"].iloc[0]
    members = t.forecast.loc[t.forecast["account_manager_id"] != "TOTAL", "ytd_revenue"].tolist()
    assert members == [Decimal("30.01"), Decimal("1.00")]  # 30.012 and 1.0040005, each rounded
    assert total["ytd_revenue"] == t.summary["ytd_revenue"] == Decimal("31.02")  # 31.0160005 rounded once


def test_commission_lines_are_rounded_per_line_on_their_cents_and_the_engine_shows_the_report_revenue(sub_cent_sales):
    r = build_account_manager_report(sub_cent_sales, "A1", "FY2025-Q4", build_batch_params(), AS_OF)
    lines = r.commission.loc[r.commission["deal_id"].notna()]
    assert lines["basis"].tolist() == [Decimal("10.00")] * 3  # basis: the line rounded to the cent
    assert lines["amount"].tolist() == [Decimal("0.50")] * 3  # 5 % per line
    res = engine.compute(sub_cent_sales, plan(), "FY2025-Q4", since="FY2025-Q4")
    assert summary(res, "A1", "FY2025-Q4", "credit_cents") == r.summary["revenue"] == Decimal("30.01")


def test_whole_deal_cancellation_takes_back_the_exact_sub_cent_credit(sub_cent_sales):
    cancel = pd.DataFrame({"deal_id": ["S1"], "cancel_date": pd.to_datetime(["2025-06-20"])})
    res = engine.compute(sub_cent_sales, plan(), "FY2025-Q4", since="FY2025-Q4", cancellations=cancel)
    assert summary(res, "A1", "FY2025-Q4", "credit_cents") == Decimal("20.01")  # 20.008 left


# -- cancellations and adjustments: exact integer cents or a clear error --------------------
def _one_deal():
    return dataset([("d1", "a", "2025-02-01", "10000.00", "P")])


@pytest.mark.parametrize("written", [200000, "200000", Decimal("200000"), 200000.0])
def test_partial_cancellation_amount_is_read_as_exact_cents_in_any_whole_form(written):
    cancel = pd.DataFrame({"deal_id": ["d1"], "cancel_date": pd.to_datetime(["2025-03-01"]), "amount_cents": [written]})
    res = run(plan(), _one_deal(), cancellations=cancel)
    assert summary(res, "a", "FY2025-Q1", "credit_cents") == Decimal("8000.00")


@pytest.mark.parametrize(
    "written,why",
    [
        (199999.5, "a fraction of a cent"),
        ("12.50", "a fraction of a cent"),
        ("abc", "not a whole number of cents"),
        (True, "not a whole number of cents"),
    ],
)
def test_cancellation_amount_that_is_not_whole_cents_is_refused_naming_row_and_value(written, why):
    cancel = pd.DataFrame(
        {"deal_id": ["d1", "d1"], "cancel_date": pd.to_datetime(["2025-03-01"] * 2), "amount_cents": [100, written]}
    )
    with pytest.raises(DataError) as exc:
        run(plan(), _one_deal(), cancellations=cancel)
    (p,) = exc.value.problems
    assert (p.file, p.row, p.column, p.value) == ("cancellations", 3, "amount_cents", written)
    assert why in p.reason and "whole cents (1250 = 12.50)" in p.reason


def _adjust(am, period, **extra):
    return pd.DataFrame(
        {"account_manager_id": [am], "period": [period], "amount_cents": [25000], "reason": ["missed credit"], **extra}
    )


def test_adjustment_naming_an_unknown_account_manager_is_refused_with_did_you_mean():
    ds = dataset([("d1", "AM-0731", "2025-02-01", "10000.00", "P")])
    with pytest.raises(DataError) as exc:
        run(plan(), ds, adjustments=_adjust("AM-731", "FY2025-Q1"))
    (p,) = exc.value.problems
    assert (p.file, p.row, p.column, p.value) == ("adjustments", 2, "account_manager_id", "AM-731")
    assert "did you mean 'AM-0731'" in p.reason and "correct the id" in p.reason


def test_adjustment_for_a_period_outside_the_run_is_refused_listing_the_run_periods():
    with pytest.raises(DataError) as exc:
        run(plan(), _one_deal(), adjustments=_adjust("a", "FY2024-Q4"))
    (p,) = exc.value.problems
    assert (p.column, p.value) == ("period", "FY2024-Q4")
    assert "FY2025-Q1 .. FY2025-Q4" in p.reason and "since=" in p.reason


def test_adjustment_read_from_a_file_is_named_by_its_file_and_row():
    adj = _adjust("zz", "FY2025-Q1", **{model.SOURCE_FILE: ["adjustments.csv"], model.SOURCE_ROW: [7]})
    with pytest.raises(DataError) as exc:
        run(plan(), _one_deal(), adjustments=adj)
    (p,) = exc.value.problems
    assert (p.file, p.row) == ("adjustments.csv", 7)
    assert "adjustments.csv" in str(exc.value)


def test_adjustment_amount_with_a_fraction_of_a_cent_is_refused():
    adj = _adjust("a", "FY2025-Q1")
    adj["amount_cents"] = [250.5]
    with pytest.raises(DataError, match="a fraction of a cent"):
        run(plan(), _one_deal(), adjustments=adj)


def test_an_exact_amount_that_no_longer_rounds_to_its_edited_cents_yields_to_the_cents(sub_cent_sales):
    deals = sub_cent_sales.deals.copy()
    deals.loc[deals["deal_id"] == "S1", "amount_cents"] = 2000  # edited, exact amount left stale
    ds = model.validate_dataset(dataclasses.replace(sub_cent_sales, deals=deals))  # editing the cents is enough
    exact = dict(zip(ds.deals["deal_id"], model.deal_micros(ds.deals)))
    assert exact["S1"] == 2000 * model.MICROS_PER_CENT  # the cents win
    assert exact["S2"] == exact["S3"] == 10_004_000  # agreeing rows keep their sub-cent amount
    r = build_account_manager_report(ds, "A1", "FY2025-Q4", build_batch_params(), AS_OF)
    assert r.summary["revenue"] == Decimal("40.01")  # 20.00 + 10.004 + 10.004
