"""Workbooks are safe with any data: names, formulas-looking text, NaN, timezones, URLs, row limits."""

from __future__ import annotations

import datetime
import math
import zipfile
from decimal import Decimal
from types import SimpleNamespace

import openpyxl
import pandas as pd
import pytest
from sample_reports import am_report

import reportkit.render.excel as excel
import reportkit.render.excel.cells as excel_cells
import reportkit.render.excel.frames as excel_frames
from reportkit.core.errors import OutputError
from reportkit.render.excel import EXCEL_MAX_ROWS, EXCEL_MAX_STRING, safe_sheet_name, write_workbook

D = Decimal


@pytest.mark.parametrize(
    "name, taken, expected",
    [
        ("Deals", (), "Deals"),
        ("Q1/Q2: [West]*?\\", (), "Q1_Q2_ _West____"),
        ("x" * 40, (), "x" * 31),
        ("", (), "Sheet"),
        ("   ", (), "Sheet"),
        ("'quoted'", (), "quoted"),
        ("History", (), "History (2)"),
        ("history", (), "history (2)"),
        ("deals", ("Deals",), "deals (2)"),
        ("Deals", ("Deals", "deals (2)"), "Deals (3)"),
        ("y" * 31, ("y" * 31,), "y" * 27 + " (2)"),
        ("tab\there", (), "tab_here"),
        ("😀" * 20, (), "😀" * 15),  # 31 UTF-16 units at most
    ],
)
def test_safe_sheet_name(name, taken, expected):
    got = safe_sheet_name(name, taken)
    assert got == expected
    assert len(got.encode("utf-16-le")) // 2 <= 31
    assert got.lower() not in {t.lower() for t in taken}


def test_safe_sheet_names_are_accepted_by_excel_writers_and_deterministic(tmp_path):
    import xlsxwriter

    names = ["Team A/B", "team a_b", "History", "[x]", "'a'", "é" * 40, "Team A/B"]
    taken: list[str] = []
    for n in names:
        taken.append(safe_sheet_name(n, taken))
    assert taken == [safe_sheet_name(n, taken[:i]) for i, n in enumerate(names)]  # same inputs, same names
    wb = xlsxwriter.Workbook(str(tmp_path / "n.xlsx"))
    for t in taken:
        wb.add_worksheet(t)  # raises on any invalid or duplicate name
    wb.close()
    assert openpyxl.load_workbook(tmp_path / "n.xlsx").sheetnames == taken


HOSTILE = ["=1+1", "+SUM(A1:A9)", "-2+3", "@cmd", '=HYPERLINK("http://x","y")', "\t=1", "https://example.com/" + "a" * 3000]


HEADER_ROW = 2
"""Row 1 of every sheet is the title row (company, report, period, as-of); the column headers are row 2."""


def _cells(path, sheet):
    ws = openpyxl.load_workbook(path)[sheet]
    header = [c.value for c in ws[HEADER_ROW]]
    return header, list(ws.iter_rows(min_row=HEADER_ROW + 1))


def test_text_that_looks_like_a_formula_or_url_stays_text(tmp_path):
    accounts = pd.DataFrame({"account_id": [f"A{i}" for i in range(len(HOSTILE))], "account_name": HOSTILE})
    path = write_workbook(am_report(accounts=accounts), tmp_path / "h.xlsx")
    header, rows = _cells(path, "Accounts")
    col = header.index("Account name")
    assert [r[col].value for r in rows] == HOSTILE
    assert all(r[col].data_type == "s" and r[col].hyperlink is None for r in rows)
    book = openpyxl.load_workbook(path)
    assert not any(ws._hyperlinks for ws in book.worksheets)


def test_over_long_text_is_marked_not_silently_cut(tmp_path):
    accounts = pd.DataFrame({"account_id": ["A"], "account_name": ["x" * (EXCEL_MAX_STRING + 10)]})
    path = write_workbook(am_report(accounts=accounts), tmp_path / "long.xlsx")
    _, rows = _cells(path, "Accounts")
    v = rows[0][1].value
    assert len(v) == EXCEL_MAX_STRING and v.endswith("[truncated by reportkit: Excel holds at most 32,767 characters]")


def test_nan_and_inf_never_reach_a_cell(tmp_path):
    q = am_report().quarterly.copy()
    q["attainment"] = [math.inf, -math.inf, math.nan, None]
    q["revenue"] = [D("NaN"), D("Infinity"), None, D("1.00")]
    q["growth_vs_last_year"] = [float("nan")] * 4
    path = write_workbook(am_report(quarterly=q), tmp_path / "nan.xlsx")
    for data_only in (False, True):
        for ws in openpyxl.load_workbook(path, data_only=data_only).worksheets:
            for row in ws.iter_rows():
                for c in row:
                    assert not (isinstance(c.value, float) and not math.isfinite(c.value)), (ws.title, c.coordinate)
                    assert c.data_type != "e", (ws.title, c.coordinate)
    rows = list(openpyxl.load_workbook(path, data_only=True)["Quarterly results"].iter_rows(min_row=HEADER_ROW + 1))
    assert [r[5].value for r in rows] == ["n/a"] * 4


