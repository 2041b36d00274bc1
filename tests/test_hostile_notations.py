"""Hostile input, round two (issue #19 items 1-3): timestamps with a UTC offset are dated
in the mapping's business time zone, a date column reads an ordered list of formats and
ISO 8601 and refuses what two formats read differently, and accounting money notations
load exactly when declared and are refused with their row when not.

Fixtures: tests/fixtures/hostile/ (written by its make_fixtures.py, named after the case).
The mapping helper is the hostile suite's (tests/test_hostile_inputs.py)."""

from __future__ import annotations

import datetime
import zoneinfo
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reportkit as rk
from reportkit.core.errors import DataError, MappingError
from reportkit.data.mapping import Amount
from reportkit.data.mapping.values import _parse_exact, read_dates

HOSTILE = Path(__file__).parent / "fixtures" / "hostile"


def mapping(tmp_path: Path, deals_file: str, *, top: str = "", source: str = "", table: str = "") -> Path:
    """A mapping over the hostile fixtures (roster + one deals file), with extra top-level and table keys."""
    text = f"""\
currency: USD
data_dir: {HOSTILE.as_posix()}
{top}
account_managers:
  source: {{file: account_managers.csv}}
  columns: {{account_manager_id: id, name: name, team: team, sales_manager: manager}}
deals:
  source: {{file: {deals_file}{(", " + source) if source else ""}}}
  columns: {{deal_id: Deal ID, account_manager_id: Rep, account_id: Client, close_date: Closed, amount_cents: Amount}}
  constants: {{stage: won}}
{table}"""
    path = tmp_path / "mapping.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def close_dates(ds) -> dict[str, str]:
    return dict(zip(ds.deals["deal_id"], ds.deals["close_date"].dt.strftime("%Y-%m-%d")))


def quarters(ds) -> dict[str, str]:
    return {d: ds.calendar.period_of(datetime.date.fromisoformat(v), "quarter").label for d, v in close_dates(ds).items()}


# -- 1. time zones ----------------------------------------------------------------------------
# By hand, 2024-03-31 (US daylight time since 10 March, EU summer time since 01:00 UTC that day):
#   D1 23:30-05:00 = 04:30Z 1 April: New York (EDT, -4) 00:30 1 April; Berlin (CEST, +2) 06:30 1 April;
#      Chicago (CDT, -5) 23:30 31 March. -05:00 is not New York's offset that day.
#   D2 23:30 without an offset: 31 March everywhere.
#   D3 22:00Z: New York 18:00 31 March; Berlin 00:00 1 April; Chicago 17:00 31 March.
#   D4 23:30-04:00 (a New York clock) = 03:30Z 1 April: New York 23:30 31 March; Berlin 05:30 1 April.
@pytest.mark.parametrize(
    "tz,expected",
    [
        ("America/New_York", {"D1": "FY2024-Q2", "D2": "FY2024-Q1", "D3": "FY2024-Q1", "D4": "FY2024-Q1"}),
        ("Europe/Berlin", {"D1": "FY2024-Q2", "D2": "FY2024-Q1", "D3": "FY2024-Q2", "D4": "FY2024-Q2"}),
        ("America/Chicago", {"D1": "FY2024-Q1", "D2": "FY2024-Q1", "D3": "FY2024-Q1", "D4": "FY2024-Q1"}),
    ],
)
def test_a_close_at_quarter_end_with_an_offset_lands_in_the_quarter_of_the_business_time_zone(tmp_path, tz, expected):
    ds = rk.load_dataset(mapping(tmp_path, "close_dates_with_utc_offsets.csv", top=f"timezone: {tz}"))
    assert quarters(ds) == expected
    assert close_dates(ds)["D2"] == "2024-03-31"  # naive: the written date


