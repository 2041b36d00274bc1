"""``reportkit deliver``: each reader gets their own pack, and nothing else (issue #15, part 2).

A real SMTP server (aiosmtpd) listens on 127.0.0.1; the demo batch is run once and
copied for each test. Every message is opened as a reader would open it: the
addressee, the attachments' names, and every word and workbook number of the body
and of each attachment (HTML text, PDF via pdftotext, xlsx cells via openpyxl, CSV),
checked against the other account managers' names and revenue and commission figures.
"""

from __future__ import annotations

import email
import email.policy
import json
import shutil
import socket
import subprocess
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from reader_texts import reader_texts
from test_batch import DEMO_BATCH, shared_demo_batch

from reportkit.cli import main
from reportkit.core.errors import DataError
from reportkit.core.words import counted
from reportkit.run.deliver import SmtpSettings, deliver
from reportkit.run.outputs import slugify
from reportkit.run.roster import read_roster

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")

pytestmark = DEMO_BATCH  # most tests deliver the shared demo batch: one build under pytest-xdist

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "params" / "demo.yaml"
ROSTER = ROOT / "params" / "delivery" / "demo_roster.csv"
REVENUE, COMMISSION = "Revenue", "Total earned (all awards)"  # the account manager report's words


# -- a local SMTP server -------------------------------------------------------------------------------------------


class Mailbox:
    """An aiosmtpd handler keeping every accepted message; it can refuse a recipient or fail DATA with 451."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self.refuse: set[str] = set()
        self.fail_data = 0
        self.data_calls = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_calls += 1
        if self.fail_data:
            self.fail_data -= 1
            return "451 4.3.0 temporary failure, try again later"
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def by_address(self) -> dict[str, email.message.EmailMessage]:
        out = {}
        for rcpts, raw in self.messages:
            assert len(rcpts) == 1, f"one message went to several people: {rcpts}"
            assert rcpts[0] not in out, f"{rcpts[0]} got two messages"
            out[rcpts[0]] = email.message_from_bytes(raw, policy=email.policy.default)
        return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def mailbox():
    box = Mailbox()
    controller = aiosmtpd_controller.Controller(box, hostname="127.0.0.1", port=_free_port())
    controller.start()
    box.settings = SmtpSettings("127.0.0.1", controller.port, "none", None)
    try:
        yield box
    finally:
        controller.stop()


# -- the demo batch, run once --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_source(tmp_path_factory):
    """The demo batch (shared with test_batch / test_privacy) and the demo's statements, written once."""
    from reportkit.render.statement import statement_cli

    result = shared_demo_batch(tmp_path_factory)
    statements = tmp_path_factory.mktemp("statements")
    assert statement_cli(DEMO, "FY2025-Q4", None, output_dir=statements) == 0
    return result.output_dir, statements


@pytest.fixture
def batch(demo_source, tmp_path):
    """A private copy of the demo batch (each test writes its own delivery.json) with its statements inside."""
    src, statements = demo_source
    out = tmp_path / "reports"
    shutil.copytree(src, out, ignore=shutil.ignore_patterns(".work", "delivery.json"))
    shutil.copytree(statements, out / "statements")
    return out


def _manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def _money(text: str) -> Decimal:
    return Decimal(text.replace("$", "").replace(",", ""))


def _expected_paths(out: Path, recipient) -> set[str]:
    """The files the reader should get, as paths in the batch folder, from the manifest: own reports (no
    notebook), the statement, the company pack."""
    entries = _manifest(out)["reports"]
    if recipient.role == "account_manager":
        mine = [e for e in entries if e["kind"] == "account_manager" and e["id"] == recipient.id]
        extra = {f"statements/{p.name}" for p in (out / "statements").glob(f"statement-{recipient.id}-*")} if mine else set()
    elif recipient.role == "sales_manager":
        mine = [e for e in entries if e["team"] in recipient.teams and e["kind"] in ("team", "account_manager")]
        extra = set()
    else:
        mine = [e for e in entries if e["kind"] == "company"]
        extra = {"company.xlsx", "index.html"}
    return {rel for e in mine for fmt, rel in e["outputs"].items() if fmt != "ipynb"} | extra


def _expected_names(out: Path, recipient) -> set[str]:
    return {Path(p).name for p in _expected_paths(out, recipient)}


