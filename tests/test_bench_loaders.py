"""Task loaders on the host: the folder format, the four suites, and their one-line errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dgm.benchmarks import MINI_DIR, load_suite, select
from dgm.benchmarks import humaneval, polyglot, swebench
from dgm.benchmarks.task import TaskError, load_task_dir, load_task_folders
from dgm.config import BenchmarkConfig
from dgm.errors import DgmError

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def task_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "greet"
    shutil.copytree(FIXTURES / "tasks" / "greet", folder)
    return folder


def test_task_folder_loads_every_field(task_dir: Path):
    task = load_task_dir(task_dir)
    assert task.id == "greet"
    assert task.workspace == {"greet.py": b'def greet(name):\n    return ""\n'}
    assert set(task.hidden_tests) == {"tests/test_greet.py"}
    assert task.expected_tests == ("tests/test_greet.py::test_named", "tests/test_greet.py::test_blank_name")
    assert (task.timeouts.solve, task.timeouts.test) == (120, 60)
    assert task.test_command == "python3 -m pytest tests"
    assert task.solution.startswith(b"diff --git a/greet.py b/greet.py")
    assert task.test_paths == ("tests/test_greet.py",)


def test_solution_folder_becomes_a_binary_safe_diff(task_dir: Path):
    (task_dir / "solution.patch").unlink()
    (task_dir / "solution").mkdir()
    (task_dir / "solution" / "greet.py").write_text("def greet(name):\n    return 'hi'\n")
    (task_dir / "solution" / "logo.bin").write_bytes(b"\x00\x01\xff")
    diff = load_task_dir(task_dir).solution
    assert b"+    return 'hi'" in diff
    assert b"GIT binary patch" in diff and b"b/logo.bin" in diff


@pytest.mark.parametrize("mutate,expected", [
    (lambda d: (d / "task.yaml").write_text("id: greet\ntimeouts: {solve: -1}\n"),
     "task.yaml: field 'timeouts.solve'"),
    (lambda d: (d / "task.yaml").write_text("id: greet\ntest_comand: pytest\n"),
     "task.yaml: unknown field 'test_comand'"),
    (lambda d: (d / "task.yaml").write_text("timeouts: {solve: 5}\n"), "task.yaml: missing required field 'id'"),
    (lambda d: (d / "task.yaml").write_text("id: [unclosed\n"), "task.yaml: malformed YAML"),
    (lambda d: (d / "task.yaml").write_text("id: greet\nexpected_tests: [test_named]\n"),
     "task.yaml: field 'expected_tests.0': expected a pytest node id"),
    (lambda d: (d / "task.yaml").write_text("id: greet\nexpected_tests: ['tests/test_other.py::t']\n"),
     "names a file that is not in tests/"),
    (lambda d: (d / "problem.md").write_text("  \n"), "problem.md: missing or empty"),
    (lambda d: shutil.rmtree(d / "tests"), "tests: missing or empty"),
    (lambda d: shutil.rmtree(d / "workspace"), "workspace: missing"),
    (lambda d: (d / "solution").mkdir(), "both solution.patch and solution/ exist"),
])
def test_malformed_task_names_file_and_field(task_dir: Path, mutate, expected):
    mutate(task_dir)
    with pytest.raises(TaskError) as err:
        load_task_dir(task_dir)
    message = str(err.value)
    assert expected in message
    assert "\n" not in message and str(task_dir) in message


def test_duplicate_ids_in_a_folder_are_refused(tmp_path: Path):
    for name in ("a", "b"):
        shutil.copytree(FIXTURES / "tasks" / "greet", tmp_path / name)
    with pytest.raises(TaskError, match="duplicate task id"):
        load_task_folders(tmp_path)


def test_mini_suite_is_the_built_in_folder_and_every_task_has_a_reference_answer():
    tasks = load_suite(BenchmarkConfig(name="mini"))
    assert len(tasks) >= 2 and [t.id for t in tasks] == sorted(t.id for t in tasks)
    assert all(t.solution for t in tasks), [t.id for t in tasks if not t.solution]
    assert {t.id for t in tasks} == {t.id for t in load_task_folders(MINI_DIR)}


def test_select_keeps_order_and_suggests_close_ids():
    tasks = load_task_folders(FIXTURES / "tasks")
    assert [t.id for t in select(tasks, ["greet", "calc"])] == ["greet", "calc"]
    with pytest.raises(TaskError, match="did you mean greet"):
        select(tasks, ["gret"])


def test_humaneval_has_all_164_problems_with_prompt_workspace_and_hidden_check():
    tasks = humaneval.load()
    assert len(tasks) == 164
    assert tasks[0].id == "HumanEval/0" and tasks[-1].id == "HumanEval/163"
    first = tasks[0]
    assert first.workspace[humaneval.SOLUTION_FILE].decode().startswith("from typing import List")
    assert "`has_close_elements`" in first.problem and "solution.py" in first.problem
    test = first.hidden_tests[humaneval.TEST_FILE].decode()
    assert "def check(candidate):" in test and "check(has_close_elements)" in test
    assert first.expected_tests == (humaneval.TEST_NODE,)
    assert b"+    for idx, elem in enumerate(numbers):" in first.solution
    assert all(humaneval.TEST_FILE not in t.workspace for t in tasks)


def _swebench_row(**changes) -> dict:
    row = {"instance_id": "org__repo-7", "repo": "org/repo", "base_commit": "abc123",
           "problem_statement": "It breaks.", "patch": "diff --git a/x.py b/x.py\n",
           "test_patch": "diff --git a/tests/test_x.py b/tests/test_x.py\n--- a/tests/test_x.py\n+++ b/tests/test_x.py\n",
           "FAIL_TO_PASS": '["tests/test_x.py::test_new"]', "PASS_TO_PASS": ["tests/test_x.py::test_old"]}
    row.update(changes)
    return row


def test_swebench_rows_become_tasks_with_image_and_command_templates(tmp_path: Path):
    data = tmp_path / "instances.jsonl"
    rows = [_swebench_row(), _swebench_row(instance_id="org__repo-8", image="mine:8", test_command="pytest {test_files}")]
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    first, second = swebench.load(data, image="swebench/sweb.eval.x86_64.{docker_id}:latest",
                                  test_command="source /opt/env && pytest -rA {test_files}")
    assert first.image == "swebench/sweb.eval.x86_64.org_1776_repo-7:latest"
    assert first.test_command == "source /opt/env && pytest -rA tests/test_x.py"
    assert first.expected_tests == ("tests/test_x.py::test_new", "tests/test_x.py::test_old")
    assert (first.repo_dir, first.base_commit) == ("/testbed", "abc123")
    assert first.test_paths == ("tests/test_x.py",) and first.hidden_tests == {}
    assert (second.image, second.test_command) == ("mine:8", "pytest tests/test_x.py")
    assert first.agent_env == {"PYTHONPATH": "/work/workspace"}  # the agent's own tests import its copy


@pytest.mark.parametrize("row,expected", [
    (_swebench_row(FAIL_TO_PASS="not json"), "field 'FAIL_TO_PASS'"),
    ({k: v for k, v in _swebench_row().items() if k != "test_patch"}, "missing field 'test_patch'"),
    (_swebench_row(FAIL_TO_PASS=[], PASS_TO_PASS=[]), "both empty"),
])
def test_swebench_bad_rows_name_the_line_and_field(tmp_path: Path, row, expected):
    data = tmp_path / "instances.jsonl"
    data.write_text(json.dumps(_swebench_row()) + "\n" + json.dumps(row) + "\n")
    with pytest.raises(TaskError) as err:
        swebench.load(data, image="img:{instance_id}")
    assert f"{data}:2" in str(err.value) and expected in str(err.value)


def test_swebench_needs_an_image(tmp_path: Path):
    data = tmp_path / "instances.jsonl"
    data.write_text(json.dumps(_swebench_row()) + "\n")
    with pytest.raises(TaskError, match="no image for org__repo-7"):
        swebench.load(data)


def test_polyglot_fixture_loads_python_exercises():
    tasks = load_suite(BenchmarkConfig(name="polyglot", path=str(FIXTURES / "polyglot")))
    assert [t.id for t in tasks] == ["python/leap", "python/two-fer"]
    two_fer = tasks[1]
    assert set(two_fer.workspace) == {"two_fer.py"}                # no .meta, .docs or tests
    assert set(two_fer.hidden_tests) == {"two_fer_test.py"}
    assert two_fer.test_command == "python3 -m pytest two_fer_test.py"
    assert "One for you, one for me." in two_fer.problem and "two_fer.py" in two_fer.problem
    assert b'+def two_fer(name="you"):' in two_fer.solution


def test_polyglot_other_languages_need_image_and_test_command(tmp_path: Path):
    with pytest.raises(TaskError, match=r"languages\.kotlin\.image: missing"):
        polyglot.load(FIXTURES / "polyglot", [polyglot.Language("kotlin")])
    shutil.copytree(FIXTURES / "polyglot" / "python", tmp_path / "kotlin")
    with pytest.raises(TaskError, match=r"languages\.kotlin\.test_command: missing"):
        polyglot.load(tmp_path, [polyglot.Language("kotlin", image="kotlin-dgm")])
    tasks = polyglot.load(tmp_path, [polyglot.Language("kotlin", image="kotlin-dgm", test_command="gradle test {tests}")])
    assert tasks[0].image == "kotlin-dgm" and tasks[0].test_command == "gradle test leap_test.py"
    # A built-in language needs neither; one named in the config must be in the checkout.
    with pytest.raises(TaskError, match=r"go/exercises/practice: not found"):
        polyglot.load(FIXTURES / "polyglot", [polyglot.Language("go")])
    with pytest.raises(TaskError, match=r"no <language>/exercises/practice/ folder"):
        polyglot.load(tmp_path, [polyglot.Language("go")], every_language_required=False)



def test_suites_that_read_files_require_a_path():
    from dgm.config import load

    with pytest.raises(DgmError, match="the swebench benchmark needs a path"):
        load(None, ["evaluation.benchmark.name=swebench"])
