"""``reportkit deliver DIR``: each reader gets their own pack of a batch's outputs, and nothing else.

Who gets what (``docs/delivery.md``, "What each role gets")::

    account_manager   their own report's files (PDF, HTML, workbook) and their statement (CSV, xlsx) when present
    sales_manager     their team's report files and each member's report files
    management        the company report's files, company.xlsx (attached as company-roll-up.xlsx) and index.html

A report's reader is found in ``manifest.json`` by its kind and id (:func:`report_owner`),
never by folder names. Packs are built and checked for every recipient before the
first one is sent. Channels: ``email`` (SMTP from the environment,
:class:`SmtpSettings`; attachments or one zip; a plain-text body with the headline
figures of the reader's own reports, from the manifest's ``headline``) and ``folder``
(one folder per recipient). Each recipient's result is logged in ``DIR/delivery.json``
(written atomically after each recipient): recipient, files with sha256, time,
result. A re-run skips a recipient whose last delivery on the same channel holds the
same files with the same hashes. A transient SMTP failure (4xx, dropped connection)
is retried with exponential backoff; a failed recipient is logged ``failed``, never
``delivered``, and does not stop the others.

Only the standard library is imported here; the batch's helpers are imported when
used, so a bad command line or roster is refused before the heavy stack loads.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import shutil
import smtplib
import socket
import ssl
import sys
import time
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from ..core.errors import DataError, ParamsError, did_you_mean
from ..core.words import counted
from .roster import Recipient

__all__ = [
    "DELIVERED_FORMATS",
    "DeliveryResult",
    "Pack",
    "PackFile",
    "SmtpSettings",
    "build_packs",
    "deliver",
    "deliver_cli",
    "report_owner",
]

DELIVERED_FORMATS: tuple[str, ...] = ("pdf", "html", "xlsx")
"""A report's formats a reader gets, in this order (the executed notebook stays with the analyst)."""

LOG_NAME = "delivery.json"
"""The delivery log, beside ``manifest.json``."""

_KIND_READER = {"account_manager": "account_manager", "team": "team", "company": "company"}


def report_owner(entry: Mapping[str, Any]) -> tuple[str, str] | None:
    """Whose report a manifest entry is: ``("account_manager", id)``, ``("team", team name)``, ``("company", "")``.

    A kind's entry says what it is one report per (``per``: ``account_manager``,
    ``team``, ``company``); the built-in kinds are one per account manager, team and
    company. An entry of any other scope (e.g. one per account) has no reader: None.
    """
    per = entry.get("per") or _KIND_READER.get(str(entry.get("kind")))
    if per == "account_manager":
        return ("account_manager", str(entry.get("id")))
    if per == "team":
        return ("team", str(entry.get("team") or entry.get("name")))
    if per == "company":
        return ("company", "")
    return None


@dataclass(frozen=True)
class PackFile:
    """One file of a pack.

    Attributes
    ----------
    rel : str
        Its path in the pack, ``/``-separated: the batch's own (``account_managers/x.html``,
        ``company.xlsx``) or ``statements/<file>`` for a statement.
    path : Path
        The file on disk.
    size : int
        Bytes.
    sha256 : str
        Hex digest of its bytes.
    name : str
        The name it is attached under by e-mail; empty: its own (:func:`attachment_names`).
    """

    rel: str
    path: Path
    size: int
    sha256: str
    name: str = ""


@dataclass
class Pack:
    """What one recipient gets: files, and the headline figures of each of their reports.

    ``problem`` says why the pack cannot be sent (one of its reports failed in the batch,
    or a listed file is missing); ``files`` is then incomplete and nothing is sent.
    """

    recipient: Recipient
    files: list[PackFile] = field(default_factory=list)
    reports: list[Mapping[str, Any]] = field(default_factory=list)
    problem: str | None = None

    @property
    def size(self) -> int:
        """Bytes of every file."""
        return sum(f.size for f in self.files)

    def hashes(self) -> dict[str, str]:
        """``{rel: sha256}``: what a re-run compares with the log."""
        return {f.rel: f.sha256 for f in self.files}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


