"""Source-mapping YAML: strict keys, declared transforms, and loading into a Dataset."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

import reportkit as rk
from reportkit.core.errors import DataError, MappingError
from reportkit.data import model
from reportkit.data.mapping import load_dataset, load_mapping

FIXTURES = Path(__file__).parent / "fixtures"

MINIMAL = """\
calendar: {first_month: 1}
currency: USD
data_dir: .
account_managers:
  source: {file: ams.csv}
  columns: {account_manager_id: id, name: name, team: team, sales_manager: mgr}
deals:
  source: {file: deals.csv}
  columns: {deal_id: ref, account_manager_id: rep, account_id: client, close_date: closed, amount_cents: value}
  constants: {stage: won}
"""


def write_minimal(tmp_path: Path, mapping: str = MINIMAL, deals: str | None = None) -> Path:
    (tmp_path / "ams.csv").write_text("id,name,team,mgr\nAM-1,Ann,North,Nora\n", encoding="utf-8")
    (tmp_path / "deals.csv").write_text(
        deals or "ref,rep,client,closed,value\nD1,AM-1,C1,2025-01-05,100.005\nD2,AM-1,,2025-02-01,-0.005\n",
        encoding="utf-8",
    )
    path = tmp_path / "mapping.yaml"
    path.write_text(mapping, encoding="utf-8")
    return path


# -- the YAML itself --------------------------------------------------------------
def test_unknown_key_is_refused_with_did_you_mean_and_allowed_keys(tmp_path):
    path = write_minimal(tmp_path, MINIMAL.replace("currency: USD", "currncy: USD"))
    with pytest.raises(MappingError) as exc:
        load_mapping(path)
    msg = str(exc.value)
    assert "key 'currncy' is not allowed; did you mean 'currency'?" in msg
    assert "mapping.yaml" in msg


def test_unknown_nested_key_names_its_path(tmp_path):
    path = write_minimal(tmp_path, MINIMAL.replace("source: {file: ams.csv}", "source: {file: ams.csv, sheeet: A}"))
    with pytest.raises(MappingError, match=r"account_managers.source.sheeet' is not allowed; did you mean 'sheet'"):
        load_mapping(path)


def test_bad_choice_names_value_and_allowed_set(tmp_path):
    path = write_minimal(tmp_path, MINIMAL + "crediting: teritory\n")
    with pytest.raises(MappingError) as exc:
        load_mapping(path)
    assert "'teritory' is not allowed" in str(exc.value) and "did you mean 'territory'" in str(exc.value)


def test_unknown_canonical_column_suggests_the_right_one(tmp_path):
    path = write_minimal(tmp_path, MINIMAL.replace("amount_cents: value", "amount: value"))
    with pytest.raises(MappingError) as exc:
        load_mapping(path)
    msg = str(exc.value)
    assert "'amount' is not a column of deals; did you mean 'amount_cents'?" in msg
    assert "column 'amount_cents' is required" in msg  # both problems at once


def test_unquoted_null_placeholder_and_numeric_constant_are_explained(tmp_path):
    text = MINIMAL.replace("constants: {stage: won}", "constants: {stage: won, territory: 7}\n  na_values: [NULL]")
    with pytest.raises(MappingError) as exc:
        load_mapping(write_minimal(tmp_path, text))
    msg = str(exc.value)
    assert "quote each placeholder" in msg
    assert "constant 'territory' 7 must be quoted" in msg


def test_stage_recode_targets_are_checked(tmp_path):
    text = MINIMAL.replace("constants: {stage: won}", "columns_: x").replace("columns_: x", "recode: {stage: {W: wonn}}")
    text = text.replace("amount_cents: value}", "amount_cents: value, stage: ref}")
    with pytest.raises(MappingError, match="'wonn' is not allowed; did you mean 'won'"):
        load_mapping(write_minimal(tmp_path, text))


def test_missing_mapping_file_is_a_mapping_error(tmp_path):
    with pytest.raises(MappingError, match="does not exist"):
        load_mapping(tmp_path / "nope.yaml")


def test_territory_crediting_requires_a_territories_table(tmp_path):
    with pytest.raises(MappingError, match="needs a territories"):
        load_mapping(write_minimal(tmp_path, MINIMAL + "crediting: territory\n"))


# -- loading ----------------------------------------------------------------------
def test_minimal_mapping_gives_canonical_dtypes_and_empty_quotas(tmp_path):
    ds = load_dataset(write_minimal(tmp_path))
    assert ds.quotas.empty and list(ds.quotas.columns) == list(model.COLUMNS["quotas"])
    assert str(ds.quotas["quota_cents"].dtype) == "int64"
    deals = ds.deals
    # no provenance columns left; the exact amount beside the per-line cents
    assert list(deals.columns) == list(model.COLUMNS["deals"]) + [model.AMOUNT_MICROS]
    assert str(deals["amount_cents"].dtype) == "int64"
    assert str(deals["close_date"].dtype) == "datetime64[ns]"
    # Decimal half away from zero per line: 100.005 -> 100.01, -0.005 -> -0.01
    assert deals["amount_cents"].tolist() == [10001, -1]
    assert deals[model.AMOUNT_MICROS].tolist() == [100_005_000, -5_000]
    assert deals["account_id"].tolist() == ["C1", model.UNASSIGNED_ACCOUNT]
    assert deals["currency"].tolist() == ["USD", "USD"]
    assert ds.accounts is None and ds.pipeline is None
    assert ds.sources["deals"].endswith("deals.csv")


def test_transforms_on_wide_targets_and_european_cp1252_orders():
    ds = load_dataset(FIXTURES / "wide_targets_cp1252" / "mapping.yaml")
    assert ds.calendar.first_month == 7 and ds.currency == "EUR"
    ams = ds.account_managers
    assert ams["account_manager_id"].tolist() == ["007", "0731"]  # leading zeros kept
    assert ams["team"].tolist() == ["Nord", "Nord"]  # from the inline lookup
    q = ds.quotas
    # '-' dropped, thousands scaled, national id translated to the code, month from M01..M12
    assert q["account_manager_id"].tolist() == ["007", "007", "0731"]
    assert q["period_start"].dt.strftime("%Y-%m-%d").tolist() == ["2025-01-01", "2025-03-01", "2026-01-01"]
    assert q["period_end"].dt.strftime("%Y-%m-%d").tolist() == ["2025-01-31", "2025-03-31", "2026-01-31"]
    assert q["quota_cents"].tolist() == [1_000_000, 250_000, 123_400]
    d = ds.deals
    assert d["deal_id"].tolist() == ["SO1-1", "SO1-2", "SO2-1", "SO5-1"]  # Open routed out, Cancelled filtered
    assert d["amount_cents"].tolist() == [123456, -1000, 9999, 0]
    assert d["account_id"].tolist() == ["Café Müller", "Café Müller", model.UNASSIGNED_ACCOUNT, "X"]
    assert d["product"].tolist()[:2] == ["GTX Pro", "MG"]
    assert pd.isna(d["product"].iloc[3])  # "NULL" declared as a placeholder
    assert d["stage"].tolist() == ["won", "won", "lost", "lost"]
    p = ds.pipeline
    assert p["opportunity_id"].tolist() == ["SO3"]
    assert p["probability"].tolist() == [0.25]
    assert p["amount_cents"].tolist() == [200000]
    assert p["expected_close_date"].isna().all()


def test_several_files_of_one_table_are_concatenated_with_their_own_options(tmp_path):
    text = MINIMAL.replace(
        "source: {file: deals.csv}",
        'source:\n    - {file: deals.csv}\n    - {file: deals_june.csv, encoding: utf-16, sep: "\\t"}',
    )
    path = write_minimal(tmp_path, text)
    (tmp_path / "deals_june.csv").write_bytes(
        "ref\trep\tclient\tclosed\tvalue\textra\nD9\tAM-1\tC2\t2025-06-01\t5\tx\n".encode("utf-16")
    )
    ds = load_dataset(path)
    assert ds.deals["deal_id"].tolist() == ["D1", "D2", "D9"]
    assert "deals_june.csv" in ds.sources["deals"]


def test_sql_source_in_a_mapping_is_relative_to_data_dir(tmp_path):
    with sqlite3.connect(tmp_path / "crm.db") as con:
        con.execute("create table d (ref text, rep text, client text, closed text, value text)")
        con.execute("insert into d values ('S1', 'AM-1', 'C1', '2025-03-03', '12.34')")
    text = MINIMAL.replace("source: {file: deals.csv}", "source: {url: 'sqlite:///crm.db', query: 'select * from d'}")
    ds = load_dataset(write_minimal(tmp_path, text))
    assert ds.deals["amount_cents"].tolist() == [1234]


def test_a_column_missing_from_the_file_is_a_mapping_error_with_suggestion(tmp_path):
    path = write_minimal(tmp_path, MINIMAL.replace("account_id: client", "account_id: clinet"))
    with pytest.raises(MappingError) as exc:
        load_dataset(path)
    assert "no column 'clinet'; did you mean 'client'?" in str(exc.value)
    assert "deals.csv" in str(exc.value)


def test_unmatched_lookup_key_is_a_data_problem_at_its_row(tmp_path):
    text = MINIMAL.replace(
        "  constants: {stage: won}",
        "  constants: {stage: won}\n  lookups:\n    - source: {inline: [{client: C1, seg: A}]}\n"
        "      key: client\n      columns: [seg]",
    )
    with pytest.raises(DataError) as exc:
        load_dataset(
            write_minimal(tmp_path, text, deals="ref,rep,client,closed,value\nD1,AM-1,C1,2025-01-05,1\nD2,AM-1,C7,2025-01-05,1\n")
        )
    (p,) = exc.value.problems
    assert p.file.endswith("deals.csv") and p.row == 3 and p.column == "client" and p.value == "C7"
    assert "no match in lookup" in p.reason


def test_duplicate_lookup_key_is_refused(tmp_path):
    text = MINIMAL.replace(
        "  constants: {stage: won}",
        "  constants: {stage: won}\n  lookups:\n    - source: {inline: [{client: C1, seg: A}, {client: C1, seg: B}]}\n"
        "      key: client\n      columns: [seg]",
    )
    with pytest.raises(MappingError, match="not unique"):
        load_dataset(write_minimal(tmp_path, text))


def test_unmapped_territory_is_missing_not_the_text_nan_and_the_deal_credits_its_owner(tmp_path):
    # the territory comes from an optional lookup that knows region C1 only: C7 has no territory
    text = (
        MINIMAL.replace("amount_cents: value}", "amount_cents: value, territory: region}").replace(
            "  constants: {stage: won}",
            "  constants: {stage: won}\n  lookups:\n    - source: {inline: [{client: C1, region: North}]}\n"
            "      key: client\n      columns: [region]\n      required: false",
        )
        + "crediting: territory\nterritories:\n  source: {file: territories.csv}\n"
        "  columns: {account_manager_id: id, territory: region}\n"
    )
    path = write_minimal(tmp_path, text, deals="ref,rep,client,closed,value\nD1,AM-1,C1,2025-01-05,1\nD2,AM-1,C7,2025-01-05,2\n")
    (tmp_path / "territories.csv").write_text("id,region\nAM-1,North\n", encoding="utf-8")
    ds = load_dataset(path)
    territory = ds.deals.set_index("deal_id")["territory"]
    assert territory["D1"] == "North"
    assert pd.isna(territory["D2"])  # pandas 2.2's astype(str) made it the text 'nan'
    assert "nan" not in territory.astype("object").dropna().tolist()
    from reportkit.domain.crediting import credited_deals

    credits = credited_deals(ds).set_index("deal_id")
    assert credits.loc["D2", "credit_type"] == "owner"  # no territory: the owner is credited, as for a blank cell


def test_mapping_may_live_elsewhere_than_its_data(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    write_minimal(data)
    conf = tmp_path / "conf" / "sources"
    conf.mkdir(parents=True)
    path = conf / "m.yaml"
    path.write_text(MINIMAL.replace("data_dir: .", "data_dir: ../../data"), encoding="utf-8")
    assert len(load_dataset(path).deals) == 2


def test_demo_mapping_loads_the_committed_demo_data():
    root = Path(__file__).resolve().parents[1]
    ds = load_dataset(root / "params" / "sources" / "demo.yaml")
    assert ds.account_managers["account_manager_id"].is_unique
    assert "0731" in set(ds.account_managers["account_manager_id"])
    assert set(ds.pipeline["probability"]) <= {0.1, 0.4, 0.7}


def test_copied_fixture_with_a_deleted_file_names_the_missing_file(tmp_path):
    shutil.copytree(FIXTURES / "wide_targets_cp1252", tmp_path / "w")
    (tmp_path / "w" / "targets.csv").unlink()
    with pytest.raises(MappingError, match=r"targets.csv"):
        load_dataset(tmp_path / "w" / "mapping.yaml")


def test_data_dir_takes_an_environment_variable_with_a_default(tmp_path, monkeypatch):
    mapping_file = tmp_path / "m.yaml"
    mapping_file.write_text(MINIMAL.replace("data_dir: .", "data_dir: ${RK_TEST_DATA:-fallback}/set"))
    monkeypatch.delenv("RK_TEST_DATA", raising=False)
    m = load_mapping(mapping_file)
    assert m.data_path == (tmp_path / "fallback" / "set").resolve()
    monkeypatch.setenv("RK_TEST_DATA", str(tmp_path / "elsewhere"))
    assert m.data_path == (tmp_path / "elsewhere" / "set").resolve()


def test_data_dir_variable_without_default_must_be_set(tmp_path, monkeypatch):
    mapping_file = tmp_path / "m.yaml"
    mapping_file.write_text(MINIMAL.replace("data_dir: .", "data_dir: ${RK_TEST_UNSET}/x"))
    monkeypatch.delenv("RK_TEST_UNSET", raising=False)
    with pytest.raises(MappingError, match=r"RK_TEST_UNSET.*not set"):
        _ = load_mapping(mapping_file).data_path


def test_a_missing_data_folder_names_the_variable_unset_or_its_value(tmp_path, monkeypatch):
    write_minimal(tmp_path)
    mapping_file = tmp_path / "m.yaml"
    mapping_file.write_text(MINIMAL.replace("data_dir: .", "data_dir: ${RK_TEST_DATA:-../nowhere}/set"))
    monkeypatch.delenv("RK_TEST_DATA", raising=False)
    with pytest.raises(MappingError) as exc:
        load_dataset(mapping_file)
    assert str(exc.value).startswith(f"data folder {str((tmp_path.parent / 'nowhere' / 'set').resolve())!r} does not exist")
    assert "RK_TEST_DATA is not set, so its default '../nowhere' was used" in str(exc.value)
    assert exc.value.hint.startswith("set RK_TEST_DATA to the folder that holds the data, or correct data_dir:")
    monkeypatch.setenv("RK_TEST_DATA", str(tmp_path / "typo"))
    with pytest.raises(MappingError, match=r"RK_TEST_DATA is set to '.*typo'\)") as exc:
        load_dataset(mapping_file)
    assert exc.value.hint.startswith("check RK_TEST_DATA, or correct data_dir:")
    (tmp_path / "set").mkdir()
    write_minimal(tmp_path / "set")
    monkeypatch.setenv("RK_TEST_DATA", str(tmp_path))  # set: the same mapping loads
    assert len(load_dataset(mapping_file).deals) == 2


def test_a_missing_data_folder_without_a_variable_says_to_correct_data_dir(tmp_path):
    mapping_file = tmp_path / "m.yaml"
    mapping_file.write_text(MINIMAL.replace("data_dir: .", "data_dir: gone"))
    with pytest.raises(MappingError, match=r"data folder .*gone' does not exist \(data_dir: 'gone' in ") as exc:
        load_dataset(mapping_file)
    assert exc.value.hint.startswith("correct data_dir: in the mapping")


SERVICE_ISSUES = """\
service_issues:
  source: {file: issues.csv}
  na_values: ["-"]
  columns: {issue_id: ticket, account_id: client, opened: opened, resolved: closed, severity: prio}
  date_format: {opened: "%d/%m/%Y", resolved: "%d/%m/%Y"}
  recode:
    severity: {P1: escalation, P2: high, P3: low}
