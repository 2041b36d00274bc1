"""Batch params: strict, typed, with messages that name the key, value and fix."""

import datetime as dt
from decimal import Decimal

import pytest

from reportkit.errors import ParamsError
from reportkit.params import load_params


def write(tmp_path, text, name="p.yaml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


BASE = "source: sources/x.yaml\nperiod: FY2020-Q1\nas_of: 2019-09-30\n"


def test_minimal_params_get_documented_defaults(tmp_path):
    p = load_params(write(tmp_path, BASE))
    assert p.period == "FY2020-Q1"
    assert p.as_of == dt.date(2019, 9, 30)
    assert p.commission.rate == Decimal("0.05")
    assert p.performance.watch_after == 2
    assert p.reports == ("account_manager", "team")
    assert p.resolve(p.source) == (tmp_path / "sources/x.yaml").resolve()


def test_unknown_key_is_refused_with_did_you_mean(tmp_path):
    with pytest.raises(ParamsError) as info:
        load_params(write(tmp_path, BASE + "perfromance: {}\n"))
    msg = str(info.value)
    assert "perfromance" in msg and "did you mean 'performance'" in msg
    assert "p.yaml" in msg


def test_unknown_nested_key_names_its_path(tmp_path):
    with pytest.raises(ParamsError) as info:
        load_params(write(tmp_path, BASE + "commission: {rte: '0.1'}\n"))
    assert "commission.rte" in str(info.value) and "did you mean 'rate'" in str(info.value)


def test_empty_params_file_reports_the_required_keys(tmp_path):
    with pytest.raises(ParamsError) as info:
        load_params(write(tmp_path, ""))
    msg = str(info.value)
    for key in ("source", "period", "as_of"):
        assert key in msg


def test_unquoted_numeric_account_manager_id_is_refused_not_reinterpreted(tmp_path):
    with pytest.raises(ParamsError, match="must be quoted"):
        load_params(write(tmp_path, BASE + "account_managers: [0731]\n"))
    p = load_params(write(tmp_path, BASE + "account_managers: ['0731']\n"))
    assert p.account_managers == ("0731",)


def test_money_given_as_float_is_refused(tmp_path):
    with pytest.raises(ParamsError, match="quoted string"):
        load_params(write(tmp_path, BASE + "commission: {quota_bonus: {amount: 1000.5}}\n"))


def test_yaml_norway_problem_in_period_is_caught(tmp_path):
    # `period: NO` would be parsed by YAML 1.1 as False
    with pytest.raises(ParamsError, match="period"):
        load_params(write(tmp_path, "source: s.yaml\nperiod: NO\nas_of: 2020-01-01\n"))


def test_overrides_keep_strings_as_strings(tmp_path):
    p = load_params(write(tmp_path, BASE), overrides={"account_managers": ["00123"]})
    assert p.account_managers == ("00123",)


def test_missing_file_and_bad_yaml_are_params_errors(tmp_path):
    with pytest.raises(ParamsError, match="does not exist"):
        load_params(tmp_path / "nope.yaml")
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_params(write(tmp_path, "period: [unclosed\n"))


def test_watch_policy_must_escalate_in_order(tmp_path):
    with pytest.raises(ParamsError, match="termination_review_after"):
        load_params(write(tmp_path, BASE + "performance: {watch_after: 3, termination_review_after: 2}\n"))
