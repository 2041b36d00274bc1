"""Period close, restatement and diff (issue #15 part 3; docs/close.md).

One demo project copy (data, mapping, params with relative paths) runs a small FY2025-Q3
batch (two account managers, their teams, the company; no PDF) and closes it; each test
copies what it changes. The restatement and the diff run on a copy whose deals.csv has
a crafted late deal and a crafted cancellation.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from reportkit.cli import main
from reportkit.domain.commission import CommissionStatement
from reportkit.domain.restatement import (
    DealChanges,
    Restatement,
    cause_words,
    deal_changes,
    deal_fingerprint,
    with_restatements,
)

ROOT = Path(__file__).resolve().parents[1]
AMS = ["AM-002", "AM-005"]
LATE = "D-99001"  # the crafted late deal: AM-002, closed in Q3, entered after the close
CANCELLED = "D-01253"  # AM-002's Q3 deal the crafted cancellation marks lost


def _project(root: Path) -> Path:
    """A demo project under ``root`` with relative paths (a copy keeps working): returns its params file."""
    shutil.copytree(ROOT / "data" / "demo", root / "data" / "demo")
    (root / "params" / "sources").mkdir(parents=True)
    shutil.copy(ROOT / "params" / "sources" / "demo.yaml", root / "params" / "sources")  # data_dir: ../../data/demo
    raw = yaml.safe_load((ROOT / "params" / "demo.yaml").read_text())
    raw["branding"]["logo"] = str((ROOT / "params" / raw["branding"]["logo"]).resolve())
    raw.update(period="FY2025-Q3", as_of="2025-09-30", account_managers=AMS, pdf={"enabled": False})
    raw["close"] = {"registry": "../out/closes"}  # a team closing periods names its registry (docs/close.md)
    path = root / "params" / "demo.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def _batch(params: Path, out: Path, *extra: str) -> int:
    return main(["batch", str(params), "-o", str(out), "--quiet", "--jobs", "2", *extra])


@pytest.fixture(scope="module")
def closed(tmp_path_factory):
    """(project root, params file, closed FY2025-Q3 batch folder)."""
    root = tmp_path_factory.mktemp("close") / "p1"
    params = _project(root)
    out = root / "out" / "q3"
    assert _batch(params, out) == 0
    assert main(["close", str(out), "--by", "Ana Díaz"]) == 0
    return root, params, out


@pytest.fixture(scope="module")
def restated(closed, tmp_path_factory):
    """A copy of the closed project whose deals.csv gained a late Q3 deal and lost a Q3 deal (cancelled)."""
    src, _, _ = closed
    root = tmp_path_factory.mktemp("restated") / "p2"
    shutil.copytree(src, root)
    deals = root / "data" / "demo" / "deals.csv"
    rows = list(csv.reader(deals.open(newline="")))
    for r in rows:
        if r[0] == CANCELLED:
            r[5] = "Lost"
    rows.append([LATE, "AM-002", "ACC-0022", "2025-08-15", "10000.00", "Won", "Analytics Suite"])
    with deals.open("w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    params = root / "params" / "demo.yaml"  # the current period is now FY2025-Q4
    params.write_text(params.read_text().replace("FY2025-Q3", "FY2025-Q4").replace("2025-09-30", "2025-12-31"))
    return root, params


def _bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _record(folder: Path) -> dict:
    return json.loads((folder / "close.json").read_text())["record"]


# -- close ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [[], ["--resume"], ["--only-failed"]])
def test_batch_into_a_closed_folder_is_refused_with_exit_2_and_every_file_stays_byte_identical(closed, capsys, mode):
    _, params, out = closed
    before = _bytes(out)
    assert _batch(params, out, *mode) == 2
    err = capsys.readouterr().err
    assert f"{out} is closed" in err and "Ana Díaz" in err
    assert "not run again, in this folder or a new one" in err and "restatement run" in err
    assert _bytes(out) == before


def test_a_new_folder_for_a_closed_period_is_refused_without_advising_a_new_folder(closed, capsys):
    root, params, _ = closed
    again = root / "out" / "q3-again"
    assert _batch(params, again) == 2
    err = capsys.readouterr().err
    assert "FY2025-Q3 of 'Demo Co' is closed" in err and "closes" in err
    assert "write to a new folder" not in err  # the user just did: the message must not send them round in a circle
    assert "not run again, in this folder or a new one" in err and "run a later period (a restatement run)" in err
    assert "-p close.registry=DIR" in err  # how to run a corrected batch to diff with the closed one
    assert not again.exists()


def _without_registry(params: Path, name: str) -> Path:
    """A params file beside ``params`` without close.registry (the default)."""
    raw = yaml.safe_load(params.read_text())
    del raw["close"]
    path = params.with_name(name)
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def test_without_a_registry_a_close_is_kept_in_its_folder_and_blocks_no_sibling_folder(closed, tmp_path, capsys):
    # /tmp as a shared parent: a close in /tmp/a once blocked every same-named batch in /tmp
    _root, params, _ = closed
    plain = _without_registry(params, "no_registry.yaml")
    shared = tmp_path / "shared"
    first, second = shared / "a", shared / "b"
    one = ["-p", "reports=account_manager", "-p", "account_managers=AM-002"]
    assert _batch(plain, first, *one) == 0
    capsys.readouterr()
    assert main(["close", str(first), "--by", "Ana Díaz"]) == 0
    said = capsys.readouterr().out  # the user is told what a close without a registry does not do
    assert "no registry of closes (params close.registry is not set)" in said and "later periods do not restate it" in said
    assert (first / "close.json").is_file() and not (shared / "closes").exists()
    assert json.loads((first / "close.json").read_text())["record"]["registry"] is None
    assert _batch(plain, first, *one) == 2  # the closed folder itself stays closed
    assert f"{first} is closed" in capsys.readouterr().err
    assert _batch(plain, second, *one) == 0  # a sibling folder is not blocked


def test_closes_in_the_old_default_registry_beside_the_folder_are_refused_with_the_migration(closed, tmp_path, capsys):
    root, params, _ = closed
    plain = _without_registry(params, "no_registry.yaml")
    old = tmp_path / "closes"
    old.mkdir()
    shutil.copy(root / "out" / "closes" / "FY2025-Q3--Demo-Co.json", old)
    assert _batch(plain, tmp_path / "q4", "-p", "period=FY2025-Q4", "-p", "as_of=2025-12-31") == 2
    err = capsys.readouterr().err
    assert f"{old} holds close records of 'Demo Co' (FY2025-Q3--Demo-Co.json)" in err
    assert f"-p close.registry={old}" in err and "docs/close.md" in err
    assert not (tmp_path / "q4").exists()


def test_statement_of_a_closed_period_is_refused(closed, capsys):
    root, params, _ = closed
    code = main(["statement", str(params), "--period", "FY2025-Q3", "-o", str(root / "out" / "statements")])
    assert code == 2
    assert "FY2025-Q3 of 'Demo Co' is closed" in capsys.readouterr().err


def test_statement_written_inside_the_closed_batch_folder_sees_its_close(closed, capsys):
    # the layout reportkit deliver reads (DIR/statements): the batch folder's close.json counts, with or
    # without a registry (a registry beside DIR/statements once let a closed period's statements be rewritten)
    _root, params, out = closed
    before = _bytes(out)
    code = main(["statement", str(params), "--period", "FY2025-Q3", "-o", str(out / "statements")])
    assert code == 2
    assert f"{out} is closed: it holds FY2025-Q3 of 'Demo Co'" in capsys.readouterr().err
    assert _bytes(out) == before and not (out / "statements").exists()


def test_close_record_holds_every_input_and_output_hash_and_the_paid_statements(closed):
    root, params, out = closed
    rec = _record(out)
    assert rec["closed_by"] == "Ana Díaz" and rec["closed_at"].endswith("+00:00")
    assert rec["registry"] == str((root / "out" / "closes").resolve())
    hashes = {Path(f["path"]): f["sha256"] for f in rec["inputs"]}
    for f in (params, root / "params" / "sources" / "demo.yaml", root / "data" / "demo" / "deals.csv"):
        assert hashes[f.resolve()] == hashlib.sha256(f.read_bytes()).hexdigest()
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and p.name != "close.json"}
    assert set(rec["outputs"]) == files
    assert rec["outputs"]["company.xlsx"] == hashlib.sha256((out / "company.xlsx").read_bytes()).hexdigest()
    # each statement as paid: its total is the sum of its lines and the total the AM's report shows
    figures = json.loads((out / "figures.json").read_text())
    for am in AMS:
        stmt = rec["statements"][am]
        assert Decimal(stmt["total"]) == sum(Decimal(x["amount"]) for x in stmt["lines"])
        assert Decimal(stmt["total"]) == Decimal(figures[f"account_manager/{am}"]["commission"])
    # the registry holds the same signed record
    assert (root / "out" / "closes" / "FY2025-Q3--Demo-Co.json").read_bytes() == (out / "close.json").read_bytes()


def test_verify_says_unchanged_then_detects_a_modified_output(closed, tmp_path, capsys):
    _, _, out = closed
    copy = tmp_path / "q3"
    shutil.copytree(out, copy)
    assert main(["close", "--verify", str(copy)]) == 0
    assert "unchanged since close" in capsys.readouterr().out
    (copy / "delivery.json").write_text("{}")  # reportkit deliver's log: delivering a closed batch changes no output
    assert main(["close", "--verify", str(copy)]) == 0
    assert "unchanged since close" in capsys.readouterr().out
    html = next((copy / "account_managers").glob("*.html"))
    html.write_bytes(html.read_bytes().replace(b"</body>", b"<p>edited after close</p></body>"))
    (copy / "account_managers" / "extra.html").write_text("<p>not ours</p>")
    assert main(["close", "--verify", str(copy)]) == 1
    said = capsys.readouterr().out
    assert f"changed: account_managers/{html.name}" in said
    assert "added: account_managers/extra.html" in said and "changed since close" in said


def test_a_tampered_close_record_is_refused_with_exit_2(closed, tmp_path, capsys):
    _, params, out = closed
    copy = tmp_path / "q3"
    shutil.copytree(out, copy)
    data = json.loads((copy / "close.json").read_text())
    data["record"]["statements"]["AM-002"]["total"] = "99999.99"
    (copy / "close.json").write_text(json.dumps(data))
    assert main(["close", "--verify", str(copy)]) == 2
    err = capsys.readouterr().err
    assert "close.json: the close record was changed after it was signed" in err and "hint:" in err
    assert _batch(params, copy) == 2  # a batch into it is refused too, with the same reason


def test_close_refuses_a_batch_with_failed_reports_unless_allow_failed(closed, tmp_path, capsys):
    _, _, out = closed
    copy = tmp_path / "q3"
    shutil.copytree(out, copy)
    (copy / "close.json").unlink()
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["reports"][0]["status"] = "failed"
    manifest["batch"]["overrides"] = {"close": {"registry": str(tmp_path / "closes")}}  # the period is closed in the shared one
    (copy / "manifest.json").write_text(json.dumps(manifest))
    assert main(["close", str(copy), "--by", "Ana"]) == 2
    err = capsys.readouterr().err
    assert "1 report failed" in err and "--allow-failed" in err
    assert main(["close", str(copy), "--by", "Ana", "--allow-failed"]) == 0
    assert _record(copy)["closed_by"] == "Ana"


@pytest.mark.parametrize("args", [["close", "{tmp}"], ["close", "--verify", "{tmp}"], ["diff", "{tmp}", "{tmp}"]])
def test_a_folder_that_is_not_a_batch_is_refused_with_exit_2(tmp_path, capsys, args):
    assert main([a.format(tmp=tmp_path) for a in args] + (["--by", "Ana"] if args == ["close", "{tmp}"] else [])) == 2
    assert f"{tmp_path} is not a batch folder: it has no readable manifest.json" in capsys.readouterr().err


def test_close_without_by_is_refused(closed, capsys):
    assert main(["close", str(closed[2])]) == 2
    assert "--by NAME" in capsys.readouterr().err


# -- restatement -----------------------------------------------------------------------------


def _csv_row(path: Path, deal_id: str) -> dict[str, str]:
    return next(r for r in csv.DictReader(path.open(newline="")) if r["deal_id"] == deal_id)


def test_restatement_pays_the_late_deal_and_takes_back_the_cancelled_one_in_the_next_period(closed, restated):
    from reportkit.domain.loading import load_inputs
    from reportkit.reports.statements import commission_for

    _, _, out = closed
    root, params = restated
    st = root / "out" / "statements-q4"
    assert main(["statement", str(params), "--period", "FY2025-Q4", "-o", str(st)]) == 0
    lines = pd.read_csv(st / "statement-AM-002-FY2025-Q4.csv", dtype=str)
    adj = lines[lines["rule"] == "prior-period adjustment"]
    assert len(adj) == 1
    words = adj["description"].iloc[0]
    assert words.startswith("prior-period adjustment: restates FY2025-Q3: 1 deal added (late), 1 deal changed stage")
    assert f"{LATE} added" in words and f"{CANCELLED} changed" in words and "by Ana Díaz" in words
    amount = Decimal(adj["amount"].iloc[0])
    # (1) the engine on the changed data, without any close registry, minus what the close record says was paid
    p, ds = load_inputs(params, overrides={"period": "FY2025-Q3", "as_of": "2025-09-30"})
    paid = Decimal(_record(out)["statements"]["AM-002"]["total"])
    assert amount == commission_for(ds, p, "AM-002", "FY2025-Q3", p.as_of).total - paid
    # (2) by hand from the raw CSVs: 5 % of the late deal minus 5 % of the cancelled one, each line rounded
    cents = Decimal("0.01")
    late = (Decimal("10000.00") * Decimal("0.05")).quantize(cents, ROUND_HALF_UP)
    gone = Decimal(_csv_row(ROOT / "data" / "demo" / "deals.csv", CANCELLED)["amount"])
    assert amount == late - (gone * Decimal("0.05")).quantize(cents, ROUND_HALF_UP) == Decimal("-493.59")
    # the total is the sum of the rounded lines; the other AM (nothing changed) has no adjustment
    body = lines[lines["rule"] != "total"]
    assert Decimal(lines[lines["rule"] == "total"]["amount"].iloc[0]) == sum(Decimal(x) for x in body["amount"])
    other = pd.read_csv(st / "statement-AM-005-FY2025-Q4.csv", dtype=str)
    assert "prior-period adjustment" not in set(other["rule"])
    # an AM the closed batch did not report was not paid through that close: nothing to restate
    one = root / "out" / "statements-am-001"
    assert main(["statement", str(params), "--period", "FY2025-Q4", "--account-manager", "AM-001", "-o", str(one)]) == 0
    assert "prior-period adjustment" not in set(pd.read_csv(one / "statement-AM-001-FY2025-Q4.csv", dtype=str)["rule"])


def test_the_closed_periods_own_files_are_untouched_by_a_restatement(closed, restated, capsys):
    root, params = restated
    st = root / "out" / "statements-q4-again"
    assert main(["statement", str(params), "--period", "FY2025-Q4", "-o", str(st)]) == 0
    assert main(["close", "--verify", str(root / "out" / "q3")]) == 0
    assert "unchanged since close" in capsys.readouterr().out
    assert _bytes(root / "out" / "q3") == _bytes(closed[2])


def test_a_restatement_already_paid_in_a_closed_later_period_is_not_paid_again():
    """By hand: Q3 paid 6,955.75; Q4 (closed) paid -493.59 restating it; Q1 recomputes Q3 at 6,462.16: nothing left."""
    from reportkit.reports import closes

    recs = [
        {
            "batch": {"period": "FY2025-Q3", "period_end": "2025-09-30", "as_of": "2025-09-30"},
            "statements": {"A": {"total": "6955.75", "restates": {}, "deal_ids": []}},
        },
        {
            "batch": {"period": "FY2025-Q4", "period_end": "2025-12-31", "as_of": "2025-12-31"},
            "statements": {"A": {"total": "5000.00", "restates": {"FY2025-Q3": "-493.59"}, "deal_ids": []}},
        },
    ]
    paid = closes.paid_for(recs, recs[0], "A", "2026-01-01")
    assert paid == Decimal("6462.16")
    assert closes.paid_for(recs, recs[1], "A", "2026-01-01") == Decimal("5493.59")  # its own lines, not its restatement


# -- the domain rule on a small fixture --------------------------------------------------------


def _statement(amounts: list[str]) -> CommissionStatement:
    lines = pd.DataFrame(
        {
            "line": range(1, len(amounts) + 1),
            "description": [f"Deal D{i}" for i in range(len(amounts))],
            "basis": [None] * len(amounts),
            "rate": [None] * len(amounts),
            "amount": [Decimal(a) for a in amounts],
            "rule": ["commission at 5 %"] * len(amounts),
            "award": ["cash"] * len(amounts),
            "deal_id": [f"D{i}" for i in range(len(amounts))],
            "tier": [None] * len(amounts),
        }
    )
    total = sum(Decimal(a) for a in amounts)
    return CommissionStatement("A", "FY2025-Q4", lines, total, total, Decimal(0), total, total, 1.0)


def test_an_adjustment_is_recomputed_minus_paid_and_the_total_stays_the_sum_of_the_lines():
    stmt = _statement(["100.25", "49.75"])
    r = Restatement("FY2025-Q3", Decimal("1000.10"), Decimal("1200.00"), "1 deal removed (D-1 removed)", "2026-01-05 by Ana")
    got = with_restatements(stmt, [r, Restatement("FY2025-Q2", Decimal("5.00"), Decimal("5.00"), "x", "y")])
    assert len(got.lines) == 3  # a zero restatement adds no line
    last = got.lines.iloc[-1]
    assert last["amount"] == Decimal("-199.90") and last["rule"] == "prior-period adjustment" and last["line"] == 3
    assert last["description"].startswith("prior-period adjustment: restates FY2025-Q3: 1 deal removed")
    assert got.total == sum(got.lines["amount"]) == Decimal("-49.90")
    assert got.cash_total == got.total and got.commission == stmt.commission


def test_cause_names_added_removed_and_changed_deals_and_a_changed_plan():
    old = deal_fingerprint(_deals({"D-1": 100, "D-2": 200, "D-3": 300}))
    new = deal_fingerprint(_deals({"D-2": 250, "D-3": 300, "D-4": 400}))
    ch = deal_changes(old, new)
    assert ch == DealChanges(["D-4"], ["D-1"], {"D-2": ["amount"]})
    assert cause_words(ch, ["plan"]) == (
        "1 deal added (late), 1 deal removed, 1 deal changed amount (D-4 added; D-1 removed; D-2 changed), plan changed"
    )
    assert cause_words(DealChanges(), []) == "data changed"


def _deals(amounts: dict[str, int]) -> pd.DataFrame:
    n = len(amounts)
    return pd.DataFrame(
        {
            "deal_id": list(amounts),
            "account_manager_id": ["A"] * n,
            "close_date": pd.to_datetime(["2025-08-01"] * n),
            "amount_cents": list(amounts.values()),
            "stage": ["won"] * n,
        }
    )


def test_deal_fingerprint_gives_each_of_200000_deals_its_own_stable_hash():
    # its speed is benchmarks/bench_fingerprint.py's (a ratio against pandas' own row hash), not a timed test
    n = 200_000
    rng = np.random.default_rng(7)
    deals = pd.DataFrame(
        {
            "deal_id": pd.array([f"D-{i:07d}" for i in range(n)], dtype="str"),
            "account_manager_id": pd.array(rng.choice(["AM-1", "AM-2", "AM-3"], n), dtype="str"),
            "close_date": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 365, n), "D"),
            "amount_cents": rng.integers(0, 10**7, n),
            "stage": pd.array(rng.choice(["won", "lost"], n), dtype="str"),
            "product": pd.array(rng.choice(["a", "b"], n), dtype="str"),
        }
    )
    fp = deal_fingerprint(deals)
    assert len(fp) == n and fp["row"].nunique() == n
    assert deal_fingerprint(deals)["row"].tolist() == fp["row"].tolist()


def test_a_deals_fingerprint_is_its_own_row_hashed_alone_whichever_deals_it_is_hashed_with():
    # the columns are hashed in chunks of rows (batch memory at 800,000 deals, docs/batch.md): the fingerprint of
    # 250,001 deals, more than two chunks, is each deal's fingerprint on its own, text, dates and amounts alike
    n = 250_001
    deals = pd.DataFrame(
        {
            "deal_id": pd.array([f"D-{i:07d}" for i in range(n)], dtype="str"),
            "account_manager_id": pd.array(np.where(np.arange(n) % 3, "AM-1", "AM-2"), dtype="str"),
            "close_date": pd.Timestamp("2025-01-01") + pd.to_timedelta(np.arange(n) % 365, "D"),
            "amount_cents": np.arange(n, dtype=np.int64) * 7 - 1000,
            "stage": pd.array(np.where(np.arange(n) % 5, "won", "lost"), dtype="str"),
        }
    )
    fp = deal_fingerprint(deals)
    for i in (0, 99_999, 100_000, 100_001, 200_000, n - 1):
        alone = deal_fingerprint(deals.iloc[[i]].reset_index(drop=True))
        pd.testing.assert_frame_equal(fp.iloc[[i]].reset_index(drop=True), alone)


# -- diff --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def diffed(closed, restated):
    """The closed batch and the same period on the changed data (another folder and registry), diffed."""
    root, params = restated
    new = root / "other" / "q3"
    assert _batch(params, new, "-p", "period=FY2025-Q3", "-p", "as_of=2025-09-30", "-p", "close.registry=../other/closes") == 0
    return closed[2], new


def test_diff_lists_the_added_and_changed_deals_and_the_changed_figures(diffed, capsys):
    old, new = diffed
    assert main(["diff", str(old), str(new)]) == 0
    said = capsys.readouterr().out
    assert f"deals added: 1 ({LATE})" in said and f"deals changed: 1: {CANCELLED} (stage)" in said
    assert "inputs changed: data deals" in said
    # the AM's commission: what the close record says was paid -> the AM's new report's figure
    paid = Decimal(_record(old)["statements"]["AM-002"]["total"])
    now = Decimal(json.loads((new / "figures.json").read_text())["account_manager/AM-002"]["commission"])
    assert f"  commission: {paid:,.2f} -> {now:,.2f} ({now - paid:,.2f})" in said
    block = said.split("account_manager AM-002 (")[1].split("\naccount_manager ")[0]
    assert f"1 deal added ({LATE})" in block and f"1 deal changed ({CANCELLED})" in block
    assert "revenue:" in block and "attainment:" in block
    # AM-005's deals did not change: their revenue and commission stand (the reconciled forecast moves with the company's)
    theirs = said.split("account_manager AM-005 (")[1].split("\n", 1)[1].split("\n" + "company ")[0]
    assert "revenue:" not in theirs and "commission:" not in theirs
    assert "company company (Demo Co)" in said
    # a team's reasons are its members' deals only (AM-002 is in Team North; Team South's list none)
    north = said.split("team team-north (")[1].split("\n", 1)[0]
    south = said.split("team team-south (")[1].split("\n", 1)[0]
    assert LATE in north and LATE not in south and CANCELLED not in south


def test_diff_of_batches_of_different_periods_says_so_but_compares(diffed, tmp_path, capsys):
    old, new = diffed
    copy = tmp_path / "q3"
    shutil.copytree(new, copy)
    m = json.loads((copy / "manifest.json").read_text())
    m["batch"]["period"] = "FY2025-Q2"
    (copy / "manifest.json").write_text(json.dumps(m))
    assert main(["diff", str(old), str(copy)]) == 0
    out = capsys.readouterr()
    assert "warning: the batches are of different periods: FY2025-Q3 and FY2025-Q2" in out.err
    assert "commission:" in out.out


def test_diff_workbook_recalculated_in_libreoffice_shows_the_same_numbers(diffed, tmp_path):
    import openpyxl
    from test_excel_recalc import SOFFICE, recalculate

    from reportkit.render.labels import summary_label
    from reportkit.reports.builders import REPORT_KINDS
    from reportkit.run.diff import diff_batches

    if SOFFICE is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    old, new = diffed
    book = tmp_path / "diff.xlsx"
    assert main(["diff", str(old), str(new), "--xlsx", str(book)]) == 0
    d = diff_batches(old, new)
    converted = recalculate([book], tmp_path)[book]
    ws = openpyxl.load_workbook(converted, data_only=True)["Figures"]
    assert ws["A1"].value.startswith("Demo Co · What changed: ") and "FY2025-Q3" in ws["A1"].value  # the title row
    assert [c.value for c in ws[2]] == ["Report", "Id", "Name", "Figure", "Old", "New", "Change", "Why"]
    rows = list(ws.iter_rows(min_row=3, values_only=True))
    assert len(rows) == len(d.figures)
    for got, want in zip(rows, d.figures.itertuples(index=False)):
        assert got[:4] == (REPORT_KINDS[want.kind].label, want.id, want.name, summary_label(want.kind, want.figure))
        if want.figure == "attainment":  # percentage points
            assert got[6] == pytest.approx(want.change * 100, abs=1e-9)
        else:
            assert Decimal(repr(got[6])).quantize(Decimal("0.01")) == want.change
    deals = {r[0]: r[1] for r in openpyxl.load_workbook(converted)["Deals"].iter_rows(min_row=3, values_only=True)}
    assert deals == {LATE: "added", CANCELLED: "changed"}


def _tiny_batch(folder: Path, figures: dict) -> Path:
    """A batch folder with only what diff reads: manifest.json, figures.json and a one-deal fingerprint."""
    from reportkit.domain.restatement import deal_fingerprint

    folder.mkdir(parents=True)
    batch = {"name": "Demo Co", "period": "FY2025-Q4", "as_of": "2025-12-31", "inputs": []}
    (folder / "manifest.json").write_text(json.dumps({"batch": batch, "reports": []}))
    (folder / "figures.json").write_text(json.dumps(figures))
    deal = pd.DataFrame(
        {
            "deal_id": pd.array(["D-1"], dtype="str"),
            "account_manager_id": pd.array(["AM-001"], dtype="str"),
            "account_id": pd.array(["ACC-1"], dtype="str"),
            "close_date": [pd.Timestamp("2025-11-03")],
            "amount_cents": [100000],
            "stage": pd.array(["won"], dtype="str"),
        }
    )
    deal_fingerprint(deal).to_parquet(folder / "deals.fingerprint.parquet")
    return folder


def test_diff_names_a_report_new_in_one_batch_instead_of_showing_its_figures_as_changed_from_n_a(tmp_path, capsys):
    alice = {"kind": "account_manager", "id": "AM-001", "name": "Alice", "revenue": "1000.00", "commission": "50.00"}
    nora = {"kind": "account_manager", "id": "AM-013", "name": "Nora", "revenue": "0.00", "commission": "0.00"}
    hugo = {"kind": "account_manager", "id": "AM-008", "name": "Hugo", "revenue": "10.00", "commission": "0.50"}
    old = _tiny_batch(tmp_path / "old", {"account_manager/AM-001": alice, "account_manager/AM-008": hugo})
    new = _tiny_batch(tmp_path / "new", {"account_manager/AM-001": alice, "account_manager/AM-013": nora})
    assert main(["diff", str(old), str(new)]) == 0
    said = capsys.readouterr().out
    assert f"account_manager AM-013 (Nora): a new report, not in {old}" in said
    assert "  revenue: none -> 0.00" in said and "n/a" not in said
    assert f"account_manager AM-008 (Hugo): no longer reported, not in {new}" in said
    assert "  revenue: 10.00 -> none" in said
