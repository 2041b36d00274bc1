"""Pre-warmed, single-use Jupyter kernels: forked from a process that already imported pandas.

A fresh ``python -m ipykernel_launcher`` spends most of its start-up importing
(ipykernel, IPython, pandas, matplotlib, reportkit): about 1.5 s on a 2-core machine,
paid again by every report of a batch. Here kernel processes are forked instead from
a *warm* process (:mod:`reportkit.run._warm`) that imported those modules once and never
started a kernel, a thread or a ZeroMQ context. Each forked kernel is still a
separate, single-use process that runs one report and exits, so no state of one
report can reach another; only the imported modules are shared, copy-on-write.

It plugs into jupyter_client's own interfaces:

* :class:`WarmForkProvisioner` is a kernel provisioner (a ``LocalProvisioner``) that,
  instead of ``Popen(kernel_cmd)``, asks the warm process for a child running ipykernel
  with the same connection file and arguments;
* :class:`WarmKernelManager` is an ``AsyncKernelManager`` that uses that provisioner;
  Papermill / nbclient take it as ``kernel_manager_class``.

Only a kernel spec that runs *this* interpreter's ``ipykernel_launcher`` is forked
(another environment's Python, say, starts the ordinary way), and only where
``os.fork`` exists (Linux, macOS): :func:`warm_kernels_available`.

The child's standard streams go to the null device (ipykernel sends what a cell prints
to the notebook as usual); it starts its own session (``setsid``), so an interrupt or a
kill reaches it and its children only; and it watches the warm process as its parent:
when the batch process ends, the warm process's input closes, it ends and kills its
kernels, and a kernel that survived sees its parent gone and exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import importlib
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from queue import Empty
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner
from traitlets import DottedObjectName, Type, default

from . import _warm

__all__ = [
    "PRELOAD",
    "SHARED",
    "WarmForkProvisioner",
    "WarmKernelManager",
    "WarmProcess",
    "fork_warm_process",
    "kernel_deaths",
    "start_warm_process",
    "warm_kernels_available",
    "warm_process",
]

PRELOAD: tuple[str, ...] = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "ipykernel.debugger",
    "IPython.core.interactiveshell",
    "IPython.core.oinspect",
    "IPython.core.completer",
    "IPython.core.completerlib",
    "IPython.core.debugger",
    "IPython.core.logger",
    "IPython.extensions.storemagic",
    "tornado.platform.asyncio",
    "zmq.utils.garbage",
    "faulthandler",
    "runpy",
    "importlib.resources.readers",
    "psutil",
    "pdb",
    "numpy",
    "pandas",
    "pyarrow",
    "pyarrow.pandas_compat",
    "matplotlib",
    "matplotlib.figure",
    "matplotlib.backends.backend_agg",
    "matplotlib.backends.backend_svg",
    "matplotlib_inline.backend_inline",
    "reportkit.render.notebook",
    "reportkit.render.charts",
    "reportkit.reports.builders",
)
"""Modules the warm process imports once, before any kernel is forked from it.