ROLLUP_ATTACHMENT = "company-roll-up.xlsx"
"""The e-mail name of the batch's ``company.xlsx`` (its sheets' title: *Company roll-up*): beside the company
report's own ``company.xlsx`` the reader tells the two reports apart (``docs/delivery.md``)."""


def _add_file(pack: Pack, out: Path, rel: str, path: Path | None = None, name: str = "") -> None:
    path = path if path is not None else out / rel
    if any(f.rel == rel for f in pack.files):
        return
    if not path.is_file():
        pack.problem = pack.problem or f"{rel} is listed in manifest.json but missing; run the batch again"
        return
    pack.files.append(PackFile(rel, path, path.stat().st_size, _sha256(path), name))


def _add_report(pack: Pack, out: Path, entry: Mapping[str, Any]) -> None:
    if entry.get("status") != "ok":
        pack.problem = pack.problem or (
            f"the {entry.get('kind')} report {entry.get('id')} ({entry.get('name')}) failed in the batch; "
            "run it again (reportkit batch ... --only-failed) before delivering"
        )
        return
    pack.reports.append(entry)
    outputs = entry.get("outputs") or {}
    for fmt in DELIVERED_FORMATS:
        if isinstance(outputs.get(fmt), str):
            _add_file(pack, out, outputs[fmt])


def _statement_files(statements: Path | None, am_id: str, period: str) -> list[Path]:
    if statements is None or not statements.is_dir():
        return []
    from ..render.statement import statement_stem  # the statement files' one naming rule

    stem = statement_stem(am_id, period)
    return [p for p in (statements / f"{stem}.csv", statements / f"{stem}.xlsx") if p.is_file()]


def build_packs(
    out: Path,
    manifest: Mapping[str, Any],
    recipients: Sequence[Recipient],
    statements: Path | None = None,
) -> tuple[list[Pack], list[str]]:
    """Each recipient's pack, and notes on what nobody receives.

    Parameters
    ----------
    out : Path
        The batch folder (``manifest.json``'s folder).
    manifest : mapping
        Its ``manifest.json``.
    recipients : sequence of Recipient
    statements : Path, optional
        Folder ``reportkit statement`` wrote into; an account manager's statement of the
        batch's period is added to their pack when there.

    Returns
    -------
    packs : list of Pack
        One per recipient, in roster order. An empty pack (an account manager without
        a report in this batch) is sent to nobody.
    notes : list of str
        Reports no recipient gets, and recipients whose team or id is not in the batch.
    """
    reports = [e for e in manifest.get("reports", []) if isinstance(e, dict)]
    batch = manifest.get("batch", {})
    by_owner: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for e in reports:
        owner = report_owner(e)
        if owner is not None:
            by_owner.setdefault(owner, []).append(e)
    team_names = {str(e.get("id")): owner[1] for e in reports if (owner := report_owner(e)) and owner[0] == "team"}
    known_teams = {str(e.get("team")) for e in reports if e.get("team")} | set(team_names.values())
    packs: list[Pack] = []
    notes: list[str] = []
    reached: set[int] = set()
    for r in recipients:
        pack = Pack(r)
        if r.role == "account_manager":
            mine = by_owner.get(("account_manager", r.id), [])
            for e in mine:
                _add_report(pack, out, e)
            if mine:
                for p in _statement_files(statements, r.id, str(batch.get("period", ""))):
                    _add_file(pack, out, f"statements/{p.name}", p)
            else:
                notes.append(f"{r.source}: account manager {r.id!r} has no report in this batch; nothing to send")
        elif r.role == "sales_manager":
            mine = []
            for wanted in r.teams:
                team = team_names.get(wanted, wanted)
                if team not in known_teams and did_you_mean(wanted, known_teams):  # a typo: bad input, nothing sent
                    raise DataError(
                        f"{r.source}, column 'team': value {wanted!r} is not a team of this batch{did_you_mean(wanted, known_teams)}",
                        hint=f"write the team as the batch names it (teams: {', '.join(sorted(known_teams))})",
                    )
                if team not in known_teams:
                    notes.append(
                        f"{r.source}: team {wanted!r} is not in this batch (teams: {', '.join(sorted(known_teams))}); "
                        "nothing to send for it"
                    )
                mine += by_owner.get(("team", team), []) + [
                    e for e in reports if report_owner(e) == ("account_manager", str(e.get("id"))) and e.get("team") == team
                ]
            for e in mine:
                _add_report(pack, out, e)
        else:
            mine = by_owner.get(("company", ""), [])
            for e in mine:
                _add_report(pack, out, e)
            if batch.get("company_workbook"):  # the roll-up: a report of its own (each manager's forecast, ranks)
                _add_file(pack, out, str(batch["company_workbook"]), name=ROLLUP_ATTACHMENT)
            if (out / "index.html").is_file():
                _add_file(pack, out, "index.html")
        reached.update(id(e) for e in mine)
        packs.append(pack)
    for e in reports:
        if id(e) not in reached:
            notes.append(f"no recipient gets the {e.get('kind')} report {e.get('id')} ({e.get('name')})")
    return packs, notes


