"""Statistical forecast models (statsmodels) and hierarchical reconciliation.

The forecasts of :mod:`reportkit.domain.forecast` are home-made rules (run rate,
seasonal index, damped seasonal). This module adds the standard models of a
library made for this, **statsmodels** (the choice and its measurements:
``docs/forecasting.md``, "Models"), fitted to each entity's **monthly** revenue:

``ets``
    Exponential smoothing in state-space form, additive errors, no trend and, with
    at least 24 months of history, additive monthly seasonality
    (``statsmodels.tsa.exponential_smoothing.ets.ETSModel``, ETS(A,N,A), else ETS(A,N,N);
    Hyndman & Athanasopoulos, *FPP* 3rd ed., ch. 8).
``theta``
    The Theta method (Assimakopoulos & Nikolopoulos 2000; Hyndman & Billah 2003),
    additively deseasonalised with at least 24 months (``statsmodels.tsa.forecasting.theta.ThetaModel``).
``arima``
    With at least 24 months a seasonal ARIMA(1,0,0)(0,1,0)12 with drift (last
    year's month plus a yearly drift, with AR(1) deviations); with less an
    ARIMA(1,0,0) with a constant (``statsmodels.tsa.statespace.sarimax.SARIMAX``).

Each gives, for every entity, the **remaining-year** total (the months after the
last complete month through the fiscal year end; a partial current month counts
its forecast less the month-to-date actual) and that total's standard deviation.
The library gives each month's forecast standard error; the total's standard
deviation is their **sum** (errors of one series' months move together, so this
is the fully correlated bound; an independent-months sum would understate it).
A model needs 12 complete months of history (else NA); a fit that raises is NA
for that entity. Series are scaled by their mean absolute month before fitting
(the optimiser's numbers stay near 1) and scaled back.

:func:`reconcile` makes the forecasts of the levels add up (account manager ->
team -> company) by the **WLS structural-scaling** projection of the MinTrace
family (Wickramasuriya, Athanasopoulos & Hyndman 2019; Athanasopoulos et al. 2017;
``hierarchicalforecast``'s ``MinTrace(method="wls_struct")``), written out here
because that package pulls in scikit-learn and a QP solver for one line of algebra.

Money: inputs and outputs are whole cents; model outputs (floats) are rounded to
cents by :func:`reportkit.core.money.to_cents` (half away from zero).

Where the fits run and what is kept: a fit is deterministic given its model, the scaled
series, the months forecast and the code and library versions, so :func:`fit_key` (the
SHA-256 of exactly those) names it in a cache of fits (:func:`fit_cache`, a
:class:`reportkit.core.cache.ContentCache`) that :func:`fit_models` reads before fitting
and fills after; :class:`ModelFits` hands many series' fits to an executor (a batch's
report workers) while the caller works, falling back to fitting here
(``docs/forecasting.md``, "The cache of model fits").
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import hashlib
import math
import platform
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import BrokenExecutor, Executor, Future
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import ThreadpoolController

from ..core.cache import ContentCache
from ..core.hashing import row_hashes
from ..core.money import to_cents
from ..core.periods import FiscalCalendar, Period
from ._credit_core import lookup

__all__ = [
    "MODEL_METHODS",
    "INTERVAL",
    "Z_INTERVAL",
    "MIN_MONTHS",
    "SEASONAL_MONTHS",
    "monthly_revenue",
    "model_forecasts",
    "ModelInputs",
    "model_inputs",
    "fit_models",
    "cached_fits",
    "fit_models_in",
    "ModelFits",
    "fit_task",
    "fit_cache",
    "fit_key",
    "FIT_CACHE",
    "HIERARCHY_CACHE",
    "hierarchy_key",
    "frames_record",
    "read_frames",
    "float_cents",
    "interval_cents",
    "summing_matrix",
    "reconcile",
]

#: The statsmodels methods, in display order (column ``<method>_cents`` of :func:`model_forecasts`).
MODEL_METHODS: tuple[str, ...] = ("ets", "theta", "arima")

#: The stated prediction interval: central 80 % (low = 10th, high = 90th percentile).
INTERVAL = 0.8
#: Standard normal quantile of the interval's upper end (0.9): ``statistics.NormalDist().inv_cdf(0.9)``.
Z_INTERVAL = 1.2815515655446004
#: Complete months a model needs; seasonal terms need two full years.
MIN_MONTHS = 12
SEASONAL_MONTHS = 24


def monthly_revenue(
    revenue: pd.DataFrame, entities: Sequence[str], calendar: FiscalCalendar, first: datetime.date, last: datetime.date
) -> np.ndarray:
    """Revenue per entity and month from ``first``'s month to ``last``'s month, in cents (float).

    Parameters
    ----------
    revenue : DataFrame
        :func:`reportkit.domain.forecast_inputs.level_revenue` rows (``entity``,
        ``close_date``, ``micros``); rows outside the months are ignored.
    entities : sequence of str
        One row of the result per entity, in this order.
    calendar : FiscalCalendar
    first, last : date
        The first and last month (any day of them).

    Returns
    -------
    ndarray
        Shape ``(len(entities), months)``, exact sums of micros over 10,000 (cents as float).
    """
    o0 = int(calendar.ordinals(np.array([np.datetime64(first, "ns")]), "month")[0])
    o1 = int(calendar.ordinals(np.array([np.datetime64(last, "ns")]), "month")[0])
    n = max(0, o1 - o0 + 1)
    out = np.zeros((len(entities), n), dtype="float64")
    if not n or revenue.empty:
        return out
    pos = {e: i for i, e in enumerate(entities)}
    o = calendar.ordinals(revenue["close_date"].to_numpy(), "month") - o0
    ent = lookup(revenue["entity"], np.asarray(list(pos), dtype=object))  # Arrow's hash lookup, no str per row
    row = np.asarray(list(pos.values()), dtype=np.int64)[ent] if len(pos) else ent
    keep = (o >= 0) & (o < n) & (ent >= 0)
    micros = revenue["micros"].to_numpy(np.int64) if "micros" in revenue else revenue["cents"].to_numpy(np.int64) * 10_000
    sums = np.zeros(out.shape, dtype=np.int64)
    np.add.at(sums, (row[keep], o[keep]), micros[keep])
    if np.abs(sums).max(initial=0) < 2**53:  # exact as float64: the division is the same correctly rounded one
        return sums / 10_000
    for i, m in zip(*np.nonzero(sums)):
        out[i, m] = int(sums[i, m]) / 10_000
    return out


_BLAS: list[ThreadpoolController] = []  # the one controller, made after the models' imports (see _one_blas_thread)


def _import_models() -> None:
    """Import statsmodels' model modules (lazily: only a forecast that fits a model pays for them)."""
    import statsmodels.tsa.ar_model
    import statsmodels.tsa.exponential_smoothing.ets
    import statsmodels.tsa.forecasting.theta  # noqa: F401


