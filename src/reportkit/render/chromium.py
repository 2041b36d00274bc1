"""A report's PDF printed by headless Chromium: the system's browser, driven through Playwright.

:class:`ChromiumRenderer` is one browser, started once and reused for every report a
batch worker (or thread) renders, with one page (in a browser context of its own)
whose content each report replaces. The page runs no script (JavaScript is off in its
context, as WeasyPrint runs none), so a report leaves nothing behind but its document,
and each report's document replaces all of the last one's: the same report prints
the same bytes whatever the page printed before (a test checks it). (A new page per
report cost 0.4-0.5 s more CPU, a renderer process started for each report; an
``about:blank`` navigation between reports, which gave each one a new window object
for its scripts, 0.05-0.08 s: ``docs/pdf.md``.) A page that failed is closed and the
next report gets a new one. It prints :func:`reportkit.render.pdf.print_document`,
the same page WeasyPrint lays out: the running header and ``page N of M`` come from
the page's CSS ``@page`` margin boxes (Chromium 131 and later), so there is one home
for the words (:class:`reportkit.render.titles.PrintTitle`).

* **Executable.** Always the system's (params ``pdf.chromium``, else the environment
  variable ``REPORTKIT_CHROMIUM``, else ``chromium``, ``chromium-browser`` or
  ``google-chrome`` on ``PATH``: :func:`find_chromium`); Playwright's own browser
  download (``playwright install``) is never used.
* **No network, no script.** Every request the page makes is aborted except ``data:``
  and ``about:`` URLs: a report page fetches nothing; its scripts do not run. The browser runs with a fresh
  temporary profile (Playwright's, removed when it closes) and the flags of
  :data:`CHROMIUM_ARGS`.
* **One thread owns it.** Playwright's synchronous objects belong to the thread that
  made them, so each renderer has a private thread that owns the Playwright driver
  (a Node.js process) and the browser; :meth:`ChromiumRenderer.render` hands it the
  page and waits, from any thread (a report worker's, or a notebook's whose thread
  runs an event loop).
* **Crash and hang.** A browser found dead when a report starts is started again and
  the report printed on it; a print that takes longer than ``timeout_s`` has its
  browser killed (the report's PDF fails with the reason) and the next report gets a
  new one. The report itself never fails for its PDF (:mod:`reportkit.run.execute`).
* **Exit.** :func:`close_all` ends every renderer of the process (its browser and
  driver); it runs when the process exits (``multiprocessing.util.Finalize``, which a
  worker process and the main process both run), and the local pool calls it when
  its report threads are done. A process killed outright leaves no browser either:
  the driver sees its pipe close, closes the browser and exits.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import shutil
import threading
import weakref
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

log = logging.getLogger(__name__)

__all__ = [
    "CHROMIUM_ARGS",
    "CHROMIUM_NAMES",
    "DISABLED_FEATURES",
    "PLAYWRIGHT_DISABLED_FEATURES",
    "PRINT_OPTIONS",
    "ChromiumRenderer",
    "chromium_unavailable",
    "close_all",
    "find_chromium",
    "report_page",
]

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
"""Executables looked for on ``PATH`` when neither params ``pdf.chromium`` nor ``REPORTKIT_CHROMIUM`` names one."""

PLAYWRIGHT_DISABLED_FEATURES = (
    "AvoidUnnecessaryBeforeUnloadCheckSync",
    "DestroyProfileOnBrowserClose",
    "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable",
    "LensOverlay",
    "MediaRouter",
    "PaintHolding",
    "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect",
    "TcpPortRandomizationWin",
    "OptimizationHints",
    "NetworkTimeServiceQuerying",
    "AimEnabled",
    "PreconnectToSearch",
    "msForceBrowserSignIn",
    "msEdgeUpdateLaunchServicesPreferredVersion",
)
"""The features Playwright (1.65) starts Chromium without (its own ``--disable-features``).

