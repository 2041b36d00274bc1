"""Closed deals as sales metrics: win rate, average won deal and sales-cycle length, one rule each.

* **win rate** = won deals / closed deals (won + lost), a fraction (1.0 == 100 %),
  counted on the canonical ``deals`` table: every closed deal once, whoever is
  credited (open opportunities are in ``pipeline`` and are not closed);
* **average won deal** = the won deals' exact amounts (micros) summed, divided by
  their count and rounded to the cent once, half away from zero
  (:func:`reportkit.core.money.rdiv`);
* **sales-cycle length** = close date minus created date, in days, of the won
  deals that have a created date (the optional deals column ``created_date``);
  without one the data cannot say, and the metric is None with that reason
  (:data:`NO_CREATED_DATE`).

:func:`win_rates` groups the first two by deal columns (the analysts'
``rk.win_rates``); :func:`closed_deal_metrics` gives all three for one group of
account managers and one span (the company report, this period and the same
period last year); :func:`cycle_days` is the one cycle rule (``rk.sales_cycle``
passes its own start dates to it).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..core.money import MICROS_PER_CENT, cents_to_money, micros_to_cents, rdiv
from ..data.model import deal_micros

__all__ = ["CREATED_DATE", "NO_CREATED_DATE", "win_rates", "cycle_days", "closed_deal_metrics"]

#: The optional deals column holding the day a deal was created (opened) in the CRM.
CREATED_DATE = "created_date"

NO_CREATED_DATE = "the data has no created date for its deals, so the sales cycle (close date minus created date) is not known"
"""Why the sales-cycle length is n/a: the reason a report shows."""


def _average_cents(won_micros: int, won: int) -> int | None:
    """Exact won amount / number of won deals, in cents rounded once (None without a won deal)."""
    return rdiv(int(won_micros), int(won) * MICROS_PER_CENT) if won else None


def win_rates(deals: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Win rate of closed deals, grouped by deal columns.

    Parameters
    ----------
    deals : DataFrame
        The canonical ``deals`` table (``stage`` ``won`` / ``lost``, ``amount_cents``,
        ``amount_micros``); each row is one closed deal.
    by : sequence of str
        Columns of ``deals`` to group by; missing values are grouped as ``"(none)"``.

    Returns
    -------
    DataFrame
        The ``by`` columns, ``won``, ``lost``, ``closed`` (int64 counts),
        ``win_rate`` (won / closed, a float fraction), ``won_revenue`` (Decimal:
        the exact sum rounded once) and ``average_won_deal`` (Decimal, rounded
        half away from zero; None with no won deal). Sorted by ``closed``
        descending, then the ``by`` columns.

    Examples
    --------
    >>> d = pd.DataFrame({"product": ["A", "A", "A"], "stage": ["won", "won", "lost"],
    ...                   "amount_cents": [100, 201, 50]})
    >>> row = win_rates(d, ["product"]).iloc[0]
    >>> int(row["closed"]), round(float(row["win_rate"]), 4), row["average_won_deal"]
    (3, 0.6667, Decimal('1.51'))
    """
    cols = list(by)
    keys = deals[cols].astype("object").where(deals[cols].notna(), "(none)").astype("str")
    won = (deals["stage"] == "won").to_numpy()
    frame = keys.assign(won=won.astype("int64"), lost=(~won).astype("int64"), won_micros=np.where(won, deal_micros(deals), 0))
    g = (
        frame.groupby(cols, sort=True)
        .agg(won=("won", "sum"), lost=("lost", "sum"), won_micros=("won_micros", "sum"))
        .reset_index()
    )
    micros = g.pop("won_micros").to_numpy(np.int64)
    g["closed"] = (g["won"] + g["lost"]).astype("int64")
    g["win_rate"] = (g["won"] / g["closed"]).astype("float64")
    g["won_revenue"] = pd.Series([cents_to_money(int(c)) for c in micros_to_cents(micros)], dtype="object")
    g["average_won_deal"] = pd.Series(
        [None if (a := _average_cents(int(m), int(n))) is None else cents_to_money(a) for m, n in zip(micros, g["won"])],
        dtype="object",
    )
    g = g.sort_values(["closed", *cols], ascending=[False] + [True] * len(cols), kind="stable")
    return g[[*cols, "won", "lost", "closed", "win_rate", "won_revenue", "average_won_deal"]].reset_index(drop=True)


