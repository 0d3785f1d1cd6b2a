"""Grading by score: run a task's hidden scorer on the agent's workspace and read one number.

The `scored` suite's tasks carry a score command instead of hidden tests. What the agent could use
to judge itself is out of its reach by construction:
1. the score command runs in a fresh sandbox, never the one the agent worked in: only the agent's
   diff crosses over (applied and cleaned by the test grader's own steps, `grader.lay_out`), so
   nothing it left in its sandbox (a fake `python3` on PATH, a daemon, its own output) counts;
2. the scorer's files are a read-only bind mount at /work/scorer that the agent user cannot
   replace, rename or write (the agent's code, which the scorer runs, runs as that user);
3. the score is the last line of the command's standard output alone (standard error goes to a
   log file), parsed by the host: one JSON object whose `score` is a finite number in [0, 1];
4. a harness around the command is a child subreaper: every process the command leaves behind is
   re-parented to it, so a straggler that would print a fake last line once the scorer has exited
   is seen (the result is rejected) and killed before the harness reports;
5. the report must carry a token only the harness read (from a file it deletes before the command
   starts; it then makes itself non-dumpable), so a report the scored code forges into the exec's
   output, and then makes last by killing the harness, is no report: score 0, never an
   infrastructure error.
Anything else (no line, invalid JSON, NaN or infinity, a value outside [0, 1], a non-zero exit,
a timeout, more output than `STDOUT_CAP`, a last line over `LINE_CAP`) scores 0 with the reason
recorded. What the scorer does in its own process stays its own business: a scorer that imports
the candidate's code lets that code print the last line (docs/evaluation.md: run candidates in a
subprocess with captured output).
"""

from __future__ import annotations

import base64
import json
import math
import secrets
import shlex
import tempfile
from pathlib import Path
from typing import Any, Mapping

from dgm.benchmarks.task import Task, write_files
from dgm.evaluation import grader
from dgm.evaluation.grader import GradingError, Verdict
from dgm.evaluation.workspace import WORKDIR
from dgm.sandbox import Sandbox

SCORER_DIR = "/work/scorer"
STDOUT_CAP = 1 << 20          # bytes of standard output a score command may print
LINE_CAP = 4096               # bytes of its last line (the score object)
STDERR_LOG_BYTES = 50_000     # of standard error kept for the logs
# The protections below are switched off only by tests, to show each exploit it stops winning.
STDERR_APART = True           # standard error kept apart from the score line
REJECT_STRAGGLERS = True      # processes left behind by the command void the score
CHECK_TOKEN = True            # a report without the harness's secret token is no report

# Runs the score command as a child subreaper (PR_SET_CHILD_SUBREAPER = 36): orphans of the
# command become its children, so it can tell whether any outlived the command and kill them all
# before it prints its one-line report (base64 of the command's last stdout line) as the very
# last output of the exec.
_HARNESS = r"""
import base64, ctypes, json, os, signal, subprocess, sys, threading, time
workdir, command, timeout, cap, line_cap, err_path, merged, reject, token_path = sys.argv[1:10]
timeout, cap, line_cap = float(timeout), int(cap), int(line_cap)
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(36, 1, 0, 0, 0) != 0:
    print(json.dumps({"harness": "no subreaper"})); sys.exit(0)
with open(token_path) as f:
    token = f.read().strip()
os.unlink(token_path)
libc.prctl(4, 0, 0, 0, 0)   # PR_SET_DUMPABLE 0: the scored code (same user) cannot read this process's memory
me = os.getpid()
def children():
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                stat = open(f"/proc/{name}/stat", "rb").read()
            except OSError:
                continue
            if int(stat.rsplit(b")", 1)[1].split()[1]) == me:
                out.append(int(name))
    return out
err = open(err_path, "wb")
proc = subprocess.Popen(["bash", "-c", command], cwd=workdir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT if merged == "merged" else err, start_new_session=True)
err.close()
state = {"total": 0, "tail": b""}
def drain():
    while True:
        chunk = proc.stdout.read1(65536)
        if not chunk:
            return
        state["total"] += len(chunk)
        state["tail"] = (state["tail"] + chunk)[-(line_cap + 2):]
reader = threading.Thread(target=drain, daemon=True)
reader.start()
timed_out = False
try:
    code = proc.wait(timeout)
except subprocess.TimeoutExpired:
    timed_out = True
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    code = proc.wait()
left = children() if reject == "reject" else []
stragglers = len(left)
deadline = time.monotonic() + 20
while left and time.monotonic() < deadline:
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    for pid in left:
        try:
            os.waitpid(pid, 0)
        except OSError:
            pass
    left = children()
reader.join(5)
tail = state["tail"].rstrip()
line = tail.rsplit(b"\n", 1)[-1] if b"\n" in tail or state["total"] <= line_cap + 1 else None
if line is not None and len(line) > line_cap:
    line = None
print(json.dumps({"harness": "ok", "token": token, "exit_code": code, "timed_out": timed_out, "stragglers": stragglers,
                  "stdout_bytes": state["total"], "line": None if line is None else base64.b64encode(line).decode()}))
"""


def parse_score_line(line: bytes) -> tuple[float, dict[str, Any]] | str:
    """(score, other fields) from the score command's last line, or why it is no score."""
    text = line.decode("utf-8", errors="replace").strip()
    if not text:
        return "the score command printed no line on standard output"
    try:
        data = json.loads(text)
    except ValueError:
        return f"the last line of standard output is not JSON: {text[:120]!r}"
    if not isinstance(data, dict):
        return f"the last line of standard output is not a JSON object: {text[:120]!r}"
    if "score" not in data:
        return "the score object has no 'score' field"
    value = data["score"]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"'score' is not a number: {value!r}"
    if not math.isfinite(value):
        return f"'score' is not finite: {value!r}"
    if not 0.0 <= value <= 1.0:
        return f"'score' {value!r} is outside [0, 1]"
    return float(value), {k: v for k, v in data.items() if k != "score"}


