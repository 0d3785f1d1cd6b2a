"""Errors a user sees as one line.

`DgmError` and its subclasses carry a message that already names what is wrong and what was
expected; the CLI prints it without a traceback and exits non-zero.
"""


class DgmError(Exception):
    """A failure the user can act on; its message is printed as a single line."""

    exit_code = 2


class ConfigError(DgmError):
    """The run configuration is missing, malformed or invalid."""
