"""The data that flows through the LLM layer: a resolved request, its usage and its answer."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any, Literal

from dgm.config import JobBudget

Role = Literal["diagnose", "self_improve", "solve", "meta"]


@dataclass(frozen=True)
class ChatRequest:
    """A call with every setting resolved from the run's config; what the cassette hashes."""

    role: str
    model: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None
    tool_choice: str | dict[str, Any] | None
    max_tokens: int
    temperature: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def canonical_json(self) -> str:
        """Key order, whitespace and unicode escaping fixed, so equal requests give equal text."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def digest(self) -> str:
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0        # all prompt tokens, cached ones included
    output_tokens: int = 0
    cached_tokens: int = 0       # prompt tokens read from the provider's cache (cheaper)
    cache_write_tokens: int = 0  # prompt tokens written to the cache (Anthropic bills them higher)

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def openai_dict(self) -> dict[str, Any]:
        return {"prompt_tokens": self.input_tokens, "completion_tokens": self.output_tokens,
                "total_tokens": self.total_tokens,
                "prompt_tokens_details": {"cached_tokens": self.cached_tokens}}


@dataclass(frozen=True)
class ModelReply:
    """What a backend returns: an OpenAI-shaped chat-completion object and its usage."""

    response: dict[str, Any]
    usage: Usage


@dataclass(frozen=True)
class Completion:
    """One answered call as the caller sees it, live or replayed."""

    job_key: str
    seq: int
    model: str
    response: dict[str, Any]
    usage: Usage
    cost: float          # dollars
    latency: float       # seconds, including retries
    attempts: int

    @property
    def message(self) -> dict[str, Any]:
        return self.response["choices"][0]["message"]

    @property
    def text(self) -> str:
        return self.message.get("content") or ""


@dataclass(frozen=True)
class JobGrant:
    """What a job may do with the model: who it is, which role it plays, and its caps.

    `limits=None` means the run's `budget.per_job`; `expires_at` (epoch seconds) makes the
    gateway refuse the token after that time even if nobody revoked it.
    """

    job_key: str
    role: Role
    run: str = ""
    agent: str = ""
    limits: JobBudget | None = None
    expires_at: float | None = None
