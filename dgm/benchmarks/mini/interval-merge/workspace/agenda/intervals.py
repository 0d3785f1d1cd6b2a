"""Half-open time intervals [start, end) in minutes since midnight."""

from __future__ import annotations

from typing import Iterable, NamedTuple


class Interval(NamedTuple):
    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start


def merge(intervals: Iterable[tuple[int, int]]) -> list[Interval]:
    """The union of `intervals` as sorted, non-overlapping, non-touching intervals.

    Empty intervals (start == end) contribute nothing; start > end is an error.
    """
    merged: list[Interval] = []
    for start, end in intervals:
        if start > end:
            raise ValueError(f"interval ends before it starts: {(start, end)}")
        if merged and start < merged[-1].end:
            merged[-1] = Interval(merged[-1].start, end)
        else:
            merged.append(Interval(start, end))
    return merged


def free_slots(busy: Iterable[tuple[int, int]], day_start: int, day_end: int,
               min_length: int = 1) -> list[Interval]:
    """Gaps of at least `min_length` minutes between day_start and day_end not covered by `busy`."""
    slots: list[Interval] = []
    cursor = day_start
    for interval in merge(busy):
        if interval.end <= day_start or interval.start >= day_end:
            continue
        if interval.start - cursor >= min_length:
            slots.append(Interval(cursor, interval.start))
        cursor = max(cursor, interval.end)
    if day_end - cursor >= min_length:
        slots.append(Interval(cursor, day_end))
    return slots
