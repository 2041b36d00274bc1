"""Which won deals credit which account manager.

Two crediting modes exist (``Dataset.crediting``, see ``docs/architecture.md``):

``owner``
    Each won deal credits its owner (``deals.account_manager_id``) with its full
    amount. A deal credits exactly one person, so a team's revenue is the sum of
    its members' revenue.
``territory``
    An *overlay*: a won deal credits **every** account manager assigned to its
    ``territory`` in the ``territories`` table, each with the full amount (the
    usual overlay-quota practice: specialists and the territory owner all carry
    the deal). A deal whose territory is blank, or covered by nobody, falls back
    to its owner when it has one. Because one deal credits several people, team
    revenue counts each deal once (:func:`team_revenue`).

Business-development handoff (rule applied *here*, once, so quota attainment,
commission, forecast and account status all agree): when the ``accounts`` table
gives an account a ``handover_date``, won deals of that account that closed
**before** the handover date belonged to business development and credit no
account manager. Deals on or after the handover date credit normally.

Money is integer cents (``int64``) throughout this module, with each credit's
exact source amount beside it in micros (``credit_micros``, see
:mod:`reportkit.money`): revenue aggregates are exact sums of micros rounded to
the cent once (:func:`revenue_cents`, :func:`revenue_cents_by`); lost deals never
credit anybody.
"""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd

from .model import Dataset, deal_micros
from .money import check_exact_range, exact_total_cents, micros_to_cents
from .periods import FiscalCalendar

__all__ = [
    "CREDIT_COLUMNS",
    "credited_deals",
    "credited_revenue",
    "credited_in",
    "team_revenue",
    "crediting_overlaps",
    "revenue_cents",
    "revenue_cents_by",
]

#: Columns of the frame returned by :func:`credited_deals`, in order.
CREDIT_COLUMNS = (
    "deal_id",
    "account_manager_id",
    "owner_id",
    "account_id",
    "close_date",
    "amount_cents",
    "credit_cents",
    "amount_micros",
    "credit_micros",
    "credit_type",
    "territory",
    "product",
    "stage",
)


def _won(deals: pd.DataFrame) -> pd.DataFrame:
    stage = deals["stage"].astype("string").str.strip().str.lower()
    return deals.loc[stage.eq("won").fillna(False).to_numpy()]


def _apply_handover(won: pd.DataFrame, accounts: pd.DataFrame | None) -> pd.DataFrame:
    if accounts is None or len(accounts) == 0 or "handover_date" not in accounts:
        return won
    handover = accounts.loc[accounts["handover_date"].notna(), ["account_id", "handover_date"]]
    if handover.empty:
        return won
    hd = won["account_id"].map(handover.drop_duplicates("account_id").set_index("account_id")["handover_date"])
    keep = hd.isna() | (won["close_date"] >= hd)
    return won.loc[keep.to_numpy()]


