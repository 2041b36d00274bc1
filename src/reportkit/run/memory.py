"""Give the memory a batch process has freed back to the operating system.

The batch process loads the data set once and builds every report object from it
(:mod:`reportkit.run.plan`); each step allocates large frames and frees them. Two
allocators keep freed memory for later instead of returning it: Arrow's memory pool
(mimalloc: the string columns, the CSV reader's buffers) and glibc's ``malloc``
(NumPy arrays, Python objects). Only that allocator can reuse what it keeps, so the
process's resident set stayed at its high-water mark of each (issue #18 item 3,
``docs/batch.md``, "Memory of the batch process"). :func:`release_free_memory`
after the load and after each report object is built hands it back, and
:func:`return_large_blocks_promptly`, once at the start of a batch, makes both hand back
every large block as soon as it is freed (``docs/batch.md``, "Fourth pass").
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable

__all__ = ["release_free_memory", "return_large_blocks_promptly", "LARGE_BLOCK"]

#: Bytes from which a block is mapped on its own and unmapped when freed (glibc's ``M_MMAP_THRESHOLD``).
LARGE_BLOCK = 256 * 1024
_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number (malloc.h)


def release_free_memory() -> None:
    """Return the memory that Arrow's pool and glibc's ``malloc`` hold free to the operating system.

    Calls ``pyarrow.default_memory_pool().release_unused()`` and, where the C library
    is glibc, ``malloc_trim(0)``; elsewhere (macOS, musl) only the first. Frees nothing
    in use, changes no result; about a millisecond after a report's build.
    """
    import pyarrow as pa  # already imported by the data set's load

    pa.default_memory_pool().release_unused()
    trim = _libc_function("malloc_trim")
    if trim is not None:
        trim(0)


def return_large_blocks_promptly() -> None:
    """Make this process give every large block back to the operating system as soon as it is freed.

    For the batch process, before it loads the data set (the ``reportkit batch`` program
    calls it; :func:`reportkit.run.batch.run_batch` does not, as it changes the allocators
    of the whole process, a notebook's kernel included, which a library call should not): each report's build and each
    company figure allocates frames of the whole data set and frees them, and both
    allocators kept what was freed, so the resident set stacked one transient on
    another's leftovers (issue #18 item 3: 800,000 deals held 100 MB more after the load
    and the credited deals alone). Two settings, neither changes a result:

    * Arrow allocates from the system's ``malloc`` (``pyarrow.system_memory_pool()``)
      instead of its own mimalloc pool, which keeps freed pages for later;
    * glibc's ``malloc`` maps every block of :data:`LARGE_BLOCK` bytes or more on its own
      and unmaps it when freed (``mallopt(M_MMAP_THRESHOLD)``: a fixed threshold, where
      glibc's default raises it up to 32 MB after each large free and then keeps those
      blocks in its heap).

    Where the C library is not glibc only the first applies. A block mapped anew costs its
    page faults (measured: no slower a batch, ``docs/batch.md``).
    """
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())
    mallopt = _libc_function("mallopt")
    if mallopt is not None:
        mallopt(_M_MMAP_THRESHOLD, LARGE_BLOCK)


@functools.cache
def _libc_function(name: str) -> Callable[..., int] | None:
    """A function of the process's C library by name (glibc's), or None where it has none."""
    try:
        return getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):
        return None
