"""Run-wide and per-job spending caps, checked before a call starts.

A call is refused (`BudgetExceeded`) when, at the moment it would start, the run or its job has
already reached a cap. A call's cost is known only when it ends, so calls already in flight when
a cap is reached still finish and are counted: **the worst-case overshoot of a cap is what the
calls in flight at that moment spend**, i.e. at most (calls in flight) x (the most one call can
cost: its prompt plus its max_tokens). For a per-job cap that is the job's own in-flight calls
(usually one: an agent waits for each answer); for the run caps it is every job's in-flight call.
`max_calls` has no overshoot: calls are counted when they start.

One lock guards all counters, so concurrent jobs (gateway threads, host-side diagnosis) see one
consistent state. On resume, `restore` sets the counters to the sum over the recorded calls.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from dgm.config import BudgetConfig, JobBudget
from dgm.llm.errors import BudgetExceeded


@dataclass(frozen=True)
class Spend:
    calls: int = 0
    tokens: int = 0
    dollars: float = 0.0

    def plus(self, calls: int = 0, tokens: int = 0, dollars: float = 0.0) -> "Spend":
        return Spend(self.calls + calls, self.tokens + tokens, self.dollars + dollars)


@dataclass(frozen=True)
class Ticket:
    """A started call; settle it exactly once when the call ends, however it ends."""

    job_key: str


class Budget:
    def __init__(self, config: BudgetConfig) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._run = Spend()
        self._jobs: dict[str, Spend] = {}
        self._in_flight = 0

    def restore(self, run: Spend, jobs: dict[str, Spend]) -> None:
        with self._lock:
            self._run = run
            self._jobs = dict(jobs)

    def reserve(self, job_key: str, limits: JobBudget | None = None) -> Ticket:
        limits = limits or self._config.per_job
        with self._lock:
            job = self._jobs.get(job_key, Spend())
            problem = self._run_problem() or _job_problem(job_key, job, limits)
            if problem:
                raise BudgetExceeded(problem)
            self._jobs[job_key] = job.plus(calls=1)
            self._run = self._run.plus(calls=1)
            self._in_flight += 1
        return Ticket(job_key)

    def settle(self, ticket: Ticket, tokens: int, dollars: float) -> None:
        with self._lock:
            self._jobs[ticket.job_key] = self._jobs[ticket.job_key].plus(tokens=tokens, dollars=dollars)
            self._run = self._run.plus(tokens=tokens, dollars=dollars)
            self._in_flight -= 1

    @property
    def spent(self) -> Spend:
        with self._lock:
            return self._run

    def exhausted(self) -> bool:
        """A run cap is reached: every further call would be refused, so the loop can stop."""
        with self._lock:
            return self._run_problem() is not None

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    def job_spent(self, job_key: str) -> Spend:
        with self._lock:
            return self._jobs.get(job_key, Spend())

    def snapshot(self) -> tuple[Spend, dict[str, Spend]]:
        """(run, per job) spend: what `restore` takes, to hand the counters to another Budget."""
        with self._lock:
            return self._run, dict(self._jobs)

    def _run_problem(self) -> str | None:
        cap_dollars, cap_tokens = self._config.max_dollars, self._config.max_tokens
        if cap_dollars is not None and self._run.dollars >= cap_dollars:
            return f"run budget reached: spent ${self._run.dollars:.4f} of budget.max_dollars ${cap_dollars:g}"
        if cap_tokens is not None and self._run.tokens >= cap_tokens:
            return f"run budget reached: used {self._run.tokens} of budget.max_tokens {cap_tokens} tokens"
        return None


def _job_problem(job_key: str, job: Spend, limits: JobBudget) -> str | None:
    if limits.max_calls is not None and job.calls >= limits.max_calls:
        return f"job {job_key!r} reached its limit of {limits.max_calls} model calls"
    if limits.max_tokens is not None and job.tokens >= limits.max_tokens:
        return f"job {job_key!r} reached its limit of {limits.max_tokens} tokens (used {job.tokens})"
    if limits.max_dollars is not None and job.dollars >= limits.max_dollars:
        return f"job {job_key!r} reached its limit of ${limits.max_dollars:g} (spent ${job.dollars:.4f})"
    return None
