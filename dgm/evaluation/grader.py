"""Tamper-proof grading: apply an agent's diff in a fresh sandbox and run the hidden tests.

The agent's diff is data; everything it could use to judge itself is taken back before a single
line of its code runs:
1. the task's starting workspace is laid out and committed as a git baseline;
2. the diff is applied (a diff that does not apply is an unresolved task, with git's reason);
3. every path the diff touched (from the diff's headers and from git's view of the result) that is
   a test location, test configuration or a shadow of the test runner is reverted (`protect`);
4. the hidden test files are written (and the task's test patch applied) over the result;
5. the test command runs with a JUnit report at a random path; the verdict comes from the exit
   status and that report, which must list the expected tests (or, when the task names none,
   at least one hidden test and no failures) as passed. Stdout is kept for the logs only.

Runs of the test command whose runner is not pytest (other Polyglot languages) can name the
report path with a `{junit}` placeholder; without one they are judged by exit status alone.
"""

from __future__ import annotations

import re
import secrets
import shlex
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from dgm.benchmarks.task import Task, write_files
from dgm.evaluation import protect
from dgm.evaluation.diffpaths import touched_paths
from dgm.evaluation.junit import ReportError, parse_report
from dgm.errors import DgmError
from dgm.evaluation.workspace import GIT_ENV, WORKDIR, prepare_workspace
from dgm.sandbox import Sandbox

STEP_TIMEOUT = 300.0
_PYTEST = re.compile(r"\bpytest\b")
_APPLY_FAILED = 3

# Baseline, apply, and report what changed. Exit 3 = the patch does not apply.
_APPLY = r"""
cd "$1" || exit 2
[ -d .git ] || git init -q . || exit 2
git add -A && git commit -q --allow-empty --no-verify -m dgm-baseline || exit 2
if [ -s "$2/agent.patch" ]; then git apply --whitespace=nowarn "$2/agent.patch" || exit 3; fi
git add -A && git diff --cached --no-renames --name-only -z HEAD > "$2/changed" || exit 2
git ls-tree --name-only -z HEAD > "$2/baseline-root" || exit 2
if command -v python3 >/dev/null; then
  cd / && python3 -I -c "$3" "$1" "$2/baseline-root" > "$2/shadows" || exit 2
fi
exit 0
"""

# New top-level entries of the workspace whose module name the image already provides.
_FIND_SHADOWS = r"""
import importlib.util, os, sys
workdir, baseline = sys.argv[1], set(open(sys.argv[2], "rb").read().split(b"\0"))
suffixes = (".py", ".pyc", ".pyw", ".so", ".pth")
for entry in os.listdir(workdir):
    if entry.startswith(".") or os.fsencode(entry) in baseline:
        continue
    name = entry.split(".", 1)[0] if entry.endswith(suffixes) else entry
    try:
        found = name.isidentifier() and importlib.util.find_spec(name) is not None
    except Exception:
        found = True
    if found:
        sys.stdout.write(entry + "\0")
"""

# Undo each listed path: remove it, then restore the baseline version if there was one.
_REVERT = r"""
cd "$1" || exit 2
while IFS= read -r -d '' p; do
  rm -rf -- "$p"
  if git cat-file -e "HEAD:$p" 2>/dev/null; then git --literal-pathspecs checkout -q HEAD -- "$p" || exit 2; fi
done < "$2/revert"
"""


@dataclass(frozen=True)
class Verdict:
    resolved: bool
    reason: str                                   # one line: why
    tests: Mapping[str, str] = field(default_factory=dict)   # node id -> outcome, from the report
    output: str = ""                              # the test command's output (hidden from agents)
    reverted: Mapping[str, str] = field(default_factory=dict)  # path -> why the diff's change was undone
    exit_code: int | None = None


class GradingError(DgmError):
    """A grading step that the agent cannot cause failed (wrong image, broken task): infra."""


def _split_nul(data: bytes) -> set[str]:
    return {part.decode("utf-8", "surrogateescape") for part in data.split(b"\0") if part}


def _check(sb: Sandbox, what: str, script: str, *args: str) -> None:
    result = sb.exec(["bash", "-c", script, "dgm-grade", *args], timeout=STEP_TIMEOUT, env=GIT_ENV)
    if not result.ok:
        raise GradingError(f"{what} failed (exit {result.exit_code}): {result.output.strip()[-300:]}")


def report_command(test_command: str, report: str, workdir: str) -> tuple[str, bool]:
    """The test command with the grader's report options, and whether a report will be written."""
    if "{junit}" in test_command:
        return test_command.replace("{junit}", shlex.quote(report)), True
    if _PYTEST.search(test_command):
        extra = ["-p", "no:cacheprovider", f"--junitxml={report}", "-o", "junit_family=xunit1",
                 f"--rootdir={workdir}"]
        return f"{test_command} {' '.join(shlex.quote(x) for x in extra)}", True
    return test_command, False


