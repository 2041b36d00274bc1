"""A local batch's reports on this machine: one pool, one bounded submit loop.

:func:`run_local` is the loop. In the batch process's main thread it builds the next
report (:meth:`reportkit.run.plan.BatchPlan.prepare`), submits its job to the pool
while fewer than ``IN_FLIGHT_PER_JOB × jobs`` reports are in flight (``jobs`` executing,
the rest built and queued, so a worker that frees up starts its next report at once,
also while the batch process builds a team's or the company's object, or runs the
company workbook post-step), and records each outcome as it completes
(``concurrent.futures.wait(FIRST_COMPLETED)``).

The pool (:class:`LocalPool`) is either ``jobs`` long-lived *report worker* processes
(:func:`worker_processes_available`) that each execute reports end to end -- notebook
client, HTML export, workbook -- with their own warm kernel process, or, where worker
processes cannot start, ``jobs`` threads of the batch process doing the same. Nothing
feeds the pool but the loop, and the caller's process keeps its global state: the
workers come from a multiprocessing *context* object (forkserver) with an initializer;
no module-level setter (start method, forkserver preload, signal handlers) is called
in the caller.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import importlib
import logging
import multiprocessing
import os
import pickle
import signal
import sys
import sysconfig
import threading
from collections.abc import Callable, Iterable
from concurrent import futures
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from .execute import JobOutcome, ReportJob, execute_report
from .forked import forked_map
from .html import _html_exporter
from .plan import record
from .results import ReportResult
from .startup import worker_init
from .timeline import span

__all__ = ["LocalPool", "run_local", "worker_processes_available"]

log = logging.getLogger(__name__)

WORKER_PRELOAD = (
    "reportkit.run.execute",
    "reportkit.render.excel",
    "reportkit.run.kernels",
    "reportkit.reports.builders",
    "papermill",
    "papermill.engines",
    "nbclient",
    "nbconvert",
    "nbconvert.exporters.html",
    "jupyter_client.manager",
    "xlsxwriter",
)
"""What a report worker imports before its first report (:func:`preload_worker`)."""

IN_FLIGHT_PER_JOB = 4
"""Reports in flight (executing or built and queued) per report worker.

Two were enough while every object took about as long to build as the next free slot;
the teams', the company's and the company workbook together take the batch process about
2.8 s of CPU in a row, and with two per worker both workers ran dry for 3-6 s meanwhile
(``benchmarks/bench_timeline.py``, docs/batch.md). A queued account-manager report holds
about 0.5 MB in this process.
"""

Prepare = Callable[[ReportResult, str], "tuple[ReportJob, Any] | None"]


def worker_processes_available() -> bool:
    """True where worker processes can start without side effects.

    Needs multiprocessing's forkserver, and a ``__main__`` that a worker can
    re-import safely (multiprocessing re-imports it in every worker): none at all
    (an interactive interpreter, ``python -c``), a package's ``__main__`` (``python
    -m reportkit``, ``python -m pytest``), an IPython kernel (a notebook), or a
    console script of this environment (``reportkit``, ``pytest``), all of which
    keep their work under ``if __name__ == "__main__":``. For any other script
    (which might call :func:`reportkit.run.batch.run_batch` at top level) reports
    run in threads.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return False
    main = sys.modules.get("__main__")
    name = getattr(getattr(main, "__spec__", None), "name", None) or ""
    if name:
        return name.endswith(".__main__") or name == "__main__" or name == "ipykernel_launcher"
    path = getattr(main, "__file__", None)
    if path is None:
        return True
    try:
        return Path(path).resolve().parent == Path(sysconfig.get_path("scripts")).resolve()
    except OSError:
        return False


