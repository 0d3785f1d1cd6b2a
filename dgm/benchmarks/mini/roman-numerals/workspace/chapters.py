"""Chapter headings and the table of contents."""

from __future__ import annotations

import re

from roman import from_roman, to_roman

_HEADING = re.compile(r"^Chapter ([IVXLCDM]+): (.+)$", re.IGNORECASE)


def heading(number: int, title: str) -> str:
    return f"Chapter {to_roman(number)}: {title}"


def parse_heading(line: str) -> tuple[int, str]:
    match = _HEADING.match(line.strip())
    if not match:
        raise ValueError(f"not a chapter heading: {line!r}")
    return from_roman(match.group(1)), match.group(2)


def renumber(lines: list[str]) -> list[str]:
    """Chapter headings renumbered 1, 2, 3, ... in order; other lines unchanged."""
    out, number = [], 0
    for line in lines:
        try:
            _, title = parse_heading(line)
        except ValueError:
            out.append(line)
            continue
        number += 1
        out.append(heading(number, title))
    return out
