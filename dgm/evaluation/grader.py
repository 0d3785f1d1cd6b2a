"""Tamper-proof grading: apply an agent's diff in a fresh sandbox and run the hidden tests.

The agent's diff is data; everything it could use to judge itself is taken back before a single
line of its code runs:
1. the task's starting workspace is laid out and committed as a git baseline;
2. the diff is applied (a diff that does not apply is an unresolved task, with git's reason);
3. every path the diff touched (from the diff's headers and from git's view of the result) that is
   a test location, test configuration, a shadow of the test runner, a build output or one of the
   task's protected paths (build files, runner hooks) is reverted (`protect`);
4. the hidden test files are written (and the task's test patch applied) over the result;
5. the test command runs as the task's results format prepares it (`dgm.evaluation.results`:
   for pytest a grader-owned plugin, loaded from outside the workspace, writes exact node ids
   and outcomes to a random path); the task's verdict rule (`dgm.evaluation.verdict`) decides
   from those per-test outcomes of the expected tests alone. The exit status and stdout are kept
   for the logs only: no report, no pass.
"""

from __future__ import annotations

import secrets
import shlex
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Mapping

from dgm.benchmarks.task import Task, write_files
from dgm.evaluation import protect
from dgm.evaluation.diffpaths import touched_paths
from dgm.evaluation import results, verdict
from dgm.evaluation.results import PINNED_LIST, Produced, ReportError, RunPaths
from dgm.errors import DgmError
from dgm.evaluation.workspace import GIT_ENV, WORKDIR, prepare_workspace
from dgm.sandbox import Sandbox
from dgm.sandbox.docker_backend import SandboxIOError, StepFailed

STEP_TIMEOUT = 300.0
SETUP_ALLOWANCE = 60.0          # seconds added to the test timeout for undoing and restoring
_APPLY_FAILED = 3
_SECTION = b"\0/\0"             # between the NUL-separated lists ("/" is never a path)

# Baseline, apply, and report what changed: changed paths, added paths, starting paths named like a
# runner module, and which new top-level entries shadow a module (NUL lists, "\0/\0" between).
# Exit 3 = the patch does not apply.
_APPLY = r"""
mkdir -p "$1" && cd "$1" || exit 2
[ -d .git ] || git init -q . || exit 2
git add -A && git commit -q --allow-empty --no-verify -m dgm-baseline || exit 2
if [ -s "$2/agent.patch" ]; then git apply --whitespace=nowarn "$2/agent.patch" || exit 3; fi
git add -A && git diff --cached --no-renames --name-only -z HEAD > "$2/inspect" || exit 2
printf '\0/\0' >> "$2/inspect"
git diff --cached --no-renames --name-only --diff-filter=A -z HEAD >> "$2/inspect" || exit 2
printf '\0/\0' >> "$2/inspect"
git ls-tree -r -t --name-only -z HEAD | grep -zE '(^|/)_?pytest(\.[^/]*)?$' >> "$2/inspect"
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
if [ -f "$2/pinned" ]; then       # runner start-up configs: starting version now, the agent's after start-up
  mkdir -p "$2/pinned-agent" || exit 1; i=0
  while IFS= read -r -d '' p; do
    i=$((i + 1))
    if [ -e "$p" ] || [ -L "$p" ]; then mv -- "$p" "$2/pinned-agent/$i" || exit 1; fi
    if git cat-file -e "HEAD:$p" 2>/dev/null; then git --literal-pathspecs checkout -q HEAD -- "$p" || exit 1; fi
  done < "$2/pinned"
fi
touch "$2/setup-ok"
"""
# The scratch dir's entries (the report's random directory) cannot be listed by the tests.
_HIDE_SCRATCH = 'chmod 0311 "$2"\n'
HIDE_SCRATCH = True     # tests switch it off to show what a listable scratch dir would let in


@dataclass(frozen=True)
class Verdict:
    resolved: bool
    reason: str                                   # one line: why
    tests: Mapping[str, str] = field(default_factory=dict)   # test id -> outcome (results.OUTCOMES)
    output: str = ""                              # the test command's output (hidden from agents)
    reverted: Mapping[str, str] = field(default_factory=dict)  # path -> why the diff's change was undone
    # Touched runner start-up configs that held their starting version while the runner started.
    pinned: tuple[str, ...] = ()
    exit_code: int | None = None
    score: float | None = None                    # `scored` tasks: the scorer's number in [0, 1]
    details: Mapping[str, object] = field(default_factory=dict)  # `scored`: the score line's other fields


class GradingError(DgmError):
    """A grading step that the agent cannot cause failed (wrong image, broken task): infra."""


