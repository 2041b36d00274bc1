"""Account status: one case per status rule (incl. a service escalation), pipeline, win rate, concentration."""

from __future__ import annotations

import datetime
import math
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from conftest import build_batch_params, build_dataset
from datasets import DATA, SKIP_REASON

from reportkit.core.periods import FiscalCalendar, Period
from reportkit.domain.accounts import ACCOUNT_COLUMNS, STATUS_RULES, AccountStatusRules, account_status, lost_deals
from reportkit.domain.crediting import credited_deals
from reportkit.reports.builders import build_account_manager_report

CAL = FiscalCalendar(first_month=7)
Q4 = Period.parse("FY2025-Q4", CAL)  # 2025-04-01 .. 2025-06-30; last year 2024-04-01 .. 2024-06-30
AS_OF = datetime.date(2025, 6, 30)
# an old order so that "new" does not fire, and a same-period-last-year base of 100.00
BASE = [("C1", "2023-01-01", 1_00), ("C1", "2024-05-01", 100_00)]
# another account's order in FY2025-Q4: the data reaches the period (else no account has a status: data_ends)
REACHED = [("C0", "2025-06-01", 1_00)]


def issues(rows):
    """rows: (account_id, opened, resolved | None, severity)"""
    return pd.DataFrame(
        {
            "account_id": pd.Series([r[0] for r in rows], dtype="str"),
            "opened": pd.to_datetime(pd.Series([r[1] for r in rows])),
            "resolved": pd.to_datetime(pd.Series([r[2] for r in rows], dtype="object")),
            "severity": pd.Series([r[3] for r in rows], dtype="str"),
        }
    )


def status_of(deals, rules=None, service_issues=None, pipeline=None, as_of=AS_OF):
    rows = [(f"D{i}", "A1", d[0], d[1], d[2], *d[3:]) for i, d in enumerate(deals)]
    ds = build_dataset(deals=rows)
    out = account_status(
        credited_deals(ds), "A1", Q4, as_of, ds.accounts, rules, deals=ds.deals, pipeline=pipeline, service_issues=service_issues
    )
    assert list(out.columns) == list(ACCOUNT_COLUMNS)
    return out.set_index("account_id")


CASES = [
    # the data's last deal closed 2025-03-15, before FY2025-Q4 began: its months are the end of the export
    ("data_ends", [("C1", "2023-01-01", 1_00), ("C1", "2025-03-15", 100_00)], None, "n/a", "data_ends"),
    ("lapsed", [("C1", "2024-05-01", 100_00), *REACHED], None, "lapsed", "lapsed"),
    ("escalation", BASE + [("C1", "2025-05-01", 105_00)], [("C1", "2025-06-01", None, "High")], "at risk", "escalation"),
    ("new", [("C1", "2025-03-01", 100_00), *REACHED], None, "new", "new"),
    ("silent", [("C1", "2024-01-01", 100_00), ("C1", "2024-12-01", 100_00), *REACHED], None, "at risk", "silent"),
    # the data begins 2024-06-01, inside last year's quarter: +30 % would rest on two months of it
    ("no_history", [("C1", "2024-06-01", 100_00), ("C1", "2025-05-01", 130_00)], None, "active", "no_history"),
    ("drop", BASE + [("C1", "2025-05-01", 40_00)], None, "at risk", "drop"),
    ("declining", BASE + [("C1", "2025-05-01", 80_00)], None, "declining", "declining"),
    ("growing", BASE + [("C1", "2025-05-01", 130_00)], None, "growing", "growing"),
    (
        "growing_from_zero",
        [("C1", "2023-01-01", 1_00), ("C1", "2024-03-01", 100_00), ("C1", "2025-05-01", 130_00)],
        None,
        "growing",
        "growing_from_zero",
    ),
    ("stable", BASE + [("C1", "2025-05-01", 105_00)], None, "stable", "stable"),
]


def test_every_rule_has_a_case():
    assert [c[0] for c in CASES] == list(STATUS_RULES)


@pytest.mark.parametrize("case, deals, service, status, rule", CASES, ids=[c[0] for c in CASES])
def test_status_rules(case, deals, service, status, rule):
    row = status_of(deals, service_issues=issues(service) if service else None).loc["C1"]
    assert (row["status"], row["status_rule"]) == (status, rule), row["status_reason"]
    assert row["status_reason"]


