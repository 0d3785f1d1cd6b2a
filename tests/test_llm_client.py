"""The client through litellm's real request path, against a local OpenAI-compatible stub."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from llm_stub import (CACHED_PER_MTOK, INPUT_PER_MTOK, OUTPUT_PER_MTOK, STUB_MODEL, Failure, Reply, StubServer,
                      llm_stub, stub_config)  # noqa: F401  (llm_stub is a fixture)

from dgm.config import Config
from dgm.errors import ConfigError
from dgm.llm import (AuthenticationFailed, ContextWindowExceeded, LLMService, UnknownPrice, UpstreamError,
                     check_prices)
from dgm.llm.cassette import Cassette
from dgm.llm.client import LLMClient
from dgm.llm.litellm_backend import wants_cache_markers, with_cache_markers
from dgm.llm.pricing import Pricer
from dgm.llm.types import Usage

TOOLS = [{"type": "function", "function": {"name": "bash", "description": "run a command",
                                           "parameters": {"type": "object",
                                                          "properties": {"command": {"type": "string"}}}}}]
HELLO = [{"role": "system", "content": "you are a test"}, {"role": "user", "content": "hello"}]


class Sleeps(list):
    """Records the delays the client asked for instead of waiting them out."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _service(config: Config, tmp_path: Path, sleeps: Sleeps | None = None) -> LLMService:
    return LLMService(config, tmp_path / "run.db", client=LLMClient(config.llm, sleep=Sleeps() if sleeps is None else sleeps))


def test_tool_calls_round_trip_and_usage_cost_recorded_exactly(llm_stub: StubServer, tmp_path: Path) -> None:
    llm_stub.queue(Reply(content=None, tool_calls=[{"name": "bash", "arguments": {"command": "ls -la"}}],
                         prompt_tokens=1234, completion_tokens=56, cached_tokens=1000))
    with _service(stub_config(llm_stub), tmp_path) as service:
        done = service.complete("solve", HELLO, tools=TOOLS, tool_choice="auto", job="solve/t1")
    call = done.message["tool_calls"][0]
    assert call["function"]["name"] == "bash"
    assert json.loads(call["function"]["arguments"]) == {"command": "ls -la"}
    assert done.response["choices"][0]["finish_reason"] == "tool_calls"
    sent = llm_stub.requests[0]
    assert sent["model"] == "stub-model" and sent["tools"] == TOOLS and sent["tool_choice"] == "auto"
    assert sent["_authorization"] == "Bearer sk-stub-host-only"
    expected_cost = (234 * INPUT_PER_MTOK + 1000 * CACHED_PER_MTOK + 56 * OUTPUT_PER_MTOK) / 1e6
    assert done.usage == Usage(input_tokens=1234, output_tokens=56, cached_tokens=1000)
    assert done.cost == pytest.approx(expected_cost, rel=1e-12)
    record = Cassette(tmp_path / "run.db").lookup("solve/t1", 0)
    assert record is not None
    assert (record.usage, record.cost, record.role, record.model) == (done.usage, done.cost, "solve", STUB_MODEL)
    assert record.response == done.response


def test_role_settings_reach_the_provider_and_caller_cannot_raise_max_tokens(llm_stub: StubServer,
                                                                             tmp_path: Path) -> None:
    config = stub_config(llm_stub, {"max_tokens": 100, "temperature": 0.0,
                                    "roles": {"diagnose": {"temperature": 0.7, "max_tokens": 300}}})
    with _service(config, tmp_path) as service:
        service.complete("diagnose", HELLO, job="diag/1")
        service.complete("solve", HELLO, job="solve/1", max_tokens=5000)
        service.complete("solve", HELLO, job="solve/1", max_tokens=50)
    sent = [(r["temperature"], r["max_tokens"]) for r in llm_stub.requests]
    assert sent == [(0.7, 300), (0.0, 100), (0.0, 50)]


def test_rate_limit_with_retry_after_then_success(llm_stub: StubServer, tmp_path: Path) -> None:
    llm_stub.queue(Failure(429, "slow down", headers={"Retry-After": "0.25"}), Reply(content="finally"))
    sleeps = Sleeps()
    with _service(stub_config(llm_stub), tmp_path, sleeps) as service:
        done = service.complete("solve", HELLO, job="j")
    assert done.text == "finally" and done.attempts == 2
    assert sleeps == [0.25]          # base_delay is 1 ms: the wait is the provider's Retry-After
    assert len(llm_stub.requests) == 2


def test_server_error_is_retried_with_backoff(llm_stub: StubServer, tmp_path: Path) -> None:
    llm_stub.queue(Failure(500), Failure(503), Reply(content="up again"))
    sleeps = Sleeps()
    config = stub_config(llm_stub, {"retry": {"max_attempts": 3, "base_delay": 0.01, "max_delay": 1.0}})
    with _service(config, tmp_path, sleeps) as service:
        done = service.complete("solve", HELLO, job="j")
    assert done.text == "up again" and done.attempts == 3
    assert len(sleeps) == 2
    assert 0.005 <= sleeps[0] <= 0.01 and 0.01 <= sleeps[1] <= 0.02   # doubling, equal jitter


