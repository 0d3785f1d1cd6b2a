"""The `scored` suite: tasks graded by a number in [0, 1] from a hidden scorer, not by tests.

    <root>/<task-id>/problem.md     the problem statement
    <root>/<task-id>/workspace/     the files the agent starts from
    <root>/<task-id>/scorer/        hidden: present only while scoring, at /work/scorer, read-only
    <root>/<task-id>/task.yaml      score_command: "python3 /work/scorer/score.py"
                                    timeout_seconds: 120          (optional: the scoring deadline)
                                    solve_timeout_seconds: 600    (optional: the agent's deadline)
                                    image: ...                    (optional: needs python3, git, bash)

This is the evaluator shape OpenEvolve and ShinkaEvolve users bring: a program that looks at the
agent's final workspace and prints a score. How the command runs and what counts as its score is
`dgm.evaluation.scoring`'s business; this module only turns folders into `Task` objects.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dgm.benchmarks.task import Task, TaskError, Timeouts, read_tree

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_FIELDS = "score_command, timeout_seconds, solve_timeout_seconds, image"


class _ScoredSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    score_command: str = Field(min_length=1)
    timeout_seconds: float = Field(default=Timeouts.test, gt=0)
    solve_timeout_seconds: float = Field(default=Timeouts.solve, gt=0)
    image: str | None = None


def _spec(path: Path) -> _ScoredSpec:
    if not path.is_file():
        raise TaskError(f"{path}: missing (expected a task.yaml with a score_command)")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise TaskError(f"{path}: malformed YAML: {getattr(err, 'problem', None) or err}") from None
    if not isinstance(raw, dict):
        raise TaskError(f"{path}: expected a mapping of fields ({_FIELDS}), got {type(raw).__name__}")
    try:
        return _ScoredSpec.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        if first["type"] == "extra_forbidden":
            raise TaskError(f"{path}: unknown field '{where}' (expected {_FIELDS})") from None
        if first["type"] == "missing":
            raise TaskError(f"{path}: missing required field '{where}'") from None
        raise TaskError(f"{path}: field '{where}': {first['msg']}, got {first.get('input')!r}") from None


def load_task(folder: Path) -> Task:
    """One task folder; the folder's name is the task id."""
    if not _ID.match(folder.name):
        raise TaskError(f"{folder}: task folder names are task ids (letters, digits, '.', '_', '-'), got {folder.name!r}")
    spec = _spec(folder / "task.yaml")
    problem_path, workspace_dir, scorer_dir = folder / "problem.md", folder / "workspace", folder / "scorer"
    if not problem_path.is_file() or not problem_path.read_text(encoding="utf-8").strip():
        raise TaskError(f"{problem_path}: missing or empty (expected the problem statement)")
    if not workspace_dir.is_dir():
        raise TaskError(f"{workspace_dir}: missing (expected the directory the agent starts from)")
    scorer = read_tree(scorer_dir) if scorer_dir.is_dir() else {}
    if not scorer:
        raise TaskError(f"{scorer_dir}: missing or empty (expected the scorer's files, mounted at /work/scorer)")
    return Task(
        id=folder.name,
        problem=problem_path.read_text(encoding="utf-8"),
        workspace=read_tree(workspace_dir),
        timeouts=Timeouts(solve=spec.solve_timeout_seconds, test=spec.timeout_seconds),
        image=spec.image,
        score_command=spec.score_command,
        scorer=scorer,
    )


def load(root: Path) -> list[Task]:
    """Every task folder directly under `root` (folders with a task.yaml), sorted by id."""
    if not root.is_dir():
        raise TaskError(f"{root}: not a directory (expected a folder of <task-id>/ folders)")
    tasks = [load_task(child) for child in sorted(root.iterdir()) if (child / "task.yaml").is_file()]
    if not tasks:
        raise TaskError(f"{root}: no task folder (expected <task-id>/task.yaml, problem.md, workspace/, scorer/)")
    return tasks
