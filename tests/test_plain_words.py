"""What upper management reads (issue #14 part 4): next year's forecast at year end,
data-quality notes, branding; each checked on what the report shows."""

from __future__ import annotations

import dataclasses
import datetime
import html
import re
from pathlib import Path

import pandas as pd
import pytest
from batch_contexts import batch_contexts, params_fit_cache

import reportkit as rk
from reportkit.config.params import BatchParams
from reportkit.core.errors import ParamsError
from reportkit.core.periods import Period
from reportkit.data.model import Dataset, load_change_notes
from reportkit.domain.backtest import forecast_hierarchy
from reportkit.render.notebook import heading, summary_table
from reportkit.reports.builders import build_account_manager_report, build_company_report, build_team_report
from reportkit.run.index import index_html

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo():
    return rk.load(ROOT / "params" / "demo.yaml")


@pytest.fixture(scope="module", autouse=True)
def one_forecast_per_selection(demo):
    """The module's reports read a forecast hierarchy computed once in the run (tests/batch_contexts.py):
    the words they are checked for, the same figures, not one backtest per build."""
    params, _ = demo
    with batch_contexts(params):
        yield


@pytest.fixture(scope="module")
def next_year(demo) -> pd.DataFrame:
    """The demo's ``forecast_hierarchy`` of FY2026 at its ``as_of`` (the year's last day), by (level, entity):
    computed once for the module, its model fits read from the run's fit cache where a build made them."""
    params, ds = demo
    return forecast_hierarchy(ds, 2026, params.as_of, fit_cache=params_fit_cache(params)).set_index(["level", "entity"])


def _summary_rows(report) -> dict[str, str]:
    return dict(summary_table(report).rows)


def test_at_year_end_the_summary_shows_next_years_forecast_and_says_its_quota_is_unknown(demo, next_year):
    params, ds = demo  # as of 2025-12-31: FY2025 is over; the demo has no FY2026 quota
    am = build_account_manager_report(ds, "AM-001", "FY2025-Q4", params, params.as_of)
    rows = _summary_rows(am)
    assert rows["Annual forecast"] == rows["YTD revenue"]  # the closed year: its actuals
    assert rows["Next fiscal year"] == "FY2026"
    assert rows["Next year's quota"] == "not in the data yet"
    assert rows["Next year's forecast attainment"] == "n/a"
    assert any("No quota for FY2026 in the data yet" in n for n in am.notes)
    # the chosen method per level, forecast for all of FY2026 as of the year's last day, with its range
    nxt = next_year
    row = nxt.loc[("account_manager", "AM-001")]
    assert f"{row['forecast']:,.2f}" in rows["Next year's forecast"]
    assert (
        f"{row['low']:,.2f}" in rows["Next year's forecast range"] and f"{row['high']:,.2f}" in rows["Next year's forecast range"]
    )
    assert rows["How next year's forecast was chosen"].startswith("FY2026 has not begun")
    team = build_team_report(ds, "Team North", "FY2025-Q4", params, params.as_of)
    assert team.summary["next_year_forecast"] == nxt.loc[("team", "Team North"), "forecast"]


def test_at_year_end_how_the_forecast_was_chosen_says_the_year_is_over_and_describes_no_range(demo):
    # it still said "The range is an 80 % prediction interval ..." beside "Forecast range: none: the year is over" (the reader)
    params, ds = demo  # FY2025-Q4 as of 2025-12-31
    with batch_contexts(params):
        reports = [
            build_account_manager_report(ds, "AM-001", "FY2025-Q4", params, params.as_of),
            build_team_report(ds, "Team North", "FY2025-Q4", params, params.as_of),
        ]
    for report in reports:
        rows = _summary_rows(report)
        rule = rows["How the forecast was chosen"]
        assert rows["Forecast range"] == "none: the year is over (its forecast is its revenue)"
        assert rule.startswith("FY2025 is over by the report date: its forecast is its revenue"), rule
        assert "range" in rule and "prediction interval" not in rule and "WAPE" not in rule
        assert rows["How next year's forecast was chosen"].startswith("FY2026 has not begun")


def test_next_years_forecast_is_set_against_next_years_quota_when_the_data_has_it(demo):
    params, ds = demo
    q = ds.quotas
    fy25 = Period.parse("FY2025", ds.calendar)
    next_year = q.loc[q["period_start"] >= str(fy25.start)].copy()
    next_year["period_start"] = next_year["period_start"] + pd.DateOffset(years=1)
    next_year["period_end"] = next_year["period_end"] + pd.DateOffset(years=1)
    ds2 = dataclasses.replace(ds, quotas=pd.concat([q, next_year], ignore_index=True))
    am = build_account_manager_report(ds2, "AM-001", "FY2025-Q4", params, params.as_of)
    assert am.summary["next_year_quota"] == am.summary["annual_quota"]  # FY2025's quotas repeated for FY2026
    expected = float(am.summary["next_year_forecast"]) / float(am.summary["next_year_quota"])
    assert am.summary["next_year_forecast_attainment"] == pytest.approx(expected)
    assert not any("No quota for FY2026" in n for n in am.notes)


def test_inside_the_year_there_is_no_next_year_forecast_and_the_range_is_wide(demo):
    params, ds = demo
    as_of = datetime.date(2025, 8, 15)
    am = build_account_manager_report(ds, "AM-001", "FY2025-Q3", params, as_of)
    assert "next_year_forecast" not in am.summary
    assert am.summary["forecast_low"] < am.summary["forecast_high"]
    assert "prediction interval" in _summary_rows(am)["How the forecast was chosen"]  # inside the year: the range's rule


