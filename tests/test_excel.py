"""Excel workbooks read back with openpyxl: cents, formats, no formulas, no NaN."""

from __future__ import annotations

import datetime
import math
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from reportkit.errors import OutputError
from reportkit.excel import AM_SHEETS, TEAM_SHEETS, money_format, write_workbook
from sample_reports import FORMULA, XSS, am_report, team_report


@pytest.fixture()
def am_book(tmp_path):
    path = write_workbook(am_report(), tmp_path / "am.xlsx")
    return openpyxl.load_workbook(path)


@pytest.fixture()
def team_book(tmp_path):
    path = write_workbook(team_report(), tmp_path / "team.xlsx")
    return openpyxl.load_workbook(path)


def _rows(ws):
    header = [c.value for c in ws[1]]
    return header, [dict(zip(header, (c for c in row))) for row in ws.iter_rows(min_row=2)]


def test_sheet_names_follow_the_contract(am_book, team_book):
    assert am_book.sheetnames == ["Summary"] + [s for s, _ in AM_SHEETS]
    assert am_book.sheetnames == ["Summary", "Quarterly results", "Commission statement", "Accounts", "Forecast", "Deals"]
    assert team_book.sheetnames[:6] == [
        "Summary", "Leaderboard", "Attainment distribution", "Performance watch", "Forecast roll-up", "Commission expense",
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
        Decimal("450.01"), Decimal("0.00"),
    ]


def test_attainment_is_a_percent_number_and_nan_is_never_written(am_book):
    _, rows = _rows(am_book["Quarterly results"])
    att = [r["Attainment"] for r in rows]
    assert att[0].value == 1.0 and att[0].number_format == "0.0%"
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
    with zipfile.ZipFile(write_workbook(team_report(), tmp_path / "t.xlsx")) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets and not any(b"<f>" in z.read(n) for n in sheets)


def test_ids_stay_text(am_book, team_book):
    summary = {r[0].value: r[1].value for r in am_book["Summary"].iter_rows(min_row=2)}
    assert summary["Account manager ID"] == "00731"
    assert summary["Revenue"] == pytest.approx(9000.10) and summary["Attainment"] == pytest.approx(0.7500083333)
    _, lb = _rows(team_book["Leaderboard"])
    assert [r["Account manager ID"].value for r in lb] == ["00731", "AM-9"]


def test_header_is_frozen_filtered_and_columns_are_sized(am_book):
    ws = am_book["Accounts"]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:")
    assert ws.column_dimensions["B"].width >= len("<script>alert(1)</script>")
    assert ws["A1"].font.bold


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
