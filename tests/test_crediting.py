"""Which deals credit which account manager; team revenue counts each deal once."""

from __future__ import annotations

import pandas as pd
from conftest import build_dataset
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reportkit.domain.crediting import CREDIT_COLUMNS, credited_deals, crediting_overlaps, team_revenue

AMS = [("A1", "Alice", "East", None, None), ("A2", "Bob", "East", None, None), ("A3", "Carol", "West", None, None)]


def test_owner_crediting_credits_each_won_deal_to_its_owner_once(make_dataset):
    ds = make_dataset(
        ams=AMS,
        deals=[
            ("D1", "A1", "C1", "2025-01-05", 100_00),
            ("D2", "A2", "C2", "2025-01-06", 50_00),
            ("D3", "A1", "C1", "2025-01-07", 70_00, "lost"),
        ],
    )
    c = credited_deals(ds)
    assert list(c.columns) == list(CREDIT_COLUMNS)
    assert c[["deal_id", "account_manager_id", "credit_cents"]].values.tolist() == [["D1", "A1", 100_00], ["D2", "A2", 50_00]]
    assert set(c["credit_type"]) == {"owner"}


def test_territory_overlay_credits_every_am_of_the_territory_in_full(make_dataset):
    ds = make_dataset(
        ams=AMS,
        deals=[("D1", None, "C1", "2025-01-05", 100_00, "won", "North"), ("D2", "A3", "C2", "2025-01-06", 40_00, "won", None)],
        territories=[("A1", "North"), ("A2", "North"), ("A3", "South")],
        crediting="territory",
    )
    c = credited_deals(ds)
    d1 = c.loc[c["deal_id"] == "D1"]
    assert sorted(d1["account_manager_id"]) == ["A1", "A2"]
    assert (d1["credit_cents"] == 100_00).all()
    # a deal with no territory falls back to its owner
    d2 = c.loc[c["deal_id"] == "D2"]
    assert d2[["account_manager_id", "credit_type"]].values.tolist() == [["A3", "owner"]]


def test_deals_before_the_account_handover_date_credit_nobody(make_dataset):
    ds = make_dataset(
        ams=AMS,
        deals=[
            ("D1", "A1", "C1", "2025-01-05", 100_00),
            ("D2", "A1", "C1", "2025-03-01", 30_00),
            ("D3", "A1", "C2", "2024-01-01", 5_00),
        ],
        accounts=[("C1", "Contoso", "A1", "2025-03-01"), ("C2", "Fabrikam", "A1", None)],
    )
    assert sorted(credited_deals(ds)["deal_id"]) == ["D2", "D3"]


def test_team_revenue_counts_an_overlaid_deal_once(make_dataset):
    ds = make_dataset(
        ams=AMS,
        deals=[
            ("D1", None, "C1", "2025-01-05", 100_00, "won", "North"),
            ("D2", None, "C1", "2025-01-06", -20_00, "won", "North"),
        ],
        territories=[("A1", "North"), ("A2", "North")],
        crediting="territory",
    )
    c = credited_deals(ds)
    assert crediting_overlaps(c, ["A1", "A2"])
    assert not crediting_overlaps(c, ["A1"])
    assert team_revenue(c, ["A1", "A2"]) == 80_00
    assert team_revenue(c, ["A1"]) == 80_00
    assert team_revenue(c, ["A3"]) == 0


deal_rows = st.lists(
    st.tuples(st.sampled_from(["A1", "A2", "A3"]), st.integers(-(10**7), 10**8), st.integers(1, 28)),
    max_size=25,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=deal_rows, team=st.sets(st.sampled_from(["A1", "A2", "A3"]), min_size=1))
def test_team_revenue_equals_sum_of_members_without_overlap(rows, team):
    deals = [(f"D{i}", am, "C1", f"2025-02-{day:02d}", amt) for i, (am, amt, day) in enumerate(rows)]
    c = credited_deals(build_dataset(ams=AMS, deals=deals))
    members = sorted(team)
    assert not crediting_overlaps(c, members)
    by_member = sum(int(c.loc[c["account_manager_id"] == m, "credit_cents"].sum()) for m in members)
    assert team_revenue(c, members) == by_member


def test_credited_deals_carry_owner_territory_and_product_as_text_with_blanks_missing(make_dataset):
    ds = make_dataset(
        ams=AMS,
        deals=[
            ("D1", "A1", "C1", "2025-01-05", 100_00, "won", "North"),
            ("D2", "A2", "C2", "2025-01-06", 50_00, "won", None),
        ],
        territories=[("A3", "North")],
        crediting="territory",
    )
    c = credited_deals(ds).set_index("deal_id")
    assert c.loc["D1", "account_manager_id"] == "A3" and c.loc["D1", "owner_id"] == "A1"
    assert c.loc["D1", "territory"] == "North" and pd.isna(c.loc["D2", "territory"])
    assert c["product"].tolist() == ["Widget", "Widget"]
    assert {str(c[col].dtype) for col in ("owner_id", "territory", "product")} == {"str"}


def test_credited_deals_of_a_data_set_without_territories_keep_an_empty_object_territory_column(make_dataset):
    ds = make_dataset(ams=AMS, deals=[("D1", "A1", "C1", "2025-01-05", 100_00)])
    c = credited_deals(ds)
    assert c["territory"].dtype == object and c["territory"].isna().all()


