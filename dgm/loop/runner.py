"""The outer Darwin loop (DESIGN 3.7): generations of children, each diagnosed, self-improved,
checked, evaluated in stages and admitted, until a stop condition holds.

Everything a generation does is a job in the run store, so `resume` re-enters the same code and
skips what is done: parent choices are recorded before any child starts, every step publishes its
artifacts before its job turns done, and agent ids come from (generation, slot). With the same
seed and the same model answers, two runs (or a run and its resumed twin) build the same archive.
"""

from __future__ import annotations

import random
import time
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dgm import log
from dgm.archive.ids import SEED_ID, agent_id
from dgm.llm.errors import BudgetExceeded, ModelUnavailable, RunHalted
from dgm.loop.child import ChildPipeline
from dgm.loop.context import RunContext
from dgm.selection import get_policy

if TYPE_CHECKING:
    from dgm.meta.governor import Governor

_log = log.get(__name__)
STOP_FILE = "STOP"


@dataclass(frozen=True)
class Outcome:
    reason: str            # generations | units | exhausted | budget | wall_time | stopped | model_unavailable
    generations_done: int
    detail: str = ""       # why, when the reason alone does not say (model_unavailable)
    units_done: int | None = None   # the async schedule's units of work (None: a generational run)


def stop_reason(ctx: RunContext, started: float) -> str:
    """Why the run must not start more work ("" when it may): a STOP file, the budget, wall time."""
    if (ctx.store.run_dir / STOP_FILE).exists():
        return "stopped"
    if ctx.llm.budget.exhausted():
        return "budget"
    hours = ctx.config.loop.max_wall_hours
    if hours is not None and time.monotonic() - started >= hours * 3600:
        return "wall_time"
    return ""


class Runner:
    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.pipeline = ChildPipeline(ctx)
        self._started = time.monotonic()
        self.meta: Governor | None = None
        if ctx.config.meta.enabled:  # the meta-loop (dgm/meta): evolved selection policies, sandboxed
            from dgm.meta.governor import Governor

            self.meta = Governor(ctx)

    def run(self) -> Outcome:
        ctx = self.ctx
        ctx.store.add_event("run_started", {"resumed": ctx.resumed, "generations": ctx.config.loop.generations})
        generation = self._next_generation()
        detail = ""
        try:
            with ctx.progress.task("seed evaluation", total=1) as bar:
                self.pipeline.evaluate(SEED_ID)
                self.pipeline.admit(SEED_ID)
                bar.advance()
            reason = "generations"
            while generation <= ctx.config.loop.generations:
                reason = self._stop_reason()
                if reason:
                    break
                if self.meta is not None:
                    self.meta.after_generation(generation - 1, more=True)
                self._run_generation(generation)
                generation += 1
            else:
                reason = self._stop_reason() or "generations"
        except BudgetExceeded as exc:  # work past a cap was refused: the generation stays open for a resume
            _log.warning("run budget reached", detail=str(exc))
            reason = "budget"
        except ModelUnavailable as exc:  # a credential or the server is at fault: stop, resume once fixed
            _log.error("run stopped: the model cannot be used", detail=str(exc))
            reason, detail = "model_unavailable", str(exc)
        if self.meta is not None:
            self.meta.after_generation(generation - 1, more=False)  # decide a trial that just ended
        outcome = Outcome(reason, generation - 1, detail)
        ctx.store.add_event("run_finished", {"reason": reason, "generations_done": outcome.generations_done,
                                             **({"detail": detail} if detail else {})})
        _log.info("run finished", reason=reason, generations=outcome.generations_done, run=str(ctx.store.run_dir))
        return outcome

    def _next_generation(self) -> int:
        finished = [event.payload["generation"] for event in self.ctx.store.events(kind="generation_finished")]
        return max(finished, default=0) + 1

    def _stop_reason(self) -> str:
        return stop_reason(self.ctx, self._started)

    def plan(self, generation: int) -> list[str]:
        """The generation's parents, chosen once and recorded before any child starts."""
        store = self.ctx.store
        for event in store.events(kind="generation_planned"):
            if event.payload["generation"] == generation:
                return list(event.payload["parents"])
        loop = self.ctx.config.loop
        seed = f"{self.ctx.config.run.seed}:selection:{generation}"
        rng = random.Random(seed)
        summary = store.summary()
        policy, n = get_policy(loop.selection), loop.children_per_generation
        if self.meta is not None:  # the governing policy version chooses, the built-in if it fails
            return self.meta.plan(generation, summary, n, seed, lambda: policy.select(summary, n, rng))
        parents = policy.select(summary, n, rng)
        store.add_event("generation_planned", {"generation": generation, "parents": parents, "policy": loop.selection})
        return parents

    def _run_generation(self, generation: int) -> None:
        ctx = self.ctx
        parents = self.plan(generation)
        _log.info("generation started", generation=generation, parents=parents)
        with ctx.progress.task(f"generation {generation}/{ctx.config.loop.generations}", total=len(parents)) as bar:
            for slot in range(len(parents)):
                self.pipeline.expect(agent_id(generation, slot))
            futures: list[Future] = [
                ctx.executor.submit(self.pipeline.run_child, generation, slot, parent)
                for slot, parent in enumerate(parents)
            ]
            errors = []
            for future in futures:
                try:
                    future.result()
                except Exception as exc:  # one child's crash must not lose its siblings' work
                    errors.append(exc)
                bar.advance()
        if errors:  # a real failure outranks a budget or model refusal, which only says "stop here"
            raise next((e for e in errors if not isinstance(e, RunHalted)), errors[0])
        ids = [agent_id(generation, slot) for slot in range(len(parents))]
        agents = [ctx.store.agent(child) for child in ids]
        ctx.store.add_event("generation_finished", {
            "generation": generation,
            "children": ids,
            "scores": {a.id: a.score for a in agents},
            "spent_dollars": ctx.llm.budget.spent.dollars,
            "spent_tokens": ctx.llm.budget.spent.tokens,
        })
        _log.info("generation finished", generation=generation,
                  scores={a.id: a.score for a in agents}, spent=round(ctx.llm.budget.spent.dollars, 4))
