"""Real exports are hostile: each case loads as the mapping declares, or is refused
with file, row, column, value and what to do. Fixtures: tests/fixtures/hostile/
(written by its make_fixtures.py, one file per case, named after the case)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from reportkit.core.errors import DataError, MappingError, ReportkitError
from reportkit.data.mapping import load_dataset
from reportkit.data.sources import read_excel

HOSTILE = Path(__file__).parent / "fixtures" / "hostile"


def mapping(
    tmp_path: Path,
    deals_file: str,
    *,
    source: str = "",
    table: str = "",
    columns: str = "",
    ams: str = "{file: account_managers.csv}",
    quotas: bool = True,
) -> Path:
    """A mapping over the hostile fixtures: roster + quotas + one deals file (with extras)."""
    text = f"""\
calendar: {{first_month: 1}}
currency: USD
data_dir: {HOSTILE.as_posix()}
account_managers:
  source: {ams}
  columns: {{account_manager_id: id, name: name, team: team, sales_manager: manager}}
deals:
  source: {{file: {deals_file}{(", " + source) if source else ""}}}
  columns: {{deal_id: Deal ID, account_manager_id: Rep, account_id: Client, close_date: Closed,
             amount_cents: Amount{(", " + columns) if columns else ""}}}
  constants: {{stage: won}}
{table}"""
    if quotas:
        text += """\
quotas:
  source: {file: quotas.csv}
  columns: {account_manager_id: rep, period_start: from, period_end: to, quota_cents: target}
