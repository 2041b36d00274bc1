"""One number: the plan engine credits and measures what the account manager's report shows.

Issue #12, part 2: the report credited a deal with a blank or uncovered territory
to its owner while the engine dropped it, and the engine put a quarterly quota
row into the first month of a monthly plan. Here every account manager's
credited revenue and quota for the report period, as the engine computes them
from the data set (its own crediting and quota split, no report objects as
input), must equal what the AccountManagerReport shows: on the demo, the three
public data sets and small crafted cases.
"""

from __future__ import annotations

import dataclasses
import datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from batch_contexts import batch_contexts
from datasets import DATA, SKIP_REASON

from reportkit.config.params import BatchParams
from reportkit.config.plans import Plan, load_plan, load_plan_source
from reportkit.core.errors import PlanError
from reportkit.core.money import cents_to_money, micros_to_cents
from reportkit.core.periods import Period
from reportkit.domain import crediting, engine
from reportkit.domain.loading import load_inputs
from reportkit.reports import builders as reports

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "params"
ZERO = Decimal("0.00")

realdata = [
    pytest.mark.realdata,
    pytest.mark.slow,
    pytest.mark.skipif(not DATA.is_dir(), reason=SKIP_REASON),
]


def measuring_plan(currency: str, pay_period: str) -> Plan:
    """A plan that only credits and measures: quotas from the table as they are, no rate."""
    return Plan.model_validate(
        {
            "name": "measure",
            "currency": currency,
            "period": pay_period,
            "quota": {"source": "table", "proration": "none"},
            "rates": {"method": "flat", "basis": "amount", "tiers": [{"from": 0, "rate": "0"}]},
        }
    )


def engine_figures(ds, params: BatchParams, plans, assignments=None) -> dict[str, tuple[Decimal, Decimal]]:
    """Credited revenue and quota per AM for the report period, from ``engine.compute`` on the data set.

    The engine sees the deals up to the report's cutoff and the quota table the
    report uses (the source's, or the params' quota rule); the pay periods that
    make up the report period are summed.
    """
    period = Period.parse(params.period, ds.calendar)
    cutoff = min(params.as_of, period.end)
    quotas, _ = reports.effective_quotas(ds, params, list(range(period.fiscal_year - 2, period.fiscal_year + 1)))
    keep = (ds.deals["close_date"] <= np.datetime64(cutoff, "ns")).to_numpy()
    run = dataclasses.replace(ds, deals=ds.deals.loc[keep].reset_index(drop=True), quotas=quotas)
    res = engine.compute(run, plans, period.label, assignments=assignments, source_mapping=params.source)
    s = res.summary
    inside = {p.label for p in res.periods if period.start <= p.start and p.end <= period.end}
    s = s.loc[s["period"].isin(inside).to_numpy()].groupby("account_manager_id")[["credit_cents", "quota_cents"]].sum()
    if len(inside) > 1:
        # several pay periods (monthly pay, quarterly report): each period's credited revenue is
        # rounded once on its own, so the report period's figure is the exact sum of the
        # engine's credit lines in it, rounded once (money.micros_to_cents), as the report does
        c = res.credits
        c = c.loc[
            ((c["close_date"] >= np.datetime64(period.start, "ns")) & (c["close_date"] <= np.datetime64(cutoff, "ns"))).to_numpy()
        ]
        exact = c.groupby("account_manager_id")["credit_micros"].sum()
        s["credit_cents"] = [micros_to_cents(int(exact.get(a, 0))) for a in s.index]
    return {a: (cents_to_money(int(r.credit_cents)), cents_to_money(int(r.quota_cents))) for a, r in s.iterrows()}


def report_figures(ds, params: BatchParams, ids) -> dict[str, tuple[Decimal, Decimal]]:
    """Revenue and quota (no quota shown as 0.00) that each AM's report shows for the period."""
    out = {}
    with batch_contexts(params):  # one context for every report, as the batch has: the forecast is computed once, not per AM
        for a in ids:
            r = reports.build_account_manager_report(ds, a, params.period, params, params.as_of)
            out[a] = (r.summary["revenue"], r.summary["quota"] or ZERO)
    return out


