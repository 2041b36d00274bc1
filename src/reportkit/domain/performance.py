"""Performance-watch state per account manager per quarter.

Policy (:class:`~reportkit.config.params.PerformancePolicy`, from the sales-ops
performance-management rules the params file documents):

* a quarter whose attainment is **below** ``miss_below`` is a *miss* and adds
  one to the run of consecutive misses;
* a quarter **at or above** ``miss_below`` lifts everything: the run restarts at 0;
* a quarter with **undefined** attainment (no quota / zero quota, or not
  complete as of the report date) neither misses nor lifts: the run is carried
  over unchanged;
* status of a quarter: ``"n/a"`` when undefined; otherwise, by the run length
  after it, ``"termination review"`` (>= ``termination_review_after``),
  ``"performance watch"`` (>= ``watch_after``), ``"missed"`` (a miss below the
  watch threshold) or ``"on track"`` (not a miss).

Runs carry across fiscal years (Q4 then Q1 are consecutive quarters).
"""

from __future__ import annotations

import math
from typing import Iterable, Sequence

import pandas as pd

from ..config.params import PerformancePolicy

__all__ = ["STATUSES", "PERFORMANCE_COLUMNS", "performance_watch", "performance_table", "current_status"]

STATUSES = ("on track", "missed", "performance watch", "termination review", "n/a")
PERFORMANCE_COLUMNS = ("period", "attainment", "missed", "consecutive_misses", "status")


def performance_watch(
    periods: Sequence[str],
    attainments: Iterable[float | None],
    policy: PerformancePolicy | None = None,
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

    Returns
    -------
    DataFrame
        Columns :data:`PERFORMANCE_COLUMNS`: ``period`` (str), ``attainment``
        (float, NaN when undefined), ``missed`` (``boolean``, NA when
        undefined), ``consecutive_misses`` (int64, the run after this quarter),
        ``status`` (one of :data:`STATUSES`).

    Raises
    ------
    ValueError
        If ``periods`` and ``attainments`` differ in length.
    """
    policy = policy or PerformancePolicy()
    atts = [math.nan if a is None or (isinstance(a, float) and math.isnan(a)) or pd.isna(a) else float(a) for a in attainments]
    if len(atts) != len(periods):
        raise ValueError(f"{len(periods)} periods but {len(atts)} attainments")
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
        }
    )


def performance_table(att: pd.DataFrame, policy: PerformancePolicy | None = None) -> pd.DataFrame:
    """:func:`performance_watch` for many account managers.

    Parameters
    ----------
    att : DataFrame
        ``account_manager_id``, ``period``, ``attainment`` -- e.g. from
        :func:`reportkit.domain.quota.attainment_table` -- with each manager's quarters in
        chronological order.

    Returns
    -------
    DataFrame
        ``account_manager_id`` plus :data:`PERFORMANCE_COLUMNS`.
    """
    parts = []
    for am, g in att.groupby("account_manager_id", sort=False):
        f = performance_watch(g["period"].tolist(), g["attainment"].tolist(), policy)
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
