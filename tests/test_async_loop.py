"""`loop.schedule: async` end to end, in real sandboxes, with the scripted demo model.

The quickstart's six tasks and the demo script: the seed lacks the tool the scripted solver
calls and scores 0, the first child adds it and scores 1; its siblings make the identical change
and are duplicates, never evaluated. There are no generations: the HGM scheduler picks each unit
(expand a node, or evaluate one more task of one).
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import DEMO_SCRIPT, QUICKSTART, scripted_config
from dgm.archive.check import check_run
from dgm.archive.store import RunStore
from dgm.loop.compare import compare_runs

pytestmark = pytest.mark.docker
DGM = [sys.executable, "-m", "dgm.cli"]
ASYNC = ["loop.schedule=async", "meta.enabled=false", "loop.units=14"]
ASYNC_FLAGS = ["--set", "llm.model=scripted", "--set", f"llm.script={DEMO_SCRIPT}",
               *[arg for item in ASYNC for arg in ("--set", item)]]


@pytest.fixture(scope="module")
def async_run(tmp_path_factory: pytest.TempPathFactory, docker_ready: None) -> Path:
    from dgm.loop import session

    run_dir = tmp_path_factory.mktemp("async") / "run"
    outcome = session.start(scripted_config(*ASYNC), run_dir)
    assert (outcome.reason, outcome.units_done) == ("units", 14)
    return run_dir


def test_async_run_interleaves_expansion_and_evaluation(async_run: Path) -> None:
    with RunStore.open(async_run, readonly=True) as store:
        units = [e.payload for e in store.events(kind="unit_planned")]
        assert [u["seq"] for u in units] == list(range(14))
        kinds = [u["unit"]["kind"] for u in units]
        assert kinds[0] == "evaluate" and "expand" in kinds
        first_child = kinds.index("expand")
        assert "evaluate" in kinds[first_child + 1:]                   # no barrier after an expansion
        assert not store.events(kind="generation_planned")              # no generations
        agents = {a.id: a for a in store.list_agents()}
        child = agents["g1c0"]
        assert child.status == "evaluated" and child.admitted and child.score == 1.0
        assert agents["g0c0"].score == 0.0
        duplicates = [a for a in agents.values() if a.status == "duplicate"]
        assert duplicates and all(a.duplicate_of == "g1c0" and not a.admitted for a in duplicates)
        assert all(not store.jobs(agent_id=a.id, kind="evaluate") for a in duplicates)
        # every evaluate unit is exactly one evaluation job, done, of the agent it names
        evaluated = sorted((u["unit"]["node"], u["unit"]["target"]) for u in units if u["unit"]["kind"] == "evaluate")
        assert evaluated == sorted((e.agent_id, e.task_id) for e in store.evaluations())
        assert all(job.state == "done" for job in store.jobs())
        # the scores an agent shows are the outcomes recorded for it
        for agent in agents.values():
            outcomes = [e.status for e in store.evaluations(agent.id)]
            if outcomes:
                assert sum(s.resolved for s in agent.stages) == outcomes.count("resolved")
                assert sum(s.total for s in agent.stages) == len(outcomes)
    assert check_run(async_run) == []
    ls = subprocess.run([*DGM, "archive", "ls", str(async_run), "--json"], capture_output=True, text=True, timeout=60)
    assert ls.returncode == 0 and '"duplicate_of": "g1c0"' in ls.stdout


def test_async_replay_is_identical(async_run: Path, tmp_path: Path) -> None:
    proc = subprocess.run([*DGM, "replay", str(async_run), "--out", str(tmp_path / "replay"), "--verify"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "replay verified" in proc.stdout and "after 14 unit(s) of work" in proc.stdout
    with RunStore.open(async_run, readonly=True) as a, RunStore.open(tmp_path / "replay", readonly=True) as b:
        assert [e.payload for e in a.events(kind="unit_planned")] == [e.payload for e in b.events(kind="unit_planned")]


def test_finished_async_run_is_extended_by_units(async_run: Path, tmp_path: Path) -> None:
    import shutil

    run_dir = tmp_path / "copy"
    shutil.copytree(async_run, run_dir)
    again = subprocess.run([*DGM, "resume", str(run_dir)], capture_output=True, text=True, timeout=60)
    assert again.returncode == 1 and "already finished (14 units of work" in again.stderr
    assert "--set loop.units=N" in again.stderr
    more = subprocess.run([*DGM, "resume", str(run_dir), "--set", "loop.units=16"], capture_output=True, text=True,
                          timeout=600)
    assert more.returncode == 0, more.stderr[-2000:]
    with RunStore.open(run_dir, readonly=True) as store:
        assert len(store.events(kind="unit_planned")) == 16
    assert check_run(run_dir) == []


def _done_jobs(run_dir: Path) -> dict[str, tuple[int, str]]:
    try:
        conn = sqlite3.connect(f"file:{run_dir / 'run.db'}?mode=ro", uri=True, timeout=5)
        try:
            return {key: (attempts, result) for key, attempts, result in
                    conn.execute("SELECT key, attempts, result FROM jobs WHERE state = 'done'")}
        finally:
            conn.close()
    except sqlite3.Error:
        return {}


def test_killed_async_run_resumes_to_the_uninterrupted_archive(tmp_path: Path, docker_ready: None) -> None:
    """One worker: SIGKILL at a seeded point, resume; no finished job is run again, and the
    archive and the decisions equal those of the same run left alone."""
    from dgm.loop import session

    one = ["loop.workers=1"]
    reference = tmp_path / "reference"
    session.start(scripted_config(*ASYNC, *one), reference)
    run_dir = tmp_path / "killed"
    kill_at = random.Random(20261203).randrange(3, 12)
    proc = subprocess.Popen([*DGM, "run", str(QUICKSTART), "--out", str(run_dir), *ASYNC_FLAGS, "--set", one[0]],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None and len(_done_jobs(run_dir)) < kill_at:
        time.sleep(0.05)
    assert proc.poll() is None, f"the run ended before {kill_at} jobs were done"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    before = _done_jobs(run_dir)
    resumed = subprocess.run([*DGM, "resume", str(run_dir)], capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    after = _done_jobs(run_dir)
    assert {key: after[key] for key in before} == before       # finished work kept, not redone
    assert compare_runs(reference, run_dir) == []
    assert check_run(run_dir) == []
    with RunStore.open(reference, readonly=True) as a, RunStore.open(run_dir, readonly=True) as b:
        assert [e.payload for e in a.events(kind="unit_planned")] == [e.payload for e in b.events(kind="unit_planned")]


def test_async_run_with_the_meta_loop_counts_trials_in_rounds(tmp_path: Path, docker_ready: None) -> None:
    """The quickstart's meta-loop (a meta step after every round, trials of one round) in an async
    run: each round's parents are chosen by the governing policy, the candidate governs the next
    round and is decided, and a replay rebuilds the same archive and the same policy history."""
    from dgm.loop import session

    run_dir = tmp_path / "meta"
    outcome = session.start(scripted_config("loop.schedule=async", "loop.units=16"), run_dir)
    assert outcome.reason == "units"
    with RunStore.open(run_dir, readonly=True) as store:
        planned = [e.payload for e in store.events(kind="generation_planned")]
        assert [p["generation"] for p in planned] == [1, 2] and planned[0]["policy_version"] == "p0"
        assert planned[1]["policy_version"] == "p1"                    # the candidate governs round 2
        policies = {p.id: p for p in store.list_policies()}
        assert policies["p1"].generation == 1 and policies["p1"].status in ("kept", "reverted", "incumbent")
        # every child's generation is its round, and a round's children are its planned parents'
        for agent in store.list_agents():
            if agent.parent_id is not None:
                assert agent.parent_id == planned[agent.generation - 1]["parents"][agent.slot]
        history = [(e.kind, e.payload) for e in store.events() if e.kind.startswith(("policy", "generation"))]
    assert check_run(run_dir) == []
    replay = tmp_path / "replay"
    proc = subprocess.run([*DGM, "replay", str(run_dir), "--out", str(replay), "--verify"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    with RunStore.open(replay, readonly=True) as store:
        assert [(e.kind, e.payload) for e in store.events() if e.kind.startswith(("policy", "generation"))] == history


def test_async_budget_stop_keeps_the_cut_unit_for_the_resume(tmp_path: Path, docker_ready: None) -> None:
    """A token cap stops the run mid-unit: the unit is recorded but not finished, the run ends
    with reason budget, and a resume with a higher cap redoes it and goes on to the limit."""
    from dgm.loop import session

    run_dir = tmp_path / "capped"
    outcome = session.start(scripted_config(*ASYNC[:2], "loop.units=10", "budget.max_tokens=20000"), run_dir)
    assert outcome.reason == "budget" and outcome.units_done < 10
    with RunStore.open(run_dir, readonly=True) as store:
        planned = len(store.events(kind="unit_planned"))
        assert planned > outcome.units_done and any(job.state == "failed" for job in store.jobs())
    assert check_run(run_dir) == []
    more = subprocess.run([*DGM, "resume", str(run_dir), "--set", "budget.max_tokens=10000000"],
                          capture_output=True, text=True, timeout=600)
    assert more.returncode == 0 and "after 10 unit(s) of work" in more.stdout, more.stderr[-2000:]
    with RunStore.open(run_dir, readonly=True) as store:
        assert all(job.state == "done" for job in store.jobs())
    assert check_run(run_dir) == []
