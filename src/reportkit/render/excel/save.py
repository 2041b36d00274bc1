"""``save_workbook``: the helper a declared kind's template calls to write its workbook (``docs/templates.md``).

Re-exported by :mod:`reportkit.render.notebook`, where templates import their helpers from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...core.errors import TemplateError
from ...reports.builders import REPORT_KINDS
from ..style import branding_of
from . import write_workbook

__all__ = ["save_workbook"]


def save_workbook(report: Any, workbook_file: str | Path, company: str | None = None) -> Path | None:
    """Write a report object's workbook to ``workbook_file``: the helper a declared kind's template calls.

    A declared kind that lists ``xlsx`` in its ``formats`` gets a ``workbook_file``
    parameter (a path relative to the output folder, where its kernel runs) and must
    write it, with this helper, or the report fails (``docs/templates.md``). The
    workbook is the one the batch writes for the built-in kind of the report object
    (:func:`reportkit.render.excel.write_workbook`: the same cents as the page).

    Parameters
    ----------
    report : AccountManagerReport, TeamReport or CompanyReport
    workbook_file : str or Path
        Empty (a template run by hand): nothing is written.
    company : str, optional
        The title row's company; default params ``branding.company`` or ``name``.

    Returns
    -------
    Path or None
        The workbook written.

    Raises
    ------
    TemplateError
        The report object has no workbook layout (an account report).
    """
    if not workbook_file:
        return None
    if getattr(report, "kind", "") not in REPORT_KINDS:
        raise TemplateError(
            f"a {getattr(report, 'kind', type(report).__name__)!r} report has no workbook layout",
            hint="drop xlsx from the kind's formats, or write the frames you need with pandas.ExcelWriter",
        )
    path = Path(workbook_file)
    write_workbook(report, path, company=company if company is not None else branding_of(report).company or "")
    return path