What the bundled templates import, plus the kernel machinery: every module a forked
kernel imported itself while it ran an account manager's report (its start-up's
IPython and tornado modules, the SVG backend of a chart's print copy, pyarrow's pandas
shim, ZeroMQ's zero-copy sender; about 6 ms of CPU per kernel, ``docs/batch.md``). A module that fails to
import is skipped (the kernel imports it itself, as a fresh kernel would). Importing
must not start threads that hold locks or a ZeroMQ context; none of these does.
"""

_LAUNCHER = "ipykernel_launcher"
_INTERPRETER_OPTIONS = ("-Xfrozen_modules=off",)
"""Interpreter options of the warm process: what ``ipykernel install`` writes into a kernel
spec (for the debugger). A kernel command with other interpreter options is not forked."""


SHARED: tuple[str, ...] = ("numpy", "pyarrow", "pandas", "reportkit.reports.builders")
"""What a report worker imports before it forks its warm process (:func:`fork_warm_process`): modules
of :data:`PRELOAD` that the worker imports for itself too, with this module's jupyter_client, ZeroMQ and
traitlets. Nothing here imports jsonschema, starts a thread or opens a ZeroMQ context."""


def warm_kernels_available() -> bool:
    """True where kernels can be forked from a warm process (needs ``os.fork``: Linux, macOS)."""
    return _warm.forking_available()


def fork_warm_process() -> bool:
    """In a new report worker: import :data:`SHARED`, then fork the worker's warm process from itself; True if forked.

    The warm process then has the worker's imports for nothing and imports only the rest of
    :data:`PRELOAD` (ipykernel, IPython, matplotlib): about 1.5 s of CPU less per worker than a
    warm process of its own interpreter (``docs/batch.md``, "Session 16"). Called first thing in
    the worker, before it has run anything of a report or started a thread; the imports run with
    :data:`reportkit.run._warm.SINGLE_THREADED` set, as in a warm process of its own (no BLAS
    thread pool, no allocator thread), and the variables are taken out of the worker's
    environment again after the fork (the kernels' environments are as before). Where this
    process has another thread by then, or cannot fork, nothing is forked (False) and the warm
    process starts as its own interpreter (:meth:`WarmProcess.start`).
    """
    if not warm_kernels_available():
        return False
    added = [k for k in _warm.SINGLE_THREADED if k not in os.environ]
    os.environ.update({k: _warm.SINGLE_THREADED[k] for k in added})
    try:
        for name in SHARED:
            with contextlib.suppress(Exception):  # as the warm process's own preload: the kernel imports it itself
                importlib.import_module(name)
        return warm_process().start_forked()
    finally:
        for k in added:
            os.environ.pop(k, None)


def _one_thread() -> bool:
    """This process runs one thread (Python's count and, on Linux, the kernel's ``/proc/self/task``)."""
    counts = _warm._threads()
    return counts["threads"] == 1 and counts["tasks"] in (None, 1)


class _ForkedServer:
    """The ``Popen``-like handle :class:`WarmProcess` keeps of a warm process this process forked
    (:func:`reportkit.run._warm.fork_server`): its requests' and replies' pipes, ``poll``, ``wait``, ``kill``."""

    def __init__(self, pid: int, requests: int, replies: int) -> None:
        self.pid = pid
        self.stdin = os.fdopen(requests, "wb")
        self.stdout = os.fdopen(replies, "rb")
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere: gone
                self.returncode = -1
            else:
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("reportkit warm process", timeout or 0.0)
            time.sleep(0.01)
        return code

    def kill(self) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)


class WarmProcess:
    """Client of one warm process (:mod:`reportkit.run._warm`): fork requests and exit codes.

    Thread-safe: report threads ask for kernels at the same time. If the warm process
    dies, every kernel it forked is reported as ended (code -1) and the next request
    starts a new warm process.
    """

    def __init__(self, preload: tuple[str, ...] = ()) -> None:
        self.preload = tuple(preload) or PRELOAD
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._ids = itertools.count(1)
        self._replies: dict[int, dict[str, Any]] = {}
        self._exits: dict[int, int] = {}
        self._mine: set[int] = set()
        self._proc: subprocess.Popen | _ForkedServer | None = None

    def start(self) -> None:
        """Start the warm process (idempotent); its imports then run while the caller works."""
        with self._lock:
            self._start_locked()

    def start_forked(self) -> bool:
        """Fork this process into the warm process (:func:`reportkit.run._warm.fork_server`); False, doing nothing,
        where a warm process runs already or this process has another thread (:func:`fork_warm_process`).

        The child keeps, of this process's descriptors, only multiprocessing's resource tracker's (shared by
        every process of a batch), so a kernel's semaphore registers with it as a worker's would.
        """
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                return False
            if not _one_thread():
                return False
            from multiprocessing import resource_tracker

            keep = (resource_tracker.getfd(),)
            pid, requests, replies = _warm.fork_server(list(self.preload), keep)
            self._proc = _ForkedServer(pid, requests, replies)
            threading.Thread(target=self._read, args=(self._proc,), name="reportkit-warm", daemon=True).start()
            return True

    def _start_locked(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        self._proc = subprocess.Popen(
            [sys.executable, *_INTERPRETER_OPTIONS, "-m", "reportkit.run._warm", *self.preload],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            close_fds=True,
            start_new_session=True,  # a ^C in the terminal is the batch's to handle
        )
        threading.Thread(target=self._read, args=(self._proc,), name="reportkit-warm", daemon=True).start()

    def _read(self, proc: subprocess.Popen) -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            msg = json.loads(raw)
            with self._cond:
                if "exit" in msg:
                    self._exits[msg["exit"]] = msg["code"]
                else:
                    self._replies[msg["id"]] = msg
                self._cond.notify_all()
        with self._cond:  # the warm process is gone, and its kernels with it
            for pid in self._mine:
                self._exits.setdefault(pid, -1)
            self._cond.notify_all()

    def fork(
        self, argv: list[str], cwd: str | None, env: dict[str, str], timeout: float = 60.0, stderr: str | None = None
    ) -> int:
        """Fork a kernel running ipykernel with ``argv``, its standard error into the file ``stderr``; return its pid.

        Raises
        ------
        RuntimeError
            The warm process did not answer within ``timeout`` seconds or could not fork.
        """
        with self._cond:
            self._start_locked()
            proc = self._proc
            assert proc is not None and proc.stdin is not None
            rid = next(self._ids)
            proc.stdin.write((json.dumps({"id": rid, "argv": argv, "cwd": cwd, "env": env, "stderr": stderr}) + "\n").encode())
            proc.stdin.flush()
            if not self._cond.wait_for(lambda: rid in self._replies or proc.poll() is not None, timeout):
                raise RuntimeError(f"the warm kernel process did not answer within {timeout:g} s")
            msg = self._replies.pop(rid, None)
            if msg is None or "pid" not in msg:
                raise RuntimeError((msg or {}).get("error") or "the warm kernel process ended")
            self._mine.add(msg["pid"])
            return int(msg["pid"])

    def exitcode(self, pid: int) -> int | None:
        """The exit code of a forked kernel (negative: killed by that signal), None while it runs."""
        with self._cond:
            return self._exits.get(pid)

    def wait(self, pid: int, timeout: float | None = None) -> int | None:
        with self._cond:
            self._cond.wait_for(lambda: pid in self._exits, timeout)
            return self._exits.get(pid)

    def close(self) -> None:
        """End the warm process (its kernels end with it)."""
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is not None:
            assert proc.stdin is not None
            proc.stdin.close()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


_default: WarmProcess | None = None
_default_lock = threading.Lock()


def warm_process() -> WarmProcess:
    """The process-wide :class:`WarmProcess` (created on first use, not started)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = WarmProcess()
        return _default


