"""The engine's payout ledger: statement lines as integer columns, in ledger order.

A line is one row of a commission statement (:data:`_KINDS` says which ledger step
wrote it): AM and pay-period codes, the deal row it pays on, credit and amount in
exact integer **cents**, tier, rate in parts per million, and a rule code into the
ledger's rule texts (:class:`Ledger`). :mod:`reportkit.domain.engine.results`
turns them into frames and ``Decimal`` statements.

Also here: the **ledger order** of credit lines (AM, close date, deal id in string
order, then crediting order; :func:`_ledger_order`), and the exact integer sums the
steps use (:func:`_sum_into`, :func:`_segment_cumsum`).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any, ClassVar, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ...config.plans import PPM
from ...core.periods import DAY_NS
from .._credit_core import NAT, arrow_str, arrow_to_numpy

_KINDS = [
    "commission",
    "deal_limit",  # per-deal minimum / maximum commission (incentive group, issue #13 item 5)
    "true_up",
    "measure",  # a weighted measure's share of the target incentive (measures group, issue #13 item 13)
    "multiplier",  # a conditional multiplier of the period's commission (measures group, issue #13 item 14)
    "cap_carry_in",
    "cap",
    "spif",
    "bonus",
    "clawback",
    "prior_period_adjustment",  # a clawback that restates its origin period (clawback.method: restate)
    "adjustment",
    "balance_in",
    "draw",
    "draw_recovery",
    "balance_out",
]
"""Ledger steps, in the order a pay period's statement lists them (docs/commission.md)."""
_KIND = {k: i for i, k in enumerate(_KINDS)}
_AWARDS = ["", "cash", "non_cash", "deferred"]


def _money(c: int) -> Decimal:
    """Integer cents as a ``Decimal`` with two places (a line's amount on a statement)."""
    return Decimal(int(c)).scaleb(-2)


def _rate(p: int) -> Decimal | None:
    """A rate in parts per million as a ``Decimal`` fraction; None for -1 (no rate)."""
    return None if p < 0 else (Decimal(int(p)) / PPM)


_LINE_FIELDS = (
    "am",
    "p",
    "kind",
    "drow",
    "cdate",
    "credit",
    "has_credit",
    "tier",
    "rate",
    "rule",
    "amount",
    "award",
    "payout",
    "payable",
)


class _LineBuf:
    """Statement lines collected as numpy column chunks (concatenated lazily, per column, on first use).

    Scalar columns of a chunk (``kind`` of a whole batch, defaults) stay scalars
    until a column is concatenated, so collecting 2 M lines copies nothing; array
    columns keep their integer dtype (tier as int8, rule and rate as int32), a
    concatenated column has the narrowest integer type of its chunks, and the
    frames built from it (:meth:`CommissionResult.statement`, ``lines``) widen
    the rows they show to int64.
    """

    DEFAULTS: ClassVar[dict[str, Any]] = {
        "drow": -1,
        "cdate": NAT,
        "credit": 0,
        "has_credit": False,
        "tier": 0,
        "rate": -1,
        "award": 0,
        "payout": NAT,
        "payable": True,
    }

    def __init__(self) -> None:
        self.chunks: list[tuple[int, dict]] = []

    def add(self, **cols) -> None:
        n = len(cols["am"])
        if not n:
            return
        out = {}
        for f in _LINE_FIELDS:
            v = cols.get(f, self.DEFAULTS.get(f))
            # arrays keep their (possibly narrow) integer dtype; columns become int64 when concatenated
            out[f] = v if np.ndim(v) == 0 else np.asarray(v)
        self.chunks.append((n, out))

    def finish(self) -> _Lines:
        return _Lines(self.chunks)


