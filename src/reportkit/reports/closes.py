"""Close records: their signature, the registry of closed periods, and the restatements they call for.

A close record (``close.json`` beside a closed batch's ``manifest.json``, and its copy
``<period>--<name>.json`` in the registry of closes; docs/close.md) is
``{"record": {...}, "signature": sha256}``: the signature is the SHA-256 of the
record's canonical JSON (:func:`canonical_json`), so any edit of the record is seen.
``reportkit close`` writes it (:mod:`reportkit.run.close`); this module reads it,
below the batch, because the statements of a later period read the closed periods'
paid figures from it (:func:`prior_period_restatements`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..config.params import BatchParams, CloseOptions
from ..core.errors import DataError, ParamsError
from ..core.periods import Period
from ..data.model import Dataset
from ..domain.commission import CommissionStatement
from ..domain.restatement import Restatement, cause_words, deal_changes, deal_fingerprint, records_fingerprint
from .context import ReportContext

__all__ = [
    "CLOSE_RECORD",
    "canonical_json",
    "record_signature",
    "registry_folder",
    "with_close_registry",
    "registry_file",
    "read_close_record",
    "closed_records",
    "input_files",
    "file_sha256",
    "prior_period_restatements",
    "paid_for",
    "refuse_closed",
    "policy_hash",
]

CLOSE_RECORD = "close.json"
"""A closed batch folder's close record, beside its manifest.json."""


def canonical_json(obj: Any) -> bytes:
    """The canonical JSON the signature is taken over: sorted keys, no spaces, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def record_signature(record: dict[str, Any]) -> str:
    """Hex SHA-256 of a close record's canonical JSON (:func:`canonical_json`)."""
    return hashlib.sha256(canonical_json(record)).hexdigest()


def file_sha256(path: Path) -> str | None:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks; None when it is missing."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return None
    return h.hexdigest()


def registry_folder(params: BatchParams, output_dir: Path | str) -> Path | None:
    """The registry of closes: params ``close.registry`` (relative to the params file), else None.

    Without ``close.registry`` there is no shared registry: a batch folder's own
    ``close.json`` is the only record of its close (a close in one folder never blocks
    another folder, such as a same-named batch under a shared ``/tmp``), and a later
    period restates the closed ones only through ``close.registry``, which a team closing
    periods sets (docs/close.md). Before 2026-12-07 the default was ``closes/`` beside the
    batch folder: when that folder holds a record of this batch name, the run is refused
    with the migration (:func:`_refuse_old_default_registry`).

    The batch folder is ``output_dir`` or, when ``output_dir`` lies inside a batch's folder
    (``reportkit statement -o DIR/statements``: the layout ``reportkit deliver`` reads), that
    folder (the nearest one holding ``manifest.json``).
    """
    if params.close.registry is not None:
        return params.resolve(params.close.registry)
    _refuse_old_default_registry(params, batch_folder(output_dir).parent / "closes")
    return None


def batch_folder(output_dir: Path | str) -> Path:
    """``output_dir``, or the batch folder it lies inside (the nearest one holding ``manifest.json``)."""
    out = Path(output_dir).resolve()
    return next((p for p in (out, *out.parents) if (p / "manifest.json").is_file()), out)


def _refuse_old_default_registry(params: BatchParams, old: Path) -> None:
    """Refuse a run beside the old default registry (``closes/`` beside the batch folder) holding this batch name's closes.

    Those closes were in force for this batch name before 2026-12-07; reading them by
    default blocked every same-named batch in a shared parent, ignoring them silently would
    re-run a closed period or pay a later one without its restatements: the user chooses.
    """
    if not old.is_dir():
        return
    mine = sorted(p.name for p in old.glob(f"*--{_file_stem(params.name)}.json"))
    if mine:
        raise ParamsError(
            f"{old} holds close records of {params.name!r} ({', '.join(mine[:5])}{', ...' if len(mine) > 5 else ''}): "
            "the registry of closes that reportkit read by default before 2026-12-07 (closes/ beside the batch folder); "
            "a batch no longer reads it unless the params name it",
            hint=f"to keep those closes in force, set close: {{registry: {old}}} in the params (or -p close.registry={old}); "
            "to run without them, name another registry (-p close.registry=DIR) or move that folder away (docs/close.md)",
        )


def with_close_registry(params: BatchParams, output_dir: Path | str) -> BatchParams:
    """``params`` with ``close.registry`` resolved to an absolute folder (the reports read it there); None without one."""
    return params.model_copy(update={"close": CloseOptions(registry=registry_folder(params, output_dir))})