# -- channels ---------------------------------------------------------------------------------------------------


_TLS_WORDS = {"starttls": "starttls", "true": "starttls", "yes": "starttls", "1": "starttls", "ssl": "ssl", "tls": "ssl",
              "none": "none", "false": "none", "no": "none", "0": "none"}  # fmt: skip
_DEFAULT_PORT = {"starttls": 587, "ssl": 465, "none": 25}


@dataclass(frozen=True)
class SmtpSettings:
    """Where e-mail goes, from the environment only (never from params in the repository).

    Attributes
    ----------
    host : str
        ``REPORTKIT_SMTP_HOST`` (required).
    port : int
        ``REPORTKIT_SMTP_PORT``; default 587 (starttls), 465 (ssl) or 25 (none).
    tls : {"starttls", "ssl", "none"}
        ``REPORTKIT_SMTP_TLS``: ``starttls`` (default; also ``true``), ``ssl`` (TLS from
        the first byte), ``none`` (plain; only for a relay on the same host).
    user, password : str or None
        ``REPORTKIT_SMTP_USER`` / ``REPORTKIT_SMTP_PASSWORD``: log in when a user is set.
    sender : str
        ``REPORTKIT_SMTP_FROM``; default the user when it is an address, else ``reportkit@localhost``.
    """

    host: str
    port: int
    tls: str
    user: str | None
    password: str | None = field(default=None, repr=False)
    sender: str = "reportkit@localhost"
    timeout: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SmtpSettings:
        """Read the settings from ``env`` (default ``os.environ``).

        Raises
        ------
        ParamsError
            No host, a port that is not a number, an unknown TLS word, a password without a user.
        """
        env = os.environ if env is None else env
        host = env.get("REPORTKIT_SMTP_HOST", "").strip()
        if not host:
            raise ParamsError(
                "REPORTKIT_SMTP_HOST is not set: --channel email needs an SMTP server",
                hint="export REPORTKIT_SMTP_HOST=smtp.example.com (and _PORT, _TLS, _USER, _PASSWORD), or use --dry-run",
            )
        word = env.get("REPORTKIT_SMTP_TLS", "starttls").strip().lower() or "starttls"
        if word not in _TLS_WORDS:
            raise ParamsError(
                f"REPORTKIT_SMTP_TLS={word!r} is not one of starttls, ssl, none", hint="export REPORTKIT_SMTP_TLS=starttls"
            )
        tls = _TLS_WORDS[word]
        raw_port = env.get("REPORTKIT_SMTP_PORT", "").strip()
        if raw_port and not (raw_port.isdigit() and 0 < int(raw_port) < 65536):
            raise ParamsError(f"REPORTKIT_SMTP_PORT={raw_port!r} is not a port number", hint="export REPORTKIT_SMTP_PORT=587")
        user = env.get("REPORTKIT_SMTP_USER", "").strip() or None
        password = env.get("REPORTKIT_SMTP_PASSWORD") or None
        if password and not user:
            raise ParamsError("REPORTKIT_SMTP_PASSWORD is set without REPORTKIT_SMTP_USER", hint="export REPORTKIT_SMTP_USER too")
        sender = env.get("REPORTKIT_SMTP_FROM", "").strip() or (user if user and "@" in user else "reportkit@localhost")
        return cls(host, int(raw_port) if raw_port else _DEFAULT_PORT[tls], tls, user, password, sender)

    @property
    def target(self) -> str:
        """``smtp://host:port``: the channel's target in the log (no credentials)."""
        return f"smtp://{self.host}:{self.port}"

    def send(self, msg: EmailMessage) -> None:
        """Send one message in its own SMTP session (connect, TLS, log in, send, quit)."""
        if self.tls == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            if self.tls == "starttls":
                client.starttls(context=ssl.create_default_context())
            if self.user:
                client.login(self.user, self.password or "")
            client.send_message(msg)


