"""Budgets: caps are checked before a call starts, safe under concurrency, restored on resume."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from llm_stub import Reply, StubServer, llm_stub, stub_config  # noqa: F401  (llm_stub is a fixture)

from dgm.config import Config, JobBudget
from dgm.llm import BudgetExceeded, JobGrant, LLMService
from dgm.llm.cassette import Cassette

HELLO = [{"role": "user", "content": "hello"}]
PER_CALL = 120          # the stub's default usage: 100 prompt + 20 completion tokens


def test_eight_threads_never_overshoot_by_more_than_the_calls_in_flight(llm_stub: StubServer, tmp_path: Path) -> None:
    llm_stub.default = Reply(delay=0.02)            # calls overlap: several are in flight at once
    cap, threads = 2000, 8
    config = stub_config(llm_stub, budget={"max_tokens": cap})
    refusals: list[BudgetExceeded] = []
    with LLMService(config, tmp_path / "run.db") as service:
        def worker(n: int) -> None:
            while True:
                try:
                    service.complete("solve", HELLO, job=f"job/{n}")
                except BudgetExceeded as exc:
                    refusals.append(exc)
                    return

        pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        spent = service.budget.spent
        assert service.budget.in_flight == 0
    recorded, _ = Cassette(tmp_path / "run.db").spend()
    assert len(refusals) == threads and "budget.max_tokens" in str(refusals[0])
    assert recorded.tokens == spent.tokens == recorded.calls * PER_CALL
    assert cap <= recorded.tokens < cap + threads * PER_CALL     # overshoot only by calls in flight
    assert len(llm_stub.requests) == recorded.calls               # refused calls never reached the provider


def test_run_dollar_cap_stops_every_job(tmp_path: Path, llm_stub: StubServer) -> None:
    # One call costs (100 * $2 + 20 * $10) / 1e6 = $0.0004.
    config = stub_config(llm_stub, budget={"max_dollars": 0.001})
    with LLMService(config, tmp_path / "run.db") as service:
        for job in ("a", "b", "c"):
            assert not service.budget.exhausted()
            service.complete("solve", HELLO, job=job)
        with pytest.raises(BudgetExceeded, match=r"budget.max_dollars \$0.001"):
            service.complete("solve", HELLO, job="d")
        assert service.budget.exhausted()
        assert service.budget.spent.dollars == pytest.approx(0.0012)
        assert service.budget.spent.tokens == 3 * PER_CALL


def test_per_job_caps_stop_only_that_job(tmp_path: Path, llm_stub: StubServer) -> None:
    config = stub_config(llm_stub, budget={"per_job": {"max_calls": 2}})
    with LLMService(config, tmp_path / "run.db") as service:
        service.complete("solve", HELLO, job="a")
        service.complete("solve", HELLO, job="a")
        with pytest.raises(BudgetExceeded, match="limit of 2 model calls"):
            service.complete("solve", HELLO, job="a")
        service.complete("solve", HELLO, job="b")
        # A grant's own limits replace the run's per-job default.
        roomy = JobGrant(job_key="c", role="solve", limits=JobBudget(max_tokens=200))
        service.complete("solve", HELLO, job=roomy)
        service.complete("solve", HELLO, job=roomy)
        with pytest.raises(BudgetExceeded, match="limit of 200 tokens"):
            service.complete("solve", HELLO, job=roomy)
    assert len(llm_stub.requests) == 5


def test_spend_is_restored_from_the_recorded_calls_on_resume(tmp_path: Path) -> None:
    script = tmp_path / "s.yaml"
    script.write_text("rules:\n  - reply: {content: hi}\n")
    config = Config.model_validate({"llm": {"model": "scripted", "script": str(script)},
                                    "budget": {"max_tokens": 40, "per_job": {"max_calls": 3}}})
    with LLMService(config, tmp_path / "run.db") as service:
        first = service.complete("solve", HELLO, job="a")
        service.complete("solve", HELLO, job="a")
        before = service.budget.spent
    with LLMService(config, tmp_path / "run.db") as resumed:
        assert resumed.budget.spent == before
        assert resumed.budget.job_spent("a").calls == 2
        assert before.tokens == 2 * first.usage.total_tokens
        third = resumed.complete("solve", HELLO, job="a")
        assert third.seq == 2                        # numbering continues, nothing is overwritten
        with pytest.raises(BudgetExceeded, match="limit of 3 model calls"):
            resumed.complete("solve", HELLO, job="a")
