"""A content-keyed cache of small records on disk: the one rule for keeping a result between runs.

A record is stored under the SHA-256 of everything it depends on (the caller makes
that key: :func:`reportkit.domain.forecast_models.fit_key` for a model fit), so a
record is never stale: a changed input is another key. Records are written the one
atomic way (:func:`reportkit.core.files.atomic_write`: a temporary name, then
:func:`os.replace`), so concurrent writers (two batches, a batch's report workers)
never leave a half-written record, and writers of one key write the same bytes.

A record is **checked before it is trusted**: it must start with :data:`MAGIC`, hold
the very key it was asked for, have the length it states and end with the SHA-256 of
key and payload. Anything else (a truncated file, another program's bytes, a record
copied under another name) is a miss, and the caller's result is written over it.
A cache that cannot be read or written is no error: the caller computes, and the
first failed write is logged once (``logging``, name ``reportkit.core.cache``).

Where the folder is: :func:`default_cache_dir` (``platformdirs``' user cache folder
of ``reportkit``); params ``cache_dir`` and ``REPORTKIT_CACHE_DIR`` choose another
(:meth:`reportkit.config.params.BatchParams.cache_folder`).

**Pruning** (:func:`prune_cache`, the one rule; a batch applies it when it ends,
:func:`prune_in_background`): a record's file time is its last use (a write, and every hit
touches it), so the records not used for ``max_age_days`` are removed, then, while the
folder's records take more than ``max_mb`` on disk, the least recently used. Only
files named like records (and writers' temporary files a day old) are removed, in every
namespace of the folder, never the folder's other files. A record removed while another
process reads it is a miss there, never an error. :func:`cache_usage` says what the
folder holds, :func:`clear_cache` empties it (``reportkit cache info|prune|clear``).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import OutputError
from .files import atomic_write
from .words import counted

__all__ = [
    "CACHE_ENV",
    "DEFAULT_MAX_AGE_DAYS",
    "DEFAULT_MAX_MB",
    "MAGIC",
    "CacheUsage",
    "ContentCache",
    "cache_usage",
    "clear_cache",
    "default_cache_dir",
    "env_cache_dir",
    "prune_cache",
    "prune_in_background",
    "prune_quietly",
]

log = logging.getLogger(__name__)

#: The first bytes of every record (format version 1).
MAGIC = b"RKCACHE1"
#: Environment variable naming the cache folder when params ``cache_dir`` is not set.
CACHE_ENV = "REPORTKIT_CACHE_DIR"
_DIGEST = 32  # bytes of a SHA-256
#: Params ``cache_max_age_days``' default: a record not used for longer than a fiscal quarter
#: and four weeks is removed (a quarter-end re-run still finds the last quarter's fits).
DEFAULT_MAX_AGE_DAYS = 120
#: Params ``cache_max_mb``' default: the folder's records on disk, least recently used removed first.
DEFAULT_MAX_MB = 512
_DAY_S = 86400.0
_RECORD = re.compile(rf"[0-9a-f]{{{2 * _DIGEST - 2}}}")  # a record's file name: the key's hex after its first 2
_BUCKET = re.compile(r"[0-9a-f]{2}")
_STALE_TMP_S = _DAY_S  # a writer's temporary file this old is a leftover of a writer that died


def default_cache_dir() -> Path:
    """The platform's user cache folder for reportkit (``~/.cache/reportkit`` on Linux; platformdirs)."""
    import platformdirs  # lazy: only a batch that caches reads it

    return Path(platformdirs.user_cache_dir("reportkit", appauthor=False))


