"""SWE-bench grading decides as the official harness (the `swebench` package) decides.

Real instances, built offline (tests/swebench_instances.py): a small pytest repository with
instances for tests inherited from a mixin in another file, an XFAIL and a skipped PASS_TO_PASS
test with a non-test file in the test patch, and a gold patch that changes setup.cfg; and a
Django instance from the Django sdist on PyPI, graded by Django's own `tests/runtests.py` and the
official Django log parser. Gold patches resolve; the empty patch and a test-only patch do not.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dgm.benchmarks import swebench
from dgm.benchmarks.task import Task
import swebench_instances as inst

# ---------------------------------------------------------------------------------------------
# Tables and rule, no containers

DJANGO_TEST_PATCH = ("diff --git a/tests/utils_tests/test_text.py b/tests/utils_tests/test_text.py\n"
                     "diff --git a/tests/utils_tests/files/capfirst.txt b/tests/utils_tests/files/capfirst.txt\n")


def _row(**changes) -> dict:
    row = {"instance_id": "django__django-1", "repo": "django/django", "version": "4.2", "base_commit": "abc",
           "problem_statement": "p", "patch": "", "test_patch": DJANGO_TEST_PATCH,
           "FAIL_TO_PASS": ["a"], "PASS_TO_PASS": [], "image": "img"}
    return {**row, **changes}


def _load(tmp_path: Path, row: dict) -> Task:
    data = tmp_path / "rows.jsonl"
    data.write_text(json.dumps(row) + "\n")
    (task,) = swebench.load(data)
    return task


def test_official_test_command_and_directives_per_repo_and_version(tmp_path: Path):
    task = _load(tmp_path, _row())
    # Django: module-style directives, the .txt file of the test patch dropped (get_test_directives).
    assert task.test_command == "./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1 utils_tests.test_text"
    assert (task.results, task.rule, task.fail_to_pass) == ("swebench_log:django/django", "swebench", ("a",))
    old = _load(tmp_path, _row(version="2.2"))          # its spec sets the locale first, as the eval script does
    assert old.test_command.startswith("{ export LANG=en_US.UTF-8; ") and old.test_command.endswith("; true; } && "
                                       "./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1 utils_tests.test_text")
    sympy = _load(tmp_path, _row(repo="sympy/sympy", version="1.12", test_patch="diff --git a/sympy/core/tests/test_basic.py b/sympy/core/tests/test_basic.py\n"))
    assert sympy.test_command == "PYTHONWARNINGS='ignore::UserWarning,ignore::SyntaxWarning' bin/test -C --verbose sympy/core/tests/test_basic.py"
    assert sympy.results == "swebench_log:sympy/sympy"
    pytest_repo = _load(tmp_path, _row(repo="pytest-dev/pytest", version="8.0", test_patch="diff --git a/testing/test_x.py b/testing/test_x.py\n"))
    assert pytest_repo.test_command == "pytest -rA testing/test_x.py"
    assert pytest_repo.results == "pytest"            # pytest runners are read from the grader's own report


def test_test_files_leave_out_what_the_official_harness_does_not_run(tmp_path: Path):
    patch = ("diff --git a/tests/test_a.py b/tests/test_a.py\ndiff --git a/tests/data.json b/tests/data.json\n"
             "diff --git a/pyproject.toml b/pyproject.toml\ndiff --git a/tests/conftest.py b/tests/conftest.py\n")
    task = _load(tmp_path, _row(repo="someone/else", version=None, test_patch=patch))
    assert task.test_command == "python3 -m pytest -rA tests/conftest.py tests/test_a.py"


@pytest.mark.parametrize("outcomes, resolved", [
    ({"f": "passed", "p": "passed"}, True),
    ({"f": "xfailed", "p": "passed"}, True),        # XFAIL counts as passed
    ({"f": "passed", "p": "skipped"}, True),        # a skipped PASS_TO_PASS test is allowed
    ({"f": "passed"}, False),                       # missing counts as failed
    ({"f": "passed", "p": "xpassed"}, False),       # -rA prints XPASS, which the official parser skips
    ({"f": "passed", "p": "error"}, False),
    ({"f": "failed", "p": "passed"}, False),
    ({"f": "skipped", "p": "passed"}, False),       # 4.1 would resolve this; 5.x and we do not
])
def test_verdict_is_the_official_rule(outcomes, resolved):
    from dgm.evaluation import verdict

    task = Task(id="t", problem="p", expected_tests=("f", "p"), rule="swebench", fail_to_pass=("f",))
    assert verdict.get_rule(task.rule).decide(task, outcomes, task.expected_tests)[0] is resolved


def test_django_output_is_read_by_the_official_parser():
    from dgm.evaluation import results, verdict

    output = ("test_a (utils_tests.test_text.T.test_a) ... ok\ntest_b (utils_tests.test_text.T.test_b) ... FAIL\n"
              "test_c (utils_tests.test_text.T.test_c) ... skipped 'x'\n")
    fmt = results.get_format("swebench_log:django/django")
    assert not fmt.prepare("./tests/runtests.py x", None).reads_report
    outcomes = fmt.parse(results.Produced(report=None, output=output, exit_code=1))
    assert outcomes == {"test_a (utils_tests.test_text.T.test_a)": "passed",
                        "test_b (utils_tests.test_text.T.test_b)": "failed",
                        "test_c (utils_tests.test_text.T.test_c)": "skipped"}
    task = Task(id="t", problem="p", expected_tests=("test_a (utils_tests.test_text.T.test_a)",
                                                     "test_b (utils_tests.test_text.T.test_b)"),
                rule="swebench", fail_to_pass=("test_a (utils_tests.test_text.T.test_a)",))
    resolved, reason = verdict.get_rule("swebench").decide(task, outcomes, task.expected_tests)
    assert not resolved and "test_b (utils_tests.test_text.T.test_b): failed" in reason


# ---------------------------------------------------------------------------------------------
# A small pytest repository with three instances

AREA = '''import math


def square(side):
    return side * side


def rectangle(width, height):
    return width * width


def circle(radius):
    return 3 * radius * radius
'''
MIXINS = '''from shapes.area import square


class AreaChecks:
    side = 1

    def test_square(self):
        assert square(self.side) == self.side ** 2
'''
TEST_AREA = '''import pytest

from shapes.area import square
from tests.mixins import AreaChecks


class TestSmall(AreaChecks):
    side = 2


@pytest.mark.xfail(reason="negative sides are not rejected yet")
def test_negative_side():
    with pytest.raises(ValueError):
        square(-1)


@pytest.mark.skipif(True, reason="needs a plotting library")
def test_plot():
    pass
'''
SETUP_CFG = "[tool:pytest]\naddopts = --strict-markers\n"

GOLD_MIXIN = '''diff --git a/shapes/area.py b/shapes/area.py
--- a/shapes/area.py
+++ b/shapes/area.py
@@ -10,4 +10,4 @@ def rectangle(width, height):
 
 
 def circle(radius):
-    return 3 * radius * radius
+    return math.pi * radius * radius
'''
TEST_MIXIN = '''diff --git a/tests/mixins.py b/tests/mixins.py
--- a/tests/mixins.py
+++ b/tests/mixins.py
@@ -1,4 +1,7 @@
-from shapes.area import square
+import math
+
+import pytest
+from shapes.area import circle, square
 
 
 class AreaChecks:
@@ -6,3 +9,6 @@ class AreaChecks:
 
     def test_square(self):
         assert square(self.side) == self.side ** 2
+
+    def test_circle(self):
+        assert circle(self.side) == pytest.approx(math.pi * self.side ** 2)
diff --git a/tests/test_area.py b/tests/test_area.py
--- a/tests/test_area.py
+++ b/tests/test_area.py
@@ -8,6 +8,10 @@ class TestSmall(AreaChecks):
     side = 2
 
 
+class TestLarge(AreaChecks):
+    side = 10
+
+
 @pytest.mark.xfail(reason="negative sides are not rejected yet")
 def test_negative_side():
     with pytest.raises(ValueError):
'''
GOLD_XFAIL = '''diff --git a/shapes/area.py b/shapes/area.py
--- a/shapes/area.py
+++ b/shapes/area.py
@@ -6,7 +6,7 @@ def square(side):
 
 
 def rectangle(width, height):
-    return width * width
+    return width * height
 
 
 def circle(radius):
'''
TEST_XFAIL = '''diff --git a/tests/test_area.py b/tests/test_area.py
--- a/tests/test_area.py
+++ b/tests/test_area.py
@@ -1,6 +1,6 @@
 import pytest
 
-from shapes.area import square
+from shapes.area import rectangle, square
 from tests.mixins import AreaChecks
 
 
@@ -17,3 +17,7 @@ def test_negative_side():
 @pytest.mark.skipif(True, reason="needs a plotting library")
 def test_plot():
     pass
+
+
+def test_rectangle():
+    assert rectangle(2, 3) == 6
diff --git a/tests/data/expected.json b/tests/data/expected.json
new file mode 100644
--- /dev/null
+++ b/tests/data/expected.json
@@ -0,0 +1 @@
+{"rectangle": 6}
'''
GOLD_CONFIG = '''diff --git a/setup.cfg b/setup.cfg
--- a/setup.cfg
+++ b/setup.cfg
@@ -1,2 +1,4 @@
 [tool:pytest]
 addopts = --strict-markers
+markers =
+    slow: long-running tests
diff --git a/shapes/area.py b/shapes/area.py
--- a/shapes/area.py
+++ b/shapes/area.py
@@ -4,6 +4,10 @@ def square(side):
     return side * side
 
 
+def cube(side):
+    return side ** 3
+
+
 def rectangle(width, height):
     return width * width
 
'''
TEST_CONFIG = '''diff --git a/tests/test_cube.py b/tests/test_cube.py
new file mode 100644
--- /dev/null
+++ b/tests/test_cube.py
@@ -0,0 +1,8 @@
+import pytest
+
+from shapes.area import cube
+
+
+@pytest.mark.slow
+def test_cube():
+    assert cube(3) == 27
'''
SQUARE = "tests/test_area.py::TestSmall::test_square"


def _shapes_repo(root: Path) -> str:
    for rel, text in {"shapes/__init__.py": "", "shapes/area.py": AREA, "tests/__init__.py": "",
                      "tests/mixins.py": MIXINS, "tests/test_area.py": TEST_AREA, "setup.cfg": SETUP_CFG}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return inst.commit_all(root, "shapes")


@pytest.fixture(scope="module")
def shapes(tmp_path_factory, docker_ready) -> dict[str, Task]:
    import hashlib

    key = hashlib.sha256((AREA + MIXINS + TEST_AREA + SETUP_CFG).encode()).hexdigest()
    image, base = inst.instance_image("shapes", key, _shapes_repo, wheels=[])
    rows = [
        inst.row("dgm__shapes-1", "dgm/shapes", base, GOLD_MIXIN, TEST_MIXIN,
                 ["tests/test_area.py::TestSmall::test_circle", "tests/test_area.py::TestLarge::test_circle",
                  "tests/test_area.py::TestLarge::test_square"], [SQUARE]),
        inst.row("dgm__shapes-2", "dgm/shapes", base, GOLD_XFAIL, TEST_XFAIL, ["tests/test_area.py::test_rectangle"],
                 [SQUARE, "tests/test_area.py::test_negative_side", "tests/test_area.py::test_plot"]),
        inst.row("dgm__shapes-3", "dgm/shapes", base, GOLD_CONFIG, TEST_CONFIG, ["tests/test_cube.py::test_cube"],
                 []),      # the official command runs only the test patch's files: no PASS_TO_PASS there
    ]
    data = tmp_path_factory.mktemp("shapes") / "rows.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return {task.id: task for task in swebench.load(data, image=image)}


def _unresolved_without_a_fix(task: Task, run_grade) -> None:
    for name, diff in (("empty", b""), ("test-only", task.test_patch)):
        verdict = run_grade(task, diff)
        assert not verdict.resolved, f"{name} patch: {verdict.reason}"


@pytest.mark.docker
def test_tests_inherited_from_a_mixin_in_another_file_match_fail_to_pass(shapes, run_grade):
    task = shapes["dgm__shapes-1"]
    gold = run_grade(task, task.solution)
    assert gold.resolved, gold.reason
    assert gold.tests["tests/test_area.py::TestLarge::test_circle"] == "passed"
    _unresolved_without_a_fix(task, run_grade)


@pytest.mark.docker
def test_xfail_passes_a_skipped_pass_to_pass_is_allowed_and_non_test_files_are_not_run(shapes, run_grade):
    task = shapes["dgm__shapes-2"]
    assert task.test_command == "python3 -m pytest -rA tests/test_area.py"    # tests/data/expected.json left out
    gold = run_grade(task, task.solution)
    assert gold.resolved, gold.reason
    assert gold.tests["tests/test_area.py::test_negative_side"] == "xfailed"
    assert gold.tests["tests/test_area.py::test_plot"] == "skipped"
    _unresolved_without_a_fix(task, run_grade)


@pytest.mark.docker
def test_a_gold_patch_that_changes_setup_cfg_resolves(shapes, run_grade):
    task = shapes["dgm__shapes-3"]
    gold = run_grade(task, task.solution)
    assert gold.resolved, gold.reason
    _unresolved_without_a_fix(task, run_grade)


# ---------------------------------------------------------------------------------------------
# A Django instance: Django's own runner (tests/runtests.py) and the official Django log parser

DJANGO = "Django==4.2.16"
DJANGO_WHEELS = ("asgiref==3.8.1", "sqlparse==0.5.1")
DJANGO_TESTS_KEPT = ("runtests.py", "test_sqlite.py", "urls.py", "utils_tests")
TEXT_PY = "django/utils/text.py"
CONVERSION = "    if not isinstance(x, str):\n        x = str(x)\n"
TEST_TEXT = "tests/utils_tests/test_text.py"
CAPFIRST_TEST = ("    def test_capfirst(self):\n"
                 "        self.assertEqual(text.capfirst(\"hello\"), \"Hello\")\n"
                 "        self.assertEqual(text.capfirst(lazystr(\"hello\")), \"Hello\")\n"
                 "        self.assertEqual(text.capfirst(5), \"5\")\n\n")
DJANGO_F2P = "test_capfirst (utils_tests.test_text.TestUtilsText.test_capfirst)"
DJANGO_P2P = ["test_truncate_chars (utils_tests.test_text.TestUtilsText.test_truncate_chars)",
              "test_wrap (utils_tests.test_text.TestUtilsText.test_wrap)"]


def _file_patch(changes: dict[str, tuple[str | None, str]]) -> str:
    """A `git diff` of {path: (before or None for a new file, after)}, made by git on the host."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for rel, (before, _) in changes.items():
            if before is not None:
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                (root / rel).write_text(before)
        inst.commit_all(root, "before")
        for rel, (_, after) in changes.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(after)
        inst.git(root, "add", "-A")
        return subprocess.run(["git", "diff", "--cached", "--no-renames"], cwd=root, env=inst.GIT_ENV, check=True,
                              capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def django_task(tmp_path_factory, docker_ready) -> Task:
    import hashlib
    import shutil
    import tarfile

    sdist = inst.pip_download(DJANGO, binary=False)
    wheels = [inst.pip_download(spec, binary=True) for spec in DJANGO_WHEELS]
    with tarfile.open(sdist) as tar:
        top = tar.getnames()[0].split("/")[0]
        original = tar.extractfile(f"{top}/{TEXT_PY}").read().decode()
        test_text = tar.extractfile(f"{top}/{TEST_TEXT}").read().decode()
    assert CONVERSION in original
    bugged = original.replace(CONVERSION, "", 1)
    anchor = "    def test_get_text_list(self):\n"
    assert anchor in test_text and "from django.utils.functional import lazystr" in test_text

    def make_repo(root: Path) -> str:
        inst.extract_sdist(sdist, root)
        for entry in (root / "tests").iterdir():          # Django's suite is 20 MB: keep the runner and one app
            if entry.name not in DJANGO_TESTS_KEPT:
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        shutil.rmtree(root / "docs")
        for po in root.glob("django/**/locale/*/LC_MESSAGES/*.po"):
            po.unlink()
        (root / TEXT_PY).write_text(bugged)
        return inst.commit_all(root, "django 4.2.16 with capfirst broken")

    key = hashlib.sha256("\0".join([DJANGO, *DJANGO_TESTS_KEPT, bugged]).encode()).hexdigest()
    image, base = inst.instance_image("django", key, make_repo, wheels=wheels)
    gold = _file_patch({TEXT_PY: (bugged, original)})
    test_patch = _file_patch({TEST_TEXT: (test_text, test_text.replace(anchor, CAPFIRST_TEST + anchor, 1)),
                              "tests/utils_tests/files/capfirst.txt": (None, "hello\n")})
    data = tmp_path_factory.mktemp("django") / "rows.jsonl"
    data.write_text(json.dumps(inst.row("django__django-90001", "django/django", base, gold, test_patch,
                                        [DJANGO_F2P], DJANGO_P2P, version="4.2")) + "\n")
    (task,) = swebench.load(data, image=image)
    return task


@pytest.mark.docker
def test_a_django_instance_is_graded_by_djangos_runner_and_the_official_parser(django_task, run_grade):
    task = django_task
    assert task.test_command.startswith("./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1")
    assert task.test_command.endswith("utils_tests.test_text")          # the .txt file is not a test label
    assert task.results == "swebench_log:django/django"
    gold = run_grade(task, task.solution)
    assert gold.resolved, gold.reason + gold.output[-2000:]
    assert gold.tests[DJANGO_F2P] == "passed"
    _unresolved_without_a_fix(task, run_grade)
