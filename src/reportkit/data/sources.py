"""Readers that turn a source (file or SQL query) into a raw, all-text DataFrame.

Every reader returns the cells **as text** (``str`` dtype, no type guessing, no
implicit missing values: ``NA``, ``NULL`` and ``-`` stay literal strings; an empty
cell is the empty string ``""``). Interpreting text -- placeholders, dates,
amounts -- is the mapping's job, declared in the source-mapping YAML.

Each frame also gets a ``_source_row`` column: the row number as a spreadsheet
user counts it (header = row 1, first data row = 2; for SQL, row 1 is the first
result row's "header" so the first result row is 2 as well, to keep one rule).

Blank rows (every cell empty or whitespace) are skipped, keeping the row numbers
of the other rows as the file shows them. A row with any data is never dropped by
a reader: footers such as a grand total are dropped only when the mapping says so
(``skip_footer`` / ``drop_rows_where``, see :mod:`reportkit.data.mapping`). Header names
are stripped of surrounding whitespace; a blank header becomes ``Unnamed: <n>``
(0-based position) and a header name that occurs twice is refused (a mapping could
not tell the two columns apart).

Supported formats: ``csv`` (any Python encoding, e.g. ``utf-8``, ``utf-8-sig``,
``utf-16``, ``cp1252``; any separator), ``xlsx`` (openpyxl), ``xls`` (pandas' ``calamine`` engine),
``parquet`` (pyarrow) and ``sql`` (SQLAlchemy URL + query).

Large UTF-8 CSVs are read with pyarrow's multi-threaded parser when the result is
certain to be the same as the pandas reader's (see :func:`_read_csv_arrow`); any other
file, and every malformed one, goes through the pandas reader and its messages.
"""

from __future__ import annotations

import codecs
import datetime
import re
import warnings
from decimal import ROUND_HALF_UP, Context, Decimal
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from ..core.errors import DataError, DataProblem, MappingError, did_you_mean

__all__ = [
    "FORMATS",
    "SOURCE_ROW",
    "blank_cells",
    "read_csv",
    "read_excel",
    "read_parquet",
    "read_sql",
    "read_source",
    "format_of",
]

SOURCE_ROW = "_source_row"
FORMATS = ("csv", "xlsx", "xls", "parquet", "sql")
Format = Literal["csv", "xlsx", "xls", "parquet", "sql"]
_EXT = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xls",
    ".parquet": "parquet",
    ".pq": "parquet",
}


def format_of(path: str | Path) -> str:
    """Format name implied by a file extension (``.csv`` -> ``csv`` ...).

    Raises
    ------
    MappingError
        If the extension is not one reportkit reads; the message lists the formats.
    """
    ext = Path(path).suffix.lower()
    try:
        return _EXT[ext]
    except KeyError:
        raise MappingError(
            f"{path}: cannot tell the format from extension {ext!r}",
            hint=f"add format: one of {', '.join(FORMATS)} to the source",
        ) from None


def _check_file(path: Path) -> None:
    if not path.exists():
        near = ""
        if path.parent.is_dir():
            near = did_you_mean(path.name, [p.name for p in path.parent.iterdir()])
        raise MappingError(
            f"source file {str(path)!r} does not exist{near}",
            hint="check file: and data_dir: in the source mapping (data_dir is relative to the mapping file)",
        )
    if path.is_dir():
        raise MappingError(f"source {str(path)!r} is a folder, not a file", hint="name a file in file:")


#: Significant digits a spreadsheet shows of a number (Excel's display precision).
EXCEL_DIGITS = 15
_EXCEL = Context(prec=EXCEL_DIGITS, rounding=ROUND_HALF_UP)


