"""Plan shapes of the splits group (issue #13 item 7): split credit first, or split the whole deal's payout.

Each test pins a worked example of ``docs/commission.md`` ("Plan shapes: splits") to the
cent through the public path: a plan YAML file loaded with ``load_plan`` and
``engine.compute``, a source mapping with a ``splits:`` table, ``reportkit statement
--splits`` and ``rk.commission_statement(..., splits=...)``.
"""

from __future__ import annotations

import dataclasses
import datetime
from decimal import Decimal

import pandas as pd
import pytest
from engine_helpers import dataset, lines, run, summary

import reportkit as rk
from reportkit.cli import main
from reportkit.config.params import BatchParams
from reportkit.config.plans import load_plan
from reportkit.core.errors import DataError, PlanError
from reportkit.data.mapping import load_dataset

AE_SDR = [("ae", None, None), ("sdr", None, None)]
THREE = [("ana", None, None), ("ben", None, None), ("cy", None, None)]

# marginal amount tiers per quarter: 10 % up to 50,000.00, 15 % from there
TIERED = """name: Tiered
period: quarter
rates:
  method: marginal
  basis: amount
  accumulation: per_period
  tiers: [{{from: 0, rate: "0.10"}}, {{from: "50000.00", rate: "0.15", label: accelerator}}]
{extra}"""
FLAT = """name: Flat
period: quarter
rates:
  method: flat
  basis: amount
  tiers: [{{from: 0, rate: "{rate}"}}]
{extra}"""


def plan_file(tmp_path, text, name="plan.yaml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return load_plan(p)


def tiered(tmp_path, mode=None, extra=""):
    return plan_file(tmp_path, TIERED.format(extra=(f"splits: {{mode: {mode}}}\n" if mode else "") + extra))


def splits(rows):
    return pd.DataFrame(rows, columns=["deal_id", "account_manager_id", "share", "kind"])


def amounts(res, am, period="FY2025-Q1"):
    return [(r.deal_id, r.credit, r.rate, r.amount) for r in lines(res, am, period, "commission").itertuples()]


def paid(res, am, period="FY2025-Q1"):
    return summary(res, am, period, "commission_cents")


# the worked example: the AE closed A alone, then D 80,000.00 split 70/30 with the SDR (AE first)
AE_DEALS = [("A", "ae", "2025-01-10", "20000.00", "P"), ("D", "ae", "2025-02-10", "80000.00", "P")]
D_70_30 = [("D", "ae", "0.7", "revenue"), ("D", "sdr", "0.3", "revenue")]


def ae_sdr(quotas=()):
    return dataset(AE_DEALS, quotas, ams=AE_SDR)


# ---------------------------------------------------------------------------
# the source's example: a flat rate pays the same either way
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["credit_first", "split_payout"])
def test_flat_ten_percent_on_an_80000_deal_split_70_30_pays_5600_and_2400_in_either_mode(tmp_path, mode):
    ds = dataset([("D", "ae", "2025-02-10", "80000.00", "P")], ams=AE_SDR)
    p = plan_file(tmp_path, FLAT.format(rate="0.10", extra=f"splits: {{mode: {mode}}}\n"))
    res = run(p, ds, "FY2025-Q1", splits=splits(D_70_30))
    assert (paid(res, "ae"), paid(res, "sdr")) == (Decimal("5600.00"), Decimal("2400.00"))


# ---------------------------------------------------------------------------
# tiers: whose running total the deal is measured on
# ---------------------------------------------------------------------------
def test_credit_first_tiers_each_participants_share_on_their_own_running_total(tmp_path):
    res = run(tiered(tmp_path), ae_sdr(), "FY2025-Q1", splits=splits(D_70_30))
    assert amounts(res, "ae") == [
        ("A", Decimal("20000.00"), Decimal("0.1"), Decimal("2000.00")),
        ("D", Decimal("30000.00"), Decimal("0.1"), Decimal("3000.00")),
        ("D", Decimal("26000.00"), Decimal("0.15"), Decimal("3900.00")),
    ]
    assert amounts(res, "sdr") == [("D", Decimal("24000.00"), Decimal("0.1"), Decimal("2400.00"))]
    assert (paid(res, "ae"), paid(res, "sdr")) == (Decimal("8900.00"), Decimal("2400.00"))


