"""A good answer: nearest neighbour, then 2-opt (reverse any segment that shortens the tour)."""

import math


def tour(points: list[list[float]]) -> list[int]:
    """The order in which to visit `points` (indices, each once); the tour returns to its start."""
    n = len(points)
    if n < 4:
        return list(range(n))
    left, order = set(range(1, n)), [0]
    while left:
        here = points[order[-1]]
        nearest = min(left, key=lambda i: math.dist(here, points[i]))
        left.remove(nearest)
        order.append(nearest)
    d = [[math.dist(p, q) for q in points] for p in points]
    improved = True
    while improved:
        improved = False
        for i in range(n - 1):
            for j in range(i + 2, n if i else n - 1):
                a, b, c, e = order[i], order[i + 1], order[j], order[(j + 1) % n]
                if d[a][c] + d[b][e] < d[a][b] + d[c][e] - 1e-12:
                    order[i + 1:j + 1] = reversed(order[i + 1:j + 1])
                    improved = True
    return order
