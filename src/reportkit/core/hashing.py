"""Row hashes of a frame: pandas' stable 64-bit hash of each cell, combined per row (the one rule).

The deals' fingerprint (:func:`reportkit.domain.restatement.deal_fingerprint`: which deals
changed between two runs) and the cache key of the forecast hierarchies
(:func:`reportkit.domain.forecast_models.hierarchy_key`) hash a frame this way, so a batch,
which needs both, hashes its deals once (``reports.context.deal_row_hashes``).
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

__all__ = ["column_hashes", "row_hashes"]

_HASH_CHUNK = 100_000  # rows hashed at a time: a text column is boxed into Python strings to be hashed

_MIX = np.uint64(0x100000001B3)  # FNV-1a's 64-bit prime: combines the columns' hashes in column order


def column_hashes(values: pd.Series) -> np.ndarray:
    """pandas' stable 64-bit hash of each value (no index), in chunks of rows: the same hashes (each is its value's
    alone) without boxing a whole text column at once (about 200 MB at 800,000 deals: docs/batch.md, memory)."""
    out = np.empty(len(values), np.uint64)
    for i in range(0, len(values), _HASH_CHUNK):
        out[i : i + _HASH_CHUNK] = pd.util.hash_pandas_object(values.iloc[i : i + _HASH_CHUNK], index=False).to_numpy(np.uint64)
    return out


def row_hashes(frame: pd.DataFrame, keep: Collection[str] = ()) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Each row's hash (every column's :func:`column_hashes`, combined in column-name order) and the ``keep`` columns' own.

    Equal rows of two frames with the same columns have equal hashes, whatever the column
    order or the index; one column's hash at a time is held (``keep``'s are kept).

    Examples
    --------
    >>> a = pd.DataFrame({"x": [1, 2], "y": ["a", "b"]})
    >>> rows, kept = row_hashes(a, keep=["y"])
    >>> bool((rows == row_hashes(a[["y", "x"]])[0]).all()), list(kept)
    (True, ['y'])
    """
    n = len(frame)
    kept = {}
    row = np.zeros(n, np.uint64)
    with np.errstate(over="ignore"):
        for c in sorted(frame.columns):
            h = column_hashes(frame[c]) if n else np.zeros(0, np.uint64)
            row = (row ^ h) * _MIX
            if c in keep:
                kept[c] = h
    return row, kept
