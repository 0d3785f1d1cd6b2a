"""Every model call, stored in the run's SQLite file (table `llm_calls`), and replayed from it.

A record is written in its own transaction after the call ends, so a crash loses at most the calls
in flight and never leaves half a record. Records are keyed by (job key, sequence number in the
job): replay answers a job's n-th call with the recorded n-th answer and checks the request hash,
which covers exactly the resolved request (role, model, messages, tools, tool_choice, max_tokens,
temperature) in canonical JSON, so it does not depend on dict order or on time. Failed calls are
recorded too (with the error type) so replay fails them the same way.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dgm.llm.budget import Spend
from dgm.llm.types import Usage

SCHEMA = """
CREATE TABLE IF NOT EXISTS llm_calls (
    id INTEGER PRIMARY KEY,
    job_key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    run TEXT NOT NULL,
    agent TEXT NOT NULL,
    role TEXT NOT NULL,
    model TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    request TEXT NOT NULL,
    response TEXT,
    error_type TEXT,
    error_message TEXT,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cached_tokens INTEGER NOT NULL,
    cache_write_tokens INTEGER NOT NULL,
    cost REAL NOT NULL,
    latency REAL NOT NULL,
    attempts INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (job_key, seq)
);
"""

_COLUMNS = ("job_key", "seq", "run", "agent", "role", "model", "request_hash", "request", "response",
            "error_type", "error_message", "input_tokens", "output_tokens", "cached_tokens",
            "cache_write_tokens", "cost", "latency", "attempts")


@dataclass(frozen=True)
class CallRecord:
    job_key: str
    seq: int
    run: str
    agent: str
    role: str
    model: str
    request_hash: str
    request: str                       # canonical JSON of the resolved request
    response: dict[str, Any] | None    # None when the call failed
    error_type: str | None
    error_message: str | None
    usage: Usage
    cost: float
    latency: float
    attempts: int


class Cassette:
    def __init__(self, db_path: Path) -> None:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(db_path), timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        with self._db:
            self._db.executescript(SCHEMA)

    def record(self, rec: CallRecord) -> None:
        marks = ", ".join("?" for _ in range(len(_COLUMNS) + 1))
        with self._lock, self._db:
            self._db.execute(f"INSERT INTO llm_calls ({', '.join(_COLUMNS)}, created_at) VALUES ({marks})",
                             (*_row(rec), datetime.now(timezone.utc).isoformat()))

    def lookup(self, job_key: str, seq: int) -> CallRecord | None:
        with self._lock:
            row = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM llm_calls WHERE job_key = ? AND seq = ?",
                                   (job_key, seq)).fetchone()
        return None if row is None else _from_row(row)

    def records(self, job_key: str | None = None) -> list[CallRecord]:
        """A job's recorded calls (every job's when None), in (job key, sequence) order."""
        where, params = ("WHERE job_key = ?", (job_key,)) if job_key is not None else ("", ())
        with self._lock:
            rows = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM llm_calls {where} ORDER BY job_key, seq",
                                    params).fetchall()
        return [_from_row(row) for row in rows]

    def import_records(self, records: list[CallRecord]) -> int:
        """Store calls recorded elsewhere (a job on a cluster node), all or none; returns how many
        were new. A (job key, sequence) already present is kept as is, so importing twice is harmless."""
        marks = ", ".join("?" for _ in range(len(_COLUMNS) + 1))
        now = datetime.now(timezone.utc).isoformat()
        with self._lock, self._db:
            before = self._db.total_changes
            self._db.executemany(f"INSERT OR IGNORE INTO llm_calls ({', '.join(_COLUMNS)}, created_at) VALUES ({marks})",
                                 [(*_row(rec), now) for rec in records])
            return self._db.total_changes - before

    def next_seq(self, job_key: str) -> int:
        """Where a job's numbering continues, so a resumed job never overwrites its earlier calls."""
        with self._lock:
            (last,) = self._db.execute("SELECT MAX(seq) FROM llm_calls WHERE job_key = ?", (job_key,)).fetchone()
        return 0 if last is None else last + 1

    def spend(self) -> tuple[Spend, dict[str, Spend]]:
        """Spend so far (run total and per job): the sum over the recorded calls."""
        with self._lock:
            rows = self._db.execute("SELECT job_key, COUNT(*), SUM(input_tokens + output_tokens), SUM(cost) "
                                    "FROM llm_calls GROUP BY job_key").fetchall()
        jobs = {key: Spend(calls, tokens or 0, dollars or 0.0) for key, calls, tokens, dollars in rows}
        run = Spend(sum(s.calls for s in jobs.values()), sum(s.tokens for s in jobs.values()),
                    sum(s.dollars for s in jobs.values()))
        return run, jobs

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _row(rec: CallRecord) -> tuple[Any, ...]:
    return (rec.job_key, rec.seq, rec.run, rec.agent, rec.role, rec.model, rec.request_hash, rec.request,
            None if rec.response is None else json.dumps(rec.response, sort_keys=True),
            rec.error_type, rec.error_message, rec.usage.input_tokens, rec.usage.output_tokens,
            rec.usage.cached_tokens, rec.usage.cache_write_tokens, rec.cost, rec.latency, rec.attempts)


def _from_row(row: tuple[Any, ...]) -> CallRecord:
    values = dict(zip(_COLUMNS, row))
    usage = Usage(values.pop("input_tokens"), values.pop("output_tokens"), values.pop("cached_tokens"),
                  values.pop("cache_write_tokens"))
    response = values.pop("response")
    return CallRecord(**values, usage=usage, response=None if response is None else json.loads(response))
