"""The suite's own schedule: measured seconds per test (tests/durations.txt) put the longest work units first."""

from __future__ import annotations

from conftest import DURATIONS, _measured_seconds, longest_units_first
from refresh_durations import read_durations, read_junit_times


def test_a_tests_setup_call_and_teardown_add_up_and_ids_with_spaces_are_kept():
    report = """============================= slowest durations ==============================
12.50s call     tests/test_a.py::test_x[with widget state]
2.25s setup    tests/test_a.py::test_x[with widget state]
0.25s teardown tests/test_a.py::test_x[with widget state]
1.00s call     tests/test_b.py::test_y
====================== 2 passed in 16.00s ======================="""
    assert read_durations(report) == {"tests/test_a.py::test_x[with widget state]": 15.0, "tests/test_b.py::test_y": 1.0}


def test_a_group_goes_by_the_sum_of_its_tests_and_stays_together_in_its_order():
    nodeids = ["t::short", "m::g1", "t::single", "m::g2", "t::unmeasured_a", "t::unmeasured_b"]
    groups = {"m::g1": "m", "m::g2": "m"}
    measured = {"t::short": 1.0, "m::g1": 10.0, "m::g2": 10.0, "t::single": 15.0}
    assert longest_units_first(nodeids, groups, measured) == [
        "m::g1",
        "m::g2",  # 20 s in all: before the 15 s test, though each of its tests is shorter
        "t::single",
        "t::short",
        "t::unmeasured_a",  # no figure: last, in collected order
        "t::unmeasured_b",
    ]


def test_the_durations_file_names_tests_with_seconds():
    measured = _measured_seconds()
    assert DURATIONS.is_file() and measured
    assert all(nodeid.startswith("tests/test_") and "::" in nodeid and seconds > 0 for nodeid, seconds in measured.items())


def test_a_junit_report_names_each_test_by_its_node_id_with_its_class(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("")
    xml = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
<testcase classname="tests.test_a" name="test_x[with widget state]" time="15.000" />
<testcase classname="tests.test_a.TestShapes" name="test_y" time="1.500"><skipped message="no data" /></testcase>
</testsuite></testsuites>"""
    assert read_junit_times(xml, root=tmp_path) == {
        "tests/test_a.py::test_x[with widget state]": 15.0,
        "tests/test_a.py::TestShapes::test_y": 1.5,
    }
