"""Plan shapes of the fx group (issue #13, item 10): deals in several currencies.

Each test pins a figure of ``docs/commission.md`` ("Plan shapes: multi-currency") to the
cent through the public path: the source mapping, CSV files and plan YAML of
``tests/fixtures/fx_ecb_may_2013/`` (ECB rates of 21 and 22 May 2013, see its SOURCE.md)
loaded with ``rk.load_dataset`` / ``rk.load`` and run through ``engine.compute``,
``rk.commission_statement`` and ``reportkit statement``. Variants (another conversion,
deals without a rate, bad rate rows) are copies of those files with one thing changed.
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

ECB = Path(__file__).parent / "fixtures" / "fx_ecb_may_2013"
D = Decimal


def variant(tmp_path: Path, *, conversion: str | None = None, files: dict[str, str] | None = None, mapping_edit=None) -> Path:
    """A copy of the worked example's folder with one thing changed; returns its mapping."""
    folder = tmp_path / "case"
    shutil.copytree(ECB, folder)
    text = (folder / "mapping.yaml").read_text(encoding="utf-8")
    if conversion is not None:
        text = text.replace("conversion: close_date", f"conversion: {conversion}")
    if mapping_edit is not None:
        text = mapping_edit(text)
    (folder / "mapping.yaml").write_text(text, encoding="utf-8")
    for name, body in (files or {}).items():
        (folder / name).write_text(body, encoding="utf-8")
    return folder / "mapping.yaml"


def commission(mapping: Path, plan: Path = ECB / "plan.yaml"):
    ds = rk.load_dataset(mapping)
    return ds, engine.compute(ds, load_plan(plan), "FY2013-Q2")


def by_deal(res, columns):
    st = res.statement("ana").set_index("deal_id")
    return {d: tuple(st.loc[d, c] for c in columns) for d in st.index}


def test_deals_in_euro_are_converted_at_the_rate_in_force_on_their_close_date_and_paid_on_the_converted_amount():
    ds, res = commission(ECB / "mapping.yaml")
    got = by_deal(res, ["original_currency", "original_amount", "fx_rate", "converted_amount", "credit", "amount"])
    assert got == {
        "D1": ("EUR", D("10000.00"), D("1.2866"), D("12866.00"), D("12866.00"), D("1286.60")),
        "D2": ("EUR", D("2500.55"), D("1.2923"), D("3231.46"), D("3231.46"), D("323.15")),  # 24 May: the 22 May rate
        "D3": ("USD", D("5000.00"), D("1"), D("5000.00"), D("5000.00"), D("500.00")),
        "D4": ("EUR", D("25.00"), D("1.2866"), D("32.17"), D("32.17"), D("3.22")),
        "R1": ("EUR", D("-25.00"), D("1.2866"), D("-32.17"), D("-32.17"), D("-3.22")),
    }
    assert res.statement("ana").set_index("deal_id").loc["D2", "fx_rate_basis"] == "rate of 2013-05-22"
    assert res.payout("ana", "FY2013-Q2") == D("2109.75")
    summary = res.summary.set_index("period").loc["FY2013-Q2"]
    assert int(summary["credit_cents"]) == 2_109_746  # 21,097.46: the sum of the converted deals
    assert set(ds.deals["currency"]) == {"USD"}


def test_a_converted_amount_on_a_half_cent_rounds_away_from_zero_for_a_sale_and_a_return():
    _, res = commission(ECB / "mapping.yaml")
    got = by_deal(res, ["converted_amount"])
    # 25.00 x 1.2866 = 32.165 and -25.00 x 1.2866 = -32.165
    assert (got["D4"], got["R1"]) == ((D("32.17"),), (D("-32.17"),))


