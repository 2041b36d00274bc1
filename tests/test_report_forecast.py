"""The reports' annual forecast is the chosen, reconciled one (issue #17 items 2, 3 and 6).

Against :func:`reportkit.domain.backtest.forecast_hierarchy` on the demo data mid-year
(``params/demo_midyear.yaml``: FY2025-Q3 as of 2025-08-15, three years of history):
the figures a report shows are its entity's row to the cent, a team's is the sum of its
members', the sentence is the hierarchy's, and a batch computes the hierarchy once.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from batch_contexts import batch_contexts, params_fit_cache
from demo_params import ROOT

import reportkit as rk
from reportkit.domain import backtest
from reportkit.domain.loading import load_inputs
from reportkit.reports import context as report_ctx
from reportkit.reports.context import report_context, shared_contexts

MIDYEAR = ROOT / "params" / "demo_midyear.yaml"


@pytest.fixture(scope="module")
def midyear():
    """The mid-year demo's params, data, its hierarchy and the reports of Team North and its members (one shared context)."""
    params = rk.load_params(MIDYEAR)
    ds = rk.load_dataset(params.resolve(params.source))
    hierarchy = backtest.forecast_hierarchy(ds, 2025, params.as_of, fit_cache=params_fit_cache(params))
    hierarchy = hierarchy.set_index(["level", "entity"])
    with batch_contexts(params):  # as a batch builds them: the model fits read from the run's fit cache
        team = rk.build_team_report(ds, "Team North", params.period, params, params.as_of)
        members = {
            a: rk.build_account_manager_report(ds, a, params.period, params, params.as_of)
            for a in team.forecast["account_manager_id"].iloc[:-1]
        }
    return params, ds, hierarchy, team, members


def test_an_account_manager_report_shows_its_hierarchy_row_to_the_cent(midyear):
    _, _, hierarchy, _, members = midyear
    for am_id, report in members.items():
        row = hierarchy.loc[("account_manager", am_id)]
        s = report.summary
        assert (s["forecast"], s["forecast_low"], s["forecast_high"]) == (row["forecast"], row["low"], row["high"]), am_id
        assert s["forecast_rule"] == row["words"], am_id
        chosen = report.forecast.iloc[0]
        assert chosen["forecast"] == row["forecast"] and chosen["method"] == row["method"], am_id
        assert chosen["basis"].startswith("chosen: "), am_id


def test_a_team_report_shows_its_hierarchy_row_which_is_the_sum_of_its_members(midyear):
    _, _, hierarchy, team, members = midyear
    row = hierarchy.loc[("team", "Team North")]
    s = team.summary
    assert (s["forecast"], s["forecast_low"], s["forecast_high"]) == (row["forecast"], row["low"], row["high"])
    assert s["forecast_rule"] == row["words"]
    member_rows = team.forecast.iloc[:-1]
    assert sum(member_rows["forecast"], Decimal("0.00")) == s["forecast"]
    assert sum((m.summary["forecast"] for m in members.values()), Decimal("0.00")) == s["forecast"]
    assert team.forecast.iloc[-1]["forecast"] == s["forecast"]  # the roll-up's total row: the same figure
    assert team.leaderboard.set_index("account_manager_id").loc[list(members), "forecast"].tolist() == [
        m.summary["forecast"] for m in members.values()
    ]


def test_the_other_methods_stay_in_the_forecast_table_for_comparison(midyear):
    _, ds, _, team, members = midyear
    blended = rk.forecast_table(ds, "FY2025-Q3", params=midyear[0], as_of=midyear[0].as_of).set_index("entity")
    for am_id, report in members.items():
        f = report.forecast.set_index("method")
        assert f.loc["blended", "forecast"] == blended.loc[am_id, "forecast"], am_id
        assert "run_rate" in f.index
    t = team.forecast.set_index("account_manager_id")
    for am_id in members:
        assert t.loc[am_id, "blended"] == blended.loc[am_id, "forecast"], am_id


def test_a_batch_of_reports_computes_the_hierarchy_once(midyear, monkeypatch):
    params, ds, _, team, _ = midyear
    calls = []
    real = report_ctx.forecast_hierarchy
    monkeypatch.setattr(report_ctx, "forecast_hierarchy", lambda *a, **k: calls.append(a[1:]) or real(*a, **k))
    with shared_contexts():  # no fit cache: a cached hierarchy would be read, not computed
        rk.build_team_report(ds, "Team North", params.period, params, params.as_of)
        for a in team.forecast["account_manager_id"].iloc[:-1]:
            rk.build_account_manager_report(ds, a, params.period, params, params.as_of)
    assert calls == [(2025, params.as_of)]


def test_with_too_little_history_the_report_says_so_and_shows_the_run_rate(tiny_dataset, batch_params):
    """The tiny data set has no earlier year to backtest and no last year: the domain's rule falls back to run rate."""
    import datetime

    r = rk.build_account_manager_report(tiny_dataset, "A1", "FY2025-Q4", batch_params, datetime.date(2025, 5, 15))
    assert "too little history to choose a method by backtest" in r.summary["forecast_rule"]
    assert "so the run rate is used instead" in r.summary["forecast_rule"]
    f = r.forecast.set_index("method")
    assert f.loc["reconciled", "basis"] == "chosen: run rate, reconciled"
    assert r.summary["forecast"] == f.loc["reconciled", "forecast"] == f.loc["run_rate", "forecast"]


