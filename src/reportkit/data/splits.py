"""The splits table's rules: which deals are shared, by whom and how much (splits group, issue #13 item 7).

The one home of what a ``splits`` table may hold (``docs/commission.md``, "Plan shapes:
splits"): :func:`check_splits` (kinds, shares as exact fractions or ``equal``, a deal's
revenue shares summing to 1, known deals), run by the source mapping's load
(:func:`reportkit.data.mapping.load_dataset`), by a table given on its own
(:func:`splits_problems`: ``reportkit statement --splits``, ``rk.commission_statement(...,
splits=...)``) and by the crediting core (:mod:`reportkit.domain._credit_core`), which
raises its problems. The table's columns are :data:`reportkit.data.model.COLUMNS`
``["splits"]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ..core.errors import DataProblem, did_you_mean
from .model import COLUMNS, SOURCE_FILE, Dataset, _locate, table_problems

__all__ = ["EQUAL_SHARE", "SPLIT_KINDS", "SplitRows", "check_splits", "splits_problems"]


def splits_problems(ds: Dataset, splits: pd.DataFrame, *, source_columns: Mapping[str, str] | None = None) -> list[DataProblem]:
    """Every problem of a splits table for the data set ``ds`` (lazy: nothing is raised).

    The checks :func:`validate_dataset` runs on a data set's ``splits``, for a table
    given on its own (``reportkit statement --splits FILE``, ``rk.commission_statement(...,
    splits=...)``): the schema (:func:`table_problems`), account managers in
    ``ds.account_managers`` (with a did-you-mean) and :func:`check_splits`. With
    provenance columns the problems name the source file and row, else ``splits`` and
    the frame row + 2.
    """
    problems = table_problems("splits", splits, source_columns=source_columns, currency=ds.currency)
    if any(c not in splits.columns for c in COLUMNS["splits"]):
        return problems
    known = set(ds.account_managers["account_manager_id"].dropna().astype(str))
    frame = splits.reset_index(drop=True)
    bad = (frame["account_manager_id"].notna() & ~frame["account_manager_id"].astype(str).isin(known)).to_numpy()
    for i in np.flatnonzero(bad):
        value = str(frame.at[i, "account_manager_id"])
        if SOURCE_FILE in frame.columns:
            file, row, src = _locate(frame, i, "account_manager_id", "splits", source_columns)
        else:
            file, row, src = "splits", int(i) + 2, "account_manager_id"
        why = f"account manager {value!r} is not in account_managers{did_you_mean(value, known)}; add them or correct the id"
        problems.append(DataProblem(file, row, src, value, why))
    problems.extend(check_splits(frame, ds.deals, source_columns=source_columns).problems)
    return problems


#: A revenue split row's ``share`` for an exact 1 / n of the deal among its n revenue rows.
EQUAL_SHARE = "equal"
#: A split row's ``kind``: ``revenue`` shares replace the owner's credit, ``overlay`` adds credit.
SPLIT_KINDS = ("revenue", "overlay")
_PPM = 1_000_000
_EQUAL = -1  # share code of an ``equal`` row


class SplitRows(NamedTuple):
    """A splits table checked against the deals (:func:`check_splits`), one entry per split row.

    ``kind``: index into :data:`SPLIT_KINDS` (-1 bad); ``share``: parts per million (an
    ``equal`` row: 1 / n rounded, shown only); ``drow``: row of the deal in ``deals``
    (-1 unknown); the exact share of a row is ``weight / den`` (ppm / 1e6, or 1 / n);
    ``problems``: every bad row (empty when the table is valid).
    """

    kind: np.ndarray
    share: np.ndarray
    drow: np.ndarray
    weight: np.ndarray
    den: np.ndarray
    problems: list[DataProblem]


def _arrow_text(values):
    """Text values as an Arrow string array (zero-copy for pandas ``str`` columns; other values as their text)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        arr = values
    else:
        v = values.array if isinstance(values, (pd.Series, pd.Index)) else list(values)
        try:
            arr = pa.array(v, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            obj = pd.Series(v, dtype=object)
            arr = pa.array([None if pd.isna(x) else str(x) for x in obj], type=pa.large_string())
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = arr.cast(pa.large_string()) if pa.types.is_null(arr.type) else pc.cast(arr, pa.large_string())
    return arr


def _index_in(values, table) -> np.ndarray:
    """Position of each text value in ``table`` (distinct texts); -1 when absent or missing (Arrow hash lookup)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t = _arrow_text(table)
    if isinstance(t, pa.ChunkedArray):
        t = t.combine_chunks()
    r = pc.index_in(_arrow_text(values), value_set=t).fill_null(-1)
    return np.asarray(r.to_numpy() if isinstance(r, pa.ChunkedArray) else r.to_numpy(zero_copy_only=False), dtype=np.int64)


def _dictionary(values) -> tuple[np.ndarray, object]:
    """(code of each value, -1 for missing; the distinct values as an Arrow array): Arrow dictionary encoding."""
    import pyarrow as pa
    import pyarrow.compute as pc

    enc = pc.dictionary_encode(_arrow_text(values))
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.unify_dictionaries().combine_chunks() if enc.num_chunks != 1 else enc.chunk(0)
    return np.asarray(enc.indices.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64), enc.dictionary


def _split_shares(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Split shares as written (text, Decimal or float) -> (exact ppm, ``equal`` -1; bad mask); each value parsed once."""
    codes, uniques = pd.factorize(pd.Series(values).reset_index(drop=True))
    table = np.zeros(len(uniques), dtype=np.int64)
    bad_u = np.zeros(len(uniques), dtype=bool)
    for u, v in enumerate(uniques):
        if isinstance(v, str) and v.strip().lower() == EQUAL_SHARE:
            table[u] = _EQUAL
            continue
        try:
            d = Decimal(str(v).strip())
            p = d * _PPM
            if not d.is_finite() or p != p.to_integral_value() or d < 0 or d > 1:
                raise ValueError
            table[u] = int(p)
        except Exception:
            bad_u[u] = True
    bad = codes < 0
    bad[codes >= 0] |= bad_u[codes[codes >= 0]]
    return np.where(codes >= 0, table[np.maximum(codes, 0)], 0), bad


def check_splits(splits: pd.DataFrame, deals: pd.DataFrame, *, source_columns: Mapping[str, str] | None = None) -> SplitRows:
    """Check a splits table against the deals: the one home of the split rules (lazy: nothing is raised).

    Rules (``docs/commission.md``, "Plan shapes: splits"): ``kind`` is ``revenue`` or
    ``overlay``; ``share`` is a fraction 0..1 with at most 6 decimals, or ``equal`` on a
    revenue row (the deal is shared exactly 1 / n among its n revenue rows; every
    revenue row of that deal must then say ``equal``); a deal's revenue shares total
    exactly 1 (overlay shares need not); ``deal_id`` names a deal of ``deals``. The
    crediting core (:mod:`reportkit.domain._credit_core`) raises a
    :class:`~reportkit.core.errors.DataError` with these problems; the source mapping
    (:func:`validate_dataset`) lists them with every other bad cell. Blank cells are
    the schema's ``required`` problems in a mapped table (with provenance), listed here
    for a frame built in code; account managers missing
    from the roster are checked with the other tables' (:func:`validate_dataset`).

    Parameters
    ----------
    splits : DataFrame
        ``deal_id, account_manager_id, share, kind``; with provenance columns
        (``_source_file``, ``_source_row``) the problems name the source file and row,
        else ``splits`` and the frame row + 2 (as in a CSV with a header).
    deals : DataFrame
        Canonical deals (``deal_id``).
    source_columns : mapping, optional
        canonical column -> source column name, for the messages.

    Returns
    -------
    SplitRows
        Codes, exact shares and the deal row of each split row, and the problems.

    Examples
    --------
    >>> sp = pd.DataFrame({"deal_id": ["d1", "d1"], "account_manager_id": ["a", "b"],
    ...                    "share": ["0.6", "0.3"], "kind": ["revenue", "revenue"]})
    >>> print(check_splits(sp, pd.DataFrame({"deal_id": ["d1"]})).problems[0])
    splits, row 2, column 'share': value 'd1: 0.9': revenue shares of this deal must sum to 1 (for an equal split among n people, write share 'equal' on each of the deal's revenue rows)
    """
    s = splits.reset_index(drop=True)
    prov = SOURCE_FILE in s.columns
    problems: list[DataProblem] = []

    def add(i: int, column: str, value: Any, why: str) -> None:
        if prov:
            file, row, src = _locate(s, i, column, "splits", source_columns)
            problems.append(DataProblem(file, row, src, value, why))
        else:
            problems.append(DataProblem("splits", i + 2, column, value, why))

    present = {c: s[c].notna().to_numpy() for c in ("deal_id", "account_manager_id", "share", "kind")}
    if not prov:  # a frame read by the mapping: its blank cells are the schema's "required" problems
        for c, has in present.items():
            for i in np.flatnonzero(~has):
                add(int(i), c, None, f"{c} is required in splits (blank or missing)")
    kind = _index_in(s["kind"], SPLIT_KINDS)
    for i in np.flatnonzero((kind < 0) & present["kind"]):
        add(int(i), "kind", s.at[i, "kind"], f"allowed: revenue, overlay{did_you_mean(str(s.at[i, 'kind']), SPLIT_KINDS)}")
    share, bad_share = _split_shares(s["share"])
    why = f"share must be a fraction 0..1 with at most 6 decimals, or {EQUAL_SHARE!r} for an equal revenue split"
    for i in np.flatnonzero(bad_share & present["share"]):
        add(int(i), "share", s.at[i, "share"], why)
    # split deal ids -> codes, the distinct ones looked up in the deals once
    scode, suniq = _dictionary(s["deal_id"])
    pos = _index_in(deals["deal_id"], suniq) if len(suniq) else np.zeros(0, np.int64)

    deal_of_u = np.full(len(suniq) + 1, -1, dtype=np.int64)
    hit = np.flatnonzero(pos >= 0)
    deal_of_u[pos[hit]] = hit
    drow = deal_of_u[scode]  # code -1 (missing id) -> last slot -> -1
    for i in np.flatnonzero((drow < 0) & present["deal_id"]):
        add(int(i), "deal_id", s.at[i, "deal_id"], "no such deal in the deals table; fix the deal id or drop the split row")
    ok = (kind >= 0) & ~bad_share & (drow >= 0) & present["account_manager_id"] & present["share"] & present["kind"]
    isrev = ok & (kind == 0)
    weight, den = _equal_shares(s, ok, isrev, share, scode, len(suniq), add)
    # revenue share total per distinct deal in ppm; float bincount is exact here because
    # every partial sum is an integer below 2**53 (shares <= 1e6 ppm, far fewer than 9e9 rows)
    tot = np.rint(np.bincount(scode[isrev], weights=share[isrev], minlength=len(suniq))).astype(np.int64)
    has_rev = np.zeros(len(suniq), dtype=bool)
    has_rev[scode[isrev]] = True
    equal_deal = np.zeros(len(suniq), dtype=bool)
    equal_deal[scode[ok & (den != _PPM)]] = True
    bad_total = np.flatnonzero(has_rev & ~equal_deal & (tot != _PPM))
    first = np.full(len(suniq), -1, dtype=np.int64)  # the first revenue row of each deal (named in its problem)
    if len(bad_total):
        rev_rows = np.flatnonzero(isrev)
        u, at = np.unique(scode[rev_rows], return_index=True)
        first[u] = rev_rows[at]
    for k in bad_total:
        add(
            int(first[k]),
            "share",
            f"{suniq[int(k)].as_py()}: {Decimal(int(tot[k])) / _PPM}",
            "revenue shares of this deal must sum to 1 (for an equal split among n people, write share "
            f"{EQUAL_SHARE!r} on each of the deal's revenue rows)",
        )
    return SplitRows(kind, share, drow, weight, den, problems)


def _equal_shares(s: pd.DataFrame, ok, isrev, share, scode, n_deals: int, add) -> tuple[np.ndarray, np.ndarray]:
    """Exact shares ``weight / den`` of the split rows; ``share`` of the ``equal`` rows set to 1 / n in ppm (in place).

    A deal's ``n`` ``equal`` revenue rows each get ``1 / n`` (``weight`` 1, ``den`` n);
    other rows their ppm over 1e6. ``equal`` on an overlay row, or beside a numeric
    revenue share of the same deal, is a problem (``add``).
    """
    eq = ok & (share == _EQUAL)
    weight, den = np.where(share == _EQUAL, 0, share), np.full(len(share), _PPM, dtype=np.int64)
    if not eq.any():
        return weight, den
    n_eq = np.bincount(scode[eq & isrev], minlength=n_deals)
    ov = "'equal' shares a deal among its revenue rows; an overlay share is a fraction 0..1 of the deal"
    mix = f"write {EQUAL_SHARE!r} on all of its revenue rows (some say it) or fractions summing to 1 on all"
    bad_ov = eq & ~isrev
    mixed = isrev & ~eq & (n_eq[np.maximum(scode, 0)] > 0)
    for i in np.flatnonzero(bad_ov | mixed):
        add(int(i), "share", s.at[i, "share"], ov if bad_ov[i] else mix)
    eq_rev = eq & isrev
    n = n_eq[scode[eq_rev]]
    weight[eq_rev], den[eq_rev] = 1, n
    share[eq_rev] = (2 * _PPM + n) // (2 * n)  # 1 / n in ppm, rounded half away from zero (shown only)
    return weight, den
