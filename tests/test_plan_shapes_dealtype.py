"""Plan shapes of the dealtype group (issue #13 item 15): crediting factors by deal type.

Each test pins a worked example of ``docs/commission.md`` ("Plan shapes: crediting
factors by deal type") to the cent through the public path: a plan YAML file loaded
with ``load_plan``, deals with a ``deal_type`` column (from a source mapping where the
mapping is what is tested), ``engine.compute``. The reports' side (credited revenue
and attainment equal to the engine's) is pinned in ``tests/test_one_number.py``.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from engine_helpers import dataset, lines, run, summary
from test_mapping import MINIMAL

from reportkit.config.plans import PlanAssignments, load_plan
from reportkit.core.errors import DataError, PlanError
from reportkit.data.mapping import load_dataset

RETIRE = """\
name: Quota retirement
period: quarter
quota: {source: table, proration: none}
crediting:
  deal_type_factors:
    applies_to: quota_credit
    factors: {new_business: "1.0", service: "0.5", renewal: "0"}
rates:
  method: retroactive
  basis: attainment
  tiers: [{from: 0, rate: "0.05", label: below quota}, {from: "1.0", rate: "0.10", label: quota retired}]
"""

MODIFIERS = """\
name: Deal type modifiers
period: quarter
quota: {source: table, proration: none}
crediting:
  deal_type_factors:
    applies_to: both
    factors: {new_business: "1.0", renewal: "0.5", expansion: "0.75", upsell: "0.8"}
rates:
  method: flat
  basis: amount
  tiers: [{from: 0, rate: "0.10"}]
"""


def plan_file(tmp_path: Path, text: str, name: str = "plan.yaml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return load_plan(p)


def typed(ds, types):
    """``ds`` with a ``deal_type`` column (text as the source wrote it; None: no type)."""
    return dataclasses.replace(ds, deals=ds.deals.assign(deal_type=pd.Series(types, dtype="str")))


def john(extra=()):
    """Sales Cookie's John: quota 100,000.00 a quarter; new business, a service deal, a renewal."""
    deals = [
        ("N1", "john", "2025-01-10", "50000.00", "P"),
        ("S1", "john", "2025-02-03", "40000.00", "P"),
        ("R1", "john", "2025-02-20", "30000.00", "P"),
        ("N2", "john", "2025-03-05", "20000.00", "P"),
        *extra,
    ]
    types = ["New Business", "service", "Renewal ", "new business", *("new_business" for _ in extra)]
    return typed(dataset(deals, [("john", "2025-01-01", "2025-03-31", "100000.00")]), types)


def cents(values):
    return [Decimal(v) for v in values]


# ---------------------------------------------------------------------------
# applies_to: quota_credit (Sales Cookie, "What is quota retirement")
# ---------------------------------------------------------------------------
def test_renewals_retire_no_quota_and_services_half_but_every_deal_earns_commission_on_its_full_amount(tmp_path):
    res = run(plan_file(tmp_path, RETIRE), john(), "FY2025-Q1")
    # quota credit 50,000 + 40,000 x 0.5 + 30,000 x 0 + 20,000 = 90,000.00: 90 %, tier 1 (5 %)
    assert summary(res, "john", "FY2025-Q1", "credit_cents") == Decimal("90000.00")
    assert summary(res, "john", "FY2025-Q1", "attainment") == pytest.approx(0.9)
    com = lines(res, "john", "FY2025-Q1", "commission")
    assert com["credit"].tolist() == cents(["50000.00", "40000.00", "30000.00", "20000.00"])
    assert com["amount"].tolist() == cents(["2500.00", "2000.00", "1500.00", "1000.00"])
    assert sum(com["amount"]) == Decimal("7000.00")


