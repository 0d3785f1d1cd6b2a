"""The Darwin loop end to end, in real sandboxes, with the scripted demo model.

The shared `scripted_run` (conftest) is the reference: 2 generations x 2 children on the
quickstart's six tasks. The seed lacks the `apply_patch` tool the scripted solver calls, every
child adds it, so the seed scores 0/3 and each child 6/6. The two first-generation siblings make
the identical change, so the second is recorded as a duplicate of the first and never evaluated.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import DEMO_SCRIPT, QUICKSTART
from dgm.archive.check import check_run
from dgm.archive.store import RunStore
from dgm.loop.compare import compare_runs

pytestmark = pytest.mark.docker
DGM = [sys.executable, "-m", "dgm.cli"]
SCRIPTED = ["--set", "llm.model=scripted", "--set", f"llm.script={DEMO_SCRIPT}"]


def run_id(run_dir: Path) -> str:
    conn = sqlite3.connect(f"file:{run_dir / 'run.db'}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute("SELECT value FROM meta WHERE key = 'run_id'").fetchone()[0]
    finally:
        conn.close()


def containers_of(run_dir: Path) -> list[str]:
    out = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=dgm.run={run_id(run_dir)}"],
                         capture_output=True, text=True, check=True).stdout
    return out.split()


def test_scripted_run_builds_the_expected_tree(scripted_run: Path) -> None:
    with RunStore.open(scripted_run, readonly=True) as store:
        agents = {a.id: a for a in store.list_agents()}
        assert sorted(agents) == ["g0c0", "g1c0", "g1c1", "g2c0", "g2c1"]
        assert [str(s) for s in agents["g0c0"].stages] == ["0/3"]  # stage 2 needs >= 0.4
        assert agents["g1c0"].status == "evaluated" and agents["g1c0"].admitted
        assert [str(s) for s in agents["g1c0"].stages] == ["3/3", "3/3"]
        # no evaluation paid twice: g1c1's tree equals g1c0's
        g1c1 = agents["g1c1"]
        assert (g1c1.status, g1c1.duplicate_of, g1c1.admitted, g1c1.stages) == ("duplicate", "g1c0", False, ())
        assert store.evaluations("g1c1") == [] and not store.jobs(agent_id="g1c1", kind="evaluate")
        assert store.events(kind="agent_duplicate")[0].payload == {"agent": "g1c1", "duplicate_of": "g1c0"}
        for child in ("g2c0", "g2c1"):
            assert agents[child].status in ("evaluated", "duplicate")
            if agents[child].status == "duplicate":
                assert agents[agents[child].duplicate_of].status == "evaluated"
        assert agents["g1c0"].parent_id == agents["g1c1"].parent_id == "g0c0"
        assert {agents["g2c0"].parent_id, agents["g2c1"].parent_id} <= {"g0c0", "g1c0"}  # a duplicate is no parent
        diff = store.diff("g0c0", "g1c0")
        assert '+        if name == "apply_patch":' in diff and '"name": "apply_patch"' in diff
        planned = [e.payload["parents"] for e in store.events(kind="generation_planned")]
        assert planned[0] == ["g0c0", "g0c0"]
        jobs = store.jobs()
        assert jobs and all(job.state == "done" for job in jobs)
        calls = store.select("SELECT COUNT(*), SUM(input_tokens + output_tokens) FROM llm_calls")[0]
        assert calls[0] > 0 and calls[1] > 0  # every call metered and recorded
    assert check_run(scripted_run) == []
    assert containers_of(scripted_run) == []


def test_improvement_is_caused_by_the_code_change(scripted_run: Path, tmp_path: Path) -> None:
    """The same script, the same tasks: the seed's code fails them, the child's code solves them."""
    from conftest import scripted_config
    from dgm.benchmarks import load_suite, select
    from dgm.evaluation.runner import EvalContext, evaluate_tasks
    from dgm.llm.gateway import Gateway
    from dgm.llm.service import LLMService

    config = scripted_config()
    tasks = select(load_suite(config.evaluation.benchmark), ["csv-quoted-fields", "paginate-off-by-one"])
    scores = {}
    with RunStore.open(scripted_run, readonly=True) as store:
        for agent in ("g0c0", "g1c0"):
            store.checkout(agent, tmp_path / agent)
    with LLMService(config, tmp_path / "calls.db") as llm, Gateway(llm) as gateway:
        for agent in ("g0c0", "g1c0"):
            ctx = EvalContext(config=config, gateway=gateway, run=f"causal-{tmp_path.name}", agent=agent,
                              out_dir=tmp_path / f"logs-{agent}")
            results = evaluate_tasks(tmp_path / agent, tasks, ctx)
            scores[agent] = sum(r.status == "resolved" for r in results)
    assert scores == {"g0c0": 0, "g1c0": 2}


def _done_jobs(run_dir: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{run_dir / 'run.db'}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute("SELECT COUNT(*) FROM jobs WHERE state = 'done'").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def _kill_when(proc: subprocess.Popen, run_dir: Path, done_jobs: int, limit: float = 240) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and proc.poll() is None and _done_jobs(run_dir) < done_jobs:
        time.sleep(0.05)
    assert proc.poll() is None, f"the run ended before {done_jobs} jobs were done"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


def test_killed_and_stopped_run_resumes_to_the_same_archive(scripted_run: Path, tmp_path: Path) -> None:
    """SIGKILL at a seeded point, resume, `dgm stop` at a later seeded point (still in generation 1,
    which ends after 3 + 8 + 2 = 13 jobs: the duplicate g1c1 has no evaluation jobs), resume again:
    the archive equals the uninterrupted run's."""
    run_dir = tmp_path / "crashy"
    rng = random.Random(20261126)
    kill_at = rng.randrange(3, 12)
    stop_at = rng.randrange(kill_at + 1, 13)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    start = subprocess.Popen([*DGM, "run", str(QUICKSTART), "--out", str(run_dir), *SCRIPTED],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _kill_when(start, run_dir, kill_at)
    again = subprocess.Popen([*DGM, "resume", str(run_dir)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             env=env, text=True)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and again.poll() is None and _done_jobs(run_dir) < stop_at:
        time.sleep(0.05)
    stop = subprocess.run([*DGM, "stop", str(run_dir)], capture_output=True, text=True, timeout=60)
    assert stop.returncode == 0, stop.stderr
    out, _ = again.communicate(timeout=600)
    assert again.returncode == 0 and "run ended (stopped) after 1 generation(s)" in out
    final = subprocess.run([*DGM, "resume", str(run_dir)], capture_output=True, text=True, env=env, timeout=600)
    assert final.returncode == 0, final.stderr[-2000:]
    assert compare_runs(scripted_run, run_dir) == []
    assert check_run(run_dir) == []
    assert containers_of(run_dir) == []
    with RunStore.open(run_dir, readonly=True) as store:
        assert len(store.events(kind="resumed")) == 2
        assert [e.payload["reason"] for e in store.events(kind="run_finished")] == ["stopped", "generations"]


def test_replay_verify_passes_offline(scripted_run: Path, tmp_path: Path) -> None:
    proc = subprocess.run([*DGM, "replay", str(scripted_run), "--out", str(tmp_path / "replay"), "--verify"],
                          capture_output=True, text=True, timeout=600,
                          env={k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "replay verified" in proc.stdout
    import json

    # The replay keeps the source's seed agent and says where that came from.
    seed = json.loads((tmp_path / "replay" / "provenance.json").read_text())["seed_agent"]
    source_seed = json.loads((scripted_run / "provenance.json").read_text())["seed_agent"]
    assert seed == {**source_seed, "replay_of": str(scripted_run.resolve())} and source_seed["bundled"]


def test_tampered_recording_is_reported_as_divergence(scripted_run: Path, tmp_path: Path) -> None:
    source = tmp_path / "tampered"
    shutil.copytree(scripted_run, source)
    conn = sqlite3.connect(source / "run.db")
    with conn:
        changed = conn.execute("UPDATE llm_calls SET request_hash = 'f00d' WHERE job_key LIKE 'g1c1/diagnose#%'").rowcount
    conn.close()
    assert changed >= 1
    proc = subprocess.run([*DGM, "replay", str(source), "--out", str(tmp_path / "replay"), "--verify"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1
    assert "divergence" in proc.stderr and "g1c1/diagnose#1" in proc.stderr
    assert "replay verification FAILED" in proc.stderr


def snapshot(run_dir: Path) -> dict[str, object]:
    """Every file's bytes, and the database's logical content (SQLite may fold its WAL file into
    run.db when a connection closes: a different file layout, the same data)."""
    files = {p.relative_to(run_dir).as_posix(): p.read_bytes() for p in run_dir.rglob("*")
             if p.is_file() and not p.name.startswith("run.db")}
    conn = sqlite3.connect(f"file:{run_dir / 'run.db'}?mode=ro", uri=True)
    try:
        files["run.db (dump)"] = list(conn.iterdump())
    finally:
        conn.close()
    return files


def test_bad_input_is_refused_without_changes(scripted_run: Path, tmp_path: Path) -> None:
    copy = tmp_path / "finished"
    shutil.copytree(scripted_run, copy)
    before = snapshot(copy)

    def dgm(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*DGM, *args], capture_output=True, text=True, timeout=120)

    into_existing = dgm("run", str(QUICKSTART), "--out", str(copy), *SCRIPTED)
    assert into_existing.returncode != 0 and "dgm resume" in into_existing.stderr
    finished = dgm("resume", str(copy))
    assert finished.returncode != 0 and "already finished" in finished.stderr
    changed = dgm("resume", str(copy), "--set", "run.seed=9")
    assert changed.returncode != 0 and "resume cannot change run.seed" in changed.stderr
    not_a_run = dgm("resume", str(tmp_path))
    assert not_a_run.returncode != 0 and "is not a dgm run" in not_a_run.stderr
    for proc in (into_existing, finished, changed, not_a_run):
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert snapshot(copy) == before


def test_sigterm_leaves_no_container_behind(tmp_path: Path) -> None:
    run_dir = tmp_path / "terminated"
    proc = subprocess.Popen([*DGM, "run", str(QUICKSTART), "--out", str(run_dir), *SCRIPTED],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not ((run_dir / "run.db").exists() and containers_of(run_dir)):
        time.sleep(0.05)
    assert containers_of(run_dir), "the run never started a sandbox"
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    assert proc.returncode != 0
    assert containers_of(run_dir) == []
