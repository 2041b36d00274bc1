"""Test helper for forecast categories (issue #13 item 11): a canonical pipeline frame from tuples."""

from __future__ import annotations

import pandas as pd

from reportkit.data.model import FORECAST_CATEGORY


def pipeline_frame(opps) -> pd.DataFrame:
    """opps: (account manager, forecast category, expected close date or None, amount in cents); ids O0, O1, ..."""
    return pd.DataFrame(
        {
            "opportunity_id": [f"O{i}" for i in range(len(opps))],
            "account_manager_id": pd.Series([o[0] for o in opps], dtype="str"),
            "account_id": "ACC",
            "stage": "s",
            "probability": 0.5,
            "expected_close_date": pd.to_datetime([o[2] for o in opps]),
            "amount_cents": pd.Series([o[3] for o in opps], dtype="int64"),
            FORECAST_CATEGORY: pd.Series([o[1] for o in opps], dtype="str"),
        }
    )
