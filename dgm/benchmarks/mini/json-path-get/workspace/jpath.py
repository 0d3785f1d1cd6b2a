"""Pick values out of parsed JSON with paths like `spec.containers[0].image`.

Used by the deployment linter to read fields of Kubernetes-style manifests.

Path syntax:
    name            key of an object
    a.b             key b of the object at key a
    a[2]            element 2 of the list at key a (negative indexes count from the end)
    a["x.y"]        key x.y of the object at a (quoted keys may contain any character;
                    inside the quotes, \\" is a quote and \\\\ a backslash)
"""

from __future__ import annotations

import re
from typing import Any

_MISSING = object()
_TOKEN = re.compile(r"\.?(\w+)|\[(\d)\]")


class PathError(ValueError):
    """The path itself is malformed (not: the value is absent)."""


def parse_path(path: str) -> list[str | int]:
    """The steps of `path`: str for object keys, int for list indexes."""
    steps: list[str | int] = []
    pos = 0
    while pos < len(path):
        match = _TOKEN.match(path, pos)
        if not match:
            raise PathError(f"bad path {path!r} at position {pos}")
        name, index = match.groups()
        steps.append(name if name is not None else int(index))
        pos = match.end()
    return steps


def get(document: Any, path: str, default: Any = _MISSING) -> Any:
    """The value at `path`, or `default` when some step is absent (KeyError if no default)."""
    value = document
    for step in parse_path(path):
        value = value[step]
    return value
