"""The event bus: plugins subscribe handlers to topics, the app emits events."""

from __future__ import annotations

from typing import Any

from events.registry import Handler, Registry, Subscription


class EventBus:
    def __init__(self) -> None:
        self._registry = Registry()

    def subscribe(self, topic: str, handler: Handler, priority: int = 0, once: bool = False) -> Subscription:
        """Call `handler(**payload)` on every `emit(topic, ...)`; `once` handlers are removed
        after their first call. Returns the subscription (pass it to `unsubscribe`)."""
        return self._registry.add(Subscription(topic, handler, priority, once))

    def unsubscribe(self, sub: Subscription) -> None:
        """Stop calling `sub`. Safe to call from inside a handler, and more than once."""
        self._registry.remove(sub)

    def emit(self, topic: str, **payload: Any) -> list[Any]:
        """Call the topic's handlers in priority order; returns their return values in call order.

        Handlers subscribed while an emit is running are not called by that emit.
        """
        results = []
        for sub in self._registry.for_topic(topic):
            if sub.once:
                self.unsubscribe(sub)
            results.append(sub.handler(**payload))
        return results

    def topics(self) -> list[str]:
        return self._registry.topics()