def transient(exc: BaseException) -> bool:
    """True for an SMTP failure worth retrying: a 4xx reply, a dropped or refused connection, a timeout."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return bool(exc.recipients) and all(400 <= code < 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    return isinstance(exc, (smtplib.SMTPServerDisconnected, ConnectionError, TimeoutError, socket.timeout))


def with_retries(send: Callable[[], None], attempts: int, delay: float, sleep: Callable[[float], None]) -> int:
    """Call ``send`` until it succeeds, retrying transient failures after ``delay``, ``2 * delay``, ...; returns the tries.

    Raises the last error when it is not transient or ``attempts`` are used up.
    """
    for n in range(1, attempts + 1):
        try:
            send()
            return n
        except Exception as exc:
            if n == attempts or not transient(exc):
                exc.attempts = n  # type: ignore[attr-defined]
                raise
            sleep(delay * 2 ** (n - 1))
    raise AssertionError("unreachable")  # pragma: no cover


def _size(n: int) -> str:
    for unit in ("bytes", "kB", "MB"):
        if n < 1000 or unit == "MB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000  # type: ignore[assignment]
    return str(n)  # pragma: no cover


def _slug(text: str) -> str:
    from .outputs import slugify

    return slugify(text)


def recipient_folder(r: Recipient) -> str:
    """The folder-channel folder of a recipient: ``<role>-<id>`` made file-name safe (``account_manager-am-001``)."""
    return f"{r.role}-{_slug(r.id)}"


def attachment_names(files: Sequence[PackFile]) -> list[str]:
    """One attachment name per file: its ``name`` or its own, or its pack path with ``-`` for ``/`` where two would clash."""
    base = [f.name or Path(f.rel).name for f in files]
    return [b if base.count(b) == 1 else f.rel.replace("/", "-") for b, f in zip(base, files)]


def zip_bytes(files: Sequence[PackFile]) -> bytes:
    """The pack as one zip (pack paths kept, so ``index.html``'s links work), the same bytes for the same files."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for f in files:
            info = zipfile.ZipInfo(f.rel, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, f.path.read_bytes())
    return buf.getvalue()


def _kind_words(entry: Mapping[str, Any]) -> str:
    """A report's kind in the reader's words: its manifest ``title``, the kind's title in the registry.

    The batch writes each entry's ``title`` from :mod:`reportkit.reports.kinds` (``"Account
    manager report"``, a declared kind's params ``title`` such as ``"Annual forecast"``). A
    manifest written before entries had one: a built-in kind's registry title, else the kind's name.
    """
    from ..reports.builders import REPORT_KINDS

    kind = str(entry.get("kind"))
    title = entry.get("title") or (REPORT_KINDS[kind].title if kind in REPORT_KINDS else kind.replace("_", " ").capitalize())
    return str(title)


def message_body(pack: Pack, batch: Mapping[str, Any], names: Sequence[str]) -> str:
    """The plain-text body: greeting, the period, each of the reader's reports with its headline figures, the files.

    Figures come from the manifest's ``headline`` of the reports in this pack only.
    """
    company = batch.get("name") or "reportkit"
    lines = [
        f"Hello {pack.recipient.name},",
        "",
        f"here are your {company} reports for {batch.get('period')} (as of {batch.get('as_of')}).",
    ]
    for e in pack.reports:
        lines += [
            "",
            f"{e.get('name')} ({_kind_words(e)})",
        ]
        headline = e.get("headline") or {}
        lines += [f"  {label}: {text}" for label, text in headline.items()] or ["  (the figures are in the attached report)"]
    if any(f.name == ROLLUP_ATTACHMENT for f in pack.files):
        lines += ["", "Company roll-up (workbook): one sheet per team, each account manager's figures and annual forecast"]
    lines += ["", "Attached:", *(f"  {n} ({_size(f.size)})" for n, f in zip(names, pack.files))]
    lines += ["", "Sent by reportkit deliver. These files are for you only: please do not forward them."]
    return "\n".join(lines) + "\n"


def build_message(pack: Pack, batch: Mapping[str, Any], sender: str, as_zip: bool) -> EmailMessage:
    """One recipient's message: To them only, the body of :func:`message_body`, the pack as attachments or one zip."""
    import mimetypes

    msg = EmailMessage()
    company = batch.get("name") or "reportkit"
    msg["Subject"] = f"{company}: your reports for {batch.get('period')}"
    msg["From"] = sender
    msg["To"] = pack.recipient.email
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1] or "localhost")
    if as_zip:
        name = f"{_slug(str(company))}-{_slug(str(batch.get('period')))}-{_slug(pack.recipient.name)}.zip"
        data = zip_bytes(pack.files)
        zip_file = PackFile(name, Path(name), len(data), "")
        msg.set_content(message_body(Pack(pack.recipient, [zip_file], pack.reports), batch, [name]))
        msg.add_attachment(data, maintype="application", subtype="zip", filename=name)
        return msg
    names = attachment_names(pack.files)
    msg.set_content(message_body(pack, batch, names))
    for name, f in zip(names, pack.files):
        ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        maintype, subtype = ctype.split("/", 1)
        msg.add_attachment(f.path.read_bytes(), maintype=maintype, subtype=subtype, filename=name)
    return msg


