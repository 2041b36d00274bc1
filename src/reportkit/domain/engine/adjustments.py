"""The engine's manual adjustments: one ``adjustment`` line each, in the pay period it names.

A step of :func:`reportkit.domain.engine.compute` after clawbacks. An adjustment
(``account_manager_id, period, amount_cents, reason``) must name an account manager
of the data set and a pay period of the run, and its amount is exact whole cents;
anything else is refused, never skipped.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ...core.errors import DataError, DataProblem, did_you_mean
from ...core.words import counted, in_number
from .inputs import _where, _whole_cents
from .ledger import _KIND, Ledger


def adjustment_lines(
    adjustments: pd.DataFrame | None, am_code: Mapping[str, int], labels: list[str], ledger: Ledger
) -> np.ndarray:
    """Adjustment lines (rule ``manual adjustment: <reason>``) added to ``ledger``.

    Returns
    -------
    int64 array (A, P)
        Adjustment cents per AM and pay period.

    Raises
    ------
    DataError
        An amount that is not whole cents; an unknown account manager or a pay period
        outside the run (each with file or frame, row, column, value and the fix).
    """
    adj_ap = np.zeros((len(am_code), len(labels)), dtype=np.int64)
    if adjustments is None or not len(adjustments):
        return adj_ap
    adj = adjustments.reset_index(drop=True)
    adj_cents, _ = _whole_cents(adj, "amount_cents", "adjustments")
    _check_adjustment_targets(adj, am_code, labels)
    for a, per, amt, why in zip(adj["account_manager_id"], adj["period"], adj_cents, adj["reason"]):
        i, j = am_code[str(a)], labels.index(str(per))
        adj_ap[i, j] += int(amt)
        ledger.add(am=[i], p=j, kind=_KIND["adjustment"], rule=ledger.rule(f"manual adjustment: {why}"), amount=int(amt))
    return adj_ap


def _check_adjustment_targets(adj: pd.DataFrame, am_code: Mapping[str, int], labels: list[str]) -> None:
    """Refuse adjustments naming an account manager or a pay period this run does not compute."""
    problems = []
    span = f"{labels[0]} .. {labels[-1]}" if len(labels) > 1 else labels[0]
    for i, (a, per) in enumerate(zip(adj["account_manager_id"].tolist(), adj["period"].tolist())):
        if a is None or str(a) not in am_code:
            problems.append(
                DataProblem(
                    *_where(adj, i, "adjustments"),
                    "account_manager_id",
                    a,
                    f"account manager {a!r} is not in account_managers{did_you_mean(str(a), am_code)}; "
                    "correct the id (ids are text: '00731' is not '731') or add the person to the roster",
                )
            )
        if per is None or str(per) not in labels:
            problems.append(
                DataProblem(
                    *_where(adj, i, "adjustments"),
                    "period",
                    per,
                    f"pay period {per!r} is not computed by this run (pay periods {span})"
                    f"{did_you_mean(str(per), labels)}; correct the label, or run with since=/period= covering it",
                )
            )
    if problems:
        raise DataError(
            f"adjustments: {counted(len(problems), 'row')} {in_number(len(problems), 'names', 'name')} an unknown account manager or pay period",
            problems,
            hint="an adjustment that matches nobody is never skipped silently",
        )
