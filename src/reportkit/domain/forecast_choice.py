"""The forecast at one cutoff: every method, the method chosen per level by backtest, reconciled.

:func:`forecast_at` is the one place a forecast of every level is made, for a
backtest cutoff (:mod:`reportkit.domain.backtest` replays it quarter by quarter)
and for a report's ``as_of`` (:func:`reportkit.domain.backtest.forecast_hierarchy`):

1. **every method** for every entity of every level: the rules of
   :mod:`reportkit.domain.forecast` (:data:`~reportkit.domain.forecast.HISTORY_METHODS`)
   and the statsmodels models of :mod:`reportkit.domain.forecast_models`
   (:data:`~reportkit.domain.forecast_models.MODEL_METHODS`, with an 80 % interval);
2. **selected**: per level, the method with the lowest WAPE over the earlier
   backtest rows of that level whose actuals are all known by the cutoff (the
   fiscal year they forecast ended on or before it) and whose entity had last
   year's history (the head-to-head rows, where seasonal naive exists):
   :func:`choose_method`. Without such rows the choice is seasonal naive. An
   entity for which the chosen method is undefined gets seasonal naive, else run rate;
3. **reconciled** (with all three levels): the selected forecasts made to add
   up, account manager -> team -> company, by WLS structural scaling
   (:func:`reportkit.domain.forecast_models.reconcile`); the interval moves with
   its forecast (same width).

The range of ``selected`` / ``reconciled`` is the 80 % interval ``forecast -/+ z k sd``:
``sd`` is the chosen model's (for a rule with no model behind it, the entity's ETS one,
else Theta's, else ARIMA's) and ``k`` calibrates it on the earlier backtests
(:func:`interval_scale`: split-conformal; ``k = 1``, the model's own interval, with too
few earlier rows). Every figure is the **remaining-year** amount in whole cents.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor

import numpy as np
import pandas as pd

from ..core.cache import ContentCache
from ..data.model import Dataset
from .crediting import credited_deals
from .forecast import HISTORY_METHODS, forecast_methods
from .forecast_inputs import COMPANY, LEVELS, level_revenue, revenue_by_entity, team_of
from .forecast_models import (
    INTERVAL,
    MODEL_METHODS,
    Z_INTERVAL,
    fit_models_in,
    float_cents,
    interval_cents,
    model_inputs,
    reconcile,
    summing_matrix,
)

__all__ = [
    "BASE_METHODS",
    "SELECTED",
    "RECONCILED",
    "CHOICE_FALLBACK",
    "RECONCILIATION",
    "AT_COLUMNS",
    "wape",
    "bias",
    "choose_method",
    "interval_scale",
    "known_by",
    "MIN_CALIBRATION_ROWS",
    "forecast_at",
]

#: Methods forecast for every entity: the rules, then the statsmodels models.
BASE_METHODS: tuple[str, ...] = (*HISTORY_METHODS, *MODEL_METHODS)
#: Per level, the method the earlier backtests chose (:func:`choose_method`).
SELECTED = "selected"
#: The selected forecasts reconciled across levels: the default.
RECONCILED = "reconciled"
#: The choice when no earlier backtest row exists: the standard benchmark.
CHOICE_FALLBACK = "seasonal_naive"
#: The reconciliation, in words (reports state it).
RECONCILIATION = "WLS structural scaling (MinTrace family; Athanasopoulos et al. 2017)"

#: Fewest earlier rows :func:`interval_scale` calibrates on.
MIN_CALIBRATION_ROWS = 6

#: Columns of :func:`forecast_at`.
AT_COLUMNS = (
    "level",
    "entity",
    "method",
    "full_prior_year",
    "has_last_year",
    "ytd_cents",
    "forecast_remaining_cents",
    "forecast_low_cents",
    "forecast_high_cents",
    "interval_sd_cents",
    "interval_scale",
    "interval_n",
    "chosen_method",
    "chosen_wape",
    "chosen_n",
)


def wape(actual: Sequence[float] | pd.Series, forecast: Sequence[float] | pd.Series) -> float:
    """``sum |actual - forecast| / sum |actual|``; NaN when every actual is 0.

    >>> wape([100, 50], [90, 70])
    0.2
    """
    a = np.asarray(actual, dtype="float64")
    f = np.asarray(forecast, dtype="float64")
    den = np.abs(a).sum()
    return float(np.abs(a - f).sum() / den) if den else float("nan")


def bias(actual: Sequence[float] | pd.Series, forecast: Sequence[float] | pd.Series) -> float:
    """``sum (forecast - actual) / sum |actual|`` (positive = over-forecast); NaN when every actual is 0."""
    a = np.asarray(actual, dtype="float64")
    f = np.asarray(forecast, dtype="float64")
    den = np.abs(a).sum()
    return float((f - a).sum() / den) if den else float("nan")


def choose_method(
    evidence: pd.DataFrame | None, level: str, cutoff: datetime.date, candidates: Sequence[str] = BASE_METHODS
) -> tuple[str, float, int]:
    """The method with the lowest backtest WAPE at ``level`` on rows whose actuals are known by ``cutoff``.

    Parameters
    ----------
    evidence : DataFrame or None
        Backtest rows (:data:`reportkit.domain.backtest.DETAIL_COLUMNS`). Used:
        ``level``, ``has_last_year`` rows whose ``actuals_until <= cutoff`` (no
        look-ahead: the whole remaining year they forecast is known).
    level : str
    cutoff : date
    candidates : sequence of str
        A candidate undefined on any of those rows is not eligible; ties go to
        the earlier candidate.

    Returns
    -------
    (method, wape, n)
        ``n`` = rows scored. Without rows: ``(CHOICE_FALLBACK, nan, 0)``.
    """
    if evidence is None or evidence.empty:
        return CHOICE_FALLBACK, float("nan"), 0
    e = evidence.loc[
        ((evidence["level"] == level).to_numpy() & evidence["has_last_year"].astype(bool).to_numpy() & known_by(evidence, cutoff))
    ]
    if e.empty:
        return CHOICE_FALLBACK, float("nan"), 0
    method = e["method"].to_numpy(object)
    n = int((method == CHOICE_FALLBACK).sum()) or e.groupby(["cutoff", "entity"]).ngroups
    fc = e["forecast_remaining_cents"]
    na, f = fc.isna().to_numpy(), fc.to_numpy("float64", na_value=np.nan)
    a = e["actual_remaining_cents"].astype("float64").to_numpy()
    best: tuple[str, float, int] | None = None
    for m in candidates:
        g = method == m
        if int(g.sum()) < n or na[g].any():
            continue
        w = wape(a[g], f[g])
        if best is None or w < best[1]:
            best = (m, w, int(g.sum()))
    return best if best is not None else (CHOICE_FALLBACK, float("nan"), 0)


def known_by(evidence: pd.DataFrame, cutoff: datetime.date) -> np.ndarray:
    """Which backtest rows' actuals are complete by ``cutoff`` (``actuals_until <= cutoff``): the no-look-ahead mask.

    ``actuals_until`` as ``datetime.date`` (what :func:`reportkit.domain.backtest.backtest_forecasts`
    writes) is compared as is; any other form (text, timestamps) through ``pd.to_datetime``.
    """
    u = evidence["actuals_until"].to_numpy(object)
    if all(type(v) is datetime.date for v in u):
        return np.array([v <= cutoff for v in u], dtype=bool)
    return (pd.to_datetime(evidence["actuals_until"]) <= pd.Timestamp(cutoff)).to_numpy()


def interval_scale(evidence: pd.DataFrame | None, level: str, cutoff: datetime.date) -> tuple[float, int]:
    """How much the default's interval must widen (> 1) or narrow (< 1) to hold 80 % of the earlier actuals.

    Split-conformal calibration with normalised scores (Vovk, Gammerman & Shafer 2005;
    Lei et al. 2018, "Distribution-free predictive inference for regression", section 5.2;
    Angelopoulos & Bates 2023, section 1): over the earlier ``reconciled`` backtest rows
    whose actuals are complete by ``cutoff`` (``actuals_until <= cutoff``: no look-ahead)
    and that had an interval (``interval_sd_cents > 0``), the scores
    ``|actual - forecast| / sd`` are scale-free; ``k`` is their finite-sample conformal
    quantile, the ``ceil((n + 1) * 0.8)``-th smallest of the ``n`` scores, over ``z``, so
    ``forecast -/+ z k sd`` would have held at least 80 % of them. Every such row counts,
    also those of entities without last year's revenue (they were forecast and their
    actuals are known: the calibration is about the range, not the head-to-head).
    The rows of ``level`` when there are :data:`MIN_CALIBRATION_ROWS`, else those of
    every level (the scores are in units of each row's own sd).

    Parameters
    ----------
    evidence : DataFrame or None
        Backtest rows (:data:`reportkit.domain.backtest.DETAIL_COLUMNS`).
    level : str
    cutoff : date

    Returns
    -------
    (k, n)
        ``n`` = rows calibrated on; with fewer than :data:`MIN_CALIBRATION_ROWS`
        ``(1.0, 0)``: the model's own interval (the reports say which).
    """
    if evidence is None or evidence.empty or "interval_sd_cents" not in evidence:
        return 1.0, 0
    e = evidence.loc[
        (
            (evidence["method"] == RECONCILED).to_numpy()
            & known_by(evidence, cutoff)
            & (evidence["interval_sd_cents"].astype("float64") > 0).to_numpy()
            & evidence["forecast_remaining_cents"].notna().to_numpy()
        )
    ]
    if (e["level"] == level).sum() >= MIN_CALIBRATION_ROWS:
        e = e.loc[(e["level"] == level).to_numpy()]
    n = len(e)
    if n < MIN_CALIBRATION_ROWS:
        return 1.0, 0
    err = (e["actual_remaining_cents"].astype("float64") - e["forecast_remaining_cents"].astype("float64")).abs()
    scores = np.sort((err / e["interval_sd_cents"].astype("float64")).to_numpy())
    rank = min(n, math.ceil((n + 1) * INTERVAL - 1e-9))  # the conformal order statistic (1-based)
    return float(scores[rank - 1] / Z_INTERVAL), n


def _level_rows(
    rev: pd.DataFrame,
    ents: list[str],
    fy: int,
    cutoff: datetime.date,
    ds: Dataset,
    start: datetime.date,
    methods: Sequence[str],
    models: Sequence[str] | None = None,
    fitted: pd.DataFrame | None = None,
    fit_cache: ContentCache | None = None,
    executor: Executor | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every base method's remaining-year forecast (and interval) per entity of one level; the model SDs.

    One row per method and entity, method by method (each in ``ents`` order); built
    from arrays in one frame (a frame per method cost more than the rules themselves).
    ``models``: fit only these of the models in ``methods`` (the others have no rows).
    ``fitted``: :func:`~reportkit.domain.forecast_models.model_forecasts` of these
    arguments (every model of ``methods``) when the caller fitted them already;
    ``fit_cache``: where fits are kept between runs (:func:`~reportkit.domain.forecast_models.fit_cache`);
    ``executor``: where the missing ones are made (:func:`~reportkit.domain.forecast_models.fit_models_in`).
    """
    f = forecast_methods(rev, ents, fy, cutoff, ds.calendar, history_start=start)
    mods = [m for m in methods if m in MODEL_METHODS and (models is None or m in models)]
    methods = [m for m in methods if m not in MODEL_METHODS or m in mods]
    if fitted is None:
        series = model_inputs(rev, ents, fy, cutoff, ds.calendar, history_start=start, methods=mods)
        fitted = fit_models_in(series, executor, fit_cache)
    mf = fitted
    n, k = len(ents), len(methods)
    ytd = f["ytd_cents"].astype("int64").to_numpy()
    fpy = f["full_prior_year"].astype(bool).to_numpy()
    has_ly = fpy & (f["ly_total_cents"] > 0).to_numpy()
    rem, low, high, sd = [], [], [], []
    for m in methods:
        if m in MODEL_METHODS:
            r, s = mf[f"{m}_remaining_cents"].astype("Int64"), mf[f"{m}_sd_cents"].to_numpy("float64")
            iv = [interval_cents(a, b) for a, b in zip(r, s)]
            low += [a for a, _ in iv]
            high += [b for _, b in iv]
        else:
            r, s = f[f"{m}_cents"].astype("Int64") - f["ytd_cents"], np.full(n, np.nan)
            low += [None] * n
            high += [None] * n
        rem.append(r.array)
        sd.append(s)
    base = pd.DataFrame(
        {
            "entity": pd.Series(list(ents) * k, dtype="str"),
            "method": pd.Series(np.repeat(np.asarray(methods, dtype=object), n), dtype="str"),
            "full_prior_year": np.tile(fpy, k),
            "has_last_year": np.tile(has_ly, k),
            "ytd_cents": np.tile(ytd, k),
            "forecast_remaining_cents": pd.array(pd.concat([pd.Series(a) for a in rem], ignore_index=True), dtype="Int64")
            if k
            else pd.array([], dtype="Int64"),
            "forecast_low_cents": pd.array(low, dtype="Int64"),
            "forecast_high_cents": pd.array(high, dtype="Int64"),
            "interval_sd_cents": np.concatenate(sd) if k else np.zeros(0),
        }
    )
    sds = mf.set_index("entity")[[f"{m}_sd_cents" for m in mods]]
    return base, sds


def _selected(base: pd.DataFrame, sds: pd.DataFrame, choice: tuple[str, float, int], scale: float) -> pd.DataFrame:
    """The ``selected`` rows of one level: the chosen method per entity (with the per-entity fallback).

    The interval is ``forecast -/+ z * scale * sd`` with the chosen model's ``sd`` (for a
    rule: ETS's, else Theta's, else ARIMA's) and ``scale`` from :func:`interval_scale`.
    ``base`` is :func:`_level_rows`' frame: every method's rows in the same entity order.
    """
    method, w, n = choice
    names = base["method"].to_numpy(object)
    first = names[0] if len(names) else None
    ents = base.loc[(names == first), "entity"].tolist() if first is not None else []
    ne = len(ents)
    at = {m: i * ne for i, m in enumerate(dict.fromkeys(names))}  # each method's first row
    fcs = base["forecast_remaining_cents"].tolist()
    fpy, has_ly, ytd = (base[c].tolist() for c in ("full_prior_year", "has_last_year", "ytd_cents"))
    sd_cols = {m: sds[f"{m}_sd_cents"].to_numpy("float64") for m in MODEL_METHODS if f"{m}_sd_cents" in sds}
    rows = []
    for j, e in enumerate(ents):
        used = next((m for m in (method, CHOICE_FALLBACK, "run_rate") if m in at and not pd.isna(fcs[at[m] + j])), None)
        i = at[used if used is not None else first] + j
        fc = fcs[i]
        order = ([used] if used in MODEL_METHODS else []) + list(MODEL_METHODS)  # the chosen model's, else ETS's ...
        sd = next((sd_cols[m][j] for m in order if m in sd_cols and not pd.isna(sd_cols[m][j])), np.nan)
        low, high = interval_cents(None if pd.isna(fc) else int(fc), sd * scale)
        rows.append(
            {
                "entity": e,
                "method": SELECTED,
                "full_prior_year": bool(fpy[i]),
                "has_last_year": bool(has_ly[i]),
                "ytd_cents": int(ytd[i]),
                "forecast_remaining_cents": fc,
                "forecast_low_cents": low,
                "forecast_high_cents": high,
                "interval_sd_cents": sd,
                "chosen_method": used or "",
            }
        )
    out = pd.DataFrame(rows)
    out["chosen_wape"], out["chosen_n"] = w, n
    return out


def _models_read(chosen: str) -> list[str]:
    """The model :func:`_selected` reads first when ``chosen`` is the level's method: it (if a model), else ETS (its sd).

    Only an entity whose first model has no forecast (too short a history, a failed fit) reads
    another: :func:`_ranges_found` tells, and :func:`forecast_at` then fits every model.
    """
    return [chosen] if chosen in MODEL_METHODS else ["ets"]


def _ranges_found(sds: pd.DataFrame, chosen: str) -> bool:
    """Whether every entity's forecast and range are given by the model :func:`_models_read` fitted for ``chosen``.

    :func:`_selected` takes an entity's standard deviation from the first of ``[used] + MODEL_METHODS``
    that has one (``used`` the chosen method when it forecasts the entity). A model has a standard
    deviation exactly where it has a forecast, so when the first model has one for every entity no
    other model is read: its fits would change no figure.
    """
    col = f"{_models_read(chosen)[0]}_sd_cents"
    return col in sds and bool(sds[col].notna().all())


def _overlap_factors(
    revs: Mapping[str, pd.DataFrame], groups: Mapping[str, list[str]], cutoff: datetime.date
) -> dict[str, float]:
    """Each group's each-deal-once revenue over its members' credits in the year before ``cutoff`` (1 without either)."""
    since = np.datetime64(cutoff - datetime.timedelta(days=365), "ns")

    def last_year(level: str) -> pd.Series:
        r = revs[level]
        return revenue_by_entity(r.loc[(r["close_date"] > since).to_numpy()]) if len(r) else pd.Series(dtype="int64")

    am, team, co = last_year("account_manager"), last_year("team"), last_year("company")
    out = {}
    for g, members in groups.items():
        credits = float(sum(int(am.get(a, 0)) for a in members))
        own = float((co if g == COMPANY else team).get(g, 0))
        out[g] = own / credits if credits > 0 and own > 0 else 1.0
    return out


def _reconciled(
    sel: Mapping[str, pd.DataFrame], revs: Mapping[str, pd.DataFrame], ds: Dataset, cutoff: datetime.date
) -> list[pd.DataFrame]:
    """The ``reconciled`` rows of every level from the ``selected`` ones (see :func:`reconcile`)."""
    ams = sel["account_manager"]["entity"].tolist()
    team = team_of(ds.account_managers)
    groups = {t: [a for a in ams if team.get(a) == t] for t in sel["team"]["entity"]}
    groups[COMPANY] = list(ams)
    frames = [sel["team"], sel["company"], sel["account_manager"]]
    base = np.concatenate([f["forecast_remaining_cents"].astype("float64").fillna(0).to_numpy() for f in frames])
    s = summing_matrix(groups, ams, _overlap_factors(revs, groups, cutoff))
    rec = reconcile(base, s)
    # whole cents that add up: the members rounded once each, a group = its row of S on those cents, rounded
    bottom = np.array([float_cents(v) for v in rec[len(groups) :]], dtype="float64")
    rec = np.concatenate([s[: len(groups)] @ bottom, bottom])
    out, i = [], 0
    for f in frames:
        g = f.copy()
        k = len(g)
        new = pd.array([float_cents(v) for v in rec[i : i + k]], dtype="Int64")
        shift = new - g["forecast_remaining_cents"].fillna(0)
        g["forecast_remaining_cents"] = new
        g["forecast_low_cents"] = (g["forecast_low_cents"] + shift).clip(lower=0)
        g["forecast_high_cents"] = g["forecast_high_cents"] + shift
        g["method"] = RECONCILED
        out.append(g)
        i += k
    return out


def forecast_at(
    past: Dataset,
    cutoff: datetime.date,
    *,
    entities: Mapping[str, Sequence[str]],
    history_start: datetime.date,
    methods: Sequence[str] = BASE_METHODS,
    evidence: pd.DataFrame | None = None,
    fiscal_year: int | None = None,
    credited: pd.DataFrame | None = None,
    chosen_only: bool = False,
    revenues: Mapping[str, pd.DataFrame] | None = None,
    fitted: Mapping[str, pd.DataFrame] | None = None,
    fit_cache: ContentCache | None = None,
    executor: Executor | None = None,
) -> pd.DataFrame:
    """Every method's remaining-year forecast per level and entity as of ``cutoff``, plus selected and reconciled.

    Parameters
    ----------
    past : Dataset
        The data as it stood at ``cutoff`` (deals closed on or before it; the
        caller cuts it: :func:`reportkit.domain.backtest.backtest_forecasts`).
    cutoff : date
    entities : mapping level -> sequence of str
        The entities forecast at each level (the levels are its keys).
    history_start : date
        First day the data covers.
    methods : sequence of str
        Subset of :data:`BASE_METHODS`; :data:`SELECTED` chooses among them.
    evidence : DataFrame, optional
        Earlier backtest rows for :func:`choose_method` (without: the fallback).
    fiscal_year : int, optional
        The year forecast: by default the one ``cutoff`` lies in; the next one when
        ``cutoff`` is the last day of its year (next year's forecast at year end: its
        "remaining year" is all of it, its YTD 0).
    credited : DataFrame, optional
        ``credited_deals(past)`` when the caller has it (else computed here when a
        level's ``revenues`` are not given).
    chosen_only : bool, default False
        Fit only the models ``selected`` and ``reconciled`` read: the level's chosen
        method when it is a model, else ETS, whose standard deviation a rule's interval
        uses; all three when some entity has no forecast from that one (its range then
        reads ETS's sd, else Theta's, else ARIMA's: :func:`_ranges_found`). The other
        models then have no rows; the selected and reconciled rows are the same. For a
        forecast that is no backtest evidence (:func:`reportkit.domain.backtest.forecast_hierarchy`).
    revenues : mapping level -> DataFrame, optional
        ``level_revenue(credited, level, past.account_managers)`` of the levels the
        caller has (the others are computed here), or
        :func:`~reportkit.domain.forecast_inputs.revenue_through` ``cutoff`` of the whole
        data set's (the same rows: :mod:`reportkit.domain.forecast_inputs`).
    fitted : mapping level -> DataFrame, optional
        :func:`~reportkit.domain.forecast_models.model_forecasts` of every model in
        ``methods`` for that level's revenues and entities, as of ``cutoff`` (a backtest
        fits them first, in an executor when it has one); the other levels are fitted here.
        Not with ``chosen_only``.
    fit_cache : ContentCache, optional
        Where the fits made here are kept between runs
        (:func:`~reportkit.domain.forecast_models.fit_cache`): a fit it holds is read, not made.
    executor : concurrent.futures.Executor, optional
        Where the fits not in ``fit_cache`` are made (a process pool whose workers imported
        the models; :func:`~reportkit.domain.forecast_models.fit_models_in`); else here.

    Returns
    -------
    DataFrame
        Columns :data:`AT_COLUMNS`: one row per level, entity and method (the
        base methods, ``selected`` and, when the three levels are given,
        ``reconciled``); money in whole cents (``Int64``, NA where a method is
        undefined; ``forecast_low_cents`` / ``forecast_high_cents`` bound the 80 %
        interval, NA for the rules); ``chosen_method`` (the method a ``selected`` /
        ``reconciled`` row used, '' otherwise), ``chosen_wape`` and ``chosen_n``
        (the level's evidence: WAPE and rows; NaN / 0 without any); ``interval_scale``
        and ``interval_n`` (the calibration factor ``k`` of the selected / reconciled
        interval and the earlier rows it rests on, 0 = the model's own interval:
        :func:`interval_scale`).
    """
    fy = past.calendar.period_of(cutoff, "year").fiscal_year if fiscal_year is None else int(fiscal_year)
    if chosen_only and fitted:
        raise ValueError("forecast_at: fitted models are every model's fits, not the chosen ones (chosen_only)")
    revs, sel, rows = {}, {}, []
    for lv in LEVELS:
        if lv not in entities:
            continue
        ents = [str(e) for e in entities[lv]]
        if revenues and lv in revenues:
            revs[lv] = revenues[lv]
        else:
            credited = credited_deals(past) if credited is None else credited
            revs[lv] = level_revenue(credited, lv, past.account_managers)
        if not ents:
            continue
        choice = choose_method(evidence, lv, cutoff, methods)
        base, sds = _level_rows(
            revs[lv],
            ents,
            fy,
            cutoff,
            past,
            history_start,
            methods,
            _models_read(choice[0]) if chosen_only else None,
            fitted.get(lv) if fitted else None,
            fit_cache,
            executor,
        )
        if chosen_only and not _ranges_found(sds, choice[0]):  # an entity reads ETS's sd, then Theta's, then ARIMA's
            base, sds = _level_rows(
                revs[lv], ents, fy, cutoff, past, history_start, methods, fit_cache=fit_cache, executor=executor
            )
        k, kn = interval_scale(evidence, lv, cutoff)
        sel[lv] = _selected(base, sds, choice, k).assign(interval_scale=k, interval_n=kn)
        for frame in (base, sel[lv]):
            rows.append(frame.assign(level=lv))
    if set(sel) == set(LEVELS):
        rows.extend(
            f.assign(level=lv) for f, lv in zip(_reconciled(sel, revs, past, cutoff), ("team", "company", "account_manager"))
        )
    if not rows:
        return pd.DataFrame({c: pd.Series([], dtype="object") for c in AT_COLUMNS})
    out = pd.concat(rows, ignore_index=True)
    out["chosen_method"] = out["chosen_method"].fillna("").astype("str") if "chosen_method" in out else ""
    out["chosen_wape"] = out["chosen_wape"].astype("float64") if "chosen_wape" in out else np.nan
    out["chosen_n"] = out["chosen_n"].fillna(0).astype("int64") if "chosen_n" in out else 0
    out["interval_n"] = out["interval_n"].fillna(0).astype("int64") if "interval_n" in out else 0
    for c in ("forecast_remaining_cents", "forecast_low_cents", "forecast_high_cents"):
        out[c] = out[c].astype("Int64")
    for c in ("interval_sd_cents", "interval_scale"):
        out[c] = out[c].astype("float64") if c in out else np.nan
    return out.loc[:, list(AT_COLUMNS)]
