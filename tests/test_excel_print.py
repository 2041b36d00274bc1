"""Workbooks print legibly: LibreOffice prints each one to PDF, poppler reads the pages as a reader would.

A sheet prints one page wide when it fits at the legibility floor (``LEGIBLE_SCALE``, 70 %)
or larger, else several pages wide at or above it with its identifying columns (account,
account manager, team) repeated on each page (``render/excel/book.print_layout``). Every
page shows the sheet's whole title row (company, report, period, as-of), its header row
and its identifying columns; no column is cut across pages; each chart prints after a
page break; the footer numbers the pages; the printed figures are the report's.
"""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from batch_contexts import batch_contexts
from sample_reports import am_report
from test_excel_recalc import SOFFICE, recalculate

from reportkit.render.excel import write_company_workbook, write_workbook
from reportkit.render.excel.book import LEGIBLE_SCALE
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
    """The demo's first account manager, its team, the company report, the company roll-up
    (``company.xlsx``) and a statement, each printed to PDF by LibreOffice; plus the account
    manager's, a team's (with the forecast categories sheet) and the roll-up workbook and a
    statement of params that say Letter, portrait."""
    import datetime
    from dataclasses import replace

    import reportkit as rk
    from reportkit.reports.builders import build_company_rollup, build_report, build_team_report, commission_for, plan_reports
    from reportkit.run.batch import load_batch_inputs

    tmp = tmp_path_factory.mktemp("print")
    params, ds = load_batch_inputs(ROOT / "params" / "demo.yaml")
    specs = plan_reports(ds, params)
    am_spec = next(s for s in specs if s.kind == "account_manager")
    letter = params.model_copy(update={"pdf": params.pdf.model_copy(update={"paper": "Letter", "orientation": "portrait"})})
    with batch_contexts(params):  # as the batch builds them
        am = build_report(ds, params, kind="account_manager", report_id=am_spec.id, period=params.period, as_of=params.as_of)
        teams = [
            build_report(ds, params, kind="team", report_id=s.id, period=params.period, as_of=params.as_of)
            for s in specs
            if s.kind == "team"
        ]
        company = build_report(ds, params, kind="company", report_id="company", period=params.period, as_of=params.as_of)
        am_letter = build_report(ds, letter, kind="account_manager", report_id=am.id, period=params.period, as_of=params.as_of)
    team = next(t for t in teams if t.name == am.team)
    rollup = build_company_rollup(ds, teams, params.period, params, params.as_of)
    books = {
        "am": (write_workbook(am, tmp / "am.xlsx", company=params.name), am),
        "team": (write_workbook(team, tmp / "team.xlsx", company=params.name), team),
        "company": (
            write_company_workbook(teams, tmp / "company.xlsx", title="", as_of=params.as_of, rollup=rollup, company=params.name),
            rollup,
        ),
        "company_report": (write_workbook(company, tmp / "company-report.xlsx", company=params.name), company),
        "am_letter": (write_workbook(am_letter, tmp / "am-letter.xlsx", company=params.name), am_letter),
    }
    letter_teams = [replace(t, paper="Letter", orientation="portrait") for t in teams]  # as params pdf would make them
    books["company_letter"] = (
        write_company_workbook(
            letter_teams, tmp / "company-letter.xlsx", title="", as_of=params.as_of, rollup=rollup, company=params.name
        ),
        rollup,
    )
    stmt = commission_for(ds, params, am.id, params.period, params.as_of)
    _, xlsx = write_statement_files(stmt, tmp, ds.currency, name=am.name, as_of=params.as_of, company=params.name)
    books["statement"] = (xlsx, stmt)
    _, xlsx = write_statement_files(
        stmt,
        tmp / "letter",
        ds.currency,
        name=am.name,
        as_of=params.as_of,
        company=params.name,
        paper="Letter",
        orientation="portrait",
    )
    books["statement_letter"] = (xlsx.rename(tmp / "statement-letter.xlsx"), stmt)  # its own printed file name
    books["diff"] = (_diff_workbook(tmp, params, [am, *teams]), None)
    cat_params, cat_ds = rk.load(ROOT / "tests" / "fixtures" / "forecast_categories" / "params.yaml")
    categories = build_team_report(cat_ds, "East", "FY2025-Q4", cat_params, datetime.date(2025, 11, 15))
    books["categories"] = (write_workbook(categories, tmp / "categories.xlsx", company="Categories Co"), categories)
    pdfs = recalculate([path for path, _ in books.values()], tmp, to="pdf")
    return params, {key: (path, pdfs[path], obj) for key, (path, obj) in books.items()}


