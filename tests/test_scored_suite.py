"""The `scored` suite: loading, the score line's rules, and scoring in real sandboxes.

The worked example (examples/scored-tour) scores known answers as expected; every way an agent
could fake its score is shown winning with its protection switched off, then losing.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import pytest

from dgm.benchmarks import load_suite, scored
from dgm.benchmarks.task import Task, TaskError, Timeouts, overlay_diff, read_tree
from dgm.config import BenchmarkConfig, SandboxConfig
from dgm.evaluation import scoring
from dgm.evaluation.grader import Verdict

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "scored-tour"
SOLUTIONS = EXAMPLE / "solutions"


@pytest.fixture(scope="module")
def tour() -> Task:
    (task,) = load_suite(BenchmarkConfig(name="scored", path=str(EXAMPLE / "tasks")))
    return task


def answer(task: Task, source: str) -> bytes:
    """The diff that replaces tour.py with `source`."""
    return overlay_diff(task.workspace, {"tour.py": source.encode()})


def solution(name: str) -> str:
    return (SOLUTIONS / name).read_text()


# ---------------------------------------------------------------------------------------------
# Without Docker


def test_loader_reads_the_format_and_names_what_is_wrong(tour: Task, tmp_path: Path) -> None:
    assert tour.id == "short-tour" and tour.score_command == "python3 /work/scorer/score.py"
    assert set(tour.scorer) == {"score.py", "reference.json"} and "tour.py" in tour.workspace
    assert tour.timeouts.test == 60 and not tour.hidden_tests
    broken = tmp_path / "t1"
    (broken / "workspace").mkdir(parents=True)
    (broken / "problem.md").write_text("do it")
    (broken / "task.yaml").write_text("timeout_seconds: 5\n")
    with pytest.raises(TaskError, match="missing required field 'score_command'"):
        scored.load(tmp_path)
    (broken / "task.yaml").write_text("score_command: x\ntimeout: 5\n")
    with pytest.raises(TaskError, match="unknown field 'timeout'"):
        scored.load(tmp_path)
    (broken / "task.yaml").write_text("score_command: x\n")
    with pytest.raises(TaskError, match="scorer"):
        scored.load(tmp_path)
    with pytest.raises(ValueError, match="scored benchmark needs a path"):
        BenchmarkConfig(name="scored")


@pytest.mark.parametrize("line, reason", [
    (b"", "no line"), (b"garbage", "not JSON"), (b"[0.5]", "not a JSON object"), (b'{"value": 1}', "no 'score'"),
    (b'{"score": "1"}', "not a number"), (b'{"score": true}', "not a number"), (b'{"score": NaN}', "not finite"),
    (b'{"score": Infinity}', "not finite"), (b'{"score": 1e999}', "not finite"), (b'{"score": 1.0001}', "outside"),
    (b'{"score": -0.1}', "outside"),
])
def test_a_malformed_score_line_is_no_score(line: bytes, reason: str) -> None:
    judged = scoring.parse_score_line(line)
    assert isinstance(judged, str) and reason in judged


def test_a_score_line_keeps_its_other_fields() -> None:
    assert scoring.parse_score_line(b' {"score": 0.25, "ms": 12} \n') == (0.25, {"ms": 12})
    assert scoring.parse_score_line(b'{"score": 1}') == (1.0, {})


# ---------------------------------------------------------------------------------------------
# Real sandboxes

pytest_docker = pytest.mark.docker


def _sandbox(run_label: str, job: str, mount=None):
    from dgm.sandbox.docker_backend import DockerSandbox

    return DockerSandbox(SandboxConfig(), run=run_label, job=job, role="grade", mount=mount)


def score_fresh(task: Task, diff: bytes, run_label: str) -> Verdict:
    """As the pipeline scores: a fresh sandbox with the scorer mounted read-only."""
    with scoring.scorer_mount(task) as mount, _sandbox(run_label, f"score-{task.id}", mount) as sb:
        return scoring.score(sb, task, diff)


def _scorer_copied_in(sb, task: Task) -> None:
    """Protection off: the scorer written into the sandbox as the agent user's files."""
    with tempfile.TemporaryDirectory() as tmp:
        from dgm.benchmarks.task import write_files

        write_files(Path(tmp), task.scorer)
        sb.write(scoring.SCORER_DIR, Path(tmp))


