"""The committed templates: documented parameters cell, no outputs, thin cells."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import papermill as pm
import pytest

from reportkit.core.errors import TemplateError
from reportkit.reports.builders import REPORT_KINDS
from reportkit.run.batch import check_template

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "templates"

EXPECTED = {
    "account_manager": ["params_file", "account_manager_id", "period", "as_of", "report_data"],
    "team": ["params_file", "team", "period", "as_of", "report_data"],
    "company": ["params_file", "company", "period", "as_of", "report_data"],
}
# name: type = default  # help
PARAM_LINE = re.compile(r'^(?P<name>\w+): (?P<type>str) = (?P<default>"[^"]*")  # (?P<help>\S.*)$')


def _template(kind: str) -> Path:
    return TEMPLATES / REPORT_KINDS[kind].template


def _read(kind: str) -> nbformat.NotebookNode:
    return nbformat.read(_template(kind), as_version=4)


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_parameters_cell_is_written_as_name_type_default_help(kind):
    nb = _read(kind)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1 and cells[0].cell_type == "code"
    lines = [ln for ln in cells[0].source.splitlines() if ln.strip() and not ln.startswith("#")]
    names = []
    for line in lines:
        m = PARAM_LINE.match(line)
        assert m, f"{kind}: parameter line not in 'name: type = default  # help' form: {line!r}"
        names.append(m["name"])
    assert names == EXPECTED[kind]
    # papermill skips lines with two '=' signs, so the help text must not contain '='
    assert 'report_data: str = ""  # pickle written by reportkit batch; empty: compute from params_file' in lines
    assert 'period: str = "FY2025-Q4"' in cells[0].source and 'as_of: str = "2025-12-31"' in cells[0].source


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_papermill_documents_every_parameter_with_type_and_help(kind):
    inspected = pm.inspect_notebook(str(_template(kind)))
    assert list(inspected) == EXPECTED[kind]
    for name, info in inspected.items():
        assert info["inferred_type_name"] == "str", name
        assert info["help"], f"{name} has no help text"
    assert inspected["params_file"]["default"] == '"../params/demo.yaml"'


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_template_is_committed_without_outputs_on_the_reportkit_kernel(kind):
    nb = _read(kind)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "reportkit"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.id
    assert check_template(_template(kind)) is not None


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_cells_are_thin_no_arithmetic_no_today_no_full_dataset(kind):
    nb = _read(kind)
    code = "\n".join(ast.unparse(ast.parse(c.source)) for c in nb.cells if c.cell_type == "code")  # no comments
    assert "today(" not in code and "now(" not in code
    assert "load_dataset" not in code and "read_csv" not in code  # no full data in cells
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        for node in ast.walk(tree):
            assert not isinstance(node, (ast.BinOp, ast.AugAssign, ast.For, ast.While)), (
                f"{kind} cell {cell.id!r} computes in the notebook: {ast.unparse(node)}"
            )
    # exactly one call loads the report object
    assert code.count("load_report(") == 1


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_template_has_a_markdown_header_per_section(kind):
    headers = [ln for c in _read(kind).cells if c.cell_type == "markdown" for ln in c.source.splitlines() if ln.startswith("## ")]
    wanted = {
        "account_manager": [
            "Quarterly results",
            "Commission statement",
            "Account status",
            "Annual forecast",
            "Performance status",
        ],
        "team": [
            "Leaderboard",
            "Attainment distribution",
            "Quarterly results vs team quota",
            "Commission expense",
            "Forecast roll-up",
            "Performance watch",
        ],
        "company": [
            "Revenue vs quota by team",
            "Attainment across account managers",
            "Performance watch",
            "Annual forecast vs annual quota",
            "Pipeline coverage",
            "Win rate, deal size and sales cycle vs last year",
            "Account health",
            "Commission expense",
        ],
    }[kind]
    for section in wanted:
        assert f"## {section}" in headers


def test_template_without_parameters_cell_is_a_template_error(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    path = tmp_path / "no_parameters.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(TemplateError, match="no cell tagged 'parameters'"):
        check_template(path)
    with pytest.raises(TemplateError, match="does not exist"):
        check_template(tmp_path / "missing.ipynb")


def test_every_registered_report_kind_is_accepted_by_params_and_has_its_template_and_id_parameter():
    from reportkit.config.params import REPORT_KIND_NAMES
    from reportkit.reports import builders as reports
    from reportkit.run.batch import ID_PARAMETER, OUTPUT_FOLDERS

    # params cannot import the registry (it sits below reports.py): its list of names must be the registry's
    assert tuple(REPORT_KINDS) == REPORT_KIND_NAMES
    assert {k: v.folder for k, v in REPORT_KINDS.items()} == OUTPUT_FOLDERS
    for name, kind in REPORT_KINDS.items():
        assert kind.name == name and (TEMPLATES / kind.template).is_file()
        assert ID_PARAMETER[name] == kind.id_parameter in EXPECTED[name]
        assert callable(getattr(reports, kind.builder))