def _readers_of(out: Path, recipient) -> set[str]:
    """The account managers whose figures this reader may see."""
    entries = [e for e in _manifest(out)["reports"] if e["kind"] == "account_manager"]
    if recipient.role == "account_manager":
        return {recipient.id}
    if recipient.role == "sales_manager":
        return {e["id"] for e in entries if e["team"] in recipient.teams}
    return {e["id"] for e in entries}


def _seen(msg, folder: Path) -> tuple[str, set[Decimal], set[str]]:
    """What the reader sees: the body and every attachment's text and workbook numbers, and the attachment names."""
    folder.mkdir(parents=True, exist_ok=True)
    names, paths = set(), []
    for part in msg.iter_attachments():
        name = part.get_filename()
        names.add(name)
        path = folder / name
        path.write_bytes(part.get_content() if isinstance(part.get_content(), bytes) else part.get_content().encode())
        if name.endswith(".zip"):
            with zipfile.ZipFile(path) as z:
                z.extractall(folder / "unzipped")
            paths += [p for p in (folder / "unzipped").rglob("*") if p.is_file()]
        else:
            paths.append(path)
    text, numbers = reader_texts(paths)
    return msg.get_body(preferencelist=("plain",)).get_content() + "\n" + text, numbers, names


def _assert_nobody_elses(out: Path, recipient, text: str, numbers: set[Decimal]) -> None:
    """No other account manager's name, revenue or commission anywhere the reader looks."""
    allowed = _readers_of(out, recipient)
    for e in _manifest(out)["reports"]:
        if e["kind"] != "account_manager" or e["id"] in allowed:
            continue
        assert e["name"] not in text, f"{recipient.email} sees {e['name']}"
        for label in (REVENUE, COMMISSION):
            shown = e["headline"][label]
            if _money(shown) >= 100:  # small round amounts coincide too easily
                assert shown not in text, f"{recipient.email} sees {e['name']}'s {label} {shown}"
                assert _money(shown) not in numbers, f"{recipient.email}'s workbooks hold {e['name']}'s {label}"


