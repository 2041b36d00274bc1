"""Forecast categories as Salesforce defines them, per period, with the cumulative roll-ups.

Each open opportunity of ``pipeline`` is in one forecast category (its
``forecast_category`` column, filled by the source mapping from the stage table
``pipeline.forecast_categories`` or a rep's override): **Pipeline**, **Best
Case**, **Most Likely**, **Commit** or **Omitted**. **Closed** is not an open
opportunity: it is the revenue of the won deals closed in the period.

The rules (Salesforce Help, "Rollup Methods for Pipeline Forecasts", and the
``ForecastingItemCategory`` values of the ``ForecastingSubmissionItem`` object;
``docs/forecasting.md`` quotes both and works an example):

* an opportunity counts in the period its **expected close date** falls in, at its
  full **amount** (not probability-weighted: Salesforce adds the Amount, not the
  Expected Amount). An undated open opportunity counts in the period that
  contains ``as_of`` (the current one), in no other;
* **single-category** amounts: each category on its own (Closed = won deals);
* **cumulative** roll-ups: Closed Only = Closed; Commit Forecast = Closed +
  Commit; Most Likely Forecast = Closed + Commit + Most Likely; Best Case
  Forecast = Closed + Commit + Most Likely + Best Case; **Open Pipeline** =
  Pipeline + Best Case + Most Likely + Commit, open opportunities only: Closed is
  **never** in it;
* **Omitted** opportunities are in no forecast (the table lists them apart).

A group (a team, the company) counts each opportunity once (it has one owner)
and each won deal once (:func:`reportkit.domain.crediting.team_revenue`, the rule
the reports' revenue follows), so its Closed is the group's revenue of the period.
All amounts are whole cents added exactly: nothing is rounded.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..core.money import cents_to_money
from ..data.model import FORECAST_CATEGORY
from .crediting import credited_in, team_revenue
from .forecast_inputs import COMPANY, LEVELS

__all__ = [
    "CATEGORY_LABELS",
    "SINGLE_CATEGORIES",
    "CUMULATIVE_ROLLUPS",
    "FORECAST_CATEGORY_COLUMNS",
    "has_forecast_categories",
    "opportunities_in_period",
    "category_amounts",
    "forecast_category_table",
    "forecast_categories_by_entity",
    "rollup_rule",
]

#: Display name of each category (Salesforce's).
CATEGORY_LABELS: dict[str, str] = {
    "closed": "Closed",
    "commit": "Commit",
    "most_likely": "Most Likely",
    "best_case": "Best Case",
    "pipeline": "Pipeline",
    "omitted": "Omitted",
}

#: The single-category rows, from won to the earliest stage.
SINGLE_CATEGORIES: tuple[str, ...] = ("closed", "commit", "most_likely", "best_case", "pipeline")

#: The cumulative roll-ups: (key, Salesforce's column name, the categories it adds up).
CUMULATIVE_ROLLUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("closed_only", "Closed Only", ("closed",)),
    ("commit_forecast", "Commit Forecast", ("closed", "commit")),
    ("most_likely_forecast", "Most Likely Forecast", ("closed", "commit", "most_likely")),
    ("best_case_forecast", "Best Case Forecast", ("closed", "commit", "most_likely", "best_case")),
    ("open_pipeline", "Open Pipeline", ("pipeline", "best_case", "most_likely", "commit")),
)

#: Columns of :func:`forecast_category_table`.
FORECAST_CATEGORY_COLUMNS = ("key", "forecast", "kind", "includes", "opportunities", "amount")


def has_forecast_categories(pipeline: pd.DataFrame | None) -> bool:
    """Whether ``pipeline`` declares forecast categories (a ``forecast_category`` column).

    Examples
    --------
    >>> has_forecast_categories(None), has_forecast_categories(pd.DataFrame({"forecast_category": ["commit"]}))
    (False, True)
    """
    return pipeline is not None and FORECAST_CATEGORY in pipeline.columns


def opportunities_in_period(
    pipeline: pd.DataFrame, start: datetime.date, end: datetime.date, as_of: datetime.date
) -> pd.DataFrame:
    """The open opportunities forecast in ``start..end``: expected to close in it, or undated in the current period.

    Parameters
    ----------
    pipeline : DataFrame
        Canonical ``pipeline`` rows (``expected_close_date`` may be missing).
    start, end : date
        The period, inclusive.
    as_of : date
        The report date: an undated opportunity counts in the period containing it.

    Returns
    -------
    DataFrame
        The rows of ``pipeline`` kept, each opportunity once.
    """
    ecd = pd.to_datetime(pipeline["expected_close_date"])
    in_period = (ecd >= np.datetime64(start, "ns")) & (ecd <= np.datetime64(end, "ns"))
    keep = in_period | (ecd.isna() & (start <= as_of <= end))
    return pipeline.loc[keep.to_numpy()].drop_duplicates("opportunity_id")


def category_amounts(opportunities: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """Each open category's (number of opportunities, amount in cents) of ``opportunities``.

    Amounts are the opportunities' whole cents added exactly (int), unweighted.

    Examples
    --------
    >>> opp = pd.DataFrame({"forecast_category": ["commit", "commit", "pipeline"], "amount_cents": [100, 250, 5]})
    >>> category_amounts(opp)["commit"], category_amounts(opp)["best_case"]
    ((2, 350), (0, 0))
    """
    cats = opportunities[FORECAST_CATEGORY].astype("str").to_numpy()
    cents = opportunities["amount_cents"].to_numpy(np.int64)
    return {c: (int((cats == c).sum()), int(cents[cats == c].sum())) for c in CATEGORY_LABELS if c != "closed"}


def _single_words(category: str) -> str:
    """What a single-category row counts, in words."""
    if category == "closed":
        return "won deals of the period (revenue)"
    return f"open opportunities in {CATEGORY_LABELS[category]}"


def rollup_rule(period_label: str) -> str:
    """The roll-up rule in plain words, as the reports show it beside the table."""
    return (
        f"Open opportunities count at their full amount (not weighted by probability) in the period of their "
        f"expected close date, {period_label}; undated ones count in the current period. Closed is the revenue of "
        "the deals won in the period (each deal once). The cumulative forecasts add the categories from Closed "
        "upwards: Commit Forecast = Closed + Commit; Most Likely Forecast = Closed + Commit + Most Likely; "
        "Best Case Forecast = Closed + Commit + Most Likely + Best Case. Open Pipeline = Pipeline + Best Case + "
        "Most Likely + Commit: open opportunities only, never Closed. Omitted opportunities are in no forecast."
    )


def forecast_category_table(
    credited: pd.DataFrame,
    pipeline: pd.DataFrame,
    members: Sequence[str],
    start: datetime.date,
    end: datetime.date,
    as_of: datetime.date,
) -> pd.DataFrame:
    """A group's forecast categories in one period: single-category amounts, then the cumulative roll-ups.

    Parameters
    ----------
    credited : DataFrame
        Credited deals (:func:`reportkit.domain.crediting.credited_deals`).
    pipeline : DataFrame
        Canonical ``pipeline`` with its ``forecast_category`` column
        (:func:`has_forecast_categories`).
    members : sequence of str
        The account manager ids of the entity: one for an account manager, a
        team's members, or everybody for the company. Each opportunity and each
        won deal counts once for the group.
    start, end : date
        The period, inclusive.
    as_of : date
        Won deals count up to ``min(as_of, end)`` (the report's revenue);
        undated opportunities count when ``start <= as_of <= end``.

    Returns
    -------
    DataFrame
        One row per single category (Closed, Commit, Most Likely, Best Case,
        Pipeline; ``kind`` ``"category"``), per cumulative roll-up (Closed Only,
        Commit Forecast, Most Likely Forecast, Best Case Forecast, Open Pipeline;
        ``kind`` ``"cumulative"``) and Omitted (``kind`` ``"omitted"``, in no
        forecast). Columns :data:`FORECAST_CATEGORY_COLUMNS`: ``key`` (str),
        ``forecast`` (Salesforce's name), ``kind``, ``includes`` (the categories a
        row adds up, in words), ``opportunities`` (int: open opportunities, or won
        deals for Closed), ``amount`` (``Decimal``, 0.01, the report currency).
        Closed is the won deals' revenue in ``start..min(as_of, end)``, each deal
        once (:func:`reportkit.domain.crediting.team_revenue`); a roll-up is the
        exact sum of its categories' cents.
    """
    ids = [str(m) for m in members]
    cutoff = min(as_of, end)
    won = credited_in(credited, start, cutoff, ids)
    opp = opportunities_in_period(
        pipeline.loc[pipeline["account_manager_id"].astype("str").isin(ids).to_numpy()], start, end, as_of
    )
    parts = category_amounts(opp)
    parts["closed"] = (int(won["deal_id"].nunique()), team_revenue(credited, ids, start, cutoff))
    rows = [(c, CATEGORY_LABELS[c], "category", _single_words(c), *parts[c]) for c in SINGLE_CATEGORIES]
    for key, name, adds in CUMULATIVE_ROLLUPS:
        rows.append(
            (
                key,
                name,
                "cumulative",
                " + ".join(CATEGORY_LABELS[c] for c in adds),
                sum(parts[c][0] for c in adds),
                sum(parts[c][1] for c in adds),
            )
        )
    rows.append(("omitted", CATEGORY_LABELS["omitted"], "omitted", "open opportunities in no forecast", *parts["omitted"]))
    out = pd.DataFrame(rows, columns=list(FORECAST_CATEGORY_COLUMNS))
    for col in ("key", "forecast", "kind", "includes"):
        out[col] = out[col].astype("str")
    out["opportunities"] = out["opportunities"].astype("int64")
    out["amount"] = pd.Series([cents_to_money(int(c)) for c in out["amount"]], dtype="object")
    return out


def forecast_categories_by_entity(
    credited: pd.DataFrame,
    pipeline: pd.DataFrame,
    account_managers: pd.DataFrame,
    level: str,
    start: datetime.date,
    end: datetime.date,
    as_of: datetime.date,
) -> pd.DataFrame:
    """:func:`forecast_category_table` of every entity of ``level``, stacked.

    Parameters
    ----------
    account_managers : DataFrame
        The account managers to report (``account_manager_id``, ``team``): each is an
        entity at ``"account_manager"``; a team's rows are its members at ``"team"``;
        all of them are the company (entity ``(company)``) at ``"company"``.
    level : {"account_manager", "team", "company"}
    credited, pipeline, start, end, as_of
        As for :func:`forecast_category_table`.

    Returns
    -------
    DataFrame
        ``level``, ``entity``, then :data:`FORECAST_CATEGORY_COLUMNS`; 11 rows per entity.

    Raises
    ------
    ValueError
        Unknown ``level``.
    """
    if level not in LEVELS:
        raise ValueError(f"level {level!r} is not one of {', '.join(LEVELS)}")
    ids = account_managers["account_manager_id"].astype("str")
    teams = account_managers["team"].astype("str")
    if level == "account_manager":
        groups = {a: [a] for a in ids}
    elif level == "team":
        groups = {t: ids[(teams == t).to_numpy()].tolist() for t in sorted(set(teams))}
    else:
        groups = {COMPANY: ids.tolist()}
    frames = [
        forecast_category_table(credited, pipeline, members, start, end, as_of).assign(level=level, entity=entity)
        for entity, members in groups.items()
    ]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(FORECAST_CATEGORY_COLUMNS))
    return out.reindex(columns=["level", "entity", *FORECAST_CATEGORY_COLUMNS])
