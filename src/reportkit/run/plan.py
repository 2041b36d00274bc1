"""A batch's plan: for each planned report, its files, its report object and its :class:`ReportJob`.

Which reports a batch holds is the registry's rule
(:func:`reportkit.reports.builders.plan_reports`); :class:`BatchPlan` holds what
every report of one batch shares (the dataset, params, period, output folder,
templates, kernels, the previous run's manifest) and turns one planned report into
the job a runner executes (:meth:`BatchPlan.prepare`): the report object built here,
in the batch process, from the data loaded once, pickled to ``.work/``, unless the
previous run's outputs can be reused. Runners (:mod:`reportkit.run.local`,
:mod:`reportkit.run.scaleout`) call ``prepare`` then :func:`record` the outcome.
"""

from __future__ import annotations

import copyreg
import hashlib
import logging
import os
import pickle
import time
from collections import ChainMap
from dataclasses import dataclass, field, is_dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config.params import BatchParams
from ..core.errors import OutputError
from ..core.money import reduce_decimal_array
from ..core.periods import Period
from ..render.pdf import PdfEngine
from ..reports.builders import REPORT_KINDS, ReportKind, batch_kinds
from .diff import report_entry
from .execute import JobOutcome, ReportJob, format_error
from .index import headline_text
from .memory import release_free_memory
from .outputs import atomic_write, inside, relative, report_formats, report_paths
from .results import ReportResult
from .resume import can_reuse, code_hash, file_hash, params_hash, sha256
from .timeline import TIMELINE_ENV, span

__all__ = ["ID_PARAMETER", "BatchPlan", "HeadlineOnly", "record", "submission_order"]

log = logging.getLogger(__name__)

COMPANY_IN_REPORTS = 7
"""About how many account-manager reports the company report costs (:meth:`BatchPlan.submission_order`)."""

ID_PARAMETER = {k.name: k.id_parameter for k in REPORT_KINDS.values()}
"""The template parameter naming the report, per built-in kind (from the registry; a batch reads
:attr:`BatchPlan.kinds`, which holds the declared kinds too)."""


@dataclass(frozen=True)
class HeadlineOnly:
    """What the batch keeps of a report object of a kind with a ``headline`` and no ``post_step``: its summary.

    The index's headline figures read only ``summary`` (the company report's); its frames
    (the company's accounts at risk: a row per account at risk, ``Decimal`` money, about
    140,000 rows at 800,000 deals) are in its pickle, which the report's worker reads, and
    are not kept in the batch process for the steps after the reports.
    """

    summary: dict[str, Any]


