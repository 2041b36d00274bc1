"""The flat package's module paths, still importable: one table, one import hook.

Until the layered package (docs/architecture.md), reportkit was 33 flat modules:
``reportkit.engine``, ``reportkit.plans``, ``reportkit.charts``, ... Users' own
templates and notebooks import them. :data:`FLAT_PATHS` maps each public one to its
module now, and :class:`FlatPathFinder` (put on ``sys.meta_path`` by
``reportkit/__init__.py``) answers ``import reportkit.<old>`` with that module
itself: ``reportkit.engine`` *is* ``reportkit.domain.engine``, private names and
monkeypatching included. It answers only the names in the table; everything else
goes to Python's own finders. reportkit's own code uses the new paths.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types

#: ``reportkit.<old>`` -> the module it is now (the flat package's public modules;
#: ``render`` and ``reports`` are now packages of their own, see architecture.md).
FLAT_PATHS: dict[str, str] = {
    f"reportkit.{old}": f"reportkit.{new}"
    for old, new in {
        "accounts": "domain.accounts",
        "api": "analysis.api",
        "backtest": "domain.backtest",
        "batch": "run.batch",
        "charts": "render.charts",
        "commission": "domain.commission",
        "crediting": "domain.crediting",
        "currency": "core.currency",
        "demo": "data.demo",
        "engine": "domain.engine",
        "errors": "core.errors",
        "excel": "render.excel",
        "explorer": "analysis.explorer",
        "forecast": "domain.forecast",
        "kernels": "run.kernels",
        "loading": "domain.loading",
        "mapping": "data.mapping",
        "model": "data.model",
        "money": "core.money",
        "params": "config.params",
        "performance": "domain.performance",
        "periods": "core.periods",
        "plans": "config.plans",
        "quota": "domain.quota",
        "sources": "data.sources",
        "statement": "render.statement",
    }.items()
}


class _AliasLoader(importlib.abc.Loader):
    """Loads ``reportkit.<old>`` by putting the module it is now in its place."""

    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None  # a placeholder module, replaced in exec_module

    def exec_module(self, module: types.ModuleType) -> None:
        # the import system returns what sys.modules holds after exec_module
        sys.modules[module.__name__] = importlib.import_module(self.target)


class FlatPathFinder(importlib.abc.MetaPathFinder):
    """Finds the old flat paths of :data:`FLAT_PATHS` and nothing else."""

    def find_spec(self, fullname: str, path=None, target=None) -> importlib.machinery.ModuleSpec | None:
        new = FLAT_PATHS.get(fullname)
        return None if new is None else importlib.util.spec_from_loader(fullname, _AliasLoader(new))


def install() -> None:
    """Put one :class:`FlatPathFinder` on ``sys.meta_path`` (idempotent)."""
    if not any(isinstance(f, FlatPathFinder) for f in sys.meta_path):
        sys.meta_path.append(FlatPathFinder())