def test_dates_moved_by_the_time_zone_are_listed_in_the_warnings_with_their_rows(tmp_path):
    ds = rk.load_dataset(mapping(tmp_path, "close_dates_with_utc_offsets.csv", top="timezone: Europe/Berlin"))
    (rule,) = [w for w in ds.warnings if w.startswith("Timestamps written with a UTC offset are dated in Europe/Berlin")]
    assert "without an offset keep their written date" in rule
    (detail,) = [w for w in ds.warnings if w.startswith("deals.close_date")]
    assert "3 timestamps with a UTC offset" in detail and "3 of them fall on another day" in detail
    assert "row 2 '2024-03-31T23:30-05:00' -> 2024-04-01" in detail and "row 4 '2024-03-31T22:00:00Z' -> 2024-04-01" in detail


def test_a_timestamp_with_an_offset_and_no_declared_time_zone_is_refused_with_every_row(tmp_path):
    with pytest.raises(DataError) as exc:
        rk.load_dataset(mapping(tmp_path, "close_dates_with_utc_offsets.csv"))
    rows = {p.row: p for p in exc.value.problems}
    assert set(rows) == {2, 4, 5}  # row 3 has no offset
    assert rows[2].column == "Closed" and rows[2].value == "2024-03-31T23:30-05:00"
    assert "timezone:" in rows[2].reason and "America/New_York" in rows[2].reason and "UTC offset" in rows[2].reason


@pytest.mark.parametrize(
    "tz,hint",
    [("Europe/berlin", "did you mean 'Europe/Berlin'"), ("America/NewYork", "did you mean 'America/New_York'"), ("CET+1", "")],
)
def test_a_time_zone_that_is_no_iana_name_is_refused_with_a_did_you_mean(tmp_path, tz, hint):
    with pytest.raises(MappingError) as exc:
        rk.load_dataset(mapping(tmp_path, "close_dates_with_utc_offsets.csv", top=f"timezone: {tz}"))
    text = str(exc.value)
    assert "mapping.yaml, line 3" in text and "timezone" in text and tz in text and hint in text


def test_every_report_states_the_time_zone_rule_in_its_notes(tmp_path):
    from reportkit.config.params import BatchParams

    ds = rk.load_dataset(mapping(tmp_path, "close_dates_with_utc_offsets.csv", top="timezone: America/New_York"))
    params = BatchParams.model_validate({"source": "x.yaml", "period": "FY2024-Q1", "as_of": datetime.date(2024, 3, 31)})
    for report in (
        rk.build_account_manager_report(ds, "00731", "FY2024-Q1", params, datetime.date(2024, 3, 31)),
        rk.build_team_report(ds, "North", "FY2024-Q1", params, datetime.date(2024, 3, 31)),
    ):
        assert any(n.startswith("Timestamps written with a UTC offset are dated in America/New_York") for n in report.notes)
        assert not any("row 2" in n for n in report.notes)  # the rows (other managers' too) stay in the load's warnings


@pytest.mark.parametrize(
    "tz,q1_close", [("UTC", "2024-03-31"), ("Asia/Tokyo", "2024-04-01"), ("America/Los_Angeles", "2024-03-31")]
)
def test_a_parquet_timestamp_column_in_utc_is_dated_in_the_business_time_zone(tmp_path, tz, q1_close):
    # 2024-03-31 23:30 UTC: Tokyo (+9) 08:30 on 1 April; Los Angeles (PDT, -7) 16:30 on 31 March
    ds = rk.load_dataset(mapping(tmp_path, "close_timestamps_utc.parquet", top=f"timezone: {tz}"))
    assert close_dates(ds) == {"D1": q1_close, "D2": "2024-06-30"}  # 12:00 UTC is 30 June in all three


def test_a_source_without_offsets_gives_no_time_zone_note(tmp_path):
    ds = rk.load_dataset(
        mapping(tmp_path, "dates_in_three_formats.csv", top="timezone: Europe/Berlin", table="  day_first: true\n")
    )
    assert not [w for w in ds.warnings if "UTC offset" in w]