def test_split_payout_measures_the_whole_deal_on_the_primarys_running_total_and_shares_each_line(tmp_path):
    res = run(tiered(tmp_path, "split_payout"), ae_sdr(), "FY2025-Q1", splits=splits(D_70_30))
    # the whole deal on the AE's running total 20,000 -> 100,000: 30,000 x 10 % + 50,000 x 15 % = 10,500.00
    assert amounts(res, "ae") == [
        ("A", Decimal("20000.00"), Decimal("0.1"), Decimal("2000.00")),
        ("D", Decimal("30000.00"), Decimal("0.1"), Decimal("2100.00")),
        ("D", Decimal("50000.00"), Decimal("0.15"), Decimal("5250.00")),
    ]
    assert amounts(res, "sdr") == [
        ("D", Decimal("30000.00"), Decimal("0.1"), Decimal("900.00")),
        ("D", Decimal("50000.00"), Decimal("0.15"), Decimal("2250.00")),
    ]
    assert (paid(res, "ae"), paid(res, "sdr")) == (Decimal("9350.00"), Decimal("3150.00"))


@pytest.mark.parametrize("mode", ["credit_first", "split_payout"])
def test_quota_credit_is_the_credited_share_in_either_mode(tmp_path, mode):
    quotas = [(a, "2025-01-01", "2025-03-31", "100000.00") for a in ("ae", "sdr")]
    res = run(tiered(tmp_path, mode), ae_sdr(quotas), "FY2025-Q1", splits=splits(D_70_30))
    assert summary(res, "ae", "FY2025-Q1", "credit_cents") == Decimal("76000.00")
    assert summary(res, "sdr", "FY2025-Q1", "credit_cents") == Decimal("24000.00")
    assert summary(res, "ae", "FY2025-Q1", "attainment") == pytest.approx(0.76)


def test_split_payout_of_an_equal_split_shares_the_whole_deals_rounded_commission_to_the_cent(tmp_path):
    ds = dataset([("d1", "ana", "2025-02-03", "100.01", "P")], ams=THREE)
    sp = splits([("d1", am, "equal", "revenue") for am in ("ana", "ben", "cy")])
    first = run(plan_file(tmp_path, FLAT.format(rate="0.05", extra="")), ds, "FY2025-Q1", splits=sp)
    shared = run(
        plan_file(tmp_path, FLAT.format(rate="0.05", extra="splits: {mode: split_payout}\n")), ds, "FY2025-Q1", splits=sp
    )
    # credit first: 33.34, 33.34, 33.33 each at 5 %: 1.667 -> 1.67, 1.67, 1.6665 -> 1.67 = 5.01
    assert [paid(first, a) for a in ("ana", "ben", "cy")] == [Decimal("1.67")] * 3
    # split payout: 100.01 x 5 % = 5.0005 -> 5.00, thirds 1.666..: 1.67, 1.67, 1.66 (extra cents to the earlier rows)
    assert [paid(shared, a) for a in ("ana", "ben", "cy")] == [Decimal("1.67"), Decimal("1.67"), Decimal("1.66")]
    assert [r[1] for r in amounts(shared, "cy")] == [Decimal("100.01")]  # the line shows the whole deal's credit