def _split_nul(data: bytes) -> set[str]:
    return {part.decode("utf-8", "surrogateescape") for part in data.split(b"\0") if part}


def _nul_list(paths) -> bytes:
    return b"".join(p.encode("utf-8", "surrogateescape") + b"\0" for p in paths)


def decide(task: Task, fmt: results.ResultsFormat, outcomes: Mapping[str, str]) -> tuple[bool, str]:
    """The verdict from per-test outcomes alone: the task's rule over its expected tests."""
    expected = verdict.expected_tests(task, outcomes, fmt.selects)
    return verdict.get_rule(task.rule).decide(task, outcomes, expected)


@dataclass(frozen=True)
class _Inspected:
    changed: set[str]
    added: set[str]
    baseline_runner: frozenset[str]
    shadows: set[str]


def _lists(data: bytes) -> _Inspected:
    """The apply step's `inspect` file: its four NUL-separated lists."""
    changed, added, runner, shadows = (data.split(_SECTION, 3) + [b"", b"", b""])[:4]
    return _Inspected(_split_nul(changed), _split_nul(added), frozenset(_split_nul(runner)), _split_nul(shadows))


# The starting version of each listed start-up config (NUL list in $2/cfg-list) as $2/cfg-<n>.
_STARTING = r"""
cd "$1" || exit 1; i=0
while IFS= read -r -d '' p; do
  i=$((i + 1))
  if git cat-file -e "HEAD:$p" 2>/dev/null; then git --literal-pathspecs show "HEAD:$p" > "$2/cfg-$i" || exit 1; fi
done < "$2/cfg-list"
"""
MAX_CONFIG_BYTES = 1 << 20


def _to_pin(sb: Sandbox, fmt: results.ResultsFormat | None, workdir: str, scratch: str,
            candidates: list[str]) -> list[str]:
    """The touched start-up configs to pin: all but those whose change the format calls harmless
    (`harmless_startup_change(name, before, after)`); a file too large or unreadable stays pinned."""
    judge = getattr(fmt, "harmless_startup_change", None)
    if not candidates or judge is None:
        return candidates
    sb.write(f"{scratch}/cfg-list", _nul_list(candidates))
    if not sb.exec(["bash", "-c", _STARTING, "dgm-cfg", workdir, scratch], timeout=STEP_TIMEOUT, env=GIT_ENV).ok:
        return candidates

    def version(path: str) -> bytes | None:
        try:
            return sb.read(path, max_bytes=MAX_CONFIG_BYTES)
        except FileNotFoundError:
            return None

    pinned = []
    for number, rel in enumerate(candidates, 1):
        try:
            harmless = judge(PurePosixPath(rel).name, version(f"{scratch}/cfg-{number}"), version(f"{workdir}/{rel}"))
        except SandboxIOError:      # FileTooLarge, a symlink or FIFO
            harmless = False
        if not harmless:
            pinned.append(rel)
    return pinned


@dataclass(frozen=True)
class LaidOut:
    """A grading workspace with the agent's diff applied; `failure` says why the diff did not apply."""

    scratch: str                                  # grader-owned directory next to the workspace
    reverted: Mapping[str, str] = field(default_factory=dict)
    pinned: tuple[str, ...] = ()
    failure: str | None = None
    exit_code: int | None = None


def scratch_for(workdir: str) -> str:
    """A fresh grader-owned directory path beside `workdir` (never inside what the diff changes)."""
    return f"{PurePosixPath(workdir).parent}/.dgm-grade-{secrets.token_hex(12)}"


def lay_out(sb: Sandbox, task: Task, diff: bytes, workdir: str, scratch: str,
            scratch_files: Mapping[str, bytes], fmt: results.ResultsFormat | None = None) -> LaidOut:
    """Steps 1-3: the starting workspace, the diff applied, the list of changes to undo written.

    `scratch_files` go into the scratch directory beside the workspace (with `setup.sh`, which
    undoes the listed changes and writes the hidden tests when it runs). Shared by the test grader
    and `dgm.evaluation.scoring`, so both judge exactly the same files. With a results `fmt`, the
    runner start-up configs it names (`startup_configs`) that the diff touched are pinned.
    """
    parent, name = str(PurePosixPath(workdir).parent), PurePosixPath(workdir).name
    scratch_name = PurePosixPath(scratch).name
    setup = _SETUP + (_HIDE_SCRATCH if HIDE_SCRATCH and fmt is not None else "")   # test grading's report dir
    tree = {f"{scratch_name}/agent.patch": diff, f"{scratch_name}/setup.sh": setup.encode()}
    tree.update({f"{scratch_name}/{rel}": data for rel, data in scratch_files.items()})
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
        return LaidOut(scratch, failure=f"patch does not apply: {detail}"[:500], exit_code=applied.exit_code)
    if not applied.ok:
        raise GradingError(f"task {task.id}: preparing the grading workspace failed: {applied.output.strip()[-300:]}")
    seen = _lists(sb.read(f"{scratch}/inspect"))
    touched = touched_paths(diff) | seen.changed
    reverted = protect.to_revert(touched, task.test_paths, seen.shadows, seen.added, seen.baseline_runner,
                                 task.protected_paths)
    if reverted:
        sb.write(f"{scratch}/revert", _nul_list(reverted))
    startup = getattr(fmt, "startup_configs", frozenset())
    pinned = _to_pin(sb, fmt, workdir, scratch,
                     sorted(p for p in touched if PurePosixPath(p).name in startup and p not in reverted))
    if pinned:
        sb.write(f"{scratch}/{PINNED_LIST}", _nul_list(pinned))
    return LaidOut(scratch, reverted=reverted, pinned=tuple(pinned))


