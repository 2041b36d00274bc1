"""The batch's files: output names, atomic writes, manifest.json, stale outputs of earlier runs, .work/.

Every published file is written to a temporary name and moved into place with
:func:`os.replace` (:func:`reportkit.core.files.atomic_write`, the one rule, re-exported here
for the batch). A report's files are
``DIR/<kind folder>/<slug>.{ipynb,html,xlsx}`` and ``.pdf`` when params ``pdf.enabled`` (:func:`unique_slugs`); re-running
into a folder removes only the files the previous ``manifest.json`` listed that this
run does not produce (:func:`remove_stale_outputs`).
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import logging
import re
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..config.params import KIND_NAME, BatchParams
from ..core.files import atomic_write as atomic_write  # the one rule; run/ imports it from here
from ..core.periods import Period
from ..core.words import ascii_words, counted
from ..reports.builders import REPORT_KINDS, ReportKind
from .results import ReportResult

__all__ = ["OUTPUT_FOLDERS", "slugify"]

log = logging.getLogger(__name__)

OUTPUT_FOLDERS = {k.name: k.folder for k in REPORT_KINDS.values()}
"""Output subfolder per report kind (from the registry, :data:`reportkit.reports.builders.REPORT_KINDS`)."""

FORMATS = ("ipynb", "html", "xlsx", "pdf")
"""Every format a report may be published in (``pdf`` only when params ``pdf.enabled``)."""
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
_SLUG_MAX = 80


def report_formats(params: BatchParams, kind: ReportKind | None = None) -> tuple[str, ...]:
    """The formats a report publishes: notebook, HTML, workbook, and PDF when ``pdf.enabled``.

    A declared kind (``kind.builtin`` False) publishes the notebook and its own ``formats``.
    """
    if kind is not None and not kind.builtin:
        return tuple(f for f in FORMATS if f == "ipynb" or f in kind.formats)
    return tuple(f for f in FORMATS if f != "pdf" or params.pdf.enabled)


def report_paths(out: Path, kind: str, slug: str, formats: Iterable[str]) -> dict[str, Path]:
    """A report's file per format: ``out/<kind folder>/<slug>.<format>`` (a declared kind's folder is its name)."""
    return {ext: out / OUTPUT_FOLDERS.get(kind, kind) / f"{slug}.{ext}" for ext in formats}


def now_utc() -> str:
    """Now, UTC, to the second, ISO 8601 (the manifest's ``started`` / ``finished``)."""
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat()


def slugify(text: str) -> str:
    """A safe file-name stem: ASCII letters, digits and ``-``, lower case.

    >>> slugify("Ana María / Team <West>")
    'ana-maria-team-west'
    >>> slugify("../..")
    'report'
    """
    return ascii_words(text)[:80].strip("-") or "report"


def _short_hash(text: str, n: int = 8) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:n]


def unique_slugs(results: Iterable[ReportResult], kinds: Mapping[str, ReportKind] = REPORT_KINDS) -> list[str]:
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
        raw = r.id if kinds[r.kind].id_from_name or r.id == r.name else f"{r.id}-{r.name}"
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


def relative(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` with ``/`` separators (as the manifest and index write it)."""
    return path.relative_to(root).as_posix()


def inside(path: Path, root: Path) -> bool:
    """True when ``path`` (symbolic links resolved) lies in ``root``."""
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def read_previous_manifest(out: Path) -> dict[str, Any] | None:
    """The previous run's ``manifest.json`` in ``out``; None when missing or unreadable."""
    path = out / "manifest.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("reports"), list) else None


def remove_stale_outputs(out: Path, previous: dict[str, Any] | None, planned: set[str]) -> list[str]:
    """Delete report files an earlier run listed in its manifest that this run does not plan.

    Only paths named in the previous ``manifest.json`` are candidates (reportkit
    wrote them), and only when they lie in a report folder of ``out`` and end in
    ``.ipynb`` / ``.html`` / ``.xlsx`` / ``.pdf``; nothing else in the folder is touched.
    Returns the removed paths, relative to ``out``.
    """
    removed: list[str] = []
    if not previous:
        return removed
    entries = [e for e in previous.get("reports", []) if isinstance(e, dict)]
    declared = {e.get("kind") for e in entries if isinstance(e.get("kind"), str) and KIND_NAME.fullmatch(e["kind"])}
    folders = set(OUTPUT_FOLDERS.values()) | declared  # a declared kind's folder is its name
    for entry in entries:
        outputs = entry.get("outputs") if isinstance(entry, dict) else None
        if not isinstance(outputs, dict):
            continue
        for rel in outputs.values():
            if not isinstance(rel, str) or rel in planned:
                continue
            path = out / rel
            parts = Path(rel).parts
            if (
                len(parts) != 2
                or parts[0] not in folders
                or path.suffix.lstrip(".") not in FORMATS
                or not inside(path, out)
                or not path.is_file()
            ):
                continue
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(rel)
    if removed:
        log.warning("removed %s of an earlier run that this run does not produce", counted(len(removed), "report file"))
    return sorted(removed)


def clean_work(work: Path, out: Path, results: list[ReportResult], keep_work: bool) -> None:
    """Drop the report pickles of successful reports (all of them with ``keep_work``: none)."""
    if keep_work:
        return
    keep = {r.parameters.get("report_data") for r in results if r.status != "ok"}
    for pkl in work.glob("*.pkl"):
        if relative(pkl, out) not in keep:
            pkl.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        work.rmdir()  # only when empty


def build_manifest(
    params: BatchParams,
    params_path: Path,
    period: Period,
    started: str,
    finished: str,
    results: list[ReportResult],
) -> dict[str, Any]:
    """``manifest.json``'s content: ``{"batch": {name, period, as_of, counts...}, "reports": [...]}``.

    The batch adds the run's own facts to ``batch`` (mode, timeout, stale files
    removed, the company workbook); the README's "Output layout" lists the keys.
    """
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
                **{k: sum(r.kind == k for r in results) for k in dict.fromkeys([*REPORT_KINDS, *(r.kind for r in results)])},
                "total": len(results),
                "ok": ok,
                "failed": len(results) - ok,
            },
        },
        "reports": [r.to_json() for r in results],
    }
