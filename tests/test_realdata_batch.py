"""`reportkit batch` on the real public data sets, checked against figures computed
independently from the raw files.

Skipped only when ``../shared/data`` (next to the repository) is absent.
"""

from __future__ import annotations

import json
import pickle
from decimal import ROUND_HALF_UP, Context, Decimal
from pathlib import Path

import pandas as pd
import pytest
from datasets import DATA, SKIP_REASON

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "params"

pytestmark = [
    pytest.mark.realdata,
    pytest.mark.slow,
    pytest.mark.skipif(not DATA.is_dir(), reason=SKIP_REASON),
]


#: The tests that read one data set's batch share a worker under ``make test`` (pytest-xdist),
#: so that ``real_batch`` runs that batch once; test_privacy.py reads the Maven one too.
MAVEN_BATCH = pytest.mark.xdist_group("real_batch_maven_crm")
ADVENTUREWORKS_BATCH = pytest.mark.xdist_group("real_batch_adventureworks")
SUPERSTORE_BATCH = pytest.mark.xdist_group("real_batch_superstore")


def _batch(real_batch, name: str):
    result = real_batch(name)
    manifest = json.loads(result.manifest_path.read_text())
    return result, manifest


def _reports(result, manifest, kind: str) -> dict[str, object]:
    return {
        e["id"]: pickle.loads((result.output_dir / e["parameters"]["report_data"]).read_bytes())
        for e in manifest["reports"]
        if e["kind"] == kind
    }


def _assert_all_ok(result, manifest):
    failed = [(e["id"], e["error"]) for e in manifest["reports"] if e["status"] != "ok"]
    assert not failed
    for e in manifest["reports"]:
        assert sorted(e["outputs"]) == ["html", "ipynb", "xlsx"]
        for rel in e["outputs"].values():
            assert (result.output_dir / rel).stat().st_size > 0


# -- Maven CRM --------------------------------------------------------------------------

MAVEN_2017_QUARTERS = {  # SOURCE.md: won revenue by close quarter
    "FY2017-Q1": Decimal("1134672"),
    "FY2017-Q2": Decimal("3086111"),
    "FY2017-Q3": Decimal("2982255"),
    "FY2017-Q4": Decimal("2802496"),
}


@pytest.fixture(scope="module")
def maven(real_batch):
    return _batch(real_batch, "maven_crm")


@MAVEN_BATCH
def test_maven_batch_gives_35_account_manager_and_6_team_reports_all_ok(maven):
    result, manifest = maven
    _assert_all_ok(result, manifest)
    assert manifest["batch"]["counts"]["account_manager"] == 35
    assert manifest["batch"]["counts"]["team"] == 6
    teams = _reports(result, manifest, "team")
    assert sorted(t.sales_manager for t in teams.values()) == sorted(
        pd.read_csv(DATA / "maven-crm-sales-opportunities" / "sales_teams.csv")["manager"].unique()
    )


@MAVEN_BATCH
def test_maven_quarterly_revenue_of_all_reports_adds_up_to_the_published_figures(maven):
    result, manifest = maven
    ams = _reports(result, manifest, "account_manager")
    by_quarter = {q: Decimal("0") for q in MAVEN_2017_QUARTERS}
    for rep in ams.values():
        for row in rep.quarterly.itertuples():
            by_quarter[row.period] += row.revenue
    assert by_quarter == MAVEN_2017_QUARTERS
    # team reports: owner crediting never overlaps, so teams add up too
    teams = _reports(result, manifest, "team")
    assert sum(t.summary["revenue"] for t in teams.values()) == MAVEN_2017_QUARTERS["FY2017-Q4"]


@MAVEN_BATCH
def test_maven_agents_without_opportunities_still_get_a_report_that_says_so(maven):
    result, manifest = maven
    ams = _reports(result, manifest, "account_manager")
    rep = ams["Carl Lin"]  # SOURCE.md quirk 4: five agents have no opportunities
    assert rep.summary["revenue"] == Decimal("0.00")
    assert rep.deals.empty
    assert any("No deals" in n for n in rep.notes)


@MAVEN_BATCH
def test_maven_first_quarter_begun_before_the_data_is_n_a_for_every_agent_not_a_miss(maven):
    """The data begins on 2017-03-01: FY2017-Q1 (January to March) has one month of sales
    and no performance verdict; every report's table and notes say so."""
    result, manifest = maven
    ams = _reports(result, manifest, "account_manager")
    assert len(ams) == 35
    for e in manifest["reports"]:
        if e["kind"] != "account_manager":
            continue
        rep = ams[e["id"]]
        q1 = rep.performance.set_index("period").loc["FY2017-Q1"]
        assert (q1["status"], q1["note"]) == ("n/a", "data begins on 2017-03-01"), e["id"]
        assert pd.isna(q1["missed"]) and int(q1["consecutive_misses"]) == 0
        html = (result.output_dir / e["outputs"]["html"]).read_text(encoding="utf-8")
        assert "FY2017-Q1: data begins on 2017-03-01" in html, e["id"]


