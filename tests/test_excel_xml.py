"""The workbook's faster sheet writer (render/excel/book._Sheet) writes the bytes xlsxwriter's own writer writes.

Each case writes one report twice: with reportkit's sheets (rows stored at once, cell XML
written directly) and with xlsxwriter's plain ``Worksheet`` (every cell through
``write_number`` / ``write_string`` and xlsxwriter's ``_write_rows``), and compares every
part of the two files byte for byte. A difference in any cell's value, type, style index,
shared-string index, row span or sheet dimension shows as a different part.
"""

from __future__ import annotations

import datetime
import zipfile
from decimal import Decimal

import pandas as pd
import pytest
from sample_reports import am_report, team_report
from xlsxwriter.worksheet import Worksheet

import reportkit.render.excel.book as excel_book
from reportkit.render.excel import write_workbook

D = Decimal

ODD_TEXT = [
    " lead",
    "trail ",
    "a & b < c > d \" '",
    "ctl\x01x",
    "_x0041_",
    "ünï😀",
    "n/a",
    "=1+1",
    "line\nbreak",
    "y" * 20_000,  # past half of Excel's limit: xlsxwriter's own length check
    "😀" * 17_000,  # within 32,767 characters but not within 32,767 UTF-16 units: xlsxwriter cuts it
]


def _odd_accounts() -> pd.DataFrame:
    n = len(ODD_TEXT)
    return pd.DataFrame(
        {
            "account_id": [None if i == 2 else f"A{i}" for i in range(n)],  # a blank first cell: the row's span starts later
            "account_name": ODD_TEXT,
            "revenue_period": pd.Series([D("1.10"), None, D("NaN"), D("-0.01")] + [D(i) for i in range(n - 4)], dtype="object"),
            "last_order_date": pd.Series(
                [datetime.datetime(2025, 6, 1, 13, 30), None, pd.Timestamp("1899-01-01")]
                + [datetime.date(2025, 6, 1 + i) for i in range(n - 3)],
                dtype="object",
            ),
            "win_rate": [float("nan"), 0.5, 1.0, float("inf")] + [i / n for i in range(n - 4)],
            "status_rule": ["a rule long enough to wrap in its cell over several lines of a printed page"] * n,
        }
    )


def _parts(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def _both(tmp_path, monkeypatch, report, **kw) -> tuple[dict[str, bytes], dict[str, bytes]]:
    fast = write_workbook(report, tmp_path / "fast.xlsx", **kw)
    monkeypatch.setattr(excel_book, "_Sheet", Worksheet)  # xlsxwriter's own sheet: the reference
    plain = write_workbook(report, tmp_path / "plain.xlsx", **kw)
    monkeypatch.undo()
    return _parts(fast), _parts(plain)


@pytest.mark.parametrize("constant_memory", [False, True], ids=["in-memory", "constant-memory"])
@pytest.mark.parametrize(
    "report",
    [am_report, lambda: am_report(accounts=_odd_accounts()), team_report],
    ids=["account-manager", "odd-cells", "team"],
)
def test_every_part_of_the_workbook_is_the_bytes_xlsxwriter_writes(tmp_path, monkeypatch, report, constant_memory):
    fast, plain = _both(tmp_path, monkeypatch, report(), constant_memory=constant_memory)
    assert list(fast) == list(plain)
    different = [name for name in fast if fast[name] != plain[name]]
    assert different == []
    assert any(name.startswith("xl/worksheets/sheet") for name in fast)


def test_the_demo_reports_workbooks_are_the_bytes_xlsxwriter_writes(tmp_path, monkeypatch):
    from pathlib import Path

    from batch_contexts import batch_contexts

    from reportkit.reports.builders import build_report, plan_reports
    from reportkit.run.batch import load_batch_inputs

    params, ds = load_batch_inputs(Path(__file__).resolve().parents[1] / "params" / "demo.yaml")
    specs = [s for s in plan_reports(ds, params) if s.kind in ("account_manager", "team")][::4]
    with batch_contexts(params):
        reports = [build_report(ds, params, kind=s.kind, report_id=s.id, period=params.period, as_of=params.as_of) for s in specs]
    assert {r.kind for r in reports} == {"account_manager", "team"}
    assert any(getattr(r, "commission_trace", None) is not None for r in reports)  # a Trace sheet among them
    for report in reports:
        fast, plain = _both(tmp_path, monkeypatch, report)
        assert [n for n in fast if fast[n] != plain[n]] == [], report.name


@pytest.mark.parametrize(
    "report",
    [am_report, lambda: am_report(accounts=_odd_accounts()), team_report],
    ids=["account-manager", "odd-cells", "team"],
)
def test_a_workbook_with_its_parts_in_memory_is_the_bytes_of_xlsxwriters_temporary_files(tmp_path, monkeypatch, report):
    import reportkit.render.excel as excel

    assert excel_book.PARTS_IN_MEMORY  # this xlsxwriter's _store_workbook takes the dated entries
    made = []
    init = excel_book._PartsInMemory.__init__

    def counted(self, *args):
        made.append(1)
        init(self, *args)

    monkeypatch.setattr(excel_book._PartsInMemory, "__init__", counted)
    rep = report()
    in_memory = write_workbook(rep, tmp_path / "memory.xlsx")
    assert made == [1]
    monkeypatch.setattr(excel, "PARTS_IN_MEMORY_ROWS", -1)  # every workbook through xlsxwriter's temporary files
    files = write_workbook(rep, tmp_path / "files.xlsx")
    assert made == [1]
    assert in_memory.read_bytes() == files.read_bytes()  # the zip's entries too: dates, modes, sizes
    with zipfile.ZipFile(in_memory) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 31, 0, 0, 0)}