def test_month_average_converts_at_the_mean_of_the_close_months_rates(tmp_path):
    _, res = commission(variant(tmp_path, conversion="month_average"))
    got = by_deal(res, ["fx_rate", "converted_amount", "amount", "fx_rate_basis"])
    assert got["D1"] == (D("1.28945"), D("12894.50"), D("1289.45"), "average of 2 rates dated in 2013-05")
    assert got["D2"] == (D("1.28945"), D("3224.33"), D("322.43"), "average of 2 rates dated in 2013-05")
    assert got["D4"][1:3] == (D("32.24"), D("3.22"))  # 32.23625
    assert res.payout("ana", "FY2013-Q2") == D("2111.88")


def test_quarter_average_takes_the_fiscal_quarters_rates_and_rounds_the_mean_to_eight_decimals(tmp_path):
    rates = "currency,date,usd_per_unit\nEUR,2013-04-15,1.3000\nEUR,2013-05-21,1.2866\nEUR,2013-05-22,1.2923\n"
    _, res = commission(variant(tmp_path, conversion="quarter_average", files={"fx_rates.csv": rates}))
    got = by_deal(res, ["fx_rate", "converted_amount", "fx_rate_basis"])
    # (1.3000 + 1.2866 + 1.2923) / 3 = 1.2929666... -> 1.29296667; 10,000.00 x 1.29296667 = 12,929.6667
    assert got["D1"] == (D("1.29296667"), D("12929.67"), "average of 3 rates dated in FY2013-Q2")


def test_report_figures_and_the_statement_show_the_same_converted_amounts():
    params, ds = rk.load(ECB / "params.yaml")
    table = rk.attainment_table(ds, "FY2013-Q2", params=params).set_index("account_manager_id")
    st = rk.commission_statement(ds, "ana", "FY2013-Q2", params)
    assert table.loc["ana", "revenue"] == st.revenue == D("21097.46")
    assert st.total == sum(st.lines["amount"]) == D("2109.75")
    words = {
        d: text.split("; converted: ")[1] if "; converted: " in text else None
        for d, text in zip(st.lines["deal_id"], st.lines["description"])
    }
    assert words == {
        "D1": "10,000.00 EUR x 1.2866 = 12,866.00 USD (rate of 2013-05-21)",
        "D2": "2,500.55 EUR x 1.2923 = 3,231.46 USD (rate of 2013-05-22)",
        "D3": None,
        "D4": "25.00 EUR x 1.2866 = 32.17 USD (rate of 2013-05-21)",
        "R1": "-25.00 EUR x 1.2866 = -32.17 USD (rate of 2013-05-21)",
    }
    assert list(st.lines.columns) == ["line", "description", "basis", "rate", "amount", "rule", "award", "deal_id", "tier"]


def test_statement_files_show_original_amount_currency_rate_and_converted_amount_beside_each_line(tmp_path, capsys):
    assert statement_cli(ECB / "params.yaml", "FY2013-Q2", output_dir=tmp_path) == 0
    with (tmp_path / "statement-ana-FY2013-Q2.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    got = {
        r["deal_id"]: (r["original_amount"], r["original_currency"], r["fx_rate"], r["converted_amount"], r["basis"], r["amount"])
        for r in rows[:-1]
    }
    assert got["D2"] == ("2500.55", "EUR", "1.2923", "3231.46", "3231.46", "323.15")
    assert got["D3"] == ("5000.00", "USD", "1", "5000.00", "5000.00", "500.00")
    assert rows[-1]["rule"] == "total" and rows[-1]["amount"] == "2109.75"
    assert "total 2109.75 USD" in capsys.readouterr().out


def test_a_deal_in_a_currency_without_a_rate_is_refused_naming_deal_currency_date_file_row_and_fix(tmp_path):
    deals = (ECB / "deals.csv").read_text(encoding="utf-8") + (
        "G1,ana,Epsilon Ltd,2013-05-22,1000.00,GBP,Won\nE0,ana,Acme GmbH,2013-05-20,100.00,EUR,Won\n"
    )
    with pytest.raises(DataError) as exc:
        rk.load_dataset(variant(tmp_path, files={"deals.csv": deals}))
    problems = {p.row: p for p in exc.value.problems}
    assert set(problems) == {7, 8}  # both deals, at once
    g1, e0 = problems[7], problems[8]
    assert (Path(g1.file).name, g1.column, g1.value) == ("deals.csv", "currency", "GBP")
    assert "deal 'G1' in GBP closed 2013-05-22: fx_rates has no rate for GBP at all" in g1.reason
    assert "add GBP rows to fx_rates (units of USD per GBP)" in g1.reason
    assert "deal 'E0' in EUR closed 2013-05-20: fx_rates has no EUR rate dated on or before 2013-05-20" in e0.reason


