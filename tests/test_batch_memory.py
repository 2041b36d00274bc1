"""The batch process hands the memory it has freed back to the system (issue #18 item 3).

The resident-set tests run in a process of their own: the allocators' settings last for a
process, and a batch run in-process by another test (``run_batch`` calls
``return_large_blocks_promptly``) changes them for the rest of the test session.
"""

from __future__ import annotations

import gc
import hashlib
import pickle
import subprocess
import sys
import textwrap
import weakref
from concurrent.futures import Future
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from reportkit.run import local
from reportkit.run.execute import JobOutcome
from reportkit.run.memory import release_free_memory
from reportkit.run.plan import write_pickle
from reportkit.run.results import ReportResult

psutil = pytest.importorskip("psutil")


def _fresh_process_mb(code: str) -> float:
    """Run ``code`` in a new Python process; the number it prints last (MB)."""
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True)
    return float(out.stdout.split()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="resident set sizes as Linux reports them")
def test_release_free_memory_shrinks_the_resident_set_after_arrow_strings_are_freed():
    released = _fresh_process_mb(
        """
        import gc, numpy as np, psutil, pyarrow as pa
        from reportkit.run.memory import release_free_memory
        proc = psutil.Process()
        release_free_memory()
        strings = pa.array(np.arange(2_000_000).astype(str))  # about 30 MB of Arrow strings, like a loaded id column
        del strings
        gc.collect()
        held = proc.memory_info().rss
        release_free_memory()
        print((held - proc.memory_info().rss) / 2**20)
        """
    )
    assert released > 10


def test_release_free_memory_leaves_live_arrow_data_intact():
    strings = pa.array([f"D-{i:07d}" for i in range(100_000)])
    release_free_memory()
    assert strings[99_999].as_py() == "D-0099999" and len(strings) == 100_000


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="resident set sizes as Linux reports them")
def test_after_return_large_blocks_promptly_a_freed_frame_leaves_the_resident_set_without_a_trim():
    held = _fresh_process_mb(
        """
        import gc, numpy as np, pandas as pd, psutil
        from reportkit.run.memory import return_large_blocks_promptly
        return_large_blocks_promptly()
        ids = pd.Series(np.arange(800_000).astype(str), dtype="str")  # like a loaded id column
        proc = psutil.Process()
        x = np.ones(800_000)
        del x  # glibc's default raised its threshold to this size here, and kept the same sizes after
        before = proc.memory_info().rss
        cols = [np.ones(800_000) for _ in range(20)]  # 20 columns of 800,000 deals, 122 MB
        keep = [np.ones(10) for _ in range(1000)]  # small blocks made after them, still alive
        strs = [ids.str.upper() for _ in range(5)]  # Arrow strings made by a pandas string method
        del cols, strs
        gc.collect()
        print((proc.memory_info().rss - before) / 2**20)
        """
    )
    assert held < 20  # without return_large_blocks_promptly: about 170 MB


def test_write_pickle_writes_the_bytes_pickle_dumps_gives_and_returns_their_sha256(tmp_path):
    """The report pickle streamed to its file is the bytes ``pickle.dumps`` gave, so ``--resume``'s
    ``input`` fingerprint of a report is the same as before the pickle was streamed."""
    report = {
        "deals": pd.DataFrame({"id": [f"D-{i:07d}" for i in range(50_000)], "cents": np.arange(50_000) * 7}),  # > a frame
        "money": [Decimal("1234.56"), Decimal("-0.01")],
        "summary": {"attainment": 0.93, "period": "FY2025-Q4"},
    }
    path = tmp_path / "account_manager-am-001.pkl"
    digest = write_pickle(path, report)
    expected = pickle.dumps(report, protocol=pickle.HIGHEST_PROTOCOL)
    assert path.read_bytes() == expected
    assert digest == hashlib.sha256(expected).hexdigest()
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


