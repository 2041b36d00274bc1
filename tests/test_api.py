"""The public API: complete ``__all__``, documented, cheap to import, and its figures
equal the report objects' figures for the same inputs."""

from __future__ import annotations

import datetime
import inspect
import math
import subprocess
import sys
import types
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

import reportkit
from reportkit.analysis import api
from reportkit.core.errors import ParamsError, PeriodError, ReportkitError
from reportkit.domain.backtest import forecast_hierarchy

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "params" / "demo.yaml"
AS_OF = datetime.date(2025, 12, 31)


@pytest.fixture(scope="module")
def demo():
    return reportkit.load(DEMO)


def test_all_names_resolve_and_none_is_a_module():
    import reportkit.domain.forecast

    for name in reportkit.__all__:
        obj = getattr(reportkit, name)
        assert not isinstance(obj, types.ModuleType), name


def test_all_lists_every_api_function_and_error_class():
    import reportkit.core.errors as errors

    public_errors = {n for n in errors.__all__ if isinstance(getattr(errors, n), type)}
    assert public_errors <= set(reportkit.__all__)
    assert set(api.__all__) <= set(reportkit.__all__)
    assert len(reportkit.__all__) == len(set(reportkit.__all__))
    assert set(reportkit.__all__) <= set(dir(reportkit))


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        reportkit.nope  # noqa: B018


@pytest.mark.parametrize("name", [n for n in reportkit.__all__ if callable(getattr(reportkit, n))])
def test_every_public_name_has_a_docstring(name):
    obj = getattr(reportkit, name)
    assert inspect.getdoc(obj), f"{name} has no docstring"


@pytest.mark.parametrize("name", api.__all__ + ["what_if"])
def test_api_functions_document_returns_raises_and_example(name):
    doc = inspect.getdoc(getattr(reportkit, name))
    for section in ("Parameters", "Returns", "Raises", "Examples"):
        assert section in doc, f"{name}: no {section} section"


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)


def test_import_is_cheap_and_silent():
    r = _run("import sys, reportkit; assert 'pandas' not in sys.modules, 'pandas imported'; print(len(reportkit.__all__))")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""


