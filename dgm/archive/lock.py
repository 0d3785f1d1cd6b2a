"""archive/<run>/.lock: marks a run as live (a loop process is working on it).

The lock is an exclusive `flock` on the file, held for the life of the process, with the pid
written inside for humans and `dgm stop`. Liveness is "can I take the flock?", not "is that pid
alive?": the kernel drops the flock when the holder dies, so a stale file left by a crash never
makes a run look live, and a recycled pid never fools it.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from dgm.errors import DgmError

LOCK_NAME = ".lock"


class RunLockedError(DgmError):
    """Another process is running this run."""


class RunLock:
    """Hold the run's lock (context manager). Raises RunLockedError if a live process has it."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> "RunLock":
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            pid = holder_pid(self.path.parent)
            raise RunLockedError(
                f"run {self.path.parent} is live (held by pid {pid}); stop it with `dgm stop` or wait for it to end"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock; the file stays (harmless, unlocked)
            self._fd = None

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def is_live(run_dir: Path) -> bool:
    """True while some process holds the run's lock."""
    path = run_dir / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def holder_pid(run_dir: Path) -> int | None:
    """The pid written by the current (or last) holder, if readable."""
    try:
        return int((run_dir / LOCK_NAME).read_text().strip())
    except (OSError, ValueError):
        return None
