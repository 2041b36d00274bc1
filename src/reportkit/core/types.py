"""One type per kind of value read from YAML: money, rates and fractions, ids.

Params (:mod:`reportkit.config.params`), plans (:mod:`reportkit.config.plans`)
and mappings (:mod:`reportkit.data.mapping`) annotate their fields with these
types, so the same text is accepted or refused the same way in all three files,
with the same message. The loaders add the file and the key path
(:func:`reportkit.core.yaml_input.format_validation_errors`).

=============  ======================  ==============================================
type           held as                 accepted from YAML
=============  ======================  ==============================================
``Money``      ``Decimal``             quoted text or an int, at most 2 decimals
                                       (whole cents); a YAML float is refused
                                       (``0.1`` is not exact): quote it.
``Rate``       ``Decimal`` fraction    text, int or float (read through its shortest
``Fraction``   ``Decimal`` fraction    repr: ``0.07`` -> ``Decimal('0.07')``), at most
                                       6 decimals (the engine holds fractions in
                                       parts per million, :data:`PPM`); ``7%`` is
                                       refused: write ``0.07``.
``FloatFraction`` ``float``            as ``Fraction``, held as a float where the value
                                       is a notebook parameter (params'
                                       ``attainment_at_least``, ``miss_below``).
``Id``         ``str``                 text only; a YAML number is refused: quote it
                                       (``00731`` unquoted is read as ``731``).
``TimeZone``   ``str``                 an IANA name spelt as the database does
                                       (``Europe/Berlin``, ``UTC``), with a
                                       did-you-mean (:func:`check_timezone`).
``CurrencyCode`` ``str``               three capital letters (ISO 4217: ``USD``,
                                       ``GBP``); ``gbp`` is refused naming ``GBP``
                                       (:func:`check_currency_code`).
=============  ======================  ==============================================

Attainment is a fraction (1.0 == 100 %). Bounds (``ge=0``, ``le=1``) stay on
each field, since they belong to the field, not to the kind of value.

Imports nothing else of reportkit (layer ``core``).

>>> from pydantic import TypeAdapter
>>> TypeAdapter(Money).validate_python("1250.50")
Decimal('1250.50')
>>> TypeAdapter(Rate).validate_python(0.07)
Decimal('0.07')
"""

from __future__ import annotations

import calendar
import functools
import re
import zoneinfo
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, ValidationInfo

from .errors import did_you_mean
from .money import round_money

__all__ = [
    "PPM",
    "impossible_date",
    "Money",
    "Rate",
    "Fraction",
    "FloatFraction",
    "Id",
    "TimeZone",
    "CurrencyCode",
    "CarryNegative",
    "to_money",
    "to_fraction",
    "to_id",
    "as_text",
    "check_timezone",
    "check_currency_code",
    "PERIOD_LABEL",
    "PERIOD_FORMS",
    "label_problem",
]

PPM = 1_000_000
"""Rates and attainment fractions are held by the engine as integers in parts per million."""


def _finite_decimal(v: str | int | float | Decimal, what: str, write: str) -> Decimal:
    """``Decimal`` of the text of ``v``; a ValueError saying ``v`` is not ``what``: write ``write``."""
    try:
        d = Decimal(str(v).strip())
    except (InvalidOperation, ValueError):
        raise ValueError(f"{v!r} is not {what}; write {write}") from None
    if not d.is_finite():
        raise ValueError(f"{v!r} is not a finite {what.split()[-1]}; write {write}")
    return d


def to_money(v: Any) -> Any:
    """Validate a money amount (the rule of :data:`Money`).

    Parameters
    ----------
    v : str, int or Decimal
        An amount in the report currency, e.g. ``"1250.00"`` or ``1250``.

    Returns
    -------
    Decimal
        The amount as written (``"1250.5"`` -> ``Decimal('1250.5')``).

    Raises
    ------
    ValueError
        For a float (not exact: quote it), a bool, text that is not a number, an
        infinite or NaN amount, or more than two decimals (amounts are whole cents).
        The message names the bad value and the fix.

    >>> to_money("0.125")
    Traceback (most recent call last):
    ...
    ValueError: '0.125' has more than two decimals; amounts are whole cents: write e.g. "0.13"
    """
    if isinstance(v, bool):
        raise ValueError(f'{v!r} is not an amount; write an amount as quoted text, e.g. "1250.00"')
    if isinstance(v, float):
        raise ValueError(f'{v!r} is a float (not exact); write money as a quoted string, e.g. "{v!r}"')
    if not isinstance(v, (str, int, Decimal)):
        return v  # pydantic's own Decimal check names the type
    d = _finite_decimal(v, "an amount", 'digits with at most two decimals, e.g. "1250.00"')
    if d != round_money(d):
        raise ValueError(f'{v!r} has more than two decimals; amounts are whole cents: write e.g. "{round_money(d)}"')
    return d


