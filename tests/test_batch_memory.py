"""The batch process hands the memory it has freed back to the system (issue #18 item 3)."""

from __future__ import annotations

import gc
import sys

import numpy as np
import pyarrow as pa
import pytest

from reportkit.run.memory import release_free_memory

psutil = pytest.importorskip("psutil")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="resident set sizes as Linux reports them")
def test_release_free_memory_shrinks_the_resident_set_after_arrow_strings_are_freed():
    proc = psutil.Process()
    release_free_memory()
    strings = pa.array(np.arange(2_000_000).astype(str))  # about 30 MB of Arrow strings, like a loaded id column
    del strings
    gc.collect()
    held = proc.memory_info().rss
    release_free_memory()
    assert held - proc.memory_info().rss > 10 * 2**20


def test_release_free_memory_leaves_live_arrow_data_intact():
    strings = pa.array([f"D-{i:07d}" for i in range(100_000)])
    release_free_memory()
    assert strings[99_999].as_py() == "D-0099999" and len(strings) == 100_000
