"""Fuzzing the loader: whatever a table and its mapping contain, load_dataset either
returns a valid Dataset or raises a ReportkitError with a message -- never another
exception. Small generated CSVs (unicode, blanks, separators, money and date texts in
and out of format, duplicate ids) are written to a temporary folder per example."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reportkit.core.errors import ReportkitError
from reportkit.data import model
from reportkit.data.mapping import load_dataset

IDS = ["00731", "731", "0042", "D1", "D2", "", " ", "NULL"]
HOSTILE = [
    "",
    " ",
    "NULL",
    "NA",
    "-",
    "N/A",
    "$1,234.50",
    "(200.00)",
    "1.234,56",
    "1,23",
    "1e3",
    "12.5x",
    "-0.005",
    "9" * 25,
    "2025-01-05",
    "2025-13-01",
    "03/04/2025",
    "31.12.2024",
    "0000-00-00",
    "2025-01-05T10:00:00+02:00",
    "2025-03-31T23:30:00Z",
    "29.01.2025",
    "$ -",
    "$(200.00)",
    "200.00-",
    "(-5)",
    "1\u2009234,50",
    "1\u202f234 EUR",
    "Grand Total",
    "Café",
    "€",
    "Zoë",
    '"',
    ",",
    ";",
    "\t",
    "\n",
    "﻿",
    "𝟙",
]
cell = st.one_of(
    st.sampled_from(HOSTILE),
    st.sampled_from(IDS),
    st.text(max_size=6),
    st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str),
)
HEADER = ["Deal ID", "Rep", "Client", "Closed", "Amount", "Currency"]

row = st.fixed_dictionaries(
    {
        "Deal ID": st.one_of(st.sampled_from(IDS), cell),
        "Rep": st.one_of(st.sampled_from(["00731", "00812"]), cell),
        "Client": cell,
        "Closed": st.one_of(st.sampled_from(["2025-01-05", "2025-02-28", "05/01/2025"]), cell),
        "Amount": st.one_of(st.sampled_from(["10", "-7.50", "$1,000.00", "1.000,00"]), cell),
        "Currency": st.sampled_from(["USD", "USD", "EUR", "", "NULL"]),
    }
)

amount_spec = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {},
        optional={
            "thousands": st.sampled_from([",", ".", " ", "'"]),
            "decimal": st.sampled_from([".", ","]),
            "symbol": st.sampled_from(["$", "€", "USD"]),
            "accounting_negatives": st.booleans(),
            "negative": st.sampled_from(["parentheses", "trailing_minus"]),
            "zero": st.just("dash"),
            "scale": st.sampled_from(["1", "1000", "0.01"]),
        },
    ),
)
mapping_spec = st.fixed_dictionaries(
    {
        "encoding": st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
        "declared_encoding": st.sampled_from(["same"] * 8 + [None, "utf-8", "utf-16", "cp1252"]),
        "sep": st.sampled_from([",", ";", "\t"]),
        "declared_sep": st.sampled_from(["same"] * 8 + [None, ",", ";", "\t"]),
        "amounts": amount_spec,
        "date_format": st.sampled_from(
            [None, "%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "ISO8601", "%Y-%m-%dT%H:%M:%S%z", ["%d.%m.%Y", "%d/%m/%Y", "%m/%d/%Y"]]
        ),
        "day_first": st.sampled_from([None, True, False]),
        "timezone": st.sampled_from([None, "America/New_York", "Asia/Kolkata"]),
        "na_values": st.sampled_from([[], ["NULL"], ["NULL", "NA", "-"], [""]]),
        "deduplicate": st.sampled_from([None, "true", "first", "last", "identical"]),
        "skip_footer": st.integers(0, 2),
        "drop_rows_where": st.sampled_from([None, {"Deal ID": ["Grand Total"]}, {"Amount": [""]}]),
        "filter": st.sampled_from([None, {"Currency": ["USD"]}]),
        "currency_column": st.booleans(),
        "blank_lines": st.booleans(),
        "header": st.sampled_from(["ok"] * 5 + ["missing_amount", "duplicate", "blank"]),
    }
)


def _q(v: str) -> str:
    return "'" + v.replace("'", "''") + "'"


def write_case(folder: Path, rows: list[dict], spec: dict) -> Path:
    (folder / "ams.csv").write_text("id,name,team,mgr\n00731,Ann,N,Nora\n00812,Bob,N,Nora\n", encoding="utf-8")
    (folder / "quotas.csv").write_text("rep,from,to,target\n00731,2025-01-01,2025-03-31,100\n", encoding="utf-8")
    header = list(HEADER)
    if spec["header"] == "missing_amount":
        header[4] = "Amt"
    elif spec["header"] == "duplicate":
        header[2] = "Rep"
    elif spec["header"] == "blank":
        header[5] = ""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=spec["sep"], lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow([r[c] for c in HEADER])
        if spec["blank_lines"]:
            buf.write("\n")
    try:
        data = buf.getvalue().encode(spec["encoding"])
    except UnicodeEncodeError:  # text cp1252 cannot hold: the export would have been UTF-8
        spec["encoding"] = "utf-8"
        data = buf.getvalue().encode("utf-8")
    (folder / "deals.csv").write_bytes(data)

    src = ["file: deals.csv"]
    if spec["declared_encoding"] == "same":
        spec = {**spec, "declared_encoding": spec["encoding"]}
    if spec["declared_sep"] == "same":
        spec = {**spec, "declared_sep": spec["sep"]}
    if spec["declared_encoding"]:
        src.append(f"encoding: {spec['declared_encoding']}")
    if spec["declared_sep"]:
        src.append(f"sep: {_q(spec['declared_sep'])}" if spec["declared_sep"] != "\t" else 'sep: "\\t"')
    if spec["skip_footer"]:
        src.append(f"skip_footer: {spec['skip_footer']}")
    cols = "deal_id: Deal ID, account_manager_id: Rep, account_id: Client, close_date: Closed, amount_cents: Amount"
    if spec["currency_column"]:
        cols += ", currency: Currency"
    lines = [
        "calendar: {first_month: 1}",
        "currency: USD",
        "data_dir: .",
        "account_managers:",
        "  source: {file: ams.csv}",
        "  columns: {account_manager_id: id, name: name, team: team, sales_manager: mgr}",
        "quotas:",
        "  source: {file: quotas.csv}",
        "  columns: {account_manager_id: rep, period_start: from, period_end: to, quota_cents: target}",
        "deals:",
        "  source: {" + ", ".join(src) + "}",
        "  columns: {" + cols + "}",
        "  constants: {stage: won}",
    ]
    if spec["amounts"] is not None:
        a = ", ".join(f"{k}: {_q(v) if isinstance(v, str) else str(v).lower()}" for k, v in spec["amounts"].items())
        lines.append("  amounts: {amount_cents: {" + a + "}}")
    if spec["date_format"]:
        fmt = spec["date_format"]
        lines.append(
            "  date_format: {close_date: " + (_q(fmt) if isinstance(fmt, str) else "[" + ", ".join(map(_q, fmt)) + "]") + "}"
        )
    if spec["day_first"] is not None:
        lines.append(f"  day_first: {str(spec['day_first']).lower()}")
    if spec["timezone"]:
        lines.insert(0, f"timezone: {spec['timezone']}")
    if spec["na_values"]:
        lines.append("  na_values: [" + ", ".join(_q(v) for v in spec["na_values"]) + "]")
    if spec["deduplicate"]:
        lines.append(f"  deduplicate: {spec['deduplicate']}")
    for key in ("drop_rows_where", "filter"):
        if spec[key]:
            ((col, vals),) = spec[key].items()
            lines.append(f"  {key}: {{{col}: [" + ", ".join(_q(v) for v in vals) + "]}")
    path = folder / "mapping.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def check_dataset(ds: model.Dataset) -> None:
    for table in model.TABLES:
        frame = ds.table(table)
        if frame is None:
            continue
        exact = [model.AMOUNT_MICROS] if table == "deals" else []  # the deals' exact amounts
        assert list(frame.columns) == list(model.COLUMNS[table]) + exact
        assert isinstance(frame.index, pd.RangeIndex)
    assert str(ds.deals["amount_cents"].dtype) == "int64"
    assert str(ds.deals[model.AMOUNT_MICROS].dtype) == "int64"
    assert str(ds.deals["close_date"].dtype) == "datetime64[ns]"
    assert ds.deals["deal_id"].is_unique
    assert ds.deals["deal_id"].notna().all()
    assert set(ds.deals["account_manager_id"]) <= {"00731", "00812"}
    assert (ds.deals["currency"] == "USD").all()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(row, min_size=0, max_size=6), spec=mapping_spec)
def test_load_dataset_returns_a_dataset_or_a_reportkit_error(rows, spec):
    with tempfile.TemporaryDirectory() as tmp:
        path = write_case(Path(tmp), rows, spec)
        try:
            ds = load_dataset(path)
        except ReportkitError as exc:
            assert str(exc).strip()
            return
        check_dataset(ds)


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.fixed_dictionaries(
            {
                "Deal ID": st.sampled_from(["D1", "D2", "D3"]),
                "Rep": st.just("00731"),
                "Client": st.just("C"),
                "Closed": st.just("2025-01-05"),
                "Amount": st.integers(-(10**6), 10**6).map(str),
                "Currency": st.just("USD"),
            }
        ),
        min_size=1,
        max_size=6,
    ),
    policy=st.sampled_from(["first", "last"]),
)
def test_deduplicate_first_or_last_keeps_exactly_one_row_per_id(rows, policy):
    spec = {
        "encoding": "utf-8",
        "declared_encoding": None,
        "sep": ",",
        "declared_sep": None,
        "amounts": None,
        "date_format": None,
        "day_first": None,
        "timezone": None,
        "na_values": [],
        "deduplicate": policy,
        "skip_footer": 0,
        "drop_rows_where": None,
        "filter": None,
        "currency_column": False,
        "blank_lines": False,
        "header": "ok",
    }
    with tempfile.TemporaryDirectory() as tmp:
        ds = load_dataset(write_case(Path(tmp), rows, spec))
    want = {}
    for r in rows:
        if policy == "last" or r["Deal ID"] not in want:
            want[r["Deal ID"]] = int(r["Amount"]) * 100
    assert dict(zip(ds.deals["deal_id"], ds.deals["amount_cents"])) == want


# Columns are converted vectorised; each cell must still get exactly what the rule for
# one cell gives (amounts: text -> Decimal x scale -> cents half away from zero;
# dates: strptime / fromisoformat, midnight, 1900..2199), including the reasons.
plain_amount = st.builds(
    lambda pad, sign, whole, point, frac, tail: f"{pad}{sign}{whole}{point}{frac}{tail}",
    st.sampled_from(["", " ", "\t"]),
    st.sampled_from(["", "-", "+"]),
    st.text("0123456789", max_size=16),
    st.sampled_from(["", ".", ","]),
    st.text("0123456789", max_size=9),
    st.sampled_from(["", " "]),
)
amount_text = st.one_of(
    plain_amount, st.sampled_from(HOSTILE), st.text(max_size=8), st.decimals(allow_nan=False, allow_infinity=False).map(str)
)


@settings(max_examples=150, deadline=None)
@given(
    texts=st.lists(st.one_of(st.none(), amount_text), max_size=25),
    spec=st.fixed_dictionaries(
        {},
        optional={
            "thousands": st.sampled_from([",", ".", " "]),
            "decimal": st.sampled_from([".", ","]),
            "symbol": st.sampled_from(["$", "€"]),
            "accounting_negatives": st.booleans(),
            "scale": st.sampled_from(["1", "10", "100", "1000", "0.01", "2.5"]),
        },
    ),
    dtype=st.sampled_from(["str", "object"]),
)
def test_amount_column_gives_each_cell_the_exact_decimal_cents_and_micros(texts, spec, dtype):
    from decimal import Decimal

    from reportkit.data.mapping import Amount

    if spec.get("thousands") is not None and spec.get("thousands") == spec.get("decimal", "."):
        spec.pop("thousands")
    amount = Amount(**{k: (Decimal(v) if k == "scale" else v) for k, v in spec.items()})
    _assert_column_reads_as_each_cell(texts, amount, dtype)


def _assert_column_reads_as_each_cell(texts, amount, dtype) -> None:
    """The column read at once (``_parse_exact``) gives each cell the per-value parser's answer: cents, micros or refusal."""
    from reportkit.core.money import to_cents, to_micros
    from reportkit.data.mapping.values import _amount_pattern, _parse_exact, _read_amount

    got, micros, bad = _parse_exact(pd.Series(texts, dtype=dtype), amount)
    pattern = _amount_pattern(amount)
    for i, text in enumerate(texts):
        want = None if text is None else _read_amount(text, amount, pattern)
        if isinstance(want, str):
            assert bad[i] == want and got[i] == 0 and micros[i] == 0
        else:
            assert i not in bad
            assert got[i] == (0 if want is None else to_cents(want * amount.scale))
            assert micros[i] == (0 if want is None else to_micros(want * amount.scale))


