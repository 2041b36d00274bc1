"""Golden notebooks: every template executed on the demo data, re-checked with nbval.

``tests/notebooks/`` holds reference runs of the templates made by Papermill with a
fixed parameter set (demo params, FY2025-Q4, as of 2025-12-31, ``report_data``
empty so the kernel builds the report itself). The test re-executes them with
``pytest --nbval`` and compares every output, sanitising only the volatile parts
(chart PNG bytes, memory addresses; see ``tests/nbval_sanitize.cfg``).

After a deliberate change to a template, the demo data or the domain numbers,
regenerate the references and review the diff::

    .venv/bin/python tests/test_nbval_templates.py
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "templates"
NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"
SANITIZE = Path(__file__).resolve().parent / "nbval_sanitize.cfg"
DEMO = ROOT / "params" / "demo.yaml"

COMMON = {"params_file": "../../params/demo.yaml", "period": "FY2025-Q4", "as_of": "2025-12-31", "report_data": ""}
REFERENCES = {
    "account_manager_AM-001.ipynb": ("account_manager.ipynb", {**COMMON, "account_manager_id": "AM-001"}),
    "team_team-north.ipynb": ("team.ipynb", {**COMMON, "team": "team-north"}),
    "company_company.ipynb": ("company.ipynb", {**COMMON, "company": "company"}),
}


def _strip_volatile_metadata(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop timings and papermill run data so a regeneration diff shows only outputs."""
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    return nb


def regenerate() -> None:
    """Re-run the templates into ``tests/notebooks/`` (reviewed and committed by hand)."""
    import papermill as pm

    NOTEBOOKS.mkdir(exist_ok=True)
    for name, (template, params) in REFERENCES.items():
        out = NOTEBOOKS / name
        nb = pm.execute_notebook(
            str(TEMPLATES / template),
            None,
            parameters=params,
            kernel_name="reportkit",
            cwd=str(NOTEBOOKS),
            progress_bar=False,
        )
        nbformat.write(_strip_volatile_metadata(nb), out)
        print(f"wrote {out.relative_to(ROOT)}")


def _code(nb: nbformat.NotebookNode) -> list[str]:
    tags = lambda c: set(c.metadata.get("tags", []))  # noqa: E731
    return [c.source for c in nb.cells if "injected-parameters" not in tags(c)]


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_reference_notebooks_match_the_current_templates(name):
    template, params = REFERENCES[name]
    ref = nbformat.read(NOTEBOOKS / name, as_version=4)
    assert _code(ref) == _code(nbformat.read(TEMPLATES / template, as_version=4)), (
        f"tests/notebooks/{name} is stale: run 'python tests/test_nbval_templates.py' and review the diff"
    )
    injected = [c for c in ref.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1
    for key, value in params.items():
        assert f'{key} = "{value}"' in injected[0].source
    outputs = [o for c in ref.cells if c.cell_type == "code" for o in c.outputs]
    assert outputs and not any(o.output_type == "error" for o in outputs)


@pytest.mark.slow
@pytest.mark.skipif(not DEMO.exists(), reason="params/demo.yaml not present")
@pytest.mark.parametrize("name", sorted(REFERENCES))  # one nbval run each: pytest-xdist spreads them
def test_templates_reproduce_the_reference_outputs_under_nbval(name):
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "--nbval",
        "-q",
        "-p",
        "no:cacheprovider",
        "--nbval-kernel-name",
        "reportkit",
        "--nbval-sanitize-with",
        str(SANITIZE),
        str(NOTEBOOKS / name),
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout


if __name__ == "__main__":
    regenerate()
