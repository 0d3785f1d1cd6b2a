"""HGM (arXiv 2510.21614): select by clade metaproductivity with Thompson sampling.

A node's clade is the node and all its descendants (admitted or not: a rejected child is still
evidence of what the clade produces). Every scored task outcome in the clade is one Bernoulli
trial (a scored task a fractional one); a node's productivity is estimated as Beta(1 + successes, 1 + failures). Each draw samples
every eligible node's Beta and takes the argmax, so a node whose descendants keep solving tasks
is chosen often even if its own score is modest, while unexplored nodes keep a wide posterior.
"""

from __future__ import annotations

import random

from dgm.archive.summary import ArchiveSummary
from dgm.selection import cmp
from dgm.selection.policy import candidates


def clade_counts(summary: ArchiveSummary) -> dict[str, tuple[float, float]]:
    """Node -> (successes, failures) pooled over its clade (dgm.selection.cmp, HGM's estimator).

    With continuous scores (the scored suite) a task is a partial success: a node's successes are
    the sum of its task scores (the stages' score_sum), so a task scored 0.8 counts 0.8 success and 0.2 failure (the
    fractional-count Beta update), not a failure as if only 1.0 counted."""
    parents = {node.id: node.parent for node in summary.nodes}
    own: dict[str, tuple[float, float]] = {}
    for node in summary.nodes:
        if any(stage.score_sum is not None for stage in node.stages):   # the scored suite
            points, total = sum(s.points for s in node.stages), sum(s.total for s in node.stages)
            own[node.id] = (points, total - points)
            continue
        resolved = sum(1 for ok in node.tasks.values() if ok)
        own[node.id] = (resolved, len(node.tasks) - resolved)
    return cmp.clade_counts(parents, own)


class HGM:
    name = "hgm"

    def select(self, summary: ArchiveSummary, n: int, rng: random.Random) -> list[str]:
        nodes = candidates(summary, n)
        counts = clade_counts(summary)
        chosen = []
        for _ in range(n):
            draws = [(cmp.thompson_draw(counts[node.id], rng), node.id) for node in nodes]
            chosen.append(max(draws, key=lambda item: item[0])[1])
        return chosen

    def probabilities(self, summary: ArchiveSummary) -> None:
        return None
