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



@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium for the page tests (driven by Playwright, which needs no browser of its own)."""
    import shutil

    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("DGM_REQUIRE_DOCKER") == "1":
            pytest.fail("chromium is missing (scripts/setup.sh installs it); CI must not skip the page tests")
        pytest.skip("chromium is not installed (scripts/setup.sh installs it)")
    return path


@pytest.fixture
def small_run(tmp_path: Path) -> Path:
    """A hand-made run without sandboxes: seed (3/10) -> g1c0 (5/10 30/50) -> g2c0 (invalid);
    seed -> g1c1 (9/10 40/50, not admitted). Children carry some spend."""
    from dgm.archive.records import StageScore
    from dgm.archive.store import RunStore

    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "main.py").write_text("print('seed')\n")
    run = tmp_path / "run"
    with RunStore.create(run, {}, seed) as store:
        store.set_scores("g0c0", [StageScore(3, 10)])
        for slot, stages, admitted in ((0, [StageScore(5, 10), StageScore(30, 50)], True),
                                       (1, [StageScore(9, 10), StageScore(40, 50)], False)):
            child = f"g1c{slot}"
            store.add_agent(child, "g0c0", store.commit_agent(child, "g0c0", diff=b""))
            store.set_scores(child, stages)
            store.set_admitted(child, admitted)
            store.add_usage(child, cost=0.5 * (slot + 1), tokens=100)
        store.add_agent("g2c0", "g1c0", store.commit_agent("g2c0", "g1c0", diff=b""))
        store.mark_invalid("g2c0", "empty patch")
    return run


@pytest.fixture
def run_grade(docker_ready, run_label):
    """Grade a diff for a task in a fresh sandbox of the task's image, as evaluation does."""
    from dgm.config import SandboxConfig
    from dgm.evaluation.grader import grade
    from dgm.sandbox.docker_backend import DockerSandbox

    def run(task, diff: bytes):
        with DockerSandbox(SandboxConfig(), run=run_label, job=f"grade-{task.id}", role="grade", image=task.image) as sb:
            return grade(sb, task, diff)

    return run


def eval_grant(run_label: str, task_id: str):
    """The grant evaluation gives the seed agent's job on `task_id` (for tests that call evaluate_task)."""
    from dgm.llm import JobGrant

    return JobGrant(job_key=f"seed/eval/{task_id}", role="solve", run=run_label, agent="seed")


@pytest.fixture
def gateway(tmp_path, config, docker_ready):
    """A gateway over the requesting module's `config` fixture (modules with their own replace it)."""
    from dgm.llm import Gateway, LLMService

    with LLMService(config, tmp_path / "llm.db") as service, Gateway(service) as gw:
        yield gw
