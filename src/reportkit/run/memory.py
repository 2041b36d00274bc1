"""Give the memory a batch process has freed back to the operating system.

The batch process loads the data set once and builds every report object from it
(:mod:`reportkit.run.plan`); each step allocates large frames and frees them. Two
allocators keep freed memory for later instead of returning it: Arrow's memory pool
(mimalloc: the string columns, the CSV reader's buffers) and glibc's ``malloc``
(NumPy arrays, Python objects). Only that allocator can reuse what it keeps, so the
process's resident set stayed at its high-water mark of each (issue #18 item 3,
``docs/batch.md``, "Memory of the batch process"). :func:`release_free_memory`
after the load and after each report object is built hands it back.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable

__all__ = ["release_free_memory"]


def release_free_memory() -> None:
    """Return the memory that Arrow's pool and glibc's ``malloc`` hold free to the operating system.

    Calls ``pyarrow.default_memory_pool().release_unused()`` and, where the C library
    is glibc, ``malloc_trim(0)``; elsewhere (macOS, musl) only the first. Frees nothing
    in use, changes no result; about a millisecond after a report's build.
    """
    import pyarrow as pa  # already imported by the data set's load

    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none."""
    try:
        return ctypes.CDLL(None).malloc_trim  # the process's own symbols: glibc's, when it is glibc
    except (OSError, AttributeError):
        return None
