"""Headless Chromium is the judge of the HTML reportkit writes.

Python's ``html.parser`` is not an HTML5 parser: it reads ``<a ... />`` as an empty
link, where a browser opens a link that swallows the rest of the page (issue #12:
every section after the first heading was inside the template's hidden
``a.anchor-link``). So these tests read what Chromium itself built: a copy of each
page gets a script that walks the DOM after ``load`` and writes a JSON verdict
(which tables, images, SVG charts, headings and paragraphs have no box, or sit in an
element with ``display: none`` / ``visibility: hidden`` / ``hidden``) into a
``<pre>``, read back from the DOM after load (as ``--dump-dom`` prints it). Full-page
screenshots of each page kind are kept under ``test-artifacts/``. The checks share one
browser per test process, each page in a fresh context (tests/headless.py).

Needs Debian's ``chromium`` (``/usr/bin/chromium``, installed by .ci/run); skipped
with a reason otherwise. Failures to fetch *external* resources (the widget
manager script nbconvert links from a CDN) are ignored when the machine is
offline; every other console error fails the test.
"""

from __future__ import annotations

import functools
import html
import json
import re
import subprocess
import sys
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import headless
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = headless.CHROMIUM
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="headless checks need Debian's chromium at /usr/bin/chromium (apt-get install chromium)"
    ),
]

_CONSOLE = re.compile(r"(:CONSOLE|Uncaught)")
_EXTERNAL = re.compile(
    r"(https?://(?!127\.0\.0\.1|localhost)[^\s\"']+|net::ERR_(NAME_NOT_RESOLVED|INTERNET_DISCONNECTED|CONNECTION_REFUSED|ADDRESS_UNREACHABLE|PROXY))"
)
_WIDTH = headless.WIDTH

# Runs in the page after ``load`` (images decoded, layout done). An element is shown
# when it has a non-empty box and neither it nor an ancestor is display:none,
# visibility:hidden/collapse, opacity 0 or [hidden]. Elements inside an SVG are
# judged with their <svg>. Headings are reported with their rendered text
# (``innerText``: what is hidden, like the pilcrow of a heading anchor, is left out).
_VERDICT_JS = """
window.addEventListener("load", function () {
  function hider(el) {
    for (var a = el; a && a.nodeType === 1; a = a.parentElement) {
      var s = getComputedStyle(a);
      if (a.hidden || s.display === "none" || s.visibility === "hidden" || s.visibility === "collapse" || s.opacity === "0") {
        var cls = typeof a.className === "string" ? a.className.trim() : "";
        return a.tagName.toLowerCase() + (cls ? "." + cls.split(/\\s+/).join(".") : "");
      }
    }
    return null;
  }
  var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
  var verdict = {counts: {}, hidden: [], headings: [], height: height};
  var els = document.body.querySelectorAll("table, img, svg, h1, h2, h3, h4, h5, h6, p");
  for (var i = 0; i < els.length; i++) {
    var el = els[i], tag = el.tagName.toLowerCase();
    if (el.parentElement && el.parentElement.closest("svg")) continue;
    verdict.counts[tag] = (verdict.counts[tag] || 0) + 1;
    var box = el.getBoundingClientRect(), hidden_by = hider(el);
    var why = hidden_by ? "inside hidden " + hidden_by
      : (el.getClientRects().length === 0 || box.width === 0 || box.height === 0) ? "no box" : null;
    var text = (el.innerText || el.textContent || el.getAttribute("alt") || "").replace(/\\s+/g, " ").trim();
    if (why) verdict.hidden.push({tag: tag, text: text.slice(0, 80), why: why});
    else if (/^h[1-6]$/.test(tag)) verdict.headings.push(text);
  }
  var pre = document.createElement("pre");
  pre.id = "reportkit-visibility";
  pre.textContent = JSON.stringify(verdict);
  document.body.appendChild(pre);
});
"""
_VERDICT = re.compile(r'<pre id="reportkit-visibility">(.*?)</pre>', re.DOTALL)


def _run_chromium(tmp: Path, *args: str, height: int = 2000) -> subprocess.CompletedProcess:
    """A browser of its own, started with the command-line switches ``args`` (a check that needs
    switches of its own: tests/test_explorer_export.py's offline net log); the other checks
    share the process's one browser (tests/headless.py)."""
    cmd = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        f"--window-size={_WIDTH},{height}",
        "--virtual-time-budget=5000",
        "--hide-scrollbars",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90)


