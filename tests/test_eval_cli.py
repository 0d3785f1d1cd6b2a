"""`dgm eval` on the host side: which agent, which tasks, which stages (no sandboxes needed)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from dgm.agent_source import agent_source
from dgm.commands.eval import _stages
from dgm.config import load
from dgm.errors import DgmError

REPO = Path(__file__).resolve().parents[1]
SEED_AGENT = REPO / "agents" / "seed_agent"
TASKS = Path(__file__).parent / "fixtures" / "tasks"


def test_agent_is_a_directory_or_an_agent_of_a_run(tmp_path: Path):
    from dgm.archive.store import RunStore

    with agent_source(str(SEED_AGENT)) as (path, name):
        assert path == SEED_AGENT and name == "seed_agent"
    run_dir = tmp_path / "run"
    RunStore.create(run_dir, load(None).to_dict(), SEED_AGENT).close()
    with agent_source(f"{run_dir}:g0c0") as (path, name):
        assert name == "g0c0"
        assert (path / "main.py").read_bytes() == (SEED_AGENT / "main.py").read_bytes()
        checked_out = path
    assert not checked_out.exists()                      # the temporary checkout is removed
    with pytest.raises(DgmError, match="expected an agent directory or RUN_DIR:AGENT_ID"):
        with agent_source(str(tmp_path / "nowhere")):
            pass
    with pytest.raises(DgmError, match="unknown agent 'g9c9'"):
        with agent_source(f"{run_dir}:g9c9"):
            pass


def _args(**kw) -> argparse.Namespace:
    return argparse.Namespace(**{"tasks": None, "task_ids": None, **kw})


def test_task_flags_make_one_stage_and_otherwise_the_configured_stages_run():
    config = load(None, [f"evaluation.benchmark.path={TASKS}"])
    tasks, stages = _stages(config, _args(task_ids="greet, calc"))
    assert [t.id for t in tasks] == ["greet", "calc"] and [s.size for s in stages] == [2]
    tasks, stages = _stages(config, _args(tasks=1))
    assert len(tasks) == 1 and [s.size for s in stages] == [1]
    tasks, stages = _stages(config, _args())
    assert len(tasks) == 2 and [s.size for s in stages] == [10, 50, 140]
    restricted = load(None, [f"evaluation.benchmark.path={TASKS}", "evaluation.benchmark.task_ids=[calc]"])
    assert [t.id for t in _stages(restricted, _args())[0]] == ["calc"]
    with pytest.raises(DgmError, match="unknown task id 'nope'"):
        _stages(config, _args(task_ids="nope"))