date_text = st.one_of(
    st.builds(
        lambda y, m, d, t: f"{y:04d}-{m:02d}-{d:02d}{t}",
        st.integers(0, 2400),
        st.integers(0, 13),
        st.integers(0, 32),
        st.sampled_from(["", " 10:11:12", "T23:59:59", " 24:00:00", "T10:00:00+02:00"]),
    ),
    st.builds(lambda y, m, d: f"{d:02d}.{m:02d}.{y:04d}", st.integers(1890, 2210), st.integers(0, 13), st.integers(0, 32)),
    st.sampled_from(HOSTILE),
    st.text("0123456789-./: T", max_size=20),
)


def _date_readings(text: str, formats: list[str], tz: str | None) -> tuple[set, bool]:
    """The oracle of the date rule: (the dates the text's readings give, whether one had an offset).

    Each listed format (strptime; ISO8601: fromisoformat) and, in every column, an
    ISO 8601 text (fromisoformat of texts shaped YYYY-MM-DD[THH[:MM[:SS]]][offset]);
    an aware reading is dated in ``tz``.
    """
    import datetime
    import re
    import zoneinfo

    iso = re.fullmatch(
        r"[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}(:[0-9]{2}(:[0-9]{2}([.,][0-9]{1,9})?)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?)?", text
    )
    readers = [
        (lambda t, f=f: datetime.datetime.fromisoformat(t) if f == "ISO8601" else datetime.datetime.strptime(t, f))
        for f in formats
    ]
    if iso and "ISO8601" not in formats:
        readers.append(datetime.datetime.fromisoformat)
    dates, aware = set(), False
    for read in readers:
        try:
            d = read(text)
        except ValueError:
            continue
        if d.tzinfo is not None:
            aware = True
            if tz is None:
                continue
            d = d.astimezone(zoneinfo.ZoneInfo(tz))
        dates.add(d.date())
    return dates, aware


