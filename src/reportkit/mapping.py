"""Compatibility alias: ``reportkit.mapping`` is :mod:`reportkit.data.mapping` (docs/architecture.md)."""

import sys

from reportkit.data import mapping as _module

sys.modules[__name__] = _module