def copy_pack(pack: Pack, to: Path) -> None:
    """Write the pack to ``to/<recipient folder>/`` whole: into a staging folder first, then moved into place."""
    final = to / recipient_folder(pack.recipient)
    stage = to / f".{final.name}.{os.getpid()}.tmp"
    old = to / f".{final.name}.{os.getpid()}.old"
    shutil.rmtree(stage, ignore_errors=True)
    try:
        for f in pack.files:
            dest = stage / f.rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f.path, dest)
        if final.exists():
            os.replace(final, old)
        os.replace(stage, final)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


# -- the log and the run ----------------------------------------------------------------------------------------


def read_log(out: Path) -> list[dict[str, Any]]:
    """The delivery log's records (oldest first); empty when there is none yet or it is unreadable."""
    try:
        data = json.loads((out / LOG_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    records = data.get("deliveries") if isinstance(data, dict) else None
    return [r for r in records if isinstance(r, dict)] if isinstance(records, list) else []


def _write_log(out: Path, records: list[dict[str, Any]]) -> None:
    from .outputs import atomic_write

    atomic_write(out / LOG_NAME, json.dumps({"deliveries": records}, indent=2, ensure_ascii=False) + "\n")


def _last_delivered(records: Iterable[dict[str, Any]], pack: Pack, channel: str, target: str) -> dict[str, Any] | None:
    r = pack.recipient
    for rec in reversed(list(records)):
        who = rec.get("recipient") or {}
        if (
            rec.get("result") == "delivered"
            and rec.get("channel") == channel
            and rec.get("target") == target
            and who.get("role") == r.role
            and who.get("id") == r.id
            and str(who.get("email", "")).lower() == r.email.lower()
        ):
            return rec
    return None


@dataclass
class Outcome:
    """What happened to one recipient: ``delivered``, ``skipped`` (unchanged), ``failed``, ``empty`` or ``dry-run``."""

    pack: Pack
    status: str
    detail: str = ""


@dataclass
class DeliveryResult:
    """Every recipient's :class:`Outcome`, and the notes of :func:`build_packs`."""

    outcomes: list[Outcome]
    notes: list[str]
    log_path: Path | None

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def exit_code(self) -> int:
        """0 when nobody failed, 1 otherwise."""
        return 1 if self.failed else 0

    def summary(self) -> str:
        """``"5 recipients: 3 delivered, 1 unchanged (skipped), 1 failed"``."""
        counts: dict[str, int] = {}
        for o in self.outcomes:
            counts[o.status] = counts.get(o.status, 0) + 1
        words = {
            "delivered": "delivered",
            "skipped": "unchanged (skipped)",
            "failed": "failed",
            "empty": "with nothing to send",
            "dry-run": "to send (dry run)",
        }
        parts = [f"{counts[k]} {w}" for k, w in words.items() if counts.get(k)]
        return f"{counted(len(self.outcomes), 'recipient')}: {', '.join(parts) or 'none'}"


def deliver(
    out: str | Path,
    recipients: Sequence[Recipient],
    *,
    channel: str,
    to: str | Path | None = None,
    as_zip: bool = False,
    dry_run: bool = False,
    force: bool = False,
    smtp: SmtpSettings | None = None,
    statements: str | Path | None = None,
    attempts: int = 4,
    retry_delay: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    echo: Callable[[str], None] = print,
) -> DeliveryResult:
    """Send each recipient their pack of the batch in ``out``.

    Parameters
    ----------
    out : str or Path
        The batch folder (``manifest.json``).
    recipients : sequence of Recipient
        From :func:`reportkit.run.roster.read_roster` (already checked).
    channel : {"email", "folder"}
    to : str or Path, optional
        The folder channel's destination: one subfolder per recipient (:func:`recipient_folder`).
    as_zip : bool
        E-mail one zip instead of one attachment per file.
    dry_run : bool
        List who gets what, with sizes; send and log nothing.
    force : bool
        Send even to recipients whose files are unchanged since their last delivery.
    smtp : SmtpSettings, optional
        The e-mail channel's server (default :meth:`SmtpSettings.from_env`).
    statements : str or Path, optional
        Folder of ``reportkit statement``'s files (default ``out/statements`` when it exists).
    attempts, retry_delay : int, float
        Tries per message and the first pause in seconds (doubled after each transient failure).
    sleep, echo : callable
        Seams for tests: the pause and the printed lines.

    Returns
    -------
    DeliveryResult
        ``exit_code`` 1 when some recipient failed. The log ``out/delivery.json`` gets one record
        per recipient sent or failed: ``recipient`` (role, id, name, email), ``channel``,
        ``target``, ``files`` (path, bytes, sha256), ``time`` (UTC), ``result``, ``attempts``, ``error``.
    """
    from .roster import read_manifest

    out = Path(out)
    manifest = read_manifest(out)
    batch = manifest["batch"]
    if channel not in ("email", "folder"):
        raise ParamsError(f"unknown channel {channel!r}", hint="use --channel email or --channel folder --to OUT")
    if channel == "folder":
        if to is None:
            raise ParamsError("--channel folder needs --to OUT: the folder to write one folder per recipient into")
        target = str(Path(to).resolve())
        if Path(target) == out.resolve() or out.resolve() in Path(target).parents:
            raise ParamsError(f"--to {to}: inside the batch folder {out}", hint="give a folder outside the batch folder")
    else:
        if smtp is None and not dry_run:
            smtp = SmtpSettings.from_env()
        target = smtp.target if smtp is not None else "smtp (not configured)"
    stmt_dir = Path(statements) if statements is not None else out / "statements"
    packs, notes = build_packs(out, manifest, recipients, stmt_dir)
    records = read_log(out)
    if not dry_run:
        _write_log(out, records)  # an unwritable log fails here, before anything is sent (OutputError, exit 3)
    outcomes: list[Outcome] = []
    verb = "would send" if dry_run else "sending"
    echo(f"{out} -> {channel} {target}{' (dry run: nothing is sent)' if dry_run else ''}")
    for pack in packs:
        r = pack.recipient
        head = f"{r.role} {r.id} {r.name} <{r.email}>: {counted(len(pack.files), 'file')}, {_size(pack.size)}"
        if pack.problem:
            outcomes.append(Outcome(pack, "failed", pack.problem))
            echo(f"{head}: not sent: {pack.problem}")
            if not dry_run:
                records.append(_record(pack, channel, target, "failed", 0, pack.problem))
                _write_log(out, records)
            continue
        if not pack.files:
            outcomes.append(Outcome(pack, "empty", "nothing to send"))
            echo(f"{head}: nothing to send")
            continue
        last = _last_delivered(records, pack, channel, target)
        unchanged = last is not None and {f.get("path"): f.get("sha256") for f in last.get("files", [])} == pack.hashes()
        state = f"unchanged since {last['time']}: skip" if unchanged and not force else ("changed: resend" if last else verb)
        echo(f"{head}: {state}")
        if dry_run:
            for f in pack.files:
                echo(f"    {f.rel}  {_size(f.size)}")
            outcomes.append(Outcome(pack, "skipped" if unchanged and not force else "dry-run", state))
            continue
        if unchanged and not force:
            outcomes.append(Outcome(pack, "skipped", state))
            continue
        tries = 0
        try:
            if channel == "email":
                msg = build_message(pack, batch, smtp.sender, as_zip)  # type: ignore[union-attr]
                tries = with_retries(functools.partial(smtp.send, msg), attempts, retry_delay, sleep)  # type: ignore[union-attr]
            else:
                Path(target).mkdir(parents=True, exist_ok=True)
                copy_pack(pack, Path(target))
                tries = 1
        except Exception as exc:  # one recipient never stops the others
            tries = getattr(exc, "attempts", max(tries, 1))
            reason = f"{type(exc).__name__}: {exc}"
            outcomes.append(Outcome(pack, "failed", reason))
            records.append(_record(pack, channel, target, "failed", tries, reason))
            echo(f"  failed after {counted(tries, 'attempt')}: {reason}")
        else:
            outcomes.append(Outcome(pack, "delivered", counted(tries, "attempt")))
            records.append(_record(pack, channel, target, "delivered", tries, None))
            echo(f"  delivered{f' after {tries} attempts' if tries > 1 else ''}")
        _write_log(out, records)
    for note in notes:
        echo(f"note: {note}")
    return DeliveryResult(outcomes, notes, None if dry_run else out / LOG_NAME)


def _record(pack: Pack, channel: str, target: str, result: str, attempts: int, error: str | None) -> dict[str, Any]:
    from .outputs import now_utc

    r = pack.recipient
    return {
        "recipient": {"role": r.role, "id": r.id, "name": r.name, "email": r.email},
        "channel": channel,
        "target": target,
        "files": [{"path": f.rel, "bytes": f.size, "sha256": f.sha256} for f in pack.files],
        "time": now_utc(),
        "result": result,
        "attempts": attempts,
        "error": error,
    }


def recipients_from_data(params_path: str | Path, manifest: Mapping[str, Any]) -> list[Recipient]:
    """The account managers with a report in the batch, addressed by the ``email`` column the source mapping maps.

    Parameters
    ----------
    params_path : str or Path
        The batch's params file; its ``source`` mapping maps ``account_managers.email``
        (``columns: {email: <source column>}``, ``docs/mapping.md``).
    manifest : mapping
        The batch's ``manifest.json``: only account managers with a report in it are recipients.

    Returns
    -------
    list of Recipient
        Role ``account_manager``, source ``<file>, account manager '<id>'`` (addresses not checked
        yet: :func:`reportkit.run.roster.check_addresses`; an empty one is refused there).

    Raises
    ------
    MappingError
        The mapping maps no ``email`` column of ``account_managers``.
    """
    import pandas as pd

    from ..core.errors import MappingError
    from ..domain.loading import load_inputs

    params, ds = load_inputs(params_path)
    am = ds.account_managers
    if "email" not in am.columns:
        raise MappingError(
            f"{params.source}: account_managers maps no email column, so the data names no recipient",
            hint="map one (account_managers: columns: {email: <your column>}) or give --roster FILE",
        )
    wanted = {str(e.get("id")) for e in manifest.get("reports", []) if report_owner(e) == ("account_manager", str(e.get("id")))}
    where = ds.sources.get("account_managers", str(params.source))
    return [
        Recipient(
            str(i), "account_manager", str(n), "" if pd.isna(m) else str(m).strip(), (), f"{where}, account manager {str(i)!r}"
        )
        for i, n, m in zip(am["account_manager_id"], am["name"], am["email"])
        if str(i) in wanted
    ]


def deliver_cli(
    out: str,
    *,
    roster: str | None,
    channel: str,
    to: str | None,
    as_zip: bool,
    dry_run: bool,
    force: bool,
    allow_domains: Sequence[str],
    params_path: str | None,
    statements: str | None,
) -> int:
    """``reportkit deliver``: check the command line, the params' allow-list and the roster, then :func:`deliver`.

    Everything is checked before anything is sent (bad input: exit 2); returns 0, or 1 when
    some recipient failed. The params file is ``params_path`` or the manifest's ``params_file``
    when it exists (its ``delivery.allowed_domains``); ``allow_domains`` adds to it.
    """
    from ..config.params import DeliveryOptions, load_params
    from .roster import check_addresses, read_manifest, read_roster

    if channel == "folder" and not to:
        raise ParamsError("--channel folder needs --to OUT", hint="reportkit deliver DIR --channel folder --to OUT")
    if channel == "email" and to:
        raise ParamsError("--to is for --channel folder", hint="drop --to, or add --channel folder")
    if as_zip and channel != "email":
        raise ParamsError("--zip is for --channel email", hint="drop --zip: the folder channel copies the files")
    manifest = read_manifest(out)
    if params_path is None:
        recorded = str(manifest["batch"].get("params_file") or "")
        params_path = recorded if recorded and Path(recorded).is_file() else None
    allowed: tuple[str, ...] | None = None
    if params_path is not None:
        allowed = load_params(params_path).delivery.allowed_domains
    if allow_domains:
        try:
            extra = DeliveryOptions(allowed_domains=list(allow_domains)).allowed_domains or ()
        except ValueError as exc:
            raise ParamsError(f"--allow-domain: {exc.errors()[0]['msg'].removeprefix('Value error, ')}") from None  # type: ignore[attr-defined]
        allowed = (*(allowed or ()), *extra)
    if roster is not None:
        recipients = read_roster(roster, allowed)
    elif params_path is not None:
        recipients = recipients_from_data(params_path, manifest)
        check_addresses(recipients, allowed)
    else:
        raise ParamsError(
            "no recipients: give --roster FILE (id, role, name, email), or --params PARAMS.yaml whose source "
            "maps an email column of account_managers",
            hint="docs/delivery.md, 'The roster', has the format and an example",
        )
    smtp = None
    if channel == "email":
        try:
            smtp = SmtpSettings.from_env()
        except ParamsError:
            if not dry_run:  # a dry run sends nothing: it lists without a server
                raise
    if allowed is None:
        print("note: no domain allow-list (params delivery.allowed_domains or --allow-domain): any address is accepted")
    result = deliver(
        out, recipients, channel=channel, to=to, as_zip=as_zip, dry_run=dry_run, force=force, smtp=smtp, statements=statements
    )
    print(result.summary() + (f"; log: {result.log_path}" if result.log_path else ""))
    for o in result.failed:
        print(f"  failed: {o.pack.recipient.role} {o.pack.recipient.id} <{o.pack.recipient.email}>: {o.detail}", file=sys.stderr)
    return result.exit_code
