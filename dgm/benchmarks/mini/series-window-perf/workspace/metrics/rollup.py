"""Bucketed aggregates for the dashboard charts."""

from __future__ import annotations

from metrics.series import Series


def buckets(start: float, end: float, step: float) -> list[tuple[float, float]]:
    edges = []
    t = start
    while t < end:
        edges.append((t, min(t + step, end)))
        t += step
    return edges


def rollup(series: Series, start: float, end: float, step: float) -> list[dict]:
    """Per bucket of `step` seconds: count, sum, min, max, mean (None for empty buckets)."""
    rows = []
    for lo, hi in buckets(start, end, step):
        values = series.window(lo, hi)
        rows.append({
            "start": lo,
            "count": len(values),
            "sum": sum(values),
            "min": min(values) if values else None,
            "max": max(values) if values else None,
            "mean": sum(values) / len(values) if values else None,
        })
    return rows
