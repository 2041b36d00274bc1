"""Period close: ``reportkit close DIR`` freezes a batch; ``--verify`` says what changed since.

The close record ``DIR/close.json`` (written atomically, docs/close.md) holds::

    {"record": {"format": 1,
                "batch": {name, period, period_start, period_end, as_of, params_file, overrides},
                "closed_by": "Ana", "closed_at": "2026-01-05T09:00:00+00:00", "folder": "/abs/DIR",
                "currency": "USD",
                "inputs": [{role, name, path, sha256}, ...],    # params, mapping, data files, plan files
                "policy": sha256 of the flat policy / quota rule / plan reference,
                "outputs": {"relative/path": sha256, ...},      # every file of DIR but close.json and .work/
                "deals": {deal_id: [row hash, amount, stage, close date, owner hashes]},  # the period's deals
                "statements": {am_id: {name, total, restates: {period: amount}, deal_ids, lines: [...]}}},
     "signature": sha256 of the record's canonical JSON}

and a copy goes to the registry of closes (:func:`reportkit.reports.closes.registry_folder`),
where ``batch`` / ``statement`` refuse the closed period and later periods' statements
read what was paid (:func:`reportkit.reports.closes.prior_period_restatements`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..config.params import BatchParams
from ..core.errors import DataError, ParamsError
from ..core.periods import Period
from ..core.words import counted
from ..data.model import Dataset
from ..domain import loading
from ..domain.restatement import deal_fingerprint, fingerprint_records
from ..reports.closes import (
    CLOSE_RECORD,
    file_sha256,
    input_files,
    policy_hash,
    read_close_record,
    record_signature,
    registry_file,
    registry_folder,
    with_close_registry,
)
from ..reports.context import shared_contexts
from ..reports.statements import commission_for, restatements_for
from .outputs import atomic_write, now_utc, read_previous_manifest

__all__ = ["close_batch", "verify_close", "batch_inputs", "read_batch_manifest", "input_words"]


def batch_inputs(params: BatchParams, ds: Dataset, params_path: Path) -> list[dict[str, str]]:
    """Every input file of a batch with its SHA-256 (manifest ``batch.inputs``, the close record's ``inputs``)."""
    return [{**f, "sha256": file_sha256(Path(f["path"])) or ""} for f in input_files(params, ds, params_path)]


def read_batch_manifest(folder: Path) -> dict[str, Any]:
    """A batch folder's ``manifest.json``.

    Raises
    ------
    ParamsError
        ``folder`` is not a batch folder (no readable manifest.json): names it and the fix.
    """
    manifest = read_previous_manifest(folder)
    if manifest is None or not isinstance(manifest.get("batch"), dict):
        raise ParamsError(
            f"{folder} is not a batch folder: it has no readable manifest.json",
            hint="give the folder 'reportkit batch PARAMS.yaml --output-dir DIR' wrote",
        )
    return manifest


def _params_of(manifest: dict[str, Any], folder: Path) -> tuple[BatchParams, Dataset, Path]:
    """The batch's params (with its overrides) and data set, checked unchanged since the batch ran."""
    b = manifest["batch"]
    recorded = {(f["role"], f["name"]): f for f in b.get("inputs") or []}
    path = Path(recorded.get(("params", "params"), {}).get("path") or b.get("params_file", ""))
    if not path.is_file():
        raise ParamsError(
            f"{folder}/manifest.json: the batch's params file {str(path)!r} is missing",
            hint="run the close from the folder the batch ran in, or re-run the batch",
        )
    params, ds = loading.load_inputs(path, overrides=b.get("overrides") or None)
    params = with_close_registry(params, folder)
    changed = [
        f"{f['role']} {f['name']} ({f['path']})"
        for f in batch_inputs(params, ds, path)
        if (f["role"], f["name"]) in recorded and recorded[(f["role"], f["name"])]["sha256"] != f["sha256"]
    ]
    if changed:
        raise DataError(
            f"{folder}: cannot close: these inputs changed since the batch ran, so its outputs no longer show them: "
            + "; ".join(changed),
            hint="re-run the batch into this folder on the current inputs (or restore the inputs), then close it",
        )
    return params, ds, path


def _outputs(folder: Path) -> dict[str, str]:
    """SHA-256 of every file of the batch folder, by relative path.

    Not the close record, ``.work/``, nor ``reportkit deliver``'s log (``delivery.json``:
    delivering a closed batch is what a close is for; it changes no output).
    """
    from .deliver import LOG_NAME

    logs = {CLOSE_RECORD, LOG_NAME}
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.relative_to(folder).as_posix() not in logs and ".work" not in p.relative_to(folder).parts
    )
    return {p.relative_to(folder).as_posix(): file_sha256(p) or "" for p in files}


