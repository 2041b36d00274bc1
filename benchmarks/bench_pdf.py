"""PDF cost: per report (WeasyPrint, and headless Chromium for comparison) and for the demo batch, as a ratio.

    .venv/bin/python benchmarks/bench_pdf.py                 # both parts
    .venv/bin/python benchmarks/bench_pdf.py --skip-batch    # per report only

Per report: the demo batch's executed notebooks are exported for print
(:func:`reportkit.run.html.export_print_body`) and laid out by
:func:`reportkit.render.pdf.render_pdf` (one renderer reused, as a batch worker
does); where ``playwright`` is importable and ``/usr/bin/chromium`` exists, the same
page is also printed by Chromium through the DevTools protocol (one browser reused,
header and footer templates with page numbers) for comparison. Batch: ``make demo``'s
batch with ``pdf.enabled`` false, then true, into fresh folders; the ratio is the
cost of PDFs. Results are printed; docs/pdf.md records them.
"""

from __future__ import annotations

import argparse
import datetime
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "params" / "demo.yaml"


def _batch(out: Path, pdf: bool) -> float:
    from reportkit.run.batch import run_batch

    t0 = time.perf_counter()
    overrides = {"pdf": {"enabled": "true" if pdf else "false"}}
    result = run_batch(DEMO, out, progress=False, overrides=overrides, cache=False)  # every run fits its models
    assert result.succeeded, result.summary()
    return time.perf_counter() - t0


def _weasyprint(notebooks: list[Path]) -> list[float]:
    from reportkit.render.pdf import PdfPage, render_pdf, warm_renderer
    from reportkit.render.titles import PrintTitle
    from reportkit.run.html import export_print_body

    t0 = time.perf_counter()
    warm_renderer()
    print(f"WeasyPrint renderer start (import, fonts, stylesheet): {time.perf_counter() - t0:.2f} s")
    title = PrintTitle("Demo Co", "Report", "FY2025-Q4", datetime.date(2025, 12, 31))
    times = []
    for nb_path in notebooks:
        nb = nbformat.read(nb_path, as_version=4)
        t = time.perf_counter()
        pdf = render_pdf(export_print_body(nb), PdfPage(title))
        times.append(time.perf_counter() - t)
        assert pdf.startswith(b"%PDF-")
    return times


def _chromium(notebooks: list[Path]) -> list[float] | None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("Chromium: playwright is not installed (pip install playwright): skipped")
        return None
    chromium = shutil.which("chromium")
    if chromium is None:
        print("Chromium: /usr/bin/chromium not found: skipped")
        return None
    from reportkit.render.pdf import PdfPage, print_document
    from reportkit.render.titles import PrintTitle
    from reportkit.run.html import export_print_body

    title = PrintTitle("Demo Co", "Report", "FY2025-Q4", datetime.date(2025, 12, 31))
    header = '<div style="font-size:8px;width:100%;margin:0 12mm;display:flex;justify-content:space-between"><span>Demo Co · Report</span><span>FY2025-Q4 · as of 2025-12-31</span></div>'
    footer = '<div style="font-size:8px;width:100%;margin:0 12mm;text-align:right">page <span class="pageNumber"></span> of <span class="totalPages"></span></div>'
    times = []
    with sync_playwright() as p:
        t0 = time.perf_counter()
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        print(f"Chromium start: {time.perf_counter() - t0:.2f} s")
        for nb_path in notebooks:
            nb = nbformat.read(nb_path, as_version=4)
            t = time.perf_counter()
            page = browser.new_page()
            page.set_content(print_document(export_print_body(nb), PdfPage(title)))
            pdf = page.pdf(
                format="A4",
                landscape=True,
                display_header_footer=True,
                header_template=header,
                footer_template=footer,
                margin={"top": "18mm", "bottom": "15mm", "left": "12mm", "right": "12mm"},
            )
            page.close()
            times.append(time.perf_counter() - t)
            assert pdf.startswith(b"%PDF-")
        browser.close()
    return times


def _report(name: str, times: list[float]) -> None:
    print(
        f"{name}: {len(times)} reports, median {statistics.median(times):.2f} s, "
        f"min {min(times):.2f} s, max {max(times):.2f} s, total {sum(times):.1f} s"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--skip-batch", action="store_true", help="measure per report only (one demo batch is still run for its notebooks)"
    )
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-pdf-") as tmp:
        tmp_path = Path(tmp)
        without = _batch(tmp_path / "without", pdf=False)
        notebooks = sorted((tmp_path / "without").glob("*/*.ipynb"))
        _report("WeasyPrint (reused renderer)", _weasyprint(notebooks))
        chromium = _chromium(notebooks)
        if chromium:
            _report("Chromium via DevTools (reused browser)", chromium)
        if not args.skip_batch:
            with_pdf = _batch(tmp_path / "with", pdf=True)
            print(f"demo batch: {without:.1f} s without PDFs, {with_pdf:.1f} s with PDFs: ratio {with_pdf / without:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
