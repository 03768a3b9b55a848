from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from balance_booking.domain.availability import Availability, Vacation, load_zone, local_to_utc
from balance_booking.domain.errors import InvalidInterval, InvalidSchedule
from balance_booking.domain.intervals import Interval
from balance_booking.domain.slots import (
    OccupiedTime,
    TimeSlot,
    available_slots,
    bookable_starts,
    nearest_slots,
    notice_deadline,
)
from tests.unit.domain.builders import iv, minutes, naive, occupied, schedule, service, utc, windows
from tests.unit.domain.oracle import oracle_slots

LONG_AGO = utc(2026, 1, 1)


def slots_for(
    *,
    availability: Availability,
    window: Interval,
    now: datetime = LONG_AGO,
    busy: Sequence[Interval] = (),
    appointments: Sequence[OccupiedTime] = (),
    **service_changes: Any,
) -> list[TimeSlot]:
    """Run the engine, check the oracle agrees, return the engine's answer."""
    arguments: dict[str, Any] = {
        "service": service(**service_changes),
        "availability": availability,
        "busy": busy,
        "appointments": appointments,
        "window": window,
        "now": now,
    }
    result = available_slots(**arguments)
    assert result == oracle_slots(**arguments)
    return result


def starts(slots: Sequence[TimeSlot]) -> list[datetime]:
    return [slot.start for slot in slots]


def around(day: date) -> Interval:
    """A query window comfortably around ``day`` in any zone (the day before to the day after)."""
    return Interval(
        utc(day.year, day.month, day.day) - timedelta(days=1),
        utc(day.year, day.month, day.day) + timedelta(days=2),
    )


BERLIN_SPRING = date(2026, 3, 29)
BERLIN_FALL = date(2026, 10, 25)
NY_SPRING = date(2026, 3, 8)
NY_FALL = date(2026, 11, 1)


