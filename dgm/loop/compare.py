"""Compare two runs' archives: what `dgm replay --verify` and the crash tests call identical."""

from __future__ import annotations

from pathlib import Path

from dgm.archive.store import RunStore


def fingerprint(run_dir: Path) -> dict[str, tuple]:
    """Per agent: parent, status, reason, admission, stage scores, the source diff from its parent."""
    with RunStore.open(run_dir, readonly=True) as store:
        prints = {}
        for agent in store.list_agents():
            diff = store.diff(agent.parent_id, agent.id) if agent.parent_id else ""
            prints[agent.id] = (agent.parent_id, agent.status, agent.invalid_reason, agent.admitted,
                                tuple(str(stage) for stage in agent.stages), diff)
        outcomes = {(e.agent_id, e.task_id): e.status for e in store.evaluations()}
    prints["(task outcomes)"] = tuple(sorted(outcomes.items()))
    return prints


def compare_runs(a: Path, b: Path) -> list[str]:
    first, second = fingerprint(a), fingerprint(b)
    problems = []
    for key in sorted(set(first) | set(second)):
        if key not in first or key not in second:
            problems.append(f"{key}: only in {'the original' if key in first else 'the replay'}")
        elif first[key] != second[key]:
            fields = ("parent", "status", "reason", "admitted", "scores", "diff")
            changed = [name for name, x, y in zip(fields, first[key], second[key]) if x != y] or ["outcomes"]
            problems.append(f"{key}: {', '.join(changed)} differ")
    return problems
