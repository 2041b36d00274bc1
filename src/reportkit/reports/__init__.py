"""Layer 5, reports: report objects, their builders and the registry of report kinds.

Each concern has its module (objects, kinds, planning, context, statements,
sections, account_manager, team, company); :mod:`reportkit.reports.builders`
re-exports all their names. ``reportkit.reports.NAME`` keeps working for every
name of it (the flat package's ``reportkit.reports``): a compatibility alias
resolved on first use, see ``docs/architecture.md``.
"""

from __future__ import annotations

from typing import Any

from . import builders


def __getattr__(name: str) -> Any:
    try:
        return getattr(builders, name)
    except AttributeError:
        raise AttributeError(f"module 'reportkit.reports' has no attribute {name!r}") from None


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(dir(builders)))
