"""The company report in a batch: planned once, published like every kind, resumed, linked and headlined by the index.

One small demo batch (Team North and the company) is run once for the module; the
pages are read as Chromium built them (``--dump-dom``), the figures compared with
the workbook's cached values (what a reader of the .xlsx sees).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from demo_params import demo_params
from test_browser import CHROMIUM, _dump_dom

from reportkit.render.labels import summary_label
from reportkit.render.notebook import format_cell
from reportkit.run.batch import run_batch
from reportkit.run.index import HEADLINE_FIGURES

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow

SECTIONS = (
    "Revenue vs quota by team",
    "Attainment across account managers",
    "Performance watch",
    "Annual forecast vs annual quota",
    "Forecast accuracy of earlier quarters",
    "Pipeline coverage",
    "Win rate, deal size and sales cycle vs last year",
    "Account health",
    "Commission expense",
    "Notes",
)


@pytest.fixture(scope="module")
def company_batch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("company-batch")
    params = demo_params(tmp, account_managers=["AM-001"], reports=["team", "company"])
    out = tmp / "out"
    first = run_batch(params, out, progress=False, keep_work=True, worker_processes=False)
    assert first.ok, first.summary()
    return params, out, first


def _entry(out: Path) -> dict:
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    (entry,) = [e for e in manifest["reports"] if e["kind"] == "company"]
    return entry


def _workbook_summary(out: Path) -> dict[str, object]:
    """The company workbook's Summary sheet as {item label: cached value}."""
    ws = openpyxl.load_workbook(out / "company" / "company.xlsx", data_only=True)["Summary"]
    return {str(r[0]): r[1] for r in ws.iter_rows(values_only=True) if r and r[0] is not None}


def _shown(value: object, key: str) -> str:
    """A workbook number as the reports show it (money from its cents, fractions as percent)."""
    if isinstance(value, float) and key in ("attainment",):
        return format_cell(value, key)
    return format_cell(Decimal(str(value)).quantize(Decimal("0.01")), key)


def test_the_company_report_is_planned_once_and_published_in_every_format(company_batch):
    _, out, result = company_batch
    assert [r.kind for r in result.reports].count("company") == 1
    entry = _entry(out)
    assert entry["status"] == "ok" and entry["id"] == "company"
    assert {"ipynb", "html", "xlsx"} <= set(entry["outputs"])  # and the PDF when params pdf.enabled (the demo's are)
    assert entry["outputs"] == {f: f"company/company.{f}" for f in entry["outputs"]}
    assert all((out / p).is_file() for p in entry["outputs"].values())
    assert entry["parameters"]["company"] == "company"


def test_a_resumed_batch_keeps_the_unchanged_company_report(company_batch):
    params, out, _ = company_batch
    before = (out / "company" / "company.html").read_bytes()
    again = run_batch(params, out, progress=False, resume=True, keep_work=True, worker_processes=False)
    (company,) = [r for r in again.reports if r.kind == "company"]
    assert company.status == "ok" and company.reused
    assert (out / "company" / "company.html").read_bytes() == before
    assert _entry(out)["fingerprint"]["input"]


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")
def test_the_index_shows_the_workbooks_headline_figures_and_links_every_company_file(company_batch, tmp_path):
    _, out, _ = company_batch
    dom = _dump_dom(out / "index.html", tmp_path)
    book = _workbook_summary(out)
    labels = {key: summary_label("company", key) for key, _ in HEADLINE_FIGURES}  # the workbook's Summary labels
    for key, _label in HEADLINE_FIGURES:
        shown = re.search(rf'data-figure="{key}"><dt>[^<]*</dt><dd>([^<]*)', dom)
        assert shown, f"no headline {key} in the index"
        assert shown.group(1) == _shown(book[labels[key]], key)
    links = set(re.findall(r'href="([^"]+)"', dom))
    assert {"company/company.html", "company/company.xlsx", "company/company.ipynb", "company.xlsx"} <= links


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")
def test_the_company_page_shows_its_sections_and_the_workbooks_figures(company_batch, tmp_path):
    _, out, _ = company_batch
    dom = _dump_dom(out / "company" / "company.html", tmp_path)
    headings = [re.sub(r"<[^>]+>|¶", "", h).strip() for h in re.findall(r"<h[1-3][^>]*>(.*?)</h[1-3]>", dom, re.DOTALL)]
    for section in SECTIONS:
        assert section in headings, f"{section!r} not among {headings}"
    rows = dict(re.findall(r"<tr><td[^>]*>([^<]+)</td><td[^>]*>([^<]*)</td></tr>", dom))
    book = _workbook_summary(out)
    for label, key in (("Revenue (each deal once)", "revenue"), ("Quota", "quota"), ("Commission expense", "commission_expense")):
        assert rows[label] == _shown(book[summary_label("company", key)], key)
    assert rows["Attainment"] == _shown(book["Attainment"], "attainment")
