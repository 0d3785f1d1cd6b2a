"""`dgm archive ls|check` through the real CLI entry point."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from dgm.cli import main


@pytest.fixture
def run_dir(small_run: Path) -> Path:
    return small_run


def ls_json(run_dir: Path, capsys: pytest.CaptureFixture[str], *args: str) -> list[dict]:
    assert main(["archive", "ls", str(run_dir), "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_ls_json(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = ls_json(run_dir, capsys)
    assert [row["id"] for row in rows] == ["g0c0", "g1c0", "g1c1", "g2c0"]
    seed, first, second, invalid = rows
    assert (seed["parent"], seed["children"], seed["score"], seed["eligible"]) == (None, 1, 0.3, True)
    assert first["stages"] == [{"resolved": 5, "total": 10}, {"resolved": 30, "total": 50}]
    assert first["score"] == pytest.approx(35 / 60)
    assert (first["children"], first["cost"], first["tokens"], first["admitted"]) == (0, 0.5, 100, True)
    assert (second["admitted"], second["eligible"]) == (False, False)
    assert (invalid["status"], invalid["invalid_reason"], invalid["score"]) == ("invalid", "empty patch", None)
    assert len(first["commit"]) == 40


def test_ls_sort_and_filter(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert [row["id"] for row in ls_json(run_dir, capsys, "--sort", "score")] == ["g1c1", "g1c0", "g0c0", "g2c0"]
    assert [row["id"] for row in ls_json(run_dir, capsys, "--status", "invalid")] == ["g2c0"]


def test_ls_table(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["archive", "ls", str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert "(4 agents)" in out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith(" g")}
    # Nothing is cut to fit a narrow (80-column) terminal.
    assert rows["g1c0"] == ["g1c0", "g0c0", "1", "evaluated", "yes", "5/10", "30/50", "0.583", "60", "[0.46,", "0.70]", "0",
                            "$0.50"]
    assert rows["g1c1"] == ["g1c1", "g0c0", "1", "evaluated", "no", "9/10", "40/50", "0.817", "60", "[0.70,", "0.89]", "0",
                            "$1.00"]
    assert rows["g2c0"] == ["g2c0", "g1c0", "2", "invalid", "no", "-", "-", "0", "-", "0", "$0.00"]


def test_check_clean_then_broken(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["archive", "check", str(run_dir)]) == 0
    assert capsys.readouterr().out.strip() == f"ok: {run_dir}"
    conn = sqlite3.connect(run_dir / "run.db")
    conn.execute("UPDATE agents SET commit_sha = ? WHERE id = 'g1c1'", ("a" * 40,))
    conn.commit()
    conn.close()
    assert main(["archive", "check", str(run_dir)]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == [f"missing_commit: g1c1: commit {'a' * 40} is not in agents.git", f"1 problem in {run_dir}"]


def test_not_a_run_is_one_line(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "dgm.cli", "archive", "ls", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"dgm: error: {tmp_path} is not a dgm run (missing config.yaml, run.db, agents.git); "
        "expected a directory made by `dgm run`"
    ]


def test_archive_command_imports_no_heavy_modules() -> None:
    code = ("import argparse, sys; from dgm.commands import archive; archive.add_arguments(argparse.ArgumentParser()); "
            "heavy = sorted(m for m in ('git', 'docker', 'litellm', 'rich') if m in sys.modules); "
            "assert not heavy, heavy")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
