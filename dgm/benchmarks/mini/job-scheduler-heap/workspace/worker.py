"""Drain the job queue, running each job with the function registered for its name."""

from __future__ import annotations

from typing import Any, Callable

from scheduler import JobQueue, QueueEmpty

Runner = Callable[..., Any]


def drain(queue: JobQueue, runners: dict[str, Runner]) -> list[tuple[str, Any]]:
    """Run every waiting job in queue order; returns (job name, result) pairs."""
    results = []
    while True:
        try:
            job = queue.pop()
        except QueueEmpty:
            return results
        results.append((job.name, runners[job.name](**job.payload)))
