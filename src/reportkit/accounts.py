"""Account status: one row per client account of one account manager.

An account belongs to an account manager's list when it has credited revenue
for them up to ``as_of`` (see :mod:`reportkit.crediting`), or when the optional
``accounts`` table names them as ``owner_id``.

Business-development handoff: revenue an account booked before its
``handover_date`` does not count for the account manager. The rule lives in
:func:`reportkit.crediting.credited_deals` (such deals credit nobody), so every
figure here -- and the quota, commission and forecast figures -- already
excludes it.

Status rules (first match wins; thresholds in :class:`AccountStatusRules`; the
rule that fired is written to ``status_reason``):

1. **lapsed** -- no order in the last ``lapsed_after_days`` days (or never).
2. **new** -- first order within the last ``new_within_days`` days.
3. **at risk** -- no order for more than ``at_risk_after_days`` days, or revenue
   in the period fell by at least ``at_risk_drop`` vs the same period last year.
4. **declining** -- trend <= ``-declining_below``.
5. **growing** -- trend >= ``growing_above``, or revenue in the period with none
   in the same period last year.
6. **stable** -- otherwise.

``trend`` is the change of revenue in the period vs the same period last year,
as a fraction (0.25 == +25 %), NaN when last year's revenue is zero or
negative (no base). An *order* is a credited deal with a positive amount;
returns do not refresh ``last_order_date``.
"""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from .crediting import credited_in
from .money import cents_to_money
from .periods import Period

__all__ = ["ACCOUNT_COLUMNS", "AccountStatusRules", "STATUSES", "account_status"]

STATUSES = ("new", "growing", "stable", "declining", "at risk", "lapsed")

ACCOUNT_COLUMNS = (
    "account_id",
    "account_name",
    "segment",
    "handover_date",
    "revenue_period",
    "revenue_ytd",
    "revenue_same_period_last_year",
    "last_order_date",
    "days_since_last_order",
    "trend",
    "status",
    "status_reason",
)


