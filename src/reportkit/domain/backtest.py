"""Backtest of the annual forecast methods: replay history, measure WAPE and bias.

At each fiscal quarter end ``q`` (Q1..Q3: at the Q4 end nothing of the year is
left to forecast) that the data covers, :func:`backtest_forecasts`

1. cuts the deals to ``close_date <= q.end`` **before anything else** (crediting,
   history start, level roll-ups are all computed from the cut data set, and the
   pipeline snapshot is dropped: it describes *today's* open deals, not the
   pipeline as it stood at ``q.end``), so nothing after the cutoff can leak in;
2. forecasts the rest of the fiscal year (``q.end`` + 1 day .. year end) for every
   entity of every level with each method in :data:`reportkit.domain.forecast.HISTORY_METHODS`;
3. compares with what actually closed in that window (from the full data).

:func:`summarise_backtest` reports per level and method

* **WAPE** = ``sum |actual - forecast| / sum |actual|`` (weighted absolute
  percentage error: a volume-weighted MAPE that stays defined when a single
  actual is 0; Kolassa & Schütz 2007) and
* **bias** = ``sum (forecast - actual) / sum |actual|`` (positive = over-forecast),

over the *remaining-year* amounts (the YTD part is known and would flatter the
figures). The baseline is ``seasonal_naive`` (remaining quarters = the same
quarters last year); it needs a full prior year, so the headline comparison
(``scope == "with prior year"``) uses only the cutoffs where it exists. The
``scope == "all"`` rows cover every cutoff for the methods defined there.

:func:`run_backtest` = summarise(backtest_forecasts(...)). The files and the console
table of ``reportkit backtest PARAMS.yaml --output-dir DIR`` are the render layer's
(:mod:`reportkit.render.backtest`): the domain writes no files.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..core.money import cents_to_money
from ..core.periods import Period
from ..data.model import Dataset
from .crediting import credited_deals
from .forecast import HISTORY_METHODS, LEVELS, forecast_methods, level_revenue, revenue_by_entity

__all__ = [
    "BASELINE",
    "DETAIL_COLUMNS",
    "SUMMARY_COLUMNS",
    "backtest_cutoffs",
    "backtest_forecasts",
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


def _cut(dataset: Dataset, cutoff: datetime.date) -> Dataset:
    """The data set as it stood at ``cutoff``: deals closed on or before it, no pipeline snapshot."""
    deals = dataset.deals
    keep = (deals["close_date"] <= np.datetime64(cutoff, "ns")).to_numpy()
    return dataclasses.replace(dataset, deals=deals.loc[keep].reset_index(drop=True), pipeline=None)


def backtest_forecasts(
    dataset: Dataset,
    *,
    levels: Sequence[str] = ("account_manager", "team", "company"),
    methods: Sequence[str] = HISTORY_METHODS,
    as_of_quarters: Sequence[str | Period] | None = None,
) -> pd.DataFrame:
    """One row per (cutoff, level, entity, method): the remaining-year forecast and the actual.

    Entities of a cutoff are those with revenue in the fiscal year before it, the
    year to date, or the rest of the year (an entity that only appears after the
    cutoff gets a forecast of 0 -- a real miss). ``forecast_remaining_cents`` is
    NA where the method is undefined (seasonal methods without a full prior year).

    Returns
    -------
    DataFrame
        Columns :data:`DETAIL_COLUMNS`; ``cutoff`` is a ``datetime.date``.
    """
    for lv in levels:
        if lv not in LEVELS:
            raise ValueError(f"level {lv!r} is not one of {LEVELS}")
    bad = [m for m in methods if m not in HISTORY_METHODS]
    if bad:
        raise ValueError(f"methods {bad} cannot be backtested (only {HISTORY_METHODS}; the pipeline is a snapshot)")
    cal = dataset.calendar
    full_credit = credited_deals(dataset)  # used for the *actuals* only
    history_start = pd.Timestamp(dataset.deals["close_date"].min()).date() if len(dataset.deals) else None
    rows: list[pd.DataFrame] = []
    for q in backtest_cutoffs(dataset, as_of_quarters):
        cutoff = q.end
        year = q.year
        ly = year.same_period_last_year()
        past = _cut(dataset, cutoff)  # no look-ahead: everything below uses `past`
        credited = credited_deals(past)
        start = history_start if history_start is not None and history_start <= cutoff else cutoff
        future = full_credit.loc[
            (
                (full_credit["close_date"] > np.datetime64(cutoff, "ns"))
                & (full_credit["close_date"] <= np.datetime64(year.end, "ns"))
            ).to_numpy()
        ]
        for lv in levels:
            rev = level_revenue(credited, lv, past.account_managers)
            fut = level_revenue(future, lv, dataset.account_managers)
            actual = revenue_by_entity(fut)
            recent = rev.loc[(rev["close_date"] >= np.datetime64(ly.start, "ns")).to_numpy(), "entity"]
            ents = sorted(set(recent.unique()) | set(actual.index))
            if not ents:
                continue
            f = forecast_methods(rev, ents, q.fiscal_year, cutoff, cal, history_start=start)
            act = actual.reindex(ents, fill_value=0).astype("int64").to_numpy()
            for m in methods:
                fc = f[f"{m}_cents"].astype("Int64") - f["ytd_cents"]
                rows.append(
                    pd.DataFrame(
                        {
                            "cutoff": [cutoff] * len(ents),
                            "quarter": q.label,
                            "fiscal_year": q.fiscal_year,
                            "level": lv,
                            "entity": pd.Series(ents, dtype="str"),
                            "method": m,
                            "full_prior_year": f["full_prior_year"].to_numpy(),
                            "forecast_remaining_cents": fc.to_numpy(),
                            "actual_remaining_cents": act,
                        }
                    )
                )
    if not rows:
        return pd.DataFrame({c: pd.Series([], dtype="object") for c in DETAIL_COLUMNS})
    out = pd.concat(rows, ignore_index=True)
    out["forecast_remaining_cents"] = out["forecast_remaining_cents"].astype("Int64")
    out["actual_remaining_cents"] = out["actual_remaining_cents"].astype("int64")
    for c in ("quarter", "level", "entity", "method"):
        out[c] = out[c].astype("str")
    return out.loc[:, list(DETAIL_COLUMNS)]


def summarise_backtest(detail: pd.DataFrame) -> pd.DataFrame:
    """WAPE and bias per scope, level and method from :func:`backtest_forecasts` rows.

    ``scope == "with prior year"``: only forecasts made with a full prior year,
    where the seasonal-naive baseline exists (the fair head-to-head);
    ``scope == "all"``: every forecast where the method is defined.
    ``baseline_wape`` is the baseline's WAPE on the *same* rows and
    ``beats_baseline`` is ``wape < baseline_wape`` (NA without a baseline).
    Money columns (``actual_remaining``, ``abs_error``) are in currency units (float).
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
        s = d.loc[d["full_prior_year"].astype(bool).to_numpy()] if scope == "with prior year" else d
        s = s.loc[s["forecast_remaining_cents"].notna().to_numpy()]
        for (lv, m), g in s.groupby(["level", "method"], sort=False):
            a = g["actual_remaining_cents"].astype("float64")
            f = g["forecast_remaining_cents"].astype("float64")
            has_b = g["_base"].notna().to_numpy()
            bw = wape(a[has_b], g.loc[has_b, "_base"].astype("float64")) if has_b.all() and len(g) else float("nan")
            w = wape(a, f)
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
    levels: Sequence[str] = ("account_manager", "team", "company"),
    methods: Sequence[str] = HISTORY_METHODS,
    as_of_quarters: Sequence[str | Period] | None = None,
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

    Returns
    -------
    DataFrame
        Columns :data:`SUMMARY_COLUMNS`. The per-forecast rows are available
        from :func:`backtest_forecasts` (same arguments).
    """
    ms = list(dict.fromkeys([*methods, BASELINE]))
    return summarise_backtest(backtest_forecasts(dataset, levels=levels, methods=ms, as_of_quarters=as_of_quarters))


def forecast_accuracy(
    dataset: Dataset,
    as_of: datetime.date,
    *,
    level: str = "company",
    method: str = "blended",
    last: int = 6,
) -> pd.DataFrame:
    """How well the forecast did at earlier quarter ends: the backtest of the years closed by ``as_of``.

    The data set is cut at ``as_of`` first (nothing later is known), then
    :func:`backtest_forecasts` replays each Q1..Q3 end of a fiscal year that ended
    on or before ``as_of`` (the actual rest of the year is then known), at ``level``
    with ``method``; the ``last`` most recent cutoffs are kept. Empty when the data
    holds no such year.

    Returns
    -------
    DataFrame
        ``quarter`` (the cutoff quarter), ``entity``, ``forecast_remaining`` and
        ``actual_remaining`` (Decimal: the rest of the year forecast at the cutoff and
        what closed), ``error`` (float fraction: (forecast - actual) / |actual|,
        NaN when the actual is 0); the forecast is NA where the method was undefined.
    """
    cols = {"quarter": "str", "entity": "str", "forecast_remaining": "object", "actual_remaining": "object", "error": "float64"}
    known = _cut(dataset, as_of)
    cutoffs = [q for q in backtest_cutoffs(known) if q.year.end <= as_of][-last:] if last > 0 else []
    if not cutoffs:
        return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in cols.items()})
    d = backtest_forecasts(known, levels=(level,), methods=(method,), as_of_quarters=cutoffs)
    fc, act = d["forecast_remaining_cents"], d["actual_remaining_cents"].astype("int64")
    return pd.DataFrame(
        {
            "quarter": d["quarter"].astype("str"),
            "entity": d["entity"].astype("str"),
            "forecast_remaining": pd.Series([None if pd.isna(v) else cents_to_money(int(v)) for v in fc], dtype="object"),
            "actual_remaining": pd.Series([cents_to_money(int(v)) for v in act], dtype="object"),
            "error": pd.Series(
                [np.nan if pd.isna(f) or a == 0 else (int(f) - int(a)) / abs(int(a)) for f, a in zip(fc, act)], dtype="float64"
            ),
        }
    ).reset_index(drop=True)
