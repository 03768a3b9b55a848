from __future__ import annotations

from datetime import date, datetime

import pytest

from balance_booking.domain.availability import Availability, LocalWindow, load_zone, local_to_utc
from balance_booking.domain.errors import InvalidSchedule, UnknownTimeZone
from balance_booking.domain.intervals import Interval
from tests.unit.domain.builders import naive, schedule, utc, windows
from tests.unit.domain.oracle import oracle_local_to_utc


@pytest.mark.parametrize(
    "name",
    ["Europe/Berlin", "UTC", "Asia/Kathmandu", "America/Argentina/Buenos_Aires", "Etc/GMT-14"],
)
def test_load_zone_accepts_iana_names(name: str) -> None:
    assert load_zone(name).key == name


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("", id="empty"),
        pytest.param("../x", id="parent-path"),
        pytest.param("/Europe/Berlin", id="absolute-path"),
        pytest.param("Europe/", id="trailing-slash"),
        pytest.param("America", id="directory"),
        pytest.param("UTC+3", id="offset-garbage"),
        pytest.param("europe/berlin", id="wrong-case"),
        pytest.param("Mars/Olympus_Mons", id="no-such-place"),
        pytest.param("Europe/Berlin\x00", id="nul-byte"),
        pytest.param("localtime", id="server-local"),
        pytest.param("Factory", id="factory"),
        pytest.param("A" * 300, id="very-long"),
    ],
)
def test_load_zone_rejects_everything_else(name: str) -> None:
    with pytest.raises(UnknownTimeZone):
        load_zone(name)


@pytest.mark.parametrize(
    ("start", "end", "minutes"),
    [
        pytest.param("09:00", "18:00", (540, 1080), id="office"),
        pytest.param("00:00", "24:00", (0, 1440), id="whole-day"),
        pytest.param("23:59", "24:00", (1439, 1440), id="last-minute"),
        pytest.param("00:00", "00:01", (0, 1), id="first-minute"),
    ],
)
def test_local_window_parse_and_format(start: str, end: str, minutes: tuple[int, int]) -> None:
    window = LocalWindow.parse(start, end)
    assert (window.start_minute, window.end_minute) == minutes
    assert window.format() == (start, end)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param("9:00", "18:00", id="one-digit-hour"),
        pytest.param("09:00:00", "18:00", id="seconds"),
        pytest.param("24:00", "24:00", id="start-at-24"),
        pytest.param("10:00", "10:00", id="empty"),
        pytest.param("12:00", "11:00", id="reversed"),
        pytest.param("12:60", "13:00", id="minute-60"),
        pytest.param("25:00", "26:00", id="hour-25"),
        pytest.param("10:00", "24:01", id="past-24"),
        pytest.param("", "10:00", id="blank"),
        pytest.param("ab:cd", "10:00", id="letters"),
        pytest.param("\u0661\u0660:\u0660\u0660", "11:00", id="arabic-indic-digits"),
        pytest.param(" 10:00", "11:00", id="leading-space"),
        pytest.param("10:00\n", "11:00", id="trailing-newline"),
    ],
)
def test_local_window_parse_errors(start: str, end: str) -> None:
    with pytest.raises(InvalidSchedule):
        LocalWindow.parse(start, end)


@pytest.mark.parametrize(
    ("start", "end"),
    [(-1, 10), (0, 1441), (10, 10), (True, 10), (0.0, 10)],
    ids=["negative", "past-midnight", "empty", "bool", "float"],
)
def test_local_window_checks_minutes(start: object, end: object) -> None:
    with pytest.raises(InvalidSchedule):
        LocalWindow(start, end)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("weekly", "overrides"),
    [
        pytest.param({0: windows(("09:00", "12:00"), ("11:00", "14:00"))}, {}, id="overlap"),
        pytest.param({0: windows(("13:00", "14:00"), ("09:00", "10:00"))}, {}, id="unsorted"),
        pytest.param({0: windows(("09:00", "18:00"), ("09:00", "18:00"))}, {}, id="duplicate"),
        pytest.param({7: windows(("09:00", "10:00"))}, {}, id="weekday-7"),
        pytest.param({-1: windows(("09:00", "10:00"))}, {}, id="weekday-negative"),
        pytest.param({"mon": windows(("09:00", "10:00"))}, {}, id="weekday-name"),
        pytest.param({0: (("09:00", "10:00"),)}, {}, id="not-a-window"),
        pytest.param({0: LocalWindow.parse("09:00", "10:00")}, {}, id="bare-window"),
        pytest.param(
            {},
            {date(2026, 5, 1): windows(("10:00", "12:00"), ("11:00", "13:00"))},
            id="override-overlap",
        ),
        pytest.param({}, {naive(2026, 5, 1): ()}, id="override-datetime-key"),
        pytest.param({}, {"2026-05-01": ()}, id="override-string-key"),
    ],
)
def test_availability_rejects_bad_schedules(weekly: object, overrides: object) -> None:
    with pytest.raises(InvalidSchedule):
        Availability("Europe/Berlin", weekly, overrides)  # type: ignore[arg-type]