@settings(max_examples=150, deadline=None)
@given(
    texts=st.lists(st.one_of(st.none(), date_text), max_size=25),
    formats=st.lists(
        st.sampled_from(["%Y-%m-%d", "ISO8601", "%d.%m.%Y", "%m.%d.%Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"]),
        min_size=1,
        max_size=3,
        unique=True,
    ),
    declared=st.booleans(),
    tz=st.sampled_from([None, "UTC", "America/New_York", "Asia/Kolkata"]),
)
def test_date_column_gives_each_cell_what_its_formats_and_iso_read(texts, formats, declared, tz):
    import datetime

    from reportkit.data.mapping.values import read_dates

    got = read_dates(pd.Series(texts, dtype="str"), formats, declared, tz)
    for i, text in enumerate(texts):
        if text is None:
            assert pd.isna(got.values[i]) and i not in got.bad
            continue
        dates, aware = _date_readings(text.strip(), formats, tz)
        if aware and tz is None:
            assert "UTC offset" in got.bad[i] and "timezone:" in got.bad[i] and pd.isna(got.values[i])
        elif not dates:
            # "not a date in format ..." or, where the text has a format's shape, the impossible part
            # ("not a date: month 13 does not exist ...")
            assert got.bad[i].startswith(("not a date in format", "not a date: ")) and pd.isna(got.values[i])
        elif len(dates) > 1:
            assert "is ambiguous" in got.bad[i] and pd.isna(got.values[i])
        elif not datetime.date(1900, 1, 1) <= min(dates) <= datetime.date(2199, 12, 31):
            assert "is outside 1900-01-01 .. 2199-12-31" in got.bad[i] and pd.isna(got.values[i])
        else:
            assert i not in got.bad and got.values[i] == pd.Timestamp(min(dates))


