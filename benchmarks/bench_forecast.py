"""Benchmark: what the chosen, reconciled forecast costs (issue #17).

1. **Backtest of the public data sets** (when ``../shared/data`` or ``REPORTKIT_DATA_DIR``
   has them): ``backtest_forecasts`` of AdventureWorks and Superstore, wall and CPU
   seconds each and together (the target: under a minute on 2 cores).
2. **A batch's forecasts against the batch**: ``reportkit batch`` of the given params
   (default the demo) into a temporary folder, timed, then
   ``forecast_hierarchy`` (the backtest behind the choice plus the forecast of every
   account manager, team and the company as of the params' ``as_of``) on the same data,
   timed; prints the ratio forecast / batch (the target: under 10 %).

Run: ``.venv/bin/python benchmarks/bench_forecast.py [--params params/demo.yaml] [--jobs N] [--skip-batch]``.
The machine's load changes wall times (``os.getloadavg`` is printed with them); CPU
seconds are the steadier figure. ``docs/forecasting.md`` records a run.
"""

from __future__ import annotations

import argparse
import os
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


def batch_ratio(params: Path, jobs: int | None) -> None:
    from reportkit.domain.backtest import forecast_hierarchy
    from reportkit.domain.loading import load_inputs

    with tempfile.TemporaryDirectory() as tmp:
        cmd = [str(BIN / "reportkit"), "batch", str(params), "--output-dir", tmp]
        if jobs:
            cmd += ["--jobs", str(jobs)]
        w = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        batch_s = time.perf_counter() - w
    p, ds = load_inputs(params)
    year = ds.calendar.period_of(p.as_of, "year").fiscal_year
    f, fc_s, fc_cpu = _timed(lambda: forecast_hierarchy(ds, year, p.as_of))
    print(f"batch {params.name}: {batch_s:.1f} s wall")
    print(f"forecast_hierarchy: {fc_s:.2f} s wall, {fc_cpu:.2f} s CPU, {len(f)} forecasts")
    print(f"ratio forecast / batch: {fc_s / batch_s:.1%} (load average {os.getloadavg()[0]:.1f})")


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
