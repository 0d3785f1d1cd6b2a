"""`dgm replay RUN_DIR --out DIR [--verify]`: re-run from the recorded model calls."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "re-run a recorded run offline from its recorded model calls (--verify: require an identical archive)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="new run directory for the replay")
    parser.add_argument("--verify", action="store_true",
                        help="exit non-zero unless agents, diffs, statuses and scores are identical")


def run(args: argparse.Namespace) -> int:
    from dgm.commands._report import print_outcome
    from dgm.loop import session
    from dgm.loop.compare import compare_runs

    outcome, divergences = session.replay(args.run_dir, args.out)
    print_outcome(args.out, outcome)
    for divergence in divergences:
        print(f"divergence: {divergence}", file=sys.stderr)
    if not args.verify:
        return 0
    differences = compare_runs(args.run_dir, args.out)
    if differences or divergences:
        for line in differences:
            print(f"differs: {line}", file=sys.stderr)
        print(f"replay verification FAILED: {len(differences)} archive differences, {len(divergences)} divergent calls",
              file=sys.stderr)
        return 1
    print("replay verified: the archive is identical (agents, diffs, statuses, scores)")
    return 0
