"""What a reader sees: to-date periods, n/a last year, summary rows, total rows,
Yes/No, one title, chart legend and ticks, account columns, params_file lookup,
blended forecast (review of the demo reports, issues 1-10)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import papermill as pm
import pytest
from conftest import build_batch_params
from sample_reports import am_report
from test_templates import TEMPLATES, _read

from reportkit.core.errors import ParamsError
from reportkit.render import charts
from reportkit.render.notebook import format_cell, load_report, resolve_params_file, summary_table, table
from reportkit.reports.builders import _prorate, build_account_manager_report, build_team_report

AMS = [("A1", "Alice", "East", None, None), ("A2", "Bob", "East", None, None)]


def _params(**commission):
    p = build_batch_params()
    if commission:
        p = p.model_copy(update={"commission": p.commission.model_copy(update=commission)})
    return p


# -- 1. mid-quarter as_of: like for like, quota to date, pace ------------------------------


@pytest.fixture
def mid_quarter(make_dataset, make_quotas):
    deals = [
        ("L1", "A1", "C1", "2024-04-01", 10_000_00),  # last year, inside the first 15 days of FY2024-Q4 (the data's first day)
        ("L2", "A1", "C1", "2024-06-20", 90_000_00),  # last year, later in the quarter
        ("T1", "A1", "C1", "2025-04-10", 12_000_00),  # this year, to date
        ("T2", "A1", "C1", "2025-05-10", 50_000_00),  # after as_of
        ("B1", "A2", "C2", "2025-04-02", 3_000_00),
    ]
    quotas = make_quotas("A1", 2024, 100_000_00) + make_quotas("A1", 2025, 100_000_00) + make_quotas("A2", 2025, 20_000_00)
    return make_dataset(ams=AMS, deals=deals, quotas=quotas)


AS_OF_MID = datetime.date(2025, 4, 15)  # FY2025-Q4 = 2025-04-01 .. 2025-06-30: 15 of 91 days


def test_mid_quarter_growth_compares_the_same_days_of_last_year(mid_quarter):
    r = build_account_manager_report(mid_quarter, "A1", "FY2025-Q4", _params(), AS_OF_MID)
    q4 = r.quarterly.set_index("period").loc["FY2025-Q4"]
    assert q4["revenue"] == Decimal("12000.00")
    assert q4["revenue_last_year"] == Decimal("10000.00")  # 2024-04-01..2024-04-15, not the whole quarter (100,000)
    assert q4["growth_vs_last_year"] == pytest.approx(0.2)
    assert (q4["days_elapsed"], q4["days_in_period"]) == (15, 91)
    q3 = r.quarterly.set_index("period").loc["FY2025-Q3"]  # a finished quarter: whole quarters
    assert (q3["days_elapsed"], q3["days_in_period"]) == (90, 90)


def test_mid_quarter_attainment_stays_on_full_quota_with_prorated_quota_and_pace(mid_quarter):
    r = build_account_manager_report(mid_quarter, "A1", "FY2025-Q4", _params(), AS_OF_MID)
    s = r.summary
    assert s["attainment"] == pytest.approx(0.12)  # revenue / full-quarter quota
    assert s["quota_to_date"] == Decimal("16483.52")  # 100,000.00 * 15 / 91 = 16,483.5164...
    assert s["pace"] == pytest.approx(12_000_00 / 16_483_52)
    assert s["period_label"] == "FY2025-Q4 to date (15 of 91 days)"
    assert any(n.startswith("FY2025-Q4 to date (15 of 91 days)") and "2024-04-01 to 2024-04-15" in n for n in r.notes)
    rows = dict(summary_table(r).rows)
    assert rows["Period"] == "FY2025-Q4 to date (15 of 91 days)"
    assert rows["Quota to date (prorated)"] == "$16,483.52" and rows["Pace (revenue / quota to date)"] == "72.8%"
    t = build_team_report(mid_quarter, "East", "FY2025-Q4", _params(), AS_OF_MID)
    assert t.summary["period_label"] == "FY2025-Q4 to date (15 of 91 days)"
    assert t.summary["quota_to_date"] == Decimal("19780.22")  # 120,000.00 * 15 / 91 = 19,780.2198
    assert t.summary["pace"] == pytest.approx(15_000_00 / 19_780_22)


def test_full_period_has_no_to_date_rows_and_pace_equals_attainment(tiny_dataset, batch_params):
    r = build_account_manager_report(tiny_dataset, "A1", "FY2025-Q4", batch_params, datetime.date(2025, 6, 30))
    assert r.summary["period_label"] == "FY2025-Q4" and r.summary["quota_to_date"] == r.summary["quota"]
    assert r.summary["pace"] == r.summary["attainment"]
    labels = [label for label, _ in summary_table(r).rows]
    assert "Quota to date (prorated)" not in labels and "Pace (revenue / quota to date)" not in labels
    assert not any("to date (" in n for n in r.notes)


def test_prorated_quota_rounds_exact_half_cents_away_from_zero():
    assert _prorate(3, 1, 2) == 2 and _prorate(1, 1, 2) == 1 and _prorate(5, 1, 4) == 1
    assert _prorate(None, 1, 2) is None and _prorate(100, 0, 91) == 0


# -- 2. no prior-year data: n/a, not $0.00 -----------------------------------------------


def test_revenue_last_year_is_na_without_data_and_zero_when_genuinely_zero(make_dataset, make_quotas):
    only_this_year = make_dataset(
        ams=AMS, deals=[("T1", "A1", "C1", "2025-04-10", 100_00)], quotas=make_quotas("A1", 2025, 1_000_00)
    )
    r = build_account_manager_report(only_this_year, "A1", "FY2025-Q4", _params(), datetime.date(2025, 6, 30))
    assert r.quarterly["revenue_last_year"].isna().all() and r.quarterly["growth_vs_last_year"].isna().all()
    shown = table(r.quarterly, ["period", "revenue_last_year", "growth_vs_last_year"]).rows
    assert all(row[1:] == ("n/a", "n/a") for row in shown)
    assert (
        "Revenue last year is n/a where the data set does not reach back to the start of that quarter "
        "(its first deal closed on 2025-04-10)." in r.notes
    )

    # a deal (of anybody) on FY2024-Q1's first day: the data set covers last year, so an empty quarter is a genuine zero
    def since(first):
        ds = make_dataset(
            ams=AMS,
            deals=[("T1", "A1", "C1", "2025-04-10", 100_00), ("O1", "A2", "C9", first, 5_00)],
            quotas=make_quotas("A1", 2025, 1_000_00),
        )
        return build_account_manager_report(ds, "A1", "FY2025-Q4", _params(), datetime.date(2025, 6, 30))

    r2 = since("2023-07-01")
    assert r2.quarterly["revenue_last_year"].tolist() == [Decimal("0.00")] * 4
    assert "C9" not in r2.quarterly.to_csv()  # only a date boundary of the data set is used
    # a data set beginning a day into FY2024-Q1 does not cover it: n/a there (periods.data_covers), zero after
    assert since("2023-07-02").quarterly["revenue_last_year"].tolist() == [None] + [Decimal("0.00")] * 3


# -- 3. summary: commission rows that mean something ---------------------------------------


def test_summary_shows_commission_cash_and_total_only_when_they_differ(tiny_dataset, batch_params):
    r = build_account_manager_report(tiny_dataset, "A1", "FY2025-Q4", batch_params, datetime.date(2025, 6, 30))
    for key in ("commission_total", "commission", "bonus", "commission_cash", "commission_deferred"):
        assert key in r.summary  # kept for compatibility
    labels = [label for label, _ in summary_table(r).rows]
    assert "Commission on revenue" in labels and "Payable now (cash)" in labels
    assert "Total earned (all awards)" not in labels  # all cash: the same number twice says nothing
    assert "Deferred" not in labels and len(labels) == len(set(labels))


def test_summary_shows_bonus_deferred_and_total_when_the_bonus_is_deferred(make_dataset, make_quotas):
    from reportkit.config.params import QuotaBonus

    ds = make_dataset(ams=AMS, deals=[("T1", "A1", "C1", "2025-04-10", 2_000_00)], quotas=make_quotas("A1", 2025, 1_000_00))
    params = _params(quota_bonus=QuotaBonus(attainment_at_least=1.0, amount=Decimal("500.00"), award="deferred"))
    r = build_account_manager_report(ds, "A1", "FY2025-Q4", params, datetime.date(2025, 6, 30))
    assert r.summary["commission_deferred"] == Decimal("500.00")
    rows = dict(summary_table(r).rows)
    assert rows["Commission on revenue"] == "$100.00" and rows["Quota bonus"] == "$500.00"
    assert rows["Payable now (cash)"] == "$100.00" and rows["Deferred"] == "$500.00"
    assert rows["Total earned (all awards)"] == "$600.00"


# -- 4. total rows come from the report object ---------------------------------------------


def test_total_row_shows_the_given_report_total_not_a_sum():
    r = am_report()
    t = table(r.commission, ["line", "description", "amount"], currency="USD", total={"amount": Decimal("999.99")})
    assert t.footer == ("Total", "", "$999.99")  # shown as given: the renderer adds nothing up
    assert "<tfoot>" in t.to_html() and "$999.99" in t.to_text()
    with pytest.raises(Exception, match="does not show"):
        table(r.commission, ["line"], total={"amount": Decimal("1")})


@pytest.mark.parametrize(
    "kind, cell, frame",
    [("account_manager", "commission-table", "commission"), ("team", "commission-table", "commission_expense")],
)
def test_templates_render_a_total_row_from_the_report_summary(kind, cell, frame):
    src = next(c.source for c in _read(kind).cells if c.get("id") == cell)
    if kind == "account_manager":  # the commission section's helper: its total row is the summary's, as given
        from reportkit.render.notebook import commission_table

        assert src == "commission_table(report)"
        r = am_report(summary={**am_report().summary, "commission_total": Decimal("999.99")})
        assert commission_table(r).footer[-3:] == ("$999.99", "", "")
        return
    assert "total=" in src and "report.summary[" in src and "sum(" not in src


def test_team_commission_total_row_equals_the_report_totals(tiny_dataset, batch_params):
    t = build_team_report(tiny_dataset, "East", "FY2025-Q4", batch_params, datetime.date(2025, 6, 30))
    ce = t.commission_expense
    assert t.summary["commission_expense_commission"] == sum(ce["commission"], Decimal("0.00"))
    assert t.summary["commission_expense_bonus"] == sum(ce["bonus"], Decimal("0.00"))
    assert t.summary["commission_expense"] == sum(ce["total"], Decimal("0.00"))


# -- 5. Yes/No --------------------------------------------------------------------------


def test_missed_is_yes_no_for_every_boolean_kind():
    assert format_cell(np.bool_(True), "missed") == "Yes" and format_cell(False, "missed") == "No"
    frame = pd.DataFrame({"missed": pd.Series([True, False, None], dtype="boolean")})
    assert [r[0] for r in table(frame).rows] == ["Yes", "No", "n/a"]


# -- 6. one title per page ------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["account_manager", "team"])
def test_template_has_no_generic_title_only_the_report_heading(kind):
    nb = _read(kind)
    h1 = [ln for c in nb.cells if c.cell_type == "markdown" for ln in c.source.splitlines() if ln.startswith("# ")]
    assert h1 == []
    first_code = next(c for c in nb.cells if c.cell_type == "code" and "parameters" not in c.metadata.get("tags", []))
    assert first_code.source.rstrip().endswith("heading(report)")
    assert nb.cells[0].cell_type == "code"  # nothing shown before the heading


# -- 7. chart: legend above the bars, currency ticks ---------------------------------------


def test_chart_legend_is_above_the_plot_and_ticks_are_currency():
    fig = charts.quarterly_chart(am_report())
    fig.canvas.draw()
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent()
    assert legend.y0 >= ax.get_window_extent().y1 - 1  # outside the plot area: covers no bar
    ticks = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert "$0" in ticks and not any("USD" in t for t in ticks) and any(t.endswith("k") for t in ticks)
    assert [charts.money_tick(v) for v in (250_000, 1_250_000, -50_000, 0)] == ["$250k", "$1.25M", "-$50k", "$0"]
    assert charts.money_tick(250_000, "CHF") == "CHF 250k"


def _svg_texts(fig) -> list[str]:
    """The words a reader sees in a chart: its SVG's text elements (text kept as text)."""
    import html
    import re

    return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", charts.to_svg(fig))]


