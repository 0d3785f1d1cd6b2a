"""Lay a task's starting workspace out inside a sandbox (the same for solving and grading).

The workspace is either files shipped with the task, a repository that already lives in the
task's image (SWE-bench images keep it at /testbed, on the read-only root, so it is copied to the
writable /work), or both: files written over the copied repository.
"""

from __future__ import annotations

import shlex
import tempfile
from pathlib import Path

from dgm.agent_runner import WORKSPACE
from dgm.benchmarks.task import Task, write_files
from dgm.errors import DgmError
from dgm.sandbox import Sandbox

WORKDIR = WORKSPACE   # graded where it was solved, so paths in logs and tracebacks agree
SETUP_TIMEOUT = 600.0
# Commits made inside sandboxes need an identity; HOME points git at a writable, empty config.
GIT_ENV = {"GIT_AUTHOR_NAME": "dgm", "GIT_AUTHOR_EMAIL": "dgm@localhost", "GIT_COMMITTER_NAME": "dgm",
           "GIT_COMMITTER_EMAIL": "dgm@localhost", "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/home/agent"}


class WorkspaceSetupError(DgmError):
    """The task's workspace could not be laid out (a wrong image or a broken task, not the agent)."""


def prepare_workspace(sb: Sandbox, task: Task, workdir: str = WORKDIR) -> None:
    """Create `workdir` holding the task's starting state."""
    steps = [f"mkdir -p {shlex.quote(workdir)}"]
    if task.repo_dir:
        steps.append(f"cp -a {shlex.quote(task.repo_dir.rstrip('/') + '/.')} {shlex.quote(workdir + '/')}")
        if task.base_commit:
            steps.append(f"git -C {shlex.quote(workdir)} -c advice.detachedHead=false checkout -q "
                         f"{shlex.quote(task.base_commit)}")
    result = sb.exec(" && ".join(steps), timeout=SETUP_TIMEOUT, env=GIT_ENV)
    if not result.ok:
        raise WorkspaceSetupError(f"task {task.id}: cannot lay out the workspace in image {task.image or 'default'}: "
                                  f"{result.output.strip().splitlines()[-1:] or result.exit_code}")
    if task.workspace:
        with tempfile.TemporaryDirectory(prefix="dgm-ws-") as tmp:
            write_files(Path(tmp), task.workspace)
            sb.write(workdir, Path(tmp))
