"""The Chromium PDF renderer's own promises: the same text as WeasyPrint, no network, a browser that
comes back after a crash or a hang, and no browser left behind when its worker or the batch ends.

The reader checks every PDF gets (header, page i of n, paper, vector charts, a long
table) run for both renderers in ``test_pdf.py``. These tests skip where Chromium or
Playwright is missing (``.ci/run`` installs Debian's chromium; ``make env`` Playwright).
"""

from __future__ import annotations

import contextlib
import datetime
import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import ClassVar

import nbformat
import pytest
from demo_params import demo_params

from reportkit.render.chromium import (
    DISABLED_FEATURES,
    PRINT_OPTIONS,
    ChromiumRenderer,
    chromium_unavailable,
    report_page,
)
from reportkit.render.pdf import PdfPage, choose_renderer, pdf_unavailable, print_document, render_pdf
from reportkit.render.titles import PrintTitle
from reportkit.run.batch import run_batch
from reportkit.run.html import export_print_body

pytestmark = [
    pytest.mark.skipif(chromium_unavailable() is not None, reason=str(chromium_unavailable())),
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed: apt-get install poppler-utils"),
]

TITLE = PrintTitle("Demo Co", "Account manager report: Alice Andersen (AM-001)", "FY2025-Q4", datetime.date(2025, 12, 31))


def words(pdf: bytes, tmp_path: Path) -> set[str]:
    """The words a reader finds in the PDF, page furniture (running header, page i of n) and list bullets left out.

    ``pdftotext -raw`` (drawing order); a word broken at a hyphen or a slash at a line
    end is joined again: the renderers wrap table cells at different widths.
    """
    path = tmp_path / "words.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True).stdout
    text = re.sub(r"page \d+ of \d+", " ", text)
    for furniture in (f"{TITLE.company} · {TITLE.report}", TITLE.when):
        text = text.replace(furniture, " ")
    tokens, out = text.split(), []
    while tokens:
        word = tokens.pop(0)
        while word.endswith(("-", "/")) and tokens:
            word += tokens.pop(0)
        out.append(word)
    return {w for w in out if w != "•"}


@pytest.fixture(scope="module")
def alice_body(tmp_path_factory):
    """Alice's executed account-manager notebook of a small demo batch (PDFs off), as a print body."""
    tmp = tmp_path_factory.mktemp("chromium-demo")
    params = demo_params(tmp, account_managers=["AM-001"], reports=["account_manager"])
    result = run_batch(params, tmp / "out", progress=False, worker_processes=False)
    entry = json.loads(result.manifest_path.read_text())["reports"][0]
    return export_print_body(nbformat.read(result.output_dir / entry["outputs"]["ipynb"], as_version=4))


@pytest.mark.slow
@pytest.mark.skipif(pdf_unavailable() is not None, reason=str(pdf_unavailable()))
def test_chromium_and_weasyprint_print_the_same_words_of_a_demo_report(alice_body, tmp_path):
    chromium = words(render_pdf(alice_body, PdfPage(TITLE), choose_renderer("chromium")), tmp_path)
    weasy = words(render_pdf(alice_body, PdfPage(TITLE), choose_renderer("weasyprint")), tmp_path)
    assert "$133,419.56" in chromium and "83.4%" in chromium  # the summary's revenue and attainment
    assert chromium == weasy, (sorted(chromium - weasy)[:20], sorted(weasy - chromium)[:20])


# each cell's text, how many lines Chromium laid it on (its text's client rects, by top) and its right edge
_CELL_LINES = """() => [...document.querySelectorAll('td')].filter(td => !td.querySelector('details')).map(td => {
  const range = document.createRange(); range.selectNodeContents(td);
  const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
  return {text: td.textContent.trim(), lines: tops.size, right: td.getBoundingClientRect().right};
})"""
_ONE_WORD = re.compile(r"\d{4}-\d{2}-\d{2}|ACC-\d{4}|D-\d{5}|-?\$[\d,]+\.\d{2}|-?[\d.]+%|Mid-Market")  # dates, ids, money