@MAVEN_BATCH
def test_maven_team_revenue_is_the_sum_of_its_members(maven):
    result, manifest = maven
    ams = _reports(result, manifest, "account_manager")
    for team in _reports(result, manifest, "team").values():
        members = [a for a in ams.values() if a.team == team.name]
        assert len(members) == team.summary["members"]
        assert team.summary["revenue"] == sum(m.summary["revenue"] for m in members)
        assert team.summary["commission_expense"] == sum(m.summary["commission_total"] for m in members)


# -- AdventureWorks ---------------------------------------------------------------------

AW = DATA / "adventureworks-pl300-reseller-sales"


@pytest.fixture(scope="module")
def adventureworks(real_batch):
    return _batch(real_batch, "adventureworks")


@pytest.fixture(scope="module")
def aw_raw():
    fact = pd.read_csv(AW / "FactResellerSales.csv", usecols=["OrderDate", "SalesTerritoryKey", "SalesAmount"])
    june = pd.read_csv(
        AW / "ResellerSales_202006.csv", encoding="utf-16", usecols=["OrderDate", "SalesTerritoryKey", "SalesAmount"]
    )
    sales = pd.concat([fact, june], ignore_index=True)
    sales["OrderDate"] = pd.to_datetime(sales["OrderDate"])
    terr = pd.read_csv(AW / "DimEmployeeSalesTerritory.csv")
    targets = pd.read_csv(AW / "ResellerSalesTargets.csv", encoding="utf-16", dtype=str)
    people = pd.read_csv(AW / "SalespersonPerformance.csv", dtype=str)
    return sales, terr, targets, people


@ADVENTUREWORKS_BATCH
def test_adventureworks_batch_runs_every_report_ok(adventureworks):
    result, manifest = adventureworks
    _assert_all_ok(result, manifest)
    assert manifest["batch"]["counts"]["team"] == 5  # 3 regions + leadership + executive
    assert manifest["batch"]["counts"]["account_manager"] >= 14


@ADVENTUREWORKS_BATCH
def test_adventureworks_revenue_is_territory_sales_and_quota_is_the_monthly_targets_in_thousands(adventureworks, aw_raw):
    result, manifest = adventureworks
    sales, terr, targets, people = aw_raw
    ams = _reports(result, manifest, "account_manager")
    q4 = sales[(sales["OrderDate"] >= "2020-04-01") & (sales["OrderDate"] <= "2020-06-30")]
    checked = 0
    for key, rep in ams.items():
        territories = set(terr.loc[terr["EmployeeKey"] == int(key), "SalesTerritoryKey"])
        expected = sum(
            (Decimal(repr(v)) for v in q4.loc[q4["SalesTerritoryKey"].isin(territories), "SalesAmount"]), Decimal("0")
        ).quantize(Decimal("0.01"))
        row = rep.quarterly.set_index("period").loc["FY2020-Q4"]
        assert row["revenue"] == expected, rep.name
        emp_id = people.loc[people["EmployeeKey"] == key, "EmployeeID"].iloc[0]
        t = targets[(targets["EmployeeID"] == emp_id) & (targets["Year"] == "2020")]
        cells = [t[m].iloc[0] for m in ("M04", "M05", "M06")] if len(t) else []
        if cells and any(c != "-" for c in cells):
            quota = sum(Decimal(c) * 1000 for c in cells if c != "-")
            assert row["quota"] == quota, rep.name
            checked += 1
    assert checked >= 10


@ADVENTUREWORKS_BATCH
def test_adventureworks_team_revenue_counts_each_overlapping_deal_once(adventureworks, aw_raw):
    result, manifest = adventureworks
    sales, _terr, *_ = aw_raw
    teams = _reports(result, manifest, "team")
    leadership = next(t for t in teams.values() if t.name == "Sales leadership")
    # the three regional managers cover all ten territories between them: the team's
    # quarter revenue is the company's quarter revenue, not a double count
    q4 = sales[(sales["OrderDate"] >= "2020-04-01") & (sales["OrderDate"] <= "2020-06-30")]
    company = sum((Decimal(repr(v)) for v in q4["SalesAmount"]), Decimal("0")).quantize(Decimal("0.01"))
    assert leadership.summary["revenue"] == company


AW_COMPANY_FY2020_Q4 = Decimal("8971848.30")  # issue #12: the company's actual for FY2020-Q4 (YTD 36.57 M)


