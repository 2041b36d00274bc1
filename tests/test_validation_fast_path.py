"""A valid table skips pandera; a table that may break a schema rule gets pandera's every-cell answer.

:func:`reportkit.data.model.table_problems` first evaluates the schema's rules
vectorised (``model._passes_schema``, the same rules :func:`model.schema` gives pandera);
only when that cannot vouch for the table does it import and run pandera. These tests
pin that the shortcut never changes an answer: for a table of each broken case the
problems are exactly those of the pandera path, and a valid data set loads without
pandera being imported at all.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reportkit.data import model

ROOT = Path(__file__).resolve().parents[1]


def table(table_name: str, /, **cols) -> pd.DataFrame:
    """A canonical table ``table_name`` of the given columns (the others missing), each in its kind's dtype."""
    n = len(next(iter(cols.values())))
    data = {}
    for c, (kind, _) in model.table_columns(table_name).items():
        if c not in model.COLUMNS[table_name] and c not in cols:
            continue  # optional columns only when given
        values = cols.get(c, [None] * n)
        if kind == "date":
            data[c] = pd.Series(pd.to_datetime(values), dtype="datetime64[ns]")
        elif isinstance(values, pd.Series):
            data[c] = values
        else:
            dtype = {"str": "str", "cents": "int64", "float": "float64", "micros": "int64"}[kind]
            data[c] = pd.Series(values, dtype=dtype)
    data[model.SOURCE_FILE] = pd.Series(["case.csv"] * n, dtype="str")
    data[model.SOURCE_ROW] = pd.Series(range(2, n + 2), dtype="int64")
    return pd.DataFrame(data)


def valid_deals(**over) -> pd.DataFrame:
    cols = {
        "deal_id": ["D1", "D2", "D3"],
        "account_manager_id": ["AM-1", None, "AM-2"],
        "account_id": ["C1", "C2", "C3"],
        "close_date": ["2025-01-01", "2025-01-02", "2025-02-01"],
        "amount_cents": [100, -50, 0],
        "currency": ["USD"] * 3,
        "stage": ["won", "lost", "won"],
    }
    return table("deals", **{**cols, **over})


def quotas(**over) -> pd.DataFrame:
    cols = {
        "account_manager_id": ["AM-1", "AM-2"],
        "period_start": ["2025-01-01"] * 2,
        "period_end": ["2025-03-31"] * 2,
        "quota_cents": [100, 200],
        "currency": ["USD"] * 2,
    }
    return table("quotas", **{**cols, **over})


def pipeline(**over) -> pd.DataFrame:
    cols = {
        "opportunity_id": ["O1", "O2"],
        "account_manager_id": ["AM-1"] * 2,
        "account_id": ["C1"] * 2,
        "stage": ["Proposal"] * 2,
        "probability": [0.5, 0.25],
        "amount_cents": [1, 2],
    }
    return table("pipeline", **{**cols, **over})


BROKEN = {
    "deal_id_repeated": ("deals", lambda: valid_deals(deal_id=["D1", "D2", "D1"])),
    "deal_id_missing": ("deals", lambda: valid_deals(deal_id=["D1", None, "D3"])),
    "stage_neither_won_nor_lost": ("deals", lambda: valid_deals(stage=["won", "open", "won"])),
    "account_id_blank_text": ("deals", lambda: valid_deals(account_id=["C1", "  ", "C3"])),
    "product_blank_text": ("deals", lambda: valid_deals(product=["Core", "", None])),
    "deal_type_blank_text": ("deals", lambda: valid_deals(deal_type=["renewal", " ", None])),
    "negative_quota": ("quotas", lambda: quotas(quota_cents=[100, -1])),
    # the rule quota >= 0 cannot compare text: pandera says so
    "quota_as_text": ("quotas", lambda: quotas(quota_cents=pd.Series(["100", "x"], dtype="object"))),
    "quota_without_period_end": ("quotas", lambda: quotas(period_end=["2025-03-31", None])),
    "probability_above_one": ("pipeline", lambda: pipeline(probability=[0.5, 1.5])),
    "probability_missing": ("pipeline", lambda: pipeline(probability=[0.5, np.nan])),
    "territory_assigned_twice": (
        "territories",
        lambda: table("territories", account_manager_id=["AM-1", "AM-1"], territory=["North", "North"]),
    ),
    "measure_given_twice": (
        "measures",
        lambda: table(
            "measures",
            account_manager_id=["AM-1"] * 2,
            period_start=["2025-01-01"] * 2,
            period_end=["2025-03-31"] * 2,
            measure=["margin"] * 2,
            value_micros=[1, 2],
        ),
    ),
    "manager_without_team": (
        "account_managers",
        lambda: table("account_managers", account_manager_id=["AM-1"], name=["Ann"], team=[None], sales_manager=["Nora"]),
    ),
}