def test_availability_rejects_unknown_zone() -> None:
    with pytest.raises(UnknownTimeZone):
        Availability("Mars/Base", {})


def test_touching_windows_are_joined() -> None:
    availability = schedule(
        "Europe/Berlin", ("09:00", "12:00"), ("12:00", "15:00"), ("16:00", "18:00")
    )
    assert availability.windows_for(date(2026, 5, 4)) == windows(
        ("09:00", "15:00"), ("16:00", "18:00")
    )


def test_availability_keeps_its_own_copy() -> None:
    weekly = {0: windows(("09:00", "10:00"))}
    availability = Availability("Europe/Berlin", weekly)
    weekly[0] = windows(("09:00", "10:00"), ("09:30", "11:00"))
    weekly[1] = windows(("09:00", "10:00"))
    assert availability.windows_for(date(2026, 5, 4)) == windows(("09:00", "10:00"))
    assert availability.windows_for(date(2026, 5, 5)) == ()


def test_windows_for_prefers_overrides() -> None:
    availability = schedule(
        "Europe/Berlin",
        ("09:00", "18:00"),
        days=range(5),
        overrides={date(2026, 5, 1): (), date(2026, 5, 2): windows(("10:00", "12:00"))},
    )
    assert availability.windows_for(date(2026, 4, 30)) == windows(("09:00", "18:00"))
    assert availability.windows_for(date(2026, 5, 1)) == ()  # Friday, day off
    assert availability.windows_for(date(2026, 5, 2)) == windows(("10:00", "12:00"))  # Saturday
    assert availability.windows_for(date(2026, 5, 3)) == ()  # Sunday: no weekly hours


