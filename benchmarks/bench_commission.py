"""Benchmark: commission statements for 10,000 AMs x 4 quarters x 50 deals (2,000,000 deals).

Plan: marginal tiers on attainment (decelerator / base / accelerator), a per-quarter
cap, and 10 % of deals split 60/40 between two AMs plus 5 % with an overlay. The
floor is a pandas groupby-sum of the same deals by AM and quarter, measured in the
same run. Prints engine time, floor time, their ratio, the time to materialise one
Decimal statement, and the process peak memory (resource.getrusage max RSS; tracemalloc slowed the run 15x).

Run: ``.venv/bin/python benchmarks/bench_commission.py [n_ams]``.
"""

from __future__ import annotations

import resource
import sys
import time

import numpy as np
import pandas as pd

from reportkit import engine
from reportkit.model import Dataset
from reportkit.periods import FiscalCalendar
from reportkit.plans import Plan

PLAN = Plan.model_validate({
    "name": "bench", "currency": "USD", "period": "quarter",
    "base_salary": "80000.00", "ote": "160000.00", "pay_mix": {"base": "0.5", "variable": "0.5"},
    "rates": {"method": "marginal", "basis": "attainment", "accumulation": "per_period", "tiers": [
        {"from": 0, "rate": "0.04", "label": "decelerator"},
        {"from": "0.5", "rate": "0.08", "label": "base"},
        {"from": "1.0", "rate": "0.12", "label": "accelerator"}]},
    "cap": {"per": "period", "amount": "40000.00", "carry_excess": False},
    "bonuses": [{"name": "quarter club", "attainment_at_least": "1.25", "amount": "1500.00"}],
})


def make_data(n_ams: int, deals_per_q: int = 50, seed: int = 7):
    rng = np.random.default_rng(seed)
    ids = np.array([f"AM{i:05d}" for i in range(n_ams)], dtype=object)
    ams = pd.DataFrame({"account_manager_id": ids, "name": ids, "team": [f"T{i // 10}" for i in range(n_ams)],
                        "sales_manager": "x", "region": None,
                        "hire_date": pd.NaT, "end_date": pd.NaT})
    ams["hire_date"] = pd.to_datetime(ams["hire_date"])
    ams["end_date"] = pd.to_datetime(ams["end_date"])
    n = n_ams * 4 * deals_per_q
    am = np.repeat(np.arange(n_ams), 4 * deals_per_q)
    q = np.tile(np.repeat(np.arange(4), deals_per_q), n_ams)
    day = rng.integers(0, 90, n)
    dates = np.datetime64("2025-01-01") + (q * 91 + day).astype("timedelta64[D]")
    amount = rng.integers(10_000, 2_000_000, n).astype(np.int64)
    amount[rng.random(n) < 0.02] *= -1  # returns
    deal_ids = np.char.add("D", np.arange(n).astype(str)).astype(object)
    deals = pd.DataFrame({"deal_id": deal_ids, "account_manager_id": ids[am], "account_id": "ACC",
                          "close_date": pd.to_datetime(dates), "amount_cents": amount, "currency": "USD",
                          "stage": "won", "territory": None, "product": "P"})
    quotas = pd.DataFrame({"account_manager_id": np.repeat(ids, 4),
                           "period_start": pd.to_datetime(np.tile(["2025-01-01", "2025-04-01", "2025-07-01", "2025-10-01"], n_ams)),
                           "period_end": pd.to_datetime(np.tile(["2025-03-31", "2025-06-30", "2025-09-30", "2025-12-31"], n_ams)),
                           "quota_cents": np.int64(30_000_000), "currency": "USD"})
    sp = np.flatnonzero(rng.random(n) < 0.10)
    other = ids[(am[sp] + 1) % n_ams]
    splits = pd.DataFrame({"deal_id": np.concatenate([deal_ids[sp], deal_ids[sp]]),
                           "account_manager_id": np.concatenate([ids[am[sp]], other]),
                           "share": ["0.6"] * len(sp) + ["0.4"] * len(sp), "kind": "revenue"})
    ov = np.flatnonzero(rng.random(n) < 0.05)
    splits = pd.concat([splits, pd.DataFrame({"deal_id": deal_ids[ov], "account_manager_id": ids[(am[ov] + 7) % n_ams],
                                              "share": "0.5", "kind": "overlay"})], ignore_index=True)
    ds = Dataset(ams, quotas, deals, calendar=FiscalCalendar(1))
    return ds, splits


def main() -> None:
    n_ams = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    ds, splits = make_data(n_ams)
    n = len(ds.deals)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    res = engine.compute(ds, PLAN, "FY2025", splits=splits)
    t_engine = time.perf_counter() - t0
    t0 = time.perf_counter()
    d = ds.deals
    floor = d.groupby([d["account_manager_id"], d["close_date"].dt.quarter])["amount_cents"].sum()
    t_floor = time.perf_counter() - t0
    t0 = time.perf_counter()
    st = res.statement(res.account_managers[0])
    t_one = time.perf_counter() - t0
    assert int(floor.sum()) == int(d["amount_cents"].sum())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"deals: {n:,}  AMs: {n_ams:,}  periods: 4  statement lines: {len(res.lines):,}")
    print(f"engine (crediting+splits, quotas, marginal tiers, cap, bonus, ledger): {t_engine:.2f} s")
    print(f"floor (pandas groupby-sum of the same deals by AM x quarter):       {t_floor:.2f} s")
    print(f"ratio engine/floor: {t_engine / t_floor:.1f}x   (aim: <= 10x)")
    print(f"one Decimal statement materialised ({len(st)} lines): {t_one * 1000:.1f} ms")
    print(f"process max RSS: {rss:.0f} MiB (of which {rss0:.0f} MiB before the engine ran: data generation)  (aim: < 2 GB)")


if __name__ == "__main__":
    main()
