"""The Ray executor (DESIGN 3.9): child pipelines stay driver threads, sandboxed jobs go to nodes.

Each `run_job` is one Ray task that asks for one unit of the custom resource `executor.resource`
(offered only by nodes with Docker and the sandbox image) plus the CPUs and memory of one
sandbox, so a node never takes more jobs than it can run. Tasks are spread over the nodes. The
agent source and the workspace travel as bytes in the task; the job's files, its recorded model
calls and its value come back, and the driver writes them (it alone writes the run store), before
the caller sees the value: to the loop, a remote job looks exactly like a local one.

A lost node or worker is an infrastructure failure: Ray does not retry the task itself
(`max_retries=0`); the executor raises `SandboxUnavailable`, and the loop retries the job as a new
attempt (with its own model-call key), on whatever node has room, never scoring the lost one.
What the lost job left in its node's Docker is removed when that node runs a job of the run again
(`dgm.scale.node`), and when the run ends, on every node.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from dgm import log
from dgm.errors import DgmError
from dgm.llm.budget import Budget
from dgm.llm.cassette import Cassette
from dgm.llm.errors import UNUSABLE, ReplayDivergence
from dgm.sandbox import SandboxUnavailable
from dgm.scale import coordinator
from dgm.scale.jobs import JobOutcome, SandboxJob
from dgm.scale.worker import RunOnNodes, Shipment, execute, pack

if TYPE_CHECKING:
    from dgm.config import Config
    from dgm.llm.service import LLMService

_log = log.get(__name__)
CLOSE_PRUNE_SECONDS = 120


class RayUnavailable(DgmError):
    """The Ray cluster named by `executor.address` cannot be reached or cannot run sandboxed jobs."""


class JobCancelled(RuntimeError):
    """The run is shutting down (e.g. Ctrl-C) and cancelled the job. Deliberately not a DgmError:
    the child is not recorded as invalid, its job stays failed and a resume runs it again."""


class RayExecutor:
    def __init__(self, config: "Config", *, llm: "LLMService", run: str, cassette_db: Path) -> None:
        import ray

        self._config = config
        self._llm = llm
        self._run = run
        self._owns_connection = not ray.is_initialized()
        if self._owns_connection:
            _connect(config.executor.address)
        try:
            _require_capacity(config)
            self._coordinator = coordinator.start(config.budget, llm.budget.snapshot())
            llm.budget = coordinator.SharedBudget(self._coordinator)   # type: ignore[assignment]
            self._cassette = Cassette(cassette_db)
            self._on_nodes = ray.put(_run_on_nodes(config, run, llm.mode, self._coordinator))
            sandbox = config.sandbox
            self._task = ray.remote(execute).options(
                num_cpus=sandbox.cpus, memory=sandbox.memory_mb * 2**20, resources={config.executor.resource: 1},
                max_retries=0, scheduling_strategy="SPREAD")
        except BaseException:
            self._disconnect()
            raise
        self._pool = ThreadPoolExecutor(max_workers=config.loop.workers, thread_name_prefix="dgm-child")
        self._lock = threading.Lock()
        self._in_flight: set[Any] = set()
        self._closing = False
        _log.info("ray executor ready", address=config.executor.address, resource=config.executor.resource,
                  nodes=len(_docker_nodes(config.executor.resource)))

    # -- the Executor interface ----------------------------------------------------------------

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        return self._pool.submit(fn, *args, **kwargs)

    def run_job(self, job: SandboxJob, out: Path | None = None) -> JobOutcome:
        import ray
        from ray.exceptions import RayError, RayTaskError

        with self._lock:
            if self._closing:
                raise JobCancelled(f"job {job.key} not started: the run is shutting down")
            shipment = Shipment(pack(job), self._cassette.records(job.key), keep_files=out is not None)
            ref = self._task.remote(shipment, self._on_nodes)
            self._in_flight.add(ref)
        try:
            returned = ray.get(ref)
        except RayTaskError as exc:
            cause = getattr(exc, "cause", None)
            raise (cause if isinstance(cause, BaseException) else exc) from None
        except RayError as exc:   # the node or the worker process is gone: infrastructure, retried
            if self._closing:
                raise JobCancelled(f"job {job.key} cancelled: the run is shutting down") from None
            raise SandboxUnavailable(f"job {job.key} lost its Ray node or worker ({type(exc).__name__}); "
                                     f"it is retried elsewhere") from None
        finally:
            with self._lock:
                self._in_flight.discard(ref)
        if self._llm.mode == "live":
            self._cassette.import_records(returned.calls)   # before the caller marks the job done
        for call in returned.calls:   # the node's gateway met a credential or server failure: so does the run
            if call.error_type in UNUSABLE:
                self._llm.mark_unavailable(f"{call.error_type}: {call.error_message}")
        self._llm.divergences.extend(ReplayDivergence(*d) for d in returned.divergences)
        if out is not None and returned.files is not None:
            returned.files.unpack(out)
        return JobOutcome(_rebase(returned.value, Path(returned.out_dir), out), returned.node)

    def close(self) -> None:
        """After a normal end nothing is in flight; after an interruption the remote jobs are
        cancelled (their workers killed, their containers pruned below) instead of awaited."""
        import ray

        with self._lock:
            self._closing = True
            cancelled = list(self._in_flight)
        for ref in cancelled:
            ray.cancel(ref, force=True)
        self._pool.shutdown(wait=True, cancel_futures=True)
        try:
            self._prune_nodes()
            budget = Budget(self._config.budget)   # the driver keeps the final counts, without Ray
            budget.restore(*self._llm.budget.snapshot())   # type: ignore[attr-defined]
            self._llm.budget = budget
        finally:
            self._cassette.close()
            self._disconnect()

    def __enter__(self) -> "RayExecutor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals -----------------------------------------------------------------------------

    def _prune_nodes(self) -> None:
        """Every live node with the resource removes the run's containers (nothing runs any more)."""
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        from dgm.sandbox.prune import prune

        task = ray.remote(prune)
        refs = [task.options(num_cpus=0, max_retries=0,
                             scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False)).remote(self._run)
                for node in _docker_nodes(self._config.executor.resource)]
        try:
            removed = sum(ray.get(refs, timeout=CLOSE_PRUNE_SECONDS))
        except Exception as exc:   # a node went away meanwhile; its leftovers go on its return
            _log.warning("pruning the run's containers on the nodes failed", error=str(exc))
            return
        if removed:
            _log.warning("removed leftover containers on the nodes", run=self._run, containers=removed)

    def _disconnect(self) -> None:
        import ray

        coord = getattr(self, "_coordinator", None)
        if coord is not None:
            ray.kill(coord)
        if self._owns_connection:
            ray.shutdown()


