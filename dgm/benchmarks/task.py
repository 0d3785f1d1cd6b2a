"""A benchmark task, and the loader for the task-folder format the built-in `mini` suite uses.

A task is everything the evaluator needs to pose a problem and grade the answer: the statement
the agent reads, the files it starts from, and the hidden tests (or, for the `scored` suite, the
hidden scorer) it never sees. Every suite
(`mini`, `humaneval`, `swebench`, `polyglot`, `scored`) turns its own source format into `Task` objects, so
the solve and grade code knows one shape only.

Task folder layout:
    task.yaml      id, test_command, expected_tests, timeouts {solve, test}, image
    problem.md     the statement shown to the agent
    workspace/     the files the agent starts from
    tests/         hidden tests, restored at <workspace>/tests/... when grading
    solution.patch or solution/   a reference answer (a diff, or files overlaid on workspace/)
"""

from __future__ import annotations

import functools
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dgm.errors import DgmError
from dgm.evaluation.diffpaths import touched_paths

DEFAULT_TEST_COMMAND = "python3 -m pytest tests"
# Never part of a task: byte-code and editor droppings that appear when someone runs a task's
# tests on the host.
_IGNORED_PARTS = {"__pycache__", ".pytest_cache", ".DS_Store"}


class TaskError(DgmError):
    """A task definition is malformed."""


@dataclass(frozen=True)
class Timeouts:
    solve: float = 600.0   # seconds the agent may run
    test: float = 120.0    # seconds the hidden tests may run


@dataclass(frozen=True)
class Task:
    """One problem. Paths in `workspace`, `hidden_tests` and diffs are relative to the workspace.

    `repo_dir` names a directory inside the task's image to start from instead of (or under)
    `workspace` files: SWE-bench images carry the repository at /testbed. `test_patch` is a
    diff of hidden tests applied at grading time after `hidden_tests` are written (SWE-bench
    ships tests as a patch against files the host never sees). `results` and `rule` name the
    grader's strategies for reading per-test outcomes and deciding from them (docs/evaluation.md).
    """

    id: str
    problem: str
    workspace: Mapping[str, bytes] = field(default_factory=dict)
    hidden_tests: Mapping[str, bytes] = field(default_factory=dict)
    test_command: str = DEFAULT_TEST_COMMAND
    expected_tests: tuple[str, ...] = ()
    timeouts: Timeouts = field(default_factory=Timeouts)
    image: str | None = None
    solution_patch: bytes | None = None
    solution_files: Mapping[str, bytes] | None = None
    repo_dir: str | None = None
    base_commit: str | None = None
    test_patch: bytes | None = None
    agent_env: Mapping[str, str] = field(default_factory=dict)   # extra environment of the agent's sandbox and tests
    results: str = "pytest"        # how per-test outcomes are read (dgm.evaluation.results.FORMATS)
    rule: str = "all_passed"       # which outcomes of which tests resolve it (dgm.evaluation.verdict.RULES)
    fail_to_pass: tuple[str, ...] = ()   # SWE-bench: the expected tests the fix must make pass (rule "swebench")
    score_command: str | None = None     # `scored` suite: graded by this command's score, not by tests
    scorer: Mapping[str, bytes] = field(default_factory=dict)   # `scored`: files mounted read-only at /work/scorer
    # Paths the grader restores like tests (see protect.matches_protected for the pattern syntax):
    # a Polyglot exercise's build files and its runner's configuration and hooks.
    protected_paths: tuple[str, ...] = ()

    @functools.cached_property
    def solution(self) -> bytes | None:
        """The reference answer as a binary-safe git diff against the workspace (None if none)."""
        if self.solution_patch is not None:
            return self.solution_patch
        if self.solution_files is None:
            return None
        return overlay_diff(self.workspace, self.solution_files)

    @property
    def test_paths(self) -> tuple[str, ...]:
        """Every path the hidden tests occupy: written files and files the test patch touches."""
        paths = set(self.hidden_tests)
        if self.test_patch:
            paths |= touched_paths(self.test_patch)
        return tuple(sorted(paths))


# ---------------------------------------------------------------------------------------------
# Diffs between file sets


