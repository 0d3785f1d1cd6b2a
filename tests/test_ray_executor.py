"""The Ray executor on a real two-node Ray cluster (one machine), with real sandboxes.

One cluster for the module: a head without resources (the driver's node, where the run's
coordinator lives) and two worker nodes offering the `docker` resource. The lost-node test adds
its own nodes with a resource nobody else has, so which node runs its jobs is certain.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import yaml

from conftest import DEMO_SCRIPT, REQUIRE_DOCKER, scripted_config  # noqa: E402

if REQUIRE_DOCKER:
    import ray  # CI installs it with the dev extra: missing, these tests must fail, not skip
else:
    ray = pytest.importorskip("ray")
from dgm.archive.store import RunStore  # noqa: E402
from dgm.loop import session  # noqa: E402
from dgm.loop.compare import compare_runs  # noqa: E402

pytestmark = [pytest.mark.docker, pytest.mark.timeout(300)]

# The quickstart shrunk: seed + one generation of two children, one stage of two tasks.
SMALL = ("loop.deduplicate=false", "loop.generations=1", "evaluation.stages=[{size: 2}]",
         "evaluation.benchmark.task_ids=[csv-quoted-fields, paginate-off-by-one]")


@pytest.fixture(scope="module")
def cluster(docker_ready: None):
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    nodes = [cluster.add_node(num_cpus=2, resources={"docker": 2}) for _ in range(2)]
    cluster.wait_for_nodes()
    cluster.docker_nodes = {node.node_id for node in nodes}
    yield cluster
    cluster.shutdown()


def _ray(cluster, *overrides: str) -> list[str]:
    return ["executor.kind=ray", f"executor.address={cluster.address}", *overrides]


def _calls(run_dir: Path) -> list[tuple]:
    with RunStore.open(run_dir, readonly=True) as store:
        return sorted(store.select("SELECT job_key, seq, role, request_hash, response FROM llm_calls"))


def _run_id(run_dir: Path) -> str:
    with RunStore.open(run_dir, readonly=True) as store:
        return store.run_id


def _containers(run_dir: Path) -> list[str]:
    from dgm.sandbox.prune import leftovers

    return leftovers(_run_id(run_dir))


def test_ray_run_equals_local_run_and_spreads_over_both_nodes(cluster, tmp_path: Path) -> None:
    ray_dir, local_dir = tmp_path / "on-ray", tmp_path / "local"
    session.start(scripted_config(*SMALL, *_ray(cluster)), ray_dir)
    session.start(scripted_config(*SMALL), local_dir)

    assert compare_runs(local_dir, ray_dir) == []
    with RunStore.open(ray_dir, readonly=True) as store:
        children = [store.agent(child) for child in ("g1c0", "g1c1")]
        sandboxed = [job for job in store.jobs() if job.kind in ("evaluate", "self_improve")]
        spend = store.llm_spend()
    assert [child.status for child in children] == ["evaluated", "evaluated"]
    assert all(child.score == 1.0 for child in children), "the children's self-improvement must have worked"
    nodes = {job.result["node"] for job in sandboxed}
    assert nodes == cluster.docker_nodes, f"jobs ran on {nodes}, expected both worker nodes"
    # Every model call made on a node came back to the driver's cassette, identical to the local run's.
    assert _calls(ray_dir) == _calls(local_dir)
    assert len(_calls(ray_dir)) > 10
    with RunStore.open(local_dir, readonly=True) as store:
        assert store.llm_spend() == spend
    # The jobs' files (trajectories, diffs, logs, hidden test output) came back to the same places.
    assert _artifacts(ray_dir) == _artifacts(local_dir)
    assert (ray_dir / "agents" / "g1c0" / "self_improve" / "trajectory.jsonl").stat().st_size > 0
    assert _containers(ray_dir) == []


def test_async_run_on_ray_equals_the_local_async_run(cluster, tmp_path: Path) -> None:
    """The async schedule's units go through the same executor: on Ray, the same archive, the same
    decisions, and jobs on both nodes."""
    overrides = (*SMALL, "loop.schedule=async", "meta.enabled=false", "loop.units=8")
    ray_dir, local_dir = tmp_path / "on-ray", tmp_path / "local"
    session.start(scripted_config(*overrides, *_ray(cluster)), ray_dir)
    session.start(scripted_config(*overrides), local_dir)
    assert compare_runs(local_dir, ray_dir) == []
    with RunStore.open(ray_dir, readonly=True) as a, RunStore.open(local_dir, readonly=True) as b:
        assert [e.payload for e in a.events(kind="unit_planned")] == [e.payload for e in b.events(kind="unit_planned")]
        assert len(a.events(kind="unit_planned")) == 8
        nodes = {job.result["node"] for job in a.jobs() if job.kind in ("evaluate", "self_improve")}
    assert nodes == cluster.docker_nodes, f"jobs ran on {nodes}, expected both worker nodes"
    assert _containers(ray_dir) == []


def _artifacts(run_dir: Path) -> list[str]:
    return sorted(p.relative_to(run_dir).as_posix() for p in (run_dir / "agents").rglob("*") if p.is_file())


def test_replay_of_a_ray_run_on_ray_matches(cluster, tmp_path: Path) -> None:
    """Replay ships each job's recorded calls to its node; no divergence, the same archive."""
    recorded = tmp_path / "recorded"
    session.start(scripted_config(*SMALL, "loop.generations=0", *_ray(cluster)), recorded)
    outcome, divergences = session.replay(recorded, tmp_path / "replayed")
    assert divergences == []
    assert outcome.reason == "generations"
    assert compare_runs(recorded, tmp_path / "replayed") == []


