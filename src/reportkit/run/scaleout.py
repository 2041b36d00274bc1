"""A batch's reports on a Dask distributed cluster (``--dask-scheduler``).

The batch process loads the data and builds and pickles every report object, as for
a local run (:meth:`reportkit.run.plan.BatchPlan.prepare`); each report's job then
runs on a worker (:func:`_execute_on_worker`, which checks that the worker sees the
shared folder and has the kernel), and its outcome is recorded here. A report whose
worker fails, dies or cannot see the shared files fails alone, with the reason.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..core.errors import EnvironmentError_, KernelNotFoundError
from ..render.pdf import PdfEngine
from .execute import JobOutcome, ReportJob, execute_report, format_error
from .plan import record
from .preflight import check_kernel
from .results import ReportResult

__all__ = ["DASK_WAIT_FOR_WORKERS_S", "dask_connect", "run_on_dask"]

DASK_WAIT_FOR_WORKERS_S = 60.0
"""How long :func:`run_batch` waits for a Dask cluster without workers to get one."""


_SHARED_FOLDER_HINT = (
    "every Dask worker must see the output folder and the templates at the same absolute paths as the batch "
    "machine (a shared filesystem such as NFS): mount the shared folder at that path on the worker, and "
    "choose an --output-dir (and REPORTKIT_TEMPLATES, when reportkit is installed at different paths) on it"
)


def dask_connect(scheduler: Any, warm: bool) -> tuple[Any, bool]:
    """The ``distributed.Client`` of ``scheduler`` (an address or a Client) and whether it is ours to close.

    Waits up to :data:`DASK_WAIT_FOR_WORKERS_S` for at least one worker and, with
    ``warm``, asks the workers to start their warm kernel process now (so its imports
    overlap the building of the report objects here).

    Raises
    ------
    EnvironmentError_
        ``distributed`` is not installed, the scheduler cannot be reached (or the
        address is malformed), or it has no workers.
    """
    try:
        import distributed
    except ImportError:
        raise EnvironmentError_(
            "--dask-scheduler needs the 'distributed' package, which is not installed",
            hint='pip install "reportkit[dask]" here and on every Dask worker',
        ) from None
    if isinstance(scheduler, distributed.Client):
        client, own = scheduler, False
        address = str(getattr(client.scheduler, "address", None) or "the client's scheduler")
    else:
        address = str(scheduler).strip()
        try:
            # an unknown scheme or a malformed address is refused here, before a Client exists
            # (a Client whose constructor failed would wait 60 s to close when collected)
            from distributed.comm import parse_address
            from distributed.comm.registry import get_backend

            get_backend(parse_address(address)[0])
            # the connect timeout is dask's distributed.comm.timeouts.connect (30 s by default;
            # env DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=5s)
            client = distributed.Client(address, set_as_default=False)
        except Exception as exc:  # OSError / TimeoutError: unreachable; ValueError, TypeError: bad address
            text = str(exc).strip().splitlines()
            raise EnvironmentError_(
                f"cannot connect to the Dask scheduler at {address!r}: {type(exc).__name__}: {text[0] if text else ''}",
                hint="start it with 'dask scheduler' on that machine (it prints the address, tcp://HOST:8786), check "
                "the address, the port and the firewall; or leave out --dask-scheduler to run the reports here",
            ) from None
        own = True
    try:
        client.wait_for_workers(1, timeout=DASK_WAIT_FOR_WORKERS_S)
    except Exception:
        if own:
            with contextlib.suppress(Exception):
                client.close()
        raise EnvironmentError_(
            f"the Dask scheduler at {address!r} has no workers (none joined within {DASK_WAIT_FOR_WORKERS_S:g} s)",
            hint=f"start 'dask worker {address}' on each machine that has reportkit[dask] installed and sees the "
            "output folder at the same path",
        ) from None
    if warm:
        with contextlib.suppress(Exception):  # an optimisation only: a worker forks its warm process on first use
            client.run(_warm_up_worker, on_error="ignore")  # quick: starts a process, returns
    return client, own


def _warm_up_worker() -> None:
    """Run on each Dask worker: start its warm kernel process (:mod:`reportkit.run.kernels`)."""
    from . import kernels  # lazy: see _run_batch

    if kernels.warm_kernels_available():
        kernels.start_warm_process()


def _worker_name() -> str:
    import socket

    try:
        from distributed import get_worker

        address = get_worker().address
    except Exception:  # not on a worker (called directly)
        address = "?"
    return f"{address} ({socket.gethostname()}, pid {os.getpid()})"


def _execute_on_worker(job: ReportJob) -> JobOutcome:
    """:func:`execute_report` on a Dask worker, after checking the worker sees the shared files and the kernel.

    Returns a failed :class:`JobOutcome` naming the worker and the fix when it cannot
    read the template or the report pickle (no shared folder at that path) or has no
    such Jupyter kernel; ``outcome.worker`` names the worker either way.
    """
    where = _worker_name()
    out = Path(job.out)
    for what, path in (("template", Path(job.template)), ("report pickle", out / job.parameters["report_data"])):
        try:
            with open(path, "rb"):
                pass
        except OSError as exc:
            return JobOutcome(
                status="failed",
                worker=where,
                error=(
                    f"{type(exc).__name__}: the Dask worker {where} cannot read the {what} {str(path)!r} "
                    f"({exc.strerror or exc}): it does not see the output folder {str(out)!r}; {_SHARED_FOLDER_HINT}"
                ),
            )
    try:
        check_kernel(job.kernel_name)
    except KernelNotFoundError as exc:
        return JobOutcome(
            status="failed", worker=where, error=f"KernelNotFoundError: on the Dask worker {where}: {exc.message} ({exc.hint})"
        )
    outcome = execute_report(job)
    outcome.worker = where
    if outcome.output_errors.get("pdf"):  # its PDF failed here: say on which worker (its renderer, its browser)
        outcome.output_errors["pdf"] += f" [Dask worker {where}]"
    return outcome


def _dask_error(exc: BaseException) -> str:
    """The manifest error of a report whose Dask future raised (the worker, not the report, failed)."""
    from concurrent.futures import CancelledError

    from distributed import KilledWorker

    if isinstance(exc, KilledWorker):
        return (
            "KilledWorker: the Dask worker running the report died (killed, out of memory or lost) each time "
            "the scheduler tried it; see the workers' logs"
        )
    if isinstance(exc, CancelledError):
        return "CancelledError: the Dask cluster dropped the report (the connection to the scheduler was lost?)"
    if isinstance(exc, ImportError) and "reportkit" in str(exc):
        return (
            f"{type(exc).__name__}: {exc} on a Dask worker: install reportkit[dask] (the same version as "
            "on the batch machine) on every worker"
        )
    return f"{format_error(exc)} (raised on the Dask worker; see its log)"


def run_on_dask(
    client: Any, results: list[ReportResult], slugs: list[str], prepare: Any, bar: Any, pdf: PdfEngine | None = None
) -> bool:
    """Build and pickle each report here, execute it on the cluster, record its outcome.

    Each report is submitted as soon as it is prepared, as one task with a readable
    key (``reportkit-<kind>-<slug>-<batch token>``), so workers start while the rest
    are built. ``pdf``: the batch's PDF renderer as :func:`reportkit.render.pdf.choose_renderer`
    made it, carrying params ``pdf.renderer``, so each worker applies that rule for itself
    (``auto``: WeasyPrint on a worker without Chromium; ``docs/pdf.md``). Returns True when
    interrupted (Ctrl-C): the futures not finished are cancelled; reports already running
    on a worker run to their end there, but their outcome is not recorded.
    """
    import uuid

    import distributed

    token = uuid.uuid4().hex[:8]
    waiting: dict[Any, ReportResult] = {}
    futures: list[Any] = []
    finished = distributed.as_completed(loop=client.loop)
    try:
        for res, slug in zip(results, slugs):
            prepared = prepare(res, slug)
            if prepared is None:  # reused from the previous run, or failed while building
                bar.update(1)
                continue
            job, _report = prepared
            if job.pdf is not None and pdf is not None:
                job = replace(job, pdf_engine=pdf)
            fut = client.submit(_execute_on_worker, job, pure=False, key=f"reportkit-{res.kind}-{slug}-{token}")
            waiting[fut.key] = res
            futures.append(fut)
            finished.add(fut)
        for fut in finished:
            res = waiting.pop(fut.key)
            try:
                outcome = fut.result()
            except Exception as exc:  # the worker, not the report, failed: this report only
                outcome = JobOutcome(status="failed", error=_dask_error(exc))
            if outcome.status != "ok" and outcome.worker and outcome.error and outcome.worker not in outcome.error:
                outcome.error += f" [Dask worker {outcome.worker}]"
            record(res, outcome)
            bar.set_postfix_str(res.name[:30], refresh=False)
            bar.update(1)
    except KeyboardInterrupt:
        with contextlib.suppress(Exception):  # every future not recorded yet, done or not
            client.cancel([f for f in futures if f.key in waiting])
        return True
    return False
