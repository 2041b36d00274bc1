"""Plan shapes of the measures group (issue #13 items 13 and 14), each pinned to the cent.

Every worked example is the one in docs/commission.md, "Plan shapes: measures", where
its public source is cited and the arithmetic is done by hand. The plans are YAML files
loaded with ``load_plan`` (the public path) and run through ``engine.compute``; the
measures table is a canonical frame, or read from a CSV through a source mapping.

Sources:
  [ORA-W]  docs.oracle.com/en/cloud/saas/sales/facmi/examples-of-measure-weights-in-calculations.html:
           earnings = (Measure.Weight x attainment of each measure) x Target Incentive
  [ISPM]   studio.intelligentspm.com ... earning-groups: "(Group Weight x Target Incentive x
           Payout Factor)", TARGET_INCENTIVE = $130,000, weights 0.80 / 0.20; "Over-performance
           in one group does not offset under-performance in another"; "uncapped individually"
  [ORA-M]  docs.oracle.com/cd/E05553_01/books/InCompAdm/InCompAdmPlanDesign23.html (Siebel
           Incentive Compensation, "Creating a Multiplier"): $100,000 at 5 %, 80 % of quota,
           factor 90 % (table 0-75 % 80 %, 75-85 % 90 %, 85-100 % 100 %) -> $4,500
  [SPG]    sparrowgenie.com/sales-commission-models/customer-satisfaction-commission:
           commission x satisfaction multiplier (0.8-1.2x); 5 % of $500,000 = $25,000; CSAT 90 %
"""

from __future__ import annotations

import csv
import datetime
from dataclasses import replace
from decimal import Decimal

import pandas as pd
import pytest
from engine_helpers import dataset, lines, money_sum, run, summary
from engine_helpers import plan_from_yaml as plan_file
from test_mapping import MINIMAL, write_minimal

import reportkit as rk
from reportkit.config.params import BatchParams
from reportkit.core.errors import DataError, PlanError
from reportkit.data.mapping import load_dataset
from reportkit.render.statement import statement_cli

D = Decimal
Q1 = ("2025-01-01", "2025-03-31")
Q2 = ("2025-04-01", "2025-06-30")

# fixture data named after the case ---------------------------------------------------
MEASURES_ONLY_RATES = 'rates: {method: flat, basis: amount, tiers: [{from: 0, rate: "0"}]}\n'
TI_130K = 'ote: "230000.00"\nbase_salary: "100000.00"\nperiod: quarter\n'  # TI 130,000.00 a year, 32,500.00 a quarter
ISPM_80_20 = (
    "name: Scorecard\n" + TI_130K + MEASURES_ONLY_RATES + "measures:\n"
    '  - {name: revenue, weight: "0.8"}\n'
    '  - {name: renewals, weight: "0.2", target: "60000"}\n'
)
ISPM_80_20_RENEWALS_CAPPED = ISPM_80_20.replace('target: "60000"}', 'target: "60000", cap: "1.5"}')
WEIGHTS_0_7_AND_0_2 = (
    "name: Short\n"
    + TI_130K
    + MEASURES_ONLY_RATES
    + ('measures: [{name: revenue, weight: "0.7"}, {name: new_logos, weight: "0.2", target: "3"}]\n')
)
ORACLE_QUOTA_MULTIPLIER = (
    "name: Multiplied\nperiod: quarter\n"
    'rates: {method: flat, basis: amount, tiers: [{from: 0, rate: "0.05"}]}\n'
    "multipliers:\n"
    '  - {measure: revenue, at_least: "0", factor: "0.8"}\n'
    '  - {measure: revenue, at_least: "0.75", factor: "0.9"}\n'
    '  - {measure: revenue, at_least: "0.85", factor: "1.0"}\n'
)
CSAT_KICKER = (
    "name: CSAT\nperiod: quarter\n"
    'rates: {method: flat, basis: amount, tiers: [{from: 0, rate: "0.05"}]}\n'
    "multipliers:\n"
    '  - {measure: csat, at_least: "0", factor: "0.8"}\n'
    '  - {measure: csat, at_least: "0.8", factor: "1.0"}\n'
    '  - {measure: csat, at_least: "0.9", factor: "1.1"}\n'
    '  - {measure: csat, at_least: "0.95", factor: "1.2"}\n'
)
QUOTA_250K_Q1 = [("a", *Q1, "250000.00")]
REVENUE_276_543_21 = [("d1", "a", "2025-02-01", "276543.21", "P")]