def start_warm_process() -> WarmProcess:
    """Start the process-wide warm process now, so its imports overlap other work."""
    wp = warm_process()
    wp.start()
    return wp


def _same_interpreter(executable: str) -> bool:
    try:
        return os.path.samefile(executable, sys.executable)
    except OSError:
        return False


def _forkable(cmd: list[str]) -> list[str] | None:
    """The ipykernel arguments of ``cmd`` when it runs this interpreter's launcher, else None.

    Interpreter options before ``-m`` must be among those the warm process runs with
    (``_INTERPRETER_OPTIONS``: ``-Xfrozen_modules=off``, which ``ipykernel install``
    writes for the debugger); any other option means a kernel the warm process
    cannot stand in for.
    """
    if not cmd or not _same_interpreter(cmd[0]):
        return None
    i = 1
    while i < len(cmd) and cmd[i] in _INTERPRETER_OPTIONS:
        i += 1
    if cmd[i : i + 2] == ["-m", _LAUNCHER]:
        return list(cmd[i + 2 :])
    return None


class _ForkedProcess:
    """The ``Popen``-like handle LocalProvisioner expects, over a kernel forked by the warm process."""

    stdin = stdout = stderr = None

    def __init__(self, warm: WarmProcess, pid: int) -> None:
        self._warm = warm
        self.pid = pid

    def poll(self) -> int | None:
        return self._warm.exitcode(self.pid)

    def wait(self, timeout: float | None = None) -> int | None:
        return self._warm.wait(self.pid, timeout)

    def send_signal(self, signum: int) -> None:
        # like Popen.send_signal: a process known to have ended is not signalled
        # (its pid may already belong to another process)
        if self.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):  # ended, and the warm process has not said so yet
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


