"""What run-like commands print when they end: the archive and where the run lives."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def print_outcome(run_dir: Path, outcome: Any) -> int:
    """Print the end of a run; the exit code: 2 when the run stopped because its model cannot be
    used (a set-up failure the user must fix before `dgm resume`), else 0."""
    import sys

    from dgm.commands.archive import print_agents

    print_agents(run_dir)
    done = (f"{outcome.generations_done} generation(s)" if outcome.units_done is None
            else f"{outcome.units_done} unit(s) of work")
    print(f"run ended ({outcome.reason}) after {done}: {run_dir}")
    print(f"inspect it with `dgm archive ls {run_dir}`; continue it with `dgm resume {run_dir}`")
    if outcome.reason == "model_unavailable":
        print(f"error: the run stopped: {outcome.detail}; fix it, then `dgm resume {run_dir}` continues "
              "where it stopped", file=sys.stderr)
        return 2
    return 0
