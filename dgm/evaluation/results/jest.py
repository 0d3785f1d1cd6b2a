"""The `jest_json` results format: jest's `--json --outputFile={report}` report.

Test ids are `<test file name>::<full test name>` (describe blocks and title joined by spaces, as
jest's `fullName`). A test file that failed to run at all (syntax error, missing module) has no
assertion results: it counts as one `error` entry under its file name, so its tests cannot be
silently absent. A report of a run that jest did not finish (`numRuntimeErrorTestSuites` aside,
e.g. interrupted) has no `testResults` and is rejected.

A reported test belongs to the hidden tests (`selects`) when its file name is a hidden test's.
"""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from dgm.evaluation.results import (ERROR, FAILED, MAX_REPORT_BYTES, PASSED, SKIPPED, Prepared, Produced,
                                    ReportError, RunPaths, fill_report, worst)

if TYPE_CHECKING:
    from dgm.benchmarks.task import Task

SEPARATOR = "::"
_STATUS = {"passed": PASSED, "failed": FAILED, "pending": SKIPPED, "skipped": SKIPPED, "todo": SKIPPED,
           "disabled": SKIPPED, "focused": PASSED}


def parse_report(data: bytes) -> dict[str, str]:
    if len(data) > MAX_REPORT_BYTES:
        raise ReportError(f"jest report is {len(data)} bytes (expected at most {MAX_REPORT_BYTES})")
    try:
        report = json.loads(data)
    except ValueError as err:
        raise ReportError(f"jest report is not JSON: {err}") from None
    if not isinstance(report, dict) or not isinstance(report.get("testResults"), list):
        raise ReportError("jest report has no testResults list (expected the output of jest --json)")
    results: dict[str, str] = {}
    for suite in report["testResults"]:
        if not isinstance(suite, dict):
            continue
        name = PurePosixPath(str(suite.get("name", ""))).name
        cases = suite.get("assertionResults") or []
        if not isinstance(cases, list):
            cases = []
        if suite.get("status") != "passed" and not cases:
            worst(results, name, ERROR)
        for case in cases:
            if isinstance(case, dict):
                title = str(case.get("fullName") or case.get("title") or "")
                worst(results, f"{name}{SEPARATOR}{title}", _STATUS.get(str(case.get("status")), FAILED))
    return results


class JestJsonFormat:
    name = "jest_json"

    def prepare(self, test_command: str, paths: RunPaths) -> Prepared:
        if "{report}" not in test_command:
            raise ReportError("the jest_json results format needs {report} in the test command (--outputFile={report})")
        return Prepared(fill_report(test_command, paths.report))

    def parse(self, produced: Produced) -> dict[str, str]:
        if produced.report is None:
            raise ReportError(f"no jest report was written (exit {produced.exit_code})")
        return parse_report(produced.report)

    def selects(self, test_id: str, task: "Task") -> bool:
        names = {PurePosixPath(p).name for p in task.test_paths}
        return test_id.split(SEPARATOR, 1)[0] in names
