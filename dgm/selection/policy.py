"""What a parent-selection policy is, and the shared machinery of the sampling ones.

A policy reads an `ArchiveSummary` and returns `n` parent ids (repeats allowed: the paper draws
with replacement). All randomness comes from the `random.Random` the caller passes, seeded from
the run seed, so a run and its replay pick the same parents. Only eligible nodes (admitted and
evaluated, or the seed) are ever returned.
"""

from __future__ import annotations

import math
import random
from typing import Protocol, runtime_checkable

from dgm.archive.summary import ArchiveSummary, Node
from dgm.errors import DgmError

SIGMOID_STEEPNESS = 10.0  # the reference's lambda: 1 / (1 + exp(-10 (acc - midpoint)))


class SelectionError(DgmError):
    """A policy cannot choose (e.g. no eligible parent) or was asked for nonsense."""


@runtime_checkable
class Policy(Protocol):
    name: str

    def select(self, summary: ArchiveSummary, n: int, rng: random.Random) -> list[str]:
        """`n` parent ids, each an eligible node of `summary`."""
        ...

    def probabilities(self, summary: ArchiveSummary) -> dict[str, float] | None:
        """Per-draw probability of each eligible node, or None when the policy is not a fixed
        distribution (deterministic ranking, Thompson sampling)."""
        ...


def candidates(summary: ArchiveSummary, n: int) -> list[Node]:
    if n < 1:
        raise SelectionError(f"asked for {n} parents; expected at least 1")
    found = summary.eligible()
    if not found:
        raise SelectionError("archive has no eligible parent (expected at least the seed agent)")
    return found


def accuracy(node: Node) -> float:
    """A node's score for selection; an unscored node (seed before evaluation) counts as 0."""
    return 0.0 if node.score is None else node.score


def sigmoid(value: float, midpoint: float) -> float:
    exponent = -SIGMOID_STEEPNESS * (value - midpoint)
    if exponent > 700:  # exp overflow: the sigmoid is 0 to double precision anyway
        return 0.0
    return 1.0 / (1.0 + math.exp(exponent))


class WeightedPolicy:
    """Draw parents with replacement, each with probability proportional to `weight`."""

    name = "weighted"

    def weights(self, nodes: list[Node]) -> list[float]:
        raise NotImplementedError

    def probabilities(self, summary: ArchiveSummary) -> dict[str, float]:
        nodes = candidates(summary, 1)
        weights = self.weights(nodes)
        total = sum(weights)
        if total <= 0:
            # Every weight underflowed (e.g. all nodes hugely explored): uniform keeps the
            # search going instead of dividing by zero.
            return {node.id: 1.0 / len(nodes) for node in nodes}
        return {node.id: weight / total for node, weight in zip(nodes, weights)}

    def select(self, summary: ArchiveSummary, n: int, rng: random.Random) -> list[str]:
        candidates(summary, n)
        probs = self.probabilities(summary)
        return rng.choices(list(probs), weights=list(probs.values()), k=n)
