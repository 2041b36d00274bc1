"""What kind of value a cell holds: the rules the notebook helpers and the workbooks share.

Both outputs show a report's figures the same way, so the two questions they ask of
every value have one home here: is it missing (shown as :data:`NA`, never ``0`` or
``inf``), and is its column a fraction shown as percent (1.0 == 100 %)?
:mod:`reportkit.render.notebook` formats the answer as text, :mod:`reportkit.render.excel`
as cell values and number formats. Display only: nothing here computes money.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pandas as pd

__all__ = ["NA", "PERCENT_COLUMNS", "is_missing", "is_percent_key"]

NA = "n/a"
"""How a missing or undefined value is shown everywhere."""

PERCENT_COLUMNS = frozenset(
    {
        "attainment",
        "forecast_attainment",
        "growth_vs_last_year",
        "rate",
        "probability",
        "share",
        "trend",
        "share_of_am_revenue",
        "pace",
        "error",
        "grr",
        "nrr",
        "commission_share_of_revenue",
    }
)
"""Columns (and summary keys) holding fractions shown as percent (1.0 == 100 %)."""

_MONEY_RATE_KEYS = frozenset({"run_rate", "forecast_run_rate"})  # money named *_rate: a forecast, not a fraction


def is_missing(value: Any) -> bool:
    """Whether a value is missing: shown as :data:`NA` in the notebook and the workbook.

    Parameters
    ----------
    value : Any
        A cell's value: ``None``, ``float``, ``Decimal``, pandas or NumPy scalars, text.

    Returns
    -------
    bool
        True for ``None``, NaN, NaT, pandas ``NA`` and ``Decimal("NaN")``; False for
        everything else, including values ``pd.isna`` cannot judge (lists, objects).

    Examples
    --------
    >>> is_missing(None), is_missing(float("nan")), is_missing(Decimal("NaN")), is_missing(pd.NaT)
    (True, True, True, True)
    >>> is_missing(0), is_missing(""), is_missing(Decimal("0.00"))
    (False, False, False)
    """
    if value is None:
        return True
    if type(value) in (int, str):  # never missing; the commonest cells skip pandas' check
        return False
    if isinstance(value, Decimal):
        return value.is_nan()
    if isinstance(value, float):
        return math.isnan(value)
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def is_percent_key(name: str) -> bool:
    """Whether a column or summary key holds a fraction shown as percent (1.0 == 100 %).

    Parameters
    ----------
    name : str
        A column name or summary key (``attainment``, ``ytd_attainment``, ``win_rate``).

    Returns
    -------
    bool
        True for :data:`PERCENT_COLUMNS`, names ending in ``_attainment``, ``_rate``
        or ``_share`` and names starting with ``attainment``; False for the money columns named
        ``*_rate`` (``run_rate``, ``forecast_run_rate``: a forecast in money).

    Examples
    --------
    >>> is_percent_key("ytd_attainment"), is_percent_key("win_rate"), is_percent_key("run_rate")
    (True, True, False)
    """
    name = str(name)
    if name in _MONEY_RATE_KEYS:
        return False
    return name in PERCENT_COLUMNS or name.endswith(("_attainment", "_rate", "_share")) or name.startswith("attainment")
