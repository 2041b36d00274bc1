"""reportkit batch on a Dask cluster (``--dask-scheduler``): same reports, executed by workers.

One ``distributed.LocalCluster`` with two real worker processes on loopback serves the
whole module. The batch process loads the data and builds every report object; the
workers execute the templates. The demo batch run on the cluster publishes the same
workbooks and HTML as a local run, its kernels run under the workers (forked from each
worker's warm process), a report that fails on the cluster fails alone, and a scheduler
that cannot be reached is refused before anything runs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

import nbformat
import openpyxl
import pytest
from demo_params import demo_params

distributed = pytest.importorskip("distributed")

from reportkit.cli import main  # noqa: E402
from reportkit.core.errors import EnvironmentError_  # noqa: E402
from reportkit.run import scaleout  # noqa: E402
from reportkit.run.batch import ReportJob, ReportResult, run_batch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "params" / "demo.yaml"
pytestmark = pytest.mark.skipif(not DEMO.exists(), reason="params/demo.yaml not present")

IDS = ["AM-001", "AM-002"]  # AM-002 is made to fail; both are in Team North

# An extra template cell: record which process started this kernel (the kernel runs in
# the output folder), then fail for AM-002 only.
RECORD_AND_FAIL = """
import json as _json, os as _os
import psutil as _psutil
_parent = _psutil.Process(_os.getppid())
with open(f"kernel-{account_manager_id}.json", "w") as _f:
    _json.dump({"parent_cmdline": _parent.cmdline(), "grandparent": _parent.ppid()}, _f)
if account_manager_id == "AM-002":
    raise RuntimeError("forced failure for the test")
