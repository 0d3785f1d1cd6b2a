"""Crash safety of the write order, resume's reset, the run lock and the integrity check."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from dgm.archive.artifacts import Artifacts
from dgm.archive.check import check, check_run
from dgm.archive.gitstore import GitStore
from dgm.archive.lock import RunLock, RunLockedError, holder_pid, is_live
from dgm.archive.records import Evaluation
from dgm.archive.store import RunStore


class Crash(Exception):
    """Stands in for the process dying at a chosen point."""


@pytest.fixture
def store(tmp_path: Path):
    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "main.py").write_text("print('seed')\n")
    with RunStore.create(tmp_path / "run", {}, seed) as opened:
        yield opened


def kinds(store: RunStore) -> list[tuple[str, str]]:
    return [(problem.kind, problem.subject) for problem in check(store)]


def run_eval_job(store: RunStore, key: str, agent: str = "g0c0") -> None:
    store.add_job(key, "eval_task", agent_id=agent, generation=0, artifact=f"tasks/{key}")
    store.start_job(key)
    (store.staging_dir(key) / "log.txt").write_text("log")


def test_crash_after_publish_before_done_row(store: RunStore, monkeypatch: pytest.MonkeyPatch) -> None:
    run_eval_job(store, "t1")
    original = Artifacts.publish

    def publish_then_die(self, agent_id, artifact):
        original(self, agent_id, artifact)
        raise Crash

    monkeypatch.setattr(Artifacts, "publish", publish_then_die)
    with pytest.raises(Crash), store.transaction():
        store.add_evaluation(Evaluation("g0c0", "t1", 0, "resolved", artifact_dir="agents/g0c0/tasks/t1"))
        store.finish_job("t1", {"status": "resolved"})
    monkeypatch.undo()
    # Nothing claims the work finished: no evaluation row, the job is still running.
    assert store.evaluations() == []
    assert store.job("t1").state == "running"
    assert kinds(store) == [("dangling_job", "t1")]

    assert store.reset_interrupted_jobs() == ["t1"]
    assert store.job("t1").state == "pending"
    assert not (store.run_dir / "agents/g0c0/tasks/t1").exists()  # unconfirmed output removed
    assert not (store.run_dir / "agents/g0c0/.partial").exists()
    assert check(store) == []
    # And the job runs again normally.
    store.start_job("t1")
    (store.staging_dir("t1") / "log.txt").write_text("second")
    store.finish_job("t1")
    assert (store.run_dir / "agents/g0c0/tasks/t1/log.txt").read_text() == "second"
    assert store.job("t1").attempts == 2
    assert check(store) == []


def test_crash_while_job_runs_leaves_partial_only(store: RunStore) -> None:
    run_eval_job(store, "t2")
    assert (store.run_dir / "agents/g0c0/.partial/tasks%2Ft2/log.txt").exists()
    store.write_artifact("g0c0", "diagnosis.json", "{}")
    # A half-written single file (the process died before its rename).
    (store.run_dir / "agents/g0c0/.dgm-tmp-other.json.abc").write_text("{")
    assert sorted(kinds(store)) == [
        ("dangling_job", "t2"),
        ("partial_artifact", "agents/g0c0/.dgm-tmp-other.json.abc"),
        ("partial_artifact", "agents/g0c0/.partial"),
    ]
    store.reset_interrupted_jobs()
    assert check(store) == []
    assert (store.run_dir / "agents/g0c0/diagnosis.json").read_text() == "{}"


def test_crash_between_commit_and_agent_row(store: RunStore) -> None:
    store.add_job("g1c0/self_improve", "self_improve", agent_id="g1c0", generation=1)
    store.start_job("g1c0/self_improve")
    store.commit_agent("g1c0", "g0c0", diff=b"")
    # ... the process dies here, before the row naming the commit is inserted.
    assert [a.id for a in store.list_agents()] == ["g0c0"]
    assert sorted(kinds(store)) == [("dangling_job", "g1c0/self_improve"), ("orphan_ref", "g1c0")]
    store.reset_interrupted_jobs()
    assert "g1c0" not in store.git.refs()
    assert check(store) == []
    # The retry commits again and the row goes in atomically with the job's completion.
    store.start_job("g1c0/self_improve")
    sha = store.commit_agent("g1c0", "g0c0", diff=b"")
    with store.transaction():
        store.add_agent("g1c0", "g0c0", sha)
        store.finish_job("g1c0/self_improve", {"agent": "g1c0"})
    assert check(store) == []


def test_failed_transaction_inserts_no_agent(store: RunStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.add_job("g1c0/self_improve", "self_improve", agent_id="g1c0", generation=1, artifact="self_improve")
    store.start_job("g1c0/self_improve")
    sha = store.commit_agent("g1c0", "g0c0", diff=b"")

    def die(self, agent_id, artifact):
        raise Crash

    monkeypatch.setattr(Artifacts, "publish", die)
    with pytest.raises(Crash), store.transaction():
        store.add_agent("g1c0", "g0c0", sha)
        store.finish_job("g1c0/self_improve")
    assert store.find_agent("g1c0") is None  # rolled back with the job


def test_nested_failure_is_undone_alone(store: RunStore) -> None:
    with store.transaction():
        store.add_event("kept")
        with pytest.raises(Crash), store.transaction():
            store.add_event("undone")
            raise Crash
    assert [e.kind for e in store.events()] == ["kept"]


def test_interrupted_create_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "a.py").write_text("a")

    def die(*args, **kwargs):
        raise Crash

    monkeypatch.setattr(GitStore, "set_ref", die)
    with pytest.raises(Crash):
        RunStore.create(tmp_path / "archive" / "run", {}, seed)
    assert list((tmp_path / "archive").iterdir()) == []


def test_lock_marks_run_live(store: RunStore) -> None:
    run_eval_job(store, "t3")
    assert not is_live(store.run_dir)
    with RunLock(store.run_dir):
        assert is_live(store.run_dir)
        assert check(store) == []  # running jobs of a live run are not dangling
        with pytest.raises(RunLockedError, match="is live"):
            RunLock(store.run_dir).acquire()
    assert not is_live(store.run_dir)
    assert kinds(store) == [("dangling_job", "t3"), ("partial_artifact", "agents/g0c0/.partial")]


def test_lock_of_a_dead_process_is_free(store: RunStore) -> None:
    code = (
        "import sys; from pathlib import Path; from dgm.archive.lock import RunLock; "
        "RunLock(Path(sys.argv[1])).acquire(); print('locked')"
    )
    out = subprocess.run([sys_executable(), "-c", code, str(store.run_dir)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "locked"
    assert holder_pid(store.run_dir) is not None  # the stale file stays, but...
    assert not is_live(store.run_dir)  # ...the flock died with its process
    with RunLock(store.run_dir):
        assert is_live(store.run_dir)


def sys_executable() -> str:
    import sys

    return sys.executable


def test_check_catches_bogus_commit_and_missing_parent(store: RunStore) -> None:
    sha = store.commit_agent("g1c0", "g0c0", diff=b"")
    store.add_agent("g1c0", "g0c0", sha)
    store.close()
    conn = sqlite3.connect(store.run_dir / "run.db")
    conn.execute("UPDATE agents SET commit_sha = ? WHERE id = 'g1c0'", ("f" * 40,))
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute(
        "INSERT INTO agents (id, parent_id, generation, slot, commit_sha, origin, created_at) "
        "VALUES ('g2c0', 'g1c9', 2, 0, ?, 'self_improve', 0)", (sha,)
    )
    conn.commit()
    conn.close()
    problems = check_run(store.run_dir)
    assert [(p.kind, p.subject) for p in problems] == [
        ("missing_commit", "g1c0"),
        ("bad_ref", "g2c0"),
        ("missing_parent", "g2c0"),
    ]
    assert "commit ffffffffffffffffffffffffffffffffffffffff is not in agents.git" in str(problems[0])


def test_check_catches_deleted_commit(store: RunStore) -> None:
    sha = store.commit_agent("g1c0", "g0c0", source=write_tree(store.run_dir.parent / "child"))
    store.add_agent("g1c0", "g0c0", sha)
    git_dir = store.run_dir / "agents.git"
    subprocess.run(["git", "--git-dir", str(git_dir), "update-ref", "-d", "refs/agents/g1c0"], check=True)
    subprocess.run(["git", "--git-dir", str(git_dir), "reflog", "expire", "--expire=now", "--all"], check=True)
    subprocess.run(["git", "--git-dir", str(git_dir), "gc", "--prune=now", "--quiet"], check=True)
    assert kinds(store) == [("missing_commit", "g1c0")]


def write_tree(path: Path) -> Path:
    path.mkdir()
    (path / "main.py").write_text("print('child')\n")
    return path


def test_check_catches_lineage_mismatch(store: RunStore) -> None:
    # g1c1's commit is a root commit instead of a child of g0c0's commit.
    orphan = store.git.commit_tree(write_tree(store.run_dir.parent / "x"), None, "rootless")
    store.git.set_ref("g1c1", orphan)
    store.add_agent("g1c1", "g0c0", orphan)
    assert kinds(store) == [("lineage_mismatch", "g1c1")]


def test_check_catches_missing_artifacts(store: RunStore) -> None:
    run_eval_job(store, "t4")
    with store.transaction():
        store.finish_job("t4")
        store.add_evaluation(Evaluation("g0c0", "t4", 0, "resolved", artifact_dir=store.artifact_relpath("t4")))
    assert check(store) == []
    shutil.rmtree(store.run_dir / "agents/g0c0/tasks/t4")
    assert kinds(store) == [("missing_artifact", "t4"), ("missing_artifact", "g0c0/t4")]


def test_check_catches_llm_calls_of_unknown_jobs(store: RunStore) -> None:
    store.add_job("known", "diagnose", agent_id="g1c0", generation=1)
    conn = sqlite3.connect(store.run_dir / "run.db")
    conn.execute("CREATE TABLE llm_calls (job_key TEXT NOT NULL, seq INTEGER NOT NULL)")
    conn.executemany("INSERT INTO llm_calls VALUES (?, ?)", [("known", 0), ("ghost", 0), ("ghost", 1)])
    conn.commit()
    conn.close()
    problems = check(store)
    assert [(p.kind, p.subject) for p in problems] == [("unknown_job", "ghost")]
    assert "2 llm_calls rows" in problems[0].message
