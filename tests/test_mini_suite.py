"""The built-in `mini` suite is well formed, and every task is a real, solvable problem.

Structure (no Docker): each task folder loads, names itself, keeps its tests hidden, lists every
hidden test as expected, and ships a reference patch that touches only workspace files and
applies to a fresh copy.

Grading (Docker): every task goes through the real grader in a real sandbox twice: the untouched
workspace must be unresolved with at least one expected test failing, and the reference solution
must be resolved with every expected test passed. One sandbox per task holds both gradings (in
separate work directories) to keep container starts down; a small thread pool runs tasks side by
side.
"""

from __future__ import annotations

import ast
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from dgm.benchmarks import MINI_DIR
from dgm.benchmarks.task import Task, load_task_dir, load_task_folders
from dgm.evaluation.diffpaths import touched_paths

TASK_DIRS = sorted(p for p in MINI_DIR.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))
REQUIRED = ("task.yaml", "problem.md", "workspace", "tests", "solution.patch")
MAX_MODULE_LINES = 150


def _hidden_test_ids(tests_dir: Path) -> set[str]:
    """Node ids of the top-level test functions in the hidden test files (no classes, no params)."""
    ids = set()
    for path in sorted(tests_dir.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        ids |= {f"tests/{path.name}::{node.name}" for node in tree.body
                if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}
    return ids


def test_suite_has_enough_tasks():
    assert len(TASK_DIRS) >= 24
    assert [t.id for t in load_task_folders(MINI_DIR)] == [p.name for p in TASK_DIRS]


@pytest.mark.parametrize("folder", TASK_DIRS, ids=lambda p: p.name)
def test_task_folder_is_well_formed(folder: Path):
    for name in REQUIRED:
        assert (folder / name).exists(), f"{folder.name}: {name} missing"
    task = load_task_dir(folder)
    spec = yaml.safe_load((folder / "task.yaml").read_text(encoding="utf-8"))
    assert task.id == folder.name
    assert spec["timeouts"] == {"solve": 600, "test": 60}
    assert not (folder / "workspace" / "tests").exists(), "the workspace must not have its own tests/"
    assert not any(rel.split("/", 1)[0] == "tests" for rel in task.workspace)

    # every hidden test is expected, and every expected test exists
    assert task.expected_tests, "expected_tests is empty"
    assert len(set(task.expected_tests)) == len(task.expected_tests)
    assert set(task.expected_tests) == _hidden_test_ids(folder / "tests")

    # a small realistic codebase: 1-4 real modules, none longer than the limit
    modules = {rel: data.decode("utf-8").count("\n") for rel, data in task.workspace.items() if rel.endswith(".py")}
    substantial = [rel for rel, lines in modules.items() if lines >= 15 and not rel.startswith("checks/")]
    assert 1 <= len(substantial) <= 4, substantial
    assert max(modules.values()) <= MAX_MODULE_LINES, modules

    # the statement is an issue, not the hidden tests
    assert "def test_" not in task.problem and "assert " not in task.problem


@pytest.mark.parametrize("folder", TASK_DIRS, ids=lambda p: p.name)
def test_solution_patch_touches_only_workspace_files_and_applies(folder: Path):
    patch = (folder / "solution.patch").read_bytes()
    paths = touched_paths(patch)
    assert paths, "empty solution.patch"
    assert not any(p == "tests" or p.startswith("tests/") for p in paths), paths
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        subprocess.run(["cp", "-r", str(folder / "workspace"), str(ws)], check=True)
        done = subprocess.run(["git", "apply", "--check", "-"], cwd=ws, input=patch, capture_output=True)
        assert done.returncode == 0, done.stderr.decode()


def _grade_both_ways(task: Task, run: str) -> list[str]:
    """Problems found grading `task` untouched and with its reference solution (empty: fine)."""
    from dgm.config import SandboxConfig
    from dgm.evaluation.grader import grade
    from dgm.sandbox.docker_backend import DockerSandbox

    problems = []
    with DockerSandbox(SandboxConfig(), run=run, job=f"mini-{task.id}", role="grade", image=task.image) as sb:
        untouched = grade(sb, task, b"", workdir="/work/untouched")
        solved = grade(sb, task, task.solution, workdir="/work/solved")
    if untouched.resolved:
        problems.append(f"{task.id}: untouched workspace is resolved ({untouched.reason})")
    elif not untouched.tests:  # unresolved must come from failing tests, not from a broken run
        problems.append(f"{task.id}: untouched workspace produced no test report ({untouched.reason})")
    if not solved.resolved:
        problems.append(f"{task.id}: reference solution is unresolved ({solved.reason})\n{solved.output[-1500:]}")
    elif any(solved.tests.get(node) != "passed" for node in task.expected_tests):
        problems.append(f"{task.id}: reference solution left expected tests unpassed")
    return problems


@pytest.mark.docker
def test_reference_solutions_resolve_and_untouched_workspaces_do_not(docker_ready, run_label):
    import docker

    tasks = load_task_folders(MINI_DIR)
    with ThreadPoolExecutor(max_workers=4) as pool:
        problems = [p for found in pool.map(lambda t: _grade_both_ways(t, run_label), tasks) for p in found]
    assert not problems, "\n".join(problems)
    leftover = docker.from_env().containers.list(all=True, filters={"label": f"dgm.run={run_label}"})
    assert leftover == []