"""


def _params(tmp_path: Path, **changes) -> Path:
    return demo_params(tmp_path, **changes)


def _templates(tmp_path: Path) -> Path:
    tdir = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", tdir)
    nb = nbformat.read(tdir / "account_manager.ipynb", as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell(RECORD_AND_FAIL))
    nbformat.write(nb, tdir / "account_manager.ipynb")
    return tdir


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as c:
        yield c


@pytest.fixture(scope="module")
def client(cluster):
    with distributed.Client(cluster, set_as_default=False) as c:
        yield c


@pytest.fixture(scope="module")
def runs(tmp_path_factory, cluster):
    """The same batch (2 account managers + their team) run locally and on the cluster."""
    tmp = tmp_path_factory.mktemp("dask-batch")
    params, tdir = _params(tmp), _templates(tmp)
    local = run_batch(params, tmp / "local", progress=False, template_dir=tdir, jobs=2, overrides={"account_managers": IDS})
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REPORTKIT_TEMPLATES", str(tdir))  # the CLI has no --template-dir
        code = main(
            [
                "batch",
                str(params),
                "-o",
                str(tmp / "dask"),
                "-q",
                "-p",
                "account_managers=" + ",".join(IDS),
                "--dask-scheduler",
                cluster.scheduler_address,
            ]
        )
    manifest = json.loads((tmp / "dask" / "manifest.json").read_text())
    return local, tmp / "dask", manifest, code


def _by_id(reports):
    return {(r["kind"], r["id"]): r for r in reports}


def _cells(path: Path) -> dict[str, list[tuple]]:
    wb = openpyxl.load_workbook(path)
    return {ws.title: [tuple(c.value for c in row) for row in ws.iter_rows()] for ws in wb.worksheets}


@pytest.mark.slow
def test_a_batch_on_a_dask_cluster_publishes_the_reports_and_fails_only_the_failing_one(runs):
    _local, out, manifest, code = runs
    assert code == 1  # one report failed on purpose
    by_id = _by_id(manifest["reports"])
    assert set(by_id) == {
        ("account_manager", "AM-001"),
        ("account_manager", "AM-002"),
        ("team", "team-north"),
        ("company", "company"),
    }
    for key in [("account_manager", "AM-001"), ("team", "team-north"), ("company", "company")]:
        entry = by_id[key]
        assert entry["status"] == "ok" and entry["error"] is None, entry
        assert sorted(entry["outputs"]) == ["html", "ipynb", "pdf", "xlsx"]
        assert all((out / rel).is_file() for rel in entry["outputs"].values())
    failed = by_id[("account_manager", "AM-002")]
    assert failed["status"] == "failed"
    assert failed["error"].startswith("RuntimeError: forced failure for the test (cell ")
    assert "[Dask worker tcp://127.0.0.1:" in failed["error"]  # which machine to look at
    assert failed["outputs"] == {"ipynb": "account_managers/am-002-bruno-baptiste.ipynb"}
    assert not (out / "account_managers" / "am-002-bruno-baptiste.html").exists()
    assert manifest["batch"]["company_workbook"] == "company.xlsx" and (out / "company.xlsx").is_file()
    assert 'href="account_managers/am-001-alice-andersen.html"' in (out / "index.html").read_text()
    # the failed report's pickle stays for debugging, the others are cleaned up
    assert [p.name for p in (out / ".work").glob("*.pkl")] == ["account_manager-am-002-bruno-baptiste.pkl"]


@pytest.mark.slow
def test_reports_on_the_cluster_equal_those_of_a_local_run(runs):
    local, out, manifest, _code = runs
    local_manifest = json.loads(local.manifest_path.read_text())
    here, there = _by_id(local_manifest["reports"]), _by_id(manifest["reports"])
    assert {k: r["status"] for k, r in here.items()} == {k: r["status"] for k, r in there.items()}
    assert {k: r["outputs"] for k, r in here.items()} == {k: r["outputs"] for k, r in there.items()}
    compared = 0
    for key, entry in here.items():
        if entry["status"] != "ok":
            continue
        assert _cells(local.output_dir / entry["outputs"]["xlsx"]) == _cells(out / entry["outputs"]["xlsx"]), key
        html_here = (local.output_dir / entry["outputs"]["html"]).read_bytes()
        assert html_here == (out / entry["outputs"]["html"]).read_bytes(), key
        compared += 1
    assert compared == 3  # AM-001, the team and the company report (AM-002 fails on purpose)
    assert _cells(local.output_dir / "company.xlsx") == _cells(out / "company.xlsx")


@pytest.mark.slow
def test_reports_on_the_cluster_run_under_the_workers_in_kernels_forked_from_their_warm_process(runs, client):
    _local, out, _manifest, _code = runs
    workers = set(client.run(os.getpid).values())
    assert len(workers) == 2 and os.getpid() not in workers
    for am in IDS:
        seen = json.loads((out / f"kernel-{am}.json").read_text())
        assert seen["grandparent"] in workers, seen  # kernel <- warm process <- worker
        assert "reportkit.run._warm" in seen["parent_cmdline"], seen


def _job(out: Path, template: Path, **changes) -> ReportJob:
    fields = {
        "kind": "account_manager",
        "report_id": "AM-001",
        "template": str(template),
        "kernel_name": "reportkit",
        "out": str(out),
        "ipynb": "account_managers/a.ipynb",
        "html": "account_managers/a.html",
        "xlsx": "account_managers/a.xlsx",
        "parameters": {"report_data": ".work/account_manager-a.pkl", "account_manager_id": "AM-001"},
        "title": "A",
        "timeout_s": 60.0,
        "warm": False,
    }
    fields.update(changes)
    return ReportJob(**fields)


def test_a_worker_that_cannot_see_the_output_folder_fails_the_report_with_the_fix(client, tmp_path):
    template = ROOT / "templates" / "account_manager.ipynb"
    job = _job(tmp_path / "not-shared", template)
    outcome = client.submit(scaleout._execute_on_worker, job, pure=False).result()
    assert outcome.status == "failed"
    assert outcome.error.startswith("FileNotFoundError: the Dask worker tcp://127.0.0.1:")
    assert "cannot read the report pickle" in outcome.error and str(tmp_path / "not-shared") in outcome.error
    assert "same absolute paths" in outcome.error and "shared filesystem" in outcome.error
    assert outcome.worker and outcome.worker.startswith("tcp://127.0.0.1:")

    job = _job(tmp_path, tmp_path / "elsewhere" / "account_manager.ipynb")
    outcome = client.submit(scaleout._execute_on_worker, job, pure=False).result()
    assert outcome.status == "failed" and "cannot read the template" in outcome.error


class _Bar:
    def update(self, n):
        pass

    def set_postfix_str(self, *a, **k):
        pass


def test_an_exception_on_a_worker_fails_only_that_report_and_the_batch_goes_on(client, tmp_path):
    template = ROOT / "templates" / "account_manager.ipynb"
    results = [ReportResult("account_manager", "A", "A", "t"), ReportResult("account_manager", "B", "B", "t")]
    jobs = {
        "A": _job(tmp_path, template, parameters={}),  # KeyError on the worker: the future raises
        "B": _job(tmp_path / "not-shared", template, report_id="B"),  # a failed outcome
    }
    interrupted = scaleout.run_on_dask(client, results, ["a", "b"], lambda res, slug: (jobs[res.id], None), _Bar())
    assert interrupted is False
    a, b = results
    assert a.status == "failed" and a.error == "KeyError: 'report_data' (raised on the Dask worker; see its log)"
    assert b.status == "failed" and "cannot read the report pickle" in b.error


def test_ctrl_c_while_preparing_cancels_the_reports_already_submitted(client, tmp_path, monkeypatch):
    results = [ReportResult("account_manager", "A", "A", "t"), ReportResult("account_manager", "B", "B", "t")]
    job = _job(tmp_path / "not-shared", ROOT / "templates" / "account_manager.ipynb")
    cancelled = []
    real_cancel = client.cancel

    def cancel(futures, *a, **k):
        cancelled.extend(f.key for f in futures)
        return real_cancel(futures, *a, **k)

    def prepare(res, slug):
        if res.id == "B":
            raise KeyboardInterrupt
        return job, None

    monkeypatch.setattr(client, "cancel", cancel)
    assert scaleout.run_on_dask(client, results, ["a", "b"], prepare, _Bar()) is True
    assert [str(k).startswith("reportkit-account_manager-a-") for k in cancelled] == [True]
    assert results[0].status == "pending" and results[1].status == "pending"  # run_batch: "not run: interrupted"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_scheduler_is_refused_with_exit_code_3_before_anything_runs(tmp_path, monkeypatch, capsys):
    import dask
    import papermill

    def boom(*a, **k):  # pragma: no cover - only runs when the test fails
        raise AssertionError("a report ran although the scheduler cannot be reached")

    monkeypatch.setattr(papermill, "execute_notebook", boom)
    address = f"tcp://127.0.0.1:{_free_port()}"
    out = tmp_path / "out"
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        code = main(
            ["batch", str(_params(tmp_path)), "-o", str(out), "-q", "-p", "account_managers=AM-001", "--dask-scheduler", address]
        )
        with pytest.raises(EnvironmentError_, match="cannot connect to the Dask scheduler"):
            run_batch(_params(tmp_path), out, progress=False, dask_scheduler=address)
    err = capsys.readouterr().err
    assert code == 3
    assert f"reportkit: error: cannot connect to the Dask scheduler at '{address}'" in err
    assert "hint: start it with 'dask scheduler'" in err
    assert not (out / "manifest.json").exists() and not list(out.rglob("*.pkl"))


def test_jobs_with_a_dask_scheduler_is_refused_as_bad_input(tmp_path, capsys):
    code = main(
        ["batch", str(_params(tmp_path)), "-o", str(tmp_path / "o"), "-q", "-j", "2", "--dask-scheduler", "tcp://127.0.0.1:1"]
    )
    assert code == 2
    assert "--jobs cannot be combined with --dask-scheduler" in capsys.readouterr().err


def test_a_connected_client_is_used_and_left_open(client):
    got, own = scaleout.dask_connect(client, warm=False)
    assert got is client and own is False


# -- PDFs on the cluster: each worker applies params pdf.renderer for itself ---------------------

NO_BROWSER = "/nonexistent/chromium"  # a worker whose REPORTKIT_CHROMIUM names a browser it does not have


def _hide_browser() -> None:
    os.environ["REPORTKIT_CHROMIUM"] = NO_BROWSER


def _show_browser() -> None:
    os.environ.pop("REPORTKIT_CHROMIUM", None)


@pytest.fixture
def workers_without_chromium(client, monkeypatch):
    """Chromium is on the batch machine but on no worker; each worker's environment is restored afterwards."""
    from reportkit.render.chromium import chromium_unavailable

    monkeypatch.delenv("REPORTKIT_CHROMIUM", raising=False)
    if chromium_unavailable() is not None or shutil.which("pdfinfo") is None:
        pytest.skip("needs Chromium on the batch machine (else auto chooses WeasyPrint here already) and poppler's pdfinfo")
    client.run(_hide_browser)
    yield
    client.run(_show_browser)