def measures(*rows) -> pd.DataFrame:
    """Canonical measures rows: (am, start, end, measure, value as exact text)."""
    return pd.DataFrame(
        {
            "account_manager_id": [r[0] for r in rows],
            "period_start": pd.to_datetime([r[1] for r in rows]),
            "period_end": pd.to_datetime([r[2] for r in rows]),
            "measure": [r[3] for r in rows],
            "value_micros": pd.Series([int(D(r[4]) * 1_000_000) for r in rows], dtype="int64"),
        }
    )


def with_measures(ds, *rows):
    return replace(ds, measures=measures(*rows))


def amounts(res, kind, am="a", period="FY2025-Q1"):
    return lines(res, am, period, kind)["amount"].tolist()


# item 13: weighted multi-measure attainment -------------------------------------------
def test_weighted_measures_pay_each_weight_of_the_target_incentive_at_its_own_attainment(tmp_path):
    ds = with_measures(dataset(REVENUE_276_543_21, QUOTA_250K_Q1), ("a", *Q1, "renewals", "45000"))
    res = run(plan_file(tmp_path, ISPM_80_20), ds, "FY2025-Q1")
    # revenue 32,500.00 x 0.8 x 276,543.21 / 250,000.00 = 28,760.49384 -> 28,760.49
    # renewals 32,500.00 x 0.2 x 45,000 / 60,000 = 4,875.00 (75 % does not borrow from revenue's 110.6 %)
    assert amounts(res, "measure") == [D("28760.49"), D("4875.00")]
    st = lines(res, "a", "FY2025-Q1")
    assert money_sum(st) == D("33635.49") == summary(res, "a", "FY2025-Q1", "payout_cents")
    words = lines(res, "a", "FY2025-Q1", "measure")["description"].tolist()
    assert words[0] == (
        "Scorecard: measure revenue (weight 80 %): 276,543.21 of target 250,000.00 = attainment 110.62 % x 80 % "
        "x target incentive 32,500.00 = 28,760.49"
    )
    assert words[1].startswith("Scorecard: measure renewals (weight 20 %): 45000 of target 60000 = attainment 75 %")


def test_measure_cap_limits_the_attainment_it_pays(tmp_path):
    ds = with_measures(dataset(REVENUE_276_543_21, QUOTA_250K_Q1), ("a", *Q1, "renewals", "120000"))
    capped = run(plan_file(tmp_path, ISPM_80_20_RENEWALS_CAPPED), ds, "FY2025-Q1")
    uncapped = run(plan_file(tmp_path, ISPM_80_20, "uncapped.yaml"), ds, "FY2025-Q1")
    # 200 % attainment: capped at 150 %: 32,500.00 x 0.2 x 1.5 = 9,750.00; uncapped 13,000.00
    assert amounts(capped, "measure")[1] == D("9750.00")
    assert amounts(uncapped, "measure")[1] == D("13000.00")
    assert "attainment 200 %, capped at 150 %" in lines(capped, "a", "FY2025-Q1", "measure")["description"].iloc[1]


def test_revenue_measure_on_a_zero_quota_earns_nothing_and_says_why(tmp_path):
    ds = with_measures(dataset(REVENUE_276_543_21, [("a", *Q1, "0.00")]), ("a", *Q1, "renewals", "60000"))
    res = run(plan_file(tmp_path, ISPM_80_20), ds, "FY2025-Q1")
    assert amounts(res, "measure") == [D("0.00"), D("6500.00")]  # renewals at 100 %: 32,500.00 x 0.2
    assert "quota 0, attainment undefined: nothing earned" in lines(res, "a", "FY2025-Q1", "measure")["description"].iloc[0]


