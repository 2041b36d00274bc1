"""Benchmark: the batch's timeline -- when each step of each process runs, and where the cores idle.

Runs ``reportkit batch`` once (default: ``bench_batch.py``'s headline org, 50 account
managers, 200,000 deals, PDFs off) with ``REPORTKIT_TIMELINE`` set
(:mod:`reportkit.run.timeline`: each process appends one JSON line per step, no
profiler), samples the CPU seconds of the batch's process tree every 0.1 s (psutil,
from this process, outside the timed run), then reads the stamps, the manifest and
the executed notebooks (Papermill's own ``start_time`` / ``end_time`` per cell) and
prints:

* the batch process's phases (start-up and imports, checks, the pool's start,
  loading, planning, each report object's build and pickle, the waits for workers,
  figures.json + deals.fingerprint.parquet, the post-steps (company.xlsx), manifest,
  index, the pool's close), with wall and CPU seconds;
* per report kind, the mean of each step in a worker (kernel start to the first cell,
  the cells, shutdown and notebook, HTML, workbook, PDF);
* a lane per process (the batch process and each report worker) drawn in text, one
  character per time slice, and each worker's idle gaps;
* where the cores idle: core-seconds of the batch's process tree not used (``cores x
  wall - CPU``) before the first report starts, while reports run, and after the last
  report ends (the serial tail), and the one-worker tail (from the last moment every
  worker was busy to the last report's end).

Run: ``.venv/bin/python benchmarks/bench_timeline.py [--managers 50] [--deals 200000]
[--jobs N] [--params FILE] [-p KEY=VALUE ...] [--plot FILE.svg] [--json FILE]
[--keep]``; ``--quick`` is 10 managers / 40,000 deals. ``docs/batch.md`` ("The
batch's timeline") records a run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_batch import BIN, generate, load_avg, measured

LANE_CHARS = {"account_manager": "a", "team": "t", "company": "C"}
BATCH_CHARS = {"build": "b", "pickle": "p", "load": "L", "plan": "P", "checks": "k", "pool start": "s", "wait": ".",
               "batch facts": "F", "post-steps": "X", "manifest": "M", "index": "I", "pool close": "z", "startup": "S"}  # fmt: skip


class MachineIdle(threading.Thread):
    """The whole machine's idle core-seconds so far (``/proc/stat``), sampled every 0.1 s: [(time, idle)].

    Beside the batch's own CPU it tells idle cores from cores other programs used.
    """

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stop, self.samples = threading.Event(), []
        self._tick = os.sysconf("SC_CLK_TCK")

    def run(self) -> None:
        while not self.stop.is_set():
            with open("/proc/stat") as f:
                fields = f.readline().split()
            self.samples.append((time.time(), (int(fields[4]) + int(fields[5])) / self._tick))  # idle + iowait
            self.stop.wait(0.1)


def _cell_times(nb_path: Path) -> list[tuple[float, float]]:
    """(start, end) epoch seconds of each executed code cell (Papermill's metadata, UTC)."""
    try:
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    out = []
    for cell in nb.get("cells", []):
        pm = cell.get("metadata", {}).get("papermill", {})
        if cell.get("cell_type") == "code" and pm.get("start_time") and pm.get("end_time"):
            out.append(tuple(_epoch(pm[k]) for k in ("start_time", "end_time")))
    return out  # type: ignore[return-value]


def _epoch(iso: str) -> float:
    t = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.timestamp()


def run(params: Path, out: Path, jobs: int | None, overrides: list[str], timeline: Path) -> dict[str, Any]:
    """Run the batch with the timeline on; return the raw material: stamps, CPU samples, launch and end times."""
    shutil.rmtree(out, ignore_errors=True)
    timeline.unlink(missing_ok=True)
    cmd = [str(BIN / "reportkit"), "batch", str(params), "-o", str(out), "-q"] + (["-j", str(jobs)] if jobs else [])
    for o in overrides:
        cmd += ["-p", o]
    load = load_avg()
    machine = MachineIdle()
    machine.start()
    try:
        r = measured(cmd, env={**os.environ, "REPORTKIT_TIMELINE": str(timeline)})
    finally:
        machine.stop.set()
        machine.join()
    stamps = [json.loads(line) for line in timeline.read_text(encoding="utf-8").splitlines() if line.strip()]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    first = min(s["t0"] for s in stamps)
    batch_pid = next(s["pid"] for s in stamps if s["t0"] == first)  # the batch process stamps first ("checks")
    return {"launch": r.started, "end": r.started + r.wall, "pid": batch_pid, "stamps": stamps, "cpu": r.cpu_series, "machine_idle": machine.samples,
            "manifest": manifest, "out": str(out), "load_before": load, "load_after": r.load}  # fmt: skip


def analyse(raw: dict[str, Any], cores: int) -> dict[str, Any]:
    """Phases, lanes, idle gaps and idle core-seconds from :func:`run`'s raw material (times relative to launch)."""
    t0, t_end = raw["launch"], raw["end"]
    stamps = raw["stamps"]
    batch_pid = raw["pid"]
    rel = lambda t: t - t0  # noqa: E731
    batch = sorted((s for s in stamps if s["pid"] == batch_pid), key=lambda s: s["t0"])
    first = min((s["t0"] for s in batch), default=t0)
    phases = [{"what": "startup", "t0": 0.0, "t1": rel(first), "cpu": None}]
    phases += [{**s, "t0": rel(s["t0"]), "t1": rel(s["t1"])} for s in batch]
    reports = [s for s in stamps if s["what"] == "report"]
    steps = [s for s in stamps if s["pid"] != batch_pid and s["what"] not in ("report", "worker start")]
    out = Path(raw["out"])
    paths = {(r["kind"], r["id"]): out / r["outputs"]["ipynb"] for r in raw["manifest"]["reports"] if r["outputs"].get("ipynb")}
    per_kind: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for s in steps:
        per_kind[s["kind"]][s["what"]].append(s["t1"] - s["t0"])
        if s.get("cpu") is not None:
            per_kind[s["kind"]][s["what"] + " cpu"].append(s["cpu"])
        if s["what"] == "execute":
            cells = _cell_times(paths.get((s["kind"], s["id"]), Path("/nonexistent")))
            if cells:
                per_kind[s["kind"]]["kernel start to first cell"].append(cells[0][0] - s["t0"])
                per_kind[s["kind"]]["cells"].append(cells[-1][1] - cells[0][0])
                per_kind[s["kind"]]["last cell to kernel gone"].append(s["t1"] - cells[-1][1])
    for r in reports:
        per_kind[r["kind"]]["report (worker)"].append(r["t1"] - r["t0"])
        per_kind[r["kind"]]["report (worker) cpu"].append(r.get("cpu") or 0.0)
    lanes: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in sorted(reports, key=lambda r: r["t0"]):
        lanes[r["pid"]].append({**r, "t0": rel(r["t0"]), "t1": rel(r["t1"])})
    starts = {s["pid"]: s for s in stamps if s["what"] == "worker start"}
    last_end = max((r["t1"] for lane in lanes.values() for r in lane), default=0.0)
    first_start = min((r["t0"] for lane in lanes.values() for r in lane), default=0.0)
    gaps = {}
    for pid, lane in lanes.items():
        ready = rel(starts[pid]["t1"]) if pid in starts else lane[0]["t0"]
        g = [(max(ready, a["t1"]), b["t0"]) for a, b in zip([{"t1": ready}, *lane], lane)]
        gaps[pid] = [(a, b) for a, b in g if b - a > 0.001]
    # the last moment every worker lane was busy: from then on at most jobs-1 reports run
    events = sorted(
        [(r["t0"], 1) for lane in lanes.values() for r in lane] + [(r["t1"], -1) for lane in lanes.values() for r in lane]
    )
    busy, last_full = 0, first_start
    for t, d in events:
        if busy >= len(lanes) and d < 0:
            last_full = t
        busy += d
    # idle core-seconds of the process tree, by period
    idle = {"before first report": 0.0, "while reports run": 0.0, "after last report": 0.0}
    cpu = raw["cpu"]
    for (ta, ca), (tb, cb) in itertools.pairwise(cpu):
        a, b = rel(ta), rel(tb)
        free = max(0.0, cores * (b - a) - (cb - ca))
        where = "before first report" if b <= first_start else "after last report" if a >= last_end else "while reports run"
        idle[where] += free
    machine = dict.fromkeys(idle, 0.0)
    for (ta, ia), (tb, ib) in itertools.pairwise(raw["machine_idle"]):
        a, b = rel(ta), rel(tb)
        where = "before first report" if b <= first_start else "after last report" if a >= last_end else "while reports run"
        machine[where] += ib - ia
    total_cpu = cpu[-1][1] if cpu else 0.0
    return {"wall": t_end - t0, "cores": cores, "cpu": total_cpu, "phases": phases, "per_kind": per_kind, "lanes": lanes,
            "gaps": gaps, "first_start": first_start, "last_end": last_end, "last_full": last_full, "idle": idle, "machine_idle": machine,
            "n_reports": len(reports), "starts": {p: {**s, "t0": rel(s["t0"]), "t1": rel(s["t1"])} for p, s in starts.items()}}  # fmt: skip


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else 0.0


def text(a: dict[str, Any], width: int = 100) -> str:
    """The timeline in words and lanes."""
    lines = [f"wall {a['wall']:.1f} s, {a['n_reports']} reports, {a['cpu']:.1f} s CPU of the process tree on {a['cores']} cores "
             f"({a['cores'] * a['wall']:.1f} core-s: {a['cores'] * a['wall'] - a['cpu']:.1f} idle)"]  # fmt: skip
    lines.append("")
    lines.append("batch process phases (s from launch; wall, CPU):")
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for p in a["phases"]:
        grouped[p["what"]].append(p)
    for what, ps in sorted(grouped.items(), key=lambda kv: kv[1][0]["t0"]):
        wall = sum(p["t1"] - p["t0"] for p in ps)
        cpu = sum(p.get("cpu") or 0.0 for p in ps)
        span = f"{ps[0]['t0']:6.2f} - {ps[-1]['t1']:6.2f}"
        n = f" x{len(ps)}" if len(ps) > 1 else ""
        extra = ""
        if what in ("build", "pickle"):
            by_kind: dict[str, float] = defaultdict(float)
            for p in ps:
                by_kind[p.get("kind", "?")] += p["t1"] - p["t0"]
            extra = "  (" + ", ".join(f"{k} {v:.2f}" for k, v in by_kind.items()) + ")"
        lines.append(f"  {what:<14}{n:<5} {span}  wall {wall:6.2f}  cpu {cpu:6.2f}{extra}")
    builds = [p for p in a["phases"] if p["what"] == "build"]
    if builds:
        lines.append("  builds in order: " + " ".join(f"{p.get('kind', '?')[0]}{p['t0']:.1f}" for p in builds[:8]) + " ...")
    lines.append("")
    lines.append("per report in a worker, mean wall s (cpu = the worker's own, not the kernel's):")
    for kind, steps in a["per_kind"].items():
        parts = ", ".join(f"{k} {_mean(v):.3f}" for k, v in steps.items())
        lines.append(f"  {kind} (n={len(steps.get('report (worker)', []))}): {parts}")
    lines.append("")
    scale = a["wall"] / width
    lines.append(f"lanes, one character = {scale:.2f} s ({', '.join(f'{c} {k}' for k, c in LANE_CHARS.items())}; "
                 f"batch: {', '.join(f'{c} {k}' for k, c in BATCH_CHARS.items())}):")  # fmt: skip
    row = [" "] * width
    for p in a["phases"]:
        for i in range(int(p["t0"] / scale), min(width, max(int(p["t0"] / scale) + 1, int(p["t1"] / scale)))):
            row[i] = BATCH_CHARS.get(p["what"], "?")
    lines.append(f"  batch    |{''.join(row)}|")
    for n, (pid, lane) in enumerate(sorted(a["lanes"].items())):
        row = [" "] * width
        s = a["starts"].get(pid)
        if s:
            for i in range(int(s["t0"] / scale), min(width, int(s["t1"] / scale))):
                row[i] = "s"
        for r in lane:
            lo, hi = int(r["t0"] / scale), max(int(r["t0"] / scale) + 1, int(r["t1"] / scale))
            for i in range(lo, min(width, hi)):
                row[i] = LANE_CHARS.get(r["kind"], "r")
            if lo < width:
                row[lo] = row[lo].upper() if r["kind"] != "company" else "C"
        lines.append(f"  worker {n} |{''.join(row)}|")
    lines.append("")
    for n, (_pid, g) in enumerate(sorted(a["gaps"].items())):
        total = sum(b - x for x, b in g)
        big = sorted(g, key=lambda ab: ab[0] - ab[1])[:4]
        lines.append(f"  worker {n} idle between its start and its last report: {total:.2f} s in {len(g)} gaps; largest: "
                     + ", ".join(f"{x:.1f}-{b:.1f}" for x, b in big))  # fmt: skip
    lines.append(f"  first report starts at {a['first_start']:.2f} s; every worker busy until {a['last_full']:.2f} s; "
                 f"last report ends {a['last_end']:.2f} s; batch ends {a['wall']:.2f} s (serial tail {a['wall'] - a['last_end']:.2f} s, "
                 f"one-worker tail {a['last_end'] - a['last_full']:.2f} s)")  # fmt: skip
    lines.append("  core-seconds the batch's processes left unused: " + ", ".join(f"{k} {v:.1f}" for k, v in a["idle"].items()))
    lines.append(
        "  core-seconds the machine was idle (others' load aside): "
        + ", ".join(f"{k} {v:.1f}" for k, v in a["machine_idle"].items())
    )
    return "\n".join(lines)


def plot(a: dict[str, Any], path: Path) -> None:
    """A Gantt chart of the lanes (batch process phases, each worker's reports) and the tree's CPU use."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {"account_manager": "#4c72b0", "team": "#dd8452", "company": "#c44e52"}
    fig, ax = plt.subplots(figsize=(14, 2 + 0.5 * len(a["lanes"])))
    for p in a["phases"]:
        if p["what"] != "wait":
            ax.barh(0, p["t1"] - p["t0"], left=p["t0"], color="#8c8c8c" if p["what"] != "build" else "#55a868", edgecolor="none")
    for n, (_pid, lane) in enumerate(sorted(a["lanes"].items()), start=1):
        for r in lane:
            ax.barh(n, r["t1"] - r["t0"], left=r["t0"], color=colours.get(r["kind"], "#999"), edgecolor="white", linewidth=0.3)
    ax.set_yticks(range(len(a["lanes"]) + 1), ["batch"] + [f"worker {i}" for i in range(len(a["lanes"]))])
    ax.set_xlabel("seconds from launch")
    ax.axvline(a["last_end"], color="k", linewidth=0.5)
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--managers", type=int, default=50)
    ap.add_argument("--deals", type=int, default=200_000)
    ap.add_argument("--quick", action="store_true", help="10 managers, 40,000 deals")
    ap.add_argument("--smoke", action="store_true", help="the tiniest run, to check the script works: 2 managers, 2,000 deals")
    ap.add_argument("--params", type=Path, help="run this params file instead of the synthetic org")
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("-p", dest="overrides", action="append", default=[], help="params override (default pdf.enabled=false)")
    ap.add_argument("--plot", type=Path, help="write a Gantt chart (SVG or PNG)")
    ap.add_argument("--json", type=Path, help="write the analysed timeline as JSON")
    ap.add_argument("--keep", action="store_true", help="keep the generated data and outputs")
    ap.add_argument("--width", type=int, default=100, help="characters per lane")
    args = ap.parse_args(argv)
    if args.quick:
        args.managers, args.deals = 10, 40_000
    if args.smoke:
        args.managers, args.deals = 2, 2_000
    overrides = args.overrides or ["pdf.enabled=false"]
    root = Path(tempfile.mkdtemp(prefix="reportkit-timeline-"))
    try:
        params = args.params.resolve() if args.params else generate(root / "org", args.managers, args.deals)
        raw = run(params, root / "out", args.jobs, overrides, root / "timeline.jsonl")
        a = analyse(raw, os.cpu_count() or 1)
        print(f"{params}; {' '.join('-p ' + o for o in overrides)}; {raw['load_before']} before, {raw['load_after']} after")
        print(text(a, args.width))
        if args.plot:
            plot(a, args.plot)
        if args.json:
            args.json.write_text(
                json.dumps(
                    {k: v for k, v in a.items() if k != "per_kind"}
                    | {"per_kind": {k: dict(v) for k, v in a["per_kind"].items()}},
                    default=str,
                    indent=1,
                )
            )
    finally:
        if args.keep:
            print(f"kept in {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
