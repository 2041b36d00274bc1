"""What reportkit's own processes do first: leave out imports that cost CPU and serve no report.

Called by the processes reportkit starts and owns -- the ``reportkit`` command
(:func:`reportkit.cli.main`) and each report worker (:func:`worker_init`, the pool's
initializer: this module imports nothing heavy, so unpickling it in a new worker runs
this before anything imports nbformat) -- never on import, so a caller's process (a
notebook calling ``run_batch``) keeps its state.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

__all__ = ["ORPHANED_EXIT_CODE", "UNUSED_FORMAT_CHECKERS", "end_with_the_batch", "skip_unused_format_checkers", "worker_init"]

ORPHANED_EXIT_CODE = 75
"""A report worker's exit code when the batch process that started it ended first (:func:`end_with_the_batch`)."""

UNUSED_FORMAT_CHECKERS = (
    "rfc3987_syntax",  # iri, iri-reference: builds a Lark grammar on import, 1.2-1.6 s of CPU
    "rfc3986_validator",  # uri, uri-reference
    "rfc3339_validator",  # date-time
    "isoduration",  # duration (imports arrow)
    "webcolors",  # color
    "uri_template",  # uri-template
    "fqdn",  # hostname
    "jsonpointer",  # json-pointer, relative-json-pointer
)
"""The optional libraries jsonschema's format checkers import when installed (jupyter-events'
``jsonschema[format-nongpl]`` brings them), kept out of reportkit's own processes: nothing
else in them imports these (checked over the environment's packages), and notebooks are
validated without a format checker, so no check is lost. Not ``idna``: httpx, anyio and
requests import it too."""


def skip_unused_format_checkers() -> None:
    """Keep jsonschema from importing its optional format checkers (:data:`UNUSED_FORMAT_CHECKERS`) in this process.

    nbformat validates notebooks with jsonschema, which on import loads each format
    checker's library that is installed: ``rfc3987_syntax`` alone builds a Lark grammar
    (1.2-1.6 s of CPU in every process that reads a notebook, about a third of a batch's
    start-up), the others cost about 0.06 s together. nbformat's validator is made
    without a format checker and no notebook schema names these formats, so notebooks
    validate exactly as before. Does nothing once jsonschema is imported (its checkers
    are then fixed); a library already loaded is left as it is.
    """
    if "jsonschema" in sys.modules:
        return
    for name in UNUSED_FORMAT_CHECKERS:
        if name not in sys.modules:
            sys.modules[name] = None  # type: ignore[assignment]  # `import` raises ImportError: skipped


def end_with_the_batch() -> bool:
    """In a process of a multiprocessing pool: exit when the process that started it ends, even killed.

    A report worker waits for its next report on the pool's call queue, which never
    reaches end-of-file while the worker holds the queue's other end itself; so a batch
    process that died without shutting its pool down (``kill -9``, the out-of-memory
    killer, a crash of the interpreter) left its workers waiting for ever, and with them
    each worker's warm kernel process, PDF renderer, the forkserver and the resource
    tracker. A daemon thread waits on ``multiprocessing.parent_process().sentinel`` (the
    pipe the batch process holds open while it lives: public API, every start method)
    and ends the worker with ``os._exit(ORPHANED_EXIT_CODE)``. The worker's own children
    then see their input close and end too (the warm process kills its kernels, the
    renderer closes its browser), and the forkserver and resource tracker end with their
    last client. A normal shutdown is unchanged: the batch process joins its workers
    before it lets go of the pipe.

    Returns
    -------
    bool
        ``True`` when the watch started, ``False`` in a process with no parent process
        (the main process).
    """
    import multiprocessing
    from multiprocessing.connection import wait

    parent = multiprocessing.parent_process()
    if parent is None:
        return False
    sentinel = parent.sentinel

    def watch() -> None:
        wait([sentinel])
        os._exit(ORPHANED_EXIT_CODE)

    threading.Thread(target=watch, name="reportkit-end-with-the-batch", daemon=True).start()
    return True


def worker_init(*args: object) -> None:
    """A report worker's initializer: ignore ^C, fork its warm process (with warm kernels,
    :func:`reportkit.run.kernels.fork_warm_process`), :func:`end_with_the_batch`,
    :func:`skip_unused_format_checkers`, then :func:`reportkit.run.local._worker_init`.

    The warm process is forked before the format checkers are skipped (``sys.modules`` entries a
    kernel must not inherit: a template may import those libraries) and before the worker imports
    nbformat or starts a thread (:func:`end_with_the_batch`'s watch, its PDF renderer, its warm
    process's reader): the fork is taken only while the worker runs one thread.

    ^C is ignored before anything is imported: a worker spends a second or more of its
    start importing nbformat, Papermill and the renderers, and a ^C there raised
    ``KeyboardInterrupt`` in the initializer, which the pool printed ("Exception in
    initializer" and its traceback) before the batch's own message. The batch process
    alone decides what an interrupt means (``docs/batch.md``, "Workers, like kernels, ignore the terminal's ^C").
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from .timeline import span

    with span("worker start"):
        if args and args[0]:  # warm kernels: the warm process is forked from this worker, before anything else
            from .kernels import fork_warm_process

            fork_warm_process()
        end_with_the_batch()  # a thread: after the fork, which needs this process single-threaded
        skip_unused_format_checkers()
        from .local import _worker_init  # imports nbformat: after the line above

        _worker_init(*args)  # type: ignore[arg-type]
