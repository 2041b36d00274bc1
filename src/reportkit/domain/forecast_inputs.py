"""What the forecast methods read: each entity's revenue series and open pipeline, per level.

An *entity* is an account manager, a team or the company (:data:`LEVELS`).
:func:`level_revenue` gives each entity's credited revenue rows (every deal once
per entity), :func:`revenue_by_entity` their exact totals, :func:`open_pipeline`
the open opportunities that can still close in the year, :func:`team_of` the one
account manager -> team mapping of a level.

**Credit once, cut the rows.** The backtest forecasts the data as it stood at each
cutoff ``c``; it does not credit the data cut at ``c`` again: :func:`level_revenues` of the
whole data set, then :func:`revenue_through` ``c``. That is the same frame, row for row,
because every crediting rule (:mod:`reportkit.domain._credit_core`) decides a deal's
credits from that deal's own row and the tables (territories, accounts' handover dates,
the deal's own splits, account managers), never from other deals: cutting the deals at
``c`` removes exactly the credits of the deals closed after ``c``; a deal's credits share
its ``close_date``, so they are cut together, and the order (close date, deal id, account
manager id) of the rest is unchanged; a team's each-deal-once rows keep the same first
row. ``tests/test_forecast_inputs_cut.py`` pins it with a hypothesis property. :mod:`reportkit.domain.forecast` forecasts
from them.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from ..core.money import micros_to_cents, rdiv
from ..core.types import PPM
from ..data.model import Dataset
from ._credit_core import arrow_str, lookup
from .crediting import _strings, credited_deals, deal_codes

__all__ = [
    "Level",
    "LEVELS",
    "COMPANY",
    "level_revenue",
    "level_revenues",
    "revenue_through",
    "revenue_by_entity",
    "open_pipeline",
    "pipeline_coverage",
    "team_of",
]

Level = Literal["account_manager", "team", "company"]

#: Aggregation levels of :func:`level_revenue` / :func:`annual_forecasts`.
LEVELS: tuple[str, ...] = ("account_manager", "team", "company")

#: Entity id of the company level.
COMPANY = "(company)"


def _empty_revenue() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "entity": pd.Series([], dtype="str"),
            "close_date": pd.Series([], dtype="datetime64[ns]"),
            "cents": pd.Series([], dtype="int64"),
            "micros": pd.Series([], dtype="int64"),
        }
    )


def team_of(account_managers: pd.DataFrame | None) -> pd.Series:
    """Team per account manager id (str Series indexed by id; empty without a table)."""
    if account_managers is None or len(account_managers) == 0:
        return pd.Series([], dtype="str")
    am = account_managers.drop_duplicates("account_manager_id")
    return pd.Series(am["team"].astype("str").to_numpy(), index=am["account_manager_id"].astype("str").to_numpy())


def _entity_rows(
    credited: pd.DataFrame, level: str, account_managers: pd.DataFrame | None, deals: np.ndarray | None = None
) -> tuple[np.ndarray, list[str], np.ndarray, str]:
    """The one rule of :func:`level_revenue` on integer codes: which credit rows count for which entity.

    Returns ``(codes, labels, rows, amount)``: credit row ``rows[i]`` counts for entity
    ``labels[codes[i]]`` (``labels`` sorted), with the amount columns ``amount`` (``credit``
    for an account manager, ``amount`` for a team or the company: the deal's). No Python
    string per credit and no copy of a text column: the ids are looked up in Arrow
    (``docs/batch.md``, "Fourth pass"). ``deals``: the
    :func:`~reportkit.domain.crediting.deal_codes` of ``credited``, when the caller has them.
    """
    n = len(credited)
    if level == "account_manager":
        am = arrow_str(credited["account_manager_id"])
        labels = sorted(str(v) for v in pc.unique(am).to_pylist() if v is not None)
        codes = lookup(am, np.asarray(labels, dtype=object))
        rows = np.flatnonzero(codes >= 0)
        return codes[rows], labels, rows, "credit"
    if level == "company":
        labels, team = [COMPANY], np.zeros(n, np.int64)
    else:
        teams = team_of(account_managers)
        labels = sorted({str(t) for t in teams.dropna()})
        am_team = np.array([labels.index(str(t)) if isinstance(t, str) else -1 for t in teams] + [-1], dtype=np.int64)
        pos = lookup(credited["account_manager_id"], np.asarray(teams.index, dtype=object)) if len(teams) else np.full(n, -1)
        team = am_team[pos]  # an account manager the table does not know (-1) has no team
    # each deal once per team (the company: once): the first of its credits (the credits' order) in that entity
    deal_code = deal_codes(credited) if deals is None else deals
    key = np.where(team >= 0, team * (len(deal_code) + 1) + deal_code, -1)
    _, first = np.unique(key, return_index=True)
    first = np.sort(first)
    rows = first[team[first] >= 0]
    return team[rows], labels, rows, "amount"


def level_revenue(credited: pd.DataFrame, level: str, account_managers: pd.DataFrame | None = None) -> pd.DataFrame:
    """Revenue rows of each entity of ``level``, every deal counted once per entity.

    Parameters
    ----------
    credited : DataFrame
        Output of :func:`reportkit.domain.crediting.credited_deals`.
    level : {"account_manager", "team", "company"}
        ``account_manager``: the credited account manager and their credit (an
        overlay deal counts for each person it credits). ``team``: the
        credited person's ``team`` in ``account_managers``; a deal that credits
        several members of one team counts **once** for that team. ``company``:
        every deal once (entity :data:`COMPANY`).
    account_managers : DataFrame, optional
        Needed for ``team``.

    Returns
    -------
    DataFrame
        ``entity`` (str), ``close_date`` (datetime64), ``cents`` (int64, the line rounded
        to the cent), ``micros`` (int64, the exact amount: sums of lines use it, rounded
        once by :func:`revenue_by_entity`), in the credits' order (close date, deal id,
        account manager id). No deal id: a deal is counted once per entity here, and no
        forecast reads which deal a row was. :func:`level_revenues` gives the same
        revenue summed per entity and day, which is all a forecast reads.
    """
    if level not in LEVELS:
        raise ValueError(f"level {level!r} is not one of {LEVELS}")
    if credited is None or len(credited) == 0:
        return _empty_revenue()
    codes, labels, rows, amount = _entity_rows(credited, level, account_managers)
    return pd.DataFrame(
        {
            "entity": _strings(codes, labels),
            "close_date": pd.to_datetime(credited["close_date"].to_numpy()[rows]).astype("datetime64[ns]"),
            "cents": credited[f"{amount}_cents"].to_numpy(np.int64)[rows],
            "micros": credited[f"{amount}_micros"].to_numpy(np.int64)[rows],
        }
    )


def level_revenues(
    dataset: Dataset, levels: Sequence[str] = LEVELS, *, credited: pd.DataFrame | None = None
) -> dict[str, pd.DataFrame]:
    """Each of ``levels``' revenue per entity and day, from one :func:`~reportkit.domain.crediting.credited_deals` of ``dataset``.

    The rows of :func:`level_revenue` summed per ``entity`` and ``close_date``: the same
    columns, one row per entity and day (ordered by day, then entity), ``cents`` and
    ``micros`` the day's lines summed exactly. A forecast, its backtest and
    :func:`revenue_by_entity` only ever add these rows up by entity and by period (a day
    belongs to one month and one quarter), so they get the same figures from a few
    thousand rows instead of one row per credit (at 800,000 deals 2.4 million rows and
    about 110 MB, held through the whole backtest: ``docs/batch.md``, "Fourth pass").
    The crediting is not kept. Cut to a date with :func:`revenue_through`: the same rows
    as crediting the data cut at that date (the module docstring says why).

    Parameters
    ----------
    dataset : Dataset
    levels : sequence of {"account_manager", "team", "company"}
    credited : DataFrame, optional
        ``credited_deals(dataset)`` (no crediting factors by deal type) when the caller
        holds it already (a batch's report context): not credited a second time, which
        at 800,000 deals was 114 MB more at the batch's peak and a few seconds.

    Returns
    -------
    dict of str to DataFrame
        ``entity`` (str), ``close_date`` (datetime64), ``cents``, ``micros`` (int64) per level.
    """
    if credited is None:
        credited = credited_deals(dataset)
    out = {}
    deals = deal_codes(credited) if len(credited) and set(levels) - {"account_manager"} else None
    for lv in levels:
        if lv not in LEVELS:
            raise ValueError(f"level {lv!r} is not one of {LEVELS}")
        if len(credited) == 0:
            out[lv] = _empty_revenue()
            continue
        codes, labels, rows, amount = _entity_rows(credited, lv, dataset.account_managers, deals)
        day = credited["close_date"].to_numpy("datetime64[ns]").view(np.int64)[rows]
        order = np.lexsort((codes, day))
        codes, day = codes[order], day[order]
        seg = np.flatnonzero(np.r_[True, (codes[1:] != codes[:-1]) | (day[1:] != day[:-1])]) if len(order) else order
        sums = {
            k: np.add.reduceat(credited[f"{amount}_{k}"].to_numpy(np.int64)[rows][order], seg)
            if len(seg)
            else np.zeros(0, np.int64)
            for k in ("cents", "micros")
        }
        out[lv] = pd.DataFrame(
            {
                "entity": _strings(codes[seg], labels),
                "close_date": day[seg].view("datetime64[ns]"),
                "cents": sums["cents"].astype(np.int64),
                "micros": sums["micros"].astype(np.int64),
            }
        )
    return out


def revenue_through(revenue: pd.DataFrame, day: datetime.date) -> pd.DataFrame:
    """The rows of a :func:`level_revenue` frame closed on or before ``day`` (fresh RangeIndex).

    ``revenue_through(level_revenue(credited_deals(ds), lv), c)`` equals
    ``level_revenue(credited_deals(ds cut at c), lv)`` (the module docstring).
    """
    keep = (revenue["close_date"] <= np.datetime64(day, "ns")).to_numpy()
    return revenue if keep.all() else revenue.loc[keep].reset_index(drop=True)


def open_pipeline(
    pipeline: pd.DataFrame | None,
    level: str,
    as_of: datetime.date,
    year_end: datetime.date,
    account_managers: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Open opportunities that can still close in the fiscal year, per entity of ``level``.

    Kept: opportunities whose ``expected_close_date`` is after ``as_of`` and on or
    before ``year_end``, or undated (an undated open opportunity is assumed to
    be workable this year). Overdue ones (expected before ``as_of`` but still
    open) are left out: they have already slipped once.

    Returns
    -------
    DataFrame
        ``entity``, ``opportunity_id``, ``probability`` (float), ``amount_cents`` (int64),
        ``weighted`` (float cents = probability x amount).
    """
    cols = {"entity": "str", "opportunity_id": "str", "probability": "float64", "amount_cents": "int64", "weighted": "float64"}
    if pipeline is None or len(pipeline) == 0 or as_of >= year_end:
        return pd.DataFrame({k: pd.Series([], dtype=v) for k, v in cols.items()})
    ecd = (
        pd.to_datetime(pipeline["expected_close_date"])
        if "expected_close_date" in pipeline
        else pd.Series(pd.NaT, index=pipeline.index)
    )
    keep = ecd.isna() | ((ecd > np.datetime64(as_of, "ns")) & (ecd <= np.datetime64(year_end, "ns")))
    p = pipeline.loc[keep.to_numpy()]
    am = p["account_manager_id"].astype("str")
    if level == "account_manager":
        entity = am
    elif level == "team":
        entity = am.map(team_of(account_managers))
    elif level == "company":
        entity = pd.Series(COMPANY, index=p.index)
    else:
        raise ValueError(f"level {level!r} is not one of {LEVELS}")
    prob = pd.to_numeric(p["probability"], errors="coerce").fillna(0.0).clip(0, 1).astype("float64")
    out = pd.DataFrame(
        {
            "entity": entity.to_numpy(),
            "opportunity_id": p["opportunity_id"].astype("str").to_numpy(),
            "probability": prob.to_numpy(),
            "amount_cents": p["amount_cents"].astype("int64").to_numpy(),
        }
    )
    out = out.loc[out["entity"].notna().to_numpy()].reset_index(drop=True)
    out["entity"] = out["entity"].astype("str")
    out["weighted"] = out["probability"] * out["amount_cents"]
    return out


def revenue_by_entity(rev: pd.DataFrame) -> pd.Series:
    """Revenue per ``entity`` of a :func:`level_revenue` frame in cents (int64 Series).

    The exact ``micros`` summed and rounded once (:func:`reportkit.core.money.micros_to_cents`),
    as every revenue aggregate; a frame without ``micros`` (built by hand) sums ``cents``.
    """
    if "micros" not in rev.columns:
        return rev.groupby("entity")["cents"].sum().astype("int64")
    g = rev.groupby("entity")["micros"].sum()
    return pd.Series(micros_to_cents(g.to_numpy(np.int64)), index=g.index, dtype="int64")


def pipeline_coverage(
    pipeline: pd.DataFrame | None,
    account_manager_ids: list[str],
    as_of: datetime.date,
    year_end: datetime.date,
    annual_quota_cents: int | None,
    ytd_credited_cents: int,
    win_rate: float | None,
) -> dict[str, int | float | None]:
    """Pipeline coverage: the open pipeline that can still close this year against the quota still to close.

    Rules
    -----
    * open pipeline: :func:`open_pipeline` of the account managers' opportunities
      (expected to close after ``as_of`` and by ``year_end``, or undated);
      *unweighted* = their amounts; *weighted* = probability x amount, with the
      probability as integer parts per million, summed exactly and rounded once
      half away from zero (the rule of the forecast's pipeline bands);
    * quota still to close = annual quota - year-to-date credited revenue (the
      attainment basis), never below zero; None without an annual quota, and
      None once the fiscal year is over (``as_of`` on or after ``year_end``:
      nothing is left to close in it);
    * coverage = pipeline / quota still to close (None when nothing is left to close);
    * the coverage the win rate implies = 1 / win rate: the pipeline needed to close
      the gap if opportunities convert as closed deals have (None without a win rate).

    Returns
    -------
    dict
        ``opportunities`` (int), ``unweighted_cents``, ``weighted_cents`` (int),
        ``quota_to_close_cents`` (int or None), ``coverage``, ``weighted_coverage``,
        ``implied_coverage`` (float or None).

    Examples
    --------
    >>> p = pd.DataFrame({"opportunity_id": ["o1", "o2"], "account_manager_id": ["A", "A"],
    ...     "probability": [0.5, 0.25], "amount_cents": [10_001, 40_000],
    ...     "expected_close_date": pd.to_datetime(["2025-11-15", "2025-12-20"])})
    >>> c = pipeline_coverage(p, ["A"], datetime.date(2025, 9, 30), datetime.date(2025, 12, 31), 100_000, 75_000, 0.25)
    >>> c["weighted_cents"], c["quota_to_close_cents"], c["coverage"], c["implied_coverage"]
    (15001, 25000, 2.00004, 4.0)
    """
    if pipeline is not None:
        pipeline = pipeline.loc[pipeline["account_manager_id"].astype("str").isin(list(account_manager_ids)).to_numpy()]
    pipe = open_pipeline(pipeline, "company", as_of, year_end)
    ppm = np.rint(pipe["probability"].to_numpy(dtype="float64") * PPM).astype("int64").astype(object)
    weighted = rdiv(int(sum(ppm * pipe["amount_cents"].to_numpy(dtype="int64").astype(object))), PPM) if len(pipe) else 0
    unweighted = int(pipe["amount_cents"].sum())
    year_over = as_of >= year_end
    to_close = None if annual_quota_cents is None or year_over else max(0, int(annual_quota_cents) - int(ytd_credited_cents))
    return {
        "opportunities": len(pipe),
        "unweighted_cents": unweighted,
        "weighted_cents": int(weighted),
        "quota_to_close_cents": to_close,
        "coverage": unweighted / to_close if to_close else None,
        "weighted_coverage": int(weighted) / to_close if to_close else None,
        "implied_coverage": 1 / win_rate if win_rate else None,
    }
