"""The registry of report kinds: each kind's template, builder and output naming, in one table.

The batch, the CLI, the index and :func:`reportkit.render.notebook.load_report` read
:data:`REPORT_KINDS`; :func:`build_report` builds one report with its kind's builder.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..config.params import BatchParams
from ..core.errors import ParamsError
from ..data.model import Dataset
from .account_manager import build_account_manager_report
from .company_report import build_company_report
from .team import build_team_report

__all__ = ["ReportKind", "REPORT_KINDS", "build_report"]

#: The builders a :class:`ReportKind` may name, by name.
_BUILDERS: dict[str, Callable[..., Any]] = {
    "build_account_manager_report": build_account_manager_report,
    "build_team_report": build_team_report,
    "build_company_report": build_company_report,
}


@dataclass(frozen=True)
class ReportKind:
    """One registered kind of report: its template, builder and how its outputs are named.

    Attributes
    ----------
    name : str
        The kind, as in params ``reports`` and ``manifest.json`` (``"team"``).
    template : str
        File name under ``templates/``.
    title : str
        Document title of its workbook (``"Team report"``).
    folder : str
        Output subfolder of a batch (``"teams"``).
    id_parameter : str
        The template parameter naming the report (``"team"``).
    label : str
        One report of this kind in words, for the index and the CLI (``"team"``).
    id_from_name : bool
        The id is derived from the name (a team's slug): the name alone names the report.
    builder : str
        Name of its builder function ``(ds, report_id, period, params, as_of) -> report``
        (:func:`reportkit.reports.builders.build_account_manager_report` ...).
    """

    name: str
    template: str
    title: str
    folder: str
    id_parameter: str
    label: str
    id_from_name: bool
    builder: str

    def build(self, ds: Dataset, report_id: str, period: str, params: BatchParams, as_of: datetime.date) -> Any:
        """Build one report object of this kind (see :attr:`builder`)."""
        return _BUILDERS[self.builder](ds, report_id, period, params, as_of)


REPORT_KINDS: dict[str, ReportKind] = {
    k.name: k
    for k in (
        ReportKind(
            "account_manager",
            "account_manager.ipynb",
            "Account manager report",
            "account_managers",
            "account_manager_id",
            "account manager",
            False,
            "build_account_manager_report",
        ),
        ReportKind("team", "team.ipynb", "Team report", "teams", "team", "team", True, "build_team_report"),
        ReportKind("company", "company.ipynb", "Company report", "company", "company", "company", True, "build_company_report"),
    )
}
"""The registry of report kinds, in planning order: batch, CLI, params, index and templates read it.

Its names are :data:`reportkit.config.params.REPORT_KIND_NAMES` (params sits below this
module and cannot import it; a test keeps the two equal)."""


def build_report(ds: Any, params: BatchParams, *, kind: str, report_id: str, period: str, as_of: datetime.date) -> Any:
    """Build one report object with its kind's builder in the registry (:data:`REPORT_KINDS`)."""
    if kind not in REPORT_KINDS:
        raise ParamsError(f"unknown report kind {kind!r}", hint=f"use one of {sorted(REPORT_KINDS)}")
    return REPORT_KINDS[kind].build(ds, report_id, period, params, as_of)
