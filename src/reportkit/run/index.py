"""``DIR/index.html``: the company's headline figures, then every report of a batch, grouped by team, with its status and links.

The headline figures (company revenue, quota, attainment, annual forecast) are the
company report's own (:func:`reportkit.reports.builders.build_company_report`), shown
as its HTML and workbook show them. The company section links the company report's
files and ``company.xlsx``; each team's section its reports' files. Everything from
the data (names, ids, errors) is escaped; links are URL-quoted relative paths, so
the folder can be moved or served as is.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from ..config.params import BatchParams
from ..core.periods import Period
from ..core.words import counted
from ..render.labels import summary_label
from ..render.notebook import format_cell
from ..reports.builders import REPORT_KINDS, ReportKind
from .results import ReportResult

__all__ = ["HEADLINE_FIGURES", "READER_FIGURES", "headline_text", "index_html"]

HEADLINE_FIGURES: tuple[tuple[str, str], ...] = (
    ("revenue", "Revenue (each deal once)"),
    ("quota", "Quota"),
    ("attainment", "Attainment"),
    ("forecast", "Annual forecast"),
)
"""The company figures at the top of the index: (summary key of the company report, label)."""

READER_FIGURES: tuple[str, ...] = ("revenue", "quota", "attainment", "forecast", "commission_total", "commission_expense")
"""A report's headline figures for its reader (manifest ``headline``, the delivery e-mail's body), by summary key:
the index's figures, then the account manager's commission or the group's commission expense."""


def headline_text(kind: str, summary: Mapping[str, Any], currency: str) -> dict[str, str]:
    """A report's :data:`READER_FIGURES` as its reader sees them: ``{label: text}``, keys it has only.

    Parameters
    ----------
    kind : str
        The report kind: labels are that kind's summary labels (:func:`reportkit.render.labels.summary_label`).
    summary : mapping
        The report object's ``summary`` (any registered kind; keys it lacks are left out).
    currency : str
        The report currency (money is formatted as the reports show it, e.g. ``$1,234.50``).

    Returns
    -------
    dict of str to str
        E.g. ``{"Revenue": "$133,419.56", "Attainment": "83.4%", ...}``: what the batch stores
        in each ``manifest.json`` entry as ``headline`` and ``reportkit deliver`` writes into
        that reader's e-mail (docs/delivery.md).
    """
    return {summary_label(kind, k): format_cell(summary.get(k), k, currency) for k in READER_FIGURES if k in summary}