def _one_blas_thread() -> Any:
    """A context limiting every loaded BLAS library to one thread: the fits are tiny, and OpenBLAS's
    threads cost 5x their work (ETS: 75 ms -> 13 ms a fit).

    The models are imported first (a limit reaches only the libraries loaded when it is set:
    SciPy's own OpenBLAS comes with them), and the libraries are looked up once per process
    (``threadpool_limits`` reads the process's memory map on every call: 4 ms).
    """
    _import_models()
    if not _BLAS:
        _BLAS.append(ThreadpoolController())
    return _BLAS[0].limit(limits=1)


def _fit(y: np.ndarray, h: int, method: str) -> tuple[np.ndarray, np.ndarray]:
    """Monthly forecasts and their standard errors for ``h`` months after ``y`` (one model fit).

    ETS, Theta and AR skip the statsmodels work whose results nothing here reads (:func:`_fit_ets`,
    :func:`_fit_theta`, :func:`_fit_ar1`): the same optimiser (AR: the same least squares) from the
    same start values, so the same floats as statsmodels' own full path (``tests/test_forecast_models.py`` compares them bit for bit).
    """
    seasonal = len(y) >= SEASONAL_MONTHS
    if method == "ets":
        return _fit_ets(y, h, seasonal)
    if method == "theta":
        mean, alpha = _fit_theta(y, h, seasonal)
        # statsmodels' interval formula (ThetaResults.prediction_intervals), with sigma^2 from the
        # one-step errors of the fitted SES recursion instead of its extra ARIMA(0,1,1) fit (2 s a series here)
        steps = np.arange(h)
        return mean, np.sqrt((1 + steps * (1 + (alpha - 1) ** 2)) * _ses_sigma2(y, alpha))
    if method == "arima":
        if not seasonal:  # ARIMA(1,0,0) with a constant
            return _fit_ar1(y, h)
        # ARIMA(1,0,0)(0,1,0)12 with drift: an AR(1) with a constant on the seasonal differences
        # z_t = y_t - y_{t-12}, fitted by conditional least squares; y's forecast is last year's
        # month plus z's, with z's standard error while h <= 12 (then last year's month is known).
        mean, se = _fit_ar1(y[12:] - y[:-12], h)
        last_year = np.concatenate([y, np.full(max(0, h - 12), np.nan)])[len(y) - 12 : len(y) - 12 + h]
        return last_year + mean, se
    raise ValueError(f"method {method!r} is not one of {MODEL_METHODS}")


