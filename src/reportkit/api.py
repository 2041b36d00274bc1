"""Compatibility alias: ``reportkit.api`` is :mod:`reportkit.analysis.api` (docs/architecture.md)."""

import sys

from reportkit.analysis import api as _module

sys.modules[__name__] = _module
