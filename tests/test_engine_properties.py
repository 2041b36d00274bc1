"""Hypothesis properties of the engine (invariants, not examples)."""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
from engine_helpers import CAL, dataset, plan, run, summary
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from reportkit.config.plans import PPM, Plan, RateSchedule
from reportkit.core.money import allocate
from reportkit.core.periods import DAY_NS
from reportkit.domain import crediting, engine
from reportkit.domain.accounts import new_logo_deals
from reportkit.domain.engine.ledger import _ledger_order
from reportkit.domain.engine.tiers import _BIG, curve_commission

SET = settings(max_examples=40, deadline=None)
rates_rising = st.lists(st.integers(0, 200_000), min_size=1, max_size=5).map(sorted)
bounds = st.lists(st.integers(1, 10**8), min_size=4, max_size=4, unique=True).map(sorted)
amounts = st.lists(st.integers(-(10**6), 10**8), min_size=1, max_size=12)


def tiers(rates, bnds):
    lo = [0] + bnds[: len(rates) - 1]
    return [{"from": str(Decimal(b).scaleb(-2)), "rate": str(Decimal(r) / PPM)} for b, r in zip(lo, rates)]


def table(rates, bnds):
    b = np.array([-_BIG] + bnds[: len(rates) - 1], dtype=np.int64)[None, :]
    return b, np.array(rates, dtype=np.int64)


def total(method, credits, rates, bnds):
    c = np.array(credits, dtype=np.int64)
    after = np.cumsum(c)
    b, r = table(rates, bnds)
    *_, amt = engine.tier_commission(after - c, after, np.full(len(c), after[-1]), b, r, method)
    return int(amt.sum())


@SET
@given(rates_rising, bounds, st.lists(st.integers(0, 10**8), min_size=1, max_size=10), st.integers(1, 10**7))
def test_commission_never_falls_when_credited_revenue_rises(rates, bnds, credits, extra):
    for method in ("retroactive", "marginal"):
        base = total(method, credits, rates, bnds)
        more = total(method, credits + [extra], rates, bnds)
        assert more >= base


@SET
@given(rates_rising, bounds, st.lists(st.integers(0, 10**8), min_size=1, max_size=10))
def test_marginal_never_pays_more_than_retroactive_on_rising_rates(rates, bnds, credits):
    # per-line rounding: each of n marginal lines may round up by half a cent more than its exact value
    marg = total("marginal", credits, rates, bnds)
    retro = total("retroactive", credits, rates, bnds)
    assert marg <= retro + 2 * len(credits) * len(rates)
    # exactly (before rounding) marginal <= retroactive
    c = np.array(credits, dtype=np.int64)
    after = np.cumsum(c)
    b, r = table(rates, bnds)
    _, _, cc, rr, _ = engine.tier_commission(after - c, after, np.full(len(c), after[-1]), b, r, "marginal")
    _, _, cc2, rr2, _ = engine.tier_commission(after - c, after, np.full(len(c), after[-1]), b, r, "retroactive")
    assert int((cc * rr).sum()) <= int((cc2 * rr2).sum())


@SET
@given(amounts, st.integers(0, 10**7), st.booleans(), st.sampled_from(["period", "year"]))
def test_cap_is_never_exceeded(amts, cap_cents, carry, per):
    deals = [
        (f"d{i}", "a", (datetime.date(2025, 1, 5) + datetime.timedelta(days=29 * i)).isoformat(), str(Decimal(a).scaleb(-2)), "P")
        for i, a in enumerate(amts)
    ]
    p = plan(cap={"per": per, "amount": str(Decimal(cap_cents).scaleb(-2)), "carry_excess": carry})
    res = run(p, dataset(deals))
    s = res.summary
    paid = (s["commission_cents"] + s["cap_cents"]).to_numpy()
    if per == "period":
        assert (paid <= cap_cents).all()
    else:
        assert np.maximum(paid, 0).sum() <= cap_cents