def test_month_average_without_a_rate_in_the_close_month_names_the_month(tmp_path):
    deals = (ECB / "deals.csv").read_text(encoding="utf-8") + "J1,ana,Acme GmbH,2013-06-03,100.00,EUR,Won\n"
    with pytest.raises(DataError) as exc:
        rk.load_dataset(variant(tmp_path, conversion="month_average", files={"deals.csv": deals}))
    (p,) = exc.value.problems
    assert p.row == 7 and "no EUR rate dated in 2013-06 (2013-06-01 .. 2013-06-30; conversion: month_average)" in p.reason


def test_without_an_fx_table_a_second_currency_is_refused_with_how_to_declare_one(tmp_path):
    def drop_fx(text):
        return text[: text.index("fx_rates:")]

    with pytest.raises(DataError) as exc:
        rk.load_dataset(variant(tmp_path, mapping_edit=drop_fx))
    reasons = [p.reason for p in exc.value.problems]
    assert len(reasons) == 4  # D1, D2, D4, R1
    assert all("declare an fx_rates table in the source mapping" in r for r in reasons)


def test_bad_rate_rows_are_refused_with_file_row_column_value_and_fix(tmp_path):
    rates = (
        'currency,date,usd_per_unit\nEUR,2013-05-21,1.2866\nEUR,2013-05-22,"1,2923"\nEUR,2013-05-23,-1\n'
        "EUR,2013-05-24,1.123456789\nUSD,2013-05-21,1.1\nEUR,2013-05-21,1.3\nUSD,2013-05-22,1.0\n"
    )
    with pytest.raises(DataError) as exc:
        rk.load_dataset(variant(tmp_path, files={"fx_rates.csv": rates}))
    got = {p.row: (p.column, p.value, p.reason) for p in exc.value.problems if Path(p.file).name == "fx_rates.csv"}
    assert got[3][:2] == ("usd_per_unit", "1,2923") and "not a number" in got[3][2]
    assert "positive" in got[4][2]
    assert "more than 8 decimals" in got[5][2]
    assert (
        got[6][:2] == ("usd_per_unit", "1.1")
        and "USD is the reporting currency (the mapping's currency): its rate is 1" in got[6][2]
    )
    assert "a second, different rate for EUR on 2013-05-21" in got[7][2]
    assert 8 not in got  # USD at 1.0: the reporting currency's own rate, harmless


def test_a_mapping_must_declare_how_deals_are_converted(tmp_path):
    def no_conversion(text):
        return text.replace("  conversion: close_date          # close_date | month_average | quarter_average\n", "")

    with pytest.raises(MappingError, match=r"fx_rates\.conversion"):
        rk.load_dataset(variant(tmp_path, mapping_edit=no_conversion))
    with pytest.raises(MappingError, match="close_date"):
        rk.load_dataset(variant(tmp_path / "b", conversion="average"))


def test_a_plan_pays_in_the_reporting_currency_or_is_refused(tmp_path):
    plan = tmp_path / "eur_plan.yaml"
    plan.write_text((ECB / "plan.yaml").read_text(encoding="utf-8").replace("currency: USD", "currency: EUR"))
    with pytest.raises(PlanError) as exc:
        commission(ECB / "mapping.yaml", plan)
    assert "eur_plan.yaml: key 'currency': plan 'Flat 10 %' pays in EUR but the data set's reporting currency is USD" in str(
        exc.value
    )
    assert "set currency: USD" in exc.value.hint


