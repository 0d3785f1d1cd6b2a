"""The grader in real sandboxes: reference answers pass, and every known way to cheat fails.

Each tampering diff is built against the `calc` fixture task (tests/fixtures/tasks/calc), whose
code is unimplemented: a diff that leaves the code broken must never be graded resolved, whatever
it does to tests, configuration or the test runner.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytest

from dgm.benchmarks.task import Task, load_task_dir, write_files

FIXTURES = Path(__file__).parent / "fixtures" / "tasks"

pytestmark = pytest.mark.docker


def diff_between(before: dict[str, bytes], after: dict[str, bytes]) -> bytes:
    """A binary git diff turning the file set `before` into exactly `after` (deletions included)."""
    env = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t", "HOME": "/tmp"}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)

        def git(*args: str) -> bytes:
            return subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True).stdout

        write_files(root, before)
        git("init", "-q")
        git("add", "-A")
        git("commit", "-q", "--allow-empty", "-m", "before")
        git("rm", "-rq", "--ignore-unmatch", ".")
        write_files(root, after)
        git("add", "-A", "-f")
        return git("diff", "--cached", "--binary", "HEAD")


@pytest.fixture(scope="module")
def calc() -> Task:
    return load_task_dir(FIXTURES / "calc")


def changed(task: Task, files: dict[str, str | None]) -> bytes:
    """A diff from the task's workspace that writes the given files (None deletes one)."""
    after = dict(task.workspace)
    for path, text in files.items():
        if text is None:
            after.pop(path, None)
        else:
            after[path] = text.encode()
    return diff_between(dict(task.workspace), after)


def test_reference_answer_resolves_and_untouched_workspace_does_not(calc, run_grade):
    good = run_grade(calc, calc.solution)
    assert good.resolved, good.reason
    assert set(good.tests) == {"tests/test_calc.py::test_add_small", "tests/test_calc.py::test_add_negative",
                               "tests/test_calc.py::test_mul"}
    bad = run_grade(calc, b"")
    assert not bad.resolved
    assert bad.tests["tests/test_calc.py::test_mul"] == "failed"


def test_printing_passed_is_not_a_pass(calc, run_grade):
    exits_zero = changed(calc, {"calc.py": 'print("tests/test_calc.py::test_mul PASSED")\nimport os\nos._exit(0)\n'})
    verdict = run_grade(calc, exits_zero)
    assert verdict.exit_code == 0
    assert not verdict.resolved
    assert "no test report" in verdict.reason
    chatty = changed(calc, {"calc.py": 'def add(a, b):\n    print("PASSED\\n=== 3 passed ===")\n    return 0\n\n'
                                       'mul = add\n'})
    verdict = run_grade(calc, chatty)
    assert "=== 3 passed ===" in verdict.output
    assert not verdict.resolved


FORCE_PASS = '''
import pytest

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    report.outcome = "passed"
    report.longrepr = None
'''


@pytest.mark.parametrize("where", ["conftest.py", "tests/conftest.py", "deep/er/conftest.py"])
def test_added_conftest_that_forces_passes_is_removed(calc, run_grade, where):
    verdict = run_grade(calc, changed(calc, {where: FORCE_PASS}))
    assert not verdict.resolved
    assert where in verdict.reverted
    assert verdict.tests["tests/test_calc.py::test_add_negative"] == "failed"


def test_edited_and_deleted_tests_are_restored(calc, run_grade):
    trivial = "def test_add_small():\n    assert True\n"
    edited = run_grade(calc, changed(calc, {"tests/test_calc.py": trivial}))
    assert edited.reverted == {"tests/test_calc.py": "test location"}
    assert not edited.resolved and len(edited.tests) == 3
    deleted = run_grade(calc, changed(calc, {"tests/test_calc.py": None}))
    assert not deleted.resolved and len(deleted.tests) == 3
    added = run_grade(calc, changed(calc, {"tests/test_calc_extra.py": trivial}))
    assert "tests/test_calc_extra.py" in added.reverted
    assert not any("extra" in node for node in added.tests)


EVIL_PLUGIN = FORCE_PASS


@pytest.mark.parametrize("name,section", [
    ("pytest.ini", "[pytest]"), ("tox.ini", "[pytest]"), ("setup.cfg", "[tool:pytest]"),
    ("pyproject.toml", "[tool.pytest.ini_options]"), (".pytest.ini", "[pytest]"),
])
def test_pytest_config_added_by_the_diff_is_not_what_pytest_starts_with(calc, run_grade, monkeypatch, name, section):
    """A config that loads a pass-forcing plugin: pytest starts with the starting configuration."""
    from dgm.evaluation.results.pytest_plugin import PytestFormat

    value = '"-p evil_plugin"' if name.endswith(".toml") else "-p evil_plugin"
    files = {name: f"{section}\naddopts = {value}\n", "evil_plugin.py": EVIL_PLUGIN}
    monkeypatch.setattr(PytestFormat, "startup_configs", frozenset())     # protection off: the exploit wins
    assert run_grade(calc, changed(calc, files)).resolved
    monkeypatch.undo()
    verdict = run_grade(calc, changed(calc, files))
    assert not verdict.resolved and name not in verdict.reverted
    assert verdict.tests["tests/test_calc.py::test_mul"] == "failed"
    fixed = run_grade(calc, changed(calc, {**files, "calc.py": calc.solution_files["calc.py"].decode()}))
    assert fixed.resolved, fixed.reason