def test_one_cent_of_new_business_retires_the_quota_and_pays_every_deal_at_the_upper_tier(tmp_path):
    res = run(plan_file(tmp_path, RETIRE), john([("N3", "john", "2025-03-25", "10000.01", "P")]), "FY2025-Q1")
    assert summary(res, "john", "FY2025-Q1", "credit_cents") == Decimal("100000.01")
    com = lines(res, "john", "FY2025-Q1", "commission")
    # 10 % of each full amount; N3: 10,000.01 x 0.10 = 1,000.001 -> 1,000.00
    assert com["amount"].tolist() == cents(["5000.00", "4000.00", "3000.00", "2000.00", "1000.00"])
    assert sum(com["amount"]) == Decimal("15000.00")


def test_without_the_factors_the_same_deals_reach_the_upper_tier_on_their_full_amount(tmp_path):
    plain = RETIRE.split("crediting:")[0] + "rates:" + RETIRE.split("rates:")[1]
    res = run(plan_file(tmp_path, plain), john(), "FY2025-Q1")
    assert summary(res, "john", "FY2025-Q1", "credit_cents") == Decimal("140000.00")
    assert sum(lines(res, "john", "FY2025-Q1", "commission")["amount"]) == Decimal("14000.00")


def test_statement_line_says_the_deal_type_and_its_factor_in_words(tmp_path):
    res = run(plan_file(tmp_path, RETIRE), john(), "FY2025-Q1")
    words = dict(zip(*lines(res, "john", "FY2025-Q1", "commission")[["deal_id", "description"]].T.values))
    assert words["R1"].endswith("; renewal credited at 0 % toward quota; commission on the full credit")
    assert words["S1"].endswith("; service credited at 50 % toward quota; commission on the full credit")
    assert "new_business credited at 100 % toward quota" in words["N1"]


def test_partial_cancellation_in_the_period_takes_back_its_share_of_quota_credit_at_the_deal_factor(tmp_path):
    cx = pd.DataFrame({"deal_id": ["S1"], "cancel_date": pd.to_datetime(["2025-03-01"]), "amount_cents": [10_000_00]})
    res = run(plan_file(tmp_path, RETIRE), john(), "FY2025-Q1", cancellations=cx)
    # S1 loses 10,000.00 of commissionable credit and 5,000.00 of quota credit (factor 0.5)
    assert summary(res, "john", "FY2025-Q1", "credit_cents") == Decimal("85000.00")
    s1 = lines(res, "john", "FY2025-Q1", "commission").query("deal_id == 'S1'")
    assert s1["credit"].tolist() == cents(["40000.00", "-10000.00"])
    assert s1["amount"].tolist() == cents(["2000.00", "-500.00"])


def test_quota_credit_factors_on_a_marginal_schedule_are_refused_with_the_fix(tmp_path):
    with pytest.raises(PlanError) as e:
        plan_file(tmp_path, RETIRE.replace("method: retroactive", "method: marginal"))
    msg = str(e.value)
    assert "plan.yaml" in msg and "crediting.deal_type_factors.applies_to 'quota_credit'" in msg
    assert "rates.method is 'marginal'" in msg and "use applies_to: both" in msg


# ---------------------------------------------------------------------------
# applies_to: both (Commish, "Custom Fields & Deal Types": deal type modifiers)
# ---------------------------------------------------------------------------
def test_deal_type_modifiers_scale_the_credit_and_the_commission_alike(tmp_path):
    deals = [
        ("N1", "ann", "2025-01-10", "20000.00", "P"),
        ("R1", "ann", "2025-01-20", "10000.00", "P"),
        ("E1", "ann", "2025-02-10", "8000.00", "P"),
        ("U1", "ann", "2025-03-10", "5000.07", "P"),
    ]
    ds = typed(
        dataset(deals, [("ann", "2025-01-01", "2025-03-31", "50000.00")]), ["new_business", "renewal", "Expansion", "UPSELL"]
    )
    res = run(plan_file(tmp_path, MODIFIERS), ds, "FY2025-Q1")
    com = lines(res, "ann", "FY2025-Q1", "commission")
    # credits 20,000 x 1.0, 10,000 x 0.5, 8,000 x 0.75, 5,000.07 x 0.8 = 4,000.056 -> 4,000.06
    assert com["credit"].tolist() == cents(["20000.00", "5000.00", "6000.00", "4000.06"])
    # the modifiers' effective rates: 10 %, 5 %, 7.5 %, 8 % of each deal; 4,000.06 x 0.10 = 400.006 -> 400.01
    assert com["amount"].tolist() == cents(["2000.00", "500.00", "600.00", "400.01"])
    assert sum(com["amount"]) == Decimal("3500.01")
    # credited revenue: the exact factored credits summed, rounded once: 35,000.056 -> 35,000.06
    assert summary(res, "ann", "FY2025-Q1", "credit_cents") == Decimal("35000.06")
    assert com["description"].iloc[1].endswith("; renewal credited at 50 %")


