"""Staged evaluation: which tasks each stage holds, and when an agent is admitted to the next.

The task order is a shuffle fixed by the run seed (and the suite's task ids, not their load
order), so every agent of a run sees the same tasks in the same stages and scores compare. Stage
k holds the next `size` tasks of that order; a stage with no task left is empty.

Admission is judged on the score so far (resolved / scored tasks over all previous stages;
infrastructure errors are not scored): `always`, `threshold` (score >= threshold) or
`second_best` (score >= max(threshold, the archive's second-best score): the caller passes that
score in, so this module knows nothing about archives).
"""

from __future__ import annotations

import random
from typing import Sequence, TypeVar

from dgm.config import StageConfig

T = TypeVar("T")


def ordered(tasks: Sequence[T], seed: int) -> list[T]:
    """`tasks` in the run's fixed order: sorted by id, then shuffled by the seed."""
    by_id = sorted(tasks, key=lambda task: task.id)  # type: ignore[attr-defined]
    random.Random(f"dgm-stages:{seed}").shuffle(by_id)
    return by_id


def stage_tasks(tasks: Sequence[T], stages: Sequence[StageConfig], seed: int) -> list[list[T]]:
    """The tasks of each stage, in order; later stages are shorter or empty when tasks run out."""
    order = ordered(tasks, seed)
    out, start = [], 0
    for stage in stages:
        out.append(order[start:start + stage.size])
        start += stage.size
    return out


def admits(stage: StageConfig, score_so_far: float, second_best: float | None = None) -> bool:
    """Whether an agent that scored `score_so_far` on the earlier stages runs `stage`."""
    if stage.admit == "always":
        return True
    if stage.admit == "threshold":
        return score_so_far >= stage.threshold
    return score_so_far >= max(stage.threshold, second_best or 0.0)
