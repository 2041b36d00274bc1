"""Layer 4, domain: crediting, quota, the plan engine, commission, forecast, backtest, accounts, performance.

Knows nothing of notebooks, Excel, the batch or the CLI (``docs/architecture.md``).
"""
