"""Plan shapes of issue #13, clawback group: clawback methods, YTD reach-back, statement words, bad plans.

Every expected figure is computed by hand in ``docs/commission.md`` ("Plan shapes:
clawbacks and statements"), from the public worked examples cited there:

  [XCLAW]  helpcenter.xactlycorp.com/article/incent-administrator-plan-design-commission-clawback
           (clawback at the rate of the original commission)
  [ORADJ]  docs.oracle.com/cd/E05553_01/books/InCompAdm/InCompAdmTransWorkbook10.html
           (adjust a past transaction and recalculate compensation for the months it belongs to)
  [QOBRA]  qobra.co/blog/clawback-how-it-works-examples-best-practice ("The HubSpot example": 5 % on
           each new contract, a EUR 20,000 contract cancelled two months after signing, the EUR 1,000
           commission recovered; clawback for the first four months)
  [TIERS]  our tiered extension of the same shapes (made up, docs/commission.md): 5 % until
           450,000.00, 10 % above; a 50,000.00 deal of March cancelled in May, where the three
           methods (deduct, restate Q1, count against Q2) part
  [ORYTD]  docs.oracle.com/en/cloud/saas/incentive-compensation/facmi/
           calculate-monthly-commissions-using-as-of-attainments-for-the.html (true-up on a running total)

Plans are YAML files read by ``load_plan`` and run through ``engine.compute``: the public path.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pandas as pd
import pytest
from engine_helpers import dataset, lines, money_sum, summary

from reportkit.config.plans import load_plan
from reportkit.core.errors import DataError, PlanError
from reportkit.data.model import validate_dataset
from reportkit.domain import engine
from reportkit.domain.engine.ledger import _KINDS
from reportkit.domain.engine.results import STEP_WORDS

D = Decimal


def marginal_5_10(name: str, basis: str, accelerator_from: str) -> str:
    """Plan YAML: marginal tiers per quarter, 5 % ("base") then 10 % ("accelerator") from ``accelerator_from``."""
    return (
        f"name: {name}\nperiod: quarter\nrates:\n  method: marginal\n  basis: {basis}\n  tiers:\n"
        '    - {from: 0, rate: "0.05", label: base}\n'
        f'    - {{from: "{accelerator_from}", rate: "0.10", label: accelerator}}\n'
    )


# [TIERS]: marginal amount tiers per quarter, 5 % up to 450,000.00 and 10 % above
TIERS_5_10_AT_450K = marginal_5_10("clawback example", "amount", "450000.00")


def plan_file(tmp_path, name: str, text: str):
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return load_plan(path)


def deal_b_cancelled_in_may():
    """[TIERS]: Q1 deals A 400,000 / B 50,000 (March) / C 40,000; Q2 deal D 470,000; B cancelled 5 May."""
    ds = dataset(
        [
            ("A", "rep", "2025-01-15", "400000.00", "X"),
            ("B", "rep", "2025-03-01", "50000.00", "X"),
            ("C", "rep", "2025-03-20", "40000.00", "X"),
            ("D", "rep", "2025-04-10", "470000.00", "X"),
        ]
    )
    cancellations = pd.DataFrame(
        {"deal_id": ["B"], "cancel_date": pd.to_datetime(["2025-05-05"]), "amount_cents": pd.array([None], dtype="Int64")}
    )
    return ds, cancellations


def run_method(tmp_path, method: str):
    plan = plan_file(tmp_path, f"clawback_{method}", TIERS_5_10_AT_450K + f"clawback: {{method: {method}}}\n")
    ds, cx = deal_b_cancelled_in_may()
    return engine.compute(ds, plan, "FY2025-Q2", cancellations=cx)


# -- item 6: clawback methods ---------------------------------------------------------
# [QOBRA]: 5 % on each new contract, in euros; the clawback window is the source's four months (120 days)
FLAT_5_PERCENT_IN_EUR = (
    "name: new contracts\ncurrency: EUR\nperiod: quarter\n"
    'rates: {method: flat, basis: amount, tiers: [{from: 0, rate: "0.05"}]}\n'
)


def contract_of_20000_eur_cancelled(cancel_date: str):
    """[QOBRA]: a 20,000.00 EUR contract signed 14 February 2025, cancelled whole on ``cancel_date``."""
    ds = dataset([("H", "rep", "2025-02-14", "20000.00", "X")])
    ds = replace(ds, currency="EUR", deals=ds.deals.assign(currency="EUR"))
    cancellations = pd.DataFrame(
        {"deal_id": ["H"], "cancel_date": pd.to_datetime([cancel_date]), "amount_cents": pd.array([None], dtype="Int64")}
    )
    return ds, cancellations


@pytest.mark.parametrize(
    "method, kind", [("rate_paid", "clawback"), ("restate", "prior_period_adjustment"), ("negative_deal", "commission")]
)
def test_hubspots_20000_euro_contract_cancelled_two_months_later_takes_back_the_1000_euro_commission(tmp_path, method, kind):
    plan = plan_file(tmp_path, f"hubspot_{method}", FLAT_5_PERCENT_IN_EUR + f"clawback: {{method: {method}, window_days: 120}}\n")
    ds, cx = contract_of_20000_eur_cancelled("2025-04-14")  # 59 days after signing, in Q2
    res = engine.compute(ds, plan, "FY2025-Q2", cancellations=cx)
    assert lines(res, "rep", "FY2025-Q1", "commission")["amount"].tolist() == [D("1000.00")]  # 20,000.00 x 5 %
    back = lines(res, "rep", "FY2025-Q2", kind)
    assert back["amount"].tolist() == [D("-1000.00")], method
    # a restatement is a line of the period it restates, the others name the deal
    assert ("restates FY2025-Q1" in back["rule"].iloc[0]) if method == "restate" else back["deal_id"].tolist() == ["H"]


def test_hubspots_contract_cancelled_after_the_four_month_window_keeps_its_commission(tmp_path):
    plan = plan_file(tmp_path, "hubspot_window", FLAT_5_PERCENT_IN_EUR + "clawback: {method: rate_paid, window_days: 120}\n")
    ds, cx = contract_of_20000_eur_cancelled("2025-07-14")  # 150 days after signing
    res = engine.compute(ds, plan, "FY2025-Q3", cancellations=cx)
    claw = lines(res, "rep", "FY2025-Q3", "clawback")
    assert claw["amount"].tolist() == [D("0.00")] and "outside the 120-day clawback window" in claw["rule"].iloc[0]


def test_q1_pays_the_cancelled_deal_at_the_base_rate_before_any_clawback(tmp_path):
    res = run_method(tmp_path, "rate_paid")
    q1 = lines(res, "rep", "FY2025-Q1", "commission")
    assert dict(zip(q1["deal_id"], q1["amount"])) == {"A": D("20000.00"), "B": D("2500.00"), "C": D("4000.00")}
    assert summary(res, "rep", "FY2025-Q1", "commission_cents") == D("26500.00")


def test_rate_paid_charges_back_in_the_cancellation_quarter_at_the_original_rate(tmp_path):
    res = run_method(tmp_path, "rate_paid")
    claw = lines(res, "rep", "FY2025-Q2", "clawback")
    assert claw["deal_id"].tolist() == ["B"]
    assert claw["amount"].tolist() == [D("-2500.00")]  # 2,500.00 paid x 50,000 / 50,000
    assert summary(res, "rep", "FY2025-Q2", "credit_cents") == D("470000.00")  # Q2 attainment untouched
    assert summary(res, "rep", "FY2025-Q2", "payout_cents") == D("22000.00")  # 24,500.00 - 2,500.00


def test_restate_books_a_prior_period_adjustment_naming_the_quarter_it_restates(tmp_path):
    res = run_method(tmp_path, "restate")
    adj = lines(res, "rep", "FY2025-Q2", "prior_period_adjustment")
    # Q1 without B: 440,000.00 all below 450,000.00 at 5 % = 22,000.00; 26,500.00 was paid
    assert adj["amount"].tolist() == [D("-4500.00")]
    assert "restates FY2025-Q1" in adj["rule"].iloc[0]
    assert "22000.00" in adj["rule"].iloc[0] and "26500.00" in adj["rule"].iloc[0]
    assert lines(res, "rep", "FY2025-Q2", "clawback").empty
    assert money_sum(lines(res, "rep", "FY2025-Q1")) == D("26500.00")  # the paid quarter is not reopened
    assert summary(res, "rep", "FY2025-Q2", "payout_cents") == D("20000.00")  # 24,500.00 - 4,500.00


def test_negative_deal_runs_the_cancellation_through_the_current_quarters_tiers(tmp_path):
    res = run_method(tmp_path, "negative_deal")
    b = lines(res, "rep", "FY2025-Q2", "commission")
    b = b.loc[b["deal_id"] == "B"]
    # -50,000.00 takes Q2's running total from 470,000.00 to 420,000.00: 20,000.00 at 10 %, 30,000.00 at 5 %
    assert sorted(zip(b["credit"], b["amount"])) == [(D("-30000.00"), D("-1500.00")), (D("-20000.00"), D("-2000.00"))]
    assert summary(res, "rep", "FY2025-Q2", "credit_cents") == D("420000.00")  # counts against Q2 attainment
    assert lines(res, "rep", "FY2025-Q2", "clawback").empty
    assert summary(res, "rep", "FY2025-Q2", "payout_cents") == D("21000.00")  # 24,500.00 - 3,500.00


def test_every_clawback_method_respects_the_window(tmp_path):
    for method in ("rate_paid", "restate", "negative_deal"):
        text = TIERS_5_10_AT_450K + f"clawback: {{method: {method}, window_days: 30}}\n"  # B cancelled 65 days after close
        ds, cx = deal_b_cancelled_in_may()
        res = engine.compute(ds, plan_file(tmp_path, f"window_{method}", text), "FY2025-Q2", cancellations=cx)
        assert summary(res, "rep", "FY2025-Q2", "payout_cents") == D("24500.00"), method
        assert "outside the 30-day clawback window" in lines(res, "rep", "FY2025-Q2", "clawback")["rule"].iloc[0]


def test_restate_is_refused_on_a_ytd_plan_naming_file_key_and_the_allowed_methods(tmp_path):
    text = TIERS_5_10_AT_450K.replace("basis: amount", "basis: amount\n  accumulation: ytd") + "clawback: {method: restate}\n"
    with pytest.raises(PlanError) as err:
        plan_file(tmp_path, "restate_ytd", text)
    msg = str(err.value)
    assert "restate_ytd.yaml" in msg and "clawback.method" in msg and "'negative_deal'" in msg


def test_an_unknown_clawback_method_lists_the_methods_with_a_did_you_mean(tmp_path):
    with pytest.raises(PlanError) as err:
        plan_file(tmp_path, "typo", TIERS_5_10_AT_450K + "clawback: {method: restated}\n")
    msg = str(err.value)
    assert "typo.yaml" in msg and "clawback.method" in msg and "'restate'" in msg and "did you mean" in msg


# -- item 18: YTD plans reach back ------------------------------------------------------
YTD_RETRO_5_10_AT_100K = """\
name: ytd example
rates:
  method: retroactive
  basis: amount
  accumulation: ytd
  tiers:
    - {from: 0, rate: "0.05"}
    - {from: "100000.00", rate: "0.10"}
