"""Headless Chromium opens the batch HTML and the explorer's HTML export: no console
errors, a screenshot kept under test-artifacts/.

Needs Debian's ``chromium`` (``/usr/bin/chromium``, installed by .ci/run); skipped
with a reason otherwise. Failures to fetch *external* resources (the widget
manager script nbconvert links from a CDN) are ignored when the machine is
offline; every other console error fails the test.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="headless checks need Debian's chromium at /usr/bin/chromium (apt-get install chromium)"),
]

_CONSOLE = re.compile(r"(:CONSOLE|Uncaught)")
_EXTERNAL = re.compile(r"(https?://(?!127\.0\.0\.1|localhost)[^\s\"']+|net::ERR_(NAME_NOT_RESOLVED|INTERNET_DISCONNECTED|CONNECTION_REFUSED|ADDRESS_UNREACHABLE|PROXY))")


def _chromium(url: str, tmp: Path, screenshot: Path) -> tuple[str, str]:
    """Run headless Chromium once on ``url``; (DOM, stderr log)."""
    base = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--no-first-run", "--disable-dev-shm-usage", f"--user-data-dir={tmp / 'profile'}",
        "--enable-logging=stderr", "--v=0", "--window-size=1280,2000", "--virtual-time-budget=5000",
    ]
    shot = subprocess.run(base + [f"--screenshot={screenshot}", url], capture_output=True, text=True, timeout=90)
    dom = subprocess.run(base + ["--dump-dom", url], capture_output=True, text=True, timeout=90)
    return dom.stdout, shot.stderr + dom.stderr


def _console_errors(log: str) -> list[str]:
    """Console lines of the page. Chromium logs console.log and console.error alike
    (``INFO:CONSOLE``), so a report page must log nothing at all; only failures to
    fetch an external (CDN) resource while offline are tolerated."""
    return [line for line in log.splitlines() if _CONSOLE.search(line) and not _EXTERNAL.search(line)]


def test_the_console_check_catches_errors(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text('<html><body><p>x</p><script>console.error("bad-error"); null.x;</script></body></html>', encoding="utf-8")
    _, log = _chromium(page.as_uri(), tmp_path, tmp_path / "broken.png")
    errors = "\n".join(_console_errors(log))
    assert "bad-error" in errors and "Uncaught TypeError" in errors


@pytest.fixture(scope="module")
def batch_html(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("batch")
    params = tmp / "params.yaml"
    params.write_text(
        (ROOT / "params" / "demo.yaml").read_text(encoding="utf-8").replace(
            "source: sources/demo.yaml", f"source: {ROOT / 'params' / 'sources' / 'demo.yaml'}"
        )
        + "account_managers: ['AM-001']\nreports: [account_manager, team]\n",
        encoding="utf-8",
    )
    out = tmp / "out"
    r = subprocess.run([str(Path(sys.executable).parent / "reportkit"), "batch", str(params), "-o", str(out), "-q"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return out


@pytest.fixture(scope="module")
def explorer_html(tmp_path_factory) -> Path:
    import nbformat
    import papermill as pm
    from nbconvert import HTMLExporter

    tmp = tmp_path_factory.mktemp("explorer")
    nb_path = ROOT / "notebooks" / "explorer.ipynb"
    executed = tmp / "explorer.ipynb"
    pm.execute_notebook(str(nb_path), str(executed), parameters={"params_file": str(ROOT / "params" / "demo.yaml")},
                        kernel_name="reportkit", cwd=str(nb_path.parent), progress_bar=False, execution_timeout=300)
    body, _ = HTMLExporter().from_notebook_node(nbformat.read(executed, as_version=4))
    html = tmp / "explorer.html"
    html.write_text(body, encoding="utf-8")
    return html


def _check(page: Path, name: str, tmp_path: Path, must_show: list[str]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"{name}.png"
    dom, log = _chromium(page.resolve().as_uri(), tmp_path, shot)
    (ARTIFACTS / f"{name}.console.log").write_text(log, encoding="utf-8")
    assert shot.is_file() and shot.stat().st_size > 1000, "no screenshot"
    assert not _console_errors(log), _console_errors(log)
    for text in must_show:
        assert text in dom, f"{text!r} not rendered in {page.name}"


def test_batch_index_and_report_render_without_console_errors(batch_html, tmp_path):
    _check(batch_html / "index.html", "batch-index", tmp_path, ["AM-001"])
    page = next((batch_html / "account_managers").glob("*.html"))
    _check(page, "batch-account-manager", tmp_path, ["Commission statement", "<table"])


def test_explorer_export_renders_without_console_errors(explorer_html, tmp_path):
    _check(explorer_html, "explorer-export", tmp_path, ["Alice Andersen (AM-001)", "<table", "What if"])
