"""The cache of model fits: the same figures cold and warm, a changed series misses, bad records are not trusted.

A fit is kept under the SHA-256 of what it depends on (``forecast_models.fit_key``: the
model, the scaled series, the horizon, the module's code, the libraries' versions), in a
record ``core.cache.ContentCache`` checks before it trusts it.
"""

from __future__ import annotations

import dataclasses
import datetime
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
from conftest import build_dataset
from demo_params import DEMO, demo_params
from test_backtest_executor import AMS, three_seasonal_years

from reportkit.config.params import BatchParams
from reportkit.core.cache import CACHE_ENV, ContentCache, default_cache_dir
from reportkit.domain import forecast_models
from reportkit.domain.backtest import backtest_forecasts
from reportkit.domain.forecast_models import fit_cache, fit_models, model_inputs

KEY = bytes(range(32))


def _every_record(cache: ContentCache) -> list[Path]:
    return [p for p in cache.root.rglob("*") if p.is_file()]


def _no_fit_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("a model was fitted although the cache holds every fit")

    monkeypatch.setattr(forecast_models, "_fit", refuse)


def _counting_fits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the history length (months) of every fit made from now on."""
    made: list[int] = []
    real = forecast_models._fit

    def fit(ys, h, method):
        made.append(len(ys))
        return real(ys, h, method)

    monkeypatch.setattr(forecast_models, "_fit", fit)
    return made


def test_a_backtest_with_a_cold_then_a_warm_cache_has_the_uncached_backtests_every_row(tmp_path, monkeypatch):
    ds = three_seasonal_years()
    uncached = backtest_forecasts(ds)
    cache = fit_cache(tmp_path)
    cold = backtest_forecasts(ds, fit_cache=cache)
    assert len(_every_record(cache)) > 0
    _no_fit_allowed(monkeypatch)  # warm: every fit is read
    warm = backtest_forecasts(ds, fit_cache=cache)
    assert uncached["forecast_remaining_cents"].notna().any() and {"ets", "theta", "arima"} <= set(uncached["method"])
    pd.testing.assert_frame_equal(cold, uncached, check_exact=True)
    pd.testing.assert_frame_equal(warm, uncached, check_exact=True)


def test_a_late_deal_refits_only_the_series_it_changes_and_earlier_cutoffs_still_hit(tmp_path, monkeypatch):
    ds = three_seasonal_years()
    cache = fit_cache(tmp_path)
    made = _counting_fits(monkeypatch)
    backtest_forecasts(ds, fit_cache=cache)
    cold = len(made)
    late = build_dataset(
        ams=AMS,
        deals=[*_rows(ds), ("LATE-1", "A1", "C0", "2023-05-20", 123_45)],  # one more deal in May 2023
        first_month=1,
    )
    made.clear()
    again = backtest_forecasts(late, fit_cache=cache)
    assert 0 < len(made) < cold / 2
    may_2023 = (2023 - 2021) * 12 + 5  # months of history that include May 2023
    assert min(made) >= may_2023  # the cutoffs before the deal read their fits from the cache
    monkeypatch.undo()
    pd.testing.assert_frame_equal(again, backtest_forecasts(late), check_exact=True)


def _rows(ds) -> list[tuple]:
    d = ds.deals
    return [
        (r.deal_id, r.account_manager_id, r.account_id, pd.Timestamp(r.close_date).date().isoformat(), int(r.amount_cents))
        for r in d.itertuples()
    ]


@pytest.mark.parametrize(
    "damage",
    ["truncated", "one byte changed", "another key's record", "not a record", "empty"],
)
def test_a_damaged_record_is_a_miss_never_trusted(tmp_path, damage):
    cache = ContentCache(tmp_path, "t")
    cache.put(KEY, b"payload of the first key")
    other = bytes(reversed(KEY))
    cache.put(other, b"payload of the other key")
    path = cache.path(KEY)
    data = path.read_bytes()
    path.write_bytes(
        {
            "truncated": data[:-5],
            "one byte changed": data[:40] + bytes([data[40] ^ 1]) + data[41:],
            "another key's record": cache.path(other).read_bytes(),
            "not a record": b"hello",
            "empty": b"",
        }[damage]
    )
    assert cache.get(KEY) is None
    cache.put(KEY, b"payload of the first key")  # the caller's result is written over it
    assert cache.get(KEY) == b"payload of the first key"


def test_a_corrupt_fit_is_fitted_again_with_the_same_figures_and_its_record_rewritten(tmp_path):
    ds = three_seasonal_years()
    cache = fit_cache(tmp_path)
    cold = backtest_forecasts(ds, fit_cache=cache)
    records = _every_record(cache)
    for p in records[:5]:
        p.write_bytes(p.read_bytes()[:-1] + b"!")
    again = backtest_forecasts(ds, fit_cache=cache)
    pd.testing.assert_frame_equal(again, cold, check_exact=True)
    for p in records[:5]:
        key = bytes.fromhex(p.parent.name + p.name)
        assert cache.get(key) is not None


def test_a_cache_folder_that_cannot_be_written_leaves_the_figures_as_they_are(tmp_path):
    blocked = tmp_path / "a file, not a folder"
    blocked.write_text("")
    ds = three_seasonal_years()
    pd.testing.assert_frame_equal(backtest_forecasts(ds, fit_cache=fit_cache(blocked)), backtest_forecasts(ds), check_exact=True)


def _fit_into(folder: str) -> pd.DataFrame:
    return fit_models(_series(), fit_cache(folder))


def _series():
    ds = three_seasonal_years()
    rev = pd.DataFrame(
        {
            "entity": ds.deals["account_manager_id"].astype("str"),
            "close_date": ds.deals["close_date"],
            "micros": ds.deals["amount_cents"].astype("int64") * 10_000,
        }
    )
    return model_inputs(
        rev, ["A1", "A2", "A3"], 2023, datetime.date(2023, 6, 30), ds.calendar, history_start=datetime.date(2021, 1, 1)
    )


def test_concurrent_writers_of_one_cache_leave_only_whole_records_and_agree(tmp_path):
    with ProcessPoolExecutor(4, mp_context=multiprocessing.get_context("forkserver")) as pool:
        frames = list(pool.map(_fit_into, [str(tmp_path)] * 8))
    alone = fit_models(_series())
    for f in frames:
        pd.testing.assert_frame_equal(f, alone, check_exact=True)
    cache = fit_cache(tmp_path)
    records = _every_record(cache)
    assert len(records) == 9  # 3 entities x 3 models, each written whole (no temporary file left)
    assert all(cache.get(bytes.fromhex(p.parent.name + p.name)) is not None for p in records)


def test_a_changed_series_a_changed_horizon_or_model_is_another_key():
    s = _series()
    y = s.y[0] / abs(s.y[0]).mean()
    key = forecast_models.fit_key(y, s.h, "ets")
    bumped = y.copy()
    bumped[3] += 1e-9
    assert forecast_models.fit_key(y.copy(), s.h, "ets") == key
    assert len({key, forecast_models.fit_key(bumped, s.h, "ets"), forecast_models.fit_key(y, s.h + 1, "ets"),
                forecast_models.fit_key(y, s.h, "theta")}) == 4  # fmt: skip


def _params(tmp_path: Path, **extra) -> BatchParams:
    return BatchParams(source="s.yaml", period="FY2025-Q4", as_of="2025-12-31", base_dir=tmp_path, **extra)


def test_params_cache_dir_null_turns_the_cache_off_and_a_set_one_is_read_beside_the_params(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "from-env"))
    assert _params(tmp_path, cache_dir=None).cache_folder() is None
    assert _params(tmp_path, cache_dir="fits").cache_folder() == (tmp_path / "fits").resolve()
    assert _params(tmp_path).cache_folder() == tmp_path / "from-env"
    monkeypatch.delenv(CACHE_ENV)
    assert _params(tmp_path).cache_folder() == default_cache_dir()


def test_reportkit_batch_no_cache_reaches_the_batch(tmp_path, monkeypatch):
    from reportkit.cli import main
    from reportkit.run import batch as batch_mod
    from reportkit.run.batch import BatchResult

    seen = {}

    def fake_run_batch(params, out, **kwargs):
        seen.update(kwargs)
        return BatchResult(Path(out), Path(out) / "manifest.json", Path(out) / "index.html", [])

    monkeypatch.setattr(batch_mod, "run_batch", fake_run_batch)
    params = tmp_path / "p.yaml"
    params.write_text("")
    assert main(["batch", str(params), "-o", str(tmp_path / "o"), "-q", "--no-cache"]) == 0
    assert seen["cache"] is False
    assert main(["batch", str(params), "-o", str(tmp_path / "o"), "-q"]) == 0
    assert seen["cache"] is True


def test_the_cache_folder_defaults_to_the_users_cache_folder_of_reportkit():
    assert default_cache_dir().name == "reportkit" and os.path.isabs(default_cache_dir())


@pytest.mark.skipif(not DEMO.exists(), reason="params/demo.yaml not present")
def test_a_batch_fits_in_its_report_workers_and_cold_warm_or_off_publishes_the_same_figures(tmp_path, monkeypatch):
    from reportkit.run.batch import run_batch

    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    one = {"account_managers": ["AM-001"], "reports": ["account_manager"]}
    params = demo_params(tmp_path, **one)
    _no_fit_allowed(monkeypatch)  # in this process, the batch's: its fits run in the report workers
    cold = run_batch(params, tmp_path / "cold", progress=False, jobs=2, worker_processes=True)
    records = {p: p.stat().st_ino for p in _every_record(fit_cache(tmp_path / "cache"))}  # a rewrite is a new file
    assert cold.ok == 1 and records  # the workers kept what they fitted
    warm = run_batch(params, tmp_path / "warm", progress=False, jobs=1, worker_processes=False)
    assert warm.ok == 1  # in threads every fit would be made here: none was, all were read
    assert {p: p.stat().st_ino for p in _every_record(fit_cache(tmp_path / "cache"))} == records  # read (touched), none rewritten
    monkeypatch.undo()
    (tmp_path / "off").mkdir()
    off_params = demo_params(tmp_path / "off", cache_dir=None, **one)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "never"))
    off = run_batch(off_params, tmp_path / "off" / "out", progress=False, jobs=1, worker_processes=False)
    assert off.ok == 1 and not (tmp_path / "never").exists()
    figures = {run: (tmp_path / run / "figures.json").read_bytes() for run in ("cold", "warm", "off/out")}
    assert figures["cold"] == figures["warm"] == figures["off/out"]
    html = {run: (tmp_path / run / cold.reports[0].outputs["html"]).read_bytes() for run in ("cold", "warm", "off/out")}
    assert html["cold"] == html["warm"] == html["off/out"]


def _hierarchies(ds, tmp_path: Path, cache: ContentCache | None) -> list:
    """A batch context's three forecast frames (this year, next year, the company's backtest rows)."""
    from reportkit.reports.context import report_context, shared_contexts

    params = BatchParams(source="s.yaml", period="FY2023-Q4", as_of="2023-12-31", base_dir=tmp_path)
    with shared_contexts(fit_cache=cache):
        ctx = report_context(ds, params, params.period, params.as_of)
        ctx.forecast_hierarchy(ds)
        return [ctx.forecast_cache[k] for k in ("hierarchy", "next_hierarchy", "accuracy_evidence")]


def _same_frames(got: list, want: list) -> None:
    for g, w in zip(got, want, strict=True):
        pd.testing.assert_frame_equal(g, w, check_exact=True)
        for c in w.columns:  # a Decimal's digits, a date's type: what a report prints
            assert [repr(x) for x in g[c]] == [repr(x) for x in w[c]], c


def test_a_warm_batch_context_reads_its_forecast_hierarchies_and_a_late_deal_recomputes_them(tmp_path, monkeypatch):
    from reportkit.reports import context

    ds = three_seasonal_years()
    uncached = _hierarchies(ds, tmp_path, None)
    assert uncached[0]["forecast"].notna().all() and uncached[1] is not None and len(uncached[2])
    cache = fit_cache(tmp_path / "cache")
    cold = _hierarchies(ds, tmp_path, cache)
    backtests = []
    real = context.hierarchy_evidence
    monkeypatch.setattr(context, "hierarchy_evidence", lambda *a, **k: backtests.append(1) or real(*a, **k))
    warm = _hierarchies(ds, tmp_path, cache)
    _same_frames(cold, uncached)
    _same_frames(warm, uncached)
    assert backtests == []  # read, not computed: no backtest ran
    late = ds.deals.iloc[[-1]].assign(deal_id="D-late", amount_cents=12_345)
    changed = dataclasses.replace(ds, deals=pd.concat([ds.deals, late], ignore_index=True))
    _hierarchies(changed, tmp_path, cache)
    assert backtests == [1]  # another deal, another key: computed