@SET
@given(st.integers(-(10**10), 10**10), st.lists(st.integers(1, PPM), min_size=1, max_size=6))
def test_split_credits_sum_to_the_deal(amount, raw):
    # shares that total exactly 1: scale and give the rounding rest to the last share
    ws = [w * PPM // sum(raw) for w in raw]
    ws[-1] += PPM - sum(ws)
    ams = [f"m{i}" for i in range(len(ws))]
    ds = dataset(
        [("d1", "m0", "2025-02-01", str(Decimal(amount).scaleb(-2)), "P")]
        + [(f"x{i}", a, "2025-02-01", "1.00", "P") for i, a in enumerate(ams)]
    )
    splits = pd.DataFrame(
        {"deal_id": "d1", "account_manager_id": ams, "share": [str(Decimal(w) / PPM) for w in ws], "kind": "revenue"}
    )
    credits, _ = crediting.credit_deals(ds.deals, splits=splits)
    got = credits.loc[credits["deal_id"] == "d1"].set_index("account_manager_id")["credit_cents"]
    assert int(got.sum()) == amount
    # identical to money.allocate (largest remainder, ties to the earlier part)
    assert [int(got[a]) for a in ams] == allocate(amount, [Decimal(w) for w in ws])


@SET
@given(st.integers(0, 10**10), st.integers(1, 90), st.integers(1, 90))
def test_proration_is_linear_in_days(base, d1, d2):
    def q(active):
        hire = (datetime.date(2025, 1, 1) + datetime.timedelta(days=90 - active)).isoformat()
        ds = dataset([], [("a", "2025-01-01", "2025-03-31", str(Decimal(base).scaleb(-2)))], ams=[("a", hire, None)])
        return int(summary(run(plan(), ds, "FY2025-Q1"), "a", "FY2025-Q1", "quota_cents").scaleb(2))

    for days in (d1, d2):
        exact = Decimal(base) * days / 90
        assert q(days) == int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    # linear: one more active day adds base/90 (within one cent of rounding on each side)
    assert abs((q(d1) - q(d2)) - Decimal(base) * (d1 - d2) / 90) <= 1


@SET
@given(st.integers(-(10**12), 10**12), st.integers(1, 10**9))
def test_rdiv_matches_decimal_half_away_from_zero(n, d):
    exact = (Decimal(n) / Decimal(d)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    assert engine.rdiv(n, d) == int(exact)
    assert int(engine.rdiv(np.array([n]), d)[0]) == int(exact)


@SET
@given(st.integers(-(10**6), 10**6), st.integers(1, 10**6))
def test_rdiv_of_arrays_rounds_exact_halves_away_from_zero(q, d):
    # num = q * d + d / 2 (or the nearest integer for odd d): exact halves for even d
    num = np.array([q * d + d // 2, q * d - d // 2, -(q * d + d // 2)], dtype=np.int64)
    want = [int((Decimal(int(v)) / Decimal(d)).quantize(Decimal(1), rounding=ROUND_HALF_UP)) for v in num]
    assert engine.rdiv(num, d).tolist() == want


deal_ids = st.text(alphabet=st.sampled_from(["a", "b", "Z", "0", "9", "\x00", "é", "\u4e2d", "\U0001f600"]), max_size=20)


@SET
@given(
    st.lists(deal_ids, min_size=1, max_size=12, unique=True),
    st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 11)), min_size=1, max_size=80),
)
def test_ledger_order_is_am_then_date_then_deal_id_string_order_then_input_order(ids, rows):
    am = np.array([r[0] for r in rows], dtype=np.int64)
    day = np.array([r[1] for r in rows], dtype=np.int64)
    drow = np.array([r[2] % len(ids) for r in rows], dtype=np.int64)
    cdate = np.datetime64("2025-01-01", "ns").astype(np.int64) + day * DAY_NS
    order = _ledger_order(am, cdate, drow, pd.Series(ids, dtype="str"))
    want = sorted(range(len(rows)), key=lambda i: (am[i], day[i], ids[drow[i]], i))
    assert order.tolist() == want


# ---------------------------------------------------------------------------
# credit group (issue #13 items 17, 9, 8): equal splits, ramps as amounts, whole-month proration
# ---------------------------------------------------------------------------
@SET
@given(st.integers(-(10**10), 10**10), st.integers(1, 12))
def test_equal_split_credits_sum_to_the_deal_and_differ_by_at_most_a_cent(amount, n):
    ams = [f"m{i}" for i in range(n)]
    ds = dataset(
        [("d1", "m0", "2025-02-01", str(Decimal(amount).scaleb(-2)), "P")]
        + [(f"x{i}", a, "2025-02-01", "1.00", "P") for i, a in enumerate(ams)]
    )
    splits = pd.DataFrame({"deal_id": "d1", "account_manager_id": ams, "share": "equal", "kind": "revenue"})
    credits, _ = crediting.credit_deals(ds.deals, splits=splits)
    got = credits.loc[credits["deal_id"] == "d1"].set_index("account_manager_id")["credit_cents"]
    assert int(got.sum()) == amount
    assert int(got.max()) - int(got.min()) <= 1
    # exactly money.allocate with n equal weights (largest remainder, extra cents to the earlier rows)
    assert [int(got[a]) for a in ams] == allocate(amount, [1] * n)


@SET
@given(st.lists(st.integers(0, 10**9), min_size=1, max_size=4), st.integers(1, 12), st.integers(0, 10**9))
def test_ramp_amounts_are_the_quotas_of_whole_tenure_months_on_a_monthly_plan(amounts, hire_month, monthly):
    amounts = [a % (monthly + 1) for a in amounts]  # a ramp never above the full month (refused: fixes group)
    ramp = [str(Decimal(a).scaleb(-2)) for a in amounts]
    hire = datetime.date(2025, hire_month, 1)
    ds = dataset(
        [], [("a", "2025-01-01", "2025-12-31", str(Decimal(monthly * 12).scaleb(-2)))], ams=[("a", hire.isoformat(), None)]
    )
    res = run(plan(period="month", quota={"ramp_amounts": ramp}), ds, "FY2025-M12")
    for k in range(hire_month, 13):
        want = amounts[k - hire_month] if k - hire_month < len(amounts) else monthly
        assert summary(res, "a", f"FY2025-M{k:02d}", "quota_cents").scaleb(2) == want


@SET
@given(st.integers(0, 10**10), st.integers(1, 3), st.integers(0, 27), st.booleans())
def test_whole_month_proration_counts_only_months_active_on_every_day(base, month, day_offset, prorate_months):
    hire = datetime.date(2025, month, 1 + day_offset)
    ds = dataset([], [("a", "2025-01-01", "2025-03-31", str(Decimal(base).scaleb(-2)))], ams=[("a", hire.isoformat(), None)])
    proration = "months" if prorate_months else "active_days"
    q = int(summary(run(plan(quota={"proration": proration}), ds, "FY2025-Q1"), "a", "FY2025-Q1", "quota_cents").scaleb(2))
    if prorate_months:
        whole = 3 - month + (1 if day_offset == 0 else 0)  # the hire month counts only from its first day
        exact = Decimal(base) * whole / 3
    else:
        exact = Decimal(base) * ((datetime.date(2025, 3, 31) - hire).days + 1) / 90
    assert q == int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


# ---------------------------------------------------------------------------
# incentive group (issue #13 items 4, 5, 16)
# ---------------------------------------------------------------------------
@SET
@given(
    st.lists(st.integers(-(10**6), 10**9), min_size=1, max_size=10),
    st.one_of(st.none(), st.integers(0, 10**6)),
    st.one_of(st.none(), st.integers(10**6, 10**8)),
    st.sampled_from(["0.05", "0.123457"]),
)
def test_per_deal_limits_keep_every_paid_deal_between_min_and_max(amts, lo, hi, rate):
    deals = [(f"d{i}", "a", "2025-02-01", str(Decimal(a).scaleb(-2)), "P") for i, a in enumerate(amts)]
    limits = {k: str(Decimal(v).scaleb(-2)) for k, v in (("min", lo), ("max", hi)) if v is not None} or {"max": "99999999.99"}
    p = plan(rates={"method": "flat", "basis": "amount", "tiers": [{"from": 0, "rate": rate}]}, deal_limits=limits)
    res = run(p, dataset(deals), "FY2025-Q1")
    st_ = res.statement("a", "FY2025-Q1")
    st_ = st_.loc[st_["kind"].isin(["commission", "deal_limit"])]
    per_deal = st_.groupby("deal_id")["amount"].sum()
    for i, a in enumerate(amts):
        earned = (Decimal(a).scaleb(-2) * Decimal(rate)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        got = per_deal[f"d{i}"]
        if earned <= 0:
            assert got == earned  # nothing earned, or a return: never lifted
        else:
            assert lo is None or got >= Decimal(lo).scaleb(-2)
            assert hi is None or got <= Decimal(hi).scaleb(-2)
    assert summary(res, "a", "FY2025-Q1", "commission_cents") == sum(per_deal, Decimal(0))


@SET
@given(st.integers(0, 89), st.integers(0, 10**9), st.sampled_from(["0.5", "1.0", "2.5"]))
def test_cap_of_target_incentive_is_never_exceeded_and_is_linear_in_active_days(hire_day, amount, of_ti):
    hire = datetime.date(2025, 1, 1) + datetime.timedelta(days=hire_day)
    p = plan(ote="160000.00", base_salary="80000.00", cap={"per": "period", "of_ti": of_ti})
    ds = dataset([("d1", "a", "2025-03-31", str(Decimal(amount).scaleb(-2)), "P")], ams=[("a", hire.isoformat(), None)])
    s = run(p, ds, "FY2025-Q1").summary
    paid = int((s["commission_cents"] + s["cap_cents"]).iloc[0])
    active = 90 - hire_day
    ti = (Decimal(8_000_000) * active / 360).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    cap = (ti * Decimal(of_ti)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    assert paid == min(int((Decimal(amount) / 10).quantize(Decimal(1), rounding=ROUND_HALF_UP)), int(cap))


@SET
@given(st.lists(st.integers(0, 10**9), min_size=1, max_size=6), st.sampled_from(["0", "0.3", "1.0"]))
def test_gated_plan_never_pays_on_a_zero_quota_unless_it_says_base_tier(amts, gate):
    deals = [(f"d{i}", "a", "2025-02-01", str(Decimal(a).scaleb(-2)), "P") for i, a in enumerate(amts)]
    rates = {"method": "retroactive", "basis": "attainment", "gate": gate, "tiers": [{"from": 0, "rate": "0.05"}]}
    ds = dataset(deals, [("a", "2025-01-01", "2025-03-31", "0.00")])
    assert summary(run(plan(rates=rates), ds, "FY2025-Q1"), "a", "FY2025-Q1", "commission_cents") == 0
    paid = summary(
        run(plan(rates=rates, undefined_attainment="base_tier"), ds, "FY2025-Q1"), "a", "FY2025-Q1", "commission_cents"
    )
    assert paid == sum(
        ((Decimal(a).scaleb(-2) * Decimal("0.05")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) for a in amts), Decimal(0)
    )


@SET
@given(st.integers(1, 10**8), st.integers(1, 10**10), st.sampled_from(["0.5", "1.0", "1.75"]))
def test_bcr_rate_is_ti_over_annual_quota_to_the_nearest_millionth(ti_cents, annual_cents, multiple):
    raw = {"method": "flat", "basis": "attainment", "tiers": [{"from": 0, "bcr_multiple": multiple}]}
    exact = Decimal(ti_cents) / Decimal(annual_cents) * Decimal(multiple)
    kw = {
        "ote": str(Decimal(ti_cents).scaleb(-2)),
        "quota": {"source": "plan", "annual": str(Decimal(annual_cents).scaleb(-2))},
    }
    assume(exact <= 1)  # above 100 % of credited revenue is refused (test_plan_shapes_incentive)
    p = plan(rates=raw, **kw)
    assert p.rates.tiers[0].rate == exact.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------------------
# clawback methods and YTD reach-back (clawback group, issue #13)
# ---------------------------------------------------------------------------
claw_q1 = st.lists(st.integers(1, 5 * 10**6), min_size=1, max_size=6)
claw_rates = st.sampled_from(["0.05", "0.075", "0.1", "0.125"])


def _claw_run(amounts_q1, pick, cancel, claw_method, rates=None):
    """One AM: Q1 deals (cents), deal ``pick`` cancelled in Q2 (``cancel`` cents, None = whole)."""
    deals = [(f"d{i}", "a", f"2025-0{1 + i % 3}-1{i % 9}", str(Decimal(a).scaleb(-2)), "P") for i, a in enumerate(amounts_q1)]
    deals.append(("late", "a", "2025-04-15", "1000.00", "P"))
    p = plan(rates=rates, clawback={"method": claw_method})
    cx = pd.DataFrame(
        {
            "deal_id": [f"d{pick % len(amounts_q1)}"],
            "cancel_date": pd.to_datetime(["2025-05-20"]),
            "amount_cents": pd.array([cancel], dtype="Int64"),
        }
    )
    return run(p, dataset(deals), "FY2025-Q2", cancellations=cx)


def _q2_booking(res):
    st_ = res.statement("a", "FY2025-Q2")
    return int(sum(st_["amount"], Decimal("0.00")) * 100)


@SET
@given(claw_q1, st.integers(0, 5), st.one_of(st.none(), st.integers(1, 10**6)), claw_rates)
def test_on_a_flat_rate_restating_equals_a_negative_deal_and_the_charge_back_is_within_a_cent(amts, pick, cancel, rate):
    if cancel is not None:
        cancel = min(cancel, amts[pick % len(amts)])
    rates = {"method": "flat", "basis": "amount", "tiers": [{"from": 0, "rate": rate}]}
    restate = _q2_booking(_claw_run(amts, pick, cancel, "restate", rates))
    negative = _q2_booking(_claw_run(amts, pick, cancel, "negative_deal", rates))
    charge = _q2_booking(_claw_run(amts, pick, cancel, "rate_paid", rates))
    assert restate == negative
    assert abs(charge - negative) <= 1


@SET
@given(
    claw_q1,
    st.integers(0, 5),
    st.one_of(st.none(), st.integers(1, 10**6)),
    st.sampled_from(["rate_paid", "restate", "negative_deal"]),
    st.sampled_from(["marginal", "retroactive"]),
)
def test_a_cancellation_never_raises_what_the_later_period_pays_on_rising_rates(amts, pick, cancel, claw_method, method):
    if cancel is not None:
        cancel = min(cancel, amts[pick % len(amts)])
    rates = {
        "method": method,
        "basis": "amount",
        "tiers": [{"from": 0, "rate": "0.04"}, {"from": "10000.00", "rate": "0.08"}, {"from": "30000.00", "rate": "0.12"}],
    }
    without = _claw_run(amts, pick, cancel, "none", rates)
    assert _q2_booking(_claw_run(amts, pick, cancel, claw_method, rates)) <= _q2_booking(without)


@SET
@given(
    st.lists(st.tuples(st.integers(0, 364), st.integers(-(10**5), 5 * 10**6)), min_size=1, max_size=12),
    st.integers(1, 4),
    st.sampled_from(["marginal", "retroactive"]),
)
def test_a_ytd_quarter_is_the_same_whatever_start_the_caller_gives(raw, q, method):
    start = datetime.date(2025, 1, 1)
    deals = [
        (f"d{i}", "a", str(start + datetime.timedelta(days=d)), str(Decimal(a).scaleb(-2)), "P") for i, (d, a) in enumerate(raw)
    ]
    rates = {
        "method": method,
        "basis": "amount",
        "accumulation": "ytd",
        "tiers": [{"from": 0, "rate": "0.04"}, {"from": "20000.00", "rate": "0.1"}],
    }
    ds, p = dataset(deals), plan(rates=rates)
    whole = run(p, ds, f"FY2025-Q{q}").statement("a", f"FY2025-Q{q}")
    asked = run(p, ds, f"FY2025-Q{q}", since=f"FY2025-Q{q}").statement("a", f"FY2025-Q{q}")
    pd.testing.assert_frame_equal(whole, asked)


# ---------------------------------------------------------------------------
# plan shapes, tiers group (issue #13 items 1 and 3): boundary tie-break and the overage method
# ---------------------------------------------------------------------------
def shape_total(method, credits, rates, bnds, boundary="upper"):
    """Commission of ``credits`` (cents, in order) on amount tiers through ``engine.tier_commission``."""
    c = np.array(credits, dtype=np.int64)
    after = np.cumsum(c)
    b, r = table(rates, bnds)
    reach = b + np.array([0] + [1] * (b.shape[1] - 1), dtype=np.int64) if boundary == "lower" else None
    *_, amt = engine.tier_commission(after - c, after, np.full(len(c), after[-1]), b, r, method, reach_bounds=reach)
    return int(amt.sum())


@SET
@given(rates_rising, bounds, st.lists(st.integers(0, 10**8), min_size=1, max_size=10))
def test_overage_pays_between_marginal_and_retroactive_on_rising_rates(rates, bnds, credits):
    rates = rates if len(rates) > 1 else rates * 2
    slack = 2 * len(credits) * len(rates)  # per-line rounding, half a cent per slice
    over = shape_total("overage", credits, rates, bnds)
    assert shape_total("marginal", credits, rates, bnds) <= over + slack
    assert over <= shape_total("retroactive", credits, rates, bnds) + slack


@SET
@given(rates_rising, bounds, st.lists(st.integers(0, 10**8), min_size=1, max_size=10), st.booleans())
def test_boundary_lower_differs_from_upper_only_when_the_total_is_exactly_on_a_bound(rates, bnds, credits, on_bound):
    tot = sum(credits)
    if on_bound:  # move the second tier's bound onto the total (the others keep their gaps above it)
        bnds = [tot] + [tot + b for b in bnds[1:]]
    on = tot in bnds[: len(rates) - 1]
    for method in ("retroactive", "overage"):
        lower, upper = shape_total(method, credits, rates, bnds, "lower"), shape_total(method, credits, rates, bnds)
        assert lower <= upper
        if not on:
            assert lower == upper
    assert shape_total("marginal", credits, rates, bnds, "lower") == shape_total("marginal", credits, rates, bnds)


@settings(max_examples=20, deadline=None)
@given(rates_rising, bounds, st.lists(st.integers(-(10**5), 10**7), min_size=1, max_size=8))
def test_marginal_schedule_split_at_a_bound_into_a_component_pays_the_same_lines(rates, bnds, credits):
    # item 2: rates below the second tier's bound + a component from it == the one schedule, line for line
    rates = rates if len(rates) > 1 else rates * 2
    tt = tiers(rates, bnds)
    cut = tt[1]["from"]
    deals = [(f"d{i}", "a", f"2025-01-{i + 1:02d}", str(Decimal(c).scaleb(-2)), "P") for i, c in enumerate(credits)]
    ds = dataset(deals)
    one = run(plan(rates={"method": "marginal", "basis": "amount", "tiers": tt}), ds, "FY2025-Q1")
    split = plan(
        rates={"method": "marginal", "basis": "amount", "tiers": tt, "applies_below": cut},
        rate_components=[{"name": "above", "method": "marginal", "basis": "amount", "tiers": tt, "applies_from": cut}],
    )
    two = run(split, ds, "FY2025-Q1")

    def rows(res):
        s = res.statement("a", "FY2025-Q1")
        s = s.loc[(s["kind"] == "commission") & (s["credit"] != 0)]
        return sorted(zip(s["deal_id"], s["credit"], s["tier"], s["amount"]))

    assert rows(two) == rows(one)
    assert summary(two, "a", "FY2025-Q1", "commission_cents") == summary(one, "a", "FY2025-Q1", "commission_cents")


@SET
@given(st.lists(st.integers(-(10**5), 10**8), min_size=1, max_size=12), st.one_of(st.integers(1, 10**9), st.just(10**13)))
def test_pay_curve_lines_sum_to_the_curve_at_the_total_rounded_once(credits, quota_cents):
    # item 12: per-line rises of the rounded curve telescope: sum of lines == round(F(total)) - round(F(0))
    rs = RateSchedule.model_validate(
        {
            "method": "curve",
            "basis": "attainment",
            "curve": [{"at": 0, "pay": "0"}, {"at": "0.5", "pay": "1000.01"}, {"at": "1.2", "pay": "7777.77"}],
        }
    )
    c = np.array(credits, dtype=np.int64)
    after = np.cumsum(c)
    q = np.full(len(c), quota_cents, dtype=np.int64)
    *_, amt = curve_commission(rs, after - c, after, q)
    *_, whole = curve_commission(rs, np.zeros(1, np.int64), after[-1:], q[:1])
    assert int(amt.sum()) == int(whole[0])
    # and that is the curve at the total in Decimal, half up (a quota of 10**13 cents takes the Python-int path)
    x = max(Decimal(int(after[-1])), Decimal(0)) / quota_cents
    pts = [(Decimal(0), Decimal(0)), (Decimal("0.5"), Decimal("100001")), (Decimal("1.2"), Decimal("777777"))]
    k = sum(1 for a, _ in pts[1:] if x >= a)
    want = pts[-1][1] if k == 2 else pts[k][1] + (pts[k + 1][1] - pts[k][1]) * (x - pts[k][0]) / (pts[k + 1][0] - pts[k][0])
    assert int(whole[0]) == int(want.quantize(Decimal(1), rounding=ROUND_HALF_UP))


# ---------------------------------------------------------------------------
# crediting factors by deal type (dealtype group, issue #13 item 15)
# ---------------------------------------------------------------------------
typed_deals = st.lists(st.tuples(st.integers(1, 10**7), st.sampled_from(["renewal", "new_logo", None])), min_size=1, max_size=10)


def _typed_run(deals, factors, applies_to, rates=("0.05", "0.08", "0.12")):
    """Owner deals of AM ``a`` in FY2025-Q1 (quota 100,000.00) with deal types, a retroactive attainment plan."""
    ds = dataset(
        [(f"d{i:02d}", "a", "2025-02-03", str(Decimal(c).scaleb(-2)), "P") for i, (c, _) in enumerate(deals)],
        [("a", "2025-01-01", "2025-03-31", "100000.00")],
    )
    ds = dataclasses.replace(ds, deals=ds.deals.assign(deal_type=pd.Series([t for _, t in deals], dtype="str")))
    tiers = [{"from": lo, "rate": r} for lo, r in zip(("0", "0.8", "1.0"), rates)]
    crediting = {} if factors is None else {"deal_type_factors": {"applies_to": applies_to, "factors": factors}}
    return run(plan(rates={"method": "retroactive", "basis": "attainment", "tiers": tiers}, crediting=crediting), ds, "FY2025-Q1")


@SET
@given(typed_deals, st.sampled_from(["quota_credit", "both"]))
def test_deal_type_factors_of_one_credit_and_pay_as_a_plan_without_them(deals, applies_to):
    ones = {"renewal": "1", "new_logo": "1.000000", "default": "1"}
    with_ones, without = _typed_run(deals, ones, applies_to), _typed_run(deals, None, applies_to)
    pd.testing.assert_frame_equal(with_ones.summary.drop(columns="plan"), without.summary.drop(columns="plan"))
    got, want = with_ones.statement("a"), without.statement("a")
    cols = [c for c in got.columns if c not in ("description", "rule")]
    pd.testing.assert_frame_equal(got[cols], want[cols])


@SET
@given(typed_deals, st.integers(0, 2_000_000), st.integers(0, 2_000_000))
def test_a_higher_quota_credit_factor_never_lowers_the_commission_on_rising_rates(deals, f1, f2):
    lo, hi = sorted((f1, f2))

    def paid(f):
        res = _typed_run(deals, {"renewal": str(Decimal(f) / PPM), "default": "1"}, "quota_credit")
        return int(res.summary["commission_cents"].sum()), res

    (low, r_lo), (high, r_hi) = paid(lo), paid(hi)
    assert high >= low
    # the commissionable amount never moves: every line's basis is the deal's amount
    assert r_lo.statement("a")["credit"].tolist() == r_hi.statement("a")["credit"].tolist()


# -- forecast categories (issue #13 item 11, group "categories"): self-contained --
_FC_CATS = ("pipeline", "best_case", "most_likely", "commit", "omitted")
_FC_DEAL_DATES = ["2024-12-31", "2025-01-01", "2025-02-01", "2025-02-02", "2025-03-31"]
_FC_DATES = [None, "2025-01-01", "2025-02-14", "2025-03-31", "2025-04-01", "2024-12-31"]
_fc_opps = st.lists(
    st.tuples(st.sampled_from(["a", "b"]), st.sampled_from(_FC_CATS), st.sampled_from(_FC_DATES), st.integers(0, 10**9)),
    max_size=12,
)
_fc_deals = st.lists(
    st.tuples(st.sampled_from(["a", "b"]), st.sampled_from(_FC_DEAL_DATES), st.integers(-(10**6), 10**9)), max_size=8
)


def _fc_table(deals, opps, members):
    from category_helpers import pipeline_frame

    from reportkit.domain.forecast_categories import forecast_category_table

    ds = dataset(
        [(f"D{i}", am, d, Decimal(c) / 100, "P") for i, (am, d, c) in enumerate(deals)] or [("D0", "a", "2024-01-01", 0, "P")]
    )
    t = forecast_category_table(
        crediting.credited_deals(ds),
        pipeline_frame(opps),
        members,
        datetime.date(2025, 1, 1),
        datetime.date(2025, 3, 31),
        datetime.date(2025, 2, 1),
    )
    return dict(zip(t["key"], (int(a * 100) for a in t["amount"])))


@SET
@given(_fc_deals, _fc_opps)
def test_forecast_category_rollups_are_exact_sums_and_open_pipeline_never_moves_with_won_deals(deals, opps):
    from reportkit.domain.forecast_categories import CUMULATIVE_ROLLUPS

    got = _fc_table(deals, opps, ["a", "b"])
    for key, _name, adds in CUMULATIVE_ROLLUPS:
        assert got[key] == sum(got[c] for c in adds)
    assert got["open_pipeline"] == _fc_table([], opps, ["a", "b"])["open_pipeline"]
    # a group is its members added up: each opportunity and (owner crediting) each won deal once
    one, two = _fc_table(deals, opps, ["a"]), _fc_table(deals, opps, ["b"])
    assert all(got[k] == one[k] + two[k] for k in got)


# plan shapes, fx group (issue #13 item 10): deals in several currencies, converted at load
# ---------------------------------------------------------------------------
def fx_convert(micros, rate_1e8, day="2025-02-03"):
    """Converted cents of deals of ``micros`` in EUR at one rate dated ``day`` (``data.fx.convert_deals``)."""
    from reportkit.data.fx import convert_deals

    n = len(micros)
    deals = pd.DataFrame(
        {
            "deal_id": [f"d{i}" for i in range(n)],
            "close_date": pd.to_datetime([day] * n),
            "amount_cents": pd.Series(
                [(2 * abs(m) + 10**4) // (2 * 10**4) * (1 if m >= 0 else -1) for m in micros], dtype="int64"
            ),
            "amount_micros": pd.Series(micros, dtype="int64"),
            "currency": "EUR",
        }
    )
    rates = pd.DataFrame({"currency": ["EUR"], "rate_date": pd.to_datetime([day]), "rate": [str(Decimal(rate_1e8).scaleb(-8))]})
    out, problems = convert_deals(deals, rates, "USD", "close_date", engine_calendar())
    assert problems == []
    return out["amount_cents"].tolist()


def engine_calendar():
    return CAL


@SET
@given(st.lists(st.integers(-(10**15), 10**15), min_size=1, max_size=10), st.integers(1, 10**11))
def test_a_conversion_is_odd_and_never_falls_when_the_source_amount_rises(micros, rate):
    conv = fx_convert(micros, rate)
    assert fx_convert([-m for m in micros], rate) == [-c for c in conv]
    rising = [c for _, c in sorted(zip(micros, conv))]
    assert rising == sorted(rising)
    exact = [Decimal(m).scaleb(-6) * Decimal(rate).scaleb(-8) for m in micros]
    assert conv == [int(e.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) * 100) for e in exact]


@SET
@given(st.lists(st.integers(-(10**6), 10**8), min_size=1, max_size=10), st.integers(1, 3 * 10**8))
def test_a_converted_deal_pays_what_the_same_amount_booked_in_the_reporting_currency_pays(cents, rate):
    conv = fx_convert([c * 10**4 for c in cents], rate)
    booked = dataset([(f"d{i}", "a", "2025-02-03", str(Decimal(c).scaleb(-2)), "P") for i, c in enumerate(conv)])
    res_booked = run(plan(), booked, "FY2025-Q1")
    converted = booked.deals.copy()
    converted["amount_cents"] = conv
    converted["original_currency"] = "EUR"
    converted["original_amount_micros"] = [c * 10**4 for c in cents]
    converted["fx_rate"] = str(Decimal(rate).scaleb(-8))
    converted["fx_rate_basis"] = "rate of 2025-02-03"
    res_conv = run(plan(), dataclasses.replace(booked, deals=converted), "FY2025-Q1")
    assert summary(res_conv, "a", "FY2025-Q1", "payout_cents") == summary(res_booked, "a", "FY2025-Q1", "payout_cents")
    st_conv = res_conv.statement("a")
    assert st_conv["converted_amount"].tolist() == st_conv["credit"].tolist()


# ---------------------------------------------------------------------------
# fixes group (issue #13): a BCR rate is kept exact, so a BCR plan pays the TI at quota
# ---------------------------------------------------------------------------
@SET
@given(st.integers(1, 10**8), st.integers(1, 10**10), st.sampled_from(["1.0", "0.75", "1.5"]))
def test_a_bcr_plan_at_exactly_quota_pays_ti_times_multiple_times_the_quota_share_rounded_once(ti_cents, annual_cents, multiple):
    from fractions import Fraction

    raw = {"method": "flat", "basis": "attainment", "tiers": [{"from": 0, "bcr_multiple": multiple}]}
    exact = Fraction(ti_cents) * Fraction(multiple) / annual_cents
    assume(exact <= 1)
    kw = {
        "ote": str(Decimal(ti_cents).scaleb(-2)),
        "quota": {"source": "plan", "annual": str(Decimal(annual_cents).scaleb(-2))},
    }
    p = plan(rates=raw, **kw)
    assert p.rates.tiers[0].exact_rate == exact
    q1 = allocate(annual_cents, [1, 1, 1, 1])[0]  # the plan's Q1 quota (even split, largest remainder)
    assume(q1 > 0)
    ds = dataset([("d1", "a", "2025-02-01", str(Decimal(q1).scaleb(-2)), "P")])
    got = summary(run(p, ds, "FY2025-Q1"), "a", "FY2025-Q1", "commission_cents")
    want = Fraction(q1) * exact  # cents, rounded half away from zero once
    assert got == Decimal(int(want + Fraction(1, 2)) if want >= 0 else -int(-want + Fraction(1, 2))).scaleb(-2)


# ---------------------------------------------------------------------------
# measures group (issue #13 items 13 and 14): weighted measures and conditional multipliers
# ---------------------------------------------------------------------------
def _one_measure_table(am_values: dict[str, dict[str, int]]) -> pd.DataFrame:
    """A Q1 2025 measures table: {am: {measure: value in millionths}}."""
    rows = [(am, m, v) for am, vals in am_values.items() for m, v in vals.items()]
    return pd.DataFrame(
        {
            "account_manager_id": [r[0] for r in rows],
            "period_start": pd.to_datetime(["2025-01-01"] * len(rows)),
            "period_end": pd.to_datetime(["2025-03-31"] * len(rows)),
            "measure": [r[1] for r in rows],
            "value_micros": pd.Series([r[2] for r in rows], dtype="int64"),
        }
    )


@SET
@given(st.integers(1, 10**9), st.lists(st.integers(1, 10**6), min_size=2, max_size=5))
def test_weighted_measures_at_target_pay_the_period_target_incentive_within_half_a_cent_per_measure(ti_cents, raw):
    # weights: exact millionths summing to 1 (the last takes the rest)
    w = [max(1, r * PPM // (sum(raw) * 2)) for r in raw[:-1]]
    assume(sum(w) < PPM)
    w.append(PPM - sum(w))
    names = [f"m{i}" for i in range(len(w))]
    p = plan(
        period="quarter",
        ote=str(Decimal(ti_cents * 4).scaleb(-2)),
        measures=[{"name": n, "weight": str(Decimal(x) / PPM), "target": "1"} for n, x in zip(names, w)],
    )
    ds = dataset([("d1", "a", "2025-02-01", "0.00", "P")])
    res = run(p, replace(ds, measures=_one_measure_table({"a": dict.fromkeys(names, PPM)})), "FY2025-Q1")
    got = res.statement("a", "FY2025-Q1")
    paid = [int(a * 100) for a in got.loc[got["kind"] == "measure", "amount"]]
    assert len(paid) == len(w)
    assert abs(sum(paid) - ti_cents) * 2 <= len(w)  # each line rounds once, by at most half a cent


@SET
@given(
    st.lists(st.integers(-(10**5), 10**8), min_size=1, max_size=6),
    st.integers(0, PPM),
    st.integers(0, PPM),
)
def test_a_higher_csat_never_pays_less_when_the_factors_rise_with_the_threshold(amts, csat_lo, csat_hi):
    lo, hi = sorted((csat_lo, csat_hi))
    p = plan(
        period="quarter",
        multipliers=[
            {"measure": "csat", "at_least": "0", "factor": "0.8"},
            {"measure": "csat", "at_least": "0.7", "factor": "1.0"},
            {"measure": "csat", "at_least": "0.9", "factor": "1.15"},
        ],
    )
    deals = [(f"d{i}", "a", "2025-02-01", str(Decimal(x).scaleb(-2)), "P") for i, x in enumerate(amts)]
    ds = dataset(deals)
    pay = [
        summary(
            run(p, replace(ds, measures=_one_measure_table({"a": {"csat": v}})), "FY2025-Q1"),
            "a",
            "FY2025-Q1",
            "commission_cents",
        )
        for v in (lo, hi)
    ]
    assert pay[1] >= pay[0]


# ---------------------------------------------------------------------------
# splits group (issue #13 item 7): splits.mode split_payout
# ---------------------------------------------------------------------------
@SET
@given(
    st.lists(st.tuples(st.sampled_from(["a", "b"]), st.integers(1, 89), st.integers(-(10**6), 10**8)), max_size=10),
    st.integers(1, 89),
    st.integers(1, 10**8),
    st.integers(1, PPM - 1),
    st.sampled_from(["marginal", "retroactive"]),
)
def test_split_payout_pays_in_all_what_the_deal_pays_when_the_primary_closes_it_alone(book, day, amount, share, method):
    # the shared deal's lines add up, tier by tier, to the primary's lines had they closed it alone;
    # every other line is unchanged, and the quota credit is the credited share as under credit_first
    def date(d):
        return (datetime.date(2025, 1, 1) + datetime.timedelta(days=d)).isoformat()

    deals = [(f"d{i}", am, date(d), str(Decimal(c).scaleb(-2)), "P") for i, (am, d, c) in enumerate(book)]
    shared = ("s", "a", date(day), str(Decimal(amount).scaleb(-2)), "P")
    tt = [{"from": 0, "rate": "0.04"}, {"from": "20000.00", "rate": "0.08"}, {"from": "45000.00", "rate": "0.125"}]
    rates = {"method": method, "basis": "amount", "tiers": tt}
    w = Decimal(share) / PPM
    sp = pd.DataFrame({"deal_id": ["s", "s"], "account_manager_id": ["a", "b"], "share": [str(w), str(1 - w)], "kind": "revenue"})
    ds = dataset([*deals, shared], ams=[("a", None, None), ("b", None, None)])
    paid = run(plan(rates=rates, splits={"mode": "split_payout"}), ds, "FY2025-Q1", splits=sp)
    alone = run(plan(rates=rates), ds, "FY2025-Q1")
    first = run(plan(rates=rates), ds, "FY2025-Q1", splits=sp)

    def rows(res, am):
        s = res.statement(am, "FY2025-Q1")
        s = s.loc[s["kind"] == "commission"]
        return list(zip(s["deal_id"], s["tier"], s["credit"], s["amount"]))

    a, b = rows(paid, "a"), rows(paid, "b")
    assert [r for r in a if r[0] != "s"] == [r for r in rows(alone, "a") if r[0] != "s"]
    assert [r for r in b if r[0] != "s"] == [r for r in rows(alone, "b") if r[0] != "s"]
    whole = sorted(r for r in rows(alone, "a") if r[0] == "s")
    mine, theirs = sorted(r for r in a if r[0] == "s"), sorted(r for r in b if r[0] == "s")
    assert [(t, c) for _, t, c, _ in mine] == [(t, c) for _, t, c, _ in whole] == [(t, c) for _, t, c, _ in theirs]
    assert [x[3] + y[3] for x, y in zip(mine, theirs)] == [z[3] for z in whole]
    for am in ("a", "b"):
        assert summary(paid, am, "FY2025-Q1", "credit_cents") == summary(first, am, "FY2025-Q1", "credit_cents")


# ---------------------------------------------------------------------------
# fx2 group (issue #13 item 10): a payout currency
# ---------------------------------------------------------------------------
@SET
@given(
    st.lists(st.tuples(st.integers(0, 170), st.integers(-(10**6), 10**7)), min_size=1, max_size=12),
    st.integers(1, 10**9),
    st.sampled_from(["period_end", "period_average"]),
)
def test_a_payout_in_another_currency_is_the_payout_over_the_rate_within_half_a_cent_and_never_below_zero(book, rate, conversion):
    # every period's converted payout: >= 0, 0 exactly when nothing is paid or it rounds to nothing,
    # and |paid x rate - payout| <= rate / 2 (one rounding, half a cent, of the whole payout)
    def date(d):
        return (datetime.date(2025, 1, 1) + datetime.timedelta(days=d)).isoformat()

    ds = dataset([(f"d{i}", "a", date(d), str(Decimal(c).scaleb(-2)), "P") for i, (d, c) in enumerate(book)])
    days = pd.to_datetime(["2025-01-01", "2025-04-01", "2025-06-30"])
    ds = replace(ds, fx_rates=pd.DataFrame({"currency": "GBP", "rate_date": days, "rate": str(Decimal(rate).scaleb(-8))}))
    s = run(plan(payout_currency="GBP", payout_conversion=conversion), ds, "FY2025-Q2").summary
    for payout, paid in zip(s["payout_cents"].tolist(), s["payout_converted_cents"].tolist()):
        assert paid >= 0 and (payout > 0 or paid == 0)
        assert abs(int(paid) * rate - int(payout) * 10**8) * 2 <= rate


# measures2 group (issue #13 item 13): measures from the deals (margin column, new logos)
# ---------------------------------------------------------------------------
def _margin_plan():
    """A measures-only plan: revenue 50 %, margin 50 % against 10,000.00 (TI 10,000.00 a quarter)."""
    return Plan.model_validate(
        {
            "name": "m",
            "ote": "40000.00",
            "measures": [
                {"name": "revenue", "weight": "0.5"},
                {"name": "margin", "weight": "0.5", "source": "column", "column": "margin_cents", "target": "10000"},
            ],
        }
    )


def _with_margin(ds, margins):
    deals = ds.deals.copy()
    deals["margin_cents"] = pd.Series(margins, dtype="int64")
    return replace(ds, deals=deals)


def _margin_line(res, am):
    st_ = res.statement(am, "FY2025-Q1")
    return int(st_.loc[st_["kind"] == "measure", "amount"].iloc[1] * 100)


@SET
@given(
    st.integers(1, 10**8),
    st.integers(0, 10**8),
    st.lists(st.integers(1, 10**6 - 1), min_size=1, max_size=3, unique=True).map(sorted),
)
def test_a_split_deals_margin_lines_add_up_to_the_whole_deals_within_rounding(amount, margin, cuts):
    # shares from cut points in millionths: the participants' margin lines sum to the line of the
    # deal unsplit within half a cent per line (each line, and each micro share, rounds once)
    shares = [b - a for a, b in zip([0, *cuts], [*cuts, PPM])]
    ams = ["a", "b", "c", "e"][: len(shares)]
    ds = _with_margin(
        dataset(
            [("s", "a", "2025-02-01", str(Decimal(amount).scaleb(-2)), "P")],
            [(am, "2025-01-01", "2025-03-31", "1.00") for am in ams],
        ),
        [margin],
    )
    sp = pd.DataFrame(
        {"deal_id": "s", "account_manager_id": ams, "share": [str(Decimal(s) / PPM) for s in shares], "kind": "revenue"}
    )
    whole = _margin_line(run(_margin_plan(), ds, "FY2025-Q1"), "a")
    split = run(_margin_plan(), ds, "FY2025-Q1", splits=sp)
    parts = [_margin_line(split, am) for am in ams]
    assert abs(sum(parts) - whole) * 2 <= len(ams) + 1


@SET
@given(st.lists(st.integers(-(10**6), 10**8), min_size=1, max_size=6), st.integers(0, 10**7), st.integers(0, 5))
def test_more_margin_on_a_deal_never_pays_a_smaller_margin_line(margins, extra, which):
    deals = [(f"d{i}", "a", "2025-02-01", "1000.00", "P") for i in range(len(margins))]
    ds = dataset(deals, [("a", "2025-01-01", "2025-03-31", "1000.00")])
    more = list(margins)
    more[which % len(more)] += extra
    assert _margin_line(run(_margin_plan(), _with_margin(ds, more), "FY2025-Q1"), "a") >= _margin_line(
        run(_margin_plan(), _with_margin(ds, margins), "FY2025-Q1"), "a"
    )


logo_deal_st = st.tuples(
    st.sampled_from(["X", "Y", "Z"]), st.integers(0, 900), st.integers(-100, 1000), st.sampled_from(["won", "lost"])
)


def _logo_frame(rows):
    return pd.DataFrame(
        {
            "deal_id": [f"d{i:03d}" for i in range(len(rows))],
            "account_id": [r[0] for r in rows],
            "close_date": pd.to_datetime("2023-01-01") + pd.to_timedelta([r[1] for r in rows], unit="D"),
            "amount_cents": pd.Series([r[2] for r in rows], dtype="int64"),
            "stage": [r[3] for r in rows],
        }
    )


@SET
@given(st.lists(logo_deal_st, min_size=1, max_size=20), st.lists(logo_deal_st, max_size=10), st.integers(1, 24))
def test_a_new_logo_depends_only_on_earlier_wins_and_ever_implies_every_lookback(rows, later, months):
    deals = _logo_frame(rows)
    ever, back = new_logo_deals(deals), new_logo_deals(deals, lookback_months=months)
    assert not (ever & ~back).any()  # new ever is new with any look-back
    assert ever.sum() == deals.loc[ever, "account_id"].nunique()  # at most one logo per account, ever
    # wins dated after every deal never change whether an earlier deal is a new logo
    last = int(max(r[1] for r in rows))
    more = _logo_frame(rows + [(a, last + 1 + d % 50, amt, s) for a, d, amt, s in later])
    assert (new_logo_deals(more)[: len(rows)] == ever).all()
    assert (new_logo_deals(more, lookback_months=months)[: len(rows)] == back).all()


# ---------------------------------------------------------------------------
# trace (issue #15 part 4): every statement line is the sum of its trace rows, across plan shapes
# ---------------------------------------------------------------------------
@SET
@given(
    st.lists(st.tuples(st.sampled_from(["a", "b"]), st.integers(1, 170), st.integers(-(10**6), 10**8)), min_size=1, max_size=10),
    rates_rising,
    bounds,
    st.sampled_from(["flat", "retroactive", "marginal", "overage"]),
    st.sampled_from(["amount", "attainment"]),
    st.one_of(st.none(), st.integers(0, 10**7)),
    st.integers(1, PPM - 1),
    st.sampled_from(["credit_first", "split_payout"]),
    st.one_of(st.none(), st.integers(0, 9)),
)
def test_every_statement_line_is_the_sum_of_its_trace_rows_to_the_cent(
    book, rates, bnds, method, basis, cap, share, mode, cancel
):
    def date(d):
        return (datetime.date(2025, 1, 1) + datetime.timedelta(days=d)).isoformat()

    deals = [(f"d{i}", am, date(d), str(Decimal(c).scaleb(-2)), "P") for i, (am, d, c) in enumerate(book)]
    if method == "flat":
        rates = rates[:1]
    assume(method != "overage" or len(rates) >= 2)
    tt = (
        tiers(rates, bnds)
        if basis == "amount"
        else [dict(t, **{"from": str(Decimal(i) / 2)}) for i, t in enumerate(tiers(rates, bnds))]
    )
    extra = {"cap": {"per": "period", "amount": str(Decimal(cap).scaleb(-2))}} if cap is not None else {}
    p = plan(rates={"method": method, "basis": basis, "tiers": tt}, splits={"mode": mode}, **extra)
    w = Decimal(share) / PPM
    sp = pd.DataFrame(
        {"deal_id": ["d0", "d0"], "account_manager_id": ["a", "b"], "share": [str(w), str(1 - w)], "kind": "revenue"}
    )
    quotas = [(am, "2025-01-01", "2025-03-31", "50000.00") for am in ("a", "b")] + [
        (am, "2025-04-01", "2025-06-30", "50000.00") for am in ("a", "b")
    ]
    ds = dataset(deals, quotas, ams=[("a", None, None), ("b", None, None)])
    cx = None
    if cancel is not None and cancel < len(deals):
        cx = pd.DataFrame(
            {
                "deal_id": [f"d{cancel}"],
                "cancel_date": pd.to_datetime(["2025-06-20"]),
                "amount_cents": pd.array([None], dtype="Int64"),
            }
        )
    res = run(p, ds, "FY2025-Q2", splits=sp, cancellations=cx)
    for am in ("a", "b"):
        stmt, tr = res.statement(am), res.trace(am)
        sums = {}
        for line, amount in zip(tr["line"].tolist(), tr["amount"].tolist()):
            sums[line] = sums.get(line, Decimal("0.00")) + amount
        assert sums == dict(zip(stmt["line"].tolist(), stmt["amount"].tolist()))
        assert all(a == a.quantize(Decimal("0.01")) for a in tr["amount"])
        has_deal = stmt["deal_id"].notna().to_numpy()
        assert tr["deal_id"].to_numpy()[has_deal].tolist() == stmt["deal_id"].to_numpy()[has_deal].tolist()
        assert set(tr["plan_version"]) <= {engine.plan_version(p)}
