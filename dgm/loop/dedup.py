"""No evaluation paid twice: a child whose source tree equals an earlier agent's is a duplicate.

Two children made at once can arrive at the same tree (the demo's siblings make the identical
change). Which one is the original must not depend on thread timing, or a resume or a replay
would build a different archive: the original is always the earliest agent in creation order.
So a child waits, before it compares, until every child started before it has been recorded
(`OrderGate`); earlier generations are complete by then. The wait covers self-improvement only,
never evaluation, and a child never waits for a later one, so there is no deadlock.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dgm.archive.store import RunStore


class OrderGate:
    """Children in the order they were started; `wait_for_earlier(x)` returns once every child
    started before `x` has been `release`d. A child never `expect`ed waits for nothing."""

    def __init__(self) -> None:
        self._order: list[str] = []
        self._open: set[str] = set()
        self._cond = threading.Condition()

    def expect(self, child: str) -> None:
        with self._cond:
            if child not in self._order:
                self._order.append(child)
                self._open.add(child)

    def release(self, child: str) -> None:
        with self._cond:
            self._open.discard(child)
            self._cond.notify_all()

    def wait_for_earlier(self, child: str) -> None:
        with self._cond:
            if child not in self._order:
                return
            earlier = self._order[: self._order.index(child)]
            self._cond.wait_for(lambda: not any(other in self._open for other in earlier))


def original_of(store: "RunStore", commit: str, child: str) -> str | None:
    """The earliest recorded agent (not itself a duplicate, not `child`) whose tree equals
    `commit`'s, or None."""
    agents = [a for a in store.list_agent_lines() if a.id != child and a.status != "duplicate"]
    trees = store.git.commit_trees(sorted({commit, *(a.commit for a in agents)}))
    mine = trees.get(commit)
    return next((a.id for a in agents if trees.get(a.commit) == mine), None)
