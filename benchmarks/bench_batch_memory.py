"""Benchmark: the batch process's resident memory step by step (issue #18 item 3), and each process kind's peak.

Runs ``reportkit batch`` once (default: ``bench_batch.py``'s org at 200 account managers,
800,000 deals, PDFs off, an empty cache of model fits) with ``REPORTKIT_TIMELINE`` set
(:mod:`reportkit.run.timeline`), reads the batch process's resident set from
``/proc/PID/statm`` every 5 ms (``--every``) from a thread of this process, and the other
processes' with ``bench_batch.py``'s sampler (every 50 ms, per kind: worker, warm, kernel).
Then it lines the samples up with the batch process's stamps and prints, per step
(``load``, ``plan``, each kind's ``build`` and ``pickle``, ``wait`` for the workers,
``fingerprint``, ``post-step`` (``company.xlsx``), ``batch facts`` (``figures.json``),
``manifest``, ``index``), the RSS when the step began and ended and its largest within
it, and where the batch process's peak fell. A step that repeats (each report's build)
shows its largest of all. Memory hardly moves with the machine's load, so one run on a
shared box reads (a run takes about 5 minutes on a quiet 2-core box, more under load).

Run: ``.venv/bin/python benchmarks/bench_batch_memory.py [--managers 200] [--deals 800000]
[--org DIR] [--base COMMIT] [--json FILE] [-p KEY=VALUE ...]`` (``--org``: generate the org there once and
reuse it in later runs; ``--base``: run that commit's ``src/`` instead, a ``git archive`` (with its ``templates/``) on
``PYTHONPATH``, as ``bench_batch_ab.py`` does; ``--smoke``: 2 managers, 2,000 deals, the fits of
``bench_batch.smoke_fit_cache``).
``docs/batch.md`` ("Session 14: where the 800,000-deal batch process peaks") records a run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_batch import BIN, ROLES, _RssSampler, generate, load_avg, smoke_fit_cache

PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20
WRAPPER = "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))"


class BatchRss(threading.Thread):
    """The resident set (MB) of ``wrapper``'s child (the batch process), every ``every`` seconds: [(time, MB)]."""

    def __init__(self, wrapper: int, every: float) -> None:
        super().__init__(daemon=True)
        self.wrapper, self.every, self.stop = wrapper, every, threading.Event()
        self.samples: list[tuple[float, float]] = []
        self.pid: int | None = None

    def run(self) -> None:
        import psutil

        while self.pid is None and not self.stop.is_set():
            try:
                kids = psutil.Process(self.wrapper).children()
            except psutil.Error:
                return
            self.pid = kids[0].pid if kids else None
            time.sleep(0.001)
        try:
            statm = open(f"/proc/{self.pid}/statm", "rb", buffering=0)  # noqa: SIM115 (read until the process ends)
        except OSError:
            return
        with statm:
            while not self.stop.is_set():
                try:
                    statm.seek(0)
                    rss = int(statm.read().split()[1]) * PAGE_MB
                except (OSError, IndexError, ValueError):
                    return
                self.samples.append((time.time(), rss))
                time.sleep(self.every)


def run(
    params: Path, out: Path, overrides: list[str], timeline: Path, every: float, env: dict[str, str], cache: Path | None = None
) -> dict:
    """One batch; the batch process's samples and stamps, and every process kind's peak.

    ``cache``: the cache of model fits it reads (default an empty one: the batch fits its models).
    """
    shutil.rmtree(out, ignore_errors=True)
    if cache is None:
        cache = out.with_name(out.name + "-fit-cache")
        shutil.rmtree(cache, ignore_errors=True)
    timeline.unlink(missing_ok=True)
    cmd = [str(BIN / "reportkit"), "batch", str(params), "-o", str(out), "-q"]
    for o in overrides:
        cmd += ["-p", o]
    env = {**env, "REPORTKIT_TIMELINE": str(timeline), "REPORTKIT_CACHE_DIR": str(cache)}
    load = load_avg()
    proc = subprocess.Popen([sys.executable, "-c", WRAPPER, *cmd], env=env)
    fast, kinds = BatchRss(proc.pid, every), _RssSampler(proc.pid)
    fast.start()
    kinds.start()
    code = proc.wait()
    fast.stop.set()
    kinds.stop.set()
    fast.join()
    kinds.join()
    if code:
        raise SystemExit(f"the batch failed ({code}): {' '.join(cmd)}")
    stamps = [json.loads(line) for line in timeline.read_text(encoding="utf-8").splitlines() if line.strip()]
    mine = sorted((s for s in stamps if s["pid"] == fast.pid), key=lambda s: s["t0"])
    return {"samples": fast.samples, "stamps": mine, "peaks": kinds.peaks, "load": f"{load} before, {load_avg()} after"}