def test_escalation_needs_an_open_issue_of_an_escalation_severity():
    deals = BASE + [("C1", "2025-05-01", 105_00)]
    resolved = issues([("C1", "2025-05-01", "2025-06-15", "critical")])
    low = issues([("C1", "2025-05-01", None, "low")])
    later = issues([("C1", "2025-07-02", None, "critical")])  # opened after as_of
    reopened_after = issues([("C1", "2025-05-01", "2025-07-15", "critical")])  # still open at as_of
    assert status_of(deals, service_issues=resolved).loc["C1", "status"] == "stable"
    out = status_of(deals, service_issues=low).loc["C1"]
    assert (out["status"], out["open_issues"], out["open_escalations"]) == ("stable", 1, 0)
    assert status_of(deals, service_issues=later).loc["C1", "status"] == "stable"
    assert status_of(deals, service_issues=reopened_after).loc["C1", "status"] == "at risk"
    # the severity list is configurable
    rules = AccountStatusRules(escalation_severities=("low",))
    assert status_of(deals, rules=rules, service_issues=low).loc["C1", "status_rule"] == "escalation"


def test_an_escalation_on_a_new_account_makes_it_at_risk_but_lapsed_stays_lapsed():
    svc = issues([("C1", "2025-06-01", None, "critical")])
    assert status_of([("C1", "2025-03-01", 100_00), *REACHED], service_issues=svc).loc["C1", "status"] == "at risk"
    out = status_of([("C1", "2024-05-01", 100_00), *REACHED], service_issues=svc).loc["C1"]
    assert (out["status"], out["open_escalations"]) == ("lapsed", 1)


def test_service_issues_need_their_columns():
    with pytest.raises(ValueError, match="severity"):
        status_of(
            BASE,
            service_issues=pd.DataFrame({"account_id": ["C1"], "opened": [pd.Timestamp("2025-01-01")], "resolved": [pd.NaT]}),
        )


def test_pipeline_won_lost_win_rate_and_share():
    deals = [
        ("C1", "2024-05-01", 100_00),  # more than 365 days before as_of: outside the win-rate window
        ("C1", "2025-05-01", 300_00),
        ("C1", "2025-06-01", 100_00),
        ("C1", "2025-06-02", 0, "lost"),
        ("C2", "2025-04-01", 100_00),
        ("C2", "2025-04-02", 0, "lost"),
        ("C2", "2025-04-03", 0, "lost"),
        ("C2", "2025-04-04", 0, "lost"),
    ]
    pipe = pd.DataFrame(
        {
            "opportunity_id": ["O1", "O2", "O3"],
            "account_manager_id": ["A1", "A1", "A2"],
            "account_id": ["C1", "C1", "C1"],
            "stage": ["x", "y", "x"],
            "probability": [0.5, 0.2, 0.9],
            "expected_close_date": pd.to_datetime([None, None, None]),
            "amount_cents": [10_00, 20_00, 999_00],
        }
    )
    out = status_of(deals, pipeline=pipe)
    c1, c2 = out.loc["C1"], out.loc["C2"]
    assert c1["open_pipeline"] == Decimal("30.00") and c1["open_opportunities"] == 2  # another AM's opportunity is not counted
    assert c2["open_pipeline"] == Decimal("0.00") and c2["open_opportunities"] == 0
    assert (c1["won_count"], c1["lost_count"], c1["win_rate"]) == (2, 1, pytest.approx(2 / 3))
    assert (c2["won_count"], c2["lost_count"], c2["win_rate"]) == (1, 3, pytest.approx(0.25))
    # FY2025 YTD: C1 400.00, C2 100.00
    assert c1["share_of_am_revenue"] == pytest.approx(0.8) and c2["share_of_am_revenue"] == pytest.approx(0.2)


def test_account_status_on_the_lost_deals_alone_equals_it_on_every_deal():
    # a batch hands every account manager the lost deals found once (ReportContext): the same table
    rows = [
        ("D0", "A1", "C1", "2024-05-01", 100_00),
        ("D1", "A1", "C1", "2025-05-01", 300_00),
        ("D2", "A1", "C1", "2025-06-02", 0, "lost"),
        ("D3", "A1", "C2", "2025-04-01", 100_00),
        ("D4", "A1", "C2", "2025-04-02", 0, "lost"),
        ("D5", "A2", "C2", "2025-04-03", 0, "lost"),
        ("D6", "A1", "C2", "2023-04-04", 0, "lost"),  # outside the win-rate window
    ]
    ds = build_dataset(deals=rows)
    ds.deals["stage"] = ds.deals["stage"].astype("object").where(ds.deals["stage"] != "lost", " Lost ")
    lost = lost_deals(ds.deals)
    assert len(lost) == 4
    start = datetime.date(2023, 4, 4)
    args = (credited_deals(ds), "A1", Q4, AS_OF, ds.accounts)
    every = account_status(*args, deals=ds.deals, history_start=start)
    alone = account_status(*args, deals=lost, history_start=start)
    pd.testing.assert_frame_equal(alone, every)
    assert every.set_index("account_id")["lost_count"].to_dict() == {"C1": 1, "C2": 1}


