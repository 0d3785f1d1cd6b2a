"""Who decides what a child changes: the framework's diagnosis, or the agent's own procedure.

`loop.improver` picks the strategy. Both feed the same self-improvement step of the child pipeline
(one sandboxed agent run on a writable copy of the parent, then the same contract, protected-path,
smoke, budget and grading checks); they differ only in what that run is given and how its end is
judged:

- `framework` (the paper's DGM, the default): a `diagnose` job asks the model about one failed
  task of the parent; the answer becomes the problem statement `main.py` works on.
- `agent` (hyperagent mode, docs/meta.md): no diagnosis. The running agent's `improve.py` gets the
  leak-guarded context (`improve_context.build`) and decides and makes the change itself. It is
  part of the agent's source, so a child may rewrite it; a procedure that crashes or is killed
  makes an invalid child with the reason.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from dgm.agent_runner import AgentRun
from dgm.archive.improver import FRAMEWORK, procedure_hash
from dgm.loop import diagnosis, improve_context

if TYPE_CHECKING:
    from dgm.loop.child import ChildPipeline

PROMPTS = Path(__file__).parent / "prompts"
OUTPUT_TAIL = 300


@dataclass(frozen=True)
class Plan:
    """What the self-improvement run is given."""

    problem: str = ""                    # main.py's problem statement (framework)
    context: bytes | None = None         # improve.py's context JSON (agent)
    flags: dict[str, Any] = field(default_factory=dict)   # kept in the child's flags


class Improver(Protocol):
    def plan(self, pipeline: "ChildPipeline", child_id: str, generation: int, parent_id: str) -> Plan:
        """Prepare the run (may run its own recorded jobs through `pipeline.step`)."""

    def made_by(self, running_agent: Path) -> str | None:
        """The `improved_by` of the child: which procedure decided its change."""

    def failure(self, run: AgentRun) -> str | None:
        """Why the run cannot make a child even before its diff is looked at, or None."""


class FrameworkImprover:
    """Diagnosis by the framework, then the parent's main.py implements it (unchanged DGM)."""

    def plan(self, pipeline: "ChildPipeline", child_id: str, generation: int, parent_id: str) -> Plan:
        found = pipeline.step(f"{child_id}/diagnose", "diagnose", child_id, generation, "diagnosis",
                              lambda job, staging: _diagnose(pipeline, job, staging, child_id, parent_id))
        return Plan(problem=_problem_statement(found), flags={"diagnosis": found["entry"]})

    def made_by(self, running_agent: Path) -> str | None:
        return FRAMEWORK

    def failure(self, run: AgentRun) -> str | None:
        return None


class AgentImprover:
    """The running agent's own improve.py decides and makes the change (hyperagent mode)."""

    def plan(self, pipeline: "ChildPipeline", child_id: str, generation: int, parent_id: str) -> Plan:
        return Plan(context=improve_context.build(pipeline.ctx, child_id, generation, parent_id,
                                                  pipeline.seen.get(child_id)))

    def made_by(self, running_agent: Path) -> str | None:
        return procedure_hash(running_agent)

    def failure(self, run: AgentRun) -> str | None:
        if run.ran_to_an_end:
            return None
        tail = " ".join((run.detail or run.output).split())[-OUTPUT_TAIL:]
        if run.exit_reason == "killed":
            return f"improvement procedure killed (past its time limit or out of memory): {tail}".rstrip(": ")
        return f"improvement procedure {run.exit_reason} (exit code {run.exit_code}): {tail}".rstrip(": ")


def create(kind: str) -> Improver:
    return AgentImprover() if kind == "agent" else FrameworkImprover()


def _diagnose(pipeline: "ChildPipeline", job: Any, staging: Path, child_id: str,
              parent_id: str) -> tuple[dict[str, Any], None]:
    ctx = pipeline.ctx
    seen = pipeline.seen.get(child_id)
    outcomes = pipeline.evaluation.outcomes_for_diagnosis(parent_id, None if seen is None else seen.outcomes)
    rng = random.Random(f"{ctx.config.run.seed}:diagnosis:{child_id}")
    entry = diagnosis.choose_entry(outcomes, rng)
    if entry is None:
        entry = diagnosis.Entry("no_failures", None,
                                "The agent solved every task it was evaluated on. Propose an improvement that "
                                "makes it more robust and efficient on harder, unseen tasks.")
    with ctx.checkout(parent_id) as source:
        result = diagnosis.diagnose(ctx.llm.complete, ctx.llm_key(job), source, entry,
                                    ctx.config.loop.diagnosis_attempts)
    (staging / "diagnosis.json").write_text(json.dumps(result, indent=2, sort_keys=True), encoding="utf-8")
    return result, None


def _problem_statement(diagnosis_result: dict[str, Any]) -> str:
    template = (PROMPTS / "self_improve.md").read_text(encoding="utf-8")
    for name in ("problem_description", "improvement_proposal", "implementation_suggestion"):
        template = template.replace("{" + name + "}", str(diagnosis_result.get(name, "")))
    return template
