"""The trace behind each commission line in a report's HTML (issue #15 part 4): collapsible ``<details>``.

The commission section (:func:`reportkit.render.notebook.commission_table`) shows under
each statement line, or under each summary row of a long statement, a closed
``<details>`` element whose table is the engine's trace of that line or of the lines the
row sums (:attr:`reportkit.domain.commission.CommissionStatement.trace`, kept on the
report as ``commission_trace``): deal, account, close date, how it was credited and the
share, credited amount, tier, rate, what limited it, the plan version, amount. A trace
longer than the report's ``table_rows`` is cut by the one truncation rule of every report
table (``first N of M rows; all rows in the workbook``: the workbook's Trace sheet has them
all). Nothing is computed here: rows are selected by line number and formatted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from ..core.words import counted

#: The trace columns the HTML shows (the workbook's Trace sheet has them all).
TRACE_HTML_COLUMNS = (
    "line",
    "deal_id",
    "account_id",
    "close_date",
    "credit_source",
    "share",
    "credited",
    "tier",
    "rate",
    "limited_by",
    "plan_version",
    "amount",
)


def trace_details(
    trace: pd.DataFrame | None,
    groups: Sequence[Sequence[int]],
    make_table: Callable[..., Any],
    currency: str,
    max_rows: int | None,
) -> tuple:
    """One ``(summary text, Table)`` per row of the commission table, or ``()`` without a trace.

    Parameters
    ----------
    trace : DataFrame or None
        The report's ``commission_trace`` (:data:`reportkit.domain.engine.TRACE_COLUMNS`).
    groups : sequence of sequences of int
        For each row of the commission table, the statement line numbers it shows.
    make_table : callable
        :func:`reportkit.render.notebook.table` (the one table and truncation rule).
    currency : str
    max_rows : int or None
        The report's ``table_rows``.
    """
    if trace is None or not len(trace):
        return ()
    at: dict[int, list[int]] = {}
    for i, n in enumerate(trace["line"].tolist()):
        at.setdefault(int(n), []).append(i)
    out = []
    for lines in groups:
        pos = [i for n in lines for i in at.get(int(n), [])]
        rows = trace.iloc[pos]
        what = f"line {lines[0]}" if len(lines) == 1 else f"{len(lines):,} lines"
        t = make_table(
            rows,
            list(TRACE_HTML_COLUMNS),
            currency=currency,
            max_rows=max_rows,
        )
        out.append((f"Trace of {what}: {counted(len(rows), 'row')}", t))
    return tuple(out)
