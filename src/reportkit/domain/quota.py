"""Quota per account manager per period, and attainment.

Rules (contract in ``docs/architecture.md``):

* Quota rows (``quotas`` table) may be monthly, quarterly, yearly or any span.
  The quota of a period is the sum of the quota rows inside it. A row longer
  than the asked-for period is split **evenly by fiscal period** with
  :func:`reportkit.core.money.allocate` (largest remainder), hierarchically: a yearly
  row gives 1/4 to each quarter, a quarter's share gives 1/3 to each month, so
  the four quarters of a year add up to the yearly row to the cent and the
  twelve months add up to it too. A row that is not aligned to fiscal periods is
  split in proportion to the days it overlaps each period (also by ``allocate``).
  This is the one splitting rule: the reports, the API and the plan engine
  (:func:`reportkit.domain.engine.quota_table`) all call :func:`split_quotas` /
  :func:`split_year`. The only variant is a plan's ``quota.split: seasonal``,
  which divides a whole-fiscal-year row by the plan's weights instead of evenly
  (``year_weights``), still by ``allocate``.
* Attainment is a float fraction (1.0 == 100 %), credited revenue / quota.
  It is undefined -- ``NaN`` -- when the quota is missing or zero; a negative
  quota cannot occur (it is a :class:`~reportkit.core.errors.DataError` at load).
* A group's attainment (team, company) is **pooled over its members who carry
  a quota** (:func:`pooled_attainment`): the sum of those members' credited
  revenue (their exact credits summed, rounded once) over the sum of their
  quotas, both counted per member. It is the
  quota-weighted mean of their attainments, so it always lies between the
  lowest and the highest of them.
* When a source has no quota table, :func:`quotas_from_rule` builds one from the
  params' :class:`~reportkit.config.params.QuotaRule`.

Money here is integer cents.

Layering: :func:`quotas_from_rule` needs credited revenue for the
``prior_year_growth`` rule and :func:`attainment_table` sums credits per period,
so this module uses :mod:`reportkit.domain.crediting`; the plan engine splits
quotas here (domain order: crediting -> quota -> engine, no cycle).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..config.params import QuotaRule
from ..core.money import allocate, micros_to_cents, to_cents
from ..core.periods import FiscalCalendar, Period, PeriodKind
from ..data.model import Dataset
from .crediting import credited_deals, credited_revenue

__all__ = [
    "quotas_from_rule",
    "split_quotas",
    "split_pieces",
    "split_year",
    "fiscal_months",
    "whole_year_rows",
    "quota_for",
    "attainment",
    "attainment_series",
    "attainment_table",
    "PooledAttainment",
    "pooled_attainment",
]

_QUOTA_COLUMNS = ["account_manager_id", "period_start", "period_end", "quota_cents", "currency"]
_ORDER = {"month": 0, "quarter": 1, "year": 2}


def _empty_quotas() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account_manager_id": pd.Series([], dtype="str"),
            "period_start": pd.Series([], dtype="datetime64[ns]"),
            "period_end": pd.Series([], dtype="datetime64[ns]"),
            "quota_cents": pd.Series([], dtype="int64"),
            "currency": pd.Series([], dtype="str"),
        }
    )


def quotas_from_rule(dataset: Dataset, rule: QuotaRule, fiscal_years: Iterable[int]) -> pd.DataFrame:
    """Build a canonical ``quotas`` table (one row per AM per fiscal quarter) from a rule.

    Parameters
    ----------
    dataset : Dataset
        Supplies the account managers, the calendar, the currency and (for
        ``prior_year_growth``) the credited deals.
    rule : QuotaRule
        ``kind="fixed"``: every account manager gets ``amount`` per ``per``
        period; a yearly amount is split evenly into the four quarters with
        :func:`~reportkit.core.money.allocate` (so the quarters sum to the year).
        ``kind="prior_year_growth"``: a quarter's quota is the account manager's
        credited revenue in the same quarter of the previous fiscal year times
        ``1 + growth``, rounded to the cent half away from zero. When there is
        no history for that quarter (no credited revenue, or a net revenue
        <= 0, which cannot be a quota) it falls back to the fixed ``amount``
        per quarter as above.
    fiscal_years : iterable of int
        Fiscal years to produce quotas for (e.g. ``[2024, 2025]``).

    Returns
    -------
    DataFrame
        Canonical quota columns: ``account_manager_id`` (str), ``period_start``,
        ``period_end`` (datetime64, inclusive), ``quota_cents`` (int64, >= 0),
        ``currency`` (str). Sorted by account manager then period.
    """
    years = sorted({int(y) for y in fiscal_years})
    ams = dataset.account_managers["account_manager_id"].astype("str").tolist()
    if not years or not ams:
        return _empty_quotas()
    cal = dataset.calendar
    amount_cents = to_cents(rule.amount)
    per_quarter = allocate(amount_cents, [1, 1, 1, 1]) if rule.per == "year" else [amount_cents] * 4
    quarters = [q for fy in years for q in cal.periods_of_year(fy, "quarter")]
    grid = pd.DataFrame(
        {
            "account_manager_id": np.repeat(ams, len(quarters)),
            "period": [q.label for q in quarters] * len(ams),
            "number": [q.number for q in quarters] * len(ams),
            "period_start": [np.datetime64(q.start, "ns") for q in quarters] * len(ams),
            "period_end": [np.datetime64(q.end, "ns") for q in quarters] * len(ams),
            "last_year": [q.same_period_last_year().label for q in quarters] * len(ams),
        }
    )
    fallback = grid["number"].map(lambda n: per_quarter[n - 1]).astype("int64")
    if rule.kind == "fixed":
        grid["quota_cents"] = fallback
    else:
        rev = credited_revenue(credited_deals(dataset), cal, "quarter")
        rev = rev.rename(columns={"period": "last_year", "revenue_cents": "ly_cents"})
        grid = grid.merge(
            rev[["account_manager_id", "last_year", "ly_cents"]], on=["account_manager_id", "last_year"], how="left"
        )
        factor = Decimal(1) + rule.growth
        grown = grid["ly_cents"].map(lambda c: None if pd.isna(c) or c <= 0 else max(0, to_cents(Decimal(int(c)) * factor / 100)))
        grid["quota_cents"] = grown.where(grown.notna(), fallback).astype("int64")
    grid["currency"] = dataset.currency
    out = grid[_QUOTA_COLUMNS].sort_values(["account_manager_id", "period_start"], kind="stable")
    return out.reset_index(drop=True)


def _span_kind(start: datetime.date, end: datetime.date, cal: FiscalCalendar) -> Period | None:
    """The fiscal month/quarter/year exactly equal to ``start..end``, else None."""
    for kind in ("month", "quarter", "year"):
        p = cal.period_of(start, kind)  # type: ignore[arg-type]
        if p.start == start and p.end == end:
            return p
    return None


def whole_year_rows(quotas: pd.DataFrame, calendar: FiscalCalendar) -> np.ndarray:
    """Which quota rows cover exactly one whole fiscal year (bool array, one per row).

    Only these rows are split by seasonal weights (:func:`split_year`); a plan's
    ``quota.split: seasonal`` does nothing to any other row, so the plan engine
    refuses that combination (:mod:`reportkit.domain.engine.quotas`).

    Examples
    --------
    >>> from reportkit.core.periods import FiscalCalendar
    >>> q = pd.DataFrame({"period_start": ["2025-01-01", "2025-01-01"], "period_end": ["2025-12-31", "2025-03-31"]})
    >>> whole_year_rows(q, FiscalCalendar()).tolist()
    [True, False]
    """
    starts = pd.to_datetime(quotas["period_start"]).dt.date
    ends = pd.to_datetime(quotas["period_end"]).dt.date
    out = []
    for s, e in zip(starts, ends):
        p = _span_kind(s, e, calendar)
        out.append(p is not None and p.kind == "year")
    return np.asarray(out, dtype=bool)


def fiscal_months(p: Period) -> list[Period]:
    """The fiscal months of a fiscal month, quarter or year, in order (a month is its own one month)."""
    if p.kind == "month":
        return [p]
    first = (p.number - 1) * 3 + 1 if p.kind == "quarter" else 1
    return [Period(p.calendar, "month", p.fiscal_year, first + i) for i in range(3 if p.kind == "quarter" else 12)]


def _children(p: Period) -> list[Period]:
    if p.kind == "year":
        return p.calendar.periods_of_year(p.fiscal_year, "quarter")
    if p.kind == "quarter":
        return fiscal_months(p)
    return []


def _split_aligned(cents: int, p: Period, kind: str) -> list[tuple[Period, int]]:
    """Split a row exactly covering fiscal period ``p`` into periods of ``kind`` (even, hierarchical)."""
    if _ORDER[p.kind] <= _ORDER[kind]:
        return [(p.calendar.period_of(p.start, kind), cents)]  # type: ignore[arg-type]
    kids = _children(p)
    out: list[tuple[Period, int]] = []
    for child, part in zip(kids, allocate(cents, [1] * len(kids))):
        out.extend(_split_aligned(part, child, kind))
    return out


def split_year(
    cents: int, calendar: FiscalCalendar, fiscal_year: int, kind: PeriodKind, weights: Sequence | None = None
) -> list[tuple[Period, int]]:
    """Split a quota covering fiscal year ``fiscal_year`` into its periods of ``kind``.

    Parameters
    ----------
    cents : int
        The year's quota in cents (>= 0).
    calendar : FiscalCalendar
    fiscal_year : int
    kind : {"year", "quarter", "month"}
    weights : sequence of fractions, optional
        Seasonal weights (a plan's ``quota.split: seasonal``): 4 (one per
        quarter) or 12 (one per month). Without them the split is even and
        hierarchical (1/4 per quarter, then 1/3 of a quarter per month). Weights
        finer than ``kind`` (12 for quarters) allocate the year to months and a
        quarter is the sum of its months; coarser ones (4 for months) allocate
        the year to quarters, then each quarter evenly to its months.

    Returns
    -------
    list of (Period, int)
        The periods in order with their cents; they sum to ``cents``
        (:func:`reportkit.core.money.allocate`, largest remainder).
    """
    year = Period(calendar, "year", int(fiscal_year), 1)
    if weights is None or kind == "year":
        return _split_aligned(int(cents), year, kind)
    if len(weights) not in (4, 12):
        raise ValueError(f"{len(weights)} seasonal weights: give 4 (one per quarter) or 12 (one per month)")
    by = "quarter" if len(weights) == 4 else "month"
    parts = list(zip(calendar.periods_of_year(int(fiscal_year), by), allocate(int(cents), list(weights))))
    if by == kind:
        return parts
    if kind == "month":  # quarterly weights, each quarter evenly into its months
        return [piece for q, c in parts for piece in _split_aligned(c, q, "month")]
    return [
        (q, sum(c for _, c in parts[3 * i : 3 * i + 3]))
        for i, q in enumerate(calendar.periods_of_year(int(fiscal_year), "quarter"))
    ]


def _split_by_days(
    cents: int, start: datetime.date, end: datetime.date, cal: FiscalCalendar, kind: str
) -> list[tuple[Period, int]]:
    periods: list[Period] = []
    p = cal.period_of(start, kind)  # type: ignore[arg-type]
    while p.start <= end:
        periods.append(p)
        p = p.shift(1)
    weights = [(min(p.end, end) - max(p.start, start)).days + 1 for p in periods]
    return list(zip(periods, allocate(cents, weights)))


def split_pieces(
    quotas: pd.DataFrame, calendar: FiscalCalendar, kind: PeriodKind, year_weights: Sequence | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The quota rows cut into periods of ``kind`` by the splitting rule (integer arrays, not grouped).

    Returns
    -------
    row, ordinal, cents : int64 arrays
        For each piece: the position of its row in ``quotas``, the ordinal of its
        period (:meth:`~reportkit.core.periods.FiscalCalendar.ordinals`) and its cents.
        A row inside one period is one piece; a longer row is split as in the
        module docstring (its pieces sum to the row). :func:`split_quotas` groups
        them by account manager and period; the plan engine adds them into its
        (AM x pay period) array.
    """
    so = calendar.ordinals(pd.to_datetime(quotas["period_start"]).to_numpy("datetime64[ns]"), kind)
    eo = calendar.ordinals(pd.to_datetime(quotas["period_end"]).to_numpy("datetime64[ns]"), kind)
    inside = so == eo
    rows, ords, cents = [np.flatnonzero(inside)], [so[inside]], [quotas["quota_cents"].to_numpy(np.int64)[inside]]
    extra = []
    long_rows = np.flatnonzero(~inside)
    starts = pd.to_datetime(quotas["period_start"]).iloc[long_rows]
    ends = pd.to_datetime(quotas["period_end"]).iloc[long_rows]
    amounts = quotas["quota_cents"].iloc[long_rows]
    for i, s, e, c in zip(long_rows.tolist(), starts, ends, amounts):
        s, e = pd.Timestamp(s).date(), pd.Timestamp(e).date()
        aligned = _span_kind(s, e, calendar)
        if aligned is None:
            pieces = _split_by_days(int(c), s, e, calendar, kind)
        elif aligned.kind == "year":
            pieces = split_year(int(c), calendar, aligned.fiscal_year, kind, year_weights)
        else:
            pieces = _split_aligned(int(c), aligned, kind)
        extra.extend((i, p.ordinal, part) for p, part in pieces)
    if extra:
        rows.append(np.asarray([x[0] for x in extra], dtype=np.int64))
        ords.append(np.asarray([x[1] for x in extra], dtype=np.int64))
        cents.append(np.asarray([x[2] for x in extra], dtype=np.int64))
    return np.concatenate(rows).astype(np.int64), np.concatenate(ords), np.concatenate(cents)