"""


def test_service_issues_table_loads_from_a_csv(tmp_path):
    path = write_minimal(tmp_path, MINIMAL + SERVICE_ISSUES)
    (tmp_path / "issues.csv").write_text(
        "ticket,client,opened,closed,prio\nT-1,C1,03/02/2025,05/02/2025,P3\nT-2,C1,01/06/2025,-,P1\nT-3,C2,15/06/2025,,P2\n",
        encoding="utf-8",
    )
    ds = load_dataset(path)
    si = ds.service_issues
    assert list(si.columns) == list(model.COLUMNS["service_issues"])
    assert si["issue_id"].tolist() == ["T-1", "T-2", "T-3"]
    assert str(si["opened"].dtype) == "datetime64[ns]" and str(si["resolved"].dtype) == "datetime64[ns]"
    assert si["opened"].tolist() == [pd.Timestamp("2025-02-03"), pd.Timestamp("2025-06-01"), pd.Timestamp("2025-06-15")]
    assert si["resolved"].isna().tolist() == [False, True, True]
    assert si["severity"].tolist() == ["low", "escalation", "high"]
    assert ds.sources["service_issues"].endswith("issues.csv")
    assert load_dataset(write_minimal(tmp_path)).service_issues is None  # optional


def test_service_issue_problems_name_file_row_and_source_column(tmp_path):
    path = write_minimal(tmp_path, MINIMAL + SERVICE_ISSUES)
    (tmp_path / "issues.csv").write_text(
        "ticket,client,opened,closed,prio\nT-1,C1,03/02/2025,01/02/2025,P3\nT-1,C1,01/06/2025,,P1\n", encoding="utf-8"
    )
    with pytest.raises(DataError) as exc:
        load_dataset(path)
    got = {(Path(p.file).name, p.row, p.column) for p in exc.value.problems}
    assert ("issues.csv", 2, "closed") in got  # resolved before opened
    assert {("issues.csv", 2, "ticket"), ("issues.csv", 3, "ticket")} <= got  # duplicate ticket, both rows
    assert "resolved 2025-02-01 is before opened 2025-02-03" in str(exc.value)


# -- territory crediting: a won deal nobody is credited with is refused at load ------
TERRITORY_MAPPING = (
    MINIMAL.replace(
        "account_id: client, close_date: closed, amount_cents: value}",
        "account_id: client, close_date: closed, amount_cents: value, territory: region}",
    )
    + """\
