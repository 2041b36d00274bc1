"""Readers that turn a source (file or SQL query) into a raw, all-text DataFrame.

Every reader returns the cells **as text** (``str`` dtype, no type guessing, no
implicit missing values: ``NA``, ``NULL`` and ``-`` stay literal strings; an empty
cell is the empty string ``""``). Interpreting text -- placeholders, dates,
amounts -- is the mapping's job, declared in the source-mapping YAML.

Each frame also gets a ``_source_row`` column: the row number as a spreadsheet
user counts it (header = row 1, first data row = 2; for SQL, row 1 is the first
result row's "header" so the first result row is 2 as well, to keep one rule).

Supported formats: ``csv`` (any Python encoding, e.g. ``utf-8``, ``utf-8-sig``,
``utf-16``, ``cp1252``; any separator), ``xlsx`` (openpyxl), ``xls`` (xlrd),
``parquet`` (pyarrow) and ``sql`` (SQLAlchemy URL + query).
"""

from __future__ import annotations

import codecs
import datetime
import warnings
from pathlib import Path
from typing import Literal

import pandas as pd

from .errors import DataError, DataProblem, MappingError, did_you_mean

__all__ = ["FORMATS", "SOURCE_ROW", "read_csv", "read_excel", "read_parquet", "read_sql", "read_source", "format_of"]

SOURCE_ROW = "_source_row"
FORMATS = ("csv", "xlsx", "xls", "parquet", "sql")
Format = Literal["csv", "xlsx", "xls", "parquet", "sql"]
_EXT = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xls",
        ".parquet": "parquet", ".pq": "parquet"}


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


def _text_frame(df: pd.DataFrame) -> pd.DataFrame:
    """All cells as text ('' for empty), columns as stripped-of-nothing str, plus _source_row."""
    def cell(v: object) -> str:
        if v is None:
            return ""
        if isinstance(v, float):
            if v != v:  # NaN
                return ""
            return repr(int(v)) if v.is_integer() else repr(v)
        if isinstance(v, (pd.Timestamp, datetime.datetime)):
            return v.isoformat(sep=" ")
        if isinstance(v, datetime.date):
            return v.isoformat()
        if v is pd.NaT:
            return ""
        return str(v)

    out = pd.DataFrame({str(c): pd.array([cell(v) for v in df[c].tolist()], dtype="str") for c in df.columns})
    out[SOURCE_ROW] = pd.array(range(2, len(out) + 2), dtype="int64")
    return out


def read_csv(path: str | Path, *, encoding: str = "utf-8", sep: str = ",") -> pd.DataFrame:
    """Read a delimited text file with every cell as text.

    Parameters
    ----------
    path : str or Path
    encoding : str, default ``"utf-8"``
        Any Python codec: ``utf-8-sig`` (BOM), ``utf-16`` (BOM picks the byte
        order), ``cp1252`` ... A UTF-8 BOM is removed from the first header with
        ``utf-8`` too.
    sep : str, default ``","``

    Returns
    -------
    pandas.DataFrame
        Source columns (``str``; empty cells are ``""``) plus ``_source_row``
        (int64, header = 1, first data row = 2).

    Raises
    ------
    MappingError
        Missing file, unknown encoding name, or text that does not decode with
        ``encoding`` (the message names the byte offset and suggests encodings).
    DataError
        A row with more fields than the header.
    """
    path = Path(path)
    _check_file(path)
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise MappingError(f"{path}: unknown encoding {encoding!r}",
                           hint="use e.g. utf-8, utf-8-sig, utf-16 or cp1252") from None
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
        encoding = "utf-8-sig"  # tolerate a BOM; it is never data
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, encoding=encoding,
                         sep=sep, engine="c" if len(sep) == 1 else "python")
    except UnicodeDecodeError as exc:
        raise MappingError(
            f"{path}: not readable as {encoding} ({exc.reason} at byte {exc.start})",
            hint="set encoding: in the source mapping (utf-16 for files that start with a BOM FF FE, "
                 "cp1252 for Windows 'ANSI' exports, utf-8-sig for Excel CSV UTF-8)",
        ) from None
    except pd.errors.ParserError as exc:
        raise DataError(f"{path}: cannot be parsed as {sep!r}-separated text",
                        [DataProblem(str(path), None, None, None, str(exc).strip())],
                        hint="check sep: and quoting in the file") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty",
                        [DataProblem(str(path), None, None, None, "no header row")]) from None
    df.columns = [str(c) for c in df.columns]
    df = df.astype("str")
    df[SOURCE_ROW] = pd.array(range(2, len(df) + 2), dtype="int64")
    return df