class ContentCache:
    """Records of bytes keyed by a 32-byte digest, in ``folder/<namespace>/<2 hex>/<62 hex>``.

    Picklable (a folder name and a flag), so a process pool's worker reads and writes
    the same cache as the process that hands it work.

    Parameters
    ----------
    folder : str or Path
        The cache folder (created on the first write).
    namespace : str
        A sub-folder per kind of record (``fits-v1``), so kinds never share a name.
    """

    def __init__(self, folder: str | Path, namespace: str) -> None:
        self.root = Path(folder) / namespace
        self._writable = True

    def __repr__(self) -> str:
        return f"ContentCache({str(self.root)!r})"

    def path(self, key: bytes) -> Path:
        """The file of ``key``'s record."""
        h = key.hex()
        return self.root / h[:2] / h[2:]

    def get(self, key: bytes) -> bytes | None:
        """``key``'s payload, or None when there is no record or it fails a check (a miss)."""
        try:
            data = self.path(key).read_bytes()
        except OSError:
            return None
        head = len(MAGIC) + _DIGEST + 8
        if len(data) < head + _DIGEST or not data.startswith(MAGIC) or data[len(MAGIC) : len(MAGIC) + _DIGEST] != key:
            return None
        size = int.from_bytes(data[head - 8 : head], "little")
        payload, digest = data[head : head + size], data[head + size :]
        if len(payload) != size or digest != hashlib.sha256(key + payload).digest():
            return None
        with contextlib.suppress(OSError):  # a read-only cache, or the record pruned meanwhile: still a hit
            os.utime(self.path(key))  # the file's time is its last use: pruning keeps what is used
        return payload

    def put(self, key: bytes, payload: bytes) -> None:
        """Store ``payload`` under ``key`` atomically; a folder that cannot be written is logged once and skipped."""
        if not self._writable:
            return
        if len(key) != _DIGEST:
            raise ValueError(f"a cache key is a {_DIGEST}-byte digest, got {len(key)} bytes")
        path = self.path(key)
        record = MAGIC + key + len(payload).to_bytes(8, "little") + payload + hashlib.sha256(key + payload).digest()
        for attempt in (1, 2, 3):  # again: ``reportkit cache clear`` removed the folder meanwhile
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(path, record)
                return
            except (OSError, OutputError) as exc:
                if attempt == 3:
                    self._writable = False
                    log.warning("the cache folder %s cannot be written (%s): results are computed, not kept", self.root, exc)


def env_cache_dir() -> Path | None:
    """``REPORTKIT_CACHE_DIR`` when set and not empty, else None."""
    value = os.environ.get(CACHE_ENV, "").strip()
    return Path(value).expanduser() if value else None


@dataclass(frozen=True)
class CacheUsage:
    """What a cache folder holds, or what a prune removed and kept.

    Attributes
    ----------
    folder : Path
    records, bytes : int
        Records kept and the disk they take (bytes of allocated blocks, as ``du`` counts).
    removed, removed_bytes : int
        Records (and writers' stale temporary files) removed, and the disk they took.
    oldest, newest : float or None
        The least and most recent last use of a kept record (Unix time); None when none is kept.
    by_namespace : tuple of (str, int, int)
        Per kind of record (``fits-v1``): its name, records and bytes kept.
    """

    folder: Path
    records: int = 0
    bytes: int = 0
    removed: int = 0
    removed_bytes: int = 0
    oldest: float | None = None
    newest: float | None = None
    by_namespace: tuple[tuple[str, int, int], ...] = ()

    def text(
        self, now: float | None = None, *, limits: tuple[float | None, float | None] | None = None, cleared: bool = False
    ) -> str:
        """The lines ``reportkit cache info|prune|clear`` prints.

        ``limits`` (a prune's ``max_age_days``, ``max_mb``) or ``cleared`` (a clear): the
        removed line is always printed, saying that nothing was due when nothing went.

        >>> CacheUsage(Path("c"), records=2, bytes=8192).text(limits=(120, 512)).splitlines()[1]
        'removed: nothing was due (no record unused for 120 days; 0.0 MB is within 512 MB)'
        """
        now = time.time() if now is None else now
        lines = [f"cache folder: {self.folder}"]
        if self.removed:
            lines.append(f"removed: {counted(self.removed, 'file')}, {_mb(self.removed_bytes)}")
        elif cleared:
            lines.append("removed: nothing (the folder held no records)")
        elif limits is not None:
            age, size = limits
            why = [f"no record unused for {counted(age, 'day')}" if age is not None else "no age limit"]
            why.append(f"{_mb(self.bytes)} is within {size:g} MB" if size is not None else "no size limit")
            lines.append(f"removed: nothing was due ({'; '.join(why)})")
        lines.append(f"kept: {counted(self.records, 'record')}, {_mb(self.bytes)}")
        lines += [f"  {name}: {counted(n, 'record')}, {_mb(b)}" for name, n, b in self.by_namespace]
        if self.oldest is not None and self.newest is not None:
            lines.append(f"last used: {_days(now - self.newest)} (newest) to {_days(now - self.oldest)} (oldest)")
        return "\n".join(lines)


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def _days(seconds: float) -> str:
    d = max(seconds, 0.0) / _DAY_S
    return "today" if d < 1 else f"{counted(round(d), 'day')} ago"


