"""agents/<id>/: files a job leaves behind (diagnosis, trajectories, per-task logs, diffs).

A job writes into a staging directory under `agents/<id>/.partial/` and the store renames it
to `agents/<id>/<artifact>` before the row that marks the job done is committed. So a final
directory is only ever whole, and everything under `.partial/` is, by definition, the debris of
an interrupted job that `reset_interrupted_jobs` may delete. Single files are written to a
temporary name in the same directory and renamed (atomic on POSIX).

Renames protect against the process dying; they are not fsynced per file, so a power cut may
still lose the last few seconds (as does SQLite with synchronous=NORMAL).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path, PurePosixPath

PARTIAL = ".partial"
TMP_PREFIX = ".dgm-tmp-"


def _check_relative(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or path.parts[0] == PARTIAL or name != str(path):
        raise ValueError(f"bad artifact name {name!r}: expected a relative path like 'tasks/t1' without '..'")
    return path


class Artifacts:
    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.root = run_dir / "agents"

    def agent_dir(self, agent_id: str) -> Path:
        return self.root / agent_id

    def path(self, agent_id: str, artifact: str) -> Path:
        return self.agent_dir(agent_id) / _check_relative(artifact)

    def relpath(self, agent_id: str, artifact: str) -> str:
        """Where an artifact lives, relative to the run directory (what rows store)."""
        return f"agents/{agent_id}/{_check_relative(artifact)}"

    def staging(self, agent_id: str, artifact: str) -> Path:
        # Flat names (no nested dirs under .partial/) so concurrent jobs of one agent never
        # race on creating or removing shared intermediate directories.
        flat = str(_check_relative(artifact)).replace("%", "%25").replace("/", "%2F")
        return self.agent_dir(agent_id) / PARTIAL / flat

    def fresh_staging(self, agent_id: str, artifact: str) -> Path:
        """An empty staging directory (whatever an earlier attempt left there is removed)."""
        staging = self.staging(agent_id, artifact)
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        return staging

    def publish(self, agent_id: str, artifact: str) -> None:
        """Move the staged directory into place, replacing an earlier published copy."""
        staging = self.staging(agent_id, artifact)
        if not staging.is_dir():
            raise FileNotFoundError(f"no staged artifacts for {agent_id}/{artifact} at {staging}")
        final = self.path(agent_id, artifact)
        final.parent.mkdir(parents=True, exist_ok=True)
        old = None
        if final.exists():
            # A rename cannot replace a non-empty directory: move the old copy aside first.
            old = self.agent_dir(agent_id) / PARTIAL / f".replaced-{uuid.uuid4().hex}"
            os.rename(final, old)
        os.rename(staging, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def discard(self, agent_id: str, artifact: str) -> None:
        """Remove both the staged and the published copy (the job did not finish)."""
        shutil.rmtree(self.staging(agent_id, artifact), ignore_errors=True)
        shutil.rmtree(self.path(agent_id, artifact), ignore_errors=True)

    def write_file(self, agent_id: str, name: str, data: bytes | str) -> Path:
        """Write one file atomically: readers see the old content or the new, never a part."""
        target = self.path(agent_id, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        payload = data.encode("utf-8") if isinstance(data, str) else data
        fd, tmp = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{target.name}.", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    def partial_dirs(self) -> list[Path]:
        """Leftovers of interrupted jobs (staging dirs and half-written single files)."""
        if not self.root.is_dir():
            return []
        found = [path for path in self.root.glob(f"*/{PARTIAL}") if path.is_dir() and any(path.iterdir())]
        found += [path for path in self.root.rglob(f"{TMP_PREFIX}*") if path.is_file()]
        return sorted(found)

    def remove_partials(self) -> None:
        for path in self.partial_dirs() + list(self.root.glob(f"*/{PARTIAL}")):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
