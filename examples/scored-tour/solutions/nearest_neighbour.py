"""A fair answer: always drive to the closest point not yet visited."""

import math


def tour(points: list[list[float]]) -> list[int]:
    """The order in which to visit `points` (indices, each once); the tour returns to its start."""
    if not points:
        return []
    left = set(range(1, len(points)))
    order = [0]
    while left:
        here = points[order[-1]]
        nearest = min(left, key=lambda i: math.dist(here, points[i]))
        left.remove(nearest)
        order.append(nearest)
    return order
