"""When the library is open: every day except Sundays and public holidays."""

from __future__ import annotations

from datetime import date, timedelta

SUNDAY = 6

# Public holidays the library is closed on (kept up to date by the front desk).
HOLIDAYS: set[date] = {
    date(2024, 1, 1),
    date(2024, 3, 29),
    date(2024, 4, 1),
    date(2024, 5, 1),
    date(2024, 12, 25),
    date(2024, 12, 26),
    date(2025, 1, 1),
}


def is_open(day: date, holidays: set[date] = HOLIDAYS) -> bool:
    return day.weekday() != SUNDAY and day not in holidays


def next_open_day(day: date, holidays: set[date] = HOLIDAYS) -> date:
    """`day` itself if the library is open then, else the first open day after it."""
    while not is_open(day, holidays):
        day += timedelta(days=1)
    return day


def open_days_between(start: date, end: date, holidays: set[date] = HOLIDAYS) -> int:
    """Open days d with start < d <= end (0 if end <= start)."""
    count = 0
    day = start + timedelta(days=1)
    while day <= end:
        if is_open(day, holidays):
            count += 1
        day += timedelta(days=1)
    return count
