"""Currencies as a reader sees them: symbol and minor units, one table.

Every renderer (:mod:`reportkit.render.notebook` for notebooks and HTML,
:mod:`reportkit.render.excel` for number formats, :mod:`reportkit.render.charts` for axis
ticks) reads :func:`currency_info`; none keeps its own list.

Source of the minor units: ISO 4217, the "minor unit" (exponent) column of the
list of currency codes maintained by SIX for ISO (table A.1): USD, EUR... 2,
JPY, KRW... 0, BHD, KWD... 3. Symbols are the usual English-locale ones (the
CLDR ``en`` symbols); a code without a symbol here is shown by its code
(``CHF 1,234.50``).

Display only: canonical tables hold every amount as integer hundredths
(``*_cents``, :mod:`reportkit.core.money`) whatever the currency; a currency's minor
units decide how many decimals a report *shows*, rounded half away from zero by
:func:`reportkit.core.money.round_money`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Currency", "CURRENCIES", "currency_info"]


@dataclass(frozen=True)
class Currency:
    """One currency: ISO 4217 ``code``, display ``symbol`` (None: show the code) and ``minor_units``."""

    code: str
    symbol: str | None
    minor_units: int  # ISO 4217 exponent: decimals of the minor unit (cents: 2, yen: 0)


CURRENCIES: dict[str, Currency] = {
    c.code: c
    for c in (
        Currency("USD", "$", 2),
        Currency("EUR", "€", 2),
        Currency("GBP", "£", 2),
        Currency("JPY", "¥", 0),
        Currency("AUD", "A$", 2),
        Currency("CAD", "C$", 2),
        Currency("CHF", None, 2),
        Currency("KRW", "₩", 0),
        Currency("ISK", None, 0),
        Currency("CLP", None, 0),
        Currency("VND", "₫", 0),
        Currency("BHD", None, 3),
        Currency("KWD", None, 3),
        Currency("JOD", None, 3),
        Currency("OMR", None, 3),
        Currency("TND", None, 3),
    )
}
"""Known currencies by ISO 4217 code."""


def currency_info(code: str | None) -> Currency:
    """The :class:`Currency` of ``code`` (case-insensitive).

    A code not in :data:`CURRENCIES` is shown by its code with 2 decimals (the
    ISO 4217 minor unit of most currencies).

    >>> currency_info("usd")
    Currency(code='USD', symbol='$', minor_units=2)
    >>> currency_info("JPY").minor_units, currency_info("SEK").symbol
    (0, None)
    """
    key = (code or "").strip().upper()
    return CURRENCIES.get(key) or Currency(key, None, 2)
