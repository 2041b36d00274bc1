"""What the forecast methods read: each entity's revenue series and open pipeline, per level.

An *entity* is an account manager, a team or the company (:data:`LEVELS`).
:func:`level_revenue` gives each entity's credited revenue rows (every deal once
per entity), :func:`revenue_by_entity` their exact totals, :func:`open_pipeline`
the open opportunities that can still close in the year, :func:`team_of` the one
account manager -> team mapping of a level. :mod:`reportkit.domain.forecast` forecasts
from them.
"""

from __future__ import annotations

import datetime
from typing import Literal

import numpy as np
import pandas as pd

from ..core.money import micros_to_cents

__all__ = ["Level", "LEVELS", "COMPANY", "level_revenue", "revenue_by_entity", "open_pipeline", "team_of"]

Level = Literal["account_manager", "team", "company"]

#: Aggregation levels of :func:`level_revenue` / :func:`annual_forecasts`.
LEVELS: tuple[str, ...] = ("account_manager", "team", "company")

#: Entity id of the company level.
COMPANY = "(company)"


def _empty_revenue() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "entity": pd.Series([], dtype="str"),
            "deal_id": pd.Series([], dtype="str"),
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
        ``entity`` (str), ``deal_id`` (str), ``close_date`` (datetime64), ``cents`` (int64,
        the line rounded to the cent), ``micros`` (int64, the exact amount: sums of
        lines use it, rounded once by :func:`revenue_by_entity`).
    """
    if level not in LEVELS:
        raise ValueError(f"level {level!r} is not one of {LEVELS}")
    if credited is None or len(credited) == 0:
        return _empty_revenue()
    if level == "account_manager":
        out = pd.DataFrame(
            {
                "entity": credited["account_manager_id"].astype("str").to_numpy(),
                "deal_id": credited["deal_id"].astype("str").to_numpy(),
                "close_date": credited["close_date"].to_numpy(),
                "cents": credited["credit_cents"].astype("int64").to_numpy(),
                "micros": credited["credit_micros"].astype("int64").to_numpy(),
            }
        )
    else:
        if level == "team":
            team = credited["account_manager_id"].astype("str").map(team_of(account_managers))
            keep = team.notna().to_numpy()
            entity = team[keep].astype("str").to_numpy()
            c = credited.loc[keep]
        else:
            c = credited
            entity = np.full(len(c), COMPANY, dtype=object)
        out = pd.DataFrame(
            {
                "entity": pd.Series(entity, dtype="str").to_numpy(),
                "deal_id": c["deal_id"].astype("str").to_numpy(),
                "close_date": c["close_date"].to_numpy(),
                "cents": c["amount_cents"].astype("int64").to_numpy(),
                "micros": c["amount_micros"].astype("int64").to_numpy(),
            }
        ).drop_duplicates(["entity", "deal_id"])
    out["entity"] = out["entity"].astype("str")
    out["close_date"] = pd.to_datetime(out["close_date"]).astype("datetime64[ns]")
    return out.reset_index(drop=True)


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
