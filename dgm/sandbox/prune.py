"""Reaping sandbox containers by label: `dgm sandbox prune` and the start of a run.

Teardown normally happens in `DockerSandbox.close`; this is for what a killed process (SIGKILL,
power loss) left behind. Every sandbox carries a `dgm.run` label, so leftovers are found by label
alone, never by name or image.
"""

from __future__ import annotations

from dgm.sandbox import SandboxUnavailable


def leftovers(run: str | None = None) -> list[str]:
    """Ids of all containers (running or not) labelled with `dgm.run` (= `run` when given)."""
    from dgm.sandbox.docker_backend import api

    label = "dgm.run" if run is None else f"dgm.run={run}"
    return [c["Id"] for c in api().containers(all=True, filters={"label": label})]


def prune(run: str | None = None) -> int:
    """Remove the leftovers of one run (or of every run); returns how many were removed."""
    import docker.errors

    from dgm.sandbox.docker_backend import api

    removed = 0
    for container_id in leftovers(run):
        try:
            api().remove_container(container_id, force=True)
            removed += 1
        except docker.errors.NotFound:
            continue
        except docker.errors.APIError as exc:
            if exc.status_code != 409:  # 409: another process is already removing it
                raise SandboxUnavailable(f"cannot remove container {container_id[:12]}: {exc}") from None
    return removed
