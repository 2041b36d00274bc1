"""The backtest's model fits in an executor: the same rows as fitting them here, and only the small series cross."""

from __future__ import annotations

import multiprocessing
import pickle
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import pandas as pd
from conftest import build_dataset

from reportkit.domain.backtest import backtest_forecasts, forecast_hierarchy, hierarchy_evidence
from reportkit.domain.forecast_models import ModelInputs

AMS = [("A1", "Alice", "East", None, None), ("A2", "Bob", "East", None, None), ("A3", "Carol", "West", None, None)]


def three_seasonal_years():
    """Three account managers, a deal a month each for three calendar years, higher in Q4 and growing."""
    deals = []
    for y in (2021, 2022, 2023):
        for m in range(1, 13):
            for k, am in enumerate(("A1", "A2", "A3")):
                cents = (1000 + 300 * (m >= 10) + 97 * m * (k + 1) + 211 * (y - 2021)) * 100 + 37 * k
                deals.append((f"D{y}{m:02d}{am}", am, f"C{k}", f"{y}-{m:02d}-{10 + 5 * k:02d}", cents))
    return build_dataset(ams=AMS, deals=deals, first_month=1)


class RecordingExecutor(ThreadPoolExecutor):
    """A thread pool that keeps what was submitted to it."""

    def __init__(self) -> None:
        super().__init__(max_workers=2)
        self.submitted: list[tuple] = []

    def submit(self, fn, /, *args, **kwargs):
        self.submitted.append(args)
        return super().submit(fn, *args, **kwargs)


class BrokenPool:
    """An executor whose every fit fails because its worker died (or that refuses work outright)."""

    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse

    def submit(self, fn, /, *args, **kwargs):
        if self.refuse:
            raise BrokenProcessPool("a worker died")
        f: Future = Future()
        f.set_running_or_notify_cancel()
        f.set_exception(BrokenProcessPool("a worker died"))
        return f


def test_the_backtest_fitted_in_worker_processes_has_the_serial_backtests_every_row():
    ds = three_seasonal_years()
    serial = backtest_forecasts(ds)
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("forkserver")) as pool:
        pooled = backtest_forecasts(ds, executor=pool)
    assert serial["forecast_remaining_cents"].notna().any()
    assert set(serial["method"]) >= {"ets", "theta", "arima", "selected", "reconciled"}
    pd.testing.assert_frame_equal(pooled, serial, check_exact=True)


def test_only_each_levels_monthly_series_is_sent_to_the_executor_never_the_data_set():
    ds = three_seasonal_years()
    ex = RecordingExecutor()
    with ex:
        pooled = backtest_forecasts(ds, executor=ex)
    assert ex.submitted and all(len(a) == 1 and isinstance(a[0], ModelInputs) for a in ex.submitted)
    for (task,) in ex.submitted:  # the series and a few names: its pickle is its arrays and little else
        assert len(pickle.dumps(task)) < task.y.nbytes + task.mtd.nbytes + 2048
    pd.testing.assert_frame_equal(pooled, backtest_forecasts(ds), check_exact=True)


def test_a_broken_pool_leaves_the_fits_to_this_process_with_the_same_rows():
    ds = three_seasonal_years()
    serial = backtest_forecasts(ds)
    for pool in (BrokenPool(), BrokenPool(refuse=True)):
        pd.testing.assert_frame_equal(backtest_forecasts(ds, executor=pool), serial, check_exact=True)


def test_the_hierarchy_from_revenues_credited_once_equals_the_one_that_credits_the_cut_data():
    import datetime

    from reportkit.domain.forecast_inputs import level_revenues

    ds = three_seasonal_years()
    as_of = datetime.date(2023, 8, 31)
    revs = level_revenues(ds)
    detail = hierarchy_evidence(ds, as_of, revenues=revs)
    pd.testing.assert_frame_equal(detail, hierarchy_evidence(ds, as_of), check_exact=True)
    pd.testing.assert_frame_equal(
        forecast_hierarchy(ds, 2023, as_of, detail=detail, revenues=revs), forecast_hierarchy(ds, 2023, as_of), check_exact=True
    )


def test_shared_contexts_offer_the_callers_executor_inside_the_block_only():
    from reportkit.reports.context import fit_executor, shared_contexts

    with ThreadPoolExecutor(1) as ex:
        assert fit_executor() is None
        with shared_contexts(fit_executor=ex):
            assert fit_executor() is ex
            with shared_contexts():  # a nested block without one keeps the outer block's
                assert fit_executor() is ex
        assert fit_executor() is None
