"""Quota per period and attainment."""

from __future__ import annotations

import math
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reportkit.config.params import QuotaRule
from reportkit.core.money import allocate
from reportkit.core.periods import FiscalCalendar, Period
from reportkit.domain.crediting import credited_deals, credited_revenue
from reportkit.domain.quota import attainment, attainment_series, attainment_table, quota_for, quotas_from_rule, split_quotas

CAL = FiscalCalendar(first_month=7)


def P(label: str) -> Period:
    return Period.parse(label, CAL)


def test_quarterly_row_is_the_quarter_quota(make_dataset, make_quotas):
    ds = make_dataset(quotas=make_quotas("A1", 2025, 100_000_00))
    assert quota_for(ds.quotas, "A1", P("FY2025-Q3")) == 100_000_00
    assert quota_for(ds.quotas, "A1", P("FY2025")) == 400_000_00


def test_no_quota_row_is_none_not_zero(make_dataset, make_quotas):
    ds = make_dataset(quotas=make_quotas("A1", 2025, 100_000_00))
    assert quota_for(ds.quotas, "A1", P("FY2026-Q1")) is None
    assert quota_for(ds.quotas, "A2", P("FY2025-Q1")) is None


def test_zero_quota_row_is_zero(make_dataset):
    ds = make_dataset(quotas=[("A1", "2024-07-01", "2024-09-30", 0)])
    assert quota_for(ds.quotas, "A1", P("FY2025-Q1")) == 0


def test_yearly_row_gives_each_quarter_an_allocated_quarter_summing_to_the_year(make_dataset):
    ds = make_dataset(quotas=[("A1", "2024-07-01", "2025-06-30", 100_003)])
    parts = [quota_for(ds.quotas, "A1", P(f"FY2025-Q{n}")) for n in range(1, 5)]
    assert parts == allocate(100_003, [1, 1, 1, 1])
    assert sum(parts) == 100_003


def test_yearly_row_split_to_months_sums_to_each_quarter_and_the_year(make_dataset):
    ds = make_dataset(quotas=[("A1", "2024-07-01", "2025-06-30", 100_003)])
    months = [quota_for(ds.quotas, "A1", Period(CAL, "month", 2025, m)) for m in range(1, 13)]
    assert sum(months) == 100_003
    q1 = quota_for(ds.quotas, "A1", P("FY2025-Q1"))
    assert sum(months[:3]) == q1


def test_monthly_rows_add_up_to_the_quarter(make_dataset):
    rows = [
        ("A1", "2024-07-01", "2024-07-31", 10_00),
        ("A1", "2024-08-01", "2024-08-31", 20_00),
        ("A1", "2024-09-01", "2024-09-30", 30_00),
    ]
    ds = make_dataset(quotas=rows)
    assert quota_for(ds.quotas, "A1", P("FY2025-Q1")) == 60_00
    assert quota_for(ds.quotas, "A1", P("FY2025-M02")) == 20_00


def test_unaligned_row_is_split_by_days_and_sums_to_the_row(make_dataset):
    # 2024-09-01 .. 2024-10-31: 30 days in Q1, 31 days in Q2
    ds = make_dataset(quotas=[("A1", "2024-09-01", "2024-10-31", 61_00)])
    q1 = quota_for(ds.quotas, "A1", P("FY2025-Q1"))
    q2 = quota_for(ds.quotas, "A1", P("FY2025-Q2"))
    assert (q1, q2) == (30_00, 31_00)


def test_split_quotas_matches_quota_for(make_dataset):
    ds = make_dataset(quotas=[("A1", "2024-07-01", "2025-06-30", 999_99), ("A1", "2024-07-01", "2024-07-31", 1_00)])
    split = split_quotas(ds.quotas, CAL, "quarter").set_index("period")["quota_cents"]
    for n in range(1, 5):
        assert split[f"FY2025-Q{n}"] == quota_for(ds.quotas, "A1", P(f"FY2025-Q{n}"))


@pytest.mark.parametrize(
    "revenue, quota, expected",
    [(150_00, 100_00, 1.5), (0, 100_00, 0.0), (-50_00, 100_00, -0.5), (80_00, 100_00, 0.8)],
)
def test_attainment_is_revenue_over_quota(revenue, quota, expected):
    assert attainment(revenue, quota) == pytest.approx(expected)


@given(revenue=st.integers(-(10**12), 10**12), quota=st.one_of(st.none(), st.integers(0, 10**12)))
def test_attainment_undefined_iff_quota_missing_or_zero(revenue, quota):
    a = attainment(revenue, quota)
    assert math.isnan(a) == (quota is None or quota == 0)
    s = attainment_series(pd.Series([revenue]), pd.Series([quota], dtype="Int64"))
    assert math.isnan(s.iloc[0]) == (quota is None or quota == 0)


def test_fixed_rule_per_quarter_gives_every_am_the_amount(make_dataset):
    ds = make_dataset(ams=[("A1", "Alice", "East", None, None), ("00731", "Bo", "East", None, None)])
    q = quotas_from_rule(ds, QuotaRule(kind="fixed", amount=Decimal("1000.00"), per="quarter"), [2025])
    assert len(q) == 8
    assert set(q["quota_cents"]) == {100_000}
    assert "00731" in set(q["account_manager_id"])
    assert quota_for(q, "00731", P("FY2025")) == 400_000


