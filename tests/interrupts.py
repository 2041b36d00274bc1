"""^C in a test: a child started so that SIGINT reaches it, however the suite was launched.

A shell without job control starts an asynchronous command (``( make test & )``,
``nohup``, some CI runners) with SIGINT ignored, every process it starts inherits that
(an ignored signal stays ignored across ``exec``), and a Python started that way never
installs its ``KeyboardInterrupt`` handler: a test's ^C then does nothing and the test
waits out its timeout. Every test that sends SIGINT starts its child with
:func:`popen_interruptible` (or passes :func:`sigint_at_default` as ``preexec_fn``) and
sends it with :func:`send_ctrl_c`, which fails saying why if the signal would still be
ignored.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Any


def sigint_at_default() -> None:
    """``preexec_fn``: the child starts with SIGINT at its default, not an ignore inherited from the suite's launch."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def popen_interruptible(args: list[str], **kwargs: Any) -> subprocess.Popen:
    """``subprocess.Popen(args)`` in a session of its own (a terminal's process group), SIGINT at its default."""
    return subprocess.Popen(args, start_new_session=True, preexec_fn=sigint_at_default, **kwargs)


def sigint_ignored(pid: int) -> bool:
    """Whether process ``pid`` ignores SIGINT (``SigIgn`` in ``/proc/PID/status``; False where there is no /proc)."""
    status = Path(f"/proc/{pid}/status")
    if not status.exists():
        return False
    mask = next((line.split()[1] for line in status.read_text().splitlines() if line.startswith("SigIgn:")), "0")
    return bool(int(mask, 16) >> (signal.SIGINT - 1) & 1)


def send_ctrl_c(pid: int) -> None:
    """SIGINT to the process group led by ``pid``, as a terminal's ^C; AssertionError saying why if ``pid`` ignores it."""
    if sigint_ignored(pid):
        raise AssertionError(
            f"process {pid} ignores SIGINT, so ^C cannot reach it: it inherited SIG_IGN (the suite was launched "
            "as an asynchronous command without job control?) and was not started with tests/interrupts.py's "
            "popen_interruptible or sigint_at_default"
        )
    os.killpg(pid, signal.SIGINT)
