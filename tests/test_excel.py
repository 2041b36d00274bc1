"""Excel workbooks read back with openpyxl: cents, formats, live formulas, no NaN.

Values are read as a non-recalculating viewer sees them (``data_only=True``: the
cached values xlsxwriter stores next to each formula); the formulas themselves
are checked with ``data_only=False``.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from batch_contexts import batch_contexts
from print_helpers import assert_prints_legibly
from sample_reports import FORMULA, XSS, am_report, team_report

from reportkit.core.errors import OutputError
from reportkit.render.excel import (
    AM_SHEETS,
    TEAM_SHEETS,
    attainment_bands,
    money_format,
    write_company_workbook,
    write_workbook,
)
from reportkit.render.excel.book import LEGIBLE_SCALE, page_width, print_layout
from reportkit.render.excel.formats import PERCENT_FORMAT
from reportkit.render.excel.summary import _SWITCHES
from reportkit.render.labels import summary_label

HEADER_ROW = 2
"""Row 1 of every sheet is the title row (company, report, period, as-of); the column headers are row 2."""


@pytest.fixture()
def am_book(tmp_path):
    path = write_workbook(am_report(), tmp_path / "am.xlsx")
    return openpyxl.load_workbook(path, data_only=True)


@pytest.fixture()
def team_book(tmp_path):
    path = write_workbook(team_report(), tmp_path / "team.xlsx")
    return openpyxl.load_workbook(path, data_only=True)


def _rows(ws, *, totals=False):
    """Header and data rows; the bold total row at the bottom is skipped unless ``totals``."""
    header = [c.value for c in ws[HEADER_ROW]]
    rows = [dict(zip(header, (c for c in row))) for row in ws.iter_rows(min_row=HEADER_ROW + 1)]
    if not totals and rows and any(c.font.bold for c in rows[-1].values()):
        rows = rows[:-1]
    return header, rows


def test_sheet_names_follow_the_contract(am_book, team_book):
    assert am_book.sheetnames == ["Summary"] + [s for s, _ in AM_SHEETS]
    assert am_book.sheetnames == ["Summary", "Quarterly results", "Commission statement", "Accounts", "Forecast", "Deals"]
    assert team_book.sheetnames[:6] == [
        "Summary",
        "Leaderboard",
        "Attainment distribution",
        "Performance watch",
        "Forecast roll-up",
        "Commission expense",
    ]
    assert team_book.sheetnames == ["Summary"] + [s for s, _ in TEAM_SHEETS]


def test_money_is_a_number_equal_to_the_report_to_the_cent(am_book):
    report = am_report()
    header, rows = _rows(am_book["Quarterly results"])
    assert header[:4] == ["Period", "Period start", "Period end", "Revenue"]
    for row, expected in zip(rows, report.quarterly["revenue"]):
        cell = row["Revenue"]
        assert isinstance(cell.value, (int, float))
        assert Decimal(repr(cell.value)).quantize(Decimal("0.01")) == expected
        assert cell.number_format == money_format("USD")
    _, commission = _rows(am_book["Commission statement"])
    assert [Decimal(repr(r["Amount"].value)).quantize(Decimal("0.01")) for r in commission] == [
        Decimal("450.01"),
        Decimal("0.00"),
    ]


def test_attainment_is_a_percent_number_and_nan_is_never_written(am_book):
    _, rows = _rows(am_book["Quarterly results"])
    att = [r["Attainment"] for r in rows]
    assert att[0].value == 1.0 and att[0].number_format == PERCENT_FORMAT == "#,##0.0%"
    assert att[2].value == "n/a"  # undefined attainment: text, not 0 and not NaN
    for ws in am_book.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert not (isinstance(c.value, float) and (math.isnan(c.value) or math.isinf(c.value))), (ws.title, c.coordinate)
    # missing quota (money) is blank
    assert rows[2]["Quota"].value is None


def test_dates_are_excel_dates(am_book):
    _, rows = _rows(am_book["Deals"])
    cell = rows[0]["Close date"]
    assert isinstance(cell.value, datetime.datetime) and cell.value.date() == datetime.date(2025, 6, 20)
    assert cell.number_format == "yyyy-mm-dd"
    assert rows[1]["Product"].value is None


def test_text_from_data_never_becomes_a_formula(tmp_path, am_book):
    _, rows = _rows(am_book["Accounts"])
    names = [r["Account name"] for r in rows]
    assert [c.value for c in names] == [XSS, FORMULA]
    assert all(c.data_type == "s" for c in names)
    # the workbooks now hold live formulas (totals, attainment), but only reportkit's own:
    # every <f> is a SUM / IF / COUNTIF(S) / reference, and no text from the data is one
    path = write_workbook(team_report(), tmp_path / "t.xlsx")
    with zipfile.ZipFile(path) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets and not any(b"<f>1+1</f>" in z.read(n) for n in sheets)
    book = openpyxl.load_workbook(path)
    formulas = [c.value for ws in book.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas and all(re.fullmatch(r"=(SUM|IF|COUNTIFS?|[A-Z]+\d+\+)[\s\S]*", f) for f in formulas), formulas
    texts = [c.value for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value == FORMULA]
    assert len(texts) >= 4  # the name "=1+1" on every team sheet, as text


def test_ids_stay_text(am_book, team_book):
    summary = {r[0].value: r[1].value for r in am_book["Summary"].iter_rows(min_row=HEADER_ROW + 1)}
    assert summary["Account manager ID"] == "00731"
    assert summary["Revenue"] == pytest.approx(9000.10) and summary["Attainment"] == pytest.approx(0.7500083333)
    _, lb = _rows(team_book["Leaderboard"])
    assert [r["Account manager ID"].value for r in lb] == ["00731", "AM-9"]


def test_header_is_frozen_filtered_and_columns_are_sized(am_book):
    ws = am_book["Accounts"]
    assert ws.freeze_panes == "A3"  # the title row and the header row stay in view
    assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A2:")
    # a text column is as wide as its text, or (the Accounts sheet is wider than a printed page)
    # its text wraps within the cell
    name = next(c for c in ws["B"][2:] if c.value == "<script>alert(1)</script>")
    assert ws.column_dimensions["B"].width >= len(name.value) or name.alignment.wrap_text
    assert ws["A2"].font.bold


def test_workbook_is_deterministic_and_dated_as_of(tmp_path):
    a = write_workbook(am_report(), tmp_path / "a.xlsx")
    b = write_workbook(am_report(), tmp_path / "b.xlsx")
    assert a.read_bytes() == b.read_bytes()
    props = openpyxl.load_workbook(a).properties
    assert props.created == datetime.datetime(2025, 6, 30) and props.creator == "reportkit"


def test_team_workbook_numbers_match_the_report(team_book):
    report = team_report()
    _, rows = _rows(team_book["Commission expense"])
    got = [Decimal(repr(r["Total"].value)).quantize(Decimal("0.01")) for r in rows]
    assert got == list(report.commission_expense["total"])
    _, dist = _rows(team_book["Attainment distribution"])
    assert [(r["Band"].value, r["Count"].value) for r in dist] == [("< 90%", 1), ("90-100%", 0), (">= 100%", 0), ("n/a", 1)]


def test_write_is_atomic_and_unwritable_folder_is_an_output_error(tmp_path):
    with pytest.raises(OutputError, match="cannot write workbook"):
        write_workbook(am_report(), tmp_path / "missing" / "x.xlsx")
    write_workbook(am_report(), tmp_path / "ok.xlsx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.xlsx"]  # no temp file left behind


# ---------------------------------------------------------------------------
# live formulas, formats, charts, print setup, company workbook
# ---------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
CENT = Decimal("0.01")


def _cents(v):
    return Decimal(repr(v)).quantize(CENT)


@pytest.fixture(scope="module")
def demo_reports():
    from reportkit.reports.builders import build_report, plan_reports
    from reportkit.run.batch import load_batch_inputs

    params, ds = load_batch_inputs(ROOT / "params" / "demo.yaml")
    specs = plan_reports(ds, params)
    ams = [s for s in specs if s.kind == "account_manager"][:3]
    teams = [s for s in specs if s.kind == "team"]
    build = lambda s: build_report(ds, params, kind=s.kind, report_id=s.id, period=params.period, as_of=params.as_of)  # noqa: E731
    with batch_contexts(params):  # as the batch builds them: the chosen forecast once (a run), not once per report
        return [build(s) for s in ams], [build(s) for s in teams]


@pytest.fixture(scope="module")
def demo_rollup(demo_reports):
    from reportkit.reports.builders import build_company_rollup
    from reportkit.run.batch import load_batch_inputs

    params, ds = load_batch_inputs(ROOT / "params" / "demo.yaml")
    return build_company_rollup(ds, demo_reports[1], params.period, params, params.as_of)


def _formula_cells(path):
    book = openpyxl.load_workbook(path)
    return {
        (ws.title, c.coordinate): c.value for ws in book.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"
    }


def test_commission_statement_has_a_sum_total_row_equal_to_the_statement(tmp_path):
    path = write_workbook(am_report(), tmp_path / "am.xlsx")
    ws = openpyxl.load_workbook(path)["Commission statement"]
    cached = openpyxl.load_workbook(path, data_only=True)["Commission statement"]
    header = [c.value for c in ws[HEADER_ROW]]
    amount = header.index("Amount") + 1
    last = ws.max_row
    assert ws.cell(last, header.index("Description") + 1).value == "Total"
    assert ws.cell(last, amount).value == f"=SUM($E$3:$E${last - 1})"
    assert _cents(cached.cell(last, amount).value) == am_report().summary["commission_total"]
    assert ws.cell(last, amount).number_format == money_format("USD")
    # the Summary's commission total points at that cell
    summary = {r[0].value: r[1] for r in ws.parent["Summary"].iter_rows(min_row=HEADER_ROW + 1)}
    assert summary["Total earned (all awards)"].value == f"=SUM('Commission statement'!E{last})"


def test_attainment_is_a_live_ratio_with_n_a_for_zero_quota(tmp_path):
    report = am_report(quarterly=am_report().quarterly.assign(attainment=[1.0, 1.234567, float("nan"), 9000.10 / 12000]))
    path = write_workbook(report, tmp_path / "am.xlsx")
    ws = openpyxl.load_workbook(path)["Quarterly results"]
    cached = openpyxl.load_workbook(path, data_only=True)["Quarterly results"]
    for r in range(3, 7):
        assert ws[f"F{r}"].value == f'=IF(E{r}=0,"n/a",D{r}/E{r})'
    assert cached["F5"].value == "n/a" and cached["F6"].value == pytest.approx(9000.10 / 12000, abs=1e-12)
    assert ws["F3"].number_format == PERCENT_FORMAT == "#,##0.0%"


def test_a_figure_that_is_not_the_plain_ratio_is_written_as_a_value(am_book):
    # the sample's Q4 attainment (0.7500083333) is not 9000.10 / 12000 to 12 digits:
    # a formula would recalculate to another number, so the figure itself is written
    ws = am_book["Quarterly results"]
    assert ws["F6"].value == pytest.approx(0.7500083333, abs=1e-15)


def test_team_sheets_roll_up_with_sums(tmp_path):
    path = write_workbook(team_report(), tmp_path / "team.xlsx")
    f = _formula_cells(path)
    assert f[("Commission expense", "E3")] == "=C3+D3"
    assert f[("Commission expense", "E5")] == "=SUM($E$3:$E$4)"
    assert f[("Forecast roll-up", "D5")] == "=SUM($D$3:$D$4)"
    assert f[("Attainment distribution", "B6")] == "=COUNTIF('Leaderboard'!$F$3:$F$4,\"n/a\")"
    book = openpyxl.load_workbook(path, data_only=True)
    fr = book["Forecast roll-up"]
    assert [c.value for c in fr[5]][:2] == ["(team)", "Team total"]
    assert _cents(fr["C5"].value) == Decimal("31285.72")
    _, rows = _rows(book["Commission expense"], totals=True)
    assert _cents(rows[-1]["Total"].value) == Decimal("450.01")


def test_demo_workbooks_cached_values_equal_the_report(tmp_path, demo_reports):
    ams, teams = demo_reports
    for rep in ams + teams:
        path = write_workbook(rep, tmp_path / f"{rep.id}.xlsx")
        book = openpyxl.load_workbook(path, data_only=True)
        formulas = _formula_cells(path)
        assert len(formulas) >= 5, rep.id
        summary = {r[0].value: r[1].value for r in book["Summary"].iter_rows(min_row=HEADER_ROW + 1)}
        for key, value in rep.summary.items():
            if key == "period_label" and value == rep.period:
                continue  # the period is shown once, in its identity row
            if key in _SWITCHES:
                assert summary_label(rep.kind, key) not in summary  # what the page shows, not a figure
                continue
            got = summary[summary_label(rep.kind, key)]
            if isinstance(value, Decimal):
                assert _cents(got) == value, (rep.id, key)
            elif isinstance(value, float):
                assert got == pytest.approx(value, abs=1e-12), (rep.id, key)
        if rep.kind == "team":
            _, lb = _rows(book["Leaderboard"])
            assert [_cents(r["Revenue"].value) for r in lb] == list(rep.leaderboard["revenue"])
            assert [r["Attainment"].value for r in lb] == pytest.approx(list(rep.leaderboard["attainment"]), abs=1e-12)
            assert ("Summary", "B6") in formulas or any(k[0] == "Summary" for k in formulas)
            assert any(v.startswith("=SUM(") for (s, _), v in formulas.items() if s == "Commission expense")
        else:
            _, q = _rows(book["Quarterly results"])
            assert [_cents(r["Revenue"].value) for r in q] == list(rep.quarterly["revenue"])
            assert all(formulas[("Quarterly results", f"F{i}")].startswith("=IF(") for i in range(3, 3 + len(q)))
            _, lines = _rows(book["Commission statement"], totals=True)
            assert _cents(lines[-1]["Amount"].value) == rep.summary["commission_total"]


def test_a_missing_summary_figure_reads_as_the_html_says_not_a_blank_cell(tmp_path, demo_reports):
    """Next year's quota before the quotas file has that year, and any other missing figure: the Summary sheet
    says what the HTML summary says ("not in the data yet", "n/a"), never an empty cell a reader cannot tell
    from a figure the report forgot."""
    from reportkit.render.notebook import summary_table

    ams, teams = demo_reports
    checked = 0
    for rep in ams + teams:
        book = openpyxl.load_workbook(write_workbook(rep, tmp_path / f"{rep.id}.xlsx"), data_only=True)
        sheet = {r[0].value: r[1].value for r in book["Summary"].iter_rows(min_row=HEADER_ROW + 1)}
        assert not [item for item, value in sheet.items() if item and value is None], rep.id
        html = dict(summary_table(rep).rows)
        for key, value in rep.summary.items():
            if value is None:
                label = summary_label(rep.kind, key)
                assert sheet[label] in ("n/a", "not in the data yet"), (rep.id, key)
                if label in html:
                    assert sheet[label] == html[label], (rep.id, key)
                    checked += 1
    assert checked >= len(ams + teams)  # next year's quota, missing from the demo's quotas, in every report


def test_number_formats_tables_charts_and_print_setup(tmp_path, demo_reports):
    ams, teams = demo_reports
    rep = ams[0]
    path = write_workbook(rep, tmp_path / "am.xlsx", company="Demo Co")
    title = f"Demo Co · Account manager report: {rep.name} ({rep.id}) · {rep.period} · as of {rep.as_of.isoformat()}"
    book = openpyxl.load_workbook(path)
    q = book["Quarterly results"]
    assert q["B3"].number_format == "yyyy-mm-dd" and q["B3"].is_date
    assert q["D3"].number_format == money_format("USD")
    assert q.tables and next(iter(q.tables.values())).ref.startswith("A2:")
    assert q.conditional_formatting  # attainment bands
    assert book["Deals"].auto_filter.ref.startswith("A2:")
    for ws in book.worksheets:
        assert ws.freeze_panes == "A3", ws.title
        assert ws.page_setup.orientation == "landscape"
        assert_prints_legibly(ws, title)  # the title row (company, report, period, as-of) whole on every page
        assert "Page &P of &N" in ws.oddFooter.right.text and ws.oddHeader.center.text == "&A"
    assert book["Accounts"].print_title_cols == "$A:$B"  # 21 columns: account id and name on every page
    with zipfile.ZipFile(path) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert charts
        xml = z.read(charts[0]).decode()
        assert "<c:barChart>" in xml and "<c:lineChart>" in xml and "Quarterly results" in xml
    team = write_workbook(teams[0], tmp_path / "team.xlsx")
    with zipfile.ZipFile(team) as z:
        xml = "".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart"))
        assert re.search(r"Leaderboard'?!\$F\$3", xml)  # attainment by account manager
    props = openpyxl.load_workbook(team).properties
    assert props.title == f"{teams[0].name} — {teams[0].period}" and props.subject == "Team report"
    assert props.created == datetime.datetime.combine(teams[0].as_of, datetime.time())


def test_company_workbook_rolls_up_the_teams(tmp_path, demo_reports, demo_rollup):
    _, teams = demo_reports
    as_of = teams[0].as_of
    path = write_company_workbook(
        list(reversed(teams)),
        tmp_path / "company.xlsx",
        title="Demo Co — FY2025-Q4",
        as_of=as_of,
        rollup=demo_rollup,
        company="Demo Co",
    )
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Company"] + sorted(t.name for t in teams)
    ws = book["Company"]
    n = len(teams)
    header = [c.value for c in ws[HEADER_ROW]]
    rev = header.index("Revenue (each deal once)")
    assert ws.cell(n + 3, 1).value == "Company total"
    assert ws.cell(n + 3, rev + 1).value.startswith("=SUM(")
    assert ws.cell(3, rev + 1).value.startswith("='Team")  # references the team sheet's total row
    cached = openpyxl.load_workbook(path, data_only=True)["Company"]
    by_name = {t.name: t for t in teams}
    for r in range(3, n + 3):
        t = by_name[cached.cell(r, 1).value]
        assert _cents(cached.cell(r, rev + 1).value) == t.summary["revenue"]
        assert cached.cell(r, header.index("Attainment") + 1).value == pytest.approx(t.summary["attainment"], abs=1e-12)
    # the demo credits each deal to its owner only: the company's revenue is the sum of the teams', a live SUM
    assert demo_rollup["revenue"] == sum((t.summary["revenue"] for t in teams), Decimal(0))
    assert _cents(cached.cell(n + 3, rev + 1).value) == demo_rollup["revenue"]
    with zipfile.ZipFile(path) as z:
        assert b"<Company>Demo Co</Company>" in z.read("docProps/app.xml")
    assert book.properties.created == datetime.datetime.combine(as_of, datetime.time())
    again = write_company_workbook(
        teams, tmp_path / "again.xlsx", title="Demo Co — FY2025-Q4", as_of=as_of, rollup=demo_rollup, company="Demo Co"
    )
    assert again.read_bytes() == path.read_bytes()


def test_company_total_row_shows_the_company_figure_when_teams_share_deals(tmp_path):
    # two teams carrying the same deals (AdventureWorks: "Executive" and "Sales leadership" both hold every deal):
    # the company counts each deal once, so its revenue is less than the sum of the team rows
    a, b = team_report(), team_report(id="B", name="Leadership")
    rollup = {**a.summary, "members": 4, "notes": ("Company revenue counts every won deal once.",)}
    path = write_company_workbook([a, b], tmp_path / "company.xlsx", title="t", as_of=a.as_of, rollup=rollup)
    ws = openpyxl.load_workbook(path)["Company"]
    cached = openpyxl.load_workbook(path, data_only=True)["Company"]
    header = [c.value for c in ws[HEADER_ROW]]
    rev, members = header.index("Revenue (each deal once)") + 1, header.index("Members") + 1
    assert ws.cell(5, 1).value == "Company total"
    assert _cents(ws.cell(5, rev).value) == rollup["revenue"]  # the figure itself: a SUM would count the deals twice
    assert ws.cell(5, members).value == "=SUM($C$3:$C$4)" and cached.cell(5, members).value == 4
    assert ws.cell(5, header.index("Attainment") + 1).value.startswith("=IF(")  # quota and attainment still live
    # under the table (from the first column of the sheet's first printed page)
    below = [next(c.value for c in row if c.value) for row in ws.iter_rows(min_row=6) if any(c.value for c in row)]
    assert below[0] == "Company revenue counts every won deal once."
    assert "Revenue" in below[-1] and "not the sum of the team rows" in below[-1]


def test_company_workbook_refuses_mixed_currencies(tmp_path):
    with pytest.raises(ValueError, match="currencies"):
        write_company_workbook(
            [team_report(), team_report(currency="EUR", name="B")],
            tmp_path / "c.xlsx",
            title="t",
            as_of=datetime.date(2025, 6, 30),
            rollup={},
        )


# ---------------------------------------------------------------------------
# params that shape the workbook: performance.miss_below (colour bands), timezone
# ---------------------------------------------------------------------------

MISS, SHORT, MET = "FFF8D7DA", "FFFFF3CD", "FFD4EDDA"  # red, amber, green fills
_COND = re.compile(r"(>=|<)(-?[0-9.]+(?:E[-+]?[0-9]+)?)")


def _band_rules(ws):
    """Attainment colour rules of a sheet: [(range, low or None, high or None, fill)], read back."""
    out = []
    for cf in ws.conditional_formatting:
        for rule in cf.rules:
            assert rule.type == "expression" and rule.formula[0].startswith("AND(ISNUMBER("), rule.formula
            bounds = {op: float(num) for op, num in _COND.findall(rule.formula[0])}
            out.append((str(cf.sqref), bounds.get(">="), bounds.get("<"), rule.dxf.fill.bgColor.rgb))
    return out


def _band_of(value, rules):
    """The fill the rules give ``value`` (None: uncoloured, e.g. the text n/a)."""
    if not isinstance(value, (int, float)):
        return None
    hits = {fill for _, lo, hi, fill in rules if (lo is None or value >= lo) and (hi is None or value < hi)}
    assert len(hits) <= 1, (value, rules)  # bands are disjoint
    return hits.pop() if hits else None


@pytest.fixture(scope="module")
def policy_reports():
    """Demo reports built with params miss_below 0.75 (default 0.9) and timezone Europe/Berlin."""
    from reportkit.domain.loading import load_inputs
    from reportkit.reports.builders import build_report

    params, ds = load_inputs(ROOT / "params" / "demo.yaml", {"performance": {"miss_below": "0.75"}, "timezone": "Europe/Berlin"})
    build = lambda kind, rid: build_report(ds, params, kind=kind, report_id=rid, period=params.period, as_of=params.as_of)  # noqa: E731
    # AM-004: quarters at 51.8 %, 62.9 %, 94.7 %, 83.5 %: 83.5 % is a miss at 0.9 but not at 0.75
    with batch_contexts(params):
        return build("account_manager", "AM-004"), build("team", "team-north")


def test_reports_carry_the_params_miss_threshold_and_timezone(policy_reports):
    am, team = policy_reports
    assert (am.miss_below, am.timezone) == (0.75, "Europe/Berlin")
    assert (team.miss_below, team.timezone) == (0.75, "Europe/Berlin")
    assert (am_report().miss_below, am_report().timezone) == (0.9, "UTC")  # defaults = params defaults


def test_attainment_bands_use_the_params_miss_threshold(tmp_path, policy_reports):
    am, team = policy_reports
    expected = {(None, 0.75, MISS), (0.75, 1.0, SHORT), (1.0, None, MET)}
    book = openpyxl.load_workbook(write_workbook(am, tmp_path / "am.xlsx"))
    for sheet in ("Summary", "Quarterly results", "Forecast"):
        rules = _band_rules(book[sheet])
        assert {r[1:] for r in rules} == expected, sheet
    # a quarter is coloured as a miss exactly when the report calls it a miss
    cached = openpyxl.load_workbook(tmp_path / "am.xlsx", data_only=True)
    rules = _band_rules(book["Quarterly results"])
    _, rows = _rows(cached["Quarterly results"])
    missed = dict(zip(am.performance["period"], am.performance["missed"]))
    checked = 0
    for row in rows:
        period, value = row["Period"].value, row["Attainment"].value
        if period in missed and not pd.isna(missed[period]):
            assert (_band_of(value, rules) == MISS) == bool(missed[period]), (period, value)
            checked += 1
    assert checked == 4
    assert [_band_of(r["Attainment"].value, rules) for r in rows] == [MISS, MISS, SHORT, SHORT]  # 83.5 % is no miss here
    team_book = openpyxl.load_workbook(write_workbook(team, tmp_path / "team.xlsx"))
    for sheet in ("Summary", "Leaderboard", "Forecast roll-up", "Quarterly results"):
        assert {r[1:] for r in _band_rules(team_book[sheet])} == expected, sheet


def test_default_miss_threshold_keeps_the_90_percent_band(tmp_path):
    book = openpyxl.load_workbook(write_workbook(am_report(), tmp_path / "am.xlsx"))
    assert {r[1:] for r in _band_rules(book["Quarterly results"])} == {(None, 0.9, MISS), (0.9, 1.0, SHORT), (1.0, None, MET)}


def test_miss_threshold_at_or_above_quota_colours_every_miss_red(tmp_path):
    # miss_below 1.1: 105 % meets quota but is a miss, so it is red, never green
    book = openpyxl.load_workbook(write_workbook(am_report(miss_below=1.1), tmp_path / "am.xlsx"))
    rules = _band_rules(book["Quarterly results"])
    assert {r[1:] for r in rules} == {(None, 1.1, MISS), (1.1, None, MET)}
    assert [_band_of(v, rules) for v in (1.05, 1.1, 0.2, "n/a")] == [MISS, MET, MISS, None]
    # an explicit argument wins over the report's threshold; the literal reads back exactly
    book = openpyxl.load_workbook(write_workbook(am_report(miss_below=1.1), tmp_path / "x.xlsx", miss_below=0.85))
    assert {r[1:] for r in _band_rules(book["Quarterly results"])} == {(None, 0.85, MISS), (0.85, 1.0, SHORT), (1.0, None, MET)}
    assert attainment_bands(0.0) == ((None, 0.0, "#F8D7DA"), (0.0, 1.0, "#FFF3CD"), (1.0, None, "#D4EDDA"))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -0.1, True, "0.9"])
def test_invalid_miss_threshold_is_refused_before_a_file_is_written(tmp_path, bad):
    with pytest.raises(ValueError, match="miss_below"):
        write_workbook(am_report(), tmp_path / "am.xlsx", miss_below=bad)
    assert list(tmp_path.iterdir()) == []


def test_company_workbook_bands_follow_the_team_reports(tmp_path, policy_reports):
    _, team = policy_reports
    path = write_company_workbook([team], tmp_path / "company.xlsx", title="t", as_of=team.as_of, rollup=dict(team.summary))
    book = openpyxl.load_workbook(path)
    expected = {(None, 0.75, MISS), (0.75, 1.0, SHORT), (1.0, None, MET)}
    for ws in book.worksheets:
        assert {r[1:] for r in _band_rules(ws)} == expected, ws.title
    with pytest.raises(ValueError, match="miss thresholds"):
        write_company_workbook(
            [team_report(), team_report(name="B", miss_below=0.8)],
            tmp_path / "c.xlsx",
            title="t",
            as_of=datetime.date(2025, 6, 30),
            rollup={},
        )


def test_workbook_shows_timestamps_in_the_params_timezone(tmp_path, policy_reports):
    am, _ = policy_reports
    # 2025-06-30 22:30 UTC is 2025-07-01 00:30 in Berlin (summer time)
    ts = pd.Timestamp("2025-06-30 22:30", tz="UTC")
    deals = am.deals.head(1).copy()
    deals["close_date"] = pd.Series([ts], dtype="object")
    rep = dataclasses.replace(am, deals=deals)
    _, rows = _rows(openpyxl.load_workbook(write_workbook(rep, tmp_path / "berlin.xlsx"), data_only=True)["Deals"])
    assert rows[0]["Close date"].value == datetime.datetime(2025, 7, 1, 0, 30)
    _, rows = _rows(openpyxl.load_workbook(write_workbook(rep, tmp_path / "utc.xlsx", timezone="UTC"), data_only=True)["Deals"])
    assert rows[0]["Close date"].value == datetime.datetime(2025, 6, 30, 22, 30)


# ---------------------------------------------------------------------------
# the print rule: one page wide when legible, else the fewest pages wide at or above the floor
# ---------------------------------------------------------------------------


def test_a_sheet_that_fits_a_page_at_the_legibility_floor_prints_one_page_wide():
    # A4 landscape holds about 110 characters of columns at full size, 157 at 70 %
    assert print_layout([10.0] * 10).breaks == () and print_layout([10.0] * 10).scale == 1.0
    fitted = print_layout([12.0] * 11, identifying=2)  # 140 characters: fitted to the page at about 77 %
    assert fitted.breaks == () and fitted.identifying == 0 and LEGIBLE_SCALE <= fitted.scale < 1.0
    assert fitted.spans == [(0, 10)]  # the title and notes span every column


def test_a_sheet_too_wide_for_the_floor_prints_the_fewest_pages_wide_at_the_largest_legible_scale():
    wide = print_layout([13.0] * 17, identifying=2)  # 233 characters: 47 % on one page
    assert wide.pages_wide == 2 and wide.breaks == (10,) and wide.identifying == 2
    assert wide.scale == 0.78  # 79 % would push a column onto a third page
    room = page_width() * 0.98 / wide.scale  # a page's width in characters at 78 % (a column prints 13 + 0.71)
    assert room >= 10 * 13.71 and room >= (2 + 7) * 13.71  # each page's columns, the repeated two included, fit
    assert page_width() * 0.98 / 0.79 < 10 * 13.71  # at 79 % the first page holds 9 columns: three pages wide
    assert wide.spans == [(2, 9), (10, 16)]  # each page's own columns: the title is merged over each


def test_identifying_columns_wider_than_two_fifths_of_a_page_are_cut_back():
    layout = print_layout([40.0, 40.0, 12.0] + [12.0] * 15, identifying=2)
    assert layout.pages_wide > 1 and layout.identifying == 1


def test_letter_portrait_holds_fewer_columns_than_a4_landscape():
    assert round(page_width("A4", "landscape")) == 110 and round(page_width("Letter", "portrait")) == 78
    widths = [12.0] * 9  # 114 characters
    assert print_layout(widths).pages_wide == 1
    assert print_layout(widths, 1, "Letter", "portrait").pages_wide == 2


def _value_axis_floors(path) -> list[bool]:
    """For each chart of a workbook, whether its value axis is pinned to start at 0 (``<c:min val="0"/>``)."""
    with zipfile.ZipFile(path) as z:
        names = sorted(n for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n))
        return ['<c:min val="0"/>' in re.search(r"<c:valAx>.*?</c:valAx>", z.read(n).decode(), re.S).group(0) for n in names]


def test_chart_bars_start_at_zero_so_a_quarter_at_91_percent_does_not_look_half_as_tall(tmp_path, demo_reports):
    ams, teams = demo_reports
    # Alice Andersen's quarters are 133k-147k against a 160k quota: an automatic axis started at 120k
    assert _value_axis_floors(write_workbook(ams[0], tmp_path / "am.xlsx")) == [True]
    assert _value_axis_floors(write_workbook(teams[0], tmp_path / "team.xlsx")) == [True, True]


def test_a_negative_quarter_or_attainment_keeps_its_bar_below_zero_visible(tmp_path, demo_reports):
    ams, teams = demo_reports
    q = ams[0].quarterly.copy()
    q.loc[q.index[-1], "revenue"] = -79_976_334  # a quarter of returns: -799,763.34
    assert _value_axis_floors(write_workbook(dataclasses.replace(ams[0], quarterly=q), tmp_path / "am.xlsx")) == [False]
    board = teams[0].leaderboard.copy()
    board.loc[board.index[0], "attainment"] = -6.665
    team = dataclasses.replace(teams[0], leaderboard=board)
    assert _value_axis_floors(write_workbook(team, tmp_path / "team.xlsx"))[0] is False  # attainment by account manager


def test_a_company_workbook_team_sheet_names_its_team_in_the_title_when_excel_cuts_the_sheet_name(tmp_path, demo_reports):
    # two teams whose names agree in their first 31 characters: their tabs read "Enterprise Accounts North Ameri"
    # and "Enterprise Accounts North A (2)", so only the title row (on every printed page) can say which is which
    _, teams = demo_reports
    names = ["Enterprise Accounts North America: East [A]", "Enterprise Accounts North America: East [B]"]
    pair = [dataclasses.replace(t, name=n) for t, n in zip(teams[:2], names)]
    rollup = {**pair[0].summary, "notes": ()}
    path = write_company_workbook(
        pair, tmp_path / "company.xlsx", title="t", as_of=pair[0].as_of, rollup=rollup, company="Demo Co"
    )
    book = openpyxl.load_workbook(path)
    titles = {ws.title: ws["A1"].value for ws in book.worksheets[1:]}
    assert len(titles) == 2 and all(len(s) <= 31 for s in titles)
    for name in names:
        (sheet,) = [s for s, t in titles.items() if f"Company roll-up: {name} · " in t]
        assert name.startswith(sheet[:20])


def test_an_all_zero_team_chart_has_one_zero_tick_and_the_html_charts_words_for_why_it_is_empty(tmp_path):
    team = team_report()
    q = team.quarterly.assign(credited_revenue=[Decimal("0.00")] * len(team.quarterly), quota=[None] * len(team.quarterly))
    with zipfile.ZipFile(write_workbook(dataclasses.replace(team, quarterly=q), tmp_path / "team.xlsx")) as z:
        charts = [z.read(n).decode() for n in sorted(z.namelist()) if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
    quarterly = next(c for c in charts if "Quarterly credited revenue" in c)
    value_axis = re.search(r"<c:valAx>.*?</c:valAx>", quarterly, re.S).group(0)
    assert '<c:max val="1"/>' in value_axis and '<c:majorUnit val="1"/>' in value_axis  # one tick at 0: the zero line
    assert 'formatCode=";;&quot;$0&quot;"' in value_axis and "<c:majorGridlines" not in value_axis  # reading "$0", no other
    assert "no credited revenue and no quota in these periods" in quarterly  # the words of the HTML's chart
    assert "no credited revenue" not in next(c for c in charts if "Attainment by account manager" in c)
