"""``reportkit backtest``: the backtest's files and console table.

:func:`write_backtest` writes ``backtest_summary.csv``, ``backtest_detail.csv`` and the
WAPE chart ``backtest_wape.png``; :func:`format_summary` is the console table;
:func:`backtest_cli` is the command's body. The figures come from
:mod:`reportkit.domain.backtest` (WAPE, bias, the cutoffs, no look-ahead); this module
only presents them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..core.words import counted
from ..domain.backtest import (
    BASELINE,
    RECONCILED,
    SELECTED,
    backtest_forecasts,
    entities_without_last_year,
    method_words,
    summarise_backtest,
)
from ..domain.forecast import LEVELS
from ..domain.forecast_choice import BASE_METHODS
from ..domain.forecast_models import INTERVAL, fit_cache
from ..domain.loading import load_inputs

#: The methods in display order: the rules, the models, the per-level choice, the default.
SHOWN_METHODS = (*BASE_METHODS, SELECTED, RECONCILED)

__all__ = ["write_backtest", "format_summary", "format_choices", "format_excluded", "backtest_cli", "SHOWN_METHODS"]


def write_backtest(
    result: pd.DataFrame, output_dir: str | Path, *, detail: pd.DataFrame | None = None, title: str = "Forecast backtest"
) -> dict[str, Path]:
    """Write ``backtest_summary.csv``, ``backtest_wape.png`` (and ``backtest_detail.csv`` when given).

    The chart shows WAPE per level (groups) and method (bars) on the
    ``with prior year`` scope when present, else ``all``; the default method
    and the seasonal-naive baseline are labelled as such.

    Returns
    -------
    dict
        ``{"summary": path, "chart": path[, "detail": path]}``.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {"summary": out / "backtest_summary.csv", "chart": out / "backtest_wape.png"}
    result.to_csv(paths["summary"], index=False)
    if detail is not None:
        paths["detail"] = out / "backtest_detail.csv"
        detail.to_csv(paths["detail"], index=False)
    scope = "with prior year" if (result["scope"] == "with prior year").any() else "all"
    r = result.loc[(result["scope"] == scope).to_numpy()]
    levels = [lv for lv in LEVELS if lv in set(r["level"])]
    methods = [m for m in SHOWN_METHODS if m in set(r["method"])]
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    width = 0.8 / max(1, len(methods))
    for i, m in enumerate(methods):
        vals = [r.loc[((r["level"] == lv) & (r["method"] == m)).to_numpy(), "wape"] for lv in levels]
        ys = [float(v.iloc[0]) * 100 if len(v) else np.nan for v in vals]
        label = m + (" (default)" if m == RECONCILED else " (baseline)" if m == BASELINE else "")
        ax.bar(np.arange(len(levels)) + i * width - 0.4 + width / 2, ys, width, label=label)
    ax.set_xticks(np.arange(len(levels)), [lv.replace("_", " ") for lv in levels])
    ax.set_ylabel("WAPE of the remaining-year forecast (%)")
    ax.set_title(f"{title} ({scope})")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(paths["chart"])
    plt.close(fig)
    return paths


def format_summary(summary: pd.DataFrame) -> str:
    """The backtest summary as a console table: WAPE and bias in percent, n/a where undefined."""

    def pct(v: Any) -> str:
        return "n/a" if v is None or pd.isna(v) else f"{float(v) * 100:.1f}%"

    def yes_no(v: Any) -> str:
        return "" if v is None or pd.isna(v) else ("yes" if bool(v) else "no")

    table = pd.DataFrame(
        {
            "scope": summary["scope"],
            "level": summary["level"],
            "method": summary["method"],
            "forecasts": summary["n_forecasts"].astype(int),
            "cutoffs": summary["n_cutoffs"].astype(int),
            "WAPE": summary["wape"].map(pct),
            "bias": summary["bias"].map(pct),
            "seasonal-naive WAPE": summary["baseline_wape"].map(pct),
            "beats it": summary["beats_baseline"].map(yes_no),
            f"in {INTERVAL:.0%} range": summary["coverage"].map(pct) if "coverage" in summary else "n/a",
        }
    )
    table["method"] = [m + (" (default)" if m == RECONCILED else " (baseline)" if m == BASELINE else "") for m in table["method"]]
    return table.to_string(index=False)


