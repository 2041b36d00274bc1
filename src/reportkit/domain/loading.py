"""Load what every entry point needs: the params and the dataset they name.

The batch, the statement and backtest commands, the templates run by hand and
the analysts' API all start here, so they load (and check) the same way.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from ..config.params import BatchParams, load_params
from ..core.errors import ParamsError
from ..core.periods import FiscalCalendar, Period
from ..data.mapping import load_dataset
from ..data.model import Dataset
from .crediting import ownerless_uncredited

__all__ = ["load_inputs", "load_source", "parse_date"]


def load_inputs(params_path: str | Path, overrides: dict[str, Any] | None = None) -> tuple[BatchParams, Dataset]:
    """Load a params file and the validated dataset its ``source`` names.

    Parameters
    ----------
    params_path : str or Path
        Batch params YAML; ``source`` is resolved relative to it.
    overrides : dict, optional
        Command-line overrides, passed to :func:`reportkit.config.params.load_params`.

    Returns
    -------
    (BatchParams, Dataset)

    Raises
    ------
    ParamsError, MappingError, DataError
        From the params and mapping loaders (every bad cell at once).
    PeriodError
        ``period`` is not a label of the dataset's fiscal calendar.
    """
    params = load_params(params_path, overrides)
    Period.parse(params.period, FiscalCalendar())  # a malformed label fails before any data is read
    return params, load_source(params)


def load_source(params: BatchParams) -> Dataset:
    """The validated dataset ``params.source`` names, once for a whole batch.

    Quotas from ``params.quota_rule`` (sources without a quota table) are applied by
    the report builders (:func:`reportkit.reports.builders.effective_quotas`), which also say in
    a note where the quotas came from; the dataset is returned as the source gave it.

    Raises
    ------
    MappingError, DataError
        From the mapping loader (every bad cell at once).
    PeriodError
        ``params.period`` is not a label of the dataset's fiscal calendar.
    """
    ds = load_dataset(params.resolve(params.source), uncredited=ownerless_uncredited)
    Period.parse(params.period, ds.calendar)
    return ds


def parse_date(value: Any, what: str = "as_of") -> datetime.date | None:
    """A calendar date from a ``date``, a ``datetime`` or ISO text; ``None`` for ``None``/``""``.

    Raises
    ------
    ParamsError
        The text is not an ISO date (``YYYY-MM-DD``).
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ParamsError(f"{what} {value!r} is not an ISO date", hint="write it as YYYY-MM-DD, e.g. 2025-12-31") from None
