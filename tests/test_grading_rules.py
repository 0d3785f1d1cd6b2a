"""The grader's host-side rules: which paths a diff touches, what gets undone, how reports read."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dgm.benchmarks.task import Task, Timeouts
from dgm.evaluation import protect
from dgm.evaluation.diffpaths import touched_paths
from dgm.evaluation.grader import judge, report_command
from dgm.evaluation.junit import ReportError, parse_report


def _git_diff(tmp_path: Path, setup, change) -> bytes:
    env = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(tmp_path),
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    repo = tmp_path / "repo"
    repo.mkdir()

    def git(*args: str) -> bytes:
        return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True).stdout

    git("init", "-q")
    setup(repo)
    git("add", "-A")
    git("commit", "-q", "--allow-empty", "-m", "base")
    change(repo)
    git("add", "-A")
    return git("diff", "--cached", "--binary", "-M", "HEAD")


def test_touched_paths_cover_adds_deletes_renames_binaries_and_odd_names(tmp_path: Path):
    def setup(repo: Path) -> None:
        (repo / "keep.py").write_text("a\n")
        (repo / "gone.py").write_text("x\n")
        (repo / "old name.py").write_text("same content for a rename\n" * 5)
        (repo / "img.bin").write_bytes(b"\x00\x01")

    def change(repo: Path) -> None:
        (repo / "keep.py").write_text("b\n")
        (repo / "gone.py").unlink()
        (repo / "old name.py").rename(repo / "new name.py")
        (repo / "img.bin").write_bytes(b"\x00\x02")
        (repo / "dir with space").mkdir()
        (repo / "dir with space" / "é.py").write_text("x\n")
        (repo / "tab\there.py").write_text("x\n")

    diff = _git_diff(tmp_path, setup, change)
    assert touched_paths(diff) == {"keep.py", "gone.py", "old name.py", "new name.py", "img.bin",
                                   "dir with space/é.py", "tab\there.py"}


def test_hunk_lines_that_look_like_headers_are_content():
    diff = (b"diff --git a/notes.txt b/notes.txt\n--- a/notes.txt\n+++ b/notes.txt\n@@ -1,2 +1,2 @@\n"
            b"--- a/conftest.py\n-+++ b/pytest.ini\n+++ b/tests/x.py\n+diff --git a/evil b/evil\n")
    assert touched_paths(diff) == {"notes.txt"}


@pytest.mark.parametrize("path,reason", [
    ("tests/test_calc.py", "test location"),
    ("tests/new_helper.py", "test location"),
    ("tests", "test location"),               # replacing the directory itself (e.g. by a symlink)
    ("pkg/deep/conftest.py", "test configuration"),
    ("pytest.ini", "test configuration"),
    ("sub/pyproject.toml", "test configuration"),
    ("pytest.py", "shadows the test runner"),
    ("_pytest/main.py", "shadows the test runner"),
    ("sitecustomize.py", "shadows the test runner"),
    ("__pycache__/two_fer_test.cpython-311.pyc", "byte code"),
    ("lib/helper.pyc", "byte code"),
    ("calc.py", None),
    ("docs/testing.md", None),
])
def test_protection_rules(path, reason):
    assert protect.reason_to_revert(path, {"tests/test_calc.py"}, {"tests"}) == reason


def test_a_test_at_the_root_protects_only_itself_and_new_shadowing_modules_are_undone():
    files, dirs = protect.hidden_locations(("two_fer_test.py",))
    assert files == {"two_fer_test.py"} and dirs == set()
    undo = protect.to_revert({"two_fer.py", "two_fer_test.py", "json/__init__.py", "helpers.py"},
                             ("two_fer_test.py",), shadowing_entries={"json"})
    assert undo == {"two_fer_test.py": "test location", "json/__init__.py": "shadows an installed module"}


REPORT = b"""<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
<testcase classname="tests.test_calc" name="test_add" file="tests/test_calc.py" line="2" time="0.0" />
<testcase classname="tests.test_calc.TestX" name="test_p[a b]" file="tests/test_calc.py" line="4" time="0.0" />
<testcase classname="tests.test_calc" name="test_fail" file="tests/test_calc.py" line="6"><failure message="x"/></testcase>
<testcase classname="tests.test_calc" name="test_skip" file="tests/test_calc.py" line="8"><skipped message="s"/></testcase>
<testcase classname="tests.test_calc" name="test_add" file="tests/test_calc.py" line="2"><error message="teardown"/></testcase>
<testcase classname="" name="tests.test_broken" file="tests/test_broken.py"><error message="collection failure"/></testcase>
</testsuite></testsuites>"""


def test_junit_report_maps_to_node_ids_with_the_worst_outcome_kept():
    assert parse_report(REPORT) == {
        "tests/test_calc.py::test_add": "error",          # passed, then failed in teardown
        "tests/test_calc.py::TestX::test_p[a b]": "passed",
        "tests/test_calc.py::test_fail": "failed",
        "tests/test_calc.py::test_skip": "skipped",
        "tests/test_broken.py": "error",
    }


def test_junit_reports_with_a_dtd_or_garbage_are_refused():
    with pytest.raises(ReportError, match="DTD"):
        parse_report(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><testsuites/>')
    with pytest.raises(ReportError, match="not valid XML"):
        parse_report(b"PASSED")


def _task(expected: tuple[str, ...] = ()) -> Task:
    return Task(id="t", problem="p", hidden_tests={"tests/test_a.py": b""}, expected_tests=expected,
                timeouts=Timeouts(test=30))


def test_judge_without_expected_tests_needs_every_hidden_test_passed_and_at_least_one():
    task = _task()
    assert judge(task, 0, False, {"tests/test_a.py::t1": "passed"}) == (True, "1/1 hidden tests passed")
    assert not judge(task, 0, False, {})[0]                                   # no tests at all
    assert not judge(task, 0, False, {"extra_test.py::t": "passed"})[0]       # not a hidden test
    assert not judge(task, 1, False, {"tests/test_a.py::t1": "passed", "tests/test_a.py::t2": "failed"})[0]
    assert not judge(task, 0, False, {"tests/test_a.py::t1": "skipped"})[0]
    assert not judge(task, 0, True, {"tests/test_a.py::t1": "passed"})[0]      # timed out


def test_judge_with_expected_tests_needs_each_listed_as_passed():
    task = _task(("tests/test_a.py::t1", "tests/test_a.py::t2"))
    both = {"tests/test_a.py::t1": "passed", "tests/test_a.py::t2": "passed", "tests/test_a.py::t3": "failed"}
    assert judge(task, 1, False, both)[0]                  # other tests may fail (SWE-bench semantics)
    resolved, reason = judge(task, 1, False, {"tests/test_a.py::t1": "passed"})
    assert not resolved and reason == "1/2 expected tests passed; tests/test_a.py::t2: not run"
    assert not judge(task, 2, False, both)[0]              # interrupted run: not a verdict


def test_report_options_are_added_to_pytest_commands_only():
    command, has_report = report_command("python3 -m pytest tests", "/tmp/r.xml", "/work/workspace")
    assert has_report and command.startswith("python3 -m pytest tests ")
    assert "--junitxml=/tmp/r.xml" in command and "--rootdir=/work/workspace" in command
    assert report_command("go test ./... 2>&1 | go-junit-report > {junit}", "/tmp/r.xml", "/w") == (
        "go test ./... 2>&1 | go-junit-report > /tmp/r.xml", True)
    assert report_command("cargo test", "/tmp/r.xml", "/w") == ("cargo test", False)
    assert judge(_task(), 0, False, None) == (True, "test command exited 0 (judged by exit status: no report)")
