"""Event records as they come out of the collectors: flat dicts, sometimes with list values."""

from __future__ import annotations

import json
from typing import Any, Iterable, Iterator

Record = dict[str, Any]


def parse_lines(lines: Iterable[str]) -> Iterator[Record]:
    """JSON-lines to records; blank lines are skipped."""
    for line in lines:
        if line.strip():
            yield json.loads(line)


def fingerprint(record: Record) -> tuple:
    """A hashable value equal for records with equal content (key order does not matter)."""
    return tuple(sorted((key, _freeze(value)) for key, value in record.items()))


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return fingerprint(value)
    if isinstance(value, list):
        return tuple(_freeze(item) for item in value)
    return value