def _float_text(v: float) -> str:
    """A numeric cell (IEEE double) as the number the spreadsheet shows, without exponent.

    The shortest text that reads back as the same double (``repr``), cut to Excel's
    15 significant digits when it has more: a computed cell that holds
    ``731.9399999999999`` or ``22.368000000000002`` is ``731.94`` / ``22.368``, as
    Excel displays it and as it was meant (binary noise removed, nothing else).
    Integers are written in full: ``1e16 -> '10000000000000000'``. Never goes
    through a rounding to the cent: that is the mapping's job.
    """
    if v != v:  # NaN
        return ""
    if v in (float("inf"), float("-inf")):
        return repr(v)
    if v.is_integer():
        return str(int(v))
    d = Decimal(repr(v))
    if len(d.as_tuple().digits) > EXCEL_DIGITS:
        d = _EXCEL.plus(d).normalize()
    return format(d, "f")


def _number_text(v: object) -> str | None:
    """Text of a numeric cell read exactly: float as :func:`_float_text`, ``numpy.float32``
    as its own shortest text, ``Decimal`` (Parquet decimal columns, SQL ``NUMERIC``)
    in full without exponent (``Decimal('1E+3') -> '1000'``); None for other values."""
    if isinstance(v, np.float32):
        return "" if v != v else np.format_float_positional(v, unique=True, trim="-")
    if isinstance(v, float):
        return _float_text(v)
    if isinstance(v, Decimal):
        return "" if v.is_nan() else (repr(float(v)) if v.is_infinite() else format(v, "f"))
    return None


def _header(names: list[object], label: str) -> list[str]:
    """Source header texts: stripped, blanks named ``Unnamed: i``, duplicates refused."""
    out = []
    for i, n in enumerate(names):
        t = "" if n is None or (isinstance(n, float) and n != n) else str(n)
        t = t.strip()
        out.append(t if t else f"Unnamed: {i}")
    seen: dict[str, int] = {}
    dups = []
    for i, t in enumerate(out):
        if t in seen:
            dups.append(f"{t!r} (columns {seen[t] + 1} and {i + 1})")
        else:
            seen[t] = i
    if dups:
        raise MappingError(
            f"{label}: the header names the same column twice: {', '.join(dups)}",
            hint="rename one of them in the file (a mapping could not tell them apart)",
        )
    return out


def blank_cells(s: pd.Series) -> np.ndarray:
    """Bool mask of the cells of ``s`` that are blank: missing, or text empty once stripped of whitespace.

    The one rule of a blank cell (``s.isna() | (s.astype("str").str.strip() == "")``), for
    blank rows here, placeholders and blank text in :mod:`reportkit.data.mapping` and the
    schema's "blank text" rule (:mod:`reportkit.data.model`). Arrow-backed text is asked
    without building its stripped copy: empty or ``utf8_is_space``, whose whitespace is
    that of ``utf8_trim_whitespace`` (what pandas' ``str.strip`` runs on it) and of
    Python's ``str.strip``, every code point checked (``tests/test_sources.py``).
    """
    if isinstance(s.array, pd.arrays.ArrowStringArray):
        import pyarrow as pa
        import pyarrow.compute as pc

        text = pa.chunked_array(pa.array(s.array))  # the column's own Arrow data (``__arrow_array__``), no copy
        empty = pc.or_(pc.equal(pc.binary_length(text), 0), pc.utf8_is_space(text))
        return pc.fill_null(empty, True).to_numpy(zero_copy_only=False).astype(bool, copy=False)
    return (s.isna() | (s.astype("str").str.strip() == "")).to_numpy(dtype=bool)


def text_order(s: pd.Series) -> int:
    """1 when ``s`` is Arrow-backed text without a missing cell, each value above the one before
    (compared as bytes, as Arrow sorts text), -1 when each is below it, else 0 (not proof of a repeat).

    A column in strict order holds no value twice, and its rows are its sorted order: the
    mapping's repeated-id check (:mod:`reportkit.data.mapping`) and the credited deals' order
    by deal id (:func:`reportkit.domain.crediting.credited_deals`) skip their hash or sort on it
    (an export sorted by its id, the usual case). One comparison of neighbours, on Arrow.
    """
    if not isinstance(s.array, pd.arrays.ArrowStringArray) or len(s) < 2:
        return 0
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pa.chunked_array(pa.array(s.array)).combine_chunks()
    if text.null_count:
        return 0
    before, after = text.slice(0, len(text) - 1), text.slice(1)
    if pc.all(pc.less(before, after)).as_py():
        return 1
    return -1 if pc.all(pc.greater(before, after)).as_py() else 0


