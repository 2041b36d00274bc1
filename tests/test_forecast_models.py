"""Statistical models, the per-level choice by backtest, reconciliation and the stated interval (issue #17)."""

from __future__ import annotations

import dataclasses
import datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from conftest import build_dataset

from reportkit.domain.backtest import backtest_forecasts, forecast_hierarchy, summarise_backtest
from reportkit.domain.crediting import credited_deals
from reportkit.domain.forecast_choice import CHOICE_FALLBACK, choose_method, forecast_at, interval_scale
from reportkit.domain.forecast_inputs import level_revenue
from reportkit.domain.forecast_models import MODEL_METHODS, Z_INTERVAL, model_forecasts, reconcile, summing_matrix

# A shape that repeats every year: month m of every year sells SHAPE[m] (cents), 2021-2023.
SHAPE = [100_00, 120_00, 150_00, 90_00, 80_00, 110_00, 130_00, 100_00, 140_00, 160_00, 170_00, 200_00]


def same_shape_every_year(years=(2021, 2022, 2023), ams=(("A1", "East"),)):
    """Deals on the 1st of each month; each AM sells the shape, AM i scaled by i + 1."""
    deals = []
    for i, (am, _team) in enumerate(ams):
        for y in years:
            for m, amount in enumerate(SHAPE, start=1):
                deals.append((f"{am}-{y}-{m}", am, f"C{am}", f"{y}-{m:02d}-01", amount * (i + 1)))
    return build_dataset(ams=[(am, f"Name {am}", team, None, None) for am, team in ams], deals=deals, first_month=1)


def test_every_model_forecasts_a_repeating_year_close_to_last_year_with_an_interval_around_it():
    ds = same_shape_every_year()
    rev = level_revenue(credited_deals(ds), "company", ds.account_managers)
    as_of = datetime.date(2023, 3, 31)
    f = model_forecasts(rev, ["(company)"], 2023, as_of, ds.calendar, history_start=datetime.date(2021, 1, 1)).iloc[0]
    last_year_rest = sum(SHAPE[3:])
    assert f["months"] == 27
    for m in MODEL_METHODS:
        fc = int(f[f"{m}_remaining_cents"])
        assert fc == pytest.approx(last_year_rest, rel=0.05), m
        sd = f[f"{m}_sd_cents"]
        assert sd >= 0 and fc - Z_INTERVAL * sd <= last_year_rest <= fc + Z_INTERVAL * sd, m


def test_a_model_needs_twelve_complete_months():
    ds = same_shape_every_year(years=(2023,))
    rev = level_revenue(credited_deals(ds), "company", ds.account_managers)
    f = model_forecasts(
        rev, ["(company)"], 2023, datetime.date(2023, 9, 30), ds.calendar, history_start=datetime.date(2023, 1, 1)
    )
    assert f["months"].iloc[0] == 9
    assert all(pd.isna(f[f"{m}_remaining_cents"].iloc[0]) for m in MODEL_METHODS)


def test_reconciliation_by_hand_two_members_and_their_team():
    # base: team 40, members 10 and 20; W = diag(2, 1, 1). Minimising (40-b1-b2)^2/2 + (10-b1)^2 + (20-b2)^2
    # gives 3 b1 + b2 = 60 and b1 + 3 b2 = 80: b1 = 12.5, b2 = 22.5, team 35.
    s = summing_matrix({"T": ["a", "b"]}, ["a", "b"], {})
    assert reconcile(np.array([40.0, 10.0, 20.0]), s) == pytest.approx([35.0, 12.5, 22.5])
    # forecasts that already add up are left as they are
    assert reconcile(np.array([30.0, 10.0, 20.0]), s) == pytest.approx([30.0, 10.0, 20.0])


