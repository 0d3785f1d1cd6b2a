"""Shared fixtures. Docker tests are real; in CI (DGM_REQUIRE_DOCKER=1) they fail, never skip."""

from __future__ import annotations

import os
import uuid

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

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
