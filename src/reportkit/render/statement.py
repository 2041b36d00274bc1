"""``reportkit statement``: commission statements as CSV and Excel files.

One statement per account manager and period, with exactly the lines and total
the account manager's report shows (:func:`reportkit.reports.builders.commission_for`):
the plan engine's lines, of the params file's ``plan:`` or else of its flat-rate
``commission:`` policy compiled into an engine plan. Each file holds the lines (line, deal, description,
basis, tier, rate, rule, amount, award) and a last ``total`` row that is the sum
of the rounded lines.

Files, in ``output_dir``::

    statement-<account manager id>-<period>.csv    UTF-8, money as plain decimals (1234.50)
    statement-<account manager id>-<period>.xlsx   money as numbers with a currency format

Usage (the CLI face is ``reportkit statement PARAMS.yaml --period P
[--account-manager ID] [--splits FILE] --output-dir DIR``)::

    >>> statement_cli("params/demo.yaml", "FY2025-Q4", output_dir="reports/statements")  # doctest: +SKIP
    0
"""

from __future__ import annotations

import csv
import datetime
import re
from decimal import Decimal
from pathlib import Path

import pandas as pd

from ..core.errors import OutputError, ParamsError
from ..core.periods import Period
from ..core.words import counted
from ..data.fx import DealConversions, has_fx
from ..data.mapping import with_splits
from ..domain.commission import CommissionStatement
from ..domain.engine import STEP_WORDS, percent_words
from ..domain.loading import load_inputs
from ..reports.closes import refuse_closed, with_close_registry
from ..reports.context import shared_contexts
from ..reports.planning import account_manager_row, active_account_managers
from ..reports.statements import commission_for
from .excel import money_format
from .excel.book import DEFAULT_ORIENTATION, DEFAULT_PAPER, page_width, print_setup
from .excel.formats import TEXT_INSET, TEXT_INSET_WIDTH
from .excel.frames import fit_widths, identifying_columns, wrapped_height
from .excel.trace import TRACE_IDENTIFYING, TRACE_SHEET_NAME, line_amounts, trace_sheet_widths, write_trace_rows
from .labels import column_label
from .titles import statement_title

__all__ = [
    "statement_stem",
    "STATEMENT_FILE_COLUMNS",
    "FX_FILE_COLUMNS",
    "PAYOUT_FILE_COLUMNS",
    "file_columns",
    "statement_cli",
    "statement_rows",
    "write_statement_files",
]

#: Columns of a statement file, in order.
STATEMENT_FILE_COLUMNS = (
    "account_manager_id",
    "period",
    "line",
    "deal_id",
    "description",
    "basis",
    "tier",
    "rate",
    "rule",
    "amount",
    "award",
)