@pytest.mark.slow
def test_dates_ids_and_amounts_in_narrow_columns_stay_on_one_line_and_the_tables_keep_to_the_page(alice_body, tmp_path):
    """Chromium broke a narrow column's date after a hyphen ("2025-12-" over "03"); the print CSS keeps one-word cells whole."""
    import headless

    width = 273 / 25.4 * 96  # A4 landscape less its two 12 mm margins, in CSS pixels: the width the tables print in
    document = print_document(alice_body, PdfPage(TITLE))

    def read(browser) -> list:
        context = browser.new_context(viewport={"width": round(width), "height": 800})
        try:
            page = context.new_page()
            page.emulate_media(media="print")
            page.set_content(document)
            return page.evaluate(_CELL_LINES)
        finally:
            context.close()

    cells = headless.call(read)  # the test process's one browser (tests/headless.py)
    words_ = [c for c in cells if _ONE_WORD.fullmatch(c["text"])]
    assert {"2025-12-03", "Mid-Market", "ACC-0021", "$68,561.57"} <= {c["text"] for c in words_}  # the account status table
    assert [c["text"] for c in words_ if c["lines"] != 1] == []
    assert max(c["right"] for c in cells) <= width + 1  # no table pushed past the page's right margin
    path = tmp_path / "alice.pdf"
    path.write_bytes(render_pdf(alice_body, PdfPage(TITLE), choose_renderer("chromium")))
    text = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "2025-12-03" in text and not re.search(r"\d{4}-\d{2}-\n", text) and "Mid-\nMarket" not in text


def test_a_report_is_laid_out_once_when_it_loads_and_prints_on_paper_only(alice_body):
    # Chromium lays a page out for its window when it loads it and, in print media, once more for that
    # window when a print starts (beforeprint), then on paper: the print style hides the body in the
    # renderer's wide window (render/pdf.py, WINDOW_WIDTH_PX), so only the paper's layout is made
    import headless

    document = print_document(alice_body, PdfPage(TITLE))

    def trace(browser) -> list:
        page = report_page(browser)
        try:
            browser.start_tracing(page=page, categories=["devtools.timeline"])
            page.set_content(document, wait_until="load")
            pdf = page.pdf(**PRINT_OPTIONS)
            events = json.loads(browser.stop_tracing())
        finally:
            page.context.close()
        assert pdf.startswith(b"%PDF-")
        return events["traceEvents"] if isinstance(events, dict) else events

    layouts = [e["args"]["beginData"] for e in headless.call(trace) if e.get("name") == "Layout"]
    report = max(layouts, key=lambda d: d["dirtyObjects"])["frame"]  # the page's frame (each SVG chart has its own)
    whole = [d["dirtyObjects"] for d in layouts if d["frame"] == report and d["dirtyObjects"] > 100]  # not the empty shell
    assert len(whole) == 1, f"the report was laid out {len(whole)} times ({whole} layout objects)"


def test_the_same_page_printed_twice_is_the_same_bytes_dated_its_as_of_day(tmp_path):
    document = "<h2>Summary</h2><p>Revenue $1.00</p>"
    first = render_pdf(document, PdfPage(TITLE), choose_renderer("chromium"))
    time.sleep(1.1)  # Chromium stamps the second of printing
    second = render_pdf(document, PdfPage(TITLE), choose_renderer("chromium"))
    assert first == second
    path = tmp_path / "dated.pdf"
    path.write_bytes(first)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^CreationDate:\s+Wed Dec 31 00:00:00 2025 UTC$", info, re.MULTILINE), info
    assert "Pages:           1" in info  # the file still reads (its byte offsets kept)


# A report that tries to leave something behind on the page for the next one: a style sheet,
# a page size, a title, a script's variable and listener, an image it keeps drawing.
_STAYING = """<style>p { color: red; font-size: 30pt; } @page { size: A3 portrait; }</style><title>A</title>
<script>window.leak = 42; document.addEventListener("DOMContentLoaded", () => document.body.append("leaked"))</script>
<link rel="stylesheet" href="data:text/css,h2%7Bdisplay:none%7D"><p>Report A</p>
<img style="position:fixed" src="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='40' height='40'/%3E">"""


def test_a_report_prints_the_same_bytes_whatever_the_browser_printed_before_it(tmp_path):
    engine = choose_renderer("chromium")
    report_b = """<h2>Summary</h2><p>Revenue $1.00</p><p id=probe>nothing left</p>
        <script>if (window.leak) document.getElementById("probe").textContent = "leaked"</script>"""
    alone = render_pdf(report_b, PdfPage(TITLE), engine)
    render_pdf(_STAYING, PdfPage(TITLE), engine)  # the same page of the same browser
    after = render_pdf(report_b, PdfPage(TITLE), engine)
    assert after == alone  # nothing of report A reaches report B's PDF