def _finish(df: pd.DataFrame, first_row: int = 2) -> pd.DataFrame:
    """Add ``_source_row`` (first data row = ``first_row``) and drop blank rows."""
    df[SOURCE_ROW] = np.arange(first_row, len(df) + first_row, dtype="int64")
    data = [c for c in df.columns if c != SOURCE_ROW]
    if data and len(df):
        # rows still possibly blank; each further column is checked on those rows only,
        # so a column that is never blank (an id) settles the question in one pass
        # (a reader's text is never missing; a missing cell would not make a row blank)
        first = df[data[0]]
        candidates = np.flatnonzero(blank_cells(first) & first.notna().to_numpy(dtype=bool))
        for c in data[1:]:
            if not len(candidates):
                break
            col = df[c].iloc[candidates]
            candidates = candidates[blank_cells(col) & col.notna().to_numpy(dtype=bool)]
        if len(candidates):
            blank = np.zeros(len(df), dtype=bool)
            blank[candidates] = True
            df = df[~blank].reset_index(drop=True)
    return df


def _text_frame(df: pd.DataFrame, first_row: int = 2) -> pd.DataFrame:
    """All cells as text ('' for empty) plus _source_row; blank rows dropped."""

    def cell(v: object) -> str:
        if v is None:
            return ""
        num = _number_text(v)
        if num is not None:
            return num
        if isinstance(v, (pd.Timestamp, datetime.datetime)):
            return v.isoformat(sep=" ")
        if isinstance(v, datetime.date):
            return v.isoformat()
        if v is pd.NaT:
            return ""
        return str(v)

    def cells(col: pd.Series) -> list:
        # float32 columns keep their own width: tolist() would widen 0.1f to 0.10000000149011612
        return list(col.to_numpy()) if col.dtype == np.float32 else col.tolist()

    names = _header(list(df.columns), "source")
    out = pd.DataFrame({n: pd.array([cell(v) for v in cells(df.iloc[:, i])], dtype="str") for i, n in enumerate(names)})
    return _finish(out, first_row)


def _bom_encoding(path: Path) -> str:
    """The encoding a file's byte-order mark names, for a file read as UTF-8 (the default); ``utf-8-sig`` without one.

    A BOM is unambiguous: FF FE or FE FF is UTF-16 (the mark gives the byte order; FF FE 00 00
    is UTF-32), EF BB BF is UTF-8. A declared encoding other than UTF-8 is never second-guessed.
    """
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return "utf-8-sig"  # the read that follows names the problem
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8-sig"


