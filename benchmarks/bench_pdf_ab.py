"""Benchmark: the PDF step per report, an older commit's code against this checkout's, in alternation (CPU seconds).

Generates ``bench_batch.py``'s org (default 50 managers, 200,000 deals) and runs a
batch with PDFs on for every ``--every``-th account manager, their team(s) and the
company, for their executed notebooks: their charts carry the SVG print copy, as in a
batch that prints (before session 15 the notebooks came from a batch with PDFs off, whose
charts are PNG only: ``docs/pdf.md``). Then it alternates two interpreters ``--rounds``
times: one importing reportkit from ``--base`` (a ``git archive`` of that commit's
``src/``), one from this checkout. Each starts its PDF renderer as a report worker
does (:func:`reportkit.render.pdf.warm_renderer`, then a one-line page: "start") and
prints every notebook ``--prints`` times as a worker does (the print body, then
:func:`reportkit.render.pdf.render_pdf`). CPU is the interpreter's own plus, for
Chromium, every process of its browser and Playwright driver (``bench_pdf.renderer_cpu``:
psutil, with what they reaped of exited children such as the print compositor), so it
holds on a loaded machine; the alternation makes the two sides see the same load.

It then compares the two sides' PDFs of each report as a reader gets them: their text
(``pdftotext -layout``), their page images (``pdftoppm`` at 50 dpi) and their bytes.
``docs/pdf.md`` and ``docs/batch.md`` ("Where a report's time goes", session 9) record a run.

Run: ``.venv/bin/python benchmarks/bench_pdf_ab.py [--base HEAD~1] [--renderer chromium]
[--managers 50] [--deals 200000] [--every 10] [--rounds 3] [--prints 2]`` (``--smoke``:
1 manager, 2,000 deals, one round, the base HEAD, its batch on one worker and the fits of
``bench_batch.smoke_fit_cache``, only to check that it runs; ``--base-dir DIR``:
a base checkout an earlier run made, reused).
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_batch import generate, smoke_fit_cache
from bench_workbook_ab import BASE_DIR_HELP, base_src

BENCHMARKS = Path(__file__).resolve().parent

_PRINT = r"""
import datetime, json, sys, time
from pathlib import Path
import nbformat
sys.path.insert(0, sys.argv[1])
from bench_pdf import renderer_cpu
from reportkit.render.pdf import PdfPage, choose_renderer, render_pdf, warm_renderer
from reportkit.render.titles import PrintTitle
from reportkit.run.html import export_print_body

renderer_name, out, prints, notebooks = sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]), sys.argv[5:]
page = PdfPage(PrintTitle("Synthetic Co", "Report", "FY2025-Q4", datetime.date(2025, 12, 31)))
engine = choose_renderer(renderer_name)
c = time.process_time()
renderer = warm_renderer(engine)
render_pdf("<p>start</p>", page, engine)
times = {"start": [time.process_time() - c + renderer_cpu(renderer)]}
for path in notebooks:
    nb = nbformat.read(path, as_version=4)
    for _ in range(prints):
        c, b = time.process_time(), renderer_cpu(renderer)
        pdf = render_pdf(export_print_body(nb), page, engine)
        times.setdefault(path, []).append(time.process_time() - c + renderer_cpu(renderer) - b)
    (out / (Path(path).stem + ".pdf")).write_bytes(pdf)