@pytest_docker
def test_the_example_scores_known_answers(docker_ready, run_label, tour: Task) -> None:
    good = score_fresh(tour, answer(tour, solution("two_opt.py")), run_label)
    assert good.score == 1.0 and good.resolved and good.details["lengths"] == good.details["reference"]
    fair = score_fresh(tour, answer(tour, solution("nearest_neighbour.py")), run_label)
    assert 0.8 < fair.score < 0.87 and not fair.resolved, fair.reason
    bad = score_fresh(tour, b"", run_label)        # the given order, unchanged
    assert bad.score == 0.0 and bad.reason == "score 0"
    broken = score_fresh(tour, answer(tour, "def tour(points):\n    return [0]\n"), run_label)
    assert broken.score == 0.0 and broken.details["problems"] == ["tour() did not return every index exactly once"] * 3


# The candidate rewrites the scorer's reference data (read after the candidate ran) to its own
# lengths, or replaces the whole scorer folder, then answers with nearest neighbour.
EDITS_THE_SCORER = solution("nearest_neighbour.py") + '''

def _cheat():
    import json, math, os, random
    sizes, lengths = (60, 120, 200), []
    for seed, size in enumerate(sizes):
        rng = random.Random(seed)
        pts = [[rng.random(), rng.random()] for _ in range(size)]
        order = tour(pts)
        lengths.append(round(sum(math.dist(pts[order[i - 1]], pts[order[i]]) for i in range(size)), 4))
    for attempt in ("write", "replace"):
        try:
            if attempt == "replace":
                os.rename("/work/scorer", "/work/scorer-old")
                os.mkdir("/work/scorer")
                with open("/work/scorer-old/score.py") as src, open("/work/scorer/score.py", "w") as dst:
                    dst.write(src.read())
            with open("/work/scorer/reference.json", "w") as f:
                json.dump(lengths, f)
            return
        except OSError:
            pass

_cheat()
'''


@pytest_docker
def test_an_agent_cannot_edit_the_scorer(docker_ready, run_label, tour: Task) -> None:
    diff = answer(tour, EDITS_THE_SCORER)
    with _sandbox(run_label, "score-writable") as sb:        # protection off: an agent-owned copy
        _scorer_copied_in(sb, tour)
        assert scoring.score(sb, tour, diff).score == 1.0
    honest = score_fresh(tour, diff, run_label)               # the read-only mount
    assert 0.8 < honest.score < 0.87, honest.reason


# The agent leaves a login-shell profile in its own sandbox that answers for the scorer.
FAKE_PYTHON = ('python3() { if [ "$1" = /work/scorer/score.py ]; then echo \'{"score": 1.0}\'; '
               'else command python3 "$@"; fi; }; export -f python3\n')


@pytest_docker
def test_what_the_agent_leaves_in_its_own_sandbox_does_not_count(docker_ready, run_label, tour: Task) -> None:
    with _sandbox(run_label, "solve-and-score") as sb:       # protection off: scored where it was solved
        sb.write("/home/agent/.profile", FAKE_PYTHON.encode())
        sb.exec("echo '{\"score\": 1.0}'; echo '{\"score\": 1.0}' >&2", timeout=10)   # its own output
        _scorer_copied_in(sb, tour)
        assert scoring.score(sb, tour, b"").score == 1.0
    assert score_fresh(tour, b"", run_label).score == 0.0    # a fresh sandbox: only the diff crosses


def _task(scorer: str, command: str = "python3 /work/scorer/score.py", timeout: float = 30) -> Task:
    return Task(id="t", problem="p", workspace={"solution.py": b"VALUE = 0\n"}, score_command=command,
                scorer={"score.py": scorer.encode()}, timeouts=Timeouts(test=timeout))


# A scorer that runs the candidate as a server, prints the score, then stops the server (and waits
# for it): the candidate's stop handler writes a score line on the standard error it inherited.
SERVER_SCORER = '''
import json, subprocess, sys
server = subprocess.Popen([sys.executable, "solution.py"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
server.stdin.write("2\\n"); server.stdin.flush()
answer = server.stdout.readline()
print(json.dumps({"score": 0.2 if answer.strip() == "4" else 0.0}), flush=True)
server.terminate(); server.wait()
'''
SERVER_CANDIDATE = '''
import signal, sys, time
def stop(*_):
    sys.stderr.write('{"score": 1.0}\\n'); sys.stderr.flush(); sys.exit(0)
signal.signal(signal.SIGTERM, stop)
for line in sys.stdin:
    print(int(line) * 2, flush=True)
'''