# Expected instants worked out by hand from the zones' rules; the oracle's independent search
# must agree, so a wrong oracle cannot quietly bless a wrong engine.
@pytest.mark.parametrize(
    ("zone", "day", "wall", "expected"),
    [
        pytest.param(
            "Europe/Berlin",
            date(2026, 3, 29),
            "00:00",
            utc(2026, 3, 28, 23),
            id="berlin-spring-midnight",
        ),
        pytest.param(
            "Europe/Berlin",
            date(2026, 3, 29),
            "01:59",
            utc(2026, 3, 29, 0, 59),
            id="berlin-before-gap",
        ),
        pytest.param(
            "Europe/Berlin", date(2026, 3, 29), "02:00", utc(2026, 3, 29, 1), id="berlin-gap-start"
        ),
        pytest.param(
            "Europe/Berlin", date(2026, 3, 29), "02:30", utc(2026, 3, 29, 1), id="berlin-in-gap"
        ),
        pytest.param(
            "Europe/Berlin", date(2026, 3, 29), "03:00", utc(2026, 3, 29, 1), id="berlin-after-gap"
        ),
        pytest.param(
            "Europe/Berlin",
            date(2026, 3, 29),
            "13:00",
            utc(2026, 3, 29, 11),
            id="berlin-spring-afternoon",
        ),
        pytest.param(
            "Europe/Berlin",
            date(2026, 10, 25),
            "01:59",
            utc(2026, 10, 24, 23, 59),
            id="berlin-before-fold",
        ),
        pytest.param(
            "Europe/Berlin",
            date(2026, 10, 25),
            "02:30",
            utc(2026, 10, 25, 0, 30),
            id="berlin-fold-first",
        ),
        pytest.param(
            "Europe/Berlin",
            date(2026, 10, 25),
            "03:00",
            utc(2026, 10, 25, 2),
            id="berlin-after-fold",
        ),
        pytest.param(
            "Europe/Berlin",
            date(2026, 10, 25),
            "14:00",
            utc(2026, 10, 25, 13),
            id="berlin-fall-afternoon",
        ),
        pytest.param(
            "Europe/Berlin",
            date(2026, 3, 28),
            "24:00",
            utc(2026, 3, 28, 23),
            id="berlin-end-of-day",
        ),
        pytest.param(
            "America/New_York", date(2026, 3, 8), "02:30", utc(2026, 3, 8, 7), id="ny-in-gap"
        ),
        pytest.param(
            "America/New_York",
            date(2026, 3, 8),
            "13:00",
            utc(2026, 3, 8, 17),
            id="ny-spring-afternoon",
        ),
        pytest.param(
            "America/New_York",
            date(2026, 11, 1),
            "01:30",
            utc(2026, 11, 1, 5, 30),
            id="ny-fold-first",
        ),
        pytest.param(
            "America/New_York",
            date(2026, 11, 1),
            "13:00",
            utc(2026, 11, 1, 18),
            id="ny-fall-afternoon",
        ),
        pytest.param(
            "Asia/Kolkata", date(2026, 6, 1), "09:00", utc(2026, 6, 1, 3, 30), id="kolkata"
        ),
        pytest.param(
            "Asia/Kathmandu",
            date(2026, 1, 1),
            "00:00",
            utc(2025, 12, 31, 18, 15),
            id="kathmandu-midnight",
        ),
        pytest.param(
            "Australia/Lord_Howe",
            date(2026, 10, 4),
            "02:15",
            utc(2026, 10, 3, 15, 30),
            id="lord-howe-half-hour-gap",
        ),
        pytest.param(
            "Australia/Lord_Howe",
            date(2026, 4, 5),
            "01:45",
            utc(2026, 4, 4, 14, 45),
            id="lord-howe-half-hour-fold",
        ),
    ],
)
def test_local_to_utc(zone: str, day: date, wall: str, expected: datetime) -> None:
    hours, minutes = wall.split(":")
    minute = int(hours) * 60 + int(minutes)
    result = local_to_utc(day, minute, load_zone(zone))
    assert result == expected
    assert result.utcoffset() is not None
    assert result.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert oracle_local_to_utc(day, minute, load_zone(zone)) == expected


@pytest.mark.parametrize("minute", [-1, 1441])
def test_local_to_utc_rejects_minutes_outside_the_day(minute: int) -> None:
    with pytest.raises(InvalidSchedule):
        local_to_utc(date(2026, 1, 1), minute, load_zone("UTC"))


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        pytest.param(
            date(2026, 3, 27),
            date(2026, 3, 30),
            [
                Interval(utc(2026, 3, 27, 8), utc(2026, 3, 27, 17)),  # Friday, CET
                Interval(utc(2026, 3, 30, 7), utc(2026, 3, 30, 16)),  # Monday, CEST
            ],
            id="weekend-with-spring-forward",
        ),
        pytest.param(
            date(2026, 10, 23),
            date(2026, 10, 26),
            [
                Interval(utc(2026, 10, 23, 7), utc(2026, 10, 23, 16)),
                Interval(utc(2026, 10, 26, 8), utc(2026, 10, 26, 17)),
            ],
            id="weekend-with-fall-back",
        ),
        pytest.param(date(2026, 3, 30), date(2026, 3, 27), [], id="reversed-range"),
    ],
)
def test_working_intervals(first: date, last: date, expected: list[Interval]) -> None:
    availability = schedule("Europe/Berlin", ("09:00", "18:00"), days=range(5))
    assert availability.working_intervals(first, last) == expected


def test_working_intervals_drop_windows_inside_a_gap() -> None:
    availability = schedule("Europe/Berlin", ("02:10", "02:50"), ("10:00", "11:00"))
    assert availability.working_intervals(date(2026, 3, 29), date(2026, 3, 29)) == [
        Interval(utc(2026, 3, 29, 8), utc(2026, 3, 29, 9))
    ]
