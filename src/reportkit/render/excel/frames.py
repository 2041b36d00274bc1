"""List sheets: a frame written row by row, with live per-row formulas, a total row and bands.

:func:`write_frame_sheet` writes one frame (header, data rows, optional total
row) strictly row by row, so it also works in xlsxwriter's constant-memory mode
(where plain data rows are streamed as XML, :func:`_stream_rows`); a frame longer
than a sheet continues on numbered sheets. It returns where everything went
(:class:`_Placed`), for formulas on other sheets.
"""

from __future__ import annotations

import functools
import math
import re
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell
from xlsxwriter.xmlwriter import XMLwriter as _XMLwriter

from ...core.errors import OutputError
from ..cell_kinds import NA, is_missing
from ..labels import column_label, plain_frame
from ..notebook import format_cell
from .book import LEGIBLE_SCALE, _Book, page_width
from .cells import PLAIN_DATES, _clean_text, _convert, _put, _string_format
from .formats import _MAX_WIDTH, _MIN_WIDTH, TEXT_INSET_WIDTH, _band_formats, _kind_of
from .formulas import _dec, _dec_sum, _frac, _range, _ratio_cached, _ratio_matches, _ref, _sum_matches

EXCEL_MAX_ROWS = 1_048_576
"""Rows in one worksheet (header included)."""


_MAX_DATA_ROWS = EXCEL_MAX_ROWS - 1  # below the header row; tests lower it to exercise splitting
_CHUNK = 20_000  # rows converted at a time (bounds the memory of a 1M-row sheet)


@dataclass
class _Placed:
    """Where a frame landed: its parts (sheet, first data row, last data row) and columns."""

    parts: list[tuple[str, int, int]]
    columns: dict[str, int]
    total_row: tuple[str, int] | None = None
    totals: dict[str, Decimal | None] = field(default_factory=dict)
    chart_anchor: tuple[str, Any, int] | None = None  # (sheet, worksheet, row) where a chart of it goes

    def ranges(self, column: str, here: str | None = None) -> list[str]:
        """Ranges of ``column`` over every part (unqualified on the sheet ``here``)."""
        col = self.columns[column]
        return [_range(None if s == here else s, r0, r1, col) for s, r0, r1 in self.parts if r1 >= r0]

    def total_ref(self, column: str) -> str | None:
        if self.total_row is None or column not in self.columns:
            return None
        return _ref(self.total_row[0], self.total_row[1], self.columns[column])


@dataclass
class _Spec:
    """What a frame sheet computes live.

    ratios : {target column: (numerator column, denominator column)} per row.
    row_sums : {target column: [columns]} per row (commission + bonus = total).
    totals : {column: reportkit's total} for a total row of ``SUM`` formulas (a
        formula only when the lines sum to the figure, else the figure itself).
    total_ratios : ratios to write in the total row.
    total_label : text of the total row's first text column.
    """

    ratios: dict[str, tuple[str, str]] = field(default_factory=dict)
    row_sums: dict[str, list[str]] = field(default_factory=dict)
    totals: dict[str, Any] | None = None
    total_ratios: dict[str, tuple[str, str]] = field(default_factory=dict)
    total_label: str = "Total"
    total_label_column: str | None = None
    total_cells: dict[str, str] = field(default_factory=dict)
    total_values: dict[str, Any] = field(default_factory=dict)
    bands: tuple[str, ...] = ()


