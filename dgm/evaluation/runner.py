"""Evaluate one agent over staged task subsets, tasks in parallel on a thread pool.

This is what `dgm eval` runs; the loop uses the same pieces (`staged`, `pipeline`) inside its job
store. The result is a report with per-stage and overall scores and their denominators: a score
is the mean over scored tasks of each task's points (1 resolved / 0 not, or the `scored` suite's
score in [0, 1]), where infrastructure errors are not scored.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from dgm.benchmarks.task import Task
from dgm.config import Config, StageConfig
from dgm.evaluation import staged
from dgm.evaluation.pipeline import TaskResult, evaluate_task

if TYPE_CHECKING:
    from dgm.llm.gateway import Gateway


@dataclass
class EvalContext:
    """What evaluating an agent needs besides the agent and its tasks."""

    config: Config
    gateway: "Gateway"
    run: str                        # the dgm.run label of the sandboxes
    agent: str                      # the agent's name in job keys and logs
    out_dir: Path                   # per-task logs go to out_dir/tasks/<task>/
    second_best: float | None = None            # the archive's, for `second_best` stages
    on_result: Callable[[TaskResult], None] | None = None


@dataclass(frozen=True)
class StageReport:
    index: int
    rule: str                       # e.g. "always", "threshold 0.4", "second_best >= 0.4"
    admitted: bool
    task_ids: tuple[str, ...]
    resolved: int = 0
    scored: int = 0                 # the denominator: tasks run minus infrastructure errors
    infra_errors: int = 0
    points: float = 0.0             # sum of the scored tasks' points (= resolved for pass/fail tasks)


@dataclass
class EvalReport:
    benchmark: str
    agent: str
    seed: int
    stages: list[StageReport] = field(default_factory=list)
    results: list[TaskResult] = field(default_factory=list)

    @property
    def resolved(self) -> int:
        return sum(r.status == "resolved" for r in self.results)

    @property
    def scored(self) -> int:
        return sum(r.scored for r in self.results)

    @property
    def points(self) -> float:
        return sum(r.points for r in self.results if r.scored)

    @property
    def continuous(self) -> bool:
        """Whether the tasks carry scores of their own (the `scored` suite) rather than pass/fail."""
        return any(r.score is not None for r in self.results)

    @property
    def score(self) -> float | None:
        return self.points / self.scored if self.scored else None

    def to_json(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark, "agent": self.agent, "seed": self.seed,
            "resolved": self.resolved, "total": self.scored, "tasks_run": len(self.results),
            "infra_errors": len(self.results) - self.scored, "score": self.score,
            "stages": [{"stage": s.index, "rule": s.rule, "admitted": s.admitted, "resolved": s.resolved,
                        "total": s.scored, "infra_errors": s.infra_errors, "task_ids": list(s.task_ids),
                        **({"points": round(s.points, 6)} if self.continuous else {})}
                       for s in self.stages],
            "tasks": [{"id": r.task_id, "status": r.status, "reason": r.reason, "tokens": r.tokens,
                       "cost": r.cost, "duration": round(r.duration, 3), "exit_reason": r.exit_reason,
                       "diff_bytes": r.diff_bytes, **({"score": r.score} if r.score is not None else {})}
                      for r in self.results],
        }


def log_dir_name(task_id: str) -> str:
    """A folder name for a task id (ids like HumanEval/0 or python/two-fer hold slashes)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", task_id)


def describe_rule(stage: StageConfig) -> str:
    if stage.admit == "always":
        return "always"
    if stage.admit == "threshold":
        return f"score >= {stage.threshold:g}"
    return f"score >= max(second best, {stage.threshold:g})"


def evaluate_tasks(agent_dir: Path, tasks: Sequence[Task], ctx: EvalContext) -> list[TaskResult]:
    """Every task solved and graded, `evaluation.workers` at a time; results in task order."""
    from dgm.llm.types import JobGrant

    def one(task: Task) -> TaskResult:
        unavailable = ctx.gateway.service.unavailable
        if unavailable is not None:   # every call would be refused: no sandbox for this task
            return TaskResult(task_id=task.id, status="infra_error", reason=f"not run: {unavailable}")
        grant = JobGrant(job_key=f"{ctx.agent}/eval/{task.id}", role="solve", run=ctx.run, agent=ctx.agent)
        result = evaluate_task(agent_dir, task, ctx.out_dir / "tasks" / log_dir_name(task.id),
                               gateway=ctx.gateway, grant=grant, config=ctx.config)
        if ctx.on_result is not None:
            ctx.on_result(result)
        return result

    if not tasks:
        return []
    with ThreadPoolExecutor(max_workers=ctx.config.evaluation.workers, thread_name_prefix="dgm-eval") as pool:
        return list(pool.map(one, tasks))


def evaluate_staged(agent_dir: Path, tasks: Sequence[Task], stages: Sequence[StageConfig], seed: int,
                    ctx: EvalContext) -> EvalReport:
    """Run every configured stage the agent is admitted to, on the seed's fixed task subsets."""
    report = EvalReport(benchmark=ctx.config.evaluation.benchmark.name, agent=ctx.agent, seed=seed)
    for index, (stage, subset) in enumerate(zip(stages, staged.stage_tasks(tasks, stages, seed))):
        if not subset or ctx.gateway.service.unavailable is not None:   # no tasks left, or no model
            break
        ids = tuple(task.id for task in subset)
        if not staged.admits(stage, report.score or 0.0, ctx.second_best):
            report.stages.append(StageReport(index, describe_rule(stage), False, ids))
            break
        results = evaluate_tasks(agent_dir, subset, ctx)
        report.results.extend(results)
        scored = [r for r in results if r.scored]
        report.stages.append(StageReport(index, describe_rule(stage), True, ids,
                                         resolved=sum(r.status == "resolved" for r in scored),
                                         scored=len(scored), infra_errors=len(results) - len(scored),
                                         points=sum(r.points for r in scored)))
    return report
