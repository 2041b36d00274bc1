"""PDF cost: per report, for each renderer reused as a batch worker reuses it, and for the demo batch.

    .venv/bin/python benchmarks/bench_pdf.py                      # demo: per report + the batch ratios
    .venv/bin/python benchmarks/bench_pdf.py --skip-batch         # per report only
    .venv/bin/python benchmarks/bench_pdf.py --org --skip-batch   # + the 200,000-deal org's account managers
    .venv/bin/python benchmarks/bench_pdf.py --smoke              # one report, only to check that it runs

Per report: a batch's executed notebooks (PDFs off) are exported for print
(:func:`reportkit.run.html.export_print_body`) and printed by
:func:`reportkit.render.pdf.render_pdf` with one renderer reused, as a report worker
does, for each renderer that can run here (``chromium``: the system's browser through
Playwright; ``weasyprint``). CPU counts this process and, for Chromium, every process
of the browser and its Playwright driver (psutil: user + system of each, plus what
each has reaped of its exited children, e.g. a closed page's renderer process), so it
holds on a loaded machine; wall times do not. ``--org`` does the same on
``bench_batch.py``'s org (50 managers, 200,000 deals: 20-page account-manager PDFs
with a 200-row accounts table). Batch: ``make demo``'s batch with PDFs off, then on
with each renderer, into fresh folders. docs/pdf.md records a run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "params" / "demo.yaml"


SMOKE = {"account_managers": ["AM-001"], "reports": ["account_manager"]}
"""``--smoke``: the demo batch cut to one report (tests/test_benchmarks.py checks that the script runs), on the fits of
``bench_batch.smoke_fit_cache``."""


def tree_cpu(pid: int | None) -> float:
    """CPU seconds of process ``pid`` and every process under it, including the children they reaped."""
    import psutil

    if not pid:
        return 0.0
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


def renderer_cpu(renderer: object) -> float:
    """CPU of a renderer's own processes so far: Chromium's driver and browser; 0 for WeasyPrint (in this process)."""
    return tree_cpu(getattr(renderer, "driver_pid", None))


def _batch(params: Path, out: Path, pdf: str | None, cache: bool = False, **overrides: object) -> float:
    """The batch of ``params`` with PDFs off or by renderer ``pdf``: its wall seconds. ``cache``: read and keep the
    model fits in the cache folder (``REPORTKIT_CACHE_DIR``: the smoke run's); by default every run fits its models."""
    from reportkit.run.batch import run_batch

    pdf_over = {"enabled": "false"} if pdf is None else {"enabled": "true", "renderer": pdf}
    t0 = time.perf_counter()
    result = run_batch(params, out, progress=False, overrides={"pdf": pdf_over, **overrides}, cache=cache)
    assert result.succeeded, result.summary()
    return time.perf_counter() - t0


def measure(name: str, notebooks: list[Path]) -> dict[str, list[float]] | None:
    """Print every notebook's PDF with one reused renderer ``name``: start and per-report wall / CPU seconds."""
    from reportkit.core.errors import EnvironmentError_
    from reportkit.render.pdf import PdfPage, choose_renderer, render_pdf, warm_renderer
    from reportkit.render.titles import PrintTitle
    from reportkit.run.html import export_print_body

    try:
        engine = choose_renderer(name)
    except EnvironmentError_ as exc:
        print(f"{name}: cannot run here ({exc.message}): skipped")
        return None
    import datetime

    title = PrintTitle("Demo Co", "Report", "FY2025-Q4", datetime.date(2025, 12, 31))
    w, c = time.perf_counter(), time.process_time()
    renderer = warm_renderer(engine)
    render_pdf("<p>start</p>", PdfPage(title), engine)  # the start, up to a first page
    start = (time.perf_counter() - w, time.process_time() - c + renderer_cpu(renderer))
    times: dict[str, list[float]] = {"wall": [], "cpu": [], "pages": []}
    for nb_path in notebooks:
        body = export_print_body(nbformat.read(nb_path, as_version=4))
        w, c, b = time.perf_counter(), time.process_time(), renderer_cpu(renderer)
        pdf = render_pdf(body, PdfPage(title), engine)
        times["wall"].append(time.perf_counter() - w)
        times["cpu"].append(time.process_time() - c + renderer_cpu(renderer) - b)
        times["pages"].append(_pages(pdf))
        assert pdf.startswith(b"%PDF-")
    print(f"{name} start (+ a one-line page): wall {start[0]:.2f} s, CPU {start[1]:.2f} s")
    renderer.close()
    return times


def _pages(pdf: bytes) -> int:
    """The PDF's page count, as ``pdfinfo`` reads it (0 without poppler)."""
    import shutil
    import subprocess

    if shutil.which("pdfinfo") is None:
        return 0
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        info = subprocess.run(["pdfinfo", f.name], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pages:")))


def _report(label: str, name: str, t: dict[str, list[float]]) -> None:
    cpu, wall = t["cpu"], t["wall"]
    print(
        f"{label} {name}: {len(cpu)} reports; CPU per report median {statistics.median(cpu):.2f} s "
        f"(min {min(cpu):.2f}, max {max(cpu):.2f}, mean {statistics.mean(cpu):.2f}); "
        f"wall median {statistics.median(wall):.2f} s; pages median {statistics.median(t['pages']):.0f}"
    )


def _per_report(label: str, notebooks: list[Path]) -> None:
    for name in ("chromium", "weasyprint"):
        t = measure(name, notebooks)
        if t:
            _report(label, name, t)


def main(argv: list[str] | None = None) -> int:
    import os

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--skip-batch", action="store_true", help="per report only (one batch without PDFs is still run for its notebooks)"
    )
    ap.add_argument(
        "--smoke", action="store_true", help="the tiniest run, to check the script works: one report, per report only"
    )
    ap.add_argument("--org", action="store_true", help="also per report on bench_batch.py's org (its account managers)")
    ap.add_argument("--managers", type=int, default=50)
    ap.add_argument("--deals", type=int, default=200_000)
    ap.add_argument("--every", type=int, default=5, help="with --org: every N-th account manager's notebook (default 5)")
    args = ap.parse_args(argv)
    print(f"load average at start: {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="bench-pdf-") as tmp:
        tmp_path = Path(tmp)
        from bench_batch import smoke_fit_cache

        smoke_cache = args.smoke and smoke_fit_cache() is not None
        without = _batch(DEMO, tmp_path / "without", pdf=None, cache=smoke_cache, **(SMOKE if args.smoke else {}))
        _per_report("demo", sorted((tmp_path / "without").glob("*/*.ipynb")))
        if args.org and not args.smoke:
            from bench_batch import generate

            params = generate(tmp_path / "org", args.managers, args.deals)
            _batch(params, tmp_path / "org-out", pdf=None, reports=["account_manager"])
            ams = sorted((tmp_path / "org-out" / "account_managers").glob("*.ipynb"))[:: args.every]
            _per_report(f"org {args.managers} managers / {args.deals:,} deals, account managers", ams)
        if not args.skip_batch and not args.smoke:
            line = [f"demo batch: {without:.1f} s without PDFs"]
            for name in ("chromium", "weasyprint"):
                with_pdf = _batch(DEMO, tmp_path / f"with-{name}", pdf=name)
                line.append(f"{with_pdf:.1f} s with {name} (ratio {with_pdf / without:.2f})")
            print(", ".join(line))
    print(f"load average at end: {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
