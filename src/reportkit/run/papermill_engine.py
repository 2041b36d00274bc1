"""How a template is run through Papermill: the batch's Papermill engine and the kernel-start retry.

:func:`execute_notebook` is ``papermill.execute_notebook`` with the engine
registered by :func:`register_engine` (Papermill's nbclient engine writing the
executing notebook less often) and one retry when the kernel failed to *start*.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

__all__: list[str] = []

log = logging.getLogger(__name__)

_ENGINE = "reportkit"
_SAVE_EVERY_S = 10.0
_engine_lock = threading.Lock()
_engine_registered = False


def register_engine() -> str:
    """Register (once) the Papermill engine the batch runs templates with; return its name.

    It is Papermill's own nbclient engine except for how often the executing notebook
    is written to disk: Papermill writes it at the start and the end of every cell;
    this engine writes it at the start, at most every ``_SAVE_EVERY_S`` seconds while
    cells run, and once at the end: when the cells ran (a cell error included),
    ``papermill.execute_notebook``'s own last write, after the engine returns; when the
    engine raised (a dead kernel, a timeout), Papermill's ``notebook_complete``, which runs
    in a ``finally``. What ends up on disk is the same (``tests/test_batch.py`` runs a
    notebook through both engines and compares).

    Measured (``benchmarks/bench_internals.py``, demo account-manager template, 2 shared
    cores): 0.88 s per report against 0.95 s with Papermill's stock engine, 0.07 s (7 %)
    saved; more for notebooks with more cells or larger embedded charts.

    ``published_as=(input_name, output_path)``, a keyword of this engine (Papermill hands
    unknown keywords of ``execute_notebook`` to the engine), puts those two paths into the
    notebook's ``papermill`` metadata before the first cell runs, in place of the absolute
    ones Papermill wrote there: every later write is then the notebook as it is published
    (relative paths only), so publishing it is a rename, not one more serialisation
    (:func:`reportkit.run.execute._publish_notebook`).

    It uses only Papermill's engine extension point (an ``Engine`` subclass overriding
    ``execute_managed_notebook``, registered in ``papermill_engines``) and
    ``NotebookExecutionManager.save``, as documented for papermill 2.x (pinned
    ``papermill>=2.6,<3`` in pyproject.toml and environment.yml).
    """
    from papermill.engines import NBClientEngine, papermill_engines

    global _engine_registered
    with _engine_lock:
        if _engine_registered:
            return _ENGINE

        class _Engine(NBClientEngine):  # type: ignore[misc]
            @classmethod
            def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, **kwargs: Any) -> Any:
                published_as = kwargs.pop("published_as", None)
                if published_as is not None:
                    meta = nb_man.nb.metadata.papermill
                    meta["input_path"], meta["output_path"] = published_as
                save = nb_man.save
                last = time.monotonic()

                def save_now_and_then(**kw: Any) -> None:
                    nonlocal last
                    if time.monotonic() - last >= _SAVE_EVERY_S:
                        last = time.monotonic()
                        save(**kw)

                nb_man.save = save_now_and_then  # what the cell hooks call while cells run
                try:
                    executed = super().execute_managed_notebook(nb_man, kernel_name, **kwargs)
                except BaseException:
                    del nb_man.save  # Papermill's notebook_complete, run next, writes the notebook as it stopped
                    raise
                # The cells ran (a cell error stops them without raising here): papermill's
                # execute_notebook writes the final notebook once the engine returns (with its
                # error banner after a cell error), so notebook_complete's write of the same
                # notebook just before that one is skipped.
                nb_man.save = lambda **kw: None
                return executed

        papermill_engines.register(_ENGINE, _Engine)
        logging.getLogger("papermill").addFilter(_said_by_the_retry)
        _engine_registered = True
        return _ENGINE


def _said_by_the_retry(record: logging.LogRecord) -> bool:
    """A logging filter: drop nbclient's "Error occurred while starting new kernel client" (logged through
    Papermill's logger, at ERROR, even in a ``-q`` batch) unless that logger is at DEBUG (``--debug``).

    The same error reaches the user once, in reportkit's words and with the kernel's exit and last
    stderr lines: :func:`execute_with_retry`'s warning when the report is retried, the report's error in
    the manifest when the retry fails too.
    """
    if not str(record.msg).startswith("Error occurred while starting new kernel client"):
        return True
    return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


def _is_kernel_start_failure(exc: BaseException) -> bool:
    """A kernel that never came up (port clash, slow start), as opposed to a cell error or a hang."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        return False
    text = f"{type(exc).__name__}: {exc}"
    return "Address already in use" in text or "died before replying to kernel_info" in text


def execute_with_retry(*args: Any, attempts: int = 2, **kwargs: Any) -> Any:
    """``papermill.execute_notebook``, retried once when the kernel failed to *start*.

    Starting several kernels at once can race for the same ZeroMQ port
    (jupyter_client picks free ports before the kernel binds them); such a report is
    started again in a fresh kernel. Cell errors and timeouts are never retried.
    """
    import papermill as pm

    for attempt in range(1, attempts + 1):
        try:
            return pm.execute_notebook(*args, **kwargs)
        except Exception as exc:
            if attempt == attempts or not _is_kernel_start_failure(exc):
                raise
            log.warning("kernel failed to start (%s); retrying in a fresh kernel", exc)
