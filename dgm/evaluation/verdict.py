"""Verdict rules: which tests a task expects, and which of their outcomes count as passed.

The second seam of grading (the first is `results`: how per-test outcomes are read). The grader
hands a rule the task, the outcomes (test id -> one of results.OUTCOMES) and the expected tests:
the task's `expected_tests`, or, when it lists none, every reported test the results format
`selects` as one of the hidden tests. A rule never sees an exit status: a task is resolved only by
per-test results, and tests that are not expected never make it pass.

    class VerdictRule(Protocol):
        def decide(self, task: Task, outcomes: Mapping[str, str], expected: tuple[str, ...]) -> tuple[bool, str]

`Task.rule` names the rule; register another by adding `name: "module:Class"` to RULES. The
default, `all_passed`, wants at least one expected test and every one of them "passed".
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Mapping, Protocol

from dgm.errors import DgmError
from dgm.evaluation.results import PASSED

if TYPE_CHECKING:
    from dgm.benchmarks.task import Task

RULES: dict[str, str] = {
    "all_passed": "dgm.evaluation.verdict:AllPassed",
    "swebench": "dgm.benchmarks.swebench_official:OfficialRule",
}


class VerdictRule(Protocol):
    def decide(self, task: "Task", outcomes: Mapping[str, str], expected: tuple[str, ...]) -> tuple[bool, str]:
        """(resolved, one-line reason naming the first expected test that did not pass)."""


def missing_reason(outcomes: Mapping[str, str], expected: tuple[str, ...], bad: list[str], what: str) -> str:
    first = bad[0]
    return (f"{len(expected) - len(bad)}/{len(expected)} {what} passed; "
            f"{first}: {outcomes.get(first, 'not reported')}")


class AllPassed:
    """Every expected test reported as passed (xfail, xpass and skips do not count)."""

    accepted = frozenset({PASSED})

    def decide(self, task: "Task", outcomes: Mapping[str, str], expected: tuple[str, ...]) -> tuple[bool, str]:
        what = "expected tests" if task.expected_tests else "hidden tests"
        if not expected:
            return False, "no hidden test ran"
        bad = [t for t in expected if outcomes.get(t) not in self.accepted]
        if bad:
            return False, missing_reason(outcomes, expected, bad, what)
        return True, f"{len(expected)}/{len(expected)} {what} passed"


def get_rule(name: str) -> VerdictRule:
    spec = RULES.get(name)
    if spec is None:
        raise DgmError(f"unknown verdict rule {name!r} (expected one of {', '.join(sorted(RULES))})")
    module, _, cls = spec.partition(":")
    return getattr(importlib.import_module(module), cls)()


def expected_tests(task: "Task", outcomes: Mapping[str, str], selects) -> tuple[str, ...]:
    """The task's expected tests, or the reported tests of its hidden test files."""
    if task.expected_tests:
        return tuple(task.expected_tests)
    return tuple(sorted(t for t in outcomes if selects(t, task)))