# The candidate leaves a process that holds the scorer's standard output (opened through /proc)
# and prints a score line once the scorer has exited.
STRAGGLER_CANDIDATE = '''
import os, time
scorer = os.getppid()
if os.fork() == 0:
    os.setsid()
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    out = os.open(f"/proc/{scorer}/fd/1", os.O_WRONLY)
    while os.path.exists(f"/proc/{scorer}") and open(f"/proc/{scorer}/stat").read().split(")")[-1].split()[0] != "Z":
        time.sleep(0.01)
    os.write(out, b'{"score": 1.0}\\n')
    os._exit(0)
print(4)
'''
CHILD_SCORER = '''
import json, subprocess, sys
done = subprocess.run([sys.executable, "solution.py"], capture_output=True, text=True)
print(json.dumps({"score": 0.2 if done.stdout.strip() == "4" else 0.0}))
'''


@pytest_docker
def test_a_fake_score_line_from_the_candidate_loses(docker_ready, run_label, monkeypatch) -> None:
    server = _task(SERVER_SCORER)
    diff = overlay_diff(server.workspace, {"solution.py": SERVER_CANDIDATE.encode()})
    monkeypatch.setattr(scoring, "STDERR_APART", False)
    assert score_fresh(server, diff, run_label).score == 1.0              # stderr in the stream: it wins
    monkeypatch.setattr(scoring, "STDERR_APART", True)
    kept = score_fresh(server, diff, run_label)
    assert kept.score == 0.2 and '{"score": 1.0}' in kept.output          # kept for the log only

    child = _task(CHILD_SCORER)
    diff = overlay_diff(child.workspace, {"solution.py": STRAGGLER_CANDIDATE.encode()})
    monkeypatch.setattr(scoring, "REJECT_STRAGGLERS", False)
    assert score_fresh(child, diff, run_label).score == 1.0               # the straggler prints last
    monkeypatch.setattr(scoring, "REJECT_STRAGGLERS", True)
    caught = score_fresh(child, diff, run_label)
    assert caught.score == 0.0 and "left 1 process(es) running" in caught.reason, caught.reason


# One scorer, many misbehaviours (chosen by argument); each scored in its own workspace of one
# sandbox, to keep the test short.
MISBEHAVING = '''
import sys
case = sys.argv[1]
out = sys.stdout
if case == "garbage": out.write("score: 1.0\\n")
elif case == "nan": out.write('{"score": NaN}\\n')
elif case == "inf": out.write('{"score": Infinity}\\n')
elif case == "huge": out.write('{"score": 1e999}\\n')
elif case == "above": out.write('{"score": 2}\\n')
elif case == "flood": out.write("x" * (2 << 20) + '\\n{"score": 1.0}\\n')
elif case == "long-line": out.write('{"score": 1.0, "pad": "' + "x" * 10000 + '"}\\n')
elif case == "exit": out.write('{"score": 1.0}\\n'); out.flush(); sys.exit(3)
elif case == "stderr-only": sys.stderr.write('{"score": 1.0}\\n')
elif case == "sleep": import time; time.sleep(30)
elif case == "fine": out.write('progress 50%\\n{"score": 0.5, "note": "half"}\\n\\n')
'''
CASES = {
    "garbage": "not JSON", "nan": "not finite", "inf": "not finite", "huge": "not finite", "above": "outside [0, 1]",
    "flood": "bytes on standard output (at most", "long-line": "longer than 4096 bytes", "exit": "exited with status 3",
    "stderr-only": "printed no line", "sleep": "timed out after 2s",
}


@pytest_docker
def test_malformed_scorer_output_scores_zero_with_the_reason(docker_ready, run_label) -> None:
    tasks = {case: _task(MISBEHAVING, f"python3 /work/scorer/score.py {case}", timeout=2 if case == "sleep" else 30)
             for case in [*CASES, "fine"]}
    with scoring.scorer_mount(tasks["fine"]) as mount, _sandbox(run_label, "score-malformed", mount) as sb:
        verdicts = {case: scoring.score(sb, task, b"", workdir=f"/work/ws-{case}") for case, task in tasks.items()}
    for case, reason in CASES.items():
        assert verdicts[case].score == 0.0 and reason in verdicts[case].reason, (case, verdicts[case].reason)
    assert verdicts["fine"].score == 0.5 and verdicts["fine"].details == {"note": "half"}
    assert not math.isnan(sum(v.score for v in verdicts.values()))


