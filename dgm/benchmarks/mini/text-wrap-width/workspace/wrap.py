"""Word wrapping for the plain-text e-mail renderer (we avoid textwrap because we need the
hanging indent of list items and hard-splitting of long tokens such as URLs)."""

from __future__ import annotations


def wrap_paragraph(text: str, width: int, indent: str = "", subsequent_indent: str = "") -> list[str]:
    """Lines of at most `width` characters (indent included); words are kept whole unless a
    single word does not fit on a line by itself, in which case it is split."""
    if width <= len(indent) or width <= len(subsequent_indent):
        raise ValueError("width must be larger than the indents")
    lines: list[str] = []
    current = indent
    for word in text.split():
        prefix = indent if not lines else subsequent_indent
        if current.strip() and len(current) + 1 + len(word) < width:
            current += " " + word
        elif not current.strip():
            current = prefix + word
        else:
            lines.append(current)
            current = subsequent_indent + word
    if current.strip():
        lines.append(current)
    return lines


def wrap(text: str, width: int = 72) -> str:
    """Wrap every paragraph of `text` (paragraphs are separated by blank lines, which are kept
    as a single empty line). Lines starting with "- " are list items: their continuation lines
    are indented by two spaces."""
    out: list[str] = []
    for paragraph in text.split("\n\n"):
        if not paragraph.strip():
            continue
        if out:
            out.append("")
        for line in paragraph.splitlines():
            if line.startswith("- "):
                out.extend(wrap_paragraph(line[2:], width, indent="- ", subsequent_indent="  "))
            else:
                out.extend(wrap_paragraph(line, width))
    return "\n".join(out)
