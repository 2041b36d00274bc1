"""The engine's credits: the crediting core's lines for a run, in ledger order, and credited revenue.

Step 1 of :func:`reportkit.domain.engine.compute`. The crediting rules themselves live
in :mod:`reportkit.domain._credit_core` (re-exported by
:mod:`reportkit.domain.crediting`); this module asks it for the credit lines
(:func:`credit_lines`), keeps those of the run's pay periods in ledger order with
their (AM, period) segments (:func:`in_ledger_order`), and sums the credited revenue
per AM and period exactly (:func:`credited_micros`). :func:`team_totals` is the
team view of a run's credits. A plan's ``splits.mode`` (:func:`split_mode`) says how a
deal shared by revenue splits is paid: ``credit_first`` pays each share on its own, and
``split_payout`` measures the whole deal on its primary's schedule
(:func:`payout_split`) and shares each line among the participants (:func:`share_payout`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...config.plans import PPM
from ...core.errors import DataError, DataProblem, PlanError
from ...core.money import MICROS_PER_CENT, check_exact_range, micros_to_cents
from ...data.model import Dataset
from .._credit_core import Credits, Ids, allocate_by_share, apply_crediting, concat_excluded, excluded_frame
from .inputs import _LIMIT, PayPeriods, PlanChoice
from .ledger import _ledger_order

_NOT_AN_AM = "credited account manager is not in account_managers"  # an excluded credit's reason


def team_totals(credits: pd.DataFrame, account_managers: pd.DataFrame) -> pd.DataFrame:
    """Team revenue without double counting overlays.

    A team's revenue is the sum of its members' ``revenue`` credits plus, for
    each deal credited to the team only through ``overlay`` credit (territory
    crediting, overlay splits), the deal amount **once** however many members it
    credits.

    Returns
    -------
    DataFrame
        ``team, revenue_cents, overlay_only_cents, total_cents`` (int64), each the
        exact sum (``credit_micros``, ``deal_amount_micros``) rounded to the cent once.
    """
    c = credits.merge(account_managers[["account_manager_id", "team"]], on="account_manager_id", how="inner")
    if "credit_micros" not in c.columns:  # a credits frame built by hand: its cents are exact
        c["credit_micros"] = c["credit_cents"].astype(np.int64) * MICROS_PER_CENT
    if "deal_amount_micros" not in c.columns:
        c["deal_amount_micros"] = c["deal_amount_cents"].astype(np.int64) * MICROS_PER_CENT
    rev = c.loc[c["kind"] == "revenue"].groupby("team")["credit_micros"].sum()
    has_rev = c.loc[c["kind"] == "revenue", ["team", "deal_id"]].drop_duplicates()
    ov = c.loc[c["kind"] == "overlay", ["team", "deal_id", "deal_amount_micros"]].drop_duplicates(["team", "deal_id"])
    ov = ov.merge(has_rev.assign(_r=True), on=["team", "deal_id"], how="left")
    ov = ov.loc[ov["_r"].isna()].groupby("team")["deal_amount_micros"].sum()
    teams = sorted(set(account_managers["team"]))
    out = pd.DataFrame({"team": teams})
    rev_m = out["team"].map(rev).fillna(0).astype(np.int64).to_numpy()
    ov_m = out["team"].map(ov).fillna(0).astype(np.int64).to_numpy()
    out["revenue_cents"] = micros_to_cents(rev_m)
    out["overlay_only_cents"] = micros_to_cents(ov_m)
    out["total_cents"] = micros_to_cents(rev_m + ov_m)
    return out


def credit_lines(
    ds: Dataset, deals: pd.DataFrame, ids: Ids, *, splits: pd.DataFrame | None, method: str, handoff: bool, deal_types=None
) -> tuple[Credits, pd.DataFrame]:
    """Credit lines of every won deal (:func:`reportkit.domain._credit_core.apply_crediting`), integer codes.

    Parameters
    ----------
    deals : DataFrame
        ``ds.deals`` with a fresh RangeIndex (a line's ``drow`` indexes it).
    ids : Ids
        AM id codes; codes ``>= len(account_managers)`` are AMs only a split names.
    deal_types : Plan, optional
        The run's plan with crediting factors by deal type (dealtype group).

    Returns
    -------
    credits, excluded
        The lines (``credit`` in cents, ``exact`` in micros) of AMs in
        ``account_managers``; the excluded deals frame (the core's reasons, plus
        credits to an AM who is not in ``account_managers``).

    Raises
    ------
    DataError
        A credit beyond the engine's exact range (``_LIMIT`` cents, or credited
        micros summing beyond int64: :func:`reportkit.core.money.check_exact_range`).
    """
    A = len(ds.account_managers)
    cr, excl = apply_crediting(
        deals,
        ids,
        splits=splits,
        accounts=ds.accounts,
        territories=ds.territories,
        method=method,
        handoff=handoff,
        deal_types=deal_types,
    )
    unknown = cr.am >= A
    if unknown.any():
        u = np.flatnonzero(unknown)
        excl.append(
            excluded_frame(
                deals,
                cr.drow[u],
                ids.strings()[cr.am[u]],
                cr.credit[u],
                cr.cdate[u],
                _NOT_AN_AM,
            )
        )
        cr = cr.take(np.flatnonzero(~unknown))
    excluded = concat_excluded(excl)
    if len(cr.credit) and (np.abs(cr.credit) > _LIMIT).any():
        raise DataError(f"credit amounts beyond {_LIMIT} cents are outside the engine's exact range")
    check_exact_range(cr.exact, "credited deals")
    return cr, excluded


@dataclass(frozen=True)
class CreditLines:
    """A run's credit lines in ledger order (AM, period, close date, deal id, crediting order).

    Attributes
    ----------
    cr : Credits
        The lines: ``am`` code, ``drow`` deal row, ``cdate`` (ns), ``credit`` (cents),
        ``exact`` (micros).
    p : int64 array
        Pay-period index of each line.
    flat : int64 array
        ``am * P + p``, non-decreasing.
    seg, seg_len : int64 arrays
        Start and length of each run of equal ``flat`` (the per-(AM, period) sums).
    plan : int64 array or None
        Plan index of each line; None when every line is on plan 0.
    am_narrow, p_narrow : int arrays
        ``cr.am`` and ``p`` in narrow integer types, for the statement lines' columns
        (widened when a frame is built).
    pos : int64 array or None
        Each line's position in crediting order (``in_ledger_order(..., positions=True)``:
        a split's rows in the splits table's order); None when not asked for.
    """

    cr: Credits
    p: np.ndarray
    flat: np.ndarray
    seg: np.ndarray
    seg_len: np.ndarray
    plan: np.ndarray | None
    am_narrow: np.ndarray
    p_narrow: np.ndarray
    pos: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.cr.credit)


def in_ledger_order(
    cr: Credits, deals: pd.DataFrame, span: PayPeriods, choice: PlanChoice, n_codes: int, *, positions: bool = False
) -> CreditLines:
    """Keep the credit lines closed in the run's pay periods and put them in ledger order.

    Ledger order: AM, period, close date, deal id (string order), then crediting
    order (:func:`reportkit.domain.engine.ledger._ledger_order`). ``n_codes``: the
    number of AM id codes (:class:`Ids`). ``positions``: keep each line's crediting
    position (:attr:`CreditLines.pos`, what :func:`payout_split` orders a split by).
    """
    P = span.n
    c_ord = span.calendar.ordinals(cr.cdate, span.kind)
    inside = (c_ord >= span.o0) & (c_ord <= span.o1)
    if not inside.all():
        cr = cr.take(np.flatnonzero(inside))
        c_ord = c_ord[inside]
    n_c = len(cr.credit)
    order = _ledger_order(cr.am, cr.cdate, cr.drow, deals["deal_id"])
    cr = cr.take(order)
    c_p = c_ord[order] - span.o0
    c_flat = cr.am * P + c_p  # sorted
    c_plan = None if choice.one_plan else choice.pidx.reshape(-1)[c_flat]
    # runs of equal (AM, period): the segments of the per-period sums
    seg = np.flatnonzero(np.r_[True, c_flat[1:] != c_flat[:-1]]) if n_c else np.zeros(0, np.int64)
    seg_len = np.diff(np.r_[seg, n_c])
    # AM and period codes in narrow types for the per-line columns (widened when a frame is built)
    am_narrow = cr.am.astype(np.int32) if n_codes < 2**31 else cr.am
    p_narrow = c_p.astype(np.int16) if P < 2**15 else c_p
    return CreditLines(cr, c_p, c_flat, seg, seg_len, c_plan, am_narrow, p_narrow, order if positions else None)


def credited_micros(lines: CreditLines, A: int, P: int) -> np.ndarray:
    """Credited revenue per (AM, period), shape (A, P): the exact sum of the lines' micros (not yet rounded)."""
    cred_ap = np.zeros(A * P, dtype=np.int64)
    if lines.n:
        cred_ap[lines.flat[lines.seg]] = np.add.reduceat(lines.cr.exact, lines.seg)
    return cred_ap.reshape(A, P)


