"""Generational vs asynchronous schedule in a simulated world (issue 17, docs/BENCHMARKS.md).

The real schedulers (dgm.schedule: GenerationalScheduler with the default policy and stage
ladder, AsyncScheduler = HGM) and the real dispatcher run against a simulated executor. World:
task difficulties d_j ~ N(0, 1.5); an agent solves task j with p_j = sigmoid(a + e_j - d_j); the
seed has a = -1.4 (about 0.2 mean solve rate); a child is invalid with probability 0.15, else
a_child = a_parent + N(k_parent, 0.4), e_j += N(0, 0.3), and its improvement skill
k_child = k_parent + N(0, 0.1) (seed k = -0.1: a random change hurts a little on average).
Costs in CPU-seconds: expansion U(450, 1800), one task U(60, 600). Quality of a schedule at a
moment: the true mean p of the agent with the highest Wilson lower bound on its known outcomes.
Cost to reach: CPU-seconds until that quality first reaches the quality the generational schedule
ends with (its whole budget: 80 generations x 2 children); the async schedule gets up to 2x that
budget, a seed that never reaches is counted at 2x (censored).

    .venv/bin/python bench/search_efficiency.py [--seeds 20] [--generations 80]
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import statistics

from dgm.config import EvaluationConfig
from dgm.schedule.dispatch import dispatch
from dgm.schedule.generational import GenerationalScheduler
from dgm.schedule.hgm import AsyncScheduler
from dgm.schedule.tree import Tree, Unit
from dgm.stats import wilson

TASKS = 200
WORKERS = 4


class World:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(f"world:{seed}")
        self.difficulty = [self.rng.gauss(0, 1.5) for _ in range(TASKS)]
        self.agents = {"g0c0": (-1.4, -0.1, [0.0] * TASKS)}   # ability, skill, per-task deviation

    def child(self, parent: str, child: str) -> str:
        rng = random.Random(f"child:{self.rng.random()}:{child}")
        if rng.random() < 0.15:
            return "invalid"
        a, k, e = self.agents[parent]
        self.agents[child] = (a + rng.gauss(k, 0.4), k + rng.gauss(0, 0.1), [x + rng.gauss(0, 0.3) for x in e])
        return "valid"

    def p(self, agent: str, task: int) -> float:
        a, _, e = self.agents[agent]
        return 1 / (1 + math.exp(-(a + e[task] - self.difficulty[task])))

    def quality(self, agent: str) -> float:
        return sum(self.p(agent, j) for j in range(TASKS)) / TASKS


class SimRunner:
    """Units finish after their simulated cost; `wait` advances the clock to the next finish."""

    def __init__(self, world: World, seed: int, tree: Tree) -> None:
        self.world, self.tree, self.rng = world, tree, random.Random(f"costs:{seed}")
        self.clock = self.cpu = 0.0
        self.events: list[tuple[float, int, str]] = []
        self.trace: list[tuple[float, float]] = []   # (cpu-seconds, quality after each result)

    def start(self, seq: int, unit: Unit) -> None:
        if unit.kind == "expand":
            cost, result = self.rng.uniform(450, 1800), self.world.child(unit.node, unit.target)
        else:
            cost = self.rng.uniform(60, 600)
            result = "resolved" if self.rng.random() < self.world.p(unit.node, int(unit.target)) else "unresolved"
        self.cpu += cost
        heapq.heappush(self.events, (self.clock + cost, seq, result))

    def wait(self) -> list[tuple[int, str]]:
        self.clock, seq, result = heapq.heappop(self.events)
        return [(seq, result)]

    def record(self) -> None:
        best = max((n for n in self.tree.nodes.values() if n.outcomes),
                   key=lambda n: wilson(n.successes, len(n.outcomes)).low, default=None)
        self.trace.append((self.cpu, self.world.quality(best.id) if best else 0.0))


def run(kind: str, seed: int, budget: float | None, generations: int) -> SimRunner:
    tree = Tree([str(j) for j in range(TASKS)])
    runner = SimRunner(World(seed), seed, tree)
    original = tree.reveal

    def reveal(seq: int, result: str) -> None:
        original(seq, result)
        runner.record()

    tree.reveal = reveal  # type: ignore[method-assign]
    if kind == "generational":
        scheduler = GenerationalScheduler(EvaluationConfig().stages, seed=seed, generations=generations)
        dispatch(scheduler, tree, runner, workers=WORKERS, seed=seed, window=None,
                 stop=lambda: False)
    else:
        dispatch(AsyncScheduler(), tree, runner, workers=WORKERS, seed=seed, window=2 * WORKERS,
                 stop=lambda: runner.cpu >= budget)
    return runner


def first_reach(trace: list[tuple[float, float]], target: float) -> float | None:
    return next((cpu for cpu, quality in trace if quality >= target - 1e-12), None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--generations", type=int, default=80)
    args = parser.parse_args()
    gen_costs, async_costs, censored = [], [], 0
    print("seed  target  generational_cpu_s  async_cpu_s  async_units")
    for seed in range(args.seeds):
        gen = run("generational", seed, None, args.generations)
        target = gen.trace[-1][1]
        g_cost = first_reach(gen.trace, target)
        fast = run("async", seed, 2 * gen.cpu, args.generations)
        a_cost = first_reach(fast.trace, target)
        if a_cost is None:
            censored, a_cost = censored + 1, 2 * gen.cpu
        gen_costs.append(g_cost)
        async_costs.append(a_cost)
        print(f"{seed:4d}  {target:.3f}  {g_cost:18.0f}  {a_cost:11.0f}  {len(fast.trace)}")
    print(f"median per-seed ratio {statistics.median(g / a for g, a in zip(gen_costs, async_costs)):.2f}; "
          f"async never reached the target in {censored} of {args.seeds} seeds (counted at 2x budget)")
    print(f"ratio {sum(gen_costs) / sum(async_costs):.2f}")


if __name__ == "__main__":
    main()
