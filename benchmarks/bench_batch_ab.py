"""Benchmark: the headline batch (PDFs off, or on), an older commit against this checkout, in alternation (CPU).

``bench_batch.py``'s org (default 50 managers, 200,000 deals, 56 reports), ``reportkit
batch`` with PDFs off (``--pdf``: on, as ``bench_batch.py``'s "PDFs on" line; the
browsers and their drivers are the ``other`` processes) and an empty cache of model fits
each run, as ``bench_batch.py``'s "PDFs off" line. Each round runs ``--base`` (a ``git archive`` of that commit's ``src/``
and ``templates/``, ``src/`` on ``PYTHONPATH``) and this checkout in turn, the order
swapping every round. Per run: wall and CPU seconds of every process and per process
kind (as ``bench_fixed_ab.py`` counts them); at the end the medians, and whether every
output but the manifest and the notebooks (timings) is the same bytes on both sides.

Run: ``.venv/bin/python benchmarks/bench_batch_ab.py --base COMMIT [--rounds 2]
[--org DIR] [--pdf]`` (``--org``: a folder ``bench_batch.py --keep`` left, reused; ``--smoke``: 1 manager,
2,000 deals, one round, the base HEAD, one report worker (``-j 1``) and the fits of
``bench_batch.smoke_fit_cache``, only to check that it runs; ``--base-dir DIR``: a base
checkout an earlier run made, reused).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_batch import ROLES, reportkit_batch
from bench_fixed_ab import VOLATILE, _role_cpu, ab_setup, on_pythonpath

PDF_KINDS = (*ROLES, "other")
"""The process kinds a run with PDFs on is split into (``other``: the browsers and their Playwright drivers)."""


def one_run(
    params: Path, out: Path, base_src: Path | None, pdf: bool = False, jobs: int | None = None, cache: Path | None = None
) -> dict[str, float]:
    with on_pythonpath(base_src):
        run, _ = reportkit_batch(params, out, jobs, f"pdf.enabled={'true' if pdf else 'false'}", cache=cache)
    row = {"wall": run.wall, "cpu": run.cpu}
    row.update(_role_cpu())
    return row


def main() -> None:
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--pdf", action="store_true", help="PDFs on (params pdf.enabled=true)")
    pdf, sys.argv[1:] = pre.parse_known_args()  # the other arguments are the A/B scripts' own (ab_setup)
    a, tmp, base_src, params = ab_setup(__doc__, "bench-batch-ab-", rounds=2, smoke_managers=1)
    shown = PDF_KINDS if pdf.pdf else ROLES  # PDFs off: the lines as before
    rows: dict[str, list[dict[str, float]]] = {}
    for i in range(a.rounds):
        for side in ("base", "new") if i % 2 == 0 else ("new", "base"):
            row = one_run(
                params, tmp / f"out-{side}", base_src if side == "base" else None, pdf.pdf, 1 if a.smoke else None, a.fit_cache
            )
            rows.setdefault(side, []).append(row)
            kinds = ", ".join(f"{k} {row[k]:.1f}" for k in shown if k in row)
            print(
                f"round {i + 1} {side:4}: wall {row['wall']:.1f} s, CPU {row['cpu']:.1f} s ({kinds}); "
                f"load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
    print("medians:")
    for side, rs in sorted(rows.items()):
        med = {k: statistics.median(r.get(k, 0.0) for r in rs) for k in ("wall", "cpu", *shown)}
        kinds = ", ".join(f"{k} {med[k]:.1f}" for k in shown)
        print(f"  {side:4}: wall {med['wall']:.1f} s, CPU {med['cpu']:.1f} s ({kinds})")
    a_dir, b_dir = tmp / "out-base", tmp / "out-new"
    files = sorted(str(f.relative_to(a_dir)) for f in a_dir.rglob("*") if f.is_file() and not f.name.endswith(VOLATILE))
    same = [f for f in files if (b_dir / f).is_file() and (a_dir / f).read_bytes() == (b_dir / f).read_bytes()]
    differ = sorted(set(files) - set(same))
    print(f"same bytes: {len(same)} of {len(files)} files" + (f"; differ: {', '.join(differ[:10])}" if differ else ""))
    print(f"outputs in {tmp}")


if __name__ == "__main__":
    main()
