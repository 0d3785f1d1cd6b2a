"""Clade metaproductivity (CMP) as HGM defines it (Wang et al., arXiv 2510.21614, section 4).

The clade C(a) of a node a is a and all its descendants. Each node a' has its own evaluated task
outcomes: n_success(a') and n_failure(a'). HGM's estimate pools them over the clade:

    n_success^C(a) = sum over a' in C(a) of n_success(a')
    n_failure^C(a) = sum over a' in C(a) of n_failure(a')
    CMP^(a)        = n_success^C(a) / (n_success^C(a) + n_failure^C(a))

Every outcome is counted once in each clade that contains its node, never twice in one clade:
a node's pooled count is its own outcomes plus its children's *pooled* counts, which already hold
their descendants' outcomes; adding the descendants' outcomes again on top (or replacing the
pooled counts by the node's own mean), as HGM's public code does, is not the estimator.
Selection draws theta ~ Beta(tau (1 + n_success^C), tau (1 + n_failure^C)) (Thompson sampling,
`tau` >= 1 an optional cooling that sharpens the posterior as the budget is spent).
"""

from __future__ import annotations

import random
from collections.abc import Mapping


def clade_counts(parents: Mapping[str, str | None],
                 own: Mapping[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    """Node -> (n_success^C, n_failure^C). `parents`: node -> parent (None for a root; a parent
    not in `parents` makes the node a root); `own`: node -> its own (successes, failures)
    (missing: none; fractional for continuous scores). Iterative, O(nodes x depth); a parent
    cycle in damaged input ends the walk."""
    counts: dict[str, list[float]] = {node: [0, 0] for node in parents}
    for node in parents:
        successes, failures = own.get(node, (0, 0))
        if not successes and not failures:
            continue
        current: str | None = node
        seen: set[str] = set()
        while current is not None and current in counts and current not in seen:
            seen.add(current)
            counts[current][0] += successes
            counts[current][1] += failures
            current = parents[current]
    return {node: (pair[0], pair[1]) for node, pair in counts.items()}


def cmp_estimate(counts: tuple[float, float]) -> float | None:
    """CMP^ from pooled (successes, failures); None when the clade has no evaluated outcome."""
    successes, failures = counts
    total = successes + failures
    return None if total == 0 else successes / total


def thompson_draw(counts: tuple[float, float], rng: random.Random, tau: float = 1.0) -> float:
    """One Thompson sample of a node's productivity: Beta(tau (1 + s), tau (1 + f))."""
    successes, failures = counts
    return rng.betavariate(tau * (1 + successes), tau * (1 + failures))