def split_quotas(
    quotas: pd.DataFrame, calendar: FiscalCalendar, kind: PeriodKind = "quarter", year_weights: Sequence | None = None
) -> pd.DataFrame:
    """Quota per account manager per fiscal period of ``kind``.

    Rows inside one period go to that period whole; longer rows are split as
    described in the module docstring (a monthly plan with a quarterly row of
    90,000.00 gets 30,000.00 a month, never 90,000 / 0 / 0). The common case
    (rows no longer than the target period) is vectorised; only longer rows are
    split one by one.

    Parameters
    ----------
    quotas : DataFrame
        Canonical ``quotas`` table.
    calendar : FiscalCalendar
    kind : {"month", "quarter", "year"}
    year_weights : sequence of fractions, optional
        Split whole-fiscal-year rows by these weights (one per period of
        ``kind``; :func:`split_year`) instead of evenly.

    Returns
    -------
    DataFrame
        ``account_manager_id`` (str), ``period`` (label), ``quota_cents`` (int64),
        one row per pair that has at least one quota row (missing pairs mean
        "no quota", which is different from a zero quota).
    """
    if quotas is None or len(quotas) == 0:
        return pd.DataFrame(
            {
                "account_manager_id": pd.Series([], dtype="str"),
                "period": pd.Series([], dtype="str"),
                "quota_cents": pd.Series([], dtype="int64"),
            }
        )
    row, ord_v, c_v = split_pieces(quotas, calendar, kind, year_weights)
    am_v = quotas["account_manager_id"].astype("str").to_numpy(dtype=object)[row]
    # sum per (AM, period) on integer keys, ordered by AM id then period label (as text)
    am_code, am_uniq = pd.factorize(am_v, sort=True)
    o_uniq = np.unique(ord_v)
    labels = np.asarray([calendar.period_of_ordinal(int(o), kind).label for o in o_uniq], dtype=object)
    lab_rank = np.argsort(np.argsort(labels, kind="stable"), kind="stable")
    key = am_code.astype(np.int64) * len(o_uniq) + lab_rank[np.searchsorted(o_uniq, ord_v)]
    order = np.argsort(key, kind="stable")
    key, c_v = key[order], c_v[order]
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, np.int64)
    k = key[first]
    by_rank = np.empty(len(labels), dtype=object)
    by_rank[lab_rank] = labels
    return pd.DataFrame(
        {
            "account_manager_id": pd.Series(np.asarray(am_uniq, dtype=object)[k // len(o_uniq)], dtype="str"),
            "period": pd.Series(by_rank[k % len(o_uniq)], dtype="str"),
            "quota_cents": np.add.reduceat(c_v, first) if len(first) else np.zeros(0, np.int64),
        }
    )


def quota_for(quotas: pd.DataFrame, account_manager_id: str, period: Period) -> int | None:
    """Quota of one account manager for one fiscal period, in cents.

    Parameters
    ----------
    quotas : DataFrame
        Canonical ``quotas`` table (any mix of monthly, quarterly, yearly rows).
    account_manager_id : str
    period : Period
        A fiscal month, quarter or year.

    Returns
    -------
    int or None
        Sum of the quota rows inside ``period`` (longer rows contribute their
        evenly allocated share: a yearly row gives 1/4 to each quarter). ``None``
        when the account manager has no quota row touching the period (no quota,
        as opposed to a zero quota).
    """
    mine = quotas.loc[(quotas["account_manager_id"] == str(account_manager_id)).to_numpy()]
    s, e = np.datetime64(period.start, "ns"), np.datetime64(period.end, "ns")
    mine = mine.loc[((mine["period_start"] <= e) & (mine["period_end"] >= s)).to_numpy()]
    if mine.empty:
        return None
    split = split_quotas(mine, period.calendar, period.kind)
    hit = split.loc[(split["period"] == period.label).to_numpy(), "quota_cents"]
    return int(hit.sum()) if len(hit) else None


def attainment(revenue_cents: int | float, quota_cents: int | float | None) -> float:
    """Attainment as a fraction: ``revenue / quota`` (1.0 == 100 %).

    Returns ``NaN`` when the quota is ``None``, NaN or zero (undefined: shown as
    ``n/a``, never 0 % or infinity). Negative revenue (returns) gives a negative
    fraction.

    >>> attainment(150_00, 100_00)
    1.5
    >>> attainment(150_00, 0)
    nan
    """
    if quota_cents is None:
        return math.nan
    q = float(quota_cents)
    if math.isnan(q) or q == 0:
        return math.nan
    return float(revenue_cents) / q


class PooledAttainment(NamedTuple):
    """A group's attainment and the two figures it divides (see :func:`pooled_attainment`)."""

    revenue_cents: int | None  # sum of the counted members' credited revenue (None: no member counted)
    quota_cents: int | None  # sum of the counted members' quotas (None: no member counted)
    attainment: float  # revenue_cents / quota_cents; NaN when no member is counted


def pooled_attainment(
    revenue_cents: Iterable[int | None] | None,
    quota_cents: Iterable[int | float | None],
    *,
    revenue_micros: Iterable[int | None] | None = None,
) -> PooledAttainment:
    """A team's (or the company's) attainment: the one roll-up rule.

    Only members whose own attainment is defined (a quota above zero) count, in
    the numerator **and** the denominator: attainment = sum of their credited
    revenue / sum of their quotas. Numerator and denominator therefore count the
    same way (with a territory overlay a deal counts once per member it credits,
    exactly as in each member's quota), and the result is the quota-weighted mean
    of the members' attainments: it lies within ``[min, max]`` of them. A member
    without a quota (attainment n/a) is left out of both, so a new hire's revenue
    does not lift the team above every measured member.

    The revenue a reader sees as the team's revenue (each deal once,
    :func:`reportkit.domain.crediting.team_revenue`) can be lower than this numerator
    when members' credits overlap; reports then show both figures.

    The numerator is an aggregate, so it is the exact sum rounded once: pass the
    members' exact credits as ``revenue_micros`` (``credit_micros`` summed per
    member, :func:`reportkit.domain.crediting.revenue_micros_by`) and the result is their
    total rounded once (:func:`reportkit.core.money.micros_to_cents`), not the sum of
    per-member rounded cents. Without overlapping credits and with every member
    counted it therefore equals the team's revenue to the cent. Forecasts (already
    cents per member) are passed as ``revenue_cents``.

    Parameters
    ----------
    revenue_cents : iterable of int, or None
        Each member's credited revenue (or forecast) in cents (``None`` = 0).
        ``None`` when ``revenue_micros`` is given.
    quota_cents : iterable of int or None
        Each member's quota in the same period, in cents, same order; ``None`` or
        0 when the member has none.
    revenue_micros : iterable of int, optional
        Each member's exact credited revenue in micros (millionths of the
        currency unit), same order; replaces ``revenue_cents``.

    Returns
    -------
    PooledAttainment
        ``revenue_cents``, ``quota_cents`` (int, cents; ``None`` when no member
        has a quota) and ``attainment`` (float fraction, NaN when undefined).

    >>> pooled_attainment([150_00, 50_00, 70_00], [100_00, 100_00, None])
    PooledAttainment(revenue_cents=20000, quota_cents=20000, attainment=1.0)
    >>> pooled_attainment([10_00], [None]).attainment
    nan
    >>> pooled_attainment(None, [100_00, 100_00], revenue_micros=[1_004_000, 1_004_000]).revenue_cents  # 1.004 + 1.004
    201
    """
    if (revenue_cents is None) == (revenue_micros is None):
        raise TypeError("pooled_attainment takes revenue_cents or revenue_micros (exactly one)")
    exact = revenue_micros is not None
    rev_sum, quota_sum = 0, 0
    counted = False
    for r, q in zip(revenue_micros if exact else revenue_cents, quota_cents, strict=True):  # type: ignore[arg-type]
        if q is None or (isinstance(q, float) and math.isnan(q)) or q == 0:
            continue
        counted = True
        rev_sum += 0 if r is None else int(r)
        quota_sum += int(q)
    if not counted:
        return PooledAttainment(None, None, math.nan)
    if exact:
        rev_sum = micros_to_cents(rev_sum)  # the exact total, rounded once
    return PooledAttainment(rev_sum, quota_sum, attainment(rev_sum, quota_sum))


def attainment_series(revenue_cents: pd.Series, quota_cents: pd.Series) -> pd.Series:
    """Vectorised :func:`attainment`; NaN where the quota is missing or zero."""
    q = pd.to_numeric(quota_cents, errors="coerce").astype("float64")
    r = pd.to_numeric(revenue_cents, errors="coerce").astype("float64")
    return (r / q.where(q != 0)).astype("float64")


def attainment_table(
    credited: pd.DataFrame,
    quotas: pd.DataFrame,
    account_manager_ids: Sequence[str],
    quarters: Sequence[Period],
    until: datetime.date | None = None,
    quarter_quotas: pd.DataFrame | None = None,
    revenue: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Revenue, quota and attainment per account manager per quarter (vectorised).

    Parameters
    ----------
    credited : DataFrame
        Output of :func:`reportkit.domain.crediting.credited_deals`.
    quotas : DataFrame
        Canonical quotas table.
    account_manager_ids : sequence of str
    quarters : sequence of Period
        Fiscal quarters (any order; output follows it).
    until : date, optional
        Ignore credits after this date (the report's ``as_of``).
    quarter_quotas : DataFrame, optional
        ``split_quotas(quotas, calendar, "quarter")`` computed once by the caller
        (a batch reuses it for every report); computed here when omitted.
    revenue : DataFrame, optional
        ``credited_revenue(credited, calendar, "quarter", until=until)`` of at least
        ``account_manager_ids`` computed once by the caller (a batch groups every credit
        once for all its reports: ``ReportContext.quarter_revenue``); ``credited`` is then
        not read. Computed here when omitted.

    Returns
    -------
    DataFrame
        One row per (account manager, quarter): ``account_manager_id``,
        ``period`` (label), ``period_start``, ``period_end`` (date),
        ``revenue_cents`` (int64), ``quota_cents`` (``Int64``, NA = no quota),
        ``attainment`` (float fraction, NaN when undefined).
    """
    if not quarters:
        raise ValueError("attainment_table needs at least one quarter")
    cal = quarters[0].calendar
    ids = [str(a) for a in account_manager_ids]
    grid = pd.DataFrame(
        {
            "account_manager_id": pd.Series(np.repeat(ids, len(quarters)), dtype="str"),
            "period": [q.label for q in quarters] * len(ids),
            "period_start": [q.start for q in quarters] * len(ids),
            "period_end": [q.end for q in quarters] * len(ids),
        }
    )
    if revenue is None:
        c = credited.loc[credited["account_manager_id"].isin(ids).to_numpy()]
        rev = credited_revenue(c, cal, "quarter", until=until)
    else:
        rev = revenue.loc[revenue["account_manager_id"].isin(ids).to_numpy()]
    if quarter_quotas is None:
        quarter_quotas = split_quotas(quotas.loc[quotas["account_manager_id"].isin(ids).to_numpy()], cal, "quarter")
    qs = quarter_quotas.loc[quarter_quotas["account_manager_id"].isin(ids).to_numpy()]
    quota_keys = list(zip(qs["account_manager_id"].tolist(), qs["period"].tolist()))
    if len(set(quota_keys)) < len(quota_keys) or len(qs.columns) != 3:  # a quarter with two quota rows: a row per quota row
        grid = grid.merge(rev[["account_manager_id", "period", "revenue_cents"]], on=["account_manager_id", "period"], how="left")
        grid = grid.merge(qs, on=["account_manager_id", "period"], how="left")
        grid["revenue_cents"] = grid["revenue_cents"].fillna(0).astype("int64")
        grid["quota_cents"] = grid["quota_cents"].astype("Int64")
    else:  # each (account manager, quarter) looked up: the same columns as the merges', without two joins per call
        keys = [(a, q.label) for a in ids for q in quarters]
        by_rev = dict(zip(zip(rev["account_manager_id"].tolist(), rev["period"].tolist()), rev["revenue_cents"].tolist()))
        by_quota = dict(zip(quota_keys, qs["quota_cents"].tolist()))
        grid["revenue_cents"] = pd.Series([by_rev.get(k, 0) for k in keys], dtype="int64")
        grid["quota_cents"] = pd.Series([by_quota.get(k) for k in keys], dtype="Int64")
    grid["attainment"] = attainment_series(grid["revenue_cents"], grid["quota_cents"])
    return grid