# a column Arrow's decimal parser may read whole: signs, digits, a point, sometimes an exponent (refused by amounts)
castable_amount = st.builds(
    lambda sign, whole, point, frac, exponent: f"{sign}{whole}{point}{frac}{exponent}",
    st.sampled_from(["", "-", "+"]),
    st.text("0123456789", max_size=14),
    st.sampled_from(["", "."]),
    st.text("0123456789", max_size=9),
    st.sampled_from(["", "", "", "", "e2", "E-1"]),
)


@settings(max_examples=150, deadline=None)
@given(
    texts=st.lists(st.one_of(st.none(), castable_amount), min_size=1, max_size=25),
    scale=st.sampled_from(["1", "10", "100", "1000"]),
)
def test_a_column_of_plain_amounts_read_by_one_cast_gives_each_cell_the_per_value_answer(texts, scale):
    from decimal import Decimal

    from reportkit.data.mapping import Amount

    amount = Amount(scale=Decimal(scale))
    _assert_column_reads_as_each_cell(texts, amount, "str")


@pytest.mark.parametrize(
    ("texts", "whole"),
    [
        (["-1234.56", "7.", ".5", "+0", None, "00012.5000000000"], True),
        (["1234.56", "1e5"], False),  # Arrow reads the exponent, amounts refuse it
        (["1234.56", "12E3"], False),
        (["1234.56", " 12.5"], False),  # padding: the matching path trims it
        (["1234.56", "1,5"], False),
        (["1234.56", "123456789012.5"], False),  # wider than the cast's type
    ],
)
def test_only_a_column_of_plain_amounts_without_an_exponent_is_read_by_one_cast(texts, whole):
    import pyarrow as pa

    from reportkit.data.mapping import Amount
    from reportkit.data.mapping.values import _cast_whole_column

    column = pa.array(texts, pa.large_string())
    assert (_cast_whole_column(column, Amount(), pa.decimal128(18, 7)) is not None) is whole
