"""Benchmark: the first report's model fits, an older commit against this checkout, in alternation (CPU).

Records the 24 fit tasks the first report's forecast hands out (``bench_fits_split.fit_tasks``,
default ``bench_batch.py``'s org: 50 managers, 200,000 deals; ``--org DIR``: its
``params.yaml``), then each round fits them all without a cache, one after another, in a fresh
process of ``--base`` (a ``git archive`` of that commit's ``src/`` on ``PYTHONPATH``) and of
this checkout, in turn (the order swaps every round), as a report worker of a batch with as
many workers as cores does. Per run: that process's CPU seconds for the fits (the models
imported first, not counted) and per model kind. At the end the medians, and whether every
fit's cache record (``forecast_models._fit_record``: the monthly mean and standard errors,
float64 bytes) and every task's frame is the same on both sides, byte for byte.

Run: ``.venv/bin/python benchmarks/bench_fits_ab.py [--base HEAD~1] [--rounds 5] [--org DIR]
[--base-dir DIR]`` (``--smoke``: 2 managers, 2,000 deals, one round, the base HEAD, only to check
that it runs).
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


def child(tasks_path: Path, out_path: Path) -> None:
    """Fit every task here, serially, and write the CPU seconds, each fit's record and each frame."""
    import time

    import numpy as np

    from reportkit.domain import forecast_models as fm

    tasks = pickle.loads(tasks_path.read_bytes())
    print(f"  fitting with {fm.__file__}", flush=True)
    fm._import_models()
    cpu: dict[str, float] = {}
    records: list[bytes] = []
    c0 = time.process_time()
    with fm._one_blas_thread():
        for t in tasks:
            if t.y.shape[1] < fm.MIN_MONTHS or t.h <= 0:
                continue
            for m in t.methods:
                for i in range(len(t.ids)):
                    scale = float(np.abs(t.y[i]).mean())
                    if scale:
                        f0 = time.process_time()
                        records.append(fm._fit_record(fm._fit_safely(t.y[i] / scale, t.h, m)))
                        cpu[m] = cpu.get(m, 0.0) + time.process_time() - f0
    cpu["fits"] = time.process_time() - c0
    f0 = time.process_time()
    frames = [fm.fit_models(t) for t in tasks]
    cpu["fit_models"] = time.process_time() - f0
    out_path.write_bytes(pickle.dumps((cpu, records, frames)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default="HEAD~1")
    ap.add_argument("--base-dir", type=Path, help=BASE_DIR_HELP)
    ap.add_argument("--org", type=Path)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(*a.child)
        return
    from bench_fits_split import fit_tasks

    managers, deals = (2, 2_000) if a.smoke else (50, 200_000)
    if a.smoke:
        a.rounds, a.base = 1, "HEAD"
    tmp = Path(tempfile.mkdtemp(prefix="bench-fits-ab-"))
    src = base_src(a.base_dir, tmp / "base", a.base)
    params = a.org / "params.yaml" if a.org else generate(tmp / "org", managers, deals)
    tasks = tmp / "tasks.pkl"
    tasks.write_bytes(pickle.dumps([t[0] for t in fit_tasks(params)]))
    runs: dict[str, list[dict[str, float]]] = {"base": [], "new": []}
    last: dict[str, tuple] = {}
    for i in range(a.rounds):
        for side in ("base", "new") if i % 2 == 0 else ("new", "base"):
            env = dict(os.environ)
            if side == "base":
                env["PYTHONPATH"] = str(src)
            out = tmp / f"{side}.pkl"
            subprocess.run([sys.executable, __file__, "--child", str(tasks), str(out)], env=env, check=True)
            cpu, records, frames = pickle.loads(out.read_bytes())
            runs[side].append(cpu)
            last[side] = (records, frames)
            kinds = ", ".join(f"{k} {v:.2f}" for k, v in sorted(cpu.items()) if k not in ("fits", "fit_models"))
            print(
                f"round {i + 1} {side:4}: fits {cpu['fits']:.2f} s CPU ({kinds}); fit_models of every task "
                f"{cpu['fit_models']:.2f} s; load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
    for side, rows in runs.items():
        med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
        print(f"median {side:4}: " + ", ".join(f"{k} {v:.2f} s" for k, v in sorted(med.items())))
    (rb, fb), (rn, fn) = last["base"], last["new"]
    same_records = len(rb) == len(rn) and all(x == y for x, y in zip(rb, rn, strict=True))
    import pandas as pd

    same_frames = len(fb) == len(fn)
    for x, y in zip(fb, fn, strict=True):
        try:
            pd.testing.assert_frame_equal(x, y, check_exact=True)
        except AssertionError:
            same_frames = False
    print(f"{len(rn)} fit records the same bytes on both sides: {'yes' if same_records else 'NO'}")
    print(f"{len(fn)} tasks' frames the same on both sides: {'yes' if same_frames else 'NO'}")


if __name__ == "__main__":
    main()
