"""Layer 1, core: the exception tree, periods, money, currencies, the YAML reader.

Imports nothing else of reportkit (``docs/architecture.md``, "Package map").
"""