def assert_engine_runs_match_reports(ds, params: BatchParams, runs) -> None:
    """Each engine run ``(plans, assignments)`` in ``runs`` credits and measures what every report shows.

    The reports do not depend on the plan the engine is given, so they are built once
    and compared with every run (on AdventureWorks that is a third of the test's time).
    """
    period = Period.parse(params.period, ds.calendar)
    ids = reports.active_account_managers(ds, period)["account_manager_id"].astype(str).tolist()
    assert ids
    shown = report_figures(ds, params, ids)
    for plans, assignments in runs:
        got = engine_figures(ds, params, plans, assignments)
        diff = {a: (shown[a], got.get(a)) for a in ids if got.get(a, (ZERO, ZERO)) != shown[a]}
        plan = f"plan {plans.name!r} paid by {plans.period}" if isinstance(plans, Plan) else f"plans {sorted(plans)}"
        assert not diff, f"{plan}: (report, engine) revenue and quota differ for {len(diff)} of {len(ids)}: {diff}"


def assert_engine_matches_reports(ds, params: BatchParams, plans, assignments=None) -> None:
    assert_engine_runs_match_reports(ds, params, [(plans, assignments)])


# ---------------------------------------------------------------------------
# the demo and the public data sets
# ---------------------------------------------------------------------------
def _params(name: str):
    params, ds = load_inputs(PARAMS / f"{name}.yaml")
    if params.plan is None:
        return params, ds, None, None
    plans, who = load_plan_source(
        params.resolve(params.plan.path), None if params.plan.assignments is None else params.resolve(params.plan.assignments)
    )
    return params, ds, plans, who


def test_demo_engine_credits_and_quota_equal_every_report():
    params, ds, _, _ = _params("demo")
    # monthly pay periods sum to the report's quarter quota
    assert_engine_runs_match_reports(ds, params, [(measuring_plan(ds.currency, pay), None) for pay in ("quarter", "month")])


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("maven_crm", marks=realdata),
        pytest.param("superstore", marks=realdata),
        pytest.param("adventureworks", marks=realdata),
    ],
)
def test_real_data_engine_credits_and_quota_equal_every_report(name):
    params, ds, plans, who = _params(name)
    runs = [(measuring_plan(ds.currency, pay), None) for pay in ("quarter", "month")]
    if plans is not None:  # AdventureWorks: its own territory plan pays on the report's revenue
        runs.append((plans, who))
    assert_engine_runs_match_reports(ds, params, runs)


# ---------------------------------------------------------------------------
# crafted cases (fiscal year = calendar year; FY2025-Q2 is April..June 2025)
# ---------------------------------------------------------------------------
AM = [("A1", "Alice", "East", None, None), ("A2", "Bob", "East", None, None)]
TERRITORIES = [("A1", "North"), ("A2", "South")]
QUOTA_Q2 = [("A1", "2025-04-01", "2025-06-30", 100_000_00), ("A2", "2025-04-01", "2025-06-30", 100_000_00)]


def write_plan(tmp_path: Path, **changes) -> Path:
    """A 10 % flat plan on credited revenue, quarterly, quotas from the table unprorated."""
    raw = {
        "name": "Ten percent",
        "currency": "USD",
        "period": "quarter",
        "quota": {"source": "table", "proration": "none"},
        "rates": {"method": "flat", "basis": "amount", "tiers": [{"from": 0, "rate": "0.10"}]},
    }
    raw.update(changes)
    path = tmp_path / "ten_percent.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def crafted_params(plan: Path | None = None, period: str = "FY2025-Q2") -> BatchParams:
    raw = {
        "source": "sources/crafted.yaml",
        "period": period,
        "as_of": datetime.date(2025, 6, 30),
        "commission": {"rate": "0.10"},
    }
    if plan is not None:
        raw["plan"] = str(plan)
    return BatchParams.model_validate(raw)