crediting: territory
territories:
  source: {file: territories.csv}
  columns: {account_manager_id: id, territory: region}
accounts:
  source: {file: accounts.csv}
  columns: {account_id: client, name: name, handover_date: handover}
"""
)


def write_ownerless_won_deals(tmp_path: Path) -> Path:
    """D1 owned; D2 no owner, covered territory; D3 no owner, blank territory; D4 no owner,
    territory 'South' covered by nobody; D5 no owner, no territory, but closed before its
    account's handover (business development: credited to nobody by rule); D6 lost."""
    path = write_minimal(
        tmp_path,
        TERRITORY_MAPPING,
        deals=(
            "ref,rep,client,closed,value,region\n"
            "D1,AM-1,C1,2025-01-05,100.00,North\n"
            "D2,,C1,2025-01-06,200.00,North\n"
            "D3,,C1,2025-01-07,300.00,\n"
            "D4,,C1,2025-01-08,400.00,South\n"
            "D5,,C2,2025-01-09,500.00,\n"
        ),
    )
    (tmp_path / "territories.csv").write_text("id,region\nAM-1,North\n", encoding="utf-8")
    (tmp_path / "accounts.csv").write_text("client,name,handover\nC1,One,\nC2,Two,2025-02-01\n", encoding="utf-8")
    return path