def to_fraction(v: Any) -> Any:
    """Validate a rate or fraction (the rule of :data:`Rate` and :data:`Fraction`).

    Parameters
    ----------
    v : str, int, float or Decimal
        A fraction (1.0 == 100 %), e.g. ``"0.07"`` or ``0.07``. A float is read
        through its shortest repr, which is what the YAML author wrote.

    Returns
    -------
    Decimal

    Raises
    ------
    ValueError
        For a bool, a percent text (``"7%"``: write ``0.07``), text that is not a
        number, an infinite or NaN value, or more than six decimals.

    >>> to_fraction("7%")
    Traceback (most recent call last):
    ...
    ValueError: '7%' is a percent; write the fraction 0.07 (1.0 == 100 %)
    """
    if isinstance(v, bool):
        raise ValueError(f"{v!r} is not a number; write a fraction such as 0.07 (1.0 == 100 %)")
    if isinstance(v, str) and v.strip().endswith("%"):
        try:
            frac = Decimal(v.strip()[:-1].strip()) / 100
            hint = f"the fraction {frac.normalize():f}"
        except (InvalidOperation, ValueError):
            hint = "a fraction such as 0.07"
        raise ValueError(f"{v!r} is a percent; write {hint} (1.0 == 100 %)")
    if not isinstance(v, (int, float, str, Decimal)):
        return v
    d = _finite_decimal(v, "a number", "a fraction such as 0.07 (1.0 == 100 %)")
    if d * PPM != (d * PPM).to_integral_value():
        raise ValueError(f"{v!r} has more than six decimals; fractions are held in parts per million")
    return d


def _to_float_fraction(v: Any) -> Any:
    d = to_fraction(v)
    return float(d) if isinstance(d, Decimal) else d


def as_text(v: Any, what: str) -> Any:
    """Refuse a YAML number or bool where text is meant (ids, and amounts a mapping reads as text).

    Raises
    ------
    ValueError
        ``{what} 731 must be quoted in YAML (ids and codes are text: '00731' is not 731)``.
    """
    if isinstance(v, (bool, int, float)):
        raise ValueError(f"{what} {v!r} must be quoted in YAML (ids and codes are text: '00731' is not 731)")
    return v


@functools.lru_cache(maxsize=1)
def _timezone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_timezone(value: Any) -> str:
    """Validate a time zone name: an IANA name such as ``Europe/Berlin``, or ``UTC``.

    The one rule for every time zone key (params ``timezone``, the report's; a source
    mapping's ``timezone``, the business time zone its timestamps are dated in). The
    name must match the IANA database exactly (case included), so a file means the
    same zone on every machine (a case-insensitive file system would otherwise accept
    ``europe/berlin``).

    Parameters
    ----------
    value : Any
        The name as given (``timezone:`` in YAML or ``-p timezone=...``).

    Returns
    -------
    str
        ``value`` unchanged.

    Raises
    ------
    ValueError
        ``value`` is not a string or not an IANA time zone name; the message gives
        the closest name (did-you-mean) and examples.

    >>> check_timezone("Europe/Berlin")
    'Europe/Berlin'
    """
    fix = "Use an IANA name such as 'Europe/Berlin', 'America/New_York' or 'UTC' (zoneinfo.available_timezones())"
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{value!r} is not a timezone name. {fix}")
    if value == "UTC":
        return value
    names = _timezone_names()
    known = value in names if names else True
    if known:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            known = False
    if not known:
        same_case = [n for n in names if n.lower() == value.lower()]
        hint = f"; did you mean {same_case[0]!r}?" if same_case else did_you_mean(value, sorted(names))
        raise ValueError(f"{value!r} is not an IANA timezone name{hint or '.'} {fix}")
    return value


