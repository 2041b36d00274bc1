"""One report's execution: :class:`ReportJob` in, :class:`JobOutcome` out (:func:`execute_report`).

The same function runs a report in a local worker process, in a thread of the batch
process or on a Dask worker: it executes the template through Papermill in a
single-use kernel, publishes the executed notebook (relative paths only), exports
the HTML and writes the workbook (and the PDF, when the batch asks for one). It never raises for a failing report: the outcome
says why, the notebook is kept with the failure visible, and no HTML or workbook
of it is published.
"""

from __future__ import annotations

import contextlib
import html
import logging
import os
import pickle
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from ..core.errors import ReportkitError, TemplateError
from ..render.pdf import PdfEngine, PdfPage, engine_here, render_pdf
from ..render.titles import print_title
from .html import export_html, export_print_body
from .outputs import atomic_write, relative
from .papermill_engine import execute_with_retry, register_engine
from .timeline import span

__all__ = ["JobOutcome", "ReportJob", "execute_report"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportJob:
    """One report's execution, self-contained and picklable.

    Built by the batch process after the report object is pickled to
    ``out/report_data``; run by :func:`execute_report` in a local thread or on a Dask
    worker (which must see ``out`` and ``template`` at the same paths).
    """

    kind: str
    report_id: str
    template: str
    """Absolute path of the template notebook."""
    kernel_name: str
    out: str
    """Absolute path of the batch output folder; the kernel starts in it."""
    ipynb: str
    html: str
    xlsx: str | None
    """Output paths, relative to ``out`` (``xlsx`` None: the report has no workbook)."""
    parameters: dict
    """Papermill parameters (paths relative to ``out``); ``report_data`` is the pickle."""
    title: str
    timeout_s: float
    warm: bool = True
    """Fork the kernel from the warm process (:mod:`reportkit.run.kernels`) where possible."""
    company: str = ""
    """The params ``name``: the workbook's and the PDF's title name it."""
    pdf: str | None = None
    """The PDF's path relative to ``out``; None when the batch writes no PDFs (params ``pdf.enabled``)."""
    pdf_paper: str = "A4"
    pdf_orientation: str = "landscape"
    pdf_engine: PdfEngine | None = None
    """The renderer the batch chose (params ``pdf.renderer``); None: chosen here (``auto``)."""
    batch_workbook: bool = True
    """The batch writes the workbook; False: the template wrote it to its ``workbook_file`` (a declared kind)."""
    kind_title: str | None = None
    """A declared kind's title (the PDF header names it); None: the registry's title of the report object's kind."""
    timeline: str = ""
    """Where the report's steps are stamped (:mod:`reportkit.run.timeline`); ``""``: nowhere."""


@dataclass
class JobOutcome:
    """What :func:`execute_report` produced: ``status`` ok/failed, outputs relative to ``out``."""

    status: str
    outputs: dict = field(default_factory=dict)
    error: str | None = None
    output_errors: dict = field(default_factory=dict)
    """Formats that could not be written although the report is ok (``{"pdf": reason}``)."""
    duration_s: float = 0.0
    worker: str | None = None
    """The Dask worker that executed the report (address, host, pid); None for a local run."""
    pdf_renderer: str | None = None
    """What printed its PDF (``chromium`` or ``weasyprint``); None: no PDF written."""


_KERNEL_ARGS = [
    # kernel start-up chatter (e.g. the TCP-encryption warning) is not the user's
    # business; cell errors still land in the notebook
    "--IPKernelApp.log_level=CRITICAL",
    # a single-use kernel has no use for IPython's history database
    "--HistoryManager.enabled=False",
]


def format_error(exc: BaseException, timeout_s: float | None = None, cell: int | None = None, death: str | None = None) -> str:
    """The one-line reason a report failed, as the manifest and index show it.

    A cell error names the exception and cell; a timeout the budget (``timeout_s``);
    a dead kernel what may have killed it, or ``death``, how the forked kernel ended
    (:func:`reportkit.run.kernels.kernel_deaths`: its exit code or signal, the last lines of its
    standard error, a known cause's meaning); a :class:`ReportkitError` its message and
    hint. ``cell`` (the cell that was running) is added for timeouts and dead kernels.
    """
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    where = f" (cell {cell})" if cell is not None else ""
    if isinstance(exc, PapermillExecutionError):
        value = str(exc.evalue).strip()
        return f"{exc.ename}: {value} (cell {exc.cell_index})"
    if isinstance(exc, CellTimeoutError):
        return f"Timeout: the report ran longer than its timeout of {timeout_s:g} s (params timeout_s / --timeout){where}"
    if isinstance(exc, DeadKernelError):
        how = death or "it exited or was killed, e.g. out of memory"
        return f"DeadKernelError: the kernel died while running the report ({how}){where}"
    if isinstance(exc, ReportkitError):
        return f"{type(exc).__name__}: {exc.message}" + (f" ({exc.hint})" if exc.hint else "")
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _deadline_timeout(timeout_s: float) -> Any:
    """An nbclient ``timeout_func``: each cell may use what is left of the report's budget."""
    deadline = time.monotonic() + timeout_s

    def remaining(cell: Any) -> float:
        return max(1.0, deadline - time.monotonic())

    return remaining


def _publish_notebook(tmp_nb: Path, ipynb: Path, template: Path, out: Path, nb: Any = None) -> None:
    """Move the executed notebook into place with papermill's absolute paths made relative.

    ``nb`` is the executed notebook when Papermill returned it (the report ran to the
    end); otherwise the one Papermill last wrote to ``tmp_nb`` is read back. When the
    returned notebook already names the published paths (the batch's engine put them
    there, :func:`reportkit.run.papermill_engine.register_engine`), Papermill's last
    write of it is the published notebook and is moved into place as it is.
    """
    try:
        published = {"input_path": template.name, "output_path": relative(ipynb, out)}
        if nb is not None and all(nb.metadata.get("papermill", {}).get(k) == v for k, v in published.items()):
            os.replace(tmp_nb, ipynb)  # Papermill wrote it last, as returned: no second serialisation
            return
        if nb is None:
            nb = nbformat.read(tmp_nb, as_version=4)
        pm_meta = nb.metadata.get("papermill", {})
        pm_meta.update(published)
        atomic_write(ipynb, nbformat.writes(nb))
        tmp_nb.unlink(missing_ok=True)
    except Exception:  # an unreadable notebook is still the evidence of what happened
        os.replace(tmp_nb, ipynb)


def _mark_failure(path: Path, message: str) -> int | None:
    """Make a kernel death or a timeout visible in the kept notebook.

    Papermill writes an error banner only for cell errors; for the other two ways
    a report fails this adds the same kind of banner at the top and an ``error``
    output on the cell that was running. Returns that cell's index (after the
    banner) or None.
    """
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:  # the notebook may not have been written at all
        return None
    running = None
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and cell.get("metadata", {}).get("papermill", {}).get("start_time"):
            running = i
    if running is not None:
        # after a timeout the cell may already show the KeyboardInterrupt of the
        # interrupt; the reason goes below it
        name, _, value = message.partition(": ")
        nb.cells[running].outputs.append(nbformat.v4.new_output("error", ename=name, evalue=value, traceback=[message]))
    banner = nbformat.v4.new_markdown_cell(
        f'<span style="color:red; font-family:Helvetica Neue, Helvetica, Arial, sans-serif; font-size:2em;">'
        f"This report failed: {html.escape(message)}</span>"
    )
    banner.metadata["tags"] = ["reportkit-error"]
    nb.cells.insert(0, banner)
    atomic_write(path, nbformat.writes(nb))
    return None if running is None else running + 1


def _publish_pdf(job: ReportJob, executed: Any, report: Any, outcome: JobOutcome) -> None:
    """Write the report's PDF (atomically); a failure is recorded in ``outcome.output_errors`` and leaves no file.

    The report stays ok: its notebook, HTML and workbook are published whatever
    happens to its PDF.
    """
    assert job.pdf is not None
    path = Path(job.out) / job.pdf
    try:
        page = PdfPage(print_title(report, job.company, kind_title=job.kind_title), job.pdf_paper, job.pdf_orientation)  # type: ignore[arg-type]
        engine = engine_here(job.pdf_engine)  # a Dask worker applies params pdf.renderer for itself (docs/pdf.md)
        atomic_write(path, render_pdf(export_print_body(executed), page, engine))
        outcome.outputs["pdf"], outcome.pdf_renderer = job.pdf, engine.name
    except Exception as exc:  # one PDF must not fail its report or the batch
        log.debug("PDF of %s %s failed", job.kind, job.report_id, exc_info=True)
        path.unlink(missing_ok=True)
        outcome.output_errors["pdf"] = format_error(exc)


def _publish_workbook(job: ReportJob, report: Any, xlsx: Path) -> None:
    """Write the report's workbook, or check that its template wrote one (a declared kind listing ``xlsx``).

    Raises
    ------
    TemplateError
        The template was to write the workbook and did not.
    """
    if job.batch_workbook:
        from ..render import excel  # lazy: a report worker preloads it; the batch process imports it only with threads

        excel.write_workbook(report, xlsx, company=job.company)
    elif not xlsx.is_file():
        raise TemplateError(
            f"template {Path(job.template).name!r} lists xlsx in its formats but wrote no workbook to workbook_file",
            hint="call save_workbook(report, workbook_file) in a cell (docs/templates.md), or drop xlsx from its formats",
        )


def execute_report(job: ReportJob, report: Any = None) -> JobOutcome:
    """Execute one report's template and publish its ipynb, HTML and xlsx.

    Parameters
    ----------
    job : ReportJob
        The report to run; its pickle must exist at ``job.out / job.parameters["report_data"]``.
    report : AccountManagerReport or TeamReport, optional
        The unpickled report object when the caller has it (local runs); otherwise it
        is read from the pickle (a Dask worker).

    Returns
    -------
    JobOutcome
        Never raises for a failing report: a cell error, a dead or hung kernel, an
        unwritable file all give ``status="failed"`` with the reason, the executed
        notebook kept (with a failure banner) and no HTML, xlsx or PDF. A PDF that
        cannot be rendered leaves the report ok, without a PDF, and its reason in
        ``output_errors["pdf"]``.
    """
    with span("report", to=job.timeline, kind=job.kind, id=job.report_id):
        return _execute_report(job, report)


def _execute_report(job: ReportJob, report: Any) -> JobOutcome:
    """:func:`execute_report`'s body; each step stamped on the batch's timeline (:mod:`reportkit.run.timeline`)."""
    t0 = time.perf_counter()
    named = {"to": job.timeline, "kind": job.kind, "id": job.report_id}
    out = Path(job.out)
    ipynb, html_path = out / job.ipynb, out / job.html
    tmp_nb = out / ".work" / f"{job.kind}-{ipynb.stem}.ipynb"
    outcome = JobOutcome(status="failed")
    executing = False
    deaths: list[str] = []  # how a forked kernel that died ended (run.kernels.kernel_deaths)
    try:
        engine_kwargs: dict[str, Any] = {}
        watch: Any = contextlib.nullcontext(deaths)
        if job.warm:
            from . import kernels

            if kernels.warm_kernels_available():
                engine_kwargs["kernel_manager_class"] = kernels.WarmKernelManager
                watch = kernels.kernel_deaths()  # a kernel that dies says how (format_error)
        executing = True
        executed = None
        try:
            with (
                span("execute", **named),
                watch as deaths,
            ):  # kernel start, the cells (their stamps are in the notebook), shutdown
                executed = execute_with_retry(
                    job.template,
                    str(tmp_nb),
                    parameters=job.parameters,
                    kernel_name=job.kernel_name,
                    # the kernel starts in the output folder; papermill's own cwd= would
                    # os.chdir() the whole process, which races between report threads
                    resources={"metadata": {"path": str(out)}},
                    execution_timeout=job.timeout_s,
                    timeout_func=_deadline_timeout(job.timeout_s),
                    progress_bar=False,
                    log_output=False,
                    extra_arguments=list(_KERNEL_ARGS),
                    engine_name=register_engine(),
                    published_as=(Path(job.template).name, relative(ipynb, out)),
                    **engine_kwargs,
                )
        finally:
            if tmp_nb.exists():
                with span("notebook", **named):
                    _publish_notebook(tmp_nb, ipynb, Path(job.template), out, executed)
                outcome.outputs["ipynb"] = job.ipynb
        executing = False
        with span("html", **named):
            atomic_write(html_path, export_html(executed, title=job.title))
        outcome.outputs["html"] = job.html
        if report is None:
            with span("unpickle", **named):
                report = pickle.loads((out / job.parameters["report_data"]).read_bytes())
        if job.xlsx is not None:
            with span("workbook", **named):
                _publish_workbook(job, report, out / job.xlsx)
            outcome.outputs["xlsx"] = job.xlsx
        outcome.status = "ok"
        if job.pdf is not None:
            with span("pdf", **named):
                _publish_pdf(job, executed, report, outcome)
    except Exception as exc:  # one report must not stop the batch
        from papermill.exceptions import PapermillExecutionError

        log.debug("report %s %s failed", job.kind, job.report_id, exc_info=True)
        outcome.status = "failed"
        death = deaths[-1] if deaths else None
        outcome.error = format_error(exc, job.timeout_s, death=death)
        if executing and not isinstance(exc, PapermillExecutionError) and ipynb.exists():
            cell = _mark_failure(ipynb, outcome.error)
            outcome.error = format_error(exc, job.timeout_s, cell, death)
        for key in ("html", "xlsx", "pdf"):
            rel = getattr(job, key)
            if rel is not None:
                (out / rel).unlink(missing_ok=True)
            outcome.outputs.pop(key, None)
    finally:
        outcome.duration_s = time.perf_counter() - t0
    return outcome
