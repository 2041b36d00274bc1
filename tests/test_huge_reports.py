"""A manager with 70,000 deal lines: the page stays small and quick, the workbook keeps every line.

Issue #19 item 4: such a manager used to get a 32 MB notebook and a 23 MB page. Long
tables now show their first ``table_rows`` rows (params, default 200) with "first N of
M rows; all rows in the workbook" (``render.notebook.table``), and a long commission
statement is shown summed by rule, tier and award (``render.notebook.commission_table``).
"""

from __future__ import annotations

import csv
import datetime
import json
import shutil
import time
from pathlib import Path

import pytest
import yaml
from demo_params import ROOT, demo_params
from python_calamine import CalamineWorkbook

from reportkit.config.params import DEFAULT_TABLE_ROWS
from reportkit.run.batch import run_batch

pytestmark = pytest.mark.slow

HUGE_DEALS = 70_000
NEW_ACCOUNTS = 1_000


def manager_with_70000_deals(tmp: Path) -> Path:
    """The demo data plus 70,000 won deals of AM-001 in FY2025-Q4 over 1,000 new accounts; the params file."""
    data = tmp / "data"
    shutil.copytree(ROOT / "data" / "demo", data)
    with (data / "accounts.csv").open("a", newline="") as f:
        w = csv.writer(f)
        for a in range(NEW_ACCOUNTS):
            w.writerow([f"ACC-H{a:04d}", f"Huge Client {a:04d}", "SMB", "AM-001", ""])
    start = datetime.date(2025, 10, 1)
    with (data / "deals.csv").open("a", newline="") as f:
        w = csv.writer(f)
        for i in range(HUGE_DEALS):
            day = start + datetime.timedelta(days=i % 92)
            w.writerow(
                [
                    f"D-H{i:05d}",
                    "AM-001",
                    f"ACC-H{i % NEW_ACCOUNTS:04d}",
                    day.isoformat(),
                    f"{100 + i % 900}.{i % 100:02d}",
                    "Won",
                    "Analytics Suite",
                ]
            )
    mapping = yaml.safe_load((ROOT / "params" / "sources" / "demo.yaml").read_text())
    mapping["data_dir"] = str(data)
    (tmp / "source.yaml").write_text(yaml.safe_dump(mapping, sort_keys=False))
    return demo_params(
        tmp, source=str(tmp / "source.yaml"), account_managers=["AM-001"], reports=["account_manager"], pdf={"enabled": False}
    )


@pytest.fixture(scope="module")
def huge_report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("huge")
    started = time.perf_counter()
    result = run_batch(manager_with_70000_deals(tmp), tmp / "out", progress=False)
    print(f"\nbatch of one 70,000-deal report: {time.perf_counter() - started:.1f} s")
    assert result.succeeded, [(r.status, r.error) for r in result.reports]
    entry = json.loads(result.manifest_path.read_text())["reports"][0]
    return {kind: result.output_dir / rel for kind, rel in entry["outputs"].items()}


def test_a_70000_deal_report_s_page_and_notebook_stay_under_2_mb(huge_report):
    html_mb, nb_mb = (huge_report[k].stat().st_size / 1e6 for k in ("html", "ipynb"))
    print(f"\nHTML {html_mb:.2f} MB, notebook {nb_mb:.2f} MB")
    assert html_mb < 2 and nb_mb < 2


def test_a_70000_deal_report_s_workbook_keeps_every_commission_line_deal_and_account(huge_report):
    # read by calamine (a reportkit dependency): openpyxl took 40-50 s for these 140,000 rows, calamine a few
    wb = CalamineWorkbook.from_path(str(huge_report["xlsx"]))
    texts = {
        name: [str(c) for row in wb.get_sheet_by_name(name).to_python() for c in row if c != ""]
        for name in ("Commission statement", "Deals", "Accounts")
    }
    assert sum(t.startswith("Deal D-H") for t in texts["Commission statement"]) == HUGE_DEALS
    assert sum(t.startswith("D-H") for t in texts["Deals"]) == HUGE_DEALS
    assert sum(t.startswith("ACC-H") for t in texts["Accounts"]) == NEW_ACCOUNTS


def test_a_70000_deal_report_opens_in_chromium_quickly_and_says_what_it_leaves_to_the_workbook(huge_report, tmp_path):
    import re

    from test_browser import CHROMIUM, _json_after_load

    if not CHROMIUM.exists():
        pytest.skip("headless checks need Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
    script = """window.addEventListener("load", function () { setTimeout(function () {
      var t = performance.getEntriesByType("navigation")[0];
      var pre = document.createElement("pre"); pre.id = "reportkit-load";
      pre.textContent = JSON.stringify({load_ms: t.loadEventStart, text: document.body.innerText});
      document.body.appendChild(pre); }, 0); });"""
    found, _ = _json_after_load(
        huge_report["html"], tmp_path, script, re.compile(r'<pre id="reportkit-load">(.*?)</pre>', re.DOTALL), "load"
    )
    print(f"\nChromium: the 70,000-deal page loaded in {found['load_ms']:.0f} ms")
    assert found["load_ms"] < 4000  # the aim is 2 s; generous for a shared, loaded machine
    text = found["text"]
    shown = re.search(rf"first {DEFAULT_TABLE_ROWS} of ([\d,]+) rows; all rows in the workbook", text)  # the accounts
    assert shown and int(shown.group(1).replace(",", "")) > NEW_ACCOUNTS
    summed = re.search(r"([\d,]+) statement lines summed by rule, tier and award; every line in the workbook", text)
    assert summed and int(summed.group(1).replace(",", "")) > HUGE_DEALS  # the deals' lines and the quota bonus
    assert "Deal D-H" not in text  # no per-deal line on the page
