"""Sampling policies: parents drawn with replacement, probability proportional to a weight.

Formulas (DESIGN section 1), acc = a node's overall score, n_children = its admitted children:
  score_child_prop  s * h with s = sigmoid(acc; midpoint 0.5), h = 1 / (1 + n_children)  [DGM default]
  score_prop        s                                                                   [DGM]
  random            1                                                                   [DGM]
  hyperagents       sigmoid(acc; midpoint = mean of the top-3 scores) * exp(-(n_children / 8)^3)
sigmoid(x; m) = 1 / (1 + exp(-10 (x - m))).
"""

from __future__ import annotations

import math

from dgm.archive.summary import Node
from dgm.selection.policy import WeightedPolicy, accuracy, sigmoid


class ScoreChildProp(WeightedPolicy):
    """Favour good agents that have few children yet (exploitation tempered by exploration)."""

    name = "score_child_prop"

    def weights(self, nodes: list[Node]) -> list[float]:
        return [sigmoid(accuracy(node), 0.5) / (1 + node.children) for node in nodes]


class ScoreProp(WeightedPolicy):
    name = "score_prop"

    def weights(self, nodes: list[Node]) -> list[float]:
        return [sigmoid(accuracy(node), 0.5) for node in nodes]


class Uniform(WeightedPolicy):
    name = "random"

    def weights(self, nodes: list[Node]) -> list[float]:
        return [1.0] * len(nodes)


class HyperAgents(WeightedPolicy):
    """HyperAgents' default: the sigmoid is centred on the current top (mean of the best three
    scores) instead of 0.5, so pressure adapts as the archive improves; the child penalty stays
    near 1 for a few children and falls steeply after about 8."""

    name = "hyperagents"
    top_k = 3
    child_scale = 8.0

    def weights(self, nodes: list[Node]) -> list[float]:
        top = sorted((accuracy(node) for node in nodes), reverse=True)[: self.top_k]
        midpoint = sum(top) / len(top)
        return [
            sigmoid(accuracy(node), midpoint) * math.exp(-((node.children / self.child_scale) ** 3))
            for node in nodes
        ]
