"""Display helpers for the notebook templates: load a report, format, show tables.

Everything here is *display only*. Money arrives as ``Decimal`` already rounded by
the domain layer and leaves as text (``$1,234.56``); nothing is added, scaled or
rounded here beyond choosing how many decimals to print. The helpers make a
template three lines per section::

    report = load_report(report_data, kind="account_manager", report_id=account_manager_id,
                         params_file=params_file, period=period, as_of=as_of)
    heading(report)
    table(report.quarterly, columns=["period", "revenue", "quota", "attainment"])

Formatting rules (the same in every template):

* ``Decimal`` money -> currency with two decimals and thousands separators
  (``Decimal("-1234.5")`` -> ``-$1,234.50``).
* fraction columns (``attainment``, ``*_attainment``, ``growth_vs_last_year``,
  ``rate``, ``probability``, ``trend``) -> percent with one decimal
  (``0.934`` -> ``93.4%``).
* ``NaN`` / ``None`` / ``NaT`` -> ``n/a`` (never ``0 %`` or ``inf``).
* booleans (Python, NumPy or pandas ``boolean``) -> ``Yes`` / ``No``.
* dates -> ISO ``2025-12-31``.
* every text value and header is HTML-escaped: a client called
  ``<script>alert(1)</script>`` is shown as that text, never run.
"""

from __future__ import annotations

import datetime
import html
import math
import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config.params import DEFAULT_TABLE_ROWS
from ..core.currency import currency_info
from ..core.errors import TemplateError
from ..core.money import round_money
from ..core.words import counted, in_number
from ..reports.builders import commission_summary, summary_keys
from .cell_kinds import NA, PERCENT_COLUMNS, is_missing, is_percent_key
from .commission_trace import trace_details
from .labels import SUMMARY_LAYOUT, column_label, value_words
from .style import (
    LABEL_CELL_CSS,
    ONE_LINE_CSS,
    SENTENCE_COLUMN_CSS,
    band_colour,
    band_legend,
    branding_of,
    is_attainment_key,
    is_one_word,
    is_sentence,
    logo_data_uri,
)

__all__ = [
    "NA",
    "PERCENT_COLUMNS",
    "Table",
    "Heading",
    "load_report",
    "save_workbook",
    "format_money",
    "format_percent",
    "format_points",
    "format_date",
    "format_cell",
    "missing_summary_words",
    "column_label",
    "resolve_params_file",
    "SUMMARY_LAYOUT",
    "table",
    "IN_WORKBOOK",
    "commission_table",
    "summary_table",
    "heading",
    "notes",
    "figure",
    "Chart",
    "Notes",
    "Section",
    "forecast_categories",
    "TRACE_ROW_CLASS",
    "without_trace_rows",
]

# -- scalar formatting ------------------------------------------------------------


def format_money(value: Any, currency: str = "USD") -> str:
    """Format an amount as currency with the currency's decimals (its ISO 4217 minor units).

    Parameters
    ----------
    value : Decimal, int, float or None
        The amount, already rounded by the domain layer. Only its display is chosen
        here; a ``float`` is converted through ``str`` so ``0.1`` prints as ``0.10``.
    currency : str, default "USD"
        ISO 4217 code. Symbol and decimals come from
        :func:`reportkit.core.currency.currency_info` (``$``, ``€``, ``£``; JPY with no
        decimals, rounded half away from zero); codes without a symbol are printed
        as a prefix (``CHF 1,234.00``).

    Returns
    -------
    str
        ``"$1,234.56"``, ``"-$1,234.56"`` or ``"n/a"`` for missing values.

    Examples
    --------
    >>> format_money(Decimal("1234.5"))
    '$1,234.50'
    >>> format_money(Decimal("-0.07"), "EUR")
    '-€0.07'
    >>> format_money(None)
    'n/a'
    """
    if is_missing(value):
        return NA
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    if not d.is_finite():
        return NA
    info = currency_info(currency)
    shown = round_money(d, info.minor_units)
    sign = "-" if shown < 0 else ""
    body = f"{abs(shown):,.{info.minor_units}f}"
    return f"{sign}{info.symbol}{body}" if info.symbol else f"{sign}{currency} {body}"