def write_frame_sheet(
    book: _Book, name: str, frame: pd.DataFrame | None, spec: _Spec | None = None, *, table: bool = True
) -> _Placed:
    """Write ``frame`` as a list sheet (split over several sheets when too long).

    Row by row, so it works in constant-memory mode: header, data rows, then the
    optional total row. Returns where everything went, for formulas elsewhere.
    """
    spec = spec or _Spec()
    fmt, tz = book.fmt, book.tz
    frame = plain_frame(frame if frame is not None else pd.DataFrame()).reset_index(drop=True)  # codes in words
    cols = [str(c) for c in frame.columns]
    colidx = {c: j for j, c in enumerate(cols)}
    kinds = [_kind_of(frame[c], c) for c in frame.columns]
    col_fmts = [fmt.for_kind(k) for k in kinds]
    labels = [column_label(c) for c in cols]
    n = len(frame)
    h = book.header_row  # the column headers' row (below the title row)
    per_sheet = _MAX_DATA_ROWS - h - (1 if spec.totals is not None else 0)
    n_parts = max(1, math.ceil(n / per_sheet)) if n else 1
    if n_parts > 1 and book.overflow == "error":
        raise OutputError(
            f"sheet {name!r} would need {n:,} rows but an Excel sheet holds {_MAX_DATA_ROWS - h:,} below its header",
            hint="write with overflow='split' to continue on sheets named like '" + f"{name} (2)'",
        )
    widths, wrapped = fit_widths(frame, kinds, labels, book.currency, page_width(book.paper, book.orientation))
    for j in wrapped:  # long text wraps in its cell rather than widening the printed page
        col_fmts[j] = fmt.wrap
    text_fmts = [_string_format("", f, fmt) for f in col_fmts]  # each column's format of text, and of n/a
    na_fmts = [_string_format(NA, f, fmt) for f in col_fmts]
    live = spec.ratios or spec.row_sums
    placed = _Placed(parts=[], columns=colidx)
    ratio_ok = (
        {
            t: [_ratio_matches(frame.at[i, a], frame.at[i, b], frame.at[i, t]) for i in range(n)]
            for t, (a, b) in spec.ratios.items()
        }
        if live
        else {}
    )
    sum_ok = (
        {
            t: [_sum_matches([frame.at[i, c] for c in parts], frame.at[i, t]) for i in range(n)]
            for t, parts in spec.row_sums.items()
        }
        if live
        else {}
    )

    for part in range(n_parts):
        lo, hi = part * per_sheet, min(n, (part + 1) * per_sheet)
        sheet, ws = book.add_sheet(name, widths or [8.43], identifying_columns(cols))
        ws.set_row(h, wrapped_height(labels, widths))  # the header labels wrap in their cells
        for j, label in enumerate(labels):
            ws.write_string(h, j, label, fmt.header)
        stream = book.constant_memory and not live and _can_stream(ws) and hi > lo
        fast = hasattr(ws, "put_row")  # a sheet of :class:`~reportkit.render.excel.book._Sheet`
        if stream:
            ws._write_single_row(h + 1)  # flush the header row; data rows go straight to the sheet file
        for start in range(lo, hi, _CHUNK):
            stop = min(hi, start + _CHUNK)
            whole = start == 0 and stop == n  # the usual sheet, one chunk: no slice of each column
            chunk = [
                _convert((frame[c] if whole else frame[c].iloc[start:stop]).tolist(), k, tz, fmt)
                for c, k in zip(frame.columns, kinds)
            ]
            if stream:
                _stream_rows(ws, chunk, start - lo + h + 1, col_fmts, text_fmts, na_fmts)
                continue
            first = start - lo + h + 1
            if wrapped:
                _fit_rows(ws, first, [chunk[j] for j in wrapped], [widths[j] for j in wrapped])
            at_once = fast and not live and ws.put_rows(first, chunk, col_fmts, text_fmts, na_fmts, NA)
            for i in range(0 if not at_once else stop - start, stop - start):
                r = first + i
                row = [values[i] for values in chunk]
                if not fast or not ws.put_row(r, row, col_fmts, text_fmts, na_fmts, NA):
                    for j, v in enumerate(row):
                        if v is not None:
                            _put(ws, r, j, v, col_fmts[j], fmt)
                if live:
                    k = start + i
                    for t, (a, b) in spec.ratios.items():
                        if ratio_ok[t][k]:
                            ja, jb, jt = colidx[a], colidx[b], colidx[t]
                            f = f'=IF({xl_rowcol_to_cell(r, jb)}=0,"{NA}",{xl_rowcol_to_cell(r, ja)}/{xl_rowcol_to_cell(r, jb)})'
                            cached = _ratio_cached(frame.at[k, t])
                            ws.write_formula(r, jt, f, fmt.na if cached == NA else fmt.percent, cached)
                    for t, parts in spec.row_sums.items():
                        if sum_ok[t][k]:
                            f = "=" + "+".join(xl_rowcol_to_cell(r, colidx[c]) for c in parts)
                            ws.write_formula(r, colidx[t], f, fmt.money, float(_dec(frame.at[k, t]) or 0))
        rows = hi - lo
        last = h + rows  # the last data row (the header row when there is none)
        if stream:
            ws.previous_row = last
            ws._check_dimensions(last, max(len(cols) - 1, 0))
        placed.parts.append((sheet, h + 1, last))
        ws.freeze_panes(h + 1, 0)
        if cols:
            if table and not book.constant_memory and rows >= 1:
                ws.add_table(
                    h,
                    0,
                    last,
                    len(cols) - 1,
                    {
                        "name": book.table_name(sheet),
                        "style": "Table Style Light 9",
                        "columns": [{"header": lab, "header_format": fmt.header} for lab in labels],
                    },
                )
            else:
                ws.autofilter(h, 0, max(last, h + 1), len(cols) - 1)
            for c in spec.bands:
                if c in colidx and rows >= 1:
                    _band_formats(ws, h + 1, last, colidx[c], fmt)
        if part == n_parts - 1 and spec.totals is not None:
            _total_row(book, ws, sheet, last + 1, frame, cols, kinds, placed, spec)
        if part == 0:  # a chart goes below the first part's rows (and its total row), on a page of its own
            placed.chart_anchor = (sheet, ws, last + (2 if placed.total_row and placed.total_row[0] == sheet else 1) + 1)
    return placed