def test_a_report_page_runs_no_script(tmp_path):
    probe = "<p id=probe>no script ran</p><script>document.getElementById('probe').textContent = 'a script ran'</script>"
    seen = words(render_pdf(probe, PdfPage(TITLE), choose_renderer("chromium")), tmp_path)
    assert {"no", "script", "ran"} <= seen and "a" not in seen  # as WeasyPrint, which runs none


class _Counting(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self):
        _Counting.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_report_page_makes_no_network_request(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    _Counting.hits = []
    body = textwrap.dedent(f"""
        <h2>Fetches nothing</h2>
        <img src="{url}/chart.png"><link rel="stylesheet" href="{url}/style.css">
        <iframe src="{url}/frame"></iframe><script src="{url}/script.js"></script>
        <script>fetch("{url}/fetch").catch(() => null)</script>
        <img src="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='4' height='4'/%3E">
        <p>Revenue $1.00</p>
    """)
    try:
        pdf = render_pdf(body, PdfPage(TITLE), choose_renderer("chromium"))
    finally:
        server.shutdown()
    assert pdf.startswith(b"%PDF-") and {"Revenue", "$1.00"} <= words(pdf, tmp_path)  # printed, with nothing fetched
    assert _Counting.hits == []


def test_a_crashed_browser_is_started_again_and_the_next_pdf_is_written(tmp_path):
    renderer = ChromiumRenderer(choose_renderer("chromium").executable)
    try:
        first = renderer.render(print_document("<p>first report</p>", PdfPage(TITLE)))
        pids = renderer.browser_pids()
        assert pids and renderer.launches == 1
        for pid in pids:  # the browser dies between two reports
            with contextlib.suppress(ProcessLookupError):  # gone with its parent already
                os.kill(pid, signal.SIGKILL)
        second = renderer.render(print_document("<p>second report</p>", PdfPage(TITLE)))
    finally:
        renderer.close()
    assert first.startswith(b"%PDF-") and second.startswith(b"%PDF-")
    assert "second" in words(second, tmp_path) and renderer.launches == 2
    assert not set(pids) & set(_alive(pids))


def test_a_hung_print_fails_that_pdf_alone_and_the_next_report_gets_a_new_browser(tmp_path):
    # the limit is short only for the print that hangs: a browser's start counts in a print's
    # time, and on a slow or loaded machine it alone can take over 3 s
    renderer = ChromiumRenderer(choose_renderer("chromium").executable, timeout_s=120)
    try:
        renderer.render(print_document("<p>before the hang</p>", PdfPage(TITLE)))
        for pid in renderer.browser_pids():  # the browser stops answering (a page's scripts cannot hang it: none run)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
        renderer.timeout_s = 3
        with pytest.raises(TimeoutError, match="within 3 s"):
            renderer.render(print_document("<p>never</p>", PdfPage(TITLE)))
        renderer.timeout_s = 120
        after = renderer.render(print_document("<p>after the hang</p>", PdfPage(TITLE)))
    finally:
        renderer.close()
    assert "hang" in words(after, tmp_path) and renderer.launches == 2


def _alive(pids: list[int]) -> list[int]:
    import psutil

    return [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]


# A wrapper that adopts every orphan (PR_SET_CHILD_SUBREAPER): whatever the batch leaves
# running after it ends becomes the wrapper's child, and the wrapper lists it.
_WRAPPER = r"""
import ctypes, json, os, signal, subprocess, sys, time
import psutil
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
mode, tests, args = sys.argv[1], sys.argv[2], sys.argv[3:]
sys.path.insert(0, tests)
from interrupts import popen_interruptible, send_ctrl_c
batch = popen_interruptible(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
me = psutil.Process()
seen = set()
error = None
acted = False
deadline = time.monotonic() + 240
def cmdline(p):
    try:
        return " ".join(p.cmdline())
    except psutil.Error:
        return ""
while batch.poll() is None and time.monotonic() < deadline:
    kids = me.children(recursive=True)
    browsers = [k for k in kids if "chromium" in cmdline(k).split(" ")[0].lower()]
    seen |= {k.pid for k in browsers}
    if mode != "finish" and browsers:
        time.sleep(1.0)  # the workers' browsers are up: interrupt as a terminal would, or kill a worker
        if mode == "interrupt":
            try:
                send_ctrl_c(batch.pid)
            except AssertionError as e:  # it would run to its end: say why and stop it
                error = str(e)
                os.killpg(batch.pid, signal.SIGTERM)
        else:  # a report worker: the parent of a Playwright driver
            driver = next(k for k in me.children(recursive=True) if "run-driver" in cmdline(k))
            os.kill(driver.ppid(), signal.SIGKILL)
        mode, acted = "finish", True
    time.sleep(0.2)
code = batch.wait()
time.sleep(3)  # what exits on its own has time to
left = []
for k in me.children(recursive=True):
    try:
        left.append(" ".join(k.cmdline())[:200])
    except psutil.Error:
        pass
print(json.dumps({"code": code, "browsers_seen": len(seen), "left": left, "error": error, "acted": acted}))
"""


#: Four account managers and their team: two reports or more on each of the two workers, so a worker
#: is killed (or the batch interrupted) while reports are left; the whole demo (15 reports) pins no more.
WRAPPED_BATCH = {"account_managers": ["AM-001", "AM-002", "AM-003", "AM-004"], "reports": ["account_manager", "team"]}


def _batch_in_wrapper(tmp_path: Path, mode: str) -> dict:
    params = demo_params(tmp_path, pdf={"enabled": True, "renderer": "chromium"}, **WRAPPED_BATCH)
    cmd = [sys.executable, "-m", "reportkit", "batch", str(params), "--output-dir", str(tmp_path / "out"), "--jobs", "2"]
    tests = str(Path(__file__).parent)  # the wrapper starts the batch with tests/interrupts.py
    out = subprocess.run(
        [sys.executable, "-c", _WRAPPER, mode, tests, *cmd], capture_output=True, text=True, timeout=400, check=True
    )
    ran = json.loads(out.stdout.strip().splitlines()[-1])
    if ran["error"]:
        pytest.fail(ran["error"])
    return ran


@pytest.mark.slow
def test_no_browser_outlives_the_batch_that_started_it(tmp_path):
    ran = _batch_in_wrapper(tmp_path, "finish")
    assert ran["code"] == 0 and ran["browsers_seen"] > 0
    assert ran["left"] == []


@pytest.mark.slow
def test_no_browser_outlives_an_interrupted_batch(tmp_path):
    ran = _batch_in_wrapper(tmp_path, "interrupt")
    assert ran["browsers_seen"] > 0 and ran["code"] != 0 and ran["acted"]
    assert ran["left"] == []


@pytest.mark.slow
def test_a_killed_report_worker_leaves_no_browser_behind(tmp_path):
    ran = _batch_in_wrapper(tmp_path, "kill-worker")
    assert ran["browsers_seen"] > 0 and ran["acted"]  # the worker was killed while the batch ran
    assert ran["left"] == []


def test_the_browser_keeps_playwrights_disabled_features_and_runs_no_address_bar_popup(tmp_path):
    # Chromium keeps only the last --disable-features: ours must repeat Playwright's own (a Playwright that
    # disables more fails here, naming them), and the omnibox popup's renderer (Chromium 156) must not start
    import psutil

    renderer = ChromiumRenderer(choose_renderer("chromium").executable)
    try:
        renderer.render(print_document("<p>one report</p>", PdfPage(TITLE)))
        lines = []
        for pid in renderer.browser_pids():
            with contextlib.suppress(psutil.Error):  # a print compositor that has ended meanwhile
                lines.append(psutil.Process(pid).cmdline())
    finally:
        renderer.close()
    browser = next(line for line in lines if not any(arg.startswith("--type=") for arg in line))
    given = [set(arg.split("=", 1)[1].split(",")) for arg in browser if arg.startswith("--disable-features=")]
    assert len(given) == 2  # Playwright's, then CHROMIUM_ARGS's, which Chromium takes
    assert given[0] - given[1] == set()
    assert set(DISABLED_FEATURES) <= given[1]
    assert [line for line in lines if "--top-chrome-webui" in line] == []


def test_a_long_temporary_folder_does_not_stop_the_browser(tmp_path, monkeypatch):
    # Chromium aborts with "Socket path too long" when $TMPDIR is deep (a test's tmp_path is)
    deep = tmp_path / ("a-rather-long-folder-name-" * 3)
    deep.mkdir()
    monkeypatch.setenv("TMPDIR", str(deep))
    renderer = ChromiumRenderer(choose_renderer("chromium").executable)
    try:
        pdf = renderer.render(print_document("<p>printed from a deep TMPDIR</p>", PdfPage(TITLE)))
    finally:
        renderer.close()
    assert "deep" in words(pdf, tmp_path)