def test_retries_give_up_after_max_attempts(llm_stub: StubServer, tmp_path: Path) -> None:
    llm_stub.queue(Failure(500), Failure(500), Failure(500), Reply(content="too late"))
    with _service(stub_config(llm_stub), tmp_path) as service:
        with pytest.raises(UpstreamError, match="gave up after 3 attempts"):
            service.complete("solve", HELLO, job="j")
    assert len(llm_stub.requests) == 3


def test_auth_error_is_not_retried(llm_stub: StubServer, tmp_path: Path) -> None:
    llm_stub.queue(Failure(401, "bad key"))
    with _service(stub_config(llm_stub), tmp_path) as service:
        with pytest.raises(AuthenticationFailed):
            service.complete("solve", HELLO, job="j")
    assert len(llm_stub.requests) == 1


def test_context_window_error_is_typed_and_not_retried(llm_stub: StubServer, tmp_path: Path) -> None:
    llm_stub.queue(Failure(400, "This model's maximum context length is 8192 tokens. However, your messages "
                                "resulted in 9000 tokens.", code="context_length_exceeded"))
    with _service(stub_config(llm_stub), tmp_path) as service:
        with pytest.raises(ContextWindowExceeded):
            service.complete("solve", HELLO, job="j")
    assert len(llm_stub.requests) == 1
    record = Cassette(tmp_path / "run.db").lookup("j", 0)
    assert record is not None and record.error_type == "ContextWindowExceeded" and record.cost == 0


def test_slow_response_times_out_and_is_retried(llm_stub: StubServer, tmp_path: Path) -> None:
    llm_stub.queue(Reply(content="too slow", delay=3.0), Reply(content="quick"))
    with _service(stub_config(llm_stub, {"timeout_seconds": 0.5}), tmp_path) as service:
        done = service.complete("solve", HELLO, job="j")
    assert done.text == "quick" and done.attempts == 2


def test_unpriced_model_refuses_to_start(llm_stub: StubServer, tmp_path: Path) -> None:
    config = stub_config(llm_stub, {"prices": {}})
    with pytest.raises(UnknownPrice, match=r"llm\.prices\.openai/stub-model"):
        check_prices(config)
    with _service(config, tmp_path) as service:
        with pytest.raises(UnknownPrice):
            service.complete("solve", HELLO, job="j")
    assert llm_stub.requests == []     # refused before any money was spent
    check_prices(stub_config(llm_stub))
    check_prices(Config.model_validate({"llm": {"model": "gpt-4o", "roles": {"meta": {"model": "anthropic/claude-sonnet-4-5"}}}}))


def test_check_prices_needs_a_model_for_each_role() -> None:
    with pytest.raises(ConfigError, match="llm.model is not set"):
        check_prices(Config.model_validate({"llm": {"roles": {"solve": {"model": "gpt-4o"}}}}))
    check_prices(Config.model_validate({"llm": {"roles": {"solve": {"model": "gpt-4o"}}}}), roles=["solve"])


def test_cost_map_prices_known_models_with_cache_discount() -> None:
    # gpt-4o in the bundled map: $2.50 / $10 per Mtok, cached input $1.25.
    cost = Pricer({}).cost("gpt-4o", Usage(input_tokens=1000, output_tokens=100, cached_tokens=400))
    assert cost == pytest.approx((600 * 2.5 + 400 * 1.25 + 100 * 10) / 1e6)


def test_unmapped_model_is_not_priced_as_zero() -> None:
    # litellm's get_model_info answers provider-wide zeros for unlisted Anthropic models.
    assert not Pricer({}).known("anthropic/claude-not-a-real-model")
    with pytest.raises(UnknownPrice):
        Pricer({}).cost("anthropic/claude-not-a-real-model", Usage(10, 10))


def test_anthropic_cache_breakpoints_on_system_and_last_message() -> None:
    messages = [{"role": "system", "content": "sys"}, {"role": "user", "content": "task"},
                {"role": "assistant", "content": None, "tool_calls": []},
                {"role": "tool", "tool_call_id": "c1", "content": "output"}]
    marked = with_cache_markers(messages)
    assert marked[0]["content"] == [{"type": "text", "text": "sys", "cache_control": {"type": "ephemeral"}}]
    assert marked[3]["content"] == [{"type": "text", "text": "output", "cache_control": {"type": "ephemeral"}}]
    assert marked[1] == messages[1] and messages[0]["content"] == "sys"     # others untouched, input not mutated
    assert wants_cache_markers("anthropic/claude-sonnet-4-5") and wants_cache_markers("bedrock/anthropic.claude-3")
    assert not wants_cache_markers(STUB_MODEL)