def _sales_sum(frame) -> Decimal:
    return sum((Decimal(repr(v)) for v in frame["SalesAmount"]), Decimal("0")).quantize(Decimal("0.01"))


@ADVENTUREWORKS_BATCH
def test_adventureworks_company_workbook_counts_each_deal_once(adventureworks, aw_raw):
    import openpyxl

    result, manifest = adventureworks
    sales, *_ = aw_raw
    q4 = _sales_sum(sales[(sales["OrderDate"] >= "2020-04-01") & (sales["OrderDate"] <= "2020-06-30")])
    ytd = _sales_sum(sales[(sales["OrderDate"] >= "2019-07-01") & (sales["OrderDate"] <= "2020-06-30")])
    assert q4 == AW_COMPANY_FY2020_Q4 and (ytd / 1_000_000).quantize(Decimal("0.01")) == Decimal("36.57")
    assert manifest["batch"]["company_workbook"] == "company.xlsx" and manifest["batch"]["company_workbook_error"] is None
    ws = openpyxl.load_workbook(result.output_dir / "company.xlsx", data_only=True)["Company"]
    header = [c.value for c in ws[2]]  # row 1: the title row
    rows = {r[0]: r for r in ws.iter_rows(min_row=3, values_only=True) if r[0]}
    company = rows["Company total"]
    cents = lambda v: Decimal(repr(v)).quantize(Decimal("0.01"))  # noqa: E731
    assert cents(company[header.index("Revenue (each deal once)")]) == q4  # not the sum of the five teams (26.9 M)
    assert cents(company[header.index("YTD revenue (each deal once)")]) == ytd
    teams = [r for name, r in rows.items() if name in {t.name for t in _reports(result, manifest, "team").values()}]
    assert sum(cents(r[header.index("Revenue (each deal once)")]) for r in teams) > q4  # the teams share deals
    # the sheet says why, in a note below the table (it starts right of the columns repeated on every printed page)
    assert any("not the sum of the team rows" in str(v) for r in ws.iter_rows(min_row=3, values_only=True) for v in r)


@ADVENTUREWORKS_BATCH
def test_adventureworks_team_attainment_lies_within_its_members_and_says_how(adventureworks):
    result, manifest = adventureworks
    for team in _reports(result, manifest, "team").values():
        att = team.leaderboard["attainment"].dropna()
        assert att.min() - 1e-12 <= team.summary["attainment"] <= att.max() + 1e-12, team.name
    na = next(t for t in _reports(result, manifest, "team").values() if t.name == "North America")
    html = (
        result.output_dir
        / next(e for e in manifest["reports"] if e["kind"] == "team" and e["name"] == "North America")["outputs"]["html"]
    ).read_text()
    # overlapping territories: both the revenue (each deal once) and the attainment basis are shown, labelled
    assert na.summary["credited_revenue"] > na.summary["revenue"]
    assert "Revenue (each deal once)" in html and "Credited revenue (attainment basis)" in html
    assert "Team attainment = the credited revenue of the members who have a quota" in html


# -- Superstore -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def superstore(real_batch):
    return _batch(real_batch, "superstore")


@SUPERSTORE_BATCH
def test_superstore_batch_reports_each_regional_manager_from_the_xls(superstore):
    result, manifest = superstore
    _assert_all_ok(result, manifest)
    ams = _reports(result, manifest, "account_manager")
    assert sorted(a.name for a in ams.values()) == [
        "Anna Andreadi",
        "Cassandra Brandow",
        "Chuck Magee",
        "Kelly Williams",
    ]


@SUPERSTORE_BATCH
def test_superstore_q4_2014_revenue_is_the_exact_sales_of_the_region_rounded_once(superstore):
    result, manifest = superstore
    orders = pd.read_excel(DATA / "tableau-sample-superstore" / "Sample - Superstore.xls", sheet_name="Orders", engine="calamine")
    people = pd.read_excel(DATA / "tableau-sample-superstore" / "Sample - Superstore.xls", sheet_name="People", engine="calamine")
    q4 = orders[(orders["Order Date"] >= "2014-10-01") & (orders["Order Date"] <= "2014-12-31")]
    ams = {a.name: a for a in _reports(result, manifest, "account_manager").values()}
    shown = Context(prec=15)  # each double as Excel shows it (731.9399999999999 -> 731.94)
    for person, region in zip(people["Person"], people["Region"]):
        lines = q4.loc[q4["Region"] == region, "Sales"]
        exact = sum((shown.plus(Decimal(repr(v))) for v in lines), Decimal("0"))
        assert ams[person].summary["revenue"] == exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), person
