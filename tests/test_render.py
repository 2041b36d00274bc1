"""Display helpers: currency, percent, n/a, escaping, and loading a pickled report."""

from __future__ import annotations

import ast
import datetime
import pickle
from decimal import Decimal
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from sample_reports import FORMULA, XSS, am_report, team_report

from reportkit.core.errors import ParamsError, TemplateError
from reportkit.render import charts
from reportkit.render.notebook import (
    IN_WORKBOOK,
    NA,
    column_label,
    commission_table,
    format_cell,
    format_date,
    format_money,
    format_percent,
    heading,
    load_report,
    summary_table,
    table,
)


@pytest.mark.parametrize(
    "value, currency, expected",
    [
        (Decimal("1234.56"), "USD", "$1,234.56"),
        (Decimal("1234.5"), "USD", "$1,234.50"),
        (Decimal("-0.07"), "EUR", "-€0.07"),
        (Decimal("0.00"), "GBP", "£0.00"),
        (Decimal("1000000.00"), "CHF", "CHF 1,000,000.00"),
        (None, "USD", NA),
        (float("nan"), "USD", NA),
        (Decimal("NaN"), "USD", NA),
    ],
)
def test_money_is_currency_with_two_decimals_and_missing_is_na(value, currency, expected):
    assert format_money(value, currency) == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        (1.0, "100.0%"),
        (0.7500083333, "75.0%"),
        (0.12345, "12.3%"),
        (0.00125, "0.1%"),  # half away from zero, not banker's rounding
        (-1.5005, "-150.1%"),
        (Decimal("0.05"), "5.0%"),
        (float("nan"), NA),
        (None, NA),
        (float("inf"), NA),
    ],
)
def test_attainment_is_percent_and_undefined_is_na_never_zero_or_inf(value, expected):
    assert format_percent(value) == expected


def test_cells_are_formatted_by_column_and_type():
    assert format_cell(0.5, "attainment") == "50.0%"
    assert format_cell(float("nan"), "forecast_attainment") == NA
    assert format_cell(Decimal("12.30"), "revenue", "USD") == "$12.30"
    assert format_cell(pd.Timestamp("2025-06-30"), "close_date") == "2025-06-30"
    assert format_cell(pd.NaT, "close_date") == NA
    assert format_cell(1234, "days_since_last_order") == "1,234"
    assert format_cell(True, "missed") == "Yes"  # was "yes": booleans now read Yes/No (review issue 5)
    assert format_cell("00731", "account_manager_id") == "00731"
    assert format_date(datetime.date(2025, 1, 2)) == "2025-01-02"


def test_a_table_cell_is_format_cell_of_its_value_whatever_the_column_holds():
    """table() formats a column at a time; each cell must still be format_cell of the value itertuples gives."""
    import numpy as np

    frame = pd.DataFrame(
        {
            "status_rule": pd.Series(["growing_from_zero", None, "stable"], dtype="string[pyarrow]"),
            "revenue": [Decimal("-1234.5"), Decimal("NaN"), None],
            "attainment": [0.934, float("nan"), float("inf")],
            "missed": [True, np.bool_(False), None],
            "close_date": [pd.Timestamp("2025-06-30"), pd.NaT, datetime.date(2025, 1, 2)],
            "deals": np.array([1234, 0, -5], dtype="int64"),
            "ratio": [1.5, 2.25, float("-inf")],
            "name": ["<b>", "", "growing_from_zero"],
        }
    )
    cols = [*frame.columns, "revenue"]  # a column shown twice
    t = table(frame, cols, currency="EUR", miss_below=0.9)
    expected = tuple(
        tuple(format_cell(v, c, "EUR") for c, v in zip(cols, values)) for values in frame[cols].itertuples(index=False, name=None)
    )
    assert t.rows == expected
    assert t.rows[0][:2] == ("new revenue (none last year)", "-€1,234.50") and t.rows[1][:2] == (NA, NA)
    assert [row[2] for row in t.rows] == ["93.4%", NA, NA]
    assert [f[2] for f in t.fills] == ["#FFF3CD", None, None] and {f[1] for f in t.fills} == {None}


def test_text_is_html_escaped_in_tables_and_headings():
    report = am_report()
    html = table(report.accounts, ["account_id", "account_name"]).to_html()
    assert XSS not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert FORMULA in html  # shown as text, untouched
    head = heading(report)._repr_html_()
    assert "Ana &lt;Smith&gt;" in head and "<Smith>" not in head
    assert "East &amp; Co" in head


