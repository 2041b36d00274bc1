"""``DIR/company.xlsx``: every team's figures and the company roll-up, written when every team report is ok."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any

from ..config.params import BatchParams
from ..core.periods import Period
from ..reports.builders import build_company_rollup, build_report
from .results import ReportResult

__all__ = ["COMPANY_WORKBOOK", "write_company_workbook"]

log = logging.getLogger(__name__)

COMPANY_WORKBOOK = "company.xlsx"


def write_company_workbook(
    out: Path,
    ds: Any,
    params: BatchParams,
    period: Period,
    results: list[ReportResult],
    team_objects: dict[str, Any],
    previous: dict[str, Any] | None,
    *,
    kind: str = "team",
) -> tuple[str | None, str | None]:
    """``DIR/company.xlsx``: every team's figures and the company's, when every team report succeeded.

    The company row is :func:`reportkit.reports.builders.build_company_rollup` (each deal
    once) of the batch's team report objects: the roll-up the company report computed from
    those very objects in the batch's context (computed here only when this step comes
    first, and then read by the company report), written by
    :func:`reportkit.render.excel.write_company_workbook`. It is the
    ``company_workbook`` post-step the team kind registers
    (:attr:`reportkit.reports.builders.ReportKind.post_step`): ``kind`` is that kind's name.

    Returns
    -------
    (path, error)
        ``path`` relative to ``out`` (None when no workbook is due: no team
        reports, or a team report failed, which already fails the batch), and
        ``error``: why a due workbook could not be written (the batch then fails;
        None when written). Nothing half-written is left: the workbook is written
        to a temporary name and moved into place, and on failure (or when none is
        due) an earlier run's ``company.xlsx`` is removed, so the folder never
        holds a company workbook that disagrees with its reports.
    """
    path = out / COMPANY_WORKBOOK
    teams = [r for r in results if r.kind == kind]
    if not teams or any(r.status != "ok" for r in teams):
        if previous and (previous.get("batch") or {}).get("company_workbook") == COMPANY_WORKBOOK:
            path.unlink(missing_ok=True)
        return None, None
    from ..render import excel  # lazy: a batch without team reports never imports the workbooks here

    try:
        objects = []
        for r in teams:  # reports kept by --only-failed were not rebuilt
            if r.id not in team_objects:
                team_objects[r.id] = build_report(ds, params, kind=kind, report_id=r.id, period=period.label, as_of=params.as_of)
            objects.append(team_objects[r.id])
        rollup = build_company_rollup(ds, objects, period.label, params, params.as_of)
        excel.write_company_workbook(
            objects, path, title=f"{params.name} — {period.label}", as_of=params.as_of, rollup=rollup, company=params.company
        )
    except Exception as exc:
        log.debug("the company workbook could not be written", exc_info=True)
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
        return None, f"{COMPANY_WORKBOOK} not written: {type(exc).__name__}: {exc}"
    return COMPANY_WORKBOOK, None
