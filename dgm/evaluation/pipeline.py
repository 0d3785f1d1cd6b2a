"""One task, end to end: solve in one sandbox, grade the diff in a fresh one, keep the logs.

Outcome per task:
- `resolved` / `unresolved`: the agent ran to an end and its diff was graded;
- `agent_error`: the agent did not run to an end (crashed, killed past its time limit, broke the
  workspace so no diff could be taken); scored as a failure;
- `infra_error`: a sandbox died or the task/image could not be set up, still so after the
  configured retries; never scored. Solving and grading are retried separately, so a grading
  hiccup never pays for a second agent run.

The task's log folder holds what the loop's diagnosis may read (problem.md, trajectory.jsonl,
diff.patch, agent_output.txt) and, under hidden/, what it must not see by default (the test
output, the grader's verdict, the hidden tests). `diagnosis_view` renders it.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from dgm import log
from dgm.benchmarks.task import Task, write_files
from dgm.config import Config
from dgm.evaluation.grader import Verdict, grade
from dgm.evaluation.workspace import WORKDIR, prepare_workspace

if TYPE_CHECKING:
    from dgm.agent_runner import AgentRun
    from dgm.llm.gateway import Gateway
    from dgm.llm.types import JobGrant

_log = log.get(__name__)
T = TypeVar("T")

STATUSES = ("resolved", "unresolved", "agent_error", "infra_error")
RESULT_FILE = "result.json"
HIDDEN_DIR = "hidden"
TOOL_OUTPUT_CHARS = 2000       # per tool result in the diagnosis view
DIFF_CHARS = 50_000            # of the agent's diff in the diagnosis view


@dataclass(frozen=True)
class TaskResult:
    task_id: str
    status: str                    # one of STATUSES
    reason: str                    # one line; may name hidden tests (not shown to diagnosis by default)
    diff_bytes: int = 0            # size of the agent's diff; the diff itself is stored once, in diff.patch
    tokens: int = 0                # metered by the gateway, not the agent's own count
    cost: float = 0.0              # dollars
    duration: float = 0.0          # seconds, solve + grade, retries included
    exit_reason: str | None = None  # the agent's own, see agent_runner.AgentRun
    steps: int = 0
    attempts: int = 1              # sandbox attempts (solve + grade), > 2 after infra retries
    context_error: bool = False    # the agent stopped on a context-window error
    trajectory_cut: bool = False   # only the tail of trajectory.jsonl was kept (sandbox.max_trajectory_bytes)
    score: float | None = None     # `scored` suite: the task's score in [0, 1] (0 for an agent error); None: pass/fail

    @property
    def points(self) -> float:
        """What the task adds to the agent's score: its score, or 1 for resolved and 0 otherwise."""
        if self.score is not None:
            return self.score
        return 1.0 if self.status == "resolved" else 0.0

    @property
    def empty_patch(self) -> bool:
        return self.diff_bytes == 0

    @property
    def scored(self) -> bool:
        return self.status != "infra_error"

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "TaskResult":
        names = {f.name for f in dataclasses.fields(cls)}
        if "diff" in data and "diff_bytes" not in data:   # written before the diff was stored once
            data = {**data, "diff_bytes": len(str(data["diff"]).encode("utf-8"))}
        return cls(**{k: v for k, v in data.items() if k in names})

    @classmethod
    def load(cls, path: Path) -> "TaskResult":
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))

    def save(self, folder: Path) -> Path:
        path = folder / RESULT_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=2, sort_keys=True), encoding="utf-8")
        tmp.replace(path)
        return path


# ---------------------------------------------------------------------------------------------
# Solving and grading


def _with_retries(what: str, task_id: str, retries: int, work: Callable[[], T]) -> tuple[T | None, str, int]:
    """(result, last error, attempts). Every exception here is infrastructure: the agent's own
    failures are data inside the result, never raised."""
    error = ""
    for attempt in range(1, retries + 2):
        try:
            return work(), "", attempt
        except Exception as exc:    # noqa: BLE001 - see docstring
            error = f"{what}: {type(exc).__name__}: {exc}"
            _log.warning("infrastructure error", task=task_id, step=what, attempt=attempt, error=str(exc))
    return None, error, retries + 1


