"""The whole seed agent in a real sandbox, talking to the scripted model through the real gateway.

One gateway and one script serve the module; each test is a separate job whose rules are keyed
by its job key, so the tests cannot answer each other's calls.
"""

from __future__ import annotations

import json
import time
import textwrap
from pathlib import Path

import pytest

from dgm.agent_runner import AgentLimits, AgentRun, run_agent
from dgm.config import JobBudget, SandboxConfig, validate

pytestmark = pytest.mark.docker

SEED_AGENT = Path(__file__).resolve().parents[1] / "agents" / "seed_agent"

SCRIPT = """
rules:
  # --- job fix: view, then two tool calls in one turn, then report ----------------------------
  - {job: '^fix$', match: 'Make add', times: 1,
     reply: {tool_calls: [{name: editor, arguments: {command: view, path: calc.py}}]}}
  - job: '^fix$'
    match: 'return a - b'
    times: 1
    reply:
      content: I see the bug.
      tool_calls:
        - {name: editor, arguments: {command: str_replace, path: calc.py, old_str: 'a - b', new_str: 'a + b'}}
        - name: bash
          arguments: {command: "python3 -c 'import calc; print(calc.add(2, 3))' && rm notes.txt && printf 'a\\\\000b' > data.bin && printf 'caf\\\\351\\\\n' > latin1.txt && mkdir -p sub && cd sub"}
  - {job: '^fix$', match: '^5\\s*$', times: 1, reply: {tool_calls: [{name: bash, arguments: {command: pwd}}]}}
  - {job: '^fix$', match: '/work/workspace/sub', times: 1, reply: {content: 'Fixed add; it prints 5.'}}
  # --- job malformed: an unknown tool, then bad editor arguments, then report -----------------
  - {job: '^malformed$', match: 'Make add', times: 1,
     reply: {tool_calls: [{name: python, arguments: {code: '1'}}]}}
  - {job: '^malformed$', match: 'unknown tool', times: 1,
     reply: {tool_calls: [{name: editor, arguments: {command: view, path: calc.py, line: 3}}]}}
  - {job: '^malformed$', match: "unexpected keyword argument 'line'", times: 1,
     reply: {tool_calls: [{name: bash, arguments: '{"command": "ls'}]}}
  - {job: '^malformed$', match: 'JSON', times: 1, reply: {content: 'gave up'}}
  # --- job env: the task's environment reaches the agent's commands -----------------------------
  - {job: '^env$', match: 'Make add', times: 1,
     reply: {tool_calls: [{name: bash, arguments: {command: 'echo "probe=$DGM_PROBE token=$DGM_LLM_TOKEN"'}}]}}
  - {job: '^env$', reply: {content: 'seen'}}
  # --- jobs steps and budget: a model that never stops ----------------------------------------
  - {job: '^(steps|budget)$', reply: {tool_calls: [{name: bash, arguments: {command: 'echo again'}}]}}
"""


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, docker_ready):
    from dgm.llm import Gateway, LLMService

    root = tmp_path_factory.mktemp("agent-sandbox")
    (root / "script.yaml").write_text(SCRIPT)
    config = validate({"llm": {"model": "scripted", "script": str(root / "script.yaml")}}, "test")
    with LLMService(config, root / "run.db") as service, Gateway(service) as gw:
        yield gw


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (ws / "notes.txt").write_text("scratch\n")
    return ws


def run(gateway, workspace: Path, tmp_path: Path, run_label: str, job: str,
        limits: AgentLimits = AgentLimits(max_steps=10, max_seconds=60), budget: JobBudget | None = None,
        env: dict[str, str] | None = None) -> AgentRun:
    from dgm.llm import JobGrant

    grant = JobGrant(job_key=job, role="solve", run=run_label, agent="seed", limits=budget)
    return run_agent(SEED_AGENT, "Make add(a, b) return the sum.", workspace, tmp_path / "out", gateway=gateway,
                     grant=grant, sandbox_config=SandboxConfig(), limits=limits, env=env)


def records(result: AgentRun) -> list[dict]:
    assert result.trajectory is not None
    return [json.loads(line) for line in result.trajectory.read_text().splitlines()]


def no_containers_left(run_label: str) -> bool:
    import docker

    return docker.from_env().containers.list(all=True, filters={"label": f"dgm.run={run_label}"}) == []