def test_measure_weights_that_do_not_sum_to_one_are_refused_with_the_fix(tmp_path):
    with pytest.raises(PlanError) as exc:
        plan_file(tmp_path, WEIGHTS_0_7_AND_0_2, "short.yaml")
    msg = str(exc.value)
    assert "short.yaml" in msg
    assert "key 'measures': weights must sum to exactly 1 (got 0.7 (revenue) + 0.2 (new_logos) = 0.9)" in msg
    assert "change a weight by 0.1" in msg


def test_table_measure_without_a_target_is_refused_naming_the_key(tmp_path):
    text = ISPM_80_20.replace(', target: "60000"', "")
    with pytest.raises(PlanError, match=r"measures\.1.*needs 'target'"):
        plan_file(tmp_path, text, "no_target.yaml")


def test_missing_measure_value_names_the_account_manager_measure_and_period(tmp_path):
    # the table knows renewals (another period's row), but not a's FY2025-Q1 value
    ds = with_measures(dataset(REVENUE_276_543_21, QUOTA_250K_Q1), ("a", *Q2, "renewals", "45000"))
    with pytest.raises(DataError) as exc:
        run(plan_file(tmp_path, ISPM_80_20), ds, "FY2025-Q1")
    msg = str(exc.value)
    assert "no value of measure 'renewals' for account manager 'a' in FY2025-Q1 (2025-01-01..2025-03-31)" in msg
    assert "key 'measures.1'" in msg and "give the plan's measure or multiplier a 'default'" in msg


def test_measure_default_stands_in_for_a_missing_value(tmp_path):
    text = ISPM_80_20.replace('target: "60000"}', 'target: "60000", default: "30000"}')
    res = run(plan_file(tmp_path, text), dataset(REVENUE_276_543_21, QUOTA_250K_Q1), "FY2025-Q1")
    assert amounts(res, "measure")[1] == D("3250.00")  # 32,500.00 x 0.2 x 30,000 / 60,000


def test_measures_row_not_covering_one_pay_period_is_refused(tmp_path):
    ds = with_measures(dataset(REVENUE_276_543_21, QUOTA_250K_Q1), ("a", "2025-01-01", "2025-01-31", "renewals", "45000"))
    with pytest.raises(DataError, match=r"(does|do) not cover exactly one pay period") as exc:
        run(plan_file(tmp_path, ISPM_80_20), ds, "FY2025-Q1")
    assert "2025-01-01..2025-01-31" in str(exc.value) and "FY2025-Q1 2025-01-01..2025-03-31" in str(exc.value)


SCORECARD_MAPPING = MINIMAL + (  # test_mapping's minimal source, plus quotas and a measures table
    "quotas:\n  source: {file: quotas.csv}\n"
    "  columns: {account_manager_id: rep, period_start: start, period_end: end, quota_cents: quota}\n"
    "measures:\n  source: {file: scorecard.csv}\n"
    "  columns: {account_manager_id: rep, period_start: from, period_end: to, measure: metric, value_micros: value}\n"
)


def scorecard_source(tmp_path, scorecard_rows: str):
    """AM-1's source mapping with a measures table read from ``scorecard.csv`` (rep, from, to, metric, value)."""
    (tmp_path / "quotas.csv").write_text("rep,start,end,quota\nAM-1,2025-01-01,2025-03-31,250000.00\n", encoding="utf-8")
    (tmp_path / "scorecard.csv").write_text("rep,from,to,metric,value\n" + scorecard_rows, encoding="utf-8")
    return write_minimal(tmp_path, SCORECARD_MAPPING, deals="ref,rep,client,closed,value\nd1,AM-1,C1,2025-02-01,276543.21\n")


