"""Writing a file so that a failure never leaves half of it: the one atomic-write rule.

Every file reportkit publishes (notebooks, HTML, PDF, workbooks, ``manifest.json``,
``index.html``, the explorer's exported page) is written to a temporary name beside
its final name and moved into place with :func:`os.replace`, which is atomic on one
file system: a reader sees the old file or the new one, never a half-written one.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

from .errors import OutputError

#: The fix a failed write suggests unless the caller knows a better one.
WRITE_HINT = "check the folder exists, is writable and the disk has space"


def temporary_name(path: Path) -> Path:
    """The hidden name beside ``path`` a write goes to before it is moved into place.

    ``.NAME.PID-THREAD.tmp`` (e.g. ``.am-001.xlsx.4711-139876.tmp``): unique per
    process and thread, so parallel writers never share one, and ending in ``.tmp``
    so a leftover is easy to find.
    """
    return path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")


def atomic_write(
    path: str | Path,
    content: bytes | str | Callable[[Path], None],
    *,
    what: str = "",
    hint: str = WRITE_HINT,
    write_errors: tuple[type[BaseException], ...] = (),
) -> Path:
    """Write ``content`` to a temporary name beside ``path``, then move it into place.

    Parameters
    ----------
    path : str or Path
        The file to write; its folder must exist.
    content : bytes, str or callable
        The file's bytes, its text (written as UTF-8), or a function that writes the
        file at the path it is given (e.g. an xlsxwriter workbook's build).
    what : str
        What the file is, for the message (``"workbook"`` gives
        ``cannot write workbook '...': ...``); empty for a plain ``cannot write '...'``.
    hint : str
        The fix the error suggests.
    write_errors : tuple of exception classes
        Besides :class:`OSError`, the errors of ``content``'s writer that mean the file
        could not be written (xlsxwriter's ``FileCreateError``).

    Returns
    -------
    Path
        The file written, as a :class:`~pathlib.Path` (callers return it on).

    Raises
    ------
    OutputError
        The folder is missing or not writable, or the disk is full: the message names
        the file and the reason. Nothing half-written is left, under any error.
    """
    path = Path(path)
    tmp = temporary_name(path)
    try:
        if isinstance(content, str):
            tmp.write_text(content, encoding="utf-8")
        elif isinstance(content, bytes | bytearray):
            tmp.write_bytes(content)
        else:
            content(tmp)
        os.replace(tmp, path)
    except (OSError, *write_errors) as exc:
        tmp.unlink(missing_ok=True)
        reason = getattr(exc, "strerror", None) or exc
        label = f"{what} " if what else ""
        raise OutputError(f"cannot write {label}{str(path)!r}: {reason}", hint=hint) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
