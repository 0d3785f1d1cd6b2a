"""Lay out the starting workspace of a task whose repository lives in its image.

SWE-bench images keep the repository at /testbed, on the sandbox's read-only root, so it is
copied to the writable /work (and checked out at the task's base commit); the task's own files,
if any, are written over it. Tasks made only of files need no sandbox step: their files travel
with whatever else is written into the sandbox.
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
    """Create `workdir` holding the starting state of `task` (which has a `repo_dir`)."""
    assert task.repo_dir, "only tasks whose repository is in the image need a sandbox step"
    steps = [f"mkdir -p {shlex.quote(workdir)}",
             f"cp -a {shlex.quote(task.repo_dir.rstrip('/') + '/.')} {shlex.quote(workdir + '/')}"]
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
