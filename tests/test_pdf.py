"""Report PDFs, read as a reader reads them: poppler's pdftotext / pdfinfo / pdfimages on the batch's files.

One small demo batch (one account manager and its team, PDFs on) is run once per
renderer (params ``pdf.renderer``: Chromium and WeasyPrint; a renderer that cannot run
here is skipped with the reason); its PDFs are checked against the same report's HTML
and workbook: the headline figures are the same text, every page carries the running
header and ``page N of M``, the paper is the params', charts are vector. A long table
is printed on its own to see its header repeated; a PDF that cannot be rendered fails
alone. What only Chromium has (its browser's life, no network): ``test_pdf_chromium.py``.
"""

from __future__ import annotations

import html as html_lib
import json
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import nbformat
import openpyxl
import pandas as pd
import pytest
from demo_params import demo_params

from reportkit.core.errors import EnvironmentError_
from reportkit.render.chromium import chromium_unavailable
from reportkit.render.labels import summary_label
from reportkit.render.notebook import table
from reportkit.render.pdf import PdfEngine, PdfPage, choose_renderer, pdf_unavailable, render_pdf
from reportkit.render.titles import PrintTitle
from reportkit.run.batch import run_batch
from reportkit.run.html import export_print_body

pytestmark = [
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed: apt-get install poppler-utils"),
]

RENDERERS = [
    pytest.param("chromium", marks=pytest.mark.skipif(chromium_unavailable() is not None, reason=str(chromium_unavailable()))),
    pytest.param("weasyprint", marks=pytest.mark.skipif(pdf_unavailable() is not None, reason=str(pdf_unavailable()))),
]
"""Every reader check runs for both renderers (on CI both are installed; elsewhere the missing one skips)."""


@pytest.fixture(params=RENDERERS)
def renderer(request):
    """The renderer a test prints with (its :class:`PdfEngine`)."""
    return choose_renderer(request.param)


def pdf_pages(path: Path) -> list[str]:
    """The text of each page, laid out as on paper (``pdftotext -layout``)."""
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    pages = text.split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def pdf_info(path: Path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines())}


def html_summary(page: str) -> dict[str, str]:
    """Item -> Value of the summary table of a published HTML report (what the browser shows)."""
    rows = re.findall(r"<tr><td[^>]*>([^<]*)</td><td[^>]*>([^<]*)</td></tr>", page)
    return {html_lib.unescape(k): html_lib.unescape(v) for k, v in rows}


@pytest.fixture(scope="module", params=RENDERERS)
def small_batch(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"pdf-batch-{request.param}")
    params = demo_params(tmp, account_managers=["AM-001"], pdf={"enabled": True, "paper": "A4", "renderer": request.param})
    result = run_batch(params, tmp / "out", progress=False)
    manifest = json.loads((tmp / "out" / "manifest.json").read_text())
    assert manifest["batch"]["pdf"]["renderer"] == request.param  # the manifest says which renderer made the PDFs
    return result, {(r["kind"], r["id"]): r for r in manifest["reports"]}


def _engine(result):
    """The renderer a batch's PDFs were made by, as its manifest records it."""
    recorded = json.loads(result.manifest_path.read_text())["batch"]["pdf"]
    return choose_renderer(recorded["renderer"], recorded["executable"])


def _files(result, entry):
    return {fmt: result.output_dir / rel for fmt, rel in entry["outputs"].items()}


@pytest.mark.slow
def test_each_report_has_a_pdf_recorded_in_the_manifest_and_linked_from_the_index(small_batch):
    result, entries = small_batch
    assert result.succeeded, result.summary()
    index = (result.output_dir / "index.html").read_text()
    for entry in entries.values():
        assert entry["status"] == "ok" and entry["output_errors"] == {}
        pdf = _files(result, entry)["pdf"]
        assert pdf.is_file() and pdf.read_bytes().startswith(b"%PDF-")
        assert f'href="{entry["outputs"]["pdf"]}"' in index
        assert entry["pdf_renderer"] == _engine(result).name  # locally, the batch's one renderer printed each
    assert not list(result.output_dir.rglob(".*.tmp"))  # nothing half-written left