def report(ds, params, am="A1"):
    return reports.build_account_manager_report(ds, am, params.period, params, params.as_of)


def test_uncovered_territory_credits_the_owner_in_report_and_engine_and_the_statement_says_so(make_dataset, tmp_path):
    # the issue's case: 100,000 in A1's territory plus 70,000 in a territory nobody covers
    ds = make_dataset(
        ams=AM,
        territories=TERRITORIES,
        crediting="territory",
        first_month=1,
        quotas=QUOTA_Q2,
        deals=[
            ("D1", "A1", "C1", "2025-04-10", 100_000_00, "won", "North"),
            ("D2", "A1", "C2", "2025-05-10", 70_000_00, "won", "Atlantis"),
        ],
    )
    params = crafted_params(write_plan(tmp_path, crediting={"method": "territory"}))
    r = report(ds, params)
    assert r.summary["revenue"] == Decimal("170000.00")
    assert r.summary["attainment"] == pytest.approx(1.7)
    assert r.summary["commission_total"] == Decimal("17000.00")  # 10 % of the revenue the report shows
    line = r.commission.loc[r.commission["deal_id"] == "D2"].iloc[0]
    assert line["amount"] == Decimal("7000.00")
    assert "credited to you as the deal's owner (territory not covered)" in line["description"]
    assert any("covered by nobody credits its owner" in n for n in r.notes)
    assert_engine_matches_reports(ds, params, load_plan(params.plan.path))


def test_blank_territory_credits_the_owner_in_report_and_engine(make_dataset):
    ds = make_dataset(
        ams=AM,
        territories=TERRITORIES,
        crediting="territory",
        first_month=1,
        quotas=QUOTA_Q2,
        deals=[
            ("D1", "A2", "C1", "2025-04-10", 40_000_00, "won", "North"),  # credits A1 (territory), not its owner A2
            ("D2", "A2", "C2", "2025-05-10", 25_000_00, "won", None),  # blank territory: its owner A2
        ],
    )
    params = crafted_params()
    assert report(ds, params, "A1").summary["revenue"] == Decimal("40000.00")
    assert report(ds, params, "A2").summary["revenue"] == Decimal("25000.00")
    assert_engine_matches_reports(ds, params, measuring_plan("USD", "quarter"))
    credits, excluded = crediting.credit_deals(ds.deals, territories=ds.territories, method="territory")
    assert dict(zip(credits["deal_id"], credits["source"])) == {"D1": "territory", "D2": "owner (no territory)"}
    assert excluded.empty


def test_deal_with_neither_owner_nor_covered_territory_is_excluded_with_its_reason(make_dataset):
    ds = make_dataset(
        ams=AM,
        territories=TERRITORIES,
        crediting="territory",
        first_month=1,
        quotas=QUOTA_Q2,
        deals=[
            ("D1", None, "C1", "2025-04-10", 5_000_00, "won", "Atlantis"),
        ],
    )
    res = engine.compute(ds, measuring_plan("USD", "quarter"), "FY2025-Q2")
    assert res.excluded["deal_id"].tolist() == ["D1"]
    assert "no owner" in res.excluded["reason"].iloc[0] and "covered by no account manager" in res.excluded["reason"].iloc[0]
    assert report(ds, crafted_params()).summary["revenue"] == ZERO


@pytest.mark.parametrize(
    "close, credited",
    [("2025-04-30", ZERO), ("2025-05-01", Decimal("9000.00"))],
    ids=["closed_before_handover", "closed_on_handover_day"],
)
def test_handover_credits_only_deals_from_the_handover_date_in_report_and_engine(make_dataset, close, credited):
    ds = make_dataset(
        ams=AM,
        first_month=1,
        quotas=QUOTA_Q2,
        accounts=[("C1", "Client", "A1", "2025-05-01")],
        deals=[("D1", "A1", "C1", close, 9_000_00)],
    )
    params = crafted_params()
    assert report(ds, params).summary["revenue"] == credited
    assert_engine_matches_reports(ds, params, measuring_plan("USD", "quarter"))


