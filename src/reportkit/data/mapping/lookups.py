"""Step 7 of a table: ``lookups``, left joins with another source that translate keys or bring columns."""

from __future__ import annotations

import pandas as pd

from ...core.errors import MappingError, did_you_mean
from ...core.words import in_number
from .problems import _problem
from .read import _FILE, _ROW, _apply_na, _apply_normalise, _Context, _require_columns
from .schema import Lookup


def _apply_lookup(ctx: _Context, table: str, df: pd.DataFrame, lk: Lookup) -> pd.DataFrame:
    right = ctx.read(lk.source, f"{table} lookup")
    label = str(right[_FILE].iloc[0]) if len(right) else "lookup"
    keys = lk.keys
    brought = lk.brought
    _require_columns(right, list(keys.values()) + list(brought) + list(lk.normalise), label, f"a lookup of {table}")
    rcols = [c for c in right.columns if not str(c).startswith("_source")]
    right = _apply_na(right.astype(dict.fromkeys(rcols, "str")), lk.na_values, rcols)
    right = _apply_normalise(right, lk.normalise)
    dup = right.duplicated(list(keys.values()), keep=False) & right[list(keys.values())].notna().all(axis=1)
    if dup.any():
        first = right[dup].iloc[0]
        raise MappingError(
            f"{label}: lookup key {', '.join(keys.values())} is not unique "
            f"(e.g. {', '.join(str(first[c]) for c in keys.values())} at rows "
            f"{', '.join(str(r) for r in right.loc[dup, _ROW].head(4))})",
            hint="a lookup must translate each key to one value; deduplicate the lookup source or choose another key",
        )
    clash = [new for new in brought.values() if new in df.columns]
    if clash:
        raise MappingError(
            f"lookup of {table} from {label}: {in_number(len(clash), 'column')} {', '.join(clash)} already "
            f"{in_number(len(clash), 'exists', 'exist')}",
            hint="rename them with columns: {lookup column: new name}",
        )
    sub = right[list(keys.values()) + list(brought)].rename(columns={**{v: f"_lk_{k}" for k, v in keys.items()}, **brought})
    left_keys = list(keys)
    merged = df.merge(
        sub, how="left", left_on=left_keys, right_on=[f"_lk_{k}" for k in left_keys], indicator="_lk_found", sort=False
    )
    if len(merged) != len(df):  # cannot happen with a unique right key; guard anyway
        raise MappingError(f"lookup of {table} from {label} changed the row count")
    if lk.required:
        has_key = merged[left_keys].notna().all(axis=1)
        miss = has_key & (merged["_lk_found"] == "left_only")
        known = right[next(iter(keys.values()))].dropna().astype(str).unique().tolist()
        for idx in merged.index[miss]:
            k0 = left_keys[0]
            val = merged.at[idx, k0]
            ctx.problems.append(
                _problem(
                    merged,
                    idx,
                    k0,
                    val,
                    f"no match in lookup {label} column {keys[k0]!r}{did_you_mean(str(val), known)}",
                )
            )
        if miss.any():
            merged = merged[~miss]
    drop = [f"_lk_{k}" for k in left_keys] + ["_lk_found"]
    return merged.drop(columns=drop).reset_index(drop=True)
