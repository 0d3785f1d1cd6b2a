"""`dgm run --seed-agent DIR|RUN_DIR:ID` (config run.seed_agent): the archive starts from that agent."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dgm.cli import main
from tests.conftest import DEMO_SCRIPT, QUICKSTART, REPO

SEED = REPO / "agents" / "seed_agent"


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


def _own_agent(where: Path) -> Path:
    """The seed agent with a visible change of its own (a new prompt line and an extra file)."""
    shutil.copytree(SEED, where, ignore=shutil.ignore_patterns("__pycache__"))
    (where / "prompts" / "system.md").write_text((SEED / "prompts" / "system.md").read_text() + "\nBe brief.\n")
    (where / "NOTES.txt").write_text("my agent\n")
    return where


def _run(seed_spec: str, run_dir: Path) -> int:
    # One task, one stage, no generation: the seed is stored and evaluated in a real sandbox.
    return main(["run", str(QUICKSTART), "--out", str(run_dir), "--seed-agent", seed_spec, "--quiet",
                 "--set", "llm.model=scripted", "--set", f"llm.script={DEMO_SCRIPT}",
                 "--set", "loop.generations=0", "--set", "meta.enabled=false",
                 "--set", "evaluation.benchmark.task_ids=[interval-merge]", "--set", "evaluation.stages=[{size: 1}]"])


def test_seed_agent_from_a_directory_and_from_an_agent_of_a_run(tmp_path: Path, docker_ready: None, capsys) -> None:
    from dgm.archive.store import RunStore

    own = _own_agent(tmp_path / "my-agent")
    first = tmp_path / "first"
    assert _run(str(own), first) == 0
    with RunStore.open(first, readonly=True) as store:
        store.checkout("g0c0", tmp_path / "out1")
        assert store.agent("g0c0").stages  # the run went on to evaluate it
        assert store.config()["run"]["seed_agent"] == str(own.resolve())
        # An evolved agent of that run: a child with one more file.
        child = tmp_path / "child-src"
        shutil.copytree(own, child)
        (child / "tools_extra.py").write_text("EXTRA = 1\n")
        with RunStore.open(first) as writable:
            writable.add_agent("g1c0", "g0c0", writable.commit_agent("g1c0", "g0c0", source=child))
    assert _files(tmp_path / "out1") == _files(own)
    seed = json.loads((first / "provenance.json").read_text())["seed_agent"]
    assert seed["kind"] == "directory" and seed["path"] == str(own.resolve()) and not seed["bundled"]

    second = tmp_path / "second"
    assert _run(f"{first}:g1c0", second) == 0
    with RunStore.open(second, readonly=True) as store:
        store.checkout("g0c0", tmp_path / "out2")
        tree = store.git.tree(store.agent("g0c0").commit)
    assert _files(tmp_path / "out2") == _files(child)
    seed = json.loads((second / "provenance.json").read_text())["seed_agent"]
    assert seed == {"bundled": False, "kind": "run", "run_dir": str(first.resolve()), "agent_id": "g1c0", "tree": tree}
    capsys.readouterr()
    assert main(["archive", "show", str(second), "g0c0"]) == 0
    assert f"seed from  agent g1c0 of the run {first.resolve()} (tree {tree[:12]})" in capsys.readouterr().out


@pytest.mark.parametrize("make, expected", [
    (lambda d: None, "not a directory"),
    (lambda d: (d.mkdir(), (d / "README.md").write_text("no code")), "has no main.py"),
    (lambda d: (d.mkdir(), (d / "main.py").write_text("def broken(:\n")), "do not compile"),
])
def test_a_seed_agent_that_breaks_the_contract_is_refused_before_anything_is_written(tmp_path, capsys, make, expected):
    bad = tmp_path / "bad"
    make(bad)
    run_dir = tmp_path / "run"
    assert _run(str(bad), run_dir) == 2
    err = capsys.readouterr().err
    assert expected in err and len(err.strip().splitlines()) == 1
    assert not run_dir.exists()


def test_resume_cannot_change_the_seed_agent(tmp_path: Path) -> None:
    from dgm.config import load
    from dgm.errors import DgmError
    from dgm.loop.session import _refuse_result_changes

    stored = load(None, [f"run.seed_agent={tmp_path}"]).to_dict()
    with pytest.raises(DgmError, match="resume cannot change run.seed_agent"):
        _refuse_result_changes(stored, load(None, ["run.seed_agent=elsewhere"]).to_dict())
