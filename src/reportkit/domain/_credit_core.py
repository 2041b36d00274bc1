"""The crediting core: which won deals credit which account manager, on integer codes.

The one implementation of the crediting rules (``docs/commission.md``,
"Crediting"; ``docs/architecture.md``, "One home per domain rule"):
:func:`credit_deals` (frames in, credit lines out), :func:`credit_codes` (a data
set's own crediting, the arrays the reports and the engine read),
:func:`ownerless_uncredited` (the load-time check), :func:`check_crediting` (a
plan must credit as its data set does). :mod:`reportkit.domain.crediting`
re-exports the public names and builds the reports' frame view on them;
:mod:`reportkit.domain.engine` runs the commission ledger on the same arrays.
This module imports neither (domain order: crediting -> quota -> engine).

Money is integer cents (``int64``), with each credit's exact amount beside it
in micros (:mod:`reportkit.core.money`); split shares are exact integer parts
per million.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..config.plans import DEAL_TYPE_DEFAULT, PPM, Plan
from ..core.errors import DataError, DataProblem, PlanError
from ..core.money import MICROS_PER_CENT, micros_to_cents, mul_ppm, rdiv
from ..core.words import counted
from ..data.model import COLUMNS, DEAL_TYPE, Dataset, deal_micros
from ..data.splits import check_splits

SPLIT_COLUMNS = tuple(COLUMNS["splits"])  # deal_id, account_manager_id, share, kind

__all__ = [
    "credit_deals",
    "check_crediting",
    "credit_codes",
    "ownerless_uncredited",
    "DatasetCredits",
    "CREDIT_SOURCES",
    "NO_CREDIT_REASONS",
    "deal_type_factor_ppm",
]


# ---------------------------------------------------------------------------
# crediting
# ---------------------------------------------------------------------------
#
# Id columns are pandas-3 ``str`` (Arrow-backed). Everything below turns them into
# integer codes once, with Arrow hash kernels (``index_in``), and works on numpy
# arrays from there on; strings are only looked up again for the rows of a
# materialised frame (a statement, ``CommissionResult.credits``, excluded deals).
# The helpers without a leading underscore (NAT, arrow_str, lookup, take_str, Ids,
# Credits, apply_crediting, ...) are the domain's: the engine (domain/engine/) works on
# the same codes. ``__all__`` lists what domain/crediting.py re-exports to the reports.
NAT = np.iinfo(np.int64).min  # NaT as int64 nanoseconds
_CREDIT_KINDS = ["revenue", "overlay"]
_SOURCES = [
    "owner",
    "split",
    "overlay split",
    "territory",
    "cancellation in period",
    "owner (territory not covered)",
    "owner (no territory)",
]


def arrow_str(values):
    """Values as an Arrow string array (zero-copy for pandas-3 ``str`` columns)."""
    if isinstance(values, (pd.Series, pd.Index)):
        values = values.array
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        arr = values
    else:
        try:
            arr = pa.array(values, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            obj = np.asarray(values, dtype=object)
            arr = pa.array(
                [None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in obj], type=pa.large_string()
            )
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        if pa.types.is_null(arr.type) or pa.types.is_dictionary(arr.type):
            arr = arr.cast(pa.large_string())
        else:
            arr = pc.cast(arr, pa.large_string())
    return arr


def arrow_to_numpy(arr) -> np.ndarray:
    """An Arrow array (or chunked array) as a NumPy array, without a copy where Arrow allows."""
    return arr.to_numpy() if isinstance(arr, pa.ChunkedArray) else arr.to_numpy(zero_copy_only=False)


def lookup(values, table, dtype=np.int64) -> np.ndarray:
    """Position of each value in ``table`` (distinct strings); -1 when absent or null.

    ``dtype=np.int32`` keeps Arrow's int32 positions without a widening copy.
    """
    t = arrow_str(table)
    if isinstance(t, pa.ChunkedArray):
        t = t.combine_chunks()
    r = pc.index_in(arrow_str(values), value_set=t)
    return arrow_to_numpy(r.fill_null(-1)).astype(dtype, copy=False)


def _isnull(values) -> np.ndarray:
    return arrow_to_numpy(pc.is_null(arrow_str(values)))


def _isin(values, allowed) -> np.ndarray:
    """Exact membership for id columns (Arrow hash lookup)."""
    return lookup(values, pd.unique(np.asarray(list(allowed), dtype=object))) >= 0 if len(values) else np.zeros(0, bool)


def take_str(values, rows: np.ndarray) -> np.ndarray:
    """``values[rows]`` as an object array of str/None (rows < 0 give None)."""
    rows = np.asarray(rows, dtype=np.int64)
    arr = arrow_str(values)
    ok = rows >= 0
    out = np.full(len(rows), None, dtype=object)
    if ok.any():
        got = arr.take(pa.array(rows[ok])).to_pylist()
        out[ok] = got
    return out


class Ids:
    """Integer codes for account-manager ids: known ids first, unknown ones appended."""

    def __init__(self, known) -> None:
        self.known = pd.unique(np.asarray(list(known), dtype=object))
        self.extra: list[str] = []
        self._extra_set: set[str] = set()

    def codes(self, values, rows: np.ndarray | None = None) -> np.ndarray:
        """Codes of ``values`` (of ``values[rows]`` when ``rows`` is given); -1 for nulls.

        With ``rows`` covering most of the column the whole column is looked up and
        the rows picked from the codes (cheaper than taking the strings first).
        """
        if rows is not None:
            if 2 * len(rows) < len(values):
                return self.codes(arrow_str(values).take(pa.array(rows)))
            c = lookup(values, self.known, np.int32)[rows]  # int32 codes: written into int64 columns later
            miss = np.flatnonzero(c < 0)
            if len(miss):
                sub = arrow_str(values).take(pa.array(rows[miss]))
                c[miss] = self._extra(sub)
            return c
        c = lookup(values, self.known)
        miss = np.flatnonzero(c < 0)
        if len(miss):
            c[miss] = self._extra(arrow_str(values).take(pa.array(miss)))
        return c

    def _extra(self, sub) -> np.ndarray:
        """Codes for ids not in ``known`` (appended in order of first appearance); -1 for nulls."""
        for v in pc.unique(pc.drop_null(sub)).to_pylist():
            if v not in self._extra_set:
                self._extra_set.add(v)
                self.extra.append(v)
        return np.where(_isnull(sub), -1, len(self.known) + lookup(sub, self.extra))

    def strings(self) -> np.ndarray:
        """Every id by its code: ``strings()[code]`` is the id (known ids, then the appended ones)."""
        return np.concatenate([self.known, np.asarray(self.extra, dtype=object)])


#: Why a won deal credits nobody for want of an owner, per crediting method (the ``reason``
#: of such a deal in the ``excluded`` frames; :func:`ownerless_uncredited` finds them).
NO_CREDIT_REASONS = {
    "owner": "deal has no owner",
    "territory": "deal has no owner and its territory is blank or covered by no account manager",
}


def excluded_frame(
    deals: pd.DataFrame, rows: np.ndarray, am: np.ndarray, amount: np.ndarray, close_ns: np.ndarray, reason: str
) -> pd.DataFrame:
    """The deals at ``rows`` that credit nobody, with the ``reason`` (one of :data:`NO_CREDIT_REASONS`).

    Columns: deal_id, account_manager_id (the owner, or None), close_date, amount_cents
    (int64 cents), reason; the frame :attr:`CommissionResult.excluded` and
    :func:`credit_deals` show.
    """
    return pd.DataFrame(
        {
            "deal_id": take_str(deals["deal_id"], rows),
            "account_manager_id": am,
            "close_date": pd.to_datetime(np.asarray(close_ns, np.int64).view("datetime64[ns]")),
            "amount_cents": np.asarray(amount, np.int64),
            "reason": reason,
        }
    )


@dataclass
class Credits:
    """Credit lines as integer arrays (one row per AM credited by a deal)."""

    drow: np.ndarray  # row of the deal in the deals frame
    am: np.ndarray  # account-manager code (Ids), >= 0
    cdate: np.ndarray  # close date, int64 ns
    credit: np.ndarray  # credit_cents
    share: np.ndarray  # share_ppm (int32: at most 1e6)
    kind: np.ndarray  # index into _CREDIT_KINDS (int8)
    source: np.ndarray  # index into _SOURCES (int8)
    exact: np.ndarray  # the credit exact, in micros (money.py): what per-period sums add up

    def take(self, idx) -> Credits:
        """The credit lines at ``idx`` (positions or a boolean mask), every column alike."""
        return Credits(*(getattr(self, f)[idx] for f in self.__dataclass_fields__))

    @staticmethod
    def concat(parts: list[Credits]) -> Credits:
        """One set of arrays from parts whose fields are arrays, scalars, or ``(source, rows)``.

        A ``(source, rows)`` field is gathered straight into the output
        (``np.take(..., out=)``) and a scalar filled in, so a part never
        allocates its own full-size columns before they are copied.
        """
        dtypes = (np.int64,) * 4 + (np.int32, np.int8, np.int8, np.int64)
        n = sum(len(p.drow) for p in parts)
        cols = []
        for f, dt in zip(Credits.__dataclass_fields__, dtypes):
            vals = [getattr(p, f) for p in parts]
            if len(vals) == 1 and isinstance(vals[0], np.ndarray) and vals[0].dtype == np.result_type(dt, vals[0].dtype):
                cols.append(vals[0])
                continue
            out = np.empty(n, dtype=np.result_type(dt, *(v.dtype for v in vals if isinstance(v, np.ndarray))))
            a = 0
            for p, v in zip(parts, vals):
                b = a + len(p.drow)
                if isinstance(v, tuple):
                    np.take(v[0], v[1], out=out[a:b])
                else:
                    out[a:b] = v
                a = b
            cols.append(out)
        return Credits(*cols)

    def frame(self, deals: pd.DataFrame, ids: np.ndarray) -> pd.DataFrame:
        """The credit lines as the frame :func:`credit_deals` returns (ids and sources as text).

        Columns: deal_id, account_manager_id (``ids[code]``), account_id, close_date,
        product, deal_amount_cents, deal_amount_micros, credit_cents, credit_micros
        (int64), share_ppm (parts per million), kind (revenue / overlay), source.
        """
        amt = deals["amount_cents"].to_numpy(np.int64)
        return pd.DataFrame(
            {
                "deal_id": take_str(deals["deal_id"], self.drow),
                "account_manager_id": ids[self.am] if len(self.am) else np.array([], dtype=object),
                "account_id": take_str(deals["account_id"], self.drow),
                "close_date": pd.to_datetime(self.cdate.view("datetime64[ns]")),
                "product": take_str(deals["product"], self.drow),
                "deal_amount_cents": amt[self.drow],
                "deal_amount_micros": deal_micros(deals)[self.drow],
                "credit_cents": self.credit.astype(np.int64),
                "credit_micros": self.exact.astype(np.int64),
                "share_ppm": self.share.astype(np.int64),
                "kind": np.asarray(_CREDIT_KINDS, dtype=object)[self.kind],
                "source": np.asarray(_SOURCES, dtype=object)[self.source],
            }
        )


def apply_crediting(
    deals, ids: Ids, *, splits=None, accounts=None, territories=None, method="owner", handoff=True, deal_types=None
) -> tuple[Credits, list[pd.DataFrame]]:
    """The crediting rules of :func:`credit_deals` on integer codes (see there).

    In order: won deals; those closed before their account's handover date credit
    nobody (business development); with territory crediting each covered deal credits
    every account manager of its territory (an overlay), the others fall back to
    their owner; revenue splits replace the owner's credit, overlay splits add to
    it; the rest credits the owner (a deal with no owner credits nobody, excluded).
    Last, with ``deal_types`` (the run's plan with ``crediting.deal_type_factors``,
    :func:`reportkit.config.plans.deal_type_plan`), each line's exact credit is multiplied
    by its deal's factor (:func:`deal_type_factor_ppm`), rounded half away from zero
    to the micro; the line's cents (a commission line's basis) too when the factors
    apply to ``both``; with ``quota_credit`` they stay the commissionable amount.
    """
    d = _DealArrays.of(deals)
    excluded: list[pd.DataFrame] = []
    W = np.flatnonzero(d.won)
    if handoff and accounts is not None and "handover_date" in accounts:
        W = _drop_before_handover(deals, d, W, accounts, excluded)
    parts: list[Credits] = []
    fallback_source = None  # per deal row: _SOURCES code of an owner credit standing in for the territory
    W_owner = W
    if method == "territory":
        W_owner, fallback_source = _territory_credits(deals, d, W, ids, territories, parts)
    rev_deal = np.zeros(d.n, dtype=bool)  # deals whose revenue splits replace the owner's credit
    if splits is not None and len(splits):
        rev_deal = _split_credits(deals, d, W_owner, ids, splits, parts)
    if len(W_owner):
        _owner_credits(deals, d, W_owner[~rev_deal[W_owner]], ids, method, fallback_source, parts, excluded)
    cr = Credits.concat(parts)
    if deal_types is not None:  # the exact credit (micros) times the factor; the line's cents too with 'both'
        f = deal_type_factor_ppm(deals, cr.drow, deal_types)
        both = deal_types.crediting.deal_type_factors.applies_to == "both"
        cr = dataclasses.replace(cr, exact=mul_ppm(cr.exact, f), credit=mul_ppm(cr.credit, f) if both else cr.credit)
    return cr, excluded


def deal_type_factor_ppm(deals: pd.DataFrame, rows: np.ndarray, plan: Plan) -> np.ndarray:
    """The crediting factor (int64 parts per million) of the deals at ``rows`` by their ``deal_type``.

    Dealtype group, issue #13 item 15: the plan's ``crediting.deal_type_factors``
    (:class:`reportkit.config.plans.DealTypeFactors`), types compared in their normal
    form (:func:`reportkit.config.plans.deal_type_key`), ``default`` for a type not
    listed and for a deal without one. Raises PlanError (plan file, key, the first such
    deal and its type, the plan's types, the fix) when there is no ``default``, and when
    the plan lists types but the deals have no ``deal_type`` column at all (every deal
    would silently take the default).
    """
    dt = plan.crediting.deal_type_factors
    listed = sorted(k for k in dt.factors if k != DEAL_TYPE_DEFAULT)
    if DEAL_TYPE not in deals.columns and listed and len(rows):  # every deal would take the default, silently
        where = f"plan file {plan.source_file!r}" if plan.source_file else f"plan {plan.name!r}"
        raise PlanError(
            f"{where}: crediting.deal_type_factors lists {', '.join(listed)}, but the deals have no "
            f"{DEAL_TYPE!r} column, so every deal would be credited at the default factor",
            hint=f"map the deals' type column in the source mapping (deals.columns: {{{DEAL_TYPE}: <your column>}}), "
            "or remove crediting.deal_type_factors from the plan",
        )
    codes, uniq = pd.factorize(deals[DEAL_TYPE]) if DEAL_TYPE in deals.columns else (np.full(len(deals), -1), [])
    uniq = [*uniq, None]  # the last slot: no type (code -1)
    table = dt.lookup(uniq)
    c = np.asarray(codes, dtype=np.int64)[rows]
    bad = np.flatnonzero(np.isin(c % len(table), [i for i, v in enumerate(table) if v is None]))
    if len(bad):
        where = f"plan file {plan.source_file!r}" if plan.source_file else f"plan {plan.name!r}"
        msg, hint = dt.unknown_message(where, uniq[c[bad[0]]], deals["deal_id"].iloc[int(rows[bad[0]])], len(bad))
        raise PlanError(msg, hint=hint)
    return np.asarray([0 if v is None else v for v in table], dtype=np.int64)[c]


class _DealArrays(NamedTuple):
    """The deal columns the crediting rules read, as NumPy arrays (one row per deal row)."""

    n: int
    won: np.ndarray  # bool: stage is won
    close: np.ndarray  # int64 ns since the epoch
    amount: np.ndarray  # int64 cents
    micros: np.ndarray  # int64 exact amounts (micros)

    @classmethod
    def of(cls, deals) -> _DealArrays:
        return cls(
            len(deals),
            arrow_to_numpy(pc.fill_null(pc.equal(arrow_str(deals["stage"]), "won"), False)),
            deals["close_date"].to_numpy("datetime64[ns]").view(np.int64),
            deals["amount_cents"].to_numpy(np.int64),
            deal_micros(deals),
        )


def _drop_before_handover(deals, d: _DealArrays, W: np.ndarray, accounts, excluded: list[pd.DataFrame]) -> np.ndarray:
    """``W`` without the deals closed before their account's handover date (added to ``excluded``)."""
    pos = lookup(deals["account_id"], accounts["account_id"])[W]
    ho_all = pd.to_datetime(accounts["handover_date"]).to_numpy("datetime64[ns]").view(np.int64)
    ho = np.where(pos >= 0, ho_all[np.maximum(pos, 0)] if len(ho_all) else NAT, NAT)
    before = (ho != NAT) & (d.close[W] < ho)
    if not before.any():
        return W
    r = W[before]
    excluded.append(
        excluded_frame(
            deals,
            r,
            take_str(deals["account_manager_id"], r),
            d.amount[r],
            d.close[r],
            "closed before the account's handover date (business development)",
        )
    )
    return W[~before]


def _territory_credits(
    deals, d: _DealArrays, W: np.ndarray, ids: Ids, territories, parts: list[Credits]
) -> tuple[np.ndarray, np.ndarray]:
    """Credit each deal of ``W`` to every account manager covering its territory (appended to ``parts``).

    Returns the deals that credit their owner instead (blank territory, or one nobody
    covers) and, per deal row, the ``_SOURCES`` code saying why.
    """
    # rows with a blank account manager cover nothing (as if absent)
    terr = territories if territories is not None else pd.DataFrame({"territory": [], "account_manager_id": []})
    terr = terr.loc[~_isnull(terr["account_manager_id"])] if len(terr) else terr
    tcodes, tuniq = pd.factorize(terr["territory"].reset_index(drop=True))
    t_am = ids.codes(terr["account_manager_id"]) if len(terr) else np.zeros(0, np.int64)
    dterr = arrow_str(deals["territory"]).take(pa.array(W)) if len(W) else None
    dt = lookup(dterr, np.asarray(tuniq, dtype=object)) if len(W) and len(tuniq) else np.full(len(W), -1, np.int64)
    ordr = np.argsort(tcodes, kind="stable")
    cnt_t = np.bincount(tcodes[tcodes >= 0], minlength=len(tuniq))
    start_t = np.r_[0, np.cumsum(cnt_t)[:-1]] if len(tuniq) else np.zeros(0, np.int64)
    cnt = np.where(dt >= 0, cnt_t[np.maximum(dt, 0)] if len(cnt_t) else 0, 0)
    none = cnt == 0
    if len(W) and not none.all():
        rep = np.repeat(np.arange(len(W)), cnt)
        within = np.arange(len(rep)) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        trow = ordr[start_t[dt[rep]] + within]
        mrow = W[rep]
        parts.append(
            Credits(mrow, t_am[trow], (d.close, mrow), (d.amount, mrow), PPM, 1, 3, (d.micros, mrow))
        )  # filled by concat
    # a blank territory, or one nobody covers, credits the deal's owner (nothing is silently lost)
    fallback_source = np.zeros(d.n, dtype=np.int8)
    blank = _isnull(dterr) if len(W) else np.zeros(0, bool)
    fallback_source[W[none & blank]] = _SOURCES.index("owner (no territory)")
    fallback_source[W[none & ~blank]] = _SOURCES.index("owner (territory not covered)")
    return W[none], fallback_source


def _split_rows(deals, splits) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The split rows checked against the deals: (rows, is a revenue split, share in ppm, the deal's row, weight, den).

    The rules are :func:`reportkit.data.splits.check_splits` (their one home, also run
    when a source mapping loads a splits table); the exact share of a row is
    ``weight / den`` (ppm / 1e6, or 1 / n for an equal share, whose ``share`` in ppm
    is 1 / n rounded: shown only).

    Raises
    ------
    DataError
        Naming every bad row (frame row + 2, as in a CSV with a header, or the source
        file and row): an unknown kind, a share that is not a fraction or ``equal``, a
        deal that does not exist, ``equal`` on an overlay row or beside numeric revenue
        shares of the same deal, revenue shares of a deal that do not total 100 %.
    """
    s = splits[[c for c in splits.columns if c in SPLIT_COLUMNS or str(c).startswith("_source_")]].reset_index(drop=True)
    chk = check_splits(s, deals)
    if chk.problems:
        raise DataError(
            f"{counted(len(chk.problems), 'bad split row')}",
            chk.problems,
            hint="fix the listed splits rows (kind revenue | overlay; share a fraction 0..1 or 'equal'; "
            "revenue shares of a deal summing to 1; deal ids of the deals table)",
        )
    return s, chk.kind == 0, chk.share, chk.drow, chk.weight, chk.den


def _split_credits(deals, d: _DealArrays, W_owner: np.ndarray, ids: Ids, splits, parts: list[Credits]) -> np.ndarray:
    """Credit the splits of the deals in ``W_owner`` (appended to ``parts``); returns which deals have revenue splits.

    Overlay shares are each rounded half away from zero; revenue shares are
    allocated by largest remainder so a deal's parts sum to it (:func:`_allocate_revenue`),
    an ``equal`` split as exact ``1 / n`` shares.
    """
    s, isrev_s, share, sdrow, weight, den = _split_rows(deals, splits)
    rev_deal = np.zeros(d.n, dtype=bool)
    rev_deal[sdrow[isrev_s]] = True
    in_owner = np.zeros(d.n, dtype=bool)
    in_owner[W_owner] = True
    sel = np.flatnonzero(in_owner[sdrow])
    if not len(sel):
        return rev_deal
    drow = sdrow[sel]
    amt = d.amount[drow]
    w = share[sel]
    isrev = isrev_s[sel]
    credit = np.zeros(len(sel), np.int64)
    # overlay: each share rounded half away from zero
    credit[~isrev] = rdiv(amt[~isrev] * w[~isrev], PPM)
    ri = np.flatnonzero(isrev)
    if len(ri):
        sr = sel[ri]
        exact_w = (weight[sr], den[sr]) if (den[sr] != PPM).any() else (w[ri], PPM)
        credit[ri] = _allocate_revenue(drow[ri], amt[ri], *exact_w, d.n)
    am = ids.codes(s["account_manager_id"], sel)
    if (am < 0).any():
        raise DataError(
            "split rows need an account_manager_id",
            [DataProblem("splits", int(i) + 2, "account_manager_id", None, "required") for i in sel[am < 0]],
        )
    parts.append(
        Credits(
            drow,
            am,
            d.close[drow],
            credit,
            w.astype(np.int32),
            np.where(isrev, 0, 1).astype(np.int8),
            np.where(isrev, 1, 2).astype(np.int8),
            credit * MICROS_PER_CENT,
        )
    )  # a split's exact credit is its allocated cents
    return rev_deal


def _allocate_revenue(g: np.ndarray, amt: np.ndarray, w: np.ndarray, den, n_all: int) -> np.ndarray:
    """Revenue split credits (cents): largest remainder per deal, so the parts sum to the deal.

    :func:`reportkit.core.money.allocate`, vectorised: ``g`` the deal row of each
    share, ``amt`` its deal's amount, ``w / den`` its exact share (``den`` 1e6 for a
    share in ppm, ``n`` for an equal share among ``n``; one ``den`` per deal, at most
    1e6). Ties in the remainder go to the earlier split row, as in ``allocate``.
    """
    mag = np.abs(amt)
    exact = mag * w
    fl, rem = exact // den, exact % den
    m_ = len(g)
    if (n_all + 1) * PPM * m_ < 2**62:  # (deal, -remainder, position) as one unique int64 key
        o = np.sort((g * PPM + (PPM - 1 - rem)) * m_ + np.arange(m_)) % m_
    else:
        o = np.lexsort((np.arange(m_), -rem, g))
    gs = g[o]
    first = np.r_[True, gs[1:] != gs[:-1]]
    seg = np.flatnonzero(first)
    segid = np.cumsum(first) - 1
    left = mag[o][seg] - np.add.reduceat(fl[o], seg)
    rank = np.arange(len(o)) - seg[segid]
    pm = np.empty(m_, np.int64)
    pm[o] = fl[o] + (rank < left[segid])
    return np.where(amt < 0, -pm, pm)


def allocate_by_share(g: np.ndarray, amt: np.ndarray, w: np.ndarray, den, n_all: int) -> np.ndarray:
    """Whole cents of ``amt`` by exact shares ``w / den``: largest remainder per group ``g``, ties to the earlier entry.

    The one rule of a revenue split's allocation (:func:`reportkit.core.money.allocate`,
    vectorised), for a deal's credit and, under ``splits.mode: split_payout``, for a
    payout line shared among the deal's participants
    (:func:`reportkit.domain.engine.credits.share_payout`). ``g``: the group (0 ..
    ``n_all`` - 1) of each entry, ``amt`` its group's amount, ``w / den`` its share (the
    shares of a group sum to 1; ``den`` at most 1e6).
    """
    return _allocate_revenue(g, amt, w, den, n_all)


def _owner_credits(
    deals,
    d: _DealArrays,
    own: np.ndarray,
    ids: Ids,
    method: str,
    fallback_source,
    parts: list[Credits],
    excluded: list[pd.DataFrame],
) -> None:
    """Credit the deals ``own`` to their owner (appended to ``parts``); a deal with no owner credits nobody."""
    am = ids.codes(deals["account_manager_id"], own) if len(own) else np.zeros(0, np.int64)
    none = am < 0
    if none.any():
        r = own[none]
        excluded.append(
            excluded_frame(deals, r, np.full(len(r), None, dtype=object), d.amount[r], d.close[r], NO_CREDIT_REASONS[method])
        )
        own, am = own[~none], am[~none]
    src = 0 if fallback_source is None else (fallback_source, own)
    parts.append(Credits(own, am, (d.close, own), (d.amount, own), PPM, 0, src, (d.micros, own)))  # filled by concat


def check_crediting(plans: Sequence[Plan], ds: Dataset, *, source_mapping: str | Path | None = None) -> tuple[str, bool]:
    """The crediting a run uses: the data set's, which every plan must agree with.

    The rule (``docs/commission.md``, "Crediting"): the data set's source
    mapping (key ``crediting``, :attr:`Dataset.crediting`) decides who is
    credited, for the reports and the engine alike, so commission is paid on
    the revenue the report shows. A plan's ``crediting.method`` may be left out
    (it follows the data set) or repeat it; a plan that says otherwise is
    refused. The business-development handover rule (``accounts.handover_date``)
    always applies; a plan's ``crediting.handoff: false`` is refused when the
    data set has handover dates (it would pay on revenue the report does not
    credit) and changes nothing otherwise.

    Parameters
    ----------
    plans : sequence of Plan
    ds : Dataset
    source_mapping : str or Path, optional
        The source mapping file the data set came from (named in the error).

    Returns
    -------
    (method, handoff) : (str, bool)
        ``ds.crediting`` and ``True``.

    Raises
    ------
    PlanError
        A plan's ``crediting.method`` differs from the data set's ``crediting``,
        or ``crediting.handoff: false`` with handover dates in the data; the
        message names the plan file and key, the mapping file and key, and the fix.
    """
    mapping = f"source mapping {str(source_mapping)!r}" if source_mapping else "the data set's source mapping"
    for p in plans:
        where = f"plan file {p.source_file!r}" if p.source_file else f"plan {p.name!r}"
        if p.crediting.method is not None and p.crediting.method != ds.crediting:
            raise PlanError(
                f"{where} key 'crediting.method' is {p.crediting.method!r} but {mapping} key 'crediting' is "
                f"{ds.crediting!r}: the reports credit deals by the data set's rule, so this plan would pay "
                "commission on different revenue than the reports show",
                hint=f"remove 'crediting.method' from the plan (a plan follows the data set) or set it to "
                f"{ds.crediting!r}; or change 'crediting' in the source mapping if the data set should "
                f"be credited by {p.crediting.method}",
            )
        acc = ds.accounts
        if not p.crediting.handoff and acc is not None and "handover_date" in acc and acc["handover_date"].notna().any():
            raise PlanError(
                f"{where} key 'crediting.handoff' is false but {mapping} gives accounts a handover_date "
                f"(accounts table {ds.sources.get('accounts', '')!r}): the reports never credit revenue an account "
                "booked before its handover date, so this plan would pay on revenue the reports do not show",
                hint="remove 'crediting.handoff: false' from the plan, or drop the handover_date column from the "
                "accounts mapping if business-development revenue should count",
            )
    return ds.crediting, True


#: Why a credit line exists (``source`` of :func:`credit_deals`, ``credit_source`` of
#: :func:`reportkit.domain.crediting.credited_deals`).
CREDIT_SOURCES = tuple(_SOURCES)


@dataclass
class DatasetCredits:
    """The credit lines of a data set by its own crediting rule (:func:`credit_codes`).

    Integer arrays, one entry per line: ``drow`` (row of the deal in the deals
    frame given), ``am`` (index into ``ids``), ``cdate`` (close date, int64 ns),
    ``credit`` (cents, the line rounded on its own), ``exact`` (the same credit
    exact in micros, :mod:`reportkit.core.money`: what revenue totals sum),
    ``source`` (index into :data:`CREDIT_SOURCES`); ``excluded`` lists the won
    deals credited to nobody, with a reason.
    """

    drow: np.ndarray
    am: np.ndarray
    cdate: np.ndarray
    credit: np.ndarray
    exact: np.ndarray
    source: np.ndarray
    ids: np.ndarray
    excluded: pd.DataFrame


def credit_codes(ds: Dataset, deals: pd.DataFrame | None = None, *, deal_types: Plan | None = None) -> DatasetCredits:
    """Credit ``ds``'s won deals by ``ds.crediting`` with the handover rule: the reports' crediting.

    The same code path as :func:`compute` (:func:`credit_deals`' rules, with the data
    set's own ``splits`` table when it has one), so the reports and the engine credit
    identical lines. ``deals`` (default ``ds.deals`` with a fresh index) must have a
    RangeIndex; split rows of deals that are not in ``deals`` (a caller's subset) are
    left out. ``deal_types``: the run's plan with crediting factors by deal type; the
    lines' ``credit`` is then the credit toward quota (the exact credit rounded on its own).
    """
    deals = ds.deals.reset_index(drop=True) if deals is None else deals
    ids = Ids(ds.account_managers["account_manager_id"].astype(str).to_numpy(dtype=object))
    cr, excl = apply_crediting(
        deals,
        ids,
        splits=splits_of_deals(ds.splits, deals),
        accounts=ds.accounts,
        territories=ds.territories,
        method=ds.crediting,
        handoff=True,
        deal_types=deal_types,
    )
    credit = cr.credit if deal_types is None else micros_to_cents(cr.exact)
    return DatasetCredits(cr.drow, cr.am, cr.cdate, credit, cr.exact, cr.source, ids.strings(), concat_excluded(excl))


def splits_of_deals(splits: pd.DataFrame | None, deals: pd.DataFrame) -> pd.DataFrame | None:
    """The rows of a splits table whose deal is in ``deals`` (None when there are none).

    A run on a subset of a data set's deals (deals up to a report's cut-off date, a
    caller's filter) keeps the splits of those deals only; the table itself was
    checked whole when it was loaded (:func:`reportkit.data.splits.check_splits`).
    """
    if splits is None or not len(splits):
        return None
    codes, uniq = pd.factorize(splits["deal_id"])
    found = np.zeros(len(uniq) + 1, dtype=bool)  # the last slot: a missing id (code -1)
    if len(deals) and len(uniq):
        pos = lookup(deals["deal_id"], np.asarray(uniq, dtype=object))  # the deals against the few split ids
        found[pos[pos >= 0]] = True
    keep = found[codes]
    if keep.all():
        return splits
    return splits.loc[keep].reset_index(drop=True) if keep.any() else None


def _splits_by_position(splits: pd.DataFrame | None, ids: pd.Series) -> pd.DataFrame | None:
    """The split rows of the deals ``ids``, each deal id replaced by its position in ``ids`` (as text)."""
    if splits is None or not len(splits):
        return None
    pos = lookup(splits["deal_id"], pd.unique(ids.to_numpy(dtype=object)))
    keep = pos >= 0
    return splits.loc[keep].assign(deal_id=pos[keep].astype(str)).reset_index(drop=True) if keep.any() else None


def ownerless_uncredited(ds: Dataset) -> np.ndarray:
    """Rows of ``ds.deals`` that win revenue nobody is credited with, for want of an owner.

    The won deals :func:`credit_codes` excludes with a reason of
    :data:`NO_CREDIT_REASONS`: no ``account_manager_id`` and, with territory
    crediting, a ``territory`` that is blank or covered by no account manager.
    Deals closed before their account's ``handover_date`` are not among them
    (business development: credited to nobody by rule). The rule is the
    engine's own (the same code path on just the ownerless won deals), so the
    load-time check of :func:`reportkit.data.mapping.load_dataset` refuses exactly the
    deals the reports would leave out.

    Parameters
    ----------
    ds : Dataset
        Validated canonical tables (``deals`` with a RangeIndex).

    Returns
    -------
    numpy.ndarray
        Sorted int64 positions in ``ds.deals``; empty when every won deal has
        someone to credit.
    """
    deals = ds.deals
    won = arrow_to_numpy(pc.fill_null(pc.equal(arrow_str(deals["stage"]), "won"), False))
    cand = np.flatnonzero(won & _isnull(deals["account_manager_id"]))
    if not len(cand):
        return cand.astype(np.int64)
    # the candidates only, each deal id replaced by its position so excluded rows map back
    sub = deals.iloc[cand].reset_index(drop=True).assign(deal_id=np.arange(len(cand)).astype(str))
    _, excl = apply_crediting(
        sub,
        Ids(ds.account_managers["account_manager_id"].astype(str)),
        splits=_splits_by_position(ds.splits, deals["deal_id"].iloc[cand]),  # a revenue split credits an ownerless deal
        accounts=ds.accounts,
        territories=ds.territories,
        method=ds.crediting,
        handoff=True,
    )
    why = NO_CREDIT_REASONS[ds.crediting]
    pos = [f.loc[f["reason"] == why, "deal_id"].astype(int).to_numpy() for f in excl]
    return np.sort(cand[np.concatenate(pos)]) if pos else np.zeros(0, np.int64)


_EXCLUDED_COLUMNS = ["deal_id", "account_manager_id", "close_date", "amount_cents", "reason"]


def concat_excluded(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The excluded deals of every crediting step in one frame (the columns of :func:`excluded_frame`)."""
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=_EXCLUDED_COLUMNS)


def credit_deals(
    deals: pd.DataFrame,
    *,
    splits: pd.DataFrame | None = None,
    accounts: pd.DataFrame | None = None,
    territories: pd.DataFrame | None = None,
    method: str = "owner",
    handoff: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Credit won deals to account managers, before any rate applies.

    Rules
    -----
    * ``owner``: the deal's ``account_manager_id`` gets 100 % as ``revenue`` credit.
    * Splits (``deal_id, account_manager_id, share, kind``): the revenue splits of a
      deal replace the owner credit and must total exactly 1; their cents are
      allocated by largest remainder (:func:`reportkit.core.money.allocate`) so the
      parts sum to the deal. ``overlay`` splits are extra credit (need not total 1),
      each rounded half away from zero.
    * ``territory``: every AM assigned to the deal's territory gets the full deal
      as ``overlay`` credit (the same sale credits several people).
    * Handoff: with ``handoff`` and an ``accounts`` table, a deal closed before its
      account's ``handover_date`` is not credited (revenue from business
      development before the handover does not count).
    * Negative amounts (returns, cancellations booked as deals) give negative credit.

    Parameters
    ----------
    deals : DataFrame
        Canonical deals (model.COLUMNS["deals"]); only ``stage == "won"`` rows count.
    splits, accounts, territories : DataFrame, optional
    method : {"owner", "territory"}
    handoff : bool

    Returns
    -------
    credits : DataFrame
        ``deal_id, account_manager_id, account_id, close_date, product, deal_amount_cents,
        deal_amount_micros, credit_cents, credit_micros (int64), share_ppm (int64),
        kind ("revenue"|"overlay"), source``. ``*_micros`` are the exact amounts
        (money.py); a split's exact credit is its allocated cents.
    excluded : DataFrame
        Deals not credited with a ``reason`` column (handoff, no owner, no territory AM).

    Raises
    ------
    DataError
        Revenue splits of a deal not totalling 1; split shares not fractions;
        split rows for unknown deals.
    """
    deals = deals.reset_index(drop=True)
    ids = Ids([])
    cr, excluded = apply_crediting(
        deals, ids, splits=splits, accounts=accounts, territories=territories, method=method, handoff=handoff
    )
    return cr.frame(deals, ids.strings()), concat_excluded(excluded)
