"""The meta step: an agent rewrites the incumbent policy, and the result is validated.

Two jobs per step, keyed by the new version's id: `p<k>/propose` (meta-diagnosis -> problem
statement; the seed or the best agent runs in a sandbox, role `meta`, with the incumbent's
policy.py and contract test as its workspace; its diff becomes candidate p<k>) and
`p<k>/validate` (the candidate in a sandbox on synthetic and live archives). The candidate's
commit holds its policy.py and the trusted contract test: the agent's edits to any other file
are discarded, so the next meta agent sees the real contract again.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dgm import log
from dgm.agent_runner import AgentLimits, AgentRun
from dgm.archive.ids import SEED_ID
from dgm.archive.records import Job
from dgm.archive.store import PolicyVersion
from dgm.archive.summary import ArchiveSummary
from dgm.errors import DgmError
from dgm.llm.errors import RunHalted
from dgm.loop.context import RunContext
from dgm.meta import diagnosis, versions
from dgm.meta.jobs import run_step
from dgm.meta.validation import validate
from dgm.scale import jobs

_log = log.get(__name__)


class MetaStep:
    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx

    def run(self, generation: int) -> PolicyVersion:
        """The meta step after `generation` (idempotent): the candidate it made, with its status."""
        store = self.ctx.store
        made = next((v for v in store.list_policies() if v.origin == "meta" and v.generation == generation), None)
        if made is None:
            policy_id, parent = versions.next_id(store), versions.incumbent(store)
            self._guarded(policy_id, parent, generation, lambda: self._step(
                f"{policy_id}/propose", "meta_propose", policy_id, generation, "meta",
                lambda job, staging: self._propose(job, staging, policy_id, parent, generation)))
            made = store.policy(policy_id)
        if made.status == "candidate":
            self._guarded(made.id, None, generation, lambda: self._step(
                f"{made.id}/validate", "meta_validate", made.id, generation, "validation",
                lambda job, staging: self._validate(job, staging, made, generation)))
            made = store.policy(made.id)
        return made

    def _step(self, key: str, kind: str, owner: str, generation: int, artifact: str,
              work: Callable[[Job, Path], Any]) -> None:
        run_step(self.ctx.store, key, kind, owner, generation, artifact, work,
                 infra_retries=self.ctx.config.evaluation.infra_retries)

    def _guarded(self, policy_id: str, parent: PolicyVersion | None, generation: int,
                 step: Callable[[], None]) -> None:
        """Run a step; if it cannot complete, the version is recorded as rejected and the run goes on."""
        try:
            step()
        except RunHalted:
            raise  # not the candidate's fault (budget, model): the run stops, and a resume redoes it
        except DgmError as exc:
            self.ctx.refuse_if_halted(policy_id)   # a call failed because the model is unusable: not the candidate
            self._reject(policy_id, parent, generation, f"{type(exc).__name__}: {exc}")

    def _reject(self, policy_id: str, parent: PolicyVersion | None, generation: int, reason: str) -> None:
        """`parent` is needed only when the version has no row yet (its proposal never finished)."""
        store = self.ctx.store
        found = store.find_policy(policy_id)
        if found is None:  # the version keeps its parent's files
            assert parent is not None
            with versions.checkout(store, parent, self.ctx.work_root) as files:
                commit = store.commit_policy(policy_id, parent.id, files)
            with store.transaction():
                found = store.add_policy(policy_id, parent.id, commit, origin="meta", status="rejected",
                                         generation=generation, reason=reason)
                versions.add_event(store, "policy_rejected", found, generation, reason=reason)
        else:
            with store.transaction():
                store.set_policy_status(policy_id, "rejected", reason=reason)
                versions.add_event(store, "policy_rejected", store.policy(policy_id), generation, reason=reason)
        _log.warning("policy candidate rejected", policy=policy_id, reason=reason)

    # -- propose -----------------------------------------------------------------------------

    def _propose(self, job: Job, staging: Path, policy_id: str, parent: PolicyVersion,
                 generation: int) -> tuple[dict[str, Any], Callable[[], None]]:
        ctx, meta, store = self.ctx, self.ctx.config.meta, self.ctx.store
        parent_source = versions.source(store, parent)
        problem = diagnosis.problem_statement(store, parent, parent_source.decode("utf-8", errors="replace"),
                                              generation, meta.top_k)
        (staging / "problem.md").write_text(problem, encoding="utf-8")
        writer = SEED_ID if meta.agent == "seed" else best_agent(store.summary())
        with ctx.checkout(writer) as agent_dir, versions.checkout(store, parent, ctx.work_root) as workspace:
            run: AgentRun = ctx.executor.run_job(jobs.agent_run(
                agent_dir, problem, workspace, grant=ctx.grant(job, "meta", policy_id), sandbox=ctx.config.sandbox,
                limits=AgentLimits(max_steps=meta.max_steps, max_seconds=float(meta.max_seconds))), staging).value
        ctx.refuse_if_halted(job.key, run.exit_reason)
        (staging / "diff.patch").write_bytes(run.diff)
        (staging / "output.txt").write_text(run.output, encoding="utf-8")
        policy, reason = self._candidate_source(parent, parent_source, run)
        holder = Path(tempfile.mkdtemp(prefix="dgm-candidate-", dir=ctx.work_root))
        try:
            with versions.seed_files() as trusted:
                shutil.copyfile(trusted / versions.CONTRACT_TEST, holder / versions.CONTRACT_TEST)
            (holder / versions.POLICY_FILE).write_bytes(policy if policy is not None else parent_source)
            commit = store.commit_policy(policy_id, parent.id, holder)
        finally:
            shutil.rmtree(holder, ignore_errors=True)
        result = {"policy": policy_id, "parent": parent.id, "agent": writer, "exit_reason": run.exit_reason,
                  "steps": run.steps, "diff_bytes": len(run.diff), "reason": reason}
        _log.info("policy proposed", policy=policy_id, parent=parent.id, agent=writer, usable=reason is None,
                  reason=reason)

        def record() -> None:
            version = store.add_policy(policy_id, parent.id, commit, origin="meta", generation=generation,
                                       status="candidate" if reason is None else "rejected", reason=reason)
            versions.add_event(store, "policy_proposed" if reason is None else "policy_rejected", version,
                               generation, parent=parent.id, agent=writer, **({"reason": reason} if reason else {}))

        return result, record

    def _candidate_source(self, parent: PolicyVersion, parent_source: bytes,
                          run: AgentRun) -> tuple[bytes | None, str | None]:
        """The candidate's policy.py, or None and why the agent's work gives no usable policy."""
        from dgm.archive.gitstore import PatchRejected

        if run.diff_error:
            return None, f"the meta agent's diff could not be taken: {run.diff_error}"
        if not run.diff.strip():
            return None, f"the meta agent changed nothing (exit: {run.exit_reason})"
        store = self.ctx.store
        try:
            applied = store.git.commit_diff(parent.commit, run.diff, "meta agent's workspace")
        except PatchRejected as exc:
            return None, f"the meta agent's diff does not apply: {exc}"
        holder = Path(tempfile.mkdtemp(prefix="dgm-applied-", dir=self.ctx.work_root))
        try:
            store.git.checkout(applied, holder / "src")
            policy = holder / "src" / versions.POLICY_FILE
            if not policy.is_file():
                return None, "the meta agent deleted policy.py"
            source = policy.read_bytes()
        finally:
            shutil.rmtree(holder, ignore_errors=True)
        if source == parent_source:
            return None, "the meta agent did not change policy.py"
        return source, None

    # -- validate ----------------------------------------------------------------------------

    def _validate(self, job: Job, staging: Path, version: PolicyVersion,
                  generation: int) -> tuple[dict[str, Any], Callable[[], None]]:
        ctx, store = self.ctx, self.ctx.store
        seconds = ctx.config.meta.policy_seconds

        def run_batch(runs: list) -> list:
            return ctx.executor.run_job(jobs.policy_runs(runs, sandbox=ctx.config.sandbox, run=ctx.run_label,
                                                         key=job.key, seconds=seconds)).value

        report = validate(versions.source(store, version), store.summary(), ctx.config.loop.children_per_generation,
                          run_batch=run_batch, seconds=seconds)
        (staging / "validation.json").write_text(json.dumps(report.to_json(), indent=2), encoding="utf-8")
        first, last = versions.trial_window(version, ctx.config.meta.trial)
        _log.info("policy validated", policy=version.id, ok=report.ok, reason=report.reason)

        def record() -> None:
            if report.ok:
                store.set_policy_status(version.id, "trial")
                versions.add_event(store, "policy_trial", store.policy(version.id), generation, governs=[first, last])
            else:
                reason = f"validation failed: {report.reason}"
                store.set_policy_status(version.id, "rejected", reason=reason)
                versions.add_event(store, "policy_rejected", store.policy(version.id), generation, reason=reason)

        return report.to_json(), record


def best_agent(summary: ArchiveSummary) -> str:
    """The highest-scoring agent that can be a parent (ties: the earliest); the seed before any score."""
    scored = [(node.score, -index, node.id) for index, node in enumerate(summary.nodes)
              if node.eligible and node.score is not None]
    return max(scored)[2] if scored else SEED_ID
