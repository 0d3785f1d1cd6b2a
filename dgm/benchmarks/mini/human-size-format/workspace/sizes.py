"""Byte counts for humans, and back.

Binary units (KiB, MiB, ... = powers of 1024) are the default because that is what `du` and our
storage quotas use; decimal units (kB, MB, ... = powers of 1000) are used on invoices.
"""

from __future__ import annotations

import re

BINARY = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
DECIMAL = ("B", "kB", "MB", "GB", "TB", "PB")

_FACTORS = {unit.lower(): 1024 ** i for i, unit in enumerate(BINARY)}
_FACTORS.update({unit.lower(): 1000 ** i for i, unit in enumerate(DECIMAL)})
_SIZE_RE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def format_size(num_bytes: int, binary: bool = True, precision: int = 1) -> str:
    """"1023 B", "1.5 KiB", "3.2 GB": whole bytes below one unit step, else `precision` decimals."""
    step = 1024 if binary else 1000
    units = BINARY if binary else DECIMAL
    value = float(num_bytes)
    index = 0
    while value >= step and index < len(units) - 1:
        value /= step
        index += 1
    if index == 0:
        return f"{num_bytes} B"
    return f"{value:.{precision}f} {units[index]}"


def parse_size(text: str) -> int:
    """Bytes in "1.5 KiB", "20MB", "512" (plain numbers are bytes); units are case-insensitive."""
    match = _SIZE_RE.match(text)
    if not match:
        raise ValueError(f"not a size: {text!r}")
    number, unit = match.groups()
    factor = _FACTORS.get(unit.lower() or "b")
    if factor is None:
        raise ValueError(f"unknown unit {unit!r} in {text!r}")
    return round(float(number) * factor)