def _connect(address: str) -> None:
    import ray

    try:
        ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise RayUnavailable(f"executor.address {address!r}: cannot connect to a Ray cluster ({exc}); start one "
                             "with `ray start --head` (docs/scaling.md) or set executor.kind: local") from None


def _docker_nodes(resource: str) -> list[str]:
    import ray

    return [node["NodeID"] for node in ray.nodes() if node.get("Alive") and node["Resources"].get(resource, 0) >= 1]


def _require_capacity(config: "Config") -> None:
    """Fail now, not hang later: some node must fit one job (resource, CPUs, memory)."""
    import ray

    resource, sandbox = config.executor.resource, config.sandbox
    fits = [node for node in ray.nodes() if node.get("Alive")
            and node["Resources"].get(resource, 0) >= 1 and node["Resources"].get("CPU", 0) >= sandbox.cpus
            and node["Resources"].get("memory", 0) >= sandbox.memory_mb * 2**20]
    if not fits:
        raise RayUnavailable(f"no node of the Ray cluster offers one '{resource}' resource with {sandbox.cpus:g} CPU "
                             f"and {sandbox.memory_mb} MB memory (sandbox limits); start worker nodes with "
                             f"`ray start --resources='{{\"{resource}\": N}}'` (docs/scaling.md)")


def _run_on_nodes(config: "Config", run: str, mode: str, coord: Any) -> RunOnNodes:
    from dgm.sandbox import image

    tag = config.sandbox.image or image.current_tag()
    shipped = config.model_copy(update={"sandbox": config.sandbox.model_copy(update={"image": tag})})
    script = Path(config.llm.script).read_bytes() if config.llm.script else None
    return RunOnNodes(run=run, config=shipped, mode=mode, script=script, coordinator=coord)


def _rebase(value: Any, node_out: Path, out: Path | None) -> Any:
    """Paths in a dataclass value that point into the node's `out` now point into the driver's."""
    if not dataclasses.is_dataclass(value) or isinstance(value, type):
        return value
    changes = {}
    for field in dataclasses.fields(value):
        item = getattr(value, field.name)
        if isinstance(item, Path) and item.is_relative_to(node_out):
            changes[field.name] = None if out is None else out / item.relative_to(node_out)
    return dataclasses.replace(value, **changes) if changes else value
