"""Batch params: strict, typed, with messages that name the key, value and fix."""

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from reportkit.config.params import load_params
from reportkit.core.errors import ParamsError


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
    assert p.reports == ("account_manager", "team", "company")
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


# -- YAML's surprises ------------------------------------------------------------------
def test_yaml_surprises_are_explained_with_the_text_as_written(tmp_path):
    text = "source: s.yaml\nperiod: NO\nas_of: 2020-01-01\nname: 0731\naccount_managers: [0731]\n"
    with pytest.raises(ParamsError) as info:
        load_params(write(tmp_path, text))
    msg = str(info.value)
    assert "YAML reads the unquoted 'NO' as the boolean False" in msg and 'quote it ("NO")' in msg
    assert "YAML reads the unquoted '0731' as the number 473" in msg  # YAML 1.1 octal
    assert "key 'name'" in msg and "key 'account_managers.0'" in msg  # the list item named


def test_on_as_a_key_is_refused(tmp_path):
    with pytest.raises(ParamsError, match=r"key 'performance.on' is read by YAML as the boolean"):
        load_params(write(tmp_path, BASE + "performance: {on: 2}\n"))


def test_bare_dates_exponents_and_quoted_values_get_the_intended_types(tmp_path):
    p = load_params(write(tmp_path, BASE + "timeout_s: 1e3\ncommission: {rate: 1e-2}\nname: '0731'\n"))
    assert p.as_of == dt.date(2019, 9, 30)  # bare date
    assert p.timeout_s == 1000.0  # YAML 1.1 reads 1e3 as text; the model makes it a number
    assert p.commission.rate == Decimal("0.01")
    assert p.name == "0731"


def test_a_bare_date_where_a_label_is_expected_is_explained(tmp_path):
    with pytest.raises(ParamsError) as info:
        load_params(write(tmp_path, "source: s.yaml\nperiod: 2020-01-01\nas_of: 2020-01-01\n"))
    assert "key 'period'" in str(info.value) and "as a date" in str(info.value)


def test_params_file_with_only_comments_means_defaults_then_required_keys(tmp_path):
    with pytest.raises(ParamsError) as info:
        load_params(write(tmp_path, "# nothing yet\n"))
    msg = str(info.value)
    assert msg.count("is required but missing") == 3


def test_unknown_key_in_a_nullable_section_is_refused_with_did_you_mean(tmp_path):
    with pytest.raises(ParamsError, match=r"quota_rule.amout' is not allowed; did you mean 'amount'"):
        load_params(write(tmp_path, BASE + "quota_rule: {amout: '5'}\n"))


# -- command-line overrides ----------------------------------------------------------------
def test_parse_overrides_keeps_strings_and_splits_lists():
    from reportkit.config.params import parse_overrides

    got = parse_overrides(
        [
            "period=FY2020-Q1",
            "account_managers=00731,00812",
            "name=NO",
            "commission.rate=0.07",
            "as_of=2020-01-01",
            "timeout_s=1e3",
        ]
    )
    assert got == {
        "period": "FY2020-Q1",
        "account_managers": ["00731", "00812"],
        "name": "NO",
        "commission": {"rate": "0.07"},
        "as_of": "2020-01-01",
        "timeout_s": "1e3",
    }


def test_overrides_merge_nested_keys_and_report_their_origin(tmp_path):
    from reportkit.config.params import parse_overrides

    path = write(tmp_path, BASE + "commission: {rate: '0.05', quota_bonus: {amount: '100'}}\n")
    p = load_params(path, parse_overrides(["commission.rate=0.07", "account_managers=00731"]))
    assert p.commission.rate == Decimal("0.07") and p.commission.quota_bonus.amount == Decimal("100")
    assert p.account_managers == ("00731",)
    with pytest.raises(ParamsError, match=r"command line \(-p commission.rate=...\)"):
        load_params(path, parse_overrides(["commission.rate=lots"]))


@pytest.mark.parametrize(
    "item,message",
    [
        ("perod=FY2020-Q1", "did you mean 'period'"),
        ("commission.rte=0.1", "did you mean 'rate'"),
        ("period", "is not key=value"),
        ("=x", "empty key"),
        ("commission=0.1", "is a section"),
        ("period.x=1", "is a value, not a section"),
        ("account_managers=00731,", "empty item"),
    ],
)
def test_bad_overrides_are_refused(item, message):
    from reportkit.config.params import parse_overrides

    with pytest.raises(ParamsError, match=message):
        parse_overrides([item])


def test_override_given_twice_is_refused():
    from reportkit.config.params import parse_overrides

    with pytest.raises(ParamsError, match="given twice"):
        parse_overrides(["period=FY2020-Q1", "period=FY2020-Q2"])


def test_impossible_bare_date_is_a_params_error_naming_the_key_its_line_and_the_fix(tmp_path):
    with pytest.raises(ParamsError) as info:
        load_params(write(tmp_path, "source: s.yaml\nperiod: FY2025-Q4\nas_of: 2025-11-31\n"))
    msg = str(info.value)
    assert "p.yaml, line 3: key 'as_of':" in msg and "'2025-11-31'" in msg
    assert "write a real calendar date in YYYY-MM-DD form" in msg


