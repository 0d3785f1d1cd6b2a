"""`dgm resume RUN_DIR`: continue an interrupted or extended run."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "continue a run (after a crash or stop; --set may extend generations or budgets)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="extend the run, e.g. --set loop.generations=10 or --set budget.max_dollars=50")


def run(args: argparse.Namespace) -> int:
    from dgm.commands._report import print_outcome
    from dgm.loop import session

    outcome = session.resume(args.run_dir, args.overrides)
    return print_outcome(args.run_dir, outcome)
