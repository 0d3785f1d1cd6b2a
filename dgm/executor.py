"""Where jobs run: the executor interface and the default local thread pool.

Jobs are I/O bound (containers and model latency), so threads on one machine go a long way; a
cluster executor (Ray) implements the same two methods. Futures are the common currency because
both `concurrent.futures` and Ray (`ObjectRef.future()`) produce them, so the loop never needs to
know which executor it has.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Protocol


class Executor(Protocol):
    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future: ...

    def close(self) -> None: ...


class LocalExecutor:
    """A bounded thread pool; `workers` jobs run at once."""

    def __init__(self, workers: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dgm-job")

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        return self._pool.submit(fn, *args, **kwargs)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> "LocalExecutor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
