"""Layer 7, analysis: the analysts' public functions (``import reportkit as rk``) and the explorer.

Beside :mod:`reportkit.run`, independent of it (``docs/architecture.md``).
"""