def test_reconciled_forecasts_add_up_from_account_managers_to_teams_to_the_company():
    ds = same_shape_every_year(ams=(("A1", "East"), ("A2", "East"), ("A3", "West")))
    cutoff = datetime.date(2023, 6, 30)
    past = build_dataset(
        ams=[(a, f"Name {a}", t, None, None) for a, t in (("A1", "East"), ("A2", "East"), ("A3", "West"))],
        deals=[
            (r.deal_id, r.account_manager_id, r.account_id, r.close_date.date().isoformat(), int(r.amount_cents))
            for r in ds.deals.itertuples()
            if r.close_date.date() <= cutoff
        ],
        first_month=1,
    )
    ents = {"account_manager": ["A1", "A2", "A3"], "team": ["East", "West"], "company": ["(company)"]}
    at = forecast_at(past, cutoff, entities=ents, history_start=datetime.date(2021, 1, 1))
    rec = at.loc[at["method"] == "reconciled"].set_index("entity")["forecast_remaining_cents"].astype(int)
    assert rec["East"] == rec["A1"] + rec["A2"]
    assert rec["West"] == rec["A3"]
    assert rec["(company)"] == rec["East"] + rec["West"]
    # without earlier backtests the choice is the benchmark, at every level
    sel = at.loc[at["method"] == "selected"]
    assert set(sel["chosen_method"]) == {CHOICE_FALLBACK}


def _evidence(rows):
    return pd.DataFrame(
        rows,
        columns=[
            "cutoff",
            "level",
            "entity",
            "method",
            "has_last_year",
            "actuals_until",
            "forecast_remaining_cents",
            "actual_remaining_cents",
        ],
    )


def test_the_choice_uses_only_backtests_whose_actuals_are_known_by_the_cutoff():
    early, late = datetime.date(2022, 12, 31), datetime.date(2023, 12, 31)
    ev = _evidence(
        [
            # year ended 2022: theta 10 % off, ets 50 % off
            ("2022-03-31", "team", "T", "theta", True, early, 90, 100),
            ("2022-03-31", "team", "T", "ets", True, early, 150, 100),
            ("2022-03-31", "team", "T", "seasonal_naive", True, early, 150, 100),
            # year ends 2023 (after the cutoff below): ets perfect, theta far off
            ("2023-03-31", "team", "T", "theta", True, late, 10, 100),
            ("2023-03-31", "team", "T", "ets", True, late, 100, 100),
            ("2023-03-31", "team", "T", "seasonal_naive", True, late, 150, 100),
        ]
    )
    method, w, n = choose_method(ev, "team", datetime.date(2023, 6, 30), ["seasonal_naive", "ets", "theta"])
    assert (method, n) == ("theta", 1) and w == pytest.approx(0.1)
    # once 2023's actuals are in, the later rows count too
    method, w, n = choose_method(ev, "team", datetime.date(2024, 3, 31), ["seasonal_naive", "ets", "theta"])
    assert (method, n) == ("ets", 2) and w == pytest.approx(0.25)
    # entities without last year's history are no evidence
    no_history = ev.assign(has_last_year=False)
    assert choose_method(no_history, "team", datetime.date(2024, 3, 31))[0] == CHOICE_FALLBACK


def test_coverage_is_the_share_of_actuals_inside_the_interval():
    d = pd.DataFrame(
        {
            "cutoff": [datetime.date(2023, 3, 31)] * 4,
            "level": "company",
            "entity": ["a", "b", "c", "d"],
            "method": "ets",
            "full_prior_year": True,
            "has_last_year": True,
            "forecast_remaining_cents": pd.array([100, 100, 100, 100], dtype="Int64"),
            "forecast_low_cents": pd.array([80, 80, 80, 80], dtype="Int64"),
            "forecast_high_cents": pd.array([120, 120, 120, 120], dtype="Int64"),
            "actual_remaining_cents": [80, 119, 121, 50],  # the ends count as inside
        }
    )
    s = summarise_backtest(d)
    assert s.loc[s["scope"] == "all", "coverage"].iloc[0] == pytest.approx(0.5)


def test_backtest_rows_chosen_later_rest_on_earlier_years_only():
    ds = same_shape_every_year(years=(2020, 2021, 2022, 2023))
    d = backtest_forecasts(ds)
    sel = d.loc[(d["method"] == "selected") & (d["level"] == "company")].set_index("quarter")
    assert sel.loc["FY2021-Q1", "chosen_method"] == CHOICE_FALLBACK  # 2020 has no prior year: no evidence
    assert (pd.to_datetime(d["actuals_until"]) >= pd.to_datetime(d["cutoff"])).all()
    # the choice at FY2022-Q1 is what the 2021 backtests alone say
    earlier = d.loc[pd.to_datetime(d["actuals_until"]) <= pd.Timestamp("2022-03-31")]
    assert sel.loc["FY2022-Q1", "chosen_method"] == choose_method(earlier, "company", datetime.date(2022, 3, 31))[0]


