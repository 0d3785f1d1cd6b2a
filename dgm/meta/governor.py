"""The meta-loop's two hooks into the Darwin loop (used only when `meta.enabled`).

`plan`: the policy version governing the generation (the candidate during its trial, else the
incumbent) chooses the parents in a sandbox. If it crashes, hangs, prints garbage or names bad
ids, the built-in `loop.selection` chooses instead, and the failure is recorded (a
`policy_failed` event and the version's failure count) in the transaction that records the
plan, so a crash never counts a failure twice or loses one.

`after_generation`: decide a trial whose window has ended, then, every `meta.every` generations
and when no trial is running, make a meta step whose validated candidate governs the next
`meta.trial` generations. Every part is idempotent, so the runner calls it again on resume.
"""

from __future__ import annotations

from collections.abc import Callable

from dgm import log
from dgm.archive.summary import ArchiveSummary
from dgm.loop.context import RunContext
from dgm.meta import trial, versions
from dgm.meta.contract import PolicyAnswerError, check_answer, policy_input
from dgm.meta.sandboxed import PolicyRun
from dgm.meta.step import MetaStep
from dgm.sandbox import SandboxUnavailable
from dgm.scale import jobs

_log = log.get(__name__)


class Governor:
    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.step = MetaStep(ctx)

    def plan(self, generation: int, summary: ArchiveSummary, n: int, seed: str,
             builtin: Callable[[], list[str]]) -> list[str]:
        """The parents of `generation`, recorded with the policy that chose them."""
        ctx, store = self.ctx, self.ctx.store
        versions.ensure_seed(store)
        version = versions.governing(store, generation, ctx.config.meta.trial)
        seconds = ctx.config.meta.policy_seconds
        failure = None
        try:
            batch = jobs.policy_runs([PolicyRun(versions.source(store, version), policy_input(summary, n, seed))],
                                     sandbox=ctx.config.sandbox, run=ctx.run_label, key=f"g{generation}/policy",
                                     seconds=seconds)
            output = ctx.executor.run_job(batch).value[0]
            failure = output.failure(seconds)
            parents = check_answer(output.stdout, summary, n) if failure is None else []
        except (PolicyAnswerError, SandboxUnavailable) as exc:
            failure = str(exc)
        if failure is not None:
            parents = builtin()
            _log.warning("policy failed; the built-in chose", policy=version.id, generation=generation, reason=failure)
        chooser = version.id if failure is None else ctx.config.loop.selection
        with store.transaction():
            store.record_policy_use(version.id, generation, failed=failure is not None)
            if failure is not None:
                versions.add_event(store, "policy_failed", store.policy(version.id), generation, reason=failure,
                                   fallback=chooser)
            store.add_event("generation_planned", {"generation": generation, "parents": parents, "policy": chooser,
                                                   "policy_version": version.id,
                                                   **({"fallback_reason": failure} if failure else {})})
        return parents

    def after_generation(self, generation: int, *, more: bool) -> None:
        """Meta-loop work due once `generation` has finished; `more`: another generation follows."""
        if generation < 1:
            return
        meta, store = self.ctx.config.meta, self.ctx.store
        versions.ensure_seed(store)
        trial.decide(store, generation, meta)
        if more and generation % meta.every == 0 and versions.on_trial(store) is None:
            self.step.run(generation)
