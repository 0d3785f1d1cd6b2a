"""Meta-fitness: how fast the archive improved while a policy chose the parents.

For a window of generations [first, last] the archive's standing is measured just before it
(every agent of generation < first) and at its end (generation <= last), counting only agents
that can be parents (admitted and evaluated, or the seed once scored):
    best       the highest score
    top_k_mean the mean of the k highest scores, missing places counted as 0 (so an archive that
               gains good agents rises even when its best does not)
    meta_fitness = (gain of best + gain of top_k_mean) / 2 / number of generations in the window
i.e. score points gained per generation. A candidate is judged against the incumbent's window of
the same length just before its trial (shorter when the run is younger), so both are measured
on the same archive at nearly the same stage of the search.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Standing:
    best: float
    top_k_mean: float


@dataclass(frozen=True)
class WindowFitness:
    first: int
    last: int
    before: Standing
    after: Standing

    @property
    def generations(self) -> int:
        return self.last - self.first + 1

    @property
    def best_gain(self) -> float:
        return self.after.best - self.before.best

    @property
    def top_k_gain(self) -> float:
        return self.after.top_k_mean - self.before.top_k_mean

    @property
    def value(self) -> float:
        return round((self.best_gain + self.top_k_gain) / 2 / self.generations, 6)

    def to_json(self) -> dict[str, Any]:
        return {"generations": [self.first, self.last], "best_gain": round(self.best_gain, 6),
                "top_k_gain": round(self.top_k_gain, 6), "meta_fitness": self.value}


def standing(agents: Iterable[Any], upto: int, top_k: int) -> Standing:
    """Best and top-k mean over parent-eligible scored agents of generation <= `upto`.
    `agents` are store rows (anything with generation, parent_id, status, admitted, score)."""
    scores = sorted(
        (agent.score for agent in agents
         if agent.generation <= upto and agent.score is not None and agent.status == "evaluated"
         and (agent.admitted or agent.parent_id is None)),
        reverse=True,
    )
    top = scores[:top_k]
    return Standing(best=scores[0] if scores else 0.0, top_k_mean=sum(top) / top_k)


def _best(agents: Iterable[Any], upto: int) -> Any | None:
    eligible = [agent for agent in agents
                if agent.generation <= upto and agent.score is not None and agent.status == "evaluated"
                and (agent.admitted or agent.parent_id is None)]
    return max(eligible, key=lambda agent: agent.score, default=None)


def best_gain_is_noise(agents: Iterable[Any], first: int, last: int) -> bool:
    """True when the best agent at the window's end cannot be told apart (two-proportion test,
    95%) from the best before it: the window's gain of best is within noise."""
    from dgm.stats import within_noise

    rows = list(agents)
    before, after = _best(rows, first - 1), _best(rows, last)
    if before is None or after is None:
        return before is None and after is None

    def counts(agent: Any) -> tuple[float, int]:
        return sum(s.resolved for s in agent.stages), sum(s.total for s in agent.stages)

    return within_noise(*counts(before), *counts(after))


def window_fitness(agents: Iterable[Any], first: int, last: int, top_k: int) -> WindowFitness:
    if first < 1 or last < first:
        raise ValueError(f"bad window [{first}, {last}]: expected 1 <= first <= last")
    rows = list(agents)
    return WindowFitness(first, last, standing(rows, first - 1, top_k), standing(rows, last, top_k))
