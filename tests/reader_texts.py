"""What a reader of a set of output files can see: their text, and the numbers in their workbooks.

Shared by the privacy scan (tests/test_privacy.py) and the delivery tests (tests/test_deliver.py),
which check that nobody sees another person's names or figures.
"""

from __future__ import annotations

import html
import json
import shutil
import subprocess
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

import openpyxl


def reader_texts(paths: Iterable[Path]) -> tuple[str, set[Decimal]]:
    """Everything a reader of these files sees, by file type: the text, and the workbooks' numbers (to the cent).

    ``.ipynb`` raw and with ``\\u`` escapes decoded; ``.html`` unescaped; ``.pdf`` as
    pdftotext prints its pages (when installed); ``.xlsx`` every sheet title, cell and
    document property; ``.csv`` / ``.txt`` as text.
    """
    parts: list[str] = []
    numbers: set[Decimal] = set()
    for path in paths:
        fmt = path.suffix.lstrip(".").lower()
        if fmt == "ipynb":
            raw = path.read_text(encoding="utf-8")
            parts.append(raw)
            parts.append(json.dumps(json.loads(raw), ensure_ascii=False))  # \u escapes decoded
        elif fmt == "html":
            parts.append(html.unescape(path.read_text(encoding="utf-8")))
        elif fmt == "pdf" and shutil.which("pdftotext"):  # the printed pages, as a reader reads them
            parts.append(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout)
        elif fmt == "xlsx":
            wb = openpyxl.load_workbook(path)
            for ws in wb.worksheets:
                parts.append(ws.title)
                for row in ws.iter_rows():
                    for c in row:
                        if isinstance(c.value, (int, float)) and not isinstance(c.value, bool):
                            numbers.add(Decimal(repr(c.value)).quantize(Decimal("0.01")))
                        elif c.value is not None:
                            parts.append(str(c.value))
            parts += [v for v in vars(wb.properties).values() if isinstance(v, str)]
        elif fmt in ("csv", "txt"):
            parts.append(path.read_text(encoding="utf-8"))
    return "\n".join(parts), numbers