@settings(max_examples=200, deadline=None)
@given(
    instant=st.datetimes(min_value=datetime.datetime(1990, 1, 1), max_value=datetime.datetime(2100, 1, 1)),
    offset_min=st.integers(-14 * 60, 14 * 60),
    tz=st.sampled_from(["UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "Pacific/Kiritimati", "America/St_Johns"]),
    z=st.booleans(),
)
def test_an_offset_timestamp_is_dated_where_the_business_time_zone_sees_that_instant(instant, offset_min, tz, z):
    written = instant.replace(tzinfo=datetime.timezone(datetime.timedelta(minutes=0 if z else offset_min)))
    text = written.strftime("%Y-%m-%dT%H:%M:%S") + ("Z" if z else written.strftime("%z")[:3] + ":" + written.strftime("%z")[3:])
    got = read_dates(pd.Series([text]), ["%Y-%m-%d"], False, tz)
    assert not got.bad and got.values[0] == pd.Timestamp(written.astimezone(zoneinfo.ZoneInfo(tz)).date())


# -- 2. several date formats in one column -----------------------------------------------------
@pytest.mark.parametrize(
    "table", ["  date_format: {close_date: ['%d.%m.%Y', '%d/%m/%Y']}\n", "  day_first: true\n"], ids=["listed", "day_first"]
)
def test_a_column_mixing_day_first_formats_and_iso_loads_each_date(tmp_path, table):
    ds = rk.load_dataset(mapping(tmp_path, "dates_in_three_formats.csv", table=table))
    assert close_dates(ds) == {"D1": "2024-01-29", "D2": "2024-02-13", "D3": "2024-03-05"}


def test_a_date_two_listed_formats_read_differently_is_refused_with_every_such_row(tmp_path):
    with pytest.raises(DataError) as exc:
        rk.load_dataset(
            mapping(tmp_path, "dates_read_two_ways.csv", table="  date_format: {close_date: ['%d/%m/%Y', '%m/%d/%Y']}\n")
        )
    rows = {p.row: p for p in exc.value.problems}
    assert set(rows) == {2, 5}  # 13/04 and 04/13 are read by one format each
    assert rows[2].value == "03/04/2024" and rows[2].column == "Closed"
    assert "%d/%m/%Y reads 2024-04-03, %m/%d/%Y reads 2024-03-04" in rows[2].reason and "YYYY-MM-DD" in rows[2].reason
    assert rows[5].value == "2024-04-31" and "not a date: day 31 does not exist in April 2024" in rows[5].reason
    assert "dates_read_two_ways.csv" in str(exc.value)


def test_day_first_never_reads_a_date_month_first(tmp_path):
    with pytest.raises(DataError) as exc:
        rk.load_dataset(mapping(tmp_path, "dates_read_two_ways.csv", table="  day_first: true\n"))
    rows = {p.row: p.value for p in exc.value.problems}
    assert rows == {4: "04/13/2024", 5: "2024-04-31"}  # 03/04/2024 is 3 April; 04/13/2024 has no 13th month


def test_an_xlsx_export_of_date_cells_offsets_and_accounting_text_loads(tmp_path):
    ds = rk.load_dataset(
        mapping(
            tmp_path,
            "accounting_text_cells.xlsx",
            top="timezone: America/New_York",
            table="  amounts: {amount_cents: {thousands: ',', symbol: '$', negative: parentheses, zero: dash}}\n",
        )
    )
    assert close_dates(ds) == {"D1": "2024-03-31", "D2": "2024-04-01", "D3": "2024-02-29"}
    assert ds.deals["amount_cents"].tolist() == [-123450, 0, 123450]


@pytest.mark.parametrize(
    "listed,message",
    [
        ("[]", "an empty list"),
        ("['%d/%m/%Y', '%d/%m/%Y']", "listed twice"),
        ("['%d/%m/%Y', mixed]", "'mixed' would guess"),
        ("['%d/%m/%Y', 'dd.mm.yyyy']", "not a strptime format"),
    ],
)
def test_a_bad_list_of_date_formats_is_refused_before_reading(tmp_path, listed, message):
    with pytest.raises(MappingError, match=message):
        rk.load_dataset(mapping(tmp_path, "dates_in_three_formats.csv", table=f"  date_format: {{close_date: {listed}}}\n"))


DAY_FIRST, MONTH_FIRST = "%d/%m/%Y", "%m/%d/%Y"


@settings(max_examples=200, deadline=None)
@given(
    day=st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2199, 12, 31)),
    formats=st.lists(
        st.sampled_from(["%d.%m.%Y", DAY_FIRST, "%d-%m-%Y", "%Y%m%d", "%d %b %Y"]), min_size=1, max_size=4, unique=True
    ),
    pick=st.integers(0, 3),
)
def test_a_date_written_in_any_listed_day_first_format_or_iso_reads_back(day, formats, pick):
    texts = [day.strftime(formats[pick % len(formats)]), day.isoformat()]
    got = read_dates(pd.Series(texts), formats, True)
    assert not got.bad and list(got.values) == [pd.Timestamp(day)] * 2


