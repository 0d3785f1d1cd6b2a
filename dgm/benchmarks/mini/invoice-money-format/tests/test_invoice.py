import pytest

from billing.invoice import Invoice, Item
from billing.money import format_money, to_cents


def test_to_cents_exact():
    assert to_cents("19.99") == 1999
    assert to_cents("4.35") == 435
    assert to_cents("7") == 700
    assert to_cents("0.5") == 50
    assert to_cents("-3.10") == -310
    assert to_cents("1,299.00") == 129900
    assert to_cents("0.07") == 7


def test_to_cents_rejects():
    for bad in ("abc", "1.234", "", "1.2.3", "$5"):
        with pytest.raises(ValueError):
            to_cents(bad)


def test_format_money():
    assert format_money(0) == "$0.00"
    assert format_money(5) == "$0.05"
    assert format_money(1234567) == "$12,345.67"
    assert format_money(-5000) == "-$50.00"
    assert format_money(-99) == "-$0.99"
    assert format_money(100000000, symbol="€") == "€1,000,000.00"


def test_line_total_half_up():
    inv = Invoice("T-1")
    assert inv.line_total(Item("x", "0.05", 0.5)) == 3
    assert inv.line_total(Item("x", "19.99", 3)) == 5997
    assert inv.line_total(Item("x", "112.50", 7.25)) == 81563
    assert inv.line_total(Item("credit", "-0.05", 0.5)) == -3


def test_tax_half_up_exact():
    inv = Invoice("T-2", items=[Item("a", "10.00", 1)])
    assert inv.tax() == 83
    inv = Invoice("T-3", tax_rate="0.07", items=[Item("a", "1.05", 1), Item("b", "0.45", 1)])
    assert inv.subtotal() == 150
    assert inv.tax() == 11


def test_render():
    inv = Invoice("2024-017", items=[Item("Consulting (hours)", "112.50", 110.25), Item("Travel", "4.35", 1)])
    text = inv.render().splitlines()
    assert text[0] == "INVOICE 2024-017"
    assert text[1] == f"{'Consulting (hours)':<30}{110.25:>8g} x {'$112.50':>12} = {'$12,403.13':>12}"
    assert text[2].endswith("= " + f"{'$4.35':>12}")
    assert text[3] == f"{'Subtotal':<53}{'$12,407.48':>12}"
    assert text[4] == f"{'Tax':<53}{'$1,023.62':>12}"
    assert text[5] == f"{'Total':<53}{'$13,431.10':>12}"
