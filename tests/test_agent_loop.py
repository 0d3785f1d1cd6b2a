"""The seed agent's loop on the host, with `llm.chat` replaced by a list of canned answers.

Only behaviour the sandbox tests cannot reach cheaply lives here: the context guard, the token
and time limits, and a crash of the agent itself. The end-to-end runs are in test_agent_sandbox.py.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

AGENT_DIR = Path(__file__).resolve().parents[1] / "agents" / "seed_agent"
sys.path.insert(0, str(AGENT_DIR))
sys.dont_write_bytecode = True  # no __pycache__ in the agent source that gets copied into sandboxes
_spec = importlib.util.spec_from_file_location("seed_agent_main", AGENT_DIR / "main.py")
agent_main = sys.modules["seed_agent_main"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(agent_main)
sys.dont_write_bytecode = False


def answer(*calls: tuple[str, dict], content: str = "", tokens: int = 10) -> dict:
    tool_calls = [{"id": f"c{i}", "type": "function", "function": {"name": n, "arguments": json.dumps(a)}}
                  for i, (n, a) in enumerate(calls)]
    message = {"role": "assistant", "content": content, **({"tool_calls": tool_calls} if tool_calls else {})}
    return {"choices": [{"message": message, "finish_reason": "tool_calls" if calls else "stop"}],
            "usage": {"prompt_tokens": tokens - 1, "completion_tokens": 1, "total_tokens": tokens}}


class Canned:
    """Answers in order and keeps a deep copy of every request's messages."""

    def __init__(self, answers: list) -> None:
        self.answers, self.requests = list(answers), []

    def __call__(self, messages, tools=None, **_):
        self.requests.append(json.loads(json.dumps(messages)))
        item = self.answers.pop(0)
        if isinstance(item, Exception):
            raise item
        return item


def run(tmp_path: Path, monkeypatch, answers: list, **limits) -> tuple[str, list[dict], Canned]:
    canned = Canned(answers)
    monkeypatch.setattr(agent_main.llm, "chat", canned)
    (tmp_path / "ws").mkdir(exist_ok=True)
    agent = agent_main.Agent("do it", str(tmp_path / "ws"), tmp_path / "out", agent_main.Limits(**limits))
    reason = agent.run()
    records = [json.loads(line) for line in (tmp_path / "out" / "trajectory.jsonl").read_text().splitlines()]
    return reason, records, canned


def test_context_guard_shortens_old_outputs_and_keeps_the_newest(tmp_path, monkeypatch):
    big = ("bash", {"command": "printf 'x%.0s' $(seq 3000)"})
    reason, records, canned = run(tmp_path, monkeypatch, [answer(big), answer(big), answer(big), answer()],
                                  context_chars=8000)
    assert reason == "finished"
    last = canned.requests[-1]
    outputs = [m["content"] for m in last if m["role"] == "tool"]
    assert len(outputs) == 3
    assert all("shortened to fit the context" in o for o in outputs[:-1])
    assert outputs[-1].count("x") == 3000  # the newest turn stays whole
    assert len(json.dumps(last)) <= 8000
    assert records[-2]["request"]["shortened"] == 1


def test_token_limit_ends_the_run_with_budget(tmp_path, monkeypatch):
    call = ("bash", {"command": "true"})
    reason, records, canned = run(tmp_path, monkeypatch, [answer(call, tokens=60)] * 5, max_tokens=100)
    assert reason == "budget" and len(canned.requests) == 2
    assert records[-1] == {**records[-1], "type": "final", "exit_reason": "budget", "steps": 2,
                           "tokens": {"prompt": 118, "completion": 2, "total": 120}}


def test_time_limit_ends_the_run_before_the_first_call(tmp_path, monkeypatch):
    reason, records, canned = run(tmp_path, monkeypatch, [answer()], max_seconds=0)
    assert reason == "time_limit" and canned.requests == []
    assert records[-1]["exit_reason"] == "time_limit"


def test_wrong_argument_names_become_an_error_result(tmp_path, monkeypatch):
    reason, records, _ = run(tmp_path, monkeypatch, [answer(("bash", {"cmd": "ls"})), answer()])
    result = records[1]["tool_results"][0]
    assert reason == "finished" and result["error"] and "unexpected keyword argument 'cmd'" in result["output"]


def test_bad_json_arguments_become_an_error_result(tmp_path, monkeypatch):
    bad = answer(("bash", {}))
    bad["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] = '{"command": "ls"'
    reason, records, canned = run(tmp_path, monkeypatch, [bad, answer()])
    result = records[1]["tool_results"][0]
    assert reason == "finished" and result["error"] and "not valid JSON" in result["output"]
    assert canned.requests[1][-1] == {"role": "tool", "tool_call_id": "c0", "content": result["output"]}


def test_a_crash_of_the_agent_still_writes_the_final_record(tmp_path, monkeypatch):
    with pytest.raises(RuntimeError):
        run(tmp_path, monkeypatch, [RuntimeError("bug in the agent")])
    final = json.loads((tmp_path / "out" / "trajectory.jsonl").read_text().splitlines()[-1])
    assert final["exit_reason"] == "error" and "bug in the agent" in final["detail"]


def test_other_llm_errors_end_the_run_with_error(tmp_path, monkeypatch):
    err = agent_main.llm.LLMError(502, "upstream_error", "provider down")
    reason, records, _ = run(tmp_path, monkeypatch, [err])
    assert reason == "error" and "provider down" in records[-1]["detail"]
