"""Reading a mapping's sources: the load context, raw text frames, placeholders and replacements.

Steps 1-3 of a table (:mod:`reportkit.data.mapping`): every ``source`` is read once
per load (a cache keyed by file and read options) into a frame of text with its
provenance (``_source_file``, ``_source_row``: header = 1, first data row = 2);
``skip_footer`` drops declared footer rows with a warning; ``na_values`` marks
placeholder texts missing and ``normalise`` replaces exact values. The context
also collects the load's problems and warnings (:attr:`Dataset.warnings`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ...core.errors import DataProblem, MappingError, did_you_mean
from .. import model
from ..sources import blank_cells, format_of, read_source
from .schema import Source, SourceMapping

_ROW = model.SOURCE_ROW
_FILE = model.SOURCE_FILE


@dataclass
class _Context:
    mapping: SourceMapping
    mapping_file: str
    cache: dict[tuple, pd.DataFrame] = field(default_factory=dict)
    problems: list[DataProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    changes: dict[tuple[str, str], int] = field(default_factory=dict)  # (table, kind) -> rows or cells

    def note(self, text: str, change: tuple[str, str, int] | None = None) -> None:
        """Record a warning once; ``change`` = (table, kind, count) counts it in :attr:`Dataset.load_changes`."""
        if text not in self.notes:
            self.notes.append(text)
            if change is not None:
                key = (change[0], change[1])
                self.changes[key] = self.changes.get(key, 0) + int(change[2])

    def read(self, src: Source, table: str) -> pd.DataFrame:
        """Raw text frame of ``src`` with ``_source_row`` and ``_source_file``."""
        base = self.mapping.data_path
        if src.inline is not None:
            keys: list[str] = []
            for row in src.inline:
                keys.extend(k for k in row if k not in keys)
            df = pd.DataFrame({k: pd.array([r.get(k, "") for r in src.inline], dtype="str") for k in keys})
            df[_ROW] = pd.array(range(2, len(df) + 2), dtype="int64")
            df[_FILE] = f"{self.mapping_file} ({table} inline rows)"
            return df
        if src.url is not None:
            url = src.url
            m = re.match(r"^(sqlite[^:]*:///)(?!/)(.+)$", url)
            if m and m.group(2) != ":memory:":
                url = m.group(1) + str(base / m.group(2))
            key = ("sql", url, src.query)
            label = f"{src.url} (query)"
        else:
            path = base / src.file
            if not path.exists() and not base.is_dir():
                raise self.mapping.missing_data_dir(self.mapping_file)
            fmt = src.format or format_of(path)
            key = (str(path), fmt, src.encoding, src.sep, src.sheet, src.skip_rows)
            label = str(path) + (f"[{src.sheet}]" if src.sheet else "")
        if key not in self.cache:
            if key[0] == "sql":
                df = read_source(url=key[1], query=src.query, format="sql")
            else:
                df = read_source(path, format=fmt, encoding=src.encoding, sep=src.sep, sheet=src.sheet, skip_rows=src.skip_rows)
            df[_FILE] = _text_constant(label, df.index)
            self.cache[key] = df
        df = self.cache[key].copy()
        if src.skip_footer:
            if src.skip_footer > len(df):
                raise MappingError(
                    f"{label}: skip_footer: {src.skip_footer} but the source has only {len(df)} non-blank data rows",
                    hint="lower skip_footer:",
                )
            footer = df.iloc[len(df) - src.skip_footer :]
            for _, r in footer.iterrows():
                cells = " | ".join(str(r[c]) for c in df.columns if not str(c).startswith("_source"))
                self.note(f"{label}: footer row {int(r[_ROW])} skipped (skip_footer): {cells}", (table, "skipped", 1))
            df = df.iloc[: len(df) - src.skip_footer].reset_index(drop=True)
        return df


def _text_constant(value: str | None, index: pd.Index) -> pd.Series:
    """A text column (``str`` dtype) of ``value`` in every row (missing for None), as
    ``pd.Series(value, index=index, dtype="str")`` is, made by Arrow without a Python object per row."""
    import pyarrow as pa

    cells = (
        pa.nulls(len(index), pa.large_string()) if value is None else pa.repeat(pa.scalar(value, pa.large_string()), len(index))
    )
    return pd.Series(pd.array(cells, dtype="str"), index=index)


def _missing(s: pd.Series) -> np.ndarray:
    return blank_cells(s)


def _apply_na(df: pd.DataFrame, na_values: list[str], columns: list[str]) -> pd.DataFrame:
    na = set(na_values)
    for c in columns:
        s = df[c]
        mask = blank_cells(s)
        if na:
            mask |= (s.isin(na) | s.astype("str").str.strip().isin(na)).to_numpy(dtype=bool)
        if mask.any():
            df[c] = s.where(~mask, None)
    return df


def _apply_normalise(df: pd.DataFrame, normalise: dict[str, dict[str, str]]) -> pd.DataFrame:
    for col, repl in normalise.items():
        df[col] = df[col].replace(repl)
    return df


def _require_columns(df: pd.DataFrame, needed: list[str], label: str, where: str) -> None:
    have = [c for c in df.columns if not str(c).startswith("_source")]
    missing = [c for c in dict.fromkeys(needed) if c not in df.columns]
    if missing:
        lines = [f"{label}: no column {c!r}{did_you_mean(c, have)} (needed by {where})" for c in missing]
        raise MappingError("\n".join(lines), hint=f"columns in this source: {', '.join(have)}")
