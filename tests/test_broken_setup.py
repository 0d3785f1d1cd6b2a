"""A broken set-up fails fast: before anything is spent or written, or at the first call that
shows it, never by running to the end with worthless results and exit 0 (issue 14, hole 6).

The model server is the OpenAI-compatible stub (tests/llm_stub.py) on 127.0.0.1, reached through
litellm's real path; "unreachable" is a closed port on 127.0.0.1.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from llm_stub import (INPUT_PER_MTOK, OUTPUT_PER_MTOK, STUB_MODEL, Failure, Reply, StubServer, llm_stub,  # noqa: F401
                      stub_config)

from conftest import QUICKSTART, REPO
from dgm import cli
from dgm.archive.check import check_run
from dgm.archive.store import RunStore
from dgm.config import Config
from dgm.llm import errors
from dgm.llm.service import LLMService

HELLO = [{"role": "user", "content": "hello"}]
DIAGNOSIS = {"log_summarization": "s", "potential_improvements": "p", "improvement_proposal": "i",
             "implementation_suggestion": "i", "problem_description": "Improve the agent."}
SMALL = ["--set", "loop.generations=1", "--set", "loop.children_per_generation=1",
         "--set", "evaluation.stages=[{size: 1}]"]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stub_run_args(api_base: str) -> list[str]:
    return ["--model", STUB_MODEL, "--set", f"llm.api_base={api_base}",
            "--set", f"llm.prices.{STUB_MODEL}.input_per_mtok={INPUT_PER_MTOK}",
            "--set", f"llm.prices.{STUB_MODEL}.output_per_mtok={OUTPUT_PER_MTOK}",
            "--set", "llm.retry.base_delay=0.01", "--set", "llm.timeout_seconds=5", *SMALL]


def _containers(run_id: str) -> list:
    from dgm.sandbox.docker_backend import api

    return api().containers(all=True, filters={"label": f"dgm.run={run_id}"})


# -- classification: what every later call would repeat makes the model unavailable ----------------

def test_a_missing_api_key_is_a_missing_credential_never_retried(llm_stub: StubServer, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    with LLMService(stub_config(llm_stub), tmp_path / "run.db") as service:
        with pytest.raises(errors.MissingCredential, match="OPENAI_API_KEY"):
            service.complete("solve", HELLO, job="j")
        with pytest.raises(errors.ModelUnavailable, match="MissingCredential"):
            service.complete("solve", HELLO, job="j2")
    assert llm_stub.requests == []   # litellm refused before sending; nothing was retried


def test_a_rejected_key_makes_every_later_call_refused_without_trying(llm_stub: StubServer, tmp_path: Path) -> None:
    llm_stub.queue(Failure(401, "invalid api key"))
    with LLMService(stub_config(llm_stub), tmp_path / "run.db") as service:
        with pytest.raises(errors.AuthenticationFailed):
            service.complete("solve", HELLO, job="j")
        with pytest.raises(errors.ModelUnavailable, match="AuthenticationFailed"):
            service.complete("diagnose", HELLO, job="j2")
    assert len(llm_stub.requests) == 1


def test_a_closed_port_is_unreachable_after_the_retries(llm_stub: StubServer, tmp_path: Path) -> None:
    config = stub_config(llm_stub, llm={"api_base": f"http://127.0.0.1:{_closed_port()}/v1"})
    with LLMService(config, tmp_path / "run.db") as service:
        with pytest.raises(errors.ModelUnreachable, match="gave up after 3 attempts"):
            service.complete("solve", HELLO, job="j")
        assert service.unavailable is not None


def test_transient_failures_do_not_make_the_model_unavailable(llm_stub: StubServer, tmp_path: Path) -> None:
    llm_stub.queue(Failure(500), Failure(500), Failure(500), Reply(content="back"))
    with LLMService(stub_config(llm_stub), tmp_path / "run.db") as service:
        with pytest.raises(Exception, match="gave up after 3 attempts"):
            service.complete("solve", HELLO, job="j")
        assert service.unavailable is None
        assert service.complete("solve", HELLO, job="j2").text == "back"


def test_no_model_configured_refuses_the_first_call(tmp_path: Path) -> None:
    with LLMService(Config(), tmp_path / "run.db") as service:
        with pytest.raises(errors.ModelUnavailable, match="llm.model is not set"):
            service.complete("solve", HELLO, job="j")


# -- dgm run: the pre-flight refuses before the run directory exists -------------------------------

def test_run_with_a_wrong_api_base_is_refused_and_writes_nothing(llm_stub: StubServer, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = tmp_path / "refused"
    port = _closed_port()
    code = cli.main(["run", str(QUICKSTART), "--out", str(run_dir), *_stub_run_args(f"http://127.0.0.1:{port}/v1")])
    err = capsys.readouterr().err
    assert code == 2 and not run_dir.exists()
    assert len(err.strip().splitlines()) == 1
    assert f"127.0.0.1:{port}" in err and "ModelUnreachable" in err and "--no-preflight" in err


@pytest.mark.parametrize("case", ["missing key", "unknown price", "broken seed agent", "missing script"])
def test_run_refuses_other_broken_setups_with_one_line(llm_stub: StubServer, tmp_path: Path, case: str,
                                                       capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    args, expected = _stub_run_args(llm_stub.api_base), ""
    if case == "missing key":
        monkeypatch.delenv("OPENAI_API_KEY")
        expected = "MissingCredential"
    elif case == "unknown price":
        args = ["--model", "openai/no-such-model-xyz", "--set", f"llm.api_base={llm_stub.api_base}", *SMALL]
        expected = "no price for model"
    elif case == "broken seed agent":
        (tmp_path / "agent").mkdir()
        args += ["--seed-agent", str(tmp_path / "agent")]
        expected = "has no main.py"
    else:
        args = ["--model", "scripted", "--set", f"llm.script={tmp_path / 'gone.yaml'}", *SMALL]
        expected = "gone.yaml"
    run_dir = tmp_path / "refused"
    code = cli.main(["run", str(QUICKSTART), "--out", str(run_dir), *args])
    err = capsys.readouterr().err
    assert code == 2 and not run_dir.exists(), err
    assert len(err.strip().splitlines()) == 1 and expected in err
    assert llm_stub.requests == []


# -- during a run: the first call that shows the model is unusable stops it -----------------------

def test_no_preflight_skips_the_call_and_a_closed_port_stops_the_run(llm_stub: StubServer, tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str],
                                                                     docker_ready: None) -> None:
    run_dir = tmp_path / "unreachable"
    code = cli.main(["run", str(QUICKSTART), "--out", str(run_dir), "--no-preflight",
                     *_stub_run_args(f"http://127.0.0.1:{_closed_port()}/v1")])
    err = capsys.readouterr().err
    assert code == 2 and "the run stopped" in err and "ModelUnreachable" in err
    with RunStore.open(run_dir, readonly=True) as store:
        finished = store.events(kind="run_finished")[-1].payload
        assert finished["reason"] == "model_unavailable" and "ModelUnreachable" in finished["detail"]
        assert store.evaluations() == []                     # nothing worthless was scored
        assert store.agent("g0c0").status == "pending"
        assert [a.id for a in store.list_agents()] == ["g0c0"]
        assert [job.state for job in store.jobs() if job.kind == "evaluate"] == ["failed"]   # redone on resume
        run_id = store.run_id
    assert check_run(run_dir) == []
    assert _containers(run_id) == []


def test_a_401_mid_run_stops_it_and_a_resume_once_fixed_finishes_it(llm_stub: StubServer, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str],
                                                                   docker_ready: None) -> None:
    llm_stub.queue(Reply(content="ok"), Reply(content="Done."))   # the pre-flight call, the seed's task
    llm_stub.default = Failure(401, "invalid api key")           # then the key is revoked
    run_dir = tmp_path / "revoked"
    code = cli.main(["run", str(QUICKSTART), "--out", str(run_dir), *_stub_run_args(llm_stub.api_base)])
    err = capsys.readouterr().err
    assert code == 2 and "AuthenticationFailed" in err and f"dgm resume {run_dir}" in err
    assert len(llm_stub.requests) == 3                            # the diagnosis's 401, not retried, then nothing
    assert llm_stub.requests[0]["max_tokens"] == 1
    with RunStore.open(run_dir, readonly=True) as store:
        assert store.events(kind="run_finished")[-1].payload["reason"] == "model_unavailable"
        assert [a.id for a in store.list_agents()] == ["g0c0"]   # no child recorded invalid for it
        assert store.agent("g0c0").status == "evaluated"
        assert store.job("g1c0/diagnose").state == "failed"
        run_id = store.run_id
    assert check_run(run_dir) == []

    llm_stub.default = Reply(content=json.dumps(DIAGNOSIS))       # the key works again
    assert cli.main(["resume", str(run_dir)]) == 0
    with RunStore.open(run_dir, readonly=True) as store:
        assert store.events(kind="run_finished")[-1].payload["reason"] == "generations"
        assert store.agent("g1c0").status == "invalid" and store.agent("g1c0").invalid_reason.startswith("empty patch")
    assert check_run(run_dir) == []
    assert _containers(run_id) == []


# -- dgm eval ---------------------------------------------------------------------------------------

NO_CALLS_AGENT = """\
import argparse, json, pathlib
# the contract's flags: --problem --workspace --out; this agent never calls a model
p = argparse.ArgumentParser()
for flag in ("--problem", "--workspace", "--out", "--max-steps", "--max-seconds", "--max-tokens"):
    p.add_argument(flag)
