"""Benchmark: the kernel's CPU per report, an older commit against this checkout, in alternation.

Builds an account manager's, a team's and the company's report object of ``bench_batch.py``'s
org (default 50 managers, 200,000 deals) and pickles them, as the batch process does. Each
round then runs ``--base`` (a ``git archive`` of that commit's ``src/`` and ``templates/``,
``src/`` on ``PYTHONPATH``) and this checkout in turn, the order swapping every round, each in
a fresh process that does what a report worker does: starts a warm process
(:mod:`reportkit.run.kernels`) and executes each report's template through Papermill in a
kernel forked from it (``--kernels`` times per report kind, after one untimed kernel). Per
report: the kernel's CPU seconds (user + system of the kernel process, read from the warm
process's ``/proc`` children times once the kernel has exited and been reaped, so start,
every cell and shutdown are counted), its system share and its minor page faults (the same
``/proc`` children counters: a forked kernel's copy-on-write faults on the warm process's
pages show there), and the executing process's own CPU around it (Papermill, the notebook
client, the messages). At the end the medians per kind, and
whether the executed notebooks are the same on both sides: every cell's source and outputs
(Papermill's timings and the cells' ids left out).

Run: ``.venv/bin/python benchmarks/bench_kernel_ab.py --base COMMIT [--rounds 3] [--kernels 3]``
(``--smoke``: 1 manager, 2,000 deals, one round of one kernel per kind, the base HEAD, the
objects built on the fits of ``bench_batch.smoke_fit_cache``, only to check that it runs; ``--base-dir DIR``: a base checkout an earlier run made, reused).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

KINDS = ("account_manager", "team", "company")
ID_PARAMETER = {"account_manager": "account_manager_id", "team": "team", "company": "company"}
_TICK = os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> tuple[float, float, int]:
    """The reaped children of process ``pid``: CPU seconds (``cutime`` + ``cstime``), system seconds, minor faults."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / _TICK, int(fields[14]) / _TICK, int(fields[8])


def child(spec_file: Path) -> None:
    """One side's run: fork kernels as a report worker does, print each report's CPU as JSON."""
    from reportkit.run import kernels
    from reportkit.run.execute import _KERNEL_ARGS
    from reportkit.run.papermill_engine import execute_with_retry, register_engine

    spec = json.loads(spec_file.read_text())
    out = Path(spec["out"])
    (out / ".work").mkdir(parents=True, exist_ok=True)
    wp = kernels.start_warm_process()
    engine = register_engine()
    warm_pid = wp._proc.pid  # this benchmark's own process: its children are the kernels

    def run(kind: str, name: str) -> tuple[float, float, float, int]:
        (k0, s0, f0), c0 = _children(warm_pid), time.process_time()
        executed = execute_with_retry(
            str(Path(spec["templates"]) / f"{kind}.ipynb"),
            str(out / ".work" / f"{name}.ipynb"),
            parameters={
                "params_file": spec["params"],
                ID_PARAMETER[kind]: spec["ids"][kind],
                "period": spec["period"],
                "as_of": spec["as_of"],
                "report_data": spec["pickles"][kind],
            },
            kernel_name="reportkit",
            resources={"metadata": {"path": str(out)}},
            progress_bar=False,
            log_output=False,
            extra_arguments=list(_KERNEL_ARGS),
            engine_name=engine,
            kernel_manager_class=kernels.WarmKernelManager,
        )
        client = time.process_time() - c0
        deadline = time.monotonic() + 5
        k1, s1, f1 = _children(warm_pid)
        while f1 == f0 and time.monotonic() < deadline:  # the warm process reaps it a moment later
            time.sleep(0.01)
            k1, s1, f1 = _children(warm_pid)
        (out / f"{name}.ipynb").write_text(json.dumps(_comparable(executed), indent=1, sort_keys=True))
        return k1 - k0, client, s1 - s0, f1 - f0

    run("team", "warm-up")
    cpu: dict[str, list[list[float]]] = {kind: [] for kind in spec["kinds"]}
    for i in range(spec["kernels"]):
        for kind in spec["kinds"]:
            cpu[kind].append(list(run(kind, f"{kind}-{i}")))
    wp.close()
    print(json.dumps(cpu))