def test_mid_period_status_compares_the_same_days_of_last_year_as_the_quarterly_table():
    # as of 2025-04-15, 15 days into FY2025-Q4: 2024-04-01..04-15 had 100.00, the rest of FY2024-Q4 900.00
    deals = [("C1", "2023-01-01", 1_00), ("C1", "2024-04-10", 100_00), ("C1", "2024-06-10", 900_00), ("C1", "2025-04-10", 130_00)]
    mid = datetime.date(2025, 4, 15)
    row = status_of(deals, as_of=mid).loc["C1"]
    assert row["revenue_same_period_last_year"] == Decimal("100.00")
    assert (row["status"], row["status_rule"]) == ("growing", "growing"), row["status_reason"]  # not 'at risk' at -87 %
    ds = build_dataset(deals=[(f"D{i}", "A1", *d) for i, d in enumerate(deals)])
    r = build_account_manager_report(ds, "A1", "FY2025-Q4", build_batch_params(), mid)
    assert r.quarterly.set_index("period").loc["FY2025-Q4", "revenue_last_year"] == row["revenue_same_period_last_year"]


def test_without_pipeline_or_deals_the_extra_figures_are_empty():
    ds = build_dataset(deals=[("D1", "A1", "C1", "2025-05-01", 100_00)])
    row = account_status(credited_deals(ds), "A1", Q4, AS_OF).iloc[0]
    assert row["open_pipeline"] is None and row["open_opportunities"] == 0
    assert row["won_count"] == 1 and row["lost_count"] == 0 and math.isnan(row["win_rate"])
    assert row["open_issues"] == 0 and row["open_escalations"] == 0


# -- real data: Maven CRM holds 2017 only (first close date 2017-03-01) -----------------------------

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.realdata
@pytest.mark.skipif(not DATA.is_dir(), reason=SKIP_REASON)
def test_no_maven_account_is_compared_with_fy2016_which_the_data_does_not_hold():
    import reportkit as rk
    from reportkit.reports.builders import active_account_managers

    params, ds = rk.load(ROOT / "params" / "maven_crm.yaml")
    period = Period.parse(params.period, ds.calendar)
    frames = [
        rk.account_status(ds, am, params.period, params.as_of, params=params)
        for am in active_account_managers(ds, period)["account_manager_id"]
    ]
    out = pd.concat(frames, ignore_index=True)
    assert len(out) > 100
    comparisons = {"drop", "declining", "growing", "growing_from_zero"}
    assert not set(out["status_rule"]) & comparisons, out["status_rule"].value_counts()
    assert "growing" not in set(out["status"]) and "declining" not in set(out["status"])
    assert out["revenue_same_period_last_year"].isna().all() and out["trend"].isna().all()
    active = out.loc[out["status_rule"] == "no_history", "status_reason"]
    assert len(active) and active.str.endswith("no comparison with FY2016-Q4: the data begins on 2017-03-01").all()


def test_a_batch_hands_account_status_each_managers_own_credits_and_lost_deals_the_same_table():
    # ReportContext groups the credits and the lost deals by account manager once per batch and hands
    # account status only that manager's rows: the same table as from every credit and every deal,
    # also where a territory overlay credits one deal to two managers
    from reportkit.domain.accounts import AccountStatusRules
    from reportkit.reports.context import report_context

    rows = [
        ("D0", "A1", "C1", "2024-05-01", 100_00, "won", "North"),
        ("D1", "A1", "C1", "2025-05-01", 300_00, "won", "North"),
        ("D2", "A1", "C1", "2025-06-02", 0, "lost", "North"),
        ("D3", "A2", "C2", "2025-04-01", 100_00, "won", "South"),
        ("D4", "A2", "C2", "2025-04-02", 0, " Lost ", "South"),
        ("D5", "A1", "C3", "2025-04-03", 50_00, "won", None),
        ("D6", "A2", "C1", "2025-05-04", 70_00, "won", "North"),
    ]
    ams = [("A1", "Alice", "East", None, None), ("A2", "Bob", "East", None, None)]
    territories = [("A1", "North"), ("A2", "North"), ("A2", "South")]
    ds = build_dataset(ams=ams, deals=rows, territories=territories, crediting="territory")
    ctx = report_context(ds, build_batch_params(), "FY2025-Q4", AS_OF)
    assert ctx.credited["deal_id"].duplicated().any()  # the overlay: a deal credits both managers
    for am in ("A1", "A2", "A3"):
        mask = (ctx.credited["account_manager_id"] == am).to_numpy()
        pd.testing.assert_frame_equal(ctx.credits_of(am), ctx.credited.loc[mask])
        every = account_status(
            ctx.credited,
            am,
            Q4,
            AS_OF,
            ds.accounts,
            AccountStatusRules(),
            deals=ds.deals,
            history_start=ctx.first_deal,
            history_end=ctx.last_deal,
        )
        pd.testing.assert_frame_equal(ctx.account_status(ds, am), every)
    assert ctx.account_status(ds, "A2").set_index("account_id")["lost_count"].to_dict() == {"C1": 0, "C2": 1}


