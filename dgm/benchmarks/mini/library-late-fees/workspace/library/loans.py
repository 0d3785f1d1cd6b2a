"""A loan of one item, and when it is due back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

LOAN_DAYS = {"book": 21, "dvd": 7, "magazine": 7}


@dataclass(frozen=True)
class Loan:
    item_id: str
    kind: str
    borrowed: date
    renewals: int = 0

    @property
    def loan_days(self) -> int:
        return LOAN_DAYS[self.kind] * (1 + self.renewals)

    @property
    def due(self) -> date:
        """Items are due `loan_days` after borrowing; if the library is closed that day, the
        item is due on the next day it is open (you cannot return it to a closed library)."""
        return self.borrowed + timedelta(days=self.loan_days)

    def renewed(self) -> "Loan":
        return Loan(self.item_id, self.kind, self.borrowed, self.renewals + 1)
