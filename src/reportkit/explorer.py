"""Compatibility alias: ``reportkit.explorer`` is :mod:`reportkit.analysis.explorer` (docs/architecture.md)."""

import sys

from reportkit.analysis import explorer as _module

sys.modules[__name__] = _module