def _pdf_batch(client, tmp_path: Path, renderer: str):
    params = _params(
        tmp_path, account_managers=["AM-001"], reports=["account_manager"], pdf={"enabled": True, "renderer": renderer}
    )
    result = run_batch(params, tmp_path / "out", progress=False, dask_scheduler=client)
    manifest = json.loads(result.manifest_path.read_text())
    return result, manifest["batch"]["pdf"], manifest["reports"][0]


def test_with_renderer_auto_a_worker_without_chromium_prints_with_weasyprint_and_the_manifest_says_so(
    client, tmp_path, workers_without_chromium
):
    result, batch_pdf, entry = _pdf_batch(client, tmp_path, "auto")
    assert result.succeeded and entry["status"] == "ok" and entry["output_errors"] == {}
    assert batch_pdf == {"renderer": "auto", "executable": None}  # what params asked: each worker chooses
    assert entry["pdf_renderer"] == "weasyprint"  # what the worker printed with
    info = subprocess.run(["pdfinfo", str(tmp_path / "out" / entry["outputs"]["pdf"])], capture_output=True, text=True)
    assert re.search(r"^Producer:\s+WeasyPrint", info.stdout, re.M), info.stdout  # what a reader's PDF viewer says made it


def test_with_renderer_chromium_a_worker_without_it_fails_that_pdf_naming_the_worker_and_the_fix(
    client, tmp_path, workers_without_chromium
):
    result, _, entry = _pdf_batch(client, tmp_path, "chromium")
    assert not result.succeeded  # a failed PDF: exit code 1
    assert entry["status"] == "ok" and "pdf" not in entry["outputs"] and entry["pdf_renderer"] is None
    assert set(entry["outputs"]) == {"ipynb", "html", "xlsx"}
    error = entry["output_errors"]["pdf"]
    assert error.startswith(f"EnvironmentError_: PDF output by Chromium needs a Chromium browser: '{NO_BROWSER}'")
    assert "install it there" in error and "-p pdf.renderer=auto" in error
    assert "[Dask worker tcp://127.0.0.1:" in error
    assert list((tmp_path / "out" / "account_managers").glob("*.pdf")) == []


