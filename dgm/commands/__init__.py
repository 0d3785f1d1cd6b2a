"""CLI sub-commands, one module each.

A command module exposes `HELP` (one line), `add_arguments(parser)` and `run(args) -> int`. It
must not import litellm or docker at module level: `dgm --help` imports every command module to
build the parser and has to start fast. Heavy imports go inside `run`.
"""
