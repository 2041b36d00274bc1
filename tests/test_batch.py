"""reportkit batch: validation before kernels, outputs, manifest, index, failures, CLI."""

from __future__ import annotations

import json
import os
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import nbformat
import openpyxl
import pytest
from demo_params import demo_params

from reportkit.cli import main
from reportkit.config.params import load_params
from reportkit.core.errors import KernelNotFoundError, ParamsError, TemplateError
from reportkit.render.notebook import format_money, format_percent
from reportkit.run import batch as batch_mod
from reportkit.run import html as html_mod
from reportkit.run import index, outputs
from reportkit.run import papermill_engine as engine
from reportkit.run.batch import ID_PARAMETER, OUTPUT_FOLDERS, BatchResult, ReportResult, export_html, run_batch, slugify

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "params" / "demo.yaml"
needs_demo = pytest.mark.skipif(not DEMO.exists(), reason="params/demo.yaml not present")


def _params(tmp_path: Path, **changes) -> Path:
    return demo_params(tmp_path, **changes)


def _no_kernel_may_start(monkeypatch):
    def boom(*a, **k):  # pragma: no cover - only runs when the test fails
        raise AssertionError("a kernel was started before validation finished")

    import papermill

    monkeypatch.setattr(papermill, "execute_notebook", boom)


# -- fast: pure helpers -------------------------------------------------------------


@pytest.mark.parametrize(
    "text, slug",
    [
        ("AM-001 Alice Andersen", "am-001-alice-andersen"),
        ("Ana María / <West>", "ana-maria-west"),
        ("../../etc/passwd", "etc-passwd"),
        ("", "report"),
        ("***", "report"),
    ],
)
def test_slugs_are_safe_file_names(text, slug):
    assert slugify(text) == slug


def test_duplicate_slugs_get_a_stable_hash_suffix():
    rs = [ReportResult("account_manager", "A 1", "x", "t"), ReportResult("account_manager", "a-1", "a-1", "t")]
    assert outputs.unique_slugs(rs) == ["a-1-x", "a-1"]
    rs = [ReportResult("team", "T", "T", "T"), ReportResult("team", "t", "t", "t")]
    first, second = outputs.unique_slugs(rs)
    assert first == "t" and re.fullmatch(r"t-[0-9a-f]{8}", second)
    # the suffix depends on the report only, not on what else the batch holds
    assert outputs.unique_slugs([ReportResult("team", "X", "X", "X"), *rs])[2] == second


HOSTILE = [
    ("../../etc/passwd", "Eve / Mallory"),
    ("con", "con"),
    ("NUL", "NUL"),
    ("com1", "com1"),
    ("am:7", "Bob"),
    ("AM:7", "bob"),
    ("AM:7 ", "BOB"),
    ("x" * 200, "y" * 200),
    ("x" * 200 + "z", "y" * 200),
    ("..", ".."),
    ("C:\\Windows", "aux"),
    ("a-1", "a-1"),
    ("a-1-2", "a-1-2"),
    ("A 1", "a 1"),
]


def test_slugs_of_hostile_ids_are_safe_unique_and_short():
    rs = [ReportResult("account_manager", i, n, "t") for i, n in HOSTILE]
    slugs = outputs.unique_slugs(rs)
    assert len({s.casefold() for s in slugs}) == len(slugs)  # unique even on case-insensitive disks
    for s in slugs:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", s) and len(s) <= 80
        assert s.split(".")[0] not in outputs._WINDOWS_RESERVED
    assert slugs[1] == "con-report" and slugs[2] == "nul-report" and slugs[3] == "com1-report"
    assert outputs.unique_slugs(rs) == slugs  # deterministic