def test_the_batch_command_leaves_the_workbook_writer_to_the_reports_that_write_workbooks():
    # the reportkit command's own imports (cli.py's batch command): a batch writes workbooks in its report
    # workers, and company.xlsx / a diff workbook import the writer when they are written (docs/batch.md)
    r = _run(
        "import sys; from reportkit.config.params import parse_overrides; from reportkit.run.batch import run_batch; "
        "print(sorted(m for m in ('xlsxwriter', 'reportkit.render.excel') if m in sys.modules))"
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_importing_the_api_and_explorer_emits_no_warnings():
    r = _run("import reportkit.analysis.api, reportkit.analysis.explorer; from reportkit import attainment_table, Explorer")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""


# -- figures agree with the report objects ------------------------------------------------


@pytest.mark.parametrize("am", ["AM-001", "AM-006", "0731"])
def test_account_manager_figures_equal_the_report(demo, am):
    params, ds = demo
    r = reportkit.build_account_manager_report(ds, am, params.period, params, AS_OF)

    row = reportkit.attainment_table(ds, params.period, params, as_of=AS_OF, account_manager_ids=am).iloc[0]
    assert row["revenue"] == r.summary["revenue"]
    assert row["quota"] == r.summary["quota"]
    assert row["attainment"] == pytest.approx(r.summary["attainment"], rel=0, abs=0) or (
        r.summary["attainment"] is None and math.isnan(row["attainment"])
    )

    s = reportkit.commission_statement(ds, am, params.period, params, as_of=AS_OF)
    assert s.total == r.summary["commission_total"]
    assert isinstance(s.total, Decimal) and s.total == s.total.quantize(Decimal("0.01"))
    pd.testing.assert_frame_equal(s.lines, r.commission)

    acc = reportkit.account_status(ds, am, params.period, AS_OF, params)
    pd.testing.assert_frame_equal(acc.reset_index(drop=True), r.accounts.reset_index(drop=True))

    w = reportkit.performance_watch(ds, params.period, params, as_of=AS_OF)
    mine = w.loc[w["account_manager_id"] == am].iloc[0]
    assert (mine["status"], int(mine["consecutive_misses"])) == (r.summary["performance_status"], r.summary["consecutive_misses"])

    f = reportkit.forecast_table(ds, params.period, params=params, as_of=AS_OF, method="run_rate")
    fr = f.loc[f["entity"] == am].iloc[0]
    assert fr["ytd_revenue"] == r.summary["ytd_revenue"]
    assert fr["annual_quota"] == r.summary["annual_quota"]

    # the report's headline is forecast_hierarchy's row (the chosen, reconciled forecast); its
    # comparison rows are the blended method of forecast_table and the run_rate column
    h = forecast_hierarchy(ds, 2025, AS_OF).set_index(["level", "entity"]).loc[("account_manager", am)]
    assert (r.summary["forecast"], r.summary["forecast_low"], r.summary["forecast_high"]) == (h["forecast"], h["low"], h["high"])
    b = reportkit.forecast_table(ds, params.period, params=params, as_of=AS_OF).set_index("entity").loc[am]
    bl, rr = r.forecast.iloc[1], r.forecast.iloc[2]
    assert (bl["method"], rr["method"]) == ("blended", "run_rate")
    for col in ("forecast", "low", "high", "annual_quota", "ytd_revenue"):
        assert bl[col] == b[col], col
    assert bl["basis"] == b["basis"]
    assert rr["forecast"] == b["run_rate"] == fr["forecast"] == r.summary["forecast_run_rate"]


def test_team_figures_equal_the_team_report(demo):
    params, ds = demo
    t = reportkit.build_team_report(ds, "Team North", params.period, params, AS_OF)
    a = reportkit.attainment_table(ds, params.period, params, as_of=AS_OF, team="Team North")
    lb = t.leaderboard.set_index("account_manager_id").loc[a["account_manager_id"]]
    assert list(a["revenue"]) == list(lb["revenue"])
    assert list(a["quota"]) == list(lb["quota"])
    assert a["attainment"].tolist() == pytest.approx(lb["attainment"].tolist(), nan_ok=True)
    total = sum(reportkit.commission_statement(ds, m, params.period, params, as_of=AS_OF).total for m in a["account_manager_id"])
    assert total == t.summary["commission_expense"]
    w = reportkit.performance_watch(ds, params.period, params, as_of=AS_OF, team="Team North")
    on_watch = w.loc[w["status"].isin(["performance watch", "termination review"]), "account_manager_id"].tolist()
    assert on_watch == t.performance_watch["account_manager_id"].tolist()
    ft = reportkit.forecast_table(ds, params.period, "team", params, as_of=AS_OF)
    assert ft.loc[ft["entity"] == "Team North", "ytd_revenue"].iloc[0] == t.summary["ytd_revenue"]


def test_attainment_table_columns_and_units(demo):
    params, ds = demo
    t = reportkit.attainment_table(ds, params.period, params, as_of=AS_OF)
    assert list(t.columns) == ["account_manager_id", "name", "team", "period", "revenue", "quota", "attainment"]
    assert t["attainment"].dtype == "float64"
    assert all(isinstance(v, Decimal) for v in t["revenue"])
    assert t["account_manager_id"].tolist().count("0731") == 1  # text id keeps its leading zero


def test_zero_quota_attainment_is_nan_not_zero(make_dataset):
    ds = make_dataset(
        ams=[("A1", "Alice", "East", None, None)],
        deals=[("D1", "A1", "C1", "2025-05-01", 100_00)],
        quotas=[("A1", "2025-04-01", "2025-06-30", 0)],
    )
    t = reportkit.attainment_table(ds, "FY2025-Q4")
    assert t.loc[0, "revenue"] == Decimal("100.00")
    assert math.isnan(t.loc[0, "attainment"])


def test_as_of_cuts_deals_after_it(make_dataset):
    ds = make_dataset(
        deals=[("D1", "A1", "C1", "2025-04-10", 100_00), ("D2", "A1", "C1", "2025-06-10", 50_00)],
        quotas=[("A1", "2025-04-01", "2025-06-30", 300_00)],
    )
    assert reportkit.attainment_table(ds, "FY2025-Q4", as_of="2025-05-01").loc[0, "revenue"] == Decimal("100.00")
    assert reportkit.attainment_table(ds, "FY2025-Q4").loc[0, "revenue"] == Decimal("150.00")


def test_errors_are_reportkit_errors(demo):
    params, ds = demo
    with pytest.raises(PeriodError):
        reportkit.attainment_table(ds, "2025Q4", params)
    with pytest.raises(ParamsError, match="did you mean"):
        reportkit.commission_statement(ds, "AM-01", params.period, params)
    with pytest.raises(ParamsError, match="not an ISO date"):
        reportkit.attainment_table(ds, params.period, params, as_of="31/12/2025")
    with pytest.raises(ParamsError, match="Team Nort"):
        reportkit.attainment_table(ds, params.period, params, team="Team Nort")
    with pytest.raises(ReportkitError):
        reportkit.load_params(ROOT / "params" / "missing.yaml")
    assert issubclass(reportkit.ParamsError, reportkit.ReportkitError)


def test_win_rates_and_sales_cycle(make_dataset):
    ds = make_dataset(
        deals=[
            ("D1", "A1", "C1", "2025-04-10", 100_00, "won"),
            ("D2", "A1", "C1", "2025-04-20", 0, "lost"),
            ("D3", "A1", "C2", "2025-05-10", 300_00, "won"),
        ]
    )
    w = reportkit.win_rates(ds, "account_id").set_index("account_id")
    assert w.loc["C1", "win_rate"] == 0.5 and w.loc["C2", "win_rate"] == 1.0
    assert w.loc["C1", "won_revenue"] == Decimal("100.00")
    with pytest.raises(ParamsError, match="not a deals column"):
        reportkit.win_rates(ds, "colour")
    engaged = pd.Series(["2025-04-01", "2025-04-10", "2025-04-30"], index=["D1", "D2", "D3"])
    c = reportkit.sales_cycle(ds, engaged, by="stage").set_index("stage")
    assert c.loc["won", "median_days"] == 9.5 and c.loc["lost", "deals"] == 1


def test_commission_statement_follows_the_plan_engine_when_params_name_a_plan(tmp_path):
    """An analyst's statement equals the report's on a params file with ``plan:``."""
    import yaml

    import reportkit as rk
    from reportkit.reports.builders import build_account_manager_report

    root = Path(__file__).resolve().parents[1]
    raw = yaml.safe_load((root / "params" / "demo.yaml").read_text())
    raw["source"] = str((root / "params" / raw["source"]).resolve())
    raw["branding"]["logo"] = str((root / "params" / raw["branding"]["logo"]).resolve())
    raw["plan"] = str((root / "params" / "plans" / "standard.yaml").resolve())
    p = tmp_path / "plan.yaml"
    p.write_text(yaml.safe_dump(raw))
    params, ds = rk.load(p)
    st = rk.commission_statement(ds, "AM-001", params.period, params)
    rep = build_account_manager_report(ds, "AM-001", params.period, params, params.as_of)
    assert any(str(r).startswith("commission, tier ") for r in rep.commission["rule"])  # the engine's lines, not the flat rate
    assert st.total == rep.summary["commission_total"]
    assert list(st.lines["amount"]) == list(rep.commission["amount"])


# -- no stale figures: an analyst's in-place edit shows in the next call ---------------------------


def test_an_in_place_edit_of_the_deals_shows_in_the_next_call(tiny_dataset, batch_params):
    ds, p, period = tiny_dataset, batch_params, "FY2025-Q4"

    def figures():
        att = reportkit.attainment_table(ds, period, p, as_of=p.as_of).set_index("account_manager_id")
        report = reportkit.build_account_manager_report(ds, "A1", period, p, p.as_of)
        team = reportkit.build_team_report(ds, "East", period, p, p.as_of).leaderboard.set_index("account_manager_id")
        statement = reportkit.commission_statement(ds, "A1", period, p, as_of=p.as_of)
        return att.loc["A1", "revenue"], report.summary["revenue"], team.loc["A1", "revenue"], statement.revenue

    before = figures()
    assert len(set(before)) == 1  # every path shows the same revenue
    deal = (ds.deals["deal_id"] == "D05").to_numpy()  # A1's deal closed in FY2025-Q4
    added = Decimal(int(ds.deals.loc[deal, "amount_cents"].iloc[0])) / 100
    ds.deals.loc[deal, "amount_cents"] *= 2  # the analyst doubles it in place
    assert figures() == tuple(b + added for b in before)


def test_reports_share_their_computation_only_inside_a_shared_contexts_block(tiny_dataset, batch_params):
    from reportkit.reports import builders as reports

    def context():
        return reports._context(tiny_dataset, batch_params, "FY2025-Q4", batch_params.as_of)

    assert context() is not context()  # outside a block nothing is kept
    with reports.shared_contexts():
        first = context()
        with reports.shared_contexts():  # nested (a batch calling a helper that opens one too)
            assert context() is first
        assert context() is first
    assert context() is not first and reports._shared is None  # dropped with the outermost block


def test_editing_amount_cents_as_the_readme_analyst_does_moves_revenue_attainment_and_commission_together():
    """README, "For analysts": ``amount_cents`` is the documented amount; the hidden exact
    ``amount_micros`` that no longer rounds to it must not keep the old revenue alive."""
    params, ds = reportkit.load(DEMO)
    deal = ds.deals["deal_id"] == "D-01339"
    before = reportkit.attainment_table(ds, "FY2025-Q4", params=params).set_index("account_manager_id").loc["AM-001"]
    old_amount = Decimal(int(ds.deals.loc[deal, "amount_cents"].iloc[0])).scaleb(-2)
    assert old_amount > 0
    ds.deals.loc[deal, "amount_cents"] = 0

    after = reportkit.attainment_table(ds, "FY2025-Q4", params=params).set_index("account_manager_id").loc["AM-001"]
    report = reportkit.build_account_manager_report(ds, "AM-001", "FY2025-Q4", params, as_of=AS_OF)
    st = reportkit.commission_statement(ds, "AM-001", "FY2025-Q4", params)
    new_revenue = before["revenue"] - old_amount
    assert after["revenue"] == report.summary["revenue"] == st.revenue == new_revenue
    assert after["attainment"] == pytest.approx(float(new_revenue / after["quota"]))
    assert report.deals.set_index("deal_id").loc["D-01339", "amount"] == Decimal("0.00")
    deal_line = st.lines.loc[st.lines["deal_id"] == "D-01339"].iloc[0]
    assert deal_line["basis"] == deal_line["amount"] == Decimal("0.00")