_KNOWN_DEATHS: tuple[tuple[str, str], ...] = (
    (
        "Address already in use",
        "a port clash: another process bound the port jupyter_client had picked for this kernel"
        " (the batch starts such a report once more in a fresh kernel)",
    ),
    ("MemoryError", "out of memory: fewer --jobs, or a machine with more memory"),
    ("SIGKILL", "killed from outside, e.g. by the system's out-of-memory killer: fewer --jobs"),
)
"""Causes of a kernel's death before it was ready, as its stderr or exit names them, and what they mean."""


def _stderr_path(cwd: Any, kernel_id: str | None) -> str:
    """Where a forked kernel's standard error goes: the batch's ``.work/`` folder when the kernel
    starts in a report folder that has one, else the temporary directory."""
    import tempfile

    work = os.path.join(str(cwd), ".work") if cwd else ""
    folder = work if work and os.path.isdir(work) else tempfile.gettempdir()
    return os.path.join(folder, f"kernel-{kernel_id or _new_id()}.stderr")


def _tail(path: str | None, lines: int = 3, limit: int = 400) -> str:
    """The last ``lines`` non-blank lines of the file ``path`` (its last 4 KiB), joined with `` | ``."""
    if not path:
        return ""
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.fstat(f.fileno()).st_size - 4096))
            data = f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    text = " | ".join([line.strip() for line in data.splitlines() if line.strip()][-lines:])
    return text if len(text) <= limit else "..." + text[-limit:]


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


_DEATHS: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("reportkit_kernel_deaths", default=None)
"""Where :meth:`WarmForkProvisioner.cleanup` puts the death report of a kernel that died (:func:`kernel_deaths`)."""


@contextlib.contextmanager
def kernel_deaths() -> Iterator[list[str]]:
    """Collect, in this context, how each forked kernel that died ended (:meth:`WarmForkProvisioner.death_report`).

    A report's execution runs inside it (``run/execute.py``): when nbclient says only that the
    kernel died (``DeadKernelError``), the report's error adds the exit code or signal, the last
    lines of the kernel's standard error and, for a known cause, what it means. nbclient's event
    loop runs in the calling thread, so its tasks see this context's list.

    Yields
    ------
    list of str
        One line per kernel that ended with a non-zero code or a signal, in the order they were
        cleaned up (the last is the report's own kernel; an earlier one, a start that was retried).
    """
    deaths: list[str] = []
    token = _DEATHS.set(deaths)
    try:
        yield deaths
    finally:
        _DEATHS.reset(token)