def test_index_escapes_names_and_errors_and_groups_by_team(tmp_path):
    params = load_params(_params(tmp_path, name="<b>Co</b>")) if DEMO.exists() else pytest.skip("no demo")
    from reportkit.core.periods import FiscalCalendar, Period

    period = Period.parse("FY2025-Q4", FiscalCalendar(7))
    results = [
        ReportResult("team", "t-1", "<script>alert(1)</script>", "<script>alert(1)</script>", "ok", {"html": "teams/t-1.html"}),
        ReportResult(
            "account_manager",
            "A&1",
            "Zoë <i>",
            "<script>alert(1)</script>",
            "failed",
            {"ipynb": "account_managers/a.ipynb"},
            error="ValueError: <bad> (cell 3)",
        ),
    ]
    page = index.index_html(params, period, results)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "&lt;b&gt;Co&lt;/b&gt;" in page and 'Zoë &lt;i&gt; <span class="id">(A&amp;1)</span>' in page
    assert "ValueError: &lt;bad&gt; (cell 3)" in page
    assert page.count("<h2>") == 1  # both reports under one team heading
    assert 'href="teams/t-1.html"' in page and 'href="account_managers/a.ipynb"' in page
    assert _self_closing_html_elements(page) == []


def test_export_html_drops_code_and_both_parameter_cells():
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('secret_path = "x"')
    params.metadata["tags"] = ["parameters"]
    injected = nbformat.v4.new_code_cell('secret_path = "/home/coordinator/.work/x.pkl"')
    injected.metadata["tags"] = ["injected-parameters"]
    shown = nbformat.v4.new_code_cell("print_me()")
    shown.outputs = [nbformat.v4.new_output("stream", name="stdout", text="VISIBLE OUTPUT\n")]
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), params, injected, shown]
    page = export_html(nb, title="t")
    assert "VISIBLE OUTPUT" in page and "Title" in page
    assert "secret_path" not in page and ".pkl" not in page and "print_me" not in page


_VOID = frozenset(["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"])


def _self_closing_html_elements(page: str) -> list[str]:
    """Non-void HTML elements written ``<tag ... />`` outside SVG and MathML.

    An HTML5 parser (every browser) ignores that slash and leaves the element open,
    while Python's ``html.parser`` closes it: ``<a class="anchor-link" ... />`` hid
    every section after a report's first heading in a browser (issue #12).
    tests/test_browser.py checks the pages in Chromium itself.
    """
    from html.parser import HTMLParser

    class Finder(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.found: list[str] = []
            self.foreign = 0

        def handle_starttag(self, tag, attrs):
            self.foreign += tag in ("svg", "math")

        def handle_endtag(self, tag):
            self.foreign -= tag in ("svg", "math")

        def handle_startendtag(self, tag, attrs):
            if tag not in _VOID and not self.foreign:
                self.found.append(self.get_starttag_text())

    finder = Finder()
    finder.feed(page)
    finder.close()
    return finder.found


def test_the_self_closing_check_finds_the_issue_12_heading_anchor():
    page = '<h2 id="Q">Quarterly results<a class="anchor-link" href="#Q" /></h2><br/><svg><path d="M0"/></svg>'
    assert _self_closing_html_elements(page) == ['<a class="anchor-link" href="#Q" />']


def test_the_batch_engine_writes_the_published_paths_so_its_last_write_is_the_published_notebook(tmp_path):
    """With ``published_as`` the engine names the published paths from the first cell on, so the
    file Papermill writes last is, byte for byte, the returned notebook serialised: what
    ``execute._publish_notebook`` then moves into place without serialising it again."""
    import papermill as pm

    from reportkit.run import kernels
    from reportkit.run.execute import _publish_notebook

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "reportkit", "display_name": "Python (reportkit)", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("print('one')"), nbformat.v4.new_code_cell("3 * 7")]
    template = tmp_path / "report.ipynb"
    nbformat.write(nb, template)
    out = tmp_path / "out"
    (out / ".work").mkdir(parents=True)
    (out / "reports").mkdir()
    tmp_nb = out / ".work" / "report.ipynb"
    returned = pm.execute_notebook(
        str(template),
        str(tmp_nb),
        kernel_name="reportkit",
        progress_bar=False,
        engine_name=engine.register_engine(),
        kernel_manager_class=kernels.WarmKernelManager,
        published_as=("report.ipynb", "reports/report.ipynb"),
    )
    written = tmp_nb.read_text(encoding="utf-8")
    assert written == nbformat.writes(returned)
    meta = nbformat.reads(written, as_version=4).metadata.papermill
    assert (meta["input_path"], meta["output_path"]) == ("report.ipynb", "reports/report.ipynb")
    _publish_notebook(tmp_nb, out / "reports" / "report.ipynb", template, out, returned)
    assert (out / "reports" / "report.ipynb").read_text(encoding="utf-8") == written and not tmp_nb.exists()


