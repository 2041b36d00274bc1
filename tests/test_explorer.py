"""Explorer widget callbacks, driven programmatically (no browser, no kernel)."""

from __future__ import annotations

import datetime
import html
from decimal import Decimal
from html import escape as html_escape
from pathlib import Path

import pytest
from batch_contexts import batch_contexts

import reportkit
from reportkit.analysis.explorer import CONTROLS_NOTE, STATIC_NOTE, WHAT_IF_DEAL_ID, Explorer, what_if
from reportkit.core.errors import OutputError, ParamsError

ROOT = Path(__file__).resolve().parents[1]
AS_OF = datetime.date(2025, 12, 31)


@pytest.fixture(scope="module")
def demo():
    return reportkit.load(ROOT / "params" / "demo.yaml")


@pytest.fixture(scope="module", autouse=True)
def one_forecast_per_selection(demo):
    """The module's explorers share each (period, as_of)'s forecast, as a batch's reports do.

    Outside a ``shared_contexts`` block every build recomputes the forecast hierarchy
    (its backtest fits hundreds of models): about a minute a test on a loaded 2-core
    machine. Inside the block a batch opens (tests/batch_contexts.py) it is computed
    once per (dataset, period, as_of), with the same figures, and the what-if copies
    of the dataset read their model fits from the test run's fit cache.
    """
    params, _ = demo
    with batch_contexts(params):
        yield


@pytest.fixture
def ex(demo):
    params, ds = demo
    return Explorer(ds, params, as_of="2025-12-31")


def test_default_selection_shows_the_report(ex, demo):
    params, ds = demo
    assert (ex.team.value, ex.account_manager.value, ex.period.value) == ("Team North", "AM-001", "FY2025-Q4")
    r = reportkit.build_account_manager_report(ds, "AM-001", "FY2025-Q4", params, AS_OF)
    assert ex.report.summary == r.summary
    assert "$133,419.56" in ex.summary.value  # revenue, as the report shows it
    assert "FY2025-Q3" in ex.attainment.value and "<img" in ex.chart.value
    assert "total $6,670.99" in ex.commission.value and r.summary["commission_total"] == Decimal("6670.99")
    assert "Account status" in ex.accounts.value
    assert ex.scenario.scenario == ex.scenario.baseline  # no what-if change yet


def test_changing_the_team_dropdown_updates_account_managers_and_tables(ex):
    before = (ex.summary.value, ex.commission.value, ex.chart.value)
    ex.team.value = "Team West"
    ids = [v for _, v in ex.account_manager.options]
    assert "0731" in ids and "AM-001" not in ids
    assert ex.report.team == "Team West" and ex.account_manager.value == ex.report.id
    assert (ex.summary.value, ex.commission.value, ex.chart.value) != before
    assert ex.report.name in ex.title.value


def test_changing_the_account_manager_and_period_updates_figures(ex, demo):
    params, ds = demo
    ex.account_manager.value = "AM-002"
    assert ex.report.id == "AM-002"
    ex.period.value = "FY2025-Q2"
    assert ex.report.period == "FY2025-Q2" and ex.account_manager.value == "AM-002"
    r = reportkit.build_account_manager_report(ds, "AM-002", "FY2025-Q2", params, AS_OF)
    assert ex.report.summary["commission_total"] == r.summary["commission_total"]
    assert [v for _, v in ex.slip.options] == r.deals["deal_id"].tolist()


def test_what_if_slip_moves_revenue_out_and_commission_falls(ex):
    deals = ex.report.deals
    big = deals.sort_values("amount").iloc[-1]
    ex.slip.value = (big["deal_id"],)
    s = ex.scenario
    assert s.scenario["revenue"] == s.baseline["revenue"] - big["amount"]
    assert s.scenario["commission"] == s.baseline["commission"] - (big["amount"] * Decimal("0.05")).quantize(Decimal("0.01"))
    assert s.scenario["commission_total"] < s.baseline["commission_total"]
    assert s.scenario["attainment"] < s.baseline["attainment"]
    assert "What if: 1 deal slips to FY2026-Q1" in ex.what_if_table.value  # the verb agrees with its count
    # the loaded data is untouched: the report is unchanged
    assert ex.report.summary["revenue"] == s.baseline["revenue"]


def test_what_if_extra_revenue_can_earn_the_quota_bonus(ex):
    base = ex.scenario.baseline
    gap = base["quota"] - base["revenue"]
    ex.extra_revenue.value = str(gap)
    s = ex.scenario.scenario
    assert s["revenue"] == base["quota"] and s["attainment"] == pytest.approx(1.0)
    assert s["bonus"] == Decimal("2000.00")
    assert s["commission_total"] == base["commission_total"] + (gap * Decimal("0.05")).quantize(Decimal("0.01")) + Decimal(
        "2000.00"
    )


def test_what_if_rate_and_bonus_and_reset(ex):
    ex.rate.value = "0.10"
    assert (
        ex.scenario.scenario["commission"]
        == ex.scenario.statement.lines.loc[ex.scenario.statement.lines["deal_id"].notna(), "amount"].sum()
    )
    assert ex.scenario.scenario["commission"] > ex.scenario.baseline["commission"]
    ex.rate.value = "ten percent"
    assert "not a number" in ex.message.value
    ex.reset.click()
    assert ex.message.value == "" and ex.scenario.scenario == ex.scenario.baseline


def test_a_rate_typed_as_a_percent_is_refused_with_the_fraction_to_write(ex, demo):
    params, ds = demo
    with pytest.raises(ParamsError, match=r"write the fraction 0\.07"):
        what_if(ds, "AM-001", "FY2025-Q4", params, AS_OF, rate="7%")
    ex.rate.value = "7%"
    assert "write the fraction 0.07" in html.unescape(ex.message.value)


