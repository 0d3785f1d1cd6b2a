"""Deployment manifest checks."""

from __future__ import annotations

from typing import Any

from jpath import get


def check(manifest: dict[str, Any]) -> list[str]:
    problems = []
    for i in range(len(get(manifest, "spec.containers", []))):
        image = get(manifest, f"spec.containers[{i}].image", "")
        if ":" not in image or image.endswith(":latest"):
            problems.append(f"container {i}: pin the image version ({image or 'no image'})")
        if get(manifest, f"spec.containers[{i}].resources.limits.memory", None) is None:
            problems.append(f"container {i}: set a memory limit")
    if get(manifest, 'metadata.labels["app.kubernetes.io/name"]', None) is None:
        problems.append("missing label app.kubernetes.io/name")
    return problems
