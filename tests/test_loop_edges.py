"""The loop at its edges: invalid children are recorded with reasons, and a real litellm model path
(the OpenAI-compatible stub server) runs a whole generation with every call metered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from llm_stub import INPUT_PER_MTOK, OUTPUT_PER_MTOK, STUB_MODEL, Reply, StubServer, llm_stub  # noqa: F401

from conftest import QUICKSTART
from dgm import cli
from dgm.archive.check import check_run
from dgm.archive.store import RunStore

pytestmark = pytest.mark.docker

DIAGNOSIS = {
    "log_summarization": "The agent stopped early.",
    "potential_improvements": "- keep going",
    "improvement_proposal": "Make the agent verify its work.",
    "implementation_suggestion": "Run the tests before finishing.",
    "problem_description": "The agent should run the tests before it finishes.",
}


def _editor(**arguments: object) -> dict:
    return {"name": "editor", "arguments": arguments}


def test_invalid_children_are_recorded_and_the_run_goes_on(tmp_path: Path, docker_ready: None) -> None:
    script = {"rules": [
        {"role": "diagnose", "reply": {"content": json.dumps(DIAGNOSIS)}},
        {"role": "self_improve", "job": "^g1c0/", "reply": {"content": "Nothing to change."}},
        {"role": "self_improve", "job": "^g1c1/", "times": 1,
         "reply": {"tool_calls": [_editor(command="create", path="helpers.py", file_text="def oops(:\n    pass\n")]}},
        {"role": "self_improve", "job": "^g1c2/", "times": 1,
         "reply": {"tool_calls": [_editor(command="create", path="main.py", file_text="print('hello')\n")]}},
        {"role": "self_improve", "job": "^g1c3/", "times": 1,
         "reply": {"tool_calls": [_editor(command="insert", path="llm.py", insert_line=0, new_str="# mine now")]}},
        {"role": "self_improve", "reply": {"content": "Done."}},
        {"role": "solve", "reply": {"content": "Done."}},
    ]}
    script_path = tmp_path / "script.yaml"
    script_path.write_text(yaml.safe_dump(script))
    run_dir = tmp_path / "invalid"
    code = cli.main(["run", str(QUICKSTART), "--out", str(run_dir), "--set", "llm.model=scripted",
                     "--set", f"llm.script={script_path}", "--set", "loop.generations=1",
                     "--set", "loop.children_per_generation=4", "--set", "evaluation.stages=[{size: 2}]"])
    assert code == 0
    with RunStore.open(run_dir, readonly=True) as store:
        agents = {a.id: a for a in store.list_agents()}
        reasons = {child: agents[child].invalid_reason or "" for child in ("g1c0", "g1c1", "g1c2", "g1c3")}
        assert all(agents[child].status == "invalid" and not agents[child].admitted for child in reasons)
        assert reasons["g1c0"].startswith("empty patch")
        assert "syntax errors: helpers.py:1" in reasons["g1c1"]
        assert "does not mention --problem" in reasons["g1c2"]
        assert reasons["g1c3"] == "changed protected path(s): llm.py"
        assert [e.agent_id for e in store.evaluations()] == ["g0c0", "g0c0"]  # invalid children are not evaluated
        assert store.events(kind="run_finished")[0].payload["reason"] == "generations"
    assert check_run(run_dir) == []


def test_a_real_model_through_litellm_runs_a_generation(llm_stub: StubServer, tmp_path: Path, docker_ready: None) -> None:
    llm_stub.default = Reply(content=json.dumps(DIAGNOSIS), prompt_tokens=300, completion_tokens=40)
    run_dir = tmp_path / "stub-run"
    code = cli.main(["run", str(QUICKSTART), "--out", str(run_dir), "--model", STUB_MODEL,
                     "--set", f"llm.api_base={llm_stub.api_base}",
                     "--set", f"llm.prices.{STUB_MODEL}.input_per_mtok={INPUT_PER_MTOK}",
                     "--set", f"llm.prices.{STUB_MODEL}.output_per_mtok={OUTPUT_PER_MTOK}",
                     "--set", "loop.generations=1", "--set", "loop.children_per_generation=1"])
    assert code == 0
    with RunStore.open(run_dir, readonly=True) as store:
        rows = store.select("SELECT job_key, role, model, input_tokens, output_tokens, cost FROM llm_calls ORDER BY job_key")
        agents = {a.id: a for a in store.list_agents()}
    # the pre-flight's one-token call (not recorded); seed: 3 tasks x 1 call; child: 1 diagnosis +
    # 1 self-improvement call (an empty patch: invalid)
    assert llm_stub.requests[0]["max_tokens"] == 1
    assert len(rows) == len(llm_stub.requests) - 1 == 5
    assert sorted(role for _, role, *_ in rows) == ["diagnose", "self_improve", "solve", "solve", "solve"]
    price = (300 * INPUT_PER_MTOK + 40 * OUTPUT_PER_MTOK) / 1e6
    assert all(model == STUB_MODEL and (i, o) == (300, 40) and cost == pytest.approx(price) for _, _, model, i, o, cost in rows)
    assert all(request["model"] == "stub-model" for request in llm_stub.requests)
    assert agents["g0c0"].cost == pytest.approx(3 * price)
    assert agents["g1c0"].invalid_reason.startswith("empty patch")
    assert agents["g1c0"].cost == pytest.approx(2 * price)  # its diagnosis and self-improvement
    assert check_run(run_dir) == []


def test_budget_stops_the_run_and_a_resume_with_more_finishes_it(scripted_run: Path, tmp_path: Path) -> None:
    """A cap reached mid-generation: no half-done child is recorded, the run ends with reason
    `budget`, and a resume with a larger cap ends with the archive of a run that never stopped."""
    from conftest import DEMO_SCRIPT
    from dgm.loop.compare import compare_runs

    with RunStore.open(scripted_run, readonly=True) as store:
        seed_tokens = store.select("SELECT SUM(input_tokens + output_tokens) FROM llm_calls WHERE job_key LIKE 'g0c0/%'")[0][0]
    run_dir = tmp_path / "capped"
    scripted = ["--set", "llm.model=scripted", "--set", f"llm.script={DEMO_SCRIPT}"]
    code = cli.main(["run", str(QUICKSTART), "--out", str(run_dir), *scripted,
                     "--set", f"budget.max_tokens={seed_tokens + 1}"])
    assert code == 0
    with RunStore.open(run_dir, readonly=True) as store:
        assert [e.payload["reason"] for e in store.events(kind="run_finished")] == ["budget"]
        assert not store.events(kind="generation_finished")
        assert all(agent.status != "pending" for agent in store.list_agents())
    assert cli.main(["resume", str(run_dir), "--set", "budget.max_tokens=100000000"]) == 0
    assert compare_runs(scripted_run, run_dir) == []
    assert check_run(run_dir) == []
