"""Canonical-table validation: every problem at once, located in the source."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from reportkit.core.errors import DataError
from reportkit.data import model
from reportkit.data.mapping import load_dataset

FIXTURES = Path(__file__).parent / "fixtures"


def frame(table: str, **cols) -> pd.DataFrame:
    base = model.empty_table(table)
    n = len(next(iter(cols.values())))
    data = {}
    for c, (kind, _) in model.COLUMNS[table].items():
        values = cols.get(c, [None] * n)
        dtype = {"str": "str", "date": "datetime64[ns]", "cents": "int64", "float": "float64"}[kind]
        data[c] = pd.Series(pd.to_datetime(values) if kind == "date" else values, dtype=dtype)
    return pd.DataFrame(data, columns=base.columns)


def ams() -> pd.DataFrame:
    return frame(
        "account_managers",
        account_manager_id=["AM-1", "AM-2"],
        name=["Ann", "Bob"],
        team=["N", "N"],
        sales_manager=["Nora", "Nora"],
    )


def deals(**over) -> pd.DataFrame:
    cols = {
        "deal_id": ["D1", "D2"],
        "account_manager_id": ["AM-1", "AM-2"],
        "account_id": ["C1", "C2"],
        "close_date": ["2025-01-01", "2025-01-02"],
        "amount_cents": [100, -50],
        "currency": ["USD", "USD"],
        "stage": ["won", "lost"],
    }
    cols.update(over)
    return frame("deals", **cols)


def test_bad_cells_fixture_lists_every_problem_with_file_row_column_value():
    with pytest.raises(DataError) as exc:
        load_dataset(FIXTURES / "bad_cells" / "mapping.yaml")
    got = {(Path(p.file).name, p.row, p.column, p.value) for p in exc.value.problems}
    assert got == {
        ("deals.csv", 2, "ref", "D1"),  # duplicate id: both rows listed
        ("deals.csv", 4, "ref", "D1"),
        ("deals.csv", 3, "value", "12.5x"),  # not an amount
        ("deals.csv", 5, "ccy", "EUR"),  # second currency
        ("deals.csv", 6, "status", "Wonn"),  # unknown stage
        ("quotas.csv", 3, "target", "-5000.00"),  # negative quota, shown as the source text
        ("quotas.csv", 4, "rep", "AM-9"),  # unknown account manager
        ("quotas.csv", 5, "from", "2025-13-01"),  # not a date
    }
    text = str(exc.value)
    assert "quotas.csv, row 4, column 'rep': value 'AM-9'" in text
    assert "did you mean 'Won'" in text


def test_valid_dataset_passes_and_loses_provenance_columns():
    d = deals().assign(_source_file="deals.csv", _source_row=[2, 3])
    ds = model.validate_dataset(model.Dataset(ams(), model.empty_table("quotas"), d))
    assert list(ds.deals.columns) == list(model.COLUMNS["deals"])
    assert isinstance(ds.deals.index, pd.RangeIndex)


def test_stage_probability_and_blank_ids_are_checked_without_provenance():
    pipe = frame(
        "pipeline",
        opportunity_id=["O1", "O1"],
        account_manager_id=["AM-1", "AM-1"],
        account_id=["C1", "C1"],
        stage=["Open", "Open"],
        probability=[0.5, 1.5],
        amount_cents=[1, 2],
    )
    ds = model.Dataset(ams(), model.empty_table("quotas"), deals(stage=["won", "open"], deal_id=["D1", " "]), pipeline=pipe)
    with pytest.raises(DataError) as exc:
        model.validate_dataset(ds)
    reasons = {(p.file, p.row, p.column): p.reason for p in exc.value.problems}
    assert "stage must be won or lost" in reasons[("deals", None, "stage")]
    assert "blank text" in reasons[("deals", None, "deal_id")]
    assert "probability must be within 0..1" in reasons[("pipeline", None, "probability")]
    assert any("duplicate opportunity_id" in r for r in reasons.values())


def test_wrong_dtype_is_reported_per_column():
    bad = deals().assign(amount_cents=[1.5, 2.0])
    with pytest.raises(DataError) as exc:
        model.validate_dataset(model.Dataset(ams(), model.empty_table("quotas"), bad))
    (p,) = exc.value.problems
    assert p.column == "amount_cents" and p.row is None and "int64" in p.reason


def test_owner_crediting_needs_an_owner_but_territory_crediting_does_not():
    d = deals(account_manager_id=["AM-1", None], territory=["5", "6"])
    with pytest.raises(DataError, match="every deal needs one"):
        model.validate_dataset(model.Dataset(ams(), model.empty_table("quotas"), d, crediting="owner"))
    terr = frame("territories", account_manager_id=["AM-1", "AM-2"], territory=["5", "6"])
    ds = model.validate_dataset(model.Dataset(ams(), model.empty_table("quotas"), d, territories=terr, crediting="territory"))
    assert ds.deals["account_manager_id"].isna().sum() == 1


def test_references_to_unknown_account_managers_in_every_table():
    terr = frame("territories", account_manager_id=["AM-3"], territory=["1"])
    acc = frame("accounts", account_id=["C1"], name=["Client"], owner_id=["AM-7"])
    with pytest.raises(DataError) as exc:
        model.validate_dataset(
            model.Dataset(
                ams(), model.empty_table("quotas"), deals(account_manager_id=["AM-1", "AM-4"]), accounts=acc, territories=terr
            )
        )
    assert {(p.file, p.value) for p in exc.value.problems} == {("deals", "AM-4"), ("accounts", "AM-7"), ("territories", "AM-3")}


def test_duplicate_territory_assignment_is_a_problem():
    terr = frame("territories", account_manager_id=["AM-1", "AM-1"], territory=["1", "1"])
    with pytest.raises(DataError, match="duplicate row in territories"):
        model.validate_dataset(
            model.Dataset(ams(), model.empty_table("quotas"), deals(), territories=terr, crediting="territory")
        )


def test_schema_is_built_for_every_table():
    for table in model.TABLES:
        assert set(model.schema(table).columns) == set(model.table_columns(table))  # optional ones too (deals.deal_type)


def issues(**over) -> pd.DataFrame:
    cols = {
        "issue_id": ["I1", "I2"],
        "account_id": ["C1", "C2"],
        "opened": ["2025-01-10", "2025-02-01"],
        "resolved": ["2025-01-12", None],
        "severity": ["high", "escalation"],
    }
    cols.update(over)
    return frame("service_issues", **cols)


def test_valid_service_issues_pass_with_open_issues_as_missing_resolved():
    ds = model.validate_dataset(model.Dataset(ams(), model.empty_table("quotas"), deals(), service_issues=issues()))
    assert list(ds.service_issues.columns) == list(model.COLUMNS["service_issues"])
    assert ds.service_issues["resolved"].isna().tolist() == [False, True]


def test_service_issue_resolved_before_opened_is_a_problem_at_its_row():
    si = issues(resolved=["2025-01-09", "2025-02-01"]).assign(_source_file="issues.csv", _source_row=[2, 3])
    with pytest.raises(DataError) as exc:
        model.validate_dataset(
            model.Dataset(ams(), model.empty_table("quotas"), deals(), service_issues=si),
            source_columns={"service_issues": {"resolved": "closed_on"}},
        )
    (p,) = exc.value.problems  # resolved on the day it was opened is fine (row 3)
    assert (p.file, p.row, p.column) == ("issues.csv", 2, "closed_on")
    assert "resolved 2025-01-09 is before opened 2025-01-10" in p.reason


def test_service_issues_need_unique_ids_and_known_accounts_when_accounts_are_given():
    acc = frame("accounts", account_id=["C1", "C2"], name=["One", "Two"])
    si = issues(issue_id=["I1", "I1"], account_id=["C1", "C9"])
    with pytest.raises(DataError) as exc:
        model.validate_dataset(model.Dataset(ams(), model.empty_table("quotas"), deals(), accounts=acc, service_issues=si))
    reasons = [p.reason for p in exc.value.problems]
    assert any("duplicate issue_id" in r for r in reasons)
    assert any("account 'C9' is not in accounts" in r for r in reasons)
    # without an accounts table any account id is accepted
    model.validate_dataset(
        model.Dataset(ams(), model.empty_table("quotas"), deals(), service_issues=issues(account_id=["C1", "C9"]))
    )


def test_a_quota_ending_before_it_starts_is_refused_at_load_naming_file_row_both_columns_dates_and_fix():
    """The trial's case: it used to pass loading and fail every report with 'allocate needs at least one weight'."""
    with pytest.raises(DataError) as exc:
        load_dataset(FIXTURES / "quota_ending_before_it_starts" / "mapping.yaml")
    (p,) = exc.value.problems  # a one-day quota row (2025-04-01 to 2025-04-01) is fine
    assert (Path(p.file).name, p.row, p.column, p.value) == ("quotas.csv", 3, "to", "2025-01-01")
    shown = str(exc.value)
    assert "quotas.csv, row 3, column 'to': value '2025-01-01'" in shown
    assert "period_end 2025-01-01 is before period_start 2025-03-31 (column 'from' of the same row)" in shown
    assert "swap the two dates if they are reversed" in shown