def test_forecast_hierarchy_states_the_method_its_backtest_error_and_the_interval_in_words():
    ds = same_shape_every_year(years=(2020, 2021, 2022, 2023), ams=(("A1", "East"), ("A2", "West")))
    f = forecast_hierarchy(ds, 2023, datetime.date(2023, 6, 30)).set_index("entity")
    assert f.loc["(company)", "forecast"] == f.loc["East", "forecast"] + f.loc["West", "forecast"]
    words = f.loc["(company)", "words"]
    assert "WAPE" in words and "80 % prediction interval" in words and "add up" in words
    assert f.loc["(company)", "low"] <= f.loc["(company)", "forecast"] <= f.loc["(company)", "high"]
    with pytest.raises(ValueError, match="not in FY2023"):
        forecast_hierarchy(ds, 2023, datetime.date(2024, 1, 5))


def test_a_level_where_the_default_lost_to_seasonal_naive_falls_back_and_says_so():
    ds = same_shape_every_year(years=(2020, 2021, 2022, 2023), ams=(("A1", "East"), ("A2", "West")))
    d = backtest_forecasts(ds)
    # the default's company forecasts of the past made twice too big: it loses to seasonal naive there
    worse = (d["method"] == "reconciled") & (d["level"] == "company")
    d.loc[worse, "forecast_remaining_cents"] = d.loc[worse, "actual_remaining_cents"] * 2
    f = forecast_hierarchy(ds, 2023, datetime.date(2023, 6, 30), detail=d).set_index("entity")
    co = f.loc["(company)"]
    assert co["method"] == "seasonal_naive" and co["reconciliation"] == ""
    assert "did worse" in co["words"] and "need not add up" in co["words"]
    assert set(f.loc[["A1", "A2", "East", "West"], "method"]) == {"reconciled"}


def test_the_interval_is_widened_to_the_conformal_quantile_of_earlier_normalised_errors():
    rows = [
        ("2022-03-31", "team", f"T{i}", "reconciled", True, datetime.date(2022, 12, 31), 1000, 1000 + err)
        for i, err in enumerate([0, 50, -100, 150, -200, 250])
    ]
    ev = _evidence(rows).assign(interval_sd_cents=100.0)
    # normalised errors 0, 0.5, 1, 1.5, 2, 2.5; split-conformal takes the ceil((6 + 1) x 0.8) = 6th smallest: 2.5
    assert interval_scale(ev, "team", datetime.date(2023, 3, 31)) == (pytest.approx(2.5 / Z_INTERVAL), 6)
    # the rows of another level count when a level has too few of its own (errors are in units of sd)
    assert interval_scale(ev, "company", datetime.date(2023, 3, 31)) == (pytest.approx(2.5 / Z_INTERVAL), 6)
    # rows of entities without last year's revenue count too: their actuals are known
    assert interval_scale(ev.assign(has_last_year=False), "team", datetime.date(2023, 3, 31))[1] == 6
    # too few rows, or actuals not yet known at the cutoff: the model's own interval
    assert interval_scale(ev.iloc[:5], "team", datetime.date(2023, 3, 31)) == (1.0, 0)
    assert interval_scale(ev, "team", datetime.date(2022, 9, 30)) == (1.0, 0)


def _noisy_backtest(n_cutoffs, claimed_sd, true_sd, seed):
    """One company forecast a quarter with normal errors of ``true_sd`` while the model claims ``claimed_sd``."""
    rng = np.random.default_rng(seed)
    cut = pd.date_range("2000-03-31", periods=n_cutoffs, freq="QE").date
    err = rng.normal(0.0, true_sd, n_cutoffs)
    rows = [(c, "company", "(company)", "reconciled", True, c, 100_000, round(100_000 + e)) for c, e in zip(cut, err)]
    return _evidence(rows).assign(interval_sd_cents=float(claimed_sd))


def test_a_calibrated_interval_covers_about_80_percent_of_a_series_with_known_noise():
    # the model says sd 1,000 but the errors have sd 3,000: its own 80 % interval holds about a third of the actuals
    ev = _noisy_backtest(400, claimed_sd=1_000, true_sd=3_000, seed=17)
    inside_model, inside_calibrated = [], []
    for i in range(20, len(ev)):  # each cutoff calibrated on the rows before it only
        r = ev.iloc[i]
        k, n = interval_scale(ev.iloc[:i], "company", r["cutoff"])
        assert n == i
        half = Z_INTERVAL * r["interval_sd_cents"]
        miss = abs(r["actual_remaining_cents"] - r["forecast_remaining_cents"])
        inside_model.append(miss <= half)
        inside_calibrated.append(miss <= k * half)
    assert np.mean(inside_model) < 0.45
    assert 0.74 <= np.mean(inside_calibrated) <= 0.88  # 380 cutoffs: the binomial's sd is 2 points


