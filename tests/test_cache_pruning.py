"""Pruning the cache of model fits: what a coordinator's shared cache keeps, and what it drops.

A record's last use is its file time (written, and touched on every hit). The one rule,
``core.cache.prune_cache``: records not used for ``cache_max_age_days`` go, then the least
recently used beyond ``cache_max_mb``; a batch applies it when it ends, ``reportkit cache``
shows, prunes and clears the folder. A record pruned under a reader is a miss, never an error.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

import pytest
from demo_params import DEMO, demo_params

from reportkit.cli import main
from reportkit.config.params import load_params
from reportkit.core import cache as cache_mod
from reportkit.core.cache import CACHE_ENV, ContentCache, cache_usage, clear_cache, prune_cache, prune_quietly
from reportkit.core.errors import ParamsError

DAY = 86400.0


def _key(name: str) -> bytes:
    return hashlib.sha256(name.encode()).digest()


def _aged(cache: ContentCache, name: str, days: float, payload: bytes = b"fit") -> bytes:
    """Write record ``name`` and date its last use ``days`` ago."""
    key = _key(name)
    cache.put(key, payload)
    then = time.time() - days * DAY
    os.utime(cache.path(key), (then, then))
    return key


def test_records_not_used_for_max_age_days_are_pruned_and_a_hit_keeps_its_record(tmp_path):
    cache = ContentCache(tmp_path, "fits-v1")
    unused = _aged(cache, "unused", days=200)
    used = _aged(cache, "used", days=200)
    fresh = _aged(cache, "fresh", days=3)
    assert cache.get(used) == b"fit"  # a hit today: its last use is now

    usage = prune_cache(tmp_path, max_age_days=120, max_mb=None)

    assert cache.get(unused) is None
    assert cache.get(used) == b"fit" and cache.get(fresh) == b"fit"
    assert (usage.removed, usage.records) == (1, 2)


def test_over_the_size_cap_the_least_recently_used_records_go_first(tmp_path):
    cache = ContentCache(tmp_path, "fits-v1")
    keys = [_aged(cache, f"r{i}", days=10 - i, payload=bytes(300_000)) for i in range(5)]  # r0 least recent
    one = cache_usage(tmp_path).bytes / 5

    usage = prune_cache(tmp_path, max_age_days=None, max_mb=3.5 * one / 1e6)

    assert [cache.get(k) is not None for k in keys] == [False, False, True, True, True]
    assert usage.records == 3 and usage.bytes <= 3.5 * one


def test_pruning_removes_only_records_and_dead_writers_temporary_files_in_every_namespace(tmp_path):
    fits, other = ContentCache(tmp_path, "fits-v1"), ContentCache(tmp_path, "another-kind-v1")
    _aged(fits, "old fit", days=400)
    _aged(other, "old other", days=400)
    readme = tmp_path / "README.txt"
    readme.write_text("not reportkit's")
    (fits.root / "ab").mkdir(parents=True)
    stray = fits.root / "ab" / "notes.txt"
    stray.write_text("not a record")
    dead = fits.root / "ab" / ".0123.4711-1.tmp"
    dead.write_bytes(b"half")
    os.utime(dead, (time.time() - 2 * DAY,) * 2)
    writing = fits.root / "ab" / ".4567.4712-1.tmp"  # a writer at work right now
    writing.write_bytes(b"half")

    usage = prune_cache(tmp_path, max_age_days=30, max_mb=None)

    assert usage.records == 0 and usage.removed == 3  # two old records, one dead writer's file
    assert readme.exists() and stray.exists() and writing.exists() and not dead.exists()


def test_a_record_pruned_or_cleared_while_others_read_and_write_is_a_miss_never_an_error(tmp_path):
    cache = ContentCache(tmp_path, "fits-v1")
    keys = [_key(f"k{i}") for i in range(64)]
    errors: list[BaseException] = []
    seen: set[bytes | None] = set()
    stop = threading.Event()

    def reader_writer():
        try:
            while not stop.is_set():
                for k in keys:
                    got = cache.get(k)
                    seen.add(got)
                    if got is None:
                        cache.put(k, b"fit")
        except BaseException as exc:  # any error fails the test
            errors.append(exc)

    threads = [threading.Thread(target=reader_writer) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for i in range(40):  # every record is over any age: prune everything, or clear the folder
            if i % 2:
                clear_cache(tmp_path)
            else:
                prune_cache(tmp_path, max_age_days=1, max_mb=None, now=time.time() + 2 * DAY)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert errors == []
    assert seen <= {b"fit", None} and b"fit" in seen
    assert cache._writable  # a folder removed under a writer is made again, not given up on
    cache.put(keys[0], b"fit")
    assert cache.get(keys[0]) == b"fit"


def test_a_cache_that_cannot_be_pruned_never_fails_the_batch(tmp_path, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise PermissionError("read-only file system")

    monkeypatch.setattr(cache_mod, "prune_cache", broken)
    assert prune_quietly(tmp_path, 120, 512) is None
    assert "could not be pruned (PermissionError: read-only file system)" in caplog.text


@pytest.mark.parametrize("key", ["cache_max_age_days", "cache_max_mb"])
def test_params_refuse_a_limit_that_is_not_a_positive_whole_number_and_null_turns_it_off(tmp_path, key):
    params = demo_params(tmp_path, **{key: 0})
    with pytest.raises(ParamsError) as err:
        load_params(params)
    assert f"key '{key}'" in str(err.value) and "params.yaml, line" in str(err.value)
    assert getattr(load_params(demo_params(tmp_path, **{key: None})), key) is None
    assert getattr(load_params(demo_params(tmp_path, **{key: 30})), key) == 30


def test_reportkit_cache_info_prune_and_clear_show_what_the_folder_holds(tmp_path, capsys):
    cache = ContentCache(tmp_path / "c", "fits-v1")
    _aged(cache, "old", days=200)
    _aged(cache, "new", days=1)

    assert main(["cache", "info", "--dir", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert f"cache folder: {tmp_path / 'c'}" in out and "kept: 2 records" in out and "fits-v1: 2 records" in out
    assert "last used: 1 day ago (newest) to 200 days ago (oldest)" in out

    assert main(["cache", "prune", "--dir", str(tmp_path / "c"), "--max-age-days", "30"]) == 0
    out = capsys.readouterr().out
    assert "removed: 1 file," in out and "kept: 1 record," in out

    assert main(["cache", "clear", "--dir", str(tmp_path / "c")]) == 0
    assert "kept: 0 records" in capsys.readouterr().out and cache_usage(tmp_path / "c").records == 0

    assert main(["cache", "prune", "--dir", str(tmp_path / "c"), "--max-mb", "0"]) == 2
    assert "--max-mb must be a positive whole number, got 0" in capsys.readouterr().err


def test_reportkit_cache_reads_the_folder_from_the_params_file_or_the_environment(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "from-env"))
    assert main(["cache", "info"]) == 0
    assert f"cache folder: {tmp_path / 'from-env'}" in capsys.readouterr().out
    params = demo_params(tmp_path, cache_dir=str(tmp_path / "from-params"))
    assert main(["cache", "info", "--params", str(params)]) == 0
    assert f"cache folder: {tmp_path / 'from-params'}" in capsys.readouterr().out
    assert main(["cache", "info", "--params", str(demo_params(tmp_path, cache_dir=None))]) == 0
    assert "no cache" in capsys.readouterr().out


@pytest.mark.skipif(not DEMO.exists(), reason="params/demo.yaml not present")
def test_a_batch_prunes_its_cache_when_it_ends_and_keeps_the_fits_it_used(tmp_path):
    from reportkit.domain.forecast_models import fit_cache
    from reportkit.run.batch import run_batch

    folder = tmp_path / "cache"
    fits = fit_cache(folder)
    stale = _aged(fits, "a fit of data long gone", days=121)
    params = demo_params(tmp_path, cache_dir=str(folder), account_managers=["AM-001"], reports=["account_manager"])

    result = run_batch(params, tmp_path / "out", progress=False, jobs=1)

    assert result.ok == 1
    assert fits.get(stale) is None  # not used for 121 days: pruned (params default 120)
    assert cache_usage(folder).records > 0  # the batch's own fits, used today, are kept
    assert Path(folder, "fits-v1").is_dir()


def test_reportkit_cache_prune_says_what_it_removed_or_that_nothing_was_due(tmp_path, capsys):
    cache = ContentCache(tmp_path / "c", "fits-v1")
    _aged(cache, "new", days=1)
    assert main(["cache", "prune", "--dir", str(tmp_path / "c")]) == 0  # no limits given: 120 days, 512 MB
    out = capsys.readouterr().out
    assert "removed: nothing was due (no record unused for 120 days; 0.0 MB is within 512 MB)" in out
    assert "kept: 1 record," in out
    _aged(cache, "old", days=200)
    assert main(["cache", "prune", "--dir", str(tmp_path / "c")]) == 0
    assert "removed: 1 file, 0.0 MB" in capsys.readouterr().out
    assert main(["cache", "clear", "--dir", str(tmp_path / "c")]) == 0
    assert "removed: 1 file," in capsys.readouterr().out
    assert main(["cache", "clear", "--dir", str(tmp_path / "c")]) == 0
    assert "removed: nothing (the folder held no records)" in capsys.readouterr().out
