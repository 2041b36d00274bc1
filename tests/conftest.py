"""Shared fixtures: small in-memory Datasets built from readable rows.

``make_dataset`` builds a canonical :class:`~reportkit.data.model.Dataset` from lists of
tuples (money in cents, dates as ISO strings) so each test states its own case.
``tiny_dataset`` is a two-team, four-person fiscal-July dataset used by the
report tests.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, settings

from reportkit.config.params import BatchParams
from reportkit.core.periods import FiscalCalendar
from reportkit.data.model import Dataset

# Timing is not a behaviour a property pins: on 2 shared cores one example can take seconds
# (test_money.py's split credits failed hypothesis's 200 ms deadline at a load of 35). Every
# property test runs without the deadline and the too-slow health check unless it sets its own.
settings.register_profile("reportkit", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("reportkit")


def _dates(values):
    return pd.to_datetime(pd.Series(values, dtype="object"), format="ISO8601").astype("datetime64[ns]")


def build_dataset(
    ams: list[tuple] | None = None,
    deals: list[tuple] | None = None,
    quotas: list[tuple] | None = None,
    accounts: list[tuple] | None = None,
    territories: list[tuple] | None = None,
    crediting: str = "owner",
    first_month: int = 7,
) -> Dataset:
    """Rows to a Dataset.

    ams:         (id, name, team, hire_date | None, end_date | None)
    deals:       (deal_id, am_id | None, account_id, close_date, amount_cents[, stage[, territory]])
    quotas:      (am_id, start, end, quota_cents)
    accounts:    (account_id, name, owner_id | None, handover_date | None)
    territories: (am_id, territory)
    """
    ams = ams or [("A1", "Alice", "East", None, None)]
    am = pd.DataFrame(
        {
            "account_manager_id": pd.Series([a[0] for a in ams], dtype="str"),
            "name": pd.Series([a[1] for a in ams], dtype="str"),
            "team": pd.Series([a[2] for a in ams], dtype="str"),
            "sales_manager": pd.Series([f"Manager of {a[2]}" for a in ams], dtype="str"),
            "region": pd.Series([None] * len(ams), dtype="str"),
            "hire_date": _dates([a[3] for a in ams]),
            "end_date": _dates([a[4] for a in ams]),
        }
    )
    deals = deals or []
    d = pd.DataFrame(
        {
            "deal_id": pd.Series([x[0] for x in deals], dtype="str"),
            "account_manager_id": pd.Series([x[1] for x in deals], dtype="str"),
            "account_id": pd.Series([x[2] for x in deals], dtype="str"),
            "close_date": _dates([x[3] for x in deals]),
            "amount_cents": pd.Series([x[4] for x in deals], dtype="int64"),
            "currency": pd.Series(["USD"] * len(deals), dtype="str"),
            "stage": pd.Series([x[5] if len(x) > 5 else "won" for x in deals], dtype="str"),
            "territory": pd.Series([x[6] if len(x) > 6 else None for x in deals], dtype="str"),
            "product": pd.Series(["Widget"] * len(deals), dtype="str"),
        }
    )
    quotas = quotas or []
    q = pd.DataFrame(
        {
            "account_manager_id": pd.Series([x[0] for x in quotas], dtype="str"),
            "period_start": _dates([x[1] for x in quotas]),
            "period_end": _dates([x[2] for x in quotas]),
            "quota_cents": pd.Series([x[3] for x in quotas], dtype="int64"),
            "currency": pd.Series(["USD"] * len(quotas), dtype="str"),
        }
    )
    acc = None
    if accounts is not None:
        acc = pd.DataFrame(
            {
                "account_id": pd.Series([x[0] for x in accounts], dtype="str"),
                "name": pd.Series([x[1] for x in accounts], dtype="str"),
                "segment": pd.Series(["SMB"] * len(accounts), dtype="str"),
                "owner_id": pd.Series([x[2] for x in accounts], dtype="str"),
                "handover_date": _dates([x[3] for x in accounts]),
            }
        )
    terr = None
    if territories is not None:
        terr = pd.DataFrame(
            {
                "account_manager_id": pd.Series([x[0] for x in territories], dtype="str"),
                "territory": pd.Series([x[1] for x in territories], dtype="str"),
            }
        )
    return Dataset(
        account_managers=am,
        quotas=q,
        deals=d,
        accounts=acc,
        territories=terr,
        currency="USD",
        calendar=FiscalCalendar(first_month=first_month),
        crediting=crediting,  # type: ignore[arg-type]
    )


def quarterly_quotas(am_id: str, fiscal_year: int, cents: int, first_month: int = 7) -> list[tuple]:
    """Four quarterly quota rows of ``cents`` each for one AM and fiscal year."""
    cal = FiscalCalendar(first_month=first_month)
    return [(am_id, q.start.isoformat(), q.end.isoformat(), cents) for q in cal.periods_of_year(fiscal_year)]


@pytest.fixture(scope="session", autouse=True)
def fit_cache_in_a_temporary_folder(tmp_path_factory):
    """Batches run by the tests keep their model fits in a folder of the test run, never the user's cache folder.

    One folder for every xdist worker of the run (the cache is safe for concurrent
    writers, as two batches on one machine are): a forecast hierarchy one worker
    computed, the other reads (tests/batch_contexts.py).
    """
    import os

    if os.environ.get("PYTEST_XDIST_WORKER"):  # each worker's basetemp sits in the run's own folder
        shared = tmp_path_factory.getbasetemp().parent / "fit-cache"
        shared.mkdir(exist_ok=True)
        folder = str(shared)
    else:
        folder = str(tmp_path_factory.mktemp("fit-cache"))
    before = os.environ.get("REPORTKIT_CACHE_DIR")
    os.environ["REPORTKIT_CACHE_DIR"] = folder
    yield folder
    if before is None:
        os.environ.pop("REPORTKIT_CACHE_DIR", None)
    else:
        os.environ["REPORTKIT_CACHE_DIR"] = before


@pytest.fixture
def make_dataset() -> Callable[..., Dataset]:
    """Factory: ``make_dataset(ams=..., deals=..., quotas=..., ...)`` (see :func:`build_dataset`)."""
    return build_dataset


@pytest.fixture
def make_quotas() -> Callable[..., list[tuple]]:
    """Factory: ``make_quotas(am_id, fiscal_year, cents)`` -> four quarterly quota rows."""
    return quarterly_quotas


@pytest.fixture
def tiny_dataset() -> Dataset:
    """The dataset of :func:`build_tiny_dataset`."""
    return build_tiny_dataset()


def build_tiny_dataset() -> Dataset:
    """Fiscal year starts in July. FY2025-Q4 = 2025-04-01 .. 2025-06-30.

    Team East: A1 Alice (quota 100,000.00 / quarter), A2 Bob (quota 50,000.00 / quarter,
    no deals at all). Team West: A3 Carol (quota 80,000.00 / quarter), A4 Dan (left
    2024-12-31). Quotas cover FY2024 and FY2025.
    """
    ams = [
        ("A1", "Alice", "East", "2020-01-01", None),
        ("A2", "Bob", "East", "2023-01-01", None),
        ("A3", "Carol", "West", "2021-05-01", None),
        ("A4", "Dan", "West", "2019-01-01", "2024-12-31"),
    ]
    deals = [
        # Alice: FY2024-Q4 and FY2025 Q1..Q4
        ("D01", "A1", "C1", "2024-05-10", 90_000_00),
        ("D02", "A1", "C1", "2024-08-15", 60_000_00),
        ("D03", "A1", "C2", "2024-11-20", 120_000_00),
        ("D04", "A1", "C2", "2025-02-03", 50_000_00),
        ("D05", "A1", "C1", "2025-04-15", 70_000_00),
        ("D06", "A1", "C3", "2025-05-20", 45_000_50),
        ("D07", "A1", "C1", "2025-06-02", -5_000_00),  # a return
        ("D08", "A1", "C3", "2025-06-10", 30_000_00, "lost"),
        # Carol
        ("D11", "A3", "C7", "2025-04-30", 20_000_00),
        ("D12", "A3", "C8", "2024-10-01", 40_000_00),
        ("D13", "A3", "C7", "2024-04-01", 25_000_00),  # the first deal: the data covers FY2024-Q4 from its first day
        # Dan (left)
        ("D21", "A4", "C9", "2024-09-09", 10_000_00),
    ]
    quotas = []
    for fy in (2024, 2025):
        quotas += quarterly_quotas("A1", fy, 100_000_00)
        quotas += quarterly_quotas("A2", fy, 50_000_00)
        quotas += quarterly_quotas("A3", fy, 80_000_00)
        quotas += quarterly_quotas("A4", fy, 30_000_00)
    accounts = [
        ("C1", "Contoso", "A1", None),
        ("C2", "Fabrikam", "A1", None),
        ("C3", "Northwind", "A1", None),
        ("C7", "Tailspin", "A3", None),
        ("C8", "Wingtip", "A3", None),
        ("C9", "Litware", "A4", None),
    ]
    return build_dataset(ams=ams, deals=deals, quotas=quotas, accounts=accounts)


@pytest.fixture
def batch_params() -> BatchParams:
    """The params of :func:`build_batch_params`."""
    return build_batch_params()


def build_batch_params() -> BatchParams:
    """FY2025-Q4 as of its last day; 5 % commission, 2,000.00 cash bonus at 100 %."""
    return BatchParams.model_validate(
        {
            "source": "sources/demo.yaml",
            "period": "FY2025-Q4",
            "as_of": datetime.date(2025, 6, 30),
            "commission": {"rate": "0.05", "quota_bonus": {"attainment_at_least": 1.0, "amount": "2000.00", "award": "cash"}},
            "performance": {"miss_below": 0.9, "watch_after": 2, "termination_review_after": 3},
        }
    )


@pytest.fixture(scope="session")
def real_batch(tmp_path_factory):
    """``real_batch("maven_crm")``: that params file's whole batch, run once per test session.

    The real-data figure tests and the privacy scan read the same outputs, so the
    35 + 6 Maven reports are executed once, not once per test module. Report
    pickles are kept (``keep_work``) so tests can compare outputs with the objects.
    """
    from reportkit.run.batch import run_batch

    params_dir = Path(__file__).resolve().parents[1] / "params"
    cache: dict = {}

    def get(name: str):
        if name not in cache:
            out = tmp_path_factory.mktemp(name) / "reports"
            cache[name] = run_batch(params_dir / f"{name}.yaml", out, progress=False, keep_work=True)
        return cache[name]

    return get


# ---------------------------------------------------------------------------
# `make test` runs the suite on every core (pytest-xdist, ``-n auto --dist loadgroup``)
# ---------------------------------------------------------------------------
#: The work units that take longest are handed out first, so that the workers finish together:
#: each test's seconds in a measured whole-suite run (``tests/durations.txt``, written by
#: ``tests/refresh_durations.py``; its header says when and how it ran), added up per unit
#: (a group, or one test). Only an order: a test missing there, or a stale figure, costs
#: time, never a test.
DURATIONS = Path(__file__).with_name("durations.txt")


def _measured_seconds() -> dict[str, float]:
    """nodeid -> seconds, from :data:`DURATIONS` (empty if the file is missing)."""
    seconds: dict[str, float] = {}
    if DURATIONS.is_file():
        for line in DURATIONS.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                value, nodeid = line.split(" ", 1)
                seconds[nodeid] = float(value)
    return seconds


def _xdist_group(item: pytest.Item) -> str | None:
    """The work unit ``item`` must share with other tests, or None for a unit of its own.

    An explicit ``@pytest.mark.xdist_group(name)`` (the tests that read one session-wide
    build: ``real_batch(name)``, the shared demo batch) wins; otherwise every test that
    uses a module- or class-scoped fixture runs with the rest of its module, on one
    worker, so that the fixture is built once and not once per worker.
    """
    mark = item.get_closest_marker("xdist_group")
    if mark is not None:
        return str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return None
    if "real_batch" in info.names_closure:  # unmarked: with every other batch, still built once
        return "real_batch"
    for name in info.names_closure:
        defs = info.name2fixturedefs.get(name)
        if defs and defs[-1].scope in ("module", "class", "package"):
            return item.path.name
    return None


def longest_units_first(nodeids: list[str], groups: dict[str, str | None], measured: dict[str, float]) -> list[str]:
    """``nodeids`` reordered: the unit with the most measured seconds (its tests' sum) first.

    A unit is a group (``groups[nodeid]``) or one test. A group's tests stay together, in
    their collected order; units of equal seconds (unmeasured ones: 0) keep theirs.
    """
    first_seen: dict[str, int] = {}
    seconds: dict[str, float] = {}
    for i, nodeid in enumerate(nodeids):
        unit = groups.get(nodeid) or nodeid
        first_seen.setdefault(unit, i)
        seconds[unit] = seconds.get(unit, 0.0) + measured.get(nodeid, 0.0)

    def key(nodeid: str) -> tuple[float, int]:
        unit = groups.get(nodeid) or nodeid
        return -seconds[unit], first_seen[unit]

    return sorted(nodeids, key=key)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests that share an expensive fixture; on xdist workers, longest units first.

    The groups take effect with ``--dist loadgroup`` (``make test``), through the
    scheduler below; a plain ``pytest`` run keeps its order and ignores them. The
    order changes only on an xdist worker (every worker sorts alike, as xdist
    requires), and keeps each group's tests together and in their collected order.
    """
    groups = {}
    for item in items:
        group = _xdist_group(item)
        groups[item.nodeid] = group
        if group is not None and item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(group))
    workerinput = getattr(config, "workerinput", None)
    if workerinput is None:
        return
    rank = {nodeid: i for i, nodeid in enumerate(longest_units_first([it.nodeid for it in items], groups, _measured_seconds()))}
    items.sort(key=lambda it: rank[it.nodeid])
    if GROUPS_FILE in workerinput:  # for the scheduler in the controlling process
        path = Path(workerinput[GROUPS_FILE]) / f"{workerinput['workerid']}.json"
        path.with_suffix(".tmp").write_text(json.dumps({k: v for k, v in groups.items() if v is not None}))
        path.with_suffix(".tmp").replace(path)