def test_a_chart_whose_values_are_all_zero_has_one_zero_tick_and_says_why_it_is_empty():
    zero = Decimal("0.00")
    report = am_report()
    empty = am_report(quarterly=report.quarterly.assign(revenue=[zero] * 4, quota=[zero, zero, None, zero]))
    texts = _svg_texts(charts.quarterly_chart(empty))
    assert texts.count("$0") == 1 and "no revenue and no quota in these periods" in texts
    shown = _svg_texts(charts.quarterly_chart(report))  # a chart with values keeps its scale and says nothing of the kind
    assert {"$0", "$10k", "$12k"} <= set(shown) and not any(t.startswith("no revenue") for t in shown)


# -- 8. account status columns ----------------------------------------------------------------


def test_account_table_shows_rule_pipeline_win_rate_and_share_as_percent(tiny_dataset, batch_params):
    r = build_account_manager_report(tiny_dataset, "A1", "FY2025-Q4", batch_params, datetime.date(2025, 6, 30))
    src = next(c.source for c in _read("account_manager").cells if c.get("id") == "accounts-table")
    for col in ("status_rule", "status_reason", "open_pipeline", "win_rate", "share_of_am_revenue"):
        assert f'"{col}"' in src
    t = table(r.accounts, ["account_id", "share_of_am_revenue", "win_rate", "status_rule"])
    assert t.headers == ("Account ID", "Share of AM revenue (YTD)", "Win rate", "Status rule")
    assert all(row[1].endswith("%") or row[1] == "n/a" for row in t.rows)