def test_what_if_shows_an_attainment_change_in_percentage_points(demo):
    params, ds = demo
    w = what_if(ds, "AM-001", "FY2025-Q4", params, AS_OF, extra_revenue="4000.00")
    row = w.table().set_index("metric").loc["Attainment"]
    # 4,000.00 more on a 160,000.00 quota: attainment 83.4% -> 85.9%, i.e. 2.5 points (not 3 % of 83.4 %)
    assert (row["baseline"], row["what_if"], row["change"]) == ("83.4%", "85.9%", "+2.5 percentage points")


def test_what_if_function_matches_a_changed_dataset(demo):
    params, ds = demo
    w = what_if(ds, "AM-001", "FY2025-Q4", params, AS_OF, extra_revenue="1000.00", rate="0.06")
    assert w.scenario["revenue"] == w.baseline["revenue"] + Decimal("1000.00")
    assert WHAT_IF_DEAL_ID in " ".join(w.statement.lines["description"])
    assert WHAT_IF_DEAL_ID not in set(ds.deals["deal_id"])  # a copy was changed
    with pytest.raises(ParamsError, match="not a deal of AM-001"):
        what_if(ds, "AM-001", "FY2025-Q4", params, AS_OF, slip_deal_ids=["D-00001"])
    with pytest.raises(ParamsError, match="float"):
        what_if(ds, "AM-001", "FY2025-Q4", params, AS_OF, extra_revenue=0.1)
    with pytest.raises(ParamsError, match="between 0 and 1"):
        what_if(ds, "AM-001", "FY2025-Q4", params, AS_OF, rate="5")


@pytest.fixture(scope="module")
def demo_with_plan(demo):
    """The demo paid by the shipped standard plan: params ``plan:`` replaces the flat ``commission:`` policy."""
    from reportkit.config.params import PlanRef

    params, ds = demo
    return params.model_copy(update={"plan": PlanRef(path=Path("plans/standard.yaml"))}), ds


def test_what_if_of_a_flat_rate_or_bonus_under_a_plan_is_refused_naming_the_plan(demo_with_plan):
    """Under a plan the params' rate and quota bonus pay nothing: the what-if must not list them as
    changes and show the same commission; it says the plan pays and where to change it."""
    params, ds = demo_with_plan
    with pytest.raises(ParamsError, match=r"commission rate.*plans/standard\.yaml"):
        what_if(ds, "AM-001", "FY2025-Q4", params, AS_OF, rate="0.10")
    with pytest.raises(ParamsError, match=r"quota bonus.*plans/standard\.yaml"):
        what_if(ds, "AM-001", "FY2025-Q4", params, AS_OF, bonus_amount="500.00")
    same = what_if(ds, "AM-001", "FY2025-Q4", params, AS_OF, rate=str(params.commission.rate), extra_revenue="1000.00")
    assert not any("commission rate" in c for c in same.changes)  # the field's unchanged value is no change
    ex = Explorer(ds, params, as_of="2025-12-31")
    ex.rate.value = "0.10"
    assert "plans/standard.yaml" in ex.message.value


def test_initial_selection_by_account_manager_and_snapshot(demo):
    params, ds = demo
    ex = Explorer(ds, params, as_of=AS_OF, account_manager_id="0731")
    assert ex.team.value == "Team West" and ex.report.id == "0731"
    snap = ex.snapshot()
    html = snap._repr_html_()
    for part in ("Summary", "Commission", "Account status", "What if", "Kofi Kowalski", "<table", html_escape(STATIC_NOTE)):
        assert part in html
    with pytest.raises(ParamsError, match="did you mean"):
        Explorer(ds, params, as_of=AS_OF, team="Team Wst")


def test_team_without_active_members_shows_a_message(make_dataset):
    from reportkit.config.params import BatchParams

    ds = make_dataset(
        ams=[("A1", "Alice", "East", None, None), ("B1", "Ben", "Gone", None, "2020-01-01")],
        deals=[("D1", "A1", "C1", "2025-05-01", 100_00)],
        quotas=[("A1", "2025-04-01", "2025-06-30", 1000_00)],
    )
    params = BatchParams(source=Path("."), period="FY2025-Q4", as_of=datetime.date(2025, 6, 30))
    ex = Explorer(ds, params)
    ex.team.value = "Gone"
    assert ex.account_manager.value is None and "No account manager" in ex.summary.value
    ex.team.value = "East"
    assert ex.report.id == "A1"


def test_displaying_the_explorer_gives_the_widget_and_a_note_for_pages_without_widgets(ex):
    bundle = ex._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == ex.widget.model_id
    assert html.escape(CONTROLS_NOTE) in bundle["text/html"] and bundle["text/plain"] == CONTROLS_NOTE


def test_export_html_into_a_missing_folder_is_an_output_error_naming_the_file(ex, tmp_path):
    target = tmp_path / "no-such-folder" / "explorer.html"
    with pytest.raises(OutputError, match=r"no-such-folder/explorer\.html") as err:
        ex.export_html(target)
    assert err.value.hint and not target.parent.exists()


def test_export_html_whose_rename_fails_keeps_the_previous_page(ex, tmp_path, monkeypatch):
    from reportkit.core import files

    target = ex.export_html(tmp_path / "explorer.html")
    before = target.read_text()

    def refuse(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(files.os, "replace", refuse)
    with pytest.raises(OutputError, match=r"cannot write the explorer page .*Permission denied"):
        ex.export_html(target)
    assert target.read_text() == before and [p.name for p in tmp_path.iterdir()] == ["explorer.html"]
