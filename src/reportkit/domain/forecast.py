"""Annual forecasts: run rate, seasonal, weighted pipeline, forecast categories, blended.

Two layers live here:

* :func:`annual_forecast` -- the original per-account-manager **run-rate**
  forecast used by :mod:`reportkit.reports.builders` (unchanged, documented below).
* :func:`forecast_methods` / :func:`annual_forecasts` -- every method side by
  side for any *entity* (an account manager, a team or the company, see
  :func:`level_revenue`), with the **blended default**, a low-high range and
  the annual quota. :mod:`reportkit.domain.backtest` replays them on history.

What they read, each entity's revenue rows and open pipeline per level, comes from
:mod:`reportkit.domain.forecast_inputs` (its names are re-exported here).

All methods forecast the fiscal-year total as ``YTD actual + remaining``; they
differ in how they estimate the *remaining* part of the year. Notation: ``YTD``
is revenue from the year start through ``as_of``; ``LY_YTD`` / ``LY_rest`` /
``LY_total`` are the same dates one year earlier, the rest of last fiscal year,
and the whole of last fiscal year. Full write-up with backtest figures:
``docs/forecasting.md``.

Run-rate method of :func:`annual_forecast` (the straight-line extrapolation of
the pace so far; see e.g. Investopedia, *Run Rate*, and the "run-rate / trend"
family in the forecasting chapters of sales-management texts):

* ``ytd`` -- credited revenue from the first day of the fiscal year up to and
  including ``as_of`` (clipped to the fiscal year).
* ``elapsed`` -- days of the fiscal year up to and including ``as_of``;
  ``remaining`` -- the days after it.
* **forecast** ``= ytd + ytd / elapsed * remaining`` (the YTD daily pace carried
  over the rest of the year), rounded to the cent half away from zero.
* **range**: a second pace, the *last full quarter* -- the most recent fiscal
  quarter that ended on or before ``as_of`` (it may be the previous year's Q4
  early in a year) -- gives ``ytd + lq_revenue / lq_days * remaining``.
  ``low`` and ``high`` are the smaller and larger of the two projections. The
  spread shows how much the answer depends on the recent trend vs the year's
  average; it is not a statistical confidence interval.
* ``annual_quota`` -- sum of the fiscal year's quarterly quotas (``None`` when
  the account manager has no quota in that year); ``forecast_attainment`` =
  forecast / annual quota, NaN when undefined.

Assumptions: revenue arrives evenly over calendar days (no seasonality, no
pipeline); returns (negative credits) reduce the pace; deals after ``as_of`` are
ignored; on or after the last day of the year the forecast is the actual. When
no day of the year has elapsed (``as_of`` before the year starts) the forecast
is 0 and the range collapses to it.

Money: inputs in cents; outputs ``Decimal`` quantized to 0.01 (the method
frames of :func:`forecast_methods` carry int64 / Int64 cents).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..core.money import MICROS_PER_CENT, cents_to_money, micros_to_cents, rdiv
from ..core.periods import FiscalCalendar, Period, one_year_earlier
from ..core.types import PPM
from ..data.model import Dataset
from ._credit_core import lookup
from .crediting import credited_deals, credited_in, revenue_cents_by, revenue_micros_by
from .forecast_inputs import COMPANY, LEVELS, level_revenue, open_pipeline, revenue_by_entity, team_of
from .quota import attainment, pooled_attainment, split_quotas

__all__ = [
    "FORECAST_COLUMNS",
    "FORECAST_TOTAL_KEYS",
    "pooled_forecast",
    "METHOD",
    "annual_forecast",
    "forecast_frame",
    "run_rate_cents",
    "last_full_quarter",
    "LEVELS",
    "COMPANY",
    "METHODS",
    "DEFAULT_METHOD",
    "HISTORY_METHODS",
    "ForecastCategories",
    "level_revenue",
    "revenue_by_entity",
    "open_pipeline",
    "forecast_methods",
    "annual_quota_by_entity",
    "annual_forecasts",
]

METHOD = "run rate (YTD pace); range: last full quarter pace"

#: Columns of :func:`annual_forecast`'s result.
FORECAST_COLUMNS = (
    "account_manager_id",
    "method",
    "ytd_revenue",
    "remaining_forecast",
    "forecast",
    "annual_quota",
    "forecast_attainment",
    "low",
    "high",
)


def run_rate_cents(revenue_cents: int, days: int, remaining_days: int) -> int:
    """Revenue expected over ``remaining_days`` at the pace ``revenue_cents / days`` (cents, half away from zero)."""
    if days <= 0 or remaining_days <= 0:
        return 0
    return rdiv(int(revenue_cents) * int(remaining_days), int(days))


def last_full_quarter(calendar: FiscalCalendar, as_of: datetime.date) -> Period:
    """The most recent fiscal quarter ending on or before ``as_of``."""
    q = calendar.period_of(as_of, "quarter")
    return q if q.end <= as_of else q.previous()


def annual_forecast(
    credited: pd.DataFrame,
    account_manager_ids: Sequence[str],
    fiscal_year: int,
    as_of: datetime.date,
    calendar: FiscalCalendar,
    annual_quota_cents: Mapping[str, int | None] | None = None,
) -> pd.DataFrame:
    """Annual forecast for each account manager (see the module docstring for the method).

    Parameters
    ----------
    credited : DataFrame
        Output of :func:`reportkit.domain.crediting.credited_deals`.
    account_manager_ids : sequence of str
        One output row per id, in this order.
    fiscal_year : int
    as_of : date
        The forecast date (never ``today()``).
    calendar : FiscalCalendar
    annual_quota_cents : mapping id -> cents or None, optional
        Annual quota per account manager (sum of the year's quarterly quotas).

    Returns
    -------
    DataFrame
        Columns :data:`FORECAST_COLUMNS`: money columns ``ytd_revenue``,
        ``remaining_forecast``, ``forecast``, ``annual_quota`` (None when no
        quota), ``low``, ``high`` are ``Decimal``; ``forecast_attainment`` is a
        float fraction (NaN when undefined). Also ``*_cents`` helper columns
        (int64) for roll-ups: ``ytd_cents``, ``forecast_cents``, ``low_cents``,
        ``high_cents``, ``annual_quota_cents`` (Int64).
    """
    year = Period(calendar, "year", int(fiscal_year))
    ids = [str(a) for a in account_manager_ids]
    quotas = dict(annual_quota_cents or {})
    cutoff = min(as_of, year.end)
    elapsed = max(0, (cutoff - year.start).days + 1) if as_of >= year.start else 0
    remaining = year.days - elapsed
    lq = last_full_quarter(calendar, cutoff) if elapsed else None

    ytd = pd.Series(0, index=ids, dtype="int64")
    lq_rev = pd.Series(0, index=ids, dtype="int64")
    if elapsed:
        c = credited_in(credited, year.start, cutoff, ids)
        ytd = ytd.add(revenue_cents_by(c, "account_manager_id"), fill_value=0).astype("int64").reindex(ids)
        if lq is not None:
            c2 = credited_in(credited, lq.start, lq.end, ids)
            lq_rev = lq_rev.add(revenue_cents_by(c2, "account_manager_id"), fill_value=0).astype("int64").reindex(ids)

    rows = []
    for am in ids:
        y = int(ytd[am])
        central = y + run_rate_cents(y, elapsed, remaining)
        alt = y + (run_rate_cents(int(lq_rev[am]), lq.days, remaining) if lq is not None else 0)
        if not elapsed:
            alt = central
        q = quotas.get(am)
        rows.append(
            {
                "account_manager_id": am,
                "method": METHOD,
                "ytd_cents": y,
                "forecast_cents": central,
                "low_cents": min(central, alt),
                "high_cents": max(central, alt),
                "annual_quota_cents": q,
            }
        )
    frame = pd.DataFrame(
        rows,
        columns=["account_manager_id", "method", "ytd_cents", "forecast_cents", "low_cents", "high_cents", "annual_quota_cents"],
    )
    return forecast_frame(frame)


def forecast_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the Decimal columns of :data:`FORECAST_COLUMNS` to a frame of ``*_cents`` columns (used for roll-ups)."""
    f = frame.copy()
    for col in ("ytd_cents", "forecast_cents", "low_cents", "high_cents"):
        f[col] = f[col].astype("int64")
    f["annual_quota_cents"] = f["annual_quota_cents"].astype("Int64")
    money = lambda s: pd.Series([cents_to_money(v) for v in s], index=s.index, dtype="object")  # noqa: E731
    f["ytd_revenue"] = money(f["ytd_cents"])
    f["remaining_forecast"] = money(f["forecast_cents"] - f["ytd_cents"])
    f["forecast"] = money(f["forecast_cents"])
    f["annual_quota"] = pd.Series(
        [None if pd.isna(v) else cents_to_money(int(v)) for v in f["annual_quota_cents"]], index=f.index, dtype="object"
    )
    f["forecast_attainment"] = [
        attainment(fc, None if pd.isna(q) else int(q)) for fc, q in zip(f["forecast_cents"], f["annual_quota_cents"])
    ]
    f["forecast_attainment"] = f["forecast_attainment"].astype("float64")
    f["low"] = money(f["low_cents"])
    f["high"] = money(f["high_cents"])
    lead = list(FORECAST_COLUMNS)
    return f.loc[:, lead + [c for c in f.columns if c not in lead]]


# ---------------------------------------------------------------------------
# Forecast methods for any entity (account manager, team, company)
# ---------------------------------------------------------------------------

#: Every method of :func:`forecast_methods` (column ``<method>_cents``), in display order.
METHODS: tuple[str, ...] = (
    "run_rate",
    "seasonal",
    "seasonal_naive",
    "weighted_pipeline",
    "commit",
    "best_case",
    "pipeline",
    "blended",
)

#: The default method (see :func:`forecast_methods`).
DEFAULT_METHOD = "blended"

#: Methods that use closed history only (the pipeline table is a snapshot of
#: *today's* open opportunities, so pipeline methods cannot be replayed on history).
HISTORY_METHODS: tuple[str, ...] = ("run_rate", "seasonal", "seasonal_naive", "blended")


class ForecastCategories(BaseModel):
    """Probability thresholds of the forecast categories (commit / best case / pipeline).

    An open opportunity is in **commit** when its probability is at least
    ``commit_at_least`` (default 0.7), in **best case** when it is at least
    ``best_case_at_least`` (default 0.3) but below commit, otherwise in
    **pipeline**. The category *forecasts* are cumulative, the way sales teams
    quote them: commit = closed + commit opportunities; best case = commit +
    best-case opportunities; pipeline = best case + the rest, so
    ``commit <= best case <= pipeline``. Every open opportunity counts at its
    probability-weighted amount, so the pipeline category equals the weighted
    pipeline forecast.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    commit_at_least: float = Field(0.7, ge=0, le=1)
    best_case_at_least: float = Field(0.3, ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> ForecastCategories:
        if self.best_case_at_least > self.commit_at_least:
            raise ValueError("best_case_at_least must not exceed commit_at_least")
        return self


def _round_frac(x: Fraction) -> int:
    """Round a Fraction to an integer, half away from zero (:func:`reportkit.core.money.rdiv`, the one rule)."""
    return rdiv(x.numerator, x.denominator)


def _sum_between(rev: pd.DataFrame, start: datetime.date, end: datetime.date, ids: list[str]) -> dict[str, int]:
    """Revenue per entity for close dates in ``start..end`` (inclusive), cents: :func:`revenue_by_entity`'s rule.

    The exact ``micros`` of each entity summed and rounded once (arrays: this runs for every
    entity, level and backtest cutoff); a frame without ``micros`` goes through
    :func:`revenue_by_entity` itself.
    """
    if end < start or rev.empty:
        return dict.fromkeys(ids, 0)
    d = rev["close_date"].to_numpy()
    m = (d >= np.datetime64(start, "ns")) & (d <= np.datetime64(end, "ns"))
    if "micros" not in rev.columns:
        g = revenue_by_entity(rev.loc[m])
        return {e: int(g.get(e, 0)) for e in ids}
    pos = lookup(rev["entity"], np.asarray(list(dict.fromkeys(ids)), dtype=object))[m]  # Arrow's hash lookup, no str per row
    keep = pos >= 0
    sums = np.zeros(len(dict.fromkeys(ids)), dtype=np.int64)
    np.add.at(sums, pos[keep], rev["micros"].to_numpy(np.int64)[m][keep])
    cents = dict(zip(dict.fromkeys(ids), micros_to_cents(sums).tolist()))
    return {e: int(cents[e]) for e in ids}


def _pipeline_bands(
    pipe: pd.DataFrame | None,
    cats: ForecastCategories,
) -> tuple[dict[str, dict[str, int]], dict[str, int], dict[str, int]]:
    """Weighted open pipeline per forecast category and entity, in whole cents, exact.

    Each opportunity weighs ``probability x amount``, with the probability as integer
    parts per million (the value the source wrote, to six decimals); a band's weighted
    sum is exact and rounded once, half away from zero (:func:`reportkit.core.money.rdiv`,
    the one rounding rule). Returns ``({"commit"|"best"|"low": {entity: cents}}, open
    count per entity, unweighted open amount per entity)``.
    """
    bands: dict[str, dict[str, int]] = {"commit": {}, "best": {}, "low": {}}
    if pipe is None or not len(pipe):
        return bands, {}, {}
    pr = pipe["probability"].to_numpy(dtype="float64")
    band = np.where(pr >= cats.commit_at_least, "commit", np.where(pr >= cats.best_case_at_least, "best", "low"))
    # exact: integer ppm x integer cents, as Python integers (object dtype), so no sum can overflow
    ppm = np.rint(pr * PPM).astype("int64").astype(object)
    weighted_ppm = ppm * pipe["amount_cents"].to_numpy(dtype="int64").astype(object)
    g = pd.Series(weighted_ppm).groupby([pipe["entity"].astype("str").to_numpy(), band]).sum()
    for (e, b), v in g.items():
        bands[b][str(e)] = rdiv(int(v), PPM)
    count = pipe.groupby("entity").size().astype(int).to_dict()
    amount = pipe.groupby("entity")["amount_cents"].sum().astype("int64").to_dict()
    return bands, count, amount


def forecast_methods(
    revenue: pd.DataFrame,
    entities: Sequence[str],
    fiscal_year: int,
    as_of: datetime.date,
    calendar: FiscalCalendar,
    *,
    history_start: datetime.date | None = None,
    pipeline: pd.DataFrame | None = None,
    categories: ForecastCategories | None = None,
) -> pd.DataFrame:
    """Every forecast method for each entity, as full-year totals in cents.

    Parameters
    ----------
    revenue : DataFrame
        Output of :func:`level_revenue` (``entity``, ``close_date``, ``cents``).
        Rows closed after ``as_of`` are dropped **first**, before anything else
        is computed, so the result cannot depend on the future.
    entities : sequence of str
        One output row per entity, in this order.
    fiscal_year : int
    as_of : date
        The forecast date (never ``today()``).
    calendar : FiscalCalendar
    history_start : date, optional
        First day the data covers. Default: the earliest close date in
        ``revenue`` (on or before ``as_of``). Run-rate days are counted from
        ``max(year start, history_start)`` so a data set that starts in March
        is not diluted by empty January-February; the seasonal methods need
        ``history_start <= start of last fiscal year`` (a *full prior year*).
    pipeline : DataFrame, optional
        Output of :func:`open_pipeline` for this level (open opportunities as
        of ``as_of``). Without it the pipeline methods equal the YTD actual.
    categories : ForecastCategories, optional

    Returns
    -------
    DataFrame
        One row per entity. ``entity``; inputs ``ytd_cents``, ``ly_ytd_cents``
        (same dates last year), ``ly_rest_cents`` (rest of last year),
        ``ly_total_cents``, ``full_prior_year`` (bool), ``elapsed_days``,
        ``remaining_days``, ``open_count`` and ``open_amount_cents`` (unweighted
        open pipeline); one ``<method>_cents`` column per name in
        :data:`METHODS` (the forecast *total* for the year; ``seasonal_cents``
        and ``seasonal_naive_cents`` are ``Int64`` and NA without a full prior
        year, the others ``int64``); ``blended_basis`` (which rule the default
        used); ``low_cents`` / ``high_cents`` (the default's range).

    Notes
    -----
    Remaining-year estimate of each method (total = ``YTD`` + it), with
    ``LY_YTD``, ``LY_rest``, ``LY_total`` = last year's same dates, rest of year
    and whole year:

    ``run_rate``
        ``YTD / elapsed_days * remaining_days``. Assumes revenue arrives evenly
        over calendar days; no seasonality, no pipeline. (Straight-line run rate.)
    ``seasonal``
        ``LY_rest * YTD / LY_YTD``: the same periods last year scaled by the
        YTD growth (the classic "same period last year x growth" or
        seasonal-index method; Hyndman & Athanasopoulos, *Forecasting: Principles
        and Practice*, ch. 5 seasonal naive with a level adjustment). Assumes
        this year has last year's seasonal shape. NA without a full prior year
        or when ``LY_YTD <= 0``; a negative growth is clipped to 0.
    ``seasonal_naive``
        ``LY_rest``: the remaining periods equal the same periods last year
        (the standard benchmark; FPP ch. 5). Used as the backtest baseline.
    ``weighted_pipeline``
        Sum over open opportunities expected to close after ``as_of`` in the
        year (or undated) of ``probability x amount``; the expected value of the
        pipeline when stage probabilities are calibrated. Assumes no business
        that is not yet in the pipeline will close this year.
    ``commit`` / ``best_case`` / ``pipeline``
        Forecast categories (:class:`ForecastCategories`): closed + weighted
        open opportunities of probability >= commit threshold; + those >= the
        best-case threshold; + all. Cumulative, so commit <= best case <= pipeline.
    ``blended`` (the default, :data:`DEFAULT_METHOD`)
        With a full prior year and ``LY_total > 0``: **damped seasonal**,
        ``LY_rest * max(0, 1 + w * (g - 1))`` with ``g = YTD / LY_YTD`` and the
        credibility weight ``w = LY_YTD / LY_total`` (the share of last year's
        revenue that fell in the elapsed part of the year). Algebraically
        ``LY_rest * max(0, 1 + (YTD - LY_YTD) / LY_total)``, so it is defined
        even when ``LY_YTD`` is 0. Early in the year, when a quarter's growth
        ratio is noisy, it stays close to seasonal naive; by the last quarter
        it is close to the full seasonal method (credibility weighting as in
        Bühlmann's credibility theory: trust an estimate in proportion to the
        exposure behind it). Otherwise: **run rate**.
        Range: ``low`` = the smallest and ``high`` = the largest of run rate,
        seasonal (when defined) and the blended value; ``high`` then adds the
        weighted open pipeline as upside (it may overlap business the
        history-based methods already expect, so it is an optimistic bound).

    On or after the last day of the year every method equals the actual.
    Before its first day (next year's forecast at the end of this one: the
    reports' *next year's forecast*) ``YTD`` and ``LY_YTD`` are 0 and ``LY_rest``
    is last year's revenue up to ``as_of``: the run rate carries last year's
    daily pace over the whole year, seasonal naive and blended repeat last year
    (with ``as_of`` on last year's last day: its whole revenue), and the range
    spans the two, plus the weighted open pipeline as upside.
    """
    ids = [str(e) for e in entities]
    cutoff_ts = np.datetime64(as_of, "ns")
    rev = revenue.loc[(revenue["close_date"] <= cutoff_ts).to_numpy()] if len(revenue) else revenue  # no look-ahead
    if history_start is None:
        history_start = pd.Timestamp(rev["close_date"].min()).date() if len(rev) else as_of
    span = _YearSpan.of(calendar, fiscal_year, as_of, history_start)
    year, ly = span.year, span.year.same_period_last_year()
    ytd = _sum_between(rev, year.start, span.cutoff, ids) if as_of >= year.start else dict.fromkeys(ids, 0)
    ly_ytd = _sum_between(rev, ly.start, min(span.ly_cut, ly.end), ids)
    ly_rest = _sum_between(rev, span.ly_cut + datetime.timedelta(days=1), ly.end, ids)
    bands, count, amount = _pipeline_bands(
        pipeline if pipeline is not None and not span.done else None, categories or ForecastCategories()
    )
    rows = [
        _entity_methods(
            e,
            span,
            ytd[e],
            ly_ytd[e],
            ly_rest[e],
            {k: bands[k].get(e, 0) for k in bands},
            int(count.get(e, 0)),
            int(amount.get(e, 0)),
        )
        for e in ids
    ]
    if not rows:
        return pd.DataFrame(rows, columns=["entity"])
    return pd.DataFrame({col: _method_column(col, [r[col] for r in rows]) for col in rows[0]})


def _method_column(col: str, values: list[Any]) -> Any:
    """One column of :func:`forecast_methods` with its dtype: cents and days int64 (``Int64`` where NA), words str."""
    if col in ("seasonal_cents", "seasonal_naive_cents"):
        return pd.array(values, dtype="Int64")
    if col.endswith("_cents") or col in ("elapsed_days", "remaining_days", "open_count"):
        return np.array(values, dtype="int64")
    if col in ("entity", "blended_basis"):
        return pd.Series(values, dtype="str")
    return values


@dataclass(frozen=True)
class _YearSpan:
    """The days of a fiscal year a forecast as of a date stands on (see :func:`forecast_methods`)."""

    year: Period
    cutoff: datetime.date  # min(as_of, year end)
    elapsed: int  # days counted for the run rate: from max(year start, data start) to the cutoff
    remaining: int  # days after the cutoff to the year end
    done: bool  # the year is over: every method is the actual
    ly_cut: datetime.date  # last year's same date as the cutoff (the day before last year when not started)
    full_prior: bool  # the data covers the whole of last fiscal year
    ly_days: int = 0  # a year not started yet: days of last year with data up to as_of (its run rate's base)

    @classmethod
    def of(cls, calendar: FiscalCalendar, fiscal_year: int, as_of: datetime.date, history_start: datetime.date) -> _YearSpan:
        year = Period(calendar, "year", int(fiscal_year))
        ly = year.same_period_last_year()
        cutoff = min(as_of, year.end)
        data_start = max(year.start, history_start)
        return cls(
            year=year,
            cutoff=cutoff,
            elapsed=max(0, (cutoff - data_start).days + 1) if cutoff >= data_start else 0,
            remaining=max(0, (year.end - cutoff).days) if as_of >= year.start else year.days,
            done=as_of >= year.end,
            ly_cut=one_year_earlier(cutoff) if as_of >= year.start else ly.start - datetime.timedelta(days=1),
            full_prior=history_start <= ly.start,
            ly_days=max(0, (min(as_of, ly.end) - max(ly.start, history_start)).days + 1) if as_of < year.start else 0,
        )


def _history_methods(span: _YearSpan, y: int, lyy: int, lyr: int) -> tuple[int, int | None, int | None, int, str]:
    """Run rate, seasonal, seasonal naive and blended totals (cents) and the blended basis, from closed history."""
    rr = y + run_rate_cents(y, span.elapsed, span.remaining)
    if span.ly_days:  # the year has not begun: last year's daily pace so far, over the whole year
        rr = run_rate_cents(lyr, span.ly_days, span.remaining)
    if span.done:
        actual = y if span.full_prior else None
        return rr, actual, actual, y, "actual (year closed)"
    seas = naive = None
    if span.full_prior:
        naive = y + lyr
        if lyy > 0:
            seas = y + _round_frac(lyr * max(Fraction(0), Fraction(y, lyy)))
    if span.full_prior and lyy + lyr > 0:
        blended = y + _round_frac(lyr * max(Fraction(0), 1 + Fraction(y - lyy, lyy + lyr)))
        return rr, seas, naive, blended, "damped seasonal (full prior year)"
    return rr, seas, naive, rr, "run rate (no full prior year)"


def _entity_methods(
    e: str, span: _YearSpan, y: int, lyy: int, lyr: int, bands: dict[str, int], open_count: int, open_amount: int
) -> dict[str, Any]:
    """One entity's row of :func:`forecast_methods`: the history methods, the categories and the range."""
    rr, seas, naive, blended, basis = _history_methods(span, y, lyy, lyr)
    commit = y + bands["commit"]
    best = commit + bands["best"]
    pipe_total = best + bands["low"]
    cands = [rr, blended] + ([seas] if seas is not None else [])
    return {
        "entity": e,
        "ytd_cents": y,
        "ly_ytd_cents": lyy,
        "ly_rest_cents": lyr,
        "ly_total_cents": lyy + lyr,
        "full_prior_year": bool(span.full_prior),
        "elapsed_days": span.elapsed,
        "remaining_days": span.remaining,
        "open_count": open_count,
        "open_amount_cents": open_amount,
        "run_rate_cents": rr,
        "seasonal_cents": seas,
        "seasonal_naive_cents": naive,
        "weighted_pipeline_cents": pipe_total,
        "commit_cents": commit,
        "best_case_cents": best,
        "pipeline_cents": pipe_total,
        "blended_cents": blended,
        "blended_basis": basis,
        "low_cents": min(cands),
        "high_cents": max(cands) + (pipe_total - y),
    }


def annual_quota_by_entity(
    quotas: pd.DataFrame | None,
    account_managers: pd.DataFrame,
    level: str,
    fiscal_year: int,
    calendar: FiscalCalendar,
) -> dict[str, int | None]:
    """Annual quota (cents) per entity of ``level``; ``None`` = no quota row in that year.

    A team's quota is the sum of its members' quotas and the company's the sum
    of everybody's (the usual roll-up; with territory overlays this counts an
    overlapping territory once per person, as the quota plan itself does).
    """
    empty: dict[str, int | None] = {}
    if quotas is None or len(quotas) == 0:
        return empty
    y = split_quotas(quotas, calendar, "year")
    y = y.loc[(y["period"] == f"FY{int(fiscal_year)}").to_numpy()]
    per_am = y.groupby("account_manager_id")["quota_cents"].sum()
    if level == "account_manager":
        return {str(k): int(v) for k, v in per_am.items()}
    if level == "team":
        team = per_am.index.to_series().astype("str").map(team_of(account_managers))
        return {str(k): int(v) for k, v in per_am.groupby(team.to_numpy()).sum().items()}
    return {COMPANY: int(per_am.sum())} if len(per_am) else empty


#: The money columns of a forecast roll-up row (cents), in the order of a team's forecast frame.
FORECAST_TOTAL_KEYS = ("ytd_cents", "blended_cents", "run_rate_cents", "low_cents", "high_cents")


def pooled_forecast(
    fc: pd.DataFrame,
    ids: list[str],
    ytd_micros: pd.Series,
    quota: list[int | None] | None,
    *,
    keys: Sequence[str] = FORECAST_TOTAL_KEYS,
    basis: str = "blended_cents",
) -> dict[str, Any]:
    """Members' forecasts totalled under the one total rule: the exact total, rounded once.

    Every forecast figure is the member's YTD actuals plus a forecast part
    (whole cents). The total adds the members' *exact* YTD credits
    (``ytd_micros``, :func:`reportkit.domain.crediting.revenue_micros_by`) and their
    forecast parts and rounds once, so its YTD equals the group's YTD revenue to
    the cent; it can differ by a cent from adding the rounded member rows.
    With ``quota`` (annual quota per member, same order) the total is the
    attainment basis (:func:`reportkit.domain.quota.pooled_attainment`: members
    without a quota count in neither side); without, every member counts. The
    team report, the company roll-up and :func:`annual_forecasts` at team and
    company level all total forecasts here.

    Parameters
    ----------
    fc : DataFrame
        Indexed by account manager id, with ``ytd_cents`` and the ``keys`` columns
        (cents, as :func:`forecast_methods` gives them).
    ids : list of str
        The members.
    ytd_micros : Series
        Exact YTD credited revenue (micros) per member id.
    quota : list of int or None, optional
        Annual quota per member (cents), same order as ``ids``.
    keys : sequence of str
        The columns to total; a member whose value is missing makes that total None.
    basis : str
        The column whose total is divided by the quota (``attainment``).

    Returns
    -------
    dict
        Each of ``keys`` (cents or None) plus ``quota_cents`` and ``attainment``
        (of ``basis``; None / NaN without ``quota``).
    """
    qs = quota if quota is not None else [1] * len(ids)  # every member counted
    out: dict[str, Any] = {"quota_cents": None, "attainment": math.nan}
    rows = fc.loc[list(ids)]  # the members' rows once (not a lookup per member and key: the company's 50 x 6)
    ytd = rows["ytd_cents"].tolist()
    for k in keys:
        vals = rows[k].tolist()
        if any(pd.isna(v) for v in vals):
            out[k] = None
            continue
        part = [int(v) - int(y) for v, y in zip(vals, ytd)]
        exact = [int(ytd_micros.get(a, 0)) + x * MICROS_PER_CENT for a, x in zip(ids, part)]
        pooled = pooled_attainment(None, qs, revenue_micros=exact)
        out[k] = pooled.revenue_cents
        if k == basis and quota is not None:
            out["quota_cents"] = pooled.quota_cents
            out["attainment"] = pooled.attainment
    return out


def annual_forecasts(
    dataset: Dataset,
    fiscal_year: int,
    as_of: datetime.date,
    *,
    level: str = "account_manager",
    method: str = DEFAULT_METHOD,
    credited: pd.DataFrame | None = None,
    quotas: pd.DataFrame | None = None,
    categories: ForecastCategories | None = None,
    members: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Annual forecast per account manager, team or company against the annual quota.

    Parameters
    ----------
    dataset : Dataset
    fiscal_year : int
    as_of : date
        Forecast date (never ``today()``); deals and crediting after it are ignored.
    level : {"account_manager", "team", "company"}
    method : str
        One of :data:`METHODS`; default :data:`DEFAULT_METHOD` (``blended``).
    credited : DataFrame, optional
        ``credited_deals(dataset)`` when the caller already has it.
    quotas : DataFrame, optional
        Canonical quotas (default ``dataset.quotas``; pass the params-derived
        quotas when the source has none).
    categories : ForecastCategories, optional
    members : sequence of str, optional
        For ``level`` team or company: the account managers whose forecasts and
        annual quotas a group's ``forecast_attainment`` pools (the reports pass
        the managers active in the period); default every account manager.

    Returns
    -------
    DataFrame
        One row per entity (all account managers / all teams / the company):
        ``level``, ``entity``, ``name``, ``method``, ``basis``; ``Decimal`` money
        ``ytd_revenue``, ``forecast`` (the chosen method), ``low``, ``high`` (the
        blended range), ``annual_quota`` (None when no quota), and every method
        total (``run_rate``, ``seasonal``, ``seasonal_naive`` -- None when
        undefined --, ``weighted_pipeline``, ``commit``, ``best_case``,
        ``pipeline``); ``forecast_attainment`` (float, NaN when undefined; for
        a team or the company the pooled rule, :func:`reportkit.domain.quota.pooled_attainment`:
        the members' own forecasts over their annual quotas, given as
        ``credited_forecast``, so it lies within the members' range); ``open_count``; plus every ``*_cents`` column of :func:`forecast_methods`
        and ``annual_quota_cents`` (Int64) for roll-ups and tests.
    """
    if method not in METHODS:
        raise ValueError(f"method {method!r} is not one of {METHODS}")
    if level not in LEVELS:
        raise ValueError(f"level {level!r} is not one of {LEVELS}")
    cal = dataset.calendar
    year = Period(cal, "year", int(fiscal_year))
    if credited is None:
        credited = credited_deals(dataset)
    credited = credited.loc[(credited["close_date"] <= np.datetime64(as_of, "ns")).to_numpy()]
    rev = level_revenue(credited, level, dataset.account_managers)
    am = dataset.account_managers
    ids, names = _entities(am, level)
    history_start = pd.Timestamp(dataset.deals["close_date"].min()).date() if len(dataset.deals) else None
    if history_start is not None and history_start > as_of:
        history_start = as_of
    pipe = open_pipeline(dataset.pipeline, level, as_of, year.end, am)
    f = forecast_methods(rev, ids, fiscal_year, as_of, cal, history_start=history_start, pipeline=pipe, categories=categories)
    q = annual_quota_by_entity(dataset.quotas if quotas is None else quotas, am, level, fiscal_year, cal)

    def money(col: str) -> pd.Series:
        return pd.Series([None if pd.isna(v) else cents_to_money(int(v)) for v in f[col]], dtype="object")

    out = pd.DataFrame(
        {
            "level": pd.Series([level] * len(f), dtype="str"),
            "entity": f["entity"],
            "name": pd.Series([names.get(e, e) for e in f["entity"]], dtype="str"),
            "method": pd.Series([method] * len(f), dtype="str"),
            "basis": f["blended_basis"] if method == "blended" else pd.Series([method.replace("_", " ")] * len(f), dtype="str"),
            "ytd_revenue": money("ytd_cents"),
            "forecast": money(f"{method}_cents"),
            "low": money("low_cents"),
            "high": money("high_cents"),
            "annual_quota": pd.Series([None if q.get(e) is None else cents_to_money(q[e]) for e in f["entity"]], dtype="object"),
        }
    )
    if level == "account_manager":
        out["forecast_attainment"] = pd.Series(
            [attainment(fc, q.get(e)) if not pd.isna(fc) else np.nan for fc, e in zip(f[f"{method}_cents"], f["entity"])],
            dtype="float64",
        )
    else:
        out["forecast_attainment"], out["credited_forecast"] = _group_forecast_attainment(
            dataset,
            fiscal_year,
            as_of,
            level,
            method,
            f["entity"],
            ids,
            credited=credited,
            quotas=quotas,
            categories=categories,
            members=members,
        )
    for m in METHODS:
        out[m] = money(f"{m}_cents")
    out["open_count"] = f["open_count"]
    for col in f.columns:
        if col.endswith("_cents"):
            out[col] = f[col]
    out["annual_quota_cents"] = pd.Series([q.get(e) for e in f["entity"]], dtype="Int64")
    return out


def _entities(am: pd.DataFrame, level: str) -> tuple[list[str], dict[str, str]]:
    """The entities of ``level`` (every account manager / every team / the company) and their names."""
    if level == "account_manager":
        ids = am["account_manager_id"].astype("str").tolist()
        return ids, dict(zip(ids, am["name"].astype("str")))
    if level == "team":
        ids = sorted(am["team"].astype("str").unique().tolist())
        return ids, {t: t for t in ids}
    return [COMPANY], {COMPANY: "Company"}


def _group_forecast_attainment(
    dataset: Dataset,
    fiscal_year: int,
    as_of: datetime.date,
    level: str,
    method: str,
    entities: pd.Series,
    ids: list[str],
    *,
    credited: pd.DataFrame,
    quotas: pd.DataFrame | None,
    categories: ForecastCategories | None,
    members: Sequence[str] | None,
) -> tuple[pd.Series, pd.Series]:
    """A team's or the company's ``forecast_attainment`` and ``credited_forecast``, by the one roll-up rule.

    The rule is :func:`reportkit.domain.quota.pooled_attainment`: the members' own
    forecasts over their annual quotas (:func:`pooled_forecast`), never the
    each-deal-once group forecast over the members' summed quotas (which mixes two
    bases when credits overlap). ``members`` restricts who counts (default everyone).
    """
    am = dataset.account_managers
    year = Period(dataset.calendar, "year", int(fiscal_year))
    per_am = annual_forecasts(
        dataset,
        fiscal_year,
        as_of,
        level="account_manager",
        method=method,
        credited=credited,
        quotas=quotas,
        categories=categories,
    )
    per_am = per_am.set_index(per_am["entity"].astype("str"), drop=False)
    team_by_am = dict(zip(am["account_manager_id"].astype("str"), am["team"].astype("str")))
    counted = None if members is None else {str(m) for m in members}
    groups: dict[str, list[str]] = {e: [] for e in ids}
    for a in per_am.index:
        if counted is None or a in counted:
            groups.setdefault(COMPANY if level == "company" else team_by_am.get(a, ""), []).append(a)
    ytd_micros = revenue_micros_by(credited_in(credited, year.start, as_of), "account_manager_id")
    col = f"{method}_cents"
    pooled = {
        e: pooled_forecast(
            per_am,
            rows,
            ytd_micros,
            [None if pd.isna(per_am.at[a, "annual_quota_cents"]) else int(per_am.at[a, "annual_quota_cents"]) for a in rows],
            keys=(col,),
            basis=col,
        )
        for e, rows in groups.items()
    }
    return (
        pd.Series([pooled[e]["attainment"] for e in entities], dtype="float64"),
        pd.Series([None if pooled[e][col] is None else cents_to_money(pooled[e][col]) for e in entities], dtype="object"),
    )
