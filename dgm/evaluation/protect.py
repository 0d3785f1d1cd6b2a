"""Which changes of an agent's diff the grader undoes before it runs the hidden tests.

An agent is graded on its source changes, not on changes to what judges them; but a real fix may
need to change almost any file, so only what judges is reverted (restored to the original, or
removed when it did not exist): every path the diff touched that
- is a hidden test, or lies in a directory that holds hidden tests (the "test locations");
- is a new file the runner would collect as a test (`test_*.py`, `*_test.go`, `*.spec.js`,
  `*Test.java`, `tests/*.rs`, ...: TEST_FILE_PATTERNS): results of tests that are not expected
  never count, and a new test file can still act at start-up (Go's `TestMain`);
- is a `conftest.py` in a directory pytest loads for the hidden tests (the root, a directory
  holding hidden tests, or an ancestor of one): it can force or skip their outcomes. A
  conftest.py elsewhere (a source package) stands: it only applies to tests collected under it;
- would shadow the test runner: site customisation hooks anywhere, a `pytest`/`_pytest` module
  or package the starting workspace did not have (the pytest repository's own `src/_pytest`
  stays editable), or any new top-level module whose name the grading image already provides;
- is byte code (`__pycache__/`, `*.pyc`): Python may load a hash-based .pyc without checking
  that it matches its source, so shipped byte code could stand in for a hidden test;
- is a build output (`build_outputs`: `target/`, `node_modules/`, `*.class`, ...), which could
  stand in for what the grader builds;
- matches one of the task's protected paths (`Task.protected_paths`): a Polyglot exercise's
  build files and its language's runner configuration and hooks (`package.json`, `build.rs`,
  `CMakeLists.txt`, a new `*_test.go` with a TestMain, ...).

Runner configuration files (pytest.ini, tox.ini, setup.cfg, pyproject.toml, ...) are not
reverted: the results format pins what the runner reads at start-up to their starting version
(see `results.pytest_plugin`), so a fix that changes them keeps its change.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import PurePosixPath

from dgm.evaluation.build_outputs import is_build_output

RUNNER_MODULES = frozenset({"pytest", "_pytest"})
STARTUP_HOOKS = frozenset({"sitecustomize", "usercustomize"})   # imported by every Python start-up
# File names that test runners collect as tests (by language). Matched against the file name, or
# the whole path for directory conventions (Rust integration tests).
TEST_FILE_PATTERNS = tuple(re.compile(p) for p in (
    r"(^|/)test_[^/]*\.py$", r"(^|/)[^/]*_test\.py$", r"(^|/)conftest\.py$",          # pytest
    r"(^|/)[^/]*_test\.go$",                                                           # go test
    r"(^|/)[^/]*\.(test|spec)\.[cm]?[jt]sx?$", r"(^|/)__tests__/",                      # jest, mocha
    r"(^|/)[^/]*Tests?\.(java|kt|scala)$", r"(^|/)src/test/",                           # JUnit, Maven/Gradle
    r"(^|/)tests/[^/]*\.rs$", r"(^|/)benches/[^/]*\.rs$",                               # cargo
    r"(^|/)[^/]*_(test|tests|spec)\.(cpp|cc|cxx|c|h|hpp)$", r"(^|/)test_[^/]*\.(cpp|cc|cxx|c)$",  # C/C++
    r"(^|/)[^/]*_(test|spec)\.(rb|exs?)$",                                               # ruby, elixir
))
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


def is_test_file(path: str) -> bool:
    """Whether a test runner of some language would collect `path` as a test file."""
    return any(pattern.search(path) for pattern in TEST_FILE_PATTERNS)


def _loads_conftest_for_tests(conftest_dir: str, test_files: set[str]) -> bool:
    """pytest applies a conftest.py to the tests at or below its directory."""
    return conftest_dir == "." or any(f.startswith(conftest_dir + "/") for f in test_files)


def reason_to_revert(path: str, test_files: set[str], test_dirs: set[str], added: bool = False,
                     baseline_runner: frozenset[str] = frozenset()) -> str | None:
    """Why the grader undoes the diff's change to `path`, or None when the change stands.

    `added`: the diff creates `path`. `baseline_runner`: starting-workspace paths whose module
    name is a runner module (`src/_pytest` in the pytest repository).
    """
    parts = PurePosixPath(path).parts
    # An ancestor of a test directory counts too: replacing `tests` by a symlink would redirect
    # where the hidden tests are written.
    if path in test_files or any(path == d or path.startswith(d + "/") or d.startswith(path + "/")
                                 for d in test_dirs):
        return "test location"
    if parts and parts[-1] == "conftest.py" and _loads_conftest_for_tests(str(PurePosixPath(path).parent), test_files):
        return "test configuration"
    if added and is_test_file(path):
        return "new test file"
    if any(module_name(part) in STARTUP_HOOKS for part in parts):
        return "shadows the test runner"
    for i, part in enumerate(parts):
        if module_name(part) in RUNNER_MODULES and "/".join(parts[:i + 1]) not in baseline_runner:
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
              added: set[str] = frozenset(), baseline_runner: frozenset[str] = frozenset(),
              protected: tuple[str, ...] = ()) -> dict[str, str]:
    """path -> reason for every touched path the grader must undo.

    `shadowing_entries` are top-level workspace entries the diff created whose module name the
    grading image already provides (found in the sandbox); a path inside one is undone. `added`
    are the paths the diff creates.
    """
    files, dirs = hidden_locations(test_paths)
    out: dict[str, str] = {}
    for path in sorted(touched):
        reason = reason_to_revert(path, files, dirs, path in added, baseline_runner)
        if reason is None and PurePosixPath(path).parts[0] in shadowing_entries:
            reason = "shadows an installed module"
        if reason is None and matches_protected(path, protected):
            reason = "build file or test-runner hook"
        if reason is not None:
            out[path] = reason
    return out
