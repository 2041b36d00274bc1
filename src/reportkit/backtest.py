"""Compatibility alias: ``reportkit.backtest`` is :mod:`reportkit.domain.backtest` (docs/architecture.md)."""

import sys

from reportkit.domain import backtest as _module

sys.modules[__name__] = _module
