import pytest

from scheduler import JobQueue, QueueEmpty
from worker import drain


def names(queue):
    out = []
    while True:
        try:
            out.append(queue.pop().name)
        except QueueEmpty:
            return out


def test_priority_then_fifo():
    q = JobQueue()
    q.submit("a", 1)
    q.submit("b", 5)
    q.submit("c", 1)
    q.submit("d", 5)
    q.submit("e")
    assert names(q) == ["b", "d", "a", "c", "e"]


def test_uncomparable_payloads():
    q = JobQueue()
    q.submit("x", 0, data={"k": 1})
    q.submit("y", 0, data={"k": 2})
    assert [q.pop().payload["data"]["k"], q.pop().payload["data"]["k"]] == [1, 2]


def test_cancel():
    q = JobQueue()
    a = q.submit("a", 3)
    q.submit("b", 2)
    c = q.submit("c", 1)
    assert q.cancel(a.id) is True
    assert q.cancel(a.id) is False
    assert len(q) == 2
    assert q.peek().name == "b"
    assert q.cancel(c.id)
    assert names(q) == ["b"]
    assert q.cancel(999) is False


def test_cancel_everything_then_empty():
    q = JobQueue()
    jobs = [q.submit(str(i), i % 3) for i in range(10)]
    for job in jobs:
        q.cancel(job.id)
    assert len(q) == 0
    with pytest.raises(QueueEmpty):
        q.peek()
    with pytest.raises(QueueEmpty):
        q.pop()


def test_reprioritize():
    q = JobQueue()
    a = q.submit("a", 1)
    q.submit("b", 5)
    q.submit("c", 5)
    d = q.submit("d", 1)
    q.reprioritize(d.id, 9)
    q.reprioritize(a.id, 5)
    assert names(q) == ["d", "a", "b", "c"]


def test_reprioritize_not_waiting():
    q = JobQueue()
    a = q.submit("a")
    q.pop()
    with pytest.raises(KeyError):
        q.reprioritize(a.id, 3)


def test_drain_and_len():
    q = JobQueue()
    q.submit("add", 1, a=1, b=2)
    q.submit("mul", 2, a=3, b=4)
    q.submit("add", 1, a=5, b=6)
    assert len(q) == 3
    assert drain(q, {"add": lambda a, b: a + b, "mul": lambda a, b: a * b}) == [("mul", 12), ("add", 3), ("add", 11)]
    assert len(q) == 0


def test_many_jobs_with_cancels():
    q = JobQueue()
    jobs = [q.submit(f"j{i}", i % 10) for i in range(20_000)]
    for job in jobs[::3]:
        q.cancel(job.id)
    for job in jobs[1::3]:
        q.reprioritize(job.id, 10)
    order = names(q)
    expected = [j.name for j in jobs[1::3]] + [
        j.name for p in range(9, -1, -1) for j in jobs if j.priority == p and int(j.name[1:]) % 3 == 2
    ]
    assert order == expected