@settings(max_examples=200, deadline=None)
@given(day=st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2199, 12, 31)))
def test_day_and_month_first_together_read_a_date_only_when_they_agree(day):
    got = read_dates(pd.Series([day.strftime(DAY_FIRST)]), [DAY_FIRST, MONTH_FIRST], True)
    if day.day > 12 or day.day == day.month:
        assert not got.bad and got.values[0] == pd.Timestamp(day)
    else:
        assert "is ambiguous" in got.bad[0] and pd.isna(got.values[0])


# -- 3. accounting money notations --------------------------------------------------------------
EN_US = "  amounts: {amount_cents: {thousands: ',', symbol: ['$', USD], negative: [parentheses, trailing_minus], zero: dash}}\n"


def test_accounting_notations_declared_in_the_mapping_load_exactly(tmp_path):
    ds = rk.load_dataset(mapping(tmp_path, "money_accounting_en_us.csv", table=EN_US))
    assert ds.deals["amount_cents"].tolist() == [123450, -20000, 0, 0, -20000, 100000, -500]
    assert ds.deals["amount_micros"].tolist() == [c * 10_000 for c in [123450, -20000, 0, 0, -20000, 100000, -500]]


def test_accounting_notations_not_declared_are_refused_with_each_row_and_the_declaration(tmp_path):
    with pytest.raises(DataError) as exc:
        rk.load_dataset(
            mapping(tmp_path, "money_accounting_en_us.csv", table="  amounts: {amount_cents: {thousands: ',', symbol: '$'}}\n")
        )
    rows = {p.row: p for p in exc.value.problems}
    assert set(rows) == {3, 4, 5, 6, 7, 8}  # only $1,234.50 fits the declaration
    assert "negative: parentheses" in rows[3].reason and rows[3].value == "$(200.00)"
    assert "zero: dash" in rows[4].reason and "zero: dash" in rows[5].reason and "na_values" in rows[5].reason
    assert "negative: trailing_minus" in rows[6].reason
    assert "declare symbol" in rows[7].reason and "USD" in rows[7].reason


def test_thousands_in_any_space_and_codes_after_the_number_load(tmp_path):
    ds = rk.load_dataset(
        mapping(
            tmp_path,
            "money_spaces_fr_fr.csv",
            source="sep: ';'",
            table="  amounts: {amount_cents: {thousands: ' ', decimal: ',', symbol: ['€', EUR]}}\n",
        )
    )
    assert ds.deals["amount_cents"].tolist() == [123456, 123456, 123456700, -1200, 50]


@pytest.mark.parametrize(
    "text,spec,why",
    [
        ("(-5)", {"negative": "parentheses"}, "two sign notations"),
        ("-5-", {"negative": "trailing_minus"}, "two sign notations"),
        ("(5-)", {"negative": ["parentheses", "trailing_minus"]}, "two sign notations"),
        ("$-", {"symbol": "$"}, "zero: dash"),
        ("- -", {"zero": "dash"}, "not an amount"),
        ("5 -", {}, "negative: trailing_minus"),
        ("1\u2009234", {}, "thousands: ' '"),
        ("1\u2009234", {"thousands": ","}, "not an amount"),
    ],
)
def test_amount_notations_that_are_refused_say_why(text, spec, why):
    _, _, bad = _parse_exact(pd.Series([text]), Amount(**spec))
    assert why in bad[0]


