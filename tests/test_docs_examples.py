"""The ``>>>`` examples in the package's docstrings run and show what they say.

Every module of the layered subpackages, and of the packages inside them
(``domain/engine/``, ``data/mapping/``, ``render/excel/``), is imported and its doctests run
(``doctest`` with ``ELLIPSIS`` and ``NORMALIZE_WHITESPACE``); examples that need
data or a kernel are marked ``# doctest: +SKIP`` in place. The flat package's
compatibility aliases (``reportkit.api`` ...) are the same module objects and are
not collected twice.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import reportkit

LAYERS = ("core", "data", "config", "domain", "reports", "render", "run", "analysis")


def _modules() -> list[str]:
    names = []
    for layer in LAYERS:
        pkg = importlib.import_module(f"reportkit.{layer}")
        names.append(pkg.__name__)
        names += [m.name for m in pkgutil.walk_packages(pkg.__path__, prefix=f"{pkg.__name__}.")]
    return sorted(names) + ["reportkit.cli"]


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run_and_show_what_they_say(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples of {name} failed (output above)"


def test_the_examples_are_collected():
    attempted = 0
    for name in _modules():
        finder = doctest.DocTestFinder()
        attempted += sum(len(t.examples) for t in finder.find(importlib.import_module(name)))
    assert attempted >= 20, attempted
    assert reportkit.__name__ == "reportkit"