def check_currency_code(value: Any, key: str = "currency") -> str:
    """Validate a currency code: three capital letters, as ISO 4217 writes them (``USD``, ``GBP``).

    The one rule for every currency key (a source mapping's ``currency``, a plan's
    ``currency`` and ``payout_currency``). Lower case is refused rather than read
    upper: the code is compared with the data's and the FX table's codes as written.

    Parameters
    ----------
    value : Any
        The code as given in YAML.
    key : str, default "currency"
        The key named in the message (:data:`CurrencyCode` passes the field's name).

    Returns
    -------
    str
        The code, exactly as written (it is already valid).

    Raises
    ------
    ValueError
        ``"payout_currency must be a 3-letter ISO 4217 code in capitals, e.g. GBP"``:
        the example is the value in capitals when it has three letters.

    >>> check_currency_code("GBP")
    'GBP'
    """
    if isinstance(value, str) and len(value) == 3 and value.isascii() and value.isalpha() and value.isupper():
        return value
    text = str(value).strip() if value is not None else ""
    example = text.upper() if len(text) == 3 and text.isascii() and text.isalpha() else "USD"
    raise ValueError(f"{key} must be a 3-letter ISO 4217 code in capitals, e.g. {example}")


def to_id(v: Any) -> Any:
    """Validate an id (the rule of :data:`Id`): text only, never a YAML number."""
    return as_text(v, "id")


Money = Annotated[Decimal, BeforeValidator(to_money)]
"""An amount in the report currency: ``Decimal``, whole cents, never from a YAML float."""

Rate = Annotated[Decimal, BeforeValidator(to_fraction)]
"""A commission rate as a ``Decimal`` fraction of revenue (``0.05`` == 5 %)."""

Fraction = Annotated[Decimal, BeforeValidator(to_fraction)]
"""An attainment threshold, weight or share as a ``Decimal`` fraction (1.0 == 100 %)."""

FloatFraction = Annotated[float, BeforeValidator(_to_float_fraction)]
"""A fraction checked like :data:`Fraction`, held as ``float`` (a notebook parameter)."""

Id = Annotated[str, BeforeValidator(to_id)]
"""An id (account manager, deal): text, so ``'00731'`` keeps its zeros."""

TimeZone = Annotated[str, BeforeValidator(check_timezone)]
"""An IANA time zone name (``Europe/Berlin``), checked by :func:`check_timezone`."""


def _currency_code_field(value: Any, info: ValidationInfo) -> str:
    return check_currency_code(value, info.field_name or "currency")


CurrencyCode = Annotated[str, BeforeValidator(_currency_code_field)]
"""An ISO 4217 currency code in capitals (``GBP``), checked by :func:`check_currency_code`."""

CarryNegative = Annotated[
    bool,
    Field(True, description="true: a negative net of a pay period is carried to the next (balance_out), never paid below zero"),
]
"""The ``carry_negative`` key of a plan and of the flat ``commission:`` policy, default ``true``.

``true``: a pay period's negative net (returns, clawbacks) is carried to the next
period (``balance_out`` / ``balance_in``), so a period never pays below zero;
``false``: it stays on the period's statement. The rule itself is the engine's
(:mod:`reportkit.domain.engine.draws`); this is its one key (docs/commission.md).
"""


PERIOD_LABEL = re.compile(r"^FY(?P<fy>\d{4})(?:-(?P<kind>[QM])(?P<n>\d{1,2}))?$")
"""A fiscal period label: ``FY2020`` (year), ``FY2020-Q1`` (quarter), ``FY2020-M01`` (month)."""

_NEAR_LABEL = re.compile(r"^FY\s*(?P<fy>\d{4})\s*[-_ /.]?\s*(?P<kind>[QM])\s*(?P<n>\d{1,2})$", re.IGNORECASE)

PERIOD_FORMS = "FY2020 (a fiscal year), FY2020-Q1 (a quarter) or FY2020-M01 (a month)"
"""The forms of a period label, in words (messages and hints)."""


def label_problem(label: object) -> str | None:
    """What is wrong with a period label, with the forms allowed and the fix; None when it is one.

    The one rule of a label's form (:meth:`reportkit.core.periods.Period.parse` and the params
    ``period`` key use it); which months a label covers needs the fiscal calendar (``Period.parse``).

    Examples
    --------
    >>> label_problem("FY2025-Q4") is None
    True
    >>> print(label_problem("FY2025Q4"))
    'FY2025Q4' is not a fiscal period label; did you mean 'FY2025-Q4'? (write FY2020 (a fiscal year), FY2020-Q1 (a quarter) or FY2020-M01 (a month))
    >>> print(label_problem("FY2025-Q5"))
    'FY2025-Q5': a quarter number must be 1..4 (write FY2020 (a fiscal year), FY2020-Q1 (a quarter) or FY2020-M01 (a month))
    """
    text = str(label).strip()
    m = PERIOD_LABEL.match(text)
    if not m:
        near = _NEAR_LABEL.match(text)
        hint = ""
        if near:
            kind, n = near["kind"].upper(), int(near["n"])
            fixed = f"FY{near['fy']}-{kind}{n:02d}" if kind == "M" else f"FY{near['fy']}-Q{n}"
            hint = f"; did you mean {fixed!r}?" if PERIOD_LABEL.match(fixed) and label_problem(fixed) is None else ""
        return f"{label!r} is not a fiscal period label{hint} (write {PERIOD_FORMS})"
    if m["kind"] is not None:
        kind, top = ("quarter", 4) if m["kind"] == "Q" else ("month", 12)
        if not 1 <= int(m["n"]) <= top:
            return f"{label!r}: a {kind} number must be 1..{top} (write {PERIOD_FORMS})"
    return None


