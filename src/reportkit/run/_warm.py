"""The warm process: imports the heavy modules once, then forks a kernel per request.

Started by :mod:`reportkit.run.kernels` as ``python -m reportkit.run._warm`` with two pipes:
requests arrive on standard input, replies leave on the original standard output
(kept on a private descriptor; the real fd 1 goes to the null device so nothing an
imported module prints can corrupt the protocol). One JSON object per line:

* request ``{"id": N, "argv": [...], "cwd": "...", "env": {...}, "stderr": "..."}``: fork a
  child that runs ``ipykernel`` with ``argv`` (the arguments after ``-m ipykernel_launcher``),
  its standard error into the file ``stderr`` (optional; else the null device);
  reply ``{"id": N, "pid": PID, "threads": T, "tasks": K}`` (or ``{"id": N, "error": "..."}``),
  where ``T`` is ``threading.active_count()`` and ``K`` the number of the process's
  kernel tasks (``/proc/self/task``; None off Linux) just before the fork: both 1, as
  ``tests/test_kernels.py`` checks, since a thread of this process would not exist in
  the child and any lock it held there would stay locked;
* when a child ends: ``{"exit": PID, "code": CODE}`` (a negative code is the signal).

This process never starts a kernel, a ZeroMQ context or a thread itself, so a fork of
it is as clean as a fresh interpreter that happens to have the modules imported. It
ignores ^C (the batch process decides what an interrupt means) and ends, taking its
kernels with it, when its standard input closes -- that is, when the batch process
ends, however it ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import sys
import threading


def _kernel_main(
    argv: list[str], cwd: str | None, env: dict[str, str], protocol_fds: tuple[int, ...], stderr: str | None = None
) -> int:
    """Body of a forked kernel: what ``python -m ipykernel_launcher ARGV`` would do.

    ``stderr`` is the file its standard error goes to (created, truncated): what a kernel that
    dies before it is ready printed last is then there for the batch process to quote
    (:meth:`reportkit.run.kernels.WarmForkProvisioner.death_report`); otherwise, or where it
    cannot be opened, the null device, as standard input and output.
    """
    for fd in protocol_fds:
        os.close(fd)
    os.setsid()  # its own process group: an interrupt or kill reaches this kernel only
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    if stderr:
        with contextlib.suppress(OSError):  # no file: no tail to quote, the kernel starts all the same
            err = os.open(stderr, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
            os.dup2(err, 2)
            os.close(err)
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.environ.clear()
    os.environ.update(env)
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    if "matplotlib" in sys.modules and "matplotlib.pyplot" not in sys.modules:
        # matplotlib read MPLBACKEND when this process imported it; a template using
        # pyplot must get the inline backend, as in a fresh kernel
        sys.modules["matplotlib"].rcParams["backend"] = os.environ["MPLBACKEND"]
    if cwd:
        os.chdir(cwd)
        sys.path[0] = cwd  # ``python -m`` puts the start directory first
    sys.argv = ["ipykernel_launcher", *argv]
    from ipykernel.kernelapp import IPKernelApp

    # The parent is this warm process, which ends with the batch process: ipykernel's
    # parent poller then ends the kernel too.
    IPKernelApp.launch_instance([*argv, f"--IPKernelApp.parent_handle={os.getppid()}"])
    return 0


SINGLE_THREADED = {
    "OPENBLAS_NUM_THREADS": "1",  # numpy's OpenBLAS starts a thread pool when imported
    "JE_ARROW_MALLOC_CONF": "background_thread:false",  # pyarrow's jemalloc starts a background thread
}
"""Environment that keeps the native libraries of :data:`reportkit.run.kernels.PRELOAD` from
starting threads when imported. Set in this process before it imports them: a fork copies
only the calling thread, so this process must have no other. Its kernels inherit the
libraries as configured here (single-threaded BLAS: ``--jobs`` kernels run at once, one
per core, so a thread pool per kernel would only oversubscribe the cores)."""


def _preload(modules: list[str]) -> None:
    for name in modules:
        with contextlib.suppress(Exception):
            __import__(name)


def _warm_up() -> None:
    """Fill the caches a first chart fills (font files, PNG writer plugins) once, here.

    Runs plain matplotlib drawing code: no thread, no kernel, nothing a report sees
    except that its first chart is about 0.2 s faster.
    """
    if "matplotlib.backends.backend_agg" not in sys.modules:
        return
    try:
        import io

        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(1, 1))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        ax.set_title("0")
        ax.bar([0], [1])
        fig.savefig(io.BytesIO(), format="png")
    except Exception:
        pass


def _threads() -> dict[str, int | None]:
    """This process's threads: Python's count, and the kernel's (Linux ``/proc/self/task``; None elsewhere)."""
    try:
        tasks: int | None = len(os.listdir("/proc/self/task"))
    except OSError:
        tasks = None
    return {"threads": threading.active_count(), "tasks": tasks}