@dataclass
class BatchPlan:
    """What every report of one batch shares, and how one report becomes a job.

    Attributes
    ----------
    ds : Dataset
        Loaded and validated once.
    params : BatchParams
    params_path : Path
        As given (the manifest shows it); the kernel gets it relative to ``out``.
    period : Period
    out : Path
        The output folder, absolute.
    templates, kernels : dict
        Template path and Jupyter kernel name per report kind.
    previous : dict or None
        The previous run's ``manifest.json`` in ``out``.
    mode : {"resume", "only_failed"} or None
        Which earlier outputs may be reused (None: none).
    warm : bool
        Fork kernels from the warm process (:mod:`reportkit.run.kernels`).
    kinds : dict
        Every kind the batch knows (:func:`reportkit.reports.builders.batch_kinds`).
    objects : dict
        Report objects built by :meth:`prepare` of the kinds with a ``post_step``, and of
        a kind with a ``headline`` (the company's) its :class:`HeadlineOnly` figures, by
        kind then id (the company workbook, the index's headline figures).
    figures : dict
        ``"kind/id"`` -> the ``figures.json`` entry of each report :meth:`prepare` built
        (:func:`reportkit.run.diff.report_entry`), taken while the object is at hand.
    """

    ds: Any
    params: BatchParams
    params_path: Path
    period: Period
    out: Path
    templates: dict[str, Path]
    kernels: dict[str, str]
    previous: dict[str, Any] | None = None
    mode: str | None = None
    warm: bool = True
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    figures: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.kinds: dict[str, ReportKind] = batch_kinds(self.params)
        self._previous_entries = {
            (e.get("kind"), e.get("id")): e for e in (self.previous or {}).get("reports", []) if isinstance(e, dict)
        }
        self._fixed = {
            "params": params_hash(self.params, self.period),
            "code": code_hash(),
            **{f"template:{k}": _template_hash(p, self.kinds[k]) for k, p in self.templates.items()},
        }

    def prepare(self, res: ReportResult, slug: str) -> tuple[ReportJob, Any] | None:
        """Build and pickle one report object; return its job and the object, or None when it needs no run.

        None means the report is settled: reused from the previous run (``res`` says so)
        or failed while building (``res.status == "failed"`` with the reason).
        """
        t0 = time.perf_counter()
        expected = self._output_paths(res, slug)
        pkl = self.out / ".work" / f"{res.kind}-{slug}.pkl"
        parameters = self._parameters(res, pkl, expected)
        res.parameters = {**parameters, "params_file": str(self.params_path)}
        previous = self._previous_entries.get((res.kind, res.id))
        try:
            if self.mode == "only_failed" and can_reuse(previous, res, expected, self.out, None, self.mode):
                res.status, res.outputs, res.reused = "ok", dict(expected), True
                res.fingerprint, res.pdf_renderer = previous.get("fingerprint"), previous.get("pdf_renderer")
                res.headline = dict(previous.get("headline") or {})
                return None
            kind = self.kinds[res.kind]
            with span("build", kind=res.kind, id=res.id):
                report = kind.build(self.ds, res.id, self.period.label, self.params, self.params.as_of)
            if kind.post_step or kind.headline:  # a headline-only kind's figures, not its frames (docs/batch.md, memory)
                # the object built, not its copy below: company.xlsx's roll-up is the one the company report
                # computed, kept for these very objects (reports.company.build_company_rollup), not recomputed
                self.objects.setdefault(res.kind, {})[res.id] = report if kind.post_step else HeadlineOnly(dict(report.summary))
            if "pdf" not in expected and is_dataclass(report) and getattr(report, "print_charts", None) is True:
                report = replace(report, print_charts=False)  # no PDF: its charts skip the print copy (render/figures.py)
            res.headline = headline_text(res.kind, getattr(report, "summary", {}), self.ds.currency)
            self.figures[f"{res.kind}/{res.id}"] = report_entry(res.kind, res.id, res.name, report)
            with span("pickle", kind=res.kind, id=res.id):
                try:
                    digest = write_pickle(pkl, report)
                except OutputError:  # as below: a report that fails now leaves no earlier outputs
                    for rel in expected.values():
                        (self.out / rel).unlink(missing_ok=True)
                    raise
            res.fingerprint = fingerprint = {
                "input": digest,
                "params": self._fixed["params"],
                "template": self._fixed[f"template:{res.kind}"],
                "code": self._fixed["code"],
            }
            if can_reuse(previous, res, expected, self.out, fingerprint, self.mode):
                # its pickle stays: the manifest's report_data names it, and --keep-work keeps it (clean_work removes it otherwise)
                res.status, res.outputs, res.reused = "ok", dict(expected), True
                res.fingerprint = previous.get("fingerprint") if self.mode == "only_failed" else fingerprint
                res.pdf_renderer = previous.get("pdf_renderer")  # its PDF, kept, was printed by that one
                return None
            # A report that fails now must not leave an earlier run's outputs published.
            for rel in expected.values():
                (self.out / rel).unlink(missing_ok=True)
            release_free_memory()  # what building it freed goes back to the system (docs/batch.md, memory)
        except Exception as exc:  # one report must not stop the batch
            log.debug("report %s %s failed", res.kind, res.id, exc_info=True)
            res.status = "failed"
            res.error = format_error(exc, self.params.timeout_s)
            return None
        finally:
            res.duration_s = time.perf_counter() - t0
        return self._job(res, expected, parameters), report

    def submission_order(self, results: list[ReportResult], jobs: int) -> list[int]:
        """:func:`submission_order` of ``results`` (their kinds' ``per``) for ``jobs`` report workers."""
        return submission_order([self.kinds[r.kind].per for r in results], jobs, [r.team for r in results])

    def _output_paths(self, res: ReportResult, slug: str) -> dict[str, str]:
        """The report's files per format, relative to ``out``; refuses a path outside its folder."""
        folder = self.out / self.kinds[res.kind].folder
        paths = report_paths(self.out, res.kind, slug, report_formats(self.params, self.kinds[res.kind]))
        for path in paths.values():
            if not inside(path, folder):  # cannot happen with slugify's alphabet; belt and braces
                raise OutputError(f"refusing to write {str(path)!r} outside {str(folder)!r}")
        return {ext: relative(p, self.out) for ext, p in paths.items()}

    def _parameters(self, res: ReportResult, pkl: Path, expected: dict[str, str]) -> dict[str, Any]:
        """The template's parameters.

        The kernel runs in the output folder and gets paths relative to it: no absolute
        path of this machine ends up in the published notebook.
        """
        kind = self.kinds[res.kind]
        parameters = {
            "params_file": os.path.relpath(self.params_path.resolve(), self.out),
            kind.id_parameter: res.id,
            "period": self.period.label,
            "as_of": self.params.as_of.isoformat(),
            "report_data": relative(pkl, self.out),
        }
        if "workbook_file" in kind.expected_parameters():
            parameters["workbook_file"] = expected["xlsx"]
        return {**parameters, **kind.parameters}

    def _job(self, res: ReportResult, expected: dict[str, str], parameters: dict[str, Any]) -> ReportJob:
        kind = self.kinds[res.kind]
        return ReportJob(
            kind=res.kind,
            report_id=res.id,
            template=str(self.templates[res.kind]),
            kernel_name=self.kernels[res.kind],
            out=str(self.out),
            ipynb=expected["ipynb"],
            html=expected["html"],
            xlsx=expected.get("xlsx"),
            parameters=parameters,
            title=f"{res.name} — {self.period.label}" if kind.builtin else f"{kind.title}: {res.name} — {self.period.label}",
            timeout_s=self.params.timeout_s,
            warm=self.warm,
            company=self.params.company,
            pdf=expected.get("pdf"),
            pdf_paper=self.params.pdf.paper,
            pdf_orientation=self.params.pdf.orientation,
            pdf_engine=PdfEngine.chosen(self.params.pdf),
            batch_workbook=kind.batch_workbook,
            kind_title=None if kind.builtin else kind.title,
            timeline=os.environ.get(TIMELINE_ENV, ""),
        )


