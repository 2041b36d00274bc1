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
from decimal import Decimal

from .money import round_money

__all__ = ["Currency", "CURRENCIES", "currency_info", "cents_text"]


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


def cents_text(cents: int, currency: str | None) -> str:
    """An amount held in integer hundredths, as text for a message: ``-5,000.00 USD``.

    The figure a reader would type, never the internal cents (``np.int64(-500000)``):
    grouped thousands, the currency's decimals (its ISO 4217 minor units, rounded half
    away from zero by :func:`reportkit.core.money.round_money`) and the ISO code after it,
    so it reads the same in every error message whatever the currency's symbol.

    Parameters
    ----------
    cents : int
        Amount in hundredths of the currency unit (the canonical ``*_cents`` columns).
    currency : str or None
        ISO 4217 code; None or blank shows the amount without a code.

    Examples
    --------
    >>> cents_text(-500000, "USD")
    '-5,000.00 USD'
    >>> cents_text(123456, "JPY"), cents_text(5, None)
    ('1,235 JPY', '0.05')
    """
    info = currency_info(currency)
    shown = round_money(Decimal(int(cents)) / 100, info.minor_units)
    body = f"{shown:,.{info.minor_units}f}"
    return f"{body} {info.code}" if info.code else body
