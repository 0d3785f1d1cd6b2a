"""No evaluation paid twice: the original of a tree is the earliest agent, whatever thread timing."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from dgm.archive.check import check
from dgm.archive.store import RunStore
from dgm.archive.summary import ArchiveSummary
from dgm.loop.dedup import OrderGate, original_of

PATCH = (b"diff --git a/main.py b/main.py\n--- a/main.py\n+++ b/main.py\n@@ -1 +1 @@\n-print('seed')\n"
         b"+print('child')\n")


def _store(tmp_path: Path) -> RunStore:
    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "main.py").write_text("print('seed')\n")
    return RunStore.create(tmp_path / "run", {}, seed)


def test_identical_children_are_duplicates_of_the_earliest(tmp_path: Path) -> None:
    with _store(tmp_path) as store:
        first = store.commit_agent("g1c0", "g0c0", diff=PATCH)
        assert original_of(store, first, "g1c0") is None  # new tree
        store.add_agent("g1c0", "g0c0", first)
        second = store.commit_agent("g1c1", "g0c0", diff=PATCH)
        assert second != first  # another commit, the same tree
        assert original_of(store, second, "g1c1") == "g1c0"
        store.add_agent("g1c1", "g0c0", second)
        store.mark_duplicate("g1c1", "g1c0")
        # a third copy names the original, not the duplicate
        third = store.commit_agent("g2c0", "g1c1", diff=b"")
        assert original_of(store, third, "g2c0") == "g1c0"
        store.add_agent("g2c0", "g1c1", third)
        store.mark_duplicate("g2c0", "g1c0")
        agent = store.agent("g1c1")
        assert (agent.status, agent.duplicate_of, agent.admitted) == ("duplicate", "g1c0", False)
        assert not ArchiveSummary.from_agents(store.list_agents(), {})["g1c1"].eligible
        assert check(store) == []


def test_check_catches_a_duplicate_whose_tree_differs(tmp_path: Path) -> None:
    with _store(tmp_path) as store:
        store.add_agent("g1c0", "g0c0", store.commit_agent("g1c0", "g0c0", diff=PATCH))
        store.mark_duplicate("g1c0", "g0c0")  # false: g1c0 changed main.py
        assert [p.kind for p in check(store)] == ["bad_duplicate"]


def test_a_later_child_waits_for_earlier_ones_never_the_reverse() -> None:
    gate = OrderGate()
    for child in ("g1c0", "g1c1", "g1c2"):
        gate.expect(child)
    order: list[str] = []

    def later() -> None:
        gate.wait_for_earlier("g1c2")
        order.append("g1c2 compared")

    thread = threading.Thread(target=later)
    thread.start()
    gate.wait_for_earlier("g1c0")  # the first waits for nobody
    time.sleep(0.05)
    assert order == []  # g1c0 and g1c1 still open
    gate.release("g1c0")
    gate.release("g1c1")
    thread.join(timeout=5)
    assert order == ["g1c2 compared"]
    gate.wait_for_earlier("unknown")  # never expected: no wait
