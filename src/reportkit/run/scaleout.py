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
"""How long a batch waits for a Dask cluster without workers to get one, in seconds.

Before the first report (:func:`dask_connect`: none joins, exit 3) and after the cluster lost
its last worker mid-batch (:func:`run_on_dask`: the reports not finished fail, each saying so).
"""

_NO_WORKERS_POLL_S = 1.0
"""How often :func:`run_on_dask` asks the scheduler how many workers it has, in seconds."""


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


def _dask_error(exc: BaseException, no_workers: str | None = None) -> str:
    """The manifest error of a report whose Dask future raised (the worker, not the report, failed).

    ``no_workers``: the error of a report cancelled by :class:`_NoWorkersWatch`.
    """
    from concurrent.futures import CancelledError

    from distributed import KilledWorker

    if isinstance(exc, KilledWorker):
        return (
            "KilledWorker: the Dask worker running the report died (killed, out of memory or lost) each time "
            "the scheduler tried it; see the workers' logs"
        )
    if isinstance(exc, CancelledError):
        if no_workers is not None:
            return no_workers
        return "CancelledError: the Dask cluster dropped the report (the connection to the scheduler was lost?)"
    if isinstance(exc, ImportError) and "reportkit" in str(exc):
        return (
            f"{type(exc).__name__}: {exc} on a Dask worker: install reportkit[dask] (the same version as "
            "on the batch machine) on every worker"
        )
    return f"{format_error(exc)} (raised on the Dask worker; see its log)"


class _NoWorkersWatch:
    """Cancels a batch's unfinished reports once its cluster has had no worker for a while.

    A thread asks the scheduler for its workers every :data:`_NO_WORKERS_POLL_S`; after it
    saw none for :data:`DASK_WAIT_FOR_WORKERS_S` (the cluster lost its last worker and none
    joined), it cancels every future not done, and :attr:`error` (the manifest error of each
    such report) is set. Dask itself would wait for a worker with no limit. A worker that
    joins in time ends the wait: the reports it runs finish as usual.
    """

    def __init__(self, client: Any, futures: list[Any], say: Any) -> None:
        import threading

        self.client, self.futures, self.say = client, futures, say
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="reportkit-dask-no-workers", daemon=True)

    def __enter__(self) -> _NoWorkersWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _workers(self) -> int | None:
        try:
            return len(self.client.nthreads())
        except Exception:  # the scheduler unreachable: its futures fail on their own (CancelledError)
            return None

    def _watch(self) -> None:
        import time

        since = None
        while not self._stop.wait(_NO_WORKERS_POLL_S):
            if self._workers() != 0:
                since = None
                continue
            now = time.monotonic()
            if since is None:
                since = now
                self.say(f"the Dask cluster has no workers left: waiting up to {DASK_WAIT_FOR_WORKERS_S:g} s for one to join")
            elif now - since >= DASK_WAIT_FOR_WORKERS_S:
                self.error = (
                    f"NoWorkers: the Dask cluster lost its last worker and none joined within "
                    f"{DASK_WAIT_FOR_WORKERS_S:g} s, so this report was not run; start 'dask worker' on a machine "
                    "that sees the output folder, then re-run the batch with --only-failed"
                )
                self.say(f"no Dask worker joined within {DASK_WAIT_FOR_WORKERS_S:g} s: the reports not finished fail")
                with contextlib.suppress(Exception):
                    self.client.cancel([f for f in list(self.futures) if not f.done()])
                return


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
    watch = _NoWorkersWatch(client, futures, getattr(bar, "write", None) or _say)
    try:
        with watch:
            return _submit_and_record(client, results, slugs, prepare, bar, pdf, token, waiting, futures, finished, watch)
    except KeyboardInterrupt:
        with contextlib.suppress(Exception):  # every future not recorded yet, done or not
            client.cancel([f for f in futures if f.key in waiting])
        return True


def _say(text: str) -> None:
    import sys

    print(f"reportkit: {text}", file=sys.stderr, flush=True)


def _submit_and_record(
    client: Any,
    results: list[ReportResult],
    slugs: list[str],
    prepare: Any,
    bar: Any,
    pdf: PdfEngine | None,
    token: str,
    waiting: dict[Any, ReportResult],
    futures: list[Any],
    finished: Any,
    watch: _NoWorkersWatch,
) -> bool:
    """:func:`run_on_dask`'s loop: submit each report as it is prepared, then record each outcome."""
    for res, slug in zip(results, slugs):
        prepared = prepare(res, slug)
        if prepared is None:  # reused from the previous run, or failed while building
            bar.update(1)
            continue
        job, _report = prepared
        if watch.error is not None:  # the cluster lost its workers: nothing more is sent to it
            record(res, JobOutcome(status="failed", error=watch.error))
            bar.update(1)
            continue
        if job.pdf is not None and pdf is not None:
            job = replace(job, pdf_engine=pdf)
        fut = client.submit(_execute_on_worker, job, pure=False, key=f"reportkit-{res.kind}-{slug}-{token}")
        waiting[fut.key] = res
        futures.append(fut)
        finished.add(fut)
    if watch.error is not None:  # a report submitted as the watch gave up would wait for a worker forever
        with contextlib.suppress(Exception):
            client.cancel([f for f in futures if not f.done()])
    for fut in finished:
        res = waiting.pop(fut.key)
        try:
            outcome = fut.result()
        except Exception as exc:  # the worker, not the report, failed: this report only
            outcome = JobOutcome(status="failed", error=_dask_error(exc, watch.error))
        if outcome.status != "ok" and outcome.worker and outcome.error and outcome.worker not in outcome.error:
            outcome.error += f" [Dask worker {outcome.worker}]"
        record(res, outcome)
        bar.set_postfix_str(res.name[:30], refresh=False)
        bar.update(1)
    return False
