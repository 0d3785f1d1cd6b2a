"""The nightly compaction: dedupe a day's events and write them back out sorted by time."""

from __future__ import annotations

import json
from pathlib import Path

from logtools.dedupe import dedupe
from logtools.records import parse_lines


def compact(src: Path, dest: Path) -> tuple[int, int]:
    """Write the unique events of `src` to `dest`; returns (events read, events written)."""
    with src.open(encoding="utf-8") as fh:
        events = list(parse_lines(fh))
    unique = dedupe(events, key=lambda event: event["id"])
    unique.sort(key=lambda event: event["ts"])
    with dest.open("w", encoding="utf-8") as fh:
        for event in unique:
            fh.write(json.dumps(event, sort_keys=True) + "\n")
    return len(events), len(unique)
