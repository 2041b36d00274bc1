"""Who a batch reports on: the reports it plans, the active account managers, team ids.

:func:`plan_reports` lists the reports of a period (one per active account
manager, one per team with an active member); :func:`active_account_managers`
is the one rule of who is active in a period; :func:`team_slug` /
:func:`team_slugs` the one rule of a team's id; :func:`account_manager_row` finds
one account manager or names the id that is not there.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config.params import BatchParams
from ..core.errors import ParamsError, did_you_mean
from ..core.periods import Period
from ..core.words import ascii_words
from ..data.model import Dataset

__all__ = [
    "COMPANY_ID",
    "ReportSpec",
    "team_slug",
    "team_slugs",
    "active_account_managers",
    "account_manager_row",
    "reported_teams",
    "plan_reports",
    "reported_managers",
]

COMPANY_ID = "company"
"""The id (and file name) of a batch's one company report."""


@dataclass(frozen=True)
class ReportSpec:
    """One report to build.

    Attributes
    ----------
    kind : str
        ``account_manager``, ``team``, ``company`` or a kind declared in params ``report_kinds``.
    id : str
        Stable id: the account manager id, :func:`team_slug` of the team, or
        :data:`COMPANY_ID`.
    name : str
        Account manager name, team name, or the company's (params ``name``).
    team : str
        The team (for an account manager: their team; empty for the company).
    """

    kind: str
    id: str
    name: str
    team: str


def team_slug(team: str) -> str:
    """Stable, file-name-safe id of a team: ``"West Coast (A&B)" -> "west-coast-a-b"``.

    Lower-case ASCII letters and digits joined by single hyphens, accents folded
    (``"Équipe Süd" -> "equipe-sud"``: :func:`reportkit.core.words.ascii_words`, the
    rule file names follow too). A name with no such characters (e.g. only non-Latin
    letters) gets ``team-`` plus the first 8 hex digits of its SHA-1, which is stable
    across runs.
    """
    slug = ascii_words(team)
    if not slug:
        slug = "team-" + hashlib.sha1(str(team).encode("utf-8")).hexdigest()[:8]
    return slug


def team_slugs(teams: list[str]) -> dict[str, str]:
    """The id of each team: :func:`team_slug`, plus a stable hash suffix where two slugs collide.

    Parameters
    ----------
    teams : list of str
        Every team name of the data set (a team's id must not depend on which
        teams a batch reports on).

    Returns
    -------
    dict
        Team name -> id.

    Examples
    --------
    >>> team_slugs(["West", "North"])
    {'West': 'west', 'North': 'north'}
    """
    slugs = {t: team_slug(t) for t in teams}
    counts: dict[str, int] = {}
    for v in slugs.values():
        counts[v] = counts.get(v, 0) + 1
    return {t: (v if counts[v] == 1 else f"{v}-{hashlib.sha1(t.encode('utf-8')).hexdigest()[:6]}") for t, v in slugs.items()}


def active_account_managers(ds: Dataset, period: Period) -> pd.DataFrame:
    """Account managers active at some point of ``period``.

    Active means ``hire_date`` is empty or on/before the period's last day, and
    ``end_date`` is empty or on/after its first day (a leaver is active while the
    date <= ``end_date``). Returns the matching ``account_managers`` rows.
    """
    am = ds.account_managers
    start, end = np.datetime64(period.start, "ns"), np.datetime64(period.end, "ns")
    hired = am["hire_date"].isna() | (am["hire_date"] <= end)
    staying = am["end_date"].isna() | (am["end_date"] >= start)
    return am.loc[(hired & staying).to_numpy()].reset_index(drop=True)


def account_manager_row(ds: Dataset, account_manager_id: str) -> pd.Series:
    """One account manager's row of ``ds.account_managers``.

    Parameters
    ----------
    ds : Dataset
    account_manager_id : str
        Matched as a string against the ``account_manager_id`` column.

    Returns
    -------
    Series
        The row: ``account_manager_id``, ``name``, ``team``, ``sales_manager``,
        ``region``, ``hire_date``, ``end_date`` ...

    Raises
    ------
    ParamsError
        The id is not in the account managers table (the message suggests the
        closest id).
    """
    am = ds.account_managers
    hit = am.loc[(am["account_manager_id"] == str(account_manager_id)).to_numpy()]
    if hit.empty:
        known = am["account_manager_id"].astype("str").tolist()
        raise ParamsError(
            f"account manager {str(account_manager_id)!r} is not in the account managers table"
            + did_you_mean(str(account_manager_id), known)
        )
    return hit.iloc[0]


