"""Benchmark: the forecast's model fits in one process against shared with forked children (``run/forked.py``).

Loads an org (default ``bench_batch.py``'s, 50 managers, 200,000 deals; ``--org DIR``: its
``params.yaml``), builds the first report's forecast hierarchies as a batch does, with an
executor that records every fit task (the backtest's cutoffs and levels, then the
hierarchy's levels: each a :class:`reportkit.domain.forecast_models.ModelInputs`), then fits
those tasks in turn, in alternation, without a cache: ``serial`` (``fit_models`` in this
process, as a report worker did) and ``forked`` (``fit_map=forked_map`` with ``--parts``
shares, as a worker of a batch with fewer workers than cores does). Per round: wall seconds,
this process's CPU seconds (the critical path: the worker waits for its children only after
its own share) and the children's. Every frame is compared with the serial one, exactly.

Run: ``.venv/bin/python benchmarks/bench_fits_split.py [--org DIR] [--rounds 3] [--parts 2]`` (``--smoke``:
2 managers, 2,000 deals, one round, only to check that it runs).
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import Future
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_batch import generate


class Recorder:
    """An executor that runs each fit task here at once and keeps its arguments."""

    def __init__(self) -> None:
        self.tasks: list[tuple] = []

    def submit(self, fn, /, *args, **kwargs):
        self.tasks.append(args)
        f: Future = Future()
        f.set_result(fn(*args, **kwargs))
        return f


def fit_tasks(params_path: Path) -> list[tuple]:
    from reportkit.config.params import load_params
    from reportkit.domain import loading
    from reportkit.reports.context import report_context, shared_contexts

    params = load_params(params_path)
    ds = loading.load_source(params)
    rec = Recorder()
    with shared_contexts(fit_executor=rec):
        ctx = report_context(ds, params, params.period, params.as_of)
        ctx._hierarchies(ds)
    return rec.tasks


def timed(tasks: list[tuple], fit_map) -> tuple[float, float, float, list[pd.DataFrame]]:
    from reportkit.domain.forecast_models import fit_models

    t0, c0, k0 = time.perf_counter(), time.process_time(), os.times()
    frames = [fit_models(*t, fit_map=fit_map) for t in tasks]
    k1 = os.times()
    children = (k1.children_user + k1.children_system) - (k0.children_user + k0.children_system)
    return time.perf_counter() - t0, time.process_time() - c0, children, frames


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--org", type=Path)
    ap.add_argument("--managers", type=int, default=50)
    ap.add_argument("--deals", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--parts", type=int, default=2)
    ap.add_argument("--smoke", action="store_true")
    a = ap.parse_args()
    if a.smoke:
        a.managers, a.deals, a.rounds = 2, 2_000, 1
    from reportkit.run.forked import forked_map

    params = (
        a.org / "params.yaml" if a.org else generate(Path(tempfile.mkdtemp(prefix="bench-fits-")) / "org", a.managers, a.deals)
    )
    tasks = fit_tasks(params)
    fits = sum(len(t[0].ids) * len(t[0].methods) for t in tasks)
    print(f"{len(tasks)} fit tasks, at most {fits} fits (entities x models; a series of zeros is not fitted)")
    sides = {"serial": None, "forked": functools.partial(forked_map, parts=a.parts)}
    rows: dict[str, list[tuple[float, float, float]]] = {k: [] for k in sides}
    ref = None
    for i in range(a.rounds):
        for side in ("serial", "forked") if i % 2 == 0 else ("forked", "serial"):
            wall, cpu, children, frames = timed(tasks, sides[side])
            if ref is None:
                ref = frames
            for f, r in zip(frames, ref, strict=True):
                pd.testing.assert_frame_equal(f, r, check_exact=True)
            rows[side].append((wall, cpu, children))
            print(
                f"round {i + 1} {side:6}: wall {wall:.2f} s, this process {cpu:.2f} s CPU, children {children:.2f} s; "
                f"load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
    for side, rs in rows.items():
        w, c, k = (statistics.median(r[j] for r in rs) for j in range(3))
        print(f"median {side:6}: wall {w:.2f} s, this process {c:.2f} s CPU, children {k:.2f} s, all {c + k:.2f} s")
    print("every frame the same as the serial fits': yes")


if __name__ == "__main__":
    main()
