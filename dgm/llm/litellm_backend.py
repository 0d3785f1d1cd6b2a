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
import json
import re
import socket
import threading
import time
from typing import Any

from dgm import log
from dgm.llm.errors import (AuthenticationFailed, BadRequest, ConnectionFailed, ContextWindowExceeded, LLMCallError,
                            MissingCredential, TransientUpstreamError, UpstreamError)
from dgm.llm.types import ChatRequest, ModelReply, Usage

_EPHEMERAL = {"type": "ephemeral"}
_log = log.get(__name__)


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
        response = self._bounded(litellm.completion, kwargs)
        usage, anomalies = checked_usage(response, request)
        if anomalies:
            _log.warning("llm usage anomaly", job=job_key, model=request.model, anomalies=anomalies,
                         input_tokens=usage.input_tokens, output_tokens=usage.output_tokens)
        return ModelReply(response=normalise(response, usage), usage=usage)


    def _bounded(self, completion: Any, kwargs: dict[str, Any]) -> Any:
        """litellm's `timeout` bounds each read, so a server that drip-feeds its answer is bounded
        only by its own pace; here the whole call is bounded by `llm.timeout_seconds`. A call past
        it is abandoned (its thread ends at the next read timeout) and reported as a timeout."""
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                box["response"] = completion(**kwargs)
            except Exception as exc:  # noqa: BLE001 - handed to the caller's thread
                box["error"] = exc

        worker = threading.Thread(target=work, name="dgm-llm-call", daemon=True)
        worker.start()
        worker.join(self._timeout)
        if worker.is_alive():
            raise TransientUpstreamError(f"Timeout: no complete answer within llm.timeout_seconds "
                                         f"({self._timeout:g} s)")
        if "error" in box:
            raise translate(box["error"]) from box["error"]
        return box["response"]


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


def normalise(response: Any, usage: Usage) -> dict[str, Any]:
    choice = response.choices[0]
    message: dict[str, Any] = {"role": "assistant", "content": choice.message.content}
    if choice.message.tool_calls:
        message["tool_calls"] = [
            {"id": call.id, "type": "function",
             "function": {"name": call.function.name, "arguments": call.function.arguments}}
            for call in choice.message.tool_calls
        ]
    return {
        "id": response.id,
        "object": "chat.completion",
        "created": response.created,
        "model": response.model,
        "choices": [{"index": 0, "message": message, "finish_reason": choice.finish_reason}],
        "usage": usage.openai_dict(),
    }


def _count(value: Any, name: str, anomalies: list[str]) -> int:
    """A token count as the server reported it, clamped to a non-negative int (anomalies noted)."""
    if value is None:
        return 0
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        anomalies.append(f"{name} is not a number ({str(value)[:40]!r})")
        return 0
    if number < 0:
        anomalies.append(f"{name} is negative ({number})")
        return 0
    return number


def checked_usage(response: Any, request: ChatRequest) -> tuple[Usage, list[str]]:
    """The call's usage, never trusted blindly: the server's numbers drive the budget.

    Negative or non-numeric counts are clamped to 0; cached tokens cannot exceed the prompt; when
    the server reports no prompt or no completion tokens for a call that had them, litellm's
    tokenizer estimates them, so a server that omits usage cannot make calls free.
    """
    anomalies: list[str] = []
    raw = getattr(response, "usage", None)
    details = getattr(raw, "prompt_tokens_details", None) if raw is not None else None
    cached_raw = (getattr(details, "cached_tokens", None) if details else None) \
        or (getattr(raw, "cache_read_input_tokens", None) if raw is not None else None)
    prompt = _count(getattr(raw, "prompt_tokens", None), "prompt_tokens", anomalies)
    completion = _count(getattr(raw, "completion_tokens", None), "completion_tokens", anomalies)
    cached = _count(cached_raw, "cached_tokens", anomalies)
    cache_write = _count(getattr(raw, "cache_creation_input_tokens", None) if raw is not None else None,
                         "cache_creation_input_tokens", anomalies)
    if prompt == 0:
        prompt = estimate_prompt_tokens(request)
        anomalies.append(f"no prompt token count: estimated {prompt}")
    if completion == 0:
        completion = estimate_completion_tokens(request.model, response)
        if completion:
            anomalies.append(f"no completion token count: estimated {completion}")
    if cached > prompt:
        anomalies.append(f"cached_tokens {cached} > prompt tokens {prompt}")
        cached = prompt
    return Usage(input_tokens=prompt, output_tokens=completion, cached_tokens=cached,
                 cache_write_tokens=cache_write), anomalies


def estimate_prompt_tokens(request: ChatRequest) -> int:
    import litellm

    try:
        return int(litellm.token_counter(model=request.model, messages=request.messages))
    except Exception:  # a tokenizer that cannot read the messages: count characters instead
        return max(1, len(json.dumps(request.messages, default=str)) // 4)


def estimate_completion_tokens(model: str, response: Any) -> int:
    import litellm

    try:
        message = response.choices[0].message
        text = (message.content or "") + "".join(
            (call.function.name or "") + (call.function.arguments or "") for call in (message.tool_calls or []))
    except (AttributeError, IndexError, TypeError):
        return 0
    if not text:
        return 0
    try:
        return int(litellm.token_counter(model=model, text=text))
    except Exception:
        return max(1, len(text) // 4)


# litellm reports a missing key differently per provider (InternalServerError for OpenAI,
# AuthenticationError for Anthropic, APIConnectionError for Gemini); only the wording is common.
_MISSING_KEY = re.compile(r"missing credentials|missing [\w ]{0,40}api[ _-]?key|api_key client option must be set"
                          r"|no api[ _-]?key", re.IGNORECASE)


def translate(exc: Exception) -> LLMCallError:
    """litellm exception -> typed error; only rate limits, 5xx, connection errors and timeouts are
    transient. A missing key and a server that cannot be connected to are told apart from other
    errors (litellm wraps both in whatever class its provider code raises): the first is never
    retried, the second is retried and then ends the run (`ModelUnreachable`)."""
    import litellm

    text = f"{type(exc).__name__}: {_first_line(exc)}"
    if _MISSING_KEY.search(str(exc)):
        return MissingCredential(text)
    if isinstance(exc, litellm.ContextWindowExceededError):
        return ContextWindowExceeded(text)
    if isinstance(exc, (litellm.AuthenticationError, litellm.PermissionDeniedError)):
        return AuthenticationFailed(text)
    if not isinstance(exc, litellm.Timeout) and _cannot_connect(exc):
        return ConnectionFailed(text, retry_after(exc))
    if isinstance(exc, (litellm.RateLimitError, litellm.Timeout, litellm.APIConnectionError)):
        return TransientUpstreamError(text, retry_after(exc))
    if isinstance(exc, (litellm.BadRequestError, litellm.NotFoundError, litellm.UnprocessableEntityError)):
        return BadRequest(text)
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and status >= 500:
        return TransientUpstreamError(text, retry_after(exc))
    return UpstreamError(text)


def _cannot_connect(exc: BaseException) -> bool:
    """No connection could be made (refused, no such host): somewhere in the exception's causes."""
    import httpx

    seen = 0
    cause: BaseException | None = exc
    while cause is not None and seen < 10:
        if isinstance(cause, (httpx.ConnectError, ConnectionRefusedError, socket.gaierror)):
            return True
        cause, seen = cause.__cause__ or cause.__context__, seen + 1
    return False


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
