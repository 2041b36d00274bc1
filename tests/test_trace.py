"""The trace behind every payout (issue #15 part 4): each statement line followed to the deals,
credit share, tier, rate, cap and plan version that made it, computed by the engine."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
from engine_helpers import dataset, plan_from_yaml
from print_helpers import assert_prints_legibly

from reportkit.domain import engine

# a tiered plan with a cap: 5 % up to 10,000.00 of the quarter's credit, 10 % above; at most 1,500.00 a quarter
TIERED_CAPPED_PLAN = """\
name: Tiered capped
period: quarter
rates:
  method: marginal
  basis: amount
  accumulation: per_period
  tiers:
    - {from: 0, rate: "0.05"}
    - {from: "10000.00", rate: "0.10"}
cap: {per: period, amount: "1500.00", carry_excess: false}
clawback: {method: rate_paid, window_days: 180}
"""


def split_deal_and_clawback():
    """Q1 2025: ``ann`` closes D1 8,000.00 (10 Jan), shares D2 10,000.00 60/40 with ``bob`` (1 Feb)
    and closes D3 12,000.00 (1 Mar); D1 is cancelled whole on 2 May (Q2)."""
    ds = dataset(
        [
            ("D1", "ann", "2025-01-10", "8000.00", "X", "ACME"),
            ("D2", "ann", "2025-02-01", "10000.00", "X", "GLOBEX"),
            ("D3", "ann", "2025-03-01", "12000.00", "X", "ACME"),
        ],
        ams=[("bob", None, None)],
    )
    splits = pd.DataFrame(
        {"deal_id": ["D2", "D2"], "account_manager_id": ["ann", "bob"], "share": ["0.6", "0.4"], "kind": "revenue"}
    )
    cancellations = pd.DataFrame(
        {"deal_id": ["D1"], "cancel_date": pd.to_datetime(["2025-05-02"]), "amount_cents": pd.array([None], dtype="Int64")}
    )
    return ds, splits, cancellations


def _run(tmp_path):
    p = plan_from_yaml(tmp_path, TIERED_CAPPED_PLAN, "tiered_capped.yaml")
    ds, splits, cx = split_deal_and_clawback()
    return engine.compute(ds, p, "FY2025-Q2", splits=splits, cancellations=cx), p


def test_trace_of_a_tiered_capped_plan_with_a_split_deal_and_a_clawback_matches_the_hand_computation(tmp_path):
    res, p = _run(tmp_path)
    tr = res.trace("ann")
    got = [
        (r.period, r.kind, r.deal_id, r.account_id, r.share, r.credited, r.tier, r.rate, r.amount)
        for r in tr.itertuples(index=False)
    ]
    D = Decimal
    # by hand: D1 8,000.00 x 5 % = 400.00 (running total 8,000.00); D2 ann's 60 % = 6,000.00:
    # 2,000.00 x 5 % = 100.00 up to 10,000.00 and 4,000.00 x 10 % = 400.00 above; D3 12,000.00 x 10 % = 1,200.00;
    # 2,100.00 earned, capped at 1,500.00: cap -600.00; Q2: D1 cancelled, clawed back at the rate paid: -400.00
    assert got == [
        ("FY2025-Q1", "commission", "D1", "ACME", D(1), D("8000.00"), 1, D("0.05"), D("400.00")),
        ("FY2025-Q1", "commission", "D2", "GLOBEX", D("0.6"), D("2000.00"), 1, D("0.05"), D("100.00")),
        ("FY2025-Q1", "commission", "D2", "GLOBEX", D("0.6"), D("4000.00"), 2, D("0.1"), D("400.00")),
        ("FY2025-Q1", "commission", "D3", "ACME", D(1), D("12000.00"), 2, D("0.1"), D("1200.00")),
        ("FY2025-Q1", "cap", None, None, None, None, None, None, D("-600.00")),
        ("FY2025-Q2", "clawback", "D1", "ACME", D(1), D("-8000.00"), None, None, D("-400.00")),
        # Q2 nets -400.00: paid 0, the negative balance carried forward (carry_negative, the default)
        ("FY2025-Q2", "balance_out", None, None, None, None, None, None, D("400.00")),
    ]
    assert tr["rule"][5] == "Tiered capped: clawback at the rate paid: commission paid 400.00 x cancelled 8000.00 / deal 8000.00"
    assert tr["deal_amount"].tolist()[:4] == [D("8000.00"), D("10000.00"), D("10000.00"), D("12000.00")]
    assert tr["credit_source"].tolist()[:4] == ["owner", "split", "split", "owner"]
    # the cap that limited each Q1 commission line is named with its line number
    assert all(s.startswith("cap (line 5)") for s in tr["limited_by"].tolist()[:4])
    assert tr["limited_by"].tolist()[4:] == ["", "", ""]
    assert set(tr["plan"]) == {"Tiered capped"} and set(tr["plan_file"]) == {"tiered_capped.yaml"}
    assert set(tr["plan_version"]) == {engine.plan_version(p)}
    # bob's trace: his 40 % of D2, 4,000.00 at 5 % = 200.00
    bob = res.trace("bob")
    assert bob[["deal_id", "share", "credited", "rate", "amount"]].values.tolist() == [
        ["D2", D("0.4"), D("4000.00"), D("0.05"), D("200.00")]
    ]


def test_each_statement_line_is_the_sum_of_its_trace_rows(tmp_path):
    res, _ = _run(tmp_path)
    for am in ("ann", "bob"):
        st, tr = res.statement(am), res.trace(am)
        sums = tr.groupby("line")["amount"].apply(lambda a: sum(a, Decimal("0.00")))
        assert sums.to_dict() == dict(zip(st["line"], st["amount"]))


def test_plan_version_changes_with_a_rule_and_not_with_comments_or_key_order(tmp_path):
    a = plan_from_yaml(tmp_path, TIERED_CAPPED_PLAN, "a.yaml")
    b = plan_from_yaml(
        tmp_path, "# a comment\n" + TIERED_CAPPED_PLAN.replace("period: quarter\n", "") + "period: quarter\n", "b.yaml"
    )
    c = plan_from_yaml(tmp_path, TIERED_CAPPED_PLAN.replace('"0.10"', '"0.11"'), "c.yaml")
    assert engine.plan_version(a) == engine.plan_version(b) != engine.plan_version(c)


def _statement(tmp_path):
    from engine_helpers import CAL

    from reportkit.core.periods import Period
    from reportkit.domain.commission import plan_statement

    res, _ = _run(tmp_path)
    return plan_statement(res, "ann", Period.parse("FY2025-Q1", CAL))


def test_statement_trace_uses_the_statements_own_line_numbers(tmp_path):
    stmt = _statement(tmp_path)
    tr = stmt.trace
    assert tr["line"].tolist() == stmt.lines["line"].tolist() == [1, 2, 3, 4, 5]
    assert tr["deal_id"].tolist()[:4] == stmt.lines["deal_id"].tolist()[:4] == ["D1", "D2", "D2", "D3"]


def test_libreoffice_recalculates_the_trace_sheets_line_amounts_to_the_statement_lines(tmp_path):
    import openpyxl
    import pytest
    from test_excel_recalc import SOFFICE, check_recalculated, recalculate

    from reportkit.render.statement import write_statement_files

    if SOFFICE is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    stmt = _statement(tmp_path)
    _, xlsx = write_statement_files(stmt, tmp_path / "out", "USD", name="Ann", as_of=__import__("datetime").date(2025, 3, 31))
    converted = recalculate([xlsx], tmp_path)[xlsx]
    assert check_recalculated(xlsx, converted) >= 6  # the statement's total and one live sum per trace line
    ws = openpyxl.load_workbook(converted, data_only=True)["Trace"]
    book = openpyxl.load_workbook(xlsx)
    formulas, statement = book["Trace"], book["Statement"]
    heads = [c.value for c in ws[2]]
    assert heads[:4] == ["Line", "Period", "Step", "Deal ID"] and heads[-1] == "Line amount"
    rows = list(ws.iter_rows(min_row=3, values_only=True))
    got = {r[0]: Decimal(repr(r[-1])).quantize(Decimal("0.01")) for r in rows}
    assert got == dict(zip(stmt.lines["line"].tolist(), stmt.lines["amount"].tolist()))
    assert all(str(r[-1].value).startswith("=SUM(") for r in formulas.iter_rows(min_row=3))
    # the deals, shares and rates a reader follows the payout to
    assert [(r[3], r[8], r[11]) for r in rows[:4]] == [("D1", 1, 0.05), ("D2", 0.6, 0.05), ("D2", 0.6, 0.1), ("D3", 1, 0.1)]
    # printed like the statement sheet: landscape, the title and header rows repeat; 19 columns print
    # several pages wide at a legible scale, line, period, step and deal repeated on each page
    for ws_ in (formulas, statement):
        assert ws_.page_setup.orientation == "landscape"
        assert_prints_legibly(ws_, statement["A1"].value)
    assert formulas.print_title_cols == "$A:$D"


_OPEN_DETAILS_JS = """
window.addEventListener('load', () => {
  const text = (sel) => Array.from(document.querySelectorAll(sel)).map((d) => d.innerText);
  const closed = text('#lines details');
  document.querySelectorAll('details').forEach((d) => { d.open = true; });
  const pre = document.createElement('pre');
  pre.id = 'reportkit-trace';
  pre.textContent = JSON.stringify({closed, lines: text('#lines details'), summary: text('#summary details')});
  document.body.appendChild(pre);
});
"""


def _report(tmp_path):
    """The sample account-manager report carrying the fixture statement and its trace."""
    import dataclasses

    from sample_reports import am_report

    stmt = _statement(tmp_path)
    base = am_report()
    return dataclasses.replace(
        base,
        commission=stmt.lines,
        commission_trace=stmt.trace,
        summary={**base.summary, "commission_total": stmt.total},
        currency="USD",
    )


def test_libreoffice_recalculates_the_account_manager_workbooks_trace_sheet_to_its_commission_lines(tmp_path):
    import openpyxl
    import pytest
    from test_excel_recalc import SOFFICE, check_recalculated, recalculate

    from reportkit.render.excel import write_workbook

    if SOFFICE is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    report = _report(tmp_path)
    xlsx = write_workbook(report, tmp_path / "ann.xlsx")
    converted = recalculate([xlsx], tmp_path)[xlsx]
    check_recalculated(xlsx, converted)
    book = openpyxl.load_workbook(converted, data_only=True)
    assert book.sheetnames[-1] == "Trace"
    rows = list(book["Trace"].iter_rows(min_row=3, values_only=True))
    got = {r[0]: Decimal(repr(r[-1])).quantize(Decimal("0.01")) for r in rows}
    assert got == dict(zip(report.commission["line"].tolist(), report.commission["amount"].tolist()))
    # the step in a reader's words, never the ledger's code
    assert [r[2] for r in rows] == ["commission"] * 4 + ["cap"]


def test_chromium_shows_each_lines_trace_with_its_deals_and_rates_when_its_details_is_opened(tmp_path):
    import dataclasses
    import re

    import pytest
    from test_browser import CHROMIUM, _json_after_load

    from reportkit.render.notebook import commission_table

    if not CHROMIUM.exists():
        pytest.skip("headless checks need Debian's chromium at /usr/bin/chromium")
    report = _report(tmp_path)
    lines = commission_table(report)
    summary = commission_table(dataclasses.replace(report, table_rows=1))  # 5 lines > 1: summed by rule, tier, award
    page = tmp_path / "commission.html"
    page.write_text(
        f'<!DOCTYPE html><html><body><div id="lines">{lines.to_html()}</div>'
        f'<div id="summary">{summary.to_html()}</div></body></html>',
        encoding="utf-8",
    )
    got, _ = _json_after_load(
        page, tmp_path, _OPEN_DETAILS_JS, re.compile(r'<pre id="reportkit-trace">(.*?)</pre>', re.S), "trace"
    )
    # closed, a line shows only its summary; opened, its trace: the deal, the share, the rate, the amount
    assert got["closed"][2].strip() == "Trace of line 3: 1 row"  # a counted noun, not "1 row(s)"
    assert len(got["lines"]) == 5
    assert all(f"D{i}" not in t for i, t in enumerate(got["closed"], 1))
    d2 = got["lines"][2]
    assert "D2" in d2 and "GLOBEX" in d2 and "60.0%" in d2 and "10.0%" in d2 and "$400.00" in d2
    assert "D3" in got["lines"][3] and "cap (line 5)" in got["lines"][3]
    assert "-$600.00" in got["lines"][4]
    # the long statement's one summary row shown sums lines 1 and 2 (tier 1 at 5 %); its trace is cut by the one rule
    assert len(got["summary"]) == 1
    first = got["summary"][0]
    assert "Trace of 2 lines: 2 rows" in first and "first 1 of 2 rows; all rows in the workbook" in first
    assert "D1" in first and "5.0%" in first and "D3" not in first


def test_the_pdf_prints_the_commission_lines_without_their_trace(tmp_path):
    import datetime

    import nbformat
    import pytest
    from test_pdf import pdf_pages

    from reportkit.render.notebook import commission_table
    from reportkit.render.pdf import PdfPage, pdf_unavailable, render_pdf
    from reportkit.render.titles import PrintTitle
    from reportkit.run.html import export_print_body

    if pdf_unavailable():
        pytest.skip("WeasyPrint cannot render here")
    shown = commission_table(_report(tmp_path))
    assert "<details>" in shown.to_html()  # the page has the trace ...
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("commission_table(report)")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": shown.to_html(), "text/plain": "table"})]
    nb.cells = [nbformat.v4.new_markdown_cell("## Commission statement"), cell]
    title = PrintTitle("Co", "Account manager report: Ann (ann)", "FY2025-Q1", datetime.date(2025, 3, 31))
    pdf = tmp_path / "ann.pdf"
    pdf.write_bytes(render_pdf(export_print_body(nb), PdfPage(title, "A4", "portrait")))
    text = "\n".join(pdf_pages(pdf))
    assert "-$600.00" in text  # ... the PDF prints the lines, without the trace rows
    assert "Trace of line" not in text and "GLOBEX" not in text


def test_statement_trace_option_prints_each_line_with_its_deal_rate_and_plan_version_and_writes_no_file(
    tmp_path, monkeypatch, capsys
):
    from pathlib import Path

    from reportkit.cli import main
    from reportkit.domain.loading import load_inputs
    from reportkit.reports.statements import commission_for

    params = Path(__file__).resolve().parents[1] / "params" / "demo.yaml"
    monkeypatch.chdir(tmp_path)
    assert main(["statement", str(params), "--period", "FY2025-Q4", "--trace", "AM-001"]) == 0
    out = capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []  # printed, not written
    p, ds = load_inputs(params)
    stmt = commission_for(ds, p, "AM-001", "FY2025-Q4", p.as_of)
    for line, deal, amount in zip(stmt.lines["line"], stmt.lines["deal_id"], stmt.lines["amount"]):
        assert f"line {line}  FY2025-Q4" in out and f"{amount:,.2f}" in out
        assert deal is None or f"deal {deal}  account ACC-" in out
    assert out.count("rate 5 %") == int(stmt.lines["rate"].notna().sum())  # the demo's flat 5 % policy
    assert out.count(f"version {set(stmt.trace['plan_version']).pop()}") == len(stmt.lines)
    assert f"total {stmt.total:,.2f} USD" in out
