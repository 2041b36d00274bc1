"""The analyst's API: thin wrappers over the domain functions.

Every figure here comes from the *same* code path the report builders of
:mod:`reportkit.reports.builders` use (the same credited deals, the same effective
quotas, the same commission and account-status functions, the same cutoff
``min(as_of, period end)``), so a number an analyst gets in JupyterLab equals
the number the batch report shows for the same inputs. Nothing is recomputed
differently here; this module only selects, joins and names columns.

Units (everywhere in this module):

* money is ``decimal.Decimal`` quantized to ``0.01`` in the dataset's currency
  (``ds.currency``); ``None`` where there is no quota;
* attainment is a float fraction (``1.0 == 100 %``); ``NaN`` in frames and
  ``None`` in scalars when undefined (no quota or a zero quota), never 0 or inf;
* ``as_of`` is always passed in (a ``datetime.date`` or an ISO string); nothing
  here calls ``today()``. When omitted it defaults to the end of ``period``.

Example
-------
>>> import reportkit as rk                                     # doctest: +SKIP
>>> params, ds = rk.load("params/demo.yaml")                   # doctest: +SKIP
>>> rk.attainment_table(ds, "FY2025-Q4", params, as_of="2025-12-31").head()  # doctest: +SKIP
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

# The functions below import what they need when called (import speed, not hiding
# an upward import: everything they import sits below analysis/): `import reportkit
# as rk` and `rk.load_params` do not import pandas or the domain.
if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd

    from ..config.params import BatchParams
    from ..data.model import Dataset
    from ..domain.commission import CommissionStatement
    from ..reports.builders import AccountManagerReport, TeamReport

__all__ = [
    "load",
    "load_params",
    "load_dataset",
    "attainment_table",
    "commission_statement",
    "forecast_table",
    "forecast_categories_table",
    "account_status",
    "performance_watch",
    "build_account_manager_report",
    "build_team_report",
    "win_rates",
    "sales_cycle",
]


# ---------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------


def load_params(path: str | Path) -> BatchParams:
    """Read and validate a batch params YAML file.

    Parameters
    ----------
    path : str or Path
        The params file, e.g. ``"params/demo.yaml"``. Its ``source`` is relative
        to the file's folder.

    Returns
    -------
    BatchParams
        Period, ``as_of``, commission policy (``rate`` as a ``Decimal`` fraction,
        optional quota bonus), quota rule and performance policy.

    Raises
    ------
    ParamsError
        The file is missing, is not YAML, or has bad or unknown keys (the message
        names each key and its value, with a did-you-mean).

    Examples
    --------
    >>> params = load_params("params/demo.yaml")   # doctest: +SKIP
    >>> params.period, params.commission.rate      # doctest: +SKIP
    ('FY2025-Q4', Decimal('0.05'))
    """
    from ..config.params import load_params as _load_params

    return _load_params(path)


def load_dataset(mapping_path: str | Path) -> Dataset:
    """Load and validate every table a source mapping declares.

    Parameters
    ----------
    mapping_path : str or Path
        A source mapping YAML, e.g. ``"params/sources/demo.yaml"``.

    Returns
    -------
    Dataset
        Canonical tables: money in ``int64`` cents (``*_cents`` columns), ids as
        text, dates ``datetime64[ns]``; ``ds.currency`` is the report currency.

    Raises
    ------
    MappingError
        The mapping is invalid or names a file / sheet / column that is missing.
    DataError
        Bad cells; all of them at once, each with file, row, column and value.

    Examples
    --------
    >>> ds = load_dataset("params/sources/demo.yaml")   # doctest: +SKIP
    >>> ds.currency, len(ds.account_managers)           # doctest: +SKIP
    ('USD', 12)
    """
    from ..data.mapping import load_dataset as _load_dataset
    from ..domain.crediting import ownerless_uncredited

    return _load_dataset(mapping_path, uncredited=ownerless_uncredited)


def load(params_file: str | Path) -> tuple[BatchParams, Dataset]:
    """Load a params file and the dataset its ``source`` names (what a batch loads).

    Parameters
    ----------
    params_file : str or Path

    Returns
    -------
    (BatchParams, Dataset)

    Raises
    ------
    ParamsError, MappingError, DataError, PeriodError
        From the params loader, the mapping loader, or when the params' period
        is not a label of the dataset's fiscal calendar.

    Examples
    --------
    >>> params, ds = load("params/demo.yaml")   # doctest: +SKIP
    """
    from ..domain.loading import load_inputs

    return load_inputs(params_file)


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def _as_date(value: Any) -> datetime.date | None:
    """``as_of`` as a date (``None`` for ``None``/``""``); see :func:`reportkit.domain.loading.parse_date`."""
    from ..domain.loading import parse_date

    return parse_date(value)


def _resolve(ds: Dataset, period: str, params: BatchParams | None, as_of: Any) -> tuple[BatchParams, datetime.date, Any]:
    """(params, as_of date, the shared report context) for one dataset / period / as_of."""
    from ..config.params import BatchParams
    from ..core.periods import Period
    from ..reports.context import report_context

    p = Period.parse(str(period), ds.calendar)  # PeriodError with the allowed forms
    day = _as_date(as_of) or p.end
    if params is None:
        params = BatchParams(source=Path("."), period=p.label, as_of=day)
    return params, day, report_context(ds, params, p.label, day)


def _money(cents: Any):
    import pandas as pd

    from ..core.money import cents_to_money

    return None if cents is None or pd.isna(cents) else cents_to_money(int(cents))


def _account_managers(ds: Dataset, ctx: Any, team: str | None, account_manager_ids: Any) -> pd.DataFrame:
    from ..core.errors import ParamsError, did_you_mean
    from ..reports.builders import active_account_managers

    am = active_account_managers(ds, ctx.period)
    if team is not None:
        teams = sorted(set(ds.account_managers["team"].astype("str")))
        if str(team) not in teams:
            raise ParamsError(f"team {str(team)!r} is not in the account managers table" + did_you_mean(str(team), teams))
        am = am.loc[(am["team"] == str(team)).to_numpy()]
    if account_manager_ids is not None:
        ids = [account_manager_ids] if isinstance(account_manager_ids, str) else [str(a) for a in account_manager_ids]
        known = set(ds.account_managers["account_manager_id"].astype("str"))
        unknown = [a for a in ids if a not in known]
        if unknown:
            raise ParamsError(
                f"account manager {unknown[0]!r} is not in the account managers table" + did_you_mean(unknown[0], sorted(known))
            )
        am = am.loc[am["account_manager_id"].isin(ids).to_numpy()]
    return am.sort_values(["team", "account_manager_id"], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------


def attainment_table(
    ds: Dataset,
    period: str,
    params: BatchParams | None = None,
    *,
    as_of: datetime.date | str | None = None,
    team: str | None = None,
    account_manager_ids: str | list[str] | None = None,
) -> pd.DataFrame:
    """Revenue, quota and attainment per account manager for one period.

    The same figures as the reports: revenue is the credited won revenue closed
    from the period start to ``min(as_of, period end)`` (the report's cutoff);
    quota is the quota table's (or, for sources without one, the params' quota
    rule's) quota of the period, split evenly from longer quota rows.

    Parameters
    ----------
    ds : Dataset
        From :func:`load_dataset` / :func:`load`.
    period : str
        Fiscal period label: ``"FY2025-Q4"`` (also ``"FY2025"`` or ``"FY2025-M06"``).
    params : BatchParams, optional
        Needed when the source has no quota table (its ``quota_rule`` sets the
        quotas). Default: no quota rule.
    as_of : date or ISO str, optional
        Figures count deals closed up to ``min(as_of, period end)``.
        Default: the period's last day.
    team : str, optional
        Only this team's account managers.
    account_manager_ids : str or list of str, optional
        Only these account managers.

    Returns
    -------
    pandas.DataFrame
        One row per account manager active in the period, ordered by team then
        id, with columns

        ============================  ===============================================
        ``account_manager_id`` (str)  id, text (``"00731"`` stays ``"00731"``)
        ``name``, ``team`` (str)
        ``period`` (str)              the period label
        ``revenue`` (Decimal)         credited revenue, report currency
        ``quota`` (Decimal or None)   None when there is no quota
        ``attainment`` (float)        revenue / quota as a fraction; NaN if undefined
        ============================  ===============================================

    Raises
    ------
    PeriodError
        ``period`` is not a period label.
    ParamsError
        ``as_of`` is not a date; ``team`` or an id is not in the data.

    Examples
    --------
    >>> t = attainment_table(ds, "FY2025-Q4", params, as_of="2025-12-31")  # doctest: +SKIP
    >>> t.loc[0, ["account_manager_id", "revenue", "attainment"]].tolist()  # doctest: +SKIP
    ['AM-001', Decimal('301234.50'), 1.2049]
    """
    import pandas as pd

    from ..domain.crediting import credited_in, revenue_cents_by
    from ..domain.quota import attainment

    params, _day, ctx = _resolve(ds, period, params, as_of)
    am = _account_managers(ds, ctx, team, account_manager_ids)
    ids = am["account_manager_id"].astype("str").tolist()
    in_period = credited_in(ctx.credited, ctx.period.start, ctx.cutoff, ids)
    rev = revenue_cents_by(in_period, "account_manager_id")
    rev_cents = [int(rev.get(a, 0)) for a in ids]
    quotas = [ctx.quota(a, ctx.period) for a in ids]
    return pd.DataFrame(
        {
            "account_manager_id": pd.Series(ids, dtype="str"),
            "name": am["name"].astype("str").reset_index(drop=True),
            "team": am["team"].astype("str").reset_index(drop=True),
            "period": pd.Series([ctx.period.label] * len(ids), dtype="str"),
            "revenue": pd.Series([_money(c) for c in rev_cents], dtype="object"),
            "quota": pd.Series([_money(q) for q in quotas], dtype="object"),
            "attainment": pd.Series([attainment(r, q) for r, q in zip(rev_cents, quotas)], dtype="float64"),
        }
    )


def commission_statement(
    ds: Dataset,
    account_manager_id: str,
    period: str,
    params: BatchParams,
    *,
    as_of: datetime.date | str | None = None,
    splits: pd.DataFrame | str | Path | None = None,
) -> CommissionStatement:
    """One account manager's commission statement, exactly as the report shows it.

    Parameters
    ----------
    ds : Dataset
    account_manager_id : str
    period : str
        Period label, e.g. ``"FY2025-Q4"``.
    params : BatchParams
        ``params.plan`` (plan files) or else ``params.commission`` (flat ``rate``,
        a fraction with at most 6 decimals, and optional quota bonus, compiled
        into an engine plan); either way the lines come from the plan engine.
    as_of : date or ISO str, optional
        Deals closed after it are not paid. Default: the period's last day.
    splits : DataFrame, str or Path, optional
        A splits table (``deal_id, account_manager_id, share[, kind]``; a frame or a
        CSV / xlsx / parquet file) replacing the data set's own ``splits``
        (:func:`reportkit.data.mapping.with_splits`): the statement, its credited
        revenue and attainment all count each participant's share (and the plan's
        ``splits.mode`` says how a shared deal is paid).

    Returns
    -------
    CommissionStatement
        ``lines`` (DataFrame: ``line``, ``description``, ``basis`` (Decimal),
        ``rate`` (Decimal fraction), ``amount`` (Decimal, rounded to the cent
        half away from zero per line), ``rule``, ``award``); ``total`` (sum of
        the rounded lines), ``commission``, ``bonus``, ``cash_total``,
        ``revenue`` (all Decimal, report currency) and ``attainment`` (float
        fraction, NaN when undefined).

    Raises
    ------
    PeriodError
        ``period`` is not a period label.
    ParamsError
        ``account_manager_id`` is not in the data, ``as_of`` is not a date, or
        the flat rate has more than 6 decimals.
    DataError
        Bad ``splits`` rows (file or frame, row, column, value and the fix).

    Examples
    --------
    >>> s = commission_statement(ds, "AM-001", "FY2025-Q4", params, as_of="2025-12-31")  # doctest: +SKIP
    >>> s.total == s.lines["amount"].sum()                                                # doctest: +SKIP
    True
    """
    from ..data.mapping import with_splits
    from ..reports.builders import commission_for

    if splits is not None:
        ds = with_splits(ds, splits)
    params, day, _ctx = _resolve(ds, period, params, as_of)
    # the report's own statement (the engine, with the plan files or the compiled flat policy)
    return commission_for(ds, params, str(account_manager_id), period, day)


def account_status(
    ds: Dataset,
    account_manager_id: str,
    period: str,
    as_of: datetime.date | str,
    params: BatchParams | None = None,
) -> pd.DataFrame:
    """Status of each client account of one account manager (the report's table).

    Parameters
    ----------
    ds : Dataset
    account_manager_id : str
    period : str
        Period label; ``revenue_period`` covers it, ``revenue_ytd`` its fiscal
        year to date, both cut at ``as_of``.
    as_of : date or ISO str
        Reference date for ``days_since_last_order`` and the status rules
        (service issues opened by then and not resolved by then are open; an
        open escalation in ``ds.service_issues`` makes the account at risk).
    params : BatchParams, optional
        Only used to share a report's computation inside
        :func:`reportkit.reports.builders.shared_contexts`; the figures do not depend on it.

    Returns
    -------
    pandas.DataFrame
        One row per account, sorted by revenue in the period (desc): ``account_id``,
        ``account_name``, ``segment``, ``handover_date``, money columns
        ``revenue_period``, ``revenue_ytd``, ``revenue_same_period_last_year``
        (Decimal; None when the data does not reach back to that period's first
        day), ``last_order_date`` (date or None), ``days_since_last_order``
        (Int64), ``trend`` (fraction), ``status``, ``status_reason`` and the
        further columns of :data:`reportkit.domain.accounts.ACCOUNT_COLUMNS`.

    Raises
    ------
    PeriodError, ParamsError
        Bad period label, unknown account manager, ``as_of`` not a date.

    Examples
    --------
    >>> account_status(ds, "AM-001", "FY2025-Q4", "2025-12-31")[["account_id", "status"]]  # doctest: +SKIP
    """
    from ..core.errors import ParamsError
    from ..reports.planning import account_manager_row

    if _as_date(as_of) is None:
        raise ParamsError("account_status needs as_of", hint="pass the report date, e.g. as_of='2025-12-31'")
    _, _, ctx = _resolve(ds, period, params, as_of)
    am = str(account_manager_id)
    account_manager_row(ds, am)
    return ctx.account_status(ds, am)


def forecast_table(
    ds: Dataset,
    period: str,
    level: str = "account_manager",
    params: BatchParams | None = None,
    *,
    as_of: datetime.date | str | None = None,
    method: str = "blended",
) -> pd.DataFrame:
    """Annual forecast per account manager, team or the company.

    Wraps :func:`reportkit.domain.forecast.annual_forecasts` with the report's credited
    deals and effective quotas, exactly as the reports do: with the default
    ``method="blended"`` an account manager's row (``forecast``, ``low``,
    ``high``, ``forecast_attainment``, ``basis``) equals the first row of their
    report's ``forecast`` table and its ``run_rate`` column the report's
    run-rate row. Every method's total is also in its own column (``run_rate``,
    ``seasonal``, ``weighted_pipeline`` ...). At ``level="team"`` the team is
    forecast as one series (each deal once, every member the data has); its
    ``forecast_attainment`` follows the one roll-up rule and equals the team
    report's: the forecasts of the members active in the period over their
    annual quotas (``credited_forecast``, :func:`reportkit.domain.quota.pooled_attainment`).

    Parameters
    ----------
    ds : Dataset
    period : str
        Any period label of the fiscal year to forecast (``"FY2025-Q4"``).
    level : {"account_manager", "team", "company"}
    params : BatchParams, optional
        Supplies the quota rule for sources without a quota table.
    as_of : date or ISO str, optional
        Forecast date: deals after ``min(as_of, period end)`` are ignored; months after
        the data's last month are forecast (the reports' forecast cutoff,
        :func:`reportkit.core.periods.data_cutoff`). Default: the period's last day.
    method : str
        One of :data:`reportkit.domain.forecast.METHODS`; default ``"blended"``.

    Returns
    -------
    pandas.DataFrame
        One row per entity: ``level``, ``entity``, ``name``, ``method``,
        ``basis``; Decimal money ``ytd_revenue``, ``forecast``, ``low``,
        ``high``, ``annual_quota`` (None when no quota) and one column per
        method; ``forecast_attainment`` (float fraction, NaN when undefined).

    Raises
    ------
    PeriodError
        Bad period label.
    ValueError
        Unknown ``level`` or ``method`` (the message lists the allowed values).

    Examples
    --------
    >>> forecast_table(ds, "FY2025-Q4", level="team", as_of="2025-12-31")[["entity", "forecast"]]  # doctest: +SKIP
    """
    from ..domain.forecast import annual_forecasts
    from ..reports.builders import active_account_managers

    params, _day, ctx = _resolve(ds, period, params, as_of)
    active = active_account_managers(ds, ctx.period)["account_manager_id"].astype("str").tolist()
    return annual_forecasts(
        ds,
        ctx.period.fiscal_year,
        ctx.forecast_cutoff,
        level=level,
        method=method,
        credited=ctx.credited,
        quotas=ctx.quotas,
        members=active,
    )


def forecast_categories_table(
    ds: Dataset,
    period: str,
    level: str = "account_manager",
    params: BatchParams | None = None,
    *,
    as_of: datetime.date | str | None = None,
) -> pd.DataFrame:
    """Salesforce's forecast categories per account manager, team or the company, in one period.

    :func:`reportkit.domain.forecast_categories.forecast_categories_by_entity` over the
    account managers active in the period, as the reports show it: an account
    manager's rows equal their report's ``forecast_categories``, a team's its team
    report's. Rules and worked example: ``docs/forecasting.md``, "Forecast categories
    (Salesforce)".

    Parameters
    ----------
    ds, period, params
        As for :func:`forecast_table`.
    level : {"account_manager", "team", "company"}
    as_of : date or ISO str, optional
        Default: the period's last day.

    Returns
    -------
    pandas.DataFrame
        ``level``, ``entity``, then ``key``, ``forecast``, ``kind``, ``includes``,
        ``opportunities``, ``amount`` (Decimal money); 11 rows per entity.

    Raises
    ------
    MappingError
        The data set declares no forecast categories (the message says where to declare them).
    ValueError
        Unknown ``level``.

    Examples
    --------
    >>> forecast_categories_table(ds, "FY2025-Q4", "team", as_of="2025-11-15")  # doctest: +SKIP
    """
    from ..core.errors import MappingError
    from ..domain.forecast_categories import forecast_categories_by_entity, has_forecast_categories
    from ..reports.builders import active_account_managers

    if not has_forecast_categories(ds.pipeline):
        raise MappingError(
            "the data set declares no forecast categories",
            hint="add pipeline.forecast_categories (stage -> category) to the source mapping (docs/mapping.md)",
        )
    _params, day, ctx = _resolve(ds, period, params, as_of)
    am = active_account_managers(ds, ctx.period)
    return forecast_categories_by_entity(ctx.credited, ds.pipeline, am, level, ctx.period.start, ctx.period.end, day)


def performance_watch(
    ds: Dataset,
    period: str,
    params: BatchParams | None = None,
    *,
    as_of: datetime.date | str | None = None,
    team: str | None = None,
    history: bool = False,
) -> pd.DataFrame:
    """Performance-watch standing of each account manager after ``period``.

    Quarters are walked from the start of the previous fiscal year (or the first
    quota) to ``period``; a quarter not complete on ``as_of`` is undefined and
    neither misses nor lifts (as in the reports).

    Parameters
    ----------
    ds : Dataset
    period : str
        Period label, e.g. ``"FY2025-Q4"``.
    params : BatchParams, optional
        ``params.performance``: ``miss_below`` (attainment fraction),
        ``watch_after``, ``termination_review_after``. Default policy when omitted.
    as_of : date or ISO str, optional
        Default: the period's last day.
    team : str, optional
        Only this team.
    history : bool, default False
        Return every quarter (``account_manager_id``, ``period``, ``attainment``,
        ``missed``, ``consecutive_misses``, ``status``, ``note``) instead of the
        standing. A quarter the data does not cover from its first day, or one that
        begins after the data's last deal, is ``n/a`` with a ``note`` and skipped
        (:mod:`reportkit.domain.performance`).

    Returns
    -------
    pandas.DataFrame
        Standing: ``account_manager_id``, ``name``, ``team``,
        ``consecutive_misses`` (int64), ``status`` (``on track``, ``missed``,
        ``performance watch``, ``termination review`` or ``n/a``).

    Raises
    ------
    PeriodError, ParamsError
        Bad period label, unknown team, ``as_of`` not a date.

    Examples
    --------
    >>> w = performance_watch(ds, "FY2025-Q4", params, as_of="2025-12-31")  # doctest: +SKIP
    >>> w.loc[w["status"] != "on track"]                                     # doctest: +SKIP
    """
    import pandas as pd

    from ..domain.performance import current_status, performance_input, performance_table
    from ..domain.quota import attainment_table as _attainment_table

    params, day, ctx = _resolve(ds, period, params, as_of)
    am = _account_managers(ds, ctx, team, None)
    ids = am["account_manager_id"].astype("str").tolist()
    if not ids:
        return pd.DataFrame({c: pd.Series([], dtype="str") for c in ("account_manager_id", "name", "team", "status")}).assign(
            consecutive_misses=pd.Series([], dtype="int64")
        )[["account_manager_id", "name", "team", "consecutive_misses", "status"]]
    hist = _attainment_table(
        ctx.credited, ctx.quotas, ids, list(ctx.history), until=ctx.cutoff, quarter_quotas=ctx.split("quarter")
    )
    table = performance_table(performance_input(hist, day, ctx.first_deal, ctx.last_deal), params.performance)
    if history:
        return table
    standing = [current_status(table.loc[(table["account_manager_id"] == a).to_numpy()], params.performance) for a in ids]
    return pd.DataFrame(
        {
            "account_manager_id": pd.Series(ids, dtype="str"),
            "name": am["name"].astype("str").reset_index(drop=True),
            "team": am["team"].astype("str").reset_index(drop=True),
            "consecutive_misses": pd.Series([s[1] for s in standing], dtype="int64"),
            "status": pd.Series([s[0] for s in standing], dtype="str"),
        }
    )


# ---------------------------------------------------------------------------
# report objects
# ---------------------------------------------------------------------------


def build_account_manager_report(
    ds: Dataset,
    account_manager_id: str,
    period: str,
    params: BatchParams,
    as_of: datetime.date | str,
) -> AccountManagerReport:
    """The report object one account manager's batch report displays.

    Parameters
    ----------
    ds : Dataset
    account_manager_id : str
    period : str
        Period label, e.g. ``"FY2025-Q4"``.
    params : BatchParams
    as_of : date or ISO str
        Report date; figures count deals up to ``min(as_of, period end)``.

    Returns
    -------
    AccountManagerReport
        ``summary`` (dict: ``revenue``, ``quota``, ``commission_total`` ... as
        Decimal; ``attainment`` float fraction or None) and frames
        ``quarterly``, ``commission``, ``accounts``, ``forecast``,
        ``performance``, ``deals`` (column contracts in :mod:`reportkit.reports.builders`).
        Only this account manager's data.

    Raises
    ------
    PeriodError, ParamsError
        Bad period label, unknown account manager, ``as_of`` not a date.

    Examples
    --------
    >>> r = build_account_manager_report(ds, "AM-001", "FY2025-Q4", params, "2025-12-31")  # doctest: +SKIP
    >>> r.summary["commission_total"]                                                    # doctest: +SKIP
    """
    from ..core.errors import ParamsError
    from ..reports.builders import build_account_manager_report as _build

    day = _as_date(as_of)
    if day is None:
        raise ParamsError("as_of is required", hint="pass the report date, e.g. '2025-12-31'")
    return _build(ds, str(account_manager_id), str(period), params, day)


def build_team_report(
    ds: Dataset,
    team: str,
    period: str,
    params: BatchParams,
    as_of: datetime.date | str,
) -> TeamReport:
    """The report object one sales manager's team report displays.

    Parameters
    ----------
    ds : Dataset
    team : str
        Team name or its slug (``"West Coast"`` or ``"west-coast"``).
    period : str
    params : BatchParams
    as_of : date or ISO str

    Returns
    -------
    TeamReport
        ``summary`` (team totals: revenue / quota total over total, Decimal
        money, float attainment) and frames ``leaderboard``,
        ``attainment_distribution``, ``quarterly``, ``forecast``,
        ``performance_watch``, ``commission_expense``.

    Raises
    ------
    PeriodError, ParamsError
        Bad period label, unknown team (with a did-you-mean), team without an
        active member, ``as_of`` not a date.

    Examples
    --------
    >>> t = build_team_report(ds, "Team West", "FY2025-Q4", params, "2025-12-31")  # doctest: +SKIP
    >>> t.leaderboard[["rank", "name", "attainment"]]                             # doctest: +SKIP
    """
    from ..core.errors import ParamsError
    from ..reports.builders import build_team_report as _build

    day = _as_date(as_of)
    if day is None:
        raise ParamsError("as_of is required", hint="pass the report date, e.g. '2025-12-31'")
    return _build(ds, str(team), str(period), params, day)


# ---------------------------------------------------------------------------
# exploratory analyses (deal-level, not report figures)
# ---------------------------------------------------------------------------


def win_rates(ds: Dataset, by: str | list[str] = "product") -> pd.DataFrame:
    """Win rate of closed deals, grouped by deal columns.

    Counts come from the canonical ``deals`` table (won and lost deals; open
    opportunities are in ``pipeline``), so every deal counts once whoever is
    credited. Won revenue is the sum of the won deals' amounts.

    Parameters
    ----------
    ds : Dataset
    by : str or list of str, default "product"
        Columns of ``ds.deals`` to group by (``"product"``, ``"account_manager_id"``,
        ``"territory"`` ...). Missing values are grouped as ``"(none)"``.

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, ``won``, ``lost``, ``closed`` (int64 counts),
        ``win_rate`` (won / closed as a fraction), ``won_revenue`` and
        ``average_won_deal`` (Decimal, report currency, rounded half away from
        zero; None with no won deal): the rule of
        :func:`reportkit.domain.deal_metrics.win_rates`.
        Sorted by ``closed`` descending, then the ``by`` columns.

    Raises
    ------
    ParamsError
        A ``by`` column is not a deals column (the message lists them).

    Examples
    --------
    >>> win_rates(ds, "product")[["product", "closed", "win_rate"]]   # doctest: +SKIP
    """
    from ..core.errors import ParamsError, did_you_mean
    from ..domain.deal_metrics import win_rates as win_rate_table

    cols = [by] if isinstance(by, str) else list(by)
    d = ds.deals
    for c in cols:
        if c not in d.columns:
            raise ParamsError(
                f"win_rates: {c!r} is not a deals column" + did_you_mean(c, list(d.columns)), hint=f"use one of {list(d.columns)}"
            )
    return win_rate_table(d, cols)


def sales_cycle(ds: Dataset, engage_dates: pd.Series, by: str | list[str] = "product") -> pd.DataFrame:
    """Sales-cycle length (days from first engagement to close) of closed deals.

    The canonical model has no engagement date, so the caller passes it from the
    source (e.g. Maven's ``engage_date``), indexed by ``deal_id``.

    Parameters
    ----------
    ds : Dataset
    engage_dates : pandas.Series
        Engagement date per deal id (index: ``deal_id`` as text; values: dates).
        Deals without one are left out.
    by : str or list of str, default "product"
        Deals columns to group by; ``"stage"`` separates won from lost cycles.

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, ``deals`` (int64), ``median_days``, ``mean_days``,
        ``p90_days`` (float days).

    Raises
    ------
    ParamsError
        A ``by`` column is not a deals column.

    Examples
    --------
    >>> sales_cycle(ds, raw.set_index("opportunity_id")["engage_date"], by=["product", "stage"])  # doctest: +SKIP
    """
    import pandas as pd

    from ..core.errors import ParamsError
    from ..domain.deal_metrics import cycle_days

    cols = [by] if isinstance(by, str) else list(by)
    d = ds.deals
    for c in cols:
        if c not in d.columns:
            raise ParamsError(f"sales_cycle: {c!r} is not a deals column", hint=f"use one of {list(d.columns)}")
    eng = pd.to_datetime(pd.Series(engage_dates.to_numpy(), index=engage_dates.index.astype("str")), errors="coerce")
    days = cycle_days(d["close_date"], d["deal_id"].astype("str").map(eng))
    keys = d[cols].astype("object").where(d[cols].notna(), "(none)").astype("str")
    frame = keys.assign(days=days).loc[days.notna().to_numpy()]
    g = frame.groupby(cols, sort=True)["days"]
    out = pd.DataFrame(
        {"deals": g.size().astype("int64"), "median_days": g.median(), "mean_days": g.mean(), "p90_days": g.quantile(0.9)}
    ).reset_index()
    return out
