"""Reaping what lost jobs left in a node's Docker daemon (dgm.scale.node), with real containers."""

from __future__ import annotations

import pytest

from dgm.config import SandboxConfig
from dgm.sandbox.prune import leftovers
from dgm.scale.node import ensure_image, prune_lost

pytestmark = pytest.mark.docker


def test_containers_of_jobs_that_are_not_running_are_removed(docker_ready: None, run_label: str) -> None:
    from dgm.sandbox.docker_backend import DockerSandbox, api

    labels = ["g1c0/eval/a#1", "g1c0/eval/a#1/grade", "g1c0/eval/a#10", "g1c0/self_improve#1", "g1c0/eval/b#1/setup"]
    boxes = [DockerSandbox(SandboxConfig(), run=run_label, job=job, role="test") for job in labels]
    other_run = DockerSandbox(SandboxConfig(), run=f"{run_label}-other", job="g1c0/eval/b#1", role="test")
    try:
        seen: list[int] = []

        def live() -> set[str]:   # read after the containers were listed (see dgm.scale.node)
            seen.append(len(leftovers(run_label)))
            return {"g1c0/eval/a#1", "g1c0/self_improve#1"}

        removed = prune_lost(run_label, live)
        assert seen == [5]
        kept = {c["Labels"]["dgm.job"] for c in api().containers(all=True, filters={"label": f"dgm.run={run_label}"})}
        assert kept == {"g1c0/eval/a#1", "g1c0/eval/a#1/grade", "g1c0/self_improve#1"}
        assert sorted(removed) == sorted(box.id for box in boxes if box.labels["dgm.job"] not in kept)
        assert leftovers(f"{run_label}-other") == [other_run.id]   # another run's containers are not ours
    finally:
        for box in [*boxes, other_run]:
            box.close()


def test_a_node_without_the_runs_image_that_cannot_build_it_is_an_infrastructure_error(docker_ready: None) -> None:
    from dgm.sandbox import SandboxUnavailable, image

    ensure_image(image.current_tag())   # present: nothing to do
    with pytest.raises(SandboxUnavailable, match="has no sandbox image dgm-sandbox:000000000000 and its dgm builds"):
        ensure_image("dgm-sandbox:000000000000")
