from __future__ import annotations


class PlanError(Exception):
    """The targets cannot be built in any order."""