def test_agent_views_edits_runs_and_stops(gateway, workspace, tmp_path, run_label):
    result = run(gateway, workspace, tmp_path, run_label, "fix")

    assert (result.exit_code, result.exit_reason, result.steps) == (0, "finished", 4), result.output
    assert result.diff_error is None
    diff = result.diff_text
    assert "-    return a - b\n+    return a + b\n" in diff
    assert "deleted file mode" in diff and "-scratch" in diff          # rm notes.txt
    assert "new file mode" in diff and "GIT binary patch" in diff       # data.bin has a NUL byte
    assert "__pycache__" not in diff
    assert b"+caf\xe9\n" in result.diff                                  # a Latin-1 file keeps its exact bytes
    assert (workspace / "calc.py").read_text().endswith("a - b\n"), "the host workspace must stay untouched"

    recs = records(result)
    assert [r["type"] for r in recs] == ["start", "step", "step", "step", "step", "final"]
    view, both, pwd, report = recs[1:5]
    assert "     2\t    return a - b" in view["tool_results"][0]["output"]
    assert [r["name"] for r in both["tool_results"]] == ["editor", "bash"]      # both calls of one turn ran
    assert not any(r["error"] for r in both["tool_results"])
    assert both["tool_results"][1]["output"].strip() == "5"
    assert pwd["tool_results"][0]["output"].strip() == "/work/workspace/sub"   # cwd carried between calls
    assert report["response"]["content"] == "Fixed add; it prints 5." and report["tool_calls"] == []
    final = recs[-1]
    assert final["exit_reason"] == "finished" and final["tokens"] == result.tokens and result.tokens["total"] > 0
    assert no_containers_left(run_label)


def test_malformed_tool_calls_become_error_results(gateway, workspace, tmp_path, run_label):
    result = run(gateway, workspace, tmp_path, run_label, "malformed")

    assert (result.exit_code, result.exit_reason, result.steps) == (0, "finished", 4), result.output
    first, second, third = records(result)[1:4]
    assert first["tool_results"][0]["error"] and "unknown tool 'python'" in first["tool_results"][0]["output"]
    assert second["tool_results"][0]["error"]
    assert third["tool_results"][0]["error"] and "JSON" in third["tool_results"][0]["output"]
    assert result.diff == b""


def test_step_limit_ends_the_run(gateway, workspace, tmp_path, run_label):
    result = run(gateway, workspace, tmp_path, run_label, "steps", limits=AgentLimits(max_steps=2, max_seconds=60))

    assert (result.exit_code, result.exit_reason, result.steps) == (0, "step_limit", 2), result.output
    assert [r["type"] for r in records(result)] == ["start", "step", "step", "final"]


def test_budget_error_from_the_gateway_ends_the_run(gateway, workspace, tmp_path, run_label):
    result = run(gateway, workspace, tmp_path, run_label, "budget", budget=JobBudget(max_calls=2))

    assert (result.exit_code, result.exit_reason, result.steps) == (0, "budget", 2), result.output
    final = records(result)[-1]
    assert "budget_exceeded" in final["detail"] and "HTTP 402" in final["detail"]
    assert no_containers_left(run_label)


def test_a_crashing_agent_in_a_git_workspace(gateway, workspace, tmp_path, run_label):
    """No final record means `crashed`; the workspace's own .git is neither diffed nor disturbed."""
    import subprocess

    subprocess.run(["git", "init", "-q", str(workspace)], check=True)
    broken = tmp_path / "broken_agent"
    broken.mkdir()
    (broken / "main.py").write_text(textwrap.dedent("""
        import pathlib, sys
        ws = pathlib.Path(sys.argv[sys.argv.index("--workspace") + 1])
        (ws / "calc.py").write_text("def add(a, b):\\n    return a + b\\n")
        sys.exit("boom")
    """))
    from dgm.llm import JobGrant

    grant = JobGrant(job_key="broken", role="solve", run=run_label)
    result = run_agent(broken, "anything", workspace, tmp_path / "out", gateway=gateway, grant=grant,
                       sandbox_config=SandboxConfig(), limits=AgentLimits(max_steps=1, max_seconds=30))

    assert (result.exit_code, result.exit_reason, result.trajectory) == (1, "crashed", None)
    assert "boom" in result.output
    assert b"+    return a + b" in result.diff and b".git/" not in result.diff
    assert no_containers_left(run_label)


