"""What people see of a run: listing rows, the best agent and its lineage, the tree, figures per
generation, diff stats.

Pure functions over store records (no I/O), shared by `dgm archive` and the HTML report, so the
two can never disagree about which agent is best or what a generation cost. They work on any
agent record of the store (`AgentLike`: `Agent`, or its flag-less `AgentLine`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dgm.archive.records import Agent, AgentLine, StageScore
from dgm.stats import Interval, bounded_mean_interval, wilson, within_noise


# Any agent record the store hands out: views never need flags, so the lighter line will do.
AgentLike = Agent | AgentLine


def eligible(agent: AgentLike) -> bool:
    """Can be a parent. The rule of `dgm.archive.summary.Node.eligible` (a test keeps the two in
    step): admitted and evaluated, or the seed."""
    return agent.parent_id is None or (agent.admitted and agent.status == "evaluated")


def tasks_run(agent: AgentLike) -> int:
    return sum(stage.total for stage in agent.stages)


def stages_text(agent: AgentLike) -> str:
    return " ".join(str(stage) for stage in agent.stages)


def score_text(score: float | None) -> str:
    return "-" if score is None else f"{score:.3f}"


def resolved_count(agent: AgentLike) -> float:
    return sum(stage.resolved for stage in agent.stages)


def points(agent: AgentLike) -> float:
    """Resolved tasks, or the sum of task scores for the scored suite."""
    return sum(stage.points for stage in agent.stages)


def interval(agent: AgentLike) -> Interval | None:
    """95% Wilson interval of the agent's score over the tasks it ran (None: unscored); for a
    mean of continuous scores the conservative bounded-mean form (dgm.stats)."""
    if any(stage.score_sum is not None for stage in agent.stages):
        return bounded_mean_interval(points(agent), tasks_run(agent))
    return wilson(resolved_count(agent), tasks_run(agent))


def score_ci_text(agent: AgentLike) -> str:
    """`0.600 n=10 [0.31, 0.83]`: the score, the tasks it rests on, its 95% interval."""
    if agent.score is None:
        return "-"
    found = interval(agent)
    return f"{agent.score:.3f} n={tasks_run(agent)} {found if found else '[none]'}"


def noise_note(best: AgentLike, other: AgentLike | None) -> dict[str, Any] | None:
    """How the best agent compares with the runner-up: their difference, and whether a
    two-proportion test at 95% can tell them apart."""
    if other is None or other.score is None or best.score is None or interval(best) is None or interval(other) is None:
        return None     # unscored
    return {"runner_up": other.id, "difference": round(best.score - other.score, 4),
            "within_noise": within_noise(points(best), tasks_run(best), points(other), tasks_run(other))}


def best_of(agents: Iterable[AgentLike]) -> AgentLike | None:
    """The evaluated agent with the highest score. A tie goes to the agent judged on more tasks
    (firmer evidence), then to the earliest (it got there first, with fewer changes behind it).
    None when no agent has a score."""
    scored = [agent for agent in agents if agent.status == "evaluated" and agent.score is not None]
    return max(scored, key=lambda a: (a.score, tasks_run(a), -a.generation, -a.slot), default=None)


class Archive:
    """The agents of a run (creation order) with the links the views need, each built on first
    use (a listing needs only the child counts, the tree needs everything)."""

    def __init__(self, agents: Sequence[AgentLike]) -> None:
        self.agents = list(agents)

    @functools.cached_property
    def by_id(self) -> dict[str, AgentLike]:
        return {agent.id: agent for agent in self.agents}

    @functools.cached_property
    def children(self) -> dict[str, list[str]]:
        """Parent id -> all its children's ids (admitted or not), in creation order."""
        children: dict[str, list[str]] = {}
        for agent in self.agents:
            if agent.parent_id is not None:
                children.setdefault(agent.parent_id, []).append(agent.id)
        return children

    @functools.cached_property
    def admitted_children(self) -> dict[str, int]:
        """Parent id -> number of admitted children (what selection policies count)."""
        counts: dict[str, int] = {}
        for agent in self.agents:
            if agent.admitted and agent.parent_id is not None:
                counts[agent.parent_id] = counts.get(agent.parent_id, 0) + 1
        return counts

    def __len__(self) -> int:
        return len(self.agents)

    def best(self) -> AgentLike | None:
        return best_of(self.agents)

    def lineage(self, agent_id: str) -> list[AgentLike]:
        """Seed first, ending with `agent_id` (which must be in the archive)."""
        chain = [self.by_id[agent_id]]
        seen = {agent_id}
        while chain[-1].parent_id is not None and chain[-1].parent_id in self.by_id:
            parent = chain[-1].parent_id
            if parent in seen:  # a damaged run with a parent cycle must not hang the viewer
                break
            seen.add(parent)
            chain.append(self.by_id[parent])
        chain.reverse()
        return chain

    def best_lineage(self) -> list[str]:
        best = self.best()
        return [] if best is None else [agent.id for agent in self.lineage(best.id)]

    def roots(self) -> list[str]:
        """The seed, plus any agent whose parent row is missing (a damaged run still shows all)."""
        return [agent.id for agent in self.agents if agent.parent_id is None or agent.parent_id not in self.by_id]

    def walk(self) -> Iterator[tuple[str, int, str]]:
        """Depth-first, children in creation order: (agent id, depth, line prefix with
        box-drawing connectors). Iterative: a lineage can be far deeper than Python's recursion
        limit."""
        stack: list[tuple[str, int, str, str]] = [(root, 0, "", "") for root in reversed(self.roots())]
        seen: set[str] = set()
        while stack:
            node, depth, prefix, child_prefix = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            yield node, depth, prefix
            kids = self.children.get(node, [])
            for position in range(len(kids) - 1, -1, -1):
                last = position == len(kids) - 1
                stack.append((kids[position], depth + 1, child_prefix + ("└── " if last else "├── "),
                              child_prefix + ("    " if last else "│   ")))