def test_export_html_validates_once_and_writes_the_page_of_nbconvert_s_validation_after_each_preprocessor():
    """The exporters validate the notebook once, after the last preprocessor (nbconvert's
    ``optimistic_validation``), not after each of them: the page is the same."""
    from nbconvert import HTMLExporter

    nb = nbformat.v4.new_notebook()
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    table = nbformat.v4.new_code_cell("table()")
    table.outputs = [nbformat.v4.new_output("display_data", data={"text/html": "<table><tr><td>1</td></tr></table>"})]
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), table]
    ours, each_step = html_mod._new_html_exporter(), html_mod._new_html_exporter()
    each_step.optimistic_validation = False
    assert ours.optimistic_validation and not HTMLExporter().optimistic_validation
    assert ours.from_notebook_node(nb)[0] == each_step.from_notebook_node(nb)[0]


def test_export_html_parses_to_the_same_page_as_nbconvert_without_its_soup_pass():
    """The exporter skips HTMLExporter's BeautifulSoup pass; the page must not change,
    and must hold nothing that pass used to repair (``html.parser`` reads a
    self-closing ``<a/>`` as the empty link the soup writes back; a browser does not)."""
    import base64

    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter

    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 32).decode()
    nb = nbformat.v4.new_notebook()
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    plot = nbformat.v4.new_code_cell("plot()")
    plot.outputs = [nbformat.v4.new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"})]
    table = nbformat.v4.new_code_cell("table()")
    table.outputs = [
        nbformat.v4.new_output(
            "display_data", data={"text/html": '<table class="rk"><tr><td>1 &amp; 2</td></tr></table><img src="x.png">'}
        )
    ]
    err = nbformat.v4.new_code_cell("boom()")
    err.outputs = [nbformat.v4.new_output("error", ename="ValueError", evalue="<bad>", traceback=["ValueError: <bad>"])]
    sections = nbformat.v4.new_markdown_cell("## Quarterly results\n\ntext\n\n### *Commission* `statement`\n\n#### Notes")
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title\n\n![chart](c.png) and <img src='y.png' alt='kept'>"),
        plot,
        sections,
        table,
        err,
        nbformat.v4.new_code_cell("print('x')"),
    ]
    nb.metadata["title"] = "t"
    ours = export_html(nb, title="t")
    reference, _ = HTMLExporter(config=html_mod._new_html_exporter().config).from_notebook_node(nb)
    assert BeautifulSoup(ours, "html.parser") == BeautifulSoup(reference, "html.parser")
    assert ours.count('class="anchor-link"') == 4  # one per heading, each closed
    assert _self_closing_html_elements(ours) == []
    assert 'alt="No description has been provided for this image"' in ours and "alt='kept'" in ours
    assert ours.count('tabindex="0"') == reference.count('tabindex="0"') > 0


# -- fast: validation happens before any kernel starts ------------------------------------


@needs_demo
def test_bad_period_is_refused_before_any_kernel(tmp_path, monkeypatch):
    _no_kernel_may_start(monkeypatch)
    with pytest.raises(ParamsError, match="FY2025-Q5") as info:  # the params file's key and line (issue: params errors)
        run_batch(_params(tmp_path, period="FY2025-Q5"), tmp_path / "out", progress=False)
    assert "line 3" in str(info.value) and "key 'period'" in str(info.value)
    assert not (tmp_path / "out").exists()


@needs_demo
def test_missing_kernel_is_refused_before_any_kernel(tmp_path, monkeypatch):
    _no_kernel_may_start(monkeypatch)
    with pytest.raises(KernelNotFoundError, match="no-such-kernel") as info:
        run_batch(_params(tmp_path), tmp_path / "out", progress=False, kernel_name="no-such-kernel")
    assert "ipykernel install" in info.value.hint


