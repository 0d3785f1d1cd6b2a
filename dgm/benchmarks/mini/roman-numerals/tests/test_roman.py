import pytest

from chapters import heading, parse_heading, renumber
from roman import from_roman, to_roman


def test_known_values():
    cases = {1: "I", 4: "IV", 9: "IX", 14: "XIV", 40: "XL", 90: "XC", 400: "CD", 900: "CM",
             1994: "MCMXCIV", 2024: "MMXXIV", 3999: "MMMCMXCIX", 444: "CDXLIV"}
    for number, numeral in cases.items():
        assert to_roman(number) == numeral
        assert from_roman(numeral) == number


def test_round_trip_all():
    for n in range(1, 4000):
        assert from_roman(to_roman(n)) == n


def test_case_insensitive():
    assert from_roman("mcmxciv") == 1994


def test_to_roman_range():
    for bad in (0, -1, 4000, 2.5, "7"):
        with pytest.raises(ValueError):
            to_roman(bad)


def test_from_roman_rejects_non_canonical():
    for bad in ("IIII", "IC", "VX", "MMMM", "XIIV", "", "ABC", "IIV", "VV", "LL", "DD", "XM"):
        with pytest.raises(ValueError):
            from_roman(bad)


def test_chapters():
    assert heading(4, "Rain") == "Chapter IV: Rain"
    assert parse_heading("Chapter iv: Rain") == (4, "Rain")
    lines = ["Chapter IX: One", "text", "Chapter IIII: odd", "Chapter XL: Two"]
    assert renumber(lines) == ["Chapter I: One", "text", "Chapter IIII: odd", "Chapter II: Two"]