# -- e-mail --------------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_each_reader_gets_one_message_with_their_own_files_and_no_one_elses_figures(batch, mailbox, monkeypatch, tmp_path):
    monkeypatch.setenv("REPORTKIT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("REPORTKIT_SMTP_PORT", str(mailbox.settings.port))
    monkeypatch.setenv("REPORTKIT_SMTP_TLS", "none")
    monkeypatch.setenv("REPORTKIT_SMTP_FROM", "reports@example.com")
    assert main(["deliver", str(batch), "--roster", str(ROSTER), "--params", str(DEMO)]) == 0

    recipients = read_roster(ROSTER)
    inbox = mailbox.by_address()
    with_reports = {e["id"] for e in _manifest(batch)["reports"] if e["kind"] == "account_manager"}
    expected = {r.email for r in recipients if r.role != "account_manager" or r.id in with_reports}
    assert set(inbox) == expected  # AM-008 left in June: no report, no message
    for r in recipients:
        if r.email not in inbox:
            continue
        msg = inbox[r.email]
        assert msg["To"] == r.email and msg["From"] == "reports@example.com"
        text, numbers, names = _seen(msg, tmp_path / r.key.replace(":", "-"))
        if r.role == "management":  # each report once, named so that the reader tells them apart
            assert names == {"company.pdf", "company.html", "company.xlsx", "company-roll-up.xlsx", "index.html"}
            folder = tmp_path / r.key.replace(":", "-")
            titles = {  # each workbook's title row, as the reader opens it
                n: " ".join(str(c.value) for c in openpyxl.load_workbook(folder / n).worksheets[0][1] if c.value)
                for n in names
                if n.endswith(".xlsx")
            }
            assert "Company report" in titles["company.xlsx"] and "Company roll-up" in titles["company-roll-up.xlsx"], titles
            assert "Company roll-up (workbook): one sheet per team" in text
        else:
            assert names == _expected_names(batch, r)
        if r.role != "management":
            _assert_nobody_elses(batch, r, text, numbers)
        if r.role == "account_manager":  # the body's figures are the ones the reader's own report shows
            own = next(e for e in _manifest(batch)["reports"] if e["kind"] == "account_manager" and e["id"] == r.id)
            body = msg.get_body(preferencelist=("plain",)).get_content()
            html_text, _ = reader_texts([batch / own["outputs"]["html"]])
            for label in (REVENUE, "Attainment", COMMISSION):
                assert f"{label}: {own['headline'][label]}" in body
                assert own["headline"][label] in html_text
            assert any(n.startswith(f"statement-{r.id}-") and n.endswith(".csv") for n in names)
    log = json.loads((batch / "delivery.json").read_text())["deliveries"]
    assert {rec["recipient"]["email"] for rec in log if rec["result"] == "delivered"} == expected
    for rec in log:
        for f in rec["files"]:
            assert len(f["sha256"]) == 64 and f["bytes"] == (batch / f["path"]).stat().st_size


@pytest.mark.slow
def test_zip_sends_one_archive_holding_the_readers_files_only(batch, mailbox, tmp_path):
    team_north = [r for r in read_roster(ROSTER) if "Team North" in r.teams]
    result = deliver(batch, team_north, channel="email", as_zip=True, smtp=mailbox.settings, echo=lambda s: None)
    assert result.exit_code == 0
    msg = mailbox.by_address()["maria.keller@example.com"]
    (attachment,) = list(msg.iter_attachments())
    assert attachment.get_filename().endswith(".zip")
    text, numbers, _ = _seen(msg, tmp_path / "zip")
    with zipfile.ZipFile(tmp_path / "zip" / attachment.get_filename()) as z:
        assert set(z.namelist()) == _expected_paths(batch, team_north[0])
    _assert_nobody_elses(batch, team_north[0], text, numbers)


def _send_to_alice(batch: Path, mailbox: Mailbox, **options):
    """Deliver AM-001's pack; returns the result, the pauses between tries and the log's records."""
    pauses: list[float] = []
    alice = [r for r in read_roster(ROSTER) if r.id == "AM-001"]
    result = deliver(batch, alice, channel="email", smtp=mailbox.settings, sleep=pauses.append, echo=lambda s: None, **options)
    return result, pauses, json.loads((batch / "delivery.json").read_text())["deliveries"]


@pytest.mark.slow
def test_a_server_answering_451_once_gets_the_message_on_the_retry(batch, mailbox):
    mailbox.fail_data = 1
    result, pauses, (rec,) = _send_to_alice(batch, mailbox, retry_delay=0.25)
    assert result.exit_code == 0 and [o.status for o in result.outcomes] == ["delivered"]
    assert mailbox.data_calls == 2 and len(mailbox.messages) == 1 and pauses == [0.25]
    assert rec["result"] == "delivered" and rec["attempts"] == 2


@pytest.mark.slow
def test_transient_failures_back_off_exponentially_and_are_logged_failed_never_delivered(batch, mailbox):
    mailbox.fail_data = 10
    result, pauses, (rec,) = _send_to_alice(batch, mailbox, attempts=3, retry_delay=0.5)
    assert result.exit_code == 1 and pauses == [0.5, 1.0] and mailbox.messages == []
    assert rec["result"] == "failed" and rec["attempts"] == 3 and "451" in rec["error"]


@pytest.mark.slow
def test_a_refused_recipient_fails_alone_and_is_sent_again_on_the_next_run(batch, mailbox, capsys):
    roster = [r for r in read_roster(ROSTER) if r.id in ("AM-001", "AM-002", "AM-003")]
    mailbox.refuse = {"bruno.baptiste@example.com"}
    first = deliver(batch, roster, channel="email", smtp=mailbox.settings, sleep=lambda s: None, echo=lambda s: None)
    assert first.exit_code == 1
    assert [o.status for o in first.outcomes] == ["delivered", "failed", "delivered"]
    assert set(mailbox.by_address()) == {"alice.andersen@example.com", "chen.costa@example.com"}
    mailbox.refuse = set()
    second = deliver(batch, roster, channel="email", smtp=mailbox.settings, echo=lambda s: None)
    assert [o.status for o in second.outcomes] == ["skipped", "delivered", "skipped"]
    log = json.loads((batch / "delivery.json").read_text())["deliveries"]
    assert [(r["recipient"]["id"], r["result"]) for r in log] == [
        ("AM-001", "delivered"), ("AM-002", "failed"), ("AM-003", "delivered"), ("AM-002", "delivered")
    ]  # fmt: skip


@pytest.mark.slow
def test_a_rerun_skips_the_unchanged_and_resends_whoever_holds_a_changed_file(batch, mailbox):
    roster = read_roster(ROSTER)
    assert deliver(batch, roster, channel="email", smtp=mailbox.settings, echo=lambda s: None).exit_code == 0
    sent = len(mailbox.messages)
    again = deliver(batch, roster, channel="email", smtp=mailbox.settings, echo=lambda s: None)
    assert len(mailbox.messages) == sent and {o.status for o in again.outcomes} == {"skipped", "empty"}
    alice = next(e for e in _manifest(batch)["reports"] if e["id"] == "AM-001")
    with (batch / alice["outputs"]["html"]).open("a", encoding="utf-8") as fh:
        fh.write("<!-- corrected -->\n")
    mailbox.messages.clear()
    deliver(batch, roster, channel="email", smtp=mailbox.settings, echo=lambda s: None)
    assert set(mailbox.by_address()) == {"alice.andersen@example.com", "maria.keller@example.com"}


@pytest.mark.slow
def test_dry_run_lists_who_gets_what_with_sizes_and_sends_nothing(batch, capsys):
    assert main(["deliver", str(batch), "--roster", str(ROSTER), "--params", str(DEMO), "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert not (batch / "delivery.json").exists()
    for r in read_roster(ROSTER):
        line = next(ln for ln in printed.splitlines() if ln.startswith(f"{r.role} {r.id} "))
        assert f"<{r.email}>" in line
        if r.id == "AM-008":
            assert "nothing to send" in line
            continue
        assert counted(len(_expected_paths(batch, r)), "file") in line and "would send" in line
    html = next(e for e in _manifest(batch)["reports"] if e["id"] == "AM-001")["outputs"]["html"]
    size = (batch / html).stat().st_size
    assert f"    {html}  {size / 1000:.1f} kB" in printed
    assert "account manager 'AM-008' has no report in this batch" in printed


# -- the folder channel --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_folder_channel_writes_one_folder_per_reader_with_only_their_files(batch, tmp_path):
    drop = tmp_path / "drop"
    rc = main(["deliver", str(batch), "--roster", str(ROSTER), "--params", str(DEMO), "--channel", "folder", "--to", str(drop)])
    assert rc == 0
    roster = {f"{r.role}-{slugify(r.id)}": r for r in read_roster(ROSTER)}  # maria.keller -> maria-keller
    folders = {p.name for p in drop.iterdir()}
    assert folders == {k for k in roster if k != "account_manager-am-008"}
    for name in folders:
        r = roster[name]
        files = [p for p in (drop / name).rglob("*") if p.is_file()]
        assert {p.relative_to(drop / name).as_posix() for p in files} == _expected_paths(batch, r)
        if r.role != "management":
            _assert_nobody_elses(batch, r, *reader_texts(files))
    assert (drop / "management-cfo" / "company" / "company.xlsx").is_file()  # the batch's layout: index links work


# -- bad input: refused before anything is sent ------------------------------------------------------------------


def _tiny_batch(tmp_path: Path) -> Path:
    out = tmp_path / "batch"
    (out / "account_managers").mkdir(parents=True)
    (out / "account_managers" / "am-001.html").write_text("<p>Alice</p>", encoding="utf-8")
    manifest = {
        "batch": {"name": "Tiny Co", "period": "FY2025-Q4", "as_of": "2025-12-31", "params_file": "nowhere.yaml"},
        "reports": [
            {"kind": "account_manager", "id": "AM-001", "name": "Alice", "team": "North", "status": "ok",
             "outputs": {"html": "account_managers/am-001.html"}, "headline": {}},
        ],
    }  # fmt: skip
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return out


def _to_folder(out: Path, roster: Path, drop: Path) -> list[str]:
    """``reportkit deliver OUT --roster ROSTER --channel folder --to DROP`` (example.com allowed)."""
    return [
        "deliver",
        str(out),
        "--roster",
        str(roster),
        "--channel",
        "folder",
        "--to",
        str(drop),
        "--allow-domain",
        "example.com",
    ]


BAD_ROSTERS = {
    "missing_address": ("AM-001,account_manager,Alice,", "row 2, column 'email': value ''", "no address"),
    "malformed_address": ("AM-001,account_manager,Alice,alice.example.com", "row 2, column 'email': value 'alice.example.com'", "not an e-mail address"),
    "two_addresses": ("AM-001,account_manager,Alice,a@example.com;b@example.com", "row 2, column 'email'", "one address per row"),
    "display_name": ("AM-001,account_manager,Alice,Alice <a@example.com>", "row 2, column 'email'", "the address alone"),
    "unknown_role": ("AM-001,manager,Alice,a@example.com", "row 2, column 'role': value 'manager'", "use one of account_manager"),
    "listed_twice_with_different_addresses": (
        "AM-001,account_manager,Alice,a@example.com\nAM-001,account_manager,Alice,alice@example.com",
        "row 3, column 'email': value 'alice@example.com'",
        "listed twice with different addresses (row 2: 'a@example.com')",
    ),
    "outside_the_allowed_domains": ("AM-001,account_manager,Alice,alice@gmail.com", "row 2, column 'email': value 'alice@gmail.com'", "domain 'gmail.com' is not allowed (allowed: example.com)"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_ROSTERS))
def test_a_bad_roster_is_refused_with_file_row_column_value_and_fix_before_anything_is_sent(case, tmp_path, capsys):
    rows, where, fix = BAD_ROSTERS[case]
    roster = tmp_path / f"{case}.csv"
    roster.write_text("id,role,name,email\n" + rows + "\n", encoding="utf-8")
    out, drop = _tiny_batch(tmp_path), tmp_path / "drop"
    assert main(_to_folder(out, roster, drop)) == 2
    err = capsys.readouterr().err
    assert f"{roster}, {where}" in err and fix in err and "nothing was sent" in err
    assert not drop.exists() and not (out / "delivery.json").exists()


def test_an_unknown_roster_column_is_refused_with_a_suggestion(tmp_path, capsys):
    roster = tmp_path / "misspelt_column.csv"
    roster.write_text("id,role,name,mail\nAM-001,account_manager,Alice,a@example.com\n", encoding="utf-8")
    assert main(["deliver", str(_tiny_batch(tmp_path)), "--roster", str(roster), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "row 1, column 'mail'" in err and "did you mean 'email'" in err and "required column 'email' is missing" in err


@pytest.mark.parametrize(
    "name, text, says",
    [
        (
            "no_role.csv",
            "id,name,email\nAM-001,Alice,a@example.com\n",
            "column 'role': required column 'role' is missing from the file's header row (columns found: id, name, email);"
            " add a column named 'role' to the header row",
        ),
        (
            "no_email.yaml",
            "- {id: AM-001, role: account_manager}\n",
            "column 'email': required key 'email' is missing from every entry (keys found: id, role);"
            " give each recipient its 'email'",
        ),
    ],
)
def test_a_roster_missing_a_required_column_names_the_file_the_columns_found_and_the_fix(tmp_path, name, text, says):
    roster = tmp_path / name
    roster.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as exc:
        read_roster(roster)
    assert f"{roster}, {says}" in str(exc.value)
    assert "value blank" not in str(exc.value)  # a whole column: there is no cell to show


def test_a_yaml_roster_reads_like_the_csv_one(tmp_path):
    roster = tmp_path / "roster.yaml"
    roster.write_text(
        "recipients:\n  - {id: AM-001, role: account_manager, name: Alice, email: alice@example.com}\n"
        "  - {id: maria, role: sales_manager, email: maria@example.com, team: North}\n",
        encoding="utf-8",
    )
    a, m = read_roster(roster, ["example.com"])
    assert (a.id, a.email, a.teams, m.name, m.teams, m.source) == (
        "AM-001",
        "alice@example.com",
        (),
        "maria",
        ("North",),
        f"{roster}, row 3",
    )


def test_a_sales_manager_of_two_teams_gets_both_teams_in_one_pack(tmp_path, capsys):
    out = _tiny_batch(tmp_path)
    manifest = _manifest(out)
    for team in ("North", "South"):
        path = f"teams/{team.lower()}.html"
        (out / "teams").mkdir(exist_ok=True)
        (out / path).write_text(f"<p>{team}</p>", encoding="utf-8")
        manifest["reports"].append(
            {"kind": "team", "id": team.lower(), "name": team, "team": team, "status": "ok", "outputs": {"html": path}}
        )
    (out / "account_managers" / "am-002.html").write_text("<p>Bruno</p>", encoding="utf-8")
    manifest["reports"].append(
        {"kind": "account_manager", "id": "AM-002", "name": "Bruno", "team": "South", "status": "ok",
         "outputs": {"html": "account_managers/am-002.html"}}
    )  # fmt: skip
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    roster = tmp_path / "two_teams.csv"
    roster.write_text(
        "id,role,name,email,team\nmaria,sales_manager,Maria,maria@example.com,North\n"
        "maria,sales_manager,Maria,maria@example.com,south\n",  # the second team by its report id
        encoding="utf-8",
    )
    drop = tmp_path / "drop"
    assert main(["deliver", str(out), "--roster", str(roster), "--channel", "folder", "--to", str(drop)]) == 0
    got = {p.relative_to(drop).as_posix() for p in drop.rglob("*") if p.is_file()}
    assert got == {
        "sales_manager-maria/teams/north.html",
        "sales_manager-maria/account_managers/am-001.html",
        "sales_manager-maria/teams/south.html",
        "sales_manager-maria/account_managers/am-002.html",
    }


def test_email_without_an_smtp_host_is_refused_before_anything_is_sent(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("REPORTKIT_SMTP_HOST", raising=False)
    roster = tmp_path / "roster.csv"
    roster.write_text("id,role,name,email\nAM-001,account_manager,Alice,alice@example.com\n", encoding="utf-8")
    out = _tiny_batch(tmp_path)
    assert main(["deliver", str(out), "--roster", str(roster)]) == 2
    assert "REPORTKIT_SMTP_HOST is not set" in capsys.readouterr().err and not (out / "delivery.json").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--channel", "folder"], "--channel folder needs --to OUT"),
        (["--zip", "--channel", "folder", "--to", "x"], "--zip is for --channel email"),
        (["--allow-domain", "https://example.com"], "is not an e-mail domain"),
        ([], "no recipients: give --roster FILE"),  # the tiny batch names no params file that exists
    ],
)
def test_bad_delivery_options_are_refused_with_the_fix(argv, message, tmp_path, capsys):
    assert main(["deliver", str(_tiny_batch(tmp_path)), *argv]) == 2
    assert message in capsys.readouterr().err


def test_a_folder_that_is_not_a_batch_is_refused(tmp_path, capsys):
    assert main(["deliver", str(tmp_path), "--roster", "r.csv", "--dry-run"]) == 2
    assert "manifest.json: missing" in capsys.readouterr().err


def test_a_bad_roster_is_refused_without_loading_the_heavy_stack(tmp_path):
    roster = tmp_path / "bad.csv"
    roster.write_text("id,role,name,email\nAM-001,account_manager,Alice,nope\n", encoding="utf-8")
    code = (
        "import sys; from reportkit.cli import main; "
        f"rc = main(['deliver', {str(_tiny_batch(tmp_path))!r}, '--roster', {str(roster)!r}, '--dry-run']); "
        "print(rc, sorted(m for m in ('pandas', 'papermill', 'nbformat', 'openpyxl') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.split("\n")[0] == "2 []", done.stdout + done.stderr


# -- addresses from the data: a mapped email column -------------------------------------------------------------


def _demo_with_emails(tmp_path: Path, alice: str) -> Path:
    """The demo params and data with an ``email`` column on account_managers (mapped), Alice's address given."""
    shutil.copytree(ROOT / "data" / "demo", tmp_path / "data" / "demo")
    shutil.copytree(ROOT / "params" / "branding", tmp_path / "params" / "branding")
    shutil.copy(DEMO, tmp_path / "params" / "demo.yaml")
    (tmp_path / "params" / "sources").mkdir()
    mapping = (ROOT / "params" / "sources" / "demo.yaml").read_text(encoding="utf-8")
    mapping = mapping.replace("    region: region\n", "    region: region\n    email: email\n")
    (tmp_path / "params" / "sources" / "demo.yaml").write_text(mapping, encoding="utf-8")
    table = tmp_path / "data" / "demo" / "account_managers.csv"
    lines = table.read_text(encoding="utf-8").splitlines()
    rows = [lines[0] + ",email"] + [f"{ln},{alice if ln.startswith('AM-001,') else ''}" for ln in lines[1:]]
    table.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return tmp_path / "params" / "demo.yaml"


def test_without_a_roster_account_managers_are_addressed_by_the_mapped_email_column(tmp_path, capsys):
    params = _demo_with_emails(tmp_path, "alice.andersen@example.com")
    assert main(["deliver", str(_tiny_batch(tmp_path)), "--params", str(params), "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert "account_manager AM-001 Alice Andersen <alice.andersen@example.com>: 1 file," in printed


def test_a_malformed_address_in_the_data_is_refused_with_file_account_manager_and_value(tmp_path, capsys):
    params = _demo_with_emails(tmp_path, "alice.andersen.example.com")
    assert main(["deliver", str(_tiny_batch(tmp_path)), "--params", str(params), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "account_managers.csv, account manager 'AM-001', column 'email': value 'alice.andersen.example.com'" in err


def test_a_mapping_without_an_email_column_asks_for_one_or_a_roster(tmp_path, capsys):
    assert main(["deliver", str(_tiny_batch(tmp_path)), "--params", str(DEMO), "--dry-run"]) == 2
    assert "maps no email column" in capsys.readouterr().err


def test_a_declared_kind_reaches_the_reader_its_per_names_not_by_its_folder():
    # issue #15 part 1 + 2: a coordinator's own kind (params report_kinds) is delivered like the built-in ones
    from reportkit.run.deliver import report_owner

    review = {"kind": "pipeline_review", "id": "AM-001", "name": "Alice", "team": "North", "per": "account_manager"}
    plan = {"kind": "team_plan", "id": "team-north", "name": "Team North", "team": "Team North", "per": "team"}
    pack = {"kind": "board_pack", "id": "company", "name": "Demo Co", "team": "", "per": "company"}
    account = {"kind": "account_plan", "id": "ACC-0010", "name": "Client 10", "team": "North", "per": "account"}
    assert report_owner(review) == ("account_manager", "AM-001")
    assert report_owner(plan) == ("team", "Team North")
    assert report_owner(pack) == ("company", "")
    assert report_owner(account) is None  # one per account has no reader of its own: listed as undelivered
    assert report_owner({"kind": "pipeline_review", "id": "AM-001"}) is None  # an entry that does not say per


def _recipients(tmp_path: Path, *rows: str) -> list:
    """The recipients of a roster CSV holding ``rows`` (example.com allowed)."""
    roster = tmp_path / "roster.csv"
    roster.write_text("id,role,name,email\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return read_roster(roster, ["example.com"])


def test_a_declared_kinds_message_names_the_report_by_the_kinds_title(tmp_path, mailbox):
    # the e-mail said "Forecast" for a kind named forecast whose title is "Annual forecast" (the reader)
    out = _tiny_batch(tmp_path)
    manifest = _manifest(out)
    (out / "forecast").mkdir()
    (out / "forecast" / "am-001.html").write_text("<p>Alice's forecast</p>", encoding="utf-8")
    manifest["reports"] += [
        {"kind": "forecast", "id": "AM-001", "name": "Alice", "team": "North", "status": "ok", "per": "account_manager",
         "title": "Annual forecast", "outputs": {"html": "forecast/am-001.html"}, "headline": {}},
    ]  # fmt: skip
    manifest["reports"][0]["title"] = "Account manager report"
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    alice = _recipients(tmp_path, "AM-001,account_manager,Alice,alice@example.com")
    assert deliver(out, alice, channel="email", smtp=mailbox.settings, echo=lambda s: None).exit_code == 0
    body = mailbox.by_address()["alice@example.com"].get_body(preferencelist=("plain",)).get_content()
    assert "Alice (Annual forecast)" in body.splitlines()
    assert "Alice (Account manager report)" in body.splitlines()


def test_a_misspelt_team_in_the_roster_is_refused_with_the_team_it_resembles_before_anything_is_sent(tmp_path, capsys):
    # 'Team Nort' was a note and exit 0: that sales manager silently got nothing (the trial)
    roster = tmp_path / "roster.csv"
    roster.write_text("id,role,name,email,team\nSM-1,sales_manager,Maria,maria@example.com,Nort\n", encoding="utf-8")
    out, drop = _tiny_batch(tmp_path), tmp_path / "drop"
    assert main(_to_folder(out, roster, drop)) == 2
    err = capsys.readouterr().err
    assert f"{roster}, row 2, column 'team': value 'Nort' is not a team of this batch; did you mean 'North'?" in err
    assert not drop.exists() and not (out / "delivery.json").exists()
