"""Plan shapes of the fx2 group (issue #13, item 10): a payout currency, and the FX table's keys.

Each test pins a figure of ``docs/commission.md`` ("Plan shapes: payout currency") to the
cent through the public path: the source mapping, CSV files, plan YAML and params of
``tests/fixtures/fx_payout_gbp/`` (iDynamics Commissions' worked example: a £1,000 sale, a
10 % commission, £1 = $1.22; see its SOURCE.md) loaded with ``rk.load_dataset`` / ``rk.load``
and run through ``engine.compute``, the account manager's report and workbook, and
``reportkit statement``. Variants are copies of those files with one thing changed.
"""

from __future__ import annotations

import csv
import datetime
import shutil
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

import reportkit as rk
from reportkit.config.plans import load_plan
from reportkit.core.errors import DataError, MappingError, PlanError
from reportkit.domain import engine
from reportkit.render.excel import write_workbook
from reportkit.render.statement import statement_cli
from reportkit.reports.account_manager import build_account_manager_report

GBP = Path(__file__).parent / "fixtures" / "fx_payout_gbp"
D = Decimal
MONTH_END_RATE = "GBP,2024-01-31,1.25\n"  # made up: the rate moved by the end of the pay period


def variant(tmp_path: Path, *, rates: str = "", deals: str = "", plan_edit=None, mapping_edit=None) -> Path:
    """A copy of the worked example's folder with rows added or a file edited; returns the folder."""
    folder = tmp_path / "case"
    shutil.copytree(GBP, folder)
    for name, extra in (("fx_rates.csv", rates), ("deals.csv", deals)):
        with (folder / name).open("a", encoding="utf-8") as fh:
            fh.write(extra)
    for name, edit in (("plan.yaml", plan_edit), ("mapping.yaml", mapping_edit)):
        if edit is not None:
            (folder / name).write_text(edit((folder / name).read_text(encoding="utf-8")), encoding="utf-8")
    return folder


def run(folder: Path = GBP):
    ds = rk.load_dataset(folder / "mapping.yaml")
    return engine.compute(ds, load_plan(folder / "plan.yaml"), "FY2024-M01")


def paid(res) -> tuple[Decimal, str, Decimal, str, Decimal]:
    """(payout in USD, rate, payout in the payout currency, its currency, statement total in USD)."""
    (row,) = res.payout_conversion("uk1").itertuples(index=False)
    total = sum(res.statement("uk1")["amount"], D("0.00"))
    return row.payout, str(row.fx_rate), row.payout_converted, row.payout_currency, total


def test_a_1000_pound_sale_at_10_percent_pays_the_sources_100_pounds_computed_as_122_dollars():
    res = run()
    st = res.statement("uk1")
    assert st.loc[0, ["original_amount", "fx_rate", "credit", "amount"]].tolist() == [
        D("1000.00"),
        D("1.22"),
        D("1220.00"),
        D("122.00"),
    ]
    assert paid(res) == (D("122.00"), "1.22", D("100.00"), "GBP", D("122.00"))
    row = res.summary.iloc[0]
    assert (row["currency"], row["payout_cents"], row["payout_currency"], row["payout_converted_cents"]) == (
        "USD",
        12200,
        "GBP",
        10000,
    )


def test_period_end_pays_at_the_rate_in_force_on_the_pay_periods_last_day(tmp_path):
    res = run(variant(tmp_path, rates=MONTH_END_RATE))
    # the deal still converts at its close date (1.22); the payout at 31 January's 1.25: 122.00 / 1.25 = 97.60
    assert paid(res) == (D("122.00"), "1.25", D("97.60"), "GBP", D("122.00"))
    assert res.payout_conversion("uk1")["words"].iloc[0] == "122.00 USD / 1.25 USD per GBP = 97.60 GBP (rate of 2024-01-31)"


def test_period_average_pays_at_the_mean_of_the_rates_dated_in_the_pay_period(tmp_path):
    folder = variant(tmp_path, rates=MONTH_END_RATE, plan_edit=lambda t: t.replace("period_end ", "period_average "))
    # (1.22 + 1.25) / 2 = 1.235; 122.00 / 1.235 = 98.785... -> 98.79
    assert paid(run(folder)) == (D("122.00"), "1.235", D("98.79"), "GBP", D("122.00"))


