"""Layer 2, data: canonical tables (model), source readers, source mappings, demo data.

Imports only :mod:`reportkit.core` (``docs/architecture.md``, "Package map").
"""
