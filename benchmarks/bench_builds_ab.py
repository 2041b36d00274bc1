"""Benchmark: the batch process's report builds, an older commit against this checkout, in alternation (CPU).

``bench_batch.py``'s org (default 50 managers, 200,000 deals, 56 reports). Each run is
a fresh process that does what the batch process does before and between the reports:
loads and validates the data set, then, inside one ``shared_contexts()`` block with a
cache of model fits (filled by an untimed run of the same side first, so the forecast's
fits are read, not made, and no fit executor is needed), builds and pickles every
report object in the batch's submission order for 2 report workers
(``run.plan.submission_order``). Per run, CPU seconds of the process (all its threads,
``time.process_time``): the load, the first build (it computes what the batch shares:
the credited deals, the forecast), the other builds, the pickles; and one SHA-256 over
every object's pickle, which must be the same on both sides. Each round runs ``--base``
(a ``git archive`` of that commit's ``src/`` on ``PYTHONPATH``) and this checkout in
turn, the order swapping every round; at the end the medians. ``--profile FILE``: one
more run of this checkout under cProfile (the builds after the first), its stats in
FILE. ``docs/batch.md`` ("Session 12") records a run.

Run: ``.venv/bin/python benchmarks/bench_builds_ab.py --base COMMIT [--rounds 3]
[--org DIR]`` (``--org``: a folder ``bench_batch.py --keep`` left, reused; ``--smoke``: 1
manager, 2,000 deals, one round, the base HEAD, both sides on the fits of
``bench_batch.smoke_fit_cache`` and no untimed runs, only to check that it runs; ``--base-dir DIR``:
a base checkout an earlier run made, reused).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

STEPS = ("load", "first", "rest", "pickle")


def child(params_path: str, cache: str, profile: str) -> None:
    """One run (a fresh process): load, then build and pickle every report object; prints its figures as JSON."""
    import hashlib
    import pickle
    import time

    from reportkit.config.params import load_params
    from reportkit.domain import loading
    from reportkit.domain.forecast_models import fit_cache
    from reportkit.reports.builders import batch_kinds, plan_reports, shared_contexts
    from reportkit.run.plan import submission_order

    row: dict[str, float | str | int] = {}
    c = time.process_time()
    params = load_params(Path(params_path))
    ds = loading.load_source(params)
    row["load"] = time.process_time() - c
    kinds, specs = batch_kinds(params), plan_reports(ds, params)
    order = submission_order([kinds[s.kind].per for s in specs], 2, [str(s.team) for s in specs])
    digest, build, pickling = hashlib.sha256(), [], 0.0
    prof = None
    with shared_contexts(fit_cache=fit_cache(cache)):
        for n, i in enumerate(order):
            spec = specs[i]
            if n == 1 and profile:
                import cProfile

                prof = cProfile.Profile()
                prof.enable()
            c = time.process_time()
            report = kinds[spec.kind].build(ds, str(spec.id), params.period, params, params.as_of)
            build.append(time.process_time() - c)
            c = time.process_time()
            blob = pickle.dumps(report, protocol=pickle.HIGHEST_PROTOCOL)
            pickling += time.process_time() - c
            digest.update(hashlib.sha256(blob).digest())
    if prof is not None:
        prof.disable()
        prof.dump_stats(profile)
    row.update(first=build[0], rest=sum(build[1:]), pickle=pickling, reports=len(order), sha256=digest.hexdigest())
    print(json.dumps(row))


def one_run(params: Path, cache: Path, base_src: Path | None, profile: str = "") -> dict:
    env = dict(os.environ)
    if base_src is not None:
        env["PYTHONPATH"] = str(base_src)
    cmd = [sys.executable, __file__, "--child", str(params), str(cache), profile]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"run failed ({'base' if base_src else 'new'}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:5])
        return
    from bench_fixed_ab import ab_setup

    sys.argv, profile = _take_profile(sys.argv)
    a, tmp, base_src, params = ab_setup(__doc__, "bench-builds-ab-", rounds=3, smoke_managers=1)
    caches = {"base": a.fit_cache or tmp / "cache-base", "new": a.fit_cache or tmp / "cache-new"}
    for side in () if a.fit_cache else ("base", "new"):  # fill each side's cache of model fits (untimed)
        one_run(params, caches[side], base_src if side == "base" else None)
    rows: dict[str, list[dict]] = {}
    for i in range(a.rounds):
        for side in ("base", "new") if i % 2 == 0 else ("new", "base"):
            row = one_run(params, caches[side], base_src if side == "base" else None)
            rows.setdefault(side, []).append(row)
            steps = ", ".join(f"{k} {row[k]:.2f}" for k in STEPS)
            print(f"round {i + 1} {side:4}: CPU s {steps}; {row['reports']} reports; load {os.getloadavg()[0]:.1f}", flush=True)
    print("medians (CPU s):")
    for side in ("base", "new"):
        steps = ", ".join(f"{k} {statistics.median(r[k] for r in rows[side]):.2f}" for k in STEPS)
        print(f"  {side:4}: {steps}")
    hashes = {r["sha256"] for rs in rows.values() for r in rs}
    print(f"report objects' pickles the same bytes: {'yes' if len(hashes) == 1 else 'no'} ({rows['new'][0]['sha256'][:16]})")
    if profile:
        one_run(params, caches["new"], None, profile)
        print(f"profile of this checkout's builds after the first: {profile}")
    print(f"org and caches in {tmp}")


def _take_profile(argv: list[str]) -> tuple[list[str], str]:
    """``--profile FILE`` taken out of ``argv`` (the shared argument parser does not know it)."""
    if "--profile" in argv:
        i = argv.index("--profile")
        return argv[:i] + argv[i + 2 :], str(Path(argv[i + 1]).resolve())
    return argv, ""


if __name__ == "__main__":
    main()