def test_group_credits_keeps_the_members_rows_with_only_the_columns_a_groups_figures_read():
    from reportkit.domain.crediting import GROUP_COLUMNS, group_credits, team_revenue

    ds = build_dataset(
        [("A1", "Alice", "East", None, None), ("A2", "Bob", "East", None, None), ("A3", "Carol", "West", None, None)],
        [
            ("D1", "A1", "C1", "2025-01-10", 100_00, "won"),
            ("D2", "A2", "C1", "2025-02-10", 250_00, "won"),
            ("D3", "A3", "C2", "2025-02-11", 40_00, "won"),
        ],
    )
    credited = credited_deals(ds)
    east = group_credits(credited, ["A1", "A2"])
    assert list(east.columns) == list(GROUP_COLUMNS)
    assert east["deal_id"].tolist() == ["D1", "D2"]
    assert team_revenue(east, ["A1", "A2"]) == team_revenue(credited, ["A1", "A2"]) == 350_00


def test_credited_in_keeps_the_rows_closed_in_the_window_inclusive_for_the_account_managers_asked_and_no_nat():
    import datetime

    import numpy as np

    from reportkit.domain.crediting import credited_in

    credited = pd.DataFrame(
        {
            "account_manager_id": ["A1", "A2", "A1", "A1", None, "A1"],
            "close_date": pd.to_datetime(["2025-01-01", "2025-01-15", "2025-01-31", "2025-02-01", "2025-01-10", None]),
            "credit_micros": np.arange(6, dtype="int64"),
        },
        index=[10, 11, 12, 13, 14, 15],
    ).astype({"account_manager_id": "str"})
    jan = (datetime.date(2025, 1, 1), datetime.date(2025, 1, 31))
    assert credited_in(credited, *jan).index.tolist() == [10, 11, 12, 14]
    assert credited_in(credited, *jan, "A1").index.tolist() == [10, 12]
    assert credited_in(credited, None, jan[1], ["A2", "A9"]).index.tolist() == [11]
    assert credited_in(credited, jan[1], None).index.tolist() == [12, 13]
    assert credited_in(credited, None, None).index.tolist() == credited.index.tolist()
    pd.testing.assert_frame_equal(credited_in(credited, *jan, "A1"), credited.loc[[10, 12]])


deal_lines = st.lists(
    st.tuples(
        st.sampled_from(["A1", "A2", "A3", None]),  # owner
        st.integers(1, 4),  # day of February
        st.sampled_from(["North", "South", None]),  # territory
        st.sampled_from(["won", "won", "lost"]),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=deal_lines,
    crediting=st.sampled_from(["owner", "territory"]),
    time_of_day=st.sampled_from(["00:00:00", "09:30:00"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_credited_deals_are_ordered_by_date_deal_and_manager_whatever_the_order_of_the_deals_rows(
    lines, crediting, time_of_day, seed
):
    """Ids in order (ranked by position), reversed, or shuffled (ranked by a sort); whole days (one packed
    sort) or times of day (lexsort): the same frame, ordered by close date, deal id, account manager id."""
    import numpy as np

    deals = [
        (f"D{i:03d}", am, "C1", f"2025-02-0{day}T{time_of_day}", 100_00 + i, stage, territory)
        for i, (am, day, territory, stage) in enumerate(lines)
    ]
    shuffled = [deals[i] for i in np.random.default_rng(seed).permutation(len(deals))]
    territories = [("A1", "North"), ("A2", "North"), ("A3", "South")]
    frames = [
        credited_deals(build_dataset(ams=AMS, deals=rows, territories=territories, crediting=crediting))
        for rows in (deals, deals[::-1], shuffled)
    ]
    c = frames[0]
    keys = list(zip(c["close_date"], c["deal_id"], c["account_manager_id"]))
    assert keys == sorted(keys)
    assert len(c) >= sum(1 for d in deals if d[5] == "won" and d[1] is not None)  # every owned won deal at least once
    for other in frames[1:]:
        pd.testing.assert_frame_equal(other, c, check_exact=True)


@settings(max_examples=100, deadline=None)
@given(
    lines=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 5), st.integers(0, 2)), min_size=1, max_size=40),
)
def test_packed_order_is_lexsorts_stable_order_of_day_deal_and_manager(lines):
    import numpy as np

    from reportkit.domain.crediting import _packed_order

    day, deal, am = (np.asarray(c, dtype=np.int64) for c in zip(*lines))
    got = _packed_order(day + 20_000, deal, am, 6, 3)  # repeated lines keep their order, as lexsort's
    assert got.tolist() == np.lexsort((am, deal, day)).tolist()
    assert _packed_order(day, deal, am, 2**50, 2**20) is None  # too wide for one int64: the caller lexsorts


@settings(max_examples=100, deadline=None)
@given(
    cells=st.one_of(
        st.lists(st.sampled_from(["a", "ç", "", None]), min_size=64, max_size=200),  # few distinct: by dictionary codes
        st.lists(st.text(max_size=3) | st.none(), min_size=2, max_size=40),  # many: a plain take
    ),
    picks=st.lists(st.integers(0, 10**6), max_size=60),
    arrow=st.booleans(),
)
def test_text_taken_by_its_dictionary_codes_equals_a_plain_take(cells, picks, arrow):
    import numpy as np

    from reportkit.domain.crediting import _take_text

    values = pd.Series(cells, dtype="str" if arrow else object)
    rows = np.asarray([p % len(cells) for p in picks], dtype=np.int64)
    pd.testing.assert_series_equal(_take_text(values, rows), values.take(rows).reset_index(drop=True), check_exact=True)
    missing = pd.Series([None] * len(cells), dtype="str")
    pd.testing.assert_series_equal(_take_text(missing, rows), missing.take(rows).reset_index(drop=True), check_exact=True)
