"""What a batch produced: one :class:`ReportResult` per report, the :class:`BatchResult` of the run.

A ``ReportResult`` is one entry of ``manifest.json`` (:meth:`ReportResult.to_json`);
``BatchResult`` is what :func:`reportkit.run.batch.run_batch` returns, with the counts
the CLI prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.words import counted, plural
from ..reports.builders import REPORT_KINDS

__all__ = ["BatchResult", "ReportResult"]


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
    output_errors: dict[str, str] = field(default_factory=dict)  # format -> why it was not written (an ok report's PDF)
    headline: dict[str, str] = field(default_factory=dict)  # label -> text of its headline figures (run.index.headline_text)
    per: str = ""  # what one report of its kind is about (account_manager, team, account, company): who reads it
    kind_title: str = ""  # its kind's title (reports.kinds: "Team report", params report_kinds.<name>.title): manifest ``title``
    pdf_renderer: str | None = None  # what printed its PDF (chromium / weasyprint; on Dask each worker's choice); None: no PDF

    @property
    def who(self) -> str:
        """The report in a failure line: kind, id and name, the id left out where it repeats the kind.

        >>> ReportResult("team", "team-north", "Team North", "Team North").who
        'team team-north (Team North)'
        >>> ReportResult("company", "company", "Demo Co", "").who
        'company (Demo Co)'
        """
        return f"{self.kind}{'' if self.id == self.kind else f' {self.id}'} ({self.name})"

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
            "output_errors": dict(self.output_errors),
            "headline": dict(self.headline),
            "per": self.per,
            "title": self.kind_title,
            "pdf_renderer": self.pdf_renderer,
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
    warnings : list of str
        What the batch says about its inputs beside the reports (the period begins after the
        data's last deal): printed by ``reportkit batch`` and kept in the manifest's
        ``batch.warnings``; they fail nothing.
    """

    output_dir: Path
    manifest_path: Path
    index_path: Path
    reports: list[ReportResult]
    removed: list[str] = field(default_factory=list)
    company_error: str | None = None
    warnings: list[str] = field(default_factory=list)

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
    def output_failures(self) -> int:
        """Number of ok reports with a file that could not be written (a PDF; ``output_errors``)."""
        return sum(bool(r.output_errors) for r in self.reports)

    @property
    def succeeded(self) -> bool:
        """True when every report, each of its files and the company workbook (when due) were written: exit code 0."""
        return not self.failed and not self.output_failures and self.company_error is None

    def count(self, kind: str) -> int:
        """Number of planned reports of ``kind``."""
        return sum(r.kind == kind for r in self.reports)

    def counts_line(self) -> str:
        """``"11 account-manager, 3 team and 1 company reports: 15 ok, 0 failed"``: every built-in kind, then each declared kind the batch ran, by name.

        The kinds' names qualify one noun, ``report`` in the number of the reports counted
        (``1 Pipeline review report``; :func:`reportkit.core.words.plural`).
        """
        kinds = [f"{self.count(k.name)} {k.label.replace(' ', '-')}" for k in REPORT_KINDS.values()]
        titles = {r.kind: r.kind_title for r in self.reports if r.kind_title}
        kinds += [
            f"{self.count(k)} {titles.get(k, k)}" for k in dict.fromkeys(r.kind for r in self.reports) if k not in REPORT_KINDS
        ]
        if not any(self.count(k) for k in REPORT_KINDS) and len(kinds) > len(REPORT_KINDS):
            kinds = kinds[len(REPORT_KINDS) :]  # a run of declared kinds only: no "0 account-manager, 0 team, ..."
        reused = f" ({self.reused} unchanged, kept from the previous run)" if self.reused else ""
        named = f"{', '.join(kinds[:-1])} and {kinds[-1]}" if len(kinds) > 1 else kinds[0]
        noun = "report" if len(self.reports) == 1 else plural("report")
        return f"{named} {noun}: {self.ok} ok, {self.failed} failed{reused}"

    def summary(self) -> str:
        """Two lines: the counts, then where the index is (plus a company workbook failure)."""
        company = f"\nfailed: {self.company_error}" if self.company_error else ""
        files = ""
        if self.output_failures:
            kinds = sorted({k for r in self.reports for k in r.output_errors})
            files = f"\n{' and '.join(k.upper() for k in kinds)} not written for {counted(self.output_failures, 'report')}: see manifest.json"
        return f"{self.counts_line()}{company}{files}\nReports: {self.index_path}"
