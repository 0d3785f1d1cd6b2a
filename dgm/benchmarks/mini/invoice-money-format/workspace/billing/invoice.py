"""Invoice lines, totals and the printable invoice."""

from __future__ import annotations

from dataclasses import dataclass, field

from billing.money import format_money, to_cents


@dataclass(frozen=True)
class Item:
    description: str
    unit_price: str   # decimal string from the rate sheet, e.g. "112.50"
    quantity: float   # hours or pieces; hours may be fractional (0.25 steps)


@dataclass
class Invoice:
    number: str
    tax_rate: str = "0.0825"   # decimal string, e.g. "0.0825" for 8.25 %
    items: list[Item] = field(default_factory=list)

    def line_total(self, item: Item) -> int:
        """Cents for one line: unit price times quantity."""
        return round(to_cents(item.unit_price) * item.quantity)

    def subtotal(self) -> int:
        return sum(self.line_total(i) for i in self.items)

    def tax(self) -> int:
        return round(self.subtotal() * float(self.tax_rate))

    def total(self) -> int:
        return self.subtotal() + self.tax()

    def render(self) -> str:
        lines = [f"INVOICE {self.number}"]
        for item in self.items:
            lines.append(f"{item.description:<30}{item.quantity:>8g} x {format_money(to_cents(item.unit_price)):>12}"
                         f" = {format_money(self.line_total(item)):>12}")
        lines.append(f"{'Subtotal':<53}{format_money(self.subtotal()):>12}")
        lines.append(f"{'Tax':<53}{format_money(self.tax()):>12}")
        lines.append(f"{'Total':<53}{format_money(self.total()):>12}")
        return "\n".join(lines)
