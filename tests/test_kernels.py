"""Warm kernels: forked from a process that imported pandas once, still one fresh process per report.

Pins what :mod:`reportkit.run.kernels` promises: a forked kernel runs code with the heavy
modules already imported, in the folder it was asked for, as a child of the warm process
(not of the batch process), in its own process group; interrupts and kills reach it; it
ends when the warm process ends; a kernel spec of another interpreter is started the
ordinary way; and -- the point of single-use kernels -- state one report sets never
reaches another, whether the kernels are forked or fresh.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
from demo_params import demo_params, templates_with_cell

from reportkit.run import kernels
from reportkit.run.batch import run_batch

pytestmark = pytest.mark.skipif(not kernels.warm_kernels_available(), reason="needs os.fork")

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "params" / "demo.yaml"


def _run(coro):
    return asyncio.run(coro)


async def _start(cwd: Path) -> tuple[kernels.WarmKernelManager, object]:
    km = kernels.WarmKernelManager(kernel_name="reportkit")
    await km.start_kernel(cwd=str(cwd), extra_arguments=["--IPKernelApp.log_level=CRITICAL"])
    kc = km.client()
    kc.start_channels()
    await kc.wait_for_ready(timeout=60)
    return km, kc


async def _eval(kc, code: str) -> str:
    """Run ``code`` and return what it printed."""
    chunks: list[str] = []

    def hook(msg):
        if msg["msg_type"] == "stream":
            chunks.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            chunks.append("ERROR " + msg["content"]["ename"])

    await kc.execute_interactive(code, timeout=60, output_hook=hook)
    return "".join(chunks).strip()


def test_forked_kernel_has_heavy_modules_imported_runs_in_its_folder_and_is_a_child_of_the_warm_process(tmp_path):
    async def go():
        km, kc = await _start(tmp_path)
        try:
            assert isinstance(km.provisioner.process, kernels._ForkedProcess)
            out = await _eval(
                kc,
                "import os, sys, json; print(json.dumps([os.getcwd(), os.getppid(), "
                "os.getpgid(0) == os.getpid(), 'pandas' in sys.modules, 'reportkit.render.notebook' in sys.modules]))",
            )
            cwd, ppid, own_group, pandas_loaded, render_loaded = json.loads(out)
            assert Path(cwd) == tmp_path
            assert ppid == kernels.warm_process()._proc.pid != os.getpid()
            assert own_group and pandas_loaded and render_loaded
            assert await _eval(kc, "import pandas as pd; print(int(pd.Series([1, 2, 3]).sum()))") == "6"
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)
        assert km.provisioner is None or not km.provisioner.has_process

    _run(go())


def test_interrupt_reaches_a_forked_kernel_and_a_killed_one_reports_its_exit(tmp_path):
    async def go():
        km, kc = await _start(tmp_path)
        try:
            msg_id = kc.execute("import time; time.sleep(60)")
            await asyncio.sleep(1.0)
            await km.interrupt_kernel()
            reply = await kc.get_shell_msg(timeout=30)
            assert reply["parent_header"]["msg_id"] == msg_id
            assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
            pid = km.provisioner.pid
            os.kill(pid, signal.SIGKILL)
            code = kernels.warm_process().wait(pid, timeout=30)
            assert code == -signal.SIGKILL
            assert not await km.is_alive()
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)

    _run(go())


def test_kernels_end_when_their_warm_process_ends(tmp_path):
    wp = kernels.WarmProcess()
    wp.start()
    km_pid = wp.fork(["-f", str(tmp_path / "kernel.json")], str(tmp_path), dict(os.environ))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and wp.exitcode(km_pid) is not None:
        time.sleep(0.1)
    assert wp.exitcode(km_pid) is None  # running
    wp.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(km_pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("a kernel outlived its warm process")


def test_shutting_down_a_warm_kernel_leaves_no_process(tmp_path):
    """``WarmKernelManager`` polls a forked kernel's exit every 10 ms instead of jupyter_client's
    100 ms; its shutdown must still end the kernel and reap it, as jupyter_client's does."""

    async def go():
        km, kc = await _start(tmp_path)
        pid = km.provisioner.pid
        kc.stop_channels()
        await km.shutdown_kernel()
        assert not await km.is_alive()
        return pid

    pid = _run(go())
    assert kernels.warm_process().exitcode(pid) is not None  # ended, and its warm process reaped it
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_warm_kernels_client_retries_a_refused_connection_after_5_ms_backing_off_to_100(tmp_path):
    """The client connects while the forked kernel is still binding its ports; its sockets retry after
    5 ms, not ZeroMQ's default 100 ms (about 0.06 s of every report's kernel start, "Session 17: a
    forked kernel ready sooner" in docs/batch.md), and back off to 100 ms, never polling a dead kernel
    faster than before; the client still runs code and reads its output."""
    import zmq

    async def go():
        km, kc = await _start(tmp_path)
        try:
            for channel in (kc.shell_channel, kc.iopub_channel, kc.control_channel):
                sock = channel.socket
                assert (sock.getsockopt(zmq.RECONNECT_IVL), sock.getsockopt(zmq.RECONNECT_IVL_MAX)) == (5, 100)
            return await _eval(kc, "print(6 * 7)")
        finally:
            kc.stop_channels()
            await km.shutdown_kernel()

    assert _run(go()) == "42"


