"""Every notebook in notebooks/ runs (Papermill) and reproduces its outputs (nbval);
JupyterLab starts and offers the reportkit kernel.

Notebooks are committed without outputs. Each is executed into ``tmp_path`` with
absolute paths as parameters (so the executed copy runs from any folder), then
nbval re-runs the executed copies and compares every output, after sanitizing
only what is volatile: memory addresses, widget model ids, pandas Styler ids
and PNG bytes.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from datasets import DATA, SKIP_REASON

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
VENV_BIN = Path(sys.executable).parent
KERNEL = "reportkit"

pytestmark = pytest.mark.slow

#: Parameters each notebook accepts, as absolute paths (only those it declares are passed).
ABSOLUTE = {
    "params_file": None,  # per notebook, below
    "data_dir": str(DATA),
    "sources_dir": str(ROOT / "params" / "sources"),
}
PARAMS_FILE = {
    "explorer.ipynb": ROOT / "params" / "demo.yaml",
    "maven_win_rates.ipynb": ROOT / "params" / "maven_crm.yaml",
    "adventureworks_targets.ipynb": ROOT / "params" / "adventureworks.yaml",
}

SANITIZE = r"""
[memory-address]
regex: 0x[0-9a-fA-F]{6,}
replace: 0x<ADDRESS>

[png-data-url]
regex: data:image/png;base64,[A-Za-z0-9+/=]+
replace: data:image/png;base64,<PNG>

[widget-model-id]
regex: [0-9a-f]{32}
replace: <MODEL-ID>

[styler-id]
regex: T_[0-9a-f]{5}
replace: T_<ID>
"""


def _declared_parameters(path: Path) -> set[str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            src = "".join(cell["source"])
            return {line.split(":")[0].strip() for line in src.splitlines() if ":" in line and not line.startswith("#")}
    return set()


def _output_text(path: Path) -> str:
    nb = json.loads(path.read_text(encoding="utf-8"))
    parts = []
    for cell in nb["cells"]:
        for o in cell.get("outputs", []):
            parts.append("".join(o.get("text", "")))
            parts.extend("".join(v) if isinstance(v, list) else str(v) for v in o.get("data", {}).values())
    return "\n".join(parts)


def test_every_notebook_has_a_parameters_cell_and_no_outputs():
    assert NOTEBOOKS, "no notebooks found"
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text(encoding="utf-8"))
        assert _declared_parameters(path), f"{path.name}: no cell tagged 'parameters'"
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert not cell.get("outputs") and cell.get("execution_count") is None, f"{path.name}: committed with outputs"
                code = "\n".join(line.split("#")[0] for line in "".join(cell["source"]).splitlines())
                assert "today(" not in code and "now(" not in code, f"{path.name}: calls today() / now()"


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> dict[str, Path]:
    import papermill as pm

    out_dir = tmp_path_factory.mktemp("executed")
    done: dict[str, Path] = {}
    for path in NOTEBOOKS:
        declared = _declared_parameters(path)
        params = {k: v for k, v in ABSOLUTE.items() if k in declared and v is not None}
        if "params_file" in declared and path.name in PARAMS_FILE:
            params["params_file"] = str(PARAMS_FILE[path.name])
        out = out_dir / path.name
        pm.execute_notebook(
            str(path),
            str(out),
            parameters=params,
            kernel_name=KERNEL,
            cwd=str(path.parent),
            progress_bar=False,
            execution_timeout=300,
        )
        done[path.name] = out
    return done


@pytest.mark.parametrize("name", [p.name for p in NOTEBOOKS])
def test_notebook_executes_without_errors(executed, name):
    nb = json.loads(executed[name].read_text(encoding="utf-8"))
    errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert not errors, errors
    shown = [o for c in nb["cells"] for o in c.get("outputs", []) if o["output_type"] in ("display_data", "execute_result")]
    assert shown, f"{name}: shows nothing"


def test_explorer_saves_widget_state_and_a_static_snapshot(executed):
    nb = json.loads(executed["explorer.ipynb"].read_text(encoding="utf-8"))
    state = nb["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    values = " ".join(str(m["state"].get("value", "")) for m in state.values())
    assert "Commission statement" in values  # the HTML widgets' tables are saved
    last = next(o for o in nb["cells"][-1]["outputs"] if "data" in o)["data"]["text/html"]
    for part in ("Alice Andersen (AM-001)", "<table", "What if"):
        assert part in "".join(last)


@pytest.mark.skipif(not DATA.is_dir(), reason=SKIP_REASON)
@pytest.mark.parametrize("name", ["maven_win_rates.ipynb", "adventureworks_targets.ipynb"])
def test_worked_analyses_use_the_data_when_present(executed, name):
    text = _output_text(executed[name])
    assert "not found" not in text and "<table" in text


@pytest.mark.parametrize("name", ["maven_win_rates.ipynb", "adventureworks_targets.ipynb"])
def test_worked_analyses_skip_cleanly_without_data(tmp_path, name):
    import papermill as pm

    path = ROOT / "notebooks" / name
    out = tmp_path / name
    pm.execute_notebook(
        str(path),
        str(out),
        parameters={"data_dir": str(tmp_path / "nothing"), "params_file": str(PARAMS_FILE[name])},
        kernel_name=KERNEL,
        cwd=str(path.parent),
        progress_bar=False,
        execution_timeout=120,
    )
    text = _output_text(out)
    assert "data not found" in text and "analysis skipped" in text


@pytest.mark.skipif(not DATA.is_dir(), reason=SKIP_REASON)
@pytest.mark.parametrize("parameter", ["REPORTKIT_DATA_DIR", "data_dir"])
def test_maven_analysis_reads_the_data_folder_the_source_mapping_reads(tmp_path, monkeypatch, parameter):
    """A clone not beside ../shared/data sets REPORTKIT_DATA_DIR (README), or passes data_dir:
    the notebook checks and reads the folder its params' source mapping reads, not one of its own."""
    import shutil

    import papermill as pm

    (tmp_path / "params" / "sources").mkdir(parents=True)  # a clone whose ../../shared/data is absent
    shutil.copy(ROOT / "params" / "maven_crm.yaml", tmp_path / "params")
    shutil.copy(ROOT / "params" / "sources" / "maven_crm.yaml", tmp_path / "params" / "sources")
    (tmp_path / "notebooks").mkdir()
    parameters = {"params_file": str(tmp_path / "params" / "maven_crm.yaml")}
    monkeypatch.delenv("REPORTKIT_DATA_DIR", raising=False)
    if parameter == "REPORTKIT_DATA_DIR":
        monkeypatch.setenv("REPORTKIT_DATA_DIR", str(DATA))
    else:
        parameters["data_dir"] = str(DATA)
    out = tmp_path / "maven_win_rates.ipynb"
    pm.execute_notebook(
        str(ROOT / "notebooks" / "maven_win_rates.ipynb"),
        str(out),
        parameters=parameters,
        kernel_name=KERNEL,
        cwd=str(tmp_path / "notebooks"),
        progress_bar=False,
        execution_timeout=300,
    )
    text = _output_text(out)
    assert "not found" not in text and "6,711 closed deals" in text


