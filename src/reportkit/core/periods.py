"""Fiscal calendar and period labels.

A fiscal year is named by the calendar year in which it **ends**: with a fiscal
year starting in July (``first_month=7``), ``FY2020`` runs from 2019-07-01 to
2020-06-30 (Microsoft's and AdventureWorks' convention). With ``first_month=1``
the fiscal year equals the calendar year, so ``FY2017`` is calendar 2017.

Labels are the same everywhere (reports, Excel, manifest, CLI):

* ``FY2020``      a fiscal year
* ``FY2020-Q1``   its first fiscal quarter
* ``FY2020-M01``  its first fiscal month

Examples
--------
>>> cal = FiscalCalendar(first_month=7)
>>> cal.period_of(datetime.date(2019, 8, 15), "quarter").label
'FY2020-Q1'
>>> p = Period.parse("FY2020-Q3", cal)
>>> (p.start, p.end)
(datetime.date(2020, 1, 1), datetime.date(2020, 3, 31))
"""

from __future__ import annotations

import calendar as _calendar
import datetime
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from .errors import PeriodError
from .types import PERIOD_LABEL, label_problem

__all__ = [
    "FiscalCalendar",
    "Period",
    "PeriodKind",
    "data_covers",
    "data_cutoff",
    "data_start",
    "one_year_earlier",
]

PeriodKind = Literal["year", "quarter", "month"]
_MONTHS = {"year": 12, "quarter": 3, "month": 1}


DAY_NS = 86_400 * 10**9
"""Nanoseconds in a day: int64 datetime64[ns] values divided by it give whole days (period ordinals, the ledger's day keys)."""


def one_year_earlier(d: datetime.date) -> datetime.date:
    """The same calendar day one year earlier; 29 February gives 28 February.

    The one "last year" rule for dates: like-for-like growth, the forecast's
    seasonal basis, the backtest and the explorer compare with the same days a
    year earlier (:meth:`Period.same_period_last_year` is its form for periods).

    >>> one_year_earlier(datetime.date(2024, 2, 29))
    datetime.date(2023, 2, 28)
    """
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