# -- 9. params_file: current directory first, then the templates folder -----------------------


def test_params_file_is_found_from_the_cwd_or_the_templates_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tdir = tmp_path / "templates"
    (tdir / "sub").mkdir(parents=True)
    (tdir / "sub" / "p.yaml").write_text("x")
    assert resolve_params_file("sub/p.yaml", tdir) == tdir / "sub" / "p.yaml"  # beside the templates
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "p.yaml").write_text("x")
    assert str(resolve_params_file("sub/p.yaml", tdir)) == "sub/p.yaml"  # the current directory wins
    with pytest.raises(ParamsError) as info:
        resolve_params_file("nope.yaml", tdir)
    assert "current directory" in str(info.value) and "templates folder" in str(info.value)
    assert str(tmp_path / "nope.yaml") in str(info.value) and str(tdir / "nope.yaml") in str(info.value)


def test_template_default_params_file_works_from_the_repo_root(monkeypatch):
    root = TEMPLATES.parent
    monkeypatch.chdir(root)
    r = load_report("", kind="team", report_id="team-north", params_file="../params/demo.yaml")
    assert r.name == "Team North"
    helptext = pm.inspect_notebook(str(TEMPLATES / "team.ipynb"))["params_file"]["help"]
    assert "current directory" in helptext and "templates folder" in helptext