def test_quotas_in_another_currency_are_refused(tmp_path):
    quotas = "am_id,start,end,quota,currency\nana,2013-04-01,2013-06-30,20000.00,EUR\n"
    with pytest.raises(DataError) as exc:
        rk.load_dataset(variant(tmp_path, files={"quotas.csv": quotas}))
    (p,) = exc.value.problems
    assert p.value == "EUR" and "quotas are set in the reporting currency" in p.reason


def test_a_pipeline_currency_column_is_refused_with_the_filter_to_write(tmp_path):
    def pipeline(text):
        return text + (
            "\npipeline:\n  source: {file: deals.csv}\n  columns: {opportunity_id: deal_id, account_manager_id: owner, "
            "account_id: account, stage: stage, probability: amount, amount_cents: amount, currency: currency}\n"
        )

    with pytest.raises(MappingError, match=r"pipeline amounts are read in the reporting currency \(USD\)"):
        rk.load_dataset(variant(tmp_path, mapping_edit=pipeline))


def test_a_deal_with_a_blank_currency_is_refused_as_blank_not_taken_for_the_reporting_currency(tmp_path):
    deals = (ECB / "deals.csv").read_text(encoding="utf-8") + "B1,ana,Acme GmbH,2013-05-22,100.00,,Won\n"
    with pytest.raises(DataError) as exc:
        rk.load_dataset(variant(tmp_path, files={"deals.csv": deals}))
    (p,) = exc.value.problems
    assert (p.row, p.column) == (7, "currency") and "currency is required" in p.reason


def test_the_account_managers_workbook_shows_each_deals_conversion_on_its_commission_line(tmp_path):
    params, ds = rk.load(ECB / "params.yaml")
    report = build_account_manager_report(ds, "ana", "FY2013-Q2", params, datetime.date(2013, 6, 30))
    sheet = openpyxl.load_workbook(write_workbook(report, tmp_path / "ana.xlsx"))["Commission statement"]
    rows = list(sheet.iter_rows(values_only=True))
    col = {name: j for j, name in enumerate(rows[1])}  # row 1: the title row (company, report, period, as-of)
    shown = {r[col["Deal ID"]]: (r[col["Basis"]], r[col["Amount"]], r[col["Description"]]) for r in rows[2:-1]}
    basis, amount, description = shown["D2"]
    assert (basis, amount) == (3231.46, 323.15)
    assert description.endswith("; converted: 2,500.55 EUR x 1.2923 = 3,231.46 USD (rate of 2013-05-22)")
    assert "converted" not in shown["D3"][2]


def test_a_deals_margin_is_converted_at_the_deals_own_rate(tmp_path):
    # a trial found a EUR deal's margin summed as if it were USD while its amount was converted
    deals = (ECB / "deals.csv").read_text(encoding="utf-8").splitlines()
    margins = {"D1": "4000.00", "D2": "1000.01", "D3": "2000.00", "D4": "12.50", "R1": "-12.50"}
    rows = [deals[0] + ",margin"] + [f"{line},{margins[line.split(',')[0]]}" for line in deals[1:]]
    mapping = variant(
        tmp_path,
        files={"deals.csv": "\n".join(rows) + "\n"},
        mapping_edit=lambda t: t.replace("    stage: stage\n", "    stage: stage\n    margin_cents: margin\n"),
    )
    ds = rk.load_dataset(mapping)
    got = dict(zip(ds.deals["deal_id"], ds.deals["margin_cents"].tolist()))
    # 4,000.00 EUR x 1.2866 = 5,146.40 USD; 1,000.01 x 1.2923 = 1,292.312923 -> 1,292.31; 12.50 x 1.2866 = 16.0825 -> 16.08
    assert got == {"D1": 514_640, "D2": 129_231, "D3": 200_000, "D4": 1_608, "R1": -1_608}
    assert dict(zip(ds.deals["deal_id"], ds.deals["original_margin_cents"].tolist()))["D1"] == 400_000