def test_a_batch_with_a_quota_ending_before_it_starts_stops_before_any_report_with_the_bad_row(tmp_path, capsys):
    from reportkit.cli import main

    params = tmp_path / "params.yaml"
    source = FIXTURES / "quota_ending_before_it_starts" / "mapping.yaml"
    params.write_text(f"source: {source}\nperiod: FY2025-Q1\nas_of: 2025-03-31\n")
    assert main(["batch", str(params), "-o", str(tmp_path / "out"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "quotas.csv, row 3, column 'to'" in err and "is before period_start 2025-03-31" in err
    assert "allocate" not in err
    assert not (tmp_path / "out" / "account_managers").exists()


@pytest.mark.parametrize(
    "table, columns, first, last",
    [
        (
            "account_managers",
            {"account_manager_id": ["AM-1"], "name": ["Ann"], "team": ["N"], "sales_manager": ["Nora"]},
            "hire_date",
            "end_date",
        ),
        ("quotas", {"account_manager_id": ["AM-1"], "quota_cents": [100], "currency": ["USD"]}, "period_start", "period_end"),
        ("service_issues", {"issue_id": ["I1"], "account_id": ["C1"], "severity": ["high"]}, "opened", "resolved"),
    ],
    ids=["leaver_ending_before_hire", "quota_ending_before_it_starts", "issue_resolved_before_opened"],
)
def test_every_date_pair_in_reverse_is_a_problem_naming_both_columns_and_the_fix(table, columns, first, last):
    f = frame(table, **columns, **{first: ["2025-03-31"], last: ["2025-01-01"]}).assign(_source_file="x.csv", _source_row=[7])
    (p,) = model.table_problems(table, f, source_columns={first: "from_col", last: "to_col"})
    assert (p.file, p.row, p.column, p.value) == ("x.csv", 7, "to_col", "2025-01-01")
    assert p.reason.startswith(f"{last} 2025-01-01 is before {first} 2025-03-31 (column 'from_col' of the same row); ")
    same_day = frame(table, **columns, **{first: ["2025-03-31"], last: ["2025-03-31"]})
    assert model.table_problems(table, same_day) == []


def test_the_readme_data_model_lists_every_canonical_table_and_counts_them_right():
    """The trial read 'eight canonical tables' above a list of ten."""
    import re

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Data model", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\| `(\w+)` \|", section, flags=re.M)
    assert listed == list(model.TABLES)
    words = {8: "eight", 9: "nine", 10: "ten", 11: "eleven", 12: "twelve"}
    assert f"onto the {words[len(listed)]} canonical tables below" in section


def test_quota_rows_of_one_account_manager_that_overlap_are_refused_each_naming_the_row_it_overlaps():
    """The trial's case: a repeated or nested quota row was summed into the quarter (160,000 + 150,000 shown as
    a 310,000 quota), quietly halving the attainment; adjacent rows (one ends, the next begins) are fine."""
    with pytest.raises(DataError) as exc:
        load_dataset(FIXTURES / "quota_rows_that_overlap" / "mapping.yaml")
    got = {(Path(p.file).name, p.row, p.column, p.value) for p in exc.value.problems}
    assert got == {("quotas.csv", 3, "from", "2025-01-01"), ("quotas.csv", 7, "from", "2025-05-01")}
    shown = str(exc.value)
    assert "quota row of AM-1 (2025-01-01 to 2025-03-31) overlaps row 2 (2025-01-01 to 2025-03-31)" in shown
    assert "quota row of AM-2 (2025-05-01 to 2025-05-31) overlaps row 6 (2025-04-01 to 2025-06-30)" in shown
    assert "a day's quota is counted once" in shown


def test_quota_rows_that_overlap_are_refused_in_frames_given_by_hand_too():
    """The rule lives in validate_dataset, so a dataset built from frames (an analyst's what-if) is held to it
    as a mapping's load is: a quarter row and a month row inside it would count that month's quota twice."""
    quotas = frame(
        "quotas",
        account_manager_id=["AM-1", "AM-1", "AM-2"],
        period_start=["2025-01-01", "2025-02-01", "2025-01-01"],
        period_end=["2025-03-31", "2025-02-28", "2025-03-31"],
        quota_cents=[16_000_000, 5_000_000, 16_000_000],
        currency=["USD", "USD", "USD"],
    )
    with pytest.raises(DataError) as exc:
        model.validate_dataset(model.Dataset(ams(), quotas, deals()))
    shown = str(exc.value)
    assert "quota row of AM-1 (2025-02-01 to 2025-02-28) overlaps" in shown and "AM-2" not in shown