# All four change days are Sundays (weekday 6), so the schedules below open only on Sundays and
# a query around the change day sees that day's windows alone.
@pytest.mark.parametrize(
    ("zone", "day", "hours", "changes", "expected"),
    [
        pytest.param(
            "Europe/Berlin",
            BERLIN_SPRING,
            ("00:00", "06:00"),
            {},
            [
                utc(2026, 3, 28, 23),
                utc(2026, 3, 29, 0),
                utc(2026, 3, 29, 1),
                utc(2026, 3, 29, 2),
                utc(2026, 3, 29, 3),
            ],
            id="berlin-spring-window-across-the-gap",
        ),
        pytest.param(
            "Europe/Berlin",
            BERLIN_SPRING,
            ("00:00", "06:00"),
            {"duration": minutes(90), "slot_step": minutes(30)},
            [
                utc(2026, 3, 28, 23),
                utc(2026, 3, 28, 23, 30),
                utc(2026, 3, 29, 0),
                utc(2026, 3, 29, 0, 30),
                utc(2026, 3, 29, 1),
                utc(2026, 3, 29, 1, 30),
                utc(2026, 3, 29, 2),
                utc(2026, 3, 29, 2, 30),
            ],
            id="berlin-spring-absolute-steps",
        ),
        pytest.param(
            "Europe/Berlin",
            BERLIN_SPRING,
            ("13:00", "18:00"),
            {},
            [utc(2026, 3, 29, hour) for hour in range(11, 16)],
            id="berlin-spring-afternoon",
        ),
        pytest.param(
            "Europe/Berlin",
            BERLIN_SPRING,
            ("02:30", "05:00"),
            {},
            [utc(2026, 3, 29, 1), utc(2026, 3, 29, 2)],
            id="berlin-spring-window-starts-in-the-gap",
        ),
        pytest.param(
            "Europe/Berlin",
            BERLIN_SPRING,
            ("00:00", "02:30"),
            {},
            [utc(2026, 3, 28, 23), utc(2026, 3, 29, 0)],
            id="berlin-spring-window-ends-in-the-gap",
        ),
        pytest.param(
            "Europe/Berlin",
            BERLIN_FALL,
            ("00:00", "06:00"),
            {},
            [utc(2026, 10, 24, 22), utc(2026, 10, 24, 23)]
            + [utc(2026, 10, 25, hour) for hour in range(5)],
            id="berlin-fall-window-across-the-repeat",
        ),
        pytest.param(
            "Europe/Berlin",
            BERLIN_FALL,
            ("14:00", "18:00"),
            {},
            [utc(2026, 10, 25, hour) for hour in range(13, 17)],
            id="berlin-fall-afternoon",
        ),
        pytest.param(
            "Europe/Berlin",
            BERLIN_FALL,
            ("02:30", "04:00"),
            {},
            [utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)],
            id="berlin-fall-window-starts-in-the-repeat",
        ),
        pytest.param(
            "America/New_York",
            NY_SPRING,
            ("00:00", "06:00"),
            {},
            [utc(2026, 3, 8, hour) for hour in range(5, 10)],
            id="new-york-spring-window-across-the-gap",
        ),
        pytest.param(
            "America/New_York",
            NY_SPRING,
            ("13:30", "17:00"),
            {},
            [utc(2026, 3, 8, 17, 30), utc(2026, 3, 8, 18, 30), utc(2026, 3, 8, 19, 30)],
            id="new-york-spring-afternoon",
        ),
        pytest.param(
            "America/New_York",
            NY_SPRING,
            ("02:30", "04:00"),
            {},
            [utc(2026, 3, 8, 7)],
            id="new-york-spring-window-starts-in-the-gap",
        ),
        pytest.param(
            "America/New_York",
            NY_FALL,
            ("00:00", "04:00"),
            {},
            [utc(2026, 11, 1, hour) for hour in range(4, 9)],
            id="new-york-fall-window-across-the-repeat",
        ),
        pytest.param(
            "America/New_York",
            NY_FALL,
            ("13:00", "17:00"),
            {},
            [utc(2026, 11, 1, hour) for hour in range(18, 22)],
            id="new-york-fall-afternoon",
        ),
    ],
)
def test_dst_change_days(
    zone: str, day: date, hours: tuple[str, str], changes: dict[str, Any], expected: list[datetime]
) -> None:
    availability = schedule(zone, hours, days=(6,))
    assert starts(slots_for(availability=availability, window=around(day), **changes)) == expected


def test_fall_back_slots_render_with_both_offsets() -> None:
    availability = schedule("Europe/Berlin", ("01:00", "04:00"), days=(6,))
    berlin = ZoneInfo("Europe/Berlin")
    labels = [
        slot.start.astimezone(berlin).isoformat()
        for slot in slots_for(availability=availability, window=around(BERLIN_FALL))
    ]
    assert labels == [
        "2026-10-25T01:00:00+02:00",
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:00:00+01:00",
        "2026-10-25T03:00:00+01:00",
    ]


@pytest.mark.parametrize(
    ("zone", "first_friday_start", "monday_start"),
    [
        pytest.param("Europe/Berlin", utc(2026, 3, 27, 8), utc(2026, 3, 30, 7), id="berlin-spring"),
        pytest.param("Europe/Berlin", utc(2026, 10, 23, 7), utc(2026, 10, 26, 8), id="berlin-fall"),
        pytest.param(
            "America/New_York", utc(2026, 3, 6, 14), utc(2026, 3, 9, 13), id="new-york-spring"
        ),
        pytest.param(
            "America/New_York", utc(2026, 10, 30, 13), utc(2026, 11, 2, 14), id="new-york-fall"
        ),
    ],
)
def test_weekly_hours_keep_their_local_time_across_a_change(
    zone: str, first_friday_start: datetime, monday_start: datetime
) -> None:
    availability = schedule(zone, ("09:00", "18:00"), days=range(5))
    window = Interval(first_friday_start - timedelta(hours=1), monday_start + timedelta(days=1))
    result = starts(slots_for(availability=availability, window=window))
    assert len(result) == 18
    assert result[0] == first_friday_start
    assert result[9] == monday_start
    local = ZoneInfo(zone)
    assert {start.astimezone(local).strftime("%H:%M") for start in result} == {
        f"{hour:02d}:00" for hour in range(9, 18)
    }


