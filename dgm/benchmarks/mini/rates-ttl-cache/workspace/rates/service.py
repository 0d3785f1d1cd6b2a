"""Conversion on top of a rate source."""

from __future__ import annotations

import time
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Callable

from rates.source import RateSource, SourceError

CENT = Decimal("0.01")


class UnknownCurrency(LookupError):
    pass


class RateService:
    def __init__(self, source: RateSource, clock: Callable[[], float] = time.monotonic) -> None:
        self.source = source
        self.clock = clock

    def rate(self, base: str, quote: str) -> Decimal:
        """How many `quote` units one `base` unit buys."""
        if base == quote:
            return Decimal(1)
        rates = self.source.fetch(base)
        if quote not in rates:
            raise UnknownCurrency(f"no {base}->{quote} rate")
        return rates[quote]

    def convert(self, amount: Decimal, base: str, quote: str) -> Decimal:
        """`amount` of `base` in `quote`, rounded to cents (banker's rounding, as accounting wants)."""
        return (amount * self.rate(base, quote)).quantize(CENT, rounding=ROUND_HALF_EVEN)

    def convert_many(self, amounts: list[Decimal], base: str, quote: str) -> list[Decimal]:
        return [self.convert(a, base, quote) for a in amounts]


__all__ = ["RateService", "UnknownCurrency", "SourceError"]
