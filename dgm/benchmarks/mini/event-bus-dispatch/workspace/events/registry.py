"""Who listens to what, in the order they must be called."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Callable

Handler = Callable[..., Any]

_ids = itertools.count(1)


@dataclass(eq=False)
class Subscription:
    topic: str
    handler: Handler
    priority: int = 0
    once: bool = False
    id: int = field(default_factory=lambda: next(_ids))
    active: bool = True


class Registry:
    """Subscriptions per topic, kept in call order: higher priority first, and among equal
    priorities in the order they subscribed."""

    def __init__(self) -> None:
        self._by_topic: dict[str, list[Subscription]] = {}

    def add(self, sub: Subscription) -> Subscription:
        subs = self._by_topic.setdefault(sub.topic, [])
        subs.append(sub)
        subs.sort(key=lambda s: s.priority)
        return sub

    def remove(self, sub: Subscription) -> None:
        sub.active = False
        subs = self._by_topic.get(sub.topic, [])
        if sub in subs:
            subs.remove(sub)

    def for_topic(self, topic: str) -> list[Subscription]:
        return self._by_topic.get(topic, [])

    def topics(self) -> list[str]:
        return sorted(t for t, subs in self._by_topic.items() if subs)