def _worker_init(warm: bool, pdf: bytes | None = None, fitting: Any = None) -> None:
    """Start a report worker: its own warm kernel process and, with ``pdf``, its PDF renderer.

    Not its report preloads: those are a task of their own (:func:`preload_worker`,
    queued by :meth:`LocalPool.start`) that stops while ``fitting`` (an event of the
    batch process, set while a model fit is queued) is set, so the forecast's fits,
    which the batch's first report waits for, do not wait behind imports the report
    needs only later. Not the forecast's models either: a worker imports them on its
    first model fit (:meth:`LocalPool.fit_executor`), so a batch whose fits are all in
    the cache never pays for them (``docs/batch.md``, "Performance"). With ``pdf``
    (the batch's :class:`reportkit.render.pdf.PdfEngine`) its renderer, reused for
    every report it runs, given pickled (:class:`LocalPool`).

    A worker ignores ^C, as the kernels do: the batch process decides what an
    interrupt means (reports already running finish and are recorded; the rest do
    not start). This runs in the worker, never in the batch process.
    """
    global _fitting
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _fitting = fitting
    if warm:
        from . import kernels  # lazy: jupyter_client's kernel machinery only for warm kernels

        if kernels.warm_kernels_available():
            kernels.start_warm_process()  # no-op when startup.worker_init forked it from this worker
    if pdf:
        from ..render.pdf import warm_renderer  # lazy: a renderer only for a batch that writes PDFs

        warm_renderer(pickle.loads(pdf))  # its browser (Chromium) ends when this worker exits


_fitting: Any = None
"""In a report worker: the batch process's event, set while a model fit is queued (:func:`_worker_init`)."""


def preload_worker(preload: Iterable[str] = WORKER_PRELOAD) -> bool:
    """Import what a report needs (``preload``) and make the HTML exporter, in this worker; True once all is done.

    Stops before the next module while the batch process has a model fit queued (the
    worker's ``fitting`` event): the fits come first, and :class:`LocalPool` queues this
    again when they are done. Whatever is not preloaded is imported by the report itself.
    """
    for name in preload:
        if _fitting is not None and _fitting.is_set():
            return False
        importlib.import_module(name)
    _html_exporter()
    return True


_heap_frozen = False
"""In a report worker: :func:`execute_in_worker` has frozen what the worker held before its first report."""


def execute_in_worker(job: ReportJob) -> JobOutcome:
    """:func:`reportkit.run.execute.execute_report` in a report worker process (it reads the report pickle).

    Before the worker's first report, what it holds then (its imports -- reportkit,
    Papermill, nbconvert, pandas, XlsxWriter, and statsmodels when it ran model fits:
    about 180,000 objects -- and nothing of any report) is collected once and frozen
    (``gc.freeze()``), as the ``reportkit`` command does before its exit: every later
    full collection of the worker's garbage collector walked all of them, about 0.13 s
    each, 7-8 per worker in the 56-report headline batch (``docs/batch.md``, "Where a
    report's time goes"). Only a worker process does this; report threads and Dask
    workers run :func:`execute_report` as it is.
    """
    global _heap_frozen
    if not _heap_frozen:
        _heap_frozen = True
        gc.collect()
        gc.freeze()
    return execute_report(job)


@contextlib.contextmanager
def callers_start_method_kept() -> Any:
    """Leave the caller's default multiprocessing start method unset if it was unset.

    Starting a forkserver child calls ``multiprocessing.spawn.get_preparation_data``,
    which calls ``multiprocessing.get_start_method()`` and so fixes the *process-wide*
    default start method (CPython 3.11-3.13) although the pool uses its own context
    object. A notebook or script calling ``run_batch`` that later calls
    ``multiprocessing.set_start_method(...)`` would then get "context has already been
    set". The public ``set_start_method(None, force=True)`` puts "unset" back.
    """
    with _START_METHOD_LOCK:  # the batch's thread that queues preloads after the fits submits too
        unset = multiprocessing.get_start_method(allow_none=True) is None
        try:
            yield
        finally:
            if unset:
                multiprocessing.set_start_method(None, force=True)


_START_METHOD_LOCK = threading.RLock()