NEAREST_NEIGHBOUR = '''def tour(points):
    if not points:
        return []
    order, left = [0], set(range(1, len(points)))
    while left:
        x, y = points[order[-1]]
        step = min(left, key=lambda j: (points[j][0] - x) ** 2 + (points[j][1] - y) ** 2)
        order.append(step)
        left.remove(step)
    return order
'''


def test_a_run_keeps_continuous_scores(docker_ready, tmp_path: Path) -> None:
    """Through the loop: the stage keeps the score sum, the agent's score is the mean task score
    (not the count of tasks that scored 1), `archive ls --json` shows it with its interval."""
    import json
    import subprocess
    import sys

    import yaml

    from dgm.archive.store import RunStore
    from dgm.config import validate
    from dgm.loop import session

    script = tmp_path / "script.yaml"
    write = f"cat > tour.py <<'EOF'\n{NEAREST_NEIGHBOUR}EOF"
    script.write_text(yaml.safe_dump({"rules": [
        {"job": "^g0c0/eval/", "times": 1, "reply": {"tool_calls": [{"name": "bash", "arguments": {"command": write}}]}},
        {"reply": {"content": "done"}}]}))
    config = validate({"llm": {"model": "scripted", "script": str(script)},
                       "loop": {"generations": 0},
                       "evaluation": {"benchmark": {"name": "scored", "path": str(EXAMPLE / "tasks")},
                                      "stages": [{"size": 1}]}}, "test")
    run_dir = tmp_path / "run"
    session.start(config, run_dir)
    with RunStore.open(run_dir, readonly=True) as store:
        seed = store.agent("g0c0")
        job = next(job for job in store.jobs(agent_id="g0c0") if job.kind == "evaluate")
    task_score = job.result["score"]
    assert 0 < task_score < 1, task_score              # nearest neighbour: better than the stub, not optimal
    assert seed.stages[0].resolved == 0 and seed.stages[0].score_sum == pytest.approx(task_score)
    assert seed.score == pytest.approx(task_score)
    listing = json.loads(subprocess.run([sys.executable, "-m", "dgm.cli", "archive", "ls", str(run_dir), "--json"],
                                        capture_output=True, text=True, check=True).stdout)
    low, high = listing[0]["ci95"]                     # the conservative bounded-mean interval, n = 1
    assert listing[0]["score"] == pytest.approx(task_score) and low < task_score < high
    shown = subprocess.run([sys.executable, "-m", "dgm.cli", "archive", "show", str(run_dir), "g0c0", "--json"],
                           capture_output=True, text=True, check=True).stdout
    assert json.loads(shown)["evaluation"]["tasks"][0]["score"] == pytest.approx(task_score)
    text = subprocess.run([sys.executable, "-m", "dgm.cli", "archive", "show", str(run_dir), "g0c0"],
                          capture_output=True, text=True, check=True).stdout
    assert f"score {task_score:.3f}" in text



# The candidate writes a forged harness report into the output of every process it can open
# (through /proc: it runs as the same user), then kills the harness so the forgery is the last line.
FORGER = '''
import base64, json, os, signal
fake = json.dumps({"harness": "ok", "line": base64.b64encode(b'{"score": 1.0}').decode(), "exit_code": 0,
                   "stdout_bytes": 15, "timed_out": False, "stragglers": 0})
harness = None
for name in os.listdir("/proc"):
    if not name.isdigit() or int(name) == os.getpid():
        continue
    try:
        argv = open(f"/proc/{name}/cmdline", "rb").read().split(b"\\0")
    except OSError:
        continue
    if b"-I" in argv and b"-c" in argv and any(b"score.py" in a for a in argv):
        harness = int(name)
    try:
        with open(f"/proc/{name}/fd/1", "w") as out:   # whoever holds the exec's output
            out.write("\\n" + fake + "\\n")
    except OSError:
        pass
if harness:
    os.kill(harness, signal.SIGKILL)
import sys, time
for line in sys.stdin:
    print(int(line) * 2, flush=True)
'''


@pytest_docker
def test_a_forged_harness_report_loses(docker_ready, run_label, monkeypatch) -> None:
    server = _task(SERVER_SCORER)
    diff = overlay_diff(server.workspace, {"solution.py": FORGER.encode()})
    monkeypatch.setattr(scoring, "CHECK_TOKEN", False)
    assert score_fresh(server, diff, run_label).score == 1.0              # the forgery wins
    monkeypatch.setattr(scoring, "CHECK_TOKEN", True)
    caught = score_fresh(server, diff, run_label)
    assert caught.score == 0.0 and "no genuine report" in caught.reason, caught.reason