def _statements(ds: Dataset, params: BatchParams, period: Period, am_ids: list[str]) -> dict[str, Any]:
    """Each account manager's paid statement of the period: lines, total, its restatements of earlier periods."""
    out = {}
    with shared_contexts():
        for am in am_ids:
            stmt = commission_for(ds, params, am, period.label, params.as_of)
            restated = restatements_for(ds, params, am, period.label, params.as_of)
            lines = [
                {
                    "line": int(r["line"]),
                    "deal_id": None if not isinstance(r["deal_id"], str) else r["deal_id"],
                    "rule": str(r["rule"]),
                    "description": str(r["description"]),
                    "amount": f"{r['amount']:.2f}",
                    "award": str(r["award"]),
                }
                for r in stmt.lines.to_dict("records")
            ]
            out[am] = {
                "total": f"{stmt.total:.2f}",
                "cash_total": f"{stmt.cash_total:.2f}",
                "restates": {r.period: f"{r.amount:.2f}" for r in restated if r.amount != 0},
                "deal_ids": sorted({ln["deal_id"] for ln in lines if ln["deal_id"]}),
                "lines": lines,
            }
    return out


def close_batch(folder: str | Path, by: str, *, allow_failed: bool = False) -> Path:
    """Freeze a batch folder: write its signed close record and copy it into the registry of closes.

    Parameters
    ----------
    folder : str or Path
        A folder ``reportkit batch`` wrote (with ``manifest.json``).
    by : str
        Who signs the close off (``--by NAME``).
    allow_failed : bool, default False
        Close a batch with failed reports anyway.

    Returns
    -------
    Path
        ``folder/close.json``.

    Raises
    ------
    ParamsError
        Not a batch folder; already closed; failed reports without ``allow_failed``; an
        empty ``by``; the period already closed from another folder in the registry.
    DataError
        An input changed since the batch ran (its outputs no longer show the inputs).
    """
    folder = Path(folder).resolve()
    manifest = read_batch_manifest(folder)
    if not str(by).strip():
        raise ParamsError("--by must name who signs the close off, got an empty name", hint="e.g. --by 'Ana Díaz'")
    if (folder / CLOSE_RECORD).is_file():
        rec = read_close_record(folder / CLOSE_RECORD)
        raise ParamsError(
            f"{folder} is already closed ({rec['closed_at']} by {rec['closed_by']})",
            hint=f"check it with 'reportkit close --verify {folder}'",
        )
    failed = [f"{r.get('kind')} {r.get('id')}" for r in manifest["reports"] if r.get("status") != "ok"]
    if failed and not allow_failed:
        raise ParamsError(
            f"{folder}: {counted(len(failed), 'report')} failed, so the batch is incomplete: {', '.join(failed[:10])}",
            hint="re-run them ('reportkit batch PARAMS.yaml -o DIR --only-failed') and close again, or close anyway with --allow-failed",
        )
    params, ds, params_path = _params_of(manifest, folder)
    b = manifest["batch"]
    period = Period.parse(b["period"], ds.calendar)
    registry = registry_folder(params, folder)
    reg = registry_file(registry, params.name, period.label) if registry is not None else None
    if reg is not None and reg.is_file():
        rec = read_close_record(reg)
        raise ParamsError(
            f"{period.label} of {params.name!r} is already closed from {rec['folder']} ({rec['closed_at']} by {rec['closed_by']}; {reg})",
            hint="a period is closed once; correct it by running a later period, whose statements restate it (docs/close.md)",
        )
    am_ids = [str(r["id"]) for r in manifest["reports"] if r.get("kind") == "account_manager" and r.get("status") == "ok"]
    statements = _statements(ds, params, period, am_ids)
    deals = ds.deals
    close = deals["close_date"]
    in_period = ((close >= str(period.start)) & (close <= str(period.end))).to_numpy()
    on_lines = deals["deal_id"].astype(str).isin({d for s in statements.values() for d in s["deal_ids"]}).to_numpy()
    record = {
        "format": 1,
        "batch": {k: b.get(k) for k in ("name", "period", "period_start", "period_end", "as_of", "params_file", "overrides")},
        "closed_by": str(by).strip(),
        "closed_at": now_utc(),
        "folder": str(folder),
        "registry": str(registry) if registry is not None else None,
        "currency": ds.currency,
        "inputs": batch_inputs(params, ds, params_path),
        "policy": policy_hash(params),
        "outputs": _outputs(folder),
        "deals": fingerprint_records(deal_fingerprint(deals[in_period | on_lines])),
        "statements": statements,
    }
    text = json.dumps({"record": record, "signature": record_signature(record)}, indent=1, ensure_ascii=False) + "\n"
    if reg is not None:  # without close.registry the folder's close.json is the only record
        reg.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(reg, text)
    atomic_write(folder / CLOSE_RECORD, text)
    return folder / CLOSE_RECORD


