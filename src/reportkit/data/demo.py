"""Deterministic synthetic demo data (the files in ``data/demo/``).

``generate(out_dir)`` writes six small CSV files that ``params/sources/demo.yaml``
maps into a Dataset (calendar fiscal year, USD, owner crediting, 2023-01 .. 2025-12):

``account_managers.csv``  am_id, full_name, team, sales_manager, region, hire_date, end_date
``accounts.csv``          account_id, account_name, segment, owner, handover_date
``deals.csv``             deal_id, owner, account_id, close_date, amount, stage, product
``quotas.csv``            am_id, quarter_start, quarter_end, quota
``pipeline.csv``          opportunity_id, owner, account_id, stage, expected_close, amount
``service_issues.csv``    ticket, account_id, opened, resolved, severity

Amounts are text with two decimals (``"12345.67"``), dates ISO ``YYYY-MM-DD``.
Output is byte-identical for the same seed (numpy ``default_rng``, fixed order,
``\\n`` line endings, no floats written).

Cases the demo contains on purpose:

* 3 teams of 4 account managers (ids ``AM-001`` ... and one leading-zero id ``0731``);
* ``AM-012`` hired 2025-11-03: a ramp quota in FY2025-Q4 and no deals;
* ``AM-008`` left on 2025-06-30 (``end_date``): no quota or deals after FY2025-Q2;
* ``AM-006`` sells at about half of quota from FY2025-Q2 on (performance watch);
* a few returns: negative won amounts (``D-xxxxx-R``) referring to an earlier sale;
* accounts handed over from business development mid-period (FY2025-Q4);
* an open pipeline with three stages (probabilities are declared in the mapping);
* a dozen service issues: most resolved, one still open at ``medium`` severity, and
  two open ``escalation`` issues on accounts of ``AM-001`` (those accounts are *at risk*).

Run ``python -m reportkit.data.demo data/demo`` to regenerate.
"""

from __future__ import annotations

import csv
import datetime
import sys
from decimal import Decimal
from pathlib import Path

import numpy as np

__all__ = ["generate", "DEFAULT_SEED", "FILES"]

DEFAULT_SEED = 20251231
FILES = ("account_managers.csv", "accounts.csv", "deals.csv", "quotas.csv", "pipeline.csv", "service_issues.csv")

