"""Plan shapes of the measures2 group (issue #13 item 13, its rest), each pinned to the cent.

Measures taken from the deals (a margin column, new logos) and a plan paid by its
measures only. Every worked example is the one in docs/commission.md, "Plan shapes:
measures from the deals", where its public source is cited and the arithmetic is done
by hand. Plans are YAML files loaded with ``load_plan`` (the public path), run through
``engine.compute``; one data set is read from CSV files through a source mapping.

Sources:
  [PROWI]    prowi.io/en/glossary/gross-margin-commission: sale price $75,000, COGS $45,000,
             gross margin $30,000 (40 %); with a 20 % discount, sale $60,000, margin $15,000
  [ORA-W]    docs.oracle.com/en/cloud/saas/sales/facmi/examples-of-measure-weights-in-calculations.html:
             earnings = (Measure.Weight x attainment of each measure) x Target Incentive
  [NEXTIAN]  nextian.com/docs/.../new-account-logo-identification: a new logo is an account "with no
             history whatsoever"; "the first closed-won opportunity for an account will always be
             flagged as New Account / Logo"; nextian.com/quote-to-cash/...: "Is there a time-frame?"
"""

from __future__ import annotations

import csv
from dataclasses import replace
from decimal import Decimal

import pandas as pd
import pytest
from engine_helpers import dataset, lines, money_sum, run, summary
from engine_helpers import plan_from_yaml as plan_file
from test_mapping import MINIMAL, write_minimal

from reportkit.core.errors import DataError, PlanError
from reportkit.data.mapping import load_dataset
from reportkit.domain.accounts import new_logo_deals
from reportkit.render.statement import statement_cli

D = Decimal
Q1 = ("2025-01-01", "2025-03-31")

# fixture data named after the case ---------------------------------------------------
TI_40K = 'ote: "140000.00"\nbase_salary: "100000.00"\nperiod: quarter\n'  # TI 40,000.00 a year, 10,000.00 a quarter
REVENUE_70_MARGIN_30_NO_RATES = (
    "name: Margin\n" + TI_40K + "measures:\n"
    '  - {name: revenue, weight: "0.7"}\n'
    '  - {name: margin, weight: "0.3", source: column, column: margin_cents, target: "40000"}\n'
)
REVENUE_70_NEW_LOGOS_30 = (
    "name: Logos\n" + TI_40K + "measures:\n"
    '  - {name: revenue, weight: "0.7"}\n'
    '  - {name: new_logos, weight: "0.3", source: new_logos, target: "3"}\n'
)
REVENUE_70_NEW_LOGOS_30_LOOKBACK_12 = REVENUE_70_NEW_LOGOS_30.replace('target: "3"}', 'target: "3", lookback_months: 12}')
QUOTA_100K = [(am, *Q1, "100000.00") for am in ("a", "b", "c")]
# [PROWI]: full price (a), the same deal 20 % discounted (b), and a margin with cents to round (c)
PROWI_DEALS = [
    ("d-full", "a", "2025-02-10", "75000.00", "P"),
    ("d-discounted", "b", "2025-02-10", "60000.00", "P"),
    ("d-odd-margin", "c", "2025-02-10", "75000.00", "P"),
]
PROWI_MARGINS = {"d-full": "30000.00", "d-discounted": "15000.00", "d-odd-margin": "12345.67"}


def with_margins(ds, margins: dict[str, str]):
    """The deals with a ``margin_cents`` column (0 for deals not listed)."""
    deals = ds.deals.copy()
    deals["margin_cents"] = pd.Series(
        [int(D(margins.get(d, "0")) * 100) for d in deals["deal_id"]], dtype="int64", index=deals.index
    )
    return replace(ds, deals=deals)


def amounts(res, kind, am="a", period="FY2025-Q1"):
    return lines(res, am, period, kind)["amount"].tolist()


def splits(*rows) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "deal_id": [r[0] for r in rows],
            "account_manager_id": [r[1] for r in rows],
            "share": [r[2] for r in rows],
            "kind": "revenue",
        }
    )


