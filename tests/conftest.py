"""Shared fixtures. Docker tests are real; in CI (DGM_REQUIRE_DOCKER=1) they fail, never skip."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
# The test Ray cluster lives on one machine: this makes Ray use 127.0.0.1 for every node instead of
# the machine's primary address, so the tests' traffic stays on loopback.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage report to Ray's servers

REQUIRE_DOCKER = os.environ.get("DGM_REQUIRE_DOCKER") == "1"


def _docker_problem() -> str | None:
    try:
        import docker

        client = docker.from_env(timeout=10)
        client.ping()
    except Exception as exc:  # any failure means "no usable daemon"
        return f"Docker daemon not reachable: {exc}"
    from dgm.sandbox import image

    tag = image.current_tag()
    try:
        client.images.get(tag)
    except Exception:
        return f"sandbox image {tag} missing (run `dgm sandbox build`)"
    return None


@pytest.fixture(scope="session")
def docker_ready() -> None:
    problem = _docker_problem()
    if problem is None:
        return
    if REQUIRE_DOCKER:
        pytest.fail(f"DGM_REQUIRE_DOCKER=1 but {problem}")
    pytest.skip(problem)


@pytest.fixture
def run_label() -> str:
    """A unique dgm.run label so a test can find (and assert the absence of) its own containers."""
    return f"test-{uuid.uuid4().hex[:10]}"


REPO = Path(__file__).resolve().parents[1]
DEMO_SCRIPT = REPO / "configs" / "demo" / "script.yaml"
QUICKSTART = REPO / "configs" / "quickstart.yaml"


def scripted_config(*overrides: str):
    """The quickstart config with the scripted demo model (what `dgm demo` runs)."""
    from dgm import config

    return config.load(QUICKSTART, ["llm.model=scripted", f"llm.script={DEMO_SCRIPT}", *overrides])


@pytest.fixture(scope="session")
def scripted_run(tmp_path_factory: pytest.TempPathFactory, docker_ready: None) -> Path:
    """One finished scripted quickstart run (2 generations x 2 children, real sandboxes), shared
    read-only by the tests that inspect a run. Tests must not modify it: copy it first."""
    from dgm.loop import session

    run_dir = tmp_path_factory.mktemp("runs") / "quickstart"
    session.start(scripted_config(), run_dir)
    return run_dir
