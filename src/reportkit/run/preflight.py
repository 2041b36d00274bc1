"""Checks before any kernel starts: the params' period, the templates, the Jupyter kernels.

Every check here needs no data set and starts no process, so a batch with a bad
template or a missing kernel is refused at once (exit code 3), and a bad period
label, or a declared kind's template whose parameters cell does not match its
declaration (:func:`check_parameters_cell`), before the data is read (exit code 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat

from ..config.params import BatchParams
from ..core.errors import KernelNotFoundError, ParamsError, TemplateError
from ..core.periods import FiscalCalendar, Period
from ..domain import loading
from ..reports.builders import ReportKind

__all__ = [
    "KERNEL_NAME",
    "CELL_TYPES",
    "check_kernel",
    "check_parameters_cell",
    "check_pdf",
    "check_period",
    "check_template",
    "load_batch_inputs",
]

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


CELL_TYPES: dict[str, tuple[str, ...]] = {
    "str": ("str",),
    "int": ("int",),
    "float": ("float",),
    "bool": ("bool",),
    "decimal": ("str", "Decimal", "decimal.Decimal"),
    "date": ("str", "date", "datetime.date"),
}
"""The annotations a parameters cell may give a declared parameter of each type (``decimal``
and ``date`` arrive as text: ``min_amount: str = "0"``)."""


def check_parameters_cell(path: Path, kind: ReportKind) -> None:
    """Check a declared kind's template's parameters cell against what the batch gives it, before any kernel starts.

    The cell is read as ``papermill --help-notebook`` reads it
    (:func:`papermill.inspect_notebook`: ``name: type = default  # help``). It must name
    exactly :meth:`ReportKind.expected_parameters` (the standard ones of its ``per``,
    ``workbook_file`` when it writes a workbook, the declared ones), each annotated with
    its type (:data:`CELL_TYPES`; the standard ones ``str``).

    Raises
    ------
    ParamsError
        Every unknown, missing or mistyped parameter at once, each with the template,
        the parameter and the fix (exit code 2).
    """
    from papermill import inspect_notebook  # lazy: papermill only for a batch with declared kinds

    declared = dict(kind.parameter_types)
    cell = inspect_notebook(str(path))
    where = f"template {path.name!r} (report kind {kind.name!r})"
    problems = []
    for name in cell:
        if name not in kind.expected_parameters():
            problems.append(
                f"{where}: parameter {name!r} is not declared; add it to params report_kinds.{kind.name}.parameters "
                f"(e.g. {name}: {{type: str, default: ...}}) or remove it from the parameters cell"
            )
    for name in kind.expected_parameters():
        want = declared.get(name, "str")
        if name not in cell:
            problems.append(
                f"{where}: parameter {name!r} is missing from the parameters cell; add the line "
                f"'{name}: {CELL_TYPES[want][0]} = ...  # help'"
            )
        elif cell[name]["inferred_type_name"] not in CELL_TYPES[want]:
            got = cell[name]["inferred_type_name"]
            value = kind.parameters.get(name, cell[name]["default"])  # the declared value, as the cell writes it
            default = f'"{value}"' if name in kind.parameters and isinstance(value, str) else value
            problems.append(
                f"{where}: parameter {name!r} is annotated {'no type' if got == 'None' else repr(got)} but is declared "
                f"{want}; write it '{name}: {CELL_TYPES[want][0]} = {default}', or declare it as the template has it "
                f"(params report_kinds.{kind.name}.parameters.{name}.type)"
            )
    if problems:
        raise ParamsError("\n".join(problems), hint="'papermill --help-notebook TEMPLATE' shows what the cell declares")


def check_template(path: Path, kind: ReportKind | None = None) -> nbformat.NotebookNode:
    """Read a template and make sure it has a ``parameters``-tagged cell (and, for a declared kind, the right one).

    Parameters
    ----------
    path : Path
    kind : ReportKind, optional
        A declared kind: its parameters cell is checked by :func:`check_parameters_cell`.

    Raises
    ------
    TemplateError
        Missing, unreadable, not a notebook, or no ``parameters`` cell.
    ParamsError
        A declared kind's parameters cell does not match its declaration.
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
    if kind is not None and not kind.builtin:
        check_parameters_cell(path, kind)
    return nb


def check_kernel(name: str = KERNEL_NAME) -> None:
    """Raise :class:`KernelNotFoundError` unless Jupyter kernel ``name`` is installed.

    A plain kernel spec in Jupyter's data folders (:func:`plain_kernel_spec`) is found without
    importing jupyter_client (0.27-0.32 s of CPU, zmq and its clients: the batch process starts
    no kernel itself); any other case is asked of jupyter_client's ``KernelSpecManager``.
    """
    if plain_kernel_spec(name):
        return
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        raise KernelNotFoundError(
            f"Jupyter kernel {name!r} is not installed",
            hint=f"run 'make kernel' or 'python -m ipykernel install --sys-prefix --name {name}'",
        ) from None


_SPEC_TEXTS = ("name", "mimetype", "display_name", "language", "kernel_protocol_version", "resource_dir")
"""The text fields of jupyter_client's ``KernelSpec`` (``argv`` a list of text, ``env`` and ``metadata`` objects,
``interrupt_mode`` ``message`` or ``signal``): a kernel.json of only these loads as a ``KernelSpec``."""


def plain_kernel_spec(name: str) -> bool:
    """True when jupyter_client's ``KernelSpecManager().get_kernel_spec(name)`` surely returns a spec; False: ask it.

    It looks through ``jupyter_core.paths.jupyter_path("kernels")`` (then IPython's folder and,
    for ``python3``, ipykernel's own spec) for the first folder named ``name`` in any case
    holding a ``kernel.json``, reads it into a ``KernelSpec`` and checks its provisioner.
    True here means: that first folder is in Jupyter's data folders and its ``kernel.json``
    is a plain spec (an ``argv`` of text, only ``KernelSpec``'s fields with their types, no
    ``kernel_provisioner``: the local provisioner, always available). Anything else (no such
    folder there, other JSON, a provisioner) is False, and :func:`check_kernel` asks
    jupyter_client, which then finds it, or not, and says why. Pinned to jupyter_client 8
    (``tests/test_kernel_check.py``: the answer agrees with ``KernelSpecManager``'s, case by case).
    """
    import json
    import os

    from jupyter_core.paths import jupyter_path

    for folder in [d for d in jupyter_path("kernels") if os.path.isdir(d)]:
        for entry in os.listdir(folder):
            path = os.path.join(folder, entry)
            if entry.lower() == name.lower() and os.path.isdir(path) and os.path.isfile(os.path.join(path, "kernel.json")):
                try:
                    with open(os.path.join(path, "kernel.json"), encoding="utf-8") as f:
                        spec = json.load(f)
                except (OSError, ValueError):
                    return False
                return _plain_spec(spec)
    return False


def _plain_spec(spec: Any) -> bool:
    """A kernel.json's object that loads as jupyter_client's ``KernelSpec`` with the local provisioner."""
    if not isinstance(spec, dict) or not isinstance(spec.get("argv"), list) or not all(isinstance(a, str) for a in spec["argv"]):
        return False
    texts = all(isinstance(spec[k], str) for k in _SPEC_TEXTS if k in spec)
    objects = all(isinstance(spec.get(k, {}), dict) for k in ("env", "metadata"))
    mode = str(spec.get("interrupt_mode", "signal")).lower() in ("message", "signal") and isinstance(
        spec.get("interrupt_mode", ""), str
    )
    known = set(spec) <= {"argv", "env", "metadata", "interrupt_mode", *_SPEC_TEXTS}
    return texts and objects and mode and known and "kernel_provisioner" not in spec.get("metadata", {})


def check_pdf(params: BatchParams, kinds: list[ReportKind] | None = None, *, on_workers: bool = False) -> tuple[BatchParams, Any]:
    """With params ``pdf.enabled`` (or a declared kind of ``kinds`` listing ``pdf``), choose the PDF renderer
    (params ``pdf.renderer``: :func:`reportkit.render.pdf.choose_renderer`) and refuse to start where it cannot run.

    ``on_workers``: other machines print (a Dask cluster); each worker chooses and checks
    the renderer for itself when it prints (:func:`reportkit.render.pdf.renderer_on_workers`),
    so this machine needs no renderer and ``params`` is returned unchanged.

    Returns
    -------
    params : BatchParams
        ``params`` with ``pdf.renderer`` and ``pdf.chromium`` resolved (``auto`` made
        ``chromium`` with the browser's path, or ``weasyprint``), so every job uses the
        one choice; ``params`` unchanged when the batch writes no PDFs, or ``on_workers``.
    engine : reportkit.render.pdf.PdfEngine or None
        The renderer the workers start and the manifest records (``on_workers``: what
        params asked, each worker's rule); None: no PDFs.

    Raises
    ------
    EnvironmentError_
        Naming what is missing and how to install it (exit code 3), before any report
        runs (never ``on_workers``): ``chromium`` asked for without a browser or Playwright; WeasyPrint or
        Pango missing where it is the renderer (or, for ``auto``, where neither can run).
    """
    if not params.pdf.enabled and not any(not k.builtin and "pdf" in k.formats for k in kinds or ()):
        return params, None
    from ..render.pdf import choose_renderer, renderer_on_workers  # lazy: a renderer only for a batch that writes PDFs

    if on_workers:
        return params, renderer_on_workers(params.pdf.renderer, params.pdf.chromium)
    engine = choose_renderer(params.pdf.renderer, params.pdf.chromium)
    pdf = params.pdf.model_copy(update={"renderer": engine.name, "chromium": engine.executable})
    return params.model_copy(update={"pdf": pdf}), engine
