"""The registry of report kinds: each kind's template, builder, files and output naming, in one table.

Built-in kinds (:data:`REPORT_KINDS`: account manager, team, company) and the kinds a
coordinator declares in params ``report_kinds`` (``docs/templates.md``) are the same
:class:`ReportKind`; :func:`batch_kinds` is the one table a batch reads (the batch, the
index, the manifest and :func:`reportkit.render.notebook.load_report`), and
:func:`build_report` builds one report with its kind's builder. What one report is
*about* (``per``: account manager, team, account, company) decides its report object,
its id parameter and how its id is named; a declared kind shares all three with the
built-in kind of its ``per`` (``account`` has no built-in kind: :class:`AccountReport`).
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..config.params import STANDARD_PARAMETERS, BatchParams
from ..core.errors import ParamsError
from ..data.model import Dataset
from .account import build_account_report
from .account_manager import build_account_manager_report
from .company_report import build_company_report
from .team import build_team_report

__all__ = ["ReportKind", "REPORT_KINDS", "PER_BUILDERS", "batch_kinds", "build_report"]

#: The builders a :class:`ReportKind` may name, by name.
_BUILDERS: dict[str, Callable[..., Any]] = {
    "build_account_manager_report": build_account_manager_report,
    "build_team_report": build_team_report,
    "build_company_report": build_company_report,
    "build_account_report": build_account_report,
}

PER_BUILDERS: dict[str, str] = {
    "account_manager": "build_account_manager_report",
    "team": "build_team_report",
    "company": "build_company_report",
    "account": "build_account_report",
}
"""The builder of each ``per``: a declared kind's report object is that of its ``per``."""

_ID_FROM_NAME = {"account_manager": False, "team": True, "company": True, "account": False}
_LABEL = {"account_manager": "account manager", "team": "team", "company": "company", "account": "account"}


@dataclass(frozen=True)
class ReportKind:
    """One registered kind of report: its template, builder, files and how its outputs are named.

    Attributes
    ----------
    name : str
        The kind, as in params ``reports`` and ``manifest.json`` (``"team"``).
    template : str
        File name under ``templates/`` (built-in kinds) or the template's absolute path
        (a declared kind, resolved from the params file).
    title : str
        The report in words: workbook and PDF title, index (``"Team report"``).
    folder : str
        Output subfolder of a batch (``"teams"``; a declared kind's is its name).
    id_parameter : str
        The template parameter naming the report (``"team"``).
    label : str
        One report of this kind in words, for the index and the CLI (``"team"``).
    id_from_name : bool
        The id is derived from the name (a team's slug): the name alone names the report.
    builder : str
        Name of its builder function ``(ds, report_id, period, params, as_of) -> report``.
    per : str
        What one report is about: ``account_manager``, ``team``, ``account`` or ``company``.
    formats : tuple of str
        Files besides the notebook: ``("html", "xlsx")`` plus ``pdf`` with params
        ``pdf.enabled`` for a built-in kind; a declared kind's ``formats`` (``html`` always).
    batch_workbook : bool
        The batch writes the workbook (:func:`reportkit.render.excel.write_workbook`);
        False: the template writes it to its ``workbook_file`` parameter.
    parameters : dict
        Declared extra parameters: name -> value passed to the template.
    parameter_types : dict
        Declared extra parameters: name -> declared type (``decimal``, ``date`` ...).
    headline : bool
        Its report object's ``summary`` gives the index's headline figures (company).
    post_step : str or None
        A batch step run on this kind's report objects after every report
        (``"company_workbook"`` for teams: :mod:`reportkit.run.company`).
    builtin : bool
        One of :data:`REPORT_KINDS`.
    declaration : str
        Hash of a declared kind's params entry (a resume fingerprint part); ``""`` for built-ins.
    """

    name: str
    template: str
    title: str
    folder: str
    id_parameter: str
    label: str
    id_from_name: bool
    builder: str
    per: str = ""
    formats: tuple[str, ...] = ("html", "xlsx")
    batch_workbook: bool = True
    parameters: dict[str, Any] = field(default_factory=dict)
    parameter_types: dict[str, str] = field(default_factory=dict)
    headline: bool = False
    post_step: str | None = None
    builtin: bool = True
    declaration: str = ""

    def build(self, ds: Dataset, report_id: str, period: str, params: BatchParams, as_of: datetime.date) -> Any:
        """Build one report object of this kind (see :attr:`builder`)."""
        return _BUILDERS[self.builder](ds, report_id, period, params, as_of)

    def expected_parameters(self) -> tuple[str, ...]:
        """Every parameter the batch gives this kind's template (standard ones, ``workbook_file``, declared)."""
        workbook = ("workbook_file",) if not self.batch_workbook and "xlsx" in self.formats else ()
        return (*STANDARD_PARAMETERS[self.per], *workbook, *self.parameters)


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
            per="account_manager",
        ),
        ReportKind(
            "team", "team.ipynb", "Team report", "teams", "team", "team", True, "build_team_report", per="team",
            post_step="company_workbook",
        ),
        ReportKind(
            "company", "company.ipynb", "Company report", "company", "company", "company", True, "build_company_report",
            per="company", headline=True,
        ),
    )
}  # fmt: skip
"""The built-in report kinds, in planning order.

Their names are :data:`reportkit.config.params.REPORT_KIND_NAMES` (params sits below this
module and cannot import it; a test keeps the two equal)."""


def batch_kinds(params: BatchParams) -> dict[str, ReportKind]:
    """Every kind a batch with ``params`` knows: the built-in ones, then those declared in ``report_kinds``.

    Parameters
    ----------
    params : BatchParams
        Its ``report_kinds`` are already checked (names, template inside the project).

    Returns
    -------
    dict
        Kind name -> :class:`ReportKind`; a declared kind takes its id parameter, label,
        id naming and builder from its ``per``, its folder from its name.
    """
    kinds = dict(REPORT_KINDS)
    for name, spec in params.report_kinds.items():
        per_kind = REPORT_KINDS.get(spec.per)
        kinds[name] = ReportKind(
            name=name,
            template=str(spec.template),
            title=spec.title,
            folder=name,
            id_parameter=STANDARD_PARAMETERS[spec.per][1],
            label=per_kind.label if per_kind else _LABEL[spec.per],
            id_from_name=_ID_FROM_NAME[spec.per],
            builder=PER_BUILDERS[spec.per],
            per=spec.per,
            formats=tuple(dict.fromkeys(("html", *spec.formats))),
            batch_workbook=False,
            parameters={p: v.value() for p, v in spec.parameters.items()},
            parameter_types={p: v.type for p, v in spec.parameters.items()},
            builtin=False,
            declaration=hashlib.sha256(spec.model_dump_json().encode("utf-8")).hexdigest(),
        )
    return kinds


def build_report(ds: Any, params: BatchParams, *, kind: str, report_id: str, period: str, as_of: datetime.date) -> Any:
    """Build one report object with its kind's builder (:func:`batch_kinds`; also a ``per`` such as ``"account"``)."""
    kinds = batch_kinds(params)
    if kind in kinds:
        return kinds[kind].build(ds, report_id, period, params, as_of)
    if kind in PER_BUILDERS:
        return _BUILDERS[PER_BUILDERS[kind]](ds, report_id, period, params, as_of)
    raise ParamsError(f"unknown report kind {kind!r}", hint=f"use one of {sorted({*kinds, *PER_BUILDERS})}")
