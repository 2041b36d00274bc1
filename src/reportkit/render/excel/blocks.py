"""A block of list-sheet rows stored at once and written as XML a column at a time (:meth:`_Sheet.put_rows`).

:class:`~reportkit.render.excel.book._Sheet` keeps a list sheet's data rows as the
converted columns they came in (:func:`~reportkit.render.excel.cells._convert`'s
items) rather than one xlsxwriter cell tuple per value, and at close writes each
column's cell XML with one comprehension: a column's letter and style are the same on
every row, so only the row number and the value change. The XML is the bytes
xlsxwriter's ``_write_cell`` writes for the cells :meth:`_Sheet.put_row` would have
stored (``tests/test_excel_xml.py``); :meth:`RowBlock.cells` gives those cells, for
the rare sheet where something else is written into the block's rows afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import CellNumberTuple, CellStringTuple

STORED = (float, str, tuple)
"""The converted values a cell is stored for; anything else (None) is a blank, as in :meth:`_Sheet.put_row`."""


class RowBlock:
    """Rows ``first``.. of a sheet: column ``j``'s converted values at column ``j``.

    ``index`` maps each text to its shared-string index (taken in row order when the block
    was stored, as xlsxwriter takes them cell by cell); ``spans`` maps each row with a cell
    to its first and last column.
    """

    __slots__ = ("columns", "first", "index", "n", "na", "na_formats", "number_formats", "spans", "text_formats", "types")

    def __init__(
        self,
        first: int,
        columns: Sequence[list],
        types: list[set],
        formats: tuple[Sequence[Any], Sequence[Any], Sequence[Any]],
        na: str,
        index: dict[str, int],
    ) -> None:
        self.first, self.n = first, len(columns[0])
        self.columns, self.types, self.na, self.index = columns, types, na, index
        self.number_formats, self.text_formats, self.na_formats = formats
        self.spans = _spans(first, columns, types)

    def rows(self) -> range:
        return range(self.first, self.first + self.n)

    def cells(self) -> dict[int, dict[int, Any]]:
        """The cells :meth:`_Sheet.put_row` would have stored, by row: ``{row: {column: cell tuple}}``."""
        out: dict[int, dict[int, Any]] = {}
        na, index = self.na, self.index
        for j, col in enumerate(self.columns):
            nf, tf, naf = self.number_formats[j], self.text_formats[j], self.na_formats[j]
            for i, v in enumerate(col):
                kind = type(v)
                if kind is float:
                    cell = CellNumberTuple(v, nf)
                elif kind is str:
                    cell = CellStringTuple(index[v], naf if v == na else tf)
                elif kind is tuple:
                    cell = CellNumberTuple(v[0], v[1])
                else:
                    continue
                out.setdefault(self.first + i, {})[j] = cell
        return out

    def xml(self, xf_attr: Callable[[Any], str], later: dict[int, dict[int, Any]] | None = None) -> list[str]:
        """Each row's cell XML (``""`` for a row without cells), row ``first`` first.

        ``xf_attr(format)`` is the `` s="N"`` attribute of a format; it is asked for each format
        first in the order the cells use them (row by row, left to right), the order xlsxwriter
        numbers formats in as it writes cells one at a time. ``later``: xlsxwriter's cells written
        into the block's rows afterwards, right of the block's cells (``{row: {column: cell}}``,
        each with a format), written by the caller after each row's XML; their formats count too.
        """
        uses = self._first_uses()
        for r, cells in (later or {}).items():
            uses += [(r - self.first, c, "later", cell.format) for c, cell in cells.items()]
        uses.sort(key=lambda u: (u[0], u[1]))
        for *_, f in uses:
            xf_attr(f)
        used = {(j, role) for _, j, role, _ in uses}
        na, index = self.na, self.index
        numbers = range(self.first + 1, self.first + 1 + self.n)  # the rows' numbers in a cell reference
        out = []
        for j, col in enumerate(self.columns):
            c, types = xl_col_to_name(j), self.types[j]
            sf = xf_attr(self.number_formats[j]) if (j, "number") in used else ""
            st = xf_attr(self.text_formats[j]) if (j, "text") in used else ""
            sn = xf_attr(self.na_formats[j]) if (j, "na") in used else ""
            if types == {float}:
                out.append([f'<c r="{c}{r}"{sf}><v>{v:.16G}</v></c>' for r, v in zip(numbers, col)])
            elif types == {str}:
                out.append([f'<c r="{c}{r}"{sn if v == na else st} t="s"><v>{index[v]}</v></c>' for r, v in zip(numbers, col)])
            else:
                out.append(
                    [
                        f'<c r="{c}{r}"{sf}><v>{v:.16G}</v></c>'
                        if t is float
                        else f'<c r="{c}{r}"{sn if v == na else st} t="s"><v>{index[v]}</v></c>'
                        if t is str
                        else f'<c r="{c}{r}"{xf_attr(v[1])}><v>{v[0]:.16G}</v></c>'
                        if t is tuple
                        else ""
                        for r, v, t in zip(numbers, col, map(type, col))
                    ]
                )
        return ["".join(row) for row in zip(*out)]

    def _first_uses(self) -> list[tuple[int, int, str, Any]]:
        """``(row, column, role, format)`` of the first cell of each column that uses each format
        (role: ``number``, ``text``, ``na`` for the column's own formats, ``own`` for a value's)."""
        uses = []
        na = self.na
        for j, (col, types) in enumerate(zip(self.columns, self.types)):
            if float in types:
                uses.append((next(i for i, v in enumerate(col) if type(v) is float), j, "number", self.number_formats[j]))
            if str in types:
                first_text = next((i for i, v in enumerate(col) if type(v) is str and v != na), None)
                first_na = next((i for i, v in enumerate(col) if type(v) is str and v == na), None)
                if first_text is not None:
                    uses.append((first_text, j, "text", self.text_formats[j]))
                if first_na is not None:
                    uses.append((first_na, j, "na", self.na_formats[j]))
            if tuple in types:
                seen: set[int] = set()
                for i, v in enumerate(col):
                    if type(v) is tuple and id(v[1]) not in seen:
                        seen.add(id(v[1]))
                        uses.append((i, j, "own", v[1]))
        return uses


def _spans(first: int, columns: Sequence[list], types: list[set]) -> dict[int, tuple[int, int]]:
    """``{row: (first column, last column)}`` of the rows with a cell."""
    last_col = len(columns) - 1
    blank = [
        {i for i, v in enumerate(col) if type(v) not in STORED} if not kinds <= set(STORED) else set()
        for col, kinds in zip(columns, types)
    ]
    spans = dict.fromkeys(range(first, first + len(columns[0])), (0, last_col))
    for i in set().union(*blank):
        cols = [j for j in range(last_col + 1) if i not in blank[j]]
        if cols:
            spans[first + i] = (cols[0], cols[-1])
        else:
            del spans[first + i]
    return spans
