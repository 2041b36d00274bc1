"""``reportkit diff OLD NEW``: which figures changed between two batch folders, by how much, and why.

A batch leaves two small sidecars beside its manifest (:func:`write_batch_facts`):

* ``figures.json``: every report's headline figures (:data:`FIGURE_KEYS`: revenue,
  quota, attainment, commission, forecast), read from the report objects the batch built;
* ``deals.fingerprint.parquet``: one row per deal, its id, owner, close date and the
  hashes of its canonical row (:func:`reportkit.domain.restatement.deal_fingerprint`).

:func:`diff_batches` compares two folders: per report (account manager, team, company)
each figure that changed, old, new and the change; why: deals added, removed or changed
by deal id (and per account manager, the deals they own on either side), the params,
plan or quota files that changed (manifest ``batch.inputs``). :func:`diff_text` is the
console form, :func:`write_diff_workbook` the workbook (``--xlsx FILE``).
"""

from __future__ import annotations

import io
import json
import pickle
import warnings
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from ..core.errors import DataError, OutputError
from ..core.words import counted
from ..data.model import Dataset
from ..domain.restatement import DealChanges, deal_changes, deal_fingerprint
from .close import input_words, read_batch_manifest
from .memory import release_free_memory
from .outputs import atomic_write
from .results import ReportResult

__all__ = [
    "FIGURE_KEYS",
    "BatchDiff",
    "fingerprint_parquet",
    "report_entry",
    "write_batch_facts",
    "diff_batches",
    "diff_text",
    "write_diff_workbook",
]

FIGURES_FILE = "figures.json"
FINGERPRINT_FILE = "deals.fingerprint.parquet"

#: The headline figures compared, as summary keys of the report objects (the first a report has of each group).
FIGURE_KEYS = {
    "revenue": ("revenue",),
    "quota": ("quota",),
    "attainment": ("attainment",),
    "commission": ("commission_total", "commission_expense"),
    "forecast": ("forecast",),
}