def reported_managers(ds: Dataset, params: BatchParams, period: Period) -> pd.DataFrame:
    """The account managers a batch reports on: active in ``period``, restricted to ``params.account_managers``."""
    active = active_account_managers(ds, period)
    if params.account_managers is not None:
        known = set(ds.account_managers["account_manager_id"].astype("str"))
        unknown = [(i, a) for i, a in enumerate(params.account_managers) if a not in known]
        if unknown:
            raise ParamsError(
                "\n".join(
                    f"{params.key_origin('account_managers', i)}: account manager {a!r} is not in the account managers "
                    f"table{did_you_mean(a, sorted(known)) or ' (no id of the data is near it)'}"
                    for i, a in unknown
                ),
                hint="give ids of the data's account_managers table (text, as the source writes them), or remove the key "
                "to report on every active account manager",
            )
        active = active.loc[active["account_manager_id"].isin(list(params.account_managers)).to_numpy()]
    return active.sort_values(["team", "name", "account_manager_id"], kind="stable")


def reported_teams(ds: Dataset, params: BatchParams, period: Period) -> list[str]:
    """The teams a batch reports on (by name, sorted): every team with an account manager it reports on.

    The team reports of a batch, and the teams the company report rolls up.

    Raises
    ------
    ParamsError
        ``params.account_managers`` names an id that is not in the data.
    """
    return sorted(set(reported_managers(ds, params, period)["team"].astype("str")))


def plan_reports(ds: Dataset, params: BatchParams) -> list[ReportSpec]:
    """The reports a batch builds for ``params.period``.

    * one ``account_manager`` report per account manager active in the period
      (see :func:`active_account_managers`), restricted to
      ``params.account_managers`` when given;
    * one ``team`` report per team with at least one such account manager
      (:func:`reported_teams`);
    * one ``company`` report over those teams (id :data:`COMPANY_ID`, named
      by params ``name``), when there is a team.

    * for a kind declared in params ``report_kinds``, one report per entity of its
      ``per`` (the same account managers, teams or company; ``per: account`` one per
      client account of those account managers, :func:`reportkit.reports.account.account_owners`).

    Only the kinds in ``params.reports`` are planned. Order: account managers by
    team, name, id; then teams by name; then the company; then each declared kind
    in the order ``reports`` lists it, its reports in the same order.

    Raises
    ------
    PeriodError
        ``params.period`` is not a period label.
    ParamsError
        ``params.account_managers`` names an id that is not in the data.
    """
    period = Period.parse(params.period, ds.calendar)
    active = reported_managers(ds, params, period)
    teams = sorted(set(active["team"].astype("str")))
    builtin = ("account_manager", "team", "company")
    kinds = [k for k in builtin if k in params.reports] + [k for k in params.reports if k not in builtin]
    specs: list[ReportSpec] = []
    for kind in kinds:
        per = kind if kind in builtin else params.report_kinds[kind].per
        specs += [ReportSpec(kind, *entity) for entity in _entities(ds, params, per, active, teams)]
    return specs


def _entities(ds: Dataset, params: BatchParams, per: str, active: pd.DataFrame, teams: list[str]) -> list[tuple[str, str, str]]:
    """(id, name, team) of every report of one ``per`` (account manager, team, account, company)."""
    if per == "account_manager":
        return [(str(r.account_manager_id), str(r.name), str(r.team)) for r in active.itertuples(index=False)]
    if per == "team":
        slugs = team_slugs(sorted(set(ds.account_managers["team"].astype("str"))))
        return [(slugs[t], t, t) for t in teams]
    if per == "company":
        return [(COMPANY_ID, str(params.name), "")] if teams else []
    from .account import account_owners  # lazy: the account report builds on this module

    owners = account_owners(ds, params, params.period, params.as_of)
    return [(acc, name, team) for acc, (_, name, team) in owners.items()]
