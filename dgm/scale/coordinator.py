"""Run-wide state that every node of a Ray run shares: the budget, and which job runs where.

One actor per run, pinned to the driver's node (a worker node may be lost; the run's spending
must not be lost with it). It holds a plain `Budget`, so a call on any node is refused or counted
exactly as on a single machine, and a registry of running jobs (job key, node) that lets a node
tell a lost job's leftover containers from a running job's. `SharedBudget` is the `Budget`
interface on top of it, used by the gateways on the nodes and by the driver's host-side calls.

Ray is imported inside functions: this module is importable without it.
"""

from __future__ import annotations

from typing import Any

from dgm.config import BudgetConfig, JobBudget
from dgm.llm.budget import Budget, Spend, Ticket
from dgm.llm.errors import BudgetExceeded


class Coordinator:
    """The actor's class (see `start`); its methods run one at a time."""

    def __init__(self, config: BudgetConfig, run: Spend, jobs: dict[str, Spend]) -> None:
        self._budget = Budget(config)
        self._budget.restore(run, jobs)
        self._running: dict[str, tuple[str, str]] = {}   # token -> (job key, node id)

    # -- budget ------------------------------------------------------------------------------

    def reserve(self, job_key: str, limits: JobBudget | None) -> str | None:
        """None when the call may start (it is counted), else why not. A string, not an
        exception: the caller raises its own BudgetExceeded, so nothing depends on how Ray
        wraps errors."""
        try:
            self._budget.reserve(job_key, limits)
        except BudgetExceeded as exc:
            return str(exc)
        return None

    def settle(self, job_key: str, tokens: int, dollars: float) -> None:
        self._budget.settle(Ticket(job_key), tokens, dollars)

    def spent(self) -> Spend:
        return self._budget.spent

    def job_spent(self, job_key: str) -> Spend:
        return self._budget.job_spent(job_key)

    def exhausted(self) -> bool:
        return self._budget.exhausted()

    def in_flight(self) -> int:
        return self._budget.in_flight

    def snapshot(self) -> tuple[Spend, dict[str, Spend]]:
        return self._budget.snapshot()

    # -- running jobs ------------------------------------------------------------------------

    def job_started(self, token: str, job_key: str, node: str) -> None:
        self._running[token] = (job_key, node)

    def job_ended(self, token: str) -> None:
        self._running.pop(token, None)

    def live_jobs(self) -> set[str]:
        """Keys of the jobs running on nodes that are alive; a job on a dead node is lost."""
        import ray

        alive = {node["NodeID"] for node in ray.nodes() if node.get("Alive")}
        return {key for key, node in self._running.values() if node in alive}


def start(config: BudgetConfig, spent: tuple[Spend, dict[str, Spend]]) -> Any:
    """The run's coordinator actor, on this (the driver's) node."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
    actor_class = ray.remote(num_cpus=0, max_restarts=0)(Coordinator)
    return actor_class.options(scheduling_strategy=here).remote(config, *spent)


class SharedBudget:
    """The `Budget` interface, answered by the coordinator: one budget for the driver and all nodes."""

    def __init__(self, actor: Any) -> None:
        self._actor = actor

    def _ask(self, method: str, *args: Any) -> Any:
        import ray

        return ray.get(getattr(self._actor, method).remote(*args))

    def reserve(self, job_key: str, limits: JobBudget | None = None) -> Ticket:
        problem = self._ask("reserve", job_key, limits)
        if problem is not None:
            raise BudgetExceeded(problem)
        return Ticket(job_key)

    def settle(self, ticket: Ticket, tokens: int, dollars: float) -> None:
        self._ask("settle", ticket.job_key, tokens, dollars)

    @property
    def spent(self) -> Spend:
        return self._ask("spent")

    def exhausted(self) -> bool:
        return self._ask("exhausted")

    @property
    def in_flight(self) -> int:
        return self._ask("in_flight")

    def job_spent(self, job_key: str) -> Spend:
        return self._ask("job_spent", job_key)

    def snapshot(self) -> tuple[Spend, dict[str, Spend]]:
        return self._ask("snapshot")
