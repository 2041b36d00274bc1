"""Benchmark: one report's workbook, an older commit's writer against this checkout's, in alternation (CPU seconds).

Generates ``bench_batch.py``'s org (default 50 managers, 200,000 deals), builds the
first account manager's, the first team's and the company's report objects once (as
the batch builds them) and pickles them. Then, for each kind, it alternates two
interpreters ``--rounds`` times: one importing reportkit from ``--base`` (a ``git
archive`` of that commit's ``src/``), one from this checkout; each writes the same
object's workbook once to warm up and ``--writes`` times timed (``process_time``). On a
shared machine the alternation is what makes the two comparable: both sides see the
same load. Also checks that the two files are the same bytes (``same bytes: yes``).
``docs/batch.md`` ("Where a report's time goes", session 9) records a run.

Run: ``.venv/bin/python benchmarks/bench_workbook_ab.py [--base HEAD~1] [--managers 50]
[--deals 200000] [--rounds 4] [--writes 3] [--base-dir DIR]`` (``--smoke``: 1 manager, 2,000 deals,
one round, the base HEAD, the fits of ``bench_batch.smoke_fit_cache``, only to check that it runs;
``--base-dir``: a base checkout an earlier run made, reused, as the smoke runs of the suite do).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_batch import generate, smoke_fit_cache

ROOT = Path(__file__).resolve().parents[1]

_WRITE = r"""
import json, pickle, sys, time
from reportkit.render import excel
report = pickle.loads(open(sys.argv[1], "rb").read())
excel.write_workbook(report, sys.argv[2], company="Synthetic Co")
times = []
for _ in range(int(sys.argv[3])):
    t = time.process_time()
    excel.write_workbook(report, sys.argv[2], company="Synthetic Co")
    times.append(time.process_time() - t)
print(json.dumps(times))
"""


def base_source(folder: Path, rev: str) -> Path:
    """Commit ``rev``'s ``src/`` (``git archive``) extracted into ``folder``: the folder to put on ``PYTHONPATH``.

    Its modules are compiled to bytecode here, as the Makefile compiles this checkout's
    before a benchmark: where ``PYTHONDONTWRITEBYTECODE`` is set (as on the shared box) the
    base's every process (batch, report workers, warm processes) would otherwise compile
    reportkit's modules again, about 0.3 s of CPU each, on the base's side only.
    """
    folder.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    compileall.compile_dir(folder / "src", quiet=1, workers=0)
    return folder / "src"


def base_checkout(folder: Path, rev: str) -> Path:
    """Commit ``rev``'s ``src/`` (:func:`base_source`) and ``templates/`` in ``folder``: its ``src/``.

    The folder a ``--base-dir`` of the A/B scripts reuses (tests/test_benchmarks.py makes one
    for every smoke run of the suite).
    """
    src = base_source(folder, rev)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "templates"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)  # its default templates
    return src


BASE_DIR_HELP = "a folder base_checkout() made (an earlier run's base), reused: no git archive, no compile; --base names it"


def base_src(base_dir: Path | None, folder: Path, rev: str) -> Path:
    """The base's ``src/``: ``base_dir``'s (``--base-dir``), else commit ``rev``'s checked out in ``folder``."""
    if base_dir is not None:
        if not (base_dir / "src").is_dir() or not (base_dir / "templates").is_dir():
            raise SystemExit(f"--base-dir {base_dir}: no src/ and templates/ in it (a folder base_checkout() made)")
        return base_dir / "src"
    return base_checkout(folder, rev)


def _objects(root: Path, managers: int, deals: int, cache: Path | None = None) -> dict[str, Path]:
    """The first account manager's, team's and company's report objects, pickled; ``cache``: a cache of model fits
    to read and fill (``bench_batch.smoke_fit_cache``; None: the forecast's models are fitted here)."""
    from reportkit.config.params import load_params
    from reportkit.domain import loading
    from reportkit.domain.forecast_models import fit_cache
    from reportkit.reports.builders import batch_kinds, plan_reports, shared_contexts

    params = load_params(generate(root / "org", managers, deals))
    ds = loading.load_source(params)
    kinds, specs = batch_kinds(params), plan_reports(ds, params)
    out: dict[str, Path] = {}
    with shared_contexts(fit_cache=fit_cache(cache) if cache else None):
        for kind in ("account_manager", "team", "company"):
            spec = next(s for s in specs if s.kind == kind)
            report = kinds[kind].build(ds, str(spec.id), params.period, params, params.as_of)
            out[kind] = root / f"{kind}.pkl"
            out[kind].write_bytes(pickle.dumps(report, pickle.HIGHEST_PROTOCOL))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default="HEAD~1", help="the commit to compare with (default HEAD~1)")
    ap.add_argument("--managers", type=int, default=50)
    ap.add_argument("--deals", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=4, help="alternations of the two sides (default 4)")
    ap.add_argument("--writes", type=int, default=3, help="timed writes per interpreter (default 3)")
    ap.add_argument("--base-dir", type=Path, help=BASE_DIR_HELP)
    ap.add_argument("--smoke", action="store_true", help="the tiniest run: 1 manager, 2,000 deals, one round, base HEAD")
    args = ap.parse_args()
    if args.smoke:
        args.managers, args.deals, args.rounds, args.writes, args.base = 1, 2_000, 1, 1, "HEAD"
    with tempfile.TemporaryDirectory(prefix="reportkit-bench-wb-") as tmp:
        root = Path(tmp)
        src = base_src(args.base_dir, root / "base", args.base)
        objects = _objects(root, args.managers, args.deals, smoke_fit_cache() if args.smoke else None)
        print(f"{args.managers} managers, {args.deals:,} deals; base {args.base}; {args.rounds} rounds of {args.writes} writes")
        for kind, pkl in objects.items():
            times: dict[str, list[float]] = {"base": [], "this": []}
            for _ in range(args.rounds):
                for side in ("base", "this"):
                    env = dict(os.environ)
                    if side == "base":
                        env["PYTHONPATH"] = str(src)
                    xlsx = root / f"{kind}-{side}.xlsx"
                    run = subprocess.run(
                        [sys.executable, "-c", _WRITE, str(pkl), str(xlsx), str(args.writes)],
                        capture_output=True, text=True, env=env, check=True, cwd=root,
                    )  # fmt: skip
                    times[side] += json.loads(run.stdout.strip().splitlines()[-1])
            same = (root / f"{kind}-base.xlsx").read_bytes() == (root / f"{kind}-this.xlsx").read_bytes()
            b, t = statistics.median(times["base"]), statistics.median(times["this"])
            print(
                f"{kind} workbook CPU s: base median {b:.3f} (min {min(times['base']):.3f}), "
                f"this median {t:.3f} (min {min(times['this']):.3f}); same bytes: {'yes' if same else 'NO'}"
            )


if __name__ == "__main__":
    main()
