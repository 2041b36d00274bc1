"""One currency table: notebooks, charts and workbooks show the same symbol and decimals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from reportkit.core.currency import CURRENCIES, currency_info
from reportkit.render.charts import money_tick
from reportkit.render.excel import money_format
from reportkit.render.notebook import format_money


@pytest.mark.parametrize("code", sorted(CURRENCIES))
def test_notebook_chart_and_workbook_show_the_same_symbol(code):
    info = currency_info(code)
    shown = info.symbol or code
    assert shown in format_money(Decimal("1234.00"), code)
    assert shown in money_tick(250_000, code)
    assert shown in money_format(code)


@pytest.mark.parametrize(
    "code, amount, notebook, excel_number",
    [
        ("USD", "1234.5", "$1,234.50", "#,##0.00"),
        ("JPY", "1234.50", "¥1,235", "#,##0"),  # ISO 4217: yen have no minor unit; half away from zero
        ("JPY", "-1234.50", "-¥1,235", "#,##0"),
        ("BHD", "1.23", "BHD 1.230", "#,##0.000"),  # dinar: three decimals (fils)
        ("SEK", "10", "SEK 10.00", "#,##0.00"),  # not in the table: its code, two decimals
    ],
)
def test_amounts_show_the_currencys_minor_units(code, amount, notebook, excel_number):
    assert format_money(Decimal(amount), code) == notebook
    assert (
        money_format(code).split(";")[0].replace(f'"{currency_info(code).symbol}"', "").replace(f' "{code}"', "") == excel_number
    )


def test_lower_case_codes_are_the_same_currency():
    assert currency_info("eur") == currency_info("EUR") == CURRENCIES["EUR"]
