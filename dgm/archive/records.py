"""Plain records the run store hands out: what a row of each table means.

Immutable records (frozen dataclasses, a NamedTuple for the hot agent row), not ORM objects:
reads of 100,000 rows stay cheap and callers cannot mutate store state by accident; every change
goes through `RunStore` methods.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

# duplicate: its source tree equals an earlier agent's (`duplicate_of`); never evaluated again.
AGENT_STATUSES: tuple[str, ...] = ("pending", "invalid", "evaluated", "duplicate")
# An infra_error is the sandbox's fault: retried, never scored.
TASK_STATUSES: tuple[str, ...] = ("resolved", "unresolved", "agent_error", "infra_error")


@dataclass(frozen=True, slots=True)
class StageScore:
    """Tasks resolved out of tasks run in one evaluation stage (kept as counts, not a ratio, so
    `7/10` and `35/50` stay distinguishable). A stage of the scored suite also keeps the sum of
    its tasks' scores in [0, 1] (`resolved` then counts the tasks that scored 1)."""

    resolved: int
    total: int
    score_sum: float | None = None

    @property
    def points(self) -> float:
        """What the stage contributes to the agent's score: its score sum, or its resolved count."""
        return self.resolved if self.score_sum is None else self.score_sum

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"resolved": self.resolved, "total": self.total}
        if self.score_sum is not None:   # absent for pass/fail suites: their records are unchanged
            data["score_sum"] = self.score_sum
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "StageScore":
        score_sum = data.get("score_sum")
        return cls(int(data["resolved"]), int(data["total"]), None if score_sum is None else float(score_sum))

    def __str__(self) -> str:
        return f"{self.resolved}/{self.total}" if self.score_sum is None else f"{self.score_sum:.2f}/{self.total}"


def overall_score(stages: tuple[StageScore, ...] | list[StageScore]) -> float | None:
    """Resolved over run, pooled across stages (the reference's accuracy_score): an agent that
    reached stage 2 is judged on all 60 tasks, not on the mean of two stage ratios. With
    continuous scores it is the mean task score, pooled the same way."""
    total = sum(stage.total for stage in stages)
    if total == 0:
        return None
    return sum(stage.points for stage in stages) / total


class Agent(NamedTuple):
    """One agent row. A NamedTuple, not a dataclass: constructing 100,000 frozen dataclasses
    costs several times more than the query that fetches them."""

    id: str
    parent_id: str | None
    generation: int
    slot: int
    commit: str
    origin: str
    status: str
    invalid_reason: str | None
    admitted: bool
    stages: tuple[StageScore, ...]
    score: float | None
    cost: float
    tokens: int
    flags: dict[str, Any]
    created_at: float
    duplicate_of: str | None = None

    @property
    def improver(self) -> str | None:
        """Hash of the agent's improvement procedure (dgm/archive/improver.py), None without one."""
        return self.flags.get("improver")

    @property
    def improved_by(self) -> str | None:
        """Hash of the procedure that made it, `framework`, or None (the seed, older runs)."""
        return self.flags.get("improved_by")


class AgentLine(NamedTuple):
    """An agent row as listings need it: `Agent` without flags and creation time. Parsing every
    row's flags JSON costs more than the query itself, and `archive ls|tree|best` never show them."""

    id: str
    parent_id: str | None
    generation: int
    slot: int
    commit: str
    origin: str
    status: str
    invalid_reason: str | None
    admitted: bool
    stages: tuple[StageScore, ...]
    score: float | None
    cost: float
    tokens: int
    duplicate_of: str | None = None
    improver: str | None = None       # the agent's flags.improver / flags.improved_by (see Agent)
    improved_by: str | None = None


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One task's outcome for one agent; `artifact_dir` is relative to the run directory."""

    agent_id: str
    task_id: str
    stage: int
    status: str
    duration: float = 0.0
    tokens: int = 0
    cost: float = 0.0
    artifact_dir: str | None = None


@dataclass(frozen=True, slots=True)
class Job:
    """A unit of work whose completion must survive a crash. `artifact` names the directory
    (relative to `agents/<agent_id>/`) the job's files are published to when it ends."""

    key: str
    kind: str
    agent_id: str | None
    generation: int | None
    state: str
    attempts: int
    artifact: str | None
    result: Any
    updated_at: float


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    ts: float
    kind: str
    payload: dict[str, Any] = field(default_factory=dict)