def _fit_rows(ws: Any, first: int, texts: list[list], widths: list[float]) -> None:
    """Make rows ``first``.. tall enough for their wrapped ``texts`` (a column each), as :func:`wrapped_height` would.

    A list sheet repeats its status rules and reasons on most rows: each text of a column is laid out once.
    """
    per_column = []
    for col, width in zip(texts, widths):
        per_line = _per_line(width, TEXT_INSET_WIDTH)
        lines = {v: _text_lines(v, per_line) for v in set(col)}
        per_column.append([lines[v] for v in col])
    for i, most in enumerate(map(max, *per_column) if len(per_column) > 1 else per_column[0]):
        ws.set_row(first + i, 15.0 * most)


def _can_stream(ws: Any) -> bool:
    """Whether the constant-memory fast path can be used with this xlsxwriter."""
    return all(hasattr(ws, a) for a in ("fh", "previous_row", "table", "_write_single_row", "_check_dimensions")) and hasattr(
        _XMLwriter, "_escape_control_characters"
    )


_XML_ESCAPES = re.compile(r"[&<>]")
_EDGE_SPACE = re.compile(r"^\s|\s$")


def _xml_text(s: str) -> str:
    s = _XMLwriter._escape_control_characters(s)
    if _XML_ESCAPES.search(s):
        s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return s


def _stream_rows(
    ws: Any, chunk: list[list], first_row: int, col_fmts: list[Any], text_fmts: list[Any], na_fmts: list[Any]
) -> None:
    """Constant-memory fast path: write whole rows of cell XML to the sheet's row file.

    Produces the same ``<row>/<c>`` XML xlsxwriter's own constant-memory writer
    produces for numbers and inline strings (same escaping), without its per-cell
    bookkeeping. Used only for plain data rows (no formulas) in constant-memory mode.
    """
    letters = [xl_col_to_name(j) for j in range(len(chunk))]
    xf = [f' s="{f._get_xf_index()}"' if f is not None else "" for f in col_fmts]
    # a string cell's style, as :func:`reportkit.render.excel.cells._string_format` gives it
    text_xf = [f' s="{f._get_xf_index()}"' for f in text_fmts]
    na_xf = [f' s="{f._get_xf_index()}"' for f in na_fmts]
    parts: list[str] = []
    app = parts.append
    for i, values in enumerate(zip(*chunk)):
        r = first_row + i + 1  # 1-based row number in the XML
        app(f'<row r="{r}">')
        for j, v in enumerate(values):
            t = type(v)
            if t is float:
                app(f'<c r="{letters[j]}{r}"{xf[j]}><v>{v:.16G}</v></c>')
            elif t is str:
                text = _xml_text(v)
                sp = ' xml:space="preserve"' if _EDGE_SPACE.search(v) else ""
                s_attr = na_xf[j] if v == NA else text_xf[j]
                app(f'<c r="{letters[j]}{r}"{s_attr} t="inlineStr"><is><t{sp}>{text}</t></is></c>')
            elif t is tuple:
                app(f'<c r="{letters[j]}{r}" s="{v[1]._get_xf_index()}"><v>{v[0]:.16G}</v></c>')
        app("</row>")
    ws.fh.write("".join(parts))


