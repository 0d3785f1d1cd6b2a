"""Talk to the model through the DGM gateway: HTTP over a unix socket, stdlib only.

The sandbox has no network and no API key. The framework mounts a unix socket and sets
DGM_LLM_SOCKET (its path) and DGM_LLM_TOKEN (this job's token). The gateway speaks the OpenAI
chat-completions subset: POST /v1/chat/completions with messages, tools, tool_choice,
max_tokens, temperature; the answer is an OpenAI chat-completion object.

Errors come back as {"error": {"type": ..., "message": ...}} with an HTTP status. A budget error
(type "budget_exceeded") means: stop working, there is no more money for this job.
"""

from __future__ import annotations

import http.client
import json
import os
import socket


class LLMError(Exception):
    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(f"{kind} (HTTP {status}): {message}")
        self.status = status
        self.kind = kind
        self.message = message


class BudgetExceeded(LLMError):
    """The job or the run has no budget left; the agent should end its run."""


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def chat(messages: list[dict], tools: list[dict] | None = None, tool_choice: str | None = None,
         max_tokens: int | None = None, temperature: float | None = None,
         timeout: float = 900.0) -> dict:
    """One chat completion; returns the OpenAI-style response object (choices, usage)."""
    socket_path = os.environ.get("DGM_LLM_SOCKET")
    token = os.environ.get("DGM_LLM_TOKEN")
    if not socket_path or not token:
        raise LLMError(0, "no_gateway", "DGM_LLM_SOCKET and DGM_LLM_TOKEN must be set to reach a model")
    body: dict = {"messages": messages}
    if tools:
        body["tools"] = tools
    if tool_choice:
        body["tool_choice"] = tool_choice
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    if temperature is not None:
        body["temperature"] = temperature
    conn = _UnixConnection(socket_path, timeout)
    try:
        conn.request("POST", "/v1/chat/completions", body=json.dumps(body),
                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        raw = response.read()
    except OSError as exc:
        raise LLMError(0, "gateway_unreachable", str(exc)) from exc
    finally:
        conn.close()
    try:
        payload = json.loads(raw or b"{}")
    except ValueError:
        payload = {"error": {"type": "bad_response", "message": raw[:200].decode("utf-8", "replace")}}
    if response.status == 200 and "error" not in payload:
        return payload
    error = payload.get("error") or {}
    kind = error.get("type", "error")
    cls = BudgetExceeded if kind == "budget_exceeded" else LLMError
    raise cls(response.status, kind, error.get("message", ""))
