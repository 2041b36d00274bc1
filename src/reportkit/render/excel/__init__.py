"""Excel workbooks (xlsxwriter) from report objects.

One workbook per report, the same figures the notebook shows, plus one company
workbook per batch:

* account manager: Summary, Quarterly results, Commission statement, Accounts,
  Forecast, Deals
* team: Summary, Leaderboard, Attainment distribution, Performance watch,
  Forecast roll-up, Commission expense, Quarterly results
* company report: Summary, then :data:`COMPANY_SHEETS` (teams with the company
  total, quarterly results, account managers, attainment distribution, performance
  watch, forecast, forecast accuracy, pipeline coverage, win rate and deal size,
  top accounts, accounts at risk, commission expense)
* the batch's ``company.xlsx`` (:func:`write_company_workbook`): a ``Company``
  roll-up sheet, then one sheet per team

Rules (``docs/excel.md`` has the full layout):

* ``Decimal`` money is written as a *number* with a currency format; fractions
  (attainment, rates) as numbers with a percent format; dates as Excel dates
  ``yyyy-mm-dd`` (never a bare serial number).
* **Live formulas where a reader audits**: attainment is
  ``=IF(quota=0,"n/a",revenue/quota)``, statement and expense totals are ``SUM``
  of their lines, roll-ups sum (or reference) their parts. Every formula carries
  its cached value (reportkit's figure) so viewers that do not recalculate show
  the same number. A formula is only written where recalculating it gives
  reportkit's figure (to the cent; checked here with exact ``Decimal``); where
  the domain's figure is not the plain sum/ratio (e.g. a team total with
  overlapping territory credits) the figure is written as a value.
* ``NaN`` / ``None`` / ``inf`` is never written as a number: missing fractions
  show the text ``n/a``, other missing cells stay blank.
* Text from the data is always text (``write_string``; ``strings_to_formulas``,
  ``strings_to_numbers`` and ``strings_to_urls`` off): ``=1+1``, ``+SUM(A1)``,
  ``@x`` and URLs stay plain strings.
* Sheet names come from :func:`safe_sheet_name` (valid, unique, deterministic).
* A frame with more rows than a sheet holds is split across ``Deals``,
  ``Deals (2)``... (or refused, ``overflow="error"``); it is never cut.
* Large workbooks (more than :data:`CONSTANT_MEMORY_ROWS` rows in one frame) are
  written in xlsxwriter's constant-memory mode: every sheet is written strictly
  row by row (this module always does), and Excel tables, which that mode does
  not support, become plain autofilter ranges.
* Attainment cells are coloured by the performance policy (params
  ``performance.miss_below``, carried by the report): red below the miss
  threshold, amber up to quota, green from quota met (:func:`attainment_bands`).
  Timezone-aware timestamps are shown in the params ``timezone``.
* Workbook properties are fixed (created = ``as_of``) so the same report gives a
  byte-identical workbook; the file is written to a temporary name and moved into
  place with :func:`os.replace`.

This module is the façade: the two writers and every name listed in ``__all__``
are importable from here. Where each part lives:

* :mod:`~reportkit.render.excel.formats`: the one format set, money formats, attainment bands;
* :mod:`~reportkit.render.excel.formulas`: money columns and formulas (exact checks, references);
* :mod:`~reportkit.render.excel.cells`: cell values (numbers, text, dates, ``n/a``);
* :mod:`~reportkit.render.excel.book`: the workbook (options, sheet names, properties, atomic write);
* :mod:`~reportkit.render.excel.frames`: list sheets (rows, live formulas, total row, splitting, streaming);
* :mod:`~reportkit.render.excel.summary`: the Summary sheet;
* :mod:`~reportkit.render.excel.sheets`: each report kind's list sheets;
* :mod:`~reportkit.render.excel.charts`: charts;
* :mod:`~reportkit.render.excel.company`: the company workbook.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from ...config.params import DEFAULT_TIMEZONE
from ...reports.builders import REPORT_KINDS
from ..titles import print_title
from .book import _atomic, _Book, _props, page_of, safe_sheet_name
from .cells import EXCEL_MAX_STRING
from .charts import _report_charts
from .company import write_company_workbook
from .formats import DEFAULT_MISS_BELOW, QUOTA_MET, attainment_bands, money_format  # noqa: F401 (QUOTA_MET: as before)
from .frames import EXCEL_MAX_ROWS, write_frame_sheet  # noqa: F401 (write_frame_sheet: as before)
from .sheets import AM_SHEETS, COMPANY_SHEETS, KIND_SHEETS, TEAM_SHEETS, _write_report_sheets
from .summary import _summary_links, _write_summary, summary_widths
from .trace import add_trace_sheet
from .trace import line_amounts as _line_amounts

__all__ = [
    "write_workbook",
    "write_company_workbook",
    "safe_sheet_name",
    "money_format",
    "attainment_bands",
    "AM_SHEETS",
    "TEAM_SHEETS",
    "COMPANY_SHEETS",
    "EXCEL_MAX_ROWS",
    "EXCEL_MAX_URLS",
    "EXCEL_MAX_URL_LENGTH",
    "EXCEL_MAX_STRING",
    "CONSTANT_MEMORY_ROWS",
    "PARTS_IN_MEMORY_ROWS",
]

EXCEL_MAX_URLS = 65_530
"""Hyperlinks in one worksheet."""
EXCEL_MAX_URL_LENGTH = 2_079
"""Characters in one hyperlink."""
CONSTANT_MEMORY_ROWS = 50_000
"""A workbook with a frame longer than this is written in constant-memory mode."""
PARTS_IN_MEMORY_ROWS = 50_000
"""A workbook whose frames have at most this many rows in all keeps its parts' XML in memory until
it is zipped, rather than in temporary files: the same bytes in less CPU
(:class:`~reportkit.render.excel.book._PartsInMemory`). Such a workbook is not in constant-memory
mode, so xlsxwriter holds its every cell anyway (more than the cells' XML); the company's of the
200,000-deal org (its 21,402 accounts at risk) peaks at the same memory either way. A larger
one's XML stays in temporary files."""


def _needs_constant_memory(frames: Iterable[pd.DataFrame | None]) -> bool:
    return any(f is not None and len(f) > CONSTANT_MEMORY_ROWS for f in frames)


def write_workbook(
    report: Any,
    path: str | Path,
    *,
    company: str = "",
    timezone: str | datetime.tzinfo | None = None,
    miss_below: float | None = None,
    overflow: str = "split",
    constant_memory: bool | None = None,
) -> Path:
    """Write the Excel workbook of one report, atomically.

    Parameters
    ----------
    report : AccountManagerReport, TeamReport or CompanyReport
        The report object (the same one the notebook renders); its kind picks the
        sheets (:data:`KIND_SHEETS`).
    path : str or Path
        Destination ``.xlsx``; its folder must exist. The workbook is written to
        a temporary file next to it and moved into place with :func:`os.replace`,
        so readers never see half a file.
    company : str, default ""
        Document property *Company* (e.g. the params ``name``), and the first part of
        the title row every sheet starts with (company, report, period, as-of);
        default: the report's params ``branding.company``. With branding the header
        fill and title colour follow its accent colour (:mod:`reportkit.render.style`).
    timezone : str or tzinfo, optional
        The report's timezone (an IANA name such as ``"Europe/Berlin"``): timezone-aware
        timestamps are converted to it before the timezone is dropped (Excel has
        none), so a deal closed at 23:30 local time stays on its day. Naive
        timestamps are taken as local. Default: the report's ``timezone`` (params
        ``timezone``, itself UTC by default).
    miss_below : float, optional
        Attainment fraction below which a quarter is a miss: the red band of the
        attainment colours (see :func:`attainment_bands`). Default: the report's
        ``miss_below`` (params ``performance.miss_below``, 0.9 by default).
    overflow : {"split", "error"}, default "split"
        A frame longer than a sheet (1,048,575 rows below the header) continues on
        ``Deals (2)``, ``Deals (3)``...; ``"error"`` raises :class:`OutputError`.
    constant_memory : bool, optional
        Force xlsxwriter's constant-memory mode on or off; by default on when a
        frame has more than :data:`CONSTANT_MEMORY_ROWS` rows.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OutputError
        The file could not be written (folder missing, not writable, disk full),
        or a frame is too long for one sheet with ``overflow="error"``.
    ValueError
        An unknown timezone, a ``miss_below`` that is not a finite number >= 0,
        an ``overflow`` other than "split" / "error", or a report ``paper`` /
        ``orientation`` other than A4 / Letter, landscape / portrait.

    Notes
    -----
    Every sheet prints on the report's ``paper`` and ``orientation`` (params
    ``pdf.paper``, ``pdf.orientation``; default A4 landscape), the sheet its PDF
    is printed on (:func:`reportkit.render.excel.book.print_setup`).
    """
    sheets = KIND_SHEETS.get(report.kind, AM_SHEETS)
    tz = getattr(report, "timezone", DEFAULT_TIMEZONE) if timezone is None else timezone
    mb = getattr(report, "miss_below", DEFAULT_MISS_BELOW) if miss_below is None else miss_below
    frames = [getattr(report, attr, None) for _, attr in sheets] + [getattr(report, "commission_trace", None)]
    if constant_memory is None:
        constant_memory = _needs_constant_memory(frames[:-1])
    rows = sum(len(f) for f in frames if isinstance(f, pd.DataFrame))

    branding = getattr(report, "branding", None)
    company = company or (branding.company if branding is not None and branding.company else "")
    paper, orientation = page_of(report)

    def build(tmp: Path) -> None:
        book = _Book(
            tmp,
            report.currency,
            tz,
            bool(constant_memory),
            overflow,
            mb,
            title=print_title(report, company),
            branding=branding,
            paper=paper,
            orientation=orientation,
            parts_in_memory=rows <= PARTS_IN_MEMORY_ROWS,
        )
        _report_properties(book, report, company)
        summary_sheet, summary_ws = book.add_sheet("Summary", summary_widths(report))
        placed = _write_report_sheets(book, report, sheets)
        trace = getattr(report, "commission_trace", None)  # issue #15 part 4: the trace behind each commission line
        add_trace_sheet(book, trace, None if trace is None else _line_amounts(report.commission))
        _report_charts(book, report, placed)
        _write_summary(book, summary_sheet, summary_ws, report, _summary_links(report, placed))
        book.wb.close()

    return _atomic(path, build)


def _report_properties(book: _Book, report: Any, company: str) -> None:
    """Document properties of a report's workbook (fixed, so the same report gives the same bytes)."""
    _props(
        book,
        f"{report.name} — {report.period}",
        REPORT_KINDS[report.kind].title,
        report.as_of,
        company,
        f"{report.period} ({report.period_start.isoformat()} to {report.period_end.isoformat()}), "
        f"as of {report.as_of.isoformat()}; formulas recalculate to reportkit's figures",
    )
