"""The quotas table's rule across rows: one account manager's quota rows never cover a day twice.

The quota of a period is the sum of the quota rows inside it (``domain/quota.py``), so a
repeated row, or a month row inside a quarter row of the same account manager, would
count those days' quota twice and quietly lower the attainment (the trial's case: a
160,000 quarter row and a repeated 150,000 one shown as a 310,000 quota). Validation
(:func:`reportkit.data.model.validate_dataset`, every path: a mapping's load
and frames given by hand) lists every such row with the row it overlaps
(:func:`quota_overlap_problems`).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from ..core.errors import DataProblem
from .model import SOURCE_VALUE_PREFIX, _locate

__all__ = ["quota_overlap_problems"]

_KEYS = ["account_manager_id", "period_start", "period_end"]


def quota_overlap_problems(quotas: pd.DataFrame, source_columns: Mapping[str, str] | None = None) -> list[DataProblem]:
    """Quota rows of one account manager that cover a day twice, each naming the earlier row it overlaps.

    Parameters
    ----------
    quotas : pandas.DataFrame
        The quotas table (``account_manager_id``, ``period_start``, ``period_end`` as
        datetime64, both days included), optionally with provenance columns (file, row).
    source_columns : mapping, optional
        canonical column -> source column name, for the messages.

    Returns
    -------
    list of DataProblem
        One per later row (by ``period_start``) of an overlap: its file, row,
        ``period_start`` column and value, the row it overlaps and the fix. Rows
        that only touch (one ends, the next begins the day after) are fine; rows
        with a missing key or date are left to the table's other rules.

    Examples
    --------
    >>> q = pd.DataFrame({"account_manager_id": ["A", "A", "A"],
    ...                   "period_start": pd.to_datetime(["2025-01-01", "2025-04-01", "2025-05-01"]),
    ...                   "period_end": pd.to_datetime(["2025-03-31", "2025-06-30", "2025-05-31"])})
    >>> [p.reason.split(";")[0] for p in quota_overlap_problems(q)]
    ['quota row of A (2025-05-01 to 2025-05-31) overlaps another row (2025-04-01 to 2025-06-30)']
    """
    if not len(quotas) or any(c not in quotas.columns for c in _KEYS):
        return []
    if not all(pd.api.types.is_datetime64_dtype(quotas[c]) for c in _KEYS[1:]):
        return []
    f = quotas.loc[quotas[_KEYS].notna().all(axis=1)].sort_values(_KEYS, kind="stable")
    am = f["account_manager_id"].astype("str")
    reach = f["period_end"].groupby(am, sort=False).cummax().groupby(am, sort=False).shift(1)  # latest end before
    out: list[DataProblem] = []
    for pos in (f["period_start"] <= reach).to_numpy(dtype=bool).nonzero()[0]:
        idx, start, end = f.index[pos], f["period_start"].iloc[pos], f["period_end"].iloc[pos]
        before = f.iloc[:pos]
        other = before.index[((am.iloc[:pos] == am.iloc[pos]) & (before["period_end"] >= start)).to_numpy()][-1]
        file, row, src = _locate(quotas, idx, "period_start", "quotas", source_columns)
        o_file, o_row, _ = _locate(quotas, other, "period_start", "quotas", source_columns)
        raw = f"{SOURCE_VALUE_PREFIX}period_start"
        value = quotas.at[idx, raw] if raw in quotas.columns else f"{start:%Y-%m-%d}"
        where = "another row" if o_row is None else f"row {o_row}" + ("" if o_file == file else f" of {o_file}")
        span = f"{f.at[other, 'period_start']:%Y-%m-%d} to {f.at[other, 'period_end']:%Y-%m-%d}"
        reason = (
            f"quota row of {am.iloc[pos]} ({start:%Y-%m-%d} to {end:%Y-%m-%d}) overlaps {where} ({span}); "
            "a day's quota is counted once: remove the repeated row, or merge the overlapping rows into one row per period"
        )
        out.append(DataProblem(file, row, src, value, reason))
    return out
