"""Benchmark: the deal fingerprint every batch writes for ``reportkit diff`` (docs/close.md).

:func:`reportkit.domain.restatement.deal_fingerprint` (a hash per deal row, used to
say which deals were added, removed or changed) against the baseline measured in the
same run: pandas' own row hash of the same frame (``pd.util.hash_pandas_object``),
which reads every column once, as the fingerprint must. Then
:func:`~reportkit.domain.restatement.deal_changes` of two fingerprints that differ in
1 % of the deals.

    python benchmarks/bench_fingerprint.py              # 200,000 deals
    python benchmarks/bench_fingerprint.py --deals 1000000
    python benchmarks/bench_fingerprint.py --smoke          # 2,000 deals: only checks that it runs

Prints seconds (best of 5) and the ratio fingerprint / baseline; a fingerprint far
slower than one pass of pandas' hash (ratio well above 2) is a regression.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from reportkit.domain.restatement import deal_changes, deal_fingerprint


def _deals(n: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "deal_id": pd.array([f"D-{i:07d}" for i in range(n)], dtype="str"),
            "account_manager_id": pd.array(rng.choice(["AM-1", "AM-2", "AM-3"], n), dtype="str"),
            "close_date": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 365, n), "D"),
            "amount_cents": rng.integers(0, 10**7, n),
            "stage": pd.array(rng.choice(["won", "lost"], n), dtype="str"),
            "product": pd.array(rng.choice(["a", "b"], n), dtype="str"),
        }
    )


def _best(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=200_000)
    parser.add_argument("--smoke", action="store_true", help="the tiniest run, to check the script works: 2,000 deals")
    args = parser.parse_args()
    n = 2_000 if args.smoke else args.deals
    deals = _deals(n)
    deal_fingerprint(deals.head(10))  # warm-up (imports, caches)
    base = _best(lambda: pd.util.hash_pandas_object(deals, index=False))
    fp_time = _best(lambda: deal_fingerprint(deals))
    changed = deals.copy()
    changed.loc[changed.index[::100], "amount_cents"] += 1
    old, new = deal_fingerprint(deals), deal_fingerprint(changed)
    diff_time = _best(lambda: deal_changes(old, new))
    print(f"deals                          {n:,}")
    print(f"baseline hash_pandas_object    {base:.3f} s")
    print(f"deal_fingerprint               {fp_time:.3f} s   ratio {fp_time / base:.2f}x baseline")
    print(f"deal_changes (1 % changed)     {diff_time:.3f} s   ratio {diff_time / base:.2f}x baseline")


if __name__ == "__main__":
    main()
