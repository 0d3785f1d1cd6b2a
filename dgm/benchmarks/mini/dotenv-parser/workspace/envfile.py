"""Load `.env` files into the environment of our dev tooling.

Format (the common dotenv dialect):

    # comment
    NAME=value
    export NAME=value          # "export " prefix is allowed (so the file can be sourced)
    NAME="double quoted"       # escapes \\n \\t \\" \\\\ are interpreted
    NAME='single quoted'       # taken literally
    NAME=value # comment       # inline comment after an unquoted value (needs a blank before #)
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import MutableMapping

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class EnvFileError(ValueError):
    def __init__(self, line_no: int, message: str) -> None:
        super().__init__(f"line {line_no}: {message}")
        self.line_no = line_no


def parse(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line_no, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not _NAME.fullmatch(name):
            raise EnvFileError(line_no, f"expected NAME=value, got {line!r}")
        values[name] = value.strip()
    return values


def load(path: str | Path, environ: MutableMapping[str, str] | None = None, override: bool = False) -> dict[str, str]:
    """Set the variables of the file in `environ` (default: os.environ); existing variables are
    kept unless `override`. Returns what was parsed."""
    env = os.environ if environ is None else environ
    values = parse(Path(path).read_text(encoding="utf-8"))
    for name, value in values.items():
        if override or name not in env:
            env[name] = value
    return values
