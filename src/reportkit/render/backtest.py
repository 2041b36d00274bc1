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

from ..domain.backtest import BASELINE, backtest_forecasts, summarise_backtest
from ..domain.forecast import DEFAULT_METHOD, HISTORY_METHODS, LEVELS
from ..domain.loading import load_inputs

__all__ = ["write_backtest", "format_summary", "backtest_cli"]


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
    methods = [m for m in HISTORY_METHODS if m in set(r["method"])]
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    width = 0.8 / max(1, len(methods))
    for i, m in enumerate(methods):
        vals = [r.loc[((r["level"] == lv) & (r["method"] == m)).to_numpy(), "wape"] for lv in levels]
        ys = [float(v.iloc[0]) * 100 if len(v) else np.nan for v in vals]
        label = m + (" (default)" if m == DEFAULT_METHOD else " (baseline)" if m == BASELINE else "")
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
        }
    )
    return table.to_string(index=False)


def backtest_cli(params_path: str | Path, output_dir: str | Path) -> int:
    """Body of ``reportkit backtest PARAMS.yaml --output-dir DIR``.

    Loads the params and their source, runs :func:`run_backtest` with the
    defaults, writes the files of :func:`write_backtest` (with the detail
    CSV) and prints the summary. Returns 0; errors propagate as
    :class:`~reportkit.core.errors.ReportkitError` subclasses for the CLI to map
    to exit codes.
    """
    params_path = Path(params_path)
    params, ds = load_inputs(params_path)
    ms = list(dict.fromkeys([*HISTORY_METHODS, BASELINE]))
    detail = backtest_forecasts(ds, methods=ms)
    summary = summarise_backtest(detail)
    name = getattr(params, "name", None) or params_path.stem
    paths = write_backtest(summary, output_dir, detail=detail, title=f"Backtest: {name}")
    print(format_summary(summary))
    print(f"wrote {', '.join(str(p) for p in paths.values())}")
    return 0
