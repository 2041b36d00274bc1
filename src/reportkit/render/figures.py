"""A chart in a report's notebook: a static PNG with its alternative text, and the SVG a PDF prints.

Templates call :func:`figure` (re-exported by :mod:`reportkit.render.notebook`) on a
:mod:`reportkit.render.charts` figure. Its output is the chart's PNG (``image/png``, and the
same PNG as an ``<img alt=...>`` in ``text/html``, what the exported page shows), a
``text/plain`` description and, for print, the same chart as ``image/svg+xml``.

The SVG is only read when the report is printed (:mod:`reportkit.run.html`'s print body
prefers it). Drawing it costs 35-55 ms of a kernel's CPU per chart (docs/batch.md, "Session
13"), so a report whose batch makes no PDF of it does not draw it: ``reportkit batch``
builds such a report with ``print_charts=False`` (:meth:`reportkit.run.plan.BatchPlan.prepare`)
and :func:`reportkit.render.report_files.load_report` hands that to :func:`follow_report`.
A report built by hand, or any object without ``print_charts``, keeps the SVG.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

__all__ = ["Chart", "figure", "follow_report"]

_print_copy = True
"""Whether :func:`figure` adds the SVG print copy: the last report :func:`follow_report` saw says."""


def follow_report(report: Any) -> None:
    """Make this process's :func:`figure` draw the SVG print copy only if ``report`` is printed.

    ``report.print_charts`` (a report object's field; True when absent): False when the
    batch that built it makes no PDF of it. One kernel shows one report, so the setting is
    the process's; a notebook that loads several reports follows the last one loaded.
    """
    global _print_copy
    _print_copy = bool(getattr(report, "print_charts", True))


@dataclass(frozen=True)
class Chart:
    """A static PNG chart with alternative text, shown by Jupyter as an image.

    The mime bundle carries the PNG, the same PNG as an ``<img alt=...>`` in
    ``text/html`` (what the exported HTML shows), a ``text/plain`` description
    (what a console and a screen reader see) and, when given, the same chart as
    vector ``image/svg+xml`` (what the PDF prints; the page and JupyterLab prefer
    the ``text/html``).
    """

    png: bytes
    alt: str
    svg: str | None = None

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict, dict]:
        import base64

        b64 = base64.b64encode(self.png).decode("ascii")
        data = {
            "image/png": b64,
            # nbconvert's lab template drops the alt metadata of image/png; an <img>
            # in text/html keeps it in the exported page (and is what it prefers).
            "text/html": f'<img src="data:image/png;base64,{b64}" alt="{html.escape(self.alt)}">',
            "text/plain": f"[chart] {self.alt}",
        }
        if self.svg:
            data["image/svg+xml"] = self.svg
        return data, {"image/png": {"alt": self.alt}}

    def __repr__(self) -> str:
        return f"[chart] {self.alt}"


def figure(fig: Any, alt: str | None = None) -> Chart:
    """Show a :mod:`reportkit.render.charts` figure as a static, deterministic PNG (and SVG for print).

    The SVG, the copy a PDF prints, is drawn unless the report this notebook loaded says no
    PDF is made of it (:func:`follow_report`; a batch with PDFs off): the page, the notebook
    and JupyterLab show the PNG either way.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    alt : str, optional
        Alternative text; default: the titles of the figure's axes.
    """
    from .charts import to_png, to_svg  # lazy: matplotlib only for a template that shows a figure

    if alt is None:
        titles = (ax.get_title(loc=loc) for ax in fig.axes for loc in ("left", "center", "right"))
        alt = "; ".join(t for t in titles if t) or "chart"
    return Chart(png=to_png(fig), alt=alt, svg=to_svg(fig) if _print_copy else None)
