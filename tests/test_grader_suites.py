"""Each suite's tasks through the real grader: the reference answer passes, the untouched start fails.

SWE-bench is exercised on a small instance built here: a git repository committed into an image
derived from the sandbox image (at /testbed, as the official instance images have it), plus a
JSONL row in the SWE-bench format.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from dgm.benchmarks import humaneval, load_suite, polyglot, swebench
from dgm.benchmarks.task import Task
from dgm.config import BenchmarkConfig

pytestmark = pytest.mark.docker
FIXTURES = Path(__file__).parent / "fixtures"


def test_humaneval_canonical_solution_passes_and_the_prompt_alone_fails(run_grade):
    tasks = humaneval.load()
    task = next(t for t in tasks if t.id == "HumanEval/32")    # its test calls `poly` from the prompt
    solved = run_grade(task, task.solution)
    assert solved.resolved, solved.reason
    assert solved.tests == {humaneval.TEST_NODE: "passed"}
    untouched = run_grade(task, b"")
    assert not untouched.resolved
    assert untouched.tests[humaneval.TEST_NODE] == "failed"


def test_polyglot_example_passes_and_the_stub_fails(run_grade):
    tasks = load_suite(BenchmarkConfig(name="polyglot", path=str(FIXTURES / "polyglot")))
    task = next(t for t in tasks if t.id == "python/two-fer")
    solved = run_grade(task, task.solution)
    assert solved.resolved, solved.reason
    assert len(solved.tests) == 3 and all(node.startswith("two_fer_test.py::TwoFerTest::") for node in solved.tests)
    stub = run_grade(task, b"")
    assert not stub.resolved
    # The test file sits next to the solution; editing it is undone, the rest of the root is not.
    tampered = run_grade(task, task.solution.replace(b"one for me.", b"one for me!") + _edit_test_diff(task))
    assert "two_fer_test.py" in tampered.reverted and "two_fer.py" not in tampered.reverted
    assert not tampered.resolved


def _edit_test_diff(task: Task) -> bytes:
    old = task.hidden_tests["two_fer_test.py"]
    # The agent never saw the hidden test, so its "edit" creates the file from nothing.
    lines = old.decode().splitlines(keepends=True)
    body = "".join("+" + line for line in lines)
    return (f"diff --git a/two_fer_test.py b/two_fer_test.py\nnew file mode 100644\n--- /dev/null\n"
            f"+++ b/two_fer_test.py\n@@ -0,0 +1,{len(lines)} @@\n{body}").encode().replace(b"one for me.", b"one for me!")


# ---------------------------------------------------------------------------------------------
# SWE-bench: a small instance built here

GIT_ENV = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/tmp",
           "GIT_AUTHOR_NAME": "dev", "GIT_AUTHOR_EMAIL": "dev@example.org", "GIT_COMMITTER_NAME": "dev",
           "GIT_COMMITTER_EMAIL": "dev@example.org", "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
           "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z"}
OPS = 'def add(a, b):\n    return a + b\n\n\ndef clamp(x, low, high):\n    return max(low, x)\n'
TESTS = 'from mathlib.ops import add, clamp\n\n\ndef test_add():\n    assert add(2, 2) == 4\n\n\ndef test_clamp_low():\n    assert clamp(-5, 0, 10) == 0\n'
GOLD = '''diff --git a/mathlib/ops.py b/mathlib/ops.py
--- a/mathlib/ops.py
+++ b/mathlib/ops.py
@@ -3,4 +3,4 @@ def add(a, b):
 
 
 def clamp(x, low, high):
-    return max(low, x)
+    return min(high, max(low, x))
'''
TEST_PATCH = '''diff --git a/tests/test_ops.py b/tests/test_ops.py
--- a/tests/test_ops.py
+++ b/tests/test_ops.py
@@ -8,3 +8,7 @@ def test_add():
 
 def test_clamp_low():
     assert clamp(-5, 0, 10) == 0
+
+
+def test_clamp_high():
+    assert clamp(50, 0, 10) == 10
'''


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, check=True, capture_output=True, text=True).stdout


def _build_repo(root: Path) -> str:
    (root / "mathlib").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "mathlib" / "__init__.py").write_text("")
    (root / "mathlib" / "ops.py").write_text(OPS)
    (root / "tests" / "test_ops.py").write_text(TESTS)
    (root / "setup.cfg").write_text("[tool:pytest]\ntestpaths = tests\n")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "mathlib with a clamp bug")
    return _git(root, "rev-parse", "HEAD").strip()


def _instance_image(repo: Path) -> str:
    """The sandbox image plus /testbed; tagged by content, so a rerun reuses it."""
    import docker

    from dgm.sandbox import image

    client = docker.from_env()
    base = image.current_tag()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in sorted(repo.rglob("*")):
            info = tar.gettarinfo(str(path), arcname=f"testbed/{path.relative_to(repo).as_posix()}")
            info.uid = info.gid = 0
            info.mode = 0o755 if path.is_dir() else 0o644
            tar.addfile(info, io.BytesIO(path.read_bytes()) if path.is_file() else None)
    data = buffer.getvalue()
    tag = f"dgm-test-swebench:{hashlib.sha256(base.encode() + data).hexdigest()[:12]}"
    try:
        client.images.get(tag)
        return tag
    except docker.errors.ImageNotFound:
        pass
    container = client.containers.create(base, command=["true"], user="0:0")
    try:
        container.put_archive("/", data)
        container.commit(repository=tag.split(":")[0], tag=tag.split(":")[1])
    finally:
        container.remove(force=True)
    return tag


@pytest.fixture(scope="module")
def swebench_task(tmp_path_factory, docker_ready) -> Task:
    root = tmp_path_factory.mktemp("swebench")
    base_commit = _build_repo(root / "repo")
    image_tag = _instance_image(root / "repo")
    row = {"instance_id": "dgm__mathlib-1", "repo": "dgm/mathlib", "base_commit": base_commit,
           "problem_statement": "clamp(x, low, high) ignores `high`: clamp(50, 0, 10) returns 50.",
           "patch": GOLD, "test_patch": TEST_PATCH,
           "FAIL_TO_PASS": json.dumps(["tests/test_ops.py::test_clamp_high"]),
           "PASS_TO_PASS": ["tests/test_ops.py::test_add", "tests/test_ops.py::test_clamp_low"]}
    data = root / "instances.jsonl"
    data.write_text(json.dumps(row) + "\n")
    (task,) = swebench.load(data, image=image_tag)
    return task


def test_swebench_gold_patch_resolves_and_an_empty_one_does_not(swebench_task, run_grade):
    task = swebench_task
    assert task.test_command == "python3 -m pytest -rA tests/test_ops.py"
    gold = run_grade(task, task.solution)
    assert gold.resolved, gold.reason
    assert gold.tests["tests/test_ops.py::test_clamp_high"] == "passed"
    empty = run_grade(task, b"")
    assert not empty.resolved
    assert "test_clamp_high: failed" in empty.reason


def test_swebench_edits_to_repository_tests_are_undone_before_the_test_patch(swebench_task, run_grade):
    task = swebench_task
    cheat = ("diff --git a/tests/test_ops.py b/tests/test_ops.py\n--- a/tests/test_ops.py\n+++ b/tests/test_ops.py\n"
             "@@ -8,3 +8,3 @@ def test_add():\n \n def test_clamp_low():\n-    assert clamp(-5, 0, 10) == 0\n"
             "+    assert True\n")
    verdict = run_grade(task, (GOLD + cheat).encode())
    assert verdict.reverted == {"tests/test_ops.py": "test location"}
    assert verdict.resolved, verdict.reason        # the fix stands; the test edit is gone
    edited_config = run_grade(task, (GOLD.replace("min(high, max(low, x))", "x")
                                     + "diff --git a/setup.cfg b/setup.cfg\n--- a/setup.cfg\n+++ b/setup.cfg\n"
                                       "@@ -1,2 +1,3 @@\n [tool:pytest]\n testpaths = tests\n+addopts = -p no:junitxml\n"
                                     ).encode())
    assert "setup.cfg" not in edited_config.reverted      # it stands; pytest starts with the starting one
    assert not edited_config.resolved