# 1. a margin column of the deals ----------------------------------------------------------
def test_margin_measure_pays_its_weight_of_the_target_incentive_on_the_credited_margin(tmp_path):
    ds = with_margins(dataset(PROWI_DEALS, QUOTA_100K), PROWI_MARGINS)
    res = run(plan_file(tmp_path, REVENUE_70_MARGIN_30_NO_RATES), ds, "FY2025-Q1")
    # a: revenue 10,000.00 x 0.7 x 75,000 / 100,000 = 5,250.00; margin 10,000.00 x 0.3 x 30,000 / 40,000 = 2,250.00
    assert amounts(res, "measure", "a") == [D("5250.00"), D("2250.00")]
    # b (20 % discount): 10,000.00 x 0.7 x 0.6 = 4,200.00; 10,000.00 x 0.3 x 15,000 / 40,000 = 1,125.00
    assert amounts(res, "measure", "b") == [D("4200.00"), D("1125.00")]
    # c: 10,000.00 x 0.3 x 12,345.67 / 40,000 = 925.92525 -> 925.93
    assert amounts(res, "measure", "c") == [D("5250.00"), D("925.93")]
    for am, total in (("a", "7500.00"), ("b", "5325.00"), ("c", "6175.93")):
        assert money_sum(lines(res, am, "FY2025-Q1")) == D(total) == summary(res, am, "FY2025-Q1", "payout_cents")
    assert lines(res, "c", "FY2025-Q1", "measure")["description"].tolist()[1] == (
        "Margin: measure margin (weight 30 %): 12,345.67 of target 40,000.00 = attainment 30.86 % x 30 % "
        "x target incentive 10,000.00 = 925.93"
    )


def test_a_split_deal_shares_its_margin_by_the_crediting_cores_shares(tmp_path):
    ds = with_margins(dataset([("d1", "a", "2025-02-10", "75000.00", "P")], QUOTA_100K), {"d1": "30000.01"})
    res = run(
        plan_file(tmp_path, REVENUE_70_MARGIN_30_NO_RATES), ds, "FY2025-Q1", splits=splits(("d1", "a", "0.6"), ("d1", "b", "0.4"))
    )
    # credits 45,000.00 / 30,000.00 (60 / 40); margins 30,000.01 x 0.6 = 18,000.006 and x 0.4 = 12,000.004
    # a: 10,000.00 x 0.3 x 18,000.006 / 40,000 = 1,350.00045 -> 1,350.00; b: 900.0003 -> 900.00
    assert amounts(res, "measure", "a") == [D("3150.00"), D("1350.00")]
    assert amounts(res, "measure", "b") == [D("2100.00"), D("900.00")]
    assert "18,000.006 of target 40,000.00" in lines(res, "a", "FY2025-Q1", "measure")["description"].tolist()[1]


def test_a_measures_only_plan_lists_no_commission_line_per_deal(tmp_path):
    ds = with_margins(dataset(PROWI_DEALS, QUOTA_100K), PROWI_MARGINS)
    st = lines(run(plan_file(tmp_path, REVENUE_70_MARGIN_30_NO_RATES), ds, "FY2025-Q1"), "a", "FY2025-Q1")
    assert st["kind"].tolist() == ["measure", "measure"]


def test_a_plan_with_neither_rates_nor_measures_is_refused_naming_the_file_and_key(tmp_path):
    with pytest.raises(PlanError) as e:
        plan_file(tmp_path, "name: Nothing\nperiod: quarter\n", "nothing.yaml")
    msg = str(e.value)
    assert "nothing.yaml" in msg and "'rates'" in msg and "neither 'rates'" in msg and "add rates" in msg


def test_a_margin_measure_on_data_without_the_column_stops_with_the_fix(tmp_path):
    ds = dataset(PROWI_DEALS, QUOTA_100K)
    with pytest.raises(DataError) as e:
        run(plan_file(tmp_path, REVENUE_70_MARGIN_30_NO_RATES, "margin.yaml"), ds, "FY2025-Q1")
    msg = str(e.value) + str(e.value.hint)
    assert "margin_cents" in msg and "margin.yaml" in msg and "measures.1.column" in msg and "columns: {margin_cents:" in msg


