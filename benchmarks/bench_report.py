"""Benchmark: what one report costs, step by step, in CPU seconds and wall seconds.

Generates the synthetic org of ``benchmarks/bench_batch.py`` (default 50 account
managers, 200,000 deals), loads it once and, for a sample of its reports (every
``--every``-th account manager, every team and the company), measures each step a
batch runs for a report, in this one process (as a report worker with ``--jobs 1``):

* batch process: building the report object (inside ``shared_contexts()``; the first
  build also computes what the batch's reports share and is shown apart), pickling it;
* report worker: unpickling it, the kernel start (fork from the warm process, ready),
  each template cell (named by its tags, or its first line of code), the notebook
  client and Papermill around the cells (parameters, notebook writes, messages),
  the kernel's shutdown, HTML export, the workbook, the PDF (``--pdf``; its row names
  the renderer, params ``pdf.renderer``: ``--pdf-renderer auto|chromium|weasyprint``).

CPU is the process's own ``process_time`` for steps in this process and the kernel
process's user + system time (``/proc``) for the kernel's share of a step (for the
PDF the browser's and its driver's, Chromium's processes, in the same column), so the
figures do not depend on what else the machine runs; wall times do. The kernel's share
of its shutdown is what the warm process's reaped children times say the whole kernel
cost, less what the earlier steps counted (a reaped kernel has no ``/proc`` to read). Prints the
median per report kind and the mean cost per report of the whole batch (the org's
mix of kinds). ``docs/batch.md`` ("Where a report's time goes") records a run.

Run: ``.venv/bin/python benchmarks/bench_report.py [--managers 50] [--deals 200000]
[--every 10] [--pdf] [--pdf-renderer auto] [--repeat 1] [--each]`` (``--smoke``: 1 manager, 2,000 deals, the fits of
``bench_batch.smoke_fit_cache``, only to check that it runs).
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_batch import generate
from bench_pdf import renderer_cpu

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
_TICK = os.sysconf("SC_CLK_TCK")


def _kernel_cpu(pid: int | None) -> float:
    """User + system CPU seconds of process ``pid`` so far (0 when it is gone)."""
    if not pid:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _reaped_cpu(pid: int | None) -> float:
    """User + system CPU seconds of the reaped children of process ``pid`` (its ``cutime`` + ``cstime``)."""
    if not pid:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / _TICK


def _warm_pid() -> int | None:
    from reportkit.run import kernels

    proc = kernels.warm_process()._proc  # this benchmark's own warm process: its reaped children are the kernels
    return proc.pid if proc is not None else None


class Steps:
    """Per-report record of steps: name -> [wall s, CPU s of this process, CPU s of the kernel]."""

    def __init__(self) -> None:
        self.rows: dict[str, list[float]] = {}
        self.kernel_pid: int | None = None
        self.reaped0: float | None = None
        """The warm process's reaped children's CPU before this report's kernel was forked."""

    def add(self, name: str, wall: float, cpu: float, kcpu: float = 0.0) -> None:
        row = self.rows.setdefault(name, [0.0, 0.0, 0.0])
        row[0] += wall
        row[1] += cpu
        row[2] += kcpu

    def timed(self, name: str, fn: Any, *args: Any, **kw: Any) -> Any:
        w, c = time.perf_counter(), time.process_time()
        value = fn(*args, **kw)
        self.add(name, time.perf_counter() - w, time.process_time() - c)
        return value


