"""Who ``reportkit deliver`` sends to: the roster file, read and checked before anything heavy is imported.

A roster is a CSV (header row first) or a YAML list, one recipient per row::

    id,role,name,email,team
    AM-001,account_manager,Alice Andersen,alice.andersen@example.com,
    maria.keller,sales_manager,Maria Keller,maria.keller@example.com,Team North
    cfo,management,Chris Finance,cfo@example.com,

Every bad row is listed at once (file, row, column, value, fix) in one
:class:`~reportkit.core.errors.DataError` (exit code 2), before any message is
sent: a missing or malformed address, an unknown role, a recipient listed twice
with different addresses, an address outside the domain allow-list. This module
imports only the standard library and YAML, so ``reportkit deliver`` refuses a bad
roster in well under a second (issue #19, item 8). The rules: ``docs/delivery.md``.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import DataError, DataProblem, ParamsError, did_you_mean
from ..core.words import counted

__all__ = ["ROLES", "ROSTER_COLUMNS", "Recipient", "check_addresses", "read_manifest", "read_roster"]

ROLES: tuple[str, ...] = ("account_manager", "sales_manager", "management")
"""The roles a recipient may have; each role's pack is in :mod:`reportkit.run.deliver`."""

ROSTER_COLUMNS: tuple[str, ...] = ("id", "role", "name", "email", "team")
"""A roster's columns: ``id``, ``role`` and ``email`` are required, ``name`` and ``team`` optional."""

_REQUIRED = ("id", "role", "email")

# One address, no display name, no comments: local part (RFC 5322 atext and dots), @, a domain of labels.
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)


@dataclass(frozen=True)
class Recipient:
    """One reader of a batch.

    Attributes
    ----------
    id : str
        An account manager's id as in the data (``AM-001``); for a sales manager or
        management any stable id of the person (``maria.keller``, ``cfo``).
    role : {"account_manager", "sales_manager", "management"}
    name : str
        How the message greets them (default: the id).
    email : str
        The one address their pack goes to.
    teams : tuple of str
        A sales manager's teams: each its name in the data (``Team North``) or its report
        id (``team-north``); default the ``id``. A manager of two teams has two rows (same
        id and address), read as one recipient with both. Empty for the other roles.
    source : str
        Where the recipient was read: ``roster.csv, row 3``.
    """

    id: str
    role: str
    name: str
    email: str
    teams: tuple[str, ...]
    source: str

    @property
    def key(self) -> str:
        """``role:id``: one recipient of the delivery log."""
        return f"{self.role}:{self.id}"

    @property
    def domain(self) -> str:
        """The address's domain, lower case."""
        return self.email.rsplit("@", 1)[-1].lower()


def read_manifest(out: str | Path) -> dict[str, Any]:
    """The batch's ``DIR/manifest.json``, checked to be one.

    Raises
    ------
    ParamsError
        ``DIR`` is not a folder, has no ``manifest.json`` or an unreadable one (exit code 2).
    """
    path = Path(out) / "manifest.json"
    if not Path(out).is_dir():
        raise ParamsError(f"{out}: no such folder", hint="give the folder a batch wrote: reportkit batch PARAMS -o DIR")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ParamsError(
            f"{path}: missing; {out} is not a batch's output folder",
            hint="give the folder a batch wrote: reportkit batch PARAMS -o DIR",
        ) from None
    except (OSError, ValueError) as exc:
        raise ParamsError(f"{path}: not readable as JSON ({exc})", hint="run the batch again into that folder") from None
    if not isinstance(data, dict) or not isinstance(data.get("reports"), list) or not isinstance(data.get("batch"), dict):
        raise ParamsError(f"{path}: not a reportkit manifest (no batch and reports)", hint="run the batch again")
    return data