def _host_workspace(task: Task, dest: Path, config: Config, grant: "JobGrant") -> None:
    """The task's starting files on the host, where the agent runner copies them from."""
    dest.mkdir(parents=True)
    if task.repo_dir is None:
        write_files(dest, task.workspace)
        return
    from dgm.sandbox.docker_backend import DockerSandbox

    with DockerSandbox(config.sandbox, run=grant.run, job=f"{grant.job_key}/setup", role="setup",
                       image=task.image) as sb:
        prepare_workspace(sb, task, WORKDIR)
        sb.read_dir(WORKDIR, dest)


def _solve(agent_dir: Path, task: Task, log_dir: Path, gateway: "Gateway", grant: "JobGrant",
           config: Config) -> "AgentRun":
    from dgm.agent_runner import AgentLimits, run_agent

    solve = config.evaluation.solve
    limits = AgentLimits(max_steps=solve.max_steps, max_tokens=solve.max_tokens,
                         max_seconds=min(task.timeouts.solve, solve.max_seconds or task.timeouts.solve))
    with tempfile.TemporaryDirectory(prefix="dgm-task-") as tmp:
        workspace = Path(tmp) / "workspace"
        _host_workspace(task, workspace, config, grant)
        return run_agent(agent_dir, task.problem, workspace, log_dir, gateway=gateway, grant=grant,
                         sandbox_config=config.sandbox, limits=limits, image=task.image, env=task.agent_env)


def _grade(task: Task, diff: bytes, config: Config, grant: "JobGrant") -> Verdict:
    from dgm.sandbox.docker_backend import DockerSandbox

    if task.score_command:      # the scored suite: a fresh sandbox with the scorer mounted read-only
        from dgm.evaluation import scoring

        with scoring.scorer_mount(task) as mount, \
                DockerSandbox(config.sandbox, run=grant.run, job=f"{grant.job_key}/score", role="grade",
                              image=task.image, mount=mount) as sb:
            return scoring.score(sb, task, diff)
    with DockerSandbox(config.sandbox, run=grant.run, job=f"{grant.job_key}/grade", role="grade",
                       image=task.image) as sb:
        return grade(sb, task, diff)


def _save_hidden(log_dir: Path, task: Task, verdict: Verdict) -> None:
    hidden = log_dir / HIDDEN_DIR
    hidden.mkdir(exist_ok=True)
    (hidden / "test_output.txt").write_text(verdict.output, encoding="utf-8")
    (hidden / "verdict.json").write_text(json.dumps(
        {"resolved": verdict.resolved, "reason": verdict.reason, "exit_code": verdict.exit_code,
         "tests": dict(verdict.tests), "reverted": dict(verdict.reverted), "pinned": list(verdict.pinned),
         **({"score": verdict.score, "details": dict(verdict.details)} if verdict.score is not None else {})},
        indent=2, sort_keys=True, default=str), encoding="utf-8")
    write_files(hidden / "tests", task.hidden_tests)
    if task.test_patch:
        (hidden / "test.patch").write_bytes(task.test_patch)


def evaluate_task(agent_dir: Path, task: Task, log_dir: Path, *, gateway: "Gateway", grant: "JobGrant",
                  config: Config) -> TaskResult:
    """Solve and grade one task; never raises for the agent's or the infrastructure's failures."""
    started = time.monotonic()
    log_dir.mkdir(parents=True, exist_ok=True)
    (log_dir / "problem.md").write_text(task.problem, encoding="utf-8")
    retries = config.evaluation.infra_retries

    scored_task = bool(task.score_command)

    def finish(status: str, reason: str, attempts: int, run: "AgentRun | None" = None,
               score: float | None = None) -> TaskResult:
        spent = gateway.service.budget.job_spent(grant.job_key)
        result = TaskResult(
            task_id=task.id, status=status, reason=reason, diff_bytes=len(run.diff) if run else 0, tokens=spent.tokens,
            cost=spent.dollars, duration=time.monotonic() - started, exit_reason=run.exit_reason if run else None,
            steps=run.steps if run else 0, attempts=attempts,
            context_error=run is not None and "context_window" in run.detail,
            trajectory_cut=run is not None and run.trajectory_cut,
            score=score if score is not None or not scored_task or status == "infra_error" else 0.0)
        result.save(log_dir)
        _log.info("task evaluated", task=task.id, status=status, reason=reason, seconds=round(result.duration, 1))
        return result

    run, error, solve_attempts = _with_retries("solve", task.id, retries,
                                               lambda: _solve(agent_dir, task, log_dir, gateway, grant, config))
    if run is None:
        return finish("infra_error", error, solve_attempts)
    (log_dir / "diff.patch").write_bytes(run.diff)
    (log_dir / "agent_output.txt").write_text(run.output, encoding="utf-8")
    if run.diff_error:
        return finish("agent_error", f"no diff: {run.diff_error}", solve_attempts, run)
    if not run.ran_to_an_end:
        return finish("agent_error", f"the agent did not run to an end ({run.exit_reason}, exit {run.exit_code})",
                      solve_attempts, run)

    diff = run.diff
    verdict, error, grade_attempts = _with_retries("grade", task.id, retries,
                                                   lambda: _grade(task, diff, config, grant))
    if verdict is None:
        return finish("infra_error", error, solve_attempts + grade_attempts, run)
    _save_hidden(log_dir, task, verdict)
    return finish("resolved" if verdict.resolved else "unresolved", verdict.reason,
                  solve_attempts + grade_attempts, run, score=verdict.score)


