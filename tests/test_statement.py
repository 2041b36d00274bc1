"""``reportkit statement``: CSV / xlsx statements equal the report's commission, total = sum of lines."""

from __future__ import annotations

import csv
import os
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from batch_contexts import batch_contexts
from datasets import DATA, SKIP_REASON

from reportkit.analysis.api import load
from reportkit.config.params import load_params
from reportkit.core.errors import ParamsError
from reportkit.render.statement import STATEMENT_FILE_COLUMNS, statement_cli
from reportkit.reports.builders import build_account_manager_report, build_team_report, plan_reports

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "params" / "demo.yaml"
AW = ROOT / "params" / "adventureworks.yaml"


def read_csv(path: Path) -> tuple[list[dict], dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0].keys()) == list(STATEMENT_FILE_COLUMNS)
    assert rows[-1]["rule"] == "total"
    return rows[:-1], rows[-1]


def check_statements(
    params_path: Path, out: Path, ams: list[str] | None = None, one_per_shape: bool = False
) -> tuple[dict[str, Decimal], dict[str, object]]:
    """Each statement's files against its report: the totals of every statement, and the reports compared.

    ``ams`` None: ``reportkit statement`` writes every account manager's statement at once;
    else one call per account manager in ``ams``. Every statement's CSV has the columns, a
    total row equal to the sum of its lines, lines in cents. Its lines and total equal the
    report's commission, and its workbook shows them: for every statement, or with
    ``one_per_shape`` for the first of each shape (the set of rules and tiers its lines
    name: a real data set has many statements of the same shape, and the files of one
    shape are made by the same code).
    """
    params, ds = load(params_path)
    period = params.period
    ids = ams or [s.id for s in plan_reports(ds, params) if s.kind == "account_manager"]
    totals, files, shapes = {}, {}, {}
    if ams is None:
        assert statement_cli(params_path, period, output_dir=out) == 0
    for am in ids:
        if ams is not None:
            assert statement_cli(params_path, period, am, out) == 0
        lines, total = read_csv(out / f"statement-{am}-{period}.csv")
        amounts = [Decimal(r["amount"]) for r in lines]
        assert all(a == a.quantize(Decimal("0.01")) for a in amounts)
        assert Decimal(total["amount"]) == sum(amounts, Decimal("0.00"))
        totals[am], files[am] = Decimal(total["amount"]), (lines, amounts)
        shapes.setdefault(frozenset((r["rule"], r["tier"]) for r in lines), am)
    compared = sorted(shapes.values(), key=ids.index) if one_per_shape else ids
    reports = {}
    with batch_contexts(params):  # one context for every report, as the batch has (the forecast once per data set, and run)
        for am in compared:
            lines, amounts = files[am]
            report = reports[am] = build_account_manager_report(ds, am, period, params, params.as_of)
            assert totals[am] == report.summary["commission_total"]
            assert [int(r["line"]) for r in lines] == report.commission["line"].tolist()
            assert amounts == report.commission["amount"].tolist()
            wb = openpyxl.load_workbook(out / f"statement-{am}-{period}.xlsx")
            ws = wb["Statement"]
            # the title row names the account manager by name and id, the period and as-of
            who = str(ds.account_managers.set_index("account_manager_id").at[am, "name"])
            assert (
                ws["A1"].value
                == f"{params.name} · Commission statement: {who} ({am}) · {period} · as of {params.as_of.isoformat()}"
            )
            assert ws.print_title_rows == "$1:$2" and ws.page_setup.orientation == "landscape"
            header = [c.value for c in ws[2]]
            amount_col = header.index("Amount") + 1
            xl = [ws.cell(row=i, column=amount_col).value for i in range(3, 3 + len(lines))]
            assert [Decimal(repr(v)).quantize(Decimal("0.01")) for v in xl] == amounts
            assert "$" in ws.cell(row=3, column=amount_col).number_format or not lines
            assert str(ws.cell(row=3 + len(lines), column=amount_col).value).startswith("=")
    return totals, reports


def test_demo_statements_equal_the_report_commission(tmp_path, capsys):
    totals, reports = check_statements(DEMO, tmp_path)
    n = len(totals)
    assert len(reports) == n
    assert len(list(tmp_path.glob("statement-*.csv"))) == n
    assert len(list(tmp_path.glob("statement-*.xlsx"))) == n
    assert n > 1 and f"{n} statements for FY2025-Q4" in capsys.readouterr().out
    assert any(t > 0 for t in totals.values())


def test_period_after_as_of_and_unknown_account_manager_are_refused(tmp_path):
    with pytest.raises(ParamsError, match="before FY2026-Q2 starts"):
        statement_cli(DEMO, "FY2026-Q2", output_dir=tmp_path)
    with pytest.raises(ParamsError, match="not in the account managers table"):
        statement_cli(DEMO, "FY2025-Q4", "nobody", tmp_path)


