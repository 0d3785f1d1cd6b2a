"""Pre-flight checks: a broken set-up is refused in one line before anything is spent or written."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from llm_stub import Failure, StubServer, llm_stub, stub_config  # noqa: F401

from conftest import REPO
from dgm import preflight
from dgm.preflight import PreflightError

SEED = REPO / "agents" / "seed_agent"


def _agent(tmp_path: Path, main: str | None, **files: str) -> Path:
    agent = tmp_path / "agent"
    agent.mkdir()
    if main is not None:
        (agent / "main.py").write_text(main)
    for name, text in files.items():
        (agent / name).write_text(text)
    return agent


def test_the_seed_agent_obeys_the_contract() -> None:
    preflight.check_agent_dir(SEED)


@pytest.mark.parametrize("main, files, expected", [
    (None, {}, "has no main.py"),
    ("import argparse  # --problem --workspace --out\n", {"tools.py": "def f(:\n"}, "do not compile (tools.py:1"),
    ("print('no flags')\n", {}, "does not mention --problem, --workspace, --out"),
])
def test_an_agent_dir_that_breaks_the_contract_is_refused(tmp_path: Path, main, files, expected) -> None:
    with pytest.raises(PreflightError, match=expected.replace("(", r"\(")):
        preflight.check_agent_dir(_agent(tmp_path, main, **files))


def test_a_missing_path_or_a_symlinked_main_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PreflightError, match="is not a directory"):
        preflight.check_agent_dir(tmp_path / "nowhere")
    agent = _agent(tmp_path, None)
    (agent / "main.py").symlink_to(SEED / "main.py")
    with pytest.raises(PreflightError, match="has no main.py"):
        preflight.check_agent_dir(agent)


def test_a_missing_script_is_refused(tmp_path: Path) -> None:
    from dgm.config import Config

    config = Config.model_validate({"llm": {"model": "scripted", "script": str(tmp_path / "gone.yaml")}})
    with pytest.raises(PreflightError, match="file not found"):
        preflight.check_setup(config)
    (tmp_path / "bad.yaml").write_text("rules: [{role: nobody}]\n")
    config = Config.model_validate({"llm": {"model": "scripted", "script": str(tmp_path / "bad.yaml")}})
    with pytest.raises(PreflightError):
        preflight.check_setup(config)


def test_a_model_that_answers_passes_with_one_unrecorded_call(llm_stub: StubServer) -> None:
    preflight.check_setup(stub_config(llm_stub), agent_dir=SEED)
    assert len(llm_stub.requests) == 1 and llm_stub.requests[0]["max_tokens"] == 1


def test_a_rejected_key_is_refused_at_once_without_retries(llm_stub: StubServer) -> None:
    llm_stub.queue(Failure(401, "invalid api key"), Failure(401), Failure(401))
    with pytest.raises(PreflightError, match="does not answer a one-token test call.*AuthenticationError"):
        preflight.check_setup(stub_config(llm_stub))
    assert len(llm_stub.requests) == 1


def test_a_server_that_is_not_listening_is_refused(llm_stub: StubServer) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = stub_config(llm_stub, llm={"api_base": f"http://127.0.0.1:{port}/v1", "timeout_seconds": 3})
    with pytest.raises(PreflightError, match="127.0.0.1:%d" % port):
        preflight.check_setup(config)


def test_no_preflight_call_when_asked_or_when_no_model_is_configured(llm_stub: StubServer) -> None:
    from dgm.config import Config

    preflight.check_setup(stub_config(llm_stub), call_models=False)
    preflight.check_setup(Config(), agent_dir=SEED)
    assert llm_stub.requests == []


def test_an_unpriced_model_is_refused(llm_stub: StubServer) -> None:
    config = stub_config(llm_stub, llm={"prices": {}, "model": "openai/no-such-model-xyz"})
    with pytest.raises(PreflightError, match="no price for model"):
        preflight.check_setup(config)
    assert llm_stub.requests == []
