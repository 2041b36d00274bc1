"""A key given twice in one YAML mapping is refused, naming both lines, by every loader
(params, plans, source mappings): plain YAML keeps the last one silently."""

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