def format_percent(value: Any, decimals: int = 1) -> str:
    """Format a fraction as percent (``0.934 -> '93.4%'``); NaN/None/inf -> ``n/a``.

    >>> format_percent(1.0), format_percent(float("nan")), format_percent(Decimal("0.05"))
    ('100.0%', 'n/a', '5.0%')
    """
    if is_missing(value):
        return NA
    d = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    if not d.is_finite():
        return NA
    pct = (d * 100).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return f"{pct:,.{decimals}f}%"


def format_points(delta: Any, decimals: int = 1) -> str:
    """A change of a fraction in percentage points, signed (``0.025 -> '+2.5 percentage points'``); missing -> ``n/a``.

    An attainment going from 88.0% to 90.5% changed by 2.5 percentage points,
    not by 2.5% (that would be a change relative to 88.0%).

    >>> format_points(0.025), format_points(-0.1), format_points(None)
    ('+2.5 percentage points', '-10.0 percentage points', 'n/a')
    """
    shown = format_percent(delta, decimals)
    if shown == NA:
        return NA
    number = shown[:-1]
    return ("" if number.startswith("-") else "+") + number + " percentage points"


def format_date(value: Any) -> str:
    """ISO date ``YYYY-MM-DD`` for dates / timestamps; ``n/a`` for missing."""
    if is_missing(value):
        return NA
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def format_cell(value: Any, column: str = "", currency: str = "USD") -> str:
    """Format one value for display, choosing the rule from its column and type.

    Codes in a cell print in words (:func:`reportkit.render.labels.value_words`:
    ``growing_from_zero`` in ``status_rule`` -> ``new revenue (none last year)``);
    percent columns (see :data:`PERCENT_COLUMNS`) print as percent; ``Decimal``
    values as money; dates as ISO; integers with thousands separators; floats
    with two decimals; booleans as ``Yes``/``No``; missing values as ``n/a``.
    The result is plain (unescaped) text.
    """
    return cell_formatter(column, currency)(value)


def cell_formatter(column: str = "", currency: str = "USD") -> Callable[[Any], str]:
    """:func:`format_cell` for every value of one column: what depends on the column is looked up once.

    :func:`table` formats a column's cells with it (a table of 200 rows and 15 columns
    asks 15 times, not 3,000, whether a column is a percent column).

    >>> fmt = cell_formatter("attainment")
    >>> fmt(0.934), fmt(None), fmt("growing")
    ('93.4%', 'n/a', 'growing')
    """
    percent = is_percent_key(column)

    def fmt(value: Any) -> str:
        if isinstance(value, str):  # never missing (is_missing of any text is False)
            return value_words(value, column)
        if is_missing(value):
            return NA
        if isinstance(value, (bool, np.bool_)):
            return "Yes" if value else "No"
        if percent:
            try:
                return format_percent(value)
            except (TypeError, ValueError, ArithmeticError):
                return str(value)
        if isinstance(value, Decimal):
            return format_money(value, currency)
        if isinstance(value, (datetime.date, pd.Timestamp)):
            return format_date(value)
        if isinstance(value, numbers.Integral):
            return f"{int(value):,}"
        if isinstance(value, numbers.Real):
            f = float(value)
            return NA if math.isinf(f) else f"{f:,.2f}"
        return str(value)

    return fmt