def test_the_calibration_never_reads_actuals_that_end_after_the_cutoff():
    ev = _noisy_backtest(40, claimed_sd=1_000, true_sd=2_000, seed=3)
    cutoff = ev["cutoff"].iloc[24]
    later = (pd.to_datetime(ev["actuals_until"]) > pd.Timestamp(cutoff)).to_numpy()
    changed = ev.copy()
    changed.loc[later, "actual_remaining_cents"] = changed.loc[later, "actual_remaining_cents"] * 50
    assert interval_scale(changed, "company", cutoff) == interval_scale(ev, "company", cutoff)
    assert interval_scale(changed, "company", ev["cutoff"].iloc[-1]) != interval_scale(ev, "company", ev["cutoff"].iloc[-1])


def test_at_year_end_next_years_forecast_is_the_chosen_method_for_the_whole_next_year():
    ds = same_shape_every_year(years=(2020, 2021, 2022, 2023), ams=(("A1", "East"), ("A2", "West")))
    h = forecast_hierarchy(ds, 2024, datetime.date(2023, 12, 31)).set_index("entity")
    # independent computation: every year repeats, so the whole of FY2024 is FY2023's revenue, summed from the deals
    deals = ds.deals.assign(year=ds.deals["close_date"].dt.year)
    fy2023 = deals.loc[deals["year"] == 2023].groupby("account_manager_id")["amount_cents"].sum()
    assert h.loc["A1", "forecast"] == Decimal(int(fy2023["A1"])) / 100 == Decimal(sum(SHAPE)) / 100
    assert h.loc["A2", "forecast"] == Decimal(int(fy2023["A2"])) / 100
    assert h.loc["(company)", "forecast"] == h.loc["East", "forecast"] + h.loc["West", "forecast"]
    assert (h["ytd_revenue"] == 0).all()  # nothing of FY2024 is known yet
    assert h.loc["A1", "words"].startswith("FY2024 has not begun")
    with pytest.raises(ValueError, match="not in FY2024"):
        forecast_hierarchy(ds, 2024, datetime.date(2023, 12, 30))  # next year's forecast only from the year's last day


def test_a_range_with_too_little_evidence_is_the_models_own_and_the_words_say_so():
    ds = same_shape_every_year(years=(2021, 2022, 2023), ams=(("A1", "East"), ("A2", "West")))
    one_cutoff = backtest_forecasts(ds, as_of_quarters=["FY2022-Q3"])  # 5 forecasts with a model range: too few
    f = forecast_hierarchy(ds, 2023, datetime.date(2023, 6, 30), detail=one_cutoff).set_index("entity")
    assert "from the model alone (fewer than 6 earlier backtest forecasts" in f.loc["(company)", "words"]


def test_a_forecast_that_fits_only_the_models_its_choice_reads_gives_the_same_chosen_and_reconciled_rows():
    ds = same_shape_every_year(years=(2020, 2021, 2022, 2023), ams=(("A1", "East"), ("A2", "West")))
    cutoff = datetime.date(2023, 6, 30)
    past = dataclasses.replace(ds, deals=ds.deals.loc[ds.deals["close_date"] <= pd.Timestamp(cutoff)], pipeline=None)
    evidence = backtest_forecasts(past, as_of_quarters=["FY2021-Q1", "FY2021-Q2", "FY2022-Q1", "FY2022-Q2"])
    ents = {"account_manager": ["A1", "A2"], "team": ["East", "West"], "company": ["(company)"]}
    start = datetime.date(2020, 1, 1)
    every = forecast_at(past, cutoff, entities=ents, history_start=start, evidence=evidence)
    read = forecast_at(past, cutoff, entities=ents, history_start=start, evidence=evidence, chosen_only=True)
    chosen = set(every.loc[every["method"] == "selected", "chosen_method"])
    assert len(chosen) == 1 and not chosen & set(MODEL_METHODS)  # every year repeats: a rule is exact
    # a rule was chosen: its interval takes ETS's standard deviation, so Theta and ARIMA are not fitted
    assert set(read["method"]) == set(every["method"]) - {"theta", "arima"}
    for m in ("selected", "reconciled", "seasonal_naive", "ets"):
        pd.testing.assert_frame_equal(
            read.loc[read["method"] == m].reset_index(drop=True), every.loc[every["method"] == m].reset_index(drop=True)
        )