@pytest.mark.parametrize(
    ("viewer", "labels"),
    [
        pytest.param(
            "Asia/Kolkata", ["12:30+05:30", "13:30+05:30", "14:30+05:30"], id="kolkata-half-hour"
        ),
        pytest.param(
            "Asia/Kathmandu",
            ["12:45+05:45", "13:45+05:45", "14:45+05:45"],
            id="kathmandu-quarter-hour",
        ),
        pytest.param(
            "America/St_Johns",
            ["04:30-02:30", "05:30-02:30", "06:30-02:30"],
            id="st-johns-half-hour-dst",
        ),
        pytest.param("UTC", ["07:00+00:00", "08:00+00:00", "09:00+00:00"], id="utc"),
    ],
)
def test_viewer_zone_changes_labels_only(viewer: str, labels: list[str]) -> None:
    availability = schedule("Europe/Berlin", ("09:00", "12:00"), days=range(5))
    day = Interval(utc(2026, 6, 1), utc(2026, 6, 2))
    zone = ZoneInfo(viewer)
    same_day_in_viewer_zone = Interval(day.start.astimezone(zone), day.end.astimezone(zone))
    in_utc = slots_for(availability=availability, window=day)
    in_viewer = slots_for(availability=availability, window=same_day_in_viewer_zone)
    assert in_viewer == in_utc
    assert starts(in_utc) == [utc(2026, 6, 1, 7), utc(2026, 6, 1, 8), utc(2026, 6, 1, 9)]
    rendered = [slot.start.astimezone(zone) for slot in in_utc]
    assert [moment.isoformat()[11:16] + moment.isoformat()[19:] for moment in rendered] == labels
    assert [moment.astimezone(UTC) for moment in rendered] == starts(in_utc)


@pytest.mark.parametrize(
    ("owner", "expected"),
    [
        pytest.param(
            "Asia/Kolkata",
            [utc(2026, 6, 1, 3, 30), utc(2026, 6, 1, 4, 30), utc(2026, 6, 1, 5, 30)],
            id="kolkata",
        ),
        pytest.param(
            "Asia/Kathmandu",
            [utc(2026, 6, 1, 3, 15), utc(2026, 6, 1, 4, 15), utc(2026, 6, 1, 5, 15)],
            id="kathmandu",
        ),
    ],
)
def test_owner_in_a_part_hour_zone(owner: str, expected: list[datetime]) -> None:
    availability = schedule(owner, ("09:00", "12:00"), days=(0,))
    assert starts(slots_for(availability=availability, window=around(date(2026, 6, 1)))) == expected


JUNE_1 = date(2026, 6, 1)  # a Monday


def at(hour: int, minute: int = 0, day: int = 1) -> datetime:
    return utc(2026, 6, day, hour, minute)


@dataclass(frozen=True)
class Case:
    """One rule case: UTC hours 09:00-13:00 every day, querying June 1 unless changed."""

    expected: list[datetime]
    service: dict[str, Any] = field(default_factory=dict)
    availability: Availability = field(default_factory=lambda: schedule("UTC", ("09:00", "13:00")))
    busy: tuple[Interval, ...] = ()
    appointments: tuple[OccupiedTime, ...] = ()
    window: Interval = field(default_factory=lambda: Interval(at(0), at(0, day=2)))
    now: datetime = LONG_AGO


