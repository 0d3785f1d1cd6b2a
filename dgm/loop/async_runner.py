"""The asynchronous schedule in a real run (`loop.schedule: async`, docs/scheduling.md).

There are no generations. Whenever a worker is free, the HGM scheduler (dgm.schedule.hgm) picks
the next unit of work: expand a node into a child (the child pipeline's diagnose, self-improve
and check steps, without its evaluation) or evaluate one more task of a node (one job, the same
job a generational run records for that agent and task).

Exact replay and resume:
- every decision is recorded (`unit_planned`) before its unit starts; a resumed run re-issues the
  recorded decisions first (their finished jobs are read back, not run again), then the
  scheduler goes on from the state they rebuilt;
- the dispatcher's window (`dgm.schedule.dispatch`, recorded once in `schedule_started`) makes
  each decision a function of earlier units' results alone, never of which finished first;
- a child's diagnosis is shown only the outcomes the scheduler knew when it planned the child.
With the same seed and the same model answers, two runs build the same archive.
"""

from __future__ import annotations

import concurrent.futures
import random
import time
from concurrent.futures import Future
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from dgm import log
from dgm.errors import DgmError
from dgm.llm.errors import BudgetExceeded, ModelUnavailable, RunHalted
from dgm.loop.child import ChildPipeline
from dgm.loop.context import RunContext
from dgm.loop.runner import Outcome, stop_reason
from dgm.schedule.dispatch import Scheduler, dispatch
from dgm.schedule.hgm import AsyncScheduler
from dgm.meta import versions
from dgm.schedule.tree import HALTED, Tree, Unit
from dgm.schedule.tree import summary as tree_summary
from dgm.selection import get_policy

if TYPE_CHECKING:
    from dgm.meta.governor import Governor

_log = log.get(__name__)


class RecordedDecisionMismatch(DgmError):
    """A resumed run's recorded decision no longer fits the archive (the run was changed)."""


def unit_limit(ctx: RunContext, tasks: int) -> int:
    loop = ctx.config.loop
    return loop.units if loop.units is not None else loop.generations * loop.children_per_generation * (1 + tasks)