class _Lines(Mapping):
    """Line columns by name; each column is concatenated from the chunks when first read."""

    def __init__(self, chunks: list[tuple[int, dict]]) -> None:
        self._chunks = chunks
        self._cols: dict[str, np.ndarray] = {}
        self.n = sum(n for n, _ in chunks)

    def __getitem__(self, f: str) -> np.ndarray:
        if f not in self._cols:
            if f not in _LINE_FIELDS:
                raise KeyError(f)
            if f in ("has_credit", "payable"):
                dt = np.dtype(bool)
            else:  # the narrowest integer type holding every chunk (frames widen to int64)
                vals = [c[f] for _, c in self._chunks]
                dt = np.result_type(np.int8, *(v.dtype if np.ndim(v) else np.min_scalar_type(v) for v in vals))
            parts = [np.full(n, c[f], dtype=dt) if np.ndim(c[f]) == 0 else c[f] for n, c in self._chunks]
            self._cols[f] = np.concatenate(parts, dtype=dt) if parts else np.zeros(0, dtype=dt)
            if len(self._cols) == len(_LINE_FIELDS):
                self._chunks = []
        return self._cols[f]

    def __iter__(self) -> Iterator[str]:
        return iter(_LINE_FIELDS)

    def __len__(self) -> int:
        return len(_LINE_FIELDS)


class PeriodLine(NamedTuple):
    """Lines of one per-period step without a deal (caps, bonuses, balances, draws) for some AMs.

    ``rows``: AM codes; ``period``: pay-period index; ``kind``: a name of
    :data:`_KINDS`; ``amounts``: cents per AM; ``rule``: the rule text; ``award``,
    ``payout_date`` and ``payable`` as on a statement line.
    """

    rows: np.ndarray
    period: int
    kind: str
    amounts: np.ndarray
    rule: str
    award: str = ""
    payout_date: datetime.date | None = None
    payable: bool = True


class Ledger:
    """The lines a run writes and the rule texts they cite (codes in order of first use).

    ``add`` takes line columns (numpy arrays or scalars, see :class:`_LineBuf`);
    ``rule`` / ``rule_codes`` turn rule texts into codes, each text once.
    ``rule_schedule`` says which rules are a rate schedule's tiers, and of which
    schedule: the step that writes a tier line registers its rules with
    ``schedule=`` (``""`` for the plan's ``rates``, else the rate component's name),
    so the words of a line (:func:`reportkit.domain.engine.results.line_words`) never
    depend on parsing its text; a line below a gate or on undefined attainment has
    a rule without a schedule.
    """

    def __init__(self) -> None:
        self._buf = _LineBuf()
        self.rules: list[str] = []
        self._pos: dict[str, int] = {}
        self.rule_schedule: dict[int, str] = {}

    def rule_codes(self, strings: list[str], schedule: str | None = None) -> list[int]:
        out = []
        for s in strings:
            if s not in self._pos:
                self._pos[s] = len(self.rules)
                self.rules.append(s)
            out.append(self._pos[s])
            if schedule is not None:
                self.rule_schedule[self._pos[s]] = schedule
        return out

    def rule(self, text: str) -> int:
        return self.rule_codes([text])[0]

    def add(self, **cols) -> None:
        self._buf.add(**cols)

    def add_period_lines(self, entries: list[PeriodLine]) -> None:
        """Lines of the per-period steps without a deal (caps, bonuses, draws, balances), in statement order."""
        award_code = {a: i for i, a in enumerate(_AWARDS)}
        for r, j, kd, amt, txt, award, pdate, payable in entries:
            self.add(
                am=r,
                p=j,
                kind=_KIND[kd],
                amount=np.asarray(amt, np.int64),
                rule=self.rule(txt),
                award=award_code[award],
                payout=NAT if pdate is None else np.datetime64(pdate, "ns").astype(np.int64),
                payable=payable,
            )

    def finish(self) -> _Lines:
        return self._buf.finish()


# ---------------------------------------------------------------------------
# ledger order: (AM, close date, deal id string, crediting order) on integers
# ---------------------------------------------------------------------------
_U64_ONES = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
_TIE_GROUP_PAIRWISE = 32  # runs of equal (AM, date) up to this size are ranked pairwise


