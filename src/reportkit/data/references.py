"""The data set's rules across tables, checked by :func:`reportkit.data.model.validate_dataset`.

Every account-manager reference names one of the roster, quotas and deals are in the data
set's currency, with ``crediting: owner`` every deal has an owner, a service issue names a
known account, a pipeline's forecast category is an open one, ``amount_micros`` is int64.
The source mapping checks the roster and the currency of its own tables first, with its
summaries (``data/mapping``): the cells it names are given in ``checked`` and not evaluated
again here.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import pandas as pd

from ..core.errors import DataProblem, did_you_mean
from .model import AMOUNT_MICROS, FORECAST_CATEGORY, OPEN_FORECAST_CATEGORIES, SOURCE_COLUMN_PREFIX, Dataset, _locate


def reference_problems(
    ds: Dataset, source_columns: Mapping[str, Mapping[str, str]], checked: Collection[tuple[str, str]] = ()
) -> list[DataProblem]:
    """Every row breaking a rule across tables (module docstring), with its file, row and source column.

    ``checked``: ``(table, column)`` pairs (``account_manager_id`` or the like against the roster,
    ``currency`` against the data set's) whose every bad row the caller reported already, at the
    cell this function would name (the mapping's problems supersede these: same file, row and
    column); they are skipped unless the column's source varies by row (unpivoted values).
    """
    out: list[DataProblem] = []
    known = set(ds.account_managers["account_manager_id"].dropna().astype(str))
    checks = [
        ("quotas", "account_manager_id"),
        ("deals", "account_manager_id"),
        ("pipeline", "account_manager_id"),
        ("territories", "account_manager_id"),
        ("measures", "account_manager_id"),
        ("accounts", "owner_id"),
        ("splits", "account_manager_id"),
    ]
    for table, col in checks:
        frame = ds.table(table)
        if frame is None or col not in frame.columns or _done(frame, table, col, checked):
            continue
        ids = frame[col]
        bad = ids.notna() & ~ids.astype(str).isin(known)
        for idx in frame.index[bad]:
            file, row, src = _locate(frame, idx, col, table, source_columns.get(table))
            out.append(
                DataProblem(
                    file,
                    row,
                    src,
                    frame.at[idx, col],
                    f"account manager {frame.at[idx, col]!r} is not in account_managers"
                    f"{did_you_mean(str(frame.at[idx, col]), known)}",
                )
            )
    for table in ("quotas", "deals"):
        frame = ds.table(table)
        if frame is None or "currency" not in frame.columns or _done(frame, table, "currency", checked):
            continue
        bad = frame["currency"].notna() & (frame["currency"].astype(str) != ds.currency)
        for idx in frame.index[bad]:
            file, row, src = _locate(frame, idx, "currency", table, source_columns.get(table))
            out.append(
                DataProblem(
                    file,
                    row,
                    src,
                    frame.at[idx, "currency"],
                    f"currency must be {ds.currency} (the data set's reporting currency); "
                    + (
                        "quotas are set in the currency the plan pays in: convert them before loading"
                        if table == "quotas"
                        else "declare an fx_rates table in the source mapping to convert deals at load "
                        "(docs/mapping.md, 'Deals in several currencies'), or convert amounts before loading"
                    ),
                )
            )
    if ds.crediting == "owner" and "account_manager_id" in ds.deals.columns:
        bad = ds.deals["account_manager_id"].isna()
        for idx in ds.deals.index[bad]:
            file, row, src = _locate(ds.deals, idx, "account_manager_id", "deals", source_columns.get("deals"))
            out.append(
                DataProblem(file, row, src, None, "deal has no account manager; with crediting: owner every deal needs one")
            )
    out.extend(_service_issue_problems(ds, source_columns))
    out.extend(_exact_amount_problems(ds.deals))
    out.extend(_forecast_category_problems(ds.pipeline, source_columns.get("pipeline")))
    return out


def _done(frame: pd.DataFrame, table: str, column: str, checked: Collection[tuple[str, str]]) -> bool:
    """The caller reported every bad row of ``table.column`` at the cell :func:`_locate` names."""
    return (table, column) in checked and f"{SOURCE_COLUMN_PREFIX}{column}" not in frame.columns


def _forecast_category_problems(pipeline: pd.DataFrame | None, source_columns: Mapping[str, str] | None) -> list[DataProblem]:
    """``pipeline.forecast_category`` (when present) is on every row and an open category."""
    if pipeline is None or FORECAST_CATEGORY not in pipeline.columns:
        return []
    out: list[DataProblem] = []
    cats = pipeline[FORECAST_CATEGORY]
    bad = (cats.isna() | ~cats.astype("str").isin(OPEN_FORECAST_CATEGORIES)).to_numpy()
    for idx in pipeline.index[bad]:
        file, row, src = _locate(pipeline, idx, FORECAST_CATEGORY, "pipeline", source_columns)
        value = None if pd.isna(cats.at[idx]) else str(cats.at[idx])
        closed = " (Closed is the won deals of the deals table, never an open opportunity)" if value == "closed" else ""
        hint = did_you_mean(str(value), OPEN_FORECAST_CATEGORIES) if value else ""
        reason = f"forecast_category must be one of {', '.join(OPEN_FORECAST_CATEGORIES)}{closed}{hint}"
        out.append(DataProblem(file, row, src, value, reason))
    return out


def _exact_amount_problems(deals: pd.DataFrame) -> list[DataProblem]:
    """``deals.amount_micros`` (when present) must be int64 (where it does not round to
    ``amount_cents`` the cents win: :func:`deal_micros`)."""
    if AMOUNT_MICROS not in deals.columns or "amount_cents" not in deals.columns:
        return []
    if str(deals[AMOUNT_MICROS].dtype) != "int64" or str(deals["amount_cents"].dtype) != "int64":
        why = "deals.amount_micros must have dtype int64 (drop the column to use amount_cents)"
        return [DataProblem("deals", None, AMOUNT_MICROS, str(deals[AMOUNT_MICROS].dtype), why)]
    return []


def _service_issue_problems(ds: Dataset, source_columns: Mapping[str, Mapping[str, str]]) -> list[DataProblem]:
    """``account_id`` not in ``accounts`` (when that table is given; ``resolved`` before ``opened`` is
    a :data:`_DATE_ORDER` rule of the table itself)."""
    si = ds.service_issues
    if si is None or not len(si) or "account_id" not in si.columns:
        return []
    out: list[DataProblem] = []
    cols = source_columns.get("service_issues")
    accounts = ds.accounts
    if accounts is not None and "account_id" in accounts.columns:
        known = set(accounts["account_id"].dropna().astype(str))
        ids = si["account_id"]
        bad = (ids.notna() & ~ids.astype(str).isin(known)).to_numpy()
        for idx in si.index[bad]:
            file, row, src = _locate(si, idx, "account_id", "service_issues", cols)
            value = str(si.at[idx, "account_id"])
            out.append(DataProblem(file, row, src, value, f"account {value!r} is not in accounts{did_you_mean(value, known)}"))
    return out
