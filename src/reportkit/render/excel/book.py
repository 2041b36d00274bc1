"""The workbook: xlsxwriter's options, its format set, sheet naming, properties and the atomic write.

Every workbook is opened the same way (text stays text: ``strings_to_formulas``,
``strings_to_numbers`` and ``strings_to_urls`` off), its sheets are named by
:func:`safe_sheet_name`, its properties are fixed (created = ``as_of``) so the
same report gives a byte-identical file, and it is written to a temporary name
and moved into place (:func:`_atomic`, on :func:`reportkit.core.files.atomic_write`).
"""

from __future__ import annotations

import datetime
import math
import re
import zoneinfo
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import xlsxwriter
import xlsxwriter.exceptions

from ...config.params import PdfOptions
from ...core.files import atomic_write
from ..titles import PrintTitle
from .formats import DEFAULT_MISS_BELOW, Branding, _Formats, attainment_bands

_INVALID_SHEET_CHARS = re.compile(r"[\[\]:*?/\\\x00-\x1f\x7f]")


def safe_sheet_name(name: Any, taken: Collection[str] = ()) -> str:
    """A valid, unique Excel sheet name for ``name``; deterministic.

    Excel's rules: at most 31 characters (UTF-16 units), none of ``[ ] : * ? / \\``,
    not starting or ending with ``'``, not ``History`` (reserved), unique ignoring
    case. Invalid characters (and control characters) become ``_``; an empty
    name becomes ``Sheet``; a clash gets `` (2)``, `` (3)``... with the base
    shortened so the whole stays within 31 characters. The caller adds the
    result to ``taken``.

    >>> safe_sheet_name("Q1/Q2: [West]*")
    'Q1_Q2_ _West__'
    >>> safe_sheet_name("deals", taken={"Deals"})
    'deals (2)'
    >>> safe_sheet_name("history")
    'history (2)'
    """
    text = _INVALID_SHEET_CHARS.sub("_", str(name if name is not None else "")).strip()
    text = text.strip("'").strip() or "Sheet"
    text = _utf16_cut(text, 31).rstrip("'").rstrip() or "Sheet"
    used = {t.lower() for t in taken} | {"history"}
    if text.lower() not in used:
        return text
    n = 2
    while True:
        suffix = f" ({n})"
        base = _utf16_cut(text, 31 - len(suffix)).rstrip("'").rstrip() or "Sheet"
        cand = base + suffix
        if cand.lower() not in used:
            return cand
        n += 1


def _utf16_cut(text: str, limit: int) -> str:
    out, units = [], 0
    for ch in text:
        u = 2 if ord(ch) > 0xFFFF else 1
        if units + u > limit:
            break
        out.append(ch)
        units += u
    return "".join(out)


def _header_text(text: str, limit: int = 80) -> str:
    """``text`` for an Excel page header or footer: ``&`` doubled (a lone ``&`` starts a code), cut to ``limit``."""
    text = " ".join(str(text).split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text.replace("&", "&&")


def fit_title_row(ws: Any, title: PrintTitle | None, width: float | None) -> None:
    """Make the title row tall enough for its wrapped text over columns ``width`` characters wide in total."""
    if title is None:
        return
    # a 12-point bold line holds about 0.8 characters per character of column width
    lines = max(1, math.ceil(len(title.text) / max(1.0, 0.8 * width))) if width else 1
    ws.set_row(0, 17 * lines)


DEFAULT_PAPER: str = PdfOptions.model_fields["paper"].default
"""The params default of ``pdf.paper`` ("A4"): the sheet a workbook prints on unless the params say otherwise."""
DEFAULT_ORIENTATION: str = PdfOptions.model_fields["orientation"].default
"""The params default of ``pdf.orientation`` ("landscape")."""
PAPER_SIZES = {"A4": 9, "Letter": 1}
"""xlsxwriter's paper codes (``set_paper``) of the params ``pdf.paper`` values."""


def page_of(obj: Any) -> tuple[str, str]:
    """``(paper, orientation)`` a report object carries (params ``pdf.paper``, ``pdf.orientation``), else the params defaults."""
    return str(getattr(obj, "paper", DEFAULT_PAPER)), str(getattr(obj, "orientation", DEFAULT_ORIENTATION))


def _check_page(paper: str, orientation: str) -> None:
    if paper not in PAPER_SIZES or orientation not in ("landscape", "portrait"):
        raise ValueError(
            f"paper {paper!r} / orientation {orientation!r}: use paper A4 or Letter and orientation landscape or portrait"
            " (params pdf.paper, pdf.orientation)"
        )


def print_setup(
    ws: Any,
    title: PrintTitle | None,
    header_row: int,
    title_format: Any = None,
    columns: int = 1,
    width: float | None = None,
    paper: str = DEFAULT_PAPER,
    orientation: str = DEFAULT_ORIENTATION,
) -> None:
    """Page setup of every sheet reportkit writes: the one rule for printing a workbook.

    * the title row (row 0, when ``title`` is given): company, report, period and
      as-of as a real cell (:class:`reportkit.render.titles.PrintTitle`), merged
      over the sheet's ``columns`` and wrapped, so it prints within the page's
      width (``width``: the columns' total width in characters, to size the row);
    * ``paper`` ("A4" or "Letter") and ``orientation`` ("landscape" or
      "portrait"): the params ``pdf.paper`` / ``pdf.orientation``, the same sheet
      the report's PDF is printed on (default A4 landscape); side margins of
      1 cm, so a wide sheet prints as large as it can;
    * fit to one page wide (as many pages tall as it takes);
    * the title row and the column header row (``header_row``) repeated on every
      printed page;
    * page header: company, sheet name, period and as-of; page footer: the report
      and ``Page N of M``.

    Raises
    ------
    ValueError
        ``paper`` or ``orientation`` is not one the params allow.
    """
    _check_page(paper, orientation)
    if title is not None:
        if columns > 1:
            ws.merge_range(0, 0, 0, columns - 1, title.text, title_format)
        else:
            ws.write_string(0, 0, title.text, title_format)
        fit_title_row(ws, title, width)
    ws.set_paper(PAPER_SIZES[paper])
    if orientation == "landscape":
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.set_margins(left=0.4, right=0.4, top=0.75, bottom=0.75)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0, header_row)
    if title is not None:
        ws.set_header(f"&L{_header_text(title.company)}&C&A&R{_header_text(title.when)}")
        ws.set_footer(f"&L{_header_text(title.report)}&RPage &P of &N")
    else:
        ws.set_footer("&L&A&RPage &P of &N")


