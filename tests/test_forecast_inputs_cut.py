"""Credit once, cut the rows: the backtest's revenue at a cutoff is the whole data set's credits up to it.

The rule (``reportkit.domain.forecast_inputs``, docstring; ``docs/forecasting.md``,
"Speed and memory"): every crediting rule decides a deal's credits from that deal's
row and the tables, so crediting the deals closed by a cutoff gives the same rows as
crediting every deal and keeping those closed by the cutoff.
"""

from __future__ import annotations

import dataclasses
import datetime

import numpy as np
import pandas as pd
from conftest import build_dataset
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reportkit.domain.crediting import credited_deals
from reportkit.domain.forecast_inputs import LEVELS, level_revenue, level_revenues, revenue_through

AMS = [("A1", "Alice", "East", None, None), ("A2", "Bob", "East", None, None), ("A3", "Carol", "West", None, None)]
TERRITORIES = [("A1", "North"), ("A2", "North"), ("A3", "South")]
ACCOUNTS = [("C1", "Contoso", "A1", "2025-03-01"), ("C2", "Fabrikam", "A2", None)]

# (owner or None, account, day of 2025-01-01 .. 2025-07-30, amount in cents (a return is negative), territory or None)
deal_rows = st.lists(
    st.tuples(
        st.sampled_from(["A1", "A2", "A3", None]),
        st.sampled_from(["C1", "C2"]),
        st.integers(0, 210),
        st.integers(-(10**7), 10**8),
        st.sampled_from(["North", "South", "East", None]),
        st.sampled_from(["won", "won", "lost"]),
    ),
    max_size=30,
)
# revenue splits of some deals: (deal index, first share in ppm of 1,000,000, the two account managers)
split_rows = st.lists(
    st.tuples(st.integers(0, 29), st.integers(1, 999_999), st.sampled_from([("A1", "A2"), ("A2", "A3"), ("A3", "A1")])),
    max_size=5,
    unique_by=lambda t: t[0],
)


def data_set(rows, splits, crediting):
    start = datetime.date(2025, 1, 1)
    deals = [
        (
            f"D{i:02d}",
            am if am or crediting == "territory" else "A1",
            acc,
            str(start + datetime.timedelta(days=d)),
            amt,
            stage,
            terr,
        )
        for i, (am, acc, d, amt, terr, stage) in enumerate(rows)
    ]
    ds = build_dataset(ams=AMS, deals=deals, accounts=ACCOUNTS, territories=TERRITORIES, crediting=crediting)
    sp = [
        (f"D{i:02d}", a, f"{ppm / 1e6:.6f}", "revenue") if k == 0 else (f"D{i:02d}", b, f"{1 - ppm / 1e6:.6f}", "revenue")
        for i, ppm, (a, b) in splits
        if i < len(rows)
        for k in (0, 1)
    ]
    if sp and crediting == "owner":
        ds = dataclasses.replace(ds, splits=pd.DataFrame(sp, columns=["deal_id", "account_manager_id", "share", "kind"]))
    return ds


def as_it_stood(ds, cutoff):
    """The data set as it stood at ``cutoff``: the deals closed on or before it."""
    keep = (ds.deals["close_date"] <= np.datetime64(cutoff, "ns")).to_numpy()
    return dataclasses.replace(ds, deals=ds.deals.loc[keep].reset_index(drop=True))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=deal_rows,
    splits=split_rows,
    crediting=st.sampled_from(["owner", "territory"]),
    cutoff_day=st.integers(-1, 211),
)
def test_crediting_the_data_cut_at_a_cutoff_gives_the_whole_datas_credits_up_to_it(rows, splits, crediting, cutoff_day):
    ds = data_set(rows, splits, crediting)
    cutoff = datetime.date(2025, 1, 1) + datetime.timedelta(days=cutoff_day)
    whole = credited_deals(ds)
    up_to = whole.loc[(whole["close_date"] <= np.datetime64(cutoff, "ns")).to_numpy()].reset_index(drop=True)
    cut_credits = credited_deals(as_it_stood(ds, cutoff))
    # the columns the revenue rows are made of, exactly (pandas types an all-blank text column such
    # as ``territory`` by its values, so the other columns may differ in type, never in value)
    read = ["deal_id", "account_manager_id", "close_date", "amount_cents", "credit_cents", "amount_micros", "credit_micros"]
    assert len(cut_credits) == len(up_to)
    if len(up_to):
        pd.testing.assert_frame_equal(cut_credits[read], up_to[read], check_exact=True)
    once = level_revenues(ds)
    for level in LEVELS:
        cut = level_revenue(credited_deals(as_it_stood(ds, cutoff)), level, ds.account_managers)
        pd.testing.assert_frame_equal(revenue_through(once[level], cutoff), per_day(cut), check_exact=True)


def per_day(rows: pd.DataFrame) -> pd.DataFrame:
    """``level_revenue`` rows summed per day and entity, as ``level_revenues`` keeps them (by day, then entity)."""
    g = rows.groupby(["close_date", "entity"], sort=True)[["cents", "micros"]].sum().reset_index()
    out = g[["entity", "close_date", "cents", "micros"]].astype({"entity": "str", "cents": "int64", "micros": "int64"})
    return out.astype({"close_date": "datetime64[ns]"}) if len(out) else level_revenue(rows.iloc[:0], "company")


def test_an_overlay_deal_after_the_cutoff_leaves_no_credit_and_its_team_row_goes_with_it():
    ds = data_set([(None, "C2", 10, 100_00, "North", "won"), (None, "C2", 100, 50_00, "North", "won")], [], crediting="territory")
    team = revenue_through(level_revenues(ds)["team"], datetime.date(2025, 2, 1))
    assert team[["entity", "close_date", "cents"]].values.tolist() == [["East", pd.Timestamp("2025-01-11"), 100_00]]


def test_level_revenues_from_the_callers_credits_are_the_same_rows_as_crediting_again():
    # a batch's report context holds credited_deals(ds) already; the backtest reads those (docs/batch.md, memory)
    ds = data_set(
        [
            ("A1", "C2", 5, 100_00, "South", "won"),
            (None, "C2", 10, 250_00, "North", "won"),
            ("A3", "C2", 20, -40_00, None, "won"),
        ],
        [],
        crediting="territory",
    )
    given = level_revenues(ds, credited=credited_deals(ds))
    for level, frame in level_revenues(ds).items():
        pd.testing.assert_frame_equal(given[level], frame, check_exact=True)
        rows = level_revenue(credited_deals(ds), level, ds.account_managers)
        pd.testing.assert_frame_equal(frame, per_day(rows), check_exact=True)
    # the overlay deal D01 credits A1 and A2 (both East): once for the team and the company, twice for the people
    assert given["account_manager"][["entity", "cents"]].values.tolist() == [
        ["A3", 100_00],
        ["A1", 250_00],
        ["A2", 250_00],
        ["A3", -40_00],
    ]
    assert given["team"][["entity", "cents"]].values.tolist() == [["West", 100_00], ["East", 250_00], ["West", -40_00]]
    assert given["company"]["cents"].tolist() == [100_00, 250_00, -40_00]
