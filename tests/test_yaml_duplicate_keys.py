"""A key given twice in one YAML mapping is refused, naming both lines, by every loader
(params, plans, source mappings): plain YAML keeps the last one silently. An empty file,
or one whose top level is not keys, is refused in words, by the same one reader."""

from __future__ import annotations

import pytest

from reportkit.config.params import load_params
from reportkit.config.plans import load_plan
from reportkit.core.errors import MappingError, ParamsError, PlanError
from reportkit.data.mapping import load_mapping


@pytest.mark.parametrize(
    "loader, error, text",
    [
        (load_params, ParamsError, "source: sources/demo.yaml\nperiod: FY2025-Q4\nperiod: FY2025-Q3\n"),
        (
            load_plan,
            PlanError,
            'name: p\nundefined_attainment: pay_nothing\nrates: {method: flat, basis: amount, tiers: [{from: 0, rate: "0.05"}]}\n'
            "undefined_attainment: refuse\n",
        ),
        (load_mapping, MappingError, "name: m\ncurrency: USD\ncurrency: EUR\n"),
    ],
    ids=["params", "plan", "mapping"],
)
def test_a_key_given_twice_is_refused_with_both_lines(tmp_path, loader, error, text):
    path = tmp_path / "file.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(error) as info:
        loader(path)
    message = str(info.value)
    assert str(path) in message and "is given twice" in message
    key, first = (
        ("period", 2) if loader is load_params else ("undefined_attainment", 2) if loader is load_plan else ("currency", 2)
    )
    last = text.count("\n") if loader is load_plan else 3
    assert f"key {key!r}" in message and f"lines {first} and {last}" in message


def test_the_same_key_in_two_different_mappings_is_fine(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text(
        'name: p\nrates: {method: flat, basis: amount, tiers: [{from: 0, rate: "0.05"}]}\n'
        'rate_components: [{name: a, method: flat, basis: amount, tiers: [{from: 0, rate: "0.01"}]}]\n',
        encoding="utf-8",
    )
    assert load_plan(path).name == "p"


@pytest.mark.parametrize(
    "loader, error, what",
    [(load_plan, PlanError, "plan file"), (load_mapping, MappingError, "source mapping")],
    ids=["plan", "mapping"],
)
def test_an_empty_file_is_refused_as_empty_not_by_a_python_type_name(tmp_path, loader, error, what):
    path = tmp_path / "file.yaml"
    path.write_text("# nothing yet\n\n", encoding="utf-8")
    with pytest.raises(error) as exc:
        loader(path)
    assert str(exc.value).startswith(f"{path}: the {what} is empty (no keys, only blank lines or comments)")
    assert "NoneType" not in str(exc.value) and exc.value.hint.startswith("write one 'key: value' per line")


@pytest.mark.parametrize(
    "loader, error, text, got",
    [
        (load_params, ParamsError, "- source: sources/demo.yaml\n", "a list (lines starting with '- ')"),
        (load_plan, PlanError, "just a name\n", "the single value 'just a name'"),
    ],
    ids=["params-list", "plan-scalar"],
)
def test_a_file_that_is_not_key_value_lines_says_what_yaml_read(tmp_path, loader, error, text, got):
    path = tmp_path / "file.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(error, match="must be 'key: value' lines, but YAML reads it as ") as exc:
        loader(path)
    assert got in str(exc.value) and exc.value.hint.startswith("write one 'key: value' per line")