def _comparable(nb: dict) -> list[dict]:
    """A notebook's cells without what changes from run to run (Papermill's timings, ids)."""
    return [
        {"source": c["source"], "outputs": c.get("outputs", []), "tags": c.get("metadata", {}).get("tags", [])}
        for c in nb["cells"]
    ]


def _objects(root: Path, managers: int, deals: int, cache: Path | None = None) -> dict:
    from bench_workbook_ab import _objects as build

    from reportkit.config.params import load_params

    pickles = build(root, managers, deals, cache)
    params_path = root / "org" / "params.yaml"
    params = load_params(params_path)
    ids = {kind: str(pickle.loads(p.read_bytes()).id) for kind, p in pickles.items()}
    return {
        "params": str(params_path),
        "period": params.period,
        "as_of": params.as_of.isoformat(),
        "pickles": {k: str(p) for k, p in pickles.items()},
        "ids": ids,
    }


def main() -> None:
    from bench_workbook_ab import BASE_DIR_HELP, ROOT, base_src

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default="HEAD~1")
    ap.add_argument("--managers", type=int, default=50)
    ap.add_argument("--deals", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--kernels", type=int, default=3, help="timed kernels per report kind per run (default 3)")
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--base-dir", type=Path, help=BASE_DIR_HELP)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(a.child)
        return
    if a.smoke:
        a.managers, a.deals, a.rounds, a.kernels, a.base = 1, 2_000, 1, 1, "HEAD"
    tmp = Path(tempfile.mkdtemp(prefix="bench-kernel-ab-"))
    src = base_src(a.base_dir, tmp / "base", a.base)
    from bench_batch import smoke_fit_cache

    objects = _objects(tmp, a.managers, a.deals, smoke_fit_cache() if a.smoke else None)
    kinds = a.kinds.split(",")
    print(f"{a.managers} managers, {a.deals:,} deals; base {a.base}; {a.rounds} rounds of {a.kernels} kernels per kind")
    cpu: dict[tuple[str, str], list[list[float]]] = {}
    for i in range(a.rounds):
        for side in ("base", "new") if i % 2 == 0 else ("new", "base"):
            spec = {
                **objects,
                "kinds": kinds,
                "kernels": a.kernels,
                "out": str(tmp / f"out-{side}"),
                "templates": str(src.parent / "templates" if side == "base" else ROOT / "templates"),
            }
            spec_file = tmp / f"spec-{side}.json"
            spec_file.write_text(json.dumps(spec))
            env = {**os.environ, "PYTHONPATH": str(src)} if side == "base" else dict(os.environ)
            run = subprocess.run(
                [sys.executable, __file__, "--child", str(spec_file)], capture_output=True, text=True, env=env, cwd=tmp
            )
            if run.returncode:
                raise SystemExit(f"{side} run failed:\n{run.stderr[-3000:]}")
            got = json.loads(run.stdout.strip().splitlines()[-1])
            for kind, rows in got.items():
                cpu.setdefault((side, kind), []).extend(rows)
            shown = ", ".join(f"{k} {statistics.median(r[0] for r in rows):.3f}" for k, rows in got.items())
            print(f"round {i + 1} {side:4}: kernel CPU s {shown}; load {os.getloadavg()[0]:.1f}", flush=True)
    for kind in kinds:
        line = []
        for side in ("base", "new"):
            rows = cpu[(side, kind)]
            k, c = statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows)
            s, f = statistics.median(r[2] for r in rows), statistics.median(r[3] for r in rows)
            line.append(
                f"{side} median {k:.3f} (min {min(r[0] for r in rows):.3f}; system {s:.3f}, {f:.0f} minor faults; client {c:.3f})"
            )
        same = all(
            (tmp / "out-base" / f"{kind}-{n}.ipynb").read_text() == (tmp / "out-new" / f"{kind}-{n}.ipynb").read_text()
            for n in range(a.kernels)
        )
        print(
            f"{kind} kernel CPU s ({len(cpu[('new', kind)])} kernels a side): {', '.join(line)}; same outputs: {'yes' if same else 'NO'}"
        )
    print(f"outputs in {tmp}")


if __name__ == "__main__":
    main()
