import importlib

from shop import orders
from shop.catalog import CATALOG, Line

pricing = importlib.import_module("shop.pricing")


def lines():
    return [
        Line(CATALOG["MUG"], 2),
        Line(CATALOG["CAP"], 1, 15),
        Line(CATALOG["TEE"], 3, 10),
        Line(CATALOG["PIN"], 1, 15),
    ]


def test_line_net_rounds_discount_half_up():
    assert pricing.line_net(350, 1, 15) == 297
    assert pricing.line_net(250, 1, 15) == 212
    assert pricing.line_net(1999, 3, 10) == 5397
    assert pricing.line_net(1250, 2, 0) == 2500
    assert pricing.line_net(1999, 1, 100) == 0


def test_tax_rounds_half_up():
    assert pricing.tax(1250, 20) == 250
    assert pricing.tax(1233, 15) == 185
    assert pricing.tax(1, 50) == 1
    assert pricing.tax(0, 20) == 0


def test_order_total():
    assert orders.order_total(lines()) == {"subtotal": 8406, "tax": 1681, "total": 10087}
    assert orders.order_total([Line(CATALOG["MUG"], 1)]) == {"subtotal": 1250, "tax": 250, "total": 1500}


def test_invoice_lines():
    assert orders.invoice_lines(lines()) == [("MUG", 2, 2500), ("CAP", 1, 297), ("TEE", 3, 5397), ("PIN", 1, 212)]


def test_quote_layout_and_numbers():
    assert orders.quote(lines()).splitlines() == [
        "QUOTE",
        "  2 x MUG @ 12.50 = 25.00",
        "  1 x CAP @ 3.50 -15% = 2.97",
        "  3 x TEE @ 19.99 -10% = 53.97",
        "  1 x PIN @ 2.50 -15% = 2.12",
        "Subtotal: 84.06",
        "Tax (20%): 16.81",
        "Total: 100.87",
    ]


def test_all_views_agree():
    for qty in range(1, 6):
        for pct in (0, 5, 15, 33, 50):
            order = [Line(CATALOG["CAP"], qty, pct), Line(CATALOG["TEE"], qty, pct)]
            total = orders.order_total(order)
            assert sum(net for _, _, net in orders.invoice_lines(order)) == total["subtotal"]
            assert f"Total: {total['total'] // 100}.{total['total'] % 100:02d}" in orders.quote(order)


def _patch(monkeypatch, name, fake):
    monkeypatch.setattr(pricing, name, fake)
    if hasattr(orders, name):  # `from shop.pricing import ...` style
        monkeypatch.setattr(orders, name, fake)


def test_orders_use_pricing_for_lines(monkeypatch):
    _patch(monkeypatch, "line_net", lambda unit_cents, qty, discount_pct: 1000)
    assert orders.order_total(lines())["subtotal"] == 4000
    assert [net for _, _, net in orders.invoice_lines(lines())] == [1000] * 4
    assert "Subtotal: 40.00" in orders.quote(lines())


def test_orders_use_pricing_for_tax(monkeypatch):
    _patch(monkeypatch, "tax", lambda subtotal_cents, rate_pct: 7)
    assert orders.order_total(lines())["tax"] == 7
    assert "Tax (20%): 0.07" in orders.quote(lines())
