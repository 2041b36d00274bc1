"""Benchmark: what the chosen, reconciled forecast costs (issue #17).

1. **Backtest of the public data sets** (when ``../shared/data`` or ``REPORTKIT_DATA_DIR``
   has them): ``backtest_forecasts`` of AdventureWorks and Superstore, wall and CPU
   seconds each and together (the target: under a minute on 2 cores).
2. **A batch's forecasts against the batch**: ``reportkit batch`` of the given params
   (default the demo) into a temporary folder, timed, with the peak resident memory of its
   largest process (``bench_batch.measured``), then what the batch computes for its
   forecasts, the way it does (``ReportContext.forecast_hierarchy`` and, at year end,
   ``next_year_hierarchy``: the backtest behind the choice once, then the forecast of every
   account manager, team and the company for this year and the next), timed, with this
   process's peak memory before and after; prints the ratio forecast / batch (the target:
   under 10 %).

Run: ``.venv/bin/python benchmarks/bench_forecast.py [--params params/demo.yaml] [--jobs N] [--skip-batch]``.
The machine's load changes wall times (``os.getloadavg`` is printed with them); CPU
seconds are the steadier figure. ``docs/forecasting.md`` records a run.
"""

from __future__ import annotations

import argparse
import os
import resource
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


def batch_ratio(params: Path, jobs: int | None) -> None:
    from bench_batch import measured

    from reportkit.domain.loading import load_inputs
    from reportkit.reports.context import report_context, shared_contexts

    with tempfile.TemporaryDirectory() as tmp:
        cmd = [str(BIN / "reportkit"), "batch", str(params), "--output-dir", tmp]
        if jobs:
            cmd += ["--jobs", str(jobs)]
        batch_s, peak_mb, _ = measured(cmd)
    p, ds = load_inputs(params)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def forecasts():  # what a batch computes: this year's hierarchy and, at year end, next year's, from one backtest
        with shared_contexts():
            ctx = report_context(ds, p, p.period, p.as_of)
            return ctx.forecast_hierarchy(ds), ctx.next_year_hierarchy(ds)

    (h, nxt), fc_s, fc_cpu = _timed(forecasts)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n = (0 if h is None else len(h)) + (0 if nxt is None else len(nxt))
    print(f"batch {params.name}: {batch_s:.1f} s wall, peak RSS of its largest process {peak_mb:.0f} MB")
    print(f"the batch's forecasts: {fc_s:.2f} s wall, {fc_cpu:.2f} s CPU, {n} forecasts (next year: {nxt is not None})")
    print(f"  peak RSS of this process {before:.0f} MB after loading the data, {after:.0f} MB after the forecasts")
    print(
        f"ratio forecast / batch: {fc_s / batch_s:.1%} wall (load average {os.getloadavg()[0]:.1f}: a loaded machine stretches both)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", type=Path, default=ROOT / "params" / "demo.yaml")
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--skip-batch", action="store_true")
    ap.add_argument("--skip-backtest", action="store_true")
    a = ap.parse_args()
    if not a.skip_backtest:
        backtests()
    if not a.skip_batch:
        batch_ratio(a.params, a.jobs)


if __name__ == "__main__":
    main()
