"""One headless Chromium per test process, a fresh browser context for each page a test opens.

Starting Debian's ``chromium`` costs about 1 s of CPU and 4-5 s of wall time on a loaded
2-core machine; the browser checks (tests/test_browser.py and the tests that import its
helpers) opened one per check. Here the browser starts once per xdist worker, on first
use, and each :func:`load` gets a new context (its own profile: no cookies, storage or
cache from another page) with a window of the asked size, closed when the page is read.

What a check reads is what ``chromium --headless --dump-dom`` printed: the DOM after
``load`` (and after the result ``<pre>`` a check's script writes, when it names one), and
the console lines Chromium logs to stderr: each console message as ``TYPE:CONSOLE``
with its source URL, each uncaught exception as ``Uncaught Name: message``.

Playwright's synchronous objects belong to the thread that made them, and a test may
run an event loop of its own in the main thread, so the browser lives in a thread of
this module (as :class:`reportkit.render.chromium.ChromiumRenderer` does) and :func:`load`
(or :func:`call`, for a check that drives the page itself) hands it the work. :func:`close` (run at the end of the session, tests/conftest.py) ends it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

CHROMIUM = Path("/usr/bin/chromium")
WIDTH = 1280
_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)
_LOAD_TIMEOUT_MS = 90_000
# What ``--dump-dom`` prints: the doctype, a newline, the document element's markup, a newline.
_DUMP_DOM_JS = (
    '() => (document.doctype ? new XMLSerializer().serializeToString(document.doctype) + "\\n" : "")'
    ' + document.documentElement.outerHTML + "\\n"'
)

_lock = threading.Lock()
_jobs: queue.Queue | None = None
_thread: threading.Thread | None = None


def load(page: Path, *, height: int = 2000, wait_for: str | None = None, screenshot: Path | None = None) -> tuple[str, str]:
    """(the DOM Chromium built from ``page``, its console log), read after ``load``.

    ``wait_for``: a CSS selector the page's own script adds after ``load`` (a check's
    result), waited for before the DOM is read. ``screenshot``: where to save the
    window (``WIDTH`` x ``height`` CSS pixels) once the page is read.
    """
    return call(lambda browser: _read(browser, page.resolve().as_uri(), height, wait_for, screenshot))


def call(read: Callable[[Any], T]) -> T:
    """``read(browser)``, run in the thread that owns the process's one browser (started on first use).

    ``read`` opens its own context (``browser.new_context(...)``) and closes it: the next
    check gets a browser with no page of this one left.
    """
    done: Future = Future()
    _queue().put((read, done))
    return done.result(timeout=300)


def close() -> None:
    """End the browser and its Playwright driver, if this process started them."""
    global _jobs, _thread
    with _lock:
        jobs, thread, _jobs, _thread = _jobs, _thread, None, None
    if jobs is not None and thread is not None:
        jobs.put(None)
        thread.join(timeout=30)


def _queue() -> queue.Queue:
    global _jobs, _thread
    with _lock:
        if _jobs is None or _thread is None or not _thread.is_alive():
            _jobs = queue.Queue()
            _thread = threading.Thread(target=_serve, args=(_jobs,), name="tests-headless-chromium", daemon=True)
            _thread.start()
        return _jobs


def _serve(jobs: queue.Queue) -> None:
    from playwright.sync_api import sync_playwright

    from reportkit.render.chromium import browser_environment, find_chromium

    with sync_playwright() as p:
        browser = None
        while (job := jobs.get()) is not None:
            read, done = job
            try:
                if browser is None or not browser.is_connected():
                    executable = str(CHROMIUM) if CHROMIUM.exists() else find_chromium()  # Debian's, else the one on PATH
                    browser = p.chromium.launch(executable_path=executable, args=list(_ARGS), env=browser_environment())
                done.set_result(read(browser))
            except BaseException as exc:  # the test that asked gets the reason
                done.set_exception(exc)
        if browser is not None:
            browser.close()


def _read(browser: Any, url: str, height: int, wait_for: str | None, screenshot: Path | None) -> tuple[str, str]:
    context = browser.new_context(viewport={"width": WIDTH, "height": height})
    try:
        page = context.new_page()
        log: list[str] = []
        page.on("console", lambda m: log.append(f"{m.type.upper()}:CONSOLE {m.text!r}, source: {m.location.get('url', '')}"))
        page.on("pageerror", lambda e: log.append(f"Uncaught {e.name}: {e.message}"))
        page.goto(url, wait_until="load", timeout=_LOAD_TIMEOUT_MS)
        if wait_for is not None:
            page.wait_for_selector(wait_for, state="attached", timeout=_LOAD_TIMEOUT_MS)
        dom = page.evaluate(_DUMP_DOM_JS)
        if screenshot is not None:
            page.screenshot(path=str(screenshot))
        return dom, "\n".join(log)
    finally:
        context.close()
