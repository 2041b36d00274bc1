"""Canonical tables and the :class:`Dataset` that holds them.

Column names, dtypes and units are documented in ``docs/architecture.md`` and the
README ("Data model"). The pandera schemas here are the single definition of what
a valid canonical table is; :mod:`reportkit.mapping` produces frames that pass them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from .periods import FiscalCalendar

__all__ = ["Dataset", "TABLES", "REQUIRED_TABLES", "OPTIONAL_TABLES", "COLUMNS", "UNASSIGNED_ACCOUNT"]

UNASSIGNED_ACCOUNT = "(unassigned)"

# table -> ordered {column: (kind, nullable)}; kind is one of str, date, cents, float
COLUMNS: dict[str, dict[str, tuple[str, bool]]] = {
    "account_managers": {
        "account_manager_id": ("str", False),
        "name": ("str", False),
        "team": ("str", False),
        "sales_manager": ("str", False),
        "region": ("str", True),
        "hire_date": ("date", True),
        "end_date": ("date", True),
    },
    "quotas": {
        "account_manager_id": ("str", False),
        "period_start": ("date", False),
        "period_end": ("date", False),
        "quota_cents": ("cents", False),
        "currency": ("str", False),
    },
    "deals": {
        "deal_id": ("str", False),
        "account_manager_id": ("str", True),
        "account_id": ("str", False),
        "close_date": ("date", False),
        "amount_cents": ("cents", False),
        "currency": ("str", False),
        "stage": ("str", False),
        "territory": ("str", True),
        "product": ("str", True),
    },
    "accounts": {
        "account_id": ("str", False),
        "name": ("str", False),
        "segment": ("str", True),
        "owner_id": ("str", True),
        "handover_date": ("date", True),
    },
    "pipeline": {
        "opportunity_id": ("str", False),
        "account_manager_id": ("str", False),
        "account_id": ("str", False),
        "stage": ("str", False),
        "probability": ("float", False),
        "expected_close_date": ("date", True),
        "amount_cents": ("cents", False),
    },
    "territories": {
        "account_manager_id": ("str", False),
        "territory": ("str", False),
    },
}
REQUIRED_TABLES = ("account_managers", "quotas", "deals")
OPTIONAL_TABLES = ("accounts", "pipeline", "territories")
TABLES = REQUIRED_TABLES + OPTIONAL_TABLES


@dataclass(frozen=True)
class Dataset:
    """All canonical tables of one source, validated.

    Attributes
    ----------
    account_managers, quotas, deals : pandas.DataFrame
        Required tables; columns per :data:`COLUMNS`.
    accounts, pipeline, territories : pandas.DataFrame or None
        Optional tables. A report without them still renders.
    currency : str
        ISO 4217 code of every amount (a dataset is single-currency; mixed
        currencies without exchange rates are refused at load).
    calendar : FiscalCalendar
    crediting : {"owner", "territory"}
        ``owner``: a deal credits its ``account_manager_id``. ``territory``: a deal
        credits every AM assigned to its ``territory`` (an overlay: the same deal
        can credit several people, so team totals count each deal once).
    sources : dict
        table name -> where it was read from (for messages and provenance).
    """

    account_managers: pd.DataFrame
    quotas: pd.DataFrame
    deals: pd.DataFrame
    accounts: pd.DataFrame | None = None
    pipeline: pd.DataFrame | None = None
    territories: pd.DataFrame | None = None
    currency: str = "USD"
    calendar: FiscalCalendar = field(default_factory=FiscalCalendar)
    crediting: Literal["owner", "territory"] = "owner"
    sources: dict[str, str] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame | None:
        return getattr(self, name)
