"""Typed settings for the worker service, read from an INI-like file."""

from appconfig.errors import ConfigError, ConfigNotFoundError, ConfigSyntaxError, ConfigValueError
from appconfig.loader import load_config

__all__ = ["ConfigError", "ConfigNotFoundError", "ConfigSyntaxError", "ConfigValueError", "load_config"]