def credited_deals(dataset: Dataset) -> pd.DataFrame:
    """One row per (won deal, credited account manager).

    Parameters
    ----------
    dataset : Dataset
        Validated canonical tables; ``dataset.crediting`` picks the mode
        (``owner`` or ``territory``, see the module docstring).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CREDIT_COLUMNS`:

        * ``deal_id``, ``account_id``, ``territory``, ``product``, ``stage`` -- from ``deals``
        * ``account_manager_id`` (str) -- the credited account manager
        * ``owner_id`` (str, nullable) -- the deal's owner in ``deals``
        * ``close_date`` (datetime64)
        * ``amount_cents`` (int64) -- the deal's amount, negative for returns
        * ``credit_cents`` (int64) -- the amount credited to this account manager
          (the full amount in both current modes; a split mode would put the
          person's share here, which is why it is a separate column)
        * ``amount_micros``, ``credit_micros`` (int64) -- the same two amounts exact,
          in millionths of the currency unit: what revenue aggregates sum
          (:func:`revenue_cents`); ``credit_cents`` is the same credit rounded to
          the cent on its own (the basis of a commission line)
        * ``credit_type`` (str) -- ``"owner"`` or ``"territory"``

        Sorted by ``close_date``, ``deal_id``, ``account_manager_id``; fresh RangeIndex.
        Won deals closed before their account's ``handover_date`` are excluded.
        Deals with no one to credit (no owner, no covered territory) are dropped.

    Raises
    ------
    DataError
        The credited amounts total more than the exact int64 sums can hold
        (:func:`reportkit.money.check_exact_range`).
    """
    deals = dataset.deals
    won = _apply_handover(_won(deals), dataset.accounts)
    base = pd.DataFrame(
        {
            "deal_id": won["deal_id"].to_numpy(),
            "owner_id": won["account_manager_id"].to_numpy(),
            "account_id": won["account_id"].to_numpy(),
            "close_date": won["close_date"].to_numpy(),
            "amount_cents": won["amount_cents"].to_numpy(dtype="int64"),
            "amount_micros": deal_micros(won),
            "territory": won["territory"].to_numpy() if "territory" in won else None,
            "product": won["product"].to_numpy() if "product" in won else None,
            "stage": "won",
        }
    )
    parts: list[pd.DataFrame] = []
    fallback = base
    if dataset.crediting == "territory" and dataset.territories is not None and len(dataset.territories):
        terr = dataset.territories[["territory", "account_manager_id"]].drop_duplicates()
        overlay = base.merge(terr, on="territory", how="inner")
        overlay["credit_type"] = "territory"
        parts.append(overlay)
        covered = base["territory"].isin(terr["territory"]) & base["territory"].notna()
        fallback = base.loc[~covered.to_numpy()]
    owner = fallback.loc[fallback["owner_id"].notna().to_numpy()].copy()
    owner["account_manager_id"] = owner["owner_id"]
    owner["credit_type"] = "owner"
    parts.append(owner)
    out = pd.concat(parts, ignore_index=True) if parts else owner
    out["credit_cents"] = out["amount_cents"].astype("int64")
    out["amount_cents"] = out["amount_cents"].astype("int64")
    out["amount_micros"] = out["amount_micros"].astype("int64")
    out["credit_micros"] = out["amount_micros"]
    check_exact_range(out["credit_micros"].to_numpy(np.int64), "credited deals")
    out["close_date"] = pd.to_datetime(out["close_date"])
    for col in ("deal_id", "account_manager_id", "account_id", "credit_type", "stage"):
        out[col] = out[col].astype("str")
    out = out.sort_values(["close_date", "deal_id", "account_manager_id"], kind="stable")
    return out.loc[:, list(CREDIT_COLUMNS)].reset_index(drop=True)


def credited_in(
    credited: pd.DataFrame,
    start: datetime.date | None,
    end: datetime.date | None,
    account_manager_ids: str | list[str] | tuple[str, ...] | pd.Index | None = None,
) -> pd.DataFrame:
    """Rows of ``credited`` closed in ``start..end`` (inclusive; ``None`` = open), optionally for some AMs."""
    mask = pd.Series(True, index=credited.index)
    if start is not None:
        mask &= credited["close_date"] >= np.datetime64(start, "ns")
    if end is not None:
        mask &= credited["close_date"] <= np.datetime64(end, "ns")
    if account_manager_ids is not None:
        ids = [account_manager_ids] if isinstance(account_manager_ids, str) else list(account_manager_ids)
        mask &= credited["account_manager_id"].isin(ids)
    return credited.loc[mask.to_numpy()]


