"""Backtest: no look-ahead, WAPE arithmetic, and the default beating seasonal naive on real data."""

from __future__ import annotations

import datetime
from pathlib import Path

import pandas as pd
import pytest
from conftest import build_dataset
from datasets import DATA, SKIP_REASON

from reportkit.domain.backtest import (
    backtest_cutoffs,
    backtest_forecasts,
    bias,
    run_backtest,
    summarise_backtest,
    wape,
)
from reportkit.render.backtest import backtest_cli, format_summary, write_backtest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "params" / "sources"

realdata = [pytest.mark.realdata, pytest.mark.skipif(not DATA.is_dir(), reason=SKIP_REASON)]

# FY = calendar year. 2022: 100.00 a quarter; 2023: 200.00 a quarter (first deal 2022-01-01: full prior year)
ROWS = [
    ("A", "2022-01-01", 100_00),
    ("A", "2022-04-01", 100_00),
    ("A", "2022-07-01", 100_00),
    ("A", "2022-10-01", 100_00),
    ("A", "2023-01-01", 200_00),
    ("A", "2023-04-01", 200_00),
    ("A", "2023-07-01", 200_00),
    ("A", "2023-10-01", 200_00),
]


def dataset(rows=ROWS):
    return build_dataset(deals=[(f"D{i}", "A1", "C1", d, a) for i, (_, d, a) in enumerate(rows)], first_month=1)


def test_wape_and_bias_by_hand():
    assert wape([100, 50], [90, 70]) == pytest.approx(30 / 150)
    assert bias([100, 50], [90, 70]) == pytest.approx(10 / 150)
    assert pd.isna(wape([0, 0], [1, 2]))


def test_backtest_wape_hand_computed():
    # cutoff 2023-03-31: actual rest of year 600.00; LY_YTD 100, LY_rest 300, LY_total 400, YTD 200
    s = run_backtest(dataset(), levels=("company",), as_of_quarters=["FY2023-Q1"]).set_index(["scope", "method"])
    w = s.xs("with prior year")["wape"]
    assert w["seasonal_naive"] == pytest.approx(300 / 600)  # 300 vs 600
    assert w["seasonal"] == pytest.approx(0.0)  # 300 x 2 = 600
    assert w["blended"] == pytest.approx(225 / 600)  # 300 x (1 + 100/400) = 375
    assert w["run_rate"] == pytest.approx(abs(600 - 200 * 275 / 90) / 600, abs=1e-4)  # 90 days elapsed, 275 left
    assert s.xs("with prior year")["bias"]["seasonal_naive"] == pytest.approx(-0.5)
    assert bool(s.loc[("with prior year", "blended"), "beats_baseline"])


def test_no_look_ahead_changing_the_future_does_not_change_earlier_forecasts():
    ds = dataset()
    # the future after 2023-03-31: amounts x10, one deal moved earlier inside the future, a new account manager's deal
    changed = [(e, d, a * 10 if d > "2023-03-31" else a) for e, d, a in ROWS]
    changed[5] = ("A", "2023-09-15", 999_00)
    ds2 = build_dataset(
        ams=[("A1", "Alice", "East", None, None), ("A9", "Zed", "West", None, None)],
        deals=[(f"D{i}", "A1", "C1", d, a) for i, (_, d, a) in enumerate(changed)] + [("X1", "A9", "C9", "2023-05-05", 5_000_00)],
        first_month=1,
    )
    kw = {"as_of_quarters": ["FY2023-Q1"], "levels": ("account_manager", "team", "company")}
    a = backtest_forecasts(ds, **kw)
    b = backtest_forecasts(ds2, **kw)
    key = ["level", "entity", "method"]
    merged = a.merge(b, on=key, suffixes=("", "_changed"))
    assert len(merged) == len(a)  # every earlier forecast is still made
    assert (merged["forecast_remaining_cents"] == merged["forecast_remaining_cents_changed"]).all()
    assert (merged["actual_remaining_cents"] != merged["actual_remaining_cents_changed"]).all()  # the future did change
    # the newcomer only appears after the cutoff: forecast 0, a real miss
    new = b.loc[(b["entity"] == "A9").to_numpy()]
    assert (new["forecast_remaining_cents"] == 0).all() and (new["actual_remaining_cents"] == 5_000_00).all()


def test_default_cutoffs_are_q1_to_q3_ends_covered_by_the_data():
    assert [q.label for q in backtest_cutoffs(dataset())] == [
        "FY2022-Q1",
        "FY2022-Q2",
        "FY2022-Q3",
        "FY2023-Q1",
        "FY2023-Q2",
        "FY2023-Q3",
    ]


