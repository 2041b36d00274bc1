"""Benchmark: ``reportkit batch`` against the naive way, scaling, and loading 1,000,000 deals.

1. Generates a synthetic org (default 50 account managers in 5 teams, 200,000 deals over
   FY2024-FY2025, quarterly quotas) as CSV files plus a source mapping and params file.
2. Times ``reportkit batch`` (reports in parallel, one kernel each, the data loaded once)
   and the naive way in the same run: one ``papermill`` CLI call per report whose notebook
   re-reads all the CSVs itself (the template with ``report_data`` empty builds the report
   from ``params_file``), then one ``jupyter nbconvert --to html`` per report, one after
   the other. Prints the ratio naive / reportkit.
3. Scaling of wall time and peak memory of ``reportkit batch`` at 1x, 2x and 4x managers and
   rows (1x = a quarter of the headline size).
4. Load + validate (``mapping.load_dataset``) and aggregate (attainment table of every
   account manager for the period) of 1,000,000 deals.

Peak memory is the largest resident set of any single process of the run (the batch
process or one kernel), from ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` of a wrapper process.
The figures are printed as the last lines; ``docs/batch.md`` records a run.

Run: ``.venv/bin/python benchmarks/bench_batch.py [--managers 50] [--deals 200000]
[--big-deals 1000000] [--jobs N] [--skip-naive] [--only-big]``; ``--only-big`` runs section 4 alone.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

BIN = Path(sys.executable).parent
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"

MAPPING = """\
name: synthetic org (benchmarks/bench_batch.py)
calendar: {first_month: 1}
currency: USD
crediting: owner
data_dir: .
account_managers:
  source: {file: account_managers.csv}
  columns: {account_manager_id: am_id, name: full_name, team: team, sales_manager: sales_manager,
            region: region, hire_date: hire_date, end_date: end_date}
quotas:
  source: {file: quotas.csv}
  columns: {account_manager_id: am_id, period_start: quarter_start, period_end: quarter_end, quota_cents: quota}
deals:
  source: {file: deals.csv}
  columns: {deal_id: deal_id, account_manager_id: owner, account_id: account_id, close_date: close_date,
            amount_cents: amount, stage: stage, product: product}
  recode:
    stage: {Won: won, Lost: lost}
"""

PARAMS = """\
name: Synthetic Co
source: source.yaml
period: FY2025-Q4
as_of: 2025-12-31
commission:
  rate: "0.05"
  quota_bonus: {attainment_at_least: 1.0, amount: "2000.00", award: cash}
"""


def generate(folder: Path, managers: int, deals: int, teams: int = 5, seed: int = 7) -> Path:
    """Write the synthetic org into ``folder``; returns the params file."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    teams = max(1, min(teams, managers))
    ids = [f"AM-{i:04d}" for i in range(1, managers + 1)]
    team = [f"Team {chr(65 + i % teams)}" for i in range(managers)]
    pd.DataFrame(
        {
            "am_id": ids,
            "full_name": [f"Manager {i:04d} Synthetic" for i in range(1, managers + 1)],
            "team": team,
            "sales_manager": [f"Lead of {t}" for t in team],
            "region": "Region",
            "hire_date": "2020-01-01",
            "end_date": "",
        }
    ).to_csv(folder / "account_managers.csv", index=False)
    starts = pd.date_range("2024-01-01", periods=8, freq="QS")
    q = [(a, s.date().isoformat(), (s + pd.offsets.QuarterEnd(0)).date().isoformat(), "250000.00") for a in ids for s in starts]
    pd.DataFrame(q, columns=["am_id", "quarter_start", "quarter_end", "quota"]).to_csv(folder / "quotas.csv", index=False)
    days = rng.integers(0, 731, deals)
    close = (np.datetime64("2024-01-01") + days.astype("timedelta64[D]")).astype(str)
    cents = rng.integers(10_000, 5_000_000, deals)
    cents[rng.random(deals) < 0.02] *= -1  # returns
    pd.DataFrame(
        {
            "deal_id": [f"D-{i:07d}" for i in range(deals)],
            "owner": np.asarray(ids)[rng.integers(0, managers, deals)],
            "account_id": [f"ACC-{i:05d}" for i in rng.integers(0, max(10, managers * 20), deals)],
            "close_date": close,
            "amount": [f"{c // 100}.{abs(c) % 100:02d}" if c >= 0 else f"-{-c // 100}.{-c % 100:02d}" for c in cents],
            "stage": np.where(rng.random(deals) < 0.8, "Won", "Lost"),
            "product": np.asarray(["Core", "Plus", "Suite"])[rng.integers(0, 3, deals)],
        }
    ).to_csv(folder / "deals.csv", index=False)
    (folder / "source.yaml").write_text(MAPPING)
    (folder / "params.yaml").write_text(PARAMS)
    return folder / "params.yaml"


def measured(cmd: list[str], **kw) -> tuple[float, float, str]:
    """Run ``cmd`` in a wrapper; returns (wall seconds, peak RSS in MB of its largest process, stdout)."""
    wrapper = (
        "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)"
    )
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True, **kw)
    wall = time.perf_counter() - t0
    if proc.returncode not in (0,):
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    *output, peak = proc.stdout.strip().splitlines()
    return wall, int(peak) / 1024, "\n".join(output)


