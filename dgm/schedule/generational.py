"""Today's generational schedule as a pure decision, for comparison (the bench): each generation
the selection policy picks `children` parents (seeded as the loop seeds it), every child runs the
stage ladder (`dgm.evaluation.staged.admits`, second-best among the others), and the next
generation starts only when every child of this one is done. The real loop's generation driver
(dgm/loop/runner.py) is unchanged; this model uses the same policy and stage rule.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from dgm.config import StageConfig
from dgm.evaluation import staged
from dgm.schedule.tree import NodeState, Tree, Unit
from dgm.schedule.tree import summary as tree_summary
from dgm.selection import get_policy


class GenerationalScheduler:
    def __init__(self, stages: Sequence[StageConfig], policy: str = "score_child_prop", children: int = 2,
                 seed: int = 0, generations: int = 80) -> None:
        self.stages, self.policy, self.children, self.seed = list(stages), get_policy(policy), children, seed
        self.limit = generations
        self.ends = [sum(s.size for s in self.stages[:i + 1]) for i in range(len(self.stages))]
        self.generation = 0
        self.queue: list[str] = []       # parents still to expand in this generation
        self.open: list[str] = []        # this generation's agents (the seed in generation 0)
        self.stopped: set[str] = set()   # ladders finished

    def decide(self, tree: Tree, rng: random.Random) -> Unit | None:
        if self.generation == 0 and not self.open:
            self.open = [next(iter(tree.nodes))]
        if self.queue:
            return Unit("expand", self.queue.pop(0), generation=self.generation)
        for agent in self.open:
            unit = self._ladder(tree, tree.nodes[agent])
            if unit is not None:
                return unit
        if any(a not in self.stopped for a in self.open) or tree.pending:
            return None
        if self.generation >= self.limit:
            return None
        self.generation += 1
        summary = tree_summary(tree)
        self.queue = self.policy.select(summary, self.children, random.Random(f"{self.seed}:selection:{self.generation}"))
        self.open = [f"g{self.generation}c{slot}" for slot in range(len(self.queue))]
        return Unit("expand", self.queue.pop(0), generation=self.generation)

    def _ladder(self, tree: Tree, node: NodeState) -> Unit | None:
        if node.id in self.stopped or node.status == "pending":
            return None
        if node.status != "valid":
            self.stopped.add(node.id)
            return None
        stage = next((i for i, end in enumerate(self.ends) if node.assigned < end), None)
        if stage is None or node.assigned >= len(tree.tasks):
            if not node.pending:
                self.stopped.add(node.id)
            return None
        start = self.ends[stage - 1] if stage else 0
        if node.assigned > start:
            return Unit("evaluate", node.id)
        if node.pending:
            return None
        if stage and not staged.admits(self.stages[stage], _score(node), self._second_best(tree, node.id)):
            self.stopped.add(node.id)
            return None
        return Unit("evaluate", node.id)

    def _second_best(self, tree: Tree, agent: str) -> float:
        scores = sorted((_score(n) for n in tree.nodes.values() if n.id != agent and n.outcomes), reverse=True)
        return scores[1] if len(scores) > 1 else (scores[0] if scores else 0.0)

def _score(node: NodeState) -> float:
    return node.successes / len(node.outcomes) if node.outcomes else 0.0
