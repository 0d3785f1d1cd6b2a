"""A sandboxed job on a Ray node: the body of the Ray task the Ray executor submits.

The job runs next to a gateway of its own, so its sandboxes never need to reach another machine:
a per-job `LLMService` whose cassette is a temporary SQLite file (pre-loaded with the job's
earlier calls, so numbering continues on a resume and replay can answer) and whose budget is the
run's shared one (`coordinator.SharedBudget`). What comes back is the job's value, its files, the
calls it recorded and any replay divergences; the driver stores them, the node stores nothing.

Model access on the node: API keys come from the node's environment (the Ray worker inherits
`ray start`'s), the scripted test/demo model from the script text shipped with the run.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dgm.config import Config
from dgm.llm.cassette import CallRecord
from dgm.scale.jobs import SandboxJob, Tree, run_here

SCRIPT_NAME = "script.yaml"


@dataclass(frozen=True)
class RunOnNodes:
    """What every job of one run needs on a node; put into Ray's object store once per run."""

    run: str                    # the `dgm.run` label
    config: Config              # sandbox.image resolved to a tag
    mode: str                   # live | replay
    script: bytes | None        # the scripted model's YAML, when the run uses it
    coordinator: Any            # the run's coordinator actor


@dataclass(frozen=True)
class Shipment:
    """One job on its way to a node: directories packed, and its model calls so far."""

    job: SandboxJob             # Path arguments replaced by Trees
    prior_calls: list[CallRecord] = field(default_factory=list)
    keep_files: bool = True     # the driver wants the job's `out` directory back


@dataclass(frozen=True)
class Returned:
    value: Any
    out_dir: str                # where `out` was on the node (paths in `value` may point into it)
    files: Tree | None
    calls: list[CallRecord]     # new calls, for the driver's cassette (live mode)
    divergences: list[tuple[str, int, str | None, str]]   # replay: (job key, seq, recorded hash, request hash)
    node: str


def pack(job: SandboxJob) -> SandboxJob:
    """The job with its directory arguments as Trees (done on the driver)."""
    args = {name: Tree.pack(value) if isinstance(value, Path) else value for name, value in job.args.items()}
    return SandboxJob(job.key, job.work, args)


def execute(shipment: Shipment, run: RunOnNodes) -> Returned:
    """The Ray task. Raises what the job raises (Ray carries it to the driver)."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")   # before litellm is first imported
    import ray

    from dgm.scale import node

    node_id = ray.get_runtime_context().get_node_id()
    job = shipment.job
    image = str(run.config.sandbox.image)   # resolved to a tag on the driver
    node.prepare(image, run.run, lambda: ray.get(run.coordinator.live_jobs.remote()))
    token = uuid.uuid4().hex
    ray.get(run.coordinator.job_started.remote(token, job.key, node_id))   # before any container starts
    try:
        with tempfile.TemporaryDirectory(prefix="dgm-job-") as tmp:
            return _run(job, shipment, run, Path(tmp), node_id)
    finally:
        ray.get(run.coordinator.job_ended.remote(token))   # after every container of the job is gone


def _run(job: SandboxJob, shipment: Shipment, run: RunOnNodes, tmp: Path, node_id: str) -> Returned:
    from dgm.llm.cassette import Cassette
    from dgm.llm.gateway import Gateway
    from dgm.llm.service import LLMService
    from dgm.scale.coordinator import SharedBudget

    config = run.config
    if run.script is not None:
        script = tmp / SCRIPT_NAME
        script.write_bytes(run.script)
        config = config.model_copy(update={"llm": config.llm.model_copy(update={"script": str(script)})})
    args = {name: value.unpack(tmp / "in" / name) if isinstance(value, Tree) else value
            for name, value in job.args.items()}
    out = tmp / "out"
    out.mkdir()
    db = tmp / "calls.db"
    seeded = Cassette(db)
    seeded.import_records(shipment.prior_calls)
    seeded.close()
    with LLMService(config, db, run.mode) as llm:   # type: ignore[arg-type]
        llm.budget = SharedBudget(run.coordinator)  # type: ignore[assignment]
        with Gateway(llm) as gateway:
            value = run_here(SandboxJob(job.key, job.work, args), gateway, out)
        divergences = [(d.job_key, d.seq, d.recorded_hash, d.request_hash) for d in llm.divergences]
    recorded = Cassette(db)
    known = {(rec.job_key, rec.seq) for rec in shipment.prior_calls}
    calls = [rec for rec in recorded.records() if (rec.job_key, rec.seq) not in known]
    recorded.close()
    files = Tree.pack(out) if shipment.keep_files else None
    return Returned(value, str(out), files, calls, divergences, node_id)
