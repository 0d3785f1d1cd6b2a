"""Run an agent directory on a problem in a fresh sandbox, talking to the model through the gateway.

This is the one place that knows the agent contract (agents/seed_agent/README.md) from the host
side; solving benchmark tasks and self-improvement both go through `run_agent`. The agent is
copied read-only to /opt/dgm/agent, the workspace to /work/workspace. Before the agent starts,
the workspace is committed to a baseline git repository kept *outside* it (so a workspace that is
itself a git checkout keeps its own history untouched); afterwards `git add -A && git diff
--cached --binary` against that baseline is the agent's result, new, deleted and binary files
included. The agent's trajectory is copied out to the host.

The agent is untrusted: it runs with the same user as the baseline repository and may wreck it.
That is the agent's failure, reported as `diff_error`, never an infrastructure error.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from dgm import log
from dgm.config import SandboxConfig
from dgm.errors import DgmError
from dgm.evaluation import build_outputs

if TYPE_CHECKING:
    from dgm.llm.gateway import Gateway
    from dgm.llm.types import JobGrant

AGENT_DIR = "/opt/dgm/agent"
WORKSPACE = "/work/workspace"
OUT = "/work/out"
PROBLEM = "/work/problem.md"
CONTEXT = "/opt/dgm/improve/context.json"   # the improvement procedure's input, read-only (docs/meta.md)
READONLY_ROOT = "/opt/dgm"                    # root-owned: the agent user cannot change what is here
BASELINE_GIT = "/work/.dgm-baseline.git"
DIFF_FILE = "/tmp/dgm-agent.diff"
REMOVED = "the sandbox stopped answering after the agent's time limit (its processes filled it); the host removed it"
# Caches and build outputs that tools write while the agent tests its work; never part of a solution.
EXCLUDED = build_outputs.gitignore().replace("\n", "\\n")

_BASELINE_SCRIPT = f"""set -e
git init -q
printf '{EXCLUDED}' > "$GIT_DIR/info/exclude"
git add -A
git -c user.name=dgm -c user.email=dgm@localhost commit -q --allow-empty --no-verify -m baseline
"""
# The baseline repository is writable by the agent, so every option that shapes a diff's headers,
# paths or content is overridden here (command-line `-c` beats the repository's config; the exec's
# environment sets no GIT_* but ours): prefixes, quoting, external drivers, textconv, attributes
# and ignore files, hooks.
_GIT = ("git -c core.quotePath=true -c diff.noprefix=false -c diff.mnemonicPrefix=false "
        "-c core.attributesFile=/dev/null -c core.excludesFile=/dev/null -c core.hooksPath=/dev/null "
        "-c core.fsmonitor=false")
_DIFF_SCRIPT = (f"set -e\n{_GIT} add -A\n{_GIT} diff --cached --binary --no-color --no-ext-diff --no-textconv "
                f"--no-renames --src-prefix=a/ --dst-prefix=b/ HEAD > {DIFF_FILE}\n")

_log = log.get(__name__)


class WorkspacePrepError(DgmError):
    """The workspace could not be set up in the sandbox (an infrastructure problem, not the agent's)."""


@dataclass(frozen=True)
class AgentLimits:
    """Limits handed to the agent as flags; the host allows `grace_seconds` more before killing it."""

    max_steps: int = 50
    max_seconds: float = 1800.0
    max_tokens: int | None = None
    grace_seconds: float = 60.0

    def flags(self) -> list[str]:
        flags = ["--max-steps", str(self.max_steps), "--max-seconds", f"{self.max_seconds:g}"]
        if self.max_tokens is not None:
            flags += ["--max-tokens", str(self.max_tokens)]
        return flags


@dataclass(frozen=True)
class AgentRun:
    """What one agent run produced.

    `exit_reason` is the agent's own (finished | step_limit | time_limit | budget | error), or
    `killed` when the host stopped it (past max_seconds + grace, or out of memory) and `crashed`
    when it ended without writing a final record.
    """

    exit_code: int
    exit_reason: str
    diff: bytes                      # `git diff --binary`: exact bytes, whatever the files' encoding
    trajectory: Path | None          # host copy of trajectory.jsonl, None if the agent wrote none
    output: str                      # the agent's stdout and stderr (tail, capped by the sandbox)
    duration: float                  # seconds the agent process ran
    tokens: dict[str, int] = field(default_factory=dict)
    steps: int = 0
    diff_error: str | None = None    # the diff could not be taken (the agent broke the baseline)
    detail: str = ""                 # the final record's `detail` (why an `error` or `budget` end happened)
    trajectory_cut: bool = False     # trajectory.jsonl was over sandbox.max_trajectory_bytes: only its tail was kept

    @property
    def diff_text(self) -> str:
        """The diff for people and prompts (bytes that are not UTF-8 shown as replacement characters)."""
        return self.diff.decode("utf-8", errors="replace")

    @property
    def ran_to_an_end(self) -> bool:
        return self.exit_code == 0 and self.exit_reason not in ("killed", "crashed")


def run_agent(agent_dir: Path, problem: str, workspace: Path, out_dir: Path, *, gateway: "Gateway",
              grant: "JobGrant", sandbox_config: SandboxConfig, limits: AgentLimits = AgentLimits(),
              image: str | None = None, env: Mapping[str, str] | None = None,
              improve_context: bytes | None = None) -> AgentRun:
    """Run `agent_dir/main.py` on `problem` with a copy of `workspace`; the host workspace is not touched.

    With `improve_context` (hyperagent mode) the agent's improvement entry point runs instead:
    `improve.py --context FILE` on that JSON, which decides the change itself; `problem` is unused.

    The container is labelled with the grant's run, job key and role; the grant's token is valid
    only for this run. Raises SandboxUnavailable (infrastructure) or WorkspacePrepError.
    """
    from dgm.sandbox.docker_backend import DockerSandbox, StepFailed

    entry = "main.py" if improve_context is None else "improve.py"
    if not (agent_dir / entry).is_file():
        raise DgmError(f"agent directory {agent_dir} has no {entry} (expected an agent following the agent contract)")
    if not workspace.is_dir():
        raise DgmError(f"workspace {workspace} is not a directory (expected the files the agent starts from)")
    out_dir.mkdir(parents=True, exist_ok=True)
    token = gateway.register(grant)
    git_env = {"GIT_DIR": BASELINE_GIT, "GIT_WORK_TREE": WORKSPACE, "GIT_CONFIG_NOSYSTEM": "1",
               "GIT_CONFIG_GLOBAL": "/dev/null"}
    try:
        with DockerSandbox(sandbox_config, run=grant.run, job=grant.job_key, role=grant.role, image=image,
                           mount=gateway.sandbox_mount()) as sb:
            # Two writes, the baseline commit riding on the second: every round trip costs a unit.
            root_owned: dict[str, bytes | Path] = {_rel(AGENT_DIR, READONLY_ROOT): agent_dir}
            if improve_context is None:
                inputs = ["--problem", PROBLEM]
            else:
                root_owned[_rel(CONTEXT, READONLY_ROOT)] = improve_context
                inputs = ["--context", CONTEXT]
            sb.write(READONLY_ROOT, root_owned, readonly=True)
            agent_owned: dict[str, bytes | Path] = {_rel(WORKSPACE, "/work"): workspace}
            if improve_context is None:
                agent_owned[_rel(PROBLEM, "/work")] = problem.encode("utf-8")
            try:
                sb.write("/work", agent_owned, then=f"cd {WORKSPACE} && {_BASELINE_SCRIPT}", env=git_env)
            except StepFailed as exc:
                raise WorkspacePrepError(f"cannot commit the baseline of {workspace} in the sandbox: "
                                         f"{exc.output}") from None
            cmd = ["python3", f"{AGENT_DIR}/{entry}", *inputs, "--workspace", WORKSPACE, "--out", OUT, *limits.flags()]
            # The task's environment (e.g. PYTHONPATH) first: it can never replace the gateway's variables.
            result = sb.exec(cmd, timeout=limits.max_seconds + limits.grace_seconds, cwd=WORKSPACE,
                             env={**(env or {}), **gateway.sandbox_env(token)})
            removed = sb.expired    # the agent's code left the sandbox unable to answer: the host removed it
            if removed:
                diff, diff_error, trajectory, cut = b"", None, None, False
            else:
                diff, diff_error = _diff(sb, git_env, sandbox_config.max_diff_bytes)
                trajectory, cut = _copy_trajectory(sb, out_dir, sandbox_config.max_trajectory_bytes)
    finally:
        gateway.revoke(token)
    final = _final_record(trajectory)
    if result.timed_out or result.oom_killed:
        reason = "killed"
    else:
        reason = final.get("exit_reason") or "crashed"
    run = AgentRun(exit_code=result.exit_code, exit_reason=str(reason), diff=diff, trajectory=trajectory,
                   output=result.output, duration=result.duration, tokens=final.get("tokens") or {},
                   steps=int(final.get("steps") or 0), diff_error=diff_error,
                   detail=REMOVED if removed else str(final.get("detail") or ""), trajectory_cut=cut)
    _log.info("agent run done", job=grant.job_key, exit_code=run.exit_code, exit_reason=run.exit_reason,
              steps=run.steps, diff_bytes=len(run.diff), seconds=round(run.duration, 1))
    return run


def _rel(path: str, root: str) -> str:
    return str(PurePosixPath(path).relative_to(root))


def _diff(sb: Any, git_env: dict[str, str], max_bytes: int) -> tuple[bytes, str | None]:
    """The diff, or an error when it cannot be taken or is over `sandbox.max_diff_bytes` (its size
    is checked in the sandbox: an oversized diff never reaches the host)."""
    from dgm.sandbox.docker_backend import FileTooLarge, SandboxIOError, StepFailed

    try:    # taken and read in one round trip
        return sb.read(DIFF_FILE, max_bytes=max_bytes, before=f"cd /work && {_DIFF_SCRIPT}", env=git_env), None
    except StepFailed as exc:
        return b"", f"git diff failed (exit {exc.code}): {exc.output}"
    except FileTooLarge as exc:
        return b"", f"the diff is {exc.size} bytes, over sandbox.max_diff_bytes ({max_bytes})"
    except (FileNotFoundError, SandboxIOError) as exc:   # the agent tampered with the diff file
        return b"", f"the diff file could not be read: {exc}"


def _copy_trajectory(sb: Any, out_dir: Path, max_bytes: int) -> tuple[Path | None, bool]:
    """(host copy, cut): at most the last `sandbox.max_trajectory_bytes` of trajectory.jsonl, from
    its first whole line; a symlink or FIFO in its place counts as no trajectory."""
    from dgm.sandbox.docker_backend import SandboxIOError

    source = f"{OUT}/trajectory.jsonl"
    try:
        data = sb.read(source, max_bytes=max_bytes + 1, keep_tail=True)
    except (FileNotFoundError, SandboxIOError):
        return None, False
    cut = len(data) > max_bytes
    if cut:
        newline = data.find(b"\n")   # the first line is partial: drop it
        data = data[newline + 1:] if newline >= 0 else b""
        _log.warning("trajectory cut", file=source, kept_bytes=len(data), limit=max_bytes)
    path = out_dir / "trajectory.jsonl"
    tmp = path.with_suffix(".jsonl.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)  # a crash never leaves a half-written trajectory under the final name
    return path, cut


def _final_record(trajectory: Path | None) -> dict[str, Any]:
    """The last record if it is the final one; an agent variant may write anything, so parse defensively."""
    if trajectory is None:
        return {}
    lines = trajectory.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    try:
        record = json.loads(lines[-1]) if lines else {}
    except ValueError:
        return {}
    return record if isinstance(record, dict) and record.get("type") == "final" else {}
