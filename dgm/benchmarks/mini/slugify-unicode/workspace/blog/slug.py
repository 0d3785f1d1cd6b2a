"""URL slugs for blog posts."""

from __future__ import annotations

import re

MAX_LENGTH = 60


def slugify(title: str, max_length: int = MAX_LENGTH) -> str:
    """A lowercase ASCII slug: words joined by single hyphens, at most `max_length` characters."""
    slug = re.sub(r"[^a-z0-9]", "-", title.lower())
    return slug[:max_length]


def unique_slug(title: str, taken: set[str], max_length: int = MAX_LENGTH) -> str:
    """`slugify(title)`, or with -2, -3, ... appended when that slug is already taken."""
    base = slugify(title, max_length)
    if base not in taken:
        return base
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = slugify(title, max_length - len(suffix)) + suffix
        if candidate not in taken:
            return candidate
        n += 1
