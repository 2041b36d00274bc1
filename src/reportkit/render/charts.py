"""Static, deterministic matplotlib charts drawn from report objects.

Charts use :class:`matplotlib.figure.Figure` with the Agg canvas directly (no
``pyplot``), so importing this module changes no global backend or state and a
figure is never shown twice by the inline backend. Each figure is drawn inside a
fixed ``rc_context`` and :func:`to_png` strips the PNG's software/date metadata,
so the same report gives the same bytes on the same matplotlib version.

No arithmetic happens here: the bars are the report's own ``revenue`` / ``quota``
values (a team's: ``credited_revenue`` / ``quota``, the attainment basis) (``Decimal`` converted to ``float`` only to place them on an axis).
A chart whose values are all zero or missing has an axis from 0 with one tick (``$0``) and says
why it is empty ("no revenue and no quota in these periods"), in the PNG of the notebook and the
HTML and the SVG of the PDF alike (:func:`_nothing_to_scale`), and so does the workbook's native chart
(:func:`reportkit.render.labels.empty_chart_note`).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from .labels import empty_chart_note, money_tick, revenue_vs_quota_note

__all__ = [
    "quarterly_chart",
    "team_quarterly_chart",
    "attainment_distribution_chart",
    "forecast_range_chart",
    "to_png",
    "to_svg",
    "money_tick",
]

_RC = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "svg.hashsalt": "reportkit",
    "path.simplify": True,
}
_REVENUE = "#2b6cb0"
_QUOTA = "#a0aec0"
_SIZE = (7.0, 3.2)


def _tight_layout(fig: Figure) -> None:
    """Lay ``fig`` out tightly once, and leave it without a layout engine.

    ``Figure.tight_layout`` leaves a placeholder engine behind, and with any engine set
    ``savefig`` renders the whole figure once more (PNG encoding included) before the
    real pass; the placeholder lays nothing out, so without it each save draws once and
    gives the same bytes (issue #18: about a third of a chart's cost).
    """
    fig.tight_layout()
    fig.set_layout_engine(None)


def _num(value: Any) -> float:
    """Axis position of a value; missing values become NaN (no bar is drawn)."""
    if value is None:
        return math.nan
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else math.nan
    try:
        f = float(value)
    except (TypeError, ValueError):
        return math.nan
    return f


def _money_axis(currency: str) -> FuncFormatter:
    return FuncFormatter(lambda x, _pos: money_tick(x, currency))


def _nothing_to_scale(ax: Any, values: Sequence[float], note: str, axis: str = "y") -> None:
    """An axis whose values are all zero or missing: 0 to 1 with one tick, ``$0``, and ``note`` across the plot.

    The rule and its words: :func:`reportkit.render.labels.empty_chart_note`, which the
    workbook's chart follows too.
    """
    if empty_chart_note(values, note) is None:
        return
    (ax.set_ylim if axis == "y" else ax.set_xlim)(0, 1)
    (ax.set_yticks if axis == "y" else ax.set_xticks)([0])
    ax.text(0.5, 0.5, note, ha="center", va="center", transform=ax.transAxes, color="#4a5568")


def _revenue_vs_quota(
    labels: Sequence[str],
    revenue: Sequence[Any],
    quota: Sequence[Any],
    currency: str,
    title: str,
    revenue_label: str = "Revenue",
    title_above_legend: bool = False,
) -> Figure:
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=_SIZE)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        x = list(range(len(labels)))
        width = 0.38
        bars, quotas = [_num(v) for v in revenue], [_num(v) for v in quota]
        ax.bar([i - width / 2 for i in x], bars, width, label=revenue_label, color=_REVENUE)
        ax.bar([i + width / 2 for i in x], quotas, width, label="Quota", color=_QUOTA)
        _nothing_to_scale(ax, bars + quotas, revenue_vs_quota_note(revenue_label))
        ax.set_xticks(x)
        ax.set_xticklabels([str(s) for s in labels])
        ax.yaxis.set_major_formatter(_money_axis(currency))
        ax.axhline(0, color="#4a5568", linewidth=0.6)
        # title left, legend right, both above the plot: the legend never covers a bar
        ax.set_title(title, loc="left", pad=30 if title_above_legend else 14)  # a long title: its own line
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2, frameon=False, borderaxespad=0.2)
        if not labels:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
        _tight_layout(fig)
    return fig


def quarterly_chart(report: Any) -> Figure:
    """Revenue vs quota per quarter of an :class:`~reportkit.reports.builders.AccountManagerReport`.

    Quarters with an undefined quota (NaN/None) show only the revenue bar.
    """
    q = report.quarterly
    return _revenue_vs_quota(
        list(q["period"]),
        list(q["revenue"]),
        list(q["quota"]),
        report.currency,
        f"{report.name}: revenue vs quota",
    )


def team_quarterly_chart(report: Any) -> Figure:
    """Team credited revenue (attainment basis) vs team quota per quarter of a :class:`~reportkit.reports.builders.TeamReport`.

    A bar set next to a quota bar is on the attainment basis: the ``quarterly``
    frame's ``credited_revenue`` (the numerator of its ``attainment``), never
    the each-deal-once ``revenue`` (see :func:`reportkit.domain.quota.pooled_attainment`).
    """
    q = report.quarterly
    return _revenue_vs_quota(
        list(q["period"]),
        list(q["credited_revenue"]),
        list(q["quota"]),
        report.currency,
        f"{report.name}: credited revenue (attainment basis) vs quota",
        revenue_label="Credited revenue",
        title_above_legend=True,
    )


def attainment_distribution_chart(report: Any) -> Figure:
    """Bar chart of how many account managers fall in each attainment band."""
    dist = report.attainment_distribution
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=_SIZE)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        bands = [str(b) for b in dist["band"]]
        counts = [int(c) for c in dist["count"]]
        ax.bar(range(len(bands)), counts, 0.6, color=_REVENUE)
        ax.set_xticks(range(len(bands)))
        ax.set_xticklabels(bands)
        ax.set_ylabel("Account managers")
        ax.yaxis.get_major_locator().set_params(integer=True)
        _nothing_to_scale(ax, [float(c) for c in counts], "no account manager in any band")
        ax.set_title(f"{report.name}: attainment distribution, {report.period}")
        _tight_layout(fig)
    return fig


def to_svg(fig: Figure) -> str:
    """SVG text of ``fig`` (vector, text kept as text in DejaVu Sans), without a date (byte-stable).

    The PDF prints this; ids are derived from ``svg.hashsalt``, so the same
    figure gives the same text on the same matplotlib version.
    """
    buf = io.StringIO()
    with matplotlib.rc_context({**_RC, "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return buf.getvalue()


def forecast_range_chart(report: Any) -> Figure:
    """Annual forecast with its low-high range against the annual quota, per row of a company report's ``forecast``.

    Each row (every team, then the company total) gets a forecast bar (each deal
    once) with its range drawn as an error bar, and its annual quota as a grey bar
    beside it. Values are the report's own (``forecast``, ``low``, ``high``,
    ``annual_quota``); nothing is computed but the bars' positions.
    """
    f = report.forecast
    labels = [str(t) for t in f["team"]]
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(_SIZE[0], max(_SIZE[1], 0.55 * len(labels) + 1.4)))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        y = list(range(len(labels)))
        h = 0.38
        mid = [_num(v) for v in f["forecast"]]
        lo = [max(0.0, m - _num(v)) if not math.isnan(m) else math.nan for m, v in zip(mid, f["low"])]
        hi = [max(0.0, _num(v) - m) if not math.isnan(m) else math.nan for m, v in zip(mid, f["high"])]
        ax.barh([i - h / 2 for i in y], mid, h, xerr=[lo, hi], label="Annual forecast (range)", color=_REVENUE, capsize=3)
        quotas = [_num(v) for v in f["annual_quota"]]
        ax.barh([i + h / 2 for i in y], quotas, h, label="Annual quota", color=_QUOTA)
        _nothing_to_scale(ax, mid + quotas, "no forecast and no annual quota", axis="x")
        ax.set_yticks(y)
        ax.set_yticklabels(labels)
        ax.invert_yaxis()
        ax.xaxis.set_major_formatter(_money_axis(report.currency))
        ax.set_title(f"{report.name}: annual forecast vs annual quota", loc="left", pad=30)
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2, frameon=False, borderaxespad=0.2)
        _tight_layout(fig)
    return fig


def to_png(fig: Figure) -> bytes:
    """PNG bytes of ``fig`` without date/software metadata (byte-stable)."""
    buf = io.BytesIO()
    with matplotlib.rc_context(_RC):
        fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()
