"""Which paths a git diff touches, read from its headers on the host.

The grader must know every path an agent's diff adds, changes, deletes or renames, so it can
undo changes to tests and test configuration. The grading sandbox also asks git what changed; this
host-side reading is the second, independent source (a path either source names is checked).
"""

from __future__ import annotations

import re

_HEADER = re.compile(rb"^diff --git (.+)$")
_HUNK = re.compile(rb"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")
_PREFIXED = (b"--- ", b"+++ ")                       # a/ or b/ prefix, or /dev/null
_BARE = (b"rename from ", b"rename to ", b"copy from ", b"copy to ")  # no prefix
_ESCAPES = {ord("a"): 7, ord("b"): 8, ord("t"): 9, ord("n"): 10, ord("v"): 11, ord("f"): 12,
            ord("r"): 13, ord('"'): 34, ord("\\"): 92}


def _unquote(text: bytes) -> tuple[bytes, bytes]:
    """Parse one C-quoted git path at the start of `text`; returns (path, rest)."""
    out = bytearray()
    i = 1
    while i < len(text):
        char = text[i]
        if char == ord('"'):
            return bytes(out), text[i + 1:]
        if char == ord("\\") and i + 1 < len(text):
            nxt = text[i + 1]
            if ord("0") <= nxt <= ord("7"):
                out.append(int(text[i + 1:i + 4], 8))
                i += 4
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(char)
        i += 1
    return bytes(out), b""


def _strip_prefix(path: bytes) -> bytes | None:
    """`a/x` -> `x`; `/dev/null` -> None."""
    if path == b"/dev/null":
        return None
    if path[:2] in (b"a/", b"b/"):
        return path[2:]
    return path


def _header_paths(rest: bytes) -> list[bytes]:
    """Both paths of `diff --git A B`; each is C-quoted when it holds unusual bytes, and unquoted
    ones may contain spaces (then the equal halves `a/P b/P` tell where to split)."""
    if rest.startswith(b'"'):
        first, tail = _unquote(rest)
        tail = tail.lstrip(b" ")
        return [first, _unquote(tail)[0] if tail.startswith(b'"') else tail]
    quoted = rest.find(b' "')
    if quoted != -1:
        return [rest[:quoted], _unquote(rest[quoted + 1:])[0]]
    middle = (len(rest) - 1) // 2
    if rest[middle:middle + 3] == b" b/" and rest[2:middle] == rest[middle + 3:]:
        return [rest[:middle], rest[middle + 1:]]
    head, _, tail = rest.partition(b" b/")      # a rename with spaces: its rename lines are exact
    return [head, b"b/" + tail] if tail else [head]


def _path_value(value: bytes) -> bytes:
    value = value.rstrip(b"\r")
    if value.startswith(b'"'):
        return _unquote(value)[0]
    return value.split(b"\t", 1)[0]   # git ends names that contain spaces with a tab


def touched_paths(diff: bytes) -> set[str]:
    """Every workspace-relative path named by the diff (old and new names of renames included)."""
    found: set[bytes] = set()
    old_left = new_left = 0     # lines of the current hunk still to come; they are content
    for line in diff.split(b"\n"):
        if old_left > 0 or new_left > 0:
            tag = line[:1]
            if tag in (b" ", b""):
                old_left, new_left = old_left - 1, new_left - 1
            elif tag == b"-":
                old_left -= 1
            elif tag == b"+":
                new_left -= 1
            continue            # includes "\ No newline at end of file"
        hunk = _HUNK.match(line)
        if hunk:
            old_left = int(hunk.group(1)) if hunk.group(1) is not None else 1
            new_left = int(hunk.group(2)) if hunk.group(2) is not None else 1
            continue
        header = _HEADER.match(line)
        if header:
            candidates = [_strip_prefix(p) for p in _header_paths(header.group(1).rstrip(b"\r"))]
        elif line.startswith(_PREFIXED):
            candidates = [_strip_prefix(_path_value(line[4:]))]
        elif line.startswith(_BARE):
            candidates = [_path_value(line.split(b" ", 2)[2])]
        else:
            continue
        found.update(path for path in candidates if path)
    return {path.decode("utf-8", "surrogateescape") for path in found}
