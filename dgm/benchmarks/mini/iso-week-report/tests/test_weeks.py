from datetime import date

import pytest

from timesheet.report import Entry, hours_by_week, report
from timesheet.weeks import week_key, week_range, weeks_between


def test_week_key_uses_iso_year_and_week():
    assert week_key(date(2021, 1, 1)) == "2020-W53"
    assert week_key(date(2024, 12, 30)) == "2025-W01"
    assert week_key(date(2026, 1, 7)) == "2026-W02"
    assert week_key(date(2023, 1, 2)) == "2023-W01"


def test_week_key_zero_padded():
    assert week_key(date(2023, 2, 1)) == "2023-W05"


def test_week_range():
    assert week_range("2020-W53") == (date(2020, 12, 28), date(2021, 1, 3))
    assert week_range("2025-W01") == (date(2024, 12, 30), date(2025, 1, 5))
    assert week_range("2023-W05") == (date(2023, 1, 30), date(2023, 2, 5))


def test_round_trip_over_years():
    day = date(2019, 12, 1)
    while day < date(2027, 2, 1):
        monday, sunday = week_range(week_key(day))
        assert monday <= day <= sunday, day
        assert monday.weekday() == 0
        day = date.fromordinal(day.toordinal() + 3)


def test_invalid_labels():
    for bad in ("2021-W54", "2021-05", "W05-2021"):
        with pytest.raises(ValueError):
            week_range(bad)


def test_weeks_between_new_year():
    assert weeks_between(date(2020, 12, 24), date(2021, 1, 12)) == [
        "2020-W52", "2020-W53", "2021-W01", "2021-W02",
    ]


def test_report_around_new_year():
    entries = [
        Entry(date(2020, 12, 31), 8.0, "a"),
        Entry(date(2021, 1, 1), 4.5, "a"),
        Entry(date(2021, 1, 4), 7.0, "b"),
    ]
    assert hours_by_week(entries) == {"2020-W53": 12.5, "2021-W01": 7.0}
    assert report(entries, date(2020, 12, 28), date(2021, 1, 10)).splitlines() == [
        "2020-W53 (2020-12-28 to 2021-01-03): 12.5 h",
        "2021-W01 (2021-01-04 to 2021-01-10): 7.0 h",
    ]