BUFFERED = {
    "duration": minutes(50),
    "slot_step": minutes(60),
    "buffer_before": minutes(10),
    "buffer_after": minutes(10),
}
NEW_YORK_MORNINGS = schedule("America/New_York", ("09:00", "12:00"))
NY_JUNE_1_LOCAL = [utc(2026, 6, 1, 13), utc(2026, 6, 1, 14), utc(2026, 6, 1, 15)]
NY_JUNE_2_LOCAL = [utc(2026, 6, 2, 13), utc(2026, 6, 2, 14), utc(2026, 6, 2, 15)]
NY_TWO_DAYS = Interval(at(4), at(4, day=3))

RULE_CASES = [
    pytest.param(Case([at(9), at(10), at(11), at(12)]), id="free-day"),
    pytest.param(
        Case([at(9), at(10), at(12)], service=BUFFERED, busy=(iv(at(11), at(11, 30)),)),
        id="buffers-touch-busy",
    ),
    pytest.param(
        Case([at(9), at(10)], service=BUFFERED, busy=(iv(at(11, 55), at(12)),)),
        id="buffer-before-blocks",
    ),
    pytest.param(
        Case([at(9), at(12)], service=BUFFERED, busy=(iv(at(10, 55), at(10, 58)),)),
        id="buffer-after-blocks",
    ),
    pytest.param(
        Case([at(9), at(10), at(11), at(12)], service=BUFFERED, busy=(iv(at(8), at(8, 50)),)),
        id="buffer-outside-hours-clear",
    ),
    pytest.param(
        Case([at(10), at(11), at(12)], service=BUFFERED, busy=(iv(at(8), at(8, 51)),)),
        id="buffer-outside-hours-blocked",
    ),
    pytest.param(
        Case([at(9), at(10), at(11), at(12)], service=BUFFERED, busy=(iv(at(13), at(14)),)),
        id="buffer-after-hours-clear",
    ),
    pytest.param(
        Case([at(9), at(10), at(11)], service=BUFFERED, busy=(iv(at(12, 59), at(14)),)),
        id="buffer-after-hours-blocked",
    ),
    pytest.param(
        Case([at(9), at(11), at(12)], appointments=(occupied(at(10), at(11)),)),
        id="back-to-back-appointment",
    ),
    pytest.param(Case([at(9), at(11), at(12)], busy=(iv(at(10), at(11)),)), id="back-to-back-busy"),
    pytest.param(
        Case([at(9), at(11), at(12)], appointments=(occupied(at(10), at(11), slug="other"),)),
        id="other-service-blocks-too",
    ),
    pytest.param(
        Case([at(9), at(12)], appointments=(occupied(at(10), at(11), after=30),)),
        id="appointment-buffer-after",
    ),
    pytest.param(
        Case([at(9), at(12)], appointments=(occupied(at(11), at(12), before=15),)),
        id="appointment-buffer-before",
    ),
    pytest.param(
        Case([at(9), at(10), at(11), at(12)], appointments=(occupied(at(13), at(14), before=0),)),
        id="appointment-after-hours",
    ),
    pytest.param(
        Case(
            [at(9, 30), at(10)],
            service={"slot_step": minutes(30)},
            availability=schedule("UTC", ("09:00", "11:00")),
            busy=(iv(at(9, 10), at(9, 20)),),
        ),
        id="jump-lands-on-grid",
    ),
    pytest.param(
        Case(
            [at(9), at(9, 30), at(10)],
            service={"slot_step": minutes(30)},
            availability=schedule("UTC", ("09:00", "11:00")),
        ),
        id="step-shorter-than-duration",
    ),
    pytest.param(
        Case(
            [at(9), at(9, 30), at(10), at(10, 30)],
            service={"duration": minutes(30)},
            availability=schedule("UTC", ("09:00", "11:00")),
        ),
        id="default-step-is-duration",
    ),
    pytest.param(
        Case(
            [at(9), at(10)],
            service={"duration": minutes(30), "slot_step": minutes(60)},
            availability=schedule("UTC", ("09:00", "11:00")),
        ),
        id="step-longer-than-duration",
    ),
    pytest.param(
        Case([at(11), at(12)], service={"min_notice": timedelta(hours=2)}, now=at(8, 30)),
        id="min-notice",
    ),
    pytest.param(
        Case(
            [at(9), at(10), at(11), at(12)], service={"min_notice": timedelta(hours=1)}, now=at(8)
        ),
        id="min-notice-boundary-inclusive",
    ),
    pytest.param(
        Case([at(10), at(11), at(12)], now=at(9) + timedelta(seconds=1)),
        id="now-just-after-a-start",
    ),
    pytest.param(
        Case(
            [at(9), at(9, day=2)],
            service={"max_days_ahead": 2},
            availability=schedule("UTC", ("09:00", "10:00")),
            window=Interval(at(0), at(0, day=10)),
            now=at(0),
        ),
        id="max-days-ahead",
    ),
    pytest.param(
        Case(
            [at(9), at(9, day=2)],
            service={"max_days_ahead": 2},
            availability=schedule("UTC", ("09:00", "10:00")),
            window=Interval(at(0), at(0, day=10)),
            now=at(9),
        ),
        id="max-days-ahead-boundary-exclusive",
    ),
    pytest.param(
        Case([at(10), at(11), at(12)], window=Interval(at(9, 30), at(0, day=2))),
        id="window-start-keeps-grid",
    ),
    pytest.param(
        Case([at(9), at(10)], window=Interval(at(0), at(10, 30))),
        id="slot-starting-in-window-may-end-after-it",
    ),
    pytest.param(Case([], window=Interval(at(13), at(0, day=2))), id="window-after-hours"),
    pytest.param(Case([], now=at(0, day=3)), id="now-after-window"),
    pytest.param(
        Case(
            [at(23), at(0, day=2)],
            availability=schedule("UTC", ("00:00", "02:00"), ("22:00", "24:00")),
            window=Interval(at(23), at(1, day=2)),
        ),
        id="window-across-midnight",
    ),
    pytest.param(
        Case(
            [at(0, 15), at(1), at(1, 45)],
            service={"slot_step": minutes(45)},
            availability=schedule("Pacific/Kiritimati", ("09:00", "18:00")),
            window=Interval(at(0), at(2)),
        ),
        id="window-anchored-on-previous-utc-day",
    ),
    pytest.param(
        Case(
            NY_JUNE_2_LOCAL,
            service={"daily_limit": 1},
            availability=NEW_YORK_MORNINGS,
            window=NY_TWO_DAYS,
            appointments=(occupied(utc(2026, 6, 2, 1), utc(2026, 6, 2, 2)),),
        ),
        id="daily-limit-counts-owner-local-date",
    ),
    pytest.param(
        Case(
            NY_JUNE_1_LOCAL + NY_JUNE_2_LOCAL,
            service={"daily_limit": 1},
            availability=NEW_YORK_MORNINGS,
            window=NY_TWO_DAYS,
            appointments=(occupied(utc(2026, 6, 1, 17), utc(2026, 6, 1, 18), slug="other"),),
        ),
        id="daily-limit-ignores-other-services",
    ),
    pytest.param(
        Case(
            NY_JUNE_1_LOCAL + NY_JUNE_2_LOCAL,
            service={"daily_limit": 2},
            availability=NEW_YORK_MORNINGS,
            window=NY_TWO_DAYS,
            appointments=(occupied(utc(2026, 6, 1, 17), utc(2026, 6, 1, 18)),),
        ),
        id="daily-limit-not-reached",
    ),
    pytest.param(
        Case(
            NY_JUNE_2_LOCAL,
            service={"daily_limit": 2},
            availability=NEW_YORK_MORNINGS,
            window=NY_TWO_DAYS,
            appointments=(
                occupied(utc(2026, 6, 1, 15), utc(2026, 6, 1, 16)),
                occupied(utc(2026, 6, 2, 2), utc(2026, 6, 2, 3)),
            ),
        ),
        id="daily-limit-reached-by-two",
    ),
    pytest.param(
        Case(
            NY_JUNE_1_LOCAL + NY_JUNE_2_LOCAL,
            availability=NEW_YORK_MORNINGS,
            window=NY_TWO_DAYS,
            appointments=(occupied(utc(2026, 6, 1, 17), utc(2026, 6, 1, 18)),),
        ),
        id="no-daily-limit",
    ),
    pytest.param(
        Case(
            [at(9), at(10), at(11), at(12), at(15, day=2)],
            availability=schedule(
                "UTC", ("09:00", "13:00"), overrides={date(2026, 6, 2): windows(("15:00", "16:00"))}
            ),
            window=Interval(at(0), at(0, day=3)),
        ),
        id="override-replaces-hours",
    ),
    pytest.param(
        Case(
            [at(9), at(10), at(11), at(12)],
            availability=schedule("UTC", ("09:00", "13:00"), overrides={date(2026, 6, 2): ()}),
            window=Interval(at(0), at(0, day=3)),
        ),
        id="override-day-off",
    ),
    pytest.param(
        Case(
            [at(10, day=6)],
            availability=schedule(
                "UTC",
                ("09:00", "13:00"),
                days=range(5),
                overrides={date(2026, 6, 6): windows(("10:00", "11:00"))},
            ),
            window=Interval(at(0, day=6), at(0, day=8)),
        ),
        id="override-opens-a-saturday",
    ),
    pytest.param(
        Case(
            [at(9), at(10), at(11), at(12), at(13)],
            availability=schedule("UTC", ("09:00", "12:00"), ("12:00", "15:00")),
            service={"duration": minutes(90), "slot_step": minutes(60)},
        ),
        id="touching-windows-form-one-grid",
    ),
]


