"""Restating a closed period: deal fingerprints, what changed, and the adjustment line.

A closed period's paid statements are frozen in its close record (``reportkit close``,
docs/close.md). A later run of a **later** period recomputes the closed period on the
current data (late deals, cancellations, a corrected plan or quota) and pays the
difference as one ``prior_period_adjustment`` line per account manager, the engine's
own line type and words (:mod:`reportkit.domain.engine.clawbacks`, docs/commission.md
"Plan shapes: clawbacks and statements")::

    adjustment = recomputed payout of the closed period - what was paid for it

both sums of rounded lines, so the adjustment is exact to the cent. What was paid for
it is the close record's total (less its own adjustments of earlier periods) plus the
adjustments of it already paid in periods closed since. The line names the period and
the cause: ``prior-period adjustment: restates FY2025-Q3: 1 deal added (late), 1 deal
removed: ...``.

:func:`deal_fingerprint` hashes each deal's canonical row (vectorised,
:func:`pandas.util.hash_pandas_object`: 200,000 deals in a few tens of milliseconds),
so a close record and a batch's ``deals.fingerprint.parquet`` say which deals were
added, removed or changed, by deal id, without keeping the data.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pandas as pd

from ..core.hashing import column_hashes, row_hashes
from ..core.money import money_sum
from ..core.words import counted
from .commission import LINE_COLUMNS, CommissionStatement
from .engine.results import rule_words

__all__ = [
    "CHANGE_COLUMNS",
    "DealChanges",
    "Restatement",
    "deal_fingerprint",
    "fingerprint_records",
    "records_fingerprint",
    "deal_changes",
    "cause_words",
    "with_restatements",
]

#: The deal columns whose change a cause names (column -> its word); any other column's change is ``other``.
CHANGE_COLUMNS = {"amount_cents": "amount", "stage": "stage", "close_date": "close date", "account_manager_id": "owner"}

_HASH_COLUMNS = ("row", *(f"h_{c}" for c in CHANGE_COLUMNS))


def deal_fingerprint(deals: pd.DataFrame, rows: np.ndarray | None = None) -> pd.DataFrame:
    """One row per deal: its id, owner, close date and hashes of its canonical row.

    Each column is hashed once, vectorised (:func:`pandas.util.hash_pandas_object`, pandas'
    stable 64-bit hash), and the row hash combines the columns' hashes in column-name
    order (:func:`reportkit.core.hashing.row_hashes`): 200,000 deals in about a quarter of a second.

    Parameters
    ----------
    deals : DataFrame
        A data set's deals (``data.model`` contract: ``deal_id``, ``account_manager_id``,
        ``close_date``, ``amount_cents``, ``stage``, ...).

    Returns
    -------
    DataFrame
        ``deal_id`` (str), ``account_manager_id`` (str), ``close_date`` (datetime64),
        ``row`` (uint64: every column of the deal) and one uint64 ``h_<column>`` per
        :data:`CHANGE_COLUMNS` column (0 when the data set lacks it). Equal hashes mean an
        unchanged deal.
    rows : ndarray, optional
        ``row_hashes(deals)``'s row hashes when the caller has them (a batch: ``reports.context.deal_row_hashes``).
    """
    n = len(deals)
    if rows is None:  # only the CHANGE_COLUMNS' hashes are kept: one column's hash at a time (batch memory, docs/batch.md)
        row, hashes = row_hashes(deals, keep=CHANGE_COLUMNS)
    else:
        row, hashes = rows, {c: column_hashes(deals[c]) for c in CHANGE_COLUMNS if c in deals.columns}
    out = pd.DataFrame(
        {
            "deal_id": deals["deal_id"].astype(str),
            "account_manager_id": deals["account_manager_id"].astype(str),
            "close_date": pd.to_datetime(deals["close_date"]),
            "row": row,
        }
    ).reset_index(drop=True)
    for c in CHANGE_COLUMNS:
        out[f"h_{c}"] = hashes.get(c, np.zeros(n, np.uint64))
    return out


def fingerprint_records(fp: pd.DataFrame) -> dict[str, list[str]]:
    """A (small) fingerprint as JSON for a close record: deal id -> its hashes as 16 hex digits each."""
    hexes = [[f"{int(v):016x}" for v in fp[c].to_numpy()] for c in _HASH_COLUMNS]
    return {d: [h[i] for h in hexes] for i, d in enumerate(fp["deal_id"].tolist())}


def records_fingerprint(records: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """:func:`fingerprint_records`' JSON back as a fingerprint frame (``deal_id`` and the hash columns)."""
    ids = list(records)
    out = pd.DataFrame({"deal_id": pd.Series(ids, dtype="str")})
    for j, c in enumerate(_HASH_COLUMNS):
        out[c] = np.array([int(records[d][j], 16) for d in ids], dtype=np.uint64)
    return out


@dataclass(frozen=True)
class DealChanges:
    """Deals added, removed and changed between two fingerprints, by deal id (sorted).

    ``changed`` maps a deal id to the words of the columns that changed
    (:data:`CHANGE_COLUMNS`; ``other`` for any other column).
    """

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)


