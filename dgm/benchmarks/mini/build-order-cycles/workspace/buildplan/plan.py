"""Turn BUILD declarations into a build plan the runner executes top to bottom."""

from __future__ import annotations

from buildplan.graph import build_order


def parse_build_file(text: str) -> dict[str, list[str]]:
    """Lines `target: dep dep ...` (deps optional); `#` starts a comment."""
    graph: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        target, _, deps = line.partition(":")
        graph[target.strip()] = deps.split()
    return graph


def plan(text: str, goals: list[str] | None = None) -> list[str]:
    """Numbered steps: "1. build lib/core"."""
    order = build_order(parse_build_file(text), goals)
    return [f"{i}. build {target}" for i, target in enumerate(order, start=1)]
