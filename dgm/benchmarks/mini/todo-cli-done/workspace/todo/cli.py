"""Command line: `python -m todo [--file PATH] add TEXT | list`."""

from __future__ import annotations

import argparse
from pathlib import Path

from todo.store import Store

DEFAULT_FILE = Path.home() / ".todo.json"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="todo", description="A small to-do list.")
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE, help="the to-do file")
    commands = parser.add_subparsers(dest="command", required=True)

    add = commands.add_parser("add", help="add an item")
    add.add_argument("text", nargs="+", help="what to do")

    commands.add_parser("list", help="show the items")
    return parser


def cmd_add(store: Store, args: argparse.Namespace) -> int:
    item = store.add(" ".join(args.text))
    print(f"added #{item.id}: {item.text}")
    return 0


def cmd_list(store: Store, args: argparse.Namespace) -> int:
    items = store.load()
    if not items:
        print("nothing to do")
    for item in items:
        print(f"{item.id:>3}. {item.text}")
    return 0


COMMANDS = {"add": cmd_add, "list": cmd_list}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return COMMANDS[args.command](Store(args.file), args)