def reportkit_batch(params: Path, out: Path, jobs: int | None) -> tuple[float, float, list[dict]]:
    shutil.rmtree(out, ignore_errors=True)
    cmd = [str(BIN / "reportkit"), "batch", str(params), "-o", str(out), "-q"] + (["-j", str(jobs)] if jobs else [])
    wall, rss, _ = measured(cmd)
    return wall, rss, json.loads((out / "manifest.json").read_text())["reports"]


def naive(params: Path, out: Path, reports: list[dict]) -> float:
    """One papermill CLI call per report (re-reading the data), then nbconvert per report; serial."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    t0 = time.perf_counter()
    for i, r in enumerate(reports):
        kind = r["kind"]
        nb = out / f"{i:04d}.ipynb"
        id_param = "account_manager_id" if kind == "account_manager" else "team"
        subprocess.run(
            [
                str(BIN / "papermill"),
                str(TEMPLATES / f"{kind}.ipynb"),
                str(nb),
                "-k",
                "reportkit",
                "-r",
                "params_file",
                str(params),
                "-r",
                id_param,
                r["id"],
                "-r",
                "period",
                "FY2025-Q4",
                "-r",
                "as_of",
                "2025-12-31",
                "--no-progress-bar",
                "--log-level",
                "ERROR",
            ],
            check=True,
            capture_output=True,
            cwd=str(TEMPLATES),
        )
        subprocess.run(
            [str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(nb)], check=True, capture_output=True
        )
    return time.perf_counter() - t0


BIG = """\
import sys, time
from reportkit.data.mapping import load_dataset
from reportkit.config.params import load_params
import reportkit as rk
params = load_params(sys.argv[1])
t0 = time.perf_counter(); ds = load_dataset(params.resolve(params.source)); t1 = time.perf_counter()
att = rk.attainment_table(ds, params.period, params=params); t2 = time.perf_counter()
print(f"{len(ds.deals)} {t1 - t0:.2f} {t2 - t1:.2f} {len(att)}")
"""


def big_load(folder: Path, deals: int) -> str:
    """Generate ``deals`` deals (50 managers) in ``folder``; time load + validate and the aggregate.

    Both run in a fresh process (the ``BIG`` snippet), so imports and the lazy pandera
    import count as a first load in a notebook would. Returns the result line.
    """
    p = generate(folder, 50, deals)
    _, rss_big, stdout = measured([sys.executable, "-c", BIG, str(p)])
    rows, t_load, t_agg, n_att = stdout.split()
    return (
        f"{int(rows):,} deals: load + validate {float(t_load):.1f} s, aggregate (attainment of "
        f"{n_att} managers) {float(t_agg):.2f} s, process peak RSS {rss_big:.0f} MB"
    )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--managers", type=int, default=50, help="account managers in the headline org (default 50)")
    ap.add_argument("--deals", type=int, default=200_000, help="deals in the headline org (default 200,000)")
    ap.add_argument("--big-deals", type=int, default=1_000_000, help="deals for the load benchmark (0 skips it)")
    ap.add_argument("--jobs", type=int, default=None, help="reportkit --jobs (default: CPU cores)")
    ap.add_argument("--skip-naive", action="store_true", help="do not time the naive way")
    ap.add_argument("--skip-scaling", action="store_true", help="do not run the 1x/2x/4x scaling")
    ap.add_argument("--keep", action="store_true", help="keep the generated data and outputs")
    ap.add_argument("--only-big", action="store_true", help="run only the load benchmark of --big-deals deals")
    args = ap.parse_args(argv)
    if args.only_big:
        root = Path(tempfile.mkdtemp(prefix="reportkit-bench-"))
        try:
            print(big_load(root / "big", args.big_deals or 1_000_000))
        finally:
            shutil.rmtree(root, ignore_errors=True)
        return

    root = Path(tempfile.mkdtemp(prefix="reportkit-bench-"))
    lines = [f"cpu cores: {os.cpu_count()}; reportkit --jobs {args.jobs or os.cpu_count()}"]
    try:
        params = generate(root / "org", args.managers, args.deals)
        wall, rss, reports = reportkit_batch(params, root / "out", args.jobs)
        n = len(reports)
        failed = sum(r["status"] != "ok" for r in reports)
        lines.append(f"headline: {args.managers} managers, {args.deals:,} deals, {n} reports ({failed} failed)")
        lines.append(f"reportkit batch: {wall:.1f} s ({wall / n:.2f} s/report), peak RSS {rss:.0f} MB")
        if not args.skip_naive:
            t_naive = naive(params, root / "naive", reports)
            lines.append(f"naive papermill + nbconvert per report: {t_naive:.1f} s ({t_naive / n:.2f} s/report)")
            lines.append(f"ratio naive / reportkit: {t_naive / wall:.1f}x")
        if not args.skip_scaling:
            for k in (1, 2, 4):
                m, d = max(1, args.managers * k // 4), max(100, args.deals * k // 4)
                p = generate(root / f"scale{k}", m, d)
                w, r, reps = reportkit_batch(p, root / f"scale{k}-out", args.jobs)
                lines.append(f"scaling {k}x: {m} managers, {d:,} deals, {len(reps)} reports: {w:.1f} s, peak RSS {r:.0f} MB")
        if args.big_deals:
            lines.append(big_load(root / "big", args.big_deals))
    finally:
        if args.keep:
            print(f"kept in {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
