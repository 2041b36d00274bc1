"""The engine's credits: the crediting core's lines for a run, in ledger order, and credited revenue.

Step 1 of :func:`reportkit.domain.engine.compute`. The crediting rules themselves live
in :mod:`reportkit.domain._credit_core` (re-exported by
:mod:`reportkit.domain.crediting`); this module asks it for the credit lines
(:func:`credit_lines`), keeps those of the run's pay periods in ledger order with
their (AM, period) segments (:func:`in_ledger_order`), and sums the credited revenue
per AM and period exactly (:func:`credited_micros`). :func:`team_totals` is the
team view of a run's credits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...core.errors import DataError
from ...core.money import MICROS_PER_CENT, check_exact_range, micros_to_cents
from ...data.model import Dataset
from .._credit_core import Credits, Ids, apply_crediting, concat_excluded, excluded_frame
from .inputs import _LIMIT, PayPeriods, PlanChoice
from .ledger import _ledger_order


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
                "credited account manager is not in account_managers",
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
    """

    cr: Credits
    p: np.ndarray
    flat: np.ndarray
    seg: np.ndarray
    seg_len: np.ndarray
    plan: np.ndarray | None
    am_narrow: np.ndarray
    p_narrow: np.ndarray

    @property
    def n(self) -> int:
        return len(self.cr.credit)


def in_ledger_order(cr: Credits, deals: pd.DataFrame, span: PayPeriods, choice: PlanChoice, n_codes: int) -> CreditLines:
    """Keep the credit lines closed in the run's pay periods and put them in ledger order.

    Ledger order: AM, period, close date, deal id (string order), then crediting
    order (:func:`reportkit.domain.engine.ledger._ledger_order`). ``n_codes``: the
    number of AM id codes (:class:`Ids`).
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
    return CreditLines(cr, c_p, c_flat, seg, seg_len, c_plan, am_narrow, p_narrow)


def credited_micros(lines: CreditLines, A: int, P: int) -> np.ndarray:
    """Credited revenue per (AM, period), shape (A, P): the exact sum of the lines' micros (not yet rounded)."""
    cred_ap = np.zeros(A * P, dtype=np.int64)
    if lines.n:
        cred_ap[lines.flat[lines.seg]] = np.add.reduceat(lines.cr.exact, lines.seg)
    return cred_ap.reshape(A, P)