@pytest.mark.parametrize("renderer", ["chromium", "auto"])
def test_a_batch_machine_that_cannot_print_runs_a_pdf_batch_whose_workers_print_it(client, tmp_path, monkeypatch, renderer):
    # the batch machine has no browser (and, for auto, no WeasyPrint either): it was refused with exit code 3,
    # although only the workers print; each worker checks and chooses the renderer where it prints
    from reportkit.render import pdf as pdf_mod
    from reportkit.render.chromium import chromium_unavailable

    if chromium_unavailable() is not None:
        pytest.skip("needs Chromium on the workers (this machine's) to print the PDF there")
    monkeypatch.setenv("REPORTKIT_CHROMIUM", NO_BROWSER)  # this process only: the workers started before
    monkeypatch.setattr(pdf_mod, "pdf_unavailable", lambda: "WeasyPrint is not installed (hidden for the test)")
    with pytest.raises(EnvironmentError_):  # what a local batch says on this machine
        pdf_mod.choose_renderer(renderer)
    result, batch_pdf, entry = _pdf_batch(client, tmp_path, renderer)
    assert result.succeeded and entry["status"] == "ok" and entry["output_errors"] == {}
    assert entry["pdf_renderer"] == "chromium" and (tmp_path / "out" / entry["outputs"]["pdf"]).read_bytes().startswith(b"%PDF-")
    assert batch_pdf == {"renderer": renderer, "executable": None}  # what params asked; each report says what printed it