Chromium keeps only the last ``--disable-features`` of its command line, so the one in
:data:`CHROMIUM_ARGS` repeats these; ``tests/test_pdf_chromium.py`` checks, on the
browser's own command line, that it still holds every feature Playwright's does
(``docs/batch.md``, "Library internals we replace")."""

DISABLED_FEATURES = ("WebUIOmniboxPopup", "WebUIOmniboxAimPopup", "WebUIOmniboxFullPopup")
"""Browser features a report browser does without: the address bar's suggestion popup,
which Chromium 156 preloads as a web page in a renderer process of its own in every
window, headless too (``chrome://omnibox-popup.top-chrome/``): 0.3-0.9 s of CPU when the
browser starts and 0.02 s a second while it runs, for a window nobody types into
(``docs/pdf.md``). Unknown names are ignored by a Chromium without them."""

CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",  # the batch may run as root (a container, CI)
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-features=" + ",".join(PLAYWRIGHT_DISABLED_FEATURES + DISABLED_FEATURES),
)
"""Flags every report browser starts with: headless, no sandbox (root), nothing fetched in
the background, no address-bar popup (:data:`DISABLED_FEATURES`)."""

PRINT_OPTIONS = {"prefer_css_page_size": True, "print_background": True}
"""How a report's page is printed (Playwright's ``page.pdf``): the paper of the page's ``@page`` rule, and its backgrounds."""

PRINT_TIMEOUT_S = 120.0
"""How long one report's print may take before its browser is taken for hung, killed and replaced."""

_LAUNCH_TIMEOUT_MS = 60_000

_SOCKET_DIR_MAX = 40
"""Longest temporary folder Chromium is started with: it puts its singleton socket at
``$TMPDIR/org.chromium.Chromium.XXXXXX/SingletonSocket`` and aborts ("Socket path too
long") past the 107 bytes a Unix socket's path may have."""