def read_csv(path: str | Path, *, encoding: str = "utf-8", sep: str = ",", skip_rows: int = 0) -> pd.DataFrame:
    """Read a delimited text file with every cell as text.

    Parameters
    ----------
    path : str or Path
    encoding : str, default ``"utf-8"``
        Any Python codec: ``utf-8-sig`` (BOM), ``utf-16`` (BOM picks the byte
        order), ``cp1252`` ... With ``utf-8`` (the default) a byte-order mark is
        read as what it names: UTF-16 (FF FE, FE FF), UTF-32, or UTF-8 (removed from
        the first header).
    sep : str, default ``","``
    skip_rows : int, default 0
        Lines above the header (a report title, an export date) to skip; the
        header is then on row ``skip_rows + 1`` and row numbers count from there
        as the file shows them.

    Returns
    -------
    pandas.DataFrame
        Source columns (``str``; empty cells are ``""``) plus ``_source_row``
        (int64, header = 1, first data row = 2, counted in records as a
        spreadsheet shows them). Blank rows are skipped.

    Raises
    ------
    MappingError
        Missing file, unknown encoding name, text that does not decode with
        ``encoding`` (the message names the byte offset and suggests encodings),
        or a header that names a column twice.
    DataError
        A row with more fields than the header (names the row), an empty file.
    """
    path = Path(path)
    _check_file(path)
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise MappingError(f"{path}: unknown encoding {encoding!r}", hint="use e.g. utf-8, utf-8-sig, utf-16 or cp1252") from None
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
        encoding = _bom_encoding(path)  # utf-8 (the default): a BOM says which Unicode encoding; it is never data
    if not sep:
        raise MappingError(f"{path}: the separator sep: must not be empty", hint="e.g. sep: ',' or sep: \"\\t\"")
    if encoding == "utf-8-sig" and len(sep) == 1 and sep.isascii() and sep not in '"\r\n' and not skip_rows:
        fast = _read_csv_arrow(path, sep)
        if fast is not None:
            return fast
    try:
        raw = pd.read_csv(
            path,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            encoding=encoding,
            sep=sep,
            skip_blank_lines=False,
            skiprows=skip_rows or None,
            engine="c" if len(sep) == 1 else "python",
        )
    except UnicodeError as exc:
        where = f" ({exc.reason} at byte {exc.start})" if isinstance(exc, UnicodeDecodeError) else f" ({exc})"
        raise MappingError(
            f"{path}: not readable as {encoding}{where}",
            hint="set encoding: in the source mapping (cp1252 for Windows 'ANSI' exports, utf-16 for "
            "'Unicode text' without a byte-order mark)",
        ) from None
    except pd.errors.ParserError as exc:
        text = str(exc).strip()
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
        unclosed = None if m else _unclosed_quote(path, encoding, sep)
        if unclosed is not None:
            line, start = unclosed
            problem = DataProblem(
                str(path),
                line,
                None,
                start,
                f"a quoted value starts on line {line} and its closing quote is never found, so everything after it "
                f'would be one value: close the quote (a quote inside a quoted value is written twice: ""), '
                f"or check sep: ({sep!r}) if the file uses another separator",
            )
        elif m:
            expected, line, saw = (int(g) for g in m.groups())
            reason = (
                f"this row has {saw} fields but the header has {expected} (an unquoted {sep!r} "
                f"inside a value, e.g. an amount written 1{sep}234.50?)"
            )
            problem = DataProblem(str(path), line + skip_rows, None, None, reason)
        else:
            problem = DataProblem(str(path), None, None, None, text)
        raise DataError(
            f"{path}: cannot be parsed as {sep!r}-separated text",
            [problem],
            hint="check sep: in the mapping and the quoting of values in the file; if lines above "
            "the header (a title, an export date) are not the header, declare skip_rows:",
        ) from None
    except pd.errors.EmptyDataError:
        raise DataError(
            f"{path}: the file is empty",
            [
                DataProblem(
                    str(path),
                    None,
                    None,
                    None,
                    "no header row (if the header is below some blank or title lines, declare skip_rows:)",
                )
            ],
        ) from None
    except ValueError as exc:  # e.g. NUL bytes or a separator the parser cannot use
        raise DataError(
            f"{path}: cannot be parsed as {sep!r}-separated text",
            [DataProblem(str(path), None, None, None, str(exc).splitlines()[0])],
            hint="check sep: and encoding: in the mapping",
        ) from None
    header = _header(raw.iloc[0].tolist() if len(raw) else [], str(path))
    body = raw.iloc[1:].reset_index(drop=True)
    df = pd.DataFrame({n: body.iloc[:, i].astype("str") for i, n in enumerate(header)})
    if not header:
        raise DataError(f"{path}: the file is empty", [DataProblem(str(path), None, None, None, "no header row")])
    return _finish(df, first_row=2 + skip_rows)