_INDEX_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1a202c}
h1{margin-bottom:.2rem} .meta{color:#4a5568;margin-top:0}
table{border-collapse:collapse;margin:.5rem 0 1.5rem} th,td{padding:.3rem .8rem;border-bottom:1px solid #e2e8f0;text-align:left}
.ok{color:#276749;font-weight:600} .failed{color:#c53030;font-weight:600} .error{color:#c53030;font-size:.9em}
.headline{display:flex;flex-wrap:wrap;gap:1rem;margin:1rem 0 1.5rem;padding:0}
.headline>div{border:1px solid #e2e8f0;border-radius:6px;padding:.6rem 1rem;min-width:10rem}
.headline dt{color:#4a5568;font-size:.85em} .headline dd{margin:0;font-size:1.4em;font-weight:600}
.headline .sub{font-size:.8em;color:#4a5568;font-weight:400}
.scroll{overflow-x:auto;max-width:100%} .name,.id{white-space:nowrap}
"""

_PATH = re.compile(r"[^\s'\"<>]*/[^\s'\"<>]*|[^\s'\"<>/]+\.(?:html|pdf|xlsx|ipynb|json|parquet)\b")
"""A file name or path in a message (a word with a ``/``, or one ending in a file extension)."""


def _text(message: str) -> str:
    """``message`` escaped, each file name in it whole on one line: a path breaks only after a ``/``.

    A browser breaks a long word after each hyphen, so ``alice-andersen-am-001.pdf``
    wrapped as ``alice-`` / ``andersen-am-001.pdf``; each part of a path is kept
    together (``.name``) with a break opportunity (``<wbr>``) after its slashes only.

    >>> _text("could not write out/a-b.pdf: disk full")
    'could not write <span class="name">out/</span><wbr><span class="name">a-b.pdf:</span> disk full'
    """
    out, at = [], 0
    for m in _PATH.finditer(message):
        parts = re.findall(r"[^/]*/|[^/]+$", m.group(0))
        out += [html.escape(message[at : m.start()]), "<wbr>".join(f'<span class="name">{html.escape(p)}</span>' for p in parts)]
        at = m.end()
    return "".join([*out, html.escape(message[at:])])


_LINK_ORDER = ("html", "pdf", "xlsx", "ipynb")
"""The order of a report's file links (every format a report may have)."""


def _links(r: ReportResult) -> str:
    """A report's file links (HTML, workbook, notebook), escaped and URL-quoted, and why a file is missing
    (file names in it never broken inside a name: :func:`_text`)."""
    return " · ".join(
        f'<a href="{html.escape(quote(path))}">{html.escape(fmt.upper() if fmt != "ipynb" else "notebook")}</a>'
        for fmt, path in sorted(r.outputs.items(), key=lambda kv: _LINK_ORDER.index(kv[0]))
    ) + "".join(
        f'<div class="error">{html.escape(fmt.upper())} not written: {_text(reason)}</div>'
        for fmt, reason in sorted(r.output_errors.items())
    )


def _row(r: ReportResult, kinds: Mapping[str, ReportKind]) -> str:
    """One report's table row: its title (linking its HTML), kind, status (with the error) and files."""
    esc = html.escape
    kind = kinds[r.kind]
    # an id is whole on one line (.id), "(am-kofi-kowalski)" never "(am-kofi-" / "kowalski)"; the name breaks at its spaces
    title = esc(r.name) if kind.id_from_name else f'{esc(r.name)} <span class="id">({esc(r.id)})</span>'
    if "html" in r.outputs:
        title = f'<a href="{esc(quote(r.outputs["html"]))}">{title}</a>'
    status = f'<span class="{"ok" if r.status == "ok" else "failed"}">{esc(r.status)}</span>'
    if r.error:
        status += f'<div class="error">{_text(r.error)}</div>'
    label = kind.label if kind.builtin else kind.title  # a declared kind is named by its title
    return f"<tr><td>{title}</td><td>{esc(label)}</td><td>{status}</td><td>{_links(r)}</td></tr>"


_TABLE_HEAD = (
    '<div class="scroll"><table><thead><tr><th>Report</th><th>Kind</th><th>Status</th><th>Files</th></tr></thead><tbody>'
)
"""A table of reports, in a box that scrolls sideways when a file name is wider than the window (the page does not)."""
_TABLE_END = "</tbody></table></div>"


def _headline(figures: Mapping[str, Any], currency: str) -> list[str]:
    """The company's headline figures as a definition list (values formatted as the reports show them)."""
    items = []
    for key, label in HEADLINE_FIGURES:
        value = html.escape(format_cell(figures.get(key), key, currency))
        sub = ""
        lo_hi = (figures.get("forecast_low"), figures.get("forecast_high"))
        if key == "forecast" and None not in lo_hi and lo_hi[0] != lo_hi[1]:  # a closed year's range is its actuals
            lo, hi = (html.escape(format_cell(figures[k], k, currency)) for k in ("forecast_low", "forecast_high"))
            sub = f'<div class="sub">range {lo} to {hi}</div>'
        if key == "attainment" and figures.get("attainment_basis_differs") and figures.get("credited_revenue") is not None:
            # attainment is credited revenue / quota, not the revenue beside it (a deal counted once there): say so
            basis = html.escape(format_cell(figures["credited_revenue"], "credited_revenue", currency))
            sub = f'<div class="sub">of credited revenue {basis} (the attainment basis)</div>'
        items.append(f'<div data-figure="{key}"><dt>{html.escape(label)}</dt><dd>{value}{sub}</dd></div>')
    return ['<dl class="headline">', *items, "</dl>"]


def index_html(
    params: BatchParams,
    period: Period,
    results: list[ReportResult],
    company_error: str | None = None,
    *,
    figures: Mapping[str, Any] | None = None,
    currency: str = "USD",
    company_workbook: str | None = None,
    data_quality: list[str] | None = None,
    kinds: Mapping[str, ReportKind] | None = None,
) -> str:
    """The page: the company's headline figures and files, then one table per team (its own report first).

    Parameters
    ----------
    params : BatchParams
    period : Period
    results : list of ReportResult
        Every report of the batch; the company report (kind ``company``) is shown
        in the company section, the others under their team.
    company_error : str, optional
        Why ``company.xlsx`` could not be written.
    figures : mapping, optional
        The company report's ``summary`` (:data:`HEADLINE_FIGURES` keys and the
        forecast range); None: no headline (the batch has no company report).
    currency : str, default "USD"
        The report currency, for the figures.
    company_workbook : str, optional
        ``company.xlsx``'s path relative to the folder, when written.
    data_quality : list of str, optional
        What loading dropped, merged or changed, one line per table
        (:func:`reportkit.data.model.load_change_notes`); the page says when it changed nothing.
    kinds : mapping, optional
        Every kind of the batch (:func:`reportkit.reports.builders.batch_kinds`; default the
        built-in ones). Reports of a kind ``per: company`` are listed in the company
        section; the others under their team (an account's: its account manager's team),
        the team's own reports first.
    """
    esc = html.escape
    kinds = kinds or REPORT_KINDS
    company = [r for r in results if kinds[r.kind].per == "company"]
    groups: dict[str, list[ReportResult]] = {}
    for r in results:
        if kinds[r.kind].per != "company":
            groups.setdefault(r.team, []).append(r)
    ok = sum(r.status == "ok" for r in results)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(params.name)} — {esc(period.label)}</title>",
        f"<style>{_INDEX_CSS}</style></head><body>",
        f"<h1>{esc(params.name)} — {esc(period.label)}</h1>",
        f'<p class="meta">As of {esc(params.as_of.isoformat())} · {counted(len(results), "report")}: '
        f"{ok} ok, {len(results) - ok} failed</p>",
    ]
    if figures is not None:
        parts += _headline(figures, currency)
    if data_quality is not None:
        items = "".join(f"<li>{esc(n)}</li>" for n in data_quality)
        parts.append(
            f'<ul class="meta">{items}</ul>'
            if items
            else '<p class="meta">Data quality: loading dropped, merged or changed nothing.</p>'
        )
    if company or company_workbook or company_error:
        parts.append("<h2>Company</h2>")
        parts.append(_TABLE_HEAD)
        parts += [_row(r, kinds) for r in company]
        if company_workbook or company_error:
            link = f'<a href="{esc(quote(company_workbook))}">XLSX</a>' if company_workbook else ""
            status = '<span class="ok">ok</span>' if company_workbook else '<span class="failed">failed</span>'
            if company_error:
                status += f'<div class="error">{_text(company_error)}</div>'
            parts.append(
                f"<tr><td>Company roll-up workbook (every team)</td><td>workbook</td><td>{status}</td><td>{link}</td></tr>"
            )
        parts.append(_TABLE_END)
    for team, members in groups.items():
        members = sorted(members, key=lambda r: (kinds[r.kind].per != "team",))  # the team's own reports first
        parts.append(f"<h2>{esc(team)}</h2>")
        parts.append(_TABLE_HEAD)
        parts += [_row(r, kinds) for r in members]
        parts.append(_TABLE_END)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