# ---------------------------------------------------------------------------
# split modes (splits group, issue #13 item 7): credit first, or split the whole deal's payout
# ---------------------------------------------------------------------------
_REVENUE_SPLIT, _CANCELLED = 1, 4  # the core's credit sources "split" and "cancellation in period"


def split_mode(choice: PlanChoice) -> str:
    """The run's ``splits.mode`` (every plan of a run must say the same).

    Raises
    ------
    PlanError
        Two plans of the run disagree, naming both files, the key and the fix.
    """
    modes = {p.splits.mode for p in choice.plans}
    if len(modes) > 1:
        where = ", ".join(f"{p.source_file or p.name!r}: {p.splits.mode}" for p in choice.plans)
        raise PlanError(
            f"key 'splits.mode' differs between the plans of one run ({where}): a shared deal is paid one way for "
            "all of its participants",
            hint="give every plan the same splits.mode (allowed: credit_first, split_payout)",
        )
    return modes.pop() if modes else "credit_first"


@dataclass(frozen=True)
class PayoutSplit:
    """The whole-deal basis of ``splits.mode: split_payout`` and how its payout is shared.

    A *group* is the revenue split lines of one deal from one event (the sale, or a
    cancellation booked in a period), in crediting order; its first line is the
    **primary**'s (the deal's first revenue row in the splits table).

    Attributes
    ----------
    lines : CreditLines
        The run's lines with each group's whole credit (cents and exact micros) on
        its primary's line and 0 on the others: what the rate schedules pay on.
    group : int64 array
        The group of each credit line, -1 for a line that is not a revenue split's.
    primary : bool array
        Whether a line is its group's primary.
    members : int64 array
        Every group's lines (rows of the run's lines), group after group, in
        crediting order; ``mstart``, ``mlen`` give each group's run.
    weight, den : int64 arrays
        Each member's exact share ``weight / den`` of the group's payout (its split
        share in ppm over 1e6; an equal split's 1 / n).
    att : object
        The attainment (:class:`~reportkit.domain.engine.quotas.Attainment`) of the
        whole-deal basis: the tiers' totals and gates (set by ``compute``).
    """

    lines: CreditLines
    group: np.ndarray
    primary: np.ndarray
    members: np.ndarray
    mstart: np.ndarray
    mlen: np.ndarray
    weight: np.ndarray
    den: np.ndarray
    att: object = None


