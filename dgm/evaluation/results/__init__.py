"""Per-test results: how a test command's per-test outcomes reach the grader (the results seam).

A task is resolved only by per-test results of its expected tests, never by an exit status or
printed text alone. Each runner reports them its own way, so the way is a strategy, named by
`Task.results` and looked up with `get_format(name)`:

    class ResultsFormat(Protocol):
        name: str
        def prepare(self, test_command: str, paths: RunPaths) -> Prepared
        def parse(self, produced: Produced) -> dict[str, str]       # test id -> outcome
        def selects(self, test_id: str, task: Task) -> bool

- `prepare` turns the task's test command into the command the grader runs. `paths.report` is a
  fresh random path in the grader's scratch directory, outside the workspace; a command places
  it with the `{report}` placeholder (e.g. `go test -json ./... > {report}`), or the format
  arranges it (the pytest format loads a grader-owned plugin that writes it). `Prepared.files`
  are written into the scratch directory before the run (paths relative to it), `Prepared.env`
  is added to the run's environment, and `Prepared.reads_report` says whether the grader reads
  `paths.report` afterwards (False: `parse` gets the captured output only).
- `parse` gets what the run produced (`Produced`: the report's bytes or None when none was
  written, the captured output, the exit status) and returns test id -> outcome, one of
  OUTCOMES. It raises ReportError when the report is missing, malformed, oversized, or shows a
  run that did not complete (then the verdict is "unresolved" with that message). Parse
  defensively: everything in it came out of a sandbox that ran the agent's code.
- optional `startup_configs`: file names the runner reads at start-up to configure itself (pytest:
  pytest.ini, setup.cfg, ...). Those the diff touched hold their starting version while the
  runner starts; the format's own code must move the agent's versions back once the runner has
  read its configuration (see `PINNED_LIST`; the pytest plugin does it), unless the runner reads
  it only to build (libtest_logfile's Cargo.toml: the starting version stays). Optional
  `harmless_startup_change(name, before, after)` exempts a change that cannot load code or
  choose what runs (a marker registered for a new test): that file is read as the agent wrote it.
- `selects` says whether a reported test belongs to the task's hidden tests: when a task lists no
  `expected_tests`, the expected tests are the reported tests `selects` keeps (all must pass, at
  least one must exist). Tests that are neither expected nor selected never count.

Formats: `pytest` (grader plugin, exact node ids as `pytest -rA` prints them), `junit` (generic
JUnit XML at `{report}`; `junit:all` counts every reported test as hidden), `swebench_log:<repo>`
(the official SWE-bench log parser of a repository whose runner is not pytest, over the captured
output), and the Polyglot runners' own reports at `{report}`: `go_test_json` (`go test -json`),
`libtest_logfile` (Rust's `--logfile`), `jest_json` (`jest --json --outputFile`). Register another by adding `name: "module:Class"` to FORMATS (classes
are imported on first use). How outcomes become a verdict is the other seam, `verdict.py`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping, Protocol

from dgm.errors import DgmError

if TYPE_CHECKING:
    from dgm.benchmarks.task import Task

# The outcome vocabulary every format maps into. Rules decide which count as passed: the default
# rule wants "passed"; SWE-bench's official rule also accepts "xfailed" (and "skipped" for
# PASS_TO_PASS). "not_run": collected by the runner but never reported (the run ended early).
PASSED, FAILED, ERROR, SKIPPED, XFAILED, XPASSED, NOT_RUN = (
    "passed", "failed", "error", "skipped", "xfailed", "xpassed", "not_run")
OUTCOMES = (PASSED, XFAILED, XPASSED, SKIPPED, NOT_RUN, FAILED, ERROR)   # in order of severity
MAX_REPORT_BYTES = 32 * 1024 * 1024
# Runner start-up configs a format pins (its optional `startup_configs`: file names) are listed,
# NUL-separated, in <scratch>/PINNED_LIST; the agent's versions wait in <scratch>/PINNED_LIST-agent/<n>.
PINNED_LIST = "pinned"

FORMATS: dict[str, str] = {
    "pytest": "dgm.evaluation.results.pytest_plugin:PytestFormat",
    "junit": "dgm.evaluation.results.junit:JUnitFormat",
    "swebench_log": "dgm.benchmarks.swebench_official:OfficialLogFormat",
    "go_test_json": "dgm.evaluation.results.go_json:GoTestJsonFormat",
    "libtest_logfile": "dgm.evaluation.results.libtest:LibtestLogfileFormat",
    "jest_json": "dgm.evaluation.results.jest:JestJsonFormat",
}


class ReportError(DgmError):
    """The run's per-test results are missing, too large, malformed, or from an incomplete run."""


@dataclass(frozen=True)
class RunPaths:
    workdir: str        # the workspace the tests run in
    scratch: str        # the grader's directory in the sandbox (outside the workspace)
    report: str         # a fresh random path under `scratch` where the report goes
    token: str          # a random identifier-safe string (e.g. for module names)


@dataclass(frozen=True)
class Prepared:
    command: str
    files: Mapping[str, bytes] = field(default_factory=dict)   # scratch-relative path -> bytes
    env: Mapping[str, str] = field(default_factory=dict)
    reads_report: bool = True


@dataclass(frozen=True)
class Produced:
    report: bytes | None    # the report file's bytes (None: none was written, or not read)
    output: str             # stdout and stderr of the test command (tail, capped by the sandbox)
    exit_code: int


class ResultsFormat(Protocol):
    name: str

    def prepare(self, test_command: str, paths: RunPaths) -> Prepared:
        """The command to run (and files, environment) so that per-test results get written."""

    def parse(self, produced: Produced) -> dict[str, str]:
        """test id -> outcome (one of OUTCOMES); raises ReportError when there are none to trust."""

    def selects(self, test_id: str, task: "Task") -> bool:
        """Whether `test_id` is one of the task's hidden tests (used when it lists no expected tests)."""


def fill_report(test_command: str, report: str) -> str:
    """The command with `{report}` replaced by the (shell-quoted) report path."""
    import shlex

    return test_command.replace("{report}", shlex.quote(report))


def worst(outcomes: dict[str, str], test_id: str, outcome: str) -> None:
    """Record `outcome` for `test_id` unless a worse one is already there."""
    previous = outcomes.get(test_id)
    if previous is None or OUTCOMES.index(outcome) > OUTCOMES.index(previous):
        outcomes[test_id] = outcome


def get_format(name: str) -> ResultsFormat:
    """The format `name`, or `base:argument` for a format that takes one (e.g. `swebench_log:django/django`)."""
    base, _, argument = name.partition(":")
    spec = FORMATS.get(base)
    if spec is None:
        raise DgmError(f"unknown results format {name!r} (expected one of {', '.join(sorted(FORMATS))})")
    module, _, cls = spec.partition(":")
    factory = getattr(importlib.import_module(module), cls)
    return factory(argument) if argument else factory()