def _reduce_ndarray(values: np.ndarray) -> Any:
    """:func:`write_pickle`'s reduce of a NumPy array: a ``Decimal`` column as text, any other as NumPy pickles it."""
    return reduce_decimal_array(values) or values.__reduce_ex__(pickle.HIGHEST_PROTOCOL)


def _reduce_arrow(values: Any) -> Any:
    """:func:`write_pickle`'s reduce of a pandas Arrow-backed array (the ``str`` columns): its one chunk, not a copy.

    pandas pickles such an array with its chunks combined (``ArrowExtensionArray.__getstate__``): a
    copy of the column, which the pickler's memo then keeps until the whole report is written (the
    company's accounts at risk, six text columns of 140,000 rows: +23 MB in the 800,000-deal batch
    process, ``docs/batch.md``, "Session 18"). A column held in one chunk that shows every byte of
    its buffers (not a slice of a larger array, which would pickle the whole buffers) goes as that
    chunk, in the state pandas gives, so ``pickle.load`` rebuilds the same array; any other as pandas
    pickles it.
    """
    chunks = getattr(values, "_pa_array", None)
    if chunks is not None and chunks.num_chunks == 1:
        chunk = chunks.chunk(0)
        if chunk.offset == 0 and chunk.get_total_buffer_size() - chunk.nbytes <= 64:  # nbytes leaves out the last offset
            return copyreg.__newobj__, (type(values),), {**values.__dict__, "_pa_array": chunk, "_cache": {}}
    return values.__reduce_ex__(pickle.HIGHEST_PROTOCOL)


_DISPATCH = ChainMap(
    {np.ndarray: _reduce_ndarray, pd.arrays.ArrowStringArray: _reduce_arrow, pd.arrays.ArrowExtensionArray: _reduce_arrow},
    copyreg.dispatch_table,
)
""":func:`write_pickle`'s pickler's reducers by exact type (NumPy arrays, pandas' Arrow arrays; the rest, ``copyreg``'s,
read live)."""


class _Hashed:
    """A binary file that hashes what is written to it (SHA-256): :func:`write_pickle`'s writer."""

    def __init__(self, file: Any) -> None:
        self.file, self.hash = file, hashlib.sha256()

    def write(self, data: Any) -> int:
        self.hash.update(data)
        return self.file.write(data)