def deal_changes(old: pd.DataFrame, new: pd.DataFrame, ids: Iterable[str] | None = None) -> DealChanges:
    """Which deals were added, removed or changed between two fingerprints (:func:`deal_fingerprint`), vectorised.

    Parameters
    ----------
    old, new : DataFrame
        Fingerprints (``deal_id``, ``row`` and the ``h_<column>`` hashes); a close record's
        JSON through :func:`records_fingerprint`.
    ids : iterable of str, optional
        Only these deal ids (e.g. one account manager's statement lines); default all.
    """
    cols = list(_HASH_COLUMNS)
    if ids is not None:
        keep = set(ids)
        old, new = old[old["deal_id"].isin(keep)], new[new["deal_id"].isin(keep)]
    m = old[["deal_id", *cols]].merge(new[["deal_id", *cols]], on="deal_id", how="outer", suffixes=("_o", "_n"), indicator=True)
    side = m["_merge"].astype(str).to_numpy()
    added = sorted(m.loc[side == "right_only", "deal_id"].tolist())
    removed = sorted(m.loc[side == "left_only", "deal_id"].tolist())
    both = m[(side == "both") & (m["row_o"].to_numpy() != m["row_n"].to_numpy())].sort_values("deal_id")
    diff = {w: (both[f"h_{c}_o"].to_numpy() != both[f"h_{c}_n"].to_numpy()) for c, w in CHANGE_COLUMNS.items()}
    changed = {}
    for i, d in enumerate(both["deal_id"].tolist()):
        words = [w for w, flags in diff.items() if flags[i]]
        changed[d] = words or ["other"]
    return DealChanges(added, removed, changed)


def _deals(n: int) -> str:
    return counted(n, "deal")


def cause_words(changes: DealChanges, inputs_changed: Sequence[str] = ()) -> str:
    """The cause of a restatement in words, deals first, then the inputs that changed.

    >>> cause_words(DealChanges(["D-9"], ["D-1"], {"D-2": ["amount"]}), ["plan"])
    '1 deal added (late), 1 deal removed, 1 deal changed amount (D-9 added; D-1 removed; D-2 changed), plan changed'
    """
    parts = []
    if changes.added:
        parts.append(f"{_deals(len(changes.added))} added (late)")
    if changes.removed:
        parts.append(f"{_deals(len(changes.removed))} removed")
    by_words: dict[str, int] = {}
    for words in changes.changed.values():
        key = " and ".join(words)
        by_words[key] = by_words.get(key, 0) + 1
    parts += [f"{_deals(n)} changed {w}" for w, n in by_words.items()]
    which = "; ".join(
        f"{', '.join(ids)} {verb}"
        for ids, verb in ((changes.added, "added"), (changes.removed, "removed"), (list(changes.changed), "changed"))
        if ids
    )
    text = ", ".join(parts)
    if which:
        text += f" ({which})"
    extra = [f"{name} changed" for name in inputs_changed]
    return ", ".join([t for t in [text, *extra] if t]) or "data changed"


@dataclass(frozen=True)
class Restatement:
    """One account manager's restatement of one closed period.

    Attributes
    ----------
    period : str
        The closed period restated (``FY2025-Q3``).
    recomputed : Decimal
        Its payout recomputed on the current data (sum of rounded lines).
    paid : Decimal
        What was paid for it: the close record's total plus adjustments of it paid since.
    cause : str
        :func:`cause_words`.
    closed : str
        When and by whom it was closed, e.g. ``2026-01-05 by Ana``.
    """

    period: str
    recomputed: Decimal
    paid: Decimal
    cause: str
    closed: str

    @property
    def amount(self) -> Decimal:
        """The adjustment: recomputed minus paid (exact: both are cent sums)."""
        return self.recomputed - self.paid

    def words(self) -> str:
        """The line's description: the engine's words ``prior-period adjustment: restates <period>: ...``."""
        return (
            f"prior-period adjustment: restates {self.period}: {self.cause}; its payout recomputed on the current "
            f"data is {self.recomputed:,.2f} where {self.paid:,.2f} was paid (closed {self.closed})"
        )


def with_restatements(stmt: CommissionStatement, restatements: Sequence[Restatement]) -> CommissionStatement:
    """``stmt`` with one cash ``prior_period_adjustment`` line per non-zero restatement, after its lines.

    The total and the cash total grow by the adjustments (the total stays the sum of
    the rounded lines); ``commission`` and ``bonus`` are unchanged (an adjustment is
    neither, as the engine's clawback lines).
    """
    rows = [r for r in restatements if r.amount != 0]
    if not rows:
        return stmt
    n = len(stmt.lines)
    extra = pd.DataFrame(
        {
            "line": [n + 1 + i for i in range(len(rows))],
            "description": [r.words() for r in rows],
            "basis": [None] * len(rows),
            "rate": [None] * len(rows),
            "amount": [r.amount for r in rows],
            "rule": [rule_words("prior_period_adjustment")] * len(rows),
            "award": ["cash"] * len(rows),
            "deal_id": [None] * len(rows),
            "tier": [None] * len(rows),
        },
        columns=list(LINE_COLUMNS),
    )
    lines = pd.concat([stmt.lines.astype(object), extra.astype(object)], ignore_index=True)
    lines = lines[list(stmt.lines.columns)] if set(stmt.lines.columns) >= set(LINE_COLUMNS) else lines
    adj = money_sum(r.amount for r in rows)
    return dataclasses.replace(stmt, lines=lines, total=stmt.total + adj, cash_total=stmt.cash_total + adj)
