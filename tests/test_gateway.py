"""The gateway over its unix socket from the host: the protocol, hostile requests, concurrency."""

from __future__ import annotations

import http.client
import importlib.util
import json
import os
import socket
import stat
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

import pytest
from llm_stub import StubServer, llm_stub, stub_config  # noqa: F401  (llm_stub is a fixture)

from dgm.config import JobBudget
from dgm.llm import Gateway, JobGrant, LLMService
from dgm.llm.cassette import Cassette

REPO = Path(__file__).resolve().parents[1]
HELLO = [{"role": "user", "content": "hello"}]


def _seed_client() -> ModuleType:
    spec = importlib.util.spec_from_file_location("seed_llm", REPO / "agents" / "seed_agent" / "llm.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def gateway(llm_stub: StubServer, tmp_path: Path) -> Iterator[Gateway]:
    config = stub_config(llm_stub, budget={"per_job": {"max_calls": 50}})
    with LLMService(config, tmp_path / "run.db") as service, Gateway(service) as gw:
        yield gw


def _socket_path(gw: Gateway) -> str:
    return str(gw.sandbox_mount()[0] / "gateway.sock")


class _Unix(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=10)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def _request(gw: Gateway, method: str, path: str, body: bytes | None, token: str | None) -> tuple[int, dict]:
    conn = _Unix(_socket_path(gw))
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    payload = json.loads(response.read())
    conn.close()
    return response.status, payload


def _post(gw: Gateway, body: Any, token: str | None) -> tuple[int, dict]:
    return _request(gw, "POST", "/v1/chat/completions", json.dumps(body).encode(), token)


def test_seed_client_gets_an_answer_and_the_call_is_recorded(gateway: Gateway, monkeypatch: pytest.MonkeyPatch,
                                                             tmp_path: Path) -> None:
    token = gateway.register(JobGrant(job_key="solve/t1", role="solve", run="r", agent="a1"))
    env = gateway.sandbox_env(token)
    assert env == {"DGM_LLM_SOCKET": "/run/dgm-llm/gateway.sock", "DGM_LLM_TOKEN": token}
    monkeypatch.setenv("DGM_LLM_SOCKET", _socket_path(gateway))
    monkeypatch.setenv("DGM_LLM_TOKEN", token)
    answer = _seed_client().chat(HELLO, max_tokens=64, temperature=0.5)
    assert answer["choices"][0]["message"]["content"] == "ok"
    assert answer["usage"]["total_tokens"] == 120
    record = Cassette(tmp_path / "run.db").lookup("solve/t1", 0)
    assert record is not None and (record.run, record.agent, record.role) == ("r", "a1", "solve")
    assert json.loads(record.request)["max_tokens"] == 64


def test_socket_directory_is_mountable_but_not_writable_by_the_sandbox_user(gateway: Gateway) -> None:
    host_dir, container_dir = gateway.sandbox_mount()
    assert container_dir == "/run/dgm-llm"
    assert stat.S_IMODE(host_dir.stat().st_mode) == 0o755
    sock = host_dir / "gateway.sock"
    assert stat.S_ISSOCK(sock.stat().st_mode) and stat.S_IMODE(sock.stat().st_mode) == 0o777


def test_tokens_unknown_revoked_or_expired_get_401(gateway: Gateway) -> None:
    assert _post(gateway, {"messages": HELLO}, None)[0] == 401
    status, body = _post(gateway, {"messages": HELLO}, "not-a-token")
    assert status == 401 and body["error"]["type"] == "invalid_token"
    token = gateway.register(JobGrant(job_key="j", role="solve"))
    assert _post(gateway, {"messages": HELLO}, token)[0] == 200
    gateway.revoke(token)
    assert _post(gateway, {"messages": HELLO}, token)[0] == 401
    expired = gateway.register(JobGrant(job_key="k", role="solve", expires_at=time.time() - 1))
    assert _post(gateway, {"messages": HELLO}, expired)[0] == 401


def test_job_past_its_limit_gets_budget_exceeded(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    token = gateway.register(JobGrant(job_key="capped", role="solve", limits=JobBudget(max_calls=1)))
    assert _post(gateway, {"messages": HELLO}, token)[0] == 200
    status, body = _post(gateway, {"messages": HELLO}, token)
    assert status == 402 and body["error"]["type"] == "budget_exceeded"
    monkeypatch.setenv("DGM_LLM_SOCKET", _socket_path(gateway))
    monkeypatch.setenv("DGM_LLM_TOKEN", token)
    client = _seed_client()
    with pytest.raises(client.BudgetExceeded):
        client.chat(HELLO)


def test_hostile_requests_get_4xx_and_the_gateway_keeps_serving(gateway: Gateway, llm_stub: StubServer) -> None:
    token = gateway.register(JobGrant(job_key="evil", role="solve"))
    checks = [
        (_request(gateway, "POST", "/v1/chat/completions", b"{not json", token), 400, "bad_request"),
        (_request(gateway, "POST", "/v1/chat/completions", b'"a string"', token), 400, "bad_request"),
        (_post(gateway, {"messages": []}, token), 400, "bad_request"),
        (_post(gateway, {"messages": HELLO, "max_tokens": "many"}, token), 400, "bad_request"),
        (_post(gateway, {"messages": HELLO, "temperature": 9}, token), 400, "bad_request"),
        (_request(gateway, "GET", "/v1/models", None, token), 404, "not_found"),
        (_request(gateway, "POST", "/admin/shutdown", b"{}", token), 404, "not_found"),
        (_request(gateway, "GET", "/v1/chat/completions", None, token), 405, "bad_request"),
    ]
    for (status, body), expected, kind in checks:
        assert (status, body["error"]["type"]) == (expected, kind)
    assert llm_stub.requests == []
    # A request naming its own model, endpoint and key is served by the run's model, at the run's endpoint.
    status, body = _post(gateway, {"messages": HELLO, "model": "gpt-4o", "api_base": "http://203.0.113.1/v1",
                                   "api_key": "sk-agent", "extra_body": {"x": 1}, "base_url": "http://x"}, token)
    assert status == 200 and body["choices"][0]["message"]["content"] == "ok"
    sent = llm_stub.requests[-1]
    assert sent["model"] == "stub-model" and sent["_authorization"] == "Bearer sk-stub-host-only"
    assert "x" not in sent and "api_base" not in sent


def _read_until_closed(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_oversized_body_gets_413_without_being_read(gateway: Gateway) -> None:
    token = gateway.register(JobGrant(job_key="big", role="solve"))
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(_socket_path(gateway))
        sock.sendall((f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
                      f"Content-Length: {50 * 1024 * 1024}\r\n\r\n").encode() + b"x" * 65536)
        head = _read_until_closed(sock).decode()
    assert head.startswith("HTTP/1.1 413") and '"too_large"' in head
    # A client that promises a body and hangs up halfway costs only its own connection.
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(_socket_path(gateway))
        sock.sendall((f"POST /v1/chat/completions HTTP/1.1\r\nAuthorization: Bearer {token}\r\n"
                      "Content-Length: 1000\r\n\r\n{\"messages\": [").encode())
    assert _post(gateway, {"messages": HELLO}, token)[0] == 200


def test_agent_sending_50_mb_gets_413_and_others_are_still_served(gateway: Gateway,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    token = gateway.register(JobGrant(job_key="big", role="solve"))
    monkeypatch.setenv("DGM_LLM_SOCKET", _socket_path(gateway))
    monkeypatch.setenv("DGM_LLM_TOKEN", token)
    client = _seed_client()
    with pytest.raises(client.LLMError) as err:
        client.chat([{"role": "user", "content": "x" * (50 * 1024 * 1024)}])
    assert (err.value.status, err.value.kind) == (413, "too_large")
    assert _post(gateway, {"messages": HELLO}, token)[0] == 200
    assert gateway.service.budget.spent.calls == 1


def test_many_concurrent_jobs_are_served(gateway: Gateway, llm_stub: StubServer) -> None:
    from llm_stub import Reply

    llm_stub.default = Reply(delay=0.05)
    tokens = [gateway.register(JobGrant(job_key=f"job/{i}", role="solve")) for i in range(16)]
    results: list[int] = []
    lock = threading.Lock()

    def worker(token: str) -> None:
        for _ in range(3):
            status, _ = _post(gateway, {"messages": HELLO}, token)
            with lock:
                results.append(status)

    pool = [threading.Thread(target=worker, args=(t,)) for t in tokens]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert results == [200] * 48
    assert gateway.service.budget.spent.calls == 48


def test_stop_removes_the_socket_directory(llm_stub: StubServer, tmp_path: Path) -> None:
    with LLMService(stub_config(llm_stub), tmp_path / "run.db") as service:
        gw = Gateway(service).start()
        host_dir, _ = gw.sandbox_mount()
        assert os.path.exists(host_dir / "gateway.sock")
        gw.stop()
        assert not host_dir.exists()