def test_split_payout_clawback_takes_back_the_cancelled_fraction_of_each_participants_share(tmp_path):
    ds = ae_sdr()
    cx = pd.DataFrame({"deal_id": ["D"], "cancel_date": pd.to_datetime(["2025-05-05"]), "amount_cents": [40_000_00]})
    res = run(tiered(tmp_path, "split_payout"), ds, "FY2025-Q2", splits=splits(D_70_30), cancellations=cx)
    # paid on D: AE 2,100.00 + 5,250.00 = 7,350.00, SDR 3,150.00; half cancelled in Q2
    assert summary(res, "ae", "FY2025-Q2", "clawback_cents") == Decimal("-3675.00")
    assert summary(res, "sdr", "FY2025-Q2", "clawback_cents") == Decimal("-1575.00")


def test_split_payout_of_a_negative_deal_shares_the_whole_cancellation_on_the_primarys_schedule(tmp_path):
    ds = dataset([("D", "ae", "2025-04-10", "80000.00", "P")], ams=AE_SDR)
    cx = pd.DataFrame({"deal_id": ["D"], "cancel_date": pd.to_datetime(["2025-05-05"]), "amount_cents": [80_000_00]})
    p = tiered(tmp_path, "split_payout", "clawback: {method: negative_deal}\n")
    res = run(p, ds, "FY2025-Q2", splits=splits(D_70_30), cancellations=cx)
    # sale 80,000: 5,000.00 + 4,500.00 = 9,500.00; the cancellation undoes it on the same running total
    assert (paid(res, "ae", "FY2025-Q2"), paid(res, "sdr", "FY2025-Q2")) == (Decimal("0.00"), Decimal("0.00"))
    sdr = amounts(res, "sdr", "FY2025-Q2")
    assert sorted(a for *_, a in sdr) == [Decimal("-1500.00"), Decimal("-1350.00"), Decimal("1350.00"), Decimal("1500.00")]


# ---------------------------------------------------------------------------
# the statement says which mode made each split line
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "mode, words",
    [
        ("credit_first", "split credit first: your 30 % share of the deal is your credit"),
        ("split_payout", "split payout: your 30 % share of the commission on the whole deal"),
    ],
)
def test_statement_line_of_a_split_deal_says_which_mode_made_it(tmp_path, mode, words):
    res = run(tiered(tmp_path, mode), ae_sdr(), "FY2025-Q1", splits=splits(D_70_30))
    sdr = lines(res, "sdr", "FY2025-Q1", "commission")
    assert all(words in d for d in sdr["description"])
    ae = lines(res, "ae", "FY2025-Q1", "commission")
    assert not any("split" in d for d in ae.loc[ae["deal_id"] == "A", "description"])  # A is not shared


# ---------------------------------------------------------------------------
# bad plans
# ---------------------------------------------------------------------------
def test_unknown_split_mode_is_refused_naming_the_file_key_and_allowed_values(tmp_path):
    with pytest.raises(PlanError) as info:
        tiered(tmp_path, "split_pay")
    msg = str(info.value)
    assert "plan.yaml" in msg and "splits.mode" in msg and "'credit_first' or 'split_payout'" in msg


@pytest.mark.parametrize(
    "extra, key",
    [
        ('deal_limits: {min: "10.00"}\n', "deal_limits"),
        ("clawback: {method: restate}\n", "clawback.method: restate"),
    ],
)
def test_split_payout_with_a_shape_that_rates_one_participant_alone_is_refused(tmp_path, extra, key):
    with pytest.raises(PlanError) as info:
        tiered(tmp_path, "split_payout", extra)
    assert key in str(info.value) and "splits.mode 'split_payout'" in str(info.value)


def test_plans_of_one_run_that_disagree_on_the_split_mode_are_refused(tmp_path):
    from reportkit.config.plans import PlanAssignments

    plans = {"a": tiered(tmp_path, "split_payout"), "b": plan_file(tmp_path, TIERED.format(extra=""), "b.yaml")}
    who = PlanAssignments.model_validate(
        {
            "assignments": [
                {"account_manager_id": "ae", "plan": "a", "start": "2025-01-01"},
                {"account_manager_id": "sdr", "plan": "b", "start": "2025-01-01"},
            ]
        }
    )
    with pytest.raises(PlanError) as info:
        run(plans, ae_sdr(), "FY2025-Q1", assignments=who, splits=splits(D_70_30))
    assert "splits.mode" in str(info.value) and "split_payout" in str(info.value)


