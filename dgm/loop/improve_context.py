"""What an agent's own improvement procedure is given (hyperagent mode, docs/meta.md): the leak guard.

The procedure is untrusted code that decides what its child changes. It gets one JSON file, built
here on the host from visible data only, and nothing else of the run: its sandbox holds its own
source (read-only), the writable copy it edits and this file. So what this module leaves out, the
procedure cannot learn:

- hidden tests: task logs are `diagnosis_view` with hidden tests *always* off (whatever
  `evaluation.include_hidden_tests_in_diagnosis` says): no test code, output, names or grader
  reason;
- held-out stages: only the first `loop.improver_visible_stages` evaluation stages appear, per
  task and in every score (scores are recomputed from the visible stages; pooled scores, which
  mix in held-out results, are not shown);
- the future and siblings: only agents of earlier generations, whose evaluation is finished, so
  the same child gets the same bytes on a resume or a replay, whatever order siblings ran in (in
  an async run: only what the scheduler knew when it planned the child, `Seen`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dgm.archive.records import Agent
from dgm.evaluation.pipeline import RESULT_FILE, TaskResult, diagnosis_view
from dgm.loop.context import RunContext
from dgm.schedule.tree import Seen

CONTEXT_VERSION = 1
DIFFS_SHOWN = 20          # the most recent agents whose diff from their parent is included
DIFF_CHARS = 6_000        # cap of one diff
LOG_CHARS = 20_000        # cap of one task log
LOGS_SHOWN = 5            # failed tasks whose log is included


def task_log(result: TaskResult, folder: Path) -> str:
    """A task's log as the procedure may read it. The one place that decides; a test switches it."""
    return diagnosis_view(result, folder, include_hidden_tests=False)


def build(ctx: RunContext, child_id: str, generation: int, parent_id: str, seen: Seen | None = None) -> bytes:
    """The context JSON for the procedure making `child_id` from `parent_id` (deterministic bytes).

    With `seen` (the async schedule: nothing waits for earlier agents to finish) only the agents
    and outcomes the scheduler knew when it planned the child are shown, and an agent's status
    and scores come from those outcomes, not from its row, which later units keep changing."""
    store, visible = ctx.store, ctx.config.loop.improver_visible_stages
    agents = [agent for agent in store.list_agents() if agent.generation < generation
              and (seen is None or agent.id in seen.agents)]
    by_id = {agent.id: agent for agent in agents}
    lineage, node = [], by_id.get(parent_id)
    while node is not None:
        lineage.append(node.id)
        node = by_id.get(node.parent_id) if node.parent_id else None
    lineage.reverse()
    recent = {agent.id for agent in agents[-DIFFS_SHOWN:] if agent.parent_id}
    tasks: dict[str, dict[str, str]] = {}
    for evaluation in store.evaluations():
        if evaluation.agent_id in by_id and evaluation.stage < visible and _shown(seen, evaluation):
            tasks.setdefault(evaluation.agent_id, {})[evaluation.task_id] = evaluation.status
    context = {
        "version": CONTEXT_VERSION,
        "child": child_id,
        "generation": generation,
        "parent": parent_id,
        "visible_stages": visible,
        "lineage": lineage,
        "results": _results(ctx, parent_id, visible, seen),
        "archive": [_node(ctx, agent, visible, tasks.get(agent.id, {}), agent.id in recent, seen is not None)
                    for agent in agents],
    }
    return json.dumps(context, indent=1, sort_keys=True, ensure_ascii=False).encode("utf-8")


def _shown(seen: Seen | None, evaluation: Any) -> bool:
    return seen is None or (evaluation.agent_id, evaluation.task_id) in seen.outcomes


def _node(ctx: RunContext, agent: Agent, visible: int, tasks: dict[str, str], with_diff: bool,
          from_outcomes: bool) -> dict[str, Any]:
    status = agent.status
    if from_outcomes:   # counts of the shown outcomes (the same numbers the stages hold once complete)
        resolved = sum(value == "resolved" for value in tasks.values())
        total = sum(value != "infra_error" for value in tasks.values())
        if status in ("pending", "evaluated"):
            status = "evaluated" if total else "pending"
    else:
        stages = agent.stages[:visible]
        resolved, total = sum(s.resolved for s in stages), sum(s.total for s in stages)
    node: dict[str, Any] = {
        "id": agent.id, "parent": agent.parent_id, "generation": agent.generation, "status": status,
        "invalid_reason": agent.invalid_reason,
        "visible": {"resolved": resolved, "total": total, "score": resolved / total if total else None},
        "tasks": dict(sorted(tasks.items())),
        "improver": agent.improver, "improved_by": agent.improved_by,
    }
    if with_diff:
        diff = ctx.store.diff(agent.parent_id, agent.id) if agent.parent_id else ""
        node["diff"] = diff if len(diff) <= DIFF_CHARS else diff[:DIFF_CHARS] + "\n[... diff truncated ...]\n"
    return node


def _results(ctx: RunContext, agent_id: str, visible: int, seen: Seen | None) -> list[dict[str, Any]]:
    """The agent's own visible task results; the first failed ones with their (test-free) logs."""
    results, logs = [], 0
    for evaluation in sorted(ctx.store.evaluations(agent_id), key=lambda e: (e.stage, e.task_id)):
        if evaluation.stage >= visible or evaluation.status == "infra_error" or evaluation.artifact_dir is None:
            continue
        if not _shown(seen, evaluation):
            continue
        folder = ctx.store.run_dir / evaluation.artifact_dir
        result = TaskResult.load(folder / RESULT_FILE)
        entry: dict[str, Any] = {"task": evaluation.task_id, "stage": evaluation.stage, "status": evaluation.status,
                                 "empty_patch": result.empty_patch, "context_error": result.context_error}
        if evaluation.status != "resolved" and logs < LOGS_SHOWN:
            text = task_log(result, folder)
            entry["log"] = text if len(text) <= LOG_CHARS else text[:LOG_CHARS] + "\n[... log truncated ...]\n"
            logs += 1
        results.append(entry)
    return results
