"""Console behaviour of the CLI: a closed pipe ends quietly; --quiet keeps the console short."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def test_archive_ls_json_into_a_closed_pipe_ends_quietly(small_run: Path) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before dgm writes a byte (`| head` that already quit)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "dgm", "archive", "ls", "--json", str(small_run)],
                          stdout=write_end, stderr=subprocess.PIPE, text=True, env=env, timeout=60)
    os.close(write_end)
    assert done.stderr == ""  # no BrokenPipeError traceback, no "Exception ignored" line
    assert done.returncode == 141


def test_quiet_keeps_info_events_out_of_the_console_but_in_the_json_log(tmp_path: Path, capsys) -> None:
    from dgm import log

    try:
        log.set_quiet(True)
        log.configure(tmp_path)
        log.get("t").info("generation finished", generation=1)
        log.get("t").warning("sandbox retried")
        log.configure(None)
    finally:
        log.set_quiet(False)
    console = capsys.readouterr().err
    assert "sandbox retried" in console and "generation finished" not in console
    lines = (tmp_path / "log.jsonl").read_text(encoding="utf-8")
    assert "generation finished" in lines and "sandbox retried" in lines