def pandera_problems(name: str, frame: pd.DataFrame, monkeypatch) -> list:
    with monkeypatch.context() as m:
        m.setattr(model, "_passes_schema", lambda *_: False)
        return model.table_problems(name, frame)


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_table_breaking_a_schema_rule_gets_the_same_problems_as_pandera_alone(case, monkeypatch):
    name, make = BROKEN[case]
    frame = make()
    assert not model._passes_schema(name, frame)
    expected = pandera_problems(name, frame, monkeypatch)
    assert expected, f"{case}: pandera finds nothing, so the case breaks no rule"
    assert model.table_problems(name, frame) == expected


@pytest.mark.parametrize(
    "name, frame",
    [
        ("deals", valid_deals()),
        ("deals", valid_deals(product=["Core", None, "Plus"], deal_type=[None, "renewal", "new_logo"])),
        ("quotas", quotas()),
        ("pipeline", pipeline()),
        ("territories", table("territories", account_manager_id=["AM-1", "AM-1"], territory=["North", "South"])),
    ],
    ids=["deals_with_an_ownerless_deal", "deals_with_optional_columns", "quotas", "pipeline", "two_territories_of_one_manager"],
)
def test_a_valid_table_passes_both_paths_with_no_problem(name, frame, monkeypatch):
    assert model._passes_schema(name, frame)
    assert pandera_problems(name, frame, monkeypatch) == []
    assert model.table_problems(name, frame) == []


def test_loading_the_demo_data_set_does_not_import_pandera():
    code = (
        "import sys; import reportkit as rk; "
        "ds = rk.load_dataset('params/sources/demo.yaml'); "
        "print(len(ds.deals), 'pandera' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert int(out[0]) > 0 and out[1] == "False"


REVERSED_DATES = {
    "quota_ending_before_it_starts": ("quotas", lambda: quotas(period_end=["2025-03-31", "2024-12-31"])),
    "measure_period_ending_before_it_starts": (
        "measures",
        lambda: table(
            "measures",
            account_manager_id=["AM-1"],
            period_start=["2025-04-01"],
            period_end=["2025-03-31"],
            measure=["margin"],
            value_micros=[1],
        ),
    ),
}


@pytest.mark.parametrize("case", sorted(REVERSED_DATES))
def test_a_row_with_its_dates_in_reverse_gets_the_same_one_problem_on_both_paths(case, monkeypatch):
    name, make = REVERSED_DATES[case]
    frame = make()
    got = model.table_problems(name, frame)
    assert got == pandera_problems(name, frame, monkeypatch)
    (p,) = got
    assert (p.file, p.row, p.column) == ("case.csv", 3 if name == "quotas" else 2, "period_end")
    assert "period_end" in p.reason and "is before period_start" in p.reason and "swap the two dates" in p.reason


def test_the_mapping_checks_for_repeats_the_same_id_columns_the_schema_holds_unique():
    """``validate_dataset(ids_checked=...)`` skips hashing an id the mapping checked: the same columns."""
    from reportkit.data.mapping.table import _UNIQUE_KEYS, ID_CHECKED

    assert set(model._UNIQUE_ID) == ID_CHECKED
    assert all(_UNIQUE_KEYS[t] == [model._UNIQUE_ID[t]] for t in ID_CHECKED)
