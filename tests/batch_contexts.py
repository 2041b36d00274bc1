"""The block a batch builds its reports in, for the tests that build a batch's reports in-process.

``run_batch`` builds every report inside :func:`~reportkit.reports.context.shared_contexts`
offered the cache of model fits of the params' :meth:`~reportkit.config.params.BatchParams.cache_folder`
(``REPORTKIT_CACHE_DIR``: one folder for the whole test run, tests/conftest.py). A
test that builds the demo's reports the same way reads the forecast hierarchy of a
(dataset, period, as_of) that a batch or another module already computed in this run,
instead of fitting its hundreds of backtest models again: the same figures
(tests/test_fit_cache.py pins that), a fraction of the CPU.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from reportkit.config.params import BatchParams
from reportkit.core.cache import ContentCache
from reportkit.domain.forecast_models import fit_cache
from reportkit.reports.context import shared_contexts


def batch_contexts(params: BatchParams) -> AbstractContextManager[None]:
    """``shared_contexts`` as ``run_batch`` opens it for ``params``: with its fit cache, when it has one."""
    return shared_contexts(fit_cache=params_fit_cache(params))


def params_fit_cache(params: BatchParams) -> ContentCache | None:
    """The cache of model fits a batch of ``params`` reads (the test run's folder), for a test that computes a
    forecast itself (``forecast_hierarchy(..., fit_cache=...)``) to compare with what a report shows."""
    folder = params.cache_folder()
    return fit_cache(folder) if folder else None
