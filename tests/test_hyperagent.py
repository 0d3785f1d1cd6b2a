"""Hyperagent mode (loop.improver: agent, docs/meta.md) end to end, in real sandboxes, with the
preset's scripted model: the seed's procedure makes a child that rewrites the procedure, and the
grandchild is made by the rewritten one, and what the procedure is shown (the leak guard)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dgm import config as configmod
from dgm.archive.store import RunStore

pytestmark = pytest.mark.docker
REPO = Path(__file__).resolve().parents[1]
PRESET = REPO / "configs" / "hyperagent.yaml"
SCRIPT = REPO / "configs" / "demo" / "hyperagent-script.yaml"
DGM = [sys.executable, "-m", "dgm.cli"]


def preset(*overrides: str):
    return configmod.load(PRESET, [f"llm.script={SCRIPT}", *overrides])


@pytest.fixture(scope="module")
def hyper_run(tmp_path_factory: pytest.TempPathFactory, docker_ready: None) -> Path:
    from dgm.loop import session

    run_dir = tmp_path_factory.mktemp("hyper") / "run"
    session.start(preset(), run_dir)
    return run_dir


def _requests(store: RunStore, job_prefix: str) -> str:
    rows = store.select("SELECT request FROM llm_calls WHERE job_key LIKE ?", (f"{job_prefix}%",))
    return "\n".join(str(row[0]) for row in rows)


def test_the_procedure_evolves_and_the_rewritten_one_is_used(hyper_run: Path) -> None:
    with RunStore.open(hyper_run, readonly=True) as store:
        agents = {a.id: a for a in store.list_agents()}
        assert sorted(agents) == ["g0c0", "g1c0", "g2c0"]
        seed, child, grandchild = agents["g0c0"], agents["g1c0"], agents["g2c0"]
        assert child.status == grandchild.status == "evaluated"
        assert seed.improver and seed.improved_by is None
        # the child was made by the seed's procedure and rewrote its own
        assert child.improved_by == seed.improver and child.improver != seed.improver
        assert "+# Improve yourself (improvement procedure v2)" in store.diff("g0c0", "g1c0")
        # the grandchild was made by the rewritten procedure (which it keeps)
        assert grandchild.parent_id == "g1c0" and grandchild.improved_by == child.improver
        assert grandchild.improver == child.improver
        # the recorded model calls: the grandchild's request came from the v2 template, the child's from v1
        assert "improvement procedure v2" in _requests(store, "g2c0/self_improve")
        assert "improvement procedure v1" not in _requests(store, "g2c0/self_improve")
        assert "improvement procedure v1" in _requests(store, "g1c0/self_improve")
        # no framework diagnosis in this mode
        assert not [job for job in store.jobs() if job.kind == "diagnose"]
        assert store.select("SELECT COUNT(*) FROM llm_calls WHERE job_key LIKE '%/diagnose#%'")[0][0] == 0
    listing = json.loads(subprocess.run([*DGM, "archive", "ls", str(hyper_run), "--json"], capture_output=True,
                                        text=True, check=True).stdout)
    assert {row["id"]: (row["improver"], row["improved_by"]) for row in listing} == {
        a.id: (a.improver, a.improved_by) for a in agents.values()}
    shown = subprocess.run([*DGM, "archive", "show", str(hyper_run), "g2c0"], capture_output=True, text=True,
                           check=True).stdout
    assert f"improver   {child.improver}  (improved by {child.improver})" in shown


def test_context_holds_no_hidden_tests_and_no_held_out_stage(hyper_run: Path) -> None:
    context = json.loads((hyper_run / "agents" / "g2c0" / "self_improve" / "context.json").read_text())
    with RunStore.open(hyper_run, readonly=True) as store:
        stage2 = {e.task_id for e in store.evaluations("g1c0") if e.stage >= 1}
    assert stage2 and all(r["stage"] == 0 for r in context["results"])
    text = json.dumps(context)
    assert not any(task in text for task in stage2)      # held-out stage: not even the task names
    for task_dir in (REPO / "dgm" / "benchmarks" / "mini").iterdir():
        for test_file in (task_dir / "tests").rglob("test_*.py") if (task_dir / "tests").is_dir() else []:
            assert test_file.name not in text



def test_replay_is_exact_in_agent_mode(hyper_run: Path, tmp_path: Path) -> None:
    """Every improvement context is rebuilt byte for byte, so each recorded call is matched."""
    import os

    proc = subprocess.run([*DGM, "replay", str(hyper_run), "--out", str(tmp_path / "replay"), "--verify"],
                          capture_output=True, text=True, timeout=900,
                          env={k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")})
    assert proc.returncode == 0, (proc.stdout[-1500:], proc.stderr[-1500:])
    assert "replay verified" in proc.stdout


HOSTILE_PROCEDURES = {
    "crashes": ("raise SystemExit(3)", "exit code 3"),
    "hangs": ("import time\ntime.sleep(3600)", "killed"),
    # hidden tests are never in its sandbox: the search finds nothing, so no change is made
    "reads hidden tests": ("import glob\nfound = [p for top in ('/work', '/tmp', '/opt', '/home')"
                           " for p in glob.glob(top + '/**/test_*.py', recursive=True) if '/opt/dgm/agent' not in p]"
                           "\nraise SystemExit(4 if found else 5)", "exit code 5"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_PROCEDURES))
def test_a_procedure_that_crashes_hangs_or_snoops_makes_an_invalid_child(name: str, tmp_path: Path,
                                                                          docker_ready: None) -> None:
    import shutil

    from dgm.loop import session

    body, reason = HOSTILE_PROCEDURES[name]
    seed = tmp_path / "seed"
    shutil.copytree(REPO / "agents" / "seed_agent", seed)
    (seed / "improve.py").write_text(
        '"""A hostile improvement procedure (--context is its input)."""\nimport argparse\n'
        "argparse.ArgumentParser(description='reads --context FILE').parse_known_args()\n" + body + "\n")
    run_dir = tmp_path / "run"
    session.start(preset("loop.generations=1", f"run.seed_agent={seed}", "loop.self_improve_seconds=10",
                         "evaluation.stages=[{size: 1}]"), run_dir)
    with RunStore.open(run_dir, readonly=True) as store:
        child = store.agent("g1c0")
    assert child.status == "invalid", child
    assert reason in (child.invalid_reason or ""), child.invalid_reason


def test_a_resumed_run_in_agent_mode_ends_as_an_uninterrupted_one(hyper_run: Path, tmp_path: Path) -> None:
    """One generation, then `dgm resume` to the preset's two: the grandchild's procedure sees the
    same context (built from the store, not from memory), so the archives are equal."""
    from dgm.loop import session
    from dgm.loop.compare import compare_runs

    run_dir = tmp_path / "run"
    session.start(preset("loop.generations=1"), run_dir)
    resumed = subprocess.run([*DGM, "resume", str(run_dir), "--set", "loop.generations=2"],
                             capture_output=True, text=True, timeout=900)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert compare_runs(hyper_run, run_dir) == []


def test_hyperagent_mode_in_an_async_run_replays_exactly(tmp_path: Path, docker_ready: None) -> None:
    """Two workers, no generation barrier: each procedure is shown only the agents and outcomes
    the scheduler knew when it planned the child, so a replay builds the same archive and every
    child's context holds only agents of earlier rounds."""
    from dgm.archive.check import check_run
    from dgm.loop import session

    run_dir = tmp_path / "async"
    outcome = session.start(preset("loop.schedule=async", "loop.units=14", "loop.workers=2"), run_dir)
    assert outcome.reason == "units"
    with RunStore.open(run_dir, readonly=True) as store:
        children = [a for a in store.list_agents() if a.parent_id is not None]
        assert children and all(a.improved_by for a in children if a.status != "invalid")
        for child in children:
            context = json.loads((run_dir / "agents" / child.id / "self_improve" / "context.json").read_text())
            assert all(node["generation"] < child.generation for node in context["archive"])
            assert child.parent_id in {node["id"] for node in context["archive"]}
    assert check_run(run_dir) == []
    proc = subprocess.run([*DGM, "replay", str(run_dir), "--out", str(tmp_path / "replay"), "--verify"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
