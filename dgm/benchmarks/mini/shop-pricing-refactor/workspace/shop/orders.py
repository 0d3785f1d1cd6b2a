"""Totals for the cart page, the invoice and the e-mailed quote."""

from __future__ import annotations

from shop.catalog import Line

TAX_RATE_PCT = 20


def order_total(lines: list[Line], tax_rate_pct: int = TAX_RATE_PCT) -> dict[str, int]:
    """Subtotal, tax and total of an order, as shown on the cart page."""
    subtotal = 0
    for line in lines:
        gross = line.product.unit_cents * line.qty
        discount = gross * line.discount_pct // 100
        subtotal += gross - discount
    tax = subtotal * tax_rate_pct // 100
    return {"subtotal": subtotal, "tax": tax, "total": subtotal + tax}


def invoice_lines(lines: list[Line]) -> list[tuple[str, int, int]]:
    """(sku, qty, net cents) per line, for the invoice PDF."""
    rows = []
    for line in lines:
        net = round(line.product.unit_cents * line.qty * (100 - line.discount_pct) / 100)
        rows.append((line.product.sku, line.qty, net))
    return rows


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def quote(lines: list[Line], tax_rate_pct: int = TAX_RATE_PCT) -> str:
    """The plain-text quote we e-mail to business customers."""
    out = ["QUOTE"]
    subtotal = 0
    for line in lines:
        gross = line.product.unit_cents * line.qty
        net = int(gross - gross * line.discount_pct / 100)
        subtotal += net
        promo = f" -{line.discount_pct}%" if line.discount_pct else ""
        out.append(f"  {line.qty} x {line.product.sku} @ {_money(line.product.unit_cents)}{promo} = {_money(net)}")
    tax = round(subtotal * tax_rate_pct / 100)
    out.append(f"Subtotal: {_money(subtotal)}")
    out.append(f"Tax ({tax_rate_pct}%): {_money(tax)}")
    out.append(f"Total: {_money(subtotal + tax)}")
    return "\n".join(out)