# ---------------------------------------------------------------------------
# the deal_type column and bad plans
# ---------------------------------------------------------------------------
# the mapping of tests/test_mapping.py, with a deal_type column recoded to the plan's types and quotas
MAPPING = (
    MINIMAL.replace("amount_cents: value}", "amount_cents: value, deal_type: kind}")
    + """\
  recode:
    deal_type: {"New Business": new_business, "Services": service, "renewal": renewal, "RENEWAL ": renewal}
quotas:
  source: {file: quotas.csv}
  columns: {account_manager_id: rep, period_start: start, period_end: end, quota_cents: quota}
"""
)


def test_deal_types_from_a_source_mapping_are_recoded_to_the_plan_types(tmp_path):
    (tmp_path / "ams.csv").write_text("id,name,team,mgr\njohn,John,North,Nora\n", encoding="utf-8")
    (tmp_path / "quotas.csv").write_text("rep,start,end,quota\njohn,2025-01-01,2025-03-31,100000.00\n", encoding="utf-8")
    (tmp_path / "deals.csv").write_text(
        "ref,rep,client,closed,value,kind\n"
        "N1,john,C1,2025-01-10,50000.00,New Business\n"
        "S1,john,C2,2025-02-03,40000.00,Services\n"
        'R1,john,C3,2025-02-20,30000.00,"RENEWAL "\n'
        "N2,john,C1,2025-03-05,20000.00,New Business\n",
        encoding="utf-8",
    )
    (tmp_path / "mapping.yaml").write_text(MAPPING, encoding="utf-8")
    ds = load_dataset(tmp_path / "mapping.yaml")
    assert ds.deals["deal_type"].tolist() == ["new_business", "service", "renewal", "new_business"]
    res = run(plan_file(tmp_path, RETIRE), ds, "FY2025-Q1")
    assert summary(res, "john", "FY2025-Q1", "credit_cents") == Decimal("90000.00")


def test_a_source_word_the_mapping_does_not_recode_is_a_data_problem_naming_the_cell(tmp_path):
    (tmp_path / "ams.csv").write_text("id,name,team,mgr\njohn,John,North,Nora\n", encoding="utf-8")
    (tmp_path / "quotas.csv").write_text("rep,start,end,quota\njohn,2025-01-01,2025-03-31,100000.00\n", encoding="utf-8")
    (tmp_path / "deals.csv").write_text(
        "ref,rep,client,closed,value,kind\nN1,john,C1,2025-01-10,50000.00,New Busines\n", encoding="utf-8"
    )
    (tmp_path / "mapping.yaml").write_text(MAPPING, encoding="utf-8")
    with pytest.raises(DataError) as e:
        load_dataset(tmp_path / "mapping.yaml")
    text = str(e.value) + " ".join(str(p) for p in e.value.problems)
    assert "deals.csv" in text and "kind" in text and "New Busines" in text and "did you mean 'New Business'" in text


def test_deal_type_the_plan_does_not_know_is_refused_naming_plan_key_deal_and_allowed_types(tmp_path):
    ds = typed(
        dataset([("X1", "john", "2025-01-10", "100.00", "P")], [("john", "2025-01-01", "2025-03-31", "1000.00")]), ["Renewl"]
    )
    with pytest.raises(PlanError) as e:
        run(plan_file(tmp_path, RETIRE), ds, "FY2025-Q1")
    msg, hint = str(e.value), e.value.hint
    assert "plan.yaml" in msg and "'crediting.deal_type_factors.factors'" in msg and "deal 'X1'" in msg
    assert "deal type 'Renewl'" in msg and "allowed: new_business, renewal, service" in msg
    assert "did you mean 'renewal'?" in msg
    assert "'default' factor" in hint and "recode" in hint


