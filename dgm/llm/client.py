"""One model call for a role: resolve the role's settings, call the backend, retry what is transient.

Retries use exponential backoff with jitter and honour the provider's Retry-After (up to
`llm.retry.max_delay`), but only for rate limits, 5xx, connection errors and timeouts; auth, bad
request and context-window errors surface at once as typed exceptions. Pricing happens here so
every answer leaves the client with its dollar cost.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from dgm import log
from dgm.config import LLMConfig
from dgm.llm.errors import ConnectionFailed, ModelUnreachable, TransientUpstreamError, UnknownPrice, UpstreamError
from dgm.llm.pricing import Pricer, unknown_price_message
from dgm.llm.roles import SCRIPTED, role_settings
from dgm.llm.types import ChatRequest, ModelReply

_log = log.get(__name__)


class Backend(Protocol):
    """Something that answers a chat request (litellm, the scripted model)."""

    def call(self, request: ChatRequest, job_key: str) -> ModelReply: ...


@dataclass(frozen=True)
class ClientAnswer:
    reply: ModelReply
    cost: float
    attempts: int


class LLMClient:
    def __init__(self, config: LLMConfig, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self._config = config
        self._pricer = Pricer(config.prices)
        self._sleep = sleep
        self._jitter = random.Random()
        self._lock = threading.Lock()
        self._backends: dict[str, Backend] = {}

    def request(self, role: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None,
                tool_choice: str | dict[str, Any] | None = None, max_tokens: int | None = None,
                temperature: float | None = None) -> ChatRequest:
        """The fully resolved request; a caller's max_tokens can lower the role's cap, never raise it."""
        settings = role_settings(self._config, role)
        return ChatRequest(
            role=role, model=settings.model, messages=messages, tools=tools or None, tool_choice=tool_choice,
            max_tokens=min(max_tokens, settings.max_tokens) if max_tokens else settings.max_tokens,
            temperature=settings.temperature if temperature is None else temperature,
        )

    def complete(self, request: ChatRequest, job_key: str) -> ClientAnswer:
        if not self._pricer.known(request.model):   # before spending money we could not account for
            raise UnknownPrice(unknown_price_message(request.model))
        backend = self._backend(request.model)
        retry = self._config.retry
        for attempt in range(1, retry.max_attempts + 1):
            try:
                reply = backend.call(request, job_key)
            except TransientUpstreamError as exc:
                if attempt == retry.max_attempts:
                    final = ModelUnreachable if isinstance(exc, ConnectionFailed) else UpstreamError
                    raise final(f"{exc} (gave up after {attempt} attempts)") from exc
                delay = self.backoff(attempt, exc.retry_after)
                _log.warning("llm call retry", job=job_key, model=request.model, attempt=attempt,
                             delay=round(delay, 3), error=str(exc))
                self._sleep(delay)
                continue
            return ClientAnswer(reply=reply, cost=self._pricer.cost(request.model, reply.usage), attempts=attempt)
        raise AssertionError("unreachable: the loop returns or raises")

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        """Exponential delay with equal jitter; the provider's Retry-After wins when longer."""
        retry = self._config.retry
        ceiling = min(retry.max_delay, retry.base_delay * 2 ** (attempt - 1))
        delay = ceiling / 2 + self._jitter.uniform(0, ceiling / 2)
        if retry_after is not None:
            delay = max(delay, min(retry_after, retry.max_delay))
        return delay

    def _backend(self, model: str) -> Backend:
        kind = "scripted" if model == SCRIPTED else "litellm"
        with self._lock:
            if kind not in self._backends:
                self._backends[kind] = self._make(kind)
            return self._backends[kind]

    def _make(self, kind: str) -> Backend:
        if kind == "scripted":
            from dgm.llm.scripted import ScriptedModel, load_script

            assert self._config.script is not None  # role_settings refuses 'scripted' without a script
            return ScriptedModel(load_script(self._config.script))
        from dgm.llm.litellm_backend import LiteLLMBackend

        return LiteLLMBackend(self._config.api_base, self._config.timeout_seconds)
