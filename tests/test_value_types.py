"""One type per kind of value: params, plans and mappings accept and refuse a value alike.

Each loader reads a tiny YAML file written here with the value under test in one
of its slots; an accepted value must load as the same Python value everywhere, a
refused one must give the same message everywhere (after the file name and key
path, which each message names). The rule itself is ``reportkit.core.types``.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from test_mapping import MINIMAL

from reportkit.config.params import load_params
from reportkit.config.plans import load_assignments, load_plan
from reportkit.core.errors import InputError
from reportkit.data.mapping import load_mapping

PLAN = "name: t\nrates:\n  method: flat\n  basis: amount\n  tiers: [{from: 0, rate: RATE}]\n"
PARAMS = "source: sources/x.yaml\nperiod: FY2020-Q1\nas_of: 2019-09-30\n"
MAPPING = MINIMAL.replace("constants: {stage: won}", "constants: {stage: won, territory: VALUE}")


def _load(tmp_path, name, text, loader):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return loader(path)


def _slot(key, name, text, loader, get):
    """A place for a value: (key path in messages, function(tmp_path, yaml value) -> loaded value)."""
    return key, lambda t, v: get(_load(t, name, text.replace("VALUE", v), loader))


MONEY_SLOTS = {
    "params": _slot(
        "quota_rule.amount", "p.yaml", PARAMS + "quota_rule: {amount: VALUE}\n", load_params, lambda p: p.quota_rule.amount
    ),
    "plan": _slot(
        "cap.amount", "plan.yaml", PLAN.replace("RATE", '"0.05"') + "cap: {amount: VALUE}\n", load_plan, lambda p: p.cap.amount
    ),
}
RATE_SLOTS = {
    "params": _slot(
        "commission.rate", "p.yaml", PARAMS + "commission: {rate: VALUE}\n", load_params, lambda p: p.commission.rate
    ),
    "plan": _slot("rates.tiers.0.rate", "plan.yaml", PLAN.replace("RATE", "VALUE"), load_plan, lambda p: p.rates.tiers[0].rate),
}
ID_SLOTS = {
    "params": _slot(
        "account_managers.0", "p.yaml", PARAMS + "account_managers: [VALUE]\n", load_params, lambda p: p.account_managers[0]
    ),
    "assignments": _slot(
        "assignments.0.account_manager_id",
        "a.yaml",
        "assignments:\n  - {account_manager_id: VALUE, plan: standard, start: 2025-01-01}\n",
        load_assignments,
        lambda a: a.assignments[0].account_manager_id,
    ),
    "mapping": _slot("deals.constants", "mapping.yaml", MAPPING, load_mapping, lambda m: m.deals.constants["territory"]),
}


def _problem(msg: str, key: str) -> str:
    """The message for ``key`` without the file name and key path (what every loader must agree on).

    How YAML read an unquoted value ("; YAML reads the unquoted ...") is left out of the
    comparison: it depends on how the value was written, not on the slot.
    """
    line = next(ln for ln in msg.splitlines() if key in ln)
    return re.sub(r"^.*?key '[^']*': ", "", line).split("; YAML reads the unquoted")[0]


@pytest.mark.parametrize(
    ("yaml_value", "expected"),
    [('"1250.50"', Decimal("1250.50")), ("1250", Decimal("1250")), ("'0.07'", Decimal("0.07"))],
)
@pytest.mark.parametrize("slot", MONEY_SLOTS)
def test_money_written_as_text_or_int_loads_as_the_exact_decimal(tmp_path, slot, yaml_value, expected):
    value = MONEY_SLOTS[slot][1](tmp_path, yaml_value)
    assert value == expected and isinstance(value, Decimal)


REFUSED = [
    ("money", MONEY_SLOTS, "1250.5", "1250.5", 'write money as a quoted string, e.g. "1250.5"'),
    ("money", MONEY_SLOTS, '"0.125"', "'0.125'", 'amounts are whole cents: write e.g. "0.13"'),  # half away from zero
    ("money", MONEY_SLOTS, '"12,50"', "'12,50'", 'write digits with at most two decimals, e.g. "1250.00"'),
    ("money", MONEY_SLOTS, '"Infinity"', "'Infinity'", "is not a finite amount"),
    ("rate", RATE_SLOTS, '"7%"', "'7%'", "write the fraction 0.07"),
    ("rate", RATE_SLOTS, '"0.0512345"', "'0.0512345'", "more than six decimals"),
    ("rate", RATE_SLOTS, "yes", "True", "write a fraction such as 0.07"),
]


@pytest.mark.parametrize(("kind", "slots", "yaml_value", "shown", "fix"), REFUSED, ids=[f"{r[0]}-{r[2]}" for r in REFUSED])
def test_refused_value_gives_one_message_naming_key_value_and_fix_in_params_and_plans(
    tmp_path, kind, slots, yaml_value, shown, fix
):
    problems = {}
    for slot, (key, load) in slots.items():
        with pytest.raises(InputError) as info:
            load(tmp_path, yaml_value)
        msg = str(info.value)
        assert f"key '{key}'" in msg and shown in msg and fix in msg, msg
        problems[slot] = _problem(msg, key)
    assert len(set(problems.values())) == 1, problems


@pytest.mark.parametrize(
    ("yaml_value", "expected"),
    [('"0.07"', Decimal("0.07")), ("0.07", Decimal("0.07")), ("1", Decimal("1")), ('"0.052500"', Decimal("0.0525"))],
)
@pytest.mark.parametrize("slot", RATE_SLOTS)
def test_rate_as_text_int_or_float_loads_as_the_decimal_written(tmp_path, slot, yaml_value, expected):
    value = RATE_SLOTS[slot][1](tmp_path, yaml_value)
    assert value == expected and isinstance(value, Decimal)


@pytest.mark.parametrize("slot", ID_SLOTS)
def test_quoted_id_keeps_its_leading_zeros_in_params_plans_and_mappings(tmp_path, slot):
    assert ID_SLOTS[slot][1](tmp_path, "'00731'") == "00731"


@pytest.mark.parametrize(("yaml_value", "read_as"), [("731", "731"), ("00731", "473"), ("7.5", "7.5")])
@pytest.mark.parametrize("slot", ID_SLOTS)
def test_unquoted_id_is_refused_with_quote_it_in_params_plans_and_mappings(tmp_path, slot, yaml_value, read_as):
    key, load = ID_SLOTS[slot]
    with pytest.raises(InputError) as info:
        load(tmp_path, yaml_value)
    msg = str(info.value)
    assert f"key '{key}'" in msg and read_as in msg, msg
    assert "must be quoted in YAML (ids and codes are text: '00731' is not 731)" in msg, msg


@pytest.mark.parametrize("slot", ID_SLOTS)
def test_a_refused_value_names_the_line_of_its_key_in_params_plans_and_mappings(tmp_path, slot):
    key, load = ID_SLOTS[slot]
    with pytest.raises(InputError) as info:
        load(tmp_path, "00731")
    (written,) = tmp_path.glob("*.yaml")
    line_no = next(i for i, text in enumerate(written.read_text(encoding="utf-8").splitlines(), 1) if "00731" in text)
    # (a mapping reports a bad constant at its section, deals.constants, on the same line)
    message = next(ln for ln in str(info.value).splitlines() if f"key '{key.rsplit('.', 1)[0]}" in ln)
    assert message.startswith(f"{written}, line {line_no}: key '"), message


@pytest.mark.parametrize("slot", RATE_SLOTS)
def test_a_value_yaml_typed_from_unquoted_text_says_how_in_params_and_plans(tmp_path, slot):
    key, load = RATE_SLOTS[slot]
    with pytest.raises(InputError) as info:
        load(tmp_path, "yes")
    message = next(ln for ln in str(info.value).splitlines() if f"key '{key}'" in ln)
    assert message.endswith("; YAML reads the unquoted 'yes' as the boolean True: quote it (\"yes\") if you meant the text"), (
        message
    )
