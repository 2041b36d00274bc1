"""PDF of a report: its printable HTML page, printed by headless Chromium or laid out by WeasyPrint.

The body is the executed notebook exported with the code and both parameter cells
hidden, as in the published HTML (:func:`reportkit.run.html.export_print_body`);
this module makes it one printable page on paged media (CSS ``@page``,
:func:`print_document`), the same HTML whichever renderer prints it:

* paper A4 or Letter, landscape or portrait (params ``pdf:``, :class:`PdfPage`);
* a running header on every page: company and report on the left, period and
  as-of on the right (:class:`reportkit.render.titles.PrintTitle`), and
  ``page N of M`` at the bottom right (``@page`` margin boxes);
* tables break between rows and repeat their header row on each page; a heading
  stays with what follows it;
* charts are the notebook's vector SVG (the PNG where a chart has none).

Which renderer (params ``pdf.renderer``, :func:`choose_renderer`): ``auto`` (the
default) is Chromium where a Chromium executable and Playwright are there
(:mod:`reportkit.render.chromium`), else WeasyPrint; ``chromium`` or ``weasyprint``
forces one. A batch worker keeps one renderer per thread, started when the worker
starts (:func:`warm_renderer`), and reuses it for every report (:func:`render_pdf`).
WeasyPrint needs Pango from the system (``libpango-1.0-0``, ``libpangoft2-1.0-0``;
:func:`pdf_unavailable`). Measurements and the choice: ``docs/pdf.md``.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

from ..core.errors import EnvironmentError_, ParamsError
from .style import LABEL_CELL_CSS, ONE_LINE_CLASS, is_one_word
from .titles import PrintTitle

__all__ = [
    "PDF_RENDERERS",
    "PdfEngine",
    "PdfPage",
    "PdfRenderer",
    "choose_renderer",
    "close_renderers",
    "engine_here",
    "pdf_unavailable",
    "print_document",
    "render_pdf",
    "renderer_on_workers",
    "warm_renderer",
]

PDF_RENDERERS = ("auto", "chromium", "weasyprint")
"""The params ``pdf.renderer`` values: ``auto`` is Chromium where it can run, else WeasyPrint."""


@dataclass(frozen=True)
class PdfPage:
    """How a report's PDF is laid out: what its running header says and the sheet it is printed on."""

    title: PrintTitle
    paper: Literal["A4", "Letter"] = "A4"
    orientation: Literal["landscape", "portrait"] = "landscape"


WINDOW_WIDTH_PX = 2400
"""How wide the window is that Chromium loads a report's page in (:mod:`reportkit.render.chromium`): wider
than any paper (A4's long side is 1123 CSS px), so the page's style can tell paper from that window.

The body is laid out on paper only. Chromium lays a page out for its window when it
loads it (``screen`` media) and, when it prints, once more for that window in ``print``
media (its ``beforeprint`` step) before it lays the page out on paper: the print style
hides the body in both (``@media screen, print and (min-width: ...)``), so only the
paper's layout is made (a quarter of the page renderer's CPU per print: ``docs/pdf.md``, session 15).
WeasyPrint lays out on paper only and prints the same bytes with or without the rule."""


# Page furniture is set in the margin boxes; everything else styles the notebook's
# own markup (headings, paragraphs, reportkit tables, pandas tables, images).
_STYLE = (
    """
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
th { min-width: 0 !important; }  /* the screen's room for a column of sentences: the page is as wide as it is */
td { border-bottom: 0.5pt solid #e2e8f0; padding: 1.5pt 4pt; vertical-align: top; }
td:first-child { LABEL_CELL_CSS; }  /* a label column never wraps: a long value (a rule in words) wraps instead */
td.ONE_LINE_CLASS { white-space: nowrap; }  /* a date, an id, an amount: never "2025-03-" over "31" */
img, svg { max-width: 100%; height: auto; }
.jp-RenderedImage, .jp-RenderedSVG, .output_svg, .output_png { break-inside: avoid; }
pre { white-space: pre-wrap; font-size: 7.5pt; }
tr.reportkit-trace { display: none; }  /* a commission line's trace: the HTML's <details> and the workbook hold it */
@media screen, print and (min-width: WINDOW_WIDTH_PXpx) { body { display: none; } }  /* only ever laid out on paper: below */
""".replace("LABEL_CELL_CSS", LABEL_CELL_CSS)
    .replace("ONE_LINE_CLASS", ONE_LINE_CLASS)
    .replace(  # render/style.py's rules
        "WINDOW_WIDTH_PX", str(WINDOW_WIDTH_PX)
    )
)

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