class LocalPool:
    """The one executor of a local batch: ``jobs`` report worker processes, or ``jobs`` threads.

    :meth:`start` starts the worker processes before the data is loaded, so the
    workers' imports and warm kernel processes overlap the loading. If the process
    pool breaks (a worker died), the pool carries on with threads of this process and the reports
    that were in the broken pool run again there, with the same results.

    Parameters
    ----------
    jobs : int
        Reports executed at once.
    warm : bool
        Each worker starts its own warm kernel process (:mod:`reportkit.run.kernels`).
    processes : bool
        Worker processes (True) or threads of this process (False).
    pdf : PdfEngine, optional
        The batch's PDF renderer (params ``pdf.renderer``, chosen): each worker process
        starts it when it starts; report threads end their browsers at :meth:`close`.
    """

    def __init__(self, jobs: int, warm: bool, processes: bool, pdf: Any = None) -> None:
        self.jobs = jobs
        self.pdf = pdf
        self.processes = processes
        self._executor: Executor
        self._workers = 0  # worker processes started or allowed (start, expect_reports): preloads queued after fits
        self._fits = _FitsQueued()
        if processes:
            context = multiprocessing.get_context("forkserver")  # a context object: no global setter
            self._fits.event = context.Event()
            # the renderer goes pickled: unpickling it imports reportkit.render.pdf (and pandas), which a new
            # worker does only after it has forked its warm process (startup.worker_init)
            renderer = pickle.dumps(pdf) if pdf else None
            self._executor = ProcessPoolExecutor(
                max_workers=jobs, mp_context=context, initializer=worker_init, initargs=(warm, renderer, self._fits.event)
            )
        else:
            self._executor = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="report")

    def start(self) -> None:
        """Start the worker processes the machine has room for now, so their imports and warm kernel processes
        overlap the loading; the others start when work is submitted.

        ProcessPoolExecutor starts a worker when a task is submitted and none is idle:
        one :func:`preload_worker` task per worker starts it (its imports give way to the
        forecast's model fits, and are queued again after them). Started now: ``jobs``, but at most one fewer
        than the machine has cores (at least one), so the batch process keeps a core for
        loading the data and building the first report, the batch's critical path
        (``docs/batch.md``, "How a batch stays fast": on 2 cores a second worker and its warm process
        starting beside it cost a 1-report batch about 2.5-3 s of CPU). The others start on
        demand: with the forecast's model fits, or the second report. No-op with threads.
        """
        if self.processes:
            self._workers = self._early_workers()
            self._submit_preloads()

    def _submit_preloads(self) -> None:
        """One :func:`preload_worker` task per worker (a worker that has preloaded returns at once)."""
        if not self.processes:  # fell back to threads: nothing to preload
            return
        with callers_start_method_kept(), contextlib.suppress(BrokenExecutor, RuntimeError):  # broken, shut down
            for _ in range(self._workers):
                self._executor.submit(preload_worker)

    def _early_workers(self) -> int:
        """How many workers :meth:`start` starts: ``jobs``, at most one fewer than the machine's cores, at least one."""
        return max(1, min(self.jobs, (os.cpu_count() or 1) - 1))

    def expect_reports(self, reports: int) -> None:
        """At most ``reports`` worker processes for a batch of that many reports (never fewer than :meth:`start` started).

        A process pool starts a worker whenever a task is submitted and none is idle, and a
        worker still starting is not idle: a 1-report batch whose report (or whose forecast's
        model fits) is handed over while its one worker is still importing started a second
        worker and its warm kernel process, about 2-2.5 s of CPU on the 2 cores the report
        needs (``docs/batch.md``, "Performance"). The executor keeps its limit in
        ``_max_workers``, which every start checks (CPython's ``ProcessPoolExecutor``, 3.8 to 3.13);
        where that attribute is missing nothing changes. No-op with threads.
        """
        if not self.processes or not hasattr(self._executor, "_max_workers"):
            return
        self._workers = max(self._early_workers(), min(self.jobs, reports))
        self._executor._max_workers = self._workers  # type: ignore[attr-defined]

    def fit_executor(self) -> Executor | None:
        """The worker processes, for the forecast's model fits while the first report is built (None with threads).

        A worker imports the models on its first fit, so this process never does; with
        threads the fits stay in this process. A submit that starts a worker
        leaves the caller's start method as it was (:func:`callers_start_method_kept`).
        While a fit is queued the workers' preloads give way (:func:`preload_worker`);
        when the last one is done they are queued again, behind any fit submitted since.
        """
        if not self.processes:
            return None
        self._fits.after = self._submit_preloads
        return _FitExecutor(self._executor, self._fits, self._fit_parts)

    def _fit_parts(self) -> int:
        """How many processes make one fit task's fits at once: the cores over the workers the batch keeps.

        A batch of fewer reports than cores keeps fewer workers (:meth:`expect_reports`), and
        the forecast's fits, which its first report waits for, would leave the other cores
        idle: each fit task is then shared with children its worker forks
        (:func:`reportkit.run.forked.forked_map`). 1 (no child) when the workers fill the cores.
        """
        return max(1, (os.cpu_count() or 1) // max(1, self._workers))

    def submit(self, job: ReportJob, report: Any) -> Future:
        """Execute ``job`` in a worker (it reads the report pickle) or in a thread (given ``report``)."""
        if self.processes:
            try:
                with callers_start_method_kept():  # a submit may start a worker
                    return self._executor.submit(execute_in_worker, job)
            except BrokenProcessPool as exc:
                self.fall_back_to_threads(exc)
        return self._executor.submit(execute_report, job, report)

    def fall_back_to_threads(self, exc: BaseException) -> None:
        """The process pool broke: run this and every later report in threads of this process."""
        if not self.processes:
            return
        log.warning("report worker processes failed (%s); running the remaining reports in this process", exc)
        # not cancel_futures: the broken pool fails each of its reports with BrokenProcessPool,
        # which run_local submits again here (a cancelled future would never complete)
        self._executor.shutdown(wait=False)
        self._executor = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="report")
        self.processes = False

    def cancel(self) -> None:
        """Interrupted: reports queued in the pool do not start (those running finish)."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Wait for the reports still running, then end the workers (and their warm processes, their browsers)."""
        self._executor.shutdown(wait=True)
        if self.pdf and not self.processes:  # report threads: their browsers are this process's
            from ..render.pdf import close_renderers

            close_renderers()