class WarmForkProvisioner(LocalProvisioner):  # type: ignore[misc]
    """A local provisioner whose kernel process is forked from the warm process.

    Falls back to :class:`LocalProvisioner`'s ``Popen`` when the kernel command is
    not this interpreter's ``ipykernel_launcher`` or forking is unavailable.
    """

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        argv = _forkable(cmd) if warm_kernels_available() else None
        if argv is None:
            return await super().launch_kernel(cmd, **kwargs)
        warm = warm_process()
        env = {str(k): str(v) for k, v in (kwargs.get("env") or os.environ).items()}
        cwd = kwargs.get("cwd")
        self.stderr_path = _stderr_path(cwd, self.kernel_id)
        pid = warm.fork(argv, str(cwd) if cwd else None, env, stderr=self.stderr_path)
        self.process = _ForkedProcess(warm, pid)
        self.pid = pid
        self.pgid = pid  # the child calls setsid(); until then killpg fails and the pid is signalled
        self.cwd = cwd
        km = self.parent
        if km is not None:
            self.ip = km.ip
        return self.connection_info

    stderr_path: str | None = None
    """The file the forked kernel's standard error goes to (removed with the kernel, :meth:`cleanup`)."""

    exit_code: int | None = None
    """The forked kernel's exit code (negative: the signal), kept when first seen: :meth:`wait` lets go of the
    process before :meth:`cleanup` reads it."""

    async def poll(self) -> int | None:
        """LocalProvisioner's poll; the first exit code seen is kept (:attr:`exit_code`)."""
        code = await super().poll()
        if code is not None and self.exit_code is None and isinstance(self.process, _ForkedProcess):
            self.exit_code = code
        return code

    def death_report(self) -> str:
        """Why the forked kernel ended, in one line: its exit code or signal, the last lines of its
        standard error and, for a known cause, what it means; empty while it runs or if not forked.

        Read when a kernel died before it was ready (:class:`WarmKernelClient`) and, at the kernel's
        cleanup, when it ended with a non-zero code (:func:`kernel_deaths`), so a healthy kernel's
        cost is the file's creation and removal.
        """
        # the process's own code while jupyter_client holds it (a process ends once), else the one kept
        code = self.process.poll() if isinstance(self.process, _ForkedProcess) else self.exit_code
        if code is None:
            return ""
        parts = [f"killed by {_signal_name(-code)}" if code < 0 else f"exit code {code}"]
        tail = _tail(self.stderr_path)
        if tail:
            parts.append(f"its stderr ended: {tail}")
        text = " ".join(parts)
        parts += [hint for cause, hint in _KNOWN_DEATHS if cause in text]
        return "; ".join(parts)

    async def cleanup(self, restart: bool = False) -> None:
        """LocalProvisioner's cleanup, and the kernel's standard-error file removed.

        A kernel that ended with a non-zero code or a signal first (a death, not the end a
        shutdown request gives) leaves its :meth:`death_report` to whoever watches
        (:func:`kernel_deaths`): the report's error then says how it died.
        """
        deaths = _DEATHS.get()
        if deaths is not None and self.exit_code:
            report = self.death_report()
            if report:
                deaths.append(report)
        await super().cleanup(restart)
        if self.stderr_path:
            with contextlib.suppress(OSError):
                os.unlink(self.stderr_path)

    async def wait(self) -> int | None:
        """Wait for the kernel to end; as LocalProvisioner's, polling every 10 ms, not 100 ms.

        The exit is known the moment the warm process reports it, so polling costs a
        dictionary lookup; a report then hands its worker to the next one sooner.
        """
        if not isinstance(self.process, _ForkedProcess):
            return await super().wait()
        while self.process.poll() is None:
            await asyncio.sleep(0.01)
        ret = self.process.poll()
        if self.exit_code is None:
            self.exit_code = ret
        self.process = None
        return ret


