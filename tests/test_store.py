"""Run store: create/open, agents in agents.git, rows in run.db, jobs and artifacts."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
import yaml

from dgm.archive.errors import (
    DamagedRunError,
    JobStateError,
    NotARunError,
    ReadOnlyStoreError,
    RunExistsError,
    UnknownAgentError,
)
from dgm.archive.ids import agent_id, parse_agent_id
from dgm.archive.records import Evaluation, StageScore
from dgm.archive.store import RunStore
from dgm.errors import DgmError

REPO = Path(__file__).resolve().parents[1]
BINARY = bytes(range(256)) * 4


def make_seed(path: Path) -> Path:
    (path / "tools").mkdir(parents=True)
    (path / "main.py").write_text("print('seed')\n")
    (path / "tools" / "bash.py").write_text("def run(cmd):\n    return cmd\n")
    (path / "logo.bin").write_bytes(BINARY)
    (path / "__pycache__").mkdir()
    (path / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"\x00cache")
    (path / "tools" / "__pycache__").mkdir()
    (path / "tools" / "__pycache__" / "bash.cpython-311.pyc").write_bytes(b"\x00cache")
    (path / ".pytest_cache").mkdir()
    (path / ".pytest_cache" / "README.md").write_text("cache")
    # An agent's own ignore rules must not hide its files from the archive.
    (path / ".gitignore").write_text("*.bin\ntools/\n")
    return path


def is_cache(name: str) -> bool:
    return "__pycache__" in name or ".pytest_cache" in name


@pytest.fixture
def store(tmp_path: Path):
    with RunStore.create(tmp_path / "run", {"run": {"seed": 7}}, make_seed(tmp_path / "seed")) as opened:
        yield opened


def add_child(store: RunStore, child: str, parent: str, source: Path) -> str:
    sha = store.commit_agent(child, parent, source=source)
    store.add_agent(child, parent, sha)
    return sha


def edited_copy(store: RunStore, agent: str, dest: Path) -> Path:
    """Check out `agent`, then: modify main.py, delete tools/bash.py, change the binary, add a file."""
    store.checkout(agent, dest)
    (dest / "main.py").write_text("print('child')\n")
    (dest / "tools" / "bash.py").unlink()
    (dest / "logo.bin").write_bytes(BINARY[::-1] + b"\xff\x00")
    (dest / "notes.md").write_text("new\n")
    return dest


def tree(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def test_ids_are_a_function_of_generation_and_slot() -> None:
    assert agent_id(0, 0) == "g0c0"
    assert agent_id(3, 1) == "g3c1"
    assert parse_agent_id("g12c4") == (12, 4)
    for bad in ("g01c1", "x3c1", "g3c", "g-1c0"):
        with pytest.raises(DgmError, match="expected g<generation>c<slot>"):
            parse_agent_id(bad)


def test_create_writes_config_seed_commit_and_row(store: RunStore, tmp_path: Path) -> None:
    run = store.run_dir
    assert {"agents", "agents.git", "config.yaml", "run.db"} <= {p.name for p in run.iterdir()}
    assert yaml.safe_load((run / "config.yaml").read_text()) == {"run": {"seed": 7}}
    assert store.config() == {"run": {"seed": 7}}
    seed = store.agent("g0c0")
    assert (seed.parent_id, seed.generation, seed.slot, seed.origin, seed.status, seed.admitted) == (
        None, 0, 0, "seed", "pending", True)
    assert store.git.refs() == {"g0c0": seed.commit}
    store.checkout("g0c0", tmp_path / "out")
    # The agent's own caches are not part of it.
    expected = {k: v for k, v in tree(tmp_path / "seed").items() if not is_cache(k)}
    assert tree(tmp_path / "out") == expected
    assert {"logo.bin", "tools/bash.py", ".gitignore"} <= set(expected)
    assert sqlite3.connect(run / "run.db").execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert not list(tmp_path.glob(".run.creating-*"))


def test_create_from_the_real_seed_agent(tmp_path: Path) -> None:
    with RunStore.create(tmp_path / "run", {}, REPO / "agents" / "seed_agent") as store:
        store.checkout("g0c0", tmp_path / "out")
    assert (tmp_path / "out" / "llm.py").read_bytes() == (REPO / "agents" / "seed_agent" / "llm.py").read_bytes()


def test_create_refuses_non_empty_dir_but_accepts_empty(tmp_path: Path) -> None:
    seed = make_seed(tmp_path / "seed")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(RunExistsError, match=r"already exists and is not empty; continue it with `dgm resume"):
        RunStore.create(tmp_path / "full", {}, seed)
    (tmp_path / "empty").mkdir()
    RunStore.create(tmp_path / "empty", {}, seed).close()
    with pytest.raises(RunExistsError):
        RunStore.create(tmp_path / "empty", {}, seed)
    with pytest.raises(DgmError, match="seed agent directory not found"):
        RunStore.create(tmp_path / "other", {}, tmp_path / "missing")
    assert not (tmp_path / "other").exists()


def test_open_reports_one_clear_line(tmp_path: Path, store: RunStore) -> None:
    with pytest.raises(NotARunError, match="no such run directory"):
        RunStore.open(tmp_path / "nope")
    (tmp_path / "plain").mkdir()
    with pytest.raises(NotARunError, match=r"is not a dgm run \(missing config.yaml, run.db, agents.git\)"):
        RunStore.open(tmp_path / "plain")
    store.close()
    run = store.run_dir
    (run / "run.db").write_bytes(b"this is not sqlite" * 100)
    for path in run.glob("run.db-*"):
        path.unlink()
    for readonly in (False, True):
        with pytest.raises(DamagedRunError, match="run.db is damaged"):
            RunStore.open(run, readonly=readonly)
    (run / "run.db").unlink()
    sqlite3.connect(run / "run.db").execute("CREATE TABLE agents (id TEXT)").connection.close()
    with pytest.raises(DamagedRunError, match="missing tables meta, evaluations, jobs, events"):
        RunStore.open(run)


def test_open_reports_damaged_git(tmp_path: Path, store: RunStore) -> None:
    store.close()
    import shutil

    shutil.rmtree(store.run_dir / "agents.git")
    (store.run_dir / "agents.git").mkdir()
    with pytest.raises(DamagedRunError, match="agents.git is damaged: expected a bare git repository"):
        RunStore.open(store.run_dir)


def test_child_lineage_diff_checkout_round_trip(store: RunStore, tmp_path: Path) -> None:
    child_src = edited_copy(store, "g0c0", tmp_path / "work1")
    sha1 = add_child(store, "g1c0", "g0c0", child_src)
    grandchild_src = tmp_path / "work2"
    store.checkout("g1c0", grandchild_src)
    (grandchild_src / "notes.md").write_text("newer\n")
    sha2 = add_child(store, "g2c0", "g1c0", grandchild_src)

    assert [a.id for a in store.lineage("g2c0")] == ["g0c0", "g1c0", "g2c0"]
    assert [a.id for a in store.lineage("g0c0")] == ["g0c0"]
    assert [a.id for a in store.children("g0c0")] == ["g1c0"]
    assert store.git.commit_parents([sha1, sha2]) == {sha1: (store.agent("g0c0").commit,), sha2: (sha1,)}

    text = store.diff("g0c0", "g1c0")
    assert "-print('seed')" in text and "+print('child')" in text
    assert "deleted file mode" in text and "tools/bash.py" in text
    assert "Binary files a/logo.bin and b/logo.bin differ" in text

    store.checkout("g1c0", tmp_path / "out1")
    assert tree(tmp_path / "out1") == tree(child_src)
    assert not (tmp_path / "out1" / "tools" / "bash.py").exists()
    with pytest.raises(FileExistsError):
        store.checkout("g1c0", tmp_path / "out1")

    # A binary diff applied to the parent rebuilds the child's tree exactly.
    patch = store.binary_diff("g0c0", "g1c0")
    sha3 = store.commit_agent("g1c1", "g0c0", diff=patch)
    store.add_agent("g1c1", "g0c0", sha3)
    store.checkout("g1c1", tmp_path / "out3")
    assert tree(tmp_path / "out3") == tree(child_src)
    assert store.diff("g1c0", "g1c1") == ""
    # An empty diff is a child identical to its parent.
    sha4 = store.commit_agent("g1c2", "g0c0", diff=b"")
    assert store.git.commit_parents([sha4])[sha4] == (store.agent("g0c0").commit,)


def test_commits_are_deterministic(tmp_path: Path) -> None:
    seed = make_seed(tmp_path / "seed")
    shas = []
    for name in ("a", "b"):
        with RunStore.create(tmp_path / name, {}, seed) as store:
            shas.append((store.agent("g0c0").commit, store.commit_agent("g1c0", "g0c0", diff=b"")))
    assert shas[0] == shas[1]


def test_add_agent_guards(store: RunStore, tmp_path: Path) -> None:
    with pytest.raises(DgmError, match="call commit_agent first"):
        store.add_agent("g1c0", "g0c0", "0" * 40)
    with pytest.raises(UnknownAgentError, match="unknown agent 'g9c9'"):
        store.commit_agent("g1c0", "g9c9", diff=b"")
    sha = store.commit_agent("g1c0", "g0c0", diff=b"")
    store.add_agent("g1c0", "g0c0", sha, flags={"note": 1})
    with pytest.raises(DgmError, match="already recorded"):
        store.commit_agent("g1c0", "g0c0", diff=b"")
    with pytest.raises(ValueError, match="exactly one"):
        store.commit_agent("g1c1", "g0c0")
    assert store.agent("g1c0").flags == {"note": 1}


def test_scores_status_admission_usage(store: RunStore) -> None:
    sha = store.commit_agent("g1c0", "g0c0", diff=b"")
    store.add_agent("g1c0", "g0c0", sha)
    child = store.agent("g1c0")
    assert (child.status, child.admitted, child.score, child.stages) == ("pending", False, None, ())
    store.set_scores("g1c0", [StageScore(4, 10), StageScore(26, 50)])
    store.set_admitted("g1c0", True)
    store.add_usage("g1c0", cost=0.25, tokens=1000)
    store.add_usage("g1c0", cost=0.5, tokens=10)
    store.update_flags("g1c0", empty_patch_ratio=0.1)
    store.update_flags("g1c0", context_length_errors=2)
    child = store.agent("g1c0")
    assert child.status == "evaluated" and child.admitted
    assert child.stages == (StageScore(4, 10), StageScore(26, 50))
    assert child.score == pytest.approx(30 / 60)  # pooled, not the mean of 0.4 and 0.52
    assert (child.cost, child.tokens) == (0.75, 1010)
    assert child.flags == {"empty_patch_ratio": 0.1, "context_length_errors": 2}
    store.mark_invalid("g1c0", "no non-empty patch")
    child = store.agent("g1c0")
    assert (child.status, child.invalid_reason, child.admitted) == ("invalid", "no non-empty patch", False)
    with pytest.raises(UnknownAgentError):
        store.set_admitted("g5c5", True)
    assert [a.id for a in store.list_agents(status="invalid")] == ["g1c0"]
    assert [a.id for a in store.list_agents(generation=0)] == ["g0c0"]


def test_summary_from_store(store: RunStore) -> None:
    store.set_scores("g0c0", [StageScore(1, 2)])
    for slot, admitted in ((0, True), (1, False)):
        child = agent_id(1, slot)
        store.add_agent(child, "g0c0", store.commit_agent(child, "g0c0", diff=b""))
        store.set_admitted(child, admitted)
    store.add_evaluation(Evaluation("g0c0", "t1", 0, "resolved"))
    store.add_evaluation(Evaluation("g0c0", "t2", 0, "agent_error"))
    store.add_evaluation(Evaluation("g0c0", "t3", 0, "infra_error"))
    summary = store.summary()
    seed = summary["g0c0"]
    assert seed.tasks == {"t1": True, "t2": False}
    assert (seed.children, seed.score, seed.stages) == (1, 0.5, (StageScore(1, 2),))
    assert [node.id for node in summary] == ["g0c0", "g1c0", "g1c1"]


def test_evaluations_replace_on_retry(store: RunStore) -> None:
    store.add_evaluation(Evaluation("g0c0", "t1", 0, "infra_error", duration=1.0))
    store.add_evaluation(Evaluation("g0c0", "t1", 0, "resolved", duration=2.0, tokens=5, cost=0.1))
    assert store.evaluations("g0c0") == [Evaluation("g0c0", "t1", 0, "resolved", 2.0, 5, 0.1, None)]
    with pytest.raises(ValueError, match="expected one of resolved"):
        store.add_evaluation(Evaluation("g0c0", "t2", 0, "passed"))


def test_job_state_machine_and_artifacts(store: RunStore) -> None:
    job = store.add_job("g0c0/eval/t1", "eval_task", agent_id="g0c0", generation=0, artifact="tasks/t1")
    assert (job.state, job.attempts) == ("pending", 0)
    assert store.add_job("g0c0/eval/t1", "eval_task", agent_id="g0c0", generation=0, artifact="tasks/t1") == job
    with pytest.raises(JobStateError, match="already exists as a different job"):
        store.add_job("g0c0/eval/t1", "other")
    with pytest.raises(JobStateError, match="is pending; cannot move it to done"):
        store.finish_job("g0c0/eval/t1")

    started = store.start_job("g0c0/eval/t1")
    assert (started.state, started.attempts) == ("running", 1)
    staging = store.staging_dir("g0c0/eval/t1")
    assert staging.is_dir() and ".partial" in staging.parts
    (staging / "log.txt").write_text("ran")
    final = store.run_dir / "agents" / "g0c0" / "tasks" / "t1"
    assert not final.exists()
    with store.transaction():
        store.finish_job("g0c0/eval/t1", {"status": "resolved"})
        store.add_evaluation(Evaluation("g0c0", "t1", 0, "resolved", artifact_dir=store.artifact_relpath("g0c0/eval/t1")))
    assert (final / "log.txt").read_text() == "ran"
    assert not staging.exists()
    done = store.job("g0c0/eval/t1")
    assert (done.state, done.result) == ("done", {"status": "resolved"})
    assert store.evaluations()[0].artifact_dir == "agents/g0c0/tasks/t1"
    with pytest.raises(JobStateError, match="is done; cannot move it to running"):
        store.start_job("g0c0/eval/t1")

    store.add_job("g0c0/eval/t2", "eval_task", agent_id="g0c0", generation=0, artifact="tasks/t2")
    store.start_job("g0c0/eval/t2")
    (store.staging_dir("g0c0/eval/t2") / "log.txt").write_text("boom")
    failed = store.fail_job("g0c0/eval/t2", "sandbox died")
    assert (failed.state, failed.result) == ("failed", {"error": "sandbox died"})
    assert (store.run_dir / "agents/g0c0/tasks/t2/log.txt").read_text() == "boom"
    store.retry_job("g0c0/eval/t2")
    store.start_job("g0c0/eval/t2")
    (store.staging_dir("g0c0/eval/t2") / "log2.txt").write_text("ok")
    store.finish_job("g0c0/eval/t2")
    assert sorted(p.name for p in (store.run_dir / "agents/g0c0/tasks/t2").iterdir()) == ["log2.txt"]
    assert store.job("g0c0/eval/t2").attempts == 2
    assert [j.key for j in store.jobs(state="done", generation=0)] == ["g0c0/eval/t1", "g0c0/eval/t2"]
    with pytest.raises(ValueError, match="bad artifact name"):
        store.add_job("x", "k", agent_id="g0c0", artifact="../escape")


def test_write_artifact_is_atomic_file(store: RunStore) -> None:
    path = store.write_artifact("g1c0", "diagnosis.json", '{"a": 1}')
    assert path == store.run_dir / "agents" / "g1c0" / "diagnosis.json"
    store.write_artifact("g1c0", "diagnosis.json", b'{"a": 2}')
    assert path.read_text() == '{"a": 2}'
    assert sorted(p.name for p in path.parent.iterdir()) == ["diagnosis.json"]


def test_events(store: RunStore) -> None:
    first = store.add_event("generation_started", {"generation": 1})
    store.add_event("parents_selected", {"parents": ["g0c0"]})
    assert [e.kind for e in store.events()] == ["generation_started", "parents_selected"]
    assert [e.payload for e in store.events(after=first)] == [{"parents": ["g0c0"]}]
    assert [e.seq for e in store.events(kind="generation_started")] == [first]


def test_readonly_store_reads_beside_a_writer_and_never_writes(store: RunStore) -> None:
    store.add_event("one")
    reader = RunStore.open(store.run_dir, readonly=True)
    assert [a.id for a in reader.list_agents()] == ["g0c0"]
    store.add_event("two")  # the writer keeps going while the reader is open
    assert [e.kind for e in reader.events()] == ["one", "two"]
    with pytest.raises(ReadOnlyStoreError, match="opened read-only"):
        reader.add_event("three")
    with pytest.raises(ReadOnlyStoreError):
        reader.commit_agent("g1c0", "g0c0", diff=b"")
    with pytest.raises(ReadOnlyStoreError):
        reader.write_artifact("g0c0", "x.json", "{}")
    with pytest.raises(ValueError, match="SELECT statements only"):
        reader.select("DELETE FROM events")
    reader.close()


def test_readonly_open_of_a_closed_run(store: RunStore) -> None:
    store.close()
    before = (store.run_dir / "run.db").read_bytes()
    names = {p.name for p in store.run_dir.iterdir()}
    with RunStore.open(store.run_dir, readonly=True) as reader:
        assert reader.agent("g0c0").origin == "seed"
    assert (store.run_dir / "run.db").read_bytes() == before
    # SQLite's WAL readers may create the (empty) -wal/-shm coordination files; nothing else.
    assert {p.name for p in store.run_dir.iterdir()} - names <= {"run.db-wal", "run.db-shm"}


def test_concurrent_writers_share_the_store(store: RunStore) -> None:
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for i in range(20):
                key = f"w{worker}/{i}"
                store.add_job(key, "k", agent_id="g0c0", artifact=key)
                store.start_job(key)
                (store.staging_dir(key) / "f").write_text(key)
                store.finish_job(key, {"i": i})
                store.add_event("tick", {"key": key})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(store.jobs(state="done")) == 160
    assert len(store.events(kind="tick")) == 160
    assert (store.run_dir / "agents/g0c0/w3/7/f").read_text() == "w3/7"
