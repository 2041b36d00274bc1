"""The page setup a reader's printer follows, read back from a workbook with openpyxl."""

from __future__ import annotations

from openpyxl.utils import column_index_from_string

from reportkit.render.excel.book import LEGIBLE_SCALE


def assert_prints_legibly(ws, title: str) -> None:
    """``ws`` prints one page wide, or several pages wide at the legibility floor or larger with its identifying
    columns repeated, pages numbered across first; the title row and header row repeat, and each page's own
    columns start with the whole title (``title``)."""
    assert ws.print_title_rows == "$1:$2", ws.title  # title row and column headers on every printed page
    breaks = [b.id for b in ws.col_breaks.brk]
    if not breaks:  # one page wide, as many tall as it takes
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert ws.page_setup.fitToHeight == 0 and (ws.page_setup.fitToWidth or 1) == 1, ws.title
        assert ws["A1"].value == title, ws.title
        return
    assert not ws.sheet_properties.pageSetUpPr.fitToPage, ws.title  # a fixed scale: the breaks fall where we put them
    assert int(ws.page_setup.scale) >= round(LEGIBLE_SCALE * 100), (ws.title, ws.page_setup.scale)
    assert ws.page_setup.pageOrder == "overThenDown", ws.title  # a block of rows' pages follow each other
    repeated = ws.print_title_cols  # "$A:$B": the identifying columns, at the left of every page
    assert repeated and repeated.startswith("$A:"), (ws.title, repeated)
    first_own = column_index_from_string(repeated.split(":")[1].strip("$")) + 1
    for start in [first_own] + [b + 1 for b in breaks]:  # 1-based first column of each page's own columns
        assert ws.cell(1, start).value == title, (ws.title, start)
