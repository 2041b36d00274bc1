"""Privacy: every published output of a report shows only its own people.

For each account manager's report, every output (the executed notebook including the
injected parameters, the HTML page, every cell of the workbook) is scanned for the
other account managers' names, deal ids and commission amounts (formatted the way the
report shows money). A team report may mention only its own members; the company
report every reported team's people, but never a deal. Runs on the demo
batch and, when ``../shared/data`` exists, on the whole Maven CRM batch.
"""

from __future__ import annotations

import json
import pickle
import re
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from datasets import DATA, SKIP_REASON
from reader_texts import reader_texts
from test_batch import DEMO_BATCH, shared_demo_batch
from test_realdata_batch import MAVEN_BATCH

from reportkit.render.notebook import format_money
from reportkit.run.batch import load_batch_inputs

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "params" / "demo.yaml"
MAVEN = ROOT / "params" / "maven_crm.yaml"

pytestmark = pytest.mark.slow


def _own_amounts(report) -> set[Decimal]:
    """Every amount the report object itself holds (its own figures may repeat another's)."""
    found: set[Decimal] = set()

    def add(v):
        if isinstance(v, Decimal):
            found.add(v)
        elif isinstance(v, pd.DataFrame):
            for col in v.columns:
                found.update(x for x in v[col] if isinstance(x, Decimal))
        elif isinstance(v, dict):
            for x in v.values():
                add(x)

    for value in vars(report).values():
        add(value)
    return found


_TOKEN = re.compile(r"[\w-]+")


def _check_batch(out: Path, ds) -> int:
    """Scan every report of the batch in ``out``; returns the number of reports checked."""
    manifest = json.loads((out / "manifest.json").read_text())
    am = ds.account_managers
    names = dict(zip(am["account_manager_id"].astype(str), am["name"].astype(str)))
    team_of = dict(zip(am["account_manager_id"].astype(str), am["team"].astype(str)))
    deals_of = {str(k): set(map(str, v)) for k, v in ds.deals.groupby("account_manager_id")["deal_id"]}
    reports = {
        (e["kind"], e["id"]): pickle.loads((out / e["parameters"]["report_data"]).read_bytes()) for e in manifest["reports"]
    }
    currency = next(iter(reports.values())).currency
    # every account manager's commission lines, from their own statement in this batch
    pay: dict[str, set[Decimal]] = {
        rid: {a for a in r.commission["amount"] if a} for (kind, rid), r in reports.items() if kind == "account_manager"
    }
    checked = 0
    for entry in manifest["reports"]:
        assert entry["status"] == "ok", entry
        report = reports[(entry["kind"], entry["id"])]
        text, numbers = reader_texts(out / rel for rel in entry["outputs"].values())
        tokens = set(_TOKEN.findall(text))
        if entry["kind"] == "company":  # every reported team's people, by name and figures; never a deal
            allowed = {a for a, t in team_of.items() if t in set(report.teams["team"])}
            leaked = set().union(*deals_of.values()) & tokens
            assert not leaked, f"company report shows deals {sorted(leaked)[:5]}"
        elif entry["kind"] == "account_manager":
            allowed = {entry["id"]}
        else:
            allowed = {a for a, t in team_of.items() if t == report.name}
        own = _own_amounts(report)
        where = f"{entry['kind']} report {entry['id']!r}"
        for other, name in names.items():
            if other in allowed:
                continue
            if name not in {names[a] for a in allowed} and name in text:
                assert not re.search(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])", text), (
                    f"{where} shows {other}'s name {name!r}"
                )
            leaked = deals_of.get(other, set()) & tokens
            assert not leaked, f"{where} shows {other}'s deals {sorted(leaked)[:5]}"
            for amount in pay.get(other, set()) - own:
                shown = format_money(amount, currency)
                assert shown not in text, f"{where} shows {other}'s commission {shown}"
                if amount != amount.to_integral_value():  # whole numbers coincide too easily
                    assert amount not in numbers, f"{where}: workbook holds {other}'s commission {amount}"
        checked += 1
    return checked


@DEMO_BATCH
@pytest.mark.skipif(not DEMO.exists(), reason="params/demo.yaml not present")
def test_demo_reports_show_only_their_own_people(tmp_path_factory):
    result = shared_demo_batch(tmp_path_factory)
    _, ds = load_batch_inputs(DEMO)
    assert _check_batch(result.output_dir, ds) == len(result.reports) >= 14


@MAVEN_BATCH
@pytest.mark.realdata
@pytest.mark.skipif(not (DATA.is_dir() and MAVEN.exists()), reason=SKIP_REASON)
def test_maven_reports_show_only_their_own_people(real_batch):
    """The whole Maven batch (35 account-manager, 6 team and 1 company reports), shared with the figure tests."""
    result = real_batch("maven_crm")
    _, ds = load_batch_inputs(MAVEN)
    assert result.failed == 0, [r.error for r in result.reports]
    checked = _check_batch(result.output_dir, ds)
    assert checked == result.count("account_manager") + result.count("team") + result.count("company") == 42