def _fit_ets(y: np.ndarray, h: int, seasonal: bool) -> tuple[np.ndarray, np.ndarray]:
    """ETS(A,N,A) (``seasonal``) or ETS(A,N,N): the forecast mean and its standard errors, ``h`` months.

    What ``ETSModel(...).fit(disp=False, maxiter=200).get_prediction(...)`` gives as
    ``predicted_mean`` and ``sqrt(var_pred_mean)`` (its ``"exact"`` variance: residual MSE
    times the model's relative forecast variance), without the work nothing reads: the
    parameters come from ``fit(return_params=True)`` (the same L-BFGS-B from the same start
    values), the results skip the parameters' covariance (a complex-step Hessian, for
    standard errors of the parameters), and the series is an array, not a Series (pandas
    index handling in every step). About 40 % less CPU a fit (measured: docs/forecasting.md,
    "The cache of model fits").
    """
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    mod = ETSModel(
        y,
        error="add",
        trend=None,
        seasonal="add" if seasonal else None,
        seasonal_periods=12 if seasonal else None,
        initialization_method="heuristic" if seasonal else "estimated",
    )
    params = mod.fit(disp=False, maxiter=200, return_params=True)
    res = _ets_results()(mod, params, mod._smooth(params))
    mean = res.predict(start=len(y), end=len(y) + h - 1)
    var = res.mse * res._relative_forecast_variance(np.arange(1, h + 1, dtype="float64"))
    return np.asarray(mean, dtype="float64"), np.sqrt(np.asarray(var, dtype="float64"))


def _fit_ar1(y: np.ndarray, h: int) -> tuple[np.ndarray, np.ndarray]:
    """AR(1) with a constant by conditional least squares: the forecast mean and its standard errors, ``h`` months.

    What ``AutoReg(y, lags=1, trend="c").fit().get_prediction(start=len(y), end=len(y) + h - 1)``
    gives as ``predicted_mean`` and ``se_mean``, by its own steps on arrays, each the same
    operation on arrays of the same shapes and memory layout (so the same floats, bit for bit:
    ``tests/test_forecast_models.py``): the regressors from ``lagmat`` (its lag and lead
    columns are strided views, which the dot products read as statsmodels' do), OLS by
    ``pinv_extended`` (``OLS.fit``'s default ``"pinv"``), ``sigma2`` the residuals' mean
    square, the forecast by ``AutoReg._static_oos_predict``'s recursion and its variance
    ``sigma2`` times the cumulated squared MA weights (``arma2ma``). Without the model's
    ``DeterministicProcess`` (pandas frames for the constant) and the prediction's index
    handling: about 1/15 of the CPU a fit (docs/forecasting.md, "AR's short path").
    """
    from statsmodels.tools.tools import pinv_extended
    from statsmodels.tsa.arima_process import arma2ma
    from statsmodels.tsa.tsatools import lagmat

    n = len(y)
    lags = lagmat(y, 1, original="sep")
    x = np.c_[np.ones((n, 1)), lags.lags][1:]  # the constant, then y's lag; the first month held back
    target = lags.leads[1:]
    params = np.dot(pinv_extended(x)[0], target.squeeze())
    resid = y[1:] - x @ params
    sigma2 = 1.0 / (n - 1) * np.sum(resid**2, axis=0)
    mean = np.empty(h)
    row = np.zeros((h, 2))
    row[:, 0] = 1.0
    for i in range(h):
        row[i, 1] = np.squeeze(target[-1]) if i == 0 else mean[i - 1]
        mean[i] = np.squeeze(row[i : i + 1] @ params)
    ma = arma2ma(np.array([1.0, -params[1]]), np.ones(1), lags=h)
    return mean, np.sqrt(sigma2 * np.cumsum(ma**2))


def _fit_theta(y: np.ndarray, h: int, seasonal: bool) -> tuple[np.ndarray, float]:
    """Theta, additively deseasonalised (``seasonal``): the forecast mean, ``h`` months, and the SES weight alpha.

    What ``ThetaModel(y, period=12, deseasonalize=seasonal, method="additive").fit()`` gives
    as ``forecast(h)`` and ``params["alpha"]``, by the same steps (its seasonality test and
    decomposition, the trend's OLS slope, the SES fitted by the same L-BFGS-B from the same
    start values), without the work nothing reads: the SES's parameters come from
    ``fit(return_params=True)`` and its one-step forecast from the Kalman filter's last
    predicted state (``filter(..., return_ssm=True)``: no smoother, no parameters'
    covariance, no forecast model built for one month), and the forecast is
    ``ThetaModelResults.forecast``'s formula on arrays (no pandas index a call). About
    40 % less CPU a fit (docs/forecasting.md, "The cache of model fits"). The seasonality
    test and decomposition are ``ThetaModel``'s own private steps (docs/batch.md, "Library
    internals we replace").
    """
    from statsmodels.tsa.forecasting.theta import ThetaModel
    from statsmodels.tsa.statespace.exponential_smoothing import ExponentialSmoothing
    from statsmodels.tsa.tsatools import add_trend

    model = ThetaModel(y, period=12, deseasonalize=seasonal, method="additive")
    if model.deseasonalize and model.use_test:
        model._test_seasonality()
    x, season = model._deseasonalize_data()
    ct = add_trend(x, "ct", prepend=True)[:, :2]
    ct[:, 1] -= 1
    b0 = np.linalg.lstsq(ct, x, rcond=None)[0][1]
    ses = ExponentialSmoothing(x, initial_level=x[0], initialization_method="known")
    params = ses.fit(disp=False, return_params=True)
    state = ses.filter(params, return_ssm=True)
    one_step = state.design[0, :, 0] @ state.predicted_state[:, -1] + state.obs_intercept[0, 0]
    alpha = params[0]
    steps = np.arange(1, h + 1, dtype=np.float64) - 1
    if alpha > 0:
        steps += 1 / alpha - ((1 - alpha) ** len(y) / alpha)
    mean = 0.5 * (b0 * steps) + one_step * np.ones(h)  # theta 2: the trend's weight (2 - 1) / 2
    if model.deseasonalize:
        months = np.zeros(h)
        if season.shape[0]:
            months[:] = season[(len(y) + np.arange(h)) % 12]
        mean = mean * months if model.method.startswith("mul") else mean + months
    return np.asarray(mean, dtype="float64"), float(alpha)


