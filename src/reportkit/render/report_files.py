"""Loading a report in a template: its object (unpickled, or built by its kind when run by hand), the templates folder, the params file.

Re-exported by :mod:`reportkit.render.notebook`, where templates import them from.
"""

from __future__ import annotations

import datetime
import os
import pickle
from pathlib import Path
from typing import Any

from ..config.params import STANDARD_PARAMETERS
from ..core.errors import ParamsError
from ..domain.loading import load_inputs, parse_date
from ..reports.builders import PER_BUILDERS, build_report
from .figures import follow_report

__all__ = ["load_report", "default_template_dir", "resolve_params_file"]


def load_report(
    report_data: str | Path = "",
    *,
    kind: str,
    report_id: str,
    params_file: str | Path | None = None,
    period: str | None = None,
    as_of: str | datetime.date | None = None,
) -> Any:
    """Return the report object a template displays.

    ``reportkit batch`` builds each report in-process and pickles it; the template
    then only unpickles it (``report_data``). Run by hand with ``report_data`` empty,
    the template builds the same object from ``params_file`` instead.

    Parameters
    ----------
    report_data : str or Path
        Pickle written by ``reportkit batch`` (trusted: only files it wrote), or
        ``""`` to compute from ``params_file``.
    kind : {"account_manager", "team", "company", "account"}
        What the report is about (a declared kind's template passes its ``per``).
    report_id : str
        Account manager id (``"AM-001"``), team id or name, ``"company"`` or account id.
    params_file : str or Path, optional
        Batch params YAML. A relative path is tried against the current working
        directory first, then against the templates folder (where the template's
        default ``../params/demo.yaml`` points); the error names both places
        when it is in neither.
    period : str, optional
        Period label, e.g. ``"FY2025-Q4"``; default: the params file's period.
    as_of : str or datetime.date, optional
        ISO date; default: the params file's ``as_of``.

    Returns
    -------
    AccountManagerReport or TeamReport

    Raises
    ------
    ParamsError
        The pickle is missing/unreadable, or holds a different report than the
        parameters name, or ``as_of`` is not an ISO date.
    """
    if kind not in PER_BUILDERS:
        raise ParamsError(f"unknown report kind {kind!r}", hint=f"use one of {sorted(PER_BUILDERS)}")
    as_of_date = parse_date(as_of)
    if report_data:
        path = Path(report_data)
        try:
            with path.open("rb") as fh:
                report = pickle.load(fh)
        except FileNotFoundError:
            raise ParamsError(
                f"report_data {str(path)!r} does not exist",
                hint="leave report_data empty to compute the report from params_file",
            ) from None
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
            raise ParamsError(f"report_data {str(path)!r} is not a reportkit report pickle: {exc}") from None
        _check_matches(report, kind, report_id, period, as_of_date, source=str(path))
        follow_report(report)  # a batch with PDFs off built it with print_charts=False: no SVG copies
        return report
    if not params_file:
        raise ParamsError("neither report_data nor params_file is set", hint="set params_file to a params YAML")
    params, ds = load_inputs(resolve_params_file(params_file))
    follow_report(None)  # built here, by hand: its charts keep their SVG for print
    return build_report(
        ds,
        params,
        kind=kind,
        report_id=str(report_id),
        period=period or params.period,
        as_of=as_of_date or params.as_of,
    )


def default_template_dir() -> Path:
    """The ``templates/`` folder: ``$REPORTKIT_TEMPLATES``, the repo's, or the package's."""
    env = os.environ.get("REPORTKIT_TEMPLATES")
    if env:
        return Path(env).resolve()
    package = Path(__file__).resolve().parents[1]  # src/reportkit (this file: src/reportkit/render/)
    for candidate in (package.parents[1] / "templates", package / "templates"):
        if candidate.is_dir():
            return candidate
    return package.parents[1] / "templates"


def resolve_params_file(params_file: str | Path, template_dir: str | Path | None = None) -> Path:
    """Where a template's ``params_file`` is: as given, else relative to the templates folder.

    An absolute path is returned as it is. A relative one is tried against the
    current working directory first (a template run from the repository root, or
    by ``papermill`` from anywhere), then against ``template_dir`` (default: the
    folder :func:`default_template_dir` finds, the notebook's own
    folder in JupyterLab).

    Raises
    ------
    ParamsError
        Neither exists; the message names both paths it tried.
    """
    path = Path(params_file)
    if path.is_absolute():
        return path
    if path.exists():
        return path
    if template_dir is None:
        template_dir = default_template_dir()
    beside = Path(template_dir) / path
    if beside.exists():
        return beside
    raise ParamsError(
        f"params_file {str(params_file)!r} not found: tried {str(path.resolve())!r} (current directory) "
        f"and {str(beside.resolve())!r} (templates folder)",
        hint="give an absolute path, or one relative to the current directory or to the templates folder",
    )


def _check_matches(report: Any, kind: str, report_id: str, period: str | None, as_of: datetime.date | None, source: str) -> None:
    got_kind = getattr(report, "kind", None)
    if got_kind != kind:
        raise ParamsError(f"{source}: holds a {got_kind!r} report, the template renders {kind!r}")
    if str(report.id) != str(report_id):
        raise ParamsError(f"{source}: holds the report of {report.id!r} but {STANDARD_PARAMETERS[kind][1]} is {report_id!r}")
    if period and report.period != period:
        raise ParamsError(f"{source}: holds period {report.period!r} but period is {period!r}")
    if as_of and report.as_of != as_of:
        raise ParamsError(f"{source}: is as of {report.as_of} but as_of is {as_of}")