def _total_row(
    book: _Book, ws: Any, sheet: str, r: int, frame: pd.DataFrame, cols: list[str], kinds: list[str], placed: _Placed, spec: _Spec
) -> None:
    fmt = book.fmt
    placed.total_row = (sheet, r)
    label_col = next((j for j, k in enumerate(kinds) if k == "text" and cols[j] not in (spec.totals or {})), 0)
    if spec.total_label_column in placed.columns:
        label_col = placed.columns[spec.total_label_column]
    for j in range(len(cols)):
        ws.write_blank(r, j, None, fmt.total_blank)
    ws.write_string(r, label_col, spec.total_label, fmt.total_label)
    for c, text in spec.total_cells.items():
        if c in placed.columns and placed.columns[c] != label_col:
            ws.write_string(r, placed.columns[c], _clean_text(text), fmt.total_label)
    for c, expected in (spec.totals or {}).items():
        if c not in placed.columns:
            continue
        j = placed.columns[c]
        exp = _dec(expected)
        lines = _dec_sum(frame[c].tolist())
        money = kinds[j] in ("money", "text")
        f_total = fmt.total_money if money else fmt.total_integer
        if exp is not None and lines == exp:
            ws.write_formula(r, j, "=SUM(" + ",".join(placed.ranges(c, here=sheet)) + ")", f_total, float(exp))
        elif exp is not None:
            ws.write_number(r, j, float(exp), f_total)
        spec.total_values[c] = exp
        placed.totals[c] = exp
    for c, (a, b) in spec.total_ratios.items():
        if c not in placed.columns:
            continue
        j, ja, jb = placed.columns[c], placed.columns[a], placed.columns[b]
        reported = spec.total_values.get(c)
        if _ratio_matches(spec.total_values.get(a), spec.total_values.get(b), reported):
            cached = _ratio_cached(reported)
            ws.write_formula(
                r,
                j,
                f'=IF({xl_rowcol_to_cell(r, jb)}=0,"{NA}",{xl_rowcol_to_cell(r, ja)}/{xl_rowcol_to_cell(r, jb)})',
                fmt.total_na if cached == NA else fmt.total_percent,
                cached,
            )
        else:
            v = _frac(reported)
            if v is None:
                ws.write_string(r, j, NA, fmt.total_na)
            else:
                ws.write_number(r, j, v, fmt.total_percent)
    if spec.bands:
        for c in spec.bands:
            if c in placed.columns:
                _band_formats(ws, r, r, placed.columns[c], fmt)


def write_note(book: _Book, ws: Any, row: int, text: str) -> None:
    """A note under a table (a rule in words, how a total is counted): merged over the table's first printed page and wrapped.

    The note wraps within the columns of the sheet's first printed page
    (:attr:`~reportkit.render.excel.book.PrintLayout.spans`: all its columns when it
    prints one page wide) and its row is made tall enough (:func:`wrapped_height`), so a
    long note neither runs off the right of the table nor makes a sheet shrink to fit it,
    and is never cut by a page break.
    """
    text = _clean_text(text)
    layout = book.layouts[ws.name]
    first, last = layout.spans[0]
    ws.set_row(row, wrapped_height([text], [layout.span_width((first, last))], TEXT_INSET_WIDTH))
    if last > first:
        ws.merge_range(row, first, row, last, text, book.fmt.wrap)
    else:
        ws.write_string(row, first, text, book.fmt.wrap)