def _dump_dom(page: Path, tmp: Path) -> str:
    """The document Chromium built from ``page`` (its DOM serialised after load), in the process's one browser."""
    return headless.load(page)[0]


def _console_errors(log: str) -> list[str]:
    """Console lines of the page. Chromium logs console.log and console.error alike
    (``INFO:CONSOLE``), so a report page must log nothing at all; only failures to
    fetch an external (CDN) resource while offline are tolerated."""
    return [line for line in log.splitlines() if _CONSOLE.search(line) and not _EXTERNAL.search(line)]


def _visibility(page: Path, tmp: Path) -> tuple[dict, str]:
    """Chromium's verdict on ``page``: (verdict, console log).

    ``verdict["hidden"]`` lists every table, img, svg, heading and paragraph that is
    not shown (tag, text, why); ``counts`` how many of each the DOM has;
    ``headings`` the rendered text of the shown headings; ``height`` the page's
    height in CSS pixels. The checked copy sits next to ``page`` so relative links
    resolve the same.
    """
    return _json_after_load(page, tmp, _VERDICT_JS, _VERDICT, "visibility")


def _json_after_load(page: Path, tmp: Path, script: str, result: re.Pattern, check: str) -> tuple:
    """(the JSON ``script`` wrote into the ``<pre>`` ``result`` matches after ``load``, console log),
    from a copy of ``page`` next to it (so relative links resolve the same) with the script added."""
    copy = page.with_name(f"{page.stem}.{check}-check.html")
    copy.write_text(page.read_text(encoding="utf-8") + f"<script>{script}</script>\n", encoding="utf-8")
    try:
        dom, log = headless.load(copy, wait_for=_pre_selector(result))
    finally:
        copy.unlink()
    found = result.search(dom)
    assert found, f"no {check} result from Chromium for {page.name}: {log[-2000:]}"
    return json.loads(html.unescape(found.group(1))), log


def _pre_selector(result: re.Pattern) -> str | None:
    """The CSS selector of the ``<pre id="...">`` a check's script writes, read from the pattern that finds it."""
    found = re.match(r'<pre id="([\w-]+)">', result.pattern)
    return f"pre#{found.group(1)}" if found else None


def _full_page_screenshot(page: Path, name: str, height: int, tmp: Path) -> tuple[Path, str]:
    """A screenshot of the whole of ``page`` (window as tall as the page) kept as a test artefact."""
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"{name}.png"
    shot.unlink(missing_ok=True)
    _, log = headless.load(page, height=min(max(height, 400) + 40, 16000), screenshot=shot)
    assert shot.is_file() and shot.stat().st_size > 1000, f"no screenshot of {page.name}: {log[-2000:]}"
    return shot, log


def _tags_in_source(page: Path) -> dict[str, int]:
    """How many tables, images, SVGs, headings and paragraphs the file's markup opens."""
    text = page.read_text(encoding="utf-8")
    counts = {
        tag: len(re.findall(rf"<{tag}[\s>/]", text, re.IGNORECASE))
        for tag in ("table", "img", "svg", "h1", "h2", "h3", "h4", "h5", "h6", "p")
    }
    return {tag: n for tag, n in counts.items() if n}


def _markdown_headings(notebook: Path) -> list[str]:
    """The headings of a notebook's markdown cells: the report's section titles."""
    nb = nbformat.read(notebook, as_version=4)
    return [
        m.group(1).strip()
        for cell in nb.cells
        if cell.cell_type == "markdown"
        for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*\s*$", cell.source, re.MULTILINE)
    ]


