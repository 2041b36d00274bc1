"""Readers return every cell as text, with source row numbers, and clear errors."""

from __future__ import annotations

import sqlite3
import warnings
from pathlib import Path

import pandas as pd
import pytest
from datasets import DATA

from reportkit.core.errors import MappingError
from reportkit.data.sources import SOURCE_ROW, read_csv, read_excel, read_parquet, read_source, read_sql

ROOT = Path(__file__).resolve().parents[1]
TEXT = "id,name,amount,flag\n00731,Zoë,1234.50,NA\n0042,René,-7,NULL\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_csv_in_each_encoding_reads_identical_text(tmp_path, encoding):
    path = tmp_path / f"people_{encoding}.csv"
    path.write_bytes(TEXT.encode(encoding))
    df = read_csv(path, encoding=encoding)
    assert list(df.columns) == ["id", "name", "amount", "flag", SOURCE_ROW]
    assert df["id"].tolist() == ["00731", "0042"]  # leading zeros kept
    assert df["name"].tolist() == ["Zoë", "René"]
    assert df["amount"].tolist() == ["1234.50", "-7"]  # no float guessing
    assert df["flag"].tolist() == ["NA", "NULL"]  # placeholders stay literal text
    assert df[SOURCE_ROW].tolist() == [2, 3]  # header is row 1