# -- display objects ------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """A formatted table that Jupyter shows as HTML and a console as text.

    In HTML the first column holds the row labels and never wraps
    (:data:`reportkit.render.style.LABEL_CELL_CSS`, the PDF's rule too): a long
    value beside it (a rule in words) wraps instead.

    Attributes
    ----------
    headers : tuple of str
        Column headers (plain text).
    rows : tuple of tuple of str
        Already formatted cells (plain text, escaped only when rendered to HTML).
    numeric : tuple of bool
        Whether each column is right-aligned (numbers).
    caption : str
        Optional caption shown above the table.
    footer : tuple of str
        Optional total row (already formatted), shown after the rows in bold.
    fills : tuple of tuple of (str or None)
        Optional background colour per cell of ``rows`` (the attainment bands of
        :func:`reportkit.render.style.attainment_bands`); None: no colour.
    prose : tuple of tuple of bool
        Optional, per cell of ``rows``: the cell is a sentence (a rule in words), set
        left-aligned whatever its column's alignment, so it reads from the left.
    """

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]
    caption: str = ""
    footer: tuple[str, ...] = ()
    fills: tuple[tuple[str | None, ...], ...] = ()
    details: tuple[tuple[str, Table] | None, ...] = ()  # per row: (summary, table) in a closed <details> below it
    prose: tuple[tuple[bool, ...], ...] = ()

    def to_html(self) -> str:
        """Deterministic HTML; every header and cell is escaped."""
        esc = html.escape
        out = ['<table class="reportkit-table">']
        if self.caption:
            out.append(f"<caption>{esc(self.caption)}</caption>")
        out.append("<thead><tr>")
        for j, (h, num) in enumerate(zip(self.headers, self.numeric)):
            room = f";{SENTENCE_COLUMN_CSS}" if not num and j and any(is_sentence(r[j]) for r in self.rows) else ""
            out.append(f'<th style="text-align:{"right" if num else "left"}{room}">{esc(h)}</th>')
        out.append("</tr></thead><tbody>")
        if not self.rows:
            out.append(f'<tr><td colspan="{max(len(self.headers), 1)}"><em>no rows</em></td></tr>')
        for i, row in enumerate(self.rows):
            out.append("<tr>")
            fills = self.fills[i] if i < len(self.fills) else ()
            prose = self.prose[i] if i < len(self.prose) else ()
            for j, (cell, num) in enumerate(zip(row, self.numeric)):
                fill = fills[j] if j < len(fills) else None
                num = num and not (j < len(prose) and prose[j])
                bg = f";background-color:{fill}" if fill else ""
                label = f";{LABEL_CELL_CSS}" if j == 0 else f";{ONE_LINE_CSS}" if is_one_word(cell) else ""  # as in the PDF
                style = f' style="text-align:right{bg}{label}"' if num else f' style="text-align:left{bg}{label}"'
                out.append(f"<td{style}>{esc(cell)}</td>")
            out.append("</tr>")
            if i < len(self.details) and self.details[i] is not None:  # the trace of the row (issue #15 part 4)
                words, inner = self.details[i]
                out.append(f'<tr class="{TRACE_ROW_CLASS}"><td colspan="{len(self.headers)}"><details><summary>')
                out.append(f"{esc(words)}</summary>{inner.to_html()}{_TRACE_ROW_END}")
        out.append("</tbody>")
        if self.footer:
            out.append('<tfoot><tr class="reportkit-total">')
            for j, (cell, num) in enumerate(zip(self.footer, self.numeric)):
                label = f";{LABEL_CELL_CSS}" if j == 0 else f";{ONE_LINE_CSS}" if is_one_word(cell) else ""
                style = (
                    f' style="text-align:right;font-weight:bold{label}"'
                    if num
                    else f' style="text-align:left;font-weight:bold{label}"'
                )
                out.append(f"<td{style}>{esc(cell)}</td>")
            out.append("</tr></tfoot>")
        out.append("</table>")
        return "".join(out)

    def to_text(self) -> str:
        """Plain-text rendering with aligned columns (``text/plain``: ``print``, a console, a notebook's text output).

        A sentence (a ``prose`` cell: a rule in words, longer than :data:`_PROSE_CHARS`)
        wraps onto lines of at most :data:`_PROSE_CHARS` characters, left-aligned under its
        first line, and the caption wraps at the table's width (at least as wide), so a
        summary's lines stay about as wide as its labels plus 62 characters. Other cells
        keep one line each: a table of many columns is as wide as they are. The HTML
        (:meth:`to_html`) is not affected.
        """
        import textwrap

        def lines_of(cell: str, prose: bool) -> list[str]:
            if not prose:
                return [cell]
            return textwrap.wrap(cell, _PROSE_CHARS, break_long_words=False, break_on_hyphens=False) or [""]

        def split(row: Sequence[str], i: int | None) -> list[tuple[list[str], bool]]:
            flags = self.prose[i] if i is not None and i < len(self.prose) else ()
            return [(lines_of(c, j < len(flags) and flags[j]), j < len(flags) and flags[j]) for j, c in enumerate(row)]

        body = [split(r, i) for i, r in enumerate(self.rows)]
        footer = split(self.footer, None) if self.footer else []
        widths = [len(h) for h in self.headers]
        for row in body + ([footer] if footer else []):
            widths = [max(w, *(len(part) for part in cell)) for w, (cell, _) in zip(widths, row)]

        def line(cells: Sequence[str], left: Sequence[bool] = ()) -> str:
            return "  ".join(
                c.rjust(w) if num and not (j < len(left) and left[j]) else c.ljust(w)
                for j, (c, w, num) in enumerate(zip(cells, widths, self.numeric))
            ).rstrip()

        def row_lines(row: list[tuple[list[str], bool]]) -> list[str]:
            left = [prose for _, prose in row]
            height = max(len(cell) for cell, _ in row)
            return [line([cell[k] if k < len(cell) else "" for cell, _ in row], left) for k in range(height)]

        rule = "  ".join("-" * w for w in widths)
        lines = textwrap.wrap(self.caption, max(len(rule), _PROSE_CHARS), break_on_hyphens=False) if self.caption else []
        lines.append(line(self.headers))
        lines.append(rule)
        lines.extend(text for row in body for text in row_lines(row))
        if not self.rows:
            lines.append("(no rows)")
        if footer:
            lines.append(rule)
            lines.extend(row_lines(footer))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        return self.to_text()


TRACE_ROW_CLASS = "reportkit-trace"
"""Class of the row :meth:`Table.to_html` writes under a commission line: its trace in a closed ``<details>``."""
_TRACE_ROW_END = "</details></td></tr>"
_TRACE_ROWS = re.compile(f'<tr class="{TRACE_ROW_CLASS}">.*?{re.escape(_TRACE_ROW_END)}', re.S)


def without_trace_rows(markup: str) -> str:
    """``markup`` without the trace rows :meth:`Table.to_html` wrote (``<tr class="reportkit-trace">``).

    What print leaves out: paper has no ``<details>`` to open, the PDF's style hides those
    rows (:mod:`reportkit.render.pdf`) and the workbook's Trace sheet holds every trace row,
    so the print body drops them before the PDF renderer lays out hundreds of hidden cells
    (``docs/batch.md``, "Where a report's time goes"). A trace row holds one table and no
    ``<details>`` of its own, so it ends at the first ``</details></td></tr>``.
    """
    return _TRACE_ROWS.sub("", markup) if TRACE_ROW_CLASS in markup else markup


@dataclass(frozen=True)
class Heading:
    """A heading shown as escaped HTML (``<h1>``..``<h3>``) in Jupyter."""

    text: str
    level: int = 1
    subtitle: str = ""
    company: str = ""
    logo: str | None = None  # a data: URI (no path reaches the page)
    accent: str | None = None  # "#RRGGBB"

    def _repr_html_(self) -> str:
        level = min(max(int(self.level), 1), 6)
        colour = f' style="color:{self.accent}"' if self.accent else ""
        out = ""
        if self.company or self.logo:
            rule = f"border-bottom:3px solid {self.accent or '#CBD5E0'}"
            out += f'<div class="reportkit-brand" style="display:flex;align-items:center;gap:.8rem;padding-bottom:.4rem;{rule}">'
            if self.logo:
                out += f'<img src="{html.escape(self.logo)}" alt="{html.escape(self.company or "company")} logo" style="height:40px">'
            if self.company:
                out += f'<span style="font-size:1.2em;font-weight:600">{html.escape(self.company)}</span>'
            out += "</div>"
        out += f"<h{level}{colour}>{html.escape(self.text)}</h{level}>"
        if self.subtitle:
            out += f"<p>{html.escape(self.subtitle)}</p>"
        return out

    def _repr_markdown_(self) -> str:
        # Markdown renderers do not run raw HTML here: the text is escaped.
        return self._repr_html_()

    def __repr__(self) -> str:
        return (f"{self.company}\n" if self.company else "") + self.text + (f"\n{self.subtitle}" if self.subtitle else "")


IN_WORKBOOK = "all rows in the workbook"
"""Where a report's rows left out of a long table are (``table(..., rest=IN_WORKBOOK)`` in the templates)."""


def table(
    frame: pd.DataFrame,
    columns: Sequence[str] | None = None,
    *,
    currency: str = "USD",
    labels: Mapping[str, str] | None = None,
    caption: str = "",
    max_rows: int | None = DEFAULT_TABLE_ROWS,
    rest: str = "",
    total: Mapping[str, Any] | None = None,
    total_label: str = "Total",
    miss_below: float | None = None,
) -> Table:
    """Format a report frame for display.

    Parameters
    ----------
    frame : pandas.DataFrame
        A frame of a report object (its columns follow the contracts in
        :mod:`reportkit.reports.builders`).
    columns : sequence of str, optional
        Which columns to show, in order (default: all). A missing column is a
        :class:`~reportkit.core.errors.TemplateError` naming the available ones.
    currency : str, default "USD"
        Currency of the ``Decimal`` money columns.
    labels : mapping, optional
        Header overrides ``{column: label}``; otherwise :func:`column_label`.
    caption : str, optional
    max_rows : int or None, default :data:`~reportkit.config.params.DEFAULT_TABLE_ROWS` (200)
        Show only the first this many rows of a longer frame, and say so in the caption:
        ``first 200 of 70,000 rows`` (the one truncation rule of every report table;
        templates pass ``report.table_rows``, params ``table_rows``). None: every row.
        The frame itself keeps every row.
    rest : str, default ""
        Where the rows left out can be read, after the count in the caption. The
        report templates pass :data:`IN_WORKBOOK` (``first 200 of 70,000 rows; all
        rows in the workbook``); a table shown outside a report (an analyst's own
        notebook, the explorer) has no workbook, so the default says only the count.
    total : mapping, optional
        A total row ``{column: value}``: the values come from the report object
        (e.g. ``report.summary["commission_total"]``, the sum of the rounded
        lines), never summed here. Other columns are blank; ``total_label``
        goes in the first column unless it has a total itself.
    total_label : str, default "Total"
    miss_below : float, optional
        The report's ``miss_below`` (params ``performance.miss_below``): attainment
        cells are coloured by its bands, as in the workbook
        (:func:`reportkit.render.style.attainment_bands`); default: no colours.

    Returns
    -------
    Table
        Shown as an HTML table by Jupyter; every cell already formatted.

    Examples
    --------
    >>> df = pd.DataFrame({"period": ["FY2025-Q1"], "revenue": [Decimal("1000.00")],
    ...                    "attainment": [float("nan")]})
    >>> print(table(df).to_text())
    Period        Revenue  Attainment
    ---------  ---------  ----------
    FY2025-Q1  $1,000.00         n/a
    """
    if frame is None:
        frame = pd.DataFrame()
    cols = list(frame.columns) if columns is None else list(columns)
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise TemplateError(
            f"table has no {in_number(len(missing), 'column')} {missing}",
            hint=f"available columns: {', '.join(map(str, frame.columns))}",
        )
    labels = dict(labels or {})
    shown = frame if max_rows is None else frame.head(max_rows)
    values = _column_values(shown, cols)
    rows = (
        tuple(zip(*(map(cell_formatter(c, currency), v) for c, v in zip(cols, values))))
        if cols
        else tuple(() for _ in range(len(shown)))
    )
    numeric = tuple(_numeric_column(frame[c], c) for c in cols)
    if max_rows is not None and len(frame) > max_rows:
        extra = f"first {max_rows:,} of {len(frame):,} rows" + (f"; {rest}" if rest else "")
        caption = f"{caption} ({extra})" if caption else extra
    footer: tuple[str, ...] = ()
    if total is not None and cols:
        unknown = [c for c in total if c not in cols]
        if unknown:
            raise TemplateError(
                f"total names {in_number(len(unknown), 'column')} {unknown} that the table does not show",
                hint=f"shown: {', '.join(cols)}",
            )
        footer = tuple(format_cell(total[c], c, currency) if c in total else "" for c in cols)
        if cols[0] not in total:
            footer = (total_label,) + footer[1:]
    fills: tuple[tuple[str | None, ...], ...] = ()
    banded = [c for c in cols if is_attainment_key(c)]
    if miss_below is not None and banded:
        fills = tuple(
            zip(
                *(
                    map(partial(band_colour, miss_below=miss_below), v) if is_attainment_key(c) else [None] * len(v)
                    for c, v in zip(cols, values)
                )
            )
        )
    return Table(
        headers=tuple(labels.get(c, column_label(c)) for c in cols),
        rows=rows,
        numeric=numeric,
        caption=caption,
        footer=footer,
        fills=fills,
    )


COMMISSION_LINE_COLUMNS = ("line", "description", "basis", "rate", "amount", "rule", "award")
"""The statement's columns an account manager's report shows, one row per line."""


def _in_workbook_table(*args: Any, **kwargs: Any) -> Table:
    """:func:`table` of a report's rows whose full list is in its workbook (a trace: the Trace sheet)."""
    return table(*args, rest=IN_WORKBOOK, **kwargs)


def commission_table(report: Any) -> Table:
    """The commission section of an account manager's report: the statement, or its summary when long.

    A statement of at most ``report.table_rows`` lines (params ``table_rows``, default 200)
    is shown line by line (:data:`COMMISSION_LINE_COLUMNS`). A longer one (a manager with
    70,000 deals) is shown summed by rule, tier and award
    (:func:`reportkit.reports.statements.commission_summary`), captioned with how many
    lines it sums and that every line is in the workbook, which keeps them all. Either way
    the total row is ``report.summary["commission_total"]``, the sum of the rounded lines.
    Each row carries the engine's trace of its line(s) in a closed ``<details>``
    (:mod:`reportkit.render.commission_trace`; ``report.commission_trace``).

    Returns
    -------
    Table
    """
    lines = report.commission
    total = {"amount": report.summary["commission_total"]}
    trace, cur = getattr(report, "commission_trace", None), report.currency
    if len(lines) <= report.table_rows:
        t = table(lines, list(COMMISSION_LINE_COLUMNS), currency=cur, total=total, max_rows=None)
        return replace(t, details=trace_details(trace, [[n] for n in lines["line"]], _in_workbook_table, cur, report.table_rows))
    line_keys = summary_keys(lines)  # each line's summary row: for the sums and for the traces below
    summary = commission_summary(lines, line_keys)
    caption = f"{len(lines):,} statement lines summed by rule, tier and award; every line in the workbook"
    keys = ["rule", "tier", "award"] if summary["tier"].notna().any() else ["rule", "award"]  # a plan without tiers
    t = table(
        summary,
        [*keys, "lines", "basis", "amount"],
        currency=report.currency,
        caption=caption,
        total=total,
        max_rows=report.table_rows,
    )
    groups: dict[tuple, list[int]] = {}  # the statement lines each summary row sums, in the summary's order
    for n, key in zip(lines["line"].tolist(), line_keys):
        groups.setdefault(key, []).append(int(n))
    shown = list(groups.values())[: report.table_rows]
    return replace(t, details=trace_details(trace, shown, _in_workbook_table, cur, report.table_rows))


def _column_values(shown: pd.DataFrame, cols: Sequence[str]) -> list[list[Any]]:
    """Each of ``cols``' values in ``shown``, as ``itertuples`` gives them (a Series' own iteration), column by column.

    A column at a time costs pandas one lookup per column, where ``itertuples`` over the
    selected frame built a frame and a Series per column first (most of a small table's cost).
    """
    if shown.columns.is_unique:
        return [list(shown[c]) for c in cols]
    return [list(col) for col in zip(*shown[cols].itertuples(index=False, name=None))] or [[] for _ in cols]


def _numeric_column(series: pd.Series, name: str) -> bool:
    if is_percent_key(name):
        return True
    for v in series:
        if is_missing(v):
            continue
        return isinstance(v, (Decimal, numbers.Real)) and not isinstance(v, bool)
    return False


_PROSE_CHARS = 60
"""A summary text value longer than this is a sentence, set left-aligned (a short word such as a status stays right)."""


def missing_summary_words(summary: Mapping[str, Any], key: str) -> str:
    """What a reader sees for a summary figure that is missing (None, NaN): the one rule for every format.

    Next year's quota once the report looks at next year (``next_year`` in ``summary``) is
    ``not in the data yet`` (the quotas file has no row for that year yet); any other missing
    figure is ``n/a`` (:data:`NA`). The HTML and PDF summary (:func:`summary_table`) and the
    workbook's Summary sheet (``render.excel.summary``) both ask here, so no format leaves a
    figure blank where another says why.

    >>> missing_summary_words({"next_year": "FY2026", "next_year_quota": None}, "next_year_quota")
    'not in the data yet'
    >>> missing_summary_words({"quota_to_close": None}, "quota_to_close")
    'n/a'
    """
    if key == "next_year_quota" and "next_year" in summary:
        return "not in the data yet"
    return NA


def summary_table(report: Any, keys: Sequence[str] | None = None) -> Table:
    """Two-column table (item, value) of ``report.summary``.

    By default the rows of :data:`SUMMARY_LAYOUT` for the report's kind, with
    their labels, and only those that mean something for this report (the
    quota to date and pace only while the period is not over; the quota bonus
    and the deferred part only when not zero; the total of all awards only when
    it differs from what is payable now). ``forecast_range`` shows
    ``forecast_low`` to ``forecast_high`` (``none: the year is over...`` once the
    fiscal year has ended, when both are its revenue). With ``keys``, exactly those keys
    (that exist), labelled the same way.

    Keys that look like fractions (``attainment``, ``pace``...) show as percent,
    ``Decimal`` values as money in the report currency, everything else as text.
    """
    summary = dict(getattr(report, "summary", {}) or {})
    cur = report.currency
    layout = SUMMARY_LAYOUT.get(getattr(report, "kind", ""), ())
    labels = {k: label for k, label, _ in layout}

    def value(k: str) -> str | None:
        if k.endswith("_forecast_range") or k == "forecast_range":
            base = k[: -len("_range")]
            if f"{base}_low" not in summary or f"{base}_high" not in summary:
                return None
            lo, hi = summary[f"{base}_low"], summary[f"{base}_high"]
            if is_missing(lo) or is_missing(hi):
                return NA
            if lo == hi and k == "forecast_range" and "next_year" in summary:  # the year is over: its forecast is its revenue
                return "none: the year is over (its forecast is its revenue)"
            return f"{format_cell(lo, 'low', cur)} to {format_cell(hi, 'high', cur)}"
        if k in summary and is_missing(summary[k]):
            return missing_summary_words(summary, k)
        return format_cell(summary[k], k, cur) if k in summary else None

    def shown(k: str, when: str) -> bool:
        v = summary.get(k)
        if when == "to_date":
            return summary.get("days_elapsed") is not None and summary.get("days_elapsed") != summary.get("days_in_period")
        if when == "nonzero":
            return not is_missing(v) and v != 0
        if when == "basis":
            return bool(summary.get("attainment_basis_differs"))
        if when == "not_title":
            return v != getattr(report, "period", None)
        if when == "not_cash":
            return "commission_cash" not in summary or v != summary["commission_cash"]
        return True

    if keys is None:
        items = [k for k, _, when in layout if shown(k, when)] if layout else list(summary)
    else:
        items = list(keys)
    shown_items = [(k, v) for k in items if (v := value(k)) is not None]
    rows = tuple((labels.get(k) or column_label(k), v) for k, v in shown_items)
    miss_below = getattr(report, "miss_below", None)
    fills: tuple[tuple[str | None, ...], ...] = ()
    caption = ""
    if miss_below is not None:
        fills = tuple((None, band_colour(summary[k], miss_below) if is_attainment_key(k) else None) for k, _ in shown_items)
        caption = band_legend(miss_below) if any(f[1] for f in fills) else ""
    # a sentence (how the forecast was chosen) reads from the left, not right-aligned as the figures
    prose = tuple((False, isinstance(summary.get(k), str) and len(v) > _PROSE_CHARS) for k, v in shown_items)
    return Table(headers=("Item", "Value"), rows=rows, numeric=(False, True), caption=caption, fills=fills, prose=prose)


def heading(report: Any, title: str | None = None) -> Heading:
    """The report's title: who (the id only when it differs from the name), which period, as of when (escaped).

    Above it the company's name, logo and accent colour from params ``branding``
    (:func:`reportkit.render.style.branding_of`); the logo is embedded as a
    ``data:`` URI, so the page names no file. ``title`` replaces the kind's words
    ("Account manager report") in a declared kind's template (``"Pipeline review"``).
    """
    heading_ = _heading(report)
    if title is not None:
        heading_ = Heading(f"{title}: {heading_.text.split(': ', 1)[1]}", 1, heading_.subtitle)
    brand = branding_of(report)
    accent = brand.accent if "accent" in brand.model_fields_set else None
    return Heading(heading_.text, 1, heading_.subtitle, company=brand.company or "", logo=logo_data_uri(brand), accent=accent)


def _heading(report: Any) -> Heading:
    """The title and subtitle of :func:`heading`, by the report object's kind."""
    if getattr(report, "kind", "") == "account":
        who = f"{report.name} ({report.id})"
        title = f"Account report: {who} — {report.period}"
        sub = f"Account manager: {report.account_manager} · Team: {report.team} · as of {format_date(report.as_of)} · {report.currency}"
    elif getattr(report, "kind", "") == "company":
        title = f"Company report: {report.name} — {report.period}"
        sub = f"{counted(report.summary.get('teams', 0), 'team')} · as of {format_date(report.as_of)} · {report.currency}"
    elif getattr(report, "kind", "") == "team":
        title = f"Team report: {report.name} — {report.period}"
        sub = f"Sales manager: {report.sales_manager} · as of {format_date(report.as_of)} · {report.currency}"
    else:
        who = report.name if str(report.id) == str(report.name) else f"{report.name} ({report.id})"
        title = f"Account manager report: {who} — {report.period}"
        sub = (
            f"Team: {report.team} · Sales manager: {report.sales_manager} · as of {format_date(report.as_of)} · {report.currency}"
        )
    return Heading(title, 1, sub)


@dataclass(frozen=True)
class Notes:
    """A report's notes (data caveats) as an escaped bullet list."""

    items: tuple[str, ...]

    def _repr_html_(self) -> str:
        if not self.items:
            return "<p><em>No notes.</em></p>"
        return "<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in self.items) + "</ul>"

    def __repr__(self) -> str:
        return "\n".join(f"- {n}" for n in self.items) if self.items else "No notes."


def notes(report: Any) -> Notes:
    """The report's notes (data caveats, e.g. where quotas came from)."""
    return Notes(tuple(str(n) for n in report.notes))


@dataclass(frozen=True)
class Section:
    """A section a report has only sometimes: a heading, a paragraph of rules in words, then a table (escaped)."""

    title: str
    text: str
    body: Table

    def _repr_html_(self) -> str:
        return f"<h2>{html.escape(self.title)}</h2><p>{html.escape(self.text)}</p>{self.body.to_html()}"

    def __repr__(self) -> str:
        return f"{self.title}\n{self.text}\n{self.body.to_text()}"


def forecast_categories(report: Any) -> Section | None:
    """The report's forecast categories with the roll-up rule beside them, or None (no output) when undeclared.

    The rows and amounts are the report's (``report.forecast_categories``,
    :func:`reportkit.domain.forecast_categories.forecast_category_table`); the
    text is ``report.forecast_categories_rule``. A template cell tagged
    ``optional-section`` shows it; without categories the cell has no output and
    the exported page leaves it out.
    """
    frame = getattr(report, "forecast_categories", None)
    if frame is None:
        return None
    body = table(
        frame,
        ["forecast", "includes", "opportunities", "amount"],
        currency=report.currency,
        labels={"forecast": "Forecast category", "opportunities": "Opportunities (deals for Closed)"},
    )
    return Section("Forecast categories", str(getattr(report, "forecast_categories_rule", "")), body)


def save_workbook(report: Any, workbook_file: str | Path, company: str | None = None) -> Path | None:
    """Write a declared kind's workbook: :func:`reportkit.render.excel.save.save_workbook` (see there).

    Imported when called: render/excel imports this module's formatters, so importing
    the Excel writers here at import time made ``import reportkit.render.excel`` circular.
    """
    from .excel.save import save_workbook as _save_workbook

    return _save_workbook(report, workbook_file, company)


# -- charts: figures.py (re-exported here: templates import every helper from this module) --
from .figures import Chart as Chart  # noqa: E402
from .figures import figure as figure  # noqa: E402

# -- loading: report_files.py (re-exported here: templates import every helper from this module) --
from .report_files import default_template_dir as default_template_dir  # noqa: E402
from .report_files import load_report, resolve_params_file  # noqa: E402
