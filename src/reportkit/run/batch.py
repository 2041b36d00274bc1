"""Run a whole batch: plan the reports, execute the templates, publish the outputs.

:func:`run_batch` is what ``reportkit batch PARAMS.yaml`` calls::

    DIR/
      index.html                       every report, grouped by team, with status
      manifest.json                    batch facts + one entry per report
      account_managers/<slug>.ipynb    executed notebook (kept when it failed)
      account_managers/<slug>.html     code and parameters hidden (only when ok)
      account_managers/<slug>.xlsx     same figures as the notebook (only when ok)
      teams/<slug>.{ipynb,html,xlsx}
      .work/<kind>-<slug>.pkl          the report object each notebook rendered

Flow:

1. load the params (strict) and check the period label, the templates (exist, have
   a ``parameters`` cell) and the ``reportkit`` kernel -- all *before* any kernel
   starts; load and validate the dataset once;
2. plan the reports (:func:`reportkit.reports.builders.plan_reports`);
3. per report: build the report object in-process, pickle it, execute the template
   with Papermill, export HTML with nbconvert (inputs and the parameter cells
   removed) and write the workbook with :mod:`reportkit.render.excel`. A failing report is
   recorded (``status: failed`` + error) and the batch goes on;
4. write ``manifest.json`` and ``index.html``.

Every published file is written to a temporary name and moved into place with
:func:`os.replace`.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import html
import json
import logging
import os
import pickle
import re
import threading
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import quote

import nbformat

from ..core.errors import (
    BatchInterrupted,
    EnvironmentError_,
    KernelNotFoundError,
    OutputError,
    ParamsError,
    ReportkitError,
    TemplateError,
)
from ..domain import loading
from ..config.params import BatchParams, load_params
from ..core.periods import FiscalCalendar, Period
from ..render.notebook import default_template_dir
from ..render import excel
from ..reports.builders import (
    REPORT_KINDS,
    build_company_rollup,
    build_report,
    load_checked_plans,
    plan_reports,
    shared_contexts,
)

__all__ = [
    "KERNEL_NAME",
    "OUTPUT_FOLDERS",
    "BatchResult",
    "ReportResult",
    "run_batch",
    "load_batch_inputs",
    "check_template",
    "check_kernel",
    "export_html",
    "slugify",
]

log = logging.getLogger(__name__)

KERNEL_NAME = "reportkit"
"""Jupyter kernel every template runs on (``make kernel`` installs it)."""

OUTPUT_FOLDERS = {k.name: k.folder for k in REPORT_KINDS.values()}
"""Output subfolder per report kind (from the registry, :data:`reportkit.reports.builders.REPORT_KINDS`)."""
ID_PARAMETER = {k.name: k.id_parameter for k in REPORT_KINDS.values()}
"""The template parameter naming the report, per kind (from the registry)."""
_HIDDEN_TAGS = ("injected-parameters", "parameters")


# -- results ---------------------------------------------------------------------


@dataclass
class ReportResult:
    """Outcome of one report of a batch (one entry of ``manifest.json``)."""

    kind: str
    id: str
    name: str
    team: str
    status: str = "pending"  # "ok" or "failed"
    outputs: dict[str, str] = field(default_factory=dict)  # format -> path relative to DIR
    parameters: dict[str, str] = field(default_factory=dict)
    duration_s: float = 0.0
    error: str | None = None
    reused: bool = False  # skipped by --resume / --only-failed: outputs of an earlier run kept
    fingerprint: dict[str, str] | None = None  # sha256 of input, params, template, code


    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "name": self.name,
            "team": self.team,
            "status": self.status,
            "outputs": dict(self.outputs),
            "parameters": dict(self.parameters),
            "duration_s": round(self.duration_s, 3),
            "error": self.error,
            "reused": self.reused,
            "fingerprint": dict(self.fingerprint) if self.fingerprint else None,
        }


@dataclass
class BatchResult:
    """What :func:`run_batch` produced.

    Attributes
    ----------
    output_dir : Path
    manifest_path, index_path : Path
    reports : list of ReportResult
        In planned order.
    removed : list of str
        Files of an earlier run (listed in its manifest) that this run does not
        produce and therefore deleted, relative to ``output_dir``.
    company_error : str or None
        Why the company workbook could not be written (the batch then fails,
        exit code 1); None when it was written or not due (no team reports, or
        a team report failed).
    """

    output_dir: Path
    manifest_path: Path
    index_path: Path
    reports: list[ReportResult]
    removed: list[str] = field(default_factory=list)
    company_error: str | None = None

    @property
    def reused(self) -> int:
        """Number of reports skipped by ``resume`` / ``only_failed`` (earlier outputs kept)."""
        return sum(r.reused for r in self.reports)

    @property
    def ok(self) -> int:
        """Number of reports that succeeded."""
        return sum(r.status == "ok" for r in self.reports)

    @property
    def failed(self) -> int:
        """Number of reports that failed."""
        return sum(r.status != "ok" for r in self.reports)

    @property
    def succeeded(self) -> bool:
        """True when every report and the company workbook (when due) were written: exit code 0."""
        return not self.failed and self.company_error is None

    def count(self, kind: str) -> int:
        """Number of planned reports of ``kind``."""
        return sum(r.kind == kind for r in self.reports)

    def counts_line(self) -> str:
        """``"11 account-manager and 3 team reports: 14 ok, 0 failed"``, every registered kind named."""
        kinds = [f"{self.count(k.name)} {k.label.replace(' ', '-')}" for k in REPORT_KINDS.values()]
        reused = f" ({self.reused} unchanged, kept from the previous run)" if self.reused else ""
        return f"{', '.join(kinds[:-1])} and {kinds[-1]} reports: {self.ok} ok, {self.failed} failed{reused}"

    def summary(self) -> str:
        """Two lines: the counts, then where the index is (plus a company workbook failure)."""
        company = f"\nfailed: {self.company_error}" if self.company_error else ""
        return f"{self.counts_line()}{company}\nReports: {self.index_path}"


# -- inputs ----------------------------------------------------------------------


def load_batch_inputs(params_path: str | Path) -> tuple[BatchParams, Any]:
    """Load the params and the dataset they name: :func:`reportkit.domain.loading.load_inputs`."""
    return loading.load_inputs(params_path)


def _check_period(label: str, calendar: FiscalCalendar) -> Period:
    return Period.parse(label, calendar)



# -- environment checks ------------------------------------------------------------



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


# -- output helpers ----------------------------------------------------------------


def slugify(text: str) -> str:
    """A safe file-name stem: ASCII letters, digits and ``-``, lower case.

    >>> slugify("Ana María / Team <West>")
    'ana-maria-team-west'
    >>> slugify("../..")
    'report'
    """
    t = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    t = re.sub(r"[^A-Za-z0-9]+", "-", t).strip("-").lower()
    return t[:80].strip("-") or "report"


def _atomic_write(path: Path, data: bytes | str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {str(path)!r}: {exc}", hint="check the folder is writable and the disk has space") from None


_exporters = threading.local()


def _html_exporter() -> Any:
    """The HTML exporter of this thread, configured once and reused for every report."""
    exporter = getattr(_exporters, "html", None)
    if exporter is None:
        exporter = _exporters.html = _new_html_exporter()
    return exporter


_IMG_WITHOUT_ALT = re.compile(r"<img\b(?![^>]*\balt=)", re.IGNORECASE)
_FOCUSABLE = re.compile(
    r'<div\b(?![^>]*\btabindex=)([^>]*\bclass="[^"]*\b(?:jp-Cell-inputWrapper|jp-OutputArea-output)\b[^"]*")'
)


def _accessible(page: str) -> str:
    """What nbconvert's HTMLExporter adds with BeautifulSoup, added with two substitutions.

    Images without ``alt`` get nbconvert's placeholder text; input wrappers and output
    areas get ``tabindex="0"`` (keyboard focus). Pinned against nbconvert's own output
    by ``tests/test_batch.py``.
    """
    page = _IMG_WITHOUT_ALT.sub('<img alt="No description has been provided for this image"', page)
    return _FOCUSABLE.sub(r'<div\1 tabindex="0"', page)


# A non-void HTML element written ``<tag ... />``: an HTML5 parser (every browser)
# ignores the slash and leaves the element open; BeautifulSoup's ``html.parser``
# closes it and writes it back as ``<tag ...></tag>``. (Also matches SVG's
# self-closing elements, which only costs those pages the slower, exact path.)
_SELF_CLOSED = re.compile(r"<(?!(?:area|base|br|col|embed|hr|img|input|link|meta|source|track|wbr)[\s/>])[A-Za-z][^<>]*/>")


def _new_html_exporter() -> Any:
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
    from traitlets.config import Config

    class _HTMLExporter(HTMLExporter):  # type: ignore[misc]
        """nbconvert's HTMLExporter without its BeautifulSoup pass over the finished page.

        ``HTMLExporter.from_notebook_node`` re-parses the whole page with
        BeautifulSoup's pure-Python parser only to add ``alt`` text and ``tabindex``
        attributes, then re-serialises it: 0.1 s for a demo report, 0.7 s with a
        900-row table, several times the rest of the export. This does the same rendering (the same filters, then the
        template) and adds those attributes with :func:`_accessible`.

        The soup pass also rewrites self-closing tags, which a browser reads
        differently (issue #12: see ``anchor_link_text`` below). A page that has one
        (a template's raw HTML, an output's markup) is exported by nbconvert's own
        path instead, so a browser always builds the page stock nbconvert gives;
        ``tests/test_browser.py`` checks that in Chromium for both report kinds.
        """

        def from_notebook_node(self, nb: Any, resources: Any = None, **kw: Any) -> Any:
            given = resources
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            highlight_code = self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
            resources = self._init_resources(resources)
            filter_data_type = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self, resources=resources)
            self.register_filter("highlight_code", highlight_code)
            self.register_filter("filter_data_type", filter_data_type)
            page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            if _SELF_CLOSED.search(page):
                return super().from_notebook_node(nb, given, **kw)
            return _accessible(page), resources

    c = Config()
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_cell_tags = set(_HIDDEN_TAGS)
    c.HTMLExporter.exclude_input = True
    c.HTMLExporter.exclude_input_prompt = True
    c.HTMLExporter.exclude_output_prompt = True
    # Heading anchors get nbconvert's default text (the template's CSS hides them).
    # nbconvert's ``add_anchor`` filter serialises each heading with ElementTree, an
    # XML writer: an anchor with empty text comes out as ``<a class="anchor-link" .../>``,
    # which a browser reads as an *open* link, and the lab template's
    # ``a.anchor-link {display: none}`` then hides every section after the first
    # heading. HTMLExporter's BeautifulSoup pass repairs that; this exporter takes
    # that slower path only for pages with such a tag, so the anchor text must not be
    # empty or every report would.
    c.HTMLExporter.anchor_link_text = "¶"
    return _HTMLExporter(config=c)


def export_html(notebook: nbformat.NotebookNode, title: str | None = None) -> str:
    """HTML of an executed notebook with all code and both parameter cells removed.

    Code cells whose *outputs* are kept still lose their inputs (``exclude_input``);
    the ``parameters`` and ``injected-parameters`` cells are removed entirely, so
    no file path or id list from the batch leaks into the published page.
    """
    nb = nbformat.from_dict(notebook)
    nb.cells = [c for c in nb.cells if not set(c.get("metadata", {}).get("tags", [])) & set(_HIDDEN_TAGS)]
    if title:
        nb.metadata["title"] = title
    nb.metadata.pop("papermill", None)
    body, _ = _html_exporter().from_notebook_node(nb)
    return body


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


# -- the batch -------------------------------------------------------------------------


def run_batch(
    params_path: str | Path,
    output_dir: str | Path,
    *,
    progress: bool = True,
    template_dir: str | Path | None = None,
    kernel_name: str | None = None,
    jobs: int | None = None,
    overrides: dict[str, Any] | None = None,
    resume: bool = False,
    only_failed: bool = False,
    keep_work: bool = False,
    warm_kernels: bool = True,
    dask_scheduler: Any = None,
    worker_processes: bool | None = None,
) -> BatchResult:
    """Run every planned report of a params file and publish the outputs.

    Parameters
    ----------
    params_path : str or Path
        Batch params YAML (see :mod:`reportkit.config.params`).
    output_dir : str or Path
        Folder to write into (created if missing).
    progress : bool, default True
        Show a tqdm progress bar on stderr.
    template_dir : str or Path, optional
        Folder holding the templates (default :func:`default_template_dir`).
    kernel_name : str, optional
        Jupyter kernel for every template. Default: the kernel each template names
        in its metadata (``reportkit`` when it names none). Checked before any
        report runs.
    jobs : int, optional
        Reports executed at once, each in its own kernel process (default: the
        number of CPU cores). Report objects are still built one at a time in
        this process, from the dataset loaded once.
    overrides : dict, optional
        Params keys replaced on top of the file (from ``-p key=value``, see
        :func:`reportkit.config.params.parse_overrides`); e.g. ``{"timeout_s": "30"}``.
    resume : bool, default False
        Skip a report whose inputs (hash of its report object), parameters,
        template and reportkit code are unchanged since the previous run in
        ``output_dir`` and whose outputs still exist (hashes kept in manifest.json).
    only_failed : bool, default False
        Re-run only the reports that failed (or were not run) in the previous
        manifest; reports that were ok and still have their files are kept as they are.
    keep_work : bool, default False
        Keep every ``.work/*.pkl`` report pickle. Otherwise the pickles of reports
        that succeeded are removed at the end (those of failed reports are kept so
        their notebook can be re-run by hand), and ``.work/`` goes when empty.
    warm_kernels : bool, default True
        Fork each report's kernel from a warm process that imported pandas,
        matplotlib, ipykernel and reportkit once (:mod:`reportkit.run.kernels`): the
        same single-use, isolated kernel, about a second cheaper to start. Used
        only for a kernel spec running this interpreter's ``ipykernel_launcher``
        on a system with ``fork``; False starts every kernel the ordinary way.
        On a Dask cluster each worker process keeps its own warm process.
    dask_scheduler : str or distributed.Client, optional
        Execute the reports on a Dask distributed cluster instead of local threads:
        the scheduler's address (``tcp://HOST:8786``; the client is closed at the
        end) or a connected ``distributed.Client`` (left open). The data is still
        loaded and every report object built and pickled here, once; each report's
        template then runs on a worker (:func:`execute_report`), which must have
        reportkit (with the same kernel) installed and see the output folder and
        the templates at the same absolute paths (a shared filesystem). How many
        reports run at once is the workers' business (``dask worker --nthreads``),
        so ``jobs`` must not be given with it. A report whose worker raises, dies or
        cannot see the shared files fails alone. Needs ``reportkit[dask]``.
    worker_processes : bool, optional
        Locally, execute each report (notebook client, HTML export, workbook) in one
        of ``jobs`` long-lived worker processes rather than in this process's
        threads, so that work uses every core (see :class:`_ExportWorkers`; the
        outputs are the same). Report objects are still built here, from the data
        loaded once. Default: worker processes when this program's ``__main__`` is
        safe to re-import in them (the ``reportkit`` command, a notebook, ``python
        -m``), threads otherwise; True forces them (a script whose top-level code is
        under ``if __name__ == "__main__":``), False forces threads.

    Returns
    -------
    BatchResult
        Per-report outcomes in planned order; ``result.failed`` counts failures,
        ``result.reused`` the reports skipped by ``resume`` / ``only_failed``,
        ``result.removed`` the stale files of an earlier run that were deleted.

    Raises
    ------
    InputError
        Bad params, mapping, data or period -- raised before any kernel starts;
        ``only_failed`` without a previous manifest.
    TemplateError, KernelNotFoundError
        A template or a kernel is missing -- raised before any kernel starts.
    OutputError
        The output folder cannot be written.
    EnvironmentError_
        ``dask_scheduler`` cannot be reached, has no workers, or ``distributed`` is
        not installed -- raised before any report runs.
    ParamsError
        ``jobs`` given together with ``dask_scheduler``.
    """
    started = _now()
    params_path = Path(params_path)
    out = Path(output_dir).resolve()
    tdir = Path(template_dir).resolve() if template_dir else default_template_dir()
    if dask_scheduler is not None and jobs is not None:
        raise ParamsError(
            "--jobs cannot be combined with --dask-scheduler: on a Dask cluster the workers decide how many "
            "reports run at once",
            hint="drop --jobs and start the workers with 'dask worker ADDRESS --nthreads N' (N reports per worker)",
        )

    params = load_params(params_path, overrides=overrides or None)
    _check_period(params.period, FiscalCalendar())

    kinds = [k for k in params.reports if k in REPORT_KINDS]
    templates = {k: tdir / REPORT_KINDS[k].template for k in kinds}
    kernels: dict[str, str] = {}
    for kind, path in templates.items():
        nb = check_template(path)
        kernels[kind] = kernel_name or nb.metadata.get("kernelspec", {}).get("name") or KERNEL_NAME
    for name in sorted(set(kernels.values())):  # each missing kernel refused once, before any report
        check_kernel(name)

    previous = _read_previous_manifest(out)
    if only_failed and previous is None:
        raise ParamsError(
            f"--only-failed: there is no readable manifest.json in {str(out)!r} from an earlier run",
            hint="run the batch without --only-failed first",
        )
    mode = "only_failed" if only_failed else "resume" if resume else None

    if jobs is None:
        jobs = os.cpu_count() or 1
    if jobs < 1:
        raise ParamsError(f"jobs must be at least 1, got {jobs}", hint="use --jobs 1 to run reports one at a time")

    workers = None
    if worker_processes is None:
        worker_processes = _ExportWorkers.available()
    if dask_scheduler is None and worker_processes:
        # started now: the workers' imports and warm kernel processes overlap reading the data
        workers = _ExportWorkers(jobs, warm_kernels)
    elif warm_kernels and dask_scheduler is None:  # on Dask the workers fork the kernels
        from . import kernels as warm  # lazy: jupyter_client's kernel machinery only for warm kernels

        if warm.warm_kernels_available():
            warm.start_warm_process()  # its imports overlap reading the data

    try:
        with shared_contexts():  # the batch's reports share credits, quotas, forecasts, engine results
            return _execute_batch(
                params_path=params_path, out=out, params=params, workers=workers, dask_scheduler=dask_scheduler,
                jobs=jobs, progress=progress, keep_work=keep_work, warm_kernels=warm_kernels, mode=mode,
                previous=previous, kinds=kinds, templates=templates, kernels=kernels, started=started,
            )
    finally:
        if workers is not None:
            workers.close()


def _execute_batch(*, params_path: Path, out: Path, params: BatchParams, workers: "_ExportWorkers | None",
                   dask_scheduler: Any, jobs: int, progress: bool, keep_work: bool, warm_kernels: bool,
                   mode: str | None, previous: dict[str, Any] | None, kinds: list[str], templates: dict[str, Path],
                   kernels: dict[str, str], started: str) -> BatchResult:
    """The part of :func:`run_batch` after every check that needs no data: load, plan, run, publish."""
    ds = loading.load_source(params)
    period = _check_period(params.period, ds.calendar)
    if params.as_of < period.start:
        raise ParamsError(
            f"{params_path}: as_of {params.as_of.isoformat()} is before the period {period.label} "
            f"starts ({period.start.isoformat()}); every figure would be zero",
            hint=f"set as_of to a date from {period.start.isoformat()} on, usually the period end {period.end.isoformat()}",
        )

    load_checked_plans(ds, params)  # a plan that disagrees with the data set is bad input: exit 2, no report runs
    specs = [s for s in plan_reports(ds, params) if s.kind in templates]

    # connect (or fail, exit code 3) before anything is written or any report runs
    client, own_client = _dask_connect(dask_scheduler, warm_kernels) if dask_scheduler is not None else (None, False)
    work = out / ".work"
    try:
        for sub in (out, work, *(out / OUTPUT_FOLDERS[k] for k in kinds)):
            sub.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        if own_client:
            with contextlib.suppress(Exception):
                client.close()
        raise OutputError(f"cannot create output folder {str(out)!r}: {exc}", hint="choose a writable --output-dir") from None

    results = [ReportResult(kind=s.kind, id=str(s.id), name=str(s.name), team=str(s.team)) for s in specs]
    slugs = _unique_slugs(results)
    planned = {
        _relative(out / OUTPUT_FOLDERS[r.kind] / f"{slug}.{ext}", out)
        for r, slug in zip(results, slugs)
        for ext in _FORMATS
    }
    removed = _remove_stale_outputs(out, previous, planned)

    from tqdm.auto import tqdm

    build_lock = threading.Lock()  # report objects share one cached context
    prev_entries = {(e.get("kind"), e.get("id")): e for e in (previous or {}).get("reports", []) if isinstance(e, dict)}
    fixed = {
        "params": _params_hash(params, period),
        "code": _code_hash(),
        **{f"template:{k}": _file_hash(p) for k, p in templates.items()},
    }
    team_objects: dict[str, Any] = {}  # for the company workbook

    def report_args(res: ReportResult) -> tuple[tuple, dict[str, Any]]:
        """The arguments of :func:`_prepare` / :func:`_run_one` after ``res, slug``."""
        return (ds, params, params_path, period, out, templates[res.kind], kernels[res.kind], build_lock), dict(
            collect=team_objects if res.kind == "team" else None,
            fingerprint_base={"params": fixed["params"], "template": fixed[f"template:{res.kind}"], "code": fixed["code"]},
            previous=prev_entries.get((res.kind, res.id)),
            mode=mode,
            warm=warm_kernels,
        )

    def task(res: ReportResult, slug: str) -> ReportResult:
        args, kwargs = report_args(res)
        _run_one(res, slug, *args, workers=workers, **kwargs)
        return res

    def prepare(res: ReportResult, slug: str) -> tuple[ReportJob, Any] | None:
        args, kwargs = report_args(res)
        return _prepare(res, slug, *args, **kwargs)

    bar = tqdm(total=len(results), disable=not progress, unit="report", desc="reports", leave=True)
    interrupted = False
    try:
        if client is not None:
            interrupted = _run_on_dask(client, results, slugs, prepare, bar)
        else:
            # With worker processes, twice as many threads: while ``jobs`` reports execute
            # in the workers, the next ones are built here and wait in the pool's queue,
            # so a worker that finishes starts its next report at once.
            threads = 2 * jobs if workers is not None else jobs
            with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="report") as pool:
                futures = [pool.submit(task, res, slug) for res, slug in zip(results, slugs)]
                try:
                    for fut in as_completed(futures):
                        done = fut.result()  # task records its own failures
                        bar.set_postfix_str(done.name[:30], refresh=False)
                        bar.update(1)
                except KeyboardInterrupt:
                    # Ctrl-C: start nothing new; reports already running end (kernels and
                    # worker processes ignore the terminal's SIGINT) and are recorded; then
                    # the manifest records what happened.
                    interrupted = True
                    for fut in futures:
                        fut.cancel()
                    if workers is not None:
                        workers.cancel()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
        if own_client:
            with contextlib.suppress(Exception):
                client.close()
    for res in results:
        if res.status == "pending":
            res.status = "failed"
            res.error = "not run: the batch was interrupted"

    _clean_work(work, out, results, keep_work)
    company, company_error = (None, None) if interrupted else _write_company_workbook(
        out, ds, params, period, results, team_objects, build_lock, previous)
    finished = _now()
    manifest_path = out / "manifest.json"
    index_path = out / "index.html"
    manifest = _manifest(params, params_path, period, started, finished, results)
    manifest["batch"]["timeout_s"] = params.timeout_s
    manifest["batch"]["mode"] = mode or "full"
    manifest["batch"]["removed_stale"] = removed
    manifest["batch"]["company_workbook"] = company
    manifest["batch"]["company_workbook_error"] = company_error
    _atomic_write(manifest_path, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    _atomic_write(index_path, _index_html(params, period, results, company_error))
    if interrupted:
        raise BatchInterrupted(
            f"batch interrupted: {sum(r.status == 'ok' for r in results)} of {len(results)} reports finished; "
            f"the manifest at {manifest_path} lists the rest as not run",
            hint="run the same command again with --only-failed to produce the rest",
        )
    return BatchResult(out, manifest_path, index_path, results, removed, company_error)


# -- Dask: reports executed on a distributed cluster ------------------------------------------

DASK_WAIT_FOR_WORKERS_S = 60.0
"""How long :func:`run_batch` waits for a Dask cluster without workers to get one."""

_SHARED_FOLDER_HINT = (
    "every Dask worker must see the output folder and the templates at the same absolute paths as the batch "
    "machine (a shared filesystem such as NFS): mount the shared folder at that path on the worker, and "
    "choose an --output-dir (and REPORTKIT_TEMPLATES, when reportkit is installed at different paths) on it"
)


def _dask_connect(scheduler: Any, warm: bool) -> tuple[Any, bool]:
    """The ``distributed.Client`` of ``scheduler`` (an address or a Client) and whether it is ours to close.

    Waits up to :data:`DASK_WAIT_FOR_WORKERS_S` for at least one worker and, with
    ``warm``, asks the workers to start their warm kernel process now (so its imports
    overlap the building of the report objects here).

    Raises
    ------
    EnvironmentError_
        ``distributed`` is not installed, the scheduler cannot be reached (or the
        address is malformed), or it has no workers.
    """
    try:
        import distributed
    except ImportError:
        raise EnvironmentError_(
            "--dask-scheduler needs the 'distributed' package, which is not installed",
            hint='pip install "reportkit[dask]" here and on every Dask worker',
        ) from None
    if isinstance(scheduler, distributed.Client):
        client, own = scheduler, False
        address = str(getattr(client.scheduler, "address", None) or "the client's scheduler")
    else:
        address = str(scheduler).strip()
        try:
            # an unknown scheme or a malformed address is refused here, before a Client exists
            # (a Client whose constructor failed would wait 60 s to close when collected)
            from distributed.comm import parse_address
            from distributed.comm.registry import get_backend

            get_backend(parse_address(address)[0])
            # the connect timeout is dask's distributed.comm.timeouts.connect (30 s by default;
            # env DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=5s)
            client = distributed.Client(address, set_as_default=False)
        except Exception as exc:  # OSError / TimeoutError: unreachable; ValueError, TypeError: bad address
            text = str(exc).strip().splitlines()
            raise EnvironmentError_(
                f"cannot connect to the Dask scheduler at {address!r}: {type(exc).__name__}: {text[0] if text else ''}",
                hint="start it with 'dask scheduler' on that machine (it prints the address, tcp://HOST:8786), check "
                "the address, the port and the firewall; or leave out --dask-scheduler to run the reports here",
            ) from None
        own = True
    try:
        client.wait_for_workers(1, timeout=DASK_WAIT_FOR_WORKERS_S)
    except Exception:
        if own:
            with contextlib.suppress(Exception):
                client.close()
        raise EnvironmentError_(
            f"the Dask scheduler at {address!r} has no workers (none joined within {DASK_WAIT_FOR_WORKERS_S:g} s)",
            hint=f"start 'dask worker {address}' on each machine that has reportkit[dask] installed and sees the "
            "output folder at the same path",
        ) from None
    if warm:
        with contextlib.suppress(Exception):  # an optimisation only: a worker forks its warm process on first use
            client.run(_warm_up_worker, on_error="ignore")  # quick: starts a process, returns
    return client, own


def _warm_up_worker() -> None:
    """Run on each Dask worker: start its warm kernel process (:mod:`reportkit.run.kernels`)."""
    from . import kernels  # lazy: see _run_batch

    if kernels.warm_kernels_available():
        kernels.start_warm_process()


def _worker_name() -> str:
    import socket

    try:
        from distributed import get_worker

        address = get_worker().address
    except Exception:  # not on a worker (called directly)
        address = "?"
    return f"{address} ({socket.gethostname()}, pid {os.getpid()})"


def _execute_on_worker(job: ReportJob) -> JobOutcome:
    """:func:`execute_report` on a Dask worker, after checking the worker sees the shared files and the kernel.

    Returns a failed :class:`JobOutcome` naming the worker and the fix when it cannot
    read the template or the report pickle (no shared folder at that path) or has no
    such Jupyter kernel; ``outcome.worker`` names the worker either way.
    """
    where = _worker_name()
    out = Path(job.out)
    for what, path in (("template", Path(job.template)), ("report pickle", out / job.parameters["report_data"])):
        try:
            with open(path, "rb"):
                pass
        except OSError as exc:
            return JobOutcome(status="failed", worker=where, error=(
                f"{type(exc).__name__}: the Dask worker {where} cannot read the {what} {str(path)!r} "
                f"({exc.strerror or exc}): it does not see the output folder {str(out)!r}; {_SHARED_FOLDER_HINT}"
            ))
    try:
        check_kernel(job.kernel_name)
    except KernelNotFoundError as exc:
        return JobOutcome(status="failed", worker=where,
                          error=f"KernelNotFoundError: on the Dask worker {where}: {exc.message} ({exc.hint})")
    outcome = execute_report(job)
    outcome.worker = where
    return outcome


def _dask_error(exc: BaseException) -> str:
    """The manifest error of a report whose Dask future raised (the worker, not the report, failed)."""
    from concurrent.futures import CancelledError

    from distributed import KilledWorker

    if isinstance(exc, KilledWorker):
        return ("KilledWorker: the Dask worker running the report died (killed, out of memory or lost) each time "
                "the scheduler tried it; see the workers' logs")
    if isinstance(exc, CancelledError):
        return "CancelledError: the Dask cluster dropped the report (the connection to the scheduler was lost?)"
    if isinstance(exc, ImportError) and "reportkit" in str(exc):
        return (f"{type(exc).__name__}: {exc} on a Dask worker: install reportkit[dask] (the same version as "
                "on the batch machine) on every worker")
    return f"{_format_error(exc)} (raised on the Dask worker; see its log)"


def _run_on_dask(client: Any, results: list[ReportResult], slugs: list[str],
                 prepare: Any, bar: Any) -> bool:
    """Build and pickle each report here, execute it on the cluster, record its outcome.

    Each report is submitted as soon as it is prepared, as one task with a readable
    key (``reportkit-<kind>-<slug>-<batch token>``), so workers start while the rest
    are built. Returns True when interrupted (Ctrl-C): the futures not finished are
    cancelled; reports already running on a worker run to their end there, but their
    outcome is not recorded.
    """
    import uuid

    import distributed

    token = uuid.uuid4().hex[:8]
    waiting: dict[Any, ReportResult] = {}
    futures: list[Any] = []
    finished = distributed.as_completed(loop=client.loop)
    try:
        for res, slug in zip(results, slugs):
            prepared = prepare(res, slug)
            if prepared is None:  # reused from the previous run, or failed while building
                bar.update(1)
                continue
            job, _report = prepared
            fut = client.submit(_execute_on_worker, job, pure=False, key=f"reportkit-{res.kind}-{slug}-{token}")
            waiting[fut.key] = res
            futures.append(fut)
            finished.add(fut)
        for fut in finished:
            res = waiting.pop(fut.key)
            try:
                outcome = fut.result()
            except Exception as exc:  # the worker, not the report, failed: this report only
                outcome = JobOutcome(status="failed", error=_dask_error(exc))
            if outcome.status != "ok" and outcome.worker and outcome.error and outcome.worker not in outcome.error:
                outcome.error += f" [Dask worker {outcome.worker}]"
            _record(res, outcome)
            bar.set_postfix_str(res.name[:30], refresh=False)
            bar.update(1)
    except KeyboardInterrupt:
        with contextlib.suppress(Exception):  # every future not recorded yet, done or not
            client.cancel([f for f in futures if f.key in waiting])
        return True
    return False


COMPANY_WORKBOOK = "company.xlsx"


def _write_company_workbook(
    out: Path, ds: Any, params: BatchParams, period: Period, results: list[ReportResult],
    team_objects: dict[str, Any], build_lock: threading.Lock, previous: dict[str, Any] | None,
) -> tuple[str | None, str | None]:
    """``DIR/company.xlsx``: every team's figures and the company's, when every team report succeeded.

    The company row is :func:`reportkit.reports.builders.build_company_rollup` (each deal
    once), written by :func:`reportkit.render.excel.write_company_workbook`.

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
    teams = [r for r in results if r.kind == "team"]
    if not teams or any(r.status != "ok" for r in teams):
        if previous and (previous.get("batch") or {}).get("company_workbook") == COMPANY_WORKBOOK:
            path.unlink(missing_ok=True)
        return None, None
    try:
        objects = []
        for r in teams:  # reports kept by --only-failed were not rebuilt
            if r.id not in team_objects:
                with build_lock:
                    team_objects[r.id] = build_report(ds, params, kind="team", report_id=r.id,
                                                      period=period.label, as_of=params.as_of)
            objects.append(team_objects[r.id])
        with build_lock:
            rollup = build_company_rollup(ds, objects, period.label, params, params.as_of)
        excel.write_company_workbook(objects, path, title=f"{params.name} — {period.label}", as_of=params.as_of,
                               rollup=rollup, company=params.name)
    except Exception as exc:  # noqa: BLE001 - recorded in the manifest; the batch fails
        log.debug("the company workbook could not be written", exc_info=True)
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
        return None, f"{COMPANY_WORKBOOK} not written: {type(exc).__name__}: {exc}"
    return COMPANY_WORKBOOK, None


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


# -- output names ------------------------------------------------------------------------

_FORMATS = ("ipynb", "html", "xlsx")
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
_SLUG_MAX = 80


def _short_hash(text: str, n: int = 8) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:n]


def _unique_slugs(results: Iterable[ReportResult]) -> list[str]:
    """One file-name stem per report, unique per output folder *ignoring case*.

    The stem is :func:`slugify` of the id (teams, or when id == name) or of
    ``id-name``. A stem cut at 80 characters, or one that collides with an earlier
    report's (e.g. ids differing only in case or punctuation), gets ``-`` plus 8
    hex digits of the SHA-1 of ``kind/id`` -- stable from run to run whatever else
    the batch holds. Windows device names (``con``, ``nul``, ``com1`` ...) get a
    ``-report`` suffix. Stems are ASCII ``[a-z0-9-]`` only, so no path can leave the
    output folder.
    """
    taken: set[tuple[str, str]] = set()
    slugs = []
    for r in results:
        raw = r.id if REPORT_KINDS[r.kind].id_from_name or r.id == r.name else f"{r.id}-{r.name}"
        base = slugify(raw)
        if len(re.sub(r"[^A-Za-z0-9]+", "-", unicodedata.normalize("NFKD", raw)).strip("-")) > _SLUG_MAX:
            base = f"{base[: _SLUG_MAX - 9].rstrip('-')}-{_short_hash(r.kind + '/' + r.id)}"
        if base in _WINDOWS_RESERVED:
            base = f"{base}-report"
        slug = base
        n = 1
        while (r.kind, slug) in taken:
            slug = f"{base}-{_short_hash(r.kind + '/' + r.id + ('' if n == 1 else f'/{n}'))}"
            n += 1
        taken.add((r.kind, slug))
        slugs.append(slug)
    return slugs


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


# -- previous runs: stale outputs, resume ---------------------------------------------------


def _read_previous_manifest(out: Path) -> dict[str, Any] | None:
    path = out / "manifest.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("reports"), list) else None


def _remove_stale_outputs(out: Path, previous: dict[str, Any] | None, planned: set[str]) -> list[str]:
    """Delete report files an earlier run listed in its manifest that this run does not plan.

    Only paths named in the previous ``manifest.json`` are candidates (reportkit
    wrote them), and only when they lie in a report folder of ``out`` and end in
    ``.ipynb`` / ``.html`` / ``.xlsx``; nothing else in the folder is touched.
    Returns the removed paths, relative to ``out``.
    """
    removed: list[str] = []
    if not previous:
        return removed
    folders = set(OUTPUT_FOLDERS.values())
    for entry in previous.get("reports", []):
        outputs = entry.get("outputs") if isinstance(entry, dict) else None
        if not isinstance(outputs, dict):
            continue
        for rel in outputs.values():
            if not isinstance(rel, str) or rel in planned:
                continue
            path = out / rel
            parts = Path(rel).parts
            if (
                len(parts) != 2 or parts[0] not in folders or path.suffix.lstrip(".") not in _FORMATS
                or not _inside(path, out) or not path.is_file()
            ):
                continue
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(rel)
    if removed:
        log.warning("removed %d report file(s) of an earlier run that this run does not produce", len(removed))
    return sorted(removed)


def _clean_work(work: Path, out: Path, results: list[ReportResult], keep_work: bool) -> None:
    """Drop the report pickles of successful reports (all of them with ``keep_work``: none)."""
    if keep_work:
        return
    keep = {r.parameters.get("report_data") for r in results if r.status != "ok"}
    for pkl in work.glob("*.pkl"):
        if _relative(pkl, out) not in keep:
            pkl.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        work.rmdir()  # only when empty


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_hash(path: Path) -> str:
    return _sha256(path.read_bytes())


def _params_hash(params: BatchParams, period: Period) -> str:
    """Hash of the params that shape a report's outputs (not the batch-only knobs)."""
    data = params.model_dump(mode="json", exclude={"base_dir", "timeout_s", "account_managers", "reports", "source"})
    data["period"] = period.label
    return _sha256(json.dumps(data, sort_keys=True, default=str).encode("utf-8"))


_CODE_HASH: str | None = None


def _code_hash() -> str:
    """Hash of reportkit's own source files: a code change re-renders every report."""
    global _CODE_HASH
    if _CODE_HASH is None:
        h = hashlib.sha256()
        pkg = Path(__file__).resolve().parents[1]  # src/reportkit: every subpackage
        for f in sorted(pkg.rglob("*.py")):
            h.update(f.relative_to(pkg).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
        _CODE_HASH = h.hexdigest()
    return _CODE_HASH


def _can_reuse(prev: dict[str, Any] | None, res: ReportResult, expected: dict[str, str], out: Path,
               fingerprint: dict[str, str] | None, mode: str | None) -> bool:
    if not prev or mode is None or prev.get("status") != "ok":
        return False
    if prev.get("outputs") != expected or not all((out / rel).is_file() for rel in expected.values()):
        return False
    if mode == "only_failed":
        return True
    return fingerprint is not None and prev.get("fingerprint") == fingerprint


# -- one report --------------------------------------------------------------------------------


def _format_error(exc: BaseException, timeout_s: float | None = None, cell: int | None = None) -> str:
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    where = f" (cell {cell})" if cell is not None else ""
    if isinstance(exc, PapermillExecutionError):
        value = str(exc.evalue).strip()
        return f"{exc.ename}: {value} (cell {exc.cell_index})"
    if isinstance(exc, CellTimeoutError):
        return f"Timeout: the report ran longer than its timeout of {timeout_s:g} s (params timeout_s / --timeout){where}"
    if isinstance(exc, DeadKernelError):
        return f"DeadKernelError: the kernel died while running the report (it exited or was killed, e.g. out of memory){where}"
    if isinstance(exc, ReportkitError):
        return f"{type(exc).__name__}: {exc.message}" + (f" ({exc.hint})" if exc.hint else "")
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _is_kernel_start_failure(exc: BaseException) -> bool:
    """A kernel that never came up (port clash, slow start), as opposed to a cell error or a hang."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        return False
    text = f"{type(exc).__name__}: {exc}"
    return "Address already in use" in text or "died before replying to kernel_info" in text


_ENGINE = "reportkit"
_SAVE_EVERY_S = 10.0
_engine_lock = threading.Lock()
_engine_registered = False


def _register_engine() -> str:
    """Register (once) the Papermill engine the batch runs templates with; return its name.

    It is Papermill's own nbclient engine except for how often the executing notebook
    is written to disk: Papermill writes it at the start and the end of every cell
    (about 35 writes of a notebook with embedded charts per report, ~0.4 s); this
    engine writes it at most every ``_SAVE_EVERY_S`` seconds while cells run, and
    always at the end -- also when the report fails, since Papermill's
    ``notebook_complete`` runs in a ``finally``. What ends up on disk is the same.
    """
    from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines

    global _engine_registered
    with _engine_lock:
        if _engine_registered:
            return _ENGINE

        class _Manager(NotebookExecutionManager):  # type: ignore[misc]
            _last_save = float("-inf")
            _final = False

            def save(self, **kwargs: Any) -> None:
                now = time.monotonic()
                if self._final or now - self._last_save >= _SAVE_EVERY_S:
                    self._last_save = now
                    super().save(**kwargs)

            def notebook_start(self, **kwargs: Any) -> None:
                self._last_save = time.monotonic()  # the first write waits _SAVE_EVERY_S too
                super().notebook_start(**kwargs)

            def notebook_complete(self, **kwargs: Any) -> None:
                self._final = True
                super().notebook_complete(**kwargs)

        class _Engine(NBClientEngine):  # type: ignore[misc]
            @classmethod
            def execute_notebook(cls, nb: Any, kernel_name: str, output_path: Any = None, progress_bar: bool = True,
                                 log_output: bool = False, autosave_cell_every: int = 30, **kwargs: Any) -> Any:
                nb_man = _Manager(nb, output_path=output_path, progress_bar=progress_bar, log_output=log_output,
                                  autosave_cell_every=autosave_cell_every)
                nb_man.notebook_start()
                try:
                    cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
                finally:
                    nb_man.cleanup_pbar()
                    nb_man.notebook_complete()
                return nb_man.nb

        papermill_engines.register(_ENGINE, _Engine)
        _engine_registered = True
        return _ENGINE


def _execute_with_retry(*args: Any, attempts: int = 2, **kwargs: Any) -> Any:
    """``papermill.execute_notebook``, retried once when the kernel failed to *start*.

    Starting several kernels at once can race for the same ZeroMQ port
    (jupyter_client picks free ports before the kernel binds them); such a report is
    started again in a fresh kernel. Cell errors and timeouts are never retried.
    """
    import papermill as pm

    for attempt in range(1, attempts + 1):
        try:
            return pm.execute_notebook(*args, **kwargs)
        except Exception as exc:
            if attempt == attempts or not _is_kernel_start_failure(exc):
                raise
            log.warning("kernel failed to start (%s); retrying in a fresh kernel", exc)


def _deadline_timeout(timeout_s: float) -> Any:
    """An nbclient ``timeout_func``: each cell may use what is left of the report's budget."""
    deadline = time.monotonic() + timeout_s

    def remaining(cell: Any) -> float:
        return max(1.0, deadline - time.monotonic())

    return remaining


def _publish_notebook(tmp_nb: Path, ipynb: Path, template: Path, out: Path, nb: Any = None) -> None:
    """Move the executed notebook into place with papermill's absolute paths made relative.

    ``nb`` is the executed notebook when Papermill returned it (the report ran to the
    end); otherwise the one Papermill last wrote to ``tmp_nb`` is read back.
    """
    try:
        if nb is None:
            nb = nbformat.read(tmp_nb, as_version=4)
        pm_meta = nb.metadata.get("papermill", {})
        pm_meta["input_path"] = template.name
        pm_meta["output_path"] = _relative(ipynb, out)
        _atomic_write(ipynb, nbformat.writes(nb))
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
    _atomic_write(path, nbformat.writes(nb))
    return None if running is None else running + 1


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
    xlsx: str
    """Output paths, relative to ``out``."""
    parameters: dict
    """Papermill parameters (paths relative to ``out``); ``report_data`` is the pickle."""
    title: str
    timeout_s: float
    warm: bool = True
    """Fork the kernel from the warm process (:mod:`reportkit.run.kernels`) where possible."""


@dataclass
class JobOutcome:
    """What :func:`execute_report` produced: ``status`` ok/failed, outputs relative to ``out``."""

    status: str
    outputs: dict = field(default_factory=dict)
    error: str | None = None
    duration_s: float = 0.0
    worker: str | None = None
    """The Dask worker that executed the report (address, host, pid); None for a local run."""


_KERNEL_ARGS = [
    # kernel start-up chatter (e.g. the TCP-encryption warning) is not the user's
    # business; cell errors still land in the notebook
    "--IPKernelApp.log_level=CRITICAL",
    # a single-use kernel has no use for IPython's history database
    "--HistoryManager.enabled=False",
]


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
        notebook kept (with a failure banner) and no HTML or xlsx.
    """
    t0 = time.perf_counter()
    out = Path(job.out)
    ipynb, html_path, xlsx = out / job.ipynb, out / job.html, out / job.xlsx
    tmp_nb = out / ".work" / f"{job.kind}-{ipynb.stem}.ipynb"
    outcome = JobOutcome(status="failed")
    executing = False
    try:
        engine_kwargs: dict[str, Any] = {}
        if job.warm:
            from . import kernels

            if kernels.warm_kernels_available():
                engine_kwargs["kernel_manager_class"] = kernels.WarmKernelManager
        executing = True
        executed = None
        try:
            executed = _execute_with_retry(
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
                engine_name=_register_engine(),
                **engine_kwargs,
            )
        finally:
            if tmp_nb.exists():
                _publish_notebook(tmp_nb, ipynb, Path(job.template), out, executed)
                outcome.outputs["ipynb"] = job.ipynb
        executing = False
        _atomic_write(html_path, export_html(executed, title=job.title))
        outcome.outputs["html"] = job.html
        if report is None:
            report = pickle.loads((out / job.parameters["report_data"]).read_bytes())
        excel.write_workbook(report, xlsx)
        outcome.outputs["xlsx"] = job.xlsx
        outcome.status = "ok"
    except Exception as exc:  # one report must not stop the batch
        from papermill.exceptions import PapermillExecutionError

        log.debug("report %s %s failed", job.kind, job.report_id, exc_info=True)
        outcome.status = "failed"
        outcome.error = _format_error(exc, job.timeout_s)
        if executing and not isinstance(exc, PapermillExecutionError) and ipynb.exists():
            cell = _mark_failure(ipynb, outcome.error)
            outcome.error = _format_error(exc, job.timeout_s, cell)
        for path, key in ((html_path, "html"), (xlsx, "xlsx")):
            path.unlink(missing_ok=True)
            outcome.outputs.pop(key, None)
    finally:
        outcome.duration_s = time.perf_counter() - t0
    return outcome


def _prepare(
    res: ReportResult,
    slug: str,
    ds: Any,
    params: BatchParams,
    params_path: Path,
    period: Period,
    out: Path,
    template: Path,
    kernel_name: str,
    build_lock: threading.Lock | None = None,
    *,
    fingerprint_base: dict[str, str] | None = None,
    previous: dict[str, Any] | None = None,
    mode: str | None = None,
    collect: dict[str, Any] | None = None,
    warm: bool = True,
) -> tuple[ReportJob, Any] | None:
    """Build and pickle one report object; return its job, or None when it needs no run.

    None means the report is settled: reused from the previous run (``res`` says so)
    or failed while building (``res.status == "failed"`` with the reason).
    """
    t0 = time.perf_counter()
    folder = out / OUTPUT_FOLDERS[res.kind]
    ipynb, html_path, xlsx = (folder / f"{slug}.{ext}" for ext in _FORMATS)
    for path in (ipynb, html_path, xlsx):
        if not _inside(path, folder):  # cannot happen with slugify's alphabet; belt and braces
            raise OutputError(f"refusing to write {str(path)!r} outside {str(folder)!r}")
    pkl = out / ".work" / f"{res.kind}-{slug}.pkl"
    # The kernel runs in the output folder and gets paths relative to it: no absolute
    # path of this machine ends up in the published notebook.
    parameters = {
        "params_file": os.path.relpath(params_path.resolve(), out),
        ID_PARAMETER[res.kind]: res.id,
        "period": period.label,
        "as_of": params.as_of.isoformat(),
        "report_data": _relative(pkl, out),
    }
    res.parameters = {**parameters, "params_file": str(params_path)}
    expected = {ext: _relative(p, out) for ext, p in zip(_FORMATS, (ipynb, html_path, xlsx))}
    try:
        if mode == "only_failed" and _can_reuse(previous, res, expected, out, None, mode):
            res.status, res.outputs, res.reused = "ok", dict(expected), True
            res.fingerprint = previous.get("fingerprint")
            return None
        with build_lock or contextlib.nullcontext():
            report = build_report(ds, params, kind=res.kind, report_id=res.id, period=period.label, as_of=params.as_of)
        if collect is not None:
            collect[res.id] = report
        blob = pickle.dumps(report, protocol=pickle.HIGHEST_PROTOCOL)
        fingerprint = None
        if fingerprint_base is not None:
            fingerprint = {"input": _sha256(blob), **fingerprint_base}
            res.fingerprint = fingerprint
        if _can_reuse(previous, res, expected, out, fingerprint, mode):
            res.status = "ok"
            res.outputs = dict(expected)
            res.reused = True
            res.fingerprint = previous.get("fingerprint") if mode == "only_failed" else fingerprint
            return None
        # A report that fails now must not leave an earlier run's outputs published.
        for stale in (ipynb, html_path, xlsx):
            stale.unlink(missing_ok=True)
        _atomic_write(pkl, blob)
    except Exception as exc:  # one report must not stop the batch
        log.debug("report %s %s failed", res.kind, res.id, exc_info=True)
        res.status = "failed"
        res.error = _format_error(exc, params.timeout_s)
        return None
    finally:
        res.duration_s = time.perf_counter() - t0
    job = ReportJob(
        kind=res.kind,
        report_id=res.id,
        template=str(template),
        kernel_name=kernel_name,
        out=str(out),
        ipynb=expected["ipynb"],
        html=expected["html"],
        xlsx=expected["xlsx"],
        parameters=parameters,
        title=f"{res.name} — {period.label}",
        timeout_s=params.timeout_s,
        warm=warm,
    )
    return job, report


def _record(res: ReportResult, outcome: JobOutcome) -> None:
    res.status = outcome.status
    res.outputs.update(outcome.outputs)
    res.error = outcome.error
    res.duration_s += outcome.duration_s


def _run_one(res: ReportResult, slug: str, *args: Any, workers: "_ExportWorkers | None" = None, **kwargs: Any) -> None:
    """Prepare one report here, then execute it in a worker process (or here, without ``workers``).

    See :func:`_prepare` and :func:`execute_report`.
    """
    prepared = _prepare(res, slug, *args, **kwargs)
    if prepared is not None:
        job, report = prepared
        _record(res, workers.run(job, report) if workers is not None else execute_report(job, report))


_WORKER_PRELOAD = [
    "reportkit.run.batch",
    "reportkit.render.excel",
    "reportkit.run.kernels",
    "reportkit.reports.builders",
    "papermill",
    "papermill.engines",
    "nbclient",
    "nbconvert",
    "nbconvert.exporters.html",
    "jupyter_client.manager",
    "xlsxwriter",
]
"""What the report worker processes have imported before their first report (forkserver preload)."""


def _worker_init(warm: bool) -> None:
    """Start a report worker: its own warm kernel process, and its HTML exporter, up front.

    A worker ignores ^C, as the kernels do: the batch process decides what an
    interrupt means (reports already running finish and are recorded; the rest do not start).
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if warm:
        from . import kernels

        if kernels.warm_kernels_available():
            kernels.start_warm_process()
    _html_exporter()


class _ExportWorkers:
    """Long-lived worker processes that execute reports (:func:`execute_report`) for a local batch.

    Each report's notebook client, HTML export and workbook writing run in one of
    ``jobs`` worker processes, not in the batch process, so they use every core
    instead of contending for one interpreter lock; each worker keeps its exporter and
    its own warm kernel process for all the reports it runs (no process per export).
    The workers are forked from multiprocessing's forkserver with reportkit, Papermill,
    nbconvert and XlsxWriter preloaded. Like any multiprocessing program, a script
    that calls :func:`run_batch` must keep its top-level code under
    ``if __name__ == "__main__":``; where the workers cannot start (no forkserver, a
    ``__main__`` that cannot be re-imported, a pool that broke), reports run in the
    batch process's threads instead, with the same results.
    """

    def __init__(self, jobs: int, warm: bool) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(_WORKER_PRELOAD)
        self._pool: Any = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_worker_init,
                                              initargs=(warm,))
        self._broken = False
        self._cancelled = False
        self._lock = threading.Lock()

    @staticmethod
    def available() -> bool:
        """True where worker processes can start without side effects.

        Needs multiprocessing's forkserver, and a ``__main__`` that a worker can
        re-import safely (multiprocessing re-imports it in every worker): none at all
        (an interactive interpreter, ``python -c``), a package's ``__main__`` (``python
        -m reportkit``, ``python -m pytest``), an IPython kernel (a notebook), or a
        console script of this environment (``reportkit``, ``pytest``), all of which
        keep their work under ``if __name__ == "__main__":``. For any other script
        (which might call :func:`run_batch` at top level) reports run in threads.
        """
        import multiprocessing
        import sys
        import sysconfig

        if "forkserver" not in multiprocessing.get_all_start_methods():
            return False
        main = sys.modules.get("__main__")
        name = getattr(getattr(main, "__spec__", None), "name", None) or ""
        if name:
            return name.endswith(".__main__") or name == "__main__" or name == "ipykernel_launcher"
        path = getattr(main, "__file__", None)
        if path is None:
            return True
        try:
            return Path(path).resolve().parent == Path(sysconfig.get_path("scripts")).resolve()
        except OSError:
            return False

    def run(self, job: ReportJob, report: Any) -> JobOutcome:
        """Execute ``job`` in a worker; in this process when the pool cannot run it."""
        from concurrent.futures import CancelledError
        from concurrent.futures.process import BrokenProcessPool

        if self._cancelled:
            return JobOutcome(status="pending")
        if not self._broken:
            try:
                return self._pool.submit(execute_report, job).result()
            except CancelledError:  # the batch was interrupted before this report started
                return JobOutcome(status="pending")
            except BrokenProcessPool as exc:
                with self._lock:
                    if not self._broken:
                        log.warning("report worker processes failed (%s); running the remaining reports in "
                                    "this process", exc)
                    self._broken = True
            except RuntimeError:  # submitted after cancel() shut the pool down (BrokenProcessPool is handled above)
                if not self._cancelled:
                    raise
                return JobOutcome(status="pending")
        return execute_report(job, report)

    def cancel(self) -> None:
        """Interrupted: reports queued for a worker do not start (those running finish)."""
        self._cancelled = True
        self._pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def _manifest(
    params: BatchParams,
    params_path: Path,
    period: Period,
    started: str,
    finished: str,
    results: list[ReportResult],
) -> dict[str, Any]:
    ok = sum(r.status == "ok" for r in results)
    return {
        "batch": {
            "name": params.name,
            "period": period.label,
            "period_start": period.start.isoformat(),
            "period_end": period.end.isoformat(),
            "as_of": params.as_of.isoformat(),
            "params_file": str(params_path),
            "started": started,
            "finished": finished,
            "counts": {
                **{k: sum(r.kind == k for r in results) for k in REPORT_KINDS},
                "total": len(results),
                "ok": ok,
                "failed": len(results) - ok,
            },
        },
        "reports": [r.to_json() for r in results],
    }


_INDEX_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1a202c}
h1{margin-bottom:.2rem} .meta{color:#4a5568;margin-top:0}
table{border-collapse:collapse;margin:.5rem 0 1.5rem} th,td{padding:.3rem .8rem;border-bottom:1px solid #e2e8f0;text-align:left}
.ok{color:#276749;font-weight:600} .failed{color:#c53030;font-weight:600} .error{color:#c53030;font-size:.9em}
"""


def _index_html(
    params: BatchParams, period: Period, results: list[ReportResult], company_error: str | None = None
) -> str:
    esc = html.escape
    groups: dict[str, list[ReportResult]] = {}
    for r in results:
        groups.setdefault(r.team, []).append(r)
    ok = sum(r.status == "ok" for r in results)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(params.name)} — {esc(period.label)}</title>",
        f"<style>{_INDEX_CSS}</style></head><body>",
        f"<h1>{esc(params.name)} — {esc(period.label)}</h1>",
        f'<p class="meta">As of {esc(params.as_of.isoformat())} · {len(results)} reports: '
        f"{ok} ok, {len(results) - ok} failed</p>",
    ]
    if company_error:
        parts.append(f'<p><span class="failed">failed</span> <span class="error">{esc(company_error)}</span></p>')
    for team, members in groups.items():
        members = sorted(members, key=lambda r: (not REPORT_KINDS[r.kind].id_from_name,))  # the team's own report first
        parts.append(f"<h2>{esc(team)}</h2>")
        parts.append("<table><thead><tr><th>Report</th><th>Kind</th><th>Status</th><th>Files</th></tr></thead><tbody>")
        for r in members:
            links = " · ".join(
                f'<a href="{esc(quote(path))}">{esc(fmt.upper() if fmt != "ipynb" else "notebook")}</a>'
                for fmt, path in sorted(r.outputs.items(), key=lambda kv: ("html", "xlsx", "ipynb").index(kv[0]))
            )
            title = esc(r.name) if REPORT_KINDS[r.kind].id_from_name else f"{esc(r.name)} ({esc(r.id)})"
            if "html" in r.outputs:
                title = f'<a href="{esc(quote(r.outputs["html"]))}">{title}</a>'
            status = f'<span class="{"ok" if r.status == "ok" else "failed"}">{esc(r.status)}</span>'
            if r.error:
                status += f'<div class="error">{esc(r.error)}</div>'
            kind = esc(REPORT_KINDS[r.kind].label)
            parts.append(f"<tr><td>{title}</td><td>{kind}</td><td>{status}</td><td>{links}</td></tr>")
        parts.append("</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