class StablePickle(BaseModel):
    """A pydantic model that pickles to the same bytes in every process.

    pydantic pickles the set of fields a model was given in the order of the process's
    string hash seed; a report object carries params parts (its branding), and the batch
    fingerprints each report object's pickle for ``--resume``: every run re-ran every
    report. The base of every params, plan and mapping model (their ``_Strict``).
    """

    def __getstate__(self) -> dict[Any, Any]:
        state = super().__getstate__()
        return {**state, "__pydantic_fields_set__": sorted(state["__pydantic_fields_set__"])}

    def __setstate__(self, state: dict[Any, Any]) -> None:
        super().__setstate__({**state, "__pydantic_fields_set__": set(state["__pydantic_fields_set__"])})


#: strptime directives of a date's parts, as the text they match (the others: any text).
_DATE_PARTS = {"%Y": r"(?P<Y>[0-9]{4})", "%m": r"(?P<m>[0-9]{1,2})", "%d": r"(?P<d>[0-9]{1,2})", "%y": r"(?P<y>[0-9]{2})"}


def impossible_date(text: str, fmt: str = "%Y-%m-%d") -> str | None:
    """What part of ``text`` no calendar has, when ``text`` has the form of ``fmt``; else None.

    The one rule behind "month 13 does not exist" for data files (a date column's
    formats, :mod:`reportkit.data.mapping.values`) and YAML files (params, plans,
    mappings: :func:`reportkit.core.yaml_input.format_validation_errors`): a text of
    the right shape is refused for what is wrong with it, not as "not a date".

    Parameters
    ----------
    text : str
        The cell or value as written.
    fmt : str
        A strptime format (``%Y``, ``%y``, ``%m``, ``%d`` are the parts checked), or
        ``ISO8601`` (read as ``%Y-%m-%d``, with any time after it).

    Returns
    -------
    str or None
        ``"month 13 does not exist"``, ``"day 30 does not exist in February 2023"``,
        ``"day 29 does not exist in February 2023 (2023 is not a leap year)"``,
        ``"day 0 does not exist"``; None when the text does not have the form of
        ``fmt`` or its day and month exist.

    Examples
    --------
    >>> impossible_date("2023-13-03"), impossible_date("2023-02-29"), impossible_date("31/04/2025", "%d/%m/%Y")
    ('month 13 does not exist', 'day 29 does not exist in February 2023 (2023 is not a leap year)', \
'day 31 does not exist in April 2025')
    >>> impossible_date("2023-12-03"), impossible_date("Dec 3rd"), impossible_date("2023-13-03 10:00", "ISO8601")
    (None, None, 'month 13 does not exist')
    """
    iso = fmt in ("ISO8601", "ISO 8601")
    pattern = "".join(
        _DATE_PARTS.get(part, ".+?" if part.startswith("%") else re.escape(part))
        for part in re.findall(r"%.|[^%]+", "%Y-%m-%d" if iso else fmt)
    )
    got = re.fullmatch(pattern + ("(?:[T ].*)?" if iso else ""), text.strip())
    if got is None or "m" not in got.groupdict():
        return None
    month = int(got["m"])
    if not 1 <= month <= 12:
        return f"month {month} does not exist"
    if "d" not in got.groupdict():
        return None
    day = int(got["d"])
    if day < 1:
        return f"day {day} does not exist"
    year = int(got["Y"]) if got.groupdict().get("Y") else None
    if year is None and got.groupdict().get("y"):
        year = 2000 + int(got["y"])
    last = calendar.monthrange(year if year is not None else 2000, month)[1]  # 2000: a leap year
    if day <= last:
        return None
    name = calendar.month_name[month] + ("" if year is None else f" {year}")
    leap = f" ({year} is not a leap year)" if month == 2 and day == 29 else ""
    return f"day {day} does not exist in {name}{leap}"
