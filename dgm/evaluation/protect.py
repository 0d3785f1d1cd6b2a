"""Which changes of an agent's diff the grader undoes before it runs the hidden tests.

An agent is graded on its source changes, not on changes to what judges them. The grader reverts
(restores the original, or removes a file that did not exist) every path the diff touched that:
- is a hidden test, or lies in a directory that holds hidden tests (the "test locations"),
- is a pytest configuration file or conftest.py, anywhere (they can force or skip outcomes),
- would shadow the test runner: `pytest`/`_pytest` modules, site customisation hooks, or any
  new top-level module whose name the grading image already provides (found in the sandbox);
- is byte code (`__pycache__/`, `*.pyc`): Python may load a hash-based .pyc without checking
  that it matches its source, so shipped byte code could stand in for a hidden test;
- is a build output (`build_outputs`: `target/`, `node_modules/`, `*.class`, ...), which could
  stand in for what the grader builds;
- matches one of the task's protected paths (`Task.protected_paths`): a Polyglot exercise's
  build files and its language's runner configuration and hooks (`package.json`, `build.rs`,
  `CMakeLists.txt`, a new `*_test.go` with a TestMain, ...).
"""

from __future__ import annotations

import fnmatch
from pathlib import PurePosixPath

from dgm.evaluation.build_outputs import is_build_output

CONFIG_FILES = frozenset({"conftest.py", "pytest.ini", ".pytest.ini", "tox.ini", "setup.cfg", "pyproject.toml"})
RUNNER_MODULES = frozenset({"pytest", "_pytest", "sitecustomize", "usercustomize"})
# Suffixes under which Python imports a module from a directory on sys.path.
IMPORT_SUFFIXES = (".py", ".pyc", ".pyw", ".so", ".pth")


def module_name(entry: str) -> str:
    """The module a top-level workspace entry provides: `json.py` -> `json`, `pkg/` -> `pkg`."""
    if "." in entry and any(entry.endswith(s) for s in IMPORT_SUFFIXES):
        return entry.split(".", 1)[0]
    return entry


def hidden_locations(test_paths: tuple[str, ...]) -> tuple[set[str], set[str]]:
    """(files, directories): the hidden test files and the directories holding them.

    A test that sits at the workspace root (Exercism puts `x_test.py` next to `x.py`) protects
    only itself: the root is where the agent's solution lives.
    """
    files = set(test_paths)
    dirs = {str(PurePosixPath(p).parent) for p in test_paths} - {"."}
    return files, dirs


def reason_to_revert(path: str, test_files: set[str], test_dirs: set[str]) -> str | None:
    """Why the grader undoes the diff's change to `path`, or None when the change stands."""
    parts = PurePosixPath(path).parts
    # An ancestor of a test directory counts too: replacing `tests` by a symlink would redirect
    # where the hidden tests are written.
    if path in test_files or any(path == d or path.startswith(d + "/") or d.startswith(path + "/")
                                 for d in test_dirs):
        return "test location"
    if parts and parts[-1] in CONFIG_FILES:
        return "test configuration"
    if any(module_name(part) in RUNNER_MODULES for part in parts):
        return "shadows the test runner"
    if "__pycache__" in parts or path.endswith(".pyc"):
        return "byte code"
    if is_build_output(path):
        return "build output"
    return None


def matches_protected(path: str, patterns: tuple[str, ...]) -> bool:
    """A pattern with a `/` names a path and everything below it (`src/test`); one without names
    any path component, with shell wildcards (`*_test.go`, `node_modules`, `babel.config.*`)."""
    parts = PurePosixPath(path).parts
    for pattern in patterns:
        if "/" in pattern.rstrip("/"):
            stem = pattern.rstrip("/")
            if path == stem or path.startswith(stem + "/") or stem.startswith(path + "/"):
                return True
        elif any(fnmatch.fnmatchcase(part, pattern) for part in parts):
            return True
    return False


def to_revert(touched: set[str], test_paths: tuple[str, ...], shadowing_entries: set[str],
              protected: tuple[str, ...] = ()) -> dict[str, str]:
    """path -> reason for every touched path the grader must undo.

    `shadowing_entries` are top-level workspace entries the diff created whose module name the
    grading image already provides (found in the sandbox); a path inside one is undone.
    """
    files, dirs = hidden_locations(test_paths)
    out: dict[str, str] = {}
    for path in sorted(touched):
        reason = reason_to_revert(path, files, dirs)
        if reason is None and PurePosixPath(path).parts[0] in shadowing_entries:
            reason = "shadows an installed module"
        if reason is None and matches_protected(path, protected):
            reason = "build file or test-runner hook"
        if reason is not None:
            out[path] = reason
    return out
