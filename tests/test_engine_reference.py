"""The vectorised engine against a slow, obviously-correct reference (pure Python, Decimal).

Random small books (owner deals, returns, 60/40-style revenue splits, overlay splits,
ties on close date) through marginal and retroactive tiers, on amount and attainment
bases. The reference walks each AM's pay period deal by deal in (close date, deal id)
order, cuts credits at the tier bounds with Python ints and rounds every line with
``money.round_money``; per-line amounts and per-period commission must match exactly.
"""

from __future__ import annotations

import math
from decimal import Decimal

import pandas as pd
from engine_helpers import dataset, plan, run
from hypothesis import given, settings
from hypothesis import strategies as st

from reportkit.config.plans import PPM, ppm
from reportkit.core.money import allocate, round_money

AMS = ["a", "b", "c"]
QUOTA = {"a": 5_000_000, "b": 0, "c": 12_345_678}  # cents per quarter; b has no quota
DATES = ["2025-01-05", "2025-01-05", "2025-02-10", "2025-03-31", "2025-04-01", "2025-05-20"]

deal_st = st.tuples(st.sampled_from(AMS), st.sampled_from(DATES), st.integers(-300_000, 4_000_000))
split_st = st.tuples(
    st.integers(0, 40),
    st.sampled_from(AMS),
    st.sampled_from(["0.6", "0.333333", "0.25"]),
    st.sampled_from(["revenue", "overlay"]),
)


