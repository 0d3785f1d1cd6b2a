"""Naming an agent on the command line: a directory, or `RUN_DIR:AGENT_ID` (an agent of a run).

`dgm eval --agent` and `dgm run --seed-agent` (config `run.seed_agent`) take the same forms. A run's
agent is checked out of its `agents.git` into a temporary directory for as long as it is used.
"""

from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from dgm.errors import DgmError


@contextmanager
def agent_source(spec: str, flag: str = "--agent") -> Iterator[tuple[Path, str]]:
    """(directory, name) of the agent `spec` names; a run's agent is checked out to a temp dir."""
    path = Path(spec).expanduser()
    if path.is_dir():
        yield path, path.resolve().name
        return
    run_dir, sep, agent_id = spec.rpartition(":")
    if not sep or not Path(run_dir).expanduser().is_dir():
        raise DgmError(f"{flag} {spec}: not a directory (expected an agent directory or RUN_DIR:AGENT_ID)")
    from dgm.archive.store import RunStore

    holder = Path(tempfile.mkdtemp(prefix="dgm-agent-"))
    try:
        with RunStore.open(Path(run_dir).expanduser(), readonly=True) as store:
            store.checkout(agent_id, holder / "agent")
        yield holder / "agent", agent_id
    finally:
        shutil.rmtree(holder, ignore_errors=True)


def origin(spec: str) -> dict[str, Any]:
    """Where `spec` points, absolute, for provenance: a directory, or a run and an agent id."""
    path = Path(spec).expanduser()
    if path.is_dir():
        return {"kind": "directory", "path": str(path.resolve())}
    run_dir, _, agent_id = spec.rpartition(":")
    return {"kind": "run", "run_dir": str(Path(run_dir).expanduser().resolve()), "agent_id": agent_id}


def canonical(spec: str) -> str:
    """`spec` with its path made absolute, so the stored config names the same agent from anywhere."""
    where = origin(spec)
    return where["path"] if where["kind"] == "directory" else f"{where['run_dir']}:{where['agent_id']}"
