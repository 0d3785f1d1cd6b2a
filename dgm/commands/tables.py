"""Plain aligned tables for the archive commands (archive.py and archive_policies.py share it)."""

from __future__ import annotations

from typing import Iterable, Sequence


def format_table(headers: Sequence[str], right: Iterable[str], rows: Sequence[Sequence[str]],
                 title: str | None = None) -> str:
    """A plain aligned table, never cut to the terminal width (ids and scores stay whole).
    Hand-made rather than rich: 100,000 rows print in a fraction of a second."""
    right_set = set(right)
    widths = [max([len(header)] + [len(row[i]) for row in rows]) for i, header in enumerate(headers)]
    # One format string for every line: a single C call per row.
    template = " " + "   ".join(f"{{:{'>' if h in right_set else '<'}{w}}}" for h, w in zip(headers, widths))
    total = sum(widths) + 3 * (len(widths) - 1)
    out = [] if title is None else [" " + title.center(total).rstrip(), ""]
    out += [template.format(*headers).rstrip(), " " + "─" * total]
    out += [template.format(*row).rstrip() for row in rows]
    return "\n".join(out)
