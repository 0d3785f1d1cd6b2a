"""Where a run's work happens: driver threads for child pipelines, an executor for sandboxed jobs.

Two kinds of work, two methods. `submit` runs a child pipeline (diagnose, self-improve, check,
evaluate, admit) as a thread on the driver: pipelines mostly wait, and they write the run store,
which only the driver may do. `run_job` runs one sandboxed job (`dgm.scale.jobs`) and returns its
value once its files are in `out` and its model calls are in the run's cassette; the local
executor runs it in-process with the run's gateway, the Ray executor (`dgm.scale.ray_executor`)
on a cluster node next to a gateway of its own. Callers cannot tell the two apart, which is what
makes a Ray run's archive equal a local run's.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol

from dgm.scale.jobs import LOCAL_NODE, JobOutcome, SandboxJob, run_here

if TYPE_CHECKING:
    from dgm.config import Config
    from dgm.llm.gateway import Gateway
    from dgm.llm.service import LLMService


class Executor(Protocol):
    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future: ...

    def run_job(self, job: SandboxJob, out: Path | None = None) -> JobOutcome: ...

    def close(self) -> None: ...


class LocalExecutor:
    """A bounded thread pool (`workers` pipelines at once); sandboxed jobs run on this machine."""

    def __init__(self, workers: int, gateway: "Gateway | None" = None) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dgm-job")
        self._gateway = gateway

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        return self._pool.submit(fn, *args, **kwargs)

    def run_job(self, job: SandboxJob, out: Path | None = None) -> JobOutcome:
        # Jobs that talk to a model need the gateway; policy runs and smoke checks do not.
        return JobOutcome(run_here(job, self._gateway, out), LOCAL_NODE)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> "LocalExecutor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def create(config: "Config", *, llm: "LLMService", gateway: "Gateway", run: str, cassette_db: Path) -> Executor:
    """The executor `executor.kind` names; Ray is imported only when it is the one asked for."""
    if config.executor.kind == "ray":
        from dgm.scale.ray_executor import RayExecutor

        return RayExecutor(config, llm=llm, run=run, cassette_db=cassette_db)
    return LocalExecutor(config.loop.workers, gateway=gateway)
