import random
import signal

import pytest

from metrics.rollup import rollup
from metrics.series import Series

LIMIT_SECONDS = 5  # the fixed version needs about 0.1 s; the linear scans need minutes


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


def small():
    return Series.from_points("s", [(1.0, 10), (2.0, 20), (2.0, 21), (3.5, 35), (5.0, 50)])


def test_window_bounds():
    s = small()
    assert s.window(2.0, 5.0) == [20, 21, 35]
    assert s.window(0, 100) == [10, 20, 21, 35, 50]
    assert s.window(5.0, 5.0) == []
    assert s.window(4, 2) == []
    assert s.window(5.0, 5.1) == [50]
    assert s.count(1.5, 3.5) == 2


def test_append_in_order_and_late():
    s = small()
    s.append(6.0, 60)
    s.append(2.0, 22)
    s.append(0.5, 5)
    assert s.times == [0.5, 1.0, 2.0, 2.0, 2.0, 3.5, 5.0, 6.0]
    assert s.window(2.0, 2.5) == [20, 21, 22]
    assert s.window(0, 1) == [5]


def test_rollup_values():
    s = small()
    rows = rollup(s, 0.0, 6.0, 2.0)
    assert [r["count"] for r in rows] == [1, 3, 1]
    assert rows[1]["sum"] == 76 and rows[1]["min"] == 20 and rows[1]["max"] == 35
    assert rows[0]["mean"] == 10


def test_rollup_of_many_buckets_is_fast():
    rng = random.Random(1)
    points = [(i + rng.random(), float(i % 97)) for i in range(300_000)]
    series = Series.from_points("busy", points)
    rows = within(LIMIT_SECONDS, "rollup of 10k buckets over 300k points", rollup, series, 0.0, 300_000.0, 30.0)
    assert len(rows) == 10_000
    assert sum(r["count"] for r in rows) == 300_000
    assert all(r["count"] == 30 for r in rows)