def test_an_agent_past_its_time_and_grace_is_killed(gateway, workspace, tmp_path, run_label):
    from dgm.llm import JobGrant

    stuck = tmp_path / "stuck_agent"
    stuck.mkdir()
    (stuck / "main.py").write_text("import time\ntime.sleep(120)\n")
    grant = JobGrant(job_key="stuck", role="solve", run=run_label)
    result = run_agent(stuck, "anything", workspace, tmp_path / "out", gateway=gateway, grant=grant,
                       sandbox_config=SandboxConfig(),
                       limits=AgentLimits(max_steps=1, max_seconds=1, grace_seconds=1))

    assert result.exit_reason == "killed" and not result.ran_to_an_end
    assert result.diff == b"" and result.diff_error is None   # the sandbox still answers after the kill


def test_the_task_environment_reaches_the_agent_but_not_over_the_gateway(gateway, workspace, tmp_path, run_label):
    result = run(gateway, workspace, tmp_path, run_label, "env",
                 env={"DGM_PROBE": "from-the-task", "DGM_LLM_TOKEN": "forged"})

    assert (result.exit_code, result.exit_reason) == (0, "finished"), result.output
    output = records(result)[1]["tool_results"][0]["output"]
    assert "probe=from-the-task" in output
    assert "token=forged" not in output and "token=" in output


GIT_TAMPER = """
import pathlib, subprocess, sys
ws = pathlib.Path(sys.argv[sys.argv.index("--workspace") + 1])
for key in ("diff.mnemonicPrefix",):
    subprocess.run(["git", "--git-dir", "/work/.dgm-baseline.git", "config", key, "true"], check=True)
(ws / "calc.py").write_text("def add(a, b):\\n    return a + b\\n")
print("done")
"""


@pytest.mark.parametrize("hardened", [False, True])
def test_git_config_the_agent_writes_does_not_shape_its_diff(gateway, workspace, tmp_path, run_label, monkeypatch,
                                                            hardened):
    """Finding 2: headers like `c/calc.py i/calc.py` would hide a protected path from the host's parser."""
    from dgm import agent_runner
    from dgm.evaluation.diffpaths import touched_paths
    from dgm.llm import JobGrant

    if not hardened:      # protection off: the old diff command reads the agent's config
        monkeypatch.setattr(agent_runner, "_DIFF_SCRIPT", f"set -e\ngit add -A\ngit diff --cached --binary HEAD > "
                                                          f"{agent_runner.DIFF_FILE}\n")
    tamper = tmp_path / "tamper_agent"
    tamper.mkdir()
    (tamper / "main.py").write_text(GIT_TAMPER)
    grant = JobGrant(job_key=f"tamper-{hardened}", role="solve", run=run_label)
    result = run_agent(tamper, "anything", workspace, tmp_path / "out", gateway=gateway, grant=grant,
                       sandbox_config=SandboxConfig(), limits=AgentLimits(max_steps=1, max_seconds=30))
    assert result.diff_error is None, result.output
    if hardened:
        assert b"diff --git a/calc.py b/calc.py" in result.diff
        assert touched_paths(result.diff) == {"calc.py"}
    else:
        assert b"a/calc.py" not in result.diff and "calc.py" not in touched_paths(result.diff)


FAKE_GIT = r'''
import os, pathlib, stat, sys
ws = pathlib.Path(sys.argv[sys.argv.index("--workspace") + 1])
home = pathlib.Path(os.path.expanduser("~"))
fake = pathlib.Path("/tmp/fakebin/git")
fake.parent.mkdir(parents=True, exist_ok=True)
# A "git" that hands over a diff whose headers read c/... i/...: git apply (-p1) still applies it.
fake.write_text("#!/bin/sh\ncase \"$*\" in *diff*) cat <<'X'\n"
                "diff --git c/calc.py i/calc.py\n--- c/calc.py\n+++ i/calc.py\n@@ -1,2 +1,2 @@\n"
                " def add(a, b):\n-    return a - b\n+    return a + b\nX\n;; esac\nexit 0\n")
fake.chmod(0o755)
for rc in (".bash_profile", ".bash_login", ".profile", ".bashrc"):
    try:
        (home / rc).write_text("export PATH=/tmp/fakebin:$PATH\n")
    except OSError:
        pass
(ws / "calc.py").write_text("def add(a, b):\n    return a + b\n")
print("planted", home)
'''


