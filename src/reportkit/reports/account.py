"""The account report (a declared report kind ``per: account``): one client account, from its account manager's report.

Which account manager an account is reported under is one rule, :func:`account_owners`:
the first reported account manager (in the batch's planning order) whose account status
lists it. Planning and the builder both call it, so a report's id always finds its owner.
"""

from __future__ import annotations

import datetime

import pandas as pd

from ..config.params import BatchParams
from ..core.errors import ParamsError, did_you_mean
from ..core.periods import Period
from ..data.model import Dataset
from .account_manager import build_account_manager_report
from .context import report_context
from .objects import AccountReport
from .planning import reported_managers

__all__ = ["account_owners", "build_account_report"]


def account_owners(ds: Dataset, params: BatchParams, period: str, as_of: datetime.date) -> dict[str, tuple[str, str, str]]:
    """Each client account of the batch's account managers -> (account manager id, account name, team).

    Parameters
    ----------
    ds : Dataset
    params : BatchParams
        ``account_managers`` restricts the account managers, as for the batch.
    period : str
        Period label.
    as_of : date

    Returns
    -------
    dict
        Account id -> (account manager id, account name, team), in planning order:
        account managers by team, name, id; each one's accounts as its account status
        lists them (by revenue in the period). An account several account managers
        are credited on is reported once, under the first.
    """
    ctx = report_context(ds, params, period, as_of)
    key = ("account_owners",)  # once per batch context: planning and every account report ask (a dict per account)
    if key not in ctx.engine:
        owners: dict[str, tuple[str, str, str]] = {}
        for am in reported_managers(ds, params, Period.parse(period, ds.calendar)).itertuples(index=False):
            status = ctx.account_status(ds, str(am.account_manager_id))
            for acc, name in zip(status["account_id"].astype("str"), status["account_name"].astype("str")):
                owners.setdefault(acc, (str(am.account_manager_id), name, str(am.team)))
        ctx.engine[key] = owners
    return dict(ctx.engine[key])


def build_account_report(ds: Dataset, account_id: str, period: str, params: BatchParams, as_of: datetime.date) -> AccountReport:
    """Build one client account's report: its row and deals of its account manager's report.

    Parameters
    ----------
    ds : Dataset
    account_id : str
        An account of :func:`account_owners`.
    period : str
    params : BatchParams
    as_of : date

    Returns
    -------
    AccountReport
        ``summary`` money values are ``Decimal`` (rounded by the account status rule,
        :func:`reportkit.domain.accounts.account_status`), fractions floats.

    Raises
    ------
    ParamsError
        The account is not one of a reported account manager's accounts (names the
        closest id).
    """
    owners = account_owners(ds, params, period, as_of)
    if str(account_id) not in owners:
        raise ParamsError(
            f"account {str(account_id)!r} is not an account of a reported account manager in {period}"
            + did_you_mean(str(account_id), list(owners))
        )
    am_id, _, team = owners[str(account_id)]
    am = build_account_manager_report(ds, am_id, period, params, as_of)
    row = am.accounts.loc[am.accounts["account_id"].astype("str") == str(account_id)].iloc[0]
    deals = am.deals.loc[am.deals["account_id"].astype("str") == str(account_id)].reset_index(drop=True)
    return AccountReport(
        id=str(account_id),
        name=str(row["account_name"]),
        account_manager_id=am_id,
        account_manager=str(am.name),
        team=team,
        period=am.period,
        period_start=am.period_start,
        period_end=am.period_end,
        as_of=am.as_of,
        currency=am.currency,
        summary={k: (None if _missing(v) else v) for k, v in row.items() if k not in ("account_id", "account_name")},
        deals=deals,
        notes=(f"The account as {am.name}'s report shows it: its row of the account status and its deals.",),
        timezone=am.timezone,
        miss_below=am.miss_below,
        table_rows=am.table_rows,
        branding=am.branding,
    )


def _missing(v: object) -> bool:
    try:
        return bool(pd.isna(v))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
