"""PDF of a report: its printable HTML body laid out on pages by WeasyPrint (no LaTeX, no browser).

The body is the executed notebook exported with the code and both parameter cells
hidden, as in the published HTML (:func:`reportkit.run.html.export_print_body`);
this module puts it on paged media (CSS ``@page``):

* paper A4 or Letter, landscape or portrait (params ``pdf:``, :class:`PdfPage`);
* a running header on every page: company and report on the left, period and
  as-of on the right (:class:`reportkit.render.titles.PrintTitle`), and
  ``page N of M`` at the bottom right;
* tables break between rows and repeat their header row on each page; a heading
  stays with what follows it;
* charts are the notebook's vector SVG (the PNG where a chart has none).

:class:`PdfRenderer` holds what is worth keeping between reports (WeasyPrint's font
configuration and the parsed stylesheet); a batch worker keeps one per thread and
reuses it for every report (:func:`render_pdf`). WeasyPrint needs Pango from the
system (``libpango-1.0-0``, ``libpangoft2-1.0-0``); :func:`pdf_unavailable` says
what is missing before a batch starts. Measurements and the choice against a
headless browser: ``docs/pdf.md``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Literal

from .style import LABEL_CELL_CSS
from .titles import PrintTitle

__all__ = ["PdfPage", "PdfRenderer", "pdf_unavailable", "print_document", "render_pdf", "warm_renderer"]


@dataclass(frozen=True)
class PdfPage:
    """How a report's PDF is laid out: what its running header says and the sheet it is printed on."""

    title: PrintTitle
    paper: Literal["A4", "Letter"] = "A4"
    orientation: Literal["landscape", "portrait"] = "landscape"


# Page furniture is set in the margin boxes; everything else styles the notebook's
# own markup (headings, paragraphs, reportkit tables, pandas tables, images).
_STYLE = """
html { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; font-size: 8.5pt; color: #1a202c; }
body { margin: 0; }
h1 { font-size: 15pt; margin: 0 0 4pt; }
h2 { font-size: 12pt; margin: 12pt 0 4pt; }
h3 { font-size: 10pt; margin: 10pt 0 3pt; }
h1, h2, h3, h4 { break-after: avoid; page-break-after: avoid; }
p { margin: 3pt 0 5pt; orphans: 2; widows: 2; }
h2 + p, h3 + p { break-after: avoid; page-break-after: avoid; }
a.anchor-link { display: none; }
code { font-family: "DejaVu Sans Mono", monospace; font-size: 0.95em; }
table { border-collapse: collapse; margin: 3pt 0 8pt; font-size: 7.5pt; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
th { background: #edf2f7; border-bottom: 0.75pt solid #a0aec0; padding: 2pt 4pt; font-weight: bold; vertical-align: bottom; }
td { border-bottom: 0.5pt solid #e2e8f0; padding: 1.5pt 4pt; vertical-align: top; }
td:first-child { LABEL_CELL_CSS; }  /* a label column never wraps: a long value (a rule in words) wraps instead */
img, svg { max-width: 100%; height: auto; }
.jp-RenderedImage, .jp-RenderedSVG, .output_svg, .output_png { break-inside: avoid; }
pre { white-space: pre-wrap; font-size: 7.5pt; }
tr.reportkit-trace { display: none; }  /* a commission line's trace: the HTML's <details> and the workbook hold it */
""".replace("LABEL_CELL_CSS", LABEL_CELL_CSS)  # the HTML tables' rule (render/style.py)

_MARGIN_BOX = 'font-family: "DejaVu Sans", Arial, sans-serif; font-size: 7.5pt; color: #4a5568;'


def _css_string(text: str) -> str:
    """``text`` as a CSS string literal (quotes, backslashes and control characters escaped)."""
    out = []
    for ch in str(text):
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _page_rule(page: PdfPage) -> str:
    t = page.title
    left = " · ".join(p for p in (t.company, t.report) if p)
    return (
        f"@page {{ size: {page.paper} {page.orientation}; margin: 18mm 12mm 15mm 12mm;"
        f" @top-left {{ content: {_css_string(left)}; {_MARGIN_BOX} vertical-align: bottom; padding-bottom: 3mm; }}"
        f" @top-right {{ content: {_css_string(t.when)}; {_MARGIN_BOX} vertical-align: bottom; padding-bottom: 3mm; }}"
        f' @bottom-right {{ content: "page " counter(page) " of " counter(pages); {_MARGIN_BOX} }} }}'
    )


def print_document(body: str, page: PdfPage) -> str:
    """The whole printable page: ``body`` (HTML of the report's cells) with the page rules and the style.

    Parameters
    ----------
    body : str
        The report's cells as HTML (no ``<html>``/``<body>``), as exported for print.
    page : PdfPage
        Header text, paper and orientation.
    """
    import html

    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(page.title.text)}</title>"
        f"<style>{_page_rule(page)}</style></head><body>{body}</body></html>"
    )


def pdf_unavailable() -> str | None:
    """Why PDFs cannot be written here (WeasyPrint or Pango missing), or None when they can.

    Importing WeasyPrint loads Pango through cffi; either failing is reported with
    the install step that fixes it.
    """
    try:
        import weasyprint  # noqa: F401
    except ImportError as exc:
        return f'PDF output needs WeasyPrint, which is not installed ({exc}): pip install "reportkit[pdf]" (make env does)'
    except OSError as exc:
        return (
            f"PDF output needs the Pango library, which WeasyPrint could not load ({str(exc).splitlines()[0] if str(exc) else exc}):"
            " apt-get install libpango-1.0-0 libpangoft2-1.0-0"
        )
    return None


class PdfRenderer:
    """WeasyPrint with its font configuration and the report stylesheet parsed once, for many reports.

    Not thread-safe: keep one per thread (:func:`render_pdf` does).
    """

    def __init__(self) -> None:
        import weasyprint
        from weasyprint.text.fonts import FontConfiguration

        self._weasyprint = weasyprint
        self._fonts = FontConfiguration()
        self._style = weasyprint.CSS(string=_STYLE, font_config=self._fonts)

    def render(self, body: str, page: PdfPage) -> bytes:
        """PDF bytes of ``body`` laid out on ``page``.

        Raises
        ------
        Exception
            Whatever WeasyPrint raises for a page it cannot lay out; the batch
            records it as that report's PDF failure.
        """
        doc = self._weasyprint.HTML(string=print_document(body, page))
        return doc.write_pdf(stylesheets=[self._style], font_config=self._fonts, uncompressed_pdf=False)


_local = threading.local()


def warm_renderer() -> PdfRenderer:
    """This thread's :class:`PdfRenderer`, built on first use and kept (a batch worker builds it at start)."""
    renderer: Any = getattr(_local, "renderer", None)
    if renderer is None:
        renderer = _local.renderer = PdfRenderer()
    return renderer


def render_pdf(body: str, page: PdfPage) -> bytes:
    """PDF bytes of a report's printable body, with this thread's reused :class:`PdfRenderer`."""
    return warm_renderer().render(body, page)