@functools.cache
def _ets_results() -> type:
    """``ETSResults`` without the parameters' covariance (read by nothing here; it costs a Hessian a fit)."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSResults

    class _ETSForecastResults(ETSResults):  # type: ignore[misc]
        cov_params_approx = None  # ETSResults.__init__ computes it eagerly; the forecast and its variance do not use it

    return _ETSForecastResults


def _ses_sigma2(y: np.ndarray, alpha: float) -> float:
    """Mean squared one-step error of simple exponential smoothing with weight ``alpha`` on the differenced drift."""
    drift = (y[-1] - y[0]) / max(1, len(y) - 1)
    level, errs = y[0], []
    for v in y[1:]:
        e = v - (level + drift)
        errs.append(e)
        level = level + drift + alpha * e
    return float(np.mean(np.square(errs))) if errs else 0.0


def float_cents(x: float) -> int:
    """A model's float cents as whole cents, half away from zero (the one rounding rule, :func:`to_cents`)."""
    return to_cents(Decimal(float(x)) / 100)


def model_forecasts(*args: Any, cache: ContentCache | None = None, **kwargs: Any) -> pd.DataFrame:
    """Remaining-year forecast and its standard deviation per entity and statsmodels method.

    ``fit_models(model_inputs(...), cache)``, with :func:`model_inputs`' parameters: the
    monthly series are built, then fitted, or read from ``cache`` (:func:`fit_cache`) where
    it holds a fit (a caller with an executor submits :func:`fit_models` of the small
    series instead).

    Returns
    -------
    DataFrame
        One row per entity: ``entity``, ``months`` (complete months fitted), and per
        method ``<m>_remaining_cents`` (Int64, the remaining-year forecast, at
        least 0; NA when the history is shorter than :data:`MIN_MONTHS` or the fit
        failed) and ``<m>_sd_cents`` (float: the remaining total's standard deviation,
        cents; NaN when undefined).
    """
    return fit_models(model_inputs(*args, **kwargs), cache)


@dataclasses.dataclass(frozen=True)
class ModelInputs:
    """What the model fits of one level at one date read: each entity's monthly series (a few KB to pickle).

    ``ids`` the entities; ``y`` their complete months' revenue (cents, float, shape
    ``(len(ids), months)``, :func:`monthly_revenue`); ``mtd`` the month-to-date actual of
    a partial current month (cents, 0 without); ``h`` the months forecast; ``methods``
    the models to fit.
    """

    ids: tuple[str, ...]
    y: np.ndarray
    mtd: np.ndarray
    h: int
    methods: tuple[str, ...]


def model_inputs(
    revenue: pd.DataFrame,
    entities: Sequence[str],
    fiscal_year: int,
    as_of: datetime.date,
    calendar: FiscalCalendar,
    *,
    history_start: datetime.date,
    methods: Sequence[str] = MODEL_METHODS,
) -> ModelInputs:
    """The monthly series :func:`model_forecasts` fits, without fitting them.

    Parameters
    ----------
    revenue : DataFrame
        :func:`reportkit.domain.forecast_inputs.level_revenue` rows; rows closed
        after ``as_of`` are dropped first (no look-ahead).
    entities : sequence of str
    fiscal_year : int
    as_of : date
        The forecast date; the months fitted end with the last complete month.
    calendar : FiscalCalendar
    history_start : date
        First day the data covers: the series starts with its month.
    methods : sequence of str
        Subset of :data:`MODEL_METHODS`.

    Returns
    -------
    ModelInputs

    Raises
    ------
    ValueError
        A method is not one of :data:`MODEL_METHODS`.
    """
    ids = [str(e) for e in entities]
    year = Period(calendar, "year", int(fiscal_year))
    rev = revenue.loc[(revenue["close_date"] <= np.datetime64(as_of, "ns")).to_numpy()] if len(revenue) else revenue
    cur = calendar.period_of(min(as_of, year.end), "month")
    complete = cur if as_of >= cur.end else cur.shift(-1)  # last complete month
    hist = _series_months(calendar, history_start, complete.end)
    y = monthly_revenue(rev, ids, calendar, history_start, complete.end) if hist > 0 else np.zeros((len(ids), 0))
    partial = as_of < cur.end and as_of < year.end
    mtd = monthly_revenue(rev, ids, calendar, cur.start, cur.start)[:, 0] if partial else np.zeros(len(ids))
    h = _series_months(calendar, complete.shift(1).start, year.end) if as_of < year.end else 0
    bad = [m for m in methods if m not in MODEL_METHODS]
    if bad:
        raise ValueError(f"methods {bad} are not in {MODEL_METHODS}")
    return ModelInputs(tuple(ids), y, mtd, h, tuple(methods))


