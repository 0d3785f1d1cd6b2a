import pytest

from buildplan import errors
from buildplan.graph import build_order
from buildplan.plan import plan

BUILD = """
app: lib web   # the binary
web: lib
lib: util
util:
docs:
"""


def test_valid_order_unchanged():
    assert plan(BUILD) == ["1. build util", "2. build lib", "3. build web", "4. build app", "5. build docs"]
    assert build_order({"b": ["a"], "a": [], "c": ["a"]}, ["c"]) == ["a", "c"]


def test_error_classes():
    assert issubclass(errors.CycleError, errors.PlanError)
    assert issubclass(errors.UnknownTarget, errors.PlanError)


def test_two_node_cycle():
    graph = {"app": ["lib"], "lib": ["util"], "util": ["lib"]}
    with pytest.raises(errors.CycleError) as info:
        build_order(graph)
    assert info.value.cycle == ["lib", "util", "lib"]
    assert "lib -> util -> lib" in str(info.value)


def test_self_dependency():
    with pytest.raises(errors.CycleError) as info:
        build_order({"x": ["x"]})
    assert info.value.cycle == ["x", "x"]


def test_longer_cycle_via_plan():
    text = "a: b\nb: c\nc: d\nd: b\ne:\n"
    with pytest.raises(errors.CycleError) as info:
        plan(text)
    assert info.value.cycle == ["b", "c", "d", "b"]


def test_cycle_outside_goals_ignored():
    graph = {"app": ["lib"], "lib": [], "x": ["y"], "y": ["x"]}
    assert build_order(graph, ["app"]) == ["lib", "app"]


def test_diamond_is_not_a_cycle():
    graph = {"top": ["left", "right"], "left": ["base"], "right": ["base"], "base": []}
    assert build_order(graph) == ["base", "left", "right", "top"]


def test_unknown_dependency():
    with pytest.raises(errors.UnknownTarget) as info:
        plan("app: libb\nlib:\n")
    assert info.value.target == "libb"
    assert info.value.needed_by == "app"


def test_unknown_goal():
    with pytest.raises(errors.UnknownTarget) as info:
        build_order({"a": []}, ["zzz"])
    assert info.value.target == "zzz"
    assert info.value.needed_by is None