def _add_months(d: datetime.date, months: int) -> datetime.date:
    m0 = d.year * 12 + (d.month - 1) + months
    return datetime.date(m0 // 12, m0 % 12 + 1, 1)


@dataclass(frozen=True)
class FiscalCalendar:
    """A fiscal calendar whose year starts on day 1 of ``first_month``.

    Parameters
    ----------
    first_month : int, default 1
        Calendar month (1..12) on which the fiscal year starts.

    Raises
    ------
    PeriodError
        If ``first_month`` is not in 1..12.
    """

    first_month: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.first_month, int) or not 1 <= self.first_month <= 12:
            raise PeriodError(
                f"fiscal year first month {self.first_month!r} is not a month number",
                hint="use 1 (January) .. 12 (December)",
            )

    # -- scalar API ---------------------------------------------------------
    def fiscal_year(self, d: datetime.date) -> int:
        """Fiscal year (named by the calendar year it ends in) containing ``d``."""
        return d.year + (1 if self.first_month > 1 and d.month >= self.first_month else 0)

    def fiscal_month(self, d: datetime.date) -> int:
        """Fiscal month number 1..12 of ``d`` (1 == ``first_month``)."""
        return (d.month - self.first_month) % 12 + 1

    def year_start(self, fy: int) -> datetime.date:
        """First day of fiscal year ``fy``."""
        return datetime.date(fy - (1 if self.first_month > 1 else 0), self.first_month, 1)

    def period_of(self, d: datetime.date, kind: PeriodKind = "quarter") -> Period:
        """The period of ``kind`` that contains date ``d``."""
        if isinstance(d, datetime.datetime):
            d = d.date()
        fm = self.fiscal_month(d)
        n = {"year": 1, "quarter": (fm - 1) // 3 + 1, "month": fm}[kind]
        return Period(self, kind, self.fiscal_year(d), n)

    def periods_of_year(self, fy: int, kind: PeriodKind = "quarter") -> list[Period]:
        """All periods of ``kind`` in fiscal year ``fy``, in order."""
        count = 12 // _MONTHS[kind]
        return [Period(self, kind, fy, n) for n in range(1, count + 1)]

    # -- period ordinals ----------------------------------------------------
    # An ordinal numbers the months (quarters, years) of all time consecutively,
    # fiscal aligned: ordinal // 12 (months) or // 4 (quarters) is an absolute
    # fiscal-year index, so ordinals of consecutive periods differ by 1. The plan
    # engine keys its (AM x pay period) arrays with them, quota splitting its sums.
    def ordinals(self, dates, kind: PeriodKind) -> np.ndarray:
        """Ordinal of the ``kind`` period containing each date (int64 array).

        ``dates``: datetime64 values (array or Series) or int64 nanoseconds. Midnight
        dates spanning at most ~11,000 years go through a per-day table (one gather).
        """
        ns = np.asarray(dates)
        if ns.dtype.kind == "M":
            ns = ns.astype("datetime64[ns]").view(np.int64)
        ns = ns.astype(np.int64, copy=False)
        if not len(ns):
            return np.zeros(0, dtype=np.int64)
        lo = int(ns.min())
        rel = ns - lo
        day = rel // DAY_NS
        span = int(day.max()) + 1
        if span > 4_000_000 or not (rel == day * DAY_NS).all():
            return self._ordinals_direct(ns, kind)
        return self._ordinals_direct(lo + np.arange(span, dtype=np.int64) * DAY_NS, kind)[day]

    def _ordinals_direct(self, ns: np.ndarray, kind: str) -> np.ndarray:
        m = ns.view("datetime64[ns]").astype("datetime64[M]").astype(np.int64) + 1970 * 12
        return (m - (self.first_month - 1)) // _MONTHS[kind]

    def period_of_ordinal(self, ordinal: int, kind: PeriodKind) -> Period:
        """The ``kind`` period numbered ``ordinal`` (inverse of :meth:`ordinals`)."""
        f = int(ordinal) * _MONTHS[kind]
        fy = f // 12 + (1 if self.first_month > 1 else 0)
        return Period(self, kind, fy, (f % 12) // _MONTHS[kind] + 1)

    # -- vectorised API -----------------------------------------------------
    def fiscal_years(self, dates: pd.Series) -> pd.Series:
        """Vectorised :meth:`fiscal_year` for a datetime64 Series (``Int64``; missing dates give NA)."""
        dt = pd.to_datetime(dates)
        shift = ((dt.dt.month >= self.first_month) & (self.first_month > 1)).astype("Int64")
        return dt.dt.year.astype("Int64") + shift

    def labels(self, dates: pd.Series, kind: PeriodKind = "quarter") -> pd.Series:
        """Vectorised period labels (``FY2020-Q1`` ...) for a datetime64 Series."""
        dt = pd.to_datetime(dates)
        fy = self.fiscal_years(dt).astype(str)
        fm = ((dt.dt.month - self.first_month) % 12 + 1).astype("Int64")
        if kind == "year":
            out = "FY" + fy
        elif kind == "quarter":
            out = "FY" + fy + "-Q" + ((fm - 1) // 3 + 1).astype(str)
        else:
            out = "FY" + fy + "-M" + fm.astype(str).str.zfill(2)
        return out.where(dt.notna(), None)


@dataclass(frozen=True, order=False)
class Period:
    """A fiscal year, quarter or month of a :class:`FiscalCalendar`.

    Attributes
    ----------
    calendar : FiscalCalendar
    kind : {"year", "quarter", "month"}
    fiscal_year : int
    number : int
        1 for a year; 1..4 for a quarter; 1..12 for a month (fiscal numbering).
    """

    calendar: FiscalCalendar
    kind: PeriodKind
    fiscal_year: int
    number: int = 1

    def __post_init__(self) -> None:
        top = 12 // _MONTHS.get(self.kind, 12) if self.kind in _MONTHS else 0
        if self.kind not in _MONTHS or not 1 <= self.number <= top:
            raise PeriodError(f"no {self.kind} number {self.number} in a fiscal year")

    @classmethod
    def parse(cls, label: str, calendar: FiscalCalendar) -> Period:
        """Parse ``FY2020``, ``FY2020-Q3`` or ``FY2020-M07``.

        Raises
        ------
        PeriodError
            If the label does not have one of those forms.
        """
        problem = label_problem(label)
        if problem is not None:
            raise PeriodError(f"period {problem}")
        m = PERIOD_LABEL.match(str(label).strip())
        assert m is not None  # label_problem vouched for its form
        fy = int(m["fy"])
        if m["kind"] is None:
            return cls(calendar, "year", fy, 1)
        kind: PeriodKind = "quarter" if m["kind"] == "Q" else "month"
        return cls(calendar, kind, fy, int(m["n"]))

    @property
    def label(self) -> str:
        if self.kind == "year":
            return f"FY{self.fiscal_year}"
        if self.kind == "quarter":
            return f"FY{self.fiscal_year}-Q{self.number}"
        return f"FY{self.fiscal_year}-M{self.number:02d}"

    def __str__(self) -> str:
        return self.label

    @property
    def start(self) -> datetime.date:
        """First day of the period."""
        return _add_months(self.calendar.year_start(self.fiscal_year), (self.number - 1) * _MONTHS[self.kind])

    @property
    def end(self) -> datetime.date:
        """Last day of the period (inclusive)."""
        last_month_first = _add_months(self.start, _MONTHS[self.kind] - 1)
        days = _calendar.monthrange(last_month_first.year, last_month_first.month)[1]
        return last_month_first.replace(day=days)

    @property
    def days(self) -> int:
        """Number of days in the period."""
        return (self.end - self.start).days + 1

    @property
    def year(self) -> Period:
        """The fiscal year that contains this period."""
        return Period(self.calendar, "year", self.fiscal_year, 1)

    def shift(self, n: int) -> Period:
        """The period ``n`` steps later (negative: earlier) of the same kind."""
        per_year = 12 // _MONTHS[self.kind]
        idx = self.fiscal_year * per_year + (self.number - 1) + n
        return Period(self.calendar, self.kind, idx // per_year, idx % per_year + 1)

    def previous(self) -> Period:
        return self.shift(-1)

    @property
    def ordinal(self) -> int:
        """This period's ordinal (:meth:`FiscalCalendar.ordinals`): consecutive periods differ by 1."""
        s = self.start
        return (s.year * 12 + s.month - 1 - (self.calendar.first_month - 1)) // _MONTHS[self.kind]

    def same_period_last_year(self) -> Period:
        """The same fiscal period one fiscal year earlier (the period form of :func:`one_year_earlier`)."""
        return Period(self.calendar, self.kind, self.fiscal_year - 1, self.number)

    def last_year_span(self, cutoff: datetime.date) -> tuple[datetime.date, datetime.date]:
        """(first, last day) of last year to compare this period with, its figures cut at ``cutoff``.

        The same period last year, whole when this period is over by ``cutoff``;
        otherwise like for like: from its first day to the same calendar date one
        year before ``cutoff`` (:func:`one_year_earlier`). The span is empty (last
        day before the first) when ``cutoff`` is before this period starts.

        Examples
        --------
        >>> q4 = Period.parse("FY2025-Q4", FiscalCalendar(first_month=7))
        >>> q4.last_year_span(datetime.date(2025, 4, 15))
        (datetime.date(2024, 4, 1), datetime.date(2024, 4, 15))
        """
        ly = self.same_period_last_year()
        return ly.start, ly.end if cutoff >= self.end else min(ly.end, one_year_earlier(cutoff))

    def contains(self, d: datetime.date) -> bool:
        return self.start <= d <= self.end

    def mask(self, dates: pd.Series) -> pd.Series:
        """Boolean mask of ``dates`` (datetime64 Series) falling in this period."""
        start = np.datetime64(self.start, "ns")
        end = np.datetime64(self.end, "ns")
        return (dates >= start) & (dates <= end)

    def quarters_to_date(self) -> list[Period]:
        """Quarters of this period's fiscal year up to and including this one."""
        q_end = self.calendar.period_of(self.end, "quarter")
        return [Period(self.calendar, "quarter", self.fiscal_year, n) for n in range(1, q_end.number + 1)]


def data_start(dates: pd.Series) -> datetime.date | None:
    """First day a data set covers: the earliest of ``dates``; None when there is none.

    Parameters
    ----------
    dates : Series of datetime64
        For reports, ``deals.close_date`` of every deal (any stage, any account manager).

    Returns
    -------
    date or None
    """
    return _date_bound(dates, last=False)


def _date_bound(dates: pd.Series, last: bool) -> datetime.date | None:
    s = pd.Series(dates)
    bound = (s.max() if last else s.min()) if len(s) else pd.NaT
    return None if pd.isna(bound) else pd.Timestamp(bound).date()


def data_end(dates: pd.Series) -> datetime.date | None:
    """Last day a data set covers: the latest of ``dates`` (as :func:`data_start` the earliest); None when there is none."""
    return _date_bound(dates, last=True)


def data_reaches(last_date: datetime.date | None, start: datetime.date) -> bool:
    """Whether data ending on ``last_date`` reaches into a span that begins on ``start``.

    The one rule for a span after the end of the data (the counterpart of
    :func:`data_covers` at its start): a span that begins after the data's last day
    holds nothing the data can show, so its 0.00 is the end of the export, not of the
    sales, and no verdict (a missed quarter) may rest on it, nor a comparison (an
    account manager's ``revenue_last_year`` is n/a). A span the data ends inside is
    reached: it is judged on what the data holds.

    Parameters
    ----------
    last_date : date or None
        Last day of the data (:func:`data_end`); None for an empty data set.
    start : date
        First day of the span.

    Examples
    --------
    >>> data_reaches(datetime.date(2017, 12, 31), datetime.date(2018, 1, 1))
    False
    >>> data_reaches(datetime.date(2025, 2, 10), datetime.date(2025, 1, 1))
    True
    """
    return last_date is not None and last_date >= start


def data_cutoff(cutoff: datetime.date, last_date: datetime.date | None, calendar: FiscalCalendar) -> datetime.date:
    """The forecast's cutoff: ``cutoff``, or the last day of the data's last month when that is earlier.

    The forecast's rule for an export that ends before the report date (the lead's
    decision, session 10): the months after the data's last day are forecast, not
    counted as months of zero actuals. A month the data ends inside is reached, as
    :func:`data_reaches` has it for every span: it counts with what the data holds
    (so data ending on 2025-12-29 reaches a year ending 2025-12-31). Every report, the
    company roll-up and ``figures.json`` read it from one place:
    ``reportkit.reports.context.ReportContext.forecast_cutoff``.

    Parameters
    ----------
    cutoff : date
        The report's cutoff (``min(as_of, period end)``).
    last_date : date or None
        Last day of the data (:func:`data_end`); None for an empty data set (``cutoff``).
    calendar : FiscalCalendar

    Examples
    --------
    >>> cal = FiscalCalendar()
    >>> data_cutoff(datetime.date(2018, 3, 31), datetime.date(2017, 12, 31), cal)
    datetime.date(2017, 12, 31)
    >>> data_cutoff(datetime.date(2025, 3, 31), datetime.date(2025, 2, 10), cal)
    datetime.date(2025, 2, 28)
    >>> data_cutoff(datetime.date(2025, 12, 31), datetime.date(2025, 12, 29), cal)
    datetime.date(2025, 12, 31)
    """
    if last_date is None:
        return cutoff
    return min(cutoff, calendar.period_of(last_date, "month").end)


def data_covers(first_date: datetime.date | None, start: datetime.date) -> bool:
    """Whether data beginning on ``first_date`` covers a span that begins on ``start``.

    The one rule for every comparison with history (the quarterly table's
    ``revenue_last_year``, account status vs the same period last year): the data
    must begin on or before the span's first day. A span the data begins inside or
    after is *not covered*: its revenue is unknown (shown ``n/a``, not 0.00) and no
    growth figure or status may rest on it.

    Parameters
    ----------
    first_date : date or None
        First day of the data (:func:`data_start`); None for an empty data set.
    start : date
        First day of the span compared with (e.g. last year's quarter).

    Examples
    --------
    >>> data_covers(datetime.date(2017, 3, 1), datetime.date(2016, 10, 1))
    False
    >>> data_covers(datetime.date(2023, 1, 1), datetime.date(2024, 10, 1))
    True
    """
    return first_date is not None and first_date <= start
