"""The Docker sandbox against the live daemon: conformance checks plus API details."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from dgm.config import SandboxConfig
from dgm.sandbox import Sandbox, SandboxUnavailable, conformance
from dgm.sandbox.docker_backend import DockerSandbox, SandboxIOError
from dgm.sandbox.prune import leftovers, prune

pytestmark = [pytest.mark.docker, pytest.mark.timeout(120)]

SMALL = SandboxConfig(memory_mb=256, pids_limit=64, tmpfs_mb=64, output_limit_bytes=4096)


@pytest.fixture(scope="module")
def subject(docker_ready):
    subject = conformance.Subject(run=f"test-{uuid.uuid4().hex[:10]}")
    yield subject
    subject.close()
    prune(subject.run)


@pytest.fixture
def box(docker_ready, run_label):
    with DockerSandbox(SMALL, run=run_label, job="j1", role="solve", env={"DGM_PROBE": "from-constructor"}) as sandbox:
        yield sandbox
    assert leftovers(run_label) == []


@pytest.mark.parametrize("title", list(conformance.CHECKS))
def test_conformance(subject, title):
    outcome = conformance.CHECKS[title](subject)
    assert outcome.ok, f"{title}: {outcome.detail}"


def test_satisfies_the_protocol(box):
    assert isinstance(box, Sandbox)


def test_exec_argv_cwd_and_env(box):
    argv = box.exec(["python3", "-c", "import sys; print(sys.argv[1:])", "a b", "$HOME", "'"], timeout=10)
    assert argv.output == "['a b', '$HOME', \"'\"]\n" and argv.ok
    r = box.exec("pwd; echo $DGM_PROBE $EXTRA", timeout=10, cwd="/tmp", env={"EXTRA": "per-call"})
    assert r.output == "/tmp\nfrom-constructor per-call\n"
    assert box.exec("exit 3", timeout=10).exit_code == 3
    assert not box.exec("true", timeout=10).truncated


@pytest.mark.parametrize("start", ["setsid sleep 300 & sleep 0.3;", "sleep 300 &"])
def test_background_process_on_the_output_pipe_does_not_hold_exec(box, start):
    r = box.exec(f"{start} echo started", timeout=20)
    assert r.output == "started\n" and r.exit_code == 0 and not r.timed_out
    assert conformance.pids_running(box, "sleep 300") == []


def test_daemon_with_redirected_output_survives_its_exec(box):
    box.exec("sleep 302 >/dev/null 2>&1 &", timeout=10)
    assert len(conformance.pids_running(box, "sleep 302")) == 1
    assert conformance.pids_running(box, "sleep 303") == []


def test_host_backstop_when_the_exec_outlives_its_timeout(box, monkeypatch):
    from dgm.sandbox import docker_backend

    monkeypatch.setattr(docker_backend, "BACKSTOP_SLACK_SECONDS", 0)
    # fd 3 keeps the output pipe open past the in-container sweep, which only looks at fds 1 and 2
    r = box.exec("setsid sleep 306 3>&1 >/dev/null 2>&1 & echo started", timeout=1)
    assert r.timed_out and r.exit_code == 124
    assert conformance.pids_running(box, "sleep 306") == []
    assert box.exec("echo still usable", timeout=10).output == "still usable\n"


def test_kill_during_exec_raises_unavailable(box):
    import threading

    from dgm.sandbox.docker_backend import api

    killer = threading.Timer(0.5, api().kill, args=(box.id,))
    killer.start()
    try:
        with pytest.raises(SandboxUnavailable):
            box.exec("sleep 30", timeout=60)
    finally:
        killer.join()


def test_write_file_read_back_and_errors(box):
    box.write("/work/ws/nested/data.bin", b"\x00\xff" * 1000)
    assert box.read("/work/ws/nested/data.bin") == b"\x00\xff" * 1000
    assert box.exec("stat -c %U /work/ws/nested/data.bin", timeout=10).output == "agent\n"
    with pytest.raises(FileNotFoundError):
        box.read("/work/missing")
    with pytest.raises(SandboxIOError):
        box.write("/etc/evil", b"x")
    with pytest.raises(SandboxIOError):
        box.write("relative/path", b"x")


def test_host_directory_mount(box, run_label, tmp_path):
    tmp_path.chmod(0o755)  # the sandbox user (uid 1000) must be able to enter the mounted dir
    (tmp_path / "hello.txt").write_text("from the host")
    with DockerSandbox(SMALL, run=run_label, job="j2", role="solve", mount=(tmp_path, "/run/dgm-llm")) as sandbox:
        assert sandbox.read("/run/dgm-llm/hello.txt") == b"from the host"


def test_eight_sandboxes_at_once(docker_ready, run_label):
    def one(i: int) -> tuple[str, bytes]:
        with DockerSandbox(SMALL, run=run_label, job=f"par{i}", role="solve") as sandbox:
            sandbox.write("/work/n.txt", str(i).encode())
            r = sandbox.exec("cat /work/n.txt; echo; hostname", timeout=30)
            return r.output.split()[0], sandbox.read("/work/n.txt")

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one, range(8)))
    assert results == [(str(i), str(i).encode()) for i in range(8)]
    assert leftovers(run_label) == []


def test_prune_removes_only_the_runs_leftovers(docker_ready, run_label):
    other = f"{run_label}-other"
    leaked = [DockerSandbox(SMALL, run=run_label, job=f"leak{i}", role="solve") for i in range(2)]
    survivor = DockerSandbox(SMALL, run=other, job="keep", role="solve")
    try:
        assert sorted(leftovers(run_label)) == sorted(box.id for box in leaked)
        assert prune(run_label) == 2
        assert leftovers(run_label) == []
        assert leftovers(other) == [survivor.id]
        with pytest.raises(SandboxUnavailable):
            leaked[0].exec("true", timeout=10)
    finally:
        for box in [*leaked, survivor]:
            box.close()
    assert leftovers(other) == []


def test_cli_prune(docker_ready, run_label):
    DockerSandbox(SMALL, run=run_label, job="leak", role="solve")
    done = subprocess.run([sys.executable, "-m", "dgm.cli", "sandbox", "prune", "--run", run_label],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "removed 1 sandbox container" in done.stdout
    assert leftovers(run_label) == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_tears_down_live_sandboxes(docker_ready, run_label, signum):
    script = textwrap.dedent(f"""
        import sys, time
        from dgm import log
        from dgm.config import SandboxConfig
        from dgm.sandbox.docker_backend import DockerSandbox
        log.configure(level="warning")
        box = DockerSandbox(SandboxConfig(), run={run_label!r}, job="sig", role="solve")
        print(box.id, flush=True)
        time.sleep(60)
    """)
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        container_id = proc.stdout.readline().strip()
        assert leftovers(run_label) == [container_id]
        proc.send_signal(signum)
        proc.wait(timeout=30)
    finally:
        proc.kill()
        proc.wait()
        remaining = leftovers(run_label)
        prune(run_label)
    assert remaining == []
    # the previous behaviour still happens after teardown: death by the signal, or KeyboardInterrupt
    if signum == signal.SIGTERM:
        assert proc.returncode == -signal.SIGTERM
    else:
        assert "KeyboardInterrupt" in proc.stderr.read()


def test_missing_image_names_the_fix(docker_ready, run_label):
    from dgm.sandbox.image import ImageMissing

    with pytest.raises(ImageMissing, match="dgm sandbox build"):
        DockerSandbox(SMALL, run=run_label, job="j", role="solve", image="dgm-sandbox:does-not-exist")
    assert leftovers(run_label) == []


def test_sandbox_check_cli_reports_failures(docker_ready, monkeypatch, capsys):
    from dgm.cli import main

    checks = {"passes": conformance.CHECKS["no network interface but lo"],
              "fails": lambda subject: conformance.Outcome(False, "made to fail"),
              "raises": lambda subject: 1 / 0}
    monkeypatch.setattr(conformance, "CHECKS", checks)
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["sandbox", "check"]) == 1
    out = capsys.readouterr().out
    assert "interfaces: lo" in out and "made to fail" in out and "ZeroDivisionError" in out
    assert "2 of 3 checks failed" in out