def _unclosed_quote(path: Path, encoding: str, sep: str) -> tuple[int, str] | None:
    """(physical line, the text from the opening quote, cut at 40 characters) of a quoted value never closed.

    Read as the CSV reader reads: a quote opens a value only at the start of a field; inside
    one, a doubled quote is a quote and a single one closes it. None when every quote closes
    (or the file cannot be read again).
    """
    try:
        with open(path, encoding=encoding, newline="") as f:
            text = f.read()
    except (OSError, UnicodeError, LookupError):
        return None
    line, opened, i, n = 1, None, 0, len(text)
    field_start = True
    while i < n:
        c = text[i]
        if opened is None:
            if c == '"' and field_start:
                opened = (line, i)
                field_start = False
            elif text.startswith(sep, i):
                field_start = True
                i += len(sep)
                continue
            else:
                field_start = c in "\r\n"
        elif c == '"':
            if text.startswith('"', i + 1):
                i += 2
                continue
            opened = None
        if c == "\n" or (c == "\r" and not text.startswith("\n", i + 1)):
            line += 1
        i += 1
    if opened is None:
        return None
    start = text[opened[1] :].split("\n", 1)[0].rstrip("\r")
    return opened[0], start if len(start) <= 40 else start[:40] + "..."


def _read_csv_arrow(path: Path, sep: str) -> pd.DataFrame | None:
    """Fast path of :func:`read_csv` (UTF-8, one-character separator, no ``skip_rows``).

    Reads with pyarrow's multi-threaded CSV parser, every column as text. Used only
    when the result is certain to equal the default (pandas C engine) path: every
    physical line is one record (no blank lines, no line breaks inside quoted
    values, no lone carriage returns), no NUL bytes, valid UTF-8, every row as wide
    as the header. Anything else returns ``None`` and the caller takes the default
    path, which also produces the error messages.

    Returns
    -------
    pandas.DataFrame or None
        As :func:`read_csv` returns it, or ``None`` when the fast path does not apply.
    """
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        return None
    data = path.read_bytes()
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    if not data or b"\x00" in data or (b"\r" in data and data.count(b"\r") != data.count(b"\r\n")):
        return None
    if not data.endswith(b"\n"):
        data += b"\n"  # so that an unterminated quote at the end holds a line break (refused below)
    lines = data.count(b"\n")
    end = data.find(b"\n")
    width = data[: end if end >= 0 else len(data)].count(sep.encode("utf-8")) + 1  # >= the header's fields
    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            # the columns (about twice the file) in malloc's memory, not Arrow's mimalloc pool: mimalloc
            # asks for transparent huge pages, whose first touch the kernel may compact memory for
            # (0.3-1.0 s of system CPU for 1,000,000 deals on a busy box; docs/batch.md, session 17)
            memory_pool=pa.system_memory_pool(),
            read_options=pacsv.ReadOptions(autogenerate_column_names=True),
            parse_options=pacsv.ParseOptions(
                delimiter=sep,
                quote_char='"',
                double_quote=True,
                escape_char=False,
                newlines_in_values=False,
                ignore_empty_lines=True,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={f"f{i}": pa.large_string() for i in range(width)},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException, ValueError):
        return None
    del data
    if table.num_rows != lines or not table.num_columns or any(t != pa.large_string() for t in table.schema.types):
        return None  # a blank line or a line break inside a value: row numbers need the default path
    # With as many rows as lines, only the last record can hold a line break (an
    # unterminated quote running to the end of the file): the default path refuses it.
    if any(("\n" in v or "\r" in v) for v in table.slice(table.num_rows - 1).to_pylist()[0].values()):
        return None
    header = _header(table.slice(0, 1).to_pylist()[0].values(), str(path))
    body = table.slice(1)
    df = pd.DataFrame({n: body.column(i).to_pandas().astype("str") for i, n in enumerate(header)})
    return _finish(df, first_row=2)


def _xlsx_cell(c: object) -> str:
    v = getattr(c, "value", None)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        fmt = getattr(c, "number_format", "") or ""
        if re.fullmatch(r"0+", fmt) and float(v).is_integer():
            return str(int(v)).zfill(len(fmt))  # custom format '00000': the sheet shows 00731
    if isinstance(v, float):
        return _float_text(v)
    if v is None:
        return ""
    if isinstance(v, datetime.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, datetime.date):
        return v.isoformat()
    return str(v)


