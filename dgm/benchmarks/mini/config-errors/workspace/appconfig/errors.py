"""Errors of the settings loader.

The service's entry point catches `ConfigError` and prints its message as one line, so every
problem with the file must surface as one of these (never a bare OSError/ValueError traceback).
"""

from __future__ import annotations


class ConfigError(Exception):
    """Base class: the settings file cannot be used."""


class ConfigNotFoundError(ConfigError):
    """The settings file does not exist."""

    def __init__(self, path: str) -> None:
        super().__init__(f"settings file not found: {path}")
        self.path = path


class ConfigSyntaxError(ConfigError):
    """A line is neither a section header, a comment, nor `key = value`."""

    def __init__(self, path: str, line_no: int, line: str) -> None:
        super().__init__(f"{path}:{line_no}: expected 'key = value' or '[section]', got {line!r}")
        self.path = path
        self.line_no = line_no


class ConfigValueError(ConfigError):
    """A value does not have the type the schema asks for."""

    def __init__(self, key: str, value: str, expected: str) -> None:
        super().__init__(f"{key}: expected {expected}, got {value!r}")
        self.key = key
        self.value = value
