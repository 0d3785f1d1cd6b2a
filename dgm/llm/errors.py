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


class ConnectionFailed(TransientUpstreamError):
    """The server could not be reached (refused, reset, name not found): retried, then `ModelUnreachable`."""


class ModelUnreachable(UpstreamError):
    """Every attempt of a call failed to reach the server: it is down or llm.api_base is wrong."""


class AuthenticationFailed(UpstreamError):
    """The provider rejected the host's credentials; retrying cannot help, the run should stop."""


class MissingCredential(AuthenticationFailed):
    """No API key (or other credential) for the provider is set on the host. Never retried: it is
    the environment, not the server, that is wrong."""


class ScriptMismatch(UpstreamError):
    """The scripted model has no rule left that answers this request."""


class BadRequest(LLMCallError):
    kind = "bad_request"
    status = 400


class ContextWindowExceeded(BadRequest):
    """The conversation no longer fits the model's context window."""

    kind = "context_window"


class RunHalted(LLMCallError):
    """A call refused for a reason of the whole run, never of the job that made it: the run stops
    (the work under way stays unfinished, not recorded) and a resume redoes it once the cause is
    gone. Host-side steps re-raise it instead of recording a failed child or policy."""


class BudgetExceeded(RunHalted):
    """A run or job cap is reached; the call was refused before it started."""

    kind = "budget_exceeded"
    status = 402


class ModelUnavailable(RunHalted):
    """The run's model cannot be used: a credential is missing or rejected, the server cannot be
    reached, or no model is configured. `LLMService` remembers the first such failure and refuses
    every later call with it without trying; a run stops with this reason (resumable once fixed)
    and `dgm eval` ends with exit 2."""

    kind = "model_unavailable"
    status = 503


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
    for cls in (UpstreamError, ModelUnreachable, AuthenticationFailed, MissingCredential, ScriptMismatch,
                BadRequest, ContextWindowExceeded)
}

# Failures every later call of the run would repeat: the first one makes the model unavailable.
MAKES_UNAVAILABLE: tuple[type[LLMCallError], ...] = (AuthenticationFailed, ModelUnreachable)
UNUSABLE = frozenset(name for name, cls in RECORDABLE.items() if issubclass(cls, MAKES_UNAVAILABLE))
