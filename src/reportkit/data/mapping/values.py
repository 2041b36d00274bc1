"""Value parsers of the source mapping: the text of one cell -> its canonical value.

Amounts (text -> ``Decimal`` x ``scale`` -> integer cents and micros, half away
from zero, never through a float; ``amounts:`` in the mapping, with its declared
notations: separators, symbols, parentheses, trailing minus, a dash for zero), dates
(the column's formats in order and ISO 8601, a text two of them date differently
refused, never guessed; a timestamp with a UTC offset dated in the mapping's
``timezone``: :func:`read_dates`), plain numbers (probabilities), recodes
(exact text translation) and the placeholder texts that only improve messages.
Each parser works on a whole column and returns the parsed values plus the reason
for every bad cell; it reads each distinct text once (and plain amounts and
fixed-width dates vectorised) with the same result per cell as the per-value rule.
"""

from __future__ import annotations

import datetime
import functools
import json
import re
import sys
import unicodedata
import zoneinfo
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from ...core.money import MICROS_PER_CENT, MICROS_PER_UNIT, to_cents, to_micros
from ...core.types import impossible_date
from .schema import DEFAULT_DATE_FORMAT, Amount

__all__ = ["DEFAULT_DATE_FORMAT", "DateColumn", "read_dates", "timezone_note", "data_notes", "plain_number_refusal"]

# Texts that exports use for "no value". They are *never* treated as missing unless
# the mapping declares them in na_values; they only improve messages and warnings.
_PLACEHOLDERS = frozenset(
    {"NULL", "null", "Null", "NA", "N/A", "n/a", "na", "#N/A", "-", "--", "None", "none", "nan", "NaN", "(null)", "(blank)", "?"}
)
# 1 trillion currency units per cell: anything larger is a typo (and 10x that would no
# longer fit the exact amount, int64 micros: money.py)
_MAX_UNITS = Decimal(10) ** 12
_MAX_MICROS = 2**63 - 1  # one cell's exact amount after scale, in micros
_MIN_DATE, _MAX_DATE = datetime.datetime(1900, 1, 1), datetime.datetime(2199, 12, 31)
_DIGITS = "[0-9]"


def _placeholder_hint(value: Any) -> str:
    t = str(value).strip() if value is not None else ""
    if t in _PLACEHOLDERS:
        return f"; if {t!r} means 'no value' here, declare na_values: [{json.dumps(t)}] in the mapping"
    return ""


def placeholder_cells(s: pd.Series) -> np.ndarray:
    """Bool mask of the cells of ``s`` whose text, stripped of whitespace, is a placeholder (``_PLACEHOLDERS``).

    ``s.str.strip().isin(_PLACEHOLDERS)`` (missing cells: False) without stripping every cell, which
    cost most of a text column's parsing (about 0.02 s per 1,000,000 cells). On Arrow-backed text only
    the cells whose first and last bytes could be a placeholder's, once stripped, are stripped and
    compared: a placeholder's own first (last) byte, or one that may belong to whitespace, as every
    character ``str.strip`` removes is ASCII at or below ``0x20`` or a multi-byte UTF-8 character, all
    of whose bytes are ``0x80`` or above (``tests/test_mapping.py`` checks every code point). An id,
    a stage or a product name rarely starts with ``N``, ``n``, ``#``, ``-``, ``(`` or ``?`` and also
    ends as a placeholder does, so usually no cell is stripped.
    """
    import pyarrow as pa

    text = pa.chunked_array(pa.array(s.array)) if isinstance(s.array, pd.arrays.ArrowStringArray) else None
    if text is None or not (pa.types.is_string(text.type) or pa.types.is_large_string(text.type)):
        return s.astype("str").str.strip().isin(list(_PLACEHOLDERS)).to_numpy(dtype=bool)
    found = np.zeros(len(s), dtype=bool)
    maybe = np.flatnonzero(_end_bytes_in(text, *_PLACEHOLDER_ENDS))
    if len(maybe):
        found[maybe] = s.iloc[maybe].str.strip().isin(list(_PLACEHOLDERS)).to_numpy(dtype=bool)
    return found


def _byte_table(allowed: set[int]) -> np.ndarray:
    """A lookup table of the 256 byte values: True for ``allowed`` and every byte that may belong to whitespace."""
    table = np.zeros(256, dtype=bool)
    table[: 0x20 + 1] = table[0x80:] = True
    table[sorted(allowed)] = True
    return table


_PLACEHOLDER_ENDS = (
    _byte_table({p.encode()[0] for p in _PLACEHOLDERS}),
    _byte_table({p.encode()[-1] for p in _PLACEHOLDERS}),
)


