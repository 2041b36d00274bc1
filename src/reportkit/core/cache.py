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
(:meth:`reportkit.config.params.BatchParams.cache_folder`). Nothing is ever deleted:
remove the folder to empty it.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from .errors import OutputError
from .files import atomic_write

__all__ = ["CACHE_ENV", "MAGIC", "ContentCache", "default_cache_dir", "env_cache_dir"]

log = logging.getLogger(__name__)

#: The first bytes of every record (format version 1).
MAGIC = b"RKCACHE1"
#: Environment variable naming the cache folder when params ``cache_dir`` is not set.
CACHE_ENV = "REPORTKIT_CACHE_DIR"
_DIGEST = 32  # bytes of a SHA-256


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
        return payload

    def put(self, key: bytes, payload: bytes) -> None:
        """Store ``payload`` under ``key`` atomically; a folder that cannot be written is logged once and skipped."""
        if not self._writable:
            return
        if len(key) != _DIGEST:
            raise ValueError(f"a cache key is a {_DIGEST}-byte digest, got {len(key)} bytes")
        path = self.path(key)
        record = MAGIC + key + len(payload).to_bytes(8, "little") + payload + hashlib.sha256(key + payload).digest()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, record)
        except (OSError, OutputError) as exc:
            self._writable = False
            log.warning("the cache folder %s cannot be written (%s): results are computed, not kept", self.root, exc)


def env_cache_dir() -> Path | None:
    """``REPORTKIT_CACHE_DIR`` when set and not empty, else None."""
    value = os.environ.get(CACHE_ENV, "").strip()
    return Path(value).expanduser() if value else None
