"""What a scheduler sees: the nodes with their known task outcomes, and the pending units.

Ids are assigned when a unit is planned (a child of a generation-g parent is `g{g+1}c{slot}`, the
next free slot), and a node's tasks are taken in one fixed order, so the ids and tasks depend only
on the sequence of decisions, never on when results arrive.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from dgm.archive.ids import SEED_ID, agent_id
from dgm.archive.records import StageScore
from dgm.archive.summary import ArchiveSummary, Node

HALTED = "halted"


@dataclass(frozen=True, slots=True)
class Unit:
    kind: str            # "expand" | "evaluate"
    node: str            # the parent (expand) or the agent evaluated (evaluate)
    target: str = ""     # the child id (expand) or the task id (evaluate), set by Tree.plan
    generation: int | None = None   # expand: the child's generation (default: the parent's + 1)


@dataclass(frozen=True, slots=True)
class Seen:
    """A snapshot of what the scheduler knew (see `Tree.seen`)."""

    agents: frozenset[str]
    outcomes: frozenset[tuple[str, str]]


@dataclass(slots=True)
class NodeState:
    id: str
    parent: str | None
    generation: int
    status: str = "pending"           # pending (being made) | valid | invalid | duplicate
    outcomes: dict[str, float] = field(default_factory=dict)   # task -> 1.0 / 0.0, or a scored task's score
    assigned: int = 0                 # tasks planned for it so far (a prefix of the task order)
    pending: int = 0                  # of those, not yet known

    @property
    def successes(self) -> float:
        return sum(self.outcomes.values())

    @property
    def failures(self) -> float:
        return len(self.outcomes) - self.successes


class Tree:
    def __init__(self, tasks: Sequence[str]) -> None:
        self.tasks = list(tasks)
        self.nodes: dict[str, NodeState] = {SEED_ID: NodeState(SEED_ID, None, 0, "valid")}
        self.pending: dict[int, Unit] = {}
        self._slots: Counter[int] = Counter({0: 1})

    @property
    def evaluations(self) -> int:
        """Task evaluations planned so far (known and pending)."""
        return sum(node.assigned for node in self.nodes.values())

    @property
    def size(self) -> int:
        """Nodes, counting children still being made."""
        return len(self.nodes)

    def plan(self, seq: int, unit: Unit) -> Unit:
        node = self.nodes[unit.node]
        if unit.kind == "expand":
            generation = node.generation + 1 if unit.generation is None else unit.generation
            child = agent_id(generation, self._slots[generation])
            self._slots[generation] += 1
            self.nodes[child] = NodeState(child, node.id, generation)
            unit = Unit("expand", node.id, child, generation)
        else:
            if node.assigned >= len(self.tasks):
                raise ValueError(f"{node.id} has no task left to evaluate")
            unit = Unit("evaluate", node.id, self.tasks[node.assigned])
            node.assigned += 1
            node.pending += 1
        self.pending[seq] = unit
        return unit

    def seen(self) -> "Seen":
        """What a unit planned now may be shown: the agents whose making is known, and the
        (agent, task) of every known outcome."""
        return Seen(frozenset(node.id for node in self.nodes.values() if node.status != "pending"),
                    frozenset((node.id, task) for node in self.nodes.values() for task in node.outcomes))

    def reveal(self, seq: int, result: str | float) -> None:
        """Expand: valid | invalid | duplicate. Evaluate: resolved | unresolved | infra_error, or
        a scored task's score in [0, 1] (a fractional success). HALTED (the unit was cut off by a
        budget or a failure) teaches nothing: the run stops."""
        unit = self.pending.pop(seq)
        if result == HALTED:
            if unit.kind == "evaluate":
                self.nodes[unit.node].pending -= 1
            return
        if unit.kind == "expand":
            self.nodes[unit.target].status = result
            return
        node = self.nodes[unit.node]
        node.pending -= 1
        if isinstance(result, float):
            node.outcomes[unit.target] = result
        elif result != "infra_error":
            node.outcomes[unit.target] = 1.0 if result == "resolved" else 0.0


def summary(tree: Tree, keep_better_margin: float | None = None) -> ArchiveSummary:
    """The tree as a selection policy sees an archive: known outcomes only, so a policy asked
    from it answers the same whatever finished first. A valid node with outcomes is evaluated;
    admitted under keep_all, or (a margin) when it scores at least the seed's score minus it."""
    def mean(node: NodeState) -> float | None:
        return node.successes / len(node.outcomes) if node.outcomes else None

    seed_score = mean(tree.nodes[SEED_ID]) or 0.0
    nodes = []
    for node in tree.nodes.values():
        score = mean(node)
        status = ("evaluated" if score is not None else "pending") if node.status == "valid" else node.status
        admitted = node.parent is None or (status == "evaluated" and score is not None and (
            keep_better_margin is None or score >= seed_score - keep_better_margin))
        continuous = any(value not in (0.0, 1.0) for value in node.outcomes.values())
        resolved = sum(value == 1.0 for value in node.outcomes.values())
        stages = (StageScore(resolved, len(node.outcomes), node.successes if continuous else None),) if node.outcomes else ()
        nodes.append(Node(node.id, node.parent, node.generation, status, admitted, stages, score,
                          {task: value == 1.0 for task, value in node.outcomes.items()}))
    return ArchiveSummary(nodes)
