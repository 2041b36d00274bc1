"""Local report worker processes: same outputs as threads, real processes, and a safe fallback.

``run_batch`` executes each report (notebook client, HTML export, workbook) in one of
``jobs`` long-lived worker processes when this program's ``__main__`` is safe to
re-import there, and in threads otherwise, through one bounded submit loop
(:func:`reportkit.run.local.run_local`). Pinned here: the published files do not
depend on which; the kernels really run under the workers; the caller's process
keeps its global state; which programs count as safe; a pool that breaks hands its
reports back to the batch process; after ^C queued reports do not start.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import multiprocessing.forkserver
import os
import signal
import subprocess
import sys
import threading
import time
import types
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import openpyxl
import pytest
from demo_params import DEMO, demo_params, templates_with_cell
from interrupts import popen_interruptible, send_ctrl_c

from reportkit.run import local
from reportkit.run.batch import JobOutcome, ReportResult, run_batch

pytestmark = pytest.mark.skipif(not DEMO.exists(), reason="params/demo.yaml not present")

RECORD = """
import json as _json, os as _os
import psutil as _psutil
_warm = _psutil.Process(_os.getppid())  # the warm process this kernel was forked from
with open(f"kernel-{account_manager_id}.json", "w") as _f:
    _json.dump({"executor": _warm.ppid()}, _f)
"""


def _cells(path: Path) -> list[list[tuple]]:
    wb = openpyxl.load_workbook(path)
    return [[tuple(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets]


def _process_state() -> dict:
    """What a library call must leave as it found it in the caller's process (a user's notebook)."""
    handlers = {}
    for sig in signal.valid_signals():
        with contextlib.suppress(OSError, ValueError):
            handlers[sig] = signal.getsignal(sig)
    return {
        "start method": multiprocessing.get_start_method(allow_none=True),
        "forkserver preload": list(multiprocessing.forkserver._forkserver._preload_modules),
        "signal handlers": handlers,
        "environment": dict(os.environ),
        "working directory": os.getcwd(),
    }


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """The same two-report batch run with worker processes and with threads, and the caller's state around each."""
    tmp = tmp_path_factory.mktemp("workers")
    params, tdir = (
        demo_params(tmp, account_managers=["AM-001", "AM-002"], reports=["account_manager"]),
        templates_with_cell(tmp, RECORD),
    )
    runs = {}
    for mode in (True, False):
        out = tmp / f"out-{mode}"
        before = _process_state()
        result = run_batch(params, out, progress=False, template_dir=tdir, jobs=2, worker_processes=mode)
        runs[mode] = (out, result, before, _process_state())
    return runs


def test_worker_processes_publish_the_same_reports_as_threads(both):
    (out_p, res_p, *_), (out_t, res_t, *_) = both[True], both[False]
    assert res_p.ok == res_t.ok == 2 and res_p.failed == res_t.failed == 0
    for rp, rt in zip(res_p.reports, res_t.reports):
        assert rp.outputs == rt.outputs
        html_p, html_t = (out / rp.outputs["html"] for out in (out_p, out_t))
        assert hashlib.sha256(html_p.read_bytes()).digest() == hashlib.sha256(html_t.read_bytes()).digest()
        assert _cells(out_p / rp.outputs["xlsx"]) == _cells(out_t / rt.outputs["xlsx"])


def test_kernels_run_under_the_worker_processes_not_the_batch_process(both):
    import os

    for mode, (out, *_) in both.items():
        executors = {json.loads(p.read_text())["executor"] for p in out.glob("kernel-*.json")}
        assert len(executors) >= 1
        if mode:
            assert os.getpid() not in executors
        else:
            assert executors == {os.getpid()}


@pytest.mark.parametrize("processes", [True, False], ids=["worker processes", "threads"])
def test_run_batch_leaves_the_callers_multiprocessing_signals_and_environment_as_they_were(both, processes):
    _out, result, before, after = both[processes]
    assert result.ok == 2
    assert after == before


@pytest.mark.parametrize(
    "main, safe",
    [
        (types.SimpleNamespace(__spec__=types.SimpleNamespace(name="reportkit.__main__")), True),
        (types.SimpleNamespace(__spec__=types.SimpleNamespace(name="pytest.__main__")), True),
        (types.SimpleNamespace(__spec__=types.SimpleNamespace(name="ipykernel_launcher")), True),
        (types.SimpleNamespace(__spec__=types.SimpleNamespace(name="my_batch_module")), False),
        (types.SimpleNamespace(__spec__=None), True),  # interactive interpreter, python -c
        (types.SimpleNamespace(__spec__=None, __file__=str(Path(sys.executable).parent / "reportkit")), True),
        (types.SimpleNamespace(__spec__=None, __file__="/home/coordinator/run_quarter.py"), False),
        (types.SimpleNamespace(__spec__=None, __file__="<stdin>"), False),
    ],
    ids=[
        "python -m reportkit",
        "python -m pytest",
        "notebook",
        "python -m user module",
        "interactive",
        "console script",
        "user script",
        "piped script",
    ],
)
def test_worker_processes_are_used_only_where_main_is_safe_to_reimport(monkeypatch, main, safe):
    monkeypatch.setitem(sys.modules, "__main__", main)
    assert local.worker_processes_available() is safe


