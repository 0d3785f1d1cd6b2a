"""Record then replay: same answers with no model reachable; a changed request is divergence."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from llm_stub import Failure, Reply, StubServer, llm_stub, stub_config  # noqa: F401  (llm_stub is a fixture)

from dgm.llm import ContextWindowExceeded, JobGrant, LLMService, ReplayDivergence
from dgm.llm.types import ChatRequest

TOOLS = [{"type": "function", "function": {"name": "bash", "parameters": {"type": "object", "properties": {}}}}]


def _jobs(service: LLMService) -> list[dict]:
    """A fixed sequence: two agent jobs of three calls and one host-side diagnosis."""
    answers = []
    for job in ("solve/a", "solve/b"):
        grant = JobGrant(job_key=job, role="solve", run="r1", agent="a0")
        messages: list[dict] = [{"role": "user", "content": f"task for {job}"}]
        for _ in range(3):
            done = service.complete("solve", messages, tools=TOOLS, job=grant)
            answers.append(done.response)
            messages = messages + [done.message, {"role": "user", "content": "continue"}]
    answers.append(service.complete("diagnose", [{"role": "user", "content": "why?"}], job="diag/a0").response)
    return answers


def test_replay_reproduces_the_recording_without_any_model(llm_stub: StubServer, tmp_path: Path) -> None:
    for i in range(7):
        llm_stub.queue(Reply(content=f"answer {i}", tool_calls=[{"name": "bash", "arguments": {"n": i}}] if i % 2 else [],
                             prompt_tokens=100 + i, completion_tokens=10 + i))
    config = stub_config(llm_stub)
    db = tmp_path / "run.db"
    with LLMService(config, db) as live:
        recorded = _jobs(live)
        live_spent = live.budget.spent
    llm_stub.stop()                                           # nothing to talk to any more
    with LLMService(config, db, mode="replay") as replay:
        assert _jobs(replay) == recorded
        assert replay.budget.spent == live_spent            # budgets meter replayed calls the same way
        assert replay.divergences == []
    assert len(llm_stub.requests) == 7


def test_changed_or_extra_request_is_reported_as_divergence(llm_stub: StubServer, tmp_path: Path) -> None:
    config = stub_config(llm_stub)
    db = tmp_path / "run.db"
    with LLMService(config, db) as live:
        live.complete("solve", [{"role": "user", "content": "original"}], job="j")
    with LLMService(config, db, mode="replay") as replay:
        with pytest.raises(ReplayDivergence) as changed:
            replay.complete("solve", [{"role": "user", "content": "edited"}], job="j")
        with pytest.raises(ReplayDivergence) as beyond:
            replay.complete("solve", [{"role": "user", "content": "original"}], job="j")
        assert replay.divergences == [changed.value, beyond.value]
    original = ChatRequest("solve", "openai/stub-model", [{"role": "user", "content": "original"}], None, None,
                           4096, 0.0).digest()
    edited = ChatRequest("solve", "openai/stub-model", [{"role": "user", "content": "edited"}], None, None,
                         4096, 0.0).digest()
    assert (changed.value.recorded_hash, changed.value.request_hash) == (original, edited)
    assert original in str(changed.value) and edited in str(changed.value)
    assert (beyond.value.seq, beyond.value.recorded_hash) == (1, None)
    assert len(llm_stub.requests) == 1


def test_recorded_failures_replay_as_the_same_error(llm_stub: StubServer, tmp_path: Path) -> None:
    llm_stub.queue(Failure(400, "This model's maximum context length is 10 tokens.", code="context_length_exceeded"))
    config = stub_config(llm_stub)
    with LLMService(config, tmp_path / "run.db") as live:
        with pytest.raises(ContextWindowExceeded):
            live.complete("solve", [{"role": "user", "content": "long"}], job="j")
        live.complete("solve", [{"role": "user", "content": "short"}], job="j")
    with LLMService(config, tmp_path / "run.db", mode="replay") as replay:
        with pytest.raises(ContextWindowExceeded, match="maximum context length"):
            replay.complete("solve", [{"role": "user", "content": "long"}], job="j")
        assert replay.complete("solve", [{"role": "user", "content": "short"}], job="j").text == "ok"


def test_request_hash_ignores_key_order_but_not_content() -> None:
    a = ChatRequest("solve", "m", [{"role": "user", "content": "x", "name": "n"}], TOOLS, {"type": "auto"}, 10, 0.0)
    reordered_tools = [{"type": "function", "function": {"parameters": {"properties": {}, "type": "object"},
                                                         "name": "bash"}}]
    b = ChatRequest("solve", "m", [{"name": "n", "content": "x", "role": "user"}], reordered_tools,
                    {"type": "auto"}, 10, 0.0)
    assert a.digest() == b.digest()
    assert a.digest() != ChatRequest("solve", "m", [{"role": "user", "content": "y", "name": "n"}], TOOLS,
                                     {"type": "auto"}, 10, 0.0).digest()
    assert a.digest() != ChatRequest("solve", "m", a.messages, TOOLS, {"type": "auto"}, 11, 0.0).digest()


def test_calls_live_in_the_run_db_in_wal_mode(tmp_path: Path) -> None:
    script = tmp_path / "s.yaml"
    script.write_text("rules:\n  - reply: {content: hi}\n")
    from dgm.config import Config

    config = Config.model_validate({"llm": {"model": "scripted", "script": str(script)}})
    with LLMService(config, tmp_path / "run.db") as service:
        service.complete("solve", [{"role": "user", "content": "x"}], job="j")
        db = sqlite3.connect(tmp_path / "run.db")
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        # Committed per call: another connection sees it before the service closes.
        assert db.execute("SELECT job_key, seq, role, model FROM llm_calls").fetchall() == [("j", 0, "solve", "scripted")]
        db.close()
