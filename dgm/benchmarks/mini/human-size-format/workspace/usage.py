"""Disk-usage summary lines for the quota e-mails."""

from __future__ import annotations

from sizes import format_size


def usage_line(name: str, used: int, quota: int) -> str:
    percent = 100 * used / quota if quota else 0.0
    return f"{name}: {format_size(used)} of {format_size(quota)} ({percent:.0f}%)"


def change_line(name: str, before: int, after: int) -> str:
    delta = after - before
    sign = "+" if delta >= 0 else ""
    return f"{name}: {sign}{format_size(delta)} since last week"