def steps(raw: dict) -> list[tuple[str, float, float, float, float]]:
    """Per step of the batch process: (name, RSS when it first began, RSS when it last ended, largest in it, seconds)."""
    samples = raw["samples"]
    times = [t for t, _ in samples]

    def at(t: float) -> float:
        import bisect

        i = min(max(bisect.bisect_left(times, t), 0), len(samples) - 1)
        return samples[i][1]

    rows: dict[str, list[float]] = {}
    order: list[str] = []
    spans = [s for s in raw["stamps"] if s["what"] not in ("reports", "post-steps")]  # these wrap others
    for s in spans:
        name = s["what"] + (f" {s['kind']}" if s.get("kind") and s["what"] in ("build", "pickle") else "")
        name += f" {s['step']}" if s.get("step") else ""
        inside = [m for t, m in samples if s["t0"] <= t <= s["t1"]] or [at(s["t0"])]
        if name not in rows:
            order.append(name)
            rows[name] = [at(s["t0"]), at(s["t1"]), max(inside), s["t1"] - s["t0"]]
        else:
            r = rows[name]
            r[1], r[2], r[3] = at(s["t1"]), max(r[2], *inside), r[3] + s["t1"] - s["t0"]
    return [(n, *rows[n]) for n in order]  # type: ignore[misc]


def peak_step(raw: dict) -> str:
    """The batch process's largest sample, and the step(s) it fell in."""
    t, mb = max(raw["samples"], key=lambda x: x[1])
    where = [s for s in raw["stamps"] if s["t0"] <= t <= s["t1"] and s["what"] not in ("reports", "post-steps")]
    names = ", ".join(f"{s['what']} {s.get('kind') or s.get('step') or ''}".strip() for s in where) or "between stamped steps"
    return f"batch process peak {mb:.0f} MB at {t - raw['samples'][0][0]:.1f} s, in: {names}"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--managers", type=int, default=200)
    ap.add_argument("--deals", type=int, default=800_000)
    ap.add_argument("--smoke", action="store_true", help="2 managers, 2,000 deals: only checks that the script runs")
    ap.add_argument("--org", type=Path, help="generate the org here (once) and keep it")
    ap.add_argument("--base", help="run this commit's src/ (git archive, on PYTHONPATH) instead of this checkout")
    ap.add_argument("--every", type=float, default=0.005, help="seconds between the batch process's samples")
    ap.add_argument("--json", type=Path, help="write the samples and the batch process's stamps here")
    ap.add_argument("-p", dest="overrides", action="append", default=[], help="params override (default pdf.enabled=false)")
    args = ap.parse_args(argv)
    if args.smoke:
        args.managers, args.deals = 2, 2_000
    overrides = args.overrides or ["pdf.enabled=false"]
    tmp = Path(tempfile.mkdtemp(prefix="reportkit-memory-"))
    env = dict(os.environ)
    try:
        org = args.org or tmp / "org"
        params = org / "params.yaml"
        if not params.exists():
            generate(org, args.managers, args.deals)
        if args.base:
            root = Path(__file__).resolve().parents[1]
            archive = subprocess.run(
                ["git", "-C", str(root), "archive", args.base, "src", "templates"], capture_output=True, check=True
            )
            (tmp / "base").mkdir()
            subprocess.run(["tar", "-x", "-C", str(tmp / "base")], input=archive.stdout, check=True)
            subprocess.run([sys.executable, "-m", "compileall", "-q", str(tmp / "base" / "src")], check=True)
            env["PYTHONPATH"] = str(tmp / "base" / "src")
        cache = smoke_fit_cache() if args.smoke else None
        raw = run(params, tmp / "out", overrides, tmp / "timeline.jsonl", args.every, env, cache)
        if args.json:
            args.json.write_text(json.dumps(raw))
        print(f"{params} ({args.base or 'this checkout'}); {' '.join('-p ' + o for o in overrides)}; {raw['load']}")
        print(f"{'step of the batch process':34} {'RSS at start':>12} {'at end':>8} {'largest':>8} {'seconds':>8}")
        for name, start, end, top, secs in steps(raw):
            print(f"{name:34} {start:12.0f} {end:8.0f} {top:8.0f} {secs:8.1f}")
        print(peak_step(raw))
        kinds = defaultdict(float, raw["peaks"])
        kinds["batch"] = max(kinds["batch"], max(mb for _, mb in raw["samples"]))
        print("peak RSS per process kind (MB): " + ", ".join(f"{k} {kinds[k]:.0f}" for k in ROLES if k in kinds))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