def test_demo_with_a_plan_uses_the_engine(tmp_path):
    """The demo data through the shipped standard plan: engine lines with tiers in the report and the file."""
    text = DEMO.read_text(encoding="utf-8") + "plan: plans/standard.yaml\n"
    p = DEMO.parent / f".test-statement-{os.getpid()}.yaml"
    p.write_text(text, encoding="utf-8")
    try:
        params, ds = load(p)
        am = next(s.id for s in plan_reports(ds, params) if s.kind == "account_manager")
        with batch_contexts(params):  # the demo's forecast once for the three reports (and read from the run's fits)
            r = build_account_manager_report(ds, am, params.period, params, params.as_of)
            assert r.commission["rule"].str.startswith("commission, tier ").any()
            assert r.commission["tier"].dropna().isin([1, 2, 3, 4]).all()
            assert r.summary["commission_total"] == sum(r.commission["amount"], Decimal("0.00"))
            check_statements(p, tmp_path, [am])
            team = build_team_report(ds, r.team, params.period, params, params.as_of)
        row = team.commission_expense.loc[team.commission_expense["account_manager_id"] == am].iloc[0]
        assert row["total"] == r.summary["commission_total"]
        assert team.summary["commission_expense"] == sum(team.commission_expense["total"], Decimal("0.00"))
    finally:
        p.unlink()


@pytest.mark.realdata
@pytest.mark.skipif(not DATA.is_dir(), reason=SKIP_REASON)
def test_adventureworks_statements_come_from_the_tiered_territory_plan(tmp_path):
    """Every AdventureWorks statement is written and adds up; one of each shape is compared with its report and
    workbook (18 statements in 3 shapes: tier 1 only; tiers 1-2 and the bonus; tiers 1-3 and the bonus)."""
    params = load_params(AW)
    assert params.plan is not None
    totals, reports = check_statements(AW, tmp_path, one_per_shape=True)
    assert len(totals) == 18
    assert len(reports) >= 3 and "296" in reports
    r = reports["296"]
    # Lynn Tsoflias (Australia) beats quota: tier 2 and 3 lines and the quota-club bonus
    assert set(r.commission["tier"].dropna()) >= {1, 2}
    assert "bonus" in set(r.commission["rule"])
    assert r.summary["bonus"] == Decimal("5000.00")
    # commission basis is the territory credit the report shows as revenue
    credit = sum(b for b, k in zip(r.commission["basis"], r.commission["rule"]) if k.startswith("commission, tier "))
    assert credit == r.summary["revenue"]


def test_statement_without_period_uses_the_params_files_period(tmp_path, capsys):
    from reportkit.cli import main

    assert main(["statement", str(DEMO), "--account-manager", "AM-001", "-o", str(tmp_path)]) == 0
    period = load_params(DEMO).period
    assert [p.name for p in sorted(tmp_path.glob("*.csv"))] == [f"statement-AM-001-{period}.csv"]
    assert f"1 statement for {period} as of" in capsys.readouterr().out


def test_team_and_company_commission_are_their_members_statement_totals_when_the_batch_keeps_only_the_last_statement():
    # a batch keeps every account manager's statement totals and only the last one's lines (docs/batch.md,
    # "Memory of the batch process"): the team and company reports built after every member's report show
    # the same commission as those built first, from whole statements
    from reportkit.domain.commission import CommissionStatement
    from reportkit.reports.builders import COMPANY_ID, build_report, report_context

    params, ds = load(DEMO)
    specs = plan_reports(ds, params)

    def build(s):
        return build_report(ds, params, kind=s.kind, report_id=s.id, period=params.period, as_of=params.as_of)

    groups = [s for s in specs if s.kind in ("team", "company")]
    with batch_contexts(params):
        first = {s.id: build(s) for s in groups}  # every statement made for them, before any member's report
    with batch_contexts(params):
        ams = {s.id: build(s) for s in specs if s.kind == "account_manager"}
        after = {s.id: build(s) for s in groups}
        ctx = report_context(ds, params, params.period, params.as_of)
        whole = [v for v in ctx.engine.values() if isinstance(v, tuple) and isinstance(v[-1], CommissionStatement)]
        assert len(whole) == 1  # the last account manager's lines only
    for key, report in first.items():
        assert after[key].summary == report.summary
        pd.testing.assert_frame_equal(after[key].commission_expense, report.commission_expense)
    for t in (r for k, r in after.items() if k != COMPANY_ID):
        for am, total in zip(t.commission_expense["account_manager_id"], t.commission_expense["total"]):
            assert total == ams[am].summary["commission_total"] == sum(ams[am].commission["amount"], Decimal("0.00"))


def test_a_flat_rate_statement_names_the_tier_that_paid_each_commission_line_as_its_trace_does(tmp_path):
    """The demo's flat rate is a one-tier plan: its Statement sheet's Tier column said nothing while the Trace said tier 1."""
    assert statement_cli(DEMO, "FY2025-Q4", "AM-001", tmp_path) == 0
    wb = openpyxl.load_workbook(tmp_path / "statement-AM-001-FY2025-Q4.xlsx")

    def column(ws, name):
        header = [c.value for c in ws[2]]
        rows = [[c.value for c in row] for row in ws.iter_rows(min_row=3)]
        return [(r[header.index("Line")], r[header.index(name)]) for r in rows if isinstance(r[header.index("Line")], int)]

    statement, trace = dict(column(wb["Statement"], "Tier")), dict(column(wb["Trace"], "Tier"))
    assert statement and all(tier is not None for tier in statement.values())  # a reader sees no empty column
    assert statement == trace == dict.fromkeys(statement, 1)  # every line of the flat rate: tier 1, in both sheets
