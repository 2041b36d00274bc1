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
import types
import zipfile
import zoneinfo
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xlsxwriter
import xlsxwriter.exceptions
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import CellDatetimeTuple, CellNumberTuple, CellStringTuple, Worksheet

from ...config.params import PdfOptions
from ...core.files import atomic_write
from ..titles import PrintTitle
from .blocks import RowBlock
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


LEGIBLE_SCALE = 0.70
"""The smallest print scale a sheet is printed at (1.0 == full size): 11-point text prints at 7.7 points.

About the smallest type tables are set in print (7-8 points: footnotes, stock tables);
below it a reader needs a magnifier. A sheet that fits one page wide at this scale or
larger prints one page wide; a wider sheet prints several pages wide (:func:`print_layout`)."""

_MARGIN_IN = 0.4
"""Left and right page margins (inches): about 1 cm, so a wide sheet prints as large as it can."""
_PAPER_PT = {"A4": (595.28, 841.89), "Letter": (612.0, 792.0)}
"""Paper (short side, long side) in points."""
_PT_PER_WIDTH = 7.13
"""Printed width (points, at full size) of one unit of column width, as LibreOffice prints it.

Measured (LibreOffice 7.4, tests/test_excel_print.py): a column of width ``w`` (xlsxwriter's
``set_column`` unit, the width of a ``0``) prints ``(w + 0.71) * 7.13`` points wide. Excel prints
it narrower (``(7w + 5)`` pixels at 0.75 point), so a layout that fits LibreOffice's page fits Excel's."""
_PAD = 0.71
"""What xlsxwriter adds to a ``set_column`` width in the file (its cell padding)."""
_FIT = 0.98
"""Share of a page's width the columns of a page may fill (slack for rounding in the printer)."""
_MAX_IDENTIFYING = 0.4
"""The repeated identifying columns take at most this share of a page printed at :data:`LEGIBLE_SCALE`."""


def page_width(paper: str = DEFAULT_PAPER, orientation: str = DEFAULT_ORIENTATION) -> float:
    """The printable width of a page in units of column width at full size, as LibreOffice prints it.

    Parameters
    ----------
    paper, orientation : str
        The params ``pdf.paper`` ("A4" or "Letter") and ``pdf.orientation``.

    Returns
    -------
    float
        Characters of column width (``set_column`` units plus xlsxwriter's padding)
        between the 1 cm side margins: A4 landscape about 110, Letter portrait about 78.

    Raises
    ------
    ValueError
        ``paper`` or ``orientation`` is not one the params allow.
    """
    _check_page(paper, orientation)
    short, long = _PAPER_PT[paper]
    return ((long if orientation == "landscape" else short) - 2 * 72 * _MARGIN_IN) / _PT_PER_WIDTH


@dataclass(frozen=True)
class PrintLayout:
    """How a sheet prints across: its scale, where pages break between columns, what repeats.

    Attributes
    ----------
    widths : tuple of float
        Every column's width (characters, as ``set_column`` sets it).
    scale : float
        The print scale the layout is made for (1.0 == full size); one page wide, the
        printer fits the sheet and this is its estimate (at most 1.0).
    breaks : tuple of int
        The first column of each page after the first; empty when one page wide.
    identifying : int
        The leading columns (account, account manager, team...) printed again at the
        left of every page after the first; 0 when one page wide.
    """

    widths: tuple[float, ...]
    scale: float
    breaks: tuple[int, ...] = ()
    identifying: int = 0

    @property
    def pages_wide(self) -> int:
        return len(self.breaks) + 1

    @property
    def spans(self) -> list[tuple[int, int]]:
        """Each page's own columns ``[first, last]`` (inclusive), the identifying columns left out of the first page's.

        A sentence merged over a span (the title row, a note under a table) and a chart within
        the first span print whole on their page; over the repeated columns they would be
        printed again, cut, on every later page.
        """
        starts = [self.identifying if self.breaks else 0, *self.breaks]
        ends = [b - 1 for b in self.breaks] + [len(self.widths) - 1]
        return [(a, max(a, b)) for a, b in zip(starts, ends)]

    def span_width(self, span: tuple[int, int]) -> float:
        return sum(self.widths[span[0] : span[1] + 1])


