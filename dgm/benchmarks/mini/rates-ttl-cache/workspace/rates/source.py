"""Where exchange rates come from. The production source calls a rate provider's HTTP API,
which is slow (~300 ms) and rate-limited, so callers should not ask it more than needed."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol


class SourceError(Exception):
    """The provider could not be reached or returned garbage."""


class RateSource(Protocol):
    def fetch(self, base: str) -> dict[str, Decimal]:
        """All rates for `base`: {"USD": Decimal("1.0832"), ...} (1 base = rate quote)."""


class StaticSource:
    """Fixed rates, for local development."""

    def __init__(self, table: dict[str, dict[str, Decimal]]) -> None:
        self.table = table

    def fetch(self, base: str) -> dict[str, Decimal]:
        if base not in self.table:
            raise SourceError(f"no rates for {base}")
        return dict(self.table[base])
