"""The explorer's exported HTML shows its figures offline (issue #19 item 6).

Each page is opened in headless Chromium with the network cut off (every host name
resolves to nothing, so a request that leaves the machine fails at once). Chromium
records every request the page makes in a net log; a script added to a copy of the
page reports, after ``load``, each image's natural width and the text a reader sees.
The figures are compared with :func:`reportkit.analysis.api.build_account_manager_report`,
called here on its own, written the way a reader reads them.

Export paths covered: the notebook's documented ``jupyter nbconvert --to html
--execute`` (with and without the widget state nbclient saves), and
:meth:`Explorer.export_html`. Needs Debian's ``chromium``; skipped with a reason
otherwise.
"""

from __future__ import annotations

import datetime
import html
import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from batch_contexts import batch_contexts
from test_browser import CHROMIUM, _run_chromium

import reportkit
from reportkit.analysis import api
from reportkit.analysis.explorer import CONTROLS_NOTE, STATIC_NOTE, Explorer

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "explorer.ipynb"
AS_OF = datetime.date(2025, 12, 31)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="headless checks need Debian's chromium at /usr/bin/chromium (apt-get install chromium)"
    ),
]


@pytest.fixture(scope="module", autouse=True)
def one_forecast_per_selection():
    """The reports built here read each (period, as_of)'s forecast hierarchy from the test run's
    fit cache once it is computed (tests/batch_contexts.py): the same figures, not one backtest per build."""
    with batch_contexts(reportkit.load_params(ROOT / "params" / "demo.yaml")):
        yield


#: nbconvert's own page scripts, linked from public CDNs by its lab template: they
#: fail offline without showing anything (the page draws no figure with them).
NBCONVERT_SCRIPTS = ("/require.min.js", "/mathjax/", "/@jupyter-widgets/html-manager@")

# Runs after ``load``: every <img> with its natural width, and the page's visible text.
_READ_JS = """
window.addEventListener("load", function () {
  var imgs = Array.prototype.map.call(document.images, function (im) {
    return {src: im.currentSrc.slice(0, 40), alt: im.alt, natural_width: im.naturalWidth};
  });
  var pre = document.createElement("pre");
  pre.id = "reportkit-read";
  pre.textContent = JSON.stringify({images: imgs, text: document.body.innerText});
  document.body.appendChild(pre);
});
"""
_READ = re.compile(r'<pre id="reportkit-read">(.*?)</pre>', re.DOTALL)


def _offline_read(page: Path, tmp: Path) -> tuple[dict, list[str]]:
    """(what the page shows offline: images and visible text, the URLs the page itself requested).

    A copy of ``page`` next to it gets the reading script. Chromium's own background
    requests (initiator "not an origin") are not the page's and are left out.
    """
    copy = page.with_name(f"{page.stem}.offline-check.html")
    copy.write_text(page.read_text(encoding="utf-8") + f"<script>{_READ_JS}</script>\n", encoding="utf-8")
    netlog = tmp / f"{page.stem}.netlog.json"
    try:
        run = _run_chromium(
            tmp,
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--disable-component-update",
            "--disable-sync",
            f"--log-net-log={netlog}",
            "--dump-dom",
            copy.resolve().as_uri(),
        )
    finally:
        copy.unlink()
    found = _READ.search(run.stdout)
    assert found, f"no reading from Chromium for {page.name}: {run.stderr[-2000:]}"
    log = json.loads(netlog.read_text(encoding="utf-8"))
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    jobs = [e.get("params", {}) for e in log["events"] if e["type"] == start]
    requested = [j["url"] for j in jobs if "url" in j and j.get("initiator") != "not an origin"]
    return json.loads(html.unescape(found.group(1))), [u for u in requested if not u.startswith(("file:", "data:"))]


def _money(value: Decimal) -> str:
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


def _figures_a_reader_reads(am: str, period: str) -> list[str]:
    """The account manager's figures, from the API's own builder, written as a reader reads them."""
    params, ds = reportkit.load(ROOT / "params" / "demo.yaml")
    r = api.build_account_manager_report(ds, am, period, params, AS_OF)
    s = r.summary
    shown = [_money(s["revenue"]), _money(s["quota"]), f"{float(s['attainment']) * 100:.1f}%"]
    shown.append(f"Commission statement, total {_money(s['commission_total'])}")
    shown += [_money(a) for a in r.commission["amount"]]
    shown += [_money(v) for v in r.quarterly["revenue"]]
    return [f"{r.name} ({r.id}) — {r.period}", *shown]


def _nbconvert(out: Path, *options: str) -> Path:
    """The notebook's documented export, run as a user runs it: ``jupyter nbconvert --to html --execute``."""
    jupyter = Path(sys.executable).parent / "jupyter"
    run = subprocess.run(
        [str(jupyter), "nbconvert", "--to", "html", "--execute", *options, "--output-dir", str(out), str(NOTEBOOK)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return out / "explorer.html"


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("explorer-export")
    return {
        "with widget state": _nbconvert(tmp / "state"),
        "without widget state": _nbconvert(tmp / "nostate", "--ExecutePreprocessor.store_widget_state=False"),
    }


def _assert_figures_shown(seen: dict, am: str, period: str) -> None:
    text = re.sub(r"\s+", " ", seen["text"])
    missing = [f for f in _figures_a_reader_reads(am, period) if f not in text]
    assert not missing, f"figures the page does not show: {missing}"
    assert STATIC_NOTE in text, "the page does not say the controls need a running Jupyter kernel"
    charts = [i for i in seen["images"] if i["alt"].startswith("Revenue and quota per quarter")]
    assert charts and all(i["natural_width"] > 0 for i in seen["images"]), seen["images"]


@pytest.mark.parametrize("kind", ["with widget state", "without widget state"])
def test_nbconvert_export_shows_the_explorer_figures_offline(exported, kind, tmp_path):
    seen, requested = _offline_read(exported[kind], tmp_path)
    _assert_figures_shown(seen, "AM-001", "FY2025-Q4")
    # what fails offline is only nbconvert's own scripts, never an image or a stylesheet the page shows
    assert all(any(s in u for s in NBCONVERT_SCRIPTS) for u in requested), requested
    assert "VBox(" not in seen["text"]


def test_nbconvert_export_without_widget_state_says_where_the_controls_went(exported, tmp_path):
    seen, requested = _offline_read(exported["without widget state"], tmp_path)
    assert CONTROLS_NOTE in re.sub(r"\s+", " ", seen["text"])
    assert not [u for u in requested if "html-manager" in u], "a page without widget state asks for the widget manager"


def test_export_html_shows_the_current_selection_offline_and_requests_nothing(tmp_path):
    params, ds = reportkit.load(ROOT / "params" / "demo.yaml")
    ex = Explorer(ds, params, as_of=AS_OF)
    ex.team.value = "Team West"
    ex.period.value = "FY2025-Q3"
    ex.extra_revenue.value = "10000.00"
    page = ex.export_html(tmp_path / "explorer.html")

    seen, requested = _offline_read(page, tmp_path)
    assert requested == [], f"the exported page fetches {requested}"
    _assert_figures_shown(seen, ex.report.id, "FY2025-Q3")
    assert "What if: extra revenue 10000.00 USD" in seen["text"]  # the what-if chosen when exporting
