"""Multi-currency deals: a dated FX rate table and the one conversion, at load.

A source mapping that declares an ``fx_rates`` table (``currency, rate_date, rate``:
units of the **reporting currency** -- the mapping's ``currency`` -- per unit of
``currency``, an exact decimal with at most :data:`RATE_DECIMALS` decimals) may
have deals in other currencies. :func:`convert_deals` converts them once, in the
one load path (:func:`reportkit.data.mapping.load_dataset`), so every report,
roll-up, forecast and the commission engine see the same converted amount. The
deal keeps where it came from in :data:`FX_COLUMNS`.

Rules (``docs/mapping.md``, "Deals in several currencies"; ``docs/commission.md``,
"Plan shapes: multi-currency"):

* **Which rate** (the table's ``conversion``, one declaration per data set):
  ``close_date`` -- the rate in force on the deal's close date, i.e. the latest
  rate dated on or before it (Salesforce's dated exchange rates: "Each rate is in
  effect until either the end of time or the day before the next start date");
  ``month_average`` / ``quarter_average`` -- the mean of the rates dated in the
  close date's calendar month / fiscal quarter, rounded half away from zero to
  :data:`RATE_DECIMALS` decimals (:func:`reportkit.core.money.round_money`).
* **Rounding**: a converted amount is ``original x rate`` rounded to the cent half
  away from zero, **per deal, before any sum** (:func:`reportkit.core.money.rdiv`
  on the exact original micros); the converted deal's ``amount_micros`` is that
  rounded amount, so every total is the sum of the converted deals.
* A deal in a currency without a rate for its date is a data problem naming the
  deal, the currency, the date, the file, row and column, and the fix; all such
  deals are listed at once.

Examples
--------
>>> rates = pd.DataFrame({"currency": ["EUR"], "rate_date": pd.to_datetime(["2013-05-21"]), "rate": ["1.2866"]})
>>> deals = pd.DataFrame({"deal_id": ["D1"], "close_date": pd.to_datetime(["2013-05-21"]),
...                       "amount_cents": [100_000], "amount_micros": [1_000_000_000], "currency": ["EUR"]})
>>> out, problems = convert_deals(deals, rates, "USD", "close_date", FiscalCalendar())
>>> int(out.at[0, "amount_cents"]), out.at[0, "original_currency"], out.at[0, "fx_rate"], problems
(128660, 'EUR', '1.2866', [])
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import pandas as pd

from ..core.errors import DataProblem
from ..core.money import CENT, MICROS_PER_CENT, check_exact_range, rdiv, round_money
from ..core.periods import FiscalCalendar
from ..core.words import counted
from . import model

__all__ = [
    "FX_CONVERSIONS",
    "FX_COLUMNS",
    "RATE_DECIMALS",
    "convert_deals",
    "has_fx",
    "deal_fx",
    "DealConversions",
    "conversion_words",
    "PAYOUT_CONVERSIONS",
    "payout_rates",
    "to_payout_cents",
    "payout_words",
]

FX_CONVERSIONS = ("close_date", "month_average", "quarter_average")
"""How a deal's rate is chosen (the ``fx_rates`` mapping's ``conversion``)."""

PAYOUT_CONVERSIONS = ("period_end", "period_average")
"""How a pay period's payout rate is chosen (a plan's ``payout_conversion``, :func:`payout_rates`)."""

RATE_DECIMALS = 8
"""Decimals an FX rate may have (Xactly's exchange rates take "up to 8 digits after the decimal point")."""

_SCALE = 10**RATE_DECIMALS
_PER_CENT = MICROS_PER_CENT * _SCALE  # micros x rate(1e8) -> cents

FX_COLUMNS = ("original_currency", "original_amount_micros", "fx_rate", "fx_rate_basis")
"""Columns a converted ``deals`` table carries (after the canonical ones and ``amount_micros``).

``original_currency`` (str): the deal's currency in the source; ``original_amount_micros``
(int64): its exact source amount in millionths of that currency; ``fx_rate`` (str): the
exact rate used (units of the reporting currency per unit, ``"1"`` for a deal already in
it); ``fx_rate_basis`` (str or missing): which rate, in words (``rate of 2013-05-21``,
``average of 2 rates dated in 2013-05``)."""


def has_fx(deals: pd.DataFrame | None) -> bool:
    """Whether ``deals`` was converted from several currencies (carries :data:`FX_COLUMNS`)."""
    return deals is not None and all(c in deals.columns for c in FX_COLUMNS)


def _rate_int(text: Any) -> tuple[int | None, str]:
    """``(rate x 1e8, why not)`` of a rate cell: a positive decimal with at most 8 decimals."""
    try:
        d = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        return None, "not a number; write the rate as a decimal such as 1.2866"
    if not d.is_finite() or d <= 0:
        return None, "a rate must be a positive number of reporting-currency units per unit"
    scaled = d.scaleb(RATE_DECIMALS)
    if scaled != scaled.to_integral_value():
        return None, f"more than {RATE_DECIMALS} decimals; round the rate to {RATE_DECIMALS} decimals"
    return int(scaled), ""


def _where(frame: pd.DataFrame, i: int, table: str) -> tuple[str, int | None]:
    """(file, row) of row ``i`` of a frame being loaded (its provenance columns), else the table name."""
    file = str(frame[model.SOURCE_FILE].iloc[i]) if model.SOURCE_FILE in frame.columns else table
    row = int(frame[model.SOURCE_ROW].iloc[i]) if model.SOURCE_ROW in frame.columns else None
    return file, row


def _rate_table(
    fx_rates: pd.DataFrame, reporting: str, cols: dict[str, str]
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], list[DataProblem]]:
    """Per currency: (sorted rate dates as int64 ns, rates x 1e8); and the table's problems."""
    problems: list[DataProblem] = []
    by_cur: dict[str, dict[int, int]] = {}
    first_row: dict[tuple[str, int], int] = {}
    currencies = fx_rates["currency"].tolist()
    dates = fx_rates["rate_date"].to_numpy("datetime64[ns]").view(np.int64)
    valid_date = fx_rates["rate_date"].notna().to_numpy()
    for i, (cur, text) in enumerate(zip(currencies, fx_rates["rate"].tolist())):
        if cur is None or (isinstance(cur, float) and np.isnan(cur)) or not valid_date[i]:
            continue  # a blank currency or date is the schema's problem
        cur = str(cur)
        if text is None or (isinstance(text, float) and np.isnan(text)):
            continue  # a blank rate is the schema's problem
        value, why = _rate_int(text)
        if cur == reporting:  # a row of 1 for the reporting currency (as CRMs list it) is harmless
            if value != _SCALE:
                problems.append(
                    DataProblem(
                        *_where(fx_rates, i, "fx_rates"),
                        cols.get("rate", "rate"),
                        text,
                        f"{cur} is the reporting currency (the mapping's currency): its rate is 1; "
                        "correct the rate or remove the row",
                    )
                )
            continue
        if value is None:
            problems.append(DataProblem(*_where(fx_rates, i, "fx_rates"), cols.get("rate", "rate"), text, f"rate {why}"))
            continue
        day = int(dates[i])
        seen = by_cur.setdefault(cur, {})
        if day in seen and seen[day] != value:
            j = first_row[(cur, day)]
            f, r = _where(fx_rates, j, "fx_rates")
            problems.append(
                DataProblem(
                    *_where(fx_rates, i, "fx_rates"),
                    cols.get("rate", "rate"),
                    text,
                    f"a second, different rate for {cur} on {pd.Timestamp(day):%Y-%m-%d} (also {f} row {r}); keep one",
                )
            )
            continue
        seen[day] = value
        first_row.setdefault((cur, day), i)
    table = {}
    for cur, seen in by_cur.items():
        days = np.array(sorted(seen), dtype=np.int64)
        table[cur] = (days, np.array([seen[d] for d in days.tolist()], dtype=np.int64))
    return table, problems