IDENTIFYING_COLUMNS = frozenset(
    {
        "team",
        "sales_manager",
        "rank",
        "account_manager_id",
        "account_manager",
        "name",
        "account_id",
        "account_name",
        "deal_id",
        "period",
        "quarter",
        "line",
        "method",
        "measure",
        "span",
        "band",
        "top",
        "reason",
    }
)
"""Columns that say which row it is (team, account manager, account, deal, period, statement line, forecast
method, the measure or band a row of a company table is about)."""


def identifying_columns(cols: list[str]) -> int:
    """How many leading columns of a list sheet name its rows: the run of :data:`IDENTIFYING_COLUMNS` it starts with.

    A sheet printed several pages wide repeats them at the left of every page
    (:func:`reportkit.render.excel.book.print_layout`).
    """
    n = 0
    while n < len(cols) and cols[n] in IDENTIFYING_COLUMNS:
        n += 1
    return n


def wrapped_height(texts: list[Any], widths: list[float], inset: float = 0.0) -> float:
    """Row height (points) that shows each text wrapped in its column: 15 points a line.

    Neither Excel nor LibreOffice sizes a row to wrapped text when it opens a file;
    this lays each text out word by word (:func:`textwrap.wrap`) at 1.05 characters
    per unit of column width (a unit is the width of ``0``; prose averages a little
    narrower, so the estimate errs by a line at most, never cutting text), and takes
    the most lines. ``inset``: the units a cell's format takes off its width
    (:data:`reportkit.render.excel.formats.TEXT_INSET_WIDTH` for a data cell; a header has none).
    """
    return 15.0 * max([_text_lines(text, _per_line(width, inset)) for text, width in zip(texts, widths)], default=1)


def _per_line(width: float, inset: float) -> int:
    """Characters a line of a cell ``width`` units wide holds (:func:`wrapped_height`)."""
    return max(int((width - inset) * 1.05), 1)


def _text_lines(text: Any, per_line: int) -> int:
    """Lines a cell's value takes wrapped at ``per_line`` characters: 1 unless it is longer text or holds a line break."""
    if isinstance(text, str) and text and (len(text) > per_line or "\n" in text):
        return _wrapped_lines(text, per_line)
    return 1


@functools.lru_cache(maxsize=4096)
def _wrapped_lines(text: str, per_line: int) -> int:
    """Lines ``text`` takes wrapped at ``per_line`` characters (a list sheet repeats its status rules
    and reasons on many rows: each text is laid out once)."""
    return sum(max(1, len(textwrap.wrap(part, per_line))) for part in text.split("\n"))


_TEXT_OR_NONE = frozenset({str, type(None)})

_WRAP_WIDTH = 32
"""Widest text column (characters); longer text wraps in its cell, so a sheet prints as large as it can."""
_WRAP_WIDTH_WIDE = 20
"""Widest text column of a sheet too wide for one page at the legibility floor (the 21-column Accounts
sheet): every character of width saved there prints the whole sheet larger or on fewer pages."""


def fit_widths(
    frame: pd.DataFrame, kinds: list[str], labels: list[str], currency: str, page: float
) -> tuple[list[float], list[int]]:
    """Column widths of a list sheet, and the text columns that wrap: the one rule for sizing a list's columns.

    Each column is as wide as its widest formatted value (:func:`_widths`; a header label
    wraps by words, so it needs only its longest word); a text column wider than 32
    characters wraps at 32, at 20 on a sheet wider than a page ``page`` characters wide
    holds at :data:`reportkit.render.excel.book.LEGIBLE_SCALE` (it prints several pages
    wide: :func:`reportkit.render.excel.book.print_layout`).

    Returns
    -------
    (widths, wrapped) : list of float, list of int
        Every column's width in characters; the positions of the columns that wrap.
    """
    cols = [str(c) for c in frame.columns]
    widths = _widths(frame, cols, kinds, labels, currency)
    wrap_at = _WRAP_WIDTH if sum(widths) <= page / LEGIBLE_SCALE else _WRAP_WIDTH_WIDE
    wrapped = [j for j, k in enumerate(kinds) if k == "text" and widths[j] > wrap_at]
    for j in wrapped:
        widths[j] = wrap_at
    return widths, wrapped


