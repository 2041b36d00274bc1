"""Layer 6, render: notebook display helpers, charts, Excel workbooks, statement files.

Renderers read report objects and never compute money. The notebook helpers live
in :mod:`reportkit.render.notebook`; ``from reportkit.render import table`` (the
flat package's path, used by users' own templates) keeps working for every name
of it: a compatibility alias resolved on first use, see ``docs/architecture.md``.
"""

from __future__ import annotations

import importlib
from typing import Any


def __getattr__(name: str) -> Any:
    # lazy: ``import reportkit.render.charts`` must not import the notebook helpers
    notebook = importlib.import_module("reportkit.render.notebook")
    try:
        return getattr(notebook, name)
    except AttributeError:
        raise AttributeError(f"module 'reportkit.render' has no attribute {name!r}") from None


def __dir__() -> list[str]:
    notebook = importlib.import_module("reportkit.render.notebook")
    return sorted(set(globals()) | set(dir(notebook)))
