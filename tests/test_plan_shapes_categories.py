"""Forecast categories as Salesforce defines them (issue #13 item 11), through the public path.

The worked example of ``docs/forecasting.md`` ("Forecast categories") is
``tests/fixtures/forecast_categories/``: a source mapping with a stage table,
CSV files and a params file, loaded with ``rk.load`` and built into the account
manager's and the team's report; the reader's view is checked in the workbook
(cached values and live formulas) and in the notebook section.
"""

from __future__ import annotations

import datetime
import re
import shutil
from decimal import Decimal
from pathlib import Path

import nbformat
import openpyxl
import pandas as pd
import pytest

import reportkit as rk
from reportkit.core.errors import DataError, MappingError
from reportkit.domain.forecast_categories import forecast_category_table
from reportkit.render.excel import write_workbook
from reportkit.render.notebook import forecast_categories
from reportkit.reports.builders import build_account_manager_report, build_team_report
from reportkit.run.html import export_html

EXAMPLE = Path(__file__).parent / "fixtures" / "forecast_categories"
AS_OF = datetime.date(2025, 11, 15)


@pytest.fixture(scope="module")
def example():
    return rk.load(EXAMPLE / "params.yaml")


def _amounts(frame: pd.DataFrame) -> dict[str, Decimal]:
    return dict(zip(frame["forecast"], frame["amount"]))


def _copy_example(tmp_path: Path) -> Path:
    dest = tmp_path / "example"
    shutil.copytree(EXAMPLE, dest)
    return dest


def test_account_manager_categories_and_cumulative_rollups_match_the_worked_example_to_the_cent(example):
    params, ds = example
    report = build_account_manager_report(ds, "AM-1", "FY2025-Q4", params, AS_OF)
    assert _amounts(report.forecast_categories) == {
        "Closed": Decimal("50.00"),  # D-1 30.25 + D-2 19.75 (D-3 is Q3, D-4 lost)
        "Commit": Decimal("100.00"),  # O-1 60.40 + O-2 39.60
        "Most Likely": Decimal("75.50"),  # O-8, the rep's override
        "Best Case": Decimal("150.00"),  # O-3
        "Pipeline": Decimal("200.00"),  # O-4 120.01 + O-5 79.99 (undated: the current period)
        "Closed Only": Decimal("50.00"),
        "Commit Forecast": Decimal("150.00"),
        "Most Likely Forecast": Decimal("225.50"),
        "Best Case Forecast": Decimal("375.50"),
        "Open Pipeline": Decimal("525.50"),  # 200.00 + 150.00 + 75.50 + 100.00: never Closed
        "Omitted": Decimal("500.00"),  # O-7, in no forecast
    }
    assert report.forecast_categories.set_index("forecast").at["Closed", "amount"] == report.summary["revenue"]


def test_team_counts_each_opportunity_and_each_won_deal_once(example):
    params, ds = example
    report = build_team_report(ds, "East", "FY2025-Q4", params, AS_OF)
    got = _amounts(report.forecast_categories)
    assert got["Closed"] == report.summary["revenue"] == Decimal("150.00")  # 50.00 + Bob's D-5 100.00
    assert got["Commit"] == Decimal("300.00")  # + Bob's O-9 200.00, overdue but still in its period
    assert got["Commit Forecast"] == Decimal("450.00")
    assert got["Best Case Forecast"] == Decimal("675.50")
    assert got["Open Pipeline"] == Decimal("725.50")


def test_open_pipeline_never_holds_closed_revenue(example):
    params, ds = example
    before = _amounts(build_account_manager_report(ds, "AM-1", "FY2025-Q4", params, AS_OF).forecast_categories)
    big_win = pd.DataFrame(
        {
            "deal_id": ["D-9"],
            "account_manager_id": ["AM-1"],
            "account_id": ["C9"],
            "close_date": [pd.Timestamp("2025-11-02")],
            "amount_cents": [1_000_000],
            "currency": ["USD"],
            "stage": ["won"],
            "territory": [None],
            "product": [None],
        }
    )
    more = ds.__class__(**{**ds.__dict__, "deals": pd.concat([ds.deals, big_win], ignore_index=True)})
    after = _amounts(build_account_manager_report(more, "AM-1", "FY2025-Q4", params, AS_OF).forecast_categories)
    assert after["Closed"] - before["Closed"] == Decimal("10000.00")
    assert after["Commit Forecast"] - before["Commit Forecast"] == Decimal("10000.00")
    assert after["Open Pipeline"] == before["Open Pipeline"] == Decimal("525.50")