def _git(cwd: Path, *args: str) -> bytes:
    env = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(cwd),
           "GIT_AUTHOR_NAME": "dgm", "GIT_AUTHOR_EMAIL": "dgm@localhost",
           "GIT_COMMITTER_NAME": "dgm", "GIT_COMMITTER_EMAIL": "dgm@localhost"}
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, check=False)
    if done.returncode != 0:
        raise DgmError(f"git {args[0]} failed while building a task diff: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def write_files(root: Path, files: Mapping[str, bytes]) -> None:
    for rel, data in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def overlay_diff(base: Mapping[str, bytes], overlay: Mapping[str, bytes]) -> bytes:
    """`git diff --binary` from `base` to `base` with `overlay` written on top.

    Task files are trusted data (they ship with the framework or come from the user), so the
    diff is made with the host's git in a throw-away repository.
    """
    with tempfile.TemporaryDirectory(prefix="dgm-task-") as tmp:
        root = Path(tmp)
        write_files(root, base)
        _git(root, "init", "-q", ".")
        _git(root, "add", "-A", "-f")
        _git(root, "commit", "-q", "--allow-empty", "--no-verify", "-m", "base")
        write_files(root, overlay)
        _git(root, "add", "-A", "-f")
        return _git(root, "diff", "--cached", "--binary", "--no-renames", "HEAD")


def read_tree(root: Path) -> dict[str, bytes]:
    """Every file under `root` as relative posix path -> bytes (symlinks are not followed)."""
    files: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if _IGNORED_PARTS.intersection(rel.parts) or path.suffix == ".pyc":
            continue
        if path.is_symlink():
            raise TaskError(f"{path}: symbolic links are not supported in task files (expected regular files)")
        if path.is_file():
            files[rel.as_posix()] = path.read_bytes()
    return files


# ---------------------------------------------------------------------------------------------
# Task folders


class _TimeoutsSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    solve: float = Field(default=Timeouts.solve, gt=0)
    test: float = Field(default=Timeouts.test, gt=0)


class _TaskSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
    test_command: str = Field(default=DEFAULT_TEST_COMMAND, min_length=1)
    expected_tests: list[str] = Field(default_factory=list)
    timeouts: _TimeoutsSpec = Field(default_factory=_TimeoutsSpec)
    image: str | None = None


def _spec_error(path: Path, err: ValidationError) -> TaskError:
    first = err.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(top level)"
    if first["type"] == "extra_forbidden":
        return TaskError(f"{path}: unknown field '{where}' (expected id, test_command, expected_tests, timeouts, image)")
    if first["type"] == "missing":
        return TaskError(f"{path}: missing required field '{where}'")
    return TaskError(f"{path}: field '{where}': {first['msg']}, got {first.get('input')!r}")


def load_task_dir(folder: Path) -> Task:
    """Read one task folder; a malformed one raises TaskError naming the file and the field."""
    spec_path = folder / "task.yaml"
    if not spec_path.is_file():
        raise TaskError(f"{spec_path}: missing (expected a task.yaml with at least an 'id')")
    try:
        raw = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise TaskError(f"{spec_path}: malformed YAML: {getattr(err, 'problem', None) or err}") from None
    if not isinstance(raw, dict):
        raise TaskError(f"{spec_path}: expected a mapping of fields, got {type(raw).__name__}")
    try:
        spec = _TaskSpec.model_validate(raw)
    except ValidationError as err:
        raise _spec_error(spec_path, err) from None
    for i, node in enumerate(spec.expected_tests):
        if "::" not in node or not node.startswith("tests/"):
            raise TaskError(f"{spec_path}: field 'expected_tests.{i}': expected a pytest node id under tests/ "
                            f"like tests/test_x.py::test_y, got {node!r}")

    problem_path = folder / "problem.md"
    if not problem_path.is_file() or not problem_path.read_text(encoding="utf-8").strip():
        raise TaskError(f"{problem_path}: missing or empty (expected the problem statement)")
    workspace_dir, tests_dir = folder / "workspace", folder / "tests"
    if not workspace_dir.is_dir():
        raise TaskError(f"{workspace_dir}: missing (expected the directory the agent starts from)")
    hidden = {f"tests/{rel}": data for rel, data in read_tree(tests_dir).items()} if tests_dir.is_dir() else {}
    if not hidden:
        raise TaskError(f"{tests_dir}: missing or empty (expected at least one hidden test file)")
    for i, node in enumerate(spec.expected_tests):
        if node.split("::", 1)[0] not in hidden:
            raise TaskError(f"{spec_path}: field 'expected_tests.{i}': {node!r} names a file that is not in tests/")

    patch_path, overlay_dir = folder / "solution.patch", folder / "solution"
    if patch_path.exists() and overlay_dir.exists():
        raise TaskError(f"{folder}: both solution.patch and solution/ exist (expected at most one reference answer)")
    return Task(
        id=spec.id,
        problem=problem_path.read_text(encoding="utf-8"),
        workspace=read_tree(workspace_dir),
        hidden_tests=hidden,
        test_command=spec.test_command,
        expected_tests=tuple(spec.expected_tests),
        timeouts=Timeouts(solve=spec.timeouts.solve, test=spec.timeouts.test),
        image=spec.image,
        solution_patch=patch_path.read_bytes() if patch_path.is_file() else None,
        solution_files=read_tree(overlay_dir) if overlay_dir.is_dir() else None,
    )


def load_task_folders(root: Path) -> list[Task]:
    """Every task folder directly under `root` (folders with a task.yaml), sorted by id."""
    if not root.is_dir():
        raise TaskError(f"{root}: not a directory (expected a folder of task folders)")
    tasks = [load_task_dir(child) for child in sorted(root.iterdir()) if (child / "task.yaml").is_file()]
    ids = [task.id for task in tasks]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise TaskError(f"{root}: duplicate task id(s) {', '.join(duplicates)} (expected one folder per id)")
    return sorted(tasks, key=lambda task: task.id)
