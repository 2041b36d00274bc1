"""Where the public data sets are, for the tests that run on them (the ``realdata`` marker).

One home for the rule the params files use themselves (``${REPORTKIT_DATA_DIR:-...}``):
``$REPORTKIT_DATA_DIR`` when set, else ``../shared/data`` beside the repository. A clone that
is not beside ``../shared/data`` (a git worktree elsewhere, a CI checkout) sets
``REPORTKIT_DATA_DIR`` (README) and runs these tests; without the data sets they skip with
a reason that names the folder looked in and the variable to set, so ``-ra`` says why.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("REPORTKIT_DATA_DIR") or ROOT.parent / "shared" / "data")
SKIP_REASON = f"real data sets not found at {DATA} (set REPORTKIT_DATA_DIR to the folder that holds them)"


def have(folder: str | None = None) -> bool:
    """Whether the data sets (or the one in ``folder`` under them) are on this machine."""
    return (DATA / folder if folder else DATA).is_dir()


def needs_data(folder: str | None = None) -> pytest.MarkDecorator:
    """A skip mark for a test that reads ``DATA`` (or the data set ``folder`` under it)."""
    where = DATA / folder if folder else DATA
    return pytest.mark.skipif(
        not where.is_dir(),
        reason=f"real data sets not found at {where} (set REPORTKIT_DATA_DIR to the folder that holds them)",
    )


REALDATA = [pytest.mark.realdata, needs_data()]
"""``pytestmark = REALDATA`` (or ``*REALDATA`` in a list) for a module of real-data tests."""
