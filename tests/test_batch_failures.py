"""A batch survives reports that fail in every way a notebook can fail.

A cell error, a dead kernel (``os._exit`` / SIGKILL) and a hang past the per-report
timeout each fail only their own report: the reason is in manifest.json, the executed
notebook is kept with the error visible, no HTML or workbook is published for it (and
none from an earlier run stays next to it), the other reports are published and the
exit code is 1. Broken templates and missing kernels are refused before any kernel starts.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from demo_params import demo_params

from reportkit.cli import main
from reportkit.core.errors import KernelNotFoundError, TemplateError
from reportkit.run.batch import run_batch

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "params" / "demo.yaml"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "templates"
pytestmark = pytest.mark.skipif(not DEMO.exists(), reason="params/demo.yaml not present")


def _params(tmp_path: Path, **changes) -> Path:
    return demo_params(tmp_path, **changes)


def _templates(tmp_path: Path, edit) -> Path:
    """A copy of the real templates with ``edit(account_manager_notebook)`` applied."""
    tdir = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", tdir)
    nb = nbformat.read(tdir / "account_manager.ipynb", as_version=4)
    edit(nb)
    nbformat.write(nb, tdir / "account_manager.ipynb")
    return tdir


def _no_kernel_may_start(monkeypatch):
    import papermill

    def boom(*a, **k):  # pragma: no cover - only runs when the test fails
        raise AssertionError("a kernel was started before validation finished")

    monkeypatch.setattr(papermill, "execute_notebook", boom)


def test_template_without_parameters_cell_is_refused_before_any_kernel(tmp_path, monkeypatch):
    _no_kernel_may_start(monkeypatch)

    def untag(nb):
        for cell in nb.cells:
            cell.metadata.pop("tags", None)

    tdir = _templates(tmp_path, untag)
    with pytest.raises(TemplateError, match="no cell tagged 'parameters'"):
        run_batch(_params(tmp_path), tmp_path / "out", progress=False, template_dir=tdir)
    assert not (tmp_path / "out").exists()


def test_template_naming_a_missing_kernel_is_refused_once_before_any_kernel(tmp_path, monkeypatch, capsys):
    _no_kernel_may_start(monkeypatch)

    def rename(nb):
        nb.metadata["kernelspec"] = {"name": "no-such-kernel", "display_name": "x", "language": "python"}

    tdir = _templates(tmp_path, rename)
    with pytest.raises(KernelNotFoundError, match="no-such-kernel"):
        run_batch(_params(tmp_path), tmp_path / "out", progress=False, template_dir=tdir)
    monkeypatch.setenv("REPORTKIT_TEMPLATES", str(tdir))
    assert main(["batch", str(_params(tmp_path)), "-o", str(tmp_path / "out"), "-q"]) == 3
    err = capsys.readouterr().err
    assert err.count("no-such-kernel") == 2 and err.count("reportkit: error:") == 1  # message + hint, once


@pytest.mark.slow
def test_plan_crediting_that_disagrees_with_the_data_set_is_refused_before_any_report_runs(tmp_path, monkeypatch, capsys):
    """Issue #12: a territory-overlay plan on an owner-credited data set would pay on
    revenue the reports never show; the batch refuses it once, as bad input, naming both files."""
    _no_kernel_may_start(monkeypatch)
    params = _params(tmp_path, plan=str(ROOT / "params" / "plans" / "overlay_territory.yaml"))
    assert main(["batch", str(params), "-o", str(tmp_path / "out"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "overlay_territory.yaml" in err and "crediting.method" in err
    assert "demo.yaml" in err and "'crediting'" in err
    assert not (tmp_path / "out" / "account_managers").exists()


def test_a_batch_with_one_report_failing_in_each_way_still_completes_the_others(tmp_path, monkeypatch, capsys):
    cell = (FIXTURES / "fail_for_chosen_ids.py").read_text()
    tdir = _templates(tmp_path, lambda nb: nb.cells.insert(3, nbformat.v4.new_code_cell(cell)))
    monkeypatch.setenv("REPORTKIT_TEMPLATES", str(tdir))
    out = tmp_path / "out"
    folder = out / "account_managers"
    folder.mkdir(parents=True)
    # an earlier run's outputs for the reports that will fail now must not stay published
    for stem in ("am-002-bruno-baptiste", "am-003-chen-cheng", "am-005-emma-eriksen"):
        (folder / f"{stem}.html").write_text("old report from an earlier run")
        (folder / f"{stem}.xlsx").write_text("old workbook from an earlier run")
    ids = ["AM-001", "AM-002", "AM-003", "AM-004", "AM-005"]
    params = _params(tmp_path, account_managers=ids, reports=["account_manager"])

    code = main(["batch", str(params), "-o", str(out), "-q", "-j", "2", "--timeout", "15"])

    captured = capsys.readouterr()
    assert code == 1
    assert "5 account-manager, 0 team and 0 company reports: 1 ok, 4 failed" in captured.out
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["batch"]["timeout_s"] == 15
    by_id = {r["id"]: r for r in manifest["reports"]}
    assert by_id["AM-001"]["status"] == "ok" and sorted(by_id["AM-001"]["outputs"]) == ["html", "ipynb", "pdf", "xlsx"]
    expected = {
        "AM-002": ("RuntimeError: forced failure for the test", "RuntimeError"),
        "AM-003": ("DeadKernelError: the kernel died", "DeadKernelError"),
        "AM-004": ("DeadKernelError: the kernel died", "DeadKernelError"),
        "AM-005": ("Timeout: the report ran longer than its timeout of 15 s", "Timeout"),
    }
    # a dead kernel says how it ended: its exit code or signal and, for a kill, what that usually means
    assert "(exit code 1" in by_id["AM-003"]["error"], by_id["AM-003"]["error"]
    assert "(killed by SIGKILL" in by_id["AM-004"]["error"] and "out-of-memory killer" in by_id["AM-004"]["error"]
    for am, (reason, ename) in expected.items():
        entry = by_id[am]
        assert entry["status"] == "failed", am
        assert entry["error"].startswith(reason), (am, entry["error"])
        assert "(cell " in entry["error"]
        assert list(entry["outputs"]) == ["ipynb"], am
        assert entry["id"] in captured.err  # the CLI lists every failure
        kept = nbformat.read(out / entry["outputs"]["ipynb"], as_version=4)
        errors = [o for c in kept.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
        assert any(e.ename == ename for e in errors), am
        banner_tags = set(kept.cells[0].metadata.get("tags", []))  # papermill's banner, or ours
        assert banner_tags & {"papermill-error-cell-tag", "reportkit-error"}, am
        stem = Path(entry["outputs"]["ipynb"]).stem
        assert not (folder / f"{stem}.html").exists() and not (folder / f"{stem}.xlsx").exists()
    assert by_id["AM-005"]["duration_s"] < 60
    # the failed reports' pickles stay for debugging, the successful one's is gone
    assert sorted(p.name for p in (out / ".work").glob("*.pkl")) == sorted(
        f"account_manager-{Path(by_id[a]['outputs']['ipynb']).stem}.pkl" for a in expected
    )
    index = (out / "index.html").read_text()
    assert index.count('class="failed"') == 4

    # --only-failed re-runs just those four (they fail again) and keeps AM-001 as it was
    html_before = (out / by_id["AM-001"]["outputs"]["html"]).read_bytes()
    code = main(["batch", str(params), "-o", str(out), "-q", "-j", "2", "--timeout", "6", "--only-failed"])
    assert code == 1
    again = {r["id"]: r for r in json.loads((out / "manifest.json").read_text())["reports"]}
    assert again["AM-001"]["reused"] is True and again["AM-001"]["status"] == "ok"
    assert all(again[a]["status"] == "failed" and not again[a]["reused"] for a in expected)
    assert again["AM-005"]["error"].startswith("Timeout: the report ran longer than its timeout of 6 s")
    assert (out / by_id["AM-001"]["outputs"]["html"]).read_bytes() == html_before


def test_ctrl_c_while_the_batch_command_imports_prints_one_line_and_exits_130(tmp_path, monkeypatch, capsys):
    import reportkit.cli

    def ctrl_c(*args):  # the last step before run_batch: the imports above it take seconds on a busy machine
        raise KeyboardInterrupt

    monkeypatch.setattr(reportkit.cli, "_batch_overrides", ctrl_c)
    assert main(["batch", str(demo_params(tmp_path)), "-o", str(tmp_path / "out"), "-q"]) == 130
    assert capsys.readouterr().err == "reportkit: interrupted before any report ran\n"


def test_a_failure_line_names_kind_id_and_name_without_repeating_the_companys_kind_as_its_id():
    from reportkit.run.results import ReportResult

    assert (
        ReportResult("account_manager", "AM-001", "Alice Andersen", "Team North").who == "account_manager AM-001 (Alice Andersen)"
    )
    assert ReportResult("team", "team-north", "Team North", "Team North").who == "team team-north (Team North)"
    assert ReportResult("company", "company", "Demo Co", "").who == "company (Demo Co)"  # was "company company (Demo Co)"