def test_the_payout_is_converted_once_from_the_sum_of_the_rounded_lines_never_line_by_line(tmp_path):
    # three 0.30 USD sales: lines 0.03 each, payout 0.09 USD; 0.09 / 1.25 = 0.072 -> 0.07 GBP
    # (line by line it would be 3 x 0.024 -> 3 x 0.02 = 0.06)
    extra = "".join(f"S{i},uk1,Small,2024-01-1{i},0.30,USD,Won\n" for i in range(3))
    folder = variant(tmp_path, rates=MONTH_END_RATE)
    (folder / "deals.csv").write_text("deal_id,owner,account,close_date,amount,currency,stage\n" + extra, encoding="utf-8")
    payout, rate, converted, cur, total = paid(run(folder))
    assert (payout, total, rate, converted, cur) == (D("0.09"), D("0.09"), "1.25", D("0.07"), "GBP")


def test_a_pay_period_without_a_rate_is_refused_naming_account_manager_period_currency_and_fix(tmp_path):
    folder = variant(tmp_path)
    (folder / "fx_rates.csv").write_text("currency,date,usd_per_unit\nGBP,2024-01-02,1.22\n", encoding="utf-8")
    plan = folder / "plan.yaml"
    plan.write_text(plan.read_text(encoding="utf-8").replace("payout_currency: GBP", "payout_currency: EUR"), encoding="utf-8")
    with pytest.raises(DataError) as exc:
        run(folder)
    text = str(exc.value)
    assert "FY2024-M01 needs a EUR rate dated on or before 2024-01-31: plan 'Flat 10 % paid in GBP'" in text
    assert "pays in EUR (payout_conversion: period_end); affects 1 account manager: 'uk1'" in text
    assert "add the EUR rates to the data set's fx_rates table" in exc.value.hint and "units of USD" in exc.value.hint


def test_a_payout_currency_without_a_conversion_is_refused_with_the_allowed_set(tmp_path):
    folder = variant(tmp_path, plan_edit=lambda t: t.replace("payout_conversion: period_end ", "# none "))
    with pytest.raises(PlanError) as exc:
        load_plan(folder / "plan.yaml")
    text = str(exc.value)
    assert "plan.yaml" in text and "payout_conversion" in text
    assert "(allowed: period_end | period_average)" in text and "add payout_conversion: period_end" in text


def test_a_payout_conversion_for_a_plan_paid_in_its_own_currency_is_refused(tmp_path):
    folder = variant(tmp_path, plan_edit=lambda t: t.replace("payout_currency: GBP", "payout_currency: USD"))
    with pytest.raises(PlanError, match="remove payout_conversion"):
        load_plan(folder / "plan.yaml")


def test_the_account_managers_report_and_workbook_show_the_payout_currency_and_how_it_was_converted(tmp_path):
    params, ds = rk.load(GBP / "params.yaml")
    rep = build_account_manager_report(ds, "uk1", "FY2024-M01", params, datetime.date(2024, 1, 31))
    assert rep.summary["commission_cash"] == D("122.00") and rep.currency == "USD"
    assert rep.summary["payout_currency"] == "GBP"
    assert rep.summary["commission_cash_in_payout_currency"] == "100.00 GBP"
    note = "Paid in GBP: FY2024-M01 payout 122.00 USD / 1.22 USD per GBP = 100.00 GBP (rate of 2024-01-02); the statement's lines are in USD."
    assert note in rep.notes
    path = write_workbook(rep, tmp_path / "uk1.xlsx")
    ws = openpyxl.load_workbook(path)["Summary"]
    shown = {r[0].value: r[1].value for r in ws.iter_rows(min_row=2)}
    assert shown["Payout currency"] == "GBP" and shown["Payable now in the payout currency"] == "100.00 GBP"
    assert note in [r[1].value for r in ws.iter_rows(min_row=2) if r[0].value == "Note"]
    # the HTML / PDF summary shows the same row (a trial found it only in the workbook)
    from reportkit.render.notebook import summary_table

    page = summary_table(rep)._repr_html_()
    assert "Payable now in the payout currency" in page and "100.00 GBP" in page


