"""Compatibility alias: ``reportkit.forecast`` is :mod:`reportkit.domain.forecast` (docs/architecture.md)."""

import sys

from reportkit.domain import forecast as _module

sys.modules[__name__] = _module
