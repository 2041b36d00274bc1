"""HTML export of an executed report: code, parameter cells and tagged cells hidden, one exporter reused.

:func:`export_html` is nbconvert's ``HTMLExporter`` (lab template) with every input
removed and the cells, inputs and outputs a template's cell tags remove
(:data:`HIDDEN_TAGS`: both parameter cells, nbconvert's and Jupyter Book's
``remove_*`` / ``remove-*`` and ``hide-*`` tags), applied by :func:`_published`.
The exporter is built once per thread and reused for every report
(``_html_exporter``), and skips ``HTMLExporter``'s BeautifulSoup pass over the
finished page (``_new_html_exporter``; the measured saving and the nbconvert
versions it was written for are noted there).
"""

from __future__ import annotations

import re
import threading
from typing import Any, Literal

import nbformat

__all__ = ["HIDDEN_TAGS", "OPTIONAL_SECTION_TAG", "export_html", "export_print_body"]

HIDDEN_TAGS: tuple[tuple[str, Literal["cell", "input", "output"]], ...] = (
    ("parameters", "cell"),
    ("injected-parameters", "cell"),
    *((f"{verb}{sep}{part}", part) for part in ("cell", "input", "output") for verb in ("remove", "hide") for sep in ("_", "-")),
)
"""Cell tags and what each removes from every published page and PDF: the whole cell, its input
(code inputs are always removed; a markdown cell tagged so is not shown) or its outputs.

The two parameter cells (Papermill's ``parameters`` and ``injected-parameters``); nbconvert's
``TagRemovePreprocessor`` names as its documentation configures them (``remove_cell``,
``remove_input``, ``remove_output``); Jupyter Book's and JupyterLab's ``remove-cell``,
``remove-input``, ``remove-output``; and their ``hide-cell``, ``hide-input``, ``hide-output``
(collapsed behind a button there: a published report has no button, so hidden is removed),
each also spelt with ``_``. ``remove_output`` and friends also remove one output whose own
metadata carries the tag (nbconvert's ``remove_single_output_tags``). The executed notebook
keeps every cell; tagged cells still run."""


def _tags(part: str) -> set[str]:
    """The tags of :data:`HIDDEN_TAGS` that remove ``part`` (cell, input or output)."""
    return {tag for tag, removes in HIDDEN_TAGS if removes == part}


OPTIONAL_SECTION_TAG = "optional-section"
"""Tag of a template cell that shows a section only some reports have (forecast categories):
without outputs the cell is removed from the page, so a report without the section
exports exactly as before the cell existed."""


_exporters = threading.local()


def _html_exporter() -> Any:
    """The HTML exporter of this thread, configured once and reused for every report."""
    exporter = getattr(_exporters, "html", None)
    if exporter is None:
        exporter = _exporters.html = _new_html_exporter()
    return exporter


_IMG_WITHOUT_ALT = re.compile(r"<img\b(?![^>]*\balt=)", re.IGNORECASE)


_FOCUSABLE = re.compile(r'<div\b(?![^>]*\btabindex=)([^>]*\bclass="[^"]*\b(?:jp-Cell-inputWrapper|jp-OutputArea-output)\b[^"]*")')


def _accessible(page: str) -> str:
    """What nbconvert's HTMLExporter adds with BeautifulSoup, added with two substitutions.

    Images without ``alt`` get nbconvert's placeholder text; input wrappers and output
    areas get ``tabindex="0"`` (keyboard focus). Pinned against nbconvert's own output
    by ``tests/test_batch.py``.
    """
    page = _IMG_WITHOUT_ALT.sub('<img alt="No description has been provided for this image"', page)
    return _FOCUSABLE.sub(r'<div\1 tabindex="0"', page)


# A non-void HTML element written ``<tag ... />``: an HTML5 parser (every browser)
# ignores the slash and leaves the element open; BeautifulSoup's ``html.parser``
# closes it and writes it back as ``<tag ...></tag>``. (Also matches SVG's
# self-closing elements, which only costs those pages the slower, exact path.)
_SELF_CLOSED = re.compile(r"<(?!(?:area|base|br|col|embed|hr|img|input|link|meta|source|track|wbr)[\s/>])[A-Za-z][^<>]*/>")


