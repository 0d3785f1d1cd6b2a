"""Staged evaluation of one agent inside a run, one job per task.

The task subsets and the stage rules come from `dgm.evaluation.staged` (the same code `dgm eval`
uses); this module adds what a run needs on top: every task is a job whose outcome row and logs
land together, finished tasks are never re-run on resume, and an agent's scores are updated after
each stage so the archive shows progress while a long evaluation runs.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from dgm import log
from dgm.archive.records import Evaluation, StageScore, overall_score
from dgm.evaluation import staged
from dgm.evaluation.pipeline import RESULT_FILE, TaskResult, diagnosis_view
from dgm.llm.errors import RunHalted
from dgm.loop.context import RunContext
from dgm.loop.diagnosis import TaskOutcome
from dgm.sandbox import SandboxUnavailable
from dgm.scale import jobs

_log = log.get(__name__)


class StagedEvaluation:
    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.stages = staged.stage_tasks(ctx.tasks, ctx.config.evaluation.stages, ctx.config.run.seed)
        self._scores_lock = threading.Lock()

    def order(self) -> list[tuple[int, Any]]:
        """(stage, task) for every task once, stage by stage: the order in which the async
        schedule evaluates an agent, so its first tasks are the ones a ladder starts with."""
        return [(stage, task) for stage, tasks in enumerate(self.stages) for task in tasks]

    def run_one(self, agent: str, stage: int, task: Any) -> tuple[str, float | None]:
        """One more task of `agent` (a unit of the async schedule); the agent's scores follow at
        once. (status, score): the score is the scored suite's number, None for pass/fail tasks."""
        with self.ctx.checkout(agent) as agent_dir:
            status, score = self._task(agent, agent_dir, stage, task)
        with self._scores_lock:  # two tasks of one agent finishing together: the last write sees both
            scores = self._stage_scores(agent)
            if any(score.total for score in scores):
                self.ctx.store.set_scores(agent, scores)
        return status, score

    def _stage_scores(self, agent: str) -> list[StageScore]:
        store = self.ctx.store
        points = {job.key: job.result.get("score") for job in store.jobs(kind="evaluate", agent_id=agent, state="done")}
        evaluations = store.evaluations(agent)
        stages = [_stage_score([(e.status, points.get(f"{agent}/eval/{e.task_id}"))
                                for e in evaluations if e.stage == number])
                  for number in range(len(self.stages))]
        while stages and not stages[-1].total:
            stages.pop()
        return stages

    def run(self, agent: str) -> None:
        store, config = self.ctx.store, self.ctx.config.evaluation
        scores: list[StageScore] = []
        with self.ctx.checkout(agent) as agent_dir:
            for number, (stage, tasks) in enumerate(zip(config.stages, self.stages)):
                if not tasks:  # the suite ran out of tasks for this stage
                    break
                so_far = _pooled(scores)
                if number > 0 and not staged.admits(stage, so_far, self._second_best(agent)):
                    break
                scores.append(_stage_score(self._run_stage(agent, agent_dir, number, tasks)))
                store.set_scores(agent, scores)
                store.add_event("stage_finished", {"agent": agent, "stage": number, "resolved": scores[-1].resolved,
                                                   "total": scores[-1].total})
        if not any(score.total for score in scores):
            store.mark_invalid(agent, "evaluation produced no scored task (all infrastructure errors)")

    def _second_best(self, agent: str) -> float:
        scores = sorted((a.score for a in self.ctx.store.list_agents()
                         if a.id != agent and a.admitted and a.score is not None), reverse=True)
        return scores[1] if len(scores) > 1 else (scores[0] if scores else 0.0)

    def _run_stage(self, agent: str, agent_dir: Path, stage: int, tasks: list[Any]) -> list[tuple[str, float | None]]:
        workers = self.ctx.config.evaluation.workers
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"eval-{agent}") as pool:
            return list(pool.map(lambda task: self._task(agent, agent_dir, stage, task), tasks))

    def _task(self, agent: str, agent_dir: Path, stage: int, task: Any) -> tuple[str, float | None]:
        """(status, score): the score is the scored suite's number, None for pass/fail tasks."""
        store = self.ctx.store
        key = f"{agent}/eval/{task.id}"
        job = store.add_job(key, "evaluate", agent_id=agent, artifact=f"eval/{task.id}")
        if job.state == "done":
            return job.result["status"], job.result.get("score")
        if job.state == "failed":
            store.retry_job(key)
        self.ctx.refuse_if_halted(key)   # no sandbox is started for a model every call would fail on
        result, node = self._solve_and_grade(key, agent, agent_dir, task)
        try:
            self.ctx.refuse_if_halted(key, result.exit_reason)
        except RunHalted as exc:
            store.fail_job(key, str(exc))
            raise
        staging = store.staging_dir(key)
        result.save(staging)
        with store.transaction():
            store.add_evaluation(Evaluation(agent, task.id, stage, result.status, result.duration,
                                            result.tokens, result.cost, store.artifact_relpath(key)))
            store.add_usage(agent, cost=result.cost, tokens=result.tokens)
            score = {} if result.score is None else {"score": result.score}
            store.finish_job(key, {"status": result.status, "node": node, **score})
        return result.status, result.score

    def _solve_and_grade(self, key: str, agent: str, agent_dir: Path, task: Any) -> tuple[TaskResult, str | None]:
        """Run the job; a job whose node or worker was lost (SandboxUnavailable: the job itself
        turns its own sandbox failures into results) is retried as a new attempt, and after the
        configured retries it is an infra_error, never scored. Leaves the job running."""
        store, ctx = self.ctx.store, self.ctx
        retries = ctx.config.evaluation.infra_retries
        for attempt in range(retries + 1):
            job = store.start_job(key)
            try:
                outcome = ctx.executor.run_job(jobs.solve_and_grade(agent_dir, task, grant=ctx.grant(job, "solve", agent),
                                                                    config=ctx.config), store.staging_dir(key))
                return outcome.value, outcome.node
            except SandboxUnavailable as exc:
                if attempt == retries:
                    return TaskResult(task_id=task.id, status="infra_error", reason=f"{type(exc).__name__}: {exc}",
                                      attempts=attempt + 1), None
                store.fail_job(key, f"{type(exc).__name__}: {exc}")
                store.retry_job(key)
                store.add_event("job_retried", {"job": key, "attempt": job.attempts, "error": str(exc)})
            except Exception as exc:
                store.fail_job(key, f"{type(exc).__name__}: {exc}")
                raise
        raise AssertionError("unreachable: the loop returns or raises")

    def outcomes_for_diagnosis(self, agent: str, seen: Collection[tuple[str, str]] | None = None) -> list[TaskOutcome]:
        """The agent's scored tasks as diagnosis sees them (hidden tests only if configured);
        with `seen`, only those (agent, task) outcomes: what the scheduler knew when it planned
        the child, so the diagnosis does not depend on which other units finished first."""
        include_hidden = self.ctx.config.evaluation.include_hidden_tests_in_diagnosis
        outcomes = []
        for evaluation in self.ctx.store.evaluations(agent):
            if evaluation.status == "infra_error" or evaluation.artifact_dir is None:
                continue
            if seen is not None and (agent, evaluation.task_id) not in seen:
                continue
            folder = self.ctx.store.run_dir / evaluation.artifact_dir
            result = TaskResult.load(folder / RESULT_FILE)
            outcomes.append(TaskOutcome(
                task_id=evaluation.task_id, status=evaluation.status, empty_patch=result.empty_patch,
                context_error=result.context_error, log_view=diagnosis_view(result, folder, include_hidden),
            ))
        return outcomes


def _stage_score(results: list[tuple[str, float | None]]) -> StageScore:
    """A stage's score from its tasks' (status, score): infrastructure errors are not scored; the
    scored suite's task scores are summed (None for pass/fail tasks)."""
    scored = [(status, score) for status, score in results if status != "infra_error"]
    continuous = [score for _, score in scored if score is not None]
    return StageScore(sum(status == "resolved" for status, _ in scored), len(scored),
                      sum(continuous) if continuous else None)


def _pooled(scores: list[StageScore]) -> float:
    """The score so far, the mean task score for the scored suite (a threshold compares with it)."""
    return overall_score(scores) or 0.0
