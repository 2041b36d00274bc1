"""Benchmark: what the chosen, reconciled forecast costs (issue #17).

1. **Backtest of the public data sets** (when ``../shared/data`` or ``REPORTKIT_DATA_DIR``
   has them): ``backtest_forecasts`` of AdventureWorks and Superstore, wall and CPU
   seconds each and together (the target: under a minute on 2 cores).
2. **A batch's forecasts against the batch**: ``reportkit batch`` of the given params
   (default the demo) into a temporary folder, timed, with the peak resident memory of its
   largest process (``bench_batch.measured``), then what the batch computes for its
   forecasts, the way it does (``ReportContext.forecast_hierarchy`` and, at year end,
   ``next_year_hierarchy``: the backtest behind the choice once, then the forecast of every
   account manager, team and the company for this year and the next), timed **in a fresh
   process after loading the data**, so that the statsmodels and SciPy imports count as they
   do in the batch (until 2026-12 it ran in this process after the backtests of 1., which had
   imported them: about 1 s CPU less), with that process's peak memory before and after;
   prints the ratio forecast / batch (the target: under 10 %), in wall seconds and in CPU
   seconds of the forecasts (steadier on a loaded machine).
3. ``--ab N``: **what the forecasts add to the batch**, measured on the batch itself: the batch
   run N times each, alternately as it is and with its forecasts served ready-made (the
   hierarchies computed in 2., handed to ``ReportContext`` instead of computing them, so the
   batch process neither imports statsmodels nor runs the backtest); prints each run and the
   difference of the medians over the batch's median. The company report's forecast accuracy
   (``backtest.forecast_accuracy``, the blended rule only, no model) is computed in both.

Run: ``.venv/bin/python benchmarks/bench_forecast.py [--params params/demo.yaml] [--jobs N] [--skip-batch] [--ab N]``
(``--smoke``: no backtests and a batch of one report, its fits and the forecasts' read from and kept in
``bench_batch.smoke_fit_cache``, only to check that the script runs).
The machine's load changes wall times (``os.getloadavg`` is printed with them); CPU
seconds are the steadier figure. ``docs/forecasting.md`` records a run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _timed(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def backtests() -> None:
    from reportkit.core.errors import ReportkitError
    from reportkit.domain.backtest import backtest_forecasts
    from reportkit.domain.loading import load_inputs

    total_w = total_c = 0.0
    for name in ("adventureworks", "superstore"):
        try:
            _, ds = load_inputs(ROOT / "params" / f"{name}.yaml")
        except ReportkitError as exc:  # the data set is optional here
            print(f"backtest {name}: skipped ({type(exc).__name__}: {str(exc).splitlines()[0]})")
            continue
        d, w, c = _timed(lambda ds=ds: backtest_forecasts(ds))
        total_w, total_c = total_w + w, total_c + c
        print(f"backtest {name}: {w:.1f} s wall, {c:.1f} s CPU, {len(d)} forecasts")
    print(f"backtest both: {total_w:.1f} s wall, {total_c:.1f} s CPU (load average {os.getloadavg()[0]:.1f})")


# the batch with its forecasts served ready-made: argv[1] is the pickle of ReportContext's two hierarchies
SERVED = """import pickle, sys
from reportkit.reports.context import ReportContext
served = pickle.load(open(sys.argv.pop(1), "rb"))
def _hierarchies(self, ds):
    for key, frame in served.items():
        self.forecast_cache.setdefault(key, frame)
ReportContext._hierarchies = _hierarchies
from reportkit.cli import main
sys.exit(main())
"""


SMOKE_BATCH = ("-p", "account_managers=AM-001", "-p", "reports=account_manager")
"""``--smoke``: the batch of one report (tests/test_benchmarks.py checks that the script runs)."""


def _batch(
    params: Path, jobs: int | None, served: Path | None = None, extra: tuple[str, ...] = (), cache: Path | None = None
) -> tuple[float, float]:
    """One ``reportkit batch`` into a temporary folder: (wall seconds, peak RSS MB of its largest process).

    ``cache``: the cache of model fits it reads (default: an empty one, so every run fits).
    """
    from bench_batch import measured

    with tempfile.TemporaryDirectory() as tmp:
        args = ["batch", str(params), "--output-dir", tmp, "-q", *extra] + (["--jobs", str(jobs)] if jobs else [])
        cmd = [sys.executable, "-c", SERVED, str(served), *args] if served else [str(BIN / "reportkit"), *args]
        run = measured(cmd, env={**os.environ, "REPORTKIT_CACHE_DIR": str(cache or f"{tmp}/fit-cache")})
    return run.wall, run.largest


# what a batch computes for its forecasts, in a fresh process (the statsmodels imports count, as in the batch):
# this year's hierarchy and, at year end, next year's, from one backtest; argv: params, pickle of the hierarchies[,
# a cache of model fits to read: the smoke run's]
FORECASTS = """import json, pickle, resource, sys, time
from reportkit.domain.forecast_models import fit_cache
from reportkit.domain.loading import load_inputs
from reportkit.reports.context import report_context, shared_contexts
p, ds = load_inputs(sys.argv[1])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
w, c = time.perf_counter(), time.process_time()
with shared_contexts(fit_cache=fit_cache(sys.argv[3]) if len(sys.argv) > 3 else None):
    ctx = report_context(ds, p, p.period, p.as_of)
    h, nxt = ctx.forecast_hierarchy(ds), ctx.next_year_hierarchy(ds)
