"""`dgm sandbox build|check|prune`: the sandbox image and its leftovers."""

from __future__ import annotations

import argparse

HELP = "build the sandbox image, check the sandbox's hardening, prune leftover containers"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True
    sub.add_parser("build", help="build the sandbox image (no-op when the recipe is unchanged)")


def run(args: argparse.Namespace) -> int:
    raise NotImplementedError(args.action)
