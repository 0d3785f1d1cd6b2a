"""Roman numerals for chapter and volume numbers in the typesetting pipeline (1..3999)."""

from __future__ import annotations

NUMERALS = [
    (1000, "M"),
    (500, "D"),
    (100, "C"),
    (50, "L"),
    (10, "X"),
    (5, "V"),
    (1, "I"),
]

VALUES = {symbol: value for value, symbol in NUMERALS}


def to_roman(number: int) -> str:
    """MCMXCIV for 1994."""
    parts = []
    for value, symbol in NUMERALS:
        count, number = divmod(number, value)
        parts.append(symbol * count)
    return "".join(parts)


def from_roman(text: str) -> int:
    """1994 for MCMXCIV (case-insensitive)."""
    return sum(VALUES[ch] for ch in text.upper())