def test_statement_files_show_the_payout_in_the_payout_currency_after_the_total(tmp_path, capsys):
    assert statement_cli(GBP / "params.yaml", "FY2024-M01", output_dir=tmp_path) == 0
    assert "total 122.00 USD, paid 100.00 GBP" in capsys.readouterr().out
    with (tmp_path / "statement-uk1-FY2024-M01.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["rule"] for r in rows] == ["commission, tier 1 at 10 %", "total", "payout in GBP"]
    assert rows[1]["amount"] == "122.00" and rows[2]["amount"] == ""
    assert (rows[2]["payout_currency"], rows[2]["payout_amount"]) == ("GBP", "100.00")
    assert rows[2]["description"] == "Paid in GBP: 122.00 USD / 1.22 USD per GBP = 100.00 GBP (rate of 2024-01-02)"
    ws = openpyxl.load_workbook(tmp_path / "statement-uk1-FY2024-M01.xlsx")["Statement"]
    heads = [c.value for c in ws[2]]  # row 1: the title row (company, account manager, period, as-of)
    amount = openpyxl.utils.get_column_letter(heads.index("Amount") + 1)
    assert ws.cell(4, heads.index("Amount") + 1).value == f"=SUM({amount}3:{amount}3)"  # the total sums the USD lines only
    assert ws.cell(5, heads.index("Payout amount") + 1).value == 100.0


def test_a_plan_without_a_payout_currency_computes_and_shows_as_before():
    ecb = Path(__file__).parent / "fixtures" / "fx_ecb_may_2013"
    ds = rk.load_dataset(ecb / "mapping.yaml")
    res = engine.compute(ds, load_plan(ecb / "plan.yaml"), "FY2013-Q2")
    assert "payout_currency" not in res.summary.columns and res.payout_conversion("ana") is None


def test_an_fx_table_without_conversion_names_the_allowed_set_and_the_fix(tmp_path):
    folder = variant(tmp_path, mapping_edit=lambda t: t.replace("  conversion: close_date\n", ""))
    with pytest.raises(MappingError) as exc:
        rk.load_dataset(folder / "mapping.yaml")
    text = str(exc.value)
    assert "key 'fx_rates.conversion' is required but missing" in text
    assert "(allowed: close_date | month_average | quarter_average); add it, e.g. conversion: close_date" in text


def test_quotas_in_another_currency_stay_refused_with_the_plan_rate_fix(tmp_path):
    folder = variant(tmp_path)
    (folder / "quotas.csv").write_text(
        "am_id,start,end,quota,currency\nuk1,2024-01-01,2024-01-31,8000.00,GBP\n", encoding="utf-8"
    )
    with pytest.raises(DataError) as exc:
        rk.load_dataset(folder / "mapping.yaml")
    (p,) = exc.value.problems
    assert (p.row, p.column, p.value) == (2, "currency", "GBP")
    assert "convert them to USD at your fiscal year's plan rate before loading" in p.reason


def test_a_missing_payout_rate_is_named_once_with_the_account_managers_it_affects(tmp_path):
    """Five account managers paid in GBP without any GBP rate: one line for the rate, the five counted."""
    from engine_helpers import dataset, plan_from_yaml

    reps = [f"AM-{i}" for i in range(1, 6)]
    ds = dataset([(f"d{i}", am, "2025-02-01", "1000.00", "P") for i, am in enumerate(reps)])
    plan = plan_from_yaml(tmp_path, (GBP / "plan.yaml").read_text(encoding="utf-8").replace("period: month", "period: quarter"))
    with pytest.raises(DataError) as exc:
        engine.compute(ds, plan, "FY2025-Q1")
    lines = exc.value.message.splitlines()
    assert lines[0] == "no exchange rate for the payout of 5 pay periods:"
    assert len(lines) == 2 and lines[1].count("GBP rate dated on or before 2025-03-31") == 1
    assert lines[1].endswith("affects 5 account managers: 'AM-1', 'AM-2', 'AM-3' and 2 more")