def test_the_warm_process_runs_no_thread_when_it_forks(tmp_path):
    """A fork copies only the forking thread: a lock another thread held stays locked in the kernel.

    The warm process, with every module of ``kernels.PRELOAD`` imported and its chart
    drawn, reports its threads just before each fork (``threading.active_count()``
    and, on Linux, ``/proc/self/task``): one, every time.
    """
    import subprocess

    proc = subprocess.Popen(
        [sys.executable, "-m", "reportkit.run._warm", *kernels.PRELOAD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    replies = []
    try:
        for rid in (1, 2):  # ``--help``: the child prints ipykernel's help to the null device and exits
            request = {"id": rid, "argv": ["--help"], "cwd": str(tmp_path), "env": dict(os.environ)}
            proc.stdin.write((json.dumps(request) + "\n").encode())
            proc.stdin.flush()
            while True:
                msg = json.loads(proc.stdout.readline())
                if msg.get("id") == rid:
                    replies.append(msg)
                    break
    finally:
        proc.stdin.close()
        proc.wait(30)
    assert [m.get("error") for m in replies] == [None, None]
    assert [m["threads"] for m in replies] == [1, 1]
    if sys.platform.startswith("linux"):
        assert [m["tasks"] for m in replies] == [1, 1]


def test_kernel_spec_of_another_interpreter_is_started_the_ordinary_way(tmp_path):
    other = tmp_path / "python"
    other.symlink_to("/bin/sh")
    assert kernels._forkable([str(other), "-m", "ipykernel_launcher", "-f", "c.json"]) is None
    assert kernels._forkable([sys.executable, "-m", "something_else"]) is None
    assert kernels._forkable([sys.executable, "-O", "-m", "ipykernel_launcher", "-f", "c.json"]) is None
    assert kernels._forkable([sys.executable, "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "c.json"]) == [
        "-f",
        "c.json",
    ]


def _params(tmp_path: Path, **changes) -> Path:
    return demo_params(tmp_path, **changes)


_LEAK_PROBE = """\
import builtins, json, os, sys
import reportkit
seen = {
    "module attribute": getattr(reportkit, "_probe_left_by", None),
    "builtin": getattr(builtins, "_probe_left_by", None),
    "environment": os.environ.get("REPORTKIT_PROBE_LEFT_BY"),
    "sys.modules": "_probe_module" in sys.modules,
    "pid": os.getpid(),
}
reportkit._probe_left_by = account_manager_id
builtins._probe_left_by = account_manager_id
os.environ["REPORTKIT_PROBE_LEFT_BY"] = account_manager_id
sys.modules["_probe_module"] = reportkit
print("PROBE " + json.dumps(seen))
"""


def _probe_batch(tmp_path: Path, probe: str, ids: list[str], **options) -> list[dict]:
    """A one-worker batch of account managers ``ids`` whose template runs ``probe`` first; what each kernel printed.

    Returns the JSON each report's kernel printed after ``PROBE `` in its executed notebook, in report order.
    """
    out = tmp_path / "out"
    params = _params(tmp_path, account_managers=ids, reports=["account_manager"])
    result = run_batch(params, out, progress=False, template_dir=templates_with_cell(tmp_path, probe), jobs=1, **options)
    assert result.failed == 0 and result.ok == len(ids)
    return _printed_probes(out, [res.outputs["ipynb"] for res in result.reports])


def _printed_probes(out: Path, notebooks: list[str]) -> list[dict]:
    """The JSON each executed notebook's cells printed after ``PROBE ``, in the order of ``notebooks``."""
    seen = []
    for ipynb in notebooks:
        executed = nbformat.read(out / ipynb, as_version=4)
        text = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs)
        seen.append(json.loads(next(ln for ln in text.splitlines() if ln.startswith("PROBE "))[len("PROBE ") :]))
    return seen


@pytest.mark.parametrize("warm", [True, False], ids=["warm", "fresh"])
def test_state_set_by_one_report_never_reaches_another(tmp_path, warm):
    ids = ["AM-001", "AM-002", "AM-003"]
    seen = _probe_batch(tmp_path, _LEAK_PROBE, ids, warm_kernels=warm)
    assert [s["module attribute"] for s in seen] == [None] * len(ids)
    assert [s["builtin"] for s in seen] == [None] * len(ids)
    assert [s["environment"] for s in seen] == [None] * len(ids)
    assert [s["sys.modules"] for s in seen] == [False] * len(ids)
    assert len({s["pid"] for s in seen}) == len(ids)  # one process per report


_WORKER_FORK_PROBE = """\
import json, multiprocessing, os, sys, warnings
from threadpoolctl import threadpool_info
with warnings.catch_warnings(record=True) as caught:  # a named semaphore registers with the resource tracker
    warnings.simplefilter("always")
    multiprocessing.get_context("spawn").Lock()
warm = os.getppid()
with open(f"/proc/{warm}/stat") as f:
    worker = int(f.read().rsplit(")", 1)[1].split()[1])
def cmdline(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().replace(b"\\0", b" ").decode()
worker_cmd = cmdline(worker)
print("PROBE " + json.dumps({
    "warm": warm,
    "worker": worker,
    "worker is a pool worker": "forkserver" in worker_cmd,
    "warm process forked from it": cmdline(warm) == worker_cmd,
    "skipped modules": sorted(m for m, v in sys.modules.items() if v is None and m in {UNUSED}),
    "environment": {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "JE_ARROW_MALLOC_CONF")},
    "blas threads": sorted({i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}),
    "semaphore warnings": [str(w.message) for w in caught],
}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_report_workers_warm_process_is_forked_from_the_worker_and_its_kernels_inherit_none_of_its_settings(tmp_path):
    """A report worker forks its warm process from itself (``kernels.fork_warm_process``), before it
    skips the format checkers (``sys.modules`` entries of None) and with ``SINGLE_THREADED`` set only
    while it imports: the kernels see no skipped module, the batch's own environment, one BLAS thread,
    and the batch's resource tracker (a semaphore registers without its "relaunching" warning)."""
    from reportkit.run.startup import UNUSED_FORMAT_CHECKERS

    probe = _WORKER_FORK_PROBE.replace("{UNUSED}", repr(set(UNUSED_FORMAT_CHECKERS)))
    ids = ["AM-001", "AM-002"]
    # a batch process of its own, started without the two variables: a pool's forkserver keeps the environment of
    # its start, and a test before this one in the same process (Dask's nanny) may have set OPENBLAS_NUM_THREADS
    out = tmp_path / "out"
    params = _params(tmp_path, account_managers=ids, reports=["account_manager"])
    code = (
        "import json, sys\nfrom reportkit.run.batch import run_batch\n"
        f"r = run_batch({str(params)!r}, {str(out)!r}, progress=False, template_dir={str(templates_with_cell(tmp_path, probe))!r}, "
        "jobs=1, worker_processes=True, warm_kernels=True)\n"
        "print(json.dumps([r.failed, [res.outputs.get('ipynb') for res in r.reports]]))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "JE_ARROW_MALLOC_CONF")}
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    failed, notebooks = json.loads(run.stdout.strip().splitlines()[-1])
    assert failed == 0 and len(notebooks) == len(ids)
    seen = _printed_probes(out, notebooks)
    assert len({s["warm"] for s in seen}) == 1  # one worker, one warm process, forked from it
    assert [s["worker is a pool worker"] for s in seen] == [True, True]
    assert [s["warm process forked from it"] for s in seen] == [True, True]  # not ``python -m reportkit.run._warm``
    assert seen[0]["worker"] != os.getpid()
    assert [s["skipped modules"] for s in seen] == [[], []]
    expected = {"OPENBLAS_NUM_THREADS": None, "JE_ARROW_MALLOC_CONF": None}  # the batch's: set only while the worker imports
    assert [s["environment"] for s in seen] == [expected, expected]
    assert [s["blas threads"] for s in seen] == [[1], [1]]
    # the resource tracker's descriptor (multiprocessing.resource_tracker.getfd) is the one the warm process keeps
    assert [s["semaphore warnings"] for s in seen] == [[], []]


def test_a_process_with_another_thread_does_not_fork_a_warm_process():
    """``WarmProcess.start_forked`` forks only a process that runs one thread (a fork copies only
    the calling thread, and a lock another one held would stay locked); else it does nothing."""
    import threading

    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        wp = kernels.WarmProcess()
        assert wp.start_forked() is False
        assert wp._proc is None
    finally:
        stop.set()
        other.join()


_DYING_KERNEL_CONFIG = """\
import os
os.write(2, b"reportkit-test: this kernel cannot start\\n")
os._exit(3)
"""


def test_a_kernel_that_dies_before_it_is_ready_says_why_in_the_retry_warning_and_the_manifest(tmp_path):
    """A kernel whose IPython profile exits at start-up (``IPYTHONDIR``): its exit code and last stderr line
    reach the retry's warning on a ``-q`` batch's terminal and, the retry dying too, the report's error in
    the manifest; nbclient's own "Error occurred while starting new kernel client" does not reach the
    terminal, and no stderr file is left in ``.work/``. The command runs in a process of its own: a
    forkserver this test process started earlier would keep its workers' environment as it was."""
    profile = tmp_path / "ipython" / "profile_default"
    profile.mkdir(parents=True)
    (profile / "ipython_kernel_config.py").write_text(_DYING_KERNEL_CONFIG)
    params = _params(tmp_path, pdf={"enabled": False})
    tmp = Path(tempfile.mkdtemp(prefix="rk-kdeath-", dir="/tmp"))  # the forkserver's socket path fits AF_UNIX's
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "reportkit", "batch", str(params), "-o", str(out), "-q", "--no-cache", "--jobs", "1"]
    cmd += ["-p", "account_managers=AM-001", "-p", "reports=account_manager"]
    env = {**os.environ, "TMPDIR": str(tmp), "IPYTHONDIR": str(tmp_path / "ipython")}
    try:
        ran = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    assert ran.returncode == 1, ran.stderr[-2000:]
    why = "exit code 3; its stderr ended: reportkit-test: this kernel cannot start"
    manifest = json.loads((out / "manifest.json").read_text())
    errors = [(r["id"], r["status"], r["error"]) for r in manifest["reports"]]
    assert errors == [("AM-001", "failed", f"RuntimeError: Kernel died before replying to kernel_info ({why})")]
    assert f"kernel failed to start (Kernel died before replying to kernel_info ({why})); retrying" in ran.stderr
    assert "Error occurred while starting new kernel client" not in ran.stderr
    assert not list(out.glob(".work/kernel-*.stderr"))


def test_a_kernels_death_report_names_a_port_clash_and_a_kill(tmp_path):
    prov = kernels.WarmForkProvisioner(kernel_id="k")
    prov.stderr_path = str(tmp_path / "k.stderr")
    Path(prov.stderr_path).write_text("Traceback\n  ...\nzmq.error.ZMQError: Address already in use (addr='tcp://127.0.0.1:5')\n")

    class Ended(kernels._ForkedProcess):
        def __init__(self, code):
            self.code = code

        def poll(self):
            return self.code

    prov.process = Ended(1)
    report = prov.death_report()
    assert report.startswith("exit code 1; its stderr ended: Traceback | ... | zmq.error.ZMQError: Address already in use")
    assert "a port clash" in report
    prov.process = Ended(-signal.SIGKILL)
    assert "killed by SIGKILL" in prov.death_report() and "out-of-memory killer" in prov.death_report()


def test_the_kernel_start_stress_script_starts_kernels_from_several_warm_processes_and_counts_the_deaths():
    """``benchmarks/stress_kernel_starts.py`` (run by hand to catch a kernel dying before it is ready): at its
    smallest, two warm processes starting two kernels each at once, every start counted, none dead."""
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "stress_kernel_starts.py"), "--warm", "2", "--per", "2", "--rounds", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "4 kernel starts, 0 died before they were ready"
