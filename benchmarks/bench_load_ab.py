"""Benchmark: loading 1,000,000 deals, an older commit's loader against this checkout's, in alternation (CPU seconds).

Generates ``bench_batch.py``'s org (50 managers, ``--deals`` deals, CSV with a mapping:
the file ``bench_batch.py --only-big`` times), then alternates two interpreters
``--rounds`` times: one importing reportkit from ``--base`` (a ``git archive`` of that
commit's ``src/``), one from this checkout. Each is a fresh process that imports
reportkit first (not counted, as in ``bench_batch.py``) and times one
``mapping.load_dataset`` (load + validate): the process's CPU seconds, every thread
(pyarrow reads CSV on several), and its wall time. On a shared machine the alternation is
what makes the two comparable: both sides see the same load. Also checks that the two
sides load the same data set: every table equal cell for cell and dtype for dtype
(``assert_frame_equal(check_exact=True)``), the warnings, load changes and sources equal
(``same data set: yes``). ``docs/batch.md`` ("Loading 1,000,000 deals") records a run.

Run: ``.venv/bin/python benchmarks/bench_load_ab.py [--base HEAD~1] [--deals 1000000]
[--rounds 6] [--base-dir DIR]`` (``--smoke``: 2,000 deals, one round, the base HEAD, only to check that it runs;
``--base-dir``: a base checkout an earlier run made, reused).
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_batch import generate
from bench_workbook_ab import BASE_DIR_HELP, base_src

_LOAD = r"""
import pickle, sys, time
from reportkit.config.params import load_params
from reportkit.data.mapping import load_dataset
params = load_params(sys.argv[1])
source = params.resolve(params.source)
t, c = time.perf_counter(), time.process_time()
ds = load_dataset(source)
cpu, wall = time.process_time() - c, time.perf_counter() - t
if len(sys.argv) > 2:
    names = ("account_managers", "quotas", "deals", "accounts", "pipeline", "territories", "service_issues", "fx_rates",
             "measures", "splits")
    kept = {"tables": {n: getattr(ds, n) for n in names}, "warnings": ds.warnings, "load_changes": ds.load_changes,
            "sources": ds.sources}
    open(sys.argv[2], "wb").write(pickle.dumps(kept, pickle.HIGHEST_PROTOCOL))
print(cpu, wall)
"""


def same_data_set(a: Path, b: Path) -> bool:
    """Whether two pickled loads (``_LOAD``'s) hold equal tables (cells and dtypes), warnings, load changes and sources."""
    import pandas as pd

    x, y = pickle.loads(a.read_bytes()), pickle.loads(b.read_bytes())
    for name, frame in x["tables"].items():
        other = y["tables"][name]
        if frame is None or other is None:
            if frame is not other:
                return False
            continue
        try:
            pd.testing.assert_frame_equal(frame, other, check_exact=True)
        except AssertionError:
            return False
    return all(x[k] == y[k] for k in ("warnings", "load_changes", "sources"))


def org_parser(doc: str) -> argparse.ArgumentParser:
    """The flags every A/B of ``bench_batch.py``'s big data set takes (``bench_aggregate_ab.py`` adds its own)."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--base", default="HEAD~1", help="the commit to compare with (default HEAD~1)")
    ap.add_argument("--deals", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=6, help="alternations of the two sides (default 6)")
    ap.add_argument("--data", type=Path, default=None, help="a folder bench_batch.generate wrote (default: generate one)")
    ap.add_argument("--smoke", action="store_true", help="the tiniest run: 2,000 deals, one round, base HEAD")
    ap.add_argument("--base-dir", type=Path, help=BASE_DIR_HELP)
    return ap


def parse_org_args(ap: argparse.ArgumentParser) -> argparse.Namespace:
    """:func:`org_parser`'s flags parsed, ``--smoke`` applied."""
    args = ap.parse_args()
    if args.smoke:
        args.deals, args.rounds, args.base, args.data = 2_000, 1, "HEAD", None
    return args


def alternate(script: str, params: Path, root: Path, base: Path, rounds: int, fields: int) -> dict[str, list[tuple[float, ...]]]:
    """Run ``script`` (``python -c``) on ``params`` with the base's code and this checkout's in turn, ``rounds`` times.

    Each run prints its figures last; the last ``fields`` of them are kept, per side. The
    first round also asks each side to pickle what it computed to ``root/<side>.pkl``.
    """
    out: dict[str, list[tuple[float, ...]]] = {"base": [], "this": []}
    for i in range(rounds):
        for side in ("base", "this"):
            env = dict(os.environ)
            if side == "base":
                env["PYTHONPATH"] = str(base)
            keep = [str(root / f"{side}.pkl")] if i == 0 else []
            run = subprocess.run(
                [sys.executable, "-c", script, str(params), *keep], capture_output=True, text=True, env=env, check=True
            )
            out[side].append(tuple(float(x) for x in run.stdout.split()[-fields:]))
    return out


def main() -> None:
    args = parse_org_args(org_parser(__doc__))
    with tempfile.TemporaryDirectory(prefix="reportkit-bench-load-") as tmp:
        root = Path(tmp)
        base = base_src(args.base_dir, root / "base", args.base)
        params = args.data / "params.yaml" if args.data else generate(root / "org", 50, args.deals)
        print(f"{args.deals:,} deals (50 managers, CSV); base {args.base}; {args.rounds} rounds")
        runs = alternate(_LOAD, params, root, base, args.rounds, 2)
        same = same_data_set(root / "base.pkl", root / "this.pkl")
        for side in ("base", "this"):
            cpu, wall = [r[0] for r in runs[side]], [r[1] for r in runs[side]]
            print(
                f"{side}: load + validate CPU s median {statistics.median(cpu):.2f} "
                f"(min {min(cpu):.2f}, max {max(cpu):.2f}); wall median {statistics.median(wall):.2f}; "
                f"CPU {' '.join(f'{x:.2f}' for x in cpu)}"
            )
        print(f"same data set: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