_TEAMS = [
    ("Team North", "Maria Keller", "North"),
    ("Team South", "Omar Haddad", "South"),
    ("Team West", "Grace Liu", "West"),
]
_FIRST = ["Alice", "Bruno", "Chen", "Dana", "Elif", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Kofi", "Lena"]
_LAST = [
    "Andersen",
    "Baptiste",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Horvath",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Lindqvist",
]
_SEGMENTS = ["Enterprise", "Mid-Market", "SMB"]
_PRODUCTS = ["Analytics Suite", "Cloud Storage", "Support Plan", "Training Pack", "Data Connector"]
_OPEN_STAGES = ["Qualify", "Propose", "Negotiate"]
_QUARTERS = [(y, q) for y in (2023, 2024, 2025) for q in (1, 2, 3, 4)]
_NEW_HIRE = "AM-012"
_LEAVER = "AM-008"
_LEAVER_END = datetime.date(2025, 6, 30)
_WATCH = "AM-006"
_ESCALATED = ("ACC-0021", "ACC-0041")  # accounts of AM-001 with an open escalation at the end of 2025
_SEVERITIES = ["low", "medium", "high"]


def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    c = abs(int(cents))
    return f"{sign}{c // 100}.{c % 100:02d}"


def _quarter_bounds(year: int, q: int) -> tuple[datetime.date, datetime.date]:
    start = datetime.date(year, 3 * q - 2, 1)
    end = datetime.date(year + (q == 4), (3 * q) % 12 + 1, 1) - datetime.timedelta(days=1)
    return start, end


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def generate(out_dir: str | Path, seed: int = DEFAULT_SEED) -> list[Path]:
    """Write the demo CSV files into ``out_dir`` (created if needed).

    Parameters
    ----------
    out_dir : str or Path
        Target folder, normally ``data/demo``.
    seed : int, default :data:`DEFAULT_SEED`
        Seed of ``numpy.random.default_rng``; the same seed gives byte-identical files.

    Returns
    -------
    list of Path
        The files written, in :data:`FILES` order.
    """
    rng = np.random.default_rng(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # one generator, drawn in this order: each step's draws follow the previous step's
    ams = _account_managers(rng)
    skill = {a[0]: float(rng.uniform(0.85, 1.25)) for a in ams}
    base_quota = {a[0]: int(rng.integers(10, 19)) * 10_000_00 for a in ams}  # cents per quarter
    accounts, owners_accounts = _accounts(rng, ams)
    quota_rows, deal_rows = _quotas_and_deals(rng, ams, owners_accounts, skill, base_quota)
    pipe_rows = _pipeline(rng, ams, owners_accounts)
    issue_rows = _service_issues(rng, accounts)

    files = [out / f for f in FILES]
    _write(
        files[0],
        ["am_id", "full_name", "team", "sales_manager", "region", "hire_date", "end_date"],
        [[a[0], a[1], a[2], a[3], a[4], a[5].isoformat(), a[6].isoformat() if a[6] else ""] for a in ams],
    )
    _write(files[1], ["account_id", "account_name", "segment", "owner", "handover_date"], [list(r) for r in accounts])
    _write(files[2], ["deal_id", "owner", "account_id", "close_date", "amount", "stage", "product"], deal_rows)
    _write(files[3], ["am_id", "quarter_start", "quarter_end", "quota"], quota_rows)
    _write(files[4], ["opportunity_id", "owner", "account_id", "stage", "expected_close", "amount"], pipe_rows)
    _write(files[5], ["ticket", "account_id", "opened", "resolved", "severity"], issue_rows)
    return files


def _account_managers(rng: np.random.Generator) -> list[tuple]:
    """Four account managers per team, with the new hire and the leaver of the demo story.

    Rows: (id, name, team, manager, region, hire date, end date or None).
    """
    ams = []
    n = 0
    for team, manager, region in _TEAMS:
        for _ in range(4):
            n += 1
            am_id = "0731" if n == 11 else f"AM-{n:03d}"
            hire = datetime.date(2019 + int(rng.integers(0, 4)), int(rng.integers(1, 13)), 1)
            end = None
            if am_id == _NEW_HIRE:
                hire = datetime.date(2025, 11, 3)
            if am_id == _LEAVER:
                end = _LEAVER_END
            ams.append((am_id, f"{_FIRST[n - 1]} {_LAST[n - 1]}", team, manager, region, hire, end))
    return ams


def _accounts(rng: np.random.Generator, ams: list[tuple]) -> tuple[list[tuple], dict[str, list[str]]]:
    """60 client accounts (id, name, segment, owner, handover) and the accounts each manager sells to."""
    accounts = []
    owners_accounts: dict[str, list[str]] = {a[0]: [] for a in ams}
    active_owners = [a[0] for a in ams if a[0] not in (_NEW_HIRE, _LEAVER)]
    for i in range(1, 61):
        acc_id = f"ACC-{i:04d}"
        owner = active_owners[(i - 1) % len(active_owners)]
        if i <= 3:
            owner = _NEW_HIRE  # the new hire takes over three accounts
        handover = ""
        if i % 9 == 0 or i <= 3:
            handover = (datetime.date(2025, 10, 1) + datetime.timedelta(days=int(rng.integers(0, 80)))).isoformat()
        elif i % 5 == 0:
            handover = (datetime.date(2023, 1, 1) + datetime.timedelta(days=int(rng.integers(0, 900)))).isoformat()
        segment = _SEGMENTS[int(rng.integers(0, 3))]
        accounts.append((acc_id, f"Demo Client {i:02d}", segment, owner, handover))
        owners_accounts[owner].append(acc_id)
    # the leaver's former accounts (historic sales) and sales of the others
    for a in ams:
        if not owners_accounts[a[0]]:
            owners_accounts[a[0]] = [accounts[int(rng.integers(3, 60))][0] for _ in range(4)]
    return accounts, owners_accounts


def _quotas_and_deals(
    rng: np.random.Generator,
    ams: list[tuple],
    owners_accounts: dict[str, list[str]],
    skill: dict[str, float],
    base_quota: dict[str, int],
) -> tuple[list[list[str]], list[list[str]]]:
    """Quarterly quotas and the won and lost deals of each quarter, then three returns; deals by date and id."""
    quota_rows, deal_rows = [], []
    deal_no = 0
    for year, q in _QUARTERS:
        start, end = _quarter_bounds(year, q)
        for am_id, _, _, _, _, hire, left in ams:
            if hire > end or (left is not None and left < start):
                continue
            quota = base_quota[am_id] + (year - 2023) * 1_000_000  # +10,000.00 per year
            if am_id == _NEW_HIRE:
                quota = 2_500_000  # ramp quota in the first (partial) quarter
            quota_rows.append([am_id, start.isoformat(), end.isoformat(), _money(quota)])
            if am_id == _NEW_HIRE:
                continue  # hired 2025-11-03: no deals yet
            factor = skill[am_id]
            if am_id == _WATCH and (year, q) >= (2025, 2):
                factor = 0.5
            n_won = int(rng.poisson(6)) + 2
            target = quota * factor * float(rng.uniform(0.85, 1.15))
            shares = rng.dirichlet(np.ones(n_won))
            days = (end - start).days
            for share in shares:
                deal_no += 1
                cents = max(50_000, round(target * float(share)))
                deal_rows.append(_deal(rng, deal_no, am_id, owners_accounts[am_id], start, days, cents, "Won"))
            for _ in range(int(rng.poisson(3))):
                deal_no += 1
                cents = int(rng.integers(5_000, 40_000)) * 100
                deal_rows.append(_deal(rng, deal_no, am_id, owners_accounts[am_id], start, days, cents, "Lost"))
    # returns: negative won amounts a few weeks after three earlier sales
    won = [r for r in deal_rows if r[5] == "Won"]
    for idx in (17, 211, 404):
        orig = won[idx]
        back = datetime.date.fromisoformat(orig[3]) + datetime.timedelta(days=21)
        part = -(int(Decimal(orig[4]) * 100) // 2)  # half returned
        deal_rows.append([f"{orig[0]}-R", orig[1], orig[2], back.isoformat(), _money(part), "Won", orig[6]])
    deal_rows.sort(key=lambda r: (r[3], r[0]))
    return quota_rows, deal_rows


def _deal(
    rng: np.random.Generator,
    deal_no: int,
    am_id: str,
    accounts: list[str],
    start: datetime.date,
    days: int,
    cents: int,
    stage: str,
) -> list[str]:
    """One deal row: a day of the quarter, one of the manager's accounts and a product drawn, in that order."""
    d = start + datetime.timedelta(days=int(rng.integers(0, days + 1)))
    acc = accounts[int(rng.integers(0, len(accounts)))]
    prod = _PRODUCTS[int(rng.integers(0, len(_PRODUCTS)))]
    return [f"D-{deal_no:05d}", am_id, acc, d.isoformat(), _money(cents), stage, prod]


def _pipeline(rng: np.random.Generator, ams: list[tuple], owners_accounts: dict[str, list[str]]) -> list[list[str]]:
    """Two to five open opportunities per account manager still employed, expected in the first half of 2026."""
    pipe_rows = []
    for i, (am_id, *_rest) in enumerate(a for a in ams if a[0] != _LEAVER):
        for k in range(int(rng.integers(2, 6))):
            stage = _OPEN_STAGES[int(rng.integers(0, 3))]
            close = datetime.date(2026, 1, 1) + datetime.timedelta(days=int(rng.integers(0, 170)))
            acc = owners_accounts[am_id][int(rng.integers(0, len(owners_accounts[am_id])))]
            pipe_rows.append(
                [f"OPP-{i + 1:02d}{k + 1:02d}", am_id, acc, stage, close.isoformat(), _money(int(rng.integers(80, 600)) * 10_000)]
            )
    return pipe_rows


def _service_issues(rng: np.random.Generator, accounts: list[tuple]) -> list[list[str]]:
    """Ten past issues (one still open, not an escalation) and two open escalations; drawn last."""
    issue_rows = []
    for k in range(10):
        acc = accounts[int(rng.integers(3, 60))][0]
        opened = datetime.date(2024, 1, 1) + datetime.timedelta(days=int(rng.integers(0, 670)))
        resolved = (opened + datetime.timedelta(days=int(rng.integers(1, 61)))).isoformat()
        severity = _SEVERITIES[int(rng.integers(0, 3))]
        if k == 9:
            resolved, severity = "", "medium"  # still open, not an escalation
        issue_rows.append([acc, opened.isoformat(), resolved, severity])
    for acc, day in zip(_ESCALATED, (2, 15)):
        issue_rows.append([acc, datetime.date(2025, 12, day).isoformat(), "", "escalation"])
    issue_rows.sort(key=lambda r: (r[1], r[0]))
    return [[f"SI-{i + 1:04d}", *r] for i, r in enumerate(issue_rows)]


def main(argv: list[str] | None = None) -> int:
    """``python -m reportkit.data.demo [OUT_DIR] [--seed N]``: write the demo files."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m reportkit.data.demo", description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", default="data/demo", help="folder to write (default data/demo)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    args = parser.parse_args(argv)
    for f in generate(args.out_dir, seed=args.seed):
        print(f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