def test_nbval_reproduces_the_executed_notebooks(executed, tmp_path):
    cfg = tmp_path / "sanitize.cfg"
    cfg.write_text(SANITIZE, encoding="utf-8")
    ini = tmp_path / "pytest.ini"
    ini.write_text("[pytest]\n", encoding="utf-8")
    files = [str(p) for p in executed.values()]
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-c",
            str(ini),
            "--rootdir",
            str(tmp_path),
            "-p",
            "no:cacheprovider",
            "--nbval",
            "--nbval-sanitize-with",
            str(cfg),
            "--nbval-kernel-name",
            KERNEL,
            "--nbval-cell-timeout",
            "300",
            *files,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-2000:]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_jupyter_lab_starts_and_lists_the_reportkit_kernel(tmp_path):
    port = _free_port()
    log = (tmp_path / "lab.log").open("w")
    proc = subprocess.Popen(
        [
            str(VENV_BIN / "jupyter"),
            "lab",
            "--no-browser",
            f"--port={port}",
            "--ServerApp.token=",
            "--ServerApp.password=",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.root_dir={ROOT}",
        ]
        + (["--allow-root"] if os.geteuid() == 0 else []),
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
        env={**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")},
    )
    try:
        deadline = time.monotonic() + 60
        specs = None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/kernelspecs", timeout=2) as resp:
                    specs = json.loads(resp.read())
                    break
            except OSError:
                time.sleep(0.5)
        assert specs is not None, (tmp_path / "lab.log").read_text()[-3000:]
        assert KERNEL in specs["kernelspecs"], sorted(specs["kernelspecs"])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab", timeout=10) as resp:
            assert resp.status == 200
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
