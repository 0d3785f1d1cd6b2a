"""RunStore: the one object the loop, the CLI and `resume` use to read and write a run.

    archive/<run>/config.yaml   fully resolved config, written once at create
    archive/<run>/agents.git    bare repo, one commit + ref (refs/agents/<id>) per agent
    archive/<run>/run.db        SQLite (WAL): agents, evaluations, jobs, events, policies (+ llm_calls)
    archive/<run>/agents/<id>/  artifacts, published whole by rename

Write order, so a crash at any point loses no finished work and shows nothing half-done:
  1. `commit_agent` writes git objects and the agent's ref (slow; outside any transaction);
  2. a transaction inserts the row naming that commit, usually together with the job that
     produced it: `with store.transaction(): store.add_agent(...); store.finish_job(...)`;
  3. a job's files are staged under `agents/<id>/.partial/` while it runs and renamed into place
     by `finish_job` just before its row turns `done` (in the same call).
After a crash, `reset_interrupted_jobs` puts running jobs back to pending and removes what they
left: staged and unconfirmed published artifacts, refs no row names.

Thread safety: one connection shared by all threads behind a lock (see `db.Database`).
"""

from __future__ import annotations

import functools
import gc
import itertools
import json
import operator
import os
import re
import secrets
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import git as gitpython
import yaml

from dgm.archive import db as dbmod
from dgm.archive.artifacts import Artifacts
from dgm.archive.errors import (
    DamagedRunError,
    JobStateError,
    NotARunError,
    ReadOnlyStoreError,
    RunExistsError,
    UnknownAgentError,
)
from dgm.archive.gitstore import GitStore
from dgm.archive.improver import procedure_hash
from dgm.archive.ids import SEED_ID, parse_agent_id
from dgm.archive.records import (
    TASK_STATUSES,
    Agent,
    AgentLine,
    Evaluation,
    Event,
    Job,
    StageScore,
    overall_score,
)
from dgm.errors import DgmError

if TYPE_CHECKING:
    from dgm.archive.summary import ArchiveSummary

CONFIG_FILE = "config.yaml"
DB_FILE = "run.db"
GIT_DIR = "agents.git"

# Allowed job transitions; `running -> pending` is only taken by reset_interrupted_jobs.
_TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"running"}),
    "running": frozenset({"done", "failed", "pending"}),
    "failed": frozenset({"pending"}),
    "done": frozenset(),
}

_AGENT_COLUMNS = (
    "id, parent_id, generation, slot, commit_sha, origin, status, invalid_reason, admitted, "
    "scores, score, cost, tokens, flags, created_at, duplicate_of"
)
_JOB_COLUMNS = "key, kind, agent_id, generation, state, attempts, artifact, result, updated_at"
_EVAL_COLUMNS = "agent_id, task_id, stage, status, duration, tokens, cost, artifact_dir"


@functools.lru_cache(maxsize=4096)
def _stages(text: str) -> tuple[StageScore, ...]:
    # Cached: many agents share a score line, and tuples of frozen records are safe to share.
    return tuple(StageScore.from_json(item) for item in json.loads(text))


def _agent(row: tuple[Any, ...]) -> Agent:
    return Agent(
        row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], bool(row[8]),
        _stages(row[9]), row[10], row[11], row[12], {} if row[13] == "{}" else json.loads(row[13]), row[14], row[15],
    )


_LINE_COLUMNS = ("id, parent_id, generation, slot, commit_sha, origin, status, invalid_reason, admitted, scores, score, "
                 "cost, tokens, duplicate_of, json_extract(flags, '$.improver'), json_extract(flags, '$.improved_by')")


def _line(r: tuple[Any, ...]) -> AgentLine:
    """An `AgentLine` from a row of `_LINE_COLUMNS`."""
    return AgentLine(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], bool(r[8]), _stages(r[9]), r[10], r[11], r[12],
                     r[13], r[14], r[15])


def _seed_flags(seed_agent_dir: Path) -> dict[str, Any]:
    """The seed's improvement procedure (docs/meta.md); it was made by no procedure."""
    improver = procedure_hash(seed_agent_dir)
    return {} if improver is None else {"improver": improver}


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while turning many rows into small acyclic records:
    its repeated passes over the growing heap cost more than the building (100,000 agents with
    their task outcomes: about a third of `summary()`). Process-wide, so a concurrent pause in
    another thread may end early: that only costs speed."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _job(row: tuple[Any, ...]) -> Job:
    return Job(row[0], row[1], row[2], row[3], row[4], row[5], row[6],
               None if row[7] is None else json.loads(row[7]), row[8])


