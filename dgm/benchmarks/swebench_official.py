"""The official SWE-bench harness's decisions, taken from the `swebench` package (extra `swebench`).

What is used, from swebench 4.1 (the last release whose tables build the evaluation script from a
published dataset row; 5.x moved the script into each row of a new dataset format):
- `MAP_REPO_VERSION_TO_SPECS[repo][version]`: the test command (`test_cmd`) and the commands the
  eval script runs before it (`eval_commands`);
- `test_spec.python.get_test_directives`: which files of the test patch are run (non-test files
  dropped, Django's module-style names, SymPy's runner arguments), as `make_eval_script_list_py`
  appends them to `test_cmd`;
- `log_parsers.MAP_REPO_TO_PARSER[repo]`: the parser that turns the test output into
  {test id: PASSED | FAILED | SKIPPED | ERROR | XFAIL}, for runners that write no report the
  grader owns (Django's `tests/runtests.py`, SymPy's `bin/test`);
- `grading.get_eval_tests_report` and `get_resolution_status`: the verdict (a test passes when
  PASSED or XFAIL; fails when missing, FAILED or ERROR; SKIPPED is neither, so a skipped
  PASS_TO_PASS test is allowed); resolved means RESOLVED_FULL. One departure, as swebench 5.x
  decides: a skipped FAIL_TO_PASS test is not a resolution.

The package imports heavy modules (datasets, docker, modal) at import time, so it is imported on
first use only: loading a SWE-bench suite pays for it, `dgm --help` does not.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Mapping

from dgm.errors import DgmError

EXTRA_HINT = "install the optional extra: pip install 'dgm[swebench]'"
# dgm's outcomes (dgm.evaluation.results.OUTCOMES) in the official status vocabulary. `xpassed` and
# `not_run` have no official status: `pytest -rA` prints XPASS, which the official parser does not
# read, so such a test is missing from the official status map, and missing counts as failed.
OUTCOME_TO_STATUS = {"passed": "PASSED", "failed": "FAILED", "error": "ERROR", "skipped": "SKIPPED",
                     "xfailed": "XFAIL"}
STATUS_TO_OUTCOME = {status: outcome for outcome, status in OUTCOME_TO_STATUS.items()}


class OfficialHarnessMissing(DgmError):
    """The `swebench` package is not installed (or is a release without the tables used here)."""


@functools.lru_cache(maxsize=1)
def _modules() -> Any:
    try:
        from swebench.harness import constants, grading, log_parsers
        from swebench.harness.test_spec import python as test_spec_python
    except ImportError as err:
        raise OfficialHarnessMissing(f"the official SWE-bench tables are needed ({err}); {EXTRA_HINT} "
                                     "(swebench>=4.1,<5)") from None
    return constants, grading, log_parsers, test_spec_python


def specs(repo: str, version: str | None) -> Mapping[str, Any] | None:
    """The official spec of a repository at a version, or None when the tables do not know it."""
    if not version:
        return None
    constants = _modules()[0]
    return constants.MAP_REPO_VERSION_TO_SPECS.get(repo, {}).get(str(version))


def test_command(row: Mapping[str, Any]) -> str | None:
    """The official test command for a dataset row (None when its repo/version is not in the tables).

    As `make_eval_script_list_py` builds it: `test_cmd` followed by the test directives of the test
    patch; the spec's `eval_commands` (environment set-up such as locale variables) run first.
    The spec's `install` step is not run: the image is graded as built (see docs/evaluation.md).
    """
    spec = specs(row["repo"], row.get("version"))
    if spec is None:
        return None
    directives = _modules()[3].get_test_directives({"repo": row["repo"], "test_patch": row["test_patch"]})
    test_cmd = spec["test_cmd"]
    if isinstance(test_cmd, list):        # a few non-Python specs list several; the last one runs the tests
        test_cmd = test_cmd[-1]
    command = " ".join([test_cmd, *directives])
    setup = spec.get("eval_commands", [])
    # The official eval script runs without `set -e`: a failing set-up line does not stop the tests.
    return f"{{ {'; '.join(setup)}; true; }} && {command}" if setup else command


def test_files(test_patch: bytes) -> list[str]:
    """The files of a test patch the official harness runs (`NON_TEST_EXTS` dropped), sorted."""
    from dgm.evaluation.diffpaths import touched_paths

    non_test = tuple(_modules()[0].NON_TEST_EXTS)
    return sorted(p for p in touched_paths(test_patch) if not p.endswith(non_test))


def log_parser(repo: str) -> Callable[[str], dict[str, str]]:
    """The official parser of `repo`'s test output: output -> {test id: status}."""
    parser = _modules()[2].MAP_REPO_TO_PARSER.get(repo)
    if parser is None:
        raise OfficialHarnessMissing(f"the swebench package has no log parser for {repo!r}")
    return lambda output: parser(output, None)