@pytest.mark.parametrize(
    "as_of,what",
    [("2023-13-03", "month 13 does not exist"), ("2025-11-31", "day 31 does not exist in November 2025")],
)
def test_a_params_date_of_the_right_form_says_which_part_does_not_exist(tmp_path, as_of, what):
    with pytest.raises(ParamsError) as info:
        load_params(write(tmp_path, f"source: s.yaml\nperiod: FY2025-Q4\nas_of: {as_of}\n"))
    assert f"p.yaml, line 3: key 'as_of': not a date: {what} (got '{as_of}')" in str(info.value)


def test_every_error_of_a_params_file_is_listed_at_once_each_with_file_line_key_value_and_fix(tmp_path):
    """The trial's two cases, plus a third: before, the date stopped the read and the period came later, alone."""
    text = 'name: x\nsource: s.yaml\nperiod: FY2025Q4\nas_of: 2025-02-31\ncommission:\n  rate: "lots"\n'
    with pytest.raises(ParamsError) as info:
        load_params(write(tmp_path, text))
    lines = str(info.value).splitlines()
    assert len(lines) == 3, lines
    period, as_of, rate = lines
    assert period.startswith(f"{tmp_path / 'p.yaml'}, line 3: key 'period': 'FY2025Q4' is not a fiscal period label")
    assert "did you mean 'FY2025-Q4'?" in period and "FY2020-Q1 (a quarter)" in period
    assert as_of.startswith(f"{tmp_path / 'p.yaml'}, line 4: key 'as_of':") and "'2025-02-31'" in as_of
    assert "YYYY-MM-DD" in as_of
    assert rate.startswith(f"{tmp_path / 'p.yaml'}, line 6: key 'commission.rate':") and "'lots'" in rate


@pytest.mark.parametrize(
    "label, words",
    [("FY2025-Q5", "a quarter number must be 1..4"), ("FY2025-M13", "a month number must be 1..12"), ("2025", "")],
)
def test_a_period_label_of_another_form_names_the_forms_allowed(tmp_path, label, words):
    with pytest.raises(ParamsError) as info:
        load_params(write(tmp_path, f"source: s.yaml\nperiod: '{label}'\nas_of: 2025-12-31\n"))
    msg = str(info.value)
    assert msg.startswith(f"{tmp_path / 'p.yaml'}, line 2: key 'period': '{label}'") and words in msg
    assert "FY2020 (a fiscal year), FY2020-Q1 (a quarter) or FY2020-M01 (a month)" in msg


def test_timezone_defaults_to_utc_and_takes_an_iana_name(tmp_path):
    assert load_params(write(tmp_path, BASE)).timezone == "UTC"
    assert load_params(write(tmp_path, BASE + "timezone: Europe/Berlin\n")).timezone == "Europe/Berlin"
    assert (
        load_params(write(tmp_path, BASE + "timezone: America/Argentina/Buenos_Aires\n")).timezone
        == "America/Argentina/Buenos_Aires"
    )


@pytest.mark.parametrize(
    "value, suggestion",
    [
        ("Europe/Berln", "did you mean 'Europe/Berlin'"),
        ("europe/berlin", "did you mean 'Europe/Berlin'"),
        ("Mars/Olympus", None),
        ("/etc/localtime", None),
        ("'+02:00'", None),
        ("1", None),
    ],
)
def test_unknown_timezone_is_a_params_error_naming_key_value_and_fix(tmp_path, value, suggestion):
    with pytest.raises(ParamsError) as info:
        load_params(write(tmp_path, BASE + f"timezone: {value}\n"))
    msg = str(info.value)
    assert "p.yaml" in msg and "key 'timezone'" in msg
    assert repr(value.strip("'")) in msg or f"got {value}" in msg
    assert "IANA" in msg and "'Europe/Berlin'" in msg  # the fix, with an example
    if suggestion:
        assert suggestion in msg


def test_timezone_can_be_set_from_the_command_line(tmp_path):
    from reportkit.config.params import parse_overrides

    path = write(tmp_path, BASE + "timezone: Europe/Berlin\n")
    assert load_params(path, parse_overrides(["timezone=Asia/Kolkata"])).timezone == "Asia/Kolkata"
    with pytest.raises(ParamsError, match=r"command line \(-p timezone=\.\.\.\).*'Asia/Kolkatta'.*did you mean 'Asia/Kolkata'"):
        load_params(path, parse_overrides(["timezone=Asia/Kolkatta"]))


def test_miss_below_must_be_a_finite_fraction(tmp_path):
    assert load_params(write(tmp_path, BASE + "performance: {miss_below: 0.75}\n")).performance.miss_below == 0.75
    for bad in (".inf", "-0.1", ".nan"):
        with pytest.raises(ParamsError, match=r"performance.miss_below"):
            load_params(write(tmp_path, BASE + f"performance: {{miss_below: {bad}}}\n"))


@pytest.mark.parametrize("path", sorted((Path(__file__).resolve().parents[1] / "params").glob("*.yaml")), ids=lambda p: p.name)
def test_a_bundled_params_name_carries_no_period_label_that_an_overridden_period_would_contradict(path):
    # name is every report's banner and company line: 'X (FY2020-Q4)' would head a
    # '-p period=FY2020-Q3' batch; the period is in every title already
    name = yaml.safe_load(path.read_text(encoding="utf-8"))["name"]
    assert not re.search(r"FY\d{4}", name), f"{path.name}: name {name!r} names a period"