def _read_xlsx(path: Path, sheet: str | int | None, first_row: int) -> pd.DataFrame:
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise MappingError(
            f"{path}: cannot open as xlsx workbook ({type(exc).__name__}: {exc})",
            hint="check format: (xls for Excel 97-2003, xlsx for newer files)",
        ) from None
    try:
        names = list(book.sheetnames)
        ws = book[_pick_sheet(path, sheet, names)]
        if getattr(ws, "max_row", None) is None:
            ws.reset_dimensions()
        rows = [[_xlsx_cell(c) for c in row] for row in ws.iter_rows()]
    finally:
        book.close()
    skip = first_row - 2
    rows = rows[skip:]
    width = max((len(r) for r in rows), default=0)
    rows = [r + [""] * (width - len(r)) for r in rows]
    while rows and not any(x.strip() for x in rows[-1]):
        rows.pop()
    if not rows:
        raise DataError(f"{path}: sheet {sheet!r} is empty", [DataProblem(str(path), None, None, None, "no header row")])
    # trailing columns without header and without data (formatting only) are not columns
    while width and rows[0][width - 1].strip() == "" and not any(r[width - 1].strip() for r in rows[1:]):
        width -= 1
    header = _header(list(rows[0][:width]), str(path))
    df = pd.DataFrame({n: pd.array([r[i] for r in rows[1:]], dtype="str") for i, n in enumerate(header)})
    return _finish(df, first_row)


def _pick_sheet(path: Path, sheet: str | int | None, names: list[str]) -> str:
    if sheet is None:
        return names[0]
    if isinstance(sheet, str) and sheet not in names:
        raise MappingError(
            f"{path}: no sheet {sheet!r}{did_you_mean(sheet, names)}",
            hint=f"sheets in this workbook: {', '.join(names)}",
        )
    if isinstance(sheet, int):
        if not 0 <= sheet < len(names):
            raise MappingError(f"{path}: no sheet number {sheet}", hint=f"it has {len(names)} sheets")
        return names[sheet]
    return sheet


def _is_zip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == b"PK\x03\x04"


def read_excel(path: str | Path, *, sheet: str | int | None = None, fmt: str | None = None, skip_rows: int = 0) -> pd.DataFrame:
    """Read one sheet of an ``.xlsx`` (openpyxl) or ``.xls`` (pandas' ``calamine`` engine) workbook as text.

    Parameters
    ----------
    path : str or Path
    sheet : str or int, optional
        Sheet name (or 0-based position); the first sheet when omitted.
    fmt : {"xlsx", "xls"}, optional
        Engine choice; from the extension when omitted.
    skip_rows : int, default 0
        Rows above the header to skip.

    Returns
    -------
    pandas.DataFrame
        Text cells: text cells as typed (``00731`` stays ``00731``), numbers as
        their shortest text without exponent (``1``, ``22.368``), whole numbers
        shown with a zero-padding number format such as ``00000`` as the sheet
        shows them (xlsx), dates as ISO text (``2013-11-08 00:00:00``), empty
        cells ``""``; plus ``_source_row``. Blank rows are skipped.

    Raises
    ------
    MappingError
        Missing file, missing sheet (the message lists the sheets), unreadable workbook.
    """
    path = Path(path)
    _check_file(path)
    fmt = fmt or format_of(path)
    if fmt not in ("xlsx", "xls"):
        raise MappingError(f"{path}: format {fmt!r} is not a workbook format", hint="use xlsx or xls")
    if fmt == "xlsx":
        return _read_xlsx(path, sheet, 2 + skip_rows)
    if _is_zip(path):  # calamine would read it, but without the number formats the xlsx reader honours (00731)
        raise MappingError(
            f"{path} is an xlsx workbook (Excel 2007 or newer), not xls",
            hint="rename the file to .xlsx (and its file: in the source mapping)",
        )
    try:
        book = pd.ExcelFile(path, engine="calamine")
    except Exception as exc:
        raise MappingError(
            f"{path}: cannot open as {fmt} workbook ({type(exc).__name__}: {exc})",
            hint="check format: (xls for Excel 97-2003, xlsx for newer files)",
        ) from None
    with book:
        name = _pick_sheet(path, sheet, list(book.sheet_names))
        raw = pd.read_excel(
            book, sheet_name=name, dtype=object, keep_default_na=False, na_filter=False, header=None, skiprows=skip_rows or None
        )
    if raw.empty:
        raise DataError(f"{path}: sheet {name!r} is empty", [DataProblem(str(path), None, None, None, "no header row")])
    header = raw.iloc[0].tolist()
    body = raw.iloc[1:].reset_index(drop=True)
    body.columns = range(body.shape[1])
    body = body.rename(columns=dict(enumerate(header)))
    return _text_frame(body, first_row=2 + skip_rows)