def input_words(role: str, name: str) -> str:
    """An input file in words, for ``close --verify`` and ``reportkit diff``: ``params file``,
    ``source mapping``, ``data deals`` (a data table), ``plan standard.yaml``."""
    return {"params": "params file", "mapping": "source mapping"}.get(role, f"{role} {name}")


def verify_close(folder: str | Path) -> list[str]:
    """What changed in a closed folder since its close: one line per changed, missing or added file.

    Inputs changed since close are listed too (``input changed``): they do not alter the
    closed outputs, but a later period's statements will restate the period for them.

    Raises
    ------
    ParamsError
        ``folder`` has no close record (not closed) or is not a batch folder.
    DataError
        The close record was edited after it was signed.
    """
    folder = Path(folder).resolve()
    read_batch_manifest(folder)
    path = folder / CLOSE_RECORD
    if not path.is_file():
        raise ParamsError(
            f"{folder} is not closed: it has no {CLOSE_RECORD}", hint=f"close it with 'reportkit close {folder} --by NAME'"
        )
    rec = read_close_record(path)
    now = _outputs(folder)
    problems = [f"changed: {rel}" for rel, h in rec["outputs"].items() if rel in now and now[rel] != h]
    problems += [f"missing: {rel}" for rel in rec["outputs"] if rel not in now]
    problems += [f"added: {rel}" for rel in now if rel not in rec["outputs"]]
    problems += [
        f"input changed: {input_words(f['role'], f['name'])} ({f['path']})"
        for f in rec["inputs"]
        if file_sha256(Path(f["path"])) != f["sha256"]
    ]
    return problems


def close_cli(folder: str | Path, by: str | None, *, allow_failed: bool = False, verify: bool = False) -> int:
    """``reportkit close DIR --by NAME`` / ``--verify``: prints what it did; returns the exit code.

    0: closed, or verified unchanged (inputs changed since close are listed, exit 0:
    a later period restates them); 1: an output changed, went missing or was added.
    """
    if verify:
        problems = verify_close(folder)
        outputs = [p for p in problems if not p.startswith("input changed")]
        for p in problems:
            print(p)
        print(f"{folder}: {'changed since close' if outputs else 'unchanged since close'}")
        return 1 if outputs else 0
    if by is None:
        raise ParamsError(
            "reportkit close needs --by NAME: who signs the close off", hint=f"reportkit close {folder} --by 'Ana Díaz'"
        )
    path = close_batch(folder, by, allow_failed=allow_failed)
    rec = read_close_record(path)
    print(
        f"closed {rec['batch']['period']} of {rec['batch']['name']!r} by {rec['closed_by']} at {rec['closed_at']}: "
        f"{len(rec['inputs'])} inputs, {len(rec['outputs'])} outputs, {len(rec['statements'])} statements -> {path}"
    )
    if rec.get("registry") is None:
        print(
            "no registry of closes (params close.registry is not set): this folder is never written again, but "
            "another folder of this period is not refused and later periods do not restate it; "
            "set close.registry in the params to share the close (docs/close.md)"
        )
    return 0