def test_timezone_aware_timestamps_are_converted_to_the_report_timezone(tmp_path):
    # 2025-06-30 23:30 in New York is 2025-07-01 03:30 UTC
    ts = pd.Timestamp("2025-06-30 23:30", tz="America/New_York")
    deals = am_report().deals.copy()
    deals["close_date"] = pd.Series([ts, ts.tz_convert("UTC")], dtype="object")
    ny = write_workbook(am_report(deals=deals), tmp_path / "ny.xlsx", timezone="America/New_York")
    utc = write_workbook(am_report(deals=deals), tmp_path / "utc.xlsx")
    _, rows = _cells(ny, "Deals")
    assert [r[3].value for r in rows] == [datetime.datetime(2025, 6, 30, 23, 30)] * 2
    assert rows[0][3].number_format == "yyyy-mm-dd hh:mm"
    _, rows = _cells(utc, "Deals")
    assert [r[3].value for r in rows] == [datetime.datetime(2025, 7, 1, 3, 30)] * 2
    # a whole date column of aware midnights stays on its day and shows as a date
    deals["close_date"] = pd.to_datetime(["2025-06-20", "2025-02-01"]).tz_localize("Europe/Berlin")
    path = write_workbook(am_report(deals=deals), tmp_path / "berlin.xlsx", timezone="Europe/Berlin")
    _, rows = _cells(path, "Deals")
    assert [r[3].value.date() for r in rows] == [datetime.date(2025, 6, 20), datetime.date(2025, 2, 1)]
    assert rows[0][3].number_format == "yyyy-mm-dd"
    with pytest.raises(ValueError, match="unknown timezone"):
        write_workbook(am_report(), tmp_path / "x.xlsx", timezone="Mars/Olympus")


def test_dates_excel_cannot_hold_are_iso_text(tmp_path):
    deals = am_report().deals.copy()
    deals["close_date"] = pd.Series([datetime.date(1899, 1, 1), datetime.date(2025, 1, 2)], dtype="object")
    path = write_workbook(am_report(deals=deals), tmp_path / "old.xlsx")
    _, rows = _cells(path, "Deals")
    assert rows[0][3].value == "1899-01-01" and rows[1][3].value == datetime.datetime(2025, 1, 2)


DAYS = [
    datetime.date(2024, 2, 29),
    None,
    datetime.date(1900, 3, 1),
    datetime.date(1900, 2, 28),
    datetime.date(1850, 1, 1),
    datetime.date(2262, 4, 11),
]
"""Days pandas reads at any version this package supports (within its nanosecond bounds), and two Excel cannot hold."""


def test_a_column_of_calendar_days_converts_as_pandas_reads_it():
    tz, fmt = datetime.UTC, SimpleNamespace(date="date format", datetime="datetime format")
    midnight = pd.Timestamp("2025-01-02")  # not a plain day: the column goes pandas' way
    assert excel_cells._convert(DAYS, "date", tz, fmt) == excel_cells._convert([*DAYS, midnight], "date", tz, fmt)[:-1]
    assert excel_cells._convert(DAYS, "date", tz, fmt)[:4] == [45351.0, None, 61.0, "1900-02-28"]
    assert excel_cells._convert([datetime.date(9999, 12, 31)], "date", tz, fmt) == [2958465.0]  # Excel's last day
    assert not excel_frames._has_time(pd.Series(DAYS, dtype="object"))
    assert excel_frames._has_time(pd.Series([*DAYS, pd.Timestamp("2025-01-02 13:30")], dtype="object"))


@pytest.mark.parametrize("dtype", ["object", "str"])
def test_a_text_columns_width_counts_characters_as_pandas_does(dtype):
    texts = ["é😀x", None, "", "a longer text\nwith a break", "  "]
    plain = pd.Series(texts, dtype=dtype)
    assert excel_frames._longest_text(plain) == len("a longer text\nwith a break")
    mixed = pd.Series([*texts, 7], dtype="object")  # not all text: the column goes pandas' way
    assert excel_frames._longest_text(plain) == excel_frames._longest_text(mixed)
    assert excel_frames._longest_text(pd.Series([None, None], dtype=dtype)) == 0


def _many_deals(n):
    return pd.DataFrame(
        {
            "deal_id": [f"D{i:06d}" for i in range(n)],
            "account_id": ["A"] * n,
            "account_name": ["=cmd"] * n,
            "close_date": pd.Series([datetime.date(2025, 6, 1 + i % 28) for i in range(n)], dtype="object"),
            "amount": pd.Series([D(i) / 100 for i in range(n)], dtype="object"),
            "stage": ["won"] * n,
            "product": [None if i % 3 == 0 else "P" for i in range(n)],
        }
    )


