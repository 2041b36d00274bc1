"""Checks before any kernel starts: the params' period, the templates, the Jupyter kernels.

Every check here needs no data set and starts no process, so a batch with a bad
template or a missing kernel is refused at once (exit code 3), and a bad period
label before the data is read (exit code 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat

from ..config.params import BatchParams
from ..core.errors import EnvironmentError_, KernelNotFoundError, TemplateError
from ..core.periods import FiscalCalendar, Period
from ..domain import loading

__all__ = ["KERNEL_NAME", "check_kernel", "check_pdf", "check_period", "check_template", "load_batch_inputs"]

KERNEL_NAME = "reportkit"
"""Jupyter kernel every template runs on (``make kernel`` installs it)."""


def load_batch_inputs(params_path: str | Path) -> tuple[BatchParams, Any]:
    """Load the params and the dataset they name: :func:`reportkit.domain.loading.load_inputs`."""
    return loading.load_inputs(params_path)


def check_period(label: str, calendar: FiscalCalendar) -> Period:
    """The period ``label`` names in ``calendar`` (:meth:`reportkit.core.periods.Period.parse`).

    Raises
    ------
    PeriodError
        ``label`` is not a period label such as ``FY2025-Q4``.
    """
    return Period.parse(label, calendar)


def check_template(path: Path) -> nbformat.NotebookNode:
    """Read a template and make sure it has a ``parameters``-tagged cell.

    Raises
    ------
    TemplateError
        Missing, unreadable, not a notebook, or no ``parameters`` cell.
    """
    if not path.is_file():
        raise TemplateError(f"template {str(path)!r} does not exist", hint="reinstall reportkit or set REPORTKIT_TEMPLATES")
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises several unrelated types
        raise TemplateError(f"template {str(path)!r} is not a readable notebook: {exc}") from None
    if not any("parameters" in c.get("metadata", {}).get("tags", []) for c in nb.cells):
        raise TemplateError(
            f"template {str(path)!r} has no cell tagged 'parameters'",
            hint="tag the cell that defines the parameters with 'parameters'",
        )
    return nb


def check_kernel(name: str = KERNEL_NAME) -> None:
    """Raise :class:`KernelNotFoundError` unless Jupyter kernel ``name`` is installed."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        raise KernelNotFoundError(
            f"Jupyter kernel {name!r} is not installed",
            hint=f"run 'make kernel' or 'python -m ipykernel install --sys-prefix --name {name}'",
        ) from None


def check_pdf(params: BatchParams) -> None:
    """With params ``pdf.enabled``, refuse to start where PDFs cannot be written (WeasyPrint or Pango missing).

    Raises
    ------
    EnvironmentError_
        Naming what is missing and how to install it (exit code 3), before any report runs.
    """
    if not params.pdf.enabled:
        return
    from ..render.pdf import pdf_unavailable  # lazy: WeasyPrint only for a batch that writes PDFs

    reason = pdf_unavailable()
    if reason:
        raise EnvironmentError_(reason, hint="or turn PDFs off for this batch: -p pdf.enabled=false")
