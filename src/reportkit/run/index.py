"""``DIR/index.html``: every report of a batch, grouped by team, with its status and links.

Everything from the data (names, ids, errors) is escaped; links are URL-quoted
relative paths, so the folder can be moved or served as is.
"""

from __future__ import annotations

import html
from urllib.parse import quote

from ..config.params import BatchParams
from ..core.periods import Period
from ..reports.builders import REPORT_KINDS
from .results import ReportResult

__all__ = ["index_html"]

_INDEX_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1a202c}
h1{margin-bottom:.2rem} .meta{color:#4a5568;margin-top:0}
table{border-collapse:collapse;margin:.5rem 0 1.5rem} th,td{padding:.3rem .8rem;border-bottom:1px solid #e2e8f0;text-align:left}
.ok{color:#276749;font-weight:600} .failed{color:#c53030;font-weight:600} .error{color:#c53030;font-size:.9em}
"""


_LINK_ORDER = ("html", "pdf", "xlsx", "ipynb")
"""The order of a report's file links (every format of :data:`reportkit.run.outputs.FORMATS`)."""


def index_html(
    params: BatchParams,
    period: Period,
    results: list[ReportResult],
    company_error: str | None = None,
    *,
    data_quality: list[str] | None = None,
) -> str:
    """The page: one table per team (its own report first), each report's status, error and files.

    ``data_quality``: what loading dropped, merged or changed, one line per table
    (:func:`reportkit.data.model.load_change_notes`); the page says when it changed nothing.
    """
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
    if data_quality is not None:
        items = "".join(f"<li>{esc(n)}</li>" for n in data_quality)
        parts.append(
            f'<ul class="meta">{items}</ul>'
            if items
            else '<p class="meta">Data quality: loading dropped, merged or changed nothing.</p>'
        )
    for team, members in groups.items():
        members = sorted(members, key=lambda r: (not REPORT_KINDS[r.kind].id_from_name,))  # the team's own report first
        parts.append(f"<h2>{esc(team)}</h2>")
        parts.append("<table><thead><tr><th>Report</th><th>Kind</th><th>Status</th><th>Files</th></tr></thead><tbody>")
        for r in members:
            links = " · ".join(
                f'<a href="{esc(quote(path))}">{esc(fmt.upper() if fmt != "ipynb" else "notebook")}</a>'
                for fmt, path in sorted(r.outputs.items(), key=lambda kv: _LINK_ORDER.index(kv[0]))
            )
            for fmt, reason in sorted(r.output_errors.items()):
                links += f'<div class="error">{esc(fmt.upper())} not written: {esc(reason)}</div>'

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