def test_utf8_bom_is_not_part_of_the_first_header(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(TEXT.encode("utf-8-sig"))
    assert read_csv(path, encoding="utf-8").columns[0] == "id"


def test_csv_separator_and_empty_cells(tmp_path):
    path = tmp_path / "semicolon.csv"
    path.write_text("a;b\n1;\n;x\n", encoding="utf-8")
    df = read_csv(path, sep=";")
    assert df["a"].tolist() == ["1", ""]
    assert df["b"].tolist() == ["", "x"]


def test_missing_file_names_the_file_and_suggests_a_close_name(tmp_path):
    (tmp_path / "deals.csv").write_text("a\n1\n")
    with pytest.raises(MappingError) as exc:
        read_csv(tmp_path / "deal.csv")
    assert "deal.csv" in str(exc.value) and "did you mean 'deals.csv'" in str(exc.value)
    assert "data_dir" in str(exc.value)


def test_wrong_encoding_names_the_file_and_the_fix(tmp_path):
    # a Windows 'ANSI' export read as UTF-8 (a UTF-16 file with its byte-order mark is read as UTF-16)
    path = tmp_path / "targets_ansi.csv"
    path.write_bytes("Year,Client\n2017,Café\n".encode("cp1252"))
    with pytest.raises(MappingError) as exc:
        read_csv(path, encoding="utf-8")
    msg = str(exc.value)
    assert "targets_ansi.csv" in msg and "not readable as utf-8" in msg and "cp1252" in msg and "set encoding:" in msg


def test_unknown_encoding_name_is_a_mapping_error(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a\n1\n")
    with pytest.raises(MappingError, match="unknown encoding 'utf-99'"):
        read_csv(path, encoding="utf-99")


def test_xlsx_sheet_as_text_and_missing_sheet_lists_the_sheets(tmp_path):
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        pd.DataFrame(
            {
                "Row ID": [1, 2],
                "Sales": [22.368, 10.0],
                "Customer": ["A", "B"],
                "Order Date": pd.to_datetime(["2013-11-08", "2014-01-02"]),
            }
        ).to_excel(xw, sheet_name="Orders", index=False)
        pd.DataFrame({"Person": ["Anna"], "Region": ["West"]}).to_excel(xw, sheet_name="People", index=False)
    df = read_excel(path, sheet="Orders")
    assert df["Row ID"].tolist() == ["1", "2"]
    assert df["Sales"].tolist() == ["22.368", "10"]
    assert df["Order Date"].tolist() == ["2013-11-08 00:00:00", "2014-01-02 00:00:00"]
    assert df[SOURCE_ROW].tolist() == [2, 3]
    assert read_source(path, sheet="People")["Person"].tolist() == ["Anna"]
    with pytest.raises(MappingError) as exc:
        read_excel(path, sheet="Order")
    assert "did you mean 'Orders'" in str(exc.value) and "People" in str(exc.value)


SUPERSTORE_XLS = DATA / "tableau-sample-superstore" / "Sample - Superstore.xls"


@pytest.mark.skipif(not SUPERSTORE_XLS.is_file(), reason=f"{SUPERSTORE_XLS} not found")
def test_xls_is_read_by_calamine_without_a_deprecation_warning_as_xlrd_read_it():
    """Superstore's .xls: the frame xlrd gave (sessions before 11), now without pandas' xlrd warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        orders = read_excel(SUPERSTORE_XLS, sheet="Orders")
        people = read_excel(SUPERSTORE_XLS, sheet=2)
    assert orders.shape == (9994, 22) and (orders.dtypes[:-1] == "str").all()
    first = orders.iloc[0]
    assert (first["Row ID"], first["Order ID"], first["Order Date"], first["Sales"], first["Discount"]) == (
        "1", "CA-2013-152156", "2013-11-09 00:00:00", "261.96", "0",
    )  # fmt: skip
    assert orders["Sales"].iloc[2] == "14.62" and orders["Profit"].iloc[2] == "6.8714"
    assert orders[SOURCE_ROW].iloc[-1] == 9995
    assert people["Person"].tolist() == ["Anna Andreadi", "Chuck Magee", "Kelly Williams", "Cassandra Brandow"]


def test_bad_xls_file_names_the_file_and_what_to_do(tmp_path):
    garbage = tmp_path / "export.xls"
    garbage.write_bytes(b"not a workbook")
    with pytest.raises(MappingError, match=r"export\.xls: cannot open as xls workbook") as exc:
        read_excel(garbage)
    assert "xls for Excel 97-2003, xlsx for newer files" in exc.value.hint


def test_xlsx_file_named_xls_is_refused_so_its_number_formats_are_not_lost(tmp_path):
    renamed = tmp_path / "roster.xls"
    renamed.write_bytes((ROOT / "tests" / "fixtures" / "hostile" / "roster_leading_zeros.xlsx").read_bytes())
    with pytest.raises(MappingError, match=r"roster\.xls is an xlsx workbook") as exc:
        read_excel(renamed)
    assert "rename the file to .xlsx" in exc.value.hint
    named_xlsx = renamed.rename(tmp_path / "roster.xlsx")
    assert read_excel(named_xlsx, sheet="Roster")["id"].tolist()[:2] == ["00731", "00812"]


def test_parquet_columns_become_text(tmp_path):
    path = tmp_path / "deals.parquet"
    pd.DataFrame({"id": ["007", "008"], "amount": [1.5, 2.0], "n": [3, 4]}).to_parquet(path)
    df = read_parquet(path)
    assert df["id"].tolist() == ["007", "008"]
    assert df["amount"].tolist() == ["1.5", "2"]
    assert df["n"].tolist() == ["3", "4"]


def test_sql_query_against_a_real_sqlite_file(tmp_path):
    db = tmp_path / "crm.db"
    with sqlite3.connect(db) as con:
        con.execute("create table deals (id text, amount text, closed text)")
        con.executemany("insert into deals values (?, ?, ?)", [("0001", "10.50", "2025-01-02"), ("0002", None, "2025-01-03")])
    df = read_sql(f"sqlite:///{db}", "select id, amount, closed from deals order by id")
    assert df["id"].tolist() == ["0001", "0002"]
    assert df["amount"].tolist() == ["10.50", ""]
    assert df[SOURCE_ROW].tolist() == [2, 3]


def test_failing_sql_query_names_the_url(tmp_path):
    db = tmp_path / "empty.db"
    sqlite3.connect(db).close()
    with pytest.raises(MappingError, match="query failed"):
        read_sql(f"sqlite:///{db}", "select * from no_such_table")


def test_unknown_format_lists_the_allowed_formats(tmp_path):
    with pytest.raises(MappingError, match="csv, xlsx, xls, parquet, sql"):
        read_source(tmp_path / "x.json", format="json")
    with pytest.raises(MappingError, match="cannot tell the format"):
        read_source(tmp_path / "x.json")


# The multi-threaded (pyarrow) CSV reader is used only where it gives exactly what the
# default reader gives; every other file goes to the default reader, which also words
# the errors. Each case below is read both ways.
CSV_CASES = {
    "plain": b"id,name,amount\n00731,Zo\xc3\xab,1234.50\n0042,Ren\xc3\xa9,-7\n",
    "no final newline": b"id,name\n1,a\n2,b",
    "crlf": b"id,name\r\n1,a\r\n2,b\r\n",
    "bom and quoted headers": b'\xef\xbb\xbf"Deal ID","Rep"\n"D1","007"\n',
    "quotes and padding": b'id,name\n" 1 ","a ""b"" c"\n2,b"c\n',
    "blank rows keep later row numbers": b"id,name\n1,a\n\n,\n \t, \n2,b\n",
    "line break inside a quoted value": b'id,note\n1,"two\nlines"\n2,x\n',
    "unterminated quote at the end": b'id,note\n1,a\n2,"open',
    "lone carriage return": b"id,name\r1,a\r2,b\r",
    "short row": b"id,name,x\n1,a\n2,b,c\n",
    "long row": b"id,name\n1,a,extra\n",
    "nul byte": b"id,name\n1,a\x00b\n",
    "not utf-8": b"id,name\n1,caf\xe9\n",
    "header only": b"id,name\n",
    "empty": b"",
    "blank header": b"id,,name\n1,x,a\n",
    "header names a column twice": b"id,id\n1,2\n",
}


def _read_both(path, monkeypatch, **kw):
    import reportkit.data.sources as sources

    def outcome():
        try:
            df = read_csv(path, **kw)
        except Exception as exc:
            return type(exc).__name__, str(exc), None
        return "ok", None, df

    fast = outcome()
    with monkeypatch.context() as m:
        m.setattr(sources, "_read_csv_arrow", lambda *a, **k: None)
        default = outcome()
    return fast, default


@pytest.mark.parametrize("case", list(CSV_CASES))
def test_fast_csv_reader_gives_what_the_default_reader_gives(tmp_path, monkeypatch, case):
    path = tmp_path / "deals.csv"
    path.write_bytes(CSV_CASES[case])
    (kind, msg, df), (kind0, msg0, df0) = _read_both(path, monkeypatch)
    assert (kind, msg) == (kind0, msg0)
    if df0 is not None:
        pd.testing.assert_frame_equal(df, df0)


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_plain_utf8_csv_is_read_by_the_multithreaded_reader_with_the_same_result(tmp_path, monkeypatch, sep):
    from reportkit.data.sources import _read_csv_arrow

    path = tmp_path / "deals.csv"
    path.write_text(TEXT.replace(",", sep), encoding="utf-8")
    assert _read_csv_arrow(path, sep) is not None
    (_, _, df), (_, _, df0) = _read_both(path, monkeypatch, sep=sep)
    pd.testing.assert_frame_equal(df, df0)
    assert df["id"].tolist() == ["00731", "0042"] and df[SOURCE_ROW].tolist() == [2, 3]


def test_blank_rows_skipped_by_the_fast_path_check_keep_the_row_numbers_the_file_shows(tmp_path):
    path = tmp_path / "deals.csv"
    path.write_text("id,name\n1,a\n\n , \n2,b\n", encoding="utf-8")
    df = read_csv(path)
    assert df["id"].tolist() == ["1", "2"] and df[SOURCE_ROW].tolist() == [2, 5]


def test_xlsx_number_cells_read_as_excel_shows_them_without_binary_noise(tmp_path):
    # computed cells hold doubles such as 731.9399999999999; Excel shows 15 significant digits
    path = tmp_path / "computed_sales.xlsx"
    pd.DataFrame({"sales": [731.9399999999999, 22.368000000000002, 0.1 + 0.2, 2.5439999999999996, 22.368]}).to_excel(
        path, index=False
    )
    assert read_excel(path)["sales"].tolist() == ["731.94", "22.368", "0.3", "2.544", "22.368"]


def test_parquet_decimal_column_is_read_exactly_without_exponent(tmp_path):
    from decimal import Decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "decimal_amounts.parquet"
    values = [Decimal("22.368000"), Decimal("0.000000"), Decimal("-1000.000001"), None]
    pq.write_table(pa.table({"id": ["a", "b", "c", "d"], "amount": pa.array(values, type=pa.decimal128(18, 6))}), path)
    assert read_parquet(path)["amount"].tolist() == ["22.368000", "0.000000", "-1000.000001", ""]


def test_parquet_float32_column_reads_its_own_shortest_text(tmp_path):
    import numpy as np

    path = tmp_path / "float32_amounts.parquet"
    pd.DataFrame({"amount": np.array([0.1, 22.368, 7], dtype=np.float32)}).to_parquet(path)
    assert read_parquet(path)["amount"].tolist() == ["0.1", "22.368", "7"]


def test_sql_numbers_from_the_driver_are_read_as_text_without_a_float_rounding(tmp_path):
    db = tmp_path / "computed_sales.db"
    with sqlite3.connect(db) as con:
        con.execute("create table deals (id text, amount real, n integer)")
        con.executemany("insert into deals values (?, ?, ?)", [("1", 731.9399999999999, 12), ("2", 0.005, -3)])
    df = read_sql(f"sqlite:///{db}", "select id, amount, n from deals order by id")
    assert df["amount"].tolist() == ["731.94", "0.005"]
    assert df["n"].tolist() == ["12", "-3"]


@pytest.mark.parametrize(
    "content, line, start",
    [
        (b'id,note\n1,a\n2,"open\n3,b\n', 3, '"open'),
        (b'id,note\r\n1,"two\r\nlines"\r\n2,"never closed, ""quoted""\r\n4,x\r\n', 4, '"never closed, ""quoted""'),
        (b'id;note\n1;"a;b"\n2;"c;d\n', 3, '"c;d'),
    ],
    ids=["one_line_values", "after_a_value_over_two_lines", "semicolon_separated"],
)
def test_an_unterminated_quote_names_the_physical_line_it_starts_on_and_the_fix(tmp_path, content, line, start):
    from reportkit.core.errors import DataError

    path = tmp_path / "unclosed.csv"
    path.write_bytes(content)
    with pytest.raises(DataError) as info:
        read_csv(path, sep=";" if b";" in content else ",")
    (p,) = info.value.problems
    assert (p.row, p.value) == (line, start)
    shown = str(info.value)
    assert "value None" not in shown
    assert f"a quoted value starts on line {line} and its closing quote is never found" in shown
    assert "close the quote" in shown and "check sep:" in shown


def test_blank_cells_is_the_strip_rule_for_every_code_point_on_arrow_and_python_text():
    import sys

    from reportkit.data.sources import blank_cells

    chars = [chr(i) for i in range(sys.maxunicode + 1) if not 0xD800 <= i <= 0xDFFF]
    cells = [*chars, "", None, " \t\u3000 ", " x ", "\u200b", "\x1c\x1d\xa0"]
    expected = [c is None or c.strip() == "" for c in cells]
    assert sum(expected) > 20  # the whitespace characters, the empty cell, the missing one
    for dtype in ("str", object):  # Arrow-backed text (utf8_is_space) and Python objects (str.strip)
        got = blank_cells(pd.Series(cells, dtype=dtype))
        assert got.dtype == bool
        assert got.tolist() == expected


@pytest.mark.parametrize(
    ("cells", "dtype", "order"),
    [
        (["D-001", "D-002", "D-010"], "str", 1),
        (["b", "ab", "a"], "str", -1),
        (["é", "z", "ä"], "str", 0),  # bytes: "z" < "ä" < "é", so neither ascending nor descending
        (["z", "ä", "é"], "str", 1),
        (["a", "b", "b"], "str", 0),  # a repeat is not strict
        (["a", None, "c"], "str", 0),  # a missing cell: not known in order
        (["a", "b", "c"], object, 0),  # only Arrow text is compared
        (["a"], "str", 0),
    ],
)
def test_text_in_strict_byte_order_is_told_with_its_direction(cells, dtype, order):
    from reportkit.data.sources import text_order

    assert text_order(pd.Series(cells, dtype=dtype)) == order