def test_the_console_check_catches_errors(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text('<html><body><p>x</p><script>console.error("bad-error"); null.x;</script></body></html>', encoding="utf-8")
    errors = "\n".join(_console_errors(headless.load(page)[1]))
    assert "bad-error" in errors and "Uncaught TypeError" in errors


@pytest.fixture(scope="module")
def batch_html(tmp_path_factory) -> Path:
    """One demo batch: AM-001's report and its team's report, plus index.html."""
    tmp = tmp_path_factory.mktemp("batch")
    params = tmp / "params.yaml"
    params.write_text(
        (ROOT / "params" / "demo.yaml")
        .read_text(encoding="utf-8")
        .replace("source: sources/demo.yaml", f"source: {ROOT / 'params' / 'sources' / 'demo.yaml'}")
        .replace("logo: branding/", f"logo: {ROOT / 'params' / 'branding'}/")
        + "account_managers: ['AM-001']\nreports: [account_manager, team]\n",
        encoding="utf-8",
    )
    out = tmp / "out"
    r = subprocess.run(
        [str(Path(sys.executable).parent / "reportkit"), "batch", str(params), "-o", str(out), "-q"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    return out


def _report_page(batch: Path, folder: str) -> Path:
    pages = sorted((batch / folder).glob("*.html"))
    assert len(pages) == 1, pages
    return pages[0]


@pytest.fixture(scope="module")
def explorer_html(tmp_path_factory) -> Path:
    import papermill as pm
    from nbconvert import HTMLExporter

    tmp = tmp_path_factory.mktemp("explorer")
    nb_path = ROOT / "notebooks" / "explorer.ipynb"
    executed = tmp / "explorer.ipynb"
    pm.execute_notebook(
        str(nb_path),
        str(executed),
        parameters={"params_file": str(ROOT / "params" / "demo.yaml")},
        kernel_name="reportkit",
        cwd=str(nb_path.parent),
        progress_bar=False,
        execution_timeout=300,
    )
    body, _ = HTMLExporter().from_notebook_node(nbformat.read(executed, as_version=4))
    html_path = tmp / "explorer.html"
    html_path.write_text(body, encoding="utf-8")
    return html_path


@pytest.mark.parametrize("folder", ["account_managers", "teams", "."], ids=["account-manager", "team", "index"])
def test_chromium_shows_every_table_chart_heading_and_paragraph_of_each_batch_page(batch_html, folder, tmp_path):
    page = batch_html / "index.html" if folder == "." else _report_page(batch_html, folder)
    verdict, log = _visibility(page, tmp_path)
    name = {"account_managers": "batch-account-manager", "teams": "batch-team", ".": "batch-index"}[folder]
    _, shot_log = _full_page_screenshot(page, name, verdict["height"], tmp_path)
    (ARTIFACTS / f"{name}.console.log").write_text(log + shot_log, encoding="utf-8")

    assert verdict["hidden"] == [], f"{page.name}: content Chromium does not show: {verdict['hidden']}"
    assert verdict["counts"] == _tags_in_source(page), "Chromium built other elements than the markup has"
    assert verdict["counts"].get("table") and verdict["counts"].get("h1")
    if folder != ".":
        sections = _markdown_headings(page.with_suffix(".ipynb"))
        assert len(sections) >= 5, sections
        assert set(sections) <= set(verdict["headings"]), (
            f"section headings not shown: {set(sections) - set(verdict['headings'])}"
        )
        assert verdict["counts"].get("img"), "no chart"
    assert not _console_errors(log + shot_log), _console_errors(log + shot_log)


def test_the_visibility_check_reports_the_sections_a_self_closing_heading_anchor_hides(batch_html, tmp_path):
    """Issue #12's markup: the exporter wrote ``<a class="anchor-link" href="#..." />``."""
    page = _report_page(batch_html, "account_managers")
    text = page.read_text(encoding="utf-8")
    old, n = re.subn(r'(<a class="anchor-link" href="[^"]*")>[^<]*</a>', r"\1 />", text)
    assert n >= 5
    broken = tmp_path / "self_closing_anchor_link.html"
    broken.write_text(old, encoding="utf-8")

    verdict, _ = _visibility(broken, tmp_path)

    hidden = verdict["hidden"]
    first, *later = _markdown_headings(page.with_suffix(".ipynb"))
    assert first in verdict["headings"]
    assert {"table", "img", "p"} <= {h["tag"] for h in hidden}
    assert any(h["why"] == "inside hidden a.anchor-link" for h in hidden)
    assert set(later) <= {h["text"] for h in hidden if h["tag"] == "h2"}


class _Canonical(HTMLParser):
    """A DOM as Chromium serialised it, one node a line, without what no reader sees:
    attribute order, the spacing inside ``class``, and the length of whitespace runs
    (collapsed to one space, as CSS renders them, except in pre, script and style)."""

    _RAW: ClassVar[frozenset[str]] = frozenset({"pre", "script", "style", "textarea"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.text: list[str] = []
        self.raw = 0

    def _flush(self) -> None:
        text = "".join(self.text)
        self.text = []
        if not self.raw:
            text = re.sub(r"\s+", " ", text)
        if text:
            self.lines.append(f"text {text!r}")

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self._flush()
        attrs = sorted((k, " ".join((v or "").split()) if k == "class" else (v or "")) for k, v in attrs)
        self.lines.append(f"<{tag} {attrs}")
        self.raw += tag in self._RAW

    def handle_endtag(self, tag: str) -> None:
        self._flush()
        self.lines.append(f"</{tag}>")
        self.raw -= tag in self._RAW

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self._flush()
        self.lines.append(f"<!--{data}-->")


def _canonical_body(dom: str) -> str:
    body = re.search(r"<body\b.*</body>", dom, re.DOTALL)
    assert body, dom[:500]
    parser = _Canonical()
    parser.feed(body.group(0))
    parser.close()
    parser._flush()
    return "\n".join(parser.lines)


@pytest.mark.parametrize("folder", ["account_managers", "teams"], ids=["account-manager", "team"])
def test_batch_html_is_the_page_chromium_builds_from_stock_nbconvert(batch_html, folder, tmp_path, monkeypatch):
    """The batch's exporter skips HTMLExporter's BeautifulSoup pass; in a browser the
    page must be the one stock nbconvert writes for the same executed notebook and
    the same configuration (inputs excluded, parameter cells removed)."""
    from nbconvert import HTMLExporter

    from reportkit.run import batch as batch_mod
    from reportkit.run import html as html_mod

    page = _report_page(batch_html, folder)
    nb = nbformat.read(page.with_suffix(".ipynb"), as_version=4)
    title = re.search(r"<title>(.*?)</title>", page.read_text(encoding="utf-8"), re.DOTALL)
    assert title
    nb.metadata["title"] = html.unescape(title.group(1))
    with monkeypatch.context() as without_soup:  # the published page came from the fast path
        without_soup.setattr(HTMLExporter, "from_notebook_node", lambda *a, **k: pytest.fail("took the soup path"))
        assert batch_mod.export_html(nb, title=nb.metadata["title"]) == page.read_text(encoding="utf-8")
    stock, _ = HTMLExporter(config=html_mod._new_html_exporter().config).from_notebook_node(nb)
    reference = tmp_path / "stock_nbconvert.html"
    reference.write_text(stock, encoding="utf-8")

    ours, theirs = (_canonical_body(_dump_dom(p, tmp_path)) for p in (page, reference))

    assert "jp-Cell" in ours and "<table" in ours and "<img" in ours
    assert ours == theirs


def test_explorer_export_renders_without_console_errors(explorer_html, tmp_path):
    verdict, log = _visibility(explorer_html, tmp_path)
    _, shot_log = _full_page_screenshot(explorer_html, "explorer-export", verdict["height"], tmp_path)
    assert not _console_errors(log + shot_log), _console_errors(log + shot_log)
    assert verdict["hidden"] == [], verdict["hidden"]
    assert {"Alice Andersen (AM-001) — FY2025-Q4", "What if"} <= set(verdict["headings"]), verdict["headings"]
    assert verdict["counts"].get("table") and verdict["counts"].get("img")


# -- plain words (issue #14 part 4): what a reader sees holds no internal names --------------

#: Internal names that must not reach a reader: snake_case names (columns, rule codes, method
#: ids), ``key:1`` codes (``tier:1``), paths to the docs.
_INTERNAL = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b|\b[a-z]+:\d+\b|\bdocs/|\b\w+\.md\b")


def _dom_sections(dom: str) -> list[tuple[str, str, list[str]]]:
    """The page Chromium built, cut at its ``<h2>`` headings: (heading, prose text, table cell texts) each.

    Styles, scripts and the hidden pilcrow anchors are left out; the text before the first
    ``<h2>`` (title and summary) is the section named ``""``.
    """
    body = re.sub(r"<(style|script)\b.*?</\1>", "", dom, flags=re.DOTALL | re.IGNORECASE)
    body = re.sub(r'<a class="anchor-link"[^>]*>.*?</a>', "", body, flags=re.DOTALL)
    body = re.sub(r'<pre id="reportkit-visibility">.*?</pre>', "", body, flags=re.DOTALL)

    def text(fragment: str) -> str:
        return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()

    out = []
    for i, chunk in enumerate(re.split(r"(?=<h2\b)", body)):
        heading = text(m.group(1)) if (m := re.search(r"<h2\b[^>]*>(.*?)</h2>", chunk, re.DOTALL)) else ""
        cells = [text(c) for c in re.findall(r"<t[dh]\b[^>]*>(.*?)</t[dh]>", chunk, re.DOTALL)]
        prose = text(re.sub(r"<table\b.*?</table>", " ", chunk, flags=re.DOTALL))
        out.append((heading if i else "", prose, cells))
    return out


@pytest.mark.parametrize("folder", ["account_managers", "teams", "."], ids=["account-manager", "team", "index"])
def test_a_reader_sees_no_internal_names_on_a_batch_page(batch_html, folder, tmp_path):
    page = batch_html / "index.html" if folder == "." else _report_page(batch_html, folder)
    sections = _dom_sections(_dump_dom(page, tmp_path))
    shown = " ".join([s[1] for s in sections] + [c for s in sections for c in s[2]])
    assert "Demo Co" in shown and len(shown) > 200, shown[:300]  # the page's text was read
    found = sorted(set(_INTERNAL.findall(shown)))
    assert found == [], f"{page.name} shows internal names: {found}"


@pytest.mark.parametrize("folder", ["account_managers", "teams"], ids=["account-manager", "team"])
def test_every_n_a_a_reader_sees_has_its_reason_in_its_section_or_the_notes(batch_html, folder, tmp_path):
    page = _report_page(batch_html, folder)
    sections = _dom_sections(_dump_dom(page, tmp_path))
    notes = next(prose for heading, prose, _ in sections if heading == "Notes")
    unexplained = [
        heading or "summary" for heading, prose, cells in sections if "n/a" in cells and "n/a" not in prose and "n/a" not in notes
    ]
    assert any("n/a" in cells for _, _, cells in sections), "the demo page shows no n/a: nothing was checked"
    assert unexplained == [], f"{page.name}: n/a without a reason in {unexplained}"


def test_workbook_cells_a_reader_sees_hold_no_internal_names(batch_html):
    import openpyxl

    books = sorted(batch_html.glob("*/*.xlsx"))
    assert {b.parent.name for b in books} == {"account_managers", "teams"}, books
    found: dict[str, set[str]] = {}
    for book in books:
        wb = openpyxl.load_workbook(book, data_only=True)
        with zipfile.ZipFile(book) as z:  # params branding.company: the Company property
            assert b"<Company>Demo Co</Company>" in z.read("docProps/app.xml")
        for ws in wb.worksheets:
            assert ws.oddHeader.left.text == "Demo Co", (book.name, ws.title)  # and every printed page's header
            for row in ws.iter_rows(values_only=True):
                for v in row:
                    if isinstance(v, str):
                        for token in _INTERNAL.findall(v):
                            found.setdefault(f"{book.name}!{ws.title}", set()).add(token)
    assert found == {}, f"workbook cells with internal names: {found}"


def test_attainment_cells_are_coloured_by_the_miss_threshold_in_the_html_as_in_the_workbook(batch_html, tmp_path):
    import openpyxl

    from reportkit.render.style import attainment_bands, band_colour

    page = _report_page(batch_html, "account_managers")
    dom = _dump_dom(page, tmp_path)
    # the quarterly table: each quarter's attainment cell has the band colour of its value
    coloured = re.findall(r'<td style="text-align:right;background-color:(#[0-9A-F]{6});white-space:nowrap">([\d.]+)%</td>', dom)
    assert len(coloured) >= 8, coloured
    for colour, pct in coloured:
        if min(abs(float(pct) - 90), abs(float(pct) - 100)) > 0.05:  # a shown 90.0% may be 89.96% (red)
            assert colour == band_colour(float(pct) / 100, 0.9), (colour, pct)
    assert {c for c, _ in coloured} >= {"#F8D7DA", "#FFF3CD"}, coloured  # the demo has misses and near misses
    assert "Attainment colours: red below 90 %" in html.unescape(dom)
    # the workbook's Quarterly results sheet colours by the same bands
    wb = openpyxl.load_workbook(page.with_suffix(".xlsx"))
    rules = [r for rng in wb["Quarterly results"].conditional_formatting for r in rng.rules]
    fills = {r.dxf.fill.bgColor.rgb[-6:] for r in rules}
    assert fills == {c[1:] for _, _, c in attainment_bands(0.9)}


# -- a template's cell tags: what a reader of the page and of the PDF sees ---------------------

_TEXT_JS = """
window.addEventListener("load", function () {
  var pre = document.createElement("pre");
  pre.id = "reportkit-text";
  pre.textContent = JSON.stringify(document.body.innerText);
  document.body.appendChild(pre);
});
"""


def _rendered_text(page: Path, tmp: Path) -> str:
    """The page's text as Chromium renders it (``innerText``: what CSS hides is left out)."""
    return _json_after_load(page, tmp, _TEXT_JS, re.compile(r'<pre id="reportkit-text">(.*?)</pre>', re.DOTALL), "text")[0]


def test_a_template_s_tagged_cells_are_absent_input_less_or_output_less_in_the_page_and_the_pdf(tmp_path):
    """Each tag of ``run.html.HIDDEN_TAGS`` on a code cell and a markdown cell of a custom template:
    a batch's HTML (read in Chromium) and PDF (pdftotext) show what the tag leaves, nothing else."""
    import shutil

    from demo_params import demo_params, templates_with_cell

    from reportkit.run.batch import run_batch
    from reportkit.run.html import HIDDEN_TAGS

    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils is not installed: apt-get install poppler-utils")
    tags = [(tag, part) for tag, part in HIDDEN_TAGS if tag not in ("parameters", "injected-parameters")]
    tdir = templates_with_cell(tmp_path, "from IPython.display import HTML, display")
    nb = nbformat.read(tdir / "account_manager.ipynb", as_version=4)
    for i, (tag, _) in enumerate(tags):
        code = nbformat.v4.new_code_cell(
            f"# input of cell {i}\ndisplay(HTML('<p>output of cell {i}</p>'))", metadata={"tags": [tag]}
        )
        nb.cells += [code, nbformat.v4.new_markdown_cell(f"markdown of cell {i}", metadata={"tags": [tag]})]
    nb.cells.append(nbformat.v4.new_code_cell("display(HTML('<p>output of the untagged cell</p>'))"))
    nbformat.write(nb, tdir / "account_manager.ipynb")
    params = demo_params(tmp_path, account_managers=["AM-001"], reports=["account_manager"], pdf={"enabled": True})
    result = run_batch(params, tmp_path / "out", progress=False, template_dir=tdir)
    assert result.succeeded, [(r.status, r.error, r.output_errors) for r in result.reports]
    page = _report_page(tmp_path / "out", "account_managers")
    shown = _rendered_text(page, tmp_path)
    printed = subprocess.run(["pdftotext", str(page.with_suffix(".pdf")), "-"], capture_output=True, text=True, check=True).stdout
    for text in (shown, printed):
        assert "output of the untagged cell" in text
        assert "input of cell" not in text and "display(HTML" not in text
        for i, (tag, part) in enumerate(tags):
            assert (f"output of cell {i}\n" in text + "\n") is (part == "input"), (tag, part)
            assert (f"markdown of cell {i}\n" in text + "\n") is (part == "output"), (tag, part)


_AM_AND_TEAM = pytest.mark.parametrize(
    ("folder", "level", "entity"),
    [("account_managers", "account_manager", "AM-001"), ("teams", "team", "Team North")],
    ids=["account-manager", "team"],
)


@functools.cache
def _demo_hierarchy(fiscal_year: int):
    """The demo's ``forecast_hierarchy`` of ``fiscal_year`` at its ``as_of``, computed here once per year for this module's
    tests (each reads one row), its model fits read from the test run's fit cache where the batch made them."""
    from batch_contexts import params_fit_cache

    import reportkit as rk
    from reportkit.domain.backtest import forecast_hierarchy

    params = rk.load_params(ROOT / "params" / "demo.yaml")
    ds = rk.load_dataset(params.resolve(params.source))
    hierarchy = forecast_hierarchy(ds, fiscal_year, params.as_of, fit_cache=params_fit_cache(params))
    return hierarchy.set_index(["level", "entity"])


def _summary_and_hierarchy_row(batch: Path, folder: str, level: str, entity: str, fiscal_year: int, tmp: Path):
    """The summary's cells as Chromium built them (label -> value) and the demo's ``forecast_hierarchy`` row, computed here."""
    row = _demo_hierarchy(fiscal_year).loc[(level, entity)]
    cells = _dom_sections(_dump_dom(_report_page(batch, folder), tmp))[0][2]
    return {cells[i]: cells[i + 1] for i in range(len(cells) - 1)}, row


@_AM_AND_TEAM
def test_at_year_end_a_reader_sees_that_the_closed_years_forecast_is_its_revenue_with_no_method_or_range(
    batch_html, folder, level, entity, tmp_path
):
    """The demo is dated on FY2025's last day: no method or range sentence for a year that is over (it described one).

    Inside the year the sentence is the hierarchy row's (method, WAPE, reconciliation, range:
    tests/test_report_forecast.py); here next year's carries them (the test below)."""
    from reportkit.reports.sections import closed_year_words

    shown, row = _summary_and_hierarchy_row(batch_html, folder, level, entity, 2025, tmp_path)
    assert shown["How the forecast was chosen"] == closed_year_words("FY2025")
    assert shown["Forecast range"] == "none: the year is over (its forecast is its revenue)"
    forecast = next(label for label in shown if label.startswith("Annual forecast"))  # the team's: "(each deal once)"
    assert shown[forecast] == f"${row['forecast']:,.2f}"  # the year's revenue


@_AM_AND_TEAM
def test_at_year_end_a_reader_sees_next_years_chosen_forecast_and_which_year_it_is(batch_html, folder, level, entity, tmp_path):
    """Issue #17 (remaining item 2), issue #14 part 4: the demo is dated on FY2025's last day."""
    shown, row = _summary_and_hierarchy_row(batch_html, folder, level, entity, 2026, tmp_path)
    assert shown["Next fiscal year"] == "FY2026"
    assert f"{row['forecast']:,.2f}" in shown["Next year's forecast"]
    assert f"{row['low']:,.2f}" in shown["Next year's forecast range"]
    assert f"{row['high']:,.2f}" in shown["Next year's forecast range"]
    assert shown["Next year's quota"] == "not in the data yet"
    assert shown["How next year's forecast was chosen"] == re.sub(r"\s+", " ", row["words"]).strip()
    assert shown["How next year's forecast was chosen"].startswith("FY2026 has not begun")
    assert (
        "WAPE" in shown["How next year's forecast was chosen"]
        and "prediction interval" in shown["How next year's forecast was chosen"]
    )


# Runs after ``load``: for every row of the page's first table (the summary), the number of
# line boxes Chromium laid its label cell's text on, with the text and the cell's width.
_LABEL_LINES_JS = """
window.addEventListener("load", function () {
  var table = document.querySelector("table.reportkit-table"), rows = [];
  var cells = table ? table.querySelectorAll("tbody tr td:first-child") : [];
  for (var i = 0; i < cells.length; i++) {
    var range = document.createRange();
    range.selectNodeContents(cells[i]);
    var tops = {};
    var rects = range.getClientRects();
    for (var k = 0; k < rects.length; k++) tops[Math.round(rects[k].top)] = true;
    var value = cells[i].nextElementSibling;
    rows.push({text: cells[i].innerText.trim(), lines: Object.keys(tops).length,
               value_align: value ? getComputedStyle(value).textAlign : null,
               width: cells[i].getBoundingClientRect().width, text_width: range.getBoundingClientRect().width});
  }
  var pre = document.createElement("pre");
  pre.id = "reportkit-label-lines";
  pre.textContent = JSON.stringify(rows);
  document.body.appendChild(pre);
});
"""
_LABEL_LINES = re.compile(r'<pre id="reportkit-label-lines">(.*?)</pre>', re.DOTALL)


@pytest.mark.parametrize("folder", ["account_managers", "teams"], ids=["account-manager", "team"])
def test_summary_labels_are_laid_out_on_one_line_beside_a_long_value(batch_html, folder, tmp_path):
    # the "How the forecast was chosen" value is a long sentence: the label column beside it
    # must not be squeezed into a narrow column that breaks every label over several lines
    rows, _ = _json_after_load(_report_page(batch_html, folder), tmp_path, _LABEL_LINES_JS, _LABEL_LINES, "label-lines")
    labels = {row["text"]: row for row in rows}
    assert "How the forecast was chosen" in labels, sorted(labels)
    wrapped = [(row["text"], row["lines"], row["width"]) for row in rows if row["lines"] != 1]
    assert not wrapped, wrapped
    assert all(row["width"] >= row["text_width"] for row in rows), rows
    # the sentence beside it reads from the left; the figures stay right-aligned
    assert labels["How the forecast was chosen"]["value_align"] == "left"
    assert labels["Quota"]["value_align"] == "right"
