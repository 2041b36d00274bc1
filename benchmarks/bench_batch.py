"""Benchmark: ``reportkit batch`` against the naive way (PDFs off and on), fixed cost, scaling, loading.

One run prints every figure issue #18 asks for, each timing with the machine's load
average (``os.getloadavg()``) and the CPU seconds it took, because wall times on a
shared machine are noisy:

1. **Ratios.** A synthetic org (default 50 account managers in 5 teams, 200,000 deals
   over FY2024-FY2025, quarterly quotas) as CSV files plus a source mapping and params
   file. ``reportkit batch`` runs it twice, with params ``pdf.enabled`` false and true
   (``-p pdf.enabled=...``). The naive way runs in the same process, serially, per
   report: one ``papermill`` CLI call whose notebook re-reads all the CSVs itself (the
   template with ``report_data`` empty builds the report from ``params_file``), one
   ``jupyter nbconvert --to html --no-input``, and, for the PDFs-on figure, one PDF the
   way a user without reportkit would make it: headless Chromium printing nbconvert's
   HTML (``chromium --headless --print-to-pdf``; nbconvert's ``--to webpdf`` needs
   playwright and a browser download, which an offline machine does not have).
   Prints ``ratio naive / reportkit (PDFs off)`` and ``(PDFs on)``. ``--rounds N`` runs
   this N times in turn (both batches, then the naive sample: each round's batches beside
   its own naive loop) and also prints each ratio's median over the rounds: on a virtual
   machine whose speed drifts by 20 % between minutes (seen: the same headline batch 23.3 s
   and 28.4 s of wall, 40 and 49 s of CPU, ten minutes apart, and the naive loop 13.7 and
   11.3 s a report), one round's ratio is partly the luck of when each half ran.
2. **Fixed cost of a batch.** The wall time of a batch of one report (one account
   manager, ``reports: [account_manager]``) over the headline data, split into the time
   around the report (start-up, params, loading and validating the data, the workers'
   start, manifest, index and figures) and the report's ``duration_s`` (building it,
   which builds the context every report of a batch shares: credits and forecasts, then
   executing it). An upper bound: it includes one report. Also the intercept of a
   straight line through the scaling points (wall time against reports). Both also as a
   ratio against the naive loop of the same run (``in_naive_reports``): the issue's 4 s
   was set on a machine whose naive loop took 11.37 s a report, so 0.35 naive reports.
3. **Scaling**: wall time per report and peak RSS per process kind at 12/50,000,
   25/100,000, 50/200,000 (the headline run, not repeated) and 200/800,000 managers/deals.
4. **Loading**: ``mapping.load_dataset`` (load + validate) and the aggregate (attainment
   table of every account manager for the period) of 1,000,000 deals, in a fresh
   process (imports and the lazy pandera import count, as in a notebook).

Peak memory: ``largest`` is the largest resident set of any single process of the run:
``getrusage(RUSAGE_CHILDREN).ru_maxrss`` of a wrapper process (exact, but only for the
processes that were waited for: not the report workers) or the largest sampled figure,
whichever is more; the per-kind figures (``batch`` = the ``reportkit batch`` process, ``worker`` = a report worker,
``warm`` = a worker's warm kernel process, ``kernel`` = a report's kernel) are sampled
every 50 ms with psutil, so a peak shorter than that can be missed. CPU seconds are user +
system of every process of the run, as last sampled (at most 50 ms short per process), or
``getrusage(RUSAGE_CHILDREN)`` of the wrapper where that is more.

Run: ``.venv/bin/python benchmarks/bench_batch.py`` (the issue's headline sizes; the
naive loop alone takes about 15 minutes), or ``--quick`` for a development run of a few
minutes (10 managers / 40,000 deals, naive loop on 6 reports extrapolated, small
scaling points, 200,000 deals loaded). Sizes: ``--managers``, ``--deals``,
``--scaling 12:50000,25:100000`` (``none`` skips), ``--big-deals`` (0 skips),
``--naive-reports N`` (time N reports of the naive loop and extrapolate), ``--skip-naive``,
``--skip-pdf``, ``--only-big``, ``--rounds N`` (the ratios' rounds); ``--smoke`` only checks that the script runs (tiniest sizes).
``docs/batch.md`` ("Performance") records a run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
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


CHROMIUM = Path("/usr/bin/chromium")
ROLES = ("batch", "worker", "warm", "kernel")


def load_avg() -> str:
    """The 1, 5 and 15-minute load averages, as printed beside every timing."""
    return "load {:.1f}/{:.1f}/{:.1f}".format(*os.getloadavg())


@dataclass
class Run:
    """One measured command: wall and CPU seconds, peak RSS (MB) of its largest process and per process kind."""

    wall: float
    cpu: float
    largest: float
    peaks: dict[str, float] = field(default_factory=dict)
    stdout: str = ""
    load: str = ""
    started: float = 0.0
    """Wall-clock time (``time.time()``) the command was launched."""
    cpu_series: list[tuple[float, float]] = field(default_factory=list)
    """(``time.time()``, CPU seconds of every process so far) at each 50 ms sample."""

    def memory(self) -> str:
        kinds = ", ".join(f"{k} {self.peaks[k]:.0f}" for k in ROLES if k in self.peaks)
        return f"peak RSS largest process {self.largest:.0f} MB" + (f" ({kinds})" if kinds else "")


def _own_session(pid: int) -> bool:
    """Whether process ``pid`` leads its own session (a warm kernel process does; a worker's forked fit child does not)."""
    try:
        return os.getsid(pid) == pid
    except OSError:
        return False


class _RssSampler(threading.Thread):
    """Largest RSS per process kind of ``pid``'s descendants, sampled every 50 ms (psutil).

    The command's own process (the wrapper's child) is ``batch``; a process started by
    the multiprocessing forkserver is a ``worker``; ``python -m reportkit.run._warm`` is
    ``warm`` and the processes it forks (same command line) are ``kernel``; an ipykernel
    started the ordinary way is a ``kernel`` too.
    """

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peaks, self.stop = pid, {}, threading.Event()
        self._roles: dict[int, str] = {}
        self._recheck: set[int] = set()  # provisional roles (_role)
        self.cpu: dict[int, float] = {}  # pid -> user + system seconds when last seen
        self.series: list[tuple[float, float]] = []  # (time.time(), sum of self.cpu) per sample

    def _role(self, p, top: int) -> str:
        if p.pid not in self._roles or p.pid in self._recheck:
            cmd = " ".join(p.cmdline())
            parent = self._roles.get(p.ppid(), "")
            if p.ppid() == top:
                role = "batch"
            elif "reportkit.run._warm" in cmd:
                role = "kernel" if parent in ("warm", "kernel") else "warm"
            elif "forkserver" in cmd and parent in ("warm", "kernel"):
                role = "kernel"  # forked from a warm process that a worker forked: the worker's command line
            elif "forkserver" in cmd and parent == "worker" and _own_session(p.pid):
                role = "warm"  # a worker's warm process, forked from it (its own session); its fit children are not
            elif "forkserver" in cmd:
                role = "worker" if parent in ("forkserver", "worker") else "forkserver"
            elif "ipykernel" in cmd:
                role = "kernel"
            else:
                role = "other"
            self._roles[p.pid] = role
            # a worker's child is a fit child, or its warm process seen before its setsid (the worker forks it
            # first thing), and a process seen before its parent (pids wrap around): asked again at every sample
            provisional = (role == "worker" and parent == "worker") or (not parent and p.ppid() != top)
            (self._recheck.add if provisional else self._recheck.discard)(p.pid)
        return self._roles[p.pid]

    def run(self) -> None:
        import psutil

        try:
            top = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self.stop.is_set():
            try:
                procs = sorted(top.children(recursive=True), key=lambda q: q.pid)
            except psutil.Error:
                break
            for p in procs:
                try:
                    role, rss = self._role(p, self.pid), p.memory_info().rss / 2**20
                    t = p.cpu_times()
                except psutil.Error:
                    continue
                self.cpu[p.pid] = t.user + t.system
                self.peaks[role] = max(self.peaks.get(role, 0.0), rss)
            self.series.append((time.time(), sum(self.cpu.values())))
            self.stop.wait(0.05)


def measured(cmd: list[str], **kw) -> Run:
    """Run ``cmd`` in a wrapper process: wall and CPU seconds, peak RSS (largest process and per kind), stdout."""
    wrapper = (
        "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
        "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
        "print(u.ru_maxrss, u.ru_utime + u.ru_stime); sys.exit(r.returncode)"
    )
    t0, started = time.perf_counter(), time.time()
    proc = subprocess.Popen(
        [sys.executable, "-c", wrapper, *cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw
    )
    sampler = _RssSampler(proc.pid)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    sampler.stop.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{err[-2000:]}")
    *output, last = out.strip().splitlines()
    peak, cpu = last.split()
    cpu_seen = sum(sampler.cpu.values())  # every process of the run, up to its last sample
    largest = max([int(peak) / 1024, *sampler.peaks.values()])  # getrusage sees only the processes waited for
    return Run(wall, max(float(cpu), cpu_seen), largest, sampler.peaks, "\n".join(output), load_avg(), started, sampler.series)


def smoke_fit_cache() -> Path | None:
    """The cache of model fits of a script's ``--smoke`` runs: the caller's ``REPORTKIT_CACHE_DIR``, or None when unset.

    tests/test_benchmarks.py sets it to the test run's one folder, so the smoke runs' tiny
    orgs (the same data each time) have their models fitted once in the run, not once per
    batch, build and script: a smoke run checks that a script runs, not what a cold cache
    costs. Without it (None) every run stays cold, as without ``--smoke``.
    """
    folder = os.environ.get("REPORTKIT_CACHE_DIR")
    return Path(folder) if folder else None


def reportkit_batch(
    params: Path, out: Path, jobs: int | None, *overrides: str, cache: Path | None = None
) -> tuple[Run, list[dict]]:
    """``reportkit batch`` into a fresh ``out`` with ``-p`` ``overrides``; the run and the manifest's reports.

    ``cache``: the folder of model fits the batch reads and fills (``REPORTKIT_CACHE_DIR``); by
    default a fresh, empty one beside ``out``, so every batch pays its fits (a cold cache).
    """
    shutil.rmtree(out, ignore_errors=True)
    if cache is None:
        cache = out.with_name(out.name + "-fit-cache")
        shutil.rmtree(cache, ignore_errors=True)
    cmd = [str(BIN / "reportkit"), "batch", str(params), "-o", str(out), "-q"] + (["-j", str(jobs)] if jobs else [])
    for o in overrides:
        cmd += ["-p", o]
    run = measured(cmd, env={**os.environ, "REPORTKIT_CACHE_DIR": str(cache)})
    reports = json.loads((out / "manifest.json").read_text())["reports"]
    failed = [r for r in reports if r["status"] != "ok" or r.get("output_errors")]
    if failed:
        raise SystemExit(f"{len(failed)} report(s) failed or lost an output: {failed[0]}")
    return run, reports


def _chromium_pdf(html: Path, pdf: Path, profile: Path) -> None:
    """Print ``html`` to ``pdf`` with headless Chromium, as a user would (Chromium's own page header and footer)."""
    cmd = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--user-data-dir={profile}"]
    subprocess.run([*cmd, f"--print-to-pdf={pdf}", html.resolve().as_uri()], check=True, capture_output=True, timeout=120)
    if not pdf.read_bytes().startswith(b"%PDF-"):
        raise SystemExit(f"Chromium wrote no PDF for {html}")


@dataclass
class Naive:
    """The naive loop's wall and CPU seconds: notebooks + HTML, and the PDFs; ``timed`` of ``total`` reports (extrapolated if fewer)."""

    html: float
    pdf: float | None
    timed: int
    total: int
    html_cpu: float
    pdf_cpu: float
    load: str

    def scaled(self, seconds: float) -> float:
        return seconds * self.total / self.timed


def naive(params: Path, out: Path, reports: list[dict], sample: int | None, pdf: bool) -> Naive:
    """One papermill CLI call per report (re-reading the data), nbconvert per report, then Chromium per HTML; serial.

    ``sample``: time that many reports, spread evenly over the batch's list (every kind
    is in it), and extrapolate to all of them.
    """
    from reportkit.run.plan import ID_PARAMETER

    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    chosen = reports
    if sample and sample < len(reports):
        chosen = [reports[round(i * (len(reports) - 1) / max(1, sample - 1))] for i in range(sample)]
    t_html = t_pdf = c_html = c_pdf = 0.0
    for i, r in enumerate(chosen):
        kind = r["kind"]
        nb = out / f"{i:04d}.ipynb"
        t0, c0 = time.perf_counter(), _children_cpu()
        subprocess.run(
            [str(BIN / "papermill"), str(TEMPLATES / f"{kind}.ipynb"), str(nb), "-k", "reportkit",
             "-r", "params_file", str(params), "-r", ID_PARAMETER[kind], r["id"],
             "-r", "period", "FY2025-Q4", "-r", "as_of", "2025-12-31",
             "--no-progress-bar", "--log-level", "ERROR"],
            check=True,
            capture_output=True,
            cwd=str(TEMPLATES),
        )  # fmt: skip
        subprocess.run(
            [str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(nb)], check=True, capture_output=True
        )
        t1, c1 = time.perf_counter(), _children_cpu()
        t_html, c_html = t_html + t1 - t0, c_html + c1 - c0
        if pdf:
            _chromium_pdf(nb.with_suffix(".html"), nb.with_suffix(".pdf"), out / "chromium-profile")
            t_pdf, c_pdf = t_pdf + time.perf_counter() - t1, c_pdf + _children_cpu() - c1
    return Naive(t_html, t_pdf if pdf else None, len(chosen), len(reports), c_html, c_pdf, load_avg())


def _children_cpu() -> float:
    import resource

    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def fixed_cost(params: Path, out: Path, jobs: int | None, first_manager: str, cache: Path) -> tuple[Run, float]:
    """A batch of one account-manager report over ``params``' data: (its run, its report's own ``duration_s``).

    ``cache``: the folder of model fits (empty: a cold cache; filled by an earlier run: warm).
    """
    one = (f"account_managers={first_manager}", "reports=account_manager")
    run, reports = reportkit_batch(params, out, jobs, *one, cache=cache)
    if len(reports) != 1:
        raise SystemExit(f"the one-report batch made {len(reports)} reports")
    return run, float(reports[0]["duration_s"])


ISSUE_NAIVE_S_PER_REPORT = 625.4 / 55
"""The naive loop's seconds a report on the machine issue #18 set its targets on (625.4 s for 55 reports)."""
ISSUE_FIXED_TARGET_S = 4.0
"""Issue #18's fixed-cost target, in seconds on that machine."""


def in_naive_reports(seconds: float, naive_per_report: float) -> str:
    """A time as a fraction of one naive report of the same run, beside the issue's target in the same unit.

    The issue set its fixed-cost target (4 s) in seconds of a machine whose naive loop took 11.37 s a
    report; on another machine the same target, as a ratio against a baseline measured in the same run,
    is 4 / 11.37 = 0.35 naive reports.
    """
    target = ISSUE_FIXED_TARGET_S / ISSUE_NAIVE_S_PER_REPORT
    return (
        f"{seconds / naive_per_report:.2f} naive reports (this run's naive loop: {naive_per_report:.2f} s a report; "
        f"the issue's 4 s on its machine, {ISSUE_NAIVE_S_PER_REPORT:.2f} s a naive report, is {target:.2f}: "
        f"{seconds * ISSUE_NAIVE_S_PER_REPORT / naive_per_report:.1f} s there)"
    )


def intercept(points: list[tuple[int, float]]) -> tuple[float, float] | None:
    """(intercept, slope) of the least-squares line of wall seconds against reports; None under two points."""
    if len({n for n, _ in points}) < 2:
        return None
    slope, icpt = np.polyfit([n for n, _ in points], [w for _, w in points], 1)
    return float(icpt), float(slope)


BIG = """\
import os, sys, time
t = time.perf_counter(); c = time.process_time()
from reportkit.data.mapping import load_dataset
from reportkit.config.params import load_params
import reportkit as rk
params = load_params(sys.argv[1])
t0 = time.perf_counter(); c0 = time.process_time()
ds = load_dataset(params.resolve(params.source))
t1 = time.perf_counter(); c1 = time.process_time()
att = rk.attainment_table(ds, params.period, params=params)
t2 = time.perf_counter(); c2 = time.process_time()
print(f"{len(ds.deals)} {t1 - t0:.2f} {c1 - c0:.2f} {t2 - t1:.2f} {c2 - c1:.2f} {len(att)} {t0 - t:.2f}")
"""


def big_load(folder: Path, deals: int) -> str:
    """Generate ``deals`` deals (50 managers) in ``folder``; time load + validate and the aggregate.

    Both run in a fresh process (the ``BIG`` snippet), so the lazy pandera import counts
    as in a notebook's first load (reportkit's own import, before, is not counted).
    CPU seconds are the process's, every thread (pyarrow reads CSV on several).
    """
    p = generate(folder, 50, deals)
    run = measured([sys.executable, "-c", BIG, str(p)])
    rows, t_load, c_load, t_agg, c_agg, n_att, t_imp = run.stdout.split()
    return (
        f"{int(rows):,} deals: load + validate {float(t_load):.2f} s ({float(c_load):.2f} s CPU), aggregate "
        f"(attainment of {n_att} managers) {float(t_agg):.2f} s ({float(c_agg):.2f} s CPU), process peak RSS "
        f"{run.largest:.0f} MB; import reportkit {float(t_imp):.2f} s before; {run.load}"
    )


def _points(text: str) -> list[tuple[int, int]]:
    if text.strip().lower() in ("", "none", "0"):
        return []
    try:
        return [(int(m), int(d)) for m, d in (p.split(":") for p in text.split(","))]
    except ValueError:
        raise SystemExit(f"--scaling {text!r}: write MANAGERS:DEALS pairs separated by commas, e.g. 12:50000,25:100000") from None


def _headline_round(args, params: Path, root: Path, cache: Path | None, pdf: bool, say, head: str):
    """One round of the ratios: the headline batch PDFs off, then on, then the naive sample; each line said with ``head``.

    Returns (PDFs-off run, its manifest's reports, PDFs-on run or None, the naive sample or None).
    """
    off, reports = reportkit_batch(params, root / "out", args.jobs, "pdf.enabled=false", cache=cache)
    n = len(reports)
    say(f"{head}headline: {args.managers} managers, {args.deals:,} deals, {n} reports")
    say(
        f"{head}reportkit batch, PDFs off: {off.wall:.1f} s ({off.wall / n:.2f} s/report), {off.cpu:.0f} s CPU, {off.memory()}; {off.load}"
    )
    on = None
    if pdf:
        on, _ = reportkit_batch(params, root / "out-pdf", args.jobs, "pdf.enabled=true")
        renderer = json.loads((root / "out-pdf" / "manifest.json").read_text())["batch"]["pdf"]["renderer"]
        say(
            f"{head}reportkit batch, PDFs on ({renderer}): {on.wall:.1f} s ({on.wall / n:.2f} s/report), {on.cpu:.0f} s CPU, "
            f"{on.memory()}; {on.load}"
        )
    elif not args.skip_pdf:
        say(f"{head}PDFs on: skipped ({CHROMIUM} not found: the naive way's PDFs need it)")
    if args.skip_naive:
        return off, reports, on, None
    nv = naive(params, root / "naive", reports, args.naive_reports, pdf)
    how = f"timed {nv.timed} of {nv.total} reports, extrapolated" if nv.timed < nv.total else f"{nv.total} reports"
    t_off, c_off = nv.scaled(nv.html), nv.scaled(nv.html_cpu)
    say(
        f"{head}naive papermill + nbconvert --to html per report: {t_off:.1f} s ({t_off / n:.2f} s/report; {how}), "
        f"{c_off:.0f} s CPU; {nv.load}"
    )
    say(f"{head}ratio naive / reportkit (PDFs off): {t_off / off.wall:.1f}x (in CPU seconds {c_off / off.cpu:.1f}x)")
    if on is not None and nv.pdf is not None:
        t_on, c_on = t_off + nv.scaled(nv.pdf), c_off + nv.scaled(nv.pdf_cpu)
        say(
            f"{head}naive + one PDF per report by headless Chromium printing nbconvert's HTML "
            f"(chromium --headless --print-to-pdf): {t_on:.1f} s ({nv.scaled(nv.pdf) / n:.2f} s/report for the PDF), "
            f"{c_on:.0f} s CPU"
        )
        say(f"{head}ratio naive / reportkit (PDFs on): {t_on / on.wall:.1f}x (in CPU seconds {c_on / on.cpu:.1f}x)")
    return off, reports, on, nv


QUICK = {"managers": 10, "deals": 40_000, "scaling": "3:10000,6:20000,10:40000", "big_deals": 200_000, "naive_reports": 6}
SMOKE = {"managers": 1, "deals": 2_000, "scaling": "none", "big_deals": 0, "naive_reports": None}
"""``--smoke``: the tiniest run, that the script still works (tests/test_benchmarks.py): one batch, PDFs off, no naive loop,
no fixed-cost batch, no scaling points, no big load; ``--jobs 1`` unless given, the fits of :func:`smoke_fit_cache`."""
DEFAULT_SCALING = "12:50000,25:100000,50:200000,200:800000"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help=f"a development run of a few minutes: {QUICK} unless given")
    ap.add_argument("--smoke", action="store_true", help="the tiniest run, to check the script works (SMOKE; no figures)")
    ap.add_argument("--managers", type=int, default=None, help="account managers in the headline org (default 50)")
    ap.add_argument("--deals", type=int, default=None, help="deals in the headline org (default 200,000)")
    ap.add_argument("--scaling", default=None, help=f"MANAGERS:DEALS points (default {DEFAULT_SCALING}; 'none' skips)")
    ap.add_argument("--skip-scaling", action="store_true", help="the same as --scaling none")
    ap.add_argument("--big-deals", type=int, default=None, help="deals for the load benchmark (default 1,000,000; 0 skips it)")
    ap.add_argument(
        "--naive-reports", type=int, default=None, help="time this many reports of the naive loop and extrapolate (default all)"
    )
    ap.add_argument("--jobs", type=int, default=None, help="reportkit --jobs (default: CPU cores)")
    ap.add_argument("--skip-naive", action="store_true", help="do not time the naive way")
    ap.add_argument("--skip-pdf", action="store_true", help="no PDFs-on runs (reportkit and naive)")
    ap.add_argument("--skip-fixed", action="store_true", help="do not run the one-report batch")
    ap.add_argument("--keep", action="store_true", help="keep the generated data and outputs")
    ap.add_argument("--only-big", action="store_true", help="run only the load benchmark of --big-deals deals")
    ap.add_argument(
        "--rounds", type=int, default=1, help="run the ratios' batches and naive sample this many times in turn; print medians"
    )
    args = ap.parse_args(argv)
    defaults = {"managers": 50, "deals": 200_000, "scaling": DEFAULT_SCALING, "big_deals": 1_000_000, "naive_reports": None}
    if args.smoke:
        args.skip_naive = args.skip_pdf = args.skip_fixed = True
        args.jobs = args.jobs or 1  # one worker: a second one's start is most of what it would add
    for k, v in (SMOKE if args.smoke else QUICK if args.quick else defaults).items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    root = Path(tempfile.mkdtemp(prefix="reportkit-bench-"))
    if args.only_big:
        try:
            print(big_load(root / "big", args.big_deals or 1_000_000))
        finally:
            shutil.rmtree(root, ignore_errors=True)
        return
    pdf = not args.skip_pdf and CHROMIUM.exists()
    lines = [f"cpu cores: {os.cpu_count()}; reportkit --jobs {args.jobs or os.cpu_count()}; {load_avg()} at the start"]

    def say(text: str) -> None:
        lines.append(text)
        print(text, file=sys.stderr, flush=True)  # progress; the summary is printed at the end

    try:
        params = generate(root / "org", args.managers, args.deals)
        cache = smoke_fit_cache() if args.smoke else None
        ratios: dict[str, list[float]] = {"off": [], "on": []}
        per_report: list[float] = []
        for r in range(1, max(1, args.rounds) + 1):
            head = "" if args.rounds <= 1 else f"round {r}: "
            off, reports, on, nv = _headline_round(args, params, root, cache, pdf, say, head)
            n = len(reports)
            if nv is not None:
                t_off = nv.scaled(nv.html)
                per_report.append(t_off / n)
                ratios["off"].append(t_off / off.wall)
                if on is not None and nv.pdf is not None:
                    ratios["on"].append((t_off + nv.scaled(nv.pdf)) / on.wall)
        if args.rounds > 1:
            for key, what in (("off", "PDFs off"), ("on", "PDFs on")):
                if ratios[key]:
                    each = ", ".join(f"{x:.1f}x" for x in ratios[key])
                    say(
                        f"ratio naive / reportkit ({what}), median of {len(ratios[key])} rounds: {statistics.median(ratios[key]):.1f}x ({each})"
                    )
        naive_per_report = statistics.median(per_report) if per_report else None
        if not args.skip_fixed:
            walls: dict[str, list[float]] = {"cold": [], "warm": []}
            for r in range(1, max(1, args.rounds) + 1):
                head = "" if args.rounds <= 1 else f"round {r}: "
                cache = root / "one-fit-cache"
                shutil.rmtree(cache, ignore_errors=True)
                for state in ("cold", "warm"):  # an empty cache of model fits, then the one the cold run filled
                    one, own = fixed_cost(params, root / "one", args.jobs, "AM-0001", cache)
                    walls[state].append(one.wall)
                    say(
                        f"{head}fixed cost of a batch, {state} fit cache: {one.wall:.1f} s, a 1-report batch over {args.deals:,} deals "
                        f"({one.cpu:.1f} s CPU, {one.memory()}): {one.wall - own:.1f} s around its report (start-up, loading, "
                        f"manifest, index) and {own:.1f} s the report's duration_s (building it with the context every report "
                        f"shares, then executing it); {one.load}"
                    )
            for state, got in walls.items():
                wall = statistics.median(got)
                if args.rounds > 1:
                    each = ", ".join(f"{x:.1f}" for x in got)
                    say(f"fixed cost of a batch, {state} fit cache, median of {len(got)} rounds: {wall:.1f} s ({each})")
                if naive_per_report is not None:
                    say(f"fixed cost of a batch, {state} fit cache, as a ratio: {in_naive_reports(wall, naive_per_report)}")
        points = [] if args.skip_scaling else _points(args.scaling)
        fit: list[tuple[int, float]] = []
        for m, d in points:
            if (m, d) == (args.managers, args.deals):
                run, reps = off, reports  # the headline run, PDFs off
            else:
                p = generate(root / f"scale-{m}", m, d)
                run, reps = reportkit_batch(p, root / f"scale-{m}-out", args.jobs, "pdf.enabled=false")
            fit.append((len(reps), run.wall))
            say(
                f"scaling {m} managers, {d:,} deals, {len(reps)} reports: {run.wall:.1f} s, {run.wall / len(reps):.2f} s/report, "
                f"{run.cpu:.0f} s CPU, {run.memory()}; {run.load}"
            )
        line = intercept(fit)
        if line is not None:
            say(f"scaling fit: {line[0]:.1f} s + {line[1]:.2f} s x reports (intercept = fixed cost)")
            if naive_per_report is not None:
                say(f"scaling fit's intercept as a ratio: {in_naive_reports(line[0], naive_per_report)}")
        if args.big_deals:
            say(big_load(root / "big", args.big_deals))
    finally:
        if args.keep:
            print(f"kept in {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
