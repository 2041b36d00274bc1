"""``ruff check`` finds nothing in the package, the tests and the benchmarks.

The rule set is in ``pyproject.toml`` (``[tool.ruff.lint]``, each ignored rule with
its reason), and ``ruff format --check`` keeps the layout ``ruff format`` gives. Run with the venv's own ``ruff`` so ``make test``
checks the same thing on every machine.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing_to_fix():
    ruff = Path(sys.executable).parent / "ruff"
    r = subprocess.run(
        [str(ruff), "check", "--no-cache", "src", "tests", "benchmarks"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_code_is_laid_out_as_ruff_format_lays_it_out():
    ruff = Path(sys.executable).parent / "ruff"
    r = subprocess.run(
        [str(ruff), "format", "--check", "--no-cache", "src", "tests", "benchmarks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, "run '.venv/bin/ruff format src tests benchmarks'\n" + r.stdout + r.stderr
