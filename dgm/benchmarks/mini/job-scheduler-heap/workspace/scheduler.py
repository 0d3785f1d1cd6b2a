"""The job queue of the report worker: jobs run by priority, with cancel and reprioritize."""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from typing import Any


class QueueEmpty(Exception):
    pass


@dataclass
class Job:
    name: str
    priority: int = 0          # higher runs first
    payload: dict[str, Any] = field(default_factory=dict)
    id: int = 0


class JobQueue:
    """Highest priority first; jobs of equal priority run in the order they were submitted."""

    def __init__(self) -> None:
        self._heap: list[tuple[int, Job]] = []
        self._jobs: dict[int, Job] = {}
        self._ids = itertools.count(1)

    def __len__(self) -> int:
        return len(self._jobs)

    def submit(self, name: str, priority: int = 0, **payload: Any) -> Job:
        job = Job(name, priority, payload, next(self._ids))
        self._jobs[job.id] = job
        heapq.heappush(self._heap, (-priority, job))
        return job

    def cancel(self, job_id: int) -> bool:
        """Remove a waiting job; False if it is not waiting (unknown, already popped or cancelled)."""
        return self._jobs.pop(job_id, None) is not None

    def reprioritize(self, job_id: int, priority: int) -> None:
        """Give a waiting job a new priority (it keeps its place among jobs of that priority
        according to when it was originally submitted)."""
        job = self._jobs[job_id]
        job.priority = priority
        heapq.heapify(self._heap)

    def pop(self) -> Job:
        if not self._heap:
            raise QueueEmpty("no jobs waiting")
        _, job = heapq.heappop(self._heap)
        del self._jobs[job.id]
        return job

    def peek(self) -> Job:
        if not self._heap:
            raise QueueEmpty("no jobs waiting")
        return self._heap[0][1]