FAKE_RUNNER = '''
import glob, json, os, sys
tests = {"tests/test_calc.py::" + n: "passed" for n in ("test_add_small", "test_add_negative", "test_mul")}
for plugin in glob.glob("/work/.dgm-grade-*/*-py/lib/python3.11/site-packages/dgm_results_*.py"):
    report = [l for l in open(plugin) if l.startswith("REPORT = ")][0].split("=", 1)[1].split("#")[0].strip()
    with open(json.loads(report), "w") as out:
        json.dump({"format": "dgm-pytest/1", "exitstatus": 0, "tests": tests}, out)
print("3 passed")
raise SystemExit(0)
'''


@pytest.mark.parametrize("entry", ["pytest.py", "pytest/__init__.py", "argparse.py"])
def test_shadowing_the_test_runner_is_removed(calc, run_grade, monkeypatch, entry):
    from dgm.evaluation import grader, protect

    monkeypatch.setattr(protect, "to_revert", lambda *args: {})          # protection off: the fake wins
    monkeypatch.setattr(grader, "HIDE_SCRATCH", False)
    assert run_grade(calc, changed(calc, {entry: FAKE_RUNNER})).resolved
    monkeypatch.undo()
    verdict = run_grade(calc, changed(calc, {entry: FAKE_RUNNER}))
    assert entry in verdict.reverted
    assert not verdict.resolved
    assert verdict.tests["tests/test_calc.py::test_mul"] == "failed"


def test_skipping_every_test_is_not_a_pass(calc, run_grade):
    diff = changed(calc, {"calc.py": 'import pytest\npytest.skip("nothing to see", allow_module_level=True)\n'})
    verdict = run_grade(calc, diff)
    assert verdict.tests == {"tests/test_calc.py": "skipped"}
    assert not verdict.resolved
    assert "0/1 hidden tests passed" in verdict.reason


def test_a_diff_that_does_not_apply_is_unresolved_with_the_reason(calc, run_grade):
    diff = changed(calc, {"calc.py": "x = 1\n"}).replace(b"raise NotImplementedError", b"raise KeyError")
    verdict = run_grade(calc, diff)
    assert not verdict.resolved
    assert verdict.reason.startswith("patch does not apply")
    assert "calc.py" in verdict.reason


def test_a_conftest_that_was_already_there_is_kept(run_grade):
    """Only the diff's own changes are undone: a task's legitimate conftest keeps working."""
    base = load_task_dir(FIXTURES / "calc")
    helper = "import pytest\n\n@pytest.fixture\ndef three():\n    return 3\n"
    hidden = dict(base.hidden_tests)
    hidden["tests/test_fixture.py"] = b"from calc import add\n\ndef test_uses_fixture(three):\n    assert add(three, 0) == 3\n"
    task = Task(id="calc-conftest", problem=base.problem, workspace={**base.workspace, "conftest.py": helper.encode()},
                hidden_tests=hidden, solution_files=base.solution_files)
    verdict = run_grade(task, task.solution)
    assert verdict.resolved, verdict.reason
    assert verdict.tests["tests/test_fixture.py::test_uses_fixture"] == "passed"


def test_a_broken_task_is_an_infrastructure_error_not_a_verdict(calc, run_grade):
    from dgm.evaluation.grader import GradingError

    broken = Task(id="calc-broken", problem=calc.problem, workspace=calc.workspace, hidden_tests=calc.hidden_tests,
                  test_patch=b"diff --git a/nowhere.py b/nowhere.py\n--- a/nowhere.py\n+++ b/nowhere.py\n"
                             b"@@ -1 +1 @@\n-x\n+y\n")
    with pytest.raises(GradingError, match="restoring the hidden tests failed"):
        run_grade(broken, calc.solution)


@pytest.mark.parametrize("isolated", [False, True])
def test_a_plugin_registered_by_package_metadata_in_the_workspace_is_not_loaded(calc, run_grade, monkeypatch, isolated):
    """Finding 1: a `pytest11` entry point in a workspace *.dist-info would be auto-loaded by pytest."""
    from dgm.evaluation.results.pytest_plugin import PytestFormat

    monkeypatch.setattr(PytestFormat, "isolate_plugins", isolated)       # False: protection off
    files = {"evil_plugin.py": EVIL_PLUGIN,
             "evil-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n",
             "evil-1.0.dist-info/entry_points.txt": "[pytest11]\nevil = evil_plugin\n"}
    verdict = run_grade(calc, changed(calc, files))
    assert verdict.resolved is not isolated, verdict.reason
    assert not verdict.reverted                                          # nothing reverted: it is neutralised


def test_inherited_tests_are_named_after_the_module_that_collected_them(run_grade):
    """Finding 4: tests a class inherits from a mixin in another file carry the collecting module's id."""
    base = load_task_dir(FIXTURES / "calc")
    hidden = {"tests/mixins.py": b"from calc import add\n\nclass AddChecks:\n    def test_add(self):\n"
                                 b"        assert add(1, 2) == 3\n",
              "tests/test_inherit.py": b"import pytest\nfrom mixins import AddChecks\n\nclass TestCalc(AddChecks):\n"
                                       b"    pass\n\n@pytest.mark.xfail(reason='known')\ndef test_x():\n    assert 0\n"}
    task = Task(id="calc-mixin", problem=base.problem, workspace=base.workspace, hidden_tests=hidden,
                expected_tests=("tests/test_inherit.py::TestCalc::test_add",), solution_files=base.solution_files)
    verdict = run_grade(task, task.solution)
    assert verdict.resolved, verdict.reason
    inherit = {k: v for k, v in verdict.tests.items() if k.startswith("tests/test_inherit.py")}
    assert inherit == {"tests/test_inherit.py::TestCalc::test_add": "passed", "tests/test_inherit.py::test_x": "xfailed"}
