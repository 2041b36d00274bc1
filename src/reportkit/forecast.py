"""Annual forecast per account manager: year to date plus run rate.

Method ("run rate", the straight-line extrapolation of the pace so far; see
e.g. Investopedia, *Run Rate*, and the "run-rate / trend" family in the
forecasting chapters of sales-management texts):

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

Money: inputs in cents; outputs ``Decimal`` quantized to 0.01.
"""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Mapping, Sequence

import pandas as pd

from .crediting import credited_in
from .money import cents_to_money
from .periods import FiscalCalendar, Period
from .quota import attainment

__all__ = ["FORECAST_COLUMNS", "METHOD", "annual_forecast", "forecast_frame", "run_rate_cents", "last_full_quarter"]

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


def _round_cents(x: Decimal) -> int:
    return int(x.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def run_rate_cents(revenue_cents: int, days: int, remaining_days: int) -> int:
    """Revenue expected over ``remaining_days`` at the pace ``revenue_cents / days`` (cents, half away from zero)."""
    if days <= 0 or remaining_days <= 0:
        return 0
    return _round_cents(Decimal(int(revenue_cents)) * remaining_days / days)


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
        Output of :func:`reportkit.crediting.credited_deals`.
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
        ytd = ytd.add(c.groupby("account_manager_id")["credit_cents"].sum(), fill_value=0).astype("int64").reindex(ids)
        if lq is not None:
            c2 = credited_in(credited, lq.start, lq.end, ids)
            lq_rev = lq_rev.add(c2.groupby("account_manager_id")["credit_cents"].sum(), fill_value=0).astype("int64").reindex(ids)

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
    frame = pd.DataFrame(rows, columns=["account_manager_id", "method", "ytd_cents", "forecast_cents", "low_cents", "high_cents", "annual_quota_cents"])
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