def payout_split(
    lines: CreditLines, n_deals: int, excluded: pd.DataFrame | None = None, splits: pd.DataFrame | None = None
) -> PayoutSplit | None:
    """The whole-deal basis of a ``split_payout`` run (None when no line is a revenue split's).

    ``lines`` must carry crediting positions (``in_ledger_order(..., positions=True)``).
    The primary's line of each group carries the group's whole credit (the sum of its
    members' credits: the deal amount for a sale, the cancelled amount for a
    cancellation), the others 0; quota credit is untouched (``lines`` stays as it is).

    Raises
    ------
    DataError
        A revenue split names an account manager who is not in ``account_managers``
        (``excluded``): their share of the whole deal's payout would go to nobody or
        to the others.
    """
    if excluded is not None and splits is not None and len(excluded):
        gone = excluded.loc[
            (excluded["reason"] == _NOT_AN_AM) & excluded["deal_id"].isin(splits["deal_id"]).to_numpy(),
            ["deal_id", "account_manager_id"],
        ]
        if len(gone):
            raise DataError(
                "splits.mode split_payout shares a deal's commission among its split rows, but some name an account "
                "manager who is not in account_managers",
                [
                    DataProblem("splits", None, "account_manager_id", f"{d}: {a}", "not in account_managers")
                    for d, a in gone.itertuples(index=False)
                ],
                hint="add these account managers to account_managers, or correct the splits rows",
            )
    cr = lines.cr
    is_rev_split = (cr.source == _REVENUE_SPLIT) & (cr.kind == 0)
    if not is_rev_split.any():
        return None
    split_deal = np.zeros(n_deals, dtype=bool)
    split_deal[cr.drow[is_rev_split]] = True
    cancelled = cr.source == _CANCELLED
    cand = np.flatnonzero((cr.kind == 0) & (is_rev_split | cancelled) & split_deal[cr.drow])
    if not cancelled[cand].any() and n_deals * (lines.n + 1) < 2**62:  # sales only: one value sort of (deal, position)
        members = cand[np.argsort(cr.drow[cand] * (lines.n + 1) + lines.pos[cand])]
    else:
        members = cand[np.lexsort((lines.pos[cand], cr.cdate[cand], cr.source[cand], cr.drow[cand]))]
    key_d, key_s, key_c = cr.drow[members], cr.source[members], cr.cdate[members]
    first = np.r_[True, (key_d[1:] != key_d[:-1]) | (key_s[1:] != key_s[:-1]) | (key_c[1:] != key_c[:-1])]
    mstart = np.flatnonzero(first)
    mlen = np.diff(np.r_[mstart, len(members)])
    gid = np.cumsum(first) - 1
    group = np.full(lines.n, -1, dtype=np.int64)
    group[members] = gid
    primary = np.zeros(lines.n, dtype=bool)
    primary[members[mstart]] = True
    credit, exact = cr.credit.copy(), cr.exact.copy()
    credit[members], exact[members] = 0, 0
    credit[members[mstart]] = np.add.reduceat(cr.credit[members], mstart)
    exact[members[mstart]] = np.add.reduceat(cr.exact[members], mstart)
    basis = dataclasses.replace(lines, cr=dataclasses.replace(cr, credit=credit, exact=exact))
    # exact shares: the split's ppm, or 1 / n for a group whose n equal shares do not make 1e6 (share 'equal')
    share = cr.share[members].astype(np.int64)
    tot = np.add.reduceat(share, mstart)
    lo, hi = np.minimum.reduceat(share, mstart), np.maximum.reduceat(share, mstart)
    equal = (lo == hi) & (tot != PPM)
    weight = np.where(equal[gid], 1, share)
    den = np.where(equal[gid], mlen[gid], PPM)
    return PayoutSplit(basis, group, primary, members, mstart, mlen, weight, den)