def agent_row(agent: AgentLike, archive: Archive) -> dict[str, Any]:
    """One agent as `archive ls --json` prints it."""
    return {
        "id": agent.id,
        "parent": agent.parent_id,
        "generation": agent.generation,
        "slot": agent.slot,
        "origin": agent.origin,
        "status": agent.status,
        "invalid_reason": agent.invalid_reason,
        "duplicate_of": agent.duplicate_of,
        "admitted": agent.admitted,
        "eligible": eligible(agent),
        "stages": [{"resolved": stage.resolved, "total": stage.total} for stage in agent.stages],
        "score": agent.score,
        "tasks": tasks_run(agent),
        "ci95": None if (found := interval(agent)) is None else found.to_json(),
        "children": archive.admitted_children.get(agent.id, 0),
        "cost": agent.cost,
        "tokens": agent.tokens,
        "commit": agent.commit,
        "improver": agent.improver,
        "improved_by": agent.improved_by,
    }


def export_record(agent: Any, archive: Archive, stage_count: int,
                  spend: Mapping[str, tuple[float, int]]) -> dict[str, Any]:
    """One flat record per agent (scalars only, same columns for every agent) for pandas.

    `cost`/`tokens` are what the agent's evaluations used (the agents table); `llm_dollars`/
    `llm_tokens` are every recorded model call of its jobs (diagnosis, self-improvement,
    evaluation), from the LLM cassette.
    """
    flags = agent.flags if isinstance(getattr(agent, "flags", None), dict) else {}
    diagnosis = flags.get("diagnosis") if isinstance(flags.get("diagnosis"), dict) else {}
    dollars, tokens = spend.get(agent.id, (0.0, 0))
    record: dict[str, Any] = {
        "id": agent.id,
        "parent": agent.parent_id,
        "generation": agent.generation,
        "slot": agent.slot,
        "origin": agent.origin,
        "status": agent.status,
        "invalid_reason": agent.invalid_reason,
        "duplicate_of": agent.duplicate_of,
        "admitted": agent.admitted,
        "eligible": eligible(agent),
        "score": agent.score,
        "resolved": sum(stage.resolved for stage in agent.stages),
        "total": tasks_run(agent),
    }
    for number in range(stage_count):
        stage = agent.stages[number] if number < len(agent.stages) else None
        record[f"stage{number + 1}_resolved"] = None if stage is None else stage.resolved
        record[f"stage{number + 1}_total"] = None if stage is None else stage.total
    record.update({
        "children": archive.admitted_children.get(agent.id, 0),
        "all_children": len(archive.children.get(agent.id, ())),
        "cost": agent.cost,
        "tokens": agent.tokens,
        "llm_dollars": dollars,
        "llm_tokens": tokens,
        "diagnosis_kind": diagnosis.get("kind"),
        "exit_reason": flags.get("exit_reason"),
        "steps": flags.get("steps"),
        "improver": flags.get("improver"),
        "improved_by": flags.get("improved_by"),
        "commit": agent.commit,
        "created_at": agent.created_at,
    })
    return record