def test_measures_table_is_read_from_a_source_mapping_exactly(tmp_path):
    ds = load_dataset(scorecard_source(tmp_path, "AM-1,2025-01-01,2025-03-31,renewals,45000.000\n"))
    assert ds.measures["value_micros"].tolist() == [45_000_000_000]
    res = run(plan_file(tmp_path, ISPM_80_20), ds, "FY2025-Q1")
    assert amounts(res, "measure", "AM-1") == [D("28760.49"), D("4875.00")]


def test_a_measure_value_written_as_a_percentage_is_refused_saying_to_write_the_fraction(tmp_path):
    with pytest.raises(DataError) as exc:
        load_dataset(scorecard_source(tmp_path, "AM-1,2025-01-01,2025-03-31,csat,92%\n"))
    (problem,) = exc.value.problems
    assert (problem.row, problem.value) == (2, "92%")
    assert "write '92%' as 0.92 (a fraction: 1.0 == 100 %), without the '%'" in problem.reason
    assert "symbol" not in problem.reason  # not a currency sign to declare


def test_measures_row_naming_an_unknown_account_manager_or_a_bad_value_is_a_data_problem_at_load(tmp_path):
    with pytest.raises(DataError) as exc:
        load_dataset(scorecard_source(tmp_path, "b,2025-01-01,2025-03-31,csat,0.9x\n"))
    msg = str(exc.value)
    assert "scorecard.csv, row 2, column 'value': value '0.9x'" in msg
    assert "account manager 'b' is not in account_managers" in msg


# item 14: conditional multipliers ----------------------------------------------------
def test_multiplier_table_on_quota_attainment_pays_oracle_90_percent_of_the_commission(tmp_path):
    ds = dataset([("d1", "a", "2025-02-01", "100000.00", "P")], [("a", *Q1, "125000.00")])
    res = run(plan_file(tmp_path, ORACLE_QUOTA_MULTIPLIER), ds, "FY2025-Q1")
    # 100,000.00 x 5 % = 5,000.00; 80 % of quota reaches the 75 % row: x 0.90 -> 4,500.00
    assert amounts(res, "commission") == [D("5000.00")]
    assert amounts(res, "multiplier") == [D("-500.00")]
    assert summary(res, "a", "FY2025-Q1", "payout_cents") == D("4500.00")
    assert lines(res, "a", "FY2025-Q1", "multiplier")["description"].iloc[0] == (
        "Multiplied: multiplier: revenue attainment 80 % ≥ 75 %: commission 5,000.00 × 0.90 = 4,500.00 (-500.00)"
    )


def test_csat_at_or_above_the_threshold_multiplies_the_commission_and_says_so_in_words(tmp_path):
    ds = dataset([("d1", "a", "2025-02-01", "500000.00", "P"), ("d2", "b", "2025-02-01", "24691.35", "P")])
    ds = with_measures(ds, ("a", *Q1, "csat", "0.90"), ("b", *Q1, "csat", "0.899999"))
    res = run(plan_file(tmp_path, CSAT_KICKER), ds, "FY2025-Q1")
    # a: 5 % of 500,000.00 = 25,000.00; CSAT 90 % >= 90 %: x 1.10 = 27,500.00
    assert amounts(res, "multiplier") == [D("2500.00")]
    assert lines(res, "a", "FY2025-Q1", "multiplier")["description"].iloc[0] == (
        "CSAT: multiplier: csat 90 % ≥ 90 %: commission 25,000.00 × 1.10 = 27,500.00 (+2,500.00)"
    )
    assert summary(res, "a", "FY2025-Q1", "payout_cents") == D("27500.00")
    # b: 24,691.35 x 5 % = 1,234.5675 -> 1,234.57; CSAT 89.9999 % misses 90 %: the 80 % row, x 1.00
    assert amounts(res, "commission", "b") == [D("1234.57")]
    assert amounts(res, "multiplier", "b") == [D("0.00")]
    assert "csat 89.9999 % ≥ 80 %" in lines(res, "b", "FY2025-Q1", "multiplier")["description"].iloc[0]