class _FitsQueued:
    """The model fits a batch has handed to its workers and not got back: ``event`` is set while there are any.

    When the last one is done, ``after`` runs (the workers' preloads, queued again), in a
    thread of its own: a future's callbacks run in the process pool's own thread, which
    is not one to submit from.
    """

    def __init__(self) -> None:
        self.event: Any = None
        self.after: Callable[[], None] | None = None
        self._count = 0
        self._lock = threading.Lock()

    def add(self, fut: Future) -> None:
        with self._lock:
            self._count += 1
            if self.event is not None:
                self.event.set()
        fut.add_done_callback(self._done)

    def _done(self, _fut: Future) -> None:
        with self._lock:
            self._count -= 1
            if self._count:
                return
            if self.event is not None:
                self.event.clear()
        if self.after is not None:
            threading.Thread(target=self.after, name="reportkit-preloads", daemon=True).start()


class _FitExecutor(Executor):
    """The pool's executor for model fits: each submit under :func:`callers_start_method_kept` (a submit may
    start a worker), and counted in ``fits`` (the workers' preloads give way to it).

    ``fn`` is :func:`reportkit.domain.forecast_models.fit_models`: when ``parts()`` (the
    pool's :meth:`LocalPool._fit_parts`, read at each submit) is more than 1, its
    ``fit_map`` shares the task's fits with that many processes forked by the worker."""

    def __init__(self, executor: Executor, fits: _FitsQueued, parts: Callable[[], int] = lambda: 1) -> None:
        self._executor = executor
        self._fits = fits
        self._parts = parts

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        parts = self._parts()
        if parts > 1:
            kwargs = {**kwargs, "fit_map": functools.partial(forked_map, parts=parts)}
        with callers_start_method_kept():
            fut = self._executor.submit(fn, *args, **kwargs)
        self._fits.add(fut)
        return fut


