"""`dgm sandbox build|check|prune`: the sandbox image, its hardening, and leftover containers."""

from __future__ import annotations

import argparse

HELP = "build the sandbox image, check the sandbox's hardening, prune leftover containers"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True
    build = sub.add_parser("build", help="build the sandbox image (a no-op when the recipe is unchanged)")
    how = build.add_mutually_exclusive_group()
    how.add_argument("--offline", dest="method", action="store_const", const="offline",
                     help="debootstrap from the Debian mirror and `docker import` (needs root and debootstrap)")
    how.add_argument("--dockerfile", dest="method", action="store_const", const="dockerfile",
                     help="docker build sandbox/Dockerfile (needs the base image or a registry)")
    build.add_argument("--force", action="store_true", help="rebuild even when the tag exists")
    build.set_defaults(method="auto")


def _build(args: argparse.Namespace) -> int:
    from dgm.sandbox import image

    result = image.build(args.method, force=args.force)
    verb = f"built with the {result.method} recipe" if result.built else "already present"
    print(f"{result.tag} {verb}")
    return 0


def run(args: argparse.Namespace) -> int:
    return {"build": _build}[args.action](args)
