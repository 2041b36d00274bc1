"""Shared by the batch tests: a copy of ``params/demo.yaml`` that works from any folder."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "params" / "demo.yaml"


def demo_params(tmp_path: Path, **changes) -> Path:
    """Write ``tmp_path/params.yaml``: the demo params, source made absolute, ``changes`` applied."""
    raw = yaml.safe_load(DEMO.read_text())
    raw["source"] = str((DEMO.parent / raw["source"]).resolve())
    raw.update(changes)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path