def test_monthly_plan_splits_a_quarterly_quota_row_into_thirds_as_the_monthly_report_shows(make_dataset):
    ds = make_dataset(
        ams=AM,
        first_month=1,
        quotas=[("A1", "2025-04-01", "2025-06-30", 90_000_00)],
        deals=[("D1", "A1", "C1", "2025-04-10", 1_000_00)],
    )
    res = engine.compute(ds, measuring_plan("USD", "month"), "FY2025-Q2", since="FY2025-M04")
    s = res.summary.loc[res.summary["account_manager_id"] == "A1"]
    assert s["quota_cents"].tolist() == [30_000_00, 30_000_00, 30_000_00]  # never 90,000 / 0 / 0
    for month in ("FY2025-M04", "FY2025-M05", "FY2025-M06"):
        shown = report(ds, crafted_params(period=month)).summary["quota"]
        assert shown == Decimal("30000.00"), month
        assert_engine_matches_reports(ds, crafted_params(period=month), measuring_plan("USD", "month"))


def test_plan_crediting_that_disagrees_with_the_data_set_is_refused_naming_both_files_and_keys(make_dataset, tmp_path):
    ds = make_dataset(ams=AM, first_month=1, quotas=QUOTA_Q2, deals=[("D1", "A1", "C1", "2025-04-10", 1_000_00)])
    params = crafted_params(write_plan(tmp_path, crediting={"method": "territory"}))
    with pytest.raises(PlanError) as err:
        report(ds, params)
    msg = str(err.value)
    assert str(tmp_path / "ten_percent.yaml") in msg and "'crediting.method' is 'territory'" in msg
    assert "sources/crafted.yaml" in msg and "key 'crediting' is 'owner'" in msg
    assert "remove 'crediting.method' from the plan" in msg


def test_plan_without_a_crediting_method_follows_the_data_set(make_dataset, tmp_path):
    ds = make_dataset(
        ams=AM,
        territories=TERRITORIES,
        crediting="territory",
        first_month=1,
        quotas=QUOTA_Q2,
        deals=[("D1", "A2", "C1", "2025-04-10", 1_000_00, "won", "North")],
    )
    params = crafted_params(write_plan(tmp_path))
    assert report(ds, params, "A1").summary["commission_total"] == Decimal("100.00")


def test_plan_handoff_false_is_refused_when_the_data_has_handover_dates(make_dataset, tmp_path):
    ds = make_dataset(
        ams=AM,
        first_month=1,
        quotas=QUOTA_Q2,
        accounts=[("C1", "Client", "A1", "2025-05-01")],
        deals=[("D1", "A1", "C1", "2025-04-10", 1_000_00)],
    )
    plan = Plan.model_validate({**yaml.safe_load(write_plan(tmp_path).read_text()), "crediting": {"handoff": False}})
    with pytest.raises(PlanError, match=r"'crediting.handoff' is false"):
        engine.compute(ds, plan, "FY2025-Q2")
    ds_without = make_dataset(ams=AM, first_month=1, quotas=QUOTA_Q2, deals=[("D1", "A1", "C1", "2025-04-10", 1_000_00)])
    assert engine.compute(ds_without, plan, "FY2025-Q2").summary["credit_cents"].sum() == 1_000_00


# ---------------------------------------------------------------------------
# crediting factors by deal type (dealtype group, issue #13 item 15): one credit for both
# ---------------------------------------------------------------------------
def typed_dataset(make_dataset):
    """A1: a new logo, a renewal and a deal without a type in FY2025-Q2 (quota 100,000.00); A2: a renewal."""
    ds = make_dataset(
        ams=AM,
        first_month=1,
        quotas=QUOTA_Q2,
        deals=[
            ("D1", "A1", "C1", "2025-04-10", 50_000_00),
            ("D2", "A1", "C2", "2025-05-10", 40_000_00),
            ("D3", "A1", "C3", "2025-06-10", 10_000_00),
            ("D4", "A2", "C4", "2025-05-20", 30_000_00),
            ("D5", "A2", "C5", "2025-01-02", 1_000_00, "lost"),  # the data begins before FY2025-Q2: a verdict
        ],
    )
    types = pd.Series(["New Logo", "renewal", None, "Renewal", "renewal"], dtype="str")
    return dataclasses.replace(ds, deals=ds.deals.assign(deal_type=types))


