"""Layer 3, config: batch params, commission plans, and loading params + dataset.

Imports :mod:`reportkit.core` and :mod:`reportkit.data` (``docs/architecture.md``).
"""
