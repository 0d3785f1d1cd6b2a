"""Which improvement procedure an agent carries, as a short hash (docs/meta.md, "Hyperagent mode").

The extended agent contract (agents/seed_agent/README.md) names the procedure's files: the entry
point `improve.py` and everything under `improve/`. Their hash is the agent's `improver`; the
hash of the procedure that made a child is its `improved_by` (`framework` when the framework's
diagnosis made it). Equal hashes mean byte-identical procedures, so a researcher can group agents
by the procedure version that made them and see which child changed it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

ENTRY = "improve.py"
FOLDER = "improve"
FRAMEWORK = "framework"   # improved_by of a child the framework's diagnosis made
HASH_CHARS = 12


def procedure_files(agent_dir: Path) -> list[Path]:
    """The procedure's files (relative paths, sorted); empty when the agent has no `improve.py`."""
    if not (agent_dir / ENTRY).is_file():
        return []
    files = [Path(ENTRY)]
    folder = agent_dir / FOLDER
    if folder.is_dir():
        files += sorted(p.relative_to(agent_dir) for p in folder.rglob("*")
                        if p.is_file() and "__pycache__" not in p.parts)
    return files


def procedure_hash(agent_dir: Path) -> str | None:
    """sha256 over (path, bytes) of the procedure's files, first 12 hex digits; None without one."""
    files = procedure_files(agent_dir)
    if not files:
        return None
    digest = hashlib.sha256()
    for rel in files:
        digest.update(rel.as_posix().encode("utf-8") + b"\0")
        digest.update((agent_dir / rel).read_bytes() + b"\0")
    return digest.hexdigest()[:HASH_CHARS]