def read_parquet(path: str | Path) -> pd.DataFrame:
    """Read a Parquet file; every column is converted to text (see :func:`read_excel`).

    Raises
    ------
    MappingError
        Missing or unreadable file.
    """
    path = Path(path)
    _check_file(path)
    try:
        raw = pd.read_parquet(path)
    except Exception as exc:
        raise MappingError(f"{path}: cannot read as parquet ({type(exc).__name__}: {exc})") from None
    return _text_frame(raw)


def read_sql(url: str, query: str) -> pd.DataFrame:
    """Run ``query`` against the SQLAlchemy database ``url``; cells as text.

    Parameters
    ----------
    url : str
        SQLAlchemy URL, e.g. ``sqlite:///data/sales.db``.
    query : str
        A ``SELECT`` statement. Result row *n* gets ``_source_row`` *n + 1*.

    Raises
    ------
    MappingError
        Bad URL, unreachable database or failing query (the message names both).
    """
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(url)
    except Exception as exc:
        raise MappingError(
            f"sql source {url!r}: bad database URL ({exc})", hint="write an SQLAlchemy URL such as sqlite:///path/to/file.db"
        ) from None
    try:
        with engine.connect() as conn:
            raw = pd.read_sql_query(sa.text(query), conn, dtype=object, coerce_float=False)
    except Exception as exc:
        msg = str(exc).splitlines()[0]
        raise MappingError(
            f"sql source {url!r}: query failed: {msg}", hint="check url: and query: in the source mapping"
        ) from None
    finally:
        engine.dispose()
    return _text_frame(raw)


def read_source(
    path: str | Path | None = None,
    *,
    format: str | None = None,
    encoding: str = "utf-8",
    sep: str = ",",
    sheet: str | int | None = None,
    url: str | None = None,
    query: str | None = None,
    skip_rows: int = 0,
) -> pd.DataFrame:
    """Read any supported source as an all-text frame with ``_source_row``.

    Parameters
    ----------
    path : str or Path, optional
        The file (not used for ``sql``).
    format : {"csv", "xlsx", "xls", "parquet", "sql"}, optional
        From the extension when omitted (``sql`` when ``url`` is given).
    encoding, sep : str
        CSV only.
    sheet : str or int, optional
        Workbooks only.
    url, query : str, optional
        SQL only.
    skip_rows : int, default 0
        CSV and workbooks: lines above the header to skip.

    Raises
    ------
    MappingError
        Unknown format, missing file / sheet, undecodable text, failing query.
    DataError
        A malformed CSV.
    """
    if format is None:
        format = "sql" if url is not None else format_of(path or "")
    if format not in FORMATS:
        raise MappingError(
            f"unknown source format {format!r}{did_you_mean(format, FORMATS)}", hint=f"allowed: {', '.join(FORMATS)}"
        )
    if format == "sql":
        if not url or not query:
            raise MappingError("an sql source needs both url: and query:")
        return read_sql(url, query)
    if path is None:
        raise MappingError(f"a {format} source needs file:")
    if format == "csv":
        return read_csv(path, encoding=encoding, sep=sep, skip_rows=skip_rows)
    if format in ("xlsx", "xls"):
        return read_excel(path, sheet=sheet, fmt=format, skip_rows=skip_rows)
    return read_parquet(path)
