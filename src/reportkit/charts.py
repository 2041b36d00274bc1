"""Compatibility alias: ``reportkit.charts`` is :mod:`reportkit.render.charts` (docs/architecture.md)."""

import sys

from reportkit.render import charts as _module

sys.modules[__name__] = _module
