"""Run a whole batch: plan the reports, execute the templates, publish the outputs.

:func:`run_batch` is what ``reportkit batch PARAMS.yaml`` calls::

    DIR/
      index.html                       every report, grouped by team, with status
      manifest.json                    batch facts + one entry per report
      account_managers/<slug>.ipynb    executed notebook (kept when it failed)
      account_managers/<slug>.html     code and parameters hidden (only when ok)
      account_managers/<slug>.xlsx     same figures as the notebook (only when ok)
      teams/<slug>.{ipynb,html,xlsx}
      company/company.{ipynb,html,xlsx} the company report (one per batch)
      .work/<kind>-<slug>.pkl          the report object each notebook rendered

Flow (each step in its own module of :mod:`reportkit.run`):

1. load the params (strict) and check the period label, the templates (exist, have
   a ``parameters`` cell) and the ``reportkit`` kernel -- all *before* any kernel
   starts (``preflight.py``); load and validate the dataset once;
2. plan the reports (:func:`reportkit.reports.builders.plan_reports`) and name their
   files (``outputs.py``);
3. per report: build the report object in-process and pickle it, unless an earlier
   run's outputs can be reused (``plan.py``, ``resume.py``); execute the template with
   Papermill, export HTML (inputs and the parameter cells removed) and write the
   workbook (``execute.py``, ``engine.py``, ``html.py``), in a local pool
   (``local.py``) or on a Dask cluster (``scaleout.py``). A failing report is
   recorded (``status: failed`` + error) and the batch goes on;
4. write ``company.xlsx`` (``company.py``), ``manifest.json`` (``outputs.py``) and
   ``index.html`` (``index.py``: the company report's headline figures, every file).

This module is also the façade of the batch: every name the CLI, tests and users
import from ``reportkit.run.batch`` stays importable here.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

from ..config.params import BatchParams, load_params
from ..core.cache import prune_in_background
from ..core.errors import BatchInterrupted, OutputError, ParamsError
from ..core.periods import FiscalCalendar, Period, data_end, data_reaches
from ..data.model import load_change_counts, load_change_notes
from ..domain import loading
from ..domain.forecast_models import fit_cache
from ..render.notebook import default_template_dir
from ..render.pdf import PdfEngine
from ..reports.builders import ReportKind, batch_kinds, forget_shared_contexts, load_checked_plans, plan_reports, shared_contexts
from ..reports.closes import refuse_closed, with_close_registry
from ..reports.sections import no_deals_note
from .close import batch_inputs
from .company import COMPANY_WORKBOOK as COMPANY_WORKBOOK  # re-exported, as are the other `X as X`
from .company import write_company_workbook
from .diff import fingerprint_parquet, write_batch_facts
from .execute import JobOutcome as JobOutcome
from .execute import ReportJob as ReportJob
from .execute import execute_report as execute_report
from .html import export_html
from .index import index_html
from .local import LocalPool, callers_start_method_kept, run_local, worker_processes_available
from .memory import release_free_memory
from .outputs import (
    OUTPUT_FOLDERS,
    atomic_write,
    build_manifest,
    clean_work,
    now_utc,
    read_previous_manifest,
    relative,
    remove_stale_outputs,
    report_formats,
    report_paths,
    slugify,
    unique_slugs,
)
from .plan import ID_PARAMETER as ID_PARAMETER
from .plan import BatchPlan
from .preflight import KERNEL_NAME, check_kernel, check_pdf, check_period, check_template, load_batch_inputs
from .results import BatchResult, ReportResult
from .scaleout import DASK_WAIT_FOR_WORKERS_S as DASK_WAIT_FOR_WORKERS_S
from .scaleout import dask_connect, run_on_dask
from .timeline import span, stamp

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
    cache: bool = True,
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
        Execute the reports on a Dask distributed cluster instead of locally:
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
        threads, so that work uses every core (see :class:`reportkit.run.local.LocalPool`;
        the outputs are the same). Report objects are still built here, from the data
        loaded once. Default: worker processes when this program's ``__main__`` is
        safe to re-import in them (the ``reportkit`` command, a notebook, ``python
        -m``), threads otherwise; True forces them (a script whose top-level code is
        under ``if __name__ == "__main__":``), False forces threads. The worker processes
        also make the forecast's model fits while this process builds the first report.
    cache : bool, default True
        Read and keep the forecast's model fits in the cache folder
        (:meth:`reportkit.config.params.BatchParams.cache_folder`; params ``cache_dir: null``
        turns it off as well): the same figures, without refitting what an earlier run fitted.

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
    started = now_utc()
    t_start, c_start = time.time(), time.process_time()
    _refuse_jobs_with_dask(jobs, dask_scheduler)
    params_path = Path(params_path)
    out = Path(output_dir).resolve()
    tdir = Path(template_dir).resolve() if template_dir else default_template_dir()
    params = load_params(params_path, overrides=overrides or None)
    refuse_closed(params, out, params.period)  # close group (issue #15): a closed period is never overwritten
    params = with_close_registry(params, out)
    check_period(params.period, FiscalCalendar())
    templates, kernels = _check_templates_and_kernels(params, tdir, kernel_name)
    # pdf.renderer chosen here, or by each Dask worker where it prints (docs/pdf.md)
    params, pdf = check_pdf(params, [batch_kinds(params)[k] for k in params.reports], on_workers=dask_scheduler is not None)
    previous, mode = _previous_run(out, resume, only_failed)
    stamp("checks", t_start, cpu=time.process_time() - c_start)  # params, templates, kernels, the previous run
    with span("pool start"):
        pool = _local_pool(_jobs(jobs), warm_kernels, worker_processes, pdf) if dask_scheduler is None else None
    folder = params.cache_folder() if cache else None
    try:
        # the batch's reports share credits, quotas, forecasts, engine results; the model fits run in the workers
        with shared_contexts(fit_executor=pool.fit_executor() if pool else None, fit_cache=fit_cache(folder) if folder else None):
            result = _execute_batch(
                params_path=params_path,
                out=out,
                params=params,
                pool=pool,
                dask_scheduler=dask_scheduler,
                progress=progress,
                keep_work=keep_work,
                warm_kernels=warm_kernels,
                mode=mode,
                previous=previous,
                templates=templates,
                kernels=kernels,
                started=started,
                overrides=overrides,
                pdf=pdf,
            )
    except BaseException:
        if pool is not None:  # bad data, say: the workers need not finish starting first
            pool.cancel()
        raise
    # the reports are done: the cache is pruned while the workers exit, and never fails the batch
    pruning = prune_in_background(folder, params.cache_max_age_days, params.cache_max_mb) if folder is not None else None
    if pool is not None:
        with span("pool close"):
            pool.close()
    if pruning is not None:
        pruning.join()
    return result


def _refuse_jobs_with_dask(jobs: int | None, dask_scheduler: Any) -> None:
    if dask_scheduler is not None and jobs is not None:
        raise ParamsError(
            "--jobs cannot be combined with --dask-scheduler: on a Dask cluster the workers decide how many reports run at once",
            hint="drop --jobs and start the workers with 'dask worker ADDRESS --nthreads N' (N reports per worker)",
        )


def _check_templates_and_kernels(
    params: BatchParams, tdir: Path, kernel_name: str | None
) -> tuple[dict[str, Path], dict[str, str]]:
    """Template path and kernel name per report kind of ``params.reports``, each checked before any report runs.

    A built-in kind's template is in ``tdir``; a declared kind's is its params ``template``,
    whose parameters cell must match what the batch gives it (:func:`check_template`).
    """
    kinds = batch_kinds(params)
    templates = {k: tdir / kinds[k].template if kinds[k].builtin else Path(kinds[k].template) for k in params.reports}
    kernels: dict[str, str] = {}
    for kind, path in templates.items():
        nb = check_template(path, None if kinds[kind].builtin else kinds[kind])
        kernels[kind] = kernel_name or nb.metadata.get("kernelspec", {}).get("name") or KERNEL_NAME
    for name in sorted(set(kernels.values())):  # each missing kernel refused once, before any report
        check_kernel(name)
    return templates, kernels


def _previous_run(out: Path, resume: bool, only_failed: bool) -> tuple[dict[str, Any] | None, str | None]:
    """The previous run's manifest in ``out`` and the reuse mode (``only_failed``, ``resume`` or None)."""
    previous = read_previous_manifest(out)
    if only_failed and previous is None:
        raise ParamsError(
            f"--only-failed: there is no readable manifest.json in {str(out)!r} from an earlier run",
            hint="run the batch without --only-failed first",
        )
    return previous, "only_failed" if only_failed else "resume" if resume else None


