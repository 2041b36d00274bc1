"""Words a reader sees: counted nouns in their number, one label per column."""

from __future__ import annotations

import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from reportkit.core.words import counted, plural

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "n, noun, words",
    [(1, "team", "1 team"), (3, "team", "3 teams"), (0, "report", "0 reports"), (1200, "report", "1,200 reports")],
)
def test_a_count_and_its_noun_agree(n, noun, words):
    assert counted(n, noun) == words


def test_a_kind_title_is_pluralised_on_its_last_word():
    assert plural("Pipeline review") == "Pipeline reviews" and plural("account summary") == "account summaries"


def test_the_counts_line_of_one_declared_report_says_report_not_reports(tmp_path):
    """The trial read '1 Pipeline review reports'."""
    from reportkit.run.results import BatchResult, ReportResult

    one = ReportResult(kind="pipeline_review", id="x", name="x", team="t", status="ok", kind_title="Pipeline review")
    result = BatchResult(tmp_path, tmp_path / "m.json", tmp_path / "i.html", [one])
    assert result.counts_line() == "1 Pipeline review report: 1 ok, 0 failed"


def test_the_company_heading_of_a_one_team_batch_says_1_team():
    """The trial read '1 teams' under the company report's title."""
    from reportkit.render.notebook import heading

    report = SimpleNamespace(
        kind="company",
        name="Demo Co",
        period="FY2025-Q4",
        as_of=datetime.date(2025, 12, 31),
        currency="USD",
        summary={"teams": 1},
    )
    assert heading(report).subtitle.startswith("1 team · as of 2025-12-31")


def test_the_statement_workbook_labels_its_columns_as_every_other_sheet_does(tmp_path):
    """'Deal id' in the statement workbook, 'Deal ID' everywhere else: one label, render/labels.COLUMN_LABELS."""
    import openpyxl

    import reportkit as rk
    from reportkit.render.statement import write_statement_files
    from reportkit.reports.builders import commission_for

    params, ds = rk.load(ROOT / "params" / "demo.yaml")
    stmt = commission_for(ds, params, "AM-001", params.period, params.as_of)
    _, xlsx = write_statement_files(stmt, tmp_path, ds.currency, name="Alice Andersen", as_of=params.as_of, company="Demo Co")
    ws = openpyxl.load_workbook(xlsx)["Statement"]
    heads = [c.value for c in ws[2] if c.value]
    assert "Deal ID" in heads and "Account manager ID" in heads and "Deal id" not in heads
    assert heads[:4] == ["Account manager ID", "Period", "Line", "Deal ID"]
