"""Your own report kinds (issue #15 part 1): declared in params, checked before any kernel, run like the built-in ones."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import openpyxl
import pytest
import yaml
from batch_contexts import batch_contexts
from demo_params import demo_params

from reportkit.cli import main
from reportkit.config.params import RESERVED_KIND_NAMES, load_params
from reportkit.core.errors import ParamsError
from reportkit.reports.builders import (
    REPORT_KINDS,
    batch_kinds,
    build_account_report,
    build_report,
    plan_reports,
)
from reportkit.run.new_template import new_template

ROOT = Path(__file__).resolve().parents[1]
PAPERMILL = Path(sys.executable).with_name("papermill")
CHROMIUM = Path("/usr/bin/chromium")
DEMO = ROOT / "params" / "demo.yaml"


def _project(tmp_path: Path, kinds: dict, reports: list[str], **changes) -> Path:
    """A params file in ``tmp_path`` (the project) declaring ``kinds``; demo data, no PDFs."""
    return demo_params(tmp_path, report_kinds=kinds, reports=reports, pdf={"enabled": False}, **changes)


def _starter(tmp_path: Path, name: str = "pipeline_review", per: str = "account_manager", **kw) -> Path:
    """The starter template of ``name`` beside ``tmp_path/params.yaml`` (the demo params, written first when missing)."""
    if not (tmp_path / "params.yaml").exists():
        demo_params(tmp_path, pdf={"enabled": False})
    return new_template(name, per, params_file=tmp_path / "params.yaml", **kw).path


def _kind(template: str = "templates/pipeline_review.ipynb", **changes) -> dict:
    spec = {
        "template": template,
        "per": "account_manager",
        "title": "Pipeline review",
        "parameters": {"min_amount": {"type": "decimal", "default": "15000.00"}},
    }
    return {**spec, **changes}


def _no_kernel_may_start(monkeypatch):
    import papermill

    def boom(*a, **k):  # pragma: no cover - only runs when the test fails
        raise AssertionError("a kernel was started before validation finished")

    monkeypatch.setattr(papermill, "execute_notebook", boom)


def _batch_exit(params: Path, out: Path, capsys, *extra: str) -> tuple[int, str]:
    code = main(["batch", str(params), "-o", str(out), "-q", *extra])
    return code, capsys.readouterr().err


# -- bad input: refused before anything runs, exit 2 -----------------------------------


def test_an_unknown_kind_name_in_reports_is_refused_with_its_line_and_the_closest_kind(tmp_path, capsys, monkeypatch):
    _no_kernel_may_start(monkeypatch)
    _starter(tmp_path)
    params = _project(tmp_path, {"pipeline_review": _kind()}, ["account_manager", "pipeline_reveiw"])
    code, err = _batch_exit(params, tmp_path / "out", capsys)
    assert code == 2
    assert "line" in err and "'reports.1'" in err and "'pipeline_reveiw'" in err
    assert "did you mean 'pipeline_review'" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", sorted(RESERVED_KIND_NAMES))
def test_a_declared_kind_named_like_a_built_in_kind_or_its_folder_is_refused(tmp_path, capsys, name):
    _starter(tmp_path)
    params = _project(tmp_path, {name: _kind()}, ["account_manager"])
    code, err = _batch_exit(params, tmp_path / "out", capsys)
    assert code == 2
    assert f"report_kinds.{name}" in err and "built-in report kind" in err and f"{name}_custom" in err


def test_the_reserved_names_are_every_built_in_kind_and_output_folder():
    assert {k.name for k in REPORT_KINDS.values()} | {k.folder for k in REPORT_KINDS.values()} == RESERVED_KIND_NAMES


@pytest.mark.parametrize("case", ["dot_dot", "absolute_elsewhere", "symlink_out", "dot_dot_to_a_file_not_a_notebook"])
def test_a_template_outside_the_project_folder_is_refused(tmp_path, capsys, case):
    # ../../etc/passwd was refused as "not a notebook": the message named a lesser reason (the trial)
    project = tmp_path / "project"
    project.mkdir()
    outside = new_template("pipeline_review", "account_manager", params_file=DEMO, output=tmp_path / "elsewhere" / "t.ipynb").path
    template = {
        "dot_dot": "../elsewhere/t.ipynb",
        "absolute_elsewhere": str(outside),
        "symlink_out": "templates/link.ipynb",
        "dot_dot_to_a_file_not_a_notebook": "../../etc/passwd",
    }[case]
    if case == "symlink_out":
        (project / "templates").mkdir()
        os.symlink(outside, project / "templates" / "link.ipynb")
    params = _project(project, {"pipeline_review": _kind(template)}, ["pipeline_review"])
    code, err = _batch_exit(params, tmp_path / "out", capsys)
    assert code == 2
    assert "report_kinds.pipeline_review.template" in err
    assert f"outside the project folder {str(project.resolve())!r}" in err
    assert "not a notebook" not in err


def _with_parameters_cell(path: Path, cell: str) -> None:
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source = cell
    nbformat.write(nb, path)


_CELL = (
    'params_file: str = ""\naccount_manager_id: str = "AM-001"\nperiod: str = "FY2025-Q4"\n'
    'as_of: str = "2025-12-31"\nreport_data: str = ""\n'
)


@pytest.mark.parametrize(
    "extra, message",
    [
        (
            'min_amount: str = "0"\nregion: str = "West"  # not declared',
            "parameter 'region' is not declared; add it to params report_kinds.pipeline_review.parameters",
        ),
        ("", "parameter 'min_amount' is missing from the parameters cell; add the line 'min_amount: str = ...  # help'"),
        (
            "min_amount: float = 0.0",
            "parameter 'min_amount' is annotated 'float' but is declared decimal; write it 'min_amount: str = \"15000.00\"', "
            "or declare it as the template has it (params report_kinds.pipeline_review.parameters.min_amount.type)",
        ),
        ("min_amount = 0", "parameter 'min_amount' is annotated no type but is declared decimal"),
    ],
    ids=["unknown", "missing", "mistyped", "untyped"],
)
def test_a_parameters_cell_that_does_not_match_the_declaration_exits_2_before_any_kernel(
    tmp_path, capsys, monkeypatch, extra, message
):
    _no_kernel_may_start(monkeypatch)
    _with_parameters_cell(_starter(tmp_path), _CELL + extra)
    params = _project(tmp_path, {"pipeline_review": _kind()}, ["pipeline_review"])
    code, err = _batch_exit(params, tmp_path / "out", capsys)
    assert code == 2
    assert "template 'pipeline_review.ipynb' (report kind 'pipeline_review')" in err
    assert message in err


def test_a_mistyped_declared_default_names_its_key_and_the_fix(tmp_path):
    _starter(tmp_path)
    params = _project(tmp_path, {"pipeline_review": _kind(parameters={"min_amount": {"type": "decimal", "default": 0.1}})}, [])
    with pytest.raises(ParamsError) as info:
        load_params(params)
    assert "report_kinds.pipeline_review.parameters.min_amount.default" in info.value.message
    assert 'write it as quoted text, e.g. "0.05"' in info.value.message


def test_new_template_refuses_a_built_in_kind_name_with_exit_2(tmp_path, capsys):
    assert main(["new-template", "team", "--per", "team", "--params", str(tmp_path / "p.yaml")]) == 2
    assert "'team' is a built-in report kind" in capsys.readouterr().err
    assert not (tmp_path / "templates").exists()


def test_new_template_refuses_a_params_file_that_does_not_exist_with_exit_2_and_writes_nothing(tmp_path, capsys):
    # it wrote templates/pipeline_review.ipynb beside a params file that is not there, and exited 0 (the trial)
    missing = tmp_path / "does-not-exist.yaml"
    assert main(["new-template", "pipeline_review", "--per", "account_manager", "--params", str(missing)]) == 2
    captured = capsys.readouterr()
    assert f"params file {str(missing)!r} does not exist" in captured.err and "--params" in captured.err
    assert captured.out == "" and list(tmp_path.iterdir()) == []


def test_batch_help_points_to_declared_report_kinds(capsys):
    # `reportkit batch --help` did not mention report_kinds: (the trial)
    with pytest.raises(SystemExit) as info:
        main(["batch", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert info.value.code == 0
    assert "report_kinds:" in text and "docs/templates.md" in text and "reportkit new-template" in text


# -- the starter template ----------------------------------------------------------------


@pytest.mark.parametrize("per", ["account_manager", "team", "account", "company"])
def test_new_template_writes_a_parameters_cell_papermill_reads_and_no_outputs(tmp_path, per):
    path = _starter(tmp_path, per=per)
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    code = "\n".join(line.split("#")[0] for c in nb.cells if c.cell_type == "code" for line in c.source.splitlines())
    assert "today(" not in code and "now(" not in code
    helped = subprocess.run([str(PAPERMILL), "--help-notebook", str(path)], capture_output=True, text=True, timeout=120)
    assert helped.returncode == 0, helped.stderr
    declared = _kind()["parameters"] if per in ("account_manager", "account") else {}  # the starter's deals filter
    spec = _kind(f"templates/{path.name}", per=per, parameters=declared)
    kind = batch_kinds(load_params(_project(tmp_path, {"k": spec}, [])))["k"]
    for name in kind.expected_parameters():
        assert re.search(rf"^\s+{name}: str \(default ", helped.stdout, re.M), (name, helped.stdout)


@pytest.mark.parametrize("per", ["account_manager", "team", "account", "company"])
def test_the_starters_text_for_the_reader_names_no_parameter(tmp_path, per):
    # "of at least the template's `min_amount`" reached the reader's page (the trial)
    nb = nbformat.read(_starter(tmp_path, per=per), as_version=4)
    cell = nb.cells[0].source.splitlines()  # its parameter names; "period" is a plain word too
    names = [n for line in cell if "_" in (n := line.split(":")[0].strip()) and not line.startswith("#")]
    for cell in (c for c in nb.cells if c.cell_type == "markdown"):
        assert "`" not in cell.source and "template's" not in cell.source, cell.source
        assert not [n for n in names if n in cell.source], (names, cell.source)


def test_new_template_prints_the_params_snippet_that_declares_it(tmp_path, capsys):
    params = demo_params(tmp_path, pdf={"enabled": False})
    assert main(["new-template", "pipeline_review", "--per", "account_manager", "--params", str(params)]) == 0
    out = capsys.readouterr().out
    snippet = yaml.safe_load(out.split(":\n\n", 1)[1])
    assert snippet["report_kinds"]["pipeline_review"]["template"] == "templates/pipeline_review.ipynb"
    assert snippet["reports"][-1] == "pipeline_review"
    demo_params(tmp_path, **snippet, pdf={"enabled": False})
    assert load_params(params).report_kinds["pipeline_review"].parameters["min_amount"].value() == "0"


# -- the account report: its account manager's figures -----------------------------------


def test_an_account_report_shows_its_account_managers_row_and_deals(tmp_path):
    params = load_params(demo_params(tmp_path))
    from reportkit.domain.loading import load_source

    ds = load_source(params)
    with batch_contexts(params):
        am = build_report(ds, params, kind="account_manager", report_id="AM-001", period=params.period, as_of=params.as_of)
        row = am.accounts.iloc[0]
        acc = build_account_report(ds, str(row["account_id"]), params.period, params, params.as_of)
    assert acc.account_manager_id == "AM-001" and acc.name == row["account_name"]
    assert acc.summary["revenue_period"] == row["revenue_period"] and acc.summary["status"] == row["status"]
    assert acc.deals["deal_id"].tolist() == am.deals.loc[am.deals["account_id"] == row["account_id"], "deal_id"].tolist()


def test_a_per_account_kind_plans_each_account_of_the_reported_managers_once(tmp_path):
    _starter(tmp_path, "account_plan", "account")
    params = load_params(
        _project(tmp_path, {"account_plan": _kind("templates/account_plan.ipynb", per="account")}, ["account_plan"])
    )
    params = params.model_copy(update={"account_managers": ("AM-001", "AM-002")})
    from reportkit.domain.loading import load_source

    ds = load_source(params)
    with batch_contexts(params):
        specs = plan_reports(ds, params)
        am = {
            a: build_report(ds, params, kind="account_manager", report_id=a, period=params.period, as_of=params.as_of)
            for a in ("AM-001", "AM-002")
        }
    ids = [s.id for s in specs]
    assert len(ids) == len(set(ids)) and all(s.kind == "account_plan" for s in specs)
    assert set(ids) == set(am["AM-001"].accounts["account_id"]) | set(am["AM-002"].accounts["account_id"])


# -- a declared kind in a batch ---------------------------------------------------------------

_FAIL_FOR_AM_002 = 'assert account_manager_id != "AM-002", "this template refuses AM-002"'


def _declared_batch_params(root: Path) -> Path:
    path = _starter(root, workbook=True)
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(1, nbformat.v4.new_code_cell(_FAIL_FOR_AM_002))
    nbformat.write(nb, path)
    kind = _kind(formats=["html", "xlsx"])
    return _project(root, {"pipeline_review": kind}, ["pipeline_review"], account_managers=["AM-001", "AM-002"])


@pytest.fixture(scope="module")
def declared_batch(tmp_path_factory):
    """A batch of the new-template starter (per account manager, writing its workbook) for AM-001 and AM-002,
    whose template fails for AM-002; returns (params, out, exit code, manifest)."""
    root = tmp_path_factory.mktemp("declared")
    params = _declared_batch_params(root)
    out = root / "out"
    code = main(["batch", str(params), "-o", str(out), "-q", "-j", "2"])
    return params, out, code, json.loads((out / "manifest.json").read_text())


def _entry(manifest: dict, report_id: str) -> dict:
    return next(r for r in manifest["reports"] if r["kind"] == "pipeline_review" and r["id"] == report_id)


@pytest.mark.slow
def test_a_declared_kind_publishes_its_notebook_html_and_the_workbook_its_template_wrote(declared_batch):
    _, out, _, manifest = declared_batch
    ok = _entry(manifest, "AM-001")
    assert ok["status"] == "ok" and set(ok["outputs"]) == {"ipynb", "html", "xlsx"}
    assert all((out / p).is_file() for p in ok["outputs"].values())
    assert ok["outputs"]["html"].startswith("pipeline_review/")
    assert ok["parameters"]["min_amount"] == "15000.00"
    book = openpyxl.load_workbook(out / ok["outputs"]["xlsx"])
    assert "Summary" in book.sheetnames
    assert manifest["batch"]["counts"]["pipeline_review"] == 2


@pytest.mark.slow
def test_one_failing_declared_report_does_not_stop_the_batch(declared_batch):
    _, out, code, manifest = declared_batch
    failed = _entry(manifest, "AM-002")
    assert code == 1
    assert failed["status"] == "failed" and "this template refuses AM-002" in failed["error"]
    assert set(failed["outputs"]) == {"ipynb"} and (out / failed["outputs"]["ipynb"]).is_file()
    assert _entry(manifest, "AM-001")["status"] == "ok"


@pytest.mark.slow
def test_the_index_links_a_declared_kinds_reports_under_their_title(declared_batch):
    _, out, _, manifest = declared_batch
    index = (out / "index.html").read_text()
    html = _entry(manifest, "AM-001")["outputs"]["html"]
    assert f'<a href="{html}">' in index
    assert "<td>Pipeline review</td>" in index


@pytest.mark.slow
def test_the_manifest_gives_a_declared_report_its_kinds_title_for_the_delivery_email(declared_batch):
    # reportkit deliver names each report by this title ("Alice Andersen (Pipeline review)"), not by the kind's name
    params, _, _, manifest = declared_batch
    assert _entry(manifest, "AM-001")["title"] == "Pipeline review" == load_params(params).report_kinds["pipeline_review"].title


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")
def test_chromium_shows_the_declared_parameters_value_and_the_kinds_title(declared_batch, tmp_path):
    _, out, _, manifest = declared_batch
    page = out / _entry(manifest, "AM-001")["outputs"]["html"]
    from test_browser import _dump_dom

    dom = _dump_dom(page, tmp_path)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", dom))
    assert "Deals of at least $15,000.00" in text
    assert "Pipeline review: Alice Andersen (AM-001)" in text


@pytest.mark.slow
def test_resume_skips_an_unchanged_declared_report_and_reruns_it_when_its_template_changes(declared_batch, capsys):
    params, out, _, _ = declared_batch
    main(["batch", str(params), "-o", str(out), "-q", "--resume", "-j", "1"])
    again = json.loads((out / "manifest.json").read_text())
    assert _entry(again, "AM-001")["reused"] is True
    assert _entry(again, "AM-002")["reused"] is False  # it failed: run again

    template = params.parent / "templates" / "pipeline_review.ipynb"
    nb = nbformat.read(template, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("A note added to the template."))
    nbformat.write(nb, template)
    main(["batch", str(params), "-o", str(out), "-q", "--resume", "-j", "1"])
    changed = json.loads((out / "manifest.json").read_text())
    assert _entry(changed, "AM-001")["reused"] is False and _entry(changed, "AM-001")["status"] == "ok"
    assert "A note added to the template." in (out / _entry(changed, "AM-001")["outputs"]["html"]).read_text()
    capsys.readouterr()


def test_the_counts_line_names_a_declared_kind_by_its_title_and_drops_built_in_zeros_when_only_it_ran(tmp_path):
    # "11 pipeline_review reports" and "0 account-manager, 0 team, 0 company and 1 ..." (the trial)
    from reportkit.run.results import BatchResult, ReportResult

    def res(kind, title="", status="ok"):
        return ReportResult(kind=kind, id="x", name="x", team="t", status=status, kind_title=title)

    only = BatchResult(tmp_path, tmp_path / "m.json", tmp_path / "i.html", [res("pipeline_review", "Pipeline review")] * 2)
    assert only.counts_line() == "2 Pipeline review reports: 2 ok, 0 failed"
    mixed = BatchResult(
        tmp_path, tmp_path / "m.json", tmp_path / "i.html", [res("account_manager"), res("pipeline_review", "Pipeline review")]
    )
    assert mixed.counts_line() == "1 account-manager, 0 team, 0 company and 1 Pipeline review reports: 2 ok, 0 failed"
