"""bench_batch.py's fixed cost as a ratio against the naive loop of the same run (issue #18's 4 s, on its machine)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from bench_batch import ISSUE_NAIVE_S_PER_REPORT, in_naive_reports


def test_the_issues_four_seconds_on_its_own_machine_read_as_the_target_ratio():
    line = in_naive_reports(4.0, ISSUE_NAIVE_S_PER_REPORT)
    assert line.startswith("0.35 naive reports")
    assert "is 0.35" in line and "4.0 s there" in line


def test_a_machine_twice_as_slow_halves_the_fixed_cost_it_reports_in_the_issues_seconds():
    line = in_naive_reports(8.0, 2 * ISSUE_NAIVE_S_PER_REPORT)
    assert line.startswith("0.35 naive reports") and "4.0 s there" in line
    assert "22.74 s a report" in line
