"""Money amounts as they appear on invoices."""

from __future__ import annotations


def to_cents(amount: str) -> int:
    """'19.99' -> 1999. Amounts in our data files have at most two decimals."""
    return int(float(amount) * 100)


def format_money(cents: int, symbol: str = "$") -> str:
    """1234.5 dollars as '$1234.50'."""
    return f"{symbol}{cents / 100:.2f}"
