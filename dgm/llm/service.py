"""The one entry point of the LLM layer: client + budget + cassette, live or replayed.

Host-side calls (diagnosis by the loop) use `LLMService.complete` directly with a job key; the
gateway calls the same method for sandboxed agents. Every call is metered against the run's and
the job's caps before it starts and recorded when it ends. In replay mode no model is called: the
n-th call of a job gets the recorded n-th answer, and a request that differs from the recording
raises `ReplayDivergence` (also kept in `divergences` so a replay can report them all).

A failure that every later call would repeat (a missing or rejected credential, a server that
cannot be reached, no model configured for the role) is kept in `unavailable`: later calls are
refused with it at once (`ModelUnavailable`), and the loop and `dgm eval` stop on it instead of
recording worthless results.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Literal

from dgm import log
from dgm.config import Config
from dgm.llm.budget import Budget
from dgm.llm.cassette import Cassette, CallRecord
from dgm.llm.client import LLMClient
from dgm.errors import ConfigError
from dgm.llm.errors import RECORDABLE, MAKES_UNAVAILABLE, LLMCallError, ModelUnavailable, ReplayDivergence
from dgm.llm.roles import describe, role_settings
from dgm.llm.types import ChatRequest, Completion, JobGrant, Usage

_log = log.get(__name__)

Mode = Literal["live", "replay"]


class LLMService:
    def __init__(self, config: Config, db_path: Path, mode: Mode = "live", *, client: LLMClient | None = None) -> None:
        if mode not in ("live", "replay"):
            raise ValueError(f"mode must be 'live' or 'replay', not {mode!r}")
        self.mode = mode
        self._config = config
        self._client = client or LLMClient(config.llm)
        self._cassette = Cassette(Path(db_path))
        self.budget = Budget(config.budget)
        if mode == "live":
            self.budget.restore(*self._cassette.spend())
        self._lock = threading.Lock()
        self._next_seq: dict[str, int] = {}
        self.divergences: list[ReplayDivergence] = []
        self.unavailable: ModelUnavailable | None = None
        _log.info("llm layer ready", mode=mode, model=describe(config.llm.model or "(per role)"))

    @property
    def config(self) -> Config:
        return self._config

    def model_label(self, role: str) -> str:
        """The model a role uses, as shown to people (the double is always named as such)."""
        return describe(role_settings(self._config.llm, role).model)

    def complete(self, role: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None,
                 tool_choice: str | dict[str, Any] | None = None, *, job: JobGrant | str,
                 max_tokens: int | None = None, temperature: float | None = None) -> Completion:
        grant = job if isinstance(job, JobGrant) else JobGrant(job_key=job, role=role)  # type: ignore[arg-type]
        if self.unavailable is not None:
            raise ModelUnavailable(str(self.unavailable))
        try:
            request = self._client.request(role, messages, tools, tool_choice, max_tokens, temperature)
        except ConfigError as exc:   # e.g. no model for the role: every call of the run would fail alike
            raise self.mark_unavailable(str(exc)) from None
        ticket = self.budget.reserve(grant.job_key, grant.limits)
        tokens, dollars = 0, 0.0
        try:
            seq = self._take_seq(grant.job_key)
            if self.mode == "replay":
                completion = self._replay(request, grant, seq)
            else:
                completion = self._live(request, grant, seq)
            tokens, dollars = completion.usage.total_tokens, completion.cost
            return completion
        except MAKES_UNAVAILABLE as exc:
            self.mark_unavailable(f"{type(exc).__name__}: {exc}")
            raise
        finally:
            self.budget.settle(ticket, tokens, dollars)

    def mark_unavailable(self, reason: str) -> ModelUnavailable:
        """Refuse every later call with `reason` (the first reason wins); returns the error."""
        with self._lock:
            if self.unavailable is None:
                self.unavailable = ModelUnavailable(f"the model cannot be used: {reason}")
                _log.error("llm unavailable", reason=reason)
            return self.unavailable

    def close(self) -> None:
        self._cassette.close()

    def __enter__(self) -> "LLMService":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _take_seq(self, job_key: str) -> int:
        with self._lock:
            if job_key not in self._next_seq:
                self._next_seq[job_key] = self._cassette.next_seq(job_key) if self.mode == "live" else 0
            seq = self._next_seq[job_key]
            self._next_seq[job_key] = seq + 1
        return seq

    def _live(self, request: ChatRequest, grant: JobGrant, seq: int) -> Completion:
        started = time.monotonic()
        try:
            answer = self._client.complete(request, grant.job_key)
        except LLMCallError as exc:
            if type(exc).__name__ in RECORDABLE:
                self._record(request, grant, seq, None, exc, time.monotonic() - started)
            raise
        completion = Completion(job_key=grant.job_key, seq=seq, model=request.model, response=answer.reply.response,
                                usage=answer.reply.usage, cost=answer.cost, latency=time.monotonic() - started,
                                attempts=answer.attempts)
        self._record(request, grant, seq, completion, None, completion.latency)
        _log.debug("llm call", job=grant.job_key, seq=seq, role=request.role, model=describe(request.model),
                   tokens=completion.usage.total_tokens, cost=round(completion.cost, 6),
                   latency=round(completion.latency, 3))
        return completion

    def _record(self, request: ChatRequest, grant: JobGrant, seq: int, completion: Completion | None,
                error: LLMCallError | None, latency: float) -> None:
        self._cassette.record(CallRecord(
            job_key=grant.job_key, seq=seq, run=grant.run, agent=grant.agent, role=request.role,
            model=request.model, request_hash=request.digest(), request=request.canonical_json(),
            response=completion.response if completion else None,
            error_type=type(error).__name__ if error else None, error_message=str(error) if error else None,
            usage=completion.usage if completion else Usage(), cost=completion.cost if completion else 0.0,
            latency=latency, attempts=completion.attempts if completion else 0,
        ))

    def _replay(self, request: ChatRequest, grant: JobGrant, seq: int) -> Completion:
        recorded = self._cassette.lookup(grant.job_key, seq)
        digest = request.digest()
        if recorded is None or recorded.request_hash != digest:
            divergence = ReplayDivergence(grant.job_key, seq, recorded.request_hash if recorded else None, digest)
            with self._lock:
                self.divergences.append(divergence)
            raise divergence
        if recorded.error_type is not None:
            raise RECORDABLE[recorded.error_type](recorded.error_message or recorded.error_type)
        assert recorded.response is not None
        return Completion(job_key=grant.job_key, seq=seq, model=recorded.model, response=recorded.response,
                          usage=recorded.usage, cost=recorded.cost, latency=recorded.latency,
                          attempts=recorded.attempts)
