"""Week keys for the timesheet: "2023-W05" style labels, as printed on the payroll forms."""

from __future__ import annotations

from datetime import date, datetime, timedelta


def week_key(day: date) -> str:
    """The label of the week `day` belongs to, e.g. "2023-W05"."""
    return f"{day.year}-W{day.strftime('%W')}"


def week_range(key: str) -> tuple[date, date]:
    """Monday and Sunday of the week labelled `key`."""
    monday = datetime.strptime(key + "-1", "%Y-W%W-%w").date()
    return monday, monday + timedelta(days=6)


def weeks_between(start: date, end: date) -> list[str]:
    """Labels of every week touching the period start..end (inclusive), in order."""
    keys: list[str] = []
    day = start
    while day <= end:
        key = week_key(day)
        if not keys or keys[-1] != key:
            keys.append(key)
        day += timedelta(days=1)
    return keys