def _rows(path: Path) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    """The roster's columns and its rows with their spreadsheet row numbers (YAML: entry numbers from 2)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ParamsError(f"{path}: cannot read the roster ({exc.strerror or exc})", hint="check the --roster path") from None
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text, newline=""))
        columns = [str(c).strip() for c in (reader.fieldnames or [])]
        rows = [(n, {str(k).strip(): v for k, v in row.items() if k is not None}) for n, row in enumerate(reader, start=2)]
        return columns, rows
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ParamsError(f"{path}: not valid YAML: {exc}") from None
        if isinstance(data, dict) and "recipients" in data:
            data = data["recipients"]
        if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
            raise ParamsError(
                f"{path}: a roster is a list of recipients (id, role, name, email)",
                hint="write '- {id: AM-001, role: account_manager, email: a@example.com}' per recipient",
            )
        columns = list(dict.fromkeys(str(k) for d in data for k in d))
        return columns, [(n, {str(k): v for k, v in d.items()}) for n, d in enumerate(data, start=2)]
    raise ParamsError(f"{path}: a roster is a .csv, .yaml or .yml file", hint="save it as CSV with a header row")


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def read_roster(path: str | Path, allowed_domains: Iterable[str] | None = None) -> list[Recipient]:
    """Read and check a roster file (CSV or YAML); every bad row is listed at once.

    Parameters
    ----------
    path : str or Path
        ``.csv`` with a header row, or ``.yaml`` / ``.yml``: a list of mappings (or
        ``recipients:`` holding one). Columns :data:`ROSTER_COLUMNS`. Rows are numbered
        as a spreadsheet counts them (header = row 1); a YAML list's first entry is row 2 too.
    allowed_domains : iterable of str, optional
        When given, every address's domain must be one of them (exactly, any case).

    Returns
    -------
    list of Recipient
        In file order; a row repeating an earlier one (same role, id and address) adds its
        team to a sales manager and is otherwise dropped.

    Raises
    ------
    DataError
        Unknown or missing columns; per row: empty ``id``, a role not in :data:`ROLES`, a
        missing or malformed address (one plain ``name@domain``; no display name, no list),
        an address outside ``allowed_domains``, a recipient (role and id) listed twice with
        different addresses. Each problem names the file, row, column, value and the fix.
    ParamsError
        The file is missing, not CSV/YAML, or not a list.
    """
    path = Path(path)
    columns, rows = _rows(path)
    where = str(path)
    problems: list[DataProblem] = []
    for c in columns:
        if c not in ROSTER_COLUMNS:
            problems.append(
                DataProblem(
                    where,
                    1,
                    c,
                    c,
                    f"unknown column{did_you_mean(c, ROSTER_COLUMNS)}; the columns are {', '.join(ROSTER_COLUMNS)}",
                )
            )
    found = ", ".join(columns) or "none"
    csv_file = path.suffix.lower() == ".csv"
    for c in _REQUIRED:
        if c not in columns:
            if csv_file:
                reason = f"required column {c!r} is missing from the file's header row (columns found: {found}); add a column named {c!r} to the header row"
            else:
                reason = f"required key {c!r} is missing from every entry (keys found: {found}); give each recipient its {c!r}"
            problems.append(DataProblem(where, None, c, None, reason))  # a whole column: no cell, no value
    if problems:
        raise DataError(f"{where}: the roster's columns are wrong", problems)
    allowed = {d.lower() for d in allowed_domains} if allowed_domains is not None else None
    seen: dict[tuple[str, str], tuple[int, str, int]] = {}  # (role, id) -> row, address, index in recipients
    recipients: list[Recipient] = []
    for row, values in rows:
        rid, role, email = (_text(values.get(c)) for c in _REQUIRED)
        name, team = _text(values.get("name")) or rid, _text(values.get("team")) or None
        bad = len(problems)
        if not rid:
            problems.append(
                DataProblem(
                    where,
                    row,
                    "id",
                    values.get("id"),
                    "empty id; give the account manager's id as in the data, or the person's id",
                )
            )
        if role not in ROLES:
            problems.append(
                DataProblem(
                    where,
                    row,
                    "role",
                    values.get("role"),
                    f"unknown role{did_you_mean(role, ROLES)}; use one of {', '.join(ROLES)}",
                )
            )
        problems += _address_problems(where, row, values.get("email"), email, allowed)
        if len(problems) > bad:
            continue
        earlier = seen.get((role, rid))
        if earlier is not None:
            if earlier[1].lower() != email.lower():
                problems.append(
                    DataProblem(
                        where,
                        row,
                        "email",
                        email,
                        f"{role} {rid!r} is listed twice with different addresses (row {earlier[0]}: {earlier[1]!r}); keep one row",
                    )
                )
            if role == "sales_manager" and (team or rid) not in recipients[earlier[2]].teams:  # a second team
                first = recipients[earlier[2]]
                recipients[earlier[2]] = dataclasses.replace(first, teams=(*first.teams, team or rid))
            continue
        seen[(role, rid)] = (row, email, len(recipients))
        teams = (team or rid,) if role == "sales_manager" else ()
        recipients.append(Recipient(rid, role, name, email, teams, f"{where}, row {row}"))
    if problems:
        raise DataError(f"{where}: {counted(len(problems), 'problem')} in the roster; nothing was sent", problems)
    return recipients


def _address_problems(where: str, row: int, raw: Any, email: str, allowed: set[str] | None) -> list[DataProblem]:
    """What is wrong with one address (none: an empty list)."""
    if not email:
        return [DataProblem(where, row, "email", raw, "no address; write the recipient's e-mail address, e.g. ann@example.com")]
    if not _EMAIL.fullmatch(email):
        fix = "write one plain address such as ann@example.com"
        if any(ch in email for ch in ",;") or email.count("@") > 1:
            fix = "one address per row: give each recipient their own row"
        elif "<" in email:
            fix = "write the address alone (the name goes in the name column)"
        return [DataProblem(where, row, "email", raw, f"not an e-mail address; {fix}")]
    domain = email.rsplit("@", 1)[1].lower()
    if allowed is not None and domain not in allowed:
        listed = ", ".join(sorted(allowed)) or "none"
        return [
            DataProblem(
                where,
                row,
                "email",
                email,
                f"domain {domain!r} is not allowed (allowed: {listed}); correct the address, or add the domain to "
                "params delivery.allowed_domains or --allow-domain",
            )
        ]
    return []


def check_addresses(recipients: Sequence[Recipient], allowed_domains: Iterable[str] | None) -> None:
    """Refuse recipients (from any source) whose address is missing, malformed or outside ``allowed_domains``.

    Raises
    ------
    DataError
        Every refused recipient, named by where it was read (its ``source``: a roster row, or
        the data file and the account manager's id).
    """
    allowed = {d.lower() for d in allowed_domains} if allowed_domains is not None else None
    problems = []
    for r in recipients:
        where, _, row = r.source.rpartition(", row ")
        at = (where, int(row)) if row.isdigit() else (r.source, None)
        problems += _address_problems(at[0], at[1], r.email, r.email, allowed)
    if problems:
        raise DataError(f"{len(problems)} recipient address(es) refused; nothing was sent", problems)