def browser_environment(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment the browser starts with: this one, with a temporary folder short enough for its socket.

    A ``TMPDIR`` longer than :data:`_SOCKET_DIR_MAX` characters (a test's temporary
    folder, a deep home) is replaced by the system's ``/tmp`` where that is a writable
    folder; otherwise the environment is left as it is.
    """
    import tempfile

    env = dict(os.environ if environ is None else environ)
    current = env.get("TMPDIR") or tempfile.gettempdir()
    if len(current) > _SOCKET_DIR_MAX and os.path.isdir("/tmp") and os.access("/tmp", os.W_OK):
        env["TMPDIR"] = "/tmp"
    return env


def find_chromium(configured: str | None = None) -> str | None:
    """The Chromium executable PDFs are printed with, or None when there is none.

    Parameters
    ----------
    configured : str, optional
        Params ``pdf.chromium``: a path or a name on ``PATH``. Else the environment
        variable ``REPORTKIT_CHROMIUM``, else the first of :data:`CHROMIUM_NAMES` on ``PATH``.

    Returns
    -------
    str or None
        The executable's absolute path. A configured one that does not exist gives None
        (never a quiet fall-back to another browser).
    """
    named = configured or os.environ.get("REPORTKIT_CHROMIUM") or None
    if named:
        return shutil.which(named)
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


def chromium_unavailable(configured: str | None = None) -> str | None:
    """Why Chromium cannot print PDFs here (no executable, or no Playwright), or None when it can."""
    named = configured or os.environ.get("REPORTKIT_CHROMIUM") or None
    if find_chromium(configured) is None:
        where = (
            f"{named!r} (params pdf.chromium or REPORTKIT_CHROMIUM) is not an executable"
            if named
            else f"none of {', '.join(CHROMIUM_NAMES)} is on PATH"
        )
        return f"PDF output by Chromium needs a Chromium browser: {where}: apt-get install chromium"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f'PDF output by Chromium needs Playwright, which is not installed ({exc}): pip install "reportkit[pdf]" (make env does)'
    return None


_renderers: weakref.WeakSet[ChromiumRenderer] = weakref.WeakSet()
_registry_lock = threading.Lock()
_driver_start_lock = threading.Lock()  # one driver starts at a time: its process is told apart from the others'
_finalizer: Any = None


def close_all() -> None:
    """End every :class:`ChromiumRenderer` of this process: its browser and its Playwright driver.

    Runs when the process exits (a report worker's too); safe to call any time (a
    renderer closed here is started again by the next report of its thread).
    """
    with _registry_lock:
        renderers = list(_renderers)
    for renderer in renderers:
        renderer.close()


def _close_all_at_exit() -> None:
    """Register :func:`close_all` once to run at this process's exit (multiprocessing's exit, then the interpreter's)."""
    global _finalizer
    with _registry_lock:
        if _finalizer is None:
            from multiprocessing import util

            _finalizer = util.Finalize(None, close_all, exitpriority=10)


class ChromiumRenderer:
    """One headless Chromium, reused for many reports; :meth:`render` may be called from any thread.

    Parameters
    ----------
    executable : str
        The browser's path (:func:`find_chromium`).
    timeout_s : float, default :data:`PRINT_TIMEOUT_S`
        The longest one report's print may take; past it the browser is killed and
        replaced, and that report's PDF fails.

    The browser is started at once, in the renderer's own thread; if it cannot start,
    the first :meth:`render` tries again and raises the reason.
    """

    def __init__(self, executable: str, timeout_s: float = PRINT_TIMEOUT_S) -> None:
        self.executable = executable
        self.timeout_s = timeout_s
        self.version: str | None = None
        """The browser's version, once it has started (``156.0.8078.114``)."""
        self.launches = 0
        """How many times a browser was started (1 + restarts after a crash or a hang)."""
        self.driver_pid: int | None = None
        self._browser: Any = None  # the browser and its one page: the renderer's thread's alone
        self._page: Any = None
        self._requests: queue.Queue[tuple[str, Future, threading.Event] | None] = queue.Queue()
        self._closed = False
        self._thread = threading.Thread(target=self._serve, name="reportkit-chromium", daemon=True)
        with _registry_lock:
            _renderers.add(self)
        _close_all_at_exit()
        self._thread.start()

    @property
    def closed(self) -> bool:
        return self._closed

    def render(self, document: str) -> bytes:
        """PDF bytes of ``document`` (a whole HTML page: :func:`reportkit.render.pdf.print_document`).

        Raises
        ------
        TimeoutError
            The print took longer than ``timeout_s``: the browser was killed and the
            next report gets a new one.
        RuntimeError
            The renderer is closed.
        Exception
            Playwright's error for a page Chromium could not print, or a browser that
            could not start (the batch records it as that report's PDF failure).
        """
        if self._closed:
            raise RuntimeError("the Chromium renderer is closed")
        done: Future = Future()
        abandoned = threading.Event()
        self._requests.put((document, done, abandoned))
        try:
            return done.result(timeout=self.timeout_s)
        except FutureTimeout:
            abandoned.set()
            self.kill_browser()
            raise TimeoutError(
                f"Chromium did not print the page within {self.timeout_s:g} s; its browser was killed and is restarted"
            ) from None

    def browser_pids(self) -> list[int]:
        """The process ids of the browser (every Chromium process under this renderer's driver)."""
        import psutil

        if self.driver_pid is None:
            return []
        try:
            return [p.pid for p in psutil.Process(self.driver_pid).children(recursive=True)]
        except psutil.Error:
            return []

    def kill_browser(self) -> None:
        """Kill the browser's processes (a hung print); the driver stays and starts a new browser for the next report."""
        _kill(self.browser_pids())

    def close(self, timeout_s: float = 15.0) -> None:
        """Close the browser and stop the driver (waits up to ``timeout_s``, then kills them)."""
        if self._closed:
            return
        self._closed = True
        self._requests.put(None)
        self._thread.join(timeout_s)
        if self._thread.is_alive():  # a hung browser or driver: no orphan is left behind
            _kill(self.browser_pids() + ([self.driver_pid] if self.driver_pid else []))

    # -- the renderer's own thread ------------------------------------------------------

    def _serve(self) -> None:
        """Own the driver and the browser; print each request; close both when told to (or on exit)."""
        try:
            playwright = self._start_driver()
        except BaseException as exc:  # every request gets the reason
            self._closed = True
            self._fail_all(exc)
            return
        try:
            try:
                self._launch(playwright)
            except Exception:  # the first report tries again and says why
                log.debug("Chromium did not start", exc_info=True)
            while (item := self._requests.get()) is not None:
                document, done, abandoned = item
                if abandoned.is_set() or not done.set_running_or_notify_cancel():
                    continue
                try:
                    pdf = self._print_with_restart(playwright, document, abandoned)
                except BaseException as exc:  # handed to the caller
                    done.set_exception(exc)
                else:
                    done.set_result(pdf)
        finally:
            self._closed = True
            self._stop(playwright)
            self._fail_all(RuntimeError("the Chromium renderer is closed"))

    def _start_driver(self) -> Any:
        import psutil
        from playwright.sync_api import sync_playwright

        me = psutil.Process()
        with _driver_start_lock:
            before = {p.pid for p in me.children()}
            playwright = sync_playwright().start()
            new = [p for p in me.children() if p.pid not in before]
        self.driver_pid = next((p.pid for p in new if "run-driver" in _cmdline(p)), None)  # not a kernel started meanwhile
        return playwright

    def _launch(self, playwright: Any) -> None:
        """Start a browser (closing the one before, dead or alive); it becomes the renderer's."""
        if self._browser is not None:
            with contextlib.suppress(Exception):
                self._browser.close()
        self._browser = self._page = None
        browser = playwright.chromium.launch(
            executable_path=self.executable,
            args=list(CHROMIUM_ARGS),
            handle_sigint=False,  # ^C is the batch's to decide: the reports running finish, PDFs included
            handle_sigterm=True,
            handle_sighup=True,
            timeout=_LAUNCH_TIMEOUT_MS,
            env=browser_environment(),  # a short TMPDIR: Chromium's singleton socket path must fit
        )
        self.launches += 1
        self.version = browser.version
        self._browser = browser

    def _print_with_restart(self, playwright: Any, document: str, abandoned: threading.Event) -> bytes:
        """Print ``document``; a browser that is missing or found dead is started (again) first, once."""
        if self._browser is None or not self._browser.is_connected():
            self._launch(playwright)
        try:
            return self._print(self._browser, document)
        except Exception:
            if self._browser.is_connected() or abandoned.is_set():
                raise  # the page's own failure, or the print the caller gave up on
            log.info("Chromium exited while printing; starting it again for the same report")
            self._launch(playwright)
            return self._print(self._browser, document)

    def _print(self, browser: Any, document: str) -> bytes:
        """Print ``document`` on the browser's one page, its content replacing all of the last report's.

        No navigation between reports: with no script run on the page (JavaScript off in
        its context) a report leaves no state but its document, which ``set_content``
        replaces whole (``document.open``: every node, style sheet and ``@page`` rule).
        """
        page = self._page
        if page is None or page.is_closed():
            page = self._page = report_page(browser)
        try:
            page.set_content(document, wait_until="load")  # "load": the charts' data: images are in
            return page.pdf(**PRINT_OPTIONS)
        except Exception:
            self._page = None  # the next report gets a new page
            with contextlib.suppress(Exception):
                page.close()
            raise

    def _stop(self, playwright: Any) -> None:
        for step in ((self._browser.close,) if self._browser is not None else ()) + (playwright.stop,):
            try:
                step()
            except Exception:
                log.debug("stopping Chromium", exc_info=True)

    def _fail_all(self, exc: BaseException) -> None:
        """Every request still queued fails with ``exc`` (the renderer is gone)."""
        while True:
            try:
                item = self._requests.get_nowait()
            except queue.Empty:
                return
            if item is not None and item[1].set_running_or_notify_cancel():
                item[1].set_exception(exc)


def _cmdline(process: Any) -> str:
    """A process's command line, or "" when it is gone or cannot be read."""
    import psutil

    try:
        return " ".join(process.cmdline())
    except psutil.Error:
        return ""


def _kill(pids: list[int]) -> None:
    """Kill these processes; one already gone is no error."""
    import psutil

    for pid in pids:
        with contextlib.suppress(psutil.Error):
            psutil.Process(pid).kill()


def report_page(browser: Any) -> Any:
    """A new page to print reports on, in a browser context of its own: no script, no request but ``data:`` and ``about:``.

    Its window is :data:`reportkit.render.pdf.WINDOW_WIDTH_PX` wide, wider than any
    paper, so that the print style lays the body out on paper only: not for the window
    when the page loads, nor for the window again in print media when a print starts
    (``docs/pdf.md``, session 15).
    """
    from .pdf import WINDOW_WIDTH_PX

    page = browser.new_page(java_script_enabled=False, viewport={"width": WINDOW_WIDTH_PX, "height": 720})
    page.route("**/*", _local_only)
    return page


def _local_only(route: Any) -> None:
    """Playwright route handler: a report page may load ``data:`` and ``about:`` URLs, nothing else."""
    if route.request.url.startswith(("data:", "about:")):
        route.continue_()
    else:
        route.abort()
