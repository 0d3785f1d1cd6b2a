import pytest

from sizes import format_size, parse_size
from usage import change_line, usage_line


def test_small_values_in_bytes():
    assert format_size(0) == "0 B"
    assert format_size(1023) == "1023 B"
    assert format_size(999, binary=False) == "999 B"


def test_unit_steps():
    assert format_size(1024) == "1.0 KiB"
    assert format_size(1536) == "1.5 KiB"
    assert format_size(10**12, binary=False) == "1.0 TB"


def test_rounding_moves_to_next_unit():
    assert format_size(1048575) == "1.0 MiB"
    assert format_size(999_999, binary=False) == "1.0 MB"
    assert format_size(1024**3 - 1, precision=2) == "1.00 GiB"
    assert format_size(1023 * 1024 + 1000, precision=2) == "1023.98 KiB"


def test_largest_unit_keeps_growing():
    assert format_size(2048 * 1024**5) == "2048.0 PiB"


def test_negative_sizes():
    assert format_size(-5) == "-5 B"
    assert format_size(-2048) == "-2.0 KiB"
    assert format_size(-1048575) == "-1.0 MiB"


def test_round_trip():
    for n in (0, 1, 1023, 1024, 1536, 5 * 2**20, 7 * 2**30):
        assert parse_size(format_size(n, precision=3)) == pytest.approx(n, rel=1e-3)
    assert parse_size("20MB") == 20_000_000
    assert parse_size("-2.0 KiB") == -2048


def test_parse_rejects_garbage():
    with pytest.raises(ValueError):
        parse_size("lots")
    with pytest.raises(ValueError):
        parse_size("3 parsecs")


def test_email_lines():
    assert usage_line("home", 3 * 2**20, 10 * 2**20) == "home: 3.0 MiB of 10.0 MiB (30%)"
    assert change_line("home", 5 * 2**20, 3 * 2**20) == "home: -2.0 MiB since last week"
    assert change_line("tmp", 0, 1048575) == "tmp: +1.0 MiB since last week"