def setup_command(laid: LaidOut, workdir: str) -> str:
    """The shell prefix that runs step 4 (undo, hidden tests) right before the judged command."""
    return f"bash {shlex.quote(laid.scratch)}/setup.sh {shlex.quote(workdir)} {shlex.quote(laid.scratch)}"


def check_setup(sb: Sandbox, task: Task, laid: LaidOut, output: str) -> None:
    try:
        sb.read(f"{laid.scratch}/setup-ok")
    except FileNotFoundError:
        raise GradingError(f"task {task.id}: restoring the hidden tests failed: {output.strip()[-300:]}") from None


def grade(sb: Sandbox, task: Task, diff: bytes, workdir: str = WORKDIR) -> Verdict:
    """Grade `diff` for `task` in `sb`, a fresh sandbox from the task's image.

    Raises SandboxUnavailable (the sandbox died) or GradingError (the task or image is broken):
    both are infrastructure errors for the caller, never a score. Sandbox round trips are few
    (one write, two execs, two or three reads): they dominate grading time on a busy host.
    """
    fmt = results.get_format(task.results)
    scratch = scratch_for(workdir)
    report_dir = secrets.token_hex(12)
    paths = RunPaths(workdir=workdir, scratch=scratch, token=secrets.token_hex(12),
                     report=f"{scratch}/{report_dir}/{secrets.token_hex(12)}.report")
    try:
        prepared = fmt.prepare(task.test_command, paths)
    except ReportError as err:
        raise GradingError(f"task {task.id}: {err}") from None
    laid = lay_out(sb, task, diff, workdir, scratch, {f"{report_dir}/.keep": b"", **prepared.files}, fmt)
    if laid.failure is not None:
        return Verdict(False, laid.failure, exit_code=laid.exit_code)
    reverted = laid.reverted

    run = sb.exec(f"{setup_command(laid, workdir)} && cd {shlex.quote(workdir)} && {prepared.command}",
                  timeout=task.timeouts.test + SETUP_ALLOWANCE, cwd=workdir,
                  env={**task.agent_env, "PYTHONDONTWRITEBYTECODE": "1", **prepared.env})

    def unresolved(reason: str, tests: Mapping[str, str] | None = None) -> Verdict:
        return Verdict(False, reason, tests=tests or {}, output=run.output, reverted=reverted, pinned=laid.pinned,
                       exit_code=run.exit_code)

    if run.timed_out and sb.expired:   # the code under test jammed the sandbox; the host removed it
        return unresolved(f"tests timed out after {task.timeouts.test:g}s and left the sandbox unable to answer")
    report: bytes | None = None
    if prepared.reads_report and not run.timed_out:
        try:   # the setup check rides on the report's read: one round trip
            ok = shlex.quote(f"{laid.scratch}/setup-ok")
            report = sb.read(paths.report, before=f"[ -f {ok} ] && [ ! -L {ok} ]")
        except StepFailed:
            raise GradingError(f"task {task.id}: restoring the hidden tests failed: {run.output.strip()[-300:]}") from None
        except FileNotFoundError:
            report = None
    else:
        check_setup(sb, task, laid, run.output)
    if run.timed_out:
        return unresolved(f"tests timed out after {task.timeouts.test:g}s")
    try:
        outcomes = fmt.parse(Produced(report=report, output=run.output, exit_code=run.exit_code))
    except ReportError as err:
        return unresolved(str(err))
    resolved, reason = decide(task, fmt, outcomes)
    return Verdict(resolved, reason, tests=outcomes, output=run.output, reverted=reverted, pinned=laid.pinned,
                   exit_code=run.exit_code)