# pytest-xdist's own ``loadgroup`` appends "@group" to ``item._nodeid``, which pytest 9.2
# no longer reads (the node id lives in ``item._id``): its groups have no effect. So the
# workers write each test's group to a file and this scheduler, in the controlling
# process, reads it: a group is one work unit, any other test a unit of its own.
GROUPS_FILE = "reportkit_xdist_groups"


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """Tell each xdist worker where to write the groups (a folder of the controlling process)."""
    config = node.config
    folder = getattr(config, "_reportkit_groups_dir", None)
    if folder is None:
        import tempfile

        folder = config._reportkit_groups_dir = tempfile.mkdtemp(prefix="reportkit-xdist-groups-")
    node.workerinput[GROUPS_FILE] = folder


def pytest_sessionfinish(session: pytest.Session) -> None:
    """End the process's one headless browser of the browser checks, if one started (tests/headless.py)."""
    import sys

    if "headless" in sys.modules:
        sys.modules["headless"].close()


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = getattr(config, "_reportkit_groups_dir", None)
    if folder is not None:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """``--dist loadgroup``: the tests of one group (see :func:`_xdist_group`) go to one worker."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedBuildScheduling(LoadScopeScheduling):
        groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.groups is None:  # every worker has collected (and written) by the first call
                folder = Path(config._reportkit_groups_dir)
                self.groups = json.loads(next(iter(sorted(folder.glob("*.json")))).read_text())
            return self.groups.get(nodeid, nodeid)

    return SharedBuildScheduling(config, log)