def _text(rate: int) -> str:
    return format(Decimal(rate).scaleb(-RATE_DECIMALS).normalize(), "f")


def _day(ns: int) -> str:
    return f"{pd.Timestamp(int(ns)):%Y-%m-%d}"


def _rates_at_close(days_t: np.ndarray, rates_t: np.ndarray, close: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rate in force on each close date (latest dated on or before it) and its words; 0 / None where there is none."""
    k = np.searchsorted(days_t, close, side="right") - 1
    ok = k >= 0
    at = np.where(ok, k, 0)
    rate = np.where(ok, rates_t[at], 0)
    words = np.array([f"rate of {_day(d)}" for d in days_t.tolist()], dtype=object)
    return rate, np.where(ok, words[at], None)


def _average_rates(
    days_t: np.ndarray, rates_t: np.ndarray, close: np.ndarray, calendar: FiscalCalendar, kind: str
) -> tuple[np.ndarray, np.ndarray]:
    """Mean of the rates dated in each close date's month / fiscal quarter, rounded half away
    from zero to :data:`RATE_DECIMALS` decimals, and its words; 0 / None where the period has no rate."""
    key_t = calendar.ordinals(days_t, kind)
    keys = np.unique(key_t)
    mean = np.zeros(len(keys), dtype=np.int64)
    words = np.empty(len(keys), dtype=object)
    for n, key in enumerate(keys.tolist()):
        sel = rates_t[key_t == key].tolist()
        # round_money on the exact mean (the one rounding rule), back to x 1e8
        mean[n] = int(round_money(Decimal(sum(sel)) / len(sel) / _SCALE, places=RATE_DECIMALS).scaleb(RATE_DECIMALS))
        span = calendar.period_of_ordinal(key, kind)
        label = f"{span.start:%Y-%m}" if kind == "month" else span.label
        words[n] = f"average of {counted(len(sel), 'rate')} dated in {label}"
    key_d = calendar.ordinals(close, kind)
    at = np.clip(np.searchsorted(keys, key_d), 0, len(keys) - 1)
    ok = keys[at] == key_d
    return np.where(ok, mean[at], 0), np.where(ok, words[at], None)


def _convert_cents(micros: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """``micros x rate / 1e8`` in cents, rounded half away from zero per deal (exact).

    Raises
    ------
    DataError
        A converted amount beyond the exact range (:func:`reportkit.core.money.check_exact_range`).
    """
    if not len(micros):
        return np.zeros(0, dtype=np.int64)
    # a whole number of cents (the usual source amount) is cents x rate / 1e8: smaller products
    whole = micros % MICROS_PER_CENT == 0
    base = np.where(whole, micros // MICROS_PER_CENT, micros)
    den = np.where(whole, _SCALE, _PER_CENT)
    fits = np.abs(base).astype(np.float64) * rate.astype(np.float64) < 2.0**61  # int64 product, with margin
    out = np.zeros(len(micros), dtype=np.int64)
    out[fits] = rdiv(base[fits] * rate[fits], den[fits])
    if not fits.all():  # beyond int64: Python integers, the same rule
        big = [rdiv(int(b) * int(r), int(d)) for b, r, d in zip(base[~fits].tolist(), rate[~fits].tolist(), den[~fits].tolist())]
        check_exact_range(np.array([float(c) * MICROS_PER_CENT for c in big]), "deals converted with fx_rates")
        out[~fits] = big
    return out


def convert_deals(
    deals: pd.DataFrame,
    fx_rates: pd.DataFrame,
    reporting: str,
    conversion: str,
    calendar: FiscalCalendar,
    *,
    source_columns: dict[str, dict[str, str]] | None = None,
) -> tuple[pd.DataFrame, list[DataProblem]]:
    """Convert every deal to the reporting currency; the one conversion (called at load).

    Parameters
    ----------
    deals : DataFrame
        Canonical deals (``deal_id, close_date, amount_cents, currency``; ``amount_micros``
        when the source had it), optionally with provenance columns for messages.
    fx_rates : DataFrame
        ``currency`` (ISO 4217), ``rate_date`` (datetime64), ``rate`` (text: units of
        ``reporting`` per unit of ``currency``, positive, at most 8 decimals).
    reporting : str
        The reporting currency (the mapping's ``currency``).
    conversion : {"close_date", "month_average", "quarter_average"}
        Which rate a deal takes (module docstring).
    calendar : FiscalCalendar
        For ``quarter_average`` (fiscal quarters).
    source_columns : dict, optional
        table -> {canonical -> source column}, for the messages.

    Returns
    -------
    (DataFrame, list of DataProblem)
        ``deals`` in ``reporting``: ``amount_cents`` and ``amount_micros`` the converted
        amount rounded to the cent per deal, ``currency`` = ``reporting``, plus
        :data:`FX_COLUMNS`; and every problem (bad rate rows; deals without a rate for
        their date, naming deal, currency and date). Deals already in ``reporting`` keep
        their amounts (rate ``1``). A deal's other money columns
        (:data:`reportkit.data.model.MEASURE_COLUMNS`, e.g. ``margin_cents``) are converted
        at the same rate and rounded the same way, their source value kept as
        ``original_<column>``.
    """
    cols = source_columns or {}
    table, problems = _rate_table(fx_rates, reporting, cols.get("fx_rates", {}))
    out = deals.copy()
    micros = model.deal_micros(deals) if len(deals) else np.zeros(0, dtype=np.int64)
    known = deals["currency"].notna().to_numpy()  # a blank currency stays blank: the schema names it
    codes, names = pd.factorize(deals["currency"].astype("str").where(known, reporting))
    close = deals["close_date"].to_numpy("datetime64[ns]").view(np.int64)
    cents = deals["amount_cents"].to_numpy(np.int64).copy()
    new_micros = micros.copy()
    rate_text = np.full(len(deals), "1", dtype=object)
    basis = np.full(len(deals), None, dtype=object)
    dated = deals["close_date"].notna().to_numpy()
    # the deal's other money columns (a margin a measure sums) convert at the deal's own rate
    money_cols = {c: deals[c].to_numpy(np.int64).copy() for c in model.MEASURE_COLUMNS if c in deals.columns}
    for k, c in sorted(enumerate(names.tolist()), key=lambda kc: kc[1]):
        if c == reporting:
            continue
        rows = np.flatnonzero((codes == k) & dated)
        if c in table:
            days_t, rates_t = table[c]
            if conversion == "close_date":
                rate, words = _rates_at_close(days_t, rates_t, close[rows])
            else:
                kind = "month" if conversion == "month_average" else "quarter"
                rate, words = _average_rates(days_t, rates_t, close[rows], calendar, kind)
        else:
            rate, words = np.zeros(len(rows), dtype=np.int64), np.full(len(rows), None, dtype=object)
        found = rate > 0
        converted = _convert_cents(micros[rows[found]], rate[found])
        cents[rows[found]] = converted
        new_micros[rows[found]] = converted * MICROS_PER_CENT
        for values in money_cols.values():
            values[rows[found]] = _convert_cents(values[rows[found]] * MICROS_PER_CENT, rate[found])
        distinct, inverse = np.unique(rate[found], return_inverse=True)
        rate_text[rows[found]] = np.array([_text(r) for r in distinct.tolist()], dtype=object)[inverse]
        basis[rows] = words
        for i in rows[~found].tolist():
            problems.append(_no_rate(deals, i, c, conversion, c in table, calendar, cols.get("deals", {}), reporting))
    out["amount_cents"] = cents
    for col, values in money_cols.items():
        out[f"original_{col}"] = deals[col].to_numpy(np.int64)
        out[col] = values
    out[model.AMOUNT_MICROS] = new_micros
    out["currency"] = pd.Series(np.where(known, reporting, None), index=out.index, dtype="str")
    out["original_currency"] = pd.Series(np.asarray(names, dtype=object)[codes], index=out.index, dtype="str")
    out["original_amount_micros"] = micros
    out["fx_rate"] = pd.Series(rate_text, index=out.index, dtype="str")
    out["fx_rate_basis"] = pd.Series(basis, index=out.index, dtype="str").where(pd.notna(basis), None)
    return out, problems


def _no_rate(
    deals: pd.DataFrame,
    i: int,
    cur: str,
    conversion: str,
    listed: bool,
    calendar: FiscalCalendar,
    cols: dict[str, str],
    reporting: str,
) -> DataProblem:
    """The problem of deal ``i``: its currency has no rate for its close date."""
    deal = str(deals["deal_id"].iloc[i])
    day = pd.Timestamp(deals["close_date"].iloc[i]).date()
    if not listed:
        why = f"fx_rates has no rate for {cur} at all"
        fix = f"add {cur} rows to fx_rates (units of {reporting} per {cur}), or filter these deals out"
    elif conversion == "close_date":
        why = f"fx_rates has no {cur} rate dated on or before {day.isoformat()} (conversion: close_date)"
        fix = f"add a {cur} rate dated on or before {day.isoformat()}"
    else:
        kind = "month" if conversion == "month_average" else "quarter"
        span = calendar.period_of(day, kind)
        label = f"{span.start:%Y-%m}" if kind == "month" else span.label
        why = f"fx_rates has no {cur} rate dated in {label} ({span.start.isoformat()} .. {span.end.isoformat()}; conversion: {conversion})"
        fix = f"add the {cur} rates of {label}"
    return DataProblem(
        *_where(deals, i, "deals"),
        cols.get("currency", "currency"),
        cur,
        f"deal {deal!r} in {cur} closed {day.isoformat()}: {why}; {fix}",
    )


class DealConversions:
    """Look up deals' conversions by id, built once per ``deals`` table (a batch's statements share it).

    ``DealConversions(deals)(deal_ids)`` is :func:`deal_fx`; building it indexes the deal ids
    once (a hash of every id), so many statements over one data set pay that once.
    """

    COLUMNS = ("original_currency", "original_amount", "fx_rate", "converted_amount", "fx_rate_basis")

    def __init__(self, deals: pd.DataFrame) -> None:
        self.deals = deals
        self._index = pd.Index(deals["deal_id"].astype("str").to_numpy(dtype=object))

    def __call__(self, deal_ids: Any) -> pd.DataFrame:
        ids = [None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in deal_ids]
        d = self.deals
        pos = self._index.get_indexer(pd.Index([i if i is not None else "" for i in ids], dtype=object))
        if not self._index.is_unique:  # a data set built by hand: the first row of an id
            first = pd.Series(np.arange(len(d)), index=self._index)
            first = first[~first.index.duplicated()]
            pos = np.array([int(first.get(i, -1)) if i is not None else -1 for i in ids], dtype=np.int64)
        rows = []
        for i, k in zip(ids, pos.tolist()):
            if i is None or k < 0:
                rows.append((None, None, None, None, None))
                continue
            m = int(d["original_amount_micros"].iat[k])
            original = Decimal(m).scaleb(-6)
            original = original.quantize(CENT) if m % MICROS_PER_CENT == 0 else original.normalize()
            basis = d["fx_rate_basis"].iat[k]
            rows.append(
                (
                    str(d["original_currency"].iat[k]),
                    original,
                    Decimal(str(d["fx_rate"].iat[k])),
                    Decimal(int(d["amount_cents"].iat[k])).scaleb(-2),
                    None if basis is None or (isinstance(basis, float) and np.isnan(basis)) else str(basis),
                )
            )
        return pd.DataFrame(rows, columns=list(self.COLUMNS), dtype=object)


def deal_fx(deals: pd.DataFrame, deal_ids: Any) -> pd.DataFrame:
    """The conversion of each deal in ``deal_ids``: what a statement shows beside its lines.

    Parameters
    ----------
    deals : DataFrame
        A converted ``deals`` table (:func:`has_fx`).
    deal_ids : sequence of str or None
        One per statement line (``None`` for a line without a deal).

    Returns
    -------
    DataFrame
        One row per id, same order: ``original_currency`` (str), ``original_amount``
        (``Decimal`` in that currency: the exact source amount, at least two decimals),
        ``fx_rate`` (``Decimal``, units of the reporting currency per unit),
        ``converted_amount`` (``Decimal`` 0.01 in the reporting currency: the deal's
        amount, ``original x rate`` rounded half away from zero), ``fx_rate_basis``
        (str: ``rate of 2013-05-21``). All ``None`` for a line without a deal. Many
        look-ups over one table: :class:`DealConversions`.
    """
    return DealConversions(deals)(deal_ids)


def conversion_words(
    currency: str, original: Decimal, rate: Decimal, converted: Decimal, reporting: str, basis: str | None
) -> str:
    """A deal's conversion in words, for a statement line: ``1,000.00 EUR x 1.2866 = 1,286.60 USD (rate of 2013-05-21)``.

    Examples
    --------
    >>> conversion_words("EUR", Decimal("1000.00"), Decimal("1.2866"), Decimal("1286.60"), "USD", "rate of 2013-05-21")
    '1,000.00 EUR x 1.2866 = 1,286.60 USD (rate of 2013-05-21)'
    >>> conversion_words("USD", Decimal("5.00"), Decimal("1"), Decimal("5.00"), "USD", None)
    ''
    """
    if currency == reporting:
        return ""
    tail = f" ({basis})" if basis else ""
    return f"{original:,} {currency} x {rate} = {converted:,} {reporting}{tail}"


# -- fx2 group (issue #13 item 10): a payout currency other than the reporting currency


def payout_rates(
    fx_rates: pd.DataFrame | None,
    reporting: str,
    currency: str,
    periods: list,
    conversion: str,
    calendar: FiscalCalendar,
) -> tuple[list[int], list[str | None]]:
    """The rate each pay period's payout is converted at, from the data set's FX table.

    Parameters
    ----------
    fx_rates : DataFrame or None
        The data set's ``fx_rates`` (``currency, rate_date, rate``: units of ``reporting``
        per unit of ``currency``); None: the data set has none (no rate anywhere).
    reporting, currency : str
        The reporting currency (the plan computes in it) and the payout currency.
    periods : list of Period
        The pay periods (all of one kind, ``month`` or ``quarter``).
    conversion : {"period_end", "period_average"}
        ``period_end``: the rate in force on the period's last day (the latest dated on
        or before it, as ``close_date`` for a deal); ``period_average``: the mean of the
        rates dated in the pay period, rounded half away from zero to :data:`RATE_DECIMALS`
        decimals (as ``month_average`` / ``quarter_average`` for a deal).
    calendar : FiscalCalendar

    Returns
    -------
    (list of int, list of str or None)
        Per period the rate x 1e8 (0 where there is none) and which rate in words
        (``rate of 2013-06-28``, ``average of 2 rates dated in FY2013-Q2``).
    """
    if currency == reporting:
        return [_SCALE] * len(periods), [None] * len(periods)
    table = _rate_table(fx_rates, reporting, {})[0] if fx_rates is not None and len(fx_rates) else {}
    if currency not in table or not periods:
        return [0] * len(periods), [None] * len(periods)
    days_t, rates_t = table[currency]
    if conversion == "period_end":
        at = np.array([pd.Timestamp(p.end).value for p in periods], dtype=np.int64)
        rate, words = _rates_at_close(days_t, rates_t, at)
    else:
        at = np.array([pd.Timestamp(p.start).value for p in periods], dtype=np.int64)
        rate, words = _average_rates(days_t, rates_t, at, calendar, periods[0].kind)
    return [int(r) for r in rate.tolist()], list(words)


def to_payout_cents(cents, rate):
    """A reporting-currency amount in the payout currency: ``cents / rate``, half away from zero.

    ``rate`` is x 1e8, units of the reporting currency per unit of the payout currency
    (the FX table's direction), so the amount is divided by it and rounded to the cent
    once (:func:`reportkit.core.money.rdiv`, the one rounding rule). ``cents`` and
    ``rate`` are ints, or int64 arrays of one shape (rates > 0); exact either way (an
    amount too large for an int64 product goes through Python integers).

    Examples
    --------
    >>> to_payout_cents(323_146, 109_500_000)  # 3,231.46 USD at 1.0950 USD per EUR
    295111
    """
    if isinstance(cents, (int, np.integer)):
        return int(rdiv(int(cents) * _SCALE, int(rate)))
    cents, rate = np.asarray(cents, dtype=np.int64), np.asarray(rate, dtype=np.int64)
    fits = np.abs(cents) < 2**63 // _SCALE
    out = np.zeros(cents.shape, dtype=np.int64)
    out[fits] = rdiv(cents[fits] * _SCALE, rate[fits])
    out[~fits] = [rdiv(int(c) * _SCALE, int(r)) for c, r in zip(cents[~fits].tolist(), rate[~fits].tolist())]
    return out


def payout_words(cents: int, reporting: str, rate: int, converted: int, currency: str, basis: str | None) -> str:
    """A period's payout conversion in words: ``3,231.46 USD / 1.095 USD per EUR = 2,951.11 EUR (rate of 2013-06-28)``.

    Examples
    --------
    >>> payout_words(323_146, "USD", 109_500_000, 295_111, "EUR", "rate of 2013-06-28")
    '3,231.46 USD / 1.095 USD per EUR = 2,951.11 EUR (rate of 2013-06-28)'
    """
    tail = f" ({basis})" if basis else ""
    amount, paid = Decimal(int(cents)).scaleb(-2), Decimal(int(converted)).scaleb(-2)
    return f"{amount:,.2f} {reporting} / {_text(rate)} {reporting} per {currency} = {paid:,.2f} {currency}{tail}"