renderer.close()
print(json.dumps(times))
"""


def _notebooks(root: Path, managers: int, deals: int, every: int, smoke: bool = False) -> dict[str, list[Path]]:
    """Executed notebooks (PDFs on: charts with their SVG) of every ``every``-th account manager, their teams and the company.

    ``smoke``: one report worker, and the fits of ``bench_batch.smoke_fit_cache`` when it names a folder.
    """
    from reportkit.run.batch import run_batch

    params = generate(root / "org", managers, deals)
    ams = [f"AM-{i:04d}" for i in range(1, managers + 1, every)]
    overrides = {"pdf": {"enabled": "true"}, "account_managers": ams}
    cache, jobs = (smoke_fit_cache() is not None, 1) if smoke else (False, None)
    result = run_batch(params, root / "out", progress=False, overrides=overrides, cache=cache, jobs=jobs)
    assert result.succeeded, result.summary()
    return {kind: sorted((root / "out" / folder).glob("*.ipynb")) for kind, folder in _FOLDERS.items()}


_FOLDERS = {"account_manager": "account_managers", "team": "teams", "company": "company"}


def _reads_the_same(a: Path, b: Path, tmp: Path) -> tuple[bool | None, bool | None, int]:
    """Whether two PDFs have the same text and the same page images (50 dpi), and their page count (None, 0: no poppler)."""
    if shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None:
        return None, None, 0
    texts, images = [], []
    for side, pdf in (("a", a), ("b", b)):
        run = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True)
        texts.append(run.stdout)
        folder = tmp / f"pages-{side}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(folder / "p")], check=True)
        images.append([p.read_bytes() for p in sorted(folder.glob("*.png"))])
    return texts[0] == texts[1], images[0] == images[1], len(images[1])


def _all(checks: object) -> str:
    """``yes`` when every check holds, ``NO`` when one does not, ``n/a`` when none could be made."""
    found = list(checks)  # type: ignore[call-overload]
    return "n/a" if None in found else "yes" if all(found) else "NO"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default="HEAD~1", help="the commit to compare with (default HEAD~1)")
    ap.add_argument("--renderer", default="chromium", choices=("chromium", "weasyprint"), help="params pdf.renderer")
    ap.add_argument("--managers", type=int, default=50)
    ap.add_argument("--deals", type=int, default=200_000)
    ap.add_argument("--every", type=int, default=10, help="every N-th account manager (default 10)")
    ap.add_argument("--rounds", type=int, default=3, help="alternations of the two sides (default 3)")
    ap.add_argument("--prints", type=int, default=2, help="prints of each report per interpreter (default 2)")
    ap.add_argument("--base-dir", type=Path, help=BASE_DIR_HELP)
    ap.add_argument("--smoke", action="store_true", help="the tiniest run: 1 manager, 2,000 deals, one round, base HEAD")
    args = ap.parse_args()
    if args.smoke:
        args.managers, args.deals, args.every, args.rounds, args.prints, args.base = 1, 2_000, 1, 1, 1, "HEAD"
    from reportkit.render.chromium import chromium_unavailable

    if args.renderer == "chromium" and chromium_unavailable() is not None:
        print(f"chromium cannot run here ({chromium_unavailable()}): weasyprint instead")
        args.renderer = "weasyprint"
    print(f"load average at start: {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="reportkit-bench-pdf-") as tmp:
        root = Path(tmp)
        src = base_src(args.base_dir, root / "base-src", args.base)
        by_kind = _notebooks(root, args.managers, args.deals, args.every, args.smoke)
        notebooks = [str(p) for paths in by_kind.values() for p in paths]
        print(
            f"{args.managers} managers, {args.deals:,} deals; {args.renderer}; base {args.base}; "
            f"{args.rounds} rounds of {args.prints} prints of {len(notebooks)} reports"
        )
        times: dict[str, dict[str, list[float]]] = {"base": {}, "this": {}}
        for _ in range(args.rounds):
            for side in ("base", "this"):
                env = dict(os.environ)
                if side == "base":
                    env["PYTHONPATH"] = str(src)
                out = root / side
                out.mkdir(exist_ok=True)
                run = subprocess.run(
                    [sys.executable, "-c", _PRINT, str(BENCHMARKS), args.renderer, str(out), str(args.prints), *notebooks],
                    capture_output=True, text=True, env=env, check=True, cwd=root,
                )  # fmt: skip
                for key, values in json.loads(run.stdout.strip().splitlines()[-1]).items():
                    times[side].setdefault(key, []).extend(values)
        b, t = statistics.median(times["base"]["start"]), statistics.median(times["this"]["start"])
        print(f"renderer start (+ a one-line page) CPU s: base median {b:.3f}, this median {t:.3f}")
        for kind, paths in by_kind.items():
            base = [x for p in paths for x in times["base"][str(p)]]
            this = [x for p in paths for x in times["this"][str(p)]]
            same = [_reads_the_same(root / "base" / f"{p.stem}.pdf", root / "this" / f"{p.stem}.pdf", root) for p in paths]
            text, images = _all(s[0] for s in same), _all(s[1] for s in same)
            identical = all(
                (root / "base" / f"{p.stem}.pdf").read_bytes() == (root / "this" / f"{p.stem}.pdf").read_bytes() for p in paths
            )
            print(
                f"{kind} PDF CPU s ({len(paths)} reports, {statistics.median(s[2] for s in same):.0f} pages): "
                f"base median {statistics.median(base):.3f} (min {min(base):.3f}), "
                f"this median {statistics.median(this):.3f} (min {min(this):.3f}); "
                f"same text: {text}, same page images: {images}, "
                f"same bytes: {'yes' if identical else 'no'}"
            )
    print(f"load average at end: {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