def print_layout(
    widths: Sequence[float], identifying: int = 0, paper: str = DEFAULT_PAPER, orientation: str = DEFAULT_ORIENTATION
) -> PrintLayout:
    """How a sheet of columns ``widths`` prints: the one rule for a sheet's pages across.

    * One page wide when the sheet fits a page at :data:`LEGIBLE_SCALE` or larger (the
      printer scales it down to the page width, never up).
    * Otherwise the fewest pages wide whose scale stays at or above the floor, at the
      largest whole-percent scale that keeps that many pages; page breaks fall between
      columns (a column is never cut), filling each page from the left; the leading
      ``identifying`` columns (which account, account manager, team a row is) print again
      at the left of every later page, so a page is read on its own. They are cut back to
      at most :data:`_MAX_IDENTIFYING` of a page.

    Parameters
    ----------
    widths : sequence of float
        Every column's width in characters (the ``set_column`` widths of the sheet).
    identifying : int, default 0
        How many leading columns name a row.
    paper, orientation : str
        The params ``pdf.paper`` / ``pdf.orientation``.

    Raises
    ------
    ValueError
        ``paper`` or ``orientation`` is not one the params allow.

    Examples
    --------
    A4 landscape holds about 110 characters of columns at full size:

    >>> print_layout([10.0] * 10).pages_wide, print_layout([10.0] * 10).scale
    (1, 1.0)
    >>> wide = print_layout([13.0] * 17, identifying=2)  # 233 characters: 47 % on one page
    >>> wide.pages_wide, wide.scale, wide.breaks, wide.identifying
    (2, 0.78, (10,), 2)
    """
    page = page_width(paper, orientation)
    cost = [float(w) + _PAD for w in widths] or [8.43 + _PAD]
    total = sum(cost)
    if total * LEGIBLE_SCALE <= page * _FIT:
        return PrintLayout(tuple(float(w) for w in widths), min(1.0, page * _FIT / total))
    floor = math.ceil(LEGIBLE_SCALE * 100)
    k = max(0, min(identifying, len(cost) - 1))
    while k and sum(cost[:k]) > _MAX_IDENTIFYING * page / LEGIBLE_SCALE:
        k -= 1
    need = len(_breaks(cost, k, page * _FIT * 100 / floor)) + 1
    pct = next(p for p in range(100, floor - 1, -1) if len(_breaks(cost, k, page * _FIT * 100 / p)) + 1 <= need)
    breaks = _breaks(cost, k, page * _FIT * 100 / pct)
    return PrintLayout(tuple(float(w) for w in widths), pct / 100, tuple(breaks), k if breaks else 0)


def _breaks(cost: list[float], identifying: int, room: float) -> list[int]:
    """First columns of the pages after the first: each page filled from the left with whole columns.

    ``room`` is a page's width in column units at the scale tried; every page after the
    first also holds the repeated identifying columns. A column wider than a page gets a
    page of its own (the printer then shrinks nothing: it is never cut across two pages).
    """
    repeated = sum(cost[:identifying])
    breaks, used = [], 0.0
    for j, c in enumerate(cost):
        if used and used + c > room:
            breaks.append(j)
            used = repeated
        used += c
    return breaks


