"""The reportkit exception tree.

Every error reportkit raises on purpose is a :class:`ReportkitError`. The tree
separates *bad input* (the user can fix a file, a parameter or a plan) from a
*broken environment* (a kernel is missing, a folder is not writable), so the CLI
can map each branch to its own exit code and a one-line message with the fix::

    ReportkitError
    ├── InputError                 exit code 2: fix the input and run again
    │   ├── ParamsError            params YAML / command-line values
    │   ├── MappingError           a source mapping YAML
    │   ├── DataError              rows of a data file (carries every problem)
    │   ├── PlanError              a commission plan YAML
    │   └── PeriodError            a period label or date outside the calendar
    ├── EnvironmentError_          exit code 3: fix the machine, not the data
    │   ├── KernelNotFoundError
    │   ├── TemplateError          template missing or without a parameters cell
    │   └── OutputError            output folder not writable, disk full
    ├── ReportFailed               exit code 1: one or more reports of a batch failed
    └── BatchInterrupted           exit code 130: Ctrl-C; the manifest lists what ran

Messages name the bad value, the allowed set and the fix, e.g.::

    params/demo.yaml: key 'perod' is not allowed; did you mean 'period'?
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "ReportkitError",
    "InputError",
    "ParamsError",
    "MappingError",
    "DataError",
    "DataProblem",
    "PlanError",
    "PeriodError",
    "EnvironmentError_",
    "KernelNotFoundError",
    "TemplateError",
    "OutputError",
    "ReportFailed",
    "BatchInterrupted",
    "closest",
    "did_you_mean",
]


class ReportkitError(Exception):
    """Root of every error reportkit raises on purpose.

    Attributes
    ----------
    exit_code : int
        Process exit code the CLI uses for this class of error.
    hint : str or None
        What the user should do about it, shown after the message.
    """

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if hint is None else f"{message} ({hint})")


class InputError(ReportkitError):
    """Bad input: parameters, mappings, data or plans. Fix the input and rerun."""

    exit_code = 2


class ParamsError(InputError):
    """A parameters file or a command-line parameter is invalid."""


class MappingError(InputError):
    """A source mapping is invalid or does not match the file it maps."""


class PlanError(InputError):
    """A commission plan is invalid."""


class PeriodError(InputError):
    """A period label cannot be parsed or lies outside the data's calendar."""


@dataclass(frozen=True)
class DataProblem:
    """One bad cell (or row) found while validating a table.

    Attributes
    ----------
    file : str
        Source file (or ``table`` name for SQL / in-memory sources).
    row : int or None
        1-based row number *as a spreadsheet user counts it*: the header is
        row 1, the first data row is row 2. ``None`` when the problem concerns
        the whole column or table.
    column : str or None
        Column name in the *source* file (before mapping) when known.
    value : object
        The offending value, as read; None for a blank cell (shown as ``blank``), or for a
        problem of a whole column, row or file (no row or no column: no value is shown).
    reason : str
        What is wrong and what is allowed, e.g. ``"not a date in format %Y-%m-%d"``.
    """

    file: str
    row: int | None
    column: str | None
    value: object
    reason: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column {self.column!r}"
        if self.value is None and (self.row is None or self.column is None):
            return f"{where}: {self.reason}"  # a whole column, row or file: there is no cell to show
        return f"{where}: value {'blank' if self.value is None else repr(self.value)}: {self.reason}"


class DataError(InputError):
    """A data table failed validation; :attr:`problems` lists every bad cell.

    Validation is lazy: all problems of a table are collected before raising,
    so one run shows every bad row rather than the first one.
    """

    def __init__(
        self,
        message: str,
        problems: Sequence[DataProblem] = (),
        *,
        hint: str | None = None,
        max_listed: int = 20,
    ) -> None:
        self.problems = list(problems)
        lines = [message]
        for p in self.problems[:max_listed]:
            lines.append(f"  - {p}")
        if len(self.problems) > max_listed:
            lines.append(f"  ... and {len(self.problems) - max_listed} more problems")
        super().__init__("\n".join(lines), hint=hint)


class EnvironmentError_(ReportkitError):
    """The machine, not the input, is at fault (missing kernel, unwritable folder)."""

    exit_code = 3


class KernelNotFoundError(EnvironmentError_):
    """The Jupyter kernel a template names is not installed."""


class TemplateError(EnvironmentError_):
    """A template notebook is missing, unreadable or has no ``parameters`` cell."""


class OutputError(EnvironmentError_):
    """An output file or folder could not be written."""


class ReportFailed(ReportkitError):
    """One or more reports of a batch failed; the others were still written."""

    exit_code = 1


class BatchInterrupted(ReportkitError):
    """The user interrupted a batch (Ctrl-C); finished reports and the manifest were written."""

    exit_code = 130


_LOOKALIKE = str.maketrans({"o": "0", "i": "1", "l": "1", "_": "-", " ": "-", ".": "-", "/": "-"})


def _normalised(text: str) -> str:
    """``text`` as a reader's typo sees it: case folded, O as 0, I and l as 1, separators as one ``-``."""
    return str(text).strip().casefold().translate(_LOOKALIKE)


def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance with adjacent transpositions (``peroid`` -> ``period`` is 1)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            d = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                d = min(d, prev2[j - 2] + 1)
            cur.append(d)
        prev2, prev = prev, cur
    return prev[-1]


def closest(value: str, allowed: Iterable[str]) -> str | None:
    """The allowed value nearest ``value``, or None when none is near enough to be a typo of it.

    Nearest by edit distance on the normalised texts (case, ``O``/``0``, ``I``/``l``/``1`` and
    separators count as the same), then on the texts as written, then the first given. Near
    enough: less than a third of the longer text's characters differ (one at least), or one
    text begins with the other (``amount`` for ``amount_cents``).

    Examples
    --------
    >>> closest("AM-0O1", ["AM-012", "AM-001", "AM-010"])
    'AM-001'
    >>> closest("AM-999", ["AM-001", "AM-012"]) is None
    True
    >>> closest("amount", ["amount_micros", "amount_cents", "close_date"])
    'amount_cents'
    """
    v = _normalised(value)
    best: tuple[int, int, int] | None = None
    found = None
    for i, a in enumerate(dict.fromkeys(str(x) for x in allowed)):
        n = _normalised(a)
        d = _edit_distance(v, n)
        if d > max(1, (max(len(v), len(n)) - 1) // 3) and not (min(len(v), len(n)) >= 3 and (n.startswith(v) or v.startswith(n))):
            continue
        key = (d, _edit_distance(str(value).strip(), a), i)
        if best is None or key < best:
            best, found = key, a
    return found


def did_you_mean(value: str, allowed: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest allowed value (:func:`closest`), or ``""``.

    Examples
    --------
    >>> did_you_mean("perod", ["period", "as_of"])
    "; did you mean 'period'?"
    >>> did_you_mean("AM-0O1", ["AM-001", "AM-012"]), did_you_mean("AM-999", ["AM-001"])
    ("; did you mean 'AM-001'?", '')
    """
    match = closest(value, allowed)
    return f"; did you mean {match!r}?" if match is not None and match != str(value) else ""
