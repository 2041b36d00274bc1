"""reportkit: reproducible quarterly sales reports from CRM / ERP exports.

The public API for analysts (JupyterLab) is listed in ``__all__``; each name is
a thin wrapper in :mod:`reportkit.analysis.api` over the domain functions the batch
reports use, so an analyst's figure equals the report's figure::

    import reportkit as rk
    params, ds = rk.load("params/demo.yaml")
    rk.attainment_table(ds, "FY2025-Q4", params, as_of="2025-12-31")
    rk.commission_statement(ds, "AM-001", "FY2025-Q4", params, as_of="2025-12-31").total

Money is ``decimal.Decimal`` in the dataset's currency, attainment a float
fraction (1.0 == 100 %, NaN / None when undefined). Importing this package is
cheap: names are imported on first use. Its one side effect is an import hook that
answers the flat package's old module paths (``reportkit.engine``, ``reportkit.plans``,
...) with the modules they are now (:mod:`reportkit._flat_paths`).
"""

from __future__ import annotations

import importlib
from typing import Any

from . import _flat_paths

_flat_paths.install()

__version__ = "0.1.0"

_API = (
    "load",
    "load_params",
    "load_dataset",
    "attainment_table",
    "commission_statement",
    "forecast_table",
    "forecast_categories_table",
    "account_status",
    "performance_watch",
    "build_account_manager_report",
    "build_team_report",
    "win_rates",
    "sales_cycle",
)
_ERRORS = (
    "ReportkitError",
    "InputError",
    "ParamsError",
    "MappingError",
    "PlanError",
    "PeriodError",
    "DataError",
    "DataProblem",
    "EnvironmentError_",
    "KernelNotFoundError",
    "TemplateError",
    "OutputError",
    "ReportFailed",
    "BatchInterrupted",
)
_OTHER = {"what_if": "reportkit.analysis.explorer", "Explorer": "reportkit.analysis.explorer"}

_WHERE: dict[str, str] = {
    **dict.fromkeys(_API, "reportkit.analysis.api"),
    **dict.fromkeys(_ERRORS, "reportkit.core.errors"),
    **_OTHER,
}

__all__ = [*_API, "what_if", "Explorer", *_ERRORS]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'reportkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # cache: the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*__all__, "__version__"})