@pytest.mark.parametrize("case", RULE_CASES)
def test_slot_rules(case: Case) -> None:
    result = slots_for(
        availability=case.availability,
        window=case.window,
        now=case.now,
        busy=case.busy,
        appointments=case.appointments,
        **case.service,
    )
    assert starts(result) == case.expected
    duration = service(**case.service).duration
    assert all(slot.end - slot.start == duration for slot in result)


def test_busy_input_order_does_not_matter() -> None:
    availability = schedule("UTC", ("09:00", "17:00"))
    busy = [iv(at(15), at(16)), iv(at(9, 30), at(10)), iv(at(12), at(12, 30)), iv(at(9), at(9, 45))]
    window = Interval(at(0), at(0, day=2))
    assert slots_for(availability=availability, window=window, busy=busy) == slots_for(
        availability=availability, window=window, busy=list(reversed(busy))
    )


def test_naive_now_is_refused() -> None:
    with pytest.raises(InvalidInterval):
        available_slots(
            service=service(),
            availability=schedule("UTC", ("09:00", "10:00")),
            busy=(),
            appointments=(),
            window=Interval(at(0), at(0, day=2)),
            now=naive(2026, 6, 1),
        )


@pytest.mark.parametrize(
    ("start", "end", "before"),
    [
        pytest.param(naive(2026, 6, 1, 9), at(10), 0, id="naive"),
        pytest.param(at(10), at(10), 0, id="empty"),
        pytest.param(at(9), at(10), -5, id="negative-buffer"),
    ],
)
def test_occupied_time_validation(start: datetime, end: datetime, before: int) -> None:
    with pytest.raises(InvalidInterval):
        OccupiedTime(start, end, minutes(before), minutes(0), "session")