def test_undated_opportunity_counts_only_in_the_period_of_the_report_date(example):
    _params, ds = example
    q1 = (datetime.date(2026, 1, 1), datetime.date(2026, 3, 31))
    next_quarter = _amounts(forecast_category_table(pd.DataFrame(columns=ds.deals.columns), ds.pipeline, ["AM-1"], *q1, AS_OF))
    assert next_quarter["Pipeline"] == Decimal("1000.00")  # O-6 only: O-5 (undated) stays in FY2025-Q4


def test_reports_without_declared_categories_have_no_section(tiny_dataset, batch_params):
    report = build_account_manager_report(tiny_dataset, "A1", "FY2025-Q4", batch_params, datetime.date(2025, 12, 31))
    assert report.forecast_categories is None
    assert forecast_categories(report) is None


def test_an_optional_section_cell_without_output_leaves_the_page_as_without_the_cell():
    base = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("## Notes")])
    with_cell = nbformat.v4.new_notebook(cells=list(base.cells))
    empty = nbformat.v4.new_code_cell("forecast_categories(report)", metadata={"tags": ["optional-section"]})
    with_cell.cells.append(empty)
    assert export_html(with_cell) == export_html(base)


def test_notebook_section_states_the_rollup_rule_beside_the_table(example):
    params, ds = example
    report = build_account_manager_report(ds, "AM-1", "FY2025-Q4", params, AS_OF)
    page = forecast_categories(report)._repr_html_()
    assert "<h2>Forecast categories</h2>" in page
    assert "Open Pipeline = Pipeline + Best Case + Most Likely + Commit: open opportunities only, never Closed" in page
    assert '<td style="text-align:left;white-space:nowrap">Open Pipeline</td>' in page and "$525.50" in page


def test_workbook_shows_the_categories_with_each_rollup_a_live_sum_of_its_categories(example, tmp_path):
    params, ds = example
    report = build_team_report(ds, "East", "FY2025-Q4", params, AS_OF)
    path = write_workbook(report, tmp_path / "team.xlsx")
    values = openpyxl.load_workbook(path, data_only=True)["Forecast categories"]
    formulas = openpyxl.load_workbook(path)["Forecast categories"]
    header = [c.value for c in values[2]]  # row 1: the title row (company, report, period, as-of)
    amount_col = header.index("Amount") + 1
    rows = {values.cell(r, 1).value: r for r in range(3, 14)}
    assert values.cell(rows["Open Pipeline"], amount_col).value == pytest.approx(725.50, abs=0)
    assert values.cell(rows["Commit Forecast"], amount_col).value == pytest.approx(450.00, abs=0)
    col = openpyxl.utils.get_column_letter(amount_col)
    cells = {name: f"{col}{r}" for name, r in rows.items()}
    assert (
        formulas[cells["Open Pipeline"]].value
        == f"={cells['Pipeline']}+{cells['Best Case']}+{cells['Most Likely']}+{cells['Commit']}"
    )
    assert formulas[cells["Commit Forecast"]].value == f"={cells['Closed']}+{cells['Commit']}"
    below = [str(values.cell(r, 1).value) for r in range(max(rows.values()) + 1, values.max_row + 1)]
    assert any("never Closed" in text for text in below), below  # the rule, written below the table


def test_unknown_stage_is_a_data_error_naming_file_row_column_value_and_the_closest_stage(tmp_path):
    src = _copy_example(tmp_path)
    text = (src / "pipeline.csv").read_text().replace("O-2,AM-1,C2,Negotiation", "O-2,AM-1,C2,Negotiaton")
    (src / "pipeline.csv").write_text(text)
    # the probability table knows the misspelling; the stage table does not
    mapping = (src / "mapping.yaml").read_text().replace('Negotiation: "0.8"', 'Negotiation: "0.8", Negotiaton: "0.8"')
    (src / "mapping.yaml").write_text(mapping)
    with pytest.raises(DataError) as err:
        rk.load(src / "params.yaml")
    (p,) = err.value.problems
    assert (Path(p.file).name, p.row, p.column, p.value) == ("pipeline.csv", 3, "stage", "Negotiaton")
    assert "did you mean 'Negotiation'" in p.reason and "pipeline.forecast_categories" in p.reason