FitMap = Callable[[Callable[..., Any], Sequence[tuple[Any, ...]]], Sequence[Any]]
"""How :func:`fit_models` makes its missing fits: ``fit_map(fn, args)`` is ``[fn(*a) for a in args]``, in order,
wherever it runs them (a batch's report worker shares them with forked children:
:func:`reportkit.run.forked.forked_map`)."""


def fit_models(inputs: ModelInputs, cache: ContentCache | None = None, *, fit_map: FitMap | None = None) -> pd.DataFrame:
    """Fit :func:`model_inputs`' series: the frame :func:`model_forecasts` returns (module-level: picklable).

    Each fit runs with one BLAS thread (:func:`_one_blas_thread`), in whichever process
    runs it, so a fit in an executor's worker gives the same floats as one here.
    With ``cache`` (:func:`fit_cache`), a fit whose key (:func:`fit_key`) it holds is read
    from it, the others are fitted and stored: the same frame, to the bit; statsmodels is
    imported only when some fit is missing. ``fit_map`` (:data:`FitMap`): how the missing
    fits are made, each one on its own (default: one after another, here).
    """
    return _frame(inputs, _paths(inputs, cache, fit_map=fit_map))


def fit_models_in(inputs: ModelInputs, executor: Executor | None = None, cache: ContentCache | None = None) -> pd.DataFrame:
    """:func:`fit_models` of ``inputs``: from ``cache`` when it holds every fit, else in ``executor`` (waiting for it),
    else here (:class:`ModelFits` of one series). The same frame either way."""
    return ModelFits([inputs], executor, cache).result(inputs)


class ModelFits:
    """The model fits of many series (a backtest's cutoffs and levels), handed out at once.

    With ``cache`` every series whose fits it holds is read at once, here (no model is
    imported for it). With an executor every other series is submitted to it at once, in
    the order given (the order :meth:`result` will ask for them), so this process never
    fits nor imports a model while the pool works; a fit whose worker died (a broken
    pool) or that the pool refuses (shut down) is fitted here. Without an executor,
    :meth:`result` fits here. The frames are :func:`fit_models`' either way.
    """

    def __init__(
        self, series: Sequence[ModelInputs], executor: Executor | None = None, cache: ContentCache | None = None
    ) -> None:
        self._cache = cache
        self._done: dict[int, pd.DataFrame] = {}
        self._futures: dict[int, Future] = {}
        for s in series:
            hit = cached_fits(s, cache) if cache is not None else None
            if hit is not None:
                self._done[id(s)] = hit
            elif executor is not None:
                try:
                    self._futures[id(s)] = executor.submit(fit_models, *fit_task(s, cache))
                except (BrokenExecutor, RuntimeError):  # a broken or shut-down pool: the rest are fitted here
                    executor = None

    def result(self, series: ModelInputs) -> pd.DataFrame:
        """:func:`fit_models` of ``series`` (one of those given): read, the executor's, or fitted here now."""
        if id(series) in self._done:
            return self._done.pop(id(series))
        fut = self._futures.pop(id(series), None)
        if fut is not None:
            try:
                return fut.result()
            except BrokenExecutor:  # its worker died: fitted here
                pass
        return fit_models(series, self._cache)


def fit_task(inputs: ModelInputs, cache: ContentCache | None) -> tuple[Any, ...]:
    """The arguments of :func:`fit_models` an executor is given: the series, and the cache when there is one."""
    return (inputs,) if cache is None else (inputs, cache)


def cached_fits(inputs: ModelInputs, cache: ContentCache) -> pd.DataFrame | None:
    """:func:`fit_models` of ``inputs`` when ``cache`` holds every fit it needs, else None (nothing is fitted)."""
    paths = _paths(inputs, cache, fit=False)
    return None if paths is None else _frame(inputs, paths)


