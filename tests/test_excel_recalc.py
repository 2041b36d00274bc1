"""LibreOffice recalculates every workbook formula to reportkit's figures, to the cent.

Workbooks are converted headless with a throw-away profile that forces a full
recalculation on load (``OOXMLRecalcMode`` = 0, "always"), then read with
openpyxl ``data_only=True``: every formula cell of the original must hold, after
recalculation, the figure reportkit wrote as its cached value (money to the cent,
fractions to 1e-9, text exactly), and the Summary sheet must show the report's
summary figures.
"""

from __future__ import annotations

import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from batch_contexts import batch_contexts
from datasets import DATA
from sample_reports import am_report, team_report

from reportkit.render.excel import write_company_workbook, write_workbook
from reportkit.render.excel.summary import _SWITCHES
from reportkit.render.labels import summary_label
from reportkit.reports.builders import build_company_rollup

ROOT = Path(__file__).resolve().parents[1]
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")

pytestmark = pytest.mark.skipif(
    SOFFICE is None,
    reason="LibreOffice (soffice) is not installed: apt-get install -y --no-install-recommends libreoffice-calc-nogui",
)

_RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def recalculate(files: list[Path], tmp: Path, to: str = "xlsx", options: str = "") -> dict[Path, Path]:
    """Convert ``files`` with LibreOffice (full recalculation) to ``to`` (xlsx, pdf: printed, csv: as shown); original -> converted path.

    ``options``: the export filter and its options (``--convert-to to:options``), e.g. which sheet a CSV holds.
    """
    profile = tmp / "lo-profile"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(_RECALC_ALWAYS)
    out = tmp / ("recalculated" if to == "xlsx" else f"converted-{to}")
    out.mkdir()
    cmd = [
        SOFFICE,
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--norestore",
        "--convert-to",
        f"{to}:{options}" if options else to,
        "--outdir",
        str(out),
        *map(str, files),
    ]
    # one LibreOffice for every file: the demo's and the real data's 35 workbooks took over 300 s on the 2-core
    # box at a load of 20 (2026-12-07), a few seconds each when quiet; a limit per file, not per call
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=max(300, 30 * len(files)))
    result = {f: out / f"{f.stem}.{to}" for f in files}
    if to == "csv" and options:  # one sheet of a CSV export is written as "<stem>-<sheet name>.csv"
        result = {f: next(iter(sorted(out.glob(f"{f.stem}-*.csv"))), c) for f, c in result.items()}
    missing = [f.name for f, c in result.items() if not c.exists()]
    assert not missing, f"LibreOffice did not convert {missing}: {proc.stdout}\n{proc.stderr}"
    return result


def _same(cached, recalculated, number_format: str) -> bool:
    if isinstance(cached, (int, float)) and not isinstance(cached, bool):
        if not isinstance(recalculated, (int, float)):
            return False
        if "%" in number_format:
            return abs(cached - recalculated) <= 1e-9
        return Decimal(repr(cached)).quantize(Decimal("0.01")) == Decimal(repr(recalculated)).quantize(Decimal("0.01"))
    return cached == recalculated


def cell_values(path: Path) -> dict[str, dict[tuple[int, int], object]]:
    """Every stored cell value of the workbook at ``path`` (a formula's: its cached result), by sheet and (row, column).

    Read-only, as a stream: half the CPU of a whole load (openpyxl builds no cell objects or
    styles), which :func:`check_recalculated` made twice per workbook for 35 workbooks.
    """
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        values: dict[str, dict[tuple[int, int], object]] = {}
        for ws in wb.worksheets:
            ws.reset_dimensions()  # every row the file holds, whatever its dimension tag says
            values[ws.title] = {(c.row, c.column): c.value for row in ws.iter_rows() for c in row if c.value is not None}
        return values
    finally:
        wb.close()


def check_recalculated(original: Path, converted: Path, report=None) -> int:
    formulas = openpyxl.load_workbook(original, read_only=True)  # streamed as cell_values, with formulas and formats
    cached = cell_values(original)
    recalc = cell_values(converted)
    n = 0
    bad = []
    for ws in formulas.worksheets:
        ws.reset_dimensions()
        for row in ws.iter_rows():
            for c in row:
                if c.data_type != "f":
                    continue
                n += 1
                want = cached[ws.title].get((c.row, c.column))
                got = recalc[ws.title].get((c.row, c.column))
                if not _same(want, got, c.number_format):
                    bad.append((ws.title, c.coordinate, c.value, want, got))
    formulas.close()
    assert not bad, f"{original.name}: recalculated values differ from reportkit's: {bad[:10]}"
    if report is not None:  # the Summary shows the report's figures after recalculation
        shown = recalc["Summary"]
        last = max((r for r, _ in shown), default=0)
        summary = {shown.get((r, 1)): shown.get((r, 2)) for r in range(3, last + 1)}  # below the title and header rows
        for key, value in (report.summary or {}).items():
            if key == "period_label" and value == report.period:
                continue  # the period is shown once, in its identity row
            if key in _SWITCHES:
                continue  # a display switch, not a figure: the Summary sheet does not show it
            got = summary[summary_label(report.kind, key)]
            if isinstance(value, Decimal):
                assert Decimal(repr(got)).quantize(Decimal("0.01")) == value, (original.name, key, got, value)
            elif isinstance(value, float):
                assert got == pytest.approx(value, abs=1e-9), (original.name, key)
            elif value is None and key.endswith("attainment"):
                assert got == "n/a", (original.name, key)
    return n


