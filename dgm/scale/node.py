"""What a cluster node does before its first job of a run: have the image, reap what lost jobs left.

Once per worker process and run (a node has a few worker processes; a node that comes back after
a crash has new ones, so it always passes through here again):
- the sandbox image the run names must be in the node's Docker daemon; if it is missing and this
  node's `dgm` builds exactly that tag, it is built (one build per machine, under a file lock),
  otherwise the job fails as an infrastructure error naming the fix;
- containers of the run that belong to no job running on a live node are removed: they are what
  a lost node or worker left behind (their jobs were retried elsewhere).

The order in `prune_lost` matters: containers are listed *before* the running jobs are read. A
job registers before it starts a container, so any container in the listing whose job is still
running has its job in the registry read afterwards; nothing live is ever removed.
"""

from __future__ import annotations

import fcntl
import socket
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from dgm import log
from dgm.sandbox import SandboxUnavailable

_log = log.get(__name__)
_lock = threading.Lock()
_prepared: set[tuple[str, str]] = set()
BUILD_LOCK = Path(tempfile.gettempdir()) / "dgm-image-build.lock"


def prepare(image_tag: str, run: str, live_jobs: Callable[[], set[str]]) -> None:
    with _lock:
        if (image_tag, run) in _prepared:
            return
        ensure_image(image_tag)
        removed = prune_lost(run, live_jobs)
        if removed:
            _log.warning("removed containers of lost jobs", run=run, containers=len(removed))
        _prepared.add((image_tag, run))


def ensure_image(tag: str) -> None:
    from dgm.errors import DgmError
    from dgm.sandbox import image

    try:
        if image.is_present(tag):
            return
        with BUILD_LOCK.open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)   # one build per machine, however many workers ask
            if image.is_present(tag):
                return
            built = image.current_tag()
            if built != tag:
                raise SandboxUnavailable(
                    f"node {socket.gethostname()} has no sandbox image {tag} and its dgm builds {built}; "
                    f"install the driver's dgm version on it or load the image there (docker save/load)")
            image.build()
    except SandboxUnavailable:
        raise
    except DgmError as exc:   # no daemon, failed build: this node cannot run sandboxes
        raise SandboxUnavailable(f"node {socket.gethostname()} cannot provide the sandbox image {tag}: {exc}") from None


def prune_lost(run: str, live_jobs: Callable[[], set[str]]) -> list[str]:
    """Remove this daemon's containers of `run` whose `dgm.job` label names no live job (a
    job's sub-steps label theirs `<key>/<step>`). Returns the ids removed."""
    import docker.errors

    from dgm.sandbox.docker_backend import api

    containers = api().containers(all=True, filters={"label": f"dgm.run={run}"})
    live = live_jobs()
    removed = []
    for container in containers:
        job = (container.get("Labels") or {}).get("dgm.job", "")
        if any(job == key or job.startswith(key + "/") for key in live):
            continue
        try:
            api().remove_container(container["Id"], force=True)
            removed.append(container["Id"])
        except docker.errors.NotFound:   # its own job removed it meanwhile
            continue
        except docker.errors.APIError as exc:
            if exc.status_code != 409:   # 409: someone else is removing it
                raise SandboxUnavailable(f"cannot remove leftover container {container['Id'][:12]}: {exc}") from None
    return removed