class AccountStatusRules(BaseModel):
    """Thresholds of the account status rules (defaults are a common B2B starting point).

    Attributes
    ----------
    new_within_days : int
        First order at most this many days before ``as_of`` -> ``new`` (default 180).
    lapsed_after_days : int
        No order for more than this many days -> ``lapsed`` (default 365).
    at_risk_after_days : int
        No order for more than this many days -> ``at risk`` (default 120).
    at_risk_drop : float
        Period revenue down by at least this fraction vs last year -> ``at risk`` (default 0.5).
    declining_below : float
        Trend at or below ``-declining_below`` -> ``declining`` (default 0.10).
    growing_above : float
        Trend at or above this -> ``growing`` (default 0.10).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    new_within_days: int = Field(180, ge=0)
    lapsed_after_days: int = Field(365, ge=1)
    at_risk_after_days: int = Field(120, ge=1)
    at_risk_drop: float = Field(0.5, gt=0, le=1)
    declining_below: float = Field(0.10, ge=0)
    growing_above: float = Field(0.10, ge=0)


def _sum_by_account(c: pd.DataFrame) -> pd.Series:
    return c.groupby("account_id")["credit_cents"].sum()


def account_status(
    credited: pd.DataFrame,
    account_manager_id: str,
    period: Period,
    as_of: datetime.date,
    accounts: pd.DataFrame | None = None,
    rules: AccountStatusRules | None = None,
) -> pd.DataFrame:
    """Status of each client account of one account manager.

    Parameters
    ----------
    credited : DataFrame
        Output of :func:`reportkit.crediting.credited_deals`.
    account_manager_id : str
    period : Period
        Report period; ``revenue_period`` covers it, ``revenue_ytd`` covers its
        fiscal year up to its end, both cut at ``as_of``.
    as_of : date
        Reference date for ``days_since_last_order`` and the status rules.
    accounts : DataFrame, optional
        Canonical ``accounts`` table (names, segments, handover dates, owners).
    rules : AccountStatusRules, optional

    Returns
    -------
    DataFrame
        Columns :data:`ACCOUNT_COLUMNS`; money columns are ``Decimal`` (report
        currency), ``last_order_date`` / ``handover_date`` are ``datetime.date``
        or None, ``days_since_last_order`` is ``Int64`` (NA when never ordered),
        ``trend`` a float fraction. Sorted by revenue in the period (desc), then id.
    """
    rules = rules or AccountStatusRules()
    am = str(account_manager_id)
    c = credited_in(credited, None, as_of, am)
    ids = pd.Index(c["account_id"].unique(), dtype="str")
    if accounts is not None and len(accounts) and "owner_id" in accounts:
        owned = accounts.loc[(accounts["owner_id"] == am).fillna(False).to_numpy(), "account_id"]
        ids = ids.union(pd.Index(owned.astype("str")))
    ids = ids.sort_values()
    end = min(period.end, as_of)
    ly = period.same_period_last_year()
    ly_end = min(ly.end, as_of)
    rp = _sum_by_account(credited_in(c, period.start, end)).reindex(ids, fill_value=0).astype("int64")
    ytd = _sum_by_account(credited_in(c, period.year.start, end)).reindex(ids, fill_value=0).astype("int64")
    rly = _sum_by_account(credited_in(c, ly.start, ly_end)).reindex(ids, fill_value=0).astype("int64")
    orders = c.loc[(c["amount_cents"] > 0).to_numpy()]
    last = orders.groupby("account_id")["close_date"].max().reindex(ids)
    first = orders.groupby("account_id")["close_date"].min().reindex(ids)
    as_of_ts = pd.Timestamp(as_of)
    days = (as_of_ts - last).dt.days.astype("Int64")
    days_first = (as_of_ts - first).dt.days.astype("Int64")
    base = rly.astype("float64")
    trend = ((rp - rly) / base.abs()).where(base > 0).astype("float64")

    never = last.isna().to_numpy()
    d = days.fillna(10**9).to_numpy(dtype="int64")
    df = days_first.fillna(10**9).to_numpy(dtype="int64")
    t = trend.to_numpy()
    has_t = ~np.isnan(t)
    conds = [
        never | (d > rules.lapsed_after_days),
        df <= rules.new_within_days,
        d > rules.at_risk_after_days,
        has_t & (t <= -rules.at_risk_drop),
        has_t & (t <= -rules.declining_below),
        has_t & (t >= rules.growing_above),
        ~has_t & (rp.to_numpy() > 0),
    ]
    statuses = ["lapsed", "new", "at risk", "at risk", "declining", "growing", "growing"]
    status = np.select(conds, statuses, default="stable")
    pct = lambda x: f"{x * 100:+.0f} %"  # noqa: E731
    reasons = []
    for i in range(len(ids)):
        if never[i]:
            r = "no order on record"
        elif conds[0][i]:
            r = f"no order for {d[i]} days (lapsed after {rules.lapsed_after_days})"
        elif conds[1][i]:
            r = f"first order {df[i]} days ago (new within {rules.new_within_days})"
        elif conds[2][i]:
            r = f"no order for {d[i]} days (at risk after {rules.at_risk_after_days})"
        elif conds[3][i]:
            r = f"revenue {pct(t[i])} vs {ly.label} (at risk at -{rules.at_risk_drop * 100:.0f} % or worse)"
        elif conds[4][i]:
            r = f"revenue {pct(t[i])} vs {ly.label} (declining at -{rules.declining_below * 100:.0f} % or worse)"
        elif conds[5][i]:
            r = f"revenue {pct(t[i])} vs {ly.label} (growing at +{rules.growing_above * 100:.0f} % or more)"
        elif conds[6][i]:
            r = f"revenue in {period.label}, none in {ly.label}"
        elif has_t[i]:
            r = f"revenue {pct(t[i])} vs {ly.label} (within ±{rules.declining_below * 100:.0f}/{rules.growing_above * 100:.0f} %)"
        else:
            r = f"no revenue in {period.label} nor {ly.label}"
        reasons.append(r)

    names = pd.Series(ids, index=ids, dtype="str")
    segment = pd.Series(None, index=ids, dtype="object")
    handover = pd.Series(None, index=ids, dtype="object")
    if accounts is not None and len(accounts):
        a = accounts.drop_duplicates("account_id").set_index("account_id")
        names = a["name"].reindex(ids).astype("str").where(a["name"].reindex(ids).notna(), names)
        if "segment" in a:
            segment = a["segment"].reindex(ids).astype("object")
            segment = segment.where(segment.notna(), None)
        if "handover_date" in a:
            hd = a["handover_date"].reindex(ids)
            handover = pd.Series([None if pd.isna(x) else pd.Timestamp(x).date() for x in hd], index=ids, dtype="object")

    money = lambda s: pd.Series([cents_to_money(v) for v in s.to_numpy()], dtype="object")  # noqa: E731
    out = pd.DataFrame(
        {
            "account_id": pd.Series(ids, dtype="str"),
            "account_name": names.to_numpy(),
            "segment": segment.to_numpy(),
            "handover_date": handover.to_numpy(),
            "revenue_period": money(rp),
            "revenue_ytd": money(ytd),
            "revenue_same_period_last_year": money(rly),
            "last_order_date": pd.Series([None if pd.isna(x) else pd.Timestamp(x).date() for x in last], dtype="object"),
            "days_since_last_order": days.to_numpy(),
            "trend": t,
            "status": pd.Series(status, dtype="str"),
            "status_reason": pd.Series(reasons, dtype="str"),
        }
    )
    out["account_name"] = out["account_name"].astype("str")
    out["days_since_last_order"] = out["days_since_last_order"].astype("Int64")
    out["_rp"] = rp.to_numpy()
    out = out.sort_values(["_rp", "account_id"], ascending=[False, True], kind="stable").drop(columns="_rp")
    return out.reset_index(drop=True)