def print_setup(
    ws: Any,
    title: PrintTitle | None,
    header_row: int,
    title_format: Any = None,
    widths: Sequence[float] = (8.43,),
    identifying: int = 0,
    paper: str = DEFAULT_PAPER,
    orientation: str = DEFAULT_ORIENTATION,
) -> PrintLayout:
    """Column widths and page setup of every sheet reportkit writes: the one rule for printing a workbook.

    * the columns' ``widths`` (characters; every column's ``set_column``), from which
      :func:`print_layout` decides how the sheet prints across: one page wide when it
      fits at :data:`LEGIBLE_SCALE` (70 %) or larger, else the fewest pages wide at or
      above that scale, with the ``identifying`` leading columns (account, account
      manager, team) repeated at the left of every page and pages numbered across
      first, then down (the pages of one block of rows follow each other; a chart
      below its table comes after all of them);
    * the title row (row 0, when ``title`` is given): company, report, period and
      as-of as a real cell (:class:`reportkit.render.titles.PrintTitle`), merged over
      each printed page's own columns (:attr:`PrintLayout.spans`: all columns when
      one page wide) and wrapped, so every page prints it whole;
    * ``paper`` ("A4" or "Letter") and ``orientation`` ("landscape" or
      "portrait"): the params ``pdf.paper`` / ``pdf.orientation``, the same sheet
      the report's PDF is printed on (default A4 landscape); side margins of
      1 cm, so a wide sheet prints as large as it can;
    * the title row and the column header row (``header_row``) repeated on every
      printed page;
    * page header: company, sheet name, period and as-of; page footer: the report
      and ``Page N of M``.

    Returns
    -------
    PrintLayout
        How the sheet prints; a note under a table is merged over its first span.

    Raises
    ------
    ValueError
        ``paper`` or ``orientation`` is not one the params allow.
    """
    _check_page(paper, orientation)
    layout = print_layout(widths, identifying, paper, orientation)
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    if title is not None:
        for a, b in layout.spans:
            if b > a:
                ws.merge_range(0, a, 0, b, title.text, title_format)
            else:
                ws.write_string(0, a, title.text, title_format)
        fit_title_row(ws, title, min(layout.span_width(s) for s in layout.spans))
    ws.set_paper(PAPER_SIZES[paper])
    if orientation == "landscape":
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.set_margins(left=_MARGIN_IN, right=_MARGIN_IN, top=0.75, bottom=0.75)
    if layout.breaks:
        ws.set_print_scale(round(layout.scale * 100))
        ws.set_v_pagebreaks(list(layout.breaks))
        ws.print_across()
        if layout.identifying:
            ws.repeat_columns(0, layout.identifying - 1)
    else:
        ws.fit_to_pages(1, 0)
    ws.repeat_rows(0, header_row)
    if title is not None:
        ws.set_header(f"&L{_header_text(title.company)}&C&A&R{_header_text(title.when)}")
        ws.set_footer(f"&L{_header_text(title.report)}&RPage &P of &N")
    else:
        ws.set_footer("&L&A&RPage &P of &N")
    return layout


_CALLED = re.compile(r"([^\s(]*)\(")
"""The text right before each ``(`` of a formula, back to a space or another ``(``: a function's name, or more."""
_PLAIN_FUNCTIONS = frozenset({"SUM", "IF", ""})
"""What may stand before a ``(`` in a formula :meth:`_Sheet._prepare_formula` takes as it is."""


