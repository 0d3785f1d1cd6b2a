"""A very small template language for notification e-mails.

    Hello {{ user.name|title }}, your order {{order.id}} ships {{ when|default:soon }}.

`{{ expr }}` is replaced by the value of `expr`: a name looked up in the context, optionally
followed by `.attr` parts (dict keys or object attributes) and `|filter` or `|filter:arg` parts.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Mapping


class TemplateError(Exception):
    """The template cannot be rendered with this context."""


FILTERS: dict[str, Callable[..., str]] = {
    "upper": lambda value: str(value).upper(),
    "lower": lambda value: str(value).lower(),
    "title": lambda value: str(value).title(),
    "default": lambda value, fallback="": str(value) if value not in (None, "") else fallback,
    "money": lambda value: f"{value / 100:,.2f}",
}

_TAG = re.compile(r"\{\{(\w+(?:\.\w+)*)((?:\|\w+(?::[^|}]*)?)*)\}\}")


def _lookup(context: Mapping[str, Any], dotted: str) -> Any:
    value: Any = context
    for part in dotted.split("."):
        if isinstance(value, Mapping):
            value = value.get(part)
        else:
            value = getattr(value, part, None)
    return value


def _apply(value: Any, filters: str) -> str:
    for spec in filter(None, filters.split("|")):
        name, _, arg = spec.partition(":")
        func = FILTERS[name]
        value = func(value, arg) if arg else func(value)
    return str(value)


def render(template: str, context: Mapping[str, Any]) -> str:
    return _TAG.sub(lambda m: _apply(_lookup(context, m.group(1)), m.group(2)), template)
