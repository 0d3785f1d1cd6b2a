"""One child's life: plan the change (the improver strategy: the framework's diagnosis, or the
agent's own procedure, dgm/loop/improver.py), self-improve, check, evaluate in stages, admit.

Each step is a job in the run store. A step whose job is done is skipped (its result is read
back), so a resumed run re-enters here and continues exactly where the crash left it. Steps write
into the job's staging directory; the store publishes it before the job turns done.
"""

from __future__ import annotations

from collections.abc import Callable
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from dgm import log
from dgm.agent_runner import AgentLimits, AgentRun
from dgm.archive.gitstore import PatchRejected
from dgm.archive.ids import SEED_ID, agent_id
from dgm.archive.improver import procedure_hash
from dgm.archive.records import Job
from dgm.errors import DgmError
from dgm.llm.errors import RunHalted
from dgm.sandbox import SandboxUnavailable
from dgm.loop import improver, smoke
from dgm.loop.context import RunContext
from dgm.loop.dedup import OrderGate, original_of
from dgm.loop.evaluate import StagedEvaluation
from dgm.schedule.tree import Seen
from dgm.scale import jobs

_log = log.get(__name__)


class ChildPipeline:
    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.evaluation = StagedEvaluation(ctx)
        self.gate = OrderGate()  # children started earlier are recorded before a later one compares trees
        self.improver = improver.create(ctx.config.loop.improver)
        # child -> the agents and (agent, task) outcomes its improver may read; set by the async
        # schedule, which plans a child from what it knew then (absent: everything recorded so far)
        self.seen: dict[str, Seen] = {}

    def expect(self, child_id: str) -> None:
        """Call in start order, before the child's pipeline runs (see dgm.loop.dedup)."""
        self.gate.expect(child_id)

    # -- the pipeline ------------------------------------------------------------------------

    def run_child(self, generation: int, slot: int, parent_id: str) -> None:
        child_id = agent_id(generation, slot)
        try:
            existing = self.make_child(generation, child_id, parent_id)
        finally:
            self.gate.release(child_id)
        if existing.status not in ("invalid", "duplicate"):
            self.evaluate(child_id)
        self.admit(child_id)

    def make_child(self, generation: int, child_id: str, parent_id: str) -> Any:
        """Diagnose and self-improve (skipped when the child is recorded); the child's record."""
        existing = self.ctx.store.find_agent(child_id)
        if existing is None:
            try:
                plan = self.improver.plan(self, child_id, generation, parent_id)
                self.step(f"{child_id}/self_improve", "self_improve", child_id, generation, "self_improve",
                          lambda job, staging: self._self_improve(job, staging, child_id, parent_id, plan))
            except RunHalted:
                raise  # not the child's fault (budget, model): the run stops and a resume redoes it
            except DgmError as exc:
                self.ctx.refuse_if_halted(child_id)   # a call failed because the model is unusable: not the child
                self._record_failed(child_id, parent_id, f"{type(exc).__name__}: {exc}")
            existing = self.ctx.store.agent(child_id)
        return existing

    def _record_failed(self, child_id: str, parent_id: str, reason: str) -> None:
        """A child whose diagnosis or self-improvement could not complete is kept, as invalid."""
        store = self.ctx.store
        commit = store.commit_agent(child_id, parent_id, diff=b"")
        with store.transaction():
            store.add_agent(child_id, parent_id, commit)
            store.mark_invalid(child_id, reason)
        _log.warning("child recorded as invalid", agent=child_id, reason=reason)

    def evaluate(self, agent: str) -> None:
        self.evaluation.run(agent)

    def admit(self, agent: str, *, announce_unchanged: bool = True) -> None:
        """Apply the admission rule once the agent's evaluation is complete (idempotent). The
        async schedule applies it after every task and records an event only when it changes."""
        store, loop = self.ctx.store, self.ctx.config.loop
        record = store.agent(agent)
        if record.id == SEED_ID:
            admitted = True
        elif record.status != "evaluated":
            admitted = False
        elif loop.admission == "keep_all":
            admitted = True
        else:
            seed_score = store.agent(SEED_ID).score or 0.0
            admitted = (record.score or 0.0) >= seed_score - loop.keep_better_margin
        if record.admitted != admitted:
            store.set_admitted(agent, admitted)
        elif not announce_unchanged:
            return
        store.add_event("agent_admitted" if admitted else "agent_rejected",
                        {"agent": agent, "score": record.score, "rule": loop.admission})

    # -- steps -------------------------------------------------------------------------------

    def step(self, key: str, kind: str, child_id: str, generation: int, artifact: str,
              work: Callable[[Job, Path], tuple[dict[str, Any], Callable[[], None] | None]]) -> dict[str, Any]:
        """Run `work` as job `key` unless it is done; return the job's result.

        `work` returns (result, record) where `record` writes the rows the step produces; it runs
        in the same transaction that marks the job done, so both land or neither does.
        """
        store = self.ctx.store
        job = store.add_job(key, kind, agent_id=child_id, generation=generation, artifact=artifact)
        if job.state == "done":
            return job.result
        if job.state == "failed":
            job = store.retry_job(key)
        retries = self.ctx.config.evaluation.infra_retries
        for attempt in range(retries + 1):
            job = store.start_job(key)
            staging = store.staging_dir(key)
            try:
                result, record = work(job, staging)
                break
            except SandboxUnavailable as exc:  # infrastructure: try again, never the child's fault
                store.fail_job(key, f"{type(exc).__name__}: {exc}")
                if attempt == retries:
                    raise
                store.retry_job(key)
                store.add_event("job_retried", {"job": key, "attempt": job.attempts, "error": str(exc)})
            except Exception as exc:
                store.fail_job(key, f"{type(exc).__name__}: {exc}")
                raise
        with store.transaction():
            if record is not None:
                record()
            store.finish_job(key, result)
        return result

    def _self_improve(self, job: Job, staging: Path, child_id: str, parent_id: str,
                      plan: improver.Plan) -> tuple[dict[str, Any], Callable[[], None]]:
        ctx, loop = self.ctx, self.ctx.config.loop
        implementer = parent_id if loop.self_improver == "parent" else SEED_ID
        if plan.context is None:
            (staging / "problem.md").write_text(plan.problem, encoding="utf-8")
        else:
            (staging / "context.json").write_bytes(plan.context)  # exactly what the procedure saw
        with ctx.checkout(implementer) as running_agent, ctx.checkout(parent_id) as workspace:
            made_by = self.improver.made_by(running_agent)
            outcome = ctx.executor.run_job(jobs.agent_run(
                running_agent, plan.problem, workspace, grant=ctx.grant(job, "self_improve", child_id),
                sandbox=ctx.config.sandbox, limits=AgentLimits(max_steps=loop.self_improve_max_steps,
                                                               max_seconds=float(loop.self_improve_seconds)),
                improve_context=plan.context), staging)
        run: AgentRun = outcome.value
        ctx.refuse_if_halted(job.key, run.exit_reason)
        diff = run.diff
        (staging / "diff.patch").write_bytes(diff)
        (staging / "output.txt").write_text(run.output, encoding="utf-8")
        reason = self.improver.failure(run) or _invalid_reason(run.diff_error, diff)
        try:
            commit = ctx.store.commit_agent(child_id, parent_id, diff=diff if reason is None else b"")
        except PatchRejected as exc:   # the agent's output is at fault: an invalid child, the run goes on
            reason = f"the diff does not apply to the parent's source: {exc}"
            commit = ctx.store.commit_agent(child_id, parent_id, diff=b"")
        if reason is None:
            reason = _protected_reason(ctx.store.git.changed_paths(ctx.store.agent(parent_id).commit, commit),
                                       loop.protected_paths)
            if reason is not None:      # the child keeps its parent's source
                commit = ctx.store.commit_agent(child_id, parent_id, diff=b"")
        duplicate_of = None
        if reason is None and loop.deduplicate:
            self.gate.wait_for_earlier(child_id)
            duplicate_of = original_of(ctx.store, commit, child_id)
        with ctx.checkout_commit(commit) as child_source:
            own_improver = procedure_hash(child_source)
            if reason is None and duplicate_of is None:
                reason = smoke.check(child_source, ctx, job_key=f"{job.key}/smoke")
        flags = {"exit_reason": run.exit_reason, "steps": run.steps, **plan.flags,
                 "improver": own_improver, "improved_by": made_by}
        result = {"valid": reason is None, "reason": reason, "exit_reason": run.exit_reason, "duplicate_of": duplicate_of,
                  "diff_bytes": len(diff), "tokens": run.tokens, "node": outcome.node,
                  "trajectory_cut": run.trajectory_cut}
        _log.info("self-improvement done", agent=child_id, parent=parent_id, valid=reason is None, reason=reason,
                  duplicate_of=duplicate_of)

        def record() -> None:
            ctx.store.add_agent(child_id, parent_id, commit, flags=flags)
            if reason is not None:
                ctx.store.mark_invalid(child_id, reason)
            elif duplicate_of is not None:
                ctx.store.mark_duplicate(child_id, duplicate_of)
                ctx.store.add_event("agent_duplicate", {"agent": child_id, "duplicate_of": duplicate_of})
            cost, tokens = ctx.store.select(
                "SELECT COALESCE(SUM(cost), 0), COALESCE(SUM(input_tokens + output_tokens), 0) FROM llm_calls "
                "WHERE job_key LIKE ? OR job_key LIKE ?", (f"{child_id}/diagnose#%", f"{child_id}/self_improve#%"))[0]
            ctx.store.add_usage(child_id, cost=cost, tokens=tokens)  # what making the child cost, retries included

        return result, record


def _invalid_reason(diff_error: str | None, diff: bytes) -> str | None:
    """Why a self-improvement's output cannot even be applied, or None when it can."""
    if diff_error:
        return f"the diff could not be taken: {diff_error}"
    if not diff.strip():
        return "empty patch: the self-improvement changed no file"
    return None


def _protected_reason(changed: list[str], protected: list[str]) -> str | None:
    """The paths come from the host's git comparing parent and child commits, never from the
    diff's headers: the diff's bytes came out of the sandbox, where the agent could shape them."""
    touched = sorted(path for path in changed if any(fnmatch(path, pattern) for pattern in protected))
    return f"changed protected path(s): {', '.join(touched)}" if touched else None