class _Bar:
    def __init__(self):
        self.n = 0

    def update(self, n):
        self.n += n

    def set_postfix_str(self, *a, **k):
        pass


def _reports(*ids):
    results = [ReportResult("account_manager", i, f"AM {i}", "West") for i in ids]
    return results, list(ids), lambda res, slug: (f"job-{slug}", None)


def test_a_broken_worker_pool_hands_its_reports_back_to_the_batch_process(monkeypatch):
    class BrokenPool:
        def submit(self, *a, **k):
            fut = Future()
            fut.set_exception(BrokenProcessPool("a worker died"))
            return fut

        def shutdown(self, **k):
            pass

    pool = local.LocalPool(jobs=2, warm=False, processes=False)
    pool._executor.shutdown()
    pool._executor, pool.processes = BrokenPool(), True
    ran_here = []

    def here(job, report=None):
        ran_here.append((job, threading.current_thread() is not threading.main_thread()))
        return JobOutcome(status="ok")

    monkeypatch.setattr(local, "execute_report", here)
    results, slugs, prepare = _reports("a", "b", "c")
    bar = _Bar()
    try:
        assert local.run_local(pool, results, slugs, prepare, bar) is False
    finally:
        pool.close()
    assert [r.status for r in results] == ["ok", "ok", "ok"] and bar.n == 3
    assert sorted(ran_here) == [("job-a", True), ("job-b", True), ("job-c", True)]  # in this process's threads
    assert pool.processes is False


def test_after_an_interrupt_queued_reports_do_not_start_and_running_ones_are_recorded(monkeypatch):
    release = threading.Event()
    started = []

    def execute(job, report=None):
        started.append(job)
        release.wait(10)
        return JobOutcome(status="ok", outputs={"html": f"{job}.html"})

    def ctrl_c(futures, return_when):  # ^C arrives while the loop waits for the first report
        for _ in range(1000):
            if started:
                break
            time.sleep(0.01)
        raise KeyboardInterrupt

    monkeypatch.setattr(local, "execute_report", execute)
    monkeypatch.setattr(local, "wait", ctrl_c)
    pool = local.LocalPool(jobs=1, warm=False, processes=False)  # at most 2 in flight: a runs, b queued
    cancel = pool.cancel

    def cancel_then_let_a_finish():
        cancel()
        release.set()

    pool.cancel = cancel_then_let_a_finish
    results, slugs, prepare = _reports("a", "b", "c")
    try:
        assert local.run_local(pool, results, slugs, prepare, _Bar()) is True
    finally:
        pool.close()
    assert started == ["job-a"]
    assert [r.status for r in results] == ["ok", "pending", "pending"]  # run_batch: "not run: interrupted"
    assert results[0].outputs == {"html": "job-a.html"}


def test_report_workers_ignore_ctrl_c_so_running_reports_finish_and_are_recorded():
    previous = signal.getsignal(signal.SIGINT)
    try:
        local._worker_init(False)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_after_an_interrupt_a_report_the_pool_cancels_late_does_not_hang_the_batch():
    # the process pool cancels its queued futures in its own thread, after cancel() returned:
    # waiting on such a future for good hung a ^C'd batch (seen with Chromium PDFs on)
    from concurrent.futures import Future

    late = Future()
    recorded = []
    threading.Timer(0.1, late.cancel).start()
    finished = threading.Event()

    def run():
        local._finish_running({late: ("res", "job", None)}, lambda res, outcome: recorded.append(res))
        finished.set()

    threading.Thread(target=run, daemon=True).start()
    assert finished.wait(10), "_finish_running waited for a future cancelled after the interrupt"
    assert recorded == []


def test_a_one_report_batch_starts_one_report_worker_for_its_fits_and_its_report(tmp_path, monkeypatch):
    # on 2 cores one worker starts before the load; the forecast's fits and the report, handed over while it
    # still starts, used to start a second worker and its warm kernel process for nothing (LocalPool.expect_reports)
    monkeypatch.setattr(local.os, "cpu_count", lambda: 2)
    started: list[int] = []
    real_close = local.LocalPool.close

    def close(self):
        started.extend(p.pid for p in self._executor._processes.values())
        real_close(self)

    monkeypatch.setattr(local.LocalPool, "close", close)
    params = demo_params(tmp_path, account_managers=["AM-001"], reports=["account_manager"], pdf={"enabled": False})
    result = run_batch(params, tmp_path / "out", progress=False, jobs=2, worker_processes=True, cache=False)
    assert [r.status for r in result.reports] == ["ok"]
    assert len(started) == 1


