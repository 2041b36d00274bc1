"""A report worker's model fits shared with children it forks: the same floats and records, no child left behind.

A batch of fewer reports than cores keeps fewer report workers than cores; the forecast's
fits, which its first report waits for, are then shared between the worker and children it
forks (``run/forked.py``, ``LocalPool._fit_parts``; docs/batch.md, "Session 15: the fixed cost's idle core").
"""

from __future__ import annotations

import os
import time
from concurrent.futures import Future

import numpy as np
import pandas as pd
import psutil
import pytest
from test_fit_cache import _every_record, _series

from reportkit.domain.forecast_models import ModelInputs, fit_cache, fit_models
from reportkit.run import forked, local
from reportkit.run.forked import MIN_SHARE, forked_map


def _ten_series() -> ModelInputs:
    """Ten entities, 30 months each (seasonal), the three models: 30 fits."""
    rng = np.random.default_rng(7)
    months = np.arange(30)
    y = np.array([1e5 * (k + 1) + 2e4 * np.sin(months * np.pi / 6 + k) + rng.normal(0, 5e3, 30) for k in range(10)])
    return ModelInputs(tuple(f"E{k}" for k in range(10)), y, np.zeros(10), 7, ("ets", "theta", "arima"))


@pytest.fixture
def forks(monkeypatch) -> list[int]:
    """The pids of the children forked from now on (os.fork still forks)."""
    made: list[int] = []
    real = os.fork

    def counted() -> int:
        pid = real()
        if pid:
            made.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", counted)
    return made


@pytest.mark.parametrize("parts", [2, 3])
def test_fits_shared_with_forked_children_are_the_same_floats_and_the_same_cache_records(tmp_path, parts, forks):
    inputs = _ten_series()
    here = fit_models(inputs, fit_cache(tmp_path / "here"))
    assert forks == []
    shared = fit_models(inputs, fit_cache(tmp_path / "shared"), fit_map=lambda fn, args: forked_map(fn, args, parts))
    assert len(forks) == parts - 1
    pd.testing.assert_frame_equal(shared, here, check_exact=True)
    assert here["ets_remaining_cents"].notna().all()
    ours = {p.relative_to(tmp_path / "here"): p.read_bytes() for p in _every_record(fit_cache(tmp_path / "here"))}
    theirs = {p.relative_to(tmp_path / "shared"): p.read_bytes() for p in _every_record(fit_cache(tmp_path / "shared"))}
    assert len(ours) == 30 and theirs == ours


def _fit_or_die_in_a_child(parent: int, how: str, x: int) -> int:
    if os.getpid() != parent:
        if how == "exit":
            os._exit(3)
        raise RuntimeError("a fit that fails in the child")
    return x * x


@pytest.mark.parametrize("how", ["exit", "raise"])
def test_a_child_that_dies_or_fails_leaves_its_share_to_this_process(how, forks):
    args = [(os.getpid(), how, x) for x in range(30)]
    assert forked_map(_fit_or_die_in_a_child, args, 3) == [x * x for x in range(30)]
    assert len(forks) == 2


def _hang_in_a_child(parent: int, x: int) -> int:
    if os.getpid() != parent:
        time.sleep(3600)  # a child stuck (on a lock held at the fork, say)
    return x * x


def test_a_hung_child_is_killed_after_the_wait_and_its_share_made_here(monkeypatch):
    monkeypatch.setattr(forked, "MIN_WAIT_S", 0.5)
    me = psutil.Process()
    before = {c.pid for c in me.children()}
    started = time.monotonic()
    assert forked_map(_hang_in_a_child, [(os.getpid(), x) for x in range(20)], 2) == [x * x for x in range(20)]
    assert time.monotonic() - started < 30
    assert {c.pid for c in me.children()} == before


def test_no_forked_child_outlives_the_map_also_when_this_process_share_raises():
    me = psutil.Process()
    before = {c.pid for c in me.children()}

    def square_or_fail_here(parent: int, x: int) -> int:
        if os.getpid() == parent and x == 0:
            raise ValueError("this process's share failed")
        return x * x

    assert forked_map(lambda x: x + 1, [(x,) for x in range(20)], 2) == list(range(1, 21))
    with pytest.raises(ValueError, match="share failed"):
        forked_map(square_or_fail_here, [(os.getpid(), x) for x in range(20)], 2)
    assert {c.pid for c in me.children()} == before


def test_one_part_or_fewer_calls_than_two_shares_forks_nothing(monkeypatch):
    def no_fork():
        raise AssertionError("forked")

    monkeypatch.setattr(os, "fork", no_fork)
    many = [(x,) for x in range(3 * MIN_SHARE)]
    assert forked_map(lambda x: -x, many, 1) == [-x for x in range(3 * MIN_SHARE)]
    assert forked_map(lambda x: -x, many[: 2 * MIN_SHARE - 1], 4) == [-x for x in range(2 * MIN_SHARE - 1)]


class _Recording:
    def __init__(self) -> None:
        self.kwargs: list[dict] = []

    def submit(self, fn, /, *args, **kwargs):
        self.kwargs.append(kwargs)
        f: Future = Future()
        f.set_result(None)
        return f


def test_a_pool_with_fewer_workers_than_cores_shares_each_fit_task_with_forked_children(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    pool = local.LocalPool(jobs=2, warm=False, processes=True)
    try:
        pool.expect_reports(1)  # a 1-report batch keeps one worker on 2 cores
        assert pool._fit_parts() == 2
        pool.expect_reports(56)  # two workers fill the two cores
        assert pool._fit_parts() == 1
    finally:
        pool.close()
    rec = _Recording()
    for parts in (2, 1):
        local._FitExecutor(rec, local._FitsQueued(), lambda parts=parts: parts).submit(fit_models, _series())
    shared, alone = rec.kwargs
    assert shared["fit_map"].func is forked_map and shared["fit_map"].keywords == {"parts": 2}
    assert alone == {}
    assert local.LocalPool(jobs=1, warm=False, processes=False).fit_executor() is None  # threads: fits stay here
