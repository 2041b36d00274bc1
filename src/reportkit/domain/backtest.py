"""Backtest of the annual forecast methods: replay history, measure WAPE and bias.

At each fiscal quarter end ``q`` (Q1..Q3: at the Q4 end nothing of the year is
left to forecast) that the data covers, :func:`backtest_forecasts`

1. sees only the deals with ``close_date <= q.end`` (the revenue rows of every level
   are the whole data set's credits cut at ``q.end``, which are the credits of the
   data cut there: :mod:`reportkit.domain.forecast_inputs`, "Credit once, cut the
   rows"; history start and level roll-ups come from them, and the pipeline snapshot
   is dropped: it describes *today's* open deals, not the pipeline as it stood at
   ``q.end``), so nothing after the cutoff can leak in;
2. forecasts the rest of the fiscal year (``q.end`` + 1 day .. year end) for every
   entity of every level with each method in
   :data:`reportkit.domain.forecast_choice.BASE_METHODS` (the rules and the statsmodels
   models, the models with an 80 % interval), plus ``selected`` (per level, the method
   the *earlier* cutoffs' complete years scored best) and ``reconciled`` (those made to
   add up across levels: the default), by :func:`reportkit.domain.forecast_choice.forecast_at`;
3. compares with what actually closed in that window (from the full data).

:func:`summarise_backtest` reports per level and method

* **WAPE** = ``sum |actual - forecast| / sum |actual|`` (weighted absolute
  percentage error: a volume-weighted MAPE that stays defined when a single
  actual is 0; Kolassa & Schütz 2007) and
* **bias** = ``sum (forecast - actual) / sum |actual|`` (positive = over-forecast),

over the *remaining-year* amounts (the YTD part is known and would flatter the
figures), and the 80 % interval's **coverage** (share of actuals inside it). The
baseline is ``seasonal_naive`` (remaining quarters = the same quarters last year); it
needs last year's history, so the headline comparison (``scope == "with prior year"``)
uses only entities that had revenue in a fully covered last year (the others:
:func:`entities_without_last_year`). The ``scope == "all"`` rows cover every cutoff
for the methods defined there. :func:`forecast_hierarchy` is the same forecast as of a
report's date, with the choice resting on the whole backtest before it.

:func:`run_backtest` = summarise(backtest_forecasts(...)). The files and the console
table of ``reportkit backtest PARAMS.yaml --output-dir DIR`` are the render layer's
(:mod:`reportkit.render.backtest`): the domain writes no files.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from decimal import Decimal

import numpy as np
import pandas as pd

from ..core.cache import ContentCache
from ..core.money import cents_to_money
from ..core.periods import Period
from ..data.model import Dataset
from .forecast import COMPANY, LEVELS, revenue_by_entity
from .forecast_choice import (
    BASE_METHODS,
    MIN_CALIBRATION_ROWS,
    RECONCILED,
    RECONCILIATION,
    SELECTED,
    bias,
    forecast_at,
    known_by,
    wape,
)
from .forecast_inputs import level_revenues, revenue_through
from .forecast_models import (
    INTERVAL,
    MIN_MONTHS,
    MODEL_METHODS,
    ModelFits,
    interval_cents,
    model_inputs,
)

__all__ = [
    "BASELINE",
    "DETAIL_COLUMNS",
    "SUMMARY_COLUMNS",
    "backtest_cutoffs",
    "backtest_forecasts",
    "entities_without_last_year",
    "forecast_hierarchy",
    "hierarchy_evidence",
    "HIERARCHY_COLUMNS",
    "choice_words",
    "fallback_words",
    "next_year_words",
    "range_words",
    "method_words",
    "summarise_backtest",
    "run_backtest",
    "forecast_accuracy",
    "wape",
    "bias",
]

#: The benchmark every method is compared with.
BASELINE = "seasonal_naive"

DETAIL_COLUMNS = (
    "cutoff",
    "quarter",
    "fiscal_year",
    "level",
    "entity",
    "method",
    "full_prior_year",
    "forecast_remaining_cents",
    "actual_remaining_cents",
    "actuals_until",
    "has_last_year",
    "forecast_low_cents",
    "forecast_high_cents",
    "chosen_method",
    "interval_sd_cents",
    "interval_scale",
    "interval_n",
)

SUMMARY_COLUMNS = (
    "scope",
    "level",
    "method",
    "n_forecasts",
    "n_cutoffs",
    "actual_remaining",
    "abs_error",
    "wape",
    "bias",
    "baseline_wape",
    "beats_baseline",
    "coverage",
)


def backtest_cutoffs(dataset: Dataset, as_of_quarters: Sequence[str | Period] | None = None) -> list[Period]:
    """Fiscal quarters whose end is a backtest cutoff.

    Default: every Q1..Q3 whose end date is on or after the first deal and on or
    before the last deal of the data set (so the quarter, and some of the rest of
    the year, is covered). Explicit labels (``"FY2020-Q2"``) or Periods are taken
    as given (Q4 is allowed but contributes nothing: no remaining year).
    """
    cal = dataset.calendar
    if as_of_quarters is not None:
        out = [q if isinstance(q, Period) else Period.parse(str(q), cal) for q in as_of_quarters]
        for q in out:
            if q.kind != "quarter":
                raise ValueError(f"backtest cutoff {q.label} is not a fiscal quarter")
        return out
    d = dataset.deals["close_date"]
    if d.dropna().empty:
        return []
    first, last = pd.Timestamp(d.min()).date(), pd.Timestamp(d.max()).date()
    q = cal.period_of(first, "quarter")
    out = []
    while q.end <= last:
        if q.number < 4 and q.end >= first:
            out.append(q)
        q = q.shift(1)
    return out


def _cut(dataset: Dataset, cutoff: datetime.date, columns: Sequence[str] | None = None) -> Dataset:
    """The data set as it stood at ``cutoff``: deals closed on or before it, no pipeline snapshot.

    ``columns``: only these columns of the deals (None: every column). A reader that needs
    few of them gets no copy of the others (the backtest's cutoffs: :data:`_CUT_COLUMNS`).
    """
    deals = dataset.deals
    keep = (deals["close_date"] <= np.datetime64(cutoff, "ns")).to_numpy()
    if columns is not None:
        deals = deals[[c for c in deals.columns if c in columns]]
    return dataclasses.replace(dataset, deals=deals.loc[keep].reset_index(drop=True), pipeline=None)


#: The deal columns :func:`backtest_forecasts` hands :func:`reportkit.domain.forecast_choice.forecast_at`
#: at each cutoff: it gives every level's revenue rows, so the forecast reads no deal (only the calendar
#: and the account managers); the cut keeps the date it is cut by, not a copy of every deal column
#: (+86 MB at the last cutoff at 800,000 deals: docs/batch.md, "Session 9, the tail").
_CUT_COLUMNS = ("close_date",)


def backtest_forecasts(
    dataset: Dataset,
    *,
    levels: Sequence[str] = LEVELS,
    methods: Sequence[str] = BASE_METHODS,
    as_of_quarters: Sequence[str | Period] | None = None,
    revenues: Mapping[str, pd.DataFrame] | None = None,
    executor: Executor | None = None,
    fit_cache: ContentCache | None = None,
) -> pd.DataFrame:
    """One row per (cutoff, level, entity, method): the remaining-year forecast, its interval and the actual.

    Each cutoff is forecast by :func:`reportkit.domain.forecast_choice.forecast_at`
    on the data as it stood at it, with the rows of the earlier cutoffs as the evidence
    for the per-level choice (``selected``; ``reconciled`` when the three levels
    are asked), so the chosen method at a cutoff rests only on earlier years'
    complete actuals. Entities of a cutoff are those with revenue in the fiscal
    year before it, the year to date, or the rest of the year (an entity that
    only appears after the cutoff gets a forecast of 0 -- a real miss).

    The work is done in two parts (``docs/forecasting.md``, "Speed and memory"):
    the data set is credited **once** and each cutoff reads its revenue rows up to
    the cutoff (:func:`reportkit.domain.forecast_inputs.revenue_through`: the same rows
    as crediting the data cut there), and the statsmodels fits of every cutoff and
    level, which depend on nothing but their own monthly series, are handed out first --
    read from ``fit_cache`` where it holds them, the others to ``executor`` when one is
    given -- then the sequential part (the rules, the choice on the earlier cutoffs' rows,
    reconciliation) runs cutoff by cutoff. The figures are the same either way.

    Parameters
    ----------
    dataset : Dataset
    levels : sequence of {"account_manager", "team", "company"}
    methods : sequence of str
        Subset of :data:`reportkit.domain.forecast_choice.BASE_METHODS`.
    as_of_quarters : sequence of quarter labels or Periods, optional
        Cutoffs (quarter ends); default :func:`backtest_cutoffs`.
    revenues : mapping level -> DataFrame, optional
        :func:`reportkit.domain.forecast_inputs.level_revenues` of ``dataset`` when the
        caller has it (every level of ``levels``).
    executor : concurrent.futures.Executor, optional
        Where the model fits run (a process pool whose workers imported the models:
        the fits are Python-bound); each task pickles one level's monthly series at one
        cutoff (a few KB), never the data set. Every fit not in ``fit_cache`` is
        submitted at once, in cutoff order, and this process waits for them (it imports
        no model); a broken pool falls back to fitting here.
    fit_cache : ContentCache, optional
        :func:`reportkit.domain.forecast_models.fit_cache`: fits it holds are read, not
        made; new ones are stored (by whichever process fits them). The same figures.

    Returns
    -------
    DataFrame
        Columns :data:`DETAIL_COLUMNS`: ``cutoff`` and ``actuals_until`` (the
        forecast year's end) are ``datetime.date``; ``full_prior_year`` (the data
        covers the last fiscal year) and ``has_last_year`` (and this entity had
        revenue in it: the head-to-head rows) bool; ``forecast_remaining_cents``,
        ``forecast_low_cents``, ``forecast_high_cents`` Int64 (NA where undefined;
        the interval is the 80 % prediction interval, NA for the rules);
        ``actual_remaining_cents`` int64; ``chosen_method`` (the method a
        ``selected`` / ``reconciled`` row used, '' otherwise); ``interval_sd_cents``
        (float: the standard deviation behind the interval, NaN for the rules) and
        ``interval_scale`` (float: the calibration factor of the ``selected`` /
        ``reconciled`` interval, :func:`reportkit.domain.forecast_choice.interval_scale`) and
        ``interval_n`` (int: the earlier rows it was calibrated on; 0 = the model's own interval).

    Raises
    ------
    ValueError
        A level or a method that cannot be backtested.
    """
    for lv in levels:
        if lv not in LEVELS:
            raise ValueError(f"level {lv!r} is not one of {LEVELS}")
    bad = [m for m in methods if m not in BASE_METHODS]
    if bad:
        raise ValueError(f"methods {bad} cannot be backtested (only {BASE_METHODS}; the pipeline is a snapshot)")
    # each level's revenue rows of the full data: the actuals, and (cut at each cutoff) what the forecasts see
    full = {lv: revenues[lv] for lv in levels} if revenues is not None else level_revenues(dataset, levels)
    history_start = pd.Timestamp(dataset.deals["close_date"].min()).date() if len(dataset.deals) else None
    keep = set(methods) | {SELECTED, RECONCILED}
    models = tuple(m for m in methods if m in MODEL_METHODS)
    cal = dataset.calendar
    # 1. per cutoff: its entities, its actuals and the models' monthly series (independent of the other cutoffs)
    cutoffs = []
    for q in sorted(backtest_cutoffs(dataset, as_of_quarters), key=lambda p: p.end):
        cutoff, year = q.end, q.year
        ly = year.same_period_last_year()
        start = history_start if history_start is not None and history_start <= cutoff else cutoff
        fy = cal.period_of(cutoff, "year").fiscal_year
        ents, actual, series = {}, {}, {}
        for lv in levels:
            rev = revenue_through(full[lv], cutoff)  # no look-ahead: the forecasts below see only these rows
            d = full[lv]["close_date"]
            future = (d > np.datetime64(cutoff, "ns")) & (d <= np.datetime64(year.end, "ns"))
            actual[lv] = revenue_by_entity(full[lv].loc[future.to_numpy()])
            recent = rev.loc[(rev["close_date"] >= np.datetime64(ly.start, "ns")).to_numpy(), "entity"]
            ents[lv] = sorted(set(recent.unique()) | set(actual[lv].index))
            if ents[lv]:
                series[lv] = model_inputs(rev, ents[lv], fy, cutoff, cal, history_start=start, methods=models)
        cutoffs.append((q, start, ents, actual, series))
    fits = ModelFits([s for *_, series in cutoffs for s in series.values()], executor, fit_cache)
    # 2. cutoff by cutoff: the rules, the choice on the earlier cutoffs' rows, reconciliation
    rows: list[pd.DataFrame] = []
    evidence: pd.DataFrame | None = None
    for q, start, ents, actual, series in cutoffs:
        cutoff, year = q.end, q.year
        at = forecast_at(
            _cut(dataset, cutoff, _CUT_COLUMNS),  # the revenues below are every level's: no deal column is read
            cutoff,
            entities=ents,
            history_start=start,
            methods=methods,
            evidence=evidence,
            revenues={lv: revenue_through(full[lv], cutoff) for lv in levels},
            fitted={lv: fits.result(s) for lv, s in series.items()},
        )
        if at.empty:
            continue
        at = at.loc[at["method"].isin(keep).to_numpy()]
        act = pd.Series([int(actual[lv].get(e, 0)) for lv, e in zip(at["level"], at["entity"])], index=at.index, dtype="int64")
        done = at.assign(
            cutoff=cutoff, quarter=q.label, fiscal_year=q.fiscal_year, actuals_until=year.end, actual_remaining_cents=act
        )
        rows.append(done)
        evidence = pd.concat([evidence, done], ignore_index=True) if evidence is not None else done
    if not rows:
        return pd.DataFrame({c: pd.Series([], dtype="object") for c in DETAIL_COLUMNS})
    out = pd.concat(rows, ignore_index=True)
    out["actual_remaining_cents"] = out["actual_remaining_cents"].astype("int64")
    for c in ("quarter", "level", "entity", "method", "chosen_method"):
        out[c] = out[c].astype("str")
    return out.loc[:, list(DETAIL_COLUMNS)].reset_index(drop=True)


def entities_without_last_year(detail: pd.DataFrame) -> pd.DataFrame:
    """Entities left out of the head-to-head: forecast with a full prior year in the data but no revenue in it.

    Returns
    -------
    DataFrame
        ``level``, ``entity``, ``cutoffs`` (how many cutoffs), ``actual_remaining``
        (their remaining-year actuals summed, currency units, Decimal), one row per
        entity, in level order.
    """
    cols = ["level", "entity", "cutoffs", "actual_remaining"]
    if detail.empty:
        return pd.DataFrame({c: pd.Series([], dtype="object") for c in cols})
    d = detail.loc[
        (
            detail["full_prior_year"].astype(bool) & ~detail["has_last_year"].astype(bool) & (detail["method"] == BASELINE)
        ).to_numpy()
    ]
    g = d.groupby(["level", "entity"], sort=False).agg(cutoffs=("cutoff", "nunique"), cents=("actual_remaining_cents", "sum"))
    out = g.reset_index()
    out["actual_remaining"] = [cents_to_money(int(c)) for c in out["cents"]]
    order = {lv: i for i, lv in enumerate(LEVELS)}
    out = out.sort_values(["level", "entity"], key=lambda s: s.map(order) if s.name == "level" else s, kind="stable")
    return out.loc[:, cols].reset_index(drop=True)


def summarise_backtest(detail: pd.DataFrame) -> pd.DataFrame:
    """WAPE and bias per scope, level and method from :func:`backtest_forecasts` rows.

    ``scope == "with prior year"``: only forecasts of entities that had revenue
    in the last fiscal year, with the data covering all of it (``has_last_year``),
    where the seasonal-naive baseline means something: the head-to-head; the
    entities left out are :func:`entities_without_last_year`.
    ``scope == "all"``: every forecast where the method is defined.
    ``baseline_wape`` is the baseline's WAPE on the *same* rows and
    ``beats_baseline`` is ``wape < baseline_wape`` (NA without a baseline).
    ``coverage`` is the share of actuals inside the 80 % interval
    (``forecast_low_cents`` .. ``forecast_high_cents``) over the rows that have
    one (NaN for a method without intervals). Money columns (``actual_remaining``,
    ``abs_error``) are in currency units (float).
    """
    out = []
    if detail.empty:
        return pd.DataFrame({c: pd.Series([], dtype="object") for c in SUMMARY_COLUMNS})
    key = ["cutoff", "level", "entity"]
    base = detail.loc[detail["method"] == BASELINE, key + ["forecast_remaining_cents"]].rename(
        columns={"forecast_remaining_cents": "_base"}
    )
    d = detail.merge(base, on=key, how="left") if len(base) else detail.assign(_base=pd.NA)
    for scope in ("with prior year", "all"):
        s = d.loc[d["has_last_year"].astype(bool).to_numpy()] if scope == "with prior year" else d
        s = s.loc[s["forecast_remaining_cents"].notna().to_numpy()]
        for (lv, m), g in s.groupby(["level", "method"], sort=False):
            a = g["actual_remaining_cents"].astype("float64")
            f = g["forecast_remaining_cents"].astype("float64")
            has_b = g["_base"].notna().to_numpy()
            bw = wape(a[has_b], g.loc[has_b, "_base"].astype("float64")) if has_b.all() and len(g) else float("nan")
            w = wape(a, f)
            iv = g["forecast_low_cents"].notna().to_numpy() & g["forecast_high_cents"].notna().to_numpy()
            gi = g.loc[iv]
            inside = (gi["forecast_low_cents"] <= gi["actual_remaining_cents"]) & (
                gi["actual_remaining_cents"] <= gi["forecast_high_cents"]
            )
            out.append(
                {
                    "scope": scope,
                    "level": lv,
                    "method": m,
                    "n_forecasts": len(g),
                    "n_cutoffs": int(g["cutoff"].nunique()),
                    "actual_remaining": float(a.sum()) / 100,
                    "abs_error": float((a - f).abs().sum()) / 100,
                    "wape": w,
                    "bias": bias(a, f),
                    "baseline_wape": bw,
                    "beats_baseline": (pd.NA if np.isnan(bw) or m == BASELINE else bool(w < bw)),
                    "coverage": float(inside.astype(bool).mean()) if len(gi) else float("nan"),
                }
            )
    res = pd.DataFrame(out, columns=list(SUMMARY_COLUMNS))
    order = {lv: i for i, lv in enumerate(LEVELS)}
    res["_o"] = res["level"].map(order)
    res = res.sort_values(["scope", "_o", "method"], ascending=[False, True, True], kind="stable").drop(columns="_o")
    res["beats_baseline"] = res["beats_baseline"].astype("boolean")
    return res.reset_index(drop=True)


def run_backtest(
    dataset: Dataset,
    *,
    levels: Sequence[str] = LEVELS,
    methods: Sequence[str] = BASE_METHODS,
    as_of_quarters: Sequence[str | Period] | None = None,
    fit_cache: ContentCache | None = None,
) -> pd.DataFrame:
    """Replay history and report WAPE and bias per method and level (see the module docstring).

    Parameters
    ----------
    dataset : Dataset
    levels : sequence of {"account_manager", "team", "company"}
    methods : sequence of str
        Subset of :data:`reportkit.domain.forecast.HISTORY_METHODS`; the baseline
        ``seasonal_naive`` is always added.
    as_of_quarters : sequence of quarter labels or Periods, optional
        Cutoffs (quarter ends); default :func:`backtest_cutoffs`.
    fit_cache : ContentCache, optional
        As for :func:`backtest_forecasts`: model fits it holds are read, not made.

    Returns
    -------
    DataFrame
        Columns :data:`SUMMARY_COLUMNS`. The per-forecast rows are available
        from :func:`backtest_forecasts` (same arguments).
    """
    ms = list(dict.fromkeys([*methods, BASELINE]))
    return summarise_backtest(
        backtest_forecasts(dataset, levels=levels, methods=ms, as_of_quarters=as_of_quarters, fit_cache=fit_cache)
    )


#: Columns of :func:`forecast_hierarchy`.
HIERARCHY_COLUMNS = (
    "level",
    "entity",
    "method",
    "chosen_method",
    "backtest_wape",
    "backtest_baseline_wape",
    "backtest_n",
    "coverage",
    "interval",
    "reconciliation",
    "ytd_revenue",
    "forecast",
    "low",
    "high",
    "base_forecast",
    "words",
)

_METHOD_WORDS = {
    "run_rate": "run rate",
    "seasonal": "seasonal (last year x growth)",
    "seasonal_naive": "seasonal naive (rest of last year)",
    "blended": "blended (damped seasonal)",
    "ets": "ETS (exponential smoothing)",
    "theta": "Theta",
    "arima": "seasonal ARIMA",
}


def method_words(method: str) -> str:
    """A forecast method's name in plain words (``"ets"`` -> ``"ETS (exponential smoothing)"``)."""
    return _METHOD_WORDS.get(method, method.replace("_", " "))


def hierarchy_evidence(
    dataset: Dataset,
    as_of: datetime.date,
    *,
    revenues: Mapping[str, pd.DataFrame] | None = None,
    executor: Executor | None = None,
    fit_cache: ContentCache | None = None,
) -> pd.DataFrame:
    """The backtest a forecast as of ``as_of`` chooses by: the data cut at ``as_of``, the cutoffs whose year had ended by then.

    :func:`backtest_forecasts` of ``dataset`` as it stood at ``as_of`` (nothing later
    is read), at the Q1..Q3 ends of the fiscal years over by ``as_of`` (their actuals
    are complete), with the columns :func:`forecast_hierarchy` and
    :func:`forecast_accuracy` read only, so a
    caller that forecasts two years from it (this year and, at year end, the next)
    keeps a narrow frame and runs the backtest once. ``revenues``:
    :func:`reportkit.domain.forecast_inputs.level_revenues` of ``dataset`` when the caller
    has it (cut at ``as_of`` here); ``executor`` and ``fit_cache``: where the model fits
    run and are kept (:func:`backtest_forecasts`).
    """
    past = _cut(dataset, as_of)
    done = [q for q in backtest_cutoffs(past) if q.year.end <= as_of]
    revs = _revenues_at(past, as_of, revenues)
    detail = backtest_forecasts(past, as_of_quarters=done, revenues=revs, executor=executor, fit_cache=fit_cache)
    return detail.drop(columns=["fiscal_year"], errors="ignore")


def _revenues_at(past: Dataset, as_of: datetime.date, revenues: Mapping[str, pd.DataFrame] | None) -> dict[str, pd.DataFrame]:
    """Every level's revenue rows as they stood at ``as_of``: the caller's whole-data ones cut there, else credited here."""
    if revenues is None:
        return level_revenues(past)
    return {lv: revenue_through(revenues[lv], as_of) for lv in LEVELS}


def forecast_hierarchy(
    dataset: Dataset,
    fiscal_year: int,
    as_of: datetime.date,
    *,
    detail: pd.DataFrame | None = None,
    revenues: Mapping[str, pd.DataFrame] | None = None,
    fit_cache: ContentCache | None = None,
    executor: Executor | None = None,
) -> pd.DataFrame:
    """The year's forecast of every account manager, team and the company, as a report shows it.

    Every level's method is chosen by the rolling-origin backtest of the data as
    it stood at ``as_of`` (:func:`reportkit.domain.forecast_choice.choose_method`:
    the lowest WAPE over the earlier years whose actuals are complete), the
    chosen forecasts are reconciled so that account managers add up to their
    team and teams to the company (:data:`~reportkit.domain.forecast_choice.RECONCILIATION`),
    and the range is the 80 % prediction interval (:data:`~reportkit.domain.forecast_models.INTERVAL`).

    Parameters
    ----------
    dataset : Dataset
    fiscal_year : int
        The year forecast; ``as_of`` must lie in it, or be the last day of the year
        before (**next year's forecast at year end**: the whole year is forecast, its
        YTD is 0, with the method each level chose by the same backtest; ``words``
        says which year and that the backtest tested shorter horizons).
    as_of : date
        Forecast date (never ``today()``): deals after it are not read.
    detail : DataFrame, optional
        :func:`backtest_forecasts` (or :func:`hierarchy_evidence`) of ``dataset`` when
        the caller has it (rows whose actuals end after ``as_of`` are ignored either way).
    revenues : mapping level -> DataFrame, optional
        :func:`reportkit.domain.forecast_inputs.level_revenues` of ``dataset`` when the
        caller has it (one crediting for the backtest and both years' forecasts).
    fit_cache : ContentCache, optional
        Where model fits are kept between runs (:func:`backtest_forecasts`); the same figures.
    executor : concurrent.futures.Executor, optional
        Where the model fits run (:func:`backtest_forecasts`); the same figures.

    Returns
    -------
    DataFrame
        One row per level and entity (every account manager, every team, the company),
        columns :data:`HIERARCHY_COLUMNS`: ``method`` (``reconciled``; ``seasonal_naive``
        at a level where the reconciled default did not beat seasonal naive in the
        earlier backtest: the level **falls back** and ``words`` says so), ``chosen_method``
        (the level's choice, or this entity's fallback), ``backtest_wape``,
        ``backtest_baseline_wape`` (seasonal naive on the same rows) and ``backtest_n``
        (the evidence; NaN / 0 without), ``coverage`` (share of the earlier backtest's
        actuals inside the reconciled 80 % interval at this level, NaN without),
        ``interval`` (0.8), ``reconciliation`` (words; '' where the level falls back);
        money as ``Decimal``:
        ``ytd_revenue``, ``forecast`` (= YTD + reconciled remaining year), ``low`` /
        ``high`` (the interval on the full year; None without a model), ``base_forecast``
        (the chosen method before reconciliation); ``words`` (the level's choice in
        a sentence).

    Raises
    ------
    ValueError
        If ``as_of`` is neither in ``fiscal_year`` nor the last day of the year before.
    """
    cal = dataset.calendar
    year = Period(cal, "year", int(fiscal_year))
    ahead = as_of == year.start - datetime.timedelta(days=1)  # next year's forecast, at the end of this one
    if not (year.start <= as_of <= year.end or ahead):
        raise ValueError(
            f"as_of {as_of} is not in {year.label} ({year.start} .. {year.end}) nor the last day before it "
            "(next year's forecast at year end)"
        )
    past = _cut(dataset, as_of)
    if detail is None:  # only cutoffs whose year had ended by as_of can be evidence
        detail = hierarchy_evidence(dataset, as_of, revenues=revenues, fit_cache=fit_cache, executor=executor)
    evidence = detail.loc[known_by(detail, as_of)] if len(detail) else None
    am = past.account_managers
    ents = {
        "account_manager": am["account_manager_id"].astype("str").tolist(),
        "team": sorted(am["team"].astype("str").unique().tolist()),
        "company": [COMPANY],
    }
    start = pd.Timestamp(dataset.deals["close_date"].min()).date() if len(dataset.deals) else as_of
    at = forecast_at(
        past,
        as_of,
        entities=ents,
        history_start=min(start, as_of),
        evidence=evidence,
        fiscal_year=int(fiscal_year),
        chosen_only=True,
        revenues=_revenues_at(past, as_of, revenues),
        fit_cache=fit_cache,
        executor=executor,
    )
    # the level figures read the default's rows and seasonal naive's (its baseline) only
    figures = evidence.loc[evidence["method"].isin([RECONCILED, BASELINE]).to_numpy()] if evidence is not None else None
    summary = summarise_backtest(figures) if figures is not None and len(figures) else None
    base = at.loc[at["method"] == SELECTED].set_index(["level", "entity"])
    naive = at.loc[at["method"] == BASELINE].set_index(["level", "entity"])
    out = []
    figures_of = {lv: _level_figures(summary, lv) for lv in LEVELS}
    for _, r in at.loc[at["method"] == RECONCILED].iterrows():
        lv, e = r["level"], r["entity"]
        cov, bw, rw = figures_of[lv]
        fall_back = (
            not np.isnan(rw) and not np.isnan(bw) and rw > bw and not pd.isna(naive.at[(lv, e), "forecast_remaining_cents"])
        )
        if fall_back:  # issue #17 item 6: the default did not beat seasonal naive at this level
            r = naive.loc[(lv, e)].copy()
            r["chosen_method"], r["chosen_wape"], r["chosen_n"] = BASELINE, bw, int(base.at[(lv, e), "chosen_n"])
            # its range: the same model sd and calibration as the level's chosen forecast, around seasonal naive
            b = base.loc[(lv, e)]
            r["forecast_low_cents"], r["forecast_high_cents"] = interval_cents(
                r["forecast_remaining_cents"], float(b["interval_sd_cents"]) * float(b["interval_scale"])
            )
            r["interval_n"], r["interval_scale"] = int(b["interval_n"]), float(b["interval_scale"])
        ytd = int(r["ytd_cents"])
        has_range = not pd.isna(r["forecast_low_cents"])

        def total(col: str, r: pd.Series = r, ytd: int = ytd) -> Decimal | None:
            return None if pd.isna(r[col]) else cents_to_money(ytd + int(r[col]))

        out.append(
            {
                "level": lv,
                "entity": e,
                "method": BASELINE if fall_back else RECONCILED,
                "chosen_method": r["chosen_method"],
                "backtest_wape": float(r["chosen_wape"]),
                "backtest_baseline_wape": bw,
                "backtest_n": int(r["chosen_n"]),
                "coverage": cov,
                "interval": INTERVAL,
                "reconciliation": "" if fall_back else RECONCILIATION,
                "ytd_revenue": cents_to_money(ytd),
                "forecast": total("forecast_remaining_cents"),
                "low": total("forecast_low_cents"),
                "high": total("forecast_high_cents"),
                "base_forecast": cents_to_money(ytd + int(base.at[(lv, e), "forecast_remaining_cents"])),
                "words": (next_year_words(year.label) if ahead else "")
                + (
                    fallback_words(lv, rw, bw)  # its range's coverage was not backtested: not stated
                    + range_words(int(r["interval_n"]), float(r["interval_scale"]), float("nan"), has_range)
                    if fall_back
                    else choice_words(
                        lv,
                        str(r["chosen_method"]),
                        float(r["chosen_wape"]),
                        int(r["chosen_n"]),
                        bw,
                        cov,
                        has_range=has_range,
                        calibrated_on=int(r["interval_n"]),
                        scale=float(r["interval_scale"]),
                    )
                ),
            }
        )
    return pd.DataFrame(out, columns=list(HIERARCHY_COLUMNS))


def _level_figures(summary: pd.DataFrame | None, level: str) -> tuple[float, float, float]:
    """The default's interval coverage, seasonal naive's WAPE and the default's WAPE at ``level`` (NaN without)."""
    nan = float("nan")
    if summary is None:
        return nan, nan, nan
    s = summary.loc[
        ((summary["scope"] == "with prior year") & (summary["level"] == level) & (summary["method"] == RECONCILED)).to_numpy()
    ]
    if s.empty:
        return nan, nan, nan
    return float(s["coverage"].iloc[0]), float(s["baseline_wape"].iloc[0]), float(s["wape"].iloc[0])


def next_year_words(year_label: str) -> str:
    """What a year-end report says before the rule of next year's forecast: which year, and the horizon caveat."""
    return (
        f"{year_label} has not begun: this forecasts all of it, as of the last day of the year before, with the "
        "method each level chose by the backtest of earlier years. That backtest tested forecasts of the rest of a year already "
        "begun (3 to 9 months ahead), so a whole year ahead may miss by more than it says. "
    )


def fallback_words(level: str, default_wape: float, baseline_wape: float) -> str:
    """The sentence of a level that falls back to seasonal naive (the default lost to it in the backtest)."""
    return (
        f"{level.replace('_', ' ').capitalize()} forecasts: {method_words(BASELINE)}, because in the backtest of earlier "
        f"years the default (chosen and reconciled) did worse (WAPE {default_wape * 100:.1f} % against "
        f"{baseline_wape * 100:.1f} %). This level is not reconciled with the others, so it need not add up with them."
    )


def choice_words(
    level: str,
    method: str,
    wape_: float,
    n: int,
    baseline_wape: float,
    coverage: float,
    *,
    has_range: bool = True,
    calibrated_on: int = 0,
    scale: float = 1.0,
) -> str:
    """The forecast rule of a level in one plain sentence (what a report prints under the forecast).

    With no earlier backtest (``n`` 0: too little history to choose by) it says so and
    what is used instead: the benchmark (seasonal naive), or ``method`` where there is no
    last year for it (run rate). ``has_range`` False: no model could be fitted
    (:data:`~reportkit.domain.forecast_models.MIN_MONTHS` complete months), so there is no range.
    ``calibrated_on`` > 0: the range was calibrated on that many earlier backtest forecasts
    (:func:`reportkit.domain.forecast_choice.interval_scale`, the model's range times
    ``scale``); 0: it is the model's own interval, and the sentence says so.

    >>> choice_words("team", "ets", 0.081, 12, 0.19, 0.75, calibrated_on=18, scale=1.72)  # doctest: +NORMALIZE_WHITESPACE
    'Team forecasts: ETS (exponential smoothing), chosen because it had the lowest error in
    the backtest of earlier years (WAPE 8.1 % over 12 forecasts; seasonal naive 19.0 %).
    Account managers, teams and the company are reconciled so they add up (WLS structural
    scaling (MinTrace family; Athanasopoulos et al. 2017)). The range is an 80 % prediction
    interval calibrated on the errors of 18 earlier backtest forecasts (the model range
    x 1.72); in the backtest it held 75 % of the actuals.'
    """
    head = f"{level.replace('_', ' ').capitalize()} forecasts: {method_words(method)}"
    if n and not np.isnan(wape_):
        why = (
            f", chosen because it had the lowest error in the backtest of earlier years (WAPE {wape_ * 100:.1f} % over {n} forecasts"
            + (f"; seasonal naive {baseline_wape * 100:.1f} %)." if not np.isnan(baseline_wape) else ").")
        )
    elif method == BASELINE:
        why = (
            ": too little history to choose a method by backtest (no earlier year to test on), so the standard benchmark is used."
        )
    else:
        why = (
            ": too little history to choose a method by backtest (no earlier year to test on) and no last year for the "
            f"standard benchmark ({method_words(BASELINE)}), so the {method_words(method)} is used instead."
        )
    rec = f" Account managers, teams and the company are reconciled so they add up ({RECONCILIATION})."
    return head + why + rec + range_words(calibrated_on, scale, coverage, has_range)


def range_words(calibrated_on: int, scale: float, coverage: float, has_range: bool = True) -> str:
    """The sentence on a forecast's range: its stated level, how it was calibrated (or not) and its backtest coverage.

    ``calibrated_on`` earlier backtest forecasts (0: the model's own interval,
    :func:`reportkit.domain.forecast_choice.interval_scale`), ``scale`` the factor applied to the
    model's range, ``coverage`` the share of the backtest's actuals inside (NaN: not known);
    ``has_range`` False: no model could be fitted, so there is no range.
    """
    if not has_range:
        return f" No range: the statistical models need {MIN_MONTHS} complete months of history."
    rng = f" The range is an {INTERVAL:.0%} prediction interval".replace("%", " %")
    if calibrated_on:
        rng += f" calibrated on the errors of {calibrated_on} earlier backtest forecasts (the model range x {scale:.2f})"
    else:
        rng += f" from the model alone (fewer than {MIN_CALIBRATION_ROWS} earlier backtest forecasts to calibrate it on)"
    rng += f"; in the backtest it held {coverage:.0%} of the actuals.".replace("%", " %") if not np.isnan(coverage) else "."
    return rng


def forecast_accuracy(
    dataset: Dataset,
    as_of: datetime.date,
    *,
    level: str = "company",
    method: str = RECONCILED,
    last: int = 6,
    evidence: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """How well the forecast did at earlier quarter ends: the backtest of the years closed by ``as_of``.

    The data set is cut at ``as_of`` first (nothing later is known), then
    :func:`hierarchy_evidence` replays each Q1..Q3 end of a fiscal year that ended
    on or before ``as_of`` (the actual rest of the year is then known) at every
    level, and the rows of ``level`` and ``method`` are read, one per cutoff; the
    ``last`` most recent cutoffs are kept. The default ``method`` is the forecast a
    report would have shown at that cutoff: the method chosen then (on the years
    before it only) and reconciled across levels. Empty when the data holds no
    such year.

    Parameters
    ----------
    evidence : DataFrame, optional
        ``hierarchy_evidence(dataset, as_of)`` when the caller has it (a batch
        computes it once for its forecasts); computed here otherwise.

    Returns
    -------
    DataFrame
        ``quarter`` (the cutoff quarter), ``entity``, ``forecast_remaining`` and
        ``actual_remaining`` (Decimal: the rest of the year forecast at the cutoff and
        what closed), ``error`` (float fraction: (forecast - actual) / |actual|,
        NaN when the actual is 0); the forecast is NA where the method was undefined.

    Raises
    ------
    ValueError
        ``method`` is not a backtested method, ``selected`` or ``reconciled``.
    """
    if method not in (*BASE_METHODS, SELECTED, RECONCILED):
        raise ValueError(f"method {method!r} is not one of {(*BASE_METHODS, SELECTED, RECONCILED)}")
    cols = {"quarter": "str", "entity": "str", "forecast_remaining": "object", "actual_remaining": "object", "error": "float64"}
    d = evidence if evidence is not None else (hierarchy_evidence(dataset, as_of) if last > 0 else None)
    if d is not None and len(d):
        d = d.loc[((d["level"] == level) & (d["method"] == method)).to_numpy()].sort_values("cutoff", kind="stable")
        d = d.loc[d["cutoff"].isin(sorted(set(d["cutoff"]))[-last:]).to_numpy()]
    if d is None or not len(d) or last <= 0:
        return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in cols.items()})
    fc, act = d["forecast_remaining_cents"], d["actual_remaining_cents"].astype("int64")
    return pd.DataFrame(
        {
            "quarter": d["quarter"].astype("str").to_numpy(),
            "entity": d["entity"].astype("str").to_numpy(),
            "forecast_remaining": pd.Series([None if pd.isna(v) else cents_to_money(int(v)) for v in fc], dtype="object"),
            "actual_remaining": pd.Series([cents_to_money(int(v)) for v in act], dtype="object"),
            "error": pd.Series(
                [np.nan if pd.isna(f) or a == 0 else (int(f) - int(a)) / abs(int(a)) for f, a in zip(fc, act)], dtype="float64"
            ),
        }
    ).reset_index(drop=True)
