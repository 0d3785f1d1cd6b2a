import pytest

from lru import LRUCache


def test_evicts_least_recently_put():
    cache = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("c", 3)
    assert "a" not in cache and list(cache.keys()) == ["c", "b"]


def test_get_counts_as_use():
    evicted = []
    cache = LRUCache(2, on_evict=lambda k, v: evicted.append((k, v)))
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)
    assert evicted == [("b", 2)]
    assert list(cache.keys()) == ["c", "a"]


def test_missing_get_changes_nothing():
    cache = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("zzz", "default") == "default"
    assert list(cache.keys()) == ["b", "a"]


def test_put_existing_replaces_without_eviction():
    evicted = []
    cache = LRUCache(2, on_evict=lambda k, v: evicted.append((k, v)))
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("a", 10)
    assert evicted == []
    assert len(cache) == 2
    assert list(cache.keys()) == ["a", "b"]
    assert cache.get("a") == 10
    cache.put("c", 3)
    assert evicted == [("b", 2)]


def test_repeated_puts_never_duplicate():
    evicted = []
    cache = LRUCache(3, on_evict=lambda k, v: evicted.append(k))
    for i in range(10):
        cache.put("hot", i)
    cache.put("x", 0)
    cache.put("y", 0)
    assert evicted == []
    assert sorted(cache.keys()) == ["hot", "x", "y"]
    assert cache.get("hot") == 9


def test_pop_and_capacity_validation():
    cache = LRUCache(1)
    cache.put("a", 1)
    assert cache.pop("a") == 1 and len(cache) == 0
    with pytest.raises(KeyError):
        cache.pop("a")
    with pytest.raises(ValueError):
        LRUCache(0)


def test_mixed_workload_matches_reference():
    cache = LRUCache(3)
    reference = []  # most recent first
    ops = [("p", 1), ("p", 2), ("g", 1), ("p", 3), ("p", 2), ("p", 4), ("g", 3), ("g", 9), ("p", 5), ("g", 2), ("p", 1)]
    for op, key in ops:
        if op == "p":
            cache.put(key, key * 10)
            if key in reference:
                reference.remove(key)
            reference.insert(0, key)
            del reference[3:]
        elif key in reference:
            assert cache.get(key) == key * 10
            reference.remove(key)
            reference.insert(0, key)
        else:
            assert cache.get(key) is None
        assert list(cache.keys()) == reference
