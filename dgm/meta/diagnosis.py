"""The meta-diagnosis: what the meta agent is told about the search before it rewrites the policy.

Computed from the run store alone (no model call), so it is exact and replays identically:
archive statistics, per-generation progress with who chose the parents, the record of every
policy version so far (with its measured progress) and the current policy's source. Costs and
durations are left out on purpose: they are not what the policy controls, and they would make
the prompt differ between a run and its replay.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dgm.archive.store import PolicyVersion, RunStore
from dgm.meta.fitness import standing, window_fitness

PROMPT = Path(__file__).parent / "prompts" / "meta_task.md"
MAX_GENERATION_ROWS = 30   # the most recent ones; older history is summarised by the totals


def problem_statement(store: RunStore, current: PolicyVersion, source: str, after_generation: int, top_k: int) -> str:
    agents = store.list_agents()
    text = PROMPT.read_text(encoding="utf-8")
    fields = {"policy_id": current.id, "top_k": str(top_k), "source": source.rstrip(),
              "statistics": statistics(store, agents, after_generation, top_k),
              "history": history(store.list_policies(), agents, top_k)}
    for name, value in fields.items():
        text = text.replace("{" + name + "}", value)
    return text


def statistics(store: RunStore, agents: list[Any], after_generation: int, top_k: int) -> str:
    evaluated = [a for a in agents if a.status == "evaluated"]
    eligible = [a for a in evaluated if a.admitted or a.parent_id is None]
    children: dict[str, int] = {}
    for agent in agents:
        if agent.parent_id is not None and agent.admitted:
            children[agent.parent_id] = children.get(agent.parent_id, 0) + 1
    now = standing(agents, after_generation, top_k)
    best = max(eligible, key=lambda a: (a.score or 0.0, -a.generation), default=None)
    mean = sum(a.score or 0.0 for a in eligible) / len(eligible) if eligible else 0.0
    busiest = max(children.items(), key=lambda item: item[1], default=("-", 0))
    lines = [
        f"# Archive statistics (after generation {after_generation})",
        "",
        f"- agents: {len(agents)} (evaluated {len(evaluated)}, invalid {sum(a.status == 'invalid' for a in agents)}, "
        f"admitted {sum(a.admitted for a in agents)}); {len(eligible)} can be parents",
        f"- best score {now.best:.3f}" + (f" ({best.id})" if best is not None else "")
        + f"; top-{top_k} mean {now.top_k_mean:.3f}; mean score of parent-eligible agents {mean:.3f}",
        f"- admitted children: most {busiest[1]} ({busiest[0]}); "
        f"{sum(1 for a in eligible if children.get(a.id, 0) == 0)} eligible agents have none",
        "",
        "| generation | parents (chosen by) | children valid | best child | archive best after | top-k mean after |",
        "|---|---|---|---|---|---|",
    ]
    planned = {e.payload["generation"]: e.payload for e in store.events(kind="generation_planned")}
    first = max(1, after_generation - MAX_GENERATION_ROWS + 1)
    for generation in range(first, after_generation + 1):
        born = [a for a in agents if a.generation == generation]
        plan = planned.get(generation, {})
        valid = sum(a.status == "evaluated" for a in born)
        best_child = max((a.score for a in born if a.score is not None), default=None)
        after = standing(agents, generation, top_k)
        lines.append(f"| {generation} | {', '.join(plan.get('parents', [])) or '-'} ({plan.get('policy', '-')}) "
                     f"| {valid}/{len(born)} | {'-' if best_child is None else f'{best_child:.3f}'} "
                     f"| {after.best:.3f} | {after.top_k_mean:.3f} |")
    return "\n".join(lines)


def history(versions: list[PolicyVersion], agents: list[Any], top_k: int) -> str:
    """One row per version: its status and the progress per generation it governed."""
    lines = ["| version | parent | status | generations governed | failures | best gain/gen | "
             f"top-{top_k} gain/gen | meta-fitness | note |", "|---|---|---|---|---|---|---|---|---|"]
    for version in versions:
        windows = [window_fitness(agents, g, g, top_k) for g in version.governed]
        if windows:
            best = f"{sum(w.best_gain for w in windows) / len(windows):+.3f}"
            top = f"{sum(w.top_k_gain for w in windows) / len(windows):+.3f}"
        else:
            best = top = "-"
        fitness = "-" if version.meta_fitness is None else f"{version.meta_fitness:+.4f}"
        lines.append(f"| {version.id} | {version.parent_id or '-'} | {version.status} | "
                     f"{ranges(version.governed) or '-'} | {version.failures} | {best} | {top} | {fitness} | "
                     f"{' '.join((version.reason or '').split())[:160]} |")
    return "\n".join(lines)


def ranges(numbers: tuple[int, ...]) -> str:
    """(1, 2, 3, 7) -> '1-3, 7'."""
    parts: list[tuple[int, int]] = []
    for number in sorted(numbers):
        if parts and parts[-1][1] == number - 1:
            parts[-1] = (parts[-1][0], number)
        else:
            parts.append((number, number))
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in parts)
