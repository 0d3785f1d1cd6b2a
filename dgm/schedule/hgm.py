"""The asynchronous schedule (HGM, arXiv 2510.21614, Algorithm 1) as a pure decision.

Expand or evaluate: progressive widening, expand while the tree has at most N^alpha nodes, N the
task evaluations planned so far. Which node to expand: Thompson sampling on the clade's pooled
outcomes (CMP, dgm.selection.cmp). Which node to evaluate: Thompson sampling on the node's own
outcomes, among valid nodes with tasks left. A node is expanded only once it has at least one
known outcome and a score above zero (as HGM's public code does); the seed always may be.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from dgm.schedule.tree import Tree, Unit
from dgm.selection import cmp


@dataclass(frozen=True)
class AsyncScheduler:
    alpha: float = 0.6
    tau: float = 1.0

    def decide(self, tree: Tree, rng: random.Random) -> Unit | None:
        valid = [n for n in tree.nodes.values() if n.status == "valid"]
        evaluable = [n for n in valid if n.assigned < len(tree.tasks)]
        expandable = [n for n in valid if n.parent is None or n.successes > 0]
        expand = tree.size <= tree.evaluations ** self.alpha
        if expand and not expandable:
            expand = False
        if not expand and not evaluable:
            expand = bool(expandable)
        if expand:
            counts = cmp.clade_counts({n.id: n.parent for n in tree.nodes.values()},
                                      {n.id: (n.successes, n.failures) for n in tree.nodes.values()})
            draws = [(cmp.thompson_draw(counts[n.id], rng, self.tau), n.id) for n in expandable]
            return Unit("expand", max(draws)[1])
        if not evaluable:
            return None
        draws = [(cmp.thompson_draw((n.successes, n.failures), rng, self.tau), n.id) for n in evaluable]
        return Unit("evaluate", max(draws)[1])
