"""Hand-built report objects for renderer tests (no domain layer needed).

The values are the awkward cases a renderer must get right: a client called
``<script>alert(1)</script>``, an account called ``=1+1``, a quarter without quota
(attainment NaN), a refund (negative amount), an id with a leading zero.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pandas as pd

from reportkit.reports.builders import AccountManagerReport, TeamReport

NAN = float("nan")
D = Decimal
XSS = "<script>alert(1)</script>"
FORMULA = "=1+1"


def _dates(*iso):
    return pd.to_datetime(list(iso))


def am_report(**overrides) -> AccountManagerReport:
    """Account manager 00731 (Ana <Smith>), FY2025-Q4 of a July fiscal year."""
    quarterly = pd.DataFrame(
        {
            "period": ["FY2025-Q1", "FY2025-Q2", "FY2025-Q3", "FY2025-Q4"],
            "period_start": _dates("2024-07-01", "2024-10-01", "2025-01-01", "2025-04-01"),
            "period_end": _dates("2024-09-30", "2024-12-31", "2025-03-31", "2025-06-30"),
            "revenue": [D("10000.00"), D("12345.67"), D("-50.05"), D("9000.10")],
            "quota": [D("10000.00"), D("10000.00"), None, D("12000.00")],
            "attainment": [1.0, 1.234567, NAN, 0.7500083333],
            "revenue_last_year": [D("8000.00"), D("0.00"), D("100.00"), D("9000.10")],
            "growth_vs_last_year": [0.25, NAN, -1.5005, 0.0],
        }
    )
    commission = pd.DataFrame(
        {
            "line": [1, 2],
            "description": ["Commission on revenue", "Quota bonus"],
            "basis": [D("9000.10"), None],
            "rate": [D("0.05"), None],
            "amount": [D("450.01"), D("0.00")],
            "rule": ["flat 5%", "attainment >= 100%"],
            "award": ["cash", "cash"],
        }
    )
    accounts = pd.DataFrame(
        {
            "account_id": ["00042", "A-2"],
            "account_name": [XSS, FORMULA],
            "segment": ["SMB", None],
            "handover_date": _dates("2023-01-15", None),
            "revenue_period": [D("9000.10"), D("0.00")],
            "revenue_ytd": [D("31245.72"), D("50.00")],
            "revenue_same_period_last_year": [D("9000.10"), D("0.00")],
            "last_order_date": _dates("2025-06-20", "2024-11-02"),
            "days_since_last_order": [10, 240],
            "trend": ["flat", "down"],
            "status": ["active", "at risk"],
            "status_reason": ["ordered this period", "no order for 240 days"],
        }
    )
    forecast = pd.DataFrame(
        {
            "method": ["run_rate"],
            "ytd_revenue": [D("31295.72")],
            "remaining_forecast": [D("0.00")],
            "forecast": [D("31295.72")],
            "annual_quota": [D("32000.00")],
            "forecast_attainment": [0.977991],
            "low": [D("31295.72")],
            "high": [D("31295.72")],
        }
    )
    performance = pd.DataFrame(
        {
            "period": ["FY2025-Q1", "FY2025-Q2", "FY2025-Q3", "FY2025-Q4"],
            "attainment": [1.0, 1.234567, NAN, 0.7500083333],
            "missed": [False, False, False, True],
            "consecutive_misses": [0, 0, 0, 1],
            "status": ["ok", "ok", "ok", "ok"],
        }
    )
    deals = pd.DataFrame(
        {
            "deal_id": ["D1", "D2"],
            "account_id": ["00042", "A-2"],
            "account_name": [XSS, FORMULA],
            "close_date": _dates("2025-06-20", "2025-02-01"),
            "amount": [D("9000.10"), D("-50.05")],
            "stage": ["won", "won"],
            "product": ["Widget", None],
        }
    )
    fields = {
        "id": "00731",
        "name": "Ana <Smith>",
        "team": "East & Co",
        "sales_manager": "Bo Lee",
        "region": None,
        "period": "FY2025-Q4",
        "period_start": datetime.date(2025, 4, 1),
        "period_end": datetime.date(2025, 6, 30),
        "as_of": datetime.date(2025, 6, 30),
        "currency": "USD",
        "summary": {
            "revenue": D("9000.10"),
            "quota": D("12000.00"),
            "attainment": 0.7500083333,
            "commission_total": D("450.01"),
            "performance_status": "ok",
        },
        "quarterly": quarterly,
        "commission": commission,
        "accounts": accounts,
        "forecast": forecast,
        "performance": performance,
        "deals": deals,
        "notes": ("Quota for FY2025-Q3 is missing; attainment shown as n/a.",),
    }
    fields.update(overrides)
    return AccountManagerReport(**fields)


def team_report(**overrides) -> TeamReport:
    """Team "East & Co" of two account managers, one with no quota."""
    leaderboard = pd.DataFrame(
        {
            "rank": [1, 2],
            "account_manager_id": ["00731", "AM-9"],
            "name": ["Ana <Smith>", FORMULA],
            "revenue": [D("9000.10"), D("-10.00")],
            "quota": [D("12000.00"), None],
            "attainment": [0.7500083333, NAN],
            "commission": [D("450.01"), D("0.00")],
            "forecast": [D("31295.72"), D("0.00")],
            "performance_status": ["ok", "watch"],
        }
    )
    fields = {
        "id": "East & Co",
        "name": "East & Co",
        "sales_manager": "Bo Lee",
        "period": "FY2025-Q4",
        "period_start": datetime.date(2025, 4, 1),
        "period_end": datetime.date(2025, 6, 30),
        "as_of": datetime.date(2025, 6, 30),
        "currency": "USD",
        "summary": {"revenue": D("8990.10"), "quota": D("12000.00"), "attainment": 0.7491750000, "members": 2},
        "leaderboard": leaderboard,
        "attainment_distribution": pd.DataFrame({"band": ["< 90%", "90-100%", ">= 100%", "n/a"], "count": [1, 0, 0, 1]}),
        "quarterly": pd.DataFrame(
            {
                "period": ["FY2025-Q3", "FY2025-Q4"],
                "revenue": [D("100.00"), D("8990.10")],
                "credited_revenue": [None, D("8990.10")],  # attainment basis: Q3 has no quota, nobody counted
                "quota": [None, D("12000.00")],
                "attainment": [NAN, 0.749175],
            }
        ),
        "forecast": pd.DataFrame(
            {
                "account_manager_id": ["00731", "AM-9", "(team)"],
                "name": ["Ana <Smith>", FORMULA, "Team total"],
                "ytd_revenue": [D("31295.72"), D("-10.00"), D("31285.72")],
                "forecast": [D("31295.72"), D("0.00"), D("31295.72")],
                "annual_quota": [D("32000.00"), None, D("32000.00")],
                "forecast_attainment": [0.977991, NAN, 0.977991],
                "low": [D("31295.72"), D("0.00"), D("31295.72")],
                "high": [D("31295.72"), D("0.00"), D("31295.72")],
            }
        ),
        "performance_watch": pd.DataFrame(
            {"account_manager_id": ["AM-9"], "name": [FORMULA], "consecutive_misses": [2], "status": ["watch"]}
        ),
        "commission_expense": pd.DataFrame(
            {
                "account_manager_id": ["00731", "AM-9"],
                "name": ["Ana <Smith>", FORMULA],
                "commission": [D("450.01"), D("0.00")],
                "bonus": [D("0.00"), D("0.00")],
                "total": [D("450.01"), D("0.00")],
            }
        ),
    }
    fields.update(overrides)
    return TeamReport(**fields)