POLICY_STATUSES: tuple[str, ...] = ("incumbent", "candidate", "trial", "kept", "reverted", "rejected")
_POLICY_ID = re.compile(r"p(0|[1-9][0-9]*)")
# Selection-policy versions of the meta-loop (dgm/meta, docs/meta.md). Created when a store is
# opened writable, so runs made before the meta-loop existed still open (read-only: no rows).
_POLICIES_TABLE = f"""CREATE TABLE IF NOT EXISTS policies (
    id TEXT PRIMARY KEY,
    parent_id TEXT REFERENCES policies(id),
    commit_sha TEXT NOT NULL,
    origin TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ({', '.join(repr(s) for s in POLICY_STATUSES)})),
    reason TEXT,
    generation INTEGER NOT NULL,
    governed TEXT NOT NULL DEFAULT '[]',
    failures INTEGER NOT NULL DEFAULT 0,
    meta_fitness REAL,
    created_at REAL NOT NULL
)"""
_POLICY_COLUMNS = "id, parent_id, commit_sha, origin, status, reason, generation, governed, failures, meta_fitness, created_at"


class UnknownPolicyError(DgmError):
    """No policy version with that id."""


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    """One version of the evolvable selection policy. `generation`: created after that generation
    finished (0: the seed policy); `governed`: generations whose parents it chose; `failures`:
    generations where it crashed or answered badly and the built-in chose instead."""

    id: str
    parent_id: str | None
    commit: str
    origin: str            # seed | meta
    status: str            # one of POLICY_STATUSES
    reason: str | None
    generation: int
    governed: tuple[int, ...]
    failures: int
    meta_fitness: float | None
    created_at: float


def _policy(row: tuple[Any, ...]) -> PolicyVersion:
    return PolicyVersion(row[0], row[1], row[2], row[3], row[4], row[5], row[6], tuple(json.loads(row[7])),
                         row[8], row[9], row[10])