def _diff_workbook(tmp: Path, params, reports) -> Path:
    """``reportkit diff``'s workbook of a made-up restatement: a late deal added to each report's revenue."""
    import json
    from decimal import Decimal

    import pandas as pd

    from reportkit.domain.restatement import DealChanges
    from reportkit.run.diff import BatchDiff, write_diff_workbook

    old, new = tmp / "demo-q4", tmp / "demo-q4-late-deal"
    batch = {"name": params.name, "period": params.period, "as_of": params.as_of.isoformat()}
    for folder in (old, new):
        folder.mkdir()
        (folder / "manifest.json").write_text(json.dumps({"batch": batch, "reports": []}))
    late = Decimal("12345.67")
    figures = pd.DataFrame(
        [
            {
                "kind": r.kind,
                "id": r.id,
                "name": r.name,
                "figure": "revenue",
                "old": r.summary["revenue"] - late,
                "new": r.summary["revenue"],
                "change": late,
            }
            for r in reports
        ]
    )
    d = BatchDiff(old, new, figures, DealChanges(added=["D-LATE-01"]), owners={"D-LATE-01": reports[0].id}, inputs=["data deals"])
    return write_diff_workbook(d, tmp / "diff.xlsx", "USD")


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


def test_every_printed_page_shows_the_whole_title_row(printed):
    # the title row is merged over each printed page's own columns: a title merged over all the
    # columns of a sheet printed two pages wide would be cut in two, and neither page would show it whole
    params, books = printed
    for key, title in _titles(params, books).items():
        xlsx, pdf, _ = books[key]
        pages = _pages(pdf)
        sheets, charts = _sheets_and_charts(xlsx)
        shown = [re.escape(_flat(title))]
        if key == "company":  # a team sheet's title names its team (its tab may be cut to 31 characters)
            company, report, when = title.split(" · ", 2)
            shown.append(re.escape(_flat(f"{company} · {report}: ")) + ".+" + re.escape(_flat(f" · {when}")))
        assert all(any(re.search(s, page) for s in shown) for page in pages), (key, title, [p[:160] for p in pages])
        assert sheets + charts <= len(pages), key  # each chart after a page break
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


def _page_size(pdf: Path) -> str:
    """``pdfinfo``'s page size line, e.g. ``841.89 x 595.304 pts (A4)``."""
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return re.search(r"Page size:\s+(.+)", info).group(1).strip()


