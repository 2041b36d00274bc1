"""The demo generator is deterministic and reproduces the committed data/demo files."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pandas as pd

from reportkit.core.periods import Period
from reportkit.data import demo
from reportkit.data.mapping import load_dataset

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "data" / "demo"


def test_generator_reproduces_the_committed_files_byte_for_byte(tmp_path):
    written = demo.generate(tmp_path)
    assert [p.name for p in written] == list(demo.FILES)
    for name in demo.FILES:
        assert (tmp_path / name).read_bytes() == (COMMITTED / name).read_bytes(), name


def test_two_runs_are_identical_and_another_seed_differs(tmp_path):
    demo.generate(tmp_path / "a")
    demo.generate(tmp_path / "b")
    demo.generate(tmp_path / "c", seed=1)
    for name in demo.FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a" / "deals.csv").read_bytes() != (tmp_path / "c" / "deals.csv").read_bytes()


def test_module_entry_point_writes_the_files(tmp_path):
    out = tmp_path / "demo"
    subprocess.run([sys.executable, "-m", "reportkit.data.demo", str(out)], check=True, capture_output=True)
    assert sorted(p.name for p in out.iterdir()) == sorted(demo.FILES)


def test_committed_demo_data_is_small():
    assert sum(p.stat().st_size for p in COMMITTED.glob("*.csv")) < 300_000


def test_demo_dataset_contains_the_interesting_cases():
    ds = load_dataset(ROOT / "params" / "sources" / "demo.yaml")
    ams = ds.account_managers.set_index("account_manager_id")
    assert ams.groupby("team").size().tolist() == [4, 4, 4]
    assert "0731" in ams.index  # leading-zero id survives
    q4 = Period.parse("FY2025-Q4", ds.calendar)
    # new hire: hired in FY2025-Q4, no deals there
    assert q4.contains(ams.at["AM-012", "hire_date"].date())
    assert not (ds.deals["account_manager_id"] == "AM-012").any()
    # leaver: end date, nothing closed afterwards
    end = ams.at["AM-008", "end_date"]
    assert pd.notna(end)
    assert ds.deals.loc[ds.deals["account_manager_id"] == "AM-008", "close_date"].max() <= end
    # returns: negative won amounts
    assert (ds.deals["amount_cents"] < 0).sum() >= 2
    # accounts handed over during the quarter
    assert q4.mask(ds.accounts["handover_date"]).sum() >= 2
    # AM-006 misses quota (< 90 %) in at least two consecutive quarters of FY2025
    won = ds.deals[(ds.deals["stage"] == "won") & (ds.deals["account_manager_id"] == "AM-006")]
    quotas = ds.quotas[ds.quotas["account_manager_id"] == "AM-006"]
    misses = []
    for quarter in ds.calendar.periods_of_year(2025):
        sold = won.loc[quarter.mask(won["close_date"]), "amount_cents"].sum()
        quota = quotas.loc[quotas["period_start"] == pd.Timestamp(quarter.start), "quota_cents"].sum()
        misses.append(sold < 0.9 * quota)
    assert any(a and b for a, b in itertools.pairwise(misses))
    assert len(ds.pipeline) > 0 and ds.pipeline["probability"].between(0, 1).all()
    # service issues: two open escalations, both on accounts of AM-001, plus resolved / minor ones
    si = ds.service_issues
    open_esc = si[si["resolved"].isna() & (si["severity"] == "escalation")]
    assert len(si) == 12 and len(open_esc) == 2
    owners = ds.accounts.set_index("account_id").loc[open_esc["account_id"], "owner_id"]
    assert set(owners) == {"AM-001"}
    # three fiscal years of deals
    assert ds.calendar.fiscal_years(ds.deals["close_date"]).unique().tolist() == [2023, 2024, 2025]
