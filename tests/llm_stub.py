"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests.

Tests reach it through litellm with `api_base`, so litellm's real request path (HTTP client,
error mapping, usage parsing) runs. Each test queues behaviours (a reply, an HTTP error, a
delay); requests beyond the queue get the default reply. Every request body is kept so tests can
check what the provider actually received (model, tools, cache markers).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest


@dataclass
class Reply:
    content: str | None = "ok"
    tool_calls: list[dict[str, Any]] = field(default_factory=list)   # [{"name": ..., "arguments": {...}}]
    prompt_tokens: int = 100
    completion_tokens: int = 20
    cached_tokens: int = 0
    delay: float = 0.0
    usage: bool = True          # False: the response has no usage object at all
    drip_seconds: float = 0.0   # send the body a byte at a time, spread over this long


@dataclass
class Failure:
    status: int
    message: str = "stub failure"
    code: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class StubServer:
    def __init__(self) -> None:
        self._queue: deque[Reply | Failure] = deque()
        self._lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.default = Reply()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def api_base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def queue(self, *behaviours: Reply | Failure) -> None:
        with self._lock:
            self._queue.extend(behaviours)

    def start(self) -> "StubServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self, body: dict[str, Any]) -> Reply | Failure:
        with self._lock:
            self.requests.append(body)
            return self._queue.popleft() if self._queue else self.default

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                body["_authorization"] = self.headers.get("Authorization")
                behaviour = stub._next(body)
                if isinstance(behaviour, Failure):
                    error = {"message": behaviour.message, "type": "stub_error", "code": behaviour.code}
                    self._send(behaviour.status, {"error": error}, behaviour.headers)
                    return
                if behaviour.delay:
                    time.sleep(behaviour.delay)
                self._send(200, _completion(body, behaviour), {}, behaviour.drip_seconds)

            def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str],
                      drip: float = 0.0) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    if not drip:
                        self.wfile.write(data)
                        return
                    for i in range(len(data)):   # a hostile server: always something, never done
                        self.wfile.write(data[i:i + 1])
                        self.wfile.flush()
                        time.sleep(drip / len(data))
                except OSError:
                    pass   # the client gave up (a timeout test)

        return Handler


def _completion(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.content}
    if reply.tool_calls:
        message["tool_calls"] = [
            {"id": f"call_{i}", "type": "function",
             "function": {"name": call["name"], "arguments": json.dumps(call["arguments"])}}
            for i, call in enumerate(reply.tool_calls)
        ]
    usage: dict[str, Any] = {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
        "total_tokens": reply.prompt_tokens + reply.completion_tokens,
    }
    if reply.cached_tokens:
        usage["prompt_tokens_details"] = {"cached_tokens": reply.cached_tokens}
    answer = {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": 1700000000,
        "model": body.get("model", "stub-model"),
        "choices": [{"index": 0, "message": message,
                     "finish_reason": "tool_calls" if reply.tool_calls else "stop"}],
        "usage": usage,
    }
    if not reply.usage:
        del answer["usage"]
    return answer


@pytest.fixture
def llm_stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[StubServer]:
    """A running stub; the host has a (fake) OpenAI key, as a real run would."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-stub-host-only")
    server = StubServer().start()
    try:
        yield server
    finally:
        server.stop()


STUB_MODEL = "openai/stub-model"
INPUT_PER_MTOK = 2.0
OUTPUT_PER_MTOK = 10.0
CACHED_PER_MTOK = 0.5


def stub_config(stub: StubServer, llm: dict[str, Any] | None = None, budget: dict[str, Any] | None = None):
    """A run config that reaches the stub through litellm, priced, with tiny retry delays."""
    from dgm.config import Config

    data = {
        "model": STUB_MODEL,
        "api_base": stub.api_base,
        "timeout_seconds": 5,
        "prices": {STUB_MODEL: {"input_per_mtok": INPUT_PER_MTOK, "output_per_mtok": OUTPUT_PER_MTOK,
                                "cached_input_per_mtok": CACHED_PER_MTOK}},
        "retry": {"max_attempts": 3, "base_delay": 0.001, "max_delay": 1.0},
    }
    data.update(llm or {})
    return Config.model_validate({"llm": data, "budget": budget or {}})