class WarmKernelClient(AsyncKernelClient):  # type: ignore[misc]
    """jupyter_client's ``AsyncKernelClient`` with a shorter wait at the end of ``wait_for_ready``.

    jupyter_client's ``wait_for_ready`` ends by draining the IOPub channel until it has
    been quiet for 0.2 s, which every report pays once, idle, after its kernel is
    ready (about a fifth of a forked kernel's start). The drain is only there so that
    start-up messages do not reach the first execution, and nbclient ignores any IOPub
    message whose parent is not the request it is waiting for, so a 20 ms quiet period
    is enough here. Everything else -- the kernel_info handshake, the check that IOPub
    is connected (so no output of the first cell is lost), dead-kernel detection and the
    timeout -- is jupyter_client's own logic, unchanged: ``_async_wait_for_ready`` below is
    jupyter_client 8.x's (pinned ``jupyter_client>=8.6,<9`` in pyproject.toml and
    environment.yml) with the drain's quiet period as a parameter.

    Measured (``benchmarks/bench_internals.py``, forked kernels, 2 shared cores): ready in
    0.21 s against 0.38 s with jupyter_client's ``AsyncKernelClient``, 0.16 s saved per
    report; ``tests/test_kernels.py`` runs code and reads its output through this client.
    """

    drain_quiet_s = 0.02
    reconnect_ivl_ms = 5
    """ZeroMQ's first retry of a connection the kernel refused (it had not bound its ports yet), in ms.

    The client connects its channels as soon as the kernel is forked, some 30-60 ms before the
    kernel has bound its sockets; ZeroMQ's default retry after a refused connection is 100 ms
    (``ZMQ_RECONNECT_IVL``), so the kernel_info reply waited on that retry while the kernel had
    used 0.065 s of CPU. Retrying after 5 ms (backing off to 100 ms, ``ZMQ_RECONNECT_IVL_MAX``,
    so a dead kernel is not polled faster than before): a forked kernel ready 0.073 s after its
    launch instead of 0.134 s on a quiet 2-core box (medians of 25 starts, three rounds
    alternated; ``docs/batch.md``, "Session 17: a forked kernel ready sooner").
    ``tests/test_kernels.py`` pins the options.
    """

    @default("context")
    def _fast_reconnect_context(self) -> Any:
        import zmq

        ctx = super()._context_default()  # the client's own context (jupyter_client creates one per client)
        ctx.setsockopt(zmq.RECONNECT_IVL, self.reconnect_ivl_ms)  # a default for the sockets it creates
        ctx.setsockopt(zmq.RECONNECT_IVL_MAX, 100)
        return ctx

    async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.time() + (float("inf") if timeout is None else timeout)
        while True:
            self.kernel_info()
            try:
                msg = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                pass
            else:
                if msg["msg_type"] == "kernel_info_reply":
                    try:  # IOPub is connected once it delivers a message (the status of this request)
                        await self.iopub_channel.get_msg(timeout=0.2)
                    except Empty:
                        pass
                    else:
                        self._handle_kernel_info_reply(msg)
                        break
            if not await self._async_is_alive():
                raise RuntimeError(f"Kernel died before replying to kernel_info{self._death_report()}")
            if time.time() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")
        while True:
            try:
                await self.iopub_channel.get_msg(timeout=self.drain_quiet_s)
            except Empty:
                break

    def _death_report(self) -> str:
        """`` (exit code 1; its stderr ended: ...)`` for a forked kernel (:meth:`WarmForkProvisioner.death_report`), else ''."""
        provisioner = getattr(self.parent, "provisioner", None)
        report = provisioner.death_report() if isinstance(provisioner, WarmForkProvisioner) else ""
        return f" ({report})" if report else ""

    wait_for_ready = _async_wait_for_ready  # AsyncKernelClient binds the name to the base method


class WarmKernelManager(AsyncKernelManager):  # type: ignore[misc]
    """An ``AsyncKernelManager`` whose kernels come from :class:`WarmForkProvisioner`.

    Pass it to Papermill as ``kernel_manager_class=WarmKernelManager`` (nbclient's
    trait of that name). The kernel spec, connection file, ports and shutdown are the
    ordinary jupyter_client ones; its clients are :class:`WarmKernelClient`, and it
    notices a kernel's exit within 10 ms instead of 100 ms.
    """

    client_class = DottedObjectName("reportkit.run.kernels.WarmKernelClient", config=True)
    client_factory = Type(default_value=WarmKernelClient, klass=AsyncKernelClient, config=True)

    async def _async_wait(self, pollinterval: float = 0.1) -> None:
        # jupyter_client polls a shutting-down kernel every 100 ms; a forked kernel's
        # exit is known as soon as the warm process reports it, so look every 10 ms.
        # Measured (benchmarks/bench_internals.py): shutdown 0.02 s against 0.11 s, 0.09 s
        # saved per report; tests/test_kernels.py checks the shutdown leaves no process.
        await super()._async_wait(pollinterval=min(pollinterval, 0.01))

    async def _async_pre_start_kernel(self, **kw: Any) -> Any:
        if self.provisioner is None:
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", None) or _new_id()
            self.provisioner = WarmForkProvisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self)
        return await super()._async_pre_start_kernel(**kw)


def _new_id() -> str:
    import uuid

    return str(uuid.uuid4())
