"""Running policy code: only here, and only inside a hardened sandbox (never on the host).

`run_policies` is the one entry point (every generation's choice and every validation go
through it, so an executor can dispatch it elsewhere). One sandbox serves a batch of runs: the
policy sources and their inputs are written read-only under /opt/dgm (root-owned; the policy
runs as the unprivileged `agent` user), each run reads its input from a file on stdin with an
empty environment, and the writable places (/tmp, /home/agent, /work) are emptied between
runs, so one run cannot leave anything for the next. The sandbox has no network and mounts
nothing from the host: a policy never sees the run directory.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dgm.config import SandboxConfig

ROOT = "/opt/dgm/meta"
_STDERR = "/tmp/.dgm-policy-stderr"
STDERR_TAIL_BYTES = 600
_CLEAN = "find /tmp /home/agent /work -mindepth 1 -delete 2>/dev/null; true"
HOUSEKEEPING_SECONDS = 10.0    # cleaning before a run, reading its stderr after it
# Host-side backstop per run: past policy_seconds + this, the whole sandbox is removed (a policy
# that forks and eats memory can make the in-sandbox timeout and the cleanup crawl).
RUN_SLACK_SECONDS = 20.0
START_SECONDS = 120.0          # for starting the sandbox and copying the policies in


@dataclass(frozen=True)
class PolicyRun:
    source: bytes              # the policy's policy.py
    input: dict[str, Any]      # what it reads on stdin (dgm.meta.contract.policy_input)


@dataclass(frozen=True)
class PolicyOutput:
    exit_code: int
    stdout: str                # the policy's standard output (capped by sandbox.output_limit_bytes)
    stderr_tail: str           # the end of its standard error, read only when it failed
    timed_out: bool
    oom_killed: bool
    truncated: bool
    duration: float

    def failure(self, seconds: float) -> str | None:
        """Why the run cannot be used whatever it printed, or None."""
        if self.timed_out:
            return f"did not finish within {seconds:g} s"
        if self.oom_killed:
            return "ran out of memory"
        if self.exit_code != 0:
            last = self.stderr_tail.strip().splitlines()[-1:] or ["no error output"]
            return f"exited with code {self.exit_code}: {last[0][:200]}"
        if self.truncated:
            return "printed more than the sandbox output cap"
        return None


def run_policies(runs: Sequence[PolicyRun], *, sandbox_config: SandboxConfig, run: str, job: str,
                 seconds: float, work_root: Path | None = None) -> list[PolicyOutput]:
    """Run each policy on its input in one fresh sandbox; outputs in the order of `runs`.

    Raises SandboxUnavailable when the sandbox itself fails (an infrastructure error); a policy
    that crashes, hangs or prints garbage is an ordinary output, never an exception.
    """
    from dgm.sandbox.docker_backend import DockerSandbox, SandboxDeadlineExceeded

    holder = Path(tempfile.mkdtemp(prefix="dgm-policies-", dir=work_root))
    try:
        names = _stage(runs, holder)
        with DockerSandbox(sandbox_config, run=run, job=job, role="policy") as sb:
            sb.set_deadline(START_SECONDS)
            sb.write(ROOT, holder, readonly=True)
            outputs: list[PolicyOutput] = []
            for index, source in enumerate(names):
                sb.set_deadline(seconds + RUN_SLACK_SECONDS)
                try:
                    outputs.append(_run_one(sb, source, index, seconds))
                except SandboxDeadlineExceeded:   # this run and every later one count as timed out
                    killed = PolicyOutput(exit_code=137, stdout="", stderr_tail="", timed_out=True, oom_killed=False,
                                          truncated=False, duration=seconds + RUN_SLACK_SECONDS)
                    outputs += [killed] * (len(names) - index)
                    break
            return outputs
    finally:
        shutil.rmtree(holder, ignore_errors=True)


def _stage(runs: Sequence[PolicyRun], holder: Path) -> list[str]:
    """Write each distinct source once and every input; returns the source name of each run."""
    (holder / "policies").mkdir()
    (holder / "inputs").mkdir()
    names = []
    for index, item in enumerate(runs):
        name = hashlib.sha256(item.source).hexdigest()[:16]
        target = holder / "policies" / name
        if not target.exists():
            target.mkdir()
            (target / "policy.py").write_bytes(item.source)
        (holder / "inputs" / f"{index}.json").write_text(json.dumps(item.input), encoding="utf-8")
        names.append(name)
    return names


def _run_one(sb: Any, source: str, index: int, seconds: float) -> PolicyOutput:
    sb.exec(_CLEAN, timeout=HOUSEKEEPING_SECONDS)
    command = (f"cd /work && env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/home/agent LANG=C.UTF-8 "
               f"python3 -I {ROOT}/policies/{source}/policy.py < {ROOT}/inputs/{index}.json 2> {_STDERR}")
    result = sb.exec(command, timeout=seconds)
    stderr = ""
    if not result.ok:
        tail = sb.exec(f"tail -c {STDERR_TAIL_BYTES} {_STDERR} 2>/dev/null; true", timeout=HOUSEKEEPING_SECONDS)
        stderr = tail.output
    return PolicyOutput(exit_code=result.exit_code, stdout=result.output, stderr_tail=stderr,
                        timed_out=result.timed_out, oom_killed=result.oom_killed, truncated=result.truncated,
                        duration=result.duration)
