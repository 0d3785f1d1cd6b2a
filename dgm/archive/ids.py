"""Agent ids: a pure function of (generation, slot).

Why not a counter or a uuid: parallel jobs finish in any order, and `resume` and `replay` must
name the same child the same way, so the id may depend only on where the child sits in the
search (its generation and its slot within that generation), never on thread timing.
"""

from __future__ import annotations

import re

from dgm.errors import DgmError

SEED_ID = "g0c0"
_PATTERN = re.compile(r"g(0|[1-9][0-9]*)c(0|[1-9][0-9]*)")


def agent_id(generation: int, slot: int) -> str:
    """`g3c1` is generation 3, slot 1; the seed is `g0c0`."""
    if generation < 0 or slot < 0:
        raise ValueError(f"generation and slot must be >= 0, got {generation}, {slot}")
    return f"g{generation}c{slot}"


def parse_agent_id(text: str) -> tuple[int, int]:
    match = _PATTERN.fullmatch(text)
    if match is None:
        raise DgmError(f"bad agent id {text!r}: expected g<generation>c<slot>, e.g. g3c1")
    return int(match.group(1)), int(match.group(2))