_HEADLINE_KEYS = {
    "account_manager": ("revenue", "quota", "attainment"),
    "team": ("revenue", "quota", "attainment", "commission_expense"),
    "company": ("revenue", "quota", "attainment", "commission_expense"),
}
# (label on the HTML page and in the PDF, label in the workbook's Summary): one label, from the one table of reader words
HEADLINES = {kind: [(summary_label(kind, k), summary_label(kind, k)) for k in keys] for kind, keys in _HEADLINE_KEYS.items()}


def _figure(text: str) -> Decimal:
    """A figure as printed (``$1,234.50``, ``83.4%``) as a number (a percentage as a fraction)."""
    if text.endswith("%"):
        return Decimal(text[:-1]) / 100
    return Decimal(text.replace("$", "").replace(",", ""))


def _same_figure(printed: str, workbook_value: float) -> bool:
    shown = _figure(printed)
    places = Decimal("0.001") if printed.endswith("%") else Decimal("0.01")  # as many places as printed
    return shown == Decimal(repr(workbook_value)).quantize(places)


@pytest.mark.slow
def test_the_pdf_shows_the_headline_figures_of_the_html_and_the_workbook(small_batch):
    result, entries = small_batch
    for (kind, _), entry in entries.items():
        files = _files(result, entry)
        shown = html_summary(files["html"].read_text())
        workbook = {r[0].value: r[1].value for r in openpyxl.load_workbook(files["xlsx"], data_only=True)["Summary"].iter_rows()}
        text = "\n".join(pdf_pages(files["pdf"]))
        for label, wb_label in HEADLINES[kind]:
            value = shown[label]
            # the same line in the PDF: the label, then the value the HTML shows ...
            assert re.search(rf"^\s*{re.escape(label)}\s+{re.escape(value)}\s*$", text, re.MULTILINE), (kind, label, value)
            # ... which is the workbook's figure
            assert _same_figure(value, workbook[wb_label]), (kind, label, value, workbook[wb_label])
        if kind == "account_manager":  # the commission statement's total line
            totals = re.findall(r"^\s*Total\s+(\$[\d,]+\.\d\d)\s*$", text, re.MULTILINE)
            # the summary shows "Total earned (all awards)" only when it differs from the cash payable now
            earned = workbook.get("Total earned (all awards)", workbook["Payable now (cash)"])
            assert totals and all(_same_figure(t, earned) for t in totals), totals  # every "Total" line of the statement


@pytest.mark.slow
def test_every_page_carries_the_running_header_and_page_n_of_m(small_batch):
    result, entries = small_batch
    for entry in entries.values():
        pdf = _files(result, entry)["pdf"]
        pages = pdf_pages(pdf)
        n = int(pdf_info(pdf)["Pages"])
        assert len(pages) == n >= 2
        who = entry["name"] if entry["kind"] in ("team", "company") else f"{entry['name']} ({entry['id']})"
        for i, page in enumerate(pages, start=1):
            head = page.strip().splitlines()[0]
            assert head.startswith("Demo Co · ") and who in head and "FY2025-Q4 · as of 2025-12-31" in head, (i, head)
            assert page.rstrip().splitlines()[-1].strip() == f"page {i} of {n}"


@pytest.mark.slow
def test_paper_follows_params_and_charts_are_vector(small_batch):
    result, entries = small_batch
    for entry in entries.values():
        pdf = _files(result, entry)["pdf"]
        assert _page_size(pdf) == pytest.approx((841.89, 595.28), abs=0.5)  # A4 landscape (297 x 210 mm)
        images = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
        assert len(images.strip().splitlines()) == 2, images  # only the listing's header: no bitmap chart
    # Letter, portrait, from the same notebook
    entry = entries[("account_manager", "AM-001")]
    nb = nbformat.read(_files(result, entry)["ipynb"], as_version=4)
    title = PrintTitle(
        "Demo Co", "Account manager report: Alice Andersen (AM-001)", "FY2025-Q4", pd.Timestamp("2025-12-31").date()
    )
    letter = result.output_dir / "letter.pdf"
    letter.write_bytes(render_pdf(export_print_body(nb), PdfPage(title, "Letter", "portrait"), _engine(result)))
    assert _page_size(letter) == pytest.approx((612, 792), abs=0.5)


def _page_size(pdf: Path) -> tuple[float, float]:
    """Width and height of the first page in points, as pdfinfo reads them (``841.89 x 595.276 pts (A4)``)."""
    width, _, height = pdf_info(pdf)["Page size"].split()[:3]
    return float(width), float(height)