@pytest.mark.parametrize("thousands", [" ", "\u00a0", "\u202f", "\u2009"])
def test_any_space_declared_as_thousands_reads_all_four(thousands):
    cents, _, bad = _parse_exact(pd.Series(["1 234", "1\u00a0234", "1\u202f234", "1\u2009234"]), Amount(thousands=thousands))
    assert not bad and cents.tolist() == [123400] * 4


@settings(max_examples=300, deadline=None)
@given(
    micros=st.integers(-(10**17), 10**17),
    thousands=st.sampled_from([None, ",", " ", "\u00a0", "\u202f", "\u2009", "'"]),
    decimal=st.sampled_from([".", ","]),
    negative=st.sampled_from(["minus", "parentheses", "trailing_minus"]),
    symbol=st.sampled_from([None, "$", "USD", "€"]),
    before=st.booleans(),
    spaced=st.booleans(),
)
def test_a_formatted_amount_reads_back_to_its_exact_micros(micros, thousands, decimal, negative, symbol, before, spaced):
    if thousands == decimal:
        decimal = "." if thousands == "," else ","
    value = Decimal(micros).scaleb(-6)
    whole, _, frac = f"{abs(value):f}".partition(".")
    if thousands:
        whole = f"{int(whole):,}".replace(",", thousands)
    text = whole + (decimal + frac if frac else "")
    gap = " " if spaced else ""
    if symbol:
        text = f"{symbol}{gap}{text}" if before else f"{text}{gap}{symbol}"
    if value < 0:
        text = {"minus": f"-{text}", "parentheses": f"({text})", "trailing_minus": f"{text}-"}[negative]
    spec = Amount(
        thousands=thousands,
        decimal=decimal,
        symbol=symbol,
        negative=None if negative == "minus" else negative,
        zero="dash",
    )
    _, got, bad = _parse_exact(pd.Series([text]), spec)
    assert not bad, (text, bad)
    assert got[0] == micros


@settings(max_examples=50, deadline=None)
@given(symbol=st.sampled_from([None, "$", "EUR"]), before=st.booleans(), pad=st.sampled_from(["", " ", "   "]))
def test_a_lone_dash_is_zero_exactly_when_declared(symbol, before, pad):
    text = ("-" if symbol is None else f"{symbol}{pad}-" if before else f"-{pad}{symbol}") + pad
    cents, micros, bad = _parse_exact(pd.Series([text]), Amount(symbol=symbol, zero="dash"))
    assert not bad and cents[0] == 0 and micros[0] == 0
    _, _, refused = _parse_exact(pd.Series([text]), Amount(symbol=symbol))
    assert "zero: dash" in refused[0]


@pytest.mark.parametrize(
    "text,ascii_text",
    [
        ("\uff11\uff12\uff13.\uff10\uff10", "123.00"),  # full-width digits, as a Japanese IME types them
        ("\uff11\uff12\uff13\uff0e\uff14\uff15", "123.45"),  # full-width digits and full stop
        ("\u0661\u0662\u0663", "123"),  # Arabic-Indic digits
    ],
)
def test_an_amount_in_non_ascii_digits_is_refused_naming_the_ascii_amount_to_write(text, ascii_text):
    _, _, bad = _parse_exact(pd.Series([text]), Amount())
    assert "not ASCII" in bad[0] and f"write {ascii_text!r}" in bad[0]
    assert "declare symbol" not in bad[0]  # the digits are no currency sign


@pytest.mark.parametrize(
    "text,plain",
    [("1e3", "1000"), ("1.2345E+5", "123450"), ("-2.5e-2", "-0.025"), (" 7E2 ", "700")],
)
def test_an_amount_in_scientific_notation_is_refused_naming_the_plain_number_not_a_currency_sign(text, plain):
    _, _, bad = _parse_exact(pd.Series([text]), Amount())
    assert f"it is in scientific notation ({text.strip()} is {plain})" in bad[0]
    assert "declare symbol" not in bad[0]  # the E is an exponent, no currency code
