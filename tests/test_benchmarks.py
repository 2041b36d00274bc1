"""Every benchmark script still runs: each at its tiniest size (``--smoke``), exit 0, its headline lines printed.

``bench_forecast.py`` broke silently when ``bench_batch.measured`` changed, and
``bench_excel.py``'s read-back failed on every run once workbook sheets had a title row;
nothing ran the scripts. These runs check no figure, only that each script runs
through and prints the lines a reader of ``docs/`` looks for. A new ``bench_*.py``
needs a ``--smoke`` switch and its headline lines in :data:`HEADLINES`.

The smoke runs read and fill the test run's cache of model fits (``REPORTKIT_CACHE_DIR``,
``bench_batch.smoke_fit_cache``): their tiny orgs are the same data every time, so the
forecast's models are fitted once per org in the run, not in each of their batches and builds.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"

HEADLINES: dict[str, tuple[str, ...]] = {
    "bench_aggregate_ab.py": (
        r"2,000 deals \(50 managers, CSV, ids in order\); base HEAD; 1 rounds",
        r"base: aggregate CPU s median [\d.]+ \(min [\d.]+, max [\d.]+\); wall median [\d.]+; credited_deals alone median [\d.]+",
        r"this: aggregate CPU s median [\d.]+",
        r"same credited deals and attainment: yes",
    ),
    "bench_batch.py": (
        r"headline: 1 managers, 2,000 deals, \d+ reports",
        r"reportkit batch, PDFs off: [\d.]+ s \([\d.]+ s/report\), \d+ s CPU, peak RSS",
    ),
    "bench_batch_ab.py": (
        r"base: wall [\d.]+ s, CPU [\d.]+ s \(batch [\d.]+, worker [\d.]+, warm [\d.]+, kernel [\d.]+\)",
        r"new : wall [\d.]+ s, CPU [\d.]+ s",
        r"same bytes: (\d+) of \1 files",
    ),
    "bench_batch_memory.py": (
        r"build account_manager +\d+ +\d+ +\d+ +[\d.]+",
        r"batch process peak \d+ MB at [\d.]+ s, in: ",
        r"peak RSS per process kind \(MB\): batch \d+, worker \d+",
    ),
    "bench_builds_ab.py": (
        r"base: load [\d.]+, first [\d.]+, rest [\d.]+, pickle [\d.]+",
        r"new : load [\d.]+, first [\d.]+, rest [\d.]+, pickle [\d.]+",
        r"report objects' pickles the same bytes: yes",
    ),
    "bench_commission.py": (
        r"deals: [\d,]+  AMs: 10  periods: 4",
        r"ratio engine/floor: [\d.]+x",
        r"peak memory \(max RSS\): \d+ MiB",
    ),
    "bench_excel.py": (
        r"reportkit write_workbook : +[\d.]+ s",
        r"DataFrame\.to_excel +: +[\d.]+ s",
        r"amounts read back: 2,000 cells, each the report's cents",
    ),
    "bench_fixed_ab.py": (
        r"base cold: wall [\d.]+ s, CPU [\d.]+ s \(batch [\d.]+, worker [\d.]+, warm [\d.]+, kernel [\d.]+, forkserver [\d.]+\), "
        r"duration_s [\d.]+",
        r"new  warm: wall [\d.]+ s, CPU [\d.]+ s",
        r"same bytes \(cold\): (\d+) of \1 files",
        r"same bytes \(warm\): (\d+) of \1 files",
    ),
    "bench_fits_ab.py": (
        r"round 1 base: fits [\d.]+ s CPU",
        r"median new : .*fits [\d.]+ s",
        r"\d+ fit records the same bytes on both sides: yes",
        r"\d+ tasks' frames the same on both sides: yes",
    ),
    "bench_fits_split.py": (
        r"\d+ fit tasks, at most \d+ fits",
        r"median forked: wall [\d.]+ s, this process [\d.]+ s CPU, children [\d.]+ s, all [\d.]+ s",
        r"every frame the same as the serial fits': yes",
    ),
    "bench_fingerprint.py": (r"deals +2,000", r"deal_fingerprint +[\d.]+ s +ratio [\d.]+x baseline"),
    "bench_forecast.py": (
        r"batch demo\.yaml: [\d.]+ s wall, peak RSS of its largest process \d+ MB",
        r"the batch's forecasts \(a fresh process: imports included\): [\d.]+ s wall",
        r"ratio forecast / batch: [\d.]+% wall",
    ),
    "bench_internals.py": (
        r"html export per report: +nbconvert [\d.]+ s, ours [\d.]+ s",
        r"kernel ready \(forked\): +jupyter_client [\d.]+ s",
        r"template run \(papermill\): +nbclient engine [\d.]+ s, ours [\d.]+ s",
    ),
    "bench_kernel_ab.py": (
        r"1 managers, 2,000 deals; base HEAD; 1 rounds of 1 kernels per kind",
        r"account_manager kernel CPU s \(1 kernels a side\): base median [\d.]+ \(min [\d.]+; system [\d.]+, \d+ minor faults; "
        r"client [\d.]+\), "
        r"new median [\d.]+ .*; same outputs: yes",
        r"company kernel CPU s \(1 kernels a side\): .*; same outputs: yes",
    ),
    "bench_load_ab.py": (
        r"2,000 deals \(50 managers, CSV\); base HEAD; 1 rounds",
        r"base: load \+ validate CPU s median [\d.]+ \(min [\d.]+, max [\d.]+\); wall median [\d.]+",
        r"this: load \+ validate CPU s median [\d.]+",
        r"same data set: yes",
    ),
    "bench_pdf.py": (r"demo weasyprint: 1 reports; CPU per report median [\d.]+ s",),
    "bench_pdf_ab.py": (
        r"1 managers, 2,000 deals; (chromium|weasyprint); base HEAD; 1 rounds of 1 prints of 3 reports",
        r"account_manager PDF CPU s \(1 reports, \d+ pages\): base median [\d.]+ \(min [\d.]+\), this median "
        r"[\d.]+ \(min [\d.]+\); same text: (yes|n/a), same page images: (yes|n/a)",
    ),
    "bench_timeline.py": (
        r"first report starts at [\d.]+ s; every worker busy until [\d.]+ s; last report ends [\d.]+ s",
        r"core-seconds the batch's processes left unused: before first report [\d.]+",
    ),
    "bench_report.py": (
        r"1 managers, 2,000 deals; reports: 1 account_manager, 1 company, 1 team",
        r"mean per report of the batch's mix: CPU [\d.]+ s",
    ),
    "bench_workbook_ab.py": (
        r"1 managers, 2,000 deals; base HEAD; 1 rounds of 1 writes",
        r"account_manager workbook CPU s: base median [\d.]+ \(min [\d.]+\), this median [\d.]+ \(min [\d.]+\); same bytes: yes",
        r"company workbook CPU s: base median [\d.]+ .*; same bytes: yes",
    ),
}


def test_every_benchmark_script_has_a_smoke_run_with_its_headline_lines():
    scripts = sorted(p.name for p in BENCHMARKS.glob("bench_*.py"))
    assert scripts == sorted(HEADLINES)
    for name in scripts:
        text = (BENCHMARKS / name).read_text(encoding="utf-8")
        assert "--smoke" in text, f"{name} has no --smoke switch"
        if name.endswith("_ab.py"):
            assert "--base-dir" in text, f"{name} cannot reuse the smoke runs' base checkout (--base-dir)"


@pytest.fixture(scope="session")
def base_checkout(tmp_path_factory) -> Path:
    """HEAD's ``src/`` (compiled) and ``templates/``, made once for every A/B smoke run of the test run.

    The A/B scripts' smoke compares HEAD with this checkout; each made its own copy
    (``git archive``, ``compileall``). One folder for every xdist worker, made by the
    first that asks, under a file lock (``benchmarks/bench_workbook_ab.py``, ``base_checkout``).
    """
    import fcntl

    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # each worker's basetemp sits in the run's own folder
        shared = shared.parent
    folder = shared / "bench-base-HEAD"
    with open(shared / "bench-base-HEAD.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "made").is_file():
            shutil.rmtree(folder, ignore_errors=True)
            make = f"import sys; sys.path.insert(0, {str(BENCHMARKS)!r}); from pathlib import Path; "
            make += f"from bench_workbook_ab import base_checkout; base_checkout(Path({str(folder)!r}), 'HEAD')"
            subprocess.run([sys.executable, "-c", make], check=True, timeout=300)
            (folder / "made").touch()
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(HEADLINES))
def test_each_benchmark_runs_at_its_smallest_size_and_prints_its_headline(
    script, tmp_path, request, fit_cache_in_a_temporary_folder
):
    env = {**os.environ, "TMPDIR": str(tmp_path), "REPORTKIT_CACHE_DIR": fit_cache_in_a_temporary_folder}
    base = ["--base-dir", str(request.getfixturevalue("base_checkout"))] if script.endswith("_ab.py") else []
    run = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--smoke", *base],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, f"{script} --smoke exited {run.returncode}:\n{run.stderr[-3000:]}"
    lines = run.stdout.splitlines()
    for headline in HEADLINES[script]:
        assert any(re.match(headline, line.strip()) for line in lines), (
            f"{script} --smoke printed no line like {headline!r}:\n{run.stdout[-3000:]}"
        )