a = p.parse_args()
(pathlib.Path(a.out) / "trajectory.jsonl").write_text(json.dumps({"type": "final", "exit_reason": "finished"}) + "\\n")
"""


def test_eval_of_a_dir_without_main_py_is_refused_before_anything_is_written(tmp_path: Path,
                                                                            capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "agent").mkdir()
    out = tmp_path / "eval"
    code = cli.main(["eval", "--agent", str(tmp_path / "agent"), "--tasks", "1", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "has no main.py" in err and len(err.strip().splitlines()) == 1 and not out.exists()


def test_eval_with_no_model_runs_an_agent_that_calls_none_and_stops_one_that_does(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        docker_ready: None) -> None:
    monkeypatch.delenv("DGM_MODEL", raising=False)
    agent = tmp_path / "check-agent"
    agent.mkdir()
    (agent / "main.py").write_text(NO_CALLS_AGENT)
    assert cli.main(["eval", "--agent", str(agent), "--tasks", "1", "--out", str(tmp_path / "a"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tasks_run"] == 1

    out = tmp_path / "b"
    code = cli.main(["eval", "--agent", str(REPO / "agents" / "seed_agent"), "--tasks", "2", "--workers", "1",
                     "--out", str(out), "--json"])
    err = capsys.readouterr().err
    assert code == 2 and "the evaluation stopped" in err and "llm.model is not set" in err
    assert not (out / "report.json").exists()
    assert len(list((out / "tasks").iterdir())) == 1              # the second task was never started