def _judge(report: Mapping[str, Any], task: Task) -> tuple[float, dict[str, Any]] | str:
    """The score, or the reason it is 0, from the harness's report."""
    if report.get("timed_out"):
        return f"the score command timed out after {task.timeouts.test:g}s"
    if report.get("stragglers"):
        return (f"the score command left {report['stragglers']} process(es) running after it ended "
                "(they could print a fake last line); scorers must wait for what they start")
    if report.get("stdout_bytes", 0) > STDOUT_CAP:
        return f"the score command printed {report['stdout_bytes']} bytes on standard output (at most {STDOUT_CAP})"
    if report.get("exit_code") != 0:
        return f"the score command exited with status {report.get('exit_code')}"
    if report.get("line") is None:
        return f"the last line of standard output is longer than {LINE_CAP} bytes"
    return parse_score_line(base64.b64decode(report["line"]))


def _harness_report(output: str, token: str) -> dict[str, Any] | None:
    """The harness's report: the last line, carrying the token only the harness read (the scored
    code runs as the same user and can write into the exec's output, or kill the harness)."""
    lines = output.rstrip().splitlines()
    try:
        report = json.loads(lines[-1]) if lines else None
    except ValueError:
        return None
    if not isinstance(report, dict) or report.get("harness") != "ok":
        return None
    return report if report.get("token") == token or not CHECK_TOKEN else None


def score(sb: Sandbox, task: Task, diff: bytes, workdir: str = WORKDIR) -> Verdict:
    """Score `diff` for `task` in `sb`: a fresh sandbox from the task's image with the scorer
    mounted read-only at `SCORER_DIR` (`scorer_mount`). Raises what `grader.grade` raises for
    infrastructure failures; every failure of the agent or the scorer is a score of 0."""
    assert task.score_command, "only tasks of the scored suite are scored"
    scratch = grader.scratch_for(workdir)
    token, token_name = secrets.token_hex(16), f"{secrets.token_hex(12)}.token"
    laid = grader.lay_out(sb, task, diff, workdir, scratch, {token_name: token.encode()})
    if laid.failure is not None:
        return Verdict(False, laid.failure, exit_code=laid.exit_code, score=0.0)
    stderr_path = f"{scratch}/score.stderr"
    harness = ["python3", "-I", "-c", _HARNESS, workdir, task.score_command, f"{task.timeouts.test:.3f}",
               str(STDOUT_CAP), str(LINE_CAP), stderr_path, "apart" if STDERR_APART else "merged",
               "reject" if REJECT_STRAGGLERS else "keep", f"{scratch}/{token_name}"]
    run = sb.exec(f"{grader.setup_command(laid, workdir)} && cd {shlex.quote(workdir)} && "
                  + " ".join(shlex.quote(part) for part in harness),
                  timeout=task.timeouts.test + grader.SETUP_ALLOWANCE, cwd=workdir,
                  env={**task.agent_env, "PYTHONDONTWRITEBYTECODE": "1"})
    if run.timed_out and sb.expired:   # the scored code jammed the sandbox; the host removed it
        return Verdict(False, f"score 0: timed out after {task.timeouts.test:g}s and left the sandbox unable to answer",
                       output=run.output[-STDERR_LOG_BYTES:], reverted=laid.reverted, exit_code=run.exit_code, score=0.0)
    grader.check_setup(sb, task, laid, run.output)
    report = _harness_report(run.output, token)
    if report is None:
        if run.timed_out:
            report = {"timed_out": True}
        elif run.exit_code == 127:   # bash: python3: command not found
            raise GradingError(f"task {task.id}: the scoring harness did not start "
                               f"(the image needs python3): {run.output.strip()[-300:]}")
        else:                        # the scored code killed the harness, or forged its report
            return Verdict(False, "score 0: the scoring harness gave no genuine report (killed or forged by "
                           "the scored code)", output=run.output[-STDERR_LOG_BYTES:], reverted=laid.reverted,
                           exit_code=run.exit_code, score=0.0)
    try:
        stderr = sb.read(stderr_path, max_bytes=STDERR_LOG_BYTES, keep_tail=True).decode("utf-8", errors="replace")
    except (FileNotFoundError, OSError):
        stderr = ""
    line = base64.b64decode(report["line"]).decode("utf-8", errors="replace") if report.get("line") else ""
    output = f"--- standard error (tail) ---\n{stderr}\n--- last line of standard output ---\n{line}\n"
    judged = _judge(report, task)
    if isinstance(judged, str):
        return Verdict(False, f"score 0: {judged}", output=output, reverted=laid.reverted,
                       exit_code=report.get("exit_code"), score=0.0)
    value, details = judged
    return Verdict(value >= 1.0, f"score {value:.4g}", output=output, reverted=laid.reverted,
                   exit_code=report.get("exit_code"), score=value, details=details)


class scorer_mount:
    """A host directory holding the task's scorer files, readable by the sandbox user (uid 1000)
    through a read-only bind mount; removed on exit. Use as `with scorer_mount(task) as mount:`."""

    def __init__(self, task: Task) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="dgm-scorer-")
        root = Path(self._tmp.name) / "scorer"
        root.mkdir()
        write_files(root, task.scorer)
        for path in [root, *root.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        Path(self._tmp.name).chmod(0o755)
        self.mount = (root, SCORER_DIR)

    def __enter__(self) -> tuple[Path, str]:
        return self.mount

    def __exit__(self, *exc: object) -> None:
        self._tmp.cleanup()
