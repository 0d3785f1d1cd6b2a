import pytest

from agenda.intervals import Interval, free_slots, merge
from agenda.meetings import common_slots, first_slot


def test_merge_sorted_overlapping():
    assert merge([(1, 3), (2, 5), (7, 8)]) == [Interval(1, 5), Interval(7, 8)]


def test_merge_unsorted_input():
    assert merge([(7, 8), (2, 5), (1, 3)]) == [Interval(1, 5), Interval(7, 8)]


def test_merge_contained_interval_does_not_shrink():
    assert merge([(1, 10), (2, 3)]) == [Interval(1, 10)]
    assert merge([(2, 3), (1, 10), (4, 5)]) == [Interval(1, 10)]


def test_merge_touching_intervals():
    assert merge([(540, 600), (600, 660)]) == [Interval(540, 660)]


def test_merge_ignores_empty_and_rejects_reversed():
    assert merge([(5, 5), (1, 2)]) == [Interval(1, 2)]
    assert merge([]) == []
    with pytest.raises(ValueError):
        merge([(3, 1)])


def test_merge_result_is_union():
    raw = [(i * 7 % 50, i * 7 % 50 + (i % 4) * 3) for i in range(40)]
    covered = {m for s, e in raw for m in range(s, e)}
    merged = merge(raw)
    assert {m for s, e in merged for m in range(s, e)} == covered
    assert all(a.end < b.start for a, b in zip(merged, merged[1:]))


def test_free_slots():
    assert free_slots([(600, 660), (540, 600)], 480, 720) == [Interval(480, 540), Interval(660, 720)]
    assert free_slots([(0, 1440)], 480, 720) == []


def test_common_slots_example_from_issue():
    calendars = {"ann": [("10:00", "12:00")], "bob": [("09:30", "10:30"), ("11:00", "11:30")]}
    assert common_slots(calendars, 30) == ["09:00-09:30", "12:00-17:00"]
    reordered = {"bob": calendars["bob"], "ann": calendars["ann"]}
    assert common_slots(reordered, 30) == ["09:00-09:30", "12:00-17:00"]


def test_first_slot_respects_duration():
    calendars = {"ann": [("09:00", "09:45"), ("10:00", "13:00")], "bob": [("13:30", "17:00")]}
    assert first_slot(calendars, 30) == Interval(780, 810)
    assert first_slot(calendars, 60) is None