def test_a_multiplier_rounds_the_multiplied_commission_half_away_from_zero(tmp_path):
    ds = with_measures(dataset([("d1", "a", "2025-02-01", "24691.35", "P")]), ("a", *Q1, "csat", "0.96"))
    res = run(plan_file(tmp_path, CSAT_KICKER), ds, "FY2025-Q1")
    # 1,234.57 x 1.2 = 1,481.484 -> 1,481.48: the line is +246.91; the total is the sum of the lines
    assert amounts(res, "multiplier") == [D("246.91")]
    assert money_sum(lines(res, "a", "FY2025-Q1")) == D("1481.48")


def test_multipliers_on_different_measures_compound_in_plan_order(tmp_path):
    text = ORACLE_QUOTA_MULTIPLIER + '  - {measure: csat, at_least: "0.9", factor: "1.1"}\n'
    ds = with_measures(
        dataset([("d1", "a", "2025-02-01", "100000.00", "P")], [("a", *Q1, "125000.00")]), ("a", *Q1, "csat", "0.95")
    )
    res = run(plan_file(tmp_path, text), ds, "FY2025-Q1")
    # 5,000.00 x 0.9 = 4,500.00 (-500.00), then x 1.1 = 4,950.00 (+450.00)
    assert amounts(res, "multiplier") == [D("-500.00"), D("450.00")]
    assert summary(res, "a", "FY2025-Q1", "payout_cents") == D("4950.00")


def test_a_commission_of_zero_or_less_is_never_multiplied(tmp_path):
    ds = with_measures(dataset([("r1", "a", "2025-02-01", "-1000.00", "P")]), ("a", *Q1, "csat", "0.99"))
    res = run(plan_file(tmp_path, CSAT_KICKER), ds, "FY2025-Q1")
    assert amounts(res, "commission") == [D("-50.00")]
    assert amounts(res, "multiplier") == []


def test_the_cap_applies_after_the_multiplier(tmp_path):
    text = CSAT_KICKER + 'cap: {per: period, amount: "26000.00"}\n'
    ds = with_measures(dataset([("d1", "a", "2025-02-01", "500000.00", "P")]), ("a", *Q1, "csat", "0.92"))
    res = run(plan_file(tmp_path, text), ds, "FY2025-Q1")
    # 25,000.00 x 1.1 = 27,500.00, capped at 26,000.00
    assert amounts(res, "multiplier") == [D("2500.00")]
    assert amounts(res, "cap") == [D("-1500.00")]
    assert summary(res, "a", "FY2025-Q1", "payout_cents") == D("26000.00")


def test_repeated_multiplier_threshold_is_refused(tmp_path):
    text = CSAT_KICKER + '  - {measure: csat, at_least: "0.9", factor: "1.3"}\n'
    with pytest.raises(PlanError, match=r"key 'multipliers': entry 4 repeats entry 2: measure 'csat' at_least 0\.9"):
        plan_file(tmp_path, text, "repeated.yaml")


def test_measures_reach_the_report_and_rk_commission_statement(tmp_path):
    path = tmp_path / "scorecard.yaml"
    path.write_text(ISPM_80_20, encoding="utf-8")
    ds = with_measures(dataset(REVENUE_276_543_21, QUOTA_250K_Q1), ("a", *Q1, "renewals", "45000"))
    params = BatchParams.model_validate(
        {"source": "sources/none.yaml", "period": "FY2025-Q1", "as_of": datetime.date(2025, 3, 31), "plan": str(path)}
    )
    st = rk.commission_statement(ds, "a", "FY2025-Q1", params)
    measure_lines = st.lines.loc[st.lines["description"].str.contains("measure revenue|measure renewals")]
    assert measure_lines["amount"].tolist() == [D("28760.49"), D("4875.00")]
    assert st.total == D("33635.49")