def test_a_git_the_agent_plants_for_the_login_shell_does_not_shape_the_diffs_paths(gateway, workspace, tmp_path,
                                                                                   run_label):
    """Finding 2, the class: whatever diff bytes come out of the sandbox, the paths the host checks
    are those the host's own git sees change when it applies them (GitStore.changed_paths)."""
    from dgm.archive.gitstore import GitStore
    from dgm.evaluation.diffpaths import touched_paths
    from dgm.llm import JobGrant

    agent = tmp_path / "fake_git_agent"
    agent.mkdir()
    (agent / "main.py").write_text(FAKE_GIT)
    grant = JobGrant(job_key="fake-git", role="solve", run=run_label)
    result = run_agent(agent, "anything", workspace, tmp_path / "out", gateway=gateway, grant=grant,
                       sandbox_config=SandboxConfig(), limits=AgentLimits(max_steps=1, max_seconds=30))
    store = GitStore.init(tmp_path / "agents.git")
    base = store.commit_tree(workspace, None, "parent")
    child = store.commit_diff(base, result.diff, "child")
    # The diff step runs in a plain (not login) shell, so the planted git is not even used: the
    # headers are genuine. Were they not (an earlier version ran the step through `bash -lc`,
    # where the plant shaped them to `c/calc.py i/calc.py`), header parsing could be fooled ...
    assert b"diff --git a/calc.py b/calc.py" in result.diff and touched_paths(result.diff) == {"calc.py"}
    # ... and the host's git, comparing the commits it made by applying the bytes, would not be.
    assert store.changed_paths(base, child) == ["calc.py"]


JAMMED_BASELINE = '''
import os
head = "/work/.dgm-baseline.git/HEAD"
os.remove(head)
os.mkfifo(head)              # git opens HEAD to diff: that open never returns
open("/work/workspace/calc.py", "w").write("def add(a, b):\\n    return a + b\\n")
'''


def test_an_agent_that_jams_the_diff_step_gets_no_diff_not_an_infra_error(gateway, workspace, tmp_path, run_label,
                                                                          monkeypatch):
    """The diff is taken in the same round trip as its read, under the step's own timeout: a
    jammed git ends as the agent's failure (no diff), never a hung or infrastructure-failed job."""
    from dgm.llm import JobGrant
    from dgm.sandbox import docker_backend

    monkeypatch.setattr(docker_backend, "STEP_SECONDS", 3.0)
    agent = tmp_path / "jamming_agent"
    agent.mkdir()
    (agent / "main.py").write_text(JAMMED_BASELINE)
    grant = JobGrant(job_key="jam-diff", role="solve", run=run_label)
    started = time.monotonic()
    result = run_agent(agent, "anything", workspace, tmp_path / "out", gateway=gateway, grant=grant,
                       sandbox_config=SandboxConfig(), limits=AgentLimits(max_steps=1, max_seconds=30))
    assert time.monotonic() - started < 30
    assert result.diff == b"" and result.diff_error is not None
    assert result.diff_error.startswith("git diff failed (exit 124)") or "exit 137" in result.diff_error


def test_without_the_step_timeout_the_jammed_diff_would_be_an_infra_error(gateway, workspace, tmp_path, run_label,
                                                                          monkeypatch):
    """The protection off: with no step timeout of its own, the jammed git holds the exec until
    the transfer deadline and the job fails as infrastructure (retried, never scored), the
    outcome a hostile agent wants instead of its own failure."""
    from dgm.llm import JobGrant
    from dgm.sandbox import SandboxUnavailable, docker_backend

    monkeypatch.setattr(docker_backend, "STEP_SECONDS", 100_000.0)
    monkeypatch.setattr(docker_backend, "TRANSFER_SECONDS", 6)
    agent = tmp_path / "jamming_agent"
    agent.mkdir()
    (agent / "main.py").write_text(JAMMED_BASELINE)
    grant = JobGrant(job_key="jam-diff-off", role="solve", run=run_label)
    with pytest.raises(SandboxUnavailable):
        run_agent(agent, "anything", workspace, tmp_path / "out", gateway=gateway, grant=grant,
                  sandbox_config=SandboxConfig(), limits=AgentLimits(max_steps=1, max_seconds=30))
