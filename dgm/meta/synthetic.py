"""Synthetic archives a candidate policy must handle before it may choose real parents.

Each is an edge a rewritten policy is likely to get wrong: a single unscored node (empty
statistics, division by zero), all scores zero (every weight equal or zero), a thousand nodes
(speed, and invalid or rejected nodes mixed in), a deep chain (recursion limits) and a wide star
(one node with hundreds of children). Built from a fixed seed, so validation is reproducible.
"""

from __future__ import annotations

import random

from dgm.archive.records import StageScore
from dgm.archive.summary import ArchiveSummary, Node

TASKS = tuple(f"task-{i}" for i in range(10))


def _node(node_id: str, parent: str | None, generation: int, score: float | None, rng: random.Random,
          *, status: str = "evaluated", admitted: bool = True) -> Node:
    if score is None or status != "evaluated":
        return Node(node_id, parent, generation, status, admitted and status == "evaluated")
    resolved = round(score * len(TASKS))
    tasks = {task: index < resolved for index, task in enumerate(rng.sample(TASKS, len(TASKS)))}
    return Node(node_id, parent, generation, status, admitted, (StageScore(resolved, len(TASKS)),),
                resolved / len(TASKS), tasks, round(rng.random(), 3))


def one_node() -> ArchiveSummary:
    return ArchiveSummary([Node("g0c0", None, 0, "pending", True)])


def all_zero(size: int = 12) -> ArchiveSummary:
    rng = random.Random(2)
    nodes = [_node("g0c0", None, 0, 0.0, rng)]
    nodes += [_node(f"g{1 + i // 2}c{i % 2}", "g0c0", 1 + i // 2, 0.0, rng) for i in range(size - 1)]
    return ArchiveSummary(nodes)


def random_tree(size: int = 1000, children_per_generation: int = 2) -> ArchiveSummary:
    """`size` nodes grown generation by generation from random eligible parents; about one in
    ten is invalid and one in ten evaluated but not admitted."""
    rng = random.Random(3)
    nodes = [_node("g0c0", None, 0, 0.1, rng)]
    eligible = ["g0c0"]
    for index in range(1, size):
        generation, slot = 1 + (index - 1) // children_per_generation, (index - 1) % children_per_generation
        node_id, parent = f"g{generation}c{slot}", rng.choice(eligible)
        draw = rng.random()
        if draw < 0.1:
            nodes.append(_node(node_id, parent, generation, None, rng, status="invalid", admitted=False))
            continue
        nodes.append(_node(node_id, parent, generation, round(rng.random(), 1), rng, admitted=draw >= 0.2))
        if draw >= 0.2:
            eligible.append(node_id)
    return ArchiveSummary(nodes)


def deep_chain(depth: int = 2000) -> ArchiveSummary:
    rng = random.Random(4)
    nodes = [_node("g0c0", None, 0, 0.0, rng)]
    nodes += [_node(f"g{i}c0", f"g{i - 1}c0", i, min(1.0, i / depth), rng) for i in range(1, depth)]
    return ArchiveSummary(nodes)


def wide_star(width: int = 600) -> ArchiveSummary:
    rng = random.Random(5)
    nodes = [_node("g0c0", None, 0, 0.5, rng)]
    nodes += [_node(f"g1c{i}", "g0c0", 1, (i % 11) / 10, rng) for i in range(width)]
    return ArchiveSummary(nodes)


def cases() -> dict[str, ArchiveSummary]:
    """Name -> synthetic archive, in the order validation runs them."""
    return {"one node": one_node(), "all scores zero": all_zero(), "1000 nodes": random_tree(),
            "deep tree": deep_chain(), "wide tree": wide_star()}
