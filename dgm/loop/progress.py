"""Progress on the console: one bar per running phase, plus the spend so far.

rich draws the bars when stderr is a terminal; otherwise (CI, logs piped to a file) every bar is
silent and the structured log carries the same facts.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


class _Bar:
    def __init__(self, progress: Any, task_id: Any) -> None:
        self._progress, self._task_id = progress, task_id

    def advance(self, amount: int = 1) -> None:
        if self._progress is not None:
            self._progress.advance(self._task_id, amount)


class Progress:
    def __init__(self, spend: Callable[[], str], *, enabled: bool | None = None) -> None:
        self._enabled = sys.stderr.isatty() if enabled is None else enabled
        self._spend = spend
        self._lock = threading.Lock()
        self._rich: Any = None

    def __enter__(self) -> "Progress":
        if self._enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn, TimeElapsedColumn

            spend = self._spend

            class Spend(TextColumn):
                def render(self, task: Any) -> Any:  # noqa: D102 - rich column hook
                    from rich.text import Text

                    return Text(spend(), style="cyan")

            self._rich = RichProgress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                      TimeElapsedColumn(), Spend("spend"), console=Console(stderr=True),
                                      transient=False)
            self._rich.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._rich is not None:
            self._rich.__exit__(*exc)
            self._rich = None

    @contextmanager
    def task(self, description: str, total: int) -> Iterator[_Bar]:
        if self._rich is None:
            yield _Bar(None, None)
            return
        with self._lock:
            task_id = self._rich.add_task(description, total=total)
        try:
            yield _Bar(self._rich, task_id)
        finally:
            with self._lock:
                self._rich.update(task_id, visible=True)
