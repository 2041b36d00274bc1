"""What every report of one dataset, period and ``as_of`` shares, computed once per batch.

:func:`report_context` computes the credited deals, the effective quotas (and
their splits by period), the quarters a report shows and the members' annual
forecasts; :func:`shared_contexts` lets the reports built inside one block
reuse them. :func:`effective_quotas` is the one rule of which quota table a
report uses (the source's, else the params quota rule).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import threading
from collections.abc import Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..config.params import BatchParams
from ..config.plans import Plan, deal_type_plan, load_plan_source
from ..core.cache import ContentCache
from ..core.hashing import row_hashes
from ..core.money import cents_to_money, to_cents
from ..core.periods import Period, data_cutoff, data_end, data_start
from ..data.mapping import data_notes
from ..data.model import Dataset
from ..domain.accounts import AccountStatusRules, account_status, lost_deals
from ..domain.backtest import forecast_accuracy, forecast_hierarchy, hierarchy_evidence
from ..domain.crediting import credited_deals, credited_revenue
from ..domain.engine import quotas_shown
from ..domain.forecast import annual_forecasts
from ..domain.forecast_inputs import level_revenues
from ..domain.forecast_models import HIERARCHY_CACHE, frames_record, hierarchy_key, read_frames
from ..domain.quota import attainment_table, quotas_from_rule, split_quotas

__all__ = [
    "AT_RISK_COLUMNS",
    "ReportContext",
    "deal_row_hashes",
    "effective_quotas",
    "engine_quotas",
    "fit_executor",
    "forecast_cutoff_notes",
    "params_deal_type_plan",
    "report_context",
    "shared_contexts",
    "shared_fit_cache",
    "ytd_periods",
]


def effective_quotas(ds: Dataset, params: BatchParams, fiscal_years: list[int]) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The quota table a report shows, and notes about where it came from.

    The quota a plan pays on is the quota every report shows (fixes group, issue
    #13): with ``params.plan``, each account manager's quota in each pay period a
    plan covers is the plan's own (:func:`reportkit.domain.engine.quotas_shown`: the
    plan's annual quota with ``quota.source: plan``, prorated by active days and
    ramped, exactly as the engine measures attainment). Elsewhere, and without a
    plan, :func:`engine_quotas`: the source's table, else the params quota rule.
    Returns the table and the notes to show.

    Raises
    ------
    PlanError
        A plan named by the params is invalid or contradicts the data set.
    """
    return _plan_quotas(ds, params, fiscal_years, *engine_quotas(ds, params, fiscal_years))