def test_a_team_forecast_holding_a_leavers_rest_of_year_says_so_and_by_how_much(midyear):
    """Mid-year, Hugo Horvath (AM-008, left 2025-06-30) is not a member of Team South in FY2025-Q3 but had deals in
    FY2025: the hierarchy keeps him (a team is the sum of all its account managers), so the team's forecast (each deal
    once) holds his rest of the year and the members' roll-up does not; the note says so with the exact difference."""
    from reportkit.render.notebook import summary_table

    params, ds, hierarchy, _, _ = midyear
    with batch_contexts(params):  # one forecast for both teams, its fits from the run's fit cache
        south = rk.build_team_report(ds, "Team South", params.period, params, params.as_of)
        north = rk.build_team_report(ds, "Team North", params.period, params, params.as_of)  # every account manager a member
    assert "AM-008" not in set(south.forecast["account_manager_id"])
    rows = dict(summary_table(south).rows)
    money = {k: Decimal(v.replace("$", "").replace(",", "")) for k, v in rows.items() if k.endswith(")") and "forecast" in k}
    gap = money["Annual forecast (each deal once)"] - money["Credited forecast (attainment basis)"]
    leaver = hierarchy.loc[("account_manager", "AM-008")]
    assert gap == leaver["forecast"] - leaver["ytd_revenue"] > 0
    note = next(n for n in south.notes if "Hugo Horvath (AM-008, who left on 2025-06-30)" in n)
    assert f"{gap:,.2f} USD forecast for the rest of FY2025" in note and "roll-up rule" in note
    assert not any("not a member" in n for n in north.notes)


def test_at_year_end_a_team_forecast_of_next_year_holding_a_leaver_says_so_and_by_how_much():
    """At the end of FY2025 the team shows FY2026's forecast; the hierarchy still holds Hugo Horvath (AM-008, left
    2025-06-30, deals in FY2025), so Team South's next-year figure is more than its members' next-year forecasts by
    exactly his FY2026 row, and the note names him and that amount (a reader found the gap unexplained)."""
    params, ds = load_inputs(ROOT / "params" / "demo.yaml")
    with batch_contexts(params):
        south = rk.build_team_report(ds, "Team South", params.period, params, params.as_of)
        members = [
            rk.build_account_manager_report(ds, a, params.period, params, params.as_of)
            for a in south.forecast["account_manager_id"].iloc[:-1]
        ]
        ctx = report_context(ds, params, params.period, params.as_of)
        leaver = ctx.next_year_hierarchy(ds).loc[("account_manager", "AM-008")]
    gap = south.summary["next_year_forecast"] - sum((m.summary["next_year_forecast"] for m in members), Decimal("0.00"))
    assert gap == leaver["forecast"] > 0
    note = next(n for n in south.notes if "Hugo Horvath (AM-008, who left on 2025-06-30)" in n)
    assert f"Next year's forecast (FY2026) includes {gap:,.2f} USD" in note


def test_months_after_the_datas_end_are_forecast_not_counted_as_zero_actuals(midyear):
    """The export ends in June, the mid-year report is as of 2025-08-15: the forecast is cut at 2025-06-30 and says so."""
    import dataclasses
    import datetime

    params, ds, *_ = midyear
    cut = ds.deals.loc[(ds.deals["close_date"] <= "2025-06-30").to_numpy()].reset_index(drop=True)
    ended = dataclasses.replace(ds, deals=cut)
    last = cut["close_date"].max().date()
    fits = params_fit_cache(params)  # the same figures as fitting afresh (tests/test_fit_cache.py)
    june = backtest.forecast_hierarchy(ended, 2025, datetime.date(2025, 6, 30), fit_cache=fits).set_index(["level", "entity"])
    zeros = backtest.forecast_hierarchy(ended, 2025, params.as_of, fit_cache=fits).set_index(["level", "entity"])
    note = f"The data ends on {last.isoformat()}; the months after it are forecast."
    with batch_contexts(params):
        ctx = report_context(ended, params, params.period, params.as_of)
        team = rk.build_team_report(ended, "Team North", params.period, params, params.as_of)
        am_id = team.forecast["account_manager_id"].iloc[0]
        am = rk.build_account_manager_report(ended, am_id, params.period, params, params.as_of)
    assert (ctx.cutoff, ctx.forecast_cutoff) == (params.as_of, datetime.date(2025, 6, 30))
    for r, key in ((team, ("team", "Team North")), (am, ("account_manager", am_id))):
        assert r.summary["forecast"] == june.loc[key, "forecast"] != zeros.loc[key, "forecast"], key
        assert note in r.notes, key
    blended = rk.forecast_table(ended, params.period, params=params, as_of=params.as_of).set_index("entity")
    assert am.forecast.set_index("method").loc["blended", "forecast"] == blended.loc[am_id, "forecast"]
    # the demo's data ends on 2025-12-29, inside its last month: nothing is cut, no note
    assert report_context(ds, params, params.period, params.as_of).forecast_cutoff == params.as_of


def test_the_forecast_cutoff_is_the_end_of_the_datas_last_month_when_that_is_earlier():
    import datetime

    from reportkit.core.periods import FiscalCalendar, data_cutoff

    cal = FiscalCalendar(first_month=7)
    assert data_cutoff(datetime.date(2018, 3, 31), datetime.date(2017, 12, 31), cal) == datetime.date(2017, 12, 31)
    assert data_cutoff(datetime.date(2025, 3, 31), datetime.date(2025, 2, 10), cal) == datetime.date(2025, 2, 28)
    assert data_cutoff(datetime.date(2025, 12, 31), datetime.date(2025, 12, 29), cal) == datetime.date(2025, 12, 31)
    assert data_cutoff(datetime.date(2025, 12, 31), None, cal) == datetime.date(2025, 12, 31)
