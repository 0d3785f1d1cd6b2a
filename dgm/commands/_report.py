"""What run-like commands print when they end: the archive and where the run lives."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def print_outcome(run_dir: Path, outcome: Any) -> None:
    from dgm.commands.archive import print_agents

    print_agents(run_dir)
    print(f"run ended ({outcome.reason}) after {outcome.generations_done} generation(s): {run_dir}")
    print(f"inspect it with `dgm archive ls {run_dir}`; continue it with `dgm resume {run_dir}`")
