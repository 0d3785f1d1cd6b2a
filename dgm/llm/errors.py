"""Typed failures of a model call.

Each error carries the gateway's wire form (`kind`, HTTP `status`) so the gateway maps any of them
to the error body of the shared protocol without a table of special cases, and so the cassette can
record a failed call and replay raises the same type again.
"""

from __future__ import annotations

from dgm.errors import ConfigError, DgmError


class LLMCallError(DgmError):
    """A model call did not produce an answer."""

    kind = "upstream_error"
    status = 502


class UpstreamError(LLMCallError):
    """The provider failed in a way retrying did not fix (or should not fix)."""


class TransientUpstreamError(UpstreamError):
    """Rate limit, 5xx, connection error or timeout: worth retrying, after `retry_after` if given."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuthenticationFailed(UpstreamError):
    """The provider rejected the host's credentials; retrying cannot help, the run should stop."""


class ScriptMismatch(UpstreamError):
    """The scripted model has no rule left that answers this request."""


class BadRequest(LLMCallError):
    kind = "bad_request"
    status = 400


class ContextWindowExceeded(BadRequest):
    """The conversation no longer fits the model's context window."""

    kind = "context_window"


class BudgetExceeded(LLMCallError):
    """A run or job cap is reached; the call was refused before it started."""

    kind = "budget_exceeded"
    status = 402


class ReplayDivergence(LLMCallError):
    """Replay met a request that differs from the recording (or goes beyond it)."""

    kind = "replay_divergence"
    status = 409

    def __init__(self, job_key: str, seq: int, recorded_hash: str | None, request_hash: str) -> None:
        recorded = recorded_hash or "nothing recorded"
        super().__init__(f"replay diverged: job {job_key!r} call #{seq} has request hash {request_hash}, "
                         f"the recording has {recorded}")
        self.job_key = job_key
        self.seq = seq
        self.recorded_hash = recorded_hash
        self.request_hash = request_hash


class UnknownPrice(ConfigError):
    """A configured model has no price in litellm's cost map and none in llm.prices."""


# Errors a recorded call can end with; replay re-raises them by name.
RECORDABLE: dict[str, type[LLMCallError]] = {
    cls.__name__: cls
    for cls in (UpstreamError, AuthenticationFailed, ScriptMismatch, BadRequest, ContextWindowExceeded)
}