# -- 10. forecast: the chosen, reconciled headline; blended and run rate kept for comparison -------


def test_forecast_is_the_chosen_one_first_with_blended_and_run_rate_rows_for_comparison(tiny_dataset, batch_params):
    r = build_account_manager_report(tiny_dataset, "A1", "FY2025-Q4", batch_params, datetime.date(2025, 5, 15))
    f = r.forecast
    assert f["method"].tolist()[1:] == ["blended", "run_rate"]
    assert f.iloc[0]["basis"].startswith("chosen: ")
    assert r.summary["forecast"] == f.iloc[0]["forecast"] and r.summary["forecast_run_rate"] == f.iloc[2]["forecast"]
    assert r.summary["forecast_method"] == f.iloc[0]["method"]
    assert f.iloc[1]["low"] <= f.iloc[1]["forecast"] <= f.iloc[1]["high"]
    assert f.iloc[2]["low"] is None and f.iloc[2]["high"] is None
    assert (f["remaining_forecast"] == f["forecast"] - f["ytd_revenue"]).all()
    t = build_team_report(tiny_dataset, "East", "FY2025-Q4", batch_params, datetime.date(2025, 5, 15))
    assert t.forecast.iloc[-1]["method"] == "sum" and t.forecast.iloc[-1]["basis"].startswith("sum of the members' forecasts")
    assert all(b.startswith("chosen: ") for b in t.forecast.iloc[:-1]["basis"])
    assert t.forecast.iloc[-1]["run_rate"] == sum(t.forecast.iloc[:-1]["run_rate"], Decimal("0.00"))
    lb = t.leaderboard.set_index("account_manager_id")
    for row in t.forecast.iloc[:-1].itertuples():
        assert lb.loc[row.account_manager_id, "forecast"] == row.forecast


def test_once_the_year_is_over_its_forecast_range_says_so_instead_of_revenue_to_revenue():
    # the demo is dated on FY2025's last day: the year's forecast is its revenue, low = high;
    # "$X to $X" told the reader nothing (next year's forecast carries the range then)
    import reportkit as rk

    params = rk.load_params("params/demo.yaml")
    ds = rk.load_dataset(params.resolve(params.source))
    report = build_account_manager_report(ds, "AM-001", params.period, params, params.as_of)
    s = report.summary
    assert s["forecast_low"] == s["forecast_high"] == s["forecast"]
    shown = dict(summary_table(report).rows)
    assert shown["Forecast range"] == "none: the year is over (its forecast is its revenue)"
    assert " to " in shown["Next year's forecast range"]
