"""Dependency graph of build targets: target -> the targets it needs built first."""

from __future__ import annotations

from typing import Iterable


def build_order(graph: dict[str, Iterable[str]], goals: Iterable[str] | None = None) -> list[str]:
    """Every target needed for `goals` (default: all targets), dependencies before dependents.

    The order is deterministic: dependencies are visited in sorted order, goals too.
    """
    order: list[str] = []
    visited: set[str] = set()

    def visit(target: str) -> None:
        if target in visited:
            return
        visited.add(target)
        for dep in sorted(graph[target]):
            visit(dep)
        order.append(target)

    for goal in sorted(graph if goals is None else goals):
        visit(goal)
    return order