def _cell_name(cell: Any) -> str:
    tags = cell.get("metadata", {}).get("tags") or []
    if "injected-parameters" in tags:
        return "cell: injected parameters"
    if "parameters" in tags:
        return "cell: parameters"
    lines = [ln.strip() for ln in cell.source.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    code = [ln for ln in lines if not ln.startswith(("from ", "import ", ")")) and not ln.endswith(",")]
    first = code[0] if code else (lines[0] if lines else "")
    if first.endswith("(") and first in lines and lines.index(first) + 1 < len(lines):
        first += " " + lines[lines.index(first) + 1]  # table( report.accounts, ...
    return "cell: " + first[:44]


def _instrument(current: list[Steps]) -> None:
    """Wrap Papermill's notebook client so each kernel start, cell and shutdown is timed (CPU of both processes)."""
    from papermill.clientwrap import PapermillNotebookClient as C

    def wrap(method: str, name_of: Any) -> None:
        original = getattr(C, method)

        def timed(self: Any, *args: Any, **kw: Any) -> Any:
            steps = current[0]
            if steps.reaped0 is None:
                steps.reaped0 = _reaped_cpu(_warm_pid())
            w, c = time.perf_counter(), time.process_time()
            k0 = _kernel_cpu(steps.kernel_pid)
            try:
                return original(self, *args, **kw)
            finally:
                if steps.kernel_pid is None and getattr(self.km, "provisioner", None) is not None:
                    steps.kernel_pid = getattr(self.km.provisioner, "pid", None)  # forked: its CPU starts at 0
                k1 = _kernel_cpu(steps.kernel_pid)
                if method == "_cleanup_kernel" and not Path(f"/proc/{steps.kernel_pid}").exists():
                    # the kernel has been reaped: its whole CPU is now in the warm process's children times
                    k1 = _reaped_cpu(_warm_pid()) - steps.reaped0
                name = name_of(*args)
                if name:
                    steps.add(name, time.perf_counter() - w, time.process_time() - c, max(0.0, k1 - k0))

        setattr(C, method, timed)

    # Papermill calls the client's synchronous methods (nbclient's run_sync wrappers)
    wrap("start_new_kernel", lambda *a: "kernel start (fork)")
    wrap("start_new_kernel_client", lambda *a: "kernel ready (client)")
    wrap("execute_cell", lambda cell, *a: _cell_name(cell) if cell.cell_type == "code" else None)
    wrap("_cleanup_kernel", lambda *a: "kernel shutdown")


def profile(args: argparse.Namespace, root: Path) -> dict[str, list[Steps]]:
    from reportkit.config.params import load_params
    from reportkit.domain import loading
    from reportkit.render import excel
    from reportkit.reports.builders import batch_kinds, plan_reports, shared_contexts
    from reportkit.run import kernels
    from reportkit.run.execute import _KERNEL_ARGS
    from reportkit.run.html import _html_exporter, export_html, export_print_body
    from reportkit.run.papermill_engine import execute_with_retry, register_engine

    params_path = generate(root / "org", args.managers, args.deals)
    if args.pdf:
        params_path.write_text(params_path.read_text() + "pdf: {enabled: true}\n")
    params = load_params(params_path)
    ds = loading.load_source(params)
    kinds = batch_kinds(params)
    specs = plan_reports(ds, params)
    ams = [s for s in specs if s.kind == "account_manager"]
    sample = ams[:: max(1, args.every)] + [s for s in specs if s.kind != "account_manager"]
    mix = {k: sum(s.kind == k for s in specs) for k in {s.kind for s in specs}}

    kernels.start_warm_process()
    _html_exporter()
    if args.pdf:
        from reportkit.render.pdf import PdfPage, choose_renderer, render_pdf, warm_renderer
        from reportkit.render.titles import print_title

        pdf_engine = choose_renderer(args.pdf_renderer)
        renderer = warm_renderer(pdf_engine)
        print(f"PDF renderer: {pdf_engine.name} {pdf_engine.executable or ''}", file=sys.stderr)
    engine = register_engine()
    current: list[Steps] = [Steps()]
    _instrument(current)
    out = root / "out"
    (out / ".work").mkdir(parents=True)
    by_kind: dict[str, list[Steps]] = defaultdict(list)
    from bench_batch import smoke_fit_cache

    from reportkit.domain.forecast_models import fit_cache

    cache = smoke_fit_cache() if args.smoke else None  # the smoke run's fits; else the shared context fits them here
    with shared_contexts(fit_cache=fit_cache(cache) if cache else None):
        w, c = time.perf_counter(), time.process_time()
        for spec in [s for s in sample if s.kind != "company"][:1] + [s for s in sample if s.kind == "company"]:
            kinds[spec.kind].build(ds, str(spec.id), params.period, params, params.as_of)
        shared = (time.perf_counter() - w, time.process_time() - c)
        for spec in sample:
            kind = kinds[spec.kind]
            for rep in range(args.repeat):
                steps = current[0] = Steps()
                report = steps.timed(
                    "batch: build report object", kind.build, ds, str(spec.id), params.period, params, params.as_of
                )
                blob = steps.timed("batch: pickle report object", pickle.dumps, report, pickle.HIGHEST_PROTOCOL)
                steps.rows["pickle size MB"] = [len(blob) / 1e6, 0.0, 0.0]
                pkl = out / ".work" / f"{spec.kind}-{rep}.pkl"
                pkl.write_bytes(blob)
                report = steps.timed("worker: unpickle report object", pickle.loads, blob)
                parameters = {
                    "params_file": os.path.relpath(params_path, out),
                    kind.id_parameter: str(spec.id),
                    "period": params.period,
                    "as_of": params.as_of.isoformat(),
                    "report_data": os.path.relpath(pkl, out),
                }
                w, c = time.perf_counter(), time.process_time()
                before = {k: list(v) for k, v in steps.rows.items()}
                executed = execute_with_retry(
                    str(TEMPLATES / f"{spec.kind}.ipynb"),
                    str(out / ".work" / f"{spec.kind}-{rep}.ipynb"),
                    parameters=parameters,
                    kernel_name="reportkit",
                    resources={"metadata": {"path": str(out)}},
                    progress_bar=False,
                    log_output=False,
                    extra_arguments=list(_KERNEL_ARGS),
                    engine_name=engine,
                    kernel_manager_class=kernels.WarmKernelManager,
                )
                total_w, total_c = time.perf_counter() - w, time.process_time() - c
                inner_w = sum(v[0] - before.get(k, [0, 0, 0])[0] for k, v in steps.rows.items() if k != "pickle size MB")
                inner_c = sum(v[1] - before.get(k, [0, 0, 0])[1] for k, v in steps.rows.items() if k != "pickle size MB")
                steps.add("papermill around the cells", total_w - inner_w, total_c - inner_c)
                steps.timed("worker: HTML export", export_html, executed, title="t")
                if kind.batch_workbook and "xlsx" in kind.formats:
                    steps.timed(
                        "worker: workbook", excel.write_workbook, report, out / f"{spec.kind}-{rep}.xlsx", company="Synthetic Co"
                    )
                if args.pdf:
                    body = steps.timed("worker: PDF print body", export_print_body, executed)
                    page = PdfPage(print_title(report, "Synthetic Co"), "A4", "landscape")
                    b = renderer_cpu(renderer)
                    steps.timed(f"worker: PDF render ({pdf_engine.name})", render_pdf, body, page, pdf_engine)
                    steps.rows[f"worker: PDF render ({pdf_engine.name})"][2] += renderer_cpu(renderer) - b  # the browser's
                by_kind[spec.kind].append(steps)
                print(f"  {spec.kind} {spec.id}: done", file=sys.stderr)
    return by_kind, mix, shared


def _table(title: str, runs: list[Steps]) -> list[str]:
    names: list[str] = []
    for s in runs:
        names += [n for n in s.rows if n not in names]
    lines = [title, f"  {'step':<52} {'CPU s':>7} {'kernel':>7} {'wall s':>7}   (kernel: the kernel's CPU, or the browser's)"]
    tot = [0.0, 0.0, 0.0]
    for n in names:
        vals = [s.rows.get(n, [0.0, 0.0, 0.0]) for s in runs]
        med = [statistics.median(v[i] for v in vals) for i in range(3)]
        if n == "pickle size MB":
            lines.append(f"  {'(report object pickle, MB)':<52} {med[0]:>7.2f}")
            continue
        tot = [a + b for a, b in zip(tot, med)]
        lines.append(f"  {n:<52} {med[1]:>7.3f} {med[2]:>7.3f} {med[0]:>7.3f}")
    lines.append(f"  {'total (CPU: process + kernel)':<52} {tot[1] + tot[2]:>7.3f} {'':>7} {tot[0]:>7.3f}")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--managers", type=int, default=50)
    ap.add_argument("--deals", type=int, default=200_000)
    ap.add_argument("--every", type=int, default=10, help="profile every N-th account manager (default 10)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per sampled report (default 1)")
    ap.add_argument("--pdf", action="store_true", help="also render each report's PDF (params pdf.enabled)")
    ap.add_argument(
        "--pdf-renderer", default="auto", choices=("auto", "chromium", "weasyprint"), help="params pdf.renderer (default auto)"
    )
    ap.add_argument("--each", action="store_true", help="print every sampled report, not only the medians")
    ap.add_argument("--smoke", action="store_true", help="the tiniest run, to check the script works: 1 manager, 2,000 deals")
    args = ap.parse_args()
    if args.smoke:
        args.managers, args.deals, args.every = 1, 2_000, 1
    with tempfile.TemporaryDirectory(prefix="reportkit-bench-report-") as tmp:
        by_kind, mix, shared = profile(args, Path(tmp))
    lines = [f"{args.managers} managers, {args.deals:,} deals; reports: " + ", ".join(f"{n} {k}" for k, n in sorted(mix.items()))]
    lines.append(f"batch: shared context + first builds (once per batch): CPU {shared[1]:.2f} s, wall {shared[0]:.2f} s")
    for kind, runs in by_kind.items():
        lines += _table(f"{kind} (median of {len(runs)})", runs)
        if args.each:
            for i, s in enumerate(runs):
                lines += _table(f"{kind} #{i}", [s])
    total_cpu = total_wall = 0.0
    for kind, runs in by_kind.items():
        cpu = statistics.median(sum(v[1] + v[2] for n, v in s.rows.items() if n != "pickle size MB") for s in runs)
        wall = statistics.median(sum(v[0] for n, v in s.rows.items() if n != "pickle size MB") for s in runs)
        total_cpu += cpu * mix.get(kind, 0)
        total_wall += wall * mix.get(kind, 0)
    n = sum(mix.values())
    lines.append(f"mean per report of the batch's mix: CPU {total_cpu / n:.3f} s, wall (one at a time) {total_wall / n:.3f} s")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
