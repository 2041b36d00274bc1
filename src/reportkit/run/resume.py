"""Resume and --only-failed: the fingerprints that say a report's earlier outputs still hold.

A report's fingerprint is the SHA-256 of its pickled report object (its input), of the
params that shape its outputs, of its template (with a declared kind's params entry) and of reportkit's own source; it is
kept in ``manifest.json``. :func:`can_reuse` decides whether a report is skipped.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ..config.params import BatchParams
from ..core.periods import Period
from .results import ReportResult

__all__: list[str] = []


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def file_hash(path: Path) -> str:
    """Hex SHA-256 of a file's bytes (a template's fingerprint)."""
    return sha256(path.read_bytes())


def params_hash(params: BatchParams, period: Period) -> str:
    """Hash of the params that shape a report's outputs (not the batch-only knobs).

    ``report_kinds`` is left out: a declared kind's entry is part of its own reports'
    template fingerprint (:func:`reportkit.run.plan.BatchPlan`), so declaring a kind does
    not re-render the others.
    """
    data = params.model_dump(
        mode="json",
        exclude={
            "base_dir",
            "timeout_s",
            "account_managers",
            "reports",
            "source",
            "delivery",
            "report_kinds",
            "cache_dir",
            "cache_max_age_days",
            "cache_max_mb",
        },
    )
    data["period"] = period.label
    return sha256(json.dumps(data, sort_keys=True, default=str).encode("utf-8"))


_CODE_HASH: str | None = None


def code_hash() -> str:
    """Hash of reportkit's own source files: a code change re-renders every report."""
    global _CODE_HASH
    if _CODE_HASH is None:
        h = hashlib.sha256()
        pkg = Path(__file__).resolve().parents[1]  # src/reportkit: every subpackage
        for f in sorted(pkg.rglob("*.py")):
            h.update(f.relative_to(pkg).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
        _CODE_HASH = h.hexdigest()
    return _CODE_HASH


def can_reuse(
    prev: dict[str, Any] | None,
    res: ReportResult,
    expected: dict[str, str],
    out: Path,
    fingerprint: dict[str, str] | None,
    mode: str | None,
) -> bool:
    """The reuse rule: may this run keep the report's outputs of the previous run?

    Only with ``mode`` (``resume`` or ``only_failed``), only when the previous entry
    was ok, names the same files and they all exist; then ``only_failed`` keeps it,
    and ``resume`` keeps it when the fingerprint (input, params, template, code) is
    unchanged.
    """
    if not prev or mode is None or prev.get("status") != "ok":
        return False
    if prev.get("outputs") != expected or not all((out / rel).is_file() for rel in expected.values()):
        return False
    if mode == "only_failed":
        return True
    return fingerprint is not None and prev.get("fingerprint") == fingerprint