def _disk_bytes(st: os.stat_result) -> int:
    blocks = getattr(st, "st_blocks", None)  # what the file takes on disk (a 4 KB block for a 200-byte record)
    return blocks * 512 if blocks is not None else st.st_size


def _scan(folder: Path) -> tuple[list[tuple[float, int, Path, str]], list[tuple[float, int, Path]]]:
    """Every record of ``folder`` as (last use, disk bytes, path, namespace), and the writers' temporary files.

    Only ``folder/<namespace>/<2 hex>/<62 hex>`` are records; a file that vanishes while
    it is scanned (another prune, ``clear``) is skipped.
    """
    records: list[tuple[float, int, Path, str]] = []
    temps: list[tuple[float, int, Path]] = []
    try:
        namespaces = [e for e in os.scandir(folder) if e.is_dir(follow_symlinks=False)]
    except OSError:  # no folder yet: nothing cached
        return records, temps
    for ns in namespaces:
        try:
            buckets = [e for e in os.scandir(ns.path) if e.is_dir(follow_symlinks=False) and _BUCKET.fullmatch(e.name)]
        except OSError:
            continue
        for bucket in buckets:
            try:
                entries = list(os.scandir(bucket.path))
            except OSError:
                continue
            for e in entries:
                try:
                    st = e.stat(follow_symlinks=False)
                except OSError:
                    continue
                if _RECORD.fullmatch(e.name):
                    records.append((st.st_mtime, _disk_bytes(st), Path(e.path), ns.name))
                elif e.name.startswith(".") and e.name.endswith(".tmp"):
                    temps.append((st.st_mtime, _disk_bytes(st), Path(e.path)))
    return records, temps


def _usage(folder: Path, kept: list[tuple[float, int, Path, str]], removed: int = 0, removed_bytes: int = 0) -> CacheUsage:
    per: dict[str, list[int]] = {}
    for _, size, _, ns in kept:
        n = per.setdefault(ns, [0, 0])
        n[0] += 1
        n[1] += size
    times = [t for t, *_ in kept]
    return CacheUsage(
        folder=folder,
        records=len(kept),
        bytes=sum(size for _, size, _, _ in kept),
        removed=removed,
        removed_bytes=removed_bytes,
        oldest=min(times) if times else None,
        newest=max(times) if times else None,
        by_namespace=tuple((name, n, b) for name, (n, b) in sorted(per.items())),
    )


def cache_usage(folder: str | Path) -> CacheUsage:
    """What the cache folder ``folder`` holds: records and their disk use, per namespace, and their last use."""
    records, _ = _scan(Path(folder))
    return _usage(Path(folder), records)


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
        return True
    except FileNotFoundError:  # removed by another prune meanwhile
        return False