@needs_demo
def test_template_without_parameters_cell_is_refused(tmp_path, monkeypatch):
    _no_kernel_may_start(monkeypatch)
    tdir = tmp_path / "templates"
    tdir.mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]), tdir / "account_manager.ipynb")
    shutil.copy(ROOT / "templates" / "team.ipynb", tdir / "team.ipynb")
    with pytest.raises(TemplateError, match="no cell tagged 'parameters'"):
        run_batch(_params(tmp_path), tmp_path / "out", progress=False, template_dir=tdir)


@needs_demo
def test_unknown_account_manager_is_an_input_error_with_exit_code_2(tmp_path, monkeypatch, capsys):
    _no_kernel_may_start(monkeypatch)
    code = main(["batch", str(_params(tmp_path, account_managers=["AM-999"])), "-o", str(tmp_path / "o"), "-q"])
    err = capsys.readouterr().err
    assert code == 2
    assert "AM-999" in err and err.startswith("reportkit: error:") and "Traceback" not in err


def test_cli_missing_params_file_and_version(tmp_path, capsys):
    assert main(["batch", str(tmp_path / "nope.yaml"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "hint: check the path" in err and "Traceback" not in err
    assert main(["batch", str(tmp_path / "nope.yaml"), "-q", "--debug"]) == 2
    assert "Traceback" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and re.match(r"reportkit \d+\.\d+", capsys.readouterr().out)


def test_every_cli_option_has_help():
    from reportkit.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, sp in sub.choices.items():
        assert sp.description, name
        for action in sp._actions:
            assert action.help, f"{name} {action.dest} has no help"


# -- slow: the real thing on the demo data -----------------------------------------------


#: The tests that read :func:`shared_demo_batch` (here, test_deliver.py, test_privacy.py) share
#: a worker under ``make test`` (pytest-xdist), where each worker has its own session.
DEMO_BATCH = pytest.mark.xdist_group("demo_batch")


def shared_demo_batch(tmp_path_factory) -> BatchResult:
    """The whole demo batch, run once per test session (test_privacy.py reuses it via --resume)."""
    if not DEMO.exists():
        pytest.skip("params/demo.yaml not present")
    out = tmp_path_factory.getbasetemp() / "shared-demo-batch" / "reports"
    resume = (out / "manifest.json").exists()
    return run_batch(DEMO, out, progress=False, keep_work=True, resume=resume)


@pytest.fixture(scope="module")
def demo_batch(tmp_path_factory) -> BatchResult:
    return shared_demo_batch(tmp_path_factory)


def _load(result: BatchResult, entry: dict):
    return pickle.loads((result.output_dir / entry["parameters"]["report_data"]).read_bytes())


@pytest.mark.slow
@DEMO_BATCH
def test_demo_batch_writes_every_report_and_a_manifest(demo_batch):
    out = demo_batch.output_dir
    manifest = json.loads((out / "manifest.json").read_text())
    b = manifest["batch"]
    assert b["name"] == "Demo Co" and b["period"] == "FY2025-Q4" and b["as_of"] == "2025-12-31"
    assert b["params_file"].endswith("demo.yaml") and b["started"] <= b["finished"]
    assert b["counts"]["failed"] == 0 and b["counts"]["ok"] == b["counts"]["total"] == len(manifest["reports"])
    assert b["counts"]["account_manager"] > 0 and b["counts"]["team"] > 0 and b["counts"]["company"] == 1
    assert b["data_quality"] == {}  # the demo loads clean: nothing dropped, merged or changed
    assert b["warnings"] == []  # its period is in the data
    for entry in manifest["reports"]:
        assert set(entry) >= {"kind", "id", "name", "status", "outputs", "parameters", "duration_s", "error"}
        assert entry["status"] == "ok" and entry["error"] is None
        assert sorted(entry["outputs"]) == ["html", "ipynb", "pdf", "xlsx"]
        for rel in entry["outputs"].values():
            assert not Path(rel).is_absolute() and (out / rel).is_file()
        assert entry["outputs"]["html"].startswith(OUTPUT_FOLDERS[entry["kind"]] + "/")
        assert entry["parameters"]["period"] == "FY2025-Q4" and entry["parameters"]["as_of"] == "2025-12-31"
        assert isinstance(entry["parameters"][ID_PARAMETER[entry["kind"]]], str)
    assert not list(out.rglob(".*.tmp*"))  # atomic writes leave no temp files
    assert b["company_workbook"] == "company.xlsx" and (out / "company.xlsx").is_file()
    index = (out / "index.html").read_text()
    for entry in manifest["reports"]:
        assert f'href="{entry["outputs"]["html"]}"' in index


def test_export_html_takes_nbconvert_s_own_path_for_a_page_with_a_self_closing_tag():
    """Raw HTML a template author wrote as ``<div .../>``: a browser leaves it open,
    nbconvert's soup pass writes ``<div ...></div>``; the page must be nbconvert's."""
    from nbconvert import HTMLExporter

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell('## Notes\n\n<div class="note"/>\n\nStill shown after the note.')]
    nb.metadata["title"] = "t"
    ours = export_html(nb, title="t")
    reference, _ = HTMLExporter(config=html_mod._new_html_exporter().config).from_notebook_node(nb)
    assert '<div class="note"></div>' in ours
    assert ours == reference
    assert _self_closing_html_elements(ours) == []


@pytest.mark.slow
@DEMO_BATCH
def test_demo_html_hides_code_and_parameters_and_shows_the_report_numbers(demo_batch):
    manifest = json.loads(demo_batch.manifest_path.read_text())
    for entry in manifest["reports"]:
        page = (demo_batch.output_dir / entry["outputs"]["html"]).read_text()
        assert "load_report" not in page and "import " not in page  # no code cells
        assert "report_data" not in page and ".pkl" not in page and "params_file" not in page
        assert "injected-parameters" not in page
        report = _load(demo_batch, entry)
        assert report.id == entry["parameters"][ID_PARAMETER[entry["kind"]]]
        cur = report.currency
        assert format_money(report.quarterly["revenue"].iloc[-1], cur) in page
        assert format_percent(report.summary["attainment"]) in page
        if report.kind == "account_manager":
            for amount in report.commission["amount"]:
                assert format_money(amount, cur) in page
        else:
            for total in report.commission_expense["total"]:
                assert format_money(total, cur) in page


@pytest.mark.slow
@DEMO_BATCH
def test_demo_xlsx_numbers_match_the_report_object(demo_batch):
    manifest = json.loads(demo_batch.manifest_path.read_text())
    for entry in manifest["reports"]:
        report = _load(demo_batch, entry)
        wb = openpyxl.load_workbook(demo_batch.output_dir / entry["outputs"]["xlsx"])
        ws = wb["Quarterly results"]
        header = [c.value for c in ws[2]]  # row 1: the title row
        col = header.index("Revenue")
        got = [
            Decimal(repr(r[col].value)).quantize(Decimal("0.01"))
            for r in ws.iter_rows(min_row=3)
            if isinstance(r[col].value, (int, float))
        ]  # data rows (the workbook may add a totals block)
        assert got[: len(report.quarterly)] == list(report.quarterly["revenue"])
        sheet, frame, column = (
            ("Commission statement", report.commission, "Amount")
            if report.kind == "account_manager"
            else ("Commission expense", report.commission_expense, "Total")
        )
        ws = wb[sheet]
        header = [c.value for c in ws[2]]
        col = header.index(column)
        got = [
            Decimal(repr(r[col].value)).quantize(Decimal("0.01"))
            for r in ws.iter_rows(min_row=3)
            if isinstance(r[col].value, (int, float))
        ]
        if report.kind in ("team", "company") and not got:
            continue  # excel.py writes the team and company totals as formulas (its own tests check them)
        assert got[: len(frame)] == list(frame[column.lower()])
        assert wb.properties.created.date() == report.as_of


@pytest.mark.slow
def test_a_failing_report_is_recorded_and_the_others_are_published(tmp_path, monkeypatch, capsys):
    # a template whose extra cell fails for one account manager only
    tdir = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", tdir)
    nb = nbformat.read(tdir / "account_manager.ipynb", as_version=4)
    nb.cells.insert(
        3, nbformat.v4.new_code_cell('if account_manager_id == "AM-002":\n    raise RuntimeError("forced failure for the test")')
    )
    nbformat.write(nb, tdir / "account_manager.ipynb")
    monkeypatch.setenv("REPORTKIT_TEMPLATES", str(tdir))
    out = tmp_path / "out"
    stale = out / "account_managers" / "am-002-bruno-baptiste.html"
    stale.parent.mkdir(parents=True)
    stale.write_text("old report from an earlier run")
    params = _params(tmp_path, account_managers=["AM-001", "AM-002"], reports=["account_manager"])

    code = main(["batch", str(params), "--output-dir", str(out), "--quiet"])

    captured = capsys.readouterr()
    assert code == 1
    assert "2 account-manager, 0 team and 0 company reports: 1 ok, 1 failed" in captured.out
    assert captured.out.rstrip().endswith("index.html") and "Reports: " in captured.out
    assert "forced failure" in captured.err
    manifest = json.loads((out / "manifest.json").read_text())
    by_id = {r["id"]: r for r in manifest["reports"]}
    assert by_id["AM-001"]["status"] == "ok" and sorted(by_id["AM-001"]["outputs"]) == ["html", "ipynb", "pdf", "xlsx"]
    failed = by_id["AM-002"]
    assert failed["status"] == "failed"
    assert failed["error"] == "RuntimeError: forced failure for the test (cell 4)"
    assert failed["outputs"] == {"ipynb": "account_managers/am-002-bruno-baptiste.ipynb"}
    kept = nbformat.read(out / failed["outputs"]["ipynb"], as_version=4)
    assert any(o.get("ename") == "RuntimeError" for c in kept.cells if c.cell_type == "code" for o in c.outputs)
    assert not stale.exists() and not stale.with_suffix(".xlsx").exists()
    assert manifest["batch"]["counts"] == {"account_manager": 2, "team": 0, "company": 0, "total": 2, "ok": 1, "failed": 1}
    index = (out / "index.html").read_text()
    assert "forced failure for the test (cell 4)" in index and 'class="failed"' in index


@pytest.mark.slow
@needs_demo
def test_a_company_workbook_that_cannot_be_written_fails_the_batch(tmp_path, monkeypatch, capsys):
    import reportkit.render.excel

    def disk_full(*args, **kwargs):
        raise OSError("disk full (forced for the test)")

    monkeypatch.setattr(reportkit.render.excel, "write_company_workbook", disk_full)
    out = tmp_path / "out"
    out.mkdir()
    (out / "company.xlsx").write_text("an earlier run's roll-up, which no longer matches the reports")
    params = _params(tmp_path, account_managers=["AM-001"], reports=["team"])

    code = main(["batch", str(params), "--output-dir", str(out), "--quiet"])

    captured = capsys.readouterr()
    assert code == 1
    manifest = json.loads((out / "manifest.json").read_text())
    assert [r["status"] for r in manifest["reports"]] == ["ok"]  # the team report itself is published
    assert manifest["batch"]["company_workbook"] is None
    assert manifest["batch"]["company_workbook_error"] == "company.xlsx not written: OSError: disk full (forced for the test)"
    assert "failed: company.xlsx not written: OSError: disk full (forced for the test)" in captured.err
    assert not (out / "company.xlsx").exists() and not list(out.rglob(".*.tmp*"))  # nothing stale or half-written
    # the reader's text of the index (a file name in a message is kept whole in its own element)
    shown = re.sub(r"<[^>]+>", "", (out / "index.html").read_text())
    assert "company.xlsx not written: OSError: disk full (forced for the test)" in shown


@needs_demo
def test_cli_overrides_reach_the_batch_as_text(tmp_path, monkeypatch, capsys):
    seen = {}

    def fake_run_batch(params, out, **kwargs):
        seen.update(kwargs, params=params, out=out)
        return BatchResult(Path(out), Path(out) / "manifest.json", Path(out) / "index.html", [])

    monkeypatch.setattr(batch_mod, "run_batch", fake_run_batch)
    code = main(
        [
            "batch",
            str(DEMO),
            "-o",
            str(tmp_path / "o"),
            "-q",
            "-p",
            "account_managers=00731,00812",
            "-p",
            "commission.rate=0.07",
            "--param",
            "period=FY2025-Q3",
            "--timeout",
            "5",
            "--resume",
            "--keep-work",
        ]
    )
    assert code == 0
    assert seen["overrides"] == {
        "account_managers": ["00731", "00812"],
        "commission": {"rate": "0.07"},
        "period": "FY2025-Q3",
        "timeout_s": "5.0",
    }
    assert seen["resume"] is True and seen["keep_work"] is True and seen["only_failed"] is False


@needs_demo
def test_cli_override_ids_keep_leading_zeros_and_bad_keys_get_a_suggestion(tmp_path, monkeypatch, capsys):
    _no_kernel_may_start(monkeypatch)
    code = main(["batch", str(_params(tmp_path)), "-o", str(tmp_path / "o"), "-q", "-p", "account_managers=00731"])
    err = capsys.readouterr().err
    assert code == 2 and "account manager '00731' is not in" in err
    code = main(["batch", str(_params(tmp_path)), "-o", str(tmp_path / "o"), "-q", "-p", "perod=FY2025-Q3"])
    err = capsys.readouterr().err
    assert code == 2 and "did you mean 'period'" in err and "Traceback" not in err
    code = main(["batch", str(_params(tmp_path)), "-o", str(tmp_path / "o"), "-q", "--timeout", "0"])
    assert code == 2 and "--timeout" in capsys.readouterr().err
    code = main(["batch", str(_params(tmp_path)), "-o", str(tmp_path / "o"), "-q", "-p", "timeout_s=soon"])
    assert code == 2 and "timeout_s" in capsys.readouterr().err


@needs_demo
@pytest.mark.slow
def test_hostile_report_ids_and_names_stay_inside_the_output_folder(tmp_path, monkeypatch):
    from conftest import build_dataset, quarterly_quotas

    ams = [
        ("../../etc/passwd", "Eve / Mallory", "../..:con"),
        ("con", "con", "../..:con"),
        ("am:7", "Bob", "../..:con"),
        ("AM:7", "bob", "../..:con"),
        ("x" * 200, "y" * 200, "../..:con"),
    ]
    deals = [(f"D{i}", a[0], "C1", "2025-05-10", 1_000_00 * (i + 1)) for i, a in enumerate(ams)]
    quotas = [q for a in ams for q in quarterly_quotas(a[0], 2025, 100_000_00)]
    ds = build_dataset(ams=[(a[0], a[1], a[2], None, None) for a in ams], deals=deals, quotas=quotas)
    from reportkit.domain import loading

    monkeypatch.setattr(loading, "load_source", lambda params: ds)
    out = tmp_path / "deep" / "out"
    result = run_batch(_params(tmp_path, as_of="2025-06-30", period="FY2025-Q4"), out, progress=False, jobs=2)
    assert result.failed == 0, [r.error for r in result.reports]
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix in (".ipynb", ".html", ".xlsx")]
    assert len(files) == 3 * 7 + 2 and all(out in p.parents for p in files)  # 5 AMs, a team, the company; index, company.xlsx
    rels = [r.outputs["html"] for r in result.reports]
    assert len({s.casefold() for s in rels}) == 7 and all(len(Path(s).stem) <= 80 for s in rels)
    assert not (tmp_path / "etc").exists() and not list(tmp_path.rglob("con.*"))


def test_as_of_before_the_period_is_refused_before_any_kernel(tmp_path, monkeypatch):
    _no_kernel_may_start(monkeypatch)
    params = _params(tmp_path, as_of="2024-06-30")
    with pytest.raises(ParamsError, match="before the period"):
        run_batch(params, tmp_path / "out", progress=False)


def test_kernel_start_failures_are_retried_but_cell_errors_are_not(monkeypatch):
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("Kernel died before replying to kernel_info")
        return "ran"

    monkeypatch.setattr(pm, "execute_notebook", flaky)
    assert engine.execute_with_retry("in.ipynb", "out.ipynb") == "ran" and len(calls) == 2

    cell_calls = []

    def cell_error(*args, **kwargs):
        cell_calls.append(1)
        raise PapermillExecutionError(3, 1, "ValueError: boom", "ValueError", "boom", [])

    monkeypatch.setattr(pm, "execute_notebook", cell_error)
    with pytest.raises(PapermillExecutionError):
        engine.execute_with_retry("in.ipynb", "out.ipynb")
    assert len(cell_calls) == 1


@pytest.mark.slow
def test_the_batch_papermill_engine_writes_the_same_notebook_as_papermill_s_stock_engine(tmp_path):
    """``run/papermill_engine.py`` writes the executing notebook less often; what it returns and
    what ends up on disk must be what Papermill's own nbclient engine gives, also
    when a cell fails (the final write happens after the error)."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    from reportkit.run import kernels

    def notebook(*sources):
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "reportkit", "display_name": "Python (reportkit)", "language": "python"}
        nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
        path = tmp_path / f"in-{len(list(tmp_path.glob('in-*')))}.ipynb"
        nbformat.write(nb, path)
        return path

    def run(path, engine_name):
        out = tmp_path / f"{path.stem}-{engine_name}.ipynb"
        try:
            returned = pm.execute_notebook(
                str(path),
                str(out),
                kernel_name="reportkit",
                progress_bar=False,
                engine_name=engine_name,
                kernel_manager_class=kernels.WarmKernelManager,
            )
        except PapermillExecutionError:
            returned = None
        on_disk = nbformat.read(out, as_version=4)
        outputs = [c.get("outputs") for c in on_disk.cells if c.cell_type == "code"]
        if returned is not None:
            assert [c.get("outputs") for c in returned.cells if c.cell_type == "code"] == outputs
        return [c.cell_type for c in on_disk.cells], outputs

    ok = notebook("print('one')", "from IPython.display import HTML\nHTML('<b>2</b>')", "3 * 7")
    failing = notebook("print('before')", "raise ValueError('boom')", "print('never')")
    ours = engine.register_engine()
    for path in (ok, failing):
        assert run(path, ours) == run(path, "nbclient")
    cell_types, outputs = run(failing, ours)
    assert cell_types[0] == "markdown"  # Papermill's error banner
    assert outputs[1][0]["ename"] == "ValueError" and outputs[2] == []


def test_the_batch_program_exits_with_its_code_after_flushing_its_output_and_leaves_no_temporary_folder(tmp_path):
    # the command spares its interpreter's last garbage collection (cli._exit_quickly); what a user
    # and a script read must still be complete: the last line on stdout, the manifest, the exit code
    # and no temporary folder of its own (multiprocessing's forkserver socket folder, Chromium's)
    params = demo_params(tmp_path, pdf={"enabled": False})
    # a short temporary folder of its own: the forkserver's socket path must fit AF_UNIX's 108 bytes,
    # which a pytest-xdist tmp_path does not leave room for
    tmp = Path(tempfile.mkdtemp(prefix="rk-exit-", dir="/tmp"))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "reportkit", "batch", str(params), "-o", str(out), "-q", "--no-cache", "--jobs", "2"]
    cmd += ["-p", "account_managers=AM-001", "-p", "reports=account_manager"]
    env = {**os.environ, "TMPDIR": str(tmp)}
    ran = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert ran.stdout.splitlines()[-1] == f"Reports: {out / 'index.html'}"
    manifest = json.loads((out / "manifest.json").read_text())
    assert [(r["id"], r["status"]) for r in manifest["reports"]] == [("AM-001", "ok")]
    try:
        assert sorted(p.name for p in tmp.iterdir()) == []
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_a_period_after_the_datas_last_deal_is_run_and_said_once_on_the_command_line_and_in_the_manifest(tmp_path, capsys):
    """Every figure of a period that begins after the export ends is zero because the data ends there: the
    reports run (each one's notes say so), and the batch warns, in the report notes' words, without failing."""
    params = demo_params(
        tmp_path,
        period="FY2031-Q1",
        as_of="2031-03-31",
        account_managers=["AM-001"],
        reports=["account_manager"],
        pdf={"enabled": False},
    )
    out = tmp_path / "out"
    assert main(["batch", str(params), "-o", str(out), "-q"]) == 0
    err = capsys.readouterr().err
    said = "reportkit: warning: No deals closed in FY2031-Q1: the data's last deal closed on 2025-12-29, before FY2031-Q1 began"
    assert err.count(said) == 1, err
    warnings = json.loads((out / "manifest.json").read_text())["batch"]["warnings"]
    assert (
        len(warnings) == 1
        and warnings[0].startswith("No deals closed in FY2031-Q1")
        and "check that the export is current" in warnings[0]
    )