def test_a_long_table_breaks_between_rows_and_repeats_its_header_on_each_page(tmp_path, renderer):
    frame = pd.DataFrame(
        {
            "account_id": [f"ACC-{i:04d}" for i in range(240)],
            "revenue_period": [Decimal(i * 1000 + 25) / 100 for i in range(240)],
            "status": ["at risk" if i % 7 == 0 else "growing" for i in range(240)],
        }
    )
    shown = table(frame, list(frame.columns), currency="USD", max_rows=None)  # every row: the breaks are the point
    bundle = shown._repr_html_()
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("table(...)")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": bundle, "text/plain": "table"})]
    nb.cells = [nbformat.v4.new_markdown_cell("## Account status"), cell]
    title = PrintTitle("Long Co", "Account manager report: A (1)", "FY2025-Q4", pd.Timestamp("2025-12-31").date())
    pdf = tmp_path / "long.pdf"
    pdf.write_bytes(render_pdf(export_print_body(nb), PdfPage(title, "A4", "portrait"), renderer))
    pages = pdf_pages(pdf)
    assert len(pages) >= 3
    header = re.compile(r"^\s*Account ID\s+Revenue period\s+Status\s*$", re.MULTILINE)
    rows_seen = []
    for page in pages:
        assert len(header.findall(page)) == 1, page[:400]  # the header row on every page, once
        rows_seen += re.findall(r"ACC-\d{4}", page)
    assert rows_seen == list(frame["account_id"])  # every row once, in order: no row split or lost


@pytest.mark.slow
def test_a_pdf_that_fails_keeps_the_reports_other_files_and_resume_writes_it(tmp_path, monkeypatch):
    import reportkit.run.execute as execute

    def broken(body, page, engine=None):
        raise RuntimeError("renderer exploded for the test")

    monkeypatch.setattr(execute, "render_pdf", broken)
    params = demo_params(tmp_path, account_managers=["AM-001"], reports=["account_manager"], pdf={"enabled": True})
    out = tmp_path / "out"
    result = run_batch(params, out, progress=False, worker_processes=False)  # threads: the patch applies
    entry = json.loads((out / "manifest.json").read_text())["reports"][0]
    assert entry["status"] == "ok" and sorted(entry["outputs"]) == ["html", "ipynb", "xlsx"]
    assert entry["output_errors"] == {"pdf": "RuntimeError: renderer exploded for the test"}
    assert not result.succeeded and "PDF not written for 1 report:" in result.summary()
    assert "PDF not written: RuntimeError: renderer exploded for the test" in (out / "index.html").read_text()
    assert not list(out.rglob("*.pdf")) and not list(out.rglob(".*.tmp"))
    assert all((out / rel).is_file() for rel in entry["outputs"].values())

    monkeypatch.undo()
    again = run_batch(params, out, progress=False, worker_processes=False, resume=True)
    entry = json.loads((out / "manifest.json").read_text())["reports"][0]
    assert again.succeeded and not entry["reused"] and entry["output_errors"] == {}
    assert (out / entry["outputs"]["pdf"]).is_file()


def test_pdf_params_default_off_and_refuse_an_unknown_paper(tmp_path):
    from reportkit.config.params import load_params
    from reportkit.core.errors import ParamsError
    from reportkit.run.outputs import report_formats

    plain = load_params(demo_params(tmp_path, pdf={}))
    assert (plain.pdf.enabled, plain.pdf.paper, plain.pdf.orientation, plain.pdf.renderer) == (False, "A4", "landscape", "auto")
    assert report_formats(plain) == ("ipynb", "html", "xlsx")
    on = load_params(demo_params(tmp_path, pdf={"enabled": True, "paper": "Letter"}))
    assert report_formats(on) == ("ipynb", "html", "xlsx", "pdf") and on.pdf.paper == "Letter"
    with pytest.raises(ParamsError, match=r"pdf\.paper.*'A4' or 'Letter'"):
        load_params(demo_params(tmp_path, pdf={"enabled": True, "paper": "A5"}))
    with pytest.raises(ParamsError, match=r"pdf\.renderer.*'auto', 'chromium' or 'weasyprint'"):
        load_params(demo_params(tmp_path, pdf={"enabled": True, "renderer": "wkhtmltopdf"}))