def _jobs(jobs: int | None) -> int:
    if jobs is None:
        jobs = os.cpu_count() or 1
    if jobs < 1:
        raise ParamsError(f"jobs must be at least 1, got {jobs}", hint="use --jobs 1 to run reports one at a time")
    return jobs


def _local_pool(jobs: int, warm_kernels: bool, worker_processes: bool | None, pdf: PdfEngine | None = None) -> LocalPool:
    """The local batch's one pool, started: worker processes where they can start, else threads of this process.

    Started now, so that the workers' imports and warm kernel processes (or, with
    threads and warm kernels, this process's warm kernel process) overlap reading the data.
    """
    processes = worker_processes_available() if worker_processes is None else worker_processes
    if warm_kernels and not processes:
        from . import kernels as warm  # lazy: jupyter_client's kernel machinery only for warm kernels

        if warm.warm_kernels_available():
            warm.start_warm_process()
    pool = LocalPool(jobs, warm_kernels, processes, pdf)
    pool.start()
    return pool


def _execute_batch(
    *,
    params_path: Path,
    out: Path,
    params: BatchParams,
    pool: LocalPool | None,
    dask_scheduler: Any,
    progress: bool,
    keep_work: bool,
    warm_kernels: bool,
    mode: str | None,
    previous: dict[str, Any] | None,
    templates: dict[str, Path],
    kernels: dict[str, str],
    started: str,
    overrides: dict[str, Any] | None = None,
    pdf: PdfEngine | None = None,
) -> BatchResult:
    """The part of :func:`run_batch` after every check that needs no data: load, plan, run, publish."""
    with span("load"):
        ds = loading.load_source(params)
    with span("plan"):
        period = _check_as_of(params, params_path, ds)
        notices = _period_warnings(period, params.as_of, ds)  # said on the command line and in the manifest
        load_checked_plans(ds, params)  # a plan that disagrees with the data set is bad input: exit 2, no report runs
        specs = [s for s in plan_reports(ds, params) if s.kind in templates]
        if pool is not None:
            pool.expect_reports(len(specs))  # a 1-report batch needs one worker, not one per core
        release_free_memory()  # the loader's buffers go back to the system before the reports are built

    # connect (or fail, exit code 3) before anything is written or any report runs
    client, own_client = dask_connect(dask_scheduler, warm_kernels) if dask_scheduler is not None else (None, False)
    try:
        plan = BatchPlan(ds, params, params_path, period, out, templates, kernels, previous, mode, warm_kernels)
        work = _make_folders(out, [plan.kinds[k].folder for k in templates])
        results = [
            ReportResult(
                kind=s.kind,
                id=str(s.id),
                name=str(s.name),
                team=str(s.team),
                per=plan.kinds[s.kind].per,
                kind_title=plan.kinds[s.kind].title,
            )
            for s in specs
        ]
        slugs = unique_slugs(results, plan.kinds)
        removed = remove_stale_outputs(out, previous, _planned_files(out, results, slugs, params, plan.kinds))
        post = _PostSteps(plan, results)
        with span("reports"):
            interrupted = _run_reports(plan, results, slugs, pool, client, progress, post, pdf)
    finally:
        if own_client:
            with contextlib.suppress(Exception):
                client.close()
    for res in results:
        if res.status == "pending":
            res.status = "failed"
            res.error = "not run: the batch was interrupted"

    # every report is built: the org's credits, forecasts and engine results are not held beside
    # the batch's own files (the peak at 800,000 deals; docs/batch.md); a later build recomputes them
    forget_shared_contexts()
    release_free_memory()
    if not interrupted:  # figures.json + deals.fingerprint.parquet for `reportkit diff`
        with span("batch facts"):
            write_batch_facts(out, ds, results, previous, figures_built=plan.figures, fingerprint=post.fingerprint)
    clean_work(work, out, results, keep_work)
    with span("post-steps"):
        company, company_error = post.finish(interrupted)
    with span("manifest"):
        manifest = build_manifest(params, params_path, period, started, now_utc(), results)
        manifest["batch"].update(
            timeout_s=params.timeout_s,
            mode=mode or "full",
            removed_stale=removed,
            company_workbook=company,
            company_workbook_error=company_error,
            data_quality=load_change_counts(ds),
            inputs=batch_inputs(params, ds, params_path),  # close group: sha256 of every input file
            overrides=dict(overrides or {}),
            currency=ds.currency,
            pdf=pdf.describe() if pdf else None,  # which renderer made the PDFs
            warnings=notices,
        )
        manifest_path, index_path = out / "manifest.json", out / "index.html"
        atomic_write(manifest_path, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    with span("index"):
        figures = None if interrupted else _headline_figures(plan, results)
        atomic_write(
            index_path,
            index_html(
                params,
                period,
                results,
                company_error,
                figures=figures,
                currency=ds.currency,
                company_workbook=company,
                data_quality=load_change_notes(ds),
                kinds=plan.kinds,
            ),
        )
    if interrupted:
        raise BatchInterrupted(
            f"batch interrupted: {sum(r.status == 'ok' for r in results)} of {len(results)} reports finished; "
            f"the manifest at {manifest_path} lists the rest as not run",
            hint="run the same command again with --only-failed to produce the rest",
        )
    return BatchResult(out, manifest_path, index_path, results, removed, company_error, notices)


POST_STEPS = {"company_workbook": write_company_workbook}
"""The batch steps a kind may register (:attr:`reportkit.reports.builders.ReportKind.post_step`), run on
that kind's report objects once every report of the kind is settled; each returns ``(path, error)``
(``company.xlsx`` for teams)."""


class _PostSteps:
    """The batch process's own work after its reports, each piece done as early as its inputs allow.

    * A kind's post-step (:data:`POST_STEPS`: the company workbook of the teams) runs as
      soon as every report of that kind is settled (:meth:`settled`, called by the runner
      as each outcome is recorded), in the batch process, while the other reports still
      run -- not after the last one. The submission order
      (:func:`reportkit.run.plan.submission_order`) starts the teams before the last
      reports, so ``company.xlsx`` no longer adds to the batch's serial tail. A kind whose reports
      were never all settled (interrupted), or that has none, runs it in :meth:`finish`.
    * :meth:`drained` (every report submitted, the last ones executing) computes the
      deals' fingerprint and the bytes of ``deals.fingerprint.parquet``, written once every
      report has finished (:func:`reportkit.run.diff.write_batch_facts`): the Parquet
      writer runs while this process waits for its workers, not in the batch's serial tail.
    * Once every report is built (:meth:`drained`) and every post-step has run, nothing in
      this process reads the batch's shared context again: it is dropped then
      (:meth:`_forget_if_done`), before the fingerprint, rather than after the last report
      finished (the 800,000-deal batch process peaked at the fingerprint with the whole org's
      credits, forecasts and engine results held beside it; ``docs/batch.md``, "Session 17").
    """

    def __init__(self, plan: BatchPlan, results: list[ReportResult]) -> None:
        self.plan, self.results = plan, results
        self.steps = [k for k in plan.kinds.values() if k.post_step is not None]
        self.unsettled = {k.name: sum(r.kind == k.name for r in results) for k in self.steps}
        self.done: dict[str, tuple[str | None, str | None]] = {}
        self.fingerprint: Any = None
        self.built = False  # every report submitted, so every report object built (drained)

    def settled(self, res: ReportResult) -> None:
        """``res`` has its final status: run its kind's post-step when it was the kind's last."""
        if res.kind in self.unsettled:
            self.unsettled[res.kind] -= 1
            if self.unsettled[res.kind] == 0:
                self._run(self.plan.kinds[res.kind])

    def drained(self) -> None:
        """Every report is submitted: compute what the batch's sidecars need while the last ones run."""
        from ..domain.restatement import deal_fingerprint  # what write_batch_facts would compute at the end
        from ..reports.context import deal_row_hashes

        self.built = True
        self._forget_if_done()
        with span("fingerprint"):  # the rows hashed once a batch: the forecast hierarchies' cache key has them
            self.fingerprint = fingerprint_parquet(deal_fingerprint(self.plan.ds.deals, rows=deal_row_hashes(self.plan.ds.deals)))

    def finish(self, interrupted: bool) -> tuple[str | None, str | None]:
        """Every post-step's (path, error), running those not run yet; the last kind's (the company workbook).

        A step runs also when the batch has no report of its kind: it then removes what an
        earlier run left (a ``company.xlsx`` that no longer matches the reports). After an
        interrupt no step runs; one that already ran keeps its result (its file matches
        its reports, which all finished).
        """
        out: tuple[str | None, str | None] = (None, None)
        for kind in self.steps:
            if kind.name not in self.done and not interrupted:
                self._run(kind)
            out = self.done.get(kind.name, (None, None))
        return out

    def _run(self, kind: ReportKind) -> None:
        assert kind.post_step is not None
        mine = [r for r in self.results if r.kind == kind.name]
        objects = self.plan.objects.setdefault(kind.name, {})
        with span("post-step", step=kind.post_step):
            self.done[kind.name] = POST_STEPS[kind.post_step](
                self.plan.out, self.plan.ds, self.plan.params, self.plan.period, mine, objects, self.plan.previous, kind=kind.name
            )
        objects.clear()  # the step's inputs (the team report objects): nothing reads them after it
        self._forget_if_done()

    def _forget_if_done(self) -> None:
        """Drop the shared context once every report is built and no post-step waits for its kind's reports (one
        reads it: the company roll-up it keeps; a kind with no report in the batch reads nothing); a later build
        (``--only-failed``'s headline) computes it again, the same figures."""
        if self.built and not any(self.unsettled.values()):
            forget_shared_contexts()
            release_free_memory()


def _headline_figures(plan: BatchPlan, results: list[ReportResult]) -> dict[str, Any] | None:
    """The headline kind's (company) report summary for the index; None when the batch has no ok report of it.

    A report kept from the previous run (``--only-failed``) was not rebuilt: it is built
    here from the same data, so its figures are those its files show.
    """
    for kind in plan.kinds.values():
        done = [r for r in results if r.kind == kind.name and r.status == "ok"] if kind.headline else []
        if done:
            objects = plan.objects.setdefault(kind.name, {})
            if done[0].id not in objects:
                objects[done[0].id] = kind.build(plan.ds, done[0].id, plan.period.label, plan.params, plan.params.as_of)
            return dict(objects[done[0].id].summary)
    return None


def _check_as_of(params: BatchParams, params_path: Path, ds: Any) -> Period:
    """The params' period in the data set's calendar; refuses an ``as_of`` before it starts."""
    period = check_period(params.period, ds.calendar)
    if params.as_of < period.start:
        raise ParamsError(
            f"{params_path}: as_of {params.as_of.isoformat()} is before the period {period.label} "
            f"starts ({period.start.isoformat()}); every figure would be zero",
            hint=f"set as_of to a date from {period.start.isoformat()} on, usually the period end {period.end.isoformat()}",
        )
    return period


def _period_warnings(period: Period, as_of: Any, ds: Any) -> list[str]:
    """What the batch should say beside its reports about the period itself: that it begins after the data's last deal.

    Every figure of such a period is zero because the export ends before it, not because nothing
    was sold: each report's notes say so (:func:`reportkit.reports.sections.no_deals_note`, whose
    words these are), and the command line and the manifest (``batch.warnings``) say it once.
    """
    last = data_end(ds.deals["close_date"]) if len(ds.deals) else None
    if last is None or data_reaches(last, period.start):
        return []
    return [no_deals_note(period, min(as_of, period.end), last)]


def _make_folders(out: Path, folders: list[str]) -> Path:
    """Create the output folder, its report folders and ``.work/``; return ``.work/``."""
    work = out / ".work"
    try:
        for sub in (out, work, *(out / f for f in folders)):
            sub.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output folder {str(out)!r}: {exc}", hint="choose a writable --output-dir") from None
    return work


def _planned_files(
    out: Path, results: list[ReportResult], slugs: list[str], params: BatchParams, kinds: dict[str, ReportKind]
) -> set[str]:
    """Every file this run may publish, relative to ``out`` (an earlier run's others are stale)."""
    return {
        relative(p, out)
        for r, slug in zip(results, slugs)
        for p in report_paths(out, r.kind, slug, report_formats(params, kinds[r.kind])).values()
    }


def _run_reports(
    plan: BatchPlan,
    results: list[ReportResult],
    slugs: list[str],
    pool: LocalPool | None,
    client: Any,
    progress: bool,
    post: _PostSteps,
    pdf: PdfEngine | None = None,
) -> bool:
    """Prepare, execute and record every report, locally or on Dask, with a progress bar; True when interrupted.

    Reports are built and started in :meth:`BatchPlan.submission_order` (``results`` keeps the
    planned order, which the manifest and the index show).
    """
    from tqdm.auto import tqdm

    order = plan.submission_order(results, pool.jobs if pool is not None else 1)
    results, slugs = [results[i] for i in order], [slugs[i] for i in order]
    with callers_start_method_kept():  # tqdm's first bar makes a multiprocessing lock, which fixes the default start method
        bar = tqdm(total=len(results), disable=not progress, unit="report", desc="reports", leave=True)
    try:
        if client is not None:
            return run_on_dask(client, results, slugs, plan.prepare, bar, pdf)
        assert pool is not None
        return run_local(pool, results, slugs, plan.prepare, bar, settled=post.settled, drained=post.drained)
    except KeyboardInterrupt:
        return True
    finally:
        bar.close()