def test_fixed_rule_per_year_is_split_evenly_and_sums_to_the_year(make_dataset):
    ds = make_dataset()
    q = quotas_from_rule(ds, QuotaRule(kind="fixed", amount=Decimal("1000.03"), per="year"), [2025])
    assert q["quota_cents"].tolist() == allocate(100_003, [1, 1, 1, 1])


def test_prior_year_growth_uses_same_quarter_last_year_else_the_amount(make_dataset):
    ds = make_dataset(deals=[("D1", "A1", "C1", "2023-08-01", 10_000_00), ("D2", "A1", "C1", "2023-08-02", 333)])
    rule = QuotaRule(kind="prior_year_growth", amount=Decimal("500.00"), growth=Decimal("0.10"))
    q = quotas_from_rule(ds, rule, [2025, 2024])
    # deals of 2023-08 are in FY2024-Q1, so FY2025-Q1 quota = 10,003.33 * 1.1 = 11,003.663 -> 11,003.66
    assert quota_for(q, "A1", P("FY2025-Q1")) == 1_100_366
    assert quota_for(q, "A1", P("FY2025-Q2")) == 500_00  # no history: the amount
    assert quota_for(q, "A1", P("FY2024-Q1")) == 500_00  # FY2023-Q1 has no deals


def test_attainment_table_from_every_credit_grouped_once_equals_its_own_grouping(tiny_dataset):
    # a batch groups every credit once (ReportContext.quarter_revenue) and each report reads its ids from it
    credited = credited_deals(tiny_dataset)
    quarters = P("FY2025-Q4").quarters_to_date()
    until = quarters[-1].start
    every = credited_revenue(credited, CAL, "quarter", until=until)
    for ids in (["A1"], ["A2", "A1"], ["ZZ"], ["A1", "A2", "ZZ"]):
        own = attainment_table(credited, tiny_dataset.quotas, ids, quarters, until=until)
        shared = attainment_table(credited.iloc[0:0], tiny_dataset.quotas, ids, quarters, until=until, revenue=every)
        pd.testing.assert_frame_equal(shared, own)
        assert own["revenue_cents"].sum() > 0 or ids == ["ZZ"]


def _joined(grid_of: pd.DataFrame, revenue: pd.DataFrame, quotas: pd.DataFrame) -> pd.DataFrame:
    """The two left joins attainment_table looks its columns up in place of (the reference)."""
    keys = ["account_manager_id", "period"]
    g = grid_of[[*keys, "period_start", "period_end"]].merge(revenue[[*keys, "revenue_cents"]], on=keys, how="left")
    g = g.merge(quotas, on=keys, how="left")
    g["revenue_cents"] = g["revenue_cents"].fillna(0).astype("int64")
    g["quota_cents"] = g["quota_cents"].astype("Int64")
    return g


def test_attainment_table_looks_up_the_same_rows_as_left_joins_and_a_quarter_with_two_quota_rows_gets_two(tiny_dataset):
    credited = credited_deals(tiny_dataset)
    quarters = P("FY2025-Q4").quarters_to_date()
    revenue = credited_revenue(credited, CAL, "quarter")
    split = split_quotas(tiny_dataset.quotas, CAL, "quarter")
    for ids in (["A1", "A2", "ZZ"], ["A1", "A1"], ["ZZ"]):
        t = attainment_table(credited, tiny_dataset.quotas, ids, quarters, quarter_quotas=split, revenue=revenue)
        pd.testing.assert_frame_equal(t.drop(columns="attainment"), _joined(t, revenue, split))
    twice = pd.concat([split, split.loc[(split["account_manager_id"] == "A1").to_numpy()]], ignore_index=True)
    t = attainment_table(credited, tiny_dataset.quotas, ["A1", "A2"], quarters, quarter_quotas=twice, revenue=revenue)
    assert len(t) == 2 * len(quarters) + len(quarters)  # A1's quarters once per quota row, as the joins give
    grid = t.drop_duplicates(["account_manager_id", "period"])
    pd.testing.assert_frame_equal(t.drop(columns="attainment"), _joined(grid, revenue, twice))


def test_attainment_table_matches_the_scalar_functions(tiny_dataset):
    credited = credited_deals(tiny_dataset)
    quarters = P("FY2025-Q4").quarters_to_date()
    t = attainment_table(credited, tiny_dataset.quotas, ["A1", "A2", "ZZ"], quarters)
    assert len(t) == 12
    for row in t.itertuples():
        q = Period.parse(row.period, CAL)
        expected_quota = quota_for(tiny_dataset.quotas, row.account_manager_id, q)
        assert (None if pd.isna(row.quota_cents) else int(row.quota_cents)) == expected_quota
        rev = int(
            credited.loc[
                (credited["account_manager_id"] == row.account_manager_id) & q.mask(credited["close_date"]), "credit_cents"
            ].sum()
        )
        assert row.revenue_cents == rev
        exp = attainment(rev, expected_quota)
        assert (math.isnan(row.attainment) and math.isnan(exp)) or row.attainment == pytest.approx(exp)
