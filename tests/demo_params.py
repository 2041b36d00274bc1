"""Shared by the batch tests: a copy of ``params/demo.yaml`` that works from any folder."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "params" / "demo.yaml"


def demo_params(tmp_path: Path, **changes) -> Path:
    """Write ``tmp_path/params.yaml``: the demo params, source and logo made absolute, ``changes`` applied."""
    raw = yaml.safe_load(DEMO.read_text())
    raw["source"] = str((DEMO.parent / raw["source"]).resolve())
    if (raw.get("branding") or {}).get("logo"):
        raw["branding"]["logo"] = str((DEMO.parent / raw["branding"]["logo"]).resolve())
    raw.update(changes)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def templates_with_cell(tmp_path: Path, source: str) -> Path:
    """A copy of the bundled templates whose account-manager template runs ``source`` first.

    The cell goes right after the ``parameters`` cell, so it sees the parameters
    (``account_manager_id``...) and runs before anything else. Returns the folder.
    """
    import shutil

    import nbformat

    tdir = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", tdir)
    nb = nbformat.read(tdir / "account_manager.ipynb", as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])) + 1
    nb.cells.insert(at, nbformat.v4.new_code_cell(source))
    nbformat.write(nb, tdir / "account_manager.ipynb")
    return tdir