def test_a_table_computed_for_the_company_before_the_managers_report_is_computed_once_and_kept_a_bounded_while(monkeypatch):
    # the company report reads the accounts at risk and statement totals of the account managers whose
    # reports the batch builds after it: their tables are kept for their own report, not computed again
    from reportkit.reports import context, statements

    rows = [("D1", "A1", "C1", "2025-05-01", 300_00), ("D2", "A2", "C2", "2025-05-02", 100_00)]
    ams = [("A1", "Alice", "East", None, None), ("A2", "Bob", "East", None, None)]
    ds = build_dataset(ams=ams, deals=rows, quotas=[("A1", "2025-04-01", "2025-06-30", 100_00)])
    params = build_batch_params()
    ctx = context.report_context(ds, params, "FY2025-Q4", AS_OF)
    made = {"status": 0, "statement": 0}

    def counted(name, fn):
        def call(*a, **k):
            made[name] += 1
            return fn(*a, **k)

        return call

    monkeypatch.setattr(context, "account_status", counted("status", context.account_status))
    monkeypatch.setattr(statements, "_own_statement", counted("statement", statements._own_statement))
    ctx.accounts_at_risk(ds, "A1")
    totals = statements.statement_totals(ds, params, ctx, "A1")
    ctx.account_status(ds, "A2")  # another manager's report in between
    table = ctx.account_status(ds, "A1")
    stmt = statements.commission_statement(ds, params, ctx, "A1")
    assert made == {"status": 2, "statement": 1}
    assert stmt.totals() == totals and stmt.total == statements.commission_for(ds, params, "A1", "FY2025-Q4", AS_OF).total
    fresh = context.report_context(ds, params, "FY2025-Q4", AS_OF)  # outside a batch: a new context
    pd.testing.assert_frame_equal(table, fresh.account_status(ds, "A1"))
    for i in range(context.AHEAD + 1):
        ctx.keep_ahead("statement", f"X{i}", i)
    assert ctx.take_ahead("statement", "X0") is None and ctx.take_ahead("statement", f"X{context.AHEAD}") == context.AHEAD


def test_a_table_kept_ahead_is_handed_over_as_its_own_copy_no_edit_of_either_side_reaches_the_other():
    # the company report keeps an account manager's table (and statement) for their own report; whenever the
    # company's object is pickled, what either report does to its copy never reaches the other's
    from reportkit.reports import context, statements

    rows = [("D1", "A1", "C1", "2025-05-01", 300_00), ("D2", "A1", "C2", "2025-05-02", 100_00)]
    ds = build_dataset(ams=[("A1", "Alice", "East", None, None)], deals=rows, quotas=[("A1", "2025-04-01", "2025-06-30", 100_00)])
    params = build_batch_params()
    ctx = context.report_context(ds, params, "FY2025-Q4", AS_OF)
    fresh = context.report_context(ds, params, "FY2025-Q4", AS_OF)
    kept = fresh.account_status(ds, "A1")
    ctx.keep_ahead("account_status", "A1", kept)
    taken = ctx.take_ahead("account_status", "A1")
    kept.loc[:, "account_name"] = "edited by the company's side"
    pd.testing.assert_frame_equal(taken, fresh.account_status(ds, "A1"))
    taken.loc[:, "status"] = "edited by the manager's side"
    assert (kept["status"] != "edited by the manager's side").all()

    stmt = statements.commission_for(ds, params, "A1", "FY2025-Q4", AS_OF)
    before = stmt.lines.copy(deep=True)
    ctx.keep_ahead("statement", "A1", stmt)
    handed = ctx.take_ahead("statement", "A1")
    assert handed.totals() == stmt.totals() and handed.lines is not stmt.lines and len(handed.lines)
    pd.testing.assert_frame_equal(handed.lines, before)
    handed.lines.loc[:, "description"] = "edited by the manager's side"
    pd.testing.assert_frame_equal(stmt.lines, before)
    stmt.lines.loc[:, "amount"] = Decimal("999.99")
    assert (handed.lines["amount"] != Decimal("999.99")).all()
