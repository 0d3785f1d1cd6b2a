"""The sandbox contract (DESIGN 3.2): where all untrusted code runs.

Everything that runs agent or policy code goes through `Sandbox`; the Docker backend in
`dgm.sandbox.docker_backend` is the hardened implementation. This module stays import-light (no
docker SDK) so callers can type against it without paying for the backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from dgm.errors import DgmError


class SandboxUnavailable(DgmError):
    """The sandbox died or could not be reached: an infrastructure error, retried, never scored."""


@dataclass(frozen=True)
class ExecResult:
    exit_code: int
    output: str          # stdout and stderr interleaved; the tail is kept when capped
    timed_out: bool
    truncated: bool
    duration: float      # seconds, host wall clock
    oom_killed: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and not self.oom_killed


@runtime_checkable
class Sandbox(Protocol):
    def exec(self, cmd: str | list[str], timeout: float, cwd: str | None = None,
             env: dict[str, str] | None = None) -> ExecResult:
        """Run `cmd` (a string goes through `bash -lc`); never raises for the command's failure."""

    def write(self, path: str, data: bytes | Path | Mapping[str, bytes | Path], *, then: str | None = None,
              env: dict[str, str] | None = None) -> None:
        """Write bytes to a file, or copy a host directory tree (or several, by name) to `path`
        (binary safe); `then`, a script run right after in the same round trip."""

    def read(self, path: str, *, max_bytes: int | None = None, keep_tail: bool = False,
             before: str | None = None, env: dict[str, str] | None = None) -> bytes:
        """Bytes of one regular file inside the sandbox; with `max_bytes`, at most that many leave
        it; `before`, a script that makes the file, run first in the same round trip."""

    def read_dir(self, path: str, dest: Path) -> None:
        """Copy the directory tree at `path` out to the host directory `dest`."""

    def close(self) -> None:
        """Remove the sandbox; safe to call twice."""

    @property
    def expired(self) -> bool:
        """The host removed the sandbox: it ran past its deadline, or the code an exec ran left it
        unable to answer. That code is at fault, as with a timeout; later calls raise."""

    def __enter__(self) -> "Sandbox": ...

    def __exit__(self, *exc: object) -> None: ...