def test_occupied_time_blocked() -> None:
    assert occupied(at(10), at(11), before=5, after=20).blocked == Interval(at(9, 55), at(11, 20))


DAY_SLOTS = [TimeSlot(at(hour), at(hour + 1)) for hour in range(9, 14)]


@pytest.mark.parametrize(
    ("slots", "target", "limit", "expected"),
    [
        pytest.param(DAY_SLOTS, at(11), 3, [10, 11, 12], id="centred"),
        pytest.param(DAY_SLOTS, at(11, 30), 2, [11, 12], id="between"),
        pytest.param(DAY_SLOTS, at(11, 30), 1, [11], id="tie-takes-earlier"),
        pytest.param(DAY_SLOTS, at(11, 30), 3, [10, 11, 12], id="tie-at-the-edge-takes-earlier"),
        pytest.param(DAY_SLOTS, at(7), 2, [9, 10], id="before-all"),
        pytest.param(DAY_SLOTS, at(20), 2, [12, 13], id="after-all"),
        pytest.param(DAY_SLOTS, at(11), 10, [9, 10, 11, 12, 13], id="limit-above-count"),
        pytest.param(DAY_SLOTS, at(11), 0, [], id="limit-zero"),
        pytest.param([], at(11), 5, [], id="no-slots"),
        pytest.param(list(reversed(DAY_SLOTS)), at(12, 10), 2, [12, 13], id="unsorted-input"),
    ],
)
def test_nearest_slots(
    slots: list[TimeSlot], target: datetime, limit: int, expected: list[int]
) -> None:
    assert nearest_slots(slots, target, limit) == [
        TimeSlot(at(hour), at(hour + 1)) for hour in expected
    ]