def test_split_payout_refuses_a_participant_who_is_not_an_account_manager(tmp_path):
    sp = splits([("D", "ae", "0.7", "revenue"), ("D", "ghost", "0.3", "revenue")])
    with pytest.raises(DataError) as info:
        run(tiered(tmp_path, "split_payout"), ae_sdr(), "FY2025-Q1", splits=sp)
    assert "D: ghost" in str(info.value)


# ---------------------------------------------------------------------------
# the splits table from every entry point
# ---------------------------------------------------------------------------
def write_source(tmp_path, split_rows: str) -> object:
    (tmp_path / "ams.csv").write_text("id,name,team,manager\nae,Ada,East,Max\nsdr,Sam,East,Max\n", encoding="utf-8")
    (tmp_path / "quotas.csv").write_text(
        "id,start,end,quota\nae,2025-01-01,2025-03-31,100000.00\nsdr,2025-01-01,2025-03-31,100000.00\n", encoding="utf-8"
    )
    (tmp_path / "deals.csv").write_text(
        "deal,owner,account,closed,amount,stage\nA,ae,C1,2025-01-10,20000.00,won\nD,ae,C2,2025-02-10,80000.00,won\n",
        encoding="utf-8",
    )
    (tmp_path / "splits.csv").write_text(split_rows, encoding="utf-8")
    mapping = tmp_path / "source.yaml"
    mapping.write_text(
        """calendar: {first_month: 1}
currency: USD
account_managers:
  source: {file: ams.csv}
  columns: {account_manager_id: id, name: name, team: team, sales_manager: manager}
quotas:
  source: {file: quotas.csv}
  columns: {account_manager_id: id, period_start: start, period_end: end, quota_cents: quota}
deals:
  source: {file: deals.csv}
  columns: {deal_id: deal, account_manager_id: owner, account_id: account, close_date: closed, amount_cents: amount, stage: stage}
splits:
  source: {file: splits.csv}
  columns: {deal_id: deal, account_manager_id: rep, share: share}
""",
        encoding="utf-8",
    )
    return mapping


GOOD_SPLITS = "deal,rep,share\nD,ae,0.7\nD,sdr,0.3\n"


def test_splits_table_of_the_source_mapping_credits_every_report_and_the_engine_alike(tmp_path):
    ds = load_dataset(write_source(tmp_path, GOOD_SPLITS))
    assert ds.splits["kind"].tolist() == ["revenue", "revenue"]  # the mapping's default kind
    params = BatchParams.model_validate(
        {"source": "source.yaml", "period": "FY2025-Q1", "as_of": datetime.date(2025, 3, 31), "commission": {"rate": "0.10"}}
    )
    sdr = rk.build_account_manager_report(ds, "sdr", "FY2025-Q1", params, as_of="2025-03-31")
    assert sdr.summary["revenue"] == Decimal("24000.00")
    assert sdr.summary["commission_total"] == Decimal("2400.00")
    res = run(tiered(tmp_path), ds, "FY2025-Q1")  # the engine reads ds.splits by itself
    assert (paid(res, "ae"), paid(res, "sdr")) == (Decimal("8900.00"), Decimal("2400.00"))


def test_bad_splits_rows_of_a_source_mapping_are_listed_with_file_row_column_value_and_fix(tmp_path):
    bad = "deal,rep,share\nD,ae,0.7\nD,sdx,0.2\nZ,ae,equal\nA,ae,0.3\nA,sdr,equal\nA,ae,lots\n"
    with pytest.raises(DataError) as info:
        load_dataset(write_source(tmp_path, bad))
    msg = str(info.value)
    assert "splits.csv, row 2, column 'share': value 'D: 0.9': revenue shares of this deal must sum to 1" in msg
    assert "splits.csv, row 3, column 'rep': value 'sdx'" in msg and "did you mean 'sdr'?" in msg
    assert "splits.csv, row 4, column 'deal': value 'Z': no such deal" in msg
    assert "splits.csv, row 5, column 'share': value '0.3'" in msg and "'equal' on all of its revenue rows" in msg
    assert "splits.csv, row 7, column 'share': value 'lots': share must be a fraction 0..1" in msg


