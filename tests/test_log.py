"""Logging writes JSON lines into the run directory and readable lines to the console."""

from __future__ import annotations

import io
import json
from pathlib import Path

from dgm import log


def test_json_file_and_console(tmp_path: Path) -> None:
    console = io.StringIO()
    log.configure(tmp_path, stream=console)
    log.get("t").info("generation_started", generation=3)
    log.configure(None)  # closes the file
    records = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert records[-1]["event"] == "generation_started"
    assert records[-1]["generation"] == 3 and records[-1]["level"] == "info"
    assert "generation_started" in console.getvalue() and "generation=3" in console.getvalue()
