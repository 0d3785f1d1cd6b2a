"""The pure schedulers (dgm/schedule): decisions, ids, and the window's independence of timing."""

from __future__ import annotations

import random

from dgm.config import EvaluationConfig
from dgm.schedule.dispatch import dispatch
from dgm.schedule.generational import GenerationalScheduler
from dgm.schedule.hgm import AsyncScheduler
from dgm.schedule.tree import Tree, Unit


class Runner:
    """Finishes units in an order set by `order_seed` (timing), results fixed by the unit."""

    def __init__(self, order_seed: int) -> None:
        self.rng, self.running, self.log = random.Random(order_seed), [], []

    def start(self, seq: int, unit: Unit) -> None:
        self.log.append(unit)
        self.running.append((seq, unit))

    def wait(self) -> list[tuple[int, str]]:
        seq, unit = self.running.pop(self.rng.randrange(len(self.running)))
        if unit.kind == "expand":
            return [(seq, "invalid" if unit.target.endswith("c3") else "valid")]
        return [(seq, "resolved" if hash((unit.node, unit.target)) % 3 == 0 else "unresolved")]


def _async_run(order_seed: int, workers: int = 3, units: int = 120) -> list[Unit]:
    tree, runner = Tree([f"t{i}" for i in range(20)]), Runner(order_seed)
    dispatch(AsyncScheduler(), tree, runner, workers=workers, seed=7, window=2 * workers,
             stop=lambda: len(runner.log) >= units)
    return runner.log


def test_seed_is_evaluated_first_then_expanded():
    tree = Tree(["a", "b"])
    unit = AsyncScheduler().decide(tree, random.Random(0))
    assert unit == Unit("evaluate", "g0c0")
    tree.plan(0, unit)
    tree.reveal(0, "resolved")
    unit = tree.plan(1, AsyncScheduler().decide(tree, random.Random(0)))
    assert unit == Unit("expand", "g0c0", "g1c0", 1)


def test_window_makes_decisions_independent_of_finish_order():
    first = _async_run(order_seed=1)
    assert first == _async_run(order_seed=2) == _async_run(order_seed=3)
    assert {u.kind for u in first} == {"expand", "evaluate"}


def test_without_window_finish_order_changes_decisions():
    def run(order_seed: int) -> list[Unit]:
        tree, runner = Tree([f"t{i}" for i in range(20)]), Runner(order_seed)
        dispatch(AsyncScheduler(), tree, runner, workers=3, seed=7, window=None, stop=lambda: len(runner.log) >= 120)
        return runner.log

    assert len({tuple(run(seed)) for seed in range(5)}) > 1  # why the window is needed


def test_invalid_child_is_never_evaluated_or_expanded():
    log = _async_run(order_seed=4, units=300)
    invalid = {u.target for u in log if u.kind == "expand" and u.target.endswith("c3")}
    assert invalid
    assert not [u for u in log if u.node in invalid]


def test_generational_barrier_and_stage_ladder():
    stages = EvaluationConfig().stages
    tree, runner = Tree([f"t{i}" for i in range(200)]), Runner(5)
    scheduler = GenerationalScheduler(stages, seed=1, generations=2)
    dispatch(scheduler, tree, runner, workers=4, seed=1, window=None, stop=lambda: False)
    log = runner.log
    seed_evals = [u for u in log if u.node == "g0c0" and u.kind == "evaluate"]
    assert len(seed_evals) in (10, 60, 200)
    expands = [i for i, u in enumerate(log) if u.kind == "expand"]
    assert [log[i].target for i in expands] == ["g1c0", "g1c1", "g2c0", "g2c1"]
    # nothing of generation 1 is started after generation 2 began
    assert all(not u.node.startswith("g1") for u in log[expands[2]:] if u.kind == "evaluate")


def test_tree_keeps_scored_tasks_as_fractional_successes() -> None:
    from dgm.schedule.tree import HALTED

    tree = Tree(["a", "b", "c"])
    first = tree.plan(0, Unit("evaluate", "g0c0"))
    second = tree.plan(1, Unit("evaluate", "g0c0"))
    third = tree.plan(2, Unit("evaluate", "g0c0"))
    assert (first.target, second.target, third.target) == ("a", "b", "c")
    tree.reveal(0, 0.75)
    tree.reveal(1, "resolved")
    tree.reveal(2, HALTED)             # cut off by a stop: teaches nothing, not a failure
    seed = tree.nodes["g0c0"]
    assert (seed.successes, seed.failures, seed.pending) == (1.75, 0.25, 0)
    assert tree.seen().outcomes == {("g0c0", "a"), ("g0c0", "b")} and tree.seen().agents == {"g0c0"}