@dataclass(frozen=True, slots=True)
class GenerationStats:
    generation: int
    agents: int
    evaluated: int
    invalid: int
    best: float | None        # best score among this generation's agents
    mean: float | None        # mean score of this generation's evaluated agents
    best_so_far: float | None  # best score in the archive up to and including this generation
    dollars: float            # model spend of this generation's agents (all their jobs)
    tokens: int


def generation_stats(archive: Archive, spend: Mapping[str, tuple[float, int]]) -> list[GenerationStats]:
    """Per generation, in order; `spend` is agent id -> (dollars, tokens) of its model calls."""
    groups: dict[int, list[AgentLike]] = {}
    for agent in archive.agents:
        groups.setdefault(agent.generation, []).append(agent)
    stats, running = [], None
    for generation in sorted(groups):
        members = groups[generation]
        scores = [a.score for a in members if a.status == "evaluated" and a.score is not None]
        best = max(scores) if scores else None
        if best is not None:
            running = best if running is None else max(running, best)
        stats.append(GenerationStats(
            generation=generation,
            agents=len(members),
            evaluated=sum(a.status == "evaluated" for a in members),
            invalid=sum(a.status == "invalid" for a in members),
            best=best,
            mean=sum(scores) / len(scores) if scores else None,
            best_so_far=running,
            dollars=sum(spend.get(a.id, (0.0, 0))[0] for a in members),
            tokens=sum(spend.get(a.id, (0.0, 0))[1] for a in members),
        ))
    return stats


@dataclass(frozen=True, slots=True)
class FileStat:
    path: str
    added: int
    deleted: int
    binary: bool = False


def diff_report(old: str, new: str, patch: str) -> dict[str, Any]:
    """A diff as `dgm archive diff --json` prints it (agents and policy versions alike)."""
    stats = diff_stat(patch)
    return {
        "old": old, "new": new,
        "files": [{"path": s.path, "added": s.added, "deleted": s.deleted, "binary": s.binary} for s in stats],
        "added": sum(s.added for s in stats), "deleted": sum(s.deleted for s in stats), "patch": patch,
    }


def diff_stat(diff: str) -> list[FileStat]:
    """Per-file line counts of a `git diff` (what `git diff --stat` shows), from its text."""
    stats: list[FileStat] = []
    path, added, deleted, binary, in_hunk = None, 0, 0, False, False

    def flush() -> None:
        if path is not None:
            stats.append(FileStat(path, added, deleted, binary))

    for line in diff.splitlines():
        if line.startswith("diff --git "):
            flush()
            path, added, deleted, binary, in_hunk = _diff_path(line), 0, 0, False, False
        elif path is None:
            continue
        elif line.startswith("@@"):
            in_hunk = True
        elif not in_hunk:
            if line.startswith("+++ ") and line[4:] != "/dev/null":
                path = _strip_prefix(line[4:], "b/")
            elif line.startswith("Binary files "):
                binary = True
        elif line.startswith("+"):
            added += 1
        elif line.startswith("-"):
            deleted += 1
    flush()
    return stats


def _diff_path(header: str) -> str:
    # "diff --git a/x b/x": the b/ side (same as a/ unless renamed); refined by the +++ line.
    rest = header[len("diff --git "):]
    half = rest.rfind(" b/")
    return rest[half + 3:] if half != -1 else rest


def _strip_prefix(text: str, prefix: str) -> str:
    text = text.strip('"')
    return text[len(prefix):] if text.startswith(prefix) else text


def diagnosis_summary(diagnosis: Mapping[str, Any] | None) -> str:
    """One line saying what the self-improvement was asked to do."""
    if not diagnosis:
        return ""
    for key in ("improvement_proposal", "problem_description", "log_summarization"):
        text = diagnosis.get(key)
        if isinstance(text, str) and text.strip():
            return " ".join(text.split())
    return ""
