"""Read a settings file:

    # comment
    [server]
    port = 9000
    debug = yes

Keys are addressed as "section.key"; settings not in the file keep their defaults.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from appconfig.schema import coerce, defaults


def parse_lines(text: str, path: str = "<string>") -> dict[str, str]:
    """Raw "section.key" -> value strings, in file order."""
    raw: dict[str, str] = {}
    section = ""
    for line_no, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            section = stripped[1:-1].strip()
            continue
        key, value = stripped.split("=", 1)
        raw[f"{section}.{key.strip()}" if section else key.strip()] = value.strip()
    return raw


def load_config(path: str | Path) -> dict[str, Any]:
    text = Path(path).read_text(encoding="utf-8")
    settings = defaults()
    for key, value in parse_lines(text, str(path)).items():
        settings[key] = coerce(key, value)
    return settings