def reference(deals, splits, p):
    """{(am, quarter): [(deal_id, credit_cents, tier, amount_cents), ...]} in statement order."""
    # crediting order (the tie-break after close date and deal id): split rows in their
    # order, then owner credits in deal order
    credits = []  # (am, date, deal_id, credit)
    by_id = {d[0]: d for d in deals}
    rev, alloc = {}, {}
    for i, s in enumerate(splits):
        if s[3] == "revenue":
            rev.setdefault(s[0], []).append(i)
    for did, rows in rev.items():
        alloc.update(zip(rows, allocate(by_id[did][3], [splits[i][2] for i in rows])))
    for i, (did, am, share, kind) in enumerate(splits):
        _, _, date, amt = by_id[did]
        if kind == "overlay":
            credits.append((am, date, did, int(round_money(Decimal(amt) * Decimal(share) / 100) * 100)))
        else:
            credits.append((am, date, did, alloc[i]))
    for did, am, date, amt in deals:
        if did not in rev:
            credits.append((am, date, did, amt))
    rs = p.rates
    rates = [ppm(t.rate) for t in rs.tiers]
    out = {}
    for am in AMS:
        for q in (1, 2):
            rows = sorted((c for c in credits if c[0] == am and (c[1] < "2025-04-01") == (q == 1)), key=lambda c: (c[1], c[2]))
            quota = QUOTA[am]
            if rs.basis == "amount":
                bounds = [int(t.lo * 100) for t in rs.tiers]
            else:
                bounds = [0] + [(-(-ppm(t.lo) * quota // PPM)) if quota > 0 else 2**62 for t in rs.tiers[1:]]
            bounds[0] = -(2**62)
            total = sum(c[3] for c in rows)
            lines, cum = [], 0
            for c in rows:
                before, after = cum, cum + c[3]
                cum = after
                if rs.method == "retroactive":
                    k = max(i for i, b in enumerate(bounds) if total >= b)
                    lines.append((c[2], c[3], k + 1, c[3] * rates[k]))
                    continue
                sl = []
                for k, lo in enumerate(bounds):
                    hi = bounds[k + 1] if k + 1 < len(bounds) else 2**62
                    x = min(max(after, lo), hi) - min(max(before, lo), hi)
                    if x:
                        sl.append((c[2], x, k + 1, x * rates[k]))
                if not sl:
                    k = max(i for i, b in enumerate(bounds) if after >= b)
                    sl = [(c[2], 0, k + 1, 0)]
                lines += sl
            # exact ppm product -> cents, half away from zero (money.round_money on the cents value)
            out[(am, q)] = [(d, cr, t, int(round_money(Decimal(a) / PPM / 100) * 100)) for d, cr, t, a in lines]
    return out


@settings(max_examples=30, deadline=None)
@given(
    st.lists(deal_st, min_size=1, max_size=40),
    st.lists(split_st, max_size=8),
    st.sampled_from(["marginal", "retroactive"]),
    st.sampled_from(["amount", "attainment"]),
)
def test_engine_matches_slow_reference(raw_deals, raw_splits, method, basis):
    deals = [(f"d{i:02d}" if i % 3 else f"z{i}", am, date, amt) for i, (am, date, amt) in enumerate(raw_deals)]
    splits, seen = [], set()
    for k, am, share, kind in raw_splits:
        did = deals[k % len(deals)][0]
        if kind == "revenue":
            if did in seen:
                continue
            seen.add(did)
            w = Decimal(share)
            splits += [(did, am, str(w), "revenue"), (did, AMS[(AMS.index(am) + 1) % 3], str(1 - w), "revenue")]
        else:
            splits.append((did, am, share, "overlay"))
    tiers = (
        [{"from": 0, "rate": "0.04"}, {"from": "20000.00", "rate": "0.08"}, {"from": "45000.00", "rate": "0.125"}]
        if basis == "amount"
        else [{"from": 0, "rate": "0.04"}, {"from": "0.5", "rate": "0.08"}, {"from": "1.0", "rate": "0.125"}]
    )
    p = plan(rates={"method": method, "basis": basis, "tiers": tiers})
    ds = dataset(
        [(d, am, date, str(Decimal(amt).scaleb(-2)), "P") for d, am, date, amt in deals],
        [
            (am, s, e, str(Decimal(QUOTA[am]).scaleb(-2)))
            for am in AMS
            for s, e in (("2025-01-01", "2025-03-31"), ("2025-04-01", "2025-06-30"))
        ],
    )
    sp = pd.DataFrame(splits, columns=["deal_id", "account_manager_id", "share", "kind"]) if splits else None
    res = run(p, ds, "FY2025-Q2", splits=sp)
    ref = reference(deals, splits, p)
    for (am, q), want in ref.items():
        st_ = res.statement(am, f"FY2025-Q{q}")
        com = st_.loc[st_["kind"] == "commission"]
        got = [
            (d, int(c * 100), t, int(a * 100)) for d, c, t, a in zip(com["deal_id"], com["credit"], com["tier"], com["amount"])
        ]
        assert got == want, (am, q)
        s = res.summary
        total = s.loc[(s["account_manager_id"] == am) & (s["period"] == f"FY2025-Q{q}"), "commission_cents"].iloc[0]
        assert int(total) == sum(w[3] for w in want)
        assert not math.isinf(s["attainment"].fillna(0).max())


# ---------------------------------------------------------------------------
# clawback methods (clawback group, issue #13): a slow reference of rate_paid, restate
# and negative_deal; self-contained (one AM, amount tiers, a Q1 deal cancelled in Q2)
# ---------------------------------------------------------------------------
CLAW_TIERS = [{"from": 0, "rate": "0.04"}, {"from": "20000.00", "rate": "0.08"}, {"from": "45000.00", "rate": "0.125"}]
CLAW_Q1_DATES = ["2025-01-05", "2025-02-10", "2025-02-10", "2025-03-31"]
CLAW_Q2_DATES = ["2025-04-01", "2025-05-05", "2025-06-30"]


def _claw_reference_lines(credits, method):
    """Rate-schedule lines of one pay period: credits ``(date, deal_id, order, cents)`` -> ``[(deal_id, cents)]``.

    Ledger order (close date, deal id, crediting order: a cancellation after its deal);
    per_period running total cut at the bounds (marginal) or the period total's tier for
    every line (retroactive); each line rounded half away from zero with ``round_money``.
    """
    bounds = [-(2**62)] + [int(Decimal(t["from"]) * 100) for t in CLAW_TIERS[1:]]
    rates = [ppm(Decimal(t["rate"])) for t in CLAW_TIERS]
    rows = sorted(credits)
    total, cum, out = sum(c[3] for c in rows), 0, []
    for _, did, _, cr in rows:
        before, after = cum, cum + cr
        cum = after
        if method == "retroactive":
            k = max(i for i, b in enumerate(bounds) if total >= b)
            out.append((did, cr * rates[k]))
            continue
        for k, lo in enumerate(bounds):
            hi = bounds[k + 1] if k + 1 < len(bounds) else 2**62
            x = min(max(after, lo), hi) - min(max(before, lo), hi)
            if x:
                out.append((did, x * rates[k]))
    return [(d, int(round_money(Decimal(a) / PPM / 100) * 100)) for d, a in out]


def claw_reference(q1, q2, cancelled, cancel_cents, claw_method, method):
    """Expected Q2 booking of a Q1 deal's cancellation (cents): ``(kind, amount)`` of the clawback, or Q2 commission."""
    c1 = [(date, did, 0, amt) for did, date, amt in q1]
    c2 = [(date, did, 0, amt) for did, date, amt in q2]
    x_date, x_amt = next((date, amt) for did, date, amt in q1 if did == cancelled)
    paid_q1 = _claw_reference_lines(c1, method)
    if claw_method == "rate_paid":
        paid = sum(a for d, a in paid_q1 if d == cancelled)
        return "clawback", -int(round_money(Decimal(paid) * cancel_cents / x_amt / 100) * 100)
    if claw_method == "restate":
        restated = _claw_reference_lines(c1 + [(x_date, cancelled, 1, -cancel_cents)], method)
        return "prior_period_adjustment", sum(a for _, a in restated) - sum(a for _, a in paid_q1)
    q2_lines = _claw_reference_lines(c2 + [("2025-05-05", cancelled, 1, -cancel_cents)], method)
    return "commission", sum(a for _, a in q2_lines)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(CLAW_Q1_DATES), st.integers(1, 3_000_000)), min_size=1, max_size=8),
    st.lists(st.tuples(st.sampled_from(CLAW_Q2_DATES), st.integers(-200_000, 3_000_000)), max_size=6),
    st.integers(0, 7),
    st.one_of(st.none(), st.integers(1, 3_000_000)),
    st.sampled_from(["rate_paid", "restate", "negative_deal"]),
    st.sampled_from(["marginal", "retroactive"]),
)
def test_clawback_methods_match_slow_reference(raw_q1, raw_q2, pick, partial, claw_method, method):
    q1 = [(f"q1-{i}", date, amt) for i, (date, amt) in enumerate(raw_q1)]
    q2 = [(f"q2-{i}", date, amt) for i, (date, amt) in enumerate(raw_q2)]
    cancelled, _, x_amt = q1[pick % len(q1)]
    cancel_cents = x_amt if partial is None else min(partial, x_amt)
    p = plan(rates={"method": method, "basis": "amount", "tiers": CLAW_TIERS}, clawback={"method": claw_method})
    ds = dataset([(d, "a", date, str(Decimal(amt).scaleb(-2)), "P") for d, date, amt in q1 + q2])
    cx = pd.DataFrame(
        {
            "deal_id": [cancelled],
            "cancel_date": pd.to_datetime(["2025-05-05"]),
            "amount_cents": pd.array([None if partial is None else cancel_cents], dtype="Int64"),
        }
    )
    res = run(p, ds, "FY2025-Q2", cancellations=cx)
    kind, want = claw_reference(q1, q2, cancelled, cancel_cents, claw_method, method)
    st_ = res.statement("a", "FY2025-Q2")
    got = sum(int(a * 100) for a in st_.loc[st_["kind"] == kind, "amount"])
    assert got == want, (kind, st_[["kind", "deal_id", "credit", "amount"]])
