"""The `dgm` command line.

Sub-commands live in `dgm/commands/<name>.py`; this module only wires them into argparse and turns
`DgmError` into one line on stderr with a non-zero exit (no traceback for user mistakes).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from dgm.errors import DgmError

# Name on the command line -> module under dgm.commands. Order is the order in `dgm --help`.
COMMANDS: dict[str, str] = {
    "demo": "demo",
    "run": "run",
    "resume": "resume",
    "stop": "stop",
    "replay": "replay",
    "eval": "eval",
    "doctor": "doctor",
    "sandbox": "sandbox",
    "archive": "archive",
    "serve": "serve",
    "agent": "agent",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dgm",
        description="Darwin Gödel Machines: evolve self-improving coding agents in hardened sandboxes.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(f"dgm.commands.{module_name}")
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.add_argument("--quiet", action="store_true",
                             help="console: only progress, warnings and the final summary (the run's JSON log is unchanged)")
        command.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    args = build_parser().parse_args(argv)
    from dgm import log  # structlog: not needed to print help

    log.set_quiet(args.quiet)
    log.configure(None)
    try:
        return int(args._run(args) or 0)
    except DgmError as err:
        print(f"dgm: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("dgm: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`dgm archive ls --json | head`): stop quietly, like other Unix tools.
        # stdout is pointed at /dev/null so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
