"""Benchmark: what each of the batch's three adaptations of library internals saves, per report.

reportkit's batch replaces three pieces of library code with its own versions
(``docs/batch.md``, "Library internals we replace"); each is kept only because it
pays. This measures each against the library's stock behaviour, on this machine:

1. **HTML export** (``run/html.py``): our exporter, which skips ``HTMLExporter``'s
   BeautifulSoup pass, against nbconvert's ``HTMLExporter`` with the same
   configuration, on executed report notebooks (``--notebooks DIR``: a batch's output
   folder, e.g. ``reports/demo`` after ``make demo``).
2. **Kernel start and shutdown** (``run/kernels.py``): ``WarmKernelClient``'s 20 ms
   IOPub drain against jupyter_client's ``AsyncKernelClient.wait_for_ready`` (200 ms),
   and ``WarmKernelManager``'s 10 ms exit polling against jupyter_client's 100 ms, on
   forked kernels.
3. **Papermill engine** (``run/papermill_engine.py``): the ``reportkit`` engine (notebook written
   at most every 10 s while cells run) against Papermill's stock ``nbclient`` engine,
   executing ``templates/account_manager.ipynb`` with its defaults (the demo data).

Run: ``.venv/bin/python benchmarks/bench_internals.py --notebooks reports/demo [--repeat 5]`` (``--smoke``: each
once, the HTML of the template's own runs, the template reading a report built on the fits of
``bench_batch.smoke_fit_cache``, only to check that the script runs).
Prints one line per adaptation: stock and ours, seconds per report (median), and the saving.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _median_s(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_html(folder: Path, repeat: int) -> tuple[float, float]:
    from nbconvert import HTMLExporter

    from reportkit.run import html

    notebooks = sorted(folder.glob("*/*.ipynb"))
    if not notebooks:
        sys.exit(f"no executed notebooks in {folder}/*/ (run a batch into it first, e.g. make demo)")
    nbs = [nbformat.read(p, as_version=4) for p in notebooks]
    ours = html._new_html_exporter()
    stock = HTMLExporter(config=ours.config)

    def export_all(exporter):
        html._exporters.html = exporter
        for nb in nbs:
            html.export_html(nb, title="t")

    export_all(ours)  # warm caches (templates, lexers) for both
    export_all(stock)
    t_stock = _median_s(lambda: export_all(stock), repeat) / len(nbs)
    t_ours = _median_s(lambda: export_all(ours), repeat) / len(nbs)
    html._exporters.html = None
    return t_stock, t_ours


async def _kernel_cycle(km_class, client_class, cwd: str) -> tuple[float, float]:
    km = km_class(kernel_name="reportkit")
    await km.start_kernel(cwd=cwd, extra_arguments=["--IPKernelApp.log_level=CRITICAL"])
    kc = client_class(parent=km, **km.get_connection_info(session=True))
    kc.start_channels()
    t0 = time.perf_counter()
    await kc.wait_for_ready(timeout=60)
    ready = time.perf_counter() - t0
    kc.stop_channels()
    t0 = time.perf_counter()
    await km.shutdown_kernel()
    return ready, time.perf_counter() - t0


def bench_kernels(repeat: int) -> tuple[tuple[float, float], tuple[float, float]]:
    from jupyter_client.asynchronous import AsyncKernelClient
    from jupyter_client.manager import AsyncKernelManager

    from reportkit.run import kernels

    class StockWaitManager(kernels.WarmKernelManager):  # jupyter_client's 100 ms exit polling
        async def _async_wait(self, pollinterval: float = 0.1) -> None:
            await AsyncKernelManager._async_wait(self, pollinterval=pollinterval)

    kernels.start_warm_process()
    with tempfile.TemporaryDirectory() as cwd:
        asyncio.run(_kernel_cycle(kernels.WarmKernelManager, kernels.WarmKernelClient, cwd))  # warm up
        stock, ours = [], []
        for _ in range(repeat):
            stock.append(asyncio.run(_kernel_cycle(StockWaitManager, AsyncKernelClient, cwd)))
            ours.append(asyncio.run(_kernel_cycle(kernels.WarmKernelManager, kernels.WarmKernelClient, cwd)))
    ready = (statistics.median(r for r, _ in stock), statistics.median(r for r, _ in ours))
    down = (statistics.median(d for _, d in stock), statistics.median(d for _, d in ours))
    return ready, down


def smoke_report_data(folder: Path) -> Path | None:
    """The template's default report (the demo's AM-001), built here on the fits of ``bench_batch.smoke_fit_cache``
    and pickled into ``folder``, as a batch hands it to the template (``report_data``); None without that cache.

    ``--smoke`` runs the template on it: built in each kernel from ``params_file``, the report
    fits its forecast's backtest models there, twice per run, outside any cache.
    """
    import pickle

    from bench_batch import smoke_fit_cache

    from reportkit.domain.forecast_models import fit_cache
    from reportkit.domain.loading import load_inputs
    from reportkit.reports.builders import shared_contexts
    from reportkit.reports.kinds import build_report

    cache = smoke_fit_cache()
    if cache is None:
        return None
    params, ds = load_inputs(ROOT / "params" / "demo.yaml")
    with shared_contexts(fit_cache=fit_cache(cache)):
        report = build_report(ds, params, kind="account_manager", report_id="AM-001", period="FY2025-Q4", as_of=params.as_of)
    path = folder / "am-001.pkl"
    path.write_bytes(pickle.dumps(report, pickle.HIGHEST_PROTOCOL))
    return path


def bench_engine(
    repeat: int, warm_up: bool = True, keep: Path | None = None, report_data: Path | None = None
) -> tuple[float, float]:
    """``templates/account_manager.ipynb`` executed by each engine: median seconds (stock, ours).

    ``report_data``: a pickled report the template reads (:func:`smoke_report_data`) instead of building its own.
    """
    import papermill as pm

    from reportkit.run import kernels
    from reportkit.run import papermill_engine as engine

    template = ROOT / "templates" / "account_manager.ipynb"

    def run(engine_name: str, out: Path) -> None:
        pm.execute_notebook(
            str(template),
            str(out),
            parameters={"report_data": str(report_data)} if report_data else None,
            kernel_name="reportkit",
            progress_bar=False,
            engine_name=engine_name,
            kernel_manager_class=kernels.WarmKernelManager,
            resources={"metadata": {"path": str(ROOT / "templates")}},
        )

    ours_name = engine.register_engine()
    kernels.start_warm_process()
    stock, ours = [], []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) if keep is None else keep
        if warm_up:
            run(ours_name, out / "warm-up.ipynb")
        for i in range(repeat):
            for name, times in (("nbclient", stock), (ours_name, ours)):
                t0 = time.perf_counter()
                run(name, out / f"{name}-{i}.ipynb")
                times.append(time.perf_counter() - t0)
    return statistics.median(stock), statistics.median(ours)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--notebooks",
        type=Path,
        default=ROOT / "reports" / "demo",
        help="a batch output folder with executed notebooks (default reports/demo)",
    )
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument(
        "--smoke",
        action="store_true",
        help="the tiniest run, to check the script works: once each, no warm-up, the HTML of the template runs' notebooks",
    )
    args = ap.parse_args()

    if args.smoke:
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "run").mkdir()
            data = smoke_report_data(Path(tmp))
            e_stock, e_ours = bench_engine(1, warm_up=False, keep=Path(tmp) / "run", report_data=data)
            h_stock, h_ours = bench_html(Path(tmp), 1)
        (r_stock, r_ours), (d_stock, d_ours) = bench_kernels(1)
    else:
        h_stock, h_ours = bench_html(args.notebooks, args.repeat)
        (r_stock, r_ours), (d_stock, d_ours) = bench_kernels(args.repeat)
        e_stock, e_ours = bench_engine(max(1, args.repeat // 2))
    print(f"html export per report:      nbconvert {h_stock:.3f} s, ours {h_ours:.3f} s, saves {h_stock - h_ours:.3f} s")
    print(f"kernel ready (forked):       jupyter_client {r_stock:.3f} s, ours {r_ours:.3f} s, saves {r_stock - r_ours:.3f} s")
    print(f"kernel shutdown (forked):    jupyter_client {d_stock:.3f} s, ours {d_ours:.3f} s, saves {d_stock - d_ours:.3f} s")
    print(f"template run (papermill):    nbclient engine {e_stock:.3f} s, ours {e_ours:.3f} s, saves {e_stock - e_ours:.3f} s")


if __name__ == "__main__":
    main()
