"""Hours per week for the payroll export."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from timesheet.weeks import week_key, week_range, weeks_between


@dataclass(frozen=True)
class Entry:
    day: date
    hours: float
    project: str


def hours_by_week(entries: list[Entry]) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for entry in entries:
        totals[week_key(entry.day)] += entry.hours
    return dict(totals)


def week_header(key: str) -> str:
    monday, sunday = week_range(key)
    return f"{key} ({monday.isoformat()} to {sunday.isoformat()})"


def report(entries: list[Entry], start: date, end: date) -> str:
    """One line per week of the period, empty weeks included, e.g.
    "2023-W05 (2023-01-30 to 2023-02-05): 38.5 h"."""
    totals = hours_by_week(entries)
    return "\n".join(f"{week_header(key)}: {totals.get(key, 0.0):.1f} h"
                     for key in weeks_between(start, end))