def _plan_quotas(
    ds: Dataset, params: BatchParams, fiscal_years: list[int], quotas: pd.DataFrame, notes: tuple[str, ...]
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """``quotas`` (the engine's input) with the plan's own quota wherever a plan pays (:func:`effective_quotas`)."""
    if params.plan is None:
        return quotas, notes
    plans, who = params_plans(params)
    shown = quotas_shown(ds, plans, who, quotas, fiscal_years, source_mapping=params.resolve(params.source))
    return shown, (*notes, "Quotas of account managers on a commission plan are the plan's: prorated and ramped as it pays.")


def engine_quotas(ds: Dataset, params: BatchParams, fiscal_years: list[int]) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The quota table the plan engine is given (before a plan shapes it), and notes about where it came from.

    The source's ``quotas`` table wins when it has rows; ``params.quota_rule``
    is used when the source has no quota rows (Maven, Superstore). Returns the
    table and the notes to show.
    """
    rule = params.quota_rule
    has_table = ds.quotas is not None and len(ds.quotas) > 0
    if rule is not None and not has_table:
        what = (
            f"{rule.amount} per {rule.per}"
            if rule.kind == "fixed"
            else (f"same quarter last year x (1 + {rule.growth}), else {rule.amount} per {rule.per}")
        )
        quotas = quotas_from_rule(ds, rule, fiscal_years)
        notes = [f"Quotas set by the params quota rule ({rule.kind}: {what})."]
        # A rule only sets quotas where the data can be measured against them: quarters
        # that end before the first deal of the source get no quota (attainment n/a),
        # otherwise an empty history would count as a run of missed quarters.
        if len(ds.deals) and len(quotas):
            first_deal = pd.Timestamp(ds.deals["close_date"].min())
            first_quarter = ds.calendar.period_of(first_deal.date(), "quarter")
            keep = quotas["period_end"] >= pd.Timestamp(first_quarter.start)
            if not keep.all():
                quotas = quotas.loc[keep].reset_index(drop=True)
                notes.append(f"No quota before {first_quarter.label}, where the source's deals begin.")
        return quotas, tuple(notes)
    if rule is not None:
        return ds.quotas, ("The source has a quota table; the params quota rule is not used.",)
    return ds.quotas, ()


def params_deal_type_plan(params: BatchParams) -> Plan | None:
    """The params' plan whose crediting factors by deal type the reports credit by (None: none).

    Dealtype group (issue #13 item 15): a plan's ``crediting.deal_type_factors`` is a
    crediting rule, so the reports' credited revenue, attainment and performance watch
    use it as the statement does (:func:`reportkit.config.plans.deal_type_plan`: every
    plan of the params' plan source must give the same factors). ``None`` without
    ``plan:`` (the flat ``commission:`` policy has no factors).
    """
    return None if params.plan is None else deal_type_plan(params_plans(params)[0])


def params_plans(params: BatchParams) -> tuple[Any, Any]:
    """The plans and assignments ``params.plan`` names (:func:`reportkit.config.plans.load_plan_source`).

    Raises PlanError for an invalid plan or assignments file; ``params.plan`` must be set.
    """
    ref = params.plan
    return load_plan_source(params.resolve(ref.path), None if ref.assignments is None else params.resolve(ref.assignments))


def ytd_periods(period: Period) -> list[Period]:
    """Periods that together cover the fiscal year from its start to the end of ``period``.

    A year is itself; a quarter is the year's quarters up to it; a month is the
    quarters before its quarter plus that quarter's months up to it.

    Examples
    --------
    >>> from reportkit.core.periods import FiscalCalendar
    >>> [p.label for p in ytd_periods(Period.parse("FY2025-M05", FiscalCalendar()))]
    ['FY2025-Q1', 'FY2025-M04', 'FY2025-M05']
    """
    if period.kind == "year":
        return [period]
    q = period.calendar.period_of(period.end, "quarter")
    before = [Period(period.calendar, "quarter", period.fiscal_year, n) for n in range(1, q.number)]
    if period.kind == "quarter":
        return before + [period]
    first_month = (q.number - 1) * 3 + 1
    return before + [Period(period.calendar, "month", period.fiscal_year, m) for m in range(first_month, period.number + 1)]


@dataclass(frozen=True)
class ReportContext:
    """What the reports of one dataset, period and ``as_of`` share (see :func:`report_context`).

    Attributes
    ----------
    period : Period
        The reported period.
    as_of : date
        The report date.
    cutoff : date
        ``min(as_of, period.end)``: deals closed after it do not count.
    forecast_cutoff : date
        The annual forecast's cutoff, the one every report, the company roll-up and
        ``figures.json`` use: ``cutoff``, or the last day of the data's last month when
        the data ends before it (:func:`reportkit.core.periods.data_cutoff`): the months
        after the data's end are forecast, not counted as zero actuals, and
        ``quota_notes`` says so (:func:`forecast_cutoff_notes`). ``cutoff`` when not given.
    credited : DataFrame
        :func:`reportkit.domain.crediting.credited_deals` of the whole data set, with the
        params' plan's crediting factors by deal type (:func:`params_deal_type_plan`).
    deal_types : Plan or None
        That plan (None: no factors, ``credited`` is ``credited_deals(ds)`` itself, which
        the forecast's backtest then reads instead of crediting the data set again).
    quotas : DataFrame
        :func:`effective_quotas` for the period's fiscal year and the two before: the
        quotas every report shows (a plan's own where a plan pays).
    plan_input_quotas : DataFrame or None
        :func:`engine_quotas`, the table the plan engine is given (it shapes it into
        the quotas above); None when it is ``quotas`` (no plan).
    quota_notes : tuple of str
        Where the quotas came from, then the load's rules a reader needs (the time zone
        timestamps with a UTC offset were dated in: :func:`reportkit.data.mapping.data_notes`),
        then that the data ends before the cutoff (:func:`forecast_cutoff_notes`), for every report's notes.
    history : tuple of Period
        Quarters from last year's first quarter (or the first quarter with a
        quota, when earlier) to the period's quarter: the performance history.
    year_quarters : tuple of Period
        The fiscal year's quarters up to the period's.
    first_deal : date or None
        First close date of the whole data set (any stage): the data's start
        (:func:`reportkit.core.periods.data_start`).
    last_deal : date or None
        Last close date of the whole data set (any stage): the data's end
        (:func:`reportkit.core.periods.data_end`); a quarter after it gets no
        performance verdict.
    """

    period: Period
    as_of: datetime.date
    cutoff: datetime.date
    credited: pd.DataFrame
    quotas: pd.DataFrame
    quota_notes: tuple[str, ...]
    history: tuple[Period, ...]
    year_quarters: tuple[Period, ...]
    splits: dict[str, pd.DataFrame] = field(default_factory=dict)
    quota_lookup: dict[str, dict[tuple[str, str], int]] = field(default_factory=dict)  # per kind: (id, period) -> cents
    first_deal: datetime.date | None = None  # first close date of the whole data set (any stage)
    last_deal: datetime.date | None = None  # last close date of the whole data set (any stage)
    forecast_cache: dict[str, pd.DataFrame | None] = field(default_factory=dict)
    engine: dict[str, Any] = field(default_factory=dict)  # commission statements and engine results (once per batch)
    plan_input_quotas: pd.DataFrame | None = None  # what the plan engine is given (fixes group, issue #13)
    deal_types: Plan | None = None  # the plan whose crediting factors by deal type ``credited`` applies (None: none)
    forecast_cutoff: datetime.date = None  # type: ignore[assignment]  # the forecast's cutoff (None: ``cutoff``)

    def __post_init__(self) -> None:
        if self.forecast_cutoff is None:
            object.__setattr__(self, "forecast_cutoff", self.cutoff)

    def forecasts(self, ds: Dataset) -> pd.DataFrame:
        """Blended annual forecast of every account manager, indexed by id (computed once per batch).

        Exactly :func:`reportkit.analysis.api.forecast_table` (``level="account_manager"``):
        :func:`reportkit.domain.forecast.annual_forecasts` on the report's credited deals
        and effective quotas, as of ``forecast_cutoff``.
        """
        if "account_manager" not in self.forecast_cache:
            f = annual_forecasts(
                ds,
                self.period.fiscal_year,
                self.forecast_cutoff,
                level="account_manager",
                method="blended",
                credited=self.credited,
                quotas=self.quotas,
            )
            self.forecast_cache["account_manager"] = f.set_index(f["entity"].astype("str"), drop=False)
        return self.forecast_cache["account_manager"]

    def forecast_hierarchy(self, ds: Dataset) -> pd.DataFrame | None:
        """The chosen, reconciled forecast of every account manager, team and the company (computed once per batch).

        Exactly :func:`reportkit.domain.backtest.forecast_hierarchy` of the period's
        fiscal year as of ``forecast_cutoff`` (the backtest behind the choice included),
        indexed by ``(level, entity)`` with ``entity`` a string. A batch builds its
        report objects in its own process (the workers only execute them), so inside
        :func:`shared_contexts` every report of the batch reads this one frame.

        Returns
        -------
        DataFrame or None
            Columns :data:`reportkit.domain.backtest.HIERARCHY_COLUMNS`; None while the
            fiscal year has not begun by ``forecast_cutoff`` (a report dated before it: nothing of
            the year to forecast from, the reports show the blended forecast).
        """
        self._hierarchies(ds)
        return self.forecast_cache["hierarchy"]

    def next_year_hierarchy(self, ds: Dataset) -> pd.DataFrame | None:
        """Next fiscal year's chosen, reconciled forecast of every level, once the period's year is over (once per batch).

        :func:`reportkit.domain.backtest.forecast_hierarchy` of the next fiscal year as of
        ``forecast_cutoff`` when that is the last day of the period's fiscal year (a report on
        or after it), indexed like :meth:`forecast_hierarchy`; None otherwise.
        """
        self._hierarchies(ds)
        return self.forecast_cache["next_hierarchy"]

    def _hierarchies(self, ds: Dataset) -> None:
        """This year's and (at year end) next year's hierarchy from one backtest, which is not kept.

        Read from the batch's cache when it holds them (:meth:`_hierarchy_record`), else
        computed and stored there: a re-run of unchanged data skips the backtest's rules,
        choice, calibration and reconciliation as it skips the model fits.
        """
        if "hierarchy" in self.forecast_cache:
            return
        cache, key = self._hierarchy_record(ds)
        kept = read_frames(cache.get(key)) if cache is not None else None
        if kept is None:
            self._compute_hierarchies(ds)
            if cache is not None:
                record = frames_record([self.forecast_cache[k] for k in _HIERARCHY_PARTS])  # type: ignore[misc]
                if record is not None:
                    cache.put(key, record)
            return
        for name, frame in zip(_HIERARCHY_PARTS, kept, strict=True):
            self.forecast_cache[name] = frame  # type: ignore[assignment]

    def _hierarchy_record(self, ds: Dataset) -> tuple[ContentCache | None, bytes]:
        """The batch's cache of hierarchies and this context's key there: (None, b"") when nothing is kept.

        Only the plain crediting's (no crediting factors by deal type: the plan is not part
        of the key) inside a batch whose :func:`shared_contexts` offers a cache.
        """
        fits = shared_fit_cache()
        if fits is None or self.deal_types is not None:
            return None, b""
        cache = ContentCache(fits.root.parent, HIERARCHY_CACHE)
        return cache, hierarchy_key(
            ds,
            self.forecast_cutoff,
            self.period.fiscal_year,
            self.period.year.start,
            self.period.year.end,
            rows={"deals": deal_row_hashes(ds.deals)},
        )

    def _compute_hierarchies(self, ds: Dataset) -> None:
        """:meth:`_hierarchies` computed: the backtest and the forecast hierarchies from it."""
        year, cutoff = self.period.year, self.forecast_cutoff
        h = nxt = None
        self.forecast_cache["accuracy_evidence"] = None  # type: ignore[assignment]
        if year.start <= cutoff <= year.end:
            # credited once for the backtest and both years (forecast_inputs: the cut rule): the context's own
            # credits when they are the plain ones (no crediting factors by deal type), not a second copy
            revs = level_revenues(ds, credited=self.credited if self.deal_types is None else None)
            fits = {"fit_cache": shared_fit_cache(), "executor": fit_executor()}  # the models are fitted there, or read
            detail = hierarchy_evidence(ds, cutoff, revenues=revs, **fits)
            h = _by_level(forecast_hierarchy(ds, self.period.fiscal_year, cutoff, detail=detail, revenues=revs, **fits))
            if cutoff == year.end:
                nxt = _by_level(forecast_hierarchy(ds, self.period.fiscal_year + 1, cutoff, detail=detail, revenues=revs, **fits))
            del revs
            # the company's rows, for the company report's accuracy of earlier quarters (a few rows)
            self.forecast_cache["accuracy_evidence"] = detail.loc[(detail["level"] == "company").to_numpy()]  # type: ignore[assignment]
            del detail  # the batch keeps the small hierarchies only (benchmarks/bench_batch.py: peak memory)
        self.forecast_cache["hierarchy"] = h  # type: ignore[assignment]
        self.forecast_cache["next_hierarchy"] = nxt  # type: ignore[assignment]

    def forecast_accuracy(self, ds: Dataset, as_of: datetime.date) -> pd.DataFrame:
        """The company forecast's accuracy at earlier quarter ends, as of ``as_of`` (the company report's table).

        :func:`reportkit.domain.backtest.forecast_accuracy`, read from the backtest
        behind :meth:`forecast_hierarchy` when that backtest was cut at ``as_of`` (the
        batch runs it once), computed on its own otherwise. ``as_of`` after the data's
        last month is cut there (:func:`reportkit.core.periods.data_cutoff`, the forecast's rule).
        """
        self._hierarchies(ds)
        as_of = data_cutoff(as_of, self.last_deal, self.period.calendar)
        evidence = self.forecast_cache.get("accuracy_evidence") if as_of == self.forecast_cutoff else None
        return forecast_accuracy(ds, as_of, evidence=evidence)

    def account_status(self, ds: Dataset, account_manager_id: str) -> pd.DataFrame:
        """Status of one account manager's client accounts as of ``as_of``: the one call
        the account-manager report and :func:`reportkit.analysis.api.account_status` share.

        :func:`reportkit.domain.accounts.account_status` on the report's credited deals,
        with the default :class:`~reportkit.domain.accounts.AccountStatusRules`, the data
        set's accounts, deals, pipeline and service issues, and the data's first close
        date as the start of its history (no "last year" before it).

        Only the last account manager's table is kept: a batch asks once per account manager
        (their report; a ``per: account`` kind's reports of one account manager come one
        after another), and the table is large (a row per account with ``Decimal`` money:
        1.4 MB an account manager at 800,000 deals, 280 MB for 200 when each was kept to the
        end of the batch, ``docs/batch.md``, "Memory of the batch process"). What is read
        later is kept for every account manager: their accounts at risk
        (:meth:`accounts_at_risk`, the company report's). A table computed for those before
        the account manager's own report asked is kept until it asks (:meth:`keep_ahead`).

        Returns
        -------
        DataFrame
            One row per account, columns as ``account_status`` documents.
        """
        last = self.engine.get(("account_status", "last"))
        if last is None or last[0] != account_manager_id:
            status = self.take_ahead("account_status", account_manager_id)
            if status is None:
                status = self._account_status(ds, account_manager_id)
            self.engine[("account_status", "last")] = last = (account_manager_id, status)
        return last[1].copy()

    def _account_status(self, ds: Dataset, account_manager_id: str) -> pd.DataFrame:
        """:meth:`account_status`'s table, computed; its accounts at risk are kept (:meth:`accounts_at_risk`)."""
        status = account_status(
            self.credits_of(account_manager_id),  # their rows, grouped once: the same table as from every credit
            account_manager_id,
            self.period,
            self.as_of,
            ds.accounts,
            AccountStatusRules(),
            deals=self._lost_deals(ds, account_manager_id),
            pipeline=ds.pipeline,
            service_issues=ds.service_issues,
            history_start=self.first_deal,
            history_end=self.last_deal,
        )
        at_risk = status.loc[(status["status"] == "at risk").to_numpy(), list(AT_RISK_COLUMNS)].reset_index(drop=True)
        # kept to the end of the batch: money as int64 cents, not a Decimal object per row (the same cents)
        cents = pd.Series([to_cents(v) for v in at_risk["revenue_ytd"]], dtype="int64")
        self.engine[("accounts_at_risk", account_manager_id)] = at_risk.assign(revenue_ytd=cents)
        return status

    def keep_ahead(self, what: str, account_manager_id: str, value: Any) -> None:
        """Keep ``value`` (an account manager's ``what``: their account status, their statement) until
        :meth:`take_ahead` takes it: computed for another report (the company's, built while the last
        account managers' reports are still to build) before their own report asks for it.

        At most :data:`AHEAD` per ``what`` are kept, the oldest dropped first (a batch without those
        reports would otherwise keep every one to its end: ``docs/batch.md``, "Memory of the batch process").
        """
        kept = self.engine.setdefault(("ahead", what), {})
        kept[account_manager_id] = value
        while len(kept) > AHEAD:
            del kept[next(iter(kept))]

    def take_ahead(self, what: str, account_manager_id: str) -> Any:
        """The value :meth:`keep_ahead` kept for this account manager, no longer kept (None: none).

        Handed over as its own copy (:func:`_handed_over`): the report that computed it (the
        company's) may still hold the value it kept, and neither side's edit reaches the other,
        whenever that report's object is pickled.
        """
        return _handed_over(self.engine.get(("ahead", what), {}).pop(account_manager_id, None))

    def _lost_deals(self, ds: Dataset, account_manager_id: str) -> pd.DataFrame | None:
        """The lost deals one account manager owns (:func:`reportkit.domain.accounts.lost_deals` of the data set,
        found and grouped by owner once per context, not per account manager); None without deals.

        What :func:`reportkit.domain.accounts.account_status` counts of every lost deal are its
        account manager's: given only those, it gives the same table.
        """
        if ds.deals is None:
            return None
        if ("lost_deals",) not in self.engine:
            lost = lost_deals(ds.deals)
            self.engine[("lost_deals",)] = (lost, _rows_by(lost["account_manager_id"].astype("str")))
        lost, rows = self.engine[("lost_deals",)]
        return lost.take(rows.get(str(account_manager_id), _NO_ROWS))

    def credits_of(self, account_manager_id: str) -> pd.DataFrame:
        """The rows of ``credited`` credited to one account manager, in their order, with their index.

        The same rows as ``credited.loc[credited["account_manager_id"] == account_manager_id]``;
        every account manager's rows are found once per context (one grouping of the credits,
        their positions kept), not by a filter of every credit in each report's build, its
        account status and its commission statement. The last account manager's rows are kept
        (those three ask one after another) and handed out as a shallow copy (copy-on-write:
        a caller's edit never reaches the kept rows).
        """
        am = str(account_manager_id)
        last = self.engine.get(("credits", "last"))
        if last is None or last[0] != am:
            if ("credit rows",) not in self.engine:
                self.engine[("credit rows",)] = _rows_by(self.credited["account_manager_id"])
            last = self.engine[("credits", "last")] = (am, self.credited.take(self.engine[("credit rows",)].get(am, _NO_ROWS)))
        return last[1].copy(deep=False)

    def accounts_at_risk(self, ds: Dataset, account_manager_id: str, *, cents: bool = False) -> pd.DataFrame:
        """The rows of :meth:`account_status` whose ``status`` is ``at risk``, in its order (kept once per batch).

        The company report's accounts at risk read these for every reported account
        manager after their reports are built; only these rows and the columns it reads
        (:data:`AT_RISK_COLUMNS`) are kept, computed by :meth:`account_status` when not
        yet asked; ``revenue_ytd`` is kept in whole cents and returned as ``Decimal``, as
        ``account_status`` has it, or with ``cents=True`` as those ``int64`` cents (the
        same amounts; for a caller that sorts and sums them).
        """
        key = ("accounts_at_risk", account_manager_id)
        if key not in self.engine:  # before their own report: their table is kept for it
            self.keep_ahead("account_status", account_manager_id, self._account_status(ds, account_manager_id))
        kept = self.engine[key]
        if cents:
            return kept.copy(deep=False)  # copy-on-write: a caller's edit never reaches the kept rows
        return kept.assign(revenue_ytd=pd.Series([cents_to_money(c) for c in kept["revenue_ytd"]], dtype="object"))

    def split(self, kind: str) -> pd.DataFrame:
        """Quotas split by fiscal period of ``kind`` (computed once per batch)."""
        if kind not in self.splits:
            self.splits[kind] = split_quotas(self.quotas, self.period.calendar, kind)  # type: ignore[arg-type]
        return self.splits[kind]

    def quota(self, account_manager_id: str, period: Period) -> int | None:
        """Same as :func:`reportkit.domain.quota.quota_for`, from the precomputed split.

        A dictionary lookup: the split's rows summed per (account manager, period) once per
        period kind. A filter of the split per call cost the company report about 0.3 s of
        CPU at 200,000 deals (250 calls: each member's period and year-to-date quarters).
        """
        by = self.quota_lookup.get(period.kind)
        if by is None:
            s = self.split(period.kind)
            by = {}
            for a, lab, q in zip(s["account_manager_id"].tolist(), s["period"].tolist(), s["quota_cents"].tolist()):
                by[(a, lab)] = by.get((a, lab), 0) + int(q)
            self.quota_lookup[period.kind] = by
        return by.get((account_manager_id, period.label))

    def ytd_quota(self, account_manager_id: str) -> int | None:
        """Quota cents from the fiscal year's start to the period's end (:func:`ytd_periods`); None if none is set."""
        vals = [q for q in (self.quota(account_manager_id, x) for x in ytd_periods(self.period)) if q is not None]
        return sum(vals) if vals else None

    def annual_quotas(self, ids: list[str]) -> dict[str, int | None]:
        """Each account manager's quota cents for the period's fiscal year (None: no quota)."""
        qs = self.split("year")
        qs = qs.loc[(qs["period"] == self.period.year.label).to_numpy()].set_index("account_manager_id")["quota_cents"]
        return {a: (int(qs[a]) if a in qs.index else None) for a in ids}

    def attainment(self, ids: list[str], quarters: list[Period]) -> pd.DataFrame:
        """:func:`reportkit.domain.quota.attainment_table` of ``ids`` per quarter, up to ``cutoff``, on these quotas.

        Read from :meth:`quarter_revenue` (every credit grouped once per batch), not from a
        grouping of the report's own credits per call: the same table.
        """
        return attainment_table(
            self.credited,
            self.quotas,
            ids,
            quarters,
            until=self.cutoff,
            quarter_quotas=self.split("quarter"),
            revenue=self.quarter_revenue(),
        )

    def quarter_revenue(self) -> pd.DataFrame:
        """:func:`reportkit.domain.crediting.credited_revenue` of ``credited`` per quarter up to ``cutoff`` (once per batch).

        Every account manager's; what each report's quarters and performance history read
        (:meth:`attainment`), instead of each grouping its own credits twice.
        """
        if ("quarter_revenue",) not in self.engine:
            self.engine[("quarter_revenue",)] = credited_revenue(
                self.credited, self.period.calendar, "quarter", until=self.cutoff
            )
        return self.engine[("quarter_revenue",)]


def _handed_over(value: Any) -> Any:
    """``value`` sharing no mutable object with the one :meth:`ReportContext.keep_ahead` kept.

    A frame or series is a shallow copy (copy-on-write, always on in pandas 3: an edit of either
    copies the data first, so it never reaches the other); a frozen dataclass (a commission
    statement) is replaced with its frames copied so; anything else is returned as it is (the
    values kept ahead are those, or immutable). About 20 microseconds a frame.
    """
    if isinstance(value, pd.DataFrame | pd.Series):
        return value.copy(deep=False)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        frames = {
            f.name: _handed_over(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.init and isinstance(getattr(value, f.name), pd.DataFrame | pd.Series)
        }
        return dataclasses.replace(value, **frames) if frames else value
    return value


#: How many account managers' tables of one kind :meth:`ReportContext.keep_ahead` keeps at most: the company
#: report is built while about ``7 x (jobs - 1) + jobs`` account managers' reports are still to build (9 on 2 cores).
AHEAD = 16

#: The columns of an account manager's accounts at risk kept for the company report (:meth:`ReportContext.accounts_at_risk`).
AT_RISK_COLUMNS = ("account_id", "account_name", "revenue_ytd", "status_rule", "status_reason")

# Contexts shared inside ``shared_contexts()`` blocks (None outside every block: nothing is kept).
_shared: list[tuple[Dataset, str, datetime.date, str, ReportContext]] | None = None
_shared_depth = 0
_shared_lock = threading.Lock()
_fit_executors: list[Executor] = []  # the executors offered by the open shared_contexts blocks, innermost last
_fit_caches: list[ContentCache] = []  # the fit caches offered by them, innermost last
_deal_rows: list[tuple[pd.DataFrame, np.ndarray]] = []  # deal_row_hashes' inside the blocks: (deals, their row hashes)


def deal_row_hashes(deals: pd.DataFrame) -> np.ndarray:
    """The deals' row hashes (:func:`reportkit.core.hashing.row_hashes`), once per deals frame inside :func:`shared_contexts`.

    A batch needs them twice: for its forecast hierarchies' cache key (:meth:`ReportContext._hierarchy_record`)
    and its deals' fingerprint (``deals.fingerprint.parquet``). Kept (8 bytes a deal) until the outermost
    block ends, not dropped by :func:`forget_shared_contexts` (the fingerprint is made after it on Dask);
    outside every block computed at each call.
    """
    with _shared_lock:
        kept = next((rows for frame, rows in _deal_rows if frame is deals), None) if _shared is not None else None
    if kept is not None:
        return kept
    rows = row_hashes(deals)[0]
    with _shared_lock:
        if _shared is not None:
            _deal_rows.append((deals, rows))
    return rows


def forget_shared_contexts() -> None:
    """Drop what the open :func:`shared_contexts` blocks have computed so far; the blocks stay open.

    ``run_batch`` calls it once every report is built, before it writes the batch's own
    files (``figures.json``, the deals' fingerprint), so the credits, forecasts and engine
    results of the whole org are not held beside them (issue #18: the batch process's peak
    at 800,000 deals; ``docs/batch.md``, "Memory of the batch process"). A build after it,
    inside the block, computes its context again from the same data set: the same figures.
    """
    with _shared_lock:
        if _shared is not None:
            _shared.clear()


def fit_executor() -> Executor | None:
    """The executor the innermost :func:`shared_contexts` block offers for the forecast's model fits (None: fit here)."""
    with _shared_lock:
        return _fit_executors[-1] if _fit_executors else None


def shared_fit_cache() -> ContentCache | None:
    """The cache of model fits the innermost :func:`shared_contexts` block offering one offers (None: nothing kept)."""
    with _shared_lock:
        return _fit_caches[-1] if _fit_caches else None


@contextlib.contextmanager
def shared_contexts(fit_executor: Executor | None = None, fit_cache: ContentCache | None = None) -> Iterator[None]:
    """Let the reports built inside this block share what they compute from one dataset.

    A batch builds dozens of reports of one dataset, period and ``as_of``: inside
    the block the credited deals, effective quotas, quota splits, forecasts and
    plan-engine results are computed once per (dataset, period, ``as_of``,
    params) and reused, instead of once per report. The block's owner promises
    that the datasets it builds from do not change meanwhile: ``run_batch`` and
    ``reportkit statement`` load their own dataset and never change it.

    Outside every block nothing is kept: each call of a builder or of the
    :mod:`reportkit.analysis.api` functions computes from the dataset as it is now, so an
    analyst who edits ``ds.deals`` in place sees the edit in the next call. (A
    cache keyed on the dataset's identity returned the old figures; one keyed on
    its content would hash every deal on every call.) Blocks may nest and may be
    used from several threads; the shared contexts are dropped when the
    outermost block ends.

    ``fit_executor``: an executor (a process pool) whose workers are idle while the
    forecast is computed: the forecast backtest's model fits run there
    (:func:`reportkit.domain.backtest.backtest_forecasts`; the same figures). ``run_batch``
    offers its report worker processes, idle until the first report is built, which
    import the models on their first fit (``docs/batch.md``, "How a batch stays fast"). ``fit_cache``: the cache of model fits
    (:func:`reportkit.domain.forecast_models.fit_cache`) the forecasts read and add to (the
    same figures; ``docs/forecasting.md``, "The cache of model fits").
    """
    global _shared, _shared_depth
    with _shared_lock:
        _shared_depth += 1
        if _shared is None:
            _shared = []
        if fit_executor is not None:
            _fit_executors.append(fit_executor)
        if fit_cache is not None:
            _fit_caches.append(fit_cache)
    try:
        yield
    finally:
        with _shared_lock:
            _shared_depth -= 1
            if _shared_depth == 0:
                _shared = None
                _deal_rows.clear()
            if fit_executor is not None:
                _fit_executors.remove(fit_executor)
            if fit_cache is not None:
                _fit_caches.remove(fit_cache)


def report_context(ds: Dataset, params: BatchParams, period_label: str, as_of: datetime.date) -> ReportContext:
    """Compute what every report of one dataset, period and ``as_of`` shares: credits, quotas, quarters.

    Reused only inside a :func:`shared_contexts` block (a batch crediting 2M deals
    does it once, not once per report); otherwise computed afresh on every call.

    Parameters
    ----------
    ds : Dataset
    params : BatchParams
        Its quota rule decides the quotas (:func:`effective_quotas`).
    period_label : str
        Fiscal period label (``FY2025-Q4``; a month or year label also works).
    as_of : date
        Report date.

    Returns
    -------
    ReportContext

    Raises
    ------
    PeriodError
        ``period_label`` is not a period label.
    """
    key = params.model_dump_json(exclude={"base_dir"})
    shared = _shared
    for d, p, a, k, ctx in shared or ():
        if d is ds and p == period_label and a == as_of and k == key:
            return ctx
    period = Period.parse(period_label, ds.calendar)
    cutoff = min(as_of, period.end)
    last_deal = data_end(ds.deals["close_date"])
    forecast_cutoff = data_cutoff(cutoff, last_deal, ds.calendar)
    years = list(range(period.fiscal_year - 2, period.fiscal_year + 1))
    plan_input, notes = engine_quotas(ds, params, years)
    quotas, notes = _plan_quotas(ds, params, years, plan_input, notes)
    if params.plan is None:
        plan_input = None
    this_q = ds.calendar.period_of(period.end, "quarter")
    first = ds.calendar.period_of(period.year.same_period_last_year().start, "quarter")
    if len(quotas):
        earliest = ds.calendar.period_of(pd.Timestamp(quotas["period_start"].min()).date(), "quarter")
        if (earliest.fiscal_year, earliest.number) < (first.fiscal_year, first.number):
            first = earliest
    history = [first]
    while history[-1] != this_q and len(history) < 200:
        history.append(history[-1].shift(1))
    deal_types = params_deal_type_plan(params)
    ctx = ReportContext(
        period=period,
        as_of=as_of,
        cutoff=cutoff,
        credited=credited_deals(ds, deal_types=deal_types),
        deal_types=deal_types,
        quotas=quotas,
        # the load's rules a reader needs (the time zone), and where the forecast's actuals end
        quota_notes=(*notes, *data_notes(ds.warnings), *forecast_cutoff_notes(cutoff, forecast_cutoff, last_deal)),
        history=tuple(history),
        year_quarters=tuple(period.quarters_to_date()),
        first_deal=data_start(ds.deals["close_date"]),
        last_deal=last_deal,
        plan_input_quotas=plan_input,
        forecast_cutoff=forecast_cutoff,
    )
    if shared is not None:
        shared.append((ds, period_label, as_of, key, ctx))
    return ctx


def forecast_cutoff_notes(
    cutoff: datetime.date, forecast_cutoff: datetime.date, last_deal: datetime.date | None
) -> tuple[str, ...]:
    """The note of a report whose forecast is cut before its cutoff by the data's end (none otherwise).

    >>> forecast_cutoff_notes(datetime.date(2018, 3, 31), datetime.date(2017, 12, 31), datetime.date(2017, 12, 31))
    ('The data ends on 2017-12-31; the months after it are forecast.',)
    """
    if last_deal is None or forecast_cutoff >= cutoff:
        return ()
    return (f"The data ends on {last_deal.isoformat()}; the months after it are forecast.",)


#: What :meth:`ReportContext._hierarchies` keeps, in the order of its cache record.
_HIERARCHY_PARTS = ("hierarchy", "next_hierarchy", "accuracy_evidence")


_NO_ROWS = np.zeros(0, dtype=np.intp)


def _rows_by(values: pd.Series) -> dict[str, np.ndarray]:
    """The positions of each value's rows, in order (a missing value's rows are nobody's)."""
    return values.groupby(values, sort=False).indices


def _by_level(h: pd.DataFrame) -> pd.DataFrame:
    """A hierarchy indexed by ``(level, entity)``, ``entity`` a string."""
    h = h.assign(entity=h["entity"].astype("str"))
    return h.set_index(["level", "entity"], drop=False)
