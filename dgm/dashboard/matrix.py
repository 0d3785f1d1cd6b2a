"""The tasks x agents solved matrix: which tasks each agent solved, and which each child gained
or lost against its parent (both ran the task; infra errors say nothing and are left out).

Rows are agents in depth-first order, so a lineage reads top to bottom; columns are tasks, the
most often solved first. Above `limit` agents with results, the rows are the agents the collapsed
tree keeps (the lineages of the best and the newest, dgm.dashboard.tree), so the two views agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dgm.archive.store import RunStore
from dgm.archive.views import Archive
from dgm.dashboard.tree import kept_agents


def matrix(run_dir: Path, limit: int) -> dict[str, Any]:
    """{"tasks", "agents" (id, parent, generation, score, solved, gained, lost), "cells"
    (per agent, per task: 1 solved, 0 not solved, None not run), "agents_with_results"}."""
    with RunStore.open(run_dir, readonly=True) as store:
        archive = Archive(store.list_agent_lines())
        outcomes = store.task_outcomes()
    with_results = [agent_id for agent_id, _, _ in archive.walk() if outcomes.get(agent_id)]
    if len(with_results) > limit:
        keep = kept_agents(Archive([a for a in archive.agents if a.id in outcomes]), limit)
        with_results = [agent_id for agent_id in with_results if agent_id in keep]
    solved_by: dict[str, int] = {}
    for agent_id in with_results:
        for task, resolved in outcomes[agent_id].items():
            solved_by[task] = solved_by.get(task, 0) + int(resolved)
    tasks = sorted(solved_by, key=lambda task: (-solved_by[task], task))
    rows, cells = [], []
    for agent_id in with_results:
        agent, mine = archive.by_id[agent_id], outcomes[agent_id]
        theirs = outcomes.get(agent.parent_id or "", {})
        both = [task for task in tasks if task in mine and task in theirs]
        rows.append({"id": agent_id, "parent": agent.parent_id, "generation": agent.generation, "score": agent.score,
                     "solved": sum(mine.values()),
                     "gained": [task for task in both if mine[task] and not theirs[task]],
                     "lost": [task for task in both if theirs[task] and not mine[task]]})
        cells.append([None if task not in mine else int(mine[task]) for task in tasks])
    return {"tasks": tasks, "agents": rows, "cells": cells, "agents_with_results": len(outcomes)}
