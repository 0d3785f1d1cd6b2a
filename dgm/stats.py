"""Honest statistics for scores: how many tasks a score rests on, and how far it could be off.

A score of 3/3 and one of 180/200 are not the same evidence, and two agents 0.05 apart on 10
tasks each are indistinguishable. Pure functions, no dependencies (scipy is not a base package):
  - `wilson`: the Wilson score interval for a pass/fail proportion (well behaved at 0/n and n/n,
    where the normal interval collapses to a point);
  - `bounded_mean_interval`: the same interval for a mean of continuous scores in [0, 1] (the
    `scored` suite), conservative for them;
  - `within_noise`: whether two proportions (or means of scores in [0, 1], conservatively) differ
    by less than a two-proportion z-test at the same confidence can tell apart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Z95 = 1.959963984540054  # two-sided 95%
# Two-sided 95% Student-t quantiles by degrees of freedom (1..30); above 30 the normal's.
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
        2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
        2.045, 2.042)


@dataclass(frozen=True, slots=True)
class Interval:
    low: float
    high: float

    def to_json(self) -> list[float]:
        return [round(self.low, 4), round(self.high, 4)]

    def __str__(self) -> str:
        return f"[{self.low:.2f}, {self.high:.2f}]"


def wilson(successes: float, n: int, z: float = Z95) -> Interval | None:
    """Wilson score interval of successes/n; None when n is 0 (no evidence) or `successes` is not
    a whole count (continuous scores: use `bounded_mean_interval`)."""
    if n <= 0 or successes != int(successes) or not 0 <= successes <= n:
        return None
    return _wilson(successes / n, n, z)


def bounded_mean_interval(total: float, n: int, z: float = Z95) -> Interval | None:
    """95% interval of the mean of n scores in [0, 1] summing to `total` (the `scored` suite).

    A variable in [0, 1] with mean p has variance at most p(1 - p), the Bernoulli's, so the
    Wilson interval of total/n is conservative for it (never narrower than the truth asks) and
    needs only the sum, which is what the archive keeps per stage. None when n is 0."""
    if n <= 0 or not 0 <= total <= n:
        return None
    return _wilson(total / n, n, z)


def _wilson(p: float, n: int, z: float) -> Interval:
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def within_noise(s1: float, n1: int, s2: float, n2: int, z: float = Z95) -> bool:
    """True when proportions s1/n1 and s2/n2 are not distinguishable by a two-sided pooled
    two-proportion z-test at confidence `z` (also when either has no tasks)."""
    if n1 <= 0 or n2 <= 0:
        return True
    p1, p2 = s1 / n1, s2 / n2
    pooled = (s1 + s2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance == 0:
        return p1 == p2  # both all-pass or both all-fail
    return abs(p1 - p2) / math.sqrt(variance) < z
