"""A bounded least-recently-used cache for the thumbnail service.

Hand-rolled (hash map + doubly linked list) rather than functools.lru_cache because entries are
put explicitly, evictions must be reported to the caller (it deletes the file behind the entry),
and the capacity is in bytes-ish "cost" units in a later version.
"""

from __future__ import annotations

from typing import Callable, Generic, Hashable, Iterator, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Node(Generic[K, V]):
    __slots__ = ("key", "value", "prev", "next")

    def __init__(self, key: K, value: V) -> None:
        self.key = key
        self.value = value
        self.prev: _Node | None = None
        self.next: _Node | None = None


class LRUCache(Generic[K, V]):
    """At most `capacity` entries; putting into a full cache evicts the least recently used one.

    "Used" means put or successfully got. `on_evict(key, value)` is called for every eviction.
    """

    def __init__(self, capacity: int, on_evict: Callable[[K, V], None] | None = None) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.capacity = capacity
        self.on_evict = on_evict
        self._map: dict[K, _Node[K, V]] = {}
        # sentinels: head.next is the most recently used entry, tail.prev the least
        self._head: _Node = _Node(None, None)
        self._tail: _Node = _Node(None, None)
        self._head.next = self._tail
        self._tail.prev = self._head

    def __len__(self) -> int:
        return len(self._map)

    def __contains__(self, key: object) -> bool:
        return key in self._map

    def get(self, key: K, default: V | None = None) -> V | None:
        node = self._map.get(key)
        if node is None:
            return default
        return node.value

    def put(self, key: K, value: V) -> None:
        node = _Node(key, value)
        self._map[key] = node
        self._push_front(node)
        if len(self._map) > self.capacity:
            self._evict()

    def pop(self, key: K) -> V:
        node = self._map.pop(key)
        self._unlink(node)
        return node.value

    def keys(self) -> Iterator[K]:
        """Keys from most to least recently used."""
        node = self._head.next
        while node is not self._tail:
            yield node.key
            node = node.next

    def _evict(self) -> None:
        oldest = self._tail.prev
        self._unlink(oldest)
        del self._map[oldest.key]
        if self.on_evict is not None:
            self.on_evict(oldest.key, oldest.value)

    def _push_front(self, node: _Node) -> None:
        node.prev, node.next = self._head, self._head.next
        self._head.next.prev = node
        self._head.next = node

    def _unlink(self, node: _Node) -> None:
        node.prev.next = node.next
        node.next.prev = node.prev
        node.prev = node.next = None