class AsyncRunner:
    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.pipeline = ChildPipeline(ctx)
        self.order = {task.id: (stage, task) for stage, task in self.pipeline.evaluation.order()}
        self.limit = unit_limit(ctx, len(self.order))
        self.started_at = time.monotonic()
        self.governor: Governor | None = None
        self.units: _Units | None = None
        if ctx.config.meta.enabled:
            from dgm.meta.governor import Governor

            self.governor = Governor(ctx)

    def plan_round(self, number: int, tree: Tree) -> list[str]:
        """The parents of round `number`, chosen once by the governing policy and recorded."""
        store, loop = self.ctx.store, self.ctx.config.loop
        for event in store.events(kind="generation_planned"):
            if event.payload["generation"] == number:
                return list(event.payload["parents"])
        assert self.governor is not None
        seed = f"{self.ctx.config.run.seed}:selection:{number}"
        known = tree_summary(tree, None if loop.admission == "keep_all" else loop.keep_better_margin)
        policy, n = get_policy(loop.selection), loop.children_per_generation
        return self.governor.plan(number, known, n, seed, lambda: policy.select(known, n, random.Random(seed)))

    def after_round(self, number: int, *, more: bool = True) -> None:
        """The meta-loop's work due once round `number` is planned in full, at a barrier."""
        assert self.governor is not None and self.units is not None
        meta, store = self.ctx.config.meta, self.ctx.store
        candidate = versions.on_trial(store)
        due = (candidate is not None and versions.trial_window(candidate, meta.trial)[1] <= number) or \
            (more and candidate is None and number % meta.every == 0)
        if due:
            self.units.drain()
            self.governor.after_generation(number, more=more)

    def run(self) -> Outcome:
        ctx, store = self.ctx, self.ctx.store
        store.add_event("run_started", {"resumed": ctx.resumed, "schedule": "async", "units": self.limit})
        recorded = [Unit(**event.payload["unit"]) for event in store.events(kind="unit_planned")]
        tree = Tree(list(self.order))
        units = self.units = _Units(self, tree, recorded)
        reason, detail = "", ""
        with ctx.progress.task("units of work", total=self.limit) as bar:
            units.bar = bar
            try:
                dispatch(_Replaying(_Rounds(AsyncScheduler(), self), recorded), tree, units,
                         workers=ctx.config.loop.workers, seed=ctx.config.run.seed, window=self._window(),
                         stop=units.stop)
                units.raise_first()
                if self.governor is not None:   # decide a trial that just ended
                    self.after_round((tree.size - 1) // ctx.config.loop.children_per_generation, more=False)
                reason = stop_reason(ctx, self.started_at) or ("units" if units.started >= self.limit else "exhausted")
            except BudgetExceeded as exc:  # work past a cap was refused: recorded units wait for a resume
                _log.warning("run budget reached", detail=str(exc))
                reason = "budget"
            except ModelUnavailable as exc:
                _log.error("run stopped: the model cannot be used", detail=str(exc))
                reason, detail = "model_unavailable", str(exc)
        rounds = max(node.generation for node in tree.nodes.values())
        outcome = Outcome(reason, rounds, detail, units_done=units.finished)
        store.add_event("run_finished", {"reason": reason, "generations_done": rounds, "units_done": units.finished,
                                         "units_limit": self.limit, **({"detail": detail} if detail else {})})
        _log.info("run finished", reason=reason, units=units.finished, run=str(store.run_dir))
        return outcome

    def _window(self) -> int:
        """Recorded once: `loop.workers` may change on resume, the decisions must not."""
        store = self.ctx.store
        for event in store.events(kind="schedule_started"):
            return int(event.payload["window"])
        window = 2 * self.ctx.config.loop.workers
        store.add_event("schedule_started", {"schedule": "async", "window": window})
        return window


class _Rounds:
    """Expansions come in rounds of `loop.children_per_generation`, and a child's generation is
    its round: like a generational run's, it says when the child was made (not its depth), and
    ids are g<round>c<slot>. With the meta-loop, the governing policy chooses each round's
    parents at once, from the tree's known outcomes (dgm.meta.governor), and the meta-loop's work
    due after a round (a trial's decision, a meta step) runs at a barrier: every unit started so
    far is finished first, so what it reads does not depend on timing. Trials are thus counted in
    rounds of units."""

    def __init__(self, live: Scheduler, runner: "AsyncRunner") -> None:
        self.live, self.runner = live, runner
        self.per_round = runner.ctx.config.loop.children_per_generation
        self.parents: dict[int, list[str]] = {}

    def decide(self, tree: Tree, rng: Any) -> Unit | None:
        unit = self.live.decide(tree, rng)
        if unit is None or unit.kind != "expand":
            return unit
        number, slot = divmod(tree.size - 1, self.per_round)   # expansions planned so far
        number += 1
        node = unit.node
        if self.runner.governor is not None:
            if number not in self.parents:
                if number > 1:
                    self.runner.after_round(number - 1)
                self.parents[number] = self.runner.plan_round(number, tree)
            node = self.parents[number][slot]
        return Unit("expand", node, generation=number)


class _Replaying:
    """The recorded decisions first (a resumed run), then the live scheduler's."""

    def __init__(self, live: Scheduler, recorded: list[Unit]) -> None:
        self.live, self.recorded, self.next = live, recorded, 0

    def decide(self, tree: Tree, rng: Any) -> Unit | None:
        if self.next < len(self.recorded):
            unit = self.recorded[self.next]
            unit = Unit(unit.kind, unit.node, generation=unit.generation)
        else:
            unit = self.live.decide(tree, rng)
        if unit is not None:
            self.next += 1
        return unit


class _Units:
    """Runs units on the executor's workers (the dispatcher's `UnitRunner`)."""

    def __init__(self, runner: AsyncRunner, tree: Tree, recorded: list[Unit]) -> None:
        self.runner, self.tree, self.recorded = runner, tree, recorded
        self.ctx, self.pipeline = runner.ctx, runner.pipeline
        self.futures: dict[Future, int] = {}
        self.errors: list[BaseException] = []
        self.started = self.finished = 0
        self.bar: Any = None

    def start(self, seq: int, unit: Unit) -> None:
        if seq < len(self.recorded):
            if self.recorded[seq] != unit:
                raise RecordedDecisionMismatch(f"recorded unit {seq} is {self.recorded[seq]}, the archive now "
                                               f"gives {unit}; was the run's benchmark or seed changed?")
        else:
            self.ctx.store.add_event("unit_planned", {"seq": seq, "unit": asdict(unit)})
        if unit.kind == "expand":
            self.pipeline.expect(unit.target)   # in start order: duplicates are decided by it
            self.pipeline.seen[unit.target] = self.tree.seen()
            future = self.ctx.executor.submit(self._expand, unit)
        else:
            future = self.ctx.executor.submit(self._evaluate, unit)
        self.futures[future] = seq
        self.started = seq + 1

    def wait(self) -> list[tuple[int, str | float]]:
        done, _ = concurrent.futures.wait(self.futures, return_when=concurrent.futures.FIRST_COMPLETED)
        results = []
        for future in done:
            seq = self.futures.pop(future)
            try:
                results.append((seq, future.result()))
                self.finished += 1
                self.bar.advance()
            except Exception as exc:  # stop planning; running units finish, the first error is raised
                self.errors.append(exc)
                results.append((seq, HALTED))
        return results

    def stop(self) -> bool:
        return bool(self.errors) or self.started >= self.runner.limit or bool(stop_reason(self.ctx, self.runner.started_at))

    def drain(self) -> None:
        """Block until every unit started so far is finished (their results stay for `wait`)."""
        concurrent.futures.wait(list(self.futures))

    def raise_first(self) -> None:
        if self.errors:  # a real failure outranks a budget or model refusal, which only says "stop here"
            raise next((e for e in self.errors if not isinstance(e, RunHalted)), self.errors[0])

    def _expand(self, unit: Unit) -> str:
        assert unit.generation is not None
        try:
            record = self.pipeline.make_child(unit.generation, unit.target, unit.node)
        finally:
            self.pipeline.gate.release(unit.target)
            self.pipeline.seen.pop(unit.target, None)
        if record.status in ("invalid", "duplicate"):
            self.pipeline.admit(unit.target)
            return str(record.status)
        return "valid"

    def _evaluate(self, unit: Unit) -> str | float:
        stage, task = self.runner.order[unit.target]
        status, score = self.pipeline.evaluation.run_one(unit.node, stage, task)
        self.pipeline.admit(unit.node, announce_unchanged=False)
        return status if score is None or status == "infra_error" else float(score)
