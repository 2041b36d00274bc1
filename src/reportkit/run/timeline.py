"""A batch's timeline: when each step of each process starts and ends, logged only when asked for.

With the environment variable ``REPORTKIT_TIMELINE`` set to a file path, the batch
process and every report worker append one JSON line per step to that file::

    {"what": "build", "pid": 4121, "t0": 1765030000.12, "t1": 1765030000.19, "cpu": 0.07, "kind": "account_manager", "id": "AM-0001"}

``t0`` / ``t1`` are wall-clock seconds since the epoch (``time.time()``, the clock
Papermill stamps each cell with, so the cells' own ``start_time`` / ``end_time`` in
the executed notebooks line up with these); ``cpu`` is the CPU seconds of the logging
process (``time.process_time()``) during the step, not its kernel's. Each line is one
``write`` on a file opened for appending, so lines of concurrent processes never mix.
Without the variable every call is a no-op costing one dictionary lookup, so the
stamps stay in the code of a timed run. A report's steps in a worker are stamped to the
file its :class:`reportkit.run.execute.ReportJob` names (``timeline``: the batch
process's variable when it built the job), since a worker keeps the environment its
process pool's forkserver started with; a Dask worker writes to that path on its own
machine (the shared folder, say). A worker's own start is stamped only when its
environment had the variable. ``benchmarks/bench_timeline.py`` reads the
file and the notebooks and prints (or plots) the batch's timeline (docs/batch.md,
"The batch's timeline").
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from typing import Any

__all__ = ["TIMELINE_ENV", "span", "stamp"]

TIMELINE_ENV = "REPORTKIT_TIMELINE"


def stamp(
    what: str, t0: float, t1: float | None = None, cpu: float | None = None, *, to: str | None = None, **fields: Any
) -> None:
    """Append one step (``what`` from ``t0`` to ``t1``, default now) to the timeline file, when one is set.

    Parameters
    ----------
    what : str
        The step, e.g. ``"build"``, ``"execute"``, ``"manifest"``.
    t0, t1 : float
        Wall-clock seconds (``time.time()``).
    cpu : float, optional
        CPU seconds of this process during the step.
    to : str, optional
        The timeline file (``""``: none); default ``REPORTKIT_TIMELINE``.
    **fields
        Anything that names the step (``kind``, ``id``); must be JSON-serialisable.
    """
    path = os.environ.get(TIMELINE_ENV) if to is None else to
    if not path:
        return
    line = {"what": what, "pid": os.getpid(), "t0": t0, "t1": time.time() if t1 is None else t1}
    if cpu is not None:
        line["cpu"] = round(cpu, 4)
    line.update(fields)
    data = (json.dumps(line, default=str) + "\n").encode("utf-8")
    with contextlib.suppress(OSError):  # a timeline that cannot be written never fails a batch
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)


@contextlib.contextmanager
def span(what: str, *, to: str | None = None, **fields: Any) -> Iterator[None]:
    """Stamp the ``with`` block as one step (:func:`stamp`); does nothing without a timeline file (``to``)."""
    if not (os.environ.get(TIMELINE_ENV) if to is None else to):
        yield
        return
    t0, c0 = time.time(), time.process_time()
    try:
        yield
    finally:
        stamp(what, t0, cpu=time.process_time() - c0, to=to, **fields)
