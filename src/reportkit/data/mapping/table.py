"""Applying a table's mapping to its sources: raw text frames -> one canonical table.

:func:`load_table` runs the steps of :mod:`reportkit.data.mapping` in order:
prepare the source rows (read, drop, placeholders, normalise, filter, unpivot,
number, lookups), build the canonical columns (``columns`` / ``constants`` /
templates), recode, parse each column by its kind, derive ``period_end``,
deduplicate and check the currency. Problems are collected, never raised, so
one error lists them all.
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np
import pandas as pd

from ...core.errors import DataError, DataProblem, did_you_mean
from ...core.words import counted, in_number
from .. import model
from ..sources import text_order
from ..splits import SPLIT_KINDS
from .lookups import _apply_lookup
from .problems import _currency_problems, _problem, _where_rows
from .read import _FILE, _ROW, _apply_na, _apply_normalise, _Context, _missing, _require_columns, _text_constant
from .schema import Amount, TableMapping
from .values import (
    _parse_exact,
    _parse_float,
    _placeholder_hint,
    _recode,
    placeholder_cells,
    plain_number_refusal,
    read_dates,
    timezone_note,
)

_UNPIVOT_COL = "_source_unpivot_column"


def _template_fields(text: str) -> list[str] | None:
    """Field names of ``"{a}-{b}"``, or None when ``text`` is a plain column name."""
    if "{" not in text:
        return None
    return [f for _, f, _, _ in string.Formatter().parse(text) if f]


def _render(df: pd.DataFrame, text: str) -> pd.Series:
    out = pd.Series([""] * len(df), index=df.index, dtype="str")
    missing = pd.Series(False, index=df.index)
    for literal, fname, _, _ in string.Formatter().parse(text):
        out = out + literal
        if fname:
            col = df[fname]
            missing |= col.isna()
            out = out + col.fillna("").astype("str")
    return out.where(~missing, None)


def _source_columns_needed(tm: TableMapping) -> tuple[list[str], set[str]]:
    """(source columns referenced, columns produced by transforms)."""
    produced = tm.produced_columns()
    needed: list[str] = []
    needed += list(tm.normalise) + list(tm.filter) + list(tm.drop_rows_where)
    if tm.unpivot:
        needed += tm.unpivot.columns
    if tm.number:
        needed += tm.number.by
    for lk in tm.lookups:
        needed += list(lk.keys)
    for text in tm.columns.values():
        fields = _template_fields(text)
        needed += fields if fields is not None else [text]
    return needed, produced


def _prepare(ctx: _Context, table: str, tm: TableMapping) -> pd.DataFrame:
    """Steps 1-7: read, placeholders, normalise, filter, unpivot, number, lookups."""
    needed, produced = _source_columns_needed(tm)
    frames = []
    for src in tm.sources:
        df = ctx.read(src, table)
        label = str(df[_FILE].iloc[0]) if len(df) else (src.file or "source")
        _require_columns(df, [c for c in needed if c not in produced], label, f"{table} in the mapping")
        frames.append(df)
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if table == "deals" and not len(df):
        raise _no_deal_rows(ctx, tm)
    data_cols = [c for c in df.columns if not str(c).startswith("_source")]
    df = df.astype(dict.fromkeys(data_cols, "str"))
    if tm.drop_rows_where:
        drop = pd.Series(False, index=df.index)
        for col, values in tm.drop_rows_where.items():
            drop |= df[col].astype("str").str.strip().isin([v.strip() for v in values])
        if table == "deals" and bool(drop.all()):
            raise _dropped_all(ctx, tm, df)
        for idx in df.index[drop]:
            ctx.note(f"{df.at[idx, _FILE]}: row {int(df.at[idx, _ROW])} dropped ({table}.drop_rows_where)", (table, "dropped", 1))
        df = df[~drop].reset_index(drop=True)
    df = _apply_na(df, tm.na_values, data_cols)
    df = _apply_normalise(df, tm.normalise)
    for col, values in tm.filter.items():
        kept = df[df[col].isin(values)]
        if table == "deals" and len(df) and not len(kept):
            raise _filtered_out(ctx, tm, col, values, df[col])
        df = kept
    df = df.reset_index(drop=True)
    if tm.unpivot:
        up = tm.unpivot
        ids = [c for c in df.columns if c not in up.columns]
        long = df.melt(id_vars=ids, value_vars=up.columns, var_name=_UNPIVOT_COL, value_name=up.value)
        long["_order"] = long[_UNPIVOT_COL].map({c: i for i, c in enumerate(up.columns)})
        long = long[long[up.value].notna()].sort_values([_ROW, _FILE, "_order"], kind="stable")
        key = long[_UNPIVOT_COL].astype("str")
        if up.key_pattern:
            key = key.str.extract(up.key_pattern, expand=False)
        long[up.key] = key.astype("str")
        df = long.drop(columns="_order").reset_index(drop=True)
    if tm.number:
        df[tm.number.name] = (df.groupby(tm.number.by, sort=False, dropna=False).cumcount() + 1).astype("str")
    for lk in tm.lookups:
        df = _apply_lookup(ctx, table, df, lk)
    return df


def _deal_sources(ctx: _Context, tm: TableMapping) -> list[str]:
    named = [str(ctx.mapping.data_path / s.file) if s.file else f"{s.url} (query)" for s in tm.sources if s.inline is None]
    return named or [f"{ctx.mapping_file} (deals inline rows)"]


def _no_deal_rows(ctx: _Context, tm: TableMapping) -> DataError:
    """The error of a deals export with no data rows (a header only, or a query that returned none).

    A period with no deals is fine (its reports say so); a whole export with none is a
    wrong or truncated file, whose reports would all show 0.00 and pay nothing.
    """
    named = _deal_sources(ctx, tm)
    return DataError(
        f"{', '.join(named)}: the deals export has no rows (a header only)",
        [DataProblem(n, None, None, None, "a header row and no data rows") for n in named],
        hint="export the deals again, or point deals: source: at the file that holds them "
        "(a period without deals is fine; an export without any is the wrong file)",
    )


def _filtered_out(ctx: _Context, tm: TableMapping, column: str, values: list[str], seen: pd.Series) -> DataError:
    """The error of a deals ``filter:`` that keeps none of the export's rows: refused as a header-only export is.

    Every report would show 0.00 and pay nothing; the usual cause is a value spelt
    otherwise than in the file (case, spaces, a renamed stage), so the values found are listed.
    """
    named = _deal_sources(ctx, tm)
    found = list(dict.fromkeys(seen.dropna().astype("str")))
    shown = ", ".join(repr(v) for v in found[:10]) + (f" and {len(found) - 10} more" if len(found) > 10 else "")
    wanted = ", ".join(repr(v) for v in values)
    why = f"the mapping's deals filter: {{{column}: [{wanted}]}} keeps none of the {counted(len(seen), 'row')}"
    return DataError(
        f"{', '.join(named)}: {why}",
        [DataProblem(n, None, column, None, f"{why}; values found in column {column!r}: {shown or 'none'}") for n in named],
        hint=f"correct the filter's values in {ctx.mapping_file} (they must equal the file's exactly), "
        "or point deals: source: at the export that holds those deals",
    )


def _dropped_all(ctx: _Context, tm: TableMapping, df: pd.DataFrame) -> DataError:
    """The error of a deals ``drop_rows_where:`` that drops every row of the export: refused as ``filter:`` is.

    ``drop_rows_where`` is for footers and subtotals; one that matches every row is a
    listed value that is also the column's ordinary value (a stage, a region), and every
    report would show 0.00 and pay nothing.
    """
    named = _deal_sources(ctx, tm)
    rules = "; ".join(f"{col}: [{', '.join(repr(v) for v in values)}]" for col, values in tm.drop_rows_where.items())
    why = f"the mapping's deals drop_rows_where: {{{rules}}} drops all {counted(len(df), 'row')}"
    problems = []
    for col, values in tm.drop_rows_where.items():
        hits = df[col].astype("str").str.strip().isin([v.strip() for v in values])
        problems += [
            DataProblem(n, None, col, None, f"{why}; {counted(int(hits.sum()), 'row')} of column {col!r} match") for n in named
        ]
    return DataError(
        f"{', '.join(named)}: {why}",
        problems,
        hint=f"list in {ctx.mapping_file}'s drop_rows_where only the texts of the rows to drop (footers, "
        "subtotals), or use filter: to keep the rows you want",
    )


_UNIQUE_KEYS = {
    "account_managers": ["account_manager_id"],
    "deals": ["deal_id"],
    "accounts": ["account_id"],
    "pipeline": ["opportunity_id"],
    "territories": ["account_manager_id", "territory"],
    "service_issues": ["issue_id"],
    "quotas": ["account_manager_id", "period_start"],
    "fx_rates": ["currency", "rate_date"],
    "measures": ["account_manager_id", "period_start", "period_end", "measure"],
    "splits": ["deal_id", "account_manager_id"],
}
_CHECKED_ELSEWHERE = ("quotas", "territories", "fx_rates", "splits")
ID_CHECKED = frozenset(t for t, keys in _UNIQUE_KEYS.items() if len(keys) == 1 and t not in _CHECKED_ELSEWHERE)
"""The tables whose one-column id :func:`_deduplicate` checks, reporting every repeated value (a
missing id is the schema's): ``validate_dataset(ids_checked=...)`` need not hash them again."""


def _deduplicate(ctx: _Context, table: str, tm: TableMapping, out: pd.DataFrame, src_cols: dict[str, str]) -> pd.DataFrame:
    """Apply the declared ``deduplicate`` policy; report repeated ids (every row) otherwise."""
    spec = list(model.COLUMNS[table])
    keys = _UNIQUE_KEYS[table]
    policy = tm.dedup_policy
    if policy is not None:
        if policy == "identical":
            gone = out.duplicated(spec, keep="first")
        else:
            gone = out.duplicated(keys, keep="first" if policy == "first" else "last") & out[keys].notna().all(axis=1)
        if gone.any():
            ctx.note(
                f"{table}: {counted(int(gone.sum()), 'repeated row')} dropped (deduplicate: {policy}): "
                f"{_where_rows(out, out.index[gone][:20])}{' ...' if gone.sum() > 20 else ''}",
                (table, "merged", int(gone.sum())),
            )
            out = out[~gone].reset_index(drop=True)
    if table in _CHECKED_ELSEWHERE:
        return out  # checked by the schema (territories), data/fx.py (fx_rates), data.splits.check_splits (splits) / allowed (quotas of several plans)
    if len(keys) > 1:  # a row is one (account manager, period, measure ...): repeated only when every key repeats
        return _repeated_composite(ctx, table, out, src_cols, keys)
    key = keys[0]
    dup = _repeated(out[key])
    if dup.any():
        groups = out[dup].groupby(key, sort=False).groups
        fix = (
            "remove the repeated rows, or declare deduplicate: first | last (keep one row per id) "
            "or deduplicate: identical (drop exact repeats only) for this table"
        )
        for value, idxs in groups.items():
            for idx in idxs:
                others = [i for i in idxs if i != idx]
                ctx.problems.append(
                    _problem(
                        out,
                        idx,
                        src_cols.get(key, key),
                        out.at[idx, key],
                        f"duplicate {key} {value!r}: also at {_where_rows(out, others)}; {fix}",
                    )
                )
    return out


def _repeated_composite(ctx: _Context, table: str, out: pd.DataFrame, src_cols: dict[str, str], keys: list[str]) -> pd.DataFrame:
    """Report every row whose whole key (``keys``, e.g. a measure's AM, period and name) occurs more than once."""
    dup = out.duplicated(keys, keep=False).to_numpy() & out[keys].notna().all(axis=1).to_numpy()
    if dup.any():
        fix = (
            f"keep one row per {', '.join(keys)}: remove the repeated rows, or declare deduplicate: first | last "
            "(keep one of them) or deduplicate: identical (drop exact repeats only) for this table"
        )
        for _, idxs in out[dup].groupby(keys, sort=False, dropna=False).groups.items():
            for idx in idxs:
                others = [i for i in idxs if i != idx]
                shown = ", ".join(f"{k}={out.at[idx, k]!r}" for k in keys)
                ctx.problems.append(
                    _problem(
                        out,
                        idx,
                        src_cols.get(keys[-1], keys[-1]),
                        out.at[idx, keys[-1]],
                        f"repeated row of {table} ({shown}): also at {_where_rows(out, others)}; {fix}",
                    )
                )
    return out


def _repeated(s: pd.Series) -> np.ndarray:
    """Bool mask of the non-missing cells whose value occurs more than once (``duplicated(keep=False)``).

    A column of text in strictly ascending or descending order (an export sorted by its id,
    the usual case) has no repeat: one comparison of neighbours says so; any other column
    is hashed (``pd.factorize``).
    """
    if text_order(s):
        return np.zeros(len(s), dtype=bool)
    codes, _ = pd.factorize(s, sort=False)
    present = codes >= 0
    if not present.any():
        return present
    counts = np.bincount(codes[present])
    return present & (counts[np.where(present, codes, 0)] > 1)


def load_table(ctx: _Context, table: str, tm: TableMapping) -> tuple[pd.DataFrame, dict[str, str]]:
    """Build one canonical table (with provenance columns) from its mapping.

    Parse problems are appended to ``ctx.problems`` (the bad cell is left missing
    or 0 so that validation can go on and report everything at once).

    Returns
    -------
    (frame, source_columns)
        ``frame`` has the canonical columns of ``table`` plus ``_source_file``,
        ``_source_row`` and, for unpivoted values, ``_source_column:<canonical>``.
        ``source_columns`` maps canonical -> source column name (or template).
    """
    rows = _prepare(ctx, table, tm)
    out, src_cols = _canonical_columns(ctx, table, tm, rows)
    out = _apply_recodes(ctx, tm, out, src_cols)
    if table == "pipeline":
        out = _forecast_category_column(ctx, tm, rows, out, src_cols)
    out = _derived_rows(table, out)
    _parse_columns(ctx, table, tm, out, src_cols)
    _derive_period_end(table, tm, out)
    out = _deduplicate(ctx, table, tm, out, src_cols)
    if table == "quotas" or (table == "deals" and ctx.mapping.fx_rates is None):  # fx_rates: deals converted at load
        _currency_problems(ctx, table, out, src_cols)
    spec = model.COLUMNS[table]
    ordered = list(spec) + [c for c in out.columns if c not in spec]
    return out[ordered].reset_index(drop=True), src_cols


def _canonical_columns(ctx: _Context, table: str, tm: TableMapping, df: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """Step 8: the canonical columns from ``columns`` (a source column or a template), ``constants``
    or their default (``currency`` = the mapping's, a split's ``kind`` = ``revenue``; otherwise missing),
    plus provenance.

    Returns the frame (text, unparsed) and canonical -> source column name (or template).
    """
    out = pd.DataFrame(index=df.index)
    src_cols: dict[str, str] = {}
    optional = [c for c in model.OPTIONAL_COLUMNS.get(table, {}) if c in tm.columns or c in tm.constants]  # only when mapped
    for name in [*model.COLUMNS[table], *optional]:
        if name in tm.columns:
            text = tm.columns[name]
            fields = _template_fields(text)
            out[name] = _render(df, text) if fields is not None else df[text]
            src_cols[name] = text
            if tm.unpivot and ((fields is None and text == tm.unpivot.value) or (fields and tm.unpivot.value in fields)):
                out[f"{model.SOURCE_COLUMN_PREFIX}{name}"] = df[_UNPIVOT_COL]
        elif name in tm.constants:
            out[name] = _text_constant(tm.constants[name], df.index)
        elif name == "currency":
            out[name] = _text_constant(ctx.mapping.currency, df.index)
        elif table == "splits" and name == "kind":  # a split row without a kind shares revenue
            out[name] = _text_constant(SPLIT_KINDS[0], df.index)
        else:
            out[name] = _text_constant(None, df.index)
    out[_FILE] = df[_FILE]
    out[_ROW] = df[_ROW]
    return out, src_cols


def _apply_recodes(ctx: _Context, tm: TableMapping, out: pd.DataFrame, src_cols: dict[str, str]) -> pd.DataFrame:
    """Step 9: ``recode`` (before parsing); a value the table does not list is a problem and its row leaves."""
    for name, table_map in tm.recode.items():
        s = out[name]
        recoded, known = _recode(s, table_map)
        unknown = s.notna().to_numpy() & ~known
        for idx in out.index[unknown]:
            ctx.problems.append(
                _problem(
                    out,
                    idx,
                    src_cols.get(name, name),
                    s.at[idx],
                    f"not a known value for {name} (allowed: {', '.join(table_map)}){did_you_mean(str(s.at[idx]), table_map)}",
                )
            )
        out[name] = recoded  # unknown and missing values become missing
        if unknown.any():
            out = out[~unknown]
    return out


def _derived_rows(table: str, out: pd.DataFrame) -> pd.DataFrame:
    """A deals stage recoded to ``open`` leaves the table; a blank ``account_id`` is ``(unassigned)``."""
    if table == "deals":
        kept = (out["stage"].isna() | (out["stage"] != "open")).to_numpy(dtype=bool)
        if not kept.all():
            out = out[kept]
    if table in ("deals", "pipeline"):
        blank = _missing(out["account_id"])
        if blank.any():
            out.loc[blank, "account_id"] = model.UNASSIGNED_ACCOUNT
    return out.reset_index(drop=True)


def _parse_columns(ctx: _Context, table: str, tm: TableMapping, out: pd.DataFrame, src_cols: dict[str, str]) -> None:
    """Step 10, in place: each canonical column parsed by its kind (text, date, cents, float).

    The source text of every non-text column is kept first (``_source_value:<name>``),
    for messages about the parsed value.
    """
    spec = {c: k for c, k in model.table_columns(table).items() if c in out.columns}  # optional columns when mapped
    for name, (kind, _) in spec.items():
        if kind != "str" and name in out.columns:
            out[f"{model.SOURCE_VALUE_PREFIX}{name}"] = out[name].copy()
    for name, (kind, _) in spec.items():
        column = _SourceColumn(out, name, src_cols.get(name, name))
        if kind == "str":
            _parse_text_column(ctx, table, tm, out, name, column.label)
        elif kind == "date":
            _parse_date_column(ctx, table, tm, out, name, column)
        elif kind == "cents":
            _parse_amount_column(ctx, table, tm, out, name, column)
        elif kind == "float":
            _parse_number_column(ctx, out, name, column)
        elif kind == "micros":
            _parse_micros_column(ctx, out, name, column)


class _SourceColumn:
    """The source column a canonical column's cell came from: the mapped one, or per row when unpivoted."""

    def __init__(self, out: pd.DataFrame, name: str, label: str) -> None:
        self.out, self.label = out, label
        self.per_row = f"{model.SOURCE_COLUMN_PREFIX}{name}"

    def at(self, idx: Any) -> str:
        return str(self.out.at[idx, self.per_row]) if self.per_row in self.out.columns else self.label


def _blank_free(tm: TableMapping, name: str) -> bool:
    """Whether canonical ``name`` holds no blank text before step 10: a source column as ``na_values`` left it.

    Step 2 makes every blank cell of a source column missing; a column that no later
    step writes (``TableMapping.written_columns``, the one list of such steps: ``normalise``,
    a template, ``recode``, one an unpivot, ``number`` or a lookup makes) keeps that, as do
    the defaults (the mapping's currency, a split's kind, missing). A constant is checked
    as any other column.
    """
    if name not in tm.columns:
        return name not in tm.constants
    source, canonical = tm.written_columns()
    return tm.columns[name] not in source and name not in canonical


def _parse_text_column(ctx: _Context, table: str, tm: TableMapping, out: pd.DataFrame, name: str, label: str) -> None:
    """Text: blank is missing; placeholder-looking texts the mapping keeps are noted (a warning)."""
    # missing stays missing: pandas < 3 turns NaN / None into the text 'nan' / 'None'
    s = out[name].astype("str").where(out[name].notna())
    blank = s.isna().to_numpy(dtype=bool) if _blank_free(tm, name) else _missing(s)
    out[name] = s.where(~blank, None) if blank.any() else s
    if name not in tm.columns:  # a constant or a default: the note is about the source's cells
        return
    looks = s[~blank & placeholder_cells(s)].str.strip()
    if len(looks):
        rows = ", ".join(str(r) for r in out.loc[looks.index, _ROW].head(5))
        more = " ..." if len(looks) > 5 else ""
        shown = ", ".join(sorted({repr(v) for v in looks}))
        ctx.note(
            f"{table}.{name} (source column {label!r}): {counted(len(looks), 'cell')} {in_number(len(looks), 'holds', 'hold')} {shown} "
            f"(rows {rows}{more}); kept as text because the mapping does not declare them "
            f"missing (add them to na_values: if they mean 'no value')",
            (table, "placeholder", len(looks)),
        )


def _parse_date_column(ctx: _Context, table: str, tm: TableMapping, out: pd.DataFrame, name: str, column: _SourceColumn) -> None:
    """Dates in the column's formats and ISO 8601 (:func:`values.read_dates`), in the mapping's ``timezone``.

    A derived ``period_end`` is left for later. Timestamps with a UTC offset dated in
    the business time zone are counted in a note (``Dataset.warnings``), naming the
    rows whose date differs from the one written.
    """
    if name == "period_end" and name not in tm.columns and tm.period_months is not None:
        return
    formats, declared = tm.date_formats(name)
    got = read_dates(out[name], formats, declared, ctx.mapping.timezone)
    for idx, reason in got.bad.items():
        ctx.problems.append(_problem(out, idx, column.at(idx), out.at[idx, name], reason + _placeholder_hint(out.at[idx, name])))
    if got.aware:
        ctx.note(timezone_note(ctx.mapping.timezone))
        shown = "; ".join(
            f"{out.at[idx, _FILE]} row {int(out.at[idx, _ROW])} {text!r} -> {date.isoformat()}"
            for idx, (text, date) in got.moved_rows.items()
        )
        moved = (
            f"; {got.moved} of them fall on another day than written: {shown}{' ...' if got.moved > 5 else ''}"
            if got.moved
            else ""
        )
        ctx.note(
            f"{table}.{name} (source column {column.label!r}): {counted(got.aware, 'timestamp')} with a UTC offset dated in "
            f"{ctx.mapping.timezone}, the business time zone (the mapping's timezone){moved}"
        )
    out[name] = got.values


def _parse_amount_column(
    ctx: _Context, table: str, tm: TableMapping, out: pd.DataFrame, name: str, column: _SourceColumn
) -> None:
    """Amounts to int64 cents (``amounts:`` form and scale); deals also keep the exact micros."""
    if name not in tm.columns and name not in tm.constants:
        return
    cents, micros, reasons = _parse_exact(out[name], tm.amounts.get(name, Amount()))
    for idx, reason in reasons.items():
        ctx.problems.append(_problem(out, idx, column.at(idx), out.at[idx, name], reason + _placeholder_hint(out.at[idx, name])))
    absent = out[name].isna()
    for idx in out.index[absent]:
        ctx.problems.append(_problem(out, idx, column.at(idx), None, f"{name} is required (blank or missing)"))
    out[name] = cents
    if table == "deals" and name == "amount_cents":  # the exact amount, for revenue sums
        out[model.AMOUNT_MICROS] = micros


def _parse_micros_column(ctx: _Context, out: pd.DataFrame, name: str, column: _SourceColumn) -> None:
    """Exact decimals (a measure's value, ``0.92``, ``3``) to int64 millionths, read from their text.

    The amount parser's rule (``values._parse_exact``): digits with
    an optional sign and decimal point, more than six decimals rounded half away from zero
    at the sixth; never through a float.
    """
    _, micros, reasons = _parse_exact(out[name], Amount())
    for idx in reasons:
        value = out.at[idx, name]
        ctx.problems.append(_problem(out, idx, column.at(idx), value, plain_number_refusal(value) + _placeholder_hint(value)))
    for idx in out.index[out[name].isna()]:
        ctx.problems.append(_problem(out, idx, column.at(idx), None, f"{name} is required (blank or missing)"))
    out[name] = micros


def _parse_number_column(ctx: _Context, out: pd.DataFrame, name: str, column: _SourceColumn) -> None:
    """Plain decimal numbers (probabilities) to float64."""
    vals, bad = _parse_float(out[name])
    for idx in out.index[bad]:
        ctx.problems.append(
            _problem(
                out,
                idx,
                column.at(idx),
                out.at[idx, name],
                "not a number (digits with an optional sign and decimal point, e.g. 0.25)" + _placeholder_hint(out.at[idx, name]),
            )
        )
    out[name] = vals


def _derive_period_end(table: str, tm: TableMapping, out: pd.DataFrame) -> None:
    """Quotas' ``period_end`` from ``period_months`` when it is not mapped (in place)."""
    if table == "quotas" and "period_end" not in tm.columns and tm.period_months is not None:
        out["period_end"] = (out["period_start"] + pd.DateOffset(months=tm.period_months) - pd.Timedelta(days=1)).astype(
            "datetime64[ns]"
        )


# -- forecast categories (issue #13 item 11, group "categories") --
def _category_key(text: str) -> str:
    """``Best Case`` / ``BestCase`` / ``best_case`` -> ``bestcase`` (Salesforce labels and API names alike)."""
    return "".join(ch for ch in text.lower() if ch.isalnum())


_CATEGORY_KEYS = {_category_key(c): c for c in model.FORECAST_CATEGORIES}


def _forecast_category_column(
    ctx: _Context, tm: TableMapping, rows: pd.DataFrame, out: pd.DataFrame, src_cols: dict[str, str]
) -> pd.DataFrame:
    """The pipeline's ``forecast_category``: the mapped column where a row has one, else its stage's category.

    Only when the mapping declares ``forecast_categories`` or maps ``forecast_category``
    (otherwise the table has no such column and no report shows categories). A row
    without a category (its stage not in ``forecast_categories``, no override) and a
    value that is no category are problems naming the row; an open opportunity in
    *Closed* is one too (Closed is the won deals), checked by :func:`reportkit.data.model.validate_dataset`.
    """
    name = model.FORECAST_CATEGORY
    mapped = name in tm.columns
    if not mapped and not tm.forecast_categories:
        return out
    given = pd.Series(None, index=out.index, dtype="object")
    bad = pd.Series(False, index=out.index)
    if mapped:
        text = tm.columns[name]
        raw = (_render(rows, text) if _template_fields(text) is not None else rows[text]).loc[out.index]
        src_cols[name] = text
        raw = raw.where(~_missing(raw), None)
        given = raw.map(lambda v: None if v is None else _CATEGORY_KEYS.get(_category_key(str(v))))
        bad = raw.notna() & given.isna()
        for idx in out.index[bad.to_numpy()]:
            v = str(raw.at[idx])
            ctx.problems.append(
                _problem(
                    out,
                    idx,
                    text,
                    v,
                    f"not a forecast category (allowed: {', '.join(model.OPEN_FORECAST_CATEGORIES)}, "
                    f"or Salesforce's labels such as 'Best Case'){did_you_mean(v, model.FORECAST_CATEGORIES)}",
                )
            )
    from_stage = out["stage"].map(lambda v: tm.forecast_categories.get(str(v)) if isinstance(v, str) else None)
    cat = given.where(given.notna(), from_stage)
    stages = list(tm.forecast_categories)
    for idx in out.index[(cat.isna() & ~bad & out["stage"].notna()).to_numpy()]:
        stage = str(out.at[idx, "stage"])
        declared = f"declared stages: {', '.join(stages)}{did_you_mean(stage, stages)}" if stages else "no stage table"
        ctx.problems.append(
            _problem(
                out,
                idx,
                src_cols.get("stage", "stage"),
                stage,
                f"stage {stage!r} has no forecast category ({declared}); add it to pipeline.forecast_categories "
                f"in the source mapping{' or fill the ' + repr(tm.columns[name]) + ' column' if mapped else ''}",
            )
        )
    out[name] = cat.astype("str").where(cat.notna(), None)
    # rows with a problem leave (as recode's): a blank stage stays, for validation to report (stage is required)
    placed = ((cat.notna() & ~bad) | out["stage"].isna()).to_numpy()
    return out if placed.all() else out[placed]