@pytest.mark.parametrize("applies_to", ["quota_credit", "both"])
def test_deal_type_factors_credit_the_reports_and_the_engine_alike(make_dataset, tmp_path, applies_to):
    ds = typed_dataset(make_dataset)
    factors = {"applies_to": applies_to, "factors": {"new_logo": "1.2", "renewal": "0.5", "default": "1"}}
    params = crafted_params(write_plan(tmp_path, crediting={"deal_type_factors": factors}))
    r = report(ds, params)
    # 50,000 x 1.2 + 40,000 x 0.5 + 10,000 x 1 = 90,000.00 toward a 100,000.00 quota
    assert r.summary["revenue"] == Decimal("90000.00")
    assert r.summary["attainment"] == pytest.approx(0.9)
    assert report(ds, params, "A2").summary["revenue"] == Decimal("15000.00")
    # the statement: 10 % of the full 100,000.00 (quota credit only) or of the 90,000.00 credited (both)
    assert r.summary["commission_total"] == (Decimal("10000.00") if applies_to == "quota_credit" else Decimal("9000.00"))
    # the deals the report lists, the performance watch and the quarterly table read the same credit
    assert r.deals["amount"].tolist() == [Decimal("60000.00"), Decimal("20000.00"), Decimal("10000.00")]
    q2 = r.performance.set_index("period").loc["FY2025-Q2"]
    assert q2["attainment"] == pytest.approx(0.9) and bool(q2["missed"]) is False
    assert r.quarterly.set_index("period").loc["FY2025-Q2", "revenue"] == Decimal("90000.00")
    assert_engine_matches_reports(ds, params, load_plan(params.plan.path))


def test_reports_without_deal_type_factors_ignore_the_deal_type_column(make_dataset):
    ds = typed_dataset(make_dataset)
    assert report(ds, crafted_params()).summary["revenue"] == Decimal("100000.00")
    assert_engine_matches_reports(ds, crafted_params(), measuring_plan("USD", "quarter"))


# ---------------------------------------------------------------------------
# splits group (issue #13 item 7): a data set with a splits table
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["credit_first", "split_payout"])
def test_splits_table_credits_each_share_in_report_and_engine_alike(make_dataset, tmp_path, mode):
    import pandas as pd

    ds = make_dataset(
        ams=AM,
        first_month=1,
        quotas=QUOTA_Q2,
        deals=[
            ("D1", "A1", "C1", "2025-04-10", 100_000_01),
            ("D2", "A2", "C2", "2025-05-10", 30_000_00),
            ("D3", "A1", "C1", "2025-07-02", 50_000_00),  # after the cut-off: its split rows stay out
        ],
    )
    sp = pd.DataFrame(
        {
            "deal_id": ["D1", "D1", "D2", "D3", "D3"],
            "account_manager_id": ["A1", "A2", "A2", "A1", "A2"],
            "share": ["0.6", "0.4", "1", "equal", "equal"],
            "kind": "revenue",
        }
    )
    ds = dataclasses.replace(ds, splits=sp)
    params = crafted_params(write_plan(tmp_path, splits={"mode": mode}))
    assert report(ds, params, "A1").summary["revenue"] == Decimal("60000.01")  # 60 % of 100,000.01, largest remainder
    assert report(ds, params, "A2").summary["revenue"] == Decimal("70000.00")
    assert_engine_matches_reports(ds, params, measuring_plan("USD", "quarter"))
    assert_engine_matches_reports(ds, params, load_plan(params.plan.path))