def run_local(
    pool: LocalPool,
    results: list[ReportResult],
    slugs: list[str],
    prepare: Prepare,
    bar: Any,
    *,
    settled: Callable[[ReportResult], None] | None = None,
    drained: Callable[[], None] | None = None,
) -> bool:
    """Prepare each report here, execute it in ``pool``, record its outcome; True when interrupted.

    Reports are prepared and submitted in the order of ``results`` (the batch's
    :meth:`reportkit.run.plan.BatchPlan.submission_order`). At most ``IN_FLIGHT_PER_JOB × pool.jobs``
    reports are in flight. ``settled(res)`` is called in this thread once a report's
    outcome is final (recorded, or settled by ``prepare``: reused or failed while
    building), and ``drained()`` once, when every report has been submitted: the batch
    process's own remaining work then runs while the last reports execute. On Ctrl-C
    nothing new is prepared or started, the reports already executing run to their end
    and are recorded (workers and kernels ignore the terminal's ^C), and the rest stay
    ``pending`` (:func:`reportkit.run.batch.run_batch` marks them not run).
    """
    todo = iter(zip(results, slugs))
    in_flight: dict[Future, tuple[ReportResult, ReportJob, Any]] = {}
    settle = settled or (lambda res: None)

    def done(res: ReportResult, outcome: JobOutcome) -> None:
        record(res, outcome)
        bar.set_postfix_str(res.name[:30], refresh=False)
        bar.update(1)
        settle(res)

    try:
        while True:
            if _fill(pool, todo, in_flight, prepare, bar, settle, limit=IN_FLIGHT_PER_JOB * pool.jobs) and drained is not None:
                drained()
                drained = None
            if not in_flight:
                return False
            with span("wait", in_flight=len(in_flight)):
                finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for fut in finished:
                res, job, report = in_flight.pop(fut)
                try:
                    outcome = fut.result()
                except BrokenProcessPool as exc:  # a worker died: run the report again in this process
                    pool.fall_back_to_threads(exc)
                    in_flight[pool.submit(job, report)] = (res, job, report)
                    continue
                done(res, outcome)
    except KeyboardInterrupt:
        pool.cancel()
        _finish_running(in_flight, done)
        return True


def _fill(
    pool: LocalPool,
    todo: Any,
    in_flight: dict,
    prepare: Prepare,
    bar: Any,
    settle: Callable[[ReportResult], None],
    *,
    limit: int,
) -> bool:
    """Prepare and submit reports until ``limit`` are in flight; True when none is left to prepare."""
    while len(in_flight) < limit:
        nxt = next(todo, None)
        if nxt is None:
            return True
        res, slug = nxt
        prepared = prepare(res, slug)
        if prepared is None:  # reused from the previous run, or failed while building
            bar.update(1)
            settle(res)
            continue
        job, report = prepared
        in_flight[pool.submit(job, report)] = (res, job, _kept(pool, report))
        del prepared, report
    return False


def _kept(pool: LocalPool, report: Any) -> Any:
    """What the loop keeps of a submitted report's object while it runs: nothing when a worker process runs it.

    A worker reads the report's pickle, and so does a report thread given None (a report
    run again in this process after the worker pool broke): the object is not held here
    while it executes. The company report's object (its accounts at risk: about 140,000
    rows of ``Decimal`` money at 800,000 deals) was otherwise kept through the company
    workbook and the deals' fingerprint, which run meanwhile (``docs/batch.md``, "Session 14:
    where the 800,000-deal batch process peaks"). Report threads are given the object (no unpickling).
    """
    return None if pool.processes else report


def _finish_running(in_flight: dict, done: Callable[[ReportResult, JobOutcome], None]) -> None:
    """After an interrupt: record the reports that were already executing as they end.

    Cancelled (queued) reports stay pending; a second ^C stops waiting. The pool
    cancels its queued futures in its own thread, after :meth:`LocalPool.cancel` has
    returned, and a future cancelled that way never counts as completed for
    ``wait``/``as_completed``; so the wait is in short steps, and a future found
    cancelled is dropped (waiting on it once hung the batch after ^C for good).
    """
    pending = set(in_flight)
    try:
        while pending:
            pending = {fut for fut in pending if not fut.cancelled()}
            finished, pending = futures.wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
            for fut in finished:
                res, _job, _report = in_flight.pop(fut)
                try:
                    outcome = fut.result()
                except Exception:
                    continue
                done(res, outcome)
    except KeyboardInterrupt:
        pass
