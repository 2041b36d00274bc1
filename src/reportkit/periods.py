"""Compatibility alias: ``reportkit.periods`` is :mod:`reportkit.core.periods` (docs/architecture.md)."""

import sys

from reportkit.core import periods as _module

sys.modules[__name__] = _module