_INLINE_SVG = re.compile(r"<svg\b.*?</svg>", re.S | re.IGNORECASE)
"""An inline SVG drawing (a chart in the print body), where self-closing elements are well-formed."""


def _hidden_code_config() -> Any:
    """nbconvert configuration shared by the page and the print body: no code, no prompts, and the
    :data:`HIDDEN_TAGS` removed by nbconvert's ``TagRemovePreprocessor`` (so stock nbconvert with
    this configuration writes the same page)."""
    from traitlets.config import Config

    c = Config()
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_cell_tags = _tags("cell")
    c.TagRemovePreprocessor.remove_input_tags = _tags("input")
    c.TagRemovePreprocessor.remove_all_outputs_tags = _tags("output")
    c.TagRemovePreprocessor.remove_single_output_tags = _tags("output")
    c.HTMLExporter.exclude_input = True
    c.HTMLExporter.exclude_input_prompt = True
    c.HTMLExporter.exclude_output_prompt = True
    return c


_PRINT_PRIORITY = [
    "image/svg+xml",  # a chart's vector drawing before its PNG <img> (crisp on paper)
    "text/html",
    "text/markdown",
    "image/png",
    "image/jpeg",
    "text/plain",
]


def _print_exporter() -> Any:
    """This thread's exporter of a report's cells for print (nbconvert's ``basic`` template: markup, no page CSS).

    The page's exporter without the BeautifulSoup pass (:func:`_new_html_exporter`), for print:
    the ``basic`` template, a chart's SVG first, and a self-closing element inside an inline
    ``<svg>`` (every chart's) does not send the body down nbconvert's slower path, since an
    HTML parser honours the slash there (foreign content), as the PDF renderer's does.
    """
    exporter = getattr(_exporters, "print", None)
    if exporter is None:
        exporter = _exporters.print = _new_html_exporter(for_print=True)
    return exporter


