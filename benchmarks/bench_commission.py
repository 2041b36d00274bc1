"""Benchmark: commission statements for 10,000 AMs x 4 quarters x 50 deals (2,000,000 deals).

Plan: marginal tiers on attainment (decelerator / base / accelerator), a per-quarter
cap, and 10 % of deals split 60/40 between two AMs plus 5 % with an overlay. The
floor is a pandas groupby-sum of the same deals by AM and quarter, measured in the
same run. Prints engine time, floor time, their ratio, the time to materialise one
Decimal statement and its trace (issue #15 part 4: computed on request, per AM), and the process peak memory (resource.getrusage max RSS; tracemalloc slowed
the run 15x) with the RSS before the engine ran.

The data is generated with numpy and Arrow (no Python string per row) but handed to
the engine in its public contract: a canonical deals frame with ``str`` id columns;
turning those ids into integer codes is part of the engine's measured time.

Run: ``.venv/bin/python benchmarks/bench_commission.py [n_ams] [--scale 0.1]`` (``--smoke``: 10 AMs, only to
check that the script runs).
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from reportkit.config.plans import Plan
from reportkit.core.periods import FiscalCalendar
from reportkit.data.model import Dataset
from reportkit.domain import engine

PLAN = Plan.model_validate(
    {
        "name": "bench",
        "currency": "USD",
        "period": "quarter",
        "base_salary": "80000.00",
        "ote": "160000.00",
        "pay_mix": {"base": "0.5", "variable": "0.5"},
        "rates": {
            "method": "marginal",
            "basis": "attainment",
            "accumulation": "per_period",
            "tiers": [
                {"from": 0, "rate": "0.04", "label": "decelerator"},
                {"from": "0.5", "rate": "0.08", "label": "base"},
                {"from": "1.0", "rate": "0.12", "label": "accelerator"},
            ],
        },
        "cap": {"per": "period", "amount": "40000.00", "carry_excess": False},
        "bonuses": [{"name": "quarter club", "attainment_at_least": "1.25", "amount": "1500.00"}],
    }
)


def _str(arr: pa.Array) -> pd.Series:
    """An Arrow string array as a pandas ``str`` column (no Python string objects)."""
    return pd.Series(pd.array(arr, dtype="str"))


def _const(value: str, n: int) -> pd.Series:
    return _str(pa.array([value], pa.large_string()).take(pa.array(np.zeros(n, np.int64))))


def _prefixed(prefix: str, numbers: np.ndarray, width: int = 0) -> pa.Array:
    digits = pc.cast(pa.array(numbers), pa.large_string())
    if width:
        digits = pc.utf8_lpad(digits, width=width, padding="0")
    return pc.binary_join_element_wise(pa.scalar(prefix, pa.large_string()), digits, pa.scalar("", pa.large_string()))


def make_data(n_ams: int, deals_per_q: int = 50, seed: int = 7):
    """Canonical Dataset (``str`` id columns, as the engine's contract) + splits, built with numpy/Arrow."""
    rng = np.random.default_rng(seed)
    ids_pa = _prefixed("AM", np.arange(n_ams), 5)
    ams = pd.DataFrame(
        {
            "account_manager_id": _str(ids_pa),
            "name": _str(ids_pa),
            "team": _str(_prefixed("T", np.arange(n_ams) // 10)),
            "sales_manager": _const("x", n_ams),
            "region": _str(pa.nulls(n_ams, pa.large_string())),
            "hire_date": pd.NaT,
            "end_date": pd.NaT,
        }
    )
    ams["hire_date"] = pd.to_datetime(ams["hire_date"])
    ams["end_date"] = pd.to_datetime(ams["end_date"])
    n = n_ams * 4 * deals_per_q
    am = np.repeat(np.arange(n_ams), 4 * deals_per_q)
    q = np.tile(np.repeat(np.arange(4), deals_per_q), n_ams)
    day = rng.integers(0, 90, n)
    dates = np.datetime64("2025-01-01") + (q * 91 + day).astype("timedelta64[D]")
    amount = rng.integers(10_000, 2_000_000, n).astype(np.int64)
    amount[rng.random(n) < 0.02] *= -1  # returns
    deal_ids = _prefixed("D", np.arange(n))
    deals = pd.DataFrame(
        {
            "deal_id": _str(deal_ids),
            "account_manager_id": _str(ids_pa.take(pa.array(am))),
            "account_id": _const("ACC", n),
            "close_date": pd.to_datetime(dates.astype("datetime64[ns]")),
            "amount_cents": amount,
            "currency": _const("USD", n),
            "stage": _const("won", n),
            "territory": _str(pa.nulls(n, pa.large_string())),
            "product": _const("P", n),
        }
    )
    quotas = pd.DataFrame(
        {
            "account_manager_id": _str(ids_pa.take(pa.array(np.repeat(np.arange(n_ams), 4)))),
            "period_start": pd.to_datetime(
                np.tile(np.array(["2025-01-01", "2025-04-01", "2025-07-01", "2025-10-01"], "datetime64[ns]"), n_ams)
            ),
            "period_end": pd.to_datetime(
                np.tile(np.array(["2025-03-31", "2025-06-30", "2025-09-30", "2025-12-31"], "datetime64[ns]"), n_ams)
            ),
            "quota_cents": np.full(4 * n_ams, 30_000_000, np.int64),
            "currency": _const("USD", 4 * n_ams),
        }
    )
    sp = np.flatnonzero(rng.random(n) < 0.10)
    ov = np.flatnonzero(rng.random(n) < 0.05)
    k = len(sp)
    s_deal = np.concatenate([sp, sp, ov])
    s_am = np.concatenate([am[sp], (am[sp] + 1) % n_ams, (am[ov] + 7) % n_ams])
    shares = pa.array(["0.6", "0.4", "0.5"], pa.large_string()).take(pa.array(np.repeat([0, 1, 2], [k, k, len(ov)])))
    kinds = pa.array(["revenue", "overlay"], pa.large_string()).take(pa.array(np.repeat([0, 1], [2 * k, len(ov)])))
    splits = pd.DataFrame(
        {
            "deal_id": _str(deal_ids.take(pa.array(s_deal))),
            "account_manager_id": _str(ids_pa.take(pa.array(s_am))),
            "share": _str(shares),
            "kind": _str(kinds),
        }
    )
    ds = Dataset(ams, quotas, deals, calendar=FiscalCalendar(1))
    return ds, splits


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n_ams", nargs="?", type=int, default=10_000, help="account managers at scale 1 (default 10,000)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply the number of AMs (0.1 = quick run)")
    ap.add_argument("--smoke", action="store_true", help="the tiniest run, to check the script works: 10 AMs (2,000 deals)")
    args = ap.parse_args(argv)
    n_ams = 10 if args.smoke else max(1, round(args.n_ams * args.scale))
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
    t0 = time.perf_counter()
    tr = res.trace(res.account_managers[0]) if hasattr(res, "trace") else None  # issue #15 part 4, on request
    t_trace = time.perf_counter() - t0
    assert int(floor.sum()) == int(d["amount_cents"].sum())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"deals: {n:,}  AMs: {n_ams:,}  periods: 4  split rows: {len(splits):,}  statement lines: {res.n_lines:,}")
    print(f"one Decimal statement materialised ({len(st)} lines): {t_one * 1000:.1f} ms")
    if tr is not None:
        print(f"its trace ({len(tr)} rows): {t_trace * 1000:.1f} ms, {t_trace / t_one:.1f}x the statement")
    print(f"engine (crediting+splits, quotas, marginal tiers, cap, bonus, ledger): {t_engine:.2f} s")
    print(f"floor (pandas groupby-sum of the same deals by AM x quarter):       {t_floor:.2f} s")
    print(f"ratio engine/floor: {t_engine / t_floor:.1f}x   (aim: <= 10x)")
    print(f"peak memory (max RSS): {rss:.0f} MiB   (aim: < 2 GB)")
    print(f"RSS before the engine ran (data generation): {rss0:.0f} MiB")


if __name__ == "__main__":
    main()