def cycle_days(close_dates: pd.Series, start_dates: pd.Series) -> pd.Series:
    """Sales-cycle length per deal: close date minus start (created) date, in whole days (float; NaN without a start).

    Examples
    --------
    >>> cycle_days(pd.Series(pd.to_datetime(["2025-03-31"])), pd.Series(pd.to_datetime(["2025-03-01"]))).tolist()
    [30.0]
    """
    start = pd.to_datetime(pd.Series(start_dates.to_numpy(), index=close_dates.index), errors="coerce")
    return (pd.to_datetime(close_dates) - start).dt.days.astype("float64")


def closed_deal_metrics(
    deals: pd.DataFrame,
    start: datetime.date,
    end: datetime.date,
    account_manager_ids: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Win rate, average won deal and sales-cycle length of the deals closed in ``start..end``.

    Parameters
    ----------
    deals : DataFrame
        The canonical ``deals`` table; ``created_date`` (optional column,
        :data:`CREATED_DATE`) gives the sales cycle.
    start, end : date
        Close dates counted, inclusive.
    account_manager_ids : sequence of str, optional
        Only deals these account managers own (``deals.account_manager_id``);
        default every deal.

    Returns
    -------
    dict
        ``won``, ``lost``, ``closed`` (int), ``win_rate`` (float fraction, None
        with no closed deal), ``won_cents`` (exact sum rounded once),
        ``average_won_deal_cents`` (int, None with no won deal),
        ``cycle_days`` (median days from created to close of the won deals that
        have a created date, float; None otherwise), ``cycle_deals`` (how many
        such deals), ``cycle_note`` (None, or :data:`NO_CREATED_DATE`).

    Examples
    --------
    >>> d = pd.DataFrame({"deal_id": ["1", "2", "3"], "account_manager_id": ["A", "A", "B"],
    ...     "close_date": pd.to_datetime(["2025-01-10", "2025-02-01", "2025-02-02"]),
    ...     "stage": ["won", "lost", "won"], "amount_cents": [1000, 500, 2001]})
    >>> m = closed_deal_metrics(d, datetime.date(2025, 1, 1), datetime.date(2025, 3, 31))
    >>> m["win_rate"], m["average_won_deal_cents"], m["cycle_note"] is not None
    (0.6666666666666666, 1501, True)
    """
    close = deals["close_date"]
    keep = (close >= np.datetime64(start, "ns")) & (close <= np.datetime64(end, "ns"))
    if account_manager_ids is not None:
        keep &= deals["account_manager_id"].astype("str").isin([str(a) for a in account_manager_ids])
    read = ("close_date", "stage", "amount_cents", "amount_micros", CREATED_DATE)  # not a copy of every column
    d = deals[[c for c in read if c in deals.columns]].loc[keep.to_numpy()]
    won_mask = (d["stage"] == "won").to_numpy()
    lost = int((d["stage"] == "lost").sum())
    won = int(won_mask.sum())
    won_micros = int(deal_micros(d)[won_mask].sum()) if won else 0
    cycle, n_cycle, note = None, 0, NO_CREATED_DATE
    if CREATED_DATE in d.columns and d[CREATED_DATE].notna().any():
        days = cycle_days(d["close_date"], d[CREATED_DATE]).loc[won_mask].dropna()
        n_cycle, note = len(days), None
        cycle = float(days.median()) if n_cycle else None
    return {
        "won": won,
        "lost": lost,
        "closed": won + lost,
        "win_rate": won / (won + lost) if won + lost else None,
        "won_cents": int(micros_to_cents(won_micros)),
        "average_won_deal_cents": _average_cents(won_micros, won),
        "cycle_days": cycle,
        "cycle_deals": n_cycle,
        "cycle_note": note,
    }
