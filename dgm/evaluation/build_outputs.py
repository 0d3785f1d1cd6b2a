"""What build tools and test runners write into a workspace: never part of a solution, in any suite.

One list serves both ends: the agent's sandbox excludes these from the diff it takes (they are
written to the baseline repository's info/exclude, gitignore syntax), and the grader undoes any
path of a diff that matches them (a hand-made diff could still carry a prebuilt test binary or a
stale `.class` file that would stand in for the real build).
"""

from __future__ import annotations

import fnmatch
from pathlib import PurePosixPath

# Directories (any depth) and file patterns, in gitignore syntax.
DIRECTORIES = ("__pycache__", ".pytest_cache", "target", "build", "node_modules", ".gradle", "CMakeFiles",
               ".jest-cache")
FILES = ("*.pyc", "*.o", "*.obj", "*.class", "*.a", "*.gch", "CMakeCache.txt", "cmake_install.cmake")


def gitignore() -> str:
    """The exclude-file text (one pattern per line)."""
    return "".join(f"{d}/\n" for d in DIRECTORIES) + "".join(f"{f}\n" for f in FILES)


def is_build_output(path: str) -> bool:
    parts = PurePosixPath(path).parts
    if any(part in DIRECTORIES for part in parts[:-1]):
        return True
    name = parts[-1] if parts else ""
    return name in DIRECTORIES or any(fnmatch.fnmatchcase(name, pattern) for pattern in FILES)