FORMULAS = [
    "=SUM(A1:A9)",
    '=IF(B2=0,"n/a",A2/B2)',
    "=SUM('Deals (2)'!$E$3:$E$9,Deals!$E$3:$E$9)",
    "=A1+B1",
    "{=SUM(A1:A3*B1:B3)}",
    "=FILTER(A1:A9,B1:B9)",  # dynamic-array functions: xlsxwriter's rewriting
    "=SUM(SORT(A1:A9))",
    "=A1+SORT(B1:B9)",
    "=ISINGLE(A1)",
    "=_xlfn.SORT(A1)",
    "=SUM('SORT(x)'!A1)",
    "=STDEV.S(A1:A9)",
]


@pytest.mark.parametrize("future", [False, True], ids=["plain", "future-functions"])
@pytest.mark.parametrize("formula", FORMULAS)
def test_a_formula_is_prepared_as_xlsxwriter_prepares_it(tmp_path, formula, future):
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(tmp_path / "f.xlsx"), {"use_future_functions": future})
    ours, theirs = wb.add_worksheet(worksheet_class=excel_book._Sheet), wb.add_worksheet()
    assert ours._prepare_formula(formula) == theirs._prepare_formula(formula)
    assert ours._prepare_formula(formula, True) == theirs._prepare_formula(formula, True)
    wb.close()


def _rows_at_once(path, sheet_class, after) -> dict[str, bytes]:
    """Rows of numbers, text, n/a, dates and blanks stored by ``put_rows`` (reportkit's sheet) or cell by cell
    (xlsxwriter's), then ``after(workbook, sheet)``: every part of the file."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False})
    money, text, na, date = (
        wb.add_format(p) for p in ({"num_format": "0.00"}, {"text_wrap": True}, {"align": "right"}, {"num_format": "yyyy-mm-dd"})
    )
    wb.set_properties({"created": datetime.datetime(2025, 1, 1)})  # the same file twice
    ws = wb.add_worksheet(worksheet_class=sheet_class)
    ws.write_string(0, 0, "header", wb.add_format({"bold": True}))
    columns = [
        [1.5, None, "n/a", 2.0, None],
        ["b", "a", None, "b", None],
        [(45000.0, date), None, None, (45001.5, date), None],
        [None, None, None, -0.1, None],
    ]
    number, texts, nas = [money] * 4, [text] * 4, [na] * 4
    ws.set_row(5, 30)  # an empty row with a height
    if sheet_class is excel_book._Sheet:
        assert ws.put_rows(1, columns, number, texts, nas, "n/a")
    else:
        for i, row in enumerate(zip(*columns)):
            for j, v in enumerate(row):
                if type(v) is float:
                    ws.write_number(1 + i, j, v, number[j])
                elif type(v) is str:
                    ws.write_string(1 + i, j, v, nas[j] if v == "n/a" else texts[j])
                elif type(v) is tuple:
                    ws.write_number(1 + i, j, v[0], v[1])
    after(wb, ws)
    wb.close()
    return _parts(path)


def _formula_over_a_stored_cell(wb, ws):
    ws.write_formula(2, 0, "=A2*2", wb.add_format({"italic": True}), 3.0)


def _formulas_right_of_stored_cells(wb, ws):  # the Trace sheet's line =SUM: the rows stay stored at once
    ws.write_formula(2, 5, "=SUM(A2:A3)", wb.add_format({"italic": True}), 3.0)
    ws.write_number(4, 4, 1.0, wb.add_format({"num_format": "0.0"}))
    ws.write_formula(3, 5, "=A4", None, 1.0)  # no format: the rows become xlsxwriter's cells


def _chart_of_stored_cells(wb, ws):
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"values": "=Sheet1!$D$2:$D$5", "categories": "=Sheet1!$B$2:$B$5"})
    ws.insert_chart("F2", chart)


def _comment_on_a_stored_row(wb, ws):
    ws.write_comment(3, 1, "a note")


@pytest.mark.parametrize(
    "after",
    [
        lambda wb, ws: None,
        _formula_over_a_stored_cell,
        _formulas_right_of_stored_cells,
        lambda wb, ws: ws.write_formula(2, 5, "=SUM(A2:A3)", wb.add_format({"italic": True}), 3.0),
        _chart_of_stored_cells,
        _comment_on_a_stored_row,
    ],
    ids=[
        "alone",
        "formula-written-over-a-stored-cell",
        "cells-right-of-stored-cells-one-without-a-format",
        "a-formula-right-of-stored-cells",
        "chart-of-stored-cells",
        "comment-on-a-stored-row",
    ],
)
def test_rows_stored_at_once_are_the_bytes_xlsxwriter_writes_cell_by_cell(tmp_path, after):
    ours = _rows_at_once(tmp_path / "ours.xlsx", excel_book._Sheet, after)
    theirs = _rows_at_once(tmp_path / "theirs.xlsx", Worksheet, after)
    assert list(ours) == list(theirs)
    assert [name for name in ours if ours[name] != theirs[name]] == []


def test_rows_are_stored_one_at_a_time_where_a_cell_was_written_before(tmp_path):
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(tmp_path / "w.xlsx"))
    ws = wb.add_worksheet(worksheet_class=excel_book._Sheet)
    f = wb.add_format({"bold": True})
    ws.write_number(2, 0, 1.0, f)
    assert not ws.put_rows(1, [[1.0, 2.0]], [f], [f], [f], "n/a")  # row 2 already has a cell: put_row's order of writes
    assert ws.put_rows(3, [[1.0, 2.0]], [f], [f], [f], "n/a")
    assert not ws.put_rows(4, [[1.0]], [f], [f], [f], "n/a")  # within the rows just stored
    assert not ws.put_rows(6, [["x" * 20_000]], [f], [f], [f], "n/a")  # text xlsxwriter may cut
    wb.close()