def test_a_lost_node_means_a_retry_elsewhere_and_a_complete_run(cluster, tmp_path: Path) -> None:
    """Jobs run on node B (the only one with the `flaky` resource); while they are in flight, C
    joins and B is removed. The lost jobs are retried on C as new attempts, never scored."""
    script = yaml.safe_load(DEMO_SCRIPT.read_text(encoding="utf-8"))
    script["latency_seconds"] = 3.0   # every model call takes 3 s: B dies mid-job
    script_path = tmp_path / "slow.yaml"
    script_path.write_text(yaml.safe_dump(script), encoding="utf-8")
    node_b = cluster.add_node(num_cpus=2, resources={"flaky": 2})
    cluster.wait_for_nodes()
    run_dir = tmp_path / "lossy"
    config = scripted_config(*SMALL, "loop.generations=0", f"llm.script={script_path}",
                             *_ray(cluster, "executor.resource=flaky"))
    failure: list[BaseException] = []

    def drive() -> None:
        try:
            session.start(config, run_dir)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failure.append(exc)

    thread = threading.Thread(target=drive)
    thread.start()
    deadline = time.monotonic() + 120
    while not _solving(run_dir) and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _solving(run_dir), f"no job started on node B ({failure})"
    node_c = cluster.add_node(num_cpus=2, resources={"flaky": 2})
    cluster.wait_for_nodes()
    cluster.remove_node(node_b)
    thread.join(timeout=240)
    assert not thread.is_alive() and failure == []

    with RunStore.open(run_dir, readonly=True) as store:
        evaluations = store.evaluations("g0c0")
        jobs = store.jobs(kind="evaluate")
        retried = store.events(kind="job_retried")
        finished = store.events(kind="run_finished")
    assert finished and finished[-1].payload["reason"] == "generations"
    assert len(evaluations) == 2 and all(e.status == "unresolved" for e in evaluations)  # scored, not infra_error
    assert retried, "the lost jobs must have been retried"
    assert all("lost its Ray node" in event.payload["error"] for event in retried)
    lost = {event.payload["job"] for event in retried}
    for job in jobs:
        assert job.state == "done"
        assert (job.attempts, job.result["node"]) == ((2, node_c.node_id) if job.key in lost else (1, node_b.node_id))
    with RunStore.open(run_dir, readonly=True) as store:
        keys = {key for (key,) in store.select("SELECT DISTINCT job_key FROM llm_calls")}
    assert {f"{key}#2" for key in lost} <= keys    # the retry's calls, under the new attempt's key
    assert _containers(run_dir) == []
    cluster.remove_node(node_c)


def _solving(run_dir: Path) -> bool:
    from dgm.sandbox.docker_backend import api

    if not (run_dir / "run.db").is_file():
        return False
    return bool(api().containers(filters={"label": [f"dgm.run={_run_id(run_dir)}", "dgm.role=solve"]}))


def test_a_cluster_without_the_resource_is_refused_at_start(cluster, tmp_path: Path) -> None:
    from dgm.scale.ray_executor import RayUnavailable

    with pytest.raises(RayUnavailable, match="no node of the Ray cluster offers one 'gpu-docker' resource"):
        session.start(scripted_config(*SMALL, *_ray(cluster, "executor.resource=gpu-docker")), tmp_path / "refused")