def test_rows_beyond_a_sheet_continue_on_numbered_sheets(tmp_path, monkeypatch):
    assert EXCEL_MAX_ROWS == 1_048_576
    monkeypatch.setattr(excel_frames, "_MAX_DATA_ROWS", 10)
    deals = _many_deals(25)
    path = write_workbook(am_report(deals=deals), tmp_path / "split.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[-3:] == ["Deals", "Deals (2)", "Deals (3)"]
    got = [r[0].value for s in ("Deals", "Deals (2)", "Deals (3)") for r in book[s].iter_rows(min_row=HEADER_ROW + 1)]
    assert got == list(deals["deal_id"])  # nothing cut, order kept
    assert all(book[s]["A2"].value == "Deal ID" for s in ("Deals", "Deals (2)", "Deals (3)"))
    assert all(book[s]["A1"].value == book["Summary"]["A1"].value for s in ("Deals (2)", "Deals (3)"))  # the title row too
    # a total row sums across the parts
    lines = pd.DataFrame({"line": range(1, 16), "description": ["x"] * 15, "amount": [D("1.00")] * 15})
    path = write_workbook(
        am_report(commission=lines, summary={**am_report().summary, "commission_total": D("15.00")}), tmp_path / "c.xlsx"
    )
    ws = openpyxl.load_workbook(path)["Commission statement (2)"]
    # 10 rows a sheet less the title row (and the total row on the last part): 8 + 7 lines
    assert ws.cell(ws.max_row, 3).value == "=SUM('Commission statement'!$C$3:$C$10,$C$3:$C$9)"
    with pytest.raises(OutputError, match="an Excel sheet holds 9 below its header"):
        write_workbook(am_report(deals=deals), tmp_path / "refused.xlsx", overflow="error")
    assert not (tmp_path / "refused.xlsx").exists()


def test_constant_memory_mode_writes_every_cell(tmp_path):
    deals = _many_deals(3000)
    path = write_workbook(am_report(deals=deals), tmp_path / "cm.xlsx", constant_memory=True)
    book = openpyxl.load_workbook(path)
    ws = book["Deals"]
    rows = list(ws.iter_rows(min_row=HEADER_ROW + 1, values_only=True))
    assert len(rows) == 3000
    for (did, _, name, date, amount, stage, product), exp in zip(rows, deals.itertuples(index=False)):
        assert (did, name, date.date(), Decimal(repr(amount)).quantize(D("0.01")), stage, product) == (
            exp.deal_id,
            exp.account_name,
            exp.close_date,
            exp.amount,
            exp.stage,
            None if pd.isna(exp.product) else exp.product,
        )
    assert not any(w.tables for w in book.worksheets)  # tables are not possible in that mode: autofilters instead
    assert book["Quarterly results"].auto_filter.ref == "A2:H6"
    cached = openpyxl.load_workbook(path, data_only=True)["Commission statement"]
    assert Decimal(repr(cached.cell(cached.max_row, 5).value)).quantize(D("0.01")) == D("450.01")


def test_large_frames_switch_to_constant_memory_automatically(tmp_path, monkeypatch):
    monkeypatch.setattr(excel, "CONSTANT_MEMORY_ROWS", 100)
    path = write_workbook(am_report(deals=_many_deals(150)), tmp_path / "auto.xlsx")
    book = openpyxl.load_workbook(path)
    assert not any(w.tables for w in book.worksheets)
    assert book["Deals"].max_row == 152  # title, header, 150 deals


def test_constant_memory_stream_escapes_text_like_xlsxwriter(tmp_path, monkeypatch):
    odd = [" lead", "trail ", "a & b < c > d", "ctl\x01x", "_x0041_", "ünï😀", "n/a", "=1+1"]
    deals = _many_deals(len(odd)).assign(account_name=odd)
    fast = write_workbook(am_report(deals=deals), tmp_path / "fast.xlsx", constant_memory=True)
    monkeypatch.setattr(excel_frames, "_can_stream", lambda ws: False)  # xlsxwriter's own constant-memory writer
    slow = write_workbook(am_report(deals=deals), tmp_path / "slow.xlsx", constant_memory=True)
    a = list(openpyxl.load_workbook(fast)["Deals"].iter_rows(values_only=True))
    b = list(openpyxl.load_workbook(slow)["Deals"].iter_rows(values_only=True))
    assert a == b
    with zipfile.ZipFile(fast) as z1, zipfile.ZipFile(slow) as z2:
        assert z1.read("xl/worksheets/sheet6.xml") == z2.read("xl/worksheets/sheet6.xml")  # byte-identical Deals XML
    assert [r[2] for r in a[HEADER_ROW:]][:3] == [" lead", "trail ", "a & b < c > d"]
