from events import EventBus


def recorder(calls, name, result=None):
    def handler(**payload):
        calls.append(name)
        return result if result is not None else name
    return handler


def test_priority_order_high_first_then_fifo():
    bus, calls = EventBus(), []
    bus.subscribe("save", recorder(calls, "low"), priority=-5)
    bus.subscribe("save", recorder(calls, "a"))
    bus.subscribe("save", recorder(calls, "high"), priority=10)
    bus.subscribe("save", recorder(calls, "b"))
    assert bus.emit("save") == ["high", "a", "b", "low"]


def test_once_handler_does_not_skip_next():
    bus, calls = EventBus(), []
    bus.subscribe("x", recorder(calls, "A"), once=True)
    bus.subscribe("x", recorder(calls, "B"))
    bus.subscribe("x", recorder(calls, "C"))
    bus.emit("x")
    bus.emit("x")
    assert calls == ["A", "B", "C", "B", "C"]


def test_self_unsubscribe_does_not_skip_next():
    bus, calls = EventBus(), []
    subs = {}

    def leaving(**payload):
        calls.append("leaving")
        bus.unsubscribe(subs["leaving"])

    subs["leaving"] = bus.subscribe("x", leaving)
    bus.subscribe("x", recorder(calls, "next"))
    bus.emit("x")
    bus.emit("x")
    assert calls == ["leaving", "next", "next"]


def test_unsubscribed_before_its_turn_does_not_run():
    bus, calls = EventBus(), []
    subs = {}

    def killer(**payload):
        calls.append("killer")
        bus.unsubscribe(subs["victim"])

    bus.subscribe("x", killer)
    subs["victim"] = bus.subscribe("x", recorder(calls, "victim"))
    bus.subscribe("x", recorder(calls, "after"))
    bus.emit("x")
    assert calls == ["killer", "after"]


def test_subscribed_during_emit_runs_next_time():
    bus, calls = EventBus(), []

    def adder(**payload):
        calls.append("adder")
        if len(calls) == 1:
            bus.subscribe("x", recorder(calls, "late"))

    bus.subscribe("x", adder)
    bus.emit("x")
    assert calls == ["adder"]
    bus.emit("x")
    assert calls == ["adder", "adder", "late"]


def test_once_reentrant_emit_runs_once():
    bus, calls = EventBus(), []

    def once(**payload):
        calls.append("once")
        bus.emit("x")

    bus.subscribe("x", once, once=True)
    bus.emit("x")
    bus.emit("x")
    assert calls == ["once"]


def test_payload_and_topics():
    bus = EventBus()
    bus.subscribe("sum", lambda a, b: a + b)
    sub = bus.subscribe("other", lambda: None)
    assert bus.emit("sum", a=2, b=3) == [5]
    assert bus.topics() == ["other", "sum"]
    bus.unsubscribe(sub)
    bus.unsubscribe(sub)
    assert bus.topics() == ["sum"]
    assert bus.emit("nobody") == []