def credited_revenue(
    credited: pd.DataFrame,
    calendar: FiscalCalendar,
    kind: str = "quarter",
    until: datetime.date | None = None,
) -> pd.DataFrame:
    """Credited revenue per account manager per fiscal period (vectorised).

    Parameters
    ----------
    credited : DataFrame
        Output of :func:`credited_deals`.
    calendar : FiscalCalendar
    kind : {"quarter", "month", "year"}
    until : date, optional
        Ignore credits that closed after this date (the report's ``as_of``).

    Returns
    -------
    DataFrame
        ``account_manager_id`` (str), ``period`` (label, e.g. ``FY2020-Q1``),
        ``revenue_cents`` (int64: the exact credited amount rounded once, as
        :func:`revenue_cents`), ``deals`` (int64, number of credit rows).
    """
    c = credited
    if until is not None:
        c = c.loc[(c["close_date"] <= np.datetime64(until, "ns")).to_numpy()]
    if c.empty:
        return pd.DataFrame(
            {
                "account_manager_id": pd.Series([], dtype="str"),
                "period": pd.Series([], dtype="str"),
                "revenue_cents": pd.Series([], dtype="int64"),
                "deals": pd.Series([], dtype="int64"),
            }
        )
    labels = calendar.labels(c["close_date"], kind)  # type: ignore[arg-type]
    g = (
        pd.DataFrame({"account_manager_id": c["account_manager_id"].to_numpy(), "period": labels.to_numpy(), "c": c["credit_micros"].to_numpy()})
        .groupby(["account_manager_id", "period"], sort=True)["c"]
        .agg(["sum", "size"])
        .reset_index()
        .rename(columns={"sum": "revenue_cents", "size": "deals"})
    )
    g["revenue_cents"] = micros_to_cents(g["revenue_cents"].to_numpy(np.int64))
    g["deals"] = g["deals"].astype("int64")
    return g


def team_revenue(
    credited: pd.DataFrame,
    members: list[str] | tuple[str, ...] | pd.Index,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
) -> int:
    """A team's revenue in cents, counting each deal once.

    For each deal credited to at least one member, the team counts the sum of the
    members' credits on it, capped in magnitude at the deal's amount. With owner
    crediting that is simply the sum of the members' revenue; with a territory
    overlay where two members carry the same deal, the deal counts once (its
    amount), not twice. (A future split mode, 60/40 between two members, would
    also count the deal once: 60 % + 40 % = the amount.)

    Parameters
    ----------
    credited : DataFrame
        Output of :func:`credited_deals`.
    members : sequence of str
        Account manager ids of the team.
    start, end : date, optional
        Inclusive close-date bounds.

    Returns
    -------
    int
        Cents: the exact sum rounded once (:func:`revenue_cents`).
    """
    c = credited
    if start is not None or end is not None:
        c = credited_in(c, start, end)
    c = c.loc[c["account_manager_id"].isin(list(members)).to_numpy()]
    if c.empty:
        return 0
    g = c.groupby("deal_id", sort=False).agg(credit=("credit_micros", "sum"), amount=("amount_micros", "first"))
    capped = np.sign(g["amount"]) * np.minimum(g["credit"].abs(), g["amount"].abs())
    return exact_total_cents(capped.to_numpy(np.int64))


def crediting_overlaps(credited: pd.DataFrame, members: list[str] | tuple[str, ...] | pd.Index) -> bool:
    """True when some deal credits two or more of ``members`` (a territory overlay inside the team)."""
    c = credited.loc[credited["account_manager_id"].isin(list(members)).to_numpy(), ["deal_id", "account_manager_id"]]
    if c.empty:
        return False
    return bool(c.drop_duplicates().duplicated("deal_id").any())


def revenue_cents(credited: pd.DataFrame) -> int:
    """Revenue of some credit rows in cents: their exact amounts summed, rounded once.

    The one rule of every revenue aggregate (an account manager's period, YTD, a
    team, the company, forecast actuals): ``credit_micros`` summed exactly and
    rounded to the cent half away from zero (:func:`reportkit.money.micros_to_cents`),
    so a total ties to the source's own total. It may differ by a few cents from
    the sum of the rows' ``credit_cents`` (each rounded on its own) when the
    source has sub-cent amounts; for sources with at most 2 decimals both agree.

    Parameters
    ----------
    credited : DataFrame
        Rows of :func:`credited_deals` (any subset).

    Returns
    -------
    int
        Cents.
    """
    return exact_total_cents(credited["credit_micros"].to_numpy(np.int64))


def revenue_cents_by(credited: pd.DataFrame, by: str | list[str]) -> pd.Series:
    """:func:`revenue_cents` per group of ``by`` (column name(s) of ``credited``): int64 Series."""
    s = credited.groupby(by, sort=True)["credit_micros"].sum()
    return pd.Series(micros_to_cents(s.to_numpy(np.int64)), index=s.index, dtype="int64")
