"""Benchmark: the fixed cost of a batch, an older commit against this checkout, in alternation (CPU and wall).

The batch of one account-manager report (``-p account_managers=AM-0001 -p
reports=account_manager``, as ``bench_batch.py``'s fixed-cost lines) over
``bench_batch.py``'s org (default 50 managers, 200,000 deals), PDFs off. Each round runs
``--base`` (a ``git archive`` of that commit's ``src/`` and ``templates/``, ``src/`` on ``PYTHONPATH``: the batch
process, its workers, warm processes and kernels all import it) and this checkout, in
turn (the order swaps every round), each twice: with an empty cache of model fits
(cold) and again with the cache that run filled (warm). Per run: wall seconds, CPU
seconds of every process and per process kind (psutil, sampled every 50 ms, as
``bench_batch.py`` counts them), the report's ``duration_s``. At the end the medians,
and whether every output but ``manifest.json`` and the notebook (timings) is the same
bytes on both sides, cold and warm (``figures.json``, ``index.html``, the report's HTML
and workbook, the deals' fingerprint). On a shared machine the alternation is what makes the two
comparable: both see the same load. ``docs/batch.md`` ("Performance", the fixed cost)
records a run.

Run: ``.venv/bin/python benchmarks/bench_fixed_ab.py [--base HEAD~1] [--managers 50]
[--deals 200000] [--rounds 3] [--org DIR] [--base-dir DIR]`` (``--org``: a folder ``bench_batch.py
--keep`` or an earlier run left, reused; ``--base-dir``: a base checkout an earlier run made,
reused; ``--smoke``: 2 managers, 2,000 deals, one round, the base HEAD, only to check that it runs; its
"cold" and "warm" runs all read the fits of ``bench_batch.smoke_fit_cache``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_batch import ROLES, _RssSampler, generate, reportkit_batch, smoke_fit_cache
from bench_workbook_ab import BASE_DIR_HELP, base_src

ONE = ("account_managers=AM-0001", "reports=account_manager", "pdf.enabled=false")
VOLATILE = ("manifest.json", ".ipynb")  # timings, dates of the run
KINDS = (*ROLES, "forkserver")  # multiprocessing's forkserver, which forks the report workers


def _role_cpu() -> dict[str, float]:
    """CPU seconds per process kind of the run :func:`measured` just made (its sampler's last figures)."""
    out: dict[str, float] = {}
    for pid, cpu in _LAST["sampler"].cpu.items():
        role = _LAST["sampler"]._roles.get(pid, "other")
        out[role] = out.get(role, 0.0) + cpu
    return out


_LAST: dict[str, _RssSampler] = {}
_start = _RssSampler.start


def _keep(self: _RssSampler) -> None:  # remember the sampler of the run being measured
    _LAST["sampler"] = self
    _start(self)


_RssSampler.start = _keep  # type: ignore[method-assign]


@contextlib.contextmanager
def on_pythonpath(base_src: Path | None) -> Iterator[None]:
    """Run the block with ``base_src`` on ``PYTHONPATH`` (None: this checkout), restoring it after."""
    env_before = os.environ.get("PYTHONPATH")
    if base_src is not None:
        os.environ["PYTHONPATH"] = str(base_src)
    try:
        yield
    finally:
        if base_src is not None:
            if env_before is None:
                os.environ.pop("PYTHONPATH", None)
            else:
                os.environ["PYTHONPATH"] = env_before


def ab_setup(doc: str, prefix: str, rounds: int, smoke_managers: int) -> tuple[argparse.Namespace, Path, Path, Path]:
    """The A/B scripts' arguments, their temporary folder, the base commit's ``src/`` (with its
    ``templates/`` beside it; ``--base-dir``: an earlier run's, reused) and the org's params file.

    ``fit_cache`` of the arguments: with ``--smoke``, the cache of model fits every run reads
    (``bench_batch.smoke_fit_cache``), else None (each run's own, as the script makes it)."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--base", default="HEAD~1")
    ap.add_argument("--managers", type=int, default=50)
    ap.add_argument("--deals", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=rounds)
    ap.add_argument("--org", type=Path, help="reuse this org folder (its params.yaml) instead of generating one")
    ap.add_argument("--base-dir", type=Path, help=BASE_DIR_HELP)
    ap.add_argument("--smoke", action="store_true")
    a = ap.parse_args()
    if a.smoke:
        a.managers, a.deals, a.rounds, a.base = smoke_managers, 2_000, 1, "HEAD"
    a.fit_cache = smoke_fit_cache() if a.smoke else None
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    src = base_src(a.base_dir, tmp / "base", a.base)
    params = a.org / "params.yaml" if a.org else generate(tmp / "org", a.managers, a.deals)
    return a, tmp, src, params


def one_run(params: Path, out: Path, cache: Path, base_src: Path | None) -> dict[str, float]:
    with on_pythonpath(base_src):
        run, reports = reportkit_batch(params, out, None, *ONE, cache=cache)
    row = {"wall": run.wall, "cpu": run.cpu, "duration_s": float(reports[0]["duration_s"])}
    row.update(_role_cpu())
    return row


def main() -> None:
    a, tmp, base_src, params = ab_setup(__doc__, "bench-fixed-ab-", rounds=3, smoke_managers=2)
    rows: dict[tuple[str, str], list[dict[str, float]]] = {}
    for i in range(a.rounds):
        for side in ("base", "new") if i % 2 == 0 else ("new", "base"):
            cache = a.fit_cache or tmp / f"cache-{side}-{i}"
            for temp in ("cold", "warm"):
                out = tmp / f"out-{side}-{temp}"
                row = one_run(params, out, cache, base_src if side == "base" else None)
                rows.setdefault((side, temp), []).append(row)
                kinds = ", ".join(f"{k} {row[k]:.2f}" for k in KINDS if k in row)
                print(
                    f"round {i + 1} {side:4} {temp}: wall {row['wall']:.1f} s, CPU {row['cpu']:.2f} s ({kinds}), "
                    f"duration_s {row['duration_s']:.2f}; load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
    print("medians:")
    for (side, temp), rs in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        med = {k: statistics.median(r.get(k, 0.0) for r in rs) for k in ("wall", "cpu", "duration_s", *KINDS)}
        kinds = ", ".join(f"{k} {med[k]:.2f}" for k in KINDS)
        print(
            f"  {side:4} {temp}: wall {med['wall']:.1f} s, CPU {med['cpu']:.2f} s ({kinds}), duration_s {med['duration_s']:.2f}"
        )
    for temp in ("cold", "warm"):
        a_dir, b_dir = tmp / f"out-base-{temp}", tmp / f"out-new-{temp}"
        files = sorted(str(f.relative_to(a_dir)) for f in a_dir.rglob("*") if f.is_file() and not f.name.endswith(VOLATILE))
        same = [f for f in files if (b_dir / f).is_file() and (a_dir / f).read_bytes() == (b_dir / f).read_bytes()]
        print(f"same bytes ({temp}): {len(same)} of {len(files)} files ({', '.join(files)})")
    print(f"outputs in {tmp}")


if __name__ == "__main__":
    main()