def format_choices(detail: pd.DataFrame) -> str:
    """Which method each level chose at each cutoff and how its range was calibrated (the ``selected`` rows), one line per cutoff.

    The range: ``range x k (n earlier)`` (split-conformal on ``n`` earlier forecasts,
    :func:`reportkit.domain.forecast_choice.interval_scale`) or ``model range`` (too few).
    """
    sel = detail.loc[(detail["method"] == SELECTED).to_numpy()]
    if sel.empty:
        return "no cutoffs"
    lines = []
    for q, g in sel.groupby("quarter", sort=False):
        parts = []
        for lv in LEVELS:
            rows = g.loc[(g["level"] == lv).to_numpy()]
            if len(rows):
                n = int(rows["interval_n"].iloc[0]) if "interval_n" in rows else 0
                rng = f"range x {float(rows['interval_scale'].iloc[0]):.2f} ({n} earlier)" if n else "model range"
                parts.append(f"{lv.replace('_', ' ')}: {method_words(rows['chosen_method'].value_counts().index[0])}, {rng}")
        lines.append(f"{q}  " + "; ".join(parts))
    return "\n".join(lines)


def format_excluded(detail: pd.DataFrame) -> str:
    """The entities left out of the head-to-head (no revenue last year), one line each, or a line saying none."""
    ex = entities_without_last_year(detail)
    if ex.empty:
        return "none"
    return "\n".join(
        f"{r.level.replace('_', ' ')} {r.entity}: {counted(r.cutoffs, 'cutoff')}, actual rest of year {r.actual_remaining:,.2f}"
        for r in ex.itertuples()
    )


def backtest_cli(params_path: str | Path, output_dir: str | Path) -> int:
    """Body of ``reportkit backtest PARAMS.yaml --output-dir DIR``.

    Loads the params and their source, runs the backtest with the defaults
    (every method, ``selected`` and the default ``reconciled``), writes the files of
    :func:`write_backtest` (with the detail CSV) and prints the summary (WAPE,
    bias, seasonal-naive WAPE, interval coverage), the method each level chose at
    each cutoff and the entities left out of the head-to-head. A data set whose
    cutoffs have no full prior year (Maven: one year) says so: no head-to-head. Returns 0; errors propagate as
    :class:`~reportkit.core.errors.ReportkitError` subclasses for the CLI to map
    to exit codes. The model fits are read from, and added to, the params' cache of fits
    (:meth:`~reportkit.config.params.BatchParams.cache_folder`), as a batch's are.
    """
    params_path = Path(params_path)
    params, ds = load_inputs(params_path)
    folder = params.cache_folder()  # the batch's cache of model fits: a fit either one made, the other reads
    detail = backtest_forecasts(ds, fit_cache=fit_cache(folder) if folder else None)
    summary = summarise_backtest(detail)
    name = getattr(params, "name", None) or params_path.stem
    paths = write_backtest(summary, output_dir, detail=detail, title=f"Backtest: {name}")
    years = sorted(set(ds.calendar.fiscal_years(ds.deals["close_date"]).dropna().astype(int))) if len(ds.deals) else []
    if not (summary["scope"] == "with prior year").any():
        print(
            f"{name}: the data covers {counted(len(years), 'fiscal year')} ({', '.join(f'FY{y}' for y in years)}); no cutoff has a full prior year, so there is no head-to-head with seasonal naive (skipped)."
        )
    print(format_summary(summary))
    print(
        f"\nChosen method per level at each cutoff (lowest backtest WAPE over earlier complete years; {method_words(BASELINE)} without any)"
        " and its 80 % range (split-conformal on the earlier forecasts' errors; the model's own with fewer than 6):"
    )
    print(format_choices(detail))
    print("\nLeft out of the head-to-head (no revenue in the last fiscal year):")
    print(format_excluded(detail))
    print(f"wrote {', '.join(str(p) for p in paths.values())}")
    return 0
