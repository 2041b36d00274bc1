"""Money columns and formulas: exact checks that a live formula recalculates to reportkit's figure.

A workbook writes a formula (``SUM`` of lines, ``=IF(quota=0,"n/a",revenue/quota)``)
only where recalculating it gives reportkit's figure: money is compared as exact
``Decimal`` (:func:`_sum_matches`), ratios to the last bit of a double
(:func:`_ratio_matches`); elsewhere the figure is written as a value. Also cell
and range references, and which summary keys are ratios of which (the team
roll-up's attainment basis).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection, Sequence
from decimal import Decimal
from typing import Any

from xlsxwriter.utility import xl_rowcol_to_cell

from ..cell_kinds import NA, is_missing


def _quote_sheet(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def _ref(sheet: str | None, row: int, col: int) -> str:
    cell = xl_rowcol_to_cell(row, col)
    return f"{_quote_sheet(sheet)}!{cell}" if sheet else cell


def _range(sheet: str | None, r0: int, r1: int, col: int) -> str:
    a = xl_rowcol_to_cell(r0, col, row_abs=True, col_abs=True)
    b = xl_rowcol_to_cell(r1, col, row_abs=True, col_abs=True)
    return f"{_quote_sheet(sheet)}!{a}:{b}" if sheet else f"{a}:{b}"


def _dec(v: Any) -> Decimal | None:
    """A money value as Decimal (None when missing)."""
    if is_missing(v):
        return None
    if isinstance(v, Decimal):
        return v if v.is_finite() else None
    if isinstance(v, numbers.Real) and not isinstance(v, bool):
        f = float(v)
        return None if not math.isfinite(f) else Decimal(repr(f))
    return None


def _dec_sum(values: Any) -> Decimal:
    """Sum of money values (cells already rounded to the cent); missing ones count as 0."""
    return sum((_dec(v) or Decimal(0) for v in values), Decimal("0.00"))


def _frac(v: Any) -> float | None:
    if is_missing(v) or isinstance(v, bool) or not isinstance(v, (numbers.Real, Decimal)):
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def _ratio_matches(num: Any, den: Any, reported: Any) -> bool:
    """True when ``=IF(den=0,"n/a",num/den)`` recalculates to ``reported``."""
    d, n, r = _dec(den), _dec(num), _frac(reported)
    if d is None or d == 0:
        return r is None
    if r is None:
        return False
    got = float(n or 0) / float(d)
    return abs(got - r) <= 1e-12 * max(1.0, abs(r))


def _ratio_cached(reported: Any) -> float | str:
    r = _frac(reported)
    return NA if r is None else r


def _sum_matches(values: Sequence[Any], target: Any) -> bool:
    t = _dec(target)
    if t is None:
        return False
    return _dec_sum(values) == t


_SUMMARY_RATIOS = {
    "attainment": ("revenue", "quota"),
    "ytd_attainment": ("ytd_revenue", "ytd_quota"),
    "forecast_attainment": ("forecast", "annual_quota"),
}


#: A team's (or the company's) figure set against quota: its attainment basis.
_BASIS_KEYS = {"revenue": "credited_revenue", "ytd_revenue": "ytd_credited_revenue", "forecast": "credited_forecast"}


def _ratio_keys(key: str, available: Collection[str]) -> tuple[str, str] | None:
    """Numerator and denominator keys of a summary ratio.

    A team's (or the company's) attainment divides its *attainment basis*,
    ``credited_revenue`` / ``ytd_credited_revenue`` / ``credited_forecast``,
    when the report has one (the team roll-up rule,
    :func:`reportkit.domain.quota.pooled_attainment`); otherwise ``revenue`` /
    ``ytd_revenue`` / ``forecast``.
    """
    ratio = _SUMMARY_RATIOS.get(key)
    if ratio is None:
        return None
    basis = _BASIS_KEYS[ratio[0]]
    return (basis, ratio[1]) if basis in available else ratio