def write_pickle(path: Path, report: Any) -> str:
    """Pickle ``report`` to ``path`` (atomically) and return the hex SHA-256 of the pickle's bytes.

    Streamed to the file a frame at a time, hashed as written (the fingerprint's ``input``, as
    :func:`reportkit.run.resume.sha256` of the file), instead of held whole beside the object: the
    company report's pickle held the batch process 38 MB higher at 800,000 deals (``docs/batch.md``,
    "Session 14: where the 800,000-deal batch process peaks"). An object array of ``Decimal`` (a
    money column) is written as its values' text (:func:`reportkit.core.money.reduce_decimal_array`):
    ``pickle.load`` gives the same values, and the pickler's memo no longer keeps three objects per
    value until the end (+50 MB for the company's accounts at risk, "Session 18"), and an Arrow text
    column as its one chunk rather than a copy the memo keeps (:func:`_reduce_arrow`). Every other
    object is pickled as ``pickle.dumps(report, protocol=pickle.HIGHEST_PROTOCOL)`` pickles it.
    """
    digest = ""

    def dump(tmp: Path) -> None:
        nonlocal digest
        with tmp.open("wb") as f:
            out = _Hashed(f)
            pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
            pickler.dispatch_table = _DISPATCH  # Decimal columns as text (core.money.reduce_decimal_array)
            pickler.dump(report)
            digest = out.hash.hexdigest()

    atomic_write(path, dump)
    return digest


def submission_order(pers: list[str], jobs: int, teams: list[str] | None = None) -> list[int]:
    """The order in which a batch builds and starts its reports: indexes into its planned reports.

    Parameters
    ----------
    pers : list of str
        Each planned report's kind's ``per`` (``account_manager``, ``team``, ``company``,
        ``account``), in planned order.
    jobs : int
        Report workers (``--jobs``); 1 on a Dask cluster.
    teams : list of str, optional
        Each planned report's team (``ReportResult.team``; a team report's, its own name).

    Returns
    -------
    list of int
        A permutation of ``range(len(pers))``:

    1. The first ``jobs`` planned reports, so each report worker starts as soon as it
       can (the very first builds what every report of the batch shares,
       ``reports.shared_contexts``).
    2. Every other report but the teams and the company (account managers, declared
       kinds), except the last ``COMPANY_IN_REPORTS x (jobs - 1) + jobs`` of them; each
       team report right after the last of these of its team. A team's object built after
       its account managers' costs about 0.2 s of CPU in the batch process (what they
       share is built); built before them it computes that itself while the workers wait,
       and the teams built in a row drain the queue.
    3. The teams not placed yet, then the company: the company's report is the longest,
       about seven account managers' (5.2 s against 0.77 s of CPU at 200,000 deals), so it
       starts while about seven reports per other worker are left to run beside it,
       rather than last, alone, with the other cores idle. Not first: built before the
       account managers' objects it computes what those share (about 5.7 s at 200,000
       deals, against 1.4-1.8 s here) while the report workers run dry.
    4. The rest of step 2's reports.

    Within each group, planned order. The manifest and the index keep the planned
    order. The order decides only where the time goes: every output is the same in any
    order. Measured with ``benchmarks/bench_timeline.py`` (docs/batch.md, "The batch's timeline").
    """
    n = len(pers)
    head = list(range(min(jobs, n)))
    rest = range(len(head), n)
    others = [i for i in rest if pers[i] not in ("company", "team")]
    cut = max(0, len(others) - (COMPANY_IN_REPORTS * (jobs - 1) + jobs))
    team_reports = [i for i in rest if pers[i] == "team"]
    after: dict[int, list[int]] = {}  # a report before the cut -> the team reports right after it
    if teams is not None:
        last_of_team = {teams[i]: i for i in others[:cut]}  # each team's last report before the cut
        for i in team_reports:
            if teams[i] in last_of_team:
                after.setdefault(last_of_team[teams[i]], []).append(i)
    placed = {j for js in after.values() for j in js}
    early = [j for i in others[:cut] for j in (i, *after.get(i, ()))]
    late = [i for i in team_reports if i not in placed] + [i for i in rest if pers[i] == "company"]
    return head + early + late + others[cut:]


def _template_hash(path: Path, kind: ReportKind) -> str:
    """A template's resume fingerprint: its bytes, and for a declared kind its params entry too."""
    return file_hash(path) if not kind.declaration else sha256((file_hash(path) + kind.declaration).encode("ascii"))


def record(res: ReportResult, outcome: JobOutcome) -> None:
    """Copy a job's outcome into its report's result (the time adds to the build time)."""
    res.status = outcome.status
    res.outputs.update(outcome.outputs)
    res.error = outcome.error
    res.output_errors = dict(outcome.output_errors)
    res.pdf_renderer = outcome.pdf_renderer
    res.duration_s += outcome.duration_s
