"""Hostile model servers and sandboxes that flood the gateway: budgets and threads stay bounded.

The server is the OpenAI-compatible stub (tests/llm_stub.py) reached through litellm's real path.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from pathlib import Path

import pytest
from llm_stub import Failure, Reply, StubServer, llm_stub, stub_config  # noqa: F401

from dgm.llm.errors import UpstreamError
from dgm.llm.gateway import Gateway
from dgm.llm.service import LLMService
from dgm.llm.types import JobGrant

MESSAGES = [{"role": "user", "content": "Write a function that adds two numbers, please, in Python."}]


def _spend(service: LLMService) -> tuple[int, float]:
    spent = service.budget.spent
    return spent.tokens, spent.dollars


def test_negative_usage_is_clamped_and_cannot_buy_budget(llm_stub: StubServer, tmp_path: Path) -> None:
    llm_stub.queue(Reply(content="four", prompt_tokens=-1_000_000, completion_tokens=-50_000, cached_tokens=-5))
    with LLMService(stub_config(llm_stub), tmp_path / "run.db") as service:
        completion = service.complete("solve", MESSAGES, job="j")
        tokens, dollars = _spend(service)
    assert completion.usage.input_tokens > 0 and completion.usage.output_tokens > 0   # estimated, not negative
    assert completion.cost > 0 and dollars == pytest.approx(completion.cost) and tokens == completion.usage.total_tokens


def test_a_response_without_usage_is_estimated_not_free(llm_stub: StubServer, tmp_path: Path) -> None:
    llm_stub.queue(Reply(content="def add(a, b):\n    return a + b\n", usage=False))
    with LLMService(stub_config(llm_stub), tmp_path / "run.db") as service:
        completion = service.complete("solve", MESSAGES, job="j")
    assert completion.usage.input_tokens >= 10 and completion.usage.output_tokens >= 5
    assert completion.cost > 0
    assert completion.response["usage"]["prompt_tokens"] == completion.usage.input_tokens


def test_cached_tokens_beyond_the_prompt_cannot_make_a_negative_cost(llm_stub: StubServer, tmp_path: Path) -> None:
    llm_stub.queue(Reply(prompt_tokens=10, completion_tokens=1, cached_tokens=10_000_000))
    with LLMService(stub_config(llm_stub), tmp_path / "run.db") as service:
        completion = service.complete("solve", MESSAGES, job="j")
    assert completion.usage.cached_tokens <= completion.usage.input_tokens and completion.cost >= 0


def test_timeout_seconds_bounds_the_whole_call_of_a_drip_feeding_server(llm_stub: StubServer, tmp_path: Path) -> None:
    llm_stub.queue(Reply(drip_seconds=20))
    config = stub_config(llm_stub, llm={"timeout_seconds": 1.5, "retry": {"max_attempts": 1}})
    with LLMService(config, tmp_path / "run.db") as service:
        started = time.monotonic()
        with pytest.raises(UpstreamError, match="llm.timeout_seconds"):
            service.complete("solve", MESSAGES, job="j")
        elapsed = time.monotonic() - started
    assert elapsed < 10   # the drip would take 20 s; each byte arrives well within a read timeout


def _connect(gw: Gateway) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(str(gw.sandbox_mount()[0] / "gateway.sock"))
    return sock


def _post(sock: socket.socket, token: str) -> tuple[int, dict]:
    body = json.dumps({"messages": MESSAGES}).encode()
    sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token.encode()
                 + b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response.status, json.loads(response.read())


def test_idle_connections_are_bounded_and_the_excess_is_refused(llm_stub: StubServer, tmp_path: Path) -> None:
    config = stub_config(llm_stub, llm={"gateway_max_connections": 8, "gateway_connections_per_job": 2})
    threads_before = threading.active_count()
    with LLMService(config, tmp_path / "run.db") as service, Gateway(service) as gw:
        token = gw.register(JobGrant(job_key="flood", role="solve"))
        other = gw.register(JobGrant(job_key="other", role="solve"))
        idle = [_connect(gw) for _ in range(200)]     # a sandbox that opens connections and says nothing
        try:
            deadline = time.monotonic() + 10
            while gw.open_connections < 8 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert gw.open_connections == 8
            assert threading.active_count() - threads_before <= 8 + 4
            refused = idle[-1].recv(4096)
            assert b" 503 " in refused and b"too_many_connections" in refused
        finally:
            for sock in idle:
                sock.close()
        deadline = time.monotonic() + 10
        while gw.open_connections and time.monotonic() < deadline:
            time.sleep(0.05)
        # One job may hold only its share; another job is still served.
        first, second, third = _connect(gw), _connect(gw), _connect(gw)
        assert _post(first, token)[0] == 200 and _post(second, token)[0] == 200
        status, body = _post(third, token)
        assert status == 429 and body["error"]["type"] == "too_many_connections"
        assert _post(_connect(gw), other)[0] == 200
        for sock in (first, second, third):
            sock.close()
