"""A map over forked children of this process: a report worker's model fits on the cores its pool leaves idle.

A batch of fewer reports than the machine has cores keeps fewer report workers than
cores (``LocalPool.expect_reports``: a 1-report batch keeps one), and that worker makes
every model fit of the forecast the first report reads while the other cores idle.
:func:`forked_map` shares one task's fits with short-lived children forked from the
worker right there: a fork has the worker's imports (statsmodels, loaded by the worker's
first fit) and its BLAS limit at no cost, and it ends with its part of the fits, so it
outlives no task and needs no start-up of its own (a second report worker costs 2.5-3 s
of CPU: ``docs/batch.md``, "Session 15: the fixed cost's idle core"). A child sends its results back
pickled through a pipe (floats travel exactly), and a child that fails or dies leaves its
part to this process: the same results either way.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import time
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["MIN_SHARE", "MIN_WAIT_S", "WAIT_FACTOR", "forked_map"]

MIN_SHARE = 8
"""Fewest calls a share of :func:`forked_map` gets: a fork costs about 10-30 ms of CPU (its copy-on-write page
faults), a model fit 5-20 ms, so a task of a team's or the company's few fits runs here whole
(``benchmarks/bench_fits_split.py``: 24 fit tasks forked, 0.7 s of CPU over the 5.9 s of fits)."""


MIN_WAIT_S = 60.0
WAIT_FACTOR = 4.0
"""How long this process waits for its children once its own share is done: ``WAIT_FACTOR`` times
that share's wall time, at least ``MIN_WAIT_S`` seconds. A child still running then (hung, say on a
lock some thread of the worker held at the fork) is killed and its share made here: a slow box
costs time, never a result, and a hung child never hangs the batch."""


def forked_map(fn: Callable[..., Any], args: Sequence[tuple[Any, ...]], parts: int = 2) -> list[Any]:
    """``[fn(*a) for a in args]``, in ``parts`` shares run at once: this process and ``parts - 1`` forked children.

    The shares are interleaved (child ``k`` takes ``args[k::parts]``), so each gets a like
    mix of short and long calls when ``args`` comes sorted by kind (a fit's model). ``fn``
    must depend only on its arguments and what the process held at the fork (the
    forecast's fits: :data:`reportkit.domain.forecast_models.FitMap`) and return a
    picklable result. Without ``os.fork``, with fewer than :data:`MIN_SHARE` calls a share
    (so ``parts`` is lowered, down to 1: no child), or when a fork fails, the calls run here, in order.
    """
    args = list(args)
    parts = min(parts, len(args) // MIN_SHARE)
    if parts < 2 or not hasattr(os, "fork"):
        return [fn(*a) for a in args]
    children = [_fork(fn, args[k::parts]) for k in range(1, parts)]
    out: list[Any] = [None] * len(args)
    started = time.monotonic()
    try:
        out[0::parts] = [fn(*a) for a in args[0::parts]]
    finally:  # also when this share raised: no child is left unwaited for, nor waited for without end
        deadline = time.monotonic() + max(MIN_WAIT_S, WAIT_FACTOR * (time.monotonic() - started))
        got = [_collect(child, len(args[k::parts]), deadline) if child else None for k, child in enumerate(children, start=1)]
    for k, share in enumerate(got, start=1):
        out[k::parts] = share if share is not None else [fn(*a) for a in args[k::parts]]  # the child failed: made here
    return out


def _fork(fn: Callable[..., Any], share: list[tuple[Any, ...]]) -> tuple[int, int] | None:
    """A child that runs ``fn`` over ``share`` and writes the pickled results to a pipe: (pid, the pipe's read end)."""
    read, write = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read)
        os.close(write)
        return None
    if pid == 0:  # the child: never returns, never runs the parent's exit handlers or flushes its buffers
        code = 1
        try:
            os.close(read)
            data = pickle.dumps([fn(*a) for a in share], protocol=pickle.HIGHEST_PROTOCOL)
            with open(write, "wb") as pipe:
                pipe.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    return pid, read


def _collect(child: tuple[int, int], n: int, deadline: float) -> list[Any] | None:
    """The ``n`` results a child of :func:`_fork` sent, None when it failed (its exit status, or not ``n`` results).

    A child that has not sent them all by ``deadline`` (``time.monotonic()``) is killed: None.
    """
    pid, read = child
    chunks: list[bytes] = []
    with open(read, "rb", buffering=0) as pipe:
        while True:
            ready, _, _ = select.select([pipe], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:  # past the deadline: the child is taken for hung
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                break
            chunk = pipe.read(1 << 20)
            if not chunk:  # the child closed its end: all it sent is here
                break
            chunks.append(chunk)
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:  # reaped elsewhere: a whole pickle of n results is the child's whole work
        status = 0
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        return None
    try:
        got = pickle.loads(b"".join(chunks))
    except Exception:  # a truncated pickle: the child died while writing
        return None
    return got if isinstance(got, list) and len(got) == n else None