def test_the_batch_process_does_not_hold_a_report_object_while_a_worker_process_runs_it():
    """A report worker reads the report's pickle: the submit loop keeps no reference to the object
    it built (the company report's object was held through company.xlsx and the fingerprint)."""

    class Report:
        pass

    class PendingExecutor:
        def __init__(self):
            self.futures = []

        def submit(self, fn, *args):
            self.futures.append(Future())
            return self.futures[-1]

        def shutdown(self, **k):
            pass

    pool = local.LocalPool(jobs=1, warm=False, processes=False)
    pool._executor.shutdown()
    executor = PendingExecutor()
    pool._executor, pool.processes = executor, True
    built = []

    def prepare(res, slug):
        built.append(weakref.ref(report := Report()))
        return f"job-{slug}", report

    held = []

    def drained():  # every report submitted, none finished yet
        gc.collect()
        held.extend(r() is not None for r in built)
        for fut in executor.futures:
            fut.set_result(JobOutcome(status="ok"))

    results = [ReportResult("account_manager", i, f"AM {i}", "West") for i in "ab"]
    assert local.run_local(pool, results, ["a", "b"], prepare, _Bar(), drained=drained) is False
    assert held == [False, False]
    assert [r.status for r in results] == ["ok", "ok"]


class _Bar:
    n = 0

    def update(self, k=1):
        self.n += k

    def set_postfix_str(self, *a, **k):
        pass


def test_the_batch_writes_its_own_files_without_the_orgs_shared_context_or_the_team_objects(tmp_path, monkeypatch):
    # At 800,000 deals the batch process peaked while it wrote figures.json and the deals'
    # fingerprint with the whole org's credits, forecasts and engine results still held, and the
    # team report objects company.xlsx was written from (docs/batch.md, "Memory of the batch process").
    from demo_params import demo_params

    from reportkit.reports import context as context_module
    from reportkit.reports.objects import TeamReport
    from reportkit.run import batch

    seen = {}
    real = batch.write_batch_facts

    def write_batch_facts(*args, **kwargs):
        gc.collect()
        seen["contexts"] = list(context_module._shared or [])
        seen["teams"] = sum(isinstance(o, TeamReport) for o in gc.get_objects())
        return real(*args, **kwargs)

    monkeypatch.setattr(batch, "write_batch_facts", write_batch_facts)
    params = demo_params(tmp_path, account_managers=["AM-001"], reports=["account_manager", "team"], pdf={"enabled": False})
    result = batch.run_batch(params, tmp_path / "out", progress=False, jobs=2, worker_processes=False, cache=False)
    assert sorted(r.kind for r in result.reports if r.status == "ok") == ["account_manager", "team"]
    assert (tmp_path / "out" / "company.xlsx").is_file()  # the teams' post-step ran before the batch's own files
    assert seen == {"contexts": [], "teams": 0}


def test_the_deals_fingerprint_is_made_without_the_orgs_shared_context_once_every_report_is_built(tmp_path, monkeypatch):
    # Session 17: at 800,000 deals the batch process peaked at the deals' fingerprint, made while
    # the last reports run, with the whole org's shared context still held beside it. Every report
    # object is built by then and no post-step is pending (none here), so the context goes first.
    from demo_params import demo_params

    from reportkit.reports import context as context_module
    from reportkit.run import batch

    seen = []
    real = batch.fingerprint_parquet

    def fingerprint_parquet(*args, **kwargs):
        seen.append(list(context_module._shared or []))
        return real(*args, **kwargs)

    monkeypatch.setattr(batch, "fingerprint_parquet", fingerprint_parquet)
    params = demo_params(tmp_path, account_managers=["AM-001", "AM-002"], reports=["account_manager"], pdf={"enabled": False})
    result = batch.run_batch(params, tmp_path / "out", progress=False, jobs=1, worker_processes=False, cache=False)
    assert [r.status for r in result.reports] == ["ok", "ok"]
    assert seen == [[]]
    assert (tmp_path / "out" / "deals.fingerprint.parquet").is_file()


