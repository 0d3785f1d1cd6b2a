"""Late fees: charged per day the library was open after the due date, with a cap per item."""

from __future__ import annotations

from datetime import date

from library.loans import Loan

FEE_PER_DAY_CENTS = {"book": 25, "dvd": 100, "magazine": 10}
MAX_FEE_CENTS = {"book": 1000, "dvd": 2000, "magazine": 300}


def days_late(loan: Loan, returned: date) -> int:
    return (returned - loan.due).days


def late_fee(loan: Loan, returned: date) -> int:
    """Cents owed for returning `loan` on `returned`."""
    return days_late(loan, returned) * FEE_PER_DAY_CENTS[loan.kind]


def statement(loans: list[tuple[Loan, date]]) -> list[str]:
    """Lines for the member's account page: one per late item, then the total."""
    lines, total = [], 0
    for loan, returned in loans:
        fee = late_fee(loan, returned)
        if fee:
            lines.append(f"{loan.item_id}: {days_late(loan, returned)} day(s) late, {fee / 100:.2f}")
            total += fee
    lines.append(f"total: {total / 100:.2f}")
    return lines