def test_nearest_slots_default_limit_and_aware_target() -> None:
    many = [TimeSlot(at(hour), at(hour + 1)) for hour in range(24 - 1)]
    assert len(nearest_slots(many, at(12))) == 5
    kolkata = ZoneInfo("Asia/Kolkata")
    assert nearest_slots(DAY_SLOTS, at(11).astimezone(kolkata), 1) == [TimeSlot(at(11), at(12))]
    with pytest.raises(InvalidInterval):
        nearest_slots(DAY_SLOTS, naive(2026, 6, 1, 11), 1)


def test_engine_output_is_utc() -> None:
    availability = schedule("Asia/Kathmandu", ("09:00", "10:00"))
    result = slots_for(availability=availability, window=around(JUNE_1))
    assert result
    assert all(slot.start.utcoffset() == timedelta(0) for slot in result)
    assert local_to_utc(JUNE_1, 9 * 60, load_zone("Asia/Kathmandu")) in starts(result)


def test_bookable_starts_hold_the_notice_and_the_horizon() -> None:
    now = utc(2026, 12, 1, 8)
    bookable = bookable_starts(service(min_notice=minutes(90), max_days_ahead=2), now)
    assert (bookable.earliest, bookable.horizon) == (utc(2026, 12, 1, 9, 30), utc(2026, 12, 3, 8))
    assert not bookable.admits(utc(2026, 12, 1, 9, 29))
    assert bookable.admits(utc(2026, 12, 1, 9, 30))
    assert bookable.admits(utc(2026, 12, 3, 7, 59))
    assert not bookable.admits(utc(2026, 12, 3, 8))


def test_a_slot_leaves_the_answer_right_after_its_notice_deadline() -> None:
    session = service(min_notice=minutes(60))
    start = utc(2026, 12, 1, 10)
    deadline = notice_deadline(session, start)
    assert deadline == utc(2026, 12, 1, 9)
    assert bookable_starts(session, deadline).admits(start)
    assert not bookable_starts(session, deadline + timedelta.resolution).admits(start)
    # The engine agrees with the rule it is built on.
    availability = schedule("UTC", ("10:00", "12:00"))
    window = iv(utc(2026, 12, 1, 10), utc(2026, 12, 1, 12))
    offered = available_slots(
        service=session,
        availability=availability,
        busy=[],
        appointments=[],
        window=window,
        now=deadline,
    )
    assert [slot.start for slot in offered] == [start, utc(2026, 12, 1, 11)]
    later = available_slots(
        service=session,
        availability=availability,
        busy=[],
        appointments=[],
        window=window,
        now=deadline + timedelta.resolution,
    )
    assert [slot.start for slot in later] == [utc(2026, 12, 1, 11)]


