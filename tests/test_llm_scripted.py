"""The scripted model: deterministic answers from a YAML script, behind the same client."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dgm.config import Config
from dgm.errors import ConfigError
from dgm.llm import SCRIPTED_LABEL, LLMService
from dgm.llm.errors import ModelUnavailable, ScriptMismatch

SCRIPT = """
rules:
  - role: diagnose
    reply:
      content: '{"improvement_proposal": "add a retry"}'
  - role: solve
    job: '^solve/'
    match: 'fix the bug'
    times: 1
    reply:
      tool_calls:
        - name: bash
          arguments: {command: "cat a.py"}
  - role: solve
    match: 'def add'
    times: 1
    reply:
      tool_calls:
        - name: editor
          arguments: {command: str_replace, path: a.py, old_str: "a - b", new_str: "a + b"}
  - role: [solve, self_improve]
    where: any
    match: 'fix the bug'
    reply:
      content: done
"""


def _service(tmp_path: Path, script: str = SCRIPT) -> LLMService:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "script.yaml"
    path.write_text(script)
    config = Config.model_validate({"llm": {"model": "scripted", "script": str(path)}})
    return LLMService(config, tmp_path / "run.db")


def _conversation(service: LLMService, job: str) -> list[dict]:
    messages = [{"role": "system", "content": "agent"}, {"role": "user", "content": "please fix the bug"}]
    answers = []
    for _ in range(3):
        done = service.complete("solve", messages, job=job)
        answers.append(done.response)
        message = done.message
        messages.append(message)
        for call in message.get("tool_calls", []):
            output = "def add(a, b):\n    return a - b\n" if call["function"]["name"] == "bash" else "edited"
            messages.append({"role": "tool", "tool_call_id": call["id"], "content": output})
    return answers


def test_ordered_once_rules_script_a_conversation(tmp_path: Path) -> None:
    with _service(tmp_path) as service:
        first, second, third = _conversation(service, "solve/t1")
        assert service.model_label("solve") == SCRIPTED_LABEL
    assert json.loads(first["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]) == {"command": "cat a.py"}
    assert second["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "editor"
    assert third["choices"][0]["message"] == {"role": "assistant", "content": "done"}
    assert third["choices"][0]["finish_reason"] == "stop"
    assert first["system_fingerprint"] == SCRIPTED_LABEL and first["model"] == "scripted"


def test_answers_are_deterministic_and_counted_per_job(tmp_path: Path) -> None:
    with _service(tmp_path) as service:
        a = _conversation(service, "solve/a")
        b = _conversation(service, "solve/b")       # once-rules are fresh for every job
    with _service(tmp_path / "again") as service:
        again = _conversation(service, "solve/a")
    assert [r["choices"] for r in a] == [r["choices"] for r in b]
    assert a == again
    usage = a[0]["usage"]
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0


def test_usage_is_approximate_and_cost_is_zero(tmp_path: Path) -> None:
    with _service(tmp_path) as service:
        done = service.complete("diagnose", [{"role": "user", "content": "x" * 4000}], job="diag/1")
        assert done.cost == 0.0
        assert 1000 <= done.usage.input_tokens <= 1010      # about four characters a token
        assert service.budget.spent.tokens == done.usage.total_tokens


def test_job_and_role_filters_and_no_match(tmp_path: Path) -> None:
    with _service(tmp_path) as service:
        # Not a solve/ job: the once-rule guarded by `job` is skipped, the catch-all answers.
        done = service.complete("solve", [{"role": "user", "content": "fix the bug"}], job="other/1")
        assert done.text == "done"
        with pytest.raises(ScriptMismatch, match="no rule left for role 'meta'"):
            service.complete("meta", [{"role": "user", "content": "fix the bug"}], job="meta/1")


def test_where_last_looks_only_at_the_last_user_or_tool_message(tmp_path: Path) -> None:
    script = """
rules:
  - match: 'needle'
    reply: {content: last}
  - match: 'needle'
    where: any
    reply: {content: anywhere}
"""
    with _service(tmp_path, script) as service:
        early = [{"role": "user", "content": "needle"}, {"role": "assistant", "content": "ok"},
                 {"role": "user", "content": "hay"}]
        assert service.complete("solve", early, job="j").text == "anywhere"
        assert service.complete("solve", early[:1], job="j").text == "last"


@pytest.mark.parametrize("script, message", [
    ("rules: []", "rules"),
    ("rules:\n  - match: '('\n    reply: {content: x}", "invalid regex"),
    ("rules:\n  - reply: {content: x}\n    when: always", "when"),
    ("latency_seconds: -1\nrules:\n  - reply: {content: x}", "latency_seconds"),
])
def test_bad_scripts_fail_with_one_line(tmp_path: Path, script: str, message: str) -> None:
    with _service(tmp_path, script) as service:
        with pytest.raises(ConfigError, match=message) as err:
            service.complete("solve", [{"role": "user", "content": "hi"}], job="j")
    assert "\n" not in str(err.value)


def test_scripted_is_never_chosen_next_to_a_real_model(tmp_path: Path) -> None:
    config = Config.model_validate({"llm": {"model": "gpt-4o", "roles": {"solve": {"model": "scripted"}}}})
    with LLMService(config, tmp_path / "run.db") as service:
        with pytest.raises(ModelUnavailable, match="selected only by llm.model: scripted"):
            service.complete("solve", [{"role": "user", "content": "hi"}], job="j")
