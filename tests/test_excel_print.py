"""Workbooks print legibly: LibreOffice prints each one to PDF, poppler reads the pages as a reader would.

Every page shows the sheet's whole title row (company, report, period, as-of), which
spans all its columns, so no sheet is cut into two pages wide; each chart prints after
a page break; the footer numbers the pages; the printed figures are the report's.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_excel_recalc import SOFFICE, recalculate

from reportkit.render.excel import write_company_workbook, write_workbook
from reportkit.render.statement import write_statement_files
from reportkit.render.titles import print_title

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed: apt-get install libreoffice-calc-nogui"),
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed: apt-get install poppler-utils"),
    pytest.mark.slow,
]


def _pages(pdf: Path) -> list[str]:
    """Each page's text as laid out on paper, with all whitespace removed (a title wrapped in its cell reads whole)."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return ["".join(p.split()) for p in text.split("\f") if p.strip()]


def _flat(text: str) -> str:
    return "".join(text.split())


def _money(value) -> str:
    return f"${value:,.2f}"


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """The demo's first account manager, its team, the company and a statement, each printed to PDF by LibreOffice."""
    from reportkit.reports.builders import build_company_rollup, build_report, commission_for, plan_reports
    from reportkit.run.batch import load_batch_inputs

    tmp = tmp_path_factory.mktemp("print")
    params, ds = load_batch_inputs(ROOT / "params" / "demo.yaml")
    specs = plan_reports(ds, params)
    am_spec = next(s for s in specs if s.kind == "account_manager")
    am = build_report(ds, params, kind="account_manager", report_id=am_spec.id, period=params.period, as_of=params.as_of)
    teams = [
        build_report(ds, params, kind="team", report_id=s.id, period=params.period, as_of=params.as_of)
        for s in specs
        if s.kind == "team"
    ]
    team = next(t for t in teams if t.name == am.team)
    rollup = build_company_rollup(ds, teams, params.period, params, params.as_of)
    books = {
        "am": (write_workbook(am, tmp / "am.xlsx", company=params.name), am),
        "team": (write_workbook(team, tmp / "team.xlsx", company=params.name), team),
        "company": (
            write_company_workbook(teams, tmp / "company.xlsx", title="", as_of=params.as_of, rollup=rollup, company=params.name),
            rollup,
        ),
    }
    stmt = commission_for(ds, params, am.id, params.period, params.as_of)
    _, xlsx = write_statement_files(stmt, tmp, ds.currency, name=am.name, as_of=params.as_of, company=params.name)
    books["statement"] = (xlsx, stmt)
    pdfs = recalculate([path for path, _ in books.values()], tmp, to="pdf")
    return params, {key: (path, pdfs[path], obj) for key, (path, obj) in books.items()}


def _sheets_and_charts(xlsx: Path) -> tuple[int, int]:
    import zipfile

    import openpyxl

    with zipfile.ZipFile(xlsx) as z:
        charts = sum(1 for n in z.namelist() if n.startswith("xl/charts/chart"))
    return len(openpyxl.load_workbook(xlsx).worksheets), charts


def _titles(params, books) -> dict[str, str]:
    am = books["am"][2]
    when = f"{params.period} · as of {params.as_of.isoformat()}"
    return {
        "am": print_title(am, params.name).text,
        "team": print_title(books["team"][2], params.name).text,
        "company": f"{params.name} · Company roll-up · {when}",
        "statement": f"{params.name} · Commission statement: {am.name} ({am.id}) · {when}",
    }


def test_every_printed_page_shows_the_whole_title_row_so_each_sheet_is_one_page_wide(printed):
    # the title row is merged over all of a sheet's columns: a sheet printed two pages wide
    # would cut it in two, and neither page would show it whole
    params, books = printed
    for key, title in _titles(params, books).items():
        xlsx, pdf, _ = books[key]
        pages = _pages(pdf)
        sheets, charts = _sheets_and_charts(xlsx)
        assert all(_flat(title) in page for page in pages), (key, title, [p[:160] for p in pages if _flat(title) not in p])
        assert sheets + charts <= len(pages) <= 2 * (sheets + charts), key  # each chart after a page break; nothing runs wild
        for page in pages:
            assert re.search(r"Page(\d+)of(\d+)", page), page[-80:]  # the printed footer numbers the pages


def test_printed_figures_are_the_reports(printed):
    _, books = printed
    am = books["am"][2]
    summary = _pages(books["am"][1])[0]  # the Summary sheet prints first
    for key in ("revenue", "quota", "commission_total"):
        assert _money(am.summary[key]) in summary, key  # as Excel formats the cell: $133,419.56
    assert f"{am.summary['attainment'] * 100:.1f}%" in summary
    team = books["team"][2]
    summary = _pages(books["team"][1])[0]
    for key in ("revenue", "quota", "commission_expense"):
        assert _money(team.summary[key]) in summary, key
    rollup = books["company"][2]
    company = _pages(books["company"][1])[0]
    assert _money(rollup["revenue"]) in company and _money(rollup["quota"]) in company
    stmt = books["statement"][2]
    assert _flat(f"Total ({len(stmt.lines)} lines)") in _pages(books["statement"][1])[0]
    assert _money(stmt.total) in _pages(books["statement"][1])[0]
