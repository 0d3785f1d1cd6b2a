"""Logging: JSON lines into the run directory, readable lines on the console.

One structlog pipeline feeds both sinks so an event is never logged twice by hand: the final
processor writes the JSON form to the run's log file (when one is set) and hands the console form
on to structlog's printer.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

import structlog

_lock = threading.Lock()
_json_file: TextIO | None = None
_quiet = False  # --quiet: info events go to the JSON log only; warnings and errors still print
_LOUD = {"warning", "warn", "error", "critical", "exception", "fatal"}


class _Tee:
    """Last processor: append the event to the JSON log, return the console rendering."""

    def __init__(self, console: structlog.dev.ConsoleRenderer) -> None:
        self._console = console

    def __call__(self, logger: Any, method: str, event: dict[str, Any]) -> str:
        with _lock:
            if _json_file is not None:
                _json_file.write(json.dumps(event, default=str, sort_keys=True) + "\n")
                _json_file.flush()
        if _quiet and event.get("level", method) not in _LOUD:
            raise structlog.DropEvent
        return self._console(logger, method, dict(event))


class _Console:
    """Prints rendered lines to `stream`, or to whatever `sys.stderr` is at the time of writing
    (binding it once would break when a caller swaps stderr, as test runners do)."""

    def __init__(self, stream: TextIO | None) -> None:
        self._stream = stream

    def msg(self, message: str) -> None:
        print(message, file=self._stream or sys.stderr, flush=True)

    log = debug = info = warn = warning = error = critical = exception = fatal = failure = err = msg


def configure(run_dir: Path | None = None, *, level: str = "info", stream: TextIO | None = None) -> None:
    """Set up logging for this process; with `run_dir`, events also go to `run_dir/log.jsonl`."""
    global _json_file
    with _lock:
        if _json_file is not None:
            _json_file.close()
            _json_file = None
        if run_dir is not None:
            run_dir.mkdir(parents=True, exist_ok=True)
            _json_file = open(run_dir / "log.jsonl", "a", encoding="utf-8")
    colors = (stream or sys.stderr).isatty()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            _Tee(structlog.dev.ConsoleRenderer(colors=colors)),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=lambda *args: _Console(stream),
        cache_logger_on_first_use=False,
    )


def set_quiet(quiet: bool) -> None:
    """Keep the console to progress, warnings and the final summary (`--quiet`); the JSON log in
    the run directory still receives every event. Holds for the process, across `configure` calls."""
    global _quiet
    _quiet = quiet


def get(name: str | None = None) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name) if name else structlog.get_logger()
