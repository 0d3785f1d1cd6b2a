"""`dgm stop RUN_DIR`: ask a live run to stop after its in-flight work."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "ask a running run to finish its in-flight work and stop"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", type=Path)


def run(args: argparse.Namespace) -> int:
    from dgm.loop import session

    session.request_stop(args.run_dir)
    print(f"stop requested: {args.run_dir} stops before its next generation (an async run: its next unit of work, once the running ones finish); continue later with `dgm resume {args.run_dir}`")
    return 0
