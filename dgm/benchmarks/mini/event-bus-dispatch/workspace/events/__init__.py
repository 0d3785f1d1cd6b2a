"""In-process publish/subscribe used by the desktop app's plugins."""

from events.bus import EventBus
from events.registry import Subscription

__all__ = ["EventBus", "Subscription"]
