"""The settings the worker understands, their types and defaults."""

from __future__ import annotations

from typing import Any, Callable

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off"}


def parse_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in TRUE:
        return True
    if lowered in FALSE:
        return False
    raise ValueError(text)


def parse_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


# "section.key" -> (parser, default, human name of the type)
SCHEMA: dict[str, tuple[Callable[[str], Any], Any, str]] = {
    "server.host": (str, "127.0.0.1", "a host name"),
    "server.port": (int, 8080, "an integer"),
    "server.debug": (parse_bool, False, "a boolean (true/false/yes/no/on/off/1/0)"),
    "worker.concurrency": (int, 4, "an integer"),
    "worker.timeout": (float, 30.0, "a number of seconds"),
    "worker.queues": (parse_list, ["default"], "a comma-separated list"),
}


def defaults() -> dict[str, Any]:
    return {key: default for key, (_, default, _) in SCHEMA.items()}


def coerce(key: str, raw: str) -> Any:
    """The typed value of `raw` for setting `key`; unknown keys are kept as plain strings."""
    if key not in SCHEMA:
        return raw
    parser, _, _ = SCHEMA[key]
    return parser(raw)