def test_won_deal_without_owner_or_covered_territory_is_refused_at_load_naming_row_and_fix(tmp_path):
    with pytest.raises(DataError) as exc:
        rk.load_dataset(write_ownerless_won_deals(tmp_path))
    problems = {(Path(p.file).name, p.row, p.column, p.value): p.reason for p in exc.value.problems}
    assert set(problems) == {("deals.csv", 4, "region", None), ("deals.csv", 5, "region", "South")}
    blank, uncovered = problems[("deals.csv", 4, "region", None)], problems[("deals.csv", 5, "region", "South")]
    assert "'D3'" in blank and "column 'rep' is blank" in blank and "give the deal an owner" in blank
    assert "'D4'" in uncovered and "add a territories row covering territory 'South'" in uncovered
    assert "400.00 USD" in uncovered


def test_ownerless_deal_closed_before_its_account_handover_still_loads_uncredited(tmp_path):
    path = write_ownerless_won_deals(tmp_path)
    deals = (tmp_path / "deals.csv").read_text(encoding="utf-8").splitlines()
    (tmp_path / "deals.csv").write_text("\n".join(deals[:3] + deals[5:]) + "\n", encoding="utf-8")  # D1, D2, D5
    ds = rk.load_dataset(path)
    from reportkit.crediting import credited_deals

    assert set(credited_deals(ds)["deal_id"]) == {"D1", "D2"}  # D5 is business development's