# ---- vacations --------------------------------------------------------------------------------


def test_every_day_of_a_vacation_is_a_day_off_and_the_days_around_stay_open() -> None:
    # Moscow, every day 10:00-12:00; a vacation from Saturday 2 to Sunday 10 January 2027.
    availability = schedule(
        "Europe/Moscow",
        ("10:00", "12:00"),
        vacations=(Vacation(date(2027, 1, 2), date(2027, 1, 10)),),
    )
    result = slots_for(
        availability=availability,
        window=Interval(utc(2026, 12, 31, 21), utc(2027, 1, 11, 21)),  # 1..11 January, Moscow
        now=utc(2026, 12, 1),
    )
    moscow = load_zone("Europe/Moscow")
    days = sorted({slot.start.astimezone(moscow).date() for slot in result})
    assert days == [date(2027, 1, 1), date(2027, 1, 11)]


def test_a_vacation_wins_over_special_days_and_overlapping_vacations_add_up() -> None:
    availability = schedule(
        "UTC",
        ("09:00", "11:00"),
        overrides={date(2026, 6, 3): windows(("14:00", "15:00")), date(2026, 6, 5): ()},
        vacations=(
            Vacation(date(2026, 6, 2), date(2026, 6, 3)),
            Vacation(date(2026, 6, 3), date(2026, 6, 4)),
        ),
    )
    result = starts(
        slots_for(availability=availability, window=Interval(utc(2026, 6, 1), utc(2026, 6, 7)))
    )
    assert [start.date() for start in result] == [date(2026, 6, 1)] * 2 + [date(2026, 6, 6)] * 2
    assert availability.day_off(date(2026, 6, 3))
    assert availability.day_off(date(2026, 6, 5))  # a special day without hours
    assert not availability.day_off(date(2026, 6, 1))
    assert availability.vacation_on(date(2026, 6, 4)) == Vacation(
        date(2026, 6, 3), date(2026, 6, 4)
    )
    assert availability.vacation_on(date(2026, 6, 5)) is None


@pytest.mark.parametrize(
    ("first", "last"),
    [
        pytest.param(date(2027, 1, 10), date(2027, 1, 2), id="reversed"),
        pytest.param(date(2027, 1, 1), date(2028, 1, 2), id="longer-than-366-days"),
        pytest.param(datetime(2027, 1, 1, tzinfo=UTC), date(2027, 1, 2), id="datetime"),
        pytest.param("2027-01-01", date(2027, 1, 2), id="string"),
    ],
)
def test_bad_vacations_are_refused(first: object, last: object) -> None:
    with pytest.raises(InvalidSchedule):
        Vacation(first, last)  # type: ignore[arg-type]


def test_a_vacation_of_exactly_366_days_and_of_one_day_are_accepted() -> None:
    assert len(list(Vacation(date(2027, 1, 1), date(2028, 1, 1)).days())) == 366
    assert list(Vacation(date(2027, 1, 1), date(2027, 1, 1)).days()) == [date(2027, 1, 1)]


def test_vacations_are_kept_sorted_without_duplicates_and_compared() -> None:
    one = Vacation(date(2027, 5, 1), date(2027, 5, 3))
    two = Vacation(date(2027, 1, 1), date(2027, 1, 3))
    availability = schedule("UTC", ("09:00", "11:00"), vacations=(one, two, one))
    assert availability.vacations == (two, one)
    assert availability == schedule("UTC", ("09:00", "11:00"), vacations=(two, one))
    assert availability != schedule("UTC", ("09:00", "11:00"), vacations=(two,))