def test_reportkit_statement_splits_option_pays_each_participant_their_share(tmp_path, capsys):
    mapping = write_source(tmp_path, "deal,rep,share\nD,ae,0.5\nD,sdr,0.5\n")
    (tmp_path / "splits_70_30.csv").write_text("deal_id,account_manager_id,share\nD,ae,0.7\nD,sdr,0.3\n", encoding="utf-8")
    (tmp_path / "params.yaml").write_text(
        f'source: {mapping.name}\nperiod: FY2025-Q1\nas_of: 2025-03-31\ncommission: {{rate: "0.10"}}\n', encoding="utf-8"
    )
    out = tmp_path / "out"

    def statement(splits_file):
        args = ["statement", str(tmp_path / "params.yaml"), "--period", "FY2025-Q1", "--splits", str(splits_file)]
        return main([*args, "-o", str(out)])

    assert statement(tmp_path / "splits_70_30.csv") == 0
    sdr = (out / "statement-sdr-FY2025-Q1.csv").read_text(encoding="utf-8")
    assert "24000.00,1,0.1,commission at 10 %,2400.00" in sdr and "split credit first" in sdr
    (tmp_path / "bad.csv").write_text("deal_id,account_manager_id,share\nD,ae,0.7\n", encoding="utf-8")
    code = statement(tmp_path / "bad.csv")
    err = capsys.readouterr().err
    assert code == 2 and "bad.csv, row 2, column 'share': value 'D: 0.7'" in err


def test_rk_commission_statement_takes_a_splits_frame_and_names_a_bad_row(tmp_path):
    ds = load_dataset(write_source(tmp_path, GOOD_SPLITS))
    ds = dataclasses.replace(ds, splits=None)
    params = BatchParams.model_validate(
        {"source": "source.yaml", "period": "FY2025-Q1", "as_of": datetime.date(2025, 3, 31), "commission": {"rate": "0.10"}}
    )
    assert rk.commission_statement(ds, "sdr", "FY2025-Q1", params).total == Decimal("0.00")
    st = rk.commission_statement(ds, "sdr", "FY2025-Q1", params, splits=splits(D_70_30))
    assert st.total == Decimal("2400.00") and st.revenue == Decimal("24000.00")
    with pytest.raises(DataError) as info:
        rk.commission_statement(ds, "sdr", "FY2025-Q1", params, splits=splits([("D", "ae", "0.7", "revenue")]))
    assert "splits, row 2, column 'share': value 'D: 0.7'" in str(info.value)


def test_an_ownerless_deal_in_an_uncovered_territory_that_a_revenue_split_credits_is_not_refused(make_dataset):
    from reportkit.domain.crediting import credited_deals, ownerless_uncredited

    ds = make_dataset(
        ams=[("A1", "Alice", "East", None, None), ("A2", "Bob", "East", None, None)],
        territories=[("A1", "North")],
        crediting="territory",
        first_month=1,
        deals=[
            ("D1", None, "C1", "2025-04-10", 10_000_00, "won", "Atlantis"),
            ("D2", None, "C1", "2025-04-11", 5_00, "won", None),
        ],
    )
    ds = dataclasses.replace(ds, splits=splits([("D1", "A1", "0.5", "revenue"), ("D1", "A2", "0.5", "revenue")]))
    assert ownerless_uncredited(ds).tolist() == [1]  # D2 credits nobody; D1 credits its split
    c = credited_deals(ds)
    assert c.loc[c["deal_id"] == "D1", "credit_cents"].tolist() == [5_000_00, 5_000_00]