def registry_file(registry: Path, name: str, period: str) -> Path:
    """The registry's file for a batch name's closed period: ``<period>--<name as a file name>.json``."""
    return registry / f"{period}--{_file_stem(name)}.json"


def _file_stem(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "batch"


def read_close_record(path: Path) -> dict[str, Any]:
    """A close record's ``record`` part, its signature checked.

    Raises
    ------
    DataError
        The file is not a close record, or its signature does not match its content
        (the record was edited after close): names the file and the fix.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        record, sig = data["record"], data["signature"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(
            f"{path}: not a readable close record ({exc})",
            hint="restore the close record from a backup, or remove it to reopen the period",
        ) from None
    if record_signature(record) != sig:
        raise DataError(
            f"{path}: the close record was changed after it was signed: its sha256 is {record_signature(record)}, "
            f"its signature says {sig}",
            hint="restore the close record from the registry copy or a backup; a signed record is never edited by hand",
        )
    return record


def closed_records(params: BatchParams) -> list[dict[str, Any]]:
    """The registry's close records of this batch name (``params.name``), oldest period first; [] without a registry."""
    reg = params.close.registry
    if reg is None or not Path(reg).is_dir():
        return []
    records = [read_close_record(p) for p in sorted(Path(reg).glob("*.json"))]
    mine = [r for r in records if r.get("batch", {}).get("name") == params.name]
    return sorted(mine, key=lambda r: r["batch"]["period_end"])


def input_files(params: BatchParams, ds: Dataset, params_path: Path | None = None) -> list[dict[str, str]]:
    """Every input file of a run with its role: params, source mapping, each data table's file, plan files.

    Returns
    -------
    list of dict
        ``{"role": params | mapping | data | plan, "name": table or file name, "path": absolute path}``;
        a plans folder contributes each of its ``*.yaml`` / ``*.yml`` files.
    """
    files = []
    if params_path is not None:
        files.append({"role": "params", "name": "params", "path": str(Path(params_path).resolve())})
    files.append({"role": "mapping", "name": "mapping", "path": str(params.resolve(params.source))})
    for table, src in sorted(ds.sources.items()):
        p = Path(str(src))
        if p.is_file():
            files.append({"role": "data", "name": table, "path": str(p.resolve())})
    if params.plan is not None:
        refs = [params.resolve(params.plan.path)]
        if params.plan.assignments is not None:
            refs.append(params.resolve(params.plan.assignments))
        for ref in refs:
            for f in sorted(ref.rglob("*.y*ml")) if ref.is_dir() else [ref]:
                files.append({"role": "plan", "name": f.name, "path": str(f.resolve())})
    return files


def policy_hash(params: BatchParams) -> str:
    """Hash of the params that decide pay besides the plan files: the flat policy, the quota rule, the plan reference."""
    data = params.model_dump(mode="json", include={"commission", "quota_rule", "plan"})
    return hashlib.sha256(canonical_json(data)).hexdigest()


def _inputs_changed(record: dict[str, Any], params: BatchParams, ds: Dataset) -> list[str]:
    """Which pay inputs changed since the record: ``plan`` (plan files or commission policy), ``quota``."""
    old = {(f["role"], f["name"]): f["sha256"] for f in record.get("inputs", [])}
    now = {(f["role"], f["name"]): file_sha256(Path(f["path"])) for f in input_files(params, ds)}
    plan_keys = {k for k in set(old) | set(now) if k[0] == "plan"}
    changed = []
    if any(old.get(k) != now.get(k) for k in plan_keys) or record.get("policy") != policy_hash(params):
        changed.append("plan")
    if old.get(("data", "quotas")) != now.get(("data", "quotas")):
        changed.append("quota")
    return changed


def paid_for(records: list[dict[str, Any]], rec: dict[str, Any], account_manager_id: str, before: str) -> Decimal:
    """What was paid to an account manager for ``rec``'s closed period, as of a period starting ``before`` (ISO date).

    The record's statement total less its own adjustments of earlier periods (its
    ``restates``), plus the adjustments of this period in the records closed after it
    that end before ``before``: a restatement is paid once.
    """
    own = rec["statements"].get(account_manager_id, {"total": "0.00", "restates": {}})
    paid = Decimal(own["total"]) - sum((Decimal(v) for v in own.get("restates", {}).values()), Decimal(0))
    end, label = rec["batch"]["period_end"], rec["batch"]["period"]
    for later in records:
        if end < later["batch"]["period_end"] < before:
            paid += Decimal(later["statements"].get(account_manager_id, {}).get("restates", {}).get(label, "0"))
    return paid


def prior_period_restatements(
    ds: Dataset,
    params: BatchParams,
    ctx: ReportContext,
    account_manager_id: str,
    own_statement: Callable[[ReportContext], CommissionStatement],
    context_for: Callable[[str, Any], ReportContext],
) -> list[Restatement]:
    """The restatements an account manager's statement of ``ctx.period`` carries, one per closed earlier period.

    For each period of this batch name closed in the registry (``params.close.registry``)
    that ends before ``ctx.period`` starts: its statement recomputed on the current data
    as of its close record's ``as_of`` (``own_statement(context_for(period, as_of))``: the
    engine's statement, without restatements of its own), minus what was paid for it
    (the record's total less the record's own adjustments, plus adjustments of it in
    records closed since). Its cause: the account manager's deals (on the paid or the
    recomputed lines) added, removed or changed since the close, and a changed plan or quota.
    An account manager without a statement in a close record (the closed batch did not
    report them) is not restated for that period.

    Raises
    ------
    DataError
        A close record of the registry was edited after it was signed.
    """
    cache = ctx.engine.setdefault("closes", {})  # the registry is read once per batch context
    if "records" not in cache:
        cache["records"] = closed_records(params)
    records = cache["records"]
    period: Period = ctx.period
    out = []
    for rec in records:
        b = rec["batch"]
        if b["period_end"] >= period.start.isoformat() or account_manager_id not in rec["statements"]:
            continue  # a later period, or not paid through this close (the batch did not report them)
        paid = paid_for(records, rec, account_manager_id, period.start.isoformat())
        paid_stmt = rec["statements"][account_manager_id]
        ctx_k = context_for(b["period"], b["as_of"])
        stmt = own_statement(ctx_k)
        ids = {str(d) for d in stmt.lines["deal_id"].tolist() if isinstance(d, str) and d} | set(paid_stmt["deal_ids"])
        now = deal_fingerprint(ds.deals[ds.deals["deal_id"].astype(str).isin(ids)])
        if ("inputs", b["period"]) not in cache:
            cache[("inputs", b["period"])] = _inputs_changed(rec, params, ds)
        cause = cause_words(deal_changes(records_fingerprint(rec["deals"]), now, ids), cache[("inputs", b["period"])])
        closed = f"{rec['closed_at'][:10]} by {rec['closed_by']}"
        out.append(Restatement(b["period"], stmt.total, paid, cause, closed))
    return out


def refuse_closed(params: BatchParams, output_dir: Path | str, period_label: str) -> None:
    """Refuse a run that would write a closed period: into a closed folder, or a period closed in the registry.

    ``reportkit batch`` (also ``--resume`` / ``--only-failed``) and ``reportkit statement``
    call it before anything is written.

    Raises
    ------
    ParamsError
        ``output_dir`` holds a close record, or the registry holds one for this batch
        name and period (a run of a closed period): names the record, who closed it and
        when, and the fix (a later period, whose statements restate it).
    DataError
        A close record was edited after it was signed.
    """
    out = Path(output_dir)
    here = out / CLOSE_RECORD
    if not here.is_file():  # statements written inside a closed batch folder (DIR/statements) are its outputs too
        out = batch_folder(out)
        here = out / CLOSE_RECORD
    fix = (
        f"a closed period's outputs are never overwritten and the period is not run again, in this folder or a new one: "
        f"to correct {period_label} run a later period (a restatement run): its statements carry prior-period "
        f"adjustment lines restating {period_label}; to compare a corrected run with the closed one first, write it "
        "to a new folder with another registry of closes (-p close.registry=DIR) and run reportkit diff (docs/close.md)"
    )
    registry = registry_folder(params, out)
    reg = registry_file(registry, params.name, period_label) if registry is not None else None
    for path, what in (
        (here, f"{out} is closed: it holds {{period}} of {{name!r}}"),
        (
            reg,
            "{period} of {name!r} is closed (registry of closes, folder {folder})",
        ),
    ):
        if path is not None and path.is_file():
            rec = read_close_record(path)
            b = rec["batch"]
            said = what.format(period=b["period"], name=b["name"], folder=rec["folder"])
            raise ParamsError(f"{said}; closed {rec['closed_at']} by {rec['closed_by']} ({path})", hint=fix)
