"""Small builders for engine tests (kept out of the test files so both can import them)."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from reportkit.config.plans import Plan, load_plan
from reportkit.core.money import to_cents
from reportkit.core.periods import FiscalCalendar
from reportkit.data.model import Dataset
from reportkit.domain import engine

CAL = FiscalCalendar(first_month=1)  # FY2025 == calendar 2025; Q1 2025 has 90 days


def plan(rates=None, **kw) -> Plan:
    """A plan dict with defaults: flat 10 % per period, quotas from the table."""
    raw = {"name": "t", "rates": rates or {"method": "flat", "basis": "amount", "tiers": [{"from": 0, "rate": "0.10"}]}}
    raw.update(kw)
    return Plan.model_validate(raw)


def plan_from_yaml(tmp_path, text: str, name: str = "plan.yaml") -> Plan:
    """Write plan YAML ``text`` to ``tmp_path / name`` and load it the public way (:func:`load_plan`)."""
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return load_plan(p)


def dataset(deals, quotas=(), ams=None, accounts=None, territories=None) -> Dataset:
    """deals: (deal_id, am, date, amount, product[, account, territory]); quotas: (am, start, end, amount)."""
    ids = sorted({d[1] for d in deals if d[1]} | {q[0] for q in quotas} | {a[0] for a in (ams or [])})
    extra = {a[0]: a for a in (ams or [])}
    am = pd.DataFrame(
        {
            "account_manager_id": ids,
            "name": ids,
            "team": "T",
            "sales_manager": "S",
            "region": None,
            "hire_date": pd.to_datetime([extra.get(i, (i, None, None))[1] for i in ids]),
            "end_date": pd.to_datetime([extra.get(i, (i, None, None))[2] for i in ids]),
        }
    )
    dl = pd.DataFrame(
        {
            "deal_id": [d[0] for d in deals],
            "account_manager_id": [d[1] for d in deals],
            "account_id": [d[5] if len(d) > 5 else "ACC" for d in deals],
            "close_date": pd.to_datetime([d[2] for d in deals]),
            "amount_cents": pd.Series([to_cents(d[3]) for d in deals], dtype="int64"),
            "currency": "USD",
            "stage": "won",
            "territory": [d[6] if len(d) > 6 else None for d in deals],
            "product": [d[4] for d in deals],
        }
    )
    qt = pd.DataFrame(
        {
            "account_manager_id": [q[0] for q in quotas],
            "period_start": pd.to_datetime([q[1] for q in quotas]),
            "period_end": pd.to_datetime([q[2] for q in quotas]),
            "quota_cents": pd.Series([to_cents(q[3]) for q in quotas], dtype="int64"),
            "currency": "USD",
        }
    )
    return Dataset(am, qt, dl, accounts=accounts, territories=territories, calendar=CAL)


def run(p, ds, period="FY2025", **kw) -> engine.CommissionResult:
    return engine.compute(ds, p, period, **kw)


def summary(res, am, period, col):
    s = res.summary
    v = s.loc[(s["account_manager_id"] == am) & (s["period"] == period), col].iloc[0]
    if col.endswith("_cents"):
        return Decimal(int(v)).scaleb(-2)
    return v


def lines(res, am, period, kind=None):
    st = res.statement(am, period)
    return st if kind is None else st.loc[st["kind"] == kind]


def money_sum(frame) -> Decimal:
    return sum(frame["amount"], Decimal("0.00"))