@pytest.mark.parametrize(
    ("measure", "said"),
    [
        ('{name: margin, weight: "0.3", source: column, column: margin, target: "1"}', "did you mean 'margin_cents'"),
        ('{name: margin, weight: "0.3", source: column, target: "1"}', "needs 'column'"),
        ('{name: margin, weight: "0.3", source: column, column: margin_cents}', "needs 'target'"),
        ('{name: margin, weight: "0.3", source: column, column: margin_cents, target: "1", default: "0"}', "remove it"),
        ('{name: logos, weight: "0.3", source: new_logos, target: "3", lookback_months: 0}', "lookback_months 0"),
        ('{name: logos, weight: "0.3", target: "3", lookback_months: 12}', "only read with source: new_logos"),
    ],
)
def test_a_bad_measure_from_the_deals_is_refused_with_key_value_and_fix(tmp_path, measure, said):
    text = "name: Bad\n" + TI_40K + f'measures:\n  - {{name: revenue, weight: "0.7"}}\n  - {measure}\n'
    with pytest.raises(PlanError) as e:
        plan_file(tmp_path, text, "bad.yaml")
    assert "bad.yaml" in str(e.value) and "measures" in str(e.value) and said in str(e.value)


MARGIN_MAPPING = (
    MINIMAL.replace("amount_cents: value}", "amount_cents: value, margin_cents: margin}")
    + "quotas:\n  source: {file: quotas.csv}\n"
    "  columns: {account_manager_id: rep, period_start: start, period_end: end, quota_cents: quota}\n"
)


def margin_source(tmp_path, deals_rows: str):
    """AM-1's source mapping whose deals carry a ``margin`` column mapped to ``margin_cents``."""
    (tmp_path / "quotas.csv").write_text("rep,start,end,quota\nAM-1,2025-01-01,2025-03-31,100000.00\n", encoding="utf-8")
    return write_minimal(tmp_path, MARGIN_MAPPING, deals="ref,rep,client,closed,value,margin\n" + deals_rows)


def test_margin_column_is_read_from_a_source_mapping_exactly(tmp_path):
    ds = load_dataset(margin_source(tmp_path, "d1,AM-1,C1,2025-02-10,75000.00,12345.67\n"))
    assert ds.deals["margin_cents"].tolist() == [1_234_567]
    res = run(plan_file(tmp_path, REVENUE_70_MARGIN_30_NO_RATES), ds, "FY2025-Q1")
    assert amounts(res, "measure", "AM-1") == [D("5250.00"), D("925.93")]