def share_payout(payout: PayoutSplit, r_, k, cc, rate, amt, rc):
    """A batch of commission lines on the whole-deal basis, as each participant's share.

    A line (slice) of a group's primary becomes one line per member of the group:
    the same tier, credit (the whole deal's slice) and rate, and the member's share of
    its amount, allocated to the cent by largest remainder
    (:func:`reportkit.domain._credit_core.allocate_by_share`, ties to the earlier split
    row), so the shares add up to the line exactly. The other members' own lines
    (0 credit on the basis) are dropped; lines outside every group pass unchanged.

    Returns
    -------
    rows, tier, credit, rate_ppm, amount, rule code : arrays
    """
    grp = payout.group[r_]
    plain = np.flatnonzero(grp < 0)
    pi = np.flatnonzero((grp >= 0) & payout.primary[r_])
    g = grp[pi]
    cnt = payout.mlen[g]
    rep = np.repeat(np.arange(len(pi)), cnt)
    within = np.arange(len(rep)) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    mem = payout.mstart[g][rep] + within
    shared = allocate_by_share(rep, amt[pi][rep], payout.weight[mem], payout.den[mem], len(pi))

    def cat(x, y):
        return np.concatenate([x[plain], y])

    pr = pi[rep]
    return (
        cat(r_, payout.members[mem]),
        cat(k, k[pr]),
        cat(cc, cc[pr]),
        cat(rate, rate[pr]),
        cat(amt, shared),
        cat(rc, rc[pr]),
    )
