"""Exact money: the one rounding rule reportkit uses.

Rules (also in the README):

* Canonical tables hold money as ``int64`` **cents** (minor units).
* Source text is parsed straight to :class:`~decimal.Decimal` (never through a
  float) and converted to cents rounding **half away from zero**
  (``ROUND_HALF_UP`` on the magnitude, which is what Python's decimal module
  does for negative numbers too: ``-0.005 -> -0.01``).
* Report values are ``Decimal`` quantized to ``0.01``; a statement's total is
  the sum of its already-rounded lines.
* When an amount is split (a 60/40 split credit), :func:`allocate` gives the
  parts in whole cents that add up exactly to the whole (largest remainder).
* Integer arithmetic on cents (the plan engine: ``credit_cents x rate_ppm /
  1e6``, quota proration ``quota x days / period days``) rounds with
  :func:`rdiv`, the same half-away-from-zero rule on integers and int64 arrays:
  ``rdiv(c * r_ppm, 10**6) == to_cents(Decimal(c) / 100 * r_ppm / 10**6)`` exactly.
* Deals also keep their exact amount in micros (millionths); a revenue total
  is the exact sum of micros rounded to the cent once, by :func:`micros_to_cents`
  (see "Exact source amounts" below).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import numpy as np

from .errors import DataError

__all__ = [
    "CENT",
    "to_cents",
    "cents_to_money",
    "round_money",
    "allocate",
    "money_sum",
    "rdiv",
    "rdiv_inplace",
    "mul_ppm",
    "MICROS_PER_CENT",
    "MICROS_PER_UNIT",
    "MAX_TOTAL_MICROS",
    "to_micros",
    "micros_to_cents",
    "exact_total_cents",
    "check_exact_range",
    "reduce_decimal_array",
    "decimal_array",
]

CENT = Decimal("0.01")


def round_money(value: Decimal | int | str, places: int = 2) -> Decimal:
    """Round to the cent (or to ``places`` decimals), half away from zero.

    ``places`` is for display in a currency whose minor unit is not the cent
    (:func:`reportkit.core.currency.currency_info`: JPY 0, BHD 3).

    >>> round_money(Decimal("2.345")), round_money(Decimal("-2.345"))
    (Decimal('2.35'), Decimal('-2.35'))
    >>> round_money(Decimal("1234.50"), places=0)
    Decimal('1235')
    """
    return Decimal(value).quantize(CENT if places == 2 else Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def to_cents(value: Decimal | int | str) -> int:
    """Convert an amount in currency units to integer cents (half away from zero).

    Raises
    ------
    decimal.InvalidOperation
        If ``value`` is not a finite number (callers wrap this in a DataError
        naming the file, row and column).
    """
    d = Decimal(value)
    if not d.is_finite():
        raise InvalidOperation(f"not a finite amount: {value!r}")
    return int((d * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def cents_to_money(cents: int) -> Decimal:
    """Integer cents to a ``Decimal`` with two places: ``123456 -> Decimal('1234.56')``."""
    return (Decimal(int(cents)) / 100).quantize(CENT)


def money_sum(values: Iterable[Decimal]) -> Decimal:
    """Sum of already-rounded money values (a statement total)."""
    return sum((Decimal(v) for v in values), Decimal("0.00")).quantize(CENT)


def allocate(total_cents: int, weights: Sequence[Decimal | int | str]) -> list[int]:
    """Split ``total_cents`` by ``weights`` into whole cents that sum to the total.

    Largest-remainder method: each part gets the floor of its exact share, then the
    leftover cents go one each to the parts with the largest remainders (ties to the
    earlier part). Works for negative totals (the split of a refund mirrors the sale).

    >>> allocate(1001, ["0.6", "0.4"])
    [601, 400]
    >>> allocate(100, [1, 1, 1])
    [34, 33, 33]
    """
    ws = [Decimal(w) for w in weights]
    if not ws:
        raise ValueError("allocate needs at least one weight")
    if any(w < 0 for w in ws):
        raise ValueError(f"weights must be non-negative, got {[str(w) for w in ws]}")
    wsum = sum(ws)
    if wsum == 0:
        raise ValueError("weights sum to zero")
    sign = -1 if total_cents < 0 else 1
    mag = abs(int(total_cents))
    exact = [Decimal(mag) * w / wsum for w in ws]
    floors = [int(e) for e in exact]
    left = mag - sum(floors)
    order = sorted(range(len(ws)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [sign * f for f in floors]


def rdiv(num, den):
    """``num / den`` rounded to an integer half away from zero, exactly (integers only).

    The integer form of :func:`round_money` / :func:`to_cents` (the one rounding
    rule), for cents times a rate in parts per million and for prorations.

    Parameters
    ----------
    num : int or numpy int64 array
    den : int or int64 array, > 0

    Returns
    -------
    int, or int64 array of the shape of ``num``

    Examples
    --------
    >>> rdiv(5, 2), rdiv(-5, 2), rdiv(7, 3)
    (3, -3, 2)
    """
    if isinstance(num, (int, np.integer)) and isinstance(den, (int, np.integer)):
        num, den = int(num), int(den)
        q = (2 * abs(num) + den) // (2 * den)
        return q if num >= 0 else -q
    num = np.asarray(num, dtype=np.int64)
    if isinstance(den, (int, np.integer)):
        return rdiv_inplace(num.copy(), int(den))
    a = np.abs(num)
    q = (2 * a + den) // (2 * den)
    return np.where(num < 0, -q, q)


def rdiv_inplace(num: np.ndarray, den: int) -> np.ndarray:
    """:func:`rdiv` of an int64 array by a positive int, overwriting ``num`` (a temporary).

    One floor division: ``(num + h) // den`` with ``h = den // 2``, minus 1 for a
    negative ``num`` when ``den`` is even, rounds half away from zero (an exact half
    only exists for even ``den``; for odd ``den``, ``den - 1 - h == h`` makes the same
    expression round toward the nearer side).
    """
    neg = num < 0 if den % 2 == 0 else None
    num += den // 2
    if neg is not None:
        num -= neg
    np.floor_divide(num, den, out=num)
    return num


def mul_ppm(values: np.ndarray, factor_ppm: np.ndarray) -> np.ndarray:
    """``values x factor_ppm / 1e6`` rounded half away from zero, exactly, without int64 overflow.

    For amounts (cents or micros) times an exact fraction in parts per million (a
    crediting factor by deal type: ``0.5`` is 500,000). ``|values|`` is split into
    whole millions and a remainder, so no product exceeds ``|values| / 1e6 x factor``
    or ``1e6 x factor`` (int64 holds both for factors up to 10 and any amount the
    engine accepts). Equals :func:`rdiv` ``(values * factor_ppm, 10**6)``.

    Examples
    --------
    >>> mul_ppm(np.array([1_000_001, -3, 5]), np.array([500_000, 500_000, 100_000])).tolist()
    [500001, -2, 1]
    """
    v = np.asarray(values, dtype=np.int64)
    f = np.asarray(factor_ppm, dtype=np.int64)
    q, r = np.divmod(np.abs(v), 1_000_000)
    mag = q * f + rdiv(r * f, 1_000_000)
    return np.where(v < 0, -mag, mag)


# ---------------------------------------------------------------------------
# Exact source amounts: micros, summed exactly, rounded to the cent once
# ---------------------------------------------------------------------------
#
# Canonical ``deals`` carry each amount twice: ``amount_cents`` (rounded to the
# cent per line: the basis of a commission line and of a deal shown on its own)
# and ``amount_micros`` (the source amount in millionths of the currency unit,
# exact for every source with at most 6 decimals; more decimals are rounded
# half away from zero at the sixth). Every revenue *aggregate* (per account
# manager and period, team, company, YTD, attainment numerators, forecast
# actuals) is the exact sum of micros rounded to the cent once, by
# :func:`micros_to_cents`. For sources with at most 2 decimals
# ``amount_micros == amount_cents * 10_000``, so both ways give the same cents.

MICROS_PER_CENT = 10_000
MICROS_PER_UNIT = 1_000_000
#: Largest total magnitude (in micros) of the credited amounts of one dataset:
#: keeps every partial sum (an account manager, a team, the company) inside int64.
MAX_TOTAL_MICROS = 2**62


def to_micros(value: Decimal | int | str) -> int:
    """Amount in currency units -> integer millionths, half away from zero.

    >>> to_micros("22.368"), to_micros("-0.0000005"), to_micros("1.23456749")
    (22368000, -1, 1234567)

    Raises
    ------
    decimal.InvalidOperation
        If ``value`` is not a finite number.
    """
    d = Decimal(value)
    if not d.is_finite():
        raise InvalidOperation(f"not a finite amount: {value!r}")
    return int((d * MICROS_PER_UNIT).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def micros_to_cents(micros):
    """Exact amount(s) in micros -> cents, rounded half away from zero: the one rounding of an aggregate.

    Parameters
    ----------
    micros : int or numpy array of int64
        A sum of exact amounts (``amount_micros`` / ``credit_micros``).

    Returns
    -------
    int or numpy.ndarray of int64
        Cents; ``micros_to_cents(65_705_561_234) == 6_570_556`` (65,705.561234 -> 65,705.56).

    >>> micros_to_cents(5_000), micros_to_cents(-5_000), micros_to_cents(4_999)
    (1, -1, 0)
    """
    return rdiv(micros, MICROS_PER_CENT)  # the one integer rounding rule


def exact_total_cents(micros) -> int:
    """Cents of the exact sum of ``micros`` (an iterable or int64 array), rounded once."""
    if isinstance(micros, np.ndarray):
        return micros_to_cents(int(micros.sum(dtype=np.int64)))
    return micros_to_cents(sum(int(m) for m in micros))


def check_exact_range(micros: np.ndarray, what: str) -> None:
    """Refuse amounts whose total magnitude could overflow an exact int64 sum.

    Raises
    ------
    DataError
        When the magnitudes of ``micros`` total more than :data:`MAX_TOTAL_MICROS`
        (4,611,686,018,427 currency units); names ``what`` and the fix.
    """
    total = float(np.abs(micros, dtype=np.float64).sum()) if len(micros) else 0.0  # one float temporary
    if total >= MAX_TOTAL_MICROS * (1 - 1e-9):
        raise DataError(
            f"{what}: amounts total {total / MICROS_PER_UNIT:,.0f} in magnitude; exact sums hold "
            f"less than {MAX_TOTAL_MICROS // MICROS_PER_UNIT:,} currency units",
            hint="check the amount column's unit (scale:) and separators; a typo such as a missing "
            "decimal point multiplies an amount by 100 or more",
        )


# ---------------------------------------------------------------------------
# Decimal columns in a report's pickle
# ---------------------------------------------------------------------------


def reduce_decimal_array(values: np.ndarray) -> tuple[Any, tuple[str, tuple[int, ...], str]] | None:
    """A pickle's reduce value for an object array of ``Decimal`` only: its text, rebuilt by :func:`decimal_array`.

    The report pickle's writer (:func:`reportkit.run.plan.write_pickle`) gives it every
    NumPy array. Pickled as it is, an object array of ``Decimal`` is one reduce per value
    (its class, its text in a 1-tuple, ``Decimal(text)``), and the pickler's memo keeps each
    value, its text and its tuple until the whole object is written: the company report's
    accounts at risk (about 140,000 ``Decimal`` at 800,000 deals) held the batch process
    about 50 MB higher while its pickle was written (``docs/batch.md``, "Session 18"). As one
    string of every value's text the memo holds one entry, and the kernel rebuilds the same
    values: ``Decimal(str(d))`` is ``d`` exactly (digits, exponent, sign, NaN and infinities).

    Parameters
    ----------
    values : numpy.ndarray
        Any array.

    Returns
    -------
    tuple or None
        ``(decimal_array, (text, shape, order))`` when ``values`` is a non-empty object array
        holding only ``Decimal`` (exactly that type); None otherwise (pickled as NumPy does).
    """
    if values.dtype != object or not values.size or not all(type(v) is Decimal for v in values.flat):
        return None
    order = "F" if values.flags.f_contiguous and not values.flags.c_contiguous else "C"
    return decimal_array, (" ".join(map(str, values.ravel(order=order))), values.shape, order)


def decimal_array(text: str, shape: tuple[int, ...], order: str) -> np.ndarray:
    """The object array of ``Decimal`` that :func:`reduce_decimal_array` wrote as ``text`` (unpickling calls it).

    Parameters
    ----------
    text : str
        Each value's ``str``, separated by single spaces, in ``order``.
    shape : tuple of int
    order : {"C", "F"}

    Returns
    -------
    numpy.ndarray
        dtype ``object``, ``shape``, one new ``Decimal`` per value.
    """
    size = int(np.prod(shape))
    return np.fromiter(map(Decimal, text.split(" ")), dtype=object, count=size).reshape(shape, order=order)