def test_batch_refuses_a_won_deal_nobody_is_credited_with_exit_2_naming_file_and_row(tmp_path, capsys):
    from reportkit.cli import main

    source = write_ownerless_won_deals(tmp_path)
    params = tmp_path / "params.yaml"
    params.write_text(
        f"name: T\nsource: {source.name}\nperiod: FY2025-Q1\nas_of: 2025-03-31\n"
        'commission: {rate: "0.05"}\nquota_rule: {kind: fixed, amount: "1000.00", per: quarter}\n',
        encoding="utf-8",
    )
    assert main(["batch", str(params), "-o", str(tmp_path / "out"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "deals.csv, row 5, column 'region': value 'South'" in err
    assert "deals.csv, row 4, column 'region'" in err
    assert not (tmp_path / "out" / "account_managers").exists()


# -- what loading changed, counted (issue #14 part 4: data-quality notes) --------------------


def test_loading_counts_the_rows_it_merged_and_the_amounts_it_rounded(tmp_path):
    mapping = MINIMAL.replace("  constants: {stage: won}\n", "  constants: {stage: won}\n  deduplicate: identical\n")
    deals = (
        "ref,rep,client,closed,value\n"
        "D1,AM-1,C1,2025-01-05,100.005\n"
        "D1,AM-1,C1,2025-01-05,100.005\n"  # the same row exported twice
        "D2,AM-1,C2,2025-02-01,20.00\n"
    )
    ds = load_dataset(write_minimal(tmp_path, mapping, deals))
    assert model.load_change_counts(ds) == {"deals": {"merged": 1, "rounded": 1}}
    (note,) = model.load_change_notes(ds, ["deals"])
    assert note.startswith("Data quality (deals): 1 repeated row merged into one; 1 amount with fractions of a cent")
    assert model.load_change_notes(ds, ["quotas"]) == []


def test_a_clean_load_counts_no_changes(tmp_path):
    ds = load_dataset(write_minimal(tmp_path, deals="ref,rep,client,closed,value\nD1,AM-1,C1,2025-01-05,100.00\n"))
    assert ds.load_changes == () and model.load_change_notes(ds) == []


def test_a_lower_case_currency_is_refused_with_the_code_in_capitals(tmp_path):
    path = write_minimal(tmp_path, MINIMAL.replace("currency: USD", "currency: usd"))
    with pytest.raises(MappingError, match=r"currency must be a 3-letter ISO 4217 code in capitals, e\.g\. USD \(got 'usd'\)"):
        load_mapping(path)


def test_a_deals_export_with_only_a_header_row_is_refused_naming_the_file_and_the_fix(tmp_path):
    # a period with no deals is fine (its reports say so); a whole export with none is the wrong file
    path = write_minimal(tmp_path, deals="ref,rep,client,closed,value\n")
    with pytest.raises(DataError) as info:
        load_dataset(path)
    shown = str(info.value)
    assert shown.startswith(f"{tmp_path / 'deals.csv'}: the deals export has no rows (a header only)")
    assert "a header row and no data rows" in shown and "value None" not in shown
    assert "export the deals again" in info.value.hint and "a period without deals is fine" in info.value.hint


def test_a_deals_filter_that_keeps_no_row_is_refused_naming_the_filter_and_the_file(tmp_path):
    # every report would show 0.00: refused as a header-only export is, with the values the file has
    mapping = MINIMAL.replace("  constants: {stage: won}\n", "  constants: {stage: won}\n  filter: {client: [c1, C 2]}\n")
    path = write_minimal(
        tmp_path, mapping, deals="ref,rep,client,closed,value\nD1,AM-1,C1,2025-01-05,1.00\nD2,AM-1,C2,2025-02-01,2.00\n"
    )
    with pytest.raises(DataError) as info:
        load_dataset(path)
    shown = str(info.value)
    why = "the mapping's deals filter: {client: ['c1', 'C 2']} keeps none of the 2 rows"
    assert shown.startswith(f"{tmp_path / 'deals.csv'}: {why}")
    assert f"{tmp_path / 'deals.csv'}, column 'client': {why}; values found in column 'client': 'C1', 'C2'" in shown
    assert f"correct the filter's values in {path}" in info.value.hint


def test_a_deals_drop_rows_where_that_drops_every_row_is_refused_naming_the_rule_and_the_file(tmp_path):
    # drop_rows_where is for footers; one matching every row (a stage listed by mistake) would pay nothing
    mapping = MINIMAL.replace("  constants: {stage: won}\n", "  constants: {stage: won}\n  drop_rows_where: {rep: [AM-1]}\n")
    path = write_minimal(
        tmp_path, mapping, deals="ref,rep,client,closed,value\nD1,AM-1,C1,2025-01-05,1.00\nD2,AM-1,C2,2025-02-01,2.00\n"
    )
    with pytest.raises(DataError) as info:
        load_dataset(path)
    shown = str(info.value)
    why = "the mapping's deals drop_rows_where: {rep: ['AM-1']} drops all 2 rows"
    assert shown.startswith(f"{tmp_path / 'deals.csv'}: {why}")
    assert f"{tmp_path / 'deals.csv'}, column 'rep': {why}; 2 rows of column 'rep' match" in shown
    assert f"list in {path}'s drop_rows_where only the texts of the rows to drop" in info.value.hint


def test_a_deals_drop_rows_where_that_drops_a_footer_loads_the_other_rows(tmp_path):
    mapping = MINIMAL.replace("  constants: {stage: won}\n", "  constants: {stage: won}\n  drop_rows_where: {ref: [Total]}\n")
    path = write_minimal(tmp_path, mapping, deals="ref,rep,client,closed,value\nD1,AM-1,C1,2025-01-05,1.00\nTotal,,,,1.00\n")
    assert load_dataset(path).deals["deal_id"].tolist() == ["D1"]


def test_a_deals_filter_that_keeps_some_rows_loads_them(tmp_path):
    mapping = MINIMAL.replace("  constants: {stage: won}\n", "  constants: {stage: won}\n  filter: {client: [C2]}\n")
    path = write_minimal(
        tmp_path, mapping, deals="ref,rep,client,closed,value\nD1,AM-1,C1,2025-01-05,1.00\nD2,AM-1,C2,2025-02-01,2.00\n"
    )
    assert load_dataset(path).deals["deal_id"].tolist() == ["D2"]


def test_a_blank_amount_is_shown_as_blank_not_none(tmp_path):
    path = write_minimal(tmp_path, deals="ref,rep,client,closed,value\nD1,AM-1,C1,2025-01-05,\n")
    with pytest.raises(DataError) as info:
        load_dataset(path)
    assert f"{tmp_path / 'deals.csv'}, row 2, column 'value': value blank: amount_cents is required (blank or missing)" in str(
        info.value
    )
    assert "None" not in str(info.value)


@pytest.mark.parametrize(
    "ids",
    [
        ["D-1", "D-2", "D-3", "D-4"],  # in order: one comparison of neighbours
        ["D-4", "D-3", "D-2", "D-1"],  # in reverse order
        ["D-1", "D-2", "D-2", "D-3"],  # in order with a repeat: hashed
        ["D-3", "D-1", "D-3", "D-2"],
        ["D-1", None, "D-2", None],
        ["D-1", "D-2", None, "D-3"],
        ["é", "e", "É", "é"],
        ["D-1"],
        [],
    ],
)
def test_repeated_ids_are_the_cells_duplicated_finds_in_any_order(ids):
    from reportkit.data.mapping.table import _repeated

    s = pd.Series(ids, dtype="str")
    want = (s.duplicated(keep=False) & s.notna()).to_numpy()
    assert _repeated(s).tolist() == want.tolist()


@pytest.mark.parametrize("value", ["USD", "(unassigned)", " ", "", "€ Ω", None])
def test_a_constant_text_column_is_the_column_pandas_builds(value):
    from reportkit.data.mapping.read import _text_constant

    index = pd.RangeIndex(4)
    pd.testing.assert_series_equal(_text_constant(value, index), pd.Series(value, index=index, dtype="str"), check_exact=True)


@pytest.mark.parametrize(
    ("cells", "table"),
    [
        (["Won", "Lost", None, "won", " Won", "", "Wön", "Lost"], {"Won": "won", "Lost": "lost", "": "x", "Wön": "ü"}),
        ([None, None], {"Won": "won"}),
        ([], {"Won": "won"}),
        (["a", "b"], {}),
    ],
)
def test_recode_translates_each_exact_text_and_marks_the_rest_unknown(cells, table):
    from reportkit.data.mapping.values import _recode

    s = pd.Series(cells, dtype="str", index=range(10, 10 + len(cells)))
    recoded, known = _recode(s, table)
    want = [table.get(c) if isinstance(c, str) else None for c in cells]
    pd.testing.assert_series_equal(recoded, pd.Series(want, index=s.index, dtype="str"), check_exact=True)
    assert known.tolist() == [w is not None for w in want]


def test_deals_outside_quota_periods_are_those_no_period_covers_with_overlaps_gaps_and_both_ends_included():
    from reportkit.data.mapping.problems import _outside_quota_periods

    spans = [
        ("2025-01-01", "2025-06-30"),
        ("2025-02-01", "2025-03-31"),
        ("2025-08-01", "2025-08-31"),
        ("2025-08-15", "2025-09-30"),
    ]
    days = ["2024-12-31", "2025-01-01", "2025-04-01", "2025-06-30", "2025-07-01", "2025-07-31", "2025-08-01", "2025-09-30"]
    days += ["2025-10-01"]
    quotas = pd.DataFrame(
        {"period_start": pd.to_datetime([s for s, _ in spans]), "period_end": pd.to_datetime([e for _, e in spans])}
    ).astype("datetime64[ns]")
    deals = pd.DataFrame({"deal_id": [f"D{i}" for i in range(len(days))], "close_date": pd.to_datetime(days)})
    deals["close_date"] = deals["close_date"].astype("datetime64[ns]")
    (note,) = _outside_quota_periods(model.Dataset(account_managers=None, quotas=quotas, deals=deals))
    outside = [d for d, day in zip(deals["deal_id"], days) if not any(s <= day <= e for s, e in spans)]
    assert outside == ["D0", "D4", "D5", "D8"]
    assert note.startswith(f"deals: {len(outside)} of 9 deals close outside every quota period") and ", ".join(outside) in note


def test_every_table_mapping_field_is_declared_as_writing_cells_after_na_values_or_not():
    """The loader trusts a column's blank cells only when no step wrote it (``table._blank_free``): a new
    mapping field must be declared in one of the two lists, and each writing field shows in ``written_columns``."""
    from reportkit.data.mapping.schema import FxRatesMapping, TableMapping

    writing, keeping = set(TableMapping.WRITING_FIELDS), set(TableMapping.KEEPING_FIELDS)
    assert writing | keeping == set(FxRatesMapping.model_fields) and not writing & keeping
    one_each = {
        "normalise": {"normalise": {"stage": {"W": "won"}}},
        "unpivot": {"unpivot": {"columns": ["Q1"], "key": "quarter", "value": "quota"}},
        "number": {"number": {"name": "line", "by": ["order"]}},
        "lookups": {"lookups": [{"source": {"file": "owners.csv"}, "key": "rep", "columns": {"name": "owner"}}]},
        "columns": {"columns": {"deal_id": "{order}-{line}"}},
        "recode": {"recode": {"stage": {"W": "won"}}},
    }
    assert set(one_each) == writing
    for field, given in one_each.items():
        source, canonical = TableMapping.model_validate({"source": {"file": "deals.csv"}, **given}).written_columns()
        assert source or canonical, f"{field} writes no column by written_columns()"
    assert TableMapping.model_validate({"source": {"file": "deals.csv"}, "columns": {"deal_id": "id"}}).written_columns() == (
        set(),
        set(),
    )


def test_placeholder_cells_is_the_strip_rule_for_every_code_point_on_arrow_and_python_text():
    import sys

    import pyarrow as pa

    from reportkit.data.mapping.values import _PLACEHOLDERS, placeholder_cells

    chars = [chr(i) for i in range(sys.maxunicode + 1) if not 0xD800 <= i <= 0xDFFF]
    named = sorted(_PLACEHOLDERS)
    cells = [
        *chars,
        *[c + p for c in chars for p in ("NA", "?")],  # each character before a placeholder
        *[p + c for c in chars for p in ("(null)", "-")],  # and after one
        *named,
        *[f" {p}\t" for p in named],
        "",
        None,
        "\u3000null\u2029",
        "\x1cNULL\x1f",
        "x NULL",
        "N/A x",
        "na\u200b",
        "Nn",
    ]
    expected = [c is not None and c.strip() in _PLACEHOLDERS for c in cells]
    assert sum(expected) > 2 * len(named)  # the placeholders as written and padded by whitespace
    for dtype in ("str", object):  # Arrow-backed text (its first and last bytes) and Python objects (str.strip)
        got = placeholder_cells(pd.Series(cells, dtype=dtype))
        assert got.dtype == bool
        assert got.tolist() == expected
    # sliced chunks, 32-bit offsets, a missing and an empty cell
    chunks = pa.chunked_array(
        [pa.array(["x", " N/A", None, "", "na "], pa.string()).slice(1), pa.array(["--", "a"], pa.string())]
    )
    assert placeholder_cells(pd.Series(pd.array(chunks, dtype="str"))).tolist() == [True, False, False, True, True, False]
