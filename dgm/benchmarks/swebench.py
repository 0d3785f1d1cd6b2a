"""The `swebench` suite: SWE-bench-format JSONL plus the instance images the user has.

Each JSONL row carries instance_id, repo, base_commit, problem_statement, patch (the reference
answer), test_patch, FAIL_TO_PASS and PASS_TO_PASS (lists of pytest node ids, or JSON strings of
lists as in the published dataset). The image holds the repository at `repo_dir` (default
/testbed, as the official instance images do) checked out at base_commit, with its environment.

Which image and which test command: a row may name them (`image`, `test_command`, `repo_dir`);
otherwise the config's templates apply. Templates are `str.format` strings over
`{instance_id}`, `{docker_id}` (the official image name form: lower case, `__` -> `_1776_`) and,
for the test command, `{test_files}` (the test files the test patch touches, shell-quoted; files
the official harness does not run, such as `.json` or `.toml`, are left out as it leaves them out).

A row whose `repo` and `version` the official `swebench` package knows (Django, SymPy, pytest,
astropy, ...) and that names no test command is graded as the official harness grades it
(`swebench_official`): its test command and test selection, its log parser where the runner is
not pytest, and its verdict rule. Other rows: every FAIL_TO_PASS and PASS_TO_PASS test must pass.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

from dgm.agent_runner import WORKSPACE
from dgm.benchmarks import swebench_official
from dgm.benchmarks.task import Task, TaskError, Timeouts

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
    fail_to_pass = _tests(row, "FAIL_TO_PASS", where)
    expected = fail_to_pass + _tests(row, "PASS_TO_PASS", where)
    if not expected:
        raise TaskError(f"{where}: FAIL_TO_PASS and PASS_TO_PASS are both empty (expected at least one test id)")
    try:
        template = row.get("test_command") or test_command
        official = None if template else swebench_official.test_command(row)
        log_repo = None
        if official is not None:
            command = official
            log_repo = None if swebench_official.uses_pytest(row["repo"], row["version"]) else row["repo"]
        else:
            test_files = " ".join(shlex.quote(p) for p in swebench_official.test_files(test_patch))
            command = (template or DEFAULT_TEST_COMMAND).format(**names, test_files=test_files)
    except swebench_official.OfficialHarnessMissing as err:
        raise TaskError(f"{where}: SWE-bench rows are graded with the official harness's tables: {err}") from None
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
        results=f"swebench_log:{log_repo}" if log_repo else "pytest",
        rule="swebench",
        fail_to_pass=tuple(dict.fromkeys(fail_to_pass)),
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
