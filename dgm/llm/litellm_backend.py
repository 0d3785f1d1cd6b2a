"""Real models through litellm: any provider string, an OpenAI-compatible `api_base`, Ollama.

This module owns everything provider-specific: turning litellm's exceptions into our typed errors
(transient or not), reading Retry-After, normalising the answer to a plain OpenAI-shaped dict (so
the cassette stores the same shape for every provider), and Anthropic cache breakpoints.
litellm's own retries are switched off (`max_retries=0`): the client alone decides, so a call is
never retried twice over.
"""

from __future__ import annotations

import copy
import email.utils
import time
from typing import Any

from dgm.llm.errors import (AuthenticationFailed, BadRequest, ContextWindowExceeded, LLMCallError,
                            TransientUpstreamError, UpstreamError)
from dgm.llm.types import ChatRequest, ModelReply, Usage

_EPHEMERAL = {"type": "ephemeral"}


class LiteLLMBackend:
    def __init__(self, api_base: str | None, timeout: float) -> None:
        self._api_base = api_base
        self._timeout = timeout

    def call(self, request: ChatRequest, job_key: str) -> ModelReply:
        import litellm

        litellm.suppress_debug_info = True
        messages = request.messages
        if wants_cache_markers(request.model):
            messages = with_cache_markers(messages)
        kwargs: dict[str, Any] = {
            "model": request.model, "messages": messages, "max_tokens": request.max_tokens,
            "temperature": request.temperature, "timeout": self._timeout, "max_retries": 0,
        }
        if self._api_base:
            kwargs["api_base"] = self._api_base
        if request.tools:
            kwargs["tools"] = request.tools
        if request.tool_choice is not None:
            kwargs["tool_choice"] = request.tool_choice
        try:
            response = litellm.completion(**kwargs)
        except Exception as exc:
            raise translate(exc) from exc
        return ModelReply(response=normalise(response), usage=usage_of(response))


def wants_cache_markers(model: str) -> bool:
    """Anthropic bills a cached prefix at a tenth of the price, but only where the caller marks it."""
    lowered = model.lower()
    return lowered.startswith("anthropic/") or "claude" in lowered


def with_cache_markers(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copy of `messages` with breakpoints on the system prompt and the last message.

    An agent's conversation only grows, so the previous call's last message is a prefix of this
    call: marking the end of every request makes each call pay full price only for what is new.
    """
    marked = copy.deepcopy(messages)
    targets = {i for i, m in enumerate(marked) if m.get("role") == "system"}
    if marked:
        targets.add(len(marked) - 1)
    for index in sorted(targets)[-4:]:   # Anthropic accepts at most four breakpoints
        _mark(marked[index])
    return marked


def _mark(message: dict[str, Any]) -> None:
    content = message.get("content")
    if isinstance(content, str) and content:
        message["content"] = [{"type": "text", "text": content, "cache_control": dict(_EPHEMERAL)}]
    elif isinstance(content, list) and content and isinstance(content[-1], dict):
        content[-1]["cache_control"] = dict(_EPHEMERAL)


def normalise(response: Any) -> dict[str, Any]:
    choice = response.choices[0]
    message: dict[str, Any] = {"role": "assistant", "content": choice.message.content}
    if choice.message.tool_calls:
        message["tool_calls"] = [
            {"id": call.id, "type": "function",
             "function": {"name": call.function.name, "arguments": call.function.arguments}}
            for call in choice.message.tool_calls
        ]
    usage = usage_of(response)
    return {
        "id": response.id,
        "object": "chat.completion",
        "created": response.created,
        "model": response.model,
        "choices": [{"index": 0, "message": message, "finish_reason": choice.finish_reason}],
        "usage": usage.openai_dict(),
    }


def usage_of(response: Any) -> Usage:
    raw = getattr(response, "usage", None)
    if raw is None:
        return Usage()
    details = getattr(raw, "prompt_tokens_details", None)
    cached = (getattr(details, "cached_tokens", None) if details else None) \
        or getattr(raw, "cache_read_input_tokens", None) or 0
    return Usage(input_tokens=int(raw.prompt_tokens or 0), output_tokens=int(raw.completion_tokens or 0),
                 cached_tokens=int(cached), cache_write_tokens=int(getattr(raw, "cache_creation_input_tokens", 0) or 0))


def translate(exc: Exception) -> LLMCallError:
    """litellm exception -> typed error; only rate limits, 5xx, connection errors and timeouts are transient."""
    import litellm

    text = f"{type(exc).__name__}: {_first_line(exc)}"
    if isinstance(exc, litellm.ContextWindowExceededError):
        return ContextWindowExceeded(text)
    if isinstance(exc, (litellm.AuthenticationError, litellm.PermissionDeniedError)):
        return AuthenticationFailed(text)
    if isinstance(exc, (litellm.RateLimitError, litellm.Timeout, litellm.APIConnectionError)):
        return TransientUpstreamError(text, retry_after(exc))
    if isinstance(exc, (litellm.BadRequestError, litellm.NotFoundError, litellm.UnprocessableEntityError)):
        return BadRequest(text)
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and status >= 500:
        return TransientUpstreamError(text, retry_after(exc))
    return UpstreamError(text)


def retry_after(exc: Exception) -> float | None:
    """Seconds the provider asked us to wait (Retry-After, retry-after-ms), if it said."""
    headers = getattr(getattr(exc, "response", None), "headers", None)
    if not headers:
        return None
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:500] if text else ""