def test_a_category_that_is_not_salesforces_is_refused_with_the_allowed_set(tmp_path):
    src = _copy_example(tmp_path)
    (src / "mapping.yaml").write_text((src / "mapping.yaml").read_text().replace("Proposal: best_case", "Proposal: bestcase"))
    with pytest.raises(MappingError) as err:
        rk.load(src / "params.yaml")
    msg = str(err.value)
    assert "pipeline.forecast_categories.Proposal" in msg and "'bestcase'" in msg and "did you mean 'best_case'" in msg


def _override_problem(tmp_path: Path, override: str):
    """The one problem of loading the example with O-8's override (row 9) replaced by ``override``."""
    src = _copy_example(tmp_path)
    (src / "pipeline.csv").write_text((src / "pipeline.csv").read_text().replace("75.50,Most Likely", f"75.50,{override}"))
    with pytest.raises(DataError) as err:
        rk.load(src / "params.yaml")
    (p,) = err.value.problems
    return p


def test_an_override_that_is_no_category_is_a_data_error_with_the_closest_one(tmp_path):
    p = _override_problem(tmp_path, "Most Likly")
    assert (Path(p.file).name, p.row, p.column, p.value) == ("pipeline.csv", 9, "category_override", "Most Likly")
    assert "did you mean 'most_likely'" in p.reason


def test_an_open_opportunity_in_closed_is_refused_because_closed_is_the_won_deals(tmp_path):
    p = _override_problem(tmp_path, "Closed")
    assert (Path(p.file).name, p.row, p.value) == ("pipeline.csv", 9, "closed")
    assert "Closed is the won deals" in p.reason


def test_forecast_categories_belong_to_the_pipeline_table_only(tmp_path):
    src = _copy_example(tmp_path)
    text = (
        (src / "mapping.yaml")
        .read_text()
        .replace(
            "    stage: {Won: won, Lost: lost}\n", "    stage: {Won: won, Lost: lost}\n  forecast_categories: {Won: closed}\n", 1
        )
    )
    (src / "mapping.yaml").write_text(text)
    with pytest.raises(MappingError, match=r"deals\.forecast_categories: only the pipeline table"):
        rk.load(src / "params.yaml")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian's chromium at /usr/bin/chromium")
def test_the_batch_page_shows_the_categories_table_and_its_rule_in_chromium(tmp_path):
    import subprocess
    import sys

    from test_browser import _dump_dom, _visibility

    src = _copy_example(tmp_path)
    params = src / "params.yaml"
    params.write_text(params.read_text() + "account_managers: ['AM-1']\nreports: [account_manager]\n")
    out = tmp_path / "out"
    cli = str(Path(sys.executable).parent / "reportkit")
    r = subprocess.run([cli, "batch", str(params), "-o", str(out), "-q"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    (page,) = sorted((out / "account_managers").glob("*.html"))
    verdict, _log = _visibility(page, tmp_path)
    assert verdict["hidden"] == [] and "Forecast categories" in verdict["headings"]
    dom = _dump_dom(page, tmp_path)
    section = dom[dom.index("<h2>Forecast categories</h2>") :]
    assert "never Closed" in section[: section.index("<table")]
    rows = re.findall(r"<tr><td[^>]*>([^<]*)</td>(?:<td[^>]*>[^<]*</td>)*?<td[^>]*>(\$[0-9,.]+)</td></tr>", section)
    assert dict(rows[:11])["Open Pipeline"] == "$525.50"
    assert dict(rows[:11])["Commit Forecast"] == "$150.00"


def test_the_api_table_is_the_reports_table_for_each_level(example):
    params, ds = example
    got = rk.forecast_categories_table(ds, "FY2025-Q4", "team", params, as_of=AS_OF)
    team = build_team_report(ds, "East", "FY2025-Q4", params, AS_OF).forecast_categories
    assert got.drop(columns=["level", "entity"]).equals(team)
    am = rk.forecast_categories_table(ds, "FY2025-Q4", params=params, as_of=AS_OF)
    mine = build_account_manager_report(ds, "AM-1", "FY2025-Q4", params, AS_OF).forecast_categories
    assert am.loc[(am["entity"] == "AM-1").to_numpy()].drop(columns=["level", "entity"]).reset_index(drop=True).equals(mine)
    company = rk.forecast_categories_table(ds, "FY2025-Q4", "company", params, as_of=AS_OF)
    assert _amounts(company)["Open Pipeline"] == Decimal("725.50")  # one team: the company is the team


def test_the_api_says_where_to_declare_categories_when_the_data_has_none(tiny_dataset):
    with pytest.raises(MappingError, match="declares no forecast categories"):
        rk.forecast_categories_table(tiny_dataset, "FY2025-Q4")
