"""Interactive explorer for analysts in JupyterLab (``notebooks/explorer.ipynb``).

All logic lives here; the notebook only builds an :class:`Explorer` and shows it.

* Dropdowns choose the team, the account manager and the fiscal quarter; the
  account manager's attainment, commission statement and account status come
  from :func:`reportkit.analysis.api.build_account_manager_report` (the batch report's
  own builder), so the explorer shows the report's cents.
* A what-if panel (:func:`what_if`) changes a **copy** of the data -- extra
  revenue booked on the cutoff day, deals slipping to the next quarter, another
  commission rate or quota bonus -- and recomputes attainment and commission
  with the same domain functions (:func:`reportkit.analysis.api.attainment_table`,
  :func:`reportkit.analysis.api.commission_statement`). The loaded dataset is never changed.

Every output is an ``ipywidgets.HTML`` whose ``value`` is plain, escaped HTML, so
callbacks can be tested without a browser or a kernel.

Exported HTML (issue #19 item 6): a page nbconvert exports links the widget
manager (``@jupyter-widgets/html-manager``) from a public CDN; no PyPI package
ships it, so offline the widget area of such a page stays empty. The explorer
therefore never relies on it to show a figure:

* :meth:`Explorer.snapshot` is the current selection as static HTML -- the same
  tables and the same chart ``<img>`` (an inline PNG) the widget shows, taken from
  the same strings, no arithmetic of its own -- headed by :data:`STATIC_NOTE`, the
  sentence that the controls need a running Jupyter kernel. The notebook shows it
  in its last cell, so ``jupyter nbconvert --to html`` pages always carry it.
* Displaying the :class:`Explorer` itself (not ``.widget``) adds a ``text/html``
  fallback (:data:`CONTROLS_NOTE`) to the widget's output: a page exported
  without saved widget state shows that sentence instead of ``VBox(children=...)``.
* :meth:`Explorer.export_html` writes the current selection as one self-contained
  page: no script, nothing fetched, the same figures offline.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import html
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pandas as pd

from ..config.params import QuotaBonus
from ..core.errors import ParamsError, ReportkitError, did_you_mean
from ..core.files import atomic_write
from ..core.money import cents_to_money, to_cents, to_micros
from ..core.periods import Period
from ..core.types import to_fraction
from ..core.words import counted, in_number
from ..data.model import AMOUNT_MICROS
from ..domain.crediting import credited_deals, credited_in
from ..domain.loading import parse_date
from ..render.notebook import format_money, format_percent, format_points, summary_table, table
from ..reports.planning import account_manager_row, active_account_managers
from . import api

__all__ = ["WhatIf", "what_if", "Explorer", "Snapshot", "WHAT_IF_DEAL_ID", "STATIC_NOTE", "CONTROLS_NOTE"]

#: Deal id of the synthetic deal that carries the what-if extra revenue.
WHAT_IF_DEAL_ID = "WHAT-IF-EXTRA"

#: The sentence heading every static snapshot of the explorer (exported pages).
STATIC_NOTE = (
    "Static snapshot of the explorer's selection: the same figures and tables, without its "
    "controls. Choosing another team, account manager or quarter and the what-if panel need a "
    "running Jupyter kernel: open notebooks/explorer.ipynb in JupyterLab with the "
    "Python (reportkit) kernel."
)

#: What a page shows in place of the widget when it has no saved widget state.
CONTROLS_NOTE = (
    "The explorer's controls (team, account manager and quarter dropdowns, what-if panel) need a "
    "running Jupyter kernel and are not part of this page; the static snapshot shows the same figures."
)


# ---------------------------------------------------------------------------
# what-if
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class WhatIf:
    """Baseline and what-if figures of one account manager for one period.

    Attributes
    ----------
    account_manager_id, period : str
    as_of : datetime.date
    currency : str
    baseline, scenario : dict
        ``revenue``, ``quota``, ``commission``, ``bonus``, ``commission_total``
        (Decimal money, quota None when missing) and ``attainment`` (float
        fraction or None when undefined).
    changes : tuple of str
        Human-readable list of what was changed.
    statement : CommissionStatement
        The what-if commission statement (lines as in the report).
    """

    account_manager_id: str
    period: str
    as_of: datetime.date
    currency: str
    baseline: dict[str, Any]
    scenario: dict[str, Any]
    changes: tuple[str, ...]
    statement: Any

    def table(self) -> pd.DataFrame:
        """Formatted comparison: ``metric``, ``baseline``, ``what_if``, ``change`` (text).

        A change of attainment is in percentage points (``+2.5 percentage points``:
        from 88.0% to 90.5%), never a percent of the baseline.
        """
        rows = []
        for key, label in (
            ("revenue", "Revenue"),
            ("quota", "Quota"),
            ("attainment", "Attainment"),
            ("commission", "Commission (rate lines)"),
            ("bonus", "Quota bonus"),
            ("commission_total", "Commission total"),
        ):
            b, s = self.baseline[key], self.scenario[key]
            if key == "attainment":
                fmt = format_percent
                change = "n/a" if b is None or s is None else format_points(s - b)
            else:
                fmt = lambda v: format_money(v, self.currency)  # noqa: E731
                delta = None if b is None or s is None else s - b
                change = "n/a" if delta is None else ("+" if delta >= 0 else "") + format_money(delta, self.currency)
            rows.append((label, fmt(b), fmt(s), change))
        return pd.DataFrame(rows, columns=["metric", "baseline", "what_if", "change"]).astype("str")


def _parse_money(value: Any, what: str) -> Decimal:
    if isinstance(value, float):
        raise ParamsError(f"{what}: give money as text or Decimal, not a float ({value!r})")
    text = str(value).strip().replace(",", "") or "0"
    try:
        d = Decimal(text)
    except InvalidOperation:
        raise ParamsError(f"{what}: {value!r} is not an amount", hint="write it like 25000.00") from None
    if not d.is_finite():
        raise ParamsError(f"{what}: {value!r} is not an amount")
    return d


def _parse_rate(value: Any) -> Decimal:
    """A typed commission rate by the params' one rule for fractions (:func:`reportkit.core.types.to_fraction`).

    ``"0.07"`` is 7 %; ``"7%"`` is refused with "write the fraction 0.07", as in a
    params or plan file.
    """
    if isinstance(value, float):
        raise ParamsError(f"commission rate: give it as text or Decimal, not a float ({value!r})")
    try:
        d = to_fraction(str(value).strip().replace(",", "") or "0")
    except ValueError as exc:
        raise ParamsError(f"commission rate: {exc}") from None
    if d < 0 or d > 1:
        raise ParamsError(f"commission rate {value!r} is not a fraction between 0 and 1", hint="5 % is 0.05")
    return d


def _figures(ds: Any, am: str, period: str, params: Any, as_of: datetime.date) -> tuple[dict[str, Any], Any]:
    row = api.attainment_table(ds, period, params, as_of=as_of, account_manager_ids=[am])
    stmt = api.commission_statement(ds, am, period, params, as_of=as_of)
    if len(row):
        revenue, quota, att = row.loc[0, "revenue"], row.loc[0, "quota"], float(row.loc[0, "attainment"])
    else:  # not active in the period: the statement still has the revenue
        revenue, quota, att = stmt.revenue, None, float("nan")
    return (
        {
            "revenue": revenue,
            "quota": quota,
            "attainment": None if pd.isna(att) else att,
            "commission": stmt.commission,
            "bonus": stmt.bonus,
            "commission_total": stmt.total,
        },
        stmt,
    )


def what_if(
    ds: Any,
    account_manager_id: str,
    period: str,
    params: Any,
    as_of: datetime.date | str,
    *,
    extra_revenue: Decimal | str | int = 0,
    slip_deal_ids: Iterable[str] = (),
    rate: Decimal | str | None = None,
    bonus_amount: Decimal | str | None = None,
) -> WhatIf:
    """Recompute one account manager's attainment and commission on changed data.

    The changes are applied to a copy of ``ds`` and ``params``; the figures are
    then computed by exactly the functions the reports use, so the baseline
    equals the report and the what-if is what the report *would* show.

    Parameters
    ----------
    ds : Dataset
    account_manager_id : str
    period : str
        Period label, e.g. ``"FY2025-Q4"``.
    params : BatchParams
    as_of : date or ISO str
    extra_revenue : Decimal or str, default 0
        Revenue of one extra won deal (:data:`WHAT_IF_DEAL_ID`) owned by the
        account manager, closing on the period's cutoff day
        (``min(as_of, period end)``); negative for a lost sale / return.
    slip_deal_ids : iterable of str
        Deals of the account manager that slip to the **next** period: their
        close date moves to the first day of the next period, out of this one.
    rate : Decimal or str, optional
        Another flat commission rate (fraction, ``"0.07"`` == 7 %).
    bonus_amount : Decimal or str, optional
        Another quota-bonus amount (``"0"`` removes the bonus); the threshold
        and award are kept (a bonus at 100 % attainment paid in cash if the
        params have none).

    Returns
    -------
    WhatIf

    Raises
    ------
    ParamsError
        Unknown account manager; a slipping deal that is not one of the account
        manager's deals in the period; an amount or rate that is not a number.
    PeriodError
        Bad period label.

    Examples
    --------
    >>> w = what_if(ds, "AM-001", "FY2025-Q4", params, "2025-12-31", slip_deal_ids=["D-01339"])  # doctest: +SKIP
    >>> w.scenario["commission_total"] < w.baseline["commission_total"]                        # doctest: +SKIP
    True
    """
    am = str(account_manager_id)
    account_manager_row(ds, am)
    day = parse_date(as_of)
    if day is None:
        raise ParamsError("what_if needs as_of")
    p = Period.parse(str(period), ds.calendar)
    baseline, _ = _figures(ds, am, p.label, params, day)

    cutoff = max(p.start, min(day, p.end))
    deals, slipped = _slip_deals(ds, am, p, cutoff, [str(d) for d in slip_deal_ids])
    deals, added = _add_extra_deal(ds, deals, am, cutoff, _parse_money(extra_revenue, "extra revenue"))
    new_params, params_changed = _changed_params(params, rate, bonus_amount)
    changes = [*slipped, *added, *params_changed]
    new_ds = dataclasses.replace(ds, deals=deals)

    scenario, stmt = _figures(new_ds, am, p.label, new_params, day)
    return WhatIf(
        account_manager_id=am,
        period=p.label,
        as_of=day,
        currency=ds.currency,
        baseline=baseline,
        scenario=scenario,
        changes=tuple(changes) or ("no change",),
        statement=stmt,
    )


def _slip_deals(ds: Any, am: str, p: Period, cutoff: datetime.date, slip: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """A copy of ``ds.deals`` with the deals ``slip`` moved to the next period's first day, and the change said.

    Raises ParamsError when a deal is not one of the account manager's deals in the period.
    """
    deals = ds.deals.copy()
    if not slip:
        return deals, []
    mine = credited_in(credited_deals(ds), p.start, cutoff, am)
    eligible = set(mine["deal_id"].astype("str"))
    bad = [d for d in slip if d not in eligible]
    if bad:
        raise ParamsError(
            f"deal {bad[0]!r} is not a deal of {am} closed in {p.label}",
            hint=f"choose one of {sorted(eligible)[:10]}",
        )
    nxt = p.shift(1)
    mask = deals["deal_id"].astype("str").isin(slip).to_numpy()
    deals.loc[mask, "close_date"] = pd.Timestamp(nxt.start)
    return deals, [f"{counted(len(slip), 'deal')} {in_number(len(slip), 'slips', 'slip')} to {nxt.label} ({', '.join(slip)})"]


def _add_extra_deal(
    ds: Any, deals: pd.DataFrame, am: str, cutoff: datetime.date, extra: Decimal
) -> tuple[pd.DataFrame, list[str]]:
    """``deals`` plus one won deal of ``extra`` (:data:`WHAT_IF_DEAL_ID`) closing on ``cutoff``, and the change said."""
    if extra == 0:
        return deals, []
    row = dict.fromkeys(deals.columns)
    row.update(
        deal_id=WHAT_IF_DEAL_ID,
        account_manager_id=am,
        account_id="(what-if)",
        close_date=pd.Timestamp(cutoff),
        amount_cents=to_cents(extra),
        currency=ds.currency,
        stage="won",
    )
    dtypes = {"amount_cents": "int64", "close_date": "datetime64[ns]"}
    if AMOUNT_MICROS in deals.columns:  # keep the exact column exact (int64, no NaN row)
        row[AMOUNT_MICROS] = to_micros(extra)
        dtypes[AMOUNT_MICROS] = "int64"
    add = pd.DataFrame([row]).astype(dtypes)
    return (
        pd.concat([deals, add], ignore_index=True),
        [f"extra revenue {cents_to_money(to_cents(extra))} {ds.currency} closing {cutoff.isoformat()}"],
    )


def _changed_params(params: Any, rate: Decimal | str | None, bonus_amount: Decimal | str | None) -> tuple[Any, list[str]]:
    """``params`` with another flat commission rate and/or quota-bonus amount, and the changes said.

    Raises ParamsError for either change when ``params.plan`` pays instead of the flat ``commission:``
    policy (it would change nothing the reports pay).
    """
    changes: list[str] = []
    commission = params.commission
    if rate is not None and str(rate).strip() != "":
        r = _parse_rate(rate)
        if r != commission.rate:
            _refuse_under_plan(params, "another commission rate")
            commission = commission.model_copy(update={"rate": r})
            changes.append(f"commission rate {r}")
    if bonus_amount is not None and str(bonus_amount).strip() != "":
        b = _parse_money(bonus_amount, "quota bonus")
        if b < 0:
            raise ParamsError(f"quota bonus {bonus_amount!r} is negative")
        current = commission.quota_bonus.amount if commission.quota_bonus is not None else Decimal(0)
        if b != current:
            _refuse_under_plan(params, "another quota bonus")
            qb = commission.quota_bonus or QuotaBonus()
            commission = commission.model_copy(update={"quota_bonus": qb.model_copy(update={"amount": b})})
            changes.append(f"quota bonus {b}")
    return params.model_copy(update={"commission": commission}), changes


def _refuse_under_plan(params: Any, what: str) -> None:
    """Refuse a what-if of the flat ``commission:`` policy when params ``plan:`` pays instead."""
    if params.plan is not None:
        raise ParamsError(
            f"{what}: this params file pays by its plan ({params.plan.path}), not by its commission: "
            "rate and quota bonus, so the what-if would change nothing",
            hint=f"change the rates or bonuses in a copy of {params.plan.path} and load a params file naming it "
            "(docs/commission.md); extra revenue and slipping deals work under a plan",
        )


# ---------------------------------------------------------------------------
# static snapshot
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """Static HTML of the explorer's current selection (shown in exported HTML).

    Attributes
    ----------
    html : str
        :data:`STATIC_NOTE`, the selection's title and every table and chart the
        widget shows (the chart as an inline PNG ``<img>``): it needs no script and
        fetches nothing.
    text : str
        A plain-text outline (``repr``).
    """

    html: str
    text: str

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return self.text


# ---------------------------------------------------------------------------
# the widget
# ---------------------------------------------------------------------------


def _html_table(
    frame: pd.DataFrame, columns: list[str] | None, currency: str, caption: str = "", max_rows: int | None = None
) -> str:
    return table(frame, columns, currency=currency, caption=caption, max_rows=max_rows).to_html()


class Explorer:
    """Team / account manager / quarter explorer with a what-if panel.

    Parameters
    ----------
    ds : Dataset
    params : BatchParams
    as_of : date or ISO str, optional
        Figures as of this date (default: ``params.as_of``); never ``today()``.
    period : str, optional
        Quarter shown first (default: ``params.period``). The dropdown offers
        the quarters of the previous fiscal year and of this one up to it.
    team, account_manager_id : str, optional
        Selection shown first (default: the first team, its first account manager).

    Attributes
    ----------
    team, account_manager, period : ipywidgets.Dropdown
    extra_revenue, rate, bonus : ipywidgets.Text
    slip : ipywidgets.SelectMultiple
        The account manager's deals in the quarter (value: deal ids).
    summary, attainment, commission, accounts, chart, what_if_table, message : ipywidgets.HTML
    report : AccountManagerReport
        The current selection's report object.
    scenario : WhatIf
        The current what-if result.
    widget : ipywidgets.VBox
        Everything, ready to display.

    Examples
    --------
    >>> ex = Explorer.from_params("../params/demo.yaml", as_of="2025-12-31")  # doctest: +SKIP
    >>> ex.widget                                                              # doctest: +SKIP
    """

    def __init__(
        self,
        ds: Any,
        params: Any,
        *,
        as_of: datetime.date | str | None = None,
        period: str | None = None,
        team: str | None = None,
        account_manager_id: str | None = None,
    ) -> None:
        import ipywidgets as w

        self.ds, self.params = ds, params
        self.as_of = parse_date(as_of) or params.as_of
        first = Period.parse(str(period or params.period), ds.calendar)
        self.periods = self._period_options(first)
        am = ds.account_managers
        self.teams = sorted(set(am["team"].astype("str")))
        if not self.teams:
            raise ParamsError("the dataset has no account managers")
        if team and str(team) not in self.teams:
            raise ParamsError(f"team {team!r} is not in the account managers table" + did_you_mean(str(team), self.teams))
        if account_manager_id and not team:
            hit = am.loc[(am["account_manager_id"] == str(account_manager_id)).to_numpy(), "team"]
            team = str(hit.iloc[0]) if len(hit) else None
        self._busy = False
        style = {"description_width": "initial"}
        self.team = w.Dropdown(options=self.teams, value=str(team) if team else self.teams[0], description="Team", style=style)
        self.period = w.Dropdown(options=self.periods, value=first.label, description="Quarter", style=style)
        self.account_manager = w.Dropdown(options=[], description="Account manager", style=style)
        self.extra_revenue = w.Text(value="0.00", description=f"Extra revenue ({ds.currency})", style=style)
        self.slip = w.SelectMultiple(options=[], rows=6, description="Deals slipping to next quarter", style=style)
        qb = params.commission.quota_bonus
        self.rate = w.Text(value=str(params.commission.rate), description="Commission rate (fraction: 0.07 = 7 %)", style=style)
        self.bonus = w.Text(
            value=str(qb.amount if qb is not None else "0.00"), description=f"Quota bonus ({ds.currency})", style=style
        )
        self.reset = w.Button(description="Reset what-if")
        self.summary, self.attainment, self.commission, self.accounts = (w.HTML() for _ in range(4))
        self.chart, self.what_if_table, self.message, self.title = (w.HTML() for _ in range(4))
        self.report: Any = None
        self.scenario: WhatIf | None = None

        self._fill_account_managers(account_manager_id)
        self.team.observe(self._on_team, names="value")
        self.period.observe(self._on_period, names="value")
        self.account_manager.observe(self._on_selection, names="value")
        for box in (self.extra_revenue, self.rate, self.bonus, self.slip):
            box.observe(self._on_what_if, names="value")
        self.reset.on_click(self._on_reset)
        self.refresh()

        what_if_box = w.VBox(
            [
                w.HTML("<h3>What if</h3><p>Recomputed with the report's own functions on a copy of the data.</p>"),
                self.extra_revenue,
                self.slip,
                self.rate,
                self.bonus,
                self.reset,
                self.what_if_table,
            ]
        )
        tabs = w.Tab(
            children=[w.VBox([self.summary]), w.VBox([self.attainment, self.chart]), self.commission, self.accounts, what_if_box]
        )
        for i, t in enumerate(["Summary", "Attainment", "Commission", "Account status", "What if"]):
            tabs.set_title(i, t)
        self.widget = w.VBox([w.HBox([self.team, self.account_manager, self.period]), self.title, self.message, tabs])

    # -- construction helpers ---------------------------------------------------

    @classmethod
    def from_params(
        cls,
        params_file: str | Path,
        *,
        as_of: datetime.date | str | None = None,
        period: str | None = None,
        team: str | None = None,
        account_manager_id: str | None = None,
    ) -> Explorer:
        """Load ``params_file`` and its dataset (:func:`reportkit.analysis.api.load`) and build an explorer."""
        params, ds = api.load(params_file)
        return cls(
            ds,
            params,
            as_of=as_of or None,
            period=period or None,
            team=team or None,
            account_manager_id=account_manager_id or None,
        )

    def _period_options(self, first: Period) -> list[str]:
        q = self.ds.calendar.period_of(first.end, "quarter")
        start = self.ds.calendar.period_of(q.year.same_period_last_year().start, "quarter")
        out = [start]
        while out[-1] != q and len(out) < 12:
            out.append(out[-1].shift(1))
        labels = [p.label for p in out]
        if first.label not in labels:
            labels.append(first.label)
        return labels

    def _fill_account_managers(self, prefer: str | None = None) -> None:
        p = Period.parse(self.period.value, self.ds.calendar)
        am = active_account_managers(self.ds, p)
        am = am.loc[(am["team"] == self.team.value).to_numpy()].sort_values(["name", "account_manager_id"], kind="stable")
        options = [(f"{n} ({i})", str(i)) for i, n in zip(am["account_manager_id"], am["name"])]
        ids = [o[1] for o in options]
        current = prefer if prefer in ids else (self.account_manager.value if self.account_manager.value in ids else None)
        self._busy = True
        try:
            self.account_manager.options = options
            self.account_manager.value = current if current is not None else (ids[0] if ids else None)
        finally:
            self._busy = False

    # -- callbacks --------------------------------------------------------------

    def _on_team(self, change: Any) -> None:
        self._fill_account_managers()
        self.refresh()

    def _on_period(self, change: Any) -> None:
        self._fill_account_managers()
        self.refresh()

    def _on_selection(self, change: Any) -> None:
        if not self._busy:
            self.refresh()

    def _on_what_if(self, change: Any) -> None:
        if not self._busy:
            self.update_what_if()

    def _on_reset(self, _button: Any = None) -> None:
        self._busy = True
        try:
            qb = self.params.commission.quota_bonus
            self.extra_revenue.value = "0.00"
            self.slip.value = ()
            self.rate.value = str(self.params.commission.rate)
            self.bonus.value = str(qb.amount if qb is not None else "0.00")
        finally:
            self._busy = False
        self.update_what_if()

    # -- rendering --------------------------------------------------------------

    def refresh(self) -> None:
        """Rebuild the report of the current selection and every output."""
        am = self.account_manager.value
        self.message.value = ""
        if am is None:
            self.report = None
            for out in (self.summary, self.attainment, self.commission, self.accounts, self.chart, self.what_if_table):
                out.value = f"<p><em>No account manager of {html.escape(self.team.value)} is active in {html.escape(self.period.value)}.</em></p>"
            self.title.value = ""
            self.slip.options = []
            return
        r = api.build_account_manager_report(self.ds, am, self.period.value, self.params, self.as_of)
        self.report = r
        cur = r.currency
        self.title.value = (
            f"<h2>{html.escape(r.name)} ({html.escape(r.id)}) — {html.escape(r.period)}</h2>"
            f"<p>Team: {html.escape(r.team)} · as of {r.as_of.isoformat()} · {html.escape(cur)}</p>"
        )
        self.summary.value = summary_table(
            r,
            [
                "period_label",
                "revenue",
                "quota",
                "attainment",
                "pace",
                "ytd_revenue",
                "ytd_attainment",
                "commission_total",
                "forecast",
                "forecast_range",
                "performance_status",
            ],
        ).to_html()
        self.attainment.value = _html_table(
            r.quarterly,
            ["period", "revenue", "quota", "attainment", "revenue_last_year", "growth_vs_last_year"],
            cur,
            caption="Quarterly revenue against quota",
        )
        self.commission.value = _html_table(
            r.commission,
            ["line", "description", "basis", "rate", "amount", "rule", "award"],
            cur,
            caption=f"Commission statement, total {format_money(r.summary['commission_total'], cur)}",
        )
        self.accounts.value = _html_table(
            r.accounts,
            [
                "account_id",
                "account_name",
                "revenue_period",
                "revenue_ytd",
                "last_order_date",
                "days_since_last_order",
                "trend",
                "status",
                "status_reason",
            ],
            cur,
            caption="Account status",
        )
        self.chart.value = self._chart_html(r)

        self._busy = True
        try:
            self.slip.options = [
                (f"{d} · {a} · {c} · {format_money(m, cur)}", str(d))
                for d, a, c, m in zip(r.deals["deal_id"], r.deals["account_name"], r.deals["close_date"], r.deals["amount"])
            ]
            self.slip.value = ()
        finally:
            self._busy = False
        self.update_what_if()

    @staticmethod
    def _chart_html(report: Any) -> str:
        from ..render.charts import quarterly_chart, to_png  # lazy: matplotlib only when a chart is drawn

        fig = quarterly_chart(report)
        b64 = base64.b64encode(to_png(fig)).decode("ascii")
        alt = html.escape(f"Revenue and quota per quarter, {report.name}")
        return f'<img src="data:image/png;base64,{b64}" alt="{alt}">'

    def update_what_if(self) -> None:
        """Recompute the what-if panel from its inputs (errors are shown, not raised)."""
        if self.report is None:
            return
        try:
            self.scenario = what_if(
                self.ds,
                self.report.id,
                self.period.value,
                self.params,
                self.as_of,
                extra_revenue=self.extra_revenue.value,
                slip_deal_ids=self.slip.value,
                rate=self.rate.value,
                bonus_amount=self.bonus.value,
            )
        except ReportkitError as exc:
            self.message.value = f'<p style="color:#b00020">What-if: {html.escape(str(exc))}</p>'
            return
        self.message.value = ""
        s = self.scenario
        self.what_if_table.value = _html_table(s.table(), None, s.currency, caption="What if: " + "; ".join(s.changes))

    def snapshot(self) -> Snapshot:
        """Static HTML (and text) of the current selection: every table and the chart the widget shows.

        The parts are the widget's own HTML strings (no figure is computed again),
        headed by :data:`STATIC_NOTE`. Shown by the notebook's last cell, so every
        page exported from it has the figures whether or not the widget manager loads.
        """
        parts_html = [
            f'<p class="reportkit-static-note"><em>{html.escape(STATIC_NOTE)}</em></p>',
            self.title.value,
            self.message.value,
        ]
        parts_text = [STATIC_NOTE]
        if self.report is not None:
            parts_text.append(f"{self.report.name} ({self.report.id}) {self.report.period} as of {self.report.as_of}")
        for label, out in (
            ("Summary", self.summary),
            ("Attainment", self.attainment),
            ("Chart", self.chart),
            ("Commission", self.commission),
            ("Account status", self.accounts),
            ("What if", self.what_if_table),
        ):
            parts_html.append(f"<h3>{label}</h3>{out.value}")
            parts_text.append(label)
        return Snapshot(html="\n".join(p for p in parts_html if p), text="\n".join(parts_text))

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        """The widget's own bundle, plus a ``text/html`` :data:`CONTROLS_NOTE` for frontends and exports without widgets.

        JupyterLab (and a page whose saved widget state loads) shows the widget;
        nbconvert drops the widget view when the notebook has no widget state for
        it and shows this note instead of the widget's ``repr``.
        """
        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        bundle["text/html"] = f'<p class="reportkit-controls-note"><em>{html.escape(CONTROLS_NOTE)}</em></p>'
        bundle["text/plain"] = CONTROLS_NOTE
        return bundle

    def export_html(self, path: str | Path) -> Path:
        """Write the current selection as one self-contained HTML page that works offline.

        The page is :meth:`snapshot` (the note that the controls need a running
        Jupyter kernel, the tables, the chart as an inline PNG) in a plain
        document: no script, no stylesheet or font fetched, so it shows the same
        figures with or without a network. The file is written next to its final
        name and moved into place: a failed write leaves no half page.

        Parameters
        ----------
        path : str or Path
            The ``.html`` file to write (its folder must exist).

        Returns
        -------
        Path
            ``path``.

        Raises
        ------
        OutputError
            The file cannot be written (the message names it and the reason).

        Examples
        --------
        >>> explorer.export_html("explorer.html")  # doctest: +SKIP
        PosixPath('explorer.html')
        """
        out = Path(path)
        snap = self.snapshot()
        r = self.report
        title = f"{r.name} ({r.id}), {r.period} - explorer snapshot" if r is not None else "Explorer snapshot"
        page = (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title>\n<style>{_PAGE_CSS}</style>\n</head>\n"
            f"<body>\n<main>\n{snap.html}\n</main>\n</body>\n</html>\n"
        )
        return atomic_write(
            out,
            page,
            what="the explorer page",
            hint="choose a file in a folder that exists and that you can write to",
        )


#: The exported page's own look (system fonts only: nothing is fetched).
_PAGE_CSS = (
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2em auto;max-width:72em;"
    "padding:0 1em;color:#1a1a1a}"
    "table.reportkit-table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:0.9em}"
    "table.reportkit-table caption{caption-side:top;text-align:left;padding:0.3em 0;color:#444}"
    "table.reportkit-table th,table.reportkit-table td{padding:0.3em 0.7em;border-bottom:1px solid #ddd}"
    "table.reportkit-table thead th{border-bottom:2px solid #555}"
    "img{max-width:100%;height:auto}"
)