def _published(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """What a reader is shown of the executed notebook: a copy with the cells, inputs and outputs
    :data:`HIDDEN_TAGS` remove taken out, then the ``optional-section`` cells that show nothing
    dropped, and without papermill's run metadata.

    The one place the tags are applied, for the page and the print body alike, by nbconvert's
    own ``TagRemovePreprocessor`` configured from :data:`HIDDEN_TAGS` (``_hidden_code_config``).
    """
    from nbconvert.preprocessors import TagRemovePreprocessor

    nb = nbformat.from_dict(notebook)
    nb, _ = TagRemovePreprocessor(config=_hidden_code_config()).preprocess(nb, {})
    nb.cells = [c for c in nb.cells if not _empty_optional(c)]
    nb.metadata.pop("papermill", None)
    return nb


def export_print_body(notebook: nbformat.NotebookNode) -> str:
    """The report's cells as HTML for print: what :func:`export_html` shows, without the page's CSS.

    The same cells and outputs as the published page (code, prompts and both
    parameter cells hidden); a chart is its SVG where the notebook has one; the
    commission lines' trace rows, which print hides, are left out
    (:func:`reportkit.render.notebook.without_trace_rows`). The PDF renderer
    (:mod:`reportkit.render.pdf`) lays it out on paper.
    """
    from ..render.notebook import without_trace_rows  # lazy: pandas etc. only where a PDF is printed

    nb = _published(notebook)
    for cell in nb.cells:  # the commission lines' traces: hidden on paper (render/notebook.py)
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "text/html" in data:
                data["text/html"] = without_trace_rows("".join(data["text/html"]))
    body, _ = _print_exporter().from_notebook_node(nb)
    return body


def _new_html_exporter(for_print: bool = False) -> Any:
    """The page's exporter (lab template), or with ``for_print`` the print body's (:func:`_print_exporter`)."""
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
    from nbconvert.preprocessors import Preprocessor

    class _DropEmptyOptionalSections(Preprocessor):  # type: ignore[misc]
        """Removes the ``optional-section`` cells that showed nothing (part of the configuration, so
        stock nbconvert with the same configuration writes the same page)."""

        def preprocess(self, nb: Any, resources: Any) -> Any:
            nb.cells = [c for c in nb.cells if not _empty_optional(c)]
            return nb, resources

    class _HTMLExporter(HTMLExporter):  # type: ignore[misc]
        """nbconvert's HTMLExporter without its BeautifulSoup pass over the finished page.

        ``HTMLExporter.from_notebook_node`` re-parses the whole page with
        BeautifulSoup's pure-Python parser only to add ``alt`` text and ``tabindex``
        attributes, then re-serialises it. This does the same rendering (the same
        filters, then the template) and adds those attributes with :func:`_accessible`.
        Measured (``benchmarks/bench_internals.py``, the demo's 14 executed reports, 2
        shared cores): 0.014 s per report against 0.054 s with nbconvert's stock
        exporter, 0.04 s saved per report; 0.7 s saved for a report with a 900-row table.

        The body of ``from_notebook_node`` above the soup pass is nbconvert's, as of
        nbconvert 7.16-7.17 (pinned ``nbconvert>=7.16,<8`` in pyproject.toml and
        environment.yml); ``tests/test_batch.py`` and ``tests/test_browser.py`` check
        the page against nbconvert's own for the same notebook.

        The soup pass also rewrites self-closing tags, which a browser reads
        differently (issue #12: see ``anchor_link_text`` below). A page that has one
        (a template's raw HTML, an output's markup) is exported by nbconvert's own
        path instead, so a browser always builds the page stock nbconvert gives;
        ``tests/test_browser.py`` checks that in Chromium for both report kinds.
        """

        def from_notebook_node(self, nb: Any, resources: Any = None, **kw: Any) -> Any:
            given = resources
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            highlight_code = self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
            resources = self._init_resources(resources)
            filter_data_type = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self, resources=resources)
            self.register_filter("highlight_code", highlight_code)
            self.register_filter("filter_data_type", filter_data_type)
            page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            if _SELF_CLOSED.search(_INLINE_SVG.sub("", page) if for_print else page):
                return super().from_notebook_node(nb, given, **kw)
            return _accessible(page), resources

    c = _hidden_code_config()
    c.HTMLExporter.preprocessors = [_DropEmptyOptionalSections]
    # Heading anchors get nbconvert's default text (the template's CSS hides them).
    # nbconvert's ``add_anchor`` filter serialises each heading with ElementTree, an
    # XML writer: an anchor with empty text comes out as ``<a class="anchor-link" .../>``,
    # which a browser reads as an *open* link, and the lab template's
    # ``a.anchor-link {display: none}`` then hides every section after the first
    # heading. HTMLExporter's BeautifulSoup pass repairs that; this exporter takes
    # that slower path only for pages with such a tag, so the anchor text must not be
    # empty or every report would.
    c.HTMLExporter.anchor_link_text = "¶"
    # nbconvert validates the notebook after each of its 13 preprocessors (most of them off),
    # about 1.6 ms each for an account manager's notebook; validated once, after the last,
    # with nbconvert's own option: the same page (docs/batch.md, "Where a report's time goes")
    c.HTMLExporter.optimistic_validation = True
    if for_print:
        c.NbConvertBase.display_data_priority = _PRINT_PRIORITY
        return _HTMLExporter(config=c, template_name="basic")
    return _HTMLExporter(config=c)


def _empty_optional(cell: Any) -> bool:
    """An ``optional-section`` cell that showed nothing (the report has no such section)."""
    return OPTIONAL_SECTION_TAG in cell.get("metadata", {}).get("tags", []) and not cell.get("outputs")


def export_html(notebook: nbformat.NotebookNode, title: str | None = None) -> str:
    """HTML of an executed notebook with all code, both parameter cells and tagged cells removed.

    Code cells whose *outputs* are kept still lose their inputs (``exclude_input``);
    the ``parameters`` and ``injected-parameters`` cells are removed entirely, so
    no file path or id list from the batch leaks into the published page, and so
    is an ``optional-section`` cell without outputs. A template's cells tagged
    ``remove_cell`` / ``remove-cell`` / ``hide-cell``, ``remove_input`` /
    ``remove-input`` / ``hide-input`` and ``remove_output`` / ``remove-output`` /
    ``hide-output`` (:data:`HIDDEN_TAGS`, also spelt with the other separator) lose
    the cell, its input or its outputs.
    """
    nb = _published(notebook)
    if title:
        nb.metadata["title"] = title
    body, _ = _html_exporter().from_notebook_node(nb)
    return body