def test_reportkit_statement_of_a_measures_only_margin_plan_shows_the_measure_lines_and_their_sum(tmp_path):
    mapping = margin_source(tmp_path, "d1,AM-1,C1,2025-02-10,75000.00,12345.67\n")
    (tmp_path / "margin.yaml").write_text(REVENUE_70_MARGIN_30_NO_RATES, encoding="utf-8")
    params = tmp_path / "params.yaml"
    params.write_text(f"source: {mapping.name}\nperiod: FY2025-Q1\nas_of: 2025-03-31\nplan: margin.yaml\n", encoding="utf-8")
    assert statement_cli(params, "FY2025-Q1", "AM-1", tmp_path / "out") == 0
    with (tmp_path / "out" / "statement-AM-1-FY2025-Q1.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["amount"] for r in rows if "measure" in r["description"]] == ["5250.00", "925.93"]
    assert not [r for r in rows if r["deal_id"]]  # no line per deal
    assert rows[-1]["rule"] == "total" and rows[-1]["amount"] == "6175.93"


def test_a_bad_margin_cell_is_a_data_problem_at_load_naming_file_row_and_value(tmp_path):
    with pytest.raises(DataError) as exc:
        load_dataset(margin_source(tmp_path, "d1,AM-1,C1,2025-02-10,75000.00,12k\nd2,AM-1,C1,2025-02-11,10.00,\n"))
    msg = str(exc.value)
    assert "deals.csv, row 2, column 'margin': value '12k'" in msg
    assert "deals.csv, row 3, column 'margin'" in msg and "margin_cents is required" in msg


# 2. new logos ---------------------------------------------------------------------------------
# account OLD won in 2024; NEW1 twice on one day; NEW2 once; BACK won in 2023 and again in 2025;
# LOST only lost; RETURN only a return; a deal with no account
NEW_LOGO_BOOK = [
    ("d0", "a", "2024-06-01", "10000.00", "P", "OLD"),
    ("d1", "a", "2025-01-15", "10000.00", "P", "OLD"),
    ("d2", "a", "2025-02-01", "20000.00", "P", "NEW1"),
    ("d3", "a", "2025-02-01", "1234.56", "P", "NEW1"),
    ("d4", "a", "2025-03-01", "5000.00", "P", "NEW2"),
    ("d5", "a", "2025-03-05", "9000.00", "P", "LOST"),
    ("d6", "a", "2025-03-10", "-1000.00", "P", "RETURN"),
    ("d7", "a", "2023-12-01", "2000.00", "P", "BACK"),
    ("d8", "a", "2025-03-15", "7000.00", "P", "BACK"),
    ("d9", "a", "2025-03-20", "3000.00", "P", "(unassigned)"),
]


def new_logo_book(quotas=QUOTA_100K[:1]):
    ds = dataset(NEW_LOGO_BOOK, quotas)
    deals = ds.deals.copy()
    deals.loc[deals["deal_id"] == "d5", "stage"] = "lost"
    return replace(ds, deals=deals)


def test_new_logo_is_an_accounts_first_win_or_its_first_after_the_lookback():
    deals = new_logo_book().deals
    ever = deals.loc[new_logo_deals(deals), "deal_id"].tolist()
    twelve = deals.loc[new_logo_deals(deals, lookback_months=12), "deal_id"].tolist()
    # [NEXTIAN]: the first closed-won deal of an account with no history; d3 is NEW1's second win that day,
    # d5 is lost, d6 a return, d9 has no account; d8 wins BACK again 15 months after d7
    assert ever == ["d0", "d2", "d4", "d7"]
    assert twelve == ["d0", "d2", "d4", "d7", "d8"]


def test_new_logos_measure_counts_the_credited_new_logos_of_the_pay_period(tmp_path):
    ds = new_logo_book()
    ever = run(plan_file(tmp_path, REVENUE_70_NEW_LOGOS_30), ds, "FY2025-Q1")
    # Q1 credit 10,000 + 20,000 + 1,234.56 + 5,000 - 1,000 + 7,000 + 3,000 = 45,234.56 (d5 lost):
    # revenue 10,000.00 x 0.7 x 0.4523456 = 3,166.4192 -> 3,166.42; logos d2, d4: 10,000.00 x 0.3 x 2 / 3 = 2,000.00
    assert amounts(ever, "measure") == [D("3166.42"), D("2000.00")]
    assert (
        lines(ever, "a", "FY2025-Q1", "measure")["description"]
        .tolist()[1]
        .startswith("Logos: measure new_logos (weight 30 %): 2 of target 3 = attainment 66.67 %")
    )
    twelve = run(plan_file(tmp_path, REVENUE_70_NEW_LOGOS_30_LOOKBACK_12, "lookback.yaml"), ds, "FY2025-Q1")
    # with a 12-month look-back d8 (BACK, no win since 2023-12-01) counts too: 10,000.00 x 0.3 x 3 / 3 = 3,000.00
    assert amounts(twelve, "measure") == [D("3166.42"), D("3000.00")]
    assert money_sum(lines(twelve, "a", "FY2025-Q1")) == D("6166.42") == summary(twelve, "a", "FY2025-Q1", "payout_cents")


def test_a_split_new_logo_counts_for_each_participant_by_their_credit_share(tmp_path):
    ds = new_logo_book([("a", *Q1, "100000.00"), ("b", *Q1, "100000.00")])
    res = run(
        plan_file(tmp_path, REVENUE_70_NEW_LOGOS_30), ds, "FY2025-Q1", splits=splits(("d4", "a", "0.5"), ("d4", "b", "0.5"))
    )
    # a: d2 + half of d4 = 1.5 logos: 10,000.00 x 0.3 x 1.5 / 3 = 1,500.00; b: 0.5: 10,000.00 x 0.3 x 0.5 / 3 = 500.00
    assert amounts(res, "measure", "a")[1] == D("1500.00")
    assert amounts(res, "measure", "b")[1] == D("500.00")
    # b's revenue: 2,500.00 of 100,000.00: 10,000.00 x 0.7 x 0.025 = 175.00
    assert amounts(res, "measure", "b")[0] == D("175.00")
