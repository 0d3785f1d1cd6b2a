"""The sandboxed-job seam: every piece of a run's work that starts a sandbox, as shippable data.

The loop's steps (agent runs, solve-and-grade, the smoke check, policy runs) build a `SandboxJob` here
and hand it to `ctx.executor.run_job`; the executor alone decides where it runs. A job is a
module-level function plus keyword arguments, so it pickles by reference; `Path` arguments are
directories, which a remote executor ships as `Tree` bytes. The function is called as
`work(gateway, out, **args)`: `gateway` is the model gateway its sandboxes must use (the run's
shared one locally, one next to the job on a cluster node), `out` the directory for its files
(the job's staging directory locally; copied back from a node). It returns a picklable value.

Keeping the functions pure (inputs in, value and files out, no run store) is what lets the local
and the Ray executor run the very same code, and the driver stay the only writer of the store.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dgm.agent_runner import AgentLimits, AgentRun
    from dgm.benchmarks.task import Task
    from dgm.config import Config, SandboxConfig
    from dgm.evaluation.pipeline import TaskResult
    from dgm.llm.gateway import Gateway
    from dgm.llm.types import JobGrant
    from dgm.meta.sandboxed import PolicyOutput, PolicyRun

LOCAL_NODE = "local"


@dataclass(frozen=True)
class SandboxJob:
    """One unit of sandboxed work.

    `key` is the `dgm.job` label of the job's containers (sub-steps add `/suffix`) and, for a job
    that talks to the model, its grant's job key: a cluster uses it to find the job's recorded
    calls and to tell a lost job's leftover containers from a running job's.
    """

    key: str
    work: Callable[..., Any]
    args: Mapping[str, Any]


@dataclass(frozen=True)
class JobOutcome:
    value: Any          # what `work` returned
    node: str           # where it ran: LOCAL_NODE or the Ray node id


@dataclass(frozen=True)
class Tree:
    """A directory as gzip'd tar bytes: how a source tree or a job's files cross machines."""

    data: bytes

    @classmethod
    def pack(cls, folder: Path) -> "Tree":
        if not folder.is_dir():
            raise ValueError(f"{folder} is not a directory (only directories travel as trees)")
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as tar:
            for path in sorted(folder.iterdir()):
                tar.add(path, arcname=path.name)
        return cls(buffer.getvalue())

    def unpack(self, dest: Path) -> Path:
        dest.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(self.data), mode="r:gz") as tar:
            tar.extractall(dest, filter="data")  # nothing lands outside dest, no device files
        return dest


def run_here(job: SandboxJob, gateway: "Gateway", out: Path | None) -> Any:
    """Run a job in this process (the local executor, and a cluster node once the trees are unpacked)."""
    return job.work(gateway, out, **job.args)


# ---------------------------------------------------------------------------------------------
# The jobs


def agent_run(agent: Path, problem: str, workspace: Path, *, grant: "JobGrant", sandbox: "SandboxConfig",
              limits: "AgentLimits", improve_context: bytes | None = None) -> SandboxJob:
    """`agent` runs on `problem` with a copy of `workspace` (self-improvement: the parent's source;
    the meta step: the policy), or, given `improve_context`, its own improve.py on that context
    (hyperagent mode); value: AgentRun, its trajectory in `out`."""
    return SandboxJob(grant.job_key, _agent_run, {"agent": agent, "problem": problem, "workspace": workspace,
                                                  "grant": grant, "sandbox": sandbox, "limits": limits,
                                                  "improve_context": improve_context})


def _agent_run(gateway: "Gateway", out: Path, *, agent: Path, problem: str, workspace: Path, grant: "JobGrant",
               sandbox: "SandboxConfig", limits: "AgentLimits", improve_context: bytes | None = None) -> "AgentRun":
    from dgm.agent_runner import run_agent

    return run_agent(agent, problem, workspace, out, gateway=gateway, grant=grant, sandbox_config=sandbox,
                     limits=limits, improve_context=improve_context)


def solve_and_grade(agent: Path, task: "Task", *, grant: "JobGrant", config: "Config") -> SandboxJob:
    """One benchmark task solved by `agent` and graded; value: TaskResult, logs in `out`."""
    return SandboxJob(grant.job_key, _solve_and_grade, {"agent": agent, "task": task, "grant": grant, "config": config})


def _solve_and_grade(gateway: "Gateway", out: Path, *, agent: Path, task: "Task", grant: "JobGrant",
                     config: "Config") -> "TaskResult":
    from dgm.evaluation.pipeline import evaluate_task

    return evaluate_task(agent, task, out, gateway=gateway, grant=grant, config=config)


def smoke_check(source: Path, *, sandbox: "SandboxConfig", run: str, key: str, improve: bool = False) -> SandboxJob:
    """Does a child's source compile and honour the agent contract (with `improve`, also the
    improvement entry point of hyperagent mode)? value: None or the reason."""
    return SandboxJob(key, _smoke_check, {"source": source, "sandbox": sandbox, "run": run, "key": key,
                                          "improve": improve})


def _smoke_check(gateway: "Gateway", out: Path | None, *, source: Path, sandbox: "SandboxConfig", run: str,
                 key: str, improve: bool = False) -> str | None:
    from dgm.loop.smoke import run_check

    return run_check(source, sandbox, run=run, job_key=key, improve=improve)


def policy_runs(runs: "Sequence[PolicyRun]", *, sandbox: "SandboxConfig", run: str, key: str,
                seconds: float) -> SandboxJob:
    """Selection-policy code on its inputs, in one sandbox (dgm.meta.sandboxed); value: list[PolicyOutput]."""
    return SandboxJob(key, _policy_runs, {"runs": list(runs), "sandbox": sandbox, "run": run, "key": key,
                                          "seconds": seconds})


def _policy_runs(gateway: "Gateway", out: Path | None, *, runs: "list[PolicyRun]", sandbox: "SandboxConfig", run: str,
                 key: str, seconds: float) -> "list[PolicyOutput]":
    from dgm.meta.sandboxed import run_policies

    return run_policies(runs, sandbox_config=sandbox, run=run, job=key, seconds=seconds)
