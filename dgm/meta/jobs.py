"""Meta-loop steps as run-store jobs, so a crash or `dgm stop` in the middle resumes exactly.

The same discipline as a child's steps (dgm/loop/child.py): a done job is skipped and its result
read back; a sandbox failure is an infrastructure error, retried `evaluation.infra_retries`
times; the rows a step produces are written in the transaction that marks its job done.
Artifacts go to `agents/<policy id>/<artifact>/` (the store keys artifact folders by the job's
owner; policy ids `p<n>` never collide with agent ids `g<n>c<n>`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from dgm.archive.records import Job
from dgm.archive.store import RunStore
from dgm.sandbox import SandboxUnavailable

Work = Callable[[Job, Path], tuple[dict[str, Any], Callable[[], None]]]


def run_step(store: RunStore, key: str, kind: str, owner: str, generation: int, artifact: str, work: Work,
             *, infra_retries: int) -> dict[str, Any]:
    """Run `work(job, staging)` as job `key` unless it is done; returns the job's result."""
    job = store.add_job(key, kind, agent_id=owner, generation=generation, artifact=artifact)
    if job.state == "done":
        return job.result
    if job.state == "failed":
        store.retry_job(key)
    for attempt in range(infra_retries + 1):
        job = store.start_job(key)
        try:
            result, record = work(job, store.staging_dir(key))
            break
        except SandboxUnavailable as exc:
            store.fail_job(key, f"{type(exc).__name__}: {exc}")
            if attempt == infra_retries:
                raise
            store.retry_job(key)
        except Exception as exc:
            store.fail_job(key, f"{type(exc).__name__}: {exc}")
            raise
    with store.transaction():
        record()
        store.finish_job(key, result)
    return result