def test_a_forecast_whose_chosen_model_forecasts_every_entity_fits_no_other_model_and_gives_the_same_rows():
    ds = same_shape_every_year(years=(2020, 2021, 2022, 2023), ams=(("A1", "East"), ("A2", "West")))
    cutoff = datetime.date(2023, 6, 30)
    past = dataclasses.replace(ds, deals=ds.deals.loc[ds.deals["close_date"] <= pd.Timestamp(cutoff)], pipeline=None)
    evidence = backtest_forecasts(past, as_of_quarters=["FY2021-Q1", "FY2021-Q2", "FY2022-Q1", "FY2022-Q2"])
    # Theta made exact and every other method 10.00 off: the choice at every level is a model, Theta
    exact = evidence["method"] == "theta"
    off = evidence["actual_remaining_cents"] + 1000
    evidence["forecast_remaining_cents"] = evidence["actual_remaining_cents"].where(exact, off).astype("Int64")
    ents = {"account_manager": ["A1", "A2"], "team": ["East", "West"], "company": ["(company)"]}
    start = datetime.date(2020, 1, 1)
    every = forecast_at(past, cutoff, entities=ents, history_start=start, evidence=evidence)
    read = forecast_at(past, cutoff, entities=ents, history_start=start, evidence=evidence, chosen_only=True)
    assert set(every.loc[every["method"] == "selected", "chosen_method"]) == {"theta"}
    # Theta's own standard deviation is every range's: neither ETS nor ARIMA is fitted
    assert set(read["method"]) == set(every["method"]) - {"ets", "arima"}
    for m in ("selected", "reconciled", "seasonal_naive", "theta"):
        pd.testing.assert_frame_equal(
            read.loc[read["method"] == m].reset_index(drop=True), every.loc[every["method"] == m].reset_index(drop=True)
        )


def test_the_choice_reads_the_dates_actuals_are_known_by_as_dates_or_as_text_alike():
    ev = _evidence(
        [
            ("2022-03-31", "team", "T", "theta", True, datetime.date(2022, 12, 31), 90, 100),
            ("2022-03-31", "team", "T", "ets", True, datetime.date(2022, 12, 31), 150, 100),
            ("2023-03-31", "team", "T", "theta", True, datetime.date(2023, 12, 31), 10, 100),
            ("2023-03-31", "team", "T", "ets", True, datetime.date(2023, 12, 31), 100, 100),
        ]
    )
    as_text = ev.assign(actuals_until=ev["actuals_until"].astype(str))
    for cutoff, expected in ((datetime.date(2023, 6, 30), "theta"), (datetime.date(2024, 3, 31), "ets")):
        assert choose_method(ev, "team", cutoff, ["ets", "theta"])[0] == expected
        assert choose_method(as_text, "team", cutoff, ["ets", "theta"]) == choose_method(ev, "team", cutoff, ["ets", "theta"])