# A terminal's ^C reaches the whole process group: the batch process and its report workers.
_CTRL_C_WHILE_WORKERS_START = r"""
import sys, time
from reportkit.run.local import LocalPool

pool = LocalPool(jobs=1, warm=False, processes=True)
try:
    pool.start()  # the worker imports nbformat, Papermill, nbconvert ... for a second or more
    time.sleep(60)
except KeyboardInterrupt:
    print("reportkit: interrupted", file=sys.stderr)
finally:
    pool.close()
"""


def test_ctrl_c_while_report_workers_start_shows_only_the_batchs_own_message():
    import psutil

    script = popen_interruptible(
        [sys.executable, "-c", _CTRL_C_WHILE_WORKERS_START], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    worker = None
    while worker is None and time.monotonic() < deadline and script.poll() is None:
        forkservers = [p for p in psutil.Process(script.pid).children() if "forkserver" in " ".join(p.cmdline())]
        worker = next((w for f in forkservers for w in f.children()), None)
        time.sleep(0.05)
    assert worker is not None, "no report worker started"
    time.sleep(0.3)  # inside its start-up imports
    send_ctrl_c(script.pid)
    _, err = script.communicate(timeout=60)
    assert err == "reportkit: interrupted\n"


def test_a_workers_preloads_stop_while_a_model_fit_is_queued(monkeypatch):
    fitting = threading.Event()
    monkeypatch.setattr(local, "_fitting", fitting)
    monkeypatch.setattr(local, "_html_exporter", lambda: None)
    fitting.set()
    assert local.preload_worker(("reportkit_no_such_module",)) is False  # stopped before importing it
    fitting.clear()
    assert local.preload_worker(("json",)) is True


def test_the_preloads_are_queued_again_when_the_last_model_fit_is_done():
    fits = local._FitsQueued()
    fits.event, queued = threading.Event(), threading.Event()
    fits.after = queued.set
    first, last = Future(), Future()
    fits.add(first)
    fits.add(last)
    assert fits.event.is_set()
    first.set_result(None)
    assert fits.event.is_set() and not queued.is_set()
    last.set_result(None)
    assert queued.wait(10) and not fits.event.is_set()


def test_a_report_worker_freezes_what_it_holds_once_before_its_first_report_and_nothing_of_a_report(monkeypatch):
    # the calls in order (not gc.get_freeze_count(), which drops whenever another thread frees a frozen object)
    from types import SimpleNamespace

    calls = []

    def execute(job, report=None):
        calls.append(("report", job))
        return JobOutcome(status="ok")

    monkeypatch.setattr(
        local, "gc", SimpleNamespace(collect=lambda: calls.append("collect"), freeze=lambda: calls.append("freeze"))
    )
    monkeypatch.setattr(local, "execute_report", execute)
    monkeypatch.setattr(local, "_heap_frozen", False)
    assert local.execute_in_worker("first").status == "ok"
    assert local.execute_in_worker("second").status == "ok"
    # collected and frozen once, before the first report: no report's objects are ever frozen
    assert calls == ["collect", "freeze", ("report", "first"), ("report", "second")]


def test_a_batch_process_killed_outright_takes_its_workers_kernels_and_forkserver_with_it(tmp_path):
    # kill -9 (or the out-of-memory killer) gives the batch process no chance to shut its pool down; its report
    # workers waited on the pool's queue for ever, and kept their warm kernel processes, kernels and the forkserver
    psutil = pytest.importorskip("psutil")
    params = demo_params(tmp_path, account_managers=["AM-001", "AM-002"], reports=["account_manager"])
    tdir = templates_with_cell(tmp_path, "import time\ntime.sleep(120)")  # the kernels are running when it dies
    script = tmp_path / "batch.py"
    script.write_text(
        "from reportkit.run.batch import run_batch\n"
        "if __name__ == '__main__':\n"
        f"    run_batch({str(params)!r}, {str(tmp_path / 'out')!r}, progress=False, template_dir={str(tdir)!r}, jobs=2, worker_processes=True)\n"
    )
    batch = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tree: list = []
    kernels: list = []
    try:
        proc = psutil.Process(batch.pid)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and batch.poll() is None:
            tree = proc.children(recursive=True)
            warm = [p for p in tree if "reportkit.run._warm" in _cmdline(p)]
            kernels = [p for p in tree if _ppid(p) in {w.pid for w in warm}]  # forked from a warm process
            if kernels:
                break
            time.sleep(0.2)
        assert batch.poll() is None, "the batch ended before its kernels ran"
        assert kernels, [_cmdline(p)[:4] for p in tree]
        batch.kill()
        batch.wait(30)
        _, alive = psutil.wait_procs(tree, timeout=30)
        assert not alive, [(p.pid, _cmdline(p)[:4]) for p in alive]
    finally:
        batch.kill()
        for p in tree:
            with contextlib.suppress(psutil.Error):
                p.kill()


def _cmdline(process) -> list[str]:
    import psutil

    try:
        return process.cmdline()
    except psutil.Error:
        return []


def _ppid(process) -> int | None:
    import psutil

    try:
        return process.ppid()
    except psutil.Error:
        return None
