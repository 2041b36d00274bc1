"""reportkit's own processes skip jsonschema's optional format checkers (the IRI grammar alone about 1.5 s CPU
each); a caller's process keeps them.

:mod:`reportkit.run.startup`: the ``reportkit`` command and each report worker
block the optional imports (``UNUSED_FORMAT_CHECKERS``: ``rfc3987_syntax``, ``webcolors``, ...)
before nbformat loads jsonschema; notebooks still validate; importing reportkit changes
nothing in the importer.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "templates" / "account_manager.ipynb"
LOADED = (  # which of the format checkers' libraries the process holds
    "from reportkit.run.startup import UNUSED_FORMAT_CHECKERS as U; print(sorted(n for n in U if sys.modules.get(n) is not None))"
)


def run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout.strip()


pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("rfc3987_syntax") is None, reason="rfc3987_syntax is not installed: nothing to skip"
)


def test_a_report_worker_validates_notebooks_without_loading_the_format_checkers():
    code = (
        "import sys; from reportkit.run.startup import worker_init; worker_init(False); "
        f"import nbformat; nbformat.validate(nbformat.read({str(TEMPLATE)!r}, as_version=4)); {LOADED}"
    )
    assert run(code) == "[]"


def test_the_reportkit_command_skips_the_format_checkers():
    code = (
        "import sys; from reportkit.cli import main; "
        "main(['batch', '/nonexistent/params.yaml', '-o', '/nonexistent/out']); "
        f"import nbformat; {LOADED}"
    )
    assert run(code) == "[]"


def test_importing_the_batch_leaves_the_callers_jsonschema_as_it_was():
    assert "'rfc3987_syntax'" in run(f"import sys; import reportkit.run.batch; import jsonschema; {LOADED}")


def test_no_notebook_schema_asks_for_a_format_the_skipped_checkers_would_check():
    # nbformat's validator has no format checker; and its schemas name no such format
    import nbformat

    schemas = Path(nbformat.__file__).parent.glob("v4/*.schema.json")
    assert not any(re.search(r'"format"\s*:\s*"', p.read_text()) for p in schemas)
