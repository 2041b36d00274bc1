"""Compatibility alias: ``reportkit.crediting`` is :mod:`reportkit.domain.crediting` (docs/architecture.md)."""

import sys

from reportkit.domain import crediting as _module

sys.modules[__name__] = _module
