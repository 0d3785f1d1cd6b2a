"""Validation of a candidate policy before it may choose a single real parent.

The candidate runs (in one sandbox, dispatched by the run's executor as
`dgm.scale.jobs.policy_runs`) on the synthetic archives and on the live archive summary, each within the policy time limit. Every answer must satisfy the contract
(`check_answer`), and two of the archives are run twice with the same seed: the answers must be
equal (a policy that reads the clock or os.urandom cannot be replayed). The first breach is the
rejection reason. The checks are the host's own: the candidate's copy of test_policy.py may have
been edited by the agent that wrote it and is never trusted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from dgm.archive.summary import ArchiveSummary
from dgm.meta import synthetic
from dgm.meta.contract import PolicyAnswerError, check_answer, policy_input
from dgm.meta.sandboxed import PolicyOutput, PolicyRun

REPEATED = ("1000 nodes", "live archive")   # run twice: same seed, same answer


@dataclass(frozen=True)
class CaseResult:
    name: str
    ok: bool
    problem: str | None
    seconds: float


@dataclass(frozen=True)
class Validation:
    ok: bool
    reason: str | None            # the first failed case and what was wrong
    cases: list[CaseResult] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def validate(source: bytes, live: ArchiveSummary, n: int, *,
             run_batch: Callable[[list[PolicyRun]], list[PolicyOutput]], seconds: float) -> Validation:
    """`run_batch` runs policy programs in a sandbox (the run's executor decides where; see
    dgm.scale.jobs.policy_runs) and returns their outputs in order."""
    archives = {**synthetic.cases(), "live archive": live}
    plan = [(name, summary, n) for name, summary in archives.items()]
    plan += [(name, archives[name], n) for name in REPEATED]
    runs = [PolicyRun(source, policy_input(summary, count, f"validation:{name}")) for name, summary, count in plan]
    outputs = run_batch(runs)
    results: list[CaseResult] = []
    answers: dict[str, list[str]] = {}
    for (name, summary, count), output in zip(plan, outputs):
        problem = output.failure(seconds)
        if problem is None:
            try:
                answer = check_answer(output.stdout, summary, count)
            except PolicyAnswerError as err:
                problem = str(err)
            else:
                if name in answers and answers[name] != answer:
                    problem = "gave a different answer to the same input and seed (it must be deterministic)"
                answers.setdefault(name, answer)
        results.append(CaseResult(name, problem is None, problem, round(output.duration, 3)))
    failed = next((case for case in results if not case.ok), None)
    reason = None if failed is None else f"{failed.name}: {failed.problem}"
    return Validation(failed is None, reason, results)
