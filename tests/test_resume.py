"""Re-running a batch into the same folder: same bytes, --resume, stale outputs, .work pickles."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from demo_params import demo_params

from reportkit.run.batch import run_batch

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "params" / "demo.yaml"
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not DEMO.exists(), reason="params/demo.yaml not present")]


def _params(tmp_path: Path, **changes) -> Path:
    return demo_params(tmp_path, **changes)


def _published(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.suffix in (".html", ".xlsx", ".pdf") and p.name != "index.html"
    }


def test_rerun_resume_and_stale_outputs(tmp_path):
    params = _params(
        tmp_path, account_managers=["AM-001"], reports=["account_manager", "team"]
    )  # AM-001 and Team North (the company kind: test_company_batch.py)
    out = tmp_path / "out"

    cwd = Path.cwd()
    first = run_batch(params, out, progress=False, jobs=2)
    assert Path.cwd() == cwd  # running reports in parallel never moves the process's folder
    assert first.ok == 2 and first.removed == []
    files = _published(out)
    assert len(files) == 7 and "company.xlsx" in files  # 2 reports x (html, xlsx, pdf) + the company workbook
    # the report pickles are internal: gone after a successful batch
    assert not (out / ".work").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    for entry in manifest["reports"]:
        assert set(entry["fingerprint"]) == {"input", "params", "template", "code"} and entry["reused"] is False
    for rel in files:
        if rel.endswith(".html"):
            assert b".pkl" not in files[rel] and b".work" not in files[rel]

    # the same batch again gives byte-identical HTML, PDFs and workbooks
    second = run_batch(params, out, progress=False, jobs=2)
    assert second.ok == 2 and second.reused == 0
    assert _published(out) == files

    # --resume: nothing changed, nothing runs, nothing is rewritten
    mtimes = {rel: (out / rel).stat().st_mtime_ns for rel in files if rel != "company.xlsx"}
    third = run_batch(params, out, progress=False, resume=True)
    assert third.ok == 2 and third.reused == 2
    assert {rel: (out / rel).stat().st_mtime_ns for rel in mtimes} == mtimes
    again = json.loads((out / "manifest.json").read_text())
    assert [e["fingerprint"] for e in again["reports"]] == [e["fingerprint"] for e in manifest["reports"]]
    assert again["batch"]["mode"] == "resume"

    # a file reportkit did not write is never touched
    mine = out / "account_managers" / "my-notes.txt"
    mine.write_text("keep me")

    # a changed parameter re-runs the report even with --resume; a batch without team
    # reports removes the earlier company workbook too
    # a changed parameter re-runs the report even with --resume; a smaller batch removes
    # the files the previous manifest listed for reports it no longer produces
    fourth = run_batch(
        params,
        out,
        progress=False,
        resume=True,
        keep_work=True,
        overrides={"reports": ["account_manager"], "commission": {"rate": "0.06"}},
    )
    assert fourth.ok == 1 and fourth.reused == 0
    assert fourth.removed == sorted(rel for e in manifest["reports"] if e["kind"] == "team" for rel in e["outputs"].values())
    assert mine.read_text() == "keep me"
    left = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    stem = Path(fourth.reports[0].outputs["html"]).with_suffix("").as_posix()
    rel_pkl = fourth.reports[0].parameters["report_data"]
    assert rel_pkl.startswith(".work/")  # --keep-work keeps the pickle
    assert left == sorted(
        [
            f"{stem}.html",
            f"{stem}.ipynb",
            f"{stem}.pdf",
            f"{stem}.xlsx",
            "account_managers/my-notes.txt",
            "deals.fingerprint.parquet",  # what `reportkit diff` compares (docs/close.md)
            "figures.json",
            "index.html",
            "manifest.json",
            rel_pkl,
        ]
    )
    # the published notebook names no absolute path of this machine
    nb_text = (out / f"{stem}.ipynb").read_text()
    assert str(tmp_path) not in nb_text and str(ROOT) not in nb_text
    assert (out / f"{stem}.html").read_bytes() != files[f"{stem}.html"]  # 6 % commission now
    last = json.loads((out / "manifest.json").read_text())
    assert last["batch"]["removed_stale"] == fourth.removed


def test_only_failed_without_a_previous_manifest_is_refused(tmp_path, monkeypatch):
    import papermill

    from reportkit.cli import main

    monkeypatch.setattr(papermill, "execute_notebook", lambda *a, **k: pytest.fail("no kernel may start"))
    assert main(["batch", str(_params(tmp_path)), "-o", str(tmp_path / "new"), "-q", "--only-failed"]) == 2


_PARAMS_PICKLE = r"""
import hashlib, pickle
import reportkit as rk
params = rk.load_params("params/demo.yaml")
print(hashlib.sha256(pickle.dumps((params.branding, params.commission, params.pdf), protocol=pickle.HIGHEST_PROTOCOL)).hexdigest())
"""


def test_params_parts_a_report_carries_pickle_to_the_same_bytes_in_every_process_so_resume_can_reuse_it():
    # --resume fingerprints each report object's pickle; pydantic pickled its set of given fields
    # (the report's branding) in the process's string-hash order, so every run re-ran every report
    import os

    runs = set()
    for seed in range(8):
        env = {**os.environ, "PYTHONHASHSEED": str(seed)}
        proc = subprocess.run(
            [sys.executable, "-c", _PARAMS_PICKLE], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300
        )
        assert proc.returncode == 0, proc.stderr
        runs.add(proc.stdout)
    assert len(runs) == 1, runs
