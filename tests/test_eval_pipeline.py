"""The evaluation pipeline for real: the seed agent, the scripted model, solve and grade sandboxes.

Covers `dgm eval --json` end to end, infrastructure errors (retried, never scored), agents that
crash, an agent with no model configured, and what the diagnosis view shows and hides.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dgm.benchmarks.task import load_task_dir
from dgm.config import validate
from dgm.evaluation import pipeline
from dgm.evaluation.pipeline import TaskResult, diagnosis_view, evaluate_task
from dgm.sandbox import SandboxUnavailable

from conftest import eval_grant

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[1]
SEED_AGENT = REPO / "agents" / "seed_agent"
TASKS = Path(__file__).parent / "fixtures" / "tasks"
FIX_CALC = "printf 'def add(a, b):\\n    return a + b\\n\\n\\ndef mul(a, b):\\n    return a * b\\n' > calc.py"
SCRIPT = f"""
rules:
  - job: 'eval/calc(#\\d+)?$'
    times: 1
    reply:
      content: I will implement both functions.
      tool_calls: [{{name: bash, arguments: {{command: "{FIX_CALC} && python3 -m pytest -q tests"}}}}]
  - {{job: 'eval/', reply: {{content: I could not find the problem.}}}}
"""


@pytest.fixture(scope="module")
def script(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("script") / "script.yaml"
    path.write_text(SCRIPT)
    return path


def test_dgm_eval_json_end_to_end_with_the_seed_agent(tmp_path, script, docker_ready):
    out = tmp_path / "eval"
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    done = subprocess.run(
        [sys.executable, "-m", "dgm.cli", "eval", "--agent", str(SEED_AGENT), "--benchmark", "mini",
         "--set", f"evaluation.benchmark.path={TASKS}", "--task-ids", "calc,greet", "--workers", "2",
         "--model", "scripted", "--set", f"llm.script={script}", "--out", str(out), "--json"],
        capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert (report["benchmark"], report["resolved"], report["total"], report["score"]) == ("mini", 1, 2, 0.5)
    assert [(t["id"], t["status"]) for t in report["tasks"]] == [("calc", "resolved"), ("greet", "unresolved")]
    assert report["stages"][0]["total"] == 2 and all(t["tokens"] > 0 for t in report["tasks"])
    assert json.loads((out / "report.json").read_text())["score"] == 0.5

    calc = out / "tasks" / "calc"
    for name in ("problem.md", "trajectory.jsonl", "diff.patch", "agent_output.txt", "result.json",
                 "hidden/test_output.txt", "hidden/verdict.json", "hidden/tests/tests/test_calc.py"):
        assert (calc / name).is_file(), name
    result = TaskResult.load(calc / "result.json")
    assert result.status == "resolved" and "+    return a + b" in (calc / "diff.patch").read_text() and result.exit_reason == "finished"

    view = diagnosis_view(result, calc)
    assert "I will implement both functions." in view and "+    return a * b" in view
    assert "test_add_negative" not in view and "hidden tests passed" not in view   # hidden by default
    full = diagnosis_view(result, calc, include_hidden_tests=True)
    assert "def test_add_negative" in full and "3/3 hidden tests passed" in full


@pytest.fixture
def config(script):
    return validate({"llm": {"model": "scripted", "script": str(script)},
                     "evaluation": {"infra_retries": 1}}, "test")


def test_infra_errors_are_retried_and_never_scored(tmp_path, config, gateway, run_label, monkeypatch):
    task = load_task_dir(TASKS / "calc")
    real_grade, calls = pipeline._grade, []

    def flaky_grade(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise SandboxUnavailable("sandbox 1234 is gone: it stopped during exec")
        return real_grade(*args, **kwargs)

    monkeypatch.setattr(pipeline, "_grade", flaky_grade)
    result = evaluate_task(SEED_AGENT, task, tmp_path / "calc", gateway=gateway, grant=eval_grant(run_label, "calc"),
                           config=config)
    assert (result.status, result.attempts, len(calls)) == ("resolved", 3, 2)   # 1 solve + 2 grades

    def dead(*args, **kwargs):
        raise SandboxUnavailable("Docker daemon not reachable")

    monkeypatch.setattr(pipeline, "_solve", dead)
    lost = evaluate_task(SEED_AGENT, task, tmp_path / "lost", gateway=gateway, grant=eval_grant(run_label, "lost"),
                         config=config)
    assert lost.status == "infra_error" and not lost.scored and lost.attempts == 2
    assert "Docker daemon not reachable" in lost.reason


def test_an_agent_that_crashes_is_an_agent_error(tmp_path, config, gateway, run_label):
    agent = tmp_path / "crashing_agent"
    agent.mkdir()
    (agent / "main.py").write_text("import sys\nprint('about to fail', flush=True)\nsys.exit(3)\n")
    result = evaluate_task(agent, load_task_dir(TASKS / "greet"), tmp_path / "greet", gateway=gateway,
                           grant=eval_grant(run_label, "greet"), config=config)
    assert result.status == "agent_error" and result.scored
    assert "crashed" in result.reason and "exit 3" in result.reason
    assert "about to fail" in (tmp_path / "greet" / "agent_output.txt").read_text()
    assert not (tmp_path / "greet" / "hidden").exists()      # nothing was graded


def test_without_a_model_the_agent_ends_with_a_clear_error(tmp_path, run_label, docker_ready):
    from dgm.llm import Gateway, LLMService

    config = validate({}, "test")
    with LLMService(config, tmp_path / "llm.db") as service, Gateway(service) as gw:
        result = evaluate_task(SEED_AGENT, load_task_dir(TASKS / "greet"), tmp_path / "greet", gateway=gw,
                               grant=eval_grant(run_label, "greet"), config=config)
    assert result.status == "unresolved" and result.exit_reason == "error"
    final = json.loads((tmp_path / "greet" / "trajectory.jsonl").read_text().splitlines()[-1])
    assert "llm.model is not set" in final["detail"]