"""
    path = tmp_path / "mapping.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(exc: DataError) -> set[tuple]:
    return {(Path(p.file).name, p.row, p.column, p.value) for p in exc.problems}


# -- encodings, headers, blank and footer rows ------------------------------------------------
def test_utf8_bom_and_quoted_headers_load(tmp_path):
    ds = load_dataset(mapping(tmp_path, "utf8_bom_quoted_headers.csv"))
    assert ds.deals["deal_id"].tolist() == ["D1"]
    assert ds.deals["account_id"].tolist() == ["Café Müller"]
    assert ds.deals["amount_cents"].tolist() == [10050]


@pytest.mark.parametrize("name,sep", [("utf16_tab.csv", '"\\t"'), ("utf16_comma.csv", "','")])
def test_utf16_exports_load_with_declared_encoding_and_separator(tmp_path, name, sep):
    ds = load_dataset(mapping(tmp_path, name, source=f"encoding: utf-16, sep: {sep}"))
    assert ds.deals["account_id"].tolist() == ["Café", "Zoë"]
    assert ds.deals["amount_cents"].tolist() == [10050, -700]
    assert ds.deals["account_manager_id"].tolist() == ["00731", "00812"]


@pytest.mark.parametrize("name,sep", [("utf16_tab.csv", 'sep: "\\t"'), ("utf16_comma.csv", "")])
def test_utf16_with_a_byte_order_mark_loads_without_declaring_the_encoding(tmp_path, name, sep):
    # the fixtures are real UTF-16 files starting FF FE: a BOM is unambiguous, so no encoding: is needed
    assert (HOSTILE / name).read_bytes()[:2] == b"\xff\xfe"
    ds = load_dataset(mapping(tmp_path, name, source=sep))
    declared = load_dataset(mapping(tmp_path, name, source=", ".join(x for x in ("encoding: utf-16", sep) if x)))
    assert ds.deals["account_id"].tolist() == ["Café", "Zoë"]
    assert ds.deals.equals(declared.deals)


@pytest.mark.parametrize("codec", ["utf-16-be", "utf-16-le", "utf-32-le", "utf-8"])
def test_a_byte_order_mark_picks_the_encoding_of_a_csv_read_as_utf8(tmp_path, codec):
    from reportkit.data.sources import read_csv

    bom = {"utf-16-be": b"\xfe\xff", "utf-16-le": b"\xff\xfe", "utf-32-le": b"\xff\xfe\x00\x00", "utf-8": b"\xef\xbb\xbf"}
    path = tmp_path / "export.csv"
    path.write_bytes(bom[codec] + "Deal ID,Client\nD1,Zoë\n".encode(codec))
    df = read_csv(path)
    assert list(df.columns[:2]) == ["Deal ID", "Client"] and df["Client"].tolist() == ["Zoë"]


def test_a_declared_encoding_is_never_second_guessed_by_a_bom(tmp_path):
    from reportkit.data.sources import read_csv

    path = tmp_path / "export.csv"
    path.write_bytes(b"\xff\xfeDeal ID\nD1\n")  # cp1252 reads FF FE as the text 'ÿþ'
    assert read_csv(path, encoding="cp1252").columns[0] == "ÿþDeal ID"


def test_cp1252_semicolon_european_export(tmp_path):
    ds = load_dataset(
        mapping(
            tmp_path,
            "cp1252_semicolon.csv",
            source="encoding: cp1252, sep: ';'",
            table="  date_format: {close_date: '%d.%m.%Y'}\n  amounts: {amount_cents: {thousands: '.', decimal: ','}}\n",
        )
    )
    assert ds.deals["account_id"].tolist() == ["Café Müller", "Señor €uro"]
    assert ds.deals["amount_cents"].tolist() == [123456, -20000]
    assert ds.deals["close_date"].dt.strftime("%Y-%m-%d").tolist() == ["2025-01-05", "2025-02-01"]


def test_blank_rows_are_skipped_and_row_numbers_stay_those_of_the_file(tmp_path):
    ds = load_dataset(mapping(tmp_path, "blank_rows.csv"))
    assert ds.deals["deal_id"].tolist() == ["D1", "D2"]
    # a bad cell after the blank rows is reported at its real row (5 in the file)
    bad = (HOSTILE / "blank_rows.csv").read_text().replace("2025-01-06", "2025-01-32")
    (tmp_path / "blank_rows.csv").write_text(bad)
    path = mapping(tmp_path, "blank_rows.csv")
    path.write_text(path.read_text().replace(HOSTILE.as_posix(), tmp_path.as_posix()))
    for f in ("account_managers.csv", "quotas.csv"):
        (tmp_path / f).write_bytes((HOSTILE / f).read_bytes())
    with pytest.raises(DataError) as exc:
        load_dataset(path)
    assert problems(exc.value) == {("blank_rows.csv", 5, "Closed", "2025-01-32")}


def test_footer_grand_total_is_data_unless_the_mapping_says_so(tmp_path):
    with pytest.raises(DataError) as exc:
        load_dataset(mapping(tmp_path, "footer_grand_total.csv"))
    rows = {(p.row, p.column) for p in exc.value.problems}
    assert (4, "Rep") in rows and (4, "Closed") in rows  # refused, at the footer's own row
    assert "footer_grand_total.csv, row 4" in str(exc.value)


def test_footer_declared_with_skip_footer_is_dropped_and_listed(tmp_path):
    ds = load_dataset(mapping(tmp_path, "footer_grand_total.csv", source="skip_footer: 1"))
    assert ds.deals["deal_id"].tolist() == ["D1", "D2"]
    assert any("footer row 4 skipped" in w and "Grand Total" in w for w in ds.warnings)


def test_footer_declared_with_drop_rows_where(tmp_path):
    ds = load_dataset(mapping(tmp_path, "footer_grand_total.csv", table="  drop_rows_where: {Deal ID: [Grand Total, Total]}\n"))
    assert ds.deals["amount_cents"].sum() == 3000
    assert any("row 4 dropped" in w for w in ds.warnings)


def test_title_rows_above_the_header_need_skip_rows(tmp_path):
    ds = load_dataset(mapping(tmp_path, "title_rows_above_header.csv", source="skip_rows: 2"))
    assert ds.deals["deal_id"].tolist() == ["D1"]
    with pytest.raises(DataError, match="skip_rows"):
        load_dataset(mapping(tmp_path, "title_rows_above_header.csv"))


# -- money as text --------------------------------------------------------------------------
def test_money_as_text_en_us_with_declared_symbol_and_accounting_negatives(tmp_path):
    ds = load_dataset(
        mapping(
            tmp_path,
            "money_as_text_en_us.csv",
            table=("  amounts: {amount_cents: {thousands: ',', symbol: '$', accounting_negatives: true}}\n"),
        )
    )
    assert ds.deals["amount_cents"].tolist() == [123450, -20000, -500, 100_000_000]


def test_money_as_text_undeclared_is_refused_with_the_declaration_to_add(tmp_path):
    with pytest.raises(DataError) as exc:
        load_dataset(mapping(tmp_path, "money_as_text_en_us.csv"))
    by_row = {p.row: p for p in exc.value.problems}
    assert set(by_row) == {2, 3, 4, 5}
    assert by_row[2].column == "Amount" and by_row[2].value == "$1,234.50"
    assert 'symbol: "$"' in by_row[2].reason and "thousands: ','" in by_row[2].reason
    assert "negative: parentheses" in by_row[3].reason


def test_money_as_text_de_de(tmp_path):
    ds = load_dataset(
        mapping(
            tmp_path,
            "money_as_text_de_de.csv",
            source="sep: ';'",
            table=("  amounts: {amount_cents: {thousands: '.', decimal: ',', symbol: '€'}}\n"),
        )
    )
    assert ds.deals["amount_cents"].tolist() == [123456, -20000, 50]


def test_german_amount_read_with_english_separators_is_refused_not_misread(tmp_path):
    with pytest.raises(DataError) as exc:
        load_dataset(
            mapping(
                tmp_path,
                "money_as_text_de_de.csv",
                source="sep: ';'",
                table="  amounts: {amount_cents: {thousands: ',', symbol: '€'}}\n",
            )
        )
    p = {p.row: p for p in exc.value.problems}
    assert p[2].value == "1.234,56 €" and "decimal: ','" in p[2].reason
    assert 4 in p  # '0,5' is not 5 and not 0.5 under thousands ','


@pytest.mark.parametrize(
    "text,spec,cents",
    [
        ("1,234.50", {"thousands": ","}, 123450),
        ("1 234,50", {"thousands": " ", "decimal": ","}, 123450),
        ("1\u00a0234,50", {"thousands": " ", "decimal": ","}, 123450),
        ("1'234.50", {"thousands": "'"}, 123450),
        ("(1,234.50)", {"thousands": ",", "accounting_negatives": True}, -123450),
        ("($5)", {"symbol": "$", "accounting_negatives": True}, -500),
        ("$-5", {"symbol": "$"}, -500),
        ("EUR 12.5", {"symbol": ["€", "EUR"]}, 1250),
        (".5", {}, 50),
        ("0.005", {}, 1),
        ("-0.005", {}, -1),
        ("0.0049999", {}, 0),
        (" +007.125 ", {}, 713),
        ("7.", {}, 700),
        ("-1234,565", {"decimal": ","}, -123457),
        ("1.2345", {"scale": 1000}, 123450),
        ("1.234565", {"scale": 1000}, 123457),
        ("-0.000005", {"scale": 1000}, -1),
        ("2.5", {"scale": "0.5"}, 125),
        ("999999999999.99", {}, 99999999999999),
        ("1000000000000", {}, 100000000000000),
    ],
)
def test_amount_forms(text, spec, cents):
    from reportkit.data.mapping import Amount
    from reportkit.data.mapping.values import _parse_amounts

    got, bad = _parse_amounts(pd.Series([text]), Amount(**spec))
    assert not bad and got.tolist() == [cents]


@pytest.mark.parametrize(
    "text,spec",
    [
        ("1,23", {"thousands": ","}),
        ("1,2345.00", {"thousands": ","}),
        ("1e3", {}),
        ("1_000", {}),
        ("12.5x", {}),
        ("(5)", {}),
        ("$5", {}),
        ("5 5", {}),
        ("--5", {}),
        ("NaN", {}),
        ("Infinity", {}),
        ("١٢", {}),
        ("", {}),
        ("99999999999999999", {}),
        ("1000000000000.01", {}),
        ("1000000000000", {"scale": 10000}),
        (".", {}),
        ("-", {}),
        ("+-5", {}),
        ("5-", {}),
    ],
)
def test_amount_texts_that_are_refused(text, spec):
    from reportkit.data.mapping import Amount
    from reportkit.data.mapping.values import _parse_amounts

    _, bad = _parse_amounts(pd.Series([text]), Amount(**spec))
    assert list(bad) == [0] and bad[0]


def test_a_column_mixing_amount_forms_converts_each_cell_and_names_only_the_bad_ones():
    from reportkit.data.mapping import Amount
    from reportkit.data.mapping.values import _parse_amounts

    texts = ["1,234.50", "12.345", None, "-0.005", "(5)", "1,234.50", "abc", "12.345"]
    got, bad = _parse_amounts(pd.Series(texts, index=range(10, 18), dtype="str"), Amount(thousands=","))
    assert got.tolist() == [123450, 1235, 0, -1, 0, 123450, 0, 1235]
    assert got.index.tolist() == list(range(10, 18)) and str(got.dtype) == "int64"
    assert sorted(bad) == [14, 16] and "negative: parentheses" in bad[14]


def test_a_date_column_parses_each_distinct_text_once_and_names_every_bad_row():
    from reportkit.data.mapping.values import _parse_dates

    texts = ["2024-01-05", "2024-02-30", None, "2300-01-01", "2024-01-05", " 2024-1-6 ", "2024-02-30", "1899-12-31"]
    got, bad = _parse_dates(pd.Series(texts, index=range(5, 13), dtype="str"), "%Y-%m-%d", False)
    assert str(got.dtype) == "datetime64[ns]" and got.index.tolist() == list(range(5, 13))
    assert got[5] == got[9] == pd.Timestamp("2024-01-05") and got[10] == pd.Timestamp("2024-01-06")
    assert got[[6, 7, 8, 11, 12]].isna().all()
    assert sorted(bad) == [6, 8, 11, 12]
    assert bad[6] == bad[11] and bad[6].startswith("not a date: day 30 does not exist in February 2024 (read as %Y-%m-%d)")
    assert "2300-01-01 is outside 1900-01-01 .. 2199-12-31" in bad[8] and "1899-12-31" in bad[12]


@pytest.mark.parametrize(
    "text,fmt,declared,reason",
    [
        ("2023-13-03", "%Y-%m-%d", False, "not a date: month 13 does not exist (read as %Y-%m-%d)"),
        ("2023-02-29", "%Y-%m-%d", False, "not a date: day 29 does not exist in February 2023 (2023 is not a leap year)"),
        ("31.04.2025", "%d.%m.%Y", True, "not a date: day 31 does not exist in April 2025 (read as %d.%m.%Y)"),
        ("2025-13-01T10:00:00", "ISO8601", True, "not a date: month 13 does not exist (read as YYYY-MM-DD)"),
    ],
)
def test_a_date_of_the_right_form_says_which_part_does_not_exist(text, fmt, declared, reason):
    from reportkit.data.mapping.values import _parse_dates

    _, bad = _parse_dates(pd.Series([text], dtype="str"), fmt, declared)
    assert bad[0].startswith(reason) and "not a date in format" not in bad[0]


@pytest.mark.parametrize(
    "fmt,texts,expected",
    [
        (
            "%Y-%m-%d %H:%M:%S",
            ["2013-11-08 00:00:00", "2013-11-08 23:59:59", "2013-11-08 24:00:00"],
            ["2013-11-08", "2013-11-08", None],
        ),
        ("%d.%m.%Y", ["31.12.2024", "29.02.2023", "1.2.2024"], ["2024-12-31", None, "2024-02-01"]),
        ("ISO8601", ["2025-01-05", "2025-01-05T10:00:00", "2025-13-01"], ["2025-01-05", "2025-01-05", None]),
    ],
)
def test_dates_in_a_declared_format_parse_as_strptime_reads_them(fmt, texts, expected):
    from reportkit.data.mapping.values import _parse_dates

    got, bad = _parse_dates(pd.Series(texts, dtype="str"), fmt, True)
    assert [None if pd.isna(v) else v.strftime("%Y-%m-%d") for v in got] == expected
    assert sorted(bad) == [i for i, e in enumerate(expected) if e is None]


def test_same_thousands_and_decimal_separator_is_a_mapping_error(tmp_path):
    with pytest.raises(MappingError, match="must differ"):
        load_dataset(
            mapping(tmp_path, "money_as_text_de_de.csv", table="  amounts: {amount_cents: {thousands: ',', decimal: ','}}\n")
        )


def test_unquoted_thousands_separator_splits_the_row_and_is_refused_at_its_row(tmp_path):
    with pytest.raises(DataError) as exc:
        load_dataset(mapping(tmp_path, "money_unquoted_thousands.csv"))
    (p,) = exc.value.problems
    assert p.file.endswith("money_unquoted_thousands.csv") and p.row == 3
    assert "6 fields but the header has 5" in p.reason


# -- ids with leading zeros ---------------------------------------------------------------------
def test_leading_zero_ids_survive_lookups_and_joins(tmp_path):
    ds = load_dataset(
        mapping(
            tmp_path,
            "leading_zero_ids.csv",
            table=("  lookups:\n    - source: {file: rep_codes.csv}\n      key: {RepCode: code}\n      columns: {am: Rep}\n"),
        )
    )
    assert ds.deals["deal_id"].tolist() == ["000123", "000124"]
    # '0042' and '042' are different codes and map to different people
    assert ds.deals["account_manager_id"].tolist() == ["00731", "00812"]


def test_xlsx_roster_keeps_text_ids_and_zero_padded_number_formats(tmp_path):
    df = read_excel(HOSTILE / "roster_leading_zeros.xlsx")
    assert df["id"].tolist() == ["00731", "00812"]
    ds = load_dataset(
        mapping(tmp_path, "utf16_comma.csv", source="encoding: utf-16", ams="{file: roster_leading_zeros.xlsx, sheet: Roster}")
    )
    assert set(ds.account_managers["account_manager_id"]) == {"00731", "00812"}
    assert ds.deals["account_manager_id"].tolist() == ["00731", "00812"]


def test_xlsx_float_cells_are_written_without_exponent(tmp_path):
    path = tmp_path / "big.xlsx"
    pd.DataFrame({"n": [1e16, 1e-05, 22.368]}).to_excel(path, index=False)
    assert read_excel(path)["n"].tolist() == ["10000000000000000", "0.00001", "22.368"]


def test_duplicate_header_names_are_refused(tmp_path):
    (tmp_path / "dup.csv").write_text("Amount,Amount\n1,2\n")
    from reportkit.data.sources import read_csv

    with pytest.raises(MappingError, match="same column twice: 'Amount' \\(columns 1 and 2\\)"):
        read_csv(tmp_path / "dup.csv")


# -- placeholders ---------------------------------------------------------------------------
def test_null_placeholders_are_text_unless_declared(tmp_path):
    with pytest.raises(DataError) as exc:
        load_dataset(mapping(tmp_path, "null_placeholders.csv", columns="product: Product"))
    (p,) = exc.value.problems  # only the amount '-' is refused; NULL / NA stay text
    assert (p.row, p.column, p.value) == (4, "Amount", "-")
    assert 'na_values: ["-"]' in p.reason


def test_null_placeholders_declared_become_missing(tmp_path):
    ds = load_dataset(
        mapping(
            tmp_path,
            "null_placeholders.csv",
            columns="product: Product",
            table='  na_values: ["NULL", "NA"]\n  drop_rows_where: {Amount: [\'-\']}\n',
        )
    )
    assert ds.deals["account_id"].tolist()[0] == "(unassigned)"  # NULL client -> unassigned
    assert pd.isna(ds.deals["product"].iloc[0])
    assert ds.deals["product"].iloc[1] == "-"  # '-' not declared missing: stays text, with a warning
    assert any("'-'" in w and "na_values" in w for w in ds.warnings)


def test_unquoted_null_in_na_values_is_explained(tmp_path):
    with pytest.raises(MappingError, match="quote each placeholder"):
        load_dataset(mapping(tmp_path, "null_placeholders.csv", table="  na_values: [NULL]\n"))


def test_a_european_amount_gets_the_whole_declaration_that_reads_it(tmp_path):
    with pytest.raises(DataError) as exc:
        load_dataset(mapping(tmp_path, "euro_amounts_decimal_comma_space_thousands.csv"))
    p = {p.row: p.reason for p in exc.value.problems}
    assert """declare decimal: ',', thousands: ' ', symbol: "€" for this column under amounts: in the mapping""" in p[2]
    assert "(it then reads '1 234,00 €' as 1234.00)" in p[2]
    assert """declare decimal: ',', symbol: "€" for this column""" in p[3] and "as 12.50" in p[3]
    declared = "  amounts: {amount_cents: {decimal: ',', thousands: ' ', symbol: '€'}}\n"
    ds = load_dataset(mapping(tmp_path, "euro_amounts_decimal_comma_space_thousands.csv", table=declared))
    assert ds.deals["amount_cents"].tolist() == [123400, 1250]  # the declaration the hint named reads them


# -- dates ----------------------------------------------------------------------------------
def test_ambiguous_dates_need_a_declared_format(tmp_path):
    with pytest.raises(DataError) as exc:
        load_dataset(mapping(tmp_path, "ambiguous_dates.csv"))
    p = {p.row: p for p in exc.value.problems}
    assert p[2].column == "Closed" and p[2].value == "03/04/2025"
    assert "ambiguous" in p[2].reason and "'%d/%m/%Y' or '%m/%d/%Y'" in p[2].reason


def test_a_date_only_one_order_can_read_gets_that_format_and_day_first_suggested(tmp_path):
    with pytest.raises(DataError) as exc:
        load_dataset(mapping(tmp_path, "dotted_dates_one_reading_each.csv"))
    p = {p.row: p.reason for p in exc.value.problems}
    assert "29 cannot be a month, so '29.01.2025' is day first: declare date_format: '%d.%m.%Y', or day_first: true" in p[2]
    assert "'%m.%d.%Y'" not in p[2]
    assert "30 cannot be a month, so '01.30.2025' is month first: declare date_format: '%m.%d.%Y', or day_first: false" in p[3]
    assert "'31.13.2025' is no day and month in either order: correct the cell" in p[4]


def test_declared_date_format_reads_them_and_a_misfit_names_its_row(tmp_path):
    ds = load_dataset(mapping(tmp_path, "ambiguous_dates.csv", table="  date_format: {close_date: '%d/%m/%Y'}\n"))
    assert ds.deals["close_date"].dt.strftime("%Y-%m-%d").tolist() == ["2025-04-03", "2025-04-13"]
    with pytest.raises(DataError) as exc:
        load_dataset(mapping(tmp_path, "ambiguous_dates.csv", table="  date_format: {close_date: '%m/%d/%Y'}\n"))
    (p,) = exc.value.problems
    assert (p.row, p.column, p.value) == (3, "Closed", "13/04/2025")


def test_guessing_date_format_mixed_is_refused(tmp_path):
    with pytest.raises(MappingError, match="'mixed' would guess"):
        load_dataset(mapping(tmp_path, "ambiguous_dates.csv", table="  date_format: {close_date: mixed}\n"))


# -- duplicates, currencies, periods, roster --------------------------------------------------
def test_duplicate_deal_id_lists_both_rows(tmp_path):
    with pytest.raises(DataError) as exc:
        load_dataset(mapping(tmp_path, "duplicate_deal_id.csv"))
    assert problems(exc.value) == {("duplicate_deal_id.csv", 2, "Deal ID", "D1"), ("duplicate_deal_id.csv", 4, "Deal ID", "D1")}
    text = str(exc.value)
    assert "also at" in text and "row 4" in text and "deduplicate: first | last" in text


@pytest.mark.parametrize("policy,kept", [("first", 1000), ("last", 3000)])
def test_duplicate_deal_id_with_a_declared_policy(tmp_path, policy, kept):
    ds = load_dataset(mapping(tmp_path, "duplicate_deal_id.csv", table=f"  deduplicate: {policy}\n"))
    d = ds.deals.set_index("deal_id")
    assert d.loc["D1", "amount_cents"] == kept and len(ds.deals) == 2
    assert any("deduplicate: " + policy in w for w in ds.warnings)


def test_identical_policy_does_not_hide_different_rows_with_the_same_id(tmp_path):
    with pytest.raises(DataError, match="duplicate deal_id 'D1'"):
        load_dataset(mapping(tmp_path, "duplicate_deal_id.csv", table="  deduplicate: identical\n"))


def test_mixed_currencies_without_rates_are_refused_naming_rows_and_currencies(tmp_path):
    with pytest.raises(DataError) as exc:
        load_dataset(mapping(tmp_path, "mixed_currencies.csv", columns="currency: Currency"))
    assert problems(exc.value) == {("mixed_currencies.csv", 3, "Currency", "EUR"), ("mixed_currencies.csv", 4, "Currency", "GBP")}
    reason = exc.value.problems[0].reason
    assert "USD: 1 row, EUR: 1 row, GBP: 1 row" in reason
    assert "filter" in reason and "convert" in reason


def test_mixed_currencies_filtered_by_the_mapping_load(tmp_path):
    ds = load_dataset(
        mapping(tmp_path, "mixed_currencies.csv", columns="currency: Currency", table="  filter: {Currency: [USD]}\n")
    )
    assert ds.deals["deal_id"].tolist() == ["D1"]


def test_deals_outside_every_quota_period_load_with_a_warning(tmp_path):
    ds = load_dataset(mapping(tmp_path, "outside_periods.csv"))
    assert len(ds.deals) == 3
    (w,) = [w for w in ds.warnings if "outside every quota period" in w]
    assert "2 of 3" in w and "D2" in w and "D3" in w and "2025-01-01 .. 2025-03-31" in w


def test_no_quota_table_means_no_period_warning(tmp_path):
    ds = load_dataset(mapping(tmp_path, "outside_periods.csv", quotas=False))
    assert ds.warnings == ()


def test_unknown_account_managers_are_summarised_once_then_each_row_then_the_fix_once(tmp_path):
    with pytest.raises(DataError) as exc:
        load_dataset(mapping(tmp_path, "unknown_account_manager.csv"))
    assert problems(exc.value) == {
        ("unknown_account_manager.csv", 3, "Rep", "731"),
        ("unknown_account_manager.csv", 4, "Rep", "09999"),
        ("unknown_account_manager.csv", 5, "Rep", "731"),
    }
    shown = str(exc.value)
    assert shown.count("3 deals rows name account managers not in the roster") == 1
    assert shown.count("'09999', '731'") == 1 and shown.count("'00731' is not '731'") == 1  # the ids, the fix: once
    lines = shown.splitlines()
    assert lines[1].startswith("3 deals rows name account managers not in the roster (") and lines[1].endswith(": '09999', '731'")
    rows = [line.split("/")[-1] for line in exc.value.message.splitlines()[2:]]
    assert rows == [
        "unknown_account_manager.csv, row 3, column 'Rep': value '731': not in the roster",
        "unknown_account_manager.csv, row 4, column 'Rep': value '09999': not in the roster",
        "unknown_account_manager.csv, row 5, column 'Rep': value '731': not in the roster",
    ]
    assert exc.value.hint.startswith("account managers not in the roster: add them to the roster or correct the ids")


@pytest.mark.parametrize(
    "deals_file, columns", [("unknown_account_manager.csv", ""), ("mixed_currencies.csv", "currency: Currency")]
)
def test_references_the_mapping_reported_are_not_checked_again_and_the_refusal_is_the_same(
    tmp_path, monkeypatch, deals_file, columns
):
    """The roster and currency checks run once (the mapping's); the data set's own check of them gave the same cells."""
    from reportkit.data import model

    with pytest.raises(DataError) as once:
        load_dataset(mapping(tmp_path, deals_file, columns=columns))
    validate = model.validate_dataset
    monkeypatch.setattr(model, "validate_dataset", lambda ds, **kw: validate(ds, **{**kw, "refs_checked": ()}))
    with pytest.raises(DataError) as twice:
        load_dataset(mapping(tmp_path, deals_file, columns=columns))
    assert once.value.problems and once.value.problems == twice.value.problems
    assert str(once.value) == str(twice.value) and once.value.hint == twice.value.hint


def test_every_refusal_is_a_reportkit_error_with_a_message(tmp_path):
    for name in (
        "footer_grand_total.csv",
        "money_as_text_en_us.csv",
        "ambiguous_dates.csv",
        "duplicate_deal_id.csv",
        "unknown_account_manager.csv",
        "utf16_tab.csv",
    ):
        with pytest.raises(ReportkitError) as exc:
            load_dataset(mapping(tmp_path, name))
        assert name in str(exc.value)


# -- mapping files: unknown keys at every level --------------------------------------------
@pytest.mark.parametrize(
    "table,message",
    [
        (
            "  amounts: {amount_cents: {thousand: ','}}\n",
            "amounts.amount_cents.thousand' is not allowed; did you mean 'thousands'",
        ),
        ("  drop_rows_were: {Deal ID: [Total]}\n", "drop_rows_were' is not allowed; did you mean 'drop_rows_where'"),
        ("  deduplicate: lastt\n", "did you mean 'last'"),
    ],
)
def test_mapping_keys_are_checked_with_did_you_mean(tmp_path, table, message):
    with pytest.raises(MappingError, match=message):
        load_dataset(mapping(tmp_path, "duplicate_deal_id.csv", table=table))


def test_unknown_source_key_is_refused(tmp_path):
    with pytest.raises(MappingError, match="skip_footers' is not allowed; did you mean 'skip_footer'"):
        load_dataset(mapping(tmp_path, "footer_grand_total.csv", source="skip_footers: 1"))
