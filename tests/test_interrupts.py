"""The interrupt tests' helper (tests/interrupts.py): ^C reaches the child however the suite was launched."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from interrupts import popen_interruptible, send_ctrl_c, sigint_ignored

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads SigIgn in /proc")

# Run in a process that ignores SIGINT, as everything a shell without job control starts in the background
_LAUNCHED_WITHOUT_JOB_CONTROL = r"""
import subprocess, sys, time
sys.path.insert(0, sys.argv[1])
from interrupts import popen_interruptible, sigint_ignored
child = popen_interruptible([sys.executable, "-c", "import time; time.sleep(30)"])
time.sleep(0.5)
print(sigint_ignored(child.pid), flush=True)
child.kill()
"""


def _ignoring_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_a_child_started_by_the_helper_takes_sigint_when_the_suite_ignores_it():
    tests = str(Path(__file__).parent)
    out = subprocess.run(
        [sys.executable, "-c", _LAUNCHED_WITHOUT_JOB_CONTROL, tests],
        preexec_fn=_ignoring_sigint,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert out.stdout.strip() == "False"


def test_ctrl_c_to_a_child_that_ignores_sigint_fails_saying_why_rather_than_timing_out():
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True, preexec_fn=_ignoring_sigint
    )
    try:
        assert sigint_ignored(child.pid)
        with pytest.raises(AssertionError, match=f"process {child.pid} ignores SIGINT"):
            send_ctrl_c(child.pid)
    finally:
        child.kill()
        child.wait()


def test_ctrl_c_from_the_helper_ends_a_python_child_with_keyboardinterrupt():
    code = "import time; print('ready', flush=True); time.sleep(30)"
    child = popen_interruptible([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "ready\n"  # its handler is installed before its code runs
        send_ctrl_c(child.pid)
        _, err = child.communicate(timeout=30)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGINT and "KeyboardInterrupt" in err  # Python re-raises it to exit
