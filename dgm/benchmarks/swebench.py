"""The `swebench` suite: SWE-bench-format JSONL plus the instance images the user has.

Each JSONL row carries instance_id, repo, base_commit, problem_statement, patch (the reference
answer), test_patch, FAIL_TO_PASS and PASS_TO_PASS (lists of pytest node ids, or JSON strings of
lists as in the published dataset). The image holds the repository at `repo_dir` (default
/testbed, as the official instance images do) checked out at base_commit, with its environment.

Which image and which test command: a row may name them (`image`, `test_command`, `repo_dir`);
otherwise the config's templates apply. Templates are `str.format` strings over
`{instance_id}`, `{docker_id}` (the official image name form: lower case, `__` -> `_1776_`) and,
for the test command, `{test_files}` (the files the test patch touches, shell-quoted).
A task is resolved when every FAIL_TO_PASS and PASS_TO_PASS test passes.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

from dgm.agent_runner import WORKSPACE
from dgm.benchmarks.task import Task, TaskError, Timeouts
from dgm.evaluation.diffpaths import touched_paths

DEFAULT_REPO_DIR = "/testbed"
DEFAULT_TEST_COMMAND = "python3 -m pytest -rA {test_files}"
TIMEOUTS = Timeouts(solve=1800.0, test=900.0)
_REQUIRED = ("instance_id", "repo", "base_commit", "problem_statement", "test_patch", "FAIL_TO_PASS", "PASS_TO_PASS")


def docker_id(instance_id: str) -> str:
    return instance_id.lower().replace("__", "_1776_")


def _tests(row: dict[str, Any], key: str, where: str) -> list[str]:
    value = row[key]
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise TaskError(f"{where}: field '{key}': expected a list of test ids or a JSON string of one") from None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TaskError(f"{where}: field '{key}': expected a list of test ids, got {type(value).__name__}")
    return value


def to_task(row: dict[str, Any], where: str, image: str | None, test_command: str | None) -> Task:
    missing = [key for key in _REQUIRED if key not in row]
    if missing:
        raise TaskError(f"{where}: missing field '{missing[0]}' (expected the SWE-bench fields {', '.join(_REQUIRED)})")
    instance_id = row["instance_id"]
    names = {"instance_id": instance_id, "docker_id": docker_id(instance_id)}
    task_image = row.get("image") or (image.format(**names) if image else None)
    if not task_image:
        raise TaskError(f"{where}: no image for {instance_id} (expected an 'image' field in the row or "
                        "evaluation.benchmark.image, e.g. 'swebench/sweb.eval.x86_64.{docker_id}:latest')")
    test_patch = row["test_patch"].encode()
    test_files = " ".join(shlex.quote(p) for p in sorted(touched_paths(test_patch)))
    command = (row.get("test_command") or test_command or DEFAULT_TEST_COMMAND).format(**names, test_files=test_files)
    expected = _tests(row, "FAIL_TO_PASS", where) + _tests(row, "PASS_TO_PASS", where)
    if not expected:
        raise TaskError(f"{where}: FAIL_TO_PASS and PASS_TO_PASS are both empty (expected at least one test id)")
    return Task(
        id=instance_id,
        problem=row["problem_statement"],
        test_command=command,
        expected_tests=tuple(dict.fromkeys(expected)),
        timeouts=TIMEOUTS,
        image=task_image,
        solution_patch=row["patch"].encode() if row.get("patch") else None,
        repo_dir=row.get("repo_dir") or DEFAULT_REPO_DIR,
        base_commit=row["base_commit"],
        test_patch=test_patch,
        # The official images install the repository in develop mode from /testbed; the agent works
        # on its copy in the workspace, so its own test runs must import that copy, as grading does.
        agent_env={"PYTHONPATH": WORKSPACE},
    )


def load(path: Path, image: str | None = None, test_command: str | None = None) -> list[Task]:
    """Every instance of a SWE-bench JSONL file, in file order."""
    if not path.is_file():
        raise TaskError(f"{path}: not found (expected a SWE-bench JSONL file; set evaluation.benchmark.path)")
    tasks = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
        except ValueError as err:
            raise TaskError(f"{where}: not a JSON object ({err})") from None
        if not isinstance(row, dict):
            raise TaskError(f"{where}: expected a JSON object per line, got {type(row).__name__}")
        tasks.append(to_task(row, where, image, test_command))
    return tasks
