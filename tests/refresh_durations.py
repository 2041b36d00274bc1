"""Write ``tests/durations.txt`` from a whole-suite run (the figures the suite orders its work by).

Every ``make test`` writes its tests' times to ``build/test-times.xml`` (pytest's JUnit XML), so
after a whole-suite run on a quiet machine (CI's) the refresh is one command:

    .venv/bin/python tests/refresh_durations.py build/test-times.xml --conditions "2026-12-08, CI, -n 2, load 4"

A log of a run with ``--durations=0`` works too. Each test's setup, call and teardown are
added up; tests under ``--min`` seconds are left out (they sort last, in collection order).
``tests/conftest.py`` adds up the tests of each work unit (a group, or one test) and hands
out the longest units first.
"""

from __future__ import annotations

import argparse
import re
from collections import defaultdict
from pathlib import Path

LINE = re.compile(r"^(\d+(?:\.\d+)?)s (setup|call|teardown)\s+(\S.*?)\s*$")
OUT = Path(__file__).with_name("durations.txt")
ROOT = Path(__file__).resolve().parents[1]


def read_durations(text: str) -> dict[str, float]:
    """nodeid -> seconds of setup + call + teardown, from the lines of pytest's ``--durations`` report."""
    seconds: dict[str, float] = defaultdict(float)
    for line in text.splitlines():
        m = LINE.match(line)
        if m:
            seconds[m.group(3)] += float(m.group(1))
    return dict(seconds)


def read_junit_times(xml: str, root: Path = ROOT) -> dict[str, float]:
    """nodeid -> seconds, from pytest's ``--junitxml`` (each testcase's time: setup + call + teardown)."""
    import xml.etree.ElementTree as ET

    seconds: dict[str, float] = {}
    for case in ET.fromstring(xml).iter("testcase"):
        parts = case.get("classname", "").split(".")
        for cut in range(len(parts), 0, -1):  # "tests.test_x.TestClass": the module is the longest prefix that is a file
            module = "/".join(parts[:cut]) + ".py"
            if (root / module).is_file():
                nodeid = "::".join([module, *parts[cut:], case.get("name", "")])
                seconds[nodeid] = seconds.get(nodeid, 0.0) + float(case.get("time") or 0)
                break
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("times", type=Path, help="build/test-times.xml of a whole-suite run, or its output with --durations=0")
    ap.add_argument("--conditions", required=True, help="when and how it ran: date, workers, load")
    ap.add_argument("--min", type=float, default=0.2, help="leave out tests shorter than this (seconds)")
    args = ap.parse_args()
    text = args.times.read_text(encoding="utf-8", errors="replace")
    seconds = read_junit_times(text) if args.times.suffix == ".xml" else read_durations(text)
    if not seconds:
        raise SystemExit(f"{args.times}: no test times (pytest's --junitxml, or its output with --durations=0)")
    kept = sorted(((s, n) for n, s in seconds.items() if s >= args.min), key=lambda x: (-x[0], x[1]))
    head = [
        "# Seconds of each test (setup + call + teardown) in a whole-suite run (Measured, below), the longest first;",
        f"# tests under {args.min:g} s left out. Only the order matters (tests/conftest.py).",
        f"# Measured: {args.conditions}; {len(seconds)} tests, {sum(seconds.values()):.0f} s in all.",
        "# Refresh: see tests/refresh_durations.py.",
    ]
    OUT.write_text("\n".join(head + [f"{s:.2f} {n}" for s, n in kept]) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(kept)} of {len(seconds)} tests, {sum(s for s, _ in kept):.0f} of {sum(seconds.values()):.0f} s")


if __name__ == "__main__":
    main()