def _utf8_keys(values, rows: np.ndarray) -> list[np.ndarray]:
    """Integer sort keys of the strings ``values[rows]`` (no Python strings).

    Returns ``[w0, w1, ..., length]``: the UTF-8 bytes as big-endian ``uint64``
    words, zero padded, then the byte length (``int64``). Comparing these tuples
    lexicographically orders the strings exactly as ``str`` comparison does
    (UTF-8 byte order is code point order; a proper prefix is smaller because it
    is padded with zero bytes and is shorter). Nulls sort last.

    Parameters
    ----------
    values : str column or Arrow string array, shape (n,)
    rows : int64 array, shape (m,), indices into ``values``

    Returns
    -------
    list of numpy arrays, each shape (m,)
    """
    arr = arrow_str(values)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.large_string())
    _, obuf, dbuf = arr.buffers()
    off = np.frombuffer(obuf, dtype=np.int64, count=len(arr) + 1, offset=8 * arr.offset)
    data = np.frombuffer(dbuf, dtype=np.uint8) if dbuf is not None else np.zeros(0, np.uint8)
    st = off[rows]
    ln = off[rows + 1] - st
    nw = max(1, int(-(-int(ln.max(initial=0)) // 8)))
    # only the bytes actually used, plus 8 zero bytes so every 8-byte window is in bounds
    hi = int((st + 8 * nw).max(initial=0))
    padded = np.zeros(hi + 8, dtype=np.uint8)
    used = min(len(data), hi)
    padded[:used] = data[:used]
    win = np.lib.stride_tricks.as_strided(padded, shape=(hi + 1, 8), strides=(1, 1))
    keys = []
    for w in range(nw):
        v = win[st + 8 * w].view(">u8").ravel().astype(np.uint64)
        r = np.minimum(ln - 8 * w, 8)  # bytes of this word that belong to the string (<= 0: none)
        shift = ((8 - np.maximum(r, 1)) * 8).astype(np.uint64)  # clear the bytes after the string
        v >>= shift
        v <<= shift
        if (r <= 0).any():
            v[r <= 0] = 0
        keys.append(v)
    keys.append(ln.astype(np.int64))
    if arr.null_count:
        null = arrow_to_numpy(pc.is_null(arr))[rows]
        for k in keys[:-1]:
            k[null] = _U64_ONES
        keys[-1][null] = np.iinfo(np.int64).max
    return keys


def _tuple_less(keys: list[np.ndarray], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``keys[a] < keys[b]`` as tuples (lexicographic; the last key must be unique)."""
    res = keys[-1][a] < keys[-1][b]
    for k in reversed(keys[:-1]):
        ka, kb = k[a], k[b]
        res = (ka < kb) | ((ka == kb) & res)
    return res


def _rank_in_groups(keys: list[np.ndarray], gstart: np.ndarray, gsize: np.ndarray, gid: np.ndarray) -> np.ndarray:
    """Rank of each row inside its group by the tuple ``keys`` (all keys unique within a group).

    Groups are contiguous runs (``gstart``, ``gsize``; ``gid`` is each row's group). Small groups are ranked by
    comparing each pair of rows once (vectorised over all groups; the typical run of
    equal (AM, day) holds 2-3 lines); groups larger than ``_TIE_GROUP_PAIRWISE`` by
    one ``lexsort``.
    """
    m = len(keys[0])
    rank = np.zeros(m, dtype=np.int64)
    size_of = np.take(gsize, gid)
    rem = size_of - (np.arange(m) - np.take(gstart, gid)) - 1  # rows after this one in its group
    big = gsize > _TIE_GROUP_PAIRWISE
    if big.any():
        brows = np.flatnonzero(size_of > _TIE_GROUP_PAIRWISE)
        o = np.lexsort(tuple(k[brows] for k in reversed(keys)) + (gid[brows],))
        bs = gsize[big]
        rank[brows[o]] = np.arange(len(brows)) - np.repeat(np.cumsum(bs) - bs, bs)
        rem[brows] = 0
    act = np.flatnonzero(rem >= 1)
    d = 1
    while len(act):
        j = act + d
        less = _tuple_less(keys, j, act)  # the later row sorts before this one
        rank[act] += less
        rank[j] += ~less
        d += 1
        act = act[rem[act] >= d]
    return rank


def _ledger_order(am: np.ndarray, cdate: np.ndarray, drow: np.ndarray, deal_ids) -> np.ndarray:
    """Permutation putting credit lines in ledger order.

    Order: AM code, close date, deal id (string order, see :func:`_utf8_keys`),
    then the crediting order (input position). One value sort of
    ``(AM x day, position)`` packed in an int64 (midnight dates; else a
    ``lexsort`` on (AM, close date)); only the runs that tie on (AM, date) are
    then ordered by deal id, on integer keys of the id bytes.

    Parameters
    ----------
    am, cdate, drow : int64 arrays, shape (n,)
        AM code, close date (ns) and deal row of each line.
    deal_ids : str column
        The deals' ``deal_id`` (indexed by ``drow``).

    Returns
    -------
    int64 array, shape (n,)
    """
    n = len(am)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    rel = cdate - cdate.min()
    day = rel // DAY_NS
    span = int(day.max()) + 1
    bits = max(1, int(n - 1).bit_length())
    if (rel == day * DAY_NS).all() and (int(am.max()) + 1) * span < 2 ** (62 - bits):
        # sort (AM x day, input position) packed in one int64: a plain value sort (SIMD),
        # stable by construction, that also yields the sorted keys
        packed = np.sort(((am * span + day) << bits) | np.arange(n, dtype=np.int64))
        order = packed & ((1 << bits) - 1)
        ks = packed >> bits
        eq = ks[1:] == ks[:-1]
    else:
        order = np.lexsort((cdate, am))
        a_s, c_s = am[order], cdate[order]
        eq = (a_s[1:] == a_s[:-1]) & (c_s[1:] == c_s[:-1])
    if not eq.any():
        return order
    tie = np.zeros(n, dtype=bool)
    tie[1:] = eq
    tie[:-1] |= eq
    tpos = np.flatnonzero(tie)
    sub = order[tpos]
    first = np.ones(len(tpos), dtype=bool)
    first[1:] = ~eq[tpos[1:] - 1]
    gstart = np.flatnonzero(first)
    gsize = np.diff(np.r_[gstart, len(tpos)])
    gid = np.cumsum(first) - 1
    keys = _utf8_keys(deal_ids, drow[sub])
    if int(keys[-1].max()) < 2**22 and n < 2**40:  # byte length and input position in one key
        keys[-1] = (keys[-1] << 40) | sub
    else:
        keys.append(sub)
    rank = _rank_in_groups(keys, gstart, gsize, gid)
    out = np.empty(len(tpos), dtype=np.int64)
    out[np.take(gstart, gid) + rank] = sub
    order[tpos] = out
    return order


def _sum_into(size: int, flat: np.ndarray, vals: np.ndarray) -> np.ndarray:
    """Exact int64 ``bincount``: sums of ``vals`` per key ``flat`` in ``0..size-1`` (sorted segments + reduceat)."""
    out = np.zeros(size, dtype=np.int64)
    if not len(flat):
        return out
    if len(flat) > 1 and (flat[1:] < flat[:-1]).any():
        o = np.argsort(flat, kind="stable")
        flat, vals = flat[o], vals[o]
    start = np.flatnonzero(np.r_[True, flat[1:] != flat[:-1]])
    out[flat[start]] = np.add.reduceat(np.asarray(vals, np.int64), start)
    return out


def _segment_cumsum(key: np.ndarray, vals: np.ndarray) -> np.ndarray:
    """Running sum of ``vals`` within runs of equal ``key`` (``key`` grouped contiguously)."""
    if not len(vals):
        return np.zeros(0, np.int64)
    cs = np.cumsum(vals)
    first = np.r_[True, key[1:] != key[:-1]]
    seg = np.flatnonzero(first)
    segid = np.cumsum(first) - 1
    return cs - (cs[seg] - vals[seg])[segid]