def _figure(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    return str(value) if isinstance(value, Decimal) else repr(float(value))


def report_figures(summary: dict[str, Any]) -> dict[str, str | None]:
    """A report's headline figures (:data:`FIGURE_KEYS`) as text: money exact (``'1234.50'``), attainment a float repr."""
    out = {}
    for name, keys in FIGURE_KEYS.items():
        key = next((k for k in keys if k in summary), None)
        if key is not None:
            out[name] = _figure(summary[key])
    return out


def report_entry(kind: str, report_id: str, name: str, report: Any) -> dict[str, Any]:
    """A report's entry of ``figures.json``: kind, id, name and its headline figures (:func:`report_figures`)."""
    return {"kind": kind, "id": report_id, "name": name, **report_figures(dict(report.summary))}


def fingerprint_parquet(fingerprint: pd.DataFrame) -> bytes:
    """The bytes of ``deals.fingerprint.parquet``: ``fingerprint`` (:func:`deal_fingerprint`'s frame) as Parquet, no index.

    Made in memory, so the batch can make them while its last reports run and write them
    once they have all finished (:func:`write_batch_facts`); the same bytes as
    ``to_parquet`` of a path (about 6 MB at 200,000 deals).
    """
    buf = io.BytesIO()
    fingerprint.to_parquet(buf, index=False)
    return buf.getvalue()


def write_batch_facts(
    out: Path,
    ds: Dataset,
    results: list[ReportResult],
    previous: dict[str, Any] | None,
    *,
    figures_built: dict[str, dict[str, Any]] | None = None,
    fingerprint: pd.DataFrame | bytes | None = None,
) -> None:
    """Write ``figures.json`` and ``deals.fingerprint.parquet`` (before the report pickles are cleaned).

    A report reused from the previous run keeps its previous figures; a failed one has none.

    Parameters
    ----------
    figures_built : dict, optional
        ``"kind/id"`` -> the entry of a report built by this run (:func:`report_entry`), as the
        batch recorded it when it built the report; a report missing here is read from its pickle.
    fingerprint : DataFrame or bytes, optional
        ``deal_fingerprint(ds.deals)`` when the batch computed it already (while its last
        reports ran), or the file's bytes made of it (:func:`fingerprint_parquet`); computed here otherwise.
    """
    old: dict[str, Any] = {}
    if previous is not None:
        try:
            old = json.loads((out / FIGURES_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = {}
    figures = {}
    for r in results:
        key = f"{r.kind}/{r.id}"
        if r.status != "ok":
            continue
        pkl = out / r.parameters.get("report_data", "")
        if not r.reused and figures_built and key in figures_built:
            figures[key] = figures_built[key]
        elif not r.reused and pkl.is_file():
            with open(pkl, "rb") as f:
                report = pickle.load(f)
            figures[key] = report_entry(r.kind, r.id, r.name, report)
        elif key in old:
            figures[key] = old[key]
    atomic_write(out / FIGURES_FILE, json.dumps(figures, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
    if fingerprint is None:
        from ..reports.context import deal_row_hashes  # the rows a batch hashed for its forecasts' cache key

        fingerprint = deal_fingerprint(ds.deals, rows=deal_row_hashes(ds.deals))
    content = fingerprint if isinstance(fingerprint, bytes) else fingerprint_parquet(fingerprint)
    del fingerprint
    atomic_write(out / FINGERPRINT_FILE, content, what="the deals' fingerprint")
    del content
    release_free_memory()  # what hashing every deal freed, before the company workbook (docs/batch.md, memory)


@dataclass
class BatchDiff:
    """What changed between two batches.

    Attributes
    ----------
    figures : DataFrame
        One row per changed figure: ``kind``, ``id``, ``name``, ``figure``, ``old``,
        ``new`` (Decimal money or float attainment, None when missing) and ``change``
        (new - old; None when either is missing).
    deals : DealChanges
        Deals added, removed and changed, by deal id.
    owners : dict
        Deal id -> owning account manager id (new side, else old side).
    inputs : list of str
        Inputs that changed (``params``, ``plan <file>``, ``data quotas`` ...).
    warnings : list of str
        The batches are of different data sets or periods.
    only_in : dict
        ``(kind, id)`` -> ``"old"`` or ``"new"``: a report only one batch has (its figures
        on the other side are ``none``, not ``n/a``, and its why says so).
    """

    old: Path
    new: Path
    figures: pd.DataFrame
    deals: DealChanges
    owners: dict[str, str] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    only_in: dict[tuple[str, str], str] = field(default_factory=dict)

    def shown(self, value: Any, figure: str, kind: str, rid: str, side: str) -> str:
        """A figure's ``side`` (``old``/``new``) as text: ``none`` where that batch has no such report."""
        missing = self.only_in.get((kind, rid)) not in (None, side)
        return "none" if missing else _fmt(value, figure)


def _read_facts(folder: Path) -> tuple[dict[str, Any], dict[str, Any], pd.DataFrame]:
    manifest = read_batch_manifest(folder)
    try:
        figures = json.loads((folder / FIGURES_FILE).read_text(encoding="utf-8"))
        fp = pd.read_parquet(folder / FINGERPRINT_FILE)
    except (OSError, ValueError) as exc:
        raise DataError(
            f"{folder}: the batch has no {FIGURES_FILE} / {FINGERPRINT_FILE} to compare ({exc})",
            hint="re-run the batch with this reportkit version (it writes them beside manifest.json)",
        ) from None
    return manifest, figures, fp


def _value(text: str | None, figure: str) -> Decimal | float | None:
    if text is None:
        return None
    return float(text) if figure == "attainment" else Decimal(text)


def diff_batches(old: str | Path, new: str | Path) -> BatchDiff:
    """Compare two batch folders: changed figures per report, changed deals, changed inputs.

    Raises
    ------
    ParamsError
        A folder is not a batch folder.
    DataError
        A batch has no figures / fingerprint sidecars (written by an older version).
    """
    old, new = Path(old).resolve(), Path(new).resolve()
    (m_old, f_old, fp_old), (m_new, f_new, fp_new) = _read_facts(old), _read_facts(new)
    notes = []
    for key, what in (("name", "data sets (batch names)"), ("period", "periods"), ("as_of", "as-of dates")):
        a, b = m_old["batch"].get(key), m_new["batch"].get(key)
        if a != b:
            notes.append(f"the batches are of different {what}: {a} and {b}; figures are compared as they are")
    rows = []
    only_in: dict[tuple[str, str], str] = {}
    for key in sorted(set(f_old) | set(f_new)):
        a, b = f_old.get(key, {}), f_new.get(key, {})
        ident = b or a
        if not (a and b):
            only_in[(ident["kind"], ident["id"])] = "new" if b else "old"
        for figure in FIGURE_KEYS:
            va, vb = _value(a.get(figure), figure), _value(b.get(figure), figure)
            if va == vb:
                continue
            change = None if va is None or vb is None else vb - va
            rows.append((ident["kind"], ident["id"], ident["name"], figure, va, vb, change))
    figures = pd.DataFrame(rows, columns=["kind", "id", "name", "figure", "old", "new", "change"], dtype=object)
    changes = deal_changes(fp_old, fp_new)
    owners = dict(zip(fp_old["deal_id"], fp_old["account_manager_id"]))
    owners.update(zip(fp_new["deal_id"], fp_new["account_manager_id"]))
    ins_old = {(f["role"], f["name"]): f["sha256"] for f in m_old["batch"].get("inputs") or []}
    ins_new = {(f["role"], f["name"]): f["sha256"] for f in m_new["batch"].get("inputs") or []}
    inputs = [input_words(r, n) for (r, n) in sorted(set(ins_old) | set(ins_new)) if ins_old.get((r, n)) != ins_new.get((r, n))]
    if m_old["batch"].get("overrides") != m_new["batch"].get("overrides"):
        inputs.append("params overrides (-p)")
    for note in notes:
        warnings.warn(note, stacklevel=2)
    return BatchDiff(old, new, figures, changes, owners, inputs, notes, only_in)


def _fmt(v: Any, figure: str) -> str:
    if v is None:
        return "n/a"
    if figure == "attainment":
        return f"{v:+.1%}" if isinstance(v, float) and v < 0 else f"{v:.1%}"
    return f"{v:,.2f}"


def _change(v: Any, figure: str) -> str:
    """A figure's change: money signed, attainment in percentage points (``+1.2 pts``, not ``+1.2%``)."""
    if figure == "attainment":
        return f"{v * 100:+.1f} pts"
    return f"{'+' if v >= 0 else ''}{_fmt(v, figure)}"


def _team_members(folder: Path) -> dict[str, set[str]]:
    """Team report id -> the ids of its account managers' reports, from a batch's manifest."""
    reports = read_batch_manifest(folder).get("reports", [])
    names = {str(e["id"]): str(e.get("name")) for e in reports if e.get("kind") == "team"}
    return {
        tid: {str(e["id"]) for e in reports if e.get("kind") == "account_manager" and str(e.get("team")) == name}
        for tid, name in names.items()
    }


def _why(d: BatchDiff, kind: str, rid: str) -> str:
    """Why a report's figures changed: its own deals (an account manager's, a team's members'), else every deal, and the inputs."""
    ids = None
    if kind == "account_manager":
        ids = {k for k, v in d.owners.items() if v == rid}
    elif kind == "team":
        members = _team_members(d.new).get(rid, set()) | _team_members(d.old).get(rid, set())
        ids = {k for k, v in d.owners.items() if v in members}
    side = d.only_in.get((kind, rid))
    parts = [f"a new report, not in {d.old}" if side == "new" else f"no longer reported, not in {d.new}"] if side else []
    for label, got in (("added", d.deals.added), ("removed", d.deals.removed), ("changed", list(d.deals.changed))):
        mine = [x for x in got if ids is None or x in ids]
        if mine:
            shown = ", ".join(mine[:8]) + (f" and {len(mine) - 8} more" if len(mine) > 8 else "")
            parts.append(f"{counted(len(mine), 'deal')} {label} ({shown})")
    parts += [f"{x} changed" for x in d.inputs]
    return "; ".join(parts) or "no deal or input changed"


def diff_text(d: BatchDiff) -> str:
    """The diff as the console shows it: warnings, changed inputs and deals, then each report's changed figures."""
    lines = [f"reportkit diff {d.old} -> {d.new}"]
    lines += [f"warning: {w}" for w in d.warnings]
    lines.append("inputs changed: " + (", ".join(d.inputs) if d.inputs else "none"))
    for label, ids in (("added", d.deals.added), ("removed", d.deals.removed)):
        lines.append(f"deals {label}: {len(ids)}" + (f" ({', '.join(ids)})" if ids else ""))
    changed = [f"{k} ({', '.join(v)})" for k, v in d.deals.changed.items()]
    lines.append(f"deals changed: {len(changed)}" + (f": {'; '.join(changed)}" if changed else ""))
    if d.figures.empty:
        lines.append("no figure changed")
    for (kind, rid, name), g in d.figures.groupby(["kind", "id", "name"], sort=False):
        lines.append(f"{kind} {rid} ({name}): {_why(d, kind, rid)}")
        for r in g.itertuples(index=False):
            ch = "" if r.change is None else f" ({_change(r.change, r.figure)})"
            old, new = d.shown(r.old, r.figure, kind, rid, "old"), d.shown(r.new, r.figure, kind, rid, "new")
            lines.append(f"  {r.figure}: {old} -> {new}{ch}")
    return "\n".join(lines) + "\n"


def write_diff_workbook(d: BatchDiff, path: str | Path, currency: str = "USD") -> Path:
    """The diff as a workbook: *Figures* (old, new and a live ``=new-old`` change per figure) and *Deals*.

    Money cells carry the currency's format (:func:`reportkit.render.excel.money_format`),
    attainment a percent format; each change is a formula with its exact cached value.

    Raises
    ------
    OutputError
        The file cannot be written.
    """
    import datetime

    import xlsxwriter

    from ..render.excel.book import print_setup
    from ..render.excel.formats import (  # lazy: the batch imports this module, and writes no diff workbook
        PERCENT_FORMAT,
        POINTS_FORMAT,
        money_format,
    )
    from ..render.excel.frames import wrapped_height
    from ..render.labels import summary_label
    from ..render.titles import PrintTitle
    from ..reports.builders import REPORT_KINDS

    batch = read_batch_manifest(d.new)["batch"]
    as_of = batch["as_of"]
    title = PrintTitle(
        company=str(batch.get("name") or ""),
        report=f"What changed: {d.old.name} to {d.new.name}",
        period=str(batch.get("period") or ""),
        as_of=datetime.date.fromisoformat(str(as_of)),  # every batch manifest has it
    )
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp.xlsx")
    try:
        wb = xlsxwriter.Workbook(str(tmp))
        try:
            top = {"valign": "top"}
            bold = wb.add_format({"bold": True, "text_wrap": True, **top})
            text = wb.add_format(top)
            wrap = wb.add_format({"text_wrap": True, **top})
            money = wb.add_format({"num_format": money_format(currency), **top})
            pct = wb.add_format({"num_format": PERCENT_FORMAT, **top})
            points = wb.add_format({"num_format": POINTS_FORMAT, **top})  # attainment change
            title_format = wb.add_format({"bold": True, "font_size": 12, "text_wrap": True, "valign": "top"})
            ws = wb.add_worksheet("Figures")
            head = ["Report", "Id", "Name", "Figure", "Old", "New", "Change", "Why"]
            widths = (16, 12, 18, 22, 15, 15, 15, 32)  # "Why" wraps in its cell
            print_setup(ws, title, 1, title_format, widths, identifying=3)  # report, id and name on every page
            ws.write_row(1, 0, head, bold)
            for i, r in enumerate(d.figures.itertuples(index=False), start=2):
                is_pct = r.figure == "attainment"
                kind = REPORT_KINDS[r.kind].label if r.kind in REPORT_KINDS else str(r.kind)
                for j, value in enumerate((kind, r.id, r.name, summary_label(str(r.kind), str(r.figure)))):
                    ws.write_string(i, j, str(value), text)  # text from the data is never a formula
                for j, v, side in ((4, r.old, "old"), (5, r.new, "new")):
                    ws.write_number(i, j, float(v), pct if is_pct else money) if v is not None else ws.write_string(
                        i, j, d.shown(v, r.figure, r.kind, r.id, side), text
                    )
                if r.change is None:
                    ws.write_string(i, 6, "n/a", text)
                elif is_pct:  # percentage points: (new - old) x 100, exact to the printed tenth
                    ws.write_formula(i, 6, f"=(F{i + 1}-E{i + 1})*100", points, float(r.change) * 100)
                else:
                    ws.write_formula(i, 6, f"=F{i + 1}-E{i + 1}", money, float(r.change))
                why = _why(d, r.kind, r.id)
                ws.set_row(i, wrapped_height([why], [widths[7]]))
                ws.write_string(i, 7, why, wrap)
            ws.freeze_panes(2, 0)
            wd = wb.add_worksheet("Deals")
            print_setup(wd, title, 1, title_format, (18, 12, 18, 40), identifying=1)
            wd.write_row(1, 0, ["Deal", "Change", "Account manager", "Columns changed"], bold)
            rows = [(x, "added", "") for x in d.deals.added] + [(x, "removed", "") for x in d.deals.removed]
            rows += [(x, "changed", ", ".join(w)) for x, w in d.deals.changed.items()]
            for i, (x, what, cols) in enumerate(rows, start=2):
                for j, value in enumerate((x, what, d.owners.get(x, ""), cols)):
                    wd.write_string(i, j, str(value), wrap if j == 3 else text)
            wd.freeze_panes(2, 0)
        finally:
            wb.close()
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {str(path)!r}: {exc}", hint="choose a writable path for --xlsx") from None
    return path


def diff_cli(old: str | Path, new: str | Path, xlsx: str | Path | None = None) -> int:
    """``reportkit diff OLD NEW [--xlsx FILE]``: prints the diff (warnings on stderr); returns 0."""
    import sys

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = diff_batches(old, new)
    for w in d.warnings:
        print(f"reportkit: warning: {w}", file=sys.stderr)
    sys.stdout.write(diff_text(d))
    if xlsx is not None:
        write_diff_workbook(d, xlsx, _currency(d.new))
        print(f"Workbook: {xlsx}")
    return 0


def _currency(folder: Path) -> str:
    """The batch's reporting currency (its close record's, else the manifest's data, else USD)."""
    manifest = read_batch_manifest(folder)
    return str(manifest["batch"].get("currency") or "USD")
