"""The grader's host-side rules: which paths a diff touches, what gets undone, how reports read."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from dgm.benchmarks.task import Task, Timeouts
from dgm.evaluation import protect
from dgm.evaluation.diffpaths import touched_paths
from dgm.errors import DgmError
from dgm.evaluation.grader import decide
from dgm.evaluation.results import Produced, ReportError, RunPaths, get_format
from dgm.evaluation.results.junit import parse_report
from dgm.evaluation.verdict import get_rule


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
    ("conftest.py", "test configuration"),    # the root's conftest applies to every test
    ("pkg/deep/conftest.py", None),           # a source package's own conftest: not for the hidden tests
    ("pytest.ini", None),                     # start-up configs stand; the runner reads their starting version
    ("setup.cfg", None),
    ("sub/pyproject.toml", None),
    ("pytest.py", "shadows the test runner"),
    ("_pytest/main.py", "shadows the test runner"),
    ("src/_pytest/main.py", "shadows the test runner"),   # no _pytest in the starting workspace
    ("sitecustomize.py", "shadows the test runner"),
    ("lib/usercustomize/__init__.py", "shadows the test runner"),
    ("__pycache__/two_fer_test.cpython-311.pyc", "byte code"),
    ("lib/helper.pyc", "byte code"),
    ("calc.py", None),
    ("docs/testing.md", None),
])
def test_protection_rules(path, reason):
    assert protect.reason_to_revert(path, {"tests/test_calc.py"}, {"tests"}) == reason


def test_the_pytest_repositorys_own_runner_sources_stay_editable():
    runner = frozenset({"src/_pytest", "src/pytest"})
    assert protect.reason_to_revert("src/_pytest/python.py", {"testing/test_x.py"}, {"testing"},
                                    baseline_runner=runner) is None
    assert protect.reason_to_revert("src/_pytest/new.py", {"testing/test_x.py"}, {"testing"}, added=True,
                                    baseline_runner=runner) is None
    assert protect.reason_to_revert("pytest.py", {"testing/test_x.py"}, {"testing"}, added=True,
                                    baseline_runner=runner) == "shadows the test runner"


@pytest.mark.parametrize("path", ["test_extra.py", "pkg/thing_test.py", "main_test.go", "cmd/x/x_test.go",
                                  "src/a.test.js", "lib/b.spec.ts", "src/__tests__/c.js",
                                  "src/test/java/FooTest.java", "FooTests.kt", "tests/cheat.rs",
                                  "two_fer_test.cpp", "test_main.c", "x_spec.rb", "pkg/conftest.py"])
def test_new_files_a_runner_would_collect_as_tests_are_undone(path):
    assert protect.reason_to_revert(path, {"hidden_test.go"}, set(), added=True) == "new test file"
    assert protect.reason_to_revert(path, {"hidden_test.go"}, set(), added=False) is None


@pytest.mark.parametrize("path", ["testing_utils.py", "contest.py", "src/latest.js", "attestation.go", "Tester.java"])
def test_new_source_files_with_test_like_names_stand(path):
    assert protect.reason_to_revert(path, {"hidden_test.go"}, set(), added=True) is None


def test_a_test_at_the_root_protects_only_itself_and_new_shadowing_modules_are_undone():
    files, dirs = protect.hidden_locations(("two_fer_test.py",))
    assert files == {"two_fer_test.py"} and dirs == set()
    undo = protect.to_revert({"two_fer.py", "two_fer_test.py", "json/__init__.py", "helpers.py"},
                             ("two_fer_test.py",), shadowing_entries={"json"})
    assert undo == {"two_fer_test.py": "test location", "json/__init__.py": "shadows an installed module"}


REPORT = b"""<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="catch2">
<testcase classname="two_fer.global" name="no name given" time="0.0" />
<testcase classname="two_fer.global" name="a name given"><failure message="x"/></testcase>
<testcase classname="two_fer.global" name="skipped one"><skipped message="s"/></testcase>
<testcase classname="two_fer.global" name="no name given"><error message="teardown"/></testcase>
<testcase name="bare"/>
</testsuite></testsuites>"""


def test_junit_report_maps_to_test_ids_with_the_worst_outcome_kept():
    assert parse_report(REPORT) == {
        "two_fer.global::no name given": "error",          # passed, then reported again as an error
        "two_fer.global::a name given": "failed",
        "two_fer.global::skipped one": "skipped",
        "bare": "passed",
    }


def test_junit_reports_with_a_dtd_or_garbage_are_refused():
    with pytest.raises(ReportError, match="DTD"):
        parse_report(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><testsuites/>')
    with pytest.raises(ReportError, match="not valid XML"):
        parse_report(b"PASSED")


def _task(expected: tuple[str, ...] = ()) -> Task:
    return Task(id="t", problem="p", hidden_tests={"tests/test_a.py": b""}, expected_tests=expected,
                timeouts=Timeouts(test=30))


PYTEST = get_format("pytest")


def test_verdict_without_expected_tests_needs_every_hidden_test_passed_and_at_least_one():
    task = _task()
    assert decide(task, PYTEST, {"tests/test_a.py::t1": "passed"}) == (True, "1/1 hidden tests passed")
    assert not decide(task, PYTEST, {})[0]                                   # no tests at all
    assert not decide(task, PYTEST, {"extra_test.py::t": "passed"})[0]       # not a hidden test
    assert not decide(task, PYTEST, {"tests/test_a.py::t1": "passed", "tests/test_a.py::t2": "failed"})[0]
    assert not decide(task, PYTEST, {"tests/test_a.py::t1": "skipped"})[0]
    assert not decide(task, PYTEST, {"tests/test_a.py::t1": "passed", "tests/test_a.py::t2": "not_run"})[0]
    assert not decide(task, PYTEST, {"tests/test_a.py::t1": "xfailed"})[0]


def test_verdict_with_expected_tests_needs_each_listed_as_passed():
    task = _task(("tests/test_a.py::t1", "tests/test_a.py::t2"))
    both = {"tests/test_a.py::t1": "passed", "tests/test_a.py::t2": "passed", "tests/test_a.py::t3": "failed"}
    assert decide(task, PYTEST, both)[0]                  # other tests may fail (SWE-bench semantics)
    resolved, reason = decide(task, PYTEST, {"tests/test_a.py::t1": "passed"})
    assert not resolved and reason == "1/2 expected tests passed; tests/test_a.py::t2: not reported"
    extra = {"tests/test_a.py::t1": "passed", "main_test.go::TestMain": "passed"}
    assert not decide(task, PYTEST, extra)[0]             # an unexpected test never stands in


def _report(tests: dict[str, str], exitstatus: int = 0) -> Produced:
    data = json.dumps({"format": "dgm-pytest/1", "exitstatus": exitstatus, "tests": tests}).encode()
    return Produced(report=data, output="", exit_code=exitstatus)


def test_pytest_report_is_read_and_anything_else_refused():
    assert PYTEST.parse(_report({"tests/test_a.py::t1": "xfailed"})) == {"tests/test_a.py::t1": "xfailed"}
    with pytest.raises(ReportError, match="no test report"):
        PYTEST.parse(Produced(report=None, output="1 passed", exit_code=0))
    with pytest.raises(ReportError, match="not the grader plugin"):
        PYTEST.parse(Produced(report=b"<testsuites/>", output="", exit_code=0))
    with pytest.raises(ReportError, match="bad test outcomes"):
        PYTEST.parse(_report({"tests/test_a.py::t1": "PASSED"}))
    with pytest.raises(ReportError, match="internal error"):
        PYTEST.parse(_report({"tests/test_a.py::t1": "passed"}, exitstatus=3))


def test_formats_prepare_the_command_and_unknown_names_fail():
    paths = RunPaths(workdir="/work/workspace", scratch="/work/.s", report="/work/.s/r/x.report", token="abc")
    prepared = PYTEST.prepare("python3 -m pytest tests", paths)
    assert prepared.command == "python3 -m pytest tests"          # options travel in PYTEST_ADDOPTS
    assert "-p dgm_results_abc" in prepared.env["PYTEST_ADDOPTS"]
    assert "--rootdir=/work/workspace" in prepared.env["PYTEST_ADDOPTS"]
    assert prepared.env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] == "1"
    assert "abc-py/lib/python3.11/site-packages/dgm_results_abc.py" in prepared.files
    junit = get_format("junit")
    assert junit.prepare("ctest && cp r.xml {report}", paths).command == "ctest && cp r.xml /work/.s/r/x.report"
    with pytest.raises(ReportError, match="needs {report}"):
        junit.prepare("cargo test", paths)
    with pytest.raises(DgmError, match="unknown results format 'nope'"):
        get_format("nope")
    with pytest.raises(DgmError, match="unknown verdict rule 'nope'"):
        get_rule("nope")


CFG = "[tool:pytest]\naddopts = --strict-markers\n"


@pytest.mark.parametrize("name,before,after,harmless", [
    ("setup.cfg", CFG, CFG + "markers =\n    slow: long\n", True),                 # a gold patch's marker
    ("setup.cfg", CFG, CFG + "filterwarnings =\n    ignore::DeprecationWarning\n", True),
    ("setup.cfg", CFG, "[metadata]\nname = x\n\n" + CFG, True),                    # not pytest's section
    ("setup.cfg", CFG, "[tool:pytest]\naddopts = --strict-markers -p evil\n", False),
    ("setup.cfg", CFG, CFG + "markers = slow\npythonpath = evil\n", False),        # a safe key does not carry others
    ("setup.cfg", CFG, CFG + "python_files = *.py\n", False),
    ("tox.ini", None, "[pytest]\naddopts = -p evil\n", False),                     # an added ini file
    ("pytest.ini", None, "[pytest]\nmarkers = slow\n", True),
    ("pyproject.toml", '[tool.pytest.ini_options]\naddopts = "-ra"\n',
     '[tool.pytest.ini_options]\naddopts = "-ra"\nmarkers = ["slow"]\n', True),
    ("pyproject.toml", '[project]\nname = "x"\n', '[tool.pytest.ini_options]\naddopts = "-p evil"\n', False),
    ("pyproject.toml", '[project]\nname = "x"\n', '[project\n', False),              # does not parse: pinned
    ("setup.cfg", CFG, CFG.encode() + b"\xff", False),
])
def test_only_changes_that_load_no_code_leave_a_start_up_config_unpinned(name, before, after, harmless):
    from dgm.evaluation.results.pytest_ini import harmless_change

    def raw(v):
        return v if v is None or isinstance(v, bytes) else v.encode()
    assert harmless_change(name, raw(before), raw(after)) is harmless