# ---------------------------------------------------------------------------------------------
# What diagnosis reads


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - limit} characters omitted ...]\n{text[-half:]}"


def _render_trajectory(path: Path) -> str:
    """Steps as a transcript: the agent's words, its tool calls, and (clipped) tool results."""
    if not path.is_file():
        return "(the agent wrote no trajectory)"
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        kind = record.get("type")
        if kind == "step":
            response = record.get("response") or {}
            out.append(f"--- step {record.get('step')} ---")
            if response.get("content"):
                out.append(f"assistant: {response['content']}")
            for call in record.get("tool_calls") or []:   # sorted: a replayed response keeps no key order
                out.append(f"tool call: {json.dumps(call, ensure_ascii=False, sort_keys=True)}")
            for result in record.get("tool_results") or []:
                if isinstance(result, dict):
                    out.append(f"tool result ({result.get('name')}): {_clip(str(result.get('output', '')), TOOL_OUTPUT_CHARS)}")
        elif kind == "final":
            out.append(f"--- end: {record.get('exit_reason')} after {record.get('steps')} steps"
                       f"{': ' + str(record['detail']) if record.get('detail') else ''} ---")
    return "\n".join(out) or "(empty trajectory)"


def diagnosis_view(result: TaskResult, folder: Path, include_hidden_tests: bool = False) -> str:
    """The task's log as the diagnosing model may read it.

    By default it holds the problem, the agent's trajectory, its diff and its output, and whether
    the task was resolved, but nothing of the hidden tests: not their code, not their output,
    not even their names (the grader's reason names failing tests, so it is left out too).
    """
    def read(name: str) -> str:
        path = folder / name
        return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""

    # An agent error's reason is about the agent (crashed, killed), not about the tests.
    status = f"{result.status} ({result.reason})" if result.status == "agent_error" else result.status
    if result.score is not None:
        status += f", score {result.score:.4g}"
    sections = [
        f"# Task {result.task_id}: {status}",
        "## Problem statement\n" + read("problem.md").strip(),
        "## Agent trajectory\n" + _render_trajectory(folder / "trajectory.jsonl"),
        "## The agent's diff\n" + (_clip(read("diff.patch").strip(), DIFF_CHARS) or "(empty patch: the agent changed no file)"),
        "## Agent process output\n" + (_clip(read("agent_output.txt").strip(), 4 * TOOL_OUTPUT_CHARS) or "(none)"),
    ]
    if include_hidden_tests:
        hidden = folder / HIDDEN_DIR
        sections.append("## Grading (hidden tests)\n" + result.reason)
        for path in sorted((hidden / "tests").rglob("*")) if (hidden / "tests").is_dir() else []:
            if path.is_file():
                rel = path.relative_to(hidden / "tests").as_posix()
                sections.append(f"## Hidden test file {rel}\n" + path.read_text(encoding="utf-8", errors="replace"))
        if (hidden / "test.patch").is_file():
            sections.append("## Hidden test patch\n" + read(f"{HIDDEN_DIR}/test.patch"))
        sections.append("## Test output\n" + _clip(read(f"{HIDDEN_DIR}/test_output.txt"), 8 * TOOL_OUTPUT_CHARS))
    return "\n\n".join(sections) + "\n"
