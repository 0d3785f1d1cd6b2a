"""Feeding a scheduler's decisions to workers.

`window`: with an int L, decision k is made only once units 0..k-L-1 are finished, and the
scheduler sees exactly those results (later ones are pending even if done). Decisions are then a
function of the recorded results alone, not of timing: a resumed or replayed run makes the same
ones. None: results are seen as they arrive (the generational schedule, whose barrier orders it).
Each decision draws from its own rng, seeded by (seed, decision number).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Protocol

from dgm.schedule.tree import Tree, Unit


class Scheduler(Protocol):
    def decide(self, tree: Tree, rng: random.Random) -> Unit | None: ...


class UnitRunner(Protocol):
    def start(self, seq: int, unit: Unit) -> None: ...

    def wait(self) -> list[tuple[int, str | float]]:
        """Blocks until at least one started unit is finished; (seq, result) of those."""
        ...


def dispatch(scheduler: Scheduler, tree: Tree, runner: UnitRunner, *, workers: int, seed: int,
             window: int | None, stop: Callable[[], bool]) -> int:
    """Run until `stop()` or nothing is left; returns the number of units started."""
    seq, running, done, revealed = 0, set(), {}, 0
    while True:
        while len(running) < workers and not stop():
            if window is not None:
                cut = seq - window
                while revealed < cut and revealed in done:
                    tree.reveal(revealed, done.pop(revealed))
                    revealed += 1
                if revealed < cut:
                    break
            unit = scheduler.decide(tree, random.Random(f"{seed}:schedule:{seq}"))
            if unit is None:
                break
            runner.start(seq, tree.plan(seq, unit))
            running.add(seq)
            seq += 1
        if not running:
            if not done:
                return seq
            while done:  # everything is finished: show it all (still a function of the results)
                tree.reveal(revealed, done.pop(revealed))
                revealed += 1
            continue
        for finished, result in runner.wait():
            running.discard(finished)
            if window is None:
                tree.reveal(finished, result)
            else:
                done[finished] = result
