"""reportkit's own processes skip jsonschema's IRI grammar (about 1.5 s CPU each); a caller's process keeps it.

:mod:`reportkit.run.startup`: the ``reportkit`` command and each report worker
block the optional ``rfc3987_syntax`` import before nbformat loads jsonschema;
notebooks still validate; importing reportkit changes nothing in the importer.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "templates" / "account_manager.ipynb"
LOADED = "m = sys.modules.get('rfc3987_syntax'); print(m is not None)"


def run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout.strip()


pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("rfc3987_syntax") is None, reason="rfc3987_syntax is not installed: nothing to skip"
)


def test_a_report_worker_validates_notebooks_without_loading_the_iri_grammar():
    code = (
        "import sys; from reportkit.run.startup import worker_init; worker_init(False); "
        f"import nbformat; nbformat.validate(nbformat.read({str(TEMPLATE)!r}, as_version=4)); {LOADED}"
    )
    assert run(code) == "False"


def test_the_reportkit_command_skips_the_iri_grammar():
    code = (
        "import sys; from reportkit.cli import main; "
        "main(['batch', '/nonexistent/params.yaml', '-o', '/nonexistent/out']); "
        f"import nbformat; {LOADED}"
    )
    assert run(code) == "False"


def test_importing_the_batch_leaves_the_callers_jsonschema_as_it_was():
    assert run(f"import sys; import reportkit.run.batch; import jsonschema; {LOADED}") == "True"