def _layout_pages(pdf: Path) -> list[list[str]]:
    """Each page's lines as ``pdftotext -layout`` sets them on paper."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return [p.splitlines() for p in text.split("\f") if p.strip()]


_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">')


def _print_sizes(pdf: Path) -> list[float]:
    """Per page, the median height (points) of the words between the page header and the page footer.

    LibreOffice scales a sheet down to fit it one page wide (the header and footer keep
    their size), so the text of a sheet printed at full size is as tall as a narrow
    sheet's, and a sheet shrunk to fit is proportionally smaller.
    """
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    sizes = []
    for page in re.findall(r"<page .*?</page>", out, re.DOTALL):
        boxes = [(float(y0), float(y1)) for _, y0, _, y1 in _WORD.findall(page)]
        top, bottom = min(y0 for y0, _ in boxes), max(y1 for _, y1 in boxes)
        body = sorted(y1 - y0 for y0, y1 in boxes if y0 > top + 2 and y1 < bottom - 2)
        sizes.append(body[len(body) // 2] if body else 0.0)
    return sizes


_A4_LANDSCAPE, _LETTER_PORTRAIT = "841.89 x 595.304 pts (A4)", "612 x 792 pts (letter)"


def test_every_workbook_prints_on_the_paper_the_params_give(printed):
    # the demo's params say pdf.paper A4 (landscape by default); LibreOffice's own default is Letter
    params, books = printed
    assert params.pdf.paper == "A4" and params.pdf.orientation == "landscape"
    for key in ("am", "team", "company", "company_report", "statement", "categories"):
        assert _page_size(books[key][1]) == _A4_LANDSCAPE, key
    assert books["am_letter"][2].paper == "Letter"  # the report builders carry params pdf.paper and orientation
    for key in ("am_letter", "company_letter", "statement_letter"):
        assert _page_size(books[key][1]) == _LETTER_PORTRAIT, key


def test_a_wrapped_commission_description_prints_on_the_line_of_its_figures(printed):
    # the description wraps in its cell; basis, rate and amount sit on its first line, not its last
    _, books = printed
    am = books["am"][2]
    lines = [line for page in _layout_pages(books["am"][1]) for line in page]
    for row in am.commission.itertuples(index=False):
        amount = _money(row.amount)
        where = [line for line in lines if amount in line and _money(row.basis) in line]
        assert where, (amount, "not printed with its basis on one line")
        first_words = " ".join(str(row.description).split()[:2])  # "Deal D-01336"
        assert any(first_words in line for line in where), (first_words, where)


def test_summary_and_notes_print_at_full_size_and_no_sheet_shrinks_past_legible(printed):
    # a long sentence (how the forecast was chosen, a note, the categories' roll-up rule) wraps
    # in its cell under or beside its table: it used to run off the right in one wide cell,
    # and the page, fitted one page wide, shrank the whole sheet to 16-26 %
    _, books = printed
    full = max(max(_print_sizes(books[key][1])) for key in ("am", "team", "company_report"))
    for key in ("am", "team", "company", "company_report", "statement", "categories"):
        pdf = books[key][1]
        sizes = _print_sizes(pdf)
        if key in ("am", "team", "company_report", "categories"):  # a report's workbook opens with its Summary
            assert sizes[0] >= 0.9 * full, (key, "the Summary sheet is printed smaller", sizes[0], full)
        assert min(sizes) >= 0.97 * LEGIBLE_SCALE * full, (key, "a sheet printed too small to read", sizes, full)
    report = books["categories"][2]
    categories = _layout_pages(books["categories"][1])
    sizes = _print_sizes(books["categories"][1])
    sheet = [i for i, p in enumerate(categories) if "Forecast categories" in p[0]]  # the page header names the sheet
    assert sheet and all(sizes[i] >= 0.9 * full for i in sheet), ("the forecast categories sheet is printed smaller", sheet)
    printed_text = _flat("".join("".join(categories[i]) for i in sheet))
    assert _flat(report.forecast_categories_rule) in printed_text  # its roll-up rule printed whole, under the table


def test_the_accounts_sheet_prints_two_pages_wide_with_account_id_and_name_on_both(printed):
    # 21 columns: at 42 % on one page (11-point text printed at 4.6 points); two pages wide at 70 % or
    # larger, each starting with the account's id and name, every header label whole on one page
    _, books = printed
    xlsx, pdf, am = books["am"]
    import openpyxl

    header = [c.value for c in openpyxl.load_workbook(xlsx)["Accounts"][2]]
    assert len(header) == 21
    pages = _by_sheet(pdf)["Accounts"]  # five accounts: one block of rows
    assert len(pages) == 2
    sizes = _print_sizes(pdf)
    for i, page in pages:
        assert sizes[i] >= 0.97 * LEGIBLE_SCALE * _FULL, (i, sizes[i])
        words = _words(page)
        assert {"Account", "ID", "name"} <= words
        assert all(str(name) in words or _flat(str(name)) in _flat("".join(page)) for name in am.accounts["account_name"])
    # a header label wraps by words in its cell: each label's words are printed on one page
    missing = [label for label in header if not any(set(label.split()) <= _words(page) for _, page in pages)]
    assert not missing, missing


_FULL = 14.30
"""Median word height (points) of a sheet printed at full size (the Summary sheets': 11-point text)."""


def _words(page: list[str]) -> set[str]:
    return {w for line in page for w in line.split()}


def _by_sheet(pdf: Path) -> dict[str, list[tuple[int, list[str]]]]:
    """Pages (index, lines) by the sheet name the printed page header shows (company, sheet, period and as-of)."""
    out: dict[str, list[tuple[int, list[str]]]] = {}
    for i, page in enumerate(_layout_pages(pdf)):
        fields = re.split(r"\s{2,}", page[0].strip())
        out.setdefault(fields[1] if len(fields) >= 3 else fields[0], []).append((i, page))
    return out


_KINDS = ("am", "team", "company", "company_report", "statement", "diff", "am_letter", "company_letter", "statement_letter")


def test_every_page_is_legible_and_shows_its_title_header_row_and_identifying_columns(printed):
    # each workbook kind (account manager with its Trace, team, company.xlsx, company report, statement with its
    # Trace, diff; A4 landscape and Letter portrait): every page at LEGIBLE_SCALE or larger, with the sheet's
    # title, the header labels of its identifying columns (repeated on each page of a sheet several pages wide),
    # and no column cut: each page's own columns' header labels all printed on one page
    import openpyxl

    _, books = printed
    seen_wide = set()
    for key in _KINDS:
        xlsx, pdf, _ = books[key]
        sizes = _print_sizes(pdf)
        pages = _by_sheet(pdf)
        for ws in openpyxl.load_workbook(xlsx).worksheets:
            mine = pages[ws.title]
            title = next(c.value for c in ws[1] if c.value)
            labels = [str(c.value) for c in ws[2]]
            breaks = [b.id for b in ws.col_breaks.brk]
            ident = len(labels[: _repeated(ws)]) if breaks else 1
            for i, page in mine:
                assert sizes[i] >= 0.97 * LEGIBLE_SCALE * _FULL, (key, ws.title, i, sizes[i])
                assert _flat(title) in _flat("".join(page)), (key, ws.title, i)
                missing = [label for label in labels[:ident] if not set(label.split()) <= _words(page)]
                assert not missing, (key, ws.title, i, missing)
            starts = [_repeated(ws), *breaks] if breaks else [0]
            for a, b in zip(starts, [*breaks, len(labels)]):  # each page's own columns, whole on one page
                own = labels[a:b]
                assert any(all(set(label.split()) <= _words(page) for label in own) for _, page in mine), (key, ws.title, own)
            if breaks:
                seen_wide.add((key, ws.title))
                first = str(ws.cell(3, 1).value)  # the first row's identifying value, on every page of its block of rows
                assert sum(first in "".join(page) for _, page in mine) >= len(breaks) + 1, (key, ws.title, first)
    assert {("am", "Accounts"), ("am", "Trace"), ("company", "Company"), ("company_report", "Teams")} <= seen_wide


def _repeated(ws) -> int:
    """How many leading columns the sheet repeats on every printed page (``$A:$B`` -> 2)."""
    from openpyxl.utils import column_index_from_string

    cols = ws.print_title_cols
    return column_index_from_string(cols.split(":")[1].strip("$")) if cols else 0


def test_a_wide_sheets_pages_follow_across_then_down_and_its_chart_prints_once(printed):
    # the Company sheet of company.xlsx: two pages wide, then its chart on a page of its own (not a chart
    # page per column of pages, nor a piece of the chart repeated in the identifying columns)
    _, books = printed
    pages = _by_sheet(books["company"][1])["Company"]
    assert len(pages) == 3
    (_, first), (_, second), (_, chart) = pages
    assert "Members" in _words(first) and "watch" in _words(second)  # the second page continues the first's rows
    assert "Attainment by team" in " ".join(chart)


def test_printed_summaries_show_figures_not_display_switches(printed):
    # the summary's attainment_basis_differs switches which rows the HTML shows; printed, it read
    # "Credited revenue differs from revenue  no"
    _, books = printed
    for key in ("am", "team", "company_report"):
        assert not [p for p in _pages(books[key][1]) if "differsfromrevenue" in p], key


_BOXED_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>')


def test_a_text_cell_printed_after_a_figure_or_n_a_keeps_a_visible_gap(printed):
    """The trial read 'n/aat risk' and '-68.3%at risk' on the printed Accounts sheet: a right-aligned
    value touched the left-aligned status beside it. Text cells now keep an inset."""
    _, books = printed
    _, pdf, _ = books["am"]
    text = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    words = [(float(x0), float(y0), float(x1), w) for x0, y0, x1, w in _BOXED_WORD.findall(text)]
    gaps = [
        b[0] - a[2]
        for a, b in itertools.pairwise(words)
        if (a[3] == "n/a" or a[3].endswith("%"))
        and b[3] in ("at", "growing", "stable", "declining", "silent")
        and abs(a[1] - b[1]) < 1
    ]
    assert gaps, "no status printed beside the trend column"
    assert min(gaps) >= 3, f"a status prints {min(gaps):.1f} pt from the value before it"


def test_an_all_zero_chart_prints_one_zero_tick_and_says_why_it_is_empty_as_the_html_chart_does(tmp_path):
    # LibreOffice printed $0.00 .. $1.00 in ten steps over no bar; the HTML's chart shows "$0" and why it is empty
    zero = Decimal("0.00")
    report = am_report()
    empty = am_report(quarterly=report.quarterly.assign(revenue=[zero] * 4, quota=[zero, zero, None, zero]))
    paths = [write_workbook(empty, tmp_path / "empty.xlsx"), write_workbook(report, tmp_path / "full.xlsx")]
    pdfs = recalculate(paths, tmp_path, to="pdf")

    def chart(path):  # the chart's text between its title and its first category labels (its plot and value axis)
        (found,) = set(re.findall(r"Quarterlyrevenueagainstquota(.*?)FY2025-Q1FY2025-Q2", "".join(_pages(pdfs[path]))))
        return found  # the same text where the chart crosses a page break

    assert "norevenueandnoquotaintheseperiods" in chart(paths[0])
    assert re.findall(r"\$[\d.,]+", chart(paths[0])) == ["$0"]
    assert "norevenue" not in chart(paths[1]) and "$0.00" in chart(paths[1])  # a chart with figures keeps its scale