"""


def test_a_ytd_quarter_reaches_back_to_the_year_start_when_the_caller_starts_later(tmp_path):
    plan = plan_file(tmp_path, "ytd", YTD_RETRO_5_10_AT_100K)
    ds = dataset([("A", "rep", "2025-02-10", "80000.00", "X"), ("D", "rep", "2025-04-10", "40000.00", "X")])
    res = engine.compute(ds, plan, "FY2025-Q2", since="FY2025-Q2")
    # YTD 120,000.00 passes 100,000.00: D at 10 % = 4,000.00; true-up of A: 80,000.00 x 10 % - 4,000.00 paid = 4,000.00
    q2 = lines(res, "rep", "FY2025-Q2")
    assert dict(zip(q2["kind"], q2["amount"])) == {"commission": D("4000.00"), "true_up": D("4000.00")}
    assert summary(res, "rep", "FY2025-Q2", "ytd_credit_cents") == D("120000.00")
    assert [p.label for p in res.periods] == ["FY2025-Q1", "FY2025-Q2"]


def test_a_per_period_plan_keeps_the_start_the_caller_gives(tmp_path):
    plan = plan_file(tmp_path, "per_period", TIERS_5_10_AT_450K)
    ds, _ = deal_b_cancelled_in_may()
    res = engine.compute(ds, plan, "FY2025-Q2", since="FY2025-Q2")
    assert [p.label for p in res.periods] == ["FY2025-Q2"]


# -- bad plans: YAML syntax and negative quotas -----------------------------------------
def test_a_yaml_syntax_error_names_the_plan_file_and_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nrates:\n  tiers: [a, b\n  method: flat\n", encoding="utf-8")
    with pytest.raises(PlanError) as err:
        load_plan(path)
    msg = str(err.value)
    assert f"{path}, line 4, column 9: not valid YAML" in msg
    assert "line 3" in msg  # where the unclosed [ started
    assert "<unicode string>" not in msg


def test_a_negative_quota_is_shown_in_the_currency_not_in_cents():
    ds = dataset([("A", "rep", "2025-01-15", "100.00", "X")], quotas=[("rep", "2025-01-01", "2025-03-31", "-5000.00")])
    with pytest.raises(DataError) as err:
        validate_dataset(ds)
    msg = str(err.value)
    assert "'-5,000.00 USD'" in msg and "500000" not in msg and "np.int64" not in msg


def test_the_engine_names_a_negative_quota_in_the_plan_currency(tmp_path):
    ds = dataset([("A", "rep", "2025-01-15", "100.00", "X")], quotas=[("rep", "2025-01-01", "2025-03-31", "-5000.00")])
    with pytest.raises(DataError) as err:
        engine.compute(ds, plan_file(tmp_path, "plain", TIERS_5_10_AT_450K), "FY2025-Q1")
    assert "'-5,000.00 USD'" in str(err.value) and "500000" not in str(err.value)


# -- a statement line says in words which component, tier, rate and deals made it ------------
ATTAINMENT_5_10 = marginal_5_10("Standard", "attainment", "1.0")


def test_the_statement_file_says_each_line_in_words_without_internal_codes(tmp_path):
    import csv

    from reportkit.core.periods import Period
    from reportkit.domain.commission import plan_statement
    from reportkit.render.statement import write_statement_files

    plan = plan_file(tmp_path, "standard", ATTAINMENT_5_10)
    ds = dataset(
        [("A", "rep", "2025-01-15", "8000.00", "X"), ("B", "rep", "2025-02-15", "4000.00", "X")],
        quotas=[("rep", "2025-01-01", "2025-03-31", "10000.00")],
    )
    res = engine.compute(ds, plan, "FY2025-Q1")
    stmt = plan_statement(res, "rep", Period.parse("FY2025-Q1", ds.calendar))
    csv_path, _ = write_statement_files(stmt, tmp_path / "out", "USD")
    with csv_path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    # B crosses 100 % of the 10,000.00 quota: 2,000.00 in the base tier, 2,000.00 in the accelerator
    b2 = rows[2]
    assert (b2["deal_id"], b2["basis"], b2["rate"], b2["amount"]) == ("B", "2000.00", "0.1", "200.00")
    assert b2["rule"] == "commission, tier 2 at 10 %"
    assert b2["description"] == (
        'Deal B closed 2025-02-15: Standard: commission, tier 2 "accelerator" (from 100 % of quota; '
        "marginal: the part of the credit inside this tier, measured on the pay period's running total) at 10 %"
    )
    assert rows[0]["rule"] == "commission, tier 1 at 5 %" and "up to 100 % of quota" in rows[0]["description"]
    assert not any("tier:" in r["rule"] or "_" in r["rule"] for r in rows)
    assert rows[-1]["rule"] == "total" and rows[-1]["amount"] == "700.00"  # 400.00 + 100.00 + 200.00


def test_a_restatement_line_says_in_words_which_period_it_restates(tmp_path):
    from reportkit.core.periods import Period
    from reportkit.domain.commission import plan_statement

    res = run_method(tmp_path, "restate")
    stmt = plan_statement(res, "rep", Period.parse("FY2025-Q2", res.periods[0].calendar))
    last = stmt.lines.iloc[-1]
    assert last["rule"] == "prior-period adjustment" and last["amount"] == D("-4500.00")
    assert "restates FY2025-Q1" in last["description"] and "B" in last["description"]


def test_restate_charges_back_a_deal_whose_origin_period_is_before_the_run(tmp_path):
    plan = plan_file(tmp_path, "restate_old", TIERS_5_10_AT_450K + "clawback: {method: restate}\n")
    ds = dataset([("OLD", "rep", "2024-11-20", "10000.00", "X"), ("N", "rep", "2025-01-15", "1000.00", "X")])
    cx = pd.DataFrame(
        {"deal_id": ["OLD"], "cancel_date": pd.to_datetime(["2025-02-01"]), "amount_cents": pd.array([None], dtype="Int64")}
    )
    res = engine.compute(ds, plan, "FY2025-Q1", cancellations=cx)  # the ledger starts at FY2025-Q1: FY2024-Q4 cannot be restated
    claw = lines(res, "rep", "FY2025-Q1", "clawback")
    assert claw["amount"].tolist() == [D("-500.00")]  # 10,000.00 x 5 % (tier 1): never dropped
    assert "paid before the ledger start" in claw["rule"].iloc[0]


def test_every_ledger_step_has_its_words_for_the_statement():
    assert set(_KINDS) <= set(STEP_WORDS), f"ledger steps without words: {sorted(set(_KINDS) - set(STEP_WORDS))}"
