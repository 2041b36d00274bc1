"""Source mappings: declarative YAML that turns raw source files into a validated Dataset.

A mapping names the files of one data source and says, per canonical table
(see :mod:`reportkit.data.model`), which source column becomes which canonical column
and how its text is read. Nothing is guessed: placeholders, date formats, amount
scales and stage names are all declared. Example (abridged)::

    calendar: {first_month: 7}        # fiscal year starts in July
    currency: USD                     # the single currency of every amount
    crediting: territory              # owner | territory
    data_dir: ../../../shared/data/adventureworks-pl300-reseller-sales  # relative to this file

    quotas:
      source: {file: ResellerSalesTargets.csv, encoding: utf-16}
      na_values: ["-"]                          # '-' means "no target"
      unpivot: {columns: [M01, M02, ...], key: month, value: target, key_pattern: "M(\\d+)"}
      lookups:
        - source: {file: SalespersonPerformance.csv}
          key: EmployeeID                       # same name on both sides (or {left: right})
          columns: [EmployeeKey]                # bring these columns over
      columns:                                  # canonical <- source column or "{template}"
        account_manager_id: EmployeeKey
        period_start: "{Year}-{month}-01"
        quota_cents: target
      date_format: {period_start: "%Y-%m-%d"}
      amounts: {quota_cents: {scale: 1000}}     # targets are in thousands
      period_months: 1                          # period_end = start + 1 month - 1 day

Steps applied to each table, in this order:

1. read every ``source`` (several files are concatenated; each has its own
   format / encoding / sep / sheet; ``inline:`` rows written in the YAML work too);
   blank rows are skipped; ``skip_rows`` / ``skip_footer`` drop declared title and footer rows;
2. ``drop_rows_where``: drop rows whose cell is one of the listed texts (footers, subtotals);
   ``na_values``: these exact cell texts mean *missing* (an empty cell always does);
3. ``normalise``: exact value replacements per source column (``GTXPro -> GTX Pro``);
4. ``filter``: keep rows whose column is in the listed values;
5. ``unpivot``: wide columns to long rows (missing values dropped);
6. ``number``: a 1-based line number within groups (to build unique ids);
7. ``lookups``: left joins with other sources to translate keys / bring columns;
8. ``columns`` / ``constants``: build the canonical columns (``"{a}-{b}"`` templates allowed);
9. ``recode``: translate values of canonical columns (stage names, probabilities per stage);
   in ``deals`` a stage recoded to ``open`` drops the row (open opportunities belong to
   the ``pipeline`` table, which declares its own source and filter);
10. parse: dates in ``date_format`` (one format or an ordered list; ``day_first``; default
    ``%Y-%m-%d``) and ISO 8601, a text two formats date differently refused, a timestamp
    with a UTC offset dated in the mapping's ``timezone``; amounts as text -> Decimal
    (never float) x ``scale`` -> cents, half away from zero (:func:`reportkit.core.money.to_cents`).
    Columns are parsed vectorised with the same result per cell: plain amounts
    (``-1234.56``) by exact integer arithmetic on their digits, other forms and dates
    once per distinct text; no amount passes through a float;
11. ``deduplicate``: ``identical`` (= true) drops exact repeats, ``first`` / ``last`` keep one
    row per id; otherwise a repeated id is a problem on every row that carries it.

Amount forms (``amounts:``: thousands, decimal, symbol, negative, zero, scale),
date formats, footers, duplicates, currencies and warnings are documented with an
example per real-export case in ``docs/mapping.md``. ``Dataset.warnings`` lists what
loading dropped or kept that a reader should know (footers, deduplicated rows,
placeholder text kept as text, deals outside every quota period, timestamps dated in the
business time zone: the rule, which every report states in its notes (:func:`data_notes`),
and the rows whose date moved).

Deals in several currencies: with an ``fx_rates`` table (``currency, rate_date, rate``
and its required ``conversion``), deals in other currencies are converted to the
mapping's currency once every table is read (:func:`reportkit.data.fx.convert_deals`:
the one conversion, so every report and the engine see the same amount); a deal without
a rate for its date is a problem naming the deal, currency and date.

Derived columns: ``currency`` (quotas, deals) defaults to the mapping's currency;
a blank ``account_id`` in deals / pipeline becomes ``"(unassigned)"``; quotas'
``period_end`` comes from ``period_months`` when not mapped. A mapping without
``quotas`` yields an empty quotas table (a params quota rule fills it later).

Every problem of every table is collected and raised at once as a
:class:`~reportkit.core.errors.DataError` whose problems name the source file, the
source row (header = 1, first data row = 2) and the source column.

Where each part lives (this module is the façade: every name below is importable
from here, and :func:`load_dataset` is the one entry point):

* :mod:`~reportkit.data.mapping.schema`: the YAML model and :func:`load_mapping`;
* :mod:`~reportkit.data.mapping.read`: reading sources, steps 1-3 (the load context);
* :mod:`~reportkit.data.mapping.lookups`: step 7, joins with other sources;
* :mod:`~reportkit.data.mapping.values`: parsing amounts, dates, numbers, recodes;
* :mod:`~reportkit.data.mapping.table`: :func:`load_table`, the steps in order;
* :mod:`~reportkit.data.mapping.problems`: the messages and checks across cells.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from ...core.errors import DataError
from ...core.money import MICROS_PER_CENT
from ...core.periods import FiscalCalendar
from .. import fx, model
from ..splits import check_splits, splits_problems
from .problems import (
    ROSTER_REFERENCES,
    _data_error,
    _outside_quota_periods,
    _uncredited_deal_problems,
    _unknown_manager_summary,
)
from .read import _Context
from .schema import (  # noqa: F401 (Calendar: importable from here as before)
    Amount,
    Calendar,
    Lookup,
    Number,
    Source,
    SourceMapping,
    TableMapping,
    Unpivot,
    load_mapping,
)
from .table import ID_CHECKED, load_table
from .values import DEFAULT_DATE_FORMAT, data_notes  # noqa: F401 (DEFAULT_DATE_FORMAT importable from here as before)

__all__ = [
    "Source",
    "Lookup",
    "Unpivot",
    "Number",
    "Amount",
    "TableMapping",
    "SourceMapping",
    "load_mapping",
    "load_dataset",
    "with_splits",
    "data_notes",
]


def load_dataset(mapping_path: str | Path, *, uncredited: Callable[[model.Dataset], np.ndarray] | None = None) -> model.Dataset:
    """Load and validate every table a source mapping declares.

    Parameters
    ----------
    mapping_path : str or Path
        The source mapping YAML (``params/sources/*.yaml``).
    uncredited : callable, optional
        The crediting rule's answer to "which won deals would credit nobody for
        want of an owner" (positions in ``deals``): the loaders above the data
        layer pass :func:`reportkit.domain.crediting.ownerless_uncredited`
        (:func:`reportkit.domain.loading.load_source`, ``rk.load_dataset``), so
        such deals are refused here with their file and row. The rule stays in
        the domain; this layer only names the rows.

    Returns
    -------
    Dataset
        Validated canonical tables (money in int64 cents, ids as ``str``, dates
        ``datetime64[ns]``), fresh RangeIndex, no provenance columns. ``quotas``
        is an empty canonical frame when the mapping has none; omitted optional
        tables are ``None``. ``sources`` maps table -> file(s) it came from.

    Raises
    ------
    MappingError
        The mapping is invalid, or a file / sheet / column it names does not exist.
    DataError
        Bad cells (unparseable dates or amounts, unknown stage values, unmatched
        lookups, duplicate ids, negative quotas, unknown account managers, mixed
        currencies without an ``fx_rates`` table, deals without a rate for their date,
        bad rate rows ...): *all* of them, each with file, row, column and value.
    """
    mapping_path = Path(mapping_path)
    m = load_mapping(mapping_path)
    ctx = _Context(m, str(mapping_path))
    tables: dict[str, pd.DataFrame | None] = {}
    src_cols: dict[str, dict[str, str]] = {}
    sources: dict[str, str] = {}
    for table in model.TABLES:
        tm = m.table(table)
        if tm is None:
            tables[table] = model.empty_table(table) if table == "quotas" else None
            continue
        frame, cols = load_table(ctx, table, tm)
        tables[table] = frame
        src_cols[table] = cols
        sources[table] = ", ".join(frame[model.SOURCE_FILE].astype(str).unique()) if len(frame) else ""
    loaded = dict(tables)
    if m.fx_rates is not None:  # the one conversion: every report and the engine read the converted deals
        tables["deals"] = _convert(ctx, tables, src_cols, m)
    kept = [t for t in model.TABLES if tables[t] is not None and tables[t] is loaded[t]]  # as load_table left them
    ids_checked = [t for t in ID_CHECKED if t in kept]
    # every bad row reported below (the roster) or by load_table (the currency of quotas, and of deals not converted)
    currency_checked = [(t, "currency") for t in ("quotas", "deals") if t in kept and (t == "quotas" or m.fx_rates is None)]
    ds = model.Dataset(
        **tables,
        currency=m.currency,
        calendar=FiscalCalendar(first_month=m.calendar.first_month),
        crediting=m.crediting,
        sources=sources,
    )
    unknown, unknown_ids = _unknown_manager_summary(ds, src_cols)
    ctx.problems.extend(unknown)
    if ds.splits is not None and all(c in ds.splits.columns for c in model.COLUMNS["splits"]):  # the splits rules
        ctx.problems.extend(check_splits(ds.splits, ds.deals, source_columns=src_cols.get("splits")).problems)
    parse_problems = list(ctx.problems)
    try:
        return_ds = model.validate_dataset(
            ds,
            source_columns=src_cols,
            ids_checked=ids_checked,
            texts_checked=kept,
            refs_checked=[*ROSTER_REFERENCES, *currency_checked],
        )
    except DataError as exc:
        seen = {(p.file, p.row, p.column) for p in parse_problems}
        merged = parse_problems + [p for p in exc.problems if (p.file, p.row, p.column) not in seen]
        raise _data_error(merged, mapping_path, unknown_ids) from None
    if parse_problems:
        raise _data_error(parse_problems, mapping_path, unknown_ids)
    uncredited = [] if uncredited is None else _uncredited_deal_problems(ds, return_ds, src_cols, uncredited)
    if uncredited:
        raise _data_error(uncredited, mapping_path)
    notes = list(ctx.notes) + _outside_quota_periods(return_ds)
    changes = dict(ctx.changes)
    rounded = _sub_cent_amounts(return_ds.deals)
    if rounded:
        changes[("deals", "rounded")] = rounded
    return replace(return_ds, warnings=tuple(notes), load_changes=tuple((t, k, n) for (t, k), n in changes.items()))


def _sub_cent_amounts(deals: pd.DataFrame) -> int:
    """How many deals have an exact amount with fractions of a cent (shown rounded to the cent)."""
    if deals is None or model.AMOUNT_MICROS not in deals.columns or not len(deals):
        return 0
    micros = deals[model.AMOUNT_MICROS].to_numpy(dtype="int64")
    return int(((micros % MICROS_PER_CENT) != 0).sum())


def _convert(
    ctx: _Context, tables: dict[str, pd.DataFrame | None], src_cols: dict[str, dict[str, str]], m: SourceMapping
) -> pd.DataFrame:
    """Deals converted to the mapping's currency with its ``fx_rates`` (:func:`reportkit.data.fx.convert_deals`).

    Rows whose dates or amounts did not parse are left as they are (their problems are
    already listed); the conversion's problems join the load's.
    """
    deals, rates = tables["deals"], tables["fx_rates"]
    dated = rates["rate_date"].notna() if str(rates["rate_date"].dtype) == "datetime64[ns]" else None
    if dated is None or str(deals["close_date"].dtype) != "datetime64[ns]" or str(deals["amount_cents"].dtype) != "int64":
        return deals  # a column that did not parse is already a problem
    calendar = FiscalCalendar(first_month=m.calendar.first_month)
    out, problems = fx.convert_deals(
        deals, rates[dated.to_numpy()], m.currency, m.fx_rates.conversion, calendar, source_columns=src_cols
    )
    ctx.problems.extend(problems)
    return out


def with_splits(ds: model.Dataset, splits: pd.DataFrame | str | Path) -> model.Dataset:
    """``ds`` with a splits table given on its own: a file (read like a mapped table) or a frame.

    The table a source mapping's ``splits:`` would give (``deal_id, account_manager_id,
    share`` and optionally ``kind``, default ``revenue``; ``share`` a fraction 0..1 or
    ``equal``), for ``reportkit statement --splits FILE`` and
    ``rk.commission_statement(..., splits=...)``. It replaces the data set's own
    ``splits`` table, if any. A file (CSV, xlsx, xls, parquet) is read as text with
    its rows numbered like a source's (header = 1); it must name the columns above.

    Raises
    ------
    MappingError
        The file does not exist, or lacks a required column.
    DataError
        Every bad row at once (:func:`reportkit.data.splits.splits_problems`: an unknown
        deal or account manager, a share that is not a fraction or ``equal``, shares of a
        deal not summing to 1, ``equal`` mixed with fractions), each with the file, row,
        column, value and the fix.
    """
    if isinstance(splits, pd.DataFrame):
        frame, where = splits.reset_index(drop=True), "splits"
        problems = splits_problems(ds, frame)
    else:
        path = Path(splits).resolve()
        frame, problems = _read_splits_file(path, ds)
        where = str(path)
    if problems:
        err = _data_error(problems, Path(where))
        raise DataError(
            str(err.message).split("\n", 1)[0],
            err.problems,
            hint="fix the listed splits rows: deal_id a deal of the data set, account_manager_id in the roster, share a "
            "fraction 0..1 (at most 6 decimals) or 'equal', a deal's revenue shares summing to 1, kind revenue | overlay",
        )
    return replace(ds, splits=model.strip_provenance(frame), sources={**ds.sources, "splits": where})


def _read_splits_file(path: Path, ds: model.Dataset) -> tuple[pd.DataFrame, list]:
    """A splits file read through a one-table mapping (its columns by their canonical names)."""
    raw = {"file": path.name}
    names = {"account_managers": {"source": raw}, "deals": {"source": raw}}
    m = SourceMapping.model_validate({**names, "currency": ds.currency, "data_dir": str(path.parent), "splits": {"source": raw}})
    ctx = _Context(m, str(path))
    head = ctx.read(m.splits.sources[0], "splits")
    optional = [c for c in ("kind",) if c in head.columns]
    tm = m.splits.model_copy(update={"columns": {c: c for c in ("deal_id", "account_manager_id", "share", *optional)}})
    frame, cols = load_table(ctx, "splits", tm)
    problems = list(ctx.problems) + splits_problems(ds, frame, source_columns=cols)
    return frame, problems