def test_a_deal_without_a_type_takes_the_default_factor_and_without_a_default_is_refused(tmp_path):
    ds = typed(dataset([("X1", "john", "2025-01-10", "100.00", "P")], [("john", "2025-01-01", "2025-03-31", "1000.00")]), [None])
    with pytest.raises(PlanError, match="deal 'X1' has no deal type"):
        run(plan_file(tmp_path, RETIRE), ds, "FY2025-Q1")
    with_default = RETIRE.replace('renewal: "0"}', 'renewal: "0", default: "0.25"}')
    res = run(plan_file(tmp_path, with_default, "default.yaml"), ds, "FY2025-Q1")
    assert summary(res, "john", "FY2025-Q1", "credit_cents") == Decimal("25.00")
    assert (
        lines(res, "john", "FY2025-Q1", "commission")["description"]
        .iloc[0]
        .endswith("; no deal type: credited at 25 % (default) toward quota; commission on the full credit")
    )


def test_plan_without_deal_type_factors_ignores_the_deal_type_column(tmp_path):
    plain = plan_file(tmp_path, MODIFIERS.split("crediting:")[0] + "rates:" + MODIFIERS.split("rates:")[1])
    base = dataset([("N1", "ann", "2025-01-10", "100.00", "P")], [("ann", "2025-01-01", "2025-03-31", "1000.00")])
    with_types = run(plain, typed(base, ["renewal"]), "FY2025-Q1").statement("ann")
    without = run(plain, base, "FY2025-Q1").statement("ann")
    pd.testing.assert_frame_equal(with_types, without)


def test_plans_of_one_run_with_different_factors_are_refused_naming_both_files(tmp_path):
    a = plan_file(tmp_path, RETIRE, "a.yaml")
    b = plan_file(tmp_path, RETIRE.replace('service: "0.5"', 'service: "0.6"').replace("Quota retirement", "B"), "b.yaml")
    who = PlanAssignments.model_validate({"assignments": [{"account_manager_id": "john", "plan": "a", "start": "2025-01-01"}]})
    with pytest.raises(PlanError, match=r"plans '.*a\.yaml' and '.*b\.yaml' give different crediting.deal_type_factors"):
        run({"a": a, "b": b}, john(), "FY2025-Q1", assignments=who)


@pytest.mark.parametrize(
    "factors, why",
    [
        ('{renewal: "-0.5"}', "outside 0..10"),
        ('{renewal: "0.5", Renewal: "0.6"}', "both 'renewal' once normalised"),
        ("{}", "give at least one deal type"),
        ('{renewal: "0.5%"}', "renewal"),
    ],
    ids=["negative", "same_type_twice", "empty", "percent_sign"],
)
def test_bad_deal_type_factors_are_refused_with_the_key_and_the_fix(tmp_path, factors, why):
    with pytest.raises(PlanError) as e:
        plan_file(tmp_path, RETIRE.replace('{new_business: "1.0", service: "0.5", renewal: "0"}', factors))
    assert "plan.yaml" in str(e.value) and "crediting.deal_type_factors.factors" in str(e.value)
    assert why in str(e.value)


def test_factors_by_deal_type_on_deals_without_a_deal_type_column_are_refused_not_defaulted(tmp_path):
    # a trial found a plan counting renewals at 50 % pay every deal at the default factor,
    # silently, on data whose mapping had no deal_type column
    ds = john()
    ds = dataclasses.replace(ds, deals=ds.deals.drop(columns=["deal_type"]))
    with pytest.raises(PlanError) as exc:
        run(plan_file(tmp_path, RETIRE), ds, "FY2025-Q1")
    assert "but the deals have no 'deal_type' column" in str(exc.value)
    assert "deals.columns: {deal_type: <your column>}" in str(exc.value.hint)
