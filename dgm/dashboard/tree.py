"""The archive tree as the page draws it, collapsed on the server when the archive is large.

Up to `limit` agents the tree is whole. Above it, the tree keeps the lineages of the best-scored
agents and of the newest agents (what a researcher looks at first) until `limit` agents are kept,
plus every agent the page asked to `expand` together with its children; everything else is
folded into one clade node per kept parent ("+N agents, best 0.61"). The page expands a clade by
asking again with the parent in `expand`. Why on the server: a browser draws 10,000 points, but a
tree of 10,000 nodes is unreadable and its JSON and hover texts cost more than the picture helps.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any

from dgm.archive.views import Archive

CLADE_PREFIX = "clade:"
UNSCORED = "#b8b8b8"


def score_colour(score: float | None) -> str:
    """Red (0) through yellow (0.5) to green (1); grey when unscored."""
    if score is None:
        return UNSCORED
    low, mid, high = (215, 48, 39), (254, 224, 139), (26, 152, 80)
    value = min(max(score, 0.0), 1.0)
    start, end, t = (low, mid, value * 2) if value <= 0.5 else (mid, high, (value - 0.5) * 2)
    return "#" + "".join(f"{round(a + (b - a) * t):02x}" for a, b in zip(start, end))


def kept_agents(archive: Archive, limit: int, expand: Iterable[str] = ()) -> set[str]:
    """The agents shown: all of them up to `limit`, else best and newest lineages, the expanded."""
    if len(archive) <= limit:
        return {agent.id for agent in archive.agents}
    keep: set[str] = set(archive.roots())

    def add_lineage(agent_id: str) -> None:
        for agent in reversed(archive.lineage(agent_id)):
            if agent.id in keep:
                return
            keep.add(agent.id)

    scored = sorted((a for a in archive.agents if a.score is not None), key=lambda a: -a.score)
    for pair in itertools.zip_longest(scored, reversed(archive.agents)):
        for agent in pair:
            if agent is not None and len(keep) < limit:
                add_lineage(agent.id)
    for agent_id in expand:
        if agent_id in archive.by_id:
            add_lineage(agent_id)
            keep.update(archive.children.get(agent_id, ()))
    return keep


def _descendants(archive: Archive, root: str) -> list[str]:
    out, stack = [], [root]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(archive.children.get(node, ()))
    return out


def layout(roots: Sequence[str], children: dict[str, list[str]], row: dict[str, int]) -> dict[str, tuple[float, int]]:
    """Node -> (x slot, row): leaves take successive slots depth-first, a parent sits over the
    middle of its children. Iterative (a lineage can be deeper than the recursion limit)."""
    order: list[str] = []
    stack = list(reversed(roots))
    seen: set[str] = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        order.append(node)
        stack.extend(reversed(children.get(node, [])))
    x: dict[str, float] = {}
    slot = 0
    for node in order:
        if not children.get(node):
            x[node] = slot
            slot += 1
    for node in reversed(order):
        placed = [x[kid] for kid in children.get(node, []) if kid in x]
        if node not in x:
            x[node] = (placed[0] + placed[-1]) / 2 if placed else slot
    return {node: (x[node], row[node]) for node in order}


def tree(archive: Archive, limit: int, expand: Iterable[str] = ()) -> dict[str, Any]:
    """{"nodes": agents and clades with x, y and what marks them, "agents": total, "shown": n}."""
    keep = kept_agents(archive, limit, expand)
    on_best = set(archive.best_lineage())
    children: dict[str, list[str]] = {}
    row = {agent_id: archive.by_id[agent_id].generation for agent_id in keep}
    clades: dict[str, list[str]] = {}
    for agent_id in keep:
        kids = archive.children.get(agent_id, [])
        children[agent_id] = [kid for kid in kids if kid in keep]
        folded = [kid for kid in kids if kid not in keep]
        if folded:
            clade = CLADE_PREFIX + agent_id
            children[agent_id].append(clade)
            clades[clade] = [node for kid in folded for node in _descendants(archive, kid)]
            row[clade] = row[agent_id] + 1
    roots = [root for root in archive.roots() if root in keep]
    nodes = []
    for node_id, (x, y) in layout(roots, children, row).items():
        if node_id in clades:
            members = [archive.by_id[m] for m in clades[node_id]]
            scores = [m.score for m in members if m.score is not None]
            best = max(scores) if scores else None
            nodes.append({"id": node_id, "clade": True, "parent": node_id.removeprefix(CLADE_PREFIX), "x": x, "y": y,
                          "agents": len(members), "score": best, "colour": score_colour(best),
                          "best_lineage": False})
            continue
        a = archive.by_id[node_id]
        nodes.append({"id": node_id, "parent": a.parent_id, "x": x, "y": y, "score": a.score, "status": a.status,
                      "duplicate_of": a.duplicate_of, "admitted": a.admitted,
                      "children": len(archive.children.get(node_id, ())), "best_lineage": node_id in on_best,
                      "colour": score_colour(a.score)})
    return {"nodes": nodes, "agents": len(archive), "shown": len(keep)}
