"""Everything one run's steps share: config, store, model access, executor, tasks, progress.

Also the two rules that make runs replayable: an LLM job key names the job *and its attempt*
(a retried job's calls never mix with the failed attempt's), and in replay the attempt is the one
the recorded run finished with.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dgm.archive.records import Job
from dgm.archive.store import RunStore
from dgm.config import Config
from dgm.executor import Executor
from dgm.llm.errors import BudgetExceeded, ModelUnavailable
from dgm.loop.progress import Progress

if TYPE_CHECKING:
    from dgm.llm.gateway import Gateway
    from dgm.llm.service import LLMService
    from dgm.llm.types import JobGrant


@dataclass
class RunContext:
    config: Config
    store: RunStore
    llm: "LLMService"
    gateway: "Gateway"
    executor: Executor
    tasks: list[Any]                 # the benchmark's tasks (dgm.benchmarks.task.Task)
    progress: Progress
    resumed: bool = False
    replay_attempts: dict[str, int] | None = None   # job key -> attempt that finished, in the recording
    work_root: Path = field(default_factory=lambda: Path(tempfile.gettempdir()))

    @property
    def run_label(self) -> str:
        """The `dgm.run` label of this run's containers (what `dgm sandbox prune --run` takes)."""
        return self.store.run_id

    def llm_key(self, job: Job) -> str:
        attempt = job.attempts if self.replay_attempts is None else self.replay_attempts.get(job.key, 1)
        return f"{job.key}#{attempt}"

    def grant(self, job: Job, role: str, agent: str) -> "JobGrant":
        from dgm.llm.types import JobGrant

        return JobGrant(job_key=self.llm_key(job), role=role, run=self.run_label, agent=agent)  # type: ignore[arg-type]

    def refuse_if_halted(self, key: str, exit_reason: str | None = None) -> None:
        """Raise `RunHalted` when the run, not the job, cut the work of `key` short: the model
        became unusable (every call refused), or the agent stopped because the *run's* budget ran
        out. Such a result must not be recorded: the job stays unfinished and a resume redoes it.
        A per-job cap, by contrast, is a limit the result was meant to respect."""
        if self.llm.unavailable is not None:
            raise ModelUnavailable(f"job {key}: {self.llm.unavailable}")
        if exit_reason == "budget" and self.llm.budget.exhausted():
            raise BudgetExceeded(f"job {key}: the run's budget ran out while the agent worked")

    @contextmanager
    def checkout(self, agent: str) -> Iterator[Path]:
        """A throw-away host copy of an agent's source (removed on exit)."""
        with self.checkout_commit(self.store.agent(agent).commit) as path:
            yield path

    @contextmanager
    def checkout_commit(self, commit: str) -> Iterator[Path]:
        holder = Path(tempfile.mkdtemp(prefix="dgm-src-", dir=self.work_root))
        try:
            dest = holder / "src"
            self.store.git.checkout(commit, dest)
            yield dest
        finally:
            shutil.rmtree(holder, ignore_errors=True)
