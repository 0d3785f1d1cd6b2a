"""The gateway from inside a real hardened sandbox: the seed agent's client reaches the model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest
from llm_stub import StubServer, llm_stub, stub_config  # noqa: F401  (llm_stub is a fixture)

from dgm.config import SandboxConfig
from dgm.llm import Gateway, JobGrant, LLMService

pytestmark = [pytest.mark.docker, pytest.mark.timeout(120)]

REPO = Path(__file__).resolve().parents[1]
SMALL = SandboxConfig(memory_mb=256, pids_limit=64, tmpfs_mb=64)
CHAT = """
import json, sys
sys.path.insert(0, "/opt/dgm/agent")
import llm
try:
    answer = llm.chat([{"role": "user", "content": "hello from the sandbox"}], max_tokens=32)
    print(json.dumps({"ok": answer["choices"][0]["message"]["content"], "usage": answer["usage"]}))
except llm.LLMError as exc:
    print(json.dumps({"status": exc.status, "kind": exc.kind}))
"""


@pytest.fixture
def gateway(llm_stub: StubServer, tmp_path: Path) -> Iterator[Gateway]:
    with LLMService(stub_config(llm_stub), tmp_path / "run.db") as service, Gateway(service) as gw:
        yield gw


def test_sandboxed_agent_reaches_the_model_only_through_its_token(docker_ready: None, run_label: str,
                                                                  gateway: Gateway, llm_stub: StubServer) -> None:
    from dgm.sandbox.docker_backend import DockerSandbox

    token = gateway.register(JobGrant(job_key="solve/in-box", role="solve", run=run_label))
    with DockerSandbox(SMALL, run=run_label, job="solve/in-box", role="solve", mount=gateway.sandbox_mount(),
                       env=gateway.sandbox_env(token)) as box:
        box.write("/opt/dgm/agent", REPO / "agents" / "seed_agent", readonly=True)
        box.write("/work/chat.py", CHAT.encode())
        good = box.exec("python3 /work/chat.py", timeout=60)
        wrong = box.exec("python3 /work/chat.py", timeout=60, env={"DGM_LLM_TOKEN": "guessed"})
        env = box.exec("env", timeout=10)
        tamper = box.exec("rm -f /run/dgm-llm/gateway.sock; touch /run/dgm-llm/x", timeout=10)
        after = box.exec("python3 /work/chat.py", timeout=60)
    assert good.ok, good.output
    assert json.loads(good.output) == {"ok": "ok", "usage": {"prompt_tokens": 100, "completion_tokens": 20,
                                                             "total_tokens": 120,
                                                             "prompt_tokens_details": {"cached_tokens": 0}}}
    assert json.loads(wrong.output) == {"status": 401, "kind": "invalid_token"}
    variables = dict(line.split("=", 1) for line in env.output.splitlines() if "=" in line)
    assert not [name for name in variables if name.endswith("_API_KEY")]
    assert variables["DGM_LLM_SOCKET"] == "/run/dgm-llm/gateway.sock"
    assert tamper.exit_code != 0                       # the socket directory is not the agent's to change
    assert json.loads(after.output)["ok"] == "ok"
    # The provider saw the host's key and the run's model; the agent never had either.
    assert [r["_authorization"] for r in llm_stub.requests] == ["Bearer sk-stub-host-only"] * 2
    assert gateway.service.budget.spent.calls == 2