# The long side of each CSS named page size, in mm (CSS Paged Media, "page-size").
_PAPER_LONG_SIDE_MM = {"A5": 210, "A4": 297, "A3": 420, "B5": 250, "B4": 353, "Letter": 279.4, "Legal": 355.6, "Ledger": 431.8}


def test_every_paper_a_pdf_may_have_is_narrower_than_the_window_chromium_loads_its_page_in():
    # The print style hides the body in print media at least WINDOW_WIDTH_PX wide (render/pdf.py): a
    # paper that wide would print blank pages, so a new paper must stay under it.
    import typing

    from reportkit.config.params import PdfOptions
    from reportkit.render.pdf import WINDOW_WIDTH_PX

    papers = set(typing.get_args(typing.get_type_hints(PdfPage)["paper"]))
    assert papers == set(typing.get_args(PdfOptions.model_fields["paper"].annotation))
    for paper in papers:
        assert paper in _PAPER_LONG_SIDE_MM, f"add {paper}'s long side to this test"
        assert _PAPER_LONG_SIDE_MM[paper] / 25.4 * 96 < WINDOW_WIDTH_PX, paper


def test_a_batch_asking_for_pdfs_where_they_cannot_be_made_stops_before_any_report(tmp_path, monkeypatch):
    import reportkit.render.pdf as pdf
    from reportkit.core.errors import EnvironmentError_

    monkeypatch.setattr(pdf, "pdf_unavailable", lambda: "PDF output needs WeasyPrint, which is not installed")
    with pytest.raises(EnvironmentError_, match="needs WeasyPrint") as err:
        run_batch(demo_params(tmp_path, pdf={"enabled": True, "renderer": "weasyprint"}), tmp_path / "out", progress=False)
    assert err.value.exit_code == 3 and "-p pdf.enabled=false" in err.value.hint
    assert not (tmp_path / "out").exists()


def test_a_batch_asking_for_chromium_where_there_is_none_stops_before_any_report_with_the_install_step(tmp_path):
    from reportkit.core.errors import EnvironmentError_

    params = demo_params(tmp_path, pdf={"enabled": True, "renderer": "chromium", "chromium": str(tmp_path / "no-such-chromium")})
    with pytest.raises(EnvironmentError_, match="apt-get install chromium") as err:
        run_batch(params, tmp_path / "out", progress=False)
    assert err.value.exit_code == 3 and "no-such-chromium" in err.value.message
    assert "pdf.renderer=weasyprint" in err.value.hint
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_a_batch_that_writes_no_pdf_names_no_renderer_whatever_the_params_say(tmp_path):
    params = demo_params(
        tmp_path, account_managers=["AM-001"], reports=["account_manager"], pdf={"enabled": False, "renderer": "chromium"}
    )
    result = run_batch(params, tmp_path / "out", progress=False, worker_processes=False)
    manifest = json.loads(result.manifest_path.read_text())
    assert result.succeeded and manifest["batch"]["pdf"] is None
    assert "pdf" not in manifest["reports"][0]["outputs"]


def test_auto_prints_with_chromium_where_it_runs_and_with_weasyprint_elsewhere(tmp_path, monkeypatch):
    import reportkit.render.chromium as chromium

    if chromium_unavailable() is None:
        assert choose_renderer("auto").name == "chromium"
    monkeypatch.setenv("PATH", str(tmp_path))  # no browser on PATH
    monkeypatch.delenv("REPORTKIT_CHROMIUM", raising=False)
    assert chromium.find_chromium() is None
    if pdf_unavailable() is None:
        assert choose_renderer("auto").name == "weasyprint"
    fake = tmp_path / "my-chrome"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("REPORTKIT_CHROMIUM", str(fake))  # the environment names one
    assert chromium.find_chromium() == str(fake)
    assert chromium.find_chromium(str(tmp_path / "other")) is None  # params pdf.chromium wins, and is never swapped


def test_a_local_jobs_renderer_is_the_batchs_one_choice_and_a_dask_jobs_is_chosen_again_where_it_prints(tmp_path, monkeypatch):
    pinned = PdfEngine("chromium", "/usr/bin/chromium")  # a local job's: params pdf.renderer as the batch resolved it
    carried = PdfEngine("chromium", "/usr/bin/chromium", asked="auto")  # a Dask job's: what params asked
    assert carried == pinned and hash(carried) == hash(pinned)  # one warm renderer serves both in a worker
    monkeypatch.setenv("REPORTKIT_CHROMIUM", str(tmp_path / "no-browser"))  # this machine has none
    assert pinned.here() is pinned  # a local batch never mixes renderers
    if pdf_unavailable() is None:
        assert carried.here() == PdfEngine("weasyprint")  # auto, applied here
    with pytest.raises(EnvironmentError_) as err:
        PdfEngine("chromium", "/usr/bin/chromium", asked="chromium").here()
    assert "needs a Chromium browser" in err.value.message and "-p pdf.renderer=auto" in err.value.hint


