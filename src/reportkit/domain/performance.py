"""Performance-watch state per account manager per quarter.

Policy (:class:`~reportkit.config.params.PerformancePolicy`, from the sales-ops
performance-management rules the params file documents):

* a quarter whose attainment is **below** ``miss_below`` is a *miss* and adds
  one to the run of consecutive misses;
* a quarter **at or above** ``miss_below`` lifts everything: the run restarts at 0;
* a quarter with **undefined** attainment (no quota / zero quota, or not
  complete as of the report date) neither misses nor lifts: the run is carried
  over unchanged;
* a quarter whose first day the data does not cover (the data set begins inside
  or after it: :func:`reportkit.core.periods.data_covers`, the one rule of every
  comparison with history) has **no verdict**, whatever its attainment on the
  part the data holds: it is ``n/a`` with a ``note`` saying where the data
  begins, and it is skipped like an undefined quarter (neither a miss nor a
  lift; the run is carried over). Maven's data begins on 2017-03-01, so
  FY2017-Q1 is ``n/a``, not a miss on one month of sales;
* likewise a quarter that begins after the data's last day
  (:func:`reportkit.core.periods.data_reaches`) has no verdict: ``n/a`` with the
  note ``data ends on 2017-12-31`` (Maven's FY2018 quarters hold no deal; their
  0 % is the end of the export, not a miss); a quarter the data ends inside is
  judged on what it holds (:func:`performance_input` applies these rules);
* status of a quarter: ``"n/a"`` when undefined; otherwise, by the run length
  after it, ``"termination review"`` (>= ``termination_review_after``),
  ``"performance watch"`` (>= ``watch_after``), ``"missed"`` (a miss below the
  watch threshold) or ``"on track"`` (not a miss).

Runs carry across fiscal years (Q4 then Q1 are consecutive quarters).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from ..config.params import PerformancePolicy
from ..core.periods import data_covers, data_reaches

__all__ = ["STATUSES", "PERFORMANCE_COLUMNS", "performance_input", "performance_watch", "performance_table", "current_status"]

STATUSES = ("on track", "missed", "performance watch", "termination review", "n/a")
PERFORMANCE_COLUMNS = ("period", "attainment", "missed", "consecutive_misses", "status", "note")


def performance_input(
    att: pd.DataFrame, as_of: datetime.date, data_start: datetime.date | None, data_end: datetime.date | None = None
) -> pd.DataFrame:
    """The quarters' attainment a verdict may rest on (input of :func:`performance_table`).

    Parameters
    ----------
    att : DataFrame
        ``account_manager_id``, ``period``, ``period_start``, ``period_end``
        (datetime64 or date), ``attainment`` (fraction), e.g. from
        :func:`reportkit.domain.quota.attainment_table`.
    as_of : date
        The report date: a quarter not over by then has undefined attainment.
    data_start : date or None
        First day of the data (:func:`reportkit.core.periods.data_start` of every
        deal's close date). A quarter that begins before it is not covered
        (:func:`reportkit.core.periods.data_covers`): undefined attainment and a
        ``note`` ``"data begins on 2017-03-01"`` (``"no data"`` for an empty data set).
    data_end : date, optional
        Last day of the data (:func:`reportkit.core.periods.data_end`). A quarter that
        begins after it is not reached (:func:`reportkit.core.periods.data_reaches`):
        undefined attainment and the ``note`` ``"data ends on 2017-12-31"``. None:
        not checked.

    Returns
    -------
    DataFrame
        A copy of ``att`` with those attainments NaN and a ``note`` column
        (str, None where the quarter is covered).
    """
    a = att.copy()
    a.loc[(pd.to_datetime(a["period_end"]) > pd.Timestamp(as_of)).to_numpy(), "attainment"] = np.nan
    starts = pd.to_datetime(a["period_start"])
    uncovered = np.array([not data_covers(data_start, s.date()) for s in starts], dtype=bool)
    a.loc[uncovered, "attainment"] = np.nan
    why = "no data" if data_start is None else f"data begins on {data_start.isoformat()}"
    past = np.array([data_end is not None and not data_reaches(data_end, s.date()) for s in starts], dtype=bool)
    a.loc[past, "attainment"] = np.nan
    notes = np.where(uncovered, why, np.where(past, f"data ends on {data_end.isoformat() if data_end else ''}", None))
    a["note"] = pd.Series(notes, index=a.index, dtype="object")
    return a


def performance_watch(
    periods: Sequence[str],
    attainments: Iterable[float | None],
    policy: PerformancePolicy | None = None,
    notes: Iterable[str | None] | None = None,
) -> pd.DataFrame:
    """Walk one account manager's quarters in order and give each its state.

    Parameters
    ----------
    periods : sequence of str
        Quarter labels, oldest first (consecutive quarters).
    attainments : iterable of float or None
        Attainment fraction per quarter; ``None`` / NaN means undefined.
    policy : PerformancePolicy, optional
        Defaults to ``PerformancePolicy()`` (miss below 0.9, watch after 2,
        termination review after 3).
    notes : iterable of str or None, optional
        Per quarter, why it has no verdict (:func:`performance_input`); a quarter
        with a note is ``n/a`` and skipped whatever its attainment.

    Returns
    -------
    DataFrame
        Columns :data:`PERFORMANCE_COLUMNS`: ``period`` (str), ``attainment``
        (float, NaN when undefined), ``missed`` (``boolean``, NA when
        undefined), ``consecutive_misses`` (int64, the run after this quarter),
        ``status`` (one of :data:`STATUSES`), ``note`` (str or None: why a
        quarter has no verdict).

    Raises
    ------
    ValueError
        If ``periods`` and ``attainments`` differ in length.
    """
    policy = policy or PerformancePolicy()
    atts = [math.nan if a is None or (isinstance(a, float) and math.isnan(a)) or pd.isna(a) else float(a) for a in attainments]
    why = [None if n is None or pd.isna(n) else str(n) for n in notes] if notes is not None else [None] * len(atts)
    if len(atts) != len(periods) or len(why) != len(periods):
        raise ValueError(f"{len(periods)} periods but {len(atts)} attainments and {len(why)} notes")
    atts = [math.nan if n is not None else a for a, n in zip(atts, why)]
    run = 0
    missed: list[bool | None] = []
    runs: list[int] = []
    status: list[str] = []
    for a in atts:
        if math.isnan(a):
            missed.append(None)
            st = "n/a"
        elif a < policy.miss_below:
            run += 1
            missed.append(True)
            if run >= policy.termination_review_after:
                st = "termination review"
            elif run >= policy.watch_after:
                st = "performance watch"
            else:
                st = "missed"
        else:
            run = 0
            missed.append(False)
            st = "on track"
        runs.append(run)
        status.append(st)
    return pd.DataFrame(
        {
            "period": pd.Series(list(periods), dtype="str"),
            "attainment": pd.Series(atts, dtype="float64"),
            "missed": pd.Series(missed, dtype="boolean"),
            "consecutive_misses": pd.Series(runs, dtype="int64"),
            "status": pd.Series(status, dtype="str"),
            "note": pd.Series(why, dtype="object"),
        }
    )


def performance_table(att: pd.DataFrame, policy: PerformancePolicy | None = None) -> pd.DataFrame:
    """:func:`performance_watch` for many account managers.

    Parameters
    ----------
    att : DataFrame
        ``account_manager_id``, ``period``, ``attainment`` and optionally ``note``
        -- e.g. :func:`performance_input` of :func:`reportkit.domain.quota.attainment_table`
        -- with each manager's quarters in chronological order.

    Returns
    -------
    DataFrame
        ``account_manager_id`` plus :data:`PERFORMANCE_COLUMNS`.
    """
    parts = []
    for am, g in att.groupby("account_manager_id", sort=False):
        f = performance_watch(g["period"].tolist(), g["attainment"].tolist(), policy, g["note"].tolist() if "note" in g else None)
        f.insert(0, "account_manager_id", str(am))
        parts.append(f)
    if not parts:
        f = performance_watch([], [], policy)
        f.insert(0, "account_manager_id", pd.Series([], dtype="str"))
        return f
    out = pd.concat(parts, ignore_index=True)
    out["account_manager_id"] = out["account_manager_id"].astype("str")
    return out


def current_status(table: pd.DataFrame, policy: PerformancePolicy | None = None) -> tuple[str, int]:
    """Standing status and run length after the last row of a :func:`performance_watch` frame.

    The last quarter's status, except that an undefined last quarter (``"n/a"``)
    does not lift a watch or a review: with a run of ``watch_after`` or more
    misses carried over, the standing status stays ``"performance watch"`` /
    ``"termination review"``. ``("n/a", 0)`` for an empty frame.
    """
    policy = policy or PerformancePolicy()
    if table.empty:
        return "n/a", 0
    last = table.iloc[-1]
    status, run = str(last["status"]), int(last["consecutive_misses"])
    if status == "n/a":
        if run >= policy.termination_review_after:
            status = "termination review"
        elif run >= policy.watch_after:
            status = "performance watch"
    return status, run
