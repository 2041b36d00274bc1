"""Benchmark: the aggregate of 1,000,000 deals, an older commit's code against this checkout's, in alternation (CPU seconds).

Generates ``bench_batch.py``'s org (50 managers, ``--deals`` deals, CSV with a mapping:
the file ``bench_batch.py --only-big`` times), optionally with the deals' rows shuffled
(``--shuffle``: the deal ids out of order, as an export not sorted by id), then alternates
two interpreters ``--rounds`` times: one importing reportkit from ``--base`` (a ``git
archive`` of that commit's ``src/``), one from this checkout. Each is a fresh process that
imports reportkit and loads the data set (not counted), then times what ``bench_batch.py``
calls the aggregate: ``attainment_table`` of every account manager for the params' period
(the shared report context, whose credited deals are most of it, and the attainment
built on them); then, warm, ``crediting.credited_deals`` alone. CPU seconds of the process,
every thread, the wall time and the process's peak RSS (the load included). On a shared
machine the alternation is what makes the two comparable: both sides see the same load. Also checks that the two sides compute the
same figures: the credited deals frame and the attainment table equal cell for cell and
dtype for dtype (``assert_frame_equal(check_exact=True)``; revenue and quota are Decimals)
(``same credited deals and attainment: yes``). ``docs/batch.md`` ("Loading 1,000,000
deals") records a run.

Run: ``.venv/bin/python benchmarks/bench_aggregate_ab.py [--base HEAD~1] [--deals 1000000]
[--rounds 6] [--shuffle] [--base-dir DIR]`` (``--smoke``: 2,000 deals, one round, the base
HEAD, only to check that it runs; ``--base-dir``: a base checkout an earlier run made, reused).
"""

from __future__ import annotations

import pickle
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_batch import generate
from bench_load_ab import alternate, org_parser, parse_org_args
from bench_workbook_ab import base_src

_AGGREGATE = r"""
import pickle, resource, sys, time
import reportkit as rk
from reportkit.config.params import load_params
from reportkit.data.mapping import load_dataset
from reportkit.domain.crediting import credited_deals
params = load_params(sys.argv[1])
ds = load_dataset(params.resolve(params.source))
t, c = time.perf_counter(), time.process_time()
att = rk.attainment_table(ds, params.period, params=params)
cpu, wall = time.process_time() - c, time.perf_counter() - t
c = time.process_time()
credited = credited_deals(ds)
cpu_credited = time.process_time() - c
if len(sys.argv) > 2:
    open(sys.argv[2], "wb").write(pickle.dumps({"credited": credited, "attainment": att}, pickle.HIGHEST_PROTOCOL))
print(cpu, wall, cpu_credited, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def shuffle_deals(params: Path, seed: int = 0) -> None:
    """The org's ``deals.csv`` with its data rows in a random order (the header first), in place."""
    path = params.parent / "deals.csv"
    head, *rows = path.read_bytes().splitlines(keepends=True)
    order = np.random.default_rng(seed).permutation(len(rows))
    path.write_bytes(head + b"".join(rows[i] for i in order))


def same_figures(a: Path, b: Path) -> bool:
    """Whether two pickles of ``_AGGREGATE`` hold equal frames (cells and dtypes)."""
    import pandas as pd

    x, y = pickle.loads(a.read_bytes()), pickle.loads(b.read_bytes())
    try:
        for name in ("credited", "attainment"):
            pd.testing.assert_frame_equal(x[name], y[name], check_exact=True)
    except AssertionError:
        return False
    return True


def main() -> None:
    ap = org_parser(__doc__)
    ap.add_argument("--shuffle", action="store_true", help="the deals' rows in a random order (ids out of order)")
    args = parse_org_args(ap)
    with tempfile.TemporaryDirectory(prefix="reportkit-bench-aggregate-") as tmp:
        root = Path(tmp)
        base = base_src(args.base_dir, root / "base", args.base)
        params = args.data / "params.yaml" if args.data else generate(root / "org", 50, args.deals)
        if args.shuffle:
            if args.data:
                raise SystemExit("--shuffle rewrites deals.csv: use it without --data")
            shuffle_deals(params)
        ids = "ids shuffled" if args.shuffle else "ids in order"
        print(f"{args.deals:,} deals (50 managers, CSV, {ids}); base {args.base}; {args.rounds} rounds")
        runs = alternate(_AGGREGATE, params, root, base, args.rounds, 4)
        same = same_figures(root / "base.pkl", root / "this.pkl")
        for side in ("base", "this"):
            cpu, wall, credited, peak = (list(col) for col in zip(*runs[side], strict=True))
            print(
                f"{side}: aggregate CPU s median {statistics.median(cpu):.2f} "
                f"(min {min(cpu):.2f}, max {max(cpu):.2f}); wall median {statistics.median(wall):.2f}; "
                f"credited_deals alone median {statistics.median(credited):.2f}; "
                f"CPU {' '.join(f'{x:.2f}' for x in cpu)}; process peak RSS median {statistics.median(peak):.0f} MB"
            )
        print(f"same credited deals and attainment: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
