"""The batch index as headless Chromium lays it out: file names are never broken inside a name."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from reportkit.config.params import load_params
from reportkit.core.periods import FiscalCalendar, Period
from reportkit.render.chromium import chromium_unavailable
from reportkit.run import index
from reportkit.run.results import ReportResult

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(chromium_unavailable() is not None, reason=str(chromium_unavailable()))

LONG = "maximiliane-von-hohenzollern-sigmaringen-am-000123456"


def _page() -> str:
    files = {fmt: f"account_managers/{LONG}.{fmt}" for fmt in ("html", "xlsx", "ipynb")}
    results = [
        ReportResult(
            "account_manager",
            "AM-000123456",
            "Maximiliane von Hohenzollern-Sigmaringen",
            "Team North",
            "ok",
            files,
            output_errors={
                "pdf": f"OutputError: could not write /shared/reports/quarter-end-restated/account_managers/{LONG}.pdf"
            },
        ),
        ReportResult(
            "account_manager", "AM-001", "Alice Andersen", "Team North", "failed", {}, error=f"could not read {LONG}.ipynb"
        ),
    ]
    return index.index_html(load_params(ROOT / "params" / "demo.yaml"), Period.parse("FY2025-Q4", FiscalCalendar(7)), results)


def _laid_out(tmp_path, html: str, width: int, selector: str) -> tuple[list, int, int, bool]:
    """The index ``html`` as Chromium lays it out at ``width`` px: each ``selector`` element's
    text and the lines it spans, the page's and the window's widths, whether ``.scroll`` scrolls."""
    import headless

    (tmp_path / "index.html").write_text(html, encoding="utf-8")

    def read(browser) -> tuple[list, int, int, bool]:
        context = browser.new_context(viewport={"width": width, "height": 800})  # a fresh one per check
        try:
            page = context.new_page()
            page.goto((tmp_path / "index.html").as_uri())
            spans = page.eval_on_selector_all(
                selector, "els => els.map(e => [e.textContent, new Set([...e.getClientRects()].map(r => r.top)).size])"
            )
            page_width, view = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            scrolls = page.evaluate(
                "(() => { const e = document.querySelector('.scroll'); return !!e && e.scrollWidth > e.clientWidth })()"
            )
        finally:
            context.close()
        return spans, page_width, view, scrolls

    return headless.call(read)  # the process's one browser (tests/headless.py)


@pytest.mark.parametrize("width", [1000, 480])
def test_the_index_breaks_a_file_path_only_after_a_slash_and_scrolls_its_table_not_the_page(tmp_path, width):
    # each part of a path ("quarter-end-restated/", "<long name>.pdf") as the browser laid it out: lines it spans
    parts, page_width, view, table_scrolls = _laid_out(tmp_path, _page(), width, ".error .name")
    assert {text for text, _ in parts} >= {"quarter-end-restated/", f"{LONG}.pdf", f"{LONG}.ipynb"}
    assert [text for text, lines in parts if lines != 1] == []  # no name wraps after one of its hyphens
    assert page_width <= view  # the page never scrolls sideways ...
    assert table_scrolls or width > 900  # ... a table too wide for the window does, in its own box


@pytest.mark.parametrize("width", [1000, 480, 320])
def test_the_index_never_breaks_a_report_id_inside_it(tmp_path, width):
    # ids with hyphens wrapped at them: "Kofi Kowalski (am-kofi-" / "kowalski)"; the name may break at its spaces
    ids = ["am-kofi-kowalski", "AM-000123456", "0731"]
    results = [
        ReportResult("account_manager", i, f"Kofi Kowalski {n}", "Team North", "ok", {"html": f"account_managers/{i}.html"})
        for n, i in enumerate(ids)
    ]
    page_html = index.index_html(
        load_params(ROOT / "params" / "demo.yaml"), Period.parse("FY2025-Q4", FiscalCalendar(7)), results
    )
    shown, page_width, view, _ = _laid_out(tmp_path, page_html, width, "td .id")
    assert [text for text, _ in shown] == [f"({i})" for i in ids]
    assert [text for text, lines in shown if lines != 1] == []  # each id on one line
    assert page_width <= view  # the page still never scrolls sideways


def test_the_index_says_its_attainment_is_of_credited_revenue_when_that_differs_from_the_revenue_beside_it(tmp_path):
    """A new user read "Revenue $8,971,848.30, Quota $39,100,000, Attainment 96.1%" on AdventureWorks' index: the
    attainment is credited revenue / quota (every member's credit), which the revenue box (each deal once) is not."""
    figures = {
        "revenue": Decimal("8971848.30"),
        "credited_revenue": Decimal("37588400.02"),
        "quota": Decimal("39100000.00"),
        "attainment": 0.9613,
        "attainment_basis_differs": True,
        "forecast": Decimal("9000000.00"),
    }
    params, period = load_params(ROOT / "params" / "demo.yaml"), Period.parse("FY2025-Q4", FiscalCalendar(7))
    shown, _, _, _ = _laid_out(tmp_path, index.index_html(params, period, [], figures=figures), 1000, "[data-figure] dd")
    assert [text for text, _ in shown][2] == "96.1%of credited revenue $37,588,400.02 (the attainment basis)"
    same = dict(figures, attainment_basis_differs=False, credited_revenue=figures["revenue"])
    shown, _, _, _ = _laid_out(tmp_path, index.index_html(params, period, [], figures=same), 1000, "[data-figure] dd")
    assert [text for text, _ in shown][2] == "96.1%"  # nothing to explain
