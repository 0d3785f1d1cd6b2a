"""Find a meeting time that suits everybody."""

from __future__ import annotations

from agenda.intervals import Interval, free_slots


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_hhmm(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def common_slots(calendars: dict[str, list[tuple[str, str]]], duration: int,
                 day: tuple[str, str] = ("09:00", "17:00")) -> list[str]:
    """Slots ("10:30-11:15") where nobody is busy and that last at least `duration` minutes."""
    busy = [(parse_hhmm(a), parse_hhmm(b)) for entries in calendars.values() for a, b in entries]
    slots = free_slots(busy, parse_hhmm(day[0]), parse_hhmm(day[1]), min_length=duration)
    return [f"{hhmm(s.start)}-{hhmm(s.end)}" for s in slots]


def first_slot(calendars: dict[str, list[tuple[str, str]]], duration: int) -> Interval | None:
    for text in common_slots(calendars, duration):
        start, _ = text.split("-")
        begin = parse_hhmm(start)
        return Interval(begin, begin + duration)
    return None