def test_table_shows_the_report_numbers_exactly():
    report = am_report()
    t = table(report.quarterly, ["period", "revenue", "quota", "attainment"], currency=report.currency)
    assert t.headers == ("Period", "Revenue", "Quota", "Attainment")
    assert t.rows == (
        ("FY2025-Q1", "$10,000.00", "$10,000.00", "100.0%"),
        ("FY2025-Q2", "$12,345.67", "$10,000.00", "123.5%"),
        ("FY2025-Q3", "-$50.05", NA, NA),
        ("FY2025-Q4", "$9,000.10", "$12,000.00", "75.0%"),
    )
    assert t.numeric == (False, True, True, True)
    assert "$12,345.67" in t._repr_html_() and "$12,345.67" in repr(t)


def test_table_with_unknown_column_names_the_available_ones():
    with pytest.raises(TemplateError, match="revenu") as info:
        table(am_report().quarterly, ["revenu"])
    assert "revenue" in info.value.hint


def test_table_max_rows_says_how_many_were_left_out():
    t = table(am_report().quarterly, ["period"], max_rows=2)
    assert len(t.rows) == 2 and "first 2 of 4 rows" in t.caption


def test_empty_frame_renders_no_rows():
    t = table(am_report().deals.iloc[0:0], ["deal_id", "amount"])
    assert t.rows == () and "no rows" in t.to_html() and "(no rows)" in t.to_text()


def test_summary_table_formats_money_and_attainment():
    t = summary_table(team_report())
    assert dict(t.rows) == {"Revenue (each deal once)": "$8,990.10", "Quota": "$12,000.00", "Attainment": "74.9%", "Members": "2"}


def test_team_summary_shows_the_attainment_basis_only_when_it_differs_from_revenue():
    base = team_report()
    same = summary_table(base)
    assert "Credited revenue (attainment basis)" not in dict(same.rows)
    overlap = team_report(summary={**base.summary, "credited_revenue": Decimal("9990.10"), "attainment_basis_differs": True})
    rows = dict(summary_table(overlap).rows)
    assert rows["Revenue (each deal once)"] == "$8,990.10"
    assert rows["Credited revenue (attainment basis)"] == "$9,990.10"


def test_column_labels_are_readable():
    assert column_label("revenue_last_year") == "Revenue last year"
    assert column_label("ytd_revenue") == "YTD revenue"


def test_load_report_unpickles_the_batch_report(tmp_path):
    report = am_report()
    pkl = tmp_path / "r.pkl"
    pkl.write_bytes(pickle.dumps(report))
    got = load_report(str(pkl), kind="account_manager", report_id="00731", period="FY2025-Q4", as_of="2025-06-30")
    assert got.id == "00731" and got.quarterly["revenue"].tolist() == report.quarterly["revenue"].tolist()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"kind": "account_manager", "report_id": "AM-002"}, "holds the report of '00731'"),
        ({"kind": "team", "report_id": "00731"}, "holds a 'account_manager' report"),
        ({"kind": "account_manager", "report_id": "00731", "period": "FY2025-Q3"}, "holds period"),
        ({"kind": "account_manager", "report_id": "00731", "as_of": "2025-07-01"}, "is as of"),
    ],
)
def test_load_report_refuses_a_pickle_of_another_report(tmp_path, kwargs, message):
    pkl = tmp_path / "r.pkl"
    pkl.write_bytes(pickle.dumps(am_report()))
    with pytest.raises(ParamsError, match=message):
        load_report(str(pkl), **kwargs)


def test_load_report_missing_pickle_and_bad_as_of_are_params_errors(tmp_path):
    with pytest.raises(ParamsError, match="does not exist"):
        load_report(str(tmp_path / "nope.pkl"), kind="team", report_id="x")
    with pytest.raises(ParamsError, match="ISO date"):
        load_report("", kind="team", report_id="x", params_file="p.yaml", as_of="31/12/2025")
    with pytest.raises(ParamsError, match="neither report_data nor params_file"):
        load_report("", kind="team", report_id="x")


def test_charts_are_deterministic_png_without_metadata():
    report, team = am_report(), team_report()
    for make, obj in (
        (charts.quarterly_chart, report),
        (charts.team_quarterly_chart, team),
        (charts.attainment_distribution_chart, team),
    ):
        a, b = charts.to_png(make(obj)), charts.to_png(make(obj))
        assert a.startswith(b"\x89PNG") and a == b
        assert b"matplotlib" not in a.lower()


