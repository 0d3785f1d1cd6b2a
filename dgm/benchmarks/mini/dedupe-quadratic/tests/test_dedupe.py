import json
import signal

import pytest

from logtools.compact import compact
from logtools.dedupe import count_duplicates, dedupe

LIMIT_SECONDS = 5  # the fixed version needs about 0.1 s; the quadratic one needs minutes


class Expired(Exception):
    pass


def within(seconds, what, fn, *args, **kwargs):
    """fn(*args, **kwargs), failing the test (instead of running for minutes) after `seconds`."""

    def expire(signum, frame):
        raise Expired()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn(*args, **kwargs)
    except Expired:
        pass
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    pytest.fail(f"{what} took longer than {seconds} s", pytrace=False)


def events(n):
    # every event twice, the repeats in a shifted order
    base = [{"id": f"evt-{i:06d}", "ts": i, "tags": ["a", str(i % 7)]} for i in range(n)]
    repeats = [dict(e) for e in base[n // 2:] + base[: n // 2]]
    return base + repeats


def test_first_occurrence_wins_in_order():
    a1, b, a2, c = {"id": 1, "v": "x"}, {"id": 2}, {"id": 1, "v": "y"}, {"id": 3}
    out = dedupe([a1, b, a2, c], key=lambda r: r["id"])
    assert out == [a1, b, c]
    assert out[0] is a1


def test_content_equality_ignores_key_order():
    r1 = {"a": 1, "b": [1, {"x": 2}]}
    r2 = {"b": [1, {"x": 2}], "a": 1}
    r3 = {"a": 1, "b": [1, {"x": 3}]}
    assert dedupe([r1, r2, r3]) == [r1, r3]


def test_count_duplicates():
    assert count_duplicates(events(50), key=lambda r: r["id"]) == 50
    assert count_duplicates(events(50)) == 50


def test_large_input_with_key_is_fast():
    data = events(100_000)
    out = within(LIMIT_SECONDS, "dedupe of 200k records by key", dedupe, data, key=lambda r: r["id"])
    assert len(out) == 100_000
    assert out[0]["id"] == "evt-000000" and out[-1]["id"] == "evt-099999"


def test_large_input_without_key_is_fast():
    data = events(40_000)
    out = within(LIMIT_SECONDS, "dedupe of 80k records by content", dedupe, data)
    assert len(out) == 40_000


def test_compact_file(tmp_path):
    src, dest = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("".join(json.dumps(e) + "\n" for e in reversed(events(20))))
    assert compact(src, dest) == (40, 20)
    written = [json.loads(line) for line in dest.read_text().splitlines()]
    assert [e["ts"] for e in written] == list(range(20))