def _reports(params_file: Path, am_limit: int, team_limit: int, company: bool = False):
    from reportkit.reports.builders import build_report, plan_reports
    from reportkit.run.batch import load_batch_inputs

    params, ds = load_batch_inputs(params_file)
    specs = plan_reports(ds, params)
    pick = [s for s in specs if s.kind == "account_manager"][:am_limit] + [s for s in specs if s.kind == "team"][:team_limit]
    pick += [s for s in specs if s.kind == "company"] if company else []
    with batch_contexts(params):  # as the batch builds them: the chosen forecast once per data set (and run), not once per report
        reports = [build_report(ds, params, kind=s.kind, report_id=s.id, period=params.period, as_of=params.as_of) for s in pick]
        teams = [r for r in reports if r.kind == "team"]
        rollup = build_company_rollup(ds, teams, params.period, params, params.as_of) if teams else None
    return params, reports, rollup


def _write_all(tmp: Path, label: str, reports, company_title: str | None = None, rollup=None) -> list[tuple[Path, object]]:
    out = []
    for i, r in enumerate(reports):
        out.append((write_workbook(r, tmp / f"{label}-{i:02d}-{r.kind}.xlsx"), r))
    teams = [r for r in reports if r.kind == "team"]
    if company_title and teams:
        path = write_company_workbook(
            teams, tmp / f"{label}-company.xlsx", title=company_title, as_of=teams[0].as_of, rollup=rollup
        )
        out.append((path, None))
    return out


def test_libreoffice_recalculates_every_formula_to_reportkits_figures(tmp_path):
    written = []
    # hand-built awkward cases: zero / missing quota, refunds, formula-looking names;
    # attainment consistent with revenue / quota so the ratios are live formulas
    q = am_report().quarterly.assign(attainment=[1.0, 1.234567, float("nan"), 9000.10 / 12000])
    one_team = team_report()  # a company of one team: the company row is that team's summary
    written += _write_all(
        tmp_path,
        "sample",
        [am_report(quarterly=q, summary={**am_report().summary, "attainment": 9000.10 / 12000}), one_team],
        "Sample",
        rollup=dict(one_team.summary),
    )
    params, demo, rollup = _reports(
        ROOT / "params" / "demo.yaml", am_limit=100, team_limit=100, company=True
    )  # the whole demo batch
    written += _write_all(tmp_path, "demo", demo, f"{params.name} — {params.period}", rollup)
    if DATA.is_dir():
        for name in ("maven_crm", "adventureworks", "superstore"):  # superstore: sub-cent amounts, exact totals
            p, reps, rollup = _reports(ROOT / "params" / f"{name}.yaml", am_limit=3, team_limit=2)
            written += _write_all(tmp_path, name, reps, f"{p.name} — {p.period}", rollup)
    # a canary with a deliberately stale cached value proves LibreOffice recalculated
    import xlsxwriter

    canary = tmp_path / "canary.xlsx"
    wb = xlsxwriter.Workbook(str(canary))
    wb.add_worksheet("S").write_formula(0, 0, "=1+1", None, 5)
    wb.close()
    converted = recalculate([w for w, _ in written] + [canary], tmp_path)
    assert openpyxl.load_workbook(converted[canary], data_only=True)["S"]["A1"].value == 2
    total = 0
    for original, report in written:
        total += check_recalculated(original, converted[original], report)
    assert total > 100  # formulas were really there to check


def test_an_attainment_over_1000_percent_reads_as_the_html_shows_it_after_libreoffice_recalculates(tmp_path):
    # A manager with a tiny quota reached 3,634.0% (seen in a real batch): the page printed
    # "3,634.0%" (format_percent groups thousands) and the workbook "3634.0%". LibreOffice
    # recalculates the workbook and writes each cell as the reader sees it (CSV of the shown text).
    from decimal import Decimal as D

    from reportkit.render.notebook import format_percent

    q = am_report().quarterly
    q = q.assign(revenue=[D("363400.00"), *q["revenue"][1:]], attainment=[36.34, *q["attainment"][1:]])
    path = write_workbook(am_report(quarterly=q), tmp_path / "am.xlsx")
    sheets = openpyxl.load_workbook(path).sheetnames
    index = sheets.index("Quarterly results") + 1  # LibreOffice numbers sheets from 1
    # CSV filter tokens: comma, double quote, UTF-8, from row 1, -, -, quote text, detect numbers,
    # save the cell content as shown (the 9th: true), ..., the sheet to export (the 12th)
    options = f"Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,{index}"
    text = recalculate([path], tmp_path, to="csv", options=options)[path].read_text(encoding="utf-8")
    assert format_percent(36.34) == "3,634.0%"
    assert '"3,634.0%"' in text or ",3,634.0%," in text, text[:500]
    assert "123.5%" in text  # an ordinary attainment keeps its one decimal