def _statsmodels_full_path(y: np.ndarray, h: int, method: str) -> tuple[np.ndarray, np.ndarray]:
    """The forecast and standard errors as statsmodels' documented calls give them, every result computed.

    The reference for ``forecast_models._fit``'s shorter paths (ETS, Theta, AR): the same model
    settings, ``fit()`` with its full results (parameter covariance, smoother) and
    ``get_prediction`` / ``forecast`` on a pandas Series (AR: ``AutoReg`` on the array, as
    ``_fit`` called it before its short path).
    """
    from statsmodels.tsa.ar_model import AutoReg
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel
    from statsmodels.tsa.forecasting.theta import ThetaModel

    from reportkit.domain.forecast_models import _ses_sigma2

    seasonal = len(y) >= 24
    if method == "ets":
        res = ETSModel(
            pd.Series(y),
            error="add",
            trend=None,
            seasonal="add" if seasonal else None,
            seasonal_periods=12 if seasonal else None,
            initialization_method="heuristic" if seasonal else "estimated",
        ).fit(disp=False, maxiter=200)
        pred = res.get_prediction(start=len(y), end=len(y) + h - 1)
        return np.asarray(pred.predicted_mean, dtype="float64"), np.sqrt(np.asarray(pred.var_pred_mean, dtype="float64"))
    if method == "arima":
        z = y[12:] - y[:-12] if seasonal else y
        pred = AutoReg(z, lags=1, trend="c").fit().get_prediction(start=len(z), end=len(z) + h - 1)
        mean, se = np.asarray(pred.predicted_mean, dtype="float64"), np.asarray(pred.se_mean, dtype="float64")
        if seasonal:
            mean = np.concatenate([y, np.full(max(0, h - 12), np.nan)])[len(y) - 12 : len(y) - 12 + h] + mean
        return mean, se
    res = ThetaModel(y, period=12, deseasonalize=seasonal, method="additive").fit()
    alpha = float(res.params.iloc[1])
    steps = np.arange(h)
    return np.asarray(res.forecast(h), dtype="float64"), np.sqrt((1 + steps * (1 + (alpha - 1) ** 2)) * _ses_sigma2(y, alpha))


def _series_of_every_shape() -> list[tuple[str, np.ndarray, int]]:
    """Scaled monthly series (mean absolute month 1) as the backtest fits them: name, series, months ahead."""
    rng = np.random.default_rng(18)
    season = np.tile(np.array(SHAPE, dtype="float64"), 4)
    raw = {
        "seasonal_36_months": season[:36] * rng.normal(1, 0.1, 36),
        "seasonal_30_months_with_a_return": np.where(np.arange(30) == 7, -0.4, 1) * season[:30],
        "trending_24_months": np.linspace(50, 150, 24) + rng.normal(0, 5, 24),
        "noisy_18_months": rng.gamma(2.0, 50.0, 18),
        "flat_15_months": np.full(15, 80.0),
        "sparse_14_months": np.where(rng.random(14) < 0.5, 0.0, rng.gamma(2.0, 50.0, 14)),
        "seasonal_47_months_long": season[:47] * rng.normal(1, 0.2, 47),
    }
    out = []
    for (name, y), h in zip(raw.items(), (9, 12, 3, 12, 1, 6, 13), strict=True):
        out.append((name, y / np.abs(y).mean(), h))
    return out


@pytest.mark.parametrize("method", ["ets", "theta", "arima"])
def test_the_short_fit_gives_the_same_floats_as_statsmodels_full_path(method):
    # forecast_models._fit skips work nothing reads (ETS: the Hessian, pandas; Theta: the SES's smoother,
    # covariance and one-month forecast model, pandas; AR: the model's DeterministicProcess, pandas); a statsmodels
    # upgrade whose full path diverges from it fails here
    import warnings

    from reportkit.domain.forecast_models import _fit

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for name, y, h in _series_of_every_shape():
            mean, se = _fit(y, h, method)
            want_mean, want_se = _statsmodels_full_path(y, h, method)
            assert mean.tobytes() == want_mean.tobytes(), (name, mean, want_mean)
            assert se.tobytes() == want_se.tobytes(), (name, se, want_se)
            # past 12 months the seasonal ARIMA has no last year's month: NaN, a failed fit (as before)
            assert len(mean) == h and np.isfinite(mean[: 12 if method == "arima" else h]).all(), name


def test_the_short_ar_fit_gives_the_same_floats_as_autoreg_on_random_series():
    # AR's short path repeats AutoReg's arithmetic operation by operation (the same shapes and strides
    # into the same BLAS / LAPACK calls): checked on many series, lengths and horizons, flat ones included
    import warnings

    from reportkit.domain.forecast_models import _fit

    rng = np.random.default_rng(2026)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for k in range(300):
            n = int(rng.choice([12, 14, 15, 18, 21, 24, 27, 36, 47]))
            y = rng.gamma(2.0, 1.0, n) * float(rng.choice([1e-3, 1.0, 1e3]))
            if k % 10 == 0:
                y[:] = 1.0
            y = y / np.abs(y).mean()
            h = int(rng.integers(1, 13))
            mean, se = _fit(y, h, "arima")
            want_mean, want_se = _statsmodels_full_path(y, h, "arima")
            assert (mean.tobytes(), se.tobytes()) == (want_mean.tobytes(), want_se.tobytes()), (k, n, h)