def test_the_mid_year_example_params_file_is_inside_its_year():
    params, ds = rk.load(ROOT / "params" / "demo_midyear.yaml")
    year = Period.parse(params.period, ds.calendar).year
    assert year.start < params.as_of < year.end


def test_what_loading_changed_is_in_the_notes_of_the_reports_that_read_it_and_on_the_index(demo):
    params, ds = demo
    ds2 = dataclasses.replace(ds, load_changes=(("deals", "merged", 3), ("accounts", "placeholder", 2)))
    with batch_contexts(params):  # the chosen forecast once for both, as in the batch
        am = build_account_manager_report(ds2, "AM-001", "FY2025-Q4", params, params.as_of)
        team = build_team_report(ds2, "Team North", "FY2025-Q4", params, params.as_of)
    assert "Data quality (deals): 3 repeated rows merged into one." in " ".join(am.notes)
    assert any(n.startswith("Data quality (accounts): 2 cells") for n in am.notes)
    assert any(n.startswith("Data quality (deals)") for n in team.notes)
    assert not any(n.startswith("Data quality (accounts)") for n in team.notes)  # a team report reads no accounts
    page = html.unescape(index_html(params, Period.parse(params.period, ds.calendar), [], data_quality=load_change_notes(ds2)))
    assert "Data quality (deals): 3 repeated rows merged into one." in page


# -- branding --------------------------------------------------------------------------------


def _params(tmp_path: Path, branding: str) -> Path:
    p = tmp_path / "p.yaml"
    p.write_text(f"source: s.yaml\nperiod: FY2025-Q4\nas_of: 2025-12-31\n{branding}", encoding="utf-8")
    return p


def test_branding_reads_a_logo_beside_the_params_file_and_an_accent_colour(tmp_path):
    (tmp_path / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>', encoding="utf-8")
    params = rk.load_params(_params(tmp_path, 'branding: {company: Acme, logo: logo.svg, accent: "#0a7e8c"}\n'))
    assert params.branding.logo == tmp_path / "logo.svg" and params.branding.accent == "#0A7E8C"
    assert params.company == "Acme"
    assert BatchParams.model_fields["branding"].default is None


@pytest.mark.parametrize(
    ("branding", "message"),
    [
        ("branding: {logo: missing.png}\n", "logo file .*missing.png' does not exist"),
        ("branding: {logo: notes.txt}\n", "neither a PNG nor an SVG"),
        ('branding: {accent: "teal"}\n', r"'teal' is not a hex colour; write it as \"#RRGGBB\""),
        ("branding:\n  accent: #0A7E8C\n", r"None is not a hex colour.*quoted"),  # unquoted: YAML reads a comment
    ],
    ids=["missing-logo", "not-an-image", "colour-name", "unquoted-hash"],
)
def test_bad_branding_is_refused_naming_the_key_and_the_fix(tmp_path, branding, message):
    (tmp_path / "notes.txt").write_text("not an image", encoding="utf-8")
    with pytest.raises(ParamsError, match=message) as exc:
        rk.load_params(_params(tmp_path, branding))
    assert "branding." in str(exc.value)


def test_the_html_header_shows_the_company_logo_and_accent_without_a_path(demo):
    params, ds = demo
    am = build_account_manager_report(ds, "AM-001", "FY2025-Q4", params, params.as_of)
    page = heading(am)._repr_html_()
    assert "Demo Co" in page and 'src="data:image/svg+xml;base64,' in page
    assert '<h1 style="color:#0A7E8C">' in page
    assert str(ROOT) not in page and "demo-logo.svg" not in page
    assert re.search(r"Alice Andersen \(AM-001\) — FY2025-Q4</h1>", page)


def test_a_company_report_of_some_teams_shows_their_members_next_year_sum_without_a_range(demo, next_year):
    params, ds = demo
    some = params.model_copy(update={"account_managers": ("AM-001",)})  # the batch reports on Team North only
    co = build_company_report(ds, "company", "FY2025-Q4", some, some.as_of)
    nxt = next_year
    am = ds.account_managers
    north = am.loc[am["team"] == "Team North", "account_manager_id"].astype(str)
    assert co.summary["next_year_forecast"] == sum(nxt.loc[("account_manager", a), "forecast"] for a in north)
    assert co.summary["next_year_forecast_low"] is None and co.summary["next_year_forecast_high"] is None
    assert any(f"covers 1 of the {am['team'].nunique()} teams" in n for n in co.notes)


def _messages_with_optional_plurals() -> list[str]:
    """Every string a reader can see (literals and f-string parts, not docstrings) that says "(s)"."""
    import ast

    found = []
    for path in sorted((ROOT / "src" / "reportkit").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            literal = isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
            if literal and re.search(r"\w\(s\)", node.value):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value.strip()[:80]}")
    return found


def test_no_message_hedges_a_plural_with_s_in_brackets_it_counts_the_noun():
    assert _messages_with_optional_plurals() == []
    assert load_change_notes(Dataset(None, None, None, load_changes=(("deals", "merged", 1), ("deals", "rounded", 2)))) == [
        "Data quality (deals): 1 repeated row merged into one; 2 amounts with fractions of a cent shown rounded to the "
        "cent (totals add the exact amounts)."
    ]