class RunStore:
    """Facade over config.yaml, agents.git, run.db and the artifact directories of one run."""

    def __init__(self, run_dir: Path, database: dbmod.Database, gitstore: GitStore, *, readonly: bool) -> None:
        self.run_dir = run_dir
        self.readonly = readonly
        self.git = gitstore
        self.artifacts = Artifacts(run_dir)
        self._db = database

    # -- opening -----------------------------------------------------------------------------

    @classmethod
    def create(cls, run_dir: Path, config: Mapping[str, Any], seed_agent_dir: Path) -> "RunStore":
        """Make a new run holding the seed agent `g0c0` (status pending, admitted).

        Built in a hidden sibling directory and renamed into place, so a crash during create
        leaves no half-made run behind under the real name.
        """
        run_dir, seed_agent_dir = Path(run_dir), Path(seed_agent_dir)
        if run_dir.exists() and (not run_dir.is_dir() or any(run_dir.iterdir())):
            raise RunExistsError(
                f"{run_dir} already exists and is not empty; continue it with `dgm resume {run_dir}` "
                "or choose another run name"
            )
        if not seed_agent_dir.is_dir():
            raise DgmError(f"seed agent directory not found: {seed_agent_dir} (expected the agent's source folder)")
        run_dir.parent.mkdir(parents=True, exist_ok=True)
        build = Path(tempfile.mkdtemp(prefix=f".{run_dir.name}.creating-", dir=run_dir.parent))
        try:
            build.chmod(0o755)
            (build / CONFIG_FILE).write_text(yaml.safe_dump(dict(config), sort_keys=False), encoding="utf-8")
            gitstore = GitStore.init(build / GIT_DIR)
            seed_commit = gitstore.commit_tree(seed_agent_dir, None, f"agent {SEED_ID} (seed)")
            gitstore.set_ref(SEED_ID, seed_commit)
            gitstore.close()
            conn = dbmod.connect(build / DB_FILE, readonly=False)
            try:
                dbmod.create_schema(conn)
                now = time.time()
                conn.execute("INSERT INTO meta (key, value) VALUES ('created_at', ?)", (repr(now),))
                conn.execute("INSERT INTO meta (key, value) VALUES ('run_id', ?)",
                             (f"{run_dir.name}-{secrets.token_hex(4)}",))
                conn.execute(
                    "INSERT INTO agents (id, parent_id, generation, slot, commit_sha, origin, admitted, flags, created_at) "
                    "VALUES (?, NULL, 0, 0, ?, 'seed', 1, ?, ?)",
                    (SEED_ID, seed_commit, json.dumps(_seed_flags(seed_agent_dir)), now),
                )
            finally:
                conn.close()
            (build / "agents").mkdir()
            if run_dir.exists():
                run_dir.rmdir()  # empty (checked above): rename cannot replace it otherwise
            os.rename(build, run_dir)
        except BaseException:
            shutil.rmtree(build, ignore_errors=True)
            raise
        return cls.open(run_dir)

    @classmethod
    def open(cls, run_dir: Path, *, readonly: bool = False) -> "RunStore":
        """Open an existing run. `readonly=True` never writes and is safe beside a live run."""
        run_dir = Path(run_dir)
        if not run_dir.is_dir():
            raise NotARunError(f"{run_dir}: no such run directory (expected archive/<run> made by `dgm run`)")
        missing = [name for name in (CONFIG_FILE, DB_FILE, GIT_DIR) if not (run_dir / name).exists()]
        if missing:
            raise NotARunError(
                f"{run_dir} is not a dgm run (missing {', '.join(missing)}); expected a directory made by `dgm run`"
            )
        try:
            gitstore = GitStore(run_dir / GIT_DIR)
        except (gitpython.InvalidGitRepositoryError, gitpython.NoSuchPathError):
            raise DamagedRunError(f"{run_dir / GIT_DIR} is damaged: expected a bare git repository") from None
        try:
            conn = dbmod.connect(run_dir / DB_FILE, readonly=readonly)
            absent = dbmod.missing_tables(conn)
        except sqlite3.DatabaseError as err:
            gitstore.close()
            raise DamagedRunError(f"{run_dir / DB_FILE} is damaged ({err}); expected the run's SQLite store") from None
        if absent:
            conn.close()
            gitstore.close()
            raise DamagedRunError(f"{run_dir / DB_FILE} is damaged: missing tables {', '.join(absent)}")
        if not readonly:
            conn.execute(_POLICIES_TABLE)
            dbmod.upgrade(conn)
        elif "duplicate_of" not in {row[1] for row in conn.execute("PRAGMA table_info(agents)")}:
            conn.close()
            gitstore.close()
            raise DamagedRunError(f"{run_dir / DB_FILE} was made by an older dgm (no agents.duplicate_of column); "
                                  f"`dgm resume {run_dir}` or any writable open upgrades it")
        return cls(run_dir, dbmod.Database(conn), gitstore, readonly=readonly)

    def close(self) -> None:
        self._db.close()
        self.git.close()

    def __enter__(self) -> "RunStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @functools.cached_property
    def run_id(self) -> str:
        """Unique name of this run (its folder name plus a random suffix fixed at create): the
        `dgm.run` label of its containers, so two runs in folders of the same name never reap
        each other's sandboxes."""
        with self._db.reading() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'run_id'").fetchone()
        return row[0] if row else self.run_dir.name

    def config(self) -> dict[str, Any]:
        """The resolved config written at create (validate with dgm.config.validate)."""
        return yaml.safe_load((self.run_dir / CONFIG_FILE).read_text(encoding="utf-8")) or {}

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group store writes into one all-or-nothing step (nests as a savepoint)."""
        if self.readonly:
            raise ReadOnlyStoreError(f"{self.run_dir} was opened read-only; open it with readonly=False to write")
        with self._db.transaction():
            yield

    # -- agents: writing ---------------------------------------------------------------------

    def commit_agent(self, agent_id: str, parent_id: str, *, source: Path | None = None,
                     diff: bytes | None = None) -> str:
        """Store a child's source as a commit on its parent's and point `refs/agents/<id>` at it.

        Give either `source` (the child's whole tree) or `diff` (a `git diff --binary` patch
        against the parent). Call before `add_agent`; safe to repeat after a crash.
        """
        if (source is None) == (diff is None):
            raise ValueError("commit_agent needs exactly one of source= or diff=")
        self._require_writable()
        parse_agent_id(agent_id)
        if self.find_agent(agent_id) is not None:
            raise DgmError(f"agent {agent_id} is already recorded; its commit cannot change")
        parent = self.agent(parent_id)
        message = f"agent {agent_id} (parent {parent_id})"
        if source is not None:
            sha = self.git.commit_tree(Path(source), parent.commit, message)
        else:
            sha = self.git.commit_diff(parent.commit, diff or b"", message)
        self.git.set_ref(agent_id, sha)
        return sha

    def add_agent(self, agent_id: str, parent_id: str, commit: str, *, origin: str = "self_improve",
                  flags: Mapping[str, Any] | None = None) -> Agent:
        """Record a child (status pending, not admitted). `commit` must be its ref's commit."""
        generation, slot = parse_agent_id(agent_id)
        if self.git.ref(agent_id) != commit:
            raise DgmError(f"agent {agent_id}: commit {commit} is not refs/agents/{agent_id}; call commit_agent first")
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM agents WHERE id = ?", (parent_id,)).fetchone() is None:
                raise UnknownAgentError(f"unknown parent agent {parent_id!r} for {agent_id}")
            conn.execute(
                "INSERT INTO agents (id, parent_id, generation, slot, commit_sha, origin, flags, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (agent_id, parent_id, generation, slot, commit, origin, json.dumps(dict(flags or {})), time.time()),
            )
        return self.agent(agent_id)

    def mark_invalid(self, agent_id: str, reason: str) -> None:
        """The child cannot be a parent (e.g. no non-empty patch, or its evaluation never ran)."""
        self._update_agent(agent_id, "status = 'invalid', invalid_reason = ?, admitted = 0", (reason,))

    def mark_duplicate(self, agent_id: str, original_id: str) -> None:
        """The child's source tree equals `original_id`'s: it is not evaluated and cannot be a parent."""
        self._update_agent(agent_id, "status = 'duplicate', duplicate_of = ?, admitted = 0", (original_id,))

    def set_scores(self, agent_id: str, stages: Sequence[StageScore]) -> None:
        """Per-stage results so far; marks the agent evaluated and derives the overall score."""
        stages = tuple(stages)
        self._update_agent(
            agent_id,
            "status = 'evaluated', invalid_reason = NULL, scores = ?, score = ?",
            (json.dumps([stage.to_json() for stage in stages]), overall_score(stages)),
        )

    def set_admitted(self, agent_id: str, admitted: bool) -> None:
        self._update_agent(agent_id, "admitted = ?", (int(admitted),))

    def add_usage(self, agent_id: str, *, cost: float, tokens: int) -> None:
        """Add spending attributed to this agent (its self-improvement and its evaluations)."""
        self._update_agent(agent_id, "cost = cost + ?, tokens = tokens + ?", (cost, tokens))

    def update_flags(self, agent_id: str, **flags: Any) -> None:
        """Merge `flags` into the agent's flags (e.g. empty_patch_ratio, context_length_errors)."""
        with self._write() as conn:
            merged = {**self.agent(agent_id).flags, **flags}
            conn.execute("UPDATE agents SET flags = ? WHERE id = ?", (json.dumps(merged), agent_id))

    def _update_agent(self, agent_id: str, assignments: str, params: tuple[Any, ...]) -> None:
        with self._write() as conn:
            cursor = conn.execute(f"UPDATE agents SET {assignments} WHERE id = ?", (*params, agent_id))
            if cursor.rowcount == 0:
                raise UnknownAgentError(f"unknown agent {agent_id!r}")

    # -- agents: reading ---------------------------------------------------------------------

    def find_agent(self, agent_id: str) -> Agent | None:
        with self._db.reading() as conn:
            row = conn.execute(f"SELECT {_AGENT_COLUMNS} FROM agents WHERE id = ?", (agent_id,)).fetchone()
        return None if row is None else _agent(row)

    def agent(self, agent_id: str) -> Agent:
        found = self.find_agent(agent_id)
        if found is None:
            raise UnknownAgentError(f"unknown agent {agent_id!r} in {self.run_dir}")
        return found

    def list_agents(self, *, generation: int | None = None, status: str | None = None) -> list[Agent]:
        """All agents (optionally filtered), ordered by generation then slot; one query."""
        clauses, params = [], []
        if generation is not None:
            clauses.append("generation = ?")
            params.append(generation)
        if status is not None:
            clauses.append("status = ?")
            params.append(status)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with _gc_paused():
            with self._db.reading() as conn:
                rows = conn.execute(f"SELECT {_AGENT_COLUMNS} FROM agents{where} ORDER BY generation, slot",
                                    params).fetchall()
            return [_agent(row) for row in rows]

    def list_agent_lines(self) -> list[AgentLine]:
        """All agents in creation order, flag-less (see AgentLine): the fast path for listings."""
        with _gc_paused():
            with self._db.reading() as conn:
                rows = conn.execute(f"SELECT {_LINE_COLUMNS} FROM agents ORDER BY generation, slot").fetchall()
            return [_line(r) for r in rows]

    def top_scored(self) -> list[AgentLine]:
        """The evaluated agents that share the highest score (`views.best_of` breaks the tie):
        finding the best agent without reading every row."""
        with self._db.reading() as conn:
            rows = conn.execute(
                f"SELECT {_LINE_COLUMNS} FROM agents WHERE status = 'evaluated' AND score = "
                "(SELECT MAX(score) FROM agents WHERE status = 'evaluated') ORDER BY generation, slot"
            ).fetchall()
        return [_line(r) for r in rows]

    def runner_up(self, best_id: str) -> AgentLine | None:
        """The highest-scored evaluated agent other than `best_id` (most tasks first on a tie)."""
        with self._db.reading() as conn:
            rows = conn.execute(
                f"SELECT {_LINE_COLUMNS} FROM agents WHERE status = 'evaluated' AND score IS NOT NULL AND id != ? "
                "ORDER BY score DESC, generation, slot LIMIT 1", (best_id,)).fetchall()
        return next((_line(r) for r in rows), None)

    def children(self, agent_id: str) -> list[Agent]:
        with self._db.reading() as conn:
            rows = conn.execute(
                f"SELECT {_AGENT_COLUMNS} FROM agents WHERE parent_id = ? ORDER BY generation, slot", (agent_id,)
            ).fetchall()
        return [_agent(row) for row in rows]

    def lineage(self, agent_id: str) -> list[Agent]:
        """The chain of parents, seed first, ending with `agent_id`."""
        query = f"""
            WITH RECURSIVE chain(id, depth) AS (
                SELECT id, 0 FROM agents WHERE id = ?
                UNION ALL
                SELECT agents.parent_id, chain.depth + 1 FROM agents JOIN chain ON agents.id = chain.id
                WHERE agents.parent_id IS NOT NULL
            )
            SELECT {', '.join('agents.' + c.strip() for c in _AGENT_COLUMNS.split(','))}
            FROM chain JOIN agents ON agents.id = chain.id ORDER BY chain.depth DESC"""
        with self._db.reading() as conn:
            rows = conn.execute(query, (agent_id,)).fetchall()
        if not rows:
            raise UnknownAgentError(f"unknown agent {agent_id!r} in {self.run_dir}")
        return [_agent(row) for row in rows]

    def checkout(self, agent_id: str, dest: Path) -> None:
        """Write the agent's source tree into `dest` (created; must be empty)."""
        self.git.checkout(self.agent(agent_id).commit, Path(dest))

    def diff(self, old_id: str, new_id: str) -> str:
        """Readable diff from one agent's source to another's."""
        return self.git.diff(self.agent(old_id).commit, self.agent(new_id).commit)

    def binary_diff(self, old_id: str, new_id: str) -> bytes:
        """A patch that `commit_agent(..., diff=patch)` on `old_id` reproduces exactly."""
        return self.git.binary_diff(self.agent(old_id).commit, self.agent(new_id).commit)

    def summary(self) -> "ArchiveSummary":
        """The archive as selection policies see it."""
        from dgm.archive.summary import ArchiveSummary

        with _gc_paused():
            with self._db.reading():
                agents = self.list_agent_lines()  # a summary has no flags: skip parsing them
                outcomes = self.task_outcomes()
            return ArchiveSummary.from_agents(agents, outcomes)  # type: ignore[arg-type]  # same fields

    # -- evaluations -------------------------------------------------------------------------

    def add_evaluation(self, evaluation: Evaluation) -> None:
        """Record (or replace, on a retry) one task's outcome."""
        if evaluation.status not in TASK_STATUSES:
            raise ValueError(f"evaluation status {evaluation.status!r}: expected one of {', '.join(TASK_STATUSES)}")
        e = evaluation
        with self._write() as conn:
            conn.execute(
                f"INSERT OR REPLACE INTO evaluations ({_EVAL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (e.agent_id, e.task_id, e.stage, e.status, e.duration, e.tokens, e.cost, e.artifact_dir),
            )

    def evaluations(self, agent_id: str | None = None) -> list[Evaluation]:
        where, params = ("WHERE agent_id = ?", (agent_id,)) if agent_id else ("", ())
        with self._db.reading() as conn:
            rows = conn.execute(f"SELECT {_EVAL_COLUMNS} FROM evaluations {where} ORDER BY agent_id, stage, task_id",
                                params).fetchall()
        return [Evaluation(*row) for row in rows]

    def task_outcomes(self) -> dict[str, dict[str, bool]]:
        """Agent -> task -> resolved, over scored outcomes (infra errors say nothing about the agent)."""
        # Streamed from the cursor (no list of a million row tuples), grouped by agent in key
        # order, and each task id stored once: SQLite hands out a new string per row.
        outcomes: dict[str, dict[str, bool]] = {}
        names: dict[str, str] = {}
        with _gc_paused(), self._db.reading() as conn:
            rows = conn.execute(
                "SELECT agent_id, task_id, status = 'resolved' FROM evaluations WHERE status != 'infra_error' "
                "ORDER BY agent_id, task_id"
            )
            for agent_id, group in itertools.groupby(rows, key=operator.itemgetter(0)):
                outcomes[agent_id] = {names.setdefault(task_id, task_id): bool(resolved) for _, task_id, resolved in group}
        return outcomes

    # -- jobs --------------------------------------------------------------------------------

    def add_job(self, key: str, kind: str, *, agent_id: str | None = None, generation: int | None = None,
                artifact: str | None = None) -> Job:
        """Register a job (pending). Idempotent: an existing job with the same key is returned,
        so the loop can re-declare a generation's jobs on resume and skip the done ones."""
        if artifact is not None:
            if agent_id is None:
                raise ValueError(f"job {key}: an artifact directory needs an agent_id")
            self.artifacts.relpath(agent_id, artifact)  # validates the name
        with self._write() as conn:
            conn.execute(
                f"INSERT OR IGNORE INTO jobs ({_JOB_COLUMNS}) VALUES (?, ?, ?, ?, 'pending', 0, ?, NULL, ?)",
                (key, kind, agent_id, generation, artifact, time.time()),
            )
            job = self._get_job(conn, key)
        if (job.kind, job.agent_id, job.generation, job.artifact) != (kind, agent_id, generation, artifact):
            raise JobStateError(f"job {key} already exists as a different job (kind {job.kind}, agent {job.agent_id})")
        return job

    def start_job(self, key: str) -> Job:
        """pending -> running (counts an attempt); gives the job an empty staging directory."""
        job = self._transition(key, "running", attempt=True)
        if job.artifact is not None:
            self.artifacts.fresh_staging(job.agent_id, job.artifact)
        return job

    def staging_dir(self, key: str) -> Path:
        """Where a running job writes its files; published by finish_job/fail_job."""
        job = self.job(key)
        if job is None or job.artifact is None or job.agent_id is None:
            raise JobStateError(f"job {key} has no artifact directory (declare artifact= in add_job)")
        return self.artifacts.staging(job.agent_id, job.artifact)

    def artifact_relpath(self, key: str) -> str | None:
        """The job's published artifact directory relative to the run dir (for Evaluation rows)."""
        job = self.job(key)
        if job is None or job.artifact is None or job.agent_id is None:
            return None
        return self.artifacts.relpath(job.agent_id, job.artifact)

    def finish_job(self, key: str, result: Any = None) -> Job:
        """running -> done, after publishing the job's staged files."""
        return self._transition(key, "done", result=result, publish=True)

    def fail_job(self, key: str, error: str, result: Any = None) -> Job:
        """running -> failed; the staged files are published too (they explain the failure)."""
        payload = {"error": error} if result is None else {"error": error, "result": result}
        return self._transition(key, "failed", result=payload, publish=True)

    def retry_job(self, key: str) -> Job:
        """failed -> pending, to run it again."""
        return self._transition(key, "pending")

    def _transition(self, key: str, target: str, *, result: Any = None, attempt: bool = False,
                    publish: bool = False) -> Job:
        with self._write() as conn:
            job = self._get_job(conn, key)
            if target not in _TRANSITIONS[job.state]:
                raise JobStateError(f"job {key} is {job.state}; cannot move it to {target}")
            if publish and job.artifact is not None:
                # Files into place before the row that says they are complete.
                self.artifacts.publish(job.agent_id, job.artifact)
            conn.execute(
                "UPDATE jobs SET state = ?, attempts = attempts + ?, result = ?, updated_at = ? WHERE key = ?",
                (target, int(attempt), None if result is None else json.dumps(result), time.time(), key),
            )
            return self._get_job(conn, key)

    def reset_interrupted_jobs(self) -> list[str]:
        """For `resume` (with the run lock held): running jobs go back to pending and lose their
        staged or unconfirmed artifacts; stray partial files and refs no agent row names go too.
        Returns the keys of the jobs reset."""
        with self._write() as conn:
            running = [_job(row) for row in conn.execute(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE state = 'running'")]
            for job in running:
                if job.artifact is not None and job.agent_id is not None:
                    self.artifacts.discard(job.agent_id, job.artifact)
            conn.execute("UPDATE jobs SET state = 'pending', updated_at = ? WHERE state = 'running'", (time.time(),))
            known = {row[0] for row in conn.execute("SELECT id FROM agents")}
        self.artifacts.remove_partials()
        for name in self.git.refs():
            if name not in known:
                self.git.delete_ref(name)
        return [job.key for job in running]

    def job(self, key: str) -> Job | None:
        with self._db.reading() as conn:
            row = conn.execute(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE key = ?", (key,)).fetchone()
        return None if row is None else _job(row)

    def jobs(self, *, state: str | None = None, kind: str | None = None, generation: int | None = None,
             agent_id: str | None = None) -> list[Job]:
        clauses, params = [], []
        for column, value in (("state", state), ("kind", kind), ("generation", generation), ("agent_id", agent_id)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._db.reading() as conn:
            rows = conn.execute(f"SELECT {_JOB_COLUMNS} FROM jobs{where} ORDER BY rowid", params).fetchall()
        return [_job(row) for row in rows]

    @staticmethod
    def _get_job(conn: sqlite3.Connection, key: str) -> Job:
        row = conn.execute(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise JobStateError(f"unknown job {key!r} (register it with add_job first)")
        return _job(row)

    # -- artifacts and events ----------------------------------------------------------------

    def write_artifact(self, agent_id: str, name: str, data: bytes | str) -> Path:
        """One file under agents/<id>/ (e.g. diagnosis.json), written atomically."""
        self._require_writable()
        return self.artifacts.write_file(agent_id, name, data)

    def add_event(self, kind: str, payload: Mapping[str, Any] | None = None) -> int:
        """Append to the event log; returns its sequence number."""
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO events (ts, kind, payload) VALUES (?, ?, ?)",
                (time.time(), kind, json.dumps(dict(payload or {}), default=str)),
            )
            return int(cursor.lastrowid)

    def events(self, *, after: int = 0, kind: str | None = None, limit: int | None = None) -> list[Event]:
        query = "SELECT seq, ts, kind, payload FROM events WHERE seq > ?"
        params: list[Any] = [after]
        if kind is not None:
            query += " AND kind = ?"
            params.append(kind)
        query += " ORDER BY seq"
        if limit is not None:
            query += " LIMIT ?"
            params.append(limit)
        with self._db.reading() as conn:
            rows = conn.execute(query, params).fetchall()
        return [Event(seq, ts, kind_, json.loads(payload)) for seq, ts, kind_, payload in rows]

    def llm_spend(self) -> dict[str, tuple[float, int]]:
        """Agent id -> (dollars, tokens) of the model calls recorded for its jobs; empty before
        the LLM cassette has recorded a call. Job keys start with the agent a job works for
        (`g3c1/diagnose#1`, `g3c1/eval/t1#2`), so a child is charged for its diagnosis and
        self-improvement as well as its evaluations; keys of other jobs group under their first
        path part."""
        if not self.select("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'llm_calls'"):
            return {}
        rows = self.select(
            "SELECT CASE WHEN instr(job_key, '/') > 0 THEN substr(job_key, 1, instr(job_key, '/') - 1) "
            "ELSE job_key END AS owner, SUM(cost), SUM(input_tokens + output_tokens) FROM llm_calls GROUP BY owner"
        )
        spend: dict[str, tuple[float, int]] = {}
        for owner, dollars, tokens in rows:
            owner = str(owner).split("#", 1)[0]
            before = spend.get(owner, (0.0, 0))
            spend[owner] = (before[0] + float(dollars or 0.0), before[1] + int(tokens or 0))
        return spend

    # -- selection-policy versions (the meta-loop) -------------------------------------------

    def commit_policy(self, policy_id: str, parent_id: str | None, source: Path) -> str:
        """Store a policy version's files as a commit on its parent version's (the seed policy
        starts its own root commit) and point `refs/policies/<id>` at it. Call before add_policy."""
        self._require_writable()
        _check_policy_id(policy_id)
        parent = None if parent_id is None else self.policy(parent_id).commit
        sha = self.git.commit_tree(Path(source), parent, f"policy {policy_id}" + (f" (parent {parent_id})" if parent_id else " (seed)"))
        self.git.set_policy_ref(policy_id, sha)
        return sha

    def add_policy(self, policy_id: str, parent_id: str | None, commit: str, *, origin: str, status: str,
                   generation: int, reason: str | None = None) -> PolicyVersion:
        _check_policy_id(policy_id)
        _check_policy_status(status)
        if self.git.policy_ref(policy_id) != commit:
            raise DgmError(f"policy {policy_id}: commit {commit} is not refs/policies/{policy_id}; call commit_policy first")
        with self._write() as conn:
            conn.execute(
                f"INSERT INTO policies ({_POLICY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, '[]', 0, NULL, ?)",
                (policy_id, parent_id, commit, origin, status, reason, generation, time.time()),
            )
        return self.policy(policy_id)

    def set_policy_status(self, policy_id: str, status: str, *, reason: str | None = None,
                          meta_fitness: float | None = None) -> None:
        """New status; `reason` and `meta_fitness` replace the stored ones when given."""
        _check_policy_status(status)
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE policies SET status = ?, reason = COALESCE(?, reason), "
                "meta_fitness = COALESCE(?, meta_fitness) WHERE id = ?", (status, reason, meta_fitness, policy_id))
            if cursor.rowcount == 0:
                raise UnknownPolicyError(f"unknown policy {policy_id!r} in {self.run_dir}")

    def record_policy_use(self, policy_id: str, generation: int, *, failed: bool) -> None:
        """The version chose generation's parents, or (failed) it could not and the built-in did."""
        with self._write() as conn:
            version = self.policy(policy_id)
            if failed:
                conn.execute("UPDATE policies SET failures = failures + 1 WHERE id = ?", (policy_id,))
            elif generation not in version.governed:
                conn.execute("UPDATE policies SET governed = ? WHERE id = ?",
                             (json.dumps(sorted((*version.governed, generation))), policy_id))

    def find_policy(self, policy_id: str) -> PolicyVersion | None:
        if not self._has_policies():
            return None
        with self._db.reading() as conn:
            row = conn.execute(f"SELECT {_POLICY_COLUMNS} FROM policies WHERE id = ?", (policy_id,)).fetchone()
        return None if row is None else _policy(row)

    def policy(self, policy_id: str) -> PolicyVersion:
        found = self.find_policy(policy_id)
        if found is None:
            raise UnknownPolicyError(f"unknown policy {policy_id!r} in {self.run_dir} (see `dgm archive policies`)")
        return found

    def list_policies(self) -> list[PolicyVersion]:
        """Every version in creation order (none in a run made before the meta-loop existed)."""
        if not self._has_policies():
            return []
        with self._db.reading() as conn:
            rows = conn.execute(f"SELECT {_POLICY_COLUMNS} FROM policies ORDER BY generation, rowid").fetchall()
        return [_policy(row) for row in rows]

    def checkout_policy(self, policy_id: str, dest: Path) -> None:
        self.git.checkout(self.policy(policy_id).commit, Path(dest))

    def policy_diff(self, old_id: str, new_id: str) -> str:
        return self.git.diff(self.policy(old_id).commit, self.policy(new_id).commit)

    def _has_policies(self) -> bool:
        return bool(self.select("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'policies'"))

    # -- helpers -----------------------------------------------------------------------------

    def select(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a SELECT (e.g. over the cassette's llm_calls, which this store does not model)."""
        if not sql.lstrip().upper().startswith("SELECT"):
            raise ValueError("select() runs SELECT statements only")
        with self._db.reading() as conn:
            return conn.execute(sql, params).fetchall()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        self._require_writable()
        with self._db.transaction() as conn:
            yield conn

    def _require_writable(self) -> None:
        if self.readonly:
            raise ReadOnlyStoreError(f"{self.run_dir} was opened read-only; open it with readonly=False to write")


def _check_policy_id(policy_id: str) -> None:
    if _POLICY_ID.fullmatch(policy_id) is None:
        raise DgmError(f"bad policy id {policy_id!r}: expected p<number>, e.g. p1")


def _check_policy_status(status: str) -> None:
    if status not in POLICY_STATUSES:
        raise ValueError(f"policy status {status!r}: expected one of {', '.join(POLICY_STATUSES)}")
