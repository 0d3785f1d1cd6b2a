"""`dgm doctor`: check that this machine can run a DGM."""

from __future__ import annotations

import argparse

HELP = "check Docker, the sandbox image, disk space and API keys"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="run configuration (YAML) whose models need API keys")


def run(args: argparse.Namespace) -> int:
    raise NotImplementedError("doctor")