def test_jobs_on_a_node_bring_back_values_and_errors(cluster, tmp_path: Path, run_label: str) -> None:
    """The executor on its own: a smoke check, a policy run, a job that raises, the running-job registry."""
    import shutil

    from dgm.agent_runner import AgentLimits
    from dgm.errors import DgmError
    from dgm.llm.budget import Spend
    from dgm.llm.service import LLMService
    from dgm.llm.types import JobGrant
    from dgm.meta import synthetic
    from dgm.meta.contract import check_answer, policy_input
    from dgm.meta.sandboxed import PolicyRun
    from dgm.scale import coordinator, jobs
    from dgm.scale.ray_executor import RayExecutor

    from conftest import REPO

    config = scripted_config(*_ray(cluster))
    broken = tmp_path / "broken"
    shutil.copytree(REPO / "agents" / "seed_agent", broken)
    (broken / "tools.py").write_text("def oops(:\n", encoding="utf-8")
    policy = (REPO / "dgm" / "meta" / "seed_policy" / "policy.py").read_bytes()
    with LLMService(config, tmp_path / "run.db") as llm, \
            RayExecutor(config, llm=llm, run=run_label, cassette_db=tmp_path / "run.db") as executor:
        smoke = [executor.run_job(jobs.smoke_check(src, sandbox=config.sandbox, run=run_label, key=f"s{i}"))
                 for i, src in enumerate((REPO / "agents" / "seed_agent", broken))]
        assert smoke[0].value is None and smoke[0].node in cluster.docker_nodes
        assert "syntax errors: tools.py:1" in smoke[1].value
        wide = synthetic.cases()["wide tree"]
        policies = executor.run_job(jobs.policy_runs([PolicyRun(policy, policy_input(wide, 2, "s"))],
                                                     sandbox=config.sandbox, run=run_label, key="p", seconds=30))
        assert len(check_answer(policies.value[0].stdout, wide, 2)) == 2
        grant = JobGrant(job_key="a#1", role="solve", run=run_label)
        with pytest.raises(DgmError, match="has no main.py"):   # raised on the node, the same error here
            executor.run_job(jobs.agent_run(tmp_path, "x", tmp_path, grant=grant, sandbox=config.sandbox,
                                            limits=AgentLimits()))
        registry = coordinator.start(config.budget, (Spend(), {}))
        registry.job_started.remote("t1", "alive#1", next(iter(cluster.docker_nodes)))
        registry.job_started.remote("t2", "lost#1", "ff" * 28)   # a node id the cluster never had
        assert ray.get(registry.live_jobs.remote()) == {"alive#1"}
    assert _containers_of(run_label) == []


def _containers_of(run: str) -> list[str]:
    from dgm.sandbox.prune import leftovers

    return leftovers(run)


def test_closing_mid_job_cancels_it_and_removes_its_containers(cluster, tmp_path: Path, run_label: str) -> None:
    """Ctrl-C during a run: the executor cancels what is in flight instead of waiting for it."""
    from dgm.llm.service import LLMService
    from dgm.meta.sandboxed import PolicyRun
    from dgm.scale import jobs
    from dgm.scale.ray_executor import JobCancelled, RayExecutor

    config = scripted_config(*_ray(cluster))
    endless = PolicyRun(b"import time\ntime.sleep(600)\n", {})
    raised: list[BaseException] = []
    with LLMService(config, tmp_path / "run.db") as llm:
        executor = RayExecutor(config, llm=llm, run=run_label, cassette_db=tmp_path / "run.db")

        def wait_for_it() -> None:
            try:
                executor.run_job(jobs.policy_runs([endless], sandbox=config.sandbox, run=run_label, key="p", seconds=900))
            except BaseException as exc:  # noqa: BLE001 - asserted below
                raised.append(exc)

        waiter = threading.Thread(target=wait_for_it)
        waiter.start()
        deadline = time.monotonic() + 60
        while not _containers_of(run_label) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _containers_of(run_label), "the job never started its sandbox"
        started = time.monotonic()
        executor.close()
        waiter.join(timeout=60)
        assert time.monotonic() - started < 60 and not waiter.is_alive()
    assert len(raised) == 1 and isinstance(raised[0], JobCancelled)
    assert _containers_of(run_label) == []
    with pytest.raises(JobCancelled, match="shutting down"):
        executor.run_job(jobs.smoke_check(tmp_path, sandbox=config.sandbox, run=run_label, key="late"))