def judge(task: Task, exit_code: int, timed_out: bool, outcomes: Mapping[str, str] | None) -> tuple[bool, str]:
    """The verdict from the exit status and the report (None: the command writes no report)."""
    if timed_out:
        return False, f"tests timed out after {task.timeouts.test:g}s"
    if outcomes is None:
        return exit_code == 0, f"test command exited {exit_code} (judged by exit status: no report)"
    if task.expected_tests:
        missing = [t for t in task.expected_tests if outcomes.get(t) != "passed"]
        passed = len(task.expected_tests) - len(missing)
        if exit_code not in (0, 1):       # 0 all passed, 1 some failed; others: no proper run
            return False, f"test run did not complete (exit {exit_code}); {passed}/{len(task.expected_tests)} expected tests passed"
        if missing:
            first = missing[0]
            return False, (f"{passed}/{len(task.expected_tests)} expected tests passed; "
                           f"{first}: {outcomes.get(first, 'not run')}")
        return True, f"{passed}/{passed} expected tests passed"
    hidden = set(task.test_paths)
    ours = {node: outcome for node, outcome in outcomes.items() if node.split("::", 1)[0] in hidden}
    bad = sorted(node for node, outcome in ours.items() if outcome != "passed")
    if not ours:
        return False, f"no hidden test ran (exit {exit_code})"
    if bad or exit_code != 0:
        first = f"; {bad[0]}: {ours[bad[0]]}" if bad else ""
        return False, f"{len(ours) - len(bad)}/{len(ours)} hidden tests passed (exit {exit_code}){first}"
    return True, f"{len(ours)}/{len(ours)} hidden tests passed"


def grade(sb: Sandbox, task: Task, diff: bytes, workdir: str = WORKDIR) -> Verdict:
    """Grade `diff` for `task` in `sb`, a fresh sandbox from the task's image.

    Raises SandboxUnavailable (the sandbox died) or GradingError (the task or image is broken):
    both are infrastructure errors for the caller, never a score.
    """
    scratch = f"/tmp/dgm-grade-{secrets.token_hex(12)}"
    prepare_workspace(sb, task, workdir)
    sb.write(f"{scratch}/agent.patch", diff)

    applied = sb.exec(["bash", "-c", _APPLY, "dgm-grade", workdir, scratch, _FIND_SHADOWS],
                      timeout=STEP_TIMEOUT, env=GIT_ENV)
    if applied.exit_code == _APPLY_FAILED:
        detail = " ".join(applied.output.strip().splitlines()[-3:])
        return Verdict(False, f"patch does not apply: {detail}"[:500], exit_code=applied.exit_code)
    if not applied.ok:
        raise GradingError(f"task {task.id}: preparing the grading workspace failed: {applied.output.strip()[-300:]}")

    touched = touched_paths(diff) | _split_nul(sb.read(f"{scratch}/changed"))
    try:
        shadows = _split_nul(sb.read(f"{scratch}/shadows"))
    except FileNotFoundError:       # no python3 in this image: nothing can shadow it
        shadows = set()
    reverted = protect.to_revert(touched, task.test_paths, shadows)
    if reverted:
        sb.write(f"{scratch}/revert", b"".join(p.encode("utf-8", "surrogateescape") + b"\0" for p in reverted))
        _check(sb, "reverting protected paths", _REVERT, workdir, scratch)

    if task.hidden_tests:
        with tempfile.TemporaryDirectory(prefix="dgm-tests-") as tmp:
            write_files(Path(tmp), task.hidden_tests)
            sb.write(workdir, Path(tmp))
    if task.test_patch:
        sb.write(f"{scratch}/test.patch", task.test_patch)
        _check(sb, "applying the task's test patch", f'cd "$1" && git apply --whitespace=nowarn "$2/test.patch"',
               workdir, scratch)

    report = f"{scratch}/{secrets.token_hex(12)}.xml"
    command, has_report = report_command(task.test_command, report, workdir)
    run = sb.exec(command, timeout=task.timeouts.test, cwd=workdir, env={"PYTHONDONTWRITEBYTECODE": "1"})
    outcomes: dict[str, str] | None = None
    if has_report and not run.timed_out:
        try:
            outcomes = parse_report(sb.read(report))
        except FileNotFoundError:
            return Verdict(False, f"no test report was written (exit {run.exit_code}): the test run crashed or "
                                  "exited early", output=run.output, reverted=reverted, exit_code=run.exit_code)
        except ReportError as err:
            return Verdict(False, str(err), output=run.output, reverted=reverted, exit_code=run.exit_code)
    resolved, reason = judge(task, run.exit_code, run.timed_out, outcomes)
    return Verdict(resolved, reason, tests=outcomes or {}, output=run.output, reverted=reverted,
                   exit_code=run.exit_code)