def _frame(inputs: ModelInputs, paths: dict[tuple[int, str], tuple[np.ndarray, np.ndarray] | None]) -> pd.DataFrame:
    """:func:`fit_models`' frame from each fit's monthly path (:func:`_paths`)."""
    ids, y, mtd, h = inputs.ids, inputs.y, inputs.mtd, inputs.h
    hist = y.shape[1]
    cols: dict[str, Any] = {"entity": pd.Series(list(ids), dtype="str"), "months": hist}
    for m in inputs.methods:
        fits = [
            _remaining(y[i], h, float(mtd[i]), paths.get((i, m))) if hist >= MIN_MONTHS else (None, math.nan)
            for i in range(len(ids))
        ]
        cols[f"{m}_remaining_cents"] = pd.array([r for r, _ in fits], dtype="Int64")
        cols[f"{m}_sd_cents"] = np.array([s for _, s in fits], dtype="float64")
    return pd.DataFrame(cols)


_MISS = object()  # a fit the cache does not hold


def _paths(
    inputs: ModelInputs, cache: ContentCache | None, *, fit: bool = True, fit_map: FitMap | None = None
) -> dict[tuple[int, str], tuple[np.ndarray, np.ndarray] | None] | None:
    """Each model fit ``inputs`` needs, by (entity's position, method): its monthly mean and standard
    errors in the fit's units (the series over its mean absolute month), or None for a failed fit.

    Read from ``cache`` where it holds them; the others are fitted, method by method, by
    ``fit_map`` (here by default; each fit depends on its own series only) and stored. With
    ``fit`` False nothing is fitted: None when any fit is missing.
    """
    y, h = inputs.y, inputs.h
    if y.shape[1] < MIN_MONTHS or h <= 0:
        return {}
    scaled = []
    for i in range(len(inputs.ids)):
        scale = float(np.abs(y[i]).mean())
        if scale != 0:  # no revenue in the whole history: every model says 0, nothing is fitted
            scaled.append((i, y[i] / scale))
    out: dict[tuple[int, str], tuple[np.ndarray, np.ndarray] | None] = {}
    missing = []
    for m in inputs.methods:
        for i, ys in scaled:
            key = fit_key(ys, h, m) if cache is not None else b""
            hit = _read_fit(cache.get(key)) if cache is not None else _MISS
            if hit is _MISS:
                missing.append((i, m, ys, key))
            else:
                out[(i, m)] = hit  # type: ignore[assignment]
    if missing and not fit:
        return None
    if missing:
        with _one_blas_thread():  # a forked child inherits the limit
            made = (fit_map or _each)(_fit_safely, [(ys, h, m) for _, m, ys, _ in missing])
        for (i, m, _, key), path in zip(missing, made, strict=True):
            out[(i, m)] = path
            if cache is not None:
                cache.put(key, _fit_record(path))
    return out


def _each(fn: Callable[..., Any], args: Sequence[tuple[Any, ...]]) -> list[Any]:
    """The default :data:`FitMap`: ``fn`` of each argument tuple, in order, here."""
    return [fn(*a) for a in args]


def _fit_safely(ys: np.ndarray, h: int, method: str) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`_fit` of a scaled series, None when the model raises (a failed fit)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with np.errstate(all="ignore"):
                mean, se = _fit(ys, h, method)
    except (ValueError, np.linalg.LinAlgError):
        return None
    return np.asarray(mean, dtype="float64"), np.asarray(se, dtype="float64")


#: The model fits' kind of record in the cache (a new record layout or meaning gets a new name).
FIT_CACHE = "fits-v1"


def fit_cache(folder: str | Path) -> ContentCache:
    """The cache of model fits in ``folder`` (:class:`reportkit.core.cache.ContentCache`, namespace :data:`FIT_CACHE`)."""
    return ContentCache(folder, FIT_CACHE)


@functools.cache
def _fit_context() -> bytes:
    """What every fit depends on besides its own series: this module's code and the numeric libraries' versions.

    The source of this module (where the models and their settings are written:
    :func:`_fit`), the installed versions of statsmodels, SciPy, NumPy and pandas (read
    from their metadata: nothing is imported), Python's version and the machine type.
    """
    from importlib.metadata import version

    parts = [Path(__file__).read_bytes(), sys.version.encode(), platform.machine().encode()]
    parts += [f"{lib}=={version(lib)}".encode() for lib in ("statsmodels", "scipy", "numpy", "pandas")]
    return hashlib.sha256(b"\0".join(parts)).digest()


def fit_key(ys: np.ndarray, h: int, method: str) -> bytes:
    """The cache key of one model fit: SHA-256 of exactly what its result depends on.

    The model (``method``; its settings are this module's code), the scaled monthly
    series ``ys`` (float64 bytes, so one cent more in one month is another key), the
    months forecast ``h``, and :func:`_fit_context` (code and library versions). A late
    deal changes the series of the entities it credits, at the cutoffs after it: every
    other fit keeps its key.
    """
    ys = np.ascontiguousarray(ys, dtype="float64")
    head = f"{method}\0{int(h)}\0{ys.size}\0".encode()
    return hashlib.sha256(_fit_context() + head + ys.tobytes()).digest()


