"""A delivery tour over points in the plane."""


def tour(points: list[list[float]]) -> list[int]:
    """The order in which to visit `points` (indices, each once); the tour returns to its start."""
    return list(range(len(points)))