def serve(modules: list[str]) -> None:
    """Import ``modules``, then serve fork requests until standard input closes."""
    out_fd = os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 1)
    os.close(devnull)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.update(SINGLE_THREADED)
    _preload(modules)
    _warm_up()

    out = os.fdopen(out_fd, "w", buffering=1, encoding="utf-8")
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    children: set[int] = set()
    pending = b""

    def reply(obj: dict) -> None:
        out.write(json.dumps(obj) + "\n")

    def reap() -> None:
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            children.discard(pid)
            reply({"exit": pid, "code": os.waitstatus_to_exitcode(status)})

    def fork(req: dict) -> None:
        threads = _threads()
        try:
            pid = os.fork()
        except OSError as exc:
            reply({"id": req["id"], "error": f"fork failed: {exc}"})
            return
        if pid == 0:
            code = 1
            try:
                fds = (0, out_fd, wake_r, wake_w)
                code = _kernel_main(req["argv"], req.get("cwd"), req["env"], fds, req.get("stderr"))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 0
            except BaseException:
                code = 1
                with contextlib.suppress(BaseException):  # into the stderr file: the reason a kernel died
                    import traceback

                    os.write(2, traceback.format_exc().encode(errors="replace"))
            finally:
                os._exit(code)
        children.add(pid)
        reply({"id": req["id"], "pid": pid, **threads})

    sel = selectors.DefaultSelector()
    sel.register(0, selectors.EVENT_READ)
    sel.register(wake_r, selectors.EVENT_READ)
    try:
        while True:
            for key, _ in sel.select():
                if key.fileobj == wake_r:
                    with contextlib.suppress(BlockingIOError):
                        os.read(wake_r, 4096)
                    reap()
                    continue
                data = os.read(0, 1 << 16)
                if not data:
                    return
                pending += data
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if line.strip():
                        fork(json.loads(line))
                reap()
    finally:
        for pid in children:  # the batch process is gone: so are its kernels
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)


def forking_available() -> bool:
    """True where this process can fork a warm process or a kernel (``os.fork``: Linux, macOS)."""
    return hasattr(os, "fork") and sys.platform != "win32"


def fork_server(modules: list[str], keep: tuple[int, ...] = ()) -> tuple[int, int, int]:
    """Fork this process into a warm process that imports ``modules`` and serves fork requests.

    For a report worker, whose own imports (pandas, reportkit, jupyter_client) are most of a warm
    process's: the child has them for nothing, copy-on-write, and imports the rest (ipykernel,
    IPython, matplotlib). The caller must have no other thread (a fork copies only the calling
    one) and must not have run anything of a report. The child is what ``python -m
    reportkit.run._warm`` is: its own session, requests on fd 0, replies on fd 1, standard error
    on the null device, and no other descriptor of the caller's but ``keep`` (the pipes of the
    worker's pool stay the worker's). Returns the child's pid, the descriptor to write its requests
    to and the one to read its replies from.
    """
    req_r, req_w = os.pipe()
    rep_r, rep_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child; tests/test_kernels.py checks what it does
        code = 1
        try:
            os.setsid()  # as start_new_session=True: a ^C in the terminal is the batch's to handle
            signal.set_wakeup_fd(-1)
            os.dup2(req_r, 0)
            os.dup2(rep_w, 1)
            devnull = os.open(os.devnull, os.O_RDWR)
            os.dup2(devnull, 2)
            _close_fds_but(0, 1, 2, *keep)
            serve(modules)
            code = 0
        finally:
            os._exit(code)
    os.close(req_r)
    os.close(rep_w)
    return pid, req_w, rep_r


def _close_fds_but(*keep: int) -> None:
    """Close every descriptor of this process except ``keep``.

    Where ``/proc/self/fd`` lists them (Linux), only the open ones are closed: ``closerange`` up
    to ``SC_OPEN_MAX`` loops over every number on a kernel without ``close_range`` (Linux < 5.9),
    and some containers allow a billion descriptors.
    """
    try:
        open_fds = [int(fd) for fd in os.listdir("/proc/self/fd")]
    except OSError:
        open_fds = None
    if open_fds is not None:
        for fd in open_fds:
            if fd not in keep:
                with contextlib.suppress(OSError):  # the listing's own descriptor, closed already
                    os.close(fd)
        return
    low = 0
    for fd in sorted(set(keep)):
        if fd > low:
            os.closerange(low, fd)
        low = max(low, fd + 1)
    os.closerange(low, os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 65536)


if __name__ == "__main__":
    serve(sys.argv[1:])