class _FakeClient:
    """A client whose scheduler reports the worker counts given, one per poll (the last one repeats)."""

    def __init__(self, counts):
        self.counts, self.cancelled = list(counts), []

    def nthreads(self):
        return dict.fromkeys(range(self.counts.pop(0) if len(self.counts) > 1 else self.counts[0]), 1)

    def cancel(self, futures):
        self.cancelled.extend(futures)


class _Future:
    def __init__(self, done):
        self._done = done

    def done(self):
        return self._done


def _watch(monkeypatch, counts, wait_s, run_s):
    import time

    monkeypatch.setattr(scaleout, "DASK_WAIT_FOR_WORKERS_S", wait_s)
    monkeypatch.setattr(scaleout, "_NO_WORKERS_POLL_S", 0.02)
    client, said = _FakeClient(counts), []
    running, finished = _Future(False), _Future(True)
    with scaleout._NoWorkersWatch(client, [finished, running], said.append) as watch:
        time.sleep(run_s)
    return watch, client, said, running


def test_a_cluster_that_lost_its_last_worker_cancels_the_unfinished_reports_after_the_wait(monkeypatch):
    watch, client, said, running = _watch(monkeypatch, [2, 0], wait_s=0.2, run_s=1.0)
    assert client.cancelled == [running]  # the finished one is left alone
    assert watch.error.startswith("NoWorkers: the Dask cluster lost its last worker and none joined within 0.2 s")
    assert "start 'dask worker'" in watch.error and "--only-failed" in watch.error
    assert said == [
        "the Dask cluster has no workers left: waiting up to 0.2 s for one to join",
        "no Dask worker joined within 0.2 s: the reports not finished fail",
    ]


def test_a_worker_that_joins_within_the_wait_ends_it_and_nothing_is_cancelled(monkeypatch):
    # no worker for about 0.1 s (five polls), then one joins and stays
    watch, client, said, _running = _watch(monkeypatch, [1, 0, 0, 0, 0, 0, 1], wait_s=0.5, run_s=1.0)
    assert client.cancelled == [] and watch.error is None
    assert said == ["the Dask cluster has no workers left: waiting up to 0.5 s for one to join"]


SLEEP_TEMPLATE = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import time\ntime.sleep(20)")])


def test_a_batch_whose_cluster_loses_its_last_worker_fails_the_rest_saying_so_instead_of_waiting(tmp_path, monkeypatch):
    """The one worker dies while a report runs: its reports fail with NoWorkers within the wait, not after."""
    import time

    monkeypatch.setattr(scaleout, "DASK_WAIT_FOR_WORKERS_S", 2.0)
    monkeypatch.setattr(scaleout, "_NO_WORKERS_POLL_S", 0.2)
    template = tmp_path / "sleep.ipynb"
    nbformat.write(SLEEP_TEMPLATE, template)
    (tmp_path / ".work").mkdir()
    (tmp_path / ".work" / "account_manager-a.pkl").write_bytes(b"unused")
    results = [ReportResult("account_manager", "A", "A", "t"), ReportResult("account_manager", "B", "B", "t")]
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):

        def prepare(res, slug):
            if res.id == "B":  # A runs on the only worker: take the worker away
                deadline = time.monotonic() + 60
                while not any(client.processing().values()) and time.monotonic() < deadline:
                    time.sleep(0.1)
                cluster.scale(0)
            return _job(tmp_path, template, ipynb=f"{slug}.ipynb", html=f"{slug}.html", xlsx=f"{slug}.xlsx"), None

        started = time.monotonic()
        assert scaleout.run_on_dask(client, results, ["a", "b"], prepare, _Bar()) is False
        took = time.monotonic() - started
    assert took < 20, took  # not waiting for the sleeping report, nor for a worker with no limit
    for res in results:
        assert res.status == "failed", (res.id, res.status, res.error)
        assert res.error.startswith("NoWorkers: the Dask cluster lost its last worker and none joined within 2 s"), res.error
