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
    build.add_argument("--languages", metavar="LIST",
                       help="also the Polyglot language images: 'all' or e.g. go,rust (cpp, go, java, javascript, python, rust)")
    build.set_defaults(method="auto")
    check = sub.add_parser("check", help="run the hardening conformance checks against the live daemon")
    check.add_argument("--image", help="image to check (default: the current recipe's tag)")
    prune = sub.add_parser("prune", help="remove leftover sandbox containers (found by their dgm.run label)")
    prune.add_argument("--run", help="only this run's containers (default: every run's)")


def _build(args: argparse.Namespace) -> int:
    from dgm.sandbox import image

    wanted: list[str] = []
    if args.languages is not None:
        from dgm.sandbox import languages

        wanted = languages.parse_languages(args.languages)
    result = image.build(args.method, force=args.force)
    verb = f"built with the {result.method} recipe" if result.built else "already present"
    print(f"{result.tag} {verb}")
    for language in wanted:
        if language == "python":
            continue
        done = languages.build(language, force=args.force)
        print(f"{done.tag} {'built in %.0f s' % done.seconds if done.built else 'already present'}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from dgm.sandbox import conformance

    results = conformance.run_all(image=args.image)
    table = Table(title="sandbox conformance")
    table.add_column("check")
    table.add_column("result")
    table.add_column("observed")
    for title, outcome in results:
        table.add_row(title, "[green]pass[/]" if outcome.ok else "[red]FAIL[/]", outcome.detail)
    Console().print(table)
    failed = sum(not outcome.ok for _, outcome in results)
    if failed:
        print(f"{failed} of {len(results)} checks failed")
        return 1
    return 0


def _prune(args: argparse.Namespace) -> int:
    from dgm.sandbox.prune import prune

    removed = prune(args.run)
    scope = f"run {args.run}" if args.run else "all runs"
    print(f"removed {removed} sandbox container{'s' if removed != 1 else ''} ({scope})")
    return 0


def run(args: argparse.Namespace) -> int:
    return {"build": _build, "check": _check, "prune": _prune}[args.action](args)
