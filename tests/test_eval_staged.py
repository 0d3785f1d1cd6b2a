"""Staged evaluation: seed-fixed task subsets, admission rules, per-stage denominators.

The stage logic is exercised with the per-task pipeline replaced by a table of outcomes (the
pipeline itself runs for real in tests/test_eval_pipeline.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest

from dgm.config import StageConfig, load
from dgm.evaluation import runner, staged
from dgm.evaluation.pipeline import TaskResult


@dataclass(frozen=True)
class T:
    id: str


TASKS = [T(f"task-{i:03d}") for i in range(200)]
REFERENCE = list(load(None).evaluation.stages)


def test_reference_stages_are_the_papers():
    assert [(s.size, s.admit, s.threshold) for s in REFERENCE] == [
        (10, "always", 0.0), (50, "threshold", 0.4), (140, "second_best", 0.4)]


def test_subsets_are_fixed_by_the_seed_not_by_load_order():
    first = staged.stage_tasks(TASKS, REFERENCE, seed=7)
    again = staged.stage_tasks(list(reversed(TASKS)), REFERENCE, seed=7)
    assert [[t.id for t in s] for s in first] == [[t.id for t in s] for s in again]
    assert [len(s) for s in first] == [10, 50, 140]
    assert sorted(t.id for s in first for t in s) == sorted(t.id for t in TASKS)   # a partition
    other = staged.stage_tasks(TASKS, REFERENCE, seed=8)
    assert [t.id for t in other[0]] != [t.id for t in first[0]]


def test_stages_shrink_when_the_suite_runs_out():
    assert [len(s) for s in staged.stage_tasks(TASKS[:24], REFERENCE, seed=0)] == [10, 14, 0]


@pytest.mark.parametrize("stage,score,second_best,admitted", [
    (StageConfig(size=5), 0.0, None, True),
    (StageConfig(size=5, admit="threshold", threshold=0.4), 0.4, None, True),
    (StageConfig(size=5, admit="threshold", threshold=0.4), 0.39, None, False),
    (StageConfig(size=5, admit="second_best", threshold=0.4), 0.5, 0.6, False),
    (StageConfig(size=5, admit="second_best", threshold=0.4), 0.6, 0.6, True),
    (StageConfig(size=5, admit="second_best", threshold=0.4), 0.35, 0.2, False),   # the floor holds
    (StageConfig(size=5, admit="second_best", threshold=0.4), 0.45, None, True),
])
def test_admission_rules(stage, score, second_best, admitted):
    assert staged.admits(stage, score, second_best) is admitted


@dataclass
class Outcomes:
    """task id -> status; the runner's per-task pipeline answers from this table."""

    table: dict[str, str]
    seen: list[str]


@pytest.fixture
def outcomes(monkeypatch) -> Outcomes:
    out = Outcomes({}, [])

    def fake_evaluate_task(agent_dir, task, log_dir, *, gateway, grant, config):
        out.seen.append(task.id)
        return TaskResult(task_id=task.id, status=out.table[task.id], reason="table")

    monkeypatch.setattr(runner, "evaluate_task", fake_evaluate_task)
    return out


def _context(tmp_path: Path, second_best: float | None = None) -> runner.EvalContext:
    gateway = SimpleNamespace(service=SimpleNamespace(unavailable=None))   # tasks are faked: a model that works
    return runner.EvalContext(config=load(None), gateway=gateway, run="r", agent="a", out_dir=tmp_path,  # type: ignore[arg-type]
                              second_best=second_best)


def test_staged_run_stops_at_the_first_stage_the_agent_is_not_admitted_to(tmp_path, outcomes):
    stages = [StageConfig(size=4), StageConfig(size=4, admit="threshold", threshold=0.5), StageConfig(size=4)]
    first = staged.stage_tasks(TASKS[:12], stages, seed=3)[0]
    outcomes.table.update({task.id: "unresolved" for task in TASKS[:12]})
    outcomes.table[first[0].id] = "resolved"
    report = runner.evaluate_staged(Path("agent"), TASKS[:12], stages, 3, _context(tmp_path))
    assert [s.admitted for s in report.stages] == [True, False]
    assert (report.stages[0].resolved, report.stages[0].scored) == (1, 4)
    assert outcomes.seen == [t.id for t in first]
    assert report.to_json()["score"] == 0.25


def test_infra_errors_are_not_scored_in_stages_or_overall(tmp_path, outcomes):
    stages = [StageConfig(size=4), StageConfig(size=2, admit="second_best", threshold=0.4)]
    first, second = staged.stage_tasks(TASKS[:6], stages, seed=1)
    statuses = ["resolved", "resolved", "infra_error", "agent_error"]
    outcomes.table.update({task.id: status for task, status in zip(first, statuses)})
    outcomes.table.update({task.id: "resolved" for task in second})
    report = runner.evaluate_staged(Path("agent"), TASKS[:6], stages, 1, _context(tmp_path, second_best=0.6))
    data = report.to_json()
    assert data["stages"][0] == {"stage": 0, "rule": "always", "admitted": True, "resolved": 2, "total": 3,
                                 "infra_errors": 1, "task_ids": [t.id for t in first]}
    assert data["stages"][1]["admitted"] is True                   # 2/3 >= max(0.6, 0.4)
    assert (data["resolved"], data["total"], data["infra_errors"]) == (4, 5, 1)
    assert data["score"] == pytest.approx(0.8)
    assert [t["id"] for t in data["tasks"]] == [t.id for t in first + second]