class _Book:
    def __init__(
        self,
        path: Path,
        currency: str,
        tz: str | datetime.tzinfo,
        constant_memory: bool,
        overflow: str,
        miss_below: float = DEFAULT_MISS_BELOW,
        title: PrintTitle | None = None,
        branding: Branding | None = None,
        paper: str = DEFAULT_PAPER,
        orientation: str = DEFAULT_ORIENTATION,
    ) -> None:
        if overflow not in ("split", "error"):
            raise ValueError(f"overflow must be 'split' or 'error', got {overflow!r}")
        self.tz = _tzinfo(tz)
        attainment_bands(miss_below)  # validate before a file is created
        _check_page(paper, orientation)
        self.currency = currency
        self.constant_memory = constant_memory
        self.overflow = overflow
        self.wb = xlsxwriter.Workbook(
            str(path),
            {
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
                "nan_inf_to_errors": False,
                "default_date_format": "yyyy-mm-dd",
                "constant_memory": constant_memory,
            },
        )
        self.fmt = _Formats(self.wb, currency, miss_below, branding)
        self.company = branding.company if branding is not None and branding.company else ""
        self.names: list[str] = []
        self.tables = 0
        self.title = title
        self.paper, self.orientation = paper, orientation
        self.header_row = 0 if title is None else 1
        """Row of every sheet's column headers: below the title row when there is one."""

    def add_sheet(self, name: str, columns: int = 1, width: float | None = None) -> tuple[str, Any]:
        """A new sheet, named safely, with the title row over ``columns`` and the page setup (:func:`print_setup`).

        ``width`` is the total width of those columns in characters (sizes the title row).
        """
        safe = safe_sheet_name(name, self.names)
        self.names.append(safe)
        ws = self.wb.add_worksheet(safe)
        print_setup(ws, self.title, self.header_row, self.fmt.print_title, columns, width, self.paper, self.orientation)
        return safe, ws

    def table_name(self, sheet: str) -> str:
        self.tables += 1
        return f"T{self.tables}_" + (re.sub(r"[^A-Za-z0-9_]", "_", sheet)[:200] or "Sheet")


def _tzinfo(tz: str | datetime.tzinfo) -> datetime.tzinfo:
    if isinstance(tz, datetime.tzinfo):
        return tz
    if str(tz).upper() == "UTC":
        return datetime.UTC
    try:
        return zoneinfo.ZoneInfo(str(tz))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown timezone {tz!r}: use an IANA name such as 'Europe/Berlin' or 'UTC'") from exc


def _props(book: _Book, title: str, subject: str, as_of: datetime.date, company: str, comments: str) -> None:
    book.wb.set_properties(
        {
            "title": title,
            "subject": subject,
            "author": "reportkit",
            "manager": "",
            "company": company or "",
            "category": "Sales report",
            "keywords": "reportkit, sales, quota, commission",
            "comments": comments,
            "created": datetime.datetime.combine(as_of, datetime.time()),
        }
    )


def _atomic(path: Path, build: Callable[[Path], None]) -> Path:
    """Build the workbook at a temporary name and move it into place (:func:`reportkit.core.files.atomic_write`)."""
    return atomic_write(
        path,
        build,
        what="workbook",
        hint="check the folder exists and is writable",
        write_errors=(xlsxwriter.exceptions.FileCreateError,),
    )