class _Sheet(Worksheet):
    """xlsxwriter's worksheet, its cells stored and written as XML faster (the same bytes).

    A list sheet is tens of thousands of plain cells (an account manager's workbook about
    30,000, the company's Accounts at risk 170,000; ``docs/batch.md``, "Where a report's
    time goes"), and xlsxwriter spends most of a workbook's time on each one: argument
    checks as it stores a cell, then at close an attribute list, an escaping pass and a
    dispatch by class name as it writes the cell's XML, and a look-up of every column of
    every row. :meth:`put_row` stores a data row at once; :meth:`_write_rows` and
    :meth:`_calculate_spans` write what xlsxwriter's own methods write, visiting only the
    cells there are, and a number, date or shared-string cell with a format (nearly every
    cell reportkit writes) as its ``<c>`` element directly (a cell reference and a style
    index hold no character to escape); every other cell, and constant-memory mode, go
    to xlsxwriter's methods. ``tests/test_excel_xml.py`` compares the XML with xlsxwriter's.
    """

    def __init__(self) -> None:
        super().__init__()
        self._blocks: dict[int, RowBlock] = {}
        """Rows stored at once (:meth:`put_rows`), by their first row; written at close, a column at a time."""
        self._xf: dict[int, str] = {}

    def _calculate_spans(self) -> None:
        self._settle_blocks()
        if self.constant_memory or self.comments:
            super()._calculate_spans()
            return
        spans: dict[int, str] = {}
        lo = hi = -1
        table, colmin, colmax, last = self.table, self.dim_colmin, self.dim_colmax, self.dim_rowmax
        in_blocks = {r: ab for block in self._blocks.values() for r, ab in block.spans.items()}
        for row_num in range(self.dim_rowmin, last + 1):
            cells = table.get(row_num)
            if cells:
                cols = [c for c in cells if colmin <= c <= colmax]
                if cols:
                    a, b = min(cols), max(cols)
                    lo, hi = (a, b) if lo < 0 else (min(lo, a), max(hi, b))
            if row_num in in_blocks:
                a, b = in_blocks[row_num]
                lo, hi = (a, b) if lo < 0 else (min(lo, a), max(hi, b))
            if ((row_num + 1) % 16 == 0 or row_num == last) and lo >= 0:  # a span covers a block of 16 rows
                spans[row_num // 16] = f"{lo + 1}:{hi + 1}"
                lo = -1
        self.row_spans = spans

    def _write_rows(self) -> None:
        if self.constant_memory:
            super()._write_rows()
            return
        self._calculate_spans()
        row_info, spans = self.row_info, self.row_spans
        colmin, colmax = self.dim_colmin, self.dim_colmax
        names = {c: xl_col_to_name(c) for c in range(colmin, colmax + 1)} if colmin is not None else {}
        row_num, last_row = self.dim_rowmin, self.dim_rowmax
        while row_num <= last_row:
            block = self._blocks.get(row_num)
            if block is None:
                self._write_table_row(row_num, names)
                row_num += 1
                continue
            # rows stored at once; what was written into them since is right of their cells (:meth:`_settle_blocks`)
            later = {r: self.table[r] for r in block.rows() if self.table.get(r)}
            for r, xml in zip(block.rows(), block.xml(self._xf_attr, later)):
                if r in later:
                    self._write_row(r, spans.get(r // 16), row_info.get(r))
                    self.fh.write(xml)
                    for c in sorted(later[r]):
                        self._write_cell(r, c, later[r][c])
                    self.fh.write("</row>")
                elif xml or r in row_info:
                    self._write_row(r, spans.get(r // 16), row_info.get(r), empty_row=not xml)
                    if xml:
                        self.fh.write(xml + "</row>")
            row_num += block.n

    def _write_table_row(self, row_num: int, names: dict[int, str]) -> None:
        """One row of xlsxwriter's cell table, as xlsxwriter's ``_write_rows`` writes it."""
        cells = self.table[row_num]  # (a defaultdict: as xlsxwriter's loop, this adds the row)
        row_info = self.row_info
        if not cells and row_num not in row_info and row_num not in self.comments:
            return
        span = self.row_spans.get(row_num // 16)
        if not cells:
            self._write_row(row_num, span, row_info.get(row_num), empty_row=True)
            return
        self._write_row(row_num, span, row_info.get(row_num))
        colmin, colmax, write = self.dim_colmin, self.dim_colmax, self.fh.write
        r = row_num + 1
        out = []
        for col_num in sorted(cells):
            if not colmin <= col_num <= colmax:
                continue
            cell = cells[col_num]
            kind, fmt = type(cell), cell.format
            if fmt is not None and (kind is CellNumberTuple or kind is CellDatetimeTuple):
                out.append(f'<c r="{names[col_num]}{r}" s="{fmt._get_xf_index()}"><v>{cell.number:.16G}</v></c>')
            elif fmt is not None and kind is CellStringTuple:
                out.append(f'<c r="{names[col_num]}{r}" s="{fmt._get_xf_index()}" t="s"><v>{cell.string}</v></c>')
            else:
                write("".join(out))
                out = []
                self._write_cell(row_num, col_num, cell)
        out.append("</row>")
        write("".join(out))

    def _xf_attr(self, fmt: Any) -> str:
        """The `` s="N"`` attribute of a cell in ``fmt`` (numbered on first use, as xlsxwriter numbers it)."""
        attr = self._xf.get(id(fmt))
        if attr is None:
            attr = self._xf[id(fmt)] = f' s="{fmt._get_xf_index()}"'
        return attr

    def _settle_blocks(self, rows: range | None = None) -> None:
        """Turn blocks back into xlsxwriter's cell table where the fast path does not hold.

        A block is written a column at a time only if what went into its rows after it is cells
        with a format right of the block's cells in the row (a line's ``=SUM`` on the Trace sheet),
        no row format, and the sheet has no comments; otherwise (or for the blocks over ``rows``,
        when given) its cells join the table as :meth:`put_row` would have stored them, under what
        was written there later.
        """
        table, row_info = self.table, self.row_info
        for first, block in list(self._blocks.items()):
            span = block.rows()
            if rows is not None:
                keep = span.stop <= rows.start or span.start >= rows.stop
            else:
                keep = not self.comments and not any(
                    (table.get(r) and not _right_of(table[r], block.spans.get(r)))
                    or (r in row_info and row_info[r].row_format is not None)
                    for r in span
                )
            if keep:
                continue
            del self._blocks[first]
            for r, cells in block.cells().items():
                later = table.get(r)
                table[r] = {**cells, **later} if later else cells

    def _get_range_data(self, row_start: int, col_start: int, row_end: int, col_end: int) -> Any:
        self._settle_blocks(range(row_start, row_end + 1))  # a chart's cached values are read from the table
        return super()._get_range_data(row_start, col_start, row_end, col_end)

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> str:
        """xlsxwriter's formula preparation, without its 29 searches for newer functions when there can be none.

        xlsxwriter strips the ``=`` and then rewrites each of Excel's dynamic-array functions
        (``FILTER(`` as ``_xlfn._xlws.FILTER(``...), one regular expression each, for every
        formula. reportkit writes ``SUM`` and ``IF`` over references: where the text right before
        every ``(`` is ``SUM``, ``IF`` or nothing, no function name of that list ends there, so
        the formula is returned as xlsxwriter would return it; any other formula, and a workbook
        with future functions on, goes through xlsxwriter's method.
        """
        if self.use_future_functions or expand_future_functions:
            return super()._prepare_formula(formula, expand_future_functions)
        body = formula[1:] if formula.startswith("{") else formula
        body = body[1:] if body.startswith("=") else body
        body = body[:-1] if body.endswith("}") else body
        if all(name in _PLAIN_FUNCTIONS for name in _CALLED.findall(body)):
            return body
        return super()._prepare_formula(formula, expand_future_functions)

    def put_row(
        self,
        row: int,
        values: Sequence[Any],
        number_formats: Sequence[Any],
        text_formats: Sequence[Any],
        na_formats: Sequence[Any],
        na: str,
    ) -> bool:
        """Store one data row of converted values (:func:`~reportkit.render.excel.cells._convert`'s items), column ``j`` at ``j``.

        What :func:`~reportkit.render.excel.cells._put` does for each value through
        ``write_number`` / ``write_string`` (the same cells, formats, shared strings and
        dimensions), without the per-cell argument checks those public methods make: a
        float goes in with ``number_formats[j]``, a ``(number, format)`` pair with its
        format, text with ``na_formats[j]`` when it is ``na`` else ``text_formats[j]``,
        None stays blank. Returns False, storing nothing, where that shortcut does not
        hold (constant-memory mode, a row or column past the sheet's edge): the caller
        then writes the row cell by cell.
        """
        if self.constant_memory or row >= self.xls_rowmax or len(values) > self.xls_colmax:
            return False
        cells: dict[int, Any] = {}
        shared = self.str_table._get_shared_string_index
        long_text = self.xls_strmax // 2  # longer text may pass Excel's limit in UTF-16: xlsxwriter cuts it
        first = last = -1
        for j, v in enumerate(values):
            kind = type(v)
            if kind is float:
                cells[j] = CellNumberTuple(v, number_formats[j])
            elif kind is str:
                f = na_formats[j] if v == na else text_formats[j]
                if len(v) > long_text:
                    self._write_string(row, j, v, f)
                    continue
                cells[j] = CellStringTuple(shared(v), f)
            elif kind is tuple:
                cells[j] = CellNumberTuple(v[0], v[1])
            else:
                continue
            if first < 0:
                first = j
            last = j
        if cells:
            self.table[row].update(cells)
            self._check_dimensions(row, first)
            self._check_dimensions(row, last)
        return True

    def put_rows(
        self,
        first: int,
        columns: Sequence[list],
        number_formats: Sequence[Any],
        text_formats: Sequence[Any],
        na_formats: Sequence[Any],
        na: str,
    ) -> bool:
        """Store rows ``first``.. at once: column ``j``'s converted values (:func:`~reportkit.render.excel.cells._convert`'s items).

        The same cells, formats, shared strings and dimensions as :meth:`put_row` on each row in
        turn, kept as a :class:`~reportkit.render.excel.blocks.RowBlock` and written at close a
        column at a time. Returns False, storing nothing, where that does not hold (constant-memory
        mode, a row or column past the sheet's edge, a cell already written in those rows, text
        xlsxwriter may cut, a number or text without a format): the caller then stores the rows
        one at a time.
        """
        n = len(columns[0]) if columns else 0
        if self.constant_memory or not n or first + n > self.xls_rowmax or len(columns) > self.xls_colmax:
            return False
        rows = range(first, first + n)
        if any(self.table.get(r) for r in rows) or any(
            b.rows().start < rows.stop and rows.start < b.rows().stop for b in self._blocks.values()
        ):
            return False
        types = [set(map(type, col)) for col in columns]
        for j, (col, kinds) in enumerate(zip(columns, types)):
            if float in kinds and number_formats[j] is None:
                return False
            if str in kinds and (text_formats[j] is None or na_formats[j] is None):
                return False
            if tuple in kinds and any(v[1] is None for v in col if type(v) is tuple):
                return False
        texts = [columns[j] for j, kinds in enumerate(types) if str in kinds]
        strings = [v for row in zip(*texts) for v in row if type(v) is str]  # row by row, as put_row takes them
        if strings and max(map(len, strings)) > self.xls_strmax // 2:  # may pass Excel's limit in UTF-16: xlsxwriter cuts it
            return False
        index = dict(zip(strings, map(self.str_table._get_shared_string_index, strings)))
        block = RowBlock(first, columns, types, (number_formats, text_formats, na_formats), na, index)
        if block.spans:
            self._blocks[first] = block
            self._check_dimensions(min(block.spans), min(a for a, _ in block.spans.values()))
            self._check_dimensions(max(block.spans), max(b for _, b in block.spans.values()))
        return True


def _right_of(cells: dict[int, Any], span: tuple[int, int] | None) -> bool:
    """Whether ``cells`` (a row of xlsxwriter's table) all have a format and lie right of a block's ``span`` of that row."""
    return all(cell.format is not None for cell in cells.values()) and (span is None or min(cells) > span[1])


_PART_DATE = (1980, 1, 31, 0, 0, 0)
"""The date xlsxwriter gives each temporary file of a workbook part (``os.utime``) before zipping it."""
_PART_MODE = 0o100600
"""A temporary file's mode as ``tempfile.mkstemp`` makes it (a regular file, read and write for its owner,
under any umask that leaves its owner both)."""


class _PartInfo(zipfile.ZipInfo):
    """The zip entry of a workbook part written from memory, as ``ZipFile.write`` dates xlsxwriter's temporary file of it.

    xlsxwriter's ``in_memory`` mode dates its entries 1980-01-01 with no file mode, its file mode
    1980-01-31 (local time, which ``ZipFile.write`` reads back) with the temporary file's mode, so
    the two modes' files differ in those bytes only. This entry is what the file mode writes.
    """

    __slots__ = ()

    def __init__(self, filename: str, date_time: tuple = _PART_DATE) -> None:
        super().__init__(filename, _PART_DATE)
        self.external_attr = _PART_MODE << 16


_store_in_memory = xlsxwriter.Workbook._store_workbook
if "ZipInfo" in _store_in_memory.__code__.co_names and not _store_in_memory.__code__.co_freevars:
    # xlsxwriter's own method with its module's names, its ZipInfo our _PartInfo (nothing else changed
    # and no global of xlsxwriter patched: report threads write workbooks at once)
    _store_in_memory = types.FunctionType(
        _store_in_memory.__code__, {**_store_in_memory.__globals__, "ZipInfo": _PartInfo}, "_store_workbook"
    )
    PARTS_IN_MEMORY = True
else:  # an xlsxwriter written otherwise: its temporary files, as before
    PARTS_IN_MEMORY = False


class _PartsInMemory(xlsxwriter.Workbook):  # type: ignore[misc]
    """xlsxwriter's workbook with its parts kept in memory and zipped as its file mode zips them (:class:`_PartInfo`).

    xlsxwriter's file mode writes each of a workbook's parts (about 25) to a temporary file,
    dates it, zips it back and removes it: 0.02-0.05 s of CPU of an account manager's 0.11-0.15 s
    workbook on this box's ``/tmp``, a fifth to a third of it (``docs/batch.md``, "Session 17"). Kept in
    memory the file is the same bytes (``tests/test_excel_xml.py``). Only for a workbook not in
    constant-memory mode (which needs the files) of at most
    :data:`reportkit.render.excel.PARTS_IN_MEMORY_ROWS` rows: its parts' XML is held until the zip
    is written. reportkit's workbooks have no images (an image part would take the temporary
    file's mode from the image file).
    """

    _store_workbook = _store_in_memory


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
        parts_in_memory: bool = False,
    ) -> None:
        if overflow not in ("split", "error"):
            raise ValueError(f"overflow must be 'split' or 'error', got {overflow!r}")
        self.tz = _tzinfo(tz)
        attainment_bands(miss_below)  # validate before a file is created
        _check_page(paper, orientation)
        self.currency = currency
        self.constant_memory = constant_memory
        self.overflow = overflow
        in_memory = parts_in_memory and PARTS_IN_MEMORY and not constant_memory  # the same bytes (_PartsInMemory)
        self.wb = (_PartsInMemory if in_memory else xlsxwriter.Workbook)(
            str(path),
            {
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
                "nan_inf_to_errors": False,
                "default_date_format": "yyyy-mm-dd",
                "constant_memory": constant_memory,
                "in_memory": in_memory,
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
        self.layouts: dict[str, PrintLayout] = {}
        """How each sheet prints (:func:`print_layout`), by sheet name."""

    def add_sheet(self, name: str, widths: Sequence[float] = (8.43,), identifying: int = 0) -> tuple[str, Any]:
        """A new sheet, named safely, with its column ``widths``, title row and page setup (:func:`print_setup`).

        ``identifying``: how many leading columns name a row (repeated on every page of a
        sheet printed several pages wide). The sheet's :class:`PrintLayout` is kept in
        :attr:`layouts` under its name.
        """
        safe = safe_sheet_name(name, self.names)
        self.names.append(safe)
        ws = self.wb.add_worksheet(safe, worksheet_class=_Sheet)
        self.layouts[safe] = print_setup(
            ws, self.title, self.header_row, self.fmt.print_title, widths, identifying, self.paper, self.orientation
        )
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