_ONE_WORD_CELL = re.compile(r"<td(?P<attrs>(?:\s[^>]*)?)>(?P<text>[^<\s]+)</td>")


def _one_word_cells_on_one_line(body: str) -> str:
    """``body`` with each table cell of one word (no space, at most ``ONE_LINE_MAX_CHARS``) given ``ONE_LINE_CLASS``."""
    import html

    def mark(m: re.Match[str]) -> str:
        attrs, text = m["attrs"], m["text"]
        if not is_one_word(html.unescape(text)):
            return m[0]
        if ' class="' in attrs:
            attrs = attrs.replace(' class="', f' class="{ONE_LINE_CLASS} ', 1)
        else:
            attrs = f' class="{ONE_LINE_CLASS}"{attrs}'
        return f"<td{attrs}>{text}</td>"

    return _ONE_WORD_CELL.sub(mark, body)


def print_document(body: str, page: PdfPage) -> str:
    """The whole printable page: ``body`` (HTML of the report's cells) with the page rules and the style.

    The same HTML for either renderer: Chromium (131 and later) and WeasyPrint both
    set the running header and ``page N of M`` from the ``@page`` margin boxes. A table
    cell of one word (a date, an id, an amount: :data:`reportkit.render.style.ONE_LINE_CLASS`)
    is kept on one line. The body is laid out on paper only: Chromium, which lays a
    page out for its window when it loads it and again, in print media, when it starts
    a print, lays out only the paper's pages (:data:`WINDOW_WIDTH_PX`; the same PDF:
    ``docs/pdf.md``).

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
        f"<style>{_page_rule(page)}\n{_STYLE}</style></head><body>{_one_word_cells_on_one_line(body)}</body></html>"
    )


@dataclass(frozen=True)
class PdfEngine:
    """The renderer a batch prints its PDFs with, chosen once (:func:`choose_renderer`) and given to every job.

    Attributes
    ----------
    name : {"chromium", "weasyprint", "auto"}
        ``auto`` only for a batch whose workers choose (:func:`renderer_on_workers`).
    executable : str or None
        Chromium's absolute path; None for WeasyPrint (and, on workers that choose, the
        configured ``pdf.chromium`` or None).
    asked, asked_chromium : str or None
        What params ``pdf.renderer`` and ``pdf.chromium`` said, when :func:`choose_renderer`
        made this engine: another machine that prints (a Dask worker) applies that rule
        again for itself (:meth:`here`). Not part of the engine's identity (equality, hash).
    """

    name: Literal["chromium", "weasyprint", "auto"] = "weasyprint"
    executable: str | None = None
    asked: str | None = field(default=None, compare=False)
    asked_chromium: str | None = field(default=None, compare=False)

    def here(self) -> PdfEngine:
        """The engine that prints on this machine: the params' rule applied here when this one carries it.

        An engine made by :func:`choose_renderer` (a Dask job's: ``asked`` set) is chosen
        again here, so a worker without Chromium prints with WeasyPrint under ``auto``, as
        the batch machine would; any other engine (a local job's: the batch's one choice,
        never a mix) is itself.

        Raises
        ------
        EnvironmentError_
            ``pdf.renderer: chromium`` where this machine has no Chromium (or Playwright),
            or neither renderer can run here; the report's PDF fails with it, the report stays ok.
        """
        if self.asked is None:
            return self
        try:
            return choose_renderer(self.asked, self.asked_chromium)
        except EnvironmentError_ as exc:
            if self.asked != "chromium":
                raise
            raise EnvironmentError_(
                exc.message,
                hint="pdf.renderer: chromium needs it on every machine that prints PDFs (each Dask worker): install it "
                "there, or let a machine without it print with WeasyPrint: -p pdf.renderer=auto (or weasyprint)",
            ) from None

    def describe(self) -> dict[str, str | None]:
        """What the manifest records: ``{"renderer": "chromium", "executable": "/usr/bin/chromium"}``."""
        return {"renderer": self.name, "executable": self.executable}

    @classmethod
    def chosen(cls, options: Any) -> PdfEngine | None:
        """The engine params ``pdf`` (``options``) name once a batch has chosen it, else None (``auto``).

        :func:`reportkit.run.preflight.check_pdf` replaces ``auto`` by the renderer it
        chose for a batch that writes PDFs; a report's job carries it.
        """
        if options.renderer not in ("chromium", "weasyprint"):
            return None
        return cls(options.renderer, options.chromium if options.renderer == "chromium" else None)


def pdf_unavailable() -> str | None:
    """Why WeasyPrint cannot write PDFs here (WeasyPrint or Pango missing), or None when it can.

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


def choose_renderer(renderer: str = "auto", chromium: str | None = None) -> PdfEngine:
    """The renderer PDFs are made with here: the one rule behind params ``pdf.renderer``.

    Parameters
    ----------
    renderer : {"auto", "chromium", "weasyprint"}, default "auto"
        ``auto``: Chromium when a Chromium executable and Playwright (the DevTools
        client) are there, else WeasyPrint. ``chromium`` / ``weasyprint``: that one or none.
    chromium : str, optional
        Params ``pdf.chromium``, the browser's path; else ``REPORTKIT_CHROMIUM``, else
        ``chromium``, ``chromium-browser``, ``google-chrome`` on ``PATH``
        (:func:`reportkit.render.chromium.find_chromium`).

    Returns
    -------
    PdfEngine

    Raises
    ------
    EnvironmentError_
        The renderer asked for (for ``auto``: neither) cannot run here, with the
        install step; a batch raises it before any report runs (exit code 3).
    ParamsError
        ``renderer`` is none of :data:`PDF_RENDERERS` (params validation refuses it first).
    """
    from .chromium import chromium_unavailable, find_chromium

    _check_renderer(renderer)
    if renderer != "weasyprint":
        missing = chromium_unavailable(chromium)
        if missing is None:
            return PdfEngine("chromium", find_chromium(chromium), asked=renderer, asked_chromium=chromium)
        if renderer == "chromium":
            raise EnvironmentError_(missing, hint="or print with WeasyPrint: -p pdf.renderer=weasyprint")
    missing = pdf_unavailable()
    if missing is not None:
        also = " (and no Chromium either: apt-get install chromium)" if renderer == "auto" else ""
        raise EnvironmentError_(missing + also, hint="or turn PDFs off for this batch: -p pdf.enabled=false")
    return PdfEngine("weasyprint", asked=renderer, asked_chromium=chromium)


def _check_renderer(renderer: str) -> None:
    if renderer not in PDF_RENDERERS:
        raise ParamsError(f"unknown PDF renderer {renderer!r}", hint=f"params pdf.renderer is one of {', '.join(PDF_RENDERERS)}")


def renderer_on_workers(renderer: str = "auto", chromium: str | None = None) -> PdfEngine:
    """The engine of a batch whose PDFs other machines print (Dask workers): nothing is chosen or checked here.

    Each worker applies params ``pdf.renderer`` for itself when it prints
    (:meth:`PdfEngine.here`: :func:`choose_renderer` there), so the machine that runs the
    batch needs neither a browser nor WeasyPrint; a worker that cannot print fails that
    report's PDF, naming itself and the fix. ``name`` is what params asked (``auto``
    too): what the manifest's ``batch.pdf`` records, each report's ``pdf_renderer`` what printed it.

    Examples
    --------
    >>> renderer_on_workers("auto").describe()
    {'renderer': 'auto', 'executable': None}
    """
    _check_renderer(renderer)
    executable = chromium if renderer != "weasyprint" else None
    return PdfEngine(renderer, executable, asked=renderer, asked_chromium=chromium)  # type: ignore[arg-type]


class PdfRenderer:
    """WeasyPrint with its font configuration kept, for many reports.

    Not thread-safe: keep one per thread (:func:`render_pdf` does).
    """

    def __init__(self) -> None:
        import weasyprint
        from weasyprint.text.fonts import FontConfiguration

        self._weasyprint = weasyprint
        self._fonts = FontConfiguration()
        self.closed = False

    def render(self, document: str) -> bytes:
        """PDF bytes of ``document`` (a whole page: :func:`print_document`).

        Raises
        ------
        Exception
            Whatever WeasyPrint raises for a page it cannot lay out; the batch
            records it as that report's PDF failure.
        """
        doc = self._weasyprint.HTML(string=document)
        return doc.write_pdf(font_config=self._fonts, uncompressed_pdf=False)

    def close(self) -> None:
        """Nothing to end (WeasyPrint runs in this process)."""


_local = threading.local()


def warm_renderer(engine: PdfEngine | None = None) -> Any:
    """This thread's renderer of ``engine``, started on first use and kept (a batch worker starts it at its start).

    Parameters
    ----------
    engine : PdfEngine, optional
        Default: :func:`choose_renderer` with the params defaults (``auto``).

    Returns
    -------
    PdfRenderer or reportkit.render.chromium.ChromiumRenderer
        A renderer found closed (its browser ended by :func:`close_renderers`) is replaced.
    """
    engine = engine or choose_renderer()
    renderers: dict[PdfEngine, Any] = _local.__dict__.setdefault("renderers", {})
    renderer = renderers.get(engine)
    if renderer is None or renderer.closed:
        if engine.name == "chromium":
            from .chromium import ChromiumRenderer

            renderer = ChromiumRenderer(str(engine.executable))
        else:
            renderer = PdfRenderer()
        renderers[engine] = renderer
    return renderer


def engine_here(engine: PdfEngine | None) -> PdfEngine:
    """The engine that prints a job's PDF on this machine: ``engine`` (:meth:`PdfEngine.here`), or ``auto``'s choice here."""
    return choose_renderer() if engine is None else engine.here()


def render_pdf(body: str, page: PdfPage, engine: PdfEngine | None = None) -> bytes:
    """PDF bytes of a report's printable body, by this thread's reused renderer of ``engine``.

    Parameters
    ----------
    body : str
        The report's cells as HTML (:func:`reportkit.run.html.export_print_body`).
    page : PdfPage
        Header text, paper and orientation.
    engine : PdfEngine, optional
        The batch's renderer (a job carries it); default :func:`choose_renderer` (``auto``).
    """
    return _dated(warm_renderer(engine).render(print_document(body, page)), page.title.as_of)


_PDF_DATE = re.compile(rb"/(CreationDate|ModDate) \(D:\d{14}[+-]\d\d'\d\d'\)")


def _dated(pdf: bytes, as_of: Any) -> bytes:
    """The PDF with its creation and modification dates set to the report's as-of date (midnight UTC).

    Chromium stamps the time of printing; the same inputs must give the same bytes
    (``--resume``, the byte-identical re-run), as WeasyPrint's PDFs (which carry no
    date) do. The date is replaced by one of the same length, so the file's byte
    offsets (its cross-reference table) stay right.
    """
    stamp = f"D:{as_of:%Y%m%d}000000+00'00'".encode("ascii")
    return _PDF_DATE.sub(lambda m: b"/" + m.group(1) + b" (" + stamp + b")", pdf)


def close_renderers() -> None:
    """End every browser this process started for PDFs (the local pool's report threads are done)."""
    from .chromium import close_all

    close_all()