def prune_cache(
    folder: str | Path,
    max_age_days: float | None = DEFAULT_MAX_AGE_DAYS,
    max_mb: float | None = DEFAULT_MAX_MB,
    *,
    now: float | None = None,
) -> CacheUsage:
    """Remove the records of ``folder`` not used for ``max_age_days``, then the least recently used over ``max_mb``.

    The one pruning rule (params ``cache_max_age_days`` and ``cache_max_mb``; the batch
    applies it when it ends, ``reportkit cache prune`` when asked). A record's last use is
    its file's modification time: the write, and every hit (:meth:`ContentCache.get`
    touches it). Writers' temporary files a day old (a writer that died) go too. Safe
    while other batches use the folder: a record removed under a reader is a miss there.

    Parameters
    ----------
    folder : str or Path
        The cache folder (every namespace in it).
    max_age_days : float or None, default :data:`DEFAULT_MAX_AGE_DAYS`
        Days since a record's last use after which it is removed; None: no age limit.
    max_mb : float or None, default :data:`DEFAULT_MAX_MB`
        Megabytes (10**6 bytes, of disk blocks as ``du`` counts them) the records may
        take; beyond it the least recently used are removed. None: no size limit.
    now : float, optional
        The time to count ages from (Unix seconds; default now).

    Returns
    -------
    CacheUsage
        What was removed and what is kept.

    Raises
    ------
    ValueError
        ``max_age_days`` or ``max_mb`` is not a positive number (params validation refuses it first).
    """
    for name, value in (("max_age_days", max_age_days), ("max_mb", max_mb)):
        if value is not None and not value > 0:
            raise ValueError(f"{name} must be a positive number or None, got {value!r}")
    folder = Path(folder)
    now = time.time() if now is None else now
    records, temps = _scan(folder)
    removed = removed_bytes = 0
    for t, size, path in temps:
        if now - t > _STALE_TMP_S and _unlink(path):
            removed, removed_bytes = removed + 1, removed_bytes + size
    records.sort(key=lambda r: r[0])  # least recently used first
    keep_from = 0
    if max_age_days is not None:
        cutoff = now - max_age_days * _DAY_S
        while keep_from < len(records) and records[keep_from][0] < cutoff:
            keep_from += 1
    total = sum(size for _, size, _, _ in records[keep_from:])
    if max_mb is not None:
        while keep_from < len(records) and total > max_mb * 1e6:
            total -= records[keep_from][1]
            keep_from += 1
    for _, size, path, _ in records[:keep_from]:
        if _unlink(path):
            removed, removed_bytes = removed + 1, removed_bytes + size
    return _usage(folder, records[keep_from:], removed, removed_bytes)


def prune_quietly(folder: str | Path, max_age_days: float | None, max_mb: float | None) -> CacheUsage | None:
    """:func:`prune_cache` for the end of a batch: any failure is logged, never raised (the batch is done)."""
    try:
        return prune_cache(folder, max_age_days, max_mb)
    except Exception as exc:  # a cache that cannot be pruned costs disk, never a batch
        log.warning("the cache folder %s could not be pruned (%s: %s)", folder, type(exc).__name__, exc)
        return None


def prune_in_background(folder: str | Path, max_age_days: float | None, max_mb: float | None) -> threading.Thread:
    """:func:`prune_quietly` in a thread of its own, started: the batch joins it after its workers have exited."""
    thread = threading.Thread(target=prune_quietly, args=(folder, max_age_days, max_mb), name="reportkit cache prune")
    thread.start()
    return thread


def clear_cache(folder: str | Path) -> CacheUsage:
    """Remove every record (and writer's temporary file) of ``folder``, every namespace; other files stay.

    A batch running meanwhile loses nothing but those records: what it reads next is a
    miss and computed again.
    """
    folder = Path(folder)
    records, temps = _scan(folder)
    removed = removed_bytes = 0
    for _, size, path, *_ in [*records, *temps]:
        if _unlink(path):
            removed, removed_bytes = removed + 1, removed_bytes + size
    for bucket in {path.parent for _, _, path, *_ in [*records, *temps]}:  # the emptied 2-hex folders
        with contextlib.suppress(OSError):  # not empty: a record written meanwhile (a writer makes its folder again)
            bucket.rmdir()
    return _usage(folder, [], removed, removed_bytes)