def test_without_a_prior_year_only_the_all_scope_exists():
    d = backtest_forecasts(dataset(ROWS[:4]), levels=("company",))
    s = summarise_backtest(d)
    assert set(s["scope"]) == {"all"}
    assert set(s["method"]) == {"run_rate", "blended", "selected"}  # seasonal methods and models (< 12 months) undefined
    assert (
        d.loc[d["method"] == "blended", "forecast_remaining_cents"].to_numpy()
        == d.loc[d["method"] == "run_rate", "forecast_remaining_cents"].to_numpy()
    ).all()


def test_pipeline_methods_are_refused():
    with pytest.raises(ValueError, match="snapshot"):
        backtest_forecasts(dataset(), methods=["weighted_pipeline"])


def test_write_backtest_writes_csv_and_png(tmp_path):
    d = backtest_forecasts(dataset())
    paths = write_backtest(summarise_backtest(d), tmp_path, detail=d)
    assert paths["chart"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "wape" in paths["summary"].read_text().splitlines()[0]
    assert len(pd.read_csv(paths["detail"])) == len(d)


@pytest.fixture(scope="module")
def fits():
    """The test run's cache of model fits (tests/conftest.py): the real-data backtests below and
    ``reportkit backtest`` fit each series once between them (the same rows: tests/test_fit_cache.py)."""
    from batch_contexts import params_fit_cache

    from reportkit.config.params import load_params

    return params_fit_cache(load_params(ROOT / "params" / "superstore.yaml"))


@pytest.fixture(scope="module")
def adventureworks():
    from reportkit.data.mapping import load_dataset

    return load_dataset(SOURCES / "adventureworks.yaml")


@pytest.fixture(scope="module")
def superstore():
    from reportkit.data.mapping import load_dataset

    return load_dataset(SOURCES / "superstore.yaml")


@pytest.mark.realdata
@pytest.mark.skipif(not DATA.is_dir(), reason=SKIP_REASON)
@pytest.mark.parametrize("name", ["adventureworks", "superstore"])
def test_the_default_beats_seasonal_naive_at_every_level_head_to_head(name, request, fits):
    s = run_backtest(request.getfixturevalue(name), fit_cache=fits)
    h2h = s.loc[((s["scope"] == "with prior year") & (s["method"] == "reconciled")).to_numpy()].set_index("level")
    assert list(h2h.index) == ["account_manager", "team", "company"]
    assert (h2h["wape"] < h2h["baseline_wape"]).all(), h2h[["wape", "baseline_wape"]]
    assert h2h["coverage"].notna().all()


@pytest.mark.realdata
@pytest.mark.skipif(not DATA.is_dir(), reason=SKIP_REASON)
def test_adventureworks_blended_and_baseline_figures_quoted_in_the_docs(adventureworks):
    s = run_backtest(adventureworks, levels=("team", "company"), methods=("blended", "seasonal_naive"))
    rows = s.loc[((s["scope"] == "with prior year") & (s["method"] == "blended")).to_numpy()].set_index("level")
    assert (rows["n_cutoffs"] == 6).all()  # FY2019 and FY2020, Q1..Q3
    # docs/forecasting.md: entities without last year's revenue (Europe, Pacific in FY2019) are left out
    assert rows.loc["team", "wape"] == pytest.approx(0.100, abs=0.002)
    assert rows.loc["team", "baseline_wape"] == pytest.approx(0.262, abs=0.002)
    assert rows.loc["company", "wape"] == pytest.approx(0.105, abs=0.002)
    assert rows.loc["company", "baseline_wape"] == pytest.approx(0.278, abs=0.002)


@pytest.mark.realdata
@pytest.mark.skipif(not DATA.is_dir(), reason=SKIP_REASON)
def test_maven_backtest_has_one_year_so_no_baseline(tmp_path, capsys):
    assert backtest_cli(ROOT / "params" / "maven_crm.yaml", tmp_path) == 0
    s = pd.read_csv(tmp_path / "backtest_summary.csv")
    assert set(s["scope"]) == {"all"}  # no full prior year anywhere
    co = s.loc[(s["level"] == "company") & (s["method"] == "blended")].iloc[0]
    assert co["n_cutoffs"] == 3
    assert co["wape"] == pytest.approx(0.119, abs=0.002)
    assert (tmp_path / "backtest_wape.png").exists() and (tmp_path / "backtest_detail.csv").exists()
    assert "wape" in capsys.readouterr().out


def test_console_summary_shows_percentages_and_no_raw_missing_markers():
    import pandas as pd

    summary = pd.DataFrame(
        {
            "scope": ["all", "all"],
            "level": ["company", "company"],
            "method": ["blended", "seasonal_naive"],
            "n_forecasts": [6, 6],
            "n_cutoffs": [6, 6],
            "wape": [0.105, 0.278],
            "bias": [-0.097, float("nan")],
            "baseline_wape": [0.278, 0.278],
            "beats_baseline": [True, pd.NA],
        }
    )
    text = format_summary(summary)
    assert "10.5%" in text and "-9.7%" in text and "27.8%" in text and "yes" in text
    assert "NaN" not in text and "<NA>" not in text and "n/a" in text


@pytest.mark.realdata
@pytest.mark.skipif(not DATA.is_dir(), reason=SKIP_REASON)
def test_superstore_team_range_calibrated_on_earlier_errors_covers_more_than_the_models_own(superstore, fits, capsys, tmp_path):
    from reportkit.domain.forecast_models import Z_INTERVAL

    d = backtest_forecasts(superstore, fit_cache=fits)
    rec = d.loc[((d["method"] == "reconciled") & d["has_last_year"]).to_numpy()]
    team = rec.loc[(rec["level"] == "team").to_numpy()]
    fc, act, sd = (team[c].astype("float64") for c in ("forecast_remaining_cents", "actual_remaining_cents", "interval_sd_cents"))
    model_own = ((fc - Z_INTERVAL * sd).clip(lower=0) <= act) & (act <= fc + Z_INTERVAL * sd)
    calibrated = (team["forecast_low_cents"] <= team["actual_remaining_cents"]) & (
        team["actual_remaining_cents"] <= team["forecast_high_cents"]
    )
    # docs/forecasting.md, "Do the ranges cover what they claim?": 2 of 6 with the model's own range, 4 of 6 calibrated
    assert (int(model_own.sum()), int(calibrated.sum()), len(team)) == (2, 4, 6)
    s = summarise_backtest(d).set_index(["scope", "level", "method"])
    assert s.loc[("with prior year", "team", "reconciled"), "coverage"] == pytest.approx(4 / 6)
    # 2013 has no head-to-head year before it, yet its ranges rest on 2012's 18 forecasts; every range is calibrated
    assert set(team.loc[team["quarter"].str.startswith("FY2013"), "interval_n"]) == {18}
    assert (team["interval_n"] > 0).all()
    backtest_cli(ROOT / "params" / "superstore.yaml", tmp_path)
    assert "FY2014-Q1  account manager: ETS (exponential smoothing), range x" in capsys.readouterr().out


def test_each_cutoffs_forecast_is_the_same_from_the_deals_close_dates_alone_as_from_every_deal_column(monkeypatch):
    # backtest_forecasts hands forecast_at every level's revenue rows, so the cut data set it also hands
    # over keeps only the deals' close dates (no copy of every column at each cutoff: docs/batch.md,
    # "Session 9, the tail"); with every column the rows are the same, and the cut has only that column
    import reportkit.domain.backtest as backtest

    ds = build_dataset(
        ams=[("A1", "Alice", "East", None, None), ("A2", "Bo", "West", None, None)],
        deals=[(f"D{i}", "A1" if i % 3 else "A2", f"C{i % 4}", d, a) for i, (_, d, a) in enumerate(ROWS)],
        first_month=1,
    )
    kw = {"as_of_quarters": ["FY2023-Q1", "FY2023-Q2", "FY2023-Q3"], "levels": ("account_manager", "team", "company")}
    narrow = backtest_forecasts(ds, **kw)
    assert list(backtest._cut(ds, datetime.date(2023, 3, 31), backtest._CUT_COLUMNS).deals.columns) == ["close_date"]
    monkeypatch.setattr(backtest, "_CUT_COLUMNS", None)
    pd.testing.assert_frame_equal(narrow, backtest_forecasts(ds, **kw))


def test_reportkit_backtest_reads_and_keeps_its_model_fits_in_the_params_cache_folder(tmp_path, monkeypatch):
    from demo_params import demo_params

    import reportkit.render.backtest as command

    seen = {}

    def recorded(dataset, **kwargs):
        seen.update(kwargs)
        raise LookupError("recorded")

    monkeypatch.setattr(command, "backtest_forecasts", recorded)
    monkeypatch.setenv("REPORTKIT_CACHE_DIR", str(tmp_path / "fits"))
    with pytest.raises(LookupError, match="recorded"):
        backtest_cli(demo_params(tmp_path), tmp_path / "out")
    assert seen["fit_cache"] is not None and seen["fit_cache"].root.parent == tmp_path / "fits"

    with pytest.raises(LookupError, match="recorded"):  # params cache_dir: null turns it off, as for a batch
        backtest_cli(demo_params(tmp_path, cache_dir=None), tmp_path / "out")
    assert seen["fit_cache"] is None
