"""The `go_test_json` results format: the event stream of `go test -json` written to `{report}`.

`go test -json` runs the package's test binary and turns its verbose output into JSON events
(test2json): `run`, `pass`, `fail`, `skip` per test and subtest (`TestX`, `TestX/case`). A test
that started (`run`) and never ended was cut off (the binary died): it is `not_run`. Lines that are
not JSON (build errors `go test` prints before the stream) are ignored: a package that does not
build has no test events, so none of its tests passed.

Go 1.19's test2json (Debian bookworm's Go) reads the binary's plain text: a solution whose init()
prints `--- PASS: TestX` lines and exits before any test runs would read as passing. So the
format adds a `TestMain` of its own (a `_test.go` file with a random name, written next to the
hidden tests right before the command runs) that prints a marker with a random token and
`m.Run()`'s exit code after the real tests ran: without the marker no test passes, and a non-zero
code with no failing test in the stream is refused. An exercise that defines its own TestMain
does not compile with it (none of the benchmark's Go exercises does).

Every reported test belongs to the hidden tests (`selects`): the command runs one package, and the
Polyglot loader restores the package's `*_test.go` files and removes added ones (its hooks), so
the only test functions in it are the exercise's.
"""

from __future__ import annotations

import json
import shlex
from typing import TYPE_CHECKING

from dgm.evaluation.results import (FAILED, MAX_REPORT_BYTES, NOT_RUN, PASSED, SKIPPED, Prepared, Produced,
                                    ReportError, RunPaths, fill_report, worst)

if TYPE_CHECKING:
    from dgm.benchmarks.task import Task

_ACTIONS = {"pass": PASSED, "fail": FAILED, "skip": SKIPPED}
MARKER = "dgm-go-main"
# The TestMain the command adds (the package clause is taken from a hidden test file). Imports are
# aliased with the token so that they cannot clash with the package's own names.
_MAIN = """
import (
\tfmt_@TOKEN@ "fmt"
\tos_@TOKEN@ "os"
\ttesting_@TOKEN@ "testing"
)

func TestMain(m *testing_@TOKEN@.M) {
\tcode := m.Run()
\tfmt_@TOKEN@.Printf("\\n@MARKER@ @TOKEN@ %d\\n", code)
\tos_@TOKEN@.Exit(code)
}
"""
# Writes the TestMain file into the package directory: package clause of the first *_test.go.
_ADD_MAIN = ("f=$(ls *_test.go 2>/dev/null | head -n 1); [ -n \"$f\" ] && "
             "{{ sed -n 's/^package[[:space:]]\\{{1,\\}}\\([A-Za-z0-9_]\\{{1,\\}}\\).*/package \\1/p' \"$f\" | head -n 1; "
             "cat {source}; }} > {target}")


def parse_events(data: bytes, token: str | None = None) -> dict[str, str]:
    """test id -> passed | failed | skipped | not_run (started, never ended). With `token`, the
    stream must carry the TestMain marker with that token (see the module docstring)."""
    if len(data) > MAX_REPORT_BYTES:
        raise ReportError(f"go test -json output is {len(data)} bytes (expected at most {MAX_REPORT_BYTES})")
    results: dict[str, str] = {}
    started: set[str] = set()
    exit_code: int | None = None
    for line in data.splitlines():
        line = line.strip()
        if not line.startswith(b"{"):
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if not isinstance(event, dict):
            continue
        test, action = event.get("Test"), event.get("Action")
        if token is not None and action == "output" and not test and isinstance(event.get("Output"), str):
            words = event["Output"].split()
            if len(words) == 3 and words[:2] == [MARKER, token] and words[2].lstrip("-").isdigit():
                exit_code = int(words[2])
        if not isinstance(test, str) or not test or not isinstance(action, str):
            continue
        if action == "run":
            started.add(test)
        elif action in _ACTIONS:
            worst(results, test, _ACTIONS[action])
    for test in started - results.keys():
        results[test] = NOT_RUN
    if token is not None:
        if exit_code is None:
            raise ReportError("the Go test binary did not finish its run (no end-of-run marker from the "
                              "grader's TestMain): it exited early, or the package did not build")
        if exit_code != 0 and all(outcome in (PASSED, SKIPPED) for outcome in results.values()):
            raise ReportError(f"the Go tests exited {exit_code} although every reported test passed")
    return results


class GoTestJsonFormat:
    """Stateful per grading: `prepare` picks the token that `parse` then looks for."""

    name = "go_test_json"

    def __init__(self) -> None:
        self.token: str | None = None

    def prepare(self, test_command: str, paths: RunPaths) -> Prepared:
        if "{report}" not in test_command:
            raise ReportError("the go_test_json results format needs {report} in the test command "
                              "(e.g. go test -json . > {report})")
        self.token = paths.token
        source = f"{paths.token}-main.go"
        add = _ADD_MAIN.format(source=shlex.quote(f"{paths.scratch}/{source}"),
                               target=shlex.quote(f"zz_dgm_{paths.token}_test.go"))
        main = _MAIN.replace("@TOKEN@", paths.token).replace("@MARKER@", MARKER)
        return Prepared(f"{add}; {fill_report(test_command, paths.report)}", files={source: main.encode()})

    def parse(self, produced: Produced) -> dict[str, str]:
        if produced.report is None:
            raise ReportError(f"no go test -json output was written (exit {produced.exit_code})")
        return parse_events(produced.report, self.token)

    def selects(self, test_id: str, task: "Task") -> bool:
        return True