def _end_bytes_in(text: Any, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Bool mask of the cells of Arrow text (``string`` or ``large_string``) whose first byte ``first`` allows
    and whose last byte ``last`` allows (lookup tables of the 256 byte values); empty and missing cells False."""
    import pyarrow as pa

    parts = [np.zeros(0, dtype=bool)]
    for chunk in text.chunks:
        buffers = chunk.buffers()
        width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        offsets = np.frombuffer(buffers[1], dtype=width)[chunk.offset : chunk.offset + len(chunk) + 1]
        data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else np.zeros(0, dtype=np.uint8)
        starts, ends = offsets[:-1], offsets[1:]
        filled = ends > starts  # a missing or empty cell has no byte
        if filled.all():
            parts.append(first[data[starts]] & last[data[ends - 1]])
            continue
        edge = np.zeros(len(chunk), dtype=bool)
        edge[filled] = first[data[starts[filled]]] & last[data[ends[filled] - 1]]
        parts.append(edge)
    return np.concatenate(parts)


_SPACES = " \u00a0\u202f\u2009"  # space, no-break, narrow no-break, thin: one family of thousands separators
_DASHES = ("-", "\u2013")  # a lone hyphen-minus or en dash: zero in spreadsheets' accounting format


_NOT_A_SIGN = re.compile("[" + re.escape("0123456789.,+()'\u2019" + "".join(_DASHES) + _SPACES) + "]+")


def _separators(spec: Amount) -> str:
    """The characters accepted as the declared thousands separator (any space declared: the four spaces)."""
    if spec.thousands is None:
        return ""
    return _SPACES if spec.thousands in _SPACES else spec.thousands


def _amount_pattern(spec: Amount) -> re.Pattern:
    d = re.escape(spec.decimal)
    if spec.thousands is None:
        whole = f"{_DIGITS}+"
    else:
        t = f"[{re.escape(_separators(spec))}]"
        whole = f"(?:{_DIGITS}{{1,3}}(?:{t}{_DIGITS}{{3}})+|{_DIGITS}+)"
    return re.compile(f"^(?:{whole}(?:{d}{_DIGITS}*)?|{d}{_DIGITS}+)$")


def _amount_form(spec: Amount) -> str:
    parts = [f"decimal {spec.decimal!r}"]
    if spec.thousands is not None:
        parts.append(f"thousands {spec.thousands!r}" + (" (any space)" if spec.thousands in _SPACES else ""))
    if spec.symbols:
        parts.append("symbol " + " or ".join(repr(x) for x in spec.symbols))
    if "parentheses" in spec.negatives:
        parts.append("(negatives) in parentheses")
    if "trailing_minus" in spec.negatives:
        parts.append("negatives with a trailing minus (5.00-)")
    if spec.zero:
        parts.append("'-' for zero")
    return ", ".join(parts)


def _declaration_that_reads(text: str, spec: Amount) -> str:
    """The ``amounts:`` keys (besides the declared ones) that read ``text``, with the amount they read; "" if none.

    Tries the notations the text shows (the other decimal separator, a thousands
    separator, its currency sign, a negative notation), fewest changes first, and
    names the first declaration the amount reader accepts: so the hint is one that works.
    Texts of one shape (digits alike) share the search (:func:`_reading_change`).
    """
    t = text.strip()
    change = _reading_change(re.sub("[0-9]", "9", t), spec.model_dump_json())
    if change is None:
        return ""
    cand = Amount.model_validate({**spec.model_dump(), **change})
    got = _read_amount(t, cand, _amount_pattern(cand), hint=False)
    keys = ", ".join(f"{k}: {_yaml_word(k, v)}" for k, v in change.items())
    return f"declare {keys} for this column under amounts: in the mapping (it then reads {t!r} as {got})"


def _yaml_word(key: str, value: Any) -> str:
    """How a hint writes an ``amounts:`` value: ``negative: parentheses``, ``symbol: "€"``, ``decimal: ','``."""
    if key == "negative":
        return str(value)
    return json.dumps(value, ensure_ascii=False) if key == "symbol" else f"'{value}'"


@functools.lru_cache(maxsize=256)
def _reading_change(shape: str, spec_json: str) -> dict[str, Any] | None:
    """The fewest ``amounts:`` changes to the declared form (JSON) under which a text of ``shape`` reads."""
    if "9" not in shape:
        return None
    spec = Amount.model_validate_json(spec_json)
    signs = [run for run in _NOT_A_SIGN.split(shape) if run]
    options = (
        ("decimal", [spec.decimal, *(d for d in ".," if d != spec.decimal)]),
        ("thousands", [spec.thousands, *(x for x in (" ", ",", ".", "'") if x != spec.thousands and x in shape)]),
        ("symbol", [spec.symbol, *([signs[0]] if len(signs) == 1 and signs[0] not in spec.symbols else [])]),
        ("negative", [spec.negative, *(n for n in ("parentheses", "trailing_minus") if n not in spec.negatives)]),
    )
    base = spec.model_dump()
    tried = [{}]
    for key, values in options:
        tried = [{**c, **({key: v} if v != base[key] else {})} for c in tried for v in values]
    for change in sorted((c for c in tried if c), key=len):
        try:
            cand = Amount.model_validate({**base, **change})
        except ValueError:
            continue
        if isinstance(_read_amount(shape, cand, _amount_pattern(cand), hint=False), Decimal):
            return change
    return None


def _non_ascii_digits_hint(text: str) -> str:
    """Why an amount in full-width or another script's digits is refused, with the ASCII text to write; "" if none.

    ``'１２３.００'`` (a Japanese IME's full-width digits) -> write ``'123.00'``. Amounts
    read the digits 0-9 only (docs/mapping.md, "Amounts"), so no declaration reads such
    a text: the hint is to fix the source.
    """
    if not any(ch.isdigit() and not ch.isascii() for ch in text):
        return ""
    ascii_text = "".join(str(unicodedata.digit(ch)) if ch.isdigit() else unicodedata.normalize("NFKC", ch) for ch in text.strip())
    return f"; its digits are not ASCII (full-width or another script's): write {ascii_text!r} with the digits 0-9 in the source"


_SCIENTIFIC = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)[eE][+-]?[0-9]{1,2}")


def _scientific_hint(text: str) -> str:
    """Why an amount in scientific notation is refused, with the plain number to write; "" if none.

    ``'1.2345E+5'`` (a spreadsheet's display of a wide number, or a float written by a
    script) -> write ``'123450'``. Amounts read no exponent: no declaration reads it, and
    a display such as ``1.23E+05`` may already have lost digits, so the fix is the source.
    """
    t = text.strip()
    if not _SCIENTIFIC.fullmatch(t):
        return ""
    plain = format(Decimal(t), "f")
    return (
        f"; it is in scientific notation ({t} is {plain}), which amounts do not read: export the column as plain "
        f"numbers (check no digits were lost), e.g. {plain!r}"
    )


def _amount_hint(text: str, spec: Amount) -> str:
    odd_digits = _non_ascii_digits_hint(text) or _scientific_hint(text)
    if odd_digits:
        return odd_digits
    reads = _declaration_that_reads(text, spec)
    if reads:
        return "; " + reads
    hints = []
    if "(" in text and "parentheses" not in spec.negatives:
        hints.append("declare negative: parentheses if (...) means a negative amount")
    if re.fullmatch(r".*[0-9.,)]\s*-", text.strip()) and "trailing_minus" not in spec.negatives:
        hints.append("declare negative: trailing_minus if a trailing '-' means a negative amount")
    if not any(ch.isdigit() for ch in text) and set(text) & set("".join(_DASHES)) and not spec.zero:
        hints.append("declare zero: dash if a lone '-' means the amount 0 (accounting format)")
    signs = [run for run in _NOT_A_SIGN.split(text) if run]
    if signs and not any(s in text for s in spec.symbols):
        sym = signs[0]
        hints.append(f"declare symbol: {json.dumps(sym, ensure_ascii=False)} if {sym!r} is a currency sign or code")
    core = text.strip("()+-$€£¥ ")
    if re.fullmatch(r"[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?", core) and (spec.thousands, spec.decimal) != (",", "."):
        hints.append("declare thousands: ',' for amounts like 1,234.50")
    elif re.fullmatch(r"[0-9]{1,3}(\.[0-9]{3})+(,[0-9]*)?|[0-9]+,[0-9]{1,2}", core) and spec.decimal != ",":
        hints.append("declare decimal: ',' (and thousands: '.') for amounts like 1.234,56")
    elif re.fullmatch(f"[0-9]{{1,3}}([{_SPACES}][0-9]{{3}})+([.,][0-9]*)?", core.strip()) and spec.thousands is None:
        hints.append("declare thousands: ' ' for amounts like 1 234,56 (any space: also no-break and thin spaces)")
    return ("; " + "; ".join(hints)) if hints else ""


def plain_number_refusal(value: Any) -> str:
    """Why a measure's value (a plain decimal, no notations) is refused, and how to write it.

    ``92%`` -> write ``0.92`` (a fraction, 1.0 == 100 %); ``1,5`` -> write ``1.5``; else
    the form with examples. The measures table reads no percent sign, currency sign or
    separator: the value is the exact number the plan compares with its target.
    """
    t = str(value).strip()
    form = "a measure's value is a plain decimal number (digits, an optional sign and '.'), e.g. 0.92, 3 or 45000.50"
    number = t.rstrip("%").strip().replace(",", ".", 1) if t.count(",") <= 1 else ""
    if t.endswith("%") and _FLOAT.match(number):
        as_fraction = format(Decimal(number).scaleb(-2).normalize(), "f")
        return f"not a number: {form}; write {t!r} as {as_fraction} (a fraction: 1.0 == 100 %), without the '%'"
    if "," in t and _FLOAT.match(number):
        return f"not a number: {form}; write {t!r} as {number} (a decimal point, no thousands separator)"
    return f"not a number: {form}"


def _strip_notations(text: str, spec: Amount) -> tuple[str, bool, bool] | str:
    """(the number's text, negative?, a lone dash for zero?) of an amount text, or why its notation is refused.

    Peels, in any order, at most one of each: the declared parentheses, a currency
    sign or code (before or after), a leading ``-`` / ``+`` (always allowed), a declared
    trailing minus. At most one of parentheses, sign and trailing minus: ``(-5)`` is refused.
    """
    t = text.strip()
    negs = spec.negatives
    symbols = sorted(spec.symbols, key=len, reverse=True)
    marks: list[str] = []  # "parentheses", "sign", "trailing_minus"
    neg = symbol = False
    while True:
        if spec.zero and t in _DASHES and not marks:
            return "", False, True
        if "parentheses" in negs and len(t) >= 2 and t[0] == "(" and t[-1] == ")" and "parentheses" not in marks:
            marks.append("parentheses")
            neg, t = True, t[1:-1].strip()
            continue
        peeled = next((sym for sym in symbols if not symbol and (t.startswith(sym) or t.endswith(sym))), None)
        if peeled is not None:
            symbol, t = True, (t[len(peeled) :] if t.startswith(peeled) else t[: -len(peeled)]).strip()
            continue
        if t[:1] in ("-", "+") and "sign" not in marks:
            marks.append("sign")
            neg, t = neg or t[0] == "-", t[1:].strip()
            continue
        if "trailing_minus" in negs and t[-1:] == "-" and len(t) > 1 and "trailing_minus" not in marks:
            marks.append("trailing_minus")
            neg, t = True, t[:-1].strip()
            continue
        break
    if len(marks) > 1:
        return f"two sign notations ({' and '.join(m.replace('_', ' ') for m in marks)}) in one amount; write one"
    return t, neg, False


def _read_amount(text: str, spec: Amount, pattern: re.Pattern, hint: bool = True) -> Decimal | str:
    """Decimal of an amount text, or the reason it is not one (with a hint of what reads it unless ``hint`` is false)."""
    got = _strip_notations(text, spec)
    if isinstance(got, str):
        return got
    t, neg, zero = got
    if zero:
        return Decimal(0)
    if not pattern.match(t):
        why = f"not an amount in the declared form ({_amount_form(spec)}; digits, an optional sign)"
        return why + (_amount_hint(text, spec) if hint else "")
    for ch in _separators(spec):
        t = t.replace(ch, "")
    if spec.decimal != ".":
        t = t.replace(spec.decimal, ".")
    d = Decimal(t)
    if abs(d) > _MAX_UNITS:
        return f"amount {text.strip()!r} is larger than {_MAX_UNITS:,} (a typo or wrong separators?)"
    if abs(d * spec.scale) * MICROS_PER_UNIT > _MAX_MICROS:
        return (
            f"amount {text.strip()!r} x scale {spec.scale} is beyond the "
            f"{_MAX_MICROS // MICROS_PER_UNIT:,} currency units reportkit holds exactly (check scale:)"
        )
    return -d if neg else d


def _arrow_text(raw: pd.Series) -> Any:
    """``raw`` as a pyarrow string array (nulls where missing), or None if it holds non-text."""
    import pyarrow as pa

    try:
        if isinstance(raw.dtype, pd.StringDtype):
            return pa.array(raw.array)
        return pa.array(raw.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError):
        return None


def _scale_shift(scale: Decimal) -> int | None:
    """``j`` when ``scale == 10**j`` for ``0 <= j <= 3`` (handled vectorised), else None."""
    for j in range(4):
        if scale == Decimal(10) ** j:
            return j
    return None


def _plain_amounts(raw: pd.Series, spec: Amount) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Vectorised cents and micros of the cells written in the plain form, exactly (never via a float).

    The plain form is an optional sign, digits and an optional decimal part
    (``-1234.56``, ``.5``, ``7.``; the declared decimal separator), with optional
    spaces or tabs around it: a form that :func:`_read_amount` accepts under every
    declaration. One regular expression picks the cells in that form with at most
    ``13`` integer digits (fewer with a scale above 1) and at most one decimal past
    the micro (after the scale); Arrow's decimal parser reads them as integers of
    ``amount x 10**(7 + j)`` for a scale of ``10**j``, exactly. The last digit rounds the
    micro, and the digit one place beyond the cent rounds the cent, each half away from
    zero. Cells in any other form (thousands separators, symbols, parentheses, more
    digits, bad text) are left to the per-value parser, which gives the same answer
    for the plain form (``tests/test_fuzz_loading.py`` checks every cell against it).

    Returns
    -------
    (cents, micros, done) : (numpy.ndarray of int64 x 2, numpy.ndarray of bool), or None
        ``done`` marks the cells converted here; None when ``scale`` is not
        1, 10, 100 or 1000 or the column is not text.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    shift = _scale_shift(spec.scale)
    arr = _arrow_text(raw) if shift is not None and sys.byteorder == "little" else None
    if arr is None or not len(arr):
        return None
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    places = shift + 7  # micros, shifted by the scale, plus the rounding digit
    whole_max = min(13, 18 - places)  # the integer read below stays within int64
    exact_type = pa.decimal128(whole_max + places, places)  # amount x 10**places, exactly
    exact = _cast_whole_column(arr, spec, exact_type)
    if exact is not None:  # every present cell read at once
        done = pc.is_valid(arr)
    else:
        d = re.escape(spec.decimal)
        done = pc.match_substring_regex(
            arr,
            rf"^[ \t]*[+-]?(?:[0-9]{{1,{whole_max}}}(?:{d}[0-9]{{0,{places}}})?|[0-9]{{0,{whole_max}}}{d}[0-9]{{1,{places}}})[ \t]*$",
        )
        done = pc.fill_null(done, False)
        text = pc.if_else(done, pc.utf8_trim(arr, " \t"), pa.scalar("0", arr.type))
        if spec.decimal != ".":
            text = pc.replace_substring(text, spec.decimal, ".", max_replacements=1)
        exact = pc.cast(text, exact_type)
    scaled = np.frombuffer(exact.buffers()[1], dtype="<i8").reshape(-1, 2)[exact.offset : exact.offset + len(exact), 0]
    neg = scaled < 0  # the low 64 bits of the 128-bit integer are the value: |value| < 10**18
    scaled = np.abs(scaled)  # amount x 10**7 after the scale, truncated
    micros = scaled // 10 + (scaled % 10 >= 5)
    scaled = scaled // MICROS_PER_CENT  # amount x 10**3, truncated: cents and their rounding digit
    cents = scaled // 10 + (scaled % 10 >= 5)
    done_np = done.to_numpy(zero_copy_only=False).astype(bool)
    return np.where(neg, -cents, cents).astype("int64"), np.where(neg, -micros, micros).astype("int64"), done_np


def _cast_whole_column(arr: Any, spec: Amount, exact_type: Any) -> Any:
    """The column's cells as ``exact_type`` decimals by one Arrow cast, or None when a cell needs the matching path.

    Arrow's decimal parser reads a sign, digits and a ``.`` with digits before or after it
    (``-1234.56``, ``.5``, ``7.``), the plain form, and refuses blanks, spaces, separators,
    symbols, other digits, a value too wide for the type and more decimals than it holds
    unless they are zeros (``1.50000000`` is 1.5, as the per-value parser reads it).
    It also reads an exponent (``1e5``), which amounts refuse: a column with an ``e`` or
    ``E`` anywhere in its text takes the matching path. So a column the cast reads whole
    gets the per-value parser's value in every cell (``tests/test_fuzz_loading.py``), and
    one cell in another form sends the column to the regular expression that picks its
    plain cells, as before.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if spec.decimal != ".":
        return None
    data = arr.buffers()[2]  # the text's bytes (of the whole buffer: an ``e`` outside the array only costs the fast path)
    if data is not None and ((np.frombuffer(data, dtype=np.uint8) | 0x20) == ord("e")).any():
        return None
    try:
        return pc.cast(arr, exact_type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _parse_amounts(raw: pd.Series, spec: Amount) -> tuple[pd.Series, dict[Any, str]]:
    """(cents int64 with 0 where bad, {index: reason} of unparseable non-missing cells): :func:`_parse_exact`."""
    cents, _, bad = _parse_exact(raw, spec)
    return cents, bad


def _parse_exact(raw: pd.Series, spec: Amount) -> tuple[pd.Series, pd.Series, dict[Any, str]]:
    """(cents int64, micros int64, both 0 where bad; {index: reason} of unparseable non-missing cells).

    Plain amounts are converted vectorised (:func:`_plain_amounts`); every other
    distinct text once by :func:`_read_amount` (text -> Decimal x scale -> cents
    and micros, each half away from zero from the full text). Both are exact: no
    amount passes through a float.
    """
    present = raw.notna().to_numpy()
    values = np.zeros(len(raw), dtype="int64")
    exact = np.zeros(len(raw), dtype="int64")
    fast = _plain_amounts(raw, spec)
    todo = present.copy()
    if fast is not None:
        values, exact, done = fast
        values[~done] = 0
        exact[~done] = 0
        todo &= ~done
    bad: dict[Any, str] = {}
    if todo.any():
        pattern = _amount_pattern(spec)
        positions = np.flatnonzero(todo)
        codes, uniques = pd.factorize(raw.iloc[positions], sort=False)
        results: list[tuple[int, int] | str] = []
        for v in uniques:
            got = _read_amount(str(v), spec, pattern)
            if isinstance(got, Decimal):
                got = (to_cents(got * spec.scale), to_micros(got * spec.scale))
            results.append(got)
        ok = np.array([not isinstance(r, str) for r in results], dtype=bool)
        if ok.any():
            cents_u = np.array([r[0] if not isinstance(r, str) else 0 for r in results], dtype="int64")
            micros_u = np.array([r[1] if not isinstance(r, str) else 0 for r in results], dtype="int64")
            values[positions] = cents_u[codes]
            exact[positions] = micros_u[codes]
        for pos, code in zip(positions[~ok[codes]], codes[~ok[codes]]):
            bad[raw.index[pos]] = results[code]
    return (pd.Series(values, index=raw.index, dtype="int64"), pd.Series(exact, index=raw.index, dtype="int64"), bad)


_FLOAT = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")


def _parse_float(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(float64 values, NaN where missing or bad; bool mask of bad non-missing cells), per distinct text."""
    present = raw.notna().to_numpy()
    vals = np.full(len(raw), np.nan, dtype="float64")
    bad = np.zeros(len(raw), dtype=bool)
    positions = np.flatnonzero(present)
    if len(positions):
        codes, uniques = pd.factorize(raw.iloc[positions], sort=False)
        got = []
        for v in uniques:
            t = str(v).strip()
            got.append(float(Decimal(t)) if _FLOAT.match(t) else None)
        ok = np.array([g is not None for g in got], dtype=bool)
        num = np.array([np.nan if g is None else g for g in got], dtype="float64")
        vals[positions] = num[codes]
        bad[positions] = ~ok[codes]
    return pd.Series(vals, index=raw.index, dtype="float64"), pd.Series(bad, index=raw.index, dtype=bool)


def _date_hint(text: str, formats: list[str], declared: bool) -> str:
    """What to declare for a date text no format read (``formats``: the column's, in order)."""
    fix = "add its format to" if len(formats) > 1 else "declare"
    if re.fullmatch(r"[0-9]{1,2}[/.-][0-9]{1,2}[/.-][0-9]{2,4}", text):
        a, b = (int(x) for x in re.split(r"[/.-]", text)[:2])
        sep = re.search(r"[/.-]", text).group(0)
        yr = "%Y" if len(re.split(r"[/.-]", text)[2]) == 4 else "%y"
        day_first, month_first = f"%d{sep}%m{sep}{yr}", f"%m{sep}%d{sep}{yr}"
        if a <= 12 and b <= 12 and not declared:
            return (
                f"; {text!r} is ambiguous (day first or month first?): declare date_format: "
                f"'{day_first}' or '{month_first}' for this column"
            )
        if (a > 12 and b > 12) or max(a, b) > 31:
            return f"; {text!r} is no day and month in either order: correct the cell"
        if not declared or not {day_first, month_first} & set(formats):
            if a > 12 or b > 12:  # only one reading is a date: name that one
                first, flag = ("day", "true") if a > 12 else ("month", "false")
                fmt = day_first if a > 12 else month_first
                also = f", or day_first: {flag} (reads the table's numeric dates {first} first)" if yr == "%Y" else ""
                return f"; {max(a, b)} cannot be a month, so {text!r} is {first} first: {fix} date_format: '{fmt}'{also}"
            return f"; {fix} date_format: '{day_first}' or '{month_first}' for this column"
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9:.]+", text) and not any("%H" in f for f in formats):
        return "; the value has a time of day: declare date_format: '%Y-%m-%d %H:%M:%S' (or 'ISO8601')"
    if not declared:
        return "; declare the column's format under date_format: in the mapping"
    return f"; correct the cell, or {fix} date_format: the format it is written in" if len(formats) > 1 else ""


# strptime directives read vectorised (fixed width digits) by _dates_vectorised
_FIXED_DIRECTIVES = {"%Y": "[0-9]{4}", "%m": "[0-9]{2}", "%d": "[0-9]{2}", "%H": "[0-9]{2}", "%M": "[0-9]{2}", "%S": "[0-9]{2}"}


def _fixed_width_pattern(fmt: str) -> str | None:
    """A regex of the texts of ``fmt`` in fixed width (``%Y-%m-%d`` -> ``[0-9]{4}-...``), else None.

    Only formats made of ``%Y %m %d %H %M %S`` and literal characters other than
    ``%`` and whitespace qualify; ``ISO8601`` is read as ``%Y-%m-%d`` here.
    """
    if fmt == "ISO8601":
        fmt = "%Y-%m-%d"
    out = []
    for token in re.findall(r"%.|[^%]", fmt):
        if token in _FIXED_DIRECTIVES:
            out.append(_FIXED_DIRECTIVES[token])
        elif token.startswith("%") or token.isspace():
            return None
        else:
            out.append(re.escape(token))
    return "^" + "".join(out) + "$"


def _dates_vectorised(texts: pd.Index, fmt: str) -> np.ndarray:
    """datetime64[ns] of the texts in fixed width form (see :func:`_fixed_width_pattern`), NaT elsewhere.

    A text of fixed width digits parses the same with pandas as with ``strptime``
    (both refuse a 13th month or 30 February); NaT cells are left to ``strptime``,
    which gives the reason.
    """
    out = np.full(len(texts), np.datetime64("NaT"), dtype="datetime64[ns]")
    pattern = _fixed_width_pattern(fmt)
    if pattern is None or not len(texts):
        return out
    s = pd.Series(texts.astype("str"), dtype="str")
    shaped = s.str.fullmatch(pattern).fillna(False).to_numpy(dtype=bool)
    if shaped.any():
        parsed = pd.to_datetime(s[shaped], format="%Y-%m-%d" if fmt == "ISO8601" else fmt, errors="coerce")
        parsed = parsed.dt.normalize()
        inside = (parsed.notna() & (parsed >= _MIN_DATE) & (parsed <= _MAX_DATE)).to_numpy(dtype=bool)
        where = np.flatnonzero(shaped)[inside]  # outside the range: strptime and the range check say why
        out[where] = parsed[inside].to_numpy(dtype="datetime64[ns]")
    return out


# An ISO 8601 date, or date and time with an optional offset: read in every date column
_ISO_DATE = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]{2}(?::[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]{1,9})?)?)?"
    r"(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?$"
)
_ISO = "ISO 8601"  # the reading every column adds (gated by _ISO_DATE), as named in messages
_ISO_FIXED = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")  # ISO texts read vectorised (no offset)
_NO_DAY = np.iinfo("int64").min


TIMEZONE_NOTE = "Timestamps written with a UTC offset are dated in {tz}"
"""The time zone rule as the reports' notes state it (:func:`data_notes`), once per data set."""


def timezone_note(tz: str) -> str:
    """The time zone rule of a data set whose source held timestamps with a UTC offset (docs/mapping.md, 'Time zones')."""
    return (
        TIMEZONE_NOTE.format(tz=tz) + ", the business time zone of the source mapping (its timezone:): the time is "
        "converted there before the date is taken; timestamps without an offset keep their written date."
    )


def data_notes(warnings: tuple[str, ...]) -> tuple[str, ...]:
    """The notes of a load a report states (the time zone rule), out of ``Dataset.warnings``."""
    head = TIMEZONE_NOTE.split("{", 1)[0]
    return tuple(w for w in warnings if w.startswith(head))


@dataclass(frozen=True)
class DateColumn:
    """One date column read from its texts (:func:`read_dates`).

    Attributes
    ----------
    values : pandas.Series of datetime64[ns]
        Midnight of each cell's date; NaT where missing or bad.
    bad : dict
        {index: reason} of the non-missing cells that are refused.
    aware : int
        Cells holding a timestamp with a UTC offset (or ``Z``), dated in the business time zone.
    moved : int
        Those whose date in the business time zone differs from the date written
        (``2024-03-31T23:30-05:00`` -> 2024-04-01 in Europe/Berlin).
    moved_rows : dict
        {index: (text, date)} of the first five of them, for the note.
    """

    values: pd.Series
    bad: dict[Any, str]
    aware: int = 0
    moved: int = 0
    moved_rows: dict[Any, tuple[str, datetime.date]] = field(default_factory=dict)


def _parse_dates(raw: pd.Series, fmt: str | list[str], declared: bool, tz: str | None = None) -> tuple[pd.Series, dict[Any, str]]:
    """(datetime64[ns] at midnight, NaT where missing or bad; {index: reason} of bad cells): :func:`read_dates`."""
    got = read_dates(raw, [fmt] if isinstance(fmt, str) else fmt, declared, tz)
    return got.values, got.bad


def read_dates(raw: pd.Series, formats: list[str], declared: bool, tz: str | None = None) -> DateColumn:
    """Read a date column: each text in the listed formats and ISO 8601, its date in the business time zone.

    The rule (docs/mapping.md, "Dates" and "Time zones"):

    * a text is read by every format of ``formats`` (``strptime``; ``ISO8601`` reads
      ISO dates and times) and, in every column, as an ISO 8601 date or date-time
      (``2024-01-29``, ``2024-03-31T23:30-05:00``, ``...Z``); a time of day is dropped;
    * the text is refused when no format reads it, and when two readings give different
      dates (``03/04/2024`` under ``%d/%m/%Y`` and ``%m/%d/%Y``): never guessed, and read
      month first only by a declared month-first format. So the result never depends on
      the order of the list, which is the order messages show;
    * a timestamp with a UTC offset is converted to ``tz`` (an IANA name, the mapping's
      ``timezone``) before its date is taken; without ``tz`` it is refused (its date
      depends on the zone); a naive timestamp keeps its written date;
    * dates outside 1900-01-01 .. 2199-12-31 are refused as typos.

    Each distinct text is read once: fixed width texts of simple formats vectorised
    (:func:`_dates_vectorised`), the others with ``strptime`` / ``fromisoformat``.

    Parameters
    ----------
    raw : pandas.Series of str
    formats : list of str
        The column's formats, in order (``TableMapping.date_formats``).
    declared : bool
        Whether the mapping declared them (messages only).
    tz : str, optional
        The business time zone (IANA name, already checked).

    Returns
    -------
    DateColumn
    """
    present = raw.notna().to_numpy()
    values = np.full(len(raw), np.datetime64("NaT"), dtype="datetime64[ns]")
    positions = np.flatnonzero(present)
    if not len(positions):
        return DateColumn(pd.Series(values, index=raw.index), {})
    codes, uniques = pd.factorize(raw.iloc[positions], sort=False)
    zone = zoneinfo.ZoneInfo(tz) if tz else None
    candidates = [*formats, *([] if "ISO8601" in formats else [_ISO])]
    lo, hi = np.datetime64(_MIN_DATE, "D").astype("int64"), np.datetime64(_MAX_DATE, "D").astype("int64")
    texts: list[str] | None = None
    readings, vectorised = [], {}
    offsets: dict[int, str] = {}  # unique -> its written date, for texts with an offset
    for fmt in candidates:
        days = np.full(len(uniques), _NO_DAY, dtype="int64")
        for plain in _ISO_FIXED if fmt in (_ISO, "ISO8601") else (fmt,):
            if plain not in vectorised:
                vectorised[plain] = _dates_vectorised(uniques, plain).astype("datetime64[D]").astype("int64")
            days = np.where(days == _NO_DAY, vectorised[plain], days)
        todo = np.flatnonzero(days == _NO_DAY)
        if fmt == _ISO and len(todo):  # only texts in ISO form: an ISO reading never competes with a strptime one
            shaped = pd.Series(uniques[todo].astype("str"), dtype="str").str.strip().str.fullmatch(_ISO_DATE.pattern)
            todo = todo[shaped.fillna(False).to_numpy(dtype=bool)]
        if len(todo) and texts is None:
            texts = [str(u).strip() for u in uniques]
        for i in todo:
            d = _read_one_date(texts[i], fmt)
            if d is None:
                continue
            if d.tzinfo is not None:
                offsets.setdefault(i, d.date().isoformat())
                if zone is None:
                    continue
                d = d.astimezone(zone)
            days[i] = (d.date() - _EPOCH).days
        readings.append(days)
    stack = np.vstack(readings)
    read = stack != _NO_DAY
    first = np.where(read.any(0), stack[read.argmax(0), np.arange(stack.shape[1])], _NO_DAY)
    differ = (np.where(read, stack, first) != first).any(0)
    reasons: dict[int, str] = {}
    for i in np.flatnonzero(differ | (first == _NO_DAY) | (first < lo) | (first > hi)):
        texts = texts if texts is not None else [str(u).strip() for u in uniques]
        reasons[i] = _date_refusal(texts[i], candidates, stack[:, i], formats, declared, offsets.get(i), tz)
    if offsets and zone is None:
        for i in offsets:
            reasons.setdefault(i, _date_refusal(texts[i], candidates, stack[:, i], formats, declared, offsets[i], tz))
    ok = np.ones(len(uniques), dtype=bool)
    ok[list(reasons)] = False
    day_ns = np.where(ok, first, 0).astype("datetime64[D]").astype("datetime64[ns]")
    day_ns[~ok] = np.datetime64("NaT")
    values[positions] = day_ns[codes]
    bad: dict[Any, str] = {}
    moved_rows: dict[Any, tuple[str, datetime.date]] = {}
    aware = moved = 0
    if reasons:
        for pos, code in zip(positions[~ok[codes]], codes[~ok[codes]]):
            bad[raw.index[pos]] = reasons[int(code)]
    if offsets and zone is not None:
        shifted = np.zeros(len(uniques), dtype=bool)
        converted = np.zeros(len(uniques), dtype=bool)
        for i, written in offsets.items():
            converted[i] = ok[i]
            shifted[i] = ok[i] and (_EPOCH + datetime.timedelta(days=int(first[i]))).isoformat() != written
        aware, where = int(converted[codes].sum()), shifted[codes]
        moved = int(where.sum())
        for pos, code in zip(positions[where][:5], codes[where][:5]):
            moved_rows[raw.index[pos]] = (texts[code], _EPOCH + datetime.timedelta(days=int(first[code])))
    return DateColumn(pd.Series(values, index=raw.index), bad, aware, moved, moved_rows)


_EPOCH = datetime.date(1970, 1, 1)


def _read_one_date(text: str, fmt: str) -> datetime.datetime | None:
    """``text`` read in ``fmt`` (``ISO8601`` / the implicit ISO reading: ``fromisoformat``), or None."""
    try:
        d = datetime.datetime.fromisoformat(text) if fmt in ("ISO8601", _ISO) else datetime.datetime.strptime(text, fmt)
    except (ValueError, OverflowError, TypeError):
        return None
    return d


def _date_refusal(
    text: str, candidates: list[str], days: np.ndarray, formats: list[str], declared: bool, written: str | None, tz: str | None
) -> str:
    """Why one date text is refused: an offset without a time zone, no format reads it, two read it differently, out of range."""
    if written is not None and tz is None:
        return (
            f"{text!r} is a timestamp with a UTC offset, so its date depends on the time zone "
            f"(written: {written}); declare the business time zone at the top of the source mapping "
            f"(timezone: an IANA name such as America/New_York or Europe/Berlin) and it is dated there"
        )
    got = {fmt: (_EPOCH + datetime.timedelta(days=int(d))).isoformat() for fmt, d in zip(candidates, days) if d != _NO_DAY}
    if not got:
        for fmt in [*formats, "ISO8601"]:  # the right shape, an impossible part: name it (core.types)
            impossible = impossible_date(text, fmt)
            if impossible:
                shown = "YYYY-MM-DD" if fmt == "ISO8601" else fmt
                return f"not a date: {impossible} (read as {shown})" + (
                    _date_hint(text, formats, declared) or "; correct the cell"
                )
        shown = " or ".join(formats) if len(formats) <= 1 else f"any of {', '.join(formats)} (tried in order)"
        iso = "" if "ISO8601" in formats or formats == ["%Y-%m-%d"] else " nor ISO 8601 (YYYY-MM-DD)"
        return f"not a date in format {shown}{iso}" + _date_hint(text, formats, declared)
    if len(set(got.values())) > 1:
        readings = ", ".join(f"{fmt} reads {d}" for fmt, d in got.items())
        return (
            f"{text!r} is ambiguous: {readings} (a date is never guessed); keep only the format this column "
            f"is written in under date_format / day_first, or write the cell as YYYY-MM-DD"
        )
    (d,) = set(got.values())
    return f"date {d} is outside 1900-01-01 .. 2199-12-31 (a typo?)"


def _recode(s: pd.Series, table_map: dict[str, str]) -> tuple[pd.Series, np.ndarray]:
    """(``s`` translated by ``table_map``, missing where unknown or missing; bool mask of known cells).

    Exact text comparison, vectorised: Arrow's ``index_in`` of each cell in the table's texts
    for Arrow-backed text (no per-row objects), else a hash lookup of each distinct text.
    """
    if isinstance(s.array, pd.arrays.ArrowStringArray) and table_map:
        import pyarrow as pa
        import pyarrow.compute as pc

        where = pc.index_in(pa.chunked_array(pa.array(s.array)), value_set=pa.array(list(table_map), pa.large_string()))
        recoded_text = pc.take(pa.array(list(table_map.values()), pa.large_string()), where)
        known = pc.is_valid(where).to_numpy(zero_copy_only=False).astype(bool, copy=False)
        return pd.Series(pd.array(recoded_text, dtype="str"), index=s.index), known
    codes, uniques = pd.factorize(s, sort=False)
    got = [table_map.get(u) if isinstance(u, str) else None for u in uniques]
    known_u = np.array([g is not None for g in got] + [False], dtype=bool)  # code -1 (missing): not known
    values = pd.array(got + [None], dtype="str")
    recoded = pd.Series(values.take(codes if len(codes) else np.array([], dtype=np.intp)), index=s.index)
    return recoded, known_u[codes]