def test_saving_a_chart_draws_it_once_and_gives_the_bytes_of_a_figure_left_with_its_layout_engine(monkeypatch):
    """Issue #18: tight_layout leaves a placeholder layout engine, which made every savefig draw
    (and encode) the figure twice; the charts drop it, and the PNG and SVG are the same bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    report, team = am_report(), team_report()
    draws: list[int] = []
    real_draw = FigureCanvasAgg.draw

    def counted_draw(canvas):
        draws.append(1)
        return real_draw(canvas)

    for make, obj in (
        (charts.quarterly_chart, report),
        (charts.team_quarterly_chart, team),
        (charts.attainment_distribution_chart, team),
    ):
        stock = make(obj)
        stock.set_layout_engine(PlaceHolderLayoutEngine(True, True))  # what Figure.tight_layout leaves
        png, svg = charts.to_png(stock), charts.to_svg(stock)
        fig = make(obj)
        draws.clear()
        monkeypatch.setattr(FigureCanvasAgg, "draw", counted_draw)
        assert charts.to_png(fig) == png and charts.to_svg(fig) == svg
        monkeypatch.undo()
        assert len(draws) == 1


def test_quarterly_chart_plots_the_report_values_unchanged():
    fig = charts.quarterly_chart(am_report())
    ax = fig.axes[0]
    revenue_bars, quota_bars = ax.containers
    assert [round(p.get_height(), 2) for p in revenue_bars] == [10000.0, 12345.67, -50.05, 9000.1]
    heights = [p.get_height() for p in quota_bars]
    assert heights[0] == 10000.0 and heights[2] != heights[2]  # NaN quota: no bar
    assert [t.get_text() for t in ax.get_xticklabels()] == ["FY2025-Q1", "FY2025-Q2", "FY2025-Q3", "FY2025-Q4"]


def test_notes_are_an_escaped_list_or_say_none():
    from reportkit.render.notebook import notes

    shown = notes(am_report(notes=("Quota <missing> for Q3", "b & c")))._repr_html_()
    assert shown == "<ul><li>Quota &lt;missing&gt; for Q3</li><li>b &amp; c</li></ul>"
    assert "No notes." in notes(am_report(notes=()))._repr_html_() and repr(notes(am_report(notes=()))) == "No notes."


def test_chart_display_carries_alt_text_and_escapes_it():
    from reportkit.render.notebook import figure

    data, meta = figure(charts.quarterly_chart(am_report()))._repr_mimebundle_()
    assert data["text/plain"] == "[chart] Ana <Smith>: revenue vs quota"
    assert 'alt="Ana &lt;Smith&gt;: revenue vs quota"' in data["text/html"]
    assert data["text/html"].startswith('<img src="data:image/png;base64,') and meta["image/png"]["alt"]


def statement_of_250_deals_in_two_tiers() -> pd.DataFrame:
    """250 deal lines (150 in tier 1 at 5 %, 100 in tier 2 at 8 %) and a quota bonus."""
    rows = [
        {
            "line": i + 1,
            "description": f"Deal D-{i:03d}",
            "basis": Decimal("1000.05"),
            "rate": Decimal("0.05") if i < 150 else Decimal("0.08"),
            "amount": Decimal("50.00") if i < 150 else Decimal("80.00"),
            "rule": "tier 1 at 5 %" if i < 150 else "tier 2 at 8 %",
            "award": "cash",
            "deal_id": f"D-{i:03d}",
            "tier": 1 if i < 150 else 2,
        }
        for i in range(250)
    ]
    rows.append(
        {
            "line": 251,
            "description": "Quota bonus",
            "basis": None,
            "rate": None,
            "amount": Decimal("2000.00"),
            "rule": "attainment >= 100%",
            "award": "cash",
            "deal_id": None,
            "tier": None,
        }
    )
    frame = pd.DataFrame(rows)
    frame["tier"] = pd.Series([r["tier"] for r in rows], dtype=object)  # as the statement's lines: int or None
    return frame


def test_a_report_table_longer_than_its_rows_shows_the_first_and_says_the_rest_are_in_the_workbook():
    frame = pd.DataFrame({"account_id": [f"A-{i:04d}" for i in range(1234)]})
    shown = table(frame, rest=IN_WORKBOOK)
    assert len(shown.rows) == 200 and shown.rows[-1] == ("A-0199",)
    assert shown.caption == "first 200 of 1,234 rows; all rows in the workbook"
    assert "first 200 of 1,234 rows; all rows in the workbook" in shown.to_html()
    assert len(table(frame, max_rows=None).rows) == 1234 and table(frame.head(200)).caption == ""


def test_a_long_table_shown_outside_a_report_does_not_mention_a_workbook():
    frame = pd.DataFrame({"account_id": [f"A-{i:04d}" for i in range(1234)]})
    shown = table(frame)
    assert shown.caption == "first 200 of 1,234 rows"
    assert "workbook" not in shown.to_html()
    assert table(frame, rest="all rows in deals.csv").caption == "first 200 of 1,234 rows; all rows in deals.csv"


@pytest.mark.parametrize("template", ["account_manager", "team", "company"])
def test_every_table_of_a_report_template_says_its_rows_left_out_are_in_the_workbook(template):
    nb = nbformat.read(Path(__file__).resolve().parents[1] / "templates" / f"{template}.ipynb", as_version=4)
    calls = [
        node
        for cell in nb.cells
        if cell.cell_type == "code"
        for node in ast.walk(ast.parse(cell.source))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "table"
    ]
    assert calls and all(
        any(k.arg == "rest" and getattr(k.value, "id", None) == "IN_WORKBOOK" for k in c.keywords) for c in calls
    )


def test_a_statement_longer_than_table_rows_is_shown_summed_by_rule_tier_and_award_with_its_total():
    lines = statement_of_250_deals_in_two_tiers()
    report = am_report(commission=lines, table_rows=200)
    shown = commission_table(report)
    assert shown.caption == "251 statement lines summed by rule, tier and award; every line in the workbook"
    assert shown.headers == ("Rule", "Tier", "Award", "Lines", "Basis", "Amount")
    assert shown.rows == (
        ("tier 1 at 5 %", "1", "cash", "150", "$150,007.50", "$7,500.00"),
        ("tier 2 at 8 %", "2", "cash", "100", "$100,005.00", "$8,000.00"),
        ("attainment >= 100%", "n/a", "cash", "1", "n/a", "$2,000.00"),
    )
    assert shown.footer[-1] == format_money(report.summary["commission_total"], report.currency)


def test_a_statement_within_table_rows_is_shown_line_by_line():
    report = am_report(commission=statement_of_250_deals_in_two_tiers(), table_rows=251)
    shown = commission_table(report)
    assert len(shown.rows) == 251 and shown.caption == "" and shown.rows[0][1] == "Deal D-000"


def test_a_summarys_plain_text_wraps_its_sentences_and_its_html_keeps_them_whole():
    # print(summary) / a notebook's text output had an 829-character line: the forecast's rule in words (the reader)
    from IPython.core.formatters import DisplayFormatter

    rule = (
        "Account manager forecasts: ETS (exponential smoothing), chosen because it had the lowest error in the backtest "
        "of earlier years (WAPE 23.5 % over 66 forecasts; seasonal naive 25.8 %). Account managers, teams and the "
        "company are reconciled so they add up."
    )
    report = am_report()
    report = am_report(summary={**report.summary, "forecast_rule": rule})
    shown, _ = DisplayFormatter().format(summary_table(report))
    text, page = shown["text/plain"], shown["text/html"]
    assert max(len(line) for line in text.splitlines()) <= 100  # a label (under 40) + 2 + a sentence's 60
    assert " ".join(text.split()).count(rule) == 1  # every word, in order, under its label
    assert "$9,000.10" in text and "Attainment" in text
    assert rule in page  # the HTML cell is one sentence: the browser wraps it


def test_figure_draws_the_svg_print_copy_unless_the_loaded_report_is_not_printed():
    from types import SimpleNamespace

    from reportkit.render import charts, figures

    def chart():
        return charts.quarterly_chart(am_report())

    try:
        figures.follow_report(SimpleNamespace(print_charts=False))  # a batch with PDFs off built it
        plain = figures.figure(chart(), alt="a line")
        figures.follow_report(SimpleNamespace())  # an object without the field: printed
        printed = figures.figure(chart(), alt="a line")
        figures.follow_report(None)  # built by hand
        by_hand = figures.figure(chart(), alt="a line")
    finally:
        figures.follow_report(None)
    assert plain.svg is None and "image/svg+xml" not in plain._repr_mimebundle_()[0]
    assert printed.svg and by_hand.svg == printed.svg
    assert plain.png == printed.png and plain._repr_mimebundle_()[0]["text/html"] == printed._repr_mimebundle_()[0]["text/html"]
