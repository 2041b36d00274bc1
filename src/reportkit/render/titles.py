"""The print title of a report: company, report, period and as-of, one wording for every output.

The PDF's running header, each workbook sheet's title row and its printed page
header, and the statement workbook all say the same thing (:class:`PrintTitle`),
so a printed page names what it belongs to whichever file it came from.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

__all__ = ["PrintTitle", "print_title", "statement_title"]


@dataclass(frozen=True)
class PrintTitle:
    """What every printed page of a report names.

    Attributes
    ----------
    company : str
        The params ``name`` (e.g. ``"Demo Co"``); may be empty.
    report : str
        The report in words: its kind's title and whom it is about, e.g.
        ``"Account manager report: Alice Andersen (AM-001)"`` (the id only where it
        differs from the name).
    period : str
        Fiscal period label, e.g. ``"FY2025-Q4"``.
    as_of : datetime.date
        The report date.
    """

    company: str
    report: str
    period: str
    as_of: datetime.date

    @property
    def when(self) -> str:
        """``"FY2025-Q4 · as of 2025-12-31"``."""
        return f"{self.period} · as of {self.as_of.isoformat()}"

    @property
    def text(self) -> str:
        """One line: ``"Demo Co · Account manager report: Alice Andersen (AM-001) · FY2025-Q4 · as of 2025-12-31"``."""
        return " · ".join(p for p in (self.company, self.report, self.when) if p)


def _who(name: Any, ident: Any) -> str:
    name, ident = str(name), str(ident)
    return name if not ident or ident == name else f"{name} ({ident})"


def print_title(report: Any, company: str = "", *, kind_title: str | None = None) -> PrintTitle:
    """The :class:`PrintTitle` of a report object (account manager, team, or any registered kind).

    Parameters
    ----------
    report : report object
        Needs ``kind``, ``name``, ``period``, ``as_of``; ``id`` is shown after the
        name where it differs (a team's id is its slug: only registered kinds whose
        id comes from the name leave it out).
    company : str, default ""
        The params ``name``.
    kind_title : str, optional
        The report in words; default the registry's title of ``report.kind``
        (:data:`reportkit.reports.builders.REPORT_KINDS`).
    """
    from ..reports.builders import REPORT_KINDS  # the registry: one title per kind

    kind = REPORT_KINDS.get(getattr(report, "kind", ""))
    title = kind_title or (kind.title if kind is not None else "Report")
    who = str(report.name) if kind is not None and kind.id_from_name else _who(report.name, getattr(report, "id", ""))
    return PrintTitle(str(company or ""), f"{title}: {who}", str(report.period), report.as_of)


def statement_title(
    account_manager_id: str, name: str | None, period: str, as_of: datetime.date, company: str = ""
) -> PrintTitle:
    """The :class:`PrintTitle` of a commission statement (``reportkit statement``)."""
    return PrintTitle(
        str(company or ""), f"Commission statement: {_who(name or account_manager_id, account_manager_id)}", period, as_of
    )
