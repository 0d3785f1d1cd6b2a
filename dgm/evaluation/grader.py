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
from pathlib import Path, PurePosixPath
from typing import Mapping

from dgm.benchmarks.task import Task, write_files
from dgm.evaluation import protect
from dgm.evaluation.diffpaths import touched_paths
from dgm.evaluation.junit import ReportError, parse_report
from dgm.errors import DgmError
from dgm.evaluation.workspace import GIT_ENV, WORKDIR, prepare_workspace
from dgm.sandbox import Sandbox

STEP_TIMEOUT = 300.0
SETUP_ALLOWANCE = 60.0          # seconds added to the test timeout for undoing and restoring
_PYTEST = re.compile(r"\bpytest\b")
_APPLY_FAILED = 3
_SECTION = b"\0/\0"             # between the two NUL-separated lists ("/" is never a path)

# Baseline, apply, and report what changed and which new top-level entries shadow a module.
# Exit 3 = the patch does not apply.
_APPLY = r"""
mkdir -p "$1" && cd "$1" || exit 2
[ -d .git ] || git init -q . || exit 2
git add -A && git commit -q --allow-empty --no-verify -m dgm-baseline || exit 2
if [ -s "$2/agent.patch" ]; then git apply --whitespace=nowarn "$2/agent.patch" || exit 3; fi
git add -A && git diff --cached --no-renames --name-only -z HEAD > "$2/inspect" || exit 2
printf '\0/\0' >> "$2/inspect"
if command -v python3 >/dev/null; then
  git ls-tree --name-only -z HEAD > "$2/baseline-root" || exit 2
  (cd / && python3 -I -c "$3" "$1" "$2/baseline-root") >> "$2/inspect" || exit 2
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

# Run right before the test command, in the same exec: undo the listed paths (remove, then
# restore the baseline version if there was one), write the hidden tests, apply the test patch.
_SETUP = r"""
cd "$1" || exit 1
if [ -f "$2/revert" ]; then
  while IFS= read -r -d '' p; do
    rm -rf -- "$p"
    if git cat-file -e "HEAD:$p" 2>/dev/null; then git --literal-pathspecs checkout -q HEAD -- "$p" || exit 1; fi
  done < "$2/revert"
fi
if [ -d "$2/hidden" ]; then cp -a "$2/hidden/." . || exit 1; fi
if [ -f "$2/test.patch" ]; then git apply --whitespace=nowarn "$2/test.patch" || exit 1; fi
touch "$2/setup-ok"
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


def _lists(data: bytes) -> tuple[set[str], set[str]]:
    """(changed paths, shadowing entries) from the apply step's `inspect` file."""
    changed, _, shadows = data.partition(_SECTION)
    return _split_nul(changed), _split_nul(shadows)


def grade(sb: Sandbox, task: Task, diff: bytes, workdir: str = WORKDIR) -> Verdict:
    """Grade `diff` for `task` in `sb`, a fresh sandbox from the task's image.

    Raises SandboxUnavailable (the sandbox died) or GradingError (the task or image is broken):
    both are infrastructure errors for the caller, never a score. Sandbox round trips are few
    (one write, two execs, two or three reads): they dominate grading time on a busy host.
    """
    parent, name = str(PurePosixPath(workdir).parent), PurePosixPath(workdir).name
    scratch_name = f".dgm-grade-{secrets.token_hex(12)}"
    scratch = f"{parent}/{scratch_name}"
    tree = {f"{scratch_name}/agent.patch": diff, f"{scratch_name}/setup.sh": _SETUP.encode()}
    tree.update({f"{scratch_name}/hidden/{rel}": data for rel, data in task.hidden_tests.items()})
    if task.test_patch:
        tree[f"{scratch_name}/test.patch"] = task.test_patch
    if task.repo_dir:
        prepare_workspace(sb, task, workdir)        # copies the repository inside the image
    else:
        tree.update({f"{name}/{rel}": data for rel, data in task.workspace.items()})
    with tempfile.TemporaryDirectory(prefix="dgm-grade-") as tmp:
        write_files(Path(tmp), tree)
        sb.write(parent, Path(tmp))

    applied = sb.exec(["bash", "-c", _APPLY, "dgm-grade", workdir, scratch, _FIND_SHADOWS],
                      timeout=STEP_TIMEOUT, env=GIT_ENV)
    if applied.exit_code == _APPLY_FAILED:
        detail = " ".join(applied.output.strip().splitlines()[-3:])
        return Verdict(False, f"patch does not apply: {detail}"[:500], exit_code=applied.exit_code)
    if not applied.ok:
        raise GradingError(f"task {task.id}: preparing the grading workspace failed: {applied.output.strip()[-300:]}")
    changed, shadows = _lists(sb.read(f"{scratch}/inspect"))
    reverted = protect.to_revert(touched_paths(diff) | changed, task.test_paths, shadows)
    if reverted:
        sb.write(f"{scratch}/revert", b"".join(p.encode("utf-8", "surrogateescape") + b"\0" for p in reverted))

    report = f"{scratch}/{secrets.token_hex(12)}.xml"
    command, has_report = report_command(task.test_command, report, workdir)
    run = sb.exec(f"bash {shlex.quote(scratch)}/setup.sh {shlex.quote(workdir)} {shlex.quote(scratch)} && "
                  f"cd {shlex.quote(workdir)} && {command}",
                  timeout=task.timeouts.test + SETUP_ALLOWANCE, cwd=workdir, env={"PYTHONDONTWRITEBYTECODE": "1"})

    def setup_failed() -> GradingError | None:
        try:
            sb.read(f"{scratch}/setup-ok")
            return None
        except FileNotFoundError:
            return GradingError(f"task {task.id}: restoring the hidden tests failed: {run.output.strip()[-300:]}")

    outcomes: dict[str, str] | None = None
    if has_report and not run.timed_out:
        try:
            outcomes = parse_report(sb.read(report))
        except FileNotFoundError:
            error = setup_failed()
            if error:
                raise error from None
            return Verdict(False, f"no test report was written (exit {run.exit_code}): the test run crashed or "
                                  "exited early", output=run.output, reverted=reverted, exit_code=run.exit_code)
        except ReportError as err:
            return Verdict(False, str(err), output=run.output, reverted=reverted, exit_code=run.exit_code)
    elif not run.timed_out:
        error = setup_failed()
        if error:
            raise error
    resolved, reason = judge(task, run.exit_code, run.timed_out, outcomes)
    return Verdict(resolved, reason, tests=outcomes or {}, output=run.output, reverted=reverted,
                   exit_code=run.exit_code)