def _fit_record(path: tuple[np.ndarray, np.ndarray] | None) -> bytes:
    """A fit as a record's payload: ``b"0"`` (failed), or ``b"1"``, the months (4 bytes), mean and se (float64)."""
    if path is None:
        return b"0"
    mean, se = path
    return b"1" + len(mean).to_bytes(4, "little") + mean.tobytes() + se.tobytes()


def _read_fit(payload: bytes | None) -> tuple[np.ndarray, np.ndarray] | object | None:
    """:func:`_fit_record` read back; :data:`_MISS` when there is none or it is not one."""
    if payload == b"0":
        return None
    if payload is None or len(payload) < 5 or payload[:1] != b"1":
        return _MISS
    n = int.from_bytes(payload[1:5], "little")
    if len(payload) != 5 + 16 * n:
        return _MISS
    arr = np.frombuffer(payload, dtype="<f8", offset=5)
    return arr[:n].copy(), arr[n:].copy()


#: The forecast hierarchies' kind of record in the cache (:func:`hierarchy_key`).
HIERARCHY_CACHE = "hierarchies-v1"


def hierarchy_key(dataset: Any, *parts: object, rows: Mapping[str, np.ndarray] | None = None) -> bytes:
    """The cache key of a batch's forecast hierarchies: SHA-256 of everything they are computed from.

    The data set's content (every frame of ``dataset``: each row's 64-bit hash,
    :func:`reportkit.core.hashing.row_hashes`, and its index's, with the columns and their dtypes;
    ``rows``: a frame's row hashes the caller has, by field name (a batch's deals, which its
    fingerprint hashes too); its other fields but ``sources``, the files' names, by ``repr``), ``parts`` (the cutoff,
    the fiscal year: whatever else the caller's computation reads, by ``repr``), the source
    of every module of ``reportkit.domain`` and ``reportkit.core`` (the rules) and of
    ``reports/context.py`` (what it keeps of them), and the library versions of
    :func:`_fit_context`. A changed deal, rule or library is another key.
    """
    import dataclasses

    h = hashlib.sha256(HIERARCHY_CACHE.encode() + _fit_context() + _rules_source())
    for f in dataclasses.fields(dataset):
        value = getattr(dataset, f.name)
        h.update(f"\0{f.name}\0".encode())
        if isinstance(value, pd.DataFrame):
            h.update(repr([(str(c), str(t)) for c, t in value.dtypes.items()]).encode())
            h.update(pd.util.hash_pandas_object(value.index).to_numpy().tobytes())
            h.update((rows[f.name] if rows and f.name in rows else row_hashes(value)[0]).tobytes())
        elif f.name != "sources":
            h.update(repr(value).encode())
    h.update(repr(parts).encode())
    return h.digest()


