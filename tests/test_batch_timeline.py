"""Where a batch's time goes: the order reports start in, the work done while the last ones run, the timeline.

Pinned here: :func:`reportkit.run.plan.submission_order` starts one report per worker
first, then the account managers, then the teams and the company while about seven
reports per other worker are left (not last, alone); the submit loop tells the batch
when each report is settled and when nothing is left to build (so the company workbook
and the deals' fingerprint are done while the last reports run); with
``REPORTKIT_TIMELINE`` set every process of a batch stamps its steps, and the files
published are those of a batch without it.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading

import pytest
from demo_params import DEMO, demo_params

from reportkit.run import local
from reportkit.run.batch import JobOutcome, ReportResult, run_batch
from reportkit.run.plan import COMPANY_IN_REPORTS, submission_order
from reportkit.run.timeline import TIMELINE_ENV


def _org(managers: int, teams: int) -> list[str]:
    """The ``per`` of each planned report of an org, in planned order: managers, teams, the company."""
    return ["account_manager"] * managers + ["team"] * teams + ["company"]


def test_each_worker_starts_a_first_planned_report_and_the_company_starts_with_seven_reports_per_other_worker_left():
    pers = _org(50, 5)
    order = submission_order(pers, jobs=2)
    assert sorted(order) == list(range(len(pers)))
    assert order[:2] == [0, 1]  # one per worker, the first builds what every report shares
    company = order.index(55)
    assert order[company - 5 : company] == list(range(50, 55))  # without the teams' names: the teams just before it
    left = order[company + 1 :]
    assert len(left) == COMPANY_IN_REPORTS * (2 - 1) + 2 == 9
    assert all(pers[i] == "account_manager" for i in left)
    assert order[2 : company - 5] == list(range(2, 41)) and left == list(range(41, 50))


def test_a_team_report_starts_right_after_the_last_of_its_account_managers_before_the_company():
    pers = _org(50, 5)
    teams = [f"Team {'ABCDE'[i // 10]}" for i in range(50)] + [f"Team {t}" for t in "ABCDE"] + [""]
    order = submission_order(pers, jobs=2, teams=teams)
    assert sorted(order) == list(range(len(pers)))
    for k in range(4):  # Teams A-D: every one of their managers comes before the company
        assert order[order.index(50 + k) - 1] == 10 * k + 9  # right after its last manager
    company = order.index(55)
    assert order[company - 1] == 54  # Team E has managers in the last nine: it goes just before the company
    assert len(order) - 1 - company == 9


@pytest.mark.parametrize("jobs", [1, 2, 4])
def test_with_more_workers_more_reports_are_left_to_run_beside_the_company(jobs):
    order = submission_order(_org(60, 6), jobs)
    assert len(order) - 1 - order.index(66) == COMPANY_IN_REPORTS * (jobs - 1) + jobs


@pytest.mark.parametrize("managers", [0, 1, 2, 3, 9])
def test_a_small_batch_starts_its_teams_and_company_after_one_report_per_worker(managers):
    pers = ["account_manager"] * managers + (["team", "team", "company"] if managers else [])
    order = submission_order(pers, jobs=2)
    assert sorted(order) == list(range(len(pers)))
    assert order[: min(2, len(pers))] == list(range(min(2, len(pers))))
    rest = order[2:]
    managers_left = [i for i in rest if pers[i] == "account_manager"]
    assert rest == [i for i in rest if pers[i] != "account_manager"] + managers_left  # too few to hold any back


class _Bar:
    def update(self, n):
        pass

    def set_postfix_str(self, *a, **k):
        pass


def test_the_submit_loop_reports_each_settled_report_and_when_nothing_is_left_to_build(monkeypatch):
    finish = {r: threading.Event() for r in "abcd"}
    events = []

    def execute(job, report=None):
        finish[job].wait(10)
        return JobOutcome(status="ok")

    monkeypatch.setattr(local, "execute_report", execute)
    results = [ReportResult("account_manager", i, f"AM {i}", "West") for i in "abcd"]

    def prepare(res, slug):
        if slug == "b":  # reused from an earlier run: settled without running
            res.status = "ok"
            return None
        return slug, None

    def settled(res):
        events.append(("settled", res.id, res.status))
        if res.id in ("a", "b"):
            finish["c" if res.id == "a" else "a"].set()

    def drained():
        events.append(("drained",))
        finish["d"].set()

    pool = local.LocalPool(jobs=1, warm=False, processes=False)  # at most 2 in flight
    try:
        assert local.run_local(pool, results, list("abcd"), prepare, _Bar(), settled=settled, drained=drained) is False
    finally:
        pool.close()
    assert events[0] == ("settled", "b", "ok")
    assert sorted(e[1] for e in events if e[0] == "settled") == list("abcd")
    assert events.count(("drained",)) == 1
    assert events.index(("drained",)) < events.index(("settled", "d", "ok"))  # before the last report ends


@pytest.mark.skipif(not DEMO.exists(), reason="params/demo.yaml not present")
def test_a_batch_with_a_timeline_stamps_every_step_of_every_process_and_publishes_the_same_files(tmp_path, monkeypatch):
    params = demo_params(tmp_path, account_managers=["AM-001", "AM-002", "AM-004"], pdf={"enabled": False})
    plain = run_batch(params, tmp_path / "plain", progress=False, jobs=2, worker_processes=True)
    stamps_file = tmp_path / "timeline.jsonl"
    monkeypatch.setenv(TIMELINE_ENV, str(stamps_file))  # after the workers' forkserver started without it
    timed = run_batch(params, tmp_path / "timed", progress=False, jobs=2, worker_processes=True)
    stamps = [json.loads(line) for line in stamps_file.read_text().splitlines()]
    assert plain.failed == timed.failed == 0 and not plain.company_error
    for res in plain.reports:
        for fmt in ("html", "xlsx"):
            a, b = (run.output_dir / res.outputs[fmt] for run in (plain, timed))
            assert hashlib.sha256(a.read_bytes()).hexdigest() == hashlib.sha256(b.read_bytes()).hexdigest(), a.name
    for name in ("figures.json", "company.xlsx", "deals.fingerprint.parquet", "index.html"):
        assert (plain.output_dir / name).read_bytes() == (timed.output_dir / name).read_bytes(), name

    assert all(s["t0"] <= s["t1"] for s in stamps)
    batch_pid = os.getpid()  # run_batch ran in this process
    mine = {s["what"] for s in stamps if s["pid"] == batch_pid}
    assert {"checks", "load", "plan", "build", "pickle", "post-step", "fingerprint", "batch facts", "manifest", "index"} <= mine
    reports = {(r.kind, r.id) for r in timed.reports}
    for what in ("report", "execute", "html", "workbook"):
        done = [s for s in stamps if s["what"] == what]
        assert {(s["kind"], s["id"]) for s in done} == reports, what
        assert batch_pid not in {s["pid"] for s in done}  # the report workers ran them
    built = {(s["kind"], s["id"]) for s in stamps if s["what"] == "build"}
    assert built == reports