w, c = time.perf_counter() - w, time.process_time() - c
pickle.dump({k: ctx.forecast_cache[k] for k in ("hierarchy", "next_hierarchy")}, open(sys.argv[2], "wb"))
n = (0 if h is None else len(h)) + (0 if nxt is None else len(nxt))
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"wall": w, "cpu": c, "n": n, "next": nxt is not None, "before": before, "after": after}))
"""


def batch_ratio(params: Path, jobs: int | None, ab: int = 0, extra: tuple[str, ...] = (), cache: Path | None = None) -> None:
    batch_s, peak_mb = _batch(params, jobs, extra=extra, cache=cache)
    with tempfile.TemporaryDirectory() as tmp:
        served = Path(tmp) / "hierarchies.pkl"
        cmd = [sys.executable, "-c", FORECASTS, str(params), str(served), *([str(cache)] if cache else [])]
        run = subprocess.run(cmd, capture_output=True, text=True)
        if run.returncode:
            raise SystemExit(f"the forecasts failed:\n{run.stderr[-2000:]}")
        fc = json.loads(run.stdout.strip().splitlines()[-1])
        print(f"batch {params.name}: {batch_s:.1f} s wall, peak RSS of its largest process {peak_mb:.0f} MB")
        print(
            f"the batch's forecasts (a fresh process: imports included): {fc['wall']:.2f} s wall, {fc['cpu']:.2f} s CPU, "
            f"{fc['n']} forecasts (next year: {fc['next']})"
        )
        print(
            f"  peak RSS of that process {fc['before']:.0f} MB after loading the data, {fc['after']:.0f} MB after the forecasts"
        )
        print(
            f"ratio forecast / batch: {fc['wall'] / batch_s:.1%} wall, {fc['cpu'] / batch_s:.1%} in the forecasts' CPU seconds "
            f"(load average {os.getloadavg()[0]:.1f}: a loaded machine stretches both)"
        )
        if ab:
            _with_and_without(params, jobs, ab, served)


def _with_and_without(params: Path, jobs: int | None, ab: int, served: Path) -> None:
    """The batch ``ab`` times as it is and with its forecasts served ready-made, alternately; the medians' difference."""
    runs: dict[str, list[float]] = {"with": [], "without": []}
    for i in range(ab):
        for label in ("with", "without"):
            wall, peak = _batch(params, jobs, served if label == "without" else None)
            runs[label].append(wall)
            print(
                f"  batch {i + 1} {label} its forecasts: {wall:.1f} s wall, peak RSS {peak:.0f} MB (load {os.getloadavg()[0]:.1f})"
            )
    w, wo = statistics.median(runs["with"]), statistics.median(runs["without"])
    print(f"what the forecasts add to the batch: {w - wo:+.1f} s of {w:.1f} s = {(w - wo) / w:.1%} (medians of {ab})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", type=Path, default=ROOT / "params" / "demo.yaml")
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--skip-batch", action="store_true")
    ap.add_argument("--skip-backtest", action="store_true")
    ap.add_argument("--ab", type=int, default=0, metavar="N", help="run the batch N times with and without its forecasts")
    ap.add_argument(
        "--smoke", action="store_true", help="the tiniest run, to check the script works: no backtests, a 1-report batch"
    )
    a = ap.parse_args()
    if not a.skip_backtest and not a.smoke:
        backtests()
    if not a.skip_batch:
        from bench_batch import smoke_fit_cache

        smoke = a.smoke
        batch_ratio(a.params, a.jobs, 0 if smoke else a.ab, SMOKE_BATCH if smoke else (), smoke_fit_cache() if smoke else None)


if __name__ == "__main__":
    main()
