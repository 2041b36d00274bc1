"""Messages of a load: each bad cell as a :class:`~reportkit.core.errors.DataProblem`, and the one error.

A problem names the source file, the source row (header = 1, first data row = 2),
the source column, the bad value and the fix. The checks here need more than one
cell: mixed currencies, account managers missing from the roster, won deals that
would credit nobody, deals outside every quota period (a warning, not a problem).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...core.errors import DataError, DataProblem, did_you_mean
from ...core.words import counted, in_number
from .. import model

if TYPE_CHECKING:
    from .read import _Context

_ROW = model.SOURCE_ROW
_FILE = model.SOURCE_FILE


def _problem(df: pd.DataFrame, idx: Any, column: str | None, value: Any, reason: str) -> DataProblem:
    return DataProblem(str(df.at[idx, _FILE]), int(df.at[idx, _ROW]), column, value, reason)


def _where_rows(frame: pd.DataFrame, index: Any) -> str:
    parts: dict[str, list[str]] = {}
    for idx in index:
        parts.setdefault(str(frame.at[idx, _FILE]), []).append(str(int(frame.at[idx, _ROW])))
    return "; ".join(f"{f} row{'s' if len(r) > 1 else ''} {', '.join(r)}" for f, r in parts.items())


def _currency_problems(ctx: _Context, table: str, out: pd.DataFrame, src_cols: dict[str, str]) -> None:
    want = ctx.mapping.currency
    cur = out["currency"]
    bad = cur.notna() & (cur.astype("str") != want)
    if not bad.any():
        return
    counts = cur[cur.notna()].astype("str").value_counts()
    others = sorted(set(cur[bad].astype("str")))
    summary = ", ".join(f"{c}: {counted(int(counts[c]), 'row')}" for c in [want, *others] if c in counts)
    column = src_cols.get("currency", "currency")
    for idx in out.index[bad]:
        ctx.problems.append(
            _problem(
                out,
                idx,
                column,
                out.at[idx, "currency"],
                f"amount in {out.at[idx, 'currency']} but the dataset currency is {want} ({table} holds {summary}); "
                + (
                    f"quotas are set in the reporting currency, the one every plan computes in (a plan paid in "
                    f"another currency says payout_currency): convert them to {want} at your fiscal year's plan rate "
                    "before loading (an fx_rates table converts deals only: a quota converted at dated rates would "
                    "move attainment with the exchange rate)"
                    if table == "quotas"
                    else "declare an fx_rates table in the source mapping (currency, rate_date, rate: units of "
                    f"{want} per unit; docs/mapping.md, 'Deals in several currencies') to convert deals at load, "
                    f"or filter these rows out (filter: / drop_rows_where:) or convert the amounts to {want} before loading"
                ),
            )
        )


def _uncredited_deal_problems(
    raw: model.Dataset, ds: model.Dataset, src_cols: dict[str, dict[str, str]], rule: Callable[[model.Dataset], np.ndarray]
) -> list[DataProblem]:
    """One problem per won deal that would credit nobody for want of an owner.

    The rule is the engine's (``rule``, :func:`reportkit.domain.crediting.ownerless_uncredited`: no
    owner and, with ``crediting: territory``, a blank territory or one no account
    manager covers; deals closed before their account's handover date are
    business development and not listed). Run on the validated ``ds``; ``raw`` is
    the same tables in the same order with provenance, for file and row.
    """
    if ds.crediting != "territory":
        return []  # owner crediting refuses every blank owner in model.validate_dataset
    rows = rule(ds)
    if not len(rows):
        return []
    cols = src_cols.get("deals", {})
    owner_col, terr_col = cols.get("account_manager_id", "account_manager_id"), cols.get("territory", "territory")
    terr_file = raw.sources.get("territories") or "territories"
    out = []
    for i in rows:
        deal = ds.deals.iloc[i]
        territory = None if pd.isna(deal["territory"]) else str(deal["territory"])
        head = (
            f"won deal {deal['deal_id']!r} ({Decimal(int(deal['amount_cents'])).scaleb(-2):,} {ds.currency}) has no owner "
            f"(column {owner_col!r} is blank) and "
        )
        if territory is None:
            why = (
                f"no territory (column {terr_col!r} is blank), so it credits nobody and would be left out "
                "of every report and total; give the deal an owner or a territory that a territories row "
                f"({terr_file}) covers"
            )
        else:
            why = (
                f"no account manager covers its territory {territory!r} in {terr_file}, so it credits nobody "
                "and would be left out of every report and total; give the deal an owner or add a "
                f"territories row covering territory {territory!r}"
            )
        out.append(_problem(raw.deals, raw.deals.index[i], terr_col, territory, head + why))
    return out


UNKNOWN_ID_FIX = "add them to the roster or correct the ids (ids are text: '00731' is not '731')"
"""The fix for account managers missing from the roster, said once per error (:func:`_data_error`)."""


ROSTER_REFERENCES = (
    ("deals", "account_manager_id"),
    ("quotas", "account_manager_id"),
    ("pipeline", "account_manager_id"),
    ("accounts", "owner_id"),
    ("splits", "account_manager_id"),
)
"""The (table, column) references :func:`_unknown_manager_summary` checks against the roster, every bad row
reported: ``validate_dataset(refs_checked=...)`` skips them."""


def _unknown_manager_summary(ds: model.Dataset, src_cols: dict[str, dict[str, str]]) -> tuple[list[DataProblem], list[str]]:
    """Rows naming an account manager missing from the roster: one problem per row, one summary per table.

    Returns
    -------
    problems : list of DataProblem
        One per row: the id and a did-you-mean (supersedes the model's per-row problem).
    summaries : list of str
        One per table: how many rows, and every unknown id of it (the first ten), said once
        above the rows by :func:`_data_error`, which says the fix (:data:`UNKNOWN_ID_FIX`) once.
    """
    out, summaries = [], []
    known = set(ds.account_managers["account_manager_id"].dropna().astype(str))
    roster = ds.sources.get("account_managers") or "account_managers"
    for table, col in ROSTER_REFERENCES:
        frame = ds.table(table)
        if frame is None or not len(frame) or col not in frame.columns:
            continue
        ids = frame[col]
        bad = ids.notna() & ~ids.astype(str).isin(known)
        if not bad.any():
            continue
        unknown = sorted(set(ids[bad].astype(str)))
        shown = ", ".join(repr(u) for u in unknown[:10]) + (" ..." if len(unknown) > 10 else "")
        n = int(bad.sum())
        summaries.append(
            f"{counted(n, table + ' row')} {in_number(n, 'names', 'name')} "
            f"{in_number(len(unknown), 'an account manager', 'account managers')} not in the roster ({roster}): {shown}"
        )
        column = src_cols.get(table, {}).get(col, col)
        for idx in frame.index[bad]:
            value = str(frame.at[idx, col])
            out.append(_problem(frame, idx, column, value, f"not in the roster{did_you_mean(value, known)}"))
    return out, summaries


def _outside_quota_periods(ds: model.Dataset) -> list[str]:
    """Warn about deals dated outside every quota period (they load; attainment is n/a there)."""
    q, d = ds.quotas, ds.deals
    if q is None or not len(q) or not len(d):
        return []
    spans = q[["period_start", "period_end"]].drop_duplicates().sort_values("period_start")
    dates = d["close_date"].to_numpy(dtype="datetime64[ns]")
    starts = spans["period_start"].to_numpy(dtype="datetime64[ns]")
    # a date is within a period iff, of the periods begun on or before it, the latest end is not before it (NaT: never)
    ends = np.maximum.accumulate(spans["period_end"].to_numpy(dtype="datetime64[ns]"))
    last = np.searchsorted(starts, dates, side="right") - 1
    inside = (last >= 0) & (dates <= ends[np.maximum(last, 0)])
    n = int((~inside).sum())
    if not n:
        return []
    lo, hi = spans["period_start"].min(), spans["period_end"].max()
    ids = ", ".join(d.loc[~inside, "deal_id"].astype(str).head(5)) + (" ..." if n > 5 else "")
    return [
        f"deals: {n} of {counted(len(d), 'deal')} close outside every quota period "
        f"(quotas cover {lo:%Y-%m-%d} .. {hi:%Y-%m-%d} with gaps where no period is defined): {ids}; "
        f"they are loaded and count in their own periods, where attainment is n/a (no quota)"
    ]


def _data_error(problems: list[DataProblem], mapping_path: Path, unknown_ids: Sequence[str] = ()) -> DataError:
    """The load's one error: a count, the summaries of ids missing from the roster, every row, the fix once."""
    problems = sorted(problems, key=lambda p: (p.file, p.row if p.row is not None else 0, p.column or ""))
    files = ", ".join(dict.fromkeys(p.file for p in problems))
    fix = "fix the listed cells in the source files, or declare placeholders / formats in the mapping"
    return DataError(
        "\n".join([f"{counted(len(problems), 'data problem')} loading {mapping_path} (in {files})", *unknown_ids]),
        problems,
        hint=f"account managers not in the roster: {UNKNOWN_ID_FIX}; {fix}" if unknown_ids else fix,
    )