def _widths(frame: pd.DataFrame, cols: list[str], kinds: list[str], labels: list[str], currency: str) -> list[float]:
    """Column widths fitting the formatted values (vectorised; exact for text).

    A header label wraps in its cell (the header format wraps), so it needs only its
    longest word: a column is as wide as its values, not as its title.
    """
    out = []
    for c, k, label in zip(frame.columns, kinds, labels):
        s = frame[c]
        w = max((len(word) for word in label.split()), default=0)
        if len(s):
            if k == "text":
                w = max(w, _longest_text(s))
            elif k == "money":
                values = s.tolist()
                if set(map(type, values)) == {Decimal} and all(map(Decimal.is_finite, values)):
                    widest = max(abs(max(values)), abs(min(values)))  # what _max_abs gives, at once
                else:
                    widest = _max_abs(_dec(v) for v in values)
                if widest is not None:
                    w = max(w, len(format_cell(-widest, c, currency)))
            elif k == "percent":
                widest = _widest_number(s)
                w = max(w, len(format_cell(-widest, c, currency)) if widest is not None else 3)
            elif k == "date":
                w = max(w, 16 if _has_time(s) else 10)
            elif k in ("integer", "number"):
                widest = _widest_number(s)
                w = max(
                    w, len(format_cell(-int(widest) if k == "integer" else -widest, c, currency)) if widest is not None else 3
                )
            elif k == "bool":
                w = max(w, 3)
        out.append(min(max(w + 2, _MIN_WIDTH), _MAX_WIDTH))
    return out


def _longest_text(s: pd.Series) -> int:
    """Characters in a text column's longest value (a missing value counts 0; others their ``str``)."""
    values = s.tolist()
    if set(map(type, values)) <= _TEXT_OR_NONE:  # the usual column: what the pandas path below gives, at once
        return max((len(v) for v in values if v is not None), default=0)
    lens = (
        s.map(lambda v: 0 if is_missing(v) else len(str(v)), na_action=None) if s.dtype == object else s.astype("str").str.len()
    )
    return int(pd.Series(lens).fillna(0).max())


def _widest_number(s: pd.Series) -> float | None:
    """Largest absolute value of a column's numbers, as :func:`~.formulas._frac` reads them (missing, infinite,
    booleans and text skipped; None when there is none): at once for a numeric column, value by value otherwise."""
    if s.dtype.kind in "fi":
        a = s.to_numpy(dtype="float64", na_value=np.nan)
        a = a[np.isfinite(a)]
        return float(np.abs(a).max()) if len(a) else None
    return _max_abs(_frac(v) for v in s)


def _max_abs(values: Iterable[Any]) -> Any:
    """Largest absolute value of ``values`` (None skipped; None when there is none), streamed.

    Streaming matters on a million-row money column: a list of ``abs()`` copies
    would hold a second Decimal per row (about 110 MB) while the sheet is written.
    """
    hi = lo = None
    for v in values:
        if v is None:
            continue
        if hi is None:
            hi = lo = v
        elif v > hi:
            hi = v
        elif v < lo:
            lo = v
    return None if hi is None else max(abs(hi), abs(lo))


def _has_time(s: pd.Series) -> bool:
    if s.dtype == object and set(map(type, s.array[:1000])) <= PLAIN_DATES:  # calendar days (or none): no time of day
        return False
    try:
        dt = pd.to_datetime(s.head(1000))
        return bool((dt.dropna() != dt.dropna().dt.normalize()).any())
    except (TypeError, ValueError, OverflowError, pd.errors.OutOfBoundsDatetime, AttributeError):
        return False
