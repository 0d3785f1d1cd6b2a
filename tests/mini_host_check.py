"""Dev-loop check of the `mini` suite on the host (our own trusted task files, not agent code).

For each task: the untouched workspace plus hidden tests must fail at least one expected test, and a
fresh copy with solution.patch applied must pass every expected test (read from a JUnit report,
not from stdout). The shipped, sandboxed version of this check is tests/test_mini_suite.py; this
script exists because it is faster to iterate with while writing tasks.

Usage: .venv/bin/python tests/mini_host_check.py [task-name ...]   (default: all tasks)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

MINI = Path(__file__).resolve().parents[1] / "dgm" / "benchmarks" / "mini"


def passed_ids(junit: Path) -> set[str]:
    """Node ids (tests/test_x.py::name) of the test cases that passed in a JUnit report."""
    passed = set()
    for case in ET.parse(junit).iter("testcase"):
        if any(child.tag in ("failure", "error", "skipped") for child in case):
            continue
        module = case.get("classname", "").replace(".", "/") + ".py"
        passed.add(f"{module}::{case.get('name')}")
    return passed


def run_case(task: Path, patch: bool) -> tuple[set[str], float]:
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        shutil.copytree(task / "workspace", ws)
        if patch:
            subprocess.run(["git", "apply", str(task / "solution.patch")], cwd=ws, check=True)
        shutil.copytree(task / "tests", ws / "tests")
        start = time.monotonic()
        subprocess.run(
            ["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider",
             "--junitxml", str(Path(tmp) / "junit.xml"), "tests"],
            cwd=ws, capture_output=True, text=True, timeout=120,
        )
        return passed_ids(Path(tmp) / "junit.xml"), time.monotonic() - start


def check(task: Path) -> list[str]:
    spec = yaml.safe_load((task / "task.yaml").read_text())
    expected = set(spec["expected_tests"])
    problems = []
    before, t_before = run_case(task, patch=False)
    if expected <= before:
        problems.append("untouched workspace passes every expected test")
    after, t_after = run_case(task, patch=True)
    if missing := expected - after:
        problems.append(f"solution fails {sorted(missing)}")
    print(f"{task.name:28s} unsolved {len(expected & before):2d}/{len(expected)} ({t_before:4.1f}s)  "
          f"solved {len(expected & after):2d}/{len(expected)} ({t_after:4.1f}s)  "
          f"{'OK' if not problems else '; '.join(problems)}")
    return problems


def main(names: list[str]) -> int:
    tasks = [MINI / n for n in names] if names else sorted(p for p in MINI.iterdir() if p.is_dir())
    failed = [t.name for t in tasks if check(t)]
    print(f"{len(tasks) - len(failed)}/{len(tasks)} tasks OK")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
