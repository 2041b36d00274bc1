"""The one atomic-write rule (core/files.py): a failed write never leaves half a file,
and every path that publishes a file (the batch's files, workbooks, the explorer page)
goes through it."""

from __future__ import annotations

import os
import threading

import pytest
from sample_reports import am_report

import reportkit.run.outputs
from reportkit.core import files
from reportkit.core.errors import OutputError
from reportkit.render.excel import write_workbook


def _fail_rename(monkeypatch):
    def refuse(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(files.os, "replace", refuse)


def test_text_is_written_as_utf8_and_bytes_as_given(tmp_path):
    files.atomic_write(tmp_path / "a.txt", "Müller €")
    files.atomic_write(tmp_path / "b.bin", b"\x00\xff")
    assert (tmp_path / "a.txt").read_bytes() == "Müller €".encode()
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\xff"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.bin"]


def test_a_writer_failing_midway_keeps_the_previous_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "report.html"
    target.write_text("previous")

    def half_then_crash(path):
        path.write_text("half of a pa")
        raise ValueError("writer crashed")

    with pytest.raises(ValueError, match="writer crashed"):
        files.atomic_write(target, half_then_crash)
    assert target.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_a_failed_rename_is_an_output_error_naming_the_file_and_the_reason(tmp_path, monkeypatch):
    target = tmp_path / "manifest.json"
    target.write_text("previous")
    _fail_rename(monkeypatch)
    with pytest.raises(OutputError) as err:
        files.atomic_write(target, "{}", what="manifest")
    assert str(err.value).startswith(f"cannot write manifest {str(target)!r}: Permission denied")
    assert err.value.hint == files.WRITE_HINT
    assert target.read_text() == "previous" and [p.name for p in tmp_path.iterdir()] == ["manifest.json"]


def test_a_missing_folder_is_an_output_error_that_does_not_name_the_temporary_file(tmp_path):
    target = tmp_path / "missing" / "index.html"
    with pytest.raises(OutputError) as err:
        files.atomic_write(target, "<html>")
    assert str(target) in str(err.value) and ".tmp" not in str(err.value)


def test_the_batch_writes_its_files_with_the_one_helper():
    assert reportkit.run.outputs.atomic_write is files.atomic_write


def test_a_workbook_whose_rename_fails_keeps_the_previous_workbook(tmp_path, monkeypatch):
    target = tmp_path / "am.xlsx"
    write_workbook(am_report(), target)
    before = target.read_bytes()
    _fail_rename(monkeypatch)
    with pytest.raises(OutputError, match=r"cannot write workbook .*Permission denied"):
        write_workbook(am_report(), target)
    assert target.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["am.xlsx"]


def test_temporary_names_differ_between_threads_and_end_in_tmp(tmp_path):
    names = []
    t = threading.Thread(target=lambda: names.append(files.temporary_name(tmp_path / "x.pdf")))
    t.start()
    t.join()
    names.append(files.temporary_name(tmp_path / "x.pdf"))
    assert names[0] != names[1] and all(n.name.startswith(".x.pdf.") and n.suffix == ".tmp" for n in names)
    assert str(os.getpid()) in names[1].name
