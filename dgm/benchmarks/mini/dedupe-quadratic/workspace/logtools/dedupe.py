"""Drop repeated events before compaction.

Collectors retry on timeouts, so the same event can arrive several times; the first occurrence
wins and the order of first occurrences is kept (the compactor relies on it).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from logtools.records import Record, fingerprint


def dedupe(records: Iterable[Record], key: Callable[[Record], Any] | None = None) -> list[Record]:
    """Records with duplicates removed; `key` picks what makes two records the same event
    (default: the whole record content)."""
    seen: list[Any] = []
    unique: list[Record] = []
    for record in records:
        marker = key(record) if key is not None else fingerprint(record)
        if marker not in seen:
            seen.append(marker)
            unique.append(record)
    return unique


def count_duplicates(records: Iterable[Record], key: Callable[[Record], Any] | None = None) -> int:
    records = list(records)
    return len(records) - len(dedupe(records, key))
