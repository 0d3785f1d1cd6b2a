"""Deterministic policies: `best` (exploitation only) and `latest` (the paper's "DGM w/o
open-ended exploration" ablation, where each generation builds on the newest agent)."""

from __future__ import annotations

import random

from dgm.archive.summary import ArchiveSummary
from dgm.selection.policy import accuracy, candidates


class Best:
    """The n highest-scoring eligible agents, best first (the reference sorts ascending and so
    picks the worst; this does not). Ties go to the older agent (earlier in creation order),
    which has had its score longest. With fewer candidates than n, the ranking repeats."""

    name = "best"

    def select(self, summary: ArchiveSummary, n: int, rng: random.Random) -> list[str]:
        nodes = candidates(summary, n)
        order = {node.id: index for index, node in enumerate(summary.nodes)}
        ranked = sorted(nodes, key=lambda node: (-accuracy(node), node.generation, order[node.id]))
        return [ranked[i % len(ranked)].id for i in range(n)]

    def probabilities(self, summary: ArchiveSummary) -> None:
        return None


class Latest:
    """Only the most recently created eligible agent is a parent."""

    name = "latest"

    def select(self, summary: ArchiveSummary, n: int, rng: random.Random) -> list[str]:
        return [self._latest(summary, n)] * n

    def probabilities(self, summary: ArchiveSummary) -> dict[str, float]:
        return {self._latest(summary, 1): 1.0}

    @staticmethod
    def _latest(summary: ArchiveSummary, n: int) -> str:
        nodes = candidates(summary, n)
        order = {node.id: index for index, node in enumerate(summary.nodes)}
        return max(nodes, key=lambda node: (node.generation, order[node.id])).id