def _file_id(text: str) -> str:
    """File-name-safe form of an id (letters, digits, ``.``, ``_``, ``-``; others become ``_``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(text)).strip("_") or "_"


def statement_stem(account_manager_id: str, period: str) -> str:
    """The file name (without ``.csv`` / ``.xlsx``) of one account manager's statement for ``period``.

    ``statement-<id>-<period>`` with each part file-name safe: ``statement-AM-001-FY2025-Q4``.
    :func:`write_statement_files` names its files so; ``reportkit deliver`` finds them so.
    """
    return f"statement-{_file_id(account_manager_id)}-{_file_id(period)}"


def _none(v):
    if v is None:
        return None
    try:
        import pandas as pd

        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return v


#: Columns a statement file gains after ``description`` when the deals were converted from
#: other currencies at load (fx group): the deal's source amount and currency, the rate used
#: and the converted amount (``original x rate`` rounded half away from zero), the ``basis``
#: of its lines (:func:`reportkit.data.fx.deal_fx`).
FX_FILE_COLUMNS = ("original_amount", "original_currency", "fx_rate", "converted_amount")


#: Columns a statement file gains at the end when the account manager is paid in another
#: currency than the reporting currency (fx2 group): set only on the ``payout`` rows after the
#: total, one per pay period (the period's payout converted once; ``amount`` stays empty there,
#: since that column is in the reporting currency).
PAYOUT_FILE_COLUMNS = ("payout_currency", "payout_amount")


def file_columns(conversions: pd.DataFrame | None, paid_in: str | None = None) -> tuple[str, ...]:
    """The columns of a statement file: :data:`STATEMENT_FILE_COLUMNS`, with :data:`FX_FILE_COLUMNS`
    after ``description`` when ``conversions`` is given and :data:`PAYOUT_FILE_COLUMNS` at the end
    when ``paid_in`` (the payout currency) is."""
    cols = STATEMENT_FILE_COLUMNS
    if conversions is not None:
        at = STATEMENT_FILE_COLUMNS.index("description") + 1
        cols = STATEMENT_FILE_COLUMNS[:at] + FX_FILE_COLUMNS + STATEMENT_FILE_COLUMNS[at:]
    return cols + (PAYOUT_FILE_COLUMNS if paid_in is not None else ())


def statement_rows(stmt: CommissionStatement, conversions: pd.DataFrame | None = None) -> list[dict]:
    """The statement's lines as dicts (:func:`file_columns`) plus a last ``total`` row.

    ``conversions`` (:func:`reportkit.data.fx.deal_fx` of the lines' deal ids, one row per
    line) adds :data:`FX_FILE_COLUMNS` to each line (``None`` on lines without a deal).
    """
    rows = []
    conv = None if conversions is None else conversions.to_dict("records")
    for i, r in enumerate(stmt.lines.itertuples(index=False)):
        tier = _none(getattr(r, "tier", None))
        rows.append(
            {
                "account_manager_id": stmt.account_manager_id,
                "period": stmt.period,
                "line": int(r.line),
                "deal_id": _none(getattr(r, "deal_id", None)),
                "description": str(r.description),
                "basis": _none(r.basis),
                "tier": None if tier is None else int(tier),
                "rate": _none(r.rate),
                "rule": str(r.rule),
                "amount": r.amount,
                "award": str(r.award),
            }
        )
        if conv is not None:
            rows[-1].update({c: conv[i][c] for c in FX_FILE_COLUMNS})
    total = sum((r["amount"] for r in rows), Decimal("0.00"))
    rows.append(
        {
            "account_manager_id": stmt.account_manager_id,
            "period": stmt.period,
            "line": None,
            "deal_id": None,
            "description": f"Total ({counted(len(rows), 'line')})",
            "basis": None,
            "tier": None,
            "rate": None,
            "rule": "total",
            "amount": total,
            "award": None,
        }
        | dict.fromkeys(FX_FILE_COLUMNS if conv is not None else ())
    )
    if stmt.payout_currency is not None and stmt.payout_fx is not None:  # fx2 group: the payout, converted once
        for period, paid, words in stmt.payout_fx[["period", "payout_converted", "words"]].itertuples(index=False):
            rows.append(
                dict.fromkeys(rows[-1])
                | {
                    "account_manager_id": stmt.account_manager_id,
                    "period": period,
                    "description": f"Paid in {stmt.payout_currency}: {words}",
                    "rule": f"payout in {stmt.payout_currency}",
                    "payout_currency": stmt.payout_currency,
                    "payout_amount": paid,
                }
            )
    return rows


def _text(v) -> str:
    return "" if v is None else str(v)


_STATEMENT_KINDS = {
    "basis": "money",
    "amount": "money",
    "converted_amount": "money",
    "payout_amount": "money",
    "rate": "percent",
    "line": "integer",
    "tier": "integer",
}
"""How each statement column is sized (:func:`reportkit.render.excel.frames.fit_widths`); others as text."""


def _statement_widths(
    rows: list[dict], columns: tuple[str, ...], heads: list[str], currency: str, paper: str, orientation: str
) -> tuple[list[float], list[int]]:
    """The statement sheet's column widths and wrapping columns, by the list sheets' one rule (``fit_widths``).

    Amounts with more decimals than money (original amount, rate of exchange) are sized as
    the text of their exact value.
    """
    frame = pd.DataFrame(
        {c: [r.get(c) if _STATEMENT_KINDS.get(c) else _none_text(r.get(c)) for r in rows] for c in columns}, columns=list(columns)
    )
    kinds = [_STATEMENT_KINDS.get(c, "text") for c in columns]
    return fit_widths(frame, kinds, heads, currency, page_width(paper, orientation))


def _none_text(v) -> str | None:
    return None if v is None else str(v)


def write_statement_files(
    stmt: CommissionStatement,
    output_dir: str | Path,
    currency: str,
    conversions: pd.DataFrame | None = None,
    *,
    name: str | None = None,
    as_of: datetime.date | None = None,
    company: str = "",
    paper: str = DEFAULT_PAPER,
    orientation: str = DEFAULT_ORIENTATION,
) -> tuple[Path, Path]:
    """Write one statement as CSV and xlsx into ``output_dir``; returns the two paths.

    The workbook's second sheet, *Trace*, holds the engine's trace behind each line
    (:mod:`reportkit.render.excel.trace`: deal, account, credit share, tier, rate, cap or
    gate, plan version; a live ``Line amount`` sum per line). Each sheet prints as every reportkit sheet does
    (:func:`reportkit.render.excel.book.print_setup`): a title row naming the
    company, the account manager by name and id, the period and as-of; landscape,
    one page wide, title and header rows repeated, page numbers.

    Parameters
    ----------
    stmt : CommissionStatement
    output_dir : str or Path
    currency : str
        ISO code of the amounts (their number format).
    conversions : DataFrame, optional
        See :func:`statement_rows` (deals converted from other currencies: original
        amount, its currency, the rate and the converted amount beside each line).
    name : str, optional
        The account manager's name (the title row shows it with the id).
    as_of : date, optional
        The statement's as-of date (the title row); default the period's label only.
    company : str, default ""
        The params ``name``.
    paper, orientation : str, default "A4", "landscape"
        The sheet the workbook prints on: the params ``pdf.paper`` ("A4" or
        "Letter") and ``pdf.orientation`` ("landscape" or "portrait"), as every
        report's workbook and PDF.

    Raises
    ------
    OutputError
        A file cannot be written.
    ValueError
        ``paper`` or ``orientation`` is not one the params allow.
    """
    import xlsxwriter

    out = Path(output_dir)
    stem = statement_stem(stmt.account_manager_id, stmt.period)
    rows = statement_rows(stmt, conversions)
    columns = file_columns(conversions, stmt.payout_currency)
    csv_path, xlsx_path = out / f"{stem}.csv", out / f"{stem}.xlsx"
    try:
        out.mkdir(parents=True, exist_ok=True)
        with csv_path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(columns)
            for r in rows:
                w.writerow([_text(r.get(c)) for c in columns])
        wb = xlsxwriter.Workbook(str(xlsx_path))
        try:
            ws = wb.add_worksheet("Statement")
            top = {"valign": "top"}  # a wrapped description reads from its first line, its figures on that line
            text = wb.add_format({**TEXT_INSET, **top})
            bold = wb.add_format({"bold": True, **top})
            money = wb.add_format({"num_format": money_format(currency), **top})
            money_bold = wb.add_format({"num_format": money_format(currency), "bold": True, **top})
            rate = wb.add_format({"num_format": "0.00##%", **top})
            plain = {
                "original_amount": wb.add_format({"num_format": "#,##0.00####", **top}),
                "fx_rate": wb.add_format({"num_format": "0.0000####", **top}),
            }
            title_format = wb.add_format({"bold": True, "font_size": 12, "text_wrap": True, "valign": "top"})
            col = {c: i for i, c in enumerate(columns)}
            title = statement_title(stmt.account_manager_id, name, stmt.period, as_of, company) if as_of else None
            h = 0 if title is None else 1  # the header row, below the title row
            heads = [column_label(c) for c in columns]
            widths, wrapped = _statement_widths(rows, columns, heads, currency, paper, orientation)
            print_setup(ws, title, h, title_format, widths, identifying_columns(list(columns)), paper, orientation)
            ws.set_row(h, wrapped_height(heads, widths))  # a label wraps in its cell
            wrap = wb.add_format({"text_wrap": True, **TEXT_INSET, **top})
            wrap_bold = wb.add_format({"text_wrap": True, "bold": True, **TEXT_INSET, **top})
            ws.write_row(h, 0, heads, wb.add_format({"bold": True, "text_wrap": True, "valign": "top"}))
            last = next(i for i, r in enumerate(rows) if r["rule"] == "total")  # payout rows follow it (fx2)
            paid = wb.add_format({"num_format": money_format(stmt.payout_currency), **top}) if stmt.payout_currency else None
            for i, r in enumerate(rows, start=h + 1):
                is_total = i - h - 1 == last
                if wrapped:  # a long description wraps in its cell, its row made tall enough
                    ws.set_row(
                        i, wrapped_height([r.get(columns[j]) for j in wrapped], [widths[j] for j in wrapped], TEXT_INSET_WIDTH)
                    )
                for c in columns:
                    v = r.get(c)
                    if v is None:
                        continue
                    j = col[c]
                    if c == "amount" and is_total:
                        a = xlsxwriter.utility.xl_rowcol_to_cell(h + 1, j)
                        b = xlsxwriter.utility.xl_rowcol_to_cell(h + max(last, 1), j)
                        formula = f"=SUM({a}:{b})" if last else "=0"
                        ws.write_formula(i, j, formula, money_bold, float(v))
                    elif c == "payout_amount":
                        ws.write_number(i, j, float(v), paid)
                    elif c in ("basis", "amount", "converted_amount"):
                        ws.write_number(i, j, float(v), money)
                    elif c in plain:
                        ws.write_number(i, j, float(v), plain[c])
                    elif c == "rate":
                        ws.write_number(i, j, float(v), rate)
                    elif c in ("line", "tier"):
                        ws.write_number(i, j, int(v), text)
                    elif j in wrapped:
                        ws.write_string(i, j, str(v), wrap_bold if is_total else wrap)
                    else:
                        ws.write_string(i, j, str(v), bold if is_total else text)
            ws.freeze_panes(h + 1, 0)
            # issue #15 part 4: the engine's trace behind each line, on its own sheet, printed like this one
            tws = wb.add_worksheet(TRACE_SHEET_NAME)
            print_setup(tws, title, h, title_format, trace_sheet_widths(), TRACE_IDENTIFYING, paper, orientation)
            write_trace_rows(wb, tws, stmt.trace, h, currency, line_amounts(stmt.lines))
        finally:
            wb.close()
    except OSError as exc:
        raise OutputError(f"cannot write statement files in {str(out)!r}: {exc.strerror or exc}") from None
    return csv_path, xlsx_path


def _words(v, kind: str) -> str:
    """A trace value for :func:`trace_text`: money with thousands and cents, a fraction as a percent."""
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return ""
    if kind == "money":
        return f"{Decimal(v):,.2f}"
    if kind == "percent":
        return percent_words(Decimal(v))
    return str(v)


def trace_text(stmt: CommissionStatement, currency: str) -> str:
    """The statement's trace (:attr:`CommissionStatement.trace`, made by the engine) as text, one block per line.

    Each line: its number, period, step and amount; below it each trace row with the deal,
    account, close date, deal amount, how it was credited (source and share), the credited
    amount, tier and rate, what limited it, the rule and the plan with its version; last,
    the statement's total (the sum of the rounded lines).
    """
    tr = stmt.trace
    out = [f"Trace of {stmt.account_manager_id}'s statement for {stmt.period} ({len(stmt.lines)} lines, amounts in {currency})"]
    for line, rows in tr.groupby("line", sort=False):
        first = rows.iloc[0]
        total = sum(rows["amount"].tolist(), Decimal("0.00"))
        step = STEP_WORDS.get(first["kind"], first["kind"])
        out.append(f"line {int(line)}  {first['period']}  {step}  {_words(total, 'money')}")
        for r in rows.to_dict("records"):
            parts = [
                ("deal", _words(r["deal_id"], "")),
                ("account", _words(r["account_id"], "")),
                ("closed", _words(r["close_date"], "")),
                ("deal amount", _words(r["deal_amount"], "money")),
                ("credited as", _words(r["credit_source"], "")),
                ("share", _words(r["share"], "percent")),
                ("credited", _words(r["credited"], "money")),
                ("tier", _words(r["tier"], "")),
                ("rate", _words(r["rate"], "percent")),
                ("amount", _words(r["amount"], "money")),
            ]
            out.append("  " + "  ".join(f"{k} {v}" for k, v in parts if v))
            out.append(f"    rule: {r['rule']}")
            if r["limited_by"]:
                out.append(f"    limited by: {r['limited_by']}")
            plan = f"{r['plan']}" + (f" ({r['plan_file']})" if r["plan_file"] else "")
            out.append(f"    plan: {plan}, version {r['plan_version']}")
    out.append(f"total {stmt.total:,.2f} {currency} (the sum of the rounded lines)")
    return "\n".join(out)


def statement_cli(
    params_path: str | Path,
    period: str | None = None,
    account_manager_id: str | None = None,
    output_dir: str | Path = "reports/statements",
    splits: str | Path | None = None,
    trace: str | None = None,
) -> int:
    """Write commission statements for ``period`` (default the params') as CSV and xlsx; returns the exit code (0).

    Parameters
    ----------
    params_path : str or Path
        Batch params file (source, ``as_of``, ``plan:`` or ``commission:``).
    period : str, optional
        Period label, e.g. ``FY2025-Q4``; default the params file's ``period``. Deals
        count up to ``min(as_of, period end)`` with the params file's ``as_of``.
    account_manager_id : str, optional
        One account manager; default every account manager active in the period
        (restricted to the params file's ``account_managers`` when given).
    output_dir : str or Path
    splits : str or Path, optional
        A splits file (``--splits``) replacing the source mapping's ``splits`` table
        (:func:`reportkit.data.mapping.with_splits`); relative to the working folder.
    trace : str, optional
        An account manager id (``--trace``): print their statement's trace as text
        (:func:`trace_text`) instead of writing files.

    Raises
    ------
    ReportkitError
        Bad params, mapping, data, plan or period (``ParamsError`` when the period
        starts after ``as_of`` or the account manager is unknown); ``OutputError``
        when files cannot be written. The CLI maps these to exit codes.
    """
    params, ds = load_inputs(params_path)
    if splits is not None:
        ds = with_splits(ds, splits)
    p = Period.parse(period or params.period, ds.calendar)
    refuse_closed(params, output_dir, p.label)  # close group (issue #15): a closed period is never rewritten
    params = with_close_registry(params, output_dir)  # later periods restate the closed ones
    as_of = params.as_of
    if as_of < p.start:
        raise ParamsError(
            f"{params_path}: as_of {as_of.isoformat()} is before {p.label} starts ({p.start.isoformat()})",
            hint="choose a period that has begun by as_of, or change as_of in the params file",
        )
    if trace is not None:
        account_manager_row(ds, str(trace))  # an unknown id is a ParamsError naming it
        with shared_contexts():
            stmt = commission_for(ds, params, str(trace), p.label, as_of)
        print(trace_text(stmt, ds.currency))
        return 0
    if account_manager_id is not None:
        account_manager_row(ds, str(account_manager_id))
        ids = [str(account_manager_id)]
    else:
        active = active_account_managers(ds, p)
        ids = sorted(active["account_manager_id"].astype("str").tolist())
        if params.account_managers is not None:
            ids = [a for a in ids if a in set(params.account_managers)]
    written = 0
    fx = DealConversions(ds.deals) if has_fx(ds.deals) else None  # deals converted from other currencies
    with shared_contexts():  # one plan-engine run for every statement
        for am in ids:
            stmt = commission_for(ds, params, am, p.label, as_of)
            conversions = fx(stmt.lines["deal_id"].tolist()) if fx is not None else None
            name = str(account_manager_row(ds, am)["name"])
            csv_path, _ = write_statement_files(
                stmt,
                output_dir,
                ds.currency,
                conversions,
                name=name,
                as_of=as_of,
                company=params.company,
                paper=params.pdf.paper,
                orientation=params.pdf.orientation,
            )
            paid = f", paid {stmt.payout_converted} {stmt.payout_currency}" if stmt.payout_currency else ""
            print(f"{am}: {counted(len(stmt.lines), 'line')}, total {stmt.total} {ds.currency}{paid} -> {csv_path}")
            written += 1
    print(f"{counted(written, 'statement')} for {p.label} as of {as_of.isoformat()} in {output_dir}")
    return 0