def test_write_pickle_writes_a_decimal_column_as_text_and_unpickles_the_same_values(tmp_path):
    """Session 18: the pickler's memo kept three objects per ``Decimal`` of an object column until the
    whole report was written (+50 MB for the company's accounts at risk at 800,000 deals); the column
    goes as one text instead, and ``pickle.load`` gives the same values, exponents and blocks."""
    import tracemalloc

    odd = [
        Decimal("1.00"),
        Decimal("-0.00"),
        Decimal("1E+3"),
        Decimal("NaN"),
        Decimal("-Infinity"),
        Decimal("12345678901234567890.123"),
    ]
    big = pd.DataFrame({"revenue_ytd": [Decimal(int(c)).scaleb(-2) for c in np.arange(60_000) * 7919], "n": np.arange(60_000)})
    report = {
        "odd": pd.DataFrame({"a": odd, "b": odd[::-1], "n": range(len(odd))}),
        "fortran": np.asfortranarray(np.array([odd[:3], odd[3:]], dtype=object)),
        "mixed": np.array([Decimal("1.5"), "x", None], dtype=object),
        "big": big,
    }
    path = tmp_path / "company-company.pkl"
    tracemalloc.start()
    try:
        digest = write_pickle(path, report)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 12 * 2**20  # pickled as before: about 16 MB of memo and kept objects for these 60,000 values
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()
    back = pickle.loads(path.read_bytes())
    for name in ("odd", "big"):
        pd.testing.assert_frame_equal(back[name], report[name])
        for col in report[name].columns:
            assert [repr(v) for v in back[name][col]] == [repr(v) for v in report[name][col]]  # exponents and signs
        assert [b.dtype for b in back[name]._mgr.blocks] == [b.dtype for b in report[name]._mgr.blocks]
    assert back["fortran"].flags.f_contiguous and not back["fortran"].flags.c_contiguous
    assert [repr(v) for v in back["fortran"].ravel("K")] == [repr(v) for v in report["fortran"].ravel("K")]
    assert list(back["mixed"]) == [Decimal("1.5"), "x", None]
    # the same object pickled as it is takes NumPy's form, so the memo is what differs
    assert pickle.loads(pickle.dumps(report["big"], protocol=pickle.HIGHEST_PROTOCOL)).equals(back["big"])


def test_company_xlsx_reads_the_roll_up_the_company_report_computed_with_pdfs_off(tmp_path, monkeypatch):
    """Session 18: with PDFs off each report object is copied (``print_charts=False``) and the team kind's
    post-step kept the copies, so ``company.xlsx``'s roll-up, kept for the very objects the company
    report read, was computed again (7 s and +78 MB in the 800,000-deal batch process)."""
    from demo_params import demo_params

    from reportkit.reports import company
    from reportkit.run import batch

    calls = []
    real = company._company_rollup

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(company, "_company_rollup", counted)
    params = demo_params(tmp_path, account_managers=["AM-001"], reports=["team", "company"], pdf={"enabled": False})
    result = batch.run_batch(params, tmp_path / "out", progress=False, jobs=2, worker_processes=False, cache=False)
    assert sorted(r.kind for r in result.reports if r.status == "ok") == ["company", "team"]
    assert (tmp_path / "out" / "company.xlsx").is_file()
    assert len(calls) == 1


def test_write_pickle_writes_an_arrow_text_column_without_a_copy_and_unpickles_the_same_frame(tmp_path, monkeypatch):
    """Session 18: pandas pickles an Arrow-backed column as a combined copy of its chunks, which the
    pickler's memo kept until the whole report was written (+23 MB for the company's accounts at
    risk); a column in one chunk goes as that chunk. A slice of a larger column (its buffers hold
    more than it shows) is pickled as pandas does, not with the whole buffers."""
    from reportkit.run import plan

    whole = pd.Series([f"account {i}" for i in range(100_000)], dtype="str")
    report = {
        "taken": pd.DataFrame({"name": whole.take(np.arange(100_000)[::-1]), "n": np.arange(100_000)}),
        "sliced": whole.iloc[:10],
        "with_na": pd.Series(["a", None, "c"], dtype="str"),
    }
    held = []
    real = plan._Hashed.write

    def write(self, data):
        held.append(pa.total_allocated_bytes())
        return real(self, data)

    monkeypatch.setattr(plan._Hashed, "write", write)
    before = pa.total_allocated_bytes()
    write_pickle(tmp_path / "company-company.pkl", report)
    assert max(held) - before < 2**20  # pandas' own pickling: a 1.8 MB copy of the column
    back = pickle.loads((tmp_path / "company-company.pkl").read_bytes())
    pd.testing.assert_frame_equal(back["taken"], report["taken"])
    pd.testing.assert_series_equal(back["sliced"], report["sliced"])
    pd.testing.assert_series_equal(back["with_na"], report["with_na"])
    assert (tmp_path / "company-company.pkl").stat().st_size < 3 * 2**20  # the slice's 10 rows, not its 100,000
