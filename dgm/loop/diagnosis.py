"""Diagnosis: a model reads how the parent failed and proposes one improvement to its own code.

The reference picks one failed task of the parent (or a pattern entry when the parent shows a
systematic failure) and asks a strong model for a JSON object with five fields; the
`problem_description` becomes the self-improvement task. Hidden tests are not shown by default:
the diagnoser must not teach the agent the grader's answers.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dgm import log
from dgm.errors import DgmError

_log = log.get(__name__)
PROMPTS = Path(__file__).parent / "prompts"
FIELDS = ("log_summarization", "potential_improvements", "improvement_proposal",
          "implementation_suggestion", "problem_description")
EMPTY_PATCH_THRESHOLD = 0.1
SOURCE_LIMIT = 60_000
LOG_LIMIT = 40_000

PATTERNS = {
    "solve_empty_patches": (
        "In {count} of {total} tasks the agent finished without changing any file (an empty patch). "
        "Find out why the agent stops without editing and make it reliably produce a change."
    ),
    "solve_context_length": (
        "In {count} of {total} tasks the agent's conversation exceeded the model's context window. "
        "Make the agent manage its context (shorter tool outputs, summaries, dropping old turns)."
    ),
}


class DiagnosisError(DgmError):
    """The diagnosing model did not return the expected JSON after every attempt."""


@dataclass(frozen=True)
class TaskOutcome:
    """What diagnosis needs to know about one of the parent's evaluated tasks."""

    task_id: str
    status: str            # resolved | unresolved | agent_error
    empty_patch: bool
    context_error: bool
    log_view: str          # the task's log as the diagnoser may see it


@dataclass(frozen=True)
class Entry:
    """What the diagnosis is about: one failed task, or a pattern across tasks."""

    kind: str              # "task" or a key of PATTERNS
    task_id: str | None
    text: str


def choose_entry(outcomes: list[TaskOutcome], rng: random.Random) -> Entry | None:
    """Pattern entries win (they point at systematic faults); otherwise a random failed task.

    Returns None when the parent failed nothing it was evaluated on (nothing to learn from).
    """
    total = len(outcomes)
    if total:
        context = [o for o in outcomes if o.context_error]
        if context:
            return Entry("solve_context_length", None, PATTERNS["solve_context_length"].format(count=len(context), total=total))
        empty = [o for o in outcomes if o.empty_patch]
        if len(empty) / total >= EMPTY_PATCH_THRESHOLD:
            return Entry("solve_empty_patches", None, PATTERNS["solve_empty_patches"].format(count=len(empty), total=total))
    failed = sorted((o for o in outcomes if o.status != "resolved"), key=lambda o: o.task_id)
    if not failed:
        return None
    chosen = rng.choice(failed)
    return Entry("task", chosen.task_id, chosen.log_view)


def agent_source_text(source_dir: Path) -> str:
    """The agent's files as one text (capped), the way a reviewer would read them."""
    parts = []
    for path in sorted(source_dir.rglob("*")):
        if path.is_file() and path.suffix in {".py", ".md", ".txt", ".yaml", ".json"} and ".git" not in path.parts:
            rel = path.relative_to(source_dir)
            parts.append(f"## {rel}\n```\n{path.read_text(encoding='utf-8', errors='replace')}\n```")
    text = "\n\n".join(parts)
    return text if len(text) <= SOURCE_LIMIT else text[:SOURCE_LIMIT] + "\n[... source truncated ...]"


def build_messages(source_dir: Path, entry: Entry) -> list[dict[str, str]]:
    system = (PROMPTS / "diagnose_system.md").read_text(encoding="utf-8")
    source = agent_source_text(source_dir)
    if entry.kind == "task":
        body = (PROMPTS / "diagnose_task.md").read_text(encoding="utf-8")
        user = body.replace("{agent_source}", source).replace("{task_log}", entry.text[-LOG_LIMIT:])
    else:
        body = (PROMPTS / "diagnose_pattern.md").read_text(encoding="utf-8")
        user = body.replace("{agent_source}", source).replace("{pattern}", entry.text)
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def parse_answer(text: str) -> dict[str, str]:
    """The JSON object in the answer (bare, or in a ```json fence), with all five string fields."""
    fenced = re.search(r"```(?:json)?\s*(\{.*\})\s*```", text, re.DOTALL)
    candidate = fenced.group(1) if fenced else text[text.find("{"): text.rfind("}") + 1]
    try:
        data = json.loads(candidate)
    except ValueError as err:
        raise ValueError(f"the answer holds no valid JSON object ({err})") from None
    if not isinstance(data, dict):
        raise ValueError("the answer's JSON is not an object")
    missing = [field for field in FIELDS if not isinstance(data.get(field), (str, list)) or not data.get(field)]
    if missing:
        raise ValueError(f"the JSON object lacks non-empty fields: {', '.join(missing)}")
    return {field: data[field] if isinstance(data[field], str) else "\n".join(map(str, data[field])) for field in FIELDS}


def diagnose(complete: Any, job_key: str, source_dir: Path, entry: Entry, attempts: int) -> dict[str, Any]:
    """Ask the `diagnose` role; on invalid JSON, show the model its mistake and ask again.

    `complete` is `LLMService.complete`. Returns the five fields plus the entry it was about.
    """
    messages = build_messages(source_dir, entry)
    problem = ""
    for attempt in range(1, attempts + 1):
        completion = complete("diagnose", messages, job=job_key)
        text = completion.response["choices"][0]["message"].get("content") or ""
        try:
            fields = parse_answer(text)
        except ValueError as err:
            problem = str(err)
            _log.warning("diagnosis answer rejected", job=job_key, attempt=attempt, problem=problem)
            messages = messages + [
                {"role": "assistant", "content": text},
                {"role": "user", "content": f"That answer was not usable: {problem}. Reply with only the JSON object."},
            ]
            continue
        return {"entry": {"kind": entry.kind, "task_id": entry.task_id}, **fields}
    raise DiagnosisError(f"diagnosis {job_key}: no valid JSON after {attempts} attempts (last problem: {problem})")