def uses_pytest(repo: str, version: str | None) -> bool:
    spec = specs(repo, version)
    return spec is not None and "pytest" in str(spec["test_cmd"]).split()


class OfficialLogFormat:
    """Results format `swebench_log:<repo>`: the official log parser of `repo` over the output.

    For runners that write no report the grader owns (Django's `tests/runtests.py`, SymPy's
    `bin/test`). Printed text is all there is for them, as in the official harness: code under
    test that prints result lines can forge them (docs/evaluation.md).
    """

    name = "swebench_log"

    def __init__(self, repo: str) -> None:
        self.repo = repo

    def prepare(self, test_command: str, paths: Any) -> Any:
        from dgm.evaluation.results import Prepared

        return Prepared(test_command, reads_report=False)

    def parse(self, produced: Any) -> dict[str, str]:
        statuses = log_parser(self.repo)(produced.output)
        return {test: STATUS_TO_OUTCOME.get(status, "failed") for test, status in statuses.items()}

    def selects(self, test_id: str, task: Any) -> bool:
        return False        # SWE-bench tasks always list their expected tests


class OfficialRule:
    """Verdict rule `swebench`: the official rule. FAIL_TO_PASS (`task.fail_to_pass`) must pass;
    the other expected tests (PASS_TO_PASS) must not fail."""

    def decide(self, task: Any, outcomes: Mapping[str, str], expected: tuple[str, ...]) -> tuple[bool, str]:
        statuses = {test: OUTCOME_TO_STATUS[o] for test, o in outcomes.items() if o in OUTCOME_TO_STATUS}
        f2p = tuple(task.fail_to_pass)
        return judge(statuses, f2p, tuple(t for t in expected if t not in set(f2p)), shown=outcomes)


def judge(statuses: Mapping[str, str], fail_to_pass: tuple[str, ...], pass_to_pass: tuple[str, ...],
          shown: Mapping[str, str] | None = None) -> tuple[bool, str]:
    """(resolved, reason) by the official rule over official statuses; the reason names the first
    test that did not pass with its outcome in `shown` (default: its official status)."""
    grading = _modules()[1]
    report = grading.get_eval_tests_report(dict(statuses), {"FAIL_TO_PASS": list(fail_to_pass),
                                                            "PASS_TO_PASS": list(pass_to_pass)})
    status = grading.get_resolution_status(report)
    f2p, p2p = report["FAIL_TO_PASS"], report["PASS_TO_PASS"]
    summary = (f"{status}: FAIL_TO_PASS {len(f2p['success'])}/{len(fail_to_pass)}, "
               f"PASS_TO_PASS {len(p2p['success'])}/{len(pass_to_pass)} (official rule)")
    # swebench 4.1 counts a skipped FAIL_TO_PASS test as neither passed nor failed, so a patch that
    # makes every one of them skip scores RESOLVED_FULL; 5.x counts it failed, and so do we.
    skipped = [t for t in fail_to_pass if statuses.get(t) == "SKIPPED"]
    failed = f2p["failure"] + skipped + p2p["failure"]
    if failed:
        summary += f"; {failed[0]}: {(statuses if shown is None else shown).get(failed[0], 'not reported')}"
    return status == grading.ResolvedStatus.FULL.value and not skipped, summary
