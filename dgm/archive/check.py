"""Integrity check of a run: does every row point at something that exists?

Read-only and safe beside a live run. Leftovers that are normal while a run is live (running
jobs, staged artifacts, a ref whose row is about to be inserted) are reported only when no
process holds the run lock: then they are debris of a crash, and `dgm resume` clears them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dgm.archive.lock import is_live
from dgm.archive.store import RunStore

# Column of llm_calls (owned by the LLM cassette, dgm/llm/cassette.py) naming the call's job.
_LLM_JOB_COLUMN = "job_key"


@dataclass(frozen=True, slots=True)
class Problem:
    kind: str
    subject: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.subject}: {self.message}"


def check_run(run_dir: Path) -> list[Problem]:
    with RunStore.open(run_dir, readonly=True) as store:
        return check(store)


def check(store: RunStore) -> list[Problem]:
    live = is_live(store.run_dir)
    problems = _check_agents(store, live)
    problems += _check_jobs(store, live)
    problems += _check_evaluations(store)
    problems += _check_llm_calls(store)
    return problems


def _check_agents(store: RunStore, live: bool) -> list[Problem]:
    problems: list[Problem] = []
    agents = store.list_agents()
    by_id = {agent.id: agent for agent in agents}
    existing = store.git.existing_commits(sorted({agent.commit for agent in agents}))
    git_parents = store.git.commit_parents(sorted(existing))
    refs = store.git.refs()
    for agent in agents:
        if agent.commit not in existing:
            problems.append(Problem("missing_commit", agent.id, f"commit {agent.commit} is not in agents.git"))
        elif refs.get(agent.id) != agent.commit:
            problems.append(Problem("bad_ref", agent.id, f"refs/agents/{agent.id} is {refs.get(agent.id)}, row says {agent.commit}"))
        if agent.parent_id is None:
            continue
        parent = by_id.get(agent.parent_id)
        if parent is None:
            problems.append(Problem("missing_parent", agent.id, f"parent {agent.parent_id} has no agent row"))
        elif agent.commit in existing and git_parents.get(agent.commit) != (parent.commit,):
            problems.append(Problem(
                "lineage_mismatch", agent.id,
                f"git parent {git_parents.get(agent.commit)} is not parent {parent.id}'s commit {parent.commit}",
            ))
    problems += _check_duplicates(store, agents, by_id)
    if not live:
        for name in sorted(set(refs) - set(by_id)):
            problems.append(Problem("orphan_ref", name, "refs/agents/ names an agent with no row (interrupted commit; `dgm resume` clears it)"))
    return problems


def _check_duplicates(store: RunStore, agents: list, by_id: dict) -> list[Problem]:
    """A duplicate names an existing, non-duplicate agent with the same source tree, and was never evaluated."""
    problems: list[Problem] = []
    dups = [agent for agent in agents if agent.status == "duplicate"]
    trees = store.git.commit_trees(sorted({a.commit for a in dups} | {by_id[a.duplicate_of].commit for a in dups
                                                                      if a.duplicate_of in by_id}))
    evaluated = {e.agent_id for e in store.evaluations()} if dups else set()
    for agent in dups:
        original = by_id.get(agent.duplicate_of)
        if original is None or original.status == "duplicate":
            problems.append(Problem("bad_duplicate", agent.id, f"duplicate_of {agent.duplicate_of!r} is not an original agent"))
        elif agent.commit in trees and original.commit in trees and trees[agent.commit] != trees[original.commit]:
            problems.append(Problem("bad_duplicate", agent.id, f"its source tree differs from {original.id}'s"))
        if agent.id in evaluated:
            problems.append(Problem("bad_duplicate", agent.id, "a duplicate has evaluation rows"))
    return problems


def _check_jobs(store: RunStore, live: bool) -> list[Problem]:
    problems: list[Problem] = []
    for job in store.jobs(state="done"):
        if job.artifact is not None and job.agent_id is not None:
            path = store.artifacts.path(job.agent_id, job.artifact)
            if not path.is_dir():
                problems.append(Problem("missing_artifact", job.key, f"done job's artifacts are missing: {path}"))
    if not live:
        for job in store.jobs(state="running"):
            problems.append(Problem("dangling_job", job.key, "running, but no live process holds the run lock (`dgm resume` resets it)"))
        for path in store.artifacts.partial_dirs():
            problems.append(Problem("partial_artifact", str(path.relative_to(store.run_dir)), "left by an interrupted job (`dgm resume` removes it)"))
    return problems


def _check_evaluations(store: RunStore) -> list[Problem]:
    problems: list[Problem] = []
    for evaluation in store.evaluations():
        if evaluation.artifact_dir and not (store.run_dir / evaluation.artifact_dir).exists():
            problems.append(Problem(
                "missing_artifact", f"{evaluation.agent_id}/{evaluation.task_id}",
                f"evaluation artifacts are missing: {evaluation.artifact_dir}",
            ))
    return problems


def _check_llm_calls(store: RunStore) -> list[Problem]:
    columns = {row[0] for row in store.select("SELECT name FROM pragma_table_info('llm_calls')")}
    if not columns:
        return []  # no calls recorded yet (the cassette creates the table on first use)
    if _LLM_JOB_COLUMN not in columns:
        return [Problem("llm_calls_schema", "llm_calls", f"no {_LLM_JOB_COLUMN} column (the cassette's schema changed?)")]
    # The loop names calls "<job key>#<attempt>" (dgm/loop/context.py); either form must name a job.
    rows = store.select(
        "SELECT job_key, COUNT(*) FROM llm_calls WHERE job_key NOT IN (SELECT key FROM jobs) "
        "AND (instr(job_key, '#') = 0 OR substr(job_key, 1, instr(job_key, '#') - 1) NOT IN (SELECT key FROM jobs)) "
        "GROUP BY job_key ORDER BY job_key"
    )
    return [Problem("unknown_job", str(key), f"{count} llm_calls rows name a job the run does not know") for key, count in rows]
