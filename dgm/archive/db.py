"""run.db: the SQLite half of the run store (schema, connections, transactions).

WAL mode lets readers (`dgm archive ls` beside a live run, the LLM cassette's own connection)
proceed while the loop writes; busy_timeout turns short write contention into waiting instead of
errors. Read-only connections use the `mode=ro` URI and `query_only`, so they can never write.

Table `llm_calls` belongs to the LLM cassette, which creates it in the same file.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 30_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS agents (
    id TEXT PRIMARY KEY,
    parent_id TEXT REFERENCES agents(id),
    generation INTEGER NOT NULL,
    slot INTEGER NOT NULL,
    commit_sha TEXT NOT NULL,
    origin TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'invalid', 'evaluated', 'duplicate')),
    invalid_reason TEXT,
    admitted INTEGER NOT NULL DEFAULT 0,
    scores TEXT NOT NULL DEFAULT '[]',
    score REAL,
    cost REAL NOT NULL DEFAULT 0,
    tokens INTEGER NOT NULL DEFAULT 0,
    flags TEXT NOT NULL DEFAULT '{}',
    created_at REAL NOT NULL,
    duplicate_of TEXT,
    UNIQUE (generation, slot)
);
CREATE INDEX IF NOT EXISTS agents_parent ON agents(parent_id);
CREATE INDEX IF NOT EXISTS agents_generation ON agents(generation);
CREATE TABLE IF NOT EXISTS evaluations (
    agent_id TEXT NOT NULL REFERENCES agents(id),
    task_id TEXT NOT NULL,
    stage INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('resolved', 'unresolved', 'agent_error', 'infra_error')),
    duration REAL NOT NULL DEFAULT 0,
    tokens INTEGER NOT NULL DEFAULT 0,
    cost REAL NOT NULL DEFAULT 0,
    artifact_dir TEXT,
    PRIMARY KEY (agent_id, task_id)
);
CREATE TABLE IF NOT EXISTS jobs (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    agent_id TEXT,
    generation INTEGER,
    state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    artifact TEXT,
    result TEXT,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state);
CREATE INDEX IF NOT EXISTS jobs_generation ON jobs(generation);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}'
);
"""

TABLES = ("meta", "agents", "evaluations", "jobs", "events")


def connect(path: Path, *, readonly: bool) -> sqlite3.Connection:
    """Open run.db. Autocommit mode: transactions are explicit (`Database.transaction`)."""
    if readonly:
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA query_only = ON")
        return conn
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def create_schema(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))


def upgrade(conn: sqlite3.Connection) -> None:
    """Bring a run made before duplicates existed up to date (writable opens only): the
    `duplicate_of` column, and 'duplicate' among the allowed statuses. The status CHECK is widened
    by editing the stored schema text, the procedure SQLite documents for constraint changes
    that leave the file format alone (sqlite.org/lang_altertable.html, section 7)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(agents)")}
    if "duplicate_of" not in columns:
        conn.execute("ALTER TABLE agents ADD COLUMN duplicate_of TEXT")
    sql = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'agents'").fetchone()[0]
    old = "'pending', 'invalid', 'evaluated')"
    if "'duplicate'" not in sql and old in sql:
        version = conn.execute("PRAGMA schema_version").fetchone()[0]
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute("UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = 'agents'",
                     (old, "'pending', 'invalid', 'evaluated', 'duplicate')"))
        conn.execute(f"PRAGMA schema_version = {version + 1}")
        conn.execute("PRAGMA writable_schema = OFF")
        conn.execute("COMMIT")


def missing_tables(conn: sqlite3.Connection) -> list[str]:
    present = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return [name for name in TABLES if name not in present]


class Database:
    """One shared connection for all threads of the process, serialised by a re-entrant lock.

    Why one connection and not one per thread: the loop's writes are small and few per second,
    and a single connection makes "this group of statements is one transaction" trivially true
    across helper calls (`transaction()` nests: only the outermost level commits).
    The lock is held for the whole transaction, so keep slow work (git, sandboxes) outside.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._lock = threading.RLock()
        self._depth = 0

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All-or-nothing group of writes; nested use becomes a savepoint, so an inner failure
        that the caller catches undoes only the inner statements."""
        with self._lock:
            level = self._depth
            self.conn.execute("BEGIN IMMEDIATE" if level == 0 else f"SAVEPOINT level{level}")
            self._depth += 1
            try:
                yield self.conn
            except BaseException:
                self._depth -= 1
                if level == 0:
                    self.conn.execute("ROLLBACK")
                else:
                    self.conn.execute(f"ROLLBACK TO level{level}")
                    self.conn.execute(f"RELEASE level{level}")
                raise
            self._depth -= 1
            self.conn.execute("COMMIT" if level == 0 else f"RELEASE level{level}")

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for multi-query reads (inside a transaction: that one)."""
        with self._lock:
            if self._depth:
                yield self.conn
                return
            self.conn.execute("BEGIN")
            self._depth += 1
            try:
                yield self.conn
            finally:
                self._depth -= 1
                self.conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self.conn.close()