@functools.cache
def _rules_source() -> bytes:
    """SHA-256 of the source of ``reportkit.domain``, ``reportkit.core`` and ``reports/context.py``."""
    pkg = Path(__file__).resolve().parents[1]
    files = sorted([*(pkg / "domain").rglob("*.py"), *(pkg / "core").rglob("*.py"), pkg / "reports" / "context.py"])
    h = hashlib.sha256()
    for f in files:
        h.update(str(f.relative_to(pkg)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.digest()


def frames_record(frames: Sequence[pd.DataFrame | None]) -> bytes | None:
    """Frames (or None) as one record's payload (Parquet each, length-prefixed); None when one would not read back the same.

    Checked on writing: each frame is read back and compared, values (``repr`` of every
    cell: a ``Decimal``'s digits, a date's type) dtypes and index included, so a record
    is only ever one that :func:`read_frames` turns into the very frames written.
    """
    import io

    out = [len(frames).to_bytes(4, "little")]
    for frame in frames:
        if frame is None:
            out.append((0).to_bytes(8, "little"))
            continue
        buf = io.BytesIO()
        frame.to_parquet(buf)
        blob = buf.getvalue()
        if not _same_frame(frame, pd.read_parquet(io.BytesIO(blob))):
            return None
        out += [len(blob).to_bytes(8, "little"), blob]
    return b"".join(out)


def read_frames(payload: bytes | None) -> list[pd.DataFrame | None] | None:
    """:func:`frames_record` read back; None when there is none or it is not one (a miss)."""
    import io

    if payload is None or len(payload) < 4:
        return None
    try:
        n, at, frames = int.from_bytes(payload[:4], "little"), 4, []
        for _ in range(n):
            size = int.from_bytes(payload[at : at + 8], "little")
            at += 8
            frames.append(pd.read_parquet(io.BytesIO(payload[at : at + size])) if size else None)
            at += size
    except Exception:  # not a record of ours: a miss, recomputed and written over
        return None
    return frames if at == len(payload) else None


def _same_frame(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """The same frame: columns, dtypes, index (names, levels' dtypes) and the ``repr`` of every value."""
    pairs = ((a, b), (a.index.to_frame(index=False), b.index.to_frame(index=False)))
    if any(list(x.columns) != list(y.columns) or list(x.dtypes) != list(y.dtypes) for x, y in pairs):
        return False
    if list(a.index.names) != list(b.index.names):
        return False
    return all([repr(v) for v in x[c].tolist()] == [repr(v) for v in y[c].tolist()] for x, y in pairs for c in x.columns)


def _series_months(calendar: FiscalCalendar, first: datetime.date, last: datetime.date) -> int:
    """Months from ``first``'s month through ``last``'s month (0 when ``last`` is earlier)."""
    a, b = (int(calendar.ordinals(np.array([np.datetime64(d, "ns")]), "month")[0]) for d in (first, last))
    return max(0, b - a + 1)


EXPLODED = 1000.0
"""A model month (mean or standard error) above this many times the history's largest month
is an exploded fit, treated as a failed one (no forecast from that model for the entity):
a trend fitted on a few months and carried a whole year ahead can reach amounts no int64
of cents holds (found by tests/test_reports.py's hypothesis property on two deals)."""


def _remaining(y: np.ndarray, h: int, mtd: float, path: tuple[np.ndarray, np.ndarray] | None) -> tuple[int | None, float]:
    """One entity's remaining-year forecast (cents, >= 0) and its standard deviation (cents), from its fit.

    ``path``: the model's monthly mean and standard errors in the fit's units
    (:func:`_paths`), None for a failed fit. ``(None, nan)`` when the fit failed, is
    not finite, or exploded (:data:`EXPLODED`).
    """
    if h <= 0:
        return 0, 0.0
    scale = float(np.abs(y).mean())
    if scale == 0:  # no revenue in the whole history: every model says 0
        return 0, 0.0
    if path is None:
        return None, math.nan
    mean, se = path
    if not (np.isfinite(mean).all() and np.isfinite(se).all()):
        return None, math.nan
    peak = float(np.abs(y).max()) / scale  # the largest month of the history, in the fit's units
    if float(np.abs(mean).max()) > EXPLODED * peak or float(se.max()) > EXPLODED * peak:
        return None, math.nan  # the fit exploded (a few months' history, a long horizon): no forecast, as a failed fit
    mean = mean * scale
    total = max(0.0, float(mean[0]) - mtd) + float(mean[1:].sum())
    return float_cents(max(0.0, total)), float(se.sum()) * scale


def interval_cents(remaining: float, sd: float) -> tuple[int, int] | tuple[None, None]:
    """The stated prediction interval of a remaining-year forecast: ``remaining -/+ z sd``, low at least 0.

    ``z`` = :data:`Z_INTERVAL` (central :data:`INTERVAL`, a normal approximation).
    Whole cents (half away from zero); ``(None, None)`` when either input is missing.
    """
    if remaining is None or sd is None or pd.isna(remaining) or pd.isna(sd):
        return None, None
    half = Z_INTERVAL * float(sd)
    return float_cents(max(0.0, float(remaining) - half)), float_cents(float(remaining) + half)


def summing_matrix(groups: Mapping[str, Sequence[str]], bottom: Sequence[str], factors: Mapping[str, float]) -> np.ndarray:
    """The summing matrix S of a hierarchy: upper series (one per group) then the bottom series.

    Row of group ``g``: ``factors[g]`` on its members' columns (1 when every deal
    of the group credits one member; with overlapping credits, the group's
    each-deal-once revenue over its members' credits in the last year, so the
    constraint is the one the data obeys). Bottom rows: the identity.
    """
    col = {b: j for j, b in enumerate(bottom)}
    upper = np.zeros((len(groups), len(bottom)))
    for i, (g, members) in enumerate(groups.items()):
        for a in members:
            upper[i, col[a]] = float(factors.get(g, 1.0))
    return np.vstack([upper, np.eye(len(bottom))])


def reconcile(base: np.ndarray, s: np.ndarray) -> np.ndarray:
    """WLS structural-scaling reconciliation: ``S (S' W^-1 S)^-1 S' W^-1 y``, ``W = diag(S 1)``.

    Parameters
    ----------
    base : ndarray
        Base forecasts in the order of the rows of ``s`` (upper series, then bottom).
    s : ndarray
        :func:`summing_matrix`.

    Returns
    -------
    ndarray
        Reconciled forecasts, same order: every upper series is exactly its row of
        ``s`` applied to the bottom series. A negative bottom forecast is set to 0
        and the upper series summed again (bottom-up after the projection), so the
        result adds up and no forecast is negative.
    """
    w = s.sum(axis=1)
    w = np.where(w > 0, w, 1.0)
    winv = 1.0 / w
    a = s.T * winv  # S' W^-1
    bottom = np.linalg.solve(a @ s, a @ base)
    bottom = np.maximum(bottom, 0.0)
    return s @ bottom
