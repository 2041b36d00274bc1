"""Local report worker processes: same outputs as threads, real processes, and a safe fallback.

``run_batch`` executes each report (notebook client, HTML export, workbook) in one of
``jobs`` long-lived worker processes when this program's ``__main__`` is safe to
re-import there, and in threads otherwise. Pinned here: the published files do not
depend on which; the kernels really run under the workers; which programs count as
safe; and a pool that breaks hands its reports back to the batch process.
"""

from __future__ import annotations

import hashlib
import json
import sys
import types
from pathlib import Path

import openpyxl
import pytest

from demo_params import DEMO, demo_params, templates_with_cell
from reportkit.run import batch as batch_mod
from reportkit.run.batch import JobOutcome, run_batch

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


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """The same two-report batch run with worker processes and with threads."""
    tmp = tmp_path_factory.mktemp("workers")
    params, tdir = demo_params(tmp, account_managers=["AM-001", "AM-002"], reports=["account_manager"]), templates_with_cell(tmp, RECORD)
    runs = {}
    for mode in (True, False):
        out = tmp / f"out-{mode}"
        runs[mode] = (out, run_batch(params, out, progress=False, template_dir=tdir, jobs=2, worker_processes=mode))
    return runs


def test_worker_processes_publish_the_same_reports_as_threads(both):
    (out_p, res_p), (out_t, res_t) = both[True], both[False]
    assert res_p.ok == res_t.ok == 2 and res_p.failed == res_t.failed == 0
    for rp, rt in zip(res_p.reports, res_t.reports):
        assert rp.outputs == rt.outputs
        html_p, html_t = (out / rp.outputs["html"] for out in (out_p, out_t))
        assert hashlib.sha256(html_p.read_bytes()).digest() == hashlib.sha256(html_t.read_bytes()).digest()
        assert _cells(out_p / rp.outputs["xlsx"]) == _cells(out_t / rt.outputs["xlsx"])


def test_kernels_run_under_the_worker_processes_not_the_batch_process(both):
    import os

    for mode, (out, _) in both.items():
        executors = {json.loads(p.read_text())["executor"] for p in out.glob("kernel-*.json")}
        assert len(executors) >= 1
        if mode:
            assert os.getpid() not in executors
        else:
            assert executors == {os.getpid()}


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
    ids=["python -m reportkit", "python -m pytest", "notebook", "python -m user module", "interactive",
         "console script", "user script", "piped script"],
)
def test_worker_processes_are_used_only_where_main_is_safe_to_reimport(monkeypatch, main, safe):
    monkeypatch.setitem(sys.modules, "__main__", main)
    assert batch_mod._ExportWorkers.available() is safe


def test_a_broken_worker_pool_hands_its_reports_back_to_the_batch_process(monkeypatch):
    from concurrent.futures.process import BrokenProcessPool

    class BrokenPool:
        def submit(self, *a, **k):
            raise BrokenProcessPool("a worker died")

        def shutdown(self, **k):
            pass

    workers = batch_mod._ExportWorkers.__new__(batch_mod._ExportWorkers)
    workers._pool, workers._broken, workers._cancelled = BrokenPool(), False, False
    workers._lock = __import__("threading").Lock()
    ran_here = []

    def here(job, report=None):
        ran_here.append(job)
        return JobOutcome(status="ok")

    monkeypatch.setattr(batch_mod, "execute_report", here)
    assert workers.run("job-1", None).status == "ok" and workers._broken
    assert workers.run("job-2", None).status == "ok"
    assert ran_here == ["job-1", "job-2"]


def test_after_an_interrupt_queued_reports_are_left_pending_not_run_here(monkeypatch):
    class ShutDownPool:
        def submit(self, *a, **k):
            raise RuntimeError("cannot schedule new futures after shutdown")

    workers = batch_mod._ExportWorkers.__new__(batch_mod._ExportWorkers)
    workers._pool, workers._broken, workers._cancelled = ShutDownPool(), False, False
    workers._lock = __import__("threading").Lock()
    monkeypatch.setattr(batch_mod, "execute_report", lambda *a, **k: pytest.fail("ran after the interrupt"))
    with pytest.raises(RuntimeError):  # not interrupted: a real error is not hidden
        workers.run("job-1", None)
    workers._cancelled = True
    assert workers.run("job-2", None).status == "pending"


def test_report_workers_ignore_ctrl_c_so_running_reports_finish_and_are_recorded(monkeypatch):
    import signal

    monkeypatch.setattr(batch_mod, "_html_exporter", lambda: None)
    previous = signal.getsignal(signal.SIGINT)
    try:
        batch_mod._worker_init(False)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)
