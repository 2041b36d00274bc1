"""The did-you-mean of every message: the nearest allowed value by edit distance, or no suggestion."""

from __future__ import annotations

import pytest
from demo_params import demo_params

from reportkit.core.errors import ParamsError, closest, did_you_mean

DEMO_IDS = ["AM-001", "AM-002", "AM-003", "AM-004", "AM-005", "AM-006", "AM-007", "AM-008", "AM-009", "AM-010", "0731", "AM-012"]


def test_an_id_typed_with_the_letter_o_for_zero_suggests_the_id_it_was_meant_to_be():
    """The trial's case: 'AM-0O1' suggested 'AM-012' (difflib's longest common blocks)."""
    assert did_you_mean("AM-0O1", DEMO_IDS) == "; did you mean 'AM-001'?"
    assert closest("am-0o1", DEMO_IDS) == "AM-001"  # case and O/0 alike


@pytest.mark.parametrize(
    "typed, meant",
    [("AM-0121", "AM-012"), ("AM-0l2", "AM-012"), ("AM_003", "AM-003"), ("peroid", "period"), ("perod", "period")],
)
def test_the_suggestion_is_the_nearest_allowed_value(typed, meant):
    assert closest(typed, [*DEMO_IDS, "period", "as_of"]) == meant


@pytest.mark.parametrize("typed", ["AM-999", "XYZ", "Q1"])
def test_a_value_near_no_allowed_one_gets_no_suggestion(typed):
    assert did_you_mean(typed, DEMO_IDS) == ""


def test_an_unknown_account_manager_in_params_names_the_file_its_line_and_the_nearest_id(tmp_path):
    from reportkit.config.params import load_params
    from reportkit.core.periods import Period
    from reportkit.domain.loading import load_inputs
    from reportkit.reports.planning import reported_managers

    path = demo_params(tmp_path, account_managers=["AM-001", "AM-0O1", "XYZ"])
    params = load_params(path)
    _, ds = load_inputs(path)
    with pytest.raises(ParamsError) as info:
        reported_managers(ds, params, Period.parse(params.period, ds.calendar))
    lines = str(info.value).splitlines()
    text = path.read_text().splitlines()
    line_of = {v.strip("- '\""): i + 1 for i, v in enumerate(text) if v.lstrip().startswith("- ")}
    assert lines[0].startswith(f"{path}, line {line_of['AM-0O1']}: key 'account_managers.1': account manager 'AM-0O1'")
    assert lines[0].endswith("did you mean 'AM-001'?")
    assert lines[1].startswith(f"{path}, line {line_of['XYZ']}: key 'account_managers.2'")
    assert "no id of the data is near it" in lines[1]