def read_excel(path: str | Path, *, sheet: str | int | None = None, fmt: str | None = None) -> pd.DataFrame:
    """Read one sheet of an ``.xlsx`` (openpyxl) or ``.xls`` (xlrd) workbook as text.

    Parameters
    ----------
    path : str or Path
    sheet : str or int, optional
        Sheet name (or 0-based position); the first sheet when omitted.
    fmt : {"xlsx", "xls"}, optional
        Engine choice; from the extension when omitted.

    Returns
    -------
    pandas.DataFrame
        Text cells: numbers as their shortest text (``1``, ``22.368``), dates as
        ISO text (``2013-11-08 00:00:00``), empty cells ``""``; plus ``_source_row``.

    Raises
    ------
    MappingError
        Missing file, missing sheet (the message lists the sheets), unreadable workbook.
    """
    path = Path(path)
    _check_file(path)
    fmt = fmt or format_of(path)
    engine = {"xlsx": "openpyxl", "xls": "xlrd"}.get(fmt)
    if engine is None:
        raise MappingError(f"{path}: format {fmt!r} is not a workbook format", hint="use xlsx or xls")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = pd.ExcelFile(path, engine=engine)
    except Exception as exc:  # noqa: BLE001 - engines raise many unrelated types
        raise MappingError(f"{path}: cannot open as {fmt} workbook ({type(exc).__name__}: {exc})",
                           hint="check format: (xls for Excel 97-2003, xlsx for newer files)") from None
    with book:
        names = list(book.sheet_names)
        if sheet is None:
            sheet = names[0]
        if isinstance(sheet, str) and sheet not in names:
            raise MappingError(
                f"{path}: no sheet {sheet!r}{did_you_mean(sheet, names)}",
                hint=f"sheets in this workbook: {', '.join(names)}",
            )
        if isinstance(sheet, int) and not 0 <= sheet < len(names):
            raise MappingError(f"{path}: no sheet number {sheet}", hint=f"it has {len(names)} sheets")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw = book.parse(sheet, dtype=object, keep_default_na=False, na_filter=False, header=0)
    return _text_frame(raw)


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
    except Exception as exc:  # noqa: BLE001
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
    except Exception as exc:  # noqa: BLE001
        raise MappingError(f"sql source {url!r}: bad database URL ({exc})",
                           hint="write an SQLAlchemy URL such as sqlite:///path/to/file.db") from None
    try:
        with engine.connect() as conn:
            raw = pd.read_sql_query(sa.text(query), conn, dtype=object, coerce_float=False)
    except Exception as exc:  # noqa: BLE001
        msg = str(exc).splitlines()[0]
        raise MappingError(f"sql source {url!r}: query failed: {msg}",
                           hint="check url: and query: in the source mapping") from None
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
        raise MappingError(f"unknown source format {format!r}{did_you_mean(format, FORMATS)}",
                           hint=f"allowed: {', '.join(FORMATS)}")
    if format == "sql":
        if not url or not query:
            raise MappingError("an sql source needs both url: and query:")
        return read_sql(url, query)
    if path is None:
        raise MappingError(f"a {format} source needs file:")
    if format == "csv":
        return read_csv(path, encoding=encoding, sep=sep)
    if format in ("xlsx", "xls"):
        return read_excel(path, sheet=sheet, fmt=format)
    return read_parquet(path)