def test_reportkit_statement_reads_the_measures_table_of_the_source_mapping(tmp_path):
    mapping = scorecard_source(tmp_path, "AM-1,2025-01-01,2025-03-31,renewals,45000\n")
    (tmp_path / "scorecard.yaml").write_text(ISPM_80_20, encoding="utf-8")
    params = tmp_path / "params.yaml"
    params.write_text(f"source: {mapping.name}\nperiod: FY2025-Q1\nas_of: 2025-03-31\nplan: scorecard.yaml\n", encoding="utf-8")
    out = tmp_path / "out"
    assert statement_cli(params, "FY2025-Q1", "AM-1", out) == 0
    with (out / "statement-AM-1-FY2025-Q1.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    measure_rows = [r for r in rows if "measure re" in r["description"]]
    assert [r["amount"] for r in measure_rows] == ["28760.49", "4875.00"]
    assert rows[-1]["rule"] == "total" and rows[-1]["amount"] == "33635.49"


def test_measures_table_holds_several_measures_and_periods_per_account_manager(tmp_path):
    # a trial found every second row of an account manager refused as a duplicate id: a row is
    # one (account manager, pay period, measure), so only a repeat of all four is a duplicate
    rows = (
        "AM-1,2024-10-01,2024-12-31,csat,0.88\n"
        "AM-1,2025-01-01,2025-03-31,csat,0.92\n"
        "AM-1,2025-01-01,2025-03-31,renewals,45000.000\n"
    )
    ds = load_dataset(scorecard_source(tmp_path, rows))
    assert sorted(ds.measures["value_micros"].tolist()) == [880_000, 920_000, 45_000_000_000]


def test_measures_row_repeating_its_account_manager_period_and_measure_is_refused_with_both_rows(tmp_path):
    rows = "AM-1,2025-01-01,2025-03-31,csat,0.92\nAM-1,2025-01-01,2025-03-31,csat,0.95\n"
    with pytest.raises(DataError) as exc:
        load_dataset(scorecard_source(tmp_path, rows))
    msg = str(exc.value)
    assert "scorecard.csv, row 2" in msg and "scorecard.csv, row 3" in msg
    assert "repeated row of measures" in msg and "measure='csat'" in msg and "deduplicate: first | last" in msg


def test_a_misspelt_multiplier_measure_is_reported_once_with_the_names_allowed(tmp_path):
    """Four account managers over four quarters: the typo is one problem, not sixteen."""
    reps = ["a", "b", "c", "d"]
    quarters = [("2025-01-01", "2025-03-31"), Q2, ("2025-07-01", "2025-09-30"), ("2025-10-01", "2025-12-31")]
    deals = [(f"d{r}", r, "2025-02-01", "1000.00", "P") for r in reps]
    ds = with_measures(
        dataset(deals, [(r, *q, "1000.00") for r in reps for q in quarters]),
        *[(r, *q, "csat", "0.9") for r in reps for q in quarters],
    )
    typo = CSAT_KICKER.replace('measure: csat, at_least: "0"', 'measure: cstat, at_least: "0"')
    with pytest.raises(DataError) as exc:
        run(plan_file(tmp_path, typo), ds, "FY2025")
    (problem,) = exc.value.problems
    assert "reads measure 'cstat' (key 'multipliers.0'), but no row of the measures table names it (its measures: 'csat')" in str(
        problem
    )
    assert "a multiplier may also read 'revenue' (quota attainment); did you mean 'csat'?" in str(problem)


def test_a_plan_reading_a_measure_without_a_measures_table_is_told_once(tmp_path):
    ds = dataset(REVENUE_276_543_21, QUOTA_250K_Q1)  # no measures table at all
    with pytest.raises(DataError) as exc:
        run(plan_file(tmp_path, ISPM_80_20), ds, "FY2025-Q1")
    (problem,) = exc.value.problems
    assert "reads measure 'renewals' (key 'measures.1'), but the data set has no measures table" in str(problem)
