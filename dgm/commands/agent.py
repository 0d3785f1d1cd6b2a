"""`dgm agent checkout RUN_DIR ID DEST`: one agent of a run as a standalone directory.

DEST holds exactly the agent's source tree (its commit in agents.git, nothing added), so it runs
anywhere an agent directory is accepted: `dgm eval --agent DEST`, or as the seed of a new run.
Reading the run is read-only, safe beside a live run.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "work with one agent of a run: check it out as a standalone directory"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True
    checkout = sub.add_parser("checkout", help="write an agent's source into DEST (new or empty)",
                              description="write an agent's source into DEST (new or empty)")
    checkout.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    checkout.add_argument("agent", metavar="ID")
    checkout.add_argument("dest", type=Path, metavar="DEST")


def checkout(run_dir: Path, agent_id: str, dest: Path) -> str:
    """Materialise `agent_id` into `dest`; returns its commit. Refuses a non-empty `dest`."""
    from dgm.archive.store import RunStore
    from dgm.errors import DgmError

    if dest.exists() and not dest.is_dir():
        raise DgmError(f"{dest} is a file; expected a new or empty directory for the agent")
    if dest.is_dir() and any(dest.iterdir()):
        raise DgmError(f"{dest} is not empty; expected a new or empty directory for the agent")
    with RunStore.open(run_dir, readonly=True) as store:
        commit = store.agent(agent_id).commit
        store.checkout(agent_id, dest)
    return commit


def run(args: argparse.Namespace) -> int:
    commit = checkout(args.run_dir, args.agent, args.dest)
    print(f"checked out {args.agent} (commit {commit[:12]}) into {args.dest}")
    if not (args.dest / "main.py").is_file():
        print(f"note: {args.dest} has no main.py, so it does not follow the agent contract")
    print(f"evaluate it with `dgm eval --agent {args.dest}`")
    return 0
