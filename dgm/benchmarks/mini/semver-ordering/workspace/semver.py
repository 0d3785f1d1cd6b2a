"""Semantic versions (https://semver.org) for the plugin manager: parse, order, pick updates."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_VERSION_RE = re.compile(
    r"^v?(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+(?P<build>[0-9A-Za-z.-]+))?$"
)


@dataclass(frozen=True, order=True)
class Version:
    major: str
    minor: str
    patch: str
    prerelease: str = ""
    build: str = field(default="", compare=False)  # build metadata never affects ordering

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += f"-{self.prerelease}"
        if self.build:
            text += f"+{self.build}"
        return text

    @property
    def is_prerelease(self) -> bool:
        return bool(self.prerelease)


def parse(text: str) -> Version:
    match = _VERSION_RE.match(text.strip())
    if not match:
        raise ValueError(f"not a semantic version: {text!r}")
    return Version(match["major"], match["minor"], match["patch"], match["pre"] or "", match["build"] or "")


def latest(versions: list[str], include_prereleases: bool = False) -> str | None:
    """The highest version in `versions` (as written there), or None."""
    candidates = [parse(v) for v in versions]
    if not include_prereleases:
        candidates = [v for v in candidates if not v.is_prerelease]
    if not candidates:
        return None
    best = max(candidates)
    return next(v for v in versions if parse(v) == best)


def compatible_update(current: str, available: list[str]) -> str | None:
    """The highest release with the same major version that is newer than `current` (caret rule)."""
    now = parse(current)
    newer = [v for v in available
             if parse(v).major == now.major and parse(v) > now and not parse(v).is_prerelease]
    return latest(newer)