def test_turning_pdfs_off_removes_the_pdfs_an_earlier_run_listed(tmp_path):
    from reportkit.run.outputs import remove_stale_outputs

    out = tmp_path / "out"
    (out / "teams").mkdir(parents=True)
    for ext in ("html", "pdf"):
        (out / "teams" / f"t.{ext}").write_text("x")
    (out / "teams" / "mine.pdf").write_text("not listed: never touched")
    previous = {"reports": [{"outputs": {"html": "teams/t.html", "pdf": "teams/t.pdf"}}]}
    assert remove_stale_outputs(out, previous, {"teams/t.html"}) == ["teams/t.pdf"]
    assert sorted(p.name for p in (out / "teams").iterdir()) == ["mine.pdf", "t.html"]


def test_the_print_body_leaves_out_the_commission_traces_and_the_pdf_reads_as_with_them(small_batch, tmp_path):
    """Print hides each commission line's trace (the HTML's ``<details>``); the print body drops those
    rows before layout (issue #18: hundreds of hidden cells were laid out for nothing), and the
    pages read the same as the pages printed from nbconvert's own body, traces and all."""
    from nbconvert import HTMLExporter

    from reportkit.run import html as html_export

    result, entries = small_batch
    entry = entries[("account_manager", "AM-001")]
    nb = nbformat.read(_files(result, entry)["ipynb"], as_version=4)
    assert "reportkit-trace" in "".join(
        str(o.get("data", {}).get("text/html", "")) for c in nb.cells for o in c.get("outputs", [])
    )
    body = export_print_body(nb)
    assert "reportkit-trace" not in body and "Trace of line" not in body
    config = html_export._hidden_code_config()
    config.HTMLExporter.anchor_link_text = "¶"
    config.NbConvertBase.display_data_priority = html_export._PRINT_PRIORITY
    stock, _ = HTMLExporter(config=config, template_name="basic").from_notebook_node(html_export._published(nb))
    assert "reportkit-trace" in stock
    title = PrintTitle(
        "Demo Co", "Account manager report: Alice Andersen (AM-001)", "FY2025-Q4", pd.Timestamp("2025-12-31").date()
    )
    ours, theirs = tmp_path / "ours.pdf", tmp_path / "stock.pdf"
    ours.write_bytes(render_pdf(body, PdfPage(title, "A4", "landscape"), _engine(result)))
    theirs.write_bytes(render_pdf(stock, PdfPage(title, "A4", "landscape"), _engine(result)))
    assert pdf_pages(ours) == pdf_pages(theirs)


def _chart_outputs(ipynb: Path) -> list[dict]:
    nb = nbformat.read(ipynb, as_version=4)
    return [o["data"] for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]


@pytest.mark.slow
def test_a_report_without_a_pdf_draws_no_print_copy_of_its_charts_and_its_page_is_the_same(small_batch, tmp_path):
    """The SVG of a chart is what the PDF prints: without a PDF it is not drawn, and nothing a reader sees changes."""
    result, entries = small_batch
    printed = _files(result, entries[("account_manager", "AM-001")])
    params = demo_params(tmp_path, account_managers=["AM-001"], reports=["account_manager"], pdf={"enabled": False})
    plain = run_batch(params, tmp_path / "out", progress=False)
    assert plain.succeeded
    entry = json.loads(plain.manifest_path.read_text())["reports"][0]
    unprinted = _files(plain, entry)
    with_pdf, without = _chart_outputs(printed["ipynb"]), _chart_outputs(unprinted["ipynb"])
    assert len(with_pdf) == len(without) == 1
    assert "image/svg+xml" in with_pdf[0] and "image/svg+xml" not in without[0]
    assert {k: v for k, v in with_pdf[0].items() if k != "image/svg+xml"} == without[0]  # the same PNG, alt, text
    assert unprinted["html"].read_bytes() == printed["html"].read_bytes()
