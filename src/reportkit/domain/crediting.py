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
    the deal). A deal whose territory is blank, or covered by nobody, credits
    its owner when it has one (``credit_source`` says so: ``owner (no
    territory)`` / ``owner (territory not covered)``); a deal with neither is
    not credited (a loaded data set never has such a won deal:
    :func:`reportkit.data.mapping.load_dataset` refuses it). Because one deal credits several people, team revenue counts
    each deal once (:func:`team_revenue`).

These rules live once, in the crediting core (:mod:`reportkit.domain._credit_core`,
on integer codes; its public names are re-exported here: :func:`credit_deals`,
:func:`credit_codes`, :func:`check_crediting`, :func:`ownerless_uncredited`,
:data:`CREDIT_SOURCES`, :data:`NO_CREDIT_REASONS`); :func:`credited_deals` is a
frame view of those credits, and the plan engine pays on the same ones, so the
revenue a report shows is the revenue commission is paid on.

Business-development handoff (rule applied *here*, once, so quota attainment,
commission, forecast and account status all agree): when the ``accounts`` table
gives an account a ``handover_date``, won deals of that account that closed
**before** the handover date belonged to business development and credit no
account manager. Deals on or after the handover date credit normally.

Money is integer cents (``int64``) throughout this module, with each credit's
exact source amount beside it in micros (``credit_micros``, see
:mod:`reportkit.core.money`): revenue aggregates are exact sums of micros rounded to
the cent once (:func:`revenue_cents`, :func:`revenue_cents_by`); lost deals never
credit anybody.
"""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..config.plans import Plan
from ..core.money import check_exact_range, exact_total_cents, micros_to_cents
from ..core.periods import FiscalCalendar
from ..data.model import Dataset, deal_micros
from ..data.sources import text_order
from ._credit_core import (
    CREDIT_SOURCES,
    NO_CREDIT_REASONS,
    DatasetCredits,
    arrow_str,
    arrow_to_numpy,
    check_crediting,
    credit_codes,
    credit_deals,
    deal_type_factor_ppm,
    lookup,
    ownerless_uncredited,
)

__all__ = [
    "CREDIT_COLUMNS",
    "credited_deals",
    "credited_revenue",
    "credited_in",
    "team_revenue",
    "group_deal_micros",
    "GROUP_COLUMNS",
    "group_credits",
    "deal_codes",
    "crediting_overlaps",
    "revenue_cents",
    "revenue_cents_by",
    "revenue_micros_by",
    # the crediting core's public names (one home: _credit_core)
    "credit_deals",
    "credit_codes",
    "check_crediting",
    "ownerless_uncredited",
    "DatasetCredits",
    "CREDIT_SOURCES",
    "NO_CREDIT_REASONS",
    "deal_type_factor_ppm",
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
    "credit_source",
    "territory",
    "product",
    "stage",
)


def credited_deals(dataset: Dataset, *, deal_types: Plan | None = None) -> pd.DataFrame:
    """One row per (won deal, credited account manager).

    A view over the crediting core (:func:`credit_codes`: the :func:`credit_deals`
    rules, run on ``dataset.crediting``): the reports, the API, the explorer and
    the engine credit the same deals to the same people.

    Parameters
    ----------
    dataset : Dataset
        Validated canonical tables; ``dataset.crediting`` picks the mode
        (``owner`` or ``territory``, see the module docstring).
    deal_types : Plan, optional
        The run's plan with crediting factors by deal type
        (:func:`reportkit.config.plans.deal_type_plan`; dealtype group, issue #13
        item 15): each credit is then the deal's credit times its factor, the credit
        toward quota the statement measures attainment on (``docs/commission.md``,
        "Plan shapes: crediting factors by deal type").

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
        * ``credit_source`` (str) -- why: ``"owner"``, ``"territory"``, or, under
          territory crediting, ``"owner (territory not covered)"`` /
          ``"owner (no territory)"`` when the owner stands in for the territory

        Sorted by ``close_date``, ``deal_id``, ``account_manager_id``; fresh RangeIndex.
        Won deals closed before their account's ``handover_date`` are excluded.
        Deals with no one to credit (no owner, no covered territory) are dropped.

    Raises
    ------
    DataError
        The credited amounts total more than the exact int64 sums can hold
        (:func:`reportkit.core.money.check_exact_range`).
    """
    deals = dataset.deals.reset_index(drop=True)
    cr = credit_codes(dataset, deals, deal_types=deal_types)
    order = _credit_order(deals["deal_id"], cr)  # (close date, deal id, account manager id), then gather every column once
    drow, am, src = cr.drow[order], cr.am[order], cr.source[order]
    territory = CREDIT_SOURCES.index("territory")

    def take(col: str, boxed: bool = False):  # text stays Arrow strings; an all-blank column is boxed (object), as ever
        if col not in deals:
            return None
        v = deals[col].take(drow).reset_index(drop=True) if col == "deal_id" else _take_text(deals[col], drow)
        # Boxing a text column made a Python string per credit that the frame turned straight back into
        # Arrow (benchmarks/bench_batch.py: memory); only a column with no text at all stays object (None).
        if not boxed or v.notna().any():
            return v
        cells = v.to_numpy(dtype=object)  # text's missing cells given as an object Series: a bare array made the frame
        return pd.Series(cells, dtype=object) if isinstance(v.dtype, pd.StringDtype) else cells  # scan each for a type

    out = pd.DataFrame(
        {
            "deal_id": take("deal_id"),
            "account_manager_id": _strings(am, cr.ids),
            "owner_id": take("account_manager_id", boxed=True),
            "account_id": take("account_id"),
            "close_date": pd.to_datetime(cr.cdate[order].view("datetime64[ns]")),
            "amount_cents": deals["amount_cents"].to_numpy(np.int64)[drow],
            "credit_cents": cr.credit[order].astype(np.int64, copy=False),
            "amount_micros": deal_micros(deals)[drow],
            "credit_micros": cr.exact[order].astype(np.int64, copy=False),
            "credit_type": _strings(np.where(src == territory, 1, 0), ["owner", "territory"]),
            "credit_source": _strings(src, CREDIT_SOURCES),
            "territory": take("territory", boxed=True),
            "product": take("product", boxed=True),
            "stage": _strings(np.zeros(len(drow), np.int8), ["won"]),
        }
    )
    check_exact_range(out["credit_micros"].to_numpy(np.int64), "credited deals")
    for col in ("deal_id", "account_manager_id", "account_id"):
        if out[col].dtype != "str":
            out[col] = out[col].astype("str")
    return out.loc[:, list(CREDIT_COLUMNS)]


_DAY_NS = 86_400_000_000_000


def _credit_order(deal_ids: pd.Series, cr: DatasetCredits) -> np.ndarray:
    """Positions of ``cr``'s lines ordered by close date, deal id and account manager id (ties: as given).

    The order of ``np.lexsort`` on the three (ids ranked in string order, :func:`_rank`), which
    is stable. When every date is a whole day, :func:`_packed_order` gives the same order
    with one sort of numbers (about a fifth of the CPU at 800,000 lines).
    """
    if not len(cr.drow):
        return np.zeros(0, np.int64)
    deal_rank = _rank(deal_ids)[cr.drow]
    am_rank = _rank(pd.Series(cr.ids, dtype="str"))[cr.am]
    day, rest = np.divmod(cr.cdate, _DAY_NS)
    packed = None if rest.any() else _packed_order(day, deal_rank, am_rank, len(deal_ids), len(cr.ids))
    return np.lexsort((am_rank, deal_rank, cr.cdate)) if packed is None else packed


def _packed_order(day: np.ndarray, deal_rank: np.ndarray, am_rank: np.ndarray, n_deals: int, n_ids: int) -> np.ndarray | None:
    """``np.lexsort((am_rank, deal_rank, day))`` by one ``np.sort`` of int64 numbers; None when they do not fit.

    Each line becomes ``(day, deal rank, manager rank, position)`` packed into one int64 (ranks
    below ``n_deals`` and ``n_ids``): the numbers are distinct, so their sorted order is the
    stable order, read back from the position's low bits. NumPy sorts numbers with its
    vectorised sort, where ``argsort`` and ``lexsort`` compare one pair at a time.
    """
    first, last = int(day.min()), int(day.max())
    bits = max(len(day) - 1, 1).bit_length()
    if ((last - first + 1) * n_deals * n_ids) << bits > 2**63 - 1:
        return None
    key = ((day - first) * n_deals + deal_rank) * n_ids + am_rank
    key <<= bits
    key |= np.arange(len(day), dtype=np.int64)
    key.sort()
    key &= (1 << bits) - 1
    return key


def _rank(values: pd.Series) -> np.ndarray:
    """Rank of each value in string order (int64; ties broken by position).

    Text already in strict order (:func:`reportkit.data.sources.text_order`: an export sorted
    by its id) is ranked by its position, without a sort.
    """
    direction = text_order(values)
    if direction:
        rank = np.arange(len(values), dtype=np.int64)
        return rank if direction > 0 else rank[::-1].copy()
    idx = pc.sort_indices(pa.array(values.astype("str").array)) if len(values) else []
    rank = np.empty(len(values), dtype=np.int64)
    rank[np.asarray(idx, dtype=np.int64)] = np.arange(len(values))
    return rank


def _take_text(values: pd.Series, rows: np.ndarray) -> pd.Series:
    """``values.take(rows)`` with a fresh RangeIndex; Arrow text of few distinct values gathered by their codes.

    Taking 800,000 scattered strings from a column of 1,000,000 cost Arrow about 0.1 s a column;
    a column of at most one distinct value in 16 (an owner, an account, a product) is
    dictionary-encoded once and its codes gathered, then the few strings looked up: the same
    values and dtype in about half the CPU. Any other column is taken as it is.
    """
    if not isinstance(values.array, pd.arrays.ArrowStringArray) or len(values) < 2:
        return values.take(rows).reset_index(drop=True)
    text = pa.chunked_array(pa.array(values.array)).combine_chunks()
    if text.null_count == len(text):  # no text at all (an unmapped territory): nothing to look up
        return pd.Series(pd.array(pa.nulls(len(rows), text.type), dtype=values.dtype))
    coded = pc.dictionary_encode(text, null_encoding="encode")  # a missing value is one more dictionary entry
    if 16 * len(coded.dictionary) > len(text):
        return values.take(rows).reset_index(drop=True)
    codes = arrow_to_numpy(coded.indices)[rows]
    return pd.Series(pd.array(coded.dictionary.take(pa.array(codes)), dtype=values.dtype))


def _strings(codes: np.ndarray, labels) -> pd.Series:
    """A ``str`` Series of ``labels[codes]`` built in Arrow (no Python string per row)."""
    arr = pa.DictionaryArray.from_arrays(pa.array(np.asarray(codes, dtype=np.int32)), pa.array(list(labels), pa.large_string()))
    return pd.Series(pd.array(arr.cast(pa.large_string()), dtype="str"))


#: The columns of :func:`credited_deals` that a group's revenue figures read: team and company
#: revenue each deal once (:func:`group_deal_micros`), the members' exact credits per period
#: (:func:`revenue_micros_by`), their attainment, and the group's forecast revenue rows
#: (:func:`reportkit.domain.forecast_inputs.level_revenue`). :func:`group_credits` keeps these.
GROUP_COLUMNS = tuple(
    c for c in CREDIT_COLUMNS if c not in ("owner_id", "credit_type", "credit_source", "territory", "product", "stage")
)


def group_credits(credited: pd.DataFrame, members: list[str] | tuple[str, ...] | pd.Index) -> pd.DataFrame:
    """The credits of ``members``, with only :data:`GROUP_COLUMNS`: what a group's figures read.

    The rows of ``credited`` credited to one of ``members``, in their order, without the
    text columns no group figure reads (``owner_id``, ``credit_type``, ``credit_source``,
    ``territory``, ``product``, ``stage``): the company report's figures walk every credit
    of the batch, and each took its copy of all 14 columns (at 800,000 deals about 110 MB
    each: ``docs/batch.md``, "Fourth pass").
    """
    c = credited[[k for k in GROUP_COLUMNS if k in credited.columns]]
    return c.loc[c["account_manager_id"].isin(list(members)).to_numpy()]


def credited_in(
    credited: pd.DataFrame,
    start: datetime.date | None,
    end: datetime.date | None,
    account_manager_ids: str | list[str] | tuple[str, ...] | pd.Index | None = None,
) -> pd.DataFrame:
    """Rows of ``credited`` closed in ``start..end`` (inclusive; ``None`` = open), optionally for some AMs.

    The mask is built on NumPy arrays (a ``datetime64`` column's values; NaT is in no window),
    not as pandas series: the same rows, about half a millisecond less a call (a batch filters
    some 600 times, most of them an account manager's few thousand credits).
    """
    mask = np.ones(len(credited), dtype=bool)
    if start is not None or end is not None:
        dates = credited["close_date"]
        dates = dates.to_numpy() if dates.dtype.kind == "M" else dates  # the model's datetime64[ns]
        if start is not None:
            mask &= np.asarray(dates >= np.datetime64(start, "ns"), dtype=bool)
        if end is not None:
            mask &= np.asarray(dates <= np.datetime64(end, "ns"), dtype=bool)
    if account_manager_ids is not None:
        ids = [account_manager_ids] if isinstance(account_manager_ids, str) else list(account_manager_ids)
        mask &= credited["account_manager_id"].isin(ids).to_numpy(dtype=bool)
    return credited.loc[mask]


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
    # each credit's period label, made once per period (not a string per credit: the company's quarters
    # walk every credit of the batch, docs/batch.md "Fourth pass"); the same labels as calendar.labels
    dates = c["close_date"].to_numpy("datetime64[ns]")
    _, first, which = np.unique(calendar.ordinals(dates, kind), return_index=True, return_inverse=True)  # type: ignore[arg-type]
    labels = calendar.labels(pd.Series(dates[first]), kind).to_numpy(dtype=object)[which.reshape(-1)]  # type: ignore[arg-type]
    g = (
        pd.DataFrame(
            {
                "account_manager_id": c["account_manager_id"].to_numpy(),
                "period": labels,
                "c": c["credit_micros"].to_numpy(),
            }
        )
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
    deals = group_deal_micros(credited, members, start, end)
    return exact_total_cents(deals["micros"].to_numpy(np.int64)) if len(deals) else 0


def group_deal_micros(
    credited: pd.DataFrame,
    members: list[str] | tuple[str, ...] | pd.Index,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
) -> pd.DataFrame:
    """Each deal credited to at least one of ``members``, once, with the group's exact amount on it.

    The rule of :func:`team_revenue` deal by deal: the members' credits on the deal
    summed, capped in magnitude at the deal's amount (a deal two members carry
    counts once). Company and team revenue, and the account figures of a group
    (:func:`reportkit.domain.accounts.top_account_shares`,
    :func:`reportkit.domain.accounts.revenue_retention`), all add these rows.

    Returns
    -------
    DataFrame
        ``deal_id``, ``account_id`` (str), ``close_date`` (datetime64), ``micros``
        (int64: the group's exact amount on the deal), one row per deal.
    """
    # only the columns read, and the ids kept as Arrow strings, never boxed into Python objects: the same
    # rows, about half the peak memory at 800,000 credits (+194 to +103 MB; docs/batch.md, memory)
    read = ("deal_id", "account_manager_id", "account_id", "close_date", "credit_micros", "amount_micros")  # of GROUP_COLUMNS
    c = credited[[k for k in read if k in credited.columns]]
    if start is not None or end is not None:
        c = credited_in(c, start, end)
    c = c.loc[c["account_manager_id"].isin(list(members)).to_numpy()]
    if not len(c):  # nothing credited (an empty frame need not carry the credit columns)
        return pd.DataFrame(
            {
                "deal_id": pd.Series([], dtype="str"),
                "account_id": pd.Series([], dtype="str"),
                "close_date": pd.Series([], dtype="datetime64[ns]"),
                "micros": pd.Series([], dtype="int64"),
            }
        )
    first = c.loc[(~c["deal_id"].duplicated()).to_numpy()]  # one row per deal, in order of first appearance
    credit = c.groupby("deal_id", sort=False)["credit_micros"].sum().to_numpy(np.int64)  # the same order
    amount = first["amount_micros"].to_numpy(np.int64)
    return pd.DataFrame(
        {
            "deal_id": first["deal_id"].astype("str").array,
            "account_id": first["account_id"].astype("str").array,
            "close_date": first["close_date"].to_numpy(),
            "micros": np.sign(amount) * np.minimum(np.abs(credit), np.abs(amount)),
        }
    )


def crediting_overlaps(credited: pd.DataFrame, members: list[str] | tuple[str, ...] | pd.Index) -> bool:
    """True when some deal credits two or more of ``members`` (a territory overlay inside the team)."""
    # on integer codes (Arrow's lookups), not a copy of the ids: a team's or the company's every credit
    ids = pd.unique(np.asarray([str(m) for m in members], dtype=object))
    am = lookup(credited["account_manager_id"], ids) if len(credited) and len(ids) else np.zeros(0, np.int64)
    rows = np.flatnonzero(am >= 0)
    if not len(rows):
        return False
    pairs = pd.unique(deal_codes(credited.iloc[rows]) * len(ids) + am[rows])  # each (deal, member) once (hashed, not sorted)
    deals = pairs // len(ids)
    return bool(len(pd.unique(deals)) < len(deals))


def deal_codes(credited: pd.DataFrame) -> np.ndarray:
    """An integer per row naming its deal (equal ``deal_id``, equal code; int64), from Arrow's dictionary encoding."""
    deal = arrow_str(credited["deal_id"])
    if isinstance(deal, pa.ChunkedArray):
        deal = deal.combine_chunks()
    return arrow_to_numpy(pc.dictionary_encode(deal).indices).astype(np.int64)


def revenue_cents(credited: pd.DataFrame) -> int:
    """Revenue of some credit rows in cents: their exact amounts summed, rounded once.

    The one rule of every revenue aggregate (an account manager's period, YTD, a
    team, the company, forecast actuals): ``credit_micros`` summed exactly and
    rounded to the cent half away from zero (:func:`reportkit.core.money.micros_to_cents`),
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


def revenue_micros_by(credited: pd.DataFrame, by: str | list[str]) -> pd.Series:
    """Exact credited revenue (``credit_micros`` summed, not rounded) per group of ``by``: int64 Series.

    For a roll-up that adds groups (a team's members) and rounds the total once
    (:func:`reportkit.domain.quota.pooled_attainment` with ``revenue_micros``).
    """
    return credited.groupby(by, sort=True)["credit_micros"].sum().astype("int64")


def revenue_cents_by(credited: pd.DataFrame, by: str | list[str]) -> pd.Series:
    """:func:`revenue_cents` per group of ``by`` (column name(s) of ``credited``): int64 Series."""
    s = revenue_micros_by(credited, by)
    return pd.Series(micros_to_cents(s.to_numpy(np.int64)), index=s.index, dtype="int64")
