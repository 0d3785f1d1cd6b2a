"""Code that leaves its sandbox unable to answer is at fault, never the infrastructure.

An infrastructure error is retried and never scored, so a child that can turn its failures into
infrastructure errors raises its own score: it is scored only on the tasks it solves. The exploit
here fills the sandbox's process table with detached sleepers that also hold the exec's output
open; every later exec into that sandbox then fails. With the protection (the host removes a
sandbox that stops answering after a timed-out exec, and the evaluation counts the removal
against the code that ran) the task is an agent error, or unresolved when the tests did it.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest

from dgm.benchmarks.task import load_task_dir
from dgm.config import validate
from dgm.evaluation.pipeline import evaluate_task

from conftest import eval_grant

pytestmark = pytest.mark.docker

TASKS = Path(__file__).parent / "fixtures" / "tasks"

# Children in their own session (the wrapper's process-group kill misses them) fill pids_limit;
# `detach` also points their output elsewhere (the wrapper's kill of output holders misses them).
def jam(*, detach: bool, linger: bool, hog_mb: int = 0) -> str:
    return f"""
import os, time
for _ in range(100000):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        os.setsid()
        if {detach}:
            null = os.open("/dev/null", os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
        hog = bytearray({hog_mb} * 2 ** 20)
        while True:
            time.sleep(1000)
while {linger}:
    time.sleep(1000)
"""


JAMS = {
    "detached": jam(detach=True, linger=False),
    "memory-past-timeout": jam(detach=True, linger=True, hog_mb=8),
}
HOLD = jam(detach=True, linger=True)

SCRIPT = "rules:\n  - {reply: {content: nothing to do}}\n"


@pytest.fixture
def config(tmp_path: Path):
    script = tmp_path / "script.yaml"
    script.write_text(SCRIPT)
    return validate({"llm": {"model": "scripted", "script": str(script)},
                     "sandbox": {"pids_limit": 64},
                     "evaluation": {"infra_retries": 0, "solve": {"max_seconds": 2}}}, "test")


def _containers(run_label: str) -> list:
    import docker

    return docker.from_env().containers.list(all=True, filters={"label": f"dgm.run={run_label}"})


@pytest.mark.parametrize("name", sorted(JAMS))
def test_an_agent_that_jams_its_sandbox_is_an_agent_error(tmp_path, config, gateway, run_label, name):
    agent = tmp_path / "jamming_agent"
    agent.mkdir()
    (agent / "main.py").write_text(JAMS[name])
    started = time.monotonic()
    result = evaluate_task(agent, load_task_dir(TASKS / "greet"), tmp_path / "greet", gateway=gateway,
                           grant=eval_grant(run_label, "jam"), config=config)
    elapsed = time.monotonic() - started

    assert (result.status, result.scored) == ("agent_error", True), result.reason
    assert elapsed < 120, elapsed      # timeout + grace + the host's backstop and sweep, not the TTL
    assert _containers(run_label) == []


def test_tests_that_jam_the_grading_sandbox_are_unresolved(tmp_path, config, run_label, docker_ready):
    from dgm.evaluation.grader import grade
    from dgm.sandbox.docker_backend import DockerSandbox

    task = load_task_dir(TASKS / "calc")
    task = dataclasses.replace(task, timeouts=dataclasses.replace(task.timeouts, test=3))
    original = (TASKS / "calc" / "workspace" / "calc.py").read_text().splitlines()
    added = HOLD.strip("\n").splitlines()
    diff = (f"--- a/calc.py\n+++ b/calc.py\n@@ -1,{len(original)} +1,{len(added)} @@\n"
            + "".join(f"-{line}\n" for line in original) + "".join(f"+{line}\n" for line in added)).encode()
    started = time.monotonic()
    with DockerSandbox(config.sandbox, run=run_label, job="grade-jam", role="grade", image=task.image) as sb:
        verdict = grade(sb, task, diff)
    elapsed = time.monotonic() - started

    assert not verdict.resolved and "timed out" in verdict.reason, verdict.reason
    assert elapsed < 150, elapsed
    assert _containers(run_label) == []


def test_a_sandbox_that_cannot_be_swept_is_removed_and_counts_against_the_agent(tmp_path, config, gateway,
                                                                                 run_label, monkeypatch):
    """The jams above leave the sandbox slow but answering; when it answers no more (here the
    sweep after a timed-out exec is made to fail), the host removes it and the agent is at fault.
    Without that, the sweep's failure was an infrastructure error: retried, never scored."""
    from dgm.sandbox import hijack
    from dgm.sandbox.docker_backend import DockerSandbox

    real_stream = DockerSandbox._stream

    def stream(self, argv, **kwargs):
        if argv[3:4] == ["dgm-sweep"]:                  # the sandbox answers no more
            raise hijack.StreamTimeout(b"", b"")
        done = real_stream(self, argv, **kwargs)
        if any(part.endswith("/main.py") for part in argv):   # the agent's exec outlives the host's deadline
            raise hijack.StreamTimeout(done[1], b"")
        return done

    monkeypatch.setattr(DockerSandbox, "_stream", stream)
    agent = tmp_path / "stuck_agent"
    agent.mkdir()
    (agent / "main.py").write_text("print('done')\n")
    result = evaluate_task(agent, load_task_dir(TASKS / "greet"), tmp_path / "greet", gateway=gateway,
                           grant=eval_grant(run_label, "unswept"), config=config)

    assert (result.status, result.scored) == ("agent_error", True), result.reason
    assert "killed" in result.reason
    assert _containers(run_label) == []


def test_a_docker_call_that_hangs_is_cut_off_by_the_exec_backstop(run_label, docker_ready, monkeypatch):
    """Every exec arms a host timer past its deadline (and the sweep's) that removes the container;
    a Docker call that hangs (simulated: the stream never ends until the container is gone) then
    ends with SandboxDeadlineExceeded. With the timer's action switched off the call hangs on."""
    from dgm.config import SandboxConfig
    from dgm.sandbox import docker_backend, wrapper
    from dgm.sandbox.docker_backend import DockerSandbox, SandboxDeadlineExceeded

    hang_cap = 20.0

    class StillHung(Exception):
        pass

    def hung_stream(self, argv, **kwargs):
        until = time.monotonic() + hang_cap
        while time.monotonic() < until and not self._closed:
            time.sleep(0.05)
        if self._closed:
            raise self._dead("the container no longer exists")
        raise StillHung()

    def exec_hung(expire_works: bool) -> tuple[float, BaseException]:
        with DockerSandbox(SandboxConfig(), run=run_label, job="hung", role="solve") as sb:
            monkeypatch.setattr(wrapper, "KILL_AFTER_SECONDS", 1)
            monkeypatch.setattr(docker_backend, "BACKSTOP_SLACK_SECONDS", 1)
            monkeypatch.setattr(docker_backend, "SWEEP_SECONDS", 1)
            monkeypatch.setattr(DockerSandbox, "_stream", hung_stream)
            if not expire_works:
                monkeypatch.setattr(DockerSandbox, "_expire", lambda self, seconds: None)
            started = time.monotonic()
            with pytest.raises((StillHung, SandboxDeadlineExceeded)) as raised:
                sb.exec("true", timeout=1)
            elapsed = time.monotonic() - started
            monkeypatch.undo()
        return elapsed, raised.value

    elapsed, raised = exec_hung(expire_works=False)
    assert isinstance(raised, StillHung) and elapsed >= hang_cap   # protection off: hangs as long as Docker does
    elapsed, raised = exec_hung(expire_works=True)
    assert isinstance(raised, SandboxDeadlineExceeded) and elapsed < hang_cap / 2, elapsed
    assert _containers(run_label) == []
